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

/* The AORs a called number may be registered as, for tenants on @p t. */
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

/*
 * Whether @p called is a number of a tenant on @p t: 0 yes, EPERM its
 * identity set is withdrawn, ENOENT no.
 */
static int in_is_ours(struct call_core *cc, const struct w8_trunk *t,
		      const char *called)
{
	char num[NUMRANGE_NUM_MAX];
	int res = ENOENT;

	for (size_t i = 0; i < cc->conf->tenant_count; i++) {
		int err = in_serves(cc, &cc->conf->tenants[i], t, called, num);
		if (!err)
			return 0;
		if (err == EPERM)
			res = EPERM;
	}
	return res;
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
static char *in_caller(struct call_core *cc, const char *tenant,
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

static void in_fail(struct call *call, int status, const char *phrase,
		    const char *why)
{
	w8_leg_respond(call->leg, status, phrase, NULL, NULL);
	call->w8_final_sent = true;
	call_end(call, why);
}

/* Every branch answered without success: the best final goes to IMS. */
static void in_all_failed(struct call *call)
{
	int best = 0;

	for (size_t i = 0; i < call->branch_count; i++) {
		int s = call->branches[i].status;
		if (s == 486 || s == 600 || s == 603) {
			best = s;
			break;
		}
		if (!best || (s >= 400 && s < best) || best < 400)
			best = s;
	}
	if (best < 300 || best == 503 || best == 408)
		best = 480;
	in_fail(call, best, NULL, "no device answered");
}

static void in_win(struct call *call, struct call_branch *b, const sip_t *sip)
{
	const char *why = NULL;
	char *sdp = NULL;

	if (call_sdp_pass(call, CALL_TO_IMS, false, sip, &sdp, &why)) {
		/* The browser's answer cannot go to IMS: fail both sides. */
		wic_dialog_request(b->wd, "BYE", NULL, NULL, NULL, NULL, NULL, NULL);
		in_fail(call, 488, why, why);
		return;
	}
	call->winner = b;
	call->wd = b->wd;
	call_index(call, b->wd);
	for (size_t i = 0; i < call->branch_count; i++) {
		struct call_branch *o = &call->branches[i];
		if (o != b && !o->done && o->ct)
			wic_ctrans_cancel(o->ct, CALL_REASON_ELSEWHERE);
	}
	w8_leg_respond(call->leg, 200, NULL, sdp, NULL);
	free(sdp);
	call->state = CALL_ANSWERED;
	call_log(call, "answered by a device of %s", call->aor);
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
		if (status > 100 && !call->winner && call->state != CALL_ENDED) {
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
	for (size_t i = 0; i < call->branch_count; i++)
		if (!call->branches[i].done)
			return;
	if (!call->winner)
		in_all_failed(call);
}

/* Rings one device. */
static int in_branch(struct call *call, su_home_t *home,
		     const struct wic_target *tg, const char *caller,
		     const char *sdp)
{
	struct call_branch *b = &call->branches[call->branch_count];
	struct wic_invite inv = {
		.request_uri = url_as_string(home, tg->contact->m_url),
		.from = caller,
		.to = su_sprintf(home, "<%s>", call->aor),
		.contact = CALL_CONTACT,
		.sdp = sdp,
	};
	int err;

	b->call = call;
	err = wic_dialog_invite(tg->flow, &inv, in_branch_response, b, &b->wd,
				&b->ct);
	if (!err)
		call->branch_count++;
	return err;
}

void call_in_start(void *arg, struct w8_trunk *t, struct w8_leg *leg,
		   const char *called, const sip_t *sip)
{
	struct call_core *cc = arg;
	struct wic_target tg[CALL_MAX_BRANCHES];
	su_home_t home[1] = { SU_HOME_INIT(home) };
	struct call *call = call_new(cc, CALL_IN);
	char *sdp = NULL, *caller;
	const char *why = NULL;
	size_t n;

	if (!call) {
		w8_leg_respond(leg, SIP_500_INTERNAL_SERVER_ERROR, NULL, NULL);
		w8_leg_release(leg);
		goto out;
	}
	call->leg = leg;
	call->trunk = w8_trunk_conf(t);
	w8_leg_bind(leg, in_w8_event, call);
	if (call_sdp_pass(call, CALL_TO_WIC, true, sip, &sdp, &why)) {
		snprintf(call->aor, sizeof call->aor, "%s", called);
		in_fail(call, 488, why, why);
		goto out;
	}
	n = call_in_lookup(cc, t, called, tg, CALL_MAX_BRANCHES, call->aor,
		      sizeof call->aor);
	call_log(call, "inbound call for %s: %zu device(s)", called, n);
	if (!n) {
		snprintf(call->aor, sizeof call->aor, "%s", called);
		int ours = in_is_ours(cc, t, called);
		if (!ours)
			in_fail(call, 480, "No Registered Device", "nobody registered");
		else if (ours == EPERM)
			in_fail(call, 404, "Identity Set Withdrawn",
				"the number's identity set is disabled");
		else
			in_fail(call, 404, "Not A Number Of This Gateway",
				"number outside every tenant's ranges");
		goto out;
	}
	caller = in_caller(cc, wic_flow_tenant(tg[0].flow) ?
			   wic_flow_tenant(tg[0].flow)->name : NULL, home, sip);
	for (size_t i = 0; i < n; i++)
		in_branch(call, home, &tg[i], caller ? caller : "<sip:anonymous@anonymous.invalid>",
			  sdp);
	if (!call->branch_count)
		in_fail(call, 480, "Devices Unreachable", "no branch could start");
out:
	free(sdp);
	su_home_deinit(home);
}

static void in_w8_event(void *arg, struct w8_leg *leg, enum w8_event ev,
			int status, const char *phrase, const sip_t *sip)
{
	struct call *call = arg;

	(void)leg;
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
