/**
 * @file ident_priv.h  Private to gateway/ident/: the tenants' sets and the
 * allocations in memory, mirrors of the store's rows.
 */
#ifndef WTPF_IDENT_PRIV_H
#define WTPF_IDENT_PRIV_H

#include "ident.h"

#include <glib.h>

struct conf_tenant;

/** A number held by a user; owned by its tenant's by_number table. */
struct id_alloc {
	char number[NUMRANGE_NUM_MAX];
	char set[64];
	char subject[256];
	long long created;
	long long hold_until;       /**< 0: in use */
};

struct id_set {
	char name[64];
	char trunk[64];
	struct numrange *range;
	bool enabled, anonymous;
	int max;                    /**< 0: no own limit */
	size_t used;                /**< allocations in this set */
	unsigned long long cursor;  /**< sequential: every index below is taken */
};

struct id_tenant {
	char name[64];
	const struct conf_tenant *conf;   /**< NULL: gone from the configuration */
	struct id_set *sets;
	size_t nsets;
	GHashTable *by_number;      /**< number -> struct id_alloc * (owned) */
	GHashTable *by_subject;     /**< "set\nsubject" -> struct id_alloc * */
	size_t held;
	unsigned long refused;      /**< acquisitions refused for want of room */
};

struct ident {
	struct store *store;
	const struct conf *conf;
	struct id_tenant *tenants;
	size_t ntenants;
};

/* ident.c */
struct id_tenant *id_tenant_find(const struct ident *id, const char *name);
struct id_set *id_set_find(struct id_tenant *t, const char *name);
/** Adds @p a (copied) to the tenant's tables and counts. */
struct id_alloc *id_alloc_insert(struct id_tenant *t, const struct id_alloc *a);
/** Removes @p a from the tables and counts, and frees it. */
void id_alloc_remove(struct id_tenant *t, struct id_alloc *a);
/** The allocation of @p subject in the set named @p set, or NULL. O(1). */
struct id_alloc *id_alloc_by_subject(struct id_tenant *t, const char *set,
				     const char *subject);

#endif
