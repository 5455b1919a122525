/**
 * @file wtpfctl.c  The operator's command line over the admin JSON API of a
 * running wtpfd (gateway/admin/api.h): status, registrations, calls,
 * tenants, identities, users, ring group agents, diversion settings and
 * reload. Finds the admin listener and its token in the configuration
 * (-c FILE, default conf/wtpf.conf) or in WTPF_ADMIN_URL / WTPF_ADMIN_TOKEN.
 * Prints tables by default, the API's JSON with --json.
 *
 * Exit status: 0 done, 1 the gateway refused (its error on stderr), 2 usage
 * or configuration error, 3 the gateway cannot be reached.
 */
#include "conf/conf.h"
#include "gateway/ctl/ctl_http.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

enum { EX_DONE = 0, EX_API = 1, EX_USAGE = 2, EX_UNREACHABLE = 3 };

#define DEFAULT_CONF "conf/wtpf.conf"
#define MAX_TOKEN 512

struct ctl {
	struct ctl_target t;
	char *token;              /**< malloc'd, or NULL */
	bool json;
	const char *password;     /**< --password, or NULL: stdin */
};

static const char usage_text[] =
"Usage: wtpfctl [OPTIONS] COMMAND [ARGS]\n"
"\n"
"Operates a running wtpfd through its admin JSON API (/api/ on the admin\n"
"listener, with the admin token).\n"
"\n"
"Commands:\n"
"  status                       health, counts and trunks\n"
"  registrations [TENANT]       registered devices\n"
"  calls                        calls in progress\n"
"  hangup ID                    ends call ID (both sides get BYE)\n"
"  cdrs [TENANT]                the last 50 call records (all with --json;\n"
"                               CSV: GET /api/cdrs?format=csv)\n"
"  tenants                      tenants and their identities in use\n"
"  identities [TENANT]          numbers allocated to users\n"
"  user add TENANT NAME         adds a digest user; the password comes from\n"
"                               --password or the first line of stdin\n"
"  user del TENANT NAME         deletes a digest user\n"
"  groups                       ring groups and their agents' state\n"
"  pause TENANT NUMBER          pauses an agent (its ring groups skip it)\n"
"  resume TENANT NUMBER         takes a paused agent back\n"
"  diversion list [TENANT]      diversion settings (configuration and store)\n"
"  diversion get TENANT NUMBER  the setting that applies to NUMBER\n"
"  diversion set TENANT NUMBER KEY=VALUE...\n"
"                               changes the stored setting of NUMBER (starting\n"
"                               from the one that applies); KEY: unconditional,\n"
"                               busy, no_answer, not_reachable (a number, a\n"
"                               sip:/tel: URI, or empty to clear) or time\n"
"                               (seconds before no answer; 0: the default)\n"
"  diversion del TENANT NUMBER  removes the stored setting (the\n"
"                               configuration's, if any, applies again)\n"
"  reload                       reloads the configuration, as SIGHUP does\n"
"\n"
"Options:\n"
"  -c, --config FILE    the admin listener's address and port, and the token\n"
"                       (admin.token_file), from FILE (default " DEFAULT_CONF ")\n"
"  -j, --json           print the API's JSON instead of tables\n"
"      --password PASS  the password of `user add` (else read from stdin)\n"
"  -t, --timeout SECS   give up on the gateway after SECS (default 10)\n"
"  -h, --help           this help\n"
"\n"
"Environment (when -c is not given; each overrides " DEFAULT_CONF "):\n"
"  WTPF_ADMIN_URL       the admin listener, http://HOST:PORT\n"
"  WTPF_ADMIN_TOKEN     the admin token\n"
"\n"
"Exit status: 0 done; 1 the gateway refused (its error on stderr); 2 usage\n"
"or configuration error; 3 the gateway cannot be reached.\n";

static void err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void err(const char *fmt, ...)
{
	va_list ap;

	fputs("wtpfctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("wtpfctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'wtpfctl --help'.\n", stderr);
	return EX_USAGE;
}

/* ---- finding the gateway ------------------------------------------ */

/* The token in @p s with surrounding white space removed (malloc'd), or
 * NULL after a message when it is empty, too long or has control
 * characters. */
static char *token_clean(const char *s, const char *from)
{
	size_t b = strspn(s, " \t\r\n"), n = strlen(s + b);
	char *t;

	while (n && strchr(" \t\r\n", s[b + n - 1]))
		n--;
	if (!n || n > MAX_TOKEN) {
		err("the admin token in %s is %s", from, n ? "too long" : "empty");
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[b + i] < 0x20 || s[b + i] == 0x7f) {
			err("the admin token in %s has control characters", from);
			return NULL;
		}
	t = strndup(s + b, n);
	if (!t)
		err("out of memory");
	return t;
}

/* The token in @p path (malloc'd), or NULL after a message. */
static char *token_read(const char *path)
{
	char buf[MAX_TOKEN + 64];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f) {
		err("cannot read the admin token: %s: %s", path, strerror(errno));
		return NULL;
	}
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	return token_clean(buf, path);
}

