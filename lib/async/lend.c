/* SPDX-License-Identifier: MIT */
/*
 * lend.c - messages the broker handed this task ahead of its receives
 *
 * An armed port's messages, and those a receive of many lent after its
 * own, arrive as PUSH events and wait here, in the order they came, until a
 * receive takes them: msg_receive() on such a port costs no request to the
 * broker.  What was taken is told to the broker in LENT frames, a batch at a
 * time, always before a request that would give the rest back (a receive
 * right moving, a port destroyed, a disarm), so that nothing is taken twice
 * and nothing lost.  Pushes for a port on its way out are dropped: the
 * broker gives those back itself.
 *
 * Everything here is under the connection's lock (conn_lock()), which the
 * reader holds when it files an event.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "async.h"

AsyncState as = { .evfd = -1, .epfd = -1 };

/* The per-name state: armed, stalled, leaving, messages expected. */
NameState *async_name(port_t name, bool make) {
        for (uint32_t i = 0; i < as.n_names; i++)
                if (as.names[i].name == name)
                        return &as.names[i];
        if (!make)
                return NULL;
        if (as.n_names == as.cap_names) {
                uint32_t cap = as.cap_names ? as.cap_names * 2 : 8;
                NameState *n = realloc(as.names, cap * sizeof(*n));
                if (!n)
                        return NULL;
                as.names = n;
                as.cap_names = cap;
        }
        NameState *ns = &as.names[as.n_names++];
        memset(ns, 0, sizeof(*ns));
        ns->name = name;
        return ns;
}

/* Drop a name's state once it says nothing any more. */
void async_name_tidy(NameState *ns) {
        if (ns->armed || ns->stalled || ns->dead || ns->leaving || ns->expect || ns->disarming)
                return;
        *ns = as.names[--as.n_names];
}

static LentMsg *find(port_t name) {
        for (LentMsg *m = as.head; m; m = m->next)
                if (m->filed == name || m->port == name)
                        return m;
        return NULL;
}

static void unlink_msg(LentMsg *m) {
        LentMsg **pp = &as.head;
        while (*pp != m)
                pp = &(*pp)->next;
        *pp = m->next;
        if (as.tail == m) {
                as.tail = as.head;
                while (as.tail && as.tail->next)
                        as.tail = as.tail->next;
        }
        as.n--;
}

/* Readiness for machipc_get_fd(): something to take, or a receive to make. */
void async_signal_locked(void) {
        bool want = as.head != NULL;
        for (uint32_t i = 0; i < as.n_names && !want; i++)
                want = as.names[i].stalled || as.names[i].dead;
        if (as.evfd < 0 || want == as.signalled)
                return;
        uint64_t v = 1;
        if (want) {
                if (write(as.evfd, &v, sizeof(v)) == sizeof(v))
                        as.signalled = true;
        } else if (read(as.evfd, &v, sizeof(v)) == sizeof(v) || errno == EAGAIN) {
                as.signalled = false;
        }
}

/* One message of a PUSH: filed to wait for a receive, or dropped (see file_push()). */
static int file_one(const WireEvent *e, const WirePushRecord *rec, const uint8_t *m) {
        /* Relayed from another host (1.2): where from, last; kept after the attachment. */
        uint32_t origin = rec->flags & WIRE_REPLY_REMOTE ? WIRE_ORIGIN_SIZE : 0;
        WireOrigin o;
        if (origin && wire_origin_decode(m + rec->size - origin, origin, &o) < 0)
                return -EPROTO;
        uint32_t total = rec->size - origin;
        uint32_t size = total >= sizeof(msg_header_t) ? wire_get_le32(m) : 0;
        if (size < sizeof(msg_header_t) || size > total || size > MSG_SIZE_MAX ||
            total - size > WIRE_ATTACH_MAX || as.n >= ASYNC_LENT_MAX)
                return -EPROTO;
        msg_header_t h;
        memcpy(&h, m, sizeof(h));
        bool from_arm = e->reserved & WIRE_PUSH_FROM_ARM;
        NameState *filed = async_name(e->b, false), *port = async_name(h.msg_local_port, false);
        if (filed && !from_arm && filed->expect)
                filed->expect--;
        /* Lent by an arm being disarmed, or from a port on its way out: the broker
         * gives it back; we never saw it. */
        if ((from_arm && (!filed || !filed->armed || filed->disarming)) || (port && port->leaving))
                return 0;
        LentMsg *lm = malloc(sizeof(*lm) + total + origin);
        if (!lm)
                return -ENOMEM;
        lm->next = NULL;
        lm->id = rec->id;
        lm->filed = e->b;
        lm->port = h.msg_local_port;
        lm->reply = (WireMsgReply){ .flags = WIRE_REPLY_RECEIVED | rec->flags, .pid = rec->pid,
                                    .uid = rec->uid, .gid = rec->gid };
        lm->size = size;
        lm->attach_len = total - size;
        memcpy(lm->data, m, total + origin);
        if (as.tail)
                as.tail->next = lm;
        else
                as.head = lm;
        as.tail = lm;
        as.n++;
        return 0;
}

