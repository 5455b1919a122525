/**
 * @file ident.c  Identity sets from the configuration, the allocations
 * loaded from the store, and the look-ups the registrar and calls use.
 */
#include "ident_priv.h"
#include "conf/conf.h"
#include "store/store.h"
#include "util/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "set\nsubject", joined without a format: looked up on every REGISTER */
static char *subject_key(const char *set, const char *subject)
{
	return g_strconcat(set, "\n", subject, NULL);
}

struct id_alloc *id_alloc_by_subject(struct id_tenant *t, const char *set,
				     const char *subject)
{
	char *key = subject_key(set, subject);
	struct id_alloc *a = g_hash_table_lookup(t->by_subject, key);

	g_free(key);
	return a;
}

struct id_tenant *id_tenant_find(const struct ident *id, const char *name)
{
	for (size_t i = 0; name && i < id->ntenants; i++)
		if (!strcmp(id->tenants[i].name, name))
			return &id->tenants[i];
	return NULL;
}

struct id_set *id_set_find(struct id_tenant *t, const char *name)
{
	for (size_t i = 0; i < t->nsets; i++)
		if (!strcmp(t->sets[i].name, name))
			return &t->sets[i];
	return NULL;
}

struct id_alloc *id_alloc_insert(struct id_tenant *t, const struct id_alloc *a)
{
	struct id_alloc *n = g_memdup2(a, sizeof *a);
	struct id_set *s = id_set_find(t, a->set);

	g_hash_table_replace(t->by_number, n->number, n);
	g_hash_table_replace(t->by_subject, subject_key(a->set, a->subject), n);
	if (s)
		s->used++;
	if (n->hold_until)
		t->held++;
	return n;
}

void id_alloc_remove(struct id_tenant *t, struct id_alloc *a)
{
	struct id_set *s = id_set_find(t, a->set);
	char *key = subject_key(a->set, a->subject);

	if (s) {
		s->used--;
		s->cursor = 0;   /* a lower number may be free now */
	}
	if (a->hold_until)
		t->held--;
	if (g_hash_table_lookup(t->by_subject, key) == a)
		g_hash_table_remove(t->by_subject, key);
	g_free(key);
	g_hash_table_remove(t->by_number, a->number);   /* frees a */
}

/* ---- sets from the configuration ---------------------------------------- */

static int set_fill(struct id_set *s, const char *name, const char *trunk,
		    conf_strv_t ranges, const char *tenant)
{
	const char *why = "";
	size_t bad = 0;

	snprintf(s->name, sizeof s->name, "%s", name);
	snprintf(s->trunk, sizeof s->trunk, "%s", trunk);
	if (numrange_parse(&s->range, (const char *const *)ranges, &why, &bad)) {
		log_err("ident", 0, "tenant %s set %s: range '%s': %s", tenant,
			name, ranges[bad], why);
		return EINVAL;
	}
	return 0;
}

static void sets_free(struct id_set *sets, size_t n)
{
	for (size_t i = 0; i < n; i++)
		numrange_free(sets[i].range);
	free(sets);
}

/* "main" (trunk + ranges, when ranges are given), then identity_sets. */
static int sets_build(const struct conf *conf, const struct conf_tenant *ct,
		      struct id_set **setsp, size_t *np)
{
	bool main_set = ct->ranges && ct->ranges[0];
	size_t n = (main_set ? 1 : 0) + ct->idset_count, k = 0;
	struct id_set *sets = calloc(n ? n : 1, sizeof *sets);
	const char *trunk0 = conf->trunk_count ? conf->trunks[0].name : "";
	int err = 0;

	if (!sets)
		return ENOMEM;
	if (main_set) {
		err = set_fill(&sets[k], "main", *ct->trunk ? ct->trunk : trunk0,
			       ct->ranges, ct->name);
		sets[k].enabled = true;
		k++;
	}
	for (size_t i = 0; !err && i < ct->idset_count; i++, k++) {
		const struct conf_idset *c = &ct->idsets[i];
		err = set_fill(&sets[k], c->name, c->trunk, c->ranges, ct->name);
		sets[k].enabled = c->enabled;
		sets[k].anonymous = c->anonymous;
		sets[k].max = c->max_identities;
	}
	if (err) {
		sets_free(sets, n);
		return err;
	}
	*setsp = sets;
	*np = n;
	return 0;
}

