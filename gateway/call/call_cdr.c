/**
 * @file call_cdr.c  What a call leaves behind: its correlation id (in each
 * of its log lines), the counters of the metrics, and one record when it
 * ends, with its legs, its times, its status and what the services did
 * (handed to the services' record hook, which keeps it in the store).
 */
#include "call_priv.h"
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
	call->notes = json_array();
	call->legs = json_array();
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

	if (!call->notes)
		return;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	json_array_append_new(call->notes,
			      json_pack("{s:s, s:s, s:I}", "service", service,
					"what", what, "at", (json_int_t)now_ms()));
}

/* Adds a leg unless a leg with that Call-ID is listed already. */
static void legs_add(struct call *call, const char *side, const char *role,
		     const char *call_id)
{
	size_t i;
	json_t *l;

	if (!call->legs || !call_id || !*call_id)
		return;
	json_array_foreach((json_t *)call->legs, i, l) {
		const char *id = json_string_value(json_object_get(l, "call_id"));
		if (id && !strcmp(id, call_id))
			return;
	}
	json_array_append_new(call->legs,
			      json_pack("{s:s, s:s, s:s}", "side", side,
					"role", role, "call_id", call_id));
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
	legs = call->legs ? json_dumps(call->legs, JSON_COMPACT) : NULL;
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
	free(legs);
	free(notes);
	json_decref(call->legs);
	json_decref(call->notes);
	call->legs = call->notes = NULL;
}

const struct call_stats *call_core_stats(const struct call_core *cc)
{
	return &cc->stats;
}
