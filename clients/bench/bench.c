/* SPDX-License-Identifier: MIT */
/*
 * machipc-bench - the broker against the floors, measured in one run
 *
 * Starts a private broker and measures, on this machine, in this run:
 *   1. msg_rpc round trips between two tasks, 64 B and 4 KiB (median, p99);
 *   2. the floors: a socketpair ping-pong between two processes, a minimal
 *      epoll relay between three (the limit of any broker in the middle), and
 *      the same request/reply through dbus-daemon when it is installed;
 *   3. one-way 64 B msg_send throughput from 1 and 4 senders, beside the
 *      relay's streaming throughput;
 *   4. out-of-line transfers (moved and copied): handoff and end to end,
 *      beside one memcpy and the same bytes inline in 64 KiB messages;
 *   5. scale: RPC latency with idle tasks and with many ports allocated, and
 *      the broker's memory per idle port and per idle task;
 *   6. the textbook comparison: pipe, FIFO, POSIX message queue, Unix
 *      socket, shared memory with semaphores.
 * Then the ratios the targets are stated in (doc/performance.md).
 *
 * Processes are forked; each child that uses libmachipc is a task of its own.
 */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <mqueue.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <machipc/machipc.h>
#ifdef HAVE_DBUS
#include <dbus/dbus.h>
#endif

#ifndef MACHIPCD_PATH
#define MACHIPCD_PATH "machipcd"
#endif

static struct {
        bool quick;
        bool json;
        int iters;
        int runs;
        const char *broker;
        char dir[64];
        char sock[128];
        pid_t broker_pid;
        port_t boot;
} opt;

/* ---- results ---- */

typedef struct {
        char name[64];
        double median_us;
        double p99_us;
        double value;           /* throughput, bytes, ... */
        const char *unit;
} Result;

static Result results[128];
static int n_results;

/* With --runs N, every run's results are kept here and the report takes medians. */
static Result all_runs[16][128];
static int all_n[16];

static Result *result(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static Result *result(const char *fmt, ...) {
        Result *r = &results[n_results++];
        memset(r, 0, sizeof(*r));
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->name, sizeof(r->name), fmt, ap);
        va_end(ap);
        return r;
}

static const Result *find(const char *name) {
        for (int i = 0; i < n_results; i++)
                if (strcmp(results[i].name, name) == 0)
                        return &results[i];
        return NULL;
}

static double now_s(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *)a, y = *(const double *)b;
        return x < y ? -1 : x > y;
}

/* Median and 99th percentile of @n samples (seconds) into @r, in microseconds. */
static void summarize(Result *r, double *s, int n) {
        qsort(s, (size_t)n, sizeof(double), cmp_double);
        r->median_us = s[n / 2] * 1e6;
        r->p99_us = s[(int)((double)n * 0.99)] * 1e6;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "machipc-bench: ");
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, "\n");
        if (opt.broker_pid > 0)
                kill(opt.broker_pid, SIGTERM);
        exit(1);
}

static void progress(const char *what) {
        if (!opt.json)
                fprintf(stderr, "  measuring %s...\n", what);
}

/* ---- processes ---- */

static pid_t child(int (*fn)(void *), void *arg) {
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0)
                die("fork: %s", strerror(errno));
        if (pid == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                int r = fn(arg);
                machipc_disconnect();
                _exit(r);
        }
        return pid;
}

static void reap(pid_t pid) {
        int st;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
                ;
}

