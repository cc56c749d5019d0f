/* SPDX-License-Identifier: MIT */
/*
 * mig.c - the server loop for code written by machipc-mig
 *
 * Receive a request, let the generated demux answer it, then send the
 * reply and receive the next request in one broker request
 * (msg_send_receive()), as Mach's mach_msg_server() does.  What a request
 * carried is destroyed when the server failed on it, so nothing piles up
 * in the server's name space or memory; a request that arrived with holes
 * (RCV_BODY_ERROR) is destroyed and answered KERN_RESOURCE_SHORTAGE.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <machipc/mig.h>
#include "internal.h"

msg_return_t machipc_mig_reply(msg_header_t *out, msg_timeout_t timeout_ms) {
        if (!out)
                return -EINVAL;
        msg_return_t r = msg_send(out, SEND_TIMEOUT, timeout_ms);
        if (msg_code_is_send(r))
                msg_release(out, true);
        return r;
}

bool machipc_mig_reply_ready(msg_header_t *in, msg_header_t *out, bool handled) {
        kern_return_t rc = mig_retcode(out);
        if (!handled || (rc != KERN_SUCCESS && rc != MIG_NO_REPLY)) {
                /* The request's contents go; its reply right stays for the error reply. */
                in->msg_remote_port = PORT_NULL;
                msg_destroy(in);
        }
        if (rc == MIG_NO_REPLY || rc == MIG_DESTROY_REQUEST || out->msg_remote_port == PORT_NULL)
                return false;
        return true;
}

/* Receive into @h (@size bytes) from @rcv_name: Mach's codes, or RCV_TIMED_OUT after @timeout. */
static msg_return_t receive(msg_header_t *h, size_t size, port_t rcv_name, msg_option_t options,
                            msg_timeout_t timeout) {
        h->msg_size = (msg_size_t)size;
        h->msg_local_port = rcv_name;
        return msg_receive(h, options, timeout);
}

static kern_return_t serve(boolean_t (*demux)(msg_header_t *, msg_header_t *), size_t max_size, port_t rcv_name,
                           msg_option_t options, bool timed, msg_timeout_t timeout) {
        if (!demux || max_size < MIG_REPLY_BODY || max_size > MSG_SIZE_MAX)
                return -EINVAL;
        options &= RCV_LARGE;
        if (timed)
                options |= RCV_TIMEOUT;
        max_size = (max_size + 7) & ~(size_t)7;
        msg_header_t *in = malloc(max_size), *out = malloc(max_size);
        if (!in || !out) {
                free(in);
                free(out);
                return -ENOMEM;
        }
        msg_return_t r = receive(in, max_size, rcv_name, options, timeout);
        for (;;) {
                if (r == RCV_TOO_LARGE && !(options & RCV_LARGE)) {
                        /* Destroyed by the broker: there is nothing to answer. */
                        r = receive(in, max_size, rcv_name, options, timeout);
                        continue;
                }
                bool handled;
                memset(out, 0, sizeof(*out));
                if (r == RCV_BODY_ERROR) {
                        /* It came with holes (this process is out of descriptors or
                         * address space): not for a routine.  What did arrive goes;
                         * the client is told rather than left waiting. */
                        mig_reply_init(in, out);
                        mig_set_retcode(out, KERN_RESOURCE_SHORTAGE);
                        handled = false;
                } else if (r != 0) {
                        break;
                } else {
                        handled = demux(in, out);
                }
                if (!machipc_mig_reply_ready(in, out, handled)) {
                        r = receive(in, max_size, rcv_name, options, timeout);
                        continue;
                }
                /* Reply and wait for the next request: one call.  The reply's buffer takes it. */
                r = msg_send_receive(out, options | SEND_TIMEOUT, (msg_size_t)max_size, rcv_name, 0, timeout);
                if (msg_code_is_send(r)) {
                        /* The client is gone, will not take it, or the server's reply
                         * was bad: it is given up, the loop goes on. */
                        msg_release(out, true);
                        r = receive(in, max_size, rcv_name, options, timeout);
                        continue;
                }
                msg_header_t *t = in;
                in = out;
                out = t;
        }
        free(in);
        free(out);
        return r;
}

kern_return_t machipc_msg_server(boolean_t (*demux)(msg_header_t *, msg_header_t *), size_t max_size,
                                 port_t rcv_name, msg_option_t options) {
        return serve(demux, max_size, rcv_name, options, false, 0);
}

kern_return_t machipc_msg_server_timeout(boolean_t (*demux)(msg_header_t *, msg_header_t *), size_t max_size,
                                         port_t rcv_name, msg_option_t options, msg_timeout_t timeout_ms) {
        return serve(demux, max_size, rcv_name, options, true, timeout_ms);
}