/* A PUSH: e->a messages, each a record, the message and its attachment. */
static int file_push(const WireEvent *e, const uint8_t *body, size_t len) {
        if (e->a == 0 || e->a > WIRE_PUSH_MAX || (e->reserved & ~WIRE_PUSH_FROM_ARM))
                return -EPROTO;
        for (uint32_t i = 0; i < e->a; i++) {
                WirePushRecord rec;
                if (wire_push_record_decode(body, len, &rec) < 0)
                        return -EPROTO;
                int r = file_one(e, &rec, body + WIRE_PUSH_RECORD_SIZE);
                if (r < 0)
                        return r;
                body += WIRE_PUSH_RECORD_SIZE + rec.size;
                len -= WIRE_PUSH_RECORD_SIZE + rec.size;
        }
        return len == 0 ? 0 : -EPROTO;
}

/**
 * async_event_locked() - the broker wrote an event (the reader calls this)
 * Return: 0, or a negative errno (-EPROTO: a frame that lies).
 */
int async_event_locked(const uint8_t *body, size_t len, int *fds, uint32_t n_fds) {
        WireEvent e;
        (void)fds;      /* nothing handed ahead carries descriptors: any is an error */
        if (n_fds || wire_event_decode(body, len, &e) < 0)
                return -EPROTO;
        body += WIRE_EVENT_SIZE;
        len -= WIRE_EVENT_SIZE;
        int r = 0;
        NameState *ns;
        switch (e.type) {
        case WIRE_EVENT_PUSH:
                r = file_push(&e, body, len);
                break;
        case WIRE_EVENT_CREDIT:
                async_credit_add_locked(e.a, e.b);
                break;
        case WIRE_EVENT_REVOKE:
                async_credit_forget_locked(e.a, false);
                break;
        case WIRE_EVENT_READY:
                if ((ns = async_name(e.a, false)) && ns->armed) {
                        if (e.b == 0) {
                                ns->stalled = true;
                        } else {
                                ns->armed = false;
                                ns->dead = true;
                        }
                }
                break;
        default:
                r = -EPROTO;
        }
        async_signal_locked();
        return r;
}

/* async_pending_locked() - something to tell the broker in a LENT frame? */
bool async_pending_locked(void) {
        return as.n_taken || as.n_credit_back;
}

/* async_expect_locked() - a reply said @n messages lent after it follow for @name. */
void async_expect_locked(port_t name, uint32_t n) {
        NameState *ns = async_name(name, true);
        if (ns)
                ns->expect += n;
}

/* async_reset_locked() - a new connection, or none: nothing lent, armed or credited. */
void async_reset_locked(void) {
        while (as.head) {
                LentMsg *m = as.head;
                as.head = m->next;
                free(m);
        }
        as.tail = NULL;
        as.n = 0;
        as.n_names = 0;
        as.n_taken = 0;
        as.n_credit_back = 0;
        as.n_credits = 0;
        async_signal_locked();
}

/*
 * async_real_receive_locked() - the broker answered a real receive from
 * @name: if its arm had stalled on a message it could not hand over, that
 * receive took it (or found it gone), and the broker has resumed the arm.
 */
