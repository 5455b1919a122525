/**
 * @file w8_ring.c  The provisional response of an incoming call that is
 * still ringing, repeated toward IMS every trunk.ringing_refresh seconds
 * (RFC 3261 section 13.3.1.1: a proxy may cancel an INVITE after three
 * minutes without a response).
 *
 * Sofia-SIP would repeat it itself (its "N2" timer, NTATAG_PROGRESS), but
 * nta keeps those timers in one list sorted by expiry and inserts each
 * by walking it from the head: every 180 sent walked every call ringing.
 * Under overload, when answers come late, thousands ring at once, and the
 * walk took most of the gateway's core; it then answered fewer calls, so
 * more rang, and it did not recover while the load lasted. The trunk's
 * nua is therefore created with that timer off (w8.c), and the trunk's
 * one-second tick (w8.c) walks the trunk's legs here.
 */
#include "w8_priv.h"
#include "conf/conf.h"

#include <string.h>
#include <glib.h>
#include <sofia-sip/su_alloc.h>

/* Keeps a copy of @p s in @p slot, unless it holds the same text. */
static void ring_keep(su_home_t *home, char **slot, const char *s)
{
	if (*slot == s || (*slot && s && !strcmp(*slot, s)))
		return;
	su_free(home, *slot);
	*slot = s ? su_strdup(home, s) : NULL;
}

void w8_ring_note(struct w8_leg *leg, int status, const char *phrase,
		  const char *sdp, const char *extra)
{
	su_home_t *home = nua_handle_home(leg->nh);

	if (status >= 200 || leg->require_100rel) {
		/* final, or reliable provisionals: nta repeats those until
		 * their PRACK, and a new one would need a PRACK of its own */
		leg->ring.status = 0;
		return;
	}
	if (status <= 100)
		return;
	leg->ring.status = status;
	leg->ring.at = g_get_monotonic_time();
	ring_keep(home, &leg->ring.phrase, phrase);
	ring_keep(home, &leg->ring.sdp, sdp);
	ring_keep(home, &leg->ring.extra, extra);
}

void w8_ring_tick(struct w8_trunk *t)
{
	int64_t due = g_get_monotonic_time() -
		      (int64_t)t->conf->ringing_refresh * G_USEC_PER_SEC;
	struct w8_leg *leg, *next;

	for (leg = t->legs; leg; leg = next) {
		next = leg->le_next;
		if (leg->ring.status && !leg->answered && !leg->terminated &&
		    leg->ring.at <= due)
			w8_leg_respond(leg, leg->ring.status, leg->ring.phrase,
				       leg->ring.sdp, leg->ring.extra);
	}
}
