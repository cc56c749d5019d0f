/* SPDX-License-Identifier: MIT */
/*
 * credit.c - send credit: slots of a port's backlog a sender holds, so that
 * its plain sends go out without waiting for the broker
 *
 * After a send that went straight into a port's queue, the broker may grant
 * the sender credit on that port: a few slots of its backlog, reserved for
 * it (port_reserved() counts them as occupied, for every sender, exactly
 * as messages on their way would be).  A send that fits — no rights, no
 * out-of-line memory, no descriptors, a plain send right to the
 * destination, credit left — is then written as a one-way frame and the
 * library returns SEND_SUCCESS at once: its slot is there.  Once half of
 * its credit is used, the broker tops it up (a CREDIT event) from the room
 * the queue still has, and again as the receiver frees slots, so a steady
 * stream needs no round trip while the queue has room; when it is full,
 * sends wait as Mach's do, each for a slot, blocked senders first.  The
 * sender gives unused credit back with its next ordinary send to the port
 * or when it lets its right go; when the port dies the credit is revoked
 * (a REVOKE event, sent before any notification of the death can reach the
 * task), so a task that knows the port is dead never sends to it with
 * credit again.
 *
 * Bounded: CREDIT_WINDOW unused slots per sender and port, CREDIT_TASK_MAX
 * per sender, CREDIT_PORTS_MAX ports per sender, and a grant takes at most
 * a quarter of the room left, so one sender's credit never fills a queue.
 * Each slot is charged to the holder's message and byte quotas (a sender
 * past them gets none), and counts in the port's backlog as a message on
 * its way.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "async/credit.h"
#include "ipc/account.h"
#include "ipc/ipc.h"
#include "ipc/kmsg.h"
#include "ipc/port.h"
#include "ipc/space.h"
#include "peer.h"
#include "wire.h"

static Credit *credit_of_port(Peer *peer, const Port *port) {
        for (ListLink *l = peer->credits.next; l != &peer->credits; l = l->next) {
                Credit *c = list_entry(l, Credit, peer_link);
                if (c->port == port)
                        return c;
        }
        return NULL;
}

static Credit *credit_of_name(Peer *peer, uint32_t name) {
        for (ListLink *l = peer->credits.next; l != &peer->credits; l = l->next) {
                Credit *c = list_entry(l, Credit, peer_link);
                if (c->name == name)
                        return c;
        }
        return NULL;
}

static void credit_unref(Credit *c) {
        if (--c->refs)
                return;
        port_unref(c->port);
        free(c);
}

/* Each slot holds one message and WIRE_ONE_WAY_MAX bytes of its holder's quotas. */
static bool charge_slots(Peer *peer, uint32_t n) {
        Space *s = peer->task.space;
        if (!account_charge(s->acct_task, s->acct_uid, ACCT_MESSAGES, n))
                return false;
        if (!account_charge(s->acct_task, s->acct_uid, ACCT_BYTES, (uint64_t)n * WIRE_ONE_WAY_MAX)) {
                account_release(s->acct_task, s->acct_uid, ACCT_MESSAGES, n);
                return false;
        }
        return true;
}

static void release_slots(Peer *peer, uint32_t n) {
        Space *s = peer->task.space;
        account_release(s->acct_task, s->acct_uid, ACCT_MESSAGES, n);
        account_release(s->acct_task, s->acct_uid, ACCT_BYTES, (uint64_t)n * WIRE_ONE_WAY_MAX);
}

/* Give back @n slots @c holds; they may let a waiting sender in. */
static void release(Credit *c, uint32_t n) {
        c->reserved -= n;
        c->port->requests->n_reserved -= n;
        if (c->holder) {
                c->holder->credit_slots -= n;
                release_slots(c->holder, n);
        }
        if (n && c->port->active)
                ipc_admit_senders(c->port);
}

/* The holder is done with @c: its slots go back, it leaves both lists. */
static void credit_drop(Credit *c) {
        release(c, c->reserved);
        list_del(&c->port_link);
        if (c->holder) {
                list_del(&c->peer_link);
                c->holder->n_credits--;
                c->holder = NULL;
        }
        credit_unref(c);
}