static void tenant_count(struct id_tenant *t)
{
	GHashTableIter it;
	gpointer v;

	t->held = 0;
	for (size_t i = 0; i < t->nsets; i++)
		t->sets[i].used = 0;
	g_hash_table_iter_init(&it, t->by_number);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		struct id_alloc *a = v;
		struct id_set *s = id_set_find(t, a->set);
		if (s)
			s->used++;
		if (a->hold_until)
			t->held++;
	}
}

static void tenant_tables(struct id_tenant *t)
{
	t->by_number = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
	t->by_subject = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
}

static void tenants_free(struct id_tenant *ts, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		sets_free(ts[i].sets, ts[i].nsets);
		if (ts[i].by_subject)
			g_hash_table_destroy(ts[i].by_subject);
		if (ts[i].by_number)
			g_hash_table_destroy(ts[i].by_number);
	}
	free(ts);
}

/*
 * The tenants of @p conf, taking the allocation tables of @p old ones (same
 * name); old tenants gone from the configuration stay, without sets, until
 * their numbers' holds end.
 */
static int tenants_build(const struct conf *conf, struct id_tenant *old,
			 size_t nold, struct id_tenant **tsp, size_t *np)
{
	size_t n = conf->tenant_count, k;
	struct id_tenant *ts = calloc(n + nold + 1, sizeof *ts);
	int err = 0;

	if (!ts)
		return ENOMEM;
	for (k = 0; !err && k < n; k++) {
		const struct conf_tenant *ct = &conf->tenants[k];
		snprintf(ts[k].name, sizeof ts[k].name, "%s", ct->name);
		ts[k].conf = ct;
		err = sets_build(conf, ct, &ts[k].sets, &ts[k].nsets);
	}
	for (size_t i = 0; !err && i < nold; i++)
		if (!conf_tenant_find(conf, old[i].name) &&
		    g_hash_table_size(old[i].by_number)) {
			snprintf(ts[k].name, sizeof ts[k].name, "%s", old[i].name);
			k++;
		}
	if (err) {
		tenants_free(ts, k);
		return err;
	}
	*tsp = ts;
	*np = k;
	return 0;
}

/* Moves the allocation tables from @p old to the new tenants. */
static void tenants_adopt(struct id_tenant *ts, size_t n, struct id_tenant *old,
			  size_t nold)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < nold; j++) {
			if (strcmp(ts[i].name, old[j].name))
				continue;
			ts[i].by_number = old[j].by_number;
			ts[i].by_subject = old[j].by_subject;
			old[j].by_number = old[j].by_subject = NULL;
		}
		if (!ts[i].by_number)
			tenant_tables(&ts[i]);
		tenant_count(&ts[i]);
	}
}

/* ---- start ----------------------------------------------------------------- */

static int load_one(void *arg, const struct store_alloc *sa)
{
	struct ident *id = arg;
	struct id_tenant *t = id_tenant_find(id, sa->tenant);
	struct id_alloc a;
	long long now = (long long)time(NULL);

	if (!t) {
		/* a tenant that is no longer configured: kept for its hold */
		struct id_tenant *ts = realloc(id->tenants,
					       (id->ntenants + 1) * sizeof *ts);
		if (!ts)
			return ENOMEM;
		id->tenants = ts;
		t = &ts[id->ntenants++];
		memset(t, 0, sizeof *t);
		snprintf(t->name, sizeof t->name, "%s", sa->tenant);
		tenant_tables(t);
	}
	memset(&a, 0, sizeof a);
	if (strlen(sa->impu) >= sizeof a.number) {
		log_warn("ident", 0, "tenant %s: stored number '%s' too long: "
			 "ignored", sa->tenant, sa->impu);
		return 0;
	}
	g_strlcpy(a.number, sa->impu, sizeof a.number);
	g_strlcpy(a.set, sa->idset, sizeof a.set);
	g_strlcpy(a.subject, sa->subject, sizeof a.subject);
	a.created = sa->created;
	a.hold_until = sa->hold_until;
	if (!a.hold_until) {
		/* it was in use; no registration survived the restart */
		long long hold = t->conf ? t->conf->hold_time : 0;
		a.hold_until = now + (hold ? hold : 1);
		if (store_alloc_hold(id->store, sa->tenant, sa->impu, a.hold_until))
			return EIO;
	}
	id_alloc_insert(t, &a);
	return 0;
}

