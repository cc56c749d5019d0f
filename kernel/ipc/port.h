#pragma once
/* SPDX-License-Identifier: MIT */
/* port.h - ports (mailboxes) and port sets */

#include <stdbool.h>
#include <stdint.h>
#include "util/list.h"

typedef struct Kmsg Kmsg;
typedef struct Port Port;
typedef struct Space Space;
typedef struct Waiter Waiter;

/* What a kernel port (served by the broker itself) stands for. */
enum {
        KOBJECT_NONE = 0,
        KOBJECT_TASK,           /* a Peer: kernel calls on its name space */
        KOBJECT_SEMAPHORE,      /* a Semaphore */
        KOBJECT_SHM,            /* a Shm: a named shared region */
};

#define PORT_QLIMIT_DEFAULT 8u
#define PORT_QLIMIT_MAX 1024u
/* No count limit: the queue is bounded by its receiver's quotas (ipc.c). */
#define PORT_QLIMIT_UNLIMITED UINT32_MAX

/*
 * A port is a message queue owned by the broker.  The space holding its
 * receive right is @receiver (NULL while the right travels in a message, or
 * for a kernel port, whose receiver is the broker itself: @kobject is then
 * the task it stands for).  A port set is a Port with @is_set: it has no
 * queue of its own, only members and the members that have something to
 * receive (@ready, in the order they became ready, for fairness).
 */
/* Notification requests on a port: rare, so kept apart (notify.c). */
typedef struct {
        Port *ns_notify;        /* no-senders: where to (one reference) */
        Port *pd_notify;        /* port-destroyed: the backup (one reference) */
        ListLink dn_requests;   /* DeadNameReq.port_link */
        ListLink credits;       /* Credit.port_link: senders holding backlog slots (kernel/async) */
        uint32_t n_reserved;    /* backlog slots those senders hold */
        uint32_t n_armed;       /* arms on the port (kernel/async): they end when its receive right leaves */
} PortRequests;

/*
 * Laid out for size: a broker holds millions of idle ports.  A set has no
 * queue, a port has no members, so their lists share storage.
 */
struct Port {
        uint64_t id;
        uint32_t refs;
        bool is_set;
        bool active;
        uint8_t kobject_type;   /* KOBJECT_* */
        uint8_t transit_height; /* at least the longest chain of ports in transit inside
                                 * messages that wait, nested, in this port (ipc.c) */

        Space *receiver;
        void *kobject;          /* the object a kernel port stands for */
        uint32_t receiver_name;

        uint32_t qlimit;        /* PORT_QLIMIT_UNLIMITED: bounded by the receiver's quotas */
        uint32_t msgcount;      /* queued, and handed ahead to the receiver but not yet taken */
        uint32_t n_lent;        /* of those, handed ahead (out of the queue) */
        uint32_t seqno;
        uint32_t mscount;
        uint32_t n_srights;     /* send rights: space entries plus rights in messages */
        uint32_t n_sorights;    /* send-once rights */
        union {
                uint32_t n_senders;     /* ports */
                uint32_t n_members;     /* sets */
        };
        union {
                struct {
                        ListLink queue;         /* Kmsg.link, FIFO */
                        ListLink senders;       /* Kmsg.link: blocked senders and SEND_NOTIFY messages */
                };
                struct {
                        ListLink members;       /* sets: member ports */
                        ListLink ready;         /* sets: ready members */
                };
        };
        ListLink receivers;     /* Waiter.link: receivers waiting on this port or set */

        Port *pset;             /* set this port is in */
        ListLink member_link;   /* in pset->members; on the destruction work list once dying */
        ListLink ready_link;    /* in pset->ready while the port has something */

        uint64_t qbytes;        /* bytes of the queued messages (inline, with attachments) */
        Kmsg *transit;          /* the message carrying the receive right, if in transit */
        PortRequests *requests; /* notification requests, or NULL */
};

/* Backlog slots senders hold as credit on @port (its requests keep the count). */
static inline uint32_t port_reserved(const Port *port) {
        return port->requests ? port->requests->n_reserved : 0;
}

/* Arms on @port. */
static inline uint32_t port_armed(const Port *port) {
        return port->requests ? port->requests->n_armed : 0;
}

int port_new(Port **portp, bool is_set);
int port_new_kobject(Port **portp, uint8_t type, void *object);
PortRequests *port_requests(Port *port);
void port_pool_deinit(void);
Port *port_ref(Port *port);
Port *port_unref(Port *port);
bool port_has_message(const Port *port);
void port_update_ready(Port *port);
void port_set_add(Port *set, Port *port);
void port_set_remove(Port *port);
uint64_t port_count(void);
void port_validate(const Port *port);
