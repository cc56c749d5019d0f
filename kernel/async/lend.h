#pragma once
/* SPDX-License-Identifier: MIT */
/* lend.h - messages handed to a task ahead of its receives: armed ports and receives of many */

#include <stdbool.h>
#include <stdint.h>
#include "ipc/ipc.h"
#include "util/list.h"

typedef struct Kmsg Kmsg;
typedef struct Peer Peer;
typedef struct Port Port;
typedef struct Space Space;

/* Messages one arm may have handed ahead and not yet taken. */
#define LEND_WINDOW_MAX 256u
/* Messages handed ahead to one task at once, all arms and receives together. */
#define LEND_TASK_MAX 1024u
/* Messages one receive may lend after the one it returns. */
#define LEND_MANY_MAX 64u
/* Bytes handed ahead to one task at once (a task that does not read cannot
 * fill its unread-bytes limit with messages it did not ask for one by one). */
#define LEND_BYTES_MAX (1024u * 1024u)
/* Ports and sets one task may have armed. */
#define LEND_ARMS_MAX 1024u

/* A port or port set whose messages go to its task as they come (WIRE_OP_ARM). */
typedef struct Arm {
        ListLink link;          /* peer->arms */
        Waiter w;               /* the standing receive, lending (IPC_RCV_LEND) */
        Peer *peer;
        Port *port;             /* the port or set (one reference) */
        uint32_t name;          /* the task's name for it */
        uint32_t window;
        uint32_t n_lent;        /* handed ahead under this arm, not yet taken or given back */
        bool waiting;           /* w is registered with the port */
        bool stalled;           /* the next message cannot be lent: a real receive must take it */
} Arm;

/* One message handed ahead, until the task takes it or it is given back. */
typedef struct Lent {
        ListLink link;          /* peer->lents, in the order they were lent */
        uint32_t id;
        Kmsg *kmsg;             /* copied out with kmsg_copyout_lend() */
        Port *port;             /* the port it came from (the member, through a set); one reference */
        Arm *arm;               /* or NULL: lent after a receive of many */
} Lent;

int lend_arm(Peer *peer, uint32_t name, uint32_t window);
uint32_t lend_take_many(Peer *peer, Port *port, uint32_t n, Kmsg **out);
void lend_push_many(Peer *peer, Kmsg **kmsgs, uint32_t n, uint32_t rcv_name);
int lend_taken(Peer *peer, const uint32_t *ids, uint32_t n);
void lend_give_back_port(Peer *peer, Port *port);
void lend_end_arms(Peer *peer, Port *port);
void lend_resume(Peer *peer, uint32_t name);
void lend_peer_end(Peer *peer);