int ident_create(struct ident **idp, const struct conf *conf, struct store *st)
{
	struct ident *id = calloc(1, sizeof *id);
	size_t total = 0;
	int err;

	if (!id)
		return ENOMEM;
	id->store = st;
	id->conf = conf;
	err = tenants_build(conf, NULL, 0, &id->tenants, &id->ntenants);
	if (!err) {
		tenants_adopt(id->tenants, id->ntenants, NULL, 0);
		err = store_alloc_foreach(st, load_one, id);
	}
	if (!err)
		err = store_device_clear(st);
	if (err) {
		ident_destroy(id);
		return err;
	}
	for (size_t i = 0; i < id->ntenants; i++) {
		tenant_count(&id->tenants[i]);
		total += g_hash_table_size(id->tenants[i].by_number);
	}
	log_info("ident", 0, "%zu allocated identities loaded", total);
	*idp = id;
	return 0;
}

void ident_destroy(struct ident *id)
{
	if (!id)
		return;
	tenants_free(id->tenants, id->ntenants);
	free(id);
}

int ident_reload(struct ident *id, const struct conf *conf)
{
	struct id_tenant *ts = NULL;
	size_t n = 0;
	int err = tenants_build(conf, id->tenants, id->ntenants, &ts, &n);

	if (err)
		return err;
	tenants_adopt(ts, n, id->tenants, id->ntenants);
	tenants_free(id->tenants, id->ntenants);
	id->tenants = ts;
	id->ntenants = n;
	id->conf = conf;
	return 0;
}

/* ---- look-ups ---------------------------------------------------------------- */

bool ident_managed(const struct ident *id, const char *tenant)
{
	const struct id_tenant *t = id ? id_tenant_find(id, tenant) : NULL;

	return t && t->nsets;
}

static void grant_fill(struct ident_grant *g, const struct id_set *s,
		       const char *number, bool allocated)
{
	snprintf(g->number, sizeof g->number, "%s", number);
	snprintf(g->set, sizeof g->set, "%s", s->name);
	snprintf(g->trunk, sizeof g->trunk, "%s", s->trunk);
	g->allocated = allocated;
}

int ident_lookup(const struct ident *id, const char *tenant,
		 const char *number, struct ident_grant *out)
{
	struct id_tenant *t = id ? id_tenant_find(id, tenant) : NULL;
	char num[NUMRANGE_NUM_MAX];
	const struct id_set *disabled = NULL;

	if (!t || !numrange_norm(number, num))
		return ENOENT;
	for (size_t i = 0; i < t->nsets; i++) {
		const struct id_set *s = &t->sets[i];
		if (!numrange_contains(s->range, num))
			continue;
		if (!s->enabled) {
			disabled = s;
			continue;
		}
		grant_fill(out, s, num, g_hash_table_contains(t->by_number, num));
		return 0;
	}
	if (disabled) {
		grant_fill(out, disabled, num, false);
		return EPERM;
	}
	return ENOENT;
}

bool ident_trunk_wanted(const struct ident *id, const char *trunk)
{
	const char *trunk0 = id->conf->trunk_count ? id->conf->trunks[0].name : "";

	for (size_t i = 0; i < id->ntenants; i++) {
		const struct id_tenant *t = &id->tenants[i];
		if (!t->conf)
			continue;
		if (!t->nsets) {
			const char *tr = *t->conf->trunk ? t->conf->trunk : trunk0;
			if (!strcmp(tr, trunk))
				return true;
		}
		for (size_t k = 0; k < t->nsets; k++)
			if (t->sets[k].enabled && !strcmp(t->sets[k].trunk, trunk))
				return true;
	}
	return false;
}

size_t ident_count(const struct ident *id, const char *tenant, size_t *held)
{
	const struct id_tenant *t = id ? id_tenant_find(id, tenant) : NULL;

	if (held)
		*held = t ? t->held : 0;
	return t ? g_hash_table_size(t->by_number) : 0;
}

unsigned long ident_refused(const struct ident *id, const char *tenant)
{
	const struct id_tenant *t = id ? id_tenant_find(id, tenant) : NULL;

	return t ? t->refused : 0;
}
