/**
 * @file test_svc_plan.c  Diversion settings and ring groups (gateway/svc/,
 * svc_plan.c) as the call core sees them: the in_plan and busy hooks of
 * svc_hooks(), on real configurations and a real store.
 *
 * What is checked:
 *  - a user's plan: no diversion by default (the tenant's no_answer_time,
 *    hop limit 5), the configuration's targets, and a store row that
 *    replaces them at run time (and its removal);
 *  - ring groups: the members in hunting order for each strategy
 *    (sequential, simultaneous, round robin rotating per call, longest idle
 *    after calls end), and members skipped while on a call (unless call
 *    waiting), in wrap-up, or paused in the store;
 *  - configuration errors of diversions and groups, with file and line.
 *
 * Run: ctest -L unit, or under valgrind:
 *   valgrind --leak-check=full --error-exitcode=1 ./test_svc_plan
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "conf_fixture.h"
#include "gateway/call/call.h"
#include "gateway/svc/svc.h"
#include "store/store.h"

#define A "+4930123400001"
#define B "+4930123400002"
#define C "+4930123400003"
#define D "+4930123400004"
#define GROUP "+4930123400900"
#define EXT "+4940555000"

struct fixture {
	struct conf_fixture cf;
	struct store *store;
	struct svc *svc;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	char path[128];

	if (!f || conf_fixture_init(&f->cf, "plan")) {
		free(f);
		return -1;
	}
	snprintf(path, sizeof path, "%s/store.db", f->cf.dir);
	if (store_open(&f->store, path)) {
		conf_fixture_fini(&f->cf);
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
	store_close(f->store);
	conf_fixture_fini(&f->cf);
	free(f);
	return 0;
}

#define TENANT_HEAD \
	"trunks = ( { name = \"ims\"; mode = \"static\";" \
	" bind = \"sip:127.0.0.1:5090\"; domain = \"ims.test\";" \
	" pcscf = [ \"sip:127.0.0.1:5070\" ]; } );\n" \
	"tenants = ( { name = \"acme\"; domain = \"acme.test\";" \
	" origins = [ \"http://x\" ]; allow_digest = true;" \
	" ranges = [ \"+4930123400000-+4930123400999\" ];\n"

/** Starts the services on a tenant whose services group is @p services. */
static void start(struct fixture *f, const char *services)
{
	char text[8192];

	snprintf(text, sizeof text, TENANT_HEAD "services = {\n%s\n}; } );\n",
		 services);
	assert_int_equal(svc_create(&f->svc, conf_fixture_load(&f->cf, text),
				    f->store), 0);
}

static struct call_plan *plan(struct fixture *f, const char *tenant,
			      const char *number)
{
	static struct call_plan p;
	const struct call_hooks *h = svc_hooks();

	memset(&p, 0, sizeof p);
	assert_non_null(h->in_plan);
	h->in_plan(f->svc, tenant, number, &p);
	return &p;
}

static void busy(struct fixture *f, const char *number, bool on)
{
	svc_hooks()->busy(f->svc, "acme", number, on);
}

/** The plan's members, comma-separated. */
static const char *members(const struct call_plan *p)
{
	static char buf[1024];
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < p->member_count; i++)
		n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s",
				      i ? "," : "", p->members[i]);
	return buf;
}

#define DIVERSIONS \
	"no_answer_time = 25;\n" \
	"max_diversions = 3;\n" \
	"announce_diversion = true;\n" \
	"diversion = (\n" \
	"  { identity = \"" A "\"; busy = \"" B "\"; no_answer = \"" EXT "\"; },\n" \
	"  { identity = \"" C "\"; unconditional = \"tel:" EXT "\";" \
	" not_reachable = \"" GROUP "\"; no_answer_time = 7; }\n" \
	");\n"

static void group(char *buf, size_t size, const char *strategy,
		  const char *extra)
{
	snprintf(buf, size,
		 "ring_groups = ( { number = \"" GROUP "\"; name = \"desk\";"
		 " strategy = \"%s\"; members = [ \"" A "\", \"" B "\", \"" C "\" ];"
		 " member_timeout = 4; timeout = 30; overflow = \"" EXT "\"; %s } );\n",
		 strategy, extra);
}

/* ---- users --------------------------------------------------------- */

static void test_user_without_diversion(void **state)
{
	struct fixture *f = *state;
	struct call_plan *p;

	start(f, "");
	p = plan(f, "acme", D);
	assert_int_equal(p->kind, CALL_PLAN_USER);
	assert_string_equal(p->unconditional, "");
	assert_string_equal(p->busy, "");
	assert_string_equal(p->no_answer, "");
	assert_string_equal(p->not_reachable, "");
	assert_int_equal(p->no_answer_time, 20);
	assert_int_equal(p->max_diversions, 5);
	assert_false(p->announce);
}

