/**
 * @file test_conf.c  The configuration loader: errors name file, line and
 * key, the key spelt the same way by both passes (tenants[0].x), a missing
 * key at the line of its group; key files that do not load and admin token
 * files at their lines; the options a reload cannot change; defaults and
 * bounds come from the schema; the example file documents every option.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/conf.h"

#define MINIMAL_TENANT \
	"tenants = ( { name = \"t1\"; domain = \"t1.example\";\n" \
	"  origins = [ \"https://t1.example\" ]; allow_digest = true; } );\n"

#define TRUNK_BASE "trunks = ( { name = \"ims\"; pcscf = [ \"sip:127.0.0.1:5070\" ];\n" \
	"  domain = \"ims.test\"; impu = \"sip:pbx@ims.test\"; impi = \"pbx\";\n"

static char tmpdir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/wtpf-conf-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
	return system(cmd);
}

/* Writes @p text to NAME in the temp dir and returns its path (static). */
static const char *write_file(const char *name, const char *text)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

/* Loads @p text; returns the error text (caller frees) or NULL on success. */
static char *load_text(const char *text, struct conf **confp)
{
	const char *path = write_file("t.conf", text);
	struct conf *conf = NULL;
	char *errs = NULL;
	int err = conf_load(path, &conf, &errs);

	if (confp)
		*confp = conf;
	else
		conf_free(conf);
	if (!err) {
		assert_null(errs);
		return NULL;
	}
	assert_non_null(errs);
	return errs;
}

static void expect_error(const char *text, const char *needle)
{
	char *errs = load_text(text, NULL);

	assert_non_null(errs);
	if (!strstr(errs, needle))
		fail_msg("expected '%s' in:\n%s", needle, errs);
	free(errs);
}

static void test_minimal_defaults(void **state)
{
	struct conf *conf = NULL;

	(void)state;
	assert_null(load_text(MINIMAL_TENANT, &conf));
	assert_non_null(conf);
	assert_int_equal(conf->websocket.ws_port, 8080);
	assert_int_equal(conf->websocket.wss_port, 0);
	assert_int_equal(conf->registrar.min_expires, 60);
	assert_int_equal(conf->registrar.default_expires, 600);
	assert_string_equal(conf->log_level, "info");
	assert_int_equal(conf->tenant_count, 1);
	assert_true(conf->tenants[0].allow_digest);
	assert_true(conf_strv_has(conf->tenants[0].origins, "https://t1.example"));
	assert_non_null(conf_tenant_find(conf, "t1"));
	assert_null(conf_tenant_find(conf, "t2"));
	/* Relative paths are resolved against the file's folder. */
	assert_true(!strncmp(conf->store.path, tmpdir, strlen(tmpdir)));
	conf_free(conf);
}

static void test_unknown_key_has_line(void **state)
{
	(void)state;
	expect_error("websocket = {\n  ws_port = 8080;\n  wsport = 1;\n};\n"
		     MINIMAL_TENANT, "t.conf:3: websocket.wsport: unknown key");
	expect_error("bogus = 1;\n" MINIMAL_TENANT, ":1: bogus: unknown key");
}

/* libconfig exits on some @include lines and blocks on a FIFO: both are
 * refused before libconfig reads anything. */
