/**
 * @file test_svc_rules.c  The third party's services (gateway/svc/) as the
 * call core sees them: through the hook table of svc_hooks().
 *
 *  - out_route (a browser places a call; the target is preset to what it
 *    dialled and the status to 0, as call_out.c's out_route() does): dial
 *    plan (national -> E.164, international 00 -> +, short codes -> tel: or
 *    sip:...;user=phone URIs, the first matching rule wins, no rule leaves
 *    the number), emergency numbers passed untouched even where a dial-plan
 *    rule and a barring pattern would match them, barring as dialled and
 *    as rewritten (also when the rule makes a URI), rules kept per tenant,
 *    an unknown tenant left alone;
 *  - in_caller (the calling number an inbound call shows the browser):
 *    rewritten by the first matching caller_display rule, else left;
 *  - svc_reload(): the new configuration's rules replace the old ones; a
 *    configuration whose rules do not compile changes nothing.
 *
 * Each test writes its configuration into a temporary folder and loads it
 * with conf_load(), as the daemon does; the services borrow it until the
 * fixture frees everything. Run under valgrind it must stay clean:
 *   valgrind --leak-check=full --error-exitcode=1 ./test_svc_rules
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"
#include "conf_fixture.h"
#include "gateway/call/call.h"
#include "gateway/svc/svc.h"

struct fixture {
	struct conf_fixture cf;          /**< freed last: the services borrow them */
	struct svc *svc;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	if (!f)
		return -1;
	if (conf_fixture_init(&f->cf, "svc")) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	svc_destroy(f->svc);
	conf_fixture_fini(&f->cf);
	free(f);
	return 0;
}

/* ---- configurations ------------------------------------------------------ */

/**
 * Loads a configuration with one trunk and the tenants "acme" (domain
 * acme.test) with the services group @p acme and "beta" with @p beta (the
 * inside of `services = { ... }`, libconfig text; NULL: no services).
 */
static struct conf *conf_services(struct fixture *f, const char *acme,
				  const char *beta)
{
	char text[8192];
	int n;

	n = snprintf(text, sizeof text,
		"trunks = ( { name = \"ims\"; mode = \"static\";"
		" bind = \"sip:127.0.0.1:5090\"; domain = \"ims.test\";"
		" pcscf = [ \"sip:127.0.0.1:5070\" ]; } );\n"
		"tenants = (\n"
		"  { name = \"acme\"; domain = \"acme.test\"; origins = [ \"http://x\" ];"
		" allow_digest = true; trunk = \"ims\";\n"
		"    services = {\n%s\n    };\n  }",
		acme ? acme : "");
	if (beta)
		n += snprintf(text + n, sizeof text - (size_t)n,
			",\n  { name = \"beta\"; domain = \"beta.test\"; origins = [ \"http://y\" ];"
			" allow_digest = true; trunk = \"ims\";\n"
			"    services = {\n%s\n    };\n  }", beta);
	snprintf(text + n, sizeof text - (size_t)n, "\n);\n");
	return conf_fixture_load(&f->cf, text);
}

/** Loads @p acme's services and creates the services on them. */
static void start(struct fixture *f, const char *acme, const char *beta)
{
	assert_int_equal(svc_create(&f->svc, conf_services(f, acme, beta), NULL), 0);
	assert_non_null(f->svc);
}

/* The services of most tests: the example configuration's (conf/wtpf.conf)
 * and a few more rules. In C and then libconfig, "\\\\+" is the ERE \+. */
#define DIAL_PLAN \
	"dial_plan = (\n" \
	"  { match = \"^100$\"; replace = \"tel:+4930123400100\"; },\n" \
	"  { match = \"^200$\"; replace = \"sip:+4930123400200@ims.test;user=phone\"; },\n" \
	"  { match = \"^0([1-9][0-9]+)$\"; replace = \"+49$1\"; },\n" \
	"  { match = \"^00([1-9][0-9]+)$\"; replace = \"+$1\"; },\n" \
	"  { match = \"^8([0-9]+)$\"; replace = \"tel:+49$1\"; },\n" \
	"  { match = \"^7([0-9]+)$\"; replace = \"sip:+49$1@ims.test;user=phone\"; },\n" \
	"  { match = \"^(1[0-9]+)$\"; replace = \"+49301234$1\"; },\n" \
	"  { match = \"^0(.*)$\"; replace = \"never-$1\"; }\n" \
	");\n"
