/* SPDX-License-Identifier: MIT */
/*
 * copyout.c - the rights a message holds become names in a task
 *
 * Copy-out turns the rights back into names in the receiver's space: send
 * rights coalesce with the name the receiver already has for the port, a
 * send-once right gets a new name, a right to a port that died arrives as
 * PORT_DEAD.  A message that could not be sent goes back to its sender the
 * same way, under the names its rights had (kmsg_copyout_returned()).
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

/**
 * kmsg_copyout_right() - give @space the right (@port, @kind) a message held
 *
 * Consumes the right.  A right the space cannot take (no free name) is
 * released and arrives as PORT_NULL.  Return: the name.
 */
uint32_t kmsg_copyout_right(Space *space, Port *port, uint8_t kind) {
        SpaceEntry *e;
        switch (kind) {
        case RIGHT_NONE:
                return PORT_NULL;
        case RIGHT_DEAD:
                port_unref(port);
                return PORT_DEAD;
        case RIGHT_SEND:
                if (!port->active) {
                        right_release(port, kind);
                        return PORT_DEAD;
                }
                e = space_find_port(space, port);
                if (e) {
                        if (e->bits & ENTRY_SEND) {
                                /* Coalesce; at the limit the reference is dropped (pegged). */
                                if (e->urefs < SPACE_UREFS_MAX)
                                        e->urefs++;
                                notify_srights_dec(port);
                        } else {
                                e->bits |= ENTRY_SEND;
                                e->urefs = 1;
                        }
                        port_unref(port);
                        return e->name;
                }
                if (space_alloc(space, port, ENTRY_SEND, &e) != 0) {
                        right_release(port, kind);
                        return PORT_NULL;
                }
                return e->name;
        case RIGHT_SEND_ONCE:
                if (!port->active) {
                        right_release(port, kind);
                        return PORT_DEAD;
                }
                if (space_alloc(space, port, ENTRY_SEND_ONCE, &e) != 0) {
                        right_release(port, kind);
                        return PORT_NULL;
                }
                return e->name;
        case RIGHT_RECEIVE:
                port->transit = NULL;
                e = space_find_port(space, port);
                if (e) {
                        e->bits |= ENTRY_RECEIVE;
                        port_unref(port);
                } else if (space_alloc(space, port, ENTRY_RECEIVE, &e) != 0) {
                        right_release(port, kind);
                        return PORT_NULL;
                }
                ipc_port_set_receiver(port, space, e->name);
                return e->name;
        default:
                assert(0);
                return PORT_NULL;
        }
}

static uint32_t received_kind(uint8_t kind) {
        switch (kind) {
        case RIGHT_SEND:
                return MSG_TYPE_PORT_SEND;
        case RIGHT_SEND_ONCE:
        case RIGHT_KERNEL:
                return MSG_TYPE_PORT_SEND_ONCE;
        case RIGHT_RECEIVE:
                return MSG_TYPE_PORT_RECEIVE;
        case RIGHT_DEAD:
                return MSG_TYPE_PORT_SEND;
        default:
                return 0;
        }
}

/**
 * kmsg_copyout() - receive @kmsg into @space, writing it to @out
 * @out: kmsg->size bytes
 *
 * The destination right is consumed; the header is swapped as in Mach:
 * msg_remote_port is the reply right, msg_local_port the port (the member,
 * through a set) the message arrived on.  Leaves the Kmsg holding nothing,
 * for kmsg_free().
 */
/* The item type a receiver sees for a disposition: the kind of right it holds. */
static uint16_t received_type(uint16_t disp) {
        switch (disp) {
        case MSG_TYPE_COPY_SEND:
        case MSG_TYPE_MAKE_SEND:
                return MSG_TYPE_PORT_SEND;
        case MSG_TYPE_MAKE_SEND_ONCE:
                return MSG_TYPE_PORT_SEND_ONCE;
        default:
                return disp;
        }
}

