/**
 * @file stats.h  What a run measured: latency histograms and outcome
 * counts per transaction type, event counters, and errors by status and
 * by kind, kept for the whole run and for each phase.
 *
 * The module keeps one set for the run and one per phase (the current one
 * receives every record until the next bstats_phase_begin()); the report
 * reads them back through bstats_total() and bstats_phase().
 */
#ifndef WTPF_BENCH_STATS_H
#define WTPF_BENCH_STATS_H

#include <stddef.h>
#include <stdint.h>

/** Transaction types whose latency is measured. */
enum bstat {
	BST_CONNECT,            /**< TCP (+TLS) + WebSocket handshake */
	BST_REGISTER,           /**< first REGISTER to 200 (challenge incl.) */
	BST_REFRESH,            /**< re-REGISTER to 200 */
	BST_UNREGISTER,         /**< REGISTER expires=0 to 200 */
	BST_INVITE_18X,         /**< INVITE to the first 18x */
	BST_INVITE_200,         /**< INVITE to 200 */
	BST_BYE,                /**< BYE to 200 */
	BST_ACK_IN,             /**< our 200 to an INVITE until its ACK */
	BST__N
};

/** Events counted. */
enum bcount {
	BCNT_CHALLENGES,        /**< digest challenges answered */
	BCNT_CALLS_PLACED,
	BCNT_CALLS_ANSWERED,    /**< placed calls that got a 200 */
	BCNT_CALLS_COMPLETED,   /**< placed calls ended by our BYE's 200 or
				     by the far end's BYE */
	BCNT_CALLS_FAILED,
	BCNT_INBOUND,           /**< INVITEs received */
	BCNT_INBOUND_ANSWERED,  /**< ... answered and ACKed */
	BCNT_INBOUND_COMPLETED, /**< ... ended by a BYE */
	BCNT_MSGS_SENT,
	BCNT_MSGS_RECV,
	BCNT_BYTES_SENT,
	BCNT_BYTES_RECV,
	BCNT__N
};

/** Log-linear buckets: exact below 64 us, then 32 per power of two. */
#define BHIST_BUCKETS (64 + 36 * 32)

/** A latency histogram in microseconds (about 3% resolution). */
struct bhist {
	uint64_t n, sum, min, max;
	uint32_t b[BHIST_BUCKETS];
};

/** One error key ("REGISTER 403", "timeout INVITE", ...). */
struct berr {
	char key[40];
	char sample[96];        /**< first reason phrase or detail seen */
	uint64_t n;
};

/** The measurements of a run or of one phase. */
struct bstats {
	char name[24];
	uint64_t t0, t1;        /**< monotonic microseconds */
	struct bhist lat[BST__N];
	uint64_t failed[BST__N];
	uint64_t count[BCNT__N];
	struct berr *errs;
	size_t nerrs, errcap;
	uint64_t errors;        /**< sum of errs[].n */
};

/** Adds @p us to @p h. O(1). */
void bhist_add(struct bhist *h, uint64_t us);

/** The value below which @p pct percent of @p h lie (0 when empty). */
uint64_t bhist_pct(const struct bhist *h, double pct);

/** JSON-friendly names: "register", "invite_200", "calls_placed"... */
const char *bstat_name(enum bstat k);
const char *bcount_name(enum bcount c);

/**
 * Starts phase @p name at @p now (ending the current one there). Returns
 * 0 or ENOMEM.
 */
int bstats_phase_begin(const char *name, uint64_t now);

/** Ends the current phase at @p now (and the run's total). */
void bstats_phase_end(uint64_t now);

/** A transaction of type @p k succeeded after @p us. */
void bstats_ok(enum bstat k, uint64_t us);

/** A transaction of type @p k failed; @p key and @p sample as below. */
void bstats_fail(enum bstat k, const char *key, const char *sample);

/** Counts one error under @p key, keeping @p sample (or NULL) if new. */
void bstats_error(const char *key, const char *sample);

/** Adds @p n to counter @p c. */
void bstats_count(enum bcount c, uint64_t n);

/** The whole run so far. */
const struct bstats *bstats_total(void);

/** Number of phases begun, and phase @p i of them (NULL past the end). */
size_t bstats_phase_count(void);
const struct bstats *bstats_phase(size_t i);

/** Frees every set. */
void bstats_fini(void);

#endif
