/**
 * @file w8_reg.c  Registration mode (RFC 6140): one REGISTER for the whole
 * number range with a bnc Contact and the gin option tags, digest
 * authentication with the trunk's IMPI, Service-Route kept for initial
 * requests (RFC 3608), retries with back-off, un-REGISTER on shutdown.
 * nua refreshes a successful registration well before it expires.
 */
#include "w8_priv.h"
#include "auth/auth.h"
#include "conf/conf.h"
#include "util/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sofia-sip/msg_header.h>
#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>

static void reg_send(struct w8_trunk *t);
static void reg_request(struct w8_trunk *t, const char *auth, bool proxy,
			bool unreg);


static void reg_retry_cb(su_root_magic_t *m, su_timer_t *timer,
			 su_timer_arg_t *arg)
{
	(void)m;
	(void)timer;
	reg_send((struct w8_trunk *)arg);
}

/* Schedules the next attempt: retry_min doubling up to retry_max. */
static void reg_backoff(struct w8_trunk *t)
{
	const struct conf_trunk *c = t->conf;
	unsigned delay = (unsigned)c->retry_min;

	for (unsigned i = 1; i < t->reg.failures && delay < (unsigned)c->retry_max; i++)
		delay *= 2;
	if (delay > (unsigned)c->retry_max)
		delay = (unsigned)c->retry_max;
	log_info("w8", 0, "trunk %s: next REGISTER in %u s", c->name, delay);
	su_timer_set_interval(t->reg.retry, reg_retry_cb, (su_timer_arg_t *)t,
			      delay * 1000);
}

/*
 * Sends a REGISTER on a new handle (so a new Call-ID), with @p auth as
 * credentials when not NULL. Sofia's own digest client (nua_authenticate)
 * is not used: the Debian build sends a blank response, and it knows no
 * SHA-256 (RFC 8760). A challenged refresh therefore starts a new handle,
 * and so does a challenged un-REGISTER (@p unreg: Expires 0).
 */
static void reg_request(struct w8_trunk *t, const char *auth, bool proxy,
			bool unreg)
{
	struct w8_reg *r = &t->reg;
	const struct conf_trunk *c = t->conf;
	const struct w8_pcscf *p = &t->pcscf[t->serving];
	char registrar[300], expires[16];

	if (r->nh) {
		nua_handle_bind(r->nh, NULL);
		nua_handle_destroy(r->nh);
	}
	snprintf(registrar, sizeof registrar, "sip:%s", c->domain);
	snprintf(expires, sizeof expires, "%d", c->register_expires);
	r->nh = nua_handle(t->nua, (nua_hmagic_t *)&r->obj,
			   SIPTAG_TO_STR(c->impu), SIPTAG_FROM_STR(c->impu),
			   NUTAG_INITIAL_ROUTE_STR(p->route), TAG_END());
	if (!r->nh) {
		w8_trunk_error(t, "cannot create the REGISTER handle");
		return;
	}
	(unreg ? nua_unregister : nua_register)(r->nh,
		     NUTAG_REGISTRAR(registrar),
		     SIPTAG_CONTACT_STR(t->contact),
		     SIPTAG_REQUIRE_STR("gin"), SIPTAG_PROXY_REQUIRE_STR("gin"),
		     SIPTAG_SUPPORTED_STR("path, gin"),
		     SIPTAG_EXPIRES_STR(unreg ? "0" : expires),
		     NUTAG_M_FEATURES(NULL),
		     TAG_IF(auth && !proxy, SIPTAG_AUTHORIZATION_STR(auth)),
		     TAG_IF(auth && proxy, SIPTAG_PROXY_AUTHORIZATION_STR(auth)),
		     TAG_END());
}

/* A fresh registration toward the serving P-CSCF. */
static void reg_send(struct w8_trunk *t)
{
	const struct w8_pcscf *p = &t->pcscf[t->serving];

	if (t->withdrawn)
		return;
	t->reg.registered = false;
	t->reg.auth_tried = false;
	snprintf(t->contact, sizeof t->contact, "<sip:%s;transport=%s;bnc>",
		 t->local_host, w8_pcscf_transport(p));
	log_info("w8", 0, "trunk %s: REGISTER %s via %s Contact %s",
		 t->conf->name, t->conf->impu, p->uri, t->contact);
	reg_request(t, NULL, false, false);
}

int w8_reg_start(struct w8_trunk *t)
{
	t->reg.obj.kind = W8_OBJ_REG;
	t->reg.trunk = t;
	t->reg.retry = su_timer_create(su_root_task(t->w8->root), 1000);
	if (!t->reg.retry)
		return ENOMEM;
	reg_send(t);
	return 0;
}

void w8_reg_restart(struct w8_trunk *t)
{
	if (!t->reg.retry || t->stopping)
		return;
	su_timer_reset(t->reg.retry);
	reg_send(t);
}

/* 401/407: answer the challenge once with the trunk's credentials. The
 * digest is computed here (MD5 or SHA-256, RFC 8760) rather than by nua. */
