/**
 * @file call_xfer.c  Transfer by a browser (RFC 3515 REFER, RFC 5589).
 *
 * The party on IMS stays; the browser (the transferor) leaves. A blind
 * transfer moves the IMS leg to a new call toward the Refer-To target (a
 * user or ring group of the gateway, or a number through the trunk); when
 * the target answers, the IMS party is re-INVITEd with its SDP. An
 * attended transfer (Refer-To with Replaces, RFC 3891, naming another call
 * of the same browser) joins the two IMS legs and re-INVITEs each with the
 * other's SDP. Progress goes to the transferor in NOTIFYs with a
 * message/sipfrag body; a blind transfer that fails gives the IMS leg back
 * to the transferor's call while it still exists.
 */
#include "call_priv.h"
#include "conf/conf.h"
#include "util/log.h"
#include "util/numrange.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_tag.h>

/* Tells the transferor how the transfer goes (RFC 3515 section 2.4.5). */
static void xfer_notify(struct call *call, int status, const char *phrase,
			bool final)
{
	char body[128], extra[160];

	if (!call || !call->wd || call->wic_gone || call->state == CALL_ENDED)
		return;
	snprintf(body, sizeof body, "SIP/2.0 %d %s\r\n", status,
		 phrase ? phrase : sip_status_phrase(status) ?
		 sip_status_phrase(status) : "Unknown");
	snprintf(extra, sizeof extra, "Event: refer;id=%u\r\n"
		 "Subscription-State: %s\r\n", call->xfer_cseq,
		 final ? "terminated;reason=noresource" : "active;expires=60");
	wic_dialog_request(call->wd, "NOTIFY", "message/sipfrag;version=2.0",
			   body, extra, NULL, NULL, NULL);
}

static struct call *xfer_origin(const struct call *nc)
{
	unsigned long id = nc->xfer_from;

	return id ? g_hash_table_lookup(nc->cc->calls, &id) : NULL;
}

void call_xfer_answered(struct call *nc)
{
	struct call *old = xfer_origin(nc);

	if (!nc->xfer_from)
		return;
	nc->xfer_from = 0;
	call_log(nc, "transfer completed");
	xfer_notify(old, 200, NULL, true);
}

bool call_xfer_failed(struct call *nc, int status, const char *phrase)
{
	struct call *old = xfer_origin(nc);

	if (!nc->xfer_from)
		return false;
	nc->xfer_from = 0;
	xfer_notify(old, status, phrase, true);
	if (old && !old->leg && nc->leg && old->state == CALL_ANSWERED &&
	    !old->wic_gone) {
		/* The IMS party never left the transferor: give it back. */
		old->leg = nc->leg;
		nc->leg = NULL;
		call_leg_adopt(old, old->leg);
		call_log(old, "transfer failed (%d): the call stays", status);
	}
	call_end(nc, "transfer failed");
	return true;
}

void call_xfer_ended(struct call *nc)
{
	struct call *old = xfer_origin(nc);

	if (!nc->xfer_from)
		return;
	nc->xfer_from = 0;
	xfer_notify(old, 487, NULL, true);
	if (old && !old->leg)
		call_end(old, "the transferred party is gone");
}

/* A call that holds the IMS leg taken from @p call, already answered. */
static struct call *xfer_call(struct call *call)
{
	struct call *nc = call_new(call->cc, CALL_IN);

	if (!nc)
		return NULL;
	call_answered(nc);
	nc->w8t = call->w8t;
	nc->trunk = call->trunk;
	snprintf(nc->tenant, sizeof nc->tenant, "%s", call->tenant);
	/* Whose transfer it is, until a blind one names its target. */
	snprintf(nc->aor, sizeof nc->aor, "%s", call->aor);
	call_cdr_legs(call);     /* the leg leaves: keep it in the record */
	nc->leg = call->leg;
	call->leg = NULL;
	call_leg_adopt(nc, nc->leg);
	return nc;
}

