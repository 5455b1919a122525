/**
 * @file call_join.c  Fresh media between the two parties a transfer joins
 * (RFC 3725 third-party call control).
 *
 * A transfer leaves two parties that never exchanged SDP with each other:
 * each holds what it negotiated with someone else, and an answer (or an
 * ICE or DTLS role) meant for another peer does not fit. So one party is
 * asked for a fresh offer (a re-INVITE without SDP), the offer goes to the
 * other in a re-INVITE, and that one's answer returns in the ACK of the
 * first. The offerer is the browser when there is one (its WebRTC stack
 * makes a complete offer); between two IMS parties it is the target's leg.
 */
#include "call_priv.h"
#include "util/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>

enum join_step { JOIN_NONE, JOIN_WANT_OFFER, JOIN_WANT_ANSWER };

static struct w8_leg *join_leg(struct call *call, enum call_party p)
{
	return p == CALL_PARTY_FWD ? call->fwd : call->leg;
}

/* The exchange failed: the parties cannot talk, so the call ends. */
static void join_fail(struct call *call, const char *why)
{
	struct w8_leg *off = call->join.offerer == CALL_PARTY_WIC ? NULL :
			     join_leg(call, call->join.offerer);

	call->join.step = JOIN_NONE;
	if (off)
		w8_leg_ack(off, NULL);
	if (call->join.offerer == CALL_PARTY_WIC && call->join.cseq && call->wd)
		wic_dialog_ack(call->wd, call->join.cseq, NULL);
	call_log(call, "the transferred parties' media failed: %s", why);
	call_end(call, "the transfer's media could not be set up");
}

static void join_done(struct call *call)
{
	call->join.step = JOIN_NONE;
	call->join.cseq = 0;
	call_log(call, "the transferred parties exchanged fresh SDP");
}

/* The offer of @p body goes to the answerer (always an IMS leg). */
static void join_offer_to(struct call *call, char *sdp)
{
	struct w8_leg *to = join_leg(call, call->join.answerer);

	call->join.step = JOIN_WANT_ANSWER;
	if (!sdp || w8_leg_reoffer(to, sdp, false))
		join_fail(call, sdp ? "the re-INVITE could not be sent"
				    : "no offer in the 2xx");
	free(sdp);
}

/* The browser's 2xx to our re-INVITE without SDP: its offer. */
static void join_on_wic_offer(void *arg, struct wic_ctrans *ctr, int status,
			      msg_t *msg, sip_t *sip)
{
	struct call *call = arg;
	const char *why = "no offer in the 2xx";
	char *sdp = NULL;

	(void)ctr;
	(void)msg;
	if (status < 200 || call->join.step != JOIN_WANT_OFFER)
		return;
	call->pend.wct = NULL;
	if (status >= 300 || !sip) {
		call->join.cseq = 0;
		join_fail(call, "the browser refused the re-INVITE");
		return;
	}
	call->join.cseq = sip->sip_cseq->cs_seq;
	if (call_sdp_pass(call, CALL_TO_IMS, true, sip, &sdp, &why) || !sdp) {
		free(sdp);
		join_fail(call, why);
		return;
	}
	join_offer_to(call, sdp);
}

int call_join_start(struct call *call, enum call_party offerer,
		    enum call_party answerer)
{
	int err;

	if (call->join.step != JOIN_NONE || call->pend.wct || call->pend.wst)
		return EBUSY;
	call->join.offerer = offerer;
	call->join.answerer = answerer;
	call->join.cseq = 0;
	if (offerer == CALL_PARTY_WIC)
		err = call->wd ? wic_dialog_request(call->wd, "INVITE", NULL, NULL,
						    NULL, join_on_wic_offer, call,
						    &call->pend.wct) : EPIPE;
	else
		err = w8_leg_ask_offer(join_leg(call, offerer));
	if (err)
		return err;
	call->join.step = JOIN_WANT_OFFER;
	call_log(call, "asking the %s for a fresh offer for the transferred call",
		 offerer == CALL_PARTY_WIC ? "browser" : "IMS party");
	return 0;
}

bool call_join_busy(const struct call *call)
{
	return call->join.step != JOIN_NONE;
}

/* The answerer's 2xx: its answer goes in the offerer's ACK. */
static void join_answered(struct call *call, const sip_t *sip)
{
	const char *why = "no answer in the 2xx";
	char *sdp = NULL;

	if (call->join.offerer != CALL_PARTY_WIC) {
		sdp = call_payload(sip);
		if (!sdp) {
			join_fail(call, why);
			return;
		}
		w8_leg_ack(join_leg(call, call->join.offerer), sdp);
	} else if (call_sdp_pass(call, CALL_TO_WIC, false, sip, &sdp, &why) || !sdp) {
		free(sdp);
		join_fail(call, why);
		return;
	} else if (!call->wd || wic_dialog_ack(call->wd, call->join.cseq, sdp)) {
		free(sdp);
		join_fail(call, "the browser is gone");
		return;
	}
	free(sdp);
	join_done(call);
}

bool call_join_w8_event(struct call *call, enum call_party from,
			enum w8_event ev, int status, const sip_t *sip)
{
	if (ev != W8_EV_REINVITE_DONE || call->join.step == JOIN_NONE)
		return false;
	if (call->join.step == JOIN_WANT_OFFER && from == call->join.offerer) {
		if (status >= 300) {
			join_fail(call, "the IMS party refused the re-INVITE");
			return true;
		}
		join_offer_to(call, call_payload(sip));
		return true;
	}
	if (call->join.step == JOIN_WANT_ANSWER && from == call->join.answerer) {
		if (status >= 300)
			join_fail(call, "the IMS party refused the offer");
		else
			join_answered(call, sip);
		return true;
	}
	return false;
}

void call_join_abort(struct call *call)
{
	if (call->join.step == JOIN_NONE)
		return;
	call->join.step = JOIN_NONE;
	if (call->join.offerer != CALL_PARTY_WIC) {
		struct w8_leg *off = join_leg(call, call->join.offerer);
		if (off)
			w8_leg_ack(off, NULL);
	}
}
