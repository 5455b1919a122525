/**
 * @file wic_sip.c  SIP messages on the WebSocket edge: parsing a frame with
 * Sofia's parser, checking it, and building and printing responses.
 */
#include "wic_priv.h"
#include "util/strjoin.h"
#include "util/sip_mclass.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sofia-sip/msg_addr.h>
#include <sofia-sip/msg_header.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_protos.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_util.h>
#include <sofia-sip/su_tagarg.h>

/* Fragments of a prepared message gathered without a heap array: a
 * response has a few dozen headers; more fall back to msg_as_string(). */
#define WIC_SIP_MAX_FRAGS 128

/* True when a response could be sent back for this request. */
static bool sip_addressable(const sip_t *sip)
{
	return sip->sip_via && sip->sip_from && sip->sip_to &&
	       sip->sip_call_id && sip->sip_cseq;
}

/*
 * The first header Sofia could not take, as a reason phrase. The list has
 * headers that did not parse (error headers, named by er_name) and second
 * instances of headers that come once, such as Max-Forwards, which keep
 * their own class: those have no er_name.
 */
static const char *sip_error_reason(const sip_t *sip)
{
	static char why[96];
	const sip_header_t *h = (const sip_header_t *)sip->sip_error;
	const char *name = NULL;

	if (h && sip_is_error(h))
		name = h->sh_error->er_name;
	else if (h)
		name = h->sh_class->hc_name;
	if (name && *name) {
		snprintf(why, sizeof why, "Bad %.60s Header", name);
		return why;
	}
	return "Malformed Message";
}

/* What sip_sanity_check() found wrong, said precisely. */
static const char *sip_sanity_reason(const sip_t *sip)
{
	if (!sip->sip_via)
		return "Missing Via Header";
	if (!sip->sip_from)
		return "Missing From Header";
	if (!sip->sip_to)
		return "Missing To Header";
	if (!sip->sip_call_id)
		return "Missing Call-ID Header";
	if (!sip->sip_cseq)
		return "Missing CSeq Header";
	if (sip->sip_request && (sip->sip_request->rq_method !=
				 sip->sip_cseq->cs_method ||
	    strcmp(sip->sip_request->rq_method_name,
		   sip->sip_cseq->cs_method_name)))
		return "CSeq Method Does Not Match Request";
	if (sip->sip_request && !sip->sip_request->rq_url->url_scheme)
		return "Bad Request-URI";
	return "Malformed Message";
}

int wic_sip_parse(const char *data, size_t len, msg_t **msgp,
		  const char **why)
{
	msg_t *msg;
	sip_t *sip;

	*msgp = NULL;
	msg = msg_make(sip_mclass_extended(), 0, data, (ssize_t)len);
	sip = msg ? sip_object(msg) : NULL;
	if (!sip || (!sip->sip_request && !sip->sip_status)) {
		*why = "not a SIP message";
		msg_destroy(msg);
		return EPROTO;
	}
	if (!sip_addressable(sip)) {
		*why = sip_sanity_reason(sip);
		msg_destroy(msg);
		return EPROTO;
	}
	*msgp = msg;
	if (msg_has_error(msg) || sip->sip_error) {
		*why = sip_error_reason(sip);
		return EBADMSG;
	}
	if (sip_sanity_check(sip) < 0) {
		*why = sip_sanity_reason(sip);
		return EBADMSG;
	}
	if (sip->sip_request && sip->sip_max_forwards &&
	    sip->sip_max_forwards->mf_count == 0 &&
	    sip->sip_request->rq_method != sip_method_options &&
	    sip->sip_request->rq_method != sip_method_register) {
		*why = "Too Many Hops";
		return ELOOP;
	}
	if (sip->sip_request) {   /* RFC 3261 8.2.2.1 */
		enum url_type_e t = sip->sip_request->rq_url->url_type;
		if (t != url_sip && t != url_sips && t != url_tel) {
			*why = "Unsupported URI Scheme";
			return EPROTONOSUPPORT;
		}
	}
	return 0;
}

