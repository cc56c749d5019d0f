/* SPDX-License-Identifier: MIT */
/*
 * fuzz-kmsg-copyin.c - the broker's copy-in, send, receive and copy-out on
 * arbitrary messages against a synthetic pair of tasks
 *
 * Each input gets a fresh world: task A holds receive rights, a send right
 * with references, a send-once right, a port set and a dead name; task B
 * owns the port A sends to.  Small numbers in name fields are turned into
 * those names, so most inputs reach past the "no such name" check.  After the
 * send, every queue is drained into its owner, invariants are checked, and
 * both tasks are torn down: every port must then be gone (no leak, no
 * dangling right), whatever the message did.
 */

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "ipc/ipc.h"
#include "ipc/kmsg.h"
#include "ipc/port.h"
#include "ipc/space.h"
#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t new_port(Space *s, uint32_t bits) {
        Port *p;
        SpaceEntry *e;
        int r = port_new(&p, bits == ENTRY_PORT_SET);
        assert(r == 0);
        r = space_alloc(s, p, bits, &e);
        assert(r == 0);
        p->receiver = s;
        p->receiver_name = e->name;
        return e->name;
}

static uint32_t give(Space *from, uint32_t name, Space *to, uint8_t kind) {
        Port *p = space_lookup(from, name)->port;
        if (kind == RIGHT_SEND)
                p->n_srights++;
        else
                p->n_sorights++;
        return kmsg_copyout_right(to, port_ref(p), kind);
}

static void drain(Space *s) {
        uint8_t out[MSG_SIZE_MAX];
        for (uint32_t i = 1; i < s->n_slots; i++) {
                SpaceEntry *e = &s->entries[i];
                if (!e->name || !(e->bits & ENTRY_RECEIVE))
                        continue;
                for (int n = 0; n < 64; n++) {
                        Waiter w;
                        Kmsg *k;
                        uint32_t needed;
                        waiter_init(&w, s);
                        int r = ipc_receive(e->port, &w, RCV_TIMEOUT, 0, MSG_SIZE_MAX, &k, &needed);
                        if (r != 0)
                                break;
                        kmsg_copyout(s, k, out);
                        kmsg_free(k);
                        e = &s->entries[i];     /* copy-out may have grown the table */
                        if (!e->name || !(e->bits & ENTRY_RECEIVE))
                                break;
                }
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size < sizeof(msg_header_t) || size > MSG_SIZE_MAX)
                return 0;
        Space *a, *b;
        space_new(&a, NULL, 256);
        space_new(&b, NULL, 256);
        uint32_t names[8];
        uint32_t bp = new_port(b, ENTRY_RECEIVE);
        names[0] = give(b, bp, a, RIGHT_SEND);          /* send right, 1 ref */
        names[1] = new_port(a, ENTRY_RECEIVE);
        names[2] = new_port(a, ENTRY_RECEIVE);
        give(a, names[2], a, RIGHT_SEND);               /* receive + send under one name */
        names[3] = give(b, bp, a, RIGHT_SEND_ONCE);
        names[4] = new_port(a, ENTRY_PORT_SET);
        uint32_t dead = new_port(b, ENTRY_RECEIVE);
        names[5] = give(b, dead, a, RIGHT_SEND);
        SpaceEntry *de = space_lookup(b, dead);
        Port *dp = de->port;
        dp->receiver = NULL;
        ipc_port_destroy(dp);
        space_dealloc(b, de);                           /* names[5] is now a dead name */
        names[6] = PORT_DEAD;
        names[7] = 0x12345678;

        uint8_t *m = malloc(size);
        memcpy(m, data, size);
        msg_header_t h;
        wire_msg_header_get(m, &h);
        h.msg_size = (uint32_t)size;
        if (h.msg_remote_port < 8)
                h.msg_remote_port = names[h.msg_remote_port];
        if (h.msg_local_port < 8)
                h.msg_local_port = names[h.msg_local_port];
        wire_msg_header_put(m, &h);
        WireMsgInfo info;
        if (wire_msg_check(m, size, 0, &info) == 0 && info.n_fds == 0) {
                WireItemIter it;
                WireItem item;
                wire_item_iter_init(&it, m, (uint32_t)size);
                while (wire_item_next(&it, &item)) {
                        if (!wire_disposition_is_valid(item.name))
                                continue;
                        for (uint32_t j = 0; j < item.number; j++) {
                                uint32_t v = wire_get_le32(m + item.offset + 4 * j);
                                if (v < 8)
                                        wire_put_le32(m + item.offset + 4 * j, names[v]);
                        }
                }
                Kmsg *k;
                if (kmsg_copyin(a, m, (uint32_t)size, 0, &info, NULL, 0, &k) == 0) {
                        if (ipc_send(k, a, SEND_TIMEOUT, 0, NULL) != 0)
                                kmsg_free(k);
                }
                space_validate(a);
                drain(a);
                drain(b);
                space_validate(a);
                space_validate(b);
        }
        free(m);
        ipc_space_terminate(a);
        ipc_space_terminate(b);
        Waiter *w;
        while ((w = ipc_done_pop()))
                w->kmsg = kmsg_free(w->kmsg);
        space_free(a);
        space_free(b);
        assert(port_count() == 0);
        return 0;
}