#define SERVICES \
	"emergency = [ \"112\", \"110\" ];\n" \
	"barred = [ \"^(\\\\+49|0)?900\", \"^11\" ];\n" \
	DIAL_PLAN \
	"caller_display = (\n" \
	"  { match = \"^\\\\+4930123([0-9]+)$\"; replace = \"$1\"; },\n" \
	"  { match = \"^\\\\+49([1-9][0-9]+)$\"; replace = \"0$1\"; }\n" \
	");\n"

/* ---- calling the hooks as the call core does ---------------------------- */

/** out_route for a browser of @p tenant dialling @p dialled, with the route
 * preset as call_out.c presets it. */
static struct call_out_route route(struct fixture *f, const char *tenant,
				   const char *dialled)
{
	const struct call_hooks *h = svc_hooks();
	struct call_out_route r;

	assert_non_null(h);
	assert_non_null(h->out_route);
	memset(&r, 0, sizeof r);
	snprintf(r.target, sizeof r.target, "%s", dialled);
	h->out_route(f->svc, tenant, dialled, &r);
	return r;
}

/** The call goes ahead toward @p target (not an emergency number). */
static void expect_target(struct fixture *f, const char *tenant,
			  const char *dialled, const char *target)
{
	struct call_out_route r = route(f, tenant, dialled);

	if (r.status)
		fail_msg("%s: refused %d %s, expected -> %s", dialled, r.status,
			 r.phrase ? r.phrase : "", target);
	assert_string_equal(r.target, target);
	assert_false(r.emergency);
}

/** The call is refused: 403 Destination Barred. */
static void expect_barred(struct fixture *f, const char *tenant,
			  const char *dialled)
{
	struct call_out_route r = route(f, tenant, dialled);

	if (r.status != 403)
		fail_msg("%s: not barred (status %d, target %s)", dialled,
			 r.status, r.target);
	assert_non_null(r.phrase);
	assert_string_equal(r.phrase, "Destination Barred");
	assert_false(r.emergency);
}

/** in_caller: the number the browser is shown, or NULL when left as is. */
static const char *caller(struct fixture *f, const char *tenant,
			  const char *number, char *out, size_t size)
{
	const struct call_hooks *h = svc_hooks();

	assert_non_null(h->in_caller);
	memset(out, 'x', size);
	if (!h->in_caller(f->svc, tenant, number, out, size))
		return NULL;
	return out;
}

static void expect_caller(struct fixture *f, const char *tenant,
			  const char *number, const char *shown)
{
	char out[128];
	const char *got = caller(f, tenant, number, out, sizeof out);

	if (!shown) {
		if (got)
			fail_msg("%s: rewritten to %s, expected unchanged", number, got);
		return;
	}
	if (!got)
		fail_msg("%s: left unchanged, expected %s", number, shown);
	assert_string_equal(got, shown);
}

/* ---- dial plan ------------------------------------------------------------ */

static void test_national_to_e164(void **state)
{
	struct fixture *f = *state;

	start(f, SERVICES, NULL);
	expect_target(f, "acme", "03012345678", "+493012345678");
	expect_target(f, "acme", "0405550001", "+49405550001");
}

static void test_international_00_to_plus(void **state)
{
	struct fixture *f = *state;

	start(f, SERVICES, NULL);
	expect_target(f, "acme", "0041441234567", "+41441234567");
	expect_target(f, "acme", "00331452900", "+331452900");
}

static void test_short_code_to_uri(void **state)
{
	struct fixture *f = *state;

	start(f, SERVICES, NULL);
	/* a result starting tel: or sip: is the Request-URI as it is */
	expect_target(f, "acme", "100", "tel:+4930123400100");
	expect_target(f, "acme", "200", "sip:+4930123400200@ims.test;user=phone");
	/* anchored: 1000 is no 100 (the rule for other short codes takes
	 * it), 2001 no 200 */
	expect_target(f, "acme", "1000", "+493012341000");
	expect_target(f, "acme", "2001", "2001");
	/* a rule whose result is a tel: URI with a group in it */
	expect_target(f, "acme", "8030555", "tel:+49030555");
}

static void test_first_rule_wins(void **state)
{
	struct fixture *f = *state;

	/* "^0(.*)$" (last) matches every national number too: never used
	 * while an earlier rule matches, used where none does */
	start(f, SERVICES, NULL);
	expect_target(f, "acme", "03012345678", "+493012345678");
	expect_target(f, "acme", "0012", "+12");
	expect_target(f, "acme", "0", "never-");
	expect_target(f, "acme", "0abc", "never-abc");
}

