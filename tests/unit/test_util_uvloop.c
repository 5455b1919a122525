/**
 * @file test_util_uvloop.c  A libuv loop inside a GLib context: its timers
 * run from GLib's iterations, and the dispatch hooks wrap each one (what
 * the gateway's group commit of store writes rests on).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "util/uvloop.h"

/* The order things happened in, one letter each: b(efore), c(allback),
 * a(fter). */
struct trace {
	char seen[64];
	size_t n;
};

static void mark(struct trace *t, char c)
{
	if (t->n + 1 < sizeof t->seen)
		t->seen[t->n++] = c;
}

static void on_before(void *arg) { mark(arg, 'b'); }
static void on_after(void *arg) { mark(arg, 'a'); }

static void on_timer(uv_timer_t *tm)
{
	mark(tm->data, 'c');
}

/* Iterates @p ctx until @p t has seen @p want, at most about a second. */
static void run_until(GMainContext *ctx, const struct trace *t, char want)
{
	for (int i = 0; i < 1000 && !memchr(t->seen, want, t->n); i++)
		g_main_context_iteration(ctx, TRUE);
}

static void test_hooks_wrap_dispatch(void **state)
{
	GMainContext *ctx = g_main_context_new();
	struct uvloop *ul = NULL;
	struct trace t = { .n = 0 };
	uv_timer_t tm;
	(void)state;

	assert_int_equal(uvloop_create(&ul, ctx), 0);
	uvloop_on_dispatch(ul, on_before, on_after, &t);
	uv_timer_init(uvloop_loop(ul), &tm);
	tm.data = &t;
	uv_timer_start(&tm, on_timer, 5, 0);
	run_until(ctx, &t, 'c');
	/* the callback ran inside one hooked dispatch, never outside one */
	assert_non_null(memchr(t.seen, 'c', t.n));
	assert_int_equal(t.seen[0], 'b');
	assert_int_equal(t.seen[t.n - 1], 'a');
	for (size_t i = 0, hooks = 0; i < t.n; i++) {
		if (t.seen[i] == 'c') {
			assert_true(i > 0 && t.seen[i - 1] == 'b' &&
				    i + 1 < t.n && t.seen[i + 1] == 'a');
			continue;
		}
		/* b and a alternate: every dispatch is closed */
		assert_int_equal(t.seen[i], hooks++ % 2 ? 'a' : 'b');
	}

	/* without hooks: the timer still runs, nothing else is called */
	uvloop_on_dispatch(ul, NULL, NULL, NULL);
	t.n = 0;
	memset(t.seen, 0, sizeof t.seen);
	uv_timer_start(&tm, on_timer, 5, 0);
	run_until(ctx, &t, 'c');
	assert_int_equal(t.n, 1);
	assert_int_equal(t.seen[0], 'c');

	uv_close((uv_handle_t *)&tm, NULL);
	uvloop_destroy(ul, 100);
	g_main_context_unref(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hooks_wrap_dispatch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
