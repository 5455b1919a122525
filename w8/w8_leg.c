/**
 * @file w8_leg.c  Call legs on the trunk: one nua handle per dialog with
 * IMS, SDP passed through untouched, events reported to the call core.
 */
#include "w8_priv.h"
#include "conf/conf.h"
#include "util/log.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sofia-sip/msg_header.h>
#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_util.h>
#include <sofia-sip/su_tagarg.h>


void w8_leg_free(struct w8_leg *leg)
{
	w8_overload_ack_wait(leg, false);
	if (leg->le_prev) {         /* off the trunk's list */
		*leg->le_prev = leg->le_next;
		if (leg->le_next)
			leg->le_next->le_prev = leg->le_prev;
		leg->le_prev = NULL;
	}
	if (leg->update)
		msg_destroy(leg->update);
	leg->update = NULL;
	if (leg->loop) {
		w8_loop_forget(leg);
		free(leg);
		return;
	}
	if (leg->nh) {
		nua_handle_bind(leg->nh, NULL);
		nua_handle_destroy(leg->nh);
	}
	free(leg);
}

void w8_leg_report(struct w8_leg *leg, enum w8_event ev, int status,
		       const char *phrase, const sip_t *sip)
{
	if (leg->h && !leg->released)
		leg->h(leg->arg, leg, ev, status, phrase, sip);
}

struct w8_leg *w8_leg_new(struct w8_trunk *t)
{
	struct w8_leg *leg = calloc(1, sizeof *leg);

	if (leg) {
		leg->obj.kind = W8_OBJ_LEG;
		leg->trunk = t;
		leg->le_next = t->legs;
		if (t->legs)
			t->legs->le_prev = &leg->le_next;
		leg->le_prev = &t->legs;
		t->legs = leg;
	}
	return leg;
}

static void leg_set_call_id(struct w8_leg *leg, const sip_t *sip)
{
	if (sip && sip->sip_call_id && !leg->call_id[0])
		snprintf(leg->call_id, sizeof leg->call_id, "%s",
			 sip->sip_call_id->i_id);
}

/* The Request-URI for a dialled @p target. */
static char *target_uri(su_home_t *home, const struct conf_trunk *c,
			const char *target)
{
	if (!strncmp(target, "sip:", 4) || !strncmp(target, "sips:", 5) ||
	    !strncmp(target, "tel:", 4))
		return su_strdup(home, target);
	if (!*target)
		return NULL;
	for (const char *p = target; *p; p++) {
		if (isdigit((unsigned char)*p) || (p == target && *p == '+') ||
		    *p == '*' || *p == '#')
			continue;
		/* Not a number: a user name in the home domain, if it is a
		 * plain token (letters, digits, - . _). */
		for (const char *q = target; *q; q++)
			if (!isalnum((unsigned char)*q) && !strchr("-._", *q))
				return NULL;
		return su_sprintf(home, "sip:%s@%s", target, c->domain);
	}
	if (c->tel_uri)
		return su_sprintf(home, "tel:%s", target);
	return su_sprintf(home, "sip:%s@%s;user=phone", target, c->domain);
}

/* The user part of an identity (tel: number or sip: user), or NULL. */
static const char *identity_user(su_home_t *home, const char *identity)
{
	url_t *u = url_hdup(home, (url_t *)url_make(home, identity));

	if (!u)
		return NULL;
	return u->url_type == url_tel ? (u->url_user ? u->url_user : u->url_host)
				      : u->url_user;
}

/* Route toward the serving P-CSCF. The Service-Route (RFC 3608) follows
 * it without us: nua appends the trunk registration's stored Service-Route
 * to every initial request (nua_client_request_sendmsg, whatever
 * NUTAG_SERVICE_ROUTE_ENABLE says); adding t->reg.service_route here too
 * sent it twice. */
