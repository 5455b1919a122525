/**
 * @file fixture.h  What the gateway harnesses of tests/fuzz/ run against:
 * a configuration written to a temporary folder from a built-in text (one
 * tenant "acme" with token issuers, digest, identity sets, services, and
 * one static-mode trunk "ims"), the store and the identity sets on it, and
 * the WebSocket edge without sockets (wic_ws_stub.c stands in for the
 * libwebsockets side: a flow is a struct wic_flow whose output queue the
 * harness reads). With FIXTURE_TRUNK the trunk is real too (a Sofia nua
 * agent on a loopback UDP port), with the call core and the services.
 *
 * One fixture per process, made by the harness's first input and freed at
 * exit (so that LeakSanitizer sees only what an input leaked).
 */
#ifndef WTPF_FUZZ_FIXTURE_H
#define WTPF_FUZZ_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sofia-sip/su_wait.h>

struct conf;
struct store;
struct ident;
struct wic;
struct wic_flow;
struct w8;
struct call_core;
struct svc;

/** The tenant of the built-in configuration. */
#define FIXTURE_ORIGIN "https://phone.acme.example.com"
#define FIXTURE_DOMAIN "acme.example.com"
#define FIXTURE_ISSUER "https://idp.acme.example.com"
#define FIXTURE_AUDIENCE "wtpf"

enum fixture_parts {
	FIXTURE_WIC = 0,     /**< conf, store, ident, wic */
	FIXTURE_TRUNK = 1,   /**< and w8 (loopback UDP), svc, call core */
};

struct fixture {
	char dir[64];             /**< the temporary folder */
	struct conf *conf;
	struct store *store;
	struct ident *ident;
	su_root_t *root;          /**< a GLib-backed root, not threaded */
	struct wic *wic;
	struct w8 *w8;            /**< FIXTURE_TRUNK only */
	struct svc *svc;
	struct call_core *calls;
	int pcscf_fd;             /**< FIXTURE_TRUNK: the P-CSCF's UDP socket */
	uint16_t pcscf_port;
	uint16_t trunk_port;      /**< where the trunk listens (UDP and TCP) */
};

/**
 * The process's fixture, made on the first call (exits the process when
 * it cannot be made: a harness without it is no test). @p parts only
 * matters on the first call.
 */
struct fixture *fixture_get(enum fixture_parts parts);

/**
 * Runs the loop until nothing more happens at once: Sofia's root and the
 * GLib default context, at most @p rounds rounds.
 */
void fixture_pump(struct fixture *fx, int rounds);

/** Opens a flow from @p origin as on_established() would (no socket). */
struct wic_flow *fixture_flow_open(struct fixture *fx, const char *origin);

/**
 * Authenticates @p flow with @p token as a handshake token would (the
 * ?access_token= or Authorization of the upgrade request). Returns 0 or
 * the error of wic_auth_token().
 */
int fixture_flow_token(struct fixture *fx, struct wic_flow *flow,
		       const char *token);

/** Hands @p data to the flow as one WebSocket message. */
void fixture_flow_message(struct wic_flow *flow, const char *data, size_t len);

/**
 * Takes the messages the edge queued on @p flow, in order, calling @p fn
 * for each (it may be NULL), and frees them. Aborts when one of them is not
 * a SIP message Sofia parses without error: what the gateway sends must be
 * well formed whatever it got.
 */
typedef void (fixture_out_f)(void *arg, const char *data, size_t len);
void fixture_flow_drain(struct wic_flow *flow, fixture_out_f *fn, void *arg);

/** Closes @p flow as libwebsockets would once the connection is gone. */
void fixture_flow_close(struct wic_flow *flow);

/**
 * A token for @p sub of the fixture's tenant (HS256, the secret of
 * tests/data/jwt/hmac.secret), valid from now on for a day; malloc'd.
 */
char *fixture_token(struct fixture *fx, const char *sub, const char *impu);

/** Aborts when @p data (@p len bytes) is not a well-formed SIP message. */
void fixture_check_sip(const char *data, size_t len, const char *where);

#endif
