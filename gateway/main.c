/**
 * @file main.c  wtpfd: the gateway daemon. One thread, one GLib main loop
 * driving Sofia-SIP (su_glib root) and libwebsockets (foreign GLib loop).
 */
#include "gateway/call/call.h"
#include "gateway/admin/admin.h"
#include "gateway/admin/api.h"
#include "gateway/admin/console.h"
#include "gateway/cli.h"
#include "gateway/metrics.h"
#include "gateway/svc/svc.h"
#include "gateway/ident/ident.h"
#include "conf/conf.h"
#include "store/store.h"
#include "util/fdlimit.h"
#include "util/log.h"
#include "util/sofia_log.h"
#include "w8/w8.h"
#include "gateway/wic/wic.h"

#include <errno.h>
#include <glib.h>
#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sofia-sip/su_glib.h>

#define SHUTDOWN_GRACE_MS 3000
#define CDR_PURGE_EVERY_S 3600     /* call records past store.cdr_days go hourly */
#define CDR_PURGE_BATCH 500        /* records deleted in one turn of the loop */
#define CDR_PURGE_PAUSE_MS 20      /* between two batches of one purge */

struct gw {
	GMainLoop *loop;
	su_root_t *root;
	struct conf *conf;
	const struct conf *start_conf;  /**< the one the parts that a reload
					     cannot change started with */
	struct store *store;
	struct ident *ident;
	struct wic *wic;
	struct w8 *w8;
	struct call_core *calls;
	struct svc *svc;
	struct admin *admin;
	struct metrics_src metrics;
	struct api_src api;
	const char *conf_path;
	GSList *old_confs;         /**< replaced by reloads, kept: still borrowed */
	guint purge_hourly;        /**< the hourly call-record purge */
	guint purge_step;          /**< the next batch of a purge under way, or 0 */
	long long purge_before;    /**< that purge's bound (Unix ms) */
	size_t purged;             /**< records it deleted so far */
	gint64 stop_deadline;
	int exit_code;
};

static gboolean on_stop_poll(gpointer arg)
{
	struct gw *gw = arg;

	bool w8_idle = w8_shutdown(gw->w8);

	if ((wic_flow_count(gw->wic) || !w8_idle) &&
	    g_get_monotonic_time() < gw->stop_deadline)
		return G_SOURCE_CONTINUE;
	g_main_loop_quit(gw->loop);
	return G_SOURCE_REMOVE;
}

static gboolean on_signal(gpointer arg)
{
	struct gw *gw = arg;

	if (gw->stop_deadline)
		return G_SOURCE_CONTINUE;
	log_info("main", 0, "signal received: shutting down (%zu flows)",
		 wic_flow_count(gw->wic));
	call_core_shutdown(gw->calls);
	wic_shutdown(gw->wic);
	w8_shutdown(gw->w8);
	gw->stop_deadline = g_get_monotonic_time() + SHUTDOWN_GRACE_MS * 1000;
	g_timeout_add(20, on_stop_poll, gw);
	return G_SOURCE_CONTINUE;
}

/* Trunks that no enabled identity set uses are withdrawn (seed 004). */
static void gw_trunks_apply(struct gw *gw)
{
	for (size_t i = 0; i < w8_trunk_count(gw->w8); i++) {
		struct w8_trunk *t = w8_trunk_at(gw->w8, i);
		w8_trunk_withdraw(t, !ident_trunk_wanted(gw->ident,
							 w8_trunk_name(t)));
	}
}

/* The trunks of @p a and @p b are the same list (a reload cannot change
 * them: their listeners and registrations live on). */
static bool gw_same_trunks(const struct conf *a, const struct conf *b)
{
	if (a->trunk_count != b->trunk_count)
		return false;
	for (size_t i = 0; i < a->trunk_count; i++)
		if (strcmp(a->trunks[i].name, b->trunks[i].name))
			return false;
	return true;
}

/* The configuration's log level and line format take effect. */
static void gw_log_format(const struct conf *conf)
{
	enum log_level lvl = LOG_INFO;
	enum log_format fmt = LOG_FORMAT_TEXT;

	log_level_parse(conf->log_level, &lvl);
	log_level_set(lvl);
	log_format_parse(conf->log_format, &fmt);
	log_format_set(fmt);
}

/* ---- call record retention (store.cdr_days) ----------------------- */

/* One batch of the purge under way; again after a pause while batches
 * come back full, so that a large purge never holds the loop for long. */
