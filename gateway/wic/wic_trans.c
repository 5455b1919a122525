/**
 * @file wic_trans.c  The transaction layer of the WebSocket edge.
 *
 * WebSocket is reliable, so there are no retransmission timers: a server
 * transaction matches retransmitted requests, CANCEL and the ACK of a non-2xx
 * answer to INVITE (RFC 3261 17.2); a client transaction matches responses
 * by branch and method, ACKs non-2xx finals of INVITE and times out after
 * 64*T1 (17.1). Timers run on the edge's one-second tick.
 */
#include "wic_priv.h"
#include "util/strjoin.h"
#include "util/sip_mclass.h"
#include "util/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sofia-sip/msg_header.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_protos.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_tag.h>
#include <sofia-sip/su_tagarg.h>

#define WIC_TIMER_64T1 32   /* seconds: Timer B, F and H */

struct wic_tl {
	struct wic *wic;
	GHashTable *strans;   /**< key -> struct wic_strans * (owned) */
	GHashTable *ctrans;   /**< key -> struct wic_ctrans * (owned) */
};

struct wic_strans {
	struct wic_tl *tl;
	struct wic_flow *flow;       /**< NULL once the flow closed */
	char *key;
	msg_t *req;
	int status;                  /**< highest status sent, 0 none */
	char to_tag[20];
	time_t expires;              /**< INVITE: when to stop waiting for ACK */
	char *last;                  /**< last response, for retransmissions */
	size_t last_len;
};

struct wic_ctrans {
	struct wic_tl *tl;
	struct wic_flow *flow;
	char *key;
	msg_t *req;
	sip_method_t method;
	wic_response_h *h;
	void *arg;
	int status;
	time_t expires;
	bool cancelled;
};

/* ---- keys ------------------------------------------------------------ */

static char *key_make(const struct wic_flow *flow, const sip_t *sip,
		      const char *method)
{
	const char *branch = sip->sip_via ? sip->sip_via->v_branch : NULL;

	if (branch && !strncasecmp(branch, "z9hG4bK", 7)) {
		/* one per request: joined without a format */
		char id[STR_ULONG_MAX];

		str_ulong(id, flow->id);
		return g_strconcat(id, ";", branch, ";", method, NULL);
	}
	/* Pre-RFC 3261 client: fall back to Call-ID and CSeq number. */
	return g_strdup_printf("%lu;%s;%u;%s", flow->id, sip->sip_call_id->i_id,
			       sip->sip_cseq->cs_seq, method);
}

static const char *method_of(const sip_t *sip)
{
	return sip->sip_request ? sip->sip_request->rq_method_name
				: sip->sip_cseq->cs_method_name;
}

/* ---- server transactions -------------------------------------------- */

const char *wic_strans_to_tag(const struct wic_strans *st)
{
	return st->to_tag;
}

static void strans_free(void *p)
{
	struct wic_strans *st = p;

	msg_destroy(st->req);
	free(st->last);
	g_free(st->key);
	free(st);
}

static void strans_end(struct wic_strans *st)
{
	g_hash_table_remove(st->tl->strans, st->key);
}

msg_t *wic_strans_request(const struct wic_strans *st)
{
	return st->req;
}

struct wic_flow *wic_strans_flow(const struct wic_strans *st)
{
	return st->flow;
}

/* The response's text, malloc'd: printed directly when the tags allow,
 * else built as a Sofia message and encoded. */
static char *reply_text(msg_t *req, int status, const char *phrase,
			const char *to_tag, tagi_t const *tags, size_t *len)
{
	char *text = wic_sip_response_text(req, status, phrase, to_tag, tags,
					   len);
	msg_t *rsp;
	char *enc;

	if (text || errno != ENOTSUP)
		return text;
	rsp = wic_sip_response(req, status, phrase, to_tag, tags);
	enc = rsp ? wic_sip_to_string(rsp, len) : NULL;
	text = enc ? malloc(*len + 1) : NULL;
	if (text)
		memcpy(text, enc, *len + 1);
	msg_destroy(rsp);
	return text;
}

int wic_strans_reply_tags(struct wic_strans *st, int status,
			  const char *phrase, tagi_t const *tags)
{
	const sip_t *rq = sip_object(st->req);
	bool invite = rq->sip_request->rq_method == sip_method_invite;
	char *text;
	size_t len;
	int err = 0;

	if (st->status >= 200)
		return EALREADY;
	text = reply_text(st->req, status, phrase, st->to_tag, tags, &len);
	if (!text)
		return ENOMEM;
	st->status = status;
	free(st->last);
	st->last = text;   /* kept for retransmissions of the request */
	st->last_len = len;
	if (!st->flow || wic_flow_send(st->flow, text, len))
		err = EPIPE;
	if (status >= 200 && (!invite || status < 300 || !st->flow))
		strans_end(st);
	else if (status >= 300)
		st->expires = time(NULL) + WIC_TIMER_64T1;
	return err;
}

