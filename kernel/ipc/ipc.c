/* SPDX-License-Identifier: MIT */
/*
 * ipc.c - the message engine
 *
 * Moves Kmsgs between ports and waiting calls, in Mach's order: a message
 * goes straight to a waiting receiver if there is one, else onto the queue
 * if there is room (a message to a send-once right or from the broker always
 * finds room), else its sender waits, or leaves it with the broker
 * (SEND_NOTIFY), or is told SEND_TIMED_OUT.  A receive takes the head of the
 * queue; when a queue has room again the first waiting sender's message is
 * admitted.  Backlog 0 is the same rule: nothing is ever queued ahead, so a
 * sender waits until a receiver takes its message.
 *
 * Port sets keep a ready list of members in the order they became
 * non-empty; a receive on the set takes the head member and sends it to the
 * back, so no member starves.
 *
 * Destroying a port may destroy messages that hold receive rights to other
 * ports; those are destroyed from a work list, not by recursion, so a chain
 * of ports built by a client cannot exhaust the broker's stack.
 *
 * Nothing here knows about sockets: finished waits go on the done list.
 */

#include <assert.h>
#include <errno.h>
#include <string.h>
#include "account.h"
#include "ipc.h"
#include "kmsg.h"
#include "notify.h"
#include "port.h"
#include "space.h"

IpcStats ipc_stats;
static ListLink ipc_done = LIST_INIT(ipc_done);
static ListLink ipc_dying = LIST_INIT(ipc_dying);
static bool ipc_draining;
static const IpcKobjectOps *ipc_kobject_ops;
static const IpcAsyncOps *ipc_async_ops;
static IpcTraceFn ipc_trace;

/* ipc_set_trace() - who sees every message between tasks (NULL: nobody; the common case costs a test). */
void ipc_set_trace(IpcTraceFn fn) {
        ipc_trace = fn;
}

/* ipc_set_async_ops() - who hands messages ahead and grants credit (kernel/async). */
void ipc_set_async_ops(const IpcAsyncOps *ops) {
        ipc_async_ops = ops;
}

/* ipc_set_kobject_ops() - who serves kernel ports (the broker sets it at start-up). */
void ipc_set_kobject_ops(const IpcKobjectOps *ops) {
        ipc_kobject_ops = ops;
}

/* ipc_kobject_no_senders() - the last send right to kernel port @port went. */
void ipc_kobject_no_senders(Port *port) {
        if (ipc_kobject_ops && ipc_kobject_ops->no_senders)
                ipc_kobject_ops->no_senders(port);
}

void waiter_init(Waiter *w, Space *space) {
        memset(w, 0, sizeof(*w));
        list_init(&w->link);
        list_init(&w->done_link);
        w->space = space;
}

static void waiter_done(Waiter *w, uint8_t phase, int status) {
        w->state = WAITER_DONE;
        w->phase = phase;
        w->status = status;
        list_add_tail(&ipc_done, &w->done_link);
}

/**
 * ipc_waiter_finish() - end @w (idle: it never waited) with @status, as if
 * it had: it is answered when the broker settles, after every wait that
 * ended before it — a sender's answer after its receiver's message
 */
void ipc_waiter_finish(Waiter *w, uint8_t phase, int status) {
        waiter_done(w, phase, status);
}

/* ipc_done_pop() - the next finished wait, or NULL. */
Waiter *ipc_done_pop(void) {
        ListLink *l = list_pop(&ipc_done);
        if (!l)
                return NULL;
        Waiter *w = list_entry(l, Waiter, done_link);
        w->state = WAITER_IDLE;
        return w;
}

static uint32_t kmsg_qbytes(const Kmsg *k) {
        return k->size + k->attach_size;
}

/*
 * Has @port's queue no room?  A backlog is a count of messages; an
 * unlimited one is bounded by its receiver's task quotas on messages and
 * bytes (while the receive right travels, by the largest backlog).
 */
