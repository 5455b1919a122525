/**
 * @file call.c  The calls of an emulated client (see call.h). One call per
 * client; a call is a UAC (we sent the INVITE) or a UAS (we answer it) and
 * keeps what in-dialog requests need: Call-ID, tags, remote target and
 * route set.
 */
#include "bench/wtpf-bench/call.h"
#include "bench/wtpf-bench/auth.h"
#include "bench/wtpf-bench/bench.h"
#include "bench/wtpf-bench/client.h"
#include "bench/wtpf-bench/opts.h"
#include "bench/wtpf-bench/sdp.h"
#include "bench/wtpf-bench/sip.h"
#include "bench/wtpf-bench/stats.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MSG_MAX 8192
#define ALLOW "INVITE, ACK, CANCEL, BYE, UPDATE, INFO, OPTIONS, NOTIFY, " \
	      "MESSAGE"

enum call_state {
	CS_CALLING,             /* UAC: INVITE sent */
	CS_EARLY,               /* UAC: 18x received */
	CS_RINGING,             /* UAS: 180 sent, answer pending */
	CS_ACKWAIT,             /* UAS: 200 sent */
	CS_UP,                  /* confirmed */
	CS_BYE,                 /* BYE sent */
};

struct bcall {
	struct bclient *c;
	bool out;
	bool got18x;
	uint8_t state;
	uint8_t auth_tries;
	char call_id[96];
	char ltag[16];
	char rtag[96];
	char local[200];        /* our name-addr, no tag */
	char remote[200];       /* theirs, no tag */
	char ruri[256];         /* UAC: the INVITE's Request-URI */
	char target[256];       /* remote target of in-dialog requests */
	char *route;            /* Route value, or NULL */
	uint32_t lcseq;
	char inv_branch[28];
	char bye_branch[28];
	uint64_t t_inv, t_200, t_bye;
	struct btimer t;
	struct bclient *callee; /* reserved peer (UAC) */
	char *inv;              /* UAS: the INVITE, for answering later */
	size_t inv_len;
	struct bauth_chal *chal;
};

static void call_end(struct bcall *k)
{
	struct bclient *c = k->c;

	btimer_cancel(&k->t);
	if (k->callee)
		k->callee->reserved = false;
	free(k->route);
	free(k->inv);
	free(k->chal);
	c->call = NULL;
	c->b->calls--;
	free(k);
}

static uint64_t secs(double s)
{
	return (uint64_t)(s * 1e6);
}

static void new_branch(char out[28])
{
	memcpy(out, "z9hG4bK", 7);
	bsip_token(out + 7, 16);
}

/* Sends request @p method in @p k's dialog (or its INVITE). */
static int send_req(struct bcall *k, const char *method, const char *ruri,
		    const char *branch, uint32_t cseq, const char *to_tag,
		    const char *extra, const char *body)
{
	struct bclient *c = k->c;
	char contact[128], buf[MSG_MAX];
	size_t len;

	bclient_contact(c, contact, sizeof contact);
	struct bsip_req r = {
		.method = method, .ruri = ruri,
		.transport = c->b->via_transport, .via_host = c->chost,
		.branch = branch, .from = k->local, .from_tag = k->ltag,
		.to = k->remote, .to_tag = to_tag, .call_id = k->call_id,
		.cseq = cseq, .route = strcmp(method, "INVITE") || k->rtag[0] ?
			k->route : NULL,
		.contact = !strcmp(method, "INVITE") ? contact : NULL,
		.extra = extra, .ctype = body ? "application/sdp" : NULL,
		.body = body,
	};
	len = bsip_req_build(&r, buf, sizeof buf);
	return len ? bclient_send(c, buf, len) : ENOSPC;
}

/* The route set of @p m's Record-Route headers, reversed for a UAC. */
static char *route_set(const struct bsip_msg *m, bool reverse)
{
	const char *el[32];
	size_t ell[32], n = 0, total = 0;
	char *out, *p;

	for (const struct bsip_hdr *h = bsip_msg_find(m, "Record-Route", NULL);
	     h && n < 32; h = bsip_msg_find(m, "Record-Route", h)) {
		const char *v = h->val, *end = h->val + h->vlen;
		while (v < end && n < 32) {
			size_t l = bsip_elem_len(v, (size_t)(end - v));
			const char *s = v;
			size_t sl = l;
			while (sl && (*s == ' ' || *s == '\t')) {
				s++;
				sl--;
			}
			if (sl) {
				el[n] = s;
				ell[n++] = sl;
				total += sl + 2;
			}
			v += l + 1;
		}
	}
	if (!n || !(out = malloc(total + 1)))
		return NULL;
	p = out;
	for (size_t i = 0; i < n; i++) {
		size_t j = reverse ? n - 1 - i : i;
		if (i) {
			memcpy(p, ", ", 2);
			p += 2;
		}
		memcpy(p, el[j], ell[j]);
		p += ell[j];
	}
	*p = '\0';
	return out;
}

