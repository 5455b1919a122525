/**
 * @file webfile.h  Static web files: which file under a web root a URL path
 * names, safely, and the content type it is served with. Shared by the
 * listeners that serve the gateway's pages (gateway/wic/wic_http.c,
 * gateway/admin/console.c); no I/O beyond stat() and realpath().
 */
#ifndef WTPF_WEBFILE_H
#define WTPF_WEBFILE_H

#include <stddef.h>

/**
 * Finds the regular file that the (already percent-decoded) URL path
 * @p upath names under the folder @p root: "/a/b.js" is ROOT/a/b.js, and a
 * path ending in '/' names that folder's index.html. Refused, whatever is
 * on disk: a path not starting with '/', segments "." and "..", names
 * starting with '.', backslashes and control characters, and any file
 * whose real path (symbolic links followed) is not inside @p root. Only
 * the types webfile_type() knows are served; there is no listing.
 *
 * On success writes the file's real path to @p out (@p size bytes) and its
 * content type (static) to @p *ctypep, and returns 0. Errors: EACCES (a
 * path refused as above), ENOENT (no such file, or a type not served),
 * EISDIR (a folder named without its final '/': the caller may redirect),
 * ENAMETOOLONG. Costs two realpath() calls.
 */
int webfile_resolve(const char *root, const char *upath, char *out,
		    size_t size, const char **ctypep);

/** The content type served for file @p name, by its extension (case
 *  ignored), or NULL when such files are not served. */
const char *webfile_type(const char *name);

#endif
