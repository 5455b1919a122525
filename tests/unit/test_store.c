/**
 * @file test_store.c  The store with its SQLite back-end: users, input
 * checks, persistence, schema versions and migrations, WAL; allocations,
 * devices, diversions and agent pauses.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "store/store.h"
#include "store_fixture.h"

#define MD5_A    "3d78807defe7de2157e2b0b6573a855f"
#define MD5_B    "0123456789abcdef0123456789abcdef"
#define SHA256_A "7987c64c30e25f1b74be53f966b49b90f2808aa92faf9a00262392d7b4794232"
#define SHA256_B "0000000000000000000000000000000000000000000000000000000000000001"

static struct store_user user(const char *tenant, const char *name,
			      const char *md5, const char *sha256)
{
	struct store_user u;

	memset(&u, 0, sizeof u);
	snprintf(u.tenant, sizeof u.tenant, "%s", tenant);
	snprintf(u.username, sizeof u.username, "%s", name);
	snprintf(u.ha1_md5, sizeof u.ha1_md5, "%s", md5);
	snprintf(u.ha1_sha256, sizeof u.ha1_sha256, "%s", sha256);
	return u;
}

/* ---- users ----------------------------------------------------------- */

static void test_put_get(void **state)
{
	struct fixture *f = opened(state);
	struct store_user u = user("acme", "alice", MD5_A, SHA256_A), got;

	assert_int_equal(store_user_put(f->st, &u), 0);
	memset(&got, 'x', sizeof got);
	assert_int_equal(store_user_get(f->st, "acme", "alice", &got), 0);
	assert_string_equal(got.tenant, "acme");
	assert_string_equal(got.username, "alice");
	assert_string_equal(got.ha1_md5, MD5_A);
	assert_string_equal(got.ha1_sha256, SHA256_A);
}

static void test_replace(void **state)
{
	struct fixture *f = opened(state);
	struct store_user u = user("acme", "alice", MD5_A, SHA256_A), got;

	assert_int_equal(store_user_put(f->st, &u), 0);
	raw_exec(f->path, "UPDATE users SET created = 42");
	u = user("acme", "alice", MD5_B, SHA256_B);
	assert_int_equal(store_user_put(f->st, &u), 0);
	assert_int_equal(store_user_get(f->st, "acme", "alice", &got), 0);
	assert_string_equal(got.ha1_md5, MD5_B);
	assert_string_equal(got.ha1_sha256, SHA256_B);
	/* Replaced in place: one row, creation time kept. */
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM users"), 1);
	assert_int_equal(raw_int(f->path, "SELECT created FROM users"), 42);
}

static void test_delete(void **state)
{
	struct fixture *f = opened(state);
	struct store_user u = user("acme", "alice", MD5_A, SHA256_A), got;

	assert_int_equal(store_user_put(f->st, &u), 0);
	assert_int_equal(store_user_del(f->st, "acme", "alice"), 0);
	assert_int_equal(store_user_get(f->st, "acme", "alice", &got), ENOENT);
	assert_int_equal(store_user_del(f->st, "acme", "alice"), ENOENT);
}

