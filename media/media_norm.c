/**
 * @file media_norm.c  Normalisation by line editing: the BUNDLE group line
 * and the payload types a policy does not allow are removed; every other
 * byte of the original text is copied as it is.
 *
 * Edits only remove lines or shorten the m= line, so the result never
 * outgrows the original and one buffer of the original's size is enough.
 */
#include "media_priv.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { PT_N = 128 };

static const char *const why_no_codec[MT_N] = MWHY_IN("No Allowed Codec");

/** What the lines of one m-section say about its payload types. */
struct ptinfo {
	bool listed[PT_N];           /**< on the m= line */
	struct mstr name[PT_N];      /**< encoding name from a=rtpmap */
	struct mstr fmtp[PT_N];      /**< first a=fmtp value */
	uint64_t deps[PT_N][2];      /**< payload types an rtx/red refers to */
};

/** What to do with the payload types of one m-section. */
struct ptplan {
	bool drop[PT_N];
	bool dropped;                /**< a listed payload type is dropped */
};

/** The output: the original's size plus a NUL (never exceeded), and the
 * result's line index, one line per line written (never more than the
 * original has). */
struct obuf {
	char *p;
	size_t n, cap;
	bool full;         /**< a write did not fit: a bug, reported as such */
	struct media_sdp *out;
};

/* ---- payload types --------------------------------------------------- */

/** RFC 3551 static payload types that may come without a=rtpmap. */
static const char *static_name(int pt)
{
	static const char *const names[35] = {
		[0] = "PCMU", [3] = "GSM", [4] = "G723", [5] = "DVI4",
		[6] = "DVI4", [7] = "LPC", [8] = "PCMA", [9] = "G722",
		[10] = "L16", [11] = "L16", [12] = "QCELP", [13] = "CN",
		[14] = "MPA", [15] = "G728", [16] = "DVI4", [17] = "DVI4",
		[18] = "G729", [25] = "CelB", [26] = "JPEG", [28] = "nv",
		[31] = "H261", [32] = "MPV", [33] = "MP2T", [34] = "H263",
	};

	return pt >= 0 && pt < 35 ? names[pt] : NULL;
}

/** The encoding name of @p pt: a=rtpmap's, else the static one. */
static struct mstr pt_name(const struct ptinfo *info, int pt)
{
	const char *s;

	if (info->name[pt].p)
		return info->name[pt];
	s = static_name(pt);
	return (struct mstr){ s, s ? strlen(s) : 0 };
}

/** Telephone events, comfort noise, redundancy, repair: not codecs. */
static bool is_aux(struct mstr name)
{
	static const char *const aux[] = {
		"telephone-event", "CN", "red", "rtx", "ulpfec", "flexfec",
		"flexfec-03",
	};

	for (size_t i = 0; i < sizeof(aux) / sizeof(aux[0]); i++) {
		if (mstr_eq(name, aux[i]))
			return true;
	}
	return false;
}

static bool codec_allowed(const char *const *codecs, struct mstr name)
{
	for (; *codecs; codecs++) {
		if (mstr_eq(name, *codecs))
			return true;
	}
	return false;
}

static void dep_add(struct ptinfo *info, int pt, struct mstr v)
{
	int dep = mstr_pt(v);

	if (dep >= 0)
		info->deps[pt][dep / 64] |= (uint64_t)1 << (dep % 64);
}

/** From "PT <params>": rtx "apt=N[;...]", red "N/N/...". */
static void deps_read(struct ptinfo *info, int pt)
{
	struct mstr v = info->fmtp[pt], name = info->name[pt], part;
	bool rtx = mstr_eq(name, "rtx"), red = mstr_eq(name, "red");
	char sep = rtx ? ';' : '/';
	const char *p, *end;

	if (!v.p || (!rtx && !red))
		return;
	end = v.p + v.n;
	p = mstr_token(v.p, end, &part);   /* the payload type itself */
	while (p < end) {
		const char *q = memchr(p, sep, (size_t)(end - p));

		mstr_token(p, q ? q : end, &part);
		if (red)
			dep_add(info, pt, part);
		else if (part.n > 4 && !strncasecmp(part.p, "apt=", 4))
			dep_add(info, pt, (struct mstr){ part.p + 4, part.n - 4 });
		p = q ? q + 1 : end;
	}
}