/* The admin group of a configuration. */
struct admin_where {
	char address[256];
	int port;
	char token_file[4096];
};

/*
 * Reads only the admin group of @p file with libconfig: a configuration the
 * gateway would refuse (being edited, or to be reloaded and refused) still
 * tells where its running listener is. The defaults are conf.c's. Returns
 * false when the file does not parse or has no admin group.
 */
static bool admin_lenient(const char *file, struct admin_where *w)
{
	config_t cf;
	const char *addr = "127.0.0.1", *tf = "";
	const char *slash = strrchr(file, '/');
	int port = 8090;
	bool ok;

	config_init(&cf);
	ok = config_read_file(&cf, file) == CONFIG_TRUE &&
	     config_lookup(&cf, "admin") != NULL;
	/* each of the three, when there, must have its type */
	if (ok && ((config_lookup(&cf, "admin.address") &&
		    !config_lookup_string(&cf, "admin.address", &addr)) ||
		   (config_lookup(&cf, "admin.port") &&
		    !config_lookup_int(&cf, "admin.port", &port)) ||
		   (config_lookup(&cf, "admin.token_file") &&
		    !config_lookup_string(&cf, "admin.token_file", &tf))))
		ok = false;
	if (ok) {
		snprintf(w->address, sizeof w->address, "%s", addr);
		w->port = port;
		if (*tf && *tf != '/' && slash)
			snprintf(w->token_file, sizeof w->token_file, "%.*s/%s",
				 (int)(slash - file), file, tf);
		else
			snprintf(w->token_file, sizeof w->token_file, "%s", tf);
	}
	config_destroy(&cf);
	return ok;
}

/* Fills @p w from @p file: the gateway's own loader, else admin_lenient().
 * Returns 0 or EX_USAGE after a message. */
static int admin_where(const char *file, bool given, struct admin_where *w)
{
	struct conf *conf = NULL;
	char *errs = NULL;

	if (!conf_load(file, &conf, &errs)) {
		snprintf(w->address, sizeof w->address, "%s", conf->admin.address);
		w->port = conf->admin.port;
		snprintf(w->token_file, sizeof w->token_file, "%s",
			 conf->admin.token_file ? conf->admin.token_file : "");
		conf_free(conf);
		return EX_DONE;
	}
	if (admin_lenient(file, w)) {
		free(errs);
		return EX_DONE;
	}
	err("cannot load %s%s%s", file, errs ? ":\n" : "", errs ? errs : "");
	if (!given)
		fputs("(give the gateway's configuration with -c FILE, or set "
		      "WTPF_ADMIN_URL and WTPF_ADMIN_TOKEN)\n", stderr);
	free(errs);
	return EX_USAGE;
}

/* Fills @p c's target and token: from the configuration @p file when
 * @p given, else from the environment with DEFAULT_CONF for what it lacks.
 * Returns 0 or an exit status after a message. */
static int locate(struct ctl *c, const char *file, bool given)
{
	const char *url = given ? NULL : getenv("WTPF_ADMIN_URL");
	const char *etok = getenv("WTPF_ADMIN_TOKEN");
	struct admin_where w;
	char why[300];
	int rc;

	if (etok && !*etok)
		etok = NULL;
	if (url && *url) {
		if (ctl_url_parse(url, &c->t, why, sizeof why)) {
			err("WTPF_ADMIN_URL: %s", why);
			return EX_USAGE;
		}
		if (etok && !(c->token = token_clean(etok, "WTPF_ADMIN_TOKEN")))
			return EX_USAGE;
		return EX_DONE;     /* no token: the gateway will say 401 */
	}
	if ((rc = admin_where(file, given, &w)))
		return rc;
	if (!w.port) {
		err("the admin listener is off in %s (admin.port = 0)", file);
		return EX_UNREACHABLE;
	}
	/* a listener on every address is reached on loopback */
	snprintf(c->t.host, sizeof c->t.host, "%s",
		 !*w.address || !strcmp(w.address, "0.0.0.0") ? "127.0.0.1" :
		 !strcmp(w.address, "::") ? "::1" : w.address);
	snprintf(c->t.port, sizeof c->t.port, "%d", w.port);
	if (etok && !given) {
		c->token = token_clean(etok, "WTPF_ADMIN_TOKEN");
	} else if (*w.token_file) {
		c->token = token_read(w.token_file);
		if (!c->token && etok) {
			fputs("(using WTPF_ADMIN_TOKEN instead)\n", stderr);
			c->token = token_clean(etok, "WTPF_ADMIN_TOKEN");
		}
	} else if (etok) {
		c->token = token_clean(etok, "WTPF_ADMIN_TOKEN");
	} else {
		err("%s names no admin.token_file: the API is closed (set one, "
		    "or WTPF_ADMIN_TOKEN)", file);
		return EX_USAGE;
	}
	return c->token ? EX_DONE : EX_USAGE;
}

