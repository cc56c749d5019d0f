/* SPDX-License-Identifier: MIT */
/*
 * kmsg.c - copy-in and copy-out: between a task's names and the broker's rights
 *
 * Copy-in turns a message from a task into a Kmsg: every name in the header
 * and the body becomes a right held by the message.  It runs in two passes.
 * The first checks every name and disposition, counting what the message
 * takes from each entry, and changes nothing; the second commits.  So a send
 * that fails leaves the sender holding exactly what it held.  In the commit,
 * rights that are created (copy-send, make-send, make-send-once) come before
 * rights that are moved, so "move-send plus copy-send" of the last reference
 * works in any order.
 *
 * Copy-out turns the rights back into names in the receiver's space: send
 * rights coalesce with the name the receiver already has for the port, a
 * send-once right gets a new name, a right to a port that died arrives as
 * PORT_DEAD.  This module never queues or wakes; that is ipc.c.
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

/*
 * Most messages are small: those whose whole allocation fits KMSG_SMALL come
 * from a free list, so a steady stream of messages allocates nothing.  Under
 * AddressSanitizer every message is its own allocation, so that a use after
 * free is still caught.
 */
#define KMSG_SMALL 512u
#define KMSG_CACHE_MAX 256u
#if defined(__SANITIZE_ADDRESS__)
#define KMSG_CACHE 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KMSG_CACHE 0
#endif
#endif
#ifndef KMSG_CACHE
#define KMSG_CACHE 1
#endif

typedef union KmsgBlock {
        union KmsgBlock *next;
        uint8_t bytes[KMSG_SMALL];
} KmsgBlock;

static KmsgBlock *kmsg_cache;
static uint32_t kmsg_cached;

static Kmsg *kmsg_alloc(size_t bytes) {
        if (KMSG_CACHE && bytes <= KMSG_SMALL) {
                KmsgBlock *b = kmsg_cache;
                if (b) {
                        kmsg_cache = b->next;
                        kmsg_cached--;
                } else if (!(b = malloc(sizeof(*b)))) {
                        return NULL;
                }
                memset(b, 0, bytes);
                return (Kmsg *)b;
        }
        return calloc(1, bytes);
}

static void kmsg_release(Kmsg *k, size_t bytes) {
        if (KMSG_CACHE && bytes <= KMSG_SMALL && kmsg_cached < KMSG_CACHE_MAX) {
                KmsgBlock *b = (KmsgBlock *)k;
                b->next = kmsg_cache;
                kmsg_cache = b;
                kmsg_cached++;
                return;
        }
        free(k);
}

/* kmsg_cache_deinit() - free the cached blocks (at exit). */
void kmsg_cache_deinit(void) {
        while (kmsg_cache) {
                KmsgBlock *b = kmsg_cache;
                kmsg_cache = b->next;
                free(b);
        }
        kmsg_cached = 0;
}

static size_t kmsg_bytes(uint32_t size, uint32_t n_rights, uint32_t n_fds) {
        return sizeof(Kmsg) + (size_t)n_rights * sizeof(KmsgRight) + n_fds * sizeof(int) + size;
}

/**
 * kmsg_new() - allocate a message of @size bytes with room for @n_rights
 * and @n_fds descriptors (set to -1)
 *
 * Return: 0 or -ENOMEM.
 */
int kmsg_new(Kmsg **kmsgp, uint32_t size, uint32_t n_rights, uint32_t n_fds) {
        size_t bytes = kmsg_bytes(size, n_rights, n_fds);
        Kmsg *k = kmsg_alloc(bytes);
        if (!k)
                return -ENOMEM;
        list_init(&k->link);
        k->n_rights = n_rights;
        k->rights = (KmsgRight *)(k + 1);
        k->n_fds = n_fds;
        k->fds = (int *)(k->rights + n_rights);
        for (uint32_t i = 0; i < n_fds; i++)
                k->fds[i] = -1;
        k->data = (uint8_t *)(k->fds + n_fds);
        k->size = size;
        *kmsgp = k;
        return 0;
}

