/* SPDX-License-Identifier: MIT */
/*
 * msg.c - msg_send, msg_receive, msg_rpc: one broker request each
 *
 * The message goes to the broker straight from the caller's buffer, and a
 * received message comes straight back into it (conn.c copies it there), so
 * a call costs one request frame and one reply frame and no allocation.
 * msg_rpc() uses the thread's reply port unless told otherwise; if a
 * receive on it fails, that port is thrown away and a fresh one made on the
 * next call, so a late reply can never be taken for the answer to a later
 * request.
 */

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "internal.h"
#include "kcall.h"

/* Messages a receive asks the broker to lend after the one it returns (the
 * broker's most, LEND_MANY_MAX): a receiver behind a stream then asks once
 * per 65 messages. */
#define MSG_RECEIVE_MANY 64u

static __thread port_t tls_reply_port;
static __thread uint32_t tls_reply_gen;
static __thread msg_sender_t tls_sender;
static __thread uint8_t *tls_attach;   /* received inline regions land here first */
static __thread bool tls_sender_valid;
static __thread msg_origin_t tls_origin;        /* of the last message, if relayed from another host */
static __thread bool tls_origin_valid;
static __thread bool tls_flush_lent;    /* the next request tells the broker what was taken first */
static __thread port_t tls_leaving;     /* and leaves this name (msg_leave_next()) */

static pthread_key_t reply_key;
static pthread_once_t reply_once = PTHREAD_ONCE_INIT;

/* At thread exit its reply port goes back, so threads do not leak ports. */
static void reply_port_destructor(void *value) {
        port_t name = (port_t)(uintptr_t)value;
        if (name && tls_reply_gen == conn_generation()) {
                uint32_t args[1] = { name };
                kcall_simple(conn_self(), KCALL_PORT_DEALLOCATE, args, 1);
        }
}

static pthread_key_t attach_key;

/*
 * Each thread's landing buffer for inline regions, on one list: the child
 * of fork() has only the thread that forked, and frees the others' (they
 * would otherwise be unreachable: their pointers lived in threads that do
 * not exist there).
 */
typedef struct AttachBuf {
        struct AttachBuf *prev, *next;
        uint8_t data[WIRE_ATTACH_MAX];
} AttachBuf;

static pthread_mutex_t attach_lock = PTHREAD_MUTEX_INITIALIZER;
static AttachBuf *attach_bufs;

static uint8_t *attach_new(void) {
        AttachBuf *b = malloc(sizeof(*b));
        if (!b)
                return NULL;
        pthread_mutex_lock(&attach_lock);
        b->prev = NULL;
        b->next = attach_bufs;
        if (attach_bufs)
                attach_bufs->prev = b;
        attach_bufs = b;
        pthread_mutex_unlock(&attach_lock);
        return b->data;
}

static void attach_unlink(AttachBuf *b) {
        if (b->prev)
                b->prev->next = b->next;
        else
                attach_bufs = b->next;
        if (b->next)
                b->next->prev = b->prev;
}

static void attach_destructor(void *value) {
        AttachBuf *b = (AttachBuf *)((uint8_t *)value - offsetof(AttachBuf, data));
        pthread_mutex_lock(&attach_lock);
        attach_unlink(b);
        pthread_mutex_unlock(&attach_lock);
        free(b);
        tls_attach = NULL;
}

/* msg_atfork_child() - in the child of fork(): the buffers of the threads that did not come along go. */
void msg_atfork_child(void) {
        pthread_mutex_init(&attach_lock, NULL);
        for (AttachBuf *b = attach_bufs, *next; b; b = next) {
                next = b->next;
                if (b->data == tls_attach)
                        continue;
                attach_unlink(b);
                free(b);
        }
}

static void reply_key_create(void) {
        pthread_key_create(&reply_key, reply_port_destructor);
        pthread_key_create(&attach_key, attach_destructor);
}

