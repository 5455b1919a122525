/**
 * @file test_w8_pcscf.c  A trunk's P-CSCF list (w8/w8_pcscf.c), without a
 * network: the P-CSCF a failure names is the one marked down, whichever
 * serves; in static mode the serving one is the first that is up, and
 * requests and the Contact's transport follow it; in registration mode a
 * failure of another P-CSCF than the one registered through moves nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sofia-sip/su_alloc.h>

#include "conf/conf.h"
#include "w8/w8_priv.h"

static char *pcscfs[] = {
	"sip:192.0.2.1:5060",                  /* udp */
	"sip:192.0.2.2:5060;transport=tcp",
	"sips:192.0.2.3:5061",                 /* tls */
	NULL,
};

struct fx {
	struct conf_trunk conf;
	struct w8_trunk t;
};

static int setup(void **state, enum conf_trunk_mode mode)
{
	struct fx *f = calloc(1, sizeof *f);

	if (!f)
		return -1;
	f->conf.name = "ims";
	f->conf.mode_id = mode;
	f->conf.pcscf = pcscfs;
	f->t.conf = &f->conf;
	su_home_init(f->t.home);
	snprintf(f->t.local_host, sizeof f->t.local_host, "198.51.100.7:5090");
	if (w8_pcscf_load(&f->t))
		return -1;
	*state = f;
	return 0;
}

static int setup_static(void **state)
{
	return setup(state, CONF_TRUNK_STATIC);
}

static int setup_registration(void **state)
{
	return setup(state, CONF_TRUNK_REGISTRATION);
}

static int teardown(void **state)
{
	struct fx *f = *state;

	su_home_deinit(f->t.home);
	free(f);
	return 0;
}

static void assert_up(const struct w8_trunk *t, bool a, bool b, bool c)
{
	assert_int_equal(t->pcscf[0].up, a);
	assert_int_equal(t->pcscf[1].up, b);
	assert_int_equal(t->pcscf[2].up, c);
}

/* Contact through the serving P-CSCF, freed at once; compared to @p want. */
static void assert_contact(const struct w8_trunk *t, const char *user,
			   const char *want)
{
	su_home_t home[1] = { SU_HOME_INIT(home) };

	assert_string_equal(w8_contact(home, t, user), want);
	su_home_deinit(home);
}

/* 1. The loaded list: each with its Route and all up until shown down. */
static void test_load(void **state)
{
	struct fx *f = *state;

	assert_int_equal(f->t.pcscf_count, 3);
	assert_string_equal(f->t.pcscf[1].route, "<sip:192.0.2.2:5060;transport=tcp;lr>");
	assert_up(&f->t, true, true, true);
	assert_ptr_equal(w8_pcscf_serving(&f->t), &f->t.pcscf[0]);
	assert_string_equal(w8_pcscf_transport(&f->t.pcscf[2]), "tls");
}

/* 2. Static mode: a failure through the second P-CSCF marks the second,
 * not the first, and the third then serves. */
static void test_static_down_marks_the_one_named(void **state)
{
	struct fx *f = *state;

	w8_pcscf_down(&f->t, 1, "INVITE timed out");
	assert_up(&f->t, true, false, true);
	assert_ptr_equal(w8_pcscf_serving(&f->t), &f->t.pcscf[0]);
	assert_non_null(strstr(f->t.last_error, "192.0.2.2"));
	w8_pcscf_down(&f->t, 0, "INVITE got 503");
	assert_up(&f->t, false, false, true);
	assert_ptr_equal(w8_pcscf_serving(&f->t), &f->t.pcscf[2]);
	w8_pcscf_ok(&f->t, 1);
	assert_ptr_equal(w8_pcscf_serving(&f->t), &f->t.pcscf[1]);
	w8_pcscf_down(&f->t, 7, "out of the list: nothing happens");
	assert_up(&f->t, false, true, true);
}

/* 3. Static mode, a failure that does not name its P-CSCF: the one that
 * serves now (the first one up) is marked, not the list's first. */
static void test_static_failed_marks_the_serving_one(void **state)
{
	struct fx *f = *state;

	w8_pcscf_down(&f->t, 0, "OPTIONS 408");
	assert_ptr_equal(w8_pcscf_serving(&f->t), &f->t.pcscf[1]);
	w8_pcscf_failed(&f->t, "INVITE timed out");
	assert_up(&f->t, false, false, true);
	assert_non_null(strstr(f->t.last_error, "192.0.2.2"));
	w8_pcscf_failed(&f->t, "INVITE got 503");
	assert_up(&f->t, false, false, false);
	assert_null(w8_pcscf_serving(&f->t));
	w8_pcscf_failed(&f->t, "INVITE got 503");
	assert_non_null(strstr(f->t.last_error, "no P-CSCF is up"));
}

/* 4. The Contact's transport is the serving P-CSCF's, or the one named. */
static void test_static_contact_follows_serving(void **state)
{
	struct fx *f = *state;
	su_home_t home[1] = { SU_HOME_INIT(home) };

	assert_contact(&f->t, "+4930123400001",
		       "<sip:+4930123400001@198.51.100.7:5090;transport=udp>");
	w8_pcscf_down(&f->t, 0, "OPTIONS 503");
	assert_contact(&f->t, NULL, "<sip:198.51.100.7:5090;transport=tcp>");
	w8_pcscf_down(&f->t, 1, "OPTIONS 503");
	assert_contact(&f->t, "", "<sip:198.51.100.7:5090;transport=tls>");
	w8_pcscf_down(&f->t, 2, "OPTIONS 503");
	/* none up: the list's first, as before any probe */
	assert_contact(&f->t, NULL, "<sip:198.51.100.7:5090;transport=udp>");
	assert_string_equal(w8_contact_via(home, &f->t, &f->t.pcscf[1], "u"),
			    "<sip:u@198.51.100.7:5090;transport=tcp>");
	su_home_deinit(home);
}

/* 5. Registration mode: a P-CSCF other than the one registered through
 * fails: it is marked down, and the trunk stays where it is. */
static void test_registration_other_one_fails(void **state)
{
	struct fx *f = *state;

	f->t.serving = 1;
	w8_pcscf_down(&f->t, 2, "INVITE timed out");
	assert_up(&f->t, true, true, false);
	assert_int_equal(f->t.serving, 1);
	assert_null(w8_pcscf_serving(&f->t));       /* not registered yet */
	f->t.reg.registered = true;
	assert_ptr_equal(w8_pcscf_serving(&f->t), &f->t.pcscf[1]);
	assert_contact(&f->t, NULL, "<sip:198.51.100.7:5090;transport=tcp>");
	/* shutting down: nothing is marked any more */
	f->t.stopping = 1;
	w8_pcscf_down(&f->t, 0, "INVITE timed out");
	assert_up(&f->t, true, true, false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_load, setup_static, teardown),
		cmocka_unit_test_setup_teardown(test_static_down_marks_the_one_named,
						setup_static, teardown),
		cmocka_unit_test_setup_teardown(test_static_failed_marks_the_serving_one,
						setup_static, teardown),
		cmocka_unit_test_setup_teardown(test_static_contact_follows_serving,
						setup_static, teardown),
		cmocka_unit_test_setup_teardown(test_registration_other_one_fails,
						setup_registration, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
