/* SPDX-License-Identifier: MIT */
/*
 * space.c - port name spaces
 *
 * Maps a task's names to entries (a right or set of rights to one port) in
 * O(1): the index part of a name is a slot number.  A pointer-keyed map finds
 * the name a task already uses for a port, so send and receive rights to one
 * port share one name.  Send-once rights each get their own name and are not
 * in that map.  Freed names are reused last (FIFO) and with a new
 * generation (space.h).  This module knows names and entries; what a right transition
 * means for the port (counts, notifications) is kmsg.c's and ipc.c's.
 */

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include "account.h"
#include "port.h"
#include "space.h"

/**
 * space_new() - an empty name space
 * @spacep: out
 * @owner: the task it belongs to (opaque here)
 * @max_names: quota of names
 *
 * Return: 0 or -ENOMEM.
 */
int space_new(Space **spacep, void *owner, uint32_t max_names) {
        Space *s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->owner = owner;
        s->max_names = max_names > SPACE_NAMES_MAX ? SPACE_NAMES_MAX : max_names;
        s->epoch = 1;
        *spacep = s;
        return 0;
}

/* space_free() - free an empty space (every entry deallocated). */
void space_free(Space *space) {
        if (!space)
                return;
        assert(space->n_used == 0);
        account_unref(space->acct_task);
        account_unref(space->acct_uid);
        idmap_deinit(&space->by_port);
        free(space->entries);
        free(space);
}

/* space_lookup() - the entry @name denotes, or NULL. */
SpaceEntry *space_lookup(Space *space, uint32_t name) {
        uint32_t idx = SPACE_NAME_INDEX(name);
        if (idx == 0 || idx >= space->n_slots)
                return NULL;
        SpaceEntry *e = &space->entries[idx];
        return e->name == name && name != 0 ? e : NULL;
}

/*
 * The FIFO of free slots: freed slots go to the tail, names come from the
 * head, and slots never used yet go to the head, so a freed name rests as
 * long as possible.
 */
static void free_push_head(Space *space, uint32_t idx) {
        SpaceEntry *e = &space->entries[idx];
        e->prev_free = 0;
        e->next_free = space->free_head;
        if (space->free_head)
                space->entries[space->free_head].prev_free = idx;
        else
                space->free_tail = idx;
        space->free_head = idx;
}

static void free_push_tail(Space *space, uint32_t idx) {
        SpaceEntry *e = &space->entries[idx];
        e->next_free = 0;
        e->prev_free = space->free_tail;
        if (space->free_tail)
                space->entries[space->free_tail].next_free = idx;
        else
                space->free_head = idx;
        space->free_tail = idx;
}

static void free_unlink(Space *space, uint32_t idx) {
        SpaceEntry *e = &space->entries[idx];
        if (e->prev_free)
                space->entries[e->prev_free].next_free = e->next_free;
        else
                space->free_head = e->next_free;
        if (e->next_free)
                space->entries[e->next_free].prev_free = e->prev_free;
        else
                space->free_tail = e->prev_free;
}

static int space_grow(Space *space) {
        /* Slot 0 is never used, so that no name is 0; one more than the quota. */
        uint32_t n = space->n_slots ? space->n_slots * 2 : 64;
        if (n > space->max_names + 1)
                n = space->max_names + 1;
        if (n <= space->n_slots)
                return SPACE_E_NO_SPACE;
        SpaceEntry *e = realloc(space->entries, (size_t)n * sizeof(*e));
        if (!e)
                return -ENOMEM;
        for (uint32_t i = space->n_slots; i < n; i++)
                e[i] = (SpaceEntry){ 0 };
        space->entries = e;
        uint32_t first = space->n_slots ? space->n_slots : 1;
        space->n_slots = n;
        for (uint32_t i = n - 1; i >= first; i--)
                free_push_head(space, i);
        return 0;
}

/* Take slot @idx (free) for @port under generation @gen. */
static int space_take(Space *space, uint32_t idx, uint16_t gen, Port *port, uint32_t bits,
                      SpaceEntry **entryp) {
        SpaceEntry *e = &space->entries[idx];
        uint32_t name = idx << SPACE_GEN_BITS | gen;
        if (bits & (ENTRY_SEND | ENTRY_RECEIVE)) {
                int r = idmap_put(&space->by_port, (uintptr_t)port, name);
                if (r < 0)
                        return r;
        }
        free_unlink(space, idx);
        *e = (SpaceEntry){ .name = name, .bits = (uint8_t)bits, .gen = gen, .port = port };
        e->urefs = (bits & (ENTRY_SEND | ENTRY_SEND_ONCE)) ? 1 : 0;
        space->n_used++;
        *entryp = e;
        return 0;
}

/**
 * space_alloc() - give @port a new name in @space
 * @port: takes over one reference the caller holds
 * @bits: the rights (ENTRY_*); urefs start at 1 for a send or send-once right
 * @entryp: out
 *
 * Send and receive rights are indexed by port; the caller must have checked
 * that the space has no name for @port yet.
 * Return: 0, SPACE_E_NO_SPACE or -ENOMEM (the reference stays the caller's).
 */
