/**
 * @file ctl_api.c  wtpfctl's side of the admin API: paths, one request with
 * its answer checked, the gateway's errors on stderr, and answers printed
 * as JSON or as a line of text.
 */
#include "gateway/ctl/ctl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *ctl_js(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

long long ctl_ji(const json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

/* Prints the API's error of @p a (status not 2xx), with each line of its
 * "errors". */
static void api_error(const struct ctl_answer *a)
{
	json_t *j = json_loads(a->body, 0, NULL);
	const char *msg = json_string_value(json_object_get(j, "error"));
	json_t *l;
	size_t i;

	if (msg) {
		ctl_err("%s", msg);
	} else {
		size_t n = strcspn(a->body, "\r\n");
		ctl_err("the gateway answered HTTP %d%s%.*s", a->status,
			n ? ": " : "", (int)(n > 200 ? 200 : n), a->body);
	}
	json_array_foreach(json_object_get(j, "errors"), i, l)
		if (json_is_string(l))
			fprintf(stderr, "  %s\n", json_string_value(l));
	json_decref(j);
}

int ctl_call(struct ctl *c, const char *method, const char *path,
	     const json_t *body, json_t **out, int *status)
{
	struct ctl_answer a;
	char why[300];
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
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
		ctl_err("cannot reach the gateway at http://%s%s%s:%s: %s",
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
	ctl_answer_free(&a);
	if (!j) {
		ctl_err("%s %s: the answer is not JSON (%s)", method, path, je.text);
		return EX_API;
	}
	if (out)
		*out = j;
	else
		json_decref(j);
	return EX_DONE;
}

bool ctl_path(char *out, size_t size, const char *base, ...)
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

bool ctl_path_query(char *out, size_t size, const char *base,
		    const char *tenant, const char *query)
{
	size_t n;

	snprintf(out, size, "/api/%s%s", base, tenant ? "?tenant=" : "");
	if (tenant && !ctl_escape(tenant, out, size))
		return false;
	if (!query)
		return true;
	n = strlen(out);
	return snprintf(out + n, size - n, "%s%s", tenant ? "&" : "?",
			query) < (int)(size - n);
}

void ctl_print_json(const json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
			     JSON_ENCODE_ANY);

	if (s)
		puts(s);
	free(s);
}

/* ctl_show_f of ctl_do(): the template @p arg filled in. */
static void say(const json_t *j, const void *arg)
{
	const char *p = arg, *open, *close;

	while ((open = strchr(p, '{')) && (close = strchr(open, '}'))) {
		char key[64];
		json_t *v;
		fwrite(p, 1, (size_t)(open - p), stdout);
		snprintf(key, sizeof key, "%.*s", (int)(close - open - 1), open + 1);
		v = json_object_get(j, key);
		if (json_is_integer(v))
			printf("%lld", (long long)json_integer_value(v));
		else
			fputs(ctl_js(j, key), stdout);
		p = close + 1;
	}
	puts(p);
}

void ctl_output(struct ctl *c, json_t *j, ctl_show_f *show, const void *arg)
{
	if (c->json)
		ctl_print_json(j);
	else
		show(j, arg);
	json_decref(j);
}

int ctl_show(struct ctl *c, const char *method, const char *path,
	     const json_t *body, ctl_show_f *show, const void *arg)
{
	json_t *j;
	int rc = ctl_call(c, method, path, body, &j, NULL);

	if (!rc)
		ctl_output(c, j, show, arg);
	return rc;
}

int ctl_do(struct ctl *c, const char *method, const char *path,
	   const json_t *body, const char *tmpl)
{
	return ctl_show(c, method, path, body, say, tmpl);
}
