/**
 * @file store.h  What must survive a restart, behind one small interface.
 *
 * It keeps digest users (their HA1 values, never passwords), the numbers
 * allocated to users and their devices, diversion settings, paused agents
 * and call detail records. The only back-end today is SQLite (WAL mode,
 * schema versioned with migrations); others plug in
 * through the operation table of store_impl.h. Calls are synchronous; most
 * are single-row statements on an indexed key, and the walks and purges
 * state their cost.
 */
#ifndef WTPF_STORE_H
#define WTPF_STORE_H

#include <stdbool.h>
#include <stddef.h>

struct store;

/** A user allowed to authenticate with SIP digest. */
struct store_user {
	char tenant[64];
	char username[128];
	char ha1_md5[33];      /**< hex H(user:realm:password) with MD5 */
	char ha1_sha256[65];   /**< hex H(user:realm:password) with SHA-256 */
};

/**
 * A number handed to a user (seed 000): subject -> IMPU within one identity
 * set of a tenant. A number belongs to at most one allocation per tenant,
 * and a subject has at most one per set.
 */
struct store_alloc {
	char tenant[64];
	char idset[64];
	char impu[64];         /**< the number, normalised ("+4930123400001") */
	char subject[256];     /**< token `sub`, digest username, or anon-... */
	long long created;     /**< Unix time */
	long long hold_until;  /**< 0: in use; else when the hold ends */
};

/** A device of a user: its private identity, while it is registered. */
struct store_device {
	char tenant[64];
	char impi[256];
	char impu[64];
	char instance[256];    /**< +sip.instance, or "" */
	long long updated;
};

/**
 * A user's call diversion settings (issue 5): a target per condition, ""
 * for none. A row here replaces the configuration's entry for the number,
 * so the admin API can change diversion at run time.
 */
struct store_diversion {
	char tenant[64];
	char identity[64];         /**< the diverting number, normalised */
	char unconditional[256];   /**< number or sip:/tel: URI, or "" */
	char busy[256];
	char no_answer[256];
	char not_reachable[256];
	int no_answer_time;        /**< seconds before no_answer applies; 0: default */
};

/** Called for each allocation by store_alloc_foreach(); non-zero stops. */
typedef int store_alloc_f(void *arg, const struct store_alloc *a);

/**
 * Opens (creating and migrating when needed) the store at @p path.
 * Returns 0, or an errno code with a log line naming the problem.
 */
int store_open(struct store **stp, const char *path);

/** Closes the store. NULL is allowed. */
void store_close(struct store *st);

/** The schema version the store is at after migration. */
int store_schema_version(struct store *st);

/** Adds or replaces a user. Returns 0, EINVAL or EIO. */
int store_user_put(struct store *st, const struct store_user *u);

/** Looks a user up. Returns 0, ENOENT or EIO. */
int store_user_get(struct store *st, const char *tenant, const char *username,
		   struct store_user *u);

/** Deletes a user. Returns 0, ENOENT or EIO. */
int store_user_del(struct store *st, const char *tenant, const char *username);

/**
 * Records a new allocation. Returns 0, EEXIST when the number is taken in
 * the tenant or the subject already holds one in the set, EINVAL or EIO.
 * The uniqueness is the database's: two writers never both succeed.
 */
int store_alloc_add(struct store *st, const struct store_alloc *a);

/**
 * Batches the writes that follow, until store_batch_commit(), into one
 * transaction: one commit (one WAL append, one lock) instead of one each.
 * Nothing happens until the first write, so a batch without writes costs
 * nothing. Batches nest: the outermost commit ends the transaction.
 * Callers commit before they tell anyone outside what they wrote.
 */
void store_batch_begin(struct store *st);

/**
 * Commits what the batch wrote so far, if anything (the batch goes on:
 * later writes open a new transaction). Returns 0 or EIO.
 */
int store_batch_flush(struct store *st);

/**
 * Ends a store_batch_begin(): the outermost one commits what the batch
 * wrote (and deferred call records with it); a batch that wrote nothing
 * leaves deferred records to their own flush.
 */
int store_batch_commit(struct store *st);

/**
 * True while writes other than deferred call records (store_cdr_defer())
 * wait, uncommitted, in a batch's transaction: what depends on them must
 * not be told yet. O(1).
 */
bool store_unsaved(const struct store *st);

/** Told after each commit of a batch's transaction; @p err is its result. */
typedef void store_commit_f(void *arg, int err);

/**
 * Sets the one function told after each commit (NULL: none). It may write
 * to the store again (that write starts afresh).
 */
void store_on_commit(struct store *st, store_commit_f *fn, void *arg);

/** Sets an allocation's hold_until. Returns 0, ENOENT, EINVAL or EIO. */
int store_alloc_hold(struct store *st, const char *tenant, const char *impu,
		     long long hold_until);

/** Deletes an allocation. Returns 0, ENOENT, EINVAL or EIO. */
int store_alloc_del(struct store *st, const char *tenant, const char *impu);

/**
 * Calls @p fn for every allocation (in no set order), until it returns
 * non-zero. Returns 0, what @p fn returned, or EIO. O(allocations).
 */
int store_alloc_foreach(struct store *st, store_alloc_f *fn, void *arg);

/** Adds or refreshes a device. Returns 0, EINVAL or EIO. */
int store_device_put(struct store *st, const struct store_device *d);

/** Deletes a device. Returns 0, ENOENT, EINVAL or EIO. */
int store_device_del(struct store *st, const char *tenant, const char *impi);

