/**
 * @file store.c  The public store API: argument checks, then a call
 * through the back-end's operation table.
 */
#include "store.h"
#include "store_impl.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

struct store {
	const struct store_ops *ops;
	void *be;          /**< the back-end's state, from ops->open() */
	unsigned batch;    /**< store_batch_begin() depth */
	bool tx_open;      /**< the batch's transaction is open */
	unsigned deferred; /**< records store_cdr_defer() left uncommitted */
	bool unsaved;      /**< other writes wait in the open transaction */
	store_commit_f *on_commit;   /**< told after each commit */
	void *on_commit_arg;
};

/** The back-end used by store_open(); the only one today. */
static const struct store_ops *const store_default = &store_sqlite_ops;

/** True when @p s is a non-empty string shorter than @p size. */
static bool str_fits(const char *s, size_t size)
{
	size_t len = s ? strnlen(s, size) : 0;

	return len > 0 && len < size;
}

/** True when @p s is exactly @p len lower-case hex digits. */
static bool is_lhex(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[i] == '\0';
}

static bool user_valid(const struct store_user *u)
{
	return str_fits(u->tenant, sizeof u->tenant) &&
	       str_fits(u->username, sizeof u->username) &&
	       is_lhex(u->ha1_md5, sizeof u->ha1_md5 - 1) &&
	       is_lhex(u->ha1_sha256, sizeof u->ha1_sha256 - 1);
}

int store_open(struct store **stp, const char *path)
{
	const struct store_ops *ops = store_default;
	struct store *st;
	int err;

	if (!stp || !path || !*path)
		return EINVAL;
	if (ops->version != STORE_OPS_VERSION) {
		log_err("store", 0, "back-end %s has operation table version %d, "
			"expected %d", ops->name, ops->version, STORE_OPS_VERSION);
		return EPROTO;
	}
	st = calloc(1, sizeof *st);
	if (!st)
		return ENOMEM;
	st->ops = ops;
	err = ops->open(&st->be, path);
	if (err) {
		free(st);
		return err;
	}
	*stp = st;
	return 0;
}

void store_close(struct store *st)
{
	if (!st)
		return;
	store_batch_flush(st);   /* closing would roll it back */
	st->ops->close(st->be);
	free(st);
}

int store_schema_version(struct store *st)
{
	return st ? st->ops->schema_version(st->be) : 0;
}

void store_batch_begin(struct store *st)
{
	if (st)
		st->batch++;
}

int store_batch_flush(struct store *st)
{
	unsigned deferred;
	int err;

	if (!st || !st->tx_open)
		return 0;
	st->tx_open = false;
	st->unsaved = false;
	deferred = st->deferred;
	st->deferred = 0;
	err = st->ops->commit(st->be);
	if (err && deferred)
		log_err("store", 0, "%u call records lost: their commit failed",
			deferred);
	if (st->on_commit)
		st->on_commit(st->on_commit_arg, err);
	return err;
}

bool store_unsaved(const struct store *st)
{
	return st && st->unsaved;
}

void store_on_commit(struct store *st, store_commit_f *fn, void *arg)
{
	if (!st)
		return;
	st->on_commit = fn;
	st->on_commit_arg = arg;
}

int store_batch_commit(struct store *st)
{
	if (!st || !st->batch)
		return 0;
	if (--st->batch)
		return 0;
	/* deferred call records alone keep waiting for their own flush */
	return st->unsaved ? store_batch_flush(st) : 0;
}

/* Before a write: opens the batch's transaction, if one is wanted. */
static void batch_write(struct store *st)
{
	if (st->batch && !st->tx_open && !st->ops->begin(st->be))
		st->tx_open = true;
}

/*
 * After a write: outside a batch, a write is committed when it returns,
 * so one that joined the deferred records' transaction commits it now
 * (with them) instead of waiting for store_batch_flush().
 */
static int write_done(struct store *st, int err)
{
	int e;

	if (st->batch) {
		if (st->tx_open)
			st->unsaved = true;
		return err;
	}
	if (!st->tx_open)
		return err;
	e = store_batch_flush(st);
	return err ? err : e;
}

int store_user_put(struct store *st, const struct store_user *u)
{
	if (!st || !u || !user_valid(u))
		return EINVAL;
	return write_done(st, st->ops->user_put(st->be, u));
}

int store_user_get(struct store *st, const char *tenant, const char *username,
		   struct store_user *u)
{
	if (!st || !tenant || !username || !u)
		return EINVAL;
	/* Names that cannot be stored cannot be found. */
	if (!str_fits(tenant, sizeof u->tenant) ||
	    !str_fits(username, sizeof u->username))
		return ENOENT;
	return st->ops->user_get(st->be, tenant, username, u);
}

