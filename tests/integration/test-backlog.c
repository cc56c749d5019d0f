/* SPDX-License-Identifier: MIT */
/* test-backlog.c - queue limits: the four choices on a full queue, rendezvous */

#include <errno.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "fixture.h"

static port_t new_port(uint32_t backlog) {
        port_t p;
        ck_assert_int_eq(port_allocate(task_self(), &p), KERN_SUCCESS);
        ck_assert_int_eq(port_set_backlog(task_self(), p, backlog), KERN_SUCCESS);
        return p;
}

static port_status_t status_of(port_t p) {
        port_status_t st;
        ck_assert_int_eq(port_status(task_self(), p, &st), KERN_SUCCESS);
        return st;
}

/* Wait until @p has @n blocked senders (the child is blocked, not just slow). */
static void wait_blocked(port_t p, uint32_t n) {
        uint64_t deadline = test_now_ms() + 10000;
        while (status_of(p).n_blocked != n) {
                ck_assert_msg(test_now_ms() < deadline, "sender never blocked");
                usleep(1000);
        }
}

static void fill(port_t p, uint32_t n) {
        for (uint32_t i = 0; i < n; i++)
                ck_assert_int_eq(test_send_int(p, 1, (int32_t)i, 0, 0, SEND_TIMEOUT, 0), 0);
}

START_TEST(test_default_backlog_is_8) {
        port_t p;
        ck_assert_int_eq(port_allocate(task_self(), &p), 0);
        ck_assert_uint_eq(status_of(p).backlog, 8);
        fill(p, 8);
        ck_assert_int_eq(test_send_int(p, 1, 8, 0, 0, SEND_TIMEOUT, 0), SEND_TIMED_OUT);
        ck_assert_uint_eq(status_of(p).msgcount, 8);
}
END_TEST

START_TEST(test_full_return_at_once) {
        port_t p = new_port(2), keep;
        fill(p, 2);
        ck_assert_int_eq(port_allocate(task_self(), &keep), 0);
        /* The message and its rights stay with the caller, untouched. */
        TestIntMsg m = { 0 };
        msg_type_init(&m.t, MSG_TYPE_INTEGER_32, 1);
        msg_type_init(&m.rt, MSG_TYPE_MOVE_RECEIVE, 1);
        m.right = keep;
        m.value = 99;
        m.head.msg_size = sizeof(m);
        m.head.msg_remote_port = p;
        uint64_t t0 = test_now_ms();
        ck_assert_int_eq(msg_send(&m.head, SEND_TIMEOUT, 0), SEND_TIMED_OUT);
        ck_assert_uint_lt(test_now_ms() - t0, 1000);
        ck_assert_uint_eq(m.right, keep);
        port_type_t t;
        ck_assert_int_eq(port_type(task_self(), keep, &t), 0);
        ck_assert_uint_eq(t, PORT_TYPE_RECEIVE);
        ck_assert_uint_eq(status_of(p).msgcount, 2);
}
END_TEST

START_TEST(test_full_wait_at_most) {
        port_t p = new_port(1), keep;
        fill(p, 1);
        ck_assert_int_eq(port_allocate(task_self(), &keep), 0);
        TestIntMsg m = { 0 };
        msg_type_init(&m.t, MSG_TYPE_INTEGER_32, 1);
        msg_type_init(&m.rt, MSG_TYPE_MAKE_SEND, 1);
        m.right = keep;
        m.value = 7;
        m.head.msg_size = sizeof(m);
        m.head.msg_remote_port = p;
        m.head.msg_id = 4242;
        uint64_t t0 = test_now_ms();
        ck_assert_int_eq(msg_send(&m.head, SEND_TIMEOUT, 200), SEND_TIMED_OUT);
        uint64_t dt = test_now_ms() - t0;
        ck_assert_uint_ge(dt, 190);
        ck_assert_uint_lt(dt, 5000);
        /* The message came back as it was sent, ready to send again, and
         * the send right it made is undone: we hold what we held. */
        ck_assert_int_eq(m.head.msg_id, 4242);
        ck_assert_int_eq(m.value, 7);
        ck_assert_uint_eq(m.head.msg_remote_port, p);
        ck_assert_uint_eq(m.right, keep);
        ck_assert_uint_eq(m.rt.msg_type_name, MSG_TYPE_MAKE_SEND);
        port_status_t st = status_of(keep);
        ck_assert_uint_eq(st.urefs, 0);
        ck_assert_uint_eq(st.n_send, 0);
        ck_assert_uint_eq(st.mscount, 0);
        port_type_t t;
        ck_assert_int_eq(port_type(task_self(), p, &t), 0);
        ck_assert_uint_eq(t, PORT_TYPE_RECEIVE);
        ck_assert_uint_eq(status_of(p).msgcount, 1);
        ck_assert_uint_eq(status_of(p).n_blocked, 0);
}
END_TEST

static port_t shared_port;

