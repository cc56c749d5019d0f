/* SPDX-License-Identifier: MIT */
/*
 * test-credit.c - sends that do not wait for the broker: credit counts in
 * the backlog as seen by every task, runs out and comes back, keeps one
 * sender's stream in order across both paths, dies with its port; a client
 * that sends past its credit or lies in the new frames is dropped; and
 * everything the broker hands a task ahead is bounded
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "fixture.h"
#include "tasks.h"

enum { ID_HELLO = TEST_ID_HELLO, ID_RIGHT = TEST_ID_RIGHT, ID_DATA = 200, ID_BIG };

/* Sends until the queue is full (SEND_TIMED_OUT), each step; says how many (0-9 and letters). */
static int filler(void *arg) {
        const TestSteps *s = arg;
        port_t mine, dest = test_child_get_right(&mine);
        if (dest == PORT_NULL)
                return 2;
        int v = s->base;
        /* Step 1: one message (its reply grants credit). */
        if (!test_step_wait(s) || test_send_int(dest, ID_DATA, v++, 0, 0, 0, 0) != 0)
                return 3;
        test_step_done(s, '1');
        /* Step 2: until full. */
        while (test_step_wait(s)) {
                int n = 0;
                msg_return_t r;
                while ((r = test_send_int(dest, ID_DATA, v, 0, 0, SEND_TIMEOUT, 0)) == 0) {
                        v++;
                        n++;
                }
                if (r != SEND_TIMED_OUT)
                        return 4;
                test_step_done(s, (char)n);
        }
        return 0;
}

START_TEST(test_credit_counts_in_the_backlog) {
        port_t boot = test_bootstrap_serve();
        port_t p = test_new_port(64);
        TestChild a, b;
        test_child_start(&a, filler, 0);
        port_t ca = test_parent_give(boot, p, MSG_TYPE_MAKE_SEND);
        test_tell(a.to[1], 's');
        ck_assert_int_eq(test_hear(a.from[0]), '1');
        /* A's send went in; its reply granted credit: slots of the 63 left, held for it. */
        unsigned long long g = test_stat(a.pid, "credit");
        ck_assert_uint_gt(g, 0);
        ck_assert_uint_le(g, 63 / 4);
        ck_assert_uint_eq(test_status(p).msgcount, 1);
        /* Another task sees those slots as taken: it fills the rest exactly. */
        test_child_start(&b, filler, 1000);
        port_t cb = test_parent_give(boot, p, MSG_TYPE_MAKE_SEND);
        test_tell(b.to[1], 's');
        ck_assert_int_eq(test_hear(b.from[0]), '1');
        test_tell(b.to[1], 's');
        ck_assert_int_eq(test_hear(b.from[0]), (char)(64 - 1 - 1 - g));
        test_wait_count(p, (uint32_t)(64 - g));
        /* A still has its slots: exactly those go (one way), then it too is told full. */
        unsigned long long w0 = test_stat(a.pid, "oneway");
        test_tell(a.to[1], 's');
        ck_assert_int_eq(test_hear(a.from[0]), (char)g);
        test_wait_count(p, 64);
        ck_assert_uint_eq(test_stat(a.pid, "oneway") - w0, g);
        ck_assert_uint_eq(test_stat(a.pid, "credit"), 0);
        /* Each sender's messages in order. */
        int next_a = 0, next_b = 1000;
        for (int i = 0; i < 64; i++) {
                int32_t v;
                ck_assert_int_eq(test_recv_int(p, NULL, &v, NULL, RCV_TIMEOUT, 0), 0);
                if (v >= 1000)
                        ck_assert_int_eq(v, next_b++);
                else
                        ck_assert_int_eq(v, next_a++);
        }
        ck_assert_int_eq(next_a, 1 + (int)g);
        ck_assert_int_eq(test_recv_int(p, NULL, NULL, NULL, RCV_TIMEOUT, 0), RCV_TIMED_OUT);
        ck_assert_int_eq(test_child_end(&a), 0);
        ck_assert_int_eq(test_child_end(&b), 0);
        port_deallocate(task_self(), ca);
        port_deallocate(task_self(), cb);
}
END_TEST