static gboolean gw_purge_step(gpointer arg)
{
	struct gw *gw = arg;
	size_t n = 0;
	int err = store_cdr_purge_some(gw->store, gw->purge_before,
				       CDR_PURGE_BATCH, &n);

	gw->purged += n;
	if (!err && n == CDR_PURGE_BATCH)
		return G_SOURCE_CONTINUE;
	if (err)
		log_err("main", 0, "call records: purge failed: %s", strerror(err));
	if (gw->purged)
		log_info("main", 0, "call records: %zu older than %d days deleted",
			 gw->purged, gw->conf->store.cdr_days);
	gw->purge_step = 0;
	return G_SOURCE_REMOVE;
}

/* Starts deleting the records that ended more than store.cdr_days ago
 * (0: none), unless a purge is under way. */
static void gw_purge_start(struct gw *gw)
{
	int days = gw->conf->store.cdr_days;

	if (!days || gw->purge_step)
		return;
	gw->purge_before = g_get_real_time() / 1000 - (long long)days * 86400000;
	gw->purged = 0;
	if (gw_purge_step(gw) == G_SOURCE_CONTINUE)
		gw->purge_step = g_timeout_add(CDR_PURGE_PAUSE_MS, gw_purge_step, gw);
}

static gboolean gw_purge_hourly(gpointer arg)
{
	gw_purge_start(arg);
	return G_SOURCE_CONTINUE;
}

/* ---- reload -------------------------------------------------------- */

/* Hands @p conf to the parts that take a reload, all or none: each part
 * takes it whole or not at all, and a part that refuses it sends those
 * before it back to the running configuration. Returns 0; EINVAL, nothing
 * changed; or EIO when even that failed (see the log). */
static int gw_apply(struct gw *gw, const struct conf *conf)
{
	int err = wic_reload(gw->wic, conf), back = 0;

	if (err)
		return EINVAL;
	err = svc_reload(gw->svc, conf);
	if (!err) {
		err = ident_reload(gw->ident, conf);
		if (err)
			back |= svc_reload(gw->svc, gw->conf);
	}
	if (err)
		back |= wic_reload(gw->wic, gw->conf);
	if (back)
		log_err("main", 0, "reload failed part way and the running "
			"configuration could not be restored everywhere");
	return !err ? 0 : back ? EIO : EINVAL;
}

/* The descriptor limit for max_connections WebSockets and the rest, set
 * before libwebsockets sizes its tables by it (see util/fdlimit.h). */
static void gw_fdlimit_fit(const struct conf *conf)
{
	unsigned long need = (unsigned long)conf->limits.max_connections +
			     FDLIMIT_RESERVE, got;
	int err = fdlimit_fit(need, &got);

	if (err)
		log_warn("main", 0, "cannot set the descriptor limit to %lu: %s "
			 "(it stays %lu)", need, strerror(err), got);
	else if (got < need)
		log_warn("main", 0, "descriptor limit %lu (the hard limit) is "
			 "below max_connections %d + %d: raise it (LimitNOFILE, "
			 "ulimit -Hn)", got, conf->limits.max_connections,
			 FDLIMIT_RESERVE);
	else
		log_info("main", 0, "descriptor limit %lu (max_connections %d + "
			 "%d)", got, conf->limits.max_connections,
			 FDLIMIT_RESERVE);
}

/* A reload cannot give libwebsockets more descriptors than at start. */
static void gw_fdlimit_check(const struct conf *conf)
{
	unsigned long need = (unsigned long)conf->limits.max_connections +
			     FDLIMIT_RESERVE, have = fdlimit_get();

	if (have < need)
		log_warn("main", 0, "max_connections %d needs a descriptor limit "
			 "of %lu, set at start to %lu: restart to raise it",
			 conf->limits.max_connections, need, have);
}

/* Appends @p key to the GString @p arg, with a log line. */
static void gw_restart_note(void *arg, const char *key)
{
	log_warn("main", 0, "%s changed: needs a restart; the running value "
		 "stays", key);
	g_string_append_printf(arg, "%s\n", key);
}

/* Loads @p conf's admin token ahead of the swap. 0, or EINVAL with errs. */
static int gw_token(const struct conf *conf, char **tokp, char **errs)
{
	char why[300];
	const char *file = conf->admin.token_file;

	*tokp = NULL;
	if (!*file || !conf_token_read(file, tokp, why, sizeof why))
		return 0;
	if (asprintf(errs, "%s: admin.token_file: '%s': %s", conf->file, file,
		     why) < 0)
		*errs = NULL;
	return EINVAL;
}

