/**
 * @file ident.h  Tenants' public identities (seed 000 principles 2-8 and 13;
 * seeds 002-004): which numbers a tenant owns, grouped in identity sets per
 * trunk, and which user holds which number.
 *
 * A set is the tenant's trunk and ranges ("main") or one of its
 * `identity_sets`. A registration acquires a number: the one its token
 * claims (it must lie in an enabled set), or one allocated for its subject
 * from the first enabled set with room (sequential or random), the same one
 * each time while the allocation lives. When a number's last device goes
 * away it is held for the tenant's hold_time, still its user's, then freed.
 * Limits per tenant and per set count numbers in use and held. Every change
 * is written to the store before it is made in memory, so that after a
 * restart (even `kill -9`) nothing is lost or handed out twice.
 *
 * Ownership: the caller owns struct ident; it borrows the configuration
 * (until ident_reload() gives it another) and the store.
 */
#ifndef WTPF_IDENT_H
#define WTPF_IDENT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "util/numrange.h"

struct conf;
struct store;
struct ident;

/** What a registration or a call gets: a number and where it lives. */
struct ident_grant {
	char number[NUMRANGE_NUM_MAX];   /**< normalised, e.g. +4930123400001 */
	char set[64];                    /**< the identity set's name */
	char trunk[64];                  /**< the set's trunk ("" : first one) */
	bool allocated;                  /**< picked by us (else claimed) */
	bool fresh;                      /**< this acquisition created it */
};

/**
 * Builds the sets from @p conf and loads the allocations from @p st. Numbers
 * that were in use when the last process stopped start their hold now: no
 * registration outlives the process. Returns 0, ENOMEM, EINVAL (a range
 * that does not compile: logged) or EIO.
 */
int ident_create(struct ident **idp, const struct conf *conf,
		 struct store *st);

/** Frees everything. NULL is allowed. */
void ident_destroy(struct ident *id);

/**
 * Takes the sets, ranges and limits of @p conf (already validated);
 * allocations are kept, including those of sets that went away (they end
 * with their hold). Returns 0, or ENOMEM/EINVAL leaving the old ones.
 */
int ident_reload(struct ident *id, const struct conf *conf);

/** True when @p tenant has identity sets: its numbers are managed here. */
bool ident_managed(const struct ident *id, const char *tenant);

/**
 * Acquires a number for @p subject of @p tenant: @p claim (a number or
 * tel:/sip: URI user part) when not NULL, else an allocation from the
 * anonymous set(s) when @p anonymous, else from the others. Marks it in
 * use. Returns 0 with @p out filled, or with @p why a static reason:
 * EPERM (claim outside the enabled sets, or in use by another user),
 * ENOSPC (range or limit exhausted), ENOENT (tenant unmanaged), EIO.
 * O(sets) + O(numbers allocated in the set) to find a free one.
 */
int ident_acquire(struct ident *id, const char *tenant, const char *subject,
		  const char *claim, bool anonymous, struct ident_grant *out,
		  const char **why);

/**
 * The last device of @p number went away: its hold starts (with hold_time
 * 0 it is freed at once). Unknown numbers are ignored.
 */
void ident_release(struct ident *id, const char *tenant, const char *number);

/**
 * Undoes a fresh acquisition that no device used (the request failed after
 * it): the number is freed at once, not held. Numbers held or unknown are
 * left alone.
 */
void ident_discard(struct ident *id, const char *tenant, const char *number);

/** Frees the numbers whose hold ended by @p now. O(allocations). */
void ident_tick(struct ident *id, time_t now);

/**
 * The set @p number belongs to in @p tenant. Returns 0 with @p out filled
 * (allocated tells whether somebody holds it), ENOENT (in no set, or tenant
 * unmanaged) or EPERM (its set is disabled).
 */
int ident_lookup(const struct ident *id, const char *tenant,
		 const char *number, struct ident_grant *out);

/**
 * True when some enabled set of any tenant uses the trunk @p trunk, or a
 * tenant without sets does: the trunk has something to serve.
 */
bool ident_trunk_wanted(const struct ident *id, const char *trunk);

/** Numbers of @p tenant allocated (in use or held); @p held gets the held. */
size_t ident_count(const struct ident *id, const char *tenant, size_t *held);

/** Acquisitions of @p tenant refused for want of room (ENOSPC) so far. */
unsigned long ident_refused(const struct ident *id, const char *tenant);

/**
 * Writes the private identity of a device to @p out from the tenant's
 * impi_template: {user} the number, {subject}, {device} (a short hash of
 * @p instance, or of @p fallback when there is none), {domain}. Returns 0
 * or ENOSPC.
 */
int ident_impi(const struct ident *id, const char *tenant, const char *number,
	       const char *subject, const char *instance, const char *fallback,
	       char *out, size_t size);

#endif
