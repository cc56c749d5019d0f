/* SPDX-License-Identifier: MIT */
/*
 * port.c - the kernel calls: RPCs to a task's kernel port
 *
 * Each call is one msg_rpc() to the kernel port named by @task, encoded as
 * lib/wire/kcall.h and doc/protocol.md describe.  The broker answers in the
 * same round trip.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "kcall.h"

typedef union {
        msg_header_t h;
        uint8_t bytes[sizeof(msg_header_t) + MSG_ITEM_SIZE(4 * KCALL_RESULTS_MAX) + MSG_ITEM_SIZE(4)];
} KcallBuf;

/* Replies with a data item (names, broker info) need room for it. */
typedef union {
        msg_header_t h;
        uint8_t bytes[sizeof(msg_header_t) + MSG_ITEM_SIZE(4 * KCALL_RESULTS_MAX) +
                      MSG_ITEM_SIZE(KCALL_INFO_CHUNK > 8 * KCALL_NAMES_PAGE ? KCALL_INFO_CHUNK
                                                                            : 8 * KCALL_NAMES_PAGE)];
} KcallBigBuf;

static uint32_t kcall_encode(KcallBuf *b, port_t task, int32_t id, const uint32_t *args,
                             uint32_t n_args, port_t right, uint32_t right_disp) {
        uint32_t size = (uint32_t)sizeof(msg_header_t) + MSG_ITEM_SIZE(4 * n_args);
        if (right_disp)
                size += MSG_ITEM_SIZE(4);
        memset(b, 0, sizeof(*b));
        b->h.msg_size = size;
        b->h.msg_remote_port = task;
        b->h.msg_id = id;
        b->h.msg_bits = MSG_BITS(MSG_TYPE_COPY_SEND, 0);
        uint8_t *p = b->bytes + sizeof(msg_header_t);
        msg_type_t t = { MSG_TYPE_INTEGER_32, 0, n_args };
        memcpy(p, &t, sizeof(t));
        if (n_args)
                memcpy(p + sizeof(t), args, 4 * n_args);
        if (right_disp) {
                p += MSG_ITEM_SIZE(4 * n_args);
                msg_type_t rt = { (uint16_t)right_disp, 0, 1 };
                memcpy(p, &rt, sizeof(rt));
                memcpy(p + sizeof(rt), &right, 4);
        }
        return size;
}

/*
 * @task is PORT_NULL: task_self() gave it because the broker is out of
 * reach, and then the caller hears why (the same errno every call reports),
 * or the caller passed it.
 */
static int no_task(void) {
        int r = conn_ensure();
        return r < 0 ? r : KERN_INVALID_TASK;
}

/**
 * kcall() - one kernel call
 * @res: out, @n_res results; res[0] is the kern_return_t
 * @right, @right_disp: a right to send along (0: none)
 * @right_out: out, the right the reply carries (may be NULL)
 *
 * Return: the call's kern_return_t, a msg_rpc() code, or a negative errno.
 */
int kcall(port_t task, int32_t id, const uint32_t *args, uint32_t n_args, int32_t *res,
          uint32_t n_res, port_t right, uint32_t right_disp, port_t *right_out) {
        KcallBuf b;
        if (task == PORT_NULL)
                return no_task();
        kcall_encode(&b, task, id, args, n_args, right, right_disp);
        int r = msg_rpc(&b.h, MSG_OPTION_NONE, sizeof(b), 0, 0);
        if (r == SEND_INVALID_DEST)
                return KERN_INVALID_TASK;
        if (r != 0)
                return r;
        WireItemIter it;
        WireItem item;
        if (b.h.msg_id != id + KCALL_REPLY_DELTA || b.h.msg_size > sizeof(b))
                return -EPROTO;
        wire_item_iter_init(&it, b.bytes, b.h.msg_size);
        if (!wire_item_next(&it, &item) || item.name != MSG_TYPE_INTEGER_32 || item.number < 1 ||
            item.number > KCALL_RESULTS_MAX || item.offset + 4 * item.number > b.h.msg_size)
                return -EPROTO;
        int32_t tmp[KCALL_RESULTS_MAX] = { 0 };
        memcpy(tmp, b.bytes + item.offset, 4 * item.number);
        if (n_res > KCALL_RESULTS_MAX)
                n_res = KCALL_RESULTS_MAX;
        memcpy(res, tmp, 4 * n_res);
        if (right_out) {
                *right_out = PORT_NULL;
                if (wire_item_next(&it, &item) && item.number == 1 &&
                    item.offset + 4 <= b.h.msg_size)
                        memcpy(right_out, b.bytes + item.offset, 4);
        }
        return tmp[0];
}

