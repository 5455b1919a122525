/**
 * @file svc_priv.h  Private to gateway/svc/: the compiled rules of each
 * tenant and the agents' state.
 */
#ifndef WTPF_SVC_PRIV_H
#define WTPF_SVC_PRIV_H

#include "svc.h"

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

struct conf_tenant;
struct rewrite;
struct store;

/** A list of compiled rules. */
struct svc_rules {
	struct rewrite **r;
	size_t n;
};

struct svc_tenant {
	const struct conf_tenant *conf;
	struct svc_rules dial_plan, caller, barred;
};

/** What the gateway knows of an agent (any user of a tenant). */
struct svc_agent {
	unsigned calls;        /**< calls in progress */
	gint64 idle_since;     /**< monotonic us when its last call ended; 0 never */
};

struct svc {
	struct svc_tenant *tenants;
	size_t ntenants;
	struct store *store;   /**< diversion settings, paused agents (borrowed) */
	GHashTable *agents;    /**< "tenant/number" -> struct svc_agent (owned) */
	GHashTable *rr;        /**< "tenant/group" -> next start (round robin) */
	unsigned cdr_commit_ms; /**< store.cdr_commit_ms; 0: records commit at once */
	guint cdr_timer;       /**< commits the deferred records; 0: none armed */
};

const struct svc_tenant *svc_tenant_find(const struct svc *s, const char *name);
bool svc_is_emergency(const struct svc_tenant *t, const char *number);

/* svc_plan.c: the call core's in_plan and busy hooks. */
void svc_in_plan(void *arg, const char *tenant, const char *number,
		 struct call_plan *p);
void svc_busy(void *arg, const char *tenant, const char *number, bool busy);

/* svc_cdr.c: the call core's record hook (call detail records). */
struct call_record;
void svc_record(void *arg, const struct call_record *r);
/** Commits the records svc_record() deferred, now. */
void svc_cdr_flush(struct svc *s);

#endif
