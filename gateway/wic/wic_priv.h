/**
 * @file wic_priv.h  Private to gateway/wic/: the objects shared by the
 * edge's files. Ownership: struct wic owns the flows, the transaction layer
 * and the registrar; a flow owns its output queue; the registrar owns the
 * bindings (a flow only lists the bindings made on it).
 */
#ifndef WTPF_WIC_PRIV_H
#define WTPF_WIC_PRIV_H

#include "wic.h"
#include "util/histo.h"
#include "gateway/ident/ident.h"

#include <glib.h>
#include <stdint.h>
#include <time.h>
#include <sofia-sip/su_alloc.h>

struct auth_digest;
struct auth_keyset;
struct conf_tenant;
struct conf_issuer;
struct lws;
struct lws_context;
struct wic_reg;
struct wic_ws;
struct wic_tl;

/** Close codes of RFC 6455 used by the edge. */
enum {
	WIC_CLOSE_NORMAL = 1000,
	WIC_CLOSE_GOING_AWAY = 1001,
	WIC_CLOSE_PROTOCOL = 1002,
	WIC_CLOSE_BAD_DATA = 1007,
	WIC_CLOSE_POLICY = 1008,
	WIC_CLOSE_TOO_BIG = 1009,
};

/** Token keys of one issuer, loaded at start. */
struct wic_issuer {
	const struct conf_issuer *conf;
	struct auth_keyset *keys;
};

/** Run-time state of a tenant: its issuers' keys. Lives as long as the
 *  edge (flows point to it), across reloads. */
struct wic_tenant {
	char name[64];
	bool removed;                  /**< gone from the configuration */
	const struct conf_tenant *conf;
	struct wic_issuer *issuers;
	size_t issuer_count;
};

/** How a flow's identity was proven. */
enum wic_authn { WIC_AUTHN_NONE = 0, WIC_AUTHN_BEARER, WIC_AUTHN_DIGEST,
		 WIC_AUTHN_ANONYMOUS };

/** An authenticated identity: who, of which tenant, until when. */
struct wic_identity {
	const struct wic_tenant *tenant;
	enum wic_authn how;
	char aor[256];        /**< canonical AOR the credentials cover; with
				   identity sets, sip:NUMBER@DOMAIN */
	char alias[256];      /**< the AOR the client named instead (its
				   subject's, before it learnt its number) */
	char subject[256];    /**< token `sub`, digest username, anon-... */
	bool claimed;         /**< the token named the identity (impu claim) */
	time_t until;         /**< token expiry; 0: no expiry */
	struct ident_grant grant;   /**< number, set and trunk; number ""
				         when the tenant has no sets */
};

/** One queued outgoing WebSocket message. */
struct wic_out {
	struct wic_out *next;
	size_t len;
	unsigned char data[];  /**< LWS_PRE bytes of head room, then the text */
};

/** A WebSocket connection: an RFC 5626 flow. */
struct wic_flow {
	unsigned long id;
	struct wic *wic;
	struct lws *wsi;           /**< NULL once closed */
	char peer[64];
	char origin[256];
	bool tls;
	struct wic_identity ident;     /**< how == NONE until authenticated */
	bool ident_from_handshake;     /**< token given at the handshake */
	char *rx;                      /**< fragments of the message being read */
	size_t rx_len;
	struct wic_out *out_head, **out_tail;
	size_t out_bytes;
	GList *bindings;               /**< struct wic_binding *, not owned */
	int close_code;                /**< when set, close at the next write */
	const char *close_reason;
	struct wic_tok_memo *tok_memo; /**< last Bearer token verified, owned
					    (wic_auth.c) */
	bool held;                     /**< output waits for a store commit */
};

struct wic {
	const struct conf *conf;
	struct store *store;
	struct ident *ident;
	su_root_t *root;
	su_home_t home[1];
	void *gloop;
	struct lws_context *lws;
	struct wic_ws *ws;            /**< libwebsockets tables (wic_ws.c) */
	struct wic_tenant **tenants;   /**< owned, each allocated on its own */
	size_t tenant_count;
	struct auth_digest *digest;
	struct wic_reg *reg;
	struct wic_tl *tl;
	GHashTable *flows;            /**< id -> struct wic_flow * (owned) */
	unsigned long next_flow_id;
	unsigned long conf_gen;        /**< bumped by each reload */
	struct wic_limits *limits;     /**< overload protection (wic_limits.c) */
	su_timer_t *tick;
	bool closing;
	wic_request_h *req_h;
	void *req_arg;
	wic_flow_closed_h *closed_h;
	void *closed_arg;
	GArray *held;                  /**< ids of flows whose output waits
					    for the store's commit */
	unsigned long auth_fail[WIC_AUTH_FAIL_COUNT];
	struct histo sip_time[WIC_SIP_KINDS];
};

