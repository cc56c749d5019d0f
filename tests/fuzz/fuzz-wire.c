/* SPDX-License-Identifier: MIT */
/*
 * fuzz-wire.c - the frame decoders (events and PUSH records too) and
 * wire_msg_check() on arbitrary bytes
 *
 * Byte 0 picks what to decode; the rest is the input.  For messages the
 * harness writes the true length into msg_size (so that the fuzzer spends
 * its time on items), and if the check accepts a message, every item must
 * lie inside it and the counts must agree.  A rejection is fine.
 */

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size < 1)
                return 0;
        uint8_t mode = data[0];
        data++;
        size--;
        WireHeader h;
        WireHello hello;
        WireHelloReply hr;
        WireMsgReq q;
        WireMsgReply mr;
        WireEvent ev;
        WirePushRecord rec;
        switch (mode % 5) {
        case 0:
                if (wire_header_decode(data, size, &h) == 0)
                        assert(h.size == size && h.size <= WIRE_FRAME_MAX &&
                               !(h.flags & ~(WIRE_FLAG_ONE_WAY | WIRE_FLAG_LENT)));
                return 0;
        case 4:
                /* An event, and the records of a PUSH: each must fit what is left. */
                if (wire_event_decode(data, size, &ev) == 0)
                        assert(ev.type >= WIRE_EVENT_PUSH && ev.type <= WIRE_EVENT_READY);
                for (size_t off = 0; wire_push_record_decode(data + off, size - off, &rec) == 0;) {
                        assert(rec.size <= size - off - WIRE_PUSH_RECORD_SIZE);
                        off += WIRE_PUSH_RECORD_SIZE + rec.size;
                }
                return 0;
        case 1:
                (void)wire_hello_decode(data, size, &hello);
                (void)wire_hello_reply_decode(data, size, &hr);
                return 0;
        case 2:
                if (wire_msg_req_decode(data, size, &q) == 0)
                        assert(!(q.option & ~WIRE_MSG_OPTIONS));
                (void)wire_msg_reply_decode(data, size, &mr);
                return 0;
        default:
                break;
        }
        if (size > MSG_SIZE_MAX + WIRE_ATTACH_MAX)
                return 0;
        /* A message, then an attachment: byte 1 of the input says how long. */
        uint8_t *m = malloc(size + 8);
        memcpy(m, data, size);
        size_t attach = size > 1 ? (size_t)data[0] * 64 % (size / 2 + 1) : 0;
        size_t len = size - attach;
        if (len >= sizeof(msg_header_t))
                wire_put_le32(m, (uint32_t)len);
        WireMsgInfo info;
        if (wire_msg_check(m, len, attach, &info) == 0) {
                WireItemIter it;
                WireItem item;
                uint32_t rights = 0, fds = 0;
                wire_item_iter_init(&it, m, (uint32_t)len);
                while (wire_item_next(&it, &item)) {
                        assert(item.offset + item.bytes <= len);
                        if (wire_disposition_is_valid(item.name))
                                rights += item.number;
                        for (uint32_t j = 0; j < item.number; j++) {
                                if (item.name == MSG_TYPE_FD) {
                                        fds++;
                                } else if (item.name == MSG_TYPE_MEMORY) {
                                        msg_ool_t o;
                                        memcpy(&o, m + item.offset + 16 * j, sizeof(o));
                                        if (o.size && !(o.address & WIRE_OOL_INLINE))
                                                fds++;
                                        if (o.size && (o.address & WIRE_OOL_INLINE))
                                                assert((o.address & ~WIRE_OOL_INLINE) + o.size <= attach);
                                }
                        }
                }
                assert(rights == info.n_rights);
                assert(fds == info.n_fds && fds <= WIRE_FDS_MAX);
        }
        free(m);
        return 0;
}
