/**
 * @file sdp.c  Browser-like SDP offers and answers (see sdp.h).
 */
#include "bench/wtpf-bench/sdp.h"
#include "bench/wtpf-bench/sip.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct out {
	char *b;
	size_t size, len;
	bool full;
};

__attribute__((format(printf, 2, 3)))
static void add(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->b + o->len, o->size - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->size - o->len)
		o->full = true;
	else
		o->len += (size_t)n;
}

/* A random SHA-256 fingerprint "AB:CD:...". */
static void fingerprint(char out[96])
{
	char hex[65];

	bsip_token(hex, 64);
	for (int i = 0; i < 32; i++) {
		out[i * 3] = (char)(hex[i * 2] >= 'a' ? hex[i * 2] - 32 : hex[i * 2]);
		out[i * 3 + 1] = (char)(hex[i * 2 + 1] >= 'a' ? hex[i * 2 + 1] - 32 :
					hex[i * 2 + 1]);
		out[i * 3 + 2] = i < 31 ? ':' : '\0';
	}
}

/* The lines common to offers and answers, up to the codecs. */
static void head(struct out *o, const char *addr, bool bundle,
		 const char *mid, const char *fmts, bool offer)
{
	char ufrag[5], pwd[25], fp[96], sess[17], msid[33], foundation[9];
	unsigned port;

	bsip_token(ufrag, 4);
	bsip_token(pwd, 24);
	bsip_token(sess, 16);
	bsip_token(msid, 32);
	bsip_token(foundation, 8);
	port = 50000 + (unsigned)strtoul(foundation, NULL, 16) % 10000;
	fingerprint(fp);
	add(o, "v=0\r\no=- %llu 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n",
	    strtoull(sess, NULL, 16) >> 1);
	if (bundle)
		add(o, "a=group:BUNDLE %s\r\n", mid);
	add(o, "a=extmap-allow-mixed\r\na=msid-semantic: WMS %s\r\n", msid);
	add(o, "m=audio 9 UDP/TLS/RTP/SAVPF %s\r\nc=IN IP4 0.0.0.0\r\n"
	    "a=rtcp:9 IN IP4 0.0.0.0\r\n", fmts);
	add(o, "a=candidate:%s 1 udp 2122260223 %s %u typ host generation 0 "
	    "network-id 1\r\n", foundation, addr, port);
	add(o, "a=candidate:%s 1 tcp 1518280447 %s 9 typ host tcptype active "
	    "generation 0 network-id 1\r\n", foundation, addr);
	add(o, "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\na=ice-options:trickle\r\n"
	    "a=fingerprint:sha-256 %s\r\na=setup:%s\r\na=mid:%s\r\n",
	    ufrag, pwd, fp, offer ? "actpass" : "active", mid);
	add(o, "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
	    "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/"
	    "abs-send-time\r\n"
	    "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-"
	    "wide-cc-extensions-01\r\n"
	    "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
	    "a=sendrecv\r\na=msid:%s %.8s-%.4s\r\na=rtcp-mux\r\n", msid, msid,
	    msid + 8);
}

static void tail(struct out *o)
{
	char ssrc[9], cname[17];

	bsip_token(ssrc, 8);
	bsip_token(cname, 16);
	add(o, "a=ssrc:%lu cname:%s\r\n", strtoul(ssrc, NULL, 16) >> 1, cname);
}

size_t bsdp_offer(const char *addr, char *buf, size_t size)
{
	struct out o = { buf, size, 0, false };

	head(&o, addr, true, "0", "111 63 9 0 8 13 110 126", true);
	add(&o, "a=rtpmap:111 opus/48000/2\r\na=rtcp-fb:111 transport-cc\r\n"
	    "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
	    "a=rtpmap:63 red/48000/2\r\na=fmtp:63 111/111\r\n"
	    "a=rtpmap:9 G722/8000\r\na=rtpmap:0 PCMU/8000\r\n"
	    "a=rtpmap:8 PCMA/8000\r\na=rtpmap:13 CN/8000\r\n"
	    "a=rtpmap:110 telephone-event/48000\r\n"
	    "a=rtpmap:126 telephone-event/8000\r\n");
	tail(&o);
	return o.full ? 0 : o.len;
}

