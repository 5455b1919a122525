/**
 * @file ident_alloc.c  Handing numbers out, holding and freeing them. The
 * store is written first; memory follows only when the store agreed.
 */
#include "ident_priv.h"
#include "conf/conf.h"
#include "store/store.h"
#include "util/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Marks @p a in use (ends its hold). */
static int alloc_use(struct ident *id, struct id_tenant *t, struct id_alloc *a)
{
	if (!a->hold_until)
		return 0;
	if (store_alloc_hold(id->store, t->name, a->number, 0))
		return EIO;
	a->hold_until = 0;
	t->held--;
	return 0;
}

static int alloc_drop(struct ident *id, struct id_tenant *t, struct id_alloc *a)
{
	int err = store_alloc_del(id->store, t->name, a->number);

	if (err && err != ENOENT)
		return EIO;
	id_alloc_remove(t, a);
	return 0;
}

/* Room in the tenant and the set for one more? */
static bool has_room(const struct id_tenant *t, const struct id_set *s,
		     const char **why)
{
	int tmax = t->conf ? t->conf->max_identities : 0;

	if (tmax && g_hash_table_size(t->by_number) >= (guint)tmax) {
		*why = "tenant identity limit reached";
		return false;
	}
	if (s->max && s->used >= (size_t)s->max) {
		*why = "identity set limit reached";
		return false;
	}
	return true;
}

static int alloc_add(struct ident *id, struct id_tenant *t, struct id_set *s,
		     const char *number, const char *subject,
		     struct id_alloc **out)
{
	struct store_alloc sa;
	struct id_alloc a;
	int err;

	memset(&sa, 0, sizeof sa);
	snprintf(sa.tenant, sizeof sa.tenant, "%s", t->name);
	snprintf(sa.idset, sizeof sa.idset, "%s", s->name);
	snprintf(sa.impu, sizeof sa.impu, "%s", number);
	snprintf(sa.subject, sizeof sa.subject, "%s", subject);
	sa.created = (long long)time(NULL);
	err = store_alloc_add(id->store, &sa);
	if (err)
		return err;
	memset(&a, 0, sizeof a);
	snprintf(a.number, sizeof a.number, "%s", number);
	snprintf(a.set, sizeof a.set, "%s", s->name);
	snprintf(a.subject, sizeof a.subject, "%s", subject);
	a.created = sa.created;
	*out = id_alloc_insert(t, &a);
	return 0;
}

/* Counts the store's rows of one tenant (see set_allocate()). */
struct rows_of {
	const char *tenant;
	unsigned long long n;
};

static int count_rows(void *arg, const struct store_alloc *sa)
{
	struct rows_of *r = arg;

	if (!strcmp(sa->tenant, r->tenant))
		r->n++;
	return 0;
}

/*
 * A free number of @p s, for @p subject. Sequential: the lowest free (every
 * index below the cursor is taken). Random: a random index, then the next
 * free one. Among (allocated + specs + 1) candidates one is free when the
 * set has room, which bounds the search. Numbers taken by another process
 * sharing the store are not in our count: the first one met (EEXIST) makes
 * the bound the store's count of the tenant's allocations instead.
 */
static int set_allocate(struct ident *id, struct id_tenant *t, struct id_set *s,
			const char *subject, struct id_alloc **out,
			const char **why)
{
	unsigned long long size = numrange_size(s->range), idx, tries;
	bool random = t->conf && t->conf->alloc_id == CONF_ALLOC_RANDOM;
	char num[NUMRANGE_NUM_MAX];
	bool recounted = false;

	tries = g_hash_table_size(t->by_number) + numrange_count(s->range) + 1;
	if (tries > size)
		tries = size;
	idx = random ? (unsigned long long)(g_random_double() * (double)size)
		     : s->cursor;
	for (unsigned long long i = 0; i < tries; i++, idx++) {
		int err;
		if (idx >= size)
			idx = 0;
		if (numrange_nth(s->range, idx, num) ||
		    g_hash_table_contains(t->by_number, num))
			continue;
		err = alloc_add(id, t, s, num, subject, out);
		if (err == EEXIST) {
			/* taken by another process sharing the store */
			struct rows_of r = { t->name, 0 };
			if (recounted ||
			    store_alloc_foreach(id->store, count_rows, &r))
				continue;
			recounted = true;
			r.n += numrange_count(s->range) + 1;
			if (r.n > tries)
				tries = r.n < size ? r.n : size;
			continue;
		}
		if (err) {
			*why = "store failure";
			return EIO;
		}
		if (!random)
			s->cursor = idx + 1;
		return 0;
	}
	if (!random)
		s->cursor = size;
	*why = "no free identity left in the range";
	return ENOSPC;
}

