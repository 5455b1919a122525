/**
 * @file webfile.c  URL path -> file under a web root, with the checks that
 * keep every answer inside it.
 */
#include "webfile.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

static const struct { const char *ext, *type; } types[] = {
	{ "html", "text/html; charset=utf-8" },
	{ "js", "text/javascript; charset=utf-8" },
	{ "css", "text/css; charset=utf-8" },
	{ "json", "application/json" },
	{ "svg", "image/svg+xml" },
	{ "png", "image/png" },
	{ "ico", "image/x-icon" },
	{ "txt", "text/plain; charset=utf-8" },
	{ "wav", "audio/wav" },
	{ "ogg", "audio/ogg" },
};

const char *webfile_type(const char *name)
{
	const char *slash = strrchr(name, '/');
	const char *dot = strrchr(slash ? slash : name, '.');

	if (!dot)
		return NULL;
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		if (!strcasecmp(dot + 1, types[i].ext))
			return types[i].type;
	return NULL;
}

/* True when every segment of @p upath is a plain name: no "." or "..",
 * no hidden file, no backslash or control character. */
static bool path_clean(const char *upath)
{
	if (upath[0] != '/')
		return false;
	for (const char *p = upath; *p; p++)
		if (*p == '\\' || (unsigned char)*p < 0x20 || *p == 0x7f)
			return false;
	for (const char *p = upath; (p = strchr(p, '/')); p++)
		if (p[1] == '.')
			return false;
	return true;
}

/* True when @p path is @p dir or lies below it (both real paths). */
static bool path_inside(const char *dir, const char *path)
{
	size_t n = strlen(dir);

	if (n == 1 && dir[0] == '/')
		return true;
	return !strncmp(path, dir, n) && (path[n] == '/' || path[n] == '\0');
}

int webfile_resolve(const char *root, const char *upath, char *out,
		    size_t size, const char **ctypep)
{
	char joined[PATH_MAX], real_root[PATH_MAX], real[PATH_MAX];
	bool want_index;
	struct stat st;
	int n;

	if (!path_clean(upath))
		return EACCES;
	want_index = upath[strlen(upath) - 1] == '/';
	n = snprintf(joined, sizeof joined, "%s%s%s", root, upath,
		     want_index ? "index.html" : "");
	if (n < 0 || (size_t)n >= sizeof joined)
		return ENAMETOOLONG;
	if (!realpath(root, real_root))
		return ENOENT;
	if (!realpath(joined, real))
		return errno == ENAMETOOLONG ? ENAMETOOLONG : ENOENT;
	if (!path_inside(real_root, real))
		return EACCES;
	if (stat(real, &st))
		return ENOENT;
	if (S_ISDIR(st.st_mode))
		return want_index ? ENOENT : EISDIR;
	if (!S_ISREG(st.st_mode) || !(*ctypep = webfile_type(joined)))
		return ENOENT;
	if (strlen(real) >= size)
		return ENAMETOOLONG;
	memcpy(out, real, strlen(real) + 1);
	return 0;
}
