/**
 * @file store_sqlite.c  The SQLite back-end of the store.
 *
 * One connection in WAL mode with synchronous=NORMAL (a crash may lose the
 * last transactions, never corrupt the file), a busy timeout, and foreign
 * keys on. The schema version is PRAGMA user_version; the migrations below
 * move it forward one step per transaction and never recreate a table. A
 * file whose version is newer than the last migration is refused. The
 * statements are prepared once at open and kept until close.
 */
#include "store_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "util/log.h"
#include "store_sqlite.h"

enum { BUSY_TIMEOUT_MS = 5000 };

/** One schema step: running @p sql takes the schema to @p version. */
struct migration {
	int version;
	const char *sql;
};

/** In order; append only. Never edit a step once released. */
static const struct migration migrations[] = {
	{ 1,
	  "CREATE TABLE users ("
	  " tenant TEXT NOT NULL,"
	  " username TEXT NOT NULL,"
	  " ha1_md5 TEXT,"
	  " ha1_sha256 TEXT,"
	  " created INTEGER NOT NULL,"
	  " PRIMARY KEY (tenant, username))" },
	{ 2,
	  "CREATE TABLE allocations ("
	  " tenant TEXT NOT NULL,"
	  " idset TEXT NOT NULL,"
	  " impu TEXT NOT NULL,"
	  " subject TEXT NOT NULL,"
	  " created INTEGER NOT NULL,"
	  " hold_until INTEGER NOT NULL DEFAULT 0,"
	  " PRIMARY KEY (tenant, impu),"
	  " UNIQUE (tenant, idset, subject));"
	  "CREATE TABLE devices ("
	  " tenant TEXT NOT NULL,"
	  " impi TEXT NOT NULL,"
	  " impu TEXT NOT NULL,"
	  " instance TEXT NOT NULL,"
	  " updated INTEGER NOT NULL,"
	  " PRIMARY KEY (tenant, impi))" },
	{ 3,
	  "CREATE TABLE diversions ("
	  " tenant TEXT NOT NULL,"
	  " identity TEXT NOT NULL,"
	  " unconditional TEXT NOT NULL DEFAULT '',"
	  " busy TEXT NOT NULL DEFAULT '',"
	  " no_answer TEXT NOT NULL DEFAULT '',"
	  " not_reachable TEXT NOT NULL DEFAULT '',"
	  " no_answer_time INTEGER NOT NULL DEFAULT 0,"
	  " updated INTEGER NOT NULL,"
	  " PRIMARY KEY (tenant, identity));"
	  "CREATE TABLE agents ("
	  " tenant TEXT NOT NULL,"
	  " number TEXT NOT NULL,"
	  " paused INTEGER NOT NULL DEFAULT 0,"
	  " updated INTEGER NOT NULL,"
	  " PRIMARY KEY (tenant, number))" },
	{ 4,
	  "CREATE TABLE cdrs ("
	  " id INTEGER PRIMARY KEY AUTOINCREMENT,"
	  " corr TEXT NOT NULL,"
	  " tenant TEXT NOT NULL,"
	  " direction TEXT NOT NULL,"
	  " user TEXT NOT NULL,"
	  " remote TEXT NOT NULL,"
	  " started INTEGER NOT NULL,"
	  " answered INTEGER NOT NULL,"
	  " ended INTEGER NOT NULL,"
	  " status INTEGER NOT NULL,"
	  " reason TEXT NOT NULL,"
	  " legs TEXT NOT NULL,"
	  " services TEXT NOT NULL);"
	  "CREATE INDEX cdrs_ended ON cdrs (ended);"
	  "CREATE INDEX cdrs_tenant ON cdrs (tenant, id)" },
};

enum { N_MIGRATIONS = sizeof migrations / sizeof migrations[0] };

#define SQL_PUT \
	"INSERT INTO users (tenant, username, ha1_md5, ha1_sha256, created)" \
	" VALUES (?1, ?2, ?3, ?4, ?5)" \
	" ON CONFLICT (tenant, username) DO UPDATE SET" \
	" ha1_md5 = excluded.ha1_md5, ha1_sha256 = excluded.ha1_sha256"
#define SQL_GET \
	"SELECT ha1_md5, ha1_sha256 FROM users WHERE tenant = ?1 AND username = ?2"
