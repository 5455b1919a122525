/**
 * @file bench.h  A run of wtpf-bench: the libwebsockets context and its
 * loop, the clients, the gauges they keep up to date, and the phases
 * (register, hold, refresh, calls, linger, unregister, close) that drive
 * them, with a resource sample of the target and of this process at each
 * step.
 *
 * One process, one thread, one libev loop (epoll on Linux: a wake-up costs
 * what is ready, not what is open, which matters with tens of thousands of
 * connections) that libwebsockets runs on as a foreign loop, with the
 * clients spread over several lws contexts (see BENCH_CLIENTS_PER_CONTEXT);
 * timers are timer.h's heap on one lws scheduled callback of the first.
 *
 * Ownership: bench_create() returns a run the caller frees with
 * bench_destroy(); the options are borrowed and must outlive it.
 */
#ifndef WTPF_BENCH_BENCH_H
#define WTPF_BENCH_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bench/wtpf-bench/opts.h"
#include "bench/wtpf-bench/proc.h"

struct bclient;
struct bauth_jwt;
struct lws_context;

#define BENCH_MAX_STEPS 33

/*
 * libwebsockets 4.1 keeps each context's timeouts in one list sorted by
 * expiry, and inserts by walking it from the head: with thousands of
 * connections opening at once, that walk took half of the generator's
 * CPU. The clients are therefore spread over several contexts on the one
 * event loop, each with its own, shorter list.
 */
#define BENCH_CLIENTS_PER_CONTEXT 500

/** The state at the start of a phase (and, last, at the end of the run). */
struct bench_step {
	char name[24];          /**< the phase that starts here, or "end" */
	uint64_t t;             /**< monotonic microseconds */
	struct bproc_sample target, self;
	size_t open, registered, calls;
};

/** A run. Gauges are kept exact by the client and call modules. */
struct bench {
	const struct bopts *o;
	struct lws_context *lws[BOPTS_MAX_CONTEXTS];
	size_t nlws;                    /**< contexts in lws[] */
	void *loop;                     /**< struct ev_loop * */
	struct bauth_jwt *jwt;          /**< NULL unless --auth bearer */
	struct bclient *clients;
	size_t nclients;
	const char *via_transport;      /**< "WS" or "WSS" */

	/* gauges */
	size_t started;         /**< clients started (connect attempted) */
	size_t connecting;      /**< WebSocket handshakes in flight */
	size_t open;            /**< WebSockets open */
	size_t registered;      /**< clients registered now */
	size_t reg_done;        /**< clients whose first registration ended */
	size_t reg_failed;      /**< ... without success (incl. connect) */
	size_t reg_pending;     /**< REGISTER transactions in flight, any */
	size_t calls;           /**< calls in progress, both directions */
	bool stopping;          /**< the close phase has begun */

	uint64_t t_start;       /**< run start (monotonic microseconds) */
	uint64_t t_all_registered;  /**< when the last client registered */
	size_t reg_ok;          /**< clients whose first registration succeeded */
	uint64_t t_reg_tenth;   /**< when reg_ok reached bench_reg_marks()[0] */
	uint64_t t_reg_ninth;   /**< ... and bench_reg_marks()[1] (0: not yet) */
	struct bench_step steps[BENCH_MAX_STEPS];
	size_t nsteps;
	bool interrupted;       /**< SIGINT/SIGTERM ended the run early */
};

/**
 * Creates the run for @p o: raises RLIMIT_NOFILE to its hard limit, loads
 * the token key, allocates the clients and creates the libwebsockets
 * context. Returns 0 or an errno code (with a message on stderr).
 */
int bench_create(struct bench **bp, const struct bopts *o);

/**
 * Samples the target and this process, and the gauges, as step @p name
 * (at most BENCH_MAX_STEPS; later ones are dropped).
 */
void bench_step(struct bench *b, const char *name);

/**
 * Runs the event loop until *@p done is true (set by a callback, followed
 * by bench_wake()). Returns 0.
 */
int bench_loop(struct bench *b, const bool *done);

/** The lws retry and idle policy of client connections (no pings). */
const struct lws_retry_bo *bench_retry_policy(void);

/** Makes bench_loop() look at its flag now (after setting it). */
void bench_wake(struct bench *b);

/** Frees @p b and everything it owns; NULL is allowed. */
void bench_destroy(struct bench *b);

/** Monotonic microseconds since @p b started. */
uint64_t bench_elapsed(const struct bench *b);

/**
 * The counts of first registrations that bound the steady part of the
 * register phase: marks[0] at a tenth of the clients, marks[1] at nine
 * tenths (both 0 with fewer than 10 clients). Unpaced, with many more
 * clients than --max-pending, the clients in flight stay at that limit
 * between the two: no filling, no draining.
 */
void bench_reg_marks(const struct bench *b, size_t marks[2]);

/**
 * First registrations per second between the two marks above, or -1 when
 * a mark was not reached or a registration failed.
 */
double bench_reg_steady_rate(const struct bench *b);

#endif