static bool reg_authenticate(struct w8_reg *r, const sip_t *sip)
{
	const struct conf_trunk *c = r->trunk->conf;
	bool proxy = !sip->sip_www_authenticate;
	const msg_auth_t *ch = proxy ? sip->sip_proxy_authenticate
				     : sip->sip_www_authenticate;
	char registrar[300], auth[1024];
	int err;

	if (r->auth_tried || !ch || !*c->impi)
		return false;
	r->auth_tried = true;
	snprintf(registrar, sizeof registrar, "sip:%s", c->domain);
	err = auth_digest_answer(ch->au_params, c->impi, c->password,
				 "REGISTER", registrar, 1, auth, sizeof auth);
	if (err) {
		w8_trunk_error(r->trunk, "cannot answer the %s challenge: %s",
			       ch->au_scheme, strerror(err));
		return false;
	}
	reg_request(r->trunk, auth, proxy, r->unregistering);
	return true;
}

static void reg_ok(struct w8_reg *r, const sip_t *sip)
{
	struct w8_trunk *t = r->trunk;
	su_home_t *h = t->home;
	unsigned exp = sip && sip->sip_expires ? sip->sip_expires->ex_delta : 0;

	if (sip && sip->sip_contact && sip->sip_contact->m_expires)
		exp = (unsigned)strtoul(sip->sip_contact->m_expires, NULL, 10);

	r->registered = true;
	r->failures = 0;
	r->auth_tried = false;
	t->last_error[0] = '\0';
	su_free(h, r->service_route);
	r->service_route = NULL;
	if (sip && sip->sip_service_route)
		r->service_route = sip_header_as_string(h,
				(sip_header_t const *)sip->sip_service_route);
	w8_pcscf_ok(t, t->serving);
	log_info("w8", 0, "trunk %s: registered via %s (expires %u%s%s)",
		 t->conf->name, t->pcscf[t->serving].uri, exp,
		 r->service_route ? ", Service-Route " : "",
		 r->service_route ? r->service_route : "");
	if (t->withdrawn)   /* withdrawn while this REGISTER was under way */
		(void)w8_reg_stop(t);
}

static void reg_failed(struct w8_reg *r, int status, const char *phrase,
		       const sip_t *sip)
{
	struct w8_trunk *t = r->trunk;
	const char *unsup = sip && sip->sip_unsupported ?
		sip->sip_unsupported->k_items[0] : NULL;

	r->registered = false;
	r->failures++;
	if (status == 420)
		w8_trunk_error(t, "REGISTER refused 420 %s: the P-CSCF does not "
			       "support %s (RFC 6140 gin)", phrase,
			       unsup ? unsup : "an option tag");
	else if (status == 403 || status == 401 || status == 407)
		w8_trunk_error(t, "REGISTER refused %d %s: check impu, impi and "
			       "password provisioned in the HSS", status, phrase);
	else
		w8_trunk_error(t, "REGISTER failed %d %s", status, phrase);
	if (status == 408 || status == 420 || status >= 500) {
		/* Try each other P-CSCF once at once, then back off. */
		t->pcscf[t->serving].up = false;
		t->serving = (t->serving + 1) % t->pcscf_count;
		if (r->failures < t->pcscf_count) {
			log_info("w8", 0, "trunk %s: trying P-CSCF %s",
				 t->conf->name, t->pcscf[t->serving].uri);
			reg_send(t);
			return;
		}
	}
	reg_backoff(t);
}

void w8_reg_event(struct w8_reg *r, nua_event_t ev, int status,
		  const char *phrase, const sip_t *sip)
{
	log_dbg("w8", 0, "trunk %s: %s %d %s", r->trunk->conf->name,
		nua_event_name(ev), status, phrase);
	if (ev == nua_r_unregister) {
		/* The un-REGISTER replays the REGISTER's credentials; a
		 * registrar that takes each nonce once challenges it. */
		if ((status == 401 || status == 407) && sip &&
		    reg_authenticate(r, sip))
			return;
		if (status >= 200) {
			log_info("w8", 0, "trunk %s: un-registered (%d %s)",
				 r->trunk->conf->name, status, phrase);
			r->unregistering = false;
			r->registered = false;
			if (!r->trunk->withdrawn && !r->trunk->stopping)
				reg_send(r->trunk);   /* put back meanwhile */
		}
		return;
	}
	if (ev != nua_r_register || status < 200)
		return;
	if (status < 300)
		reg_ok(r, sip);
	else if ((status == 401 || status == 407) && sip && reg_authenticate(r, sip))
		return;
	else
		reg_failed(r, status, phrase, sip);
}

bool w8_reg_stop(struct w8_trunk *t)
{
	struct w8_reg *r = &t->reg;

	if (t->conf->mode_id != CONF_TRUNK_REGISTRATION || !r->nh)
		return true;
	if (r->retry)
		su_timer_reset(r->retry);
	if (r->registered && !r->unregistering) {
		r->unregistering = true;
		r->auth_tried = false;
		log_info("w8", 0, "trunk %s: un-registering", t->conf->name);
		nua_unregister(r->nh, TAG_END());
		return false;
	}
	return !r->unregistering;
}

void w8_reg_free(struct w8_trunk *t)
{
	struct w8_reg *r = &t->reg;

	if (r->retry)
		su_timer_destroy(r->retry);
	r->retry = NULL;
	if (r->nh) {
		nua_handle_bind(r->nh, NULL);
		nua_handle_destroy(r->nh);
	}
	r->nh = NULL;
}
