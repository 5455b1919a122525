/**
 * @file report.h  The results of a run: JSON for machines (a file or
 * standard output) and a summary for people. Both read the statistics
 * (stats.h) and the steps of the run (bench.h).
 *
 * JSON layout (format 1): "tool", "format", "config" (the options),
 * "result" (ok, clients, registered, errors, register_time_s...),
 * "transactions" (per type: ok, failed, rate_per_s, min/mean/p50/p90/p99/
 * max in ms), "counters", "errors" ("total", "by_status" and "by_kind",
 * each key with count and sample), "phases" (each with its duration,
 * transactions, counters, errors and the target's and this process's CPU
 * and memory over it), "steps" (the samples), "target" (memory per
 * registered client).
 */
#ifndef WTPF_BENCH_REPORT_H
#define WTPF_BENCH_REPORT_H

#include <stdbool.h>
#include <stdio.h>

struct bench;

/**
 * Writes the JSON results to @p path ("-": standard output). Returns 0 or
 * an errno code (with a message on stderr).
 */
int breport_json(const struct bench *b, const char *path);

/** Prints the summary to @p f. */
void breport_print(const struct bench *b, FILE *f);

/**
 * True when the run met its goal: every client registered, no error, and
 * not interrupted.
 */
bool breport_ok(const struct bench *b);

/**
 * Writes the numbers (else user names) of the clients that registered as
 * a SIPp injection file (SEQUENTIAL, then "NUMBER;USER" lines). Returns 0
 * or an errno code.
 */
int breport_numbers(const struct bench *b, const char *path);

#endif
