/**
 * @file store_sqlite_svc.c  Service settings in SQLite: call diversions
 * and contact-centre agent pauses.
 *
 * One row per number: (tenant, identity) keys a diversion and (tenant,
 * number) an agent, so put and pause are upserts that replace the row in
 * place. Each statement is its own transaction (WAL, synchronous=NORMAL).
 */
#include "store_sqlite.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "util/log.h"

#define SQL_V_PUT \
	"INSERT INTO diversions (tenant, identity, unconditional, busy," \
	" no_answer, not_reachable, no_answer_time, updated)" \
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)" \
	" ON CONFLICT (tenant, identity) DO UPDATE SET" \
	" unconditional = excluded.unconditional, busy = excluded.busy," \
	" no_answer = excluded.no_answer," \
	" not_reachable = excluded.not_reachable," \
	" no_answer_time = excluded.no_answer_time, updated = excluded.updated"
#define SQL_V_COLS \
	"SELECT tenant, identity, unconditional, busy, no_answer," \
	" not_reachable, no_answer_time FROM diversions"
#define SQL_V_GET SQL_V_COLS " WHERE tenant = ?1 AND identity = ?2"
#define SQL_V_DEL "DELETE FROM diversions WHERE tenant = ?1 AND identity = ?2"
#define SQL_V_ALL SQL_V_COLS " ORDER BY tenant, identity"
#define SQL_V_TENANT SQL_V_COLS " WHERE tenant = ?1 ORDER BY identity"
#define SQL_G_PAUSE \
	"INSERT INTO agents (tenant, number, paused, updated)" \
	" VALUES (?1, ?2, ?3, ?4) ON CONFLICT (tenant, number) DO UPDATE SET" \
	" paused = excluded.paused, updated = excluded.updated"
#define SQL_G_PAUSED \
	"SELECT paused FROM agents WHERE tenant = ?1 AND number = ?2"

int sq_svc_prepare(struct sq *sq)
{
	int err = sq_prepare_one(sq->db, SQL_V_PUT, &sq->v_put);

	if (!err)
		err = sq_prepare_one(sq->db, SQL_V_GET, &sq->v_get);
	if (!err)
		err = sq_prepare_one(sq->db, SQL_V_DEL, &sq->v_del);
	if (!err)
		err = sq_prepare_one(sq->db, SQL_V_ALL, &sq->v_all);
	if (!err)
		err = sq_prepare_one(sq->db, SQL_V_TENANT, &sq->v_tenant);
	if (!err)
		err = sq_prepare_one(sq->db, SQL_G_PAUSE, &sq->g_pause);
	if (!err)
		err = sq_prepare_one(sq->db, SQL_G_PAUSED, &sq->g_paused);
	return err;
}

void sq_svc_finalize(struct sq *sq)
{
	/* finalize() only repeats the last step's error, already handled. */
	(void)sqlite3_finalize(sq->v_put);
	(void)sqlite3_finalize(sq->v_get);
	(void)sqlite3_finalize(sq->v_del);
	(void)sqlite3_finalize(sq->v_all);
	(void)sqlite3_finalize(sq->v_tenant);
	(void)sqlite3_finalize(sq->g_pause);
	(void)sqlite3_finalize(sq->g_paused);
}

/* ---- diversions ------------------------------------------------------ */

int sq_diversion_put(void *be, const struct store_diversion *d)
{
	struct sq *sq = be;
	const char *v[] = { d->tenant, d->identity, d->unconditional, d->busy,
			    d->no_answer, d->not_reachable };
	int err = sq_bind_texts(sq, sq->v_put, 1, v, 6);

	if (!err)
		err = sq_bind_int(sq, sq->v_put, 7, d->no_answer_time);
	if (!err)
		err = sq_bind_int(sq, sq->v_put, 8, (long long)time(NULL));
	if (!err)
		err = sq_step_done(sq, sq->v_put, "put diversion", d->identity);
	sq_done(sq->v_put);
	return err;
}