/* Refuses a reload: logs @p errs, frees @p conf. Returns @p err. */
static int gw_refuse(struct conf *conf, const char *errs, int err)
{
	log_err("main", 0, "reload refused, the running configuration "
		"stays:\n%s", errs && *errs ? errs : "configuration error");
	conf_free(conf);
	return err;
}

/*
 * SIGHUP and POST /api/reload: loads the configuration again, with every
 * issuer's keys and the admin token, and only when all of it is good hands
 * it to every part: tenants, identity sets, ranges, limits, services and
 * token keys change; registrations and calls stay. A configuration with
 * errors is refused with them and the running one stays whole. Options
 * read only at start whose value in the file is not the one they started
 * with are named in @p msgs (and logged): they keep their running values.
 */
static int gw_reload(void *arg, char **msgs)
{
	struct gw *gw = arg;
	struct conf *conf = NULL;
	char *token = NULL;
	GString *restart;
	int err, days;

	*msgs = NULL;
	if (conf_load_keys(gw->conf_path, cli_key_check, &conf, msgs))
		return gw_refuse(NULL, *msgs, EINVAL);
	if (!gw_same_trunks(gw->conf, conf)) {
		*msgs = strdup("the trunks changed (restart to apply)");
		return gw_refuse(conf, *msgs, EINVAL);
	}
	if (gw_token(conf, &token, msgs))
		return gw_refuse(conf, *msgs, EINVAL);
	err = gw_apply(gw, conf);
	if (err == EINVAL) {
		free(token);
		*msgs = strdup("a part of the gateway refused the configuration; "
			       "see the log");
		/* a part may have held it for a moment: keep it alive */
		gw->old_confs = g_slist_prepend(gw->old_confs, conf);
		log_err("main", 0, "reload refused, the running configuration "
			"stays: %s", *msgs);
		return EINVAL;
	}
	if (err) {
		free(token);
		*msgs = strdup("reload failed part way; see the log");
		gw->old_confs = g_slist_prepend(gw->old_confs, conf);
		return EIO;
	}
	call_core_reload(gw->calls, conf);
	admin_token_set(gw->admin, token);
	gw_log_format(conf);
	gw_fdlimit_check(conf);
	restart = g_string_new(NULL);
	conf_restart_changes(gw->start_conf, conf, gw_restart_note, restart);
	*msgs = restart->len ? strdup(restart->str) : NULL;
	g_string_free(restart, TRUE);
	days = gw->conf->store.cdr_days;
	gw->old_confs = g_slist_prepend(gw->old_confs, gw->conf);
	gw->conf = conf;
	gw_trunks_apply(gw);
	for (size_t i = 0; i < w8_trunk_count(gw->w8); i++)   /* renewed */
		(void)w8_trunk_tls_reload(w8_trunk_at(gw->w8, i));  /* logged */
	log_info("main", 0, "configuration reloaded");
	if (conf->store.cdr_days != days)
		gw_purge_start(gw);
	return 0;
}

static gboolean on_reload(gpointer arg)
{
	struct gw *gw = arg;
	char *msgs = NULL;

	log_info("main", 0, "SIGHUP: reloading %s", gw->conf_path);
	(void)gw_reload(gw, &msgs);
	free(msgs);
	return G_SOURCE_CONTINUE;
}

static int gw_admin_start(struct gw *gw)
{
	int err = admin_create(&gw->admin, &gw->conf->admin, gw->loop);

	if (err)
		return err;
	gw->metrics = (struct metrics_src){ &gw->conf, gw->wic, gw->w8,
					    gw->calls, gw->ident };
	admin_route_add(gw->admin, "GET", "/metrics", true, metrics_get,
			&gw->metrics);
	admin_route_add(gw->admin, "GET", "/health", true, metrics_health, NULL);
	err = console_routes_add(gw->admin, &gw->conf);
	if (err)
		return err;
	gw->api = (struct api_src){ &gw->conf, gw->wic, gw->w8, gw->calls,
				    gw->ident, gw->store, gw->svc, gw_reload, gw,
				    (long long)time(NULL) };
	return api_routes_add(gw->admin, &gw->api);
}

