/* SPDX-License-Identifier: MIT */
/*
 * peer.c - one task: its handshake, its requests, its end
 *
 * Turns frames into IPC operations and outcomes into frames.  Every
 * OP_MSG request becomes a PeerReq (from a per-task free list, so a
 * steady stream of calls allocates nothing): send phase, then receive
 * phase, either of which may wait.  Waits end through the engine's done
 * list or the request's timer.  The connection is the only way out: a
 * task whose socket breaks or whose output overflows is killed, and the
 * broker reclaims everything it held.
 *
 * Protocol violations (bad frames, unknown ops, a second handshake) drop
 * the task; bad messages are answered with a status code.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "broker.h"
#include "ipc/ipc.h"
#include "ipc/kmsg.h"
#include "kobject/kobject.h"
#include "peer.h"
#include "ipc/port.h"
#include "kobject/semaphore.h"
#include "ipc/space.h"
#include "util/log.h"
#include "wire.h"

static void peer_on_read(evutil_socket_t fd, short what, void *userdata);
static void peer_on_write(evutil_socket_t fd, short what, void *userdata);

static void peer_on_gone(evutil_socket_t fd, short what, void *userdata) {
        Peer *peer = userdata;
        (void)fd;
        (void)what;
        peer_kill(peer, "its process is gone");
        broker_settle(peer->broker);
}

static void peer_on_hello_timeout(evutil_socket_t fd, short what, void *userdata) {
        Peer *peer = userdata;
        (void)fd;
        (void)what;
        peer_kill(peer, "no handshake in time");
        broker_settle(peer->broker);
}

/*
 * A process's end should end its task even if its socket stays open: a
 * task can hide its own connection in a message (a socket that carries it,
 * say), so the broker would never see EOF.  Watch the process itself.
 */
static int pidfd_open_(pid_t pid) {
#ifdef SYS_pidfd_open
        return (int)syscall(SYS_pidfd_open, pid, 0);
#else
        (void)pid;
        errno = ENOSYS;
        return -1;
#endif
}

/**
 * peer_new() - a task that connected; it has no space until its handshake
 * @fd: the accepted socket; taken, closed on failure too
 *
 * The connection counts in its uid's "tasks" from now on, so connections
 * that never say hello are limited like tasks (and closed after
 * --handshake-timeout).
 * Return: 0, -EUSERS (its uid has all the tasks it may: @fd is answered
 * with a refusal and closed), -ESRCH (its process is already gone), -ENOMEM.
 */
int peer_new(Peer **peerp, Broker *broker, int fd, pid_t pid, uid_t uid, gid_t gid) {
        BrokerConfig *cfg = &broker->config;
        Account *acct = account_uid_get(&broker->uid_accounts, &cfg->uid_limits, uid);
        if (!acct) {
                close(fd);
                return -ENOMEM;
        }
        if (!account_charge(NULL, acct, ACCT_TASKS, 1)) {
                /* Answer the hello it is sending, so that it can say why, and hang up.
                 * Read its hello first: closing a socket with unread data would reset
                 * the connection before our answer is read. */
                uint8_t frame[WIRE_HDR_SIZE + WIRE_HELLO_REPLY_SIZE];
                for (int i = 0; i < 4 && recv(fd, frame, sizeof(frame), MSG_DONTWAIT) > 0; i++)
                        ;
                WireHeader h = { .size = sizeof(frame), .op = WIRE_OP_HELLO | WIRE_OP_REPLY, .serial = 1 };
                WireHelloReply rep = { .status = KERN_RESOURCE_SHORTAGE, .major = WIRE_VERSION_MAJOR,
                                       .minor = WIRE_VERSION_MINOR };
                wire_header_encode(frame, &h);
                wire_hello_reply_encode(frame + WIRE_HDR_SIZE, &rep);
                ssize_t n = send(fd, frame, sizeof(frame), MSG_DONTWAIT | MSG_NOSIGNAL);
                (void)n;
                close(fd);
                account_unref(acct);
                return -EUSERS;
        }
        int pidfd = pidfd_open_(pid);
        if (pidfd < 0 && errno == ESRCH) {
                account_release(NULL, acct, ACCT_TASKS, 1);
                account_unref(acct);
                close(fd);
                return -ESRCH;
        }
        Peer *p = calloc(1, sizeof(*p));
        if (!p) {
                account_release(NULL, acct, ACCT_TASKS, 1);
                account_unref(acct);
                if (pidfd >= 0)
                        close(pidfd);
                close(fd);
                return -ENOMEM;
        }
        p->broker = broker;
        p->id = ++broker->next_task_id;
        p->pid = pid;
        p->uid = uid;
        p->gid = gid;
        p->acct_uid = acct;
        p->pidfd = pidfd;
        list_init(&p->reqs);
        list_init(&p->free_reqs);
        list_init(&p->task.semaphores);
        list_init(&p->link);
        connection_init(&p->conn, fd);
        p->conn.outq_max = cfg->task_limits.max[ACCT_UNREAD];
        event_assign(&p->ev_read, broker->base, fd, EV_READ | EV_PERSIST, peer_on_read, p);
        event_assign(&p->ev_write, broker->base, fd, EV_WRITE | EV_PERSIST, peer_on_write, p);
        event_add(&p->ev_read, NULL);
        if (pidfd >= 0) {
                event_assign(&p->ev_gone, broker->base, pidfd, EV_READ, peer_on_gone, p);
                event_add(&p->ev_gone, NULL);
        }
        uint32_t ms = cfg->handshake_timeout_ms;
        struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };
        evtimer_assign(&p->ev_hello, broker->base, peer_on_hello_timeout, p);
        evtimer_add(&p->ev_hello, &tv);
        *peerp = p;
        return 0;
}

