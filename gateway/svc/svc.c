/**
 * @file svc.c  Number transformation, barring and emergency numbers per
 * tenant, and the hook table (svc_plan.c has diversion and ring groups).
 */
#include "svc_priv.h"
#include "conf/conf.h"
#include "util/log.h"
#include "util/numrange.h"
#include "util/rewrite.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void rules_free(struct svc_rules *l)
{
	for (size_t i = 0; i < l->n; i++)
		rewrite_free(l->r[i]);
	free(l->r);
	l->r = NULL;
	l->n = 0;
}

/* Compiles @p n rules (match/replace), or patterns when @p pats is set. */
static int rules_build(struct svc_rules *l, const struct conf_rule *rules,
		       conf_strv_t pats, size_t n, const char *tenant)
{
	l->r = calloc(n + 1, sizeof *l->r);
	if (!l->r)
		return ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const char *why = "";
		const char *m = pats ? pats[i] : rules[i].match;
		if (rewrite_compile(&l->r[i], m, pats ? NULL : rules[i].replace,
				    &why)) {
			log_err("svc", 0, "tenant %s: rule '%s': %s", tenant, m, why);
			return EINVAL;
		}
		l->n = i + 1;
	}
	return 0;
}

static size_t strv_len(conf_strv_t v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

static void tenants_free(struct svc_tenant *ts, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		rules_free(&ts[i].dial_plan);
		rules_free(&ts[i].caller);
		rules_free(&ts[i].barred);
	}
	free(ts);
}

static int tenants_build(const struct conf *conf, struct svc_tenant **tsp)
{
	struct svc_tenant *ts = calloc(conf->tenant_count + 1, sizeof *ts);
	int err = ts ? 0 : ENOMEM;

	for (size_t i = 0; !err && i < conf->tenant_count; i++) {
		const struct conf_tenant *t = &conf->tenants[i];
		const struct conf_services *s = &t->services;
		ts[i].conf = t;
		err = rules_build(&ts[i].dial_plan, s->dial_plan, NULL,
				  s->dial_plan_count, t->name);
		if (!err)
			err = rules_build(&ts[i].caller, s->caller_display, NULL,
					  s->caller_display_count, t->name);
		if (!err)
			err = rules_build(&ts[i].barred, NULL, s->barred,
					  strv_len(s->barred), t->name);
	}
	if (err) {
		tenants_free(ts, ts ? conf->tenant_count : 0);
		return err;
	}
	*tsp = ts;
	return 0;
}

int svc_create(struct svc **sp, const struct conf *conf, struct store *store)
{
	struct svc *s = calloc(1, sizeof *s);
	int err;

	if (!s)
		return ENOMEM;
	s->store = store;
	s->agents = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	s->rr = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	err = svc_reload(s, conf);
	if (err) {
		svc_destroy(s);
		return err;
	}
	*sp = s;
	return 0;
}

int svc_reload(struct svc *s, const struct conf *conf)
{
	struct svc_tenant *ts = NULL;
	int err = tenants_build(conf, &ts);

	if (err)
		return err;
	tenants_free(s->tenants, s->ntenants);
	s->tenants = ts;
	s->ntenants = conf->tenant_count;
	s->cdr_commit_ms = (unsigned)conf->store.cdr_commit_ms;
	if (!s->cdr_commit_ms)
		svc_cdr_flush(s);
	return 0;
}

void svc_destroy(struct svc *s)
{
	if (!s)
		return;
	svc_cdr_flush(s);
	tenants_free(s->tenants, s->ntenants);
	if (s->agents)
		g_hash_table_destroy(s->agents);
	if (s->rr)
		g_hash_table_destroy(s->rr);
	free(s);
}

const struct svc_tenant *svc_tenant_find(const struct svc *s,
					 const char *name)
{
	for (size_t i = 0; i < s->ntenants; i++)
		if (!strcmp(s->tenants[i].conf->name, name))
			return &s->tenants[i];
	return NULL;
}

/* The first rule of @p l that rewrites @p in, into @p out. */
static bool rules_apply(const struct svc_rules *l, const char *in, char *out,
			size_t size)
{
	for (size_t i = 0; i < l->n; i++)
		if (rewrite_apply(l->r[i], in, out, size) == 1)
			return true;
	return false;
}

static bool rules_match(const struct svc_rules *l, const char *in)
{
	for (size_t i = 0; i < l->n; i++)
		if (rewrite_matches(l->r[i], in))
			return true;
	return false;
}

bool svc_is_emergency(const struct svc_tenant *t, const char *dialled)
{
	char a[NUMRANGE_NUM_MAX], b[NUMRANGE_NUM_MAX];
	conf_strv_t e = t->conf->services.emergency;

	if (!numrange_norm(dialled, a))
		return false;
	for (size_t i = 0; e && e[i]; i++)
		if (numrange_norm(e[i], b) && !strcmp(a, b))
			return true;
	return false;
}

/*
 * The number a dial plan's URI result names (a tel: URI's number, a sip:
 * URI's user part), so that barring patterns written for numbers see it;
 * NULL when @p target is no such URI.
 */
static const char *target_number(const char *target, char *buf, size_t size)
{
	const char *p;
	size_t n;

	if (!strncmp(target, "tel:", 4)) {             /* tel:NUMBER[;params] */
		p = target + 4;
		n = strcspn(p, ";?");
	} else if (!strncmp(target, "sip:", 4) || !strncmp(target, "sips:", 5)) {
		p = strchr(target, ':') + 1;           /* sip:USER[;params]@host */
		if (!strchr(p, '@'))
			return NULL;
		n = strcspn(p, ";@");
	} else {
		return NULL;
	}
	snprintf(buf, size, "%.*s", (int)n, p);
	return buf;
}

static void svc_out_route(void *arg, const char *tenant, const char *dialled,
			  struct call_out_route *r)
{
	const struct svc_tenant *t = svc_tenant_find(arg, tenant);
	char out[sizeof r->target], num[sizeof r->target];
	const char *n;

	if (!t)
		return;
	if (svc_is_emergency(t, dialled)) {
		r->emergency = true;
		return;
	}
	if (rules_apply(&t->dial_plan, dialled, out, sizeof out))
		snprintf(r->target, sizeof r->target, "%s", out);
	/* barred as dialled or as it would reach IMS (also the number in a
	 * URI the dial plan made) */
	n = target_number(r->target, num, sizeof num);
	if (rules_match(&t->barred, dialled) || rules_match(&t->barred, r->target) ||
	    (n && rules_match(&t->barred, n))) {
		log_info("svc", 0, "tenant %s: %s is barred", tenant, dialled);
		r->status = 403;
		r->phrase = "Destination Barred";
	}
}

static bool svc_in_caller(void *arg, const char *tenant, const char *number,
			  char *out, size_t size)
{
	const struct svc_tenant *t = svc_tenant_find(arg, tenant);

	return t && rules_apply(&t->caller, number, out, size);
}

static const struct call_hooks hooks = {
	.out_route = svc_out_route,
	.in_caller = svc_in_caller,
	.in_plan = svc_in_plan,
	.busy = svc_busy,
	.record = svc_record,
};

const struct call_hooks *svc_hooks(void)
{
	return &hooks;
}
