/**
 * @file api_store.c  The admin API's routes over what the store keeps:
 * identities (allocations), digest users (created with a password kept
 * only as HA1), ring groups with their agents' state and pause/resume, and
 * per-number diversion settings (which take precedence over the
 * configuration's and apply from the next call).
 */
#include "api_priv.h"
#include "auth/auth.h"
#include "conf/conf.h"
#include "gateway/ident/ident.h"
#include "gateway/svc/svc.h"
#include "gateway/wic/wic.h"
#include "store/store.h"
#include "util/numrange.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* The request body as a JSON object, or NULL after answering 400. */
static json_t *body_object(const struct admin_req *rq, struct admin_resp *rs)
{
	json_error_t e;
	json_t *j = json_loadb(rq->body, rq->body_len, 0, &e);

	if (!j) {
		admin_error(rs, 400, "body is not JSON: %s (line %d, column %d)",
			    e.text, e.line, e.column);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		admin_error(rs, 400, "body must be a JSON object");
		return NULL;
	}
	return j;
}

/* A string member, "" when absent; NULL after answering 400 when it is
 * there but no string, or required and absent. */
static const char *member_str(json_t *o, const char *key, bool required,
			      struct admin_resp *rs)
{
	json_t *v = json_object_get(o, key);

	if (!v && !required)
		return "";
	if (!json_is_string(v)) {
		admin_error(rs, 400, "'%s' %s", key, v ? "must be a string" :
			    "is required (a string)");
		return NULL;
	}
	return json_string_value(v);
}

/* False after answering 422 when @p num lies outside the numbers of
 * tenant @p t (its identity sets), as the configuration's own diversion
 * and ring group numbers must; a tenant without ranges owns them all. */
static bool owned(struct api_src *src, const struct conf_tenant *t,
		  const char *num, struct admin_resp *rs)
{
	struct ident_grant g;

	if (!ident_managed(src->ident, t->name) ||
	    ident_lookup(src->ident, t->name, num, &g) != ENOENT)
		return true;
	admin_error(rs, 422, "'%s' is not within tenant %s's numbers", num,
		    t->name);
	return false;
}

/* ---- identities -------------------------------------------------- */

struct alloc_walk {
	const char *tenant;
	json_t *list;
};

static int alloc_add(void *arg, const struct store_alloc *a)
{
	struct alloc_walk *w = arg;

	if (w->tenant && strcmp(w->tenant, a->tenant))
		return 0;
	json_array_append_new(w->list, json_pack("{s:s, s:s, s:s, s:s, s:s, "
		"s:I, s:I}", "tenant", a->tenant, "set", a->idset,
		"number", a->impu, "subject", a->subject,
		"state", a->hold_until ? "held" : "in use",
		"created", (json_int_t)a->created,
		"hold_until", (json_int_t)a->hold_until));
	return 0;
}

void api_identities(void *arg, const struct admin_req *rq,
		    struct admin_resp *rs)
{
	struct api_src *src = arg;
	char *tenant = api_query(rq, "tenant");
	struct alloc_walk w = { tenant, json_array() };

	if (tenant && !api_tenant(src, tenant, rs))
		json_decref(w.list);
	else if (store_alloc_foreach(src->store, alloc_add, &w))
		json_decref(w.list), admin_error(rs, 500, "the store failed");
	else
		admin_json(rs, 200, w.list);
	g_free(tenant);
}

/* ---- users ------------------------------------------------------- */

