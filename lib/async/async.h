#pragma once
/* SPDX-License-Identifier: MIT */
/* async.h - lib/async's shared state: messages handed ahead, arms, send credit */

#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include "../internal.h"

/* Messages handed ahead at most (the broker's LEND_TASK_MAX), and what we tell it in one LENT frame. */
#define ASYNC_LENT_MAX WIRE_LENT_IDS_MAX
#define ASYNC_TAKEN_MAX WIRE_LENT_IDS_MAX
#define ASYNC_CREDIT_BACK_MAX WIRE_LENT_CREDITS_MAX
/* Taken messages told to the broker at the latest after this many. */
#define ASYNC_ACK_BATCH 16u
/* The window an arm asks for. */
#define ASYNC_ARM_WINDOW 64u

/* One message handed ahead, waiting for a receive. */
typedef struct LentMsg {
        struct LentMsg *next;
        uint32_t id;            /* the broker's lend id */
        port_t filed;           /* the name it was handed for: armed, or received from */
        port_t port;            /* the port it came to (msg_local_port; the member through a set) */
        WireMsgReply reply;     /* its sender */
        uint32_t size;
        uint32_t attach_len;
        uint8_t data[];         /* the message, then its attachment (then its WireOrigin, if remote) */
} LentMsg;

/* What we know of one name: armed, waiting for lent messages, on its way out. */
typedef struct {
        port_t name;
        uint32_t expect;        /* messages lent after a receive, still on their way */
        bool armed;
        bool disarming;
        bool stalled;           /* READY: a message waits that only a real receive can take */
        bool dead;              /* the arm ended (port died or moved) */
        bool leaving;           /* its receive right is going: drop what comes from it */
} NameState;

typedef struct {
        port_t name;
        uint32_t count;
} CreditSlot;

typedef struct {
        LentMsg *head, *tail;
        uint32_t n;
        NameState *names;
        uint32_t n_names, cap_names;
        uint32_t taken[ASYNC_TAKEN_MAX];        /* lend ids taken, not yet told */
        uint32_t n_taken;
        CreditSlot credit_back[ASYNC_CREDIT_BACK_MAX];  /* credit given back, not yet told */
        uint32_t n_credit_back;
        CreditSlot *credits;                    /* credit we hold, per destination name */
        uint32_t n_credits, cap_credits;
        int evfd;               /* readiness for machipc_get_fd(), or -1 */
        int epfd;
        int ep_conn_fd;         /* the socket epfd watches */
        bool signalled;
} AsyncState;

extern AsyncState as;

NameState *async_name(port_t name, bool make);
void async_name_tidy(NameState *ns);
void async_signal_locked(void);
void async_credit_add_locked(port_t name, uint32_t n);
void async_credit_forget_locked(port_t name, bool give_back);

/* A deadline @ms from now on CLOCK_MONOTONIC, in ns, as conn_pump_locked() takes it. */
static inline int64_t async_deadline(uint32_t ms) {
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec + (int64_t)ms * 1000000;
}
