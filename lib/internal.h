#pragma once
/* SPDX-License-Identifier: MIT */
/* internal.h - libmachipc's private interfaces between its files */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include <machipc/machipc.h>
#include "wire.h"

/* One request in flight: filled in by whichever thread reads its reply. */
typedef struct Call {
        struct Call *next;
        uint32_t serial;
        bool done;
        bool lent;              /* write the pending LENT frame before the request */
        bool passive;           /* its thread waits without reading (conn_wait_passively()) */
        port_t rcv_name;        /* MSG with a receive of many: where lent messages will be filed */
        const port_t *leaving;  /* receive rights and sets this request moves or destroys: */
        uint32_t n_leaving;     /* pushes of theirs are dropped until its reply */
        int error;              /* negative errno if the connection failed */
        uint8_t *buf;           /* MSG: where a message in the reply goes */
        size_t buf_size;
        size_t msg_len;         /* bytes of message copied to buf */
        uint8_t *attach;        /* MSG: where its attachment goes (WIRE_ATTACH_MAX bytes), or NULL */
        size_t attach_len;
        WireMsgReply reply;     /* MSG */
        bool has_origin;        /* MSG: a message relayed from another host came, from there: */
        WireOrigin origin;
        uint32_t words[2];      /* REPLY_PORT: status, name */
        uint32_t n_fds;         /* descriptors that came with the reply (the caller owns them) */
        int fds[WIRE_FDS_MAX];
} Call;

int conn_call(Call *call, uint16_t op, const struct iovec *iov, int n_iov, const int *fds,
              uint32_t n_fds);
void conn_wait_passively(bool on);
uint16_t conn_minor(void);
int conn_send_one_way(uint16_t op, const struct iovec *iov, int n_iov);
void conn_flush_lent(void);
/* Mach's ranges: a code from the send half of a call, or from the receive half. */
static inline bool msg_code_is_send(msg_return_t r) {
        return ((uint32_t)r & 0xffffc000u) == 0x10000000u;
}
static inline bool msg_code_is_receive(msg_return_t r) {
        return ((uint32_t)r & 0xffffc000u) == 0x10004000u;
}
/* msg_destroy() for a received message (@unsent false), or give up what an unsent one
 * would have given away (@unsent true: moved rights, regions marked for deallocation). */
void msg_release(msg_header_t *h, bool unsent);
void conn_lock(void);
void conn_unlock(void);
bool conn_async_locked(void);
int conn_fd_locked(void);
int conn_pump_locked(bool (*done)(void *arg), void *arg, int64_t deadline);

/* lib/async: what the broker hands the task ahead of its calls (protocol 1.1).
 * The *_locked functions run under the connection's lock. */
int async_event_locked(const uint8_t *body, size_t len, int *fds, uint32_t n_fds);
void async_expect_locked(port_t name, uint32_t n);
void async_real_receive_locked(port_t name);
bool async_pending_locked(void);
void async_reset_locked(void);
void async_atfork_child(void);
void async_flush_lent(int fd);
size_t async_take_lent_body(uint8_t *buf);
int async_receive(msg_header_t *h, size_t buf_size, port_t name, msg_option_t option,
                  msg_timeout_t timeout, bool *handled);
bool async_holds(port_t name);
void async_leaving(port_t name);
void async_left_locked(port_t name);
int async_try_send(const msg_header_t *h);
uint32_t async_credit_take(port_t dest);
void async_credit_add(port_t dest, uint32_t n);
void async_credit_forget(port_t name);
int conn_ensure(void);
void conn_forbid_connect(void);
uint32_t conn_generation(void);
port_t conn_self(void);
port_t conn_notify(void);
port_t conn_bootstrap(void);

/* netname.c, netname-keep.c: names checked in again with a restarted name server. */
void netname_server_changed(port_t server);
void netname_keep_add(port_t server, const char *name, port_t signature, port_t port);
void netname_keep_drop(const char *name);
void netname_keep_reset(void);
void netname_keep_atfork_child(void);
void netname_atfork_child(void);

void msg_set_sender(const WireMsgReply *rep, const WireOrigin *origin);
void msg_atfork_child(void);
void msg_flush_lent_next(void);
void msg_leave_next(port_t name);

/* Out-of-line items of one message being sent (vm.c). */
enum {
        OOL_FD_PASS = 1,        /* a descriptor, copied */
        OOL_FD_MOVE,            /* a descriptor, closed once sent */
        OOL_COPY,               /* a region, copied into a temporary memfd */
        OOL_COPY_THEN_FREE,     /* the same, then vm_deallocate()d once sent */
        OOL_MOVED_REGION,       /* a whole region of ours, sealed and handed over */
        OOL_INLINE,             /* a small region, copied into the frame */
        OOL_INLINE_THEN_FREE,   /* the same, then vm_deallocate()d once sent */
};

typedef struct {
        uint32_t offset;        /* of the element in the message */
        uint8_t action;
        int fd;
        uint64_t orig;          /* the caller's address or descriptor */
        uint64_t size;
        size_t len;
} OolEntry;

typedef struct {
        uint8_t *wire;          /* the message in wire form, or NULL: nothing out of line */
        uint32_t n;
        OolEntry e[MSG_FDS_MAX];
        uint32_t n_fds;
        int fds[MSG_FDS_MAX];
        uint32_t attach_len;    /* inline regions, in wire order */
        uint8_t *attach;        /* WIRE_ATTACH_MAX bytes, or NULL */
} OolPlan;

int ool_prepare(const msg_header_t *h, OolPlan *plan);
void ool_finish(OolPlan *plan, bool sent);
void ool_restore(const OolPlan *plan, msg_header_t *h);
int ool_receive(msg_header_t *h, size_t buf_size, int *fds, uint32_t n_fds, const uint8_t *attach,
                size_t attach_len);

int kcall(port_t task, int32_t id, const uint32_t *args, uint32_t n_args, int32_t *res,
          uint32_t n_res, port_t right, uint32_t right_disp, port_t *right_out);
void kcall_simple(port_t task, int32_t id, const uint32_t *args, uint32_t n_args);
