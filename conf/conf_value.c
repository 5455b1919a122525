/**
 * @file conf_value.c  Reading one option's value (or its default) into the
 * configuration struct, and freeing what was read.
 */
#include "conf.h"
#include "conf_priv.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AT(obj, off, type) ((type *)((char *)(obj) + (off)))

static const char *type_name(enum conf_type t)
{
	switch (t) {
	case CT_INT: return "an integer";
	case CT_BOOL: return "a boolean (true/false)";
	case CT_STR: case CT_PATH: return "a string";
	case CT_STRV: return "an array of strings";
	case CT_GROUP: return "a group { ... }";
	case CT_LIST: return "a list ( { ... }, ... )";
	}
	return "?";
}

char *conf_dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return strdup(".");
	return strndup(path, (size_t)(slash - path) ? (size_t)(slash - path) : 1);
}

static char *path_resolve(const struct conf_ctx *cx, const char *v)
{
	char *out = NULL;

	if (!*v || *v == '/' || !cx->base_dir)
		return strdup(v);
	if (asprintf(&out, "%s/%s", cx->base_dir, v) < 0)
		return NULL;
	return out;
}

static conf_strv_t strv_dup(const char *const *src)
{
	size_t n = 0;
	conf_strv_t v;

	while (src && src[n])
		n++;
	v = calloc(n + 1, sizeof *v);
	for (size_t i = 0; v && i < n; i++)
		v[i] = strdup(src[i]);
	return v;
}

static void set_int(struct conf_ctx *cx, const config_setting_t *s,
		    const char *key, const struct conf_opt *o, void *obj)
{
	long long v = o->def_int;

	if (s) {
		int t = config_setting_type(s);
		if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64) {
			conf_err(cx, s, key, "must be %s", type_name(o->type));
			return;
		}
		v = config_setting_get_int64(s);
		if (v < o->min || v > o->max) {
			conf_err(cx, s, key, "%lld is out of range [%ld, %ld]",
				 v, o->min, o->max);
			return;
		}
	}
	*AT(obj, o->off, int) = (int)v;
}

static void set_bool(struct conf_ctx *cx, const config_setting_t *s,
		     const char *key, const struct conf_opt *o, void *obj)
{
	bool v = o->def_int != 0;

	if (s) {
		if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
			conf_err(cx, s, key, "must be %s", type_name(o->type));
			return;
		}
		v = config_setting_get_bool(s);
	}
	*AT(obj, o->off, bool) = v;
}

static void set_str(struct conf_ctx *cx, const config_setting_t *s,
		    const char *key, const struct conf_opt *o, void *obj)
{
	const char *v = o->def_str ? o->def_str : "";

	if (s) {
		if (config_setting_type(s) != CONFIG_TYPE_STRING) {
			conf_err(cx, s, key, "must be %s", type_name(o->type));
			return;
		}
		v = config_setting_get_string(s);
	}
	*AT(obj, o->off, char *) = o->type == CT_PATH ? path_resolve(cx, v)
						      : strdup(v);
}

static void set_strv(struct conf_ctx *cx, const config_setting_t *s,
		     const char *key, const struct conf_opt *o, void *obj)
{
	int t, n;
	conf_strv_t v;

	if (!s) {
		*AT(obj, o->off, conf_strv_t) = strv_dup(o->def_strv);
		return;
	}
	t = config_setting_type(s);
	if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST) {
		conf_err(cx, s, key, "must be %s", type_name(o->type));
		return;
	}
	n = config_setting_length(s);
	v = calloc((size_t)n + 1, sizeof *v);
	*AT(obj, o->off, conf_strv_t) = v;
	for (int i = 0; v && i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			conf_err(cx, e, key, "element %d must be a string", i);
			return;
		}
		v[i] = strdup(config_setting_get_string(e));
	}
}

static void set_list(struct conf_ctx *cx, const config_setting_t *s,
		     const char *key, const struct conf_opt *o, void *obj)
{
	char ekey[256];
	char *arr;
	int n;

	*AT(obj, o->count_off, size_t) = 0;
	*AT(obj, o->off, void *) = NULL;
	if (!s)
		return;
	if (config_setting_type(s) != CONFIG_TYPE_LIST) {
		conf_err(cx, s, key, "must be %s", type_name(o->type));
		return;
	}
	n = config_setting_length(s);
	arr = calloc((size_t)n + 1, o->elem_size);
	if (!arr)
		return;
	*AT(obj, o->off, void *) = arr;
	*AT(obj, o->count_off, size_t) = (size_t)n;
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		snprintf(ekey, sizeof ekey, "%s[%d]", key, i);
		if (config_setting_type(e) != CONFIG_TYPE_GROUP) {
			conf_err(cx, e, ekey, "must be a group { ... }");
			continue;
		}
		conf_walk_group(cx, e, ekey, o->sub, arr + (size_t)i * o->elem_size);
	}
}

