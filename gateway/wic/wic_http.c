/**
 * @file wic_http.c  Plain HTTP on the ws and wss listeners: a GET that is
 * no WebSocket upgrade gets the softphone page and its scripts from the
 * configured web root (`web.root`), so that the page and its WebSocket
 * share one origin. Only the folders /phone/ and /vendor/ are served
 * (files only, no listing, the content types util/webfile.h knows); "/"
 * and "/phone" redirect to /phone/; anything else is 404, and methods
 * other than GET 405. Upgrades never come here: libwebsockets hands them to
 * the handshake callbacks of wic_ws.c.
 */
#include "wic_priv.h"
#include "conf/conf.h"
#include "util/log.h"
#include "util/webfile.h"

#include <errno.h>
#include <libwebsockets.h>
#include <limits.h>
#include <string.h>

/* The web root's folders served here; the console is the admin listener's. */
static const char *const served[] = { "/phone/", "/vendor/" };

/* Sent with every file: no type sniffing, no framing by other sites,
 * scripts only from the page's own origin, connections to it and to any
 * ws/wss server the user names. */
static const char file_headers[] =
	"X-Content-Type-Options: nosniff\r\n"
	"Cache-Control: no-cache\r\n"
	"Content-Security-Policy: default-src 'self'; connect-src 'self' ws: wss:; "
	"img-src 'self' data:; media-src 'self' blob:; frame-ancestors 'none'\r\n";

/* Ends the request: the connection is kept for the next one, or closed. */
static int http_finish(struct lws *wsi)
{
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static int http_status(struct lws *wsi, enum http_status code)
{
	if (lws_return_http_status(wsi, code, NULL))
		return -1;
	return http_finish(wsi);
}

static int http_redirect(struct lws *wsi, const char *to)
{
	unsigned char buf[LWS_PRE + 512], *p = buf + LWS_PRE,
		      *end = buf + sizeof buf;

	if (lws_http_redirect(wsi, HTTP_STATUS_FOUND, (const unsigned char *)to,
			      (int)strlen(to), &p, end) < 0)
		return -1;
	return http_finish(wsi);
}

/* True when @p uri lies in a served folder, or names one without its
 * final '/' (then redirected). */
static bool path_served(const char *uri)
{
	for (size_t i = 0; i < sizeof served / sizeof served[0]; i++) {
		size_t n = strlen(served[i]);
		if (!strncmp(uri, served[i], n) ||
		    (!strncmp(uri, served[i], n - 1) && !uri[n - 1]))
			return true;
	}
	return false;
}

/* Sends the file @p uri names, or the status that says why not. */
static int http_file(struct lws *wsi, const char *root, const char *uri)
{
	char file[PATH_MAX], to[256];
	const char *ctype = NULL;
	int err = webfile_resolve(root, uri, file, sizeof file, &ctype);
	int n;

	log_dbg("wic", 0, "GET %.200s -> %s", uri, err ? strerror(err) : file);
	if (err == EISDIR && strlen(uri) + 2 <= sizeof to) {
		snprintf(to, sizeof to, "%s/", uri);
		return http_redirect(wsi, to);
	}
	if (err)
		return http_status(wsi, HTTP_STATUS_NOT_FOUND);
	n = lws_serve_http_file(wsi, file, ctype, file_headers,
				(int)sizeof file_headers - 1);
	if (n < 0)
		return -1;
	return n > 0 ? http_finish(wsi) : 0;   /* 0: lws goes on sending */
}

int wic_http_serve(struct lws *wsi, const char *uri)
{
	struct wic *wic = lws_context_user(lws_get_context(wsi));
	const char *root = wic->conf->web.root;

	if (!uri || lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) <= 0)
		return http_status(wsi, HTTP_STATUS_METHOD_NOT_ALLOWED);
	if (!root || !*root || wic->closing)
		return http_status(wsi, HTTP_STATUS_NOT_FOUND);
	if (!strcmp(uri, "/"))
		return http_redirect(wsi, "/phone/");
	if (!path_served(uri))
		return http_status(wsi, HTTP_STATUS_NOT_FOUND);
	return http_file(wsi, root, uri);
}

int wic_http_done(struct lws *wsi)
{
	return http_finish(wsi);
}
