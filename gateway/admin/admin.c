/**
 * @file admin.c  HTTP routes over a libwebsockets context of its own (so
 * the SIP edge's limits and timeouts do not apply here), on the GLib loop
 * the rest of the gateway runs on: method and path matching, the admin
 * token, request bodies (at most 64 KiB) and JSON answers.
 */
#include "admin.h"
#include "conf/conf.h"
#include "util/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <libwebsockets.h>
#include <openssl/crypto.h>

#define ADMIN_MAX_ROUTES 64
#define ADMIN_MAX_BODY 65536

struct admin_route {
	const char *method;
	const char *pattern;
	bool open;
	admin_route_h *h;
	void *arg;
};

struct admin {
	struct lws_context *lws;
	struct lws_protocols protocols[2];
	struct admin_route routes[ADMIN_MAX_ROUTES];
	size_t nroutes;
	char *token;              /**< the admin token, or NULL: API closed */
};

/* Per connection: the request being read, then the answer being written. */
struct admin_pss {
	const char *method;
	char *path, *query, *auth;
	GString *req_body;
	bool too_large;
	GString *body;
	size_t sent;
};

/* ---- answers ------------------------------------------------------- */

void admin_json(struct admin_resp *rs, int status, void *j)
{
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;

	rs->status = status;
	rs->ctype = "application/json";
	g_string_assign(rs->body, text ? text : "null");
	g_string_append_c(rs->body, '\n');
	free(text);
	json_decref(j);
}

void admin_error(struct admin_resp *rs, int status, const char *fmt, ...)
{
	char msg[256];
	gchar *valid;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	/* a path or name from the request need not be UTF-8, nor is a cut
	 * one (%.100s): a JSON string must be, or json_pack() gives NULL */
	valid = g_utf8_make_valid(msg, -1);
	admin_json(rs, status, json_pack("{s:s}", "error", valid));
	g_free(valid);
}

/* ---- routing ------------------------------------------------------- */

/* Whether @p path matches @p pattern; fills @p rq's args (g_free them). */
static bool route_match(const char *pattern, const char *path,
			struct admin_req *rq)
{
	gchar **ps = g_strsplit(pattern, "/", -1), **xs = g_strsplit(path, "/", -1);
	bool ok = g_strv_length(ps) == g_strv_length(xs);

	rq->nargs = 0;
	for (size_t i = 0; ok && ps[i]; i++) {
		/* lws has already decoded %XX in the path: decoding again
		 * would turn a literal "%41" into "A" (and "%" alone into
		 * no match at all) */
		if (!strcmp(ps[i], "{}") && *xs[i] && rq->nargs < ADMIN_MAX_ARGS) {
			rq->args[rq->nargs++] = g_strdup(xs[i]);
		} else {
			ok = !strcmp(ps[i], xs[i]);
		}
	}
	if (!ok)
		for (size_t i = 0; i < rq->nargs; i++)
			g_free((char *)rq->args[i]);
	g_strfreev(ps);
	g_strfreev(xs);
	return ok;
}

/* True when the request carries the admin token (compared in constant
 * time over the token's length). */
static bool admin_authorised(const struct admin *a, const char *auth)
{
	size_t n;

	if (!a->token || !auth || g_ascii_strncasecmp(auth, "Bearer ", 7))
		return false;
	auth += 7;
	n = strlen(a->token);
	return strlen(auth) == n && !CRYPTO_memcmp(auth, a->token, n);
}

void admin_handle(struct admin *a, const struct admin_req *req,
		  const char *auth, bool too_large, struct admin_resp *rs)
{
	struct admin_req rq = *req;
	bool path_known = false;

	for (size_t i = 0; i < a->nroutes; i++) {
		const struct admin_route *r = &a->routes[i];
		if (!route_match(r->pattern, rq.path, &rq))
			continue;
		path_known = true;
		if (strcmp(r->method, rq.method)) {
			for (size_t k = 0; k < rq.nargs; k++)
				g_free((char *)rq.args[k]);
			continue;
		}
		if (too_large)
			admin_error(rs, 413, "request body larger than %d bytes",
				    ADMIN_MAX_BODY);
		else if (!r->open && !a->token)
			admin_error(rs, 403, "no admin token is configured "
				    "(admin.token_file)");
		else if (!r->open && !admin_authorised(a, auth))
			admin_error(rs, 401, "missing or wrong admin token "
				    "(Authorization: Bearer ...)");
		else
			r->h(r->arg, &rq, rs);
		for (size_t k = 0; k < rq.nargs; k++)
			g_free((char *)rq.args[k]);
		return;
	}
	if (path_known)
		admin_error(rs, 405, "%s is not allowed on %.100s", rq.method,
			    rq.path);
	else
		admin_error(rs, 404, "no such path: %.100s", rq.path);
}