void api_user_add(void *arg, const struct admin_req *rq, struct admin_resp *rs)
{
	struct api_src *src = arg;
	json_t *o = body_object(rq, rs);
	const char *tn, *name, *pass;
	const struct conf_tenant *t;
	struct store_user u;
	char md5[65];

	if (!o)
		return;
	if (!(tn = member_str(o, "tenant", true, rs)) ||
	    !(name = member_str(o, "username", true, rs)) ||
	    !(pass = member_str(o, "password", true, rs)) ||
	    !(t = api_tenant(src, tn, rs)))
		goto out;
	/* '/', "." and ".." could not be named in DELETE's path */
	if (!*name || strpbrk(name, "\"\\@:;/ \t\r\n") || !strcmp(name, ".") ||
	    !strcmp(name, "..") || strlen(name) >= sizeof u.username) {
		admin_error(rs, 400, "'username' must be 1-127 characters without "
			    "quotes, '@', ':', ';', '/' or spaces");
		goto out;
	}
	if (strlen(pass) < 8) {
		admin_error(rs, 400, "'password' must have at least 8 characters");
		goto out;
	}
	memset(&u, 0, sizeof u);
	snprintf(u.tenant, sizeof u.tenant, "%s", t->name);
	snprintf(u.username, sizeof u.username, "%s", name);
	auth_digest_ha1(AUTH_DIGEST_MD5, name, t->domain, pass, md5);
	auth_digest_ha1(AUTH_DIGEST_SHA256, name, t->domain, pass, u.ha1_sha256);
	snprintf(u.ha1_md5, sizeof u.ha1_md5, "%.32s", md5);
	if (store_user_put(src->store, &u))
		admin_error(rs, 500, "the store failed");
	else
		admin_json(rs, 201, json_pack("{s:s, s:s, s:s}", "tenant", t->name,
			   "username", name, "realm", t->domain));
out:
	json_decref(o);
}

void api_user_del(void *arg, const struct admin_req *rq, struct admin_resp *rs)
{
	struct api_src *src = arg;
	int err;

	if (!api_tenant(src, rq->args[0], rs))
		return;
	err = store_user_del(src->store, rq->args[0], rq->args[1]);
	if (err == ENOENT)
		admin_error(rs, 404, "no user '%.64s' in tenant %.64s", rq->args[1],
			    rq->args[0]);
	else if (err)
		admin_error(rs, 500, "the store failed");
	else
		admin_json(rs, 200, json_pack("{s:s, s:s, s:s}", "tenant",
			   rq->args[0], "username", rq->args[1], "state", "deleted"));
}

/* ---- ring groups and agents -------------------------------------- */

static size_t devices_of(struct api_src *src, const struct conf_tenant *t,
			 const char *num)
{
	struct wic_target tg[8];
	char aor[128];

	snprintf(aor, sizeof aor, "sip:%s@%s", num, t->domain);
	return wic_lookup(src->wic, aor, tg, 8);
}

static json_t *member_json(struct api_src *src, const struct conf_tenant *t,
			   const struct conf_group *g, const char *m)
{
	struct svc_agent_info i;
	char num[NUMRANGE_NUM_MAX];
	const char *state;

	if (!numrange_norm(m, num))
		snprintf(num, sizeof num, "%s", m);
	(void)svc_agent_info(src->svc, t->name, num, &i);
	state = i.paused ? "paused" : i.calls ? "on a call" :
		i.idle_secs >= 0 && i.idle_secs < g->wrap_up ? "wrap-up" :
		"available";
	return json_pack("{s:s, s:s, s:i, s:b, s:I, s:I}", "number", num,
			 "state", state, "calls", (int)i.calls, "paused", i.paused,
			 "idle_seconds", (json_int_t)i.idle_secs,
			 "devices", (json_int_t)devices_of(src, t, num));
}

void api_groups(void *arg, const struct admin_req *rq, struct admin_resp *rs)
{
	struct api_src *src = arg;
	const struct conf *conf = *src->conf;
	json_t *list = json_array();

	(void)rq;
	for (size_t i = 0; i < conf->tenant_count; i++) {
		const struct conf_tenant *t = &conf->tenants[i];
		for (size_t k = 0; k < t->services.group_count; k++) {
			const struct conf_group *g = &t->services.groups[k];
			json_t *ms = json_array();
			for (size_t m = 0; g->members[m]; m++)
				json_array_append_new(ms, member_json(src, t, g,
								      g->members[m]));
			json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s, "
				"s:i, s:i, s:s, s:b, s:i, s:o}", "tenant", t->name,
				"number", g->number, "name", g->name,
				"strategy", g->strategy,
				"member_timeout", g->member_timeout,
				"timeout", g->timeout, "overflow", g->overflow,
				"call_waiting", g->call_waiting,
				"wrap_up", g->wrap_up, "members", ms));
		}
	}
	admin_json(rs, 200, list);
}