/* wic_ident.c: identities of tenants with identity sets */
bool wic_ident_anonymous_allowed(const struct conf_tenant *t);
/** A REGISTER without credentials for sip:anonymous@DOMAIN, allowed. */
bool wic_ident_is_anonymous_request(const struct conf_tenant *t,
				    const sip_t *sip);
/** Fills @p id for an anonymous user (subject from +sip.instance). */
void wic_ident_anonymous(struct wic_flow *flow, const struct wic_tenant *t,
			 const sip_t *sip, struct wic_identity *id);
/**
 * Acquires the number of @p id (claimed or allocated) and makes its AOR
 * sip:NUMBER@DOMAIN, keeping the one named before as its alias. A tenant
 * without sets: nothing changes. Answers @p st (403/503/500) and returns
 * an error when refused.
 */
int wic_ident_register(struct wic *wic, struct wic_flow *flow,
		       struct wic_strans *st, struct wic_identity *id);
/** True when @p aor is the identity's AOR or its alias. */
bool wic_ident_names(const struct wic_identity *id, const char *aor);

/* wic_flow.c */
int wic_flow_create(struct wic *wic, struct lws *wsi, struct wic_flow **flowp);
void wic_flow_closed(struct wic_flow *flow);
int wic_flow_send(struct wic_flow *flow, const char *data, size_t len);
int wic_flow_send_msg(struct wic_flow *flow, msg_t *msg);
void wic_flow_close(struct wic_flow *flow, int code, const char *reason);
/**
 * Stored before told: true (and @p flow's output held back) while the
 * store has uncommitted writes; wic_flows_release() sends it after the
 * commit. O(1).
 */
bool wic_flow_held(struct wic_flow *flow);
/** After a store commit: writes out what each held flow queued. */
void wic_flows_release(struct wic *wic);
void wic_flow_on_message(struct wic_flow *flow, const char *data, size_t len);

/* wic_ws.c */
/* wic_limits.c: overload protection (configuration group `limits`) */
int wic_limits_create(struct wic *wic);
void wic_limits_destroy(struct wic *wic);
/** NULL when a new connection from @p addr may go on, else why not. */
const char *wic_limits_connect(struct wic *wic, const char *addr);
/** True (counted, logged) when max_connections is reached: the new
 * connection is dropped at accept, before any TLS. */
bool wic_limits_full(struct wic *wic);
/** Counts a flow of @p addr in or out. */
void wic_limits_flow_open(struct wic *wic, const char *addr);
void wic_limits_flow_closed(struct wic *wic, const char *addr);
/**
 * Checks a new request (not a retransmission, ACK or CANCEL) against the
 * pending-transaction cap and its address's REGISTER and INVITE rates.
 * False when refused: @p msg was then answered 503 with Retry-After and
 * taken.
 */
bool wic_limits_request(struct wic_flow *flow, msg_t *msg, const sip_t *sip);
/** True (and counted) when @p addr, or @p user of @p tenant, is locked out. */
bool wic_limits_locked(struct wic *wic, const char *addr, unsigned long id,
		       const char *tenant, const char *user);
/** Counts a failed authentication from @p addr (for @p user, if known). */
void wic_limits_auth_failed(struct wic *wic, const char *addr,
			    unsigned long id, const char *tenant,
			    const char *user);
/** Forgets addresses and users that no longer matter. */
void wic_limits_tick(struct wic *wic, time_t now);
/** Transactions pending toward browsers (server and client). */
size_t wic_tl_pending(const struct wic_tl *tl);

int wic_ws_start(struct wic *wic);
/**
 * Loads the wss certificate and key again from the files the listener was
 * started with (a renewed certificate, same paths): new connections get
 * it, open ones keep theirs. On error (unreadable, or a key that does not
 * match) logs why, keeps the running pair and returns EINVAL.
 */
int wic_ws_tls_reload(struct wic *wic);
void wic_ws_stop(struct wic *wic);
void wic_ws_want_write(struct wic_flow *flow);

