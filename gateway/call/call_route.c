/**
 * @file call_route.c  Where an inbound call goes: the services' plan for
 * the called number (struct call_plan) run step by step. A user's devices
 * ring, with diversion unconditional, on busy, on no answer (a timer) and
 * when not reachable; a ring group rings its members all at once or one
 * after the other, and overflows after its timeout. Each diversion adds a
 * History-Info entry (RFC 7044) with its cause (RFC 4458) and, where the
 * trunk asks for it, a Diversion entry (RFC 5806); a hop limit and a loop
 * check bound them. A target outside the gateway gets a new W8 leg
 * (call_fwd.c).
 *
 * Each step bumps route.stage: branches of an earlier step are cancelled
 * and their answers no longer count.
 */
#include "call_priv.h"
#include "conf/conf.h"
#include "util/log.h"
#include "util/numrange.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sofia-sip/sip_header.h>

static void route_number(struct call *call, const char *called);
static void route_user(struct call *call);
static void route_group(struct call *call);
static void route_divert(struct call *call, int cause, const char *target);

/* ---- history --------------------------------------------------------- */

/* The number an entry's URI names (tel: number or sip: user), normalised. */
static bool hi_number(const char *entry, char num[NUMRANGE_NUM_MAX])
{
	const char *p = strchr(entry, '<');
	char user[64];
	size_t n;

	if (!p)
		return false;
	p++;
	if (!strncasecmp(p, "tel:", 4))
		p += 4;
	else if (!strncasecmp(p, "sip:", 4))
		p += 4;
	else if (!strncasecmp(p, "sips:", 5))
		p += 5;
	else
		return false;
	n = strcspn(p, ";@>?");
	if (n >= sizeof user)
		return false;
	memcpy(user, p, n);
	user[n] = '\0';
	return numrange_norm(user, num);
}

static void visited_add(struct call *call, const char *num)
{
	struct call_route *r = &call->route;

	if (!r->visited)
		r->visited = g_ptr_array_new_with_free_func(g_free);
	g_ptr_array_add(r->visited, g_strdup(num));
}

static bool visited_has(const struct call *call, const char *num)
{
	const GPtrArray *v = call->route.visited;

	for (guint i = 0; v && i < v->len; i++)
		if (!strcmp(g_ptr_array_index(v, i), num))
			return true;
	return false;
}

/* One entry of a History-Info value: counts causes, notes numbers and the
 * last index. */
static void hi_entry(struct call *call, const char *e)
{
	struct call_route *r = &call->route;
	char num[NUMRANGE_NUM_MAX];
	const char *idx = strcasestr(e, "index=");

	if (strcasestr(e, "cause="))
		r->diversions++;
	if (hi_number(e, num))
		visited_add(call, num);
	if (idx) {
		g_free(r->hi_last);
		r->hi_last = g_strndup(idx + 6, strcspn(idx + 6, ";, \t>"));
	}
}

/* Each entry of a History-Info value: the entries are split at commas
 * outside <...> and quotes ("<a>;index=1, <b>;index=1.1;mp=1" holds two). */
static void hi_entries(struct call *call, const char *v)
{
	const char *start = v;
	int angle = 0;
	bool quoted = false;

	for (const char *p = v;; p++) {
		if (*p == '\0' || (*p == ',' && !angle && !quoted)) {
			char *e = g_strndup(start, (gsize)(p - start));
			hi_entry(call, e);
			g_free(e);
			if (*p == '\0')
				break;
			start = p + 1;
		} else if (*p == '"') {
			quoted = !quoted;
		} else if (!quoted && *p == '<') {
			angle++;
		} else if (!quoted && *p == '>' && angle) {
			angle--;
		}
	}
}

void call_route_history_in(struct call *call, const sip_t *sip)
{
	struct call_route *r = &call->route;
	GString *all = g_string_new(NULL);

	for (const sip_unknown_t *u = sip->sip_unknown; u; u = u->un_next) {
		if (!u->un_name || strcasecmp(u->un_name, "History-Info") ||
		    !u->un_value)
			continue;
		hi_entries(call, u->un_value);
		g_string_append_printf(all, "%s%s", all->len ? ", " : "",
				       u->un_value);
	}
	if (all->len)
		r->history = g_string_free(all, FALSE);
	else
		g_string_free(all, TRUE);
	if (r->diversions)
		call_log(call, "arrives after %u diversion(s)", r->diversions);
}