static void peer_unwatch(Peer *peer) {
        if (event_initialized(&peer->ev_read))
                event_del(&peer->ev_read);
        if (event_initialized(&peer->ev_write))
                event_del(&peer->ev_write);
        if (event_initialized(&peer->ev_gone))
                event_del(&peer->ev_gone);
        if (event_initialized(&peer->ev_hello))
                event_del(&peer->ev_hello);
}

static void req_disarm(PeerReq *r) {
        if (r->timer_armed) {
                evtimer_del(&r->timer);
                r->timer_armed = false;
        }
}

/**
 * peer_free() - tear a task down: abort its calls, destroy its rights
 *
 * Others blocked on its ports wake with their codes; holders of send rights
 * to its ports now hold dead names.
 */
void peer_free(Peer *peer) {
        ListLink *l;
        if (!peer)
                return;
        while ((l = list_pop(&peer->reqs))) {
                PeerReq *r = list_entry(l, PeerReq, link);
                req_disarm(r);
                ipc_waiter_abort(&r->w);
                free(r);
        }
        while ((l = list_pop(&peer->free_reqs)))
                free(list_entry(l, PeerReq, link));
        while ((l = list_first(&peer->task.semaphores)))
                semaphore_destroy(list_entry(l, Semaphore, owner_link));
        if (peer->task.kernel_port) {
                ipc_kobject_port_destroy(peer->task.kernel_port);
                peer->task.kernel_port = NULL;
        }
        if (peer->task.space) {
                ipc_space_terminate(peer->task.space);
                space_free(peer->task.space);
        }
        peer->task.notify_port = port_unref(peer->task.notify_port);
        peer_unwatch(peer);
        if (peer->pidfd >= 0)
                close(peer->pidfd);
        account_release(NULL, peer->acct_uid, ACCT_TASKS, 1);
        peer->acct_uid = account_unref(peer->acct_uid);
        connection_deinit(&peer->conn);
        if (list_linked(&peer->link)) {
                list_del(&peer->link);
                peer->broker->n_peers--;
        }
        free(peer);
}

/**
 * peer_kill() - drop a task; it is freed when the broker settles
 * @why: for the log
 */
void peer_kill(Peer *peer, const char *why) {
        if (peer->dead)
                return;
        peer->dead = true;
        log_debug("task %u (pid %d): %s", peer->id, (int)peer->pid, why);
        peer_unwatch(peer);
        list_del(&peer->link);
        list_add_tail(&peer->broker->zombies, &peer->link);
}

