/* SPDX-License-Identifier: MIT */
/* textbook.c - machipc-bench section 6: the classic mechanisms of the textbook */

#include "bench.h"

void bench_textbook(void) {
        progress("pipe, FIFO, POSIX mq, Unix socket, shared memory");
        int iters = opt.iters;
        /* pipe */
        int p1[2], p2[2];
        if (pipe(p1) < 0 || pipe(p2) < 0)
                die("pipe");
        pid_t pid = fork();
        if (pid == 0) {
                close(p1[1]);
                close(p2[0]);
                echo_loop(p1[0], p2[1]);
        }
        close(p1[0]);
        close(p2[1]);
        pingpong(p1[1], p2[0], 64, iters, result("pipe_64B"));
        close(p1[1]);
        close(p2[0]);
        reap(pid);
        /* FIFO */
        char f1[160], f2[160];
        snprintf(f1, sizeof(f1), "%s/fifo1", opt.dir);
        snprintf(f2, sizeof(f2), "%s/fifo2", opt.dir);
        mkfifo(f1, 0600);
        mkfifo(f2, 0600);
        pid = fork();
        if (pid == 0) {
                int r = open(f1, O_RDONLY), w = open(f2, O_WRONLY);
                echo_loop(r, w);
        }
        int w = open(f1, O_WRONLY), rd = open(f2, O_RDONLY);
        pingpong(w, rd, 64, iters, result("fifo_64B"));
        close(w);
        close(rd);
        reap(pid);
        unlink(f1);
        unlink(f2);
        /* POSIX message queues */
        char q1[64], q2[64];
        snprintf(q1, sizeof(q1), "/machipc-bench-%d-a", (int)getpid());
        snprintf(q2, sizeof(q2), "/machipc-bench-%d-b", (int)getpid());
        struct mq_attr attr = { .mq_maxmsg = 8, .mq_msgsize = 64 };
        mqd_t a = mq_open(q1, O_CREAT | O_RDWR, 0600, &attr), b = mq_open(q2, O_CREAT | O_RDWR, 0600, &attr);
        if (a == (mqd_t)-1 || b == (mqd_t)-1) {
                if (!opt.json)
                        fprintf(stderr, "  POSIX message queues unavailable: %s\n", strerror(errno));
        } else {
                pid = fork();
                if (pid == 0) {
                        char buf[64];
                        while (mq_receive(a, buf, sizeof(buf), NULL) == 64)
                                if (mq_send(b, buf, 64, 0) < 0)
                                        break;
                        _exit(0);
                }
                char buf[64] = { 0 };
                double *s = malloc(sizeof(double) * (size_t)iters);
                for (int i = -iters / 10; i < iters; i++) {
                        double t0 = now_s();
                        if (mq_send(a, buf, 64, 0) < 0 || mq_receive(b, buf, sizeof(buf), NULL) != 64)
                                die("mq");
                        if (i >= 0)
                                s[i] = now_s() - t0;
                }
                summarize(result("posix_mq_64B"), s, iters);
                free(s);
                kill(pid, SIGKILL);
                reap(pid);
                mq_close(a);
                mq_close(b);
                mq_unlink(q1);
                mq_unlink(q2);
        }
        /* Unix socket */
        int sv[2];
        socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
        pid = fork();
        if (pid == 0) {
                close(sv[0]);
                echo_loop(sv[1], sv[1]);
        }
        close(sv[1]);
        pingpong(sv[0], sv[0], 64, iters, result("unix_socket_64B"));
        close(sv[0]);
        reap(pid);
        /* Shared memory with two process-shared semaphores. */
        struct Shm {
                sem_t ping, pong;
                char data[64];
        } *shm = mmap(NULL, sizeof(struct Shm), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        sem_init(&shm->ping, 1, 0);
        sem_init(&shm->pong, 1, 0);
        pid = fork();
        if (pid == 0) {
                for (;;) {
                        sem_wait(&shm->ping);
                        shm->data[0]++;
                        sem_post(&shm->pong);
                }
        }
        double *s = malloc(sizeof(double) * (size_t)iters);
        for (int i = -iters / 10; i < iters; i++) {
                double t0 = now_s();
                sem_post(&shm->ping);
                sem_wait(&shm->pong);
                if (i >= 0)
                        s[i] = now_s() - t0;
        }
        summarize(result("shm_semaphore_64B"), s, iters);
        free(s);
        kill(pid, SIGKILL);
        reap(pid);
        munmap(shm, sizeof(*shm));
}
