/**
 * @file w8_pcscf.c  A trunk's ordered P-CSCF list: which one serves,
 * failover to the next when it fails, and the source-address check for
 * requests that claim to come from IMS.
 */
#include "w8_priv.h"
#include "conf/conf.h"
#include "util/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sofia-sip/msg_addr.h>
#include <sofia-sip/url.h>

void w8_trunk_error(struct w8_trunk *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->last_error, sizeof t->last_error, fmt, ap);
	va_end(ap);
	log_warn("w8", 0, "trunk %s: %s", t->conf->name, t->last_error);
}

/* Fills @p p->addr when the URI's host is an IP literal. */
static void pcscf_addr(struct w8_pcscf *p, const url_t *u)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)&p->addr;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&p->addr;
	char host[64];
	size_t n = strlen(u->url_host);

	if (n >= sizeof host)
		return;
	memcpy(host, u->url_host, n + 1);
	if (host[0] == '[' && n > 2) {
		memmove(host, host + 1, n - 2);
		host[n - 2] = '\0';
	}
	if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		p->addrlen = sizeof *a4;
	} else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		p->addrlen = sizeof *a6;
	}
}

int w8_pcscf_load(struct w8_trunk *t)
{
	conf_strv_t list = t->conf->pcscf;
	size_t n = 0;

	while (list[n])
		n++;
	t->pcscf = su_zalloc(t->home, (n + 1) * sizeof *t->pcscf);
	if (!t->pcscf)
		return ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct w8_pcscf *p = &t->pcscf[i];
		url_t *u = url_hdup(t->home, (url_t *)url_make(t->home, list[i]));
		if (!u || !u->url_host) {
			log_err("w8", 0, "trunk %s: bad P-CSCF URI '%s'",
				t->conf->name, list[i]);
			return EINVAL;
		}
		p->uri = su_strdup(t->home, list[i]);
		p->route = url_has_param(u, "lr") ? su_sprintf(t->home, "<%s>", list[i])
						  : su_sprintf(t->home, "<%s;lr>", list[i]);
		p->up = true;   /* until shown otherwise */
		pcscf_addr(p, u);
	}
	t->pcscf_count = n;
	return 0;
}

/* The index of the P-CSCF new requests go through: registration mode the
 * one registered through (or being), static mode the first one up; -1
 * in static mode when none is up. */
static long serving_index(const struct w8_trunk *t)
{
	if (t->conf->mode_id == CONF_TRUNK_REGISTRATION)
		return (long)t->serving;
	for (size_t i = 0; i < t->pcscf_count; i++)
		if (t->pcscf[i].up)
			return (long)i;
	return -1;
}

const struct w8_pcscf *w8_pcscf_serving(const struct w8_trunk *t)
{
	long i = serving_index(t);

	if (t->conf->mode_id == CONF_TRUNK_REGISTRATION)
		return t->reg.registered ? &t->pcscf[i] : NULL;
	return i < 0 ? NULL : &t->pcscf[i];
}

void w8_pcscf_down(struct w8_trunk *t, size_t index, const char *why)
{
	struct w8_pcscf *p;
	size_t next;

	if (t->stopping || index >= t->pcscf_count)
		return;
	p = &t->pcscf[index];
	next = (index + 1) % t->pcscf_count;
	p->up = false;
	w8_trunk_error(t, "P-CSCF %s failed: %s", p->uri, why);
	/* registration mode moves on only when the one it uses failed */
	if (t->conf->mode_id != CONF_TRUNK_REGISTRATION || index != t->serving)
		return;
	if (next != t->serving)
		log_info("w8", 0, "trunk %s: failing over to P-CSCF %s",
			 t->conf->name, t->pcscf[next].uri);
	t->serving = next;
	w8_reg_restart(t);
}

void w8_pcscf_failed(struct w8_trunk *t, const char *why)
{
	long i = serving_index(t);

	if (i < 0)
		w8_trunk_error(t, "no P-CSCF is up: %s", why);
	else
		w8_pcscf_down(t, (size_t)i, why);
}

void w8_pcscf_ok(struct w8_trunk *t, size_t index)
{
	struct w8_pcscf *p = &t->pcscf[index];

	if (!p->up)
		log_info("w8", 0, "trunk %s: P-CSCF %s is up", t->conf->name, p->uri);
	p->up = true;
	p->last_ok = time(NULL);
}

static bool same_host(const struct sockaddr_storage *a,
		      const struct sockaddr *b)
{
	if (a->ss_family == AF_INET && b->sa_family == AF_INET)
		return !memcmp(&((const struct sockaddr_in *)a)->sin_addr,
			       &((const struct sockaddr_in *)b)->sin_addr, 4);
	if (a->ss_family == AF_INET6 && b->sa_family == AF_INET6)
		return !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
			       &((const struct sockaddr_in6 *)b)->sin6_addr, 16);
	return false;
}

bool w8_pcscf_is_source(const struct w8_trunk *t, const msg_t *msg)
{
	const su_addrinfo_t *ai = msg ? msg_addrinfo((msg_t *)msg) : NULL;
	bool any_known = false;

	if (!ai || !ai->ai_addr)
		return false;
	for (size_t i = 0; i < t->pcscf_count; i++) {
		if (!t->pcscf[i].addrlen)
			continue;
		any_known = true;
		if (same_host(&t->pcscf[i].addr, ai->ai_addr))
			return true;
	}
	/* P-CSCFs named by domain only: their addresses come from DNS at
	 * send time, so the check cannot be made here. */
	return !any_known;
}

const char *w8_pcscf_transport(const struct w8_pcscf *pc)
{
	const char *uri = pc->uri;
	const char *p = strstr(uri, "transport=");

	if (!p)
		return strncmp(uri, "sips:", 5) ? "udp" : "tls";
	p += 10;
	if (!strncasecmp(p, "tcp", 3))
		return "tcp";
	if (!strncasecmp(p, "tls", 3))
		return "tls";
	return "udp";
}

char *w8_contact_via(su_home_t *home, const struct w8_trunk *t,
		    const struct w8_pcscf *via, const char *user)
{
	const char *tp = w8_pcscf_transport(via);

	if (!user || !*user)
		return su_sprintf(home, "<sip:%s;transport=%s>", t->local_host, tp);
	return su_sprintf(home, "<sip:%s@%s;transport=%s>", user, t->local_host,
			  tp);
}

char *w8_contact(su_home_t *home, const struct w8_trunk *t, const char *user)
{
	long i = serving_index(t);

	return w8_contact_via(home, t, &t->pcscf[i < 0 ? (long)t->serving : i],
			      user);
}
