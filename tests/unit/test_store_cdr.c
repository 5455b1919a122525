/**
 * @file test_store_cdr.c  Call detail records in the store: every field
 * back as written, increasing ids, the walk's filters and paging (oldest
 * or newest first), purges whole or in batches, input checks, and the
 * migration to schema version 4.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "store/store.h"
#include "store_fixture.h"

/* 2024-06-01 12:00:00 UTC in ms: a realistic time base. */
#define T0 1717243200000LL

enum { SEEN_MAX = 32 };

/** A record of @p tenant that ended at T0 + @p ended_s seconds. */
static struct store_cdr cdr(const char *tenant, const char *corr,
			    long long ended_s)
{
	struct store_cdr c;

	memset(&c, 0, sizeof c);
	snprintf(c.corr, sizeof c.corr, "%s", corr);
	snprintf(c.tenant, sizeof c.tenant, "%s", tenant);
	snprintf(c.direction, sizeof c.direction, "outbound");
	snprintf(c.user, sizeof c.user, "sip:alice@%s.example", tenant);
	snprintf(c.remote, sizeof c.remote, "tel:+4930123400009");
	c.started = T0 + (ended_s - 60) * 1000;
	c.answered = T0 + (ended_s - 50) * 1000;
	c.ended = T0 + ended_s * 1000;
	c.status = 200;
	snprintf(c.reason, sizeof c.reason, "BYE from the browser");
	snprintf(c.legs, sizeof c.legs, "[]");
	snprintf(c.services, sizeof c.services, "[]");
	return c;
}

/* What a walk saw: the ids in order, and the last record in full. */
struct cseen {
	long long id[SEEN_MAX];
	int n;
	int stop_after;            /**< 0: never stop */
	struct store_cdr last;
};

static int ccollect(void *arg, const struct store_cdr *c)
{
	struct cseen *s = arg;

	if (s->n < SEEN_MAX)
		s->id[s->n++] = c->id;
	s->last = *c;
	return s->stop_after && s->n >= s->stop_after ? 7 : 0;
}

/** Walks with @p flt into a fresh @p s; returns what the walk returned. */
static int walk(struct store *st, const struct store_cdr_filter *flt,
		struct cseen *s)
{
	memset(s, 0, sizeof *s);
	return store_cdr_foreach(st, flt, ccollect, s);
}

/** Adds @p n records of @p tenant ending 1 s apart from @p from_s on. */
static void add_n(struct store *st, const char *tenant, int n,
		  long long from_s, long long *ids)
{
	struct store_cdr c;
	char corr[16];

	for (int i = 0; i < n; i++) {
		snprintf(corr, sizeof corr, "c%d", i);
		c = cdr(tenant, corr, from_s + i);
		assert_int_equal(store_cdr_add(st, &c), 0);
		if (ids)
			ids[i] = c.id;
	}
}

static void assert_cdr_equal(const struct store_cdr *a,
			     const struct store_cdr *b)
{
	assert_int_equal(a->id, b->id);
	assert_string_equal(a->corr, b->corr);
	assert_string_equal(a->tenant, b->tenant);
	assert_string_equal(a->direction, b->direction);
	assert_string_equal(a->user, b->user);
	assert_string_equal(a->remote, b->remote);
	assert_int_equal(a->started, b->started);
	assert_int_equal(a->answered, b->answered);
	assert_int_equal(a->ended, b->ended);
	assert_int_equal(a->status, b->status);
	assert_string_equal(a->reason, b->reason);
	assert_string_equal(a->legs, b->legs);
	assert_string_equal(a->services, b->services);
}

/* ---- adding and reading back ----------------------------------------- */

