/**
 * @file run.c  The phases of a run (see run.h), driven by a 1 ms tick on
 * the event loop: pacing at the asked rates, progress, and the move to the
 * next phase once the current one is over.
 */
#include "bench/wtpf-bench/run.h"
#include "bench/wtpf-bench/bench.h"
#include "bench/wtpf-bench/call.h"
#include "bench/wtpf-bench/client.h"
#include "bench/wtpf-bench/opts.h"
#include "bench/wtpf-bench/report.h"
#include "bench/wtpf-bench/stats.h"
#include "bench/wtpf-bench/timer.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define TICK_US 1000
#define PROGRESS_US 5000000

static volatile sig_atomic_t signals;

static void on_signal(int sig)
{
	(void)sig;
	signals++;
}

/** Issues work at a steady rate from t0: how many are due now. */
struct pacer {
	double rate;            /* per second; 0: no limit */
	uint64_t t0;
	uint64_t issued;
};

static uint64_t pacer_due(const struct pacer *p, uint64_t now)
{
	uint64_t want;

	if (p->rate <= 0)
		return UINT64_MAX;
	if (now < p->t0)
		return 0;
	want = (uint64_t)((double)(now - p->t0) / 1e6 * p->rate) + 1;
	return want > p->issued ? want - p->issued : 0;
}

struct run;

struct phase {
	const char *name;
	bool (*wanted)(const struct bopts *o);
	void (*begin)(struct run *r);
	bool (*tick)(struct run *r, uint64_t now);   /* true: over */
};

struct run {
	struct bench *b;
	const struct bopts *o;
	size_t idx;             /* current phase */
	uint64_t t0;            /* its start */
	struct pacer pace;
	size_t next;            /* next client to start */
	size_t cursor;          /* round-robin position */
	bool placing_over;
	uint64_t last_progress;
	struct btimer tick;
	bool done;
};

/* The next client from the cursor for which @p ok holds, or NULL after a
 * full turn. O(clients) at worst. */
static struct bclient *pick(struct run *r, bool (*ok)(const struct bclient *),
			    const struct bclient *not)
{
	struct bench *b = r->b;

	for (size_t n = 0; n < b->nclients; n++) {
		struct bclient *c = &b->clients[r->cursor];
		r->cursor = (r->cursor + 1) % b->nclients;
		if (c != not && ok(c))
			return c;
	}
	return NULL;
}

static bool sec_over(const struct run *r, uint64_t now, double s)
{
	return now >= r->t0 && now - r->t0 >= (uint64_t)(s * 1e6);
}

/* ---- register ------------------------------------------------------ */

static bool always(const struct bopts *o)
{
	return o->clients > 0;
}

static void reg_begin(struct run *r)
{
	r->pace = (struct pacer){ r->o->ramp, r->t0, 0 };
}

static bool reg_tick(struct run *r, uint64_t now)
{
	struct bench *b = r->b;
	uint64_t due = pacer_due(&r->pace, now);

	while (due && r->next < b->nclients &&
	       b->started - b->reg_done < (size_t)r->o->max_pending) {
		bclient_start(&b->clients[r->next++]);
		r->pace.issued++;
		due--;
	}
	return r->next == b->nclients && b->reg_done == b->started;
}

/* ---- hold, linger -------------------------------------------------- */

static bool hold_wanted(const struct bopts *o)
{
	return o->hold > 0;
}

static bool hold_tick(struct run *r, uint64_t now)
{
	return sec_over(r, now, r->o->hold);
}

static bool linger_wanted(const struct bopts *o)
{
	return o->linger > 0;
}

static bool linger_tick(struct run *r, uint64_t now)
{
	return sec_over(r, now, r->o->linger);
}

static void no_begin(struct run *r)
{
	(void)r;
}

/* ---- refresh, unregister ------------------------------------------- */

static bool refresh_wanted(const struct bopts *o)
{
	return o->refresh_rate > 0 && o->refresh_time > 0;
}

static bool reg_idle(const struct bclient *c)
{
	return c->state == BCS_REGISTERED && !c->reg_pending && !c->closing;
}

static void refresh_begin(struct run *r)
{
	r->pace = (struct pacer){ r->o->refresh_rate, r->t0, 0 };
	r->placing_over = false;
}

static bool refresh_tick(struct run *r, uint64_t now)
{
	uint64_t due = pacer_due(&r->pace, now);

	if (!r->placing_over && sec_over(r, now, r->o->refresh_time))
		r->placing_over = true;
	while (!r->placing_over && due--) {
		struct bclient *c = pick(r, reg_idle, NULL);
		r->pace.issued++;
		if (!c) {
			bstats_error("no client to refresh", NULL);
			break;
		}
		bclient_register(c, r->o->expires);
	}
	return r->placing_over && !r->b->reg_pending;
}

static bool unreg_wanted(const struct bopts *o)
{
	return o->unregister;
}

static void unreg_begin(struct run *r)
{
	r->pace = (struct pacer){ r->o->ramp, r->t0, 0 };
	r->next = 0;
}

static bool unreg_tick(struct run *r, uint64_t now)
{
	struct bench *b = r->b;
	uint64_t due = pacer_due(&r->pace, now);

	while (due && r->next < b->nclients) {
		struct bclient *c = &b->clients[r->next];
		bool up = c->state == BCS_REGISTERED && !c->closing;
		if (up && c->reg_pending)
			break;   /* a refresh is in flight: after it */
		r->next++;
		if (up && !bclient_register(c, 0)) {
			r->pace.issued++;
			due--;
		}
	}
	return r->next == b->nclients && !b->reg_pending;
}

/* ---- calls --------------------------------------------------------- */

