/**
 * @file fuzz_wic.c  libFuzzer harness for the WebSocket edge
 * (gateway/wic/): SIP messages as they arrive on one WebSocket flow, each
 * through wic_flow_on_message(): Sofia's parser and the edge's checks
 * (wic_sip_parse), the transaction layer (retransmissions, CANCEL, ACK),
 * authentication (Bearer tokens, digest challenges, anonymous users), the
 * registrar and the identity sets, and the identity checks on requests
 * handed to the call core.
 *
 * The input is one WebSocket session: messages separated by a line "~~~".
 * An optional first part starting with "GET " stands for the HTTP upgrade
 * request: its Origin line picks the flow's Origin, and a token in its
 * "Authorization: Bearer" line or "?access_token=" authenticates the flow
 * as at the handshake (a refused one ends the input, as the handshake
 * would). Without it the flow comes from the tenant's page, unauthenticated.
 *
 * The fixture (fixture.c) is the edge with a test configuration and no
 * socket; in place of the call core, a stand-in answers what the edge
 * hands over: INVITE by the last digit of the Request-URI's user part
 * (0-3: 200 with a UAS dialog, 4-6: 180 and left ringing, 7-9: 486, other:
 * 404), CANCEL of a ringing INVITE 487, anything else 200. What must hold:
 * no crash, no leak, and every message the edge sends is well-formed SIP.
 */
#include "tests/fuzz/fixture.h"
#include "gateway/wic/wic_priv.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_tag.h>

#define MAX_PENDING 16
#define MAX_DIALOGS 16

/* The stand-in's state for one input. */
static struct {
	struct wic_strans *ringing[MAX_PENDING];
	size_t nringing;
	struct wic_dialog *dialogs[MAX_DIALOGS];
	size_t ndialogs;
} sim;

static const char sdp_answer[] =
	"v=0\r\no=- 1 2 IN IP4 192.0.2.9\r\ns=-\r\nt=0 0\r\n"
	"a=group:BUNDLE 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
	"c=IN IP4 0.0.0.0\r\na=mid:0\r\na=ice-ufrag:abcd\r\n"
	"a=ice-pwd:abcdefghijklmnopqrstuvwx\r\n"
	"a=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:"
	"FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF\r\n"
	"a=setup:active\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\n";

static void ringing_drop(struct wic_strans *st)
{
	for (size_t i = 0; i < sim.nringing; i++)
		if (sim.ringing[i] == st)
			sim.ringing[i] = sim.ringing[--sim.nringing];
}

static void on_invite(struct wic_strans *st, const sip_t *sip)
{
	const char *user = sip->sip_request->rq_url->url_user;
	char last = user && *user ? user[strlen(user) - 1] : 'x';
	struct wic_dialog *d = NULL;

	if (!isdigit((unsigned char)last)) {
		wic_strans_reply(st, SIP_404_NOT_FOUND, TAG_END());
	} else if (last <= '3') {
		if (sim.ndialogs < MAX_DIALOGS &&
		    !wic_dialog_uas(st, "<sip:wtpf@wtpf.invalid;transport=ws>", &d))
			sim.dialogs[sim.ndialogs++] = d;
		wic_strans_reply(st, SIP_200_OK,
				 SIPTAG_CONTACT_STR("<sip:wtpf@wtpf.invalid;transport=ws>"),
				 SIPTAG_CONTENT_TYPE_STR("application/sdp"),
				 SIPTAG_PAYLOAD_STR(sdp_answer), TAG_END());
	} else if (last <= '6' && sim.nringing < MAX_PENDING) {
		wic_strans_reply(st, SIP_180_RINGING, TAG_END());
		sim.ringing[sim.nringing++] = st;
	} else {
		wic_strans_reply(st, SIP_486_BUSY_HERE, TAG_END());
	}
}

/* The stand-in for the call core's request handler. */
static void on_request(void *arg, struct wic_flow *flow, struct wic_strans *st,
		       msg_t *msg, sip_t *sip)
{
	(void)arg;
	(void)flow;
	(void)msg;
	for (size_t i = 0; i < sim.ndialogs; i++)
		(void)wic_dialog_matches(sim.dialogs[i], sip);
	if (!st)
		return;                      /* ACK of a 2xx */
	if (sip->sip_request->rq_method == sip_method_cancel) {
		ringing_drop(st);            /* st is the INVITE */
		wic_strans_reply(st, SIP_487_REQUEST_TERMINATED, TAG_END());
	} else if (sip->sip_request->rq_method == sip_method_invite) {
		on_invite(st, sip);
	} else {
		wic_strans_reply(st, SIP_200_OK, TAG_END());
	}
}

/* As the call core does for a flow that closes: its calls end. */
static void on_closed(void *arg, struct wic_flow *flow)
{
	(void)arg;
	(void)flow;
	while (sim.nringing)
		wic_strans_reply(sim.ringing[--sim.nringing],
				 SIP_487_REQUEST_TERMINATED, TAG_END());
}

