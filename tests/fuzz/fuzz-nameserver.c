/* SPDX-License-Identifier: MIT */
/*
 * fuzz-nameserver.c - the name server's request decoding (the stubs
 * machipc-mig generates from interfaces/netname.defs) on arbitrary bytes
 *
 * Whatever the bytes, the demux either refuses the request (MIG_BAD_ID,
 * MIG_BAD_ARGUMENTS) or calls the server's function with a name of 1 to
 * NETNAME_MAX - 1 bytes ending in NUL and the rights the call takes; the
 * reply it builds fits its buffer.  It must never read past the message.
 */

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "netnameServer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_name(const char *name) {
        size_t len = strnlen(name, NETNAME_MAX);
        assert(len < NETNAME_MAX);
}

kern_return_t do_netname_check_in(mach_port_t server, char *name, mach_port_t signature, mach_port_t port) {
        (void)server;
        (void)signature;
        check_name(name);
        return port ? NETNAME_SUCCESS : NETNAME_INVALID_PORT;
}

kern_return_t do_netname_look_up(mach_port_t server, char *name, mach_port_t *port) {
        (void)server;
        check_name(name);
        *port = 0x1234;
        return NETNAME_SUCCESS;
}

kern_return_t do_netname_check_out(mach_port_t server, char *name, mach_port_t signature) {
        (void)server;
        (void)signature;
        check_name(name);
        return NETNAME_NOT_CHECKED_IN;
}

/* A page as full as the reply lets it be: the stub gives the room in *count. */
kern_return_t do_netname_list(mach_port_t server, int start, char *listing, mach_msg_type_number_t *count,
                              int *next) {
        (void)server;
        assert(*count == 32768);
        memset(listing, 'x', *count);
        *next = start > 0 ? start - 1 : 0;
        return NETNAME_SUCCESS;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size < sizeof(msg_header_t) || size > MSG_SIZE_MAX)
                return 0;
        /* A copy of exactly @size bytes, so that a read past it is caught; msg_size says the truth,
         * as the library guarantees of every received message. */
        msg_header_t *in = malloc(size);
        uint8_t *out = calloc(1, netname_MSG_SIZE_MAX);
        if (!in || !out)
                abort();
        memcpy(in, data, size);
        in->msg_size = (msg_size_t)size;
        boolean_t ours = netname_server(in, (msg_header_t *)out);
        msg_header_t *rep = (msg_header_t *)out;
        assert(rep->msg_size >= MIG_REPLY_BODY && rep->msg_size <= netname_MSG_SIZE_MAX);
        assert(rep->msg_id == (int32_t)((uint32_t)in->msg_id + 100u));
        kern_return_t rc = mig_retcode(rep);
        if (!ours)
                assert(rc == MIG_BAD_ID);
        else
                assert(rc != MIG_BAD_ID);
        free(in);
        free(out);
        return 0;
}