static void test_unknown(void **state)
{
	struct fixture *f = opened(state);
	struct store_user u = user("acme", "alice", MD5_A, SHA256_A), got;
	char longname[300];

	assert_int_equal(store_user_put(f->st, &u), 0);
	assert_int_equal(store_user_get(f->st, "acme", "bob", &got), ENOENT);
	/* Tenants are separate. */
	assert_int_equal(store_user_get(f->st, "other", "alice", &got), ENOENT);
	assert_int_equal(store_user_del(f->st, "other", "alice"), ENOENT);
	/* Names that cannot be stored cannot be found. */
	memset(longname, 'a', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	assert_int_equal(store_user_get(f->st, "acme", longname, &got), ENOENT);
	assert_int_equal(store_user_get(f->st, "", "alice", &got), ENOENT);
	assert_int_equal(store_user_del(f->st, longname, "alice"), ENOENT);
	assert_int_equal(store_user_get(f->st, "acme", "alice", &got), 0);
}

static void test_bad_input(void **state)
{
	struct fixture *f = opened(state);
	struct store_user u, got;

	u = user("acme", "alice", "3D78807DEFE7DE2157E2B0B6573A855F", SHA256_A);
	assert_int_equal(store_user_put(f->st, &u), EINVAL);
	u = user("acme", "alice", MD5_A, MD5_A);
	assert_int_equal(store_user_put(f->st, &u), EINVAL);
	u = user("acme", "alice", "3d78807defe7de2157e2b0b6573a855", SHA256_A);
	assert_int_equal(store_user_put(f->st, &u), EINVAL);
	u = user("acme", "alice", "3d78807defe7de2157e2b0b6573a855g", SHA256_A);
	assert_int_equal(store_user_put(f->st, &u), EINVAL);
	u = user("acme", "alice", "", SHA256_A);
	assert_int_equal(store_user_put(f->st, &u), EINVAL);
	u = user("acme", "", MD5_A, SHA256_A);
	assert_int_equal(store_user_put(f->st, &u), EINVAL);
	u = user("", "alice", MD5_A, SHA256_A);
	assert_int_equal(store_user_put(f->st, &u), EINVAL);
	/* Not NUL-terminated within the field. */
	u = user("acme", "alice", MD5_A, SHA256_A);
	memset(u.tenant, 't', sizeof u.tenant);
	assert_int_equal(store_user_put(f->st, &u), EINVAL);
	u = user("acme", "alice", MD5_A, SHA256_A);
	u.ha1_md5[32] = 'a';
	assert_int_equal(store_user_put(f->st, &u), EINVAL);

	assert_int_equal(store_user_put(f->st, NULL), EINVAL);
	assert_int_equal(store_user_put(NULL, &u), EINVAL);
	assert_int_equal(store_user_get(f->st, NULL, "alice", &got), EINVAL);
	assert_int_equal(store_user_get(f->st, "acme", "alice", NULL), EINVAL);
	assert_int_equal(store_user_del(f->st, "acme", NULL), EINVAL);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM users"), 0);
}

/* ---- files and schema ------------------------------------------------ */

static void test_reopen(void **state)
{
	struct fixture *f = opened(state);
	struct store_user u = user("acme", "alice", MD5_A, SHA256_A), got;

	assert_int_equal(store_user_put(f->st, &u), 0);
	u = user("acme", "bob", MD5_B, SHA256_B);
	assert_int_equal(store_user_put(f->st, &u), 0);
	store_close(f->st);
	f->st = NULL;

	assert_int_equal(store_open(&f->st, f->path), 0);
	assert_int_equal(store_schema_version(f->st), LATEST);
	assert_int_equal(store_user_get(f->st, "acme", "alice", &got), 0);
	assert_string_equal(got.ha1_sha256, SHA256_A);
	assert_int_equal(store_user_get(f->st, "acme", "bob", &got), 0);
	assert_string_equal(got.ha1_md5, MD5_B);
}

static void test_schema_version(void **state)
{
	struct fixture *f = opened(state);

	assert_int_equal(store_schema_version(f->st), LATEST);
	assert_int_equal(raw_int(f->path, "PRAGMA user_version"), LATEST);
	assert_int_equal(store_schema_version(NULL), 0);
}

static void test_future_version(void **state)
{
	struct fixture *f = *state;

	raw_exec(f->path, "CREATE TABLE t(x); PRAGMA user_version = 99");
	assert_int_equal(store_open(&f->st, f->path), EPROTO);
	assert_null(f->st);
	/* Refused before anything was written. */
	assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 99);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM sqlite_schema "
				 "WHERE name = 'users'"), 0);
}

static void test_migrate_from_empty_file(void **state)
{
	struct fixture *f = *state;
	struct store_user u = user("acme", "alice", MD5_A, SHA256_A), got;
	int fd;

	fd = open(f->path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 0);

	assert_int_equal(store_open(&f->st, f->path), 0);
	assert_int_equal(store_schema_version(f->st), LATEST);
	assert_int_equal(store_user_put(f->st, &u), 0);
	assert_int_equal(store_user_get(f->st, "acme", "alice", &got), 0);
}

static void test_migrate_keeps_other_tables(void **state)
{
	struct fixture *f = *state;

	/* A version 0 database with content: migrated forward, not recreated. */
	raw_exec(f->path, "CREATE TABLE notes(x); INSERT INTO notes VALUES (7)");
	assert_int_equal(store_open(&f->st, f->path), 0);
	assert_int_equal(store_schema_version(f->st), LATEST);
	assert_int_equal(raw_int(f->path, "SELECT x FROM notes"), 7);
}

static void test_migration_failure_rolls_back(void **state)
{
	struct fixture *f = *state;

	/* Step 1 cannot create "users" here: the step fails as a whole. */
	raw_exec(f->path, "CREATE TABLE users(x); INSERT INTO users VALUES (3)");
	assert_int_equal(store_open(&f->st, f->path), EIO);
	assert_null(f->st);
	assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 0);
	assert_int_equal(raw_int(f->path, "SELECT x FROM users"), 3);
}

