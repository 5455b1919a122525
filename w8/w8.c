/**
 * @file w8.c  The trunk set: one nua agent per trunk on the gateway's
 * su_root, and the dispatch of nua events to registration, probes and legs.
 */
#include "w8_priv.h"
#include "conf/conf.h"
#include "util/log.h"
#include "util/sip_mclass.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sofia-sip/nta_tag.h>
#include <glib.h>
#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sresolv.h>
#include <sofia-sip/tport_tag.h>
#include <sofia-sip/url.h>

#define W8_ALLOW "INVITE, ACK, BYE, CANCEL, OPTIONS, PRACK, UPDATE, INFO"

static void w8_nua_cb(nua_event_t ev, int status, char const *phrase,
		      nua_t *nua, nua_magic_t *magic, nua_handle_t *nh,
		      nua_hmagic_t *hmagic, sip_t const *sip, tagi_t tags[])
{
	struct w8_trunk *t = (struct w8_trunk *)magic;
	struct w8_obj *o = (struct w8_obj *)hmagic;
	gint64 t0 = g_get_monotonic_time();
	bool call = (o && o->kind == W8_OBJ_LEG) || ev == nua_i_invite;

	(void)nua;
	(void)tags;
	if (ev == nua_r_shutdown) {
		if (status >= 200)
			t->shut_down = true;
		return;
	}
	if (o && o->kind == W8_OBJ_REG)
		w8_reg_event((struct w8_reg *)o, ev, status, phrase, sip);
	else if (o && o->kind == W8_OBJ_PROBE)
		w8_probe_event((struct w8_probe *)o, ev, status, phrase, sip);
	else if (o && o->kind == W8_OBJ_LEG)
		w8_leg_event((struct w8_leg *)o, ev, status, phrase, sip);
	else if (ev == nua_i_invite)
		w8_leg_incoming(t, nh, sip);
	else if (nh && nua_event_is_incoming_request(ev) && !o) {
		/* OPTIONS is answered by nua itself; the rest is not served. */
		if (ev != nua_i_options && ev != nua_i_ack)
			nua_respond(nh, SIP_405_METHOD_NOT_ALLOWED,
				    SIPTAG_ALLOW_STR(W8_ALLOW), TAG_END());
		nua_handle_destroy(nh);
	}
	if (call && sip && (sip->sip_request || sip->sip_status))
		histo_add(&t->w8->sip_time[!sip->sip_request ? W8_SIP_RESPONSE :
				ev == nua_i_invite ? W8_SIP_INVITE : W8_SIP_OTHER],
			  g_get_monotonic_time() - t0);
}

/* host:port of the bind URI, for our Contact. */
static int local_host(struct w8_trunk *t)
{
	su_home_t home[1] = { SU_HOME_INIT(home) };
	url_t *u = url_hdup(home, (url_t *)url_make(home, t->conf->bind));
	int n = -1;

	if (u && u->url_host)
		n = snprintf(t->local_host, sizeof t->local_host, "%s%s%s",
			     u->url_host, u->url_port ? ":" : "",
			     u->url_port ? u->url_port : "");
	su_home_deinit(home);
	return n > 0 && (size_t)n < sizeof t->local_host ? 0 : EINVAL;
}

/* Each second: repeat ringing calls' provisionals, log the overload. */
static void trunk_tick(su_root_magic_t *m, su_timer_t *timer,
		       su_timer_arg_t *arg)
{
	struct w8_trunk *t = (struct w8_trunk *)arg;

	(void)m;
	(void)timer;
	w8_ring_tick(t);
	w8_overload_tick(t);
}

static int trunk_tick_start(struct w8_trunk *t)
{
	t->tick = su_timer_create(su_root_task(t->w8->root), 1000);
	if (!t->tick ||
	    su_timer_set_for_ever(t->tick, trunk_tick, (su_timer_arg_t *)t) < 0)
		return ENOMEM;
	return 0;
}

static void trunk_tick_stop(struct w8_trunk *t)
{
	if (t->tick)
		su_timer_destroy(t->tick);
	t->tick = NULL;
}

