#pragma once
/* SPDX-License-Identifier: MIT */
/* request.h - the name server's requests, checked whole before anything is done */

#include <stddef.h>
#include <machipc/machipc.h>

typedef struct {
        int32_t id;                     /* NETNAME_MSG_* */
        char name[NETNAME_MAX];         /* NUL-terminated, 1 ... NETNAME_MAX - 1 bytes */
        port_t ports[2];                /* send rights received: check in (signature, service), check out (signature) */
        unsigned n_ports;
} NsRequest;

int ns_request_parse(const void *msg, size_t size, NsRequest *req);
