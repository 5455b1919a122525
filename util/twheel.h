/**
 * @file twheel.h  A hashed timing wheel, for many timers of the same few
 * durations (keepalives, idle deadlines): adding, moving and removing an
 * entry are O(1), and a tick costs what is due plus, at worst, one look at
 * each entry per turn of the wheel. Times are in ticks, whatever length
 * the owner gives a tick; one slot per tick.
 *
 * Entries are embedded in their owner's struct; the wheel owns nothing.
 */
#ifndef WTPF_TWHEEL_H
#define WTPF_TWHEEL_H

#include <stdint.h>

#define TWHEEL_SLOTS 512

struct twheel_entry {
	struct twheel_entry *prev, *next;   /**< NULL when not in a wheel */
	int64_t due;                        /**< in ticks */
};

struct twheel {
	struct twheel_entry slot[TWHEEL_SLOTS];   /**< list heads */
	int64_t cursor;                           /**< next tick to expire */
	unsigned long count;                      /**< entries in the wheel */
};

/** Empties @p w; the first twheel_tick() expires tick @p now on. */
void twheel_init(struct twheel *w, int64_t now);

/** Adds (or moves) @p e so that it expires at tick @p due. */
void twheel_add(struct twheel *w, struct twheel_entry *e, int64_t due);

/** Takes @p e out of its wheel; harmless when it is in none. */
void twheel_remove(struct twheel *w, struct twheel_entry *e);

/**
 * Calls @p fn for every entry due at or before @p now, each taken out of
 * the wheel first. @p fn may add it again, and may add or remove any
 * other entry.
 */
void twheel_tick(struct twheel *w, int64_t now,
		 void (*fn)(struct twheel_entry *e, void *arg), void *arg);

#endif