port_t mach_reply_port(void) {
        if (conn_ensure() < 0)
                return PORT_NULL;
        if (tls_reply_port && tls_reply_gen == conn_generation())
                return tls_reply_port;
        Call c = { 0 };
        if (conn_call(&c, WIRE_OP_REPLY_PORT, NULL, 0, NULL, 0) < 0 || c.words[0] != 0)
                return PORT_NULL;
        pthread_once(&reply_once, reply_key_create);
        tls_reply_port = c.words[1];
        tls_reply_gen = conn_generation();
        pthread_setspecific(reply_key, (void *)(uintptr_t)tls_reply_port);
        return tls_reply_port;
}

/* Forget the thread's reply port (a reply may still be on its way to it). */
static void reply_port_discard(port_t name) {
        if (name != tls_reply_port)
                return;
        uint32_t args[1] = { name };
        tls_reply_port = PORT_NULL;
        pthread_setspecific(reply_key, NULL);
        kcall_simple(conn_self(), KCALL_PORT_DEALLOCATE, args, 1);
}

void msg_set_sender(const WireMsgReply *rep, const WireOrigin *origin) {
        tls_sender.pid = rep->pid;
        tls_sender.uid = rep->uid;
        tls_sender.gid = rep->gid;
        tls_sender.flags = (rep->flags & WIRE_REPLY_KERNEL) ? MSG_SENDER_KERNEL : 0;
        tls_sender_valid = true;
        tls_origin_valid = origin != NULL;
        if (origin) {
                tls_sender.flags |= MSG_SENDER_REMOTE;
                memset(&tls_origin, 0, sizeof(tls_origin));
                snprintf(tls_origin.host, sizeof(tls_origin.host), "%.*s", MSG_ORIGIN_NAME_MAX, origin->host);
                snprintf(tls_origin.identity, sizeof(tls_origin.identity), "%.*s", MSG_ORIGIN_NAME_MAX, origin->identity);
                tls_origin.relay_pid = origin->relay_pid;
                tls_origin.relay_uid = origin->relay_uid;
        }
}

int msg_last_origin(msg_origin_t *origin) {
        if (!origin)
                return -EINVAL;
        if (!tls_sender_valid)
                return -ENOENT;
        if (!tls_origin_valid)
                return -ENODATA;
        *origin = tls_origin;
        return 0;
}

int msg_last_sender(msg_sender_t *sender) {
        if (!sender)
                return -EINVAL;
        if (!tls_sender_valid)
                return -ENOENT;
        *sender = tls_sender;
        return 0;
}

static bool debug_enabled(void) {
        static int enabled = -1;
        if (enabled < 0) {
                const char *e = getenv("MACHIPC_DEBUG");
                enabled = e && *e && strcmp(e, "0") != 0;
        }
        return enabled;
}

/*
 * MACHIPC_DEBUG=1: one line per call on stderr.  A call that sends is
 * traced by the message it sent (@req, copied before the call, since the
 * buffer then holds what came back), and by what it received, if anything.
 */
static void debug_trace(const char *what, const msg_header_t *req, const msg_header_t *got,
                        int status) {
        char in[128] = "";
        if (got)
                snprintf(in, sizeof(in), "; received id=%d size=%u local=%#x remote=%#x bits=%#x",
                         got->msg_id, got->msg_size, got->msg_local_port, got->msg_remote_port,
                         got->msg_bits);
        if (req)
                fprintf(stderr, "[machipc %u] %s id=%d size=%u remote=%#x local=%#x bits=%#x -> %s%s\n",
                        machipc_task_id(), what, req->msg_id, req->msg_size, req->msg_remote_port,
                        req->msg_local_port, req->msg_bits, machipc_strerror(status), in);
        else
                fprintf(stderr, "[machipc %u] %s -> %s%s\n", machipc_task_id(), what,
                        machipc_strerror(status), in);
}

/* Did a call with @status bring a message back in the buffer? */
static bool received(int status) {
        return status == 0 || status == RCV_SERVER_DIED;
}

/* msg_flush_lent_next() - the calling thread's next request must first tell
 * the broker what this task took of the messages handed ahead. */
void msg_flush_lent_next(void) {
        tls_flush_lent = true;
}

