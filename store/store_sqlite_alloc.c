/**
 * @file store_sqlite_alloc.c  Identity allocations and devices in SQLite.
 *
 * The table's keys make the guarantees: (tenant, impu) is the primary key,
 * so a number is never handed out twice, even by two processes sharing the
 * file; (tenant, idset, subject) is unique, so a user has one number per
 * set. Each statement is its own transaction (WAL, synchronous=NORMAL).
 */
#include "store_sqlite.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util/log.h"

#define SQL_A_ADD \
	"INSERT INTO allocations (tenant, idset, impu, subject, created," \
	" hold_until) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
#define SQL_A_HOLD \
	"UPDATE allocations SET hold_until = ?3 WHERE tenant = ?1 AND impu = ?2"
#define SQL_A_DEL "DELETE FROM allocations WHERE tenant = ?1 AND impu = ?2"
#define SQL_A_ALL \
	"SELECT tenant, idset, impu, subject, created, hold_until" \
	" FROM allocations"
#define SQL_D_PUT \
	"INSERT INTO devices (tenant, impi, impu, instance, updated)" \
	" VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (tenant, impi) DO UPDATE SET" \
	" impu = excluded.impu, instance = excluded.instance," \
	" updated = excluded.updated"
#define SQL_D_DEL "DELETE FROM devices WHERE tenant = ?1 AND impi = ?2"

int sq_alloc_prepare(struct sq *sq)
{
	int err = sq_prepare_one(sq->db, SQL_A_ADD, &sq->a_add);

	if (!err)
		err = sq_prepare_one(sq->db, SQL_A_HOLD, &sq->a_hold);
	if (!err)
		err = sq_prepare_one(sq->db, SQL_A_DEL, &sq->a_del);
	if (!err)
		err = sq_prepare_one(sq->db, SQL_A_ALL, &sq->a_all);
	if (!err)
		err = sq_prepare_one(sq->db, SQL_D_PUT, &sq->d_put);
	if (!err)
		err = sq_prepare_one(sq->db, SQL_D_DEL, &sq->d_del);
	return err;
}

void sq_alloc_finalize(struct sq *sq)
{
	/* finalize() only repeats the last step's error, already handled. */
	(void)sqlite3_finalize(sq->a_add);
	(void)sqlite3_finalize(sq->a_hold);
	(void)sqlite3_finalize(sq->a_del);
	(void)sqlite3_finalize(sq->a_all);
	(void)sqlite3_finalize(sq->d_put);
	(void)sqlite3_finalize(sq->d_del);
}

/* Steps a statement that returns no row. Returns 0, EEXIST or EIO. */
int sq_step_done(struct sq *sq, sqlite3_stmt *st, const char *what,
		 const char *key)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_DONE)
		return 0;
	if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE)
		return EEXIST;
	log_err("store", 0, "%s %s: %s", what, key, sqlite3_errmsg(sq->db));
	return EIO;
}

int sq_bind_texts(struct sq *sq, sqlite3_stmt *st, int from,
		  const char *const *v, int n)
{
	for (int i = 0; i < n; i++)
		if (sqlite3_bind_text(st, from + i, v[i], -1, SQLITE_STATIC) !=
		    SQLITE_OK) {
			log_err("store", 0, "bind: %s", sqlite3_errmsg(sq->db));
			return EIO;
		}
	return 0;
}

int sq_bind_int(struct sq *sq, sqlite3_stmt *st, int n, long long v)
{
	if (sqlite3_bind_int64(st, n, (sqlite3_int64)v) == SQLITE_OK)
		return 0;
	log_err("store", 0, "bind: %s", sqlite3_errmsg(sq->db));
	return EIO;
}

