/**
 * @file fuzz_admin.c  libFuzzer harness for the admin API
 * (gateway/admin/): the input is one request as the listener has read it,
 * written as HTTP:
 *
 *   METHOD PATH[?QUERY]
 *   Authorization: Bearer TOKEN      (any header lines; only this one counts)
 *
 *   BODY
 *
 * and goes through admin_handle(): routing, the admin token, then the
 * route's handler: users (JSON bodies, HA1 made and stored), diversion
 * settings (JSON bodies), agents, identities, registrations, calls, call
 * records, tenants, trunks, reload. The fixture is the gateway of
 * fixture.c with its trunk and call core (api_routes_add() as the daemon
 * registers them) and the admin token "fuzz-admin-token-0123456789".
 * What must hold: every answer has a status 200..599 and, unless it says
 * another type (CSV records), a JSON body.
 */
#include "tests/fuzz/fixture.h"
#include "conf/conf.h"
#include "gateway/admin/admin.h"
#include "gateway/admin/api.h"

#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ADMIN_TOKEN "fuzz-admin-token-0123456789"

static struct admin *admin;
static struct api_src src;

static int reload_stub(void *arg, char **errs)
{
	(void)arg;
	*errs = strdup("reload: not in this harness\nsecond line");
	return EINVAL;
}

static void admin_free(void)
{
	admin_destroy(admin);
}

static void admin_make(void)
{
	struct fixture *fx = fixture_get(FIXTURE_TRUNK);
	struct conf_admin ca = { 0 };
	char path[160];
	FILE *fp;

	snprintf(path, sizeof path, "%s/admin.token", fx->dir);
	fp = fopen(path, "w");
	if (!fp)
		abort();
	fputs(ADMIN_TOKEN "\n", fp);
	fclose(fp);
	ca.port = 0;
	if (admin_create(&admin, &ca, NULL))
		abort();
	ca.token_file = path;
	admin_reload(admin, &ca);
	src = (struct api_src){ &fx->conf, fx->wic, fx->w8, fx->calls,
				fx->ident, fx->store, fx->svc, reload_stub, NULL,
				(long long)time(NULL) };
	if (api_routes_add(admin, &src))
		abort();
	atexit(admin_free);
}

/* The value of header @p name in [p, end), NUL-terminated in @p buf. */
static const char *header(const char *p, const char *end, const char *name,
			  char *buf, size_t size)
{
	size_t n = strlen(name);

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t ll = (size_t)((eol ? eol : end) - p);
		if (ll > n && !strncasecmp(p, name, n) && p[n] == ':') {
			const char *v = p + n + 1;
			size_t vl = ll - n - 1;
			while (vl && *v == ' ')
				v++, vl--;
			while (vl && v[vl - 1] == '\r')
				vl--;
			if (vl >= size)
				vl = size - 1;
			memcpy(buf, v, vl);
			buf[vl] = '\0';
			return buf;
		}
		p = eol ? eol + 1 : end;
	}
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size, *eol, *hend, *body;
	char *line, *sp, *q, *method, *path, *query, auth[512];
	const char *authp;
	struct admin_resp rs = { 200, "application/json", NULL };
	struct admin_req rq = { 0 };
	char *bcopy;
	size_t blen;
	json_t *j;

	if (!admin)
		admin_make();
	eol = memchr(p, '\n', size);
	/* "METHOD PATH" (room for a path "/" when there is none) */
	line = malloc((size_t)((eol ? eol : end) - p) + 3);
	if (!line)
		return 0;
	memcpy(line, p, (size_t)((eol ? eol : end) - p));
	line[(eol ? eol : end) - p] = '\0';
	line[strcspn(line, "\r")] = '\0';
	method = line;
	sp = strchr(line, ' ');
	if (!sp) {
		sp = line + strlen(line);
		strcpy(sp, " /");
	}
	*sp = '\0';
	path = sp + 1;
	path[strcspn(path, " ")] = '\0';
	q = strchr(path, '?');
	query = q ? q + 1 : (char *)"";
	if (q)
		*q = '\0';
	/* headers up to an empty line; the rest is the body */
	hend = eol ? eol + 1 : end;
	body = hend;
	while (body < end) {
		const char *nl = memchr(body, '\n', (size_t)(end - body));
		if (!nl || nl == body || (nl == body + 1 && *body == '\r')) {
			body = nl ? nl + 1 : end;
			break;
		}
		body = nl + 1;
	}
	authp = header(hend, body, "Authorization", auth, sizeof auth);
	blen = (size_t)(end - body);
	bcopy = malloc(blen + 1);
	memcpy(bcopy, body, blen);
	bcopy[blen] = '\0';
	rq.method = method;
	rq.path = path;
	rq.query = query;
	rq.body = bcopy;
	rq.body_len = blen;
	rs.body = g_string_new(NULL);
	admin_handle(admin, &rq, authp, false, &rs);
	if (rs.status < 200 || rs.status > 599)
		abort();
	j = strcmp(rs.ctype, "application/json") ? json_string("") :
	    json_loadb(rs.body->str, rs.body->len, 0, NULL);
	if (!j) {
		fprintf(stderr, "%d: not JSON: %s\n", rs.status, rs.body->str);
		abort();
	}
	json_decref(j);
	g_string_free(rs.body, TRUE);
	free(bcopy);
	free(line);
	fixture_pump(fixture_get(FIXTURE_TRUNK), 4);
	return 0;
}
