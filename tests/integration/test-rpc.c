/* SPDX-License-Identifier: MIT */
/* test-rpc.c - msg_rpc and reply-and-receive between tasks; servers that die */

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>
#include "fixture.h"

enum { ID_HELLO = 100, ID_ADD = 200, ID_HOLD = 300, ID_QUIT = 400 };

/* A server task: announce a service port to the bootstrap port, then serve.
 * ID_ADD replies value+1; ID_HOLD keeps the first request unanswered until the
 * next one arrives, then answers it late, which must fail because the client
 * timed out and dropped its reply port; ID_QUIT stops. */
static int server(void *arg) {
        int die_on_hold = arg != NULL;
        port_t boot = test_bootstrap_lookup(), svc;
        if (port_allocate(task_self(), &svc) != 0 || port_set_backlog(task_self(), svc, 64) != 0)
                return 1;
        if (test_send_int(boot, ID_HELLO, getpid(), svc, MSG_TYPE_MAKE_SEND, 0, 0) != 0)
                return 1;
        TestIntMsg m;
        port_t held = PORT_NULL;
        int32_t held_value = 0;
        bool have_reply = false;
        for (;;) {
                msg_return_t r;
                if (have_reply)
                        r = msg_send_receive(&m.head, 0, sizeof(m), svc, 0, 0);
                else {
                        m.head.msg_size = sizeof(m);
                        m.head.msg_local_port = svc;
                        r = msg_receive(&m.head, 0, 0);
                }
                have_reply = false;
                if (r != 0)
                        return 2;
                if (m.head.msg_id == ID_QUIT)
                        return 0;
                if (m.head.msg_id == ID_HOLD && held == PORT_NULL) {
                        if (die_on_hold)
                                _exit(0);       /* with the reply right unused */
                        held = m.head.msg_remote_port;
                        held_value = m.value;
                        continue;
                }
                if (held != PORT_NULL) {
                        /* Answer the held request late. */
                        TestIntMsg late = { 0 };
                        msg_type_init(&late.t, MSG_TYPE_INTEGER_32, 1);
                        late.value = held_value + 1;
                        late.head.msg_size = sizeof(msg_header_t) + MSG_ITEM_SIZE(4);
                        late.head.msg_remote_port = held;
                        late.head.msg_id = ID_HOLD + 100;
                        /* The client gave up and dropped that reply port. */
                        if (msg_send(&late.head, 0, 0) != SEND_INVALID_DEST)
                                return 3;
                        port_deallocate(task_self(), held);
                        held = PORT_NULL;
                }
                port_t reply = m.head.msg_remote_port;
                int32_t id = m.head.msg_id;
                m.value += 1;
                m.head.msg_size = sizeof(msg_header_t) + MSG_ITEM_SIZE(4);
                m.head.msg_remote_port = reply;
                m.head.msg_local_port = PORT_NULL;
                m.head.msg_id = id + 100;
                m.head.msg_bits = 0;
                have_reply = true;
        }
}

static port_t start_server(pid_t *pidp, void *arg) {
        port_t boot = test_bootstrap_serve(), svc = PORT_NULL;
        *pidp = test_fork(server, arg);
        int32_t id, pid;
        ck_assert_int_eq(test_recv_int(boot, &id, &pid, &svc, 0, 0), 0);
        ck_assert_int_eq(id, ID_HELLO);
        ck_assert_int_eq(pid, *pidp);
        ck_assert_uint_ne(svc, PORT_NULL);
        return svc;
}

static msg_return_t rpc_add(port_t svc, int32_t id, int32_t v, int32_t *out, msg_option_t opt,
                            msg_timeout_t rcv_to) {
        TestIntMsg m = { 0 };
        msg_type_init(&m.t, MSG_TYPE_INTEGER_32, 1);
        m.value = v;
        m.head.msg_size = sizeof(msg_header_t) + MSG_ITEM_SIZE(4);
        m.head.msg_remote_port = svc;
        m.head.msg_id = id;
        msg_return_t r = msg_rpc(&m.head, opt, sizeof(m), 0, rcv_to);
        if (r == 0) {
                if (m.head.msg_id != id + 100)
                        return -1;
                *out = m.value;
        }
        return r;
}

static void stop_server(port_t svc, pid_t pid) {
        ck_assert_int_eq(test_send_int(svc, ID_QUIT, 0, 0, 0, 0, 0), 0);
        ck_assert_int_eq(test_wait(pid), 0);
}

START_TEST(test_rpc_round_trips) {
        pid_t pid;
        port_t svc = start_server(&pid, NULL);
        for (int i = 0; i < 500; i++) {
                int32_t out = 0;
                ck_assert_int_eq(rpc_add(svc, ID_ADD, i, &out, 0, 0), 0);
                ck_assert_int_eq(out, i + 1);
        }
        msg_sender_t who;
        ck_assert_int_eq(msg_last_sender(&who), 0);
        ck_assert_int_eq(who.pid, pid);
        /* The thread's reply port is reused, not leaked: one reply port. */
        port_t reply = mach_reply_port();
        ck_assert_uint_ne(reply, PORT_NULL);
        ck_assert_uint_eq(mach_reply_port(), reply);
        stop_server(svc, pid);
}
END_TEST

