/* SPDX-License-Identifier: MIT */
/*
 * fuzz-netmsg.c - machipc-netmsgd's frame decoder on arbitrary bytes: frames
 * split from a stream, and each body read as its type says, never past its end
 */

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include "frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        uint8_t *copy = malloc(size ? size : 1);
        if (!copy)
                abort();
        memcpy(copy, data, size);
        size_t at = 0;
        for (;;) {
                uint16_t type;
                const uint8_t *body;
                uint32_t len;
                int n = nm_frame_next(copy + at, size - at, &type, &body, &len);
                if (n <= 0)
                        break;
                assert((size_t)n == NM_HDR_SIZE + len && at + (size_t)n <= size);
                NmReader r;
                nm_reader_init(&r, body, len);
                if (type == NM_MSG) {
                        nm_u64(&r);
                        nm_u32(&r);
                        nm_ref(&r);
                        uint32_t items_len = nm_u32(&r);
                        const uint8_t *items = nm_bytes(&r, items_len);
                        uint32_t refs;
                        uint64_t ool, streamed;
                        if (!r.bad && nm_items_check(items, items_len, &refs, &ool, &streamed) == 0)
                                assert(ool - streamed <= (uint64_t)items_len && ool <= NM_MSG_OOL_MAX);
                } else if (type == NM_HELLO || type == NM_LOOKUP) {
                        if (type == NM_LOOKUP)
                                nm_u32(&r);
                        else {
                                nm_u16(&r);
                                nm_u16(&r);
                        }
                        uint16_t k = nm_u16(&r);
                        nm_bytes(&r, k);
                } else if (type == NM_LOOKUP_REPLY) {
                        nm_u32(&r);
                        nm_u32(&r);
                        nm_ref(&r);
                } else {
                        nm_u64(&r);
                        nm_u32(&r);
                }
                assert(r.p <= r.end);
                at += (size_t)n;
        }
        free(copy);
        return 0;
}