/*
 * A kernel call whose reply carries a data item after the results: the
 * item's payload is copied to @data (at most @max bytes); returns kr.
 */
static int kcall_data(port_t task, int32_t id, const uint32_t *args, uint32_t n_args, int32_t *res,
                      uint32_t n_res, void *data, uint32_t max, uint32_t *bytesp) {
        if (task == PORT_NULL)
                return no_task();
        KcallBigBuf *b = malloc(sizeof(*b));
        if (!b)
                return -ENOMEM;
        kcall_encode((KcallBuf *)b, task, id, args, n_args, PORT_NULL, 0);
        int r = msg_rpc(&b->h, MSG_OPTION_NONE, sizeof(*b), 0, 0);
        if (r == SEND_INVALID_DEST)
                r = KERN_INVALID_TASK;
        WireItemIter it;
        WireItem item;
        if (r == 0 && (b->h.msg_id != id + KCALL_REPLY_DELTA || b->h.msg_size > sizeof(*b)))
                r = -EPROTO;
        if (r == 0) {
                wire_item_iter_init(&it, b->bytes, b->h.msg_size);
                if (!wire_item_next(&it, &item) || item.name != MSG_TYPE_INTEGER_32 ||
                    item.number < n_res || item.offset + 4 * item.number > b->h.msg_size)
                        r = -EPROTO;
        }
        if (r == 0) {
                memcpy(res, b->bytes + item.offset, 4 * n_res);
                r = res[0];
        }
        if (r == 0) {
                *bytesp = 0;
                if (!wire_item_next(&it, &item) || item.offset + item.bytes > b->h.msg_size ||
                    item.bytes > max)
                        r = -EPROTO;
                else {
                        memcpy(data, b->bytes + item.offset, item.bytes);
                        *bytesp = item.bytes;
                }
        }
        free(b);
        return r;
}

/* kcall_simple() - a kernel call whose results nobody waits for (no reply right). */
void kcall_simple(port_t task, int32_t id, const uint32_t *args, uint32_t n_args) {
        KcallBuf b;
        if (task == PORT_NULL)
                return;
        kcall_encode(&b, task, id, args, n_args, PORT_NULL, 0);
        (void)msg_send(&b.h, MSG_OPTION_NONE, 0);
}

port_t task_self(void) {
        return conn_self();
}

port_t task_notify(void) {
        return conn_notify();
}

kern_return_t port_allocate(port_t task, port_t *name) {
        int32_t res[2];
        if (!name)
                return -EINVAL;
        int r = kcall(task, KCALL_PORT_ALLOCATE, NULL, 0, res, 2, 0, 0, NULL);
        if (r == 0)
                *name = (port_t)res[1];
        return r;
}

kern_return_t port_set_allocate(port_t task, port_set_name_t *set) {
        int32_t res[2];
        if (!set)
                return -EINVAL;
        int r = kcall(task, KCALL_PORT_SET_ALLOCATE, NULL, 0, res, 2, 0, 0, NULL);
        if (r == 0)
                *set = (port_t)res[1];
        return r;
}

/*
 * A kernel call on our own task that destroys @name's receive right or set,
 * or changes its set: what the broker lent of it goes back when the call is
 * served (lib/async), and what we took must be told before.
 */
static void leaving(port_t task, port_t name) {
        if (name != PORT_NULL && name != PORT_DEAD && task == task_self())
                msg_leave_next(name);
}

/* A send right of ours may go: its credit goes back before the call. */
static void send_right_going(port_t task, port_t name) {
        if (task == task_self()) {
                async_credit_forget(name);
                msg_flush_lent_next();
        }
}