/*
 * What every copy-out starts with: the bytes, the port items typed as the
 * receiver holds them, and the header's local port and kinds (taken before
 * any right moves).
 */
static void copyout_begin(Space *space, const Kmsg *kmsg, uint8_t *out, msg_header_t *h) {
        memcpy(out, kmsg->data, kmsg->size);
        wire_msg_header_get(out, h);
        Port *dest = kmsg->dest;
        h->msg_local_port = dest && dest->receiver == space ? dest->receiver_name : PORT_NULL;
        h->msg_bits = MSG_BITS(received_kind(kmsg->reply_kind), received_kind(kmsg->dest_kind)) |
                      (kmsg->n_rights ? MSG_BITS_COMPLEX : 0);
        h->msg_seqno = kmsg->seqno;
        h->msg_size = kmsg->size;
        if (!kmsg->n_rights && !kmsg->port_items)
                return;
        WireItemIter it;
        WireItem item;
        wire_item_iter_init(&it, out, kmsg->size);
        while (wire_item_next(&it, &item))
                if (wire_disposition_is_valid(item.name))
                        wire_put_le16(out + item.offset - sizeof(msg_type_t), received_type(item.name));
}

void kmsg_copyout(Space *space, Kmsg *kmsg, uint8_t *out) {
        msg_header_t h;
        copyout_begin(space, kmsg, out, &h);
        h.msg_remote_port = kmsg_copyout_right(space, kmsg->reply, kmsg->reply_kind);
        kmsg->reply = NULL;
        kmsg->reply_kind = RIGHT_NONE;
        for (uint32_t i = 0; i < kmsg->n_rights; i++) {
                KmsgRight *kr = &kmsg->rights[i];
                wire_put_le32(out + kr->offset, kmsg_copyout_right(space, kr->port, kr->kind));
                kr->port = NULL;
                kr->kind = RIGHT_NONE;
        }
        wire_msg_header_put(out, &h);
}

/*
 * Give a moved send or send-once right back to @space, as the same name
 * @name if it is still free (space_alloc_name()).  @counted: the right
 * carries one count in the port's n_srights / n_sorights (a right to a live
 * port does; a dead name moved does not).  A right whose port died
 * meanwhile comes back as a dead name.
 */
static uint32_t return_send(Space *space, Port *port, uint32_t bits, bool counted, uint32_t name) {
        SpaceEntry *e;
        if (bits == ENTRY_SEND && (e = space_find_port(space, port))) {
                if (e->bits & ENTRY_SEND) {
                        /* Coalesce; at the limit the reference is dropped (pegged). */
                        if (e->urefs < SPACE_UREFS_MAX)
                                e->urefs++;
                        if (counted)
                                notify_srights_dec(port);
                } else {
                        e->bits |= ENTRY_SEND;
                        e->urefs = 1;
                        if (!counted)
                                port->n_srights++;
                }
                port_unref(port);
                return e->name;
        }
        if (space_alloc_name(space, port, bits, name, &e) != 0) {
                /* No room for a name: the right is lost, as on receive. */
                uint32_t lost = port->active ? PORT_NULL : PORT_DEAD;
                if (counted)
                        right_release(port, bits == ENTRY_SEND ? RIGHT_SEND : RIGHT_SEND_ONCE);
                else
                        port_unref(port);
                return lost;
        }
        if (!counted) {
                if (bits == ENTRY_SEND)
                        port->n_srights++;
                else
                        notify_sorights_inc(port);
        }
        return e->name;
}

/* Give a moved receive right back to @space, under @name if it is still free. */
static uint32_t return_receive(Space *space, Port *port, uint32_t name) {
        SpaceEntry *e = space_find_port(space, port);
        port->transit = NULL;
        if (e) {
                e->bits |= ENTRY_RECEIVE;
                port_unref(port);
        } else if (space_alloc_name(space, port, ENTRY_RECEIVE, name, &e) != 0) {
                right_release(port, RIGHT_RECEIVE);
                return PORT_NULL;
        }
        ipc_port_set_receiver(port, space, e->name);
        return e->name;
}