msg_t *wic_sip_response(msg_t *req, int status, const char *phrase,
			const char *to_tag, tagi_t const *tags)
{
	sip_t *rq = sip_object(req);
	msg_t *rsp = msg_create(sip_mclass_extended(), 0);
	sip_t *rs = rsp ? sip_object(rsp) : NULL;
	su_home_t *h = rsp ? msg_home(rsp) : NULL;
	sip_to_t *to;

	if (!rs)
		goto fail;
	if (!phrase)
		phrase = sip_status_phrase(status);
	if (sip_header_insert(rsp, rs, (sip_header_t *)sip_status_create(
		    h, (unsigned)status, phrase ? phrase : "Unknown", NULL)) < 0 ||
	    sip_add_dup(rsp, rs, (sip_header_t *)rq->sip_via) < 0 ||
	    sip_add_dup(rsp, rs, (sip_header_t *)rq->sip_from) < 0 ||
	    sip_add_dup(rsp, rs, (sip_header_t *)rq->sip_to) < 0 ||
	    sip_add_dup(rsp, rs, (sip_header_t *)rq->sip_call_id) < 0 ||
	    sip_add_dup(rsp, rs, (sip_header_t *)rq->sip_cseq) < 0)
		goto fail;
	to = rs->sip_to;
	if (status > 100 && to_tag && !to->a_tag && sip_to_tag(h, to, to_tag) < 0)
		goto fail;
	if (tags && sip_add_tagis(rsp, rs, &tags) < 0)
		goto fail;
	if (sip_complete_message(rsp) < 0)
		goto fail;
	return rsp;
fail:
	msg_destroy(rsp);
	return NULL;
}

/* The bytes msg_prepare() encoded, gathered into one string: encoding
 * the message a second time with msg_as_string() cost as much again. */
static char *prepared_join(msg_t *msg, size_t *len)
{
	msg_iovec_t vec[WIC_SIP_MAX_FRAGS];
	isize_t nv = msg_iovec(msg, vec, WIC_SIP_MAX_FRAGS);
	size_t total = 0;
	char *s, *p;

	if (nv <= 0 || nv > WIC_SIP_MAX_FRAGS)
		return NULL;
	for (isize_t i = 0; i < nv; i++)
		total += vec[i].mv_len;
	s = p = su_alloc(msg_home(msg), total + 1);
	if (!s)
		return NULL;
	for (isize_t i = 0; i < nv; i++) {
		memcpy(p, vec[i].mv_base, vec[i].mv_len);
		p += vec[i].mv_len;
	}
	*p = '\0';
	*len = total;
	return s;
}

char *wic_sip_to_string(msg_t *msg, size_t *len)
{
	size_t n = 0;
	char *s;

	if (msg_serialize(msg, NULL) < 0 || msg_prepare(msg) < 0)
		return NULL;
	s = prepared_join(msg, &n);
	if (!s)
		s = msg_as_string(msg_home(msg), msg, NULL, 0, &n);
	if (len)
		*len = n;
	return s;
}

int wic_sip_aor(su_home_t *home, const url_t *uri, char *buf, size_t size)
{
	int n;

	(void)home;
	if (!uri)
		return EINVAL;
	if (uri->url_type == url_tel && (uri->url_user || uri->url_host)) {
		n = snprintf(buf, size, "tel:%s",
			     uri->url_user ? uri->url_user : uri->url_host);
	} else if ((uri->url_type == url_sip || uri->url_type == url_sips) &&
		   uri->url_user && *uri->url_user && uri->url_host) {
		n = (int)str_join(buf, size, "sip:", uri->url_user, "@",
				  uri->url_host, NULL);
		for (char *p = strchr(buf, '@'); p && *p; p++)
			*p = (char)tolower((unsigned char)*p);
	} else {
		return EINVAL;
	}
	return n > 0 && (size_t)n < size ? 0 : ENAMETOOLONG;
}

void wic_sip_token(char *out, size_t n)
{
	static const char digits[] = "0123456789abcdefghijklmnopqrstuv";
	guint32 bits = 0;
	unsigned left = 0;

	for (size_t i = 0; i < n; i++) {
		if (left < 5) {
			bits = g_random_int();
			left = 32;
		}
		out[i] = digits[bits & 31];
		bits >>= 5;
		left -= 5;
	}
	out[n] = '\0';
}

int wic_sip_via_add(msg_t *msg)
{
	su_home_t *h = msg_home(msg);
	char branch[32] = "z9hG4bK";
	sip_via_t *via;

	wic_sip_token(branch + 7, 16);
	via = sip_via_create(h, "wtpf.invalid", NULL, "SIP/2.0/WSS", "rport", NULL);
	if (!via || msg_header_add_param(h, (msg_common_t *)via,
					 su_sprintf(h, "branch=%s", branch)) < 0 ||
	    msg_header_insert(msg, (msg_pub_t *)sip_object(msg),
			      (msg_header_t *)via) < 0)
		return ENOMEM;
	return 0;
}

int wic_aor_canonical(const url_t *uri, char *buf, size_t size)
{
	return wic_sip_aor(NULL, uri, buf, size);
}
