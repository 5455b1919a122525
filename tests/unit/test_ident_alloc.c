/**
 * @file test_ident_alloc.c  Tenants' identities (gateway/ident/): sequential
 * and random allocation, sticky numbers, claims (explicit numbers, tel:
 * URIs, wildcards, numbers in use or held by somebody else), tenant, range
 * and identity-set limits, the anonymous set, release, hold and its end,
 * persistence across restarts, two processes sharing one store, reloads
 * (limits raised, a set withdrawn) and private identities (impi_template).
 *
 * Each test writes its configuration into a temporary folder, loads it with
 * conf_load(), opens the store (SQLite) in the same folder and creates the
 * ident on top; the store's rows are checked with raw SQL where it matters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>
#include <sqlite3.h>

#include "conf/conf.h"
#include "conf_fixture.h"
#include "gateway/ident/ident.h"
#include "store/store.h"

/* The tenant's main range: ten numbers, +4930123400000 to ...09. */
#define MAIN_LO  "+4930123400000"
#define RANGE    MAIN_LO "-+4930123400009"
#define RANGE_SZ 10
/* The partner trunk's set, and the anonymous pool. */
#define PARTNER  "+4940555000000-+4940555000009"
#define GUESTS   "+4930123410000-+4930123410099"
#define WILDCARD "tel:+3314529!.*!"

#define HOLD 60

struct fixture {
	struct conf_fixture cf;          /**< freed last: idents borrow them */
	char db[128];
	struct store *st, *st2;
	struct ident *id, *id2;
	const char *why;                 /**< of the last acquire() */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	if (!f)
		return -1;
	if (conf_fixture_init(&f->cf, "ident")) {
		free(f);
		return -1;
	}
	snprintf(f->db, sizeof f->db, "%s/wtpf.db", f->cf.dir);
	*state = f;
	return 0;
}

/** Frees the idents, then the stores, then the configurations, and the
 * temporary folder with every file in it. */
static int teardown(void **state)
{
	struct fixture *f = *state;

	ident_destroy(f->id);
	ident_destroy(f->id2);
	store_close(f->st);
	store_close(f->st2);
	conf_fixture_fini(&f->cf);
	free(f);
	return 0;
}

/* ---- configurations ----------------------------------------------------- */

/**
 * Writes a configuration with the store in the temporary folder, the trunks
 * "ims" and "partner", and @p tenants (the inside of `tenants = ( ... )`),
 * loads it and keeps it in the fixture until teardown.
 */
static struct conf *conf_tenants(struct fixture *f, const char *tenants)
{
	char *text = g_strdup_printf(
		"store = { path = \"%s\"; };\n"
		"trunks = (\n"
		"  { name = \"ims\"; mode = \"static\";"
		" bind = \"sip:127.0.0.1:5090\"; domain = \"ims.test\"; pcscf = [ \"sip:127.0.0.1:5070\" ]; },\n"
		"  { name = \"partner\"; mode = \"static\";"
		" bind = \"sip:127.0.0.1:5092\"; domain = \"partner.test\"; pcscf = [ \"sip:127.0.0.1:5072\" ]; }\n"
		");\n"
		"tenants = (\n%s\n);\n", f->db, tenants);
	struct conf *conf = conf_fixture_load(&f->cf, text);

	g_free(text);
	return conf;
}

/** The tenant "acme" (domain acme.test, trunk ims) with the options of
 * @p fmt added to its group. */
