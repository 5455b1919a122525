/**
 * @file fuzz_w8.c  libFuzzer harness for the W8 trunk (w8/) and the call
 * core behind it: SIP messages as they arrive from the P-CSCF, sent over
 * loopback UDP from the P-CSCF's address to the trunk's port, so that
 * they take the gateway's own path: Sofia's transport and parser (with the
 * trunk's message class), nta's checks and transactions, nua's dialogs,
 * then w8_leg_incoming() (source check, withdrawn trunk, called number,
 * 100rel) and the call core (SDP checks and normalisation, caller identity
 * and Privacy, History-Info, number lookup, diversion, ring groups, forking
 * to the browsers and their answers, re-INVITE, UPDATE, INFO, BYE, CANCEL).
 *
 * The input is a sequence of messages separated by a line "~~~"; in each,
 * "@TOTAG@" and "@RSEQ@" stand for the To tag and RSeq of the last
 * response the trunk sent (so that a seed can go on in the dialog its
 * INVITE made, and PRACK), "@PCSCF@" and "@TRUNK@" for the host:port of
 * the P-CSCF and of the trunk. Between messages and after the last one the
 * loop runs until it is quiet. DNS look-ups go to 127.0.0.1 (the trunk's
 * resolv_conf), and requests without a route to the P-CSCF.
 *
 * The fixture (fixture.c) is the whole gateway but the sockets of the
 * WebSocket side: two browsers are registered on flows of their own,
 * +4930123400001 answers (180, then 200 with SDP) and +4930123400002 only
 * rings (a flow the gateway closes is closed, and the browser connects
 * and registers again); the P-CSCF (a UDP socket here) answers 486 to
 * INVITEs and 200 to other requests. After each input every call is ended.
 * What must hold: no crash, no leak, and what the gateway sends to the
 * browsers is well-formed SIP. Messages that reach a known overflow in
 * Sofia itself are not sent (sofia_lr_overflow()).
 */
#include "tests/fuzz/fixture.h"
#include "gateway/call/call.h"
#include "gateway/wic/wic_priv.h"
#include "util/sip_mclass.h"
#include "w8/w8_priv.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sofia-sip/msg_header.h>
#include <sofia-sip/nta_tag.h>
#include <sofia-sip/nua.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_tagarg.h>

static struct wic_flow *devices[2];   /* +...01 answers, +...02 rings */
static char totag[128], rseq[16];
static bool trace;

static const char sdp_answer[] =
	"v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
	"a=group:BUNDLE 0\r\na=msid-semantic: WMS\r\n"
	"m=audio 9 UDP/TLS/RTP/SAVPF 111 0 8 126\r\nc=IN IP4 0.0.0.0\r\n"
	"a=rtcp:9 IN IP4 0.0.0.0\r\na=ice-ufrag:Fc3Q\r\n"
	"a=ice-pwd:4GbnuZ1zaU5VQrU2XLJ8a+Lh\r\na=ice-options:trickle\r\n"
	"a=fingerprint:sha-256 4B:0E:16:5C:81:7E:7A:43:20:6F:46:25:5B:16:D5:8A:"
	"56:4B:0D:4D:64:1C:7B:83:63:9D:7E:4B:34:56:48:9E\r\n"
	"a=setup:active\r\na=mid:0\r\na=sendrecv\r\na=rtcp-mux\r\n"
	"a=rtpmap:111 opus/48000/2\r\na=rtpmap:0 PCMU/8000\r\n"
	"a=rtpmap:8 PCMA/8000\r\na=rtpmap:126 telephone-event/8000\r\n";

/* ---- the browsers -------------------------------------------------- */

