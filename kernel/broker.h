#pragma once
/* SPDX-License-Identifier: MIT */
/* broker.h - the daemon: event loop, listener, signals, the registry of tasks */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>
#include <event2/event.h>
#include "ipc/account.h"
#include "util/list.h"

typedef struct Peer Peer;

#define BROKER_TASKS_DEFAULT 1024u

typedef struct {
        const char *socket_path;        /* NULL: $MACHIPC_SOCKET, else the default */
        int ready_fd;                   /* -1: none */
        int listen_fd;                  /* a listening socket passed by the service manager, or -1 */
        uint32_t max_tasks;             /* connected tasks, all uids */
        uint32_t handshake_timeout_ms;  /* 0: PEER_HANDSHAKE_TIMEOUT_MS */
        gid_t allow_group;              /* (gid_t)-1: only the broker's uid may connect */
        Limits task_limits;             /* per task */
        Limits uid_limits;              /* per uid, all its tasks together */
} BrokerConfig;

typedef struct Broker {
        struct event_base *base;
        BrokerConfig config;
        char *socket_path;
        char *lock_path;
        int lock_fd;
        int listen_fd;
        struct event *ev_listen;
        struct event *ev_accept_again;  /* out of descriptors: accept again later */
        time_t fd_warned;               /* when we last said we were out of descriptors */
        uint64_t fd_refused;            /* connections refused for that since */
        struct event *ev_sigterm;
        struct event *ev_sigint;
        struct event *ev_status;        /* STATUS= to the service manager, once a second */
        uint32_t status_tasks;          /* the task count it was last told */
        bool activated;                 /* the socket is the service manager's: not ours to unlink */
        ListLink peers;
        ListLink zombies;
        ListLink uid_accounts;          /* Account.link, one per uid with tasks or messages */
        uint32_t n_peers;
        uint32_t next_task_id;
        uid_t uid;
        uint8_t *rx;                    /* one incoming frame */
        uint8_t *tx;                    /* one outgoing frame */
        int exit_code;
        struct timespec started;
        uint64_t requests;      /* frames that ask for a reply, from every task */
        uint64_t one_way;       /* frames that do not (one-way sends, LENT) */
} Broker;

int broker_new(Broker **brokerp, const BrokerConfig *config);
Broker *broker_free(Broker *broker);
int broker_run(Broker *broker);
void broker_settle(Broker *broker);