int space_alloc(Space *space, Port *port, uint32_t bits, SpaceEntry **entryp) {
        int r;
        if (space->n_used >= space->max_names)
                return SPACE_E_NO_SPACE;
        if (!account_charge(space->acct_task, space->acct_uid, ACCT_NAMES, 1))
                return SPACE_E_NO_SPACE;
        if (!space->free_head) {
                r = space_grow(space);
                if (r) {
                        account_release(space->acct_task, space->acct_uid, ACCT_NAMES, 1);
                        return r;
                }
        }
        uint32_t idx = space->free_head;
        uint16_t gen = (uint16_t)(space->entries[idx].gen % SPACE_GEN_MAX + 1u);
        r = space_take(space, idx, gen, port, bits, entryp);
        if (r < 0)
                account_release(space->acct_task, space->acct_uid, ACCT_NAMES, 1);
        return r;
}

/**
 * space_alloc_name() - give @port the name @name again, if nobody took it since
 *
 * For a right that comes back to the task that gave it up (a message that
 * could not be sent): @name is the name it had.  As space_alloc(), but
 * the name is the same only if its slot is still free and was not handed
 * out meanwhile; otherwise a new name is given.
 */
int space_alloc_name(Space *space, Port *port, uint32_t bits, uint32_t name, SpaceEntry **entryp) {
        uint32_t idx = SPACE_NAME_INDEX(name);
        if (idx == 0 || idx >= space->n_slots || space->entries[idx].name != 0 ||
            space->entries[idx].gen != SPACE_NAME_GEN(name) || SPACE_NAME_GEN(name) == 0)
                return space_alloc(space, port, bits, entryp);
        if (space->n_used >= space->max_names ||
            !account_charge(space->acct_task, space->acct_uid, ACCT_NAMES, 1))
                return SPACE_E_NO_SPACE;
        int r = space_take(space, idx, (uint16_t)SPACE_NAME_GEN(name), port, bits, entryp);
        if (r < 0)
                account_release(space->acct_task, space->acct_uid, ACCT_NAMES, 1);
        return r;
}

/**
 * space_index_port() - index an existing entry under its port (after it
 * gained a send or receive right).  Return: 0 or -ENOMEM.
 */
int space_index_port(Space *space, SpaceEntry *e) {
        return idmap_put(&space->by_port, (uintptr_t)e->port, e->name);
}

/**
 * space_dealloc() - free @e's name and drop its port reference
 *
 * The caller has already done what releasing the rights means for the port.
 */
void space_dealloc(Space *space, SpaceEntry *e) {
        uint32_t idx = SPACE_NAME_INDEX(e->name);
        uint32_t name;
        if (e->port && idmap_get(&space->by_port, (uintptr_t)e->port, &name) == 0 && name == e->name)
                idmap_del(&space->by_port, (uintptr_t)e->port);
        port_unref(e->port);
        uint16_t gen = e->gen;
        *e = (SpaceEntry){ 0 };
        e->gen = gen;
        free_push_tail(space, idx);
        space->n_used--;
        account_release(space->acct_task, space->acct_uid, ACCT_NAMES, 1);
}

/* space_find_port() - the entry holding send or receive rights to @port, or NULL. */
SpaceEntry *space_find_port(Space *space, const Port *port) {
        uint32_t name;
        if (idmap_get(&space->by_port, (uintptr_t)port, &name) < 0)
                return NULL;
        return space_lookup(space, name);
}

/**
 * space_entry_type() - the PORT_TYPE_* bits a user sees for @e
 *
 * Send and send-once rights to a port that died read as a dead name.
 */
uint32_t space_entry_type(const SpaceEntry *e) {
        uint32_t bits = e->bits;
        if ((bits & (ENTRY_SEND | ENTRY_SEND_ONCE)) && e->port && !e->port->active) {
                bits &= ~(ENTRY_SEND | ENTRY_SEND_ONCE);
                bits |= ENTRY_DEAD_NAME;
        }
        return bits;
}

/* space_validate() - assert the space's invariants. */
void space_validate(const Space *space) {
        uint32_t used = 0;
        for (uint32_t i = 1; i < space->n_slots; i++) {
                const SpaceEntry *e = &space->entries[i];
                if (!e->name)
                        continue;
                used++;
                assert(SPACE_NAME_INDEX(e->name) == i && SPACE_NAME_GEN(e->name) == e->gen);
                assert(e->bits != 0);
                assert(e->port);
                if (e->bits & ENTRY_RECEIVE)
                        assert(e->port->receiver == space && e->port->receiver_name == e->name);
                if (e->bits & (ENTRY_SEND | ENTRY_SEND_ONCE | ENTRY_DEAD_NAME))
                        assert(e->urefs > 0 && e->urefs <= SPACE_UREFS_MAX);
                if (e->bits & (ENTRY_SEND | ENTRY_RECEIVE)) {
                        uint32_t name = 0;
                        assert(idmap_get(&space->by_port, (uintptr_t)e->port, &name) == 0 && name == e->name);
                }
        }
        assert(used == space->n_used);
        assert(space->by_port.n <= used);
        /* Every other slot is in the FIFO of free slots, linked both ways. */
        uint32_t n_free = 0, prev = 0;
        for (uint32_t i = space->free_head; i; prev = i, i = space->entries[i].next_free) {
                assert(i < space->n_slots && space->entries[i].name == 0);
                assert(space->entries[i].prev_free == prev);
                n_free++;
        }
        assert(space->free_tail == prev);
        assert(space->n_slots == 0 || n_free == space->n_slots - 1 - used);
        (void)n_free;
        (void)prev;
}
