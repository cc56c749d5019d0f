/* SPDX-License-Identifier: MIT */
/*
 * lend.c - messages handed to a task ahead of its receives
 *
 * A task that arms a port (or port set) has its messages sent to it as they
 * arrive, as event frames, with no request per message; a receive may ask
 * for more of what is queued behind the message it returns.  Either way the
 * message is *lent*: it has left the queue, its rights are names in the
 * task, but it still counts in the port's backlog and msgcount until the
 * task says it took it (a LENT frame, batched: no round trip per message).
 * So backlog, sequence numbers and port_status stay as if the message were
 * still queued, which it is, as far as any other task can tell.
 *
 * A lent message the task has not taken goes back to the head of its queue,
 * its rights taken back from the task (kmsg_uncopyout()), when the task
 * disarms, when the port's receive right leaves the task (moved, destroyed,
 * given to a backup) and when the task ends — so nothing is lost and, since
 * the library tells the broker what it took before any of these, nothing is
 * duplicated either.  A message carrying descriptors is never lent: the arm
 * stalls, the task is told (READY), and a real receive takes it.
 *
 * Everything lent is bounded: LEND_WINDOW_MAX per arm, LEND_MANY_MAX per
 * receive, LEND_TASK_MAX messages and LEND_BYTES_MAX bytes per task; lent
 * messages stay charged to their senders (and count in their ports'
 * backlogs), and the frames to the task's unread-bytes limit.
 */

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "async/lend.h"
#include "ipc/kmsg.h"
#include "ipc/origin.h"
#include "ipc/port.h"
#include "ipc/space.h"
#include "peer.h"
#include "util/log.h"
#include "wire.h"

/* @k was lent out of its port (by take()) but never reached the task: it goes back. */
static void unlend(Kmsg *k) {
        Port *p = k->dest;
        if (p->active && p->seqno && k->seqno + 1 == p->seqno)
                p->seqno--;
        ipc_lent_return(p, k);
}

/*
 * Messages handed over are written in batches: one PUSH frame carries up
 * to WIRE_PUSH_MAX of them, filed under one name, so a burst costs the
 * broker and the task one write and one read.  The broker is one thread:
 * one batch is built at a time, in this buffer.
 */
static uint8_t push_buf[WIRE_FRAME_MAX];

typedef struct {
        Peer *peer;
        uint32_t name;
        bool arm;
        uint32_t n;
        size_t len;
} Push;

static void push_begin(Push *b, Peer *peer, uint32_t name, bool arm) {
        b->peer = peer;
        b->name = name;
        b->arm = arm;
        b->n = 0;
        b->len = WIRE_HDR_SIZE + WIRE_EVENT_SIZE;
}

/* Write what the batch holds (nothing if empty); it may go on. */
static void push_flush(Push *b) {
        if (!b->n)
                return;
        WireHeader h = { .size = (uint32_t)b->len, .op = WIRE_OP_EVENT | WIRE_OP_REPLY, .serial = 0 };
        WireEvent e = { .type = WIRE_EVENT_PUSH, .a = b->n, .b = b->name,
                        .reserved = b->arm ? WIRE_PUSH_FROM_ARM : 0 };
        wire_header_encode(push_buf, &h);
        wire_event_encode(push_buf + WIRE_HDR_SIZE, &e);
        peer_send(b->peer, push_buf, b->len);
        b->n = 0;
        b->len = WIRE_HDR_SIZE + WIRE_EVENT_SIZE;
}

