/* SPDX-License-Identifier: MIT */
/*
 * echo-server.c - an example RPC server: echo and a small calculator
 *
 * Checks its port in with the name server as "echo" (or -n NAME), then
 * serves forever: each reply and the wait for the next request are one
 * broker call (msg_send_receive()).  Uses the public API only.
 */

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <machipc/machipc.h>
#include "tool.h"
#include "echo-proto.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig) {
        (void)sig;
        stop = 1;
}

typedef union {
        msg_header_t head;
        EchoMsg echo;
        CalcRequest calc_req;
        CalcReply calc_rep;
        uint8_t bytes[sizeof(EchoMsg) + 64];
} Buffer;

static int32_t calc(int64_t a, int64_t b, int32_t op, int64_t *out) {
        switch (op) {
        case '+':
                return __builtin_add_overflow(a, b, out) ? CALC_OVERFLOW : CALC_OK;
        case '-':
                return __builtin_sub_overflow(a, b, out) ? CALC_OVERFLOW : CALC_OK;
        case '*':
                return __builtin_mul_overflow(a, b, out) ? CALC_OVERFLOW : CALC_OK;
        case '/':
                if (b == 0)
                        return CALC_DIVIDE_BY_ZERO;
                if (a == INT64_MIN && b == -1)
                        return CALC_OVERFLOW;
                *out = a / b;
                return CALC_OK;
        default:
                return CALC_BAD_OPERATOR;
        }
}

/* Turn the request in @b into its reply in place; false: nothing to send. */
static bool serve(Buffer *b, uint32_t size) {
        port_t reply = b->head.msg_remote_port;
        int32_t id = b->head.msg_id;
        if (reply == PORT_NULL)
                return false;
        if (id == ECHO_MSG_ECHO && size >= sizeof(msg_header_t) + sizeof(msg_type_t) &&
            b->echo.text_type.msg_type_name == MSG_TYPE_STRING &&
            b->echo.text_type.msg_type_number <= ECHO_TEXT_MAX) {
                /* The text stays where it is; only the header changes. */
                b->head.msg_size = size;
        } else if (id == ECHO_MSG_CALC && size == sizeof(CalcRequest)) {
                int64_t r = 0;
                int32_t code = calc(b->calc_req.args[0], b->calc_req.args[1], b->calc_req.op, &r);
                CalcReply *rep = &b->calc_rep;
                msg_type_init(&rep->code_type, MSG_TYPE_INTEGER_32, 1);
                rep->code = code;
                rep->pad = 0;
                msg_type_init(&rep->result_type, MSG_TYPE_INTEGER_64, 1);
                rep->result = r;
                b->head.msg_size = sizeof(CalcReply);
        } else {
                /* Unknown request: an empty reply tells the client so. */
                b->head.msg_size = sizeof(msg_header_t);
        }
        b->head.msg_id = id + 100;
        b->head.msg_remote_port = reply;
        b->head.msg_local_port = PORT_NULL;
        b->head.msg_bits = 0;   /* default: move the send-once reply right */
        return true;
}

int main(int argc, char **argv) {
        const char *name = ECHO_SERVICE_NAME;
        int ready_fd = -1, verbose = 0, c;
        static const struct option opts[] = {
                { "name", required_argument, NULL, 'n' },
                { "ready-fd", required_argument, NULL, 'r' },
                { "verbose", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        while ((c = getopt_long(argc, argv, "n:vh", opts, NULL)) >= 0) {
                switch (c) {
                case 'n':
                        name = optarg;
                        break;
                case 'r':
                        ready_fd = atoi(optarg);
                        break;
                case 'v':
                        verbose = 1;
                        break;
                case 'h':
                        printf("Usage: machipc-echo-server [-n NAME] [--ready-fd FD] [-v]\n"
                               "Serves echo (id %d) and calc (id %d) requests under NAME "
                               "(default \"%s\").\n", ECHO_MSG_ECHO, ECHO_MSG_CALC,
                               ECHO_SERVICE_NAME);
                        return 0;
                default:
                        return 2;
                }
        }
        struct sigaction sa = { .sa_handler = on_signal };
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);

        if (tool_connect("echo-server") < 0)
                return 1;
        port_t service;
        kern_return_t kr = port_allocate(task_self(), &service);
        if (kr != KERN_SUCCESS) {
                fprintf(stderr, "echo-server: port_allocate: %s\n", machipc_strerror(kr));
                return 1;
        }
        port_set_backlog(task_self(), service, 64);
        kr = netname_check_in(PORT_NULL, name, service, service);
        if (kr != NETNAME_SUCCESS) {
                fprintf(stderr, "echo-server: netname_check_in(%s): %s\n", name, machipc_strerror(kr));
                return 1;
        }
        if (verbose)
                fprintf(stderr, "echo-server: serving \"%s\"\n", name);
        if (ready_fd >= 0) {
                if (write(ready_fd, "READY=1\n", 8) < 0)
                        perror("echo-server: ready fd");
                close(ready_fd);
        }

        Buffer b;
        bool have_reply = false;
        port_t reply_name = PORT_NULL;
        unsigned long served = 0;
        while (!stop) {
                msg_return_t r;
                /* Wake now and then to notice a signal. */
                if (have_reply)
                        r = msg_send_receive(&b.head, RCV_TIMEOUT | SEND_TIMEOUT, sizeof(b), service,
                                             1000, 500);
                else {
                        b.head.msg_size = sizeof(b);
                        b.head.msg_local_port = service;
                        r = msg_receive(&b.head, RCV_TIMEOUT, 500);
                }
                have_reply = false;
                if (r == RCV_TIMED_OUT)
                        continue;
                if (r == SEND_INVALID_DEST || r == SEND_TIMED_OUT) {
                        /* The client went away: drop the dead reply right too. */
                        port_deallocate(task_self(), r == SEND_TIMED_OUT ? b.head.msg_remote_port
                                                                          : reply_name);
                        continue;
                }
                if (r != 0) {
                        fprintf(stderr, "echo-server: %s\n", machipc_strerror(r));
                        if (r < 0)
                                return 1;
                        continue;
                }
                served++;
                have_reply = serve(&b, b.head.msg_size);
                reply_name = b.head.msg_remote_port;
        }
        netname_check_out(PORT_NULL, name, service);
        if (verbose)
                fprintf(stderr, "echo-server: served %lu requests, exiting\n", served);
        return 0;
}
