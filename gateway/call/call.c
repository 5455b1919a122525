/**
 * @file call.c  The call core: the hooks on the WIC edge and the trunk, the
 * table of calls, and ending a call on both sides.
 */
#include "call_priv.h"
#include "conf/conf.h"
#include "util/log.h"
#include "util/numrange.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_tag.h>

struct call *call_new(struct call_core *cc, enum call_dir dir)
{
	struct call *call = calloc(1, sizeof *call);

	if (!call)
		return NULL;
	su_home_init(call->home);
	call->id = ++cc->next_id;
	call->started = time(NULL);
	call->cc = cc;
	call->dir = dir;
	call_cdr_start(call);
	g_hash_table_insert(cc->calls, &call->id, call);
	return call;
}

bool call_tenant_full(const struct call *call)
{
	const struct conf_tenant *t = call->tenant[0] ?
		conf_tenant_find(call->cc->conf, call->tenant) : NULL;
	GHashTableIter it;
	gpointer v;
	int n = 0;

	if (!t || !t->max_calls)
		return false;
	g_hash_table_iter_init(&it, call->cc->calls);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		const struct call *c = v;
		/* a local call is two: its incoming half is not counted */
		if (c == call || strcmp(c->tenant, call->tenant) ||
		    (c->dir == CALL_IN && w8_leg_is_local(c->leg)))
			continue;
		if (++n >= t->max_calls)
			return true;
	}
	return false;
}

const char *call_retry_after(const struct call *call, char *buf, size_t size)
{
	snprintf(buf, size, "Retry-After: %d\r\n",
		 call->cc->conf->limits.retry_after);
	return buf;
}

/* Makes in-dialog requests of @p wd find @p call. */
void call_index(struct call *call, struct wic_dialog *wd)
{
	call->key = g_strdup_printf("%s;%s", wic_dialog_call_id(wd),
				    wic_dialog_local_tag(wd));
	g_hash_table_insert(call->cc->by_dialog, call->key, call);
}

static void call_free(struct call *call)
{
	struct call_core *cc = call->cc;

	call_busy(call, false);
	call_route_destroy(call);
	for (size_t i = 0; i < call->branch_count; i++) {
		if (call->branches[i]->ct)
			wic_ctrans_abandon(call->branches[i]->ct);
		wic_dialog_destroy(call->branches[i]->wd);
		free(call->branches[i]);
	}
	free(call->branches);
	if (call->pend.wct)
		wic_ctrans_abandon(call->pend.wct);
	if (call->dir == CALL_OUT)
		wic_dialog_destroy(call->wd);
	if (call->leg)
		w8_leg_release(call->leg);
	if (call->fwd)
		w8_leg_release(call->fwd);
	call_sdp_free(call);
	call_cdr_free(call);
	if (call->key) {
		g_hash_table_remove(cc->by_dialog, call->key);
		g_free(call->key);
	}
	g_hash_table_remove(cc->calls, &call->id);
	su_home_deinit(call->home);
	free(call);
}

/* Ends the WIC side: answers, cancels or hangs up what is open there. */
static void call_end_wic(struct call *call)
{
	if (call->wst) {
		wic_strans_reply(call->wst, SIP_480_TEMPORARILY_UNAVAILABLE, TAG_END());
		call->wst = NULL;
	}
	if (call->pend.wst) {
		wic_strans_reply(call->pend.wst, SIP_481_NO_TRANSACTION, TAG_END());
		call->pend.wst = NULL;
	}
	for (size_t i = 0; i < call->branch_count; i++) {
		struct call_branch *b = call->branches[i];
		if (b != call->winner && b->ct && !b->done)
			wic_ctrans_cancel(b->ct, NULL);
	}
	if (call->state == CALL_ANSWERED && call->wd && !call->wic_gone)
		wic_dialog_request(call->wd, "BYE", NULL, NULL, NULL, NULL, NULL, NULL);
}

void call_end(struct call *call, const char *why)
{
	if (call->state == CALL_ENDED)
		return;
	call_log(call, "%s call %s ended: %s (calls left: %u)",
		 call->dir == CALL_OUT ? "outbound" : "inbound", call->aor, why,
		 g_hash_table_size(call->cc->calls) - 1);
	call_join_abort(call);
	call_cdr_end(call, why);
	call_end_wic(call);
	call->state = CALL_ENDED;
	call_xfer_ended(call);
	if (call->leg && !call->leg_done && !call->w8_final_sent)
		w8_leg_hangup(call->leg, NULL);
	if (call->fwd && !call->fwd_done)
		w8_leg_hangup(call->fwd, NULL);
	call_free(call);
}

/* Tells the services that the call's WIC user is on a call, or no more. */
void call_busy(struct call *call, bool busy)
{
	const struct call_hooks *h = call->cc->hooks;

	if (!h || !h->busy || !call->tenant[0] || !call->party[0] ||
	    call->busy_told == busy)
		return;
	call->busy_told = busy;
	h->busy(call->cc->hooks_arg, call->tenant, call->party, busy);
}

/* The body of @p sip as a C string (malloc'd), or NULL. */
char *call_payload(const sip_t *sip)
{
	if (!sip || !sip->sip_payload || !sip->sip_payload->pl_len)
		return NULL;
	return strndup(sip->sip_payload->pl_data, sip->sip_payload->pl_len);
}

int call_status_map(int status)
{
	if (status >= 300 && status < 400)
		return 480;          /* no redirection toward browsers */
	if (status == 401 || status == 407)
		return 503;          /* the trunk's own credentials failed */
	return status;
}

/* ---- hooks ----------------------------------------------------------- */

static struct call *call_by_dialog(struct call_core *cc, const sip_t *sip)
{
	char *key;
	struct call *call;

