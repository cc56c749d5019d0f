/* SPDX-License-Identifier: MIT */
/*
 * echo-server.c - an example RPC server: echo and a small calculator
 *
 * Checks its port in with the name server as "echo" (or -n NAME), then
 * serves interfaces/echo.defs until SIGTERM or SIGINT, through the stubs
 * machipc-mig generates.  Blocking, machipc_msg_server() runs the loop:
 * each reply and the wait for the next request are one broker call.  With
 * --loop it is a libevent program instead: the port is armed
 * (machipc_arm()), its requests come in through machipc_get_fd() and are
 * taken with no request to the broker; only the replies are calls.  Uses
 * the public API only.
 */

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <event2/event.h>
#include <machipc/machipc.h>
#include <machipc/event.h>
#include "tool.h"
#include "echo-serve.h"

static volatile sig_atomic_t stop;

static void on_stop_signal(int sig) {
        (void)sig;
        stop = 1;
}

/* Blocking: machipc_msg_server(), back every half second to notice a signal. */
static int serve_blocking(port_t service) {
        kern_return_t r;
        while (!stop && (r = machipc_msg_server_timeout(echo_server, echo_MSG_SIZE_MAX, service, 0, 500)) ==
                                RCV_TIMED_OUT)
                ;
        if (stop)
                return 0;
        fprintf(stderr, "echo-server: %s\n", machipc_strerror(r));
        return 1;
}

typedef struct {
        struct event_base *base;
        port_t service;
        msg_header_t *in, *out;
        int status;
} Loop;

/* The task has something to process: take every request there is, answer each. */
static void on_ready(int ready, void *arg) {
        Loop *l = arg;
        if (ready < 0) {
                fprintf(stderr, "echo-server: %s\n", machipc_strerror(ready));
                l->status = 1;
                event_base_loopbreak(l->base);
                return;
        }
        for (;;) {
                l->in->msg_size = echo_MSG_SIZE_MAX;
                l->in->msg_local_port = l->service;
                msg_return_t r = msg_receive(l->in, RCV_TIMEOUT, 0);
                if (r == RCV_TIMED_OUT)
                        return;
                if (r != 0) {
                        fprintf(stderr, "echo-server: %s\n", machipc_strerror(r));
                        if (r < 0) {
                                l->status = 1;
                                event_base_loopbreak(l->base);
                                return;
                        }
                        continue;
                }
                echo_serve_one(l->in, l->out);
        }
}

static void on_signal(evutil_socket_t sig, short what, void *arg) {
        (void)sig;
        (void)what;
        event_base_loopbreak(arg);
}

/* --loop: one thread in a libevent loop, the port armed. */
static int serve_loop(port_t service) {
        static union {
                msg_header_t head;
                uint8_t bytes[echo_MSG_SIZE_MAX];
        } in, out;
        Loop l = { .service = service, .in = &in.head, .out = &out.head };
        kern_return_t kr = machipc_arm(service);
        if (kr != 0) {
                fprintf(stderr, "echo-server: machipc_arm: %s\n", machipc_strerror(kr));
                return 1;
        }
        l.base = event_base_new();
        struct event *ev = l.base ? machipc_event_new(l.base, on_ready, &l) : NULL;
        struct event *term = l.base ? evsignal_new(l.base, SIGTERM, on_signal, l.base) : NULL;
        struct event *intr = l.base ? evsignal_new(l.base, SIGINT, on_signal, l.base) : NULL;
        if (!ev || !term || !intr || event_add(term, NULL) < 0 || event_add(intr, NULL) < 0) {
                fprintf(stderr, "echo-server: cannot set up the event loop\n");
                l.status = 1;
        } else if (!stop) {
                event_base_dispatch(l.base);
        }
        if (term)
                event_free(term);
        if (intr)
                event_free(intr);
        machipc_event_free(ev);
        if (l.base)
                event_base_free(l.base);
        return l.status;
}

int main(int argc, char **argv) {
        const char *name = ECHO_SERVICE_NAME;
        int ready_fd = -1, verbose = 0, loop = 0, c;
        static const struct option opts[] = {
                { "name", required_argument, NULL, 'n' },
                { "ready-fd", required_argument, NULL, 'r' },
                { "loop", no_argument, NULL, 'l' },
                { "verbose", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        while ((c = getopt_long(argc, argv, "n:lvh", opts, NULL)) >= 0) {
                switch (c) {
                case 'n':
                        name = optarg;
                        break;
                case 'r':
                        ready_fd = atoi(optarg);
                        break;
                case 'l':
                        loop = 1;
                        break;
                case 'v':
                        verbose = 1;
                        break;
                case 'h':
                        printf("Usage: machipc-echo-server [-n NAME] [--loop] [--ready-fd FD] [-v]\n"
                               "Serves interfaces/echo.defs (echo, id %d; calc, id %d) under NAME "
                               "(default \"%s\").\n\n"
                               "  -n, --name NAME   check in under NAME\n"
                               "  -l, --loop        serve from a libevent loop, the port armed\n"
                               "                    (machipc_arm), instead of a blocking receive\n"
                               "      --ready-fd FD write \"READY=1\\n\" to FD once serving, then close it\n"
                               "  -v, --verbose     say what each request was, on stderr\n"
                               "  -h, --help        this help\n",
                               echo_MSG_ID_BASE, echo_MSG_ID_BASE + 1, ECHO_SERVICE_NAME);
                        return 0;
                default:
                        return 2;
                }
        }
        struct sigaction sa = { .sa_handler = on_stop_signal };
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

        int status = loop ? serve_loop(service) : serve_blocking(service);
        netname_check_out(PORT_NULL, name, service);
        if (verbose)
                fprintf(stderr, "echo-server: exiting\n");
        return status;
}