static int drain_one_later(void *arg) {
        (void)arg;
        port_t p = test_bootstrap_lookup();
        /* Tell the parent we are here, then wait for its go. */
        port_t mine;
        if (port_allocate(task_self(), &mine) != 0)
                return 1;
        if (test_send_int(p, 10, 0, mine, MSG_TYPE_MAKE_SEND, 0, 0) != 0)
                return 1;
        int32_t id;
        port_t full = PORT_NULL;
        if (test_recv_int(mine, &id, NULL, &full, 0, 0) != 0 || id != 11 || full == PORT_NULL)
                return 1;
        (void)full;
        return 0;
}

START_TEST(test_full_wait_forever) {
        /* The parent blocks on a full queue; another task receives one message
         * (through a receive right it was given) and the send completes. */
        port_t boot = test_bootstrap_serve();
        port_t p = new_port(1);
        fill(p, 1);
        pid_t child = test_fork(drain_one_later, NULL);
        port_t childp = PORT_NULL;
        int32_t id;
        ck_assert_int_eq(test_recv_int(boot, &id, NULL, &childp, 0, 0), 0);
        ck_assert_int_eq(id, 10);
        /* Hand the child the receive right of p; the queued message goes with it. */
        (void)shared_port;
        ck_assert_int_eq(test_send_int(childp, 11, 0, p, MSG_TYPE_MAKE_SEND, 0, 0), 0);
        ck_assert_int_eq(test_wait(child), 0);

        /* Now a blocking sender and a receiver in two tasks. */
        ck_assert_uint_eq(status_of(p).msgcount, 1);
        ck_assert_int_eq(test_send_int(p, 1, 1, 0, 0, SEND_TIMEOUT, 0), SEND_TIMED_OUT);
}
END_TEST

static int blocked_sender(void *arg) {
        uint32_t backlog = *(uint32_t *)arg;
        port_t p = test_bootstrap_lookup();
        /* The queue behind the bootstrap port is full (backlog @backlog, or 0):
         * this blocks until the parent receives. */
        msg_return_t r = test_send_int(p, 20, 1234, 0, 0, MSG_OPTION_NONE, 0);
        (void)backlog;
        return r == 0 ? 0 : 1;
}

START_TEST(test_full_wait_forever_two_tasks) {
        port_t boot = test_bootstrap_serve();
        uint32_t b = 3;
        ck_assert_int_eq(port_set_backlog(task_self(), boot, b), 0);
        fill(boot, b);
        pid_t child = test_fork(blocked_sender, &b);
        wait_blocked(boot, 1);
        ck_assert_uint_eq(status_of(boot).msgcount, b);
        /* Still blocked: the child has not exited. */
        ck_assert_int_eq(waitpid(child, NULL, WNOHANG), 0);
        int32_t v;
        for (uint32_t i = 0; i < b; i++) {
                ck_assert_int_eq(test_recv_int(boot, NULL, &v, NULL, 0, 0), 0);
                ck_assert_int_eq(v, (int32_t)i);
        }
        ck_assert_int_eq(test_wait(child), 0);
        int32_t id;
        ck_assert_int_eq(test_recv_int(boot, &id, &v, NULL, RCV_TIMEOUT, 0), 0);
        ck_assert_int_eq(id, 20);
        ck_assert_int_eq(v, 1234);
}
END_TEST

START_TEST(test_rendezvous) {
        port_t boot = test_bootstrap_serve();
        ck_assert_int_eq(port_set_backlog(task_self(), boot, 0), 0);
        /* Nothing can be queued ahead: a non-waiting send fails at once. */
        ck_assert_int_eq(test_send_int(boot, 1, 1, 0, 0, SEND_TIMEOUT, 0), SEND_TIMED_OUT);
        uint32_t b = 0;
        pid_t child = test_fork(blocked_sender, &b);
        wait_blocked(boot, 1);
        /* The message is not in the queue; the sender waits for a receiver. */
        ck_assert_uint_eq(status_of(boot).msgcount, 0);
        ck_assert_int_eq(waitpid(child, NULL, WNOHANG), 0);
        int32_t id, v;
        ck_assert_int_eq(test_recv_int(boot, &id, &v, NULL, 0, 0), 0);
        ck_assert_int_eq(id, 20);
        ck_assert_int_eq(v, 1234);
        ck_assert_int_eq(test_wait(child), 0);
        ck_assert_uint_eq(status_of(boot).msgcount, 0);
}
END_TEST

static int waiting_receiver(void *arg) {
        (void)arg;
        port_t boot = test_bootstrap_lookup();
        port_t mine;
        if (port_allocate(task_self(), &mine) != 0 || port_set_backlog(task_self(), mine, 0) != 0)
                return 1;
        if (test_send_int(boot, 30, 0, mine, MSG_TYPE_MAKE_SEND, 0, 0) != 0)
                return 1;
        int32_t v;
        if (test_recv_int(mine, NULL, &v, NULL, RCV_TIMEOUT, 10000) != 0)
                return 1;
        return v == 77 ? 0 : 1;
}

