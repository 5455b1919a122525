/**
 * @file media_check.c  What an SDP is (WebRTC or plain), whether a browser
 * can use it, whether an answer fits its offer, and a summary for logs.
 */
#include "media_priv.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const why_transport[MT_N] = MWHY_IN("Unsupported Transport");
static const char *const why_no_ice[MT_N]    = MWHY_IN("No ICE Credentials");
static const char *const why_bad_ice[MT_N]   = MWHY_IN("Bad ICE Credentials");
static const char *const why_no_fp[MT_N]     = MWHY_IN("No DTLS Fingerprint");
static const char *const why_bad_fp[MT_N]    = MWHY_IN("Bad DTLS Fingerprint");
static const char *const why_no_setup[MT_N]  = MWHY_IN("No DTLS Setup");
static const char *const why_bad_setup[MT_N] = MWHY_IN("Bad DTLS Setup");
static const char *const why_no_mux[MT_N]    = MWHY_IN("No RTCP Mux");

/** The ICE and DTLS attributes in effect for one m-section. */
struct meff {
	const struct mstr *ufrag, *pwd, *fingerprint, *setup;
};

static struct meff meff_of(const struct media_sdp *sdp, const struct msec *m)
{
	return (struct meff){
		.ufrag       = mattr_pick(&m->a.ufrag, &sdp->s.ufrag),
		.pwd         = mattr_pick(&m->a.pwd, &sdp->s.pwd),
		.fingerprint = mattr_pick(&m->a.fingerprint, &sdp->s.fingerprint),
		.setup       = mattr_pick(&m->a.setup, &sdp->s.setup),
	};
}

/* ---- classification -------------------------------------------------- */

static bool msec_webrtc(const struct media_sdp *sdp, const struct msec *m)
{
	struct meff e = meff_of(sdp, m);

	return (m->proto == MP_RTP_WEBRTC || m->proto == MP_SCTP_WEBRTC) &&
	       e.ufrag->p && e.pwd->p && e.fingerprint->p;
}

static bool msec_plain(const struct media_sdp *sdp, const struct msec *m)
{
	struct meff e = meff_of(sdp, m);

	return m->proto == MP_RTP_PLAIN &&
	       !e.ufrag->p && !e.pwd->p && !e.fingerprint->p;
}

enum media_sdp_kind media_sdp_kind(const struct media_sdp *sdp)
{
	size_t active = 0, webrtc = 0, plain = 0;

	if (!sdp)
		return MEDIA_SDP_NONE;
	for (size_t i = 0; i < sdp->nm; i++) {
		const struct msec *m = &sdp->m[i];

		if (!m->port)
			continue;
		active++;
		webrtc += msec_webrtc(sdp, m);
		plain += msec_plain(sdp, m);
	}
	if (!active)
		return MEDIA_SDP_NONE;
	if (webrtc == active)
		return MEDIA_SDP_WEBRTC;
	if (plain == active)
		return MEDIA_SDP_PLAIN;
	return MEDIA_SDP_MIXED;
}

const char *media_sdp_kind_name(enum media_sdp_kind kind)
{
	switch (kind) {
	case MEDIA_SDP_NONE:   return "none";
	case MEDIA_SDP_WEBRTC: return "webrtc";
	case MEDIA_SDP_PLAIN:  return "plain";
	case MEDIA_SDP_MIXED:  return "mixed";
	}
	return "?";
}

const char *media_dir_name(enum media_dir dir)
{
	switch (dir) {
	case MEDIA_DIR_SENDRECV: return "sendrecv";
	case MEDIA_DIR_SENDONLY: return "sendonly";
	case MEDIA_DIR_RECVONLY: return "recvonly";
	case MEDIA_DIR_INACTIVE: return "inactive";
	}
	return "?";
}

/* ---- attribute values ------------------------------------------------ */

/** RFC 8839 ice-char (ALPHA / DIGIT / "+" / "/"), @p min..256 of them. */
static bool ice_ok(const struct mstr *s, size_t min)
{
	if (s->n < min || s->n > 256)
		return false;
	for (size_t i = 0; i < s->n; i++) {
		unsigned char c = (unsigned char)s->p[i];

		if (!isalnum(c) && c != '+' && c != '/')
			return false;
	}
	return true;
}

