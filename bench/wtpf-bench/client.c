/**
 * @file client.c  An emulated WebRTC client: its WebSocket, its
 * registration and the requests outside calls (see client.h).
 */
#include "bench/wtpf-bench/client.h"
#include "bench/wtpf-bench/auth.h"
#include "bench/wtpf-bench/bench.h"
#include "bench/wtpf-bench/call.h"
#include "bench/wtpf-bench/opts.h"
#include "bench/wtpf-bench/sip.h"
#include "bench/wtpf-bench/stats.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <libwebsockets.h>

#define RX_MAX (256u * 1024u)   /* larger messages are dropped */
#define ALLOW "INVITE, ACK, CANCEL, BYE, UPDATE, INFO, OPTIONS, NOTIFY, " \
	      "MESSAGE"

/** A frame waiting to be written, with the room lws_write() needs. */
struct bmsg {
	struct bmsg *next;
	size_t len;
	unsigned char data[];   /* LWS_PRE bytes, then the text */
};

static void reg_send(struct bclient *c);
static bool token_fresh(struct bclient *c, time_t now);
static void reg_timeout(struct btimer *t, void *arg);

void bclient_init(struct bench *b, struct bclient *c, uint32_t idx)
{
	const struct bopts *o = b->o;
	char u[33];

	memset(c, 0, sizeof *c);
	c->b = b;
	c->idx = idx;
	c->addr = o->naddrs ? o->addrs[idx % o->naddrs] : NULL;
	snprintf(c->user, sizeof c->user, o->user,
		 (unsigned)o->first_index + idx);
	bsip_token(c->cuser, 8);
	bsip_token(c->chost, 12);
	strcat(c->chost, ".invalid");
	bsip_token(u, 32);
	snprintf(c->instance, sizeof c->instance, "%.8s-%.4s-4%.3s-a%.3s-%.12s",
		 u, u + 8, u + 12, u + 15, u + 18);
	bsip_token(c->reg_callid, 20);
	bsip_token(c->reg_tag, 10);
	/* A browser comes with the token its web server gave it: minted
	 * here, before any phase is timed, not on the first REGISTER. */
	if (o->auth_kind == BOPTS_AUTH_BEARER)
		(void)token_fresh(c, time(NULL));
}

void bclient_aor(const struct bclient *c, char *out, size_t size)
{
	snprintf(out, size, "sip:%s@%s", c->user, c->b->o->domain);
}

void bclient_contact(const struct bclient *c, char *out, size_t size)
{
	snprintf(out, size, "<sip:%s@%s;transport=ws%s>", c->cuser, c->chost,
		 c->b->o->no_outbound ? "" : ";ob");
}

bool bclient_available(const struct bclient *c)
{
	return c->state == BCS_REGISTERED && !c->call && !c->reserved &&
	       !c->closing;
}

/* ---- sending ------------------------------------------------------- */

int bclient_send(struct bclient *c, const char *text, size_t len)
{
	struct bmsg *m;

	if (!c->wsi || (c->state != BCS_OPEN && c->state != BCS_REGISTERED))
		return ENOTCONN;
	m = malloc(sizeof *m + LWS_PRE + len);
	if (!m)
		return ENOMEM;
	m->next = NULL;
	m->len = len;
	memcpy(m->data + LWS_PRE, text, len);
	if (c->q_tail)
		c->q_tail->next = m;
	else
		c->q_head = m;
	c->q_tail = m;
	bstats_count(BCNT_MSGS_SENT, 1);
	bstats_count(BCNT_BYTES_SENT, len);
	if (c->b->o->verbose >= 3)
		fprintf(stderr, "[%s] >>>\n%.*s\n", c->user, (int)len, text);
	lws_callback_on_writable(c->wsi);
	return 0;
}

static void queue_free(struct bclient *c)
{
	while (c->q_head) {
		struct bmsg *m = c->q_head;
		c->q_head = m->next;
		free(m);
	}
	c->q_tail = NULL;
}

