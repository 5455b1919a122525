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
	st->ops->close(st->be);
	free(st);
}

int store_schema_version(struct store *st)
{
	return st ? st->ops->schema_version(st->be) : 0;
}

int store_user_put(struct store *st, const struct store_user *u)
{
	if (!st || !u || !user_valid(u))
		return EINVAL;
	return st->ops->user_put(st->be, u);
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
	return st->ops->user_del(st->be, tenant, username);
}

/* ---- allocations and devices ----------------------------------------- */

#define FITS(s, type, field) str_fits((s), sizeof ((type *)0)->field)

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
	return st->ops->alloc_add(st->be, a);
}

int store_alloc_hold(struct store *st, const char *tenant, const char *impu,
		     long long hold_until)
{
	if (!st || !alloc_key_valid(tenant, impu) || hold_until < 0)
		return EINVAL;
	return st->ops->alloc_hold(st->be, tenant, impu, hold_until);
}

int store_alloc_del(struct store *st, const char *tenant, const char *impu)
{
	if (!st || !alloc_key_valid(tenant, impu))
		return EINVAL;
	return st->ops->alloc_del(st->be, tenant, impu);
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
	    !FITS(d->instance, struct store_device, instance))
		return EINVAL;
	return st->ops->device_put(st->be, d);
}

int store_device_del(struct store *st, const char *tenant, const char *impi)
{
	if (!st || !tenant || !impi ||
	    !FITS(tenant, struct store_device, tenant) ||
	    !FITS(impi, struct store_device, impi))
		return EINVAL;
	return st->ops->device_del(st->be, tenant, impi);
}

int store_device_clear(struct store *st)
{
	return st ? st->ops->device_clear(st->be) : EINVAL;
}