static bool queue_full(const Port *port) {
        /* Slots held as credit count as messages on their way, each as large as a
         * one-way message may be. */
        uint64_t n = (uint64_t)port->msgcount + port_reserved(port);
        if (port->qlimit != PORT_QLIMIT_UNLIMITED)
                return n >= port->qlimit;
        const Account *a = port->receiver ? port->receiver->acct_task : NULL;
        if (!a)
                return n >= PORT_QLIMIT_MAX;
        uint64_t bytes = port->qbytes + (uint64_t)port_reserved(port) * WIRE_ONE_WAY_MAX;
        return n >= a->limits->max[ACCT_MESSAGES] || bytes >= a->limits->max[ACCT_BYTES];
}

/* ipc_port_room() - slots free in @port's queue now, for credit. */
uint32_t ipc_port_room(const Port *port) {
        if (queue_full(port) || port->n_senders)
                return 0;
        uint64_t n = (uint64_t)port->msgcount + port_reserved(port);
        uint64_t max = port->qlimit;
        if (port->qlimit == PORT_QLIMIT_UNLIMITED) {
                const Account *a = port->receiver ? port->receiver->acct_task : NULL;
                max = a ? a->limits->max[ACCT_MESSAGES] : PORT_QLIMIT_MAX;
                if (a) {
                        /* And as many one-way messages as its bytes have room for. */
                        uint64_t used = port->qbytes + (uint64_t)port_reserved(port) * WIRE_ONE_WAY_MAX;
                        uint64_t by_bytes = n + (a->limits->max[ACCT_BYTES] - used) / WIRE_ONE_WAY_MAX;
                        if (by_bytes < max)
                                max = by_bytes;
                }
        }
        return max > n ? (uint32_t)(max - n > UINT32_MAX ? UINT32_MAX : max - n) : 0;
}

/* ipc_port_full() - would a plain send to @port have to wait? */
bool ipc_port_full(const Port *port) {
        return queue_full(port) || port->n_senders > 0;
}

static void enqueue(Port *p, Kmsg *k) {
        ipc_stats.sent++;
        list_add_tail(&p->queue, &k->link);
        p->msgcount++;
        p->qbytes += kmsg_qbytes(k);
        port_update_ready(p);
}

/* @k leaves @p's count (received, taken after a loan, or destroyed). */
static void uncount(Port *p, Kmsg *k) {
        p->msgcount--;
        p->qbytes -= kmsg_qbytes(k);
        if (!p->msgcount && !p->n_senders)
                p->transit_height = 0;  /* nothing waits in it: no chain below */
        if (k->credit && ipc_async_ops)
                ipc_async_ops->slot_freed(k);
}

static void dequeue(Port *p, Kmsg *k) {
        list_del(&k->link);
        uncount(p, k);
}

/* Admit the first waiting sender's message into @p's queue. */
static void admit_one(Port *p) {
        ListLink *l = list_pop(&p->senders);
        Kmsg *k = list_entry(l, Kmsg, link);
        p->n_senders--;
        if (k->waiter) {
                Waiter *w = k->waiter;
                k->waiter = NULL;
                w->kmsg = NULL;
                waiter_done(w, WAITER_SEND, 0);
        } else if (k->accept_notify) {
                /* SEND_NOTIFY: tell the sender its message was taken. */
                struct {
                        msg_type_t t;
                        uint32_t name;
                        uint32_t pad;
                } body = { { MSG_TYPE_INTEGER_32, 0, 1 }, k->accept_name, 0 };
                Port *notify = k->accept_notify;
                k->accept_notify = NULL;
                if (k->accept_space) {
                        k->accept_space->pending_notify = NULL;
                        k->accept_space = NULL;
                }
                ipc_send_kernel(notify, NOTIFY_MSG_ACCEPTED, &body, (uint32_t)MSG_ITEM_SIZE(4));
                port_unref(notify);
        }
        enqueue(p, k);
}

/* ipc_admit_senders() - admit waiting senders while @port has room (after a backlog change). */
void ipc_admit_senders(Port *port) {
        while (port->active && port->n_senders && !queue_full(port))
                admit_one(port);
        port_update_ready(port);
}