static void start_broker(void) {
        snprintf(opt.dir, sizeof(opt.dir), "/tmp/machipc-bench-XXXXXX");
        if (!mkdtemp(opt.dir))
                die("mkdtemp: %s", strerror(errno));
        snprintf(opt.sock, sizeof(opt.sock), "%s/socket", opt.dir);
        int fds[2];
        if (pipe(fds) < 0)
                die("pipe");
        pid_t pid = fork();
        if (pid == 0) {
                char ready[32];
                snprintf(ready, sizeof(ready), "--ready-fd=%d", fds[1]);
                close(fds[0]);
                prctl(PR_SET_PDEATHSIG, SIGTERM);
                execlp(opt.broker, opt.broker, "-q", "-s", opt.sock, ready, "--max-tasks=4096",
                       "--limit=uid.tasks=4096", "--limit=task.names=2000000",
                       "--limit=uid.names=4000000", (char *)NULL);
                _exit(127);
        }
        close(fds[1]);
        char buf[16] = { 0 };
        if (read(fds[0], buf, 8) != 8 || strncmp(buf, "READY=1\n", 8) != 0)
                die("cannot start the broker (%s); use --broker PATH", opt.broker);
        close(fds[0]);
        opt.broker_pid = pid;
        setenv(MACHIPC_SOCKET_ENV, opt.sock, 1);
        if (machipc_connect(opt.sock) != 0)
                die("cannot connect to the broker");
        if (port_allocate(task_self(), &opt.boot) || port_set_backlog(task_self(), opt.boot, 1024) ||
            machipc_set_bootstrap_port(opt.boot))
                die("cannot set up the bootstrap port");
}

static void stop_broker(void) {
        machipc_disconnect();
        kill(opt.broker_pid, SIGTERM);
        reap(opt.broker_pid);
        rmdir(opt.dir);
}

static long rss_kib(pid_t pid) {
        char path[64], line[256];
        snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
        FILE *f = fopen(path, "r");
        long kib = -1;
        while (f && fgets(line, sizeof(line), f))
                if (sscanf(line, "VmRSS: %ld", &kib) == 1)
                        break;
        if (f)
                fclose(f);
        return kib;
}

/* ---- messages ---- */

typedef struct {
        msg_header_t head;
        msg_type_t t;
        uint8_t data[4096];
} Msg;

/* Inline chunks: as large as a message may be. */
typedef struct {
        msg_header_t head;
        msg_type_t t;
        uint8_t data[MSG_SIZE_MAX - sizeof(msg_header_t) - sizeof(msg_type_t)];
} BigMsg;

enum { ID_HELLO = 1, ID_CALL, ID_STOP, ID_ONE };

/* A task announces @port to the bootstrap port (with @tag) and returns. */
static void announce(port_t port, int32_t tag) {
        port_t boot = PORT_NULL;
        if (task_get_bootstrap_port(task_self(), &boot) || !boot)
                _exit(90);
        struct {
                msg_header_t head;
                msg_type_t t;
                int32_t tag;
                int32_t pad;
                msg_type_t rt;
                port_t p;
                uint32_t pad2;
        } m = { .head = { .msg_size = sizeof(m), .msg_remote_port = boot, .msg_id = ID_HELLO },
                .t = { MSG_TYPE_INTEGER_32, 0, 1 }, .tag = tag, .rt = { MSG_TYPE_MAKE_SEND, 0, 1 }, .p = port };
        if (msg_send(&m.head, 0, 0))
                _exit(91);
}

/* The parent learns a child's port. */
static port_t learn(int32_t *tagp) {
        struct {
                msg_header_t head;
                msg_type_t t;
                int32_t tag;
                int32_t pad;
                msg_type_t rt;
                port_t p;
                uint32_t pad2;
        } m;
        memset(&m, 0, sizeof(m));
        m.head.msg_size = sizeof(m);
        m.head.msg_local_port = opt.boot;
        if (msg_receive(&m.head, RCV_TIMEOUT, 60000))
                die("a task did not start");
        if (tagp)
                *tagp = m.tag;
        return m.p;
}

static void send_id(port_t dest, int32_t id) {
        msg_header_t h = { .msg_size = sizeof(h), .msg_remote_port = dest, .msg_id = id };
        msg_send(&h, SEND_TIMEOUT, 5000);
}

/* ---- 1. msg_rpc ---- */