/* Writes one queued frame; -1 tells lws to close. */
static int on_writeable(struct bclient *c, struct lws *wsi)
{
	struct bmsg *m = c->q_head;

	if (m) {
		c->q_head = m->next;
		if (!c->q_head)
			c->q_tail = NULL;
		int n = lws_write(wsi, m->data + LWS_PRE, m->len, LWS_WRITE_TEXT);
		free(m);
		if (n < 0)
			return -1;
	}
	if (c->q_head) {
		lws_callback_on_writable(wsi);
		return 0;
	}
	if (c->closing) {
		lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
		return -1;
	}
	return 0;
}

/* ---- registration -------------------------------------------------- */

/* The first registration of @p c has ended, well or not. */
static void initial_done(struct bclient *c, bool ok)
{
	struct bench *b = c->b;

	if (c->ever_registered || c->reg_kind != BST_REGISTER)
		return;
	b->reg_done++;
	if (ok) {
		size_t marks[2];

		c->ever_registered = true;
		bench_reg_marks(b, marks);
		b->reg_ok++;
		if (b->reg_ok == marks[0])
			b->t_reg_tenth = btimer_now();
		if (b->reg_ok == marks[1])
			b->t_reg_ninth = btimer_now();
		if (b->reg_done == b->nclients)
			b->t_all_registered = btimer_now();
	} else {
		b->reg_failed++;
		c->reg_kind = BST__N;   /* counted */
	}
}

static void reg_end(struct bclient *c)
{
	btimer_cancel(&c->t_reg);
	if (c->reg_pending) {
		c->reg_pending = false;
		c->b->reg_pending--;
	}
}

static void reg_start(struct bclient *c, enum bstat kind, int expires)
{
	c->reg_kind = (uint8_t)kind;
	c->reg_t0 = btimer_now();
	c->reg_tries = 0;
	c->reg_expires = expires;
	c->reg_pending = true;
	c->b->reg_pending++;
	reg_send(c);
}

/* Mints the client's Bearer token unless it holds one good for another
 * minute. */
static bool token_fresh(struct bclient *c, time_t now)
{
	const struct bopts *o = c->b->o;
	char impu[96], *tok;
	const char *ip = NULL;

	if (c->token && c->token_exp - now >= 60)
		return true;
	if (*o->impu_base) {
		char num[40];
		bool plus = *o->impu_base == '+';
		unsigned long long base = strtoull(o->impu_base + plus, NULL, 10);

		snprintf(num, sizeof num, "%s%0*llu", plus ? "+" : "",
			 (int)strlen(o->impu_base + plus),
			 base + (unsigned)o->first_index + c->idx);
		snprintf(impu, sizeof impu, "sip:%s@%s", num, o->domain);
		ip = impu;
	}
	tok = bauth_jwt_mint(c->b->jwt, c->user, ip, now);
	if (!tok)
		return false;
	free(c->token);
	c->token = tok;
	c->token_exp = now + o->jwt_ttl;
	return true;
}

/* The Authorization line for a REGISTER, or "" ; false on failure. */
static bool reg_auth(struct bclient *c, const char *ruri, char *out,
		     size_t size)
{
	const struct bopts *o = c->b->o;

	out[0] = '\0';
	if (o->auth_kind == BOPTS_AUTH_BEARER)
		return token_fresh(c, time(NULL)) &&
		       snprintf(out, size, "Authorization: Bearer %s\r\n",
				c->token) < (int)size;
	if (o->auth_kind == BOPTS_AUTH_DIGEST && c->chal)
		return !bauth_digest_line(c->chal, c->user, o->password,
					  "REGISTER", ruri, out, size);
	return true;
}

