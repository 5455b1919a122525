/**
 * @file proc.h  Resource use of a process, read from /proc: CPU time
 * (utime + stime of /proc/PID/stat), resident set (VmRSS of
 * /proc/PID/status), proportional set (Pss of /proc/PID/smaps_rollup) and
 * open descriptors.
 */
#ifndef WTPF_BENCH_PROC_H
#define WTPF_BENCH_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** One sample; fields a file did not give are -1. */
struct bproc_sample {
	bool ok;                /**< the process existed */
	uint64_t t;             /**< when (monotonic microseconds) */
	double cpu_s;           /**< user + system CPU seconds so far */
	double sys_s;           /**< of which system (kernel) CPU seconds */
	long rss_kb;
	long pss_kb;
	long fds;               /**< entries of /proc/PID/fd */
};

/**
 * Samples process @p pid (0: this process) at monotonic time @p now into
 * @p s. Returns 0, or ESRCH when it is gone (s->ok false). Costs a few
 * file reads plus a scan of /proc/PID/fd (O(open descriptors)).
 */
int bproc_sample_read(int pid, uint64_t now, struct bproc_sample *s);

/**
 * Samples the @p n processes @p pids and sums them into @p s (RSS counts
 * shared pages once per process; PSS shares them out). s->ok when at
 * least one exists. Returns 0, or ESRCH when none does.
 */
int bproc_sample_sum(const int *pids, size_t n, uint64_t now,
		     struct bproc_sample *s);

/**
 * CPU use between two samples, in percent of one core (-1 when either
 * sample is missing or no time passed).
 */
double bproc_cpu_pct(const struct bproc_sample *a,
		     const struct bproc_sample *b);

#endif