static void agent_set(struct api_src *src, const struct admin_req *rq,
		      struct admin_resp *rs, bool paused)
{
	char num[NUMRANGE_NUM_MAX];
	const struct conf_tenant *t = api_tenant(src, rq->args[0], rs);

	if (!t)
		return;
	if (!numrange_norm(rq->args[1], num)) {
		admin_error(rs, 400, "'%.64s' is not a number", rq->args[1]);
		return;
	}
	/* resuming stays possible for a number the ranges lost */
	if (paused && !owned(src, t, num, rs))
		return;
	if (store_agent_pause(src->store, rq->args[0], num, paused))
		admin_error(rs, 500, "the store failed");
	else
		admin_json(rs, 200, json_pack("{s:s, s:s, s:b}", "tenant",
			   rq->args[0], "number", num, "paused", paused));
}

void api_agent_pause(void *arg, const struct admin_req *rq,
		     struct admin_resp *rs)
{
	agent_set(arg, rq, rs, true);
}

void api_agent_resume(void *arg, const struct admin_req *rq,
		      struct admin_resp *rs)
{
	agent_set(arg, rq, rs, false);
}

/* ---- diversion settings ------------------------------------------ */

static json_t *diversion_json(const struct store_diversion *d,
			      const char *source)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:s}",
			 "tenant", d->tenant, "identity", d->identity,
			 "unconditional", d->unconditional, "busy", d->busy,
			 "no_answer", d->no_answer, "not_reachable",
			 d->not_reachable, "no_answer_time", d->no_answer_time,
			 "source", source);
}

static void conf_diversion(const struct conf_tenant *t,
			   const struct conf_diversion *c,
			   struct store_diversion *d)
{
	memset(d, 0, sizeof *d);
	snprintf(d->tenant, sizeof d->tenant, "%s", t->name);
	if (!numrange_norm(c->identity, d->identity))
		snprintf(d->identity, sizeof d->identity, "%s", c->identity);
	snprintf(d->unconditional, sizeof d->unconditional, "%s", c->unconditional);
	snprintf(d->busy, sizeof d->busy, "%s", c->busy);
	snprintf(d->no_answer, sizeof d->no_answer, "%s", c->no_answer);
	snprintf(d->not_reachable, sizeof d->not_reachable, "%s", c->not_reachable);
	d->no_answer_time = c->no_answer_time;
}

static int store_row_add(void *arg, const struct store_diversion *d)
{
	json_array_append_new(arg, diversion_json(d, "store"));
	return 0;
}

void api_diversions(void *arg, const struct admin_req *rq,
		    struct admin_resp *rs)
{
	struct api_src *src = arg;
	const struct conf *conf = *src->conf;
	char *tenant = api_query(rq, "tenant");
	json_t *list = json_array();
	struct store_diversion d, s;

	if (tenant && !api_tenant(src, tenant, rs)) {
		json_decref(list);
		g_free(tenant);
		return;
	}
	for (size_t i = 0; i < conf->tenant_count; i++) {
		const struct conf_tenant *t = &conf->tenants[i];
		if (tenant && strcmp(tenant, t->name))
			continue;
		for (size_t k = 0; k < t->services.diversion_count; k++) {
			conf_diversion(t, &t->services.diversions[k], &d);
			if (store_diversion_get(src->store, t->name, d.identity, &s))
				json_array_append_new(list, diversion_json(&d, "config"));
		}
	}
	store_diversion_foreach(src->store, tenant, store_row_add, list);
	admin_json(rs, 200, list);
	g_free(tenant);
}

/* The tenant and normalised number of a /api/diversions/T/N request. */
static const struct conf_tenant *diversion_key(struct api_src *src,
					       const struct admin_req *rq,
					       struct admin_resp *rs,
					       char num[NUMRANGE_NUM_MAX])
{
	const struct conf_tenant *t = api_tenant(src, rq->args[0], rs);

	if (t && !numrange_norm(rq->args[1], num)) {
		admin_error(rs, 400, "'%.64s' is not a number", rq->args[1]);
		return NULL;
	}
	return t;
}

