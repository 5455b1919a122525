/**
 * @file admin.c  HTTP GET routes over a libwebsockets context of its own
 * (so the SIP edge's limits and timeouts do not apply here), on the GLib
 * loop the rest of the gateway runs on.
 */
#include "admin.h"
#include "conf/conf.h"
#include "util/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <libwebsockets.h>

#define ADMIN_MAX_ROUTES 16

struct admin_route {
	const char *path;
	admin_route_h *h;
	void *arg;
};

struct admin {
	struct lws_context *lws;
	struct lws_protocols protocols[2];
	struct admin_route routes[ADMIN_MAX_ROUTES];
	size_t nroutes;
};

/* Per connection: the response being written. */
struct admin_pss {
	GString *body;
	size_t sent;
};

static const struct admin_route *route_find(const struct admin *a,
					    const char *path)
{
	for (size_t i = 0; i < a->nroutes; i++)
		if (!strcmp(a->routes[i].path, path))
			return &a->routes[i];
	return NULL;
}

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

static int on_http(struct lws *wsi, struct admin_pss *pss, const char *uri)
{
	struct admin *a = lws_context_user(lws_get_context(wsi));
	const struct admin_route *r = route_find(a, uri);
	const char *ctype = "text/plain; charset=utf-8";
	int status;

	pss->body = g_string_new(NULL);
	pss->sent = 0;
	if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) <= 0) {
		status = 405;
		g_string_append(pss->body, "only GET is served here\n");
	} else if (!r) {
		status = 404;
		g_string_append_printf(pss->body, "no such path: %.100s\n", uri);
	} else {
		status = r->h(r->arg, pss->body, &ctype);
	}
	return admin_answer(wsi, pss, status, ctype);
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

static int admin_cb(struct lws *wsi, enum lws_callback_reasons reason,
		    void *user, void *in, size_t len)
{
	struct admin_pss *pss = user;

	switch (reason) {
	case LWS_CALLBACK_HTTP:
		return on_http(wsi, pss, (const char *)in);
	case LWS_CALLBACK_HTTP_WRITEABLE:
		return on_writable(wsi, pss);
	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
	case LWS_CALLBACK_CLOSED_HTTP:
		if (pss && pss->body) {
			g_string_free(pss->body, TRUE);
			pss->body = NULL;
		}
		return 0;
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
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
	log_info("admin", 0, "listening http://%s:%d", c->address, c->port);
	return 0;
}

int admin_route_add(struct admin *a, const char *path, admin_route_h *h,
		    void *arg)
{
	if (a->nroutes >= ADMIN_MAX_ROUTES)
		return ENOSPC;
	a->routes[a->nroutes++] = (struct admin_route){ path, h, arg };
	return 0;
}

void admin_destroy(struct admin *a)
{
	if (!a)
		return;
	if (a->lws)
		lws_context_destroy(a->lws);
	free(a);
}