/* Send the frame in the broker's tx buffer, with @fds (taken). */
static void peer_write(Peer *peer, size_t len, int *fds, uint32_t n_fds) {
        if (peer->dead) {
                connection_close_fds(fds, n_fds);
                return;
        }
        int r = connection_write(&peer->conn, peer->broker->tx, len, fds, n_fds);
        if (r == CONNECTION_E_OVERFLOW) {
                peer_kill(peer, "stopped reading its socket, dropped");
                return;
        }
        if (r < 0) {
                peer_kill(peer, "socket broken");
                return;
        }
        if (connection_pending(&peer->conn))
                event_add(&peer->ev_write, NULL);
}

static void peer_on_write(evutil_socket_t fd, short what, void *userdata) {
        Peer *peer = userdata;
        (void)fd;
        (void)what;
        if (connection_flush(&peer->conn) < 0)
                peer_kill(peer, "socket broken");
        else if (!connection_pending(&peer->conn))
                event_del(&peer->ev_write);
        broker_settle(peer->broker);
}

/* Where a reply's body goes: the broker's one outgoing frame, after its header. */
static uint8_t *frame_body(Peer *peer) {
        return peer->broker->tx + WIRE_HDR_SIZE;
}

static void frame_end_fds(Peer *peer, uint16_t op, uint32_t serial, size_t body, int *fds,
                          uint32_t n_fds) {
        WireHeader h = { .size = (uint32_t)(WIRE_HDR_SIZE + body), .op = op, .serial = serial };
        wire_header_encode(peer->broker->tx, &h);
        peer_write(peer, WIRE_HDR_SIZE + body, fds, n_fds);
}

static void frame_end(Peer *peer, uint16_t op, uint32_t serial, size_t body) {
        frame_end_fds(peer, op, serial, body, NULL, 0);
}

static void req_put(PeerReq *r) {
        Peer *peer = r->peer;
        req_disarm(r);
        list_del(&r->link);
        list_add_head(&peer->free_reqs, &r->link);
        peer->n_reqs--;
}

/* Answer a message request with a status and no message. */
static void reply_status(PeerReq *r, int status) {
        Peer *peer = r->peer;
        uint8_t *b = frame_body(peer);
        WireMsgReply m = { .status = (uint32_t)status };
        wire_msg_reply_encode(b, &m);
        frame_end(peer, WIRE_OP_MSG | WIRE_OP_REPLY, r->serial, WIRE_MSG_REPLY_SIZE);
        req_put(r);
}

/* Give the sender its message back (pseudo-receive) with @status. */
static void reply_returned(PeerReq *r, int status, Kmsg *k) {
        Peer *peer = r->peer;
        uint8_t *b = frame_body(peer);
        WireMsgReply m = { .status = (uint32_t)status, .flags = WIRE_REPLY_RETURNED };
        wire_msg_reply_encode(b, &m);
        kmsg_copyout_returned(peer->task.space, k, b + WIRE_MSG_REPLY_SIZE);
        size_t len = WIRE_MSG_REPLY_SIZE + k->size;
        kmsg_free(k);
        frame_end(peer, WIRE_OP_MSG | WIRE_OP_REPLY, r->serial, len);
        req_put(r);
}

