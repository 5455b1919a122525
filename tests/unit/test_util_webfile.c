/**
 * @file test_util_webfile.c  URL paths to files under a web root: what is
 * served with which type, folders, and every way out of the root refused
 * (dot segments, hidden names, relative paths, symbolic links).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/webfile.h"

static char top[64];    /* the temporary folder: root/ and outside.html */
static char root[96];

static void put(const char *rel, const char *text)
{
	char p[256];
	FILE *f;

	snprintf(p, sizeof p, "%s/%s", top, rel);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int dir(const char *rel)
{
	char p[256];

	snprintf(p, sizeof p, "%s/%s", top, rel);
	return mkdir(p, 0755);
}

static int setup(void **state)
{
	char p[256];

	(void)state;
	snprintf(top, sizeof top, "/tmp/wtpf-webfile-XXXXXX");
	if (!mkdtemp(top))
		return -1;
	snprintf(root, sizeof root, "%s/root", top);
	if (dir("root") || dir("root/phone") || dir("root/phone/sub"))
		return -1;
	put("outside.html", "secret\n");
	put("root/phone/index.html", "<p>page</p>\n");
	put("root/phone/app.js", "'use strict';\n");
	put("root/phone/data.bin", "x");
	put("root/.secret", "x");
	snprintf(p, sizeof p, "%s/phone/link.html", root);
	if (symlink("../../outside.html", p))
		return -1;
	snprintf(p, sizeof p, "%s/phone/alias.js", root);
	return symlink("app.js", p);
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf %s", top);
	return system(cmd);
}

/* Resolves @p upath; returns the error, the file's name (after root/) in
 * @p name and its type in @p type. */
static int resolve(const char *upath, const char **type, char *name, size_t size)
{
	char out[PATH_MAX], real_root[PATH_MAX];
	int err;

	*type = NULL;
	name[0] = '\0';
	err = webfile_resolve(root, upath, out, sizeof out, type);
	if (!err) {
		assert_non_null(realpath(root, real_root));
		assert_true(!strncmp(out, real_root, strlen(real_root)));
		snprintf(name, size, "%s", out + strlen(real_root));
	}
	return err;
}

static void test_served(void **state)
{
	const char *type;
	char name[256];

	(void)state;
	assert_int_equal(resolve("/phone/", &type, name, sizeof name), 0);
	assert_string_equal(name, "/phone/index.html");
	assert_string_equal(type, "text/html; charset=utf-8");
	assert_int_equal(resolve("/phone/app.js", &type, name, sizeof name), 0);
	assert_string_equal(type, "text/javascript; charset=utf-8");
	/* a link that stays inside the root is followed */
	assert_int_equal(resolve("/phone/alias.js", &type, name, sizeof name), 0);
	assert_string_equal(name, "/phone/app.js");
}

static void test_not_served(void **state)
{
	const char *type;
	char name[256], out[8];

	(void)state;
	assert_int_equal(resolve("/phone/nope.html", &type, name, sizeof name), ENOENT);
	assert_int_equal(resolve("/phone/data.bin", &type, name, sizeof name), ENOENT);
	assert_int_equal(resolve("/phone/sub/", &type, name, sizeof name), ENOENT);
	assert_int_equal(resolve("/phone/sub", &type, name, sizeof name), EISDIR);
	assert_int_equal(resolve("/phone", &type, name, sizeof name), EISDIR);
	assert_int_equal(webfile_resolve("/nonexistent/root", "/x.html", name, sizeof name,
					 &type), ENOENT);
	assert_int_equal(webfile_resolve(root, "/phone/app.js", out, sizeof out, &type),
			 ENAMETOOLONG);
}

static void test_refused(void **state)
{
	static const char *const bad[] = {
		"/phone/../../outside.html", "/../outside.html", "/phone/./app.js",
		"/phone/..", "/.secret", "/phone/.hidden", "phone/app.js", "",
		"/phone\\..\\app.js", "/phone/app.js\n", "/phone/link.html",
	};
	const char *type;
	char name[256];

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int err = resolve(bad[i], &type, name, sizeof name);
		if (err != EACCES)
			fail_msg("'%s': %s, not EACCES", bad[i], err ? strerror(err) : name);
	}
}

static void test_types(void **state)
{
	(void)state;
	assert_string_equal(webfile_type("INDEX.HTML"), "text/html; charset=utf-8");
	assert_string_equal(webfile_type("a/b.css"), "text/css; charset=utf-8");
	assert_string_equal(webfile_type("x.svg"), "image/svg+xml");
	assert_null(webfile_type("README"));
	assert_null(webfile_type("dir.d/file"));
	assert_null(webfile_type("x.exe"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_served),
		cmocka_unit_test(test_not_served),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_types),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
