/* SPDX-License-Identifier: MIT */
/*
 * net.c - machipc-bench section "net": ports across machines, two "hosts"
 * on this machine (each a broker, a name server and machipc-netmsgd, joined
 * over TLS on loopback with certificates made for the run)
 *
 * A client task on host A measures, one call to each in turn, a 64-byte RPC
 * to a server on its own host and to the same server on host B; then
 * one-way 64-byte sends to B; then 256 MiB (64 MiB --quick) moved out of
 * line to B.  Beside them, the raw TLS 1.3 throughput of a connection
 * between two processes with the same certificates, on the same loopback.
 */

#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include "bench.h"

#define NET_ONE 77
#define NET_OOL 78
#define NET_COUNT 79
#define NET_HOLD 80             /* send rights the server keeps: proxies there for ports here */
#define NET_HELD 10000          /* how many */

static char net_dir[160];

/* A program of the tree: the one built at @built, else beside us (installed), else on $PATH. */
static const char *program(const char *built, const char *name, char *buf, size_t size) {
        if (access(built, X_OK) == 0)
                return built;
        char self[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (n > 0) {
                self[n] = '\0';
                char *slash = strrchr(self, '/');
                if (slash) {
                        *slash = '\0';
                        snprintf(buf, size, "%.*s/%s", (int)(size / 2), self, name);
                        if (access(buf, X_OK) == 0)
                                return buf;
                }
        }
        return name;
}

/* Start @argv with MACHIPC_SOCKET=@sock and --ready-fd; wait for READY=1.  Its pid, or -1. */
static pid_t spawn_ready(const char *sock, const char *const *argv) {
        int fds[2];
        if (pipe(fds) < 0)
                return -1;
        pid_t pid = fork();
        if (pid == 0) {
                char ready[32], *args[24];
                int n = 0;
                for (; argv[n] && n < 20; n++)
                        args[n] = (char *)argv[n];
                snprintf(ready, sizeof(ready), "--ready-fd=%d", fds[1]);
                args[n++] = ready;
                args[n] = NULL;
                close(fds[0]);
                if (!getenv("MACHIPC_BENCH_NET_LOG")) {
                        int null = open("/dev/null", O_WRONLY);
                        dup2(null, STDERR_FILENO);
                }
                prctl(PR_SET_PDEATHSIG, SIGTERM);
                setenv(MACHIPC_SOCKET_ENV, sock, 1);
                execvp(args[0], args);
                _exit(127);
        }
        close(fds[1]);
        char buf[16] = { 0 };
        bool ok = read(fds[0], buf, 8) == 8 && strncmp(buf, "READY=1\n", 8) == 0;
        close(fds[0]);
        if (!ok) {
                kill(pid, SIGKILL);
                reap(pid);
                return -1;
        }
        return pid;
}

/* The server on each host: RPCs answered, one-way messages counted, regions read and answered. */
static int net_server(void *arg) {
        setenv(MACHIPC_SOCKET_ENV, (const char *)arg, 1);
        port_t p;
        kern_return_t kr = port_allocate(task_self(), &p);
        if (kr == 0)
                kr = port_set_backlog(task_self(), p, 64);
        if (kr == 0)
                kr = netname_check_in(PORT_NULL, "bench-net", PORT_NULL, p);
        if (kr != 0) {
                fprintf(stderr, "  section net: server on %s: %s\n", (const char *)arg, machipc_strerror(kr));
                return 1;
        }
        static union {
                msg_header_t h;
                uint8_t b[MSG_SIZE_MAX];
        } m;
        uint32_t ones = 0;
        for (;;) {
                m.h.msg_size = sizeof(m);
                m.h.msg_local_port = p;
                msg_return_t rr = msg_receive(&m.h, 0, 0);
                if (rr != 0) {
                        fprintf(stderr, "  section net: server on %s: %s\n", (const char *)arg, machipc_strerror(rr));
                        return 2;
                }
                if (m.h.msg_id == ID_STOP)
                        return 0;
                if (m.h.msg_id == NET_ONE) {
                        ones++;
                        continue;
                }
                if (m.h.msg_id == NET_OOL) {
                        msg_ool_t o;
                        memcpy(&o, m.b + sizeof(msg_header_t) + sizeof(msg_type_t), sizeof(o));
                        volatile uint64_t sum = 0;
                        for (uint64_t i = 0; i < o.size; i += 4096)
                                sum += ((const uint8_t *)(uintptr_t)o.address)[i];
                        vm_deallocate(task_self(), o.address, o.size);
                        m.h.msg_size = sizeof(msg_header_t);
                }
                if (m.h.msg_id == NET_HOLD)   /* the rights stay ours: answered with nothing */
                        m.h.msg_size = sizeof(msg_header_t);
                if (m.h.msg_id == NET_COUNT)  /* "how many one-way messages?" */
                        memcpy(m.b + sizeof(msg_header_t) + sizeof(msg_type_t), &ones, 4);
                m.h.msg_local_port = PORT_NULL;
                m.h.msg_bits = MSG_BITS(MSG_TYPE_MOVE_SEND_ONCE, 0);
                msg_return_t sr = msg_send(&m.h, SEND_TIMEOUT, 5000);
                if (sr != 0) {
                        fprintf(stderr, "  section net: server on %s: reply (id %d): %s\n", (const char *)arg,
                                m.h.msg_id, machipc_strerror(sr));
                        return 3;
                }
        }
}

typedef struct {
        const char *sock;
        int out;
        int iters;
        size_t ool;
} NetClient;

static double rpc_once(port_t to, int32_t id) {
        static Msg m;
        memset(&m.head, 0, sizeof(m.head));
        msg_type_init(&m.t, MSG_TYPE_BYTE, 64 - sizeof(msg_header_t) - sizeof(msg_type_t));
        m.head.msg_size = 64;
        m.head.msg_remote_port = to;
        m.head.msg_id = id;
        double t0 = now_s();
        if (msg_rpc(&m.head, RCV_TIMEOUT, sizeof(m), 0, 20000))
                return -1;
        return now_s() - t0;
}

/* Large transfers, each way of moving the bytes, per run: their median is the figure (one is noisy). */
#define NET_TRANSFERS 3

/* The client on host A: its figures go to @out as one line. */
static int net_client(void *arg) {
        NetClient *c = arg;
        setenv(MACHIPC_SOCKET_ENV, c->sock, 1);
        port_t local, remote;
        double deadline = now_s() + 20;
        while (netname_look_up(PORT_NULL, NULL, "bench-net", &local) != 0)
                if (now_s() > deadline)
                        return 1;
        while (netname_look_up(PORT_NULL, "bench-b", "bench-net", &remote) != 0)
                if (now_s() > deadline)
                        return 2;
        double *sl = malloc(sizeof(double) * (size_t)c->iters), *sr = malloc(sizeof(double) * (size_t)c->iters);
        for (int i = -c->iters / 10; i < c->iters; i++) {
                double a = rpc_once(local, ID_CALL), b = rpc_once(remote, ID_CALL);
                if (a < 0 || b < 0)
                        return 3;
                if (i >= 0) {
                        sl[i] = a;
                        sr[i] = b;
                }
        }
        qsort(sl, (size_t)c->iters, sizeof(double), cmp_double);
        qsort(sr, (size_t)c->iters, sizeof(double), cmp_double);
        double remote_median = sr[c->iters / 2] * 1e6, remote_p99 = sr[c->iters * 99 / 100] * 1e6;
        /* One-way sends, then one RPC that says how many arrived. */
        int n = c->iters * 4;
        double t0 = now_s();
        for (int i = 0; i < n; i++) {
                msg_header_t h = { .msg_size = sizeof(h), .msg_remote_port = remote, .msg_id = NET_ONE };
                if (msg_send(&h, 0, 0))
                        return 4;
        }
        if (rpc_once(remote, NET_COUNT) < 0)
                return 5;
        double oneway = n / (now_s() - t0);
        /* A region moved out of line, read there, answered: NET_TRANSFERS times, the median. */
        double ools[NET_TRANSFERS];
        for (int k = 0; k < NET_TRANSFERS; k++) {
                vm_address_t a;
                if (vm_allocate(task_self(), &a, c->ool, 1))
                        return 6;
                memset((void *)(uintptr_t)a, 1, c->ool);
                struct {
                        msg_header_t h;
                        msg_type_t t;
                        msg_ool_t o;
                } m = { .h = { .msg_size = sizeof(m), .msg_remote_port = remote, .msg_id = NET_OOL },
                        .t = { MSG_TYPE_MEMORY, MSG_TYPE_FLAG_DEALLOCATE, 1 }, .o = { a, c->ool } };
                t0 = now_s();
                if (msg_rpc(&m.h, RCV_TIMEOUT, sizeof(m), 0, 120000))
                        return 7;
                ools[k] = c->ool / (now_s() - t0) / 1e6;
        }
        qsort(ools, NET_TRANSFERS, sizeof(double), cmp_double);
        double ool = ools[NET_TRANSFERS / 2];
        /* The same RPCs with NET_HELD rights of ours held there: as many proxies in its netmsgd. */
        static struct {
                msg_header_t h;
                msg_type_t t;
                port_t r[250];
        } hold;
        for (int k = 0; k < NET_HELD / 250; k++) {
                for (int i = 0; i < 250; i++)
                        if (port_allocate(task_self(), &hold.r[i]))
                                return 8;
                hold.h = (msg_header_t){ .msg_size = sizeof(hold), .msg_remote_port = remote, .msg_id = NET_HOLD };
                hold.t = (msg_type_t){ MSG_TYPE_MAKE_SEND, 0, 250 };
                if (msg_rpc(&hold.h, RCV_TIMEOUT, sizeof(hold), 0, 20000))
                        return 9;
        }
        for (int i = -c->iters / 10; i < c->iters; i++) {
                double b = rpc_once(remote, ID_CALL);
                if (b < 0)
                        return 10;
                if (i >= 0)
                        sr[i] = b;
        }
        qsort(sr, (size_t)c->iters, sizeof(double), cmp_double);
        dprintf(c->out, "%.3f %.3f %.3f %.3f %.0f %.1f %.3f %.3f\n", sl[c->iters / 2] * 1e6,
                sl[c->iters * 99 / 100] * 1e6, remote_median, remote_p99, oneway, ool, sr[c->iters / 2] * 1e6,
                sr[c->iters * 99 / 100] * 1e6);
        msg_header_t h = { .msg_size = sizeof(h), .msg_remote_port = local, .msg_id = ID_STOP };
        msg_send(&h, 0, 0);
        h.msg_remote_port = remote;
        msg_send(&h, 0, 0);
        free(sl);
        free(sr);
        return 0;
}

/* A TLS 1.3 connection over loopback between this process and a child, with the run's certificates. */
typedef struct {
        SSL_CTX *sctx, *cctx;
        SSL *c;
        int fd, ls;
        pid_t pid;
} TlsPair;

/* Connect; the child runs @serve on its end and exits with what it returns. */
static int tls_pair(TlsPair *t, int (*serve)(SSL *s, size_t arg), size_t arg) {
        memset(t, 0, sizeof(*t));
        t->fd = t->ls = -1;
        t->sctx = SSL_CTX_new(TLS_server_method());
        t->cctx = SSL_CTX_new(TLS_client_method());
        char cert[256], key[256], ca[256];
        snprintf(cert, sizeof(cert), "%s/b.pem", net_dir);
        snprintf(key, sizeof(key), "%s/b.key", net_dir);
        snprintf(ca, sizeof(ca), "%s/ca.pem", net_dir);
        if (!t->sctx || !t->cctx || SSL_CTX_use_certificate_file(t->sctx, cert, SSL_FILETYPE_PEM) != 1 ||
            SSL_CTX_use_PrivateKey_file(t->sctx, key, SSL_FILETYPE_PEM) != 1 ||
            SSL_CTX_load_verify_locations(t->cctx, ca, NULL) != 1)
                return -1;
        SSL_CTX_set_min_proto_version(t->sctx, TLS1_3_VERSION);
        t->ls = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t sl = sizeof(sa);
        if (t->ls < 0 || bind(t->ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(t->ls, 1) < 0 ||
            getsockname(t->ls, (struct sockaddr *)&sa, &sl) < 0)
                return -1;
        fflush(NULL);
        t->pid = fork();
        if (t->pid == 0) {
                int fd = accept(t->ls, NULL, NULL), one = 1;
                setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                SSL *s = SSL_new(t->sctx);
                SSL_set_fd(s, fd);
                _exit(SSL_accept(s) == 1 ? serve(s, arg) : 1);
        }
        int one = 1;
        t->fd = socket(AF_INET, SOCK_STREAM, 0);
        if (t->pid < 0 || connect(t->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return -1;
        setsockopt(t->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        t->c = SSL_new(t->cctx);
        SSL_set_fd(t->c, t->fd);
        return SSL_connect(t->c) == 1 ? 0 : -1;
}

static void tls_pair_end(TlsPair *t) {
        if (t->pid > 0)
                reap(t->pid);
        SSL_free(t->c);
        if (t->fd >= 0)
                close(t->fd);
        if (t->ls >= 0)
                close(t->ls);
        SSL_CTX_free(t->sctx);
        SSL_CTX_free(t->cctx);
}

/* The child's end of raw_tls(): read @size bytes, answer one. */
static int sink(SSL *s, size_t size) {
        static char buf[1 << 16];
        size_t got = 0;
        int n;
        while (got < size && (n = SSL_read(s, buf, sizeof(buf))) > 0)
                got += (size_t)n;
        SSL_write(s, "k", 1);
        return got == size ? 0 : 2;
}

/* Raw TLS 1.3: @size bytes from one process to another over loopback, with the run's certificates. */
static double raw_tls(size_t size) {
        TlsPair t;
        double mbs = -1;
        if (tls_pair(&t, sink, size) == 0) {
                static char chunk[1 << 20];
                memset(chunk, 1, sizeof(chunk));
                double t0 = now_s();
                size_t sent = 0;
                while (sent < size && SSL_write(t.c, chunk, sizeof(chunk)) > 0)
                        sent += sizeof(chunk);
                char k;
                if (sent >= size && SSL_read(t.c, &k, 1) == 1)
                        mbs = size / (now_s() - t0) / 1e6;
        }
        tls_pair_end(&t);
        return mbs;
}

/* The child's end of raw_tls_rtt(): echo 64-byte records until the connection ends. */
static int echo64(SSL *s, size_t arg) {
        char b[64];
        (void)arg;
        while (SSL_read(s, b, sizeof(b)) == (int)sizeof(b))
                if (SSL_write(s, b, sizeof(b)) != (int)sizeof(b))
                        return 2;
        return 0;
}

/*
 * Raw TLS 1.3 round trip of 64 bytes between two processes on loopback: the
 * least one RPC to another host adds to the hops a local RPC makes (median, us).
 */
static double raw_tls_rtt(int iters, double *p99) {
        TlsPair t;
        double med = -1;
        double *v = malloc(sizeof(double) * (size_t)iters);
        if (v && tls_pair(&t, echo64, 0) == 0) {
                char b[64] = { 0 };
                int i;
                for (i = -iters / 10; i < iters; i++) {
                        double t0 = now_s();
                        if (SSL_write(t.c, b, sizeof(b)) != (int)sizeof(b) || SSL_read(t.c, b, sizeof(b)) != (int)sizeof(b))
                                break;
                        if (i >= 0)
                                v[i] = (now_s() - t0) * 1e6;
                }
                if (i == iters) {
                        qsort(v, (size_t)iters, sizeof(double), cmp_double);
                        med = v[iters / 2];
                        *p99 = v[iters * 99 / 100];
                }
                SSL_shutdown(t.c);
                shutdown(t.fd, SHUT_WR);
        }
        tls_pair_end(&t);
        free(v);
        return med;
}

void bench_net(void) {
        char nsb[PATH_MAX], nmb[PATH_MAX];
        const char *ns = program(NAMESERVER_PATH, "machipc-nameserver", nsb, sizeof(nsb));
        const char *nmd = program(NETMSGD_PATH, "machipc-netmsgd", nmb, sizeof(nmb));
        snprintf(net_dir, sizeof(net_dir), "%s/net", opt.dir);
        char cmd[1024];
        snprintf(cmd, sizeof(cmd),
                 "command -v openssl >/dev/null && mkdir -p %s && cd %s && "
                 "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem "
                 "-days 1 -subj /CN=bench-ca && for h in a b; do openssl req -newkey ec -pkeyopt "
                 "ec_paramgen_curve:P-256 -nodes -keyout $h.key -out $h.csr -subj /CN=bench-$h && openssl x509 -req "
                 "-in $h.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out $h.pem -days 1; done",
                 net_dir, net_dir);
        if (system(cmd) != 0 || access(nmd, X_OK) != 0) {
                if (!opt.json)
                        fprintf(stderr, "  section net skipped: needs openssl and machipc-netmsgd\n");
                return;
        }
        progress("ports across hosts (two brokers, TLS on loopback)");
        char sa[200], sb[200], ports[2][32], peer[32], ca[200], cert[2][200], key[2][200];
        snprintf(sa, sizeof(sa), "%s/a.sock", net_dir);
        snprintf(sb, sizeof(sb), "%s/b.sock", net_dir);
        int base = 30000 + getpid() % 20000;
        snprintf(ports[0], sizeof(ports[0]), "127.0.0.1:%d", base);
        snprintf(ports[1], sizeof(ports[1]), "127.0.0.1:%d", base + 1);
        snprintf(peer, sizeof(peer), "127.0.0.1:%d", base);
        snprintf(ca, sizeof(ca), "%s/ca.pem", net_dir);
        for (int i = 0; i < 2; i++) {
                snprintf(cert[i], sizeof(cert[i]), "%s/%c.pem", net_dir, 'a' + i);
                snprintf(key[i], sizeof(key[i]), "%s/%c.key", net_dir, 'a' + i);
        }
        pid_t pids[6];
        const char *ba[] = { opt.broker, "-q", "-s", sa, NULL }, *bb[] = { opt.broker, "-q", "-s", sb, NULL };
        const char *na[] = { ns, NULL };
        const char *ma[] = { nmd, "--name", "bench-a", "--listen", ports[0], "--cert", cert[0], "--key", key[0],
                             "--ca", ca, NULL };
        const char *mb[] = { nmd, "--name", "bench-b", "--listen", ports[1], "--cert", cert[1], "--key", key[1],
                             "--ca", ca, "--peer", peer, NULL };
        pids[0] = spawn_ready(sa, ba);
        pids[1] = pids[0] > 0 ? spawn_ready(sa, na) : -1;
        pids[2] = pids[1] > 0 ? spawn_ready(sa, ma) : -1;
        pids[3] = pids[2] > 0 ? spawn_ready(sb, bb) : -1;
        pids[4] = pids[3] > 0 ? spawn_ready(sb, na) : -1;
        pids[5] = pids[4] > 0 ? spawn_ready(sb, mb) : -1;
        if (pids[5] > 0) {
                pid_t srv_a = child(net_server, sa), srv_b = child(net_server, sb);
                int fds[2];
                if (pipe(fds) < 0)
                        die("pipe");
                NetClient c = { sa, fds[1], opt.quick ? 300 : 2000, (size_t)(opt.quick ? 64 : 256) << 20 };
                pid_t cl = child(net_client, &c);
                close(fds[1]);
                char line[256] = "";
                ssize_t n = read(fds[0], line, sizeof(line) - 1);
                close(fds[0]);
                int st;
                while (waitpid(cl, &st, 0) < 0 && errno == EINTR)
                        ;
                if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
                        fprintf(stderr, "  section net: the client failed (%d)\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
                /* The servers end with their broker if the client could not stop them. */
                kill(srv_a, SIGTERM);
                kill(srv_b, SIGTERM);
                reap(srv_a);
                reap(srv_b);
                double lm, lp, rm, rp, ow, oolmbs, hm, hp;
                if (n > 0 && sscanf(line, "%lf %lf %lf %lf %lf %lf %lf %lf", &lm, &lp, &rm, &rp, &ow, &oolmbs, &hm,
                                    &hp) == 8) {
                        Result *r = result("net_rpc_64B_local");
                        r->median_us = lm;
                        r->p99_us = lp;
                        r = result("net_rpc_64B_other_host");
                        r->median_us = rm;
                        r->p99_us = rp;
                        r = result("net_rpc_64B_other_host_%dk_proxies", NET_HELD / 1000);
                        r->median_us = hm;
                        r->p99_us = hp;
                        r = result("net_oneway_64B_other_host");
                        r->value = ow;
                        r->unit = "msg/s";
                        r = result("net_ool_%zuMiB_other_host", c.ool >> 20);
                        r->value = oolmbs;
                        r->unit = "MB/s";
                        r = result("tls_raw_%zuMiB", c.ool >> 20);
                        double raws[NET_TRANSFERS];
                        for (int k = 0; k < NET_TRANSFERS; k++)
                                raws[k] = raw_tls(c.ool);
                        qsort(raws, NET_TRANSFERS, sizeof(double), cmp_double);
                        r->value = raws[NET_TRANSFERS / 2];
                        r->unit = "MB/s";
                        r = result("tls_raw_rtt_64B");
                        r->median_us = raw_tls_rtt(c.iters, &r->p99_us);
                } else if (!opt.json) {
                        fprintf(stderr, "  section net: the client failed\n");
                }
        } else if (!opt.json) {
                fprintf(stderr, "  section net: a broker, name server or netmsgd did not start\n");
        }
        for (int i = 5; i >= 0; i--)
                if (pids[i] > 0) {
                        kill(pids[i], SIGTERM);
                        reap(pids[i]);
                }
        snprintf(cmd, sizeof(cmd), "rm -rf %s", net_dir);
        if (system(cmd) != 0)
                fprintf(stderr, "  cannot remove %s\n", net_dir);
}
