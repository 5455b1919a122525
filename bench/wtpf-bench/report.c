/**
 * @file report.c  JSON and text results of a run (see report.h).
 */
#include "bench/wtpf-bench/report.h"
#include "bench/wtpf-bench/bench.h"
#include "bench/wtpf-bench/client.h"
#include "bench/wtpf-bench/opts.h"
#include "bench/wtpf-bench/stats.h"

#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>
#include <jansson.h>

static double ms(uint64_t us)
{
	return (double)us / 1000.0;
}

static double dur_s(const struct bstats *s)
{
	return s->t1 > s->t0 ? (double)(s->t1 - s->t0) / 1e6 : 0;
}

/* A phase's start and end steps (steps[i] and steps[i + 1]). */
static const struct bench_step *step(const struct bench *b, size_t i)
{
	return i < b->nsteps ? &b->steps[i] : NULL;
}

static bool is_status_key(const char *k)
{
	regex_t re;
	bool hit;

	if (regcomp(&re, "^[A-Z]+ [1-6][0-9][0-9]$", REG_EXTENDED | REG_NOSUB))
		return false;
	hit = !regexec(&re, k, 0, NULL, 0);
	regfree(&re);
	return hit;
}

/* ---- JSON ---------------------------------------------------------- */

static json_t *j_real(double v)
{
	return json_real((double)(long long)(v * 1000 + (v < 0 ? -0.5 : 0.5)) /
			 1000);
}

static json_t *j_hist(const struct bhist *h, uint64_t failed, double secs)
{
	json_t *o = json_object();

	json_object_set_new(o, "ok", json_integer((json_int_t)h->n));
	json_object_set_new(o, "failed", json_integer((json_int_t)failed));
	json_object_set_new(o, "rate_per_s", j_real(secs > 0 ?
						    (double)h->n / secs : 0));
	json_object_set_new(o, "min_ms", j_real(ms(h->min)));
	json_object_set_new(o, "mean_ms", j_real(h->n ? ms(h->sum) /
						 (double)h->n : 0));
	json_object_set_new(o, "p50_ms", j_real(ms(bhist_pct(h, 50))));
	json_object_set_new(o, "p90_ms", j_real(ms(bhist_pct(h, 90))));
	json_object_set_new(o, "p99_ms", j_real(ms(bhist_pct(h, 99))));
	json_object_set_new(o, "max_ms", j_real(ms(h->max)));
	return o;
}

static json_t *j_transactions(const struct bstats *s)
{
	json_t *o = json_object();

	for (int k = 0; k < BST__N; k++)
		if (s->lat[k].n || s->failed[k])
			json_object_set_new(o, bstat_name(k),
					    j_hist(&s->lat[k], s->failed[k],
						   dur_s(s)));
	return o;
}

static json_t *j_counters(const struct bstats *s)
{
	json_t *o = json_object();

	for (int c = 0; c < BCNT__N; c++)
		json_object_set_new(o, bcount_name(c),
				    json_integer((json_int_t)s->count[c]));
	return o;
}

static json_t *j_errors(const struct bstats *s)
{
	json_t *o = json_object(), *st = json_object(), *kind = json_object();

	for (size_t i = 0; i < s->nerrs; i++) {
		json_t *e = json_object();
		json_object_set_new(e, "count", json_integer((json_int_t)
							     s->errs[i].n));
		if (s->errs[i].sample[0])
			json_object_set_new(e, "sample",
					    json_string(s->errs[i].sample));
		json_object_set_new(is_status_key(s->errs[i].key) ? st : kind,
				    s->errs[i].key, e);
	}
	json_object_set_new(o, "total", json_integer((json_int_t)s->errors));
	json_object_set_new(o, "by_status", st);
	json_object_set_new(o, "by_kind", kind);
	return o;
}

static json_t *j_sample(const struct bproc_sample *p)
{
	json_t *o;

	if (!p->ok)
		return json_null();
	o = json_object();
	json_object_set_new(o, "cpu_s", j_real(p->cpu_s));
	json_object_set_new(o, "rss_kb", json_integer(p->rss_kb));
	json_object_set_new(o, "pss_kb", json_integer(p->pss_kb));
	json_object_set_new(o, "fds", json_integer(p->fds));
	return o;
}