static void test_cdr_add_read(void **state)
{
	struct fixture *f = opened(state);
	struct store_cdr c = cdr("acme", "0f3a9c2e41d7b6a8", 0);
	struct cseen seen;

	snprintf(c.direction, sizeof c.direction, "inbound");
	snprintf(c.user, sizeof c.user, "+4930123400001");
	snprintf(c.remote, sizeof c.remote,
		 "\"Bob \\\"B\\\" M\xc3\xbcller\" <sip:+4930555@ims.example>");
	c.status = 486;
	c.answered = 0;
	snprintf(c.reason, sizeof c.reason, "busy: 486 Busy Here");
	snprintf(c.legs, sizeof c.legs,
		 "[{\"to\":\"sip:+4930123400001@acme\",\"status\":486}]");
	snprintf(c.services, sizeof c.services,
		 "[{\"service\":\"diversion\",\"why\":\"busy\"}]");
	c.id = 12345;   /* ignored */
	assert_int_equal(store_cdr_add(f->st, &c), 0);
	assert_true(c.id > 0);
	assert_int_not_equal(c.id, 12345);

	assert_int_equal(walk(f->st, NULL, &seen), 0);
	assert_int_equal(seen.n, 1);
	assert_cdr_equal(&seen.last, &c);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM cdrs"), 1);
}

static void test_cdr_add_full_fields(void **state)
{
	struct fixture *f = opened(state);
	struct store_cdr c = cdr("", "", 0);
	struct cseen seen;

	/* Every text field at its longest; tenant, corr and remote empty. */
	c.remote[0] = '\0';
	memset(c.user, 'u', sizeof c.user - 1);
	c.user[sizeof c.user - 1] = '\0';
	memset(c.reason, 'r', sizeof c.reason - 1);
	c.reason[sizeof c.reason - 1] = '\0';
	memset(c.legs, 'l', sizeof c.legs - 1);
	c.legs[sizeof c.legs - 1] = '\0';
	memset(c.services, 's', sizeof c.services - 1);
	c.services[sizeof c.services - 1] = '\0';
	c.status = 0;
	assert_int_equal(store_cdr_add(f->st, &c), 0);
	c = cdr("", "", 1);
	memset(c.corr, 'k', sizeof c.corr - 1);
	c.corr[sizeof c.corr - 1] = '\0';
	memset(c.tenant, 't', sizeof c.tenant - 1);
	c.tenant[sizeof c.tenant - 1] = '\0';
	memset(c.remote, 'p', sizeof c.remote - 1);
	c.remote[sizeof c.remote - 1] = '\0';
	assert_int_equal(store_cdr_add(f->st, &c), 0);

	assert_int_equal(walk(f->st, &(struct store_cdr_filter){
		.after_id = c.id - 1 }, &seen), 0);
	assert_int_equal(seen.n, 1);
	assert_cdr_equal(&seen.last, &c);
	assert_int_equal(walk(f->st, &(struct store_cdr_filter){
		.limit = 1 }, &seen), 0);
	assert_int_equal(strlen(seen.last.services), sizeof c.services - 1);
	assert_int_equal(strlen(seen.last.legs), sizeof c.legs - 1);
	assert_string_equal(seen.last.tenant, "");
	assert_int_equal(seen.last.status, 0);
}

static void test_cdr_ids_increase(void **state)
{
	struct fixture *f = opened(state);
	long long ids[5];
	struct cseen seen;

	add_n(f->st, "acme", 3, 0, ids);
	assert_true(ids[0] < ids[1] && ids[1] < ids[2]);
	/* Ids are not reused, not even after everything was purged... */
	assert_int_equal(store_cdr_purge(f->st, T0 + 3600 * 1000, NULL), 0);
	add_n(f->st, "acme", 1, 0, &ids[3]);
	assert_true(ids[3] > ids[2]);
	store_close(f->st);
	f->st = NULL;

	/* ...nor after a reopen; what was added is still there. */
	assert_int_equal(store_open(&f->st, f->path), 0);
	add_n(f->st, "acme", 1, 0, &ids[4]);
	assert_true(ids[4] > ids[3]);
	assert_int_equal(walk(f->st, NULL, &seen), 0);
	assert_int_equal(seen.n, 2);
	assert_int_equal(seen.id[0], ids[3]);
	assert_int_equal(seen.id[1], ids[4]);
}

/* ---- walking --------------------------------------------------------- */

