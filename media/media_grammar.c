/**
 * @file media_grammar.c  The syntax of each SDP line and where it may
 * stand (RFC 8866 section 9, RFC 4566 section 9), checked over the line
 * index that media_sdp.c built: one pass, no copy, no allocation.
 *
 * What is checked: v=0 first; one o= (six fields, numeric session id and
 * version), one s=, at least one t= (two numbers) before the first m=;
 * c= (IN IP4 or IP6), b=, k= and a= in their field syntax, an rtpmap's
 * and an fmtp's too; no r= or z= (a call's t= is 0 0); session lines
 * (v o s u e p t) not inside an m-section; at most one of i u c k at
 * session level and one i, k per m-section; a c= at session level or in
 * each m-section; in an RTP m-section, one rtpmap per payload type and
 * one for each dynamic type; no type letter RFC 8866 does not define.
 * m= lines are read by media_sdp.c.
 *
 * The order of the session-level lines after s= is not enforced: IMS
 * peers put c= and b= after t= (a layout Sofia-SIP's strict parser, used
 * here before, accepted too).
 */
#include "media_priv.h"

#include <ctype.h>
#include <errno.h>

/* Where a line type may appear. */
enum gplace {
	GP_NONE = 0,          /* not an SDP type letter */
	GP_SESSION = 1,       /* session level only */
	GP_BOTH = 2,          /* session level and m-sections */
};

struct gcount {
	unsigned n[26];
	unsigned char rtpmap[128 / 8];   /* payload types mapped so far */
	bool rtp;                        /* an RTP m-section */
};

static enum gplace place_of(char t)
{
	switch (t) {
	case 'v': case 'o': case 's': case 'u': case 'e': case 'p':
	case 't': case 'r': case 'z':
		return GP_SESSION;
	case 'i': case 'c': case 'b': case 'k': case 'a': case 'm':
		return GP_BOTH;
	default:
		return GP_NONE;
	}
}

static bool all_digits(struct mstr s)
{
	for (size_t i = 0; i < s.n; i++) {
		if (!isdigit((unsigned char)s.p[i]))
			return false;
	}
	return s.n > 0;
}

/* The value of a line: what follows "x=". */
static struct mstr line_value(const struct mline *l)
{
	return (struct mstr){ l->p + 2, l->n - 2 };
}

/* Splits @p v at blanks into at most @p max fields; returns how many
 * there were (max + 1 when there were more). */
static size_t fields_split(struct mstr v, struct mstr *f, size_t max)
{
	const char *p = v.p, *end = v.p + v.n;
	size_t n = 0;
	struct mstr tok;

	for (p = mstr_token(p, end, &tok); tok.n; p = mstr_token(p, end, &tok)) {
		if (n == max)
			return max + 1;
		f[n++] = tok;
	}
	return n;
}

/* <nettype> <addrtype>: "IN" (the only network type RFC 8866 defines)
 * with IP4 or IP6. */
static bool net_ok(struct mstr net, struct mstr addr)
{
	return mstr_eq(net, "IN") && (mstr_eq(addr, "IP4") ||
				      mstr_eq(addr, "IP6"));
}

static bool address_ok(struct mstr a, bool ip4);

/* o=<username> <sess-id> <sess-version> <nettype> <addrtype> <address> */
static bool origin_ok(struct mstr v)
{
	struct mstr f[6];

	return fields_split(v, f, 6) == 6 && all_digits(f[1]) &&
	       all_digits(f[2]) && net_ok(f[3], f[4]) &&
	       !memchr(f[5].p, '/', f[5].n) && address_ok(f[5], false);
}

