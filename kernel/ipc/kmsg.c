/* SPDX-License-Identifier: MIT */
/*
 * kmsg.c - a message inside the broker: its memory, its charge, its end
 *
 * A Kmsg is one allocation: the header fields, the rights the message
 * holds, its descriptors and its bytes.  Small ones come from a free list.
 * It is charged to whoever pays for it (its sender, or the receiver of a
 * message the broker made) until it is received or destroyed, and
 * destroying it releases every right it still holds.  Turning names into
 * rights and back is copyin.c and copyout.c; queueing is ipc.c.
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
#include "origin.h"
#include "notify.h"
#include "port.h"
#include "space.h"

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

/* Give back what @k is charged for. */
static void kmsg_uncharge(Kmsg *k) {
        Account *t = k->acct_task, *u = k->acct_uid;
        uint64_t bytes = (uint64_t)k->size + k->attach_size;
        switch (k->charge) {
        case KMSG_CHARGE_SENDER:
                account_release(t, u, ACCT_MESSAGES, 1);
                account_release(t, u, ACCT_BYTES, bytes);
                account_release(t, u, ACCT_FDS, k->n_fds);
                account_release(t, u, ACCT_OOL, k->charged_ool);
                break;
        case KMSG_CHARGE_KERNEL:
                account_release(t, u, ACCT_KMSGS, k->charged_units);
                account_release(t, u, ACCT_KBYTES, bytes);
                account_release(t, u, ACCT_FDS, k->n_fds);
                break;
        default:
                break;
        }
        k->charge = KMSG_CHARGE_NONE;
        k->acct_task = account_unref(t);
        k->acct_uid = account_unref(u);
}

/**
 * kmsg_charge_kernel() - charge a message the broker made to the task that
 * will receive it
 * @payer: the space of the destination's receiver (NULL: nobody, while the
 *         receive right travels)
 *
 * A queue's owner pays for the broker's messages in it: replies to its
 * calls, its notifications.  They cannot be refused once due, so the
 * charge may pass the limits; what lets them be promised (a kernel call, a
 * notification request, a send-once right made) checks the limits first.
 * A message to a send-once right costs no kernel_messages of its own: the
 * right was counted when it was made (notify_sorights_inc()).
 */
void kmsg_charge_kernel(Kmsg *k, Space *payer) {
        if (k->charge || !payer)
                return;
        Account *t = payer->acct_task, *u = payer->acct_uid;
        if (!t && !u)
                return;
        k->charged_units = k->dest_kind == RIGHT_SEND_ONCE ? 0 : 1;
        account_charge_force(t, u, ACCT_KMSGS, k->charged_units);
        account_charge_force(t, u, ACCT_KBYTES, (uint64_t)k->size + k->attach_size);
        account_charge_force(t, u, ACCT_FDS, k->n_fds);
        k->acct_task = account_ref(t);
        k->acct_uid = account_ref(u);
        k->charge = KMSG_CHARGE_KERNEL;
}

/**
 * kmsg_charge_sender() - charge @k to its sender's accounts, all or nothing
 * @space: the sender's space
 * @ool: bytes of out-of-line regions it carries
 * @force: past the quotas too (a send already promised room)
 *
 * Return: true, or false (nothing charged) when over a quota.
 */
bool kmsg_charge_sender(Kmsg *k, Space *space, uint64_t ool, bool force) {
        Account *t = space->acct_task, *u = space->acct_uid;
        uint64_t bytes = (uint64_t)k->size + k->attach_size;
        if (!t && !u)
                return true;
        if (force) {
                account_charge_force(t, u, ACCT_MESSAGES, 1);
                account_charge_force(t, u, ACCT_BYTES, bytes);
                account_charge_force(t, u, ACCT_FDS, k->n_fds);
                account_charge_force(t, u, ACCT_OOL, ool);
                goto charged;
        }
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
charged:
        k->acct_task = account_ref(t);
        k->acct_uid = account_ref(u);
        k->charged_ool = ool;
        k->charge = KMSG_CHARGE_SENDER;
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
        assert(!kmsg->credit);  /* a credited message leaves its port's count first */
        kmsg->origin = origin_unref(kmsg->origin);
        kmsg_uncharge(kmsg);
        kmsg_release(kmsg, kmsg_bytes(kmsg->size + kmsg->attach_size, kmsg->n_rights, kmsg->n_fds));
        return NULL;
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