static void test_cdr_filter_tenant(void **state)
{
	struct fixture *f = opened(state);
	long long acme[3], beta[2], none[1];
	struct store_cdr_filter flt = { .tenant = "acme" };
	struct cseen seen;
	char big[100];

	/* Interleaved, so the tenant's ids are not contiguous. */
	add_n(f->st, "acme", 1, 0, &acme[0]);
	add_n(f->st, "beta", 1, 1, &beta[0]);
	add_n(f->st, "", 1, 2, &none[0]);
	add_n(f->st, "acme", 2, 3, &acme[1]);
	add_n(f->st, "beta", 1, 5, &beta[1]);

	assert_int_equal(walk(f->st, &flt, &seen), 0);
	assert_int_equal(seen.n, 3);
	assert_memory_equal(seen.id, acme, sizeof acme);
	assert_string_equal(seen.last.tenant, "acme");
	flt.tenant = "beta";
	assert_int_equal(walk(f->st, &flt, &seen), 0);
	assert_int_equal(seen.n, 2);
	assert_memory_equal(seen.id, beta, sizeof beta);
	/* "" is the calls that never reached a tenant, not "any tenant". */
	flt.tenant = "";
	assert_int_equal(walk(f->st, &flt, &seen), 0);
	assert_int_equal(seen.n, 1);
	assert_int_equal(seen.id[0], none[0]);
	flt.tenant = "Acme";
	assert_int_equal(walk(f->st, &flt, &seen), 0);
	assert_int_equal(seen.n, 0);
	/* A tenant too long to be stored has nothing to list. */
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	flt.tenant = big;
	assert_int_equal(walk(f->st, &flt, &seen), 0);
	assert_int_equal(seen.n, 0);
	/* NULL filter and a zeroed one: everything, oldest first. */
	assert_int_equal(walk(f->st, NULL, &seen), 0);
	assert_int_equal(seen.n, 6);
	assert_int_equal(seen.id[0], acme[0]);
	assert_int_equal(seen.id[5], beta[1]);
	assert_int_equal(walk(f->st, &(struct store_cdr_filter){ 0 }, &seen), 0);
	assert_int_equal(seen.n, 6);
}

static void test_cdr_filter_time(void **state)
{
	struct fixture *f = opened(state);
	long long ids[6];
	struct store_cdr_filter flt = { 0 };
	struct cseen seen;

	/* Ended at T0 + 0, 1, ... 5 s. */
	add_n(f->st, "acme", 6, 0, ids);

	/* [since, until): since included, until excluded. */
	flt.since = T0 + 1000;
	flt.until = T0 + 4000;
	assert_int_equal(walk(f->st, &flt, &seen), 0);
	assert_int_equal(seen.n, 3);
	assert_memory_equal(seen.id, &ids[1], 3 * sizeof ids[0]);
	/* Open ends. */
	flt.until = 0;
	assert_int_equal(walk(f->st, &flt, &seen), 0);
	assert_int_equal(seen.n, 5);
	assert_int_equal(seen.id[0], ids[1]);
	flt.since = 0;
	flt.until = T0 + 1;
	assert_int_equal(walk(f->st, &flt, &seen), 0);
	assert_int_equal(seen.n, 1);
	assert_int_equal(seen.id[0], ids[0]);
	/* An empty or reversed range selects nothing. */
	flt.since = flt.until = T0 + 2000;
	assert_int_equal(walk(f->st, &flt, &seen), 0);
	assert_int_equal(seen.n, 0);
	flt.since = T0 + 5000;
	flt.until = T0 + 1000;
	assert_int_equal(walk(f->st, &flt, &seen), 0);
	assert_int_equal(seen.n, 0);
	/* With a tenant too. */
	add_n(f->st, "beta", 1, 2, NULL);
	flt = (struct store_cdr_filter){ .tenant = "beta", .since = T0 + 2000,
					 .until = T0 + 3000 };
	assert_int_equal(walk(f->st, &flt, &seen), 0);
	assert_int_equal(seen.n, 1);
	assert_string_equal(seen.last.tenant, "beta");
	flt.tenant = NULL;
	assert_int_equal(walk(f->st, &flt, &seen), 0);
	assert_int_equal(seen.n, 2);
}