/* The line of @p sdp starting with @p prefix (up to its end), or NULL. */
static const char *line_find(const char *sdp, size_t len, const char *prefix,
			     const char *from, size_t *n)
{
	size_t pl = strlen(prefix);
	const char *p = from ? from : sdp, *end = sdp + len;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *le = eol ? eol : end;
		if ((size_t)(le - p) >= pl && !memcmp(p, prefix, pl)) {
			*n = (size_t)(le - p);
			while (*n && (p[*n - 1] == '\r'))
				(*n)--;
			return p;
		}
		p = eol ? eol + 1 : end;
	}
	return NULL;
}

static bool known_codec(const char *name)
{
	static const char *const ok[] = { "opus/", "G722/", "PCMU/", "PCMA/",
					  "CN/", "telephone-event/" };

	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
		if (!strncasecmp(name, ok[i], strlen(ok[i])))
			return true;
	return false;
}

/*
 * The payload types of m-line @p m (@p n bytes) of @p offer that the answer
 * keeps, space-separated into @p fmts, with their rtpmap lines into
 * @p maps. Returns false when the m-line lists none at all.
 */
static bool answer_formats(const char *offer, size_t len, const char *m,
			   size_t n, char fmts[256], char maps[1024])
{
	const char *p = m, *end = m + n, *l;
	char pt[16], first[16] = "";
	size_t fl = 0, ml;

	for (int field = 0; field < 3 && p < end; field++) {  /* port, proto */
		p = memchr(p, ' ', (size_t)(end - p));
		p = p ? p + 1 : end;
	}
	fmts[0] = maps[0] = '\0';
	for (; p < end; p++) {
		size_t k = strcspn(p, " \r\n");
		char prefix[32], name[64] = "";
		if (k > (size_t)(end - p))
			k = (size_t)(end - p);
		if (!k || k >= sizeof pt) {
			p += k;
			continue;
		}
		memcpy(pt, p, k);
		pt[k] = '\0';
		p += k;
		if (!first[0])
			snprintf(first, sizeof first, "%s", pt);
		snprintf(prefix, sizeof prefix, "a=rtpmap:%s ", pt);
		l = line_find(offer, len, prefix, m, &ml);
		if (l && ml - strlen(prefix) < sizeof name)
			snprintf(name, sizeof name, "%.*s", (int)(ml - strlen(prefix)),
				 l + strlen(prefix));
		if (name[0] ? !known_codec(name) : strcmp(pt, "0") && strcmp(pt, "8"))
			continue;
		fl += (size_t)snprintf(fmts + fl, 256 - fl, "%s%s", fl ? " " : "", pt);
		if (name[0] && strlen(maps) + ml + 3 < 1024) {
			strncat(maps, l, ml);
			strcat(maps, "\r\n");
		}
	}
	if (!fl)
		snprintf(fmts, 256, "%s", first);
	return fmts[0] != '\0';
}

size_t bsdp_answer(const char *offer, size_t len, const char *addr,
		   char *buf, size_t size)
{
	struct out o = { buf, size, 0, false };
	char fmts[256], maps[1024], mid[32] = "0";
	const char *m, *l;
	size_t n, ml;
	bool bundle;

	m = line_find(offer, len, "m=audio ", NULL, &n);
	if (!m || !answer_formats(offer, len, m, n, fmts, maps))
		return 0;
	l = line_find(offer, len, "a=mid:", m, &ml);
	if (l && ml - 6 < sizeof mid)
		snprintf(mid, sizeof mid, "%.*s", (int)(ml - 6), l + 6);
	bundle = line_find(offer, len, "a=group:BUNDLE", NULL, &ml) != NULL;
	head(&o, addr, bundle, mid, fmts, false);
	add(&o, "%s", maps);
	tail(&o);
	return o.full ? 0 : o.len;
}
