/* SPDX-License-Identifier: MIT */
/*
 * kobject.c - kernel calls: messages to a task's kernel port
 *
 * As in Mach, port_allocate() and friends are RPCs to a task's kernel port,
 * and the broker answers them in the sender's context the moment they are
 * sent: the reply is queued on the reply right before the send returns, so
 * an msg_rpc() to the kernel port is one round trip.  The call acts on the
 * space of the task the kernel port stands for, which need not be the
 * caller.  Request and reply formats are in lib/wire/kcall.h and
 * doc/protocol.md.
 */

#include <string.h>
#include "ipc.h"
#include "kcall.h"
#include "kmsg.h"
#include "kobject.h"
#include "peer.h"
#include "port.h"
#include "space.h"

static Port *kobject_bootstrap_port;

/* kobject_bootstrap() - the registered bootstrap port if it is alive, else NULL. */
Port *kobject_bootstrap(void) {
        if (kobject_bootstrap_port && !kobject_bootstrap_port->active) {
                kobject_bootstrap_port->n_srights--;
                kobject_bootstrap_port = port_unref(kobject_bootstrap_port);
        }
        return kobject_bootstrap_port;
}

/* kobject_deinit() - release the broker's own send right to the bootstrap port. */
void kobject_deinit(void) {
        if (kobject_bootstrap_port) {
                kobject_bootstrap_port->n_srights--;
                kobject_bootstrap_port = port_unref(kobject_bootstrap_port);
        }
}

static int new_receive(Space *s, bool is_set, uint32_t *namep) {
        Port *p;
        SpaceEntry *e;
        if (port_new(&p, is_set) < 0)
                return KERN_RESOURCE_SHORTAGE;
        int r = space_alloc(s, p, is_set ? ENTRY_PORT_SET : ENTRY_RECEIVE, &e);
        if (r != 0) {
                p->active = false;
                port_unref(p);
                return r == SPACE_E_NO_SPACE ? KERN_NO_SPACE : KERN_RESOURCE_SHORTAGE;
        }
        p->receiver = s;
        p->receiver_name = e->name;
        *namep = e->name;
        return KERN_SUCCESS;
}

static int do_deallocate(Space *s, uint32_t name) {
        SpaceEntry *e = space_lookup(s, name);
        if (!e)
                return KERN_INVALID_NAME;
        Port *p = e->port;
        if (e->bits & (ENTRY_RECEIVE | ENTRY_PORT_SET)) {
                /* The owner gives up the mailbox: it and everything under the name go. */
                if (e->bits & ENTRY_SEND)
                        p->n_srights--;
                p->receiver = NULL;
                ipc_port_destroy(p);
                space_dealloc(s, e);
        } else if (e->bits & ENTRY_SEND) {
                if (--e->urefs == 0) {
                        p->n_srights--;
                        space_dealloc(s, e);
                }
        } else if (e->bits & ENTRY_SEND_ONCE) {
                p->n_sorights--;
                if (p->active)
                        ipc_send_kernel(p, NOTIFY_SEND_ONCE, NULL, 0);
                space_dealloc(s, e);
        }
        return KERN_SUCCESS;
}

static uint32_t list_length(const ListLink *head) {
        uint32_t n = 0;
        for (const ListLink *l = head->next; l != head; l = l->next)
                n++;
        return n;
}

static int do_status(Space *s, uint32_t name, int32_t *out) {
        SpaceEntry *e = space_lookup(s, name);
        if (!e)
                return KERN_INVALID_NAME;
        Port *p = e->port;
        if (!p->active)
                return KERN_INVALID_RIGHT;
        uint32_t v[KCALL_STATUS_FIELDS] = { 0 };
        v[10] = list_length(&p->receivers);
        if (p->is_set) {
                for (const ListLink *l = p->members.next; l != &p->members; l = l->next)
                        v[1] += list_entry(l, Port, member_link)->msgcount;
        } else {
                uint32_t set = p->pset && p->receiver == s ? p->pset->receiver_name : 0;
                uint32_t f[] = { p->qlimit, p->msgcount, p->receiver == s, p->n_srights,
                                 p->n_sorights, p->seqno, p->mscount, set, p->n_senders, e->urefs };
                memcpy(v, f, sizeof(f));
        }
        memcpy(out, v, sizeof(v));
        return KERN_SUCCESS;
}