static char *initial_route(su_home_t *home, const struct w8_trunk *t,
			   const struct w8_pcscf *p)
{
	(void)t;
	return su_strdup(home, p->route);
}

/*
 * The browser's display name as one clean quoted-string: its quotes (if it
 * came quoted) taken off, line breaks of a folded line dropped, escapes
 * kept, a bare quote or backslash escaped. NULL (no display name) for one
 * that could pass for an address toward IMS: '<', '>', '@' or ':' in it,
 * or another control character.
 */
static char *display_quoted(su_home_t *home, const char *d)
{
	size_t n = strlen(d), o = 0;
	char *out;

	if (n >= 2 && d[0] == '"' && d[n - 1] == '"') {
		d++;
		n -= 2;
	}
	for (size_t i = 0; i < n; i++)
		if (strchr("<>@:", d[i]) || ((unsigned char)d[i] < 0x20 &&
		    d[i] != '\r' && d[i] != '\n' && d[i] != '\t') || d[i] == 0x7f)
			return NULL;
	out = su_alloc(home, 2 * n + 3);
	if (!out)
		return NULL;
	out[o++] = '"';
	for (size_t i = 0; i < n; i++) {
		if (d[i] == '\r' || d[i] == '\n')
			continue;
		if (d[i] == '\\' && i + 1 < n && d[i + 1] != '\r' && d[i + 1] != '\n') {
			out[o++] = d[i++];
			out[o++] = d[i];
			continue;
		}
		if (d[i] == '"' || d[i] == '\\')
			out[o++] = '\\';
		out[o++] = d[i];
	}
	out[o++] = '"';
	out[o] = '\0';
	return out;
}

int w8_leg_invite(struct w8_trunk *t, const struct w8_call_params *p,
		  w8_leg_h *h, void *arg, struct w8_leg **legp)
{
	su_home_t home[1] = { SU_HOME_INIT(home) };
	const struct w8_pcscf *pc = w8_pcscf_serving(t);
	const char *idh = t->conf->trusted ? "P-Asserted-Identity"
					   : "P-Preferred-Identity";
	char *ruri, *from, *to, *ident, *disp;
	struct w8_leg *leg;

	if (!pc || t->withdrawn)
		return ENETDOWN;
	ruri = target_uri(home, t->conf, p->target);
	if (!ruri) {
		su_home_deinit(home);
		return EINVAL;
	}
	/* RFC 3323: a caller asking for privacy is anonymous in From; the
	 * asserted identity still goes to IMS, which is trusted to withhold it. */
	if (p->from)
		from = su_strdup(home, p->from);
	else if (p->privacy && (strcasestr(p->privacy, "id") || strcasestr(p->privacy, "user") ||
			   strcasestr(p->privacy, "header")))
		from = su_strdup(home, "\"Anonymous\" <sip:anonymous@anonymous.invalid>");
	else
		from = p->display && *p->display &&
		       (disp = display_quoted(home, p->display)) ?
			su_sprintf(home, "%s <%s>", disp, p->identity)
			  : su_sprintf(home, "<%s>", p->identity);
	/* In angle brackets: a bare URI's parameters (;user=phone) would
	 * become header parameters of To. */
	to = su_sprintf(home, "<%s>", ruri);
	ident = su_sprintf(home, "%s: <%s>", idh, p->identity);
	leg = w8_leg_new(t);
	/* NUTAG_RETRY_COUNT(0): nua restarts no request of the leg. Left to
	 * itself it follows a 302/305 to the Contact IMS names (a new INVITE
	 * the number plan never saw) and holds a 5xx with Retry-After under
	 * 32 s to send the INVITE again then, the browser left waiting: the
	 * call core answers those to the browser instead. */
	if (leg)
		leg->nh = nua_handle(t->nua, (nua_hmagic_t *)&leg->obj,
				     SIPTAG_TO_STR(to), SIPTAG_FROM_STR(from),
				     NUTAG_RETRY_COUNT(0), TAG_END());
	if (!leg || !leg->nh) {
		if (leg)
			w8_leg_free(leg);
		su_home_deinit(home);
		return ENOMEM;
	}
	leg->h = h;
	leg->arg = arg;
	leg->pcscf = (size_t)(pc - t->pcscf);
	/* Our Contact names the caller, not the range (no ;bnc): requests of
	 * the dialog come back for this user. */
	nua_invite(leg->nh, NUTAG_URL(ruri),
		   NUTAG_INITIAL_ROUTE_STR(initial_route(home, t, pc)),
		   SIPTAG_CONTACT_STR(w8_contact_via(home, t, pc,
						     identity_user(home, p->identity))),
		   SIPTAG_HEADER_STR(ident),
		   TAG_IF(p->extra, SIPTAG_HEADER_STR(p->extra)),
		   TAG_IF(p->privacy, SIPTAG_PRIVACY_STR(p->privacy)),
		   TAG_IF(p->sdp, SIPTAG_CONTENT_TYPE_STR("application/sdp")),
		   TAG_IF(p->sdp, SIPTAG_PAYLOAD_STR(p->sdp)), TAG_END());
	su_home_deinit(home);
	*legp = leg;
	return 0;
}

