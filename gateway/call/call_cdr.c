/**
 * @file call_cdr.c  What a call leaves behind: its correlation id (in each
 * of its log lines), the counters of the metrics, and one record when it
 * ends, with its legs, its times, its status and what the services did
 * (handed to the services' record hook, which keeps it in the store).
 */
#include "call_priv.h"
#include "util/jsonstr.h"
#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include <jansson.h>

static long long now_ms(void)
{
	return g_get_real_time() / 1000;
}

static unsigned dir_index(const struct call *call)
{
	return call->dir == CALL_OUT ? 0 : 1;
}

void call_cdr_start(struct call *call)
{
	snprintf(call->corr, sizeof call->corr, "%08x%08x", g_random_int(),
		 g_random_int());
	call->started_ms = now_ms();
	call->recording = true;
	call->cc->stats.started[dir_index(call)]++;
}

void call_cdr_answered(struct call *call)
{
	if (call->answered_ms)
		return;
	call->answered_ms = now_ms();
	call->status = 200;
	call->cc->stats.answered[dir_index(call)]++;
}

void call_note(struct call *call, const char *service, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	if (!call->recording)
		return;
	if (!call->notes)
		call->notes = json_array();
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	json_array_append_new(call->notes,
			      json_pack("{s:s, s:s, s:I}", "service", service,
					"what", what, "at", (json_int_t)now_ms()));
}

/*
 * Adds a leg unless a leg with that Call-ID is listed already. A Call-ID
 * that is not UTF-8 cannot be JSON text and is left out.
 */
static void legs_add(struct call *call, const char *side, const char *role,
		     const char *call_id)
{
	struct call_legrec *l;

	if (!call->recording || !call_id || !*call_id ||
	    !g_utf8_validate(call_id, -1, NULL))
		return;
	for (unsigned i = 0; i < call->nlegs; i++) {
		if (!strcmp(call->legs[i].call_id, call_id))
			return;
	}
	l = realloc(call->legs, (call->nlegs + 1) * sizeof *l);
	if (!l)
		return;
	call->legs = l;
	l += call->nlegs;
	l->call_id = strdup(call_id);
	if (!l->call_id)
		return;
	l->side = side;
	l->role = role;
	call->nlegs++;
}

void call_cdr_legs(struct call *call)
{
	if (call->wd)
		legs_add(call, "wic", "browser", wic_dialog_call_id(call->wd));
	if (call->leg)
		legs_add(call, "ims", call->xfer_from ? "transferred party" :
			 call->dir == CALL_OUT ? "called party" : "caller",
			 w8_leg_call_id(call->leg));
	if (call->fwd)
		legs_add(call, "ims", "diversion or transfer target",
			 w8_leg_call_id(call->fwd));
}

/* The legs as a JSON array of {"side", "role", "call_id"}. */
static char *legs_json(const struct call *call)
{
	GString *out = g_string_sized_new(64 + 160 * call->nlegs);

	g_string_append_c(out, '[');
	for (unsigned i = 0; i < call->nlegs; i++) {
		const struct call_legrec *l = &call->legs[i];

		g_string_append(out, i ? ",{\"side\":" : "{\"side\":");
		jsonstr_append(out, l->side);
		g_string_append(out, ",\"role\":");
		jsonstr_append(out, l->role);
		g_string_append(out, ",\"call_id\":");
		jsonstr_append(out, l->call_id);
		g_string_append_c(out, '}');
	}
	g_string_append_c(out, ']');
	return g_string_free(out, FALSE);
}

void call_cdr_free(struct call *call)
{
	for (unsigned i = 0; i < call->nlegs; i++)
		free(call->legs[i].call_id);
	free(call->legs);
	json_decref(call->notes);
	call->legs = NULL;
	call->nlegs = 0;
	call->notes = NULL;
	call->recording = false;
}

/* The status of a call that was never answered, when none was set. */
static int cdr_status(const struct call *call, const char *why)
{
	if (call->status)
		return call->status;
	return why && strstr(why, "cancel") ? 487 : 0;
}

static void cdr_count(struct call *call, int status)
{
	unsigned slot = status >= 300 && status < 700 ? (unsigned)(status - 300)
						      : CALL_STATUS_SLOTS - 1;

	if (!call->answered_ms)
		call->cc->stats.failed[dir_index(call)][slot]++;
}

void call_cdr_end(struct call *call, const char *why)
{
	const struct call_hooks *h = call->cc->hooks;
	char *legs, *notes;
	int status = cdr_status(call, why);

	cdr_count(call, status);
	call_cdr_legs(call);
	legs = call->recording ? legs_json(call) : NULL;
	notes = call->notes ? json_dumps(call->notes, JSON_COMPACT) : NULL;
	if (h && h->record) {
		struct call_record r = {
			.corr = call->corr,
			.direction = call->dir == CALL_OUT ? "outbound" : "inbound",
			.tenant = call->tenant,
			.user = call->aor,
			.remote = call->remote ? call->remote : "",
			.started = call->started_ms,
			.answered = call->answered_ms,
			.ended = now_ms(),
			.status = status,
			.reason = why ? why : "",
			.legs = legs ? legs : "[]",
			.services = notes ? notes : "[]",
		};
		h->record(call->cc->hooks_arg, &r);
	}
	g_free(legs);
	free(notes);
	call_cdr_free(call);
}

const struct call_stats *call_core_stats(const struct call_core *cc)
{
	return &cc->stats;
}
