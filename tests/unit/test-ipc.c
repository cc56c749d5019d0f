/* SPDX-License-Identifier: MIT */
/* test-ipc.c - the IPC core without sockets: spaces, rights, queues, sets */

#include <check.h>
#include "suite.h"
#include <stdlib.h>
#include <string.h>
#include "ipc/ipc.h"
#include "ipc/kmsg.h"
#include "ipc/port.h"
#include "ipc/space.h"
#include "idmap.h"

static Space *A, *B;

static void setup(void) {
        ck_assert_int_eq(space_new(&A, NULL, 1024), 0);
        ck_assert_int_eq(space_new(&B, NULL, 1024), 0);
}

static void teardown(void) {
        ipc_space_terminate(A);
        ipc_space_terminate(B);
        space_validate(A);
        space_validate(B);
        space_free(A);
        space_free(B);
        /* Everything the test made is gone: no port leaked. */
        Waiter *w;
        while ((w = ipc_done_pop()))
                w->kmsg = kmsg_free(w->kmsg);
        ck_assert_uint_eq(port_count(), 0);
}

/* A new port whose receive right @s holds. */
static uint32_t new_port(Space *s) {
        Port *p;
        SpaceEntry *e;
        ck_assert_int_eq(port_new(&p, false), 0);
        ck_assert_int_eq(space_alloc(s, p, ENTRY_RECEIVE, &e), 0);
        p->receiver = s;
        p->receiver_name = e->name;
        return e->name;
}

/* Give @to a send right to the port @name denotes in @from. */
static uint32_t give_send(Space *from, uint32_t name, Space *to) {
        Port *p = space_lookup(from, name)->port;
        p->n_srights++;
        p->mscount++;
        return kmsg_copyout_right(to, port_ref(p), RIGHT_SEND);
}

static uint8_t mbuf[512] __attribute__((aligned(8)));

/* Header + one port item of @n names with @disp (0: no item). */
static uint32_t build(uint32_t dest, uint32_t bits, uint32_t reply, uint16_t disp,
                      const uint32_t *names, uint32_t n) {
        memset(mbuf, 0, sizeof(mbuf));
        uint32_t size = sizeof(msg_header_t) + (disp ? MSG_ITEM_SIZE(4 * n) : 0);
        msg_header_t h = { .msg_size = size, .msg_remote_port = dest, .msg_local_port = reply,
                           .msg_bits = bits, .msg_id = 9 };
        wire_msg_header_put(mbuf, &h);
        if (disp) {
                msg_type_t t = { disp, 0, n };
                memcpy(mbuf + sizeof(h), &t, sizeof(t));
                memcpy(mbuf + sizeof(h) + sizeof(t), names, 4 * n);
        }
        return size;
}

static int send_from(Space *s, uint32_t size, Kmsg **kp) {
        WireMsgInfo info;
        int r = wire_msg_check(mbuf, size, 0, &info);
        if (r)
                return r;
        return kmsg_copyin(s, mbuf, size, 0, &info, NULL, 0, kp);
}

START_TEST(test_idmap) {
        IdMap m = IDMAP_NULL;
        enum { N = 5000 };
        for (uintptr_t i = 1; i <= N; i++)
                ck_assert_int_eq(idmap_put(&m, (uint64_t)(i * 64), (uint32_t)i), 0);
        ck_assert_uint_eq(m.n, N);
        for (uintptr_t i = 1; i <= N; i += 2)
                ck_assert_int_eq(idmap_del(&m, (uint64_t)(i * 64)), 0);
        for (uintptr_t i = 1; i <= N; i++) {
                uint32_t v = 0;
                int r = idmap_get(&m, (uint64_t)(i * 64), &v);
                if (i % 2) {
                        ck_assert_int_lt(r, 0);
                } else {
                        ck_assert_int_eq(r, 0);
                        ck_assert_uint_eq(v, i);
                }
        }
        ck_assert_int_lt(idmap_del(&m, (uint64_t)64), 0);
        /* Replacing a key keeps one entry and never moves the table; keys need not be addresses. */
        IdMapSlot *slots = m.slots;
        uint32_t n = m.n;
        for (uintptr_t i = 2; i <= N; i += 2)
                ck_assert_int_eq(idmap_put(&m, (uint64_t)(i * 64), (uint32_t)(i + 1)), 0);
        ck_assert_ptr_eq(m.slots, slots);
        ck_assert_uint_eq(m.n, n);
        uint32_t v = 0;
        ck_assert_int_eq(idmap_get(&m, 128, &v), 0);
        ck_assert_uint_eq(v, 3);
        ck_assert_int_eq(idmap_put(&m, UINT64_C(0x8000000000000001), 7), 0);
        ck_assert_int_eq(idmap_get(&m, UINT64_C(0x8000000000000001), &v), 0);
        ck_assert_uint_eq(v, 7);
        ck_assert_int_lt(idmap_get(&m, 1, &v), 0);
        idmap_deinit(&m);
}
END_TEST

