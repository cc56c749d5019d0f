/* SPDX-License-Identifier: MIT */
/*
 * copyin.c - a task's names become the rights a message holds
 *
 * Copy-in turns a message from a task into a Kmsg: every name in the header
 * and the body becomes a right held by the message.  It runs in two passes.
 * The first checks every name and disposition, counting what the message
 * takes from each entry, and changes nothing; the second commits.  So a send
 * that fails leaves the sender holding exactly what it held.  In the commit,
 * rights that are created (copy-send, make-send, make-send-once) come before
 * rights that are moved, so "move-send plus copy-send" of the last reference
 * works in any order.  This module never queues or wakes; that is ipc.c.
 */

#include <assert.h>
#include <stddef.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "account.h"
#include "ipc.h"
#include "kmsg.h"
#include "notify.h"
#include "port.h"
#include "space.h"

#define SCRATCH_MOVED_RECEIVE 0x1u
#define SCRATCH_MOVED_SEND_ONCE 0x2u

static SpaceEntry *scratch(Space *space, SpaceEntry *e) {
        if (e->scratch_epoch != space->epoch) {
                e->scratch_epoch = space->epoch;
                e->scratch_moves = 0;
                e->scratch_flags = 0;
        }
        return e;
}

/* The disposition used when the header says 0 (doc/api.md, msg_send). */
static uint32_t default_disposition(const SpaceEntry *e) {
        if (e->bits & ENTRY_SEND)
                return MSG_TYPE_COPY_SEND;
        if (e->bits & ENTRY_SEND_ONCE)
                return MSG_TYPE_MOVE_SEND_ONCE;
        if (e->bits & ENTRY_RECEIVE)
                return MSG_TYPE_MAKE_SEND;
        return 0;
}

#define COPYIN_NO_BUFFER (-2)

/*
 * First pass for one name: can @space give @disp of @name?  Counts moves in
 * the entry's scratch so that a message cannot move more than is there.
 * Returns 0, -1, or COPYIN_NO_BUFFER (a send-once right past the quota).
 */
static int copyin_check(Space *space, uint32_t name, uint32_t disp, bool body) {
        if (name == PORT_NULL)
                return body ? 0 : -1;
        /* In the body, as in Mach, the two reserved names pass with any disposition, as themselves. */
        if (name == PORT_DEAD)
                return body ? 0 : -1;
        SpaceEntry *e = space_lookup(space, name);
        if (!e)
                return -1;
        scratch(space, e);
        switch (disp) {
        case MSG_TYPE_MOVE_RECEIVE:
                /* Messages lent to the task go back before its receive right may move
                 * (peer-msg.c does it); one still lent is a task that did not say. */
                if (!(e->bits & ENTRY_RECEIVE) || (e->scratch_flags & SCRATCH_MOVED_RECEIVE) ||
                    e->port->n_lent)
                        return -1;
                e->scratch_flags |= SCRATCH_MOVED_RECEIVE;
                return 0;
        case MSG_TYPE_MOVE_SEND:
                if (!(e->bits & ENTRY_SEND) || e->scratch_moves >= e->urefs)
                        return -1;
                e->scratch_moves++;
                return 0;
        case MSG_TYPE_COPY_SEND:
                return (e->bits & ENTRY_SEND) ? 0 : -1;
        case MSG_TYPE_MAKE_SEND:
                return (e->bits & ENTRY_RECEIVE) ? 0 : -1;
        case MSG_TYPE_MAKE_SEND_ONCE:
                if (!(e->bits & ENTRY_RECEIVE))
                        return -1;
                /* A send-once right promises one message to our port: within our quota. */
                return account_full(space->acct_task, space->acct_uid, ACCT_KMSGS) ? COPYIN_NO_BUFFER : 0;
        case MSG_TYPE_MOVE_SEND_ONCE:
                if (!(e->bits & ENTRY_SEND_ONCE) || (e->scratch_flags & SCRATCH_MOVED_SEND_ONCE))
                        return -1;
                e->scratch_flags |= SCRATCH_MOVED_SEND_ONCE;
                return 0;
        default:
                return -1;
        }
}

static void entry_drop_bits(Space *space, SpaceEntry *e, uint32_t bits) {
        e->bits &= ~bits;
        if (!e->bits)
                notify_entry_dealloc(space, e);
}


/*
 * Second pass for one name, which the first pass accepted: take the right.
 * Sets *portp (one reference, or NULL) and returns its RIGHT_* kind.
 */
