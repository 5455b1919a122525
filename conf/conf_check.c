/**
 * @file conf_check.c  Checks that tie several options together, run once
 * every option has passed its own type and bounds checks.
 */
#include "conf.h"
#include "conf_priv.h"
#include "util/log.h"
#include "util/numrange.h"
#include "util/rewrite.h"

#include <limits.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const alg_supported[] = { "HS256", "RS256", "ES256", NULL };

/* Reports at the line of @p path (a libconfig path such as
 * "tenants.[0].name"), or of its nearest existing parent. The key is
 * written as the first pass writes it: "tenants[0].name". */
static void err_at(struct conf_ctx *cx, const config_setting_t *root,
		   const char *path, const char *msg)
{
	char buf[256], key[256];
	const config_setting_t *s = NULL;
	size_t k = 0;

	snprintf(buf, sizeof buf, "%s", path);
	while (!(s = config_setting_lookup((config_setting_t *)root, buf))) {
		char *dot = strrchr(buf, '.');
		if (!dot)
			break;
		*dot = '\0';
	}
	for (const char *p = path; *p && k + 1 < sizeof key; p++)
		if (!(p[0] == '.' && p[1] == '['))
			key[k++] = *p;
	key[k] = '\0';
	conf_err(cx, s ? s : root, key, "%s", msg);
}

static void check_file(struct conf_ctx *cx, const config_setting_t *root,
		       const char *path, const char *file)
{
	char msg[512];

	if (access(file, R_OK) == 0)
		return;
	snprintf(msg, sizeof msg, "cannot read file '%s'", file);
	err_at(cx, root, path, msg);
}

static void check_websocket(struct conf_ctx *cx, const config_setting_t *root,
			    const struct conf_websocket *ws)
{
	if (!ws->ws_port && !ws->wss_port)
		err_at(cx, root, "websocket.ws_port",
		       "no listener: set ws_port or wss_port");
	if (ws->ws_port && ws->ws_port == ws->wss_port)
		err_at(cx, root, "websocket.wss_port",
		       "ws_port and wss_port must differ");
	if (!ws->wss_port)
		return;
	if (!*ws->tls_certificate)
		err_at(cx, root, "websocket.tls_certificate",
		       "required when wss_port is set");
	else
		check_file(cx, root, "websocket.tls_certificate", ws->tls_certificate);
	if (!*ws->tls_key)
		err_at(cx, root, "websocket.tls_key", "required when wss_port is set");
	else
		check_file(cx, root, "websocket.tls_key", ws->tls_key);
}

static void check_web(struct conf_ctx *cx, const config_setting_t *root,
		      const struct conf_web *web)
{
	struct stat st;
	char msg[512];

	if (!*web->root)
		return;
	if (stat(web->root, &st) == 0 && S_ISDIR(st.st_mode) &&
	    access(web->root, R_OK | X_OK) == 0)
		return;
	snprintf(msg, sizeof msg, "cannot read folder '%s'", web->root);
	err_at(cx, root, "web.root", msg);
}

/* The admin token file, when named, holds a usable token. */
static void check_admin(struct conf_ctx *cx, const config_setting_t *root,
			const struct conf_admin *a)
{
	char why[300], msg[400];
	char *tok = NULL;

	if (!*a->token_file)
		return;
	if (!conf_token_read(a->token_file, &tok, why, sizeof why)) {
		free(tok);
		return;
	}
	snprintf(msg, sizeof msg, "'%s': %s", a->token_file, why);
	err_at(cx, root, "admin.token_file", msg);
}

static void check_issuer(struct conf_ctx *cx, const config_setting_t *root,
			 const char *at, const struct conf_issuer *is)
{
	char path[200];

	snprintf(path, sizeof path, "%s.keys", at);
	check_file(cx, root, path, is->keys);
	if (cx->key_check && access(is->keys, R_OK) == 0) {
		const char *why = "";
		char msg[512];
		if (cx->key_check(is->keys, &why)) {
			snprintf(msg, sizeof msg, "'%s' does not load: %s", is->keys,
				 why && *why ? why : "not a key");
			err_at(cx, root, path, msg);
		}
	}
	snprintf(path, sizeof path, "%s.algorithms", at);
	if (!is->algorithms || !is->algorithms[0])
		err_at(cx, root, path, "must name at least one algorithm");
	for (size_t i = 0; is->algorithms && is->algorithms[i]; i++) {
		if (!conf_strv_has((conf_strv_t)alg_supported, is->algorithms[i])) {
			char msg[160];
			snprintf(msg, sizeof msg, "unsupported algorithm '%.40s' "
				 "(HS256, RS256, ES256)", is->algorithms[i]);
			err_at(cx, root, path, msg);
		}
	}
}