static int rpc_server(void *arg) {
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

static void rpc_measure(port_t svc, size_t bytes, int iters, Result *r) {
        static Msg m;
        double *s = malloc(sizeof(double) * (size_t)iters);
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
        summarize(r, s, iters);
        free(s);
}

static void bench_rpc(void) {
        progress("msg_rpc");
        pid_t pid = child(rpc_server, NULL);
        port_t svc = learn(NULL);
        rpc_measure(svc, 64, opt.iters, result("rpc_64B"));
        rpc_measure(svc, 4096, opt.iters, result("rpc_4KiB"));
        send_id(svc, ID_STOP);
        reap(pid);
        port_deallocate(task_self(), svc);
}

/* ---- 2. floors ---- */

/*
 * Ping-pong @bytes through @wfd and back on @rfd (the same descriptor for a
 * socket); every floor and textbook mechanism below is timed by this loop.
 */
static void pingpong(int wfd, int rfd, size_t bytes, int iters, Result *r) {
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
static void echo_loop(int rfd, int wfd) {
        char buf[8192];
        ssize_t n;
        while ((n = read(rfd, buf, sizeof(buf))) > 0)
                if (write(wfd, buf, (size_t)n) != n)
                        break;
        _exit(0);
}

static void bench_socketpair(void) {
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
static void relay_loop(int a, int b) {
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

static void bench_relay(void) {
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

#ifdef HAVE_DBUS
static int dbus_server(const char *addr) {
        DBusError err;
        dbus_error_init(&err);
        DBusConnection *c = dbus_connection_open_private(addr, &err);
        if (!c || !dbus_bus_register(c, &err))
                return 1;
        if (dbus_bus_request_name(c, "org.machipc.Bench", DBUS_NAME_FLAG_DO_NOT_QUEUE, &err) !=
            DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER)
                return 2;
        for (;;) {
                dbus_connection_read_write(c, -1);
                DBusMessage *m;
                while ((m = dbus_connection_pop_message(c))) {
                        if (dbus_message_is_method_call(m, "org.machipc.Bench", "Echo")) {
                                DBusMessage *r = dbus_message_new_method_return(m);
                                const char *p;
                                int n;
                                DBusMessageIter it, ot, arr;
                                dbus_message_iter_init(m, &it);
                                dbus_message_iter_recurse(&it, &arr);
                                dbus_message_iter_get_fixed_array(&arr, &p, &n);
                                dbus_message_iter_init_append(r, &ot);
                                DBusMessageIter oa;
                                dbus_message_iter_open_container(&ot, DBUS_TYPE_ARRAY, "y", &oa);
                                dbus_message_iter_append_fixed_array(&oa, DBUS_TYPE_BYTE, &p, n);
                                dbus_message_iter_close_container(&ot, &oa);
                                dbus_connection_send(c, r, NULL);
                                dbus_message_unref(r);
                        } else if (dbus_message_is_method_call(m, "org.machipc.Bench", "Quit")) {
                                dbus_connection_flush(c);
                                _exit(0);
                        }
                        dbus_message_unref(m);
                }
        }
}

static void bench_dbus(void) {
        if (access("/usr/bin/dbus-daemon", X_OK) != 0) {
                if (!opt.json)
                        fprintf(stderr, "  dbus-daemon is not installed: no D-Bus comparison\n");
                return;
        }
        progress("dbus-daemon");
        int fds[2];
        if (pipe(fds) < 0)
                return;
        char conf[256];
        snprintf(conf, sizeof(conf), "%s/dbus.conf", opt.dir);
        FILE *f = fopen(conf, "w");
        fprintf(f, "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
                   " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
                   "<busconfig><type>session</type><listen>unix:dir=%s</listen>"
                   "<policy context=\"default\"><allow send_destination=\"*\" eavesdrop=\"true\"/>"
                   "<allow eavesdrop=\"true\"/><allow own=\"*\"/></policy></busconfig>\n", opt.dir);
        fclose(f);
        pid_t daemon = fork();
        if (daemon == 0) {
                char fd[16];
                snprintf(fd, sizeof(fd), "%d", fds[1]);
                close(fds[0]);
                prctl(PR_SET_PDEATHSIG, SIGTERM);
                execl("/usr/bin/dbus-daemon", "dbus-daemon", "--config-file", conf, "--nofork",
                      "--print-address", fd, (char *)NULL);
                _exit(127);
        }
        close(fds[1]);
        char addr[512] = { 0 };
        ssize_t n = read(fds[0], addr, sizeof(addr) - 1);
        close(fds[0]);
        if (n <= 0) {
                kill(daemon, SIGTERM);
                reap(daemon);
                return;
        }
        addr[strcspn(addr, "\n")] = 0;
        pid_t server = fork();
        if (server == 0)
                _exit(dbus_server(addr));
        DBusError err;
        dbus_error_init(&err);
        DBusConnection *c = dbus_connection_open_private(addr, &err);
        if (!c || !dbus_bus_register(c, &err))
                die("D-Bus: %s", err.message ? err.message : "cannot connect");
        /* Wait for the server's name. */
        for (int i = 0; i < 500 && !dbus_bus_name_has_owner(c, "org.machipc.Bench", &err); i++)
                usleep(10000);
        size_t sizes[] = { 64, 4096 };
        static char payload[4096];
        for (int k = 0; k < 2; k++) {
                int iters = opt.iters;
                double *s = malloc(sizeof(double) * (size_t)iters);
                const char *p = payload;
                for (int i = -iters / 10; i < iters; i++) {
                        DBusMessage *m = dbus_message_new_method_call("org.machipc.Bench", "/", "org.machipc.Bench",
                                                                      "Echo");
                        dbus_message_append_args(m, DBUS_TYPE_ARRAY, DBUS_TYPE_BYTE, &p, (int)sizes[k] - 40,
                                                 DBUS_TYPE_INVALID);
                        double t0 = now_s();
                        DBusMessage *r = dbus_connection_send_with_reply_and_block(c, m, 10000, &err);
                        double dt = now_s() - t0;
                        if (!r)
                                die("D-Bus call: %s", err.message);
                        dbus_message_unref(r);
                        dbus_message_unref(m);
                        if (i >= 0)
                                s[i] = dt;
                }
                summarize(result(k ? "dbus_4KiB" : "dbus_64B"), s, iters);
                free(s);
        }
        DBusMessage *q = dbus_message_new_method_call("org.machipc.Bench", "/", "org.machipc.Bench", "Quit");
        dbus_connection_send(c, q, NULL);
        dbus_connection_flush(c);
        dbus_message_unref(q);
        reap(server);
        dbus_connection_close(c);
        dbus_connection_unref(c);
        kill(daemon, SIGTERM);
        reap(daemon);
        unlink(conf);
}
#endif

/* ---- 3. one-way throughput ---- */

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

static void bench_oneway(int senders) {
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
static void bench_relay_stream(int senders) {
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

/* ---- 4. out of line ---- */

typedef struct {
        msg_header_t head;
        msg_type_t t;
        msg_ool_t region;
        msg_type_t tt;
        double sent_at;
} RegionMsg;

typedef struct {
        int report;
        size_t size;
} OolArgs;

/* Receives a region, timing the handoff (until mapped) and reading every byte. */
static int ool_receiver(void *arg) {
        OolArgs *a = arg;
        port_t in;
        if (port_allocate(task_self(), &in) || port_set_backlog(task_self(), in, 64))
                return 1;
        announce(in, 0);
        for (;;) {
                RegionMsg m;
                memset(&m, 0, sizeof(m));
                m.head.msg_size = sizeof(m);
                m.head.msg_local_port = in;
                if (msg_receive(&m.head, 0, 0))
                        return 2;
                if (m.head.msg_id == ID_STOP)
                        return 0;
                double times[2];
                if (m.head.msg_id == ID_ONE) {
                        /* Inline chunks: the sender's start time came in this message. */
                        static BigMsg c;
                        size_t got = 0;
                        uint64_t sum = 0;
                        double start = m.sent_at;
                        while (got < a->size) {
                                c.head.msg_size = sizeof(c);
                                c.head.msg_local_port = in;
                                if (msg_receive(&c.head, 0, 0))
                                        return 3;
                                for (uint32_t i = 0; i < c.t.msg_type_number; i += 64)
                                        sum += c.data[i];
                                got += c.t.msg_type_number;
                        }
                        times[0] = times[1] = now_s() - start;
                        (void)sum;
                } else {
                        times[0] = now_s() - m.sent_at;
                        volatile uint64_t sum = 0;
                        const uint8_t *p = (const uint8_t *)(uintptr_t)m.region.address;
                        for (size_t i = 0; i < m.region.size; i += 64)
                                sum += p[i];
                        (void)sum;
                        times[1] = now_s() - m.sent_at;
                        vm_deallocate(task_self(), m.region.address, m.region.size);
                }
                if (write(a->report, times, sizeof(times)) != sizeof(times))
                        return 4;
        }
}

static void bench_ool(size_t size) {
        char label[32];
        if (size >= (1u << 30))
                snprintf(label, sizeof(label), "%zuGiB", size >> 30);
        else
                snprintf(label, sizeof(label), "%zuMiB", size >> 20);
        char what[64];
        snprintf(what, sizeof(what), "out of line, %s", label);
        progress(what);
        int fds[2];
        if (pipe(fds) < 0)
                die("pipe");
        OolArgs a = { .report = fds[1], .size = size };
        pid_t pid = child(ool_receiver, &a);
        port_t in = learn(NULL);
        double times[2];
        /* One memcpy of the same size, into memory already faulted in. */
        uint8_t *src = malloc(size), *dst = malloc(size);
        if (!src || !dst)
                die("out of memory for %s", label);
        memset(src, 1, size);
        memset(dst, 2, size);
        double t0 = now_s();
        memcpy(dst, src, size);
        Result *r = result("memcpy_%s", label);
        r->median_us = (now_s() - t0) * 1e6;
        free(dst);
        for (int move = 0; move < 2; move++) {
                vm_address_t reg;
                if (vm_allocate(task_self(), &reg, size, 1))
                        die("vm_allocate");
                memset((void *)reg, 3, size);
                RegionMsg m;
                memset(&m, 0, sizeof(m));
                msg_type_init(&m.t, MSG_TYPE_MEMORY, 1);
                m.t.msg_type_flags = move ? MSG_TYPE_FLAG_DEALLOCATE : 0;
                m.region.address = reg;
                m.region.size = size;
                msg_type_init(&m.tt, MSG_TYPE_REAL_64, 1);
                m.head.msg_size = sizeof(m);
                m.head.msg_remote_port = in;
                m.sent_at = now_s();
                if (msg_send(&m.head, 0, 0))
                        die("out-of-line send");
                if (read(fds[0], times, sizeof(times)) != sizeof(times))
                        die("out of line: no report");
                if (!move)
                        vm_deallocate(task_self(), reg, size);
                Result *h = result("ool_%s_%s_handoff", move ? "move" : "copy", label);
                h->median_us = times[0] * 1e6;
                Result *e = result("ool_%s_%s_end_to_end", move ? "move" : "copy", label);
                e->median_us = times[1] * 1e6;
        }
        /* The same bytes inline, in 64 KiB messages. */
        RegionMsg start;
        memset(&start, 0, sizeof(start));
        msg_type_init(&start.t, MSG_TYPE_MEMORY, 1);
        msg_type_init(&start.tt, MSG_TYPE_REAL_64, 1);
        start.head.msg_size = sizeof(start);
        start.head.msg_remote_port = in;
        start.head.msg_id = ID_ONE;
        start.sent_at = now_s();
        if (msg_send(&start.head, 0, 0))
                die("inline start");
        static BigMsg c;
        for (size_t off = 0; off < size;) {
                size_t n = size - off < sizeof(c.data) ? size - off : sizeof(c.data);
                memcpy(c.data, src + off, n);
                msg_type_init(&c.t, MSG_TYPE_BYTE, (uint32_t)n);
                c.head.msg_size = (uint32_t)(sizeof(msg_header_t) + MSG_ITEM_SIZE(n));
                c.head.msg_remote_port = in;
                c.head.msg_id = ID_CALL;
                c.head.msg_bits = 0;
                c.head.msg_local_port = PORT_NULL;
                if (msg_send(&c.head, 0, 0))
                        die("inline chunk");
                off += n;
        }
        if (read(fds[0], times, sizeof(times)) != sizeof(times))
                die("inline: no report");
        Result *il = result("inline_%s_end_to_end", label);
        il->median_us = times[1] * 1e6;
        free(src);
        send_id(in, ID_STOP);
        reap(pid);
        close(fds[0]);
        close(fds[1]);
        port_deallocate(task_self(), in);
}

/* ---- 5. scale ---- */

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

static void bench_scale(void) {
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

/* ---- 6. the textbook mechanisms ---- */

static void bench_textbook(void) {
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

/* ---- report ---- */

static const Result *find_in(const Result *set, int n, const char *name) {
        for (int i = 0; i < n; i++)
                if (strcmp(set[i].name, name) == 0)
                        return &set[i];
        return NULL;
}

/* @a / @b within each run (both figures from the same run), then the median across runs. */
static double ratio(const char *a, const char *b, bool value) {
        double r[16];
        int n = 0;
        for (int run = 0; run < opt.runs; run++) {
                const Result *x = find_in(all_runs[run], all_n[run], a), *y = find_in(all_runs[run], all_n[run], b);
                if (!x || !y)
                        return -1;
                double p = value ? x->value : x->median_us, q = value ? y->value : y->median_us;
                if (q <= 0)
                        return -1;
                r[n++] = p / q;
        }
        if (!n)
                return -1;
        qsort(r, (size_t)n, sizeof(double), cmp_double);
        return r[n / 2];
}

typedef struct {
        const char *what;
        double got;
        double target;
        bool at_most;
} Ratio;

static void report(void) {
        Ratio ratios[] = {
                { "rpc_64B / relay_64B (median)", ratio("rpc_64B", "relay_64B", false), 1.25, true },
                { "dbus_64B / rpc_64B (median)", ratio("dbus_64B", "rpc_64B", false), 2.0, false },
                { "one-way 1 sender / relay stream", ratio("oneway_64B_1sender", "relay_stream_64B_1sender", true), 0.5, false },
                { "one-way 4 senders / relay stream", ratio("oneway_64B_4senders", "relay_stream_64B_4senders", true), 0.5, false },
                { "ool move 1 GiB handoff / memcpy 1 GiB", ratio("ool_move_1GiB_handoff", "memcpy_1GiB", false), 0.02, true },
                { "inline 1 GiB / ool move 1 GiB (end to end)", ratio("inline_1GiB_end_to_end", "ool_move_1GiB_end_to_end", false), 2.0, false },
                { "ool move 64 MiB handoff / memcpy 64 MiB", ratio("ool_move_64MiB_handoff", "memcpy_64MiB", false), 0.02, true },
                { "inline 64 MiB / ool move 64 MiB (end to end)", ratio("inline_64MiB_end_to_end", "ool_move_64MiB_end_to_end", false), 2.0, false },
                { "rpc with 1000 idle tasks / none", ratio("rpc_64B_1000_idle_tasks", "rpc_64B_base", false), 1.1, true },
                { "rpc with 10^6 ports / none", ratio("rpc_64B_1000000_ports", "rpc_64B_base", false), 1.1, true },
                { "rpc with 10^5 ports / none", ratio("rpc_64B_100000_ports", "rpc_64B_base", false), 1.1, true },
        };
        int n = sizeof(ratios) / sizeof(ratios[0]);
        const Result *mp = find("broker_bytes_per_idle_port"), *mt = find("broker_bytes_per_idle_task");
        if (opt.json) {
                printf("{\n  \"results\": [\n");
                for (int i = 0; i < n_results; i++)
                        printf("    {\"name\": \"%s\", \"median_us\": %.3f, \"p99_us\": %.3f, \"value\": %.3f, "
                               "\"unit\": \"%s\"}%s\n", results[i].name, results[i].median_us, results[i].p99_us,
                               results[i].value, results[i].unit ? results[i].unit : "us",
                               i + 1 < n_results ? "," : "");
                printf("  ],\n  \"ratios\": [\n");
                bool first = true;
                for (int i = 0; i < n; i++) {
                        if (ratios[i].got < 0)
                                continue;
                        printf("%s    {\"name\": \"%s\", \"value\": %.4f, \"target\": %.4f, \"met\": %s}",
                               first ? "" : ",\n", ratios[i].what, ratios[i].got, ratios[i].target,
                               (ratios[i].at_most ? ratios[i].got <= ratios[i].target
                                                  : ratios[i].got >= ratios[i].target) ? "true" : "false");
                        first = false;
                }
                printf("\n  ]\n}\n");
                return;
        }
        printf("\n%-34s %12s %12s %16s\n", "measurement", "median us", "p99 us", "rate / size");
        for (int i = 0; i < n_results; i++) {
                const Result *r = &results[i];
                if (r->unit)
                        printf("%-34s %12s %12s %12.0f %-5s\n", r->name, "", "", r->value, r->unit);
                else if (r->p99_us > 0)
                        printf("%-34s %12.1f %12.1f\n", r->name, r->median_us, r->p99_us);
                else
                        printf("%-34s %12.1f\n", r->name, r->median_us);
        }
        printf("\n%-46s %10s %12s %s\n", "ratio (same run)", "measured", "target", "");
        for (int i = 0; i < n; i++) {
                if (ratios[i].got < 0)
                        continue;
                bool met = ratios[i].at_most ? ratios[i].got <= ratios[i].target : ratios[i].got >= ratios[i].target;
                printf("%-46s %10.3f %s %8.3f   %s\n", ratios[i].what, ratios[i].got, ratios[i].at_most ? "<=" : ">=",
                       ratios[i].target, met ? "met" : "NOT met");
        }
        if (mp)
                printf("%-46s %10.0f <= %8d   %s\n", "broker bytes per idle port", mp->value, 256,
                       mp->value <= 256 ? "met" : "NOT met");
        if (mt)
                printf("%-46s %10.0f <= %8d   %s\n", "broker bytes per idle task", mt->value, 16384,
                       mt->value <= 16384 ? "met" : "NOT met");
}

static void usage(void) {
        printf("Usage: machipc-bench [--quick] [--json] [--runs N] [--iterations N] [--broker PATH] [--only LIST]\n"
               "Measures the broker beside the floors and the classic IPC mechanisms, in one run.\n\n"
               "  --quick         fewer iterations and smaller sizes (under a minute)\n"
               "  --json          machine-readable output\n"
               "  --runs N        repeat everything N times (max 16) and report each figure's median\n"
               "  --iterations N  round trips per latency measurement (default 5000, quick 1500)\n"
               "  --broker PATH   the machipcd to start (default: the one built beside this program)\n"
               "  --only LIST     comma-separated sections: rpc,floors,dbus,oneway,ool,scale,textbook\n");
}

static bool want(const char *only, const char *section) {
        if (!only)
                return true;
        const char *p = strstr(only, section);
        return p && (p == only || p[-1] == ',') && (p[strlen(section)] == '\0' || p[strlen(section)] == ',');
}

int main(int argc, char **argv) {
        static const struct option opts[] = {
                { "quick", no_argument, NULL, 'q' },
                { "json", no_argument, NULL, 'j' },
                { "iterations", required_argument, NULL, 'i' },
                { "broker", required_argument, NULL, 'b' },
                { "only", required_argument, NULL, 'o' },
                { "runs", required_argument, NULL, 'r' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        const char *only = NULL;
        int c;
        opt.broker = getenv("MACHIPC_BENCH_BROKER") ? getenv("MACHIPC_BENCH_BROKER") : MACHIPCD_PATH;
        if (access(opt.broker, X_OK) != 0 && strchr(opt.broker, '/'))
                opt.broker = "machipcd";
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0) {
                switch (c) {
                case 'q':
                        opt.quick = true;
                        break;
                case 'j':
                        opt.json = true;
                        break;
                case 'i':
                        opt.iters = atoi(optarg);
                        break;
                case 'b':
                        opt.broker = optarg;
                        break;
                case 'o':
                        only = optarg;
                        break;
                case 'r':
                        opt.runs = atoi(optarg);
                        break;
                case 'h':
                        usage();
                        return 0;
                default:
                        usage();
                        return 2;
                }
        }
        if (opt.iters <= 0)
                opt.iters = opt.quick ? 1500 : 5000;
        if (opt.runs <= 0)
                opt.runs = 1;
        if (opt.runs > 16)
                opt.runs = 16;
        signal(SIGPIPE, SIG_IGN);
        double t0 = now_s();
        for (int run = 0; run < opt.runs; run++) {
        n_results = 0;
        start_broker();
        if (!opt.json)
                fprintf(stderr, "machipc-bench: %s mode, %d iterations per latency, run %d of %d\n",
                        opt.quick ? "quick" : "full", opt.iters, run + 1, opt.runs);
        if (want(only, "rpc"))
                bench_rpc();
        if (want(only, "floors")) {
                bench_socketpair();
                bench_relay();
        }
#ifdef HAVE_DBUS
        if (want(only, "dbus"))
                bench_dbus();
#endif
        if (want(only, "oneway")) {
                bench_oneway(1);
                bench_relay_stream(1);
                bench_oneway(4);
                bench_relay_stream(4);
        }
        if (want(only, "ool")) {
                bench_ool(1u << 20);
                bench_ool(64u << 20);
                if (!opt.quick)
                        bench_ool(1u << 30);
        }
        if (want(only, "scale"))
                bench_scale();
        if (want(only, "textbook"))
                bench_textbook();
        stop_broker();
        memcpy(all_runs[run], results, sizeof(results));
        all_n[run] = n_results;
        }
        /* The median of each figure across runs. */
        for (int i = 0; i < n_results; i++) {
                double med[16], p99[16], val[16];
                for (int run = 0; run < opt.runs; run++) {
                        med[run] = all_runs[run][i].median_us;
                        p99[run] = all_runs[run][i].p99_us;
                        val[run] = all_runs[run][i].value;
                }
                qsort(med, (size_t)opt.runs, sizeof(double), cmp_double);
                qsort(p99, (size_t)opt.runs, sizeof(double), cmp_double);
                qsort(val, (size_t)opt.runs, sizeof(double), cmp_double);
                results[i].median_us = med[opt.runs / 2];
                results[i].p99_us = p99[opt.runs / 2];
                results[i].value = val[opt.runs / 2];
        }
        report();
        if (!opt.json && opt.runs > 1)
                printf("(each figure: the median of %d runs)\n", opt.runs);
        if (!opt.json)
                printf("\n(%.1f s in all)\n", now_s() - t0);
        return 0;
}