void w8_leg_bind(struct w8_leg *leg, w8_leg_h *h, void *arg)
{
	leg->h = h;
	leg->arg = arg;
}

int w8_leg_respond(struct w8_leg *leg, int status, const char *phrase,
		   const char *sdp, const char *extra)
{
	su_home_t home[1] = { SU_HOME_INIT(home) };
	msg_t *update = leg->loop ? NULL : leg->update;
	bool dialog = !update && leg->incoming && !leg->answered &&
		      status > 100 && status < 300;

	if (leg->loop)
		return w8_loop_respond(leg, status, phrase, sdp);
	if (leg->terminated)
		return EPIPE;
	if (!update && leg->incoming && status >= 200 && status < 300 &&
	    !leg->answered) {
		leg->answered = true;
		w8_overload_ack_wait(leg, true);
	}
	if (update && status >= 200)
		leg->update = NULL;
	/* nua keeps the phrase's pointer, not a copy, until its stack makes
	 * the response, later in the loop: a phrase borrowed from an event or
	 * a message (a response relayed from the other side) is gone by then.
	 * The handle's home keeps a copy as long as the dialog. */
	if (phrase)
		phrase = su_strdup(nua_handle_home(leg->nh), phrase);
	nua_respond(leg->nh, status, phrase,
		    TAG_IF(update, NUTAG_WITH(update)),
		    /* IMS asked for reliable provisionals: nua sends them and
		     * takes the PRACKs. */
		    TAG_IF(leg->require_100rel && status > 100 && status < 200 &&
			   !update, SIPTAG_REQUIRE_STR("100rel")),
		    TAG_IF(dialog, SIPTAG_CONTACT_STR(w8_contact(home, leg->trunk,
								 leg->called))),
		    TAG_IF(sdp, SIPTAG_CONTENT_TYPE_STR("application/sdp")),
		    TAG_IF(sdp, SIPTAG_PAYLOAD_STR(sdp)),
		    TAG_IF(extra, SIPTAG_HEADER_STR(extra)), TAG_END());
	if (!update && leg->incoming && !leg->answered)
		w8_ring_note(leg, status, phrase, sdp, extra);
	if (update && status >= 200)
		msg_destroy(update);
	su_home_deinit(home);
	return 0;
}

int w8_leg_reoffer(struct w8_leg *leg, const char *sdp, bool update)
{
	if (leg->loop)
		return w8_loop_reoffer(leg, sdp, update);
	if (leg->terminated)
		return EPIPE;
	if (update)
		nua_update(leg->nh, TAG_IF(sdp, SIPTAG_CONTENT_TYPE_STR("application/sdp")),
			   TAG_IF(sdp, SIPTAG_PAYLOAD_STR(sdp)), TAG_END());
	else
		nua_invite(leg->nh, NUTAG_AUTOACK(1),
			   TAG_IF(sdp, SIPTAG_CONTENT_TYPE_STR("application/sdp")),
			   TAG_IF(sdp, SIPTAG_PAYLOAD_STR(sdp)), TAG_END());
	return 0;
}