static void test_cdr_paging(void **state)
{
	struct fixture *f = opened(state);
	long long ids[7], acme[4], all[SEEN_MAX];
	struct store_cdr_filter flt = { .limit = 3 };
	struct cseen seen;
	int pages = 0, total = 0;

	add_n(f->st, "acme", 7, 0, ids);
	/* Pages of 3 by the last id seen: 3, 3, 1, then nothing. */
	do {
		assert_int_equal(walk(f->st, &flt, &seen), 0);
		memcpy(&all[total], seen.id, (size_t)seen.n * sizeof seen.id[0]);
		total += seen.n;
		if (seen.n)
			flt.after_id = seen.id[seen.n - 1];
		pages++;
	} while (seen.n == 3);
	assert_int_equal(pages, 3);
	assert_int_equal(total, 7);
	assert_memory_equal(all, ids, sizeof ids);
	assert_int_equal(walk(f->st, &flt, &seen), 0);
	assert_int_equal(seen.n, 0);

	/* after_id alone; a limit above the count. */
	flt = (struct store_cdr_filter){ .after_id = ids[4], .limit = 100 };
	assert_int_equal(walk(f->st, &flt, &seen), 0);
	assert_int_equal(seen.n, 2);
	assert_int_equal(seen.id[0], ids[5]);
	flt = (struct store_cdr_filter){ .limit = SIZE_MAX };
	assert_int_equal(walk(f->st, &flt, &seen), 0);
	assert_int_equal(seen.n, 7);

	/* Paging within a tenant, with other records in between. */
	add_n(f->st, "beta", 2, 10, NULL);
	add_n(f->st, "acme", 2, 12, &acme[0]);
	add_n(f->st, "beta", 1, 14, NULL);
	add_n(f->st, "acme", 2, 15, &acme[2]);
	flt = (struct store_cdr_filter){ .tenant = "acme", .since = T0 + 10000,
					 .limit = 3 };
	assert_int_equal(walk(f->st, &flt, &seen), 0);
	assert_int_equal(seen.n, 3);
	assert_memory_equal(seen.id, acme, 3 * sizeof acme[0]);
	flt.after_id = seen.id[2];
	assert_int_equal(walk(f->st, &flt, &seen), 0);
	assert_int_equal(seen.n, 1);
	assert_int_equal(seen.id[0], acme[3]);
}

/* Newest first: the latest N with a limit, paged down with before_id,
 * which also bounds an oldest-first walk. */
static void test_cdr_newest_first(void **state)
{
	struct fixture *f = opened(state);
	long long ids[7], beta[2];
	struct store_cdr_filter flt = { .newest_first = true, .limit = 3 };
	struct cseen seen;

	add_n(f->st, "acme", 5, 0, ids);
	add_n(f->st, "beta", 2, 5, beta);
	ids[5] = beta[0];
	ids[6] = beta[1];
	assert_int_equal(walk(f->st, &flt, &seen), 0);
	assert_int_equal(seen.n, 3);
	assert_int_equal(seen.id[0], ids[6]);
	assert_int_equal(seen.id[1], ids[5]);
	assert_int_equal(seen.id[2], ids[4]);
	flt.before_id = seen.id[2];
	assert_int_equal(walk(f->st, &flt, &seen), 0);
	assert_int_equal(seen.n, 3);
	assert_int_equal(seen.id[0], ids[3]);
	assert_int_equal(seen.id[2], ids[1]);
	flt.before_id = seen.id[2];
	assert_int_equal(walk(f->st, &flt, &seen), 0);
	assert_int_equal(seen.n, 1);
	assert_int_equal(seen.id[0], ids[0]);
	/* with a tenant: the latest of that tenant */
	flt = (struct store_cdr_filter){ .tenant = "acme", .newest_first = true,
					 .limit = 2 };
	assert_int_equal(walk(f->st, &flt, &seen), 0);
	assert_int_equal(seen.n, 2);
	assert_int_equal(seen.id[0], ids[4]);
	assert_int_equal(seen.id[1], ids[3]);
	/* before_id oldest first: the ids below it, and after_id above */
	flt = (struct store_cdr_filter){ .after_id = ids[1], .before_id = ids[4] };
	assert_int_equal(walk(f->st, &flt, &seen), 0);
	assert_int_equal(seen.n, 2);
	assert_int_equal(seen.id[0], ids[2]);
	assert_int_equal(seen.id[1], ids[3]);
	/* a negative bound is refused */
	flt = (struct store_cdr_filter){ .before_id = -1 };
	assert_int_equal(walk(f->st, &flt, &seen), EINVAL);
}