__attribute__((format(printf, 2, 3)))
static struct conf *conf_acme(struct fixture *f, const char *fmt, ...)
{
	char body[2048], tenants[2600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(body, sizeof body, fmt, ap);
	va_end(ap);
	snprintf(tenants, sizeof tenants,
		 "  { name = \"acme\"; domain = \"acme.test\";"
		 " origins = [ \"http://x\" ]; allow_digest = true;"
		 " trunk = \"ims\";\n    %s\n  }", body);
	return conf_tenants(f, tenants);
}

/* ---- store and ident ------------------------------------------------------ */

/** Opens the store and creates the ident on @p conf (f->st, f->id). */
static void start(struct fixture *f, const struct conf *conf)
{
	assert_int_equal(store_open(&f->st, f->db), 0);
	assert_int_equal(ident_create(&f->id, conf, f->st), 0);
	assert_non_null(f->id);
}

/** As a process stopping and starting again: ident and store closed and
 * opened anew on the same file. */
static void restart(struct fixture *f, const struct conf *conf)
{
	ident_destroy(f->id);
	store_close(f->st);
	f->id = NULL;
	f->st = NULL;
	start(f, conf);
}

/** The @p i-th number of the main range. */
static const char *num(int i)
{
	static char buf[4][NUMRANGE_NUM_MAX];
	static int k;
	char *b = buf[k++ % 4];

	snprintf(b, NUMRANGE_NUM_MAX, "+49301234000%02d", i);
	return b;
}

/** The index of @p number in the main range, or -1. */
static int main_index(const char *number)
{
	for (int i = 0; i < RANGE_SZ; i++)
		if (!strcmp(number, num(i)))
			return i;
	return -1;
}

/** ident_acquire() on tenant acme; the reason goes to f->why. */
static int acquire(struct fixture *f, struct ident *id, const char *subject,
		   const char *claim, bool anonymous, struct ident_grant *g)
{
	struct ident_grant tmp;

	f->why = NULL;
	return ident_acquire(id, "acme", subject, claim, anonymous,
			     g ? g : &tmp, &f->why);
}

/** Allocates (no claim, not anonymous) for @p subject, must succeed;
 * returns the number (valid until the next call). */
static const char *alloc_ok(struct fixture *f, struct ident *id,
			    const char *subject)
{
	static struct ident_grant g;
	int err = acquire(f, id, subject, NULL, false, &g);

	if (err)
		fail_msg("acquire for %s: %d (%s)", subject, err,
			 f->why ? f->why : "");
	assert_true(g.allocated);
	return g.number;
}

/** Expects @p err with the reason @p why. */
static void expect_refusal(struct fixture *f, struct ident *id,
			   const char *subject, const char *claim,
			   bool anonymous, int err, const char *why)
{
	assert_int_equal(acquire(f, id, subject, claim, anonymous, NULL), err);
	assert_non_null(f->why);
	assert_string_equal(f->why, why);
}

static size_t count(const struct ident *id, size_t *held)
{
	return ident_count(id, "acme", held);
}

/* ---- raw SQL on the store's file ------------------------------------------- */

/** Runs @p sql on the file directly and returns its first column. */
static long long raw_int(const char *path, const char *sql)
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

/** hold_until of @p number's row, or -1 when there is none. */
static long long row_hold(struct fixture *f, const char *number)
{
	char sql[256];

	snprintf(sql, sizeof sql, "SELECT coalesce((SELECT hold_until FROM "
		 "allocations WHERE tenant = 'acme' AND impu = '%s'), -1)",
		 number);
	return raw_int(f->db, sql);
}

static long long rows(struct fixture *f)
{
	return raw_int(f->db, "SELECT count(*) FROM allocations");
}

/* ---- 1. sequential ---------------------------------------------------------- */

static void test_sequential_lowest_free_sticky(void **state)
{
	struct fixture *f = *state;
	struct ident_grant g;
	size_t held = 99;
	char subject[32], sql[160];

	start(f, conf_acme(f, "ranges = [ \"%s\" ]; allocation = \"sequential\";",
			   RANGE));
	assert_true(ident_managed(f->id, "acme"));
	for (int i = 0; i < 5; i++) {
		snprintf(subject, sizeof subject, "user%d", i);
		assert_int_equal(acquire(f, f->id, subject, NULL, false, &g), 0);
		assert_string_equal(g.number, num(i));
		assert_string_equal(g.set, "main");
		assert_string_equal(g.trunk, "ims");
		assert_true(g.allocated);
	}
	assert_int_equal(count(f->id, &held), 5);
	assert_int_equal(held, 0);

	/* the same subject again: the same number, nothing new */
	assert_string_equal(alloc_ok(f, f->id, "user2"), num(2));
	assert_string_equal(alloc_ok(f, f->id, "user0"), num(0));
	assert_int_equal(count(f->id, &held), 5);
	assert_int_equal(held, 0);
	assert_int_equal(rows(f), 5);
	snprintf(sql, sizeof sql, "SELECT count(*) FROM allocations WHERE "
		 "impu = '%s' AND subject = 'user2' AND idset = 'main' AND "
		 "hold_until = 0", num(2));
	assert_int_equal(raw_int(f->db, sql), 1);

	/* and the next subject the next number */
	assert_string_equal(alloc_ok(f, f->id, "user5"), num(5));

	/* look-ups tell allocated numbers from free ones */
	assert_int_equal(ident_lookup(f->id, "acme", num(1), &g), 0);
	assert_true(g.allocated);
	assert_string_equal(g.set, "main");
	assert_int_equal(ident_lookup(f->id, "acme", "tel:+4930123400009", &g), 0);
	assert_false(g.allocated);
	assert_string_equal(g.number, num(9));
	assert_int_equal(ident_lookup(f->id, "acme", "+4930123499999", &g),
			 ENOENT);

	/* no anonymous set: anonymous users get nothing */
	expect_refusal(f, f->id, "anon-1", NULL, true, ENOSPC,
		       "no anonymous identity set");
	/* no subject, no number */
	expect_refusal(f, f->id, "", NULL, false, EPERM, "no subject");
}

static void test_unmanaged_tenant(void **state)
{
	struct fixture *f = *state;

	start(f, conf_tenants(f,
		"  { name = \"acme\"; domain = \"acme.test\"; origins = [ \"http://x\" ];"
		" allow_digest = true; trunk = \"ims\"; ranges = [ \"" RANGE "\" ]; },\n"
		"  { name = \"plain\"; domain = \"plain.test\"; origins = [ \"http://y\" ];"
		" allow_digest = true; trunk = \"partner\"; }"));
	assert_true(ident_managed(f->id, "acme"));
	assert_false(ident_managed(f->id, "plain"));
	assert_false(ident_managed(f->id, "nobody"));
	/* a tenant without sets still wants its trunk */
	assert_true(ident_trunk_wanted(f->id, "partner"));
	assert_true(ident_trunk_wanted(f->id, "ims"));
	assert_false(ident_trunk_wanted(f->id, "elsewhere"));

	struct ident_grant g;
	const char *why = NULL;
	assert_int_equal(ident_acquire(f->id, "plain", "alice", NULL, false,
				       &g, &why), ENOENT);
	assert_string_equal(why, "tenant has no identity sets");
	assert_int_equal(ident_acquire(f->id, "nobody", "alice", NULL, false,
				       &g, &why), ENOENT);
	assert_int_equal(ident_count(f->id, "plain", NULL), 0);
	assert_int_equal(rows(f), 0);
}

/* ---- 2. random ---------------------------------------------------------------- */

static void test_random(void **state)
{
	struct fixture *f = *state;
	bool seen[RANGE_SZ] = { false };
	int order[RANGE_SZ];
	char subject[32];
	bool ascending = true;

	start(f, conf_acme(f, "ranges = [ \"%s\" ]; allocation = \"random\";",
			   RANGE));
	g_random_set_seed(20240611);   /* deterministic */
	for (int i = 0; i < RANGE_SZ; i++) {
		snprintf(subject, sizeof subject, "user%d", i);
		int k = main_index(alloc_ok(f, f->id, subject));
		assert_in_range(k, 0, RANGE_SZ - 1);
		assert_false(seen[k]);            /* distinct */
		seen[k] = true;
		order[i] = k;
		if (k != i)
			ascending = false;
	}
	/* every number of the range, each once, not handed out in order */
	for (int i = 0; i < RANGE_SZ; i++)
		assert_true(seen[i]);
	assert_false(ascending);
	assert_false(order[0] == 0 && order[1] == 1 && order[2] == 2 &&
		     order[3] == 3);
	assert_int_equal(count(f->id, NULL), RANGE_SZ);

	/* sticky too, and nothing left for a newcomer */
	assert_int_equal(main_index(alloc_ok(f, f->id, "user3")), order[3]);
	expect_refusal(f, f->id, "user10", NULL, false, ENOSPC,
		       "no free identity left in the range");
	assert_int_equal(rows(f), RANGE_SZ);
}

/* ---- 3. claims ----------------------------------------------------------------- */

static void test_claims(void **state)
{
	struct fixture *f = *state;
	struct ident_grant g;
	size_t held;

	start(f, conf_acme(f, "ranges = [ \"%s\", \"%s\" ]; hold_time = %d;",
			   RANGE, WILDCARD, HOLD));

	/* a number of the range, plain and as a tel: URI */
	assert_int_equal(acquire(f, f->id, "alice", num(5), false, &g), 0);
	assert_string_equal(g.number, num(5));
	assert_string_equal(g.set, "main");
	assert_string_equal(g.trunk, "ims");
	assert_false(g.allocated);
	assert_int_equal(acquire(f, f->id, "bob", "tel:+4930123400006", false,
				 &g), 0);
	assert_string_equal(g.number, num(6));
	assert_false(g.allocated);
	/* claiming one's own number again is fine */
	assert_int_equal(acquire(f, f->id, "alice", num(5), false, &g), 0);
	assert_string_equal(g.number, num(5));

	/* outside the ranges, or not a number */
	expect_refusal(f, f->id, "carol", "+4930123499999", false, EPERM,
		       "identity outside the tenant's ranges");
	expect_refusal(f, f->id, "carol", "tel:+4940555000001", false, EPERM,
		       "identity outside the tenant's ranges");
	expect_refusal(f, f->id, "carol", "alice", false, EPERM,
		       "claimed identity is not a number");

	/* a wildcard range accepts its members */
	assert_int_equal(acquire(f, f->id, "dave", "+33145291234", false, &g), 0);
	assert_string_equal(g.number, "+33145291234");
	assert_string_equal(g.set, "main");
	assert_false(g.allocated);
	assert_int_equal(ident_lookup(f->id, "acme", "tel:+33145291234", &g), 0);
	assert_true(g.allocated);
	expect_refusal(f, f->id, "carol", "+33145301234", false, EPERM,
		       "identity outside the tenant's ranges");
	assert_int_equal(count(f->id, &held), 3);
	assert_int_equal(held, 0);

	/* somebody else's number in use: refused */
	expect_refusal(f, f->id, "erin", num(5), false, EPERM,
		       "identity in use by another user");
	assert_int_equal(ident_lookup(f->id, "acme", num(5), &g), 0);
	assert_true(g.allocated);

	/* once released (held) the claim takes it over */
	ident_release(f->id, "acme", num(5));
	assert_int_equal(count(f->id, &held), 3);
	assert_int_equal(held, 1);
	assert_int_equal(acquire(f, f->id, "erin", num(5), false, &g), 0);
	assert_string_equal(g.number, num(5));
	assert_false(g.allocated);
	assert_int_equal(count(f->id, &held), 3);
	assert_int_equal(held, 0);
	assert_int_equal(row_hold(f, num(5)), 0);
	assert_int_equal(raw_int(f->db, "SELECT count(*) FROM allocations WHERE "
				 "subject = 'erin' AND impu = '+4930123400005'"),
			 1);
	assert_int_equal(raw_int(f->db, "SELECT count(*) FROM allocations WHERE "
				 "subject = 'alice'"), 0);

	/* allocation skips the claimed numbers and never picks from the
	 * wildcard (membership only) */
	const int expect[] = { 0, 1, 2, 3, 4, 7, 8, 9 };
	char subject[32];
	for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++) {
		snprintf(subject, sizeof subject, "user%zu", i);
		assert_string_equal(alloc_ok(f, f->id, subject), num(expect[i]));
	}
	/* alice lost hers to erin: nothing left for her */
	expect_refusal(f, f->id, "alice", NULL, false, ENOSPC,
		       "no free identity left in the range");
	assert_int_equal(count(f->id, NULL), 11);
	assert_int_equal(rows(f), 11);
}

