/* SPDX-License-Identifier: MIT */
/*
 * conn.c - the task's one connection to the broker, shared by its threads
 *
 * Every call is a request frame with a serial and exactly one reply frame.
 * Threads send their requests themselves (a SOCK_SEQPACKET send is atomic),
 * then wait: one of the waiting threads at a time is the reader, which
 * takes replies off the socket and hands each to the thread whose serial it
 * carries, copying a received message straight into that thread's buffer.
 * When its own reply arrives the reader passes the role on.  So a thread
 * blocked in msg_receive() never holds up another thread's call.
 *
 * The broker also writes frames of its own accord (protocol 1.1): messages
 * handed ahead, send credit.  Whoever reads the socket hands those to
 * lib/async, under the same lock, and wakes whoever waits for them; a task
 * with no thread blocked in a call reads them in machipc_dispatch(), when
 * its event loop sees the descriptor of machipc_get_fd() readable.
 *
 * The connection is made on first use.  After fork() the child is a new
 * task: its first call connects afresh.  If the broker goes away, calls
 * fail with -ECONNRESET until machipc_disconnect().
 */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <poll.h>
#include <sched.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "internal.h"

static struct {
        pthread_mutex_t lock;
        pthread_cond_t cond;
        pthread_cond_t pcond;   /* passive waiters: woken by their own reply or the connection's end */
        int fd;                 /* -1: not connected */
        bool broken;
        int error;              /* why it broke */
        bool closing;           /* machipc_disconnect() while a thread reads */
        bool reading;
        uint16_t minor;         /* the protocol minor both sides speak */
        pid_t pid;              /* the process that connected */
        uint32_t generation;    /* bumped by every connect, so per-thread state can tell */
        uint32_t next_serial;
        Call *calls;            /* waiting for replies */
        uint8_t *rbuf;
        uint32_t task_id;
        port_t self;
        port_t notify;
        port_t bootstrap;
} conn = {
        .lock = PTHREAD_MUTEX_INITIALIZER,
        .cond = PTHREAD_COND_INITIALIZER,
        .pcond = PTHREAD_COND_INITIALIZER,
        .fd = -1,
};

/*
 * Frames whose order against each other matters are written under this:
 * what the task took of the messages handed ahead (LENT) must reach the
 * broker before a request that gives back the rest (a receive right moving,
 * a port destroyed, a disarm).  Never held while waiting.
 */
static pthread_mutex_t conn_wlock = PTHREAD_MUTEX_INITIALIZER;

static pthread_once_t conn_once = PTHREAD_ONCE_INIT;

/* A thread of the library's own that must never connect anew (the name keeper): after
 * machipc_disconnect() its calls fail instead of making the process a new task. */
static __thread bool tls_no_connect;

/* conn_forbid_connect() - calls of the calling thread use the connection there is, or fail. */
void conn_forbid_connect(void) {
        tls_no_connect = true;
}

/*
 * A thread that waits long for something rare (the name keeper, for a new
 * name server) must not be the one that reads the socket: every frame for
 * the task's other threads would then pass through it, a thread switch per
 * message.  Its calls wait passively: it reads only what is already there,
 * when nobody else reads, and otherwise sleeps until its own reply is handed
 * to it — or, at most a second, to look again (a task with no other thread
 * in a call and no event loop reading).
 */
static __thread bool tls_passive;

/* conn_wait_passively() - calls of the calling thread wait without reading (@on), or as usual. */
void conn_wait_passively(bool on) {
        tls_passive = on;
}

#define CONN_PASSIVE_LOOK_NS 1000000000LL

/* Wake everybody: active waiters and passive ones (a reply for one of them, the connection's end). */
static void wake_all_locked(void) {
        pthread_cond_broadcast(&conn.cond);
        pthread_cond_broadcast(&conn.pcond);
}

static void conn_reset_locked(void) {
        if (conn.fd >= 0)
                close(conn.fd);
        conn.fd = -1;
        conn.broken = false;
        conn.error = 0;
        conn.closing = false;
        conn.reading = false;
        conn.calls = NULL;
        conn.task_id = 0;
        conn.minor = 0;
        conn.self = conn.notify = conn.bootstrap = PORT_NULL;
        async_reset_locked();
}

