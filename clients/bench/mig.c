/* SPDX-License-Identifier: MIT */
/*
 * mig.c - machipc-bench section "mig": RPCs through stubs machipc-mig wrote
 * (bench.defs) beside the hand-packed RPC of section "rpc"
 *
 * The same request (64 bytes: a header and 32 bytes in one item) to two
 * servers, one call to each in turn so that both see the same machine: the
 * hand-packed server of rpc.c, and a generated server run by
 * machipc_msg_server().  The generated reply also carries its code (16
 * bytes more), as every MIG reply does.
 */

#include <machipc/mig.h>
#include "bench.h"
#include "bench-gen.h"
#include "benchServer.h"

static bool stopped;

kern_return_t do_bench_echo(mach_port_t server, bench_bytes_t data, bench_bytes_t back) {
        (void)server;
        memcpy(back, data, sizeof(bench_bytes_t));
        return KERN_SUCCESS;
}

kern_return_t do_bench_stop(mach_port_t server) {
        (void)server;
        stopped = true;
        return KERN_SUCCESS;
}

static int mig_server(void *arg) {
        (void)arg;
        port_t svc;
        if (port_allocate(task_self(), &svc) || port_set_backlog(task_self(), svc, 64))
                return 1;
        announce(svc, 0);
        kern_return_t r;
        while ((r = machipc_msg_server_timeout(bench_server, bench_MSG_SIZE_MAX, svc, 0, 1000)) == RCV_TIMED_OUT &&
               !stopped)
                ;
        return stopped ? 0 : 2;
}

void bench_mig(void) {
        progress("RPC through generated stubs and hand-packed");
        pid_t hp = child(rpc_server, NULL);
        port_t hsvc = learn(NULL);
        pid_t gp = child(mig_server, NULL);
        port_t gsvc = learn(NULL);
        Result *rh = result("rpc_64B_hand_packed"), *rg = result("rpc_64B_generated_stubs");
        int iters = opt.iters;
        double *sh = malloc(sizeof(double) * (size_t)iters), *sg = malloc(sizeof(double) * (size_t)iters);
        if (!sh || !sg)
                die("out of memory");
        static Msg m;
        bench_bytes_t data, back;
        memset(data, 'x', sizeof(data));
        for (int i = -iters / 10; i < iters; i++) {
                /* Hand-packed: what rpc.c measures. */
                memset(&m.head, 0, sizeof(m.head));
                msg_type_init(&m.t, MSG_TYPE_BYTE, 64 - sizeof(msg_header_t) - sizeof(msg_type_t));
                m.head.msg_size = 64;
                m.head.msg_remote_port = hsvc;
                m.head.msg_id = ID_CALL;
                double t0 = now_s();
                if (msg_rpc(&m.head, 0, sizeof(m), 0, 0))
                        die("msg_rpc failed");
                double t1 = now_s();
                kern_return_t kr = bench_echo(gsvc, data, back);
                double t2 = now_s();
                if (kr != KERN_SUCCESS || memcmp(back, data, sizeof(data)) != 0)
                        die("bench_echo: %s", machipc_strerror(kr));
                if (i >= 0) {
                        sh[i] = t1 - t0;
                        sg[i] = t2 - t1;
                }
        }
        summarize(rh, sh, iters);
        summarize(rg, sg, iters);
        free(sh);
        free(sg);
        send_id(hsvc, ID_STOP);
        if (bench_stop(gsvc) != KERN_SUCCESS)
                die("bench_stop failed");
        reap(hp);
        reap(gp);
        port_deallocate(task_self(), hsvc);
        port_deallocate(task_self(), gsvc);
}
