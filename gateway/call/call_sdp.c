/**
 * @file call_sdp.c  SDP crossing the B2BUA. Toward IMS, the browser's SDP
 * is checked and normalised by the trunk's policy (BUNDLE grouping removed,
 * codec allow-list); toward the browser, IMS's SDP must be WebRTC, since a
 * browser cannot use plain RTP. An answer must fit the offer it answers.
 * What the policy does not change passes byte for byte.
 */
#include "call_priv.h"
#include "conf/conf.h"
#include "media/media.h"
#include "util/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void sdp_policy(const struct call *call, enum call_side to,
		       struct media_policy *pol)
{
	const struct conf_trunk *t = call->trunk;

	memset(pol, 0, sizeof *pol);
	if (!t)
		return;
	pol->max_size = (size_t)t->max_sdp_size;
	if (to == CALL_TO_IMS) {
		pol->strip_bundle = t->strip_bundle;
		pol->codecs = (const char *const *)t->codecs;
	}
}

static void sdp_log(struct call *call, enum call_side to, bool offer,
		    const struct media_sdp *sdp)
{
	struct media_sdp **prev = to == CALL_TO_IMS ? &call->last_wic
						    : &call->last_ims;
	struct media_summary sum;
	char line[256];

	if (!log_enabled(LOG_INFO))
		return;   /* the summary is for the log line only */
	media_sdp_summary(sdp, *prev, &sum);
	media_summary_print(&sum, line, sizeof line);
	call_log(call, "%s toward %s: %s", offer ? "offer" : "answer",
		 to == CALL_TO_IMS ? "IMS" : "the browser", line);
}

/* Checks @p sdp for its role and, for an answer, against the offer. */
static int sdp_check(struct call *call, const struct media_sdp *sdp,
		     bool offer, const char **why)
{
	int err = media_sdp_check(sdp, offer ? MEDIA_SDP_OFFER : MEDIA_SDP_ANSWER,
				  why);

	if (!err && !offer && call->offer)
		err = media_sdp_check_answer(sdp, call->offer, why);
	return err;
}

int call_sdp_pass(struct call *call, enum call_side to, bool offer,
		  const sip_t *sip, char **out, const char **why)
{
	*out = NULL;
	if (!sip || !sip->sip_payload || !sip->sip_payload->pl_len)
		return 0;
	return call_sdp_pass_text(call, to, offer, sip->sip_payload->pl_data,
				  sip->sip_payload->pl_len,
				  !sip->sip_status || sip->sip_status->st_status >= 200,
				  out, why);
}

int call_sdp_pass_text(struct call *call, enum call_side to, bool offer,
		       const char *body, size_t len, bool final, char **out,
		       const char **why)
{
	struct media_sdp *in = NULL, *norm = NULL;
	struct media_sdp **last;
	struct media_policy pol;
	const char *text;
	int err;

	*out = NULL;
	sdp_policy(call, to, &pol);
	err = media_sdp_parse(&in, body, len, &pol, why);
	if (!err)
		err = sdp_check(call, in, offer, why);
	if (!err)
		err = media_sdp_normalise(&norm, in, &pol, why);
	if (err) {
		call_log(call, "%s from %s refused: %s", offer ? "offer" : "answer",
			 to == CALL_TO_IMS ? "the browser" : "IMS", *why);
		media_sdp_free(in);
		return err;
	}
	sdp_log(call, to, offer, norm);
	text = media_sdp_text(norm, NULL);
	*out = strdup(text);
	last = to == CALL_TO_IMS ? &call->last_wic : &call->last_ims;
	media_sdp_free(*last);
	*last = in;
	if (offer) {
		media_sdp_free(call->offer);
		call->offer = norm;
	} else {
		/* An early answer (18x) leaves the offer for the final one. */
		if (final) {
			media_sdp_free(call->offer);
			call->offer = NULL;
		}
		media_sdp_free(norm);
	}
	return *out ? 0 : ENOMEM;
}

void call_sdp_free(struct call *call)
{
	media_sdp_free(call->offer);
	media_sdp_free(call->last_wic);
	media_sdp_free(call->last_ims);
	call->offer = call->last_wic = call->last_ims = NULL;
}

char *call_sdp_last(const struct call *call, enum call_side from)
{
	const struct media_sdp *s = from == CALL_TO_WIC ? call->last_ims
							: call->last_wic;
	size_t len = 0;
	const char *text = s ? media_sdp_text(s, &len) : NULL;

	return text ? strndup(text, len) : NULL;
}
