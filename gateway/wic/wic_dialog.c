/**
 * @file wic_dialog.c  Dialogs with a WIC (RFC 3261 section 12): the state
 * needed to send in-dialog requests down its flow and to recognise the
 * requests it sends. A dialog names its flow by id, so a closed flow is
 * noticed rather than dereferenced.
 */
#include "wic_priv.h"
#include "util/sip_mclass.h"
#include "util/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sofia-sip/msg_header.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_protos.h>
#include <sofia-sip/sip_tag.h>
#include <sofia-sip/su_tagarg.h>

struct wic_dialog {
	su_home_t home[1];
	struct wic *wic;
	unsigned long flow_id;
	char *call_id;
	char *local_tag;
	char *remote_tag;            /**< NULL while an INVITE of ours is early */
	sip_from_t *local;           /**< our address, with our tag */
	sip_to_t *remote;            /**< theirs, without tag */
	url_t *target;               /**< their Contact */
	char *contact;               /**< ours */
	uint32_t cseq;               /**< last CSeq we used */
};

static struct wic_dialog *dialog_new(struct wic *wic, unsigned long flow_id)
{
	struct wic_dialog *d = calloc(1, sizeof *d);

	if (!d)
		return NULL;
	su_home_init(d->home);
	d->wic = wic;
	d->flow_id = flow_id;
	d->cseq = (uint32_t)(random() % 10000) + 1;
	return d;
}

void wic_dialog_destroy(struct wic_dialog *d)
{
	if (!d)
		return;
	su_home_deinit(d->home);
	free(d);
}

struct wic_flow *wic_dialog_flow(const struct wic_dialog *d)
{
	unsigned long id = d->flow_id;

	return g_hash_table_lookup(d->wic->flows, &id);
}

const char *wic_dialog_call_id(const struct wic_dialog *d)
{
	return d->call_id;
}

const char *wic_dialog_local_tag(const struct wic_dialog *d)
{
	return d->local_tag;
}

int wic_dialog_uas(struct wic_strans *st, const char *contact,
		   struct wic_dialog **dp)
{
	const sip_t *rq = sip_object(wic_strans_request(st));
	struct wic_flow *flow = wic_strans_flow(st);
	struct wic_dialog *d;

	if (!flow || !rq->sip_contact)
		return EINVAL;
	d = dialog_new(flow->wic, flow->id);
	if (!d)
		return ENOMEM;
	d->call_id = su_strdup(d->home, rq->sip_call_id->i_id);
	d->local_tag = su_strdup(d->home, wic_strans_to_tag(st));
	d->remote_tag = su_strdup(d->home, rq->sip_from->a_tag);
	d->local = sip_to_dup(d->home, rq->sip_to);
	d->remote = sip_from_dup(d->home, rq->sip_from);
	d->target = url_hdup(d->home, rq->sip_contact->m_url);
	d->contact = su_strdup(d->home, contact);
	if (!d->local || !d->remote || !d->target || !d->call_id ||
	    (!d->local->a_tag && sip_to_tag(d->home, d->local, d->local_tag) < 0)) {
		wic_dialog_destroy(d);
		return ENOMEM;
	}
	msg_header_remove_param(d->remote->a_common, "tag");
	*dp = d;
	return 0;
}

bool wic_dialog_matches(const struct wic_dialog *d, const sip_t *sip)
{
	return sip->sip_call_id && !strcmp(sip->sip_call_id->i_id, d->call_id) &&
	       sip->sip_to->a_tag && !strcmp(sip->sip_to->a_tag, d->local_tag) &&
	       (!d->remote_tag || (sip->sip_from->a_tag &&
				   !strcmp(sip->sip_from->a_tag, d->remote_tag)));
}

