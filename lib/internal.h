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
        int error;              /* negative errno if the connection failed */
        uint8_t *buf;           /* MSG: where a message in the reply goes */
        size_t buf_size;
        size_t msg_len;         /* bytes of message copied to buf */
        WireMsgReply reply;     /* MSG */
        uint32_t words[2];      /* REPLY_PORT: status, name */
} Call;

int conn_call(Call *call, uint16_t op, const struct iovec *iov, int n_iov);
int conn_ensure(void);
uint32_t conn_generation(void);
port_t conn_self(void);
port_t conn_notify(void);
port_t conn_bootstrap(void);

void msg_set_sender(const WireMsgReply *rep);

int kcall(port_t task, int32_t id, const uint32_t *args, uint32_t n_args, int32_t *res,
          uint32_t n_res, port_t right, uint32_t right_disp, port_t *right_out);
void kcall_simple(port_t task, int32_t id, const uint32_t *args, uint32_t n_args);
