/* SPDX-License-Identifier: MIT */
/*
 * monitor.c - machipc-bench section "monitor": what a traffic monitor
 * (machipc_monitor(), machipcctl monitor) costs the tasks it watches
 *
 * The 64-byte RPC of section "rpc" with no monitor, beside a monitor that
 * never reads (its 1,024 lines fill up, then every further line is dropped
 * and counted) and beside one that reads every line.  The three alternate in
 * rounds, so that each sees the same machine.
 */

#include <signal.h>
#include "bench.h"

#define ROUNDS 5

/* A monitor task: register, say so, then read every line (@arg non-NULL) or none. */
static int monitor_task(void *arg) {
        port_t port;
        if (port_allocate(task_self(), &port) || port_set_backlog(task_self(), port, PORT_BACKLOG_MAX) ||
            machipc_monitor(port, 0, 0) != KERN_SUCCESS)
                return 1;
        announce(PORT_NULL, 0);
        static union {
                msg_header_t h;
                uint8_t b[MSG_SIZE_MAX];
        } m;
        for (;;) {
                if (!arg) {
                        pause();
                        continue;
                }
                m.h.msg_size = sizeof(m);
                m.h.msg_local_port = port;
                if (msg_receive(&m.h, 0, 0) != 0)
                        return 2;
        }
}

void bench_monitor(void) {
        progress("RPC beside traffic monitors");
        pid_t srv = child(rpc_server, NULL);
        port_t svc = learn(NULL);
        int per = opt.iters / ROUNDS > 0 ? opt.iters / ROUNDS : 1;
        Result *r[3] = { result("rpc_64B_no_monitor"), result("rpc_64B_stalled_monitor"),
                         result("rpc_64B_reading_monitor") };
        double *s[3];
        for (int k = 0; k < 3; k++)
                if (!(s[k] = malloc(sizeof(double) * (size_t)(per * ROUNDS))))
                        die("out of memory");
        for (int round = 0; round < ROUNDS; round++) {
                for (int k = 0; k < 3; k++) {
                        pid_t mon = 0;
                        if (k) {
                                mon = child(monitor_task, k == 2 ? (void *)1 : NULL);
                                learn(NULL);    /* registered */
                        }
                        rpc_samples(svc, 64, per, s[k] + round * per);
                        if (mon) {
                                kill(mon, SIGKILL);
                                waitpid(mon, NULL, 0);
                        }
                }
        }
        for (int k = 0; k < 3; k++) {
                summarize(r[k], s[k], per * ROUNDS);
                free(s[k]);
        }
        send_id(svc, ID_STOP);
        reap(srv);
        port_deallocate(task_self(), svc);
}