int w8_leg_ask_offer(struct w8_leg *leg)
{
	if (leg->loop)
		return ENOTSUP;
	if (leg->terminated || !leg->answered)
		return EPIPE;
	if (leg->ack_pending)
		return EBUSY;
	/* The ACK waits for w8_leg_ack(): it carries our answer. */
	leg->ack_pending = true;
	nua_invite(leg->nh, NUTAG_AUTOACK(0), TAG_END());
	return 0;
}

int w8_leg_ack(struct w8_leg *leg, const char *sdp)
{
	if (!leg->ack_pending)
		return EALREADY;
	leg->ack_pending = false;
	if (leg->terminated)
		return EPIPE;
	nua_ack(leg->nh, TAG_IF(sdp, SIPTAG_CONTENT_TYPE_STR("application/sdp")),
		TAG_IF(sdp, SIPTAG_PAYLOAD_STR(sdp)), TAG_END());
	return 0;
}

int w8_leg_info(struct w8_leg *leg, const char *content_type, const char *body)
{
	if (leg->loop)
		return w8_loop_info(leg, content_type, body);
	if (leg->terminated)
		return EPIPE;
	nua_info(leg->nh, TAG_IF(content_type, SIPTAG_CONTENT_TYPE_STR(content_type)),
		 TAG_IF(body, SIPTAG_PAYLOAD_STR(body)), TAG_END());
	return 0;
}

int w8_leg_hangup(struct w8_leg *leg, const char *reason)
{
	if (leg->loop)
		return w8_loop_hangup(leg, reason);
	if (leg->terminated)
		return EALREADY;
	if (leg->answered)
		nua_bye(leg->nh, TAG_IF(reason, SIPTAG_REASON_STR(reason)), TAG_END());
	else if (leg->incoming)
		nua_respond(leg->nh, SIP_487_REQUEST_TERMINATED,
			    TAG_IF(reason, SIPTAG_REASON_STR(reason)), TAG_END());
	else
		nua_cancel(leg->nh, TAG_IF(reason, SIPTAG_REASON_STR(reason)), TAG_END());
	return 0;
}

void w8_leg_release(struct w8_leg *leg)
{
	if (leg->loop && !leg->terminated)
		w8_loop_hangup(leg, NULL);   /* the far end hears of it */
	if (leg->loop)
		leg->terminated = true;
	leg->released = true;
	leg->h = NULL;
	if (leg->terminated)
		w8_leg_free(leg);
}

const char *w8_leg_call_id(const struct w8_leg *leg)
{
	return leg->call_id;
}

/* A transaction with the serving P-CSCF failed in a way that blames it. */
static void leg_blame_pcscf(struct w8_leg *leg, int status)
{
	const char *why = status == 408 ? "INVITE timed out" : "INVITE got 503";

	if (status != 408 && status != 503)
		return;
	/* With one P-CSCF there is nowhere to fail over to: marking it down
	 * would refuse every call until the next OPTIONS answer for one lost
	 * INVITE. Its OPTIONS probe alone says whether it is down. */
	if (leg->trunk->pcscf_count < 2)
		return;
	/* an INVITE of ours: the P-CSCF it went through, whichever serves
	 * now; a re-INVITE on an incoming leg: the serving one */
	if (leg->incoming)
		w8_pcscf_failed(leg->trunk, why);
	else
		w8_pcscf_down(leg->trunk, leg->pcscf, why);
}