void api_diversion_get(void *arg, const struct admin_req *rq,
		       struct admin_resp *rs)
{
	struct api_src *src = arg;
	char num[NUMRANGE_NUM_MAX];
	const struct conf_tenant *t = diversion_key(src, rq, rs, num);
	struct store_diversion d;
	char a[NUMRANGE_NUM_MAX];

	if (!t)
		return;
	if (!store_diversion_get(src->store, t->name, num, &d)) {
		admin_json(rs, 200, diversion_json(&d, "store"));
		return;
	}
	for (size_t k = 0; k < t->services.diversion_count; k++) {
		const struct conf_diversion *c = &t->services.diversions[k];
		if (numrange_norm(c->identity, a) && !strcmp(a, num)) {
			conf_diversion(t, c, &d);
			admin_json(rs, 200, diversion_json(&d, "config"));
			return;
		}
	}
	admin_error(rs, 404, "no diversion for %s in tenant %s", num, t->name);
}

/* A target as the configuration accepts it: "", a number or a URI. */
static bool target_ok(const char *v)
{
	char num[NUMRANGE_NUM_MAX];

	return !*v || !strncmp(v, "sip:", 4) || !strncmp(v, "tel:", 4) ||
	       numrange_norm(v, num);
}

static bool diversion_fill(json_t *o, struct store_diversion *d,
			   struct admin_resp *rs)
{
	const char *keys[] = { "unconditional", "busy", "no_answer",
			       "not_reachable" };
	char *dst[] = { d->unconditional, d->busy, d->no_answer, d->not_reachable };
	json_t *t = json_object_get(o, "no_answer_time");

	for (size_t i = 0; i < 4; i++) {
		const char *v = member_str(o, keys[i], false, rs);
		if (!v)
			return false;
		if (!target_ok(v) || strlen(v) >= sizeof d->busy) {
			admin_error(rs, 400, "'%s' must be a number or a sip:/tel: "
				    "URI (or empty)", keys[i]);
			return false;
		}
		snprintf(dst[i], sizeof d->busy, "%s", v);
	}
	if (t && (!json_is_integer(t) || json_integer_value(t) < 0 ||
		  json_integer_value(t) > 3600)) {
		admin_error(rs, 400, "'no_answer_time' must be an integer 0..3600");
		return false;
	}
	d->no_answer_time = t ? (int)json_integer_value(t) : 0;
	return true;
}

void api_diversion_put(void *arg, const struct admin_req *rq,
		       struct admin_resp *rs)
{
	struct api_src *src = arg;
	char num[NUMRANGE_NUM_MAX];
	const struct conf_tenant *t = diversion_key(src, rq, rs, num);
	struct store_diversion d;
	json_t *o;

	if (!t || !owned(src, t, num, rs) || !(o = body_object(rq, rs)))
		return;
	memset(&d, 0, sizeof d);
	snprintf(d.tenant, sizeof d.tenant, "%s", t->name);
	snprintf(d.identity, sizeof d.identity, "%s", num);
	if (diversion_fill(o, &d, rs)) {
		if (store_diversion_put(src->store, &d))
			admin_error(rs, 500, "the store failed");
		else
			admin_json(rs, 200, diversion_json(&d, "store"));
	}
	json_decref(o);
}

void api_diversion_del(void *arg, const struct admin_req *rq,
		       struct admin_resp *rs)
{
	struct api_src *src = arg;
	char num[NUMRANGE_NUM_MAX];
	const struct conf_tenant *t = diversion_key(src, rq, rs, num);
	int err;

	if (!t)
		return;
	err = store_diversion_del(src->store, t->name, num);
	if (err == ENOENT)
		admin_error(rs, 404, "no stored diversion for %s in tenant %s",
			    num, t->name);
	else if (err)
		admin_error(rs, 500, "the store failed");
	else
		admin_json(rs, 200, json_pack("{s:s, s:s, s:s}", "tenant", t->name,
			   "identity", num, "state", "deleted"));
}