START_TEST(test_rendezvous_receiver_first) {
        /* With a receiver already waiting, a send to a backlog-0 port completes. */
        port_t boot = test_bootstrap_serve();
        pid_t child = test_fork(waiting_receiver, NULL);
        port_t cp;
        ck_assert_int_eq(test_recv_int(boot, NULL, NULL, &cp, 0, 0), 0);
        ck_assert_int_eq(test_send_int(cp, 31, 77, 0, 0, SEND_TIMEOUT, 5000), 0);
        ck_assert_int_eq(test_wait(child), 0);
}
END_TEST

START_TEST(test_send_notify) {
        port_t p = new_port(1);
        fill(p, 1);
        ck_assert_int_eq(test_send_int(p, 2, 100, 0, 0, SEND_NOTIFY, 0), SEND_WILL_NOTIFY);
        /* Only one such message per task at a time. */
        ck_assert_int_eq(test_send_int(p, 2, 101, 0, 0, SEND_NOTIFY, 0), SEND_NOTIFY_IN_PROGRESS);
        port_status_t st = status_of(p);
        ck_assert_uint_eq(st.msgcount, 1);
        ck_assert_uint_eq(st.n_blocked, 1);
        /* No notification yet. */
        int32_t id, v;
        ck_assert_int_eq(test_recv_int(task_notify(), &id, &v, NULL, RCV_TIMEOUT, 0), RCV_TIMED_OUT);
        /* Room appears: the broker queues the message and notifies us. */
        ck_assert_int_eq(test_recv_int(p, NULL, &v, NULL, RCV_TIMEOUT, 0), 0);
        ck_assert_int_eq(v, 0);
        ck_assert_int_eq(test_recv_int(task_notify(), &id, &v, NULL, RCV_TIMEOUT, 1000), 0);
        ck_assert_int_eq(id, NOTIFY_MSG_ACCEPTED);
        ck_assert_uint_eq((uint32_t)v, p);
        msg_sender_t who;
        ck_assert_int_eq(msg_last_sender(&who), 0);
        ck_assert_uint_eq(who.flags, MSG_SENDER_KERNEL);
        ck_assert_int_eq(test_recv_int(p, &id, &v, NULL, RCV_TIMEOUT, 0), 0);
        ck_assert_int_eq(v, 100);
        /* And a new one may be left with the broker again. */
        fill(p, 1);
        ck_assert_int_eq(test_send_int(p, 2, 102, 0, 0, SEND_NOTIFY, 0), SEND_WILL_NOTIFY);
        /* With room, SEND_NOTIFY is an ordinary send. */
        port_t q = new_port(4);
        ck_assert_int_eq(test_send_int(q, 2, 1, 0, 0, SEND_NOTIFY, 0), SEND_SUCCESS);
}
END_TEST

START_TEST(test_backlog_raise_admits_waiters) {
        port_t p = new_port(1);
        fill(p, 1);
        ck_assert_int_eq(test_send_int(p, 2, 5, 0, 0, SEND_NOTIFY, 0), SEND_WILL_NOTIFY);
        ck_assert_int_eq(port_set_backlog(task_self(), p, 4), 0);
        port_status_t st = status_of(p);
        ck_assert_uint_eq(st.msgcount, 2);
        ck_assert_uint_eq(st.n_blocked, 0);
        int32_t id;
        ck_assert_int_eq(test_recv_int(task_notify(), &id, NULL, NULL, RCV_TIMEOUT, 1000), 0);
        ck_assert_int_eq(id, NOTIFY_MSG_ACCEPTED);
}
END_TEST

START_TEST(test_port_destroyed_under_blocked_sender) {
        port_t boot = test_bootstrap_serve();
        ck_assert_int_eq(port_set_backlog(task_self(), boot, 0), 0);
        uint32_t b = 0;
        pid_t child = test_fork(blocked_sender, &b);
        wait_blocked(boot, 1);
        ck_assert_int_eq(port_deallocate(task_self(), boot), 0);
        /* The blocked sender wakes with SEND_INVALID_DEST (its child exit is 1). */
        ck_assert_int_eq(test_wait(child), 1);
}
END_TEST

int main(void) {
        Suite *s = suite_create("Backlog");
        TCase *tc = tcase_create("backlog");
        tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
        tcase_set_timeout(tc, 30);
        ADD_TEST(tc, test_default_backlog_is_8);
        ADD_TEST(tc, test_full_return_at_once);
        ADD_TEST(tc, test_full_wait_at_most);
        ADD_TEST(tc, test_full_wait_forever);
        ADD_TEST(tc, test_full_wait_forever_two_tasks);
        ADD_TEST(tc, test_rendezvous);
        ADD_TEST(tc, test_rendezvous_receiver_first);
        ADD_TEST(tc, test_send_notify);
        ADD_TEST(tc, test_backlog_raise_admits_waiters);
        ADD_TEST(tc, test_port_destroyed_under_blocked_sender);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
