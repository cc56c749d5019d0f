/* SPDX-License-Identifier: MIT */
/*
 * fuzz-nameserver.c - the name server's request parser on arbitrary bytes
 *
 * Whatever the bytes, ns_request_parse() either refuses them or returns a
 * request the server can act on without further checks: a known id, a name
 * of 1 to NETNAME_MAX - 1 bytes ending in NUL, and exactly the port items
 * that call takes.  It must never read past the message.
 */

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        /* A copy of exactly @size bytes, so that a read past it is caught. */
        uint8_t *m = malloc(size ? size : 1);
        if (!m)
                return 0;
        memcpy(m, data, size);
        NsRequest req;
        memset(&req, 0xa5, sizeof(req));
        if (ns_request_parse(m, size, &req) == 0) {
                assert(req.id == NETNAME_MSG_CHECK_IN || req.id == NETNAME_MSG_LOOK_UP ||
                       req.id == NETNAME_MSG_CHECK_OUT);
                size_t len = strnlen(req.name, sizeof(req.name));
                assert(len > 0 && len < NETNAME_MAX);
                unsigned want = req.id == NETNAME_MSG_CHECK_IN ? 2 : req.id == NETNAME_MSG_CHECK_OUT ? 1 : 0;
                assert(req.n_ports == want);
        }
        free(m);
        return 0;
}
