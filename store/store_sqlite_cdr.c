/**
 * @file store_sqlite_cdr.c  Call detail records in SQLite.
 *
 * One row per finished call, appended and never changed; the id is an
 * AUTOINCREMENT key, so ids only grow, even across purges, and a reader
 * pages with "ids above the last one seen" (or, newest first, "below").
 * The walk is one kept statement per order whose filters are all
 * parameters (an unused one is NULL, 0, -1 or the largest id): it runs
 * along the id, so paging is cheap either way, and the index on ended
 * keeps purges cheap; a purge takes at most a given number of rows, found
 * through that index. Each statement is its own transaction (WAL,
 * synchronous=NORMAL).
 */
#include "store_sqlite.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "util/log.h"

#define SQL_C_ADD \
	"INSERT INTO cdrs (corr, tenant, direction, user, remote, started," \
	" answered, ended, status, reason, legs, services)" \
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
#define SQL_C_SELECT \
	"SELECT id, corr, tenant, direction, user, remote, started, answered," \
	" ended, status, reason, legs, services FROM cdrs" \
	" WHERE (?1 IS NULL OR tenant = ?1) AND (?2 = 0 OR ended >= ?2)" \
	" AND (?3 = 0 OR ended < ?3) AND id > ?4 AND id < ?6"
#define SQL_C_LIST SQL_C_SELECT " ORDER BY id LIMIT ?5"
#define SQL_C_LIST_DESC SQL_C_SELECT " ORDER BY id DESC LIMIT ?5"
/* LIMIT -1: every row */
#define SQL_C_PURGE \
	"DELETE FROM cdrs WHERE id IN" \
	" (SELECT id FROM cdrs WHERE ended < ?1 LIMIT ?2)"

int sq_cdr_prepare(struct sq *sq)
{
	int err = sq_prepare_one(sq->db, SQL_C_ADD, &sq->c_add);

	if (!err)
		err = sq_prepare_one(sq->db, SQL_C_LIST, &sq->c_list);
	if (!err)
		err = sq_prepare_one(sq->db, SQL_C_LIST_DESC, &sq->c_list_desc);
	if (!err)
		err = sq_prepare_one(sq->db, SQL_C_PURGE, &sq->c_purge);
	return err;
}

void sq_cdr_finalize(struct sq *sq)
{
	/* finalize() only repeats the last step's error, already handled. */
	(void)sqlite3_finalize(sq->c_add);
	(void)sqlite3_finalize(sq->c_list);
	(void)sqlite3_finalize(sq->c_list_desc);
	(void)sqlite3_finalize(sq->c_purge);
}

int sq_cdr_add(void *be, struct store_cdr *c)
{
	struct sq *sq = be;
	sqlite3_stmt *st = sq->c_add;
	const char *head[] = { c->corr, c->tenant, c->direction, c->user,
			       c->remote };
	const char *tail[] = { c->reason, c->legs, c->services };
	const long long num[] = { c->started, c->answered, c->ended,
				  c->status };
	int err = sq_bind_texts(sq, st, 1, head, 5);

	for (int i = 0; !err && i < 4; i++)
		err = sq_bind_int(sq, st, 6 + i, num[i]);
	if (!err)
		err = sq_bind_texts(sq, st, 10, tail, 3);
	if (!err)
		err = sq_step_done(sq, st, "add call record", c->corr);
	if (!err)
		c->id = (long long)sqlite3_last_insert_rowid(sq->db);
	sq_done(st);
	/* The only key is the id SQLite picks: no EEXIST to pass on. */
	return err ? EIO : 0;
}

/* Fills @p c from the current row of SQL_C_LIST. Returns 0 or EIO. */
static int sq_cdr_row(sqlite3_stmt *st, struct store_cdr *c)
{
	memset(c, 0, sizeof *c);
	c->id = sqlite3_column_int64(st, 0);
	if (sq_column_copy(st, 1, c->corr, sizeof c->corr) ||
	    sq_column_copy(st, 2, c->tenant, sizeof c->tenant) ||
	    sq_column_copy(st, 3, c->direction, sizeof c->direction) ||
	    sq_column_copy(st, 4, c->user, sizeof c->user) ||
	    sq_column_copy(st, 5, c->remote, sizeof c->remote) ||
	    sq_column_copy(st, 10, c->reason, sizeof c->reason) ||
	    sq_column_copy(st, 11, c->legs, sizeof c->legs) ||
	    sq_column_copy(st, 12, c->services, sizeof c->services))
		return EIO;
	c->started = sqlite3_column_int64(st, 6);
	c->answered = sqlite3_column_int64(st, 7);
	c->ended = sqlite3_column_int64(st, 8);
	c->status = sqlite3_column_int(st, 9);
	return 0;
}

/* Binds the filter to SQL_C_LIST's parameters. Returns 0 or EIO. */
static int sq_cdr_bind_filter(struct sq *sq, sqlite3_stmt *st,
			      const struct store_cdr_filter *f)
{
	/* LIMIT -1: no limit; so is a limit beyond what SQLite counts to. */
	long long limit = f->limit && f->limit <= (size_t)LLONG_MAX ?
			  (long long)f->limit : -1;
	int err = 0;

	if (f->tenant)
		err = sq_bind_texts(sq, st, 1, &f->tenant, 1);
	if (!err)
		err = sq_bind_int(sq, st, 2, f->since);
	if (!err)
		err = sq_bind_int(sq, st, 3, f->until);
	if (!err)
		err = sq_bind_int(sq, st, 4, f->after_id);
	if (!err)
		err = sq_bind_int(sq, st, 5, limit);
	if (!err)
		err = sq_bind_int(sq, st, 6, f->before_id ? f->before_id : LLONG_MAX);
	return err;
}

int sq_cdr_foreach(void *be, const struct store_cdr_filter *f,
		   store_cdr_f *fn, void *arg)
{
	struct sq *sq = be;
	sqlite3_stmt *st = f->newest_first ? sq->c_list_desc : sq->c_list;
	struct store_cdr c;
	int rc = SQLITE_DONE, err = sq_cdr_bind_filter(sq, st, f);

	while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sq_cdr_row(st, &c)) {
			log_err("store", 0, "call record %lld too long: skipped",
				(long long)sqlite3_column_int64(st, 0));
			continue;
		}
		err = fn(arg, &c);
	}
	if (!err && rc != SQLITE_DONE) {
		log_err("store", 0, "list call records: %s",
			sqlite3_errmsg(sq->db));
		err = EIO;
	}
	sq_done(st);
	return err;
}

int sq_cdr_purge(void *be, long long before, size_t *count)
{
	return sq_cdr_purge_some(be, before, 0, count);
}

int sq_cdr_purge_some(void *be, long long before, size_t max, size_t *count)
{
	struct sq *sq = be;
	char key[32];
	int err = sq_bind_int(sq, sq->c_purge, 1, before);

	if (!err)
		err = sq_bind_int(sq, sq->c_purge, 2, max && max <= (size_t)LLONG_MAX ?
				  (long long)max : -1);
	snprintf(key, sizeof key, "before %lld", before);
	if (!err)
		err = sq_step_done(sq, sq->c_purge, "purge call records", key);
	*count = err ? 0 : (size_t)sqlite3_changes(sq->db);
	sq_done(sq->c_purge);
	return err ? EIO : 0;
}