static int acquire_allocated(struct ident *id, struct id_tenant *t,
			     const char *subject, bool anonymous,
			     struct ident_grant *out, const char **why)
{
	struct id_alloc *a = NULL;
	struct id_set *s;
	int err = ENOSPC;

	*why = anonymous ? "no anonymous identity set" : "no identity set";
	/* The user's own number, in the first enabled set that has one. */
	for (size_t i = 0; i < t->nsets; i++) {
		s = &t->sets[i];
		if (!s->enabled || s->anonymous != anonymous ||
		    !(a = id_alloc_by_subject(t, s->name, subject)))
			continue;
		if (alloc_use(id, t, a)) {
			*why = "store failure";
			return EIO;
		}
		g_strlcpy(out->number, a->number, sizeof out->number);
		g_strlcpy(out->set, s->name, sizeof out->set);
		g_strlcpy(out->trunk, s->trunk, sizeof out->trunk);
		out->allocated = true;
		return 0;
	}
	for (size_t i = 0; i < t->nsets; i++) {
		s = &t->sets[i];
		if (!s->enabled || s->anonymous != anonymous)
			continue;
		if (!has_room(t, s, why)) {
			err = ENOSPC;
			if (!t->conf || !t->conf->max_identities ||
			    g_hash_table_size(t->by_number) <
			    (guint)t->conf->max_identities)
				continue;   /* this set is full; the next may do */
			return err;
		}
		err = set_allocate(id, t, s, subject, &a, why);
		if (err == ENOSPC)
			continue;
		if (err)
			return err;
		snprintf(out->number, sizeof out->number, "%s", a->number);
		snprintf(out->set, sizeof out->set, "%s", s->name);
		snprintf(out->trunk, sizeof out->trunk, "%s", s->trunk);
		out->allocated = true;
		out->fresh = true;
		log_info("ident", 0, "tenant %s: %s allocated to %s (set %s)",
			 t->name, a->number, subject, s->name);
		return 0;
	}
	return err;
}

/* The set a claimed number lies in: the first enabled one. Anonymous
 * pools are for users who did not authenticate: never claimed. */
static struct id_set *claim_set(struct id_tenant *t, const char *num,
				const char **why)
{
	bool disabled = false;

	for (size_t i = 0; i < t->nsets; i++) {
		if (t->sets[i].anonymous ||
		    !numrange_contains(t->sets[i].range, num))
			continue;
		if (t->sets[i].enabled)
			return &t->sets[i];
		disabled = true;
	}
	*why = disabled ? "identity set withdrawn"
			: "identity outside the tenant's ranges";
	return NULL;
}

/*
 * A claimed number must be free, held, or already the subject's; a held
 * number of somebody else, or the subject's held other number in the set,
 * gives way (the issuer decides who has which number).
 */
static int claim_clear(struct ident *id, struct id_tenant *t, struct id_set *s,
		       const char *num, const char *subject, const char **why)
{
	struct id_alloc *a = g_hash_table_lookup(t->by_number, num);
	struct id_alloc *mine = id_alloc_by_subject(t, s->name, subject);

	if (a && strcmp(a->subject, subject)) {
		if (!a->hold_until) {
			*why = "identity in use by another user";
			return EPERM;
		}
		if (alloc_drop(id, t, a))
			goto io;
		log_info("ident", 0, "tenant %s: held %s taken over by a claim",
			 t->name, num);
	}
	if (mine && strcmp(mine->number, num)) {
		if (!mine->hold_until) {
			*why = "another identity of this user is in use";
			return EPERM;
		}
		if (alloc_drop(id, t, mine))
			goto io;
	}
	return 0;
 io:
	*why = "store failure";
	return EIO;
}

static int acquire_claimed(struct ident *id, struct id_tenant *t,
			   const char *subject, const char *claim,
			   struct ident_grant *out, const char **why)
{
	char num[NUMRANGE_NUM_MAX];
	struct id_set *s;
	struct id_alloc *a;
	int err;

	if (!numrange_norm(claim, num)) {
		*why = "claimed identity is not a number";
		return EPERM;
	}
	s = claim_set(t, num, why);
	if (!s)
		return EPERM;
	err = claim_clear(id, t, s, num, subject, why);
	if (err)
		return err;
	a = g_hash_table_lookup(t->by_number, num);
	if (!a) {
		if (!has_room(t, s, why))
			return ENOSPC;
		err = alloc_add(id, t, s, num, subject, &a);
		if (err) {
			*why = "store failure";
			return EIO;
		}
		out->fresh = true;
	} else if (alloc_use(id, t, a)) {
		*why = "store failure";
		return EIO;
	}
	snprintf(out->number, sizeof out->number, "%s", num);
	snprintf(out->set, sizeof out->set, "%s", s->name);
	snprintf(out->trunk, sizeof out->trunk, "%s", s->trunk);
	out->allocated = false;
	return 0;
}