/*
 * msg_leave_next() - the calling thread's next request moves, destroys or
 * re-sets @name's receive right (a kernel call): what was lent of it goes
 * back when the broker serves it, so what was taken is told first and the
 * rest forgotten (async_leaving()) until its reply.
 */
void msg_leave_next(port_t name) {
        async_leaving(name);
        tls_flush_lent = true;
        tls_leaving = name;
}

/*
 * Receive rights this message moves leave with what the broker lent of
 * them (it gives that back itself): forget it here, and tell the broker
 * first what was taken.  Send rights it moves may be our last: their
 * credit goes back.  Returns how many receive rights move; their names in
 * *@names (allocated) when any.
 */
static uint32_t before_moves(const msg_header_t *h, port_t **names) {
        uint32_t n = 0, cap = 0;
        *names = NULL;
        if (MSG_BITS_REMOTE(h->msg_bits) == MSG_TYPE_MOVE_SEND)
                async_credit_forget(h->msg_remote_port);
        WireItemIter it;
        WireItem item;
        wire_item_iter_init(&it, (const uint8_t *)h, h->msg_size);
        while (wire_item_next(&it, &item)) {
                if (item.name != MSG_TYPE_MOVE_RECEIVE && item.name != MSG_TYPE_MOVE_SEND)
                        continue;
                for (uint32_t j = 0; j < item.number && item.offset + 4 * (j + 1) <= h->msg_size; j++) {
                        port_t name;
                        memcpy(&name, (const uint8_t *)h + item.offset + 4 * j, 4);
                        if (item.name == MSG_TYPE_MOVE_SEND) {
                                async_credit_forget(name);
                                continue;
                        }
                        if (name == PORT_NULL || name == PORT_DEAD)
                                continue;
                        async_leaving(name);
                        if (n == cap) {
                                cap = cap ? 2 * cap : 4;
                                port_t *p = realloc(*names, cap * sizeof(*p));
                                if (!p)
                                        continue;       /* its pushes are dropped until a later reply */
                                *names = p;
                        }
                        (*names)[n++] = name;
                }
        }
        return n;
}

/*
 * The one primitive: send @h (if WIRE_MSG_SEND) and/or receive into @h
 * (buffer of @buf_size bytes) from @rcv_name.
 */
