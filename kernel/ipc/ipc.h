#pragma once
/* SPDX-License-Identifier: MIT */
/* ipc.h - the message engine: send, receive, wait, destroy, notify */

#include <stdbool.h>
#include <stdint.h>
#include "util/list.h"

typedef struct Kmsg Kmsg;
typedef struct Port Port;
typedef struct Space Space;
typedef struct Waiter Waiter;

/* Returned by ipc_send()/ipc_receive() when the caller's waiter now waits. */
#define IPC_WAIT 0x7fff0001
/* Returned for a lending receive whose next message carries descriptors (it stays queued). */
#define IPC_NOT_LENDABLE 0x7fff0002

/*
 * A receive option of the broker's own (not on the wire): lend the message
 * rather than hand it over.  It leaves the queue but stays counted in
 * msgcount (so in the backlog) until ipc_lent_taken() or ipc_lent_return().
 * A message carrying descriptors is not lent (IPC_NOT_LENDABLE).
 */
#define IPC_RCV_LEND 0x40000000u
/* A send option of the broker's own: the message has a backlog slot reserved (send credit). */
#define IPC_SEND_RESERVED 0x40000000u

enum {
        WAITER_IDLE = 0,
        WAITER_SEND,            /* blocked sending: kmsg is in a port's senders list */
        WAITER_RCV,             /* blocked receiving: on port->receivers */
        WAITER_DONE,            /* on the done list, result in status/kmsg */
};

/*
 * One blocked call.  The engine never calls back into the transport: when a
 * wait ends it records the outcome and puts the waiter on the done list,
 * which the broker drains at the top of its loop (ipc_done_pop()).
 */
struct Waiter {
        ListLink link;          /* port->receivers */
        ListLink done_link;     /* the done list */
        uint8_t state;
        uint8_t phase;          /* WAITER_SEND or WAITER_RCV: what ended */
        Space *space;           /* the waiting task's space */
        Port *port;             /* WAITER_RCV: the port or set (one reference) */
        Kmsg *kmsg;             /* SEND: the blocked message; DONE: a message for the caller */
        uint32_t option;
        uint32_t rcv_size;
        uint32_t needed;        /* RCV_TOO_LARGE: the size needed */
        int status;
        void (*done)(Waiter *w); /* called when the broker settles a finished wait */
};

/*
 * What the core asks of the kernel objects behind kernel ports (a task, a
 * semaphore, a shared region), which live in the layer above: serve a
 * request sent to one, and hear that the last send right to one went.
 */
typedef struct {
        /* 0: served, @request consumed; or a send code (@request still the caller's) */
        int (*serve)(Kmsg *request);
        void (*no_senders)(Port *port);
} IpcKobjectOps;

/*
 * What the core tells the layer that hands messages ahead and grants send
 * credit (kernel/async/): a message sent with credit left its port's
 * backlog (the slot is free again), and a port died (its credit is void).
 */
typedef struct {
        void (*slot_freed)(Kmsg *kmsg);
        void (*port_dead)(Port *port);
        /* What @space holds of @port (messages lent; with @leaving, its arms too)
         * must end: the receive right leaves @space, or (!@leaving) the port changes sets */
        void (*receiver_leaving)(Port *port, Space *space, bool leaving);
} IpcAsyncOps;

/* Counters since the broker started (machipcctl shows them). */
typedef struct {
        uint64_t sent;
        uint64_t received;
        uint64_t notifications;
        uint64_t circular;      /* messages destroyed because they closed a loop */
        uint64_t fds_in_flight; /* descriptors held by messages now */
        uint64_t credit_dropped; /* one-way sends to a right or port gone meanwhile */
        uint64_t fds_budget;    /* at most that many (0: no limit) */
} IpcStats;

extern IpcStats ipc_stats;

/* Called for each message a task sends to a task's port, before it is queued (monitors). */
typedef void (*IpcTraceFn)(Kmsg *kmsg, Space *sender);

void ipc_set_kobject_ops(const IpcKobjectOps *ops);
void ipc_set_trace(IpcTraceFn fn);
void ipc_set_async_ops(const IpcAsyncOps *ops);
void ipc_waiter_finish(Waiter *w, uint8_t phase, int status);
void ipc_port_recall_lent(Port *port);
void ipc_lent_taken(Port *port, Kmsg *kmsg);
void ipc_lent_return(Port *port, Kmsg *kmsg);
void ipc_kobject_no_senders(Port *port);
void waiter_init(Waiter *w, Space *space);
int ipc_send(Kmsg *kmsg, Space *sender, uint32_t option, uint32_t timeout, Waiter *w);
int ipc_receive(Port *port, Waiter *w, uint32_t option, uint32_t timeout, uint32_t rcv_size,
                Kmsg **kmsgp, uint32_t *neededp);
void ipc_waiter_cancel(Waiter *w, int status);
void ipc_waiter_abort(Waiter *w);
Waiter *ipc_done_pop(void);
void ipc_port_destroy(Port *port);
void ipc_kobject_port_destroy(Port *port);
void ipc_port_wake_receivers(Port *port, int status);
void ipc_admit_senders(Port *port);
void ipc_serve_receivers(Port *port);
int ipc_send_kernel(Port *dest, int32_t id, const void *body, uint32_t body_size);
void right_release(Port *port, uint8_t kind);
void ipc_space_terminate(Space *space);
void ipc_port_set_receiver(Port *port, Space *space, uint32_t name);
bool ipc_space_can_take_reply(const Space *space, bool promised);
bool ipc_port_full(const Port *port);
uint32_t ipc_port_room(const Port *port);
bool ipc_fds_room(uint64_t n);