START_TEST(test_rpc_server_dies_before_reply) {
        pid_t pid;
        port_t svc = start_server(&pid, (void *)1);
        int32_t out;
        uint64_t t0 = test_now_ms();
        ck_assert_int_eq(rpc_add(svc, ID_HOLD, 1, &out, 0, 0), RCV_SERVER_DIED);
        ck_assert_uint_lt(test_now_ms() - t0, 10000);
        ck_assert_int_eq(test_wait(pid), 0);
        /* Its port is gone too: the send right is a dead name. */
        port_type_t t;
        ck_assert_int_eq(port_type(task_self(), svc, &t), 0);
        ck_assert_uint_eq(t, PORT_TYPE_DEAD_NAME);
        ck_assert_int_eq(rpc_add(svc, ID_ADD, 1, &out, 0, 0), SEND_INVALID_DEST);
        ck_assert_int_eq(port_deallocate(task_self(), svc), 0);
        ck_assert_int_eq(port_type(task_self(), svc, &t), KERN_INVALID_NAME);
}
END_TEST

static int kill_after_request(void *arg) {
        (void)arg;
        port_t boot = test_bootstrap_lookup(), svc;
        if (port_allocate(task_self(), &svc) != 0)
                return 1;
        if (test_send_int(boot, ID_HELLO, getpid(), svc, MSG_TYPE_MAKE_SEND, 0, 0) != 0)
                return 1;
        pause();        /* never receives: the request stays queued */
        return 0;
}

START_TEST(test_rpc_server_killed_with_request_queued) {
        port_t boot = test_bootstrap_serve(), svc;
        pid_t pid = test_fork(kill_after_request, NULL);
        ck_assert_int_eq(test_recv_int(boot, NULL, NULL, &svc, 0, 0), 0);
        /* Send the request, then kill the server while it sits in its queue. */
        TestIntMsg m = { 0 };
        msg_type_init(&m.t, MSG_TYPE_INTEGER_32, 1);
        m.head.msg_size = sizeof(msg_header_t) + MSG_ITEM_SIZE(4);
        m.head.msg_remote_port = svc;
        m.head.msg_local_port = mach_reply_port();
        m.head.msg_bits = MSG_BITS(0, MSG_TYPE_MAKE_SEND_ONCE);
        ck_assert_int_eq(msg_send(&m.head, 0, 0), 0);
        kill(pid, SIGKILL);
        ck_assert_int_eq(test_wait(pid), 128 + SIGKILL);
        msg_header_t h = { .msg_size = sizeof(h), .msg_local_port = mach_reply_port() };
        ck_assert_int_eq(msg_receive(&h, RCV_TIMEOUT, 10000), 0);
        ck_assert_int_eq(h.msg_id, NOTIFY_SEND_ONCE);
}
END_TEST

START_TEST(test_rpc_timeout_then_late_reply) {
        pid_t pid;
        port_t svc = start_server(&pid, NULL);
        int32_t out = 0;
        uint64_t t0 = test_now_ms();
        ck_assert_int_eq(rpc_add(svc, ID_HOLD, 10, &out, RCV_TIMEOUT, 100), RCV_TIMED_OUT);
        ck_assert_uint_ge(test_now_ms() - t0, 90);
        /* The server now answers the held request late, then this one; the
         * late answer must not be taken for this call's reply. */
        ck_assert_int_eq(rpc_add(svc, ID_ADD, 20, &out, RCV_TIMEOUT, 10000), 0);
        ck_assert_int_eq(out, 21);
        stop_server(svc, pid);
}
END_TEST

typedef struct {
        port_t svc;
        int base;
        int ok;
} Worker;

static void *rpc_worker(void *arg) {
        Worker *w = arg;
        w->ok = 1;
        for (int i = 0; i < 200; i++) {
                int32_t out = 0;
                if (rpc_add(w->svc, ID_ADD, w->base + i, &out, 0, 0) != 0 || out != w->base + i + 1)
                        w->ok = 0;
        }
        return NULL;
}

typedef struct {
        port_t port;
        msg_return_t r;
        int32_t v;
} Blocked;

static void *blocked_receiver(void *arg) {
        Blocked *b = arg;
        b->r = test_recv_int(b->port, NULL, &b->v, NULL, 0, 0);
        return NULL;
}