START_TEST(test_space_names) {
        uint32_t a = new_port(A), b = new_port(A);
        ck_assert_uint_ne(a, 0);
        ck_assert_uint_ne(a, b);
        ck_assert_ptr_null(space_lookup(A, 0));
        ck_assert_ptr_null(space_lookup(A, 0xffffffffu));
        ck_assert_ptr_null(space_lookup(A, a ^ 1));     /* wrong generation */
        ck_assert_ptr_null(space_lookup(A, (a & ~0xffu) + 0x100000));
        /* A freed name is not reused at once. */
        SpaceEntry *e = space_lookup(A, a);
        Port *p = e->port;
        p->receiver = NULL;
        ipc_port_destroy(p);
        space_dealloc(A, e);
        uint32_t c = new_port(A);
        ck_assert_uint_ne(c, a);
        ck_assert_ptr_null(space_lookup(A, a));
        space_validate(A);
}
END_TEST

static void drop_port(Space *s, uint32_t name) {
        SpaceEntry *e = space_lookup(s, name);
        Port *p = e->port;
        p->receiver = NULL;
        ipc_port_destroy(p);
        space_dealloc(s, e);
}

/*
 * The guarantee of doc/api.md: a deallocated name denotes nothing until its
 * slot has been handed out SPACE_GEN_MAX more times; slots never used go
 * first, freed ones are reused oldest first.
 */
START_TEST(test_space_name_reuse) {
        Space *s;
        ck_assert_int_eq(space_new(&s, NULL, 8), 0);
        uint32_t first = new_port(s), second = new_port(s);
        drop_port(s, first);
        /* The 6 slots never used come before the freed one. */
        uint32_t fresh[6];
        for (int i = 0; i < 6; i++) {
                fresh[i] = new_port(s);
                ck_assert_uint_ne(SPACE_NAME_INDEX(fresh[i]), SPACE_NAME_INDEX(first));
        }
        /* Full table (8 names): the freed slot now, with the next generation. */
        uint32_t again = new_port(s);
        ck_assert_uint_eq(SPACE_NAME_INDEX(again), SPACE_NAME_INDEX(first));
        ck_assert_uint_eq(SPACE_NAME_GEN(again), SPACE_NAME_GEN(first) + 1);
        ck_assert_ptr_null(space_lookup(s, first));
        /* Oldest first: free second, then a fresh one; second's slot comes back first. */
        drop_port(s, second);
        drop_port(s, fresh[0]);
        uint32_t x = new_port(s), y = new_port(s);
        ck_assert_uint_eq(SPACE_NAME_INDEX(x), SPACE_NAME_INDEX(second));
        ck_assert_uint_eq(SPACE_NAME_INDEX(y), SPACE_NAME_INDEX(fresh[0]));
        /* One slot cycled: its old name comes back only after SPACE_GEN_MAX allocations. */
        uint32_t name = x;
        for (uint32_t i = 1; i <= SPACE_GEN_MAX; i++) {
                drop_port(s, name);
                name = new_port(s);
                ck_assert_uint_eq(SPACE_NAME_INDEX(name), SPACE_NAME_INDEX(x));
                if (i < SPACE_GEN_MAX)
                        ck_assert_uint_ne(name, x);
                space_validate(s);
        }
        ck_assert_uint_eq(name, x);
        ipc_space_terminate(s);
        space_free(s);
}
END_TEST