static void admin_dispatch(struct admin *a, struct admin_pss *pss,
			   struct admin_resp *rs)
{
	struct admin_req rq = {
		.method = pss->method, .path = pss->path,
		.query = pss->query ? pss->query : "",
		.body = pss->req_body ? pss->req_body->str : "",
		.body_len = pss->req_body ? pss->req_body->len : 0,
	};

	admin_handle(a, &rq, pss->auth, pss->too_large, rs);
}

/* ---- the HTTP side ------------------------------------------------- */

/* Status line and headers, then the body on writable callbacks. */
static int admin_answer(struct lws *wsi, struct admin_pss *pss, int status,
			const char *ctype)
{
	unsigned char buf[LWS_PRE + 512], *start = buf + LWS_PRE, *p = start,
		      *end = buf + sizeof buf;

	if (lws_add_http_common_headers(wsi, (unsigned)status, ctype,
					(lws_filepos_t)pss->body->len, &p, end) ||
	    lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CACHE_CONTROL,
					 (const unsigned char *)"no-store", 8,
					 &p, end) ||
	    lws_finalize_write_http_header(wsi, start, &p, end))
		return -1;
	lws_callback_on_writable(wsi);
	return 0;
}

static int admin_respond(struct lws *wsi, struct admin_pss *pss)
{
	struct admin *a = lws_context_user(lws_get_context(wsi));
	struct admin_resp rs = { 200, "application/json", g_string_new(NULL) };

	admin_dispatch(a, pss, &rs);
	pss->body = rs.body;
	pss->sent = 0;
	log_dbg("admin", 0, "%s %s -> %d", pss->method, pss->path, rs.status);
	return admin_answer(wsi, pss, rs.status, rs.ctype);
}

static const struct { enum lws_token_indexes tok; const char *name; } methods[] = {
	{ WSI_TOKEN_GET_URI, "GET" }, { WSI_TOKEN_POST_URI, "POST" },
	{ WSI_TOKEN_PUT_URI, "PUT" }, { WSI_TOKEN_DELETE_URI, "DELETE" },
};

static char *hdr_dup(struct lws *wsi, enum lws_token_indexes tok)
{
	int n = lws_hdr_total_length(wsi, tok);
	char *v;

	if (n <= 0)
		return NULL;
	v = g_malloc((size_t)n + 1);
	if (lws_hdr_copy(wsi, v, n + 1, tok) < 0) {
		g_free(v);
		return NULL;
	}
	return v;
}

/* The query as "k=v&k=v" with each argument percent-encoded again. lws
 * hands the arguments over one by one, already decoded (joined into one
 * header they come with ',' between them, and a decoded '&' or '%' would
 * be taken for syntax). */
static char *query_of(struct lws *wsi)
{
	GString *q = g_string_new(NULL);
	char frag[4096];
	int n;

	for (int i = 0; (n = lws_hdr_copy_fragment(wsi, frag, sizeof frag,
						   WSI_TOKEN_HTTP_URI_ARGS,
						   i)) >= 0; i++) {
		char *e;
		if (!n)
			continue;
		e = g_uri_escape_string(frag, "=", FALSE);
		if (q->len)
			g_string_append_c(q, '&');
		g_string_append(q, e);
		g_free(e);
	}
	return g_string_free(q, FALSE);
}

