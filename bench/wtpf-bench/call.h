/**
 * @file call.h  Calls of an emulated client, both ways, as a browser
 * would make them: INVITE with a WebRTC offer, ACK, BYE after the hold
 * time (digest challenges of a proxy answered); incoming INVITEs answered
 * with 180 and 200 with an answer, then ACK and BYE either way; re-INVITE,
 * UPDATE, INFO and CANCEL handled.
 *
 * A client has at most one call (c->call); an INVITE to a busy client gets
 * 486. The call owns its memory and frees it when it ends.
 */
#ifndef WTPF_BENCH_CALL_H
#define WTPF_BENCH_CALL_H

#include <stdbool.h>

struct bclient;
struct bsip_msg;

/**
 * Places a call from @p c to @p uri. With @p callee (a bench client
 * reserved for it) the reservation is released when the call ends.
 * Returns 0, EBUSY when @p c has a call, ENOTCONN or ENOMEM.
 */
int bcall_place(struct bclient *c, const char *uri, struct bclient *callee);

/**
 * Handles request @p m of a call (INVITE, ACK, BYE, CANCEL, UPDATE, INFO,
 * PRACK) received by @p c; answers what needs an answer. Returns true when
 * it took the request, false when it is not a call's (the caller answers).
 */
bool bcall_on_request(struct bclient *c, const struct bsip_msg *m);

/**
 * Handles response @p m whose Via branch is @p branch. Returns true when
 * it belonged to @p c's call.
 */
bool bcall_on_response(struct bclient *c, const struct bsip_msg *m,
		       const char *branch);

/**
 * Ends @p c's call at once, counted as failed with @p why (the WebSocket
 * is gone). Nothing happens without a call.
 */
void bcall_abort(struct bclient *c, const char *why);

#endif
