/* SPDX-License-Identifier: MIT */
/* test-portset.c - port sets: membership, which member, fairness, wake-ups */

#include <pthread.h>
#include <string.h>
#include <unistd.h>
#include "fixture.h"

static port_t new_port(void) {
        port_t p;
        ck_assert_int_eq(port_allocate(task_self(), &p), KERN_SUCCESS);
        ck_assert_int_eq(port_set_backlog(task_self(), p, 64), KERN_SUCCESS);
        return p;
}

START_TEST(test_membership_codes) {
        port_t set, set2, p = new_port(), q = new_port();
        ck_assert_int_eq(port_set_allocate(task_self(), &set), KERN_SUCCESS);
        ck_assert_int_eq(port_set_allocate(task_self(), &set2), KERN_SUCCESS);
        port_type_t t;
        ck_assert_int_eq(port_type(task_self(), set, &t), 0);
        ck_assert_uint_eq(t, PORT_TYPE_PORT_SET);
        ck_assert_int_eq(port_set_add(task_self(), set, p), KERN_SUCCESS);
        ck_assert_int_eq(port_set_add(task_self(), set, p), KERN_ALREADY_IN_SET);
        ck_assert_int_eq(port_set_add(task_self(), set2, p), KERN_ALREADY_IN_SET);
        ck_assert_int_eq(port_set_add(task_self(), p, q), KERN_INVALID_RIGHT);
        ck_assert_int_eq(port_set_add(task_self(), set, task_self()), KERN_INVALID_RIGHT);
        ck_assert_int_eq(port_set_add(task_self(), 0x12300, q), KERN_INVALID_NAME);
        ck_assert_int_eq(port_set_add(task_self(), set, 0x12300), KERN_INVALID_NAME);
        port_status_t st;
        ck_assert_int_eq(port_status(task_self(), p, &st), 0);
        ck_assert_uint_eq(st.set, set);
        ck_assert_int_eq(port_status(task_self(), set, &st), KERN_SUCCESS);
        ck_assert_uint_eq(st.n_receivers, 0);
        ck_assert_int_eq(port_set_remove(task_self(), q), KERN_NOT_IN_SET);
        ck_assert_int_eq(port_set_remove(task_self(), set), KERN_INVALID_RIGHT);
        ck_assert_int_eq(port_set_remove(task_self(), p), KERN_SUCCESS);
        ck_assert_int_eq(port_status(task_self(), p, &st), 0);
        ck_assert_uint_eq(st.set, PORT_NULL);
        ck_assert_int_eq(port_set_add(task_self(), set2, p), KERN_SUCCESS);
        /* Sending to a set is not possible. */
        ck_assert_int_eq(test_send_int(set, 1, 1, 0, 0, 0, 0), SEND_INVALID_DEST);
        /* An empty set polls empty. */
        int32_t v;
        ck_assert_int_eq(test_recv_int(set, NULL, &v, NULL, RCV_TIMEOUT, 0), RCV_TIMED_OUT);
}
END_TEST

START_TEST(test_receive_names_member) {
        port_t set, a = new_port(), b = new_port();
        ck_assert_int_eq(port_set_allocate(task_self(), &set), 0);
        ck_assert_int_eq(port_set_add(task_self(), set, a), 0);
        ck_assert_int_eq(port_set_add(task_self(), set, b), 0);
        ck_assert_int_eq(test_send_int(b, 2, 22, 0, 0, 0, 0), 0);
        TestIntMsg m = { 0 };
        m.head.msg_size = sizeof(m);
        m.head.msg_local_port = set;
        ck_assert_int_eq(msg_receive(&m.head, RCV_TIMEOUT, 0), 0);
        ck_assert_uint_eq(m.head.msg_local_port, b);
        ck_assert_int_eq(m.value, 22);
        /* Messages already queued are found when a port joins a set. */
        port_t c = new_port(), set3;
        ck_assert_int_eq(test_send_int(c, 3, 33, 0, 0, 0, 0), 0);
        ck_assert_int_eq(port_set_allocate(task_self(), &set3), 0);
        ck_assert_int_eq(port_set_add(task_self(), set3, c), 0);
        m.head.msg_size = sizeof(m);
        m.head.msg_local_port = set3;
        ck_assert_int_eq(msg_receive(&m.head, RCV_TIMEOUT, 0), 0);
        ck_assert_uint_eq(m.head.msg_local_port, c);
        /* A member can still be received from directly. */
        ck_assert_int_eq(test_send_int(a, 4, 44, 0, 0, 0, 0), 0);
        int32_t v;
        ck_assert_int_eq(test_recv_int(a, NULL, &v, NULL, RCV_TIMEOUT, 0), 0);
        ck_assert_int_eq(v, 44);
        ck_assert_int_eq(test_recv_int(set, NULL, &v, NULL, RCV_TIMEOUT, 0), RCV_TIMED_OUT);
}
END_TEST

