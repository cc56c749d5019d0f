/* SPDX-License-Identifier: MIT */
/*
 * notify.c - Mach's notifications: who is told what when a right changes
 *
 * Every count of rights to a port goes down through here, so no transition
 * that owes a notification can miss it:
 *   - no-senders: the last send right to a port went away (body: the
 *     make-send count), if the receiver asked;
 *   - send-once: a send-once right was destroyed unused (to its own port,
 *     always: that is how msg_rpc learns its server died);
 *   - dead-name: a port died while a name for a send or send-once right to
 *     it had a request; the dead name gains a user reference, as in Mach;
 *   - port-deleted: a name with a dead-name request stopped naming a right;
 *   - port-destroyed: the receive right of a port with a request would have
 *     been destroyed; it travels to the backup port instead, messages and all.
 * Requests name the port the notification goes to; by default the task's
 * notify port.  Notifications are broker messages: queued whatever the
 * backlog, so none is lost, and bounded because each request fires once and
 * a task's requests are bounded by its names.
 */

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include "account.h"
#include "ipc.h"
#include "kmsg.h"
#include "notify.h"
#include "port.h"
#include "space.h"

/* A notification whose body is one INTEGER_32. */
static void send_int(Port *to, int32_t id, uint32_t value) {
        struct {
                msg_type_t t;
                uint32_t value;
                uint32_t pad;
        } body = { { MSG_TYPE_INTEGER_32, 0, 1 }, value, 0 };
        if (to && to->active)
                ipc_send_kernel(to, id, &body, (uint32_t)MSG_ITEM_SIZE(4));
}

/* notify_srights_dec() - one send right to @port is gone. */
void notify_srights_dec(Port *port) {
        assert(port->n_srights > 0);
        if (--port->n_srights > 0)
                return;
        if (port->kobject && port->active) {
                /* A kernel object may live only as long as someone can name it. */
                ipc_kobject_no_senders(port);
                return;
        }
        if (!port->requests || !port->requests->ns_notify)
                return;
        Port *to = port->requests->ns_notify;
        port->requests->ns_notify = NULL;
        if (port->active)
                send_int(to, NOTIFY_NO_SENDERS, port->mscount);
        port_unref(to);
}

/*
 * A send-once right promises its port exactly one message: a reply, or the
 * send-once notification.  Its port's receiver pays for it (kernel_messages)
 * from the moment it is made until it is used up; ipc_port_set_receiver()
 * moves the charge with the receive right.
 */
static void sorights_charge(Port *port, bool charge) {
        Space *r = port->receiver;
        if (!r)
                return;
        if (charge)
                account_charge_force(r->acct_task, r->acct_uid, ACCT_KMSGS, 1);
        else
                account_release(r->acct_task, r->acct_uid, ACCT_KMSGS, 1);
}

/* notify_sorights_inc() - a send-once right to @port was made. */
void notify_sorights_inc(Port *port) {
        port->n_sorights++;
        sorights_charge(port, true);
}

/* notify_sorights_dec() - one send-once right to @port is gone; @unused: destroyed, not used. */
void notify_sorights_dec(Port *port, bool unused) {
        assert(port->n_sorights > 0);
        port->n_sorights--;
        sorights_charge(port, false);
        if (unused && port->active)
                ipc_send_kernel(port, NOTIFY_SEND_ONCE, NULL, 0);
}

static void dnreq_free(DeadNameReq *r) {
        list_del(&r->port_link);
        port_unref(r->notify);
        free(r);
}

/**
 * notify_entry_dealloc() - free a name; a pending dead-name request on it
 * becomes a port-deleted notification
 *
 * Conditions: the rights under the name were already accounted for.
 */
void notify_entry_dealloc(Space *space, SpaceEntry *e) {
        if (e->dnreq) {
                DeadNameReq *r = e->dnreq;
                e->dnreq = NULL;
                send_int(r->notify, NOTIFY_PORT_DELETED, r->name);
                dnreq_free(r);
        }
        space_dealloc(space, e);
}

/* notify_port_dead() - @port just died: fire its dead-name requests. */
void notify_port_dead(Port *port) {
        ListLink *l;
        if (!port->requests)
                return;
        while ((l = list_first(&port->requests->dn_requests))) {
                DeadNameReq *r = list_entry(l, DeadNameReq, port_link);
                SpaceEntry *e = space_lookup(r->space, r->name);
                if (e && e->dnreq == r) {
                        e->dnreq = NULL;
                        /* The notification carries a reference to the dead name
                                 * (a send right's or a send-once right's alike). */
                        if ((e->bits & (ENTRY_SEND | ENTRY_SEND_ONCE)) && e->urefs < SPACE_UREFS_MAX)
                                e->urefs++;
                }
                send_int(r->notify, NOTIFY_DEAD_NAME, r->name);
                dnreq_free(r);
        }
}

/**
 * notify_port_destroyed() - if @port has a backup, send it its receive right
 *
 * Conditions: @port is active and its receive right is held by nobody (the
 * caller took it away).  Return: true if the right went to the backup and the
 * port lives on; false if it must be destroyed.
 */