void async_real_receive_locked(port_t name) {
        NameState *ns = async_name(name, false);
        if (ns && ns->stalled) {
                ns->stalled = false;
                async_signal_locked();
        }
}

/* Something to take for @name, or it changed so that a real receive must decide. */
static bool name_ready(void *arg) {
        port_t name = *(const port_t *)arg;
        if (find(name))
                return true;
        NameState *ns = async_name(name, false);
        return !ns || !((ns->armed && !ns->stalled) || ns->expect);
}

/**
 * async_holds() - does a receive from @name have to look here first
 * (messages lent, armed, or lent messages on their way)?
 */
bool async_holds(port_t name) {
        conn_lock();
        bool r = false;
        if (conn_async_locked() && (as.head || as.n_names)) {
                NameState *ns = async_name(name, false);
                r = find(name) || (ns && (ns->armed || ns->expect || ns->dead));
        }
        conn_unlock();
        return r;
}

/*
 * Take @m for a receive into @h (@buf_size bytes).  Conditions: locked.
 * Returns the status; *@destroyp: a message too large that must be destroyed
 * once unlocked.
 */
static int take(LentMsg *m, msg_header_t *h, size_t buf_size, msg_option_t option, LentMsg **destroyp) {
        *destroyp = NULL;
        if (m->size > buf_size) {
                msg_header_t hh;
                memcpy(&hh, m->data, sizeof(hh));
                hh.msg_remote_port = PORT_NULL;
                hh.msg_bits = 0;
                memcpy(h, &hh, sizeof(hh));
                h->msg_size = m->size;
                if (option & RCV_LARGE)
                        return RCV_TOO_LARGE;
                /* As in Mach: without RCV_LARGE it is destroyed. */
                unlink_msg(m);
                as.taken[as.n_taken++] = m->id;
                *destroyp = m;
                return RCV_TOO_LARGE;
        }
        unlink_msg(m);
        as.taken[as.n_taken++] = m->id;
        memcpy(h, m->data, m->size);
        *destroyp = m;  /* the caller maps its attachment and frees it */
        return 0;
}

/**
 * async_receive() - a receive from @name, served from what was lent, if it
 * should be
 * @handled: out; false: nothing lent for @name and nothing to wait for (the
 *           caller asks the broker)
 *
 * An armed name waits here for its pushes (up to @timeout with
 * RCV_TIMEOUT; 0 polls what has arrived); a name that expects messages lent
 * after a receive waits for them before anything newer is received.
 * Return: the receive's status when handled.
 */
int async_receive(msg_header_t *h, size_t buf_size, port_t name, msg_option_t option, msg_timeout_t timeout,
                  bool *handled) {
        *handled = false;
        conn_lock();
        if (!conn_async_locked() || (!as.head && !as.n_names)) {
                conn_unlock();
                return 0;
        }
        int64_t deadline = (option & RCV_TIMEOUT) ? async_deadline(timeout) : -1;
        int status = 0;
        LentMsg *got = NULL;
        for (;;) {
                LentMsg *m = find(name);
                if (m) {
                        status = take(m, h, buf_size, option, &got);
                        *handled = true;
                        break;
                }
                NameState *ns = async_name(name, false);
                if (!ns || !((ns->armed && !ns->stalled) || ns->expect)) {
                        if (ns && ns->dead) {
                                /* The arm ended: the broker's receive says why. */
                                ns->dead = false;
                                async_name_tidy(ns);
                        }
                        break;
                }
                /* Expected messages are on their way: wait for them even when polling. */
                int64_t until = ns->expect ? -1 : (option & RCV_TIMEOUT) && timeout == 0 ? 0 : deadline;
                if (until != 0 && as.n_taken) {
                        /* Before waiting, the broker hears what was taken: their slots may be
                         * what a sender waits for, or the arm's window. */
                        conn_unlock();
                        conn_flush_lent();
                        conn_lock();
                        continue;
                }
                int r = conn_pump_locked(name_ready, &name, until);
                if (r == -ETIMEDOUT || r == -EAGAIN) {
                        if (find(name))
                                continue;
                        status = RCV_TIMED_OUT;
                        *handled = true;
                        break;
                }
                if (r < 0) {
                        status = r;
                        *handled = true;
                        break;
                }
        }
        async_signal_locked();
        /* What was taken is told in batches, and before anything waits: above,
         * with this task's next request (the broker's receive, if this was not
         * handled here), or now, a receive that found nothing. */
        bool flush = as.n_taken >= ASYNC_ACK_BATCH || (as.n_taken && *handled && !got);
        conn_unlock();
        if (got) {
                if (status == 0) {
                        WireOrigin o;
                        bool remote = (got->reply.flags & WIRE_REPLY_REMOTE) &&
                                      wire_origin_decode(got->data + got->size + got->attach_len,
                                                         WIRE_ORIGIN_SIZE, &o) == 0;
                        msg_set_sender(&got->reply, remote ? &o : NULL);
                        int br = ool_receive(h, buf_size, NULL, 0, got->data + got->size, got->attach_len);
                        if (br)
                                status = br;
                } else {
                        msg_destroy((msg_header_t *)got->data);
                }
                free(got);
        }
        if (flush)
                conn_flush_lent();
        return status;
}