/* A user's held number gives way to a claim of another of its numbers;
 * one in use does not. */
static void test_claim_other_own_number(void **state)
{
	struct fixture *f = *state;
	struct ident_grant g;
	size_t held;

	start(f, conf_acme(f, "ranges = [ \"%s\" ]; hold_time = %d;", RANGE,
			   HOLD));
	assert_string_equal(alloc_ok(f, f->id, "alice"), num(0));
	expect_refusal(f, f->id, "alice", num(3), false, EPERM,
		       "another identity of this user is in use");
	ident_release(f->id, "acme", num(0));
	assert_int_equal(acquire(f, f->id, "alice", num(3), false, &g), 0);
	assert_string_equal(g.number, num(3));
	assert_int_equal(count(f->id, &held), 1);
	assert_int_equal(held, 0);
	assert_int_equal(row_hold(f, num(0)), -1);
	/* and now the claimed number is alice's allocation */
	assert_string_equal(alloc_ok(f, f->id, "alice"), num(3));
	/* the lowest is free again */
	assert_string_equal(alloc_ok(f, f->id, "bob"), num(0));
}

/* ---- 4. limits ----------------------------------------------------------------- */

static void test_tenant_limit(void **state)
{
	struct fixture *f = *state;
	struct ident_grant g;
	size_t held;

	start(f, conf_acme(f, "ranges = [ \"%s\" ]; max_identities = 3;"
			   " hold_time = %d;", RANGE, HOLD));
	assert_string_equal(alloc_ok(f, f->id, "a"), num(0));
	assert_string_equal(alloc_ok(f, f->id, "b"), num(1));
	assert_string_equal(alloc_ok(f, f->id, "c"), num(2));
	expect_refusal(f, f->id, "d", NULL, false, ENOSPC,
		       "tenant identity limit reached");
	expect_refusal(f, f->id, "d", num(7), false, ENOSPC,
		       "tenant identity limit reached");
	/* the users that have one still get theirs */
	assert_string_equal(alloc_ok(f, f->id, "b"), num(1));

	/* held numbers count */
	ident_release(f->id, "acme", num(1));
	assert_int_equal(count(f->id, &held), 3);
	assert_int_equal(held, 1);
	expect_refusal(f, f->id, "d", NULL, false, ENOSPC,
		       "tenant identity limit reached");

	/* the hold ends: room for one */
	ident_tick(f->id, time(NULL) + HOLD + 1);
	assert_int_equal(count(f->id, &held), 2);
	assert_int_equal(held, 0);
	assert_int_equal(acquire(f, f->id, "d", num(7), false, &g), 0);
	assert_string_equal(g.number, num(7));
	expect_refusal(f, f->id, "e", NULL, false, ENOSPC,
		       "tenant identity limit reached");
	assert_int_equal(rows(f), 3);
}

