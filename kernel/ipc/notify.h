#pragma once
/* SPDX-License-Identifier: MIT */
/* notify.h - notification requests and the right transitions that fire them */

#include <stdbool.h>
#include <stdint.h>
#include "util/list.h"

typedef struct Port Port;
typedef struct Space Space;
typedef struct SpaceEntry SpaceEntry;

/* A dead-name request: on @port's death, @name in @space hears of it. */
typedef struct DeadNameReq {
        ListLink port_link;     /* port->dn_requests */
        Space *space;
        uint32_t name;
        Port *notify;           /* one reference */
} DeadNameReq;

enum {
        NOTIFY_E_INVALID_RIGHT = 1,
        NOTIFY_E_INVALID_VALUE,
        NOTIFY_E_NO_MEMORY,     /* out of memory, or the requester is past its kernel quota */
};

void notify_srights_dec(Port *port);
void notify_sorights_inc(Port *port);
void notify_sorights_dec(Port *port, bool unused);
void notify_entry_dealloc(Space *space, SpaceEntry *entry);
void notify_port_dead(Port *port);
bool notify_port_destroyed(Port *port);
void notify_port_clear(Port *port);
int notify_request(Space *space, SpaceEntry *entry, int32_t variant, uint32_t sync, Port *notify);
