/**
 * @file wic_core.c  What the edge does with a request once the transaction
 * layer has it: REGISTER to the registrar, OPTIONS to the gateway answered
 * here, the rest checked against the flow's identity and handed to the call
 * core's handler.
 */
#include "wic_priv.h"
#include "conf/conf.h"
#include "util/log.h"

#include <errno.h>
#include <string.h>
#include <strings.h>
#include <sofia-sip/sip_extra.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_protos.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_tag.h>

#define WIC_ALLOW "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, UPDATE, " \
		  "PRACK, INFO, REFER, NOTIFY, MESSAGE"

/* True when @p uri names the flow's identity. */
static bool uri_is_identity(const struct wic_flow *flow, const url_t *uri)
{
	char aor[256];

	return !wic_sip_aor(NULL, uri, aor, sizeof aor) &&
	       wic_ident_names(&flow->ident, aor);
}

/* Checks From and P-Preferred-Identity against the flow's identity. */
static const char *identity_mismatch(const struct wic_flow *flow,
				     const sip_t *sip)
{
	if (flow->ident.how == WIC_AUTHN_NONE)
		return "Not Registered On This Flow";
	if (flow->ident.until && flow->ident.until <= time(NULL))
		return "Credentials Expired";
	/* A tenant with identity sets: only a REGISTER checks a token's
	 * claim against the ranges and who else holds the number, and grants
	 * one; a flow authenticated at its handshake has none until then. */
	if (!flow->ident.grant.number[0] && flow->ident.tenant &&
	    ident_managed(flow->wic->ident, flow->ident.tenant->conf->name))
		return "Register First: No Number Granted On This Flow";
	if (!uri_is_identity(flow, sip->sip_from->a_url))
		return "From Does Not Match Authenticated Identity";
	for (const sip_p_preferred_identity_t *p = sip_p_preferred_identity(sip);
	     p; p = p->ppid_next)
		if (!uri_is_identity(flow, p->ppid_url))
			return "P-Preferred-Identity Not Allowed";
	if (flow->ident.grant.number[0]) {
		struct ident_grant g;
		if (ident_lookup(flow->wic->ident, flow->ident.tenant->conf->name,
				 flow->ident.grant.number, &g) == EPERM)
			return "Identity Set Withdrawn";
	}
	return NULL;
}

/* The option-tags of this edge (Supported of OPTIONS, RFC 3261 8.2.2.3). */
static const char *const supported_tags[] = {
	"outbound", "path", "gruu", "replaces", NULL,
};

static bool tag_supported(const char *tag)
{
	for (size_t k = 0; supported_tags[k]; k++)
		if (!strcasecmp(supported_tags[k], tag))
			return true;
	return false;
}

/* The Require option-tags the edge does not support, comma-separated in
 * @p buf (which stays "" when it supports them all). */
static const char *unsupported_tags(const sip_t *sip, char *buf, size_t size)
{
	size_t o = 0;

	buf[0] = '\0';
	for (const sip_require_t *r = sip->sip_require; r; r = r->k_next)
		for (size_t i = 0; r->k_items && r->k_items[i]; i++)
			if (!tag_supported(r->k_items[i]) &&
			    o + strlen(r->k_items[i]) + 3 < size)
				o += (size_t)snprintf(buf + o, size - o, "%s%s",
						      o ? ", " : "", r->k_items[i]);
	return buf;
}

/* RFC 3261 8.2: what a UAS checks before anything else; false when it
 * answered (505, 420, 415). */
static bool request_acceptable(struct wic_flow *flow, struct wic_strans *st,
			       const sip_t *sip)
{
	const sip_request_t *rq = sip->sip_request;
	char tags[256];

	if (rq->rq_version && strcasecmp(rq->rq_version, "SIP/2.0")) {
		wic_strans_reply(st, SIP_505_VERSION_NOT_SUPPORTED, TAG_END());
		return false;
	}
	if (*unsupported_tags(sip, tags, sizeof tags)) {
		log_info("wic", flow->id, "%s requires %s: 420",
			 rq->rq_method_name, tags);
		wic_strans_reply(st, SIP_420_BAD_EXTENSION,
				 SIPTAG_UNSUPPORTED_STR(tags), TAG_END());
		return false;
	}
	/* a body the call core would read as SDP must say it is SDP */
	if ((rq->rq_method == sip_method_invite ||
	     rq->rq_method == sip_method_update ||
	     rq->rq_method == sip_method_prack) &&
	    sip->sip_payload && sip->sip_payload->pl_len && sip->sip_content_type &&
	    sip->sip_content_type->c_type &&
	    strcasecmp(sip->sip_content_type->c_type, "application/sdp")) {
		wic_strans_reply(st, SIP_415_UNSUPPORTED_MEDIA,
				 SIPTAG_ACCEPT_STR("application/sdp"), TAG_END());
		return false;
	}
	return true;
}

static void on_options(struct wic_strans *st)
{
	wic_strans_reply(st, SIP_200_OK, SIPTAG_ALLOW_STR(WIC_ALLOW),
			 SIPTAG_ACCEPT_STR("application/sdp"),
			 SIPTAG_SUPPORTED_STR("outbound, path, gruu"), TAG_END());
}

void wic_core_on_request(struct wic *wic, struct wic_flow *flow,
			 struct wic_strans *st, msg_t *msg, sip_t *sip)
{
	const sip_request_t *rq = sip->sip_request;
	const char *why;

	if (!st) {   /* ACK of a 2xx: dialogs are the call core's */
		if (wic->req_h && flow->ident.how != WIC_AUTHN_NONE)
			wic->req_h(wic->req_arg, flow, NULL, msg, sip);
		msg_destroy(msg);
		return;
	}
	if (!request_acceptable(flow, st, sip))
		return;
	if (rq->rq_method == sip_method_register) {
		wic_reg_on_register(wic->reg, flow, st, sip);
		return;
	}
	if (rq->rq_method == sip_method_options && !rq->rq_url->url_user) {
		on_options(st);
		return;
	}
	why = identity_mismatch(flow, sip);
	if (why) {
		log_warn("wic", flow->id, "%s from %s refused: %s",
			 rq->rq_method_name, flow->peer, why);
		flow->wic->auth_fail[WIC_AUTH_NOT_COVERED]++;
		wic_strans_reply(st, 403, why, TAG_END());
		return;
	}
	while (sip_p_asserted_identity(sip))   /* never trusted from a WIC */
		sip_header_remove(msg, sip,
				  (sip_header_t *)sip_p_asserted_identity(sip));
	if (wic->req_h)
		wic->req_h(wic->req_arg, flow, st, msg, sip);
	else
		wic_strans_reply(st, SIP_501_NOT_IMPLEMENTED, TAG_END());
}

bool wic_core_on_cancel(struct wic *wic, struct wic_flow *flow,
			struct wic_strans *inv, msg_t *msg, sip_t *sip)
{
	if (!wic->req_h || flow->ident.how == WIC_AUTHN_NONE)
		return false;
	wic->req_h(wic->req_arg, flow, inv, msg, sip);
	return true;
}
