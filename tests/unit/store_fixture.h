/**
 * @file store_fixture.h  For the store's unit tests: a temporary folder
 * with a database path, removed with everything in it at teardown; direct
 * SQLite access to that file; and the schemas earlier releases wrote, to
 * test migrations from them. Include after cmocka.h.
 *
 * The schema texts are snapshots of released files, written out here on
 * purpose rather than taken from store_sqlite.c: a migration must work on
 * what was shipped, whatever the code says today.
 */
#ifndef WTPF_TEST_STORE_FIXTURE_H
#define WTPF_TEST_STORE_FIXTURE_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/store.h"

/* The schema version this code migrates to. */
#define LATEST 4

/* Version 1: users. */
#define STORE_SCHEMA_V1 \
	"CREATE TABLE users (tenant TEXT NOT NULL, username TEXT NOT NULL," \
	" ha1_md5 TEXT, ha1_sha256 TEXT, created INTEGER NOT NULL," \
	" PRIMARY KEY (tenant, username));"
/* Version 2: and allocations and devices. */
#define STORE_SCHEMA_V2 STORE_SCHEMA_V1 \
	"CREATE TABLE allocations (tenant TEXT NOT NULL, idset TEXT NOT NULL," \
	" impu TEXT NOT NULL, subject TEXT NOT NULL, created INTEGER NOT NULL," \
	" hold_until INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (tenant, impu)," \
	" UNIQUE (tenant, idset, subject));" \
	"CREATE TABLE devices (tenant TEXT NOT NULL, impi TEXT NOT NULL," \
	" impu TEXT NOT NULL, instance TEXT NOT NULL, updated INTEGER NOT NULL," \
	" PRIMARY KEY (tenant, impi));"
/* Version 3: and diversions and agents. */
#define STORE_SCHEMA_V3 STORE_SCHEMA_V2 \
	"CREATE TABLE diversions (tenant TEXT NOT NULL, identity TEXT NOT NULL," \
	" unconditional TEXT NOT NULL DEFAULT '', busy TEXT NOT NULL DEFAULT ''," \
	" no_answer TEXT NOT NULL DEFAULT ''," \
	" not_reachable TEXT NOT NULL DEFAULT ''," \
	" no_answer_time INTEGER NOT NULL DEFAULT 0, updated INTEGER NOT NULL," \
	" PRIMARY KEY (tenant, identity));" \
	"CREATE TABLE agents (tenant TEXT NOT NULL, number TEXT NOT NULL," \
	" paused INTEGER NOT NULL DEFAULT 0, updated INTEGER NOT NULL," \
	" PRIMARY KEY (tenant, number));"

struct fixture {
	char dir[64];
	char path[128];
	struct store *st;      /**< closed at teardown; NULL: none */
};

static inline int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	if (!f)
		return -1;
	snprintf(f->dir, sizeof f->dir, "/tmp/wtpf-store-XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof f->path, "%s/wtpf.db", f->dir);
	*state = f;
	return 0;
}

/** Removes the temporary directory and every file in it. */
static inline int teardown(void **state)
{
	struct fixture *f = *state;
	struct dirent *de;
	char p[512];
	DIR *dir;

	store_close(f->st);
	dir = opendir(f->dir);
	while (dir && (de = readdir(dir))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(p, sizeof p, "%s/%s", f->dir, de->d_name);
		unlink(p);
	}
	if (dir)
		closedir(dir);
	rmdir(f->dir);
	free(f);
	return 0;
}

/** Opens the fixture's store (failing the test if it cannot). */
static inline struct fixture *opened(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(store_open(&f->st, f->path), 0);
	assert_non_null(f->st);
	return f;
}

/** Runs @p sql on the file directly and returns its first column as int. */
static inline long long raw_int(const char *path, const char *sql)
{
	sqlite3_stmt *stmt = NULL;
	sqlite3 *db = NULL;
	long long v;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	v = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
	return v;
}

/** Runs @p sql on the file directly. */
static inline void raw_exec(const char *path, const char *sql)
{
	sqlite3 *db = NULL;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

#endif
