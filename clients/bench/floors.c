/* SPDX-License-Identifier: MIT */
/* floors.c - machipc-bench section 2: the socketpair and relay floors */

#include "bench.h"

/*
 * Ping-pong @bytes through @wfd and back on @rfd (the same descriptor for a
 * socket); every floor and textbook mechanism below is timed by this loop.
 */
void pingpong(int wfd, int rfd, size_t bytes, int iters, Result *r) {
        char buf[8192] = { 0 };
        double *s = malloc(sizeof(double) * (size_t)iters);
        for (int i = -iters / 10; i < iters; i++) {
                double t0 = now_s();
                if (write(wfd, buf, bytes) != (ssize_t)bytes || read(rfd, buf, bytes) != (ssize_t)bytes)
                        die("ping-pong: %s", strerror(errno));
                if (i >= 0)
                        s[i] = now_s() - t0;
        }
        summarize(r, s, iters);
        free(s);
}

/* The other end: send back whatever arrives on @rfd through @wfd. */
void echo_loop(int rfd, int wfd) {
        char buf[8192];
        ssize_t n;
        while ((n = read(rfd, buf, sizeof(buf))) > 0)
                if (write(wfd, buf, (size_t)n) != n)
                        break;
        _exit(0);
}

void bench_socketpair(void) {
        progress("the socketpair floor");
        size_t sizes[] = { 64, 4096 };
        for (int k = 0; k < 2; k++) {
                int sv[2];
                socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv);
                pid_t pid = fork();
                if (pid == 0) {
                        close(sv[0]);
                        echo_loop(sv[1], sv[1]);
                }
                close(sv[1]);
                pingpong(sv[0], sv[0], sizes[k], opt.iters, result(k ? "socketpair_4KiB" : "socketpair_64B"));
                close(sv[0]);
                reap(pid);
        }
}

/* A relay: forwards every packet between two sockets, as a broker would, with epoll. */
void relay_loop(int a, int b) {
        int ep = epoll_create1(0);
        struct epoll_event ev = { .events = EPOLLIN };
        ev.data.fd = a;
        epoll_ctl(ep, EPOLL_CTL_ADD, a, &ev);
        ev.data.fd = b;
        epoll_ctl(ep, EPOLL_CTL_ADD, b, &ev);
        char buf[70000];
        for (;;) {
                struct epoll_event evs[4];
                int n = epoll_wait(ep, evs, 4, -1);
                for (int i = 0; i < n; i++) {
                        int from = evs[i].data.fd, to = from == a ? b : a;
                        ssize_t r = recv(from, buf, sizeof(buf), MSG_DONTWAIT);
                        if (r == 0)
                                _exit(0);
                        if (r > 0 && send(to, buf, (size_t)r, 0) != r)
                                _exit(1);
                }
        }
}

void bench_relay(void) {
        progress("the relay floor");
        size_t sizes[] = { 64, 4096 };
        for (int k = 0; k < 2; k++) {
                int cr[2], rs[2];
                socketpair(AF_UNIX, SOCK_SEQPACKET, 0, cr);
                socketpair(AF_UNIX, SOCK_SEQPACKET, 0, rs);
                pid_t relay = fork();
                if (relay == 0) {
                        close(cr[0]);
                        close(rs[1]);
                        relay_loop(cr[1], rs[0]);
                }
                pid_t server = fork();
                if (server == 0) {
                        close(cr[0]);
                        close(cr[1]);
                        close(rs[0]);
                        echo_loop(rs[1], rs[1]);
                }
                close(cr[1]);
                close(rs[0]);
                close(rs[1]);
                pingpong(cr[0], cr[0], sizes[k], opt.iters, result(k ? "relay_4KiB" : "relay_64B"));
                close(cr[0]);
                reap(relay);
                reap(server);
        }
}