/* Copies name-addr @p v without its tag parameter into @p out. */
static void strip_tag(const char *v, size_t n, char *out, size_t size)
{
	const char *gt = memchr(v, '>', n), *from = gt ? gt : v;
	const char *t = NULL;

	for (const char *p = from; p + 5 <= v + n; p++)
		if (!strncasecmp(p, ";tag=", 5)) {
			t = p;
			break;
		}
	if (!t) {
		snprintf(out, size, "%.*s", (int)n, v);
		return;
	}
	const char *e = t + 5;
	while (e < v + n && *e != ';')
		e++;
	snprintf(out, size, "%.*s%.*s", (int)(t - v), v, (int)(v + n - e), e);
}

static const char *local_addr(const struct bclient *c)
{
	return c->addr ? c->addr : "127.0.0.1";
}

/* ---- UAC ----------------------------------------------------------- */

static void uac_timeout(struct btimer *t, void *arg);
static void bye_send(struct bcall *k);

static int inv_send(struct bcall *k)
{
	const struct bopts *o = k->c->b->o;
	char sdp[2048], auth[1024] = "", extra[1400];

	if (!bsdp_offer(local_addr(k->c), sdp, sizeof sdp))
		return ENOSPC;
	if (k->chal && bauth_digest_line(k->chal, k->c->user, o->password,
					 "INVITE", k->ruri, auth, sizeof auth))
		return EINVAL;
	snprintf(extra, sizeof extra, "%sAllow: %s\r\nSupported: ice, replaces,"
		 " outbound\r\n", auth, ALLOW);
	new_branch(k->inv_branch);
	return send_req(k, "INVITE", k->ruri, k->inv_branch, k->lcseq, NULL,
			extra, sdp);
}

int bcall_place(struct bclient *c, const char *uri, struct bclient *callee)
{
	const struct bopts *o = c->b->o;
	struct bcall *k;
	char aor[160];

	if (c->call)
		return EBUSY;
	if (c->state != BCS_REGISTERED || c->closing)
		return ENOTCONN;
	if (!(k = calloc(1, sizeof *k)))
		return ENOMEM;
	k->c = c;
	k->out = true;
	k->state = CS_CALLING;
	bsip_token(k->call_id, 20);
	bsip_token(k->ltag, 10);
	bclient_aor(c, aor, sizeof aor);
	snprintf(k->local, sizeof k->local, "<%s>", aor);
	snprintf(k->remote, sizeof k->remote, "<%s>", uri);
	snprintf(k->ruri, sizeof k->ruri, "%s", uri);
	snprintf(k->target, sizeof k->target, "%s", uri);
	k->lcseq = 1;
	k->callee = callee;
	if (callee)
		callee->reserved = true;
	c->call = k;
	c->b->calls++;
	bstats_count(BCNT_CALLS_PLACED, 1);
	k->t_inv = btimer_now();
	if (inv_send(k)) {
		bstats_fail(BST_INVITE_200, "send INVITE", NULL);
		bstats_count(BCNT_CALLS_FAILED, 1);
		call_end(k);
		return ENOTCONN;
	}
	btimer_start(&k->t, secs(o->timeout + (o->call_peers ? o->answer_delay :
					       0)), uac_timeout, k);
	return 0;
}

static void hold_over(struct btimer *t, void *arg)
{
	(void)t;
	bye_send(arg);
}

static void uac_2xx(struct bcall *k, const struct bsip_msg *m)
{
	const struct bopts *o = k->c->b->o;
	const struct bsip_hdr *to = bsip_msg_find(m, "To", NULL);
	char contact[512];

	if (k->state == CS_UP || k->state == CS_BYE) {   /* a retransmission */
		send_req(k, "ACK", k->target, NULL, k->lcseq, k->rtag, NULL, NULL);
		return;
	}
	bsip_param(to->val, to->vlen, "tag", k->rtag, sizeof k->rtag);
	if (!bsip_msg_get(m, "Contact", 1, contact, sizeof contact))
		bsip_uri(contact, strlen(contact), k->target, sizeof k->target);
	free(k->route);
	k->route = route_set(m, true);
	bstats_ok(BST_INVITE_200, btimer_now() - k->t_inv);
	bstats_count(BCNT_CALLS_ANSWERED, 1);
	k->state = CS_UP;
	char branch[28];
	new_branch(branch);
	send_req(k, "ACK", k->target, branch, k->lcseq, k->rtag, NULL, NULL);
	btimer_start(&k->t, secs(o->call_hold), hold_over, k);
}

