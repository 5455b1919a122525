/**
 * @file opts.c  The option table of wtpf-bench and its parser (see opts.h).
 * Each option is declared once below; getopt_long's table, the defaults,
 * the bounds checks and the help text all come from it.
 */
#include "bench/wtpf-bench/opts.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define BENCH_VERSION "0.1"

enum opt_type { OT_HEAD, OT_STR, OT_INT, OT_DBL, OT_FLAG };

struct opt_def {
	const char *name;
	enum opt_type type;
	size_t off;
	const char *def;        /* default, parsed like the command line */
	double min, max;        /* bounds of OT_INT and OT_DBL */
	const char *arg;        /* argument name in the help */
	const char *doc;
};

#define O(f) offsetof(struct bopts, f)
#define HEAD(t) { NULL, OT_HEAD, 0, NULL, 0, 0, NULL, t }

static const struct opt_def defs[] = {
	HEAD("Target"),
	{ "url", OT_STR, O(url), "ws://127.0.0.1:8080/", 0, 0, "URL",
	  "WebSocket URL of the SIP edge (ws:// or wss://)" },
	{ "transport", OT_STR, O(transport), "", 0, 0, "ws|wss",
	  "override the URL's scheme" },
	{ "insecure", OT_FLAG, O(insecure), NULL, 0, 0, NULL,
	  "accept self-signed or mismatching server certificates" },
	{ "ca", OT_STR, O(ca), "", 0, 0, "FILE",
	  "PEM CA bundle to verify the server with" },
	{ "origin", OT_STR, O(origin), "", 0, 0, "ORIGIN",
	  "Origin header of the handshake (none when empty)" },
	{ "domain", OT_STR, O(domain), "", 0, 0, "DOMAIN",
	  "SIP domain of the users (default: the URL's host)" },
	{ "target-pid", OT_STR, O(target_pid), "", 0, 0, "PID[,PID]",
	  "processes whose CPU time, RSS and PSS are sampled at each phase,"
	  " summed (e.g. $(pgrep -d, kamailio))" },
	HEAD("Clients"),
	{ "clients", OT_INT, O(clients), "10", 0, 1000000, "N",
	  "number of emulated WebRTC clients" },
	{ "ramp", OT_DBL, O(ramp), "100", 0, 1e6, "R",
	  "connections plus registrations started per second (0: all at once)" },
	{ "max-pending", OT_INT, O(max_pending), "1000", 1, 1000000, "N",
	  "at most N clients connecting or registering at a time" },
	{ "contexts", OT_INT, O(contexts), "0", 0, BOPTS_MAX_CONTEXTS, "N",
	  "libwebsockets contexts the clients are spread over (0: one per"
	  " 500 clients; always one over wss)" },
	{ "local-addrs", OT_STR, O(local_addrs), "", 0, 0, "A-B,C",
	  "source IPv4 addresses, ranges and lists (e.g. 127.0.0.1-127.0.0.50),"
	  " used in turn" },
	{ "user", OT_STR, O(user), "bench%05u", 0, 0, "FORMAT",
	  "user name of client i (printf format with one %u)" },
	{ "first-index", OT_INT, O(first_index), "0", 0, 100000000, "I",
	  "index of the first client (for several bench processes)" },
	{ "expires", OT_INT, O(expires), "600", 0, 604800, "S",
	  "registration expiry asked for" },
	{ "no-outbound", OT_FLAG, O(no_outbound), NULL, 0, 0, NULL,
	  "Contact without +sip.instance, reg-id and ;ob (RFC 5626)" },
	{ "no-auto-refresh", OT_FLAG, O(no_auto_refresh), NULL, 0, 0, NULL,
	  "do not re-REGISTER before the granted expiry" },
	HEAD("Authentication"),
	{ "auth", OT_STR, O(auth), "bearer", 0, 0, "bearer|digest|none",
	  "how clients authenticate their REGISTER" },
	{ "jwt-alg", OT_STR, O(jwt_alg), "HS256", 0, 0, "HS256|ES256",
	  "token signature algorithm" },
	{ "jwt-key", OT_STR, O(jwt_key), "", 0, 0, "FILE",
	  "HS256: secret file (trailing white space dropped); ES256: PEM private"
	  " key" },
	{ "jwt-iss", OT_STR, O(jwt_iss), "", 0, 0, "ISS", "token issuer (iss)" },
	{ "jwt-aud", OT_STR, O(jwt_aud), "wtpf", 0, 0, "AUD",
	  "token audience (aud; empty: none)" },
	{ "jwt-ttl", OT_INT, O(jwt_ttl), "3600", 1, 31536000, "S",
	  "token lifetime (exp = now + S)" },
	{ "impu-base", OT_STR, O(impu_base), "", 0, 0, "NUMBER",
	  "put an impu claim sip:(NUMBER + i)@DOMAIN in client i's token" },
	{ "password", OT_STR, O(password), "", 0, 0, "PASS",
	  "digest password of every user" },
	HEAD("Phases (in this order: register, hold, refresh, calls, linger,"
	     " unregister, close)"),
	{ "hold", OT_DBL, O(hold), "0", 0, 1e7, "S",
	  "seconds to stay idle once all are registered (idle CPU)" },
	{ "refresh-rate", OT_DBL, O(refresh_rate), "0", 0, 1e6, "R",
	  "re-REGISTERs per second in the refresh phase (0: no phase)" },
	{ "refresh-time", OT_DBL, O(refresh_time), "10", 0, 1e7, "S",
	  "length of the refresh phase" },
	{ "call-rate", OT_DBL, O(call_rate), "0", 0, 1e6, "R",
	  "calls placed per second in the call phase (0: no phase)" },
	{ "call-time", OT_DBL, O(call_time), "10", 0, 1e7, "S",
	  "seconds during which calls are placed" },
	{ "call-hold", OT_DBL, O(call_hold), "2", 0, 1e7, "S",
	  "seconds from the 200 OK to the caller's BYE" },
	{ "call-to", OT_STR, O(call_to), "peers", 0, 0, "NUMBER|URI|peers",
	  "whom to call: a number or URI, or 'peers' (other bench clients,"
	  " which answer)" },
	{ "answer-delay", OT_DBL, O(answer_delay), "0", 0, 3600, "S",
	  "ringing time before answering an incoming call" },
	{ "answer-hold", OT_DBL, O(answer_hold), "0", 0, 1e7, "S",
	  "hang up answered incoming calls after S (0: wait for the caller)" },
	{ "linger", OT_DBL, O(linger), "0", 0, 1e7, "S",
	  "stay registered S more seconds, answering incoming calls" },
	{ "unregister", OT_FLAG, O(unregister), NULL, 0, 0, NULL,
	  "REGISTER with expires 0 (at the ramp rate) before closing" },
	{ "timeout", OT_DBL, O(timeout), "10", 0.1, 3600, "S",
	  "transaction and connect timeout" },
	HEAD("Output"),
	{ "json", OT_STR, O(json), "", 0, 0, "FILE",
	  "write the results as JSON to FILE ('-': standard output)" },
	{ "numbers-out", OT_STR, O(numbers_out), "", 0, 0, "FILE",
	  "write the registered numbers as a SIPp injection file" },
	{ "verbose", OT_INT, O(verbose), "0", 0, 3, "LEVEL",
	  "1: log each error; 2: also phases; 3: every SIP message" },
};

