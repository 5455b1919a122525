/**
 * @file bench.c  A run's resources: file descriptor limit, token signer,
 * clients and the libwebsockets context (see bench.h).
 */
#include "bench/wtpf-bench/bench.h"
#include "bench/wtpf-bench/auth.h"
#include "bench/wtpf-bench/client.h"
#include "bench/wtpf-bench/opts.h"
#include "bench/wtpf-bench/timer.h"
#include "util/fdlimit.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ev.h>
#include <libwebsockets.h>

static int sip_cb(struct lws *wsi, enum lws_callback_reasons reason,
		  void *user, void *in, size_t len)
{
	return bclient_lws_cb(wsi, (int)reason, user, in, len);
}

/*
 * No WebSocket pings of our own, as browsers send none: lws' validity
 * pings would hang up on a slow server after 310 s, and a zero hang-up
 * time also spares the per-connection validity timer.
 */
static const lws_retry_bo_t no_validity = {
	.secs_since_valid_ping = 0,
	.secs_since_valid_hangup = 0,
};

const lws_retry_bo_t *bench_retry_policy(void)
{
	return &no_validity;
}

static const struct lws_protocols protocols[] = {
	/* a small receive buffer per connection: larger messages come in
	 * pieces and are joined by the client */
	{ "sip", sip_cb, 0, 4096, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

/* The number of contexts for @p o: --contexts, or one per
 * BENCH_CLIENTS_PER_CONTEXT clients; one over wss, as lws 4.1 leaves the
 * client TLS state (SSL_CTX, CA store) of all but one of several contexts
 * behind when they are destroyed (seen by LeakSanitizer). */
static size_t contexts_wanted(const struct bopts *o)
{
	size_t n;

	if (o->tls)
		return 1;
	n = o->contexts > 0 ? (size_t)o->contexts :
	    ((size_t)o->clients + BENCH_CLIENTS_PER_CONTEXT - 1) /
	    BENCH_CLIENTS_PER_CONTEXT;
	return n < 1 ? 1 : n > BOPTS_MAX_CONTEXTS ? BOPTS_MAX_CONTEXTS : n;
}

/* Each lws context holds a few descriptors of its own (its wake-up pipe). */
#define FDS_PER_CONTEXT 4

/* Sets the soft descriptor limit to what the clients need (a margin over
 * one each, and the contexts' own), at most the hard limit; warns when
 * they will not fit. Not higher, even if it was: Debian's libwebsockets
 * walks a table of that many slots on every connect and close (a debug
 * check). */
static void raise_nofile(size_t clients, size_t contexts)
{
	unsigned long got;

	(void)fdlimit_fit((unsigned long)(clients + 64 + contexts *
					  FDS_PER_CONTEXT), &got);
	if (clients + 32 > got)
		fprintf(stderr, "wtpf-bench: warning: %zu clients but only %lu "
			"file descriptors (ulimit -Hn)\n", clients, got);
}

static int lws_create(struct bench *b)
{
	const struct bopts *o = b->o;
	struct lws_context_creation_info info;
	int level = LLL_ERR;
	size_t want = contexts_wanted(o);

	if (o->verbose >= 2)
		level |= LLL_WARN;
	if (o->verbose >= 3)
		level |= LLL_NOTICE;
	lws_set_log_level(level, NULL);
	b->loop = ev_loop_new(EVFLAG_AUTO);
	if (!b->loop) {
		fprintf(stderr, "wtpf-bench: cannot create the event loop\n");
		return ENOMEM;
	}
	void *foreign[1] = { b->loop };
	memset(&info, 0, sizeof info);
	info.foreign_loops = foreign;
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	/* the Origin exactly as given (lws would prefix http://) */
	info.options = LWS_SERVER_OPTION_JUST_USE_RAW_ORIGIN |
		       LWS_SERVER_OPTION_LIBEV;
	if (o->tls)
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	if (*o->ca)
		info.client_ssl_ca_filepath = o->ca;
	info.retry_and_idle_policy = &no_validity;
	info.timeout_secs = (unsigned)ceil(o->timeout);
	info.connect_timeout_secs = (unsigned)ceil(o->timeout);
	for (b->nlws = 0; b->nlws < want; b->nlws++) {
		b->lws[b->nlws] = lws_create_context(&info);
		if (!b->lws[b->nlws]) {
			fprintf(stderr, "wtpf-bench: cannot create the WebSocket "
				"context (is libwebsockets-evlib-ev installed?)\n");
			return ENOMEM;
		}
	}
	return btimer_init(b->lws[0]);
}

int bench_create(struct bench **bp, const struct bopts *o)
{
	struct bench *b = calloc(1, sizeof *b);
	int err = 0;

	if (!b)
		return ENOMEM;
	b->o = o;
	b->via_transport = o->tls ? "WSS" : "WS";
	b->t_start = btimer_now();
	raise_nofile((size_t)o->clients, contexts_wanted(o));
	if (o->auth_kind == BOPTS_AUTH_BEARER &&
	    (err = bauth_jwt_create(&b->jwt, o->jwt_alg, o->jwt_key, o->jwt_iss,
				    o->jwt_aud, o->jwt_ttl)))
		goto out;
	b->nclients = (size_t)o->clients;
	b->clients = calloc(b->nclients ? b->nclients : 1, sizeof *b->clients);
	if (!b->clients) {
		err = ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < b->nclients; i++)
		bclient_init(b, &b->clients[i], (uint32_t)i);
	err = lws_create(b);
 out:
	if (err) {
		bench_destroy(b);
		return err;
	}
	*bp = b;
	return 0;
}

void bench_step(struct bench *b, const char *name)
{
	struct bench_step *s;

	if (b->nsteps == BENCH_MAX_STEPS)
		return;
	s = &b->steps[b->nsteps++];
	snprintf(s->name, sizeof s->name, "%s", name);
	s->t = btimer_now();
	if (b->o->npids)
		bproc_sample_sum(b->o->pids, b->o->npids, s->t, &s->target);
	bproc_sample_read(0, s->t, &s->self);
	s->open = b->open;
	s->registered = b->registered;
	s->calls = b->calls;
}

int bench_loop(struct bench *b, const bool *done)
{
	while (!*done)
		ev_run(b->loop, EVRUN_ONCE);
	return 0;
}

void bench_wake(struct bench *b)
{
	ev_break(b->loop, EVBREAK_ALL);
}

uint64_t bench_elapsed(const struct bench *b)
{
	return btimer_now() - b->t_start;
}

void bench_destroy(struct bench *b)
{
	if (!b)
		return;
	/* closes what is still open; callbacks still find clients */
	while (b->nlws)
		lws_context_destroy(b->lws[--b->nlws]);
	if (b->loop)
		ev_loop_destroy(b->loop);
	btimer_fini();
	for (size_t i = 0; i < b->nclients; i++)
		bclient_fini(&b->clients[i]);
	free(b->clients);
	bauth_jwt_free(b->jwt);
	free(b);
}

void bench_reg_marks(const struct bench *b, size_t marks[2])
{
	size_t tenth = b->nclients / 10;

	marks[0] = tenth;
	marks[1] = tenth ? b->nclients - tenth : 0;
}

double bench_reg_steady_rate(const struct bench *b)
{
	size_t marks[2];

	bench_reg_marks(b, marks);
	if (!marks[0] || b->reg_failed || !b->t_reg_ninth ||
	    b->t_reg_ninth <= b->t_reg_tenth)
		return -1;
	return (double)(marks[1] - marks[0]) * 1e6 /
	       (double)(b->t_reg_ninth - b->t_reg_tenth);
}