static void test_no_rule_unchanged(void **state)
{
	struct fixture *f = *state;
	struct call_out_route r;

	start(f, SERVICES, NULL);
	expect_target(f, "acme", "+4940555000001", "+4940555000001");
	expect_target(f, "acme", "alice", "alice");
	expect_target(f, "acme", "*31#", "*31#");
	/* a tenant with no services at all */
	svc_destroy(f->svc);
	f->svc = NULL;
	start(f, NULL, NULL);
	r = route(f, "acme", "03012345678");
	assert_int_equal(r.status, 0);
	assert_string_equal(r.target, "03012345678");
	assert_false(r.emergency);
}

/* ---- emergency numbers ---------------------------------------------------- */

static void test_emergency_untouched(void **state)
{
	struct fixture *f = *state;
	const char *nums[] = { "112", "110" };
	struct call_out_route r;

	/* "^(1[0-9]+)$" would rewrite 112 and "^11" would bar it */
	start(f, SERVICES, NULL);
	for (size_t i = 0; i < 2; i++) {
		r = route(f, "acme", nums[i]);
		assert_int_equal(r.status, 0);
		assert_null(r.phrase);
		assert_true(r.emergency);
		assert_string_equal(r.target, nums[i]);
	}
	/* the neighbours are no emergency numbers: barred by "^11" */
	expect_barred(f, "acme", "113");
	expect_barred(f, "acme", "1120");
	/* as the Request-URI may write it, with a visual separator */
	r = route(f, "acme", "1-1-2");
	assert_true(r.emergency);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.target, "1-1-2");
}

static void test_emergency_is_per_tenant(void **state)
{
	struct fixture *f = *state;
	struct call_out_route r;

	/* beta has no emergency numbers: 112 gets its dial plan */
	start(f, SERVICES,
	      "dial_plan = ( { match = \"^(1[0-9]+)$\"; replace = \"+4940$1\"; } );");
	r = route(f, "acme", "112");
	assert_true(r.emergency);
	assert_string_equal(r.target, "112");
	expect_target(f, "beta", "112", "+4940112");
	expect_target(f, "beta", "03012345678", "03012345678");
}

/* ---- barring ---------------------------------------------------------------- */

static void test_barred_as_dialled(void **state)
{
	struct fixture *f = *state;

	start(f, SERVICES, NULL);
	expect_barred(f, "acme", "09001234567");
	expect_barred(f, "acme", "900123");
	expect_barred(f, "acme", "+499001234567");
	expect_barred(f, "acme", "118833");
	/* not premium rate */
	expect_target(f, "acme", "08001234567", "+498001234567");
}

static void test_barred_after_rewriting(void **state)
{
	struct fixture *f = *state;

	start(f, SERVICES, NULL);
	/* 00 49 900...: as dialled no pattern matches; +49900... does */
	expect_barred(f, "acme", "00499001234567");
	/* 8 + 900...: the rule makes tel:+49900...; the number it names is
	 * barred as well */
	expect_barred(f, "acme", "89001234");
	expect_target(f, "acme", "88001234", "tel:+498001234");
	/* the same with a sip: URI (its user part) */
	expect_barred(f, "acme", "79001234");
	expect_target(f, "acme", "78001234", "sip:+498001234@ims.test;user=phone");
}

static void test_barred_per_tenant(void **state)
{
	struct fixture *f = *state;

	start(f, SERVICES, "barred = [ \"^0137\" ];");
	expect_barred(f, "beta", "01371234");
	expect_target(f, "beta", "09001234567", "09001234567");
	expect_target(f, "acme", "01371234", "+491371234");
}

/* ---- unknown tenant ------------------------------------------------------- */

static void test_unknown_tenant(void **state)
{
	struct fixture *f = *state;
	const char *nums[] = { "03012345678", "09001234567", "112", "100" };
	char out[64];

	start(f, SERVICES, NULL);
	for (size_t i = 0; i < 4; i++) {
		struct call_out_route r = route(f, "nobody", nums[i]);
		assert_int_equal(r.status, 0);
		assert_null(r.phrase);
		assert_false(r.emergency);
		assert_string_equal(r.target, nums[i]);
	}
	assert_null(caller(f, "nobody", "+4930123456789", out, sizeof out));
	assert_null(caller(f, "", "+4930123456789", out, sizeof out));
}

/* ---- calling number shown to browsers ------------------------------------- */

static void test_caller_display(void **state)
{
	struct fixture *f = *state;

	start(f, SERVICES, "caller_display = ( { match = \"^[+]33\"; replace = \"0033\"; } );");
	/* colleagues as their extension (first rule), other German numbers
	 * national (second rule) */
	expect_caller(f, "acme", "+493012345678", "45678");
	expect_caller(f, "acme", "+4940999000001", "040999000001");
	/* per tenant */
	expect_caller(f, "beta", "+33145290000", "0033145290000");
	expect_caller(f, "beta", "+493012345678", NULL);
}