/* A response to @p req built from its headers, sent back on the flow. */
static void device_reply(struct wic_flow *flow, msg_t *req, int status,
			 const char *phrase, bool sdp)
{
	sip_t *rq = sip_object(req);
	su_home_t home[1] = { SU_HOME_INIT(home) };
	char *to = rq->sip_to->a_tag ? NULL : "1fuzz";
	char *text;

	text = su_sprintf(home, "SIP/2.0 %d %s\r\nVia: %s\r\nFrom: %s\r\n"
		"To: %s%s%s\r\nCall-ID: %s\r\nCSeq: %u %s\r\n"
		"Contact: <sip:dev@dev.invalid;transport=ws>\r\n"
		"%sContent-Length: %zu\r\n\r\n%s", status, phrase,
		sip_header_as_string(home, (sip_header_t *)rq->sip_via),
		sip_header_as_string(home, (sip_header_t *)rq->sip_from),
		sip_header_as_string(home, (sip_header_t *)rq->sip_to),
		to ? ";tag=" : "", to ? to : "", rq->sip_call_id->i_id,
		rq->sip_cseq->cs_seq, rq->sip_cseq->cs_method_name,
		sdp ? "Content-Type: application/sdp\r\n" : "",
		sdp ? strlen(sdp_answer) : 0, sdp ? sdp_answer : "");
	if (text)
		fixture_flow_message(flow, text, strlen(text));
	su_home_deinit(home);
}

/* What a browser does with a request the gateway sent it. */
static void device_on(void *arg, const char *data, size_t len)
{
	struct wic_flow *flow = arg;
	msg_t *msg = msg_make(sip_mclass_extended(), 0, data, (ssize_t)len);
	sip_t *sip = msg ? sip_object(msg) : NULL;

	if (trace)
		fprintf(stderr, "  gw -> browser %lu: %.*s\n", flow->id,
			getenv("FUZZ_TRACE_ALL") ? (int)len :
			(int)strcspn(data, "\r"), data);
	if (!sip || !sip->sip_request) {
		msg_destroy(msg);
		return;
	}
	switch (sip->sip_request->rq_method) {
	case sip_method_invite:
		device_reply(flow, msg, 180, "Ringing", false);
		if (flow == devices[0])
			device_reply(flow, msg, 200, "OK", true);
		break;
	case sip_method_ack:
		break;
	case sip_method_cancel:
		device_reply(flow, msg, 200, "OK", false);
		break;
	default:
		device_reply(flow, msg, 200, "OK", false);
		break;
	}
	msg_destroy(msg);
}

static void device_register(struct fixture *fx, int i, const char *number);
static const char *const numbers[2] = { "+4930123400001", "+4930123400002" };

/* Takes what the gateway sent the browsers; a flow the gateway closed
 * (close_code set) is closed as libwebsockets would, and the browser
 * connects and registers again. */
static int devices_drain(struct fixture *fx)
{
	int n = 0;

	for (int i = 0; i < 2; i++) {
		while (devices[i] && devices[i]->out_head) {
			fixture_flow_drain(devices[i], device_on, devices[i]);
			n++;
		}
		if (devices[i] && devices[i]->close_code) {
			if (trace)
				fprintf(stderr, "  browser %lu closed (%d): "
					"connects again\n", devices[i]->id,
					devices[i]->close_code);
			fixture_flow_close(devices[i]);
			device_register(fx, i, numbers[i]);
			n++;
		}
	}
	return n;
}

static void device_register(struct fixture *fx, int i, const char *number)
{
	char impu[128], *tok, reg[2048];

	snprintf(impu, sizeof impu, "sip:%s@" FIXTURE_DOMAIN, number);
	tok = fixture_token(fx, number + 1, impu);
	devices[i] = fixture_flow_open(fx, FIXTURE_ORIGIN);
	snprintf(reg, sizeof reg,
		 "REGISTER sip:" FIXTURE_DOMAIN " SIP/2.0\r\n"
		 "Via: SIP/2.0/WSS dev%d.invalid;branch=z9hG4bKreg%d\r\n"
		 "Max-Forwards: 69\r\nTo: <%s>\r\nFrom: <%s>;tag=r%d\r\n"
		 "Call-ID: reg-%d\r\nCSeq: 1 REGISTER\r\n"
		 "Authorization: Bearer %s\r\n"
		 "Contact: <sip:dev%d@dev.invalid;transport=ws>;expires=3600;"
		 "+sip.instance=\"<urn:uuid:00000000-0000-0000-0000-00000000000%d>\"\r\n"
		 "Content-Length: 0\r\n\r\n", i, i, impu, impu, i, i, tok, i, i);
	fixture_flow_message(devices[i], reg, strlen(reg));
	fixture_flow_drain(devices[i], NULL, NULL);
	free(tok);
}