static void test_include_and_special_files(void **state)
{
	char fifo[512], *errs = NULL;
	struct conf *conf = NULL;

	(void)state;
	expect_error("log_level = \"info\";\n  @include \"\"\n" MINIMAL_TENANT,
		     "t.conf:2: @include is not supported");
	expect_error("@include \"/tmp\"\n" MINIMAL_TENANT,
		     "t.conf:1: @include is not supported");
	snprintf(fifo, sizeof fifo, "%s/fifo.conf", tmpdir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(conf_load(fifo, &conf, &errs), EINVAL);
	assert_null(conf);
	assert_non_null(strstr(errs, "fifo.conf: not a regular file"));
	free(errs);
	errs = NULL;
	assert_int_equal(conf_load("/dev/null", &conf, &errs), EINVAL);
	assert_non_null(strstr(errs, "/dev/null: not a regular file"));
	free(errs);
	unlink(fifo);
}

static void test_wrong_type(void **state)
{
	(void)state;
	expect_error("\n\nregistrar = { min_expires = \"60\"; };\n" MINIMAL_TENANT,
		     "t.conf:3: registrar.min_expires: must be an integer");
	expect_error("websocket = 5;\n" MINIMAL_TENANT,
		     ":1: websocket: must be a group");
	expect_error("tenants = ( { name = \"a\"; domain = \"d\"; origins = [ 1 ]; "
		     "allow_digest = true; } );\n", "tenants[0].origins: element 0 "
		     "must be a string");
	expect_error("tenants = ( { name = \"a\"; domain = \"d\"; origins = [\"o\"];"
		     " allow_digest = 1; } );\n", "allow_digest: must be a boolean");
}

static void test_out_of_range(void **state)
{
	(void)state;
	expect_error("websocket = { ws_port = 70000; };\n" MINIMAL_TENANT,
		     ":1: websocket.ws_port: 70000 is out of range [0, 65535]");
	expect_error("websocket = { max_frame_size = 10; };\n" MINIMAL_TENANT,
		     "websocket.max_frame_size: 10 is out of range");
}

static void test_missing_required(void **state)
{
	(void)state;
	expect_error("log_level = \"info\";\n", "tenants: missing (required)");
	expect_error("tenants = ( { name = \"a\"; origins = [\"o\"]; "
		     "allow_digest = true; } );\n", "tenants[0].domain: missing");
}

/* A missing key is reported at the line of the group that lacks it; a
 * missing top-level key at line 1, never 0. */
static void test_missing_key_line(void **state)
{
	char *errs;

	(void)state;
	errs = load_text("\nlog_level = \"info\";\n", NULL);
	assert_non_null(strstr(errs, "t.conf:1: tenants: missing (required)"));
	assert_null(strstr(errs, ":0:"));
	free(errs);
	expect_error("log_level = \"info\";\ntenants = (\n  { name = \"a\";\n"
		     "    origins = [\"o\"]; allow_digest = true; } );\n",
		     "t.conf:3: tenants[0].domain: missing (required)");
	expect_error(MINIMAL_TENANT "trunks = (\n { name = \"ims\";\n"
		     "   domain = \"d\"; mode = \"static\"; } );\n",
		     "t.conf:4: trunks[0].pcscf: missing (required)");
	expect_error("tenants = ( { name = \"a\"; domain = \"d\"; origins = [\"o\"];\n"
		     "  issuers = (\n   { issuer = \"i\"; } ); } );\n",
		     "t.conf:3: tenants[0].issuers[0].keys: missing (required)");
	/* a check of the second pass on a group that is not there */
	errs = load_text("\n" MINIMAL_TENANT "websocket = { ws_port = 0; };\n", NULL);
	assert_non_null(strstr(errs, "t.conf:4: websocket.ws_port: no listener"));
	free(errs);
}

/* Both passes spell list elements tenants[0].x: no "tenants.[0]". */
static void test_key_spelling(void **state)
{
	char *errs;

	(void)state;
	/* first pass */
	errs = load_text("tenants = ( { name = \"a\"; domain = \"d\"; origins = [\"o\"];"
			 " allow_digest = true; max_identities = -1; } );\n", NULL);
	assert_non_null(strstr(errs, "t.conf:1: tenants[0].max_identities: -1 is out"));
	free(errs);
	/* second pass, in lists of lists */
	errs = load_text("tenants = ( { name = \"a\"; domain = \"d\"; origins = [\"o\"];"
			 " allow_digest = true;\n identity_sets = ( { name = \"main\";"
			 " trunk = \"x\"; ranges = [ \"+491\" ]; } );\n"
			 " services = { ring_groups = ( { number = \"abc\";"
			 " members = [ \"+491\" ]; } ); }; } );\n", NULL);
	assert_non_null(strstr(errs, "t.conf:2: tenants[0].identity_sets[0].name: "
			       "\"main\" is"));
	assert_non_null(strstr(errs, "t.conf:2: tenants[0].identity_sets[0].trunk: "
			       "no trunk"));
	assert_non_null(strstr(errs, "t.conf:3: tenants[0].services.ring_groups[0]"
			       ".number: not a number"));
	assert_null(strstr(errs, ".["));
	free(errs);
}

/* What conf_load_keys() hands each readable key file; fails on "bad". */
static const char *keys_seen[4];
static size_t keys_n;

static int key_check_stub(const char *path, const char **why)
{
	if (keys_n < 4)
		keys_seen[keys_n++] = path;
	*why = "not a PEM key, JWKS or HMAC secret";
	return strstr(path, "bad") ? EINVAL : 0;
}

/* A key file that is readable but does not load: an error at the line of
 * its keys setting, naming the file; a good one passes. */
static void test_key_files(void **state)
{
	const char *text = "tenants = ( { name = \"a\"; domain = \"d\";\n"
			   "  origins = [\"o\"];\n  issuers = (\n"
			   "   { issuer = \"i\"; keys = \"good.key\"; },\n"
			   "   { issuer = \"j\";\n     keys = \"bad.key\"; } ); } );\n";
	const char *path;
	struct conf *conf = NULL;
	char *errs = NULL, want[300];

	(void)state;
	write_file("good.key", "secret-secret-secret\n");
	write_file("bad.key", "");
	path = write_file("k.conf", text);
	/* without a check (conf_load, wtpfctl): readable is enough */
	if (conf_load(path, &conf, &errs))
		fail_msg("refused:\n%s", errs);
	conf_free(conf);
	conf = NULL;
	keys_n = 0;
	assert_int_not_equal(conf_load_keys(path, key_check_stub, &conf, &errs), 0);
	assert_null(conf);
	snprintf(want, sizeof want, "k.conf:6: tenants[0].issuers[1].keys: '%s/bad.key' "
		 "does not load: not a PEM key, JWKS or HMAC secret\n", tmpdir);
	if (!strstr(errs, want))
		fail_msg("expected '%s' in:\n%s", want, errs);
	assert_null(strstr(errs, "issuers[0]"));
	assert_int_equal(keys_n, 2);
	free(errs);
	/* an unreadable one is only "cannot read" */
	keys_n = 0;
	path = write_file("k.conf", "tenants = ( { name = \"a\"; domain = \"d\";"
			  " origins = [\"o\"];\n issuers = ( { issuer = \"i\";"
			  " keys = \"none.key\"; } ); } );\n");
	assert_int_not_equal(conf_load_keys(path, key_check_stub, &conf, &errs), 0);
	assert_non_null(strstr(errs, "k.conf:2: tenants[0].issuers[0].keys: cannot read file"));
	assert_int_equal(keys_n, 0);
	free(errs);
}

/* admin.token_file: checked when the file loads, at its line. */
static void test_admin_token_file(void **state)
{
	char text[256], want[300];
	struct conf *conf = NULL;
	char *tok = NULL, why[200];
	const struct { const char *content, *error; } cases[] = {
		{ NULL, "No such file or directory" },
		{ "", "the token is empty" },
		{ " \n\t\n", "the token is empty" },
		{ "fifteen-chars-x\n", "the token has 15 characters; it must have 16 to 512" },
		{ "two-lines-0123456789\nsecond-line-0123456789\n", "the token must be one line" },
	};

	(void)state;
	snprintf(text, sizeof text, "admin = {\n  port = 0;\n  token_file = \"tok\";\n};\n"
		 MINIMAL_TENANT);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		unlink(write_file("tok", ""));
		if (cases[i].content)
			write_file("tok", cases[i].content);
		snprintf(want, sizeof want, "t.conf:3: admin.token_file: '%s/tok': %s",
			 tmpdir, cases[i].error);
		expect_error(text, want);
	}
	write_file("tok", "  sixteen-chars-xy \n");
	assert_null(load_text(text, &conf));
	assert_int_equal(conf_token_read(conf->admin.token_file, &tok, why, sizeof why), 0);
	assert_string_equal(tok, "sixteen-chars-xy");
	free(tok);
	conf_free(conf);
	/* no token_file: nothing to check (the API is closed) */
	assert_null(load_text("admin = { port = 0; };\n" MINIMAL_TENANT, NULL));
}