int store_user_del(struct store *st, const char *tenant, const char *username)
{
	if (!st || !tenant || !username)
		return EINVAL;
	if (!str_fits(tenant, sizeof ((struct store_user *)0)->tenant) ||
	    !str_fits(username, sizeof ((struct store_user *)0)->username))
		return ENOENT;
	return write_done(st, st->ops->user_del(st->be, tenant, username));
}

/* ---- allocations and devices ----------------------------------------- */

#define FITS(s, type, field) str_fits((s), sizeof ((type *)0)->field)

static bool str_fits_or_empty(const char *s, size_t size)
{
	return s && strnlen(s, size) < size;
}

#define FITS0(s, type, field) str_fits_or_empty((s), sizeof ((type *)0)->field)

static bool alloc_valid(const struct store_alloc *a)
{
	return a && FITS(a->tenant, struct store_alloc, tenant) && a->tenant[0] &&
	       FITS(a->idset, struct store_alloc, idset) && a->idset[0] &&
	       FITS(a->impu, struct store_alloc, impu) && a->impu[0] &&
	       FITS(a->subject, struct store_alloc, subject) && a->subject[0];
}

static bool alloc_key_valid(const char *tenant, const char *impu)
{
	return tenant && impu && FITS(tenant, struct store_alloc, tenant) &&
	       FITS(impu, struct store_alloc, impu);
}

int store_alloc_add(struct store *st, const struct store_alloc *a)
{
	if (!st || !alloc_valid(a))
		return EINVAL;
	batch_write(st);
	return write_done(st, st->ops->alloc_add(st->be, a));
}

int store_alloc_hold(struct store *st, const char *tenant, const char *impu,
		     long long hold_until)
{
	if (!st || !alloc_key_valid(tenant, impu) || hold_until < 0)
		return EINVAL;
	batch_write(st);
	return write_done(st, st->ops->alloc_hold(st->be, tenant, impu, hold_until));
}

int store_alloc_del(struct store *st, const char *tenant, const char *impu)
{
	if (!st || !alloc_key_valid(tenant, impu))
		return EINVAL;
	batch_write(st);
	return write_done(st, st->ops->alloc_del(st->be, tenant, impu));
}

int store_alloc_foreach(struct store *st, store_alloc_f *fn, void *arg)
{
	if (!st || !fn)
		return EINVAL;
	return st->ops->alloc_foreach(st->be, fn, arg);
}

int store_device_put(struct store *st, const struct store_device *d)
{
	if (!st || !d || !FITS(d->tenant, struct store_device, tenant) ||
	    !FITS(d->impi, struct store_device, impi) || !d->impi[0] ||
	    !FITS(d->impu, struct store_device, impu) ||
	    !FITS0(d->instance, struct store_device, instance))
		return EINVAL;          /* a device without +sip.instance: "" */
	batch_write(st);
	return write_done(st, st->ops->device_put(st->be, d));
}

int store_device_del(struct store *st, const char *tenant, const char *impi)
{
	if (!st || !tenant || !impi ||
	    !FITS(tenant, struct store_device, tenant) ||
	    !FITS(impi, struct store_device, impi))
		return EINVAL;
	batch_write(st);
	return write_done(st, st->ops->device_del(st->be, tenant, impi));
}

int store_device_clear(struct store *st)
{
	return st ? write_done(st, st->ops->device_clear(st->be)) : EINVAL;
}

/* ---- diversions and agents ------------------------------------------- */

/** The longest no-answer timer a diversion may set, in seconds. */
enum { NO_ANSWER_TIME_MAX = 3600 };

/** True when @p s is NUL-terminated within @p size bytes ("" allowed). */

/**
 * True when @p tenant and @p number are a storable, non-empty key of a
 * diversion (an agent's number is sized as a diversion's identity).
 */
static bool key_fits(const char *tenant, const char *number)
{
	return FITS(tenant, struct store_diversion, tenant) &&
	       FITS(number, struct store_diversion, identity);
}

static bool diversion_valid(const struct store_diversion *d)
{
	return d && key_fits(d->tenant, d->identity) &&
	       FITS0(d->unconditional, struct store_diversion, unconditional) &&
	       FITS0(d->busy, struct store_diversion, busy) &&
	       FITS0(d->no_answer, struct store_diversion, no_answer) &&
	       FITS0(d->not_reachable, struct store_diversion, not_reachable) &&
	       d->no_answer_time >= 0 && d->no_answer_time <= NO_ANSWER_TIME_MAX;
}

