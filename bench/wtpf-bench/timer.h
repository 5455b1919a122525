/**
 * @file timer.h  One-shot timers for the load generator: a binary min-heap
 * of deadlines driven by a single libwebsockets scheduled callback, so that
 * tens of thousands of timers cost O(log n) each and the event loop sleeps
 * until the earliest one.
 *
 * Ownership: the caller owns each struct btimer (usually embedded in a
 * client or call) and must cancel it before freeing it. The heap only
 * points at them.
 */
#ifndef WTPF_BENCH_TIMER_H
#define WTPF_BENCH_TIMER_H

#include <stdint.h>

struct lws_context;
struct btimer;

/** Called once when a timer expires; the timer is already disarmed. */
typedef void (btimer_h)(struct btimer *t, void *arg);

/** A timer; zero-initialise it before its first use. */
struct btimer {
	uint64_t at;            /**< deadline, monotonic microseconds */
	uint32_t pos;           /**< 1-based heap slot; 0 when not armed */
	btimer_h *h;
	void *arg;
};

/**
 * Attaches the timer heap to @p lws (whose service loop runs the
 * handlers). Returns 0 or ENOMEM. Call once, before any btimer_start().
 */
int btimer_init(struct lws_context *lws);

/**
 * Frees the heap, once the lws context is destroyed. Timers still armed
 * are forgotten, not called.
 */
void btimer_fini(void);

/**
 * (Re)arms @p t to call @p h(@p t, @p arg) in @p us microseconds. An armed
 * timer is moved. Returns 0, or ENOMEM (the timer is then not armed).
 * O(log n).
 */
int btimer_start(struct btimer *t, uint64_t us, btimer_h *h, void *arg);

/** Disarms @p t; nothing happens when it is not armed. O(log n). */
void btimer_cancel(struct btimer *t);

/** True when @p t is armed. */
static inline int btimer_armed(const struct btimer *t)
{
	return t->pos != 0;
}

/** Number of armed timers. O(1). */
uint32_t btimer_count(void);

/** Monotonic clock in microseconds. */
uint64_t btimer_now(void);

#endif
