/**
 * @file test_util_numrange.c  Number sets: explicit numbers, intervals and
 * TS 24.525 wildcarded identities; refusals with a reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>

#include "util/numrange.h"

static struct numrange *make(const char *const *specs)
{
	struct numrange *r = NULL;
	const char *why = NULL;
	size_t bad = 99;

	assert_int_equal(numrange_parse(&r, specs, &why, &bad), 0);
	return r;
}

static void test_explicit_and_interval(void **state)
{
	const char *const specs[] = { "+4940555000100", "+4930123400000-+4930123409999",
				      "tel:+44-20-7946-0000", NULL };
	struct numrange *r = make(specs);

	(void)state;
	assert_int_equal(numrange_count(r), 3);
	assert_true(numrange_contains(r, "+4940555000100"));
	assert_true(numrange_contains(r, "tel:+4940555000100"));
	assert_false(numrange_contains(r, "+4940555000101"));
	assert_true(numrange_contains(r, "+4930123400000"));
	assert_true(numrange_contains(r, "+4930123405555"));
	assert_true(numrange_contains(r, "+4930123409999"));
	assert_false(numrange_contains(r, "+4930123410000"));
	assert_false(numrange_contains(r, "+493012340999"));     /* shorter */
	assert_true(numrange_contains(r, "+442079460000"));      /* separators */
	assert_true(numrange_contains(r, "tel:+44.20.7946.0000"));
	assert_false(numrange_contains(r, "sip:junk"));
	assert_false(numrange_contains(r, ""));
	assert_false(numrange_contains(NULL, "+4940555000100"));
	numrange_free(r);
}

static void test_wildcard(void **state)
{
	const char *const specs[] = { "tel:+3314529!.*!", "+4989!1[0-9]{3}!", NULL };
	struct numrange *r = make(specs);

	(void)state;
	assert_true(numrange_contains(r, "+33145291234"));
	assert_true(numrange_contains(r, "+3314529"));
	assert_false(numrange_contains(r, "+3314528000"));
	assert_true(numrange_contains(r, "+49891234"));
	assert_false(numrange_contains(r, "+49892234"));
	assert_false(numrange_contains(r, "+498912345"));
	numrange_free(r);
}

static void expect_bad(const char *spec, const char *why_want)
{
	const char *const specs[] = { "+491", spec, NULL };
	struct numrange *r = NULL;
	const char *why = NULL;
	size_t bad = 99;

	assert_int_equal(numrange_parse(&r, specs, &why, &bad), EINVAL);
	assert_null(r);
	assert_int_equal(bad, 1);
	assert_string_equal(why, why_want);
}

static void test_refused(void **state)
{
	(void)state;
	expect_bad("sip:alice@example.com", "not a number, interval or !wildcard!");
	expect_bad("+4930123409999-+4930123400000",
		   "interval ends must have one length, low first");
	expect_bad("+4930-+493012", "interval ends must have one length, low first");
	expect_bad("+49!(!", "bad regular expression in wildcard");
	expect_bad("+49!.*", "wildcard needs one !regex! at the end");
	expect_bad("+49!.*!0", "wildcard needs one !regex! at the end");
	expect_bad("abc!.*!", "wildcard prefix is not a number");
	expect_bad("+123456789012345678901234567890123", "not a number, interval or !wildcard!");
	expect_bad("+10000000000000000000-+99999999999999999999",
		   "interval too wide (more than 18 varying digits) or not digits");
}

/* Enumeration: explicit numbers, then intervals low to high, no wildcards. */
static void test_enumerate(void **state)
{
	const char *specs[] = { "+4930123400005", "+4930123409998-+4930123410001",
				"tel:+3314529!.*!", "0301234-0301236", NULL };
	struct numrange *r = make(specs);
	char out[NUMRANGE_NUM_MAX];

	(void)state;
	assert_int_equal(numrange_size(r), 1 + 4 + 0 + 3);
	assert_int_equal(numrange_nth(r, 0, out), 0);
	assert_string_equal(out, "+4930123400005");
	assert_int_equal(numrange_nth(r, 1, out), 0);
	assert_string_equal(out, "+4930123409998");
	/* carries across the varying digits */
	assert_int_equal(numrange_nth(r, 3, out), 0);
	assert_string_equal(out, "+4930123410000");
	assert_int_equal(numrange_nth(r, 4, out), 0);
	assert_string_equal(out, "+4930123410001");
	assert_int_equal(numrange_nth(r, 5, out), 0);
	assert_string_equal(out, "0301234");
	assert_int_equal(numrange_nth(r, 7, out), 0);
	assert_string_equal(out, "0301236");
	assert_int_equal(numrange_nth(r, 8, out), ERANGE);
	for (unsigned long long i = 0; i < numrange_size(r); i++) {
		assert_int_equal(numrange_nth(r, i, out), 0);
		assert_true(numrange_contains(r, out));
	}
	assert_true(numrange_norm("tel:+49 (30) 1234-5", out));
	assert_string_equal(out, "+493012345");
	assert_false(numrange_norm("alice", out));
	numrange_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_explicit_and_interval),
		cmocka_unit_test(test_wildcard),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_enumerate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
