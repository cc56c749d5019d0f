#pragma once
/* SPDX-License-Identifier: MIT */
/* peer.h - one connected task: its connection, its space, its calls in progress */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include "ipc/account.h"
#include "connection.h"
#include "ipc/ipc.h"
#include "kobject/task.h"
#include "util/list.h"

typedef struct Broker Broker;
typedef struct Peer Peer;
typedef struct Port Port;
typedef struct Space Space;

/* Calls one task may have in progress at once (blocked threads). */
#define PEER_REQS_MAX 1024u

typedef struct {
        Waiter w;
        Peer *peer;
        ListLink link;          /* peer->reqs or peer->free_reqs */
        struct event timer;
        bool timer_armed;
        bool receiving;         /* in the receive phase */
        uint32_t serial;
        uint32_t option;
        uint32_t send_timeout;
        uint32_t rcv_name;
        uint32_t rcv_size;
        uint32_t rcv_timeout;
        uint32_t lend;          /* WIRE_MSG_MANY: messages to lend after the one received */
        uint32_t credit;        /* credit granted for the destination of the send */
} PeerReq;

/* Origins a relay task may hold (kernel/origin.c): one per peer host of machipc-netmsgd. */
#define PEER_ORIGINS_MAX 64u

struct Peer {
        Broker *broker;
        uint32_t id;
        ListLink link;          /* broker->peers or broker->zombies */
        Connection conn;
        struct event ev_read;
        struct event ev_write;
        struct event ev_gone;   /* its process exited (pidfd readable) */
        struct event ev_hello;  /* handshake deadline */
        int pidfd;              /* -1: not watched (no pidfd on this kernel) */
        pid_t pid;
        uid_t uid;
        gid_t gid;
        Account *acct_uid;      /* its uid's account: counts it in "tasks" from accept on */
        uint16_t minor;         /* the protocol minor it speaks (1.1: the asynchronous path) */
        bool ready;             /* handshake done */
        bool dead;
        bool mute;              /* its socket takes no more writes: what it sent is still read */
        Task task;              /* its space and kernel objects */
        uint32_t self_name;
        uint32_t notify_name;
        ListLink reqs;
        ListLink free_reqs;
        uint32_t n_reqs;
        uint64_t requests;      /* frames it sent that ask for a reply */
        uint64_t one_way;       /* frames it sent that do not */
        ListLink arms;          /* Arm.link (async/lend.c) */
        uint32_t n_arms;
        ListLink lents;         /* Lent.link, in the order lent */
        uint32_t n_lent;
        uint64_t lent_bytes;    /* their bytes (message and attachment) */
        uint32_t next_lend_id;
        ListLink credits;       /* Credit.peer_link (async/credit.c) */
        uint32_t n_credits;
        uint32_t credit_slots;
        struct Origin *origins[PEER_ORIGINS_MAX]; /* hosts it relays for (origin.c); id = index + 1 */
        uint32_t n_origins;
};

/* Milliseconds a connection may take to say hello before it is closed (--handshake-timeout). */
#define PEER_HANDSHAKE_TIMEOUT_MS 5000u

int peer_new(Peer **peerp, Broker *broker, int fd, pid_t pid, uid_t uid, gid_t gid);
void peer_free(Peer *peer);
void peer_kill(Peer *peer, const char *why);
void peer_waiter_done(Waiter *w);
uint8_t *peer_frame_body(Peer *peer);
void peer_frame_end(Peer *peer, uint16_t op, uint32_t serial, size_t body, int *fds, uint32_t n_fds);
void peer_event(Peer *peer, uint32_t type, uint32_t a, uint32_t b);
void peer_send(Peer *peer, const uint8_t *frame, size_t len);
/* peer-msg.c */
void peer_msg(Peer *peer, uint32_t serial, const uint8_t *body, size_t len, int *fds, uint32_t n_fds);
void peer_msg_one_way(Peer *peer, const uint8_t *body, size_t len, int *fds, uint32_t n_fds);
void peer_reqs_free(Peer *peer);