/* ---- talking to it ------------------------------------------------ */

/* The JSON text of @p j for the API (malloc'd). */
static char *dump(const json_t *j)
{
	return json_dumps(j, JSON_COMPACT);
}

/* Prints the API's error of @p a (status not 2xx). */
static void api_error(const struct ctl_answer *a)
{
	json_t *j = json_loads(a->body, 0, NULL);
	const char *msg = json_string_value(json_object_get(j, "error"));
	json_t *lines = json_object_get(j, "errors");
	size_t i;
	json_t *l;

	if (msg) {
		err("%s", msg);
	} else {
		size_t n = strcspn(a->body, "\r\n");
		err("the gateway answered HTTP %d%s%.*s", a->status,
		    n ? ": " : "", (int)(n > 200 ? 200 : n), a->body);
	}
	json_array_foreach(lines, i, l)
		if (json_is_string(l))
			fprintf(stderr, "  %s\n", json_string_value(l));
	json_decref(j);
}

/*
 * One request. Returns 0 with the answer's JSON in @p *out (the caller
 * decrefs; @p out may be NULL), EX_API after printing the gateway's error,
 * or EX_UNREACHABLE after saying why. When @p status is not NULL it gets
 * the HTTP status, and a 404 is left unprinted for the caller to handle.
 */
static int call(struct ctl *c, const char *method, const char *path,
		const json_t *body, json_t **out, int *status)
{
	struct ctl_answer a;
	char why[300];
	char *text = body ? dump(body) : NULL;
	json_error_t je;
	json_t *j;
	int rc;

	if (out)
		*out = NULL;
	if (status)
		*status = 0;
	c->t.token = c->token;
	rc = ctl_http_request(&c->t, method, path, text, &a, why, sizeof why);
	free(text);
	if (rc) {
		bool v6 = strchr(c->t.host, ':') != NULL;
		err("cannot reach the gateway at http://%s%s%s:%s: %s",
		    v6 ? "[" : "", c->t.host, v6 ? "]" : "", c->t.port, why);
		return EX_UNREACHABLE;
	}
	if (status)
		*status = a.status;
	if (a.status < 200 || a.status > 299) {
		if (!status || a.status != 404)
			api_error(&a);
		ctl_answer_free(&a);
		return EX_API;
	}
	j = json_loadb(a.body, a.len, JSON_DECODE_ANY, &je);
	if (!j) {
		err("%s %s: the answer is not JSON (%s)", method, path, je.text);
		ctl_answer_free(&a);
		return EX_API;
	}
	ctl_answer_free(&a);
	if (out)
		*out = j;
	else
		json_decref(j);
	return EX_DONE;
}

/* "/api/BASE/A/B..." with each segment escaped; false when too long. */
static bool path_of(char *out, size_t size, const char *base, ...)
{
	va_list ap;
	const char *seg;
	bool ok = true;

	snprintf(out, size, "/api/%s", base);
	va_start(ap, base);
	while (ok && (seg = va_arg(ap, const char *))) {
		size_t n = strlen(out);
		ok = n + 1 < size;
		if (ok) {
			out[n] = '/';
			out[n + 1] = '\0';
			ok = ctl_escape(seg, out, size);
		}
	}
	va_end(ap);
	return ok;
}

/* "/api/BASE" or "/api/BASE?tenant=T". */
static bool path_tenant(char *out, size_t size, const char *base,
			const char *tenant)
{
	snprintf(out, size, "/api/%s%s", base, tenant ? "?tenant=" : "");
	return !tenant || ctl_escape(tenant, out, size);
}

static void print_json(const json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
			     JSON_ENCODE_ANY);

	if (s)
		puts(s);
	free(s);
}

/* ---- tables ------------------------------------------------------- */

struct table {
	size_t ncol, nrow, cap;
	char **cell;              /* nrow * ncol, row 0 the header */
};

static void table_row(struct table *t, ...)
{
	va_list ap;

	if (t->nrow == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->cell = realloc(t->cell, t->cap * t->ncol * sizeof *t->cell);
		if (!t->cell) {
			err("out of memory");
			exit(EX_API);
		}
	}
	va_start(ap, t);
	for (size_t i = 0; i < t->ncol; i++) {
		const char *s = va_arg(ap, const char *);
		t->cell[t->nrow * t->ncol + i] = strdup(s && *s ? s : "-");
	}
	va_end(ap);
	t->nrow++;
}

