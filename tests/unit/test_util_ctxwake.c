/**
 * @file test_util_ctxwake.c  g_main_context_wakeup() from the context's
 * owner costs nothing and wakes nothing; from another thread it still
 * wakes a loop blocked in poll.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <glib.h>

#include "util/ctxwake.h"

static gboolean on_timeout(gpointer arg)
{
	*(int *)arg += 1;
	return G_SOURCE_REMOVE;
}

/* Milliseconds one blocking iteration of @p ctx takes. */
static gint64 iterate_ms(GMainContext *ctx)
{
	gint64 t0 = g_get_monotonic_time();

	g_main_context_iteration(ctx, TRUE);
	return (g_get_monotonic_time() - t0) / 1000;
}

static void test_in_effect(void **state)
{
	(void)state;
	assert_int_equal(ctxwake_check(), 0);
}

/* GLib's own wake-up makes the next iteration return at once; from the
 * owner this one is skipped, so the iteration waits for its timer. */
static void test_owner_wakeup_skipped(void **state)
{
	GMainContext *ctx = g_main_context_new();
	GSource *t = g_timeout_source_new(150);
	int fired = 0;
	gint64 ms;
	(void)state;

	assert_true(g_main_context_acquire(ctx));
	g_source_set_callback(t, on_timeout, &fired, NULL);
	g_source_attach(t, ctx);
	g_main_context_wakeup(ctx);
	ms = iterate_ms(ctx);
	assert_true(ms >= 100);
	assert_int_equal(fired, 1);
	g_source_unref(t);
	g_main_context_release(ctx);
	g_main_context_unref(ctx);
}

static gpointer wake_later(gpointer arg)
{
	g_usleep(50 * 1000);
	g_main_context_wakeup(arg);
	return NULL;
}

/* A wake-up from another thread still ends a blocking poll: the
 * iteration returns long before its 5 s timer. */
static void test_other_thread_wakes(void **state)
{
	GMainContext *ctx = g_main_context_new();
	GSource *t = g_timeout_source_new(5000);
	GThread *th;
	int fired = 0;
	gint64 ms;
	(void)state;

	assert_true(g_main_context_acquire(ctx));
	g_source_set_callback(t, on_timeout, &fired, NULL);
	g_source_attach(t, ctx);
	th = g_thread_new("waker", wake_later, ctx);
	ms = iterate_ms(ctx);
	g_thread_join(th);
	assert_true(ms < 2000);
	assert_int_equal(fired, 0);
	g_source_destroy(t);
	g_source_unref(t);
	g_main_context_release(ctx);
	g_main_context_unref(ctx);
}

/* Not owned by anyone (no loop runs it): the wake-up is GLib's, and
 * the next iteration returns at once. */
static void test_unowned_wakes(void **state)
{
	GMainContext *ctx = g_main_context_new();
	GSource *t = g_timeout_source_new(5000);
	int fired = 0;
	gint64 ms;
	(void)state;

	g_source_set_callback(t, on_timeout, &fired, NULL);
	g_source_attach(t, ctx);
	g_main_context_wakeup(ctx);
	ms = iterate_ms(ctx);
	assert_true(ms < 2000);
	assert_int_equal(fired, 0);
	g_source_destroy(t);
	g_source_unref(t);
	g_main_context_unref(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_effect),
		cmocka_unit_test(test_owner_wakeup_skipped),
		cmocka_unit_test(test_other_thread_wakes),
		cmocka_unit_test(test_unowned_wakes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