/* ACK of a non-2xx final answer: same branch as the INVITE. */
static void ack_failure(struct bcall *k, const struct bsip_msg *m)
{
	const struct bsip_hdr *to = bsip_msg_find(m, "To", NULL);
	char tag[96] = "";

	bsip_param(to->val, to->vlen, "tag", tag, sizeof tag);
	send_req(k, "ACK", k->ruri, k->inv_branch, k->lcseq, tag[0] ? tag : NULL,
		 NULL, NULL);
}

static void uac_on_invite_response(struct bcall *k, const struct bsip_msg *m)
{
	const struct bopts *o = k->c->b->o;
	struct bauth_chal ch;
	char key[40];

	if (m->status == 100)
		return;
	if (m->status < 200) {
		if (!k->got18x && m->status >= 180) {
			k->got18x = true;
			bstats_ok(BST_INVITE_18X, btimer_now() - k->t_inv);
		}
		if (k->state == CS_CALLING)
			k->state = CS_EARLY;
		return;
	}
	if (m->status < 300) {
		uac_2xx(k, m);
		return;
	}
	if (k->state != CS_CALLING && k->state != CS_EARLY)
		return;   /* late answer, already handled */
	ack_failure(k, m);
	if ((m->status == 401 || m->status == 407) &&
	    o->auth_kind == BOPTS_AUTH_DIGEST && k->auth_tries < 2 &&
	    !bauth_chal_pick(m, &ch) &&
	    (k->chal || (k->chal = malloc(sizeof *k->chal)))) {
		*k->chal = ch;
		k->auth_tries++;
		k->lcseq++;
		bstats_count(BCNT_CHALLENGES, 1);
		if (!inv_send(k))
			return;
	}
	snprintf(key, sizeof key, "INVITE %d", m->status);
	bstats_fail(BST_INVITE_200, key, m->reason);
	bstats_count(BCNT_CALLS_FAILED, 1);
	if (o->verbose >= 1)
		fprintf(stderr, "wtpf-bench: %s: INVITE %s: %d %s\n", k->c->user,
			k->ruri, m->status, m->reason);
	call_end(k);
}

static void uac_timeout(struct btimer *t, void *arg)
{
	struct bcall *k = arg;

	(void)t;
	if (k->state == CS_UP) {
		bye_send(k);
		return;
	}
	if (k->state == CS_BYE) {
		bstats_fail(BST_BYE, "timeout BYE", NULL);
	} else {
		/* give up the INVITE: CANCEL it, as a browser would */
		send_req(k, "CANCEL", k->ruri, k->inv_branch, k->lcseq, NULL,
			 NULL, NULL);
		bstats_fail(BST_INVITE_200, "timeout INVITE", NULL);
		bstats_count(BCNT_CALLS_FAILED, 1);
	}
	call_end(k);
}

static void bye_send(struct bcall *k)
{
	k->state = CS_BYE;
	k->t_bye = btimer_now();
	new_branch(k->bye_branch);
	if (send_req(k, "BYE", k->target, k->bye_branch, ++k->lcseq,
		     k->rtag, NULL, NULL)) {
		bstats_fail(BST_BYE, "send BYE", NULL);
		call_end(k);
		return;
	}
	btimer_start(&k->t, secs(k->c->b->o->timeout), uac_timeout, k);
}

static void on_bye_response(struct bcall *k, const struct bsip_msg *m)
{
	char key[40];

	if (m->status < 200)
		return;
	if (m->status < 300) {
		bstats_ok(BST_BYE, btimer_now() - k->t_bye);
		bstats_count(k->out ? BCNT_CALLS_COMPLETED :
			     BCNT_INBOUND_COMPLETED, 1);
	} else {
		snprintf(key, sizeof key, "BYE %d", m->status);
		bstats_fail(BST_BYE, key, m->reason);
	}
	call_end(k);
}