/* space_alloc_name(): the old name if its slot is still free, else a new one. */
START_TEST(test_space_alloc_name) {
        uint32_t a = new_port(A);
        Port *p = space_lookup(A, a)->port;
        port_ref(p);
        space_dealloc(A, space_lookup(A, a));
        SpaceEntry *e;
        ck_assert_int_eq(space_alloc_name(A, p, ENTRY_RECEIVE, a, &e), 0);
        ck_assert_uint_eq(e->name, a);
        space_validate(A);
        /* Taken meanwhile (by the next generation of the slot): a new name. */
        port_ref(p);
        space_dealloc(A, e);
        Space *s = A;
        uint32_t n_free = s->n_slots - 1 - s->n_used;
        uint32_t taken[1024];
        for (uint32_t i = 0; i < n_free; i++)
                taken[i] = new_port(A);
        ck_assert_ptr_null(space_lookup(A, a));
        ck_assert_int_eq(space_alloc_name(A, p, ENTRY_RECEIVE, a, &e), 0);
        ck_assert_uint_ne(e->name, a);
        p->receiver = A;
        p->receiver_name = e->name;
        (void)taken;
        space_validate(A);
}
END_TEST

START_TEST(test_space_quota) {
        Space *s;
        ck_assert_int_eq(space_new(&s, NULL, 3), 0);
        for (int i = 0; i < 3; i++)
                new_port(s);
        Port *p;
        SpaceEntry *e;
        ck_assert_int_eq(port_new(&p, false), 0);
        ck_assert_int_eq(space_alloc(s, p, ENTRY_RECEIVE, &e), SPACE_E_NO_SPACE);
        p->active = false;
        port_unref(p);
        ipc_space_terminate(s);
        space_free(s);
}
END_TEST

START_TEST(test_send_coalesces) {
        uint32_t p = new_port(B), q = new_port(A);
        uint32_t ap = give_send(B, p, A);
        Kmsg *k;
        for (int i = 0; i < 3; i++) {
                uint32_t n = build(ap, 0, 0, MSG_TYPE_MAKE_SEND, &q, 1);
                ck_assert_int_eq(send_from(A, n, &k), 0);
                ck_assert_int_eq(ipc_send(k, A, 0, 0, NULL), 0);
        }
        Port *qp = space_lookup(A, q)->port;
        ck_assert_uint_eq(qp->n_srights, 3);
        ck_assert_uint_eq(qp->mscount, 3);
        uint8_t out[512];
        uint32_t name = 0;
        for (int i = 0; i < 3; i++) {
                Waiter w;
                uint32_t needed;
                waiter_init(&w, B);
                ck_assert_int_eq(ipc_receive(space_lookup(B, p)->port, &w, RCV_TIMEOUT, 0, 512, &k, &needed), 0);
                kmsg_copyout(B, k, out);
                kmsg_free(k);
                msg_type_t t;
                memcpy(&t, out + sizeof(msg_header_t), sizeof(t));
                ck_assert_uint_eq(t.msg_type_name, MSG_TYPE_PORT_SEND);
                uint32_t got;
                memcpy(&got, out + sizeof(msg_header_t) + sizeof(t), 4);
                if (i)
                        ck_assert_uint_eq(got, name);   /* one name for one port */
                name = got;
        }
        SpaceEntry *e = space_lookup(B, name);
        ck_assert_ptr_nonnull(e);
        ck_assert_uint_eq(e->urefs, 3);
        ck_assert_uint_eq(qp->n_srights, 1);    /* one entry holds them all */
        space_validate(A);
        space_validate(B);
        port_validate(qp);
}
END_TEST

START_TEST(test_failed_copyin_moves_nothing) {
        uint32_t p = new_port(B);
        uint32_t ap = give_send(B, p, A);
        uint32_t names[2] = { ap, ap };
        Kmsg *k;
        /* Two move-sends of a name with one reference: refused, nothing taken. */
        uint32_t n = build(ap, MSG_BITS(MSG_TYPE_COPY_SEND, 0), 0, MSG_TYPE_MOVE_SEND, names, 2);
        ck_assert_int_eq(send_from(A, n, &k), SEND_INVALID_RIGHT);
        ck_assert_uint_eq(space_lookup(A, ap)->urefs, 1);
        /* Dest moved and a body move of the same last reference: refused. */
        n = build(ap, MSG_BITS(MSG_TYPE_MOVE_SEND, 0), 0, MSG_TYPE_MOVE_SEND, names, 1);
        ck_assert_int_eq(send_from(A, n, &k), SEND_INVALID_RIGHT);
        ck_assert_uint_eq(space_lookup(A, ap)->urefs, 1);
        /* Move-send plus copy-send of the last reference works (copy first). */
        n = build(ap, MSG_BITS(MSG_TYPE_MOVE_SEND, 0), 0, MSG_TYPE_COPY_SEND, names, 1);
        ck_assert_int_eq(send_from(A, n, &k), 0);
        ck_assert_ptr_null(space_lookup(A, ap));
        ck_assert_int_eq(ipc_send(k, A, 0, 0, NULL), 0);
        space_validate(A);
        /* A receive right moved twice: refused. */
        uint32_t q = new_port(A), ap2 = give_send(B, p, A);
        uint32_t qq[2] = { q, q };
        n = build(ap2, 0, 0, MSG_TYPE_MOVE_RECEIVE, qq, 2);
        ck_assert_int_eq(send_from(A, n, &k), SEND_INVALID_RIGHT);
        ck_assert_ptr_eq(space_lookup(A, q)->port->receiver, A);
}
END_TEST