static Waiter *first_receiver(Port *p) {
        ListLink *l = list_first(&p->receivers);
        if (!l && p->pset)
                l = list_first(&p->pset->receivers);
        return l ? list_entry(l, Waiter, link) : NULL;
}

/*
 * Receive rights travel inside messages that wait in ports whose receive
 * rights travel too, and so on.  Each send carrying a receive right must
 * follow that chain to see whether it would close a loop, so its length is
 * bounded: a send that would make a chain longer than this (counting the
 * ports nested inside the rights it carries) is refused.  Each port keeps
 * an upper bound of the chains below it (transit_height), so the check is
 * a walk of at most this many steps.
 */
#define IPC_TRANSIT_DEPTH_MAX 64u

enum { TRANSIT_OK, TRANSIT_LOOP };

/*
 * Where would @k's receive rights end up?  Follow its destination up
 * through the messages carrying it: if a receive right of @k is on that
 * path, queueing @k would close a loop nobody could ever receive from.
 * Return: TRANSIT_OK (heights updated), TRANSIT_LOOP, or SEND_TOO_LARGE
 * (nested too deep; never for the broker's own messages).
 */
static int transit_check(Kmsg *k) {
        Port *chain[IPC_TRANSIT_DEPTH_MAX + 1];
        uint32_t depth = 0;
        bool too_deep = false;
        Port *d = k->dest;
        chain[0] = d;
        while (!d->receiver && d->transit && d->transit->dest) {
                if (depth == IPC_TRANSIT_DEPTH_MAX) {
                        too_deep = true;
                        break;
                }
                d = d->transit->dest;
                chain[++depth] = d;
        }
        uint32_t below = 0;
        for (uint32_t i = 0; i < k->n_rights; i++) {
                if (k->rights[i].kind != RIGHT_RECEIVE)
                        continue;
                const Port *r = k->rights[i].port;
                for (uint32_t j = 0; j <= depth; j++)
                        if (chain[j] == r)
                                return TRANSIT_LOOP;
                if (r->transit_height > below)
                        below = r->transit_height;
        }
        if ((too_deep || depth + 1 + below > IPC_TRANSIT_DEPTH_MAX) && !k->from_kernel)
                return SEND_TOO_LARGE;
        for (uint32_t j = 0; j <= depth; j++) {
                uint32_t h = below + 1 + j;
                if (h > UINT8_MAX)
                        h = UINT8_MAX;
                if (chain[j]->transit_height < h)
                        chain[j]->transit_height = (uint8_t)h;
        }
        return TRANSIT_OK;
}

/**
 * ipc_send() - send a copied-in message
 * @kmsg: the message; its destination is active (copy-in checked)
 * @sender: the sender's space (NULL for the broker's own messages)
 * @option: SEND_TIMEOUT, SEND_NOTIFY
 * @timeout: with SEND_TIMEOUT, 0 means do not wait
 * @w: the caller's waiter, used if it must wait (NULL: never wait)
 *
 * Conditions: on 0, SEND_WILL_NOTIFY and IPC_WAIT the engine owns @kmsg; on
 * any other return the caller still does.  A message the broker made is
 * charged to the destination's receiver (kmsg_charge_kernel()).
 * Return: 0, SEND_WILL_NOTIFY, SEND_NOTIFY_IN_PROGRESS, SEND_TIMED_OUT,
 * SEND_NO_BUFFER (a kernel call whose reply its receiver has no quota
 * for), SEND_TOO_LARGE (receive rights nested too deep), IPC_WAIT (the
 * outcome comes through the done list).
 */
