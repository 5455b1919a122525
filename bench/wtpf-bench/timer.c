/**
 * @file timer.c  Timers on a binary min-heap (see timer.h). The heap's
 * earliest deadline is mirrored in one lws_sorted_usec_list_t, so the
 * libwebsockets loop wakes for it; the callback runs every timer that is
 * due, then schedules the next.
 */
#include "bench/wtpf-bench/timer.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <libwebsockets.h>

static struct {
	struct lws_context *lws;
	lws_sorted_usec_list_t sul;
	struct btimer **heap;   /* heap[1..n] */
	uint32_t n, cap;
	uint64_t sul_at;        /* deadline the sul is set for; 0: none */
	int running;            /* in sul_cb: sync once at its end */
} tw;

uint64_t btimer_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void heap_set(uint32_t i, struct btimer *t)
{
	tw.heap[i] = t;
	t->pos = i;
}

static void sift_up(uint32_t i)
{
	struct btimer *t = tw.heap[i];

	while (i > 1 && tw.heap[i / 2]->at > t->at) {
		heap_set(i, tw.heap[i / 2]);
		i /= 2;
	}
	heap_set(i, t);
}

static void sift_down(uint32_t i)
{
	struct btimer *t = tw.heap[i];

	for (;;) {
		uint32_t c = i * 2;
		if (c > tw.n)
			break;
		if (c < tw.n && tw.heap[c + 1]->at < tw.heap[c]->at)
			c++;
		if (tw.heap[c]->at >= t->at)
			break;
		heap_set(i, tw.heap[c]);
		i = c;
	}
	heap_set(i, t);
}

static void sul_cb(lws_sorted_usec_list_t *sul);

/* Points the lws callback at the earliest deadline (or cancels it). */
static void sul_sync(void)
{
	uint64_t at, now;

	if (tw.running)
		return;
	if (!tw.n) {
		if (tw.sul_at)
			lws_sul_cancel(&tw.sul);
		tw.sul_at = 0;
		return;
	}
	at = tw.heap[1]->at;
	if (at == tw.sul_at)
		return;
	tw.sul_at = at;
	now = btimer_now();
	lws_sul_schedule(tw.lws, 0, &tw.sul, sul_cb,
			 (lws_usec_t)(at > now ? at - now : 0));
}

static void sul_cb(lws_sorted_usec_list_t *sul)
{
	uint64_t now = btimer_now();

	(void)sul;
	tw.sul_at = 0;
	tw.running = 1;
	while (tw.n && tw.heap[1]->at <= now) {
		struct btimer *t = tw.heap[1];
		btimer_cancel(t);
		t->h(t, t->arg);
	}
	tw.running = 0;
	sul_sync();
}

int btimer_init(struct lws_context *lws)
{
	tw.lws = lws;
	tw.cap = 1024;
	tw.heap = calloc(tw.cap + 1, sizeof *tw.heap);
	return tw.heap ? 0 : ENOMEM;
}

void btimer_fini(void)
{
	for (uint32_t i = 1; i <= tw.n; i++)
		tw.heap[i]->pos = 0;
	free(tw.heap);
	tw.heap = NULL;
	tw.n = tw.cap = 0;
	tw.sul_at = 0;
}

int btimer_start(struct btimer *t, uint64_t us, btimer_h *h, void *arg)
{
	if (t->pos)
		btimer_cancel(t);
	if (tw.n == tw.cap) {
		struct btimer **nh = realloc(tw.heap, (tw.cap * 2 + 1) *
					     sizeof *nh);
		if (!nh)
			return ENOMEM;
		tw.heap = nh;
		tw.cap *= 2;
	}
	t->at = btimer_now() + us;
	t->h = h;
	t->arg = arg;
	heap_set(++tw.n, t);
	sift_up(tw.n);
	if (t->pos == 1)
		sul_sync();
	return 0;
}

void btimer_cancel(struct btimer *t)
{
	uint32_t i = t->pos;
	struct btimer *last;

	if (!i)
		return;
	t->pos = 0;
	last = tw.heap[tw.n--];
	if (last != t) {
		heap_set(i, last);
		if (i > 1 && tw.heap[i / 2]->at > last->at)
			sift_up(i);
		else
			sift_down(i);
	}
	if (i == 1)
		sul_sync();
}

uint32_t btimer_count(void)
{
	return tw.n;
}