static void note_key(void *arg, const char *key)
{
	char *list = arg;

	strcat(list, key);
	strcat(list, " ");
}

/* The options read only at start that changed: exactly those. */
static void test_restart_changes(void **state)
{
	const char *fmt = "log_level = \"%s\";\n"
		"websocket = { ws_port = %d; ping_interval = %d; };\n"
		"auth = { max_nonces = %d; clock_skew = 30; };\n"
		"store = { path = \"%s\"; cdr_days = %d; };\n"
		"admin = { port = %d; };\n"
		TRUNK_BASE "  retry_max = %d; } );\n"
		"tenants = ( { name = \"t1\"; domain = \"t1.example\";"
		" origins = [ \"https://t1.example\" ]; allow_digest = true;"
		" max_identities = %d; } );\n";
	char text[1024], seen[512] = "";
	struct conf *a = NULL, *b = NULL;

	(void)state;
	snprintf(text, sizeof text, fmt, "info", 8080, 30, 1000, "a.db", 90, 8090, 300, 5);
	assert_null(load_text(text, &a));
	conf_restart_changes(a, a, note_key, seen);
	assert_string_equal(seen, "");
	/* only reloadable options changed */
	snprintf(text, sizeof text, fmt, "debug", 8080, 10, 1000, "a.db", 7, 8090, 300, 9);
	assert_null(load_text(text, &b));
	conf_restart_changes(a, b, note_key, seen);
	assert_string_equal(seen, "");
	conf_free(b);
	snprintf(text, sizeof text, fmt, "info", 8081, 30, 2000, "b.db", 90, 8091, 600, 5);
	assert_null(load_text(text, &b));
	conf_restart_changes(a, b, note_key, seen);
	assert_string_equal(seen, "websocket.ws_port auth.max_nonces store.path "
			    "admin.port trunks[0].retry_max ");
	conf_free(a);
	conf_free(b);
}

