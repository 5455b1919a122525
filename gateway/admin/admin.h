/**
 * @file admin.h  The operations listener: a small HTTP server on its own
 * address (loopback by default), on the gateway's GLib loop, through
 * libwebsockets. Routes are registered by the daemon; each produces its
 * body at once from in-memory state (never blocks).
 *
 * Ownership: the caller owns struct admin; routes borrow their argument.
 */
#ifndef WTPF_ADMIN_H
#define WTPF_ADMIN_H

#include <glib.h>

struct conf_admin;
struct admin;

/**
 * Writes the body of a GET on its path to @p body and sets @p *ctype to a
 * static content type. Returns the HTTP status (200...).
 */
typedef int (admin_route_h)(void *arg, GString *body, const char **ctype);

/**
 * Starts the listener of @p c on the GLib loop @p gloop (a GMainLoop *).
 * A port of 0 makes an admin that serves nothing. Returns 0, or an errno
 * code after a log line (EADDRINUSE: cannot listen).
 */
int admin_create(struct admin **ap, const struct conf_admin *c, void *gloop);

/** Serves GET @p path with @p h (at most 16 routes; @p path borrowed). */
int admin_route_add(struct admin *a, const char *path, admin_route_h *h,
		    void *arg);

/** Stops listening and frees. NULL is allowed. */
void admin_destroy(struct admin *a);

#endif
