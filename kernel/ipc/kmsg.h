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
        uint8_t lent_kind;      /* lent: the right the receiver was given (RIGHT_*) */
        uint32_t lent_name;     /* lent: under this name */
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
        bool port_items;        /* it has port items (some perhaps empty): copy-out retypes them */
        KmsgRight *rights;
        Waiter *waiter;         /* blocked sender */
        Space *accept_space;    /* SEND_NOTIFY: the sender, while it is alive */
        Port *accept_notify;    /* SEND_NOTIFY: where the msg-accepted notification goes */
        uint32_t accept_name;   /* SEND_NOTIFY: the destination's name in the sender's space */
        int32_t pid;
        uint32_t uid;
        uint32_t gid;
        uint32_t seqno;
        Account *acct_task;     /* who pays for it until it goes (kmsg_charge*()) */
        Account *acct_uid;
        uint64_t charged_ool;
        uint8_t charge;         /* KMSG_CHARGE_* */
        uint8_t reply_lent_kind; /* lent: the reply right the receiver was given, and its name */
        uint32_t reply_lent_name;
        void *credit;           /* sent with send credit: the Credit it used (kernel/async) */
        struct Origin *origin;  /* relayed from another host: where from (ipc/origin.h), a reference */
        uint8_t charged_units;  /* KMSG_CHARGE_KERNEL: kernel_messages counted for it (0 or 1) */
        bool fds_counted;       /* its descriptors are in ipc_stats.fds_in_flight */
        uint32_t n_fds;
        int *fds;               /* descriptors of its out-of-line items, owned (-1: taken) */
        uint32_t size;
        uint32_t attach_size;   /* bytes of inline regions after the message */
        uint8_t *data;          /* size bytes: header, then items; then the attachment */
};

/* What a message is charged as. */
enum {
        KMSG_CHARGE_NONE = 0,
        KMSG_CHARGE_SENDER,     /* to its sending task: messages, bytes, fds, ool_bytes */
        KMSG_CHARGE_KERNEL,     /* made by the broker, to its receiver: kernel_messages, kernel_bytes, fds */
};

int kmsg_new(Kmsg **kmsgp, uint32_t size, uint32_t n_rights, uint32_t n_fds);
void kmsg_charge_kernel(Kmsg *kmsg, Space *payer);
bool kmsg_charge_sender(Kmsg *kmsg, Space *space, uint64_t ool, bool force);
Kmsg *kmsg_free(Kmsg *kmsg);
void kmsg_cache_deinit(void);
int kmsg_check_fds(const uint8_t *msg, uint32_t size, const int *fds, uint32_t n_fds);
int kmsg_copyin(Space *space, const uint8_t *msg, uint32_t size, uint32_t attach_size,
                const WireMsgInfo *info, int *fds, uint32_t n_fds, Kmsg **kmsgp);
int kmsg_copyin_charged(Space *space, const uint8_t *msg, uint32_t size, uint32_t attach_size,
                        const WireMsgInfo *info, int *fds, uint32_t n_fds, Kmsg **kmsgp, bool force);
void kmsg_copyout(Space *space, Kmsg *kmsg, uint8_t *out);
void kmsg_copyout_lend(Space *space, Kmsg *kmsg, uint8_t *out);
void kmsg_uncopyout(Space *space, Kmsg *kmsg);
uint8_t kmsg_copyin_move(Space *space, uint32_t name, uint32_t disp, Port **portp);
void kmsg_copyout_returned(Space *space, Kmsg *kmsg, uint8_t *out);
void kmsg_copyout_header(Kmsg *kmsg, uint8_t *out);
uint32_t kmsg_copyout_right(Space *space, Port *port, uint8_t kind);

/* inline helpers */

/* Does @disp move a right the sender holds (rather than make or copy one)? */
static inline bool kmsg_disposition_is_move(uint32_t disp) {
        return disp == MSG_TYPE_MOVE_RECEIVE || disp == MSG_TYPE_MOVE_SEND || disp == MSG_TYPE_MOVE_SEND_ONCE;
}

