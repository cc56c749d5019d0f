/* SPDX-License-Identifier: MIT */
/* test-death.c - a task SIGKILLed while others block on its ports */

#include <signal.h>
#include <string.h>
#include <unistd.h>
#include "fixture.h"

enum { ID_PORT = 1, ID_PING = 2, ID_DONE = 3 };

/* The victim: owns a small port, gives the parent a send right, waits to die. */
static int victim(void *arg) {
        (void)arg;
        port_t boot = test_bootstrap_lookup(), p;
        if (port_allocate(task_self(), &p) != 0 || port_set_backlog(task_self(), p, 1) != 0)
                return 1;
        if (test_send_int(boot, ID_PORT, getpid(), p, MSG_TYPE_MAKE_SEND, 0, 0) != 0)
                return 1;
        /* Take one request (keeping its reply right) and never answer. */
        TestIntMsg m;
        m.head.msg_size = sizeof(m);
        m.head.msg_local_port = p;
        if (msg_receive(&m.head, 0, 0) != 0)
                return 1;
        pause();
        return 0;
}

/* A sender that fills the victim's port and blocks on it. */
static int blocked_on_victim(void *arg) {
        (void)arg;
        port_t boot = test_bootstrap_lookup(), mine, vp = PORT_NULL;
        if (port_allocate(task_self(), &mine) != 0)
                return 10;
        if (test_send_int(boot, ID_PORT, 0, mine, MSG_TYPE_MAKE_SEND, 0, 0) != 0)
                return 11;
        if (test_recv_int(mine, NULL, NULL, &vp, 0, 0) != 0 || vp == PORT_NULL)
                return 12;
        /* One message fills the queue, the next blocks until the owner dies. */
        if (test_send_int(vp, ID_PING, 1, 0, 0, 0, 0) != 0)
                return 13;
        msg_return_t r = test_send_int(vp, ID_PING, 2, 0, 0, 0, 0);
        if (r != SEND_INVALID_DEST)
                return 14;
        port_type_t t;
        if (port_type(task_self(), vp, &t) != 0 || t != PORT_TYPE_DEAD_NAME)
                return 15;
        return 0;
}

/* An RPC client whose request the victim took and will never answer. */
static int rpc_to_victim(void *arg) {
        (void)arg;
        port_t boot = test_bootstrap_lookup(), mine, vp = PORT_NULL;
        if (port_allocate(task_self(), &mine) != 0)
                return 20;
        if (test_send_int(boot, ID_PORT, 0, mine, MSG_TYPE_MAKE_SEND, 0, 0) != 0)
                return 21;
        if (test_recv_int(mine, NULL, NULL, &vp, 0, 0) != 0)
                return 22;
        TestIntMsg m = { 0 };
        msg_type_init(&m.t, MSG_TYPE_INTEGER_32, 1);
        m.head.msg_size = sizeof(msg_header_t) + MSG_ITEM_SIZE(4);
        m.head.msg_remote_port = vp;
        m.head.msg_id = ID_PING;
        msg_return_t r = msg_rpc(&m.head, 0, sizeof(m), 0, 0);
        return r == RCV_SERVER_DIED ? 0 : 23;
}

/* A bystander pair: pings the parent's echo port in a loop until told to stop. */
static int bystander(void *arg) {
        (void)arg;
        port_t boot = test_bootstrap_lookup(), mine;
        if (port_allocate(task_self(), &mine) != 0)
                return 30;
        if (test_send_int(boot, ID_DONE, 0, mine, MSG_TYPE_MAKE_SEND, 0, 0) != 0)
                return 31;
        port_t echo = PORT_NULL;
        if (test_recv_int(mine, NULL, NULL, &echo, 0, 0) != 0)
                return 32;
        for (int i = 0;; i++) {
                TestIntMsg m = { 0 };
                msg_type_init(&m.t, MSG_TYPE_INTEGER_32, 1);
                m.value = i;
                m.head.msg_size = sizeof(msg_header_t) + MSG_ITEM_SIZE(4);
                m.head.msg_remote_port = echo;
                m.head.msg_id = ID_PING;
                msg_return_t r = msg_rpc(&m.head, RCV_TIMEOUT, sizeof(m), 0, 10000);
                if (r != 0)
                        return 33;
                if (m.head.msg_id == ID_DONE)
                        return 0;
                if (m.value != i)
                        return 34;
        }
}

static port_t status_blocked(port_t p) {
        port_status_t st;
        ck_assert_int_eq(port_status(task_self(), p, &st), 0);
        return st.n_blocked;
}