/* ---- the P-CSCF ---------------------------------------------------- */

static struct sockaddr_in trunk_addr(const struct fixture *fx)
{
	struct sockaddr_in a = { .sin_family = AF_INET };

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons(fx->trunk_port);
	return a;
}

static void pcscf_send(struct fixture *fx, const char *data, size_t len)
{
	struct sockaddr_in a = trunk_addr(fx);

	(void)sendto(fx->pcscf_fd, data, len, 0, (struct sockaddr *)&a, sizeof a);
}

/* A response of the P-CSCF to a request of the trunk. */
static void pcscf_answer(struct fixture *fx, sip_t *sip)
{
	su_home_t home[1] = { SU_HOME_INIT(home) };
	int status = sip->sip_request->rq_method == sip_method_invite ? 486 : 200;
	char *text = su_sprintf(home, "SIP/2.0 %d %s\r\nVia: %s\r\nFrom: %s\r\n"
		"To: %s%s\r\nCall-ID: %s\r\nCSeq: %u %s\r\nContent-Length: 0\r\n\r\n",
		status, status == 200 ? "OK" : "Busy Here",
		sip_header_as_string(home, (sip_header_t *)sip->sip_via),
		sip_header_as_string(home, (sip_header_t *)sip->sip_from),
		sip_header_as_string(home, (sip_header_t *)sip->sip_to),
		sip->sip_to->a_tag ? "" : ";tag=pcscf1", sip->sip_call_id->i_id,
		sip->sip_cseq->cs_seq, sip->sip_cseq->cs_method_name);

	if (text)
		pcscf_send(fx, text, strlen(text));
	su_home_deinit(home);
}

/* Reads what the trunk sent: keeps the To tag of responses, answers
 * requests. Returns how many datagrams there were. */
static int pcscf_drain(struct fixture *fx)
{
	char buf[65536];
	ssize_t n;
	int count = 0;

	while ((n = recv(fx->pcscf_fd, buf, sizeof buf, 0)) > 0) {
		msg_t *msg = msg_make(sip_mclass_extended(), 0, buf, n);
		sip_t *sip = msg ? sip_object(msg) : NULL;

		count++;
		if (trace)
			fprintf(stderr, "  gw -> pcscf: %.*s\n",
				getenv("FUZZ_TRACE_ALL") ? (int)n :
				(int)strcspn(buf, "\r"), buf);
		if (sip && sip->sip_status && sip->sip_to && sip->sip_to->a_tag)
			snprintf(totag, sizeof totag, "%s", sip->sip_to->a_tag);
		if (sip && sip->sip_status && sip->sip_rseq)
			snprintf(rseq, sizeof rseq, "%lu",
				 (unsigned long)sip->sip_rseq->rs_response);
		if (sip && sip->sip_request && sip->sip_via && sip->sip_from &&
			 sip->sip_to && sip->sip_call_id && sip->sip_cseq &&
			 sip->sip_request->rq_method != sip_method_ack)
			pcscf_answer(fx, sip);
		msg_destroy(msg);
	}
	return count;
}

/* Runs the loop, the browsers and the P-CSCF until nothing happens. */
static void settle(struct fixture *fx)
{
	int quiet = 0;

	for (int i = 0; i < 200 && quiet < 3; i++) {
		int n = devices_drain(fx) + pcscf_drain(fx);
		fixture_pump(fx, 8);
		quiet = n ? 0 : quiet + 1;
	}
}

