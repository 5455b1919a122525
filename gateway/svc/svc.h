/**
 * @file svc.h  The third party's services (seed 001), behind the call
 * core's table of hooks (struct call_hooks): number transformation (a dial
 * plan toward IMS, the calling number shown to browsers), barred
 * destinations and emergency numbers, call diversion and ring groups with
 * their agents' state. Rules are compiled per tenant from the
 * configuration, and again on reload; diversion settings and paused agents
 * are read from the store on each call, so they change at run time.
 *
 * Ownership: the caller owns struct svc; it borrows the configuration
 * until svc_reload() gives it another, and the store for its lifetime.
 */
#ifndef WTPF_SVC_H
#define WTPF_SVC_H

#include "gateway/call/call.h"

struct conf;
struct store;
struct svc;

/**
 * Compiles every tenant's rules; @p store (may be NULL: configuration
 * only) holds diversion settings and paused agents. Returns 0, ENOMEM or
 * EINVAL (logged).
 */
int svc_create(struct svc **sp, const struct conf *conf, struct store *store);

/** Compiles @p conf's rules and swaps them in; on error nothing changes. */
int svc_reload(struct svc *s, const struct conf *conf);

/** Frees everything. NULL is allowed. */
void svc_destroy(struct svc *s);

/** What the services know of an agent (any user of a tenant). */
struct svc_agent_info {
	unsigned calls;        /**< calls in progress */
	bool paused;           /**< paused in the store */
	long idle_secs;        /**< seconds since its last call ended; -1 never */
};

/** Fills @p out for @p number of @p tenant. Returns 0, or EIO when the
 *  store could not say whether it is paused (then paused is false). */
int svc_agent_info(const struct svc *s, const char *tenant, const char *number,
		   struct svc_agent_info *out);

/** The hook table to give call_core_hooks_set() with @p s as its arg. */
const struct call_hooks *svc_hooks(void);

#endif