static void test_caller_display_no_match(void **state)
{
	struct fixture *f = *state;
	char out[4];

	start(f, SERVICES, NULL);
	expect_caller(f, "acme", "+33145290000", NULL);
	expect_caller(f, "acme", "anonymous", NULL);
	expect_caller(f, "acme", "030123", NULL);
	/* a tenant without caller_display rules */
	svc_destroy(f->svc);
	f->svc = NULL;
	start(f, "emergency = [ \"112\" ];", NULL);
	expect_caller(f, "acme", "+493012345678", NULL);
	/* a result that does not fit is no rewrite */
	svc_destroy(f->svc);
	f->svc = NULL;
	start(f, SERVICES, NULL);
	assert_null(caller(f, "acme", "+4940999000001", out, sizeof out));
}

/* ---- reload --------------------------------------------------------------- */

static void test_reload_replaces_rules(void **state)
{
	struct fixture *f = *state;
	struct conf *c2;
	struct call_out_route r;

	start(f, SERVICES, NULL);
	expect_target(f, "acme", "03012345678", "+493012345678");
	expect_barred(f, "acme", "09001234567");
	expect_target(f, "beta", "03012345678", "03012345678");

	c2 = conf_services(f,
		"emergency = [ \"911\" ];\n"
		"barred = [ \"^0137\" ];\n"
		"dial_plan = ( { match = \"^0([1-9][0-9]+)$\"; replace = \"tel:+33$1\"; } );\n"
		"caller_display = ( { match = \"^[+]33(.*)$\"; replace = \"0$1\"; } );",
		"dial_plan = ( { match = \"^0([1-9][0-9]+)$\"; replace = \"+43$1\"; } );");
	assert_int_equal(svc_reload(f->svc, c2), 0);
	/* the old configuration goes (the services no longer borrow it) */
	conf_free(f->cf.confs[0]);
	f->cf.confs[0] = NULL;

	/* the old rules are gone, the new ones apply */
	expect_target(f, "acme", "03012345678", "tel:+333012345678");
	expect_target(f, "acme", "0041441234567", "0041441234567");
	expect_target(f, "acme", "100", "100");
	expect_target(f, "acme", "09001234567", "tel:+339001234567");
	expect_barred(f, "acme", "01371234");
	r = route(f, "acme", "112");
	assert_false(r.emergency);
	assert_int_equal(r.status, 0);
	r = route(f, "acme", "911");
	assert_true(r.emergency);
	assert_string_equal(r.target, "911");
	expect_caller(f, "acme", "+493012345678", NULL);
	expect_caller(f, "acme", "+33145290000", "0145290000");
	/* the tenant beta came with the reload */
	expect_target(f, "beta", "03012345678", "+433012345678");
}

static void test_reload_failure_keeps_rules(void **state)
{
	struct fixture *f = *state;
	struct conf *c2;
	struct call_out_route r;

	start(f, SERVICES, NULL);
	c2 = conf_services(f, "dial_plan = ( { match = \"^0(.*)$\"; replace = \"+33$1\"; } );",
			   NULL);
	/* conf_load() checks every rule; a rule that does not compile can
	 * only come from elsewhere: svc_reload() refuses it and keeps all */
	free(c2->tenants[0].services.dial_plan[0].match);
	c2->tenants[0].services.dial_plan[0].match = strdup("^0(");
	assert_non_null(c2->tenants[0].services.dial_plan[0].match);
	assert_int_equal(svc_reload(f->svc, c2), EINVAL);

	expect_target(f, "acme", "03012345678", "+493012345678");
	expect_barred(f, "acme", "09001234567");
	r = route(f, "acme", "112");
	assert_true(r.emergency);
	expect_caller(f, "acme", "+493012345678", "45678");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_national_to_e164, setup, teardown),
		cmocka_unit_test_setup_teardown(test_international_00_to_plus, setup, teardown),
		cmocka_unit_test_setup_teardown(test_short_code_to_uri, setup, teardown),
		cmocka_unit_test_setup_teardown(test_first_rule_wins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_rule_unchanged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_emergency_untouched, setup, teardown),
		cmocka_unit_test_setup_teardown(test_emergency_is_per_tenant, setup, teardown),
		cmocka_unit_test_setup_teardown(test_barred_as_dialled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_barred_after_rewriting, setup, teardown),
		cmocka_unit_test_setup_teardown(test_barred_per_tenant, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_tenant, setup, teardown),
		cmocka_unit_test_setup_teardown(test_caller_display, setup, teardown),
		cmocka_unit_test_setup_teardown(test_caller_display_no_match, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload_replaces_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload_failure_keeps_rules, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