START_TEST(test_rpc_threads) {
        enum { THREADS = 8 };
        pid_t pid;
        port_t svc = start_server(&pid, NULL);
        /* One thread blocks in msg_receive the whole time; the others are not held up. */
        Blocked b = { 0 };
        ck_assert_int_eq(port_allocate(task_self(), &b.port), 0);
        pthread_t bt;
        ck_assert_int_eq(pthread_create(&bt, NULL, blocked_receiver, &b), 0);
        pthread_t th[THREADS];
        Worker w[THREADS];
        for (int i = 0; i < THREADS; i++) {
                w[i] = (Worker){ .svc = svc, .base = i * 1000 };
                ck_assert_int_eq(pthread_create(&th[i], NULL, rpc_worker, &w[i]), 0);
        }
        for (int i = 0; i < THREADS; i++) {
                pthread_join(th[i], NULL);
                ck_assert_msg(w[i].ok, "worker %d got a wrong reply", i);
        }
        ck_assert_int_eq(test_send_int(b.port, 1, 4321, 0, 0, 0, 0), 0);
        pthread_join(bt, NULL);
        ck_assert_int_eq(b.r, 0);
        ck_assert_int_eq(b.v, 4321);
        stop_server(svc, pid);
}
END_TEST

static int give_task_port(void *arg) {
        (void)arg;
        port_t boot = test_bootstrap_lookup(), mine;
        if (port_allocate(task_self(), &mine) != 0)
                return 1;
        /* Hand the parent our kernel port, and a way to answer. */
        if (test_send_int(boot, ID_HELLO, (int32_t)mine, task_self(), MSG_TYPE_COPY_SEND, 0, 0) != 0)
                return 1;
        if (test_send_int(boot, ID_HELLO, 0, mine, MSG_TYPE_MAKE_SEND, 0, 0) != 0)
                return 1;
        int32_t name;
        if (test_recv_int(mine, NULL, &name, NULL, 0, 0) != 0)
                return 1;
        port_type_t t;
        if (port_type(task_self(), (port_t)name, &t) != 0 || t != PORT_TYPE_RECEIVE)
                return 2;
        return 0;
}

START_TEST(test_kernel_call_on_other_task) {
        port_t boot = test_bootstrap_serve(), child_task, child_port;
        pid_t pid = test_fork(give_task_port, NULL);
        ck_assert_int_eq(test_recv_int(boot, NULL, NULL, &child_task, 0, 0), 0);
        ck_assert_int_eq(test_recv_int(boot, NULL, NULL, &child_port, 0, 0), 0);
        /* Allocate a port in the child's name space through its kernel port. */
        port_t name;
        ck_assert_int_eq(port_allocate(child_task, &name), KERN_SUCCESS);
        ck_assert_int_eq(test_send_int(child_port, 1, (int32_t)name, 0, 0, 0, 0), 0);
        ck_assert_int_eq(test_wait(pid), 0);
        /* The task is gone: its kernel port is dead. */
        ck_assert_int_eq(port_allocate(child_task, &name), KERN_INVALID_TASK);
}
END_TEST

START_TEST(test_reply_to_dead_client) {
        /* A reply to a client that went away fails cleanly for the server. */
        port_t p, reply;
        ck_assert_int_eq(port_allocate(task_self(), &p), 0);
        ck_assert_int_eq(port_allocate(task_self(), &reply), 0);
        TestIntMsg m = { 0 };
        msg_type_init(&m.t, MSG_TYPE_INTEGER_32, 1);
        m.head.msg_size = sizeof(msg_header_t) + MSG_ITEM_SIZE(4);
        m.head.msg_remote_port = p;
        m.head.msg_local_port = reply;
        m.head.msg_bits = MSG_BITS(0, MSG_TYPE_MAKE_SEND_ONCE);
        ck_assert_int_eq(msg_send(&m.head, 0, 0), 0);
        m.head.msg_size = sizeof(m);
        m.head.msg_local_port = p;
        ck_assert_int_eq(msg_receive(&m.head, 0, 0), 0);
        port_t so = m.head.msg_remote_port;
        ck_assert_int_eq(port_deallocate(task_self(), reply), 0);
        port_type_t t;
        ck_assert_int_eq(port_type(task_self(), so, &t), 0);
        ck_assert_uint_eq(t, PORT_TYPE_DEAD_NAME);
        ck_assert_int_eq(test_send_int(so, 1, 1, 0, 0, 0, 0), SEND_INVALID_DEST);
        ck_assert_int_eq(port_deallocate(task_self(), so), 0);
}
END_TEST

int main(void) {
        Suite *s = suite_create("RPC");
        TCase *tc = tcase_create("rpc");
        tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
        tcase_set_timeout(tc, 60);
        ADD_TEST(tc, test_rpc_round_trips);
        ADD_TEST(tc, test_rpc_server_dies_before_reply);
        ADD_TEST(tc, test_rpc_server_killed_with_request_queued);
        ADD_TEST(tc, test_rpc_timeout_then_late_reply);
        ADD_TEST(tc, test_rpc_threads);
        ADD_TEST(tc, test_kernel_call_on_other_task);
        ADD_TEST(tc, test_reply_to_dead_client);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
