#pragma once
/* SPDX-License-Identifier: MIT */
/*
 * origin.h - where a message relayed from another host came from
 *
 * A network server (machipc-netmsgd) that brings messages from other hosts
 * makes one Origin per peer host (KCALL_ORIGIN_CREATE, kernel/origin.c) and
 * names it in each send.  The message then carries a reference: its
 * receiver is told the host and certificate identity, and which local task
 * relayed it, instead of the relay's own pid, uid and gid.  The record
 * lives while the relay holds it or a message still does.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "wire.h"

typedef struct Origin {
        uint32_t refs;
        int32_t relay_pid;
        uint32_t relay_uid;
        char host[WIRE_ORIGIN_FIELD];           /* NUL-padded, as on the wire */
        char identity[WIRE_ORIGIN_FIELD];
} Origin;

static inline Origin *origin_ref(Origin *o) {
        if (o)
                o->refs++;
        return o;
}

static inline Origin *origin_unref(Origin *o) {
        if (o && --o->refs == 0)
                free(o);
        return NULL;
}

/* The WIRE_ORIGIN_SIZE bytes a receiver is given after the message and its attachment. */
static inline void origin_encode(const Origin *o, uint8_t *buf) {
        WireOrigin w = { .relay_pid = o->relay_pid, .relay_uid = o->relay_uid };
        memcpy(w.host, o->host, sizeof(w.host));
        memcpy(w.identity, o->identity, sizeof(w.identity));
        wire_origin_encode(buf, &w);
}