/* Hand @k (just lent out of its port) over, received, in batch @b. */
static void lend(Push *b, Kmsg *k, Arm *arm) {
        Peer *peer = b->peer;
        Lent *l = calloc(1, sizeof(*l));
        if (!l) {
                /* Out of memory: it goes back where it was, as if never received. */
                unlend(k);
                return;
        }
        if (++peer->next_lend_id == 0)
                peer->next_lend_id = 1;
        l->id = peer->next_lend_id;
        l->kmsg = k;
        l->port = port_ref(k->dest);
        l->arm = arm;
        list_add_tail(&peer->lents, &l->link);
        peer->n_lent++;
        peer->lent_bytes += (uint64_t)k->size + k->attach_size;
        if (arm)
                arm->n_lent++;
        /* A relayed message says where it came from, to a task that speaks 1.2. */
        uint32_t origin = k->origin && peer->minor >= 2 ? WIRE_ORIGIN_SIZE : 0;
        size_t need = WIRE_PUSH_RECORD_SIZE + (size_t)k->size + k->attach_size + origin;
        if (b->n == WIRE_PUSH_MAX || b->len + need > sizeof(push_buf))
                push_flush(b);
        uint8_t *r = push_buf + b->len;
        WirePushRecord rec = { .id = l->id,
                               .flags = (k->from_kernel ? WIRE_REPLY_KERNEL : 0) | (origin ? WIRE_REPLY_REMOTE : 0),
                               .pid = k->pid, .uid = k->uid, .gid = k->gid,
                               .size = k->size + k->attach_size + origin };
        wire_push_record_encode(r, &rec);
        kmsg_copyout_lend(peer->task.space, k, r + WIRE_PUSH_RECORD_SIZE);
        memcpy(r + WIRE_PUSH_RECORD_SIZE + k->size, k->data + k->size, k->attach_size);
        if (origin)
                origin_encode(k->origin, r + WIRE_PUSH_RECORD_SIZE + k->size + k->attach_size);
        b->len += need;
        b->n++;
}

static void arm_done(Waiter *w);

/* Lend what is there into @b, then wait for more, while the window has room. */
static void arm_listen(Arm *a, Push *b) {
        Peer *peer = a->peer;
        while (!a->waiting && !a->stalled && a->n_lent < a->window && peer->n_lent < LEND_TASK_MAX &&
               peer->lent_bytes < LEND_BYTES_MAX && !peer->dead) {
                Kmsg *k = NULL;
                uint32_t needed = 0;
                waiter_init(&a->w, peer->task.space);
                a->w.done = arm_done;
                int st = ipc_receive(a->port, &a->w, IPC_RCV_LEND, 0, MSG_SIZE_MAX, &k, &needed);
                if (st == IPC_WAIT) {
                        a->waiting = true;
                } else if (st == 0 && k) {
                        lend(b, k, a);
                } else {
                        /* IPC_NOT_LENDABLE: the task must receive it for real, after those before it. */
                        a->stalled = true;
                        push_flush(b);
                        peer_event(peer, WIRE_EVENT_READY, a->name, 0);
                }
        }
}

/* arm_listen() in a batch of its own. */
static void arm_listen_now(Arm *a) {
        Push b;
        push_begin(&b, a->peer, a->name, true);
        arm_listen(a, &b);
        push_flush(&b);
}

static void arm_free(Arm *a) {
        if (a->waiting) {
                /* A message lent to the arm but not yet handed over goes back. */
                Kmsg *k = a->w.kmsg;
                a->w.kmsg = NULL;
                if (k)
                        unlend(k);
                ipc_waiter_abort(&a->w);
        }
        for (ListLink *l = a->peer->lents.next; l != &a->peer->lents; l = l->next) {
                Lent *lent = list_entry(l, Lent, link);
                if (lent->arm == a)
                        lent->arm = NULL;
        }
        list_del(&a->link);
        a->peer->n_arms--;
        a->port->requests->n_armed--;
        port_unref(a->port);
        free(a);
}

/* The standing receive of an arm ended: a message to lend, a stall, or the end of the port. */
static void arm_done(Waiter *w) {
        Arm *a = (Arm *)((char *)w - offsetof(Arm, w));
        Peer *peer = a->peer;
        a->waiting = false;
        Kmsg *k = w->kmsg;
        w->kmsg = NULL;
        if (w->status == 0 && k) {
                Push b;
                push_begin(&b, peer, a->name, true);
                lend(&b, k, a);
                arm_listen(a, &b);
                push_flush(&b);
        } else if (w->status == IPC_NOT_LENDABLE) {
                a->stalled = true;
                peer_event(peer, WIRE_EVENT_READY, a->name, 0);
        } else {
                /* The port died or its receive right left the task: the arm ends. */
                kmsg_free(k);
                peer_event(peer, WIRE_EVENT_READY, a->name, RCV_PORT_DIED);
                arm_free(a);
        }
}