static void test_range_full(void **state)
{
	struct fixture *f = *state;
	char subject[32];

	start(f, conf_acme(f, "ranges = [ \"%s\" ];", RANGE));
	for (int i = 0; i < RANGE_SZ; i++) {
		snprintf(subject, sizeof subject, "user%d", i);
		assert_string_equal(alloc_ok(f, f->id, subject), num(i));
	}
	expect_refusal(f, f->id, "late", NULL, false, ENOSPC,
		       "no free identity left in the range");
	expect_refusal(f, f->id, "late", NULL, false, ENOSPC,
		       "no free identity left in the range");
	assert_int_equal(count(f->id, NULL), RANGE_SZ);
	assert_int_equal(rows(f), RANGE_SZ);
}

/* Sets of their own with limits: a full set passes on to the next one. */
static void test_set_limit(void **state)
{
	struct fixture *f = *state;
	struct ident_grant g;
	size_t held;

	/* no ranges of its own: no "main" set */
	start(f, conf_acme(f,
		"identity_sets = (\n"
		"  { name = \"first\"; trunk = \"partner\"; ranges = [ \"%s\" ];"
		" max_identities = 2; },\n"
		"  { name = \"second\"; trunk = \"ims\"; ranges = [ \"%s\" ];"
		" max_identities = 1; } ); hold_time = %d;",
		PARTNER, RANGE, HOLD));
	assert_int_equal(acquire(f, f->id, "a", NULL, false, &g), 0);
	assert_string_equal(g.number, "+4940555000000");
	assert_string_equal(g.set, "first");
	assert_string_equal(g.trunk, "partner");
	assert_int_equal(acquire(f, f->id, "b", NULL, false, &g), 0);
	assert_string_equal(g.number, "+4940555000001");
	/* "first" is at its limit: the next set */
	assert_int_equal(acquire(f, f->id, "c", NULL, false, &g), 0);
	assert_string_equal(g.number, num(0));
	assert_string_equal(g.set, "second");
	assert_string_equal(g.trunk, "ims");
	expect_refusal(f, f->id, "d", NULL, false, ENOSPC,
		       "identity set limit reached");
	/* claims count against the set too */
	expect_refusal(f, f->id, "d", "+4940555000005", false, ENOSPC,
		       "identity set limit reached");

	/* held numbers count toward the set's limit */
	ident_release(f->id, "acme", "+4940555000001");
	assert_int_equal(count(f->id, &held), 3);
	assert_int_equal(held, 1);
	expect_refusal(f, f->id, "d", "+4940555000005", false, ENOSPC,
		       "identity set limit reached");
	ident_tick(f->id, time(NULL) + HOLD + 1);
	assert_int_equal(acquire(f, f->id, "d", "+4940555000005", false, &g), 0);
	assert_string_equal(g.set, "first");
	assert_int_equal(count(f->id, &held), 3);
	assert_int_equal(held, 0);
}