/* Sends a count each step (the byte it is told, times 1), blocking, no timeout. */
static int counted_sender(void *arg) {
        const TestSteps *s = arg;
        port_t mine, dest = test_child_get_right(&mine);
        if (dest == PORT_NULL)
                return 2;
        test_step_done(s, 'r');         /* its requests are counted from here */
        int v = 0;
        for (;;) {
                char c;
                if (read(s->in, &c, 1) != 1)
                        return 3;
                if (c == 'q')
                        return 0;
                for (int i = 0; i < (unsigned char)c; i++)
                        if (test_send_int(dest, ID_DATA, v++, 0, 0, SEND_TIMEOUT, 0) != 0)
                                return 4;
                test_step_done(s, 'k');
        }
}

START_TEST(test_credit_runs_out_and_comes_back) {
        port_t boot = test_bootstrap_serve();
        port_t p = test_new_port(256);
        TestChild c;
        test_child_start(&c, counted_sender, 0);
        port_t cp = test_parent_give(boot, p, MSG_TYPE_MAKE_SEND);
        ck_assert_int_eq(test_hear(c.from[0]), 'r');
        unsigned long long r0 = test_stat(c.pid, "requests"), w0 = test_stat(c.pid, "oneway");
        /* One ordinary send, whose reply grants a quarter of the room left (255 / 4)... */
        test_tell(c.to[1], 1);
        ck_assert_int_eq(test_hear(c.from[0]), 'k');
        ck_assert_uint_eq(test_stat(c.pid, "credit"), 63);
        ck_assert_uint_eq(test_stat(c.pid, "requests") - r0, 1);
        /* ...which 63 sends use without a request (the queue, filling, has no room to top
         * them up with: a grant is at least half a window, 64). */
        test_tell(c.to[1], 63);
        ck_assert_int_eq(test_hear(c.from[0]), 'k');
        test_wait_count(p, 64);
        ck_assert_uint_eq(test_stat(c.pid, "requests") - r0, 1);
        ck_assert_uint_eq(test_stat(c.pid, "oneway") - w0, 63);
        ck_assert_uint_eq(test_stat(c.pid, "credit"), 0);
        /* Run out: the next send asks, and its reply grants a quarter of what is left. */
        test_tell(c.to[1], 1);
        ck_assert_int_eq(test_hear(c.from[0]), 'k');
        ck_assert_uint_eq(test_stat(c.pid, "requests") - r0, 2);
        ck_assert_uint_eq(test_stat(c.pid, "credit"), (256 - 65) / 4);
        test_tell(c.to[1], (256 - 65) / 4);
        ck_assert_int_eq(test_hear(c.from[0]), 'k');
        int sent = 65 + (256 - 65) / 4;
        test_wait_count(p, (uint32_t)sent);
        ck_assert_uint_eq(test_stat(c.pid, "requests") - r0, 2);
        ck_assert_uint_eq(test_stat(c.pid, "credit"), 0);
        /* The receiver drains the queue: a window's half comes back, unasked. */
        for (int i = 0; i < sent; i++) {
                int32_t v;
                ck_assert_int_eq(test_recv_int(p, NULL, &v, NULL, RCV_TIMEOUT, 0), 0);
                ck_assert_int_eq(v, i);
        }
        ck_assert_uint_eq(test_status(p).msgcount, 0);
        ck_assert_uint_eq(test_stat(c.pid, "credit"), 64);
        /* And is used without a request. */
        test_tell(c.to[1], 64);
        ck_assert_int_eq(test_hear(c.from[0]), 'k');
        test_wait_count(p, 64);
        ck_assert_uint_eq(test_stat(c.pid, "requests") - r0, 2);
        ck_assert_uint_eq(test_stat(c.pid, "oneway") - w0, (unsigned long long)sent - 2 + 64);
        for (int i = sent; i < sent + 64; i++) {
                int32_t v;
                ck_assert_int_eq(test_recv_int(p, NULL, &v, NULL, RCV_TIMEOUT, 0), 0);
                ck_assert_int_eq(v, i);
        }
        ck_assert_int_eq(test_recv_int(p, NULL, NULL, NULL, RCV_TIMEOUT, 0), RCV_TIMED_OUT);
        pid_t pid = c.pid;
        ck_assert_int_eq(test_child_end(&c), 0);
        /* The sender gone, its credit is too: all 256 slots free again. */
        test_wait_gone(pid);
        ck_assert_uint_eq(test_status(p).msgcount, 0);
        port_deallocate(task_self(), cp);
}
END_TEST