/* How many slots @c may be granted now (0: none). */
static uint32_t grantable(const Credit *c, const Peer *peer) {
        uint32_t have = c->reserved;
        if (have >= CREDIT_WINDOW || peer->credit_slots >= CREDIT_TASK_MAX || !c->port->active)
                return 0;
        const Space *s = peer->task.space;
        if (account_full(s->acct_task, s->acct_uid, ACCT_MESSAGES) ||
            account_full(s->acct_task, s->acct_uid, ACCT_BYTES))
                return 0;
        uint32_t g = CREDIT_WINDOW - have;
        uint32_t room = ipc_port_room(c->port) / 4;
        if (g > room)
                g = room;
        if (g > CREDIT_TASK_MAX - peer->credit_slots)
                g = CREDIT_TASK_MAX - peer->credit_slots;
        return g;
}

/* Grant @g slots, if the holder's quotas can hold them; returns what was granted. */
static uint32_t grant(Credit *c, uint32_t g) {
        if (!g || !charge_slots(c->holder, g))
                return 0;
        c->reserved += g;
        c->port->requests->n_reserved += g;
        c->holder->credit_slots += g;
        return g;
}

/*
 * Top @c up while its holder sends, before it runs out: once half its window
 * is used and the queue has room for at least that much more, a CREDIT event
 * grants it (so a steady stream costs one event per half window, and no
 * request at all while the receiver keeps up).
 */
static void refill(Credit *c, Peer *peer) {
        if (c->reserved > CREDIT_WINDOW / 2)
                return;
        uint32_t g = grantable(c, peer);
        if (g >= CREDIT_WINDOW / 2 && grant(c, g))
                peer_event(peer, WIRE_EVENT_CREDIT, c->name, g);
}

/**
 * credit_after_send() - a send of @peer's went straight into its port's
 * queue: grant credit on that port, if it may have some
 * @dest: the port (the caller holds a reference)
 * @dest_kind, @dest_disp: the right the message held for it, and how it was named
 * @dest_name: the task's name for the destination
 *
 * Only a plain send right used as it is (copied) earns credit.
 * Return: the slots granted (for the reply's credit field), 0 for none.
 */
uint32_t credit_after_send(Peer *peer, Port *dest, uint8_t dest_kind, uint8_t dest_disp, uint32_t dest_name) {
        Port *p = dest;
        if (peer->minor < 1 || dest_kind != RIGHT_SEND || dest_disp != MSG_TYPE_COPY_SEND || !p ||
            !p->active || p->kobject)
                return 0;
        Credit *c = credit_of_port(peer, p);
        if (!c) {
                if (peer->n_credits >= CREDIT_PORTS_MAX || ipc_port_room(p) / 4 == 0)
                        return 0;
                PortRequests *rq = port_requests(p);
                if (!rq || !(c = calloc(1, sizeof(*c))))
                        return 0;
                c->holder = peer;
                c->port = port_ref(p);
                c->refs = 1;
                list_add_tail(&peer->credits, &c->peer_link);
                list_add_tail(&rq->credits, &c->port_link);
                peer->n_credits++;
        }
        c->name = dest_name;
        uint32_t g = grant(c, grantable(c, peer));
        if (!c->reserved && !c->queued)
                credit_drop(c);
        return g;
}

/**
 * credit_give_back() - @peer gives back @n unused slots of its credit for @name
 *
 * Credit it no longer has is no error: the port may have died and its
 * REVOKE crossed the give-back on the way.
 * Return: 0, or -EINVAL if it holds fewer there (a protocol violation).
 */
int credit_give_back(Peer *peer, uint32_t name, uint32_t n) {
        if (!n)
                return 0;
        Credit *c = credit_of_name(peer, name);
        if (!c)
                return 0;
        if (c->reserved < n)
                return -EINVAL;
        release(c, n);
        if (!c->reserved && !c->queued)
                credit_drop(c);
        return 0;
}