/* ---- 5. anonymous set -------------------------------------------------------- */

static void test_anonymous_set(void **state)
{
	struct fixture *f = *state;
	struct ident_grant g;
	char subject[32];

	start(f, conf_acme(f, "ranges = [ \"%s\" ];\n"
		"identity_sets = ( { name = \"guests\"; trunk = \"ims\";"
		" ranges = [ \"%s\" ]; anonymous = true; max_identities = 3; } );",
		RANGE, GUESTS));
	assert_int_equal(acquire(f, f->id, "anon-1", NULL, true, &g), 0);
	assert_string_equal(g.number, "+4930123410000");
	assert_string_equal(g.set, "guests");
	assert_true(g.allocated);
	assert_int_equal(acquire(f, f->id, "anon-2", NULL, true, &g), 0);
	assert_string_equal(g.number, "+4930123410001");

	/* authenticated users: from main only, even when main is full */
	for (int i = 0; i < RANGE_SZ; i++) {
		snprintf(subject, sizeof subject, "user%d", i);
		assert_int_equal(acquire(f, f->id, subject, NULL, false, &g), 0);
		assert_string_equal(g.set, "main");
		assert_string_equal(g.number, num(i));
	}
	expect_refusal(f, f->id, "user10", NULL, false, ENOSPC,
		       "no free identity left in the range");

	/* the anonymous set still has room for one, then its limit */
	assert_int_equal(acquire(f, f->id, "anon-3", NULL, true, &g), 0);
	assert_string_equal(g.number, "+4930123410002");
	assert_string_equal(g.set, "guests");
	expect_refusal(f, f->id, "anon-4", NULL, true, ENOSPC,
		       "identity set limit reached");
	/* sticky for anonymous subjects too */
	assert_int_equal(acquire(f, f->id, "anon-2", NULL, true, &g), 0);
	assert_string_equal(g.number, "+4930123410001");
	/* an anonymous subject's number is not a non-anonymous one's */
	expect_refusal(f, f->id, "anon-2", NULL, false, ENOSPC,
		       "no free identity left in the range");
	assert_int_equal(count(f->id, NULL), RANGE_SZ + 3);
	/* an anonymous pool's numbers are never claimed by a token */
	expect_refusal(f, f->id, "user99", "+4930123410005", false, EPERM,
		       "identity outside the tenant's ranges");
}

/* ---- 6. release and hold --------------------------------------------------------- */

static void test_release_hold(void **state)
{
	struct fixture *f = *state;
	size_t held;
	long long until;

	start(f, conf_acme(f, "ranges = [ \"%s\" ]; hold_time = %d;", RANGE,
			   HOLD));
	assert_string_equal(alloc_ok(f, f->id, "alice"), num(0));
	assert_string_equal(alloc_ok(f, f->id, "bob"), num(1));

	/* release: held, still alice's */
	time_t before = time(NULL);
	ident_release(f->id, "acme", num(0));
	assert_int_equal(count(f->id, &held), 2);
	assert_int_equal(held, 1);
	until = row_hold(f, num(0));
	assert_in_range(until, before + HOLD, time(NULL) + HOLD);
	/* released twice: no change */
	ident_release(f->id, "acme", num(0));
	assert_int_equal(row_hold(f, num(0)), until);
	/* unknown numbers are ignored */
	ident_release(f->id, "acme", num(9));
	ident_release(f->id, "nobody", num(0));
	assert_int_equal(count(f->id, &held), 2);
	assert_int_equal(held, 1);

	/* back during the hold: the same number, the hold ends */
	assert_string_equal(alloc_ok(f, f->id, "alice"), num(0));
	assert_int_equal(count(f->id, &held), 2);
	assert_int_equal(held, 0);
	assert_int_equal(row_hold(f, num(0)), 0);

	/* held numbers are not handed to others */
	ident_release(f->id, "acme", num(0));
	assert_string_equal(alloc_ok(f, f->id, "carol"), num(2));

	/* a tick before the end changes nothing */
	ident_tick(f->id, time(NULL));
	assert_int_equal(count(f->id, &held), 3);
	assert_int_equal(held, 1);

	/* after the hold the number is free, and the lowest again */
	ident_tick(f->id, time(NULL) + HOLD + 1);
	assert_int_equal(count(f->id, &held), 2);
	assert_int_equal(held, 0);
	assert_int_equal(row_hold(f, num(0)), -1);
	assert_int_equal(ident_lookup(f->id, "acme", num(0), &(struct ident_grant){ 0 }), 0);
	assert_string_equal(alloc_ok(f, f->id, "dave"), num(0));
	/* alice lost it: she gets a new one */
	assert_string_equal(alloc_ok(f, f->id, "alice"), num(3));
	assert_int_equal(rows(f), 4);
}

