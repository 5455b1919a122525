/**
 * @file ctl.h  Shared by wtpfctl's parts (private to gateway/ctl/): the
 * state of one run, finding the gateway (ctl_locate.c), calling the API
 * and saying what it answered (ctl_api.c), tables (ctl_print.c), and the
 * commands (ctl_cmd_run.c: what runs; ctl_cmd_store.c: what is kept).
 *
 * Every function that fails prints why on stderr ("wtpfctl: ...") and
 * returns the exit status: EX_API, EX_USAGE or EX_UNREACHABLE.
 */
#ifndef WTPF_CTL_H
#define WTPF_CTL_H

#include "gateway/ctl/ctl_http.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

enum { EX_DONE = 0, EX_API = 1, EX_USAGE = 2, EX_UNREACHABLE = 3 };

#define CTL_DEFAULT_CONF "conf/wtpf.conf"

/** One run of wtpfctl. */
struct ctl {
	struct ctl_target t;
	char *token;              /**< malloc'd, or NULL: none sent */
	bool json;                /**< --json: the API's JSON, not tables */
	const char *password;     /**< --password, or NULL: stdin */
};

/** A command: its name, usage line and argument count, and its code
 *  (argv: the arguments after the name). */
struct ctl_cmd {
	const char *name;
	const char *usage;
	int min_args, max_args;
	int (*run)(struct ctl *c, int argc, char **argv);
};

/* wtpfctl.c */

/** "wtpfctl: MESSAGE" on stderr. */
void ctl_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/** ctl_err() and a pointer to --help. Returns EX_USAGE. */
int ctl_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ctl_locate.c */

/**
 * Fills @p c's target and token. With @p given (-c FILE), both come from
 * @p file; WTPF_ADMIN_TOKEN stands in for a token file that is not named
 * or cannot be read. Without, WTPF_ADMIN_URL and WTPF_ADMIN_TOKEN each
 * replace their own value, and @p file (the default) gives the other one.
 * Returns 0 or an exit status.
 */
int ctl_locate(struct ctl *c, const char *file, bool given);

/* ctl_api.c */

/**
 * One request. Returns 0 with the answer's JSON in @p *out (the caller
 * decrefs; @p out may be NULL), EX_API after printing the gateway's error,
 * or EX_UNREACHABLE after saying why. When @p status is not NULL it gets
 * the HTTP status, and a 404 is left unprinted for the caller to handle.
 */
int ctl_call(struct ctl *c, const char *method, const char *path,
	     const json_t *body, json_t **out, int *status);

/**
 * "/api/BASE/SEG/SEG..." with each segment (NULL-terminated list)
 * percent-encoded, into @p out. False when it does not fit.
 */
bool ctl_path(char *out, size_t size, const char *base, ...)
	__attribute__((sentinel));

/**
 * "/api/BASE", then "?tenant=TENANT" when @p tenant is not NULL, then
 * @p query ("k=v&k=v", already encoded) when not NULL. False when it does
 * not fit.
 */
bool ctl_path_query(char *out, size_t size, const char *base,
		    const char *tenant, const char *query);

/** @p j as indented JSON on stdout. */
void ctl_print_json(const json_t *j);

/** Prints an answer @p j for people; @p arg as given with it. */
typedef void (ctl_show_f)(const json_t *j, const void *arg);

/** Prints @p j: its JSON with --json, else with @p show. Decrefs @p j. */
void ctl_output(struct ctl *c, json_t *j, ctl_show_f *show, const void *arg);

/**
 * Sends @p method @p path with @p body (may be NULL) and prints the answer
 * with ctl_output(). Returns 0 or an exit status.
 */
int ctl_show(struct ctl *c, const char *method, const char *path,
	     const json_t *body, ctl_show_f *show, const void *arg);

/**
 * ctl_show() with a line for people: @p tmpl with each "{key}" replaced by
 * the answer's member @p key (a string, or an integer).
 */
int ctl_do(struct ctl *c, const char *method, const char *path,
	   const json_t *body, const char *tmpl);

/** The string member @p key of @p o, "" when absent. */
const char *ctl_js(const json_t *o, const char *key);

/** The integer member @p key of @p o, 0 when absent. */
long long ctl_ji(const json_t *o, const char *key);

/* ctl_print.c */

/** Formats member @p key of @p row into @p buf, or returns a constant. */
typedef const char *(ctl_fmt_f)(const json_t *row, const char *key,
				char *buf, size_t size);

/** A column of a table: its title, the member it shows and how (NULL: the
 *  member as text). Tables end with a column whose title is NULL. */
struct ctl_col {
	const char *title;
	const char *key;
	ctl_fmt_f *fmt;
};

/* Formatters. An empty result prints as "-". */
ctl_fmt_f ctl_f_int;      /**< the integer */
ctl_fmt_f ctl_f_dur;      /**< seconds as 42s, 5m03s, 2h05m, 3d04h; <0: - */
ctl_fmt_f ctl_f_since;    /**< the time since a Unix time; 0: - */
ctl_fmt_f ctl_f_talk;     /**< record: answered (ms) to ended; unanswered: - */
ctl_fmt_f ctl_f_join;     /**< an array of strings, joined with commas */
ctl_fmt_f ctl_f_limit;    /**< an integer; 0: "no limit" */
ctl_fmt_f ctl_f_default;  /**< an integer; 0: "default" */

/** @p secs as "42s", "5m03s", "2h05m" or "3d04h" ("-" when negative). */
const char *ctl_dur(long long secs, char *buf, size_t size);

/**
 * Prints the array @p rows as a table of @p cols, a header line first,
 * every line after @p indent, the columns as wide as their widest cell.
 */
void ctl_table(const json_t *rows, const struct ctl_col *cols,
	       const char *indent);

/** What a listing command shows: GET /api/PATH as a table of cols, or
 *  @p empty when the list is. */
struct ctl_list {
	const char *path;
	const char *empty;
	const struct ctl_col *cols;
};

/** ctl_show_f of a list: @p j as a table, or the line @p l->empty. */
void ctl_list_show(const json_t *j, const void *l);

/**
 * GET /api/PATH (with ?tenant= when @p tenant is not NULL), printed as
 * @p l says, or as JSON. Returns 0 or an exit status.
 */
int ctl_list(struct ctl *c, const struct ctl_list *l, const char *tenant);

/* ctl_cmd_run.c and ctl_cmd_store.c: the commands' code */
int ctl_cmd_status(struct ctl *c, int argc, char **argv);
int ctl_cmd_registrations(struct ctl *c, int argc, char **argv);
int ctl_cmd_calls(struct ctl *c, int argc, char **argv);
int ctl_cmd_hangup(struct ctl *c, int argc, char **argv);
int ctl_cmd_cdrs(struct ctl *c, int argc, char **argv);
int ctl_cmd_tenants(struct ctl *c, int argc, char **argv);
int ctl_cmd_reload(struct ctl *c, int argc, char **argv);
int ctl_cmd_identities(struct ctl *c, int argc, char **argv);
int ctl_cmd_user(struct ctl *c, int argc, char **argv);
int ctl_cmd_groups(struct ctl *c, int argc, char **argv);
int ctl_cmd_pause(struct ctl *c, int argc, char **argv);
int ctl_cmd_resume(struct ctl *c, int argc, char **argv);
int ctl_cmd_diversion(struct ctl *c, int argc, char **argv);

#endif