#define NDEFS (sizeof defs / sizeof defs[0])

static void usage(FILE *f)
{
	fprintf(f, "usage: wtpf-bench [OPTIONS]\n"
		"Emulates WebRTC clients (SIP over WebSocket, RFC 7118) against"
		" a SIP edge and\nreports throughput, latency and the target's"
		" CPU and memory.\n");
	for (size_t i = 0; i < NDEFS; i++) {
		const struct opt_def *d = &defs[i];
		char left[64];
		if (d->type == OT_HEAD) {
			fprintf(f, "\n%s:\n", d->doc);
			continue;
		}
		snprintf(left, sizeof left, "--%s%s%s", d->name, d->arg ? " " : "",
			 d->arg ? d->arg : "");
		fprintf(f, "  %-28s %s", left, d->doc);
		if (d->def && *d->def && d->type != OT_FLAG)
			fprintf(f, " [%s]", d->def);
		fputc('\n', f);
	}
	fprintf(f, "\n  --help, --version\n");
}

/* Stores @p val into option @p d of @p o. Returns 0 or EINVAL. */
static int opt_set(struct bopts *o, const struct opt_def *d, const char *val)
{
	char *p = (char *)o + d->off, *end;
	double v;

	switch (d->type) {
	case OT_STR:
		*(const char **)p = val;
		return 0;
	case OT_FLAG:
		*(int *)p = 1;
		return 0;
	case OT_INT:
	case OT_DBL:
		errno = 0;
		v = strtod(val, &end);
		if (errno || end == val || *end || v < d->min || v > d->max ||
		    (d->type == OT_INT && v != (double)(long)v)) {
			fprintf(stderr, "wtpf-bench: --%s: '%s' is not a %s in "
				"%g..%g\n", d->name, val, d->type == OT_INT ?
				"whole number" : "number", d->min, d->max);
			return EINVAL;
		}
		if (d->type == OT_INT)
			*(int *)p = (int)v;
		else
			*(double *)p = v;
		return 0;
	default:
		return EINVAL;
	}
}