static void leg_on_invite_response(struct w8_leg *leg, int status,
				   const char *phrase, const sip_t *sip)
{
	leg_set_call_id(leg, sip);
	if (leg->answered) {
		if (status >= 300)
			leg->ack_pending = false;    /* nua ACKs failures */
		w8_leg_report(leg, W8_EV_REINVITE_DONE, status, phrase, sip);
	} else if (status < 200) {
		w8_leg_report(leg, W8_EV_PROGRESS, status, phrase, sip);
	} else if (status < 300) {
		leg->answered = true;
		w8_leg_report(leg, W8_EV_ANSWERED, status, phrase, sip);
	} else {
		if (!sip || !sip->sip_via || status == 408)
			leg_blame_pcscf(leg, status);
		w8_leg_report(leg, W8_EV_FAILED, status, phrase, sip);
	}
}

/*
 * An UPDATE from IMS, left to us (NUTAG_APPL_METHOD in w8.c): kept until the call
 * core answers it with w8_leg_respond(). Answered here when nobody will:
 * 491 while another UPDATE waits, 481 once the call core let go.
 */
/* A body the call core would read as SDP must say it is SDP (RFC 3261
 * 21.4.13: 415 with Accept otherwise). */
static bool body_is_sdp(const sip_t *sip)
{
	const sip_content_type_t *ct = sip->sip_content_type;

	return !sip->sip_payload || !sip->sip_payload->pl_len || !ct ||
	       !ct->c_type || !strcasecmp(ct->c_type, "application/sdp");
}

static void respond_415(nua_handle_t *nh, msg_t *req)
{
	nua_respond(nh, SIP_415_UNSUPPORTED_MEDIA,
		    SIPTAG_ACCEPT_STR("application/sdp"),
		    TAG_IF(req, NUTAG_WITH(req)), TAG_END());
}

static void leg_on_update(struct w8_leg *leg, const sip_t *sip)
{
	msg_t *req = nua_current_request(leg->trunk->nua);

	if (!req)
		return;
	if (!body_is_sdp(sip)) {
		respond_415(leg->nh, req);
		return;
	}
	if (leg->update || leg->released || !leg->h) {
		nua_respond(leg->nh, leg->update ? 491 : 481,
			    leg->update ? "Request Pending" : "Call Does Not Exist",
			    NUTAG_WITH(req), TAG_END());
		return;
	}
	leg->update = msg_ref_create(req);
	w8_leg_report(leg, W8_EV_UPDATE, 0, NULL, sip);
}

/*
 * RFC 4028 7.4: a refresh carries the session interval in force. nua puts
 * the handle's NUTAG_SESSION_TIMER (the trunk's session_expires) in its
 * refreshing UPDATE whatever was negotiated, so the interval the far end
 * settled on becomes the handle's own each time a dialog request carries
 * one.
 */
static void leg_keep_interval(struct w8_leg *leg, const sip_t *sip)
{
	const sip_session_expires_t *x = sip ? sip->sip_session_expires : NULL;

	if (x && x->x_delta >= W8_MIN_SE && leg->nh)
		nua_set_hparams(leg->nh, NUTAG_SESSION_TIMER(x->x_delta),
				TAG_END());
}

static void leg_terminated(struct w8_leg *leg)
{
	if (leg->terminated)
		return;
	w8_overload_ack_wait(leg, false);
	/* Reported before it is marked: a call core that releases the leg
	 * from its handler must not free it under our feet. */
	w8_leg_report(leg, W8_EV_TERMINATED, 0, NULL, NULL);
	leg->terminated = true;
	if (leg->released)
		w8_leg_free(leg);
}

