/* SPDX-License-Identifier: MIT */
/*
 * request.c - parse a name-server request (doc/protocol.md, "Name server")
 *
 * A request is checked whole before the server acts on it: its id, a
 * STRING item holding the name, then exactly the port items the call takes,
 * each one send right, and nothing else.  Anything else is refused; the
 * server then gives back every right the message carried (msg_destroy()).
 * This file does no I/O, so it can be fuzzed on its own.
 */

#include <string.h>
#include "request.h"

/* The port items each call carries. */
static int ports_for(int32_t id) {
        switch (id) {
        case NETNAME_MSG_CHECK_IN:
                return 2;
        case NETNAME_MSG_LOOK_UP:
                return 0;
        case NETNAME_MSG_CHECK_OUT:
                return 1;
        default:
                return -1;
        }
}

/**
 * ns_request_parse() - check and decode a received request
 * @msg, @size: the message as received (@size: bytes available at @msg)
 * @req: out, filled on success only
 *
 * Return: 0, or KERN_INVALID_ARGUMENT for anything malformed: an unknown id,
 * a message size that lies, a name that is empty, too long or not
 * NUL-terminated, missing, extra or wrong items.
 */
int ns_request_parse(const void *msg, size_t size, NsRequest *req) {
        const uint8_t *b = msg;
        msg_header_t h;
        msg_type_t t;
        NsRequest r;
        if (size < sizeof(h))
                return KERN_INVALID_ARGUMENT;
        memcpy(&h, b, sizeof(h));
        if (h.msg_size > size || h.msg_size < sizeof(h))
                return KERN_INVALID_ARGUMENT;
        int want = ports_for(h.msg_id);
        if (want < 0)
                return KERN_INVALID_ARGUMENT;
        memset(&r, 0, sizeof(r));
        r.id = h.msg_id;
        size_t off = sizeof(h), end = h.msg_size;
        if (end - off < sizeof(t))
                return KERN_INVALID_ARGUMENT;
        memcpy(&t, b + off, sizeof(t));
        off += sizeof(t);
        if (t.msg_type_name != MSG_TYPE_STRING || t.msg_type_flags != 0 || t.msg_type_number < 2 ||
            t.msg_type_number > NETNAME_MAX || t.msg_type_number > end - off)
                return KERN_INVALID_ARGUMENT;
        memcpy(r.name, b + off, t.msg_type_number);
        if (r.name[t.msg_type_number - 1] != '\0' || strlen(r.name) != t.msg_type_number - 1)
                return KERN_INVALID_ARGUMENT;
        off += t.msg_type_number;
        /* Padding to 8, unless this was the last item. */
        size_t pad = (8 - (t.msg_type_number & 7)) & 7;
        off = off + pad <= end ? off + pad : end;
        for (int i = 0; i < want; i++) {
                if (end - off < sizeof(t) + 4)
                        return KERN_INVALID_ARGUMENT;
                memcpy(&t, b + off, sizeof(t));
                if (t.msg_type_name != MSG_TYPE_PORT_SEND || t.msg_type_flags != 0 || t.msg_type_number != 1)
                        return KERN_INVALID_ARGUMENT;
                memcpy(&r.ports[i], b + off + sizeof(t), 4);
                r.n_ports++;
                off += sizeof(t) + 4;
                off = off + 4 <= end ? off + 4 : end;
        }
        if (off != end)
                return KERN_INVALID_ARGUMENT;
        *req = r;
        return 0;
}
