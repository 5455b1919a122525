/**
 * @file media.h  SDP for W3/W8: check and normalise the WebRTC SDP that
 * passes between the browser (WIC) and the IMS (P-CSCF, eIMS-AGW).
 *
 * Media does not flow through the gateway: the browser's offer
 * (UDP/TLS/RTP/SAVPF, ICE, DTLS fingerprint, rtcp-mux) goes to the P-CSCF,
 * which anchors it at the eIMS-AGW, and the answer comes back. This module
 * checks that both are usable by a browser and edits them only where the
 * policy says so. It never re-prints through a parser: an edit removes or
 * rewrites whole lines of the original text, and every other byte (line
 * ends included, CRLF or LF as found) stays as it was.
 *
 * A typical use by the call core, for an offer from the WIC:
 *
 *   media_sdp_parse(&offer, body, len, &pol_ims, &why)
 *   media_sdp_check(offer, MEDIA_SDP_OFFER, &why)       -> 488 with why
 *   media_sdp_normalise(&out, offer, &pol_ims, &why)    -> send out's text
 *
 * and for the answer from IMS:
 *
 *   media_sdp_parse(&ans, body, len, &pol_wic, &why)
 *   media_sdp_check(ans, MEDIA_SDP_ANSWER, &why)
 *   media_sdp_check_answer(ans, offer, &why)
 *   media_sdp_normalise(&out, ans, &pol_wic, &why)
 *
 * Reasons (@p why) are static strings in reason-phrase case, e.g.
 * "No DTLS Fingerprint In Audio Media", fit for a SIP 488 reason phrase and
 * a log line. Errors: EINVAL bad argument, EMSGSIZE body or line too long,
 * E2BIG too many m-sections, EBADMSG malformed SDP, EPROTO refused by a
 * check or the policy, ENOMEM.
 *
 * Not thread-safe per object; objects are immutable once parsed, so
 * several readers may share one.
 */
#ifndef WTPF_MEDIA_H
#define WTPF_MEDIA_H

#include <stdbool.h>
#include <stddef.h>

enum {
	MEDIA_SDP_MAX_SIZE   = 65536, /**< default body size limit (bytes) */
	MEDIA_SDP_MAX_LINE   = 4096,  /**< longest line, line end excluded */
	MEDIA_SDP_MAX_MSECS  = 16,    /**< most m-sections in one SDP */
};

/**
 * What the gateway does to SDP going one way (toward IMS, or toward the
 * WIC); the caller fills one per direction from config. Strings borrowed.
 */
struct media_policy {
	/** Remove the session-level a=group:BUNDLE line (TS 23.228 U.1.1). */
	bool strip_bundle;
	/**
	 * NULL-terminated list of allowed RTP encoding names, matched without
	 * case against a=rtpmap (or the RFC 3551 static name), e.g.
	 * {"opus", "PCMA", "telephone-event", NULL}. NULL or empty (as an
	 * empty config list comes): all allowed.
	 */
	const char *const *codecs;
	/** Largest body accepted, in bytes; 0: MEDIA_SDP_MAX_SIZE. */
	size_t max_size;
};

/** A parsed SDP body (opaque): its text and an index of its lines. */
struct media_sdp;

/** Offer or answer: decides some checks and how reasons read. */
enum media_sdp_role { MEDIA_SDP_OFFER = 0, MEDIA_SDP_ANSWER };

/** What an SDP is, judged on its active (port != 0) m-sections. */
enum media_sdp_kind {
	MEDIA_SDP_NONE = 0, /**< no active m-section */
	MEDIA_SDP_WEBRTC,   /**< all: (UDP/TLS/)RTP/SAVPF or (UDP/)DTLS/SCTP,
			         with ICE credentials and a fingerprint */
	MEDIA_SDP_PLAIN,    /**< all: RTP/AVP(F), no ICE, no fingerprint */
	MEDIA_SDP_MIXED,    /**< anything else (SDES, partial WebRTC...) */
};

/** Media direction attribute in effect (media level, else session level). */
enum media_dir {
	MEDIA_DIR_SENDRECV = 0,
	MEDIA_DIR_SENDONLY,
	MEDIA_DIR_RECVONLY,
	MEDIA_DIR_INACTIVE,
};

/** One m-section, for logs. */
struct media_summary_m {
	char type[16];       /**< "audio", "video"... (truncated, printable) */
	unsigned port;       /**< 0: rejected / disabled */
	enum media_dir dir;
};

/** A short description of an SDP for logs and hold/ICE-restart decisions. */
struct media_summary {
	enum media_sdp_kind kind;
	size_t count;                  /**< m-sections, <= MEDIA_SDP_MAX_MSECS */
	struct media_summary_m m[MEDIA_SDP_MAX_MSECS];
	bool bundle;                   /**< has a=group:BUNDLE */
	bool hold;                     /**< has active media, and every active
					    m-section is sendonly or inactive */
	bool ice_restart;              /**< an active m-section's ice-ufrag
					    differs from the previous SDP's */
	bool fingerprint_changed;      /**< a DTLS fingerprint differs from the
					    previous SDP's */
};