static SpaceEntry *lookup_receive(Space *s, uint32_t name, int *krp) {
        SpaceEntry *e = space_lookup(s, name);
        *krp = !e ? KERN_INVALID_NAME : !(e->bits & ENTRY_RECEIVE) ? KERN_INVALID_RIGHT : 0;
        return *krp ? NULL : e;
}

static int do_set_backlog(Space *s, uint32_t name, uint32_t backlog) {
        int kr;
        SpaceEntry *e = lookup_receive(s, name, &kr);
        if (!e)
                return kr;
        if (backlog > PORT_QLIMIT_MAX)
                return KERN_INVALID_VALUE;
        e->port->qlimit = backlog;
        ipc_admit_senders(e->port);
        return KERN_SUCCESS;
}

static int do_set_add(Space *s, uint32_t set_name, uint32_t name) {
        int kr;
        SpaceEntry *se = space_lookup(s, set_name);
        if (!se)
                return KERN_INVALID_NAME;
        if (!(se->bits & ENTRY_PORT_SET))
                return KERN_INVALID_RIGHT;
        SpaceEntry *e = lookup_receive(s, name, &kr);
        if (!e)
                return kr;
        if (e->port->pset)
                return KERN_ALREADY_IN_SET;
        port_set_add(se->port, e->port);
        ipc_serve_receivers(e->port);
        return KERN_SUCCESS;
}

static int do_set_remove(Space *s, uint32_t name) {
        int kr;
        SpaceEntry *e = lookup_receive(s, name, &kr);
        if (!e)
                return kr;
        if (!e->port->pset)
                return KERN_NOT_IN_SET;
        port_set_remove(e->port);
        return KERN_SUCCESS;
}

static int do_set_bootstrap(Space *s, Kmsg *req) {
        if (req->n_rights != 1 || req->rights[0].kind != RIGHT_SEND)
                return KERN_INVALID_RIGHT;
        Port *p = req->rights[0].port;
        if (p->receiver != s || p->is_set)
                return KERN_INVALID_RIGHT;
        if (kobject_bootstrap())
                return KERN_NAME_EXISTS;
        kobject_bootstrap_port = p;     /* the message's send right becomes the broker's */
        req->rights[0].port = NULL;
        req->rights[0].kind = RIGHT_NONE;
        return KERN_SUCCESS;
}

/*
 * Build and send the reply: @n results (kr first), and for
 * KCALL_GET_BOOTSTRAP a send right.  Consumes the request's reply right.
 */
static void kobject_reply(Kmsg *req, int32_t id, const int32_t *res, uint32_t n, Port *right) {
        if (!req->reply || (req->reply_kind != RIGHT_SEND && req->reply_kind != RIGHT_SEND_ONCE))
                return;
        bool with_right = id == KCALL_GET_BOOTSTRAP;
        uint32_t size = (uint32_t)sizeof(msg_header_t) + MSG_ITEM_SIZE(4 * n) +
                        (with_right ? MSG_ITEM_SIZE(4) : 0);
        Kmsg *k;
        if (kmsg_new(&k, size, with_right ? 1 : 0) < 0)
                return;         /* the reply right is released with the request */
        msg_header_t h = { .msg_size = size, .msg_id = id + KCALL_REPLY_DELTA };
        wire_msg_header_put(k->data, &h);
        uint8_t *p = k->data + sizeof(h);
        msg_type_t t = { MSG_TYPE_INTEGER_32, 0, n };
        memcpy(p, &t, sizeof(t));
        memcpy(p + sizeof(t), res, 4 * n);
        if (with_right) {
                uint8_t *q = p + MSG_ITEM_SIZE(4 * n);
                msg_type_t rt = { MSG_TYPE_MOVE_SEND, 0, 1 };
                memcpy(q, &rt, sizeof(rt));
                k->rights[0].offset = (uint32_t)(q + sizeof(rt) - k->data);
                if (right) {
                        right->n_srights++;
                        k->rights[0].port = port_ref(right);
                        k->rights[0].kind = RIGHT_SEND;
                }
        }
        k->dest = req->reply;
        k->dest_kind = req->reply_kind;
        k->from_kernel = true;
        req->reply = NULL;
        req->reply_kind = RIGHT_NONE;
        /* Replies to a send right do not wait for room (Mach: timeout 0). */
        if (ipc_send(k, NULL, SEND_TIMEOUT, 0, NULL) != 0)
                kmsg_free(k);
}