bool bcall_on_response(struct bclient *c, const struct bsip_msg *m,
		       const char *branch)
{
	struct bcall *k = c->call;

	if (!k)
		return false;
	if (k->out && !strcmp(m->cseq_method, "INVITE") &&
	    !strcmp(branch, k->inv_branch)) {
		uac_on_invite_response(k, m);
		return true;
	}
	if (k->state == CS_BYE && !strcmp(branch, k->bye_branch)) {
		on_bye_response(k, m);
		return true;
	}
	return false;
}

/* ---- UAS ----------------------------------------------------------- */

static void respond(struct bcall *k, const struct bsip_msg *m, int status,
		    const char *reason, const char *body)
{
	char contact[160], extra[400], buf[MSG_MAX];
	size_t len;

	extra[0] = '\0';
	if (status > 100 && status < 300 && (!strcmp(m->method, "INVITE") ||
					     !strcmp(m->method, "UPDATE"))) {
		bclient_contact(k->c, contact, sizeof contact);
		snprintf(extra, sizeof extra, "Contact: %s\r\nAllow: %s\r\n"
			 "Supported: ice, replaces, outbound\r\n", contact,
			 ALLOW);
	}
	len = bsip_resp_build(m, status, reason, k->ltag, extra,
			      body ? "application/sdp" : NULL, body, buf,
			      sizeof buf);
	if (len)
		bclient_send(k->c, buf, len);
}

static void reply_plain(struct bclient *c, const struct bsip_msg *m,
			int status, const char *reason)
{
	char buf[MSG_MAX];
	char tag[12];
	size_t len;

	bsip_token(tag, 8);
	len = bsip_resp_build(m, status, reason, tag, NULL, NULL, NULL, buf,
			      sizeof buf);
	if (len)
		bclient_send(c, buf, len);
}

static void uas_ack_timeout(struct btimer *t, void *arg)
{
	struct bcall *k = arg;

	(void)t;
	if (k->state == CS_ACKWAIT) {
		bstats_fail(BST_ACK_IN, "timeout ACK", NULL);
		call_end(k);
	} else if (k->state == CS_UP) {   /* --answer-hold is over */
		bye_send(k);
	}
}

static void uas_answer(struct bcall *k)
{
	const struct bopts *o = k->c->b->o;
	struct bsip_msg m;
	char sdp[2048];
	size_t n = 0;

	if (bsip_msg_parse(&m, k->inv, k->inv_len))
		return;
	if (m.body_len)
		n = bsdp_answer(m.body, m.body_len, local_addr(k->c), sdp,
				sizeof sdp);
	if (!n)
		n = bsdp_offer(local_addr(k->c), sdp, sizeof sdp);
	respond(k, &m, 200, "OK", n ? sdp : NULL);
	k->state = CS_ACKWAIT;
	k->t_200 = btimer_now();
	btimer_start(&k->t, secs(o->timeout), uas_ack_timeout, k);
}

static void answer_due(struct btimer *t, void *arg)
{
	(void)t;
	uas_answer(arg);
}

static void uas_invite(struct bclient *c, const struct bsip_msg *m)
{
	const struct bopts *o = c->b->o;
	const struct bsip_hdr *from = bsip_msg_find(m, "From", NULL);
	const struct bsip_hdr *to = bsip_msg_find(m, "To", NULL);
	char contact[512];
	struct bcall *k;

	if (c->call) {
		char cid[96];
		bsip_msg_get(m, "Call-ID", 0, cid, sizeof cid);
		if (strcmp(cid, c->call->call_id))
			reply_plain(c, m, 486, "Busy Here");
		return;   /* else a retransmission */
	}
	bstats_count(BCNT_INBOUND, 1);
	c->reserved = false;
	if (c->state != BCS_REGISTERED || c->closing) {
		reply_plain(c, m, 480, "Temporarily Unavailable");
		return;
	}
	if (!(k = calloc(1, sizeof *k)) || !(k->inv = malloc(m->raw_len))) {
		free(k);
		reply_plain(c, m, 500, "Server Internal Error");
		return;
	}
	/* kept as received, for the answer and a 487 */
	memcpy(k->inv, m->raw, m->raw_len);
	k->inv_len = m->raw_len;
	k->c = c;
	k->state = CS_RINGING;
	bsip_msg_get(m, "Call-ID", 0, k->call_id, sizeof k->call_id);
	bsip_param(from->val, from->vlen, "tag", k->rtag, sizeof k->rtag);
	bsip_token(k->ltag, 10);
	strip_tag(from->val, from->vlen, k->remote, sizeof k->remote);
	strip_tag(to->val, to->vlen, k->local, sizeof k->local);
	if (!bsip_msg_get(m, "Contact", 1, contact, sizeof contact))
		bsip_uri(contact, strlen(contact), k->target, sizeof k->target);
	k->route = route_set(m, false);
	k->lcseq = 1;
	c->call = k;
	c->b->calls++;
	respond(k, m, 180, "Ringing", NULL);
	if (o->answer_delay > 0)
		btimer_start(&k->t, secs(o->answer_delay), answer_due, k);
	else
		uas_answer(k);
}