static msg_return_t msg_call_from(msg_header_t *h, uint32_t wopt, size_t buf_size, port_t rcv_name,
                                  uint32_t rcv_size, msg_timeout_t send_to, msg_timeout_t rcv_to,
                                  uint32_t origin) {
        uint8_t req[WIRE_MSG_REQ_SIZE + 4];     /* the request, then the origin id (WIRE_MSG_ORIGIN) */
        struct iovec iov[3];
        int n = 1;
        WireMsgReq q = {
                .option = wopt,
                .send_timeout = send_to,
                .rcv_name = rcv_name,
                .rcv_size = rcv_size,
                .rcv_timeout = rcv_to,
        };
        OolPlan plan;
        plan.wire = plan.attach = NULL;
        plan.n = plan.n_fds = plan.attach_len = 0;
        if (wopt & WIRE_MSG_SEND) {
                int pr = h->msg_size < sizeof(*h) ? SEND_MSG_TOO_SMALL
                       : h->msg_size > MSG_SIZE_MAX ? SEND_TOO_LARGE : ool_prepare(h, &plan);
                if (pr != 0)
                        return pr;
                iov[1].iov_base = plan.wire ? (void *)plan.wire : (void *)h;
                iov[1].iov_len = h->msg_size;
                n = 2;
        }
        /* From here the request goes, and with it what the thread was told to say. */
        bool lent = tls_flush_lent;
        tls_flush_lent = false;
        port_t one_leaving = tls_leaving, *leaving = NULL;
        uint32_t n_leaving = 0;
        tls_leaving = PORT_NULL;
        port_t dest = h->msg_remote_port;
        if (wopt & WIRE_MSG_SEND) {
                if ((n_leaving = before_moves(h, &leaving)))
                        lent = true;
                /* Our unused credit for the destination goes back with this send, so
                 * the broker counts the one-way sends made before it. */
                q.extra = WIRE_EXTRA(async_credit_take(dest), 0);
        }
        if (one_leaving && !n_leaving) {
                leaving = &one_leaving;
                n_leaving = 1;
        }
        if (wopt & WIRE_MSG_MANY)
                q.extra |= WIRE_EXTRA(0, MSG_RECEIVE_MANY);
        if (origin) {
                q.option |= WIRE_MSG_ORIGIN;
                wire_put_le32(req + WIRE_MSG_REQ_SIZE, origin);
        }
        wire_msg_req_encode(req, &q);
        iov[0].iov_base = req;
        iov[0].iov_len = WIRE_MSG_REQ_SIZE + (origin ? 4 : 0);
        if ((wopt & WIRE_MSG_RCV) && !tls_attach) {
                /* Kept for the thread's life, freed when it exits. */
                pthread_once(&reply_once, reply_key_create);
                tls_attach = attach_new();
                if (tls_attach)
                        pthread_setspecific(attach_key, tls_attach);
        }
        if (plan.attach_len) {
                iov[n].iov_base = plan.attach;
                iov[n].iov_len = plan.attach_len;
                n++;
        }
        Call c = { .buf = (uint8_t *)h, .buf_size = buf_size, .attach = tls_attach, .lent = lent,
                   .rcv_name = (wopt & WIRE_MSG_MANY) ? rcv_name : PORT_NULL,
                   .leaving = leaving, .n_leaving = n_leaving };
        int r = conn_call(&c, WIRE_OP_MSG, iov, n, plan.fds, plan.n_fds);
        if (leaving != &one_leaving)
                free(leaving);
        if (r < 0) {
                ool_finish(&plan, false);
                for (uint32_t i = 0; i < c.n_fds; i++)
                        close(c.fds[i]);
                return r;
        }
        if (wopt & WIRE_MSG_SEND)
                async_credit_add(dest, WIRE_REPLY_CREDIT(c.reply.credit));
        msg_return_t status = (msg_return_t)c.reply.status;
        /* Did the send part happen?  A receive code means it did. */
        bool sent = status == 0 || status == SEND_WILL_NOTIFY || msg_code_is_receive(status);
        if (plan.wire) {
                if (c.reply.flags & WIRE_REPLY_RETURNED)
                        ool_restore(&plan, h);
                ool_finish(&plan, sent);
        }
        if ((c.reply.flags & WIRE_REPLY_RECEIVED) && (status == 0 || status == RCV_SERVER_DIED)) {
                msg_set_sender(&c.reply, c.has_origin ? &c.origin : NULL);
                int br = ool_receive(h, buf_size, c.fds, c.n_fds, c.attach, c.attach_len);
                if (br && status == 0)
                        status = br;
        } else {
                /* On RCV_TOO_LARGE only the header came: msg_size is the size needed. */
                for (uint32_t i = 0; i < c.n_fds; i++)
                        close(c.fds[i]);
        }
        return status;
}

static msg_return_t msg_call(msg_header_t *h, uint32_t wopt, size_t buf_size, port_t rcv_name,
                             uint32_t rcv_size, msg_timeout_t send_to, msg_timeout_t rcv_to) {
        return msg_call_from(h, wopt, buf_size, rcv_name, rcv_size, send_to, rcv_to, 0);
}

msg_return_t msg_send_from(msg_header_t *h, msg_option_t option, msg_timeout_t timeout_ms, uint32_t origin) {
        if (!h || (option & ~(SEND_TIMEOUT | SEND_NOTIFY)) || origin == 0)
                return -EINVAL;
        int r = conn_ensure();
        if (r < 0)
                return r;
        if (conn_minor() < 2)
                return -EPROTONOSUPPORT;        /* a broker that knows no origins */
        msg_header_t req = *h;
        r = msg_call_from(h, WIRE_MSG_SEND | option, h->msg_size, 0, 0, timeout_ms, 0, origin);
        if (debug_enabled())
                debug_trace("send (relayed)", &req, NULL, r);
        return r;
}

