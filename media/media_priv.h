/**
 * @file media_priv.h  The line index behind struct media_sdp, shared by
 * the parser (media_sdp.c), the checks (media_check.c) and the editor
 * (media_norm.c). Every pointer points into the object's own text.
 */
#ifndef WTPF_MEDIA_PRIV_H
#define WTPF_MEDIA_PRIV_H

#include "media.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

/** A piece of the text; p == NULL: absent. Not NUL-terminated. */
struct mstr {
	const char *p;
	size_t n;
};

/** One line: its text without the line end, and the line end's length. */
struct mline {
	const char *p;
	size_t n;
	unsigned eol;      /**< 2: CRLF, 1: LF, 0: none (last line) */
};

/** Media types, for reasons ("... In Audio Media"). */
enum mtype {
	MT_AUDIO = 0, MT_VIDEO, MT_TEXT, MT_APPLICATION, MT_MESSAGE, MT_IMAGE,
	MT_OTHER, MT_N
};

/** Transport protocols of an m= line, as this module groups them. */
enum mproto {
	MP_OTHER = 0,
	MP_RTP_PLAIN,      /**< RTP/AVP, RTP/AVPF */
	MP_RTP_SDES,       /**< RTP/SAVP (SDES or nothing) */
	MP_RTP_WEBRTC,     /**< UDP/TLS/RTP/SAVPF, RTP/SAVPF */
	MP_SCTP_WEBRTC,    /**< UDP/DTLS/SCTP, DTLS/SCTP (data channel) */
};

/** What one level (session or one m-section) says about ICE/DTLS/mode. */
struct mattrs {
	struct mstr ufrag, pwd, fingerprint, setup;
	enum media_dir dir;
	bool has_dir;
	bool rtcp_mux;
};

/** One m-section: lines [first, end), first being the m= line. */
struct msec {
	size_t first, end;
	struct mstr type;
	enum mtype mtype;
	unsigned port;
	enum mproto proto;
	size_t fmt_at;     /**< offset in the m= line where the format list
			        starts (the blank after the proto) */
	struct mattrs a;
};

struct media_sdp {
	char *text;        /**< len bytes + NUL */
	size_t len;
	struct mline *lines;       /**< in the object's own block */
	size_t nlines, lcap;
	size_t session_end;        /**< first line of the first m-section */
	struct mattrs s;           /**< session level */
	bool bundle;
	struct msec *m;            /**< in the object's block, room for
				        every m= line (sdp_alloc()) */
	size_t nm, mcap;
};

/** True for an RTP transport (payload types are RTP ones). */
static inline bool mproto_is_rtp(enum mproto p)
{
	return p == MP_RTP_PLAIN || p == MP_RTP_SDES || p == MP_RTP_WEBRTC;
}

/** The attribute in effect: the m-section's own @p media, else @p session. */
static inline const struct mstr *mattr_pick(const struct mstr *media,
					    const struct mstr *session)
{
	return media->p ? media : session;
}

/** Sets @p *why (when not NULL) to @p text and returns @p err. */
static inline int mwhy(const char **why, const char *text, int err)
{
	if (why)
		*why = text;
	return err;
}

/** One static reason per media type: "<text> In Audio Media"... */
#define MWHY_IN(text) { \
	text " In Audio Media", text " In Video Media", \
	text " In Text Media", text " In Application Media", \
	text " In Message Media", text " In Image Media", text " In Media" }

/**
 * Allocates an object over @p text (adopted only on success: freed by
 * media_sdp_free()) with room for @p nlines lines and @p nm m-sections
 * (at most MEDIA_SDP_MAX_MSECS), in one block. The object and its
 * m-sections are zeroed; the caller writes the lines and their count.
 * Returns NULL when out of memory.
 */
struct media_sdp *media_sdp_alloc(char *text, size_t len, size_t nlines,
				  size_t nm);

/**
 * Builds the m-sections and the session and media attributes from the
 * lines of @p sdp (written by the caller: media_sdp_alloc()). Returns 0,
 * or EBADMSG / E2BIG with the reason in @p *why. O(lines).
 */
int media_sdp_index(struct media_sdp *sdp, const char **why);

/**
 * Checks the syntax of every line but m= (media_sdp.c reads those) and
 * where each may stand: RFC 8866 section 9. Returns 0, or EBADMSG with
 * the reason in @p *why. O(lines).
 */
int media_sdp_grammar(const struct media_sdp *sdp, const char **why);

/** Direction in effect for @p m (media level, session level, sendrecv). */
enum media_dir msec_dir(const struct media_sdp *sdp, const struct msec *m);

/**
 * True when @p s equals the NUL-terminated @p lit, ignoring case. Inline,
 * so that strlen() of a literal folds to a constant and the length, which
 * tells most names apart, is compared first: the scans try every a= line
 * against each name they know.
 */
static inline bool mstr_eq(struct mstr s, const char *lit)
{
	size_t n = strlen(lit);

	return s.p && s.n == n && strncasecmp(s.p, lit, n) == 0;
}

/**
 * Splits an attribute line "a=name[:value]" into @p name and @p value
 * (value absent when there is no colon; trailing blanks trimmed).
 * Returns false when @p l is not an a= line.
 */
bool mline_attr(const struct mline *l, struct mstr *name, struct mstr *value);

/** True for a non-empty RFC 4566 token (with '/' too when @p slash). */
bool mstr_is_token(struct mstr s, bool slash);

/** True when @p a and @p b are equal, ignoring case; absent equals absent. */
bool mstr_caseeq(struct mstr a, struct mstr b);

/** True for an "a=group:BUNDLE ..." line. */
bool mline_is_bundle(const struct mline *l);

/**
 * Reads the next blank-separated token of [@p p, @p end) into @p tok
 * (tok->n == 0 at the end). Returns where the token ends.
 */
const char *mstr_token(const char *p, const char *end, struct mstr *tok);

/**
 * Reads a leading RTP payload type (0..127) from @p v, which must be
 * followed by a blank or end. Returns it, or -1.
 */
int mstr_pt(struct mstr v);

#endif