static void test_cdr_foreach_stop(void **state)
{
	struct fixture *f = opened(state);
	long long ids[4];
	struct cseen seen;

	add_n(f->st, "acme", 4, 0, ids);
	memset(&seen, 0, sizeof seen);
	seen.stop_after = 2;
	assert_int_equal(store_cdr_foreach(f->st, NULL, ccollect, &seen), 7);
	assert_int_equal(seen.n, 2);
	assert_int_equal(seen.id[1], ids[1]);
	/* The stopped walk left nothing behind: the next starts afresh. */
	assert_int_equal(walk(f->st, &(struct store_cdr_filter){
		.tenant = "acme" }, &seen), 0);
	assert_int_equal(seen.n, 4);
	/* ...and the filter of the last walk is not kept either. */
	assert_int_equal(walk(f->st, NULL, &seen), 0);
	assert_int_equal(seen.n, 4);
}

static void test_cdr_row_too_long_skipped(void **state)
{
	struct fixture *f = opened(state);
	long long ids[2];
	struct cseen seen;

	add_n(f->st, "acme", 2, 0, ids);
	/* Written by something else: a reason that does not fit. */
	raw_exec(f->path, "UPDATE cdrs SET reason = printf('%.200c', 'x') "
		 "WHERE id = (SELECT min(id) FROM cdrs)");
	assert_int_equal(walk(f->st, NULL, &seen), 0);
	assert_int_equal(seen.n, 1);
	assert_int_equal(seen.id[0], ids[1]);
}

/* ---- purging --------------------------------------------------------- */

static void test_cdr_purge(void **state)
{
	struct fixture *f = opened(state);
	long long ids[5];
	struct cseen seen;
	size_t count = 99;

	/* Ended at T0 + 0..4 s, two tenants. */
	add_n(f->st, "acme", 3, 0, ids);
	add_n(f->st, "beta", 2, 3, &ids[3]);

	/* Nothing ended before T0. */
	assert_int_equal(store_cdr_purge(f->st, T0, &count), 0);
	assert_int_equal(count, 0);
	assert_int_equal(store_cdr_purge(f->st, 0, &count), 0);
	assert_int_equal(count, 0);
	/* Before, not at: the record that ended at T0 + 2 s stays. */
	assert_int_equal(store_cdr_purge(f->st, T0 + 2000, &count), 0);
	assert_int_equal(count, 2);
	assert_int_equal(walk(f->st, NULL, &seen), 0);
	assert_int_equal(seen.n, 3);
	assert_memory_equal(seen.id, &ids[2], 3 * sizeof ids[0]);
	/* Again: nothing more. Count may be NULL. */
	assert_int_equal(store_cdr_purge(f->st, T0 + 2000, &count), 0);
	assert_int_equal(count, 0);
	assert_int_equal(store_cdr_purge(f->st, T0 + 4000, NULL), 0);
	assert_int_equal(walk(f->st, NULL, &seen), 0);
	assert_int_equal(seen.n, 1);
	assert_int_equal(seen.id[0], ids[4]);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM cdrs"), 1);
}

/* A purge in batches: at most max records a call, oldest ends first found
 * through the index, until a call deletes fewer than max. */
