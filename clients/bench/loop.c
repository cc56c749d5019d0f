/* SPDX-License-Identifier: MIT */
/*
 * loop.c - machipc-bench section "loop": a server in an event loop
 *
 * The same RPCs against a blocking server (a thread in msg_send_receive())
 * and against a libevent server whose port is armed (machipc_arm(): requests
 * come in through machipc_get_fd(), taken with no request to the broker,
 * answered with msg_send()); and how many requests an idle armed task makes
 * (the broker counts them per task).
 */

#include <poll.h>
#include <event2/event.h>
#include <machipc/event.h>
#include "bench.h"
#include "tool.h"

typedef struct {
        struct event_base *base;
        port_t svc;
        bool stop;
} LoopServer;

static void loop_ready(int ready, void *arg) {
        LoopServer *l = arg;
        static Msg m;
        if (ready < 0) {
                event_base_loopbreak(l->base);
                return;
        }
        for (;;) {
                m.head.msg_size = sizeof(m);
                m.head.msg_local_port = l->svc;
                msg_return_t r = msg_receive(&m.head, RCV_TIMEOUT, 0);
                if (r == RCV_TIMED_OUT)
                        return;
                if (r != 0 || m.head.msg_id == ID_STOP) {
                        l->stop = r == 0;
                        event_base_loopbreak(l->base);
                        return;
                }
                m.head.msg_local_port = PORT_NULL;
                m.head.msg_bits = 0;
                if (msg_send(&m.head, 0, 0)) {
                        event_base_loopbreak(l->base);
                        return;
                }
        }
}

static int loop_server(void *arg) {
        (void)arg;
        LoopServer l = { 0 };
        if (port_allocate(task_self(), &l.svc) || port_set_backlog(task_self(), l.svc, 64) ||
            machipc_arm(l.svc))
                return 1;
        l.base = event_base_new();
        struct event *ev = l.base ? machipc_event_new(l.base, loop_ready, &l) : NULL;
        if (!ev)
                return 2;
        announce(l.svc, 0);
        event_base_dispatch(l.base);
        machipc_event_free(ev);
        event_base_free(l.base);
        return l.stop ? 0 : 3;
}

/* Arms a port, then waits in a poll() loop with nothing to do, until told to stop. */
static int idle_armed(void *arg) {
        (void)arg;
        port_t p;
        if (port_allocate(task_self(), &p) || machipc_arm(p))
                return 1;
        int fd = machipc_get_fd();
        announce(p, 0);
        for (;;) {
                /* One wake-up ends it: its stop message. */
                struct pollfd pfd = { .fd = fd, .events = POLLIN };
                if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
                        break;
                machipc_dispatch();
                msg_header_t h = { .msg_size = sizeof(h), .msg_local_port = p };
                if (msg_receive(&h, RCV_TIMEOUT, 0) == 0 && h.msg_id == ID_STOP)
                        break;
        }
        return 0;
}

void bench_loop(void) {
        progress("RPC to a blocking server and to an event-loop server");
        /* The two servers side by side, measured in alternate rounds. */
        pid_t bp = child(rpc_server, NULL);
        port_t bsvc = learn(NULL);
        pid_t lp = child(loop_server, NULL);
        port_t lsvc = learn(NULL);
        Result *rb = result("rpc_64B_blocking_server"), *rl = result("rpc_64B_loop_server");
        /* One call to each in turn, so that both see the same machine. */
        int iters = opt.iters;
        double *sb = malloc(sizeof(double) * (size_t)iters), *sl = malloc(sizeof(double) * (size_t)iters);
        if (!sb || !sl)
                die("out of memory");
        static Msg m;
        for (int i = -iters / 10; i < iters; i++) {
                for (int which = 0; which < 2; which++) {
                        memset(&m.head, 0, sizeof(m.head));
                        msg_type_init(&m.t, MSG_TYPE_BYTE, 64 - sizeof(msg_header_t) - sizeof(msg_type_t));
                        m.head.msg_size = 64;
                        m.head.msg_remote_port = which ? lsvc : bsvc;
                        m.head.msg_id = ID_CALL;
                        double t0 = now_s();
                        if (msg_rpc(&m.head, 0, sizeof(m), 0, 0))
                                die("msg_rpc failed");
                        if (i >= 0)
                                (which ? sl : sb)[i] = now_s() - t0;
                }
        }
        summarize(rb, sb, iters);
        summarize(rl, sl, iters);
        free(sb);
        free(sl);
        send_id(bsvc, ID_STOP);
        send_id(lsvc, ID_STOP);
        reap(bp);
        reap(lp);
        port_deallocate(task_self(), bsvc);
        port_deallocate(task_self(), lsvc);

        progress("requests of an idle armed task");
        pid_t ip = child(idle_armed, NULL);
        port_t ip_port = learn(NULL);
        double window = opt.quick ? 0.5 : 2.0;
        long long r0 = tool_task_stat(ip, "requests");
        double t0 = now_s();
        struct timespec ts = { (time_t)window, (long)((window - (time_t)window) * 1e9) };
        nanosleep(&ts, NULL);
        long long r1 = tool_task_stat(ip, "requests");
        double dt = now_s() - t0;
        send_id(ip_port, ID_STOP);
        reap(ip);
        port_deallocate(task_self(), ip_port);
        Result *ri = result("idle_armed_task_requests");
        ri->value = r0 < 0 || r1 < 0 ? -1 : (double)(r1 - r0) / dt;
        ri->unit = "req/s";
}