static uint8_t copyin_commit(Space *space, uint32_t name, uint32_t disp, Port **portp) {
        *portp = NULL;
        if (name == PORT_NULL)
                return RIGHT_NONE;
        if (name == PORT_DEAD)
                return RIGHT_DEAD;
        SpaceEntry *e = space_lookup(space, name);
        assert(e);
        Port *p = e->port;
        switch (disp) {
        case MSG_TYPE_COPY_SEND:
                if (!p->active)
                        return RIGHT_DEAD;
                p->n_srights++;
                *portp = port_ref(p);
                return RIGHT_SEND;
        case MSG_TYPE_MAKE_SEND:
                p->n_srights++;
                p->mscount++;
                *portp = port_ref(p);
                return RIGHT_SEND;
        case MSG_TYPE_MAKE_SEND_ONCE:
                notify_sorights_inc(p);
                *portp = port_ref(p);
                return RIGHT_SEND_ONCE;
        case MSG_TYPE_MOVE_SEND: {
                bool dead = !p->active;
                /* A moved dead name keeps its port, so a returned message can give it back. */
                *portp = port_ref(p);
                if (--e->urefs > 0) {
                        if (!dead)
                                p->n_srights++;
                } else {
                        if (dead)
                                notify_srights_dec(p);
                        entry_drop_bits(space, e, ENTRY_SEND);
                }
                return dead ? RIGHT_DEAD : RIGHT_SEND;
        }
        case MSG_TYPE_MOVE_SEND_ONCE: {
                *portp = port_ref(p);
                if (p->active) {
                        entry_drop_bits(space, e, ENTRY_SEND_ONCE);
                        return RIGHT_SEND_ONCE;
                }
                /* A dead name: one user reference goes; the port stays with the
                 * message, so a returned message can give the name back. */
                if (--e->urefs == 0) {
                        notify_sorights_dec(p, false);
                        entry_drop_bits(space, e, ENTRY_SEND_ONCE);
                }
                return RIGHT_DEAD;
        }
        case MSG_TYPE_MOVE_RECEIVE:
                *portp = port_ref(p);
                ipc_port_set_receiver(p, NULL, 0);     /* out of its set too */
                /* As in Mach, a receive right that moves starts afresh. */
                p->mscount = 0;
                p->seqno = 0;
                ipc_port_wake_receivers(p, RCV_PORT_DIED);
                entry_drop_bits(space, e, ENTRY_RECEIVE);
                return RIGHT_RECEIVE;
        default:
                assert(0);
                return RIGHT_NONE;
        }
}

/**
 * kmsg_copyin_move() - take a right @space holds under @name, as a message
 * moving it would (@disp: MOVE_SEND, MOVE_SEND_ONCE or MOVE_RECEIVE)
 * @portp: out, the port (one reference) or NULL
 *
 * Conditions: @name holds that right (the caller checked).  For a message
 * handed ahead and given back unread (kmsg_uncopyout()).
 * Return: the RIGHT_* kind the message now holds.
 */
uint8_t kmsg_copyin_move(Space *space, uint32_t name, uint32_t disp, Port **portp) {
        return copyin_commit(space, name, disp, portp);
}

/**
 * kmsg_copyin() - translate a checked message from @space into a Kmsg
 * @space: the sender's name space
 * @msg, @size: the message; wire_msg_check() accepted it
 * @attach_size: bytes after it in the frame (inline regions), kept with it
 * @info: what wire_msg_check() reported
 * @fds, @n_fds: the frame's descriptors, checked by kmsg_check_fds(); taken
 *               on success only
 * @kmsgp: out, the message with its rights
 *
 * Conditions: nothing is taken from @space unless the whole message is valid.
 * Return: 0, SEND_INVALID_DEST (remote name holds no send right, or its port
 * is dead), SEND_INVALID_REPLY, SEND_INVALID_RIGHT (a body right not held,
 * or a disposition the right does not allow), SEND_NO_BUFFER (over the
 * sender's task or uid quota of messages, bytes, descriptors or region
 * bytes, or of kernel_messages for a send-once right made), -ENOMEM.
 */
int kmsg_copyin(Space *space, const uint8_t *msg, uint32_t size, uint32_t attach_size,
                const WireMsgInfo *info, int *fds, uint32_t n_fds, Kmsg **kmsgp) {
        return kmsg_copyin_charged(space, msg, size, attach_size, info, fds, n_fds, kmsgp, false);
}

/**
 * kmsg_copyin_charged() - kmsg_copyin(); @force: charge the sender even past
 * its quotas (a send it was promised room for: send credit), never
 * SEND_NO_BUFFER for them
 */
