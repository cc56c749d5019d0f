/* SPDX-License-Identifier: MIT */
/*
 * connection.c - frames over an AF_UNIX SOCK_SEQPACKET socket
 *
 * One packet is one frame, so framing is the kernel's, and the descriptors
 * a frame carries (SCM_RIGHTS) arrive with it.  Reads reject what a frame
 * may not be: truncated (larger than our buffer) or carrying more
 * descriptors than a frame may (they are closed).
 * Writes go straight to the socket when nothing is queued; otherwise, or on
 * EAGAIN, the frame is copied to the output queue, which is bounded: a task
 * that stops reading is dropped rather than growing the broker.  Nothing here
 * knows what a frame means.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "connection.h"
#include "wire.h"

/* A queued frame: its bytes, then its descriptors (if any), in one allocation. */
typedef struct {
        ListLink link;
        size_t len;
        size_t alloc;           /* what it costs: counted against the queue's limit */
        uint32_t n_fds;
        int *fds;
        uint8_t data[];
} OutFrame;

/* connection_close_fds() - close @n descriptors (skipping -1). */
void connection_close_fds(int *fds, uint32_t n) {
        for (uint32_t i = 0; i < n; i++)
                if (fds[i] >= 0)
                        close(fds[i]);
}

void connection_init(Connection *c, int fd) {
        c->fd = fd;
        list_init(&c->outq);
        c->outq_bytes = 0;
        c->outq_max = CONNECTION_OUTQ_MAX;
}

/* connection_drop_output() - forget the queued output (the peer will never read it). */
void connection_drop_output(Connection *c) {
        ListLink *l;
        while ((l = list_pop(&c->outq))) {
                OutFrame *f = list_entry(l, OutFrame, link);
                connection_close_fds(f->fds, f->n_fds);
                free(f);
        }
        c->outq_bytes = 0;
}

/* connection_deinit() - drop queued output and close the socket. */
void connection_deinit(Connection *c) {
        connection_drop_output(c);
        if (c->fd >= 0)
                close(c->fd);
        c->fd = -1;
}

/**
 * connection_read() - read one frame and the descriptors it carries
 * @buf, @size: where; a frame that does not fit is a protocol error
 * @lenp: out, the frame's length
 * @fds, @max_fds, @n_fdsp: out, its descriptors (the caller owns them)
 *
 * Return: 0, CONNECTION_E_AGAIN, CONNECTION_E_EOF, CONNECTION_E_PROTOCOL
 * (descriptors already closed), or a negative errno.
 */
int connection_read(Connection *c, uint8_t *buf, size_t size, size_t *lenp, int *fds,
                    uint32_t max_fds, uint32_t *n_fdsp) {
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int) * (WIRE_FDS_MAX + 1))];
        } ctl;
        struct iovec iov = { buf, size };
        struct msghdr mh = {
                .msg_iov = &iov,
                .msg_iovlen = 1,
                .msg_control = ctl.buf,
                .msg_controllen = sizeof(ctl.buf),
        };
        ssize_t n;

        bool reset = false;
        for (;;) {
                n = recvmsg(c->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
                if (n >= 0 || errno == EINTR)
                        ;
                else if (errno == ECONNRESET && !reset)
                        /* The peer closed with our frames unread.  The error is told
                         * once; what it wrote before closing can still be read. */
                        reset = true;
                else
                        break;
                if (n >= 0)
                        break;
        }
        if (n < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK)
                        return reset ? CONNECTION_E_EOF : CONNECTION_E_AGAIN;
                if (errno == ECONNRESET)
                        return CONNECTION_E_EOF;
                return -errno;
        }
        *n_fdsp = 0;
        if (mh.msg_controllen > 0 && !wire_cmsg_take_fds(&mh, fds, max_fds, n_fdsp)) {
                connection_close_fds(fds, *n_fdsp);
                *n_fdsp = 0;
                return CONNECTION_E_PROTOCOL;
        }
        if (n == 0 || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
                connection_close_fds(fds, *n_fdsp);
                *n_fdsp = 0;
                return n == 0 ? CONNECTION_E_EOF : CONNECTION_E_PROTOCOL;
        }
        *lenp = (size_t)n;
        return 0;
}

static int queue_frame(Connection *c, const uint8_t *frame, size_t len, int *fds, uint32_t n_fds) {
        size_t fds_at = (len + sizeof(int) - 1) / sizeof(int) * sizeof(int);
        size_t alloc = sizeof(OutFrame) + fds_at + n_fds * sizeof(int);
        if (c->outq_bytes + alloc > c->outq_max)
                return CONNECTION_E_OVERFLOW;
        OutFrame *f = malloc(alloc);
        if (!f)
                return -ENOMEM;
        f->len = len;
        f->alloc = alloc;
        f->n_fds = n_fds;
        f->fds = (int *)(f->data + fds_at);
        if (n_fds)
                memcpy(f->fds, fds, n_fds * sizeof(int));
        memcpy(f->data, frame, len);
        list_add_tail(&c->outq, &f->link);
        c->outq_bytes += alloc;
        return 0;
}

static int send_frame(Connection *c, const uint8_t *frame, size_t len, const int *fds, uint32_t n_fds) {
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int) * WIRE_FDS_MAX)];
        } ctl;
        struct iovec iov = { (void *)frame, len };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
        wire_cmsg_put_fds(&mh, ctl.buf, sizeof(ctl.buf), fds, n_fds);
        ssize_t n;
        do
                n = sendmsg(c->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return (errno == EAGAIN || errno == EWOULDBLOCK) ? CONNECTION_E_AGAIN : -errno;
        return 0;
}

/**
 * connection_write() - send or queue one frame (copied) with its descriptors
 * @fds, @n_fds: taken: closed once sent, or on failure
 *
 * Return: 0 (sent or queued; see connection_pending()),
 * CONNECTION_E_OVERFLOW, or a negative errno (the socket is broken).
 */
int connection_write(Connection *c, const uint8_t *frame, size_t len, int *fds, uint32_t n_fds) {
        if (list_empty(&c->outq)) {
                int r = send_frame(c, frame, len, fds, n_fds);
                if (r != CONNECTION_E_AGAIN) {
                        /* Sent (the peer has its own copies) or the socket is broken. */
                        connection_close_fds(fds, n_fds);
                        return r;
                }
        }
        int r = queue_frame(c, frame, len, fds, n_fds);
        if (r != 0)
                connection_close_fds(fds, n_fds);
        return r;
}

/**
 * connection_flush() - send queued frames until the socket is full
 *
 * Return: 0 or a negative errno.
 */
int connection_flush(Connection *c) {
        ListLink *l;
        while ((l = list_first(&c->outq))) {
                OutFrame *f = list_entry(l, OutFrame, link);
                int r = send_frame(c, f->data, f->len, f->fds, f->n_fds);
                if (r == CONNECTION_E_AGAIN)
                        return 0;
                if (r < 0)
                        return r;
                connection_close_fds(f->fds, f->n_fds);
                list_del(&f->link);
                c->outq_bytes -= f->alloc;
                free(f);
        }
        return 0;
}

/* connection_pending() - frames wait for the socket to drain. */
bool connection_pending(const Connection *c) {
        return !list_empty(&c->outq);
}
