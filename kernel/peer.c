/* SPDX-License-Identifier: MIT */
/*
 * peer.c - one task: its connection, its handshake, its frames, its end
 *
 * Reads the task's frames (at most PEER_READ_BATCH per wake-up) and hands
 * each to its handler: message requests to peer-msg.c, ARM and LENT (and a
 * request's LENT prefix) to kernel/async, the rest here.  Writes go through
 * the connection's bounded output queue: a task that stops reading is
 * dropped.  A task whose socket stops taking writes, or whose process is
 * gone (its pidfd), still has everything it wrote read first — a one-way
 * send returned SEND_SUCCESS when it was written — then it ends, and the
 * broker reclaims everything it held.
 *
 * Protocol violations (bad frames, unknown ops, a second handshake, frames
 * of a protocol minor it did not negotiate) drop the task; bad messages
 * are answered with a status code.
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
#include "async/async.h"
#include "async/lend.h"
#include "broker.h"
#include "ipc/ipc.h"
#include "ipc/kmsg.h"
#include "kobject/bootstrap.h"
#include "kobject/kobject.h"
#include "origin.h"
#include "peer.h"
#include "ipc/port.h"
#include "kobject/semaphore.h"
#include "ipc/space.h"
#include "util/log.h"
#include "wire.h"

static void peer_on_read(evutil_socket_t fd, short what, void *userdata);
static void peer_on_write(evutil_socket_t fd, short what, void *userdata);

/* Frames read at a time from a task whose process is gone (all of them, in turns). */
#define PEER_GONE_BATCH 256

static int peer_read_some(Peer *peer, int max);
static void peer_mute(Peer *peer);

