/**
 * @file metrics.c  GET /metrics (Prometheus text format 0.0.4) and
 * GET /health, composed from each part's counters; nothing here blocks.
 */
#include "gateway/metrics.h"
#include "gateway/admin/admin.h"
#include "conf/conf.h"
#include "gateway/call/call.h"
#include "gateway/ident/ident.h"
#include "gateway/wic/wic.h"
#include "w8/w8.h"

static void gauge(GString *b, const char *name, const char *help,
		  unsigned long long v)
{
	g_string_append_printf(b, "# HELP %s %s\n# TYPE %s gauge\n%s %llu\n",
			       name, help, name, name, v);
}

static void head(GString *b, const char *name, const char *type,
		 const char *help)
{
	g_string_append_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help,
			       name, type);
}

static void metrics_identities(GString *b, const struct metrics_src *m)
{
	const struct conf *conf = *m->conf;

	head(b, "wtpf_identities_in_use", "gauge",
	     "numbers allocated per tenant (in use or held)");
	for (size_t i = 0; i < conf->tenant_count; i++)
		g_string_append_printf(b, "wtpf_identities_in_use{tenant=\"%s\"} %zu\n",
				       conf->tenants[i].name,
				       ident_count(m->ident, conf->tenants[i].name, NULL));
	head(b, "wtpf_identities_held", "gauge",
	     "numbers held for their user after the last device left");
	for (size_t i = 0; i < conf->tenant_count; i++) {
		size_t held = 0;
		(void)ident_count(m->ident, conf->tenants[i].name, &held);
		g_string_append_printf(b, "wtpf_identities_held{tenant=\"%s\"} %zu\n",
				       conf->tenants[i].name, held);
	}
	head(b, "wtpf_identities_limit", "gauge",
	     "max_identities per tenant (0: no limit)");
	for (size_t i = 0; i < conf->tenant_count; i++)
		g_string_append_printf(b, "wtpf_identities_limit{tenant=\"%s\"} %d\n",
				       conf->tenants[i].name,
				       conf->tenants[i].max_identities);
	head(b, "wtpf_identities_refused_total", "counter",
	     "registrations refused because the range or a limit was exhausted");
	for (size_t i = 0; i < conf->tenant_count; i++)
		g_string_append_printf(b, "wtpf_identities_refused_total{tenant=\"%s\"} %lu\n",
				       conf->tenants[i].name,
				       ident_refused(m->ident, conf->tenants[i].name));
}

static void metrics_trunks(GString *b, const struct metrics_src *m)
{
	head(b, "wtpf_trunk_up", "gauge",
	     "1 when the trunk is registered (or a P-CSCF answers OPTIONS)");
	for (size_t i = 0; i < w8_trunk_count(m->w8); i++) {
		struct w8_trunk *t = w8_trunk_at(m->w8, i);
		enum w8_state s = w8_trunk_state(t, NULL, NULL);
		g_string_append_printf(b, "wtpf_trunk_up{trunk=\"%s\",state=\"%s\"} %d\n",
				       w8_trunk_name(t), w8_state_name(s),
				       s == W8_STATE_UP);
	}
}

void metrics_get(void *arg, const struct admin_req *rq, struct admin_resp *rs)
{
	const struct metrics_src *m = arg;
	GString *body = rs->body;

	(void)rq;
	rs->ctype = "text/plain; version=0.0.4; charset=utf-8";
	gauge(body, "wtpf_ws_connections", "open WebSocket connections",
	      wic_flow_count(m->wic));
	gauge(body, "wtpf_registrations", "registered devices (bindings)",
	      wic_binding_count(m->wic));
	gauge(body, "wtpf_calls_active", "calls in progress",
	      call_core_count(m->calls));
	metrics_identities(body, m);
	metrics_trunks(body, m);
}

void metrics_health(void *arg, const struct admin_req *rq,
		    struct admin_resp *rs)
{
	(void)arg;
	(void)rq;
	g_string_append(rs->body, "{\"status\":\"ok\"}\n");
}
