/* SPDX-License-Identifier: MIT */
/*
 * loop-demo.c - one thread, one libevent loop: two ports and a timer
 *
 * Serves the echo/calculator protocol on two ports, checked in as
 * "loop-a" and "loop-b" (-p PREFIX changes "loop"), and ticks a timer,
 * all from one event loop in one thread.  Both ports are armed
 * (machipc_arm()): the broker hands their requests over as they come,
 * machipc_get_fd() becomes readable, and msg_receive(..., RCV_TIMEOUT, 0)
 * takes them without asking the broker.  Every tick prints what each port
 * served; the broker's count of this task's requests shows that only the
 * replies were calls.
 *
 *     machipc-loop-demo &                  # or -c N: stop after N requests
 *     machipc-echo -n loop-a echo hello
 *     machipc-echo -n loop-b calc 6 x 7
 */

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <event2/event.h>
#include <machipc/machipc.h>
#include <machipc/event.h>
#include "tool.h"
#include "echo-serve.h"

typedef struct {
        char name[64];
        port_t port;
        unsigned long served;
} Service;

typedef struct {
        struct event_base *base;
        Service svc[2];
        unsigned long limit;    /* stop after this many requests (0: never) */
        unsigned long ticks;
        unsigned long wakeups;
        int status;
} Demo;

static unsigned long total(const Demo *d) {
        return d->svc[0].served + d->svc[1].served;
}

/* Take what waits on @s, answer each; false on a fatal error. */
static bool drain(Service *s) {
        static union {
                msg_header_t head;
                uint8_t bytes[echo_MSG_SIZE_MAX];
        } in, out;
        for (;;) {
                in.head.msg_size = sizeof(in);
                in.head.msg_local_port = s->port;
                msg_return_t r = msg_receive(&in.head, RCV_TIMEOUT, 0);
                if (r == RCV_TIMED_OUT)
                        return true;
                if (r != 0) {
                        fprintf(stderr, "loop-demo: %s: %s\n", s->name, machipc_strerror(r));
                        if (r < 0)
                                return false;
                        continue;
                }
                s->served++;
                echo_serve_one(&in.head, &out.head);
        }
}

static void on_ready(int ready, void *arg) {
        Demo *d = arg;
        d->wakeups++;
        if (ready < 0 || !drain(&d->svc[0]) || !drain(&d->svc[1])) {
                if (ready < 0)
                        fprintf(stderr, "loop-demo: %s\n", machipc_strerror(ready));
                d->status = 1;
                event_base_loopbreak(d->base);
                return;
        }
        if (d->limit && total(d) >= d->limit)
                event_base_loopbreak(d->base);
}

static void on_tick(evutil_socket_t fd, short what, void *arg) {
        Demo *d = arg;
        (void)fd;
        (void)what;
        d->ticks++;
        printf("loop-demo: tick %lu: %s served %lu, %s served %lu, %lu wake-ups\n", d->ticks, d->svc[0].name,
               d->svc[0].served, d->svc[1].name, d->svc[1].served, d->wakeups);
        fflush(stdout);
}

static void on_signal(evutil_socket_t sig, short what, void *arg) {
        (void)sig;
        (void)what;
        event_base_loopbreak(arg);
}

static int check_in(Service *s) {
        kern_return_t kr = port_allocate(task_self(), &s->port);
        if (kr == KERN_SUCCESS)
                kr = port_set_backlog(task_self(), s->port, 64);
        if (kr == KERN_SUCCESS)
                kr = netname_check_in(PORT_NULL, s->name, s->port, s->port);
        if (kr == KERN_SUCCESS)
                kr = machipc_arm(s->port);
        if (kr != KERN_SUCCESS) {
                fprintf(stderr, "loop-demo: %s: %s\n", s->name, machipc_strerror(kr));
                return -1;
        }
        return 0;
}