static void test_syntax_error_line(void **state)
{
	(void)state;
	expect_error("log_level = \"info\";\nwebsocket = {\n  ws_port = ;\n};\n",
		     "t.conf:3: syntax error");
}

static void test_semantic_checks(void **state)
{
	(void)state;
	expect_error("registrar = { min_expires = 600; max_expires = 60; "
		     "default_expires = 60; };\n" MINIMAL_TENANT,
		     "registrar.min_expires: greater than max_expires");
	expect_error("websocket = { wss_port = 8443; };\n" MINIMAL_TENANT,
		     "websocket.tls_certificate: required when wss_port is set");
	expect_error("websocket = { ws_port = 0; };\n" MINIMAL_TENANT,
		     "no listener");
	expect_error("log_level = \"loud\";\n" MINIMAL_TENANT,
		     "log_level: must be error, warn, info or debug");
	expect_error("tenants = ( { name = \"a\"; domain = \"d\"; origins = [\"o\"];"
		     " } );\n", "no way to authenticate");
	expect_error("tenants = ( { name = \"a\"; domain = \"d\"; origins = [\"o\"];"
		     " allow_digest = true; },\n { name = \"a\"; domain = \"e\"; "
		     "origins = [\"o\"]; allow_digest = true; } );\n",
		     "t.conf:2: tenants[1].name: duplicate tenant name");
	expect_error("tenants = ( { name = \"a\"; domain = \"d\"; origins = [\"o\"];\n"
		     "  issuers = ( { issuer = \"i\"; keys = \"nokey\";\n"
		     "   algorithms = [ \"HS512\" ]; } ); } );\n",
		     "unsupported algorithm 'HS512'");
	expect_error("tenants = ( { name = \"a\"; domain = \"d\"; origins = [\"o\"];\n"
		     "  issuers = ( { issuer = \"i\";\n keys = \"nokey\"; } ); } );\n",
		     "t.conf:3: tenants[0].issuers[0].keys: cannot read file");
}

/* The trunk's TLS keys: version, cipher list, the folder's files, and
 * mutual TLS only with a folder and verify_client. */
static void test_trunk_tls(void **state)
{
#define TRUNK_TLS(x) MINIMAL_TENANT "trunks = (\n { name = \"ims\";\n" \
	"   domain = \"d\"; mode = \"static\"; pcscf = [\"sip:p\"];\n" x " } );\n"
	(void)state;
	expect_error(TRUNK_TLS("   tls_min_version = \"1.1\";"),
		     "t.conf:6: trunks[0].tls_min_version: must be 1.2 or 1.3");
	expect_error(TRUNK_TLS("   tls_ciphers = \"NOTHING-KNOWN\";"),
		     "t.conf:6: trunks[0].tls_ciphers: OpenSSL knows no cipher of this list");
	expect_error(TRUNK_TLS("   tls_verify_client = true;"),
		     "t.conf:6: trunks[0].tls_verify_client: needs tls_dir (cafile.pem)");
	expect_error(TRUNK_TLS("   tls_dir = \"/nonexistent\";"),
		     "t.conf:6: trunks[0].tls_dir: cannot read file '/nonexistent/agent.pem'");
	expect_error(TRUNK_TLS("   tls_dir = \"/nonexistent\";"),
		     "cannot read file '/nonexistent/cafile.pem'");
	expect_error(TRUNK_TLS("   tls_peer_names = [\"pcscf\"];"),
		     "t.conf:6: trunks[0].tls_peer_names: needs tls_verify_client = true");
#undef TRUNK_TLS
}