/** "96 VP8/90000" -> "VP8" (empty when there is no name). */
static struct mstr rtpmap_name(struct mstr value)
{
	const char *end = value.p + value.n, *p, *slash;
	struct mstr tok;

	p = mstr_token(value.p, end, &tok);   /* the payload type */
	mstr_token(p, end, &tok);
	slash = memchr(tok.p, '/', tok.n);
	if (slash)
		tok.n = (size_t)(slash - tok.p);
	return tok;
}

/** Reads the m= line's payload types and the m-section's rtpmap/fmtp. */
static void info_scan(struct ptinfo *info, const struct media_sdp *sdp,
		      const struct msec *m)
{
	const struct mline *ml = &sdp->lines[m->first];
	const char *p = ml->p + m->fmt_at, *end = ml->p + ml->n;
	struct mstr tok, name, value;
	int pt;

	memset(info, 0, sizeof(*info));
	for (p = mstr_token(p, end, &tok); tok.n; p = mstr_token(p, end, &tok)) {
		pt = mstr_pt(tok);
		if (pt >= 0)
			info->listed[pt] = true;
	}
	for (size_t i = m->first + 1; i < m->end; i++) {
		if (!mline_attr(&sdp->lines[i], &name, &value))
			continue;
		pt = mstr_pt(value);
		if (pt < 0)
			continue;
		if (mstr_eq(name, "rtpmap") && !info->name[pt].p)
			info->name[pt] = rtpmap_name(value);
		else if (mstr_eq(name, "fmtp") && !info->fmtp[pt].p)
			info->fmtp[pt] = value;
	}
	for (pt = 0; pt < PT_N; pt++)
		deps_read(info, pt);
}

/** Drops what refers to a dropped payload type, until nothing changes. */
static void deps_apply(struct ptplan *plan, const struct ptinfo *info)
{
	bool changed = true;

	while (changed) {
		changed = false;
		for (int pt = 0; pt < PT_N; pt++) {
			if (!info->listed[pt] || plan->drop[pt])
				continue;
			for (int d = 0; d < PT_N; d++) {
				if (!(info->deps[pt][d / 64] >> (d % 64) & 1) ||
				    !plan->drop[d])
					continue;
				plan->drop[pt] = true;
				changed = true;
				break;
			}
		}
	}
}

/** Decides which payload types of @p m go; refuses an m-section left bare. */
static int plan_make(struct ptplan *plan, const struct media_sdp *sdp,
		     const struct msec *m, const struct media_policy *pol,
		     const char **why)
{
	struct ptinfo info;
	bool codec = false;

	memset(plan, 0, sizeof(*plan));
	if (!pol->codecs || !pol->codecs[0] || !m->port ||
	    !mproto_is_rtp(m->proto))
		return 0;
	info_scan(&info, sdp, m);
	for (int pt = 0; pt < PT_N; pt++) {
		if (info.listed[pt])
			plan->drop[pt] = !codec_allowed(pol->codecs,
							pt_name(&info, pt));
	}
	deps_apply(plan, &info);
	for (int pt = 0; pt < PT_N; pt++) {
		if (!info.listed[pt])
			continue;
		plan->dropped |= plan->drop[pt];
		codec |= !plan->drop[pt] && !is_aux(pt_name(&info, pt));
	}
	if (!codec)
		return mwhy(why, why_no_codec[m->mtype], EPROTO);
	return 0;
}

/* ---- output ---------------------------------------------------------- */

static void emit(struct obuf *o, const char *p, size_t n)
{
	if (o->full || n > o->cap - o->n) {
		o->full = true;
		return;
	}
	memcpy(o->p + o->n, p, n);
	o->n += n;
}

