/**
 * @file api.c  The admin JSON API: what runs (health, registrations, calls,
 * tenants, trunks) and reload. api_store.c has what is kept in the store
 * (users, identities, diversion settings, agents).
 */
#include "api_priv.h"
#include "conf/conf.h"
#include "gateway/call/call.h"
#include "gateway/ident/ident.h"
#include "gateway/wic/wic.h"
#include "w8/w8.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

char *api_query(const struct admin_req *rq, const char *key)
{
	gchar **kv = g_strsplit(rq->query, "&", -1);
	size_t n = strlen(key);
	char *v = NULL;

	for (gchar **p = kv; *p && !v; p++)
		if (!strncmp(*p, key, n) && (*p)[n] == '=')
			v = g_uri_unescape_string(*p + n + 1, NULL);
	g_strfreev(kv);
	return v;
}

const struct conf_tenant *api_tenant(struct api_src *src, const char *name,
				     struct admin_resp *rs)
{
	const struct conf_tenant *t = name ? conf_tenant_find(*src->conf, name)
					   : NULL;

	if (!t)
		admin_error(rs, 404, "no tenant '%.64s'", name ? name : "");
	return t;
}

static void api_health(void *arg, const struct admin_req *rq,
		       struct admin_resp *rs)
{
	struct api_src *src = arg;

	(void)rq;
	admin_json(rs, 200, json_pack("{s:s, s:I, s:I, s:I, s:I}",
		"status", "ok", "uptime", (json_int_t)(time(NULL) - src->started),
		"connections", (json_int_t)wic_flow_count(src->wic),
		"registrations", (json_int_t)wic_binding_count(src->wic),
		"calls", (json_int_t)call_core_count(src->calls)));
}

static int reg_add(void *arg, const struct wic_reg_info *r)
{
	/* +sip.instance is kept as the Contact parameter was written: the
	 * quotes around it are no part of the instance id */
	size_t n = strlen(r->instance);
	bool quoted = n >= 2 && r->instance[0] == '"' && r->instance[n - 1] == '"';

	json_array_append_new(arg, json_pack("{s:s, s:s, s:s, s:s, s:s%, s:s, "
		"s:s, s:b, s:I, s:I}", "aor", r->aor, "tenant", r->tenant,
		"number", r->number, "contact", r->contact, "instance",
		r->instance + quoted, quoted ? n - 2 : n,
		"impi", r->impi, "peer", r->peer, "tls", r->tls,
		"connection", (json_int_t)r->flow_id,
		"expires_in", (json_int_t)r->expires_in));
	return 0;
}

static void api_registrations(void *arg, const struct admin_req *rq,
			      struct admin_resp *rs)
{
	struct api_src *src = arg;
	char *tenant = api_query(rq, "tenant");
	json_t *list = json_array();

	if (!tenant || api_tenant(src, tenant, rs)) {
		wic_registrations(src->wic, tenant, reg_add, list);
		admin_json(rs, 200, list);
	} else {
		json_decref(list);
	}
	g_free(tenant);
}

static int call_add(void *arg, const struct call_info *c)
{
	json_array_append_new(arg, json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, "
		"s:I, s:I}", "id", (json_int_t)c->id, "direction", c->direction,
		"state", c->state, "user", c->user, "remote", c->remote,
		"tenant", c->tenant, "started", (json_int_t)c->started,
		"answered", (json_int_t)c->answered));
	return 0;
}

static void api_calls(void *arg, const struct admin_req *rq,
		      struct admin_resp *rs)
{
	struct api_src *src = arg;
	json_t *list = json_array();

	(void)rq;
	call_core_foreach(src->calls, call_add, list);
	admin_json(rs, 200, list);
}

static void api_call_hangup(void *arg, const struct admin_req *rq,
			    struct admin_resp *rs)
{
	struct api_src *src = arg;
	char *end;
	unsigned long id = strtoul(rq->args[0], &end, 10);

	if (*end || !*rq->args[0])
		admin_error(rs, 400, "call id '%.32s' is not a number", rq->args[0]);
	else if (call_core_hangup(src->calls, id, "hung up through the admin API"))
		admin_error(rs, 404, "no call %lu", id);
	else
		admin_json(rs, 200, json_pack("{s:I, s:s}", "id", (json_int_t)id,
					      "state", "ended"));
}

