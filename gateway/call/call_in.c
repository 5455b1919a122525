/**
 * @file call_in.c  Inbound calls, IMS -> WIC: the called number is looked
 * up among the registered devices and the call forks to all of them; the
 * first 2xx wins, the others are cancelled with "Call completed elsewhere",
 * and a 2xx that loses the race is ACKed and BYEd.
 */
#include "call_priv.h"
#include "conf/conf.h"
#include "util/log.h"
#include "util/numrange.h"
#include "gateway/ident/ident.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sofia-sip/sip_extra.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_tag.h>

static void in_w8_event(void *arg, struct w8_leg *leg, enum w8_event ev,
			int status, const char *phrase, const sip_t *sip);

/*
 * Whether @p ten serves @p called on trunk @p t: with identity sets, the
 * set holding the number must be reached through @p t (EPERM: that set is
 * withdrawn); without, the tenant takes every number on its trunk. On 0,
 * @p num gets the number as the tenant's AORs name it.
 */
static int in_serves(struct call_core *cc, const struct conf_tenant *ten,
		     const struct w8_trunk *t, const char *called,
		     char num[NUMRANGE_NUM_MAX])
{
	struct ident_grant g;
	int err;

	if (!ident_managed(cc->ident, ten->name)) {
		snprintf(num, NUMRANGE_NUM_MAX, "%s", called);
		return w8_trunk_get(cc->w8, ten->trunk) == t ? 0 : ENOENT;
	}
	err = ident_lookup(cc->ident, ten->name, called, &g);
	if (!err && w8_trunk_get(cc->w8, g.trunk) != t)
		err = ENOENT;
	if (err == EPERM && w8_trunk_get(cc->w8, g.trunk) != t)
		err = ENOENT;
	if (!err)
		snprintf(num, NUMRANGE_NUM_MAX, "%s", g.number);
	return err;
}

int call_in_serves(struct call_core *cc, const struct w8_trunk *t,
		   const char *called, char *tenant, size_t tsize,
		   char num[32])
{
	char n[NUMRANGE_NUM_MAX];
	int res = ENOENT;

	for (size_t i = 0; i < cc->conf->tenant_count; i++) {
		const struct conf_tenant *ten = &cc->conf->tenants[i];
		int err = in_serves(cc, ten, t, called, n);
		if (!err) {
			snprintf(tenant, tsize, "%s", ten->name);
			snprintf(num, 32, "%s", n);
			return 0;
		}
		if (err == EPERM)
			res = EPERM;
	}
	return res;
}

size_t call_in_lookup(struct call_core *cc, const struct w8_trunk *t,
			const char *called, struct wic_target *out, size_t max,
			char *aor, size_t aor_size)
{
	const struct conf *conf = cc->conf;
	char cand[2][256], num[NUMRANGE_NUM_MAX];
	size_t n;

	for (size_t i = 0; i < conf->tenant_count; i++) {
		const struct conf_tenant *ten = &conf->tenants[i];
		if (in_serves(cc, ten, t, called, num))
			continue;
		if (snprintf(cand[0], sizeof cand[0], "tel:%s", num) >=
		    (int)sizeof cand[0] ||
		    snprintf(cand[1], sizeof cand[1], "sip:%s@%s", num,
			     ten->domain) >= (int)sizeof cand[1])
			continue;
		for (size_t k = 0; k < 2; k++) {
			n = wic_lookup(cc->wic, cand[k], out, max);
			if (n && aor_size >= sizeof cand[k]) {
				memcpy(aor, cand[k], sizeof cand[k]);
				return n;
			}
		}
	}
	return 0;
}

/* The tenant's caller_display service on the caller's number (a tel: URI's
 * number, or a sip: URI's user part). */
static void in_caller_rewrite(struct call_core *cc, const char *tenant,
			      su_home_t *home, url_t *url)
{
	const char **num = url->url_type == url_tel && !url->url_user ?
			   &url->url_host : &url->url_user;
	char out[128];

	if (!tenant || !*num || !cc->hooks || !cc->hooks->in_caller ||
	    !cc->hooks->in_caller(cc->hooks_arg, tenant, *num, out, sizeof out))
		return;
	*num = su_strdup(home, out);
}

/* True when the caller asked that its identity be withheld (RFC 3323/3325). */
static bool in_private(const sip_t *sip)
{
	const sip_privacy_t *p = sip->sip_privacy;

	for (size_t i = 0; p && p->priv_values && p->priv_values[i]; i++)
		if (!strcasecmp(p->priv_values[i], "id") ||
		    !strcasecmp(p->priv_values[i], "user") ||
		    !strcasecmp(p->priv_values[i], "header"))
			return true;
	return false;
}

/*
 * The caller as the browser will see it: the asserted identity, else From.
 * With Privacy asked for, only From (which the caller made anonymous): the
 * browser is outside the trust domain.
 */
