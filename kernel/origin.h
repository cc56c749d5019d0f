#pragma once
/* SPDX-License-Identifier: MIT */
/* origin.h - tasks that relay messages from other hosts (kernel/origin.c) */

#include <stdint.h>

typedef struct Broker Broker;
typedef struct Peer Peer;
typedef struct Origin Origin;

void origin_setup(Broker *b);
Origin *peer_origin_find(Peer *peer, uint32_t id);
void peer_origins_free(Peer *peer);
