#pragma once
/* SPDX-License-Identifier: MIT */
/* kmsg.h - a message inside the broker: bytes plus translated rights */

#include <stdbool.h>
#include <stdint.h>
#include "util/list.h"
#include "wire.h"

typedef struct Account Account;
typedef struct Kmsg Kmsg;
typedef struct Port Port;
typedef struct Space Space;
typedef struct Waiter Waiter;

/* What a message holds for a name while it travels. */
enum {
        RIGHT_NONE = 0,         /* PORT_NULL */
        RIGHT_SEND,
        RIGHT_SEND_ONCE,
        RIGHT_RECEIVE,
        RIGHT_DEAD,             /* arrives as PORT_DEAD */
        RIGHT_KERNEL,           /* destination of a broker-generated message: no right */
};

typedef struct {
        Port *port;             /* one reference, or NULL */
        uint32_t offset;        /* where the name goes in the message bytes */
        uint8_t kind;           /* RIGHT_*; the disposition until copy-in commits */
        uint8_t disp;           /* the sender's disposition (MSG_TYPE_*) */
} KmsgRight;

struct Kmsg {
        ListLink link;          /* in a port's queue or senders list */
        Port *dest;
        Port *reply;
        uint8_t dest_kind;
        uint8_t reply_kind;
        uint8_t dest_disp;      /* the sender's dispositions */
        uint8_t reply_disp;
        bool from_kernel;
        uint32_t n_rights;
        uint32_t n_receive;     /* receive rights among them */
        KmsgRight *rights;
        Waiter *waiter;         /* blocked sender */
        Space *accept_space;    /* SEND_NOTIFY: the sender, while it is alive */
        Port *accept_notify;    /* SEND_NOTIFY: where the msg-accepted notification goes */
        uint32_t accept_name;   /* SEND_NOTIFY: the destination's name in the sender's space */
        int32_t pid;
        uint32_t uid;
        uint32_t gid;
        uint32_t seqno;
        Account *acct_task;     /* the sender's, charged until the message goes */
        Account *acct_uid;
        uint64_t charged_ool;
        bool fds_counted;       /* its descriptors are in ipc_stats.fds_in_flight */
        uint32_t n_fds;
        int *fds;               /* descriptors of its out-of-line items, owned (-1: taken) */
        uint32_t size;
        uint32_t attach_size;   /* bytes of inline regions after the message */
        uint8_t *data;          /* size bytes: header, then items; then the attachment */
};

int kmsg_new(Kmsg **kmsgp, uint32_t size, uint32_t n_rights, uint32_t n_fds);
Kmsg *kmsg_free(Kmsg *kmsg);
void kmsg_cache_deinit(void);
int kmsg_check_fds(const uint8_t *msg, uint32_t size, const int *fds, uint32_t n_fds);
int kmsg_copyin(Space *space, const uint8_t *msg, uint32_t size, uint32_t attach_size,
                const WireMsgInfo *info, int *fds, uint32_t n_fds, Kmsg **kmsgp);
void kmsg_copyout(Space *space, Kmsg *kmsg, uint8_t *out);
void kmsg_copyout_returned(Space *space, Kmsg *kmsg, uint8_t *out);
void kmsg_copyout_header(Kmsg *kmsg, uint8_t *out);
uint32_t kmsg_copyout_right(Space *space, Port *port, uint8_t kind);
