/* SPDX-License-Identifier: MIT */
/*
 * credit.c - send credit: sends that do not wait for the broker
 *
 * The broker grants backlog slots on a port (in a send's reply, and as
 * CREDIT events while they are used and freed again); while we hold one, a
 * plain message to that port — no rights, no out-of-line items, no reply
 * port, the destination a send right used as it is — goes out as a one-way
 * frame and msg_send() returns SEND_SUCCESS at once: its slot is there.
 * Everything else, or no credit, takes the ordinary path, which gives our
 * unused credit for that port back first, so the two paths keep one
 * thread's messages in order.  A REVOKE event (the port died) takes the
 * credit away before anything can tell us of the death.
 *
 * Under the connection's lock (conn_lock()).
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "async.h"

static CreditSlot *slot(port_t name, bool make) {
        for (uint32_t i = 0; i < as.n_credits; i++)
                if (as.credits[i].name == name)
                        return &as.credits[i];
        if (!make)
                return NULL;
        if (as.n_credits == as.cap_credits) {
                uint32_t cap = as.cap_credits ? as.cap_credits * 2 : 8;
                CreditSlot *c = realloc(as.credits, cap * sizeof(*c));
                if (!c)
                        return NULL;
                as.credits = c;
                as.cap_credits = cap;
        }
        CreditSlot *c = &as.credits[as.n_credits++];
        c->name = name;
        c->count = 0;
        return c;
}

static void drop_slot(CreditSlot *c) {
        *c = as.credits[--as.n_credits];
}

/* async_credit_add_locked() - the broker granted @n slots on @name. */
void async_credit_add_locked(port_t name, uint32_t n) {
        CreditSlot *c = n ? slot(name, true) : NULL;
        if (c)
                c->count += n;
}

/*
 * async_credit_forget_locked() - no more credit on @name: revoked by the
 * broker, or (@give_back) given back with the next LENT frame because the
 * right is going.
 */
void async_credit_forget_locked(port_t name, bool give_back) {
        CreditSlot *c = slot(name, false);
        if (!c)
                return;
        if (give_back && c->count && as.n_credit_back < ASYNC_CREDIT_BACK_MAX) {
                as.credit_back[as.n_credit_back].name = name;
                as.credit_back[as.n_credit_back].count = c->count;
                as.n_credit_back++;
        } else if (give_back && c->count) {
                return;         /* no room to say so now: keep it, it goes with a later send */
        }
        drop_slot(c);
}

/* async_credit_forget() - our send right @name may be going: give its credit back. */
void async_credit_forget(port_t name) {
        conn_lock();
        async_credit_forget_locked(name, true);
        conn_unlock();
}

/**
 * async_credit_take() - all our credit for @dest, to give back with an
 * ordinary send to it (which must then keep the one-way ones before it)
 */
uint32_t async_credit_take(port_t dest) {
        conn_lock();
        CreditSlot *c = conn_async_locked() ? slot(dest, false) : NULL;
        uint32_t n = 0;
        if (c) {
                n = c->count > 0xffffu ? 0xffffu : c->count;
                c->count -= n;
                if (!c->count)
                        drop_slot(c);
        }
        conn_unlock();
        return n;
}

/* async_credit_add() - an ordinary send's reply granted @n slots on @dest. */
void async_credit_add(port_t dest, uint32_t n) {
        if (!n)
                return;
        conn_lock();
        if (conn_async_locked())
                async_credit_add_locked(dest, n);
        conn_unlock();
}

/* Can @h go one way?  Plain data to a send right, nothing that makes or moves a right. */
static bool plain(const msg_header_t *h) {
        if (h->msg_local_port != PORT_NULL || (MSG_BITS_REMOTE(h->msg_bits) &&
                                               MSG_BITS_REMOTE(h->msg_bits) != MSG_TYPE_COPY_SEND) ||
            (h->msg_bits & ~(MSG_BITS_COMPLEX | 0xffu)) || h->msg_size > WIRE_ONE_WAY_MAX ||
            h->msg_remote_port == PORT_NULL || h->msg_remote_port == PORT_DEAD)
                return false;
        WireItemIter it;
        WireItem item;
        wire_item_iter_init(&it, (const uint8_t *)h, h->msg_size);
        while (wire_item_next(&it, &item))
                if (wire_disposition_is_valid(item.name) || item.name == MSG_TYPE_MEMORY ||
                    item.name == MSG_TYPE_FD || wire_type_size(item.name) == 0)
                        return false;
        return true;
}

static bool never(void *arg) {
        (void)arg;
        return false;
}

/**
 * async_try_send() - send @h one way, if it may go so and we hold credit
 *
 * Return: 1 sent (its success is certain), 0 not sent (take the ordinary
 * path), or a negative errno (the connection failed).
 */
int async_try_send(const msg_header_t *h) {
        if (!plain(h))
                return 0;
        conn_lock();
        if (!conn_async_locked()) {
                conn_unlock();
                return 0;
        }
        CreditSlot *c = slot(h->msg_remote_port, false);
        if (!c || !c->count) {
                /* Credit the broker granted may be waiting unread: one look, no wait. */
                conn_pump_locked(never, NULL, 0);
                c = slot(h->msg_remote_port, false);
        }
        if (!c || !c->count) {
                conn_unlock();
                return 0;
        }
        if (!--c->count)
                drop_slot(c);
        conn_unlock();
        uint8_t req[WIRE_MSG_REQ_SIZE];
        WireMsgReq q = { .option = WIRE_MSG_SEND };
        wire_msg_req_encode(req, &q);
        struct iovec iov[2] = { { req, sizeof(req) }, { (void *)h, h->msg_size } };
        int r = conn_send_one_way(WIRE_OP_MSG, iov, 2);
        return r < 0 ? r : 1;
}