/* Fills @p d from the current row of a SQL_V_COLS statement. 0 or EIO. */
static int svc_diversion_row(sqlite3_stmt *st, struct store_diversion *d)
{
	memset(d, 0, sizeof *d);
	if (sq_column_copy(st, 0, d->tenant, sizeof d->tenant) ||
	    sq_column_copy(st, 1, d->identity, sizeof d->identity) ||
	    sq_column_copy(st, 2, d->unconditional, sizeof d->unconditional) ||
	    sq_column_copy(st, 3, d->busy, sizeof d->busy) ||
	    sq_column_copy(st, 4, d->no_answer, sizeof d->no_answer) ||
	    sq_column_copy(st, 5, d->not_reachable, sizeof d->not_reachable))
		return EIO;
	d->no_answer_time = sqlite3_column_int(st, 6);
	return 0;
}

int sq_diversion_get(void *be, const char *tenant, const char *identity,
		     struct store_diversion *d)
{
	struct sq *sq = be;
	int rc, err = sq_bind_key(sq->db, sq->v_get, tenant, identity);

	if (err)
		goto out;
	rc = sqlite3_step(sq->v_get);
	if (rc == SQLITE_DONE) {
		err = ENOENT;
	} else if (rc != SQLITE_ROW) {
		log_err("store", 0, "get diversion %s/%s: %s", tenant, identity,
			sqlite3_errmsg(sq->db));
		err = EIO;
	} else if (svc_diversion_row(sq->v_get, d)) {
		log_err("store", 0, "get diversion %s/%s: stored value too long",
			tenant, identity);
		err = EIO;
	}
 out:
	sq_done(sq->v_get);
	return err;
}

int sq_diversion_del(void *be, const char *tenant, const char *identity)
{
	struct sq *sq = be;
	int err = sq_bind_key(sq->db, sq->v_del, tenant, identity);

	if (!err)
		err = sq_step_done(sq, sq->v_del, "delete diversion", identity);
	if (!err && !sqlite3_changes(sq->db))
		err = ENOENT;
	sq_done(sq->v_del);
	return err;
}

int sq_diversion_foreach(void *be, const char *tenant, store_diversion_f *fn,
			 void *arg)
{
	struct sq *sq = be;
	sqlite3_stmt *st = tenant ? sq->v_tenant : sq->v_all;
	struct store_diversion d;
	int rc = SQLITE_DONE, err = 0;

	if (tenant && sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC) !=
		      SQLITE_OK) {
		log_err("store", 0, "bind: %s", sqlite3_errmsg(sq->db));
		err = EIO;
		goto out;
	}
	while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (svc_diversion_row(st, &d)) {
			log_err("store", 0, "diversion row too long: skipped");
			continue;
		}
		err = fn(arg, &d);
	}
	if (!err && rc != SQLITE_DONE) {
		log_err("store", 0, "list diversions: %s", sqlite3_errmsg(sq->db));
		err = EIO;
	}
 out:
	sq_done(st);
	return err;
}

/* ---- agents ---------------------------------------------------------- */

int sq_agent_pause(void *be, const char *tenant, const char *number,
		   bool paused)
{
	struct sq *sq = be;
	int err = sq_bind_key(sq->db, sq->g_pause, tenant, number);

	if (!err)
		err = sq_bind_int(sq, sq->g_pause, 3, paused ? 1 : 0);
	if (!err)
		err = sq_bind_int(sq, sq->g_pause, 4, (long long)time(NULL));
	if (!err)
		err = sq_step_done(sq, sq->g_pause, paused ? "pause agent" :
				    "resume agent", number);
	sq_done(sq->g_pause);
	return err;
}

int sq_agent_paused(void *be, const char *tenant, const char *number,
		    bool *paused)
{
	struct sq *sq = be;
	int rc, err = sq_bind_key(sq->db, sq->g_paused, tenant, number);

	if (err)
		goto out;
	rc = sqlite3_step(sq->g_paused);
	if (rc == SQLITE_ROW) {
		*paused = sqlite3_column_int(sq->g_paused, 0) != 0;
	} else if (rc == SQLITE_DONE) {
		*paused = false;   /* never set: not paused */
	} else {
		log_err("store", 0, "agent %s/%s: %s", tenant, number,
			sqlite3_errmsg(sq->db));
		err = EIO;
	}
 out:
	sq_done(sq->g_paused);
	return err;
}