static void test_user_diversion_from_config(void **state)
{
	struct fixture *f = *state;
	struct call_plan *p;

	start(f, DIVERSIONS);
	p = plan(f, "acme", A);
	assert_string_equal(p->busy, B);
	assert_string_equal(p->no_answer, EXT);
	assert_string_equal(p->unconditional, "");
	assert_int_equal(p->no_answer_time, 25);     /* the tenant's */
	assert_int_equal(p->max_diversions, 3);
	assert_true(p->announce);
	p = plan(f, "acme", C);
	assert_string_equal(p->unconditional, "tel:" EXT);
	assert_string_equal(p->not_reachable, GROUP);
	assert_int_equal(p->no_answer_time, 7);      /* its own */
	/* the number as written differently still matches */
	p = plan(f, "acme", "tel:+49-30-1234-00001");
	assert_string_equal(p->busy, B);
}

static void test_user_diversion_from_store(void **state)
{
	struct fixture *f = *state;
	struct store_diversion d = { .tenant = "acme", .identity = A,
				     .unconditional = D, .no_answer_time = 9 };
	struct call_plan *p;

	start(f, DIVERSIONS);
	assert_int_equal(store_diversion_put(f->store, &d), 0);
	p = plan(f, "acme", A);
	assert_string_equal(p->unconditional, D);
	assert_string_equal(p->busy, "");            /* the row replaces all */
	assert_int_equal(p->no_answer_time, 9);
	assert_int_equal(store_diversion_del(f->store, "acme", A), 0);
	p = plan(f, "acme", A);
	assert_string_equal(p->unconditional, "");
	assert_string_equal(p->busy, B);
}

static void test_unknown_tenant_leaves_plan(void **state)
{
	struct fixture *f = *state;
	struct call_plan *p;

	start(f, DIVERSIONS);
	p = plan(f, "nobody", A);
	assert_int_equal(p->kind, CALL_PLAN_USER);
	assert_int_equal(p->max_diversions, 0);
	assert_string_equal(p->busy, "");
}

/* ---- groups -------------------------------------------------------- */

static void test_group_sequential(void **state)
{
	struct fixture *f = *state;
	char svc[1024];
	struct call_plan *p;

	group(svc, sizeof svc, "sequential", "");
	start(f, svc);
	p = plan(f, "acme", GROUP);
	assert_int_equal(p->kind, CALL_PLAN_GROUP);
	assert_string_equal(p->group, "desk");
	assert_true(p->hunt);
	assert_int_equal(p->member_timeout, 4);
	assert_int_equal(p->timeout, 30);
	assert_string_equal(p->overflow, EXT);
	assert_string_equal(members(p), A "," B "," C);
	/* the same order on every call */
	assert_string_equal(members(plan(f, "acme", GROUP)), A "," B "," C);
	/* a member's own number is a user, not the group */
	assert_int_equal(plan(f, "acme", A)->kind, CALL_PLAN_USER);
}

static void test_group_simultaneous(void **state)
{
	struct fixture *f = *state;
	char svc[1024];
	struct call_plan *p;

	group(svc, sizeof svc, "simultaneous", "");
	start(f, svc);
	p = plan(f, "acme", GROUP);
	assert_false(p->hunt);
	assert_int_equal(p->member_count, 3);
}

static void test_group_round_robin(void **state)
{
	struct fixture *f = *state;
	char svc[1024];

	group(svc, sizeof svc, "round_robin", "");
	start(f, svc);
	assert_true(plan(f, "acme", GROUP)->hunt);
	assert_string_equal(members(plan(f, "acme", GROUP)), B "," C "," A);
	assert_string_equal(members(plan(f, "acme", GROUP)), C "," A "," B);
	assert_string_equal(members(plan(f, "acme", GROUP)), A "," B "," C);
}

static void test_group_longest_idle(void **state)
{
	struct fixture *f = *state;
	char svc[1024];

	group(svc, sizeof svc, "longest_idle", "");
	start(f, svc);
	assert_string_equal(members(plan(f, "acme", GROUP)), A "," B "," C);
	busy(f, A, true);
	busy(f, A, false);          /* A idle since now */
	assert_string_equal(members(plan(f, "acme", GROUP)), B "," C "," A);
	busy(f, B, true);
	busy(f, B, false);          /* then B */
	assert_string_equal(members(plan(f, "acme", GROUP)), C "," A "," B);
}

