/**
 * @file run.h  The phases of a run, in order, each only when its options
 * ask for it:
 *
 *  - register: connect and register every client, at --ramp per second
 *    and at most --max-pending at a time; over when each has registered
 *    or failed;
 *  - hold: --hold seconds idle (the target's idle CPU);
 *  - refresh: re-REGISTERs at --refresh-rate for --refresh-time;
 *  - calls: calls at --call-rate for --call-time, each held --call-hold,
 *    then until every call has ended;
 *  - linger: --linger seconds more, answering incoming calls;
 *  - unregister: REGISTER expires=0 at --ramp per second;
 *  - close: every WebSocket closed.
 *
 * Each phase begins with a step sample (bench_step) and a statistics
 * phase (bstats_phase_begin); the run ends with the step "end".
 */
#ifndef WTPF_BENCH_RUN_H
#define WTPF_BENCH_RUN_H

struct bench;

/**
 * Runs the phases on @p b's loop. SIGINT or SIGTERM skips to the close
 * phase (a second one stops at once). Returns 0, or an errno code when
 * the loop failed.
 */
int brun_phases(struct bench *b);

#endif
