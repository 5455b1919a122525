/**
 * @file svc_cdr.c  The call core's record hook: each finished call becomes
 * one call detail record in the store. A record that cannot be written is
 * logged with its correlation id, so that nothing is lost silently.
 */
#include "svc_priv.h"
#include "gateway/call/call.h"
#include "store/store.h"
#include "util/log.h"

#include <stdio.h>
#include <string.h>

/* Copies @p src into @p dst of @p size; false when it had to be cut. */
static bool cdr_copy(char *dst, size_t size, const char *src)
{
	return snprintf(dst, size, "%s", src ? src : "") < (int)size;
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
	err = s->store ? store_cdr_add(s->store, &c) : 0;
	if (err)
		log_err("svc", 0, "corr=%s call record not stored: %s", r->corr,
			strerror(err));
}