/**
 * async_leaving() - @name's receive right (or port set) is about to leave
 * this task, be destroyed or change sets with the next request: what was
 * lent from it and not taken goes back to its queue then, so it is
 * forgotten here, and pushes from it are dropped until that request's reply
 * (async_left_locked())
 *
 * Messages filed under a set that is going stay, filed under their own port.
 */
void async_leaving(port_t name) {
        conn_lock();
        if (conn_async_locked()) {
                NameState *ns = async_name(name, true);
                if (ns)
                        ns->leaving = true;
                for (LentMsg *m = as.head, *next; m; m = next) {
                        next = m->next;
                        if (m->port == name) {
                                unlink_msg(m);
                                free(m);
                        } else if (m->filed == name) {
                                m->filed = m->port;
                        }
                }
                async_signal_locked();
        }
        conn_unlock();
}

/* async_left_locked() - the reply to the request that moved @name came: it is what it is now. */
void async_left_locked(port_t name) {
        NameState *ns = async_name(name, false);
        if (ns && ns->leaving) {
                ns->leaving = false;
                async_name_tidy(ns);
        }
}

/**
 * async_flush_lent() - write the pending LENT frame: what was taken, credit
 * given back.  Conditions: the connection's write lock is held (conn.c),
 * not its lock.
 */
void async_flush_lent(int fd) {
        uint8_t buf[WIRE_HDR_SIZE + WIRE_LENT_BODY_MAX];
        size_t len = async_take_lent_body(buf + WIRE_HDR_SIZE);
        if (!len)
                return;
        WireHeader h = { .size = (uint32_t)(WIRE_HDR_SIZE + len), .op = WIRE_OP_LENT, .flags = WIRE_FLAG_ONE_WAY };
        wire_header_encode(buf, &h);
        ssize_t r;
        do
                r = send(fd, buf, h.size, MSG_NOSIGNAL);
        while (r < 0 && errno == EINTR);
        /* A broken connection is found by the next call; nothing more to do here. */
}

/**
 * async_take_lent_body() - what the next LENT frame (or a request's LENT
 * prefix) says, into @buf (WIRE_LENT_BODY_MAX bytes); it is no longer
 * pending.  Conditions: the write lock is held, not the connection's lock.
 * Return: its length, 0 if there is nothing to say.
 */
size_t async_take_lent_body(uint8_t *buf) {
        conn_lock();
        uint32_t n_taken = as.n_taken, n_credit = as.n_credit_back;
        uint8_t *p = buf;
        wire_put_le32(p, n_taken);
        wire_put_le32(p + 4, n_credit);
        p += WIRE_LENT_HDR_SIZE;
        for (uint32_t i = 0; i < n_taken; i++, p += 4)
                wire_put_le32(p, as.taken[i]);
        for (uint32_t i = 0; i < n_credit; i++, p += 8) {
                wire_put_le32(p, as.credit_back[i].name);
                wire_put_le32(p + 4, as.credit_back[i].count);
        }
        as.n_taken = 0;
        as.n_credit_back = 0;
        conn_unlock();
        return n_taken || n_credit ? (size_t)(p - buf) : 0;
}