/* Answer a receive: the message, or the header of one too large, or a status. */
static void reply_received(PeerReq *r, int status, Kmsg *k, uint32_t needed) {
        Peer *peer = r->peer;
        uint8_t *b = frame_body(peer);
        WireMsgReply m = { .status = (uint32_t)status };
        size_t len = WIRE_MSG_REPLY_SIZE;
        int fds[WIRE_FDS_MAX];
        uint32_t n_fds = 0;

        if (status == 0 && k) {
                /* The descriptors go with the frame. */
                n_fds = k->n_fds;
                for (uint32_t i = 0; i < n_fds; i++) {
                        fds[i] = k->fds[i];
                        k->fds[i] = -1;
                }
                m.flags = WIRE_REPLY_RECEIVED | (k->from_kernel ? WIRE_REPLY_KERNEL : 0);
                m.pid = k->pid;
                m.uid = k->uid;
                m.gid = k->gid;
                kmsg_copyout(peer->task.space, k, b + len);
                len += k->size;
                memcpy(b + len, k->data + k->size, k->attach_size);
                len += k->attach_size;
                msg_header_t h;
                wire_msg_header_get(b + WIRE_MSG_REPLY_SIZE, &h);
                if ((r->option & WIRE_MSG_RPC) && k->from_kernel && h.msg_id == NOTIFY_SEND_ONCE)
                        m.status = RCV_SERVER_DIED;
                kmsg_free(k);
        } else if (status == RCV_TOO_LARGE) {
                m.flags = WIRE_REPLY_RECEIVED;
                msg_header_t h = { .msg_size = needed };
                if (k) {
                        kmsg_copyout_header(k, b + len);
                        kmsg_free(k);
                } else {
                        wire_msg_header_put(b + len, &h);
                }
                len += sizeof(msg_header_t);
        } else {
                kmsg_free(k);
        }
        wire_msg_reply_encode(b, &m);
        frame_end_fds(peer, WIRE_OP_MSG | WIRE_OP_REPLY, r->serial, len, fds, n_fds);
        req_put(r);
}

static void req_on_timeout(evutil_socket_t fd, short what, void *userdata) {
        PeerReq *r = userdata;
        (void)fd;
        (void)what;
        r->timer_armed = false;
        ipc_waiter_cancel(&r->w, r->receiving ? RCV_TIMED_OUT : SEND_TIMED_OUT);
        broker_settle(r->peer->broker);
}

static void req_arm(PeerReq *r, uint32_t ms) {
        struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };
        evtimer_assign(&r->timer, r->peer->broker->base, req_on_timeout, r);
        evtimer_add(&r->timer, &tv);
        r->timer_armed = true;
}

static void req_receive(PeerReq *r) {
        Peer *peer = r->peer;
        SpaceEntry *e = space_lookup(peer->task.space, r->rcv_name);
        if (!e || !(e->bits & (ENTRY_RECEIVE | ENTRY_PORT_SET))) {
                reply_status(r, RCV_INVALID_NAME);
                return;
        }
        Kmsg *k = NULL;
        uint32_t needed = 0;
        r->receiving = true;
        int st = ipc_receive(e->port, &r->w, r->option, r->rcv_timeout, r->rcv_size, &k, &needed);
        if (st == IPC_WAIT) {
                if (r->option & RCV_TIMEOUT)
                        req_arm(r, r->rcv_timeout);
                return;
        }
        reply_received(r, st, k, needed);
}

/**
 * peer_waiter_done() - a wait of one of this task's calls ended; go on with
 * the call (send done: receive, if asked) or answer it
 */
void peer_waiter_done(Waiter *w) {
        PeerReq *r = (PeerReq *)w;
        req_disarm(r);
        Kmsg *k = w->kmsg;
        w->kmsg = NULL;
        if (w->phase == WAITER_SEND) {
                if (w->status != 0)
                        reply_returned(r, w->status, k);
                else if (r->option & WIRE_MSG_RCV)
                        req_receive(r);
                else
                        reply_status(r, 0);
        } else {
                reply_received(r, w->status, k, w->needed);
        }
}

static PeerReq *req_get(Peer *peer) {
        PeerReq *r;
        ListLink *l = list_pop(&peer->free_reqs);
        if (l) {
                r = list_entry(l, PeerReq, link);
        } else {
                if (peer->n_reqs >= PEER_REQS_MAX)
                        return NULL;
                r = malloc(sizeof(*r));
                if (!r)
                        return NULL;
        }
        memset(r, 0, sizeof(*r));
        waiter_init(&r->w, peer->task.space);
        r->peer = peer;
        list_add_tail(&peer->reqs, &r->link);
        peer->n_reqs++;
        return r;
}

/*
 * Would this send surely fail without taking anything (full queue, told
 * not to wait)?  Checked before copy-in so that the caller's message and
 * rights are untouched, as a non-blocking send should leave them.
 */
