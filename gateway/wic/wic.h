/**
 * @file wic.h  The WebSocket SIP edge toward WebRTC clients (RFC 7118):
 * listeners, flows (RFC 5626), the transaction layer for this reliable
 * transport, WIC authentication and the WIC registrar.
 *
 * The edge runs on the gateway's one GLib main loop (libwebsockets as a
 * foreign loop, Sofia timers through the su_root). It knows nothing of calls:
 * requests it does not handle itself (everything but REGISTER and OPTIONS
 * to the gateway) go to the request handler set by the call core.
 */
#ifndef WTPF_WIC_H
#define WTPF_WIC_H

#include <stdbool.h>
#include <stddef.h>
#include <sofia-sip/su_wait.h>
#include <sofia-sip/su_tag.h>
#include <sofia-sip/msg.h>
#include <sofia-sip/sip.h>

struct conf;
struct store;
struct wic;
struct wic_flow;
struct wic_strans;
struct wic_ctrans;

/**
 * Creates the edge: loads the tenants' token keys, opens the ws/wss
 * listeners on the GLib main loop @p gloop (a GMainLoop *), and starts the
 * housekeeping timer on @p root. @p conf and @p store are borrowed and must
 * outlive the edge. Returns 0, or an errno code after logging why.
 */
int wic_create(struct wic **wicp, su_root_t *root, void *gloop,
	       const struct conf *conf, struct store *store);

/**
 * Starts a clean shutdown: every WebSocket is closed with 1001 (going away)
 * and no new one is accepted. Returns the number of flows still open; call
 * wic_flow_count() until it is 0 (or a deadline passes), then wic_destroy().
 */
size_t wic_shutdown(struct wic *wic);

/** Number of open WebSocket flows. O(1). */
size_t wic_flow_count(const struct wic *wic);

/** Frees the edge, closing what is still open. NULL is allowed. */
void wic_destroy(struct wic *wic);

/* ---- the hook for the call core ------------------------------------- */

/**
 * Called for a request from an authenticated WIC that the edge does not
 * handle itself. The handler owns @p st: it must answer it with
 * wic_strans_reply() (at once or later). @p msg belongs to the transaction.
 */
typedef void (wic_request_h)(void *arg, struct wic_flow *flow,
			     struct wic_strans *st, msg_t *msg, sip_t *sip);

/** Sets the handler for requests the edge does not handle (NULL: 501). */
void wic_request_handler_set(struct wic *wic, wic_request_h *h, void *arg);

/* ---- server transactions (requests from a WIC) --------------------- */

/**
 * Answers a server transaction. @p tags are Sofia SIPTAG_* items added to
 * the response (end with TAG_END()). A final status ends a non-INVITE
 * transaction; an INVITE one waits for the ACK of a non-2xx. Returns 0,
 * EALREADY after a final answer, or EPIPE when the flow is gone.
 */
int wic_strans_reply(struct wic_strans *st, int status, const char *phrase,
		     tag_type_t tag, tag_value_t value, ...);

/** The flow a server transaction came on, or NULL once it is closed. */
struct wic_flow *wic_strans_flow(const struct wic_strans *st);

/* ---- flows ----------------------------------------------------------- */

/** The connection id used in log lines. */
unsigned long wic_flow_id(const struct wic_flow *flow);

/** The identity (AOR) the flow authenticated as, or NULL. */
const char *wic_flow_identity(const struct wic_flow *flow);

/* ---- client transactions (requests to a WIC) ------------------------ */

/**
 * Called once per response to a client transaction (provisional ones
 * included), and once with @p msg NULL and @p status 408 when the WIC does
 * not answer within 32 s or 503 when its flow closes. @p msg is borrowed for
 * the call only.
 */
typedef void (wic_response_h)(void *arg, struct wic_ctrans *ct, int status,
			      msg_t *msg, sip_t *sip);

/**
 * Sends request @p msg (ownership taken, also on error) down @p flow. The
 * layer adds a Via with a fresh branch on top. For INVITE, a non-2xx final
 * response is ACKed by the layer; a 2xx is left to the caller. The
 * transaction lives until its final response or timeout; @p h is not called
 * after wic_ctrans_abandon(). Returns 0 or an errno code.
 */
int wic_ctrans_send(struct wic_flow *flow, msg_t *msg, wic_response_h *h,
		    void *arg, struct wic_ctrans **ctp);

/** Sends CANCEL for a pending INVITE client transaction. Returns 0 or EALREADY. */
int wic_ctrans_cancel(struct wic_ctrans *ct, const char *reason);

/** Stops reporting to the handler; the transaction finishes on its own. */
void wic_ctrans_abandon(struct wic_ctrans *ct);

#endif