int ident_acquire(struct ident *id, const char *tenant, const char *subject,
		  const char *claim, bool anonymous, struct ident_grant *out,
		  const char **why)
{
	struct id_tenant *t = id ? id_tenant_find(id, tenant) : NULL;
	int err;

	memset(out, 0, sizeof *out);
	if (!t || !t->nsets) {
		*why = "tenant has no identity sets";
		return ENOENT;
	}
	if (!subject || !*subject ||
	    strlen(subject) >= sizeof ((struct id_alloc *)0)->subject) {
		*why = "no subject";
		return EPERM;
	}
	err = claim ? acquire_claimed(id, t, subject, claim, out, why)
		    : acquire_allocated(id, t, subject, anonymous, out, why);
	if (err == ENOSPC)
		t->refused++;
	return err;
}

void ident_release(struct ident *id, const char *tenant, const char *number)
{
	struct id_tenant *t = id ? id_tenant_find(id, tenant) : NULL;
	struct id_alloc *a;
	long long hold;

	if (!t || !(a = g_hash_table_lookup(t->by_number, number)) ||
	    a->hold_until)
		return;
	hold = t->conf ? t->conf->hold_time : 0;
	if (!hold) {
		if (!alloc_drop(id, t, a))
			log_info("ident", 0, "tenant %s: %s released", t->name,
				 number);
		return;
	}
	if (store_alloc_hold(id->store, t->name, number,
			     (long long)time(NULL) + hold))
		return;   /* stays in use; logged by the store */
	a->hold_until = (long long)time(NULL) + hold;
	t->held++;
	log_info("ident", 0, "tenant %s: %s held for %s for %llds", t->name,
		 number, a->subject, hold);
}

void ident_discard(struct ident *id, const char *tenant, const char *number)
{
	struct id_tenant *t = id ? id_tenant_find(id, tenant) : NULL;
	struct id_alloc *a;

	if (!t || !(a = g_hash_table_lookup(t->by_number, number)) ||
	    a->hold_until)
		return;
	if (!alloc_drop(id, t, a))
		log_info("ident", 0, "tenant %s: %s freed (its registration "
			 "failed)", t->name, number);
}

void ident_tick(struct ident *id, time_t now)
{
	for (size_t i = 0; id && i < id->ntenants; i++) {
		struct id_tenant *t = &id->tenants[i];
		GHashTableIter it;
		gpointer v;
		GSList *done = NULL;

		if (!t->held)
			continue;
		g_hash_table_iter_init(&it, t->by_number);
		while (g_hash_table_iter_next(&it, NULL, &v)) {
			struct id_alloc *a = v;
			if (a->hold_until && a->hold_until <= (long long)now)
				done = g_slist_prepend(done, a);
		}
		for (GSList *l = done; l; l = l->next) {
			struct id_alloc *a = l->data;
			char num[NUMRANGE_NUM_MAX];
			snprintf(num, sizeof num, "%s", a->number);
			if (!alloc_drop(id, t, a))
				log_info("ident", 0, "tenant %s: %s free again "
					 "(hold ended)", t->name, num);
		}
		g_slist_free(done);
	}
}

/* ---- private identities -------------------------------------------------- */

/* FNV-1a, 32 bits: a short stable name for a device. */
static unsigned device_hash(const char *s)
{
	unsigned h = 2166136261u;

	for (; s && *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

int ident_impi(const struct ident *id, const char *tenant, const char *number,
	       const char *subject, const char *instance, const char *fallback,
	       char *out, size_t size)
{
	const struct id_tenant *t = id ? id_tenant_find(id, tenant) : NULL;
	const char *tpl = t && t->conf ? t->conf->impi_template
				       : "{user}.{device}@{domain}";
	const char *domain = t && t->conf ? t->conf->domain : "";
	char device[16];
	GString *s = g_string_new(NULL);
	int err = 0;

	snprintf(device, sizeof device, "%08x",
		 device_hash(instance && *instance ? instance : fallback));
	while (*tpl) {
		const char *v = NULL;
		size_t skip = 0;
		if (!strncmp(tpl, "{user}", 6)) { v = number; skip = 6; }
		else if (!strncmp(tpl, "{subject}", 9)) { v = subject; skip = 9; }
		else if (!strncmp(tpl, "{device}", 8)) { v = device; skip = 8; }
		else if (!strncmp(tpl, "{domain}", 8)) { v = domain; skip = 8; }
		if (skip) {
			g_string_append(s, v ? v : "");
			tpl += skip;
		} else {
			g_string_append_c(s, *tpl++);
		}
	}
	if (s->len >= size)
		err = ENOSPC;
	else
		memcpy(out, s->str, s->len + 1);
	g_string_free(s, TRUE);
	return err;
}
