/**
 * @file api_priv.h  Shared by the admin API's files (private to
 * gateway/admin/).
 */
#ifndef WTPF_API_PRIV_H
#define WTPF_API_PRIV_H

#include "admin.h"
#include "api.h"

#include <jansson.h>

struct conf_tenant;

/** The value of @p key in the query (g_free it), or NULL. */
char *api_query(const struct admin_req *rq, const char *key);

/** The tenant called @p name, or NULL after answering 404. */
const struct conf_tenant *api_tenant(struct api_src *src, const char *name,
				     struct admin_resp *rs);

/* api_store.c */
admin_route_h api_identities, api_user_add, api_user_del, api_groups,
	      api_agent_pause, api_agent_resume, api_diversions,
	      api_diversion_get, api_diversion_put, api_diversion_del;

/* api_cdr.c */
admin_route_h api_cdrs;

#endif