/**
 * Checks the key of a lookup: EINVAL when missing or empty, ENOENT when
 * too long to have been stored, else 0.
 */
static int lookup_key_check(const char *tenant, const char *identity)
{
	if (!tenant || !identity || !*tenant || !*identity)
		return EINVAL;
	return key_fits(tenant, identity) ? 0 : ENOENT;
}

int store_diversion_put(struct store *st, const struct store_diversion *d)
{
	if (!st || !diversion_valid(d))
		return EINVAL;
	return write_done(st, st->ops->diversion_put(st->be, d));
}

int store_diversion_get(struct store *st, const char *tenant,
			const char *identity, struct store_diversion *d)
{
	int err;

	if (!st || !d)
		return EINVAL;
	err = lookup_key_check(tenant, identity);
	return err ? err : st->ops->diversion_get(st->be, tenant, identity, d);
}

int store_diversion_del(struct store *st, const char *tenant,
			const char *identity)
{
	int err;

	if (!st)
		return EINVAL;
	err = lookup_key_check(tenant, identity);
	return err ? err : write_done(st, st->ops->diversion_del(st->be, tenant,
								 identity));
}

int store_diversion_foreach(struct store *st, const char *tenant,
			    store_diversion_f *fn, void *arg)
{
	if (!st || !fn || (tenant && !*tenant))
		return EINVAL;
	/* A tenant too long to be stored has no diversions to list. */
	if (tenant && !FITS(tenant, struct store_diversion, tenant))
		return 0;
	return st->ops->diversion_foreach(st->be, tenant, fn, arg);
}

int store_agent_pause(struct store *st, const char *tenant, const char *number,
		      bool paused)
{
	if (!st || !tenant || !number || !key_fits(tenant, number))
		return EINVAL;
	return write_done(st, st->ops->agent_pause(st->be, tenant, number, paused));
}

int store_agent_paused(struct store *st, const char *tenant, const char *number,
		       bool *paused)
{
	if (!st || !tenant || !number || !paused || !key_fits(tenant, number))
		return EINVAL;
	return st->ops->agent_paused(st->be, tenant, number, paused);
}

/* ---- call detail records --------------------------------------------- */

static bool cdr_valid(const struct store_cdr *c)
{
	return c && FITS0(c->corr, struct store_cdr, corr) &&
	       FITS0(c->tenant, struct store_cdr, tenant) &&
	       FITS0(c->direction, struct store_cdr, direction) &&
	       (!strcmp(c->direction, "outbound") ||
		!strcmp(c->direction, "inbound")) &&
	       FITS0(c->user, struct store_cdr, user) &&
	       FITS0(c->remote, struct store_cdr, remote) &&
	       FITS0(c->reason, struct store_cdr, reason) &&
	       FITS0(c->legs, struct store_cdr, legs) &&
	       FITS0(c->services, struct store_cdr, services);
}

int store_cdr_add(struct store *st, struct store_cdr *c)
{
	if (!st || !cdr_valid(c))
		return EINVAL;
	return write_done(st, st->ops->cdr_add(st->be, c));
}

int store_cdr_defer(struct store *st, struct store_cdr *c)
{
	int err;

	if (!st || !cdr_valid(c))
		return EINVAL;
	if (!st->tx_open && !st->ops->begin(st->be))
		st->tx_open = true;
	err = st->ops->cdr_add(st->be, c);
	if (!err && st->tx_open)
		st->deferred++;
	return err;
}

unsigned store_cdr_deferred(const struct store *st)
{
	return st ? st->deferred : 0;
}

int store_cdr_foreach(struct store *st, const struct store_cdr_filter *f,
		      store_cdr_f *fn, void *arg)
{
	static const struct store_cdr_filter all;

	if (!f)
		f = &all;
	if (!st || !fn || f->since < 0 || f->until < 0 || f->after_id < 0 ||
	    f->before_id < 0)
		return EINVAL;
	/* A tenant too long to be stored has no records to list. */
	if (f->tenant && !FITS0(f->tenant, struct store_cdr, tenant))
		return 0;
	return st->ops->cdr_foreach(st->be, f, fn, arg);
}

int store_cdr_purge(struct store *st, long long before, size_t *count)
{
	size_t n;

	if (count)
		*count = 0;
	if (!st || before < 0)
		return EINVAL;
	return write_done(st, st->ops->cdr_purge(st->be, before, count ? count : &n));
}

int store_cdr_purge_some(struct store *st, long long before, size_t max,
			 size_t *count)
{
	size_t n;

	if (count)
		*count = 0;
	if (!st || before < 0)
		return EINVAL;
	return write_done(st, st->ops->cdr_purge_some(st->be, before, max, count ? count : &n));
}