/* digits, at most @p max in value */
static bool number_max(const char *p, const char *end, unsigned long max)
{
	unsigned long v = 0;

	if (p >= end || end - p > 10)
		return false;
	for (; p < end; p++) {
		if (!isdigit((unsigned char)*p))
			return false;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	return v <= max;
}

/* <address>[/<ttl>][/<number of addresses>] (RFC 8866 5.7): a name or
 * literal; a TTL (IP4 multicast, 0..255) before a count; with IP6 a
 * count, up to 255. */
static bool address_ok(struct mstr a, bool ip4)
{
	const char *end = a.p + a.n, *s1 = memchr(a.p, '/', a.n), *s2;

	for (const char *p = a.p; p < (s1 ? s1 : end); p++) {
		if (!isalnum((unsigned char)*p) && !strchr(".-:", *p))
			return false;
	}
	if (s1 == a.p)
		return false;
	if (!s1)
		return true;
	s2 = memchr(s1 + 1, '/', (size_t)(end - s1 - 1));
	if (!ip4)   /* a count of addresses, which Sofia-SIP reads as a TTL */
		return !s2 && number_max(s1 + 1, end, 255);
	return number_max(s1 + 1, s2 ? s2 : end, 255) &&
	       (!s2 || number_max(s2 + 1, end, 0xffffffffUL));
}

/* c=<nettype> <addrtype> <connection-address> */
static bool connection_ok(struct mstr v)
{
	struct mstr f[3];

	return fields_split(v, f, 3) == 3 && net_ok(f[0], f[1]) &&
	       address_ok(f[2], mstr_eq(f[1], "IP4"));
}

/* b=<bwtype>:<bandwidth> */
static bool bandwidth_ok(struct mstr v)
{
	const char *colon = memchr(v.p, ':', v.n);
	struct mstr type, bw;

	if (!colon)
		return false;
	type = (struct mstr){ v.p, (size_t)(colon - v.p) };
	bw = (struct mstr){ colon + 1, (size_t)(v.p + v.n - colon - 1) };
	return mstr_is_token(type, false) && all_digits(bw);
}

/* t=<start-time> <stop-time> */
static bool timing_ok(struct mstr v)
{
	struct mstr f[2];

	return fields_split(v, f, 2) == 2 && all_digits(f[0]) &&
	       all_digits(f[1]);
}

/* rtpmap:<payload type> <encoding name>/<clock rate>[/<parameters>], the
 * payload type right after the colon (mstr_pt() reads it there) */
static bool rtpmap_ok(struct mstr v)
{
	struct mstr f[2], enc, rate, params;
	const char *slash, *end;

	if (mstr_pt(v) < 0 || fields_split(v, f, 2) != 2)
		return false;
	end = f[1].p + f[1].n;
	slash = memchr(f[1].p, '/', f[1].n);
	if (!slash)
		return false;
	enc = (struct mstr){ f[1].p, (size_t)(slash - f[1].p) };
	rate.p = slash + 1;
	slash = memchr(rate.p, '/', (size_t)(end - rate.p));
	rate.n = (size_t)((slash ? slash : end) - rate.p);
	params = (struct mstr){ slash ? slash + 1 : end,
				(size_t)(slash ? end - slash - 1 : 0) };
	return mstr_is_token(enc, false) && all_digits(rate) &&
	       (!slash || mstr_is_token(params, false));
}

/* a=<attribute-name>[:<attribute-value>]; one rtpmap per payload type;
 * an fmtp names a format (in RTP, a payload type) */
static const char *attribute_ok(const struct mline *l, struct gcount *c)
{
	struct mstr name, value;
	int pt;

	if (!mline_attr(l, &name, &value) || !mstr_is_token(name, false))
		return "Malformed SDP Attribute";
	if (mstr_eq(name, "fmtp"))
		return value.p && (c->rtp ? mstr_pt(value) >= 0 :
				   value.n && !isspace((unsigned char)*value.p)) ?
		       NULL : "Malformed SDP Attribute";
	if (!mstr_eq(name, "rtpmap"))
		return NULL;
	if (!value.p || !rtpmap_ok(value))
		return "Malformed SDP Attribute";
	pt = mstr_pt(value);
	if (c->rtpmap[pt / 8] & (1u << (pt % 8)))
		return "Payload Type Mapped Twice";
	c->rtpmap[pt / 8] |= (unsigned char)(1u << (pt % 8));
	return NULL;
}

/* @p s is exactly @p lit, case included. */
static bool mstr_is(struct mstr s, const char *lit)
{
	return s.n == strlen(lit) && !memcmp(s.p, lit, s.n);
}

/* k=<method>[:<encryption key>]: RFC 4566's four methods, in lower case
 * (the line is obsolete, RFC 8866 5.12) */
static bool key_ok(struct mstr v)
{
	const char *colon = memchr(v.p, ':', v.n);
	struct mstr m = { v.p, colon ? (size_t)(colon - v.p) : v.n };

	if (mstr_is(m, "prompt"))
		return !colon;
	return colon && (mstr_is(m, "clear") || mstr_is(m, "base64") ||
			 mstr_is(m, "uri"));
}

/* Fields parted by one SP each, no blank at either end (RFC 8866 9: the
 * fields of o=, c=, t= and m= are joined by SP). */
static bool single_spaced(struct mstr v)
{
	if (!v.n || v.p[0] == ' ' || v.p[v.n - 1] == ' ' ||
	    memchr(v.p, '\t', v.n))
		return false;
	for (size_t i = 1; i < v.n; i++) {
		if (v.p[i] == ' ' && v.p[i - 1] == ' ')
			return false;
	}
	return true;
}

/* The m= line's proto: token *("/" token). */
static bool proto_ok(struct mstr v)
{
	struct mstr f[3], seg;
	const char *p, *end, *slash;

	if (fields_split(v, f, 3) < 3)
		return false;
	for (p = f[2].p, end = p + f[2].n; p <= end; p = slash + 1) {
		slash = memchr(p, '/', (size_t)(end - p));
		if (!slash)
			slash = end;
		seg = (struct mstr){ p, (size_t)(slash - p) };
		if (!mstr_is_token(seg, false))
			return false;
	}
	return true;
}

/* The field syntax of one line; its reason when it is wrong. */
static const char *line_syntax(const struct mline *l, struct gcount *c)
{
	struct mstr v = line_value(l);

	switch (l->p[0]) {
	case 'v':
		return v.n == 1 && v.p[0] == '0' ? NULL : "Malformed SDP Version";
	case 'o':
		return single_spaced(v) && origin_ok(v) ?
		       NULL : "Malformed SDP Origin";
	case 's': case 'i': case 'u': case 'e': case 'p':
		return v.n ? NULL : "Empty SDP Text Field";
	case 'c':
		return single_spaced(v) && connection_ok(v) ?
		       NULL : "Malformed SDP Connection";
	case 'b':
		return bandwidth_ok(v) ? NULL : "Malformed SDP Bandwidth";
	case 't':
		return single_spaced(v) && timing_ok(v) ?
		       NULL : "Malformed SDP Timing";
	case 'r': case 'z':
		/* A call's session is unbounded (RFC 3264 5: t=0 0), so it has
		 * no times to repeat or shift; Sofia-SIP, which checked the
		 * SDP here before, refused these lines too. */
		return "Repeat Or Zone Line In Offer/Answer SDP";
	case 'k':
		return key_ok(v) ? NULL : "Malformed SDP Key";
	case 'a':
		return attribute_ok(l, c);
	case 'm':   /* read by media_sdp.c, which skips blanks between fields */
		return single_spaced(v) && proto_ok(v) ?
		       NULL : "Malformed Media Line";
	default:
		return NULL;
	}
}

/* Where the line may stand, given the lines before it. */
static const char *line_place(char t, size_t i, bool in_media,
			      struct gcount *c)
{
	enum gplace where = place_of(t);

	if (where == GP_NONE)
		return "Unknown SDP Line Type";
	if (i == 0 && t != 'v')
		return "SDP Must Begin With v=";
	if (i != 0 && t == 'v')
		return "Repeated SDP Line";
	if (in_media && where == GP_SESSION)
		return "Session Line In Media Section";
	if (t == 'm')
		return c->n['o' - 'a'] && c->n['s' - 'a'] && c->n['t' - 'a'] ?
		       NULL : "Missing SDP Origin, Session Name Or Timing";
	c->n[t - 'a']++;
	if (c->n[t - 'a'] > 1 && strchr(in_media ? "ik" : "vosiuck", t))
		return "Repeated SDP Line";
	return NULL;
}

/* Each dynamic payload type of an RTP m= line has its rtpmap. */
static bool dynamic_mapped(const struct msec *m, const struct mline *l,
			   const struct gcount *media)
{
	const char *p = l->p + m->fmt_at, *end = l->p + l->n;
	struct mstr fmt;
	int pt;

	if (!mproto_is_rtp(m->proto))
		return true;
	for (p = mstr_token(p, end, &fmt); fmt.n; p = mstr_token(p, end, &fmt)) {
		pt = mstr_pt(fmt);
		if (pt >= 96 && !(media->rtpmap[pt / 8] & (1u << (pt % 8))))
			return false;
	}
	return true;
}

/* The end of an m-section: RFC 8866 5.7, a c= at session level or in
 * every m-section; RFC 8866 6.6, an rtpmap for each dynamic type. */
static const char *media_end(const struct media_sdp *sdp, size_t k,
			     const struct gcount *session,
			     const struct gcount *media)
{
	const struct msec *m = &sdp->m[k];

	if (!session->n['c' - 'a'] && !media->n['c' - 'a'])
		return "Missing SDP Connection";
	if (!dynamic_mapped(m, &sdp->lines[m->first], media))
		return "Dynamic Payload Type Without rtpmap";
	return NULL;
}

int media_sdp_grammar(const struct media_sdp *sdp, const char **why)
{
	struct gcount session, media;
	size_t k = 0;     /* m-sections begun */
	const char *bad = NULL;

	memset(&session, 0, sizeof session);
	memset(&media, 0, sizeof media);

	for (size_t i = 0; i < sdp->nlines && !bad; i++) {
		const struct mline *l = &sdp->lines[i];

		if (!l->n)
			continue;   /* a trailing empty line: media_sdp.c */
		if (l->p[0] == 'm') {
			if (k)
				bad = media_end(sdp, k - 1, &session, &media);
			memset(&media, 0, sizeof media);
			media.rtp = mproto_is_rtp(sdp->m[k].proto);
			if (!bad)
				bad = line_place('m', i, false, &session);
			k++;
		} else {
			bad = line_place(l->p[0], i, k > 0,
					 k ? &media : &session);
		}
		if (!bad)
			bad = line_syntax(l, k ? &media : &session);
	}
	if (!bad && (!session.n['o' - 'a'] || !session.n['s' - 'a'] ||
		     !session.n['t' - 'a']))
		bad = "Missing SDP Origin, Session Name Or Timing";
	if (!bad && k)
		bad = media_end(sdp, k - 1, &session, &media);
	return bad ? mwhy(why, bad, EBADMSG) : 0;
}