/* web.root: relative to the file's folder, a readable folder or empty. */
static void test_web_root(void **state)
{
	struct conf *conf = NULL;
	char dir[128], *errs;

	(void)state;
	assert_null(load_text(MINIMAL_TENANT, &conf));
	assert_string_equal(conf->web.root, "");
	conf_free(conf);
	snprintf(dir, sizeof dir, "%s/pages", tmpdir);
	assert_int_equal(mkdir(dir, 0755), 0);
	assert_null(load_text("web = { root = \"pages\"; };\n" MINIMAL_TENANT, &conf));
	assert_string_equal(conf->web.root, dir);
	conf_free(conf);
	expect_error("log_level = \"info\";\nweb = {\n root = \"nowhere\"; };\n"
		     MINIMAL_TENANT, "t.conf:3: web.root: cannot read folder '");
	write_file("plain", "not a folder\n");
	errs = load_text("web = { root = \"plain\"; };\n" MINIMAL_TENANT, &conf);
	assert_non_null(errs);
	assert_non_null(strstr(errs, "t.conf:1: web.root: cannot read folder"));
	free(errs);
}

/* Services: rules and patterns compile when the file loads, or the error
 * names the file, line and rule. */
static void test_services(void **state)
{
	struct conf *conf = NULL;
	const char *T = "tenants = ( { name = \"a\"; domain = \"d\"; "
			"origins = [\"o\"]; allow_digest = true;\n";

	(void)state;
	char ok[512];
	snprintf(ok, sizeof ok, "%s services = { emergency = [ \"112\" ];\n"
		 " barred = [ \"^0900\" ];\n dial_plan = ( { match = \"^0(.+)$\";"
		 " replace = \"+49$1\"; } ); }; } );\n", T);
	assert_null(load_text(ok, &conf));
	assert_int_equal(conf->tenants[0].services.dial_plan_count, 1);
	assert_string_equal(conf->tenants[0].services.dial_plan[0].replace, "+49$1");
	assert_string_equal(conf->tenants[0].services.emergency[0], "112");
	conf_free(conf);

	char bad[512];
	snprintf(bad, sizeof bad, "%s services = {\n dial_plan = (\n"
		 "  { match = \"^0([1-9]+$\"; replace = \"+49$1\"; } ); }; } );\n", T);
	expect_error(bad, "t.conf:4: tenants[0].services.dial_plan[0].match: "
		     "'^0([1-9]+$' -> '+49$1': not a valid regular expression");
	snprintf(bad, sizeof bad, "%s services = { caller_display = (\n"
		 "  { match = \"^0$\"; replace = \"$2\"; } ); }; } );\n", T);
	expect_error(bad, "t.conf:3: tenants[0].services.caller_display[0].match: "
		     "'^0$' -> '$2': the replacement names a group");
	snprintf(bad, sizeof bad, "%s services = {\n barred = [ \"(\" ]; }; } );\n", T);
	expect_error(bad, "t.conf:3: tenants[0].services.barred: '(': not a valid");
	snprintf(bad, sizeof bad, "%s services = {\n emergency = [ \"sos\" ]; }; } );\n", T);
	expect_error(bad, "tenants[0].services.emergency: 'sos' is not a number");
}

static void test_trunks(void **state)
{
	struct conf *conf = NULL;

	(void)state;
	assert_null(load_text(TRUNK_BASE " } );\n" MINIMAL_TENANT, &conf));
	assert_int_equal(conf->trunk_count, 1);
	assert_int_equal(conf->trunks[0].mode_id, CONF_TRUNK_REGISTRATION);
	assert_int_equal(conf->trunks[0].register_expires, 600);
	assert_true(conf->trunks[0].strip_bundle);
	assert_true(conf->trunks[0].trusted);
	assert_non_null(conf_trunk_find(conf, "ims"));
	conf_free(conf);
	expect_error(TRUNK_BASE "  mode = \"gin\"; } );\n" MINIMAL_TENANT,
		     "t.conf:3: trunks[0].mode: must be registration or static");
	expect_error("trunks = ( { name = \"ims\"; pcscf = [ ];\n"
		     "  domain = \"d\"; mode = \"static\"; } );\n" MINIMAL_TENANT,
		     "trunks[0].pcscf: must list at least one P-CSCF");
	expect_error("trunks = ( { name = \"ims\"; pcscf = [ \"http://x\" ];\n"
		     "  domain = \"d\"; mode = \"static\"; } );\n" MINIMAL_TENANT,
		     "P-CSCFs must be sip: or sips: URIs");
	expect_error("trunks = ( { name = \"ims\"; pcscf = [ \"sip:p\" ];\n"
		     "  domain = \"d\"; } );\n" MINIMAL_TENANT,
		     "registration mode needs impu and impi");
	expect_error(TRUNK_BASE "  register_expires = 10; } );\n" MINIMAL_TENANT,
		     "t.conf:3: trunks[0].register_expires: 10 is out of range [60, 86400]");
	expect_error(TRUNK_BASE " } );\ntenants = ( { name = \"a\"; domain = \"d\";\n"
		     " origins = [\"o\"]; allow_digest = true; trunk = \"nope\"; } );\n",
		     "tenants[0].trunk: no trunk of that name");
}

