/**
 * @file histo.h  A latency histogram with fixed buckets, as Prometheus
 * reads them (cumulative counts per upper bound, a count and a sum).
 */
#ifndef WTPF_HISTO_H
#define WTPF_HISTO_H

#include <stdint.h>

#define HISTO_BUCKETS 12

/** The buckets' upper bounds in seconds, increasing ("le" labels). */
extern const double histo_bounds[HISTO_BUCKETS];

struct histo {
	unsigned long long le[HISTO_BUCKETS];   /**< cumulative counts */
	unsigned long long count;
	double sum;                             /**< seconds */
};

/** Counts one observation of @p us microseconds. */
void histo_add(struct histo *h, int64_t us);

#endif