/* CPU and memory of one process over a phase. */
static json_t *j_usage(const struct bproc_sample *a,
		       const struct bproc_sample *z)
{
	json_t *o;

	if (!a->ok || !z->ok)
		return json_null();
	o = json_object();
	json_object_set_new(o, "cpu_s", j_real(z->cpu_s - a->cpu_s));
	json_object_set_new(o, "sys_s", j_real(z->sys_s - a->sys_s));
	json_object_set_new(o, "cpu_pct", j_real(bproc_cpu_pct(a, z)));
	json_object_set_new(o, "rss_kb_start", json_integer(a->rss_kb));
	json_object_set_new(o, "rss_kb_end", json_integer(z->rss_kb));
	json_object_set_new(o, "pss_kb_start", json_integer(a->pss_kb));
	json_object_set_new(o, "pss_kb_end", json_integer(z->pss_kb));
	json_object_set_new(o, "fds_end", json_integer(z->fds));
	return o;
}

static json_t *j_steps(const struct bench *b)
{
	json_t *a = json_array();

	for (size_t i = 0; i < b->nsteps; i++) {
		const struct bench_step *s = &b->steps[i];
		json_t *o = json_object();
		json_object_set_new(o, "name", json_string(s->name));
		json_object_set_new(o, "t_s", j_real((double)(s->t -
							     b->t_start) / 1e6));
		json_object_set_new(o, "open", json_integer((json_int_t)s->open));
		json_object_set_new(o, "registered",
				    json_integer((json_int_t)s->registered));
		json_object_set_new(o, "calls", json_integer((json_int_t)s->calls));
		json_object_set_new(o, "target", j_sample(&s->target));
		json_object_set_new(o, "self", j_sample(&s->self));
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *j_phases(const struct bench *b)
{
	json_t *a = json_array();

	for (size_t i = 0; i < bstats_phase_count(); i++) {
		const struct bstats *s = bstats_phase(i);
		const struct bench_step *s0 = step(b, i), *s1 = step(b, i + 1);
		json_t *o = json_object();
		json_object_set_new(o, "name", json_string(s->name));
		json_object_set_new(o, "duration_s", j_real(dur_s(s)));
		json_object_set_new(o, "transactions", j_transactions(s));
		json_object_set_new(o, "counters", j_counters(s));
		json_object_set_new(o, "errors", j_errors(s));
		if (s0 && s1) {
			json_object_set_new(o, "target", j_usage(&s0->target,
								 &s1->target));
			json_object_set_new(o, "self", j_usage(&s0->self,
							       &s1->self));
			json_object_set_new(o, "registered_end",
					    json_integer((json_int_t)
							 s1->registered));
		}
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *j_config(const struct bench *b)
{
	const struct bopts *o = b->o;
	json_t *c = json_object();

	json_object_set_new(c, "url", json_string(o->url));
	json_object_set_new(c, "transport", json_string(o->tls ? "wss" : "ws"));
	json_object_set_new(c, "domain", json_string(o->domain));
	json_object_set_new(c, "origin", json_string(o->origin));
	json_object_set_new(c, "clients", json_integer(o->clients));
	json_object_set_new(c, "ramp", j_real(o->ramp));
	json_object_set_new(c, "max_pending", json_integer(o->max_pending));
	json_object_set_new(c, "local_addrs", json_integer((json_int_t)
							   o->naddrs));
	json_object_set_new(c, "contexts", json_integer((json_int_t)b->nlws));
	json_object_set_new(c, "auth", json_string(o->auth));
	if (o->auth_kind == BOPTS_AUTH_BEARER)
		json_object_set_new(c, "jwt_alg", json_string(o->jwt_alg));
	json_object_set_new(c, "expires", json_integer(o->expires));
	json_object_set_new(c, "hold_s", j_real(o->hold));
	json_object_set_new(c, "refresh_rate", j_real(o->refresh_rate));
	json_object_set_new(c, "refresh_time_s", j_real(o->refresh_time));
	json_object_set_new(c, "call_rate", j_real(o->call_rate));
	json_object_set_new(c, "call_time_s", j_real(o->call_time));
	json_object_set_new(c, "call_hold_s", j_real(o->call_hold));
	json_object_set_new(c, "call_to", json_string(o->call_to));
	json_object_set_new(c, "answer_delay_s", j_real(o->answer_delay));
	json_object_set_new(c, "target_pid", json_string(o->target_pid));
	return c;
}

/* Memory the target grew by over the register phase, per client. */
static void per_client(const struct bench *b, double *rss, double *pss)
{
	const struct bench_step *a = step(b, 0), *z = step(b, 1);

	*rss = *pss = -1;
	if (!a || !z || !a->target.ok || !z->target.ok || !z->registered)
		return;
	*rss = (double)(z->target.rss_kb - a->target.rss_kb) /
	       (double)z->registered;
	if (a->target.pss_kb >= 0 && z->target.pss_kb >= 0)
		*pss = (double)(z->target.pss_kb - a->target.pss_kb) /
		       (double)z->registered;
}

/* Seconds from the start until the last client registered, or -1. */
static double reg_time(const struct bench *b)
{
	if (!b->t_all_registered || b->reg_failed)
		return -1;
	return (double)(b->t_all_registered - b->t_start) / 1e6;
}

int breport_json(const struct bench *b, const char *path)
{
	const struct bstats *t = bstats_total();
	json_t *root = json_object(), *res = json_object(), *tg;
	double rss, pss;
	int err = 0;

	json_object_set_new(root, "tool", json_string("wtpf-bench"));
	json_object_set_new(root, "format", json_integer(1));
	json_object_set_new(root, "config", j_config(b));
	json_object_set_new(res, "ok", json_boolean(breport_ok(b)));
	json_object_set_new(res, "interrupted", json_boolean(b->interrupted));
	json_object_set_new(res, "clients", json_integer((json_int_t)
							 b->nclients));
	json_object_set_new(res, "registered", json_integer((json_int_t)
		(b->reg_done - b->reg_failed)));
	json_object_set_new(res, "register_failed", json_integer((json_int_t)
								 b->reg_failed));
	json_object_set_new(res, "register_time_s", j_real(reg_time(b)));
	json_object_set_new(res, "register_steady_rate_per_s",
			    j_real(bench_reg_steady_rate(b)));
	json_object_set_new(res, "errors", json_integer((json_int_t)t->errors));
	json_object_set_new(res, "duration_s", j_real(dur_s(t)));
	json_object_set_new(root, "result", res);
	json_object_set_new(root, "transactions", j_transactions(t));
	json_object_set_new(root, "counters", j_counters(t));
	json_object_set_new(root, "errors", j_errors(t));
	json_object_set_new(root, "phases", j_phases(b));
	json_object_set_new(root, "steps", j_steps(b));
	per_client(b, &rss, &pss);
	tg = json_object();
	json_object_set_new(tg, "pid", json_string(b->o->target_pid));
	json_object_set_new(tg, "rss_kb_per_client", j_real(rss));
	json_object_set_new(tg, "pss_kb_per_client", j_real(pss));
	json_object_set_new(root, "target", tg);

	if (!strcmp(path, "-")) {
		if (json_dumpf(root, stdout, JSON_INDENT(2)) || putchar('\n') < 0)
			err = EIO;
	} else if (json_dump_file(root, path, JSON_INDENT(2))) {
		err = EIO;
		fprintf(stderr, "wtpf-bench: cannot write %s\n", path);
	}
	json_decref(root);
	return err;
}

/* ---- text ---------------------------------------------------------- */

static void print_mem(FILE *f, long kb)
{
	if (kb < 0)
		fprintf(f, " %8s", "-");
	else
		fprintf(f, " %8.1f", (double)kb / 1024.0);
}

static void print_phases(const struct bench *b, FILE *f)
{
	fprintf(f, "\n%-11s %8s %9s %7s %8s %8s %7s %7s %7s %6s\n", "phase",
		"time s", "tgt cpu s", "cpu %", "rss MB", "pss MB", "own %",
		"open", "reg'd", "calls");
	for (size_t i = 0; i < bstats_phase_count(); i++) {
		const struct bstats *s = bstats_phase(i);
		const struct bench_step *a = step(b, i), *z = step(b, i + 1);
		fprintf(f, "%-11s %8.2f", s->name, dur_s(s));
		if (a && z && a->target.ok && z->target.ok) {
			fprintf(f, " %9.2f %7.1f", z->target.cpu_s - a->target.cpu_s,
				bproc_cpu_pct(&a->target, &z->target));
			print_mem(f, z->target.rss_kb);
			print_mem(f, z->target.pss_kb);
		} else {
			fprintf(f, " %9s %7s %8s %8s", "-", "-", "-", "-");
		}
		if (a && z)
			fprintf(f, " %7.1f %7zu %7zu %6zu",
				bproc_cpu_pct(&a->self, &z->self), z->open,
				z->registered, z->calls);
		fputc('\n', f);
	}
}

static void print_transactions(const struct bstats *t, FILE *f)
{
	fprintf(f, "\n%-11s %8s %7s %8s %8s %8s %8s %8s\n", "transaction",
		"ok", "failed", "rate/s", "p50 ms", "p90 ms", "p99 ms",
		"max ms");
	for (int k = 0; k < BST__N; k++) {
		const struct bhist *h = &t->lat[k];
		double best = 0;
		if (!h->n && !t->failed[k])
			continue;
		/* the rate of the phase where most of them happened */
		for (size_t i = 0; i < bstats_phase_count(); i++) {
			const struct bstats *s = bstats_phase(i);
			double r = dur_s(s) > 0 ? (double)s->lat[k].n / dur_s(s) : 0;
			if (s->lat[k].n * 2 >= h->n && r > best)
				best = r;
		}
		fprintf(f, "%-11s %8llu %7llu %8.1f %8.2f %8.2f %8.2f %8.2f\n",
			bstat_name(k), (unsigned long long)h->n,
			(unsigned long long)t->failed[k], best,
			ms(bhist_pct(h, 50)), ms(bhist_pct(h, 90)),
			ms(bhist_pct(h, 99)), ms(h->max));
	}
}

void breport_print(const struct bench *b, FILE *f)
{
	const struct bopts *o = b->o;
	const struct bstats *t = bstats_total();
	const uint64_t *n = t->count;
	double rt = reg_time(b), rss, pss;

	fprintf(f, "wtpf-bench: %d clients, %s (%s), auth %s%s%s, %zu source "
		"address%s\n", o->clients, o->url, o->tls ? "wss" : "ws", o->auth,
		o->auth_kind == BOPTS_AUTH_BEARER ? " " : "",
		o->auth_kind == BOPTS_AUTH_BEARER ? o->jwt_alg : "",
		o->naddrs ? o->naddrs : 1, o->naddrs == 1 || !o->naddrs ? "" :
		"es");
	fprintf(f, "registered %zu of %zu", b->reg_done - b->reg_failed,
		b->nclients);
	if (rt >= 0)
		fprintf(f, " in %.2f s (%.0f/s)", rt, rt > 0 ?
			(double)b->nclients / rt : 0);
	fputc('\n', f);
	print_phases(b, f);
	print_transactions(t, f);
	fprintf(f, "\ncalls placed %llu, answered %llu, completed %llu, failed "
		"%llu; inbound %llu, answered %llu, completed %llu\n",
		(unsigned long long)n[BCNT_CALLS_PLACED],
		(unsigned long long)n[BCNT_CALLS_ANSWERED],
		(unsigned long long)n[BCNT_CALLS_COMPLETED],
		(unsigned long long)n[BCNT_CALLS_FAILED],
		(unsigned long long)n[BCNT_INBOUND],
		(unsigned long long)n[BCNT_INBOUND_ANSWERED],
		(unsigned long long)n[BCNT_INBOUND_COMPLETED]);
	per_client(b, &rss, &pss);
	if (rss >= 0)
		fprintf(f, "target memory per registered client: RSS %.1f kB, "
			"PSS %.1f kB\n", rss, pss);
	if (!t->nerrs)
		fprintf(f, "errors: none\n");
	else
		fprintf(f, "errors: %llu\n", (unsigned long long)t->errors);
	for (size_t i = 0; i < t->nerrs; i++)
		fprintf(f, "  %-32s %8llu  %s\n", t->errs[i].key,
			(unsigned long long)t->errs[i].n, t->errs[i].sample);
	if (b->interrupted)
		fprintf(f, "interrupted\n");
	fprintf(f, "result: %s\n", breport_ok(b) ? "ok" : "FAILED");
}

bool breport_ok(const struct bench *b)
{
	return !b->interrupted && !b->reg_failed &&
	       b->reg_done == b->nclients && !bstats_total()->errors;
}

int breport_numbers(const struct bench *b, const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f) {
		fprintf(stderr, "wtpf-bench: %s: %s\n", path, strerror(errno));
		return errno;
	}
	fprintf(f, "SEQUENTIAL\n");
	for (size_t i = 0; i < b->nclients; i++) {
		const struct bclient *c = &b->clients[i];
		if (c->ever_registered)
			fprintf(f, "%s;%s\n", c->number[0] ? c->number : c->user,
				c->user);
	}
	return fclose(f) ? EIO : 0;
}