static void test_all_errors_reported(void **state)
{
	char *errs;

	(void)state;
	errs = load_text("a = 1;\nb = 2;\nwebsocket = { ws_port = -1; };\n"
			 MINIMAL_TENANT, NULL);
	assert_non_null(errs);
	assert_non_null(strstr(errs, ":1: a: unknown key"));
	assert_non_null(strstr(errs, ":2: b: unknown key"));
	assert_non_null(strstr(errs, ":3: websocket.ws_port"));
	free(errs);
}

static void test_missing_file(void **state)
{
	struct conf *conf = NULL;
	char *errs = NULL;

	(void)state;
	assert_int_not_equal(conf_load("/nonexistent/x.conf", &conf, &errs), 0);
	assert_null(conf);
	assert_non_null(strstr(errs, "/nonexistent/x.conf: cannot open"));
	free(errs);
}

/* Every option of the schema appears in conf/wtpf.conf, which is valid. */
static void test_example_documents_everything(void **state)
{
	char *schema = NULL, *example = NULL, line[512], cmd[1024];
	size_t slen = 0, elen = 0;
	FILE *f;
	struct conf *conf = NULL;
	char *errs = NULL;

	(void)state;
	f = open_memstream(&schema, &slen);
	conf_schema_print(f);
	fclose(f);
	f = fopen(WTPF_SOURCE_DIR "/conf/wtpf.conf", "r");
	assert_non_null(f);
	example = calloc(1, 65536);
	elen = fread(example, 1, 65535, f);
	fclose(f);
	assert_true(elen > 0);
	FILE *s = fmemopen(schema, slen, "r");
	while (fgets(line, sizeof line, s)) {
		char key[256], *leaf;
		sscanf(line, "%255s", key);
		leaf = strrchr(key, '.');
		leaf = leaf ? leaf + 1 : key;
		if (strchr(leaf, '['))
			*strchr(leaf, '[') = '\0';
		char pat[300];
		snprintf(pat, sizeof pat, "%s =", leaf);
		if (!strstr(example, pat))
			fail_msg("conf/wtpf.conf does not document '%s'", key);
	}
	fclose(s);
	/* The example is valid once its TLS files exist (scripts/run makes them). */
	snprintf(cmd, sizeof cmd, "mkdir -p %s/conf/demo %s/run/tls %s/www && cp "
		 WTPF_SOURCE_DIR "/conf/wtpf.conf %s/conf/ && cp "
		 WTPF_SOURCE_DIR "/conf/demo/hs256.key "
		 WTPF_SOURCE_DIR "/conf/demo/admin.token %s/conf/demo/ && touch "
		 "%s/run/tls/cert.pem %s/run/tls/key.pem", tmpdir, tmpdir, tmpdir,
		 tmpdir, tmpdir, tmpdir, tmpdir);
	assert_int_equal(system(cmd), 0);
	snprintf(cmd, sizeof cmd, "%s/conf/wtpf.conf", tmpdir);
	if (conf_load(cmd, &conf, &errs))
		fail_msg("conf/wtpf.conf is invalid:\n%s", errs);
	assert_int_equal(conf->websocket.wss_port, 8443);
	conf_free(conf);
	free(schema);
	free(example);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_minimal_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_key_has_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_type, setup, teardown),
		cmocka_unit_test_setup_teardown(test_include_and_special_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_out_of_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_required, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_key_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_spelling, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_admin_token_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_changes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_syntax_error_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_semantic_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_all_errors_reported, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trunks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trunk_tls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_services, setup, teardown),
		cmocka_unit_test_setup_teardown(test_web_root, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_example_documents_everything, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