/**
 * Deletes every device (at start: no registration outlives the process).
 * Returns 0 or EIO.
 */
int store_device_clear(struct store *st);

/** Adds or replaces the diversion settings of a number. 0, EINVAL or EIO. */
int store_diversion_put(struct store *st, const struct store_diversion *d);

/** Reads the diversion settings of a number. Returns 0, ENOENT, EINVAL or EIO. */
int store_diversion_get(struct store *st, const char *tenant,
			const char *identity, struct store_diversion *d);

/** Deletes them. Returns 0, ENOENT, EINVAL or EIO. */
int store_diversion_del(struct store *st, const char *tenant,
			const char *identity);

/** Called for each diversion by store_diversion_foreach(); non-zero stops. */
typedef int store_diversion_f(void *arg, const struct store_diversion *d);

/**
 * Calls @p fn for each diversion of @p tenant (NULL: all tenants), ordered
 * by tenant and number, until it returns non-zero. Returns 0, what @p fn
 * returned, or EIO.
 */
int store_diversion_foreach(struct store *st, const char *tenant,
			    store_diversion_f *fn, void *arg);

/**
 * Pauses (or resumes) a contact-centre agent, by number: a paused agent is
 * skipped by every ring group of its tenant. Returns 0, EINVAL or EIO.
 */
int store_agent_pause(struct store *st, const char *tenant, const char *number,
		      bool paused);

/** Whether an agent is paused (false when never set). 0, EINVAL or EIO. */
int store_agent_paused(struct store *st, const char *tenant, const char *number,
		       bool *paused);

/* ---- call detail records (schema version 4) ------------------------- */

/**
 * One call detail record (a finished call), about 4 KB. Text fields are
 * NUL-terminated; legs and services hold JSON array text made by the call
 * core (stored and returned as is).
 */
struct store_cdr {
	long long id;              /**< assigned by store_cdr_add(), increasing */
	char corr[40];             /**< the call's correlation id (as in its log lines) */
	char tenant[64];           /**< "" when the call never reached a tenant */
	char direction[16];        /**< "outbound" (browser -> IMS) or "inbound" */
	char user[256];            /**< the browser user's AOR, or the number called */
	char remote[256];          /**< the IMS party, or "" */
	long long started;         /**< Unix time in milliseconds */
	long long answered;        /**< ms; 0: never answered */
	long long ended;           /**< ms */
	int status;                /**< 200 when answered; else the final status; 0: none */
	char reason[128];          /**< why it ended, in words */
	char legs[1024];           /**< JSON array of the call's legs */
	char services[2048];       /**< JSON array of what the services did */
};

/** Which records store_cdr_foreach() walks, and in which order; zeroed:
 * all, oldest first. */
struct store_cdr_filter {
	const char *tenant;        /**< only this tenant's ("" too), or NULL */
	long long since, until;    /**< ended in [since, until) (ms); 0: open end */
	long long after_id;        /**< only ids above it (paging); 0: from the first */
	size_t limit;              /**< at most this many; 0: no limit */
	long long before_id;       /**< only ids below it (paging newest first);
				        0: up to the last */
	bool newest_first;         /**< highest id first (with limit: the latest) */
};

/**
 * Appends @p c (its id is ignored) and sets c->id; ids are never reused,
 * not even after a purge. EINVAL for a record whose text fields are not
 * terminated within their size or whose direction is not one of the two;
 * EIO on a store error. @p c stays the caller's.
 */
int store_cdr_add(struct store *st, struct store_cdr *c);

/**
 * As store_cdr_add(), but the record stays in an open transaction that
 * the next store_batch_flush() commits, or the next write outside a batch
 * (which is committed when it returns, as always), or store_close(): one
 * commit for many records instead of one each. Until then other
 * connections to the file do not see it, and a crash loses it. The caller
 * bounds that: it flushes after a short time or a number of records
 * (store_cdr_deferred()). A failed commit of deferred records is logged
 * with their count.
 */
int store_cdr_defer(struct store *st, struct store_cdr *c);

/** How many store_cdr_defer() records wait for a commit. O(1). */
unsigned store_cdr_deferred(const struct store *st);

/** Called for each record by store_cdr_foreach(); non-zero stops the walk. */
typedef int store_cdr_f(void *arg, const struct store_cdr *c);

/**
 * Walks the records @p f selects (NULL: all), oldest id first (newest
 * first with f->newest_first), calling @p fn with a record valid for the
 * call only; @p fn must not add, walk or purge records (the walk is one
 * open read). To page, pass the last id seen as the next after_id (newest
 * first: as the next before_id). Returns 0, EINVAL (no store or function;
 * a negative time or id), EIO, or what @p fn returned. O(records between
 * after_id and before_id) when a tenant or time is given, else O(records
 * returned).
 */
int store_cdr_foreach(struct store *st, const struct store_cdr_filter *f,
		      store_cdr_f *fn, void *arg);

/**
 * Deletes records that ended before @p before (ms); sets *@p count (may be
 * NULL) to how many. Returns 0, EINVAL (no store, @p before negative) or
 * EIO; *@p count is 0 on error. O(records deleted), in one transaction.
 */
int store_cdr_purge(struct store *st, long long before, size_t *count);

/**
 * As store_cdr_purge(), but deletes at most @p max records (0: no bound),
 * so that a large purge can be spread over several short calls: repeat
 * while *@p count == @p max. O(@p max) through the index on the end time.
 */
int store_cdr_purge_some(struct store *st, long long before, size_t max,
			 size_t *count);

#endif
