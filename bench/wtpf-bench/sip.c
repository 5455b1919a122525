/**
 * @file sip.c  Minimal SIP message parsing and building for the load
 * generator (see sip.h).
 */
#include "bench/wtpf-bench/sip.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

static const struct { char c; const char *full; } compact[] = {
	{ 'v', "Via" }, { 'f', "From" }, { 't', "To" }, { 'i', "Call-ID" },
	{ 'm', "Contact" }, { 'l', "Content-Length" }, { 'c', "Content-Type" },
	{ 'k', "Supported" }, { 'e', "Content-Encoding" }, { 's', "Subject" },
	{ 'o', "Event" }, { 'r', "Refer-To" }, { 'b', "Referred-By" },
	{ 'u', "Allow-Events" },
};

static bool is_ws(char c)
{
	return c == ' ' || c == '\t';
}

static void trim(const char **p, size_t *n)
{
	while (*n && is_ws(**p)) {
		(*p)++;
		(*n)--;
	}
	while (*n && (is_ws((*p)[*n - 1]) || (*p)[*n - 1] == '\r' ||
		      (*p)[*n - 1] == '\n'))
		(*n)--;
}

static int parse_start(struct bsip_msg *m, const char *s, size_t n)
{
	if (n >= 11 && !memcmp(s, "SIP/2.0 ", 8)) {
		if (s[8] < '1' || s[8] > '6' || s[9] < '0' || s[9] > '9' ||
		    s[10] < '0' || s[10] > '9')
			return EBADMSG;
		m->status = (s[8] - '0') * 100 + (s[9] - '0') * 10 + s[10] - '0';
		if (n > 12)
			snprintf(m->reason, sizeof m->reason, "%.*s",
				 (int)(n - 12), s + 12);
		return 0;
	}
	const char *sp1 = memchr(s, ' ', n), *sp2;
	if (!sp1 || sp1 == s || (size_t)(sp1 - s) >= sizeof m->method_buf)
		return EBADMSG;
	sp2 = memchr(sp1 + 1, ' ', n - (size_t)(sp1 + 1 - s));
	if (!sp2 || sp2 == sp1 + 1 || (size_t)(s + n - sp2) != 8 ||
	    memcmp(sp2 + 1, "SIP/2.0", 7))
		return EBADMSG;
	memcpy(m->method_buf, s, (size_t)(sp1 - s));
	m->method_buf[sp1 - s] = '\0';
	m->method = m->method_buf;
	m->uri = sp1 + 1;
	m->uri_len = (size_t)(sp2 - sp1 - 1);
	return 0;
}

static void add_header(struct bsip_msg *m, const char *line, size_t n)
{
	const char *colon = memchr(line, ':', n), *name = line, *val;
	size_t nlen, vlen;

	if (!colon || m->nhdrs == BSIP_MAX_HDRS)
		return;
	nlen = (size_t)(colon - line);
	trim(&name, &nlen);
	val = colon + 1;
	vlen = (size_t)(line + n - val);
	trim(&val, &vlen);
	if (nlen == 1)
		for (size_t i = 0; i < sizeof compact / sizeof compact[0]; i++)
			if ((name[0] | 0x20) == compact[i].c) {
				name = compact[i].full;
				nlen = strlen(name);
				break;
			}
	m->hdrs[m->nhdrs++] = (struct bsip_hdr){ name, nlen, val, vlen };
}

static bool name_is(const struct bsip_hdr *h, const char *name)
{
	return strlen(name) == h->nlen && !strncasecmp(h->name, name, h->nlen);
}

const struct bsip_hdr *bsip_msg_find(const struct bsip_msg *m,
				     const char *name,
				     const struct bsip_hdr *prev)
{
	unsigned i = prev ? (unsigned)(prev - m->hdrs) + 1 : 0;

	for (; i < m->nhdrs; i++)
		if (name_is(&m->hdrs[i], name))
			return &m->hdrs[i];
	return NULL;
}

static int parse_cseq(struct bsip_msg *m)
{
	const struct bsip_hdr *h = bsip_msg_find(m, "CSeq", NULL);
	char buf[64], meth[16];
	unsigned long num;

	if (!h || h->vlen >= sizeof buf)
		return EBADMSG;
	memcpy(buf, h->val, h->vlen);
	buf[h->vlen] = '\0';
	if (sscanf(buf, "%lu %15s", &num, meth) != 2 || num > 0xffffffffUL)
		return EBADMSG;
	m->cseq = (uint32_t)num;
	snprintf(m->cseq_method, sizeof m->cseq_method, "%s", meth);
	if (m->status)
		m->method = m->cseq_method;
	return 0;
}