/** RFC 8122: "<hash> <XX:XX:...>" with as many bytes as the hash has. */
static bool fingerprint_ok(const struct mstr *v)
{
	static const struct {
		const char *name;
		size_t len;
	} hash[] = {
		{ "sha-1", 20 }, { "sha-224", 28 }, { "sha-256", 32 },
		{ "sha-384", 48 }, { "sha-512", 64 },
	};
	const char *end = v->p + v->n, *p;
	struct mstr name, hex;
	size_t len = 0;

	p = mstr_token(v->p, end, &name);
	mstr_token(p, end, &hex);
	if (hex.p + hex.n != end)
		return false;
	for (size_t i = 0; i < sizeof(hash) / sizeof(hash[0]); i++) {
		if (mstr_eq(name, hash[i].name))
			len = hash[i].len;
	}
	if (!len || hex.n != 3 * len - 1)
		return false;
	for (size_t i = 0; i < hex.n; i++) {
		if (i % 3 == 2 ? hex.p[i] != ':' :
		    !isxdigit((unsigned char)hex.p[i]))
			return false;
	}
	return true;
}

/** RFC 8842: an offer says actpass (or active/passive), an answer not. */
static bool setup_ok(const struct mstr *v, enum media_sdp_role role)
{
	if (mstr_eq(*v, "active") || mstr_eq(*v, "passive"))
		return true;
	return role == MEDIA_SDP_OFFER && mstr_eq(*v, "actpass");
}

/* ---- checks ---------------------------------------------------------- */

/** Checks one active m-section; the first problem found is the reason. */
static int msec_check(const struct media_sdp *sdp, const struct msec *m,
		      enum media_sdp_role role, const char **why)
{
	struct meff e = meff_of(sdp, m);
	enum mtype t = m->mtype;

	if (m->proto != MP_RTP_WEBRTC && m->proto != MP_SCTP_WEBRTC)
		return mwhy(why, why_transport[t], EPROTO);
	if (!e.ufrag->p || !e.pwd->p)
		return mwhy(why, why_no_ice[t], EPROTO);
	if (!ice_ok(e.ufrag, 4) || !ice_ok(e.pwd, 22))
		return mwhy(why, why_bad_ice[t], EPROTO);
	if (!e.fingerprint->p)
		return mwhy(why, why_no_fp[t], EPROTO);
	if (!fingerprint_ok(e.fingerprint))
		return mwhy(why, why_bad_fp[t], EPROTO);
	if (!e.setup->p)
		return mwhy(why, why_no_setup[t], EPROTO);
	if (!setup_ok(e.setup, role))
		return mwhy(why, why_bad_setup[t], EPROTO);
	if (m->proto == MP_RTP_WEBRTC && !m->a.rtcp_mux && !sdp->s.rtcp_mux)
		return mwhy(why, why_no_mux[t], EPROTO);
	return 0;
}

int media_sdp_check(const struct media_sdp *sdp, enum media_sdp_role role,
		    const char **why)
{
	int err;

	if (!sdp)
		return mwhy(why, "Missing SDP", EINVAL);
	if (!sdp->nm)
		return mwhy(why, "No Media In SDP", EPROTO);
	if (media_sdp_kind(sdp) == MEDIA_SDP_PLAIN) {
		return mwhy(why, role == MEDIA_SDP_ANSWER ?
			    "Answer Is Not WebRTC (RTP/AVP Without ICE/DTLS)" :
			    "Offer Is Not WebRTC (RTP/AVP Without ICE/DTLS)",
			    EPROTO);
	}
	for (size_t i = 0; i < sdp->nm; i++) {
		if (!sdp->m[i].port)
			continue;
		err = msec_check(sdp, &sdp->m[i], role, why);
		if (err)
			return err;
	}
	return 0;
}

int media_sdp_check_answer(const struct media_sdp *answer,
			   const struct media_sdp *offer, const char **why)
{
	if (!answer || !offer)
		return mwhy(why, "Missing SDP", EINVAL);
	if (answer->nm != offer->nm)
		return mwhy(why, "Answer Media Count Differs From Offer", EPROTO);
	for (size_t i = 0; i < answer->nm; i++) {
		const struct msec *a = &answer->m[i], *o = &offer->m[i];

		if (!mstr_caseeq(a->type, o->type))
			return mwhy(why, "Answer Media Type Differs From Offer",
				    EPROTO);
		if (a->port && !o->port)
			return mwhy(why, "Answer Accepts Rejected Media", EPROTO);
	}
	return 0;
}