static int on_http(struct lws *wsi, struct admin_pss *pss, const char *uri)
{
	memset(pss, 0, sizeof *pss);
	pss->method = "OTHER";
	for (size_t i = 0; i < G_N_ELEMENTS(methods); i++)
		if (lws_hdr_total_length(wsi, methods[i].tok) > 0)
			pss->method = methods[i].name;
	pss->path = g_strdup(uri);
	pss->query = query_of(wsi);
	pss->auth = hdr_dup(wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
	if (!strcmp(pss->method, "POST") || !strcmp(pss->method, "PUT")) {
		/* Content-Length: 0 has no body to wait for: answer now (lws
		 * sends no BODY_COMPLETION for a PUT then; for a POST it does,
		 * and that one is ignored, see admin_cb) */
		char *cl = hdr_dup(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH);
		bool body = cl && strtoull(cl, NULL, 10) > 0;
		g_free(cl);
		if (body) {
			pss->req_body = g_string_new(NULL);
			return 0;           /* answered when the body is in */
		}
	}
	return admin_respond(wsi, pss);
}

static int on_body(struct admin_pss *pss, const char *in, size_t len)
{
	if (!pss->req_body)
		pss->req_body = g_string_new(NULL);
	if (pss->req_body->len + len > ADMIN_MAX_BODY)
		pss->too_large = true;
	else
		g_string_append_len(pss->req_body, in, (gssize)len);
	return 0;
}

static int on_writable(struct lws *wsi, struct admin_pss *pss)
{
	unsigned char buf[LWS_PRE + 4096];
	size_t n;

	if (!pss->body)
		return 0;
	n = pss->body->len - pss->sent;
	if (n > sizeof buf - LWS_PRE)
		n = sizeof buf - LWS_PRE;
	memcpy(buf + LWS_PRE, pss->body->str + pss->sent, n);
	pss->sent += n;
	if (lws_write(wsi, buf + LWS_PRE, n, pss->sent < pss->body->len ?
		      LWS_WRITE_HTTP : LWS_WRITE_HTTP_FINAL) != (int)n)
		return -1;
	if (pss->sent < pss->body->len) {
		lws_callback_on_writable(wsi);
		return 0;
	}
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static void pss_free(struct admin_pss *pss)
{
	if (!pss)
		return;
	g_free(pss->path);
	g_free(pss->query);
	g_free(pss->auth);
	if (pss->req_body)
		g_string_free(pss->req_body, TRUE);
	if (pss->body)
		g_string_free(pss->body, TRUE);
	memset(pss, 0, sizeof *pss);
}

static int admin_cb(struct lws *wsi, enum lws_callback_reasons reason,
		    void *user, void *in, size_t len)
{
	struct admin_pss *pss = user;

	switch (reason) {
	case LWS_CALLBACK_HTTP:
		pss_free(pss);      /* keep-alive: the previous request's */
		return on_http(wsi, pss, (const char *)in);
	case LWS_CALLBACK_HTTP_BODY:
		return on_body(pss, in, len);
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		return pss->body ? 0 : admin_respond(wsi, pss);   /* once */
	case LWS_CALLBACK_HTTP_WRITEABLE:
		return on_writable(wsi, pss);
	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
	case LWS_CALLBACK_CLOSED_HTTP:
		pss_free(pss);
		return 0;
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}

/* ---- the listener -------------------------------------------------- */

void admin_token_set(struct admin *a, char *token)
{
	free(a->token);
	a->token = token;
}

int admin_reload(struct admin *a, const struct conf_admin *c)
{
	char why[300];
	char *tok = NULL;
	int err;

	if (!c->token_file || !*c->token_file) {
		admin_token_set(a, NULL);
		return 0;
	}
	err = conf_token_read(c->token_file, &tok, why, sizeof why);
	if (err) {
		log_err("admin", 0, "admin token: %s: %s; %s", c->token_file, why,
			a->token ? "the running token stays" : "the API stays closed");
		return err;
	}
	admin_token_set(a, tok);
	return 0;
}

int admin_create(struct admin **ap, const struct conf_admin *c, void *gloop)
{
	struct lws_context_creation_info info;
	void *foreign[1] = { gloop };
	struct admin *a = calloc(1, sizeof *a);

	if (!a)
		return ENOMEM;
	*ap = a;
	if (!c->port)
		return 0;
	admin_reload(a, c);
	a->protocols[0] = (struct lws_protocols){
		.name = "http", .callback = admin_cb,
		.per_session_data_size = sizeof(struct admin_pss),
	};
	memset(&info, 0, sizeof info);
	info.options = LWS_SERVER_OPTION_GLIB;
	if (strchr(c->address, '.') && !strchr(c->address, ':'))
		info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
	info.foreign_loops = foreign;
	info.user = a;
	info.iface = c->address;
	info.port = c->port;
	info.protocols = a->protocols;
	info.vhost_name = "admin";
	info.timeout_secs = 10;
	a->lws = lws_create_context(&info);
	if (!a->lws) {
		log_err("admin", 0, "cannot listen on http://%s:%d", c->address,
			c->port);
		return EADDRINUSE;
	}
	log_info("admin", 0, "listening http://%s:%d%s", c->address, c->port,
		 a->token ? "" : " (no admin token: the API is closed)");
	return 0;
}

int admin_route_add(struct admin *a, const char *method, const char *pattern,
		    bool open, admin_route_h *h, void *arg)
{
	if (a->nroutes >= ADMIN_MAX_ROUTES)
		return ENOSPC;
	a->routes[a->nroutes++] = (struct admin_route){ method, pattern, open,
							h, arg };
	return 0;
}

void admin_destroy(struct admin *a)
{
	if (!a)
		return;
	if (a->lws)
		lws_context_destroy(a->lws);
	free(a->token);
	free(a);
}