/* --- one stream, both paths --- */

typedef struct {
        msg_header_t head;
        msg_type_t t;
        int32_t value;
        int32_t pad;
        msg_type_t bt;
        uint8_t bytes[4096];
} BigMsg;

static int mixed_sender(void *arg) {
        int n = *(int *)arg;
        port_t mine, dest = test_child_get_right(&mine);
        if (dest == PORT_NULL)
                return 2;
        for (int i = 0; i < n; i++) {
                msg_return_t r;
                if (i % 7 == 3) {
                        /* A right: the ordinary path. */
                        r = test_send_int(dest, ID_DATA, i, mine, MSG_TYPE_MAKE_SEND, 0, 0);
                } else if (i % 11 == 5) {
                        /* SEND_NOTIFY: the ordinary path too.  On a full queue it is queued
                         * all the same, and we wait to be told there is room again. */
                        r = test_send_int(dest, ID_DATA, i, 0, 0, SEND_NOTIFY, 0);
                        int32_t id;
                        if (r == SEND_WILL_NOTIFY &&
                            (test_recv_int(task_notify(), &id, NULL, NULL, RCV_TIMEOUT, 10000) != 0 ||
                             id != NOTIFY_MSG_ACCEPTED))
                                return 5;
                        if (r == SEND_WILL_NOTIFY)
                                r = 0;
                } else if (i % 13 == 0) {
                        /* Larger than a one-way send may be. */
                        static BigMsg m;
                        memset(&m, 0, sizeof(m));
                        msg_type_init(&m.t, MSG_TYPE_INTEGER_32, 1);
                        m.value = i;
                        msg_type_init(&m.bt, MSG_TYPE_BYTE, sizeof(m.bytes));
                        m.head.msg_size = sizeof(m);
                        m.head.msg_remote_port = dest;
                        m.head.msg_bits = MSG_BITS(MSG_TYPE_COPY_SEND, 0);
                        m.head.msg_id = ID_BIG;
                        r = msg_send(&m.head, 0, 0);
                } else {
                        r = test_send_int(dest, ID_DATA, i, 0, 0, 0, 0);
                }
                if (r != 0)
                        return 3;
        }
        return 0;
}

START_TEST(test_one_stream_stays_in_order_across_both_paths) {
        port_t boot = test_bootstrap_serve();
        port_t p = test_new_port(PORT_BACKLOG_MAX);
        int n = 4000;
        pid_t pid = test_fork(mixed_sender, &n);
        port_t child = test_parent_give(boot, p, MSG_TYPE_MAKE_SEND);
        unsigned long long w0 = test_stat(0, "oneway");
        static BigMsg m;
        for (int i = 0; i < n; i++) {
                memset(&m.head, 0, sizeof(m.head));
                m.head.msg_size = sizeof(m);
                m.head.msg_local_port = p;
                msg_return_t r = msg_receive(&m.head, RCV_TIMEOUT, 10000);
                if (r != 0) {
                        char *text = NULL;
                        machipc_broker_info(&text, NULL);
                        fprintf(stderr, "receive %d: %#x\n%s", i, r, text);
                        free(text);
                }
                ck_assert_msg(r == 0, "receive %d: %#x (dropped %llu)", i, r, test_stat(0, "credit_dropped"));
                ck_assert_int_eq(m.value, i);
                ck_assert_int_eq(m.head.msg_id, i % 13 == 0 && i % 7 != 3 && i % 11 != 5 ? ID_BIG : ID_DATA);
                if (i % 7 == 3)
                        port_deallocate(task_self(), ((TestIntMsg *)&m)->right);
        }
        ck_assert_int_eq(test_wait(pid), 0);
        /* Both paths were taken. */
        unsigned long long one_way = test_stat(0, "oneway") - w0;
        fprintf(stderr, "  %d messages, %llu of them one way\n", n, one_way);
        ck_assert_uint_gt(one_way, 0);
        ck_assert_int_eq(test_recv_int(p, NULL, NULL, NULL, RCV_TIMEOUT, 0), RCV_TIMED_OUT);
        port_deallocate(task_self(), child);
}
END_TEST