/*
 * One right of a returned message: a moved right goes back to the sender,
 * under the name it had (@where holds it) unless that name was taken
 * meanwhile; a right the message made or copied is undone, silently, and
 * the name the sender wrote stays.
 */
static void return_right(Space *space, Port *port, uint8_t kind, uint8_t disp, uint8_t *where) {
        if (!kmsg_disposition_is_move(disp)) {
                if (port && kind == RIGHT_SEND) {
                        if (disp == MSG_TYPE_MAKE_SEND && port->mscount)
                                port->mscount--;
                        notify_srights_dec(port);
                } else if (port && kind == RIGHT_SEND_ONCE) {
                        notify_sorights_dec(port, false);
                }
                port_unref(port);
                return;
        }
        uint32_t name = wire_get_le32(where);
        uint32_t bits = disp == MSG_TYPE_MOVE_SEND_ONCE ? ENTRY_SEND_ONCE : ENTRY_SEND;
        switch (kind) {
        case RIGHT_SEND:
        case RIGHT_SEND_ONCE:
                name = return_send(space, port, bits, true, name);
                break;
        case RIGHT_DEAD:
                name = port ? return_send(space, port, bits, false, name) : PORT_DEAD;
                break;
        case RIGHT_RECEIVE:
                name = return_receive(space, port, name);
                break;
        default:
                name = PORT_NULL;
                break;
        }
        wire_put_le32(where, name);
}

/**
 * kmsg_copyout_returned() - give a message that could not be sent back to
 * its sender's @space
 *
 * Unlike Mach's pseudo-receive, which hands back every right the message
 * held, the sender ends up holding exactly what it held before the send:
 * moved rights come back under the names they had (a new name only if the
 * old one was taken meanwhile), a right whose port died meanwhile as a dead
 * name; rights the message made or copied are undone.  The header is not
 * swapped and the item types keep their dispositions, so the message can
 * be sent again as it stands.
 */
void kmsg_copyout_returned(Space *space, Kmsg *kmsg, uint8_t *out) {
        memcpy(out, kmsg->data, kmsg->size);
        return_right(space, kmsg->dest, kmsg->dest_kind, kmsg->dest_disp,
                     out + offsetof(msg_header_t, msg_remote_port));
        kmsg->dest = NULL;
        kmsg->dest_kind = RIGHT_NONE;
        return_right(space, kmsg->reply, kmsg->reply_kind, kmsg->reply_disp,
                     out + offsetof(msg_header_t, msg_local_port));
        kmsg->reply = NULL;
        kmsg->reply_kind = RIGHT_NONE;
        for (uint32_t i = 0; i < kmsg->n_rights; i++) {
                KmsgRight *kr = &kmsg->rights[i];
                return_right(space, kr->port, kr->kind, kr->disp, out + kr->offset);
                kr->port = NULL;
                kr->kind = RIGHT_NONE;
        }
}

/**
 * kmsg_copyout_header() - the header of a message that did not fit (RCV_TOO_LARGE)
 *
 * msg_size is the size needed; no right is given, the reply name is NULL.
 */
void kmsg_copyout_header(Kmsg *kmsg, uint8_t *out) {
        msg_header_t h;
        wire_msg_header_get(kmsg->data, &h);
        Port *dest = kmsg->dest;
        h.msg_local_port = dest && dest->receiver ? dest->receiver_name : PORT_NULL;
        h.msg_remote_port = PORT_NULL;
        h.msg_bits = 0;
        h.msg_seqno = kmsg->seqno;
        h.msg_size = kmsg->size;
        wire_msg_header_put(out, &h);
}

/*
 * Lending: a message handed to its receiver ahead of a receive (an armed
 * port, or more than one message per receive) is copied out as any other,
 * but the Kmsg keeps a reference to each right's port and the name it
 * became, so that a message given back unread can take its rights back
 * (kmsg_uncopyout()) and wait in its queue again as if never received.
 */
