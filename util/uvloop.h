/**
 * @file uvloop.h  A libuv loop that runs inside a GLib main context.
 *
 * GLib's main loop polls every descriptor of every source on each
 * wake-up, which is fine for a few sockets (Sofia-SIP, libnice) and costs
 * O(connections) for tens of thousands of WebSocket clients. libwebsockets
 * on a libuv loop uses epoll instead; this module hands that loop to GLib
 * as one source: GLib watches libuv's single backend descriptor and wakes
 * for libuv's next timer, and dispatching runs one non-blocking libuv
 * iteration. So the process keeps one event loop, one thread, and a
 * wake-up costs what is ready, not what is open.
 */
#ifndef WTPF_UVLOOP_H
#define WTPF_UVLOOP_H

#include <glib.h>
#include <uv.h>

struct uvloop;

/**
 * Creates a libuv loop driven by @p ctx (NULL: GLib's default context).
 * Returns 0, or ENOMEM / the libuv error as a positive errno value.
 */
int uvloop_create(struct uvloop **out, GMainContext *ctx);

/** The libuv loop, to give to libwebsockets as its foreign loop. */
uv_loop_t *uvloop_loop(struct uvloop *ul);

typedef void uvloop_hook_f(void *arg);

/**
 * Calls @p before ahead of each iteration GLib dispatches and @p after
 * once it is done (either may be NULL): what the iteration's callbacks
 * did can be finished together, e.g. their store writes committed at
 * once. Not called by uvloop_drain() or uvloop_destroy().
 */
void uvloop_on_dispatch(struct uvloop *ul, uvloop_hook_f *before,
			uvloop_hook_f *after, void *arg);

/**
 * Runs the libuv loop on its own, without GLib, until nothing is left in
 * it or @p max_ms milliseconds passed: for closes that complete in the
 * loop (libwebsockets' handles after lws_context_destroy()).
 */
void uvloop_drain(struct uvloop *ul, unsigned max_ms);

/**
 * Runs the libuv loop on its own until nothing is left in it (handles
 * closed by their owners, e.g. by lws_context_destroy()), at most
 * @p max_ms milliseconds, then frees it. Handles still open after that
 * are closed first. NULL is a no-op.
 */
void uvloop_destroy(struct uvloop *ul, unsigned max_ms);

#endif
