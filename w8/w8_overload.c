/**
 * @file w8_overload.c  Overload protection of a trunk's inbound side: new
 * INVITEs from IMS are refused with 503 while too many answered calls
 * from IMS wait for their ACK (trunk.overload_pending_acks).
 *
 * An ACK follows its 2xx within a round trip. When thousands wait, the
 * gateway is behind on reading its trunk: the ACKs sit in the socket
 * behind INVITEs it has not read yet. Each such 2xx also sits in nta's
 * retransmission list, which nta keeps sorted by walking it from the head
 * at every insertion (each new INVITE's own timer among them), so every
 * INVITE then costs more, fewer are answered in time, and more wait. A
 * 503 costs far less than a call, so refusing new calls lets the gateway
 * read on to the ACKs and recover, and the calls it takes still complete.
 *
 * The trunk counts as overloaded from the moment the count reaches the
 * limit until it is back to half of it, so that it does not flap. The log
 * says when an overload begins, every W8_OVERLOAD_LOG_S seconds while it
 * lasts, and when it ends, each time with the INVITEs refused: never a
 * line per refusal, which would add to the load.
 */
#include "w8_priv.h"
#include "conf/conf.h"
#include "util/log.h"

#include <glib.h>

#define W8_OVERLOAD_LOG_S 10

void w8_overload_ack_wait(struct w8_leg *leg, bool waiting)
{
	struct w8_trunk *t;
	size_t limit;

	if (leg->awaiting_ack == waiting)
		return;
	t = leg->trunk;
	limit = (size_t)t->conf->overload_pending_acks;
	leg->awaiting_ack = waiting;
	if (waiting && ++t->acks_pending >= limit && limit)
		t->overloaded = true;
	else if (!waiting && --t->acks_pending <= limit / 2)
		t->overloaded = false;
}

bool w8_overload_refuse(struct w8_trunk *t)
{
	if (!t->overloaded)
		return false;
	t->overload_refused++;
	return true;
}

void w8_overload_tick(struct w8_trunk *t)
{
	int64_t now = g_get_monotonic_time();
	unsigned long fresh = t->overload_refused - t->overload_logged;
	bool begun = t->overload_log_at != 0;   /* logged as begun */
	const char *name = t->conf->name;

	if (!t->overloaded && !fresh) {
		if (begun)
			log_warn("w8", 0, "trunk %s: no longer overloaded: %zu "
				 "answered calls await their ACK; %lu INVITEs "
				 "from IMS were refused", name, t->acks_pending,
				 t->overload_refused - t->overload_began);
		t->overload_log_at = 0;
		return;
	}
	if (!begun) {
		/* the count now may be below the limit it reached */
		log_warn("w8", 0, "trunk %s: overloaded: answered calls from "
			 "IMS awaiting their ACK reached overload_pending_acks "
			 "(%d; %zu now): new INVITEs from IMS get 503; %lu so "
			 "far", name, t->conf->overload_pending_acks,
			 t->acks_pending, fresh);
		t->overload_began = t->overload_logged;
	} else if (now - t->overload_log_at < W8_OVERLOAD_LOG_S * G_USEC_PER_SEC) {
		return;
	} else {
		log_warn("w8", 0, "trunk %s: overload: %lu INVITEs from IMS "
			 "refused in the last %d s; %zu answered calls await "
			 "their ACK", name, fresh, W8_OVERLOAD_LOG_S,
			 t->acks_pending);
	}
	t->overload_logged = t->overload_refused;
	t->overload_log_at = now;
}

size_t w8_trunk_acks_pending(const struct w8_trunk *t)
{
	return t->acks_pending;
}

unsigned long w8_trunk_overload_refused(const struct w8_trunk *t)
{
	return t->overload_refused;
}