static void w8_fixture(struct fixture *fx)
{
	trace = getenv("FUZZ_TRACE") != NULL;
	/* Answers go where requests came from, whatever their Via says
	 * (no datagram leaves the loopback for a mutated Via). */
	char proxy[64];

	snprintf(proxy, sizeof proxy, "sip:127.0.0.1:%u;transport=udp",
		 fx->pcscf_port);
	/* Requests without a route go to the P-CSCF, whatever their URI. */
	nua_set_params(fx->w8->trunks[0].nua, NTATAG_SERVER_RPORT(2),
		       NUTAG_PROXY(proxy), TAG_END());
	device_register(fx, 0, numbers[0]);
	device_register(fx, 1, numbers[1]);
	settle(fx);
}

/*
 * True when a Route or Record-Route line of @p p has a parameter whose
 * name starts with "lr" and goes on (";lrTTTT..."): Sofia-SIP 1.12's
 * url_param() then reads past a buffer of its own from
 * nua_dialog_uas_route() (README.md, finding 10). Such messages are not
 * sent, so that a run goes on to find what is ours.
 */
static bool sofia_lr_overflow(const char *p, size_t len)
{
	for (const char *l = p, *end = p + len; l < end;) {
		const char *eol = memchr(l, '\n', (size_t)(end - l));
		size_t n = (size_t)((eol ? eol : end) - l);
		if ((n > 6 && !strncasecmp(l, "Route:", 6)) ||
		    (n > 13 && !strncasecmp(l, "Record-Route:", 13))) {
			for (const char *q = l; q + 3 < l + n; q++)
				if (q[0] == ';' && !strncasecmp(q + 1, "lr", 2) &&
				    (isalnum((unsigned char)q[3]) || q[3] == '-' ||
				     q[3] == '.' || q[3] == '_'))
					return true;
		}
		l = eol ? eol + 1 : end;
	}
	return false;
}

/*
 * Sends one message with its placeholders filled in: "@TOTAG@" and
 * "@RSEQ@", the To tag and RSeq of the last response the trunk sent;
 * "@PCSCF@" and "@TRUNK@", the host:port of the P-CSCF and of the trunk.
 */
static void send_part(struct fixture *fx, const char *p, size_t len)
{
	char out[65536], pcscf[32], trunk[32];
	const char *const marks[][2] = {
		{ "@TOTAG@", totag }, { "@RSEQ@", rseq },
		{ "@PCSCF@", pcscf }, { "@TRUNK@", trunk },
	};
	size_t o = 0;

	snprintf(pcscf, sizeof pcscf, "127.0.0.1:%u", fx->pcscf_port);
	snprintf(trunk, sizeof trunk, "127.0.0.1:%u", fx->trunk_port);
	for (size_t i = 0; i < len && o < sizeof out - 128;) {
		size_t k, n = 0;
		for (k = 0; k < 4; k++) {
			n = strlen(marks[k][0]);
			if (len - i >= n && !memcmp(p + i, marks[k][0], n))
				break;
		}
		if (k < 4) {
			size_t vl = strlen(marks[k][1]);
			memcpy(out + o, marks[k][1], vl);
			o += vl;
			i += n;
		} else {
			out[o++] = p[i++];
		}
	}
	if (sofia_lr_overflow(out, o))
		return;
	if (trace)
		fprintf(stderr, "pcscf -> gw: %.*s\n", getenv("FUZZ_TRACE_ALL") ?
			(int)o : (int)strcspn(out, "\r"), out);
	pcscf_send(fx, out, o);
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	struct fixture *fx = fixture_get(FIXTURE_TRUNK);
	const char *p = (const char *)data, *end = p + size, *part;
	size_t len;

	if (!ready) {
		w8_fixture(fx);
		ready = true;
	}
	totag[0] = rseq[0] = '\0';
	while (p < end) {
		len = part_next(&p, end, &part);
		if (len)
			send_part(fx, part, len);
		settle(fx);
	}
	call_core_shutdown(fx->calls);
	settle(fx);
	return 0;
}
