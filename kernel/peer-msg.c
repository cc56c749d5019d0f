/* SPDX-License-Identifier: MIT */
/*
 * peer-msg.c - a task's message requests: send, then receive, either of
 * which may wait
 *
 * Every OP_MSG request becomes a PeerReq (from a per-task free list, so a
 * steady stream of calls allocates nothing).  Waits end through the
 * engine's done list or the request's timer, and the outcome becomes the
 * reply frame: a status, the caller's own message given back, or a
 * message received.  Bad messages are answered with a status code; only a
 * malformed request is a protocol violation.
 */

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "async/credit.h"
#include "async/lend.h"
#include "broker.h"
#include "ipc/ipc.h"
#include "ipc/kmsg.h"
#include "ipc/origin.h"
#include "ipc/port.h"
#include "ipc/space.h"
#include "origin.h"
#include "peer.h"
#include "util/log.h"
#include "wire.h"

static void req_disarm(PeerReq *r) {
        if (r->timer_armed) {
                evtimer_del(&r->timer);
                r->timer_armed = false;
        }
}

/* peer_reqs_free() - forget every call of a task that is going away. */
void peer_reqs_free(Peer *peer) {
        ListLink *l;
        while ((l = list_pop(&peer->reqs))) {
                PeerReq *r = list_entry(l, PeerReq, link);
                req_disarm(r);
                ipc_waiter_abort(&r->w);
                free(r);
        }
        while ((l = list_pop(&peer->free_reqs)))
                free(list_entry(l, PeerReq, link));
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
        uint8_t *b = peer_frame_body(peer);
        WireMsgReply m = { .status = (uint32_t)status, .credit = r->credit };
        wire_msg_reply_encode(b, &m);
        peer_frame_end(peer, WIRE_OP_MSG | WIRE_OP_REPLY, r->serial, WIRE_MSG_REPLY_SIZE, NULL, 0);
        req_put(r);
}

/* Give the sender its message back (pseudo-receive) with @status. */
static void reply_returned(PeerReq *r, int status, Kmsg *k) {
        Peer *peer = r->peer;
        uint8_t *b = peer_frame_body(peer);
        WireMsgReply m = { .status = (uint32_t)status, .flags = WIRE_REPLY_RETURNED };
        wire_msg_reply_encode(b, &m);
        kmsg_copyout_returned(peer->task.space, k, b + WIRE_MSG_REPLY_SIZE);
        size_t len = WIRE_MSG_REPLY_SIZE + k->size;
        kmsg_free(k);
        peer_frame_end(peer, WIRE_OP_MSG | WIRE_OP_REPLY, r->serial, len, NULL, 0);
        req_put(r);
}