int wic_strans_reply(struct wic_strans *st, int status, const char *phrase,
		     tag_type_t tag, tag_value_t value, ...)
{
	ta_list ta;
	int err;

	ta_start(ta, tag, value);
	err = wic_strans_reply_tags(st, status, phrase, ta_args(ta));
	ta_end(ta);
	return err;
}

static struct wic_strans *strans_create(struct wic_tl *tl,
					struct wic_flow *flow, msg_t *msg,
					char *key)
{
	struct wic_strans *st = calloc(1, sizeof *st);

	if (!st) {
		g_free(key);
		msg_destroy(msg);
		return NULL;
	}
	st->tl = tl;
	st->flow = flow;
	st->key = key;
	st->req = msg;
	wic_sip_token(st->to_tag, 12);
	g_hash_table_insert(tl->strans, st->key, st);
	return st;
}

/* A stateless answer, for requests that match nothing (481 to CANCEL). */
static void reply_stateless(struct wic_flow *flow, msg_t *msg, int status)
{
	size_t len;
	char *text = reply_text(msg, status, NULL, NULL, NULL, &len);

	if (text)
		wic_flow_send(flow, text, len);
	free(text);
}

static void on_cancel(struct wic_tl *tl, struct wic_flow *flow, msg_t *msg,
		      sip_t *sip)
{
	char *key = key_make(flow, sip, "INVITE");
	struct wic_strans *inv = g_hash_table_lookup(tl->strans, key);

	g_free(key);
	if (!inv) {
		reply_stateless(flow, msg, 481);
		msg_destroy(msg);
		return;
	}
	/* RFC 3261 9.2: a CANCEL that matches a transaction gets 200, also
	 * when the INVITE was answered already (then it has no effect). */
	reply_stateless(flow, msg, 200);
	if (inv->status >= 200) {
		msg_destroy(msg);
		return;
	}
	log_info("wic", flow->id, "CANCEL matched INVITE call-id=%s",
		 sip->sip_call_id->i_id);
	if (!wic_core_on_cancel(tl->wic, flow, inv, msg, sip))
		wic_strans_reply(inv, SIP_487_REQUEST_TERMINATED, TAG_END());
	msg_destroy(msg);
}

static void on_ack(struct wic_tl *tl, struct wic_flow *flow, msg_t *msg,
		   sip_t *sip)
{
	char *key = key_make(flow, sip, "INVITE");
	struct wic_strans *inv = g_hash_table_lookup(tl->strans, key);

	g_free(key);
	if (inv && inv->status >= 300) {
		strans_end(inv);     /* ACK of a non-2xx: absorbed */
		msg_destroy(msg);
		return;
	}
	/* ACK of a 2xx belongs to the dialog: hand it to the core. */
	wic_core_on_request(tl->wic, flow, NULL, msg, sip);
}

void wic_tl_on_request(struct wic_tl *tl, struct wic_flow *flow, msg_t *msg)
{
	sip_t *sip = sip_object(msg);
	sip_method_t m = sip->sip_request->rq_method;
	struct wic_strans *st;
	char *key;

	if (m == sip_method_ack)
		return on_ack(tl, flow, msg, sip);
	if (m == sip_method_cancel)
		return on_cancel(tl, flow, msg, sip);
	key = key_make(flow, sip, method_of(sip));
	st = g_hash_table_lookup(tl->strans, key);
	if (st) {                    /* retransmission */
		g_free(key);
		if (st->last && st->flow)
			wic_flow_send(st->flow, st->last, st->last_len);
		msg_destroy(msg);
		return;
	}
	if (!wic_limits_request(flow, msg, sip)) {
		g_free(key);             /* answered 503 */
		return;
	}
	st = strans_create(tl, flow, msg, key);
	if (!st)
		return;
	if (m == sip_method_invite)
		wic_strans_reply(st, SIP_100_TRYING, TAG_END());
	wic_core_on_request(tl->wic, flow, st, msg, sip);
}

size_t wic_tl_pending(const struct wic_tl *tl)
{
	return g_hash_table_size(tl->strans) + g_hash_table_size(tl->ctrans);
}

/* ---- client transactions -------------------------------------------- */