int ipc_send(Kmsg *kmsg, Space *sender, uint32_t option, uint32_t timeout, Waiter *w) {
        Port *p = kmsg->dest;

        if (!p->active) {
                /* Only broker messages get here: a notification to a dead port. */
                kmsg_free(kmsg);
                return 0;
        }
        if (p->kobject && !p->receiver)
                return ipc_kobject_ops->serve(kmsg);
        if (kmsg->from_kernel)
                kmsg_charge_kernel(kmsg, p->receiver);
        else if (ipc_trace)
                ipc_trace(kmsg, sender);
        if (kmsg->n_receive) {
                int t = transit_check(kmsg);
                if (t == SEND_TOO_LARGE)
                        return t;
                if (t == TRANSIT_LOOP) {
                        /* As in Mach: the send succeeds and the loop is destroyed. */
                        ipc_stats.circular++;
                        kmsg_free(kmsg);
                        return 0;
                }
        }
        if (first_receiver(p)) {
                /* Someone waits: the message passes through the queue at once. */
                enqueue(p, kmsg);
                ipc_serve_receivers(p);
                return 0;
        }
        bool force = kmsg->dest_kind == RIGHT_SEND_ONCE || kmsg->dest_kind == RIGHT_KERNEL ||
                     (option & IPC_SEND_RESERVED);
        if (force || !ipc_port_full(p)) {
                enqueue(p, kmsg);
                return 0;
        }
        if (option & SEND_NOTIFY) {
                if (!sender)
                        return SEND_TIMED_OUT;
                if (sender->pending_notify)
                        return SEND_NOTIFY_IN_PROGRESS;
                sender->pending_notify = kmsg;
                kmsg->accept_space = sender;
                list_add_tail(&p->senders, &kmsg->link);
                p->n_senders++;
                port_update_ready(p);
                return SEND_WILL_NOTIFY;
        }
        if (!w || ((option & SEND_TIMEOUT) && timeout == 0))
                return SEND_TIMED_OUT;
        kmsg->waiter = w;
        w->kmsg = kmsg;
        w->state = WAITER_SEND;
        list_add_tail(&p->senders, &kmsg->link);
        p->n_senders++;
        port_update_ready(p);
        return IPC_WAIT;
}

/*
 * Take the next message of @p for a buffer of @rcv_size.  @p has a message
 * (queued or from a waiting sender).
 */
static int take(Port *p, uint32_t option, uint32_t rcv_size, Kmsg **kmsgp, uint32_t *neededp) {
        *kmsgp = NULL;
        if (option & IPC_RCV_LEND) {
                /* Lent: out of the queue, still in the count until taken or given back.
                 * A rendezvous sender is not admitted by a loan, nor is a message
                 * with descriptors or a receive right lent. */
                if (list_empty(&p->queue))
                        return IPC_NOT_LENDABLE;
                Kmsg *k = list_entry(list_first(&p->queue), Kmsg, link);
                if (k->n_fds)
                        return IPC_NOT_LENDABLE;
                /* Nor one carrying a receive right: a port changes hands only when received. */
                for (uint32_t i = 0; i < k->n_rights; i++)
                        if (k->rights[i].kind == RIGHT_RECEIVE)
                                return IPC_NOT_LENDABLE;
                list_del(&k->link);
                p->n_lent++;
                k->seqno = p->seqno++;
                ipc_stats.received++;
                if (list_linked(&p->ready_link))
                        list_del(&p->ready_link);
                port_update_ready(p);
                *kmsgp = k;
                return 0;
        }
        if (list_empty(&p->queue))
                admit_one(p);   /* a rendezvous, or room the queue never had */
        Kmsg *k = list_entry(list_first(&p->queue), Kmsg, link);
        if (k->size > rcv_size) {
                *neededp = k->size;
                if (option & RCV_LARGE)
                        return RCV_TOO_LARGE;
        }
        dequeue(p, k);
        k->seqno = p->seqno++;
        ipc_stats.received++;
        while (p->n_senders && !queue_full(p))
                admit_one(p);
        /* Back of the line for the set's next receive. */
        if (list_linked(&p->ready_link))
                list_del(&p->ready_link);
        port_update_ready(p);
        *kmsgp = k;
        return k->size > rcv_size ? RCV_TOO_LARGE : 0;
}

/**
 * ipc_serve_receivers() - give @port's messages to receivers waiting on it
 * or on its set, while both last
 */
void ipc_serve_receivers(Port *port) {
        Waiter *w;
        while (port->active && port_has_message(port) && (w = first_receiver(port))) {
                Kmsg *k;
                list_del(&w->link);
                w->port = port_unref(w->port);
                int status = take(port, w->option, w->rcv_size, &k, &w->needed);
                w->kmsg = k;
                waiter_done(w, WAITER_RCV, status);
                if (status == IPC_NOT_LENDABLE)
                        break;          /* it stays for a receive that can take it */
        }
}