kern_return_t port_deallocate(port_t task, port_t name) {
        int32_t res[1];
        uint32_t args[1] = { name };
        send_right_going(task, name);
        leaving(task, name);
        return kcall(task, KCALL_PORT_DEALLOCATE, args, 1, res, 1, 0, 0, NULL);
}

kern_return_t port_status(port_t task, port_t name, port_status_t *status) {
        int32_t res[1 + KCALL_STATUS_FIELDS];
        uint32_t args[1] = { name };
        if (!status)
                return -EINVAL;
        /* What we took of the messages handed ahead counts as received: say so first. */
        if (task == task_self())
                msg_flush_lent_next();
        int r = kcall(task, KCALL_PORT_STATUS, args, 1, res, 1 + KCALL_STATUS_FIELDS, 0, 0, NULL);
        if (r == 0) {
                status->backlog = (uint32_t)res[1];
                status->msgcount = (uint32_t)res[2];
                status->has_receive = (uint32_t)res[3];
                status->n_send = (uint32_t)res[4];
                status->n_send_once = (uint32_t)res[5];
                status->seqno = (uint32_t)res[6];
                status->mscount = (uint32_t)res[7];
                status->set = (port_t)res[8];
                status->n_blocked = (uint32_t)res[9];
                status->urefs = (uint32_t)res[10];
                status->n_receivers = (uint32_t)res[11];
        }
        return r;
}

kern_return_t port_set_backlog(port_t task, port_t name, uint32_t backlog) {
        int32_t res[1];
        uint32_t args[2] = { name, backlog };
        return kcall(task, KCALL_PORT_SET_BACKLOG, args, 2, res, 1, 0, 0, NULL);
}

kern_return_t port_type(port_t task, port_t name, port_type_t *type) {
        int32_t res[2];
        uint32_t args[1] = { name };
        if (!type)
                return -EINVAL;
        int r = kcall(task, KCALL_PORT_TYPE, args, 1, res, 2, 0, 0, NULL);
        if (r == 0)
                *type = (port_type_t)res[1];
        return r;
}

kern_return_t port_set_add(port_t task, port_set_name_t set, port_t port) {
        int32_t res[1];
        uint32_t args[2] = { set, port };
        leaving(task, port);
        return kcall(task, KCALL_PORT_SET_ADD, args, 2, res, 1, 0, 0, NULL);
}

kern_return_t port_set_remove(port_t task, port_t port) {
        int32_t res[1];
        uint32_t args[1] = { port };
        leaving(task, port);
        return kcall(task, KCALL_PORT_SET_REMOVE, args, 1, res, 1, 0, 0, NULL);
}

kern_return_t task_get_bootstrap_port(port_t task, port_t *port) {
        int32_t res[1];
        if (!port)
                return -EINVAL;
        return kcall(task, KCALL_GET_BOOTSTRAP, NULL, 0, res, 1, 0, 0, port);
}

kern_return_t machipc_set_bootstrap_port(port_t port) {
        int32_t res[1];
        if (port == PORT_NULL)
                return -EINVAL;
        return kcall(task_self(), KCALL_SET_BOOTSTRAP, NULL, 0, res, 1, port, MSG_TYPE_MAKE_SEND,
                     NULL);
}

