/**
 * @file ctl_cmd_store.c  wtpfctl's commands about what the store keeps:
 * digest users, ring groups and their agents (pause, resume), and
 * diversion settings.
 */
#include "gateway/ctl/ctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

/* ---- users -------------------------------------------------------- */

/* The password of `user add`: --password, else one line of stdin (asked
 * for without echo on a terminal). Returns 0 or EX_USAGE. */
static int password_get(struct ctl *c, const char *name, char *buf, size_t size)
{
	struct termios old, quiet;
	bool tty = isatty(STDIN_FILENO) && !tcgetattr(STDIN_FILENO, &old);
	bool got;

	if (c->password) {
		snprintf(buf, size, "%s", c->password);
	} else {
		if (tty) {
			fprintf(stderr, "Password for %s: ", name);
			quiet = old;
			quiet.c_lflag &= ~(tcflag_t)ECHO;
			(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
		}
		got = fgets(buf, (int)size, stdin) != NULL;
		if (tty) {
			(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
			fputc('\n', stderr);
		}
		if (!got)
			*buf = '\0';
		buf[strcspn(buf, "\r\n")] = '\0';
	}
	if (!*buf) {
		ctl_err("no password given (--password, or a line on stdin)");
		return EX_USAGE;
	}
	return EX_DONE;
}

int ctl_cmd_user(struct ctl *c, int argc, char **argv)
{
	char path[768], pass[1024];
	json_t *body;
	int rc;

	if (argc != 3 || (strcmp(argv[0], "add") && strcmp(argv[0], "del")))
		return ctl_usage("usage: user add|del TENANT NAME");
	if (!strcmp(argv[0], "del")) {
		if (!ctl_path(path, sizeof path, "users", argv[1], argv[2],
			      (char *)NULL))
			return ctl_usage("name too long");
		return ctl_do(c, "DELETE", path, NULL,
			      "user {username} deleted from tenant {tenant}");
	}
	if ((rc = password_get(c, argv[2], pass, sizeof pass)))
		return rc;
	body = json_pack("{s:s, s:s, s:s}", "tenant", argv[1], "username",
			 argv[2], "password", pass);
	memset(pass, 0, sizeof pass);
	if (!body)
		return ctl_usage("tenant, name and password must be UTF-8");
	rc = ctl_do(c, "POST", "/api/users", body,
		    "user {username} added to tenant {tenant} (realm {realm})");
	json_decref(body);
	return rc;
}

/* ---- ring groups and agents --------------------------------------- */

static const struct ctl_col member_cols[] = {
	{ "MEMBER", "number", NULL }, { "STATE", "state", NULL },
	{ "CALLS", "calls", ctl_f_int }, { "DEVICES", "devices", ctl_f_int },
	{ "IDLE", "idle_seconds", ctl_f_dur }, { NULL },
};

/* A group's line, then its members' table. */
static void group_print(const json_t *g, bool first)
{
	char d1[32], d2[32], d3[32];

	printf("%s%s %s \"%s\": %s, %s per member, overflow after %s to %s, "
	       "wrap-up %s%s\n", first ? "" : "\n", ctl_js(g, "tenant"),
	       ctl_js(g, "number"), ctl_js(g, "name"), ctl_js(g, "strategy"),
	       ctl_dur(ctl_ji(g, "member_timeout"), d1, sizeof d1),
	       ctl_dur(ctl_ji(g, "timeout"), d2, sizeof d2),
	       *ctl_js(g, "overflow") ? ctl_js(g, "overflow") : "nobody (480)",
	       ctl_dur(ctl_ji(g, "wrap_up"), d3, sizeof d3),
	       json_is_true(json_object_get(g, "call_waiting")) ?
	       ", call waiting" : "");
	ctl_table(json_object_get(g, "members"), member_cols, "  ");
}

static void groups_show(const json_t *l, const void *arg)
{
	json_t *g;
	size_t i;

	(void)arg;
	if (!json_array_size(l))
		puts("no ring groups");
	json_array_foreach(l, i, g)
		group_print(g, !i);
}

int ctl_cmd_groups(struct ctl *c, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return ctl_show(c, "GET", "/api/groups", NULL, groups_show, NULL);
}

/* POST /api/agents/TENANT/NUMBER/VERB. */
static int agent(struct ctl *c, char **argv, const char *verb,
		 const char *tmpl)
{
	char path[768];

	if (!ctl_path(path, sizeof path, "agents", argv[0], argv[1], verb,
		      (char *)NULL))
		return ctl_usage("tenant or number too long");
	return ctl_do(c, "POST", path, NULL, tmpl);
}

int ctl_cmd_pause(struct ctl *c, int argc, char **argv)
{
	(void)argc;
	return agent(c, argv, "pause", "agent {number} of tenant {tenant} paused");
}

int ctl_cmd_resume(struct ctl *c, int argc, char **argv)
{
	(void)argc;
	return agent(c, argv, "resume",
		     "agent {number} of tenant {tenant} available again");
}

/* ---- diversion ---------------------------------------------------- */

static const char *const div_keys[] = { "unconditional", "busy", "no_answer",
					"not_reachable" };

static const struct ctl_col div_cols[] = {
	{ "TENANT", "tenant", NULL }, { "NUMBER", "identity", NULL },
	{ "SOURCE", "source", NULL },
	{ "UNCONDITIONAL", "unconditional", NULL }, { "BUSY", "busy", NULL },
	{ "NO ANSWER", "no_answer", NULL },
	{ "TIME", "no_answer_time", ctl_f_default },
	{ "NOT REACHABLE", "not_reachable", NULL }, { NULL },
};

static void diversion_show(const json_t *d, const void *arg)
{
	static const char *const labels[] = { "unconditional", "busy",
					      "no answer", "not reachable" };
	long long t = ctl_ji(d, "no_answer_time");

	(void)arg;
	printf("%s of tenant %s (from the %s)\n", ctl_js(d, "identity"),
	       ctl_js(d, "tenant"), !strcmp(ctl_js(d, "source"), "store") ?
	       "store" : "configuration");
	for (size_t i = 0; i < 4; i++) {
		const char *v = ctl_js(d, div_keys[i]);
		printf("  %-14s %s\n", labels[i], *v ? v : "-");
	}
	if (t)
		printf("  %-14s %llds\n", "no answer time", t);
	else
		printf("  %-14s the tenant's default\n", "no answer time");
}

/* Applies KEY=VALUE arguments to @p d. Returns 0 or EX_USAGE. */
static int diversion_apply(json_t *d, int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		const char *eq = strchr(argv[i], '=');
		size_t n = eq ? (size_t)(eq - argv[i]) : 0, k;
		if (!eq)
			return ctl_usage("'%s': expected KEY=VALUE", argv[i]);
		if ((n == 4 && !strncmp(argv[i], "time", 4)) ||
		    (n == 14 && !strncmp(argv[i], "no_answer_time", 14))) {
			char *e;
			long v = strtol(eq + 1, &e, 10);
			if (!eq[1] || *e || v < 0 || v > 3600)
				return ctl_usage("time: seconds 0..3600 (0: the "
						 "tenant's default), not '%s'", eq + 1);
			json_object_set_new(d, "no_answer_time", json_integer(v));
			continue;
		}
		for (k = 0; k < 4; k++)
			if (strlen(div_keys[k]) == n &&
			    !strncmp(argv[i], div_keys[k], n))
				break;
		if (k == 4)
			return ctl_usage("unknown key '%.*s' (unconditional, busy, "
					 "no_answer, not_reachable, time)",
					 (int)n, argv[i]);
		if (json_object_set_new(d, div_keys[k], json_string(eq + 1)))
			return ctl_usage("'%s' is not UTF-8", argv[i]);
	}
	return EX_DONE;
}

/* get, or set: GET the setting that applies (none on 404), and set:
 * change the keys given and PUT the result. */
static int diversion_get_set(struct ctl *c, const char *path, bool set,
			     int argc, char **argv)
{
	json_t *j = NULL, *d;
	int status = 0, rc = ctl_call(c, "GET", path, NULL, &j, set ? &status : NULL);

	if (rc && !(rc == EX_API && status == 404))
		return rc;
	if (set) {
		d = json_object();
		for (size_t k = 0; k < 4; k++)
			json_object_set_new(d, div_keys[k],
					    json_string(ctl_js(j, div_keys[k])));
		json_object_set_new(d, "no_answer_time",
				    json_integer(ctl_ji(j, "no_answer_time")));
		json_decref(j);
		j = NULL;
		rc = diversion_apply(d, argc, argv);
		if (!rc)
			rc = ctl_call(c, "PUT", path, d, &j, NULL);
		json_decref(d);
		if (rc)
			return rc;
	}
	ctl_output(c, j, diversion_show, NULL);
	return EX_DONE;
}

int ctl_cmd_diversion(struct ctl *c, int argc, char **argv)
{
	static const struct ctl_list l = { "diversions", "no diversions", div_cols };
	char path[768];
	const char *op = argc ? argv[0] : "";
	bool set = !strcmp(op, "set");

	if (!strcmp(op, "list")) {
		if (argc > 2)
			return ctl_usage("usage: diversion list [TENANT]");
		return ctl_list(c, &l, argc == 2 ? argv[1] : NULL);
	}
	if (strcmp(op, "get") && !set && strcmp(op, "del"))
		return ctl_usage("usage: diversion list|get|set|del ...");
	if (argc < 3 || (set ? argc < 4 : argc != 3))
		return ctl_usage("usage: diversion %s TENANT NUMBER%s", op,
				 set ? " KEY=VALUE..." : "");
	if (!ctl_path(path, sizeof path, "diversions", argv[1], argv[2],
		      (char *)NULL))
		return ctl_usage("tenant or number too long");
	if (!strcmp(op, "del"))
		return ctl_do(c, "DELETE", path, NULL, "stored diversion of "
			      "{identity} in tenant {tenant} deleted");
	return diversion_get_set(c, path, set, argc - 3, argv + 3);
}
