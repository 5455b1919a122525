/**
 * @file store_impl.h  The operation table a store back-end fills in
 * (private to store/).
 *
 * In the manner of Janus' plug-in tables: a back-end exports one constant
 * `struct store_ops`; store.c checks its `version` and then calls only
 * through it. Members are added at the end and the version bumped, so a
 * back-end built against an older table is refused rather than called
 * through a member it never filled in.
 *
 * Arguments have already been validated by store.c (non-NULL, strings
 * NUL-terminated and fitting the fields of struct store_user, HA1 values
 * lower-case hex of the right length) when an operation is called.
 * Operations are synchronous and called from one thread.
 */
#ifndef WTPF_STORE_IMPL_H
#define WTPF_STORE_IMPL_H

#include "store.h"

/** The version of struct store_ops described here. */
#define STORE_OPS_VERSION 6

struct store_ops {
	/** STORE_OPS_VERSION as the back-end was built; store.c refuses others. */
	int version;

	/** Short name for log lines ("sqlite"). Static; owned by the back-end. */
	const char *name;

	/**
	 * Opens the store at @p path (borrowed for the call only), creating it
	 * and migrating its schema as needed. On success sets @p *bep to the
	 * back-end's state, owned by the caller until it hands it back to
	 * close(). Returns 0, or an errno code after writing a log line
	 * (EPROTO: the stored schema is newer than this code).
	 */
	int (*open)(void **bep, const char *path);

	/** Frees everything open() made. Called once; @p be is never NULL. */
	void (*close)(void *be);

	/** The schema version after migration (at least 1). */
	int (*schema_version)(void *be);

	/**
	 * Adds @p u or replaces the user with the same tenant and username,
	 * keeping its creation time. @p u is borrowed for the call. Returns 0
	 * or EIO.
	 */
	int (*user_put)(void *be, const struct store_user *u);

	/**
	 * Fills @p u (owned by the caller) with the user @p tenant /
	 * @p username (borrowed). Returns 0, ENOENT or EIO; @p u is left
	 * unspecified on error.
	 */
	int (*user_get)(void *be, const char *tenant, const char *username,
			struct store_user *u);

	/** Deletes a user. Returns 0, ENOENT when there was none, or EIO. */
	int (*user_del)(void *be, const char *tenant, const char *username);

	/* Version 2: identity allocations and devices (store.h has the
	 * contracts; arguments are checked against the struct fields). */
	int (*alloc_add)(void *be, const struct store_alloc *a);
	int (*alloc_hold)(void *be, const char *tenant, const char *impu,
			  long long hold_until);
	int (*alloc_del)(void *be, const char *tenant, const char *impu);
	int (*alloc_foreach)(void *be, store_alloc_f *fn, void *arg);
	int (*device_put)(void *be, const struct store_device *d);
	int (*device_del)(void *be, const char *tenant, const char *impi);
	int (*device_clear)(void *be);

	/* Version 3: diversion settings and agent pauses (store.h has the
	 * contracts). Keys are non-empty and fit struct store_diversion's
	 * tenant and identity (an agent's number: identity's size); targets
	 * fit their fields and may be ""; no_answer_time is 0..3600. The
	 * tenant of diversion_foreach() is NULL (all tenants) or a valid key. */
	int (*diversion_put)(void *be, const struct store_diversion *d);
	int (*diversion_get)(void *be, const char *tenant, const char *identity,
			     struct store_diversion *d);
	int (*diversion_del)(void *be, const char *tenant, const char *identity);
	int (*diversion_foreach)(void *be, const char *tenant,
				 store_diversion_f *fn, void *arg);
	int (*agent_pause)(void *be, const char *tenant, const char *number,
			   bool paused);
	int (*agent_paused)(void *be, const char *tenant, const char *number,
			    bool *paused);

	/* Version 4: call detail records (store.h has the contracts). The
	 * record of cdr_add() has its text fields terminated within their
	 * sizes and a direction of "outbound" or "inbound"; the back-end sets
	 * its id, increasing and never reused. The filter of cdr_foreach() is
	 * never NULL (zeroed: all); its tenant is NULL or fits the tenant
	 * field ("" allowed), and since, until and after_id are not negative.
	 * The before of cdr_purge() is not negative; its count is never NULL
	 * and is always set (0 on error). */
	int (*cdr_add)(void *be, struct store_cdr *c);
	int (*cdr_foreach)(void *be, const struct store_cdr_filter *f,
			   store_cdr_f *fn, void *arg);
	int (*cdr_purge)(void *be, long long before, size_t *count);

	/* Version 5: the filter of cdr_foreach() has before_id (not negative;
	 * 0: no bound) and newest_first; cdr_purge_some() deletes at most
	 * @p max of the records cdr_purge() would (0: no bound), its count as
	 * cdr_purge()'s. */
	int (*cdr_purge_some)(void *be, long long before, size_t max,
			      size_t *count);

	/* Version 6: one transaction around several writes (store_batch_*):
	 * begin() opens it before the first of them, commit() ends it. Never
	 * nested: store.c calls commit() once for each begin() that worked. */
	int (*begin)(void *be);
	int (*commit)(void *be);
};

/** The SQLite back-end (store_sqlite.c). */
extern const struct store_ops store_sqlite_ops;

#endif
