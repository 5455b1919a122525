/**
 * @file conf_priv.h  Private to conf/: the schema table and the walker.
 */
#ifndef WTPF_CONF_PRIV_H
#define WTPF_CONF_PRIV_H

#include "conf.h"

#include <libconfig.h>
#include <stddef.h>

enum conf_type {
	CT_INT,    /**< int, with bounds */
	CT_BOOL,   /**< bool */
	CT_STR,    /**< char *, malloc'd */
	CT_PATH,   /**< char *, relative paths resolved against the file's folder */
	CT_STRV,   /**< conf_strv_t from an array or list of strings */
	CT_GROUP,  /**< an embedded struct described by .sub */
	CT_LIST,   /**< a malloc'd array of structs (.sub, .elem_size, .count_off) */
};

/** One option of the schema. Tables end with a row whose name is NULL. */
struct conf_opt {
	const char *name;
	enum conf_type type;
	size_t off;                      /**< where the value lands in its struct */
	int required;
	long def_int;
	const char *def_str;
	const char *const *def_strv;
	long min, max;
	const struct conf_opt *sub;
	size_t elem_size, count_off;
	const char *doc;
	int restart;                     /**< read only at start: a reload keeps
					      the running value (a group or list:
					      every member) */
};

/** State of one load: the file, its folder, and the errors so far. */
struct conf_ctx {
	const char *path;
	char *base_dir;
	char *errs;
	int nerr;
	const config_setting_t *anchor;  /**< the innermost group present in the
					      file, where a missing key is reported */
	conf_key_check_h *key_check;     /**< loads an issuer's key file, or NULL */
};

extern const struct conf_opt conf_root_opts[];

void conf_errs_append(struct conf_ctx *cx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void conf_err(struct conf_ctx *cx, const config_setting_t *s, const char *key,
	      const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void conf_walk_group(struct conf_ctx *cx, const config_setting_t *group,
		     const char *parent, const struct conf_opt *opts, void *obj);
void conf_set_value(struct conf_ctx *cx, const config_setting_t *s,
		    const char *key, const struct conf_opt *o, void *obj);
void conf_free_group(const struct conf_opt *opts, void *obj);
char *conf_dir_of(const char *path);
void conf_check(struct conf_ctx *cx, const config_setting_t *root,
		struct conf *conf);

#endif
