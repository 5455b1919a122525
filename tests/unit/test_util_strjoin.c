/**
 * @file test_util_strjoin.c  Strings joined without a format: what fits,
 * what is cut and how that is told; numbers in decimal at both ends.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "util/strjoin.h"

static void test_join_fits(void **state)
{
	char buf[32];

	(void)state;
	assert_int_equal(str_join(buf, sizeof buf, "sip:", "alice", "@",
				  "x.invalid", NULL), 19);
	assert_string_equal(buf, "sip:alice@x.invalid");
	assert_int_equal(str_join(buf, sizeof buf, "", "", NULL), 0);
	assert_string_equal(buf, "");
	assert_int_equal(str_join(buf, sizeof buf, NULL), 0);
	assert_string_equal(buf, "");
}

/* size - 1 characters fit; one more is cut, and the return says so. */
static void test_join_cut(void **state)
{
	char buf[16];

	(void)state;
	memset(buf, 'z', sizeof buf);
	assert_int_equal(str_join(buf, sizeof buf, "0123456", "789abcde", NULL),
			 15);
	assert_string_equal(buf, "0123456789abcde");
	assert_int_equal(str_join(buf, sizeof buf, "0123456", "789abcdef",
				  NULL), sizeof buf);
	assert_string_equal(buf, "0123456789abcde");
	assert_int_equal(str_join(buf, sizeof buf, "sip:", "alice", "@",
				  "x.invalid", NULL), sizeof buf);
	assert_string_equal(buf, "sip:alice@x.inv");
	assert_int_equal(str_join(buf, 1, "a", NULL), 1);
	assert_string_equal(buf, "");
}

static void test_ulong(void **state)
{
	static const unsigned long vals[] = { 0, 7, 10, 42, 99, 100, 65535,
					      1000000007UL, ULONG_MAX };
	char buf[STR_ULONG_MAX], ref[STR_ULONG_MAX + 8];

	(void)state;
	for (size_t i = 0; i < sizeof vals / sizeof *vals; i++) {
		int n = snprintf(ref, sizeof ref, "%lu", vals[i]);

		assert_int_equal(str_ulong(buf, vals[i]), (size_t)n);
		assert_string_equal(buf, ref);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_join_fits),
		cmocka_unit_test(test_join_cut),
		cmocka_unit_test(test_ulong),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
