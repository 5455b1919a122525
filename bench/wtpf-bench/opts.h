/**
 * @file opts.h  wtpf-bench's command line: one table declares every option
 * with its type, default, bounds and help text; the parser fills a
 * struct bopts and derives what the rest of the program needs (server
 * address, TLS, source addresses, authentication kind).
 *
 * Ownership: bopts_parse() fills a caller-owned struct whose strings point
 * into argv or into memory that bopts_free() releases.
 */
#ifndef WTPF_BENCH_OPTS_H
#define WTPF_BENCH_OPTS_H

/** The most libwebsockets contexts (--contexts) a run spreads clients over. */
#define BOPTS_MAX_CONTEXTS 64

#include <stdbool.h>
#include <stddef.h>

enum bopts_auth { BOPTS_AUTH_NONE, BOPTS_AUTH_BEARER, BOPTS_AUTH_DIGEST };

/** Every setting of a run. Fields are filled from the option table. */
struct bopts {
	/* target */
	const char *url;
	const char *transport;
	int insecure;
	const char *ca;
	const char *origin;
	const char *domain;
	const char *target_pid;
	/* clients */
	int clients;
	double ramp;
	int max_pending;
	int contexts;
	const char *local_addrs;
	const char *user;
	int first_index;
	int expires;
	int no_outbound;
	int no_auto_refresh;
	/* authentication */
	const char *auth;
	const char *jwt_alg;
	const char *jwt_key;
	const char *jwt_iss;
	const char *jwt_aud;
	int jwt_ttl;
	const char *impu_base;
	const char *password;
	/* phases */
	double hold;
	double refresh_rate;
	double refresh_time;
	double call_rate;
	double call_time;
	double call_hold;
	const char *call_to;
	double answer_delay;
	double answer_hold;
	double linger;
	int unregister;
	double timeout;
	/* output */
	const char *json;
	const char *numbers_out;
	int verbose;

	/* derived by bopts_parse() */
	bool tls;               /**< wss */
	char host[256];         /**< server address, from the URL */
	int port;
	char path[256];         /**< URL path, "/" at least */
	enum bopts_auth auth_kind;
	bool call_peers;        /**< --call-to peers: call other clients */
	char (*addrs)[16];      /**< source IPv4 addresses; NULL: any */
	size_t naddrs;
	int *pids;              /**< target processes; NULL: none */
	size_t npids;
};

/**
 * Parses @p argv into @p o (zeroed first, defaults applied). Returns 0;
 * 1 when help or the version was printed (exit 0); 2 on a usage error,
 * after printing it to stderr.
 */
int bopts_parse(struct bopts *o, int argc, char **argv);

/** Frees what bopts_parse() allocated in @p o. */
void bopts_free(struct bopts *o);

#endif
