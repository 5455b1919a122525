/**
 * @file media_sdp.c  Parsing: limits, the line index, and what the checks
 * need from each m-section.
 *
 * The text is checked line by line first (cheap, and it bounds the rest:
 * no NUL, no bare CR, no long line, at most MEDIA_SDP_MAX_MSECS m=
 * lines), then read again line by line for what this module needs, then
 * each line's syntax and place are checked (media_grammar.c). Sofia-SIP's
 * sdp_parse() did that last part before: it cost as much again as all
 * the rest of a call's SDP handling, and its result was thrown away.
 */
#include "media_priv.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- lines ----------------------------------------------------------- */

/** Checks one line; @p *empty says whether an empty line was seen. */
static int line_check(const struct mline *l, bool *empty, size_t *nm,
		      const char **why)
{
	if (l->n > MEDIA_SDP_MAX_LINE)
		return mwhy(why, "SDP Line Too Long", EMSGSIZE);
	if (memchr(l->p, '\r', l->n))
		return mwhy(why, "Bare CR In SDP", EBADMSG);
	if (l->n == 0) {
		*empty = true;
		return 0;
	}
	if (*empty)
		return mwhy(why, "Empty Line In SDP", EBADMSG);
	if (l->n < 2 || !islower((unsigned char)l->p[0]) || l->p[1] != '=')
		return mwhy(why, "Malformed SDP Line", EBADMSG);
	if (l->p[0] == 'm' && ++*nm > MEDIA_SDP_MAX_MSECS)
		return mwhy(why, "Too Many Media Sections", E2BIG);
	return 0;
}

/** Splits the text into lines (LF or CRLF) and checks each; sdp->lines
 * has room for every line (sdp_alloc()). */
static int lines_split(struct media_sdp *sdp, const char **why)
{
	const char *p = sdp->text, *end = sdp->text + sdp->len;
	size_t nm = 0;
	bool empty = false;
	int err;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		struct mline *l;

		if (sdp->nlines == sdp->lcap)   /* cannot be: counted before */
			return mwhy(why, "Malformed SDP Line", EBADMSG);
		l = &sdp->lines[sdp->nlines++];

		l->p = p;
		l->n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		l->eol = nl ? 1 : 0;
		if (nl && l->n && p[l->n - 1] == '\r') {
			l->n--;
			l->eol = 2;
		}
		p = nl ? nl + 1 : end;
		err = line_check(l, &empty, &nm, why);
		if (err)
			return err;
	}
	return 0;
}

/* ---- m= lines -------------------------------------------------------- */

static enum mtype mtype_of(struct mstr s)
{
	static const char *const names[MT_OTHER] = {
		"audio", "video", "text", "application", "message", "image",
	};

	for (int i = 0; i < MT_OTHER; i++) {
		if (mstr_eq(s, names[i]))
			return (enum mtype)i;
	}
	return MT_OTHER;
}

static enum mproto mproto_of(struct mstr s)
{
	static const struct {
		const char *name;
		enum mproto proto;
	} tab[] = {
		{ "UDP/TLS/RTP/SAVPF", MP_RTP_WEBRTC },
		{ "RTP/SAVPF",         MP_RTP_WEBRTC },
		{ "RTP/AVP",           MP_RTP_PLAIN },
		{ "RTP/AVPF",          MP_RTP_PLAIN },
		{ "RTP/SAVP",          MP_RTP_SDES },
		{ "UDP/DTLS/SCTP",     MP_SCTP_WEBRTC },
		{ "DTLS/SCTP",         MP_SCTP_WEBRTC },
	};

	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		if (mstr_eq(s, tab[i].name))
			return tab[i].proto;
	}
	return MP_OTHER;
}

