/* SPDX-License-Identifier: MIT */
/*
 * fuzz-lib-recv.c - the library's handling of a received message: turning
 * out-of-line elements into regions, with an attachment, and no descriptors
 * (a broker that lied about them).  Whatever it maps, it must give back.
 */

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
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
