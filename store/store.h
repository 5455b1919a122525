/**
 * @file store.h  What must survive a restart, behind one small interface.
 *
 * Issue 2 keeps users and their digest HA1 values (never passwords); later
 * issues add identities, service settings and call records. The only back-end
 * today is SQLite (WAL mode, schema versioned with migrations); others plug in
 * through the operation table of store_impl.h. Calls are synchronous and
 * bounded (single-row statements on an indexed key).
 */
#ifndef WTPF_STORE_H
#define WTPF_STORE_H

struct store;

/** A user allowed to authenticate with SIP digest. */
struct store_user {
	char tenant[64];
	char username[128];
	char ha1_md5[33];      /**< hex H(user:realm:password) with MD5 */
	char ha1_sha256[65];   /**< hex H(user:realm:password) with SHA-256 */
};

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

#endif