#define SQL_DEL \
	"DELETE FROM users WHERE tenant = ?1 AND username = ?2"

/* ---- helpers --------------------------------------------------------- */

/** Runs statements that return no rows we need. Returns 0 or EIO. */
static int sq_exec(sqlite3 *db, const char *sql, const char *what)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	log_err("store", 0, "%s: %s", what, msg ? msg : sqlite3_errmsg(db));
	sqlite3_free(msg);
	return EIO;
}

/** Runs @p sql, which returns one row, and copies its first column. */
static int sq_query_text(sqlite3 *db, const char *sql, char *out, size_t size)
{
	sqlite3_stmt *stmt = NULL;
	const unsigned char *txt;
	int err = EIO;

	if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK)
		goto out;
	if (sqlite3_step(stmt) != SQLITE_ROW)
		goto out;
	txt = sqlite3_column_text(stmt, 0);
	if (!txt || (size_t)sqlite3_column_bytes(stmt, 0) >= size)
		goto out;
	memcpy(out, txt, (size_t)sqlite3_column_bytes(stmt, 0) + 1);
	err = 0;
 out:
	if (err)
		log_err("store", 0, "%s: %s", sql, sqlite3_errmsg(db));
	/* finalize() only repeats the last step's error, handled above. */
	(void)sqlite3_finalize(stmt);
	return err;
}

static int sq_user_version(sqlite3 *db, int *version)
{
	char buf[16];
	int err;

	err = sq_query_text(db, "PRAGMA user_version", buf, sizeof buf);
	if (!err)
		*version = atoi(buf);
	return err;
}

void sq_done(sqlite3_stmt *stmt)
{
	/* reset() repeats the error of the last step, already handled. */
	(void)sqlite3_reset(stmt);
	(void)sqlite3_clear_bindings(stmt);
}

int sq_bind_key(sqlite3 *db, sqlite3_stmt *stmt, const char *tenant,
		       const char *username)
{
	if (sqlite3_bind_text(stmt, 1, tenant, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(stmt, 2, username, -1, SQLITE_STATIC) != SQLITE_OK) {
		log_err("store", 0, "bind: %s", sqlite3_errmsg(db));
		return EIO;
	}
	return 0;
}

/* ---- opening --------------------------------------------------------- */

/** Refuses a schema newer than the code, before anything is written. */
static int sq_check_version(sqlite3 *db, const char *path)
{
	int version = 0, latest = migrations[N_MIGRATIONS - 1].version;
	int err;

	err = sq_user_version(db, &version);
	if (err)
		return err;
	if (version > latest) {
		log_err("store", 0, "%s: schema version %d is newer than this "
			"program's %d; refusing to open", path, version, latest);
		return EPROTO;
	}
	return 0;
}

static int sq_configure(sqlite3 *db, const char *path)
{
	char mode[16];
	int err;

	err = sq_exec(db, "PRAGMA foreign_keys = ON", "foreign keys");
	if (err)
		return err;
	err = sq_query_text(db, "PRAGMA journal_mode = WAL", mode, sizeof mode);
	if (err)
		return err;
	/* In-memory databases have no WAL; they are for tests only. */
	if (strcmp(mode, "wal") && strcmp(mode, "memory")) {
		log_err("store", 0, "%s: cannot use WAL (journal mode is %s)",
			path, mode);
		return EIO;
	}
	return sq_exec(db, "PRAGMA synchronous = NORMAL", "synchronous");
}

/** Applies @p m in one transaction, unless another process already did. */
static int sq_migrate_step(sqlite3 *db, const struct migration *m)
{
	char sql[64];
	int version = 0, err;

	err = sq_exec(db, "BEGIN IMMEDIATE", "begin migration");
	if (err)
		return err;
	err = sq_user_version(db, &version);
	if (err || version >= m->version)
		goto out;
	snprintf(sql, sizeof sql, "PRAGMA user_version = %d", m->version);
	err = sq_exec(db, m->sql, "migration");
	if (!err)
		err = sq_exec(db, sql, "set schema version");
 out:
	if (!err)
		err = sq_exec(db, "COMMIT", "commit migration");
	if (err) {
		(void)sq_exec(db, "ROLLBACK", "rollback migration");
		return err;
	}
	if (version < m->version)
		log_info("store", 0, "schema migrated to version %d", m->version);
	return 0;
}

static int sq_migrate(struct sq *sq)
{
	int err;

	err = sq_user_version(sq->db, &sq->version);
	for (size_t i = 0; !err && i < N_MIGRATIONS; i++) {
		if (migrations[i].version <= sq->version)
			continue;
		err = sq_migrate_step(sq->db, &migrations[i]);
	}
	if (!err)
		err = sq_user_version(sq->db, &sq->version);
	return err;
}

int sq_prepare_one(sqlite3 *db, const char *sql, sqlite3_stmt **stmt)
{
	if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, stmt,
			       NULL) == SQLITE_OK)
		return 0;
	log_err("store", 0, "prepare: %s", sqlite3_errmsg(db));
	return EIO;
}