static Arm *arm_find(Peer *peer, uint32_t name) {
        for (ListLink *l = peer->arms.next; l != &peer->arms; l = l->next) {
                Arm *a = list_entry(l, Arm, link);
                if (a->name == name)
                        return a;
        }
        return NULL;
}

/* Give @l's message back to the head of its queue, its rights out of the task. */
static void give_back(Peer *peer, Lent *l) {
        Kmsg *k = l->kmsg;
        Port *p = l->port;
        kmsg_uncopyout(peer->task.space, k);
        peer->lent_bytes -= (uint64_t)k->size + k->attach_size;
        /* It is received again later: its sequence number too, if it was the last one. */
        if (p->active && p->seqno && k->seqno + 1 == p->seqno)
                p->seqno--;
        list_del(&l->link);
        peer->n_lent--;
        if (l->arm)
                l->arm->n_lent--;
        ipc_lent_return(p, k);
        port_unref(p);
        free(l);
}

/* Give back the lent messages @want picks, the latest first so that queue order holds. */
static void give_back_where(Peer *peer, bool (*want)(const Lent *l, const void *arg), const void *arg) {
        ListLink *l = peer->lents.prev;
        while (l != &peer->lents) {
                Lent *lent = list_entry(l, Lent, link);
                l = l->prev;
                if (want(lent, arg))
                        give_back(peer, lent);
        }
}

static bool of_arm(const Lent *l, const void *arg) {
        return l->arm == arg;
}

static bool of_port(const Lent *l, const void *arg) {
        return l->port == arg;
}

/**
 * lend_arm() - hand @name's messages to the task as they come (@window at
 * most not yet taken); @window 0 disarms
 *
 * Disarming gives back what the task has not said it took.
 * Return: 0, RCV_INVALID_NAME (not a receive right or port set of the task),
 * KERN_INVALID_VALUE (@window above LEND_WINDOW_MAX), KERN_RESOURCE_SHORTAGE.
 */
int lend_arm(Peer *peer, uint32_t name, uint32_t window) {
        Arm *a = arm_find(peer, name);
        if (window == 0) {
                if (a) {
                        give_back_where(peer, of_arm, a);
                        arm_free(a);
                }
                return 0;
        }
        if (window > LEND_WINDOW_MAX)
                return KERN_INVALID_VALUE;
        SpaceEntry *e = space_lookup(peer->task.space, name);
        if (!e || !(e->bits & (ENTRY_RECEIVE | ENTRY_PORT_SET)))
                return RCV_INVALID_NAME;
        if (!a) {
                PortRequests *rq = port_requests(e->port);
                if (peer->n_arms >= LEND_ARMS_MAX || !rq || !(a = calloc(1, sizeof(*a))))
                        return KERN_RESOURCE_SHORTAGE;
                a->peer = peer;
                a->port = port_ref(e->port);
                rq->n_armed++;
                a->name = name;
                list_add_tail(&peer->arms, &a->link);
                peer->n_arms++;
        }
        a->window = window;
        a->stalled = false;
        arm_listen_now(a);
        return 0;
}

/**
 * lend_resume() - the task received from @name for real: an arm that
 * stalled on a message it could not lend goes on
 */
void lend_resume(Peer *peer, uint32_t name) {
        Arm *a = arm_find(peer, name);
        if (a && a->stalled) {
                a->stalled = false;
                arm_listen_now(a);
        }
}

/**
 * lend_take_many() - a receive of many returned its message from @port: take
 * up to @n more of what is queued there now, to lend after the reply
 * @out: where they go (LEND_MANY_MAX at most)
 *
 * Only from a port in no set: a receive through the set could otherwise
 * overtake what waits in the task.  The reply says how many follow, so
 * the task waits for them before receiving there again.
 * Return: how many were taken (lend_push_many() hands them over).
 */