/* CANCEL of the INVITE we have not answered yet. */
static void uas_cancel(struct bcall *k, const struct bsip_msg *m)
{
	struct bsip_msg inv;

	reply_plain(k->c, m, 200, "OK");
	if (k->out || k->state != CS_RINGING)
		return;
	if (!bsip_msg_parse(&inv, k->inv, k->inv_len))
		respond(k, &inv, 487, "Request Terminated", NULL);
	call_end(k);
}

static void on_ack(struct bcall *k)
{
	const struct bopts *o = k->c->b->o;

	if (k->out || k->state != CS_ACKWAIT)
		return;   /* ACK of a re-INVITE, or of a failure */
	bstats_ok(BST_ACK_IN, btimer_now() - k->t_200);
	bstats_count(BCNT_INBOUND_ANSWERED, 1);
	k->state = CS_UP;
	btimer_cancel(&k->t);
	if (o->answer_hold > 0)
		btimer_start(&k->t, secs(o->answer_hold), uas_ack_timeout, k);
}

static void on_bye(struct bcall *k, const struct bsip_msg *m)
{
	respond(k, m, 200, "OK", NULL);
	if (k->state == CS_UP || k->state == CS_ACKWAIT || k->state == CS_BYE)
		bstats_count(k->out ? BCNT_CALLS_COMPLETED :
			     BCNT_INBOUND_COMPLETED, 1);
	call_end(k);
}

/* re-INVITE or UPDATE: an answer to an offer, else 200 without SDP. */
static void on_modify(struct bcall *k, const struct bsip_msg *m)
{
	char sdp[2048];
	size_t n = 0;

	if (m->body_len)
		n = bsdp_answer(m->body, m->body_len, local_addr(k->c), sdp,
				sizeof sdp);
	else if (!strcmp(m->method, "INVITE"))
		n = bsdp_offer(local_addr(k->c), sdp, sizeof sdp);
	respond(k, m, 200, "OK", n ? sdp : NULL);
}

bool bcall_on_request(struct bclient *c, const struct bsip_msg *m)
{
	const struct bsip_hdr *to = bsip_msg_find(m, "To", NULL);
	struct bcall *k = c->call;
	char cid[96], tag[96];
	bool has_tag = !bsip_param(to->val, to->vlen, "tag", tag, sizeof tag);
	bool mine;

	bsip_msg_get(m, "Call-ID", 0, cid, sizeof cid);
	mine = k && !strcmp(cid, k->call_id);
	if (!strcmp(m->method, "INVITE") && !has_tag) {
		uas_invite(c, m);
		return true;
	}
	if (!strcmp(m->method, "CANCEL")) {
		if (mine)
			uas_cancel(k, m);
		else
			reply_plain(c, m, 481, "Call/Transaction Does Not Exist");
		return true;
	}
	if (!strcmp(m->method, "ACK")) {
		if (mine)
			on_ack(k);
		return true;
	}
	if (strcmp(m->method, "BYE") && strcmp(m->method, "INVITE") &&
	    strcmp(m->method, "UPDATE") && strcmp(m->method, "INFO") &&
	    strcmp(m->method, "PRACK"))
		return false;
	if (!mine) {
		reply_plain(c, m, 481, "Call/Transaction Does Not Exist");
		return true;
	}
	if (!strcmp(m->method, "BYE"))
		on_bye(k, m);
	else if (!strcmp(m->method, "INVITE") || !strcmp(m->method, "UPDATE"))
		on_modify(k, m);
	else
		respond(k, m, 200, "OK", NULL);
	return true;
}

void bcall_abort(struct bclient *c, const char *why)
{
	struct bcall *k = c->call;

	if (!k)
		return;
	if (why) {
		bstats_error(why, NULL);
		if (k->out)
			bstats_count(BCNT_CALLS_FAILED, 1);
	}
	call_end(k);
}