/* In the child of fork(): the connection belongs to the parent task. */
static void conn_atfork_child(void) {
        pthread_mutex_init(&conn.lock, NULL);
        pthread_cond_init(&conn.cond, NULL);
        pthread_cond_init(&conn.pcond, NULL);
        pthread_mutex_init(&conn_wlock, NULL);
        conn_reset_locked();
        async_atfork_child();
        msg_atfork_child();
        netname_atfork_child();
        netname_keep_atfork_child();
}

static void conn_setup_once(void) {
        pthread_atfork(NULL, NULL, conn_atfork_child);
}

static ssize_t send_all(int fd, const struct iovec *iov, int n, const int *fds, uint32_t n_fds) {
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int) * WIRE_FDS_MAX)];
        } ctl;
        struct msghdr mh = { .msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)n };
        wire_cmsg_put_fds(&mh, ctl.buf, sizeof(ctl.buf), fds, n_fds);
        ssize_t r;
        do
                r = sendmsg(fd, &mh, MSG_NOSIGNAL);
        while (r < 0 && errno == EINTR);
        return r;
}

/*
 * Waiting for a reply: poll, or sleep?  A sleeping process is woken when the
 * reply comes; on an idle virtual CPU that wake-up alone can cost 40 us, more
 * than the broker's whole work.  Polling the socket for a while (yielding the
 * CPU to anyone runnable) avoids it, but when the CPUs are busy it takes time
 * from the broker and the server.  Measured on these 2-core machines, 50 us of
 * polling: quiet, an RPC takes 21 us instead of 93; busy, 14.5 us instead of
 * 12.4, and one-way sends lose 5-40 %.  So the library sleeps unless
 * $MACHIPC_SPIN_US asks it to poll that long first (doc/performance.md).
 */
static long spin_us(void) {
        static long us = -1;
        if (us < 0) {
                const char *e = getenv("MACHIPC_SPIN_US");
                long v = e && *e ? strtol(e, NULL, 10) : 0;
                us = v < 0 ? 0 : v > 10000 ? 10000 : v;
        }
        return us;
}

static ssize_t recv_frame_flags(int fd, uint8_t *buf, size_t size, int *fds, uint32_t *n_fds, int flags);

/* Receive one frame; its descriptors (at most WIRE_FDS_MAX) go to @fds. */
static ssize_t recv_frame(int fd, uint8_t *buf, size_t size, int *fds, uint32_t *n_fds) {
        long us = spin_us();
        if (us > 0) {
                struct timespec t0, t;
                clock_gettime(CLOCK_MONOTONIC, &t0);
                do {
                        ssize_t r = recv_frame_flags(fd, buf, size, fds, n_fds, MSG_DONTWAIT);
                        if (r >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
                                return r;
                        sched_yield();
                        clock_gettime(CLOCK_MONOTONIC, &t);
                } while ((t.tv_sec - t0.tv_sec) * 1000000L + (t.tv_nsec - t0.tv_nsec) / 1000 < us);
        }
        return recv_frame_flags(fd, buf, size, fds, n_fds, 0);
}

static ssize_t recv_frame_flags(int fd, uint8_t *buf, size_t size, int *fds, uint32_t *n_fds, int flags) {
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int) * WIRE_FDS_MAX)];
        } ctl;
        struct iovec iov = { buf, size };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
                             .msg_controllen = sizeof(ctl.buf) };
        ssize_t r;
        do
                r = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC | flags);
        while (r < 0 && errno == EINTR);
        *n_fds = 0;
        if (r < 0)
                return r;
        wire_cmsg_take_fds(&mh, fds, WIRE_FDS_MAX, n_fds);
        return r;
}

static void close_all(const int *fds, uint32_t n) {
        for (uint32_t i = 0; i < n; i++)
                close(fds[i]);
}

