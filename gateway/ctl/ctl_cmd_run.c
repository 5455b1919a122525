/**
 * @file ctl_cmd_run.c  wtpfctl's commands about what runs: status,
 * registrations, calls and hangup, call records, tenants, identities and
 * reload. Each is a table of columns over one GET, or one request and a
 * line that says what it did.
 */
#include "gateway/ctl/ctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CDR_TABLE_ROWS "50"      /* call records in the table: the latest */
#define CDR_PAGE 10000           /* the API's largest page */

static const struct ctl_col trunk_cols[] = {
	{ "TRUNK", "name", NULL }, { "MODE", "mode", NULL },
	{ "STATE", "state", NULL }, { "P-CSCF", "pcscf", NULL },
	{ "LAST ERROR", "last_error", NULL }, { NULL },
};
static const struct ctl_list trunks = { "trunks", "no trunks", trunk_cols };

int ctl_cmd_status(struct ctl *c, int argc, char **argv)
{
	json_t *h, *tr;
	char up[32];
	int rc = ctl_call(c, "GET", "/api/health", NULL, &h, NULL);

	(void)argc;
	(void)argv;
	if (rc)
		return rc;
	if ((rc = ctl_call(c, "GET", "/api/trunks", NULL, &tr, NULL))) {
		json_decref(h);
		return rc;
	}
	if (!c->json) {
		printf("gateway %s, up %s: %lld connections, %lld registrations, "
		       "%lld calls\n", ctl_js(h, "status"),
		       ctl_dur(ctl_ji(h, "uptime"), up, sizeof up),
		       ctl_ji(h, "connections"), ctl_ji(h, "registrations"),
		       ctl_ji(h, "calls"));
		ctl_list_show(tr, &trunks);
	} else {
		json_t *all = json_pack("{s:O, s:O}", "health", h, "trunks", tr);
		ctl_print_json(all);
		json_decref(all);
	}
	json_decref(h);
	json_decref(tr);
	return EX_DONE;
}

int ctl_cmd_registrations(struct ctl *c, int argc, char **argv)
{
	static const struct ctl_col cols[] = {
		{ "TENANT", "tenant", NULL }, { "AOR", "aor", NULL },
		{ "CONTACT", "contact", NULL },
		{ "INSTANCE", "instance", NULL }, { "PEER", "peer", NULL },
		{ "CONN", "connection", ctl_f_int },
		{ "EXPIRES", "expires_in", ctl_f_dur }, { NULL },
	};
	static const struct ctl_list l = { "registrations", "no registrations",
					   cols };

	return ctl_list(c, &l, argc ? argv[0] : NULL);
}

int ctl_cmd_calls(struct ctl *c, int argc, char **argv)
{
	static const struct ctl_col cols[] = {
		{ "ID", "id", ctl_f_int }, { "DIRECTION", "direction", NULL },
		{ "STATE", "state", NULL }, { "TENANT", "tenant", NULL },
		{ "USER", "user", NULL }, { "REMOTE", "remote", NULL },
		{ "SINCE", "started", ctl_f_since },
		{ "ANSWERED", "answered", ctl_f_since }, { NULL },
	};
	static const struct ctl_list l = { "calls", "no calls", cols };

	return ctl_list(c, &l, argc ? argv[0] : NULL);
}

int ctl_cmd_hangup(struct ctl *c, int argc, char **argv)
{
	char path[128];

	(void)argc;
	if (!ctl_path(path, sizeof path, "calls", argv[0], (char *)NULL))
		return ctl_usage("call id too long");
	return ctl_do(c, "DELETE", path, NULL, "call {id} hung up");
}

int ctl_cmd_tenants(struct ctl *c, int argc, char **argv)
{
	static const struct ctl_col cols[] = {
		{ "TENANT", "name", NULL }, { "DOMAIN", "domain", NULL },
		{ "TRUNK", "trunk", NULL },
		{ "IN USE", "identities_in_use", ctl_f_int },
		{ "HELD", "identities_held", ctl_f_int },
		{ "MAX", "max_identities", ctl_f_limit },
		{ "REFUSED", "identities_refused", ctl_f_int },
		{ "GROUPS", "ring_groups", ctl_f_int },
		{ "RANGES", "ranges", ctl_f_join }, { NULL },
	};
	static const struct ctl_list l = { "tenants", "no tenants", cols };

	return ctl_list(c, &l, argc ? argv[0] : NULL);
}