/* Sends, then exits at once: its one-way sends were written, so they count. */
static int send_and_exit(void *arg) {
        int n = *(int *)arg;
        port_t mine, dest = test_child_get_right(&mine);
        if (dest == PORT_NULL)
                _exit(2);
        for (int i = 0; i < n; i++)
                if (test_send_int(dest, ID_DATA, i, 0, 0, 0, 0) != 0)
                        _exit(3);
        _exit(0);
}

START_TEST(test_sender_exits_right_after_sending) {
        port_t boot = test_bootstrap_serve();
        port_t p = test_new_port(PORT_BACKLOG_MAX);
        unsigned long long w0 = test_stat(0, "oneway");
        /* Received as they come, so that credit flows back to a sender that is
         * about to be gone (the broker's writes to it fail; what it wrote stays). */
        for (int round = 0; round < 8; round++) {
                int n = 1500;
                pid_t pid = test_fork(send_and_exit, &n);
                port_t child = test_parent_give(boot, p, MSG_TYPE_MAKE_SEND);
                for (int i = 0; i < n; i++) {
                        int32_t v;
                        ck_assert_int_eq(test_recv_int(p, NULL, &v, NULL, RCV_TIMEOUT, 10000), 0);
                        ck_assert_int_eq(v, i);
                }
                ck_assert_int_eq(test_wait(pid), 0);
                port_deallocate(task_self(), child);
        }
        ck_assert_uint_gt(test_stat(0, "oneway") - w0, 0);
        ck_assert_int_eq(test_recv_int(p, NULL, NULL, NULL, RCV_TIMEOUT, 0), RCV_TIMED_OUT);
}
END_TEST

/* --- a port that dies with credit outstanding --- */

static int credit_then_death(void *arg) {
        const TestSteps *s = arg;
        port_t mine, dest = test_child_get_right(&mine);
        if (dest == PORT_NULL)
                return 2;
        if (port_request_notification(task_self(), dest, NOTIFY_DEAD_NAME, 0, PORT_NULL) != 0)
                return 3;
        /* One to earn credit, then five with it. */
        for (int i = 0; i < 6; i++)
                if (test_send_int(dest, ID_DATA, i, 0, 0, 0, 0) != 0)
                        return 4;
        test_step_done(s, 'c');
        /* The port dies.  Once we know it, no send may succeed. */
        int32_t id, name;
        if (test_recv_int(task_notify(), &id, &name, NULL, RCV_TIMEOUT, 10000) != 0)
                return 5;
        if (id != NOTIFY_DEAD_NAME || (port_t)name != dest)
                return 6;
        for (int i = 0; i < 10; i++)
                if (test_send_int(dest, ID_DATA, 100 + i, 0, 0, 0, 0) != SEND_INVALID_DEST)
                        return 7;
        test_step_done(s, 'd');
        return test_step_wait(s) ? 8 : 0;
}