/**
 * credit_send() - a one-way send (WIRE_FLAG_ONE_WAY), which @peer may make
 * only with credit: queue it in its reserved slot
 * @msg, @size, @attach: the message and the bytes of its attachment
 *
 * A message to a name that no longer holds a send right (the task gave it
 * up meanwhile) or to a port that died is destroyed, as Mach destroys
 * messages sent before a port's death; the task hears REVOKE if it still
 * counted on that credit.
 * Return: 0, or -EPROTO: a message that may not go one way, or one sent
 * past the task's credit (the task is dropped).
 */
int credit_send(Peer *peer, const uint8_t *msg, uint32_t size, uint32_t attach) {
        WireMsgInfo info;
        msg_header_t h;
        if (peer->minor < 1 || wire_msg_check(msg, size, attach, &info) != 0 || info.n_rights || info.n_fds)
                return -EPROTO;
        wire_msg_header_get(msg, &h);
        if (h.msg_local_port != PORT_NULL || info.local_disp || size + attach > WIRE_ONE_WAY_MAX ||
            (info.remote_disp && info.remote_disp != MSG_TYPE_COPY_SEND))
                return -EPROTO;
        SpaceEntry *e = space_lookup(peer->task.space, h.msg_remote_port);
        Credit *c = NULL;
        if (!e || !(e->bits & ENTRY_SEND) || !e->port->active) {
                /* Its right or its port is gone: the message with it. */
                c = credit_of_name(peer, h.msg_remote_port);
                if (c && c->port->active && (!e || e->port != c->port)) {
                        peer_event(peer, WIRE_EVENT_REVOKE, c->name, 0);
                        credit_drop(c);
                }
                ipc_stats.credit_dropped++;
                return 0;
        }
        c = credit_of_port(peer, e->port);
        if (!c || !c->reserved)
                return -EPROTO;
        /* The slot is used, whatever becomes of the message: its reservation
         * becomes the message's own charge, its place in the queue the message's. */
        c->reserved--;
        c->port->requests->n_reserved--;
        peer->credit_slots--;
        release_slots(peer, 1);
        Kmsg *k;
        int st = kmsg_copyin_charged(peer->task.space, msg, size, attach, &info, NULL, 0, &k, true);
        if (st != 0) {
                ipc_stats.credit_dropped++;
                if (c->port->active)
                        ipc_admit_senders(c->port);
                if (!c->reserved && !c->queued)
                        credit_drop(c);
                return st < 0 ? 0 : -EPROTO;
        }
        k->pid = peer->pid;
        k->uid = peer->uid;
        k->gid = peer->gid;
        c->queued++;
        c->refs++;
        k->credit = c;
        if (ipc_send(k, peer->task.space, IPC_SEND_RESERVED, 0, NULL) != 0)
                kmsg_free(k);
        refill(c, peer);
        return 0;
}

/**
 * credit_slot_freed() - a message sent with credit left its port's count
 * (received, taken, or destroyed): its slot may go back to the sender, in
 * batches of at least half a window so that a stream costs one CREDIT event
 * per CREDIT_WINDOW / 2 messages
 */
void credit_slot_freed(Kmsg *kmsg) {
        Credit *c = kmsg->credit;
        kmsg->credit = NULL;
        c->queued--;
        if (c->holder && !c->holder->dead)
                refill(c, c->holder);
        credit_unref(c);
}

/**
 * credit_port_dead() - @port died: every credit on it is void, and each
 * holder hears REVOKE now, before anything else can tell it of the death
 */
void credit_port_dead(Port *port) {
        PortRequests *rq = port->requests;
        ListLink *l;
        while (rq && (l = list_first(&rq->credits))) {
                Credit *c = list_entry(l, Credit, port_link);
                if (c->holder)
                        peer_event(c->holder, WIRE_EVENT_REVOKE, c->name, 0);
                credit_drop(c);
        }
}

/* credit_peer_end() - the holder ends: its slots go back. */
void credit_peer_end(Peer *peer) {
        ListLink *l;
        while ((l = list_first(&peer->credits)))
                credit_drop(list_entry(l, Credit, peer_link));
}