/* "in use", or "held (5m03s left)". */
static const char *identity_state(const json_t *row, const char *key,
				  char *b, size_t n)
{
	long long hold = ctl_ji(row, "hold_until"), now = (long long)time(NULL);
	char d[32];

	if (!hold)
		return ctl_js(row, key);
	snprintf(b, n, "held (%s left)", ctl_dur(hold > now ? hold - now : 0,
						 d, sizeof d));
	return b;
}

int ctl_cmd_identities(struct ctl *c, int argc, char **argv)
{
	static const struct ctl_col cols[] = {
		{ "TENANT", "tenant", NULL }, { "SET", "set", NULL },
		{ "NUMBER", "number", NULL }, { "SUBJECT", "subject", NULL },
		{ "STATE", "state", identity_state }, { NULL },
	};
	static const struct ctl_list l = { "identities", "no identities allocated",
					   cols };

	return ctl_list(c, &l, argc ? argv[0] : NULL);
}

/* ---- call records ------------------------------------------------- */

static const struct ctl_col cdr_cols[] = {
	{ "ID", "id", ctl_f_int }, { "CORR", "corr", NULL },
	{ "DIRECTION", "direction", NULL }, { "USER", "user", NULL },
	{ "REMOTE", "remote", NULL }, { "STATUS", "status", ctl_f_int },
	{ "TALK", "answered", ctl_f_talk }, { "REASON", "reason", NULL },
	{ NULL },
};
static const struct ctl_list cdrs = { "cdrs", "no call records", cdr_cols };

/* The latest records come newest first: the table has them oldest first,
 * the newest last (as `tail`). */
static void cdrs_show(const json_t *j, const void *arg)
{
	json_t *rows = json_array();

	for (size_t i = json_array_size(j); i > 0; i--)
		json_array_append(rows, json_array_get(j, i - 1));
	ctl_list_show(rows, arg);
	json_decref(rows);
}

/* Every record of @p tenant (NULL: all), oldest first, one page of the
 * API after another, printed as one JSON array. */
static int cdrs_all(struct ctl *c, const char *tenant)
{
	json_t *all = json_array(), *page;
	char path[512], q[64];
	long long after = 0;
	size_t got;
	int rc;

	do {
		snprintf(q, sizeof q, "limit=%d&after=%lld", CDR_PAGE, after);
		rc = ctl_path_query(path, sizeof path, "cdrs", tenant, q) ?
		     ctl_call(c, "GET", path, NULL, &page, NULL) :
		     ctl_usage("tenant name too long");
		got = rc ? 0 : json_array_size(page);
		if (got)
			after = ctl_ji(json_array_get(page, got - 1), "id");
		if (!rc)
			json_array_extend(all, page);
		json_decref(rc ? NULL : page);
	} while (!rc && got == CDR_PAGE);
	if (!rc)
		ctl_print_json(all);
	json_decref(all);
	return rc;
}

int ctl_cmd_cdrs(struct ctl *c, int argc, char **argv)
{
	const char *tenant = argc ? argv[0] : NULL;
	char path[512];

	if (c->json)
		return cdrs_all(c, tenant);
	if (!ctl_path_query(path, sizeof path, "cdrs", tenant,
			    "order=desc&limit=" CDR_TABLE_ROWS))
		return ctl_usage("tenant name too long");
	return ctl_show(c, "GET", path, NULL, cdrs_show, &cdrs);
}

/* "configuration reloaded", and the options that need a restart. */
static void reload_show(const json_t *j, const void *arg)
{
	json_t *key;
	size_t i;

	(void)arg;
	puts("configuration reloaded");
	json_array_foreach(json_object_get(j, "restart_needed"), i, key)
		printf("%s%s\n", i ? "  " : "changed, but only a restart "
		       "applies it (the running value stays):\n  ",
		       json_string_value(key) ? json_string_value(key) : "");
}

int ctl_cmd_reload(struct ctl *c, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return ctl_show(c, "POST", "/api/reload", NULL, reload_show, NULL);
}