/* A request of this dialog with CSeq @p cseq, ready for a Via. */
static msg_t *dialog_msg(struct wic_dialog *d, const char *method,
			 uint32_t cseq, const char *content_type,
			 const char *body, const char *extra)
{
	msg_t *msg = msg_create(sip_mclass_extended(), 0);
	sip_t *sip = msg ? sip_object(msg) : NULL;
	su_home_t *h = msg ? msg_home(msg) : NULL;
	sip_method_t m = sip_method_code(method);
	sip_to_t *to;

	if (!sip)
		return NULL;
	to = sip_to_dup(h, d->remote);
	if (!to || (d->remote_tag && sip_to_tag(h, to, d->remote_tag) < 0) ||
	    sip_add_tl(msg, sip,
		SIPTAG_REQUEST(sip_request_create(h, m, method,
				(url_string_t const *)d->target, NULL)),
		SIPTAG_MAX_FORWARDS_STR("70"),
		SIPTAG_FROM(d->local), SIPTAG_TO(to),
		SIPTAG_CALL_ID_STR(d->call_id),
		SIPTAG_CSEQ(sip_cseq_create(h, cseq, m, method)),
		TAG_IF(m != sip_method_ack && m != sip_method_bye,
		       SIPTAG_CONTACT_STR(d->contact)),
		TAG_IF(extra, SIPTAG_HEADER_STR(extra)),
		TAG_IF(body, SIPTAG_CONTENT_TYPE_STR(content_type)),
		TAG_IF(body, SIPTAG_PAYLOAD_STR(body)), TAG_END()) < 0 ||
	    sip_complete_message(msg) < 0) {
		msg_destroy(msg);
		return NULL;
	}
	return msg;
}

int wic_dialog_request(struct wic_dialog *d, const char *method,
		       const char *content_type, const char *body,
		       const char *extra, wic_response_h *h, void *arg,
		       struct wic_ctrans **ctp)
{
	struct wic_flow *flow = wic_dialog_flow(d);
	msg_t *msg;

	if (!flow)
		return EPIPE;
	msg = dialog_msg(d, method, ++d->cseq, content_type, body, extra);
	if (!msg)
		return ENOMEM;
	return wic_ctrans_send(flow, msg, h, arg, ctp);
}

int wic_dialog_ack(struct wic_dialog *d, uint32_t cseq, const char *sdp)
{
	struct wic_flow *flow = wic_dialog_flow(d);
	msg_t *msg;
	int err;

	if (!flow)
		return EPIPE;
	msg = dialog_msg(d, "ACK", cseq, "application/sdp", sdp, NULL);
	if (!msg)
		return ENOMEM;
	err = wic_sip_via_add(msg);
	if (!err)
		err = wic_flow_send_msg(flow, msg);
	msg_destroy(msg);
	return err;
}

int wic_dialog_invite(struct wic_flow *flow, const struct wic_invite *inv,
		      wic_response_h *h, void *arg, struct wic_dialog **dp,
		      struct wic_ctrans **ctp)
{
	struct wic_dialog *d = dialog_new(flow->wic, flow->id);
	char tag[20], cid[40];
	msg_t *msg;
	int err;

	if (!d)
		return ENOMEM;
	wic_sip_token(tag, 12);
	wic_sip_token(cid, 24);
	d->call_id = su_strdup(d->home, cid);
	d->local_tag = su_strdup(d->home, tag);
	d->local = sip_from_make(d->home, inv->from);
	d->remote = sip_to_make(d->home, inv->to);
	d->target = url_hdup(d->home, (url_t *)url_make(d->home, inv->request_uri));
	d->contact = su_strdup(d->home, inv->contact);
	if (!d->local || !d->remote || !d->target ||
	    sip_from_tag(d->home, d->local, tag) < 0) {
		wic_dialog_destroy(d);
		return EINVAL;
	}
	msg = dialog_msg(d, "INVITE", d->cseq, "application/sdp", inv->sdp,
			 inv->extra);
	if (!msg) {
		wic_dialog_destroy(d);
		return ENOMEM;
	}
	err = wic_ctrans_send(flow, msg, h, arg, ctp);
	if (err) {
		wic_dialog_destroy(d);
		return err;
	}
	*dp = d;
	return 0;
}

int wic_dialog_confirm(struct wic_dialog *d, const sip_t *rsp)
{
	if (!rsp->sip_to || !rsp->sip_to->a_tag)
		return EINVAL;
	if (!d->remote_tag)
		d->remote_tag = su_strdup(d->home, rsp->sip_to->a_tag);
	if (rsp->sip_contact)
		d->target = url_hdup(d->home, rsp->sip_contact->m_url);
	return d->remote_tag && d->target ? 0 : ENOMEM;
}
