#pragma once
/* SPDX-License-Identifier: MIT */
/* connection.h - one task's socket: framing and a bounded output queue */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "util/list.h"

/* Bytes of replies a task may leave unread (counting their memory) before it is dropped. */
#define CONNECTION_OUTQ_MAX (8u << 20)

enum {
        CONNECTION_E_EOF = 1,           /* the peer closed */
        CONNECTION_E_AGAIN,             /* nothing to read now */
        CONNECTION_E_PROTOCOL,          /* a frame we cannot accept */
        CONNECTION_E_OVERFLOW,          /* output queue over its limit */
};

typedef struct {
        int fd;
        ListLink outq;          /* OutFrame.link */
        size_t outq_bytes;
        size_t outq_max;
} Connection;

void connection_init(Connection *c, int fd);
void connection_deinit(Connection *c);
void connection_drop_output(Connection *c);
int connection_read(Connection *c, uint8_t *buf, size_t size, size_t *lenp, int *fds,
                    uint32_t max_fds, uint32_t *n_fdsp);
int connection_write(Connection *c, const uint8_t *frame, size_t len, int *fds, uint32_t n_fds);
void connection_close_fds(int *fds, uint32_t n);
int connection_flush(Connection *c);
bool connection_pending(const Connection *c);
