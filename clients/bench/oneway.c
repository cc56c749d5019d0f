/* SPDX-License-Identifier: MIT */
/* oneway.c - machipc-bench section 3: one-way throughput beside the relay streaming */

#include "bench.h"

typedef struct {
        int senders;
        long per_sender;
        int report;             /* pipe: the receiver writes its elapsed time */
} OneWay;

static int oneway_receiver(void *arg) {
        OneWay *o = arg;
        port_t in;
        if (port_allocate(task_self(), &in) || port_set_backlog(task_self(), in, 1024))
                return 1;
        announce(in, -1);
        long total = (long)o->senders * o->per_sender, got = 0;
        double t0 = 0;
        Msg m;
        while (got < total) {
                m.head.msg_size = sizeof(m);
                m.head.msg_local_port = in;
                if (msg_receive(&m.head, 0, 0))
                        return 2;
                if (got++ == 0)
                        t0 = now_s();
        }
        double dt = now_s() - t0;
        if (write(o->report, &dt, sizeof(dt)) != sizeof(dt))
                return 3;
        return 0;
}

static int oneway_sender(void *arg) {
        OneWay *o = arg;
        port_t dest = PORT_NULL, mine;
        if (port_allocate(task_self(), &mine))
                return 1;
        announce(mine, 1);
        struct {
                msg_header_t head;
                msg_type_t t;
                port_t p;
                uint32_t pad;
        } hello;
        memset(&hello, 0, sizeof(hello));
        hello.head.msg_size = sizeof(hello);
        hello.head.msg_local_port = mine;
        if (msg_receive(&hello.head, 0, 0))
                return 2;
        dest = hello.p;
        Msg m;
        for (long i = 0; i < o->per_sender; i++) {
                memset(&m.head, 0, sizeof(m.head));
                msg_type_init(&m.t, MSG_TYPE_BYTE, 64 - sizeof(msg_header_t) - sizeof(msg_type_t));
                m.head.msg_size = 64;
                m.head.msg_remote_port = dest;
                m.head.msg_id = ID_ONE;
                if (msg_send(&m.head, 0, 0))
                        return 3;
        }
        return 0;
}

void bench_oneway(int senders) {
        progress(senders == 1 ? "one-way throughput, 1 sender" : "one-way throughput, 4 senders");
        int fds[2];
        if (pipe(fds) < 0)
                die("pipe");
        OneWay o = { .senders = senders, .per_sender = (opt.quick ? 20000 : 100000) / senders, .report = fds[1] };
        pid_t recv_pid = child(oneway_receiver, &o);
        port_t in = learn(NULL);
        pid_t pids[8];
        for (int i = 0; i < senders; i++)
                pids[i] = child(oneway_sender, &o);
        for (int i = 0; i < senders; i++) {
                port_t ctl = learn(NULL);
                struct {
                        msg_header_t head;
                        msg_type_t t;
                        port_t p;
                        uint32_t pad;
                } m = { .head = { .msg_size = sizeof(m), .msg_remote_port = ctl },
                        .t = { MSG_TYPE_COPY_SEND, 0, 1 }, .p = in };
                if (msg_send(&m.head, 0, 0))
                        die("one-way setup");
                port_deallocate(task_self(), ctl);
        }
        double dt;
        if (read(fds[0], &dt, sizeof(dt)) != sizeof(dt))
                die("one-way: no report");
        for (int i = 0; i < senders; i++)
                reap(pids[i]);
        reap(recv_pid);
        close(fds[0]);
        close(fds[1]);
        port_deallocate(task_self(), in);
        Result *r = result("oneway_64B_%dsender%s", senders, senders > 1 ? "s" : "");
        r->value = (double)(o.per_sender * senders) / dt;
        r->unit = "msg/s";
}

/* The relay streaming the same number of 64 B packets from @senders processes. */
void bench_relay_stream(int senders) {
        progress("relay streaming throughput");
        long per = (opt.quick ? 20000 : 100000) / senders;
        int out[2];
        socketpair(AF_UNIX, SOCK_SEQPACKET, 0, out);
        int in[8][2];
        for (int i = 0; i < senders; i++)
                socketpair(AF_UNIX, SOCK_SEQPACKET, 0, in[i]);
        pid_t relay = fork();
        if (relay == 0) {
                int ep = epoll_create1(0);
                for (int i = 0; i < senders; i++) {
                        struct epoll_event ev = { .events = EPOLLIN, .data.fd = in[i][1] };
                        epoll_ctl(ep, EPOLL_CTL_ADD, in[i][1], &ev);
                }
                char buf[256];
                long left = per * senders;
                while (left > 0) {
                        struct epoll_event evs[8];
                        int n = epoll_wait(ep, evs, 8, -1);
                        for (int i = 0; i < n; i++) {
                                ssize_t r;
                                while ((r = recv(evs[i].data.fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
                                        if (send(out[0], buf, (size_t)r, 0) != r)
                                                _exit(1);
                                        left--;
                                }
                        }
                }
                _exit(0);
        }
        pid_t pids[8];
        for (int i = 0; i < senders; i++) {
                pids[i] = fork();
                if (pids[i] == 0) {
                        char buf[64] = { 0 };
                        for (long k = 0; k < per; k++)
                                if (send(in[i][0], buf, sizeof(buf), 0) != sizeof(buf))
                                        _exit(1);
                        _exit(0);
                }
        }
        char buf[256];
        double t0 = 0;
        for (long k = 0; k < per * senders; k++) {
                if (recv(out[1], buf, sizeof(buf), 0) <= 0)
                        die("relay stream");
                if (k == 0)
                        t0 = now_s();
        }
        double dt = now_s() - t0;
        for (int i = 0; i < senders; i++)
                reap(pids[i]);
        reap(relay);
        close(out[0]);
        close(out[1]);
        for (int i = 0; i < senders; i++) {
                close(in[i][0]);
                close(in[i][1]);
        }
        Result *r = result("relay_stream_64B_%dsender%s", senders, senders > 1 ? "s" : "");
        r->value = (double)(per * senders) / dt;
        r->unit = "msg/s";
}
