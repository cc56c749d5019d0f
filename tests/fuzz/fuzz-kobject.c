/* SPDX-License-Identifier: MIT */
/*
 * fuzz-kobject.c - the kernel-call server on arbitrary sequences of calls
 *
 * Each input is a series of calls a task makes on its own kernel port (and on
 * the semaphores it makes): a call id picked from every id the broker knows
 * (and some it does not), up to four arguments, where small values stand
 * for the task's own names, so that calls reach past "no such name".  The
 * replies are received as they come.  Quotas are small, so the refusals are
 * reached too.  At the end every invariant is checked, the task is torn
 * down, and every port and every charge must be gone.
 */

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "ipc/account.h"
#include "ipc/ipc.h"
#include "ipc/kmsg.h"
#include "ipc/port.h"
#include "ipc/space.h"
#include "kcall.h"
#include "kobject/kobject.h"
#include "kobject/semaphore.h"
#include "kobject/task.h"
#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int32_t ids[] = {
        KCALL_PORT_ALLOCATE, KCALL_PORT_DEALLOCATE, KCALL_PORT_STATUS, KCALL_PORT_SET_BACKLOG,
        KCALL_PORT_SET_ALLOCATE, KCALL_PORT_SET_ADD, KCALL_PORT_SET_REMOVE, KCALL_PORT_TYPE,
        KCALL_PORT_REQUEST_NOTIFICATION, KCALL_GET_BOOTSTRAP, KCALL_PORT_NAMES, KCALL_PORT_GET_REFS,
        KCALL_PORT_MOD_REFS, KCALL_BROKER_INFO, KCALL_SEMAPHORE_CREATE, KCALL_SEMAPHORE_DESTROY,
        SEM_SIGNAL, SEM_WAIT, SEM_SIGNAL_ALL, 2999, 3009, 3999,
};
#define N_IDS (sizeof(ids) / sizeof(ids[0]))

/* The info hook the daemon would install: a fixed short page. */
static size_t info_page(uint32_t cursor[2], char *buf, size_t size, bool *done) {
        (void)cursor;
        *done = true;
        if (size < 8)
                return 0;
        memcpy(buf, "broker\n", 7);
        return 7;
}

/* The @i-th name of @s (cyclically), or @i itself past the table. */
static uint32_t pick_name(const Space *s, uint32_t i) {
        if (!s->n_used)
                return i;
        uint32_t want = i % s->n_used, seen = 0;
        for (uint32_t k = 1; k < s->n_slots; k++) {
                if (!s->entries[k].name)
                        continue;
                if (seen++ == want)
                        return s->entries[k].name;
        }
        return i;
}

static void drain(Space *s, uint32_t port_name) {
        uint8_t out[MSG_SIZE_MAX];
        for (int n = 0; n < 64; n++) {
                SpaceEntry *e = space_lookup(s, port_name);
                if (!e || !(e->bits & ENTRY_RECEIVE))
                        return;
                Waiter w;
                Kmsg *k;
                uint32_t needed;
                waiter_init(&w, s);
                if (ipc_receive(e->port, &w, RCV_TIMEOUT, 0, MSG_SIZE_MAX, &k, &needed) != 0)
                        return;
                kmsg_copyout(s, k, out);
                kmsg_free(k);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static bool setup;
        if (!setup) {
                kobject_setup();
                kobject_set_info(info_page);
                setup = true;
        }
        Limits task_limits, uid_limits;
        limits_defaults(&task_limits, &uid_limits);
        task_limits.max[ACCT_NAMES] = 64;
        task_limits.max[ACCT_KMSGS] = 24;
        task_limits.max[ACCT_KBYTES] = 4096;
        Task t = { 0 };
        list_init(&t.semaphores);
        int r = space_new(&t.space, &t, 64);
        assert(r == 0);
        r = account_new(&t.space->acct_task, &task_limits, 0);
        assert(r == 0);
        r = port_new_kobject(&t.kernel_port, KOBJECT_TASK, &t);
        assert(r == 0);
        Port *np;
        SpaceEntry *e;
        r = port_new(&np, false);
        assert(r == 0);
        r = space_alloc(t.space, np, ENTRY_RECEIVE, &e);
        assert(r == 0);
        ipc_port_set_receiver(np, t.space, e->name);
        t.notify_port = port_ref(np);
        uint32_t notify_name = e->name;
        t.kernel_port->n_srights++;
        uint32_t self = kmsg_copyout_right(t.space, port_ref(t.kernel_port), RIGHT_SEND);

        /* Each call: id selector, argument count, 4 arguments, and which name to send to. */
        for (size_t off = 0; off + 19 <= size; off += 19) {
                const uint8_t *c = data + off;
                int32_t id = ids[c[0] % N_IDS];
                uint32_t n_args = c[1] % 6;
                uint32_t args[5];
                for (uint32_t i = 0; i < 4; i++) {
                        memcpy(&args[i], c + 2 + 4 * i, 4);
                        /* Small values stand for our names. */
                        if (args[i] < 16)
                                args[i] = pick_name(t.space, args[i]);
                }
                args[4] = 0;
                uint32_t dest = c[18] & 1 ? pick_name(t.space, c[18] >> 1) : self;
                uint8_t msg[sizeof(msg_header_t) + MSG_ITEM_SIZE(20)];
                uint32_t msize = (uint32_t)(sizeof(msg_header_t) + MSG_ITEM_SIZE(4 * n_args));
                memset(msg, 0, sizeof(msg));
                msg_header_t h = { .msg_size = msize, .msg_remote_port = dest, .msg_id = id,
                                   .msg_local_port = notify_name,
                                   .msg_bits = MSG_BITS(MSG_TYPE_COPY_SEND, MSG_TYPE_MAKE_SEND_ONCE) };
                wire_msg_header_put(msg, &h);
                msg_type_t ty = { MSG_TYPE_INTEGER_32, 0, n_args };
                memcpy(msg + sizeof(h), &ty, sizeof(ty));
                memcpy(msg + sizeof(h) + sizeof(ty), args, 4 * n_args);
                WireMsgInfo info;
                if (wire_msg_check(msg, msize, 0, &info) != 0)
                        continue;
                Kmsg *k;
                if (kmsg_copyin(t.space, msg, msize, 0, &info, NULL, 0, &k) != 0)
                        continue;
                if (ipc_send(k, t.space, SEND_TIMEOUT, 0, NULL) != 0)
                        kmsg_free(k);
                space_validate(t.space);
                drain(t.space, notify_name);
        }
        space_validate(t.space);

        /* The task ends: as peer_free() does it. */
        while (!list_empty(&t.semaphores))
                semaphore_destroy(list_entry(list_first(&t.semaphores), Semaphore, owner_link));
        ipc_kobject_port_destroy(t.kernel_port);
        ipc_space_terminate(t.space);
        Waiter *w;
        while ((w = ipc_done_pop()))
                w->kmsg = kmsg_free(w->kmsg);
        t.notify_port = port_unref(t.notify_port);
        Account *acct = account_ref(t.space->acct_task);
        space_free(t.space);
        /* Every charge given back, every port gone. */
        for (int i = 0; i < ACCT_N; i++)
                assert(acct->used[i] == 0);
        account_unref(acct);
        kobject_deinit();
        assert(port_count() == 0);
        return 0;
}