static int trunk_start(struct w8 *w8, struct w8_trunk *t,
		       const struct conf_trunk *c)
{
	bool tls = *c->tls_dir != '\0';
	/* A sips: bind is itself the TLS listener (Sofia serves only TLS on
	 * it), and the Contact names it. Only a sip: bind gets the extra TLS
	 * listener, for TLS toward the P-CSCF: on a port of Sofia's choosing
	 * that no Contact names. */
	bool sips_bind = !strncmp(c->bind, "sips:", 5);
	unsigned t1x64 = (unsigned)c->failover_time * 1000;

	su_home_init(t->home);
	t->w8 = w8;
	t->conf = c;
	if (local_host(t)) {
		log_err("w8", 0, "trunk %s: bind '%s' is not a SIP URI", c->name, c->bind);
		return EINVAL;
	}
	w8_tls_begin(t);
	t->nua = nua_create(w8->root, w8_nua_cb, (nua_magic_t *)t,
			    NUTAG_URL(c->bind),
			    TAG_IF(tls && !sips_bind, NUTAG_SIPS_URL("sips:*:*")),
			    TAG_IF(tls, TPTAG_CERTIFICATE(c->tls_dir)),
			    /* Peers' certificates must chain to cafile.pem:
			     * the P-CSCF's, and with mutual TLS a connecting
			     * peer's (names checked in w8_tls.c) */
			    TAG_IF(tls, TPTAG_TLS_VERIFY_POLICY(w8_tls_verify_policy(c))),
			    NTATAG_SIP_T1X64(t1x64),
			    /* ringing calls' provisionals are repeated by
			     * w8_ring.c, not by nta's sorted timer list */
			    NTATAG_PROGRESS(UINT_MAX),
			    /* P-Asserted-Identity, Privacy... arrive parsed */
			    NTATAG_MCLASS(sip_mclass_extended()),
			    TAG_IF(*c->resolv_conf, SRESTAG_RESOLV_CONF(c->resolv_conf)),
			    TAG_END());
	if (!t->nua) {
		w8_tls_end(false);
		log_err("w8", 0, "trunk %s: cannot listen on %s", c->name, c->bind);
		return EADDRINUSE;
	}
	if (w8_tls_end(true))
		return EPROTO;
	nua_set_params(t->nua, NUTAG_MEDIA_ENABLE(0), NUTAG_AUTOALERT(0),
		       NUTAG_AUTOANSWER(0), NUTAG_AUTOACK(1),
		       NUTAG_ENABLEMESSAGE(0), NUTAG_SERVICE_ROUTE_ENABLE(0),
		       NUTAG_PATH_ENABLE(0), NUTAG_OUTBOUND("no-outbound"),
		       /* SIPTAG_ALLOW_STR replaces nua's default list;
			* NUTAG_ALLOW would add to it (MESSAGE, SUBSCRIBE,
			* NOTIFY, REFER): methods the trunk does not serve. */
		       SIPTAG_ALLOW_STR(W8_ALLOW),
		       /* An UPDATE from IMS is the call core's to answer (the
			* browser's answer to its offer goes back in the 200),
			* not nua's: nua would answer it at once, without SDP.
			* The answer then needs NUTAG_WITH (nua finds only an
			* INVITE without it), hence leg->update. Set here, for
			* every handle, rather than on each call leg: one
			* nua_set_hparams() per leg cost two trips through
			* nua's message queue, each a wake-up of the loop. */
		       NUTAG_APPL_METHOD("UPDATE"),
		       /* RFC 4028 session timers: nua refreshes with an UPDATE
			* without SDP when it is the refresher, so no offer has
			* to be made up; a refresh that fails ends the call, so
			* a dead IMS transport ends both legs. RFC 3262 100rel
			* is done by nua on this side only (PRACKs sent and
			* answered here): browsers do not PRACK, and reliable
			* provisionals toward them are not needed. */
		       SIPTAG_SUPPORTED_STR("timer, 100rel"), NUTAG_EARLY_MEDIA(1),
		       TAG_IF(c->session_expires,
			      NUTAG_SESSION_TIMER((unsigned)c->session_expires)),
		       NUTAG_UPDATE_REFRESH(1),
		       NUTAG_REFRESH_WITHOUT_SDP(1), NUTAG_MIN_SE(W8_MIN_SE),
		       SIPTAG_USER_AGENT_STR("wtpf/0.1"), TAG_END());
	if (w8_pcscf_load(t))
		return EINVAL;
	for (size_t i = 0; !sips_bind && i < t->pcscf_count; i++)
		if (!strcmp(w8_pcscf_transport(&t->pcscf[i]), "tls"))
			log_warn("w8", 0, "trunk %s: P-CSCF %s is reached over TLS "
				 "but bind '%s' is not sips: our Contact names "
				 "%s;transport=tls, where no TLS listener is, so "
				 "requests from IMS cannot reach us: bind a sips: URI",
				 c->name, t->pcscf[i].uri, c->bind, t->local_host);
	log_info("w8", 0, "trunk %s: %s mode, listening on %s, P-CSCF %s",
		 c->name, c->mode, c->bind, t->pcscf[0].uri);
	if (c->mode_id == CONF_TRUNK_REGISTRATION && w8_reg_start(t))
		return ENOMEM;
	if (trunk_tick_start(t))
		return ENOMEM;
	return w8_probe_start(t);
}

