/**
 * @file main.c  wtpf-bench: a load generator that emulates WebRTC clients
 * (SIP over WebSocket, RFC 7118) against a SIP edge such as wtpfd or
 * Kamailio's websocket module: it registers them, refreshes, places and
 * answers calls, and reports throughput, latency percentiles, errors and
 * the target's CPU and memory at each phase.
 *
 * Exit status: 0 when every client registered and nothing failed, 1 when
 * something failed, 2 on a usage error, 3 when the run could not start.
 */
#include "bench/wtpf-bench/bench.h"
#include "bench/wtpf-bench/opts.h"
#include "bench/wtpf-bench/report.h"
#include "bench/wtpf-bench/run.h"
#include "bench/wtpf-bench/stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct bopts o;
	struct bench *b = NULL;
	int rc = bopts_parse(&o, argc, argv), err;

	if (rc)
		return rc == 1 ? 0 : 2;
	srand48((long)time(NULL) ^ (long)getpid());
	if (bench_create(&b, &o)) {
		bopts_free(&o);
		return 3;
	}
	err = brun_phases(b);
	/* with --json -, the summary goes to stderr to keep stdout JSON */
	breport_print(b, !strcmp(o.json, "-") ? stderr : stdout);
	if (*o.json && breport_json(b, o.json))
		err = 1;
	rc = err || !breport_ok(b) ? 1 : 0;
	bench_destroy(b);
	bstats_fini();
	bopts_free(&o);
	return rc;
}
