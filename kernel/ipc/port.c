/* SPDX-License-Identifier: MIT */
/*
 * port.c - the port object: reference counting, set membership, readiness
 *
 * A port lives while anything refers to it: a space entry, a right inside a
 * message, a waiting receiver.  Being alive is separate from being active:
 * a destroyed port is inactive (rights to it are dead names) but stays
 * allocated until the last reference goes.  This module moves no message;
 * queueing and waking are ipc.c's.
 */

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "port.h"

static uint64_t port_next_id = 1;
static uint64_t port_live;

/*
 * Ports come from a slab: chunks of PORT_CHUNK, no per-object allocator
 * overhead, a free list of returned ones.  Under AddressSanitizer they come
 * from malloc, so that a use after free is still caught.
 */
#if defined(__SANITIZE_ADDRESS__)
#define PORT_SLAB 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PORT_SLAB 0
#endif
#endif
#ifndef PORT_SLAB
#define PORT_SLAB 1
#endif
#define PORT_CHUNK 256

typedef union PortSlot {
        Port port;
        union PortSlot *next;
} PortSlot;

typedef struct PortChunk {
        struct PortChunk *next;
        PortSlot slots[PORT_CHUNK];
} PortChunk;

static PortSlot *port_free_slots;
static PortChunk *port_chunks;

static Port *port_alloc(void) {
        if (!PORT_SLAB)
                return calloc(1, sizeof(Port));
        if (!port_free_slots) {
                PortChunk *c = malloc(sizeof(*c));
                if (!c)
                        return NULL;
                c->next = port_chunks;
                port_chunks = c;
                for (int i = PORT_CHUNK - 1; i >= 0; i--) {
                        c->slots[i].next = port_free_slots;
                        port_free_slots = &c->slots[i];
                }
        }
        PortSlot *s = port_free_slots;
        port_free_slots = s->next;
        memset(&s->port, 0, sizeof(s->port));
        return &s->port;
}

static void port_release(Port *p) {
        if (!PORT_SLAB) {
                free(p);
                return;
        }
        PortSlot *s = (PortSlot *)p;
        s->next = port_free_slots;
        port_free_slots = s;
}

/* port_pool_deinit() - give the slab back (at exit, every port gone). */
void port_pool_deinit(void) {
        while (port_chunks) {
                PortChunk *c = port_chunks;
                port_chunks = c->next;
                free(c);
        }
        port_free_slots = NULL;
}

/**
 * port_new_kobject() - a kernel port: served by the broker, standing for @object
 * @type: KOBJECT_*
 *
 * Return: 0 or -ENOMEM.
 */
int port_new_kobject(Port **portp, uint8_t type, void *object) {
        int r = port_new(portp, false);
        if (r < 0)
                return r;
        (*portp)->kobject = object;
        (*portp)->kobject_type = type;
        return 0;
}

/* port_requests() - the port's notification requests, made on first use; NULL if out of memory. */
PortRequests *port_requests(Port *port) {
        if (!port->requests) {
                port->requests = calloc(1, sizeof(*port->requests));
                if (port->requests) {
                        list_init(&port->requests->dn_requests);
                        list_init(&port->requests->credits);
                }
        }
        return port->requests;
}

/**
 * port_new() - allocate an active port or port set with one reference
 * @portp: out
 * @is_set: true for a port set
 *
 * Return: 0 or -ENOMEM.
 */
int port_new(Port **portp, bool is_set) {
        Port *p = port_alloc();
        if (!p)
                return -ENOMEM;
        p->id = port_next_id++;
        p->refs = 1;
        p->is_set = is_set;
        p->active = true;
        p->qlimit = PORT_QLIMIT_DEFAULT;
        /* For a set these are its members and ready lists. */
        list_init(&p->queue);
        list_init(&p->senders);
        list_init(&p->receivers);
        list_init(&p->member_link);
        list_init(&p->ready_link);
        port_live++;
        *portp = p;
        return 0;
}

Port *port_ref(Port *port) {
        if (port) {
                assert(port->refs > 0);
                port->refs++;
        }
        return port;
}

/**
 * port_unref() - drop a reference; the last one frees the port
 *
 * An active port is always referenced by what keeps it active (its
 * receiver's entry, the message carrying its receive right, or its task),
 * so the last reference can only go from an inactive port.
 * Return: NULL.
 */
Port *port_unref(Port *port) {
        if (!port)
                return NULL;
        assert(port->refs > 0);
        if (--port->refs > 0)
                return NULL;
        assert(!port->active);
        assert(list_empty(&port->queue) && list_empty(&port->senders));
        assert(list_empty(&port->receivers));
        assert(!port->pset);
        if (port->requests) {
                assert(!port->requests->ns_notify && !port->requests->pd_notify &&
                       list_empty(&port->requests->dn_requests) && list_empty(&port->requests->credits));
                free(port->requests);
        }
        port_live--;
        port_release(port);
        return NULL;
}

/* port_has_message() - true if a receive on @port would find a message. */
bool port_has_message(const Port *port) {
        return !list_empty(&port->queue) || !list_empty(&port->senders);
}

/**
 * port_update_ready() - keep @port's place in its set's ready list right
 *
 * A port enters the ready list at the tail when it gets something to
 * receive, and leaves when it has nothing; a receive on the set takes the
 * head and calls this again, so members take turns.
 */
void port_update_ready(Port *port) {
        if (!port->pset)
                return;
        bool ready = port->active && port_has_message(port);
        if (ready && !list_linked(&port->ready_link))
                list_add_tail(&port->pset->ready, &port->ready_link);
        else if (!ready && list_linked(&port->ready_link))
                list_del(&port->ready_link);
}

/* port_set_add() - make @port a member of @set; @port is in no set. */
void port_set_add(Port *set, Port *port) {
        assert(set->is_set && !port->is_set && !port->pset);
        port->pset = set;
        list_add_tail(&set->members, &port->member_link);
        set->n_members++;
        port_update_ready(port);
}

/* port_set_remove() - take @port out of its set, if any. */
void port_set_remove(Port *port) {
        Port *set = port->pset;
        if (!set)
                return;
        if (list_linked(&port->ready_link))
                list_del(&port->ready_link);
        list_del(&port->member_link);
        set->n_members--;
        port->pset = NULL;
}

/* port_count() - ports and sets allocated now (for statistics and leak tests). */
uint64_t port_count(void) {
        return port_live;
}

/* port_validate() - assert the port's invariants (tests call it after mutations). */
void port_validate(const Port *port) {
        uint32_t n = 0;
        assert(port->refs > 0);
        if (!port->is_set) {
                for (ListLink *l = port->queue.next; l != &port->queue; l = l->next)
                        n++;
                assert(n + port->n_lent == port->msgcount);
                n = 0;
                for (ListLink *l = port->senders.next; l != &port->senders; l = l->next)
                        n++;
                assert(n == port->n_senders);
        }
        if (!port->active) {
                assert(list_empty(&port->queue) && list_empty(&port->senders));
                assert(list_empty(&port->receivers));
                assert(!port->receiver && !port->pset);
        }
        /* Someone waiting to receive means there was nothing to take. */
        if (!list_empty(&port->receivers) && !port->is_set)
                assert(!port_has_message(port));
        if (port->is_set) {
                n = 0;
                for (ListLink *l = port->members.next; l != &port->members; l = l->next) {
                        const Port *m = list_entry(l, Port, member_link);
                        assert(m->pset == port);
                        n++;
                }
                assert(n == port->n_members);
        }
        (void)n;
}