static int parse_url(struct bopts *o)
{
	const char *u = o->url, *h, *e;
	size_t n;

	if (!strncasecmp(u, "wss://", 6)) {
		o->tls = true;
		h = u + 6;
	} else if (!strncasecmp(u, "ws://", 5)) {
		h = u + 5;
	} else {
		fprintf(stderr, "wtpf-bench: --url must start ws:// or wss://\n");
		return EINVAL;
	}
	if (*o->transport) {
		if (strcasecmp(o->transport, "ws") && strcasecmp(o->transport, "wss")) {
			fprintf(stderr, "wtpf-bench: --transport is ws or wss\n");
			return EINVAL;
		}
		o->tls = !strcasecmp(o->transport, "wss");
	}
	n = strcspn(h, ":/?");
	if (!n || n >= sizeof o->host) {
		fprintf(stderr, "wtpf-bench: --url: no host\n");
		return EINVAL;
	}
	memcpy(o->host, h, n);
	o->host[n] = '\0';
	e = h + n;
	o->port = o->tls ? 443 : 80;
	if (*e == ':') {
		char *pe;
		long p = strtol(e + 1, &pe, 10);
		if (p <= 0 || p > 65535) {
			fprintf(stderr, "wtpf-bench: --url: bad port\n");
			return EINVAL;
		}
		o->port = (int)p;
		e = pe;
	}
	snprintf(o->path, sizeof o->path, "%s", *e ? e : "/");
	if (!*o->domain)
		o->domain = o->host;
	return 0;
}

static int add_addr(struct bopts *o, uint32_t a, size_t *cap)
{
	struct in_addr in = { .s_addr = htonl(a) };

	if (o->naddrs == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		void *p = realloc(o->addrs, nc * sizeof *o->addrs);
		if (!p)
			return ENOMEM;
		o->addrs = p;
		*cap = nc;
	}
	inet_ntop(AF_INET, &in, o->addrs[o->naddrs++], sizeof o->addrs[0]);
	return 0;
}

/* "A-B,C,..." into o->addrs. */
static int parse_addrs(struct bopts *o)
{
	char buf[4096], *save = NULL;
	size_t cap = 0;

	if (!*o->local_addrs)
		return 0;
	if (strlen(o->local_addrs) >= sizeof buf)
		return EINVAL;
	strcpy(buf, o->local_addrs);
	for (char *tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *dash = strchr(tok, '-');
		struct in_addr a, b;
		if (dash)
			*dash = '\0';
		if (inet_pton(AF_INET, tok, &a) != 1 ||
		    (dash && inet_pton(AF_INET, dash + 1, &b) != 1)) {
			fprintf(stderr, "wtpf-bench: --local-addrs: '%s' is not "
				"an IPv4 address or range\n", tok);
			return EINVAL;
		}
		uint32_t lo = ntohl(a.s_addr), hi = dash ? ntohl(b.s_addr) : lo;
		if (hi < lo || hi - lo > 65535) {
			fprintf(stderr, "wtpf-bench: --local-addrs: bad range\n");
			return EINVAL;
		}
		for (uint32_t x = lo; x <= hi; x++)
			if (add_addr(o, x, &cap))
				return ENOMEM;
	}
	return 0;
}