/* The number (or URI) a Refer-To names, copied into @p home: the REFER
 * (and @p u in it) is freed once the 202 ends its transaction. */
static const char *xfer_target(su_home_t *home, const url_t *u)
{
	if (u->url_type == url_tel)
		return su_strdup(home, u->url_user ? u->url_user : u->url_host);
	if (u->url_user && *u->url_user)
		return su_strdup(home, u->url_user);
	return url_as_string(home, (url_t *)u);
}

/* The transferee as browsers see it in From: a SIP URI, for JsSIP (like
 * most WebRTC stacks) parses no tel: URI there and drops the INVITE; a
 * tel: URI's number becomes a user=phone URI at the IMS home domain (RFC
 * 3261 section 19.1.6). Copied into the new call's home: the transferor's
 * call, whose home holds @p remote, may end long before the new call's
 * routing (no-answer diversion, hunting) is done with it. */
static const char *xfer_caller(struct call *nc, const char *remote)
{
	const char *tel = remote ? strstr(remote, "<tel:") : NULL;
	const char *dom = nc->trunk && nc->trunk->domain ? nc->trunk->domain :
			  "invalid";

	if (!remote)
		return "<sip:anonymous@anonymous.invalid>";
	if (!tel)
		return su_strdup(nc->home, remote);
	return su_sprintf(nc->home, "%.*s<sip:%.*s@%s;user=phone>",
			  (int)(tel - remote), remote,
			  (int)strcspn(tel + 5, ";>"), tel + 5, dom);
}

static void xfer_blind(struct call *call, struct wic_strans *st,
		       const char *target)
{
	struct call *nc;
	struct call_route *r;
	char num[NUMRANGE_NUM_MAX], tenant[64], mine[32];
	const char *why = NULL;
	char *sdp = call_sdp_last(call, CALL_TO_WIC);

	if (!sdp || !(nc = xfer_call(call))) {
		free(sdp);
		wic_strans_reply(st, 500, "Transfer Not Possible", TAG_END());
		return;
	}
	wic_strans_reply(st, 202, NULL, TAG_END());
	xfer_notify(call, 100, NULL, false);
	r = &nc->route;
	nc->xfer_from = call->id;
	r->offer_ims = sdp;
	r->caller = xfer_caller(nc, call->remote);
	r->ims_from = call->remote ? su_strdup(nc->home, call->remote) : r->caller;
	nc->remote = r->caller;     /* should the new browser transfer again */
	snprintf(r->served, sizeof r->served, "%s", call->party);
	snprintf(nc->aor, sizeof nc->aor, "%s", target);
	call_note(call, "transfer", "blind to %s: call %s", target, nc->corr);
	call_note(nc, "transfer", "blind from call %s to %s", call->corr, target);
	call_log(call, "blind transfer of the IMS party to %s: call %lu", target,
		 nc->id);
	if (call_sdp_pass_text(nc, CALL_TO_WIC, true, sdp, strlen(sdp), true,
			       &r->offer_wic, &why))
		r->offer_wic = NULL;        /* internal targets then fail */
	if (numrange_norm(target, num) &&
	    !call_in_serves(nc->cc, nc->w8t, num, tenant, sizeof tenant, mine))
		call_route_start(nc, num);
	else
		call_route_external(nc, target);
}

/* "callid;to-tag=T;from-tag=F" (unescaped): the call of that dialog. */
static struct call *xfer_replaced(struct call_core *cc, const char *rep)
{
	char *v = g_strdup(rep), *semi = strchr(v, ';');
	const char *tags[2] = { NULL, NULL };
	struct call *other = NULL;