int w8_create(struct w8 **w8p, su_root_t *root, const struct conf *conf)
{
	struct w8 *w8 = calloc(1, sizeof *w8);
	int err = 0;

	if (!w8)
		return ENOMEM;
	w8->conf = conf;
	w8->root = root;
	w8->trunks = calloc(conf->trunk_count + 1, sizeof *w8->trunks);
	if (!w8->trunks)
		err = ENOMEM;
	for (size_t i = 0; !err && i < conf->trunk_count; i++) {
		w8->trunk_count = i + 1;
		err = trunk_start(w8, &w8->trunks[i], &conf->trunks[i]);
	}
	if (err) {
		w8_destroy(w8);
		return err;
	}
	w8_names_freeze(true);
	*w8p = w8;
	return 0;
}

bool w8_shutdown(struct w8 *w8)
{
	bool idle = true;

	for (size_t i = 0; w8 && i < w8->trunk_count; i++) {
		struct w8_trunk *t = &w8->trunks[i];
		if (!t->nua || t->shut_down)
			continue;
		if (!t->stopping) {
			t->stopping = true;
			w8_probe_free(t);
			trunk_tick_stop(t);
		}
		if (!w8_reg_stop(t)) {
			idle = false;     /* un-REGISTER still under way */
			continue;
		}
		if (t->stopping != 2) {
			t->stopping = 2;
			nua_shutdown(t->nua);
		}
		idle = false;
	}
	return idle;
}

/* nua_destroy() wants a nua whose shutdown has finished: when the
 * gateway stops without one (a start that failed half-way, or a
 * shutdown that ran out of time), shut the trunk's nua down and run the
 * loop until it reports, for at most W8_DESTROY_WAIT_MS. Returns whether
 * it did. */
#define W8_DESTROY_WAIT_MS 2000
static bool w8_trunk_shutdown_wait(struct w8_trunk *t)
{
	gint64 end = g_get_monotonic_time() + W8_DESTROY_WAIT_MS * 1000;

	if (t->shut_down)
		return true;
	if (t->stopping != 2) {
		t->stopping = 2;
		nua_shutdown(t->nua);
	}
	while (!t->shut_down && g_get_monotonic_time() < end)
		if (!g_main_context_iteration(NULL, FALSE))
			g_usleep(1000);
	return t->shut_down;
}

