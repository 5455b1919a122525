/**
 * @file histo.c  Fixed-bucket latency histograms.
 */
#include "histo.h"

const double histo_bounds[HISTO_BUCKETS] = {
	0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001,
	0.0025, 0.005, 0.01, 0.025, 0.1, 1.0,
};

void histo_add(struct histo *h, int64_t us)
{
	double s = us > 0 ? (double)us / 1e6 : 0.0;

	for (unsigned i = 0; i < HISTO_BUCKETS; i++)
		if (s <= histo_bounds[i])
			h->le[i]++;
	h->count++;
	h->sum += s;
}
