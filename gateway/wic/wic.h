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
#include <stdint.h>
#include <sofia-sip/su_wait.h>
#include <sofia-sip/su_tag.h>
#include <sofia-sip/msg.h>
#include <sofia-sip/sip.h>

struct conf;
struct conf_tenant;
struct store;
struct ident;
struct wic;
struct wic_flow;
struct wic_strans;
struct wic_ctrans;

/**
 * Creates the edge: loads the tenants' token keys, opens the ws/wss
 * listeners on the GLib main loop @p gloop (a GMainLoop *), and starts the
 * housekeeping timer on @p root. @p conf, @p store and @p ident (the
 * tenants' numbers, see gateway/ident/ident.h) are borrowed and must
 * outlive the edge. Returns 0, or an errno code after logging why.
 */
int wic_create(struct wic **wicp, su_root_t *root, void *gloop,
	       const struct conf *conf, struct store *store,
	       struct ident *ident);

/**
 * Takes a new configuration (validated; borrowed, it must outlive the edge
 * as the old one must): tenants, their keys, Origins and options, the
 * registrar's limits. Listeners and flows stay. Returns 0, or an errno code
 * (a key file that does not load: logged) with nothing changed.
 */
int wic_reload(struct wic *wic, const struct conf *conf);

/**
 * Starts a clean shutdown: every WebSocket is closed with 1001 (going away)
 * and no new one is accepted. Returns the number of flows still open; call
 * wic_flow_count() until it is 0 (or a deadline passes), then wic_destroy().
 */
size_t wic_shutdown(struct wic *wic);

/** Number of open WebSocket flows. O(1). */
size_t wic_flow_count(const struct wic *wic);

/** Number of registered bindings (devices) over all AORs. O(1). */
size_t wic_binding_count(const struct wic *wic);

/** Why an authentication failed, for the metrics. */
enum wic_auth_fail {
	WIC_AUTH_INVALID_TOKEN = 0,   /**< a Bearer token refused (REGISTER) */
	WIC_AUTH_HANDSHAKE_TOKEN,     /**< a token refused at the handshake */
	WIC_AUTH_MALFORMED,           /**< digest credentials that do not parse */
	WIC_AUTH_URI_MISMATCH,        /**< digest-uri is not the Request-URI */
	WIC_AUTH_UNKNOWN_USER,        /**< digest for a user not in the store */
	WIC_AUTH_BAD_CREDENTIALS,     /**< a digest response that does not match */
	WIC_AUTH_STALE_NONCE,         /**< an expired or replayed nonce */
	WIC_AUTH_DIGEST_NOT_ALLOWED,  /**< digest for a tenant without it */
	WIC_AUTH_NOT_COVERED,         /**< credentials not covering the AOR */
	WIC_AUTH_FAIL_COUNT
};

/** Its label in the metrics ("invalid_token"...). */
const char *wic_auth_fail_name(enum wic_auth_fail why);

/** Authentication failures counted for @p why since the start. */
unsigned long wic_auth_failures(const struct wic *wic, enum wic_auth_fail why);

/** Why the overload protection (configuration group `limits`) refused. */
enum wic_limit {
	WIC_LIMIT_CONNECTIONS,          /**< max_connections reached */
	WIC_LIMIT_ADDRESS_CONNECTIONS,  /**< max_connections_per_address */
	WIC_LIMIT_REGISTER_RATE,        /**< register_rate of an address */
	WIC_LIMIT_INVITE_RATE,          /**< invite_rate of an address */
	WIC_LIMIT_TRANSACTIONS,         /**< max_transactions pending */
	WIC_LIMIT_LOCKED,               /**< a locked-out address or user */
	WIC_LIMIT_COUNT
};

/** The metric label of @p why ("register_rate"...). */
const char *wic_limit_name(enum wic_limit why);

/** Requests or connections refused so far for @p why. */
unsigned long wic_limit_refusals(const struct wic *wic, enum wic_limit why);

/** Lockouts so far: of addresses, or (@p users) of users. */
unsigned long wic_limit_lockouts(const struct wic *wic, bool users);

/** What the SIP processing time histograms are kept for. */
enum wic_sip_kind { WIC_SIP_REGISTER = 0, WIC_SIP_INVITE, WIC_SIP_OTHER,
		    WIC_SIP_RESPONSE, WIC_SIP_KINDS };

struct histo;

/**
 * The time the gateway spends on a SIP message from a browser, from its
 * arrival to its answer or its hand-over to the trunk, for @p kind; its
 * label ("REGISTER", "INVITE", "other", "response") in @p label.
 */
const struct histo *wic_sip_time(const struct wic *wic, enum wic_sip_kind kind,
				 const char **label);

/** Frees the edge, closing what is still open. NULL is allowed. */
void wic_destroy(struct wic *wic);

/* ---- the hook for the call core ------------------------------------- */

/**
 * Called for a request from an authenticated WIC that the edge does not
 * handle itself. The handler owns @p st: it must answer it with
 * wic_strans_reply() (at once or later). @p msg belongs to the transaction.
 * Two special cases: an ACK of a 2xx comes with @p st NULL; a CANCEL that
 * matched a pending INVITE comes with the INVITE's @p st and the CANCEL as
 * @p msg (already answered 200): the handler answers the INVITE (487).
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

/**
 * The trunk the flow's identity is reached through (its identity set's),
 * or NULL when the tenant has no sets (then the tenant's trunk).
 */