static void test_hold_zero(void **state)
{
	struct fixture *f = *state;
	size_t held;

	start(f, conf_acme(f, "ranges = [ \"%s\" ]; hold_time = 0;", RANGE));
	assert_string_equal(alloc_ok(f, f->id, "alice"), num(0));
	assert_string_equal(alloc_ok(f, f->id, "bob"), num(1));
	ident_release(f->id, "acme", num(0));
	assert_int_equal(count(f->id, &held), 1);
	assert_int_equal(held, 0);
	assert_int_equal(row_hold(f, num(0)), -1);
	/* freed at once: the next subject gets it */
	assert_string_equal(alloc_ok(f, f->id, "carol"), num(0));
	assert_string_equal(alloc_ok(f, f->id, "alice"), num(2));
}

/* ---- 7. persistence ------------------------------------------------------------ */

static void test_persistence(void **state)
{
	struct fixture *f = *state;
	struct conf *conf;
	size_t held;
	long long bob_until;

	conf = conf_acme(f, "ranges = [ \"%s\" ]; hold_time = %d;", RANGE, HOLD);
	start(f, conf);
	assert_string_equal(alloc_ok(f, f->id, "alice"), num(0));
	assert_string_equal(alloc_ok(f, f->id, "bob"), num(1));
	assert_string_equal(alloc_ok(f, f->id, "carol"), num(2));
	ident_release(f->id, "acme", num(1));
	bob_until = row_hold(f, num(1));
	assert_true(bob_until > 0);
	assert_int_equal(raw_int(f->db, "SELECT count(*) FROM allocations "
				 "WHERE hold_until = 0"), 2);

	time_t before = time(NULL);
	restart(f, conf);
	/* all there; those that were in use are held now, bob's hold kept */
	assert_int_equal(count(f->id, &held), 3);
	assert_int_equal(held, 3);
	assert_int_equal(raw_int(f->db, "SELECT count(*) FROM allocations "
				 "WHERE hold_until = 0"), 0);
	assert_in_range(row_hold(f, num(0)), before + HOLD, time(NULL) + HOLD);
	assert_int_equal(row_hold(f, num(1)), bob_until);

	/* a newcomer never gets a held or allocated number */
	assert_string_equal(alloc_ok(f, f->id, "dave"), num(3));
	/* the users get theirs back */
	assert_string_equal(alloc_ok(f, f->id, "alice"), num(0));
	assert_string_equal(alloc_ok(f, f->id, "bob"), num(1));
	assert_int_equal(count(f->id, &held), 4);
	assert_int_equal(held, 1);
	assert_int_equal(row_hold(f, num(0)), 0);
	assert_int_equal(row_hold(f, num(2)) > 0, 1);

	/* and again: the state written is the state read */
	restart(f, conf);
	assert_int_equal(count(f->id, &held), 4);
	assert_int_equal(held, 4);
	assert_string_equal(alloc_ok(f, f->id, "erin"), num(4));
	assert_string_equal(alloc_ok(f, f->id, "carol"), num(2));
	ident_tick(f->id, time(NULL) + HOLD + 1);
	assert_int_equal(count(f->id, &held), 2);   /* erin, carol */
	assert_int_equal(held, 0);
	assert_int_equal(rows(f), 2);
	assert_string_equal(alloc_ok(f, f->id, "frank"), num(0));
}

/* A tenant gone from the configuration keeps its numbers until their hold
 * ends. */
static void test_persistence_tenant_gone(void **state)
{
	struct fixture *f = *state;
	struct conf *with, *without;
	size_t held;

	with = conf_acme(f, "ranges = [ \"%s\" ]; hold_time = %d;", RANGE, HOLD);
	without = conf_tenants(f, "  { name = \"other\"; domain = \"o.test\";"
			       " origins = [ \"http://o\" ]; allow_digest = true;"
			       " ranges = [ \"" PARTNER "\" ]; }");
	start(f, with);
	assert_string_equal(alloc_ok(f, f->id, "alice"), num(0));
	restart(f, without);
	assert_false(ident_managed(f->id, "acme"));
	assert_int_equal(count(f->id, &held), 1);
	assert_int_equal(held, 1);
	expect_refusal(f, f->id, "alice", NULL, false, ENOENT,
		       "tenant has no identity sets");
	ident_tick(f->id, time(NULL) + HOLD + 2);
	assert_int_equal(count(f->id, NULL), 0);
	assert_int_equal(rows(f), 0);
}

/* ---- 8. two processes on one store ---------------------------------------------- */

static void test_two_processes(void **state)
{
	struct fixture *f = *state;
	struct conf *conf;
	const char *a, *b;
	char a0[NUMRANGE_NUM_MAX], subject[32];

	conf = conf_acme(f, "ranges = [ \"%s\" ];", RANGE);
	start(f, conf);
	/* the second process, started before the first allocated anything */
	assert_int_equal(store_open(&f->st2, f->db), 0);
	assert_int_equal(ident_create(&f->id2, conf, f->st2), 0);

	a = alloc_ok(f, f->id, "alice");
	snprintf(a0, sizeof a0, "%s", a);
	assert_string_equal(a0, num(0));
	b = alloc_ok(f, f->id2, "bob");
	assert_string_not_equal(b, a0);
	assert_string_equal(b, num(1));
	/* and the first does not know bob's either */
	assert_string_equal(alloc_ok(f, f->id, "carol"), num(2));
	assert_int_equal(rows(f), 3);
	assert_int_equal(raw_int(f->db, "SELECT count(DISTINCT impu) FROM "
				 "allocations"), 3);

	/* many numbers taken behind the second's back: it still finds one */
	for (int i = 0; i < 4; i++) {
		snprintf(subject, sizeof subject, "user%d", i);
		assert_string_equal(alloc_ok(f, f->id, subject), num(3 + i));
	}
	assert_string_equal(alloc_ok(f, f->id2, "dave"), num(7));
	assert_int_equal(ident_count(f->id2, "acme", NULL), 2);
	assert_int_equal(rows(f), 8);
	assert_int_equal(raw_int(f->db, "SELECT count(DISTINCT impu) FROM "
				 "allocations"), 8);
	/* and the first, which knows neither bob's nor dave's, skips both */
	assert_string_equal(alloc_ok(f, f->id, "erin"), num(8));
}

