/**
 * @file w8_loop.c  Local calls: both ends inside the gateway. A pair of
 * legs stands in for the trunk: what the call core does to one leg arrives
 * as an event on the other, exactly as if IMS had routed the call back to
 * the trunk, so the call core drives a local call with the code it uses
 * for any call. Events are queued and delivered from the event loop, never
 * from inside the call that caused them.
 */
#include "w8_priv.h"
#include "conf/conf.h"
#include "util/log.h"

#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sofia-sip/msg_header.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_tag.h>

/** One event waiting for delivery to a leg. */
struct loop_ev {
	struct w8_leg *leg;
	enum w8_event ev;
	int status;
	char *phrase;
	msg_t *msg;          /**< what the event carries (SDP, caller...) */
};

static msg_mclass_t const *loop_mclass(void)
{
	static msg_mclass_t *mc;    /* built once, read-only afterwards */

	if (!mc)
		mc = sip_extend_mclass(NULL);
	return mc ? mc : sip_default_mclass();
}

/* A message carrying what an event needs: status, body, identities. */
static msg_t *loop_msg(int status, const char *ctype, const char *body,
		       const char *from, const char *pai, const char *privacy)
{
	msg_t *msg = msg_create(loop_mclass(), 0);
	sip_t *sip = msg ? sip_object(msg) : NULL;
	char hdr[320];

	if (!sip)
		return NULL;
	if (pai)
		snprintf(hdr, sizeof hdr, "P-Asserted-Identity: <%s>", pai);
	if (sip_add_tl(msg, sip,
		TAG_IF(status, SIPTAG_STATUS(sip_status_create(msg_home(msg),
				(unsigned)status, sip_status_phrase(status), NULL))),
		TAG_IF(from, SIPTAG_FROM_STR(from)),
		TAG_IF(pai, SIPTAG_HEADER_STR(hdr)),
		TAG_IF(privacy, SIPTAG_PRIVACY_STR(privacy)),
		TAG_IF(body, SIPTAG_CONTENT_TYPE_STR(ctype)),
		TAG_IF(body, SIPTAG_PAYLOAD_STR(body)), TAG_END()) < 0) {
		msg_destroy(msg);
		return NULL;
	}
	return msg;
}

static void loop_run(su_root_magic_t *m, su_timer_t *t, su_timer_arg_t *arg)
{
	struct w8 *w8 = (struct w8 *)arg;
	GQueue *q = w8->loop_q;
	struct loop_ev *e;

	(void)m;
	(void)t;
	while ((e = g_queue_pop_head(q))) {
		struct w8_leg *leg = e->leg;
		if (e->ev == W8_EV_TERMINATED)
			leg->terminated = true;
		/* The handler may release (and so free) the leg: not used
		 * after this. A released loop leg has no queued events. */
		w8_leg_report(leg, e->ev, e->status, e->phrase,
			      e->msg ? sip_object(e->msg) : NULL);
		msg_destroy(e->msg);
		free(e->phrase);
		free(e);
	}
}

/* Queues @p ev for @p leg (NULL: the peer is gone; nothing to do). */
static void loop_post(struct w8_leg *leg, enum w8_event ev, int status,
		      const char *phrase, msg_t *msg)
{
	struct w8 *w8;
	struct loop_ev *e;

	if (!leg || leg->released) {
		msg_destroy(msg);
		return;
	}
	w8 = leg->trunk->w8;
	e = calloc(1, sizeof *e);
	if (!e) {
		msg_destroy(msg);
		return;
	}
	e->leg = leg;
	e->ev = ev;
	e->status = status;
	e->phrase = phrase ? strdup(phrase) : NULL;
	e->msg = msg;
	g_queue_push_tail(w8->loop_q, e);
	su_timer_set_interval(w8->loop_timer, loop_run, (su_timer_arg_t *)w8, 0);
}

/* Both ends of the pair are done: each is told, once. */
static void loop_end(struct w8_leg *leg)
{
	struct w8_leg *peer = leg->peer;

	loop_post(leg, W8_EV_TERMINATED, 0, NULL, NULL);
	if (peer) {
		loop_post(peer, W8_EV_TERMINATED, 0, NULL, NULL);
		peer->peer = NULL;
	}
	leg->peer = NULL;
}

static int loop_init(struct w8 *w8)
{
	if (w8->loop_q)
		return 0;
	w8->loop_q = g_queue_new();
	w8->loop_timer = su_timer_create(su_root_task(w8->root), 0);
	return w8->loop_q && w8->loop_timer ? 0 : ENOMEM;
}

int w8_leg_invite_local(struct w8_trunk *t, const struct w8_call_params *p,
			const char *called, w8_leg_h *h, void *arg,
			struct w8_leg **legp)
{
	struct w8 *w8 = t->w8;
	struct w8_leg *a, *b;
	msg_t *inv;
	char from[320];

