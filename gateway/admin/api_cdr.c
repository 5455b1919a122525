/**
 * @file api_cdr.c  GET /api/cdrs: call detail records from the store, as
 * JSON (default) or CSV (?format=csv), selected by ?tenant=, ?since= and
 * ?until= (Unix ms, on the end time), oldest first or, with ?order=desc,
 * newest first, paged with ?after= and ?before= (ids) and ?limit= (at
 * most 10000 a page; default 1000).
 */
#include "api_priv.h"
#include "store/store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define CDR_PAGE_MAX 10000
#define CDR_PAGE_DEFAULT 1000

/* A JSON array text, or the text itself when it does not parse. */
static json_t *cdr_list(const char *text)
{
	json_t *j = json_loads(text, 0, NULL);

	return j ? j : json_string(text);
}

static int cdr_json_row(void *arg, const struct store_cdr *c)
{
	json_array_append_new(arg, json_pack(
		"{s:I, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:i, s:s, s:o, s:o}",
		"id", (json_int_t)c->id, "corr", c->corr, "tenant", c->tenant,
		"direction", c->direction, "user", c->user, "remote", c->remote,
		"started", (json_int_t)c->started, "answered", (json_int_t)c->answered,
		"ended", (json_int_t)c->ended, "status", c->status,
		"reason", c->reason, "legs", cdr_list(c->legs),
		"services", cdr_list(c->services)));
	return 0;
}

/* One CSV field (RFC 4180): quoted, with quotes doubled. */
static void csv_field(GString *b, const char *v, bool last)
{
	g_string_append_c(b, '"');
	for (; *v; v++) {
		if (*v == '"')
			g_string_append_c(b, '"');
		g_string_append_c(b, *v);
	}
	g_string_append(b, last ? "\"\r\n" : "\",");
}

static int cdr_csv_row(void *arg, const struct store_cdr *c)
{
	GString *b = arg;

	g_string_append_printf(b, "%lld,", c->id);
	csv_field(b, c->corr, false);
	csv_field(b, c->tenant, false);
	csv_field(b, c->direction, false);
	csv_field(b, c->user, false);
	csv_field(b, c->remote, false);
	g_string_append_printf(b, "%lld,%lld,%lld,%d,", c->started, c->answered,
			       c->ended, c->status);
	csv_field(b, c->reason, false);
	csv_field(b, c->legs, false);
	csv_field(b, c->services, true);
	return 0;
}

/* Reads a non-negative integer argument; false after answering 400. */
static bool cdr_arg(const struct admin_req *rq, const char *key,
		    long long *v, struct admin_resp *rs)
{
	char *s = api_query(rq, key), *end = NULL;
	bool ok = true;

	if (s) {
		errno = 0;
		*v = strtoll(s, &end, 10);
		ok = *s && !*end && !errno && *v >= 0;
		if (!ok)
			admin_error(rs, 400, "'%s' must be a non-negative integer", key);
	}
	g_free(s);
	return ok;
}

/* The filter of the request; false after answering 4xx. */
static bool cdr_filter(struct api_src *src, const struct admin_req *rq,
		       struct store_cdr_filter *f, char **tenant,
		       struct admin_resp *rs)
{
	long long limit = CDR_PAGE_DEFAULT;
	char *order = api_query(rq, "order");
	bool order_ok = !order || !strcmp(order, "asc") || !strcmp(order, "desc");

	memset(f, 0, sizeof *f);
	f->newest_first = order && !strcmp(order, "desc");
	g_free(order);
	if (!order_ok) {
		admin_error(rs, 400, "'order' must be asc or desc");
		return false;
	}
	*tenant = api_query(rq, "tenant");
	if (*tenant && !api_tenant(src, *tenant, rs))
		return false;
	if (!cdr_arg(rq, "since", &f->since, rs) ||
	    !cdr_arg(rq, "until", &f->until, rs) ||
	    !cdr_arg(rq, "after", &f->after_id, rs) ||
	    !cdr_arg(rq, "before", &f->before_id, rs) ||
	    !cdr_arg(rq, "limit", &limit, rs))
		return false;
	if (limit < 1 || limit > CDR_PAGE_MAX) {
		admin_error(rs, 400, "'limit' must be 1 to %d", CDR_PAGE_MAX);
		return false;
	}
	f->tenant = *tenant;
	f->limit = (size_t)limit;
	return true;
}

void api_cdrs(void *arg, const struct admin_req *rq, struct admin_resp *rs)
{
	struct api_src *src = arg;
	struct store_cdr_filter f;
	char *tenant = NULL, *format = api_query(rq, "format");
	bool csv = format && !strcmp(format, "csv");
	json_t *list;
	int err;

	if (format && !csv && strcmp(format, "json")) {
		admin_error(rs, 400, "'format' must be json or csv");
	} else if (cdr_filter(src, rq, &f, &tenant, rs)) {
		if (csv) {
			rs->ctype = "text/csv; charset=utf-8";
			g_string_assign(rs->body, "id,corr,tenant,direction,user,"
					"remote,started,answered,ended,status,"
					"reason,legs,services\r\n");
			err = store_cdr_foreach(src->store, &f, cdr_csv_row, rs->body);
		} else {
			list = json_array();
			err = store_cdr_foreach(src->store, &f, cdr_json_row, list);
			if (!err)
				admin_json(rs, 200, list);
			else
				json_decref(list);
		}
		if (err)
			admin_error(rs, 500, "the store failed: %s", strerror(err));
	}
	g_free(tenant);
	g_free(format);
}
