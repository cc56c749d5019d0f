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
} PeerReq;

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
        bool ready;             /* handshake done */
        bool dead;
        Task task;              /* its space and kernel objects */
        uint32_t self_name;
        uint32_t notify_name;
        ListLink reqs;
        ListLink free_reqs;
        uint32_t n_reqs;
};

/* Milliseconds a connection may take to say hello before it is closed (--handshake-timeout). */
#define PEER_HANDSHAKE_TIMEOUT_MS 5000u

int peer_new(Peer **peerp, Broker *broker, int fd, pid_t pid, uid_t uid, gid_t gid);
void peer_free(Peer *peer);
void peer_kill(Peer *peer, const char *why);
void peer_waiter_done(Waiter *w);