static void test_cdr_purge_some(void **state)
{
	struct fixture *f = opened(state);
	long long ids[9];
	struct cseen seen;
	size_t count = 99, total = 0;
	int calls = 0;

	/* 7 records ended at T0 + 0..6 s, then 2 at T0 + 100, 101 s. */
	add_n(f->st, "acme", 7, 0, ids);
	add_n(f->st, "beta", 2, 100, &ids[7]);
	do {
		assert_int_equal(store_cdr_purge_some(f->st, T0 + 50000, 3, &count), 0);
		assert_true(count <= 3);
		total += count;
		calls++;
	} while (count == 3);
	assert_int_equal(total, 7);
	assert_int_equal(calls, 3);             /* 3, 3, 1 */
	assert_int_equal(walk(f->st, NULL, &seen), 0);
	assert_int_equal(seen.n, 2);
	assert_int_equal(seen.id[0], ids[7]);
	/* nothing left before the bound: 0, and max 0 is no bound */
	assert_int_equal(store_cdr_purge_some(f->st, T0 + 50000, 3, &count), 0);
	assert_int_equal(count, 0);
	assert_int_equal(store_cdr_purge_some(f->st, T0 + 200000, 0, &count), 0);
	assert_int_equal(count, 2);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM cdrs"), 0);
	/* a bound in the middle takes only what ended before it */
	add_n(f->st, "acme", 4, 0, ids);
	assert_int_equal(store_cdr_purge_some(f->st, T0 + 2000, 10, NULL), 0);
	assert_int_equal(walk(f->st, NULL, &seen), 0);
	assert_int_equal(seen.n, 2);
	assert_int_equal(seen.id[0], ids[2]);
	assert_int_equal(store_cdr_purge_some(NULL, T0, 1, &count), EINVAL);
	assert_int_equal(count, 0);
	assert_int_equal(store_cdr_purge_some(f->st, -1, 1, &count), EINVAL);
}

/* ---- deferred commits (store_cdr_defer) ------------------------------ */

#define RAW_COUNT(f) raw_int((f)->path, "SELECT count(*) FROM cdrs")

/* Deferred records: seen by this connection at once, by others once
 * flushed; the count of waiting records follows. */
static void test_cdr_defer_flush(void **state)
{
	struct fixture *f = opened(state);
	struct store_cdr a = cdr("acme", "d1", 0), b = cdr("acme", "d2", 1);
	struct cseen seen;

	assert_int_equal(store_cdr_deferred(f->st), 0);
	assert_int_equal(store_cdr_defer(f->st, &a), 0);
	assert_int_equal(store_cdr_defer(f->st, &b), 0);
	assert_true(a.id > 0 && b.id > a.id);
	assert_int_equal(store_cdr_deferred(f->st), 2);
	assert_int_equal(RAW_COUNT(f), 0);            /* not committed yet */
	assert_int_equal(walk(f->st, NULL, &seen), 0);
	assert_int_equal(seen.n, 2);                  /* this connection sees them */

	assert_int_equal(store_batch_flush(f->st), 0);
	assert_int_equal(store_cdr_deferred(f->st), 0);
	assert_int_equal(RAW_COUNT(f), 2);
	assert_int_equal(store_batch_flush(f->st), 0); /* nothing left: no-op */
}

/* Any other write outside a batch commits when it returns, and takes the
 * waiting records with it. */