/* wic_http.c: the pages of web.root on the WebSocket listeners */
/**
 * Answers a plain HTTP request for @p uri (LWS_CALLBACK_HTTP): a file of
 * the served folders, a redirect, 404 or 405. Returns what the callback
 * returns (-1: close the connection).
 */
int wic_http_serve(struct lws *wsi, const char *uri);
/** A file has been sent (LWS_CALLBACK_HTTP_FILE_COMPLETION): ends the
 *  request. Returns what the callback returns. */
int wic_http_done(struct lws *wsi);

/* wic_sip.c: parsing, checking, building messages */
int wic_sip_parse(const char *data, size_t len, msg_t **msgp,
		  const char **why);
msg_t *wic_sip_response(msg_t *req, int status, const char *phrase,
			const char *to_tag, tagi_t const *tags);
char *wic_sip_to_string(msg_t *msg, size_t *len);
/**
 * The response to @p req as text, printed from the request's Via, From,
 * To (with @p to_tag added past 100 when it has none), Call-ID and CSeq,
 * then the header and payload tags of @p tags, then Content-Length.
 * Returns a malloc'd string of *@p len bytes (NUL-terminated) for the
 * caller to free, or NULL with errno: ENOTSUP for a tag it does not print
 * (a message tag, a header the response takes from its request, or a
 * string or phrase with CR or LF in it; use wic_sip_response()), EINVAL,
 * ENOMEM. O(size of the response).
 */
char *wic_sip_response_text(msg_t *req, int status, const char *phrase,
			    const char *to_tag, tagi_t const *tags,
			    size_t *len);
int wic_sip_aor(su_home_t *home, const url_t *uri, char *buf, size_t size);
int wic_sip_via_add(msg_t *msg);
/**
 * Writes @p n random characters of [0-9a-v] and a NUL to @p out (n + 1
 * bytes): a tag, branch or Call-ID, 5 bits of GLib's generator per
 * character (RFC 3261 19.3 asks for at least 32 bits in a tag). O(n).
 */
void wic_sip_token(char *out, size_t n);

/* wic_trans.c: the transaction layer */
int wic_tl_create(struct wic *wic, struct wic_tl **tlp);
void wic_tl_destroy(struct wic_tl *tl);
void wic_tl_on_request(struct wic_tl *tl, struct wic_flow *flow, msg_t *msg);
void wic_tl_on_response(struct wic_tl *tl, struct wic_flow *flow, msg_t *msg);
void wic_tl_flow_closed(struct wic_tl *tl, struct wic_flow *flow);
void wic_tl_tick(struct wic_tl *tl, time_t now);
size_t wic_tl_count(const struct wic_tl *tl);

/* wic_auth.c: authenticating requests */
int wic_tenants_load(struct wic *wic, const struct conf *conf);
void wic_tenants_free(struct wic *wic);
const struct wic_tenant *wic_tenant_for(const struct wic *wic,
					 const char *origin, const char *domain);
bool wic_origin_allowed(const struct wic *wic, const char *origin);
int wic_auth_token(struct wic *wic, const char *origin, const char *token,
		   struct wic_identity *id, const char **why);
int wic_auth_request(struct wic_flow *flow, struct wic_strans *st, sip_t *sip,
		     const struct wic_tenant *tenant, struct wic_identity *id);

/* wic_registrar.c */
int wic_reg_create(struct wic *wic, struct wic_reg **regp);
void wic_reg_destroy(struct wic_reg *reg);
void wic_reg_on_register(struct wic_reg *reg, struct wic_flow *flow,
			 struct wic_strans *st, sip_t *sip);
void wic_reg_flow_closed(struct wic_reg *reg, struct wic_flow *flow);
void wic_reg_tick(struct wic_reg *reg, time_t now);
size_t wic_reg_binding_count(const struct wic_reg *reg);

/* wic_core.c: dispatch of requests the edge handles itself */
void wic_core_on_request(struct wic *wic, struct wic_flow *flow,
			 struct wic_strans *st, msg_t *msg, sip_t *sip);
bool wic_core_on_cancel(struct wic *wic, struct wic_flow *flow,
			struct wic_strans *inv, msg_t *msg, sip_t *sip);

/* server transaction internals used by the registrar and the core */
msg_t *wic_strans_request(const struct wic_strans *st);
const char *wic_strans_to_tag(const struct wic_strans *st);
int wic_strans_reply_tags(struct wic_strans *st, int status,
			  const char *phrase, tagi_t const *tags);

#endif