/* A range list must compile; the error names the spec at fault. */
static void check_ranges(struct conf_ctx *cx, const config_setting_t *root,
			 const char *path, conf_strv_t ranges)
{
	struct numrange *r = NULL;
	const char *why = NULL;
	size_t bad = 0;

	if (!ranges || !ranges[0])
		return;
	if (numrange_parse(&r, (const char *const *)ranges, &why, &bad)) {
		char msg[200];
		snprintf(msg, sizeof msg, "'%.60s': %s", ranges[bad], why);
		err_at(cx, root, path, msg);
	}
	numrange_free(r);
}

static void check_idset(struct conf_ctx *cx, const config_setting_t *root,
			const struct conf *conf, const struct conf_tenant *t,
			const char *at, size_t k)
{
	const struct conf_idset *s = &t->idsets[k];
	char path[200];

	snprintf(path, sizeof path, "%s.identity_sets.[%zu].name", at, k);
	if (!strcmp(s->name, "main"))
		err_at(cx, root, path, "\"main\" is the tenant's own trunk and ranges");
	for (size_t j = 0; j < k; j++)
		if (!strcmp(t->idsets[j].name, s->name))
			err_at(cx, root, path, "duplicate identity set name");
	snprintf(path, sizeof path, "%s.identity_sets.[%zu].trunk", at, k);
	if (!conf_trunk_find(conf, s->trunk))
		err_at(cx, root, path, "no trunk of that name");
	snprintf(path, sizeof path, "%s.identity_sets.[%zu].ranges", at, k);
	if (!s->ranges[0])
		err_at(cx, root, path, "must list at least one number");
	check_ranges(cx, root, path, s->ranges);
}

/* Every rule and pattern of the services must compile. */
static void check_rules(struct conf_ctx *cx, const config_setting_t *root,
			const char *at, const char *list,
			const struct conf_rule *rules, size_t n)
{
	char path[200], msg[160];

	for (size_t k = 0; k < n; k++) {
		struct rewrite *r = NULL;
		const char *why = "";
		if (!rewrite_compile(&r, rules[k].match, rules[k].replace, &why)) {
			rewrite_free(r);
			continue;
		}
		snprintf(path, sizeof path, "%s.services.%s.[%zu].match", at, list, k);
		snprintf(msg, sizeof msg, "'%.60s' -> '%.40s': %s", rules[k].match,
			 rules[k].replace, why);
		err_at(cx, root, path, msg);
	}
}

static void check_services(struct conf_ctx *cx, const config_setting_t *root,
			   const char *at, const struct conf_services *s)
{
	char path[200], msg[160];

	check_rules(cx, root, at, "dial_plan", s->dial_plan, s->dial_plan_count);
	check_rules(cx, root, at, "caller_display", s->caller_display,
		    s->caller_display_count);
	for (size_t k = 0; s->barred && s->barred[k]; k++) {
		struct rewrite *r = NULL;
		const char *why = "";
		if (!rewrite_compile(&r, s->barred[k], NULL, &why)) {
			rewrite_free(r);
			continue;
		}
		snprintf(path, sizeof path, "%s.services.barred", at);
		snprintf(msg, sizeof msg, "'%.60s': %s", s->barred[k], why);
		err_at(cx, root, path, msg);
	}
	for (size_t k = 0; s->emergency && s->emergency[k]; k++) {
		char num[NUMRANGE_NUM_MAX];
		if (numrange_norm(s->emergency[k], num))
			continue;
		snprintf(path, sizeof path, "%s.services.emergency", at);
		snprintf(msg, sizeof msg, "'%.60s' is not a number", s->emergency[k]);
		err_at(cx, root, path, msg);
	}
}