START_TEST(test_port_dies_with_credit_outstanding) {
        port_t boot = test_bootstrap_serve();
        unsigned long long ports = test_stat(0, "ports");
        port_t p = test_new_port(64);
        TestChild c;
        test_child_start(&c, credit_then_death, 0);
        port_t cp = test_parent_give(boot, p, MSG_TYPE_MAKE_SEND);
        ck_assert_int_eq(test_hear(c.from[0]), 'c');
        test_wait_count(p, 6);
        ck_assert_uint_gt(test_stat(c.pid, "credit"), 0);
        /* Its messages die with it, as in Mach. */
        ck_assert_int_eq(port_deallocate(task_self(), p), 0);
        ck_assert_int_eq(test_hear(c.from[0]), 'd');
        ck_assert_uint_eq(test_stat(c.pid, "credit"), 0);
        pid_t pid = c.pid;
        ck_assert_int_eq(test_child_end(&c), 0);
        test_wait_gone(pid);
        port_deallocate(task_self(), cp);
        ck_assert_uint_eq(test_stat(0, "ports"), ports);
}
END_TEST

/* Holds credit; once the port is gone, lets its right go before it can have heard. */
static int give_back_after_death(void *arg) {
        const TestSteps *s = arg;
        port_t mine, dest = test_child_get_right(&mine);
        if (dest == PORT_NULL || test_send_int(dest, ID_DATA, 0, 0, 0, 0, 0) != 0)
                return 2;
        test_step_done(s, 'c');
        if (!test_step_wait(s))
                return 3;
        /* The REVOKE is on its way (or here, unread): the give-back crosses it. */
        if (port_deallocate(task_self(), dest) != KERN_SUCCESS)
                return 4;
        port_t x;
        if (port_allocate(task_self(), &x) != KERN_SUCCESS)
                return 5;
        test_step_done(s, 'd');
        return test_step_wait(s) ? 6 : 0;
}

START_TEST(test_credit_given_back_after_revoke) {
        port_t boot = test_bootstrap_serve();
        port_t p = test_new_port(64);
        TestChild c;
        test_child_start(&c, give_back_after_death, 0);
        port_t cp = test_parent_give(boot, p, MSG_TYPE_MAKE_SEND);
        ck_assert_int_eq(test_hear(c.from[0]), 'c');
        ck_assert_uint_gt(test_stat(c.pid, "credit"), 0);
        ck_assert_int_eq(port_deallocate(task_self(), p), 0);
        test_tell(c.to[1], 'g');
        ck_assert_int_eq(test_hear(c.from[0]), 'd');
        ck_assert_uint_eq(test_stat(c.pid, "credit"), 0);
        ck_assert_int_eq(test_child_end(&c), 0);
        port_deallocate(task_self(), cp);
}
END_TEST

/* --- what is handed ahead is bounded --- */

/* Receives rights, sends one message to each (earning credit), reports, waits. */
static int many_credits(void *arg) {
        const TestSteps *s = arg;
        port_t mine, first = test_child_get_right(&mine);
        if (first == PORT_NULL || test_send_int(first, ID_DATA, 0, 0, 0, 0, 0) != 0)
                return 2;
        for (int i = 1; i < 12; i++) {
                port_t r;
                if (test_recv_int(mine, NULL, NULL, &r, RCV_TIMEOUT, 10000) != 0 ||
                    test_send_int(r, ID_DATA, i, 0, 0, 0, 0) != 0)
                        return 3;
        }
        test_step_done(s, 'c');
        return test_step_wait(s) ? 4 : 0;
}

START_TEST(test_credit_is_bounded) {
        port_t boot = test_bootstrap_serve();
        port_t ports[12];
        for (int i = 0; i < 12; i++)
                ports[i] = test_new_port(PORT_BACKLOG_MAX);
        TestChild c;
        test_child_start(&c, many_credits, 0);
        port_t cp = test_parent_give(boot, ports[0], MSG_TYPE_MAKE_SEND);
        for (int i = 1; i < 12; i++)
                ck_assert_int_eq(test_send_int(cp, ID_RIGHT, 0, ports[i], MSG_TYPE_MAKE_SEND, 0, 0), 0);
        ck_assert_int_eq(test_hear(c.from[0]), 'c');
        /* A window of 128 per port, 512 per task: four ports' worth. */
        ck_assert_uint_eq(test_stat(c.pid, "credit"), 512);
        for (int i = 0; i < 12; i++)
                ck_assert_uint_eq(test_status(ports[i]).msgcount, 1);
        ck_assert_int_eq(test_child_end(&c), 0);
        port_deallocate(task_self(), cp);
        for (int i = 0; i < 12; i++)
                port_deallocate(task_self(), ports[i]);
}
END_TEST