static int send_precheck(Peer *peer, const uint8_t *msg, uint32_t option, uint32_t timeout) {
        bool nowait = (option & SEND_TIMEOUT) && timeout == 0;
        if (!nowait && !(option & SEND_NOTIFY))
                return 0;
        msg_header_t h;
        wire_msg_header_get(msg, &h);
        SpaceEntry *e = space_lookup(peer->task.space, h.msg_remote_port);
        if (!e || !(e->bits & (ENTRY_SEND | ENTRY_RECEIVE)))
                return 0;       /* copy-in decides */
        uint32_t disp = MSG_BITS_REMOTE(h.msg_bits);
        if (disp == MSG_TYPE_MAKE_SEND_ONCE || disp == MSG_TYPE_MOVE_SEND_ONCE)
                return 0;       /* a send-once message is never refused for room */
        Port *p = e->port;
        if (!p->active || (p->kobject && !p->receiver) || !list_empty(&p->receivers) ||
            !ipc_port_full(p))
                return 0;
        if (option & SEND_NOTIFY)
                return peer->task.space->pending_notify ? SEND_NOTIFY_IN_PROGRESS : 0;
        return SEND_TIMED_OUT;
}

/* Is @fd a connection to this broker (either end)? */
static bool fd_is_ours(const Broker *b, int fd) {
        struct stat st;
        if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))
                return false;
        struct sockaddr_un sa;
        for (int peer = 0; peer < 2; peer++) {
                socklen_t len = sizeof(sa);
                memset(&sa, 0, sizeof(sa));
                int r = peer ? getpeername(fd, (struct sockaddr *)&sa, &len)
                             : getsockname(fd, (struct sockaddr *)&sa, &len);
                if (r == 0 && sa.sun_family == AF_UNIX && len > offsetof(struct sockaddr_un, sun_path) &&
                    strncmp(sa.sun_path, b->socket_path, sizeof(sa.sun_path)) == 0)
                        return true;
        }
        return false;
}

/*
 * A descriptor that is a connection to the broker would keep that
 * connection open from inside the broker's own queues (a task sending its
 * socket to its own port, then exiting, would never be reclaimed by EOF).
 * No task needs to pass one: refused.
 */
static int check_fds_not_ours(const Broker *b, const int *fds, uint32_t n_fds) {
        for (uint32_t i = 0; i < n_fds; i++)
                if (fd_is_ours(b, fds[i]))
                        return SEND_INVALID_MEMORY;
        return 0;
}