/**
 * ipc_lent_taken() - a message lent out of @port was taken by its receiver:
 * its slot frees, a waiting sender may come in
 * @kmsg: the lent message; it still belongs to the caller
 */
void ipc_lent_taken(Port *port, Kmsg *kmsg) {
        port->n_lent--;
        uncount(port, kmsg);
        if (!port->active)
                return;
        while (port->n_senders && !queue_full(port))
                admit_one(port);
        port_update_ready(port);
        ipc_serve_receivers(port);
}

/**
 * ipc_lent_return() - a message lent out of @port comes back unread: to the
 * head of its queue (the caller gives back the latest first, so order holds)
 * @kmsg: taken; destroyed if @port died meanwhile
 */
void ipc_lent_return(Port *port, Kmsg *kmsg) {
        port->n_lent--;
        if (!port->active) {
                uncount(port, kmsg);
                kmsg_free(kmsg);
                return;
        }
        list_add_head(&port->queue, &kmsg->link);
        port_update_ready(port);
        ipc_serve_receivers(port);
}

/**
 * ipc_receive() - receive from a port or port set
 * @port: the port or set; the receiving space holds its receive right
 * @w: the caller's waiter, used if it must wait
 * @option: RCV_TIMEOUT, RCV_LARGE
 * @timeout: with RCV_TIMEOUT, 0 means poll
 * @rcv_size: the caller's buffer size
 * @kmsgp: out, the message (on RCV_TOO_LARGE without RCV_LARGE: the message
 *         to report and destroy)
 * @neededp: out, on RCV_TOO_LARGE the size needed
 *
 * Return: 0, RCV_TOO_LARGE, RCV_TIMED_OUT, IPC_WAIT.
 */
int ipc_receive(Port *port, Waiter *w, uint32_t option, uint32_t timeout, uint32_t rcv_size,
                Kmsg **kmsgp, uint32_t *neededp) {
        *kmsgp = NULL;
        if (port->is_set) {
                ListLink *l = list_first(&port->ready);
                if (l)
                        return take(list_entry(l, Port, ready_link), option, rcv_size, kmsgp, neededp);
        } else if (port_has_message(port)) {
                return take(port, option, rcv_size, kmsgp, neededp);
        }
        if ((option & RCV_TIMEOUT) && timeout == 0)
                return RCV_TIMED_OUT;
        w->state = WAITER_RCV;
        w->port = port_ref(port);
        w->option = option;
        w->rcv_size = rcv_size;
        list_add_tail(&port->receivers, &w->link);
        return IPC_WAIT;
}

/* Take a waiter out of whatever it waits on; a blocked message comes back in w->kmsg. */
static void waiter_unlink(Waiter *w) {
        if (w->state == WAITER_RCV) {
                list_del(&w->link);
                w->port = port_unref(w->port);
        } else if (w->state == WAITER_SEND) {
                Kmsg *k = w->kmsg;
                Port *p = k->dest;
                list_del(&k->link);
                p->n_senders--;
                k->waiter = NULL;
                port_update_ready(p);
        } else if (w->state == WAITER_DONE) {
                list_del(&w->done_link);
        }
        w->state = WAITER_IDLE;
}

/**
 * ipc_waiter_cancel() - end a wait with @status (a timeout)
 *
 * A blocked sender's message comes back in w->kmsg for a pseudo-receive.
 * A wait that already ended keeps its outcome.
 */
void ipc_waiter_cancel(Waiter *w, int status) {
        if (w->state == WAITER_DONE || w->state == WAITER_IDLE)
                return;
        uint8_t phase = w->state;
        waiter_unlink(w);
        waiter_done(w, phase, status);
}

/**
 * ipc_waiter_abort() - forget a wait whose task is going away
 *
 * A message it held (blocked, or received but not yet delivered) is destroyed.
 */
