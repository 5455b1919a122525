/**
 * @file admin.h  The operations listener: a small HTTP server on its own
 * address (loopback by default), on the gateway's GLib loop, through
 * libwebsockets. Routes are registered by the daemon with a method and a
 * path pattern; each answers at once from in-memory state or a bounded
 * store call (never blocks on the network).
 *
 * Routes are protected by the admin token (`Authorization: Bearer TOKEN`)
 * unless registered as open (/health, /metrics). With no token configured,
 * protected routes answer 403: the API is closed by default.
 *
 * Ownership: the caller owns struct admin; routes borrow their argument.
 */
#ifndef WTPF_ADMIN_H
#define WTPF_ADMIN_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

struct conf_admin;
struct admin;

#define ADMIN_MAX_ARGS 4

/** One request, valid for the handler's call only. */
struct admin_req {
	const char *method;               /**< "GET", "POST", "PUT", "DELETE" */
	const char *path;                 /**< without the query */
	const char *args[ADMIN_MAX_ARGS]; /**< the pattern's {} segments, unescaped */
	size_t nargs;
	const char *query;                /**< "k=v&k=v", each percent-encoded
					       (api_query() decodes), or "" */
	const char *body;                 /**< NUL-terminated, or "" */
	size_t body_len;
};

/** The answer a handler fills in. */
struct admin_resp {
	int status;            /**< preset 200 */
	const char *ctype;     /**< static; preset "application/json" */
	GString *body;         /**< preset empty */
};

/** Handles one request. */
typedef void (admin_route_h)(void *arg, const struct admin_req *rq,
			     struct admin_resp *rs);

/**
 * Starts the listener of @p c on the GLib loop @p gloop (a GMainLoop *).
 * A port of 0 makes an admin that serves nothing. Returns 0, or an errno
 * code after a log line (EADDRINUSE: cannot listen).
 */
int admin_create(struct admin **ap, const struct conf_admin *c, void *gloop);

/**
 * Reads the token of @p c's token_file (conf_token_read(); borrowed for the
 * call) and takes it; no token_file closes the API. Returns 0, or an errno
 * code after a log line, the running token kept (none at start: closed).
 */
int admin_reload(struct admin *a, const struct conf_admin *c);

/** Takes @p token (malloc'd; NULL closes the API) in place of the running one. */
void admin_token_set(struct admin *a, char *token);

/**
 * Serves @p method on paths matching @p pattern, where a segment "{}"
 * matches any one segment (passed in args). @p open: no token needed.
 * At most 64 routes; strings borrowed. Returns 0 or ENOSPC.
 */
int admin_route_add(struct admin *a, const char *method, const char *pattern,
		    bool open, admin_route_h *h, void *arg);

/**
 * Answers one request read off the wire: finds its route (404, 405), checks
 * the admin token in @p auth, the Authorization header's value or NULL
 * (403, 401) and the body size (@p too_large: 413), then runs the route's
 * handler. @p rq's method, path, query and body are read; its args are
 * filled here. The listener calls it for every request; tests call it
 * directly. @p rs as a handler gets it (status 200, an empty body).
 */
void admin_handle(struct admin *a, const struct admin_req *rq,
		  const char *auth, bool too_large, struct admin_resp *rs);

/** Answers @p status with the JSON value @p j (reference stolen). */
void admin_json(struct admin_resp *rs, int status, void *j);

/** Answers @p status with {"error": "..."}. */
void admin_error(struct admin_resp *rs, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/** Stops listening and frees. NULL is allowed. */
void admin_destroy(struct admin *a);

#endif