static void reg_send(struct bclient *c)
{
	const struct bopts *o = c->b->o;
	char ruri[160], aor[160], contact[320], auth[2048], extra[2600];
	char branch[28], buf[4096];
	size_t len;

	snprintf(ruri, sizeof ruri, "sip:%s", o->domain);
	snprintf(aor, sizeof aor, "<sip:%s@%s>", c->user, o->domain);
	if (o->no_outbound)
		snprintf(contact, sizeof contact,
			 "<sip:%s@%s;transport=ws>;expires=%d", c->cuser,
			 c->chost, c->reg_expires);
	else
		snprintf(contact, sizeof contact,
			 "<sip:%s@%s;transport=ws>;+sip.ice;reg-id=1;"
			 "+sip.instance=\"<urn:uuid:%s>\";expires=%d",
			 c->cuser, c->chost, c->instance, c->reg_expires);
	if (!reg_auth(c, ruri, auth, sizeof auth)) {
		reg_end(c);
		bstats_fail((enum bstat)c->reg_kind, "credentials", NULL);
		initial_done(c, false);
		return;
	}
	snprintf(extra, sizeof extra, "Expires: %d\r\n%sAllow: %s\r\n"
		 "Supported: path, gruu%s\r\n",
		 c->reg_expires, auth, ALLOW, o->no_outbound ? "" : ", outbound");
	memcpy(branch, "z9hG4bK", 7);
	bsip_token(branch + 7, 16);
	memcpy(c->reg_branch, branch, sizeof branch);
	struct bsip_req r = {
		.method = "REGISTER", .ruri = ruri,
		.transport = c->b->via_transport, .via_host = c->chost,
		.branch = branch, .from = aor, .from_tag = c->reg_tag, .to = aor,
		.call_id = c->reg_callid, .cseq = ++c->reg_cseq,
		.contact = contact, .extra = extra,
	};
	len = bsip_req_build(&r, buf, sizeof buf);
	if (!len || bclient_send(c, buf, len)) {
		reg_end(c);
		bstats_fail((enum bstat)c->reg_kind, "send REGISTER", NULL);
		initial_done(c, false);
		return;
	}
	btimer_start(&c->t_reg, (uint64_t)(o->timeout * 1e6), reg_timeout, c);
}

static void refresh_due(struct btimer *t, void *arg)
{
	struct bclient *c = arg;

	(void)t;
	if (c->state == BCS_REGISTERED && !c->reg_pending && !c->closing)
		reg_start(c, BST_REFRESH, c->b->o->expires);
}

static void reg_timeout(struct btimer *t, void *arg)
{
	struct bclient *c = arg;
	char key[40];

	(void)t;
	snprintf(key, sizeof key, "timeout %s", bstat_name(c->reg_kind));
	reg_end(c);
	bstats_fail((enum bstat)c->reg_kind, key, NULL);
	if (c->reg_kind == BST_REGISTER) {
		initial_done(c, false);
		bclient_close(c);
	}
}

/* The expiry the registrar granted our Contact, or @p asked. */
static int granted_expiry(const struct bsip_msg *m, const struct bclient *c,
			  int asked)
{
	char me[48], val[16];

	snprintf(me, sizeof me, "%s@%s", c->cuser, c->chost);
	for (const struct bsip_hdr *h = bsip_msg_find(m, "Contact", NULL); h;
	     h = bsip_msg_find(m, "Contact", h)) {
		const char *hit = memmem(h->val, h->vlen, me, strlen(me));
		if (!hit)
			continue;
		while (hit > h->val && *hit != '<' && *hit != ',')
			hit--;
		if (!bsip_param(hit, h->vlen - (size_t)(hit - h->val), "expires",
				val, sizeof val))
			return atoi(val);
	}
	if (!bsip_msg_get(m, "Expires", 0, val, sizeof val))
		return atoi(val);
	return asked;
}

/* The number of P-Associated-URI: a tel: URI's, else a sip: one's user
 * part that is not the user name itself. */