const char *wic_flow_trunk(const struct wic_flow *flow);

/** The tenant the flow authenticated for, or NULL. */
const struct conf_tenant *wic_flow_tenant(const struct wic_flow *flow);

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
 * after wic_ctrans_abandon(). Returns 0 or an errno code (EPIPE: the flow
 * is closing); on an error no transaction is left and @p h is never called.
 */
int wic_ctrans_send(struct wic_flow *flow, msg_t *msg, wic_response_h *h,
		    void *arg, struct wic_ctrans **ctp);

/** Sends CANCEL for a pending INVITE client transaction. Returns 0 or EALREADY. */
int wic_ctrans_cancel(struct wic_ctrans *ct, const char *reason);

/** Stops reporting to the handler; the transaction finishes on its own. */
void wic_ctrans_abandon(struct wic_ctrans *ct);

/* ---- registrar look-up and flow events, for the call core ----------- */

/** One registered device of an AOR: the flow to reach it and its Contact. */
struct wic_target {
	struct wic_flow *flow;
	const sip_contact_t *contact;   /**< borrowed: valid until the loop runs */
};

/**
 * Lists up to @p max registered devices of @p aor (canonical, as
 * wic_aor_canonical() makes it) into @p out. Returns how many. O(devices).
 */
size_t wic_lookup(struct wic *wic, const char *aor, struct wic_target *out,
		  size_t max);

/** Makes @p uri canonical as an AOR (sip:user@host lower-cased, tel:number). */
int wic_aor_canonical(const url_t *uri, char *buf, size_t size);

/** One registered device, as the admin API lists it (all borrowed). */
struct wic_reg_info {
	const char *aor;           /**< canonical AOR */
	const char *tenant;
	const char *number;        /**< the identity's number, or "" */
	const char *contact;       /**< its Contact URI */
	const char *instance;      /**< +sip.instance, or "" */
	const char *impi;          /**< its private identity, or "" */
	const char *peer;          /**< the WebSocket's remote address */
	bool tls;
	unsigned long flow_id;
	long expires_in;           /**< seconds left */
};

/** Called per device by wic_registrations(); non-zero stops. */
typedef int (wic_reg_f)(void *arg, const struct wic_reg_info *r);

/** Walks the registered devices (of @p tenant; NULL: all). Returns 0 or
 *  what @p fn returned. O(devices). */
int wic_registrations(struct wic *wic, const char *tenant, wic_reg_f *fn,
		      void *arg);

/** Called when a flow closes, before its bindings and transactions go. */
typedef void (wic_flow_closed_h)(void *arg, struct wic_flow *flow);

/** Sets who hears of closed flows (the call core ends their calls). */
void wic_flow_closed_handler_set(struct wic *wic, wic_flow_closed_h *h,
				 void *arg);

/* ---- dialogs with a WIC (RFC 3261 section 12) ----------------------- */

struct wic_dialog;

/**
 * Makes the UAS dialog of an INVITE server transaction @p st: our tag is the
 * one the transaction answers with, the remote target is the WIC's Contact.
 * @p contact is the Contact we put in our answers. Freed with
 * wic_dialog_destroy().
 */
int wic_dialog_uas(struct wic_strans *st, const char *contact,
		   struct wic_dialog **dp);

/** What an INVITE toward a WIC says. Strings are copied. */
struct wic_invite {
	const char *request_uri;   /**< the binding's Contact URI */
	const char *from;          /**< From header value (our tag is added) */
	const char *to;            /**< To header value */
	const char *contact;       /**< our Contact */
	const char *sdp;           /**< offer, or NULL */
	const char *extra;         /**< extra header lines, or NULL */
};

/**
 * Sends an INVITE down @p flow, making the UAC dialog @p *dp (early until
 * wic_dialog_confirm()). Responses go to @p h. Returns 0 or an errno code.
 */
int wic_dialog_invite(struct wic_flow *flow, const struct wic_invite *inv,
		      wic_response_h *h, void *arg, struct wic_dialog **dp,
		      struct wic_ctrans **ctp);

/** Fixes the remote tag and target from a 2xx (or reliable 1xx). */
int wic_dialog_confirm(struct wic_dialog *d, const sip_t *rsp);

/**
 * Sends an in-dialog request (BYE, INVITE, UPDATE, INFO, PRACK...) with an
 * optional body. Returns 0 or an errno code (EPIPE: the flow is closed).
 */
int wic_dialog_request(struct wic_dialog *d, const char *method,
		       const char *content_type, const char *body,
		       const char *extra, wic_response_h *h, void *arg,
		       struct wic_ctrans **ctp);

/** Sends the ACK of a 2xx to our INVITE with CSeq @p cseq. */
int wic_dialog_ack(struct wic_dialog *d, uint32_t cseq, const char *sdp);

/** True when @p sip (a request from the WIC) belongs to this dialog. */
bool wic_dialog_matches(const struct wic_dialog *d, const sip_t *sip);

/** The dialog's flow (NULL once it closed), Call-ID, and our tag. */
struct wic_flow *wic_dialog_flow(const struct wic_dialog *d);
const char *wic_dialog_call_id(const struct wic_dialog *d);
const char *wic_dialog_local_tag(const struct wic_dialog *d);

/** Frees a dialog. NULL is allowed. */
void wic_dialog_destroy(struct wic_dialog *d);

#endif