/* "PID,PID,..." into o->pids. */
static int parse_pids(struct bopts *o)
{
	const char *p = o->target_pid;

	while (*p) {
		char *e;
		long v = strtol(p, &e, 10);
		int *np;
		if (e == p || v <= 0 || v > 4194304 || (*e && *e != ',')) {
			fprintf(stderr, "wtpf-bench: --target-pid: '%s' is not a "
				"list of process ids\n", o->target_pid);
			return EINVAL;
		}
		if (!(np = realloc(o->pids, (o->npids + 1) * sizeof *np)))
			return ENOMEM;
		o->pids = np;
		o->pids[o->npids++] = (int)v;
		p = *e ? e + 1 : e;
	}
	return 0;
}

/* The checks across options, and what is derived from them. */
static int finish(struct bopts *o)
{
	int err = parse_url(o);

	if (!err)
		err = parse_addrs(o);
	if (!err)
		err = parse_pids(o);
	if (err)
		return err;
	if (!strcasecmp(o->auth, "bearer"))
		o->auth_kind = BOPTS_AUTH_BEARER;
	else if (!strcasecmp(o->auth, "digest"))
		o->auth_kind = BOPTS_AUTH_DIGEST;
	else if (!strcasecmp(o->auth, "none"))
		o->auth_kind = BOPTS_AUTH_NONE;
	else {
		fprintf(stderr, "wtpf-bench: --auth is bearer, digest or none\n");
		return EINVAL;
	}
	if (o->auth_kind == BOPTS_AUTH_BEARER && (!*o->jwt_key || !*o->jwt_iss)) {
		fprintf(stderr, "wtpf-bench: --auth bearer needs --jwt-key and "
			"--jwt-iss\n");
		return EINVAL;
	}
	if (strcasecmp(o->jwt_alg, "HS256") && strcasecmp(o->jwt_alg, "ES256")) {
		fprintf(stderr, "wtpf-bench: --jwt-alg is HS256 or ES256\n");
		return EINVAL;
	}
	if (o->auth_kind == BOPTS_AUTH_DIGEST && !*o->password) {
		fprintf(stderr, "wtpf-bench: --auth digest needs --password\n");
		return EINVAL;
	}
	if (!strstr(o->user, "%") || strchr(strchr(o->user, '%') + 1, '%')) {
		fprintf(stderr, "wtpf-bench: --user needs exactly one %%u\n");
		return EINVAL;
	}
	if (*o->impu_base && strspn(o->impu_base + (*o->impu_base == '+'),
				    "0123456789") !=
	    strlen(o->impu_base + (*o->impu_base == '+'))) {
		fprintf(stderr, "wtpf-bench: --impu-base is a number\n");
		return EINVAL;
	}
	o->call_peers = !strcmp(o->call_to, "peers");
	if (o->call_peers && o->call_rate > 0 && o->clients < 2) {
		fprintf(stderr, "wtpf-bench: --call-to peers needs 2 clients\n");
		return EINVAL;
	}
	return 0;
}

int bopts_parse(struct bopts *o, int argc, char **argv)
{
	struct option lo[NDEFS + 3];
	size_t n = 0;
	int c, idx;

	memset(o, 0, sizeof *o);
	for (size_t i = 0; i < NDEFS; i++)
		if (defs[i].type != OT_HEAD && defs[i].type != OT_FLAG &&
		    opt_set(o, &defs[i], defs[i].def))
			return 2;
	for (size_t i = 0; i < NDEFS; i++) {
		if (defs[i].type == OT_HEAD)
			continue;
		lo[n++] = (struct option){ defs[i].name, defs[i].type == OT_FLAG ?
			no_argument : required_argument, NULL, 1000 + (int)i };
	}
	lo[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	lo[n++] = (struct option){ "version", no_argument, NULL, 'V' };
	lo[n] = (struct option){ 0 };

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lo, &idx)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return 1;
		}
		if (c == 'V') {
			printf("wtpf-bench %s\n", BENCH_VERSION);
			return 1;
		}
		if (c < 1000 || (size_t)(c - 1000) >= NDEFS) {
			fprintf(stderr, "Try 'wtpf-bench --help'.\n");
			return 2;
		}
		if (opt_set(o, &defs[c - 1000], optarg))
			return 2;
	}
	if (optind < argc) {
		fprintf(stderr, "wtpf-bench: unexpected argument '%s'\n",
			argv[optind]);
		return 2;
	}
	return finish(o) ? 2 : 0;
}

void bopts_free(struct bopts *o)
{
	free(o->addrs);
	free(o->pids);
	o->addrs = NULL;
	o->pids = NULL;
	o->naddrs = o->npids = 0;
}
