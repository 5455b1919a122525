/**
 * @file sip.h  The little SIP a load generator needs: a parser that splits
 * a message received over WebSocket into start line, headers and body
 * (pointers into the caller's buffer, nothing copied), functions that pull
 * parameters and URIs out of header values, and builders for requests and
 * for responses to a received request.
 *
 * It is deliberately not a full SIP stack: no header is validated beyond
 * what matching responses and dialogs needs (Via branch, CSeq, tags,
 * Contact, Record-Route).
 */
#ifndef WTPF_BENCH_SIP_H
#define WTPF_BENCH_SIP_H

#include <stddef.h>
#include <stdint.h>

#define BSIP_MAX_HDRS 80

/** One header line: name (compact forms expanded) and raw value. */
struct bsip_hdr {
	const char *name;
	size_t nlen;
	const char *val;
	size_t vlen;
};

/** A parsed message; every pointer points into the parsed buffer. */
struct bsip_msg {
	int status;             /**< response status; 0 for a request */
	char reason[64];        /**< response reason phrase (truncated) */
	const char *raw;        /**< the whole message as parsed */
	size_t raw_len;
	const char *method;     /**< request method, or the CSeq method of a
				     response; NUL-terminated copy below */
	char method_buf[16];
	const char *uri;        /**< Request-URI (not NUL-terminated) */
	size_t uri_len;
	struct bsip_hdr hdrs[BSIP_MAX_HDRS];
	unsigned nhdrs;
	const char *body;
	size_t body_len;
	uint32_t cseq;          /**< CSeq number */
	char cseq_method[16];
};

/**
 * Parses @p len bytes at @p buf into @p m. The buffer must outlive @p m.
 * Returns 0, or EBADMSG when there is no valid start line, no header end,
 * or no Via, From, To, Call-ID or CSeq. O(length).
 */
int bsip_msg_parse(struct bsip_msg *m, const char *buf, size_t len);

/**
 * The first header named @p name (full form, case-insensitive) after
 * @p prev (NULL: from the start), or NULL.
 */
const struct bsip_hdr *bsip_msg_find(const struct bsip_msg *m,
				     const char *name,
				     const struct bsip_hdr *prev);

/**
 * Copies header @p name's first value (its first comma-separated element
 * when @p first_elem) into @p out (NUL-terminated, truncated to @p size).
 * Returns 0 or ENOENT.
 */
int bsip_msg_get(const struct bsip_msg *m, const char *name, int first_elem,
		 char *out, size_t size);

/**
 * Length of the first comma-separated element of header value @p v
 * (@p n bytes); commas inside quotes and angle brackets do not count.
 */
size_t bsip_elem_len(const char *v, size_t n);

/**
 * Copies parameter @p name of the header value @p v (@p n bytes) into
 * @p out: the first ";name=value" outside quotes and angle brackets, up to
 * the next ';', ',', '>' or blank (quotes removed). A parameter without a
 * value gives "". Returns 0, ENOENT, or ENOSPC when @p out is too small.
 */
int bsip_param(const char *v, size_t n, const char *name, char *out,
	       size_t size);

/**
 * Copies the URI of the name-addr or addr-spec @p v (@p n bytes) into
 * @p out: what is inside <...>, else up to the first ';' or ','. Returns 0,
 * EBADMSG or ENOSPC.
 */
int bsip_uri(const char *v, size_t n, char *out, size_t size);

/** Copies the user part of @p uri (sip:, sips: or tel:) into @p out. */
int bsip_uri_user(const char *uri, char *out, size_t size);

/** Writes @p n random lower-case hex digits and a NUL to @p out. */
void bsip_token(char *out, size_t n);

/** A request to build; NULL members are left out. */
struct bsip_req {
	const char *method;
	const char *ruri;
	const char *transport;  /**< Via transport: "WS" or "WSS" */
	const char *via_host;
	const char *branch;
	const char *from;       /**< name-addr, e.g. "<sip:a@b>" (no tag) */
	const char *from_tag;
	const char *to;         /**< name-addr (no tag) */
	const char *to_tag;
	const char *call_id;
	uint32_t cseq;
	const char *cseq_method;  /**< NULL: method */
	const char *route;      /**< Route header value (one line), or NULL */
	const char *contact;    /**< Contact header value */
	const char *extra;      /**< more header lines, each ending CRLF */
	const char *ctype;      /**< body type */
	const char *body;
};

/**
 * Builds @p r into @p buf (@p size bytes, NUL-terminated). Returns the
 * length, or 0 when it did not fit.
 */
size_t bsip_req_build(const struct bsip_req *r, char *buf, size_t size);

/**
 * Builds the response @p status @p reason to request @p req into @p buf:
 * its Via headers, From, To (with ";tag=@p to_tag" when To has none and
 * @p to_tag is not NULL), Call-ID and CSeq copied, Record-Route too for
 * 101..299 to an INVITE; then @p extra lines (each ending CRLF, or NULL)
 * and @p body of type @p ctype. Returns the length, or 0 when it did not
 * fit in @p size.
 */
size_t bsip_resp_build(const struct bsip_msg *req, int status,
		       const char *reason, const char *to_tag,
		       const char *extra, const char *ctype, const char *body,
		       char *buf, size_t size);

#endif