static void ctrans_free(void *p)
{
	struct wic_ctrans *ct = p;

	msg_destroy(ct->req);
	g_free(ct->key);
	free(ct);
}

static void ctrans_end(struct wic_ctrans *ct)
{
	g_hash_table_remove(ct->tl->ctrans, ct->key);
}

static void ctrans_report(struct wic_ctrans *ct, int status, msg_t *msg)
{
	if (ct->h)
		ct->h(ct->arg, ct, status, msg, msg ? sip_object(msg) : NULL);
}

static int send_msg(struct wic_flow *flow, msg_t *msg)
{
	size_t len;
	char *text = wic_sip_to_string(msg, &len);

	return text ? wic_flow_send(flow, text, len) : ENOMEM;
}

int wic_ctrans_send(struct wic_flow *flow, msg_t *msg, wic_response_h *h,
		    void *arg, struct wic_ctrans **ctp)
{
	struct wic_tl *tl = flow->wic->tl;
	sip_t *sip = sip_object(msg);
	struct wic_ctrans *ct;
	int err;

	if (!sip || !sip->sip_request || !sip->sip_call_id || !sip->sip_cseq) {
		msg_destroy(msg);
		return EINVAL;
	}
	if (wic_sip_via_add(msg) || !(ct = calloc(1, sizeof *ct))) {
		msg_destroy(msg);
		return ENOMEM;
	}
	ct->tl = tl;
	ct->flow = flow;
	ct->req = msg;
	ct->method = sip->sip_request->rq_method;
	ct->h = h;
	ct->arg = arg;
	ct->expires = time(NULL) + WIC_TIMER_64T1;
	ct->key = key_make(flow, sip, method_of(sip));
	err = send_msg(flow, msg);
	if (err) {
		/* Nothing must stay behind that would call @p h later: on an
		 * error the caller frees what @p arg points to. */
		ctrans_free(ct);
		return err;
	}
	g_hash_table_insert(tl->ctrans, ct->key, ct);
	if (ctp)
		*ctp = ct;
	return 0;
}

/* Builds ACK or CANCEL from the INVITE of @p ct (RFC 3261 17.1.1.3, 9.1). */
static msg_t *ctrans_derive(const struct wic_ctrans *ct, sip_method_t m,
			    const char *name, const sip_to_t *to)
{
	const sip_t *rq = sip_object(ct->req);
	msg_t *msg = msg_create(sip_mclass_extended(), 0);
	sip_t *sip = msg ? sip_object(msg) : NULL;
	su_home_t *h = msg ? msg_home(msg) : NULL;

	if (!sip || sip_add_tl(msg, sip,
		SIPTAG_REQUEST(sip_request_create(h, m, name,
			(url_string_t const *)rq->sip_request->rq_url, NULL)),
		SIPTAG_VIA(rq->sip_via), SIPTAG_FROM(rq->sip_from),
		SIPTAG_TO(to ? to : rq->sip_to), SIPTAG_CALL_ID(rq->sip_call_id),
		SIPTAG_CSEQ(sip_cseq_create(h, rq->sip_cseq->cs_seq, m, name)),
		SIPTAG_ROUTE(rq->sip_route),
		SIPTAG_MAX_FORWARDS_STR("70"), TAG_END()) < 0) {
		msg_destroy(msg);
		return NULL;
	}
	return msg;
}

int wic_ctrans_cancel(struct wic_ctrans *ct, const char *reason)
{
	msg_t *cancel;

	if (ct->method != sip_method_invite || ct->status >= 200 ||
	    ct->cancelled || !ct->flow)
		return EALREADY;
	cancel = ctrans_derive(ct, sip_method_cancel, "CANCEL", NULL);
	if (!cancel)
		return ENOMEM;
	if (reason)
		sip_add_make(cancel, sip_object(cancel), sip_reason_class, reason);
	ct->cancelled = true;
	sip_complete_message(cancel);
	{
		struct wic_ctrans *cc = calloc(1, sizeof *cc);
		if (!cc) {
			msg_destroy(cancel);
			return ENOMEM;
		}
		cc->tl = ct->tl;
		cc->flow = ct->flow;
		cc->req = cancel;
		cc->method = sip_method_cancel;
		cc->expires = time(NULL) + WIC_TIMER_64T1;
		cc->key = key_make(ct->flow, sip_object(cancel), "CANCEL");
		g_hash_table_insert(ct->tl->ctrans, cc->key, cc);
		return send_msg(ct->flow, cancel);
	}
}

void wic_ctrans_abandon(struct wic_ctrans *ct)
{
	ct->h = NULL;
}