START_TEST(test_move_receive_keeps_queue) {
        uint32_t p = new_port(B), q = new_port(A);
        uint32_t ap = give_send(B, p, A);
        Port *qp = space_lookup(A, q)->port;
        /* Queue two messages on q, then send q's receive right to B. */
        uint32_t aq = give_send(A, q, A);
        ck_assert_uint_eq(aq, q);       /* coalesced with the receive right */
        Kmsg *k;
        for (int i = 0; i < 2; i++) {
                uint32_t n = build(q, 0, 0, 0, NULL, 0);
                ck_assert_int_eq(send_from(A, n, &k), 0);
                ck_assert_int_eq(ipc_send(k, A, 0, 0, NULL), 0);
        }
        uint32_t n = build(ap, 0, 0, MSG_TYPE_MOVE_RECEIVE, &q, 1);
        ck_assert_int_eq(send_from(A, n, &k), 0);
        ck_assert_ptr_null(qp->receiver);       /* in transit */
        ck_assert_uint_eq(qp->msgcount, 2);
        /* A keeps its send right under the same name. */
        ck_assert_uint_eq(space_lookup(A, q)->bits, ENTRY_SEND);
        ck_assert_int_eq(ipc_send(k, A, 0, 0, NULL), 0);
        Waiter w;
        uint32_t needed;
        uint8_t out[512];
        waiter_init(&w, B);
        ck_assert_int_eq(ipc_receive(space_lookup(B, p)->port, &w, 0, 0, 512, &k, &needed), 0);
        kmsg_copyout(B, k, out);
        kmsg_free(k);
        ck_assert_ptr_eq(qp->receiver, B);
        ck_assert_uint_eq(qp->msgcount, 2);
        SpaceEntry *e = space_find_port(B, qp);
        ck_assert_ptr_nonnull(e);
        ck_assert_uint_eq(e->bits, ENTRY_RECEIVE);
        space_validate(A);
        space_validate(B);
        port_validate(qp);
}
END_TEST

START_TEST(test_backlog_and_waiters) {
        uint32_t p = new_port(B);
        Port *pp = space_lookup(B, p)->port;
        pp->qlimit = 1;
        uint32_t ap = give_send(B, p, A);
        Kmsg *k;
        uint32_t n = build(ap, 0, 0, 0, NULL, 0);
        ck_assert_int_eq(send_from(A, n, &k), 0);
        ck_assert_int_eq(ipc_send(k, A, 0, 0, NULL), 0);
        ck_assert_int_eq(send_from(A, n, &k), 0);
        ck_assert_int_eq(ipc_send(k, A, SEND_TIMEOUT, 0, NULL), SEND_TIMED_OUT);
        Waiter ws;
        waiter_init(&ws, A);
        ck_assert_int_eq(ipc_send(k, A, 0, 0, &ws), IPC_WAIT);
        ck_assert_uint_eq(pp->n_senders, 1);
        port_validate(pp);
        ck_assert_ptr_null(ipc_done_pop());
        /* A receive admits the blocked sender. */
        Waiter wr;
        uint32_t needed;
        waiter_init(&wr, B);
        ck_assert_int_eq(ipc_receive(pp, &wr, 0, 0, 512, &k, &needed), 0);
        kmsg_free(k);
        Waiter *w = ipc_done_pop();
        ck_assert_ptr_eq(w, &ws);
        ck_assert_uint_eq(w->phase, WAITER_SEND);
        ck_assert_int_eq(w->status, 0);
        ck_assert_uint_eq(pp->msgcount, 1);
        /* A receive that must wait is woken by a send. */
        ck_assert_int_eq(ipc_receive(pp, &wr, 0, 0, 512, &k, &needed), 0);
        kmsg_free(k);
        ck_assert_int_eq(ipc_receive(pp, &wr, 0, 0, 512, &k, &needed), IPC_WAIT);
        ck_assert_int_eq(send_from(A, n, &k), 0);
        ck_assert_int_eq(ipc_send(k, A, 0, 0, NULL), 0);
        w = ipc_done_pop();
        ck_assert_ptr_eq(w, &wr);
        ck_assert_int_eq(w->status, 0);
        ck_assert_ptr_nonnull(w->kmsg);
        w->kmsg = kmsg_free(w->kmsg);
        port_validate(pp);
}
END_TEST