/** Reads "port[/count]"; the port must be 0..65535. */
static int port_parse(struct mstr s, unsigned *port)
{
	size_t i;
	unsigned v = 0;

	for (i = 0; i < s.n && i < 6 && isdigit((unsigned char)s.p[i]); i++)
		v = v * 10 + (unsigned)(s.p[i] - '0');
	if (i == 0 || v > 65535)
		return EBADMSG;
	if (i < s.n && s.p[i] != '/')
		return EBADMSG;
	for (size_t j = i + 1; j < s.n; j++) {
		if (!isdigit((unsigned char)s.p[j]))
			return EBADMSG;
	}
	if (i < s.n && i + 1 == s.n)
		return EBADMSG;
	*port = v;
	return 0;
}

/** Reads "m=<type> <port>[/<n>] <proto> <fmt> ..." into @p m. */
static int mline_parse(struct msec *m, const struct mline *l,
		       const char **why)
{
	const char *p = l->p + 2, *end = l->p + l->n;
	struct mstr port, proto, fmt;

	p = mstr_token(p, end, &m->type);
	p = mstr_token(p, end, &port);
	p = mstr_token(p, end, &proto);
	m->fmt_at = (size_t)(p - l->p);
	if (!mstr_is_token(m->type, false) || !mstr_is_token(proto, true) ||
	    port_parse(port, &m->port))
		return mwhy(why, "Malformed Media Line", EBADMSG);
	m->mtype = mtype_of(m->type);
	m->proto = mproto_of(proto);

	p = mstr_token(p, end, &fmt);
	if (!fmt.n)
		return mwhy(why, "Malformed Media Line", EBADMSG);
	for (; fmt.n; p = mstr_token(p, end, &fmt)) {
		if (mproto_is_rtp(m->proto) ? mstr_pt(fmt) < 0 :
		    !mstr_is_token(fmt, false))
			return mwhy(why, "Malformed Media Line", EBADMSG);
	}
	return 0;
}

/* ---- attributes ------------------------------------------------------ */

static void first_set(struct mstr *dst, struct mstr value)
{
	if (!dst->p)
		*dst = value;
}

static bool dir_scan(struct mattrs *a, struct mstr name)
{
	static const char *const names[] = {
		[MEDIA_DIR_SENDRECV] = "sendrecv",
		[MEDIA_DIR_SENDONLY] = "sendonly",
		[MEDIA_DIR_RECVONLY] = "recvonly",
		[MEDIA_DIR_INACTIVE] = "inactive",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!mstr_eq(name, names[i]))
			continue;
		if (!a->has_dir) {
			a->dir = (enum media_dir)i;
			a->has_dir = true;
		}
		return true;
	}
	return false;
}

/** Notes what an a= line says; @p bundle is NULL at media level. */
static void attr_scan(struct mattrs *a, const struct mline *l, bool *bundle)
{
	struct mstr name, value;

	if (!mline_attr(l, &name, &value))
		return;
	if (mstr_eq(name, "ice-ufrag"))
		first_set(&a->ufrag, value);
	else if (mstr_eq(name, "ice-pwd"))
		first_set(&a->pwd, value);
	else if (mstr_eq(name, "fingerprint"))
		first_set(&a->fingerprint, value);
	else if (mstr_eq(name, "setup"))
		first_set(&a->setup, value);
	else if (mstr_eq(name, "rtcp-mux"))
		a->rtcp_mux = true;
	else if (bundle && mline_is_bundle(l))
		*bundle = true;
	else
		dir_scan(a, name);
}

/* Finds the m-sections and reads their m= lines and attributes. */
int media_sdp_index(struct media_sdp *sdp, const char **why)
{
	struct msec *m = NULL;
	int err;

	sdp->session_end = sdp->nlines;
	for (size_t i = 0; i < sdp->nlines; i++) {
		const struct mline *l = &sdp->lines[i];

		if (l->n && l->p[0] == 'm') {
			if (sdp->nm == sdp->mcap)
				return mwhy(why, "Too Many Media Sections", E2BIG);
			if (m)
				m->end = i;
			else
				sdp->session_end = i;
			m = &sdp->m[sdp->nm++];
			m->first = i;
			err = mline_parse(m, l, why);
			if (err)
				return err;
		}
		else if (l->n && l->p[0] == 'a') {
			attr_scan(m ? &m->a : &sdp->s, l, m ? NULL : &sdp->bundle);
		}
	}
	if (m)
		m->end = sdp->nlines;
	return 0;
}

