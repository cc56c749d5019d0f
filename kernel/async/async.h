#pragma once
/* SPDX-License-Identifier: MIT */
/* async.h - the broker's asynchronous path: what it hands a task ahead of a call */

#include <stddef.h>
#include <stdint.h>

typedef struct Peer Peer;

void async_setup(void);
void async_peer_end(Peer *peer);
int async_lent_body(Peer *peer, const uint8_t *body, size_t len, size_t *used);
