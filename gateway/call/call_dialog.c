/**
 * @file call_dialog.c  In-dialog requests relayed between the sides of an
 * answered call: BYE, re-INVITE (hold, resume, ICE restart), UPDATE, INFO.
 */
#include "call_priv.h"
#include "util/log.h"

#include <stdlib.h>
#include <string.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_tag.h>

static char *content_type(const sip_t *sip)
{
	return sip && sip->sip_content_type ?
	       strdup(sip->sip_content_type->c_type) : NULL;
}

/* A re-INVITE or UPDATE from the browser: its offer (if any) to IMS. */
static void relay_to_ims(struct call *call, struct wic_strans *st,
			 const char *m, const sip_t *sip)
{
	const char *why = NULL;
	char *sdp = NULL;

	if (call_sdp_pass(call, CALL_TO_IMS, true, sip, &sdp, &why)) {
		wic_strans_reply(st, 488, why, TAG_END());
		return;
	}
	call->pend.wst = st;
	w8_leg_reoffer(call->leg, sdp, m[0] == 'U');
	call_log(call, "%s from the browser relayed", m);
	free(sdp);
}

void call_dialog_wic_request(struct call *call, struct wic_strans *st,
			     const sip_t *sip)
{
	const char *m = sip->sip_request->rq_method_name;
	char *body = call_payload(sip), *ct = content_type(sip);

	if (!strcmp(m, "BYE")) {
		wic_strans_reply(st, SIP_200_OK, TAG_END());
		call->wic_gone = true;
		call_end(call, "the browser hung up");
	} else if (!strcmp(m, "INVITE") || !strcmp(m, "UPDATE")) {
		if (call->pend.wst || call->pend.wct || call->state != CALL_ANSWERED ||
		    call_join_busy(call)) {
			wic_strans_reply(st, SIP_491_REQUEST_PENDING, TAG_END());
		} else {
			relay_to_ims(call, st, m, sip);
		}
	} else if (!strcmp(m, "INFO")) {
		w8_leg_info(call->leg, ct, body);
		wic_strans_reply(st, SIP_200_OK, TAG_END());
	} else if (!strcmp(m, "REFER")) {
		call_xfer_refer(call, st, sip);
	} else if (!strcmp(m, "PRACK") || !strcmp(m, "OPTIONS")) {
		wic_strans_reply(st, SIP_200_OK, TAG_END());
	} else {
		wic_strans_reply(st, SIP_405_METHOD_NOT_ALLOWED, TAG_END());
	}
	free(body);
	free(ct);
}

/* The browser answered a re-INVITE or UPDATE that came from IMS. */
static void on_wic_reoffer_answer(void *arg, struct wic_ctrans *ctr,
				  int status, msg_t *msg, sip_t *sip)
{
	struct call *call = arg;
	const char *why = NULL;
	char *sdp = NULL;

	(void)ctr;
	(void)msg;
	if (status < 200)
		return;
	call->pend.wct = NULL;
	if (status < 300 && sip && sip->sip_cseq->cs_method == sip_method_invite)
		wic_dialog_ack(call->wd, sip->sip_cseq->cs_seq, NULL);
	if (status < 300 && call_sdp_pass(call, CALL_TO_IMS, false, sip, &sdp, &why))
		status = 488;       /* an answer IMS cannot be given */
	if (call->pend.w8_waiting)
		w8_leg_respond(call->leg, status, status == 488 ? why : NULL, sdp, NULL);
	call->pend.w8_waiting = false;
	free(sdp);
}

static void relay_to_wic(struct call *call, const char *method,
			 const sip_t *sip)
{
	char *body = NULL, *ct = content_type(sip);
	const char *why = NULL;
	int err;

	if (call->pend.wst || call->pend.wct || call_join_busy(call)) {
		w8_leg_respond(call->leg, SIP_491_REQUEST_PENDING, NULL, NULL);
	} else if (call_sdp_pass(call, CALL_TO_WIC, true, sip, &body, &why)) {
		w8_leg_respond(call->leg, 488, why, NULL, NULL);
	} else {
		call->pend.w8_waiting = true;
		err = wic_dialog_request(call->wd, method, ct ? ct : "application/sdp",
					 body, NULL, on_wic_reoffer_answer, call,
					 &call->pend.wct);
		if (err) {
			call->pend.w8_waiting = false;
			w8_leg_respond(call->leg, SIP_480_TEMPORARILY_UNAVAILABLE,
				       NULL, NULL);
		} else {
			call_log(call, "%s from IMS relayed", method);
		}
	}
	free(body);
	free(ct);
}

/* Events both directions handle alike: hang-ups and in-dialog requests.
 * Returns true when the event was handled here. */
bool call_dialog_w8_event(struct call *call, enum w8_event ev, int status,
			  const char *phrase, const sip_t *sip)
{
	char *body = NULL, *ct;

	switch (ev) {
	case W8_EV_BYE:
		call->w8_final_sent = true;    /* nua answers the BYE */
		call_end(call, "IMS hung up");
		return true;
	case W8_EV_TERMINATED:
		call->leg_done = true;
		call_end(call, "the IMS dialog ended");
		return true;
	case W8_EV_REINVITE_DONE:
		if (call->pend.wst) {
			const char *why = NULL;
			if (status < 300 &&
			    call_sdp_pass(call, CALL_TO_WIC, false, sip, &body, &why)) {
				status = 488;    /* IMS answered what a browser cannot use */
				phrase = why;
			}
			wic_strans_reply(call->pend.wst, status, phrase,
					 SIPTAG_CONTACT_STR(CALL_CONTACT),
					 TAG_IF(body, SIPTAG_CONTENT_TYPE_STR("application/sdp")),
					 TAG_IF(body, SIPTAG_PAYLOAD_STR(body)), TAG_END());
			free(body);
			call->pend.wst = NULL;
		}
		return true;
	case W8_EV_REINVITE:
	case W8_EV_UPDATE:
		if (ev == W8_EV_UPDATE && (call->state != CALL_ANSWERED || !call->wd)) {
			/* Not relayed before the answer, and the leg waits
			 * for an answer to it (RFC 3311 5.2: 500 and when to
			 * try again). */
			w8_leg_respond(call->leg, 500, "Not Before The Answer", NULL,
				       "Retry-After: 1\r\n");
			return true;
		}
		if (call->state != CALL_ANSWERED || !call->wd)
			return false;
		relay_to_wic(call, ev == W8_EV_REINVITE ? "INVITE" : "UPDATE", sip);
		return true;
	case W8_EV_INFO:
		if (call->wd && call->state == CALL_ANSWERED) {
			body = call_payload(sip);
			ct = content_type(sip);
			wic_dialog_request(call->wd, "INFO", ct, body, NULL, NULL,
					   NULL, NULL);
			free(body);
			free(ct);
		}
		return true;
	default:
		return false;
	}
}