/**
 * Parses @p len bytes of @p body (not NUL-terminated necessarily) into
 * @p *sdpp. Checks, in order: size (against @p pol's max_size, or the
 * default when @p pol is NULL), NUL bytes, line ends (LF or CRLF; a bare
 * CR is refused), line length, line syntax (`x=...`; empty lines only at
 * the end), the m-section count, each m= line (RFC 4566 tokens, port
 * 0..65535, payload types 0..127 for RTP), then each line's syntax and
 * place (RFC 8866 section 9).
 *
 * Returns 0 and a new object the caller frees with media_sdp_free(); or an
 * errno code with @p *why set (when @p why is not NULL) and @p *sdpp
 * untouched. The object holds its own copy of the text. Cost O(len).
 */
int media_sdp_parse(struct media_sdp **sdpp, const char *body, size_t len,
		    const struct media_policy *pol, const char **why);

/** Frees @p sdp and its text. NULL is allowed. */
void media_sdp_free(struct media_sdp *sdp);

/**
 * Returns the SDP text (NUL-terminated, owned by @p sdp, valid until it
 * is freed) and its length in @p *lenp (when not NULL). Cost O(1).
 */
const char *media_sdp_text(const struct media_sdp *sdp, size_t *lenp);

/** Classifies @p sdp (see enum media_sdp_kind). Cost O(m-sections). */
enum media_sdp_kind media_sdp_kind(const struct media_sdp *sdp);

/** "none", "webrtc", "plain" or "mixed". */
const char *media_sdp_kind_name(enum media_sdp_kind kind);

/**
 * Checks that a browser can use @p sdp: at least one m-section, and on
 * every active one a WebRTC transport, ICE credentials (a=ice-ufrag and
 * a=ice-pwd, well formed), a DTLS fingerprint (a=fingerprint with a
 * SHA-1/2 hash and a value of its length), a=setup (actpass, active or
 * passive; in an answer only active or passive) and, for RTP, a=rtcp-mux
 * (a browser refuses SDP without it). Session-level attributes count for
 * every m-section that lacks its own.
 *
 * Returns 0, or EPROTO with @p *why: "Answer Is Not WebRTC (RTP/AVP
 * Without ICE/DTLS)" for a plain SDP, else the first problem found, as in
 * "No ICE Credentials In Audio Media", "No DTLS Fingerprint In Video
 * Media", "No DTLS Setup In Audio Media". EINVAL when @p sdp is NULL.
 * Cost O(m-sections).
 */
int media_sdp_check(const struct media_sdp *sdp, enum media_sdp_role role,
		    const char **why);

/**
 * Checks @p answer against the @p offer it answers (RFC 3264 section 6):
 * the same number of m-sections, of the same media types in the same
 * order, and no active m-section where the offer's was rejected (port 0).
 * Returns 0, or EPROTO with @p *why ("Answer Media Count Differs From
 * Offer"...), or EINVAL. Cost O(m-sections).
 */
int media_sdp_check_answer(const struct media_sdp *answer,
			   const struct media_sdp *offer, const char **why);

/**
 * Applies @p pol to @p sdp and returns the result as a new object in
 * @p *outp (the caller frees it with media_sdp_free(); @p sdp is not
 * changed). Edits, and nothing else:
 *  - strip_bundle: the session-level a=group:BUNDLE line is removed;
 *    a=mid lines stay (RFC 5888 mid is independent of BUNDLE and harmless
 *    to IMS; the browser needs it to match its answer);
 *  - codecs: in each active RTP m-section, payload types whose encoding
 *    is not allowed are removed from the m= line (the other format tokens
 *    keep their order) along with their a=rtpmap, a=fmtp and a=rtcp-fb
 *    lines; an rtx or red payload type goes too when a payload type it
 *    refers to (fmtp apt=, or the red list) goes.
 * With a policy that changes nothing the result is byte for byte @p sdp.
 *
 * Returns 0; EPROTO with @p *why "No Allowed Codec In Audio Media" when an
 * active RTP m-section would be left without a codec (telephone-event,
 * CN, red, rtx, ulpfec and flexfec do not count as codecs); EINVAL;
 * ENOMEM. Cost O(len).
 */
int media_sdp_normalise(struct media_sdp **outp, const struct media_sdp *sdp,
			const struct media_policy *pol, const char **why);

/**
 * Describes @p sdp in @p sum; with @p prev (the previous SDP from the
 * same party in the same dialog, or NULL) also tells an ICE restart and
 * a fingerprint change, comparing m-sections by index. Cannot fail.
 * Cost O(m-sections).
 */
void media_sdp_summary(const struct media_sdp *sdp,
		       const struct media_sdp *prev, struct media_summary *sum);

/**
 * Writes @p sum as one log-friendly line into @p buf, e.g.
 * "kind=webrtc m=audio:54321:sendrecv,video:0:rejected bundle=yes hold=no
 * ice-restart=no fp-changed=no". Returns 0, or ENOSPC when truncated (the
 * text stays NUL-terminated), or EINVAL.
 */
int media_summary_print(const struct media_summary *sum, char *buf,
			size_t size);

/** "sendrecv", "sendonly", "recvonly" or "inactive". */
const char *media_dir_name(enum media_dir dir);

#endif
