/**
 * @file console.c  GET /console/...: the console's page, script and style
 * from web.root, read whole (they are small) into the answer. 404 with a
 * JSON error when there is no web root or no such file.
 */
#include "console.h"
#include "admin.h"
#include "conf/conf.h"
#include "util/log.h"
#include "util/webfile.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

static void console_get(void *arg, const struct admin_req *rq,
			struct admin_resp *rs)
{
	struct conf **conf = arg;
	const char *root = (*conf)->web.root, *ctype = NULL;
	char upath[300], file[PATH_MAX];
	gchar *text = NULL;
	gsize len = 0;
	int err;

	/* "/console" is served as "/console/": the page names its files
	 * with absolute paths, so no redirect is needed */
	snprintf(upath, sizeof upath, "/console/%s",
		 rq->nargs ? rq->args[0] : "");
	if (!root || !*root) {
		admin_error(rs, 404, "no web pages are configured (web.root)");
		return;
	}
	err = webfile_resolve(root, upath, file, sizeof file, &ctype);
	if (!err && !g_file_get_contents(file, &text, &len, NULL))
		err = EIO;
	if (err) {
		log_dbg("admin", 0, "GET %.200s: %s", upath, strerror(err));
		admin_error(rs, 404, "no such file: %.100s", upath);
		return;
	}
	rs->status = 200;
	rs->ctype = ctype;
	g_string_append_len(rs->body, text, (gssize)len);
	g_free(text);
}

int console_routes_add(struct admin *a, struct conf **conf)
{
	int err = admin_route_add(a, "GET", "/console", true, console_get, conf);

	if (!err)
		err = admin_route_add(a, "GET", "/console/", true, console_get,
				      conf);
	if (!err)
		err = admin_route_add(a, "GET", "/console/{}", true, console_get,
				      conf);
	return err;
}
