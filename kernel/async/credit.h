#pragma once
/* SPDX-License-Identifier: MIT */
/* credit.h - send credit: backlog slots a sender holds, so its sends need no answer */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "util/list.h"

typedef struct Kmsg Kmsg;
typedef struct Peer Peer;
typedef struct Port Port;

/* Unused slots one sender may hold on one port (topped up once half are used). */
#define CREDIT_WINDOW 128u
/* Slots one task may hold, all ports together, and ports it may hold credit for. */
#define CREDIT_TASK_MAX 512u
#define CREDIT_PORTS_MAX 64u

/* One sender's credit on one port. */
typedef struct Credit {
        ListLink peer_link;     /* holder->credits */
        ListLink port_link;     /* port_requests(port)->credits */
        Peer *holder;           /* NULL once the holder is gone */
        Port *port;             /* one reference */
        uint32_t name;          /* the holder's name for the port */
        uint32_t reserved;      /* slots held, not yet used (in port_reserved()) */
        uint32_t queued;        /* messages sent with it, still counted in the port */
        uint32_t refs;          /* the holder's, and one per queued message */
} Credit;

uint32_t credit_after_send(Peer *peer, Port *dest, uint8_t dest_kind, uint8_t dest_disp, uint32_t dest_name);
int credit_give_back(Peer *peer, uint32_t name, uint32_t n);
int credit_send(Peer *peer, const uint8_t *msg, uint32_t size, uint32_t attach);
void credit_slot_freed(Kmsg *kmsg);
void credit_port_dead(Port *port);
void credit_peer_end(Peer *peer);