static void learn_number(struct bclient *c, const struct bsip_msg *m)
{
	char uri[160], user[40], best[40] = "";

	for (const struct bsip_hdr *h = bsip_msg_find(m, "P-Associated-URI",
						      NULL);
	     h; h = bsip_msg_find(m, "P-Associated-URI", h)) {
		const char *v = h->val, *end = h->val + h->vlen;
		while (v < end) {
			size_t n = bsip_elem_len(v, (size_t)(end - v));
			if (!bsip_uri(v, n, uri, sizeof uri) &&
			    !bsip_uri_user(uri, user, sizeof user)) {
				if (!strncasecmp(uri, "tel:", 4)) {
					snprintf(c->number, sizeof c->number, "%s",
						 user);
					return;
				}
				if (!best[0] && strcmp(user, c->user))
					snprintf(best, sizeof best, "%s", user);
			}
			v += n + 1;
		}
	}
	if (best[0])
		snprintf(c->number, sizeof c->number, "%s", best);
}

static void reg_ok(struct bclient *c, const struct bsip_msg *m)
{
	const struct bopts *o = c->b->o;
	enum bstat kind = (enum bstat)c->reg_kind;
	int granted;

	bstats_ok(kind, btimer_now() - c->reg_t0);
	reg_end(c);
	if (kind == BST_UNREGISTER) {
		if (c->state == BCS_REGISTERED) {
			c->state = BCS_OPEN;
			c->b->registered--;
		}
		return;
	}
	if (c->state != BCS_REGISTERED) {
		c->state = BCS_REGISTERED;
		c->b->registered++;
	}
	initial_done(c, true);
	if (!c->number[0])
		learn_number(c, m);
	granted = granted_expiry(m, c, c->reg_expires);
	if (!o->no_auto_refresh && granted > 0) {
		double d = granted > 20 ? granted * (0.85 + 0.1 * drand48()) :
			granted / 2.0;
		btimer_start(&c->t_reg, (uint64_t)(d * 1e6), refresh_due, c);
	}
}

static void reg_on_response(struct bclient *c, const struct bsip_msg *m)
{
	const struct bopts *o = c->b->o;
	struct bauth_chal ch;
	char key[40];

	if (m->status < 200)
		return;
	if ((m->status == 401 || m->status == 407) &&
	    o->auth_kind == BOPTS_AUTH_DIGEST && c->reg_tries < 2 &&
	    !bauth_chal_pick(m, &ch)) {
		if (!c->chal && !(c->chal = malloc(sizeof *c->chal))) {
			reg_end(c);
			return;
		}
		*c->chal = ch;
		c->reg_tries++;
		bstats_count(BCNT_CHALLENGES, 1);
		reg_send(c);
		return;
	}
	if (m->status < 300) {
		reg_ok(c, m);
		return;
	}
	snprintf(key, sizeof key, "REGISTER %d", m->status);
	reg_end(c);
	bstats_fail((enum bstat)c->reg_kind, key, m->reason);
	if (c->b->o->verbose >= 1)
		fprintf(stderr, "wtpf-bench: %s: REGISTER: %d %s\n", c->user,
			m->status, m->reason);
	if (c->reg_kind == BST_REGISTER) {
		initial_done(c, false);
		bclient_close(c);
	}
}

int bclient_register(struct bclient *c, int expires)
{
	if (c->state != BCS_REGISTERED || c->closing)
		return ENOTCONN;
	if (c->reg_pending)
		return EBUSY;
	reg_start(c, expires ? BST_REFRESH : BST_UNREGISTER, expires);
	return 0;
}

/* ---- received messages --------------------------------------------- */

static void reply(struct bclient *c, const struct bsip_msg *m, int status,
		  const char *reason, const char *extra)
{
	char buf[4096], tag[12];
	size_t len;

	bsip_token(tag, 8);
	len = bsip_resp_build(m, status, reason, tag, extra, NULL, NULL, buf,
			      sizeof buf);
	if (len)
		bclient_send(c, buf, len);
}