/* What a message costs its sender's quotas. */
static void kmsg_uncharge(Kmsg *k) {
        if (!k->acct_task && !k->acct_uid)
                return;
        account_release(k->acct_task, k->acct_uid, ACCT_MESSAGES, 1);
        account_release(k->acct_task, k->acct_uid, ACCT_BYTES, (uint64_t)k->size + k->attach_size);
        account_release(k->acct_task, k->acct_uid, ACCT_FDS, k->n_fds);
        account_release(k->acct_task, k->acct_uid, ACCT_OOL, k->charged_ool);
        k->acct_task = account_unref(k->acct_task);
        k->acct_uid = account_unref(k->acct_uid);
}

/* Charge @k to the sender's accounts: all or nothing.  Returns false if over a quota. */
static bool kmsg_charge(Kmsg *k, Space *space, uint64_t ool) {
        Account *t = space->acct_task, *u = space->acct_uid;
        uint64_t bytes = (uint64_t)k->size + k->attach_size;
        if (!t && !u)
                return true;
        if (!account_charge(t, u, ACCT_MESSAGES, 1))
                return false;
        if (!account_charge(t, u, ACCT_BYTES, bytes)) {
                account_release(t, u, ACCT_MESSAGES, 1);
                return false;
        }
        if (!account_charge(t, u, ACCT_FDS, k->n_fds)) {
                account_release(t, u, ACCT_MESSAGES, 1);
                account_release(t, u, ACCT_BYTES, bytes);
                return false;
        }
        if (!account_charge(t, u, ACCT_OOL, ool)) {
                account_release(t, u, ACCT_MESSAGES, 1);
                account_release(t, u, ACCT_BYTES, bytes);
                account_release(t, u, ACCT_FDS, k->n_fds);
                return false;
        }
        k->acct_task = account_ref(t);
        k->acct_uid = account_ref(u);
        k->charged_ool = ool;
        return true;
}

/**
 * kmsg_free() - destroy a message and release every right it still holds
 *
 * Releasing follows Mach: a send-once right destroyed unused sends a
 * send-once notification, a receive right destroys its port.  The
 * destination right of a delivered or dropped message is consumed silently.
 * Return: NULL.
 */
Kmsg *kmsg_free(Kmsg *kmsg) {
        if (!kmsg)
                return NULL;
        assert(!list_linked(&kmsg->link));
        if (kmsg->dest) {
                /* The destination right was used, not destroyed. */
                if (kmsg->dest_kind == RIGHT_SEND)
                        notify_srights_dec(kmsg->dest);
                else if (kmsg->dest_kind == RIGHT_SEND_ONCE)
                        notify_sorights_dec(kmsg->dest, false);
                port_unref(kmsg->dest);
        }
        right_release(kmsg->reply, kmsg->reply_kind);
        for (uint32_t i = 0; i < kmsg->n_rights; i++)
                right_release(kmsg->rights[i].port, kmsg->rights[i].kind);
        if (kmsg->accept_space)
                kmsg->accept_space->pending_notify = NULL;
        port_unref(kmsg->accept_notify);
        for (uint32_t i = 0; i < kmsg->n_fds; i++)
                if (kmsg->fds[i] >= 0)
                        close(kmsg->fds[i]);
        if (kmsg->fds_counted)
                ipc_stats.fds_in_flight -= kmsg->n_fds;
        kmsg_uncharge(kmsg);
        kmsg_release(kmsg, kmsg_bytes(kmsg->size + kmsg->attach_size, kmsg->n_rights, kmsg->n_fds));
        return NULL;
}

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

/*
 * First pass for one name: can @space give @disp of @name?  Counts moves in
 * the entry's scratch so that a message cannot move more than is there.
 * Returns 0 or -1.
 */
