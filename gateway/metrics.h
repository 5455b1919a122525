/**
 * @file metrics.h  The daemon's admin routes: Prometheus metrics and a
 * health check, read from the running parts (all borrowed).
 */
#ifndef WTPF_METRICS_H
#define WTPF_METRICS_H

#include <glib.h>

struct conf;
struct wic;
struct w8;
struct call_core;
struct ident;

struct metrics_src {
	struct conf **conf;          /**< the running configuration (reloads) */
	struct wic *wic;
	struct w8 *w8;
	struct call_core *calls;
	struct ident *ident;
};

struct admin_req;
struct admin_resp;

/** admin_route_h for GET /metrics; @p arg is a struct metrics_src. */
void metrics_get(void *arg, const struct admin_req *rq, struct admin_resp *rs);

/** admin_route_h for GET /health. */
void metrics_health(void *arg, const struct admin_req *rq,
		    struct admin_resp *rs);

#endif
