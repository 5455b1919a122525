/**
 * @file ctl_http.h  A minimal blocking HTTP/1.1 client for wtpfctl: one
 * request per connection (Connection: close) over plain TCP to the admin
 * listener, with a deadline for the whole exchange. No TLS (the listener
 * has none; keep it on loopback or a management network).
 *
 * Ownership: the caller owns the target and the answer (ctl_answer_free).
 */
#ifndef WTPF_CTL_HTTP_H
#define WTPF_CTL_HTTP_H

#include <stdbool.h>
#include <stddef.h>

/** Where the admin listener is, and the bearer token to send. */
struct ctl_target {
	char host[256];         /**< name or address (IPv6 without brackets) */
	char port[16];
	const char *token;      /**< borrowed; NULL or "": no Authorization */
	int timeout_ms;         /**< for connect, send and answer together */
};

/** An HTTP answer. */
struct ctl_answer {
	int status;             /**< e.g. 200 */
	char *body;             /**< NUL-terminated (malloc'd) */
	size_t len;
};

/**
 * Fills @p t's host and port from @p url: http://HOST[:PORT][/], HOST a
 * name, an IPv4 address or [IPv6]; the port defaults to 80. Returns 0, or
 * -1 with a reason in @p err.
 */
int ctl_url_parse(const char *url, struct ctl_target *t, char *err,
		  size_t errsize);

/**
 * Sends @p method @p path (already escaped, may carry a query) with
 * @p body (JSON, or NULL) and reads the answer into @p a. Returns 0, or -1
 * with a reason in @p err when the gateway could not be reached or gave
 * no HTTP answer.
 */
int ctl_http_request(const struct ctl_target *t, const char *method,
		     const char *path, const char *body, struct ctl_answer *a,
		     char *err, size_t errsize);

/** Frees what ctl_http_request() put in @p a. */
void ctl_answer_free(struct ctl_answer *a);

/**
 * Appends @p in percent-encoded as one path segment or query value (all but
 * RFC 3986 unreserved characters) to @p out of @p size bytes. Returns false
 * when it does not fit.
 */
bool ctl_escape(const char *in, char *out, size_t size);

#endif