/* ---- summary --------------------------------------------------------- */

static void summary_type(char *dst, size_t size, struct mstr type)
{
	size_t i;

	for (i = 0; i < type.n && i + 1 < size; i++) {
		unsigned char c = (unsigned char)type.p[i];

		dst[i] = isalnum(c) || c == '-' || c == '_' || c == '.' ?
			 (char)c : '?';
	}
	dst[i] = '\0';
}

/** True when both are present and differ (@p icase: ignoring case). */
static bool differs(const struct mstr *a, const struct mstr *b, bool icase)
{
	if (!a->p || !b->p)
		return false;
	if (icase)
		return !mstr_caseeq(*a, *b);
	return a->n != b->n || memcmp(a->p, b->p, a->n) != 0;
}

/** ICE restart and fingerprint change, m-section by m-section. */
static void summary_compare(struct media_summary *sum,
			    const struct media_sdp *sdp,
			    const struct media_sdp *prev)
{
	size_t n = sdp->nm < prev->nm ? sdp->nm : prev->nm;

	for (size_t i = 0; i < n; i++) {
		struct meff a, b;

		if (!sdp->m[i].port || !prev->m[i].port)
			continue;
		a = meff_of(sdp, &sdp->m[i]);
		b = meff_of(prev, &prev->m[i]);
		if (differs(a.ufrag, b.ufrag, false))
			sum->ice_restart = true;
		if (differs(a.fingerprint, b.fingerprint, true))
			sum->fingerprint_changed = true;
	}
}

void media_sdp_summary(const struct media_sdp *sdp,
		       const struct media_sdp *prev, struct media_summary *sum)
{
	size_t active = 0, held = 0;

	memset(sum, 0, sizeof(*sum));
	if (!sdp)
		return;
	sum->kind = media_sdp_kind(sdp);
	sum->count = sdp->nm;
	sum->bundle = sdp->bundle;
	for (size_t i = 0; i < sdp->nm; i++) {
		const struct msec *m = &sdp->m[i];
		struct media_summary_m *sm = &sum->m[i];

		summary_type(sm->type, sizeof(sm->type), m->type);
		sm->port = m->port;
		sm->dir = msec_dir(sdp, m);
		if (!m->port)
			continue;
		active++;
		held += sm->dir == MEDIA_DIR_SENDONLY ||
			sm->dir == MEDIA_DIR_INACTIVE;
	}
	sum->hold = active && held == active;
	if (prev)
		summary_compare(sum, sdp, prev);
}

__attribute__((format(printf, 4, 5)))
static size_t append(char *buf, size_t size, size_t n, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (n >= size)
		return n;
	va_start(ap, fmt);
	r = vsnprintf(buf + n, size - n, fmt, ap);
	va_end(ap);
	return r < 0 ? size : n + (size_t)r;
}

static const char *yn(bool b)
{
	return b ? "yes" : "no";
}

int media_summary_print(const struct media_summary *sum, char *buf,
			size_t size)
{
	size_t n, count;

	if (!sum || !buf || !size)
		return EINVAL;
	buf[0] = '\0';
	count = sum->count < MEDIA_SDP_MAX_MSECS ? sum->count :
		MEDIA_SDP_MAX_MSECS;
	n = append(buf, size, 0, "kind=%s m=%s",
		   media_sdp_kind_name(sum->kind), count ? "" : "-");
	for (size_t i = 0; i < count; i++) {
		const struct media_summary_m *m = &sum->m[i];

		n = append(buf, size, n, "%s%s:%u:%s", i ? "," : "", m->type,
			   m->port, m->port ? media_dir_name(m->dir) : "rejected");
	}
	n = append(buf, size, n, " bundle=%s hold=%s ice-restart=%s fp-changed=%s",
		   yn(sum->bundle), yn(sum->hold), yn(sum->ice_restart),
		   yn(sum->fingerprint_changed));
	return n >= size ? ENOSPC : 0;
}