/* The same with random allocation: never the same number twice. */
static void test_two_processes_random(void **state)
{
	struct fixture *f = *state;
	struct conf *conf;
	char subject[32];

	conf = conf_acme(f, "ranges = [ \"%s\" ]; allocation = \"random\";",
			 RANGE);
	start(f, conf);
	assert_int_equal(store_open(&f->st2, f->db), 0);
	assert_int_equal(ident_create(&f->id2, conf, f->st2), 0);
	g_random_set_seed(7);
	for (int i = 0; i < RANGE_SZ / 2; i++) {
		snprintf(subject, sizeof subject, "a%d", i);
		assert_true(main_index(alloc_ok(f, f->id, subject)) >= 0);
		snprintf(subject, sizeof subject, "b%d", i);
		assert_true(main_index(alloc_ok(f, f->id2, subject)) >= 0);
	}
	assert_int_equal(rows(f), RANGE_SZ);
	assert_int_equal(raw_int(f->db, "SELECT count(DISTINCT impu) FROM "
				 "allocations"), RANGE_SZ);
	expect_refusal(f, f->id2, "late", NULL, false, ENOSPC,
		       "no free identity left in the range");
}

/* ---- 9. reload ------------------------------------------------------------------ */

#define SETS_FMT \
	"ranges = [ \"%s\" ]; max_identities = %d; hold_time = %d;\n" \
	"identity_sets = ( { name = \"partner\"; trunk = \"partner\";" \
	" ranges = [ \"%s\" ]; enabled = %s; } );"

static void test_reload(void **state)
{
	struct fixture *f = *state;
	struct conf *c1, *c2, *c3;
	struct ident_grant g;
	size_t held;

	c1 = conf_acme(f, SETS_FMT, RANGE, 2, HOLD, PARTNER, "true");
	c2 = conf_acme(f, SETS_FMT, RANGE, 5, HOLD, PARTNER, "false");
	c3 = conf_acme(f, SETS_FMT, RANGE, 5, HOLD, PARTNER, "true");
	start(f, c1);
	assert_string_equal(alloc_ok(f, f->id, "alice"), num(0));
	assert_int_equal(acquire(f, f->id, "bob", "+4940555000003", false, &g), 0);
	assert_string_equal(g.set, "partner");
	assert_string_equal(g.trunk, "partner");
	expect_refusal(f, f->id, "carol", NULL, false, ENOSPC,
		       "tenant identity limit reached");
	assert_true(ident_trunk_wanted(f->id, "ims"));
	assert_true(ident_trunk_wanted(f->id, "partner"));

	/* a higher limit and the partner set withdrawn */
	assert_int_equal(ident_reload(f->id, c2), 0);
	assert_string_equal(alloc_ok(f, f->id, "carol"), num(1));
	assert_int_equal(ident_lookup(f->id, "acme", "+4940555000003", &g), EPERM);
	assert_string_equal(g.set, "partner");
	assert_int_equal(ident_lookup(f->id, "acme", "+4940555000007", &g), EPERM);
	expect_refusal(f, f->id, "dave", "+4940555000004", false, EPERM,
		       "identity set withdrawn");
	expect_refusal(f, f->id, "bob", "+4940555000003", false, EPERM,
		       "identity set withdrawn");
	assert_false(ident_trunk_wanted(f->id, "partner"));
	assert_true(ident_trunk_wanted(f->id, "ims"));
	/* the allocations survived, bob's included */
	assert_int_equal(count(f->id, &held), 3);
	assert_int_equal(held, 0);
	assert_string_equal(alloc_ok(f, f->id, "alice"), num(0));
	assert_int_equal(ident_lookup(f->id, "acme", num(1), &g), 0);
	assert_true(g.allocated);
	assert_int_equal(rows(f), 3);

	/* and back: bob's number is his again */
	assert_int_equal(ident_reload(f->id, c3), 0);
	assert_true(ident_trunk_wanted(f->id, "partner"));
	assert_int_equal(ident_lookup(f->id, "acme", "+4940555000003", &g), 0);
	assert_true(g.allocated);
	assert_int_equal(acquire(f, f->id, "bob", "+4940555000003", false, &g), 0);
	expect_refusal(f, f->id, "dave", "+4940555000003", false, EPERM,
		       "identity in use by another user");
	/* the limit of c3 counts every allocation kept */
	assert_string_equal(alloc_ok(f, f->id, "dave"), num(2));
	assert_string_equal(alloc_ok(f, f->id, "erin"), num(3));
	expect_refusal(f, f->id, "frank", NULL, false, ENOSPC,
		       "tenant identity limit reached");
}

