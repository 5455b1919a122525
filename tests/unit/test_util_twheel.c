/**
 * @file test_util_twheel.c  The timing wheel: entries expire at their tick,
 * not before; far deadlines wait for their turn; removal, moving, re-adding
 * from the callback, and a long pause between ticks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "util/twheel.h"

struct item {
	struct twheel_entry e;
	int fired;
	int64_t fired_at;
	int64_t again;          /* > 0: re-add this many ticks later */
};

static int64_t g_now;

static void on_due(struct twheel_entry *e, void *arg)
{
	struct item *it = (struct item *)e;
	struct twheel *w = arg;

	it->fired++;
	it->fired_at = g_now;
	if (it->again)
		twheel_add(w, &it->e, g_now + it->again);
}

static void run_to(struct twheel *w, int64_t from, int64_t to)
{
	for (g_now = from; g_now <= to; g_now++)
		twheel_tick(w, g_now, on_due, w);
}

static void test_expires_at_its_tick(void **state)
{
	struct twheel w;
	struct item a = { 0 }, b = { 0 };

	(void)state;
	twheel_init(&w, 100);
	twheel_add(&w, &a.e, 105);
	twheel_add(&w, &b.e, 100 + TWHEEL_SLOTS * 3 + 7);   /* three turns on */
	assert_int_equal(w.count, 2);
	run_to(&w, 100, 104);
	assert_int_equal(a.fired, 0);
	run_to(&w, 105, 105);
	assert_int_equal(a.fired, 1);
	assert_int_equal(a.fired_at, 105);
	run_to(&w, 106, 100 + TWHEEL_SLOTS * 3 + 6);
	assert_int_equal(b.fired, 0);
	run_to(&w, 100 + TWHEEL_SLOTS * 3 + 7, 100 + TWHEEL_SLOTS * 3 + 7);
	assert_int_equal(b.fired, 1);
	assert_int_equal(w.count, 0);
}

static void test_remove_and_move(void **state)
{
	struct twheel w;
	struct item a = { 0 }, b = { 0 };

	(void)state;
	twheel_init(&w, 0);
	twheel_add(&w, &a.e, 3);
	twheel_add(&w, &b.e, 3);
	twheel_remove(&w, &a.e);
	twheel_remove(&w, &a.e);                 /* twice: harmless */
	twheel_add(&w, &b.e, 9);                 /* moved */
	assert_int_equal(w.count, 1);
	run_to(&w, 0, 8);
	assert_int_equal(a.fired, 0);
	assert_int_equal(b.fired, 0);
	run_to(&w, 9, 9);
	assert_int_equal(b.fired, 1);
}

static void test_readd_from_callback(void **state)
{
	struct twheel w;
	struct item a = { .again = 10 };

	(void)state;
	twheel_init(&w, 0);
	twheel_add(&w, &a.e, 10);
	run_to(&w, 0, 55);
	assert_int_equal(a.fired, 5);            /* 10, 20, 30, 40, 50 */
	assert_int_equal(a.fired_at, 50);
	assert_int_equal(w.count, 1);
}

static void test_past_deadline_and_long_pause(void **state)
{
	struct twheel w;
	struct item a = { 0 }, b = { 0 };

	(void)state;
	twheel_init(&w, 1000);
	twheel_add(&w, &a.e, 10);                /* already due */
	twheel_add(&w, &b.e, 1200);
	g_now = 1000;
	twheel_tick(&w, 1000, on_due, &w);
	assert_int_equal(a.fired, 1);
	g_now = 1000 + TWHEEL_SLOTS * 10;        /* the loop slept long */
	twheel_tick(&w, g_now, on_due, &w);
	assert_int_equal(b.fired, 1);
	assert_int_equal(w.count, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expires_at_its_tick),
		cmocka_unit_test(test_remove_and_move),
		cmocka_unit_test(test_readd_from_callback),
		cmocka_unit_test(test_past_deadline_and_long_pause),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
