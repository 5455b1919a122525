/**
 * @file wic_flow.c  WebSocket flows (RFC 5626): creation, the output queue,
 * closing, and turning each received message into a SIP request or response.
 */
#include "wic_priv.h"
#include "store/store.h"
#include "util/log.h"

#include <errno.h>
#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_tagarg.h>

/* A flow whose peer stops reading is closed past this many queued bytes. */
#define WIC_FLOW_MAX_QUEUED (1024 * 1024)

int wic_flow_create(struct wic *wic, struct lws *wsi, struct wic_flow **flowp)
{
	struct wic_flow *flow = calloc(1, sizeof *flow);

	if (!flow)
		return ENOMEM;
	flow->id = ++wic->next_flow_id;
	flow->wic = wic;
	flow->wsi = wsi;
	flow->out_tail = &flow->out_head;
	g_hash_table_insert(wic->flows, &flow->id, flow);
	*flowp = flow;
	return 0;
}

/* Called once libwebsockets has closed the connection: unlinks and frees. */
void wic_flow_closed(struct wic_flow *flow)
{
	struct wic *wic = flow->wic;
	struct wic_out *o, *next;

	log_info("wic", flow->id, "flow closed peer=%s", flow->peer);
	if (wic->closed_h)
		wic->closed_h(wic->closed_arg, flow);
	flow->wsi = NULL;
	wic_reg_flow_closed(wic->reg, flow);
	wic_tl_flow_closed(wic->tl, flow);
	for (o = flow->out_head; o; o = next) {
		next = o->next;
		free(o);
	}
	free(flow->rx);
	free(flow->tok_memo);
	g_hash_table_remove(wic->flows, &flow->id);
	free(flow);
}

int wic_flow_send(struct wic_flow *flow, const char *data, size_t len)
{
	struct wic_out *o;

	if (!flow->wsi || flow->close_code)
		return EPIPE;
	if (flow->out_bytes + len > WIC_FLOW_MAX_QUEUED) {
		log_warn("wic", flow->id, "peer does not read: %zu bytes queued, "
			 "closing", flow->out_bytes);
		wic_flow_close(flow, WIC_CLOSE_POLICY, "send queue full");
		return ENOBUFS;
	}
	o = malloc(sizeof *o + LWS_PRE + len);
	if (!o)
		return ENOMEM;
	o->next = NULL;
	o->len = len;
	memcpy(o->data + LWS_PRE, data, len);
	*flow->out_tail = o;
	flow->out_tail = &o->next;
	flow->out_bytes += len;
	if (log_enabled(LOG_DEBUG))
		log_dbg("wic", flow->id, "send %zu bytes: %.*s", len,
			(int)(len < 80 ? len : 80), data);
	wic_ws_want_write(flow);
	return 0;
}

int wic_flow_send_msg(struct wic_flow *flow, msg_t *msg)
{
	size_t len;
	char *text = wic_sip_to_string(msg, &len);

	return text ? wic_flow_send(flow, text, len) : ENOMEM;
}

bool wic_flow_held(struct wic_flow *flow)
{
	struct wic *wic = flow->wic;

	if (flow->held)
		return true;
	if (!store_unsaved(wic->store))
		return false;
	flow->held = true;
	g_array_append_val(wic->held, flow->id);
	return true;
}

void wic_flows_release(struct wic *wic)
{
	GArray *ids = wic->held;

	if (!ids || !ids->len)
		return;
	for (guint i = 0; i < ids->len; i++) {
		unsigned long id = g_array_index(ids, unsigned long, i);
		struct wic_flow *flow = g_hash_table_lookup(wic->flows, &id);

		if (flow && flow->held) {
			flow->held = false;
			wic_ws_want_write(flow);
		}
	}
	g_array_set_size(ids, 0);
}

void wic_flow_close(struct wic_flow *flow, int code, const char *reason)
{
	if (!flow->wsi || flow->close_code)
		return;
	flow->close_code = code;
	flow->close_reason = reason;
	wic_ws_want_write(flow);
}

/* Answers a request that failed the checks, if it can be answered. */
static void reply_bad(struct wic_flow *flow, msg_t *msg, int status,
		      const char *why)
{
	sip_t *sip = sip_object(msg);
	msg_t *rsp;

	if (!sip->sip_request || sip->sip_request->rq_method == sip_method_ack) {
		msg_destroy(msg);
		return;
	}
	rsp = wic_sip_response(msg, status, why, NULL, NULL);
	if (rsp)
		wic_flow_send_msg(flow, rsp);
	msg_destroy(rsp);
	msg_destroy(msg);
}

static enum wic_sip_kind flow_sip_kind(const sip_t *sip)
{
	if (!sip->sip_request)
		return WIC_SIP_RESPONSE;
	if (sip->sip_request->rq_method == sip_method_register)
		return WIC_SIP_REGISTER;
	return sip->sip_request->rq_method == sip_method_invite ? WIC_SIP_INVITE
								: WIC_SIP_OTHER;
}

void wic_flow_on_message(struct wic_flow *flow, const char *data, size_t len)
{
	const char *why = NULL;
	msg_t *msg = NULL;
	gint64 t0 = g_get_monotonic_time();
	int err = wic_sip_parse(data, len, &msg, &why);
	enum wic_sip_kind kind;

	if (err == EPROTO) {
		log_warn("wic", flow->id, "garbage on the flow (%s): closing", why);
		wic_flow_close(flow, WIC_CLOSE_PROTOCOL, why);
		return;
	}
	if (err) {
		log_warn("wic", flow->id, "refused message: %s", why);
		reply_bad(flow, msg, err == ELOOP ? 483 :
			  err == EPROTONOSUPPORT ? 416 : 400, why);
		return;
	}
	kind = flow_sip_kind(sip_object(msg));
	if (sip_object(msg)->sip_request)
		wic_tl_on_request(flow->wic->tl, flow, msg);
	else
		wic_tl_on_response(flow->wic->tl, flow, msg);
	histo_add(&flow->wic->sip_time[kind], g_get_monotonic_time() - t0);
}

const struct histo *wic_sip_time(const struct wic *wic, enum wic_sip_kind kind,
				 const char **label)
{
	static const char *const names[WIC_SIP_KINDS] = {
		"REGISTER", "INVITE", "other", "response" };

	if (kind >= WIC_SIP_KINDS)
		return NULL;
	*label = names[kind];
	return &wic->sip_time[kind];
}

unsigned long wic_flow_id(const struct wic_flow *flow)
{
	return flow->id;
}

const char *wic_flow_identity(const struct wic_flow *flow)
{
	return flow->ident.how != WIC_AUTHN_NONE ? flow->ident.aor : NULL;
}

const char *wic_flow_trunk(const struct wic_flow *flow)
{
	return flow->ident.how != WIC_AUTHN_NONE && flow->ident.grant.number[0] ?
	       flow->ident.grant.trunk : NULL;
}

const struct conf_tenant *wic_flow_tenant(const struct wic_flow *flow)
{
	return flow->ident.how != WIC_AUTHN_NONE && flow->ident.tenant ?
	       flow->ident.tenant->conf : NULL;
}
