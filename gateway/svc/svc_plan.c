/**
 * @file svc_plan.c  What a call to a number of a tenant does: a user's
 * diversion settings (the store's row, else the configuration's), or a
 * ring group with the members that can take a call now, in the order its
 * strategy rings them. Agents' state (calls in progress, idle since) comes
 * from the call core's busy hook; paused agents from the store.
 */
#include "svc_priv.h"
#include "conf/conf.h"
#include "store/store.h"
#include "util/log.h"
#include "util/numrange.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "tenant/number": the key of an agent or of a group's rotation. */
static char *agent_key(const char *tenant, const char *number)
{
	return g_strdup_printf("%s/%s", tenant, number);
}

static const struct svc_agent *agent_get(const struct svc *s,
					 const char *tenant, const char *number)
{
	char *key = agent_key(tenant, number);
	const struct svc_agent *a = g_hash_table_lookup(s->agents, key);

	g_free(key);
	return a;
}

/* An agent's number as the agents table keys it (normalised, so that a
 * member written "+49 30 ..." or "tel:+4930..." in the configuration finds
 * the state its calls left); a party that is no number stays as it is. */
static const char *agent_number(const char *number, char num[NUMRANGE_NUM_MAX])
{
	return numrange_norm(number, num) ? num : number;
}

void svc_busy(void *arg, const char *tenant, const char *number, bool busy)
{
	struct svc *s = arg;
	char num[NUMRANGE_NUM_MAX];
	char *key = agent_key(tenant, agent_number(number, num));
	struct svc_agent *a = g_hash_table_lookup(s->agents, key);

	if (!a) {
		a = g_new0(struct svc_agent, 1);
		g_hash_table_insert(s->agents, key, a);
	} else {
		g_free(key);
	}
	if (busy) {
		a->calls++;
	} else if (a->calls && !--a->calls) {
		a->idle_since = g_get_monotonic_time();
	}
}

/* True when @p a and @p b are the same number once normalised. */
static bool same_number(const char *a, const char *b)
{
	char na[NUMRANGE_NUM_MAX], nb[NUMRANGE_NUM_MAX];

	return numrange_norm(a, na) && numrange_norm(b, nb) && !strcmp(na, nb);
}

static void copy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

/* A user's diversion: the store's settings, else the configuration's. */
static void plan_user(const struct svc *s, const struct conf_services *sv,
		      const char *tenant, const char *number,
		      struct call_plan *p)
{
	struct store_diversion d;
	unsigned secs = 0;

	if (s->store && !store_diversion_get(s->store, tenant, number, &d)) {
		copy(p->unconditional, sizeof p->unconditional, d.unconditional);
		copy(p->busy, sizeof p->busy, d.busy);
		copy(p->no_answer, sizeof p->no_answer, d.no_answer);
		copy(p->not_reachable, sizeof p->not_reachable, d.not_reachable);
		secs = (unsigned)d.no_answer_time;
	} else {
		for (size_t i = 0; i < sv->diversion_count; i++) {
			const struct conf_diversion *c = &sv->diversions[i];
			if (!same_number(c->identity, number))
				continue;
			copy(p->unconditional, sizeof p->unconditional, c->unconditional);
			copy(p->busy, sizeof p->busy, c->busy);
			copy(p->no_answer, sizeof p->no_answer, c->no_answer);
			copy(p->not_reachable, sizeof p->not_reachable, c->not_reachable);
			secs = (unsigned)c->no_answer_time;
			break;
		}
	}
	p->no_answer_time = secs ? secs : (unsigned)sv->no_answer_time;
}

/* Why a member cannot take a call now, or NULL when it can. */
static const char *member_unavailable(const struct svc *s, const char *tenant,
				      const struct conf_group *g,
				      const char *number)
{
	const struct svc_agent *a = agent_get(s, tenant, number);
	bool paused = false;

	if (s->store && !store_agent_paused(s->store, tenant, number, &paused) &&
	    paused)
		return "paused";
	if (a && a->calls && !g->call_waiting)
		return "on a call";
	if (a && !a->calls && a->idle_since && g->wrap_up &&
	    g_get_monotonic_time() < a->idle_since + (gint64)g->wrap_up * G_USEC_PER_SEC)
		return "in wrap-up";
	return NULL;
}