static int sq_prepare(struct sq *sq)
{
	int err;

	err = sq_prepare_one(sq->db, SQL_PUT, &sq->put);
	if (!err)
		err = sq_prepare_one(sq->db, "BEGIN", &sq->begin);
	if (!err)
		err = sq_prepare_one(sq->db, "COMMIT", &sq->commit);
	if (!err)
		err = sq_prepare_one(sq->db, SQL_GET, &sq->get);
	if (!err)
		err = sq_prepare_one(sq->db, SQL_DEL, &sq->del);
	if (!err)
		err = sq_alloc_prepare(sq);
	if (!err)
		err = sq_svc_prepare(sq);
	if (!err)
		err = sq_cdr_prepare(sq);
	return err;
}

static void sq_close(void *be)
{
	struct sq *sq = be;

	/* finalize() only repeats the last step's error, already handled. */
	(void)sqlite3_finalize(sq->put);
	(void)sqlite3_finalize(sq->get);
	(void)sqlite3_finalize(sq->del);
	(void)sqlite3_finalize(sq->begin);
	(void)sqlite3_finalize(sq->commit);
	sq_alloc_finalize(sq);
	sq_svc_finalize(sq);
	sq_cdr_finalize(sq);
	if (sqlite3_close(sq->db) != SQLITE_OK)
		log_err("store", 0, "close: %s", sqlite3_errmsg(sq->db));
	free(sq);
}

static int sq_open_db(struct sq *sq, const char *path)
{
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;

	if (sqlite3_open_v2(path, &sq->db, flags, NULL) != SQLITE_OK) {
		log_err("store", 0, "cannot open %s: %s", path,
			sq->db ? sqlite3_errmsg(sq->db) : "out of memory");
		return sq->db ? EIO : ENOMEM;
	}
	if (sqlite3_extended_result_codes(sq->db, 1) != SQLITE_OK ||
	    sqlite3_busy_timeout(sq->db, BUSY_TIMEOUT_MS) != SQLITE_OK) {
		log_err("store", 0, "%s: %s", path, sqlite3_errmsg(sq->db));
		return EIO;
	}
	return 0;
}

static int sq_open(void **bep, const char *path)
{
	struct sq *sq;
	int err;

	sq = calloc(1, sizeof *sq);
	if (!sq)
		return ENOMEM;
	err = sq_open_db(sq, path);
	if (!err)
		err = sq_check_version(sq->db, path);
	if (!err)
		err = sq_configure(sq->db, path);
	if (!err)
		err = sq_migrate(sq);
	if (!err)
		err = sq_prepare(sq);
	if (err)
		goto out;
	*bep = sq;
	return 0;
 out:
	sq_close(sq);
	return err;
}

static int sq_schema_version(void *be)
{
	return ((struct sq *)be)->version;
}

/* ---- users ----------------------------------------------------------- */