/* ---- the object ------------------------------------------------------ */

struct media_sdp *media_sdp_alloc(char *text, size_t len, size_t nlines,
				  size_t nm)
{
	size_t head, size;
	struct media_sdp *sdp;

	if (nm > MEDIA_SDP_MAX_MSECS)
		nm = MEDIA_SDP_MAX_MSECS;
	head = sizeof(*sdp) + nm * sizeof(struct msec);
	size = head + nlines * sizeof(struct mline);
	sdp = malloc(size);
	if (!sdp)
		return NULL;
	memset(sdp, 0, head);
	sdp->m = (struct msec *)(sdp + 1);
	sdp->mcap = nm;
	sdp->lines = (struct mline *)((char *)sdp + head);
	sdp->lcap = nlines;
	sdp->text = text;
	sdp->len = len;
	return sdp;
}

/*
 * Sized by a count of the text's line ends and of the lines that start
 * with 'm' (at least as many as the m= lines; media_sdp_index() refuses
 * more than there is room for).
 */
static struct media_sdp *sdp_alloc(char *text, size_t len)
{
	const char *end = text + len;
	size_t cap = 1, nm = len && text[0] == 'm';

	for (const char *q = text; (q = memchr(q, '\n', (size_t)(end - q))); q++) {
		cap++;
		nm += q + 1 < end && q[1] == 'm';
	}
	return media_sdp_alloc(text, len, cap, nm);
}

/* Builds an object from @p text (malloc'd, @p len bytes plus a NUL), which
 * it adopts: freed on error. */
static int sdp_adopt(struct media_sdp **sdpp, char *text, size_t len,
		     const char **why)
{
	struct media_sdp *sdp;
	int err;

	if (memchr(text, '\0', len)) {
		free(text);
		return mwhy(why, "NUL Byte In SDP", EBADMSG);
	}
	sdp = sdp_alloc(text, len);
	if (!sdp) {
		free(text);
		return mwhy(why, "Out Of Memory", ENOMEM);
	}
	err = lines_split(sdp, why);
	if (!err)
		err = media_sdp_index(sdp, why);
	if (!err)
		err = media_sdp_grammar(sdp, why);
	if (err)
		media_sdp_free(sdp);
	else
		*sdpp = sdp;
	return err;
}

int media_sdp_parse(struct media_sdp **sdpp, const char *body, size_t len,
		    const struct media_policy *pol, const char **why)
{
	size_t max = pol && pol->max_size ? pol->max_size : MEDIA_SDP_MAX_SIZE;
	char *text;

	if (!sdpp || (!body && len))
		return mwhy(why, "Missing SDP", EINVAL);
	if (len == 0)
		return mwhy(why, "Empty SDP", EBADMSG);
	if (len > max)
		return mwhy(why, "SDP Too Large", EMSGSIZE);

	text = malloc(len + 1);
	if (!text)
		return mwhy(why, "Out Of Memory", ENOMEM);
	memcpy(text, body, len);
	text[len] = '\0';
	return sdp_adopt(sdpp, text, len, why);
}

void media_sdp_free(struct media_sdp *sdp)
{
	if (!sdp)
		return;
	free(sdp->text);
	free(sdp);      /* with its lines and m-sections: sdp_alloc() */
}

const char *media_sdp_text(const struct media_sdp *sdp, size_t *lenp)
{
	if (lenp)
		*lenp = sdp ? sdp->len : 0;
	return sdp ? sdp->text : NULL;
}

enum media_dir msec_dir(const struct media_sdp *sdp, const struct msec *m)
{
	if (m->a.has_dir)
		return m->a.dir;
	if (sdp->s.has_dir)
		return sdp->s.dir;
	return MEDIA_DIR_SENDRECV;
}