/* Answer a receive: the message, or the header of one too large, or a status. */
static void reply_received(PeerReq *r, int status, Kmsg *k, uint32_t needed) {
        Peer *peer = r->peer;
        uint8_t *b = peer_frame_body(peer);
        bool got = status == 0 && k;
        /* A receive of many: what it lends after this message, counted in the reply. */
        Kmsg *more[LEND_MANY_MAX];
        uint32_t n_more = 0;
        if (got && r->lend && peer->minor >= 1) {
                SpaceEntry *e = space_lookup(peer->task.space, r->rcv_name);
                if (e && (e->bits & ENTRY_RECEIVE))
                        n_more = lend_take_many(peer, e->port, r->lend, more);
        }
        WireMsgReply m = { .status = (uint32_t)status, .credit = WIRE_REPLY_EXTRA(r->credit, n_more) };
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
                if (k->origin && peer->minor >= 2) {
                        /* Relayed from another host: where from, after the attachment. */
                        m.flags |= WIRE_REPLY_REMOTE;
                        origin_encode(k->origin, b + len);
                        len += WIRE_ORIGIN_SIZE;
                }
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
        peer_frame_end(peer, WIRE_OP_MSG | WIRE_OP_REPLY, r->serial, len, fds, n_fds);
        if (n_more)
                lend_push_many(peer, more, n_more, r->rcv_name);
        /* A real receive took what an arm could not lend, or found it gone (its port left the
         * set, died, or it was taken): the arm goes on, and says again if it stalls again. */
        if (peer->minor >= 1 && (status == 0 || status == RCV_TOO_LARGE || status == RCV_TIMED_OUT))
                lend_resume(peer, r->rcv_name);
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
        r->w.done = peer_waiter_done;
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

/* The message (msg_size bytes) and what follows it in the frame: its attachment. */
static void split_attachment(const uint8_t *msg, uint32_t total, uint32_t *sizep, uint32_t *attachp) {
        *sizep = total;
        *attachp = 0;
        if (total >= sizeof(msg_header_t)) {
                uint32_t msg_size = wire_get_le32(msg);
                if (msg_size >= sizeof(msg_header_t) && msg_size <= total && total - msg_size <= WIRE_ATTACH_MAX) {
                        *attachp = total - msg_size;
                        *sizep = msg_size;
                }
        }
}

/*
 * A receive right this message moves must have nothing on loan to the task:
 * what is lent goes back to the queue first, to travel with the port.  (The
 * library told the broker what it took before sending this.)
 */
static void give_back_moved(Peer *peer, const uint8_t *msg, uint32_t size) {
        WireItemIter it;
        WireItem item;
        wire_item_iter_init(&it, msg, size);
        while (wire_item_next(&it, &item)) {
                if (item.name != MSG_TYPE_MOVE_RECEIVE)
                        continue;
                for (uint32_t j = 0; j < item.number && item.offset + 4ull * (j + 1) <= size; j++) {
                        SpaceEntry *e = space_lookup(peer->task.space, wire_get_le32(msg + item.offset + 4 * j));
                        if (e && (e->bits & ENTRY_RECEIVE) && e->port->n_lent)
                                lend_give_back_port(peer, e->port);
                }
        }
}

/**
 * peer_msg_one_way() - a send with credit: no reply, ever
 *
 * Only a send (no receive, no options, no descriptors, no extra) may go one
 * way; anything else, or a send past the task's credit, drops the task.
 */
void peer_msg_one_way(Peer *peer, const uint8_t *body, size_t len, int *fds, uint32_t n_fds) {
        WireMsgReq q;
        if (n_fds || wire_msg_req_decode(body, len, &q) < 0 || q.option != WIRE_MSG_SEND || q.extra) {
                connection_close_fds(fds, n_fds);
                peer_kill(peer, "malformed one-way send");
                return;
        }
        const uint8_t *msg = body + WIRE_MSG_REQ_SIZE;
        uint32_t size, attach;
        split_attachment(msg, (uint32_t)(len - WIRE_MSG_REQ_SIZE), &size, &attach);
        if (credit_send(peer, msg, size, attach) < 0)
                peer_kill(peer, "a one-way send without credit, or one that may not go one way");
}

/* @fds, @n_fds: the frame's descriptors; taken (consumed or closed). */
void peer_msg(Peer *peer, uint32_t serial, const uint8_t *body, size_t len, int *fds,
                     uint32_t n_fds) {
        WireMsgReq q;
        if (wire_msg_req_decode(body, len, &q) < 0 ||
            (peer->minor < 1 && (q.extra || (q.option & WIRE_MSG_MANY))) ||
            ((q.option & WIRE_MSG_ORIGIN) &&
             (peer->minor < 2 || !(q.option & WIRE_MSG_SEND) || len < WIRE_MSG_REQ_SIZE + 4))) {
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
                uint8_t *b = peer_frame_body(peer);
                WireMsgReply m = { .status = KERN_RESOURCE_SHORTAGE };
                wire_msg_reply_encode(b, &m);
                peer_frame_end(peer, WIRE_OP_MSG | WIRE_OP_REPLY, serial, WIRE_MSG_REPLY_SIZE, NULL, 0);
                return;
        }
        r->serial = serial;
        r->option = q.option;
        r->send_timeout = q.send_timeout;
        r->rcv_name = q.rcv_name;
        r->rcv_size = q.rcv_size;
        r->rcv_timeout = q.rcv_timeout;
        r->lend = WIRE_EXTRA_LEND(q.extra);

        if (!(q.option & WIRE_MSG_SEND)) {
                req_receive(r);
                return;
        }
        const uint8_t *msg = body + WIRE_MSG_REQ_SIZE;
        size_t msg_len = len - WIRE_MSG_REQ_SIZE;
        Origin *origin = NULL;
        if (q.option & WIRE_MSG_ORIGIN) {
                /* Relayed from another host: the origin the relay made for it, named first. */
                origin = peer_origin_find(peer, wire_get_le32(msg));
                msg += 4;
                msg_len -= 4;
                if (!origin) {
                        connection_close_fds(fds, n_fds);
                        reply_status(r, KERN_INVALID_NAME);
                        return;
                }
        }
        uint32_t size, attach;
        split_attachment(msg, (uint32_t)msg_len, &size, &attach);
        /* Credit the task gives back for the destination, before the send needs the room. */
        if (WIRE_EXTRA_CREDIT_BACK(q.extra) && size >= sizeof(msg_header_t) &&
            credit_give_back(peer, wire_get_le32(msg + offsetof(msg_header_t, msg_remote_port)),
                             WIRE_EXTRA_CREDIT_BACK(q.extra)) < 0) {
                connection_close_fds(fds, n_fds);
                req_put(r);
                peer_kill(peer, "gave back credit it did not hold");
                return;
        }
        /* Whatever becomes of the send: the library forgot these already. */
        if (peer->n_lent)
                give_back_moved(peer, msg, size);
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
        if (origin) {
                /* Its sender is not a local process: no pid, no uid or gid to trust. */
                k->origin = origin_ref(origin);
                k->pid = 0;
                k->uid = k->gid = WIRE_ORIGIN_NOBODY;
        } else {
                k->pid = peer->pid;
                k->uid = peer->uid;
                k->gid = peer->gid;
        }
        if (q.option & SEND_NOTIFY) {
                msg_header_t h;
                wire_msg_header_get(msg, &h);
                k->accept_notify = port_ref(peer->task.notify_port);
                k->accept_name = h.msg_remote_port;
        }
        /* What credit needs to know of the destination, before the engine owns the message. */
        Port *dest = port_ref(k->dest);
        uint8_t dest_kind = k->dest_kind, dest_disp = k->dest_disp;
        uint32_t dest_name = wire_get_le32(msg + offsetof(msg_header_t, msg_remote_port));
        st = ipc_send(k, peer->task.space, q.option, q.send_timeout, &r->w);
        /* Only a lone send earns credit (its reply goes now, so no revocation can come
         * between), and only one that could itself have gone one way. */
        bool plain = !info.n_rights && !info.n_fds && !info.local_disp && size + attach <= WIRE_ONE_WAY_MAX;
        if (st == 0 && plain && !(q.option & WIRE_MSG_RCV))
                r->credit = credit_after_send(peer, dest, dest_kind, dest_disp, dest_name);
        port_unref(dest);
        switch (st) {
        case 0:
                if (q.option & WIRE_MSG_RCV)
                        req_receive(r);
                else
                        /* Answered once the broker settles: a receiver waiting for this
                         * message hears first, the sender's answer is not as urgent. */
                        ipc_waiter_finish(&r->w, WAITER_SEND, 0);
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