/* A number as a URI of the trunk's network (as History-Info names it). */
static char *hi_uri(const struct call *call, const char *number, int cause)
{
	const struct conf_trunk *t = call->trunk;
	char c[24] = "";

	if (cause)
		snprintf(c, sizeof c, ";cause=%d", cause);
	if (!strncmp(number, "sip:", 4) || !strncmp(number, "tel:", 4))
		return g_strdup_printf("%s%s", number, c);
	if (!t || t->tel_uri)
		return g_strdup_printf("tel:%s%s", number, c);
	return g_strdup_printf("sip:%s@%s;user=phone%s", number, t->domain, c);
}

static const char *diversion_reason(int cause)
{
	switch (cause) {
	case 302: return "unconditional";
	case 486: return "user-busy";
	case 408: return "no-answer";
	case 503: return "unavailable";
	default: return "unknown";
	}
}

/* Appends the entries of one diversion from the served number to @p to. */
static void history_add(struct call *call, int cause, const char *to)
{
	struct call_route *r = &call->route;
	char *from_uri = hi_uri(call, r->served, 0), *to_uri = hi_uri(call, to, cause);
	char *idx, *hist, *div;

	if (!r->history) {          /* the original target comes first */
		r->history = g_strdup_printf("<%s>;index=1", from_uri);
		g_free(r->hi_last);
		r->hi_last = g_strdup("1");
	}
	idx = g_strdup_printf("%s.1", r->hi_last);
	hist = g_strdup_printf("%s, <%s>;index=%s;mp=%s", r->history, to_uri,
			       idx, r->hi_last);
	g_free(r->history);
	r->history = hist;
	g_free(r->hi_last);
	r->hi_last = idx;
	/* RFC 5806: the most recent diversion first */
	div = g_strdup_printf("<%s>;reason=%s;counter=1%s%s", from_uri,
			      diversion_reason(cause), r->diversion ? ", " : "",
			      r->diversion ? r->diversion : "");
	g_free(r->diversion);
	r->diversion = div;
	g_free(from_uri);
	g_free(to_uri);
}

/* ---- timers and branches ------------------------------------------- */

static void timer_stop(guint *id)
{
	if (*id)
		g_source_remove(*id);
	*id = 0;
}

/* Cancels every branch still ringing (any step). */
static void route_cancel_open(struct call *call)
{
	for (size_t i = 0; i < call->branch_count; i++) {
		struct call_branch *b = call->branches[i];
		if (!b->done && b->ct)
			wic_ctrans_cancel(b->ct, NULL);
	}
}

/* A new step: earlier branches stop counting and ringing. */
static void route_next_stage(struct call *call)
{
	timer_stop(&call->route.ring_timer);
	route_cancel_open(call);
	call->route.stage++;
}

void call_route_free(struct call *call)
{
	struct call_route *r = &call->route;

	timer_stop(&r->ring_timer);
	timer_stop(&r->group_timer);
	free(r->plan);
	r->plan = NULL;
}

/* Frees what call_route_free() leaves (with the call). */
static void route_strings_free(struct call_route *r)
{
	g_free(r->history);
	g_free(r->hi_last);
	g_free(r->diversion);
	if (r->visited)
		g_ptr_array_free(r->visited, TRUE);
	free(r->offer_wic);
	free(r->offer_ims);
	memset(r, 0, sizeof *r);
}

void call_route_destroy(struct call *call)
{
	call_route_free(call);
	route_strings_free(&call->route);
}

/* ---- the steps ---------------------------------------------------- */

static gboolean on_no_answer(gpointer arg)
{
	struct call *call = arg;

	call->route.ring_timer = 0;
	call_log(call, "%s did not answer in %u s", call->route.served,
		 call->route.plan->no_answer_time);
	route_divert(call, 408, call->route.plan->no_answer);
	return G_SOURCE_REMOVE;
}