/* @fds, @n_fds: the frame's descriptors; taken (consumed or closed). */
static void peer_msg(Peer *peer, uint32_t serial, const uint8_t *body, size_t len, int *fds,
                     uint32_t n_fds) {
        WireMsgReq q;
        if (wire_msg_req_decode(body, len, &q) < 0) {
                connection_close_fds(fds, n_fds);
                peer_kill(peer, "malformed message request");
                return;
        }
        if (n_fds && !(q.option & WIRE_MSG_SEND)) {
                connection_close_fds(fds, n_fds);
                peer_kill(peer, "descriptors with a receive request");
                return;
        }
        PeerReq *r = req_get(peer);
        if (!r) {
                connection_close_fds(fds, n_fds);
                /* Answer without a PeerReq: too many calls in progress. */
                uint8_t *b = frame_body(peer);
                WireMsgReply m = { .status = KERN_RESOURCE_SHORTAGE };
                wire_msg_reply_encode(b, &m);
                frame_end(peer, WIRE_OP_MSG | WIRE_OP_REPLY, serial, WIRE_MSG_REPLY_SIZE);
                return;
        }
        r->serial = serial;
        r->option = q.option;
        r->send_timeout = q.send_timeout;
        r->rcv_name = q.rcv_name;
        r->rcv_size = q.rcv_size;
        r->rcv_timeout = q.rcv_timeout;

        if (!(q.option & WIRE_MSG_SEND)) {
                req_receive(r);
                return;
        }
        const uint8_t *msg = body + WIRE_MSG_REQ_SIZE;
        uint32_t size = (uint32_t)(len - WIRE_MSG_REQ_SIZE), attach = 0;
        /* The message is msg_size bytes; what follows is its attachment. */
        if (size >= sizeof(msg_header_t)) {
                uint32_t msg_size = wire_get_le32(msg);
                if (msg_size >= sizeof(msg_header_t) && msg_size <= size &&
                    size - msg_size <= WIRE_ATTACH_MAX) {
                        attach = size - msg_size;
                        size = msg_size;
                }
        }
        WireMsgInfo info;
        int st = wire_msg_check(msg, size, attach, &info);
        if (st == 0 && info.n_fds != n_fds)
                st = SEND_INVALID_MEMORY;       /* descriptors the items do not account for */
        if (st == 0 && n_fds)
                st = kmsg_check_fds(msg, size, fds, n_fds);
        if (st == 0 && n_fds)
                st = check_fds_not_ours(peer->broker, fds, n_fds);
        if (st == 0 && n_fds && !ipc_fds_room(n_fds))
                st = SEND_NO_BUFFER;
        if (st == 0)
                st = send_precheck(peer, msg, q.option, q.send_timeout);
        Kmsg *k = NULL;
        if (st == 0)
                st = kmsg_copyin(peer->task.space, msg, size, attach, &info, fds, n_fds, &k);
        if (st != 0) {
                connection_close_fds(fds, n_fds);
                reply_status(r, st < 0 ? SEND_NO_BUFFER : st);
                return;
        }
        k->pid = peer->pid;
        k->uid = peer->uid;
        k->gid = peer->gid;
        if (q.option & SEND_NOTIFY) {
                msg_header_t h;
                wire_msg_header_get(msg, &h);
                k->accept_notify = port_ref(peer->task.notify_port);
                k->accept_name = h.msg_remote_port;
        }
        st = ipc_send(k, peer->task.space, q.option, q.send_timeout, &r->w);
        switch (st) {
        case 0:
                if (q.option & WIRE_MSG_RCV)
                        req_receive(r);
                else
                        reply_status(r, 0);
                return;
        case IPC_WAIT:
                if (q.option & SEND_TIMEOUT)
                        req_arm(r, q.send_timeout);
                return;
        case SEND_WILL_NOTIFY:
                reply_status(r, st);
                return;
        default:
                reply_returned(r, st, k);
                return;
        }
}

static void peer_reply_port(Peer *peer, uint32_t serial) {
        Port *p;
        SpaceEntry *e;
        uint32_t status = KERN_SUCCESS, name = 0;
        if (port_new(&p, false) < 0) {
                status = KERN_RESOURCE_SHORTAGE;
        } else {
                int r = space_alloc(peer->task.space, p, ENTRY_RECEIVE, &e);
                if (r != 0) {
                        p->active = false;
                        port_unref(p);
                        status = r == SPACE_E_NO_SPACE ? KERN_NO_SPACE : KERN_RESOURCE_SHORTAGE;
                } else {
                        ipc_port_set_receiver(p, peer->task.space, e->name);
                        name = e->name;
                }
        }
        uint8_t *b = frame_body(peer);
        wire_put_le32(b, status);
        wire_put_le32(b + 4, name);
        frame_end(peer, WIRE_OP_REPLY_PORT | WIRE_OP_REPLY, serial, WIRE_REPLY_PORT_REPLY_SIZE);
}

/* Give @space a send right to @port; returns the name or 0. */
static uint32_t grant_send(Space *space, Port *port) {
        port->n_srights++;
        return kmsg_copyout_right(space, port_ref(port), RIGHT_SEND);
}

