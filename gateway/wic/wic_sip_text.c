/**
 * @file wic_sip_text.c  Responses printed straight from the request.
 *
 * A response on the WebSocket edge copies five headers of its request and
 * adds a few of its own. Building it as a Sofia message, then encoding that
 * message, cost a tenth of a REGISTER refresh; this prints the same text
 * in one pass from the request's parsed headers and the tag list. Tags it
 * does not know, and strings of more than one line (which Sofia would
 * parse into several headers, or refuse), are left to wic_sip_response()
 * (errno ENOTSUP): nothing is pasted that could start a line of its own.
 */
#include "wic_priv.h"
#include "util/strjoin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sofia-sip/msg_header.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_tag.h>
#include <sofia-sip/sip_tag_class.h>

/* A growing text: err is set once memory ran out. */
struct text {
	char *p;
	size_t n, cap;
	int err;
};

static bool text_room(struct text *b, size_t more)
{
	size_t cap = b->cap ? b->cap : 1024;
	char *p;

	if (b->err)
		return false;
	if (b->n + more < b->cap)
		return true;
	while (cap <= b->n + more)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p) {
		b->err = ENOMEM;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

static void text_put(struct text *b, const char *s, size_t len)
{
	if (!text_room(b, len))
		return;
	memcpy(b->p + b->n, s, len);
	b->n += len;
	b->p[b->n] = '\0';
}

static void text_str(struct text *b, const char *s)
{
	text_put(b, s, strlen(s));
}

/* Each header of the list @p h, as Sofia encodes it ("Name: value\r\n"). */
static void text_headers(struct text *b, const msg_header_t *h)
{
	for (; h && h != MSG_HEADER_NONE; h = h->sh_next) {
		issize_t n;

		if (!text_room(b, 256))
			return;
		n = msg_header_e(b->p + b->n, (isize_t)(b->cap - b->n), h, 0);
		if (n < 0) {
			b->err = EINVAL;
			return;
		}
		if ((size_t)n >= b->cap - b->n) {
			if (!text_room(b, (size_t)n))
				return;
			n = msg_header_e(b->p + b->n, (isize_t)(b->cap - b->n),
					 h, 0);
		}
		b->n += (size_t)n;
	}
}

static void text_status(struct text *b, int status, const char *phrase)
{
	char code[4] = {
		(char)('0' + status / 100 % 10), (char)('0' + status / 10 % 10),
		(char)('0' + status % 10), '\0'
	};

	if (!phrase)
		phrase = sip_status_phrase(status);
	text_str(b, "SIP/2.0 ");
	text_str(b, code);
	text_str(b, " ");
	text_str(b, phrase ? phrase : "Unknown");
	text_str(b, "\r\n");
}

/* The request's To, with our tag added when it has none. */
static void text_to(struct text *b, const sip_to_t *to, int status,
		    const char *to_tag)
{
	text_headers(b, (const msg_header_t *)to);
	if (status <= 100 || !to_tag || to->a_tag || b->err || b->n < 2)
		return;
	b->n -= 2;   /* the CRLF: the tag is the header's last parameter */
	text_str(b, ";tag=");
	text_str(b, to_tag);
	text_str(b, "\r\n");
}

/* Headers the response takes from its request, or computes itself. */
static bool class_is_ours(const msg_hclass_t *hc)
{
	return hc == sip_via_class || hc == sip_from_class ||
	       hc == sip_to_class || hc == sip_call_id_class ||
	       hc == sip_cseq_class || hc == sip_content_length_class ||
	       hc == sip_status_class || hc == sip_request_class ||
	       hc == sip_separator_class;
}

/* A string pasted into a header line or the status line: one line, or
 * ENOTSUP for Sofia's builder to parse it as it did before. */
static bool one_line(const char *s, size_t len)
{
	return !memchr(s, '\r', len) && !memchr(s, '\n', len);
}

/* One tag: a header line, the body, or ENOTSUP. */
static int text_tag(struct text *b, const tagi_t *t, const char **body)
{
	tag_type_t tt = t->t_tag;
	const msg_hclass_t *hc = (const msg_hclass_t *)tt->tt_magic;
	const char *s = (const char *)t->t_value;

	if (tt == siptag_header_str) {
		if (s && *s) {
			size_t len = strlen(s);

			if (len >= 2 && !strcmp(s + len - 2, "\r\n"))
				len -= 2;
			if (!one_line(s, len))
				return ENOTSUP;
			text_put(b, s, len);
			text_str(b, "\r\n");
		}
		return 0;
	}
	if (tt == siptag_payload_str) {
		*body = s;
		return 0;
	}
	if ((tt->tt_class != sipstrtag_class &&
	     tt->tt_class != siphdrtag_class) || !hc || !hc->hc_name ||
	    !*hc->hc_name || class_is_ours(hc) || hc == sip_payload_class)
		return ENOTSUP;
	if (tt->tt_class == siphdrtag_class) {
		text_headers(b, (const msg_header_t *)t->t_value);
	} else if (s) {
		if (!one_line(s, strlen(s)))
			return ENOTSUP;
		text_str(b, hc->hc_name);
		text_str(b, ": ");
		text_str(b, s);
		text_str(b, "\r\n");
	}
	return 0;
}

static int text_tags(struct text *b, tagi_t const *tags, const char **body)
{
	for (const tagi_t *t = tags; t; t = tl_next(t)) {
		int err;

		if (!t->t_tag || t->t_tag == tag_null)
			break;
		if (t->t_tag->tt_class->tc_next)
			continue;   /* skip, next: tl_next() follows them */
		err = text_tag(b, t, body);
		if (err)
			return err;
	}
	return 0;
}

char *wic_sip_response_text(msg_t *req, int status, const char *phrase,
			    const char *to_tag, tagi_t const *tags,
			    size_t *len)
{
	const sip_t *rq = sip_object(req);
	struct text b = { 0 };
	const char *body = NULL;
	char clen[STR_ULONG_MAX];
	int err;

	if (status < 100 || status > 699) {
		errno = EINVAL;
		return NULL;
	}
	if (phrase && !one_line(phrase, strlen(phrase))) {
		errno = ENOTSUP;
		return NULL;
	}
	text_status(&b, status, phrase);
	text_headers(&b, (const msg_header_t *)rq->sip_via);
	text_headers(&b, (const msg_header_t *)rq->sip_from);
	text_to(&b, rq->sip_to, status, to_tag);
	text_headers(&b, (const msg_header_t *)rq->sip_call_id);
	text_headers(&b, (const msg_header_t *)rq->sip_cseq);
	err = text_tags(&b, tags, &body);
	if (!err) {
		str_ulong(clen, body ? strlen(body) : 0);
		text_str(&b, "Content-Length: ");
		text_str(&b, clen);
		text_str(&b, "\r\n\r\n");
		if (body)
			text_str(&b, body);
		err = b.err;
	}
	if (err) {
		free(b.p);
		errno = err;
		return NULL;
	}
	*len = b.n;
	return b.p;
}