static void on_request(struct bclient *c, const struct bsip_msg *m)
{
	if (bcall_on_request(c, m))
		return;
	if (!strcmp(m->method, "ACK"))
		return;
	if (!strcmp(m->method, "OPTIONS"))
		reply(c, m, 200, "OK", "Allow: " ALLOW "\r\nAccept: "
		      "application/sdp\r\n");
	else if (!strcmp(m->method, "NOTIFY") || !strcmp(m->method, "MESSAGE"))
		reply(c, m, 200, "OK", NULL);
	else
		reply(c, m, 501, "Not Implemented", NULL);
}

static void on_message(struct bclient *c, const char *buf, size_t len)
{
	struct bsip_msg m;
	char branch[64] = "";
	const struct bsip_hdr *via;

	bstats_count(BCNT_MSGS_RECV, 1);
	bstats_count(BCNT_BYTES_RECV, len);
	if (c->b->o->verbose >= 3)
		fprintf(stderr, "[%s] <<<\n%.*s\n", c->user, (int)len, buf);
	if (bsip_msg_parse(&m, buf, len)) {
		bstats_error("unparsable message", NULL);
		return;
	}
	if (!m.status) {
		on_request(c, &m);
		return;
	}
	via = bsip_msg_find(&m, "Via", NULL);
	bsip_param(via->val, via->vlen, "branch", branch, sizeof branch);
	if (c->reg_pending && !strcmp(branch, c->reg_branch))
		reg_on_response(c, &m);
	else if (!bcall_on_response(c, &m, branch) && c->b->o->verbose >= 2)
		fprintf(stderr, "wtpf-bench: %s: stray response %d\n", c->user,
			m.status);
}

static void on_receive(struct bclient *c, struct lws *wsi, const char *in,
		       size_t len)
{
	bool final = lws_is_final_fragment(wsi) &&
		     !lws_remaining_packet_payload(wsi);

	if (final && !c->rx_len) {
		on_message(c, in, len);
		return;
	}
	if (c->rx_len + len > RX_MAX) {
		bstats_error("message too large", NULL);
		c->rx_len = 0;
		return;
	}
	if (c->rx_len + len > c->rx_cap) {
		size_t nc = c->rx_len + len + 4096;
		char *n = realloc(c->rx, nc);
		if (!n)
			return;
		c->rx = n;
		c->rx_cap = nc;
	}
	memcpy(c->rx + c->rx_len, in, len);
	c->rx_len += len;
	if (final) {
		on_message(c, c->rx, c->rx_len);
		c->rx_len = 0;
	}
}

/* ---- connection ---------------------------------------------------- */

int bclient_start(struct bclient *c)
{
	struct bench *b = c->b;
	const struct bopts *o = b->o;
	struct lws_client_connect_info i;

	if (c->state != BCS_IDLE)
		return EALREADY;
	memset(&i, 0, sizeof i);
	i.context = b->lws[c->idx % b->nlws];
	i.address = o->host;
	i.port = o->port;
	i.path = o->path;
	i.host = o->host;
	i.origin = *o->origin ? o->origin : NULL;
	i.protocol = "sip";
	i.local_protocol_name = "sip";
	i.iface = c->addr;
	i.opaque_user_data = c;
	i.retry_and_idle_policy = bench_retry_policy();
	i.pwsi = &c->wsi;
	if (o->tls) {
		i.ssl_connection = LCCSCF_USE_SSL;
		if (o->insecure)
			i.ssl_connection |= LCCSCF_ALLOW_SELFSIGNED |
				LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK |
				LCCSCF_ALLOW_EXPIRED | LCCSCF_ALLOW_INSECURE;
		i.alpn = "http/1.1";
	}
	c->state = BCS_CONNECTING;
	c->reg_kind = BST_REGISTER;
	c->t_connect = btimer_now();
	b->started++;
	b->connecting++;
	if (!lws_client_connect_via_info(&i) && c->state == BCS_CONNECTING) {
		/* lws gave up at once, without a callback */
		c->wsi = NULL;
		c->state = BCS_CLOSED;
		b->connecting--;
		bstats_fail(BST_CONNECT, "connect", "refused at once");
		initial_done(c, false);
	}
	return 0;
}