msg_return_t msg_send(msg_header_t *h, msg_option_t option, msg_timeout_t timeout_ms) {
        if (!h || (option & ~(SEND_TIMEOUT | SEND_NOTIFY)))
                return -EINVAL;
        msg_header_t req = *h;
        /* With credit on the destination a plain message needs no answer: its slot is there. */
        msg_return_t r = async_try_send(h);
        if (r == 1)
                r = SEND_SUCCESS;
        else if (r == 0)
                r = msg_call(h, WIRE_MSG_SEND | option, h->msg_size, 0, 0, timeout_ms, 0);
        if (debug_enabled())
                debug_trace("send", &req, NULL, r);
        return r;
}

msg_return_t msg_receive(msg_header_t *h, msg_option_t option, msg_timeout_t timeout_ms) {
        if (!h || (option & ~(RCV_TIMEOUT | RCV_LARGE)) || h->msg_size < sizeof(*h))
                return -EINVAL;
        uint32_t size = h->msg_size;
        port_t from = h->msg_local_port;
        bool handled;
        /* What the broker handed ahead first; an armed port waits here for more. */
        msg_return_t r = async_receive(h, size, from, option, timeout_ms, &handled);
        if (!handled)
                r = msg_call(h, WIRE_MSG_RCV | WIRE_MSG_MANY | option, size, from, size, 0, timeout_ms);
        if (debug_enabled()) {
                char what[48];
                snprintf(what, sizeof(what), "receive on %#x", from);
                debug_trace(what, NULL, received(r) ? h : NULL, r);
        }
        return r;
}

/*
 * A send, then a receive from a name that has messages held in the task
 * (lent or armed): two steps, so the receive takes those first.
 */
static msg_return_t send_then_receive(msg_header_t *h, msg_option_t option, msg_size_t rcv_size,
                                      port_t rcv_name, msg_timeout_t send_timeout_ms,
                                      msg_timeout_t rcv_timeout_ms) {
        msg_return_t r = msg_call(h, WIRE_MSG_SEND | (option & (SEND_TIMEOUT | SEND_NOTIFY)), h->msg_size, 0,
                                  0, send_timeout_ms, 0);
        if (r != 0 && r != SEND_WILL_NOTIFY)
                return r;
        msg_option_t ro = option & (RCV_TIMEOUT | RCV_LARGE);
        bool handled;
        r = async_receive(h, rcv_size, rcv_name, ro, rcv_timeout_ms, &handled);
        if (!handled)
                r = msg_call(h, WIRE_MSG_RCV | ro, rcv_size, rcv_name, rcv_size, 0, rcv_timeout_ms);
        return r;
}

msg_return_t msg_send_receive(msg_header_t *h, msg_option_t option, msg_size_t rcv_size,
                              port_t rcv_name, msg_timeout_t send_timeout_ms,
                              msg_timeout_t rcv_timeout_ms) {
        if (!h || rcv_size < sizeof(*h) ||
            (option & ~(SEND_TIMEOUT | SEND_NOTIFY | RCV_TIMEOUT | RCV_LARGE)))
                return -EINVAL;
        size_t buf = h->msg_size > rcv_size ? h->msg_size : rcv_size;
        msg_header_t req = *h;
        msg_return_t r;
        if (async_holds(rcv_name))
                r = send_then_receive(h, option, rcv_size, rcv_name, send_timeout_ms, rcv_timeout_ms);
        else
                r = msg_call(h, WIRE_MSG_SEND | WIRE_MSG_RCV | option, buf, rcv_name, rcv_size,
                             send_timeout_ms, rcv_timeout_ms);
        if (debug_enabled())
                debug_trace("send+receive", &req, received(r) ? h : NULL, r);
        return r;
}