kern_return_t port_names(port_t task, port_t **names, port_type_t **types, uint32_t *count) {
        if (!names || !types || !count)
                return -EINVAL;
        uint32_t *page = malloc(8 * KCALL_NAMES_PAGE);
        port_t *n = NULL;
        port_type_t *t = NULL;
        uint32_t total = 0, start = 0;
        int r = page ? 0 : -ENOMEM;
        while (r == 0) {
                int32_t res[3];
                uint32_t bytes, args[1] = { start };
                r = kcall_data(task, KCALL_PORT_NAMES, args, 1, res, 3, page, 8 * KCALL_NAMES_PAGE,
                               &bytes);
                if (r != 0)
                        break;
                uint32_t got = (uint32_t)res[1];
                if (bytes != 8 * got) {
                        r = -EPROTO;
                        break;
                }
                port_t *nn = realloc(n, (total + got + 1) * sizeof(*n));
                port_type_t *nt = nn ? realloc(t, (total + got + 1) * sizeof(*t)) : NULL;
                if (nn)
                        n = nn;
                if (nt)
                        t = nt;
                if (!nn || !nt) {
                        r = -ENOMEM;
                        break;
                }
                for (uint32_t i = 0; i < got; i++) {
                        n[total + i] = page[2 * i];
                        t[total + i] = page[2 * i + 1];
                }
                total += got;
                start = (uint32_t)res[2];
                if (start == 0)
                        break;
        }
        free(page);
        if (r != 0) {
                free(n);
                free(t);
                return r;
        }
        if (!n) {
                n = malloc(sizeof(*n));
                t = malloc(sizeof(*t));
                if (!n || !t) {
                        free(n);
                        free(t);
                        return -ENOMEM;
                }
        }
        *names = n;
        *types = t;
        *count = total;
        return KERN_SUCCESS;
}

kern_return_t port_get_refs(port_t task, port_t name, port_right_t right, uint32_t *refs) {
        int32_t res[2];
        uint32_t args[2] = { name, right };
        if (!refs)
                return -EINVAL;
        int r = kcall(task, KCALL_PORT_GET_REFS, args, 2, res, 2, 0, 0, NULL);
        if (r == 0)
                *refs = (uint32_t)res[1];
        return r;
}

kern_return_t port_mod_refs(port_t task, port_t name, port_right_t right, int32_t delta) {
        int32_t res[1];
        uint32_t args[3] = { name, right, (uint32_t)delta };
        if (delta < 0 && (right == PORT_RIGHT_RECEIVE || right == PORT_RIGHT_PORT_SET))
                leaving(task, name);
        else if (delta < 0 && right == PORT_RIGHT_SEND)
                send_right_going(task, name);
        return kcall(task, KCALL_PORT_MOD_REFS, args, 3, res, 1, 0, 0, NULL);
}

kern_return_t port_request_notification(port_t task, port_t name, int32_t variant, uint32_t sync,
                                        port_t notify) {
        int32_t res[1];
        uint32_t args[4] = { name, (uint32_t)variant, sync, notify };
        return kcall(task, KCALL_PORT_REQUEST_NOTIFICATION, args, 4, res, 1, 0, 0, NULL);
}

kern_return_t machipc_monitor(port_t port, uint64_t port_id, int32_t pid) {
        int32_t res[1];
        uint32_t args[3] = { (uint32_t)port_id, (uint32_t)(port_id >> 32), (uint32_t)pid };
        if (port == PORT_NULL)
                return KERN_INVALID_RIGHT;
        return kcall(task_self(), KCALL_MONITOR, args, 3, res, 1, port, MSG_TYPE_MAKE_SEND, NULL);
}

int machipc_broker_info(char **text, size_t *len) {
        if (!text)
                return -EINVAL;
        char *buf = NULL, *chunk = malloc(KCALL_INFO_CHUNK);
        size_t have = 0;
        uint32_t cursor[2] = { 0, 0 };
        int r = chunk ? 0 : -ENOMEM;
        /* Page by page: each request costs the broker a bounded amount of work. */
        for (int32_t done = 0; r == 0 && !done;) {
                int32_t res[4];
                uint32_t bytes = 0;
                r = kcall_data(task_self(), KCALL_BROKER_INFO, cursor, 2, res, 4, chunk, KCALL_INFO_CHUNK,
                               &bytes);
                if (r != 0)
                        break;
                done = res[1];
                cursor[0] = (uint32_t)res[2];
                cursor[1] = (uint32_t)res[3];
                char *nb = realloc(buf, have + bytes + 1);
                if (!nb) {
                        r = -ENOMEM;
                        break;
                }
                buf = nb;
                memcpy(buf + have, chunk, bytes);
                have += bytes;
                buf[have] = '\0';
        }
        free(chunk);
        if (r != 0) {
                free(buf);
                return r;
        }
        if (!buf && !(buf = calloc(1, 1)))
                return -ENOMEM;
        *text = buf;
        if (len)
                *len = have;
        return 0;
}