static int gw_start(struct gw *gw, const char *path)
{
	char *errs = NULL;
	int err;

	err = conf_load_keys(path, cli_key_check, &gw->conf, &errs);
	if (err) {
		fprintf(stderr, "%s", errs ? errs : "configuration error\n");
		free(errs);
		return err;
	}
	gw_log_format(gw->conf);
	gw_fdlimit_fit(gw->conf);
	gw->start_conf = gw->conf;
	err = store_open(&gw->store, gw->conf->store.path);
	if (err)
		return err;
	gw->loop = g_main_loop_new(NULL, FALSE);
	gw->root = su_glib_root_create(NULL);
	if (!gw->root)
		return ENOMEM;
	su_root_threading(gw->root, 0);
	/* GLib takes a source's descriptors out of its poll set while it
	 * dispatches it, unless it may recurse, and puts them back after:
	 * two eventfd writes per descriptor per dispatch, and a poll set
	 * rebuilt each time (about 50 writes per call). Nothing here runs
	 * the loop from inside a dispatch, so the sources may "recurse". */
	g_source_set_can_recurse(su_glib_root_gsource(gw->root), TRUE);
	g_source_attach(su_glib_root_gsource(gw->root), NULL);
	err = ident_create(&gw->ident, gw->conf, gw->store);
	if (!err)
		err = wic_create(&gw->wic, gw->root, gw->loop, gw->conf, gw->store,
				 gw->ident);
	if (!err)
		err = w8_create(&gw->w8, gw->root, gw->conf);
	if (!err)
		err = call_core_create(&gw->calls, gw->conf, gw->wic, gw->w8,
				       gw->ident);
	if (!err)
		err = svc_create(&gw->svc, gw->conf, gw->store);
	if (!err) {
		call_core_hooks_set(gw->calls, svc_hooks(), gw->svc);
		gw_trunks_apply(gw);
		err = gw_admin_start(gw);
	}
	if (!err) {
		gw_purge_start(gw);
		gw->purge_hourly = g_timeout_add_seconds(CDR_PURGE_EVERY_S,
							 gw_purge_hourly, gw);
	}
	return err;
}

static void gw_stop(struct gw *gw)
{
	if (gw->purge_hourly)
		g_source_remove(gw->purge_hourly);
	if (gw->purge_step)
		g_source_remove(gw->purge_step);
	admin_destroy(gw->admin);
	call_core_destroy(gw->calls);
	svc_destroy(gw->svc);
	wic_destroy(gw->wic);
	w8_destroy(gw->w8);
	ident_destroy(gw->ident);
	if (gw->root)
		su_root_destroy(gw->root);
	store_close(gw->store);
	conf_free(gw->conf);
	g_slist_free_full(gw->old_confs, (GDestroyNotify)conf_free);
	if (gw->loop)
		g_main_loop_unref(gw->loop);
}

static int run(const char *path)
{
	struct gw gw;
	int err;

	memset(&gw, 0, sizeof gw);
	gw.conf_path = path;
	su_init();
	sofia_log_redirect();
	err = gw_start(&gw, path);
	if (!err) {
		guint s1 = g_unix_signal_add(SIGTERM, on_signal, &gw);
		guint s2 = g_unix_signal_add(SIGINT, on_signal, &gw);
		guint s3 = g_unix_signal_add(SIGHUP, on_reload, &gw);
		log_info("main", 0, "wtpfd running (config %s)", path);
		g_main_loop_run(gw.loop);
		g_source_remove(s1);
		g_source_remove(s2);
		g_source_remove(s3);
		log_info("main", 0, "wtpfd stopped");
	} else {
		log_err("main", 0, "start failed: %s", strerror(err));
	}
	gw_stop(&gw);
	su_deinit();
	return err ? 1 : 0;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: wtpfd -c FILE               run the gateway\n"
		"       wtpfd --check-config FILE   validate a configuration\n"
		"       wtpfd --print-schema        list every option\n"
		"       wtpfd user add -c FILE TENANT USER [PASSWORD|-]\n"
		"       wtpfd user del -c FILE TENANT USER\n"
		"       wtpfd token -c FILE -t TENANT -s SUBJECT [-i IMPU] [-l TTL]\n");
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc == 3 && !strcmp(argv[1], "-c"))
		return run(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "--check-config"))
		return cli_check_config(argv[2]);
	if (argc == 2 && !strcmp(argv[1], "--print-schema")) {
		conf_schema_print(stdout);
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[1], "user"))
		return cli_user(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "token"))
		return cli_token(argc - 1, argv + 1);
	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	usage(stderr);
	return 2;
}