static void test_wal(void **state)
{
	struct fixture *f = opened(state);
	const unsigned char *mode;
	sqlite3_stmt *stmt = NULL;
	sqlite3 *db = NULL;

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1,
					    &stmt, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	mode = sqlite3_column_text(stmt, 0);
	assert_non_null(mode);
	assert_string_equal((const char *)mode, "wal");
	sqlite3_finalize(stmt);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

static void test_open_errors(void **state)
{
	struct fixture *f = *state;
	char path[160];
	FILE *fp;

	snprintf(path, sizeof path, "%s/missing/dir/wtpf.db", f->dir);
	assert_int_not_equal(store_open(&f->st, path), 0);
	assert_null(f->st);

	fp = fopen(f->path, "w");
	assert_non_null(fp);
	fputs("this is not an SQLite database, not at all, no.............\n"
	      "................................................................",
	      fp);
	fclose(fp);
	assert_int_not_equal(store_open(&f->st, f->path), 0);
	assert_null(f->st);

	assert_int_equal(store_open(&f->st, ""), EINVAL);
	assert_int_equal(store_open(&f->st, NULL), EINVAL);
	store_close(NULL);
}

static struct store_alloc alloc(const char *set, const char *impu,
				const char *subject)
{
	struct store_alloc a;

	memset(&a, 0, sizeof a);
	snprintf(a.tenant, sizeof a.tenant, "acme");
	snprintf(a.idset, sizeof a.idset, "%s", set);
	snprintf(a.impu, sizeof a.impu, "%s", impu);
	snprintf(a.subject, sizeof a.subject, "%s", subject);
	a.created = 1000;
	return a;
}

/* Collects allocations into a fixed array. */
struct seen {
	struct store_alloc a[8];
	int n;
};

static int collect(void *arg, const struct store_alloc *a)
{
	struct seen *s = arg;

	if (s->n < 8)
		s->a[s->n++] = *a;
	return 0;
}

static int stop_at_first(void *arg, const struct store_alloc *a)
{
	(void)arg;
	(void)a;
	return 42;
}

static void test_alloc_unique(void **state)
{
	struct fixture *f = opened(state);
	struct store_alloc a = alloc("main", "+4930123400001", "alice");
	struct store_alloc b = alloc("main", "+4930123400001", "bob");
	struct store_alloc c = alloc("main", "+4930123400002", "alice");
	struct store_alloc d = alloc("partner", "+4940555000001", "alice");

	assert_int_equal(store_alloc_add(f->st, &a), 0);
	/* one number, one user; one user, one number per set */
	assert_int_equal(store_alloc_add(f->st, &b), EEXIST);
	assert_int_equal(store_alloc_add(f->st, &c), EEXIST);
	assert_int_equal(store_alloc_add(f->st, &d), 0);
	/* the same number in another tenant is another number */
	snprintf(b.tenant, sizeof b.tenant, "other");
	assert_int_equal(store_alloc_add(f->st, &b), 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM allocations"), 3);
}

/* A batch: writes are one transaction, seen by others only once
 * flushed or committed; nested batches commit at the outermost; a batch
 * without writes leaves nothing open; a unique-key refusal inside a batch
 * does not undo the batch's other writes. */
static void test_batch(void **state)
{
	struct fixture *f = opened(state);
	struct store_alloc a = alloc("main", "+4930123400001", "alice");
	struct store_alloc b = alloc("main", "+4930123400002", "bob");
	struct store_alloc dup = alloc("main", "+4930123400001", "carol");
	struct store_device d;

	memset(&d, 0, sizeof d);
	snprintf(d.tenant, sizeof d.tenant, "acme");
	snprintf(d.impi, sizeof d.impi, "alice-1@acme");
	snprintf(d.impu, sizeof d.impu, "+4930123400001");
	d.updated = 1;

	store_batch_begin(f->st);
	assert_int_equal(store_batch_commit(f->st), 0);     /* no writes */
	store_batch_begin(f->st);
	store_batch_begin(f->st);                           /* nested */
	assert_int_equal(store_alloc_add(f->st, &a), 0);
	assert_int_equal(store_alloc_add(f->st, &dup), EEXIST);
	assert_int_equal(store_device_put(f->st, &d), 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM allocations"), 0);
	assert_int_equal(store_batch_commit(f->st), 0);     /* inner: no commit */
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM devices"), 0);
	assert_int_equal(store_batch_flush(f->st), 0);      /* told: stored */
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM allocations"), 1);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM devices"), 1);
	assert_int_equal(store_alloc_add(f->st, &b), 0);    /* a new transaction */
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM allocations"), 1);
	assert_int_equal(store_batch_commit(f->st), 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM allocations"), 2);
	/* outside a batch each write commits at once */
	snprintf(d.impi, sizeof d.impi, "bob-1@acme");
	assert_int_equal(store_device_put(f->st, &d), 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM devices"), 2);
	/* a device leaving joins the batch too (closes share a commit) */
	store_batch_begin(f->st);
	assert_int_equal(store_device_del(f->st, "acme", "bob-1@acme"), 0);
	assert_true(store_unsaved(f->st));
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM devices"), 2);
	assert_int_equal(store_batch_commit(f->st), 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM devices"), 1);
}

/* What the commit hook of test_unsaved_commit_hook() saw. */
struct commits {
	struct store *st;
	int n, err;
	bool unsaved;        /* store_unsaved() inside the hook */
	bool write_again;    /* the hook writes once more */
};

static void on_commit(void *arg, int err)
{
	struct commits *c = arg;
	struct store_alloc z = alloc("main", "+4930123400009", "zoe");

	c->n++;
	c->err = err;
	c->unsaved = store_unsaved(c->st);
	if (c->write_again) {
		c->write_again = false;
		assert_int_equal(store_alloc_add(c->st, &z), 0);
	}
}

/* Stored before told: store_unsaved() is true exactly while a batch holds
 * uncommitted writes (deferred call records do not count), and the hook
 * hears of each commit once it is done; it may write again. */
static void test_unsaved_commit_hook(void **state)
{
	struct fixture *f = opened(state);
	struct store_alloc a = alloc("main", "+4930123400001", "alice");
	struct store_alloc b = alloc("main", "+4930123400002", "bob");
	struct commits c = { .st = f->st };
	struct store_cdr r;

	store_on_commit(f->st, on_commit, &c);
	assert_false(store_unsaved(f->st));
	assert_int_equal(store_alloc_add(f->st, &a), 0);    /* no batch */
	assert_false(store_unsaved(f->st));
	assert_int_equal(c.n, 0);                           /* nothing held */

	store_batch_begin(f->st);
	store_batch_begin(f->st);
	assert_false(store_unsaved(f->st));                 /* no write yet */
	assert_int_equal(store_alloc_add(f->st, &b), 0);
	assert_true(store_unsaved(f->st));
	assert_int_equal(store_batch_commit(f->st), 0);     /* inner */
	assert_true(store_unsaved(f->st));
	assert_int_equal(c.n, 0);
	c.write_again = true;
	assert_int_equal(store_batch_commit(f->st), 0);     /* outer */
	assert_int_equal(c.n, 1);
	assert_int_equal(c.err, 0);
	assert_false(c.unsaved);
	assert_false(store_unsaved(f->st));
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM allocations"), 3);

	/* a deferred call record alone holds nothing back */
	memset(&r, 0, sizeof r);
	snprintf(r.corr, sizeof r.corr, "c1");
	snprintf(r.tenant, sizeof r.tenant, "main");
	snprintf(r.direction, sizeof r.direction, "outbound");
	snprintf(r.legs, sizeof r.legs, "[]");
	snprintf(r.services, sizeof r.services, "[]");
	assert_int_equal(store_cdr_defer(f->st, &r), 0);
	store_batch_begin(f->st);
	assert_false(store_unsaved(f->st));
	assert_int_equal(store_alloc_del(f->st, "acme", "+4930123400001"), 0);
	assert_true(store_unsaved(f->st));                  /* joined it */
	assert_int_equal(store_batch_commit(f->st), 0);
	assert_int_equal(c.n, 2);
	assert_false(store_unsaved(f->st));
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM cdrs"), 1);

	store_on_commit(f->st, NULL, NULL);
	store_batch_begin(f->st);
	assert_int_equal(store_alloc_del(f->st, "acme", "+4930123400002"), 0);
	assert_int_equal(store_batch_commit(f->st), 0);
	assert_int_equal(c.n, 2);                           /* no hook */
}

static void test_alloc_hold_del_reopen(void **state)
{
	struct fixture *f = opened(state);
	struct store_alloc a = alloc("main", "+4930123400001", "alice");
	struct store_alloc b = alloc("main", "+4930123400002", "bob");
	struct seen seen = { .n = 0 };

	assert_int_equal(store_alloc_add(f->st, &a), 0);
	assert_int_equal(store_alloc_add(f->st, &b), 0);
	assert_int_equal(store_alloc_hold(f->st, "acme", "+4930123400001", 5000), 0);
	assert_int_equal(store_alloc_hold(f->st, "acme", "+4930123409999", 5000), ENOENT);
	assert_int_equal(store_alloc_del(f->st, "acme", "+4930123400002"), 0);
	assert_int_equal(store_alloc_del(f->st, "acme", "+4930123400002"), ENOENT);
	store_close(f->st);
	f->st = NULL;

	/* what was committed is there after a reopen */
	assert_int_equal(store_open(&f->st, f->path), 0);
	assert_int_equal(store_alloc_foreach(f->st, collect, &seen), 0);
	assert_int_equal(seen.n, 1);
	assert_string_equal(seen.a[0].impu, "+4930123400001");
	assert_string_equal(seen.a[0].subject, "alice");
	assert_string_equal(seen.a[0].idset, "main");
	assert_int_equal(seen.a[0].hold_until, 5000);
	assert_int_equal(seen.a[0].created, 1000);
	assert_int_equal(store_alloc_foreach(f->st, stop_at_first, NULL), 42);
}

static void test_alloc_bad_input(void **state)
{
	struct fixture *f = opened(state);
	struct store_alloc a = alloc("main", "+4930123400001", "");
	char big[300];

	assert_int_equal(store_alloc_add(f->st, &a), EINVAL);
	assert_int_equal(store_alloc_add(f->st, NULL), EINVAL);
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	assert_int_equal(store_alloc_hold(f->st, "acme", big, 1), EINVAL);
	assert_int_equal(store_alloc_hold(f->st, "acme", "+1", -1), EINVAL);
	assert_int_equal(store_alloc_del(f->st, NULL, "+1"), EINVAL);
	assert_int_equal(store_alloc_foreach(f->st, NULL, NULL), EINVAL);
}

static void test_devices(void **state)
{
	struct fixture *f = opened(state);
	struct store_device d = { .tenant = "acme", .impi = "+4930.d1@acme",
				  .impu = "+4930", .instance = "<urn:uuid:1>",
				  .updated = 7 };

	assert_int_equal(store_device_put(f->st, &d), 0);
	d.updated = 8;
	assert_int_equal(store_device_put(f->st, &d), 0);   /* refreshed */
	assert_int_equal(raw_int(f->path, "SELECT updated FROM devices"), 8);
	assert_int_equal(store_device_del(f->st, "acme", "+4930.d1@acme"), 0);
	assert_int_equal(store_device_del(f->st, "acme", "+4930.d1@acme"), ENOENT);
	assert_int_equal(store_device_put(f->st, &d), 0);
	assert_int_equal(store_device_clear(f->st), 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM devices"), 0);
	d.impi[0] = '\0';
	assert_int_equal(store_device_put(f->st, &d), EINVAL);
}

static void test_migrate_from_v1_keeps_users(void **state)
{
	struct fixture *f = *state;
	struct store_user got;

	/* A version 1 file as the first release wrote it. */
	raw_exec(f->path, STORE_SCHEMA_V1
		 "INSERT INTO users VALUES ('acme', 'alice', '" MD5_A "', '"
		 SHA256_A "', 1); PRAGMA user_version = 1");
	assert_int_equal(store_open(&f->st, f->path), 0);
	assert_int_equal(store_schema_version(f->st), LATEST);
	assert_int_equal(store_user_get(f->st, "acme", "alice", &got), 0);
	assert_string_equal(got.ha1_md5, MD5_A);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM allocations"), 0);
}

/* ---- diversions and agents ------------------------------------------- */

static struct store_diversion diversion(const char *tenant,
					const char *identity, const char *cfu,
					const char *cfb, int time)
{
	struct store_diversion d;

	memset(&d, 0, sizeof d);
	snprintf(d.tenant, sizeof d.tenant, "%s", tenant);
	snprintf(d.identity, sizeof d.identity, "%s", identity);
	snprintf(d.unconditional, sizeof d.unconditional, "%s", cfu);
	snprintf(d.busy, sizeof d.busy, "%s", cfb);
	snprintf(d.no_answer, sizeof d.no_answer, "sip:vm@acme.example");
	snprintf(d.not_reachable, sizeof d.not_reachable, "tel:+4930999");
	d.no_answer_time = time;
	return d;
}

static void assert_diversion_equal(const struct store_diversion *a,
				   const struct store_diversion *b)
{
	assert_string_equal(a->tenant, b->tenant);
	assert_string_equal(a->identity, b->identity);
	assert_string_equal(a->unconditional, b->unconditional);
	assert_string_equal(a->busy, b->busy);
	assert_string_equal(a->no_answer, b->no_answer);
	assert_string_equal(a->not_reachable, b->not_reachable);
	assert_int_equal(a->no_answer_time, b->no_answer_time);
}

/* Collects diversions into a fixed array; stops after @c stop_after. */
struct dseen {
	struct store_diversion d[8];
	int n;
	int stop_after;   /**< 0: never stop */
};

static int dcollect(void *arg, const struct store_diversion *d)
{
	struct dseen *s = arg;

	if (s->n < 8)
		s->d[s->n++] = *d;
	return s->stop_after && s->n >= s->stop_after ? 7 : 0;
}

static void test_diversion_put_get(void **state)
{
	struct fixture *f = opened(state);
	struct store_diversion d = diversion("acme", "+4930123400001",
					     "", "+4930123400002", 20), got;

	assert_int_equal(store_diversion_put(f->st, &d), 0);
	memset(&got, 'x', sizeof got);
	assert_int_equal(store_diversion_get(f->st, "acme", "+4930123400001",
					     &got), 0);
	assert_diversion_equal(&got, &d);
	assert_string_equal(got.unconditional, "");
	/* Tenants are separate; unknown numbers are not found. */
	assert_int_equal(store_diversion_get(f->st, "other", "+4930123400001",
					     &got), ENOENT);
	assert_int_equal(store_diversion_get(f->st, "acme", "+4930123400009",
					     &got), ENOENT);
	assert_true(raw_int(f->path, "SELECT updated FROM diversions") > 0);
}

static void test_diversion_replace(void **state)
{
	struct fixture *f = opened(state);
	struct store_diversion d = diversion("acme", "+4930123400001",
					     "+4930123400003", "", 0), got;

	assert_int_equal(store_diversion_put(f->st, &d), 0);
	raw_exec(f->path, "UPDATE diversions SET updated = 42");
	d = diversion("acme", "+4930123400001", "", "sip:busy@acme.example",
		      3600);
	d.not_reachable[0] = '\0';
	assert_int_equal(store_diversion_put(f->st, &d), 0);
	assert_int_equal(store_diversion_get(f->st, "acme", "+4930123400001",
					     &got), 0);
	assert_diversion_equal(&got, &d);
	/* Replaced in place: one row, every field and the time updated. */
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM diversions"), 1);
	assert_true(raw_int(f->path, "SELECT updated FROM diversions") > 42);
}

static void test_diversion_del(void **state)
{
	struct fixture *f = opened(state);
	struct store_diversion d = diversion("acme", "+4930123400001",
					     "+4930123400003", "", 0), got;
	struct store_diversion e = diversion("acme", "+4930123400002",
					     "+4930123400003", "", 0);

	assert_int_equal(store_diversion_put(f->st, &d), 0);
	assert_int_equal(store_diversion_put(f->st, &e), 0);
	assert_int_equal(store_diversion_del(f->st, "other", "+4930123400001"),
			 ENOENT);
	assert_int_equal(store_diversion_del(f->st, "acme", "+4930123400001"), 0);
	assert_int_equal(store_diversion_get(f->st, "acme", "+4930123400001",
					     &got), ENOENT);
	assert_int_equal(store_diversion_del(f->st, "acme", "+4930123400001"),
			 ENOENT);
	/* The other number is untouched. */
	assert_int_equal(store_diversion_get(f->st, "acme", "+4930123400002",
					     &got), 0);
	assert_diversion_equal(&got, &e);
}

static void test_diversion_foreach(void **state)
{
	struct fixture *f = opened(state);
	/* Put out of order: the listing sorts by tenant, then number. */
	struct store_diversion v[] = {
		diversion("zeta", "+4940000000001", "+1", "", 0),
		diversion("acme", "+4930123400002", "+2", "", 5),
		diversion("beta", "+4950000000001", "+3", "", 0),
		diversion("acme", "+4930123400001", "+4", "", 10),
	};
	struct dseen seen;

	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
		assert_int_equal(store_diversion_put(f->st, &v[i]), 0);

	memset(&seen, 0, sizeof seen);
	assert_int_equal(store_diversion_foreach(f->st, "acme", dcollect,
						 &seen), 0);
	assert_int_equal(seen.n, 2);
	assert_diversion_equal(&seen.d[0], &v[3]);
	assert_diversion_equal(&seen.d[1], &v[1]);

	memset(&seen, 0, sizeof seen);
	assert_int_equal(store_diversion_foreach(f->st, NULL, dcollect,
						 &seen), 0);
	assert_int_equal(seen.n, 4);
	assert_diversion_equal(&seen.d[0], &v[3]);
	assert_diversion_equal(&seen.d[1], &v[1]);
	assert_diversion_equal(&seen.d[2], &v[2]);
	assert_diversion_equal(&seen.d[3], &v[0]);

	/* A tenant without diversions: no call. */
	memset(&seen, 0, sizeof seen);
	assert_int_equal(store_diversion_foreach(f->st, "none", dcollect,
						 &seen), 0);
	assert_int_equal(seen.n, 0);

	/* Early stop: what the callback returned, and the next call works. */
	memset(&seen, 0, sizeof seen);
	seen.stop_after = 2;
	assert_int_equal(store_diversion_foreach(f->st, NULL, dcollect,
						 &seen), 7);
	assert_int_equal(seen.n, 2);
	assert_string_equal(seen.d[1].identity, "+4930123400002");
	memset(&seen, 0, sizeof seen);
	seen.stop_after = 1;
	assert_int_equal(store_diversion_foreach(f->st, "acme", dcollect,
						 &seen), 7);
	assert_int_equal(seen.n, 1);
	memset(&seen, 0, sizeof seen);
	assert_int_equal(store_diversion_foreach(f->st, "acme", dcollect,
						 &seen), 0);
	assert_int_equal(seen.n, 2);
}

static void test_diversion_bad_input(void **state)
{
	struct fixture *f = opened(state);
	struct store_diversion ok = diversion("acme", "+4930123400001", "+1",
					      "", 20), d, got;
	struct dseen seen;
	char big[300];

	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';

	assert_int_equal(store_diversion_put(NULL, &ok), EINVAL);
	assert_int_equal(store_diversion_put(f->st, NULL), EINVAL);
	d = ok;
	d.tenant[0] = '\0';
	assert_int_equal(store_diversion_put(f->st, &d), EINVAL);
	d = ok;
	d.identity[0] = '\0';
	assert_int_equal(store_diversion_put(f->st, &d), EINVAL);
	/* Not NUL-terminated within a field. */
	d = ok;
	memset(d.tenant, 't', sizeof d.tenant);
	assert_int_equal(store_diversion_put(f->st, &d), EINVAL);
	d = ok;
	memset(d.identity, '1', sizeof d.identity);
	assert_int_equal(store_diversion_put(f->st, &d), EINVAL);
	d = ok;
	memset(d.unconditional, 'u', sizeof d.unconditional);
	assert_int_equal(store_diversion_put(f->st, &d), EINVAL);
	d = ok;
	memset(d.busy, 'b', sizeof d.busy);
	assert_int_equal(store_diversion_put(f->st, &d), EINVAL);
	d = ok;
	memset(d.no_answer, 'n', sizeof d.no_answer);
	assert_int_equal(store_diversion_put(f->st, &d), EINVAL);
	d = ok;
	memset(d.not_reachable, 'r', sizeof d.not_reachable);
	assert_int_equal(store_diversion_put(f->st, &d), EINVAL);
	/* The no-answer timer is 0..3600 seconds. */
	d = ok;
	d.no_answer_time = -1;
	assert_int_equal(store_diversion_put(f->st, &d), EINVAL);
	d.no_answer_time = 3601;
	assert_int_equal(store_diversion_put(f->st, &d), EINVAL);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM diversions"), 0);
	/* ...both ends included; all targets "" is a valid row. */
	d = ok;
	d.no_answer_time = 3600;
	assert_int_equal(store_diversion_put(f->st, &d), 0);
	d = diversion("acme", "+4930123400002", "", "", 0);
	d.no_answer[0] = d.not_reachable[0] = '\0';
	assert_int_equal(store_diversion_put(f->st, &d), 0);

	assert_int_equal(store_diversion_get(NULL, "acme", "+1", &got), EINVAL);
	assert_int_equal(store_diversion_get(f->st, NULL, "+1", &got), EINVAL);
	assert_int_equal(store_diversion_get(f->st, "acme", NULL, &got), EINVAL);
	assert_int_equal(store_diversion_get(f->st, "acme", "+1", NULL), EINVAL);
	assert_int_equal(store_diversion_get(f->st, "", "+1", &got), EINVAL);
	assert_int_equal(store_diversion_get(f->st, "acme", "", &got), EINVAL);
	/* Keys that cannot be stored cannot be found. */
	assert_int_equal(store_diversion_get(f->st, big, "+1", &got), ENOENT);
	assert_int_equal(store_diversion_get(f->st, "acme", big, &got), ENOENT);
	assert_int_equal(store_diversion_del(NULL, "acme", "+1"), EINVAL);
	assert_int_equal(store_diversion_del(f->st, NULL, "+1"), EINVAL);
	assert_int_equal(store_diversion_del(f->st, "acme", NULL), EINVAL);
	assert_int_equal(store_diversion_del(f->st, "", "+1"), EINVAL);
	assert_int_equal(store_diversion_del(f->st, "acme", ""), EINVAL);
	assert_int_equal(store_diversion_del(f->st, big, "+1"), ENOENT);
	assert_int_equal(store_diversion_del(f->st, "acme", big), ENOENT);

	memset(&seen, 0, sizeof seen);
	assert_int_equal(store_diversion_foreach(NULL, NULL, dcollect, &seen),
			 EINVAL);
	assert_int_equal(store_diversion_foreach(f->st, NULL, NULL, NULL),
			 EINVAL);
	assert_int_equal(store_diversion_foreach(f->st, "", dcollect, &seen),
			 EINVAL);
	assert_int_equal(store_diversion_foreach(f->st, big, dcollect, &seen), 0);
	assert_int_equal(seen.n, 0);
	/* Nothing was changed by the refused calls. */
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM diversions"), 2);
	assert_int_equal(store_diversion_get(f->st, "acme", "+4930123400001",
					     &got), 0);
	assert_int_equal(got.no_answer_time, 3600);
}

static void test_agent_pause(void **state)
{
	struct fixture *f = opened(state);
	bool paused = true;

	/* Never set: not paused, and no row is written by asking. */
	assert_int_equal(store_agent_paused(f->st, "acme", "+4930123400001",
					    &paused), 0);
	assert_false(paused);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM agents"), 0);

	assert_int_equal(store_agent_pause(f->st, "acme", "+4930123400001",
					   true), 0);
	assert_int_equal(store_agent_paused(f->st, "acme", "+4930123400001",
					    &paused), 0);
	assert_true(paused);
	/* Per tenant and per number. */
	paused = true;
	assert_int_equal(store_agent_paused(f->st, "other", "+4930123400001",
					    &paused), 0);
	assert_false(paused);
	paused = true;
	assert_int_equal(store_agent_paused(f->st, "acme", "+4930123400002",
					    &paused), 0);
	assert_false(paused);

	/* Pausing twice is one row; resuming updates it in place. */
	assert_int_equal(store_agent_pause(f->st, "acme", "+4930123400001",
					   true), 0);
	raw_exec(f->path, "UPDATE agents SET updated = 42");
	assert_int_equal(store_agent_pause(f->st, "acme", "+4930123400001",
					   false), 0);
	assert_int_equal(store_agent_paused(f->st, "acme", "+4930123400001",
					    &paused), 0);
	assert_false(paused);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM agents"), 1);
	assert_true(raw_int(f->path, "SELECT updated FROM agents") > 42);
	assert_int_equal(store_agent_pause(f->st, "acme", "+4930123400001",
					   true), 0);
	assert_int_equal(store_agent_paused(f->st, "acme", "+4930123400001",
					    &paused), 0);
	assert_true(paused);
}

static void test_agent_bad_input(void **state)
{
	struct fixture *f = opened(state);
	bool paused = false;
	char big[300];

	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	assert_int_equal(store_agent_pause(NULL, "acme", "+1", true), EINVAL);
	assert_int_equal(store_agent_pause(f->st, NULL, "+1", true), EINVAL);
	assert_int_equal(store_agent_pause(f->st, "acme", NULL, true), EINVAL);
	assert_int_equal(store_agent_pause(f->st, "", "+1", true), EINVAL);
	assert_int_equal(store_agent_pause(f->st, "acme", "", true), EINVAL);
	assert_int_equal(store_agent_pause(f->st, big, "+1", true), EINVAL);
	assert_int_equal(store_agent_pause(f->st, "acme", big, true), EINVAL);
	assert_int_equal(store_agent_paused(NULL, "acme", "+1", &paused), EINVAL);
	assert_int_equal(store_agent_paused(f->st, NULL, "+1", &paused), EINVAL);
	assert_int_equal(store_agent_paused(f->st, "acme", NULL, &paused), EINVAL);
	assert_int_equal(store_agent_paused(f->st, "acme", "+1", NULL), EINVAL);
	assert_int_equal(store_agent_paused(f->st, "", "+1", &paused), EINVAL);
	assert_int_equal(store_agent_paused(f->st, "acme", "", &paused), EINVAL);
	assert_int_equal(store_agent_paused(f->st, big, "+1", &paused), EINVAL);
	assert_int_equal(store_agent_paused(f->st, "acme", big, &paused), EINVAL);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM agents"), 0);
}

static void test_svc_reopen(void **state)
{
	struct fixture *f = opened(state);
	struct store_diversion d = diversion("acme", "+4930123400001",
					     "+4930123400003", "+4930123400004",
					     30), got;
	bool paused = false;

	assert_int_equal(store_diversion_put(f->st, &d), 0);
	assert_int_equal(store_agent_pause(f->st, "acme", "+4930123400005",
					   true), 0);
	store_close(f->st);
	f->st = NULL;

	assert_int_equal(store_open(&f->st, f->path), 0);
	assert_int_equal(store_schema_version(f->st), LATEST);
	assert_int_equal(store_diversion_get(f->st, "acme", "+4930123400001",
					     &got), 0);
	assert_diversion_equal(&got, &d);
	assert_int_equal(store_agent_paused(f->st, "acme", "+4930123400005",
					    &paused), 0);
	assert_true(paused);
}

static void test_migrate_from_v2_keeps_allocations(void **state)
{
	struct fixture *f = *state;
	struct store_diversion d = diversion("acme", "+4930123400001", "+1",
					     "", 0), got;
	struct store_user u;
	struct store_alloc a = alloc("main", "+4930123400001", "carol");
	struct seen seen = { .n = 0 };
	bool paused = true;

	/* A version 2 file as the second release wrote it. */
	raw_exec(f->path, STORE_SCHEMA_V2
		 "INSERT INTO users VALUES ('acme', 'alice', '" MD5_A "', '"
		 SHA256_A "', 1);"
		 "INSERT INTO allocations VALUES ('acme', 'main', "
		 "'+4930123400001', 'alice', 1000, 0), ('acme', 'main', "
		 "'+4930123400002', 'bob', 1001, 5000);"
		 "INSERT INTO devices VALUES ('acme', 'd1', '+4930123400001', "
		 "'', 9);"
		 "PRAGMA user_version = 2");
	assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 2);

	assert_int_equal(store_open(&f->st, f->path), 0);
	assert_int_equal(store_schema_version(f->st), LATEST);
	assert_int_equal(raw_int(f->path, "PRAGMA user_version"), LATEST);
	/* What was there survives... */
	assert_int_equal(store_user_get(f->st, "acme", "alice", &u), 0);
	assert_string_equal(u.ha1_md5, MD5_A);
	assert_int_equal(store_alloc_foreach(f->st, collect, &seen), 0);
	assert_int_equal(seen.n, 2);
	assert_int_equal(raw_int(f->path, "SELECT hold_until FROM allocations "
				 "WHERE impu = '+4930123400002'"), 5000);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM devices"), 1);
	/* ...the taken numbers are still taken... */
	assert_int_equal(store_alloc_add(f->st, &a), EEXIST);
	/* ...and the new tables are there, empty and usable. */
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM diversions"), 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM agents"), 0);
	assert_int_equal(store_diversion_get(f->st, "acme", "+4930123400001",
					     &got), ENOENT);
	assert_int_equal(store_diversion_put(f->st, &d), 0);
	assert_int_equal(store_diversion_get(f->st, "acme", "+4930123400001",
					     &got), 0);
	assert_diversion_equal(&got, &d);
	assert_int_equal(store_agent_paused(f->st, "acme", "+4930123400001",
					    &paused), 0);
	assert_false(paused);
	store_close(f->st);
	f->st = NULL;

	/* Opening again migrates nothing more. */
	assert_int_equal(store_open(&f->st, f->path), 0);
	assert_int_equal(store_schema_version(f->st), LATEST);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM diversions"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_put_get, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_schema_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_future_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_from_empty_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_keeps_other_tables, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migration_failure_rolls_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alloc_unique, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unsaved_commit_hook, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_alloc_hold_del_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alloc_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_devices, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_from_v1_keeps_users, setup, teardown),
		cmocka_unit_test_setup_teardown(test_diversion_put_get, setup, teardown),
		cmocka_unit_test_setup_teardown(test_diversion_replace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_diversion_del, setup, teardown),
		cmocka_unit_test_setup_teardown(test_diversion_foreach, setup, teardown),
		cmocka_unit_test_setup_teardown(test_diversion_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_agent_pause, setup, teardown),
		cmocka_unit_test_setup_teardown(test_agent_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_svc_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_from_v2_keeps_allocations, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