msg_return_t msg_rpc(msg_header_t *h, msg_option_t option, msg_size_t rcv_size,
                     msg_timeout_t send_timeout_ms, msg_timeout_t rcv_timeout_ms) {
        if (!h || rcv_size < sizeof(*h) ||
            (option & ~(SEND_TIMEOUT | RCV_TIMEOUT | RCV_LARGE)))
                return -EINVAL;
        port_t reply = h->msg_local_port;
        bool own = reply == PORT_NULL;
        if (own) {
                reply = mach_reply_port();
                if (reply == PORT_NULL) {
                        int e = conn_ensure();
                        return e < 0 ? e : -ENOMEM;
                }
                h->msg_local_port = reply;
        }
        if (MSG_BITS_LOCAL(h->msg_bits) == 0)
                h->msg_bits |= MSG_BITS(0, MSG_TYPE_MAKE_SEND_ONCE);
        size_t buf = h->msg_size > rcv_size ? h->msg_size : rcv_size;
        msg_header_t req = *h;
        msg_return_t r;
        if (!own && async_holds(reply))
                r = send_then_receive(h, option, rcv_size, reply, send_timeout_ms, rcv_timeout_ms);
        else
                r = msg_call(h, WIRE_MSG_SEND | WIRE_MSG_RCV | WIRE_MSG_RPC | option, buf, reply,
                             rcv_size, send_timeout_ms, rcv_timeout_ms);
        if (debug_enabled())
                debug_trace("rpc", &req, received(r) ? h : NULL, r);
        /* A receive that failed may leave a reply in flight to this port. */
        if (own && (r == RCV_TIMED_OUT || r == RCV_TOO_LARGE))
                reply_port_discard(reply);
        return r;
}

/*
 * Give up one right a message names: in a received message (@unsent false)
 * every right is the receiver's; in one that could not be sent, only the
 * rights it moves would have gone (copied and made ones were never taken).
 */
static void release_right(port_t name, uint32_t kind, bool unsent) {
        if (name == PORT_NULL || name == PORT_DEAD)
                return;
        if (unsent && kind != MSG_TYPE_MOVE_RECEIVE && kind != MSG_TYPE_MOVE_SEND && kind != MSG_TYPE_MOVE_SEND_ONCE)
                return;
        if (kind == MSG_TYPE_PORT_RECEIVE)
                port_mod_refs(task_self(), name, PORT_RIGHT_RECEIVE, -1);
        else
                port_deallocate(task_self(), name);
}

void msg_release(msg_header_t *h, bool unsent) {
        if (!h || h->msg_size < sizeof(*h))
                return;
        release_right(h->msg_remote_port, MSG_BITS_REMOTE(h->msg_bits), unsent);
        h->msg_remote_port = PORT_NULL;
        uint8_t *msg = (uint8_t *)h;
        WireItemIter it;
        WireItem item;
        wire_item_iter_init(&it, msg, h->msg_size);
        while (wire_item_next(&it, &item)) {
                if (item.offset + (uint64_t)item.bytes > h->msg_size)
                        break;
                for (uint32_t j = 0; j < item.number; j++) {
                        uint8_t *e = msg + item.offset + (size_t)j * wire_type_size(item.name);
                        if (item.name >= MSG_TYPE_MOVE_RECEIVE && item.name <= MSG_TYPE_MAKE_SEND_ONCE) {
                                port_t name;
                                memcpy(&name, e, 4);
                                release_right(name, item.name, unsent);
                                name = PORT_NULL;
                                memcpy(e, &name, 4);
                        } else if (item.name == MSG_TYPE_MEMORY &&
                                   (!unsent || (item.flags & MSG_TYPE_FLAG_DEALLOCATE))) {
                                msg_ool_t o;
                                memcpy(&o, e, sizeof(o));
                                if (o.address)
                                        vm_deallocate(PORT_NULL, o.address, o.size);
                                o.address = 0;
                                memcpy(e, &o, sizeof(o));
                        } else if (item.name == MSG_TYPE_FD && !unsent) {
                                int32_t fd;
                                memcpy(&fd, e, 4);
                                if (fd >= 0)
                                        close(fd);
                                fd = -1;
                                memcpy(e, &fd, 4);
                        }
                }
        }
}

void msg_destroy(msg_header_t *h) {
        msg_release(h, false);
}
