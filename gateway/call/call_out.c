/**
 * @file call_out.c  Outbound calls, WIC -> IMS: an INVITE from an
 * authenticated flow becomes a new INVITE on the tenant's trunk.
 */
#include "call_priv.h"
#include "conf/conf.h"
#include "util/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_tag.h>

/* Answers the WIC's INVITE with @p sdp (may be NULL). */
static void reply_wic_sdp(struct call *call, int status, const char *phrase,
			  char *sdp)
{
	wic_strans_reply(call->wst, status, phrase,
			 SIPTAG_CONTACT_STR(CALL_CONTACT),
			 TAG_IF(sdp, SIPTAG_CONTENT_TYPE_STR("application/sdp")),
			 TAG_IF(sdp, SIPTAG_PAYLOAD_STR(sdp)), TAG_END());
	free(sdp);
	if (status >= 200) {
		call->wst = NULL;
		call->status = status;
	}
}

/*
 * Relays a response with IMS's answer to the browser. An answer a browser
 * cannot use fails the call on both sides (488 to the browser, BYE with a
 * Reason to IMS); in a provisional response it is only left out.
 */
static bool reply_wic(struct call *call, int status, const char *phrase,
		      const sip_t *sip)
{
	const char *why = NULL;
	char *sdp = NULL;
	char reason[160];

	if (!call_sdp_pass(call, CALL_TO_WIC, false, sip, &sdp, &why)) {
		reply_wic_sdp(call, status, phrase, sdp);
		return true;
	}
	if (status < 200) {
		reply_wic_sdp(call, status, phrase, NULL);
		return true;
	}
	reply_wic_sdp(call, 488, why, NULL);
	snprintf(reason, sizeof reason, "SIP;cause=488;text=\"%s\"", why);
	w8_leg_hangup(call->leg, reason);
	call->w8_final_sent = true;
	call_end(call, why);
	return false;
}

/* The dialled target: the Request-URI's user part, or a tel: number. */
static const char *dialled(const sip_t *sip)
{
	const url_t *u = sip->sip_request->rq_url;

	if (u->url_type == url_tel)
		return u->url_user ? u->url_user : u->url_host;
	return u->url_user;
}

void call_out_w8_event(void *arg, struct w8_leg *leg, enum w8_event ev,
		       int status, const char *phrase, const sip_t *sip)
{
	struct call *call = arg;
	char why[96];

	(void)leg;
	if (call_dialog_w8_event(call, ev, status, phrase, sip))
		return;
	switch (ev) {
	case W8_EV_PROGRESS:
		if (status > 100 && call->wst) {
			call->state = CALL_EARLY;
			reply_wic(call, status, phrase, sip);
		}
		break;
	case W8_EV_ANSWERED:
		if (call->wst && !reply_wic(call, status, phrase, sip))
			break;      /* the call failed on the answer */
		call_answered(call);
		call_busy(call, true);
		call_log(call, "answered by IMS");
		break;
	case W8_EV_FAILED:
		/* Retry-After (503, 486, 480...) tells the browser when to
		 * try again; it names no IMS host, so it passes. */
		call->status = call_status_map(status);
		if (call->wst)
			wic_strans_reply(call->wst, call->status, phrase,
					 TAG_IF(sip && sip->sip_retry_after,
						SIPTAG_RETRY_AFTER(sip ? sip->sip_retry_after : NULL)),
					 TAG_END());
		call->wst = NULL;
		snprintf(why, sizeof why, "IMS answered %d %s", status, phrase);
		call_end(call, why);
		break;
	default:
		break;
	}
}

/* True when @p target is a user of this gateway with a registered device. */
static bool out_is_local(struct call *call, const struct w8_trunk *trunk,
			 const char *target)
{
	struct wic_target tg[1];
	char aor[256];

	return call_in_lookup(call->cc, trunk, target, tg, 1, aor, sizeof aor) > 0;
}