	if (semi) {
		*semi = '\0';
		for (char *p = strtok(semi + 1, ";"); p; p = strtok(NULL, ";")) {
			if (!g_ascii_strncasecmp(p, "to-tag=", 7))
				tags[0] = p + 7;
			else if (!g_ascii_strncasecmp(p, "from-tag=", 9))
				tags[1] = p + 9;
		}
	}
	for (size_t i = 0; i < 2 && !other; i++) {
		if (!tags[i])
			continue;
		char *key = g_strdup_printf("%s;%s", v, tags[i]);
		other = g_hash_table_lookup(cc->by_dialog, key);
		g_free(key);
	}
	g_free(v);
	return other;
}

static bool xfer_joinable(const struct call *a, const struct call *b)
{
	return a && b && a != b && a->state == CALL_ANSWERED &&
	       b->state == CALL_ANSWERED && a->leg && b->leg && !a->fwd &&
	       !b->fwd && a->wd && b->wd &&
	       wic_dialog_flow(a->wd) == wic_dialog_flow(b->wd);
}

static void xfer_attended(struct call *call, struct wic_strans *st,
			  const char *replaces)
{
	struct call *other = xfer_replaced(call->cc, replaces), *nc;
	char *sdp1, *sdp2;

	if (!xfer_joinable(call, other)) {
		wic_strans_reply(st, 403, "Unknown Replaces Dialog", TAG_END());
		call_log(call, "attended transfer refused: no call of this "
			 "browser matches Replaces '%s'", replaces);
		return;
	}
	sdp1 = call_sdp_last(call, CALL_TO_WIC);
	sdp2 = call_sdp_last(other, CALL_TO_WIC);
	nc = sdp1 && sdp2 ? xfer_call(call) : NULL;
	if (!nc) {
		free(sdp1);
		free(sdp2);
		wic_strans_reply(st, 500, "Transfer Not Possible", TAG_END());
		return;
	}
	wic_strans_reply(st, 202, NULL, TAG_END());
	call_cdr_legs(other);
	nc->fwd = other->leg;
	other->leg = NULL;
	call_fwd_adopt(nc, nc->fwd);
	if (call_join_start(nc, CALL_PARTY_FWD, CALL_PARTY_LEG)) {
		/* Local calls' legs: each gets the other's last SDP. */
		w8_leg_reoffer(nc->leg, sdp2, false);
		w8_leg_reoffer(nc->fwd, sdp1, false);
	}
	free(sdp1);
	free(sdp2);
	call_note(call, "transfer", "attended with call %s: call %s", other->corr,
		  nc->corr);
	call_note(other, "transfer", "replaced: call %s", nc->corr);
	call_note(nc, "transfer", "attended: calls %s and %s joined", call->corr,
		  other->corr);
	call_log(call, "attended transfer: the IMS parties of calls %lu and %lu "
		 "joined in call %lu", call->id, other->id, nc->id);
	xfer_notify(call, 200, NULL, true);
	call_end(other, "replaced by an attended transfer");
}

void call_xfer_refer(struct call *call, struct wic_strans *st, const sip_t *sip)
{
	su_home_t home[1] = { SU_HOME_INIT(home) };
	const sip_refer_to_t *rt = sip->sip_refer_to;
	const char *h;

	if (!rt || !rt->r_url->url_scheme) {
		wic_strans_reply(st, 400, "Missing Refer-To", TAG_END());
	} else if (call->state != CALL_ANSWERED || !call->leg || call->pend.wst ||
		   call->pend.wct) {
		wic_strans_reply(st, 491, "Call Not Transferable Now", TAG_END());
	} else {
		call->xfer_cseq = sip->sip_cseq->cs_seq;
		h = rt->r_url->url_headers;
		if (h && !g_ascii_strncasecmp(h, "Replaces=", 9)) {
			char *rep = su_strdup(home, h + 9), *amp = strchr(rep, '&');
			if (amp)
				*amp = '\0';
			url_unescape(rep, rep);
			xfer_attended(call, st, rep);
		} else {
			xfer_blind(call, st, xfer_target(home, rt->r_url));
		}
	}
	su_home_deinit(home);
}