static void test_cdr_defer_other_write_commits(void **state)
{
	struct fixture *f = opened(state);
	struct store_cdr a = cdr("acme", "d1", 0), b = cdr("acme", "d2", 1);
	size_t n = 9;

	assert_int_equal(store_cdr_defer(f->st, &a), 0);
	assert_int_equal(store_cdr_add(f->st, &b), 0);
	assert_int_equal(store_cdr_deferred(f->st), 0);
	assert_int_equal(RAW_COUNT(f), 2);

	assert_int_equal(store_cdr_defer(f->st, &a), 0);
	assert_int_equal(RAW_COUNT(f), 2);
	assert_int_equal(store_cdr_purge(f->st, T0 - 3600 * 1000LL, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(RAW_COUNT(f), 3);             /* the purge committed it */
}

/* Inside an explicit batch, the outermost commit commits them too; a
 * batch that wrote nothing leaves them waiting (the WebSocket side opens
 * one per loop turn: that must not commit every call's record). */
static void test_cdr_defer_in_batch(void **state)
{
	struct fixture *f = opened(state);
	struct store_cdr a = cdr("acme", "d1", 0), b = cdr("acme", "d2", 1);

	assert_int_equal(store_cdr_defer(f->st, &a), 0);
	store_batch_begin(f->st);
	assert_int_equal(store_batch_commit(f->st), 0);
	assert_int_equal(RAW_COUNT(f), 0);
	assert_int_equal(store_cdr_deferred(f->st), 1);
	store_batch_begin(f->st);
	assert_int_equal(store_cdr_add(f->st, &b), 0);
	assert_int_equal(RAW_COUNT(f), 0);             /* batch still open */
	assert_int_equal(store_batch_commit(f->st), 0);
	assert_int_equal(RAW_COUNT(f), 2);
	assert_int_equal(store_cdr_deferred(f->st), 0);
}

/* Closing the store commits what waits: a stop loses no record. */
static void test_cdr_defer_close_commits(void **state)
{
	struct fixture *f = opened(state);
	struct store_cdr a = cdr("acme", "d1", 0);

	assert_int_equal(store_cdr_defer(f->st, &a), 0);
	assert_int_equal(store_cdr_deferred(NULL), 0);
	assert_int_equal(store_cdr_defer(NULL, &a), EINVAL);
	assert_int_equal(store_cdr_defer(f->st, NULL), EINVAL);
	store_close(f->st);
	f->st = NULL;
	assert_int_equal(RAW_COUNT(f), 1);
}

/* ---- refused input --------------------------------------------------- */

static void test_cdr_bad_input(void **state)
{
	struct fixture *f = opened(state);
	static const char *const bad_dir[] = { "", "OUTBOUND", "in", "sideways",
					       "outbound ", "inbound\n" };
	struct store_cdr ok = cdr("acme", "c1", 0), c;
	struct cseen seen;
	size_t count = 99;

	assert_int_equal(store_cdr_add(NULL, &ok), EINVAL);
	assert_int_equal(store_cdr_add(f->st, NULL), EINVAL);
	/* Each text field not NUL-terminated within its size. */
#define UNTERMINATED(field) do { \
		c = ok; \
		memset(c.field, 'x', sizeof c.field); \
		assert_int_equal(store_cdr_add(f->st, &c), EINVAL); \
	} while (0)
	UNTERMINATED(corr);
	UNTERMINATED(tenant);
	UNTERMINATED(direction);
	UNTERMINATED(user);
	UNTERMINATED(remote);
	UNTERMINATED(reason);
	UNTERMINATED(legs);
	UNTERMINATED(services);
#undef UNTERMINATED
	for (size_t i = 0; i < sizeof bad_dir / sizeof bad_dir[0]; i++) {
		c = ok;
		snprintf(c.direction, sizeof c.direction, "%s", bad_dir[i]);
		assert_int_equal(store_cdr_add(f->st, &c), EINVAL);
	}
	/* A refused record gets no id. */
	assert_int_equal(c.id, 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM cdrs"), 0);

	memset(&seen, 0, sizeof seen);
	assert_int_equal(store_cdr_foreach(NULL, NULL, ccollect, &seen), EINVAL);
	assert_int_equal(store_cdr_foreach(f->st, NULL, NULL, NULL), EINVAL);
	assert_int_equal(store_cdr_foreach(f->st, &(struct store_cdr_filter){
		.since = -1 }, ccollect, &seen), EINVAL);
	assert_int_equal(store_cdr_foreach(f->st, &(struct store_cdr_filter){
		.until = -1 }, ccollect, &seen), EINVAL);
	assert_int_equal(store_cdr_foreach(f->st, &(struct store_cdr_filter){
		.after_id = -1 }, ccollect, &seen), EINVAL);
	assert_int_equal(seen.n, 0);

	assert_int_equal(store_cdr_purge(NULL, T0, &count), EINVAL);
	assert_int_equal(count, 0);
	count = 99;
	assert_int_equal(store_cdr_purge(f->st, -1, &count), EINVAL);
	assert_int_equal(count, 0);

	/* Both directions are accepted, and the store still works. */
	c = ok;
	assert_int_equal(store_cdr_add(f->st, &c), 0);
	snprintf(c.direction, sizeof c.direction, "inbound");
	assert_int_equal(store_cdr_add(f->st, &c), 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM cdrs"), 2);
}

/* ---- schema ---------------------------------------------------------- */

static void test_cdr_migrate_from_v3(void **state)
{
	struct fixture *f = *state;
	struct store_diversion d;
	struct store_user u;
	struct store_cdr c = cdr("acme", "c1", 0);
	struct cseen seen;
	bool paused = false;

	/* A version 3 file as the third release wrote it, with content. */
	raw_exec(f->path, STORE_SCHEMA_V3
		 "INSERT INTO users VALUES ('acme', 'alice', "
		 "'3d78807defe7de2157e2b0b6573a855f', NULL, 1);"
		 "INSERT INTO allocations VALUES ('acme', 'main', "
		 "'+4930123400001', 'alice', 1000, 0);"
		 "INSERT INTO devices VALUES ('acme', 'd1', '+4930123400001', "
		 "'', 9);"
		 "INSERT INTO diversions VALUES ('acme', '+4930123400001', "
		 "'+4930123400002', '', '', '', 25, 7);"
		 "INSERT INTO agents VALUES ('acme', '+4930123400003', 1, 8);"
		 "PRAGMA user_version = 3");
	assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 3);

	assert_int_equal(store_open(&f->st, f->path), 0);
	assert_int_equal(store_schema_version(f->st), LATEST);
	assert_int_equal(LATEST, 4);
	assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 4);
	/* What was there survives... */
	assert_int_equal(store_user_get(f->st, "acme", "alice", &u), 0);
	assert_string_equal(u.ha1_md5, "3d78807defe7de2157e2b0b6573a855f");
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM allocations"), 1);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM devices"), 1);
	assert_int_equal(store_diversion_get(f->st, "acme", "+4930123400001",
					     &d), 0);
	assert_string_equal(d.unconditional, "+4930123400002");
	assert_int_equal(d.no_answer_time, 25);
	assert_int_equal(store_agent_paused(f->st, "acme", "+4930123400003",
					    &paused), 0);
	assert_true(paused);
	/* ...and the new table is there, empty, indexed and usable. */
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM cdrs"), 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM sqlite_schema "
				 "WHERE type = 'index' AND name IN "
				 "('cdrs_ended', 'cdrs_tenant')"), 2);
	assert_int_equal(walk(f->st, NULL, &seen), 0);
	assert_int_equal(seen.n, 0);
	assert_int_equal(store_cdr_add(f->st, &c), 0);
	store_close(f->st);
	f->st = NULL;

	/* Opening again migrates nothing more and keeps the record. */
	assert_int_equal(store_open(&f->st, f->path), 0);
	assert_int_equal(store_schema_version(f->st), 4);
	assert_int_equal(walk(f->st, NULL, &seen), 0);
	assert_int_equal(seen.n, 1);
	assert_cdr_equal(&seen.last, &c);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM diversions"), 1);
}

static void test_cdr_newer_schema_refused(void **state)
{
	struct fixture *f = *state;

	/* Version 5 is newer than this code: refused, nothing written. */
	raw_exec(f->path, STORE_SCHEMA_V3 "PRAGMA user_version = 5");
	assert_int_equal(store_open(&f->st, f->path), EPROTO);
	assert_null(f->st);
	assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 5);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM sqlite_schema "
				 "WHERE name = 'cdrs'"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_cdr_add_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cdr_add_full_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cdr_ids_increase, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cdr_filter_tenant, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cdr_filter_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cdr_paging, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cdr_newest_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cdr_foreach_stop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cdr_row_too_long_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cdr_purge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cdr_purge_some, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cdr_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cdr_defer_flush, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cdr_defer_other_write_commits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cdr_defer_in_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cdr_defer_close_commits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cdr_migrate_from_v3, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cdr_newer_schema_refused, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
