/*
 * Number rewriting rules (util/rewrite.h): dial-plan style rewrites with
 * capture groups, patterns that only match (barring), and the refusals a
 * configuration gets for a bad pattern or replacement.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "util/rewrite.h"

static struct rewrite *make(const char *match, const char *replace)
{
	struct rewrite *r = NULL;
	const char *why = NULL;

	assert_int_equal(rewrite_compile(&r, match, replace, &why), 0);
	assert_non_null(r);
	return r;
}

static void expect(const char *match, const char *replace, const char *in,
		   const char *want)
{
	struct rewrite *r = make(match, replace);
	char out[64];

	if (want) {
		assert_int_equal(rewrite_apply(r, in, out, sizeof out), 1);
		assert_string_equal(out, want);
	} else {
		assert_int_equal(rewrite_apply(r, in, out, sizeof out), 0);
	}
	rewrite_free(r);
}

static void test_dial_plan(void **state)
{
	(void)state;
	/* national -> E.164 */
	expect("^0([1-9][0-9]+)$", "+49$1", "03012345678", "+493012345678");
	/* the PBX outside-line access code stripped */
	expect("^9(0[0-9]+)$", "$1", "903012345", "03012345");
	/* a short code to a full number, as a tel: URI */
	expect("^100$", "tel:+4930123400100", "100", "tel:+4930123400100");
	/* sip: ...;user=phone with the whole match */
	expect("^\\+[0-9]+$", "sip:$0@ims.test;user=phone", "+4940555000001",
	       "sip:+4940555000001@ims.test;user=phone");
	/* $$ is a dollar; text around an unanchored match is kept */
	expect("9", "$$", "190", "1$0");
	/* no match */
	expect("^0([1-9][0-9]+)$", "+49$1", "+4930123", NULL);
	/* a group that did not take part is empty */
	expect("^(1)?2$", "x$1y", "2", "xy");
}

static void test_match_only(void **state)
{
	struct rewrite *r = make("^(\\+49|0)?900", NULL);
	char out[16];

	(void)state;
	assert_true(rewrite_matches(r, "0900123456"));
	assert_true(rewrite_matches(r, "+49900123"));
	assert_true(rewrite_matches(r, "900"));
	assert_false(rewrite_matches(r, "030900"));
	assert_false(rewrite_matches(r, NULL));
	/* a pattern with no replacement rewrites nothing */
	assert_int_equal(rewrite_apply(r, "0900", out, sizeof out), 0);
	rewrite_free(r);
}

static void test_too_small(void **state)
{
	struct rewrite *r = make("^(.*)$", "+49$1");
	char out[6];

	(void)state;
	assert_int_equal(rewrite_apply(r, "301234", out, sizeof out), ENOSPC);
	assert_int_equal(rewrite_apply(r, "30", out, sizeof out), 1);
	assert_string_equal(out, "+4930");
	rewrite_free(r);
}

static void expect_bad(const char *match, const char *replace, const char *why)
{
	struct rewrite *r = NULL;
	const char *got = NULL;

	assert_int_equal(rewrite_compile(&r, match, replace, &got), EINVAL);
	assert_null(r);
	assert_string_equal(got, why);
}

static void test_refused(void **state)
{
	(void)state;
	expect_bad("^0([1-9]+$", "+49$1", "not a valid regular expression");
	expect_bad("^0([1-9]+)$", "+49$2",
		   "the replacement names a group the pattern does not have");
	expect_bad("^0$", "+49$x", "'$' must be followed by a digit or '$'");
	expect_bad("^0$", "+49$", "'$' must be followed by a digit or '$'");
	rewrite_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dial_plan),
		cmocka_unit_test(test_match_only),
		cmocka_unit_test(test_too_small),
		cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
