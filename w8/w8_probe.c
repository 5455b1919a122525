/**
 * @file w8_probe.c  OPTIONS keepalive toward the P-CSCFs. In static mode
 * every P-CSCF of the list is probed and marked up or down; in
 * registration mode the serving one is, and its silence starts a failover.
 */
#include "w8_priv.h"
#include "conf/conf.h"
#include "util/log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_status.h>

static void probe_send(struct w8_probe *p)
{
	struct w8_trunk *t = p->trunk;
	const struct w8_pcscf *pc = &t->pcscf[p->index];
	const char *from = *t->conf->impu ? t->conf->impu : NULL;
	char local[200];

	if (p->nh)
		return;   /* the last one is still pending */
	snprintf(local, sizeof local, "sip:wtpf@%s", t->local_host);
	p->nh = nua_handle(t->nua, (nua_hmagic_t *)&p->obj,
			   SIPTAG_TO_STR(pc->uri),
			   SIPTAG_FROM_STR(from ? from : local), TAG_END());
	if (p->nh)
		nua_options(p->nh, NUTAG_URL(pc->uri), TAG_END());
}

static void probe_tick(su_root_magic_t *m, su_timer_t *timer,
		       su_timer_arg_t *arg)
{
	struct w8_trunk *t = (struct w8_trunk *)arg;

	(void)m;
	(void)timer;
	if (t->conf->mode_id == CONF_TRUNK_REGISTRATION) {
		if (t->reg.registered)
			probe_send(&t->probes[t->serving]);
		return;
	}
	for (size_t i = 0; i < t->pcscf_count; i++)
		probe_send(&t->probes[i]);
}

int w8_probe_start(struct w8_trunk *t)
{
	unsigned ms = (unsigned)t->conf->options_interval * 1000;

	t->probes = su_zalloc(t->home, t->pcscf_count * sizeof *t->probes);
	t->probe_timer = su_timer_create(su_root_task(t->w8->root), ms);
	if (!t->probes || !t->probe_timer)
		return ENOMEM;
	for (size_t i = 0; i < t->pcscf_count; i++) {
		t->probes[i].obj.kind = W8_OBJ_PROBE;
		t->probes[i].trunk = t;
		t->probes[i].index = i;
	}
	if (su_timer_set_for_ever(t->probe_timer, probe_tick,
				  (su_timer_arg_t *)t) < 0)
		return ENOMEM;
	if (t->conf->mode_id == CONF_TRUNK_STATIC)
		probe_tick(NULL, NULL, (su_timer_arg_t *)t);
	return 0;
}

void w8_probe_event(struct w8_probe *p, nua_event_t ev, int status,
		    const char *phrase, const sip_t *sip)
{
	struct w8_trunk *t = p->trunk;
	struct w8_pcscf *pc = &t->pcscf[p->index];

	(void)sip;
	if (ev != nua_r_options || status < 200)
		return;
	nua_handle_bind(p->nh, NULL);
	nua_handle_destroy(p->nh);
	p->nh = NULL;
	if (status != 408 && status != 503) {
		w8_pcscf_ok(t, p->index);
		return;
	}
	if (t->conf->mode_id == CONF_TRUNK_REGISTRATION) {
		if (p->index == t->serving && t->reg.registered) {
			char why[96];
			snprintf(why, sizeof why, "OPTIONS %d %s", status, phrase);
			w8_pcscf_failed(t, why);
		}
		return;
	}
	if (pc->up)
		w8_trunk_error(t, "P-CSCF %s is down (OPTIONS %d %s)", pc->uri,
			       status, phrase);
	pc->up = false;
}

void w8_probe_free(struct w8_trunk *t)
{
	if (t->probe_timer)
		su_timer_destroy(t->probe_timer);
	t->probe_timer = NULL;
	for (size_t i = 0; t->probes && i < t->pcscf_count; i++) {
		if (t->probes[i].nh) {
			nua_handle_bind(t->probes[i].nh, NULL);
			nua_handle_destroy(t->probes[i].nh);
			t->probes[i].nh = NULL;
		}
	}
}