bool notify_port_destroyed(Port *port) {
        Port *to = port->requests ? port->requests->pd_notify : NULL;
        if (!to)
                return false;
        port->requests->pd_notify = NULL;
        if (!to->active || to == port) {
                port_unref(to);
                return false;
        }
        struct {
                msg_type_t t;
                uint32_t name;
                uint32_t pad;
        } body = { { MSG_TYPE_MOVE_RECEIVE, 0, 1 }, 0, 0 };
        uint32_t size = (uint32_t)(sizeof(msg_header_t) + MSG_ITEM_SIZE(4));
        Kmsg *k;
        if (kmsg_new(&k, size, 1, 0) < 0) {
                port_unref(to);
                return false;
        }
        msg_header_t h = { .msg_size = size, .msg_id = NOTIFY_PORT_DESTROYED };
        wire_msg_header_put(k->data, &h);
        memcpy(k->data + sizeof(h), &body, sizeof(body));
        k->rights[0].port = port_ref(port);
        k->rights[0].kind = RIGHT_RECEIVE;
        k->rights[0].offset = (uint32_t)(sizeof(h) + sizeof(msg_type_t));
        k->n_receive = 1;
        port->transit = k;
        ipc_port_set_receiver(port, NULL, 0);  /* out of its set too */
        port->mscount = 0;
        port->seqno = 0;
        ipc_port_wake_receivers(port, RCV_PORT_DIED);
        k->dest = to;           /* the request's reference */
        k->dest_kind = RIGHT_KERNEL;
        k->from_kernel = true;
        ipc_send(k, NULL, 0, 0, NULL);
        return true;
}

/* notify_port_clear() - drop @port's own requests (it is being destroyed). */
void notify_port_clear(Port *port) {
        if (!port->requests)
                return;
        port->requests->ns_notify = port_unref(port->requests->ns_notify);
        port->requests->pd_notify = port_unref(port->requests->pd_notify);
}

/**
 * notify_request() - arm a notification for the right at @e
 * @variant: NOTIFY_DEAD_NAME, NOTIFY_NO_SENDERS or NOTIFY_PORT_DESTROYED
 * @sync: no-senders: fire at once only if the make-send count has reached it
 *        (closes the race with send rights being made in flight); otherwise
 *        the request fires when the last send right goes
 * @notify: where it goes (a reference is taken), or NULL to cancel
 *
 * A new request replaces an old one.  A dead-name request on a name already
 * dead, or a no-senders request on a port with no senders (and mscount >=
 * @sync), fires at once.
 * Return: 0, NOTIFY_E_INVALID_RIGHT (the name lacks the right the variant
 * needs), NOTIFY_E_INVALID_VALUE (unknown variant; a port as its own
 * backup), NOTIFY_E_NO_MEMORY.
 */
int notify_request(Space *space, SpaceEntry *e, int32_t variant, uint32_t sync, Port *notify) {
        Port *p = e->port;
        /* A request promises a notification, paid for by the notified port's receiver
         * (the requester): none while it is past its quota.  Cancelling is always allowed. */
        Space *payer = notify ? notify->receiver : NULL;
        if (payer && account_full(payer->acct_task, payer->acct_uid, ACCT_KMSGS))
                return NOTIFY_E_NO_MEMORY;
        if (payer && account_full(payer->acct_task, payer->acct_uid, ACCT_KBYTES))
                return NOTIFY_E_NO_MEMORY;
        PortRequests *rq = port_requests(p);
        if (!rq)
                return NOTIFY_E_NO_MEMORY;
        switch (variant) {
        case NOTIFY_DEAD_NAME: {
                if (!(e->bits & (ENTRY_SEND | ENTRY_SEND_ONCE)))
                        return NOTIFY_E_INVALID_RIGHT;
                if (e->dnreq) {
                        dnreq_free(e->dnreq);
                        e->dnreq = NULL;
                }
                if (!notify)
                        return 0;
                if (!p->active) {
                        if (e->urefs < SPACE_UREFS_MAX)
                                e->urefs++;
                        send_int(notify, NOTIFY_DEAD_NAME, e->name);
                        return 0;
                }
                DeadNameReq *r = calloc(1, sizeof(*r));
                if (!r)
                        return NOTIFY_E_NO_MEMORY;
                r->space = space;
                r->name = e->name;
                r->notify = port_ref(notify);
                list_add_tail(&rq->dn_requests, &r->port_link);
                e->dnreq = r;
                return 0;
        }
        case NOTIFY_NO_SENDERS:
                if (!(e->bits & ENTRY_RECEIVE))
                        return NOTIFY_E_INVALID_RIGHT;
                rq->ns_notify = port_unref(rq->ns_notify);
                if (!notify)
                        return 0;
                if (p->n_srights == 0 && p->mscount >= sync) {
                        send_int(notify, NOTIFY_NO_SENDERS, p->mscount);
                        return 0;
                }
                rq->ns_notify = port_ref(notify);
                return 0;
        case NOTIFY_PORT_DESTROYED:
                if (!(e->bits & ENTRY_RECEIVE))
                        return NOTIFY_E_INVALID_RIGHT;
                if (notify == p)
                        return NOTIFY_E_INVALID_VALUE;
                rq->pd_notify = port_unref(rq->pd_notify);
                rq->pd_notify = port_ref(notify);
                return 0;
        default:
                return NOTIFY_E_INVALID_VALUE;
        }
}