void ipc_waiter_abort(Waiter *w) {
        waiter_unlink(w);
        w->kmsg = kmsg_free(w->kmsg);
}

/* ipc_port_wake_receivers() - end every receive waiting on @port with @status. */
void ipc_port_wake_receivers(Port *port, int status) {
        ListLink *l;
        while ((l = list_first(&port->receivers))) {
                Waiter *w = list_entry(l, Waiter, link);
                ipc_waiter_cancel(w, status);
        }
}

static void port_destroy_now(Port *p) {
        ListLink *l;

        if (p->is_set) {
                while ((l = list_first(&p->members)))
                        port_set_remove(list_entry(l, Port, member_link));
        }
        ipc_port_wake_receivers(p, RCV_PORT_DIED);
        while ((l = list_first(&p->senders))) {
                Kmsg *k = list_entry(l, Kmsg, link);
                if (k->waiter) {
                        /* Its sender gets the message back with SEND_INVALID_DEST. */
                        ipc_waiter_cancel(k->waiter, SEND_INVALID_DEST);
                } else {
                        list_del(&k->link);
                        p->n_senders--;
                        kmsg_free(k);
                }
        }
        while ((l = list_first(&p->queue))) {
                Kmsg *k = list_entry(l, Kmsg, link);
                dequeue(p, k);
                kmsg_free(k);
        }
        if (ipc_async_ops)
                ipc_async_ops->port_dead(p);
        ipc_port_set_receiver(p, NULL, 0);
        notify_port_dead(p);
        notify_port_clear(p);
}

/**
 * ipc_port_destroy() - destroy a port or port set
 *
 * Conditions: the caller has removed the receive right from its holder's
 * space (or the right was in a message being destroyed).  If the port has a
 * port-destroyed request its receive right goes to the backup and the port
 * lives on; otherwise it becomes inactive at once: rights to it are dead
 * names from now on, and dead-name requests fire.
 */
void ipc_port_destroy(Port *port) {
        if (!port->active)
                return;
        /* A backup owner gets the receive right instead. */
        if (notify_port_destroyed(port))
                return;
        port->active = false;
        port_ref(port);
        /* Out of its set first: the dying list uses the set-membership link. */
        port_set_remove(port);
        list_add_tail(&ipc_dying, &port->member_link);
        if (ipc_draining)
                return;
        ipc_draining = true;
        ListLink *l;
        while ((l = list_pop(&ipc_dying))) {
                Port *p = list_entry(l, Port, member_link);
                port_destroy_now(p);
                port_unref(p);
        }
        ipc_draining = false;
}

/**
 * ipc_kobject_port_destroy() - the object behind a kernel port is gone: the
 * port dies (rights to it become dead names) and its reference is dropped
 */
void ipc_kobject_port_destroy(Port *port) {
        port->kobject = NULL;
        port->kobject_type = KOBJECT_NONE;
        ipc_port_destroy(port);
        port_unref(port);
}

/**
 * right_release() - a message or the broker lets go of a right
 * @port: the port (NULL for RIGHT_NONE; for RIGHT_DEAD, NULL or a reference to the dead port)
 * @kind: RIGHT_*
 *
 * A send-once right released unused tells its port with a send-once
 * notification; a receive right destroys its port.  Consumes the reference.
 */
void right_release(Port *port, uint8_t kind) {
        switch (kind) {
        case RIGHT_SEND:
                notify_srights_dec(port);
                break;
        case RIGHT_SEND_ONCE:
                notify_sorights_dec(port, true);
                break;
        case RIGHT_RECEIVE:
                port->transit = NULL;
                ipc_port_destroy(port);
                break;
        default:
                break;
        }
        port_unref(port);
}

/**
 * ipc_send_kernel() - send a message from the broker to @dest
 * @id: msg_id
 * @body, @body_size: the items (a multiple of 8 bytes), or NULL, 0
 *
 * It is always queued: messages from the broker ignore the backlog, as
 * messages to send-once rights do, so a notification is never lost.
 * Return: 0 or -ENOMEM.
 */