/* A diversion or overflow target: empty, a number, or a sip:/tel: URI. */
static void check_target(struct conf_ctx *cx, const config_setting_t *root,
			 const char *path, const char *target)
{
	char num[NUMRANGE_NUM_MAX];

	if (!*target || !strncmp(target, "sip:", 4) || !strncmp(target, "tel:", 4) ||
	    numrange_norm(target, num))
		return;
	err_at(cx, root, path, "must be a number or a sip:/tel: URI");
}

/* True when @p num lies in @p ranges (which may not compile: false). */
static bool ranges_have(conf_strv_t ranges, const char *num)
{
	struct numrange *r = NULL;
	const char *why = NULL;
	size_t bad = 0;
	bool in;

	if (!ranges || !ranges[0] ||
	    numrange_parse(&r, (const char *const *)ranges, &why, &bad))
		return false;
	in = numrange_contains(r, num);
	numrange_free(r);
	return in;
}

/* True when @p num is in the tenant's ranges or one of its sets'. */
static bool conf_tenant_owns(const struct conf_tenant *t, const char *num)
{
	if ((!t->ranges || !t->ranges[0]) && !t->idset_count)
		return true;   /* no ranges: every number of its trunk */
	if (ranges_have(t->ranges, num))
		return true;
	for (size_t k = 0; k < t->idset_count; k++)
		if (ranges_have(t->idsets[k].ranges, num))
			return true;
	return false;
}

/* A number the tenant owns: it must be a number and lie in its ranges. */
static void check_own_number(struct conf_ctx *cx, const config_setting_t *root,
			     const struct conf_tenant *t, const char *path,
			     const char *number)
{
	char num[NUMRANGE_NUM_MAX];

	if (!numrange_norm(number, num))
		err_at(cx, root, path, "not a number");
	else if (!conf_tenant_owns(t, num))
		err_at(cx, root, path, "not within the tenant's ranges");
}

static void check_diversions(struct conf_ctx *cx, const config_setting_t *root,
			     const struct conf_tenant *t, const char *at)
{
	const struct conf_services *s = &t->services;
	char path[200];

	for (size_t k = 0; k < s->diversion_count; k++) {
		const struct conf_diversion *d = &s->diversions[k];
		snprintf(path, sizeof path, "%s.services.diversion.[%zu].identity", at, k);
		check_own_number(cx, root, t, path, d->identity);
		const char *const tg[] = { "unconditional", "busy", "no_answer",
					   "not_reachable" };
		const char *const tv[] = { d->unconditional, d->busy,
					   d->no_answer, d->not_reachable };
		for (size_t j = 0; j < 4; j++) {
			snprintf(path, sizeof path, "%s.services.diversion.[%zu].%s",
				 at, k, tg[j]);
			check_target(cx, root, path, tv[j]);
		}
	}
}

static const char *const strategies[] = {
	"simultaneous", "sequential", "round_robin", "longest_idle", NULL
};

static void check_groups(struct conf_ctx *cx, const config_setting_t *root,
			 struct conf_tenant *t, const char *at)
{
	struct conf_services *s = &t->services;
	char path[200];

	for (size_t k = 0; k < s->group_count; k++) {
		struct conf_group *g = &s->groups[k];
		size_t i;
		snprintf(path, sizeof path, "%s.services.ring_groups.[%zu].number", at, k);
		check_own_number(cx, root, t, path, g->number);
		for (size_t j = 0; j < k; j++)
			if (!strcmp(s->groups[j].number, g->number))
				err_at(cx, root, path, "duplicate ring group number");
		snprintf(path, sizeof path, "%s.services.ring_groups.[%zu].strategy", at, k);
		for (i = 0; strategies[i] && strcmp(strategies[i], g->strategy); i++)
			;
		if (strategies[i])
			g->strategy_id = (enum conf_strategy)i;
		else
			err_at(cx, root, path, "must be simultaneous, sequential, "
			       "round_robin or longest_idle");
		snprintf(path, sizeof path, "%s.services.ring_groups.[%zu].members", at, k);
		if (!g->members[0])
			err_at(cx, root, path, "must list at least one member");
		for (i = 0; g->members[i]; i++)
			check_own_number(cx, root, t, path, g->members[i]);
		snprintf(path, sizeof path, "%s.services.ring_groups.[%zu].overflow", at, k);
		check_target(cx, root, path, g->overflow);
	}
}