static int reg_seen(void *arg, const struct wic_reg_info *r)
{
	(void)arg;
	if (!r->aor || !r->tenant || !r->number || !r->contact || !r->instance ||
	    !r->impi || !r->peer)
		abort();
	return 0;
}

/* With FUZZ_TRACE set, the first line of each message the edge sends. */
static void trace(void *arg, const char *data, size_t len)
{
	const char *eol = memchr(data, '\r', len);

	(void)arg;
	fprintf(stderr, "  <- %.*s\n", (int)(eol ? eol - data : (long)len), data);
}

/* The next part of [*p, end): up to a line "~~~" (LF or CRLF). */
static size_t part_next(const char **p, const char *end, const char **part)
{
	const char *s = *p, *q;

	*part = s;
	for (q = s; q < end; q++) {
		if (*q != '\n' || end - q < 4 || memcmp(q + 1, "~~~", 3))
			continue;
		if (q + 4 == end || q[4] == '\n') {
			*p = q + 4 < end ? q + 5 : end;
			return (size_t)(q + 1 - s);
		}
		if (end - q >= 6 && q[4] == '\r' && q[5] == '\n') {
			*p = q + 6;
			return (size_t)(q + 1 - s);
		}
	}
	*p = end;
	return (size_t)(end - s);
}

/* A header line's value in the upgrade request, copied into @p buf. */
static bool hs_header(const char *req, size_t len, const char *name,
		      char *buf, size_t size)
{
	size_t n = strlen(name);

	for (const char *l = req, *end = req + len; l < end;) {
		const char *eol = memchr(l, '\n', (size_t)(end - l));
		size_t ll = (size_t)((eol ? eol : end) - l);
		if (ll > n && !strncasecmp(l, name, n) && l[n] == ':') {
			const char *v = l + n + 1;
			size_t vl = ll - n - 1;
			while (vl && (*v == ' ' || *v == '\t'))
				v++, vl--;
			while (vl && (v[vl - 1] == '\r' || v[vl - 1] == ' '))
				vl--;
			if (vl >= size)
				vl = size - 1;
			memcpy(buf, v, vl);
			buf[vl] = '\0';
			return true;
		}
		l = eol ? eol + 1 : end;
	}
	return false;
}

/* The upgrade request: Origin and a token; NULL when it is refused. */
static struct wic_flow *handshake(struct fixture *fx, const char *req,
				  size_t len)
{
	char origin[256] = "", auth[8192] = "", *tok = NULL;
	const char *q = memmem(req, len, "access_token=", 13);
	struct wic_flow *flow;

	if (!hs_header(req, len, "Origin", origin, sizeof origin) || !*origin ||
	    !wic_origin_allowed(fx->wic, origin))
		return NULL;
	if (hs_header(req, len, "Authorization", auth, sizeof auth) &&
	    !strncasecmp(auth, "Bearer ", 7)) {
		tok = auth + 7;
	} else if (q) {
		size_t n = 0, max = (size_t)(req + len - q - 13);
		while (n < max && !strchr(" &\r\n", q[13 + n]))
			n++;
		if (n >= sizeof auth)
			n = sizeof auth - 1;
		memcpy(auth, q + 13, n);
		auth[n] = '\0';
		tok = auth;
	}
	flow = fixture_flow_open(fx, origin);
	if (tok && fixture_flow_token(fx, flow, tok)) {
		fixture_flow_close(flow);
		return NULL;
	}
	return flow;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fixture *fx = fixture_get(FIXTURE_WIC);
	const char *p = (const char *)data, *end = p + size, *part;
	struct wic_flow *flow;
	size_t len;

	wic_request_handler_set(fx->wic, on_request, NULL);
	wic_flow_closed_handler_set(fx->wic, on_closed, NULL);
	memset(&sim, 0, sizeof sim);
	len = part_next(&p, end, &part);
	if (len >= 4 && !memcmp(part, "GET ", 4)) {
		flow = handshake(fx, part, len);
		if (!flow)
			return 0;
		len = part_next(&p, end, &part);
	} else {
		flow = fixture_flow_open(fx, FIXTURE_ORIGIN);
	}
	for (;;) {
		fixture_flow_message(flow, part, len);
		fixture_flow_drain(flow, getenv("FUZZ_TRACE") ? trace : NULL, NULL);
		if (flow->close_code || p >= end)
			break;
		len = part_next(&p, end, &part);
	}
	wic_registrations(fx->wic, NULL, reg_seen, NULL);
	fixture_pump(fx, 2);
	fixture_flow_drain(flow, NULL, NULL);
	fixture_flow_close(flow);
	for (size_t i = 0; i < sim.ndialogs; i++)
		wic_dialog_destroy(sim.dialogs[i]);
	return 0;
}