uint32_t lend_take_many(Peer *peer, Port *port, uint32_t n, Kmsg **out) {
        uint32_t got = 0;
        if (port->is_set || port->pset)
                return 0;
        if (n > LEND_MANY_MAX)
                n = LEND_MANY_MAX;
        uint64_t bytes = peer->lent_bytes;
        while (got < n && peer->n_lent + got < LEND_TASK_MAX && bytes < LEND_BYTES_MAX) {
                Waiter w;
                Kmsg *k = NULL;
                uint32_t needed;
                waiter_init(&w, peer->task.space);
                if (ipc_receive(port, &w, IPC_RCV_LEND | RCV_TIMEOUT, 0, MSG_SIZE_MAX, &k, &needed) != 0 || !k)
                        break;
                out[got++] = k;
                bytes += (uint64_t)k->size + k->attach_size;
        }
        return got;
}

/* lend_push_many() - hand over what lend_take_many() took, after the reply that counted them. */
void lend_push_many(Peer *peer, Kmsg **kmsgs, uint32_t n, uint32_t rcv_name) {
        Push b;
        push_begin(&b, peer, rcv_name, false);
        for (uint32_t i = 0; i < n; i++)
                lend(&b, kmsgs[i], NULL);
        push_flush(&b);
}

/**
 * lend_taken() - the task took these lent messages (LENT frame)
 * @ids: lend ids, each lent to this task and not yet taken
 *
 * Return: 0, or -EINVAL for an id that is not (a protocol violation).
 */
int lend_taken(Peer *peer, const uint32_t *ids, uint32_t n) {
        for (uint32_t i = 0; i < n; i++) {
                Lent *found = NULL;
                /* Usually the oldest: taken in the order lent. */
                for (ListLink *l = peer->lents.next; l != &peer->lents; l = l->next) {
                        Lent *lent = list_entry(l, Lent, link);
                        if (lent->id == ids[i]) {
                                found = lent;
                                break;
                        }
                }
                if (!found)
                        return -EINVAL;
                list_del(&found->link);
                peer->n_lent--;
                peer->lent_bytes -= (uint64_t)found->kmsg->size + found->kmsg->attach_size;
                Arm *a = found->arm;
                if (a)
                        a->n_lent--;
                ipc_lent_taken(found->port, found->kmsg);
                kmsg_free(found->kmsg);
                port_unref(found->port);
                free(found);
        }
        /* Room in the windows again. */
        for (ListLink *l = peer->arms.next; l != &peer->arms;) {
                Arm *a = list_entry(l, Arm, link);
                l = l->next;
                arm_listen_now(a);
        }
        return 0;
}

/**
 * lend_give_back_port() - @port's receive right is leaving its task (moved,
 * destroyed, given to a backup): what was lent from it and not taken goes
 * back to its queue first
 */
void lend_give_back_port(Peer *peer, Port *port) {
        give_back_where(peer, of_port, port);
}

/**
 * lend_end_arms() - @port's (or set's) receive right leaves the task, or it
 * is destroyed: its arms end, and the task hears so (READY, RCV_PORT_DIED)
 */
void lend_end_arms(Peer *peer, Port *port) {
        for (ListLink *l = peer->arms.next; l != &peer->arms;) {
                Arm *a = list_entry(l, Arm, link);
                l = l->next;
                if (a->port != port)
                        continue;
                peer_event(peer, WIRE_EVENT_READY, a->name, RCV_PORT_DIED);
                arm_free(a);
        }
}

/**
 * lend_peer_end() - the task ends: everything lent to it goes back to its
 * queue (whose port then dies with the task, or goes to a backup), and its
 * arms end
 */
void lend_peer_end(Peer *peer) {
        ListLink *l;
        while ((l = peer->lents.prev) != &peer->lents)
                give_back(peer, list_entry(l, Lent, link));
        while ((l = list_first(&peer->arms)))
                arm_free(list_entry(l, Arm, link));
}
