/* SPDX-License-Identifier: MIT */
/* rpc.c - machipc-bench section 1: msg_rpc round trips between two tasks */

#include "bench.h"

int rpc_server(void *arg) {
        (void)arg;
        port_t svc;
        if (port_allocate(task_self(), &svc) || port_set_backlog(task_self(), svc, 64))
                return 1;
        announce(svc, 0);
        static Msg m;
        m.head.msg_size = sizeof(m);
        m.head.msg_local_port = svc;
        if (msg_receive(&m.head, 0, 0))
                return 2;
        for (;;) {
                if (m.head.msg_id == ID_STOP)
                        return 0;
                /* The same bytes back, then wait for the next request: one broker call. */
                port_t reply = m.head.msg_remote_port;
                m.head.msg_remote_port = reply;
                m.head.msg_local_port = PORT_NULL;
                m.head.msg_bits = 0;
                if (msg_send_receive(&m.head, 0, sizeof(m), svc, 0, 0))
                        return 3;
        }
}

/* @iters round trips of @bytes to @svc, each one's seconds into @s (after a tenth as warm-up). */
void rpc_samples(port_t svc, size_t bytes, int iters, double *s) {
        static Msg m;
        size_t payload = bytes - sizeof(msg_header_t) - sizeof(msg_type_t);
        for (int i = -iters / 10; i < iters; i++) {
                memset(&m.head, 0, sizeof(m.head));
                msg_type_init(&m.t, MSG_TYPE_BYTE, (uint32_t)payload);
                m.head.msg_size = (uint32_t)bytes;
                m.head.msg_remote_port = svc;
                m.head.msg_id = ID_CALL;
                double t0 = now_s();
                if (msg_rpc(&m.head, 0, sizeof(m), 0, 0))
                        die("msg_rpc failed");
                if (i >= 0)
                        s[i] = now_s() - t0;
        }
}

void rpc_measure(port_t svc, size_t bytes, int iters, Result *r) {
        double *s = malloc(sizeof(double) * (size_t)iters);
        if (!s)
                die("out of memory");
        rpc_samples(svc, bytes, iters, s);
        summarize(r, s, iters);
        free(s);
}

void bench_rpc(void) {
        progress("msg_rpc");
        pid_t pid = child(rpc_server, NULL);
        port_t svc = learn(NULL);
        rpc_measure(svc, 64, opt.iters, result("rpc_64B"));
        rpc_measure(svc, 4096, opt.iters, result("rpc_4KiB"));
        send_id(svc, ID_STOP);
        reap(pid);
        port_deallocate(task_self(), svc);
}
