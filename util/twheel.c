/**
 * @file twheel.c  A hashed timing wheel (see twheel.h).
 */
#include "util/twheel.h"

#include <stddef.h>

static void list_init(struct twheel_entry *head)
{
	head->prev = head->next = head;
}

static void list_unlink(struct twheel_entry *e)
{
	e->prev->next = e->next;
	e->next->prev = e->prev;
	e->prev = e->next = NULL;
}

static void list_append(struct twheel_entry *head, struct twheel_entry *e)
{
	e->prev = head->prev;
	e->next = head;
	head->prev->next = e;
	head->prev = e;
}

static struct twheel_entry *slot_of(struct twheel *w, int64_t due)
{
	return &w->slot[(uint64_t)due % TWHEEL_SLOTS];
}

void twheel_init(struct twheel *w, int64_t now)
{
	for (size_t i = 0; i < TWHEEL_SLOTS; i++)
		list_init(&w->slot[i]);
	w->cursor = now;
	w->count = 0;
}

void twheel_add(struct twheel *w, struct twheel_entry *e, int64_t due)
{
	twheel_remove(w, e);
	/* an entry due in the past goes to the next slot to expire */
	e->due = due;
	list_append(slot_of(w, due < w->cursor ? w->cursor : due), e);
	w->count++;
}

void twheel_remove(struct twheel *w, struct twheel_entry *e)
{
	if (!e->next)
		return;
	list_unlink(e);
	w->count--;
}

/* Expires the entries of one slot that are due by @p now. */
static void tick_slot(struct twheel *w, struct twheel_entry *head, int64_t now,
		      void (*fn)(struct twheel_entry *, void *), void *arg)
{
	struct twheel_entry later, *e;

	/* entries due in a later turn go back at the end; walk a copy so
	 * that what fn adds to this slot waits for its own turn */
	list_init(&later);
	while (head->next != head) {
		e = head->next;
		list_unlink(e);
		if (e->due > now) {
			list_append(&later, e);
			continue;
		}
		w->count--;
		fn(e, arg);
	}
	while (later.next != &later) {
		e = later.next;
		list_unlink(e);
		list_append(head, e);
	}
}

void twheel_tick(struct twheel *w, int64_t now,
		 void (*fn)(struct twheel_entry *e, void *arg), void *arg)
{
	int64_t last = now;

	/* after a long pause, one turn of the wheel sees every slot */
	if (last - w->cursor >= TWHEEL_SLOTS)
		w->cursor = last - TWHEEL_SLOTS + 1;
	for (; w->cursor <= last; w->cursor++)
		tick_slot(w, slot_of(w, w->cursor), now, fn, arg);
}