static void peer_on_gone(evutil_socket_t fd, short what, void *userdata) {
        Peer *peer = userdata;
        (void)fd;
        (void)what;
        /* What it wrote before it died still counts: read it all first (its
         * socket is closed, so there is an end). */
        peer_mute(peer);
        while (!peer->dead && peer_read_some(peer, PEER_GONE_BATCH) == PEER_GONE_BATCH)
                ;
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
        list_init(&p->arms);
        list_init(&p->lents);
        list_init(&p->credits);
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
        peer_reqs_free(peer);
        peer_origins_free(peer);
        /* What it was lent goes back to its ports before those die with it. */
        if (peer->task.space)
                async_peer_end(peer);
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

/*
 * Its socket takes no more writes (the task closed it, or died): drop what
 * is queued for it, and keep reading until the end of what it wrote — a
 * one-way send returned SEND_SUCCESS when it was written, so it counts.
 */
static void peer_mute(Peer *peer) {
        peer->mute = true;
        connection_drop_output(&peer->conn);
        if (event_initialized(&peer->ev_write))
                event_del(&peer->ev_write);
        if (event_initialized(&peer->ev_read))
                event_active(&peer->ev_read, EV_READ, 0);
}

/* Send the frame at @frame, with @fds (taken). */
static void peer_write(Peer *peer, const uint8_t *frame, size_t len, int *fds, uint32_t n_fds) {
        if (peer->dead || peer->mute) {
                connection_close_fds(fds, n_fds);
                return;
        }
        int r = connection_write(&peer->conn, frame, len, fds, n_fds);
        if (r == CONNECTION_E_OVERFLOW) {
                peer_kill(peer, "stopped reading its socket, dropped");
                return;
        }
        if (r < 0) {
                peer_mute(peer);
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
                peer_mute(peer);
        else if (!connection_pending(&peer->conn))
                event_del(&peer->ev_write);
        broker_settle(peer->broker);
}

/* peer_frame_body() - where a frame's body goes: the broker's one outgoing frame, after its header. */
uint8_t *peer_frame_body(Peer *peer) {
        return peer->broker->tx + WIRE_HDR_SIZE;
}

/**
 * peer_frame_end() - send the frame whose body was written at peer_frame_body()
 * @body: bytes of body
 * @fds, @n_fds: descriptors to go with it (taken)
 */
void peer_frame_end(Peer *peer, uint16_t op, uint32_t serial, size_t body, int *fds, uint32_t n_fds) {
        WireHeader h = { .size = (uint32_t)(WIRE_HDR_SIZE + body), .op = op, .serial = serial };
        wire_header_encode(peer->broker->tx, &h);
        peer_write(peer, peer->broker->tx, WIRE_HDR_SIZE + body, fds, n_fds);
}

/**
 * peer_event() - tell the task something of the broker's own accord (a
 * small WIRE_OP_EVENT frame)
 *
 * Built apart from the broker's frame buffer: it may be called while a
 * reply is being built there (a port dying during a copy-out, say).
 */
void peer_event(Peer *peer, uint32_t type, uint32_t a, uint32_t b) {
        uint8_t frame[WIRE_HDR_SIZE + WIRE_EVENT_SIZE];
        WireHeader h = { .size = sizeof(frame), .op = WIRE_OP_EVENT | WIRE_OP_REPLY, .serial = 0 };
        WireEvent e = { .type = type, .a = a, .b = b };
        wire_header_encode(frame, &h);
        wire_event_encode(frame + WIRE_HDR_SIZE, &e);
        peer_write(peer, frame, sizeof(frame), NULL, 0);
}

/* peer_send() - write a whole frame built elsewhere (it carries no descriptors). */
void peer_send(Peer *peer, const uint8_t *frame, size_t len) {
        peer_write(peer, frame, len, NULL, 0);
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
        uint8_t *b = peer_frame_body(peer);
        wire_put_le32(b, status);
        wire_put_le32(b + 4, name);
        peer_frame_end(peer, WIRE_OP_REPLY_PORT | WIRE_OP_REPLY, serial, WIRE_REPLY_PORT_REPLY_SIZE, NULL, 0);
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
        peer->minor = r < 0 ? 0 : m.minor < WIRE_VERSION_MINOR ? m.minor : WIRE_VERSION_MINOR;
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
        uint8_t *b = peer_frame_body(peer);
        wire_hello_reply_encode(b, &rep);
        peer_frame_end(peer, WIRE_OP_HELLO | WIRE_OP_REPLY, serial, WIRE_HELLO_REPLY_SIZE, NULL, 0);
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
        /* One way (no reply): only a send with credit, and LENT; both 1.1. */
        bool one_way = h.flags & WIRE_FLAG_ONE_WAY;
        if (h.flags & WIRE_FLAG_LENT) {
                /* 1.1: a request that first says what the task took (and gives back). */
                size_t used = 0;
                if (!peer->ready || one_way || h.op == WIRE_OP_LENT ||
                    async_lent_body(peer, body, blen, &used) < 0) {
                        connection_close_fds(fds, n_fds);
                        peer_kill(peer, "malformed lent prefix");
                        return;
                }
                body += used;
                blen -= used;
        }
        if (one_way) {
                peer->one_way++;
                peer->broker->one_way++;
        } else {
                peer->requests++;
                peer->broker->requests++;
        }
        if (one_way && (!peer->ready || peer->minor < 1 || (h.op != WIRE_OP_MSG && h.op != WIRE_OP_LENT))) {
                connection_close_fds(fds, n_fds);
                peer_kill(peer, "a one-way frame it may not send");
                return;
        }
        if (h.op == WIRE_OP_MSG && peer->ready) {
                if (one_way)
                        peer_msg_one_way(peer, body, blen, fds, n_fds);
                else
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
        case WIRE_OP_ARM:
                if (blen != WIRE_ARM_SIZE || peer->minor < 1) {
                        peer_kill(peer, "malformed arm request");
                } else {
                        int st = lend_arm(peer, wire_get_le32(body), wire_get_le32(body + 4));
                        uint8_t *b = peer_frame_body(peer);
                        wire_put_le32(b, (uint32_t)st);
                        wire_put_le32(b + 4, 0);
                        peer_frame_end(peer, WIRE_OP_ARM | WIRE_OP_REPLY, h.serial, WIRE_ARM_REPLY_SIZE, NULL,
                                       0);
                }
                break;
        case WIRE_OP_LENT: {
                size_t used = 0;
                if (!one_way || async_lent_body(peer, body, blen, &used) < 0 || used != blen)
                        peer_kill(peer, "malformed lent frame");
                break;
        }
        default:
                peer_kill(peer, "unknown request");
                break;
        }
}

/* Frames handled per wake-up before others get a turn. */
#define PEER_READ_BATCH 32

/* Read and handle up to @max frames; returns how many were handled. */
static int peer_read_some(Peer *peer, int max) {
        Broker *b = peer->broker;
        int i = 0;
        for (; i < max && !peer->dead; i++) {
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
        return i;
}

static void peer_on_read(evutil_socket_t fd, short what, void *userdata) {
        Peer *peer = userdata;
        Broker *b = peer->broker;
        (void)fd;
        (void)what;
        peer_read_some(peer, PEER_READ_BATCH);
        /* Only now: settling may free this peer. */
        broker_settle(b);
}