void w8_leg_event(struct w8_leg *leg, nua_event_t ev, int status,
		  const char *phrase, const sip_t *sip)
{
	if (status < 300 && ev != nua_i_terminated)
		leg_keep_interval(leg, sip);
	switch (ev) {
	case nua_r_invite:
		leg_on_invite_response(leg, status, phrase, sip);
		break;
	case nua_r_update:
		w8_leg_report(leg, W8_EV_REINVITE_DONE, status, phrase, sip);
		break;
	case nua_i_invite:
		if (leg->update) {
			/* An offer crossing the UPDATE's (RFC 3311 5.2). */
			nua_respond(leg->nh, SIP_491_REQUEST_PENDING,
				    NUTAG_WITH(nua_current_request(leg->trunk->nua)),
				    TAG_END());
			break;
		}
		if (!body_is_sdp(sip)) {
			respond_415(leg->nh, nua_current_request(leg->trunk->nua));
			break;
		}
		w8_leg_report(leg, W8_EV_REINVITE, 0, NULL, sip);
		break;
	case nua_i_update:
		leg_on_update(leg, sip);
		break;
	case nua_i_info:
		w8_leg_report(leg, W8_EV_INFO, 0, NULL, sip);
		break;
	case nua_i_ack:
		w8_overload_ack_wait(leg, false);
		w8_leg_report(leg, W8_EV_ACKED, 0, NULL, sip);
		break;
	case nua_i_cancel:
		w8_leg_report(leg, W8_EV_CANCELLED, 0, NULL, sip);
		break;
	case nua_i_bye:
		w8_leg_report(leg, W8_EV_BYE, 0, NULL, sip);
		break;
	case nua_i_terminated:
		leg_terminated(leg);
		break;
	default:
		break;
	}
}

/* The called number: Request-URI user part (RFC 6140), else the To's. */
static const char *called_of(const sip_t *sip)
{
	const url_t *ru = sip->sip_request ? sip->sip_request->rq_url : NULL;

	if (ru && ru->url_type == url_tel)
		return ru->url_user ? ru->url_user : ru->url_host;
	if (ru && ru->url_user && *ru->url_user)
		return ru->url_user;
	return sip->sip_to->a_url->url_user;
}

void w8_leg_incoming(struct w8_trunk *t, nua_handle_t *nh, const sip_t *sip)
{
	msg_t *req = nua_current_request(t->nua);
	const char *called = called_of(sip);
	struct w8_leg *leg;

	if (!w8_pcscf_is_source(t, req)) {
		log_warn("w8", 0, "trunk %s: INVITE from a host that is not a "
			 "configured P-CSCF: 403", t->conf->name);
		nua_respond(nh, 403, "Not From A Configured P-CSCF", TAG_END());
		nua_handle_destroy(nh);
		return;
	}
	if (!body_is_sdp(sip)) {
		log_info("w8", 0, "trunk %s: INVITE with a %s body: 415", t->conf->name,
			 sip->sip_content_type->c_type);
		respond_415(nh, NULL);
		nua_handle_destroy(nh);
		return;
	}
	if (t->withdrawn) {
		nua_respond(nh, 503, "Trunk Withdrawn", TAG_END());
		nua_handle_destroy(nh);
		return;
	}
	if (w8_overload_refuse(t)) {
		nua_respond(nh, 503, "Overloaded", TAG_END());
		nua_handle_destroy(nh);
		return;
	}
	if (t->stopping || !t->w8->in_h || !called) {
		nua_respond(nh, SIP_480_TEMPORARILY_UNAVAILABLE, TAG_END());
		nua_handle_destroy(nh);
		return;
	}
	leg = w8_leg_new(t);
	if (!leg) {
		nua_respond(nh, SIP_500_INTERNAL_SERVER_ERROR, TAG_END());
		nua_handle_destroy(nh);
		return;
	}
	leg->nh = nh;
	leg->incoming = true;
	snprintf(leg->called, sizeof leg->called, "%s", called);
	leg->require_100rel = sip->sip_require &&
			      sip_has_feature(sip->sip_require, "100rel");
	leg_set_call_id(leg, sip);
	nua_handle_bind(nh, (nua_hmagic_t *)&leg->obj);
	t->w8->in_h(t->w8->in_arg, t, leg, called, sip);
}
