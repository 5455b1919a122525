/**
 * @file wic.c  The edge as a whole: creation, the housekeeping tick,
 * shutdown and destruction.
 */
#include "wic_priv.h"
#include "store/store.h"
#include "auth/auth.h"
#include "conf/conf.h"
#include "util/log.h"

#include <errno.h>
#include <stdlib.h>
#include <sofia-sip/su_wait.h>

static void wic_tick(su_root_magic_t *m, su_timer_t *t, su_timer_arg_t *arg)
{
	struct wic *wic = (struct wic *)arg;
	time_t now = time(NULL);

	(void)m;
	(void)t;
	wic_reg_tick(wic->reg, now);
	ident_tick(wic->ident, now);
	wic_tl_tick(wic->tl, now);
	wic_limits_tick(wic, now);
}

/* The store committed: what waited for it goes out (a failure is logged
 * by the store; the replies describe what the gateway holds in memory). */
static void on_commit(void *arg, int err)
{
	(void)err;
	wic_flows_release(arg);
}

int wic_create(struct wic **wicp, su_root_t *root, void *gloop,
	       const struct conf *conf, struct store *store,
	       struct ident *ident)
{
	struct wic *wic = calloc(1, sizeof *wic);
	int err;

	if (!wic)
		return ENOMEM;
	su_home_init(wic->home);
	wic->conf = conf;
	wic->store = store;
	wic->ident = ident;
	wic->root = root;
	wic->gloop = gloop;
	wic->flows = g_hash_table_new(g_int64_hash, g_int64_equal);
	wic->held = g_array_new(FALSE, FALSE, sizeof(unsigned long));
	store_on_commit(store, on_commit, wic);
	err = wic_tenants_load(wic, conf);
	if (!err)
		err = auth_digest_create(&wic->digest,
					 (unsigned)conf->auth.nonce_lifetime,
					 (size_t)conf->auth.max_nonces);
	if (!err)
		err = wic_reg_create(wic, &wic->reg);
	if (!err)
		err = wic_tl_create(wic, &wic->tl);
	if (!err)
		err = wic_limits_create(wic);
	if (!err) {
		wic->tick = su_timer_create(su_root_task(root), 1000);
		if (!wic->tick || su_timer_set_for_ever(wic->tick, wic_tick,
							(su_timer_arg_t *)wic) < 0)
			err = ENOMEM;
	}
	if (!err)
		err = wic_ws_start(wic);
	if (err) {
		wic_destroy(wic);
		return err;
	}
	*wicp = wic;
	return 0;
}

int wic_reload(struct wic *wic, const struct conf *conf)
{
	int err = wic_tenants_load(wic, conf);

	if (err)
		return err;
	wic->conf = conf;
	wic->conf_gen++;        /* keys may have gone: forget verified tokens */
	(void)wic_ws_tls_reload(wic);   /* a renewed certificate; logged */
	return 0;
}

void wic_flow_closed_handler_set(struct wic *wic, wic_flow_closed_h *h,
				 void *arg)
{
	wic->closed_h = h;
	wic->closed_arg = arg;
}

void wic_request_handler_set(struct wic *wic, wic_request_h *h, void *arg)
{
	wic->req_h = h;
	wic->req_arg = arg;
}

static void flow_going_away(gpointer k, gpointer v, gpointer u)
{
	(void)k;
	(void)u;
	wic_flow_close(v, WIC_CLOSE_GOING_AWAY, "gateway shutting down");
}

size_t wic_shutdown(struct wic *wic)
{
	wic->closing = true;
	g_hash_table_foreach(wic->flows, flow_going_away, NULL);
	return g_hash_table_size(wic->flows);
}

size_t wic_flow_count(const struct wic *wic)
{
	return g_hash_table_size(wic->flows);
}

void wic_destroy(struct wic *wic)
{
	if (!wic)
		return;
	wic->closing = true;
	wic_ws_stop(wic);        /* closes what is left: flows are freed */
	if (wic->tick)
		su_timer_destroy(wic->tick);
	wic_tl_destroy(wic->tl);
	wic_limits_destroy(wic);
	wic_reg_destroy(wic->reg);
	auth_digest_free(wic->digest);
	wic_tenants_free(wic);
	store_on_commit(wic->store, NULL, NULL);
	if (wic->held)
		g_array_free(wic->held, TRUE);
	if (wic->flows)
		g_hash_table_destroy(wic->flows);
	su_home_deinit(wic->home);
	free(wic);
}