int main(int argc, char **argv) {
        Demo d = { 0 };
        const char *prefix = "loop";
        long tick_ms = 1000;
        int ready_fd = -1, c;
        static const struct option opts[] = {
                { "prefix", required_argument, NULL, 'p' },
                { "count", required_argument, NULL, 'c' },
                { "tick", required_argument, NULL, 't' },
                { "ready-fd", required_argument, NULL, 'r' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        while ((c = getopt_long(argc, argv, "p:c:t:h", opts, NULL)) >= 0) {
                switch (c) {
                case 'p':
                        prefix = optarg;
                        break;
                case 'c':
                        d.limit = strtoul(optarg, NULL, 10);
                        break;
                case 't':
                        tick_ms = strtol(optarg, NULL, 10);
                        if (tick_ms < 1)
                                tick_ms = 1;
                        break;
                case 'r':
                        ready_fd = atoi(optarg);
                        break;
                case 'h':
                        printf("Usage: machipc-loop-demo [-p PREFIX] [-c COUNT] [-t MS] [--ready-fd FD]\n"
                               "Serves the echo/calculator protocol on two ports, PREFIX-a and PREFIX-b\n"
                               "(default \"loop\"), and a timer every MS ms (default 1000), from one\n"
                               "libevent loop in one thread; stops after COUNT requests, or on\n"
                               "SIGTERM/SIGINT.\n");
                        return 0;
                default:
                        return 2;
                }
        }
        if (tool_connect("loop-demo") < 0)
                return 1;
        snprintf(d.svc[0].name, sizeof(d.svc[0].name), "%s-a", prefix);
        snprintf(d.svc[1].name, sizeof(d.svc[1].name), "%s-b", prefix);
        if (check_in(&d.svc[0]) < 0 || check_in(&d.svc[1]) < 0)
                return 1;
        d.base = event_base_new();
        struct event *ev = d.base ? machipc_event_new(d.base, on_ready, &d) : NULL;
        struct event *tick = d.base ? event_new(d.base, -1, EV_PERSIST, on_tick, &d) : NULL;
        struct event *term = d.base ? evsignal_new(d.base, SIGTERM, on_signal, d.base) : NULL;
        struct event *intr = d.base ? evsignal_new(d.base, SIGINT, on_signal, d.base) : NULL;
        struct timeval tv = { tick_ms / 1000, (tick_ms % 1000) * 1000 };
        if (!ev || !tick || !term || !intr || event_add(tick, &tv) < 0 || event_add(term, NULL) < 0 ||
            event_add(intr, NULL) < 0) {
                fprintf(stderr, "loop-demo: cannot set up the event loop\n");
                return 1;
        }
        printf("loop-demo: serving \"%s\" and \"%s\" and a %ld ms timer from one thread\n", d.svc[0].name,
               d.svc[1].name, tick_ms);
        fflush(stdout);
        if (ready_fd >= 0) {
                if (write(ready_fd, "READY=1\n", 8) < 0)
                        perror("loop-demo: ready fd");
                close(ready_fd);
        }
        /* The library's name keeper (it checks our names in again if the name server restarts)
         * makes requests of its own when it starts (its reply port, then a wait in the broker):
         * count from when it waits, so that what we count is the loop's.  The broker's "calls"
         * holds the info request asking it, and the keeper's standing wait once it is in. */
        long long before = -1;
        for (int i = 0; i < 5000 && before < 0; i++) {
                if (tool_task_stat(getpid(), "calls") >= 2)
                        before = tool_task_stat(getpid(), "requests");
                else
                        usleep(1000);
        }
        event_base_dispatch(d.base);
        long long after = tool_task_stat(getpid(), "requests");
        printf("loop-demo: served %lu requests (%s %lu, %s %lu) in %lu wake-ups and %lu ticks; "
               "%lld requests to the broker besides the replies\n",
               total(&d), d.svc[0].name, d.svc[0].served, d.svc[1].name, d.svc[1].served, d.wakeups, d.ticks,
               before < 0 || after < 0 ? -1 : after - before - 1 - (long long)total(&d));
        netname_check_out(PORT_NULL, d.svc[0].name, d.svc[0].port);
        netname_check_out(PORT_NULL, d.svc[1].name, d.svc[1].port);
        event_free(term);
        event_free(intr);
        event_free(tick);
        machipc_event_free(ev);
        event_base_free(d.base);
        return d.status;
}