START_TEST(test_fairness) {
        enum { N = 4, EACH = 20 };
        port_t set, p[N];
        ck_assert_int_eq(port_set_allocate(task_self(), &set), 0);
        for (int i = 0; i < N; i++) {
                p[i] = new_port();
                ck_assert_int_eq(port_set_add(task_self(), set, p[i]), 0);
        }
        /* Port 0 is flooded first, then the others; no member may starve. */
        for (int i = 0; i < N; i++)
                for (int j = 0; j < EACH; j++)
                        ck_assert_int_eq(test_send_int(p[i], i, j, 0, 0, 0, 0), 0);
        int got[N] = { 0 };
        for (int k = 0; k < N * EACH; k++) {
                TestIntMsg m = { 0 };
                m.head.msg_size = sizeof(m);
                m.head.msg_local_port = set;
                ck_assert_int_eq(msg_receive(&m.head, RCV_TIMEOUT, 0), 0);
                int i = m.head.msg_id;
                ck_assert_int_ge(i, 0);
                ck_assert_int_lt(i, N);
                ck_assert_uint_eq(m.head.msg_local_port, p[i]);
                ck_assert_int_eq(m.value, got[i]);      /* FIFO per member */
                got[i]++;
                /* Round robin: no member is more than one turn ahead of another. */
                for (int a = 0; a < N; a++)
                        for (int b = 0; b < N; b++)
                                ck_assert_int_le(got[a] - got[b], 1);
        }
}
END_TEST

typedef struct {
        port_t port;
        msg_return_t result;
        port_t local;
        int32_t value;
} Waiting;

static void *wait_on(void *arg) {
        Waiting *w = arg;
        TestIntMsg m = { 0 };
        m.head.msg_size = sizeof(m);
        m.head.msg_local_port = w->port;
        w->result = msg_receive(&m.head, RCV_TIMEOUT, 10000);
        w->local = m.head.msg_local_port;
        w->value = m.value;
        return NULL;
}

static void wait_until_receiving(port_t port) {
        uint64_t deadline = test_now_ms() + 10000;
        port_status_t st;
        do {
                ck_assert_uint_lt(test_now_ms(), deadline);
                ck_assert_int_eq(port_status(task_self(), port, &st), 0);
        } while (st.n_receivers == 0);
}

START_TEST(test_waiter_on_set_woken) {
        port_t set, a = new_port(), b = new_port();
        ck_assert_int_eq(port_set_allocate(task_self(), &set), 0);
        ck_assert_int_eq(port_set_add(task_self(), set, a), 0);
        ck_assert_int_eq(port_set_add(task_self(), set, b), 0);
        Waiting w = { .port = set };
        pthread_t th;
        ck_assert_int_eq(pthread_create(&th, NULL, wait_on, &w), 0);
        wait_until_receiving(set);
        ck_assert_int_eq(test_send_int(b, 1, 9, 0, 0, 0, 0), 0);
        pthread_join(th, NULL);
        ck_assert_int_eq(w.result, 0);
        ck_assert_uint_eq(w.local, b);
        ck_assert_int_eq(w.value, 9);
}
END_TEST

START_TEST(test_destroy_wakes_waiters) {
        port_t set, a = new_port();
        ck_assert_int_eq(port_set_allocate(task_self(), &set), 0);
        ck_assert_int_eq(port_set_add(task_self(), set, a), 0);
        Waiting ws = { .port = set }, wp = { .port = a };
        pthread_t t1, t2;
        ck_assert_int_eq(pthread_create(&t1, NULL, wait_on, &ws), 0);
        ck_assert_int_eq(pthread_create(&t2, NULL, wait_on, &wp), 0);
        wait_until_receiving(set);
        wait_until_receiving(a);
        ck_assert_int_eq(port_deallocate(task_self(), a), 0);
        pthread_join(t2, NULL);
        ck_assert_int_eq(wp.result, RCV_PORT_DIED);
        ck_assert_int_eq(port_deallocate(task_self(), set), 0);
        pthread_join(t1, NULL);
        ck_assert_int_eq(ws.result, RCV_PORT_DIED);
}
END_TEST

int main(void) {
        Suite *s = suite_create("Port sets");
        TCase *tc = tcase_create("portset");
        tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
        tcase_set_timeout(tc, 30);
        ADD_TEST(tc, test_membership_codes);
        ADD_TEST(tc, test_receive_names_member);
        ADD_TEST(tc, test_fairness);
        ADD_TEST(tc, test_waiter_on_set_woken);
        ADD_TEST(tc, test_destroy_wakes_waiters);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