static int peer_hello(Peer *peer, uint32_t serial, const uint8_t *body, size_t len) {
        WireHello m;
        WireHelloReply rep = { .major = WIRE_VERSION_MAJOR, .minor = WIRE_VERSION_MINOR };
        int r = wire_hello_decode(body, len, &m);
        if (r == -EPROTONOSUPPORT) {
                rep.status = KERN_FAILURE;
        } else if (r < 0) {
                return -EBADMSG;
        } else {
                Port *kp, *np;
                SpaceEntry *e;
                BrokerConfig *cfg = &peer->broker->config;
                uint64_t max_names = cfg->task_limits.max[ACCT_NAMES];
                if (space_new(&peer->task.space, peer, max_names > SPACE_NAMES_MAX ? SPACE_NAMES_MAX
                                                                             : (uint32_t)max_names) < 0)
                        return -ENOMEM;
                if (account_new(&peer->task.space->acct_task, &cfg->task_limits, peer->uid) < 0)
                        return -ENOMEM;
                peer->task.space->acct_uid = account_ref(peer->acct_uid);
                if (port_new_kobject(&kp, KOBJECT_TASK, &peer->task) < 0)
                        return -ENOMEM;
                peer->task.kernel_port = kp;
                if (port_new(&np, false) < 0)
                        return -ENOMEM;
                if (space_alloc(peer->task.space, np, ENTRY_RECEIVE, &e) != 0) {
                        np->active = false;
                        port_unref(np);
                        return -ENOMEM;
                }
                ipc_port_set_receiver(np, peer->task.space, e->name);
                peer->notify_name = e->name;
                peer->task.notify_port = port_ref(np);
                peer->self_name = grant_send(peer->task.space, kp);
                Port *bp = kobject_bootstrap();
                rep.bootstrap = bp ? grant_send(peer->task.space, bp) : 0;
                if (!peer->self_name)
                        return -ENOMEM;
                rep.task_id = peer->id;
                rep.self = peer->self_name;
                rep.notify = peer->notify_name;
                rep.max_msg_size = MSG_SIZE_MAX;
                peer->ready = true;
        }
        evtimer_del(&peer->ev_hello);
        uint8_t *b = frame_body(peer);
        wire_hello_reply_encode(b, &rep);
        frame_end(peer, WIRE_OP_HELLO | WIRE_OP_REPLY, serial, WIRE_HELLO_REPLY_SIZE);
        if (!peer->ready)
                peer_kill(peer, "unsupported protocol version");
        else
                log_debug("task %u: pid %d uid %u connected", peer->id, (int)peer->pid,
                          (unsigned)peer->uid);
        return 0;
}

static void peer_dispatch(Peer *peer, const uint8_t *frame, size_t len, int *fds, uint32_t n_fds) {
        WireHeader h;
        if (wire_header_decode(frame, len, &h) < 0) {
                connection_close_fds(fds, n_fds);
                peer_kill(peer, "malformed frame");
                return;
        }
        const uint8_t *body = frame + WIRE_HDR_SIZE;
        size_t blen = len - WIRE_HDR_SIZE;
        if (h.op == WIRE_OP_MSG && peer->ready) {
                peer_msg(peer, h.serial, body, blen, fds, n_fds);
                return;
        }
        if (n_fds) {
                /* Only message requests carry descriptors. */
                connection_close_fds(fds, n_fds);
                peer_kill(peer, "descriptors nobody declared");
                return;
        }
        if (!peer->ready) {
                if (h.op != WIRE_OP_HELLO || peer_hello(peer, h.serial, body, blen) < 0)
                        peer_kill(peer, "bad handshake");
                return;
        }
        switch (h.op) {
        case WIRE_OP_REPLY_PORT:
                if (blen != 0)
                        peer_kill(peer, "malformed reply-port request");
                else
                        peer_reply_port(peer, h.serial);
                break;
        default:
                peer_kill(peer, "unknown request");
                break;
        }
}

/* Frames handled per wake-up before others get a turn. */
#define PEER_READ_BATCH 32

static void peer_on_read(evutil_socket_t fd, short what, void *userdata) {
        Peer *peer = userdata;
        Broker *b = peer->broker;
        (void)fd;
        (void)what;
        for (int i = 0; i < PEER_READ_BATCH && !peer->dead; i++) {
                size_t len;
                int fds[WIRE_FDS_MAX];
                uint32_t n_fds = 0;
                int r = connection_read(&peer->conn, b->rx, WIRE_FRAME_MAX, &len, fds, WIRE_FDS_MAX, &n_fds);
                if (r == CONNECTION_E_AGAIN)
                        break;
                if (r == CONNECTION_E_EOF)
                        peer_kill(peer, "disconnected");
                else if (r == CONNECTION_E_PROTOCOL)
                        peer_kill(peer, "oversized frame or too many descriptors");
                else if (r < 0)
                        peer_kill(peer, "read error");
                else
                        peer_dispatch(peer, b->rx, len, fds, n_fds);
        }
        /* Only now: settling may free this peer. */
        broker_settle(b);
}
