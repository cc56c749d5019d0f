/* SPDX-License-Identifier: MIT */
/*
 * fuzz-lib-recv.c - the library's handling of what the broker sends: a
 * received message, turning out-of-line elements into regions, with an
 * attachment and no descriptors (a broker that lied about them); and (byte
 * 0 odd) an event frame's body, filed by lib/async as the reader would.
 * Whatever it maps or files, it must give back.
 */

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "async/async.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Events: pushes, credit, revocations, readiness, under the connection's lock. */
static void events(const uint8_t *data, size_t size) {
        conn_lock();
        /* Names that wait for what a receive of many lends, and one armed. */
        async_expect_locked(0x401, 3);
        async_expect_locked(0x801, 1);
        NameState *armed = async_name(0xc01, true);
        if (armed)
                armed->armed = true;
        (void)async_event_locked(data, size, NULL, 0);
        async_reset_locked();
        conn_unlock();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size >= 1 && (data[0] & 1)) {
                events(data + 1, size - 1);
                return 0;
        }
        if (size < sizeof(msg_header_t) + 2 || size > MSG_SIZE_MAX)
                return 0;
        size_t attach = data[0] * 97 % (size / 2);
        data++;
        size--;
        size_t len = size - attach;
        if (len < sizeof(msg_header_t))
                return 0;
        uint8_t *m = malloc(len);
        memcpy(m, data, len);
        msg_header_t *h = (msg_header_t *)m;
        h->msg_size = (uint32_t)len;
        (void)ool_receive(h, len, NULL, 0, data + len, attach);
        /* Give back whatever arrived, as a program would. */
        WireItemIter it;
        WireItem item;
        wire_item_iter_init(&it, m, (uint32_t)len);
        while (wire_item_next(&it, &item)) {
                if (item.offset + item.bytes > len)
                        break;
                for (uint32_t j = 0; item.name == MSG_TYPE_MEMORY && j < item.number; j++) {
                        msg_ool_t o;
                        memcpy(&o, m + item.offset + 16 * j, sizeof(o));
                        if (o.address)
                                assert(vm_deallocate(PORT_NULL, (vm_address_t)o.address, o.size) == 0);
                }
        }
        free(m);
        return 0;
}