static json_t *strv_json(conf_strv_t v)
{
	json_t *a = json_array();

	for (size_t i = 0; v && v[i]; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static void api_tenants(void *arg, const struct admin_req *rq,
			struct admin_resp *rs)
{
	struct api_src *src = arg;
	const struct conf *conf = *src->conf;
	json_t *list = json_array();

	(void)rq;
	for (size_t i = 0; i < conf->tenant_count; i++) {
		const struct conf_tenant *t = &conf->tenants[i];
		size_t held = 0, used = ident_count(src->ident, t->name, &held);
		json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:o, s:i, "
			"s:I, s:I, s:I, s:I}", "name", t->name, "domain", t->domain,
			"trunk", t->trunk, "ranges", strv_json(t->ranges),
			"max_identities", t->max_identities,
			"identities_in_use", (json_int_t)(used - held),
			"identities_held", (json_int_t)held,
			"identities_refused", (json_int_t)ident_refused(src->ident, t->name),
			"ring_groups", (json_int_t)t->services.group_count));
	}
	admin_json(rs, 200, list);
}

static void api_trunks(void *arg, const struct admin_req *rq,
		       struct admin_resp *rs)
{
	struct api_src *src = arg;
	json_t *list = json_array();

	(void)rq;
	for (size_t i = 0; i < w8_trunk_count(src->w8); i++) {
		struct w8_trunk *t = w8_trunk_at(src->w8, i);
		const char *pcscf = NULL, *err = NULL;
		enum w8_state s = w8_trunk_state(t, &pcscf, &err);
		json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:b, s:s, s:s}",
			"name", w8_trunk_name(t), "mode", w8_trunk_conf(t)->mode,
			"state", w8_state_name(s), "up", s == W8_STATE_UP,
			"pcscf", pcscf ? pcscf : "", "last_error", err ? err : ""));
	}
	admin_json(rs, 200, list);
}

/* The lines of @p text as a JSON array of strings. */
static json_t *api_lines(const char *text)
{
	json_t *lines = json_array();
	gchar **v = g_strsplit(text ? text : "", "\n", -1);

	for (gchar **p = v; *p; p++)
		if (**p)
			json_array_append_new(lines, json_string(*p));
	g_strfreev(v);
	return lines;
}

static void api_reload(void *arg, const struct admin_req *rq,
		       struct admin_resp *rs)
{
	struct api_src *src = arg;
	char *msgs = NULL;
	json_t *j;
	int err;

	(void)rq;
	err = src->reload(src->reload_arg, &msgs);
	if (!err) {
		j = json_pack("{s:s}", "status", "reloaded");
		if (msgs && *msgs)
			json_object_set_new(j, "restart_needed", api_lines(msgs));
		admin_json(rs, 200, j);
	} else {
		admin_json(rs, 422, json_pack("{s:s, s:o}", "error", err == EIO ?
			   "reload failed part way; see the log" :
			   "configuration refused; the running one stays",
			   "errors", api_lines(msgs)));
	}
	free(msgs);
}

int api_routes_add(struct admin *a, struct api_src *s)
{
	const struct { const char *m, *p; admin_route_h *h; } routes[] = {
		{ "GET", "/api/health", api_health },
		{ "GET", "/api/registrations", api_registrations },
		{ "GET", "/api/calls", api_calls },
		{ "DELETE", "/api/calls/{}", api_call_hangup },
		{ "GET", "/api/tenants", api_tenants },
		{ "GET", "/api/trunks", api_trunks },
		{ "POST", "/api/reload", api_reload },
		{ "GET", "/api/identities", api_identities },
		{ "POST", "/api/users", api_user_add },
		{ "DELETE", "/api/users/{}/{}", api_user_del },
		{ "GET", "/api/groups", api_groups },
		{ "POST", "/api/agents/{}/{}/pause", api_agent_pause },
		{ "POST", "/api/agents/{}/{}/resume", api_agent_resume },
		{ "GET", "/api/diversions", api_diversions },
		{ "GET", "/api/diversions/{}/{}", api_diversion_get },
		{ "PUT", "/api/diversions/{}/{}", api_diversion_put },
		{ "DELETE", "/api/diversions/{}/{}", api_diversion_del },
		{ "GET", "/api/cdrs", api_cdrs },
	};
	int err = 0;

	for (size_t i = 0; !err && i < G_N_ELEMENTS(routes); i++)
		err = admin_route_add(a, routes[i].m, routes[i].p, false,
				      routes[i].h, s);
	return err;
}