static int copyin_check(Space *space, uint32_t name, uint32_t disp, bool body) {
        if (name == PORT_NULL)
                return body ? 0 : -1;
        if (name == PORT_DEAD)
                return body && disp != MSG_TYPE_MOVE_RECEIVE && disp != MSG_TYPE_MAKE_SEND &&
                                       disp != MSG_TYPE_MAKE_SEND_ONCE ? 0 : -1;
        SpaceEntry *e = space_lookup(space, name);
        if (!e)
                return -1;
        scratch(space, e);
        switch (disp) {
        case MSG_TYPE_MOVE_RECEIVE:
                if (!(e->bits & ENTRY_RECEIVE) || (e->scratch_flags & SCRATCH_MOVED_RECEIVE))
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
        case MSG_TYPE_MAKE_SEND_ONCE:
                return (e->bits & ENTRY_RECEIVE) ? 0 : -1;
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

static bool is_move(uint32_t disp) {
        return disp == MSG_TYPE_MOVE_RECEIVE || disp == MSG_TYPE_MOVE_SEND ||
               disp == MSG_TYPE_MOVE_SEND_ONCE;
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
                p->n_sorights++;
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
                p->receiver = NULL;
                p->receiver_name = 0;
                /* As in Mach, a receive right that moves starts afresh. */
                p->mscount = 0;
                p->seqno = 0;
                port_set_remove(p);
                ipc_port_wake_receivers(p, RCV_PORT_DIED);
                entry_drop_bits(space, e, ENTRY_RECEIVE);
                return RIGHT_RECEIVE;
        default:
                assert(0);
                return RIGHT_NONE;
        }
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
 * bytes), -ENOMEM.
 */
int kmsg_copyin(Space *space, const uint8_t *msg, uint32_t size, uint32_t attach_size,
                const WireMsgInfo *info, int *fds, uint32_t n_fds, Kmsg **kmsgp) {
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
        if (copyin_check(space, h.msg_remote_port, rdisp, false) < 0) {
                kmsg_free(k);
                return SEND_INVALID_DEST;
        }
        if (h.msg_local_port != PORT_NULL) {
                SpaceEntry *le = h.msg_local_port != PORT_DEAD ? space_lookup(space, h.msg_local_port) : NULL;
                if (le && !ldisp)
                        ldisp = default_disposition(le);
                if (!le || (le->bits & ENTRY_PORT_SET) || copyin_check(space, h.msg_local_port, ldisp, false) < 0) {
                        kmsg_free(k);
                        return SEND_INVALID_REPLY;
                }
        }
        WireItemIter it;
        WireItem item;
        uint32_t n = 0;
        wire_item_iter_init(&it, msg, size);
        while (wire_item_next(&it, &item)) {
                if (!wire_disposition_is_valid(item.name))
                        continue;
                for (uint32_t j = 0; j < item.number; j++, n++) {
                        uint32_t off = item.offset + 4 * j;
                        uint32_t name = wire_get_le32(msg + off);
                        k->rights[n].offset = off;
                        k->rights[n].kind = (uint8_t)item.name;
                        if (copyin_check(space, name, item.name, true) < 0) {
                                /* Not committed yet: forget the dispositions. */
                                for (uint32_t i = 0; i <= n; i++)
                                        k->rights[i].kind = RIGHT_NONE;
                                kmsg_free(k);
                                return SEND_INVALID_RIGHT;
                        }
                }
        }
        assert(n == info->n_rights);

        /* Within the sender's quotas?  Checked before anything is taken.  A
         * kernel call is answered at once, never queued: it is not charged,
         * so a task at its quota can still free what it holds. */
        bool kcall = de->port->kobject && !de->port->receiver;
        if (!kcall && !kmsg_charge(k, space, info->ool_bytes)) {
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
                if (is_move(rdisp) == moves)
                        k->dest_kind = copyin_commit(space, h.msg_remote_port, rdisp, &k->dest);
                if (h.msg_local_port != PORT_NULL && is_move(ldisp) == moves)
                        k->reply_kind = copyin_commit(space, h.msg_local_port, ldisp, &k->reply);
                for (uint32_t i = 0; i < n; i++) {
                        KmsgRight *kr = &k->rights[i];
                        uint32_t disp = kr->disp;
                        if (is_move(disp) != moves)
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

/**
 * kmsg_check_fds() - are the descriptors what the message's out-of-line items say?
 * @msg, @size: a message wire_msg_check() accepted, whose n_fds is @n_fds
 * @fds: the frame's descriptors, in order
 *
 * Each region (MSG_TYPE_MEMORY, size > 0) must be a memfd sealed against
 * writing, growing and shrinking, of exactly its size rounded up to pages,
 * so that no one can change what the receiver sees.  Plain descriptors
 * (MSG_TYPE_FD) may be anything.
 * Return: 0 or SEND_INVALID_MEMORY.
 */
int kmsg_check_fds(const uint8_t *msg, uint32_t size, const int *fds, uint32_t n_fds) {
        const uint32_t need = F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW;
        const uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
        WireItemIter it;
        WireItem item;
        uint32_t n = 0;
        wire_item_iter_init(&it, msg, size);
        while (wire_item_next(&it, &item)) {
                for (uint32_t j = 0; j < item.number; j++) {
                        if (item.name == MSG_TYPE_FD) {
                                n++;
                                continue;
                        }
                        if (item.name != MSG_TYPE_MEMORY)
                                break;
                        msg_ool_t o;
                        memcpy(&o, msg + item.offset + 16 * j, sizeof(o));
                        /* Empty regions and those in the frame's attachment have no descriptor. */
                        if (o.size == 0 || (o.address & WIRE_OOL_INLINE))
                                continue;
                        if (n >= n_fds)
                                return SEND_INVALID_MEMORY;
                        int fd = fds[n++];
                        struct stat st;
                        int seals = fcntl(fd, F_GET_SEALS);
                        if (seals < 0 || ((uint32_t)seals & need) != need)
                                return SEND_INVALID_MEMORY;
                        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
                            (uint64_t)st.st_size != (o.size + page - 1) / page * page)
                                return SEND_INVALID_MEMORY;
                }
        }
        return n == n_fds ? 0 : SEND_INVALID_MEMORY;
}

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
                port->receiver = space;
                port->receiver_name = e->name;
                return e->name;
        default:
                assert(0);
                return PORT_NULL;
        }
}

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

static void copyout_body(Space *space, Kmsg *kmsg, uint8_t *out) {
        if (!kmsg->n_rights)
                return;
        WireItemIter it;
        WireItem item;
        wire_item_iter_init(&it, out, kmsg->size);
        while (wire_item_next(&it, &item)) {
                if (wire_disposition_is_valid(item.name))
                        wire_put_le16(out + item.offset - sizeof(msg_type_t),
                                      received_type(item.name));
        }
        for (uint32_t i = 0; i < kmsg->n_rights; i++) {
                KmsgRight *kr = &kmsg->rights[i];
                uint32_t name = kmsg_copyout_right(space, kr->port, kr->kind);
                wire_put_le32(out + kr->offset, name);
                kr->port = NULL;
                kr->kind = RIGHT_NONE;
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
void kmsg_copyout(Space *space, Kmsg *kmsg, uint8_t *out) {
        msg_header_t h;
        memcpy(out, kmsg->data, kmsg->size);
        wire_msg_header_get(out, &h);

        Port *dest = kmsg->dest;
        h.msg_local_port = dest && dest->receiver == space ? dest->receiver_name : PORT_NULL;
        uint32_t local_kind = received_kind(kmsg->dest_kind);
        uint32_t remote_kind = received_kind(kmsg->reply_kind);
        h.msg_remote_port = kmsg_copyout_right(space, kmsg->reply, kmsg->reply_kind);
        kmsg->reply = NULL;
        kmsg->reply_kind = RIGHT_NONE;
        copyout_body(space, kmsg, out);
        h.msg_bits = MSG_BITS(remote_kind, local_kind) | (kmsg->n_rights ? MSG_BITS_COMPLEX : 0);
        h.msg_seqno = kmsg->seqno;
        h.msg_size = kmsg->size;
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
                        port->n_sorights++;
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
        port->receiver = space;
        port->receiver_name = e->name;
        return e->name;
}

/*
 * One right of a returned message: a moved right goes back to the sender,
 * under the name it had (@where holds it) unless that name was taken
 * meanwhile; a right the message made or copied is undone, silently, and
 * the name the sender wrote stays.
 */
static void return_right(Space *space, Port *port, uint8_t kind, uint8_t disp, uint8_t *where) {
        if (!is_move(disp)) {
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