/* Handshake on a fresh socket; the lock is held and no other call is in flight. */
static int conn_hello_locked(int fd) {
        uint8_t out[WIRE_HDR_SIZE + WIRE_HELLO_SIZE];
        WireHeader h = { .size = sizeof(out), .op = WIRE_OP_HELLO, .serial = 1 };
        WireHello m = { .magic = WIRE_MAGIC, .major = WIRE_VERSION_MAJOR, .minor = WIRE_VERSION_MINOR };
        wire_header_encode(out, &h);
        wire_hello_encode(out + WIRE_HDR_SIZE, &m);
        struct iovec iov = { out, sizeof(out) };
        /* A broker that refuses us answers and hangs up, maybe before our hello
         * is sent: read its answer even if the send failed. */
        int sent_err = send_all(fd, &iov, 1, NULL, 0) < 0 ? -errno : 0;
        uint8_t in[WIRE_HDR_SIZE + WIRE_HELLO_REPLY_SIZE + 1];
        int fds[WIRE_FDS_MAX];
        uint32_t n_fds;
        ssize_t n = recv_frame(fd, in, sizeof(in), fds, &n_fds);
        if (n < 0)
                return sent_err ? sent_err : -errno;
        close_all(fds, n_fds);
        if (n == 0)
                return sent_err ? sent_err : -ECONNRESET;
        WireHeader rh;
        WireHelloReply rep;
        if (wire_header_decode(in, (size_t)n, &rh) < 0 || rh.op != (WIRE_OP_HELLO | WIRE_OP_REPLY) ||
            wire_hello_reply_decode(in + WIRE_HDR_SIZE, (size_t)n - WIRE_HDR_SIZE, &rep) < 0)
                return -EPROTO;
        if (rep.status == KERN_RESOURCE_SHORTAGE)
                return -EUSERS;         /* the broker's quota of tasks for our uid is full */
        if (rep.status != 0)
                return -EPROTO;
        conn.task_id = rep.task_id;
        conn.minor = rep.minor < WIRE_VERSION_MINOR ? rep.minor : WIRE_VERSION_MINOR;
        conn.self = rep.self;
        conn.notify = rep.notify;
        conn.bootstrap = rep.bootstrap;
        return 0;
}

/*
 * Is the broker at @path the one we mean?  Another user must not be able to
 * stand in for it: e.g. create /tmp/machipc-$UID before us and run a broker
 * of its own there.  So: its directory and socket belong to one user and
 * nobody else can write to the directory; the process that listens runs as
 * that user; and for the default path that user is us (or root).  An
 * explicit path ($MACHIPC_SOCKET, machipc_connect(path)) may name another
 * user's broker (machipcd --allow-group).
 */
static int conn_check_broker(int fd, bool explicit_path, uid_t dir_owner) {
        struct ucred cred;
        socklen_t cl = sizeof(cred);
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0)
                return -errno;
        if (cred.uid != dir_owner)
                return -EPERM;
        if (!explicit_path && dir_owner != getuid() && dir_owner != 0)
                return -EPERM;
        return 0;
}

static int conn_connect_locked(const char *path_override) {
        char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        bool explicit_path = false;
        uid_t dir_owner = 0;
        int r = wire_socket_path_ex(path_override, path, sizeof(path), &explicit_path);
        if (r < 0)
                return r;
        r = wire_socket_dir_check(path, &dir_owner);
        if (r < 0)
                return r;
        strcpy(sa.sun_path, path);
        if (!conn.rbuf) {
                conn.rbuf = malloc(WIRE_FRAME_MAX);
                if (!conn.rbuf)
                        return -ENOMEM;
        }
        int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                r = -errno;
                close(fd);
                return r;
        }
        r = conn_check_broker(fd, explicit_path, dir_owner);
        if (r < 0) {
                close(fd);
                return r;
        }
        int buf = 4 << 20;
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
        r = conn_hello_locked(fd);
        if (r < 0) {
                close(fd);
                return r;
        }
        conn.fd = fd;
        conn.pid = getpid();
        conn.generation++;
        conn.next_serial = 2;
        conn.broken = false;
        return 0;
}

int machipc_connect(const char *path) {
        pthread_once(&conn_once, conn_setup_once);
        pthread_mutex_lock(&conn.lock);
        int r = conn.fd >= 0 ? -EISCONN : conn_connect_locked(path);
        pthread_mutex_unlock(&conn.lock);
        return r;
}

void machipc_disconnect(void) {
        pthread_once(&conn_once, conn_setup_once);
        pthread_mutex_lock(&conn.lock);
        /* Wake anyone waiting; their calls fail. */
        for (Call *c = conn.calls; c; c = c->next) {
                c->done = true;
                c->error = -ECONNRESET;
        }
        if (conn.fd >= 0)
                shutdown(conn.fd, SHUT_RDWR);
        conn.calls = NULL;
        if (!conn.reading) {
                conn_reset_locked();
        } else {
                conn.broken = true;
                conn.closing = true;
        }
        wake_all_locked();
        pthread_mutex_unlock(&conn.lock);
        netname_keep_reset();
}