int bsip_msg_parse(struct bsip_msg *m, const char *buf, size_t len)
{
	const char *end = NULL, *p = buf, *line = NULL;
	static const char *const needed[] = { "Via", "From", "To", "Call-ID" };
	char clen[16];

	memset(m, 0, sizeof *m);
	m->raw = buf;
	m->raw_len = len;
	for (size_t i = 0; i + 3 < len; i++)
		if (!memcmp(buf + i, "\r\n\r\n", 4)) {
			end = buf + i + 2;   /* after the last header's CRLF */
			break;
		}
	if (!end)
		return EBADMSG;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t n;
		if (!eol)
			break;
		n = (size_t)(eol - p) + 1;
		if (!line) {
			size_t sl = n;
			while (sl && (p[sl - 1] == '\r' || p[sl - 1] == '\n'))
				sl--;
			if (parse_start(m, p, sl))
				return EBADMSG;
			line = p;
		} else if (is_ws(*p) && m->nhdrs) {   /* folded line */
			struct bsip_hdr *h = &m->hdrs[m->nhdrs - 1];
			h->vlen = (size_t)(eol - h->val);
			trim(&h->val, &h->vlen);
		} else {
			add_header(m, p, n);
		}
		p = eol + 1;
	}
	for (size_t i = 0; i < sizeof needed / sizeof needed[0]; i++)
		if (!bsip_msg_find(m, needed[i], NULL))
			return EBADMSG;
	if (parse_cseq(m))
		return EBADMSG;
	m->body = end + 2;
	m->body_len = len - (size_t)(m->body - buf);
	if (!bsip_msg_get(m, "Content-Length", 0, clen, sizeof clen)) {
		unsigned long cl = strtoul(clen, NULL, 10);
		if (cl < m->body_len)
			m->body_len = cl;
	}
	return 0;
}

size_t bsip_elem_len(const char *v, size_t n)
{
	bool q = false;
	int angle = 0;

	for (size_t i = 0; i < n; i++) {
		char c = v[i];
		if (q) {
			if (c == '\\')
				i++;
			else if (c == '"')
				q = false;
		} else if (c == '"') {
			q = true;
		} else if (c == '<') {
			angle++;
		} else if (c == '>') {
			angle--;
		} else if (c == ',' && !angle) {
			return i;
		}
	}
	return n;
}

int bsip_msg_get(const struct bsip_msg *m, const char *name, int first,
		 char *out, size_t size)
{
	const struct bsip_hdr *h = bsip_msg_find(m, name, NULL);
	size_t n;

	if (!h)
		return ENOENT;
	n = first ? bsip_elem_len(h->val, h->vlen) : h->vlen;
	if (size) {
		if (n >= size)
			n = size - 1;
		memcpy(out, h->val, n);
		out[n] = '\0';
	}
	return 0;
}

int bsip_param(const char *v, size_t n, const char *name, char *out,
	       size_t size)
{
	size_t nl = strlen(name), i = 0;
	bool q = false;
	int angle = 0;

	for (; i < n; i++) {
		char c = v[i];
		if (q) {
			if (c == '"')
				q = false;
			continue;
		}
		if (c == '"')
			q = true;
		else if (c == '<')
			angle++;
		else if (c == '>')
			angle--;
		else if (c == ',' && !angle)
			return ENOENT;   /* only the first element */
		else if (c == ';' && !angle) {
			size_t j = i + 1;
			while (j < n && is_ws(v[j]))
				j++;
			if (j + nl > n || strncasecmp(v + j, name, nl))
				continue;
			j += nl;
			while (j < n && is_ws(v[j]))
				j++;
			if (j < n && v[j] != '=' && v[j] != ';' && v[j] != ',')
				continue;   /* a longer name */
			size_t s = 0;
			if (j < n && v[j] == '=') {
				j++;
				while (j < n && is_ws(v[j]))
					j++;
				bool quoted = j < n && v[j] == '"';
				j += quoted;
				size_t k = j;
				while (k < n && (quoted ? v[k] != '"' :
					(v[k] != ';' && v[k] != ',' && v[k] != '>' &&
					 !is_ws(v[k]))))
					k++;
				s = k - j;
			}
			if (s >= size)
				return ENOSPC;
			memcpy(out, v + j, s);
			out[s] = '\0';
			return 0;
		}
	}
	return ENOENT;
}

int bsip_uri(const char *v, size_t n, char *out, size_t size)
{
	const char *lt = memchr(v, '<', n), *s, *e;

	if (lt) {
		s = lt + 1;
		e = memchr(s, '>', n - (size_t)(s - v));
		if (!e)
			return EBADMSG;
	} else {
		s = v;
		while (s < v + n && is_ws(*s))
			s++;
		e = s;
		while (e < v + n && *e != ';' && *e != ',' && !is_ws(*e))
			e++;
	}
	if (e == s)
		return EBADMSG;
	if ((size_t)(e - s) >= size)
		return ENOSPC;
	memcpy(out, s, (size_t)(e - s));
	out[e - s] = '\0';
	return 0;
}

