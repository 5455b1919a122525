/**
 * @file test_util_fdlimit.c  The descriptor limit is set to the need, up
 * or down, and never past the hard limit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <cmocka.h>

#include "util/fdlimit.h"

static struct rlimit start;

static int save(void **state)
{
	(void)state;
	return getrlimit(RLIMIT_NOFILE, &start);
}

/* Best effort: without privilege the lowered hard limit stays, and the
 * process ends here anyway. */
static int restore(void **state)
{
	(void)state;
	(void)setrlimit(RLIMIT_NOFILE, &start);
	return 0;
}

static rlim_t hard(void)
{
	struct rlimit rl;

	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	return rl.rlim_max;
}

static void test_fit_down_and_up(void **state)
{
	unsigned long got;

	(void)state;
	assert_true(hard() >= 300);
	assert_int_equal(fdlimit_fit(200, &got), 0);
	assert_int_equal(got, 200);
	assert_int_equal(fdlimit_get(), 200);
	assert_int_equal(fdlimit_fit(300, &got), 0);
	assert_int_equal(got, 300);
	assert_int_equal(fdlimit_get(), 300);
	assert_int_equal(hard(), start.rlim_max);   /* the hard one untouched */
}

static void test_fit_stops_at_the_hard_limit(void **state)
{
	struct rlimit rl = { .rlim_cur = 150, .rlim_max = 250 };
	unsigned long got;

	(void)state;
	/* lowering the hard limit is allowed to anyone, raising it back is
	 * not: this test runs last */
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
	assert_int_equal(fdlimit_fit(100000, &got), 0);
	assert_int_equal(got, 250);
	assert_int_equal(fdlimit_get(), 250);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fit_down_and_up),
		cmocka_unit_test(test_fit_stops_at_the_hard_limit),
	};

	return cmocka_run_group_tests(tests, save, restore);
}