/* Starts the W8 leg; answers the WIC and returns an error when it cannot. */
static int out_invite(struct call *call, struct wic_flow *flow,
		      const sip_t *sip, const char *target)
{
	const struct conf_tenant *tenant = wic_flow_tenant(flow);
	const char *tname = wic_flow_trunk(flow);   /* the identity set's */
	struct w8_trunk *trunk = w8_trunk_get(call->cc->w8, tname ? tname :
					      tenant ? tenant->trunk : NULL);
	const char *why = NULL;
	char *sdp = NULL;
	int err;

	call->trunk = trunk ? w8_trunk_conf(trunk) : NULL;
	call->w8t = trunk;
	call->remote = strncmp(target, "sip:", 4) && strncmp(target, "tel:", 4) ?
		su_sprintf(call->home, "<tel:%s>", target) :
		su_sprintf(call->home, "<%s>", target);
	if (call_sdp_pass(call, CALL_TO_IMS, true, sip, &sdp, &why)) {
		call->status = 488;
		wic_strans_reply(call->wst, 488, why, TAG_END());
		return EPROTO;
	}
	struct w8_call_params p = {
		.target = target, .identity = call->aor,
		.display = sip->sip_from->a_display,
		.privacy = sip->sip_privacy ? sip_header_as_string(call->home,
				(sip_header_t const *)sip->sip_privacy) : NULL,
		.sdp = sdp,
	};
	if (trunk && tenant && tenant->local_calls && out_is_local(call, trunk, target))
		err = w8_leg_invite_local(trunk, &p, target, call_out_w8_event,
					  call, &call->leg);
	else
		err = trunk ? w8_leg_invite(trunk, &p, call_out_w8_event, call,
					    &call->leg) : ENETDOWN;

	free(sdp);
	call->status = err == ENETDOWN ? 503 : err == EINVAL ? 484 : err ? 500 : 0;
	if (err == ENETDOWN)
		wic_strans_reply(call->wst, 503, "Trunk Unavailable",
				 SIPTAG_RETRY_AFTER_STR("30"), TAG_END());
	else if (err == EINVAL)
		wic_strans_reply(call->wst, 484, "Invalid Number", TAG_END());
	else if (err)
		wic_strans_reply(call->wst, SIP_500_INTERNAL_SERVER_ERROR, TAG_END());
	else
		call_log(call, "outbound call from %s to %s via trunk %s",
			 call->aor, target, w8_trunk_name(trunk));
	return err;
}

/*
 * The services' say on what the browser dialled: the target toward IMS, or
 * a refusal (non-zero: @p r->status and phrase to answer with).
 */
static int out_route(struct call *call, struct wic_flow *flow,
		     const char *dialled, struct call_out_route *r)
{
	const struct call_core *cc = call->cc;
	const struct conf_tenant *t = wic_flow_tenant(flow);

	memset(r, 0, sizeof *r);
	snprintf(r->target, sizeof r->target, "%s", dialled);
	if (!cc->hooks || !cc->hooks->out_route || !t)
		return 0;
	cc->hooks->out_route(cc->hooks_arg, t->name, dialled, r);
	if (r->status)
		return r->status;
	if (r->emergency) {
		call_log(call, "emergency number %s: passed untouched", dialled);
		call_note(call, "emergency", "%s passed untouched", dialled);
	} else if (strcmp(r->target, dialled)) {
		call_log(call, "dial plan: %s -> %s", dialled, r->target);
		call_note(call, "transformation", "%s -> %s", dialled, r->target);
	}
	return 0;
}

/* The caller's tenant and number, for its busy state. */
static void out_party(struct call *call, struct wic_flow *flow)
{
	const struct conf_tenant *t = wic_flow_tenant(flow);
	const char *aor = call->aor, *p = strchr(aor, ':');
	size_t n;

	if (!t || !p)
		return;
	p++;
	n = strcspn(p, "@;");
	snprintf(call->tenant, sizeof call->tenant, "%s", t->name);
	if (n < sizeof call->party)
		snprintf(call->party, sizeof call->party, "%.*s", (int)n, p);
}

void call_out_start(struct call_core *cc, struct wic_flow *flow,
		    struct wic_strans *st, const sip_t *sip)
{
	const char *target = dialled(sip);
	struct call *call = call_new(cc, CALL_OUT);
	struct call_out_route route;

	if (!call) {
		wic_strans_reply(st, SIP_500_INTERNAL_SERVER_ERROR, TAG_END());
		return;
	}
	call->wst = st;
	snprintf(call->aor, sizeof call->aor, "%s", wic_flow_identity(flow));
	out_party(call, flow);
	if (call_tenant_full(call)) {
		char ra[32];

		log_warn("call", call->id, "tenant %s has its max_calls: 503",
			 call->tenant);
		wic_strans_reply(st, 503, "Too Many Calls For The Tenant",
				 SIPTAG_HEADER_STR(call_retry_after(call, ra,
								     sizeof ra)),
				 TAG_END());
		call->status = 503;
		call->wst = NULL;
		call_end(call, "tenant max_calls reached");
		return;
	}
	if (!target || !*target) {
		wic_strans_reply(st, 484, "No Number Dialled", TAG_END());
		call->status = 484;
		call->wst = NULL;
		call_end(call, "no number dialled");
		return;
	}
	if (out_route(call, flow, target, &route)) {
		wic_strans_reply(st, route.status, route.phrase, TAG_END());
		call->status = route.status;
		call_note(call, "transformation", "%s refused: %d %s", target,
			  route.status, route.phrase ? route.phrase : "");
		call->wst = NULL;
		call_end(call, route.phrase);
		return;
	}
	target = route.target;
	if (wic_dialog_uas(st, CALL_CONTACT, &call->wd)) {
		wic_strans_reply(st, 400, "Missing Contact", TAG_END());
		call->status = 400;
		call->wst = NULL;
		call_end(call, "INVITE without Contact");
		return;
	}
	call_index(call, call->wd);
	if (out_invite(call, flow, sip, target)) {
		call->wst = NULL;
		call_end(call, "no W8 leg");
	}
}