	if (!sip->sip_to->a_tag)
		return NULL;
	key = g_strdup_printf("%s;%s", sip->sip_call_id->i_id, sip->sip_to->a_tag);
	call = g_hash_table_lookup(cc->by_dialog, key);
	g_free(key);
	return call;
}

static gboolean call_has_strans(gpointer k, gpointer v, gpointer st)
{
	(void)k;
	return ((struct call *)v)->wst == st;
}

static void on_wic_request(void *arg, struct wic_flow *flow,
			   struct wic_strans *st, msg_t *msg, sip_t *sip)
{
	struct call_core *cc = arg;
	sip_method_t m = sip->sip_request->rq_method;
	struct call *call;

	(void)msg;
	if (m == sip_method_cancel) {
		call = g_hash_table_find(cc->calls, call_has_strans, st);
		if (call) {
			wic_strans_reply(st, SIP_487_REQUEST_TERMINATED, TAG_END());
			call->wst = NULL;
			call_end(call, "cancelled by the caller");
		} else {
			wic_strans_reply(st, SIP_487_REQUEST_TERMINATED, TAG_END());
		}
		return;
	}
	if (!st)
		return;   /* ACK of a 2xx: nothing to relay (W8 ACKs on its own) */
	if (sip->sip_to->a_tag) {
		call = call_by_dialog(cc, sip);
		if (call)
			call_dialog_wic_request(call, st, sip);
		else
			wic_strans_reply(st, SIP_481_NO_TRANSACTION, TAG_END());
		return;
	}
	if (m == sip_method_invite)
		call_out_start(cc, flow, st, sip);
	else
		wic_strans_reply(st, SIP_405_METHOD_NOT_ALLOWED,
				 SIPTAG_ALLOW_STR("INVITE, ACK, CANCEL, BYE, OPTIONS, "
						  "REGISTER, UPDATE, INFO, PRACK, REFER"),
				 TAG_END());
}

/* True when the call's WIC side lives on @p flow. */
static bool call_on_flow(const struct call *call, const struct wic_flow *flow)
{
	if (call->wd && wic_dialog_flow(call->wd) == flow)
		return true;
	if (call->wst && wic_strans_flow(call->wst) == flow)
		return true;
	return false;
}

static void on_flow_closed(void *arg, struct wic_flow *flow)
{
	struct call_core *cc = arg;
	GList *calls = g_hash_table_get_values(cc->calls);

	for (GList *l = calls; l; l = l->next) {
		struct call *call = l->data;
		if (call_on_flow(call, flow)) {
			call->wst = NULL;        /* nobody left to answer */
			call->wic_gone = true;
			call_end(call, "the browser's connection closed");
		}
	}
	g_list_free(calls);
}

int call_core_create(struct call_core **ccp, const struct conf *conf,
		     struct wic *wic, struct w8 *w8, struct ident *ident)
{
	struct call_core *cc = calloc(1, sizeof *cc);

	if (!cc)
		return ENOMEM;
	cc->conf = conf;
	cc->wic = wic;
	cc->w8 = w8;
	cc->ident = ident;
	cc->calls = g_hash_table_new(g_int64_hash, g_int64_equal);
	cc->by_dialog = g_hash_table_new(g_str_hash, g_str_equal);
	wic_request_handler_set(wic, on_wic_request, cc);
	wic_flow_closed_handler_set(wic, on_flow_closed, cc);
	w8_incoming_handler_set(w8, call_in_start, cc);
	*ccp = cc;
	return 0;
}

void call_core_hooks_set(struct call_core *cc, const struct call_hooks *h,
			 void *arg)
{
	cc->hooks = h;
	cc->hooks_arg = arg;
}

void call_core_reload(struct call_core *cc, const struct conf *conf)
{
	cc->conf = conf;
}

void call_core_shutdown(struct call_core *cc)
{
	GList *calls = g_hash_table_get_values(cc->calls);

	for (GList *l = calls; l; l = l->next)
		call_end(l->data, "gateway shutting down");
	g_list_free(calls);
}

void call_answered(struct call *call)
{
	call->state = CALL_ANSWERED;
	if (!call->answered)
		call->answered = time(NULL);
	call_cdr_answered(call);
}

static const char *const state_names[] = { "setup", "early", "answered",
					   "ended" };

int call_core_foreach(struct call_core *cc, call_info_f *fn, void *arg)
{
	GHashTableIter it;
	gpointer v;
	int res = 0;

	g_hash_table_iter_init(&it, cc->calls);
	while (!res && g_hash_table_iter_next(&it, NULL, &v)) {
		const struct call *c = v;
		struct call_info i = {
			.id = c->id,
			.direction = c->dir == CALL_OUT ? "outbound" : "inbound",
			.state = state_names[c->state],
			.user = c->aor, .remote = c->remote ? c->remote : "",
			.tenant = c->tenant, .started = c->started,
			.answered = c->answered,
		};
		res = fn(arg, &i);
	}
	return res;
}

int call_core_hangup(struct call_core *cc, unsigned long id, const char *why)
{
	struct call *call = g_hash_table_lookup(cc->calls, &id);

	if (!call)
		return ENOENT;
	call_end(call, why);
	return 0;
}

size_t call_core_count(const struct call_core *cc)
{
	return g_hash_table_size(cc->calls);
}

void call_core_destroy(struct call_core *cc)
{
	if (!cc)
		return;
	call_core_shutdown(cc);
	wic_request_handler_set(cc->wic, NULL, NULL);
	wic_flow_closed_handler_set(cc->wic, NULL, NULL);
	w8_incoming_handler_set(cc->w8, NULL, NULL);
	g_hash_table_destroy(cc->by_dialog);
	g_hash_table_destroy(cc->calls);
	free(cc);
}