static int sq_user_put(void *be, const struct store_user *u)
{
	struct sq *sq = be;
	sqlite3_stmt *st = sq->put;
	int err;

	err = sq_bind_key(sq->db, st, u->tenant, u->username);
	if (err)
		goto out;
	err = EIO;
	if (sqlite3_bind_text(st, 3, u->ha1_md5, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(st, 4, u->ha1_sha256, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 5, (sqlite3_int64)time(NULL)) != SQLITE_OK) {
		log_err("store", 0, "bind: %s", sqlite3_errmsg(sq->db));
		goto out;
	}
	if (sqlite3_step(st) != SQLITE_DONE) {
		log_err("store", 0, "put user %s/%s: %s", u->tenant, u->username,
			sqlite3_errmsg(sq->db));
		goto out;
	}
	err = 0;
 out:
	sq_done(st);
	return err;
}

int sq_column_copy(sqlite3_stmt *st, int col, char *out, size_t size)
{
	const unsigned char *txt = sqlite3_column_text(st, col);
	size_t len = (size_t)sqlite3_column_bytes(st, col);

	if (!txt) {
		out[0] = '\0';
		return 0;
	}
	if (len >= size)
		return EIO;
	memcpy(out, txt, len + 1);
	return 0;
}

static int sq_get_row(struct sq *sq, sqlite3_stmt *st, const char *tenant,
		      const char *username, struct store_user *u)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_DONE)
		return ENOENT;
	if (rc != SQLITE_ROW) {
		log_err("store", 0, "get user %s/%s: %s", tenant, username,
			sqlite3_errmsg(sq->db));
		return EIO;
	}
	if (sq_column_copy(st, 0, u->ha1_md5, sizeof u->ha1_md5) ||
	    sq_column_copy(st, 1, u->ha1_sha256, sizeof u->ha1_sha256)) {
		log_err("store", 0, "get user %s/%s: stored HA1 too long",
			tenant, username);
		return EIO;
	}
	/* Both keys fit: store.c checked them against these sizes. */
	snprintf(u->tenant, sizeof u->tenant, "%s", tenant);
	snprintf(u->username, sizeof u->username, "%s", username);
	return 0;
}

static int sq_user_get(void *be, const char *tenant, const char *username,
		       struct store_user *u)
{
	struct sq *sq = be;
	int err;

	err = sq_bind_key(sq->db, sq->get, tenant, username);
	if (!err)
		err = sq_get_row(sq, sq->get, tenant, username, u);
	sq_done(sq->get);
	return err;
}

static int sq_user_del(void *be, const char *tenant, const char *username)
{
	struct sq *sq = be;
	int err;

	err = sq_bind_key(sq->db, sq->del, tenant, username);
	if (err)
		goto out;
	if (sqlite3_step(sq->del) != SQLITE_DONE) {
		log_err("store", 0, "delete user %s/%s: %s", tenant, username,
			sqlite3_errmsg(sq->db));
		err = EIO;
		goto out;
	}
	err = sqlite3_changes(sq->db) ? 0 : ENOENT;
 out:
	sq_done(sq->del);
	return err;
}

/* A batch (store_batch_begin): deferred, so the write lock is taken by
 * the first write, as a lone statement would. */
static int sq_begin(void *be)
{
	struct sq *sq = be;
	int err = sq_step_done(sq, sq->begin, "begin", "batch");

	sq_done(sq->begin);
	return err;
}

static int sq_commit(void *be)
{
	struct sq *sq = be;
	int err = sq_step_done(sq, sq->commit, "commit", "batch");

	sq_done(sq->commit);
	if (err)                /* leaves no transaction open behind */
		sqlite3_exec(sq->db, "ROLLBACK", NULL, NULL, NULL);
	return err;
}

const struct store_ops store_sqlite_ops = {
	.version = STORE_OPS_VERSION,
	.name = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.schema_version = sq_schema_version,
	.user_put = sq_user_put,
	.user_get = sq_user_get,
	.user_del = sq_user_del,
	.alloc_add = sq_alloc_add,
	.alloc_hold = sq_alloc_hold,
	.alloc_del = sq_alloc_del,
	.alloc_foreach = sq_alloc_foreach,
	.device_put = sq_device_put,
	.device_del = sq_device_del,
	.device_clear = sq_device_clear,
	.diversion_put = sq_diversion_put,
	.diversion_get = sq_diversion_get,
	.diversion_del = sq_diversion_del,
	.diversion_foreach = sq_diversion_foreach,
	.agent_pause = sq_agent_pause,
	.agent_paused = sq_agent_paused,
	.cdr_add = sq_cdr_add,
	.cdr_foreach = sq_cdr_foreach,
	.cdr_purge = sq_cdr_purge,
	.cdr_purge_some = sq_cdr_purge_some,
	.begin = sq_begin,
	.commit = sq_commit,
};
