/**
 * @file ctl_print.c  wtpfctl's tables: a JSON array printed through a
 * table of columns (title, member, formatter), each column as wide as its
 * widest cell, "-" for an empty one; and the listing commands built on it.
 */
#include "gateway/ctl/ctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CTL_CELL 1024   /* longest cell printed */

const char *ctl_dur(long long secs, char *b, size_t n)
{
	if (secs < 0)
		snprintf(b, n, "-");
	else if (secs < 60)
		snprintf(b, n, "%llds", secs);
	else if (secs < 3600)
		snprintf(b, n, "%lldm%02llds", secs / 60, secs % 60);
	else if (secs < 86400)
		snprintf(b, n, "%lldh%02lldm", secs / 3600, secs % 3600 / 60);
	else
		snprintf(b, n, "%lldd%02lldh", secs / 86400, secs % 86400 / 3600);
	return b;
}

const char *ctl_f_int(const json_t *row, const char *key, char *b, size_t n)
{
	snprintf(b, n, "%lld", ctl_ji(row, key));
	return b;
}

const char *ctl_f_dur(const json_t *row, const char *key, char *b, size_t n)
{
	return ctl_dur(ctl_ji(row, key), b, n);
}

const char *ctl_f_since(const json_t *row, const char *key, char *b, size_t n)
{
	long long t = ctl_ji(row, key);

	return t ? ctl_dur((long long)time(NULL) - t, b, n) : "";
}

const char *ctl_f_talk(const json_t *row, const char *key, char *b, size_t n)
{
	long long a = ctl_ji(row, key);

	return a ? ctl_dur((ctl_ji(row, "ended") - a) / 1000, b, n) : "";
}

const char *ctl_f_join(const json_t *row, const char *key, char *b, size_t n)
{
	size_t k, len = 0;
	json_t *x;

	*b = '\0';
	json_array_foreach(json_object_get(row, key), k, x)
		if (len < n)
			len += (size_t)snprintf(b + len, n - len, "%s%s", k ? "," : "",
						json_string_value(x) ?
						json_string_value(x) : "");
	return b;
}

const char *ctl_f_limit(const json_t *row, const char *key, char *b, size_t n)
{
	return ctl_ji(row, key) ? ctl_f_int(row, key, b, n) : "no limit";
}

const char *ctl_f_default(const json_t *row, const char *key, char *b, size_t n)
{
	return ctl_ji(row, key) ? ctl_f_int(row, key, b, n) : "default";
}

/* The cell of @p col in @p row (malloc'd; "-" when empty). */
static char *cell(const json_t *row, const struct ctl_col *col)
{
	char buf[CTL_CELL];
	const char *s = col->fmt ? col->fmt(row, col->key, buf, sizeof buf)
				 : ctl_js(row, col->key);

	return strdup(s && *s ? s : "-");
}

void ctl_table(const json_t *rows, const struct ctl_col *cols,
	       const char *indent)
{
	size_t ncol = 0, nrow = json_array_size(rows) + 1, *w;
	char **cells;

	while (cols[ncol].title)
		ncol++;
	w = calloc(ncol, sizeof *w);
	cells = calloc(nrow * ncol, sizeof *cells);
	if (!w || !cells) {
		ctl_err("out of memory");
		exit(EX_API);
	}
	for (size_t r = 0; r < nrow; r++)
		for (size_t i = 0; i < ncol; i++) {
			char *s = r ? cell(json_array_get(rows, r - 1), &cols[i])
				    : strdup(cols[i].title);
			size_t len = s ? strlen(s) : 0;
			cells[r * ncol + i] = s;
			if (len > w[i])
				w[i] = len;
		}
	for (size_t r = 0; r < nrow; r++) {
		fputs(indent, stdout);
		for (size_t i = 0; i < ncol; i++) {
			const char *s = cells[r * ncol + i] ? cells[r * ncol + i] : "-";
			if (i + 1 < ncol)
				printf("%-*s  ", (int)w[i], s);
			else
				printf("%s\n", s);
		}
	}
	for (size_t k = 0; k < nrow * ncol; k++)
		free(cells[k]);
	free(cells);
	free(w);
}

void ctl_list_show(const json_t *j, const void *arg)
{
	const struct ctl_list *l = arg;

	if (json_array_size(j))
		ctl_table(j, l->cols, "");
	else
		puts(l->empty);
}

int ctl_list(struct ctl *c, const struct ctl_list *l, const char *tenant)
{
	char path[512];

	if (!ctl_path_query(path, sizeof path, l->path, tenant, NULL))
		return ctl_usage("tenant name too long");
	return ctl_show(c, "GET", path, NULL, ctl_list_show, l);
}