/* Answer @count of the bystander's pings with @answer_id. */
static void serve_echo(port_t echo, int answer_id, int count) {
        for (int i = 0; i < count; i++) {
                TestIntMsg m;
                m.head.msg_size = sizeof(m);
                m.head.msg_local_port = echo;
                ck_assert_int_eq(msg_receive(&m.head, RCV_TIMEOUT, 10000), 0);
                m.head.msg_size = sizeof(msg_header_t) + MSG_ITEM_SIZE(4);
                m.head.msg_local_port = PORT_NULL;
                m.head.msg_bits = 0;
                m.head.msg_id = answer_id;
                ck_assert_int_eq(msg_send(&m.head, 0, 0), 0);
        }
}

START_TEST(test_sigkill_with_blocked_peers) {
        port_t boot = test_bootstrap_serve(), echo, vp, sp, rp, bp;
        int32_t vpid;
        ck_assert_int_eq(port_allocate(task_self(), &echo), 0);

        pid_t by = test_fork(bystander, NULL);
        ck_assert_int_eq(test_recv_int(boot, NULL, NULL, &bp, 0, 0), 0);
        ck_assert_int_eq(test_send_int(bp, 0, 0, echo, MSG_TYPE_MAKE_SEND, 0, 0), 0);
        serve_echo(echo, ID_PING, 20);

        pid_t v = test_fork(victim, NULL);
        ck_assert_int_eq(test_recv_int(boot, NULL, &vpid, &vp, 0, 0), 0);
        ck_assert_int_eq(vpid, v);

        /* The RPC client's request is the one the victim takes. */
        pid_t rc = test_fork(rpc_to_victim, NULL);
        ck_assert_int_eq(test_recv_int(boot, NULL, NULL, &rp, 0, 0), 0);
        ck_assert_int_eq(test_send_int(rp, 0, 0, vp, MSG_TYPE_COPY_SEND, 0, 0), 0);
        uint64_t deadline = test_now_ms() + 10000;
        port_status_t st;
        do {
                ck_assert_uint_lt(test_now_ms(), deadline);
                ck_assert_int_eq(port_status(task_self(), vp, &st), 0);
        } while (st.seqno < 1);  /* the victim has received it */

        pid_t s = test_fork(blocked_on_victim, NULL);
        ck_assert_int_eq(test_recv_int(boot, NULL, NULL, &sp, 0, 0), 0);
        ck_assert_int_eq(test_send_int(sp, 0, 0, vp, MSG_TYPE_COPY_SEND, 0, 0), 0);
        deadline = test_now_ms() + 10000;
        while (status_blocked(vp) != 1)
                ck_assert_uint_lt(test_now_ms(), deadline);

        serve_echo(echo, ID_PING, 20);
        ck_assert_int_eq(kill(v, SIGKILL), 0);
        ck_assert_int_eq(test_wait(v), 128 + SIGKILL);
        /* The broker went on serving the bystander throughout. */
        serve_echo(echo, ID_PING, 20);

        ck_assert_int_eq(test_wait(s), 0);
        ck_assert_int_eq(test_wait(rc), 0);
        port_type_t t;
        ck_assert_int_eq(port_type(task_self(), vp, &t), 0);
        ck_assert_uint_eq(t, PORT_TYPE_DEAD_NAME);
        ck_assert_int_eq(port_status(task_self(), vp, &st), KERN_INVALID_RIGHT);

        serve_echo(echo, ID_DONE, 1);
        ck_assert_int_eq(test_wait(by), 0);
}
END_TEST

static int connect_and_block(void *arg) {
        port_t p = *(port_t *)arg;
        (void)p;
        port_t mine;
        if (port_allocate(task_self(), &mine) != 0)
                return 1;
        int32_t v;
        test_recv_int(mine, NULL, &v, NULL, 0, 0);     /* blocks until killed */
        return 0;
}

START_TEST(test_many_tasks_killed) {
        /* Tasks killed while blocked in receive leave nothing behind (the
         * fixture checks the broker's descriptors; the broker must stay up). */
        enum { N = 20 };
        pid_t pids[N];
        port_t dummy = 0;
        for (int i = 0; i < N; i++)
                pids[i] = test_fork(connect_and_block, &dummy);
        for (int i = 0; i < N; i++) {
                kill(pids[i], SIGKILL);
                ck_assert_int_eq(test_wait(pids[i]), 128 + SIGKILL);
        }
        port_t p;
        ck_assert_int_eq(port_allocate(task_self(), &p), 0);
}
END_TEST

int main(void) {
        Suite *s = suite_create("Task death");
        TCase *tc = tcase_create("death");
        tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
        tcase_set_timeout(tc, 60);
        ADD_TEST(tc, test_sigkill_with_blocked_peers);
        ADD_TEST(tc, test_many_tasks_killed);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