void conf_set_value(struct conf_ctx *cx, const config_setting_t *s,
		    const char *key, const struct conf_opt *o, void *obj)
{
	switch (o->type) {
	case CT_INT: set_int(cx, s, key, o, obj); break;
	case CT_BOOL: set_bool(cx, s, key, o, obj); break;
	case CT_STR: case CT_PATH: set_str(cx, s, key, o, obj); break;
	case CT_STRV: set_strv(cx, s, key, o, obj); break;
	case CT_LIST: set_list(cx, s, key, o, obj); break;
	case CT_GROUP:
		if (s && config_setting_type(s) != CONFIG_TYPE_GROUP) {
			conf_err(cx, s, key, "must be %s", type_name(o->type));
			s = NULL;
		}
		conf_walk_group(cx, s, key, o->sub, AT(obj, o->off, char));
		break;
	}
}

void conf_free_group(const struct conf_opt *opts, void *obj)
{
	for (const struct conf_opt *o = opts; o->name; o++) {
		switch (o->type) {
		case CT_STR: case CT_PATH:
			free(*AT(obj, o->off, char *));
			break;
		case CT_STRV: {
			conf_strv_t v = *AT(obj, o->off, conf_strv_t);
			for (size_t i = 0; v && v[i]; i++)
				free(v[i]);
			free(v);
			break;
		}
		case CT_GROUP:
			conf_free_group(o->sub, AT(obj, o->off, char));
			break;
		case CT_LIST: {
			char *arr = *AT(obj, o->off, char *);
			size_t n = *AT(obj, o->count_off, size_t);
			for (size_t i = 0; arr && i < n; i++)
				conf_free_group(o->sub, arr + i * o->elem_size);
			free(arr);
			break;
		}
		default:
			break;
		}
	}
}

void conf_free(struct conf *conf)
{
	if (!conf)
		return;
	conf_free_group(conf_root_opts, conf);
	free(conf->file);
	free(conf);
}

static bool strv_same(conf_strv_t a, conf_strv_t b)
{
	size_t i = 0;

	for (; a && b && a[i] && b[i]; i++)
		if (strcmp(a[i], b[i]))
			return false;
	return (!a || !a[i]) && (!b || !b[i]);
}

/* True when option @p o holds the same value in @p a and @p b (scalars;
 * groups and lists are walked by the caller). */
static bool value_same(const struct conf_opt *o, const void *a, const void *b)
{
	switch (o->type) {
	case CT_INT:
		return *AT(a, o->off, const int) == *AT(b, o->off, const int);
	case CT_BOOL:
		return *AT(a, o->off, const bool) == *AT(b, o->off, const bool);
	case CT_STR: case CT_PATH: {
		const char *x = *AT(a, o->off, char *const), *y = *AT(b, o->off, char *const);
		return !strcmp(x ? x : "", y ? y : "");
	}
	case CT_STRV:
		return strv_same(*AT(a, o->off, const conf_strv_t),
				 *AT(b, o->off, const conf_strv_t));
	default:
		return true;
	}
}

static void restart_walk(const struct conf_opt *opts, const void *a,
			 const void *b, const char *parent, bool restart,
			 conf_key_h *fn, void *arg)
{
	char key[256];

	for (const struct conf_opt *o = opts; o->name; o++) {
		bool r = restart || o->restart;
		snprintf(key, sizeof key, "%s%s%s", parent, *parent ? "." : "",
			 o->name);
		if (o->type == CT_GROUP) {
			restart_walk(o->sub, AT(a, o->off, const char),
				     AT(b, o->off, const char), key, r, fn, arg);
		} else if (o->type == CT_LIST) {
			const char *xa = *AT(a, o->off, char *const);
			const char *xb = *AT(b, o->off, char *const);
			size_t na = *AT(a, o->count_off, const size_t);
			size_t nb = *AT(b, o->count_off, const size_t);
			if (na != nb && r) {
				fn(arg, key);
				continue;
			}
			for (size_t i = 0; i < na && i < nb; i++) {
				char ekey[300];
				snprintf(ekey, sizeof ekey, "%s[%zu]", key, i);
				restart_walk(o->sub, xa + i * o->elem_size,
					     xb + i * o->elem_size, ekey, r, fn, arg);
			}
		} else if (r && !value_same(o, a, b)) {
			fn(arg, key);
		}
	}
}

void conf_restart_changes(const struct conf *running, const struct conf *loaded,
			  conf_key_h *fn, void *arg)
{
	restart_walk(conf_root_opts, running, loaded, "", false, fn, arg);
}

bool conf_strv_has(conf_strv_t v, const char *s)
{
	for (size_t i = 0; v && s && v[i]; i++)
		if (!strcmp(v[i], s))
			return true;
	return false;
}

const struct conf_tenant *conf_tenant_find(const struct conf *conf,
					   const char *name)
{
	for (size_t i = 0; i < conf->tenant_count; i++)
		if (!strcmp(conf->tenants[i].name, name))
			return &conf->tenants[i];
	return NULL;
}

const struct conf_trunk *conf_trunk_find(const struct conf *conf,
					 const char *name)
{
	for (size_t i = 0; i < conf->trunk_count; i++)
		if (!strcmp(conf->trunks[i].name, name))
			return &conf->trunks[i];
	return NULL;
}