int sq_alloc_add(void *be, const struct store_alloc *a)
{
	struct sq *sq = be;
	const char *v[] = { a->tenant, a->idset, a->impu, a->subject };
	int err = sq_bind_texts(sq, sq->a_add, 1, v, 4);

	if (!err && (sqlite3_bind_int64(sq->a_add, 5, a->created) != SQLITE_OK ||
		     sqlite3_bind_int64(sq->a_add, 6, a->hold_until) != SQLITE_OK))
		err = EIO;
	if (!err)
		err = sq_step_done(sq, sq->a_add, "add allocation", a->impu);
	sq_done(sq->a_add);
	return err;
}

/* Runs a kept statement keyed by tenant and ?2; 0, ENOENT or EIO. */
static int sq_keyed(struct sq *sq, sqlite3_stmt *st, const char *tenant,
		    const char *key, const char *what)
{
	int err = sq_bind_key(sq->db, st, tenant, key);

	if (!err)
		err = sq_step_done(sq, st, what, key);
	if (!err && !sqlite3_changes(sq->db))
		err = ENOENT;
	sq_done(st);
	return err;
}

int sq_alloc_hold(void *be, const char *tenant, const char *impu,
		  long long hold_until)
{
	struct sq *sq = be;

	if (sqlite3_bind_int64(sq->a_hold, 3, hold_until) != SQLITE_OK) {
		sq_done(sq->a_hold);
		return EIO;
	}
	return sq_keyed(sq, sq->a_hold, tenant, impu, "hold allocation");
}

int sq_alloc_del(void *be, const char *tenant, const char *impu)
{
	struct sq *sq = be;

	return sq_keyed(sq, sq->a_del, tenant, impu, "delete allocation");
}

static int sq_alloc_row(sqlite3_stmt *st, struct store_alloc *a)
{
	memset(a, 0, sizeof *a);
	if (sq_column_copy(st, 0, a->tenant, sizeof a->tenant) ||
	    sq_column_copy(st, 1, a->idset, sizeof a->idset) ||
	    sq_column_copy(st, 2, a->impu, sizeof a->impu) ||
	    sq_column_copy(st, 3, a->subject, sizeof a->subject))
		return EIO;
	a->created = sqlite3_column_int64(st, 4);
	a->hold_until = sqlite3_column_int64(st, 5);
	return 0;
}

int sq_alloc_foreach(void *be, store_alloc_f *fn, void *arg)
{
	struct sq *sq = be;
	struct store_alloc a;
	int rc, err = 0;

	while (!err && (rc = sqlite3_step(sq->a_all)) == SQLITE_ROW) {
		if (sq_alloc_row(sq->a_all, &a)) {
			log_err("store", 0, "allocation row too long: skipped");
			continue;
		}
		err = fn(arg, &a);
	}
	if (!err && rc != SQLITE_DONE) {
		log_err("store", 0, "list allocations: %s", sqlite3_errmsg(sq->db));
		err = EIO;
	}
	sq_done(sq->a_all);
	return err;
}

int sq_device_put(void *be, const struct store_device *d)
{
	struct sq *sq = be;
	const char *v[] = { d->tenant, d->impi, d->impu, d->instance };
	int err = sq_bind_texts(sq, sq->d_put, 1, v, 4);

	if (!err && sqlite3_bind_int64(sq->d_put, 5, d->updated) != SQLITE_OK)
		err = EIO;
	if (!err)
		err = sq_step_done(sq, sq->d_put, "put device", d->impi);
	sq_done(sq->d_put);
	return err;
}

int sq_device_del(void *be, const char *tenant, const char *impi)
{
	struct sq *sq = be;

	return sq_keyed(sq, sq->d_del, tenant, impi, "delete device");
}

int sq_device_clear(void *be)
{
	struct sq *sq = be;
	char *msg = NULL;

	if (sqlite3_exec(sq->db, "DELETE FROM devices", NULL, NULL, &msg) ==
	    SQLITE_OK)
		return 0;
	log_err("store", 0, "clear devices: %s", msg ? msg : "?");
	sqlite3_free(msg);
	return EIO;
}