void bclient_close(struct bclient *c)
{
	if (c->closing || c->state == BCS_CLOSED)
		return;
	if (c->state == BCS_IDLE) {
		c->state = BCS_CLOSED;
		return;
	}
	c->closing = true;
	btimer_cancel(&c->t_reg);
	if (c->wsi)
		lws_callback_on_writable(c->wsi);
}

/* The WebSocket of @p c is gone; @p why is set when that was a failure
 * to connect. */
static void on_closed(struct bclient *c, const char *why, uint16_t code)
{
	struct bench *b = c->b;
	char sample[96];

	if (c->state == BCS_CONNECTING) {
		b->connecting--;
		if (!c->closing)
			bstats_fail(BST_CONNECT, "connect", why ? why : "failed");
		if (!c->closing && b->o->verbose >= 1)
			fprintf(stderr, "wtpf-bench: %s: connect: %s\n", c->user,
				why ? why : "failed");
		initial_done(c, false);
	} else if (c->state == BCS_OPEN || c->state == BCS_REGISTERED) {
		b->open--;
		if (c->state == BCS_REGISTERED)
			b->registered--;
		if (c->reg_pending) {
			reg_end(c);
			if (!c->closing)
				bstats_fail((enum bstat)c->reg_kind,
					    "REGISTER lost (closed)", NULL);
			initial_done(c, false);
		}
		if (!c->closing) {
			snprintf(sample, sizeof sample, code ? "close code %u" :
				 "connection lost", code);
			bstats_error("ws closed", sample);
			if (b->o->verbose >= 1)
				fprintf(stderr, "wtpf-bench: %s: %s\n", c->user,
					sample);
		}
		bcall_abort(c, "call lost (ws closed)");
	}
	btimer_cancel(&c->t_reg);
	c->state = BCS_CLOSED;
	c->wsi = NULL;
	queue_free(c);
}

int bclient_lws_cb(struct lws *wsi, int reason, void *user, void *in,
		   size_t len)
{
	struct bclient *c = lws_get_opaque_user_data(wsi);
	(void)user;

	if (!c)
		return 0;
	switch (reason) {
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		on_closed(c, in ? (const char *)in : NULL, 0);
		return 0;
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		c->b->connecting--;
		c->b->open++;
		c->state = BCS_OPEN;
		c->wsi = wsi;
		bstats_ok(BST_CONNECT, btimer_now() - c->t_connect);
		if (c->closing)
			return -1;
		reg_start(c, BST_REGISTER, c->b->o->expires);
		return 0;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		on_receive(c, wsi, in, len);
		return 0;
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		return on_writeable(c, wsi);
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		c->rx_len = 0;
		if (len >= 2) {
			const unsigned char *p = in;
			on_closed(c, NULL, (uint16_t)(p[0] << 8 | p[1]));
		}
		return 0;
	case LWS_CALLBACK_CLIENT_CLOSED:
		on_closed(c, NULL, 0);
		return 0;
	case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
		/* lws 4.1 ends a handshake that timed out with this (and
		 * WSI_DESTROY), not with CLIENT_CONNECTION_ERROR */
		on_closed(c, "no handshake answer", 0);
		return 0;
	case LWS_CALLBACK_WSI_DESTROY:
		on_closed(c, "connection destroyed", 0);
		lws_set_opaque_user_data(wsi, NULL);
		return 0;
	default:
		return 0;
	}
}

void bclient_fini(struct bclient *c)
{
	btimer_cancel(&c->t_reg);
	bcall_abort(c, NULL);
	queue_free(c);
	free(c->token);
	free(c->chal);
	free(c->rx);
	c->token = NULL;
	c->chal = NULL;
	c->rx = NULL;
}