typedef struct {
        msg_header_t head;
        msg_type_t t;
        uint8_t bytes[60000];
} Huge;

/* Arms a port and never reads. */
static int arms_and_sleeps(void *arg) {
        const TestSteps *s = arg;
        port_t boot = test_bootstrap_lookup(), p;
        if (port_allocate(task_self(), &p) != 0 || port_set_backlog(task_self(), p, PORT_BACKLOG_MAX) != 0 ||
            machipc_arm(p) != 0 || test_send_int(boot, ID_HELLO, 0, p, MSG_TYPE_MAKE_SEND, 0, 0) != 0)
                return 2;
        return test_step_wait(s) ? 3 : 0;
}

START_TEST(test_handed_ahead_is_bounded) {
        port_t boot = test_bootstrap_serve();
        TestChild c;
        test_child_start(&c, arms_and_sleeps, 0);
        int32_t id;
        port_t vp;
        ck_assert_int_eq(test_recv_int(boot, &id, NULL, &vp, RCV_TIMEOUT, 10000), 0);
        /* Small messages: one arm's window (64) at most. */
        for (int i = 0; i < 300; i++)
                ck_assert_int_eq(test_send_int(vp, ID_DATA, i, 0, 0, 0, 0), 0);
        uint64_t deadline = test_now_ms() + 10000;
        while (test_stat(c.pid, "lent") < 64 && test_now_ms() < deadline)
                usleep(1000);
        ck_assert_uint_eq(test_stat(c.pid, "lent"), 64);
        /* Large ones: 1 MiB at most, however many the window would allow. */
        static Huge m;
        memset(&m, 0, sizeof(m));
        msg_type_init(&m.t, MSG_TYPE_BYTE, sizeof(m.bytes));
        m.head.msg_size = sizeof(m);
        m.head.msg_remote_port = vp;
        m.head.msg_bits = MSG_BITS(MSG_TYPE_COPY_SEND, 0);
        TestChild d;
        test_child_start(&d, arms_and_sleeps, 0);
        ck_assert_int_eq(test_recv_int(boot, &id, NULL, &vp, RCV_TIMEOUT, 10000), 0);
        m.head.msg_remote_port = vp;
        for (int i = 0; i < 60; i++)
                ck_assert_int_eq(msg_send(&m.head, 0, 0), 0);
        deadline = test_now_ms() + 10000;
        unsigned long long lent;
        while ((lent = test_stat(d.pid, "lent")) < (1u << 20) / sizeof(m) && test_now_ms() < deadline)
                usleep(1000);
        ck_assert_uint_ge(lent, (1u << 20) / sizeof(m));
        ck_assert_uint_le(lent, (1u << 20) / sizeof(m) + 1);
        /* It does not read, and is not dropped for it. */
        ck_assert(test_task_listed(d.pid));
        ck_assert(test_task_listed(c.pid));
        ck_assert_int_eq(test_child_end(&c), 0);
        ck_assert_int_eq(test_child_end(&d), 0);
}
END_TEST

int main(void) {
        Suite *s = suite_create("Pipelined sends");
        TCase *tc = tcase_create("credit");
        tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
        tcase_set_timeout(tc, 60);
        ADD_TEST(tc, test_credit_counts_in_the_backlog);
        ADD_TEST(tc, test_credit_runs_out_and_comes_back);
        ADD_TEST(tc, test_one_stream_stays_in_order_across_both_paths);
        ADD_TEST(tc, test_sender_exits_right_after_sending);
        ADD_TEST(tc, test_port_dies_with_credit_outstanding);
        ADD_TEST(tc, test_credit_given_back_after_revoke);
        ADD_TEST(tc, test_credit_is_bounded);
        ADD_TEST(tc, test_handed_ahead_is_bounded);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