static void ctrans_ack(struct wic_ctrans *ct, const sip_t *rsp)
{
	msg_t *ack = ctrans_derive(ct, sip_method_ack, "ACK", rsp->sip_to);

	if (ack) {
		sip_complete_message(ack);
		send_msg(ct->flow, ack);
		msg_destroy(ack);
	}
}

void wic_tl_on_response(struct wic_tl *tl, struct wic_flow *flow, msg_t *msg)
{
	sip_t *sip = sip_object(msg);
	int status = sip->sip_status->st_status;
	char *key = key_make(flow, sip, sip->sip_cseq->cs_method_name);
	struct wic_ctrans *ct = g_hash_table_lookup(tl->ctrans, key);

	g_free(key);
	if (!ct) {
		log_dbg("wic", flow->id, "response %d matches no transaction", status);
		msg_destroy(msg);
		return;
	}
	if (ct->status >= 200 && !(ct->method == sip_method_invite &&
				   status < 300 && status >= 200)) {
		msg_destroy(msg);        /* late or duplicate final */
		return;
	}
	if (status > ct->status)
		ct->status = status;
	if (ct->method == sip_method_invite && status >= 300)
		ctrans_ack(ct, sip);
	ctrans_report(ct, status, msg);
	msg_destroy(msg);
	if (status >= 200 && !(ct->method == sip_method_invite && status < 300))
		ctrans_end(ct);
	else if (status >= 200) {
		/* kept 64*T1 for 2xx retransmissions, matched by key: the
		 * INVITE itself (for a CANCEL or a non-2xx ACK) is done with */
		ct->expires = time(NULL) + WIC_TIMER_64T1;
		msg_destroy(ct->req);
		ct->req = NULL;
	}
}

/* ---- the layer ------------------------------------------------------- */

int wic_tl_create(struct wic *wic, struct wic_tl **tlp)
{
	struct wic_tl *tl = calloc(1, sizeof *tl);

	if (!tl)
		return ENOMEM;
	tl->wic = wic;
	tl->strans = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, strans_free);
	tl->ctrans = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, ctrans_free);
	*tlp = tl;
	return 0;
}

void wic_tl_destroy(struct wic_tl *tl)
{
	if (!tl)
		return;
	g_hash_table_destroy(tl->strans);
	g_hash_table_destroy(tl->ctrans);
	free(tl);
}

size_t wic_tl_count(const struct wic_tl *tl)
{
	return g_hash_table_size(tl->strans) + g_hash_table_size(tl->ctrans);
}

static gboolean strans_orphan(gpointer k, gpointer v, gpointer flow)
{
	struct wic_strans *st = v;

	(void)k;
	if (st->flow != flow)
		return FALSE;
	st->flow = NULL;
	return st->status >= 200;  /* answered: only waited for an ACK */
}

/*
 * Ends the client transactions @p pick chooses, reporting @p status to
 * those still waiting. They are taken out of the table first: a handler
 * may well start or cancel other transactions while it is told.
 */
static void ctrans_finish(struct wic_tl *tl, GHRFunc pick, void *arg,
			  int status)
{
	GHashTableIter it;
	gpointer k, v;
	GList *done = NULL;

	g_hash_table_iter_init(&it, tl->ctrans);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		if (pick(k, v, arg)) {
			g_hash_table_iter_steal(&it);
			done = g_list_prepend(done, v);
		}
	}
	for (GList *l = done; l; l = l->next) {
		struct wic_ctrans *ct = l->data;
		if (ct->status < 200)
			ctrans_report(ct, status, NULL);
		ctrans_free(ct);
	}
	g_list_free(done);
}

static gboolean ctrans_on_flow(gpointer k, gpointer v, gpointer flow)
{
	(void)k;
	return ((struct wic_ctrans *)v)->flow == flow;
}

void wic_tl_flow_closed(struct wic_tl *tl, struct wic_flow *flow)
{
	g_hash_table_foreach_remove(tl->strans, strans_orphan, flow);
	ctrans_finish(tl, ctrans_on_flow, flow, 503);
}

static gboolean strans_expired(gpointer k, gpointer v, gpointer now)
{
	struct wic_strans *st = v;

	(void)k;
	return st->expires && st->expires <= *(time_t *)now;
}

static gboolean ctrans_expired(gpointer k, gpointer v, gpointer now)
{
	(void)k;
	return ((struct wic_ctrans *)v)->expires <= *(time_t *)now;
}

void wic_tl_tick(struct wic_tl *tl, time_t now)
{
	g_hash_table_foreach_remove(tl->strans, strans_expired, &now);
	ctrans_finish(tl, ctrans_expired, &now, 408);
}
