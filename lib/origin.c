/* SPDX-License-Identifier: MIT */
/*
 * origin.c - a relay's side of sender credentials across hosts: the
 * origins it speaks for (KCALL_ORIGIN_CREATE, _DESTROY; kernel/origin.c)
 * msg_send_from() names in each send.
 */

#include <errno.h>
#include <string.h>
#include "internal.h"
#include "kcall.h"

kern_return_t msg_origin_create(const char *host, const char *identity, uint32_t *origin) {
        if (!origin || !wire_origin_name_ok(host, false) || !wire_origin_name_ok(identity, true))
                return KERN_INVALID_ARGUMENT;
        port_t self = task_self();
        if (self == PORT_NULL)
                return -ECONNREFUSED;
        size_t hl = strlen(host) + 1, il = strlen(identity) + 1;
        union {
                msg_header_t h;
                uint8_t bytes[256];
        } m;
        memset(&m, 0, sizeof(m));
        uint8_t *p = m.bytes + sizeof(msg_header_t);
        msg_type_t none = { MSG_TYPE_INTEGER_32, 0, 0 }, names = { MSG_TYPE_STRING, 0, (uint32_t)(hl + il) };
        memcpy(p, &none, sizeof(none));
        p += sizeof(none);
        memcpy(p, &names, sizeof(names));
        memcpy(p + sizeof(names), host, hl);
        memcpy(p + sizeof(names) + hl, identity, il);
        p += MSG_ITEM_SIZE(hl + il);
        m.h.msg_size = (msg_size_t)(p - m.bytes);
        m.h.msg_remote_port = self;
        m.h.msg_id = KCALL_ORIGIN_CREATE;
        m.h.msg_bits = MSG_BITS(MSG_TYPE_COPY_SEND, MSG_TYPE_MAKE_SEND_ONCE);
        msg_return_t r = msg_rpc(&m.h, MSG_OPTION_NONE, sizeof(m), 0, 0);
        if (r != 0)
                return r;
        WireItemIter it;
        WireItem item;
        wire_item_iter_init(&it, m.bytes, m.h.msg_size);
        if (m.h.msg_id != kcall_reply_id(KCALL_ORIGIN_CREATE) || m.h.msg_size > sizeof(m) ||
            !wire_item_next(&it, &item) || item.name != MSG_TYPE_INTEGER_32 || item.number != 2 ||
            item.offset + 8 > m.h.msg_size)
                return -EPROTO;
        int32_t res[2];
        memcpy(res, m.bytes + item.offset, sizeof(res));
        if (res[0] == KERN_SUCCESS)
                *origin = (uint32_t)res[1];
        return res[0];
}

kern_return_t msg_origin_destroy(uint32_t origin) {
        uint32_t args[1] = { origin };
        int32_t res[1];
        return kcall(task_self(), KCALL_ORIGIN_DESTROY, args, 1, res, 1, 0, 0, NULL);
}