/** Notes the line written from @p start, @p n bytes before its line end. */
static void line_add(struct obuf *o, size_t start, size_t n, unsigned eol)
{
	struct media_sdp *out = o->out;

	if (o->full || out->nlines == out->lcap) {
		o->full = true;
		return;
	}
	out->lines[out->nlines++] = (struct mline){ o->p + start, n, eol };
}

/** Copies a line with its own line end. */
static void emit_line(struct obuf *o, const struct mline *l)
{
	size_t start = o->n;

	emit(o, l->p, l->n + l->eol);
	line_add(o, start, l->n, l->eol);
}

/** Writes the m= line without the dropped payload types. */
static void emit_mline(struct obuf *o, const struct mline *l,
		       const struct msec *m, const struct ptplan *plan)
{
	const char *p = l->p + m->fmt_at, *end = l->p + l->n;
	size_t start = o->n;
	struct mstr tok;

	emit(o, l->p, m->fmt_at);
	for (p = mstr_token(p, end, &tok); tok.n; p = mstr_token(p, end, &tok)) {
		int pt = mstr_pt(tok);

		if (pt >= 0 && plan->drop[pt])
			continue;
		emit(o, " ", 1);
		emit(o, tok.p, tok.n);
	}
	line_add(o, start, o->n - start, l->eol);
	emit(o, l->p + l->n, l->eol);
}

/** True for an a=rtpmap, a=fmtp or a=rtcp-fb line of a dropped type. */
static bool line_dropped(const struct mline *l, const struct ptplan *plan)
{
	struct mstr name, value;
	int pt;

	if (!mline_attr(l, &name, &value))
		return false;
	if (!mstr_eq(name, "rtpmap") && !mstr_eq(name, "fmtp") &&
	    !mstr_eq(name, "rtcp-fb"))
		return false;
	pt = mstr_pt(value);
	return pt >= 0 && plan->drop[pt];
}

static int msec_emit(struct obuf *o, const struct media_sdp *sdp,
		     const struct msec *m, const struct media_policy *pol,
		     const char **why)
{
	struct ptplan plan;
	int err;

	err = plan_make(&plan, sdp, m, pol, why);
	if (err)
		return err;
	for (size_t i = m->first; i < m->end; i++) {
		const struct mline *l = &sdp->lines[i];

		if (!plan.dropped)
			emit_line(o, l);
		else if (i == m->first)
			emit_mline(o, l, m, &plan);
		else if (!line_dropped(l, &plan))
			emit_line(o, l);
	}
	return 0;
}

/*
 * The result is indexed as it is written: its lines are the original's,
 * some dropped, m= lines rewritten from their parsed fields, so the line
 * checks and the grammar hold for it and only the m-sections and the
 * attributes are read again (media_sdp_index()).
 */
int media_sdp_normalise(struct media_sdp **outp, const struct media_sdp *sdp,
			const struct media_policy *pol, const char **why)
{
	static const struct media_policy nothing;
	struct obuf o = { 0 };
	int err = 0;

	if (!outp || !sdp)
		return mwhy(why, "Missing SDP", EINVAL);
	if (!pol)
		pol = &nothing;
	o.cap = sdp->len;
	o.p = malloc(o.cap + 1);
	o.out = o.p ? media_sdp_alloc(o.p, 0, sdp->nlines, sdp->nm) : NULL;
	if (!o.out) {
		free(o.p);
		return mwhy(why, "Out Of Memory", ENOMEM);
	}

	for (size_t i = 0; i < sdp->session_end; i++) {
		if (pol->strip_bundle && mline_is_bundle(&sdp->lines[i]))
			continue;
		emit_line(&o, &sdp->lines[i]);
	}
	for (size_t i = 0; i < sdp->nm && !err; i++)
		err = msec_emit(&o, sdp, &sdp->m[i], pol, why);
	if (!err && o.full)
		err = mwhy(why, "SDP Edit Overflow", EOVERFLOW);
	if (!err) {
		o.p[o.n] = '\0';
		o.out->len = o.n;
		err = media_sdp_index(o.out, why);
	}
	if (err) {
		media_sdp_free(o.out);   /* and o.p, its text */
		return err;
	}
	*outp = o.out;
	return 0;
}