/* When a member (as the configuration writes it) last ended a call;
 * 0: never. */
static gint64 idle_since(const struct svc *s, const char *tenant,
			 const char *member)
{
	char num[NUMRANGE_NUM_MAX];
	const struct svc_agent *a = agent_get(s, tenant, agent_number(member, num));

	return a ? a->idle_since : 0;
}

/* The members' order for this call: config order, rotated for round
 * robin, or longest idle first (never-called members first, in order). */
static size_t group_order(struct svc *s, const char *tenant,
			  const struct conf_group *g, const char **order)
{
	size_t n = 0, start = 0;

	while (g->members[n] && n < CALL_GROUP_MAX)
		n++;
	if (g->strategy_id == CONF_RING_ROUND_ROBIN && n) {
		char *key = agent_key(tenant, g->number);
		start = GPOINTER_TO_SIZE(g_hash_table_lookup(s->rr, key)) % n;
		g_hash_table_insert(s->rr, key, GSIZE_TO_POINTER((start + 1) % n));
	}
	for (size_t i = 0; i < n; i++)
		order[i] = g->members[(start + i) % n];
	if (g->strategy_id != CONF_RING_LONGEST_IDLE)
		return n;
	for (size_t i = 1; i < n; i++) {        /* stable insertion sort */
		const char *m = order[i];
		gint64 t = idle_since(s, tenant, m);
		size_t j = i;
		for (; j > 0; j--) {
			if (idle_since(s, tenant, order[j - 1]) <= t)
				break;
			order[j] = order[j - 1];
		}
		order[j] = m;
	}
	return n;
}

static void plan_group(struct svc *s, const char *tenant,
		       const struct conf_group *g, struct call_plan *p)
{
	const char *order[CALL_GROUP_MAX];
	size_t n = group_order(s, tenant, g, order);
	char num[NUMRANGE_NUM_MAX];

	p->kind = CALL_PLAN_GROUP;
	copy(p->group, sizeof p->group, *g->name ? g->name : g->number);
	p->hunt = g->strategy_id != CONF_RING_SIMULTANEOUS;
	p->member_timeout = (unsigned)g->member_timeout;
	p->timeout = (unsigned)g->timeout;
	copy(p->overflow, sizeof p->overflow, g->overflow);
	for (size_t i = 0; i < n; i++) {
		const char *why;
		if (!numrange_norm(order[i], num))
			continue;
		why = member_unavailable(s, tenant, g, num);
		if (why) {
			log_info("svc", 0, "tenant %s: group %s: member %s skipped: %s",
				 tenant, p->group, num, why);
			continue;
		}
		copy(p->members[p->member_count++], sizeof p->members[0], num);
	}
}

void svc_in_plan(void *arg, const char *tenant, const char *number,
		 struct call_plan *p)
{
	struct svc *s = arg;
	const struct svc_tenant *t = svc_tenant_find(s, tenant);
	const struct conf_services *sv;

	if (!t)
		return;
	sv = &t->conf->services;
	p->max_diversions = (unsigned)sv->max_diversions;
	p->announce = sv->announce_diversion;
	for (size_t i = 0; i < sv->group_count; i++) {
		if (same_number(sv->groups[i].number, number)) {
			plan_group(s, tenant, &sv->groups[i], p);
			return;
		}
	}
	plan_user(s, sv, tenant, number, p);
}

int svc_agent_info(const struct svc *s, const char *tenant, const char *number,
		   struct svc_agent_info *out)
{
	char num[NUMRANGE_NUM_MAX];
	const struct svc_agent *a = agent_get(s, tenant, agent_number(number, num));
	int err = 0;

	memset(out, 0, sizeof *out);
	out->calls = a ? a->calls : 0;
	out->idle_secs = a && a->idle_since ?
		(long)((g_get_monotonic_time() - a->idle_since) / G_USEC_PER_SEC) : -1;
	if (s->store)
		err = store_agent_paused(s->store, tenant, agent_number(number, num),
					 &out->paused);
	return err;
}
