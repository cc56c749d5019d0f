/* SPDX-License-Identifier: MIT */
/* scale.c - machipc-bench section 5: latency and memory with many tasks and ports */

#include "bench.h"

static int idle_task(void *arg) {
        int fd = *(int *)arg;
        if (task_self() == PORT_NULL)
                return 1;
        char c = 'y';
        if (write(fd, &c, 1) != 1)
                return 2;
        pause();
        return 0;
}

typedef struct {
        long count;
} PortFill;

static void *fill_ports(void *arg) {
        PortFill *f = arg;
        for (long i = 0; i < f->count; i++) {
                port_t p;
                if (port_allocate(task_self(), &p))
                        break;
        }
        return NULL;
}

void bench_scale(void) {
        progress("scale: idle tasks and many ports");
        pid_t svc_pid = child(rpc_server, NULL);
        port_t svc = learn(NULL);
        int iters = opt.iters / 2;
        rpc_measure(svc, 64, iters, result("rpc_64B_base"));
        long rss0 = rss_kib(opt.broker_pid);
        int levels[] = { 100, 1000 };
        int n_levels = opt.quick ? 1 : 2;
        pid_t *idle = calloc(1001, sizeof(pid_t));
        int n_idle = 0;
        int fds[2];
        if (pipe(fds) < 0)
                die("pipe");
        for (int l = 0; l < n_levels; l++) {
                while (n_idle < levels[l]) {
                        idle[n_idle++] = child(idle_task, &fds[1]);
                        char c;
                        if (read(fds[0], &c, 1) != 1)
                                die("an idle task did not start");
                }
                rpc_measure(svc, 64, iters, result("rpc_64B_%d_idle_tasks", levels[l]));
        }
        long rss1 = rss_kib(opt.broker_pid);
        Result *mt = result("broker_bytes_per_idle_task");
        mt->value = (double)(rss1 - rss0) * 1024.0 / n_idle;
        mt->unit = "bytes";
        for (int i = 0; i < n_idle; i++) {
                kill(idle[i], SIGKILL);
                reap(idle[i]);
        }
        free(idle);
        close(fds[0]);
        close(fds[1]);
        /* Ports: allocated by a few threads at once, so the wait for each reply overlaps. */
        long totals[] = { 100000, 1000000 };
        int n_totals = opt.quick ? 1 : 2;
        long have = 0;
        long rss2 = rss_kib(opt.broker_pid);
        for (int l = 0; l < n_totals; l++) {
                enum { THREADS = 8 };
                pthread_t th[THREADS];
                PortFill f = { .count = (totals[l] - have) / THREADS };
                for (int i = 0; i < THREADS; i++)
                        pthread_create(&th[i], NULL, fill_ports, &f);
                for (int i = 0; i < THREADS; i++)
                        pthread_join(th[i], NULL);
                have += f.count * THREADS;
                rpc_measure(svc, 64, iters, result("rpc_64B_%ld_ports", totals[l]));
        }
        long rss3 = rss_kib(opt.broker_pid);
        Result *mp = result("broker_bytes_per_idle_port");
        mp->value = (double)(rss3 - rss2) * 1024.0 / (double)have;
        mp->unit = "bytes";
        send_id(svc, ID_STOP);
        reap(svc_pid);
        port_deallocate(task_self(), svc);
}
