/**
 * @file store_sqlite.h  Shared by the SQLite back-end's files (private to
 * store/): the connection with its kept statements, and small helpers.
 */
#ifndef WTPF_STORE_SQLITE_H
#define WTPF_STORE_SQLITE_H

#include "store.h"

#include <stddef.h>
#include <sqlite3.h>

struct sq {
	sqlite3 *db;
	int version;
	sqlite3_stmt *put, *get, *del;              /* users */
	sqlite3_stmt *a_add, *a_hold, *a_del, *a_all;   /* allocations */
	sqlite3_stmt *d_put, *d_del;                /* devices */
	sqlite3_stmt *v_put, *v_get, *v_del, *v_all, *v_tenant; /* diversions */
	sqlite3_stmt *g_pause, *g_paused;           /* agents */
	sqlite3_stmt *c_add, *c_list, *c_list_desc, *c_purge;   /* call records */
	sqlite3_stmt *begin, *commit;               /* batches */
};

/** Resets a kept statement for its next use. */
void sq_done(sqlite3_stmt *stmt);

/** Binds ?1 and ?2. Returns 0 or EIO (logged). */
int sq_bind_key(sqlite3 *db, sqlite3_stmt *stmt, const char *k1,
		const char *k2);

/** Copies a text column (NULL: empty) into @p out. Returns 0 or EIO. */
int sq_column_copy(sqlite3_stmt *st, int col, char *out, size_t size);

/** Prepares @p sql to be kept until close. Returns 0 or EIO (logged). */
int sq_prepare_one(sqlite3 *db, const char *sql, sqlite3_stmt **stmt);

/** Steps a statement that returns no row. Returns 0, EEXIST (a key
 *  constraint) or EIO (logged with @p what and @p key). */
int sq_step_done(struct sq *sq, sqlite3_stmt *st, const char *what,
		 const char *key);

/** Binds ?from.. to the strings of @p v. Returns 0 or EIO (logged). */
int sq_bind_texts(struct sq *sq, sqlite3_stmt *st, int from,
		  const char *const *v, int n);

/** Binds ?n to an integer. Returns 0 or EIO (logged). */
int sq_bind_int(struct sq *sq, sqlite3_stmt *st, int n, long long v);

/* store_sqlite_alloc.c: allocations and devices. */
int sq_alloc_prepare(struct sq *sq);
void sq_alloc_finalize(struct sq *sq);
int sq_alloc_add(void *be, const struct store_alloc *a);
int sq_alloc_hold(void *be, const char *tenant, const char *impu,
		  long long hold_until);
int sq_alloc_del(void *be, const char *tenant, const char *impu);
int sq_alloc_foreach(void *be, store_alloc_f *fn, void *arg);
int sq_device_put(void *be, const struct store_device *d);
int sq_device_del(void *be, const char *tenant, const char *impi);
int sq_device_clear(void *be);

/* store_sqlite_svc.c: diversions and agent pauses. */
int sq_svc_prepare(struct sq *sq);
void sq_svc_finalize(struct sq *sq);
int sq_diversion_put(void *be, const struct store_diversion *d);
int sq_diversion_get(void *be, const char *tenant, const char *identity,
		     struct store_diversion *d);
int sq_diversion_del(void *be, const char *tenant, const char *identity);
int sq_diversion_foreach(void *be, const char *tenant, store_diversion_f *fn,
			 void *arg);
int sq_agent_pause(void *be, const char *tenant, const char *number,
		   bool paused);
int sq_agent_paused(void *be, const char *tenant, const char *number,
		    bool *paused);

/* store_sqlite_cdr.c: call detail records. */
int sq_cdr_prepare(struct sq *sq);
void sq_cdr_finalize(struct sq *sq);
int sq_cdr_add(void *be, struct store_cdr *c);
int sq_cdr_foreach(void *be, const struct store_cdr_filter *f,
		   store_cdr_f *fn, void *arg);
int sq_cdr_purge(void *be, long long before, size_t *count);
int sq_cdr_purge_some(void *be, long long before, size_t max, size_t *count);

#endif