static uint32_t lend_right(Space *space, Port *port, uint8_t kind, uint8_t *lent_kind) {
        *lent_kind = kind;
        if (port)
                port_ref(port);         /* kept by the message, past the copy-out */
        return kmsg_copyout_right(space, port, kind);
}

/**
 * kmsg_copyout_lend() - kmsg_copyout(), keeping what kmsg_uncopyout() needs
 *
 * The Kmsg keeps its destination and a reference to every port it named;
 * it holds no right any more (kmsg_free() only drops the references).
 */
void kmsg_copyout_lend(Space *space, Kmsg *kmsg, uint8_t *out) {
        msg_header_t h;
        copyout_begin(space, kmsg, out, &h);
        h.msg_remote_port = lend_right(space, kmsg->reply, kmsg->reply_kind, &kmsg->reply_lent_kind);
        kmsg->reply_lent_name = h.msg_remote_port;
        kmsg->reply_kind = RIGHT_NONE;
        for (uint32_t i = 0; i < kmsg->n_rights; i++) {
                KmsgRight *kr = &kmsg->rights[i];
                kr->lent_name = lend_right(space, kr->port, kr->kind, &kr->lent_kind);
                kr->kind = RIGHT_NONE;
                wire_put_le32(out + kr->offset, kr->lent_name);
        }
        wire_msg_header_put(out, &h);
}

/*
 * Take back one right a lent message gave: if @name in @space still holds
 * it (the same port, the same kind), as a message moving it would; else it
 * is gone (the task gave it up meanwhile) and the message holds nothing there.
 */
static uint8_t unlend_right(Space *space, Port **portp, uint8_t lent_kind, uint32_t name) {
        Port *held = *portp;
        uint32_t disp = 0, bit = 0;
        switch (lent_kind) {
        case RIGHT_SEND:
                disp = MSG_TYPE_MOVE_SEND;
                bit = ENTRY_SEND;
                break;
        case RIGHT_SEND_ONCE:
                disp = MSG_TYPE_MOVE_SEND_ONCE;
                bit = ENTRY_SEND_ONCE;
                break;
        case RIGHT_RECEIVE:
                disp = MSG_TYPE_MOVE_RECEIVE;
                bit = ENTRY_RECEIVE;
                break;
        default:
                break;
        }
        /* Compared while our reference keeps @held alive, so the pointer means that port. */
        SpaceEntry *e = disp && name != PORT_NULL && name != PORT_DEAD ? space_lookup(space, name) : NULL;
        bool there = e && e->port == held && (e->bits & bit);
        uint8_t kind = lent_kind == RIGHT_DEAD ? RIGHT_DEAD : RIGHT_NONE;
        Port *port = NULL;
        if (there)
                kind = kmsg_copyin_move(space, name, disp, &port);
        port_unref(held);
        *portp = port;
        return kind;
}

/**
 * kmsg_uncopyout() - a lent message comes back unread: its rights leave
 * @space again, under the names they were given
 *
 * Conditions: @kmsg was copied out into @space by kmsg_copyout_lend() and
 * its receiver never saw it.  A right the task gave up meanwhile (it could
 * only have by using names it was never told) is lost: the message holds
 * PORT_NULL there.
 */
void kmsg_uncopyout(Space *space, Kmsg *kmsg) {
        kmsg->reply_kind = unlend_right(space, &kmsg->reply, kmsg->reply_lent_kind, kmsg->reply_lent_name);
        kmsg->reply_lent_kind = RIGHT_NONE;
        for (uint32_t i = 0; i < kmsg->n_rights; i++) {
                KmsgRight *kr = &kmsg->rights[i];
                kr->kind = unlend_right(space, &kr->port, kr->lent_kind, kr->lent_name);
                kr->lent_kind = RIGHT_NONE;
                if (kr->kind == RIGHT_RECEIVE)
                        kr->port->transit = kmsg;
        }
}