int machipc_default_socket(char *buf, size_t size) {
        return wire_default_socket_path(buf, size);
}

int machipc_socket_path(char *buf, size_t size) {
        return wire_socket_path(NULL, buf, size);
}

/* conn_ensure() - connect if not yet connected.  Return: 0 or a negative errno. */
int conn_ensure(void) {
        pthread_once(&conn_once, conn_setup_once);
        pthread_mutex_lock(&conn.lock);
        int r = 0;
        if (conn.fd < 0)
                r = tls_no_connect ? -ENOTCONN : conn_connect_locked(NULL);
        else if (conn.broken)
                r = -ECONNRESET;
        pthread_mutex_unlock(&conn.lock);
        return r;
}

uint16_t conn_minor(void) {
        return conn.minor;
}

uint32_t conn_generation(void) {
        return conn.generation;
}

uint32_t machipc_task_id(void) {
        return conn.fd >= 0 ? conn.task_id : 0;
}

port_t conn_self(void) {
        return conn_ensure() == 0 ? conn.self : PORT_NULL;
}

port_t conn_notify(void) {
        return conn_ensure() == 0 ? conn.notify : PORT_NULL;
}

port_t conn_bootstrap(void) {
        return conn_ensure() == 0 ? conn.bootstrap : PORT_NULL;
}

/* The broker's connection failed: every waiting call fails. */
static void conn_fail_locked(int error) {
        conn.broken = true;
        conn.error = error;
        for (Call *c = conn.calls; c; c = c->next) {
                c->done = true;
                c->error = error;
        }
        conn.calls = NULL;
        wake_all_locked();
}

/* Hand one reply frame and its descriptors to its call (lock held). */
static void conn_deliver_locked(const uint8_t *frame, size_t len, int *fds, uint32_t n_fds) {
        WireHeader h;
        if (wire_header_decode(frame, len, &h) < 0 || !(h.op & WIRE_OP_REPLY) || h.flags) {
                close_all(fds, n_fds);
                conn_fail_locked(-EPROTO);
                return;
        }
        const uint8_t *body = frame + WIRE_HDR_SIZE;
        size_t blen = len - WIRE_HDR_SIZE;
        if (h.op == (WIRE_OP_EVENT | WIRE_OP_REPLY)) {
                /* The broker's own: a message handed ahead, credit. */
                if (h.serial != 0 || conn.minor < 1 || async_event_locked(body, blen, fds, n_fds) < 0) {
                        close_all(fds, n_fds);
                        conn_fail_locked(-EPROTO);
                }
                pthread_cond_broadcast(&conn.cond);
                return;
        }
        Call **pp = &conn.calls;
        while (*pp && (*pp)->serial != h.serial)
                pp = &(*pp)->next;
        Call *c = *pp;
        if (!c) {
                close_all(fds, n_fds);
                conn_fail_locked(-EPROTO);
                return;
        }
        memcpy(c->fds, fds, n_fds * sizeof(int));
        c->n_fds = n_fds;
        *pp = c->next;
        if (h.op == (WIRE_OP_MSG | WIRE_OP_REPLY)) {
                if (wire_msg_reply_decode(body, blen, &c->reply) < 0) {
                        c->error = -EPROTO;
                } else {
                        /* The message (msg_size bytes), then its attachment. */
                        const uint8_t *m = body + WIRE_MSG_REPLY_SIZE;
                        size_t total = blen - WIRE_MSG_REPLY_SIZE, mlen = total;
                        /* Relayed from another host: where from, last (1.2). */
                        c->has_origin = false;
                        if ((c->reply.flags & WIRE_REPLY_REMOTE) && conn.minor >= 2) {
                                if (total < sizeof(msg_header_t) + WIRE_ORIGIN_SIZE ||
                                    wire_origin_decode(m + total - WIRE_ORIGIN_SIZE, WIRE_ORIGIN_SIZE,
                                                       &c->origin) < 0) {
                                        c->error = -EPROTO;
                                        total = mlen = 0;
                                } else {
                                        total -= WIRE_ORIGIN_SIZE;
                                        mlen = total;
                                        c->has_origin = true;
                                }
                        }
                        if (total >= sizeof(msg_header_t) && wire_get_le32(m) <= total)
                                mlen = wire_get_le32(m);
                        size_t alen = total - mlen;
                        if (mlen > c->buf_size)
                                mlen = c->buf_size;
                        if (mlen)
                                memcpy(c->buf, m, mlen);
                        c->msg_len = mlen;
                        c->attach_len = 0;
                        if (alen && c->attach && alen <= WIRE_ATTACH_MAX) {
                                memcpy(c->attach, m + (total - alen), alen);
                                c->attach_len = alen;
                        }
                        /* Messages handed ahead after this one follow it: wait for them
                         * before receiving there again, so order holds. */
                        if (WIRE_REPLY_LENT(c->reply.credit) && c->rcv_name)
                                async_expect_locked(c->rcv_name, WIRE_REPLY_LENT(c->reply.credit));
                        /* A real receive there ended: an arm that stalled goes on (if it
                         * stalls again, the broker says so after this reply). */
                        if (c->rcv_name)
                                async_real_receive_locked(c->rcv_name);
                }
        } else if ((h.op == (WIRE_OP_REPLY_PORT | WIRE_OP_REPLY) && blen == WIRE_REPLY_PORT_REPLY_SIZE) ||
                   (h.op == (WIRE_OP_ARM | WIRE_OP_REPLY) && blen == WIRE_ARM_REPLY_SIZE)) {
                c->words[0] = wire_get_le32(body);
                c->words[1] = wire_get_le32(body + 4);
        } else {
                c->error = -EPROTO;
        }
        /* Pushes read after this reply are of the new state: no longer dropped. */
        for (uint32_t i = 0; i < c->n_leaving; i++)
                async_left_locked(c->leaving[i]);
        c->done = true;
        pthread_cond_broadcast(&conn.cond);
        if (c->passive)
                pthread_cond_broadcast(&conn.pcond);
}