START_TEST(test_destroy_sends_send_once_notifications) {
        uint32_t p = new_port(B), reply = new_port(A);
        uint32_t ap = give_send(B, p, A);
        Kmsg *k;
        uint32_t n = build(ap, MSG_BITS(0, MSG_TYPE_MAKE_SEND_ONCE), reply, 0, NULL, 0);
        ck_assert_int_eq(send_from(A, n, &k), 0);
        ck_assert_int_eq(ipc_send(k, A, 0, 0, NULL), 0);
        Port *rp = space_lookup(A, reply)->port;
        ck_assert_uint_eq(rp->n_sorights, 1);
        /* B dies with the request queued: the reply port hears of it. */
        ipc_space_terminate(B);
        ck_assert_uint_eq(rp->n_sorights, 0);
        ck_assert_uint_eq(rp->msgcount, 1);
        Kmsg *note = list_entry(list_first(&rp->queue), Kmsg, link);
        msg_header_t h;
        wire_msg_header_get(note->data, &h);
        ck_assert_int_eq(h.msg_id, NOTIFY_SEND_ONCE);
        ck_assert(note->from_kernel);
        /* A's send right is now a dead name. */
        ck_assert_uint_eq(space_entry_type(space_lookup(A, ap)), ENTRY_DEAD_NAME);
        n = build(ap, 0, 0, 0, NULL, 0);
        ck_assert_int_eq(send_from(A, n, &k), SEND_INVALID_DEST);
}
END_TEST

START_TEST(test_set_round_robin) {
        Port *set;
        SpaceEntry *e;
        ck_assert_int_eq(port_new(&set, true), 0);
        ck_assert_int_eq(space_alloc(B, set, ENTRY_PORT_SET, &e), 0);
        set->receiver = B;
        set->receiver_name = e->name;
        Port *m[3];
        for (int i = 0; i < 3; i++) {
                m[i] = space_lookup(B, new_port(B))->port;
                m[i]->qlimit = 16;
                port_set_add(set, m[i]);
        }
        Kmsg *k;
        for (int i = 0; i < 3; i++) {
                for (int j = 0; j < 4; j++) {
                        ck_assert_int_eq(kmsg_new(&k, sizeof(msg_header_t), 0, 0), 0);
                        msg_header_t h = { .msg_size = sizeof(h), .msg_id = i };
                        wire_msg_header_put(k->data, &h);
                        k->dest = port_ref(m[i]);
                        k->dest_kind = RIGHT_KERNEL;
                        ck_assert_int_eq(ipc_send(k, NULL, 0, 0, NULL), 0);
                }
        }
        for (int r = 0; r < 12; r++) {
                Waiter w;
                uint32_t needed;
                waiter_init(&w, B);
                ck_assert_int_eq(ipc_receive(set, &w, 0, 0, 512, &k, &needed), 0);
                msg_header_t h;
                wire_msg_header_get(k->data, &h);
                ck_assert_int_eq(h.msg_id, r % 3);
                kmsg_free(k);
        }
        port_validate(set);
}
END_TEST

int main(void) {
        Suite *s = suite_create("IPC core");
        TCase *tc = tcase_create("core");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_idmap);
        tcase_add_test(tc, test_space_names);
        tcase_add_test(tc, test_space_name_reuse);
        tcase_add_test(tc, test_space_alloc_name);
        tcase_add_test(tc, test_space_quota);
        tcase_add_test(tc, test_send_coalesces);
        tcase_add_test(tc, test_failed_copyin_moves_nothing);
        tcase_add_test(tc, test_move_receive_keeps_queue);
        tcase_add_test(tc, test_backlog_and_waiters);
        tcase_add_test(tc, test_destroy_sends_send_once_notifications);
        tcase_add_test(tc, test_set_round_robin);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