/**
 * kobject_server() - serve one request sent to a task's kernel port
 * @request: the message; consumed
 *
 * Unknown ids and malformed arguments are answered with
 * KERN_INVALID_ARGUMENT; a request without a reply right is served and its
 * results dropped (a "simpleroutine").
 */
void kobject_server(Kmsg *request) {
        Peer *target = request->dest->kobject;
        Space *s = target->space;
        msg_header_t h;
        int32_t res[KCALL_RESULTS_MAX] = { 0 };
        uint32_t n_res = 1;
        uint32_t args[KCALL_ARGS_MAX] = { 0 };
        uint32_t n_args = 0;
        Port *right = NULL;

        wire_msg_header_get(request->data, &h);
        WireItemIter it;
        WireItem item;
        wire_item_iter_init(&it, request->data, request->size);
        if (wire_item_next(&it, &item) && item.name == MSG_TYPE_INTEGER_32 &&
            item.number <= KCALL_ARGS_MAX) {
                n_args = item.number;
                memcpy(args, request->data + item.offset, 4 * n_args);
        }

        int kr = KERN_INVALID_ARGUMENT;
        switch (h.msg_id) {
        case KCALL_PORT_ALLOCATE:
                kr = new_receive(s, false, (uint32_t *)&res[1]);
                n_res = 2;
                break;
        case KCALL_PORT_SET_ALLOCATE:
                kr = new_receive(s, true, (uint32_t *)&res[1]);
                n_res = 2;
                break;
        case KCALL_PORT_DEALLOCATE:
                if (n_args == 1)
                        kr = do_deallocate(s, args[0]);
                break;
        case KCALL_PORT_STATUS:
                if (n_args == 1)
                        kr = do_status(s, args[0], &res[1]);
                n_res = 1 + KCALL_STATUS_FIELDS;
                break;
        case KCALL_PORT_SET_BACKLOG:
                if (n_args == 2)
                        kr = do_set_backlog(s, args[0], args[1]);
                break;
        case KCALL_PORT_SET_ADD:
                if (n_args == 2)
                        kr = do_set_add(s, args[0], args[1]);
                break;
        case KCALL_PORT_SET_REMOVE:
                if (n_args == 1)
                        kr = do_set_remove(s, args[0]);
                break;
        case KCALL_PORT_TYPE:
                if (n_args == 1) {
                        SpaceEntry *e = space_lookup(s, args[0]);
                        kr = e ? KERN_SUCCESS : KERN_INVALID_NAME;
                        res[1] = e ? (int32_t)space_entry_type(e) : 0;
                }
                n_res = 2;
                break;
        case KCALL_GET_BOOTSTRAP:
                right = kobject_bootstrap();
                kr = KERN_SUCCESS;
                break;
        case KCALL_SET_BOOTSTRAP:
                kr = do_set_bootstrap(s, request);
                break;
        default:
                break;
        }
        res[0] = kr;
        kobject_reply(request, h.msg_id, res, n_res, right);
        kmsg_free(request);
}
