/**
 * @file call.h  The call core: a B2BUA between WebSocket clients (the WIC
 * edge) and IMS (the W8 trunk). Each call has a WIC side (one dialog, or
 * several forked branches while an inbound call rings) and a W8 side (one
 * leg); SIP is rebuilt on each side, so nothing of one side's addressing
 * (Call-ID, tags, Via, Contact, .invalid hosts) reaches the other.
 */
#ifndef WTPF_CALL_H
#define WTPF_CALL_H

#include <stddef.h>

struct conf;
struct ident;
struct wic;
struct w8;
struct call_core;

/**
 * Creates the call core and hooks it to @p wic and @p w8; @p ident says
 * which tenant and trunk serve a number (all borrowed; they must outlive
 * the core). Returns 0 or ENOMEM.
 */
int call_core_create(struct call_core **ccp, const struct conf *conf,
		     struct wic *wic, struct w8 *w8, struct ident *ident);

/** Hangs up every call (BYE or CANCEL on both sides). */
/** Takes a new configuration (borrowed; it must outlive the core). */
void call_core_reload(struct call_core *cc, const struct conf *conf);

void call_core_shutdown(struct call_core *cc);

/** Number of calls in progress. O(1). */
size_t call_core_count(const struct call_core *cc);

/** Frees the core; calls still present are dropped. NULL is allowed. */
void call_core_destroy(struct call_core *cc);

#endif