static void route_user(struct call *call)
{
	struct call_route *r = &call->route;
	const struct call_plan *p = r->plan;

	if (*p->unconditional) {
		route_divert(call, 302, p->unconditional);
		return;
	}
	size_t n = call_in_ring(call, r->served);

	call_log(call, "inbound call for %s: %zu device(s)", r->served, n);
	if (!n) {
		if (*p->not_reachable)
			route_divert(call, 503, p->not_reachable);
		else
			call_in_fail(call, 480, "No Registered Device",
				     "nobody registered");
		return;
	}
	if (*p->no_answer)
		r->ring_timer = g_timeout_add(p->no_answer_time * 1000u,
					      on_no_answer, call);
}

/* The group's last resort: its overflow target, else 480. */
static void route_overflow(struct call *call, int cause)
{
	struct call_route *r = &call->route;

	timer_stop(&r->group_timer);
	if (*r->plan->overflow) {
		call_log(call, "group %s overflows", r->plan->group);
		call_note(call, "ring_group", "%s overflows", r->plan->group);
		route_divert(call, cause, r->plan->overflow);
	} else {
		call_in_fail(call, 480, "No Agent Available",
			     "no member of the group answered");
	}
}

static gboolean on_group_timeout(gpointer arg)
{
	struct call *call = arg;

	call->route.group_timer = 0;
	call_log(call, "group %s: timeout", call->route.plan->group);
	route_next_stage(call);
	route_overflow(call, 408);
	return G_SOURCE_REMOVE;
}

static void route_hunt_next(struct call *call);

static gboolean on_member_timeout(gpointer arg)
{
	struct call *call = arg;

	call->route.ring_timer = 0;
	route_hunt_next(call);
	return G_SOURCE_REMOVE;
}

/* Hunting: the next member with a device, for member_timeout seconds. */
static void route_hunt_next(struct call *call)
{
	struct call_route *r = &call->route;
	const struct call_plan *p = r->plan;

	route_next_stage(call);
	while (r->hunt_next < p->member_count) {
		const char *m = p->members[r->hunt_next++];
		if (call_in_ring(call, m)) {
			call_log(call, "group %s: ringing member %s", p->group, m);
			r->ring_timer = g_timeout_add(p->member_timeout * 1000u,
						      on_member_timeout, call);
			return;
		}
	}
	route_overflow(call, 408);
}

static void route_group(struct call *call)
{
	struct call_route *r = &call->route;
	const struct call_plan *p = r->plan;
	size_t rung = 0;

	call_log(call, "group %s: %zu member(s) can take the call", p->group,
		 p->member_count);
	call_note(call, "ring_group", "%s %s: %zu member(s) available", r->served,
		  p->group, p->member_count);
	if (!p->member_count) {
		route_overflow(call, 486);
		return;
	}
	r->group_timer = g_timeout_add(p->timeout * 1000u, on_group_timeout, call);
	if (p->hunt) {
		r->hunt_next = 0;
		route_hunt_next(call);
		return;
	}
	for (size_t i = 0; i < p->member_count; i++)
		rung += call_in_ring(call, p->members[i]) > 0;
	call_log(call, "group %s: ringing %zu member(s) at once", p->group, rung);
	if (!rung)
		route_overflow(call, 503);
}

void call_route_stage_failed(struct call *call, int status)
{
	const struct call_plan *p = call->route.plan;

	if (!p) {
		call_in_fail(call, status, NULL, "no device answered");
		return;
	}
	if (p->kind == CALL_PLAN_GROUP) {
		if (p->hunt) {
			route_hunt_next(call);
			return;
		}
		route_overflow(call, status == 486 || status == 600 ? 486 : 408);
		return;
	}
	if ((status == 486 || status == 600) && *p->busy)
		route_divert(call, 486, p->busy);
	else if ((status == 408 || status == 480) && *p->no_answer)
		route_divert(call, 408, p->no_answer);
	else
		call_in_fail(call, status, NULL, "no device answered");
}