static bool calls_wanted(const struct bopts *o)
{
	return o->call_rate > 0 && o->call_time > 0;
}

static void calls_begin(struct run *r)
{
	r->pace = (struct pacer){ r->o->call_rate, r->t0, 0 };
	r->placing_over = false;
}

static void place_one(struct run *r)
{
	const struct bopts *o = r->o;
	struct bclient *caller = pick(r, bclient_available, NULL), *callee = NULL;
	char uri[256];

	if (!caller) {
		bstats_error("no idle client to call from", NULL);
		return;
	}
	if (o->call_peers) {
		callee = pick(r, bclient_available, caller);
		if (!callee) {
			bstats_error("no idle client to call", NULL);
			return;
		}
		snprintf(uri, sizeof uri, "sip:%s@%s", callee->number[0] ?
			 callee->number : callee->user, o->domain);
	} else if (!strncmp(o->call_to, "sip:", 4) ||
		   !strncmp(o->call_to, "sips:", 5) ||
		   !strncmp(o->call_to, "tel:", 4)) {
		snprintf(uri, sizeof uri, "%s", o->call_to);
	} else {
		snprintf(uri, sizeof uri, "sip:%s@%s", o->call_to, o->domain);
	}
	bcall_place(caller, uri, callee);
}

static bool calls_tick(struct run *r, uint64_t now)
{
	const struct bopts *o = r->o;
	uint64_t due = pacer_due(&r->pace, now);
	double drain = o->call_time + o->call_hold + o->answer_delay +
		       3 * o->timeout + 5;

	if (!r->placing_over && sec_over(r, now, o->call_time))
		r->placing_over = true;
	while (!r->placing_over && due--) {
		r->pace.issued++;
		place_one(r);
	}
	if (!r->placing_over)
		return false;
	if (!r->b->calls)
		return true;
	if (sec_over(r, now, drain)) {
		for (size_t i = 0; i < r->b->calls; i++)
			bstats_error("call still up after the call phase", NULL);
		return true;
	}
	return false;
}

/* ---- close --------------------------------------------------------- */

static void close_begin(struct run *r)
{
	struct bench *b = r->b;

	b->stopping = true;
	for (size_t i = 0; i < b->nclients; i++)
		bclient_close(&b->clients[i]);
}

static bool close_tick(struct run *r, uint64_t now)
{
	return (!r->b->open && !r->b->connecting) ||
	       sec_over(r, now, r->o->timeout > 10 ? r->o->timeout : 10);
}

static const struct phase phases[] = {
	{ "register", always, reg_begin, reg_tick },
	{ "hold", hold_wanted, no_begin, hold_tick },
	{ "refresh", refresh_wanted, refresh_begin, refresh_tick },
	{ "calls", calls_wanted, calls_begin, calls_tick },
	{ "linger", linger_wanted, no_begin, linger_tick },
	{ "unregister", unreg_wanted, unreg_begin, unreg_tick },
	{ "close", always, close_begin, close_tick },
};

#define NPHASES (sizeof phases / sizeof phases[0])

static void phase_enter(struct run *r, size_t i)
{
	while (i < NPHASES && !phases[i].wanted(r->o))
		i++;
	r->idx = i;
	if (i == NPHASES) {
		bench_step(r->b, "end");
		bstats_phase_end(btimer_now());
		r->done = true;
		bench_wake(r->b);
		return;
	}
	bench_step(r->b, phases[i].name);
	r->t0 = btimer_now();
	bstats_phase_begin(phases[i].name, r->t0);
	if (r->o->verbose >= 2)
		fprintf(stderr, "wtpf-bench: phase %s\n", phases[i].name);
	phases[i].begin(r);
}

static void progress(struct run *r, uint64_t now)
{
	const struct bench *b = r->b;

	if (now - r->last_progress < PROGRESS_US ||
	    (r->o->verbose < 2 && !isatty(2)))
		return;
	r->last_progress = now;
	fprintf(stderr, "wtpf-bench: %6.1fs %-10s open %zu, registered %zu "
		"(%zu failed), calls %zu, errors %llu\n",
		(double)bench_elapsed(b) / 1e6, phases[r->idx].name, b->open,
		b->registered, b->reg_failed, b->calls,
		(unsigned long long)bstats_total()->errors);
}

static void on_tick(struct btimer *t, void *arg)
{
	struct run *r = arg;
	uint64_t now = btimer_now();

	(void)t;
	if (signals > 1) {
		r->b->interrupted = true;
		bench_step(r->b, "end");
		bstats_phase_end(now);
		r->done = true;
		bench_wake(r->b);
		return;
	}
	if (signals && !r->b->stopping) {
		r->b->interrupted = true;
		phase_enter(r, NPHASES - 1);
		now = btimer_now();
	}
	progress(r, now);
	if (phases[r->idx].tick(r, now)) {
		/* the numbers are known once all registered: write them for
		 * an IMS-side caller (SIPp) while the run goes on */
		if (r->idx == 0 && *r->o->numbers_out)
			breport_numbers(r->b, r->o->numbers_out);
		phase_enter(r, r->idx + 1);
	}
	if (!r->done)
		btimer_start(&r->tick, TICK_US, on_tick, r);
}

int brun_phases(struct bench *b)
{
	struct run r = { .b = b, .o = b->o };
	struct sigaction sa = { .sa_handler = on_signal };
	int err;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	r.last_progress = btimer_now();
	phase_enter(&r, 0);
	if (!r.done)
		btimer_start(&r.tick, TICK_US, on_tick, &r);
	err = bench_loop(b, &r.done);
	btimer_cancel(&r.tick);
	return err;
}