/* Prints the table (header first), each line after @p indent; frees it. */
static void table_print(struct table *t, const char *indent)
{
	size_t w[16] = { 0 };

	for (size_t r = 0; r < t->nrow; r++)
		for (size_t i = 0; i < t->ncol && i < 16; i++) {
			size_t n = strlen(t->cell[r * t->ncol + i]);
			if (n > w[i])
				w[i] = n;
		}
	for (size_t r = 0; r < t->nrow; r++) {
		fputs(indent, stdout);
		for (size_t i = 0; i < t->ncol; i++) {
			const char *s = t->cell[r * t->ncol + i];
			if (i + 1 < t->ncol)
				printf("%-*s  ", (int)w[i], s);
			else
				printf("%s\n", s);
		}
	}
	for (size_t k = 0; k < t->nrow * t->ncol; k++)
		free(t->cell[k]);
	free(t->cell);
	memset(t, 0, sizeof *t);
}

/* A string member, "" when absent. */
static const char *js(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

static long long ji(const json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

/* @p secs as "42s", "5m03s", "2h05m" or "3d04h". */
static const char *dur(long long secs, char *b, size_t n)
{
	if (secs < 0)
		snprintf(b, n, "-");
	else if (secs < 60)
		snprintf(b, n, "%llds", secs);
	else if (secs < 3600)
		snprintf(b, n, "%lldm%02llds", secs / 60, secs % 60);
	else if (secs < 86400)
		snprintf(b, n, "%lldh%02lldm", secs / 3600, secs % 3600 / 60);
	else
		snprintf(b, n, "%lldd%02lldh", secs / 86400, secs % 86400 / 3600);
	return b;
}

static const char *num(long long v, char *b, size_t n)
{
	snprintf(b, n, "%lld", v);
	return b;
}

/* ---- commands ----------------------------------------------------- */

static int cmd_status(struct ctl *c)
{
	json_t *h, *tr, *t;
	char up[32];
	size_t i;
	int rc = call(c, "GET", "/api/health", NULL, &h, NULL);

	if (rc)
		return rc;
	if ((rc = call(c, "GET", "/api/trunks", NULL, &tr, NULL))) {
		json_decref(h);
		return rc;
	}
	if (c->json) {
		json_t *all = json_pack("{s:O, s:O}", "health", h, "trunks", tr);
		print_json(all);
		json_decref(all);
	} else {
		printf("gateway %s, up %s: %lld connections, %lld registrations, "
		       "%lld calls\n", js(h, "status"), dur(ji(h, "uptime"), up,
		       sizeof up), ji(h, "connections"), ji(h, "registrations"),
		       ji(h, "calls"));
		if (!json_array_size(tr)) {
			puts("no trunks");
		} else {
			struct table tb = { .ncol = 5 };
			table_row(&tb, "TRUNK", "MODE", "STATE", "P-CSCF", "LAST ERROR");
			json_array_foreach(tr, i, t)
				table_row(&tb, js(t, "name"), js(t, "mode"),
					  js(t, "state"), js(t, "pcscf"),
					  js(t, "last_error"));
			table_print(&tb, "");
		}
	}
	json_decref(h);
	json_decref(tr);
	return EX_DONE;
}

static int cmd_registrations(struct ctl *c, const char *tenant)
{
	char path[512], b1[32], b2[32];
	json_t *l, *r;
	size_t i;
	int rc;

	if (!path_tenant(path, sizeof path, "registrations", tenant))
		return usage_error("tenant name too long");
	if ((rc = call(c, "GET", path, NULL, &l, NULL)))
		return rc;
	if (c->json) {
		print_json(l);
	} else if (!json_array_size(l)) {
		puts("no registrations");
	} else {
		struct table tb = { .ncol = 7 };
		table_row(&tb, "TENANT", "AOR", "CONTACT", "INSTANCE", "PEER",
			  "CONN", "EXPIRES");
		json_array_foreach(l, i, r)
			table_row(&tb, js(r, "tenant"), js(r, "aor"),
				  js(r, "contact"), js(r, "instance"),
				  js(r, "peer"), num(ji(r, "connection"), b1,
				  sizeof b1), dur(ji(r, "expires_in"), b2, sizeof b2));
		table_print(&tb, "");
	}
	json_decref(l);
	return EX_DONE;
}

static int cmd_calls(struct ctl *c)
{
	json_t *l, *k;
	size_t i;
	int rc = call(c, "GET", "/api/calls", NULL, &l, NULL);
	long long now = (long long)time(NULL);

	if (rc)
		return rc;
	if (c->json) {
		print_json(l);
	} else if (!json_array_size(l)) {
		puts("no calls");
	} else {
		struct table tb = { .ncol = 8 };
		table_row(&tb, "ID", "DIRECTION", "STATE", "TENANT", "USER",
			  "REMOTE", "SINCE", "ANSWERED");
		json_array_foreach(l, i, k) {
			char id[32], since[32], ans[32];
			long long a = ji(k, "answered");
			table_row(&tb, num(ji(k, "id"), id, sizeof id),
				  js(k, "direction"), js(k, "state"),
				  js(k, "tenant"), js(k, "user"), js(k, "remote"),
				  dur(now - ji(k, "started"), since, sizeof since),
				  a ? dur(now - a, ans, sizeof ans) : "-");
		}
		table_print(&tb, "");
	}
	json_decref(l);
	return EX_DONE;
}

static int cmd_cdrs(struct ctl *c, const char *tenant)
{
	char path[512], id[32], st[16], len[32];
	json_t *l, *k;
	size_t i, n;
	int rc;

	if (!path_tenant(path, sizeof path, "cdrs", tenant))
		return usage_error("tenant name too long");
	if ((rc = call(c, "GET", path, NULL, &l, NULL)))
		return rc;
	n = json_array_size(l);
	if (c->json) {
		print_json(l);
	} else if (!n) {
		puts("no call records");
	} else {
		struct table tb = { .ncol = 8 };
		table_row(&tb, "ID", "CORR", "DIRECTION", "USER", "REMOTE",
			  "STATUS", "TALK", "REASON");
		json_array_foreach(l, i, k) {
			long long a = ji(k, "answered");
			if (i + 50 < n)
				continue;
			table_row(&tb, num(ji(k, "id"), id, sizeof id), js(k, "corr"),
				  js(k, "direction"), js(k, "user"), js(k, "remote"),
				  num(ji(k, "status"), st, sizeof st),
				  a ? dur((ji(k, "ended") - a) / 1000, len, sizeof len) : "-",
				  js(k, "reason"));
		}
		table_print(&tb, "");
	}
	json_decref(l);
	return EX_DONE;
}

static int cmd_hangup(struct ctl *c, const char *id)
{
	char path[128];
	json_t *j;
	int rc;

	if (!path_of(path, sizeof path, "calls", id, (char *)NULL))
		return usage_error("call id too long");
	if ((rc = call(c, "DELETE", path, NULL, &j, NULL)))
		return rc;
	if (c->json)
		print_json(j);
	else
		printf("call %lld hung up\n", ji(j, "id"));
	json_decref(j);
	return EX_DONE;
}

static int cmd_tenants(struct ctl *c)
{
	json_t *l, *t;
	size_t i;
	int rc = call(c, "GET", "/api/tenants", NULL, &l, NULL);

	if (rc)
		return rc;
	if (c->json) {
		print_json(l);
	} else if (!json_array_size(l)) {
		puts("no tenants");
	} else {
		struct table tb = { .ncol = 9 };
		table_row(&tb, "TENANT", "DOMAIN", "TRUNK", "IN USE", "HELD",
			  "MAX", "REFUSED", "GROUPS", "RANGES");
		json_array_foreach(l, i, t) {
			char u[32], h[32], m[32], r[32], g[32], ranges[1024] = "";
			json_t *x;
			size_t k;
			json_array_foreach(json_object_get(t, "ranges"), k, x)
				snprintf(ranges + strlen(ranges), sizeof ranges -
					 strlen(ranges), "%s%s", k ? "," : "",
					 json_string_value(x) ? json_string_value(x) : "");
			table_row(&tb, js(t, "name"), js(t, "domain"), js(t, "trunk"),
				  num(ji(t, "identities_in_use"), u, sizeof u),
				  num(ji(t, "identities_held"), h, sizeof h),
				  ji(t, "max_identities") ? num(ji(t, "max_identities"),
				  m, sizeof m) : "no limit",
				  num(ji(t, "identities_refused"), r, sizeof r),
				  num(ji(t, "ring_groups"), g, sizeof g), ranges);
		}
		table_print(&tb, "");
	}
	json_decref(l);
	return EX_DONE;
}

static int cmd_identities(struct ctl *c, const char *tenant)
{
	char path[512];
	json_t *l, *a;
	size_t i;
	int rc;
	long long now = (long long)time(NULL);

	if (!path_tenant(path, sizeof path, "identities", tenant))
		return usage_error("tenant name too long");
	if ((rc = call(c, "GET", path, NULL, &l, NULL)))
		return rc;
	if (c->json) {
		print_json(l);
	} else if (!json_array_size(l)) {
		puts("no identities allocated");
	} else {
		struct table tb = { .ncol = 5 };
		table_row(&tb, "TENANT", "SET", "NUMBER", "SUBJECT", "STATE");
		json_array_foreach(l, i, a) {
			char st[64], d[32];
			long long hold = ji(a, "hold_until");
			if (hold)
				snprintf(st, sizeof st, "held (%s left)",
					 dur(hold > now ? hold - now : 0, d, sizeof d));
			else
				snprintf(st, sizeof st, "%s", js(a, "state"));
			table_row(&tb, js(a, "tenant"), js(a, "set"), js(a, "number"),
				  js(a, "subject"), st);
		}
		table_print(&tb, "");
	}
	json_decref(l);
	return EX_DONE;
}

/* The password of `user add`: --password, else one line of stdin (asked
 * for without echo on a terminal). Returns 0 or EX_USAGE. */
static int password_get(struct ctl *c, const char *name, char *buf, size_t size)
{
	struct termios old, quiet;
	bool tty = isatty(STDIN_FILENO) &&
		   !tcgetattr(STDIN_FILENO, &old);
	bool got;

	if (c->password) {
		snprintf(buf, size, "%s", c->password);
	} else {
		if (tty) {
			fprintf(stderr, "Password for %s: ", name);
			quiet = old;
			quiet.c_lflag &= ~(tcflag_t)ECHO;
			(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
		}
		got = fgets(buf, (int)size, stdin) != NULL;
		if (tty) {
			(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
			fputc('\n', stderr);
		}
		if (!got)
			*buf = '\0';
		buf[strcspn(buf, "\r\n")] = '\0';
	}
	if (!*buf) {
		err("no password given (--password, or a line on stdin)");
		return EX_USAGE;
	}
	return EX_DONE;
}

static int cmd_user(struct ctl *c, int argc, char **argv)
{
	char path[768], pass[1024];
	json_t *j, *body;
	int rc;

	if (argc != 3 || (strcmp(argv[0], "add") && strcmp(argv[0], "del")))
		return usage_error("usage: user add|del TENANT NAME");
	if (!strcmp(argv[0], "del")) {
		if (!path_of(path, sizeof path, "users", argv[1], argv[2],
			     (char *)NULL))
			return usage_error("name too long");
		if ((rc = call(c, "DELETE", path, NULL, &j, NULL)))
			return rc;
		if (c->json)
			print_json(j);
		else
			printf("user %s deleted from tenant %s\n", js(j, "username"),
			       js(j, "tenant"));
		json_decref(j);
		return EX_DONE;
	}
	if ((rc = password_get(c, argv[2], pass, sizeof pass)))
		return rc;
	body = json_pack("{s:s, s:s, s:s}", "tenant", argv[1], "username",
			 argv[2], "password", pass);
	memset(pass, 0, sizeof pass);
	if (!body)
		return usage_error("tenant, name and password must be UTF-8");
	rc = call(c, "POST", "/api/users", body, &j, NULL);
	json_decref(body);
	if (rc)
		return rc;
	if (c->json)
		print_json(j);
	else
		printf("user %s added to tenant %s (realm %s)\n", js(j, "username"),
		       js(j, "tenant"), js(j, "realm"));
	json_decref(j);
	return EX_DONE;
}

static int cmd_groups(struct ctl *c)
{
	json_t *l, *g, *m;
	size_t i, k;
	int rc = call(c, "GET", "/api/groups", NULL, &l, NULL);

	if (rc)
		return rc;
	if (c->json) {
		print_json(l);
	} else if (!json_array_size(l)) {
		puts("no ring groups");
	} else {
		json_array_foreach(l, i, g) {
			struct table tb = { .ncol = 5 };
			char d1[32], d2[32], d3[32];
			printf("%s%s %s \"%s\": %s, %s per member, overflow after %s "
			       "to %s, wrap-up %s%s\n", i ? "\n" : "", js(g, "tenant"),
			       js(g, "number"), js(g, "name"), js(g, "strategy"),
			       dur(ji(g, "member_timeout"), d1, sizeof d1),
			       dur(ji(g, "timeout"), d2, sizeof d2),
			       *js(g, "overflow") ? js(g, "overflow") : "nobody (480)",
			       dur(ji(g, "wrap_up"), d3, sizeof d3),
			       json_is_true(json_object_get(g, "call_waiting")) ?
			       ", call waiting" : "");
			table_row(&tb, "MEMBER", "STATE", "CALLS", "DEVICES", "IDLE");
			json_array_foreach(json_object_get(g, "members"), k, m) {
				char n1[32], n2[32], idle[32];
				table_row(&tb, js(m, "number"), js(m, "state"),
					  num(ji(m, "calls"), n1, sizeof n1),
					  num(ji(m, "devices"), n2, sizeof n2),
					  dur(ji(m, "idle_seconds"), idle, sizeof idle));
			}
			table_print(&tb, "  ");
		}
	}
	json_decref(l);
	return EX_DONE;
}

static int cmd_agent(struct ctl *c, const char *verb, int argc, char **argv)
{
	char path[768];
	json_t *j;
	int rc;

	if (argc != 2)
		return usage_error("usage: %s TENANT NUMBER", verb);
	if (!path_of(path, sizeof path, "agents", argv[0], argv[1], verb,
		     (char *)NULL))
		return usage_error("tenant or number too long");
	if ((rc = call(c, "POST", path, NULL, &j, NULL)))
		return rc;
	if (c->json)
		print_json(j);
	else
		printf("agent %s of tenant %s %s\n", js(j, "number"),
		       js(j, "tenant"), json_is_true(json_object_get(j, "paused")) ?
		       "paused" : "available again");
	json_decref(j);
	return EX_DONE;
}

/* ---- diversion ---------------------------------------------------- */

static const char *const div_keys[] = { "unconditional", "busy", "no_answer",
					"not_reachable" };

static void diversion_print(const json_t *d)
{
	const char *labels[] = { "unconditional", "busy", "no answer",
				 "not reachable" };
	long long t = ji(d, "no_answer_time");

	printf("%s of tenant %s (from the %s)\n", js(d, "identity"),
	       js(d, "tenant"), !strcmp(js(d, "source"), "store") ? "store" :
	       "configuration");
	for (size_t i = 0; i < 4; i++) {
		const char *v = js(d, div_keys[i]);
		printf("  %-14s %s\n", labels[i], *v ? v : "-");
	}
	if (t)
		printf("  %-14s %llds\n", "no answer time", t);
	else
		printf("  %-14s the tenant's default\n", "no answer time");
}

static int diversion_list(struct ctl *c, const char *tenant)
{
	char path[512];
	json_t *l, *d;
	size_t i;
	int rc;

	if (!path_tenant(path, sizeof path, "diversions", tenant))
		return usage_error("tenant name too long");
	if ((rc = call(c, "GET", path, NULL, &l, NULL)))
		return rc;
	if (c->json) {
		print_json(l);
	} else if (!json_array_size(l)) {
		puts("no diversions");
	} else {
		struct table tb = { .ncol = 8 };
		table_row(&tb, "TENANT", "NUMBER", "SOURCE", "UNCONDITIONAL",
			  "BUSY", "NO ANSWER", "TIME", "NOT REACHABLE");
		json_array_foreach(l, i, d) {
			char t[32];
			table_row(&tb, js(d, "tenant"), js(d, "identity"),
				  js(d, "source"), js(d, "unconditional"), js(d, "busy"),
				  js(d, "no_answer"), ji(d, "no_answer_time") ?
				  num(ji(d, "no_answer_time"), t, sizeof t) : "default",
				  js(d, "not_reachable"));
		}
		table_print(&tb, "");
	}
	json_decref(l);
	return EX_DONE;
}

/* Applies KEY=VALUE arguments to @p d. Returns 0 or EX_USAGE. */
static int diversion_apply(json_t *d, int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		const char *eq = strchr(argv[i], '=');
		size_t n = eq ? (size_t)(eq - argv[i]) : 0, k;
		if (!eq)
			return usage_error("'%s': expected KEY=VALUE", argv[i]);
		if ((n == 4 && !strncmp(argv[i], "time", 4)) ||
		    (n == 14 && !strncmp(argv[i], "no_answer_time", 14))) {
			char *e;
			long v = strtol(eq + 1, &e, 10);
			if (!eq[1] || *e || v < 0 || v > 3600)
				return usage_error("time: seconds 0..3600 (0: the "
						   "tenant's default), not '%s'",
						   eq + 1);
			json_object_set_new(d, "no_answer_time", json_integer(v));
			continue;
		}
		for (k = 0; k < 4; k++)
			if (strlen(div_keys[k]) == n &&
			    !strncmp(argv[i], div_keys[k], n))
				break;
		if (k == 4)
			return usage_error("unknown key '%.*s' (unconditional, busy, "
					   "no_answer, not_reachable, time)",
					   (int)n, argv[i]);
		if (json_object_set_new(d, div_keys[k], json_string(eq + 1)))
			return usage_error("'%s' is not UTF-8", argv[i]);
	}
	return EX_DONE;
}

static int cmd_diversion(struct ctl *c, int argc, char **argv)
{
	char path[768];
	const char *op = argc ? argv[0] : "";
	json_t *j = NULL, *d;
	int rc, status;

	if (!strcmp(op, "list")) {
		if (argc > 2)
			return usage_error("usage: diversion list [TENANT]");
		return diversion_list(c, argc == 2 ? argv[1] : NULL);
	}
	if (strcmp(op, "get") && strcmp(op, "set") && strcmp(op, "del"))
		return usage_error("usage: diversion list|get|set|del ...");
	if (argc < 3 || (strcmp(op, "set") ? argc != 3 : argc < 4))
		return usage_error("usage: diversion %s TENANT NUMBER%s", op,
				   strcmp(op, "set") ? "" : " KEY=VALUE...");
	if (!path_of(path, sizeof path, "diversions", argv[1], argv[2],
		     (char *)NULL))
		return usage_error("tenant or number too long");
	if (!strcmp(op, "del")) {
		if ((rc = call(c, "DELETE", path, NULL, &j, NULL)))
			return rc;
		if (c->json)
			print_json(j);
		else
			printf("stored diversion of %s in tenant %s deleted\n",
			       js(j, "identity"), js(j, "tenant"));
		json_decref(j);
		return EX_DONE;
	}
	/* get; set starts from the setting that applies now, if any */
	rc = call(c, "GET", path, NULL, &j, !strcmp(op, "set") ? &status : NULL);
	if (rc && !(rc == EX_API && status == 404))
		return rc;
	if (!strcmp(op, "get")) {
		if (c->json)
			print_json(j);
		else
			diversion_print(j);
		json_decref(j);
		return EX_DONE;
	}
	d = json_object();
	for (size_t k = 0; k < 4; k++)
		json_object_set_new(d, div_keys[k], json_string(js(j, div_keys[k])));
	json_object_set_new(d, "no_answer_time",
			    json_integer(ji(j, "no_answer_time")));
	json_decref(j);
	if ((rc = diversion_apply(d, argc - 3, argv + 3))) {
		json_decref(d);
		return rc;
	}
	rc = call(c, "PUT", path, d, &j, NULL);
	json_decref(d);
	if (rc)
		return rc;
	if (c->json)
		print_json(j);
	else
		diversion_print(j);
	json_decref(j);
	return EX_DONE;
}

static int cmd_reload(struct ctl *c)
{
	json_t *j;
	int rc = call(c, "POST", "/api/reload", NULL, &j, NULL);

	if (rc)
		return rc;
	if (c->json)
		print_json(j);
	else
		puts("configuration reloaded");
	json_decref(j);
	return EX_DONE;
}

/* ---- main --------------------------------------------------------- */

static const struct { const char *name, *usage; } cmds[] = {
	{ "status", "status" },
	{ "registrations", "registrations [TENANT]" },
	{ "calls", "calls" },
	{ "hangup", "hangup ID" },
	{ "tenants", "tenants" },
	{ "identities", "identities [TENANT]" },
	{ "user", "user add|del TENANT NAME" },
	{ "groups", "groups" },
	{ "pause", "pause TENANT NUMBER" },
	{ "resume", "resume TENANT NUMBER" },
	{ "diversion", "diversion list|get|set|del ..." },
	{ "reload", "reload" },
	{ "cdrs", "cdrs [TENANT]" },
};

/* The usage line of command @p cmd, or NULL when there is none such. */
static const char *usage_of(const char *cmd)
{
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
		if (!strcmp(cmds[i].name, cmd))
			return cmds[i].usage;
	return NULL;
}

static int run(struct ctl *c, int argc, char **argv)
{
	const char *cmd = argv[0];
	int n = argc - 1;
	char **a = argv + 1;

	if (!strcmp(cmd, "status") && !n)
		return cmd_status(c);
	if (!strcmp(cmd, "registrations") && n <= 1)
		return cmd_registrations(c, n ? a[0] : NULL);
	if (!strcmp(cmd, "calls") && !n)
		return cmd_calls(c);
	if (!strcmp(cmd, "cdrs") && n <= 1)
		return cmd_cdrs(c, n ? argv[1] : NULL);
	if (!strcmp(cmd, "hangup") && n == 1)
		return cmd_hangup(c, a[0]);
	if (!strcmp(cmd, "tenants") && !n)
		return cmd_tenants(c);
	if (!strcmp(cmd, "identities") && n <= 1)
		return cmd_identities(c, n ? a[0] : NULL);
	if (!strcmp(cmd, "user"))
		return cmd_user(c, n, a);
	if (!strcmp(cmd, "groups") && !n)
		return cmd_groups(c);
	if (!strcmp(cmd, "pause") || !strcmp(cmd, "resume"))
		return cmd_agent(c, cmd, n, a);
	if (!strcmp(cmd, "diversion"))
		return cmd_diversion(c, n, a);
	if (!strcmp(cmd, "reload") && !n)
		return cmd_reload(c);
	return usage_error("usage: %s", usage_of(cmd));
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "password", required_argument, NULL, 'P' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctl c = { .t.timeout_ms = 10000 };
	const char *conf = DEFAULT_CONF;
	bool conf_given = false;
	char *e;
	long secs;
	int o, rc;

	opterr = 0;
	while ((o = getopt_long(argc, argv, "c:jt:h", opts, NULL)) != -1) {
		switch (o) {
		case 'c':
			conf = optarg;
			conf_given = true;
			break;
		case 'j':
			c.json = true;
			break;
		case 'P':
			c.password = optarg;
			break;
		case 't':
			secs = strtol(optarg, &e, 10);
			if (*e || secs < 1 || secs > 3600)
				return usage_error("--timeout: seconds 1..3600, "
						   "not '%s'", optarg);
			c.t.timeout_ms = (int)secs * 1000;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return EX_DONE;
		default:
			return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return usage_error("no command given");
	if (!usage_of(argv[optind]))
		return usage_error("unknown command '%s'", argv[optind]);
	if ((rc = locate(&c, conf, conf_given)))
		return rc;
	rc = run(&c, argc - optind, argv + optind);
	free(c.token);
	return rc;
}
