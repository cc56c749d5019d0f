/* SPDX-License-Identifier: MIT */
/*
 * connection.c - frames over an AF_UNIX SOCK_SEQPACKET socket
 *
 * One packet is one frame, so framing is the kernel's.  Reads reject what
 * a frame may not be: truncated (larger than our buffer) or carrying file
 * descriptors this protocol version does not expect (they are closed).
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

typedef struct {
        ListLink link;
        size_t len;
        uint8_t data[];
} OutFrame;

void connection_init(Connection *c, int fd) {
        c->fd = fd;
        list_init(&c->outq);
        c->outq_bytes = 0;
        c->outq_max = CONNECTION_OUTQ_MAX;
}

/* connection_deinit() - drop queued output and close the socket. */
void connection_deinit(Connection *c) {
        ListLink *l;
        while ((l = list_pop(&c->outq)))
                free(list_entry(l, OutFrame, link));
        c->outq_bytes = 0;
        if (c->fd >= 0)
                close(c->fd);
        c->fd = -1;
}

static void close_fds(struct msghdr *mh) {
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
                if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
                        continue;
                size_t n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                int *fds = (int *)CMSG_DATA(cm);
                for (size_t i = 0; i < n; i++)
                        close(fds[i]);
        }
}

/**
 * connection_read() - read one frame
 * @buf, @size: where; a frame that does not fit is a protocol error
 * @lenp: out, the frame's length
 *
 * Return: 0, CONNECTION_E_AGAIN, CONNECTION_E_EOF, CONNECTION_E_PROTOCOL,
 * or a negative errno.
 */
int connection_read(Connection *c, uint8_t *buf, size_t size, size_t *lenp) {
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int) * 16)];
        } ctl;
        struct iovec iov = { buf, size };
        struct msghdr mh = {
                .msg_iov = &iov,
                .msg_iovlen = 1,
                .msg_control = ctl.buf,
                .msg_controllen = sizeof(ctl.buf),
        };
        ssize_t n;

        do
                n = recvmsg(c->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        while (n < 0 && errno == EINTR);
        if (n < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK)
                        return CONNECTION_E_AGAIN;
                if (errno == ECONNRESET)
                        return CONNECTION_E_EOF;
                return -errno;
        }
        if (mh.msg_controllen > 0) {
                close_fds(&mh);
                return CONNECTION_E_PROTOCOL;
        }
        if (n == 0)
                return CONNECTION_E_EOF;
        if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))
                return CONNECTION_E_PROTOCOL;
        *lenp = (size_t)n;
        return 0;
}

static int queue_frame(Connection *c, const uint8_t *frame, size_t len) {
        if (c->outq_bytes + len > c->outq_max)
                return CONNECTION_E_OVERFLOW;
        OutFrame *f = malloc(sizeof(*f) + len);
        if (!f)
                return -ENOMEM;
        f->len = len;
        memcpy(f->data, frame, len);
        list_add_tail(&c->outq, &f->link);
        c->outq_bytes += len;
        return 0;
}

static int send_frame(Connection *c, const uint8_t *frame, size_t len) {
        ssize_t n;
        do
                n = send(c->fd, frame, len, MSG_DONTWAIT | MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return (errno == EAGAIN || errno == EWOULDBLOCK) ? CONNECTION_E_AGAIN : -errno;
        return 0;
}

/**
 * connection_write() - send or queue one frame (copied)
 *
 * Return: 0 (sent or queued; see connection_pending()),
 * CONNECTION_E_OVERFLOW, or a negative errno (the socket is broken).
 */
int connection_write(Connection *c, const uint8_t *frame, size_t len) {
        if (list_empty(&c->outq)) {
                int r = send_frame(c, frame, len);
                if (r != CONNECTION_E_AGAIN)
                        return r;
        }
        return queue_frame(c, frame, len);
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
                int r = send_frame(c, f->data, f->len);
                if (r == CONNECTION_E_AGAIN)
                        return 0;
                if (r < 0)
                        return r;
                list_del(&f->link);
                c->outq_bytes -= f->len;
                free(f);
        }
        return 0;
}

/* connection_pending() - frames wait for the socket to drain. */
bool connection_pending(const Connection *c) {
        return !list_empty(&c->outq);
}