static void check_tenant(struct conf_ctx *cx, const config_setting_t *root,
			 struct conf *conf, size_t i)
{
	struct conf_tenant *t = &conf->tenants[i];
	char at[64], path[160];

	snprintf(at, sizeof at, "tenants.[%zu]", i);
	for (size_t j = 0; j < i; j++) {
		if (!strcmp(conf->tenants[j].name, t->name)) {
			snprintf(path, sizeof path, "%s.name", at);
			err_at(cx, root, path, "duplicate tenant name");
		}
		if (!strcasecmp(conf->tenants[j].domain, t->domain)) {
			snprintf(path, sizeof path, "%s.domain", at);
			err_at(cx, root, path, "duplicate tenant domain");
		}
	}
	if (!t->origins[0]) {
		snprintf(path, sizeof path, "%s.origins", at);
		err_at(cx, root, path, "must list at least one Origin");
	}
	snprintf(path, sizeof path, "%s.ranges", at);
	check_ranges(cx, root, path, t->ranges);
	for (size_t k = 0; k < t->idset_count; k++)
		check_idset(cx, root, conf, t, at, k);
	check_services(cx, root, at, &t->services);
	check_diversions(cx, root, t, at);
	check_groups(cx, root, t, at);
	snprintf(path, sizeof path, "%s.allocation", at);
	if (!strcmp(t->allocation, "sequential"))
		t->alloc_id = CONF_ALLOC_SEQUENTIAL;
	else if (!strcmp(t->allocation, "random"))
		t->alloc_id = CONF_ALLOC_RANDOM;
	else
		err_at(cx, root, path, "must be sequential or random");
	snprintf(path, sizeof path, "%s.impi_template", at);
	if (!strchr(t->impi_template, '@') || !strstr(t->impi_template, "{device}"))
		err_at(cx, root, path, "must contain {device} and an '@' "
		       "(each device needs its own private identity)");
	bool anon = false;
	for (size_t k = 0; k < t->idset_count; k++)
		anon = anon || t->idsets[k].anonymous;
	if (!t->issuer_count && !t->allow_digest && !anon)
		err_at(cx, root, at, "no way to authenticate: "
		       "give issuers, set allow_digest or add an anonymous "
		       "identity set");
	for (size_t k = 0; k < t->issuer_count; k++) {
		snprintf(path, sizeof path, "%s.issuers.[%zu]", at, k);
		check_issuer(cx, root, path, &t->issuers[k]);
	}
}

/* The trunk's TLS keys: the folder's two files, a cipher list OpenSSL
 * knows, and the mutual-TLS keys only with a folder. */
static void check_trunk_tls(struct conf_ctx *cx, const config_setting_t *root,
			    const char *at, const struct conf_trunk *t)
{
	char path[160], file[400];
	SSL_CTX *ctx;

	snprintf(path, sizeof path, "%s.tls_min_version", at);
	if (strcmp(t->tls_min_version, "1.2") && strcmp(t->tls_min_version, "1.3"))
		err_at(cx, root, path, "must be 1.2 or 1.3");
	snprintf(path, sizeof path, "%s.tls_ciphers", at);
	ctx = SSL_CTX_new(TLS_method());
	if (ctx && !SSL_CTX_set_cipher_list(ctx, t->tls_ciphers))
		err_at(cx, root, path, "OpenSSL knows no cipher of this list");
	SSL_CTX_free(ctx);
	ERR_clear_error();
	snprintf(path, sizeof path, "%s.tls_peer_names", at);
	if (t->tls_peer_names[0] && !t->tls_verify_client)
		err_at(cx, root, path, "needs tls_verify_client = true");
	if (!*t->tls_dir) {
		snprintf(path, sizeof path, "%s.tls_verify_client", at);
		if (t->tls_verify_client)
			err_at(cx, root, path, "needs tls_dir (cafile.pem)");
		return;
	}
	snprintf(path, sizeof path, "%s.tls_dir", at);
	snprintf(file, sizeof file, "%s/agent.pem", t->tls_dir);
	check_file(cx, root, path, file);
	snprintf(file, sizeof file, "%s/cafile.pem", t->tls_dir);
	check_file(cx, root, path, file);
}

