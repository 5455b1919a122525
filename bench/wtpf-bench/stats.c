/**
 * @file stats.c  Histograms, counters and error tallies (see stats.h).
 */
#include "bench/wtpf-bench/stats.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PHASES 32

static struct {
	struct bstats total;
	struct bstats *phases[MAX_PHASES];
	size_t nphases;
	struct bstats *cur;
} st = { .total = { .name = "total" } };

static unsigned bucket(uint64_t v)
{
	unsigned e;

	if (v < 64)
		return (unsigned)v;
	e = 63u - (unsigned)__builtin_clzll(v);   /* 6.. */
	if (e > 41)
		return BHIST_BUCKETS - 1;
	return 64 + (e - 6) * 32 + (unsigned)((v >> (e - 5)) & 31);
}

/* The middle of bucket @p i's range. */
static uint64_t bucket_mid(unsigned i)
{
	unsigned e, sub;
	uint64_t lo, width;

	if (i < 64)
		return i;
	e = (i - 64) / 32 + 6;
	sub = (i - 64) % 32;
	width = 1ull << (e - 5);
	lo = (1ull << e) + sub * width;
	return lo + width / 2;
}

void bhist_add(struct bhist *h, uint64_t us)
{
	if (!h->n || us < h->min)
		h->min = us;
	if (us > h->max)
		h->max = us;
	h->n++;
	h->sum += us;
	h->b[bucket(us)]++;
}

uint64_t bhist_pct(const struct bhist *h, double pct)
{
	uint64_t rank, seen = 0;

	if (!h->n)
		return 0;
	rank = (uint64_t)(pct / 100.0 * (double)h->n + 0.5);
	if (rank < 1)
		rank = 1;
	for (unsigned i = 0; i < BHIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen >= rank) {
			uint64_t v = bucket_mid(i);
			if (v > h->max)
				v = h->max;
			if (v < h->min)
				v = h->min;
			return v;
		}
	}
	return h->max;
}

const char *bstat_name(enum bstat k)
{
	static const char *const n[BST__N] = {
		"connect", "register", "refresh", "unregister", "invite_18x",
		"invite_200", "bye", "ack_in",
	};
	return k < BST__N ? n[k] : "?";
}

const char *bcount_name(enum bcount c)
{
	static const char *const n[BCNT__N] = {
		"digest_challenges", "calls_placed", "calls_answered",
		"calls_completed", "calls_failed", "inbound_calls",
		"inbound_answered", "inbound_completed", "messages_sent",
		"messages_received", "bytes_sent", "bytes_received",
	};
	return c < BCNT__N ? n[c] : "?";
}

int bstats_phase_begin(const char *name, uint64_t now)
{
	struct bstats *s;

	if (st.nphases == MAX_PHASES || !(s = calloc(1, sizeof *s)))
		return ENOMEM;
	if (st.cur)
		st.cur->t1 = now;
	snprintf(s->name, sizeof s->name, "%s", name);
	s->t0 = now;
	if (!st.total.t0)
		st.total.t0 = now;
	st.phases[st.nphases++] = s;
	st.cur = s;
	return 0;
}

void bstats_phase_end(uint64_t now)
{
	if (st.cur)
		st.cur->t1 = now;
	st.cur = NULL;
	st.total.t1 = now;
}

static void each(void (*fn)(struct bstats *s, const void *a), const void *a)
{
	fn(&st.total, a);
	if (st.cur)
		fn(st.cur, a);
}

struct rec {
	enum bstat k;
	uint64_t us;
	const char *key, *sample;
	enum bcount c;
};

static void do_ok(struct bstats *s, const void *a)
{
	const struct rec *r = a;
	bhist_add(&s->lat[r->k], r->us);
}

void bstats_ok(enum bstat k, uint64_t us)
{
	struct rec r = { .k = k, .us = us };

	if (k < BST__N)
		each(do_ok, &r);
}

static void do_error(struct bstats *s, const void *a)
{
	const struct rec *r = a;
	size_t i;

	for (i = 0; i < s->nerrs; i++)
		if (!strcmp(s->errs[i].key, r->key))
			break;
	if (i == s->nerrs) {
		if (s->nerrs == s->errcap) {
			size_t nc = s->errcap ? s->errcap * 2 : 8;
			struct berr *ne = realloc(s->errs, nc * sizeof *ne);
			if (!ne)
				return;
			s->errs = ne;
			s->errcap = nc;
		}
		memset(&s->errs[i], 0, sizeof s->errs[i]);
		snprintf(s->errs[i].key, sizeof s->errs[i].key, "%s", r->key);
		if (r->sample)
			snprintf(s->errs[i].sample, sizeof s->errs[i].sample, "%s",
				 r->sample);
		s->nerrs++;
	}
	s->errs[i].n++;
	s->errors++;
}

void bstats_error(const char *key, const char *sample)
{
	struct rec r = { .key = key, .sample = sample };
	each(do_error, &r);
}

static void do_fail(struct bstats *s, const void *a)
{
	const struct rec *r = a;
	s->failed[r->k]++;
}

void bstats_fail(enum bstat k, const char *key, const char *sample)
{
	struct rec r = { .k = k };

	if (k < BST__N)
		each(do_fail, &r);
	bstats_error(key, sample);
}

static void do_count(struct bstats *s, const void *a)
{
	const struct rec *r = a;
	s->count[r->c] += r->us;
}

void bstats_count(enum bcount c, uint64_t n)
{
	struct rec r = { .c = c, .us = n };
	each(do_count, &r);
}

const struct bstats *bstats_total(void)
{
	return &st.total;
}

size_t bstats_phase_count(void)
{
	return st.nphases;
}

const struct bstats *bstats_phase(size_t i)
{
	return i < st.nphases ? st.phases[i] : NULL;
}

void bstats_fini(void)
{
	for (size_t i = 0; i < st.nphases; i++) {
		free(st.phases[i]->errs);
		free(st.phases[i]);
	}
	free(st.total.errs);
	memset(&st, 0, sizeof st);
}
