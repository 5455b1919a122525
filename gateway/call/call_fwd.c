/**
 * @file call_fwd.c  A call diverted out of the gateway: the IMS caller's
 * leg (call->leg) is joined to a new leg toward the diversion target
 * (call->fwd) on the same trunk. Both are IMS endpoints, so SDP passes
 * between them as it is; answers, hang-ups and in-dialog requests
 * (re-INVITE, UPDATE, INFO) are relayed from one leg to the other.
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

static char *ctype(const sip_t *sip)
{
	return sip && sip->sip_content_type ?
	       strdup(sip->sip_content_type->c_type) : NULL;
}

/* A re-INVITE or UPDATE from one leg, offered to the other; the first
 * leg waits for its answer (@p waiting). */
static void fwd_relay_offer(struct call *call, struct w8_leg *from,
			    struct w8_leg *to, bool *waiting, bool update,
			    const sip_t *sip)
{
	char *sdp;

	if (call->state != CALL_ANSWERED || call->fwd_waiting ||
	    call->pend.w8_waiting || call_join_busy(call)) {
		w8_leg_respond(from, 491, NULL, NULL, NULL);
		return;
	}
	sdp = call_payload(sip);
	if (w8_leg_reoffer(to, sdp, update))
		w8_leg_respond(from, 500, NULL, NULL, NULL);
	else
		*waiting = true;
	free(sdp);
}

/* The answer to a relayed offer goes back to the leg that waits for it. */
static void fwd_relay_answer(struct w8_leg *to, bool *waiting, int status,
			     const char *phrase, const sip_t *sip)
{
	char *sdp;

	if (!*waiting)
		return;
	*waiting = false;
	sdp = status < 300 ? call_payload(sip) : NULL;
	w8_leg_respond(to, status, phrase, sdp, NULL);
	free(sdp);
}

static void fwd_info(struct w8_leg *to, const sip_t *sip)
{
	char *body = call_payload(sip), *ct = ctype(sip);

	w8_leg_info(to, ct, body);
	free(body);
	free(ct);
}

/* The target's answer: to the caller (or, after a transfer, a re-INVITE
 * of the party already connected). */
static void fwd_answered(struct call *call, const sip_t *sip)
{
	char *sdp = call_payload(sip);

	if (call->state == CALL_ANSWERED) {
		/* A transfer's target: it and the IMS party need fresh SDP. */
		if (call_join_start(call, CALL_PARTY_FWD, CALL_PARTY_LEG))
			w8_leg_reoffer(call->leg, sdp, false);
	} else
		w8_leg_respond(call->leg, 200, NULL, sdp, NULL);
	free(sdp);
	call_answered(call);
	call_log(call, "answered by the diversion target");
	call_xfer_answered(call);
}

static void fwd_event(void *arg, struct w8_leg *leg, enum w8_event ev,
		      int status, const char *phrase, const sip_t *sip)
{
	struct call *call = arg;
	char *sdp, why[96];

	(void)leg;
	switch (ev) {
	case W8_EV_PROGRESS:
		if (status > 100 && call->state < CALL_ANSWERED) {
			sdp = call_payload(sip);
			w8_leg_respond(call->leg, status, phrase, sdp, NULL);
			free(sdp);
			call->state = CALL_EARLY;
		}
		break;
	case W8_EV_ANSWERED:
		fwd_answered(call, sip);
		break;
	case W8_EV_FAILED:
		call->fwd_done = true;
		snprintf(why, sizeof why, "the diversion target answered %d", status);
		call_in_fail(call, call_status_map(status), phrase, why);
		break;
	case W8_EV_BYE:
	case W8_EV_TERMINATED:
		call->fwd_done = true;
		call_end(call, "the diversion target hung up");
		break;
	case W8_EV_REINVITE:
	case W8_EV_UPDATE:
		fwd_relay_offer(call, call->fwd, call->leg, &call->fwd_waiting,
				ev == W8_EV_UPDATE, sip);
		break;
	case W8_EV_REINVITE_DONE:
		if (call_join_w8_event(call, CALL_PARTY_FWD, ev, status, sip))
			break;
		fwd_relay_answer(call->leg, &call->pend.w8_waiting, status,
				 phrase, sip);
		break;
	case W8_EV_INFO:
		fwd_info(call->leg, sip);
		break;
	default:
		break;
	}
}

void call_fwd_adopt(struct call *call, struct w8_leg *leg)
{
	w8_leg_bind(leg, fwd_event, call);
}

bool call_fwd_in_event(struct call *call, enum w8_event ev, int status,
		       const char *phrase, const sip_t *sip)
{
	switch (ev) {
	case W8_EV_BYE:
		call->w8_final_sent = true;
		call_end(call, "IMS hung up");
		return true;
	case W8_EV_TERMINATED:
		call->leg_done = true;
		call_end(call, "the IMS dialog ended");
		return true;
	case W8_EV_CANCELLED:
		call->w8_final_sent = true;
		call_end(call, "cancelled by the IMS caller");
		return true;
	case W8_EV_REINVITE:
	case W8_EV_UPDATE:
		fwd_relay_offer(call, call->leg, call->fwd, &call->pend.w8_waiting,
				ev == W8_EV_UPDATE, sip);
		return true;
	case W8_EV_REINVITE_DONE:
		fwd_relay_answer(call->fwd, &call->fwd_waiting, status, phrase, sip);
		return true;
	case W8_EV_INFO:
		fwd_info(call->fwd, sip);
		return true;
	default:
		return false;
	}
}

/* The identity the diverted INVITE asserts: inside the trust domain the
 * caller's own; otherwise the diverting number, which is ours to assert. */
static char *fwd_identity(struct call *call)
{
	const struct conf_tenant *t = conf_tenant_find(call->cc->conf, call->tenant);
	const struct call_route *r = &call->route;

	if (call->trunk && call->trunk->trusted && r->ims_identity)
		return su_strdup(call->home, r->ims_identity);
	return su_sprintf(call->home, "sip:%s@%s", r->served,
			  t ? t->domain : call->trunk ? call->trunk->domain : "invalid");
}

int call_fwd_start(struct call *call, const char *target)
{
	struct call_route *r = &call->route;
	struct w8_trunk *t = w8_trunk_get(call->cc->w8, w8_trunk_name(call->w8t));
	bool div = call->trunk && call->trunk->diversion_header;
	char *extra = r->history ?
		su_sprintf(call->home, "History-Info: %s\r\n%s%s%s", r->history,
			   div ? "Diversion: " : "", div ? r->diversion : "",
			   div ? "\r\n" : "") : NULL;
	struct w8_call_params p = {
		.target = target,
		.identity = fwd_identity(call),
		.from = r->ims_from,
		.sdp = r->offer_ims,
		.extra = extra,
	};
	int err;

	if (!t)
		return ENETDOWN;
	err = w8_leg_invite(t, &p, fwd_event, call, &call->fwd);
	if (err)
		call->fwd = NULL;
	else
		call_log(call, "diverted call leaves via trunk %s toward %s",
			 w8_trunk_name(t), target);
	return err;
}
