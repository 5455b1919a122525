/**
 * @file svc_cdr.c  The call core's record hook: each finished call becomes
 * one call detail record in the store. A record that cannot be written is
 * logged with its correlation id, so that nothing is lost silently.
 *
 * Records are committed in groups (store.cdr_commit_ms): the first record
 * arms a timer, and the timer, the CDR_GROUP_MAX-th record, a reload that
 * sets 0 or the gateway's stop commit them all at once. One commit costs
 * as much as writing several records, so at high call rates this takes
 * most of the store's share of a call's CPU away.
 */
#include "svc_priv.h"
#include "gateway/call/call.h"
#include "store/store.h"
#include "util/log.h"

#include <string.h>

/** Records committed at once at the latest. */
enum { CDR_GROUP_MAX = 500 };

/* Copies @p src into @p dst of @p size; false when it had to be cut. */
static bool cdr_copy(char *dst, size_t size, const char *src)
{
	size_t n = src ? strnlen(src, size) : 0;
	bool whole = n < size;

	if (!whole)
		n = size - 1;
	if (n)
		memcpy(dst, src, n);
	dst[n] = '\0';
	return whole;
}

static gboolean cdr_timer_fire(gpointer arg)
{
	struct svc *s = arg;

	s->cdr_timer = 0;
	svc_cdr_flush(s);
	return G_SOURCE_REMOVE;
}

void svc_cdr_flush(struct svc *s)
{
	if (s->cdr_timer)
		g_source_remove(s->cdr_timer);
	s->cdr_timer = 0;
	if (s->store && store_cdr_deferred(s->store))
		store_batch_flush(s->store);    /* logs what a failure lost */
}

/* Writes @p c now, or into the group the timer commits. */
static int cdr_write(struct svc *s, struct store_cdr *c)
{
	int err;

	if (!s->cdr_commit_ms)
		return store_cdr_add(s->store, c);
	err = store_cdr_defer(s->store, c);
	if (store_cdr_deferred(s->store) >= CDR_GROUP_MAX)
		svc_cdr_flush(s);
	else if (store_cdr_deferred(s->store) && !s->cdr_timer)
		s->cdr_timer = g_timeout_add(s->cdr_commit_ms, cdr_timer_fire, s);
	return err;
}

void svc_record(void *arg, const struct call_record *r)
{
	struct svc *s = arg;
	struct store_cdr c;
	int err;

	memset(&c, 0, sizeof c);
	cdr_copy(c.corr, sizeof c.corr, r->corr);
	cdr_copy(c.tenant, sizeof c.tenant, r->tenant);
	cdr_copy(c.direction, sizeof c.direction, r->direction);
	cdr_copy(c.user, sizeof c.user, r->user);
	cdr_copy(c.remote, sizeof c.remote, r->remote);
	cdr_copy(c.reason, sizeof c.reason, r->reason);
	/* JSON cut short is no JSON: an empty list says "too long" instead. */
	if (!cdr_copy(c.legs, sizeof c.legs, r->legs))
		cdr_copy(c.legs, sizeof c.legs, "[]");
	if (!cdr_copy(c.services, sizeof c.services, r->services))
		cdr_copy(c.services, sizeof c.services,
			 "[{\"service\":\"record\",\"what\":\"too many services to keep\"}]");
	c.started = r->started;
	c.answered = r->answered;
	c.ended = r->ended;
	c.status = r->status;
	err = s->store ? cdr_write(s, &c) : 0;
	if (err)
		log_err("svc", 0, "corr=%s call record not stored: %s", r->corr,
			strerror(err));
}
