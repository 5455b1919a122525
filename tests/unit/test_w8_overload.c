/**
 * @file test_w8_overload.c  A trunk's inbound overload protection
 * (w8/w8_overload.c), without a network: the count of answered calls
 * awaiting their ACK, the refusals from the limit on until half of it,
 * no limit at 0, and the log lines of an overload (begun, every 10 s,
 * ended) read back from stderr.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <glib.h>

#include "conf/conf.h"
#include "util/log.h"
#include "w8/w8_priv.h"

#define LEGS 6

struct fx {
	struct conf_trunk conf;
	struct w8_trunk t;
	struct w8_leg legs[LEGS];
};

static struct fx *fx_new(int limit)
{
	struct fx *f = calloc(1, sizeof *f);

	if (!f)
		return NULL;
	f->conf.name = "ims";
	f->conf.overload_pending_acks = limit;
	f->t.conf = &f->conf;
	for (int i = 0; i < LEGS; i++) {
		f->legs[i].trunk = &f->t;
		f->legs[i].incoming = true;
	}
	return f;
}

static void wait_acks(struct fx *f, int from, int to, bool waiting)
{
	for (int i = from; i < to; i++)
		w8_overload_ack_wait(&f->legs[i], waiting);
}

static void test_limit_and_half(void **state)
{
	struct fx *f = fx_new(4);

	(void)state;
	assert_non_null(f);
	wait_acks(f, 0, 3, true);
	assert_int_equal(w8_trunk_acks_pending(&f->t), 3);
	assert_false(w8_overload_refuse(&f->t));
	w8_overload_ack_wait(&f->legs[2], true);      /* counted once */
	assert_int_equal(w8_trunk_acks_pending(&f->t), 3);
	w8_overload_ack_wait(&f->legs[3], true);      /* the 4th: the limit */
	assert_true(w8_overload_refuse(&f->t));
	assert_true(w8_overload_refuse(&f->t));
	w8_overload_ack_wait(&f->legs[3], false);     /* 3 > 4 / 2 */
	assert_true(w8_overload_refuse(&f->t));
	w8_overload_ack_wait(&f->legs[5], false);     /* never waited */
	assert_int_equal(w8_trunk_acks_pending(&f->t), 3);
	w8_overload_ack_wait(&f->legs[2], false);     /* 2: half of it */
	assert_false(w8_overload_refuse(&f->t));
	assert_int_equal(w8_trunk_overload_refused(&f->t), 3);
	wait_acks(f, 0, 2, false);
	assert_int_equal(w8_trunk_acks_pending(&f->t), 0);
	free(f);
}

static void test_zero_never_refuses(void **state)
{
	struct fx *f = fx_new(0);

	(void)state;
	assert_non_null(f);
	wait_acks(f, 0, LEGS, true);
	assert_int_equal(w8_trunk_acks_pending(&f->t), LEGS);
	assert_false(w8_overload_refuse(&f->t));
	assert_int_equal(w8_trunk_overload_refused(&f->t), 0);
	free(f);
}

/* Runs a tick with stderr in a file; returns what it wrote (to free). */
static char *tick_output(struct w8_trunk *t)
{
	char path[] = "/tmp/wtpf-overload-XXXXXX";
	int fd = mkstemp(path), saved = dup(2);
	char *text = NULL;

	assert_true(fd >= 0 && saved >= 0);
	fflush(stderr);
	assert_int_equal(dup2(fd, 2), 2);
	w8_overload_tick(t);
	fflush(stderr);
	assert_int_equal(dup2(saved, 2), 2);
	close(saved);
	close(fd);
	assert_true(g_file_get_contents(path, &text, NULL, NULL));
	unlink(path);
	return text;
}

static void assert_tick(struct w8_trunk *t, const char *want)
{
	char *out = tick_output(t);

	if (!want)
		assert_string_equal(out, "");
	else if (!strstr(out, want))
		fail_msg("tick wrote '%s', not '%s'", out, want);
	g_free(out);
}

static void test_log_lines(void **state)
{
	struct fx *f = fx_new(2);

	(void)state;
	assert_non_null(f);
	log_level_set(LOG_INFO);
	assert_tick(&f->t, NULL);                     /* nothing happened */
	wait_acks(f, 0, 2, true);
	assert_true(w8_overload_refuse(&f->t));
	assert_tick(&f->t, "trunk ims: overloaded: answered calls from IMS "
		    "awaiting their ACK reached overload_pending_acks (2; 2 "
		    "now): new INVITEs from IMS get 503; 1 so far");
	assert_true(w8_overload_refuse(&f->t));
	assert_true(w8_overload_refuse(&f->t));
	assert_tick(&f->t, NULL);                     /* within 10 s: quiet */
	f->t.overload_log_at -= 11 * G_USEC_PER_SEC;
	assert_tick(&f->t, "trunk ims: overload: 2 INVITEs from IMS refused "
		    "in the last 10 s; 2 answered calls await their ACK");
	wait_acks(f, 0, 1, false);                    /* 1 of 2: recovered */
	assert_false(w8_overload_refuse(&f->t));
	assert_tick(&f->t, "trunk ims: no longer overloaded: 1 answered calls "
		    "await their ACK; 3 INVITEs from IMS were refused");
	assert_tick(&f->t, NULL);
	wait_acks(f, 1, 2, false);
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_limit_and_half),
		cmocka_unit_test(test_zero_never_refuses),
		cmocka_unit_test(test_log_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