static void test_group_skips_busy_unless_call_waiting(void **state)
{
	struct fixture *f = *state;
	char svc[2048];

	/* the same members in a second group, with call waiting */
	snprintf(svc, sizeof svc,
		 "ring_groups = ( { number = \"" GROUP "\"; members = [ \"" A "\", \""
		 B "\" ]; },\n  { number = \"+4930123400901\"; members = [ \"" A
		 "\", \"" B "\" ]; call_waiting = true; } );\n");
	start(f, svc);
	busy(f, A, true);
	assert_string_equal(members(plan(f, "acme", GROUP)), B);
	assert_string_equal(members(plan(f, "acme", "+4930123400901")), A "," B);
	busy(f, A, true);           /* two calls */
	busy(f, A, false);
	assert_string_equal(members(plan(f, "acme", GROUP)), B);
	busy(f, A, false);
	assert_string_equal(members(plan(f, "acme", GROUP)), A "," B);
}

static void test_group_wrap_up(void **state)
{
	struct fixture *f = *state;

	start(f, "ring_groups = ( { number = \"" GROUP "\"; members = [ \"" A
		 "\", \"" B "\" ]; wrap_up = 60; },\n  { number = \"+4930123400901\";"
		 " members = [ \"" A "\", \"" B "\" ]; } );\n");
	busy(f, A, true);
	busy(f, A, false);          /* A rests 60 s in the first group */
	assert_string_equal(members(plan(f, "acme", GROUP)), B);
	assert_string_equal(members(plan(f, "acme", "+4930123400901")), A "," B);
}

static void test_group_paused_in_store(void **state)
{
	struct fixture *f = *state;
	char svc[1024];

	group(svc, sizeof svc, "sequential", "");
	start(f, svc);
	assert_int_equal(store_agent_pause(f->store, "acme", B, true), 0);
	assert_string_equal(members(plan(f, "acme", GROUP)), A "," C);
	assert_int_equal(store_agent_pause(f->store, "acme", A, true), 0);
	assert_int_equal(store_agent_pause(f->store, "acme", C, true), 0);
	assert_int_equal(plan(f, "acme", GROUP)->member_count, 0);
	assert_int_equal(store_agent_pause(f->store, "acme", B, false), 0);
	assert_string_equal(members(plan(f, "acme", GROUP)), B);
}

static void test_group_without_store(void **state)
{
	struct fixture *f = *state;
	char text[2048], svc[1024];

	group(svc, sizeof svc, "sequential", "");
	snprintf(text, sizeof text, TENANT_HEAD "services = {\n%s\n}; } );\n", svc);
	assert_int_equal(svc_create(&f->svc, conf_fixture_load(&f->cf, text),
				    NULL), 0);
	assert_string_equal(members(plan(f, "acme", GROUP)), A "," B "," C);
}

/* ---- configuration errors ----------------------------------------- */

/** A configuration with @p services is refused with @p what in its errors. */
static void expect_refused(struct fixture *f, const char *services,
			   const char *what)
{
	char text[4096], path[160], *errs = NULL;
	struct conf *conf = NULL;
	FILE *fp;

	snprintf(text, sizeof text, TENANT_HEAD "services = {\n%s\n}; } );\n",
		 services);
	snprintf(path, sizeof path, "%s/bad.conf", f->cf.dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	assert_int_not_equal(conf_load(path, &conf, &errs), 0);
	assert_null(conf);
	assert_non_null(errs);
	if (!strstr(errs, what) || !strstr(errs, "bad.conf:"))
		fail_msg("expected '%s' with file:line in:\n%s", what, errs);
	free(errs);
}

static void test_config_errors(void **state)
{
	struct fixture *f = *state;

	expect_refused(f, "ring_groups = ( { number = \"" GROUP "\"; members = [ \""
		       A "\" ]; strategy = \"fastest\"; } );",
		       "must be simultaneous, sequential, round_robin or longest_idle");
	expect_refused(f, "ring_groups = ( { number = \"" GROUP "\"; members = [ \""
		       "+4940111\" ]; } );", "not within the tenant's ranges");
	expect_refused(f, "ring_groups = ( { number = \"" GROUP "\"; members = [ ]; } );",
		       "must list at least one member");
	expect_refused(f, "ring_groups = ( { number = \"" GROUP "\"; members = [ \""
		       A "\" ]; }, { number = \"" GROUP "\"; members = [ \"" B "\" ]; } );",
		       "duplicate ring group number");
	expect_refused(f, "diversion = ( { identity = \"" A "\"; busy = \"bob\"; } );",
		       "must be a number or a sip:/tel: URI");
	expect_refused(f, "diversion = ( { identity = \"alice\"; } );", "not a number");
	expect_refused(f, "max_diversions = 0;", "max_diversions");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_user_without_diversion, setup, teardown),
		cmocka_unit_test_setup_teardown(test_user_diversion_from_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_user_diversion_from_store, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_tenant_leaves_plan, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_sequential, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_simultaneous, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_round_robin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_longest_idle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_skips_busy_unless_call_waiting, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_wrap_up, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_paused_in_store, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_without_store, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_errors, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