/* A call to a number of the gateway: the services' plan, then its steps. */
static void route_number(struct call *call, const char *called)
{
	struct call_core *cc = call->cc;
	struct call_route *r = &call->route;
	char num[32];
	int err;

	route_next_stage(call);
	timer_stop(&r->group_timer);
	err = call_in_serves(cc, call->w8t, called, call->tenant,
			     sizeof call->tenant, num);
	if (err) {
		call_in_fail(call, 404, err == EPERM ? "Identity Set Withdrawn" :
			     "Not A Number Of This Gateway", err == EPERM ?
			     "the number's identity set is disabled" :
			     "number outside every tenant's ranges");
		return;
	}
	if (!w8_leg_is_local(call->leg) && call_tenant_full(call)) {
		char ra[32];

		call->status = 503;
		w8_leg_respond(call->leg, 503, "Too Many Calls For The Tenant",
			       NULL, call_retry_after(call, ra, sizeof ra));
		call->w8_final_sent = true;
		call_end(call, "tenant max_calls reached");
		return;
	}
	snprintf(r->served, sizeof r->served, "%s", num);
	visited_add(call, num);
	free(r->plan);
	r->plan = calloc(1, sizeof *r->plan);
	if (!r->plan) {
		call_in_fail(call, 500, NULL, "out of memory");
		return;
	}
	r->plan->max_diversions = 5;
	if (cc->hooks && cc->hooks->in_plan)
		cc->hooks->in_plan(cc->hooks_arg, call->tenant, num, r->plan);
	if (r->plan->kind == CALL_PLAN_GROUP)
		route_group(call);
	else
		route_user(call);
}

void call_route_start(struct call *call, const char *number)
{
	route_number(call, number);
}

/* A target outside the gateway: the dial plan and barring apply as for a
 * call a browser places (@p o: what they make of @p target). */
static void route_out_plan(struct call *call, const char *target,
			   struct call_out_route *o)
{
	struct call_core *cc = call->cc;

	memset(o, 0, sizeof *o);
	snprintf(o->target, sizeof o->target, "%s", target);
	if (cc->hooks && cc->hooks->out_route && call->tenant[0])
		cc->hooks->out_route(cc->hooks_arg, call->tenant, target, o);
}

/* A target outside the gateway, then a new leg toward IMS. */
void call_route_external(struct call *call, const char *target)
{
	struct call_out_route o;

	route_out_plan(call, target, &o);
	if (o.status) {
		call_in_fail(call, o.status, o.phrase, "diversion target refused");
		return;
	}
	if (call_fwd_start(call, o.target))
		call_in_fail(call, 480, "Diversion Failed",
			     "no leg toward the diversion target");
}

static void route_divert(struct call *call, int cause, const char *target)
{
	struct call_route *r = &call->route;
	const struct call_plan *p = r->plan;
	char num[NUMRANGE_NUM_MAX], tenant[64], mine[32];
	bool is_num = numrange_norm(target, num), internal;
	struct call_out_route o;

	route_next_stage(call);
	if (r->diversions >= p->max_diversions) {
		call_in_fail(call, 480, "Too Many Diversions", "hop limit reached");
		return;
	}
	if (is_num && visited_has(call, num)) {
		call_in_fail(call, 482, "Diversion Loop", "diversion loop");
		return;
	}
	internal = is_num && !call_in_serves(call->cc, call->w8t, num, tenant,
					     sizeof tenant, mine);
	if (!internal) {
		/* History-Info names the target the new INVITE goes to: the
		 * dial plan's result, which the loop check looks at too. */
		route_out_plan(call, is_num ? num : target, &o);
		if (o.status) {
			call_in_fail(call, o.status, o.phrase,
				     "diversion target refused");
			return;
		}
		is_num = numrange_norm(o.target, num);
		if (is_num && visited_has(call, num)) {
			call_in_fail(call, 482, "Diversion Loop", "diversion loop");
			return;
		}
	}
	r->diversions++;
	history_add(call, cause, internal ? num : o.target);
	call_log(call, "diverted from %s to %s (cause %d, %u of at most %u)",
		 r->served, internal ? num : o.target, cause, r->diversions,
		 p->max_diversions);
	call_note(call, "diversion", "%s -> %s (cause %d)", r->served,
		  internal ? num : o.target, cause);
	if (p->announce && call->state < CALL_ANSWERED)
		w8_leg_respond(call->leg, 181, "Call Is Being Forwarded", NULL, NULL);
	if (internal)
		route_number(call, num);
	else if (call_fwd_start(call, o.target))
		call_in_fail(call, 480, "Diversion Failed",
			     "no leg toward the diversion target");
}
