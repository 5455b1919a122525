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
#include "util/histo.h"

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
	     "numbers allocated per tenant, held ones included (what "
	     "max_identities limits; the API's identities_in_use plus "
	     "identities_held)");
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
	head(b, "wtpf_trunk_reads_bounded_total", "counter",
	     "reads of a trunk's TCP connection cut to 16 KiB because more "
	     "was waiting (the P-CSCF sent faster than the gateway read)");
	g_string_append_printf(b, "wtpf_trunk_reads_bounded_total %lu\n",
			       w8_reads_bounded());
	head(b, "wtpf_trunk_acks_pending", "gauge",
	     "answered calls from IMS whose ACK has not come yet");
	for (size_t i = 0; i < w8_trunk_count(m->w8); i++) {
		struct w8_trunk *t = w8_trunk_at(m->w8, i);
		g_string_append_printf(b, "wtpf_trunk_acks_pending{trunk=\"%s\"} %zu\n",
				       w8_trunk_name(t), w8_trunk_acks_pending(t));
	}
	head(b, "wtpf_trunk_overload_refused_total", "counter",
	     "INVITEs from IMS refused with 503 while too many answered calls "
	     "awaited their ACK (trunks[].overload_pending_acks)");
	for (size_t i = 0; i < w8_trunk_count(m->w8); i++) {
		struct w8_trunk *t = w8_trunk_at(m->w8, i);
		g_string_append_printf(b, "wtpf_trunk_overload_refused_total{trunk=\"%s\"} %lu\n",
				       w8_trunk_name(t), w8_trunk_overload_refused(t));
	}
}

static void metrics_calls(GString *b, const struct metrics_src *m)
{
	const struct call_stats *st = call_core_stats(m->calls);
	static const char *const dirs[2] = { "outbound", "inbound" };

	head(b, "wtpf_calls_started_total", "counter", "calls begun, by direction");
	for (unsigned d = 0; d < 2; d++)
		g_string_append_printf(b, "wtpf_calls_started_total{direction=\"%s\"} %lu\n",
				       dirs[d], st->started[d]);
	head(b, "wtpf_calls_answered_total", "counter", "calls answered, by direction");
	for (unsigned d = 0; d < 2; d++)
		g_string_append_printf(b, "wtpf_calls_answered_total{direction=\"%s\"} %lu\n",
				       dirs[d], st->answered[d]);
	head(b, "wtpf_calls_failed_total", "counter",
	     "calls that ended unanswered, by direction and final SIP status "
	     "(\"other\": none or outside 300-699)");
	for (unsigned d = 0; d < 2; d++)
		for (unsigned i = 0; i < CALL_STATUS_SLOTS; i++) {
			if (!st->failed[d][i])
				continue;
			if (i == CALL_STATUS_SLOTS - 1)
				g_string_append_printf(b, "wtpf_calls_failed_total{direction=\"%s\","
						       "status=\"other\"} %lu\n", dirs[d],
						       st->failed[d][i]);
			else
				g_string_append_printf(b, "wtpf_calls_failed_total{direction=\"%s\","
						       "status=\"%u\"} %lu\n", dirs[d], i + 300,
						       st->failed[d][i]);
		}
}

static void metrics_auth(GString *b, const struct metrics_src *m)
{
	head(b, "wtpf_auth_failures_total", "counter",
	     "authentications refused, by reason");
	for (unsigned i = 0; i < WIC_AUTH_FAIL_COUNT; i++)
		g_string_append_printf(b, "wtpf_auth_failures_total{reason=\"%s\"} %lu\n",
				       wic_auth_fail_name(i), wic_auth_failures(m->wic, i));
	head(b, "wtpf_auth_lockouts_total", "counter",
	     "addresses and users locked out after repeated failed authentication");
	g_string_append_printf(b, "wtpf_auth_lockouts_total{kind=\"address\"} %lu\n",
			       wic_limit_lockouts(m->wic, false));
	g_string_append_printf(b, "wtpf_auth_lockouts_total{kind=\"user\"} %lu\n",
			       wic_limit_lockouts(m->wic, true));
	head(b, "wtpf_overload_refusals_total", "counter",
	     "connections and requests refused by the limits, by reason");
	for (unsigned i = 0; i < WIC_LIMIT_COUNT; i++)
		g_string_append_printf(b, "wtpf_overload_refusals_total{reason=\"%s\"} %lu\n",
				       wic_limit_name(i), wic_limit_refusals(m->wic, i));
}

static void histo_print(GString *b, const char *side, const char *kind,
			const struct histo *h)
{
	const char *name = "wtpf_sip_processing_seconds";

	for (unsigned i = 0; i < HISTO_BUCKETS; i++)
		g_string_append_printf(b, "%s_bucket{side=\"%s\",message=\"%s\",le=\"%g\"} %llu\n",
				       name, side, kind, histo_bounds[i], h->le[i]);
	g_string_append_printf(b, "%s_bucket{side=\"%s\",message=\"%s\",le=\"+Inf\"} %llu\n"
			       "%s_sum{side=\"%s\",message=\"%s\"} %.9f\n"
			       "%s_count{side=\"%s\",message=\"%s\"} %llu\n",
			       name, side, kind, h->count, name, side, kind, h->sum,
			       name, side, kind, h->count);
}

static void metrics_latency(GString *b, const struct metrics_src *m)
{
	const char *label;
	const struct histo *h;

	head(b, "wtpf_sip_processing_seconds", "histogram",
	     "time the gateway adds to a SIP message: from its arrival on one "
	     "side (wic: a browser, ims: the trunk) to its answer or its "
	     "hand-over to the other side");
	for (unsigned k = 0; (h = wic_sip_time(m->wic, k, &label)); k++)
		histo_print(b, "wic", label, h);
	for (unsigned k = 0; (h = w8_sip_time(m->w8, k, &label)); k++)
		histo_print(b, "ims", label, h);
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
	metrics_calls(body, m);
	metrics_auth(body, m);
	metrics_identities(body, m);
	metrics_trunks(body, m);
	metrics_latency(body, m);
}

void metrics_health(void *arg, const struct admin_req *rq,
		    struct admin_resp *rs)
{
	(void)arg;
	(void)rq;
	g_string_append(rs->body, "{\"status\":\"ok\"}\n");
}