int kmsg_copyin_charged(Space *space, const uint8_t *msg, uint32_t size, uint32_t attach_size,
                        const WireMsgInfo *info, int *fds, uint32_t n_fds, Kmsg **kmsgp, bool force) {
        msg_header_t h;
        Kmsg *k;
        int r;

        wire_msg_header_get(msg, &h);
        /* Room for the descriptors now; they are taken only once all else succeeded. */
        r = kmsg_new(&k, size + attach_size, info->n_rights, n_fds);
        if (r < 0)
                return r;
        memcpy(k->data, msg, size + attach_size);
        k->size = size;
        k->attach_size = attach_size;

        /* Pass one: check, resolving default dispositions. */
        space->epoch++;
        uint32_t rdisp = info->remote_disp, ldisp = info->local_disp;
        SpaceEntry *de = h.msg_remote_port != PORT_DEAD ? space_lookup(space, h.msg_remote_port) : NULL;
        if (!de || (de->bits & ENTRY_PORT_SET) || !de->port->active) {
                kmsg_free(k);
                return SEND_INVALID_DEST;
        }
        if (!rdisp)
                rdisp = default_disposition(de);
        r = copyin_check(space, h.msg_remote_port, rdisp, false);
        if (r < 0) {
                kmsg_free(k);
                return r == COPYIN_NO_BUFFER ? SEND_NO_BUFFER : SEND_INVALID_DEST;
        }
        if (h.msg_local_port != PORT_NULL) {
                SpaceEntry *le = h.msg_local_port != PORT_DEAD ? space_lookup(space, h.msg_local_port) : NULL;
                if (le && !ldisp)
                        ldisp = default_disposition(le);
                r = !le || (le->bits & ENTRY_PORT_SET) ? -1 : copyin_check(space, h.msg_local_port, ldisp, false);
                if (r < 0) {
                        kmsg_free(k);
                        return r == COPYIN_NO_BUFFER ? SEND_NO_BUFFER : SEND_INVALID_REPLY;
                }
        }
        WireItemIter it;
        WireItem item;
        uint32_t n = 0;
        wire_item_iter_init(&it, msg, size);
        while (wire_item_next(&it, &item)) {
                if (!wire_disposition_is_valid(item.name))
                        continue;
                k->port_items = true;
                for (uint32_t j = 0; j < item.number; j++, n++) {
                        uint32_t off = item.offset + 4 * j;
                        uint32_t name = wire_get_le32(msg + off);
                        k->rights[n].offset = off;
                        k->rights[n].kind = (uint8_t)item.name;
                        r = copyin_check(space, name, item.name, true);
                        if (r < 0) {
                                /* Not committed yet: forget the dispositions. */
                                for (uint32_t i = 0; i <= n; i++)
                                        k->rights[i].kind = RIGHT_NONE;
                                kmsg_free(k);
                                return r == COPYIN_NO_BUFFER ? SEND_NO_BUFFER : SEND_INVALID_RIGHT;
                        }
                }
        }
        assert(n == info->n_rights);

        /* Within the sender's quotas?  Checked before anything is taken.  A
         * kernel call is answered at once, never queued: it is not charged,
         * so a task at its quota can still free what it holds. */
        bool kcall = de->port->kobject && !de->port->receiver;
        if (!kcall && !kmsg_charge_sender(k, space, info->ool_bytes, force)) {
                for (uint32_t i = 0; i < n; i++)
                        k->rights[i].kind = RIGHT_NONE;
                kmsg_free(k);
                return SEND_NO_BUFFER;
        }

        /* Pass two: created rights first, then moved ones. */
        k->dest_disp = (uint8_t)rdisp;
        k->reply_disp = (uint8_t)ldisp;
        for (uint32_t i = 0; i < n; i++)
                k->rights[i].disp = k->rights[i].kind;
        for (int moves = 0; moves < 2; moves++) {
                if (kmsg_disposition_is_move(rdisp) == moves)
                        k->dest_kind = copyin_commit(space, h.msg_remote_port, rdisp, &k->dest);
                if (h.msg_local_port != PORT_NULL && kmsg_disposition_is_move(ldisp) == moves)
                        k->reply_kind = copyin_commit(space, h.msg_local_port, ldisp, &k->reply);
                for (uint32_t i = 0; i < n; i++) {
                        KmsgRight *kr = &k->rights[i];
                        uint32_t disp = kr->disp;
                        if (kmsg_disposition_is_move(disp) != moves)
                                continue;
                        kr->kind = copyin_commit(space, wire_get_le32(msg + kr->offset), disp, &kr->port);
                        if (kr->kind == RIGHT_RECEIVE) {
                                kr->port->transit = k;
                                k->n_receive++;
                        }
                }
        }
        if (n_fds)
                memcpy(k->fds, fds, n_fds * sizeof(int));
        ipc_stats.fds_in_flight += n_fds;
        k->fds_counted = true;
        *kmsgp = k;
        return 0;
}