void w8_destroy(struct w8 *w8)
{
	if (!w8)
		return;
	w8_names_freeze(false);
	w8_loop_stop(w8);
	for (size_t i = 0; i < w8->trunk_count; i++) {
		struct w8_trunk *t = &w8->trunks[i];
		/* legs whose dialogs never ended (an INVITE still pending when
		 * the trunk stopped): nua will not report on them any more */
		size_t left = 0;

		for (; t->legs; left++)
			w8_leg_free(t->legs);
		if (left)
			log_info("w8", 0, "trunk %s: %zu call legs still open at "
				 "shutdown, freed", t->conf->name, left);
		w8_probe_free(t);
		trunk_tick_stop(t);
		w8_reg_free(t);
		if (t->nua && w8_trunk_shutdown_wait(t))
			nua_destroy(t->nua);
		else if (t->nua)
			log_err("w8", 0, "trunk %s: nua did not shut down in %d ms; "
				"left to the process exit", t->conf->name,
				W8_DESTROY_WAIT_MS);
		w8_tls_free(t);
		su_home_deinit(t->home);
	}
	free(w8->trunks);
	free(w8);
}

struct w8_trunk *w8_trunk_get(struct w8 *w8, const char *name)
{
	for (size_t i = 0; w8 && i < w8->trunk_count; i++)
		if (!name || !*name || !strcmp(w8->trunks[i].conf->name, name))
			return &w8->trunks[i];
	return NULL;
}

const char *w8_trunk_name(const struct w8_trunk *t)
{
	return t->conf->name;
}

const struct conf_trunk *w8_trunk_conf(const struct w8_trunk *t)
{
	return t->conf;
}

enum w8_state w8_trunk_state(const struct w8_trunk *t, const char **pcscf,
			     const char **last_error)
{
	const struct w8_pcscf *p = w8_pcscf_serving(t);
	enum w8_state s;

	if (pcscf)
		*pcscf = p ? p->uri : t->pcscf[t->serving].uri;
	if (last_error)
		*last_error = t->last_error;
	if (t->withdrawn)
		s = W8_STATE_WITHDRAWN;
	else if (t->conf->mode_id == CONF_TRUNK_REGISTRATION)
		s = t->reg.registered ? W8_STATE_UP : t->reg.nh ? W8_STATE_REGISTERING
								: W8_STATE_DOWN;
	else
		s = p ? W8_STATE_UP : W8_STATE_DOWN;
	return s;
}

size_t w8_trunk_count(const struct w8 *w8)
{
	return w8 ? w8->trunk_count : 0;
}

struct w8_trunk *w8_trunk_at(struct w8 *w8, size_t i)
{
	return w8 && i < w8->trunk_count ? &w8->trunks[i] : NULL;
}

void w8_trunk_withdraw(struct w8_trunk *t, bool withdraw)
{
	if (t->withdrawn == withdraw || t->stopping)
		return;
	t->withdrawn = withdraw;
	log_info("w8", 0, "trunk %s: %s", t->conf->name, withdraw ?
		 "withdrawn (no enabled identity set uses it)" :
		 "back in service");
	if (t->conf->mode_id != CONF_TRUNK_REGISTRATION)
		return;
	if (withdraw) {
		if (t->reg.retry)
			su_timer_reset(t->reg.retry);
		(void)w8_reg_stop(t);   /* un-registers when registered */
	} else {
		t->reg.failures = 0;
		w8_reg_restart(t);
	}
}

const char *w8_state_name(enum w8_state s)
{
	switch (s) {
	case W8_STATE_UP: return "up";
	case W8_STATE_REGISTERING: return "registering";
	case W8_STATE_WITHDRAWN: return "withdrawn";
	default: return "down";
	}
}

void w8_incoming_handler_set(struct w8 *w8, w8_incoming_h *h, void *arg)
{
	w8->in_h = h;
	w8->in_arg = arg;
}

const struct histo *w8_sip_time(const struct w8 *w8, enum w8_sip_kind kind,
				const char **label)
{
	static const char *const names[W8_SIP_KINDS] = {
		"INVITE", "other", "response" };

	if (kind >= W8_SIP_KINDS)
		return NULL;
	*label = names[kind];
	return &w8->sip_time[kind];
}