	if (loop_init(w8) || !w8->in_h)
		return ENOMEM;
	snprintf(from, sizeof from, "<%s>", p->identity);
	inv = loop_msg(0, "application/sdp", p->sdp, from, p->identity, p->privacy);
	a = w8_leg_new(t);
	b = w8_leg_new(t);
	if (!inv || !a || !b) {
		msg_destroy(inv);
		if (a)
			w8_leg_free(a);     /* no peer, no loop yet: just freed */
		if (b)
			w8_leg_free(b);
		return ENOMEM;
	}
	a->loop = b->loop = true;
	a->peer = b;
	b->peer = a;
	a->h = h;
	a->arg = arg;
	b->incoming = true;
	snprintf(a->call_id, sizeof a->call_id, "local-%p", (void *)a);
	snprintf(b->call_id, sizeof b->call_id, "local-%p", (void *)a);
	snprintf(b->called, sizeof b->called, "%s", called);
	*legp = a;
	log_info("w8", 0, "local call to %s kept inside the gateway", called);
	w8->in_h(w8->in_arg, t, b, called, sip_object(inv));
	msg_destroy(inv);
	return 0;
}

int w8_loop_respond(struct w8_leg *leg, int status, const char *phrase,
		    const char *sdp)
{
	struct w8_leg *peer = leg->peer;
	bool initial = leg->incoming && !leg->answered;
	msg_t *msg;

	if (!peer)              /* the caller's end is gone already */
		return EPIPE;
	msg = loop_msg(status, "application/sdp", sdp, NULL, NULL, NULL);
	if (!initial) {
		/* The answer to a re-INVITE or UPDATE of the other end. */
		loop_post(peer, W8_EV_REINVITE_DONE, status, phrase, msg);
		return 0;
	}
	if (status < 200) {
		loop_post(peer, W8_EV_PROGRESS, status, phrase, msg);
	} else if (status < 300) {
		leg->answered = peer->answered = true;
		loop_post(peer, W8_EV_ANSWERED, status, phrase, msg);
		loop_post(leg, W8_EV_ACKED, 0, NULL, NULL);
	} else {
		loop_post(peer, W8_EV_FAILED, status, phrase, msg);
		loop_end(leg);
	}
	return 0;
}

int w8_loop_reoffer(struct w8_leg *leg, const char *sdp, bool update)
{
	if (!leg->peer)
		return EPIPE;
	loop_post(leg->peer, update ? W8_EV_UPDATE : W8_EV_REINVITE, 0, NULL,
		  loop_msg(0, "application/sdp", sdp, NULL, NULL, NULL));
	return 0;
}

int w8_loop_info(struct w8_leg *leg, const char *ctype, const char *body)
{
	if (!leg->peer)
		return EPIPE;
	loop_post(leg->peer, W8_EV_INFO, 0, NULL,
		  loop_msg(0, ctype ? ctype : "application/octet-stream", body,
			   NULL, NULL, NULL));
	return 0;
}

int w8_loop_hangup(struct w8_leg *leg, const char *reason)
{
	struct w8_leg *peer = leg->peer;

	(void)reason;
	if (!peer)
		return EALREADY;
	if (leg->answered)
		loop_post(peer, W8_EV_BYE, 0, NULL, NULL);
	else if (leg->incoming)
		loop_post(peer, W8_EV_FAILED, 487, "Request Terminated", NULL);
	else
		loop_post(peer, W8_EV_CANCELLED, 0, NULL, NULL);
	loop_end(leg);
	return 0;
}

static gboolean ev_of(gconstpointer e, gconstpointer leg)
{
	return ((const struct loop_ev *)e)->leg == leg ? 0 : 1;
}

void w8_loop_forget(struct w8_leg *leg)
{
	GQueue *q = leg->trunk->w8->loop_q;
	GList *l;

	if (leg->peer)
		leg->peer->peer = NULL;
	leg->peer = NULL;
	while (q && (l = g_queue_find_custom(q, leg, (GCompareFunc)ev_of))) {
		struct loop_ev *e = l->data;
		g_queue_delete_link(q, l);
		msg_destroy(e->msg);
		free(e->phrase);
		free(e);
	}
}

void w8_loop_stop(struct w8 *w8)
{
	struct loop_ev *e;

	if (w8->loop_timer)
		su_timer_destroy(w8->loop_timer);
	w8->loop_timer = NULL;
	while (w8->loop_q && (e = g_queue_pop_head(w8->loop_q))) {
		msg_destroy(e->msg);
		free(e->phrase);
		free(e);
	}
	if (w8->loop_q)
		g_queue_free(w8->loop_q);
	w8->loop_q = NULL;
}

bool w8_leg_is_local(const struct w8_leg *leg)
{
	return leg && leg->loop;
}
