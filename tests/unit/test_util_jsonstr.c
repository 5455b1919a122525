/**
 * @file test_util_jsonstr.c  JSON strings printed by hand: the same text
 * as jansson prints for the same string, and text that jansson reads back
 * as that string, for quotes, backslashes, every control character, a
 * slash and UTF-8.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <jansson.h>
#include <string.h>

#include "util/jsonstr.h"

/* Compares jsonstr_append() with jansson on @p s, both ways. */
static void same_as_jansson(const char *s)
{
	GString *out = g_string_new("");
	json_t *j = json_string(s), *back;
	char *ref;

	assert_non_null(j);
	ref = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
	jsonstr_append(out, s);
	assert_string_equal(out->str, ref);
	back = json_loads(out->str, JSON_DECODE_ANY, NULL);
	assert_non_null(back);
	assert_string_equal(json_string_value(back), s);
	json_decref(back);
	free(ref);
	json_decref(j);
	g_string_free(out, TRUE);
}

static void test_plain(void **state)
{
	GString *out = g_string_new("x");

	(void)state;
	jsonstr_append(out, "a84b4c76e66710@pc33.example.com");
	assert_string_equal(out->str, "x\"a84b4c76e66710@pc33.example.com\"");
	g_string_truncate(out, 0);
	jsonstr_append(out, "");
	assert_string_equal(out->str, "\"\"");
	g_string_free(out, TRUE);
	same_as_jansson("a84b4c76e66710@pc33.example.com");
	same_as_jansson("");
}

static void test_escapes(void **state)
{
	GString *out = g_string_new("");

	(void)state;
	jsonstr_append(out, "say \"hi\" \\ bye");
	assert_string_equal(out->str, "\"say \\\"hi\\\" \\\\ bye\"");
	g_string_free(out, TRUE);
	same_as_jansson("say \"hi\" \\ bye");
	same_as_jansson("a/b");
	same_as_jansson("\"");
	same_as_jansson("\\\\");
}

static void test_controls(void **state)
{
	char s[2] = { 0, 0 };

	(void)state;
	for (int c = 1; c < 0x20; c++) {
		s[0] = (char)c;
		same_as_jansson(s);
	}
	same_as_jansson("tab\there\r\nand \x7f");
}

static void test_utf8(void **state)
{
	(void)state;
	same_as_jansson("M\xc3\xbcller \xe2\x82\xac \xf0\x9f\x93\x9e");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_controls),
		cmocka_unit_test(test_utf8),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