char *call_in_caller(struct call_core *cc, const char *tenant,
		     su_home_t *home, const sip_t *sip)
{
	const sip_p_asserted_identity_t *pai = in_private(sip) ? NULL :
		sip_p_asserted_identity(sip);
	url_t *url = url_hdup(home, pai ? pai->paid_url : sip->sip_from->a_url);
	const char *display = pai ? pai->paid_display : sip->sip_from->a_display;
	char *uri;

	if (url)
		in_caller_rewrite(cc, tenant, home, url);
	uri = url ? url_as_string(home, url) : NULL;

	if (!uri)
		return NULL;
	if (display && *display)
		return su_sprintf(home, "%s <%s>", display, uri);
	return su_sprintf(home, "<%s>", uri);
}

void call_in_fail(struct call *call, int status, const char *phrase,
		  const char *why)
{
	call->status = status;
	if (call_xfer_failed(call, status, phrase))
		return;
	if (call->state != CALL_ANSWERED) {
		w8_leg_respond(call->leg, status, phrase, NULL, NULL);
		call->w8_final_sent = true;
	}
	call_end(call, why);
}

/* The best final status of the branches of @p stage (busy and decline
 * first), 480 when none says more. */
static int in_best(const struct call *call, unsigned stage)
{
	int best = 0;

	for (size_t i = 0; i < call->branch_count; i++) {
		int s = call->branches[i]->status;
		if (call->branches[i]->stage != stage)
			continue;
		if (s == 486 || s == 600 || s == 603)
			return s;
		if (!best || (s >= 400 && s < best) || best < 400)
			best = s;
	}
	if (best < 300 || best == 503 || best == 408)
		best = 480;
	return best;
}

void call_in_all_failed(struct call *call, unsigned stage)
{
	call_route_stage_failed(call, in_best(call, stage));
}

static void in_win(struct call *call, struct call_branch *b, const sip_t *sip)
{
	const char *why = NULL;
	char *sdp = NULL;

	if (call_sdp_pass(call, CALL_TO_IMS, false, sip, &sdp, &why)) {
		/* The browser's answer cannot go to IMS: fail both sides. */
		wic_dialog_request(b->wd, "BYE", NULL, NULL, NULL, NULL, NULL, NULL);
		call_in_fail(call, 488, why, why);
		return;
	}
	if (call->route.plan && call->route.plan->kind == CALL_PLAN_GROUP)
		call_note(call, "ring_group", "answered by member %s", b->number);
	call->winner = b;
	call->wd = b->wd;
	call_index(call, b->wd);
	call_route_free(call);          /* no more timers or diversion */
	for (size_t i = 0; i < call->branch_count; i++) {
		struct call_branch *o = call->branches[i];
		if (o != b && !o->done && o->ct)
			wic_ctrans_cancel(o->ct, CALL_REASON_ELSEWHERE);
	}
	if (call->state == CALL_ANSWERED) {
		/* A transfer's target: it and the IMS party need fresh SDP. */
		if (call_join_start(call, CALL_PARTY_WIC, CALL_PARTY_LEG))
			w8_leg_reoffer(call->leg, sdp, false);
	} else
		w8_leg_respond(call->leg, 200, NULL, sdp, NULL);
	free(sdp);
	call_answered(call);
	snprintf(call->party, sizeof call->party, "%s", b->number);
	snprintf(call->aor, sizeof call->aor, "%s", b->aor);
	call_busy(call, true);
	call_log(call, "answered by a device of %s", b->number);
	call_xfer_answered(call);
}

static void in_branch_2xx(struct call *call, struct call_branch *b,
			  const sip_t *sip)
{
	if (b->done)
		return;       /* a retransmitted 2xx */
	b->done = true;
	b->ct = NULL;
	if (wic_dialog_confirm(b->wd, sip) == 0)
		wic_dialog_ack(b->wd, sip->sip_cseq->cs_seq, NULL);
	if (call->winner || call->state == CALL_ENDED) {
		/* Lost the race: ACKed above, now hung up. */
		wic_dialog_request(b->wd, "BYE", NULL, NULL, NULL, NULL, NULL, NULL);
		return;
	}
	in_win(call, b, sip);
}

static void in_branch_response(void *arg, struct wic_ctrans *ct, int status,
			       msg_t *msg, sip_t *sip)
{
	struct call_branch *b = arg;
	struct call *call = b->call;
	char *sdp;

	(void)ct;
	(void)msg;
	if (status < 200) {
		if (status > 100 && !call->winner && call->state < CALL_ANSWERED &&
		    !call->fwd) {
			const char *why = NULL;
			/* Early SDP that fails the checks is left out. */
			if (call_sdp_pass(call, CALL_TO_IMS, false, sip, &sdp, &why))
				sdp = NULL;
			w8_leg_respond(call->leg, status, NULL, sdp, NULL);
			free(sdp);
			call->state = CALL_EARLY;
		}
		return;
	}
	if (status < 300) {
		in_branch_2xx(call, b, sip);
		return;
	}
	b->done = true;
	b->ct = NULL;
	b->status = status;
	if (call->winner || b->stage != call->route.stage || call->fwd)
		return;          /* a branch of an earlier step, cancelled */
	for (size_t i = 0; i < call->branch_count; i++)
		if (call->branches[i]->stage == b->stage && !call->branches[i]->done)
			return;
	call_in_all_failed(call, b->stage);
}