int bsip_uri_user(const char *uri, char *out, size_t size)
{
	const char *p = strchr(uri, ':');
	size_t n;

	if (!p)
		return EBADMSG;
	p++;
	n = strncasecmp(uri, "tel:", 4) ? strcspn(p, "@;?>") : strcspn(p, ";?>");
	if (!strncasecmp(uri, "tel:", 4) || p[n] == '@') {
		if (n >= size)
			return ENOSPC;
		memcpy(out, p, n);
		out[n] = '\0';
		return 0;
	}
	return ENOENT;   /* no user part */
}

void bsip_token(char *out, size_t n)
{
	static uint64_t s;
	static const char hex[] = "0123456789abcdef";

	if (!s) {
		if (getrandom(&s, sizeof s, 0) != sizeof s || !s)
			s = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^ 1;
	}
	for (size_t i = 0; i < n; i += 16) {
		uint64_t x;
		s ^= s >> 12;   /* xorshift64* */
		s ^= s << 25;
		s ^= s >> 27;
		x = s * 2685821657736338717ULL;
		for (size_t j = i; j < n && j < i + 16; j++, x >>= 4)
			out[j] = hex[x & 15];
	}
	out[n] = '\0';
}

/* snprintf into a buffer in pieces; a piece that does not fit marks it. */
struct sb {
	char *b;
	size_t size, len;
	bool full;
};

__attribute__((format(printf, 2, 3)))
static void sb_add(struct sb *s, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (s->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(s->b + s->len, s->size - s->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= s->size - s->len)
		s->full = true;
	else
		s->len += (size_t)n;
}

static void sb_body(struct sb *s, const char *ctype, const char *body)
{
	size_t bl = body ? strlen(body) : 0;

	if (bl && ctype)
		sb_add(s, "Content-Type: %s\r\n", ctype);
	sb_add(s, "Content-Length: %zu\r\n\r\n%s", bl, bl ? body : "");
}

size_t bsip_req_build(const struct bsip_req *r, char *buf, size_t size)
{
	struct sb s = { buf, size, 0, false };

	sb_add(&s, "%s %s SIP/2.0\r\nVia: SIP/2.0/%s %s;branch=%s\r\n"
	       "Max-Forwards: 70\r\n", r->method, r->ruri, r->transport,
	       r->via_host, r->branch);
	if (r->route)
		sb_add(&s, "Route: %s\r\n", r->route);
	sb_add(&s, "From: %s;tag=%s\r\nTo: %s%s%s\r\nCall-ID: %s\r\n"
	       "CSeq: %u %s\r\n", r->from, r->from_tag, r->to,
	       r->to_tag ? ";tag=" : "", r->to_tag ? r->to_tag : "",
	       r->call_id, r->cseq, r->cseq_method ? r->cseq_method : r->method);
	if (r->contact)
		sb_add(&s, "Contact: %s\r\n", r->contact);
	if (r->extra)
		sb_add(&s, "%s", r->extra);
	sb_body(&s, r->ctype, r->body);
	return s.full ? 0 : s.len;
}

static void copy_headers(struct sb *s, const struct bsip_msg *req,
			 const char *name, const char *to_tag)
{
	for (const struct bsip_hdr *h = bsip_msg_find(req, name, NULL); h;
	     h = bsip_msg_find(req, name, h)) {
		char tag[128];
		bool add_tag = to_tag && !strcmp(name, "To") &&
			bsip_param(h->val, h->vlen, "tag", tag, sizeof tag) == ENOENT;
		sb_add(s, "%s: %.*s%s%s\r\n", name, (int)h->vlen, h->val,
		       add_tag ? ";tag=" : "", add_tag ? to_tag : "");
	}
}

size_t bsip_resp_build(const struct bsip_msg *req, int status,
		       const char *reason, const char *to_tag,
		       const char *extra, const char *ctype, const char *body,
		       char *buf, size_t size)
{
	struct sb s = { buf, size, 0, false };

	sb_add(&s, "SIP/2.0 %d %s\r\n", status, reason);
	copy_headers(&s, req, "Via", NULL);
	if (status > 100 && status < 300 && !strcmp(req->method, "INVITE"))
		copy_headers(&s, req, "Record-Route", NULL);
	copy_headers(&s, req, "From", NULL);
	copy_headers(&s, req, "To", status > 100 ? to_tag : NULL);
	copy_headers(&s, req, "Call-ID", NULL);
	copy_headers(&s, req, "CSeq", NULL);
	if (extra)
		sb_add(&s, "%s", extra);
	sb_body(&s, ctype, body);
	return s.full ? 0 : s.len;
}