static void check_trunk(struct conf_ctx *cx, const config_setting_t *root,
			struct conf *conf, size_t i)
{
	struct conf_trunk *t = &conf->trunks[i];
	char at[64], path[160];

	snprintf(at, sizeof at, "trunks.[%zu]", i);
	for (size_t j = 0; j < i; j++) {
		if (!strcmp(conf->trunks[j].name, t->name)) {
			snprintf(path, sizeof path, "%s.name", at);
			err_at(cx, root, path, "duplicate trunk name");
		}
	}
	snprintf(path, sizeof path, "%s.mode", at);
	if (!strcmp(t->mode, "registration"))
		t->mode_id = CONF_TRUNK_REGISTRATION;
	else if (!strcmp(t->mode, "static"))
		t->mode_id = CONF_TRUNK_STATIC;
	else
		err_at(cx, root, path, "must be registration or static");
	snprintf(path, sizeof path, "%s.pcscf", at);
	if (!t->pcscf[0])
		err_at(cx, root, path, "must list at least one P-CSCF");
	for (size_t k = 0; t->pcscf[k]; k++)
		if (strncmp(t->pcscf[k], "sip:", 4) && strncmp(t->pcscf[k], "sips:", 5))
			err_at(cx, root, path, "P-CSCFs must be sip: or sips: URIs");
	if (strncmp(t->bind, "sip:", 4) && strncmp(t->bind, "sips:", 5)) {
		snprintf(path, sizeof path, "%s.bind", at);
		err_at(cx, root, path, "must be a sip: or sips: URI");
	}
	if (t->mode_id == CONF_TRUNK_REGISTRATION && (!*t->impu || !*t->impi)) {
		snprintf(path, sizeof path, "%s.impu", at);
		err_at(cx, root, path, "registration mode needs impu and impi");
	}
	if (*t->resolv_conf) {
		snprintf(path, sizeof path, "%s.resolv_conf", at);
		check_file(cx, root, path, t->resolv_conf);
	}
	if (t->session_expires && t->session_expires < 90) {
		snprintf(path, sizeof path, "%s.session_expires", at);
		err_at(cx, root, path, "must be 0 or at least 90 (RFC 4028 Min-SE)");
	}
	if (t->retry_min > t->retry_max) {
		snprintf(path, sizeof path, "%s.retry_min", at);
		err_at(cx, root, path, "greater than retry_max");
	}
	check_trunk_tls(cx, root, at, t);
}

void conf_check(struct conf_ctx *cx, const config_setting_t *root,
		struct conf *conf)
{
	const struct conf_registrar *r = &conf->registrar;
	enum log_level lvl;

	if (log_level_parse(conf->log_level, &lvl))
		err_at(cx, root, "log_level", "must be error, warn, info or debug");
	if (log_format_parse(conf->log_format, NULL))
		err_at(cx, root, "log_format", "must be text or kv");
	check_websocket(cx, root, &conf->websocket);
	check_web(cx, root, &conf->web);
	if (r->min_expires > r->max_expires)
		err_at(cx, root, "registrar.min_expires", "greater than max_expires");
	if (r->default_expires < r->min_expires ||
	    r->default_expires > r->max_expires)
		err_at(cx, root, "registrar.default_expires",
		       "must lie between min_expires and max_expires");
	check_admin(cx, root, &conf->admin);
	for (size_t i = 0; i < conf->trunk_count; i++)
		check_trunk(cx, root, conf, i);
	for (size_t i = 0; i < conf->tenant_count; i++) {
		const char *tr = conf->tenants[i].trunk;
		char path[64];
		snprintf(path, sizeof path, "tenants.[%zu].trunk", i);
		if (*tr && !conf_trunk_find(conf, tr))
			err_at(cx, root, path, "no trunk of that name");
	}
	if (!conf->tenant_count)
		err_at(cx, root, "tenants", "at least one tenant is required");
	for (size_t i = 0; i < conf->tenant_count; i++)
		check_tenant(cx, root, conf, i);
}