/* Makes room for one more branch; NULL when memory runs out. */
static struct call_branch *in_branch_new(struct call *call)
{
	struct call_branch *b;

	if (call->branch_count == call->branch_cap) {
		size_t cap = call->branch_cap ? call->branch_cap * 2 : 8;
		void *p = realloc(call->branches, cap * sizeof *call->branches);
		if (!p)
			return NULL;
		call->branches = p;
		call->branch_cap = cap;
	}
	b = calloc(1, sizeof *b);
	if (b)
		call->branches[call->branch_count] = b;
	return b;
}

/* Rings one device of user @p number. */
static int in_branch(struct call *call, su_home_t *home,
		     const struct wic_target *tg, const char *number,
		     const char *aor)
{
	struct call_route *r = &call->route;
	struct call_branch *b = in_branch_new(call);
	char *extra = r->history ? su_sprintf(home, "History-Info: %s\r\n",
					      r->history) : NULL;
	struct wic_invite inv = {
		.request_uri = url_as_string(home, tg->contact->m_url),
		.from = r->caller,
		.to = su_sprintf(home, "<%s>", aor),
		.contact = CALL_CONTACT,
		.sdp = r->offer_wic,
		.extra = extra,
	};
	int err;

	if (!b)
		return ENOMEM;
	b->call = call;
	b->stage = r->stage;
	snprintf(b->number, sizeof b->number, "%s", number);
	snprintf(b->aor, sizeof b->aor, "%s", aor);
	err = wic_dialog_invite(tg->flow, &inv, in_branch_response, b, &b->wd,
				&b->ct);
	if (err)
		free(b);
	else
		call->branch_count++;
	return err;
}

size_t call_in_ring(struct call *call, const char *number)
{
	struct wic_target tg[CALL_MAX_DEVICES];
	su_home_t home[1] = { SU_HOME_INIT(home) };
	char aor[256];
	size_t n, rung = 0;

	n = call_in_lookup(call->cc, call->w8t, number, tg, CALL_MAX_DEVICES,
			   aor, sizeof aor);
	for (size_t i = 0; i < n; i++)
		rung += in_branch(call, home, &tg[i], number, aor) == 0;
	su_home_deinit(home);
	return rung;
}

void call_in_start(void *arg, struct w8_trunk *t, struct w8_leg *leg,
		   const char *called, const sip_t *sip)
{
	struct call_core *cc = arg;
	struct call *call = call_new(cc, CALL_IN);
	struct call_route *r;
	const sip_p_asserted_identity_t *pai;
	sip_from_t *from;
	char num[32];
	const char *why = NULL;

	if (!call) {
		w8_leg_respond(leg, SIP_500_INTERNAL_SERVER_ERROR, NULL, NULL);
		w8_leg_release(leg);
		return;
	}
	r = &call->route;
	call->leg = leg;
	call->w8t = t;
	call->trunk = w8_trunk_conf(t);
	w8_leg_bind(leg, in_w8_event, call);
	snprintf(call->aor, sizeof call->aor, "%s", called);
	r->offer_ims = call_payload(sip);
	if (call_sdp_pass(call, CALL_TO_WIC, true, sip, &r->offer_wic, &why)) {
		call_in_fail(call, 488, why, why);
		return;
	}
	if (!call_in_serves(cc, t, called, call->tenant, sizeof call->tenant, num))
		r->caller = call_in_caller(cc, call->tenant, call->home, sip);
	if (!r->caller)
		r->caller = "<sip:anonymous@anonymous.invalid>";
	call->remote = r->caller;
	from = sip_from_dup(call->home, sip->sip_from);
	if (from) {                 /* the caller, without its tag */
		from->a_params = NULL;
		from->a_tag = NULL;
		r->ims_from = sip_header_as_string(call->home,
						   (const sip_header_t *)from);
	}
	pai = sip_p_asserted_identity(sip);
	if (pai)
		r->ims_identity = url_as_string(call->home, pai->paid_url);
	call_route_history_in(call, sip);
	call_route_start(call, called);
}

static void in_w8_event(void *arg, struct w8_leg *leg, enum w8_event ev,
			int status, const char *phrase, const sip_t *sip)
{
	struct call *call = arg;

	(void)leg;
	if (call_join_w8_event(call, CALL_PARTY_LEG, ev, status, sip))
		return;
	if (call->fwd && call_fwd_in_event(call, ev, status, phrase, sip))
		return;
	if (call_dialog_w8_event(call, ev, status, phrase, sip))
		return;
	switch (ev) {
	case W8_EV_CANCELLED:
		call->w8_final_sent = true;
		call_end(call, "cancelled by the IMS caller");
		break;
	default:
		break;
	}
}

void call_leg_adopt(struct call *call, struct w8_leg *leg)
{
	w8_leg_bind(leg, call->dir == CALL_OUT ? call_out_w8_event : in_w8_event,
		    call);
}
