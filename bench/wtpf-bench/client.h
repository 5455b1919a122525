/**
 * @file client.h  One emulated WebRTC client: a WebSocket to the edge
 * (subprotocol "sip", Origin, a source address of its own), its
 * registration (Bearer token or digest; refreshed before expiry), the
 * requests that are not part of a call, and a queue of frames to send.
 *
 * Clients live in bench->clients (one array, never moved); the call module
 * (call.h) keeps at most one call per client in c->call.
 */
#ifndef WTPF_BENCH_CLIENT_H
#define WTPF_BENCH_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "bench/wtpf-bench/timer.h"

struct bench;
struct bcall;
struct bauth_chal;
struct lws;
struct bmsg;

enum bclient_state {
	BCS_IDLE,               /**< not started */
	BCS_CONNECTING,
	BCS_OPEN,               /**< WebSocket up, not (or no longer)
				     registered */
	BCS_REGISTERED,
	BCS_CLOSED,             /**< closed or failed to connect */
};

/** A client. Members are owned by the client module unless noted. */
struct bclient {
	struct bench *b;
	uint32_t idx;           /**< position in b->clients */
	uint8_t state;          /**< enum bclient_state */
	bool closing;           /**< we are closing it */
	bool reserved;          /**< chosen as a callee, INVITE not yet seen */
	bool reg_pending;       /**< a REGISTER transaction is in flight */
	bool ever_registered;
	uint8_t reg_kind;       /**< enum bstat of that REGISTER */
	uint8_t reg_tries;      /**< digest answers sent for it */
	struct lws *wsi;
	const char *addr;       /**< source address (borrowed) */
	char user[48];
	char number[40];        /**< from P-Associated-URI, else "" */
	char cuser[12];         /**< Contact user part */
	char chost[24];         /**< Contact and Via host (*.invalid) */
	char instance[40];      /**< +sip.instance UUID */
	char reg_callid[24];
	char reg_tag[12];
	char reg_branch[28];
	uint32_t reg_cseq;
	int reg_expires;        /**< asked for by the pending REGISTER */
	uint64_t reg_t0;        /**< first send of the pending REGISTER */
	uint64_t t_connect;     /**< connect start */
	struct btimer t_reg;    /**< REGISTER timeout, or refresh when idle */
	char *token;            /**< current Bearer token (malloc'd) */
	time_t token_exp;
	struct bauth_chal *chal;   /**< last digest challenge (malloc'd) */
	struct bmsg *q_head, *q_tail;   /**< frames waiting to be written */
	char *rx;               /**< a message arriving in fragments */
	size_t rx_len, rx_cap;
	struct bcall *call;     /**< owned by the call module */
};

/** The libwebsockets protocol callback of the "sip" subprotocol. */
int bclient_lws_cb(struct lws *wsi, int reason, void *user, void *in,
		   size_t len);

/**
 * Initialises client @p idx of @p b (names, Contact, instance) without
 * connecting. Never fails.
 */
void bclient_init(struct bench *b, struct bclient *c, uint32_t idx);

/**
 * Connects @p c and registers it once the WebSocket is up. Outcomes show
 * in the gauges and statistics. Returns 0, or EALREADY when @p c was
 * started before.
 */
int bclient_start(struct bclient *c);

/**
 * Sends a re-REGISTER (@p expires 0: removes the binding). Returns 0,
 * EBUSY while a REGISTER is in flight, ENOTCONN when not registered.
 */
int bclient_register(struct bclient *c, int expires);

/** Closes @p c's WebSocket (status 1000); outcomes show in the gauges. */
void bclient_close(struct bclient *c);

/** Frees what @p c holds (after the context is gone). */
void bclient_fini(struct bclient *c);

/**
 * Queues @p len bytes of @p text as one WebSocket text frame. Returns 0,
 * ENOTCONN or ENOMEM.
 */
int bclient_send(struct bclient *c, const char *text, size_t len);

/** "sip:USER@DOMAIN" of @p c into @p out. */
void bclient_aor(const struct bclient *c, char *out, size_t size);

/** The Contact header value @p c uses in requests and answers. */
void bclient_contact(const struct bclient *c, char *out, size_t size);

/** True when @p c is registered and has no call and no reservation. */
bool bclient_available(const struct bclient *c);

#endif