/* A tenant dropped by a reload keeps its numbers until their hold ends. */
static void test_reload_tenant_gone(void **state)
{
	struct fixture *f = *state;
	struct conf *with, *without;
	size_t held;

	with = conf_acme(f, "ranges = [ \"%s\" ]; hold_time = %d;", RANGE, HOLD);
	without = conf_tenants(f, "  { name = \"other\"; domain = \"o.test\";"
			       " origins = [ \"http://o\" ]; allow_digest = true;"
			       " trunk = \"partner\"; ranges = [ \"" PARTNER "\" ]; }");
	start(f, with);
	assert_string_equal(alloc_ok(f, f->id, "alice"), num(0));
	ident_release(f->id, "acme", num(0));
	assert_int_equal(ident_reload(f->id, without), 0);
	assert_false(ident_managed(f->id, "acme"));
	assert_true(ident_managed(f->id, "other"));
	assert_false(ident_trunk_wanted(f->id, "ims"));
	assert_true(ident_trunk_wanted(f->id, "partner"));
	assert_int_equal(count(f->id, &held), 1);
	assert_int_equal(held, 1);
	ident_tick(f->id, time(NULL) + HOLD + 1);
	assert_int_equal(count(f->id, NULL), 0);
	assert_int_equal(rows(f), 0);
}

/* ---- 10. private identities ------------------------------------------------------ */

static void assert_hex8(const char *s)
{
	for (int i = 0; i < 8; i++)
		assert_true(isxdigit((unsigned char)s[i]));
}

static void test_impi(void **state)
{
	struct fixture *f = *state;
	char a[256], b[256], c[256], d[256], small[64];
	const char *pre = MAIN_LO ".", *post = "@acme.test";
	size_t len = strlen(pre) + 8 + strlen(post);

	start(f, conf_acme(f, "ranges = [ \"%s\" ];", RANGE));
	assert_int_equal(ident_impi(f->id, "acme", MAIN_LO, "alice",
				    "<urn:uuid:00000000-0000-0000-0000-000000000001>",
				    "conn-1", a, sizeof a), 0);
	assert_int_equal(strlen(a), len);
	assert_memory_equal(a, pre, strlen(pre));
	assert_hex8(a + strlen(pre));
	assert_string_equal(a + strlen(pre) + 8, post);

	/* another instance, another IMPI; the same, the same */
	assert_int_equal(ident_impi(f->id, "acme", MAIN_LO, "alice",
				    "<urn:uuid:00000000-0000-0000-0000-000000000002>",
				    "conn-1", b, sizeof b), 0);
	assert_string_not_equal(a, b);
	assert_int_equal(ident_impi(f->id, "acme", MAIN_LO, "bob",
				    "<urn:uuid:00000000-0000-0000-0000-000000000001>",
				    "conn-9", c, sizeof c), 0);
	assert_string_equal(a, c);

	/* no instance: the fallback names the device */
	assert_int_equal(ident_impi(f->id, "acme", MAIN_LO, "alice", NULL,
				    "conn-7", c, sizeof c), 0);
	assert_int_equal(ident_impi(f->id, "acme", MAIN_LO, "alice", "",
				    "conn-7", d, sizeof d), 0);
	assert_string_equal(c, d);
	assert_int_equal(ident_impi(f->id, "acme", MAIN_LO, "alice", "conn-7",
				    "other", d, sizeof d), 0);
	assert_string_equal(c, d);
	assert_int_equal(ident_impi(f->id, "acme", MAIN_LO, "alice", NULL,
				    "conn-8", d, sizeof d), 0);
	assert_string_not_equal(c, d);
	assert_hex8(c + strlen(pre));

	/* the device part is stable (FNV-1a 32): IMPIs survive restarts */
	assert_int_equal(ident_impi(f->id, "acme", MAIN_LO, "alice", "a", NULL,
				    d, sizeof d), 0);
	assert_string_equal(d, MAIN_LO ".e40c292c@acme.test");

	/* the buffer must hold it and its NUL */
	assert_int_equal(ident_impi(f->id, "acme", MAIN_LO, "alice", "a", NULL,
				    small, len), ENOSPC);
	assert_int_equal(ident_impi(f->id, "acme", MAIN_LO, "alice", "a", NULL,
				    small, 10), ENOSPC);
	assert_int_equal(ident_impi(f->id, "acme", MAIN_LO, "alice", "a", NULL,
				    small, len + 1), 0);
	assert_string_equal(small, d);
}

static void test_impi_template(void **state)
{
	struct fixture *f = *state;
	char out[256];

	start(f, conf_acme(f, "ranges = [ \"%s\" ];"
			   " impi_template = \"{subject}+{device}@ims.{domain}\";",
			   RANGE));
	assert_int_equal(ident_impi(f->id, "acme", MAIN_LO, "alice", "a", NULL,
				    out, sizeof out), 0);
	assert_string_equal(out, "alice+e40c292c@ims.acme.test");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sequential_lowest_free_sticky, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unmanaged_tenant, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claims, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claim_other_own_number, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tenant_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_range_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_anonymous_set, setup, teardown),
		cmocka_unit_test_setup_teardown(test_release_hold, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hold_zero, setup, teardown),
		cmocka_unit_test_setup_teardown(test_persistence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_persistence_tenant_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_processes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_processes_random, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload_tenant_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_impi, setup, teardown),
		cmocka_unit_test_setup_teardown(test_impi_template, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