void conn_lock(void) {
        pthread_once(&conn_once, conn_setup_once);
        pthread_mutex_lock(&conn.lock);
}

void conn_unlock(void) {
        pthread_mutex_unlock(&conn.lock);
}

int conn_fd_locked(void) {
        return conn.broken ? -1 : conn.fd;
}

bool conn_async_locked(void) {
        return conn.fd >= 0 && !conn.broken && conn.minor >= 1;
}

static int64_t now_ns(void) {
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/*
 * Wait for the socket to be readable until @deadline (ns, CLOCK_MONOTONIC;
 * -1: forever).  Returns 1 readable, 0 timed out.
 */
static int wait_readable(int fd, int64_t deadline) {
        if (deadline < 0)
                return 1;       /* a blocking read waits by itself */
        for (;;) {
                int64_t left = deadline - now_ns();
                if (left <= 0)
                        return 0;
                struct pollfd pfd = { .fd = fd, .events = POLLIN };
                int ms = (int)((left + 999999) / 1000000);
                int r = poll(&pfd, 1, ms);
                if (r > 0)
                        return 1;
                if (r < 0 && errno != EINTR)
                        return 1;       /* let the read report it */
        }
}

/**
 * conn_pump_locked() - read frames until @done(@arg), as the reader or
 * waiting for the one there is
 * @deadline: ns on CLOCK_MONOTONIC; -1: forever; 0: only what is there now
 *
 * Conditions: the lock is held, and again on return.
 * Return: 0 (@done says so), -ETIMEDOUT, -EAGAIN (@deadline 0 and nothing
 * more to read, or another thread is reading), or the connection's error.
 */
int conn_pump_locked(bool (*done)(void *arg), void *arg, int64_t deadline) {
        bool passive = tls_passive && deadline < 0, looked = false;
        while (!done(arg)) {
                if (conn.fd < 0 || conn.broken)
                        return conn.fd < 0 ? -ENOTCONN : conn.error;
                if (deadline > 0 && now_ns() >= deadline)
                        return -ETIMEDOUT;
                if (passive && (conn.reading || looked)) {
                        struct timespec ts;
                        clock_gettime(CLOCK_REALTIME, &ts);
                        int64_t abs = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec + CONN_PASSIVE_LOOK_NS;
                        ts.tv_sec = (time_t)(abs / 1000000000);
                        ts.tv_nsec = (long)(abs % 1000000000);
                        pthread_cond_timedwait(&conn.pcond, &conn.lock, &ts);
                        looked = false;
                        continue;
                }
                if (conn.reading) {
                        if (deadline == 0)
                                return -EAGAIN;
                        if (deadline < 0) {
                                pthread_cond_wait(&conn.cond, &conn.lock);
                        } else {
                                struct timespec ts;
                                clock_gettime(CLOCK_REALTIME, &ts);
                                int64_t left = deadline - now_ns();
                                if (left <= 0)
                                        return -ETIMEDOUT;
                                int64_t abs = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec + left;
                                ts.tv_sec = (time_t)(abs / 1000000000);
                                ts.tv_nsec = (long)(abs % 1000000000);
                                pthread_cond_timedwait(&conn.cond, &conn.lock, &ts);
                        }
                        continue;
                }
                int fd = conn.fd;
                conn.reading = true;
                pthread_mutex_unlock(&conn.lock);
                int rfds[WIRE_FDS_MAX];
                uint32_t n_rfds = 0;
                ssize_t n;
                int err = 0;
                if (deadline == 0 || passive) {
                        n = recv_frame_flags(fd, conn.rbuf, WIRE_FRAME_MAX, rfds, &n_rfds, MSG_DONTWAIT);
                } else if (!wait_readable(fd, deadline)) {
                        n = -1;
                        errno = ETIMEDOUT;
                } else {
                        n = recv_frame(fd, conn.rbuf, WIRE_FRAME_MAX, rfds, &n_rfds);
                }
                err = errno;
                pthread_mutex_lock(&conn.lock);
                conn.reading = false;
                pthread_cond_broadcast(&conn.cond);
                if (conn.closing) {
                        close_all(rfds, n_rfds);
                        if (conn.fd == fd)
                                conn_reset_locked();
                        return -ECONNRESET;
                }
                if (n < 0 && (err == EAGAIN || err == EWOULDBLOCK) && passive) {
                        looked = true;  /* nothing there: wait to be handed the reply */
                        continue;
                }
                if (n < 0 && (err == EAGAIN || err == EWOULDBLOCK))
                        return -EAGAIN;
                if (n < 0 && err == ETIMEDOUT)
                        return -ETIMEDOUT;
                if (n <= 0)
                        conn_fail_locked(n == 0 ? -ECONNRESET : -err);
                else
                        conn_deliver_locked(conn.rbuf, (size_t)n, rfds, n_rfds);
        }
        return 0;
}

static bool call_done(void *arg) {
        return ((Call *)arg)->done;
}

/*
 * Write one frame.  @lent: the task's pending LENT body (what it took of
 * the messages handed ahead, credit it gives back) goes first, in the same
 * frame (WIRE_FLAG_LENT), so that the broker knows it before it serves the
 * request — which may give back the rest, or wait on a queue those messages
 * left.
 */
static ssize_t send_frame(int fd, uint16_t op, uint16_t flags, uint32_t serial, const struct iovec *iov, int n_iov,
                          const int *fds, uint32_t n_fds, bool lent) {
        struct iovec v[6];
        uint8_t hdr[WIRE_HDR_SIZE];
        uint8_t prefix[WIRE_LENT_BODY_MAX];
        int n = 1;
        size_t len = WIRE_HDR_SIZE;
        if (lent)
                pthread_mutex_lock(&conn_wlock);
        size_t plen = lent ? async_take_lent_body(prefix) : 0;
        if (plen) {
                v[n].iov_base = prefix;
                v[n++].iov_len = plen;
                len += plen;
                flags |= WIRE_FLAG_LENT;
        }
        for (int i = 0; i < n_iov; i++) {
                v[n++] = iov[i];
                len += iov[i].iov_len;
        }
        ssize_t r;
        if (len > WIRE_FRAME_MAX) {
                errno = EMSGSIZE;
                r = -1;
        } else {
                WireHeader h = { .size = (uint32_t)len, .op = op, .flags = flags, .serial = serial };
                wire_header_encode(hdr, &h);
                v[0].iov_base = hdr;
                v[0].iov_len = sizeof(hdr);
                r = send_all(fd, v, n, fds, n_fds);
        }
        if (lent)
                pthread_mutex_unlock(&conn_wlock);
        return r;
}

/**
 * conn_flush_lent() - write the task's pending LENT frame now
 */
void conn_flush_lent(void) {
        pthread_mutex_lock(&conn.lock);
        int fd = conn.fd >= 0 && !conn.broken ? conn.fd : -1;
        pthread_mutex_unlock(&conn.lock);
        if (fd < 0)
                return;
        pthread_mutex_lock(&conn_wlock);
        async_flush_lent(fd);
        pthread_mutex_unlock(&conn_wlock);
}

/**
 * conn_send_one_way() - write a frame that has no reply (WIRE_FLAG_ONE_WAY)
 *
 * Return: 0 or a negative errno (-ECONNRESET: the broker is gone).
 */
int conn_send_one_way(uint16_t op, const struct iovec *iov, int n_iov) {
        pthread_once(&conn_once, conn_setup_once);
        pthread_mutex_lock(&conn.lock);
        int r = conn.fd < 0 ? -ENOTCONN : conn.broken ? conn.error : 0;
        int fd = conn.fd;
        pthread_mutex_unlock(&conn.lock);
        if (r < 0)
                return r;
        if (send_frame(fd, op, WIRE_FLAG_ONE_WAY, 0, iov, n_iov, NULL, 0, false) < 0) {
                int err = errno;
                bool gone = err == EPIPE || err == ECONNRESET || err == ENOTCONN;
                pthread_mutex_lock(&conn.lock);
                if (gone && conn.fd == fd)
                        conn_fail_locked(-ECONNRESET);
                pthread_mutex_unlock(&conn.lock);
                return gone ? -ECONNRESET : -err;
        }
        return 0;
}

/**
 * conn_call() - send one request and wait for its reply
 * @call: zeroed except buf/buf_size (and rcv_name, lent); filled with the reply
 * @op: WIRE_OP_*
 * @iov, @n_iov: the request body (after the frame header, which this adds)
 *
 * Return: 0 (the reply is in @call) or a negative errno.
 */
int conn_call(Call *call, uint16_t op, const struct iovec *iov, int n_iov, const int *fds,
              uint32_t n_fds) {
        if (n_iov > 4)
                return -EINVAL;

        /* Connect on first use under the same lock that registers the call. */
        pthread_once(&conn_once, conn_setup_once);
        pthread_mutex_lock(&conn.lock);
        int r = conn.fd < 0 ? (tls_no_connect ? -ENOTCONN : conn_connect_locked(NULL)) : conn.broken ? -ECONNRESET : 0;
        if (r < 0) {
                pthread_mutex_unlock(&conn.lock);
                return r;
        }
        int fd = conn.fd;
        call->passive = tls_passive;
        call->serial = conn.next_serial++;
        if (conn.next_serial == 0)
                conn.next_serial = 2;
        call->next = conn.calls;
        conn.calls = call;
        /* What the task took or gives back is told before any request is served. */
        bool lent = conn.minor >= 1 && (call->lent || async_pending_locked());
        pthread_mutex_unlock(&conn.lock);

        ssize_t sent = send_frame(fd, op, 0, call->serial, iov, n_iov, fds, n_fds, lent);
        int send_errno = errno;
        pthread_mutex_lock(&conn.lock);
        if (sent < 0 && !call->done) {
                Call **pp = &conn.calls;
                while (*pp && *pp != call)
                        pp = &(*pp)->next;
                if (*pp)
                        *pp = call->next;
                call->done = true;
                bool gone = send_errno == EPIPE || send_errno == ECONNRESET || send_errno == ENOTCONN;
                call->error = gone ? -ECONNRESET : -send_errno;
                /* The broker is gone: every call says so from now on, whoever noticed first. */
                if (gone && conn.fd == fd)
                        conn_fail_locked(-ECONNRESET);
        }
        r = conn_pump_locked(call_done, call, -1);
        if (r < 0 && !call->done) {
                /* Closed under us (machipc_disconnect()): the call is gone with it. */
                Call **pp = &conn.calls;
                while (*pp && *pp != call)
                        pp = &(*pp)->next;
                if (*pp)
                        *pp = call->next;
                call->done = true;
                call->error = r == -ENOTCONN ? -ECONNRESET : r;
        }
        pthread_mutex_unlock(&conn.lock);
        return call->error;
}