int ipc_send_kernel(Port *dest, int32_t id, const void *body, uint32_t body_size) {
        Kmsg *k;
        uint32_t size = (uint32_t)sizeof(msg_header_t) + body_size;
        int r = kmsg_new(&k, size, 0, 0);
        if (r < 0)
                return r;
        msg_header_t h = { .msg_size = size, .msg_id = id };
        wire_msg_header_put(k->data, &h);
        if (body_size)
                memcpy(k->data + sizeof(h), body, body_size);
        k->dest = port_ref(dest);
        k->dest_kind = RIGHT_KERNEL;
        k->from_kernel = true;
        ipc_stats.notifications++;
        return ipc_send(k, NULL, 0, 0, NULL);
}

/**
 * ipc_space_terminate() - release every right @s holds, as when a Mach task
 * terminates: its ports die (their queues destroyed, waiters woken), its send
 * rights go, its unused send-once rights send send-once notifications.  The
 * space is empty afterwards; a SEND_NOTIFY message it left stays queued.
 */
void ipc_space_terminate(Space *s) {
        for (uint32_t i = 1; i < s->n_slots; i++) {
                SpaceEntry *e = &s->entries[i];
                if (!e->name)
                        continue;
                Port *p = e->port;
                if (e->bits & ENTRY_SEND)
                        notify_srights_dec(p);
                if (e->bits & ENTRY_SEND_ONCE)
                        notify_sorights_dec(p, true);
                if (e->bits & (ENTRY_RECEIVE | ENTRY_PORT_SET)) {
                        ipc_port_set_receiver(p, NULL, 0);
                        ipc_port_destroy(p);
                }
                notify_entry_dealloc(s, e);
        }
        if (s->pending_notify) {
                /* The message stays with the broker; nobody is left to notify. */
                s->pending_notify->accept_space = NULL;
                s->pending_notify = NULL;
        }
}

/**
 * ipc_port_recall_lent() - what @port's receiver holds on loan goes back to
 * the queue (the port changes sets: a receive through the new set must not
 * overtake it)
 */
void ipc_port_recall_lent(Port *port) {
        if (port->receiver && port->n_lent && ipc_async_ops)
                ipc_async_ops->receiver_leaving(port, port->receiver, false);
}

/**
 * ipc_port_set_receiver() - @space (name @name) now holds @port's receive
 * right; NULL: nobody (it travels, or is being destroyed)
 *
 * The receiver pays for the send-once rights made to its port (each a
 * promise of one message to it), so their charge moves with the right.
 */
void ipc_port_set_receiver(Port *port, Space *space, uint32_t name) {
        Space *old = port->receiver;
        /* A receive right leaving its task leaves its set first, so that what goes back
         * to its queue is not handed to the old holder again through the set's arm. */
        if (old && !space)
                port_set_remove(port);
        /* What was lent to the old holder goes back to the queue first. */
        if (old && old != space && (port->n_lent || port_armed(port)) && ipc_async_ops)
                ipc_async_ops->receiver_leaving(port, old, true);
        if (old != space && port->n_sorights) {
                if (old)
                        account_release(old->acct_task, old->acct_uid, ACCT_KMSGS, port->n_sorights);
                if (space)
                        account_charge_force(space->acct_task, space->acct_uid, ACCT_KMSGS, port->n_sorights);
        }
        port->receiver = space;
        port->receiver_name = name;
}

/*
 * ipc_space_can_take_reply() - may the broker queue @space one more message
 * of its own (a kernel call's reply)?  NULL (nobody receives) always may.
 * @promised: it goes to a send-once right, whose making counted it already.
 */
bool ipc_space_can_take_reply(const Space *space, bool promised) {
        if (!space)
                return true;
        if (!promised && account_full(space->acct_task, space->acct_uid, ACCT_KMSGS))
                return false;
        return !account_full(space->acct_task, space->acct_uid, ACCT_KBYTES);
}

/* ipc_fds_room() - may messages hold @n more descriptors (the broker's budget)? */
bool ipc_fds_room(uint64_t n) {
        return !ipc_stats.fds_budget || ipc_stats.fds_in_flight + n <= ipc_stats.fds_budget;
}
