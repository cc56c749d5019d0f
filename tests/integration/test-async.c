/* SPDX-License-Identifier: MIT */
/*
 * test-async.c - a task in an event loop: machipc_get_fd() readiness with
 * plain epoll and with libevent, armed ports and what happens to messages
 * handed ahead when the receive right moves, the port changes sets, the
 * port dies or the task is killed; an idle armed task asks nothing
 */

#include <errno.h>
#include <event2/event.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>
#include <machipc/event.h>
#include "fixture.h"
#include "tasks.h"

enum { ID_HELLO = TEST_ID_HELLO, ID_RIGHT = TEST_ID_RIGHT, ID_DATA = 200, ID_DONE };

typedef struct {
        int n;          /* messages */
        int first;      /* values first, first+1, ... */
        int done_fd;    /* written to once all are sent, or -1 */
} Stream;

/* A sender of @n numbered messages to the port it is given. */
static int sender(void *arg) {
        Stream *s = arg;
        port_t mine, dest = test_child_get_right(&mine);
        if (dest == PORT_NULL)
                return 2;
        for (int i = 0; i < s->n; i++)
                if (test_send_int(dest, ID_DATA, s->first + i, 0, 0, 0, 0) != 0)
                        return 3;
        if (s->done_fd >= 0 && write(s->done_fd, "d", 1) != 1)
                return 4;
        return 0;
}

/* Take everything there is on @port now (RCV_TIMEOUT 0), checking the sequence. */
static int drain(port_t port, int *next) {
        int got = 0;
        int32_t id, value;
        msg_return_t r;
        while ((r = test_recv_int(port, &id, &value, NULL, RCV_TIMEOUT, 0)) == 0) {
                ck_assert_int_eq(id, ID_DATA);
                ck_assert_int_eq(value, *next);
                (*next)++;
                got++;
        }
        ck_assert_int_eq(r, RCV_TIMED_OUT);
        return got;
}

static int wait_readable(int fd, int timeout_ms) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        return poll(&p, 1, timeout_ms);
}

/* --- readiness --- */

START_TEST(test_epoll_readiness) {
        port_t boot = test_bootstrap_serve();
        port_t p = test_new_port(PORT_BACKLOG_MAX);
        int fd = machipc_get_fd();
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(machipc_get_fd(), fd);         /* one per task */
        int ep = epoll_create1(EPOLL_CLOEXEC);
        struct epoll_event ev = { .events = EPOLLIN }, out;
        ck_assert_int_eq(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), 0);
        ck_assert_int_eq(machipc_arm(p), 0);
        ck_assert_int_eq(epoll_wait(ep, &out, 1, 0), 0);        /* nothing yet */
        Stream s = { 2000, 0, -1 };
        pid_t pid = test_fork(sender, &s);
        port_t child = test_parent_give(boot, p, MSG_TYPE_MAKE_SEND);
        /* Requests this task makes from here on: the info calls themselves only. */
        unsigned long long r0 = test_stat(getpid(), "requests");
        unsigned long long per_info = test_stat(getpid(), "requests") - r0;
        r0 += per_info;
        int next = 0, wakeups = 0;
        while (next < s.n) {
                ck_assert_int_eq(epoll_wait(ep, &out, 1, 10000), 1);
                ck_assert_int_ge(machipc_dispatch(), 0);
                drain(p, &next);
                wakeups++;
        }
        unsigned long long r1 = test_stat(getpid(), "requests");
        ck_assert_uint_eq(r1 - r0, per_info);   /* 2,000 messages, no request for any */
        ck_assert_int_eq(test_wait(pid), 0);
        /* Drained and dispatched: not readable until something comes. */
        ck_assert_int_ge(machipc_dispatch(), 0);
        ck_assert_int_eq(epoll_wait(ep, &out, 1, 0), 0);
        ck_assert_int_eq(test_recv_int(p, NULL, NULL, NULL, RCV_TIMEOUT, 0), RCV_TIMED_OUT);
        fprintf(stderr, "  epoll: 2000 messages in %d wake-ups, %llu requests\n", wakeups,
                r1 - r0 - per_info);
        ck_assert_int_eq(machipc_disarm(p), 0);
        ck_assert_int_eq(machipc_disarm(p), 0);         /* not armed: nothing to do */
        port_status_t st;
        ck_assert_int_eq(port_status(task_self(), p, &st), 0);
        ck_assert_uint_eq(st.msgcount, 0);
        ck_assert_uint_eq(st.seqno, 2000);
        port_deallocate(task_self(), child);
        close(ep);
}
END_TEST

typedef struct {
        port_t a, b;
        int next_a, next_b, n;
        int ticks;
        int calls;
        struct event_base *base;
} LoopState;

static void on_ready(int ready, void *arg) {
        LoopState *st = arg;
        ck_assert_int_ge(ready, 0);
        st->calls++;
        drain(st->a, &st->next_a);
        drain(st->b, &st->next_b);
        if (st->next_a == st->n && st->next_b == 1000000 + st->n)
                event_base_loopbreak(st->base);
}

static void on_tick(evutil_socket_t fd, short what, void *arg) {
        (void)fd;
        (void)what;
        ((LoopState *)arg)->ticks++;
}

START_TEST(test_libevent_two_ports_and_a_timer) {
        port_t boot = test_bootstrap_serve();
        LoopState st = { .a = test_new_port(PORT_BACKLOG_MAX), .b = test_new_port(PORT_BACKLOG_MAX), .n = 3000,
                         .next_b = 1000000 };
        st.base = event_base_new();
        ck_assert_ptr_nonnull(st.base);
        struct event *ev = machipc_event_new(st.base, on_ready, &st);
        ck_assert_ptr_nonnull(ev);
        struct event *tick = event_new(st.base, -1, EV_PERSIST, on_tick, &st);
        struct timeval ms = { 0, 1000 };
        ck_assert_int_eq(event_add(tick, &ms), 0);
        ck_assert_int_eq(machipc_arm(st.a), 0);
        ck_assert_int_eq(machipc_arm(st.b), 0);
        Stream sa = { st.n, 0, -1 }, sb = { st.n, 1000000, -1 };
        pid_t pa = test_fork(sender, &sa);
        port_t ca = test_parent_give(boot, st.a, MSG_TYPE_MAKE_SEND);
        pid_t pb = test_fork(sender, &sb);
        port_t cb = test_parent_give(boot, st.b, MSG_TYPE_MAKE_SEND);
        struct timeval limit = { 30, 0 };
        event_base_loopexit(st.base, &limit);
        ck_assert_int_eq(event_base_dispatch(st.base), 0);
        if (st.next_a != st.n || st.next_b != 1000000 + st.n) {
                char *text = NULL;
                machipc_broker_info(&text, NULL);
                fprintf(stderr, "stuck at %d, %d\n%s", st.next_a, st.next_b - 1000000, text);
                free(text);
        }
        ck_assert_int_eq(st.next_a, st.n);
        ck_assert_int_eq(st.next_b, 1000000 + st.n);
        ck_assert_int_gt(st.calls, 0);
        ck_assert_int_eq(test_wait(pa), 0);
        ck_assert_int_eq(test_wait(pb), 0);
        /* The timer ran in the same thread, between the messages. */
        fprintf(stderr, "  libevent: 2 x %d messages in %d callbacks, %d ticks\n", st.n, st.calls, st.ticks);
        ck_assert_int_gt(st.ticks, 0);
        machipc_event_free(ev);
        event_free(tick);
        event_base_free(st.base);
        port_deallocate(task_self(), ca);
        port_deallocate(task_self(), cb);
}
END_TEST

/* --- one thread in a loop, another making blocking calls --- */

typedef struct {
        port_t p;
        int n;
        int got;
} LoopThread;

static void *loop_thread(void *arg) {
        LoopThread *t = arg;
        int fd = machipc_get_fd(), next = 0;
        while (next < t->n) {
                if (wait_readable(fd, 10000) != 1)
                        break;
                if (machipc_dispatch() < 0)
                        break;
                drain(t->p, &next);
        }
        t->got = next;
        return NULL;
}

/* A server of RPCs: answers each with its value + 1. */
static int adder(void *arg) {
        (void)arg;
        port_t mine, svc;
        if (port_allocate(task_self(), &svc) != 0)
                return 2;
        port_t boot = test_bootstrap_lookup();
        if (port_allocate(task_self(), &mine) != 0 ||
            test_send_int(boot, ID_HELLO, 0, svc, MSG_TYPE_MAKE_SEND, 0, 0) != 0)
                return 3;
        for (;;) {
                TestIntMsg m;
                memset(&m, 0, sizeof(m));
                m.head.msg_size = sizeof(m);
                m.head.msg_local_port = svc;
                if (msg_receive(&m.head, 0, 0) != 0)
                        return 4;
                if (m.head.msg_id == ID_DONE)
                        return 0;
                port_t reply = m.head.msg_remote_port;
                m.head.msg_remote_port = reply;
                m.head.msg_local_port = PORT_NULL;
                m.head.msg_bits = MSG_BITS(MSG_TYPE_MOVE_SEND_ONCE, 0);
                m.head.msg_size = sizeof(msg_header_t) + MSG_ITEM_SIZE(4);
                m.value++;
                if (msg_send(&m.head, 0, 0) != 0)
                        return 5;
        }
}

START_TEST(test_loop_thread_beside_blocking_calls) {
        port_t boot = test_bootstrap_serve();
        pid_t server = test_fork(adder, NULL);
        int32_t id;
        port_t svc;
        ck_assert_int_eq(test_recv_int(boot, &id, NULL, &svc, RCV_TIMEOUT, 10000), 0);
        LoopThread t = { .p = test_new_port(PORT_BACKLOG_MAX), .n = 3000 };
        ck_assert_int_eq(machipc_arm(t.p), 0);
        pthread_t th;
        ck_assert_int_eq(pthread_create(&th, NULL, loop_thread, &t), 0);
        Stream s = { t.n, 0, -1 };
        pid_t pid = test_fork(sender, &s);
        port_t child = test_parent_give(boot, t.p, MSG_TYPE_MAKE_SEND);
        /* Meanwhile this thread makes blocking RPCs on the same task. */
        for (int i = 0; i < 1000; i++) {
                TestIntMsg m;
                memset(&m, 0, sizeof(m));
                msg_type_init(&m.t, MSG_TYPE_INTEGER_32, 1);
                m.value = i;
                m.head.msg_size = sizeof(msg_header_t) + MSG_ITEM_SIZE(4);
                m.head.msg_remote_port = svc;
                m.head.msg_bits = MSG_BITS(MSG_TYPE_COPY_SEND, 0);
                m.head.msg_id = ID_DATA;
                ck_assert_int_eq(msg_rpc(&m.head, 0, sizeof(m), 0, 0), 0);
                ck_assert_int_eq(m.value, i + 1);
        }
        pthread_join(th, NULL);
        ck_assert_int_eq(t.got, t.n);
        ck_assert_int_eq(test_wait(pid), 0);
        ck_assert_int_eq(test_send_int(svc, ID_DONE, 0, 0, 0, 0, 0), 0);
        ck_assert_int_eq(test_wait(server), 0);
        port_deallocate(task_self(), child);
}
END_TEST

/* --- moves, set changes, death --- */

/* Takes a receive right, then receives the rest of the stream from it, in order. */
typedef struct {
        int first, n;
} Taker;

static int taker(void *arg) {
        Taker *t = arg;
        port_t mine, boot = test_bootstrap_lookup();
        if (port_allocate(task_self(), &mine) != 0 ||
            test_send_int(boot, ID_HELLO, 0, mine, MSG_TYPE_MAKE_SEND, 0, 0) != 0)
                return 2;
        port_t p = PORT_NULL;
        if (test_recv_int(mine, NULL, NULL, &p, 0, 0) != 0 || p == PORT_NULL)
                return 3;
        /* All of the rest are there, none was lost to the previous owner. */
        port_status_t st;
        if (port_status(task_self(), p, &st) != 0 || (int)st.msgcount != t->n - t->first)
                return 4;
        for (int i = t->first; i < t->n; i++) {
                int32_t v;
                if (test_recv_int(p, NULL, &v, NULL, RCV_TIMEOUT, 10000) != 0)
                        return 5;
                if (v != i)
                        return 6;
        }
        return test_recv_int(p, NULL, NULL, NULL, RCV_TIMEOUT, 0) == RCV_TIMED_OUT ? 0 : 7;
}

/* A sender of @n messages to @p, run to its end: all of them are queued (or handed ahead). */
static port_t stream_all(port_t boot, port_t p, int n) {
        int done[2];
        ck_assert_int_eq(pipe(done), 0);
        Stream s = { n, 0, done[1] };
        pid_t pid = test_fork(sender, &s);
        port_t child = test_parent_give(boot, p, MSG_TYPE_MAKE_SEND);
        char c;
        ck_assert_int_eq(read(done[0], &c, 1), 1);
        ck_assert_int_eq(test_wait(pid), 0);
        close(done[0]);
        close(done[1]);
        return child;
}

START_TEST(test_receive_right_moves_while_armed) {
        port_t boot = test_bootstrap_serve();
        port_t p = test_new_port(PORT_BACKLOG_MAX);
        ck_assert_int_eq(machipc_arm(p), 0);
        Stream s = { 1000, 0, -1 };
        port_t child = stream_all(boot, p, s.n);
        /* Take some; more are handed ahead meanwhile (up to the window). */
        int next = 0, fd = machipc_get_fd();
        while (next < 300) {
                ck_assert_int_eq(wait_readable(fd, 10000), 1);
                machipc_dispatch();
                int32_t v;
                ck_assert_int_eq(test_recv_int(p, NULL, &v, NULL, RCV_TIMEOUT, 0), 0);
                ck_assert_int_eq(v, next++);
        }
        ck_assert_uint_gt(test_stat(getpid(), "lent"), 0);
        /* The right leaves with what was handed ahead and not taken. */
        Taker t = { next, s.n };
        pid_t tp = test_fork(taker, &t);
        int32_t id;
        port_t tport;
        ck_assert_int_eq(test_recv_int(boot, &id, NULL, &tport, RCV_TIMEOUT, 10000), 0);
        ck_assert_int_eq(test_send_int(tport, ID_RIGHT, 0, p, MSG_TYPE_MOVE_RECEIVE, 0, 0), 0);
        ck_assert_int_eq(test_wait(tp), 0);
        /* Nothing of it stays here. */
        ck_assert_int_eq(test_recv_int(p, NULL, NULL, NULL, RCV_TIMEOUT, 0), RCV_INVALID_NAME);
        ck_assert_uint_eq(test_stat(getpid(), "lent"), 0);
        ck_assert_int_eq(machipc_dispatch(), 0);
        port_deallocate(task_self(), child);
        port_deallocate(task_self(), tport);
}
END_TEST

START_TEST(test_set_changes_while_armed) {
        port_t boot = test_bootstrap_serve();
        port_t p = test_new_port(PORT_BACKLOG_MAX), set;
        ck_assert_int_eq(port_set_allocate(task_self(), &set), 0);
        ck_assert_int_eq(port_set_add(task_self(), set, p), 0);
        ck_assert_int_eq(machipc_arm(set), 0);
        Stream s = { 900, 0, -1 };
        port_t child = stream_all(boot, p, s.n);
        int next = 0, fd = machipc_get_fd();
        /* Through the armed set... */
        while (next < 300) {
                ck_assert_int_eq(wait_readable(fd, 10000), 1);
                machipc_dispatch();
                int32_t v;
                port_t got;
                TestIntMsg m;
                memset(&m, 0, sizeof(m));
                m.head.msg_size = sizeof(m);
                m.head.msg_local_port = set;
                ck_assert_int_eq(msg_receive(&m.head, RCV_TIMEOUT, 0), 0);
                v = m.value;
                got = m.head.msg_local_port;
                ck_assert_uint_eq(got, p);      /* named by the member, as Mach does */
                ck_assert_int_eq(v, next++);
        }
        ck_assert_uint_gt(test_stat(getpid(), "lent"), 0);
        /* ...then out of the set: what the set's arm handed ahead goes back to p. */
        ck_assert_int_eq(port_set_remove(task_self(), p), 0);
        ck_assert_uint_eq(test_stat(getpid(), "lent"), 0);
        ck_assert_int_eq(test_recv_int(set, NULL, NULL, NULL, RCV_TIMEOUT, 0), RCV_TIMED_OUT);
        port_status_t st;
        ck_assert_int_eq(port_status(task_self(), p, &st), 0);
        ck_assert_uint_eq(st.msgcount, (uint32_t)(s.n - next));
        ck_assert_uint_eq(st.seqno, (uint32_t)next);
        /* Directly from p (receives of many lend ahead here too)... */
        while (next < 600) {
                int32_t v;
                ck_assert_int_eq(test_recv_int(p, NULL, &v, NULL, RCV_TIMEOUT, 10000), 0);
                ck_assert_int_eq(v, next++);
        }
        /* ...and back into the armed set: what p lent goes back again first. */
        ck_assert_int_eq(port_set_add(task_self(), set, p), 0);
        while (next < s.n) {
                int32_t v;
                ck_assert_int_eq(test_recv_int(set, NULL, &v, NULL, RCV_TIMEOUT, 10000), 0);
                ck_assert_int_eq(v, next++);
        }
        ck_assert_int_eq(test_recv_int(set, NULL, NULL, NULL, RCV_TIMEOUT, 0), RCV_TIMED_OUT);
        /* Destroying the armed set ends its arm; the member stays, and is empty. */
        ck_assert_int_eq(port_deallocate(task_self(), set), 0);
        ck_assert_int_eq(test_recv_int(set, NULL, NULL, NULL, RCV_TIMEOUT, 0), RCV_INVALID_NAME);
        ck_assert_int_eq(test_recv_int(p, NULL, NULL, NULL, RCV_TIMEOUT, 0), RCV_TIMED_OUT);
        port_deallocate(task_self(), child);
}
END_TEST

/*
 * Sends @n messages, each with a send right to a port of its own that asks
 * for a no-senders notification, then waits for it: it comes only once
 * every one of those rights is gone, lent ones included.
 */
static int right_sender(void *arg) {
        int n = *(int *)arg;
        port_t mine, dest = test_child_get_right(&mine);
        if (dest == PORT_NULL)
                return 2;
        port_t q;
        if (port_allocate(task_self(), &q) != 0)
                return 3;
        for (int i = 0; i < n; i++)
                if (test_send_int(dest, ID_DATA, i, q, MSG_TYPE_MAKE_SEND, 0, 0) != 0)
                        return 4;
        /* Once all n made are gone (at once if they are already). */
        if (port_request_notification(task_self(), q, NOTIFY_NO_SENDERS, (uint32_t)n, PORT_NULL) != 0)
                return 3;
        int32_t id, mscount;
        if (test_recv_int(task_notify(), &id, &mscount, NULL, RCV_TIMEOUT, 20000) != 0)
                return 5;
        return id == NOTIFY_NO_SENDERS && mscount == n ? 0 : 6;
}

/* Dispatch until @n messages wait to be taken. */
static void wait_handed(int n) {
        int fd = machipc_get_fd(), have = 0;
        uint64_t deadline = test_now_ms() + 10000;
        while (have < n && test_now_ms() < deadline) {
                wait_readable(fd, 1000);
                have = machipc_dispatch();
                ck_assert_int_ge(have, 0);
        }
        ck_assert_int_eq(have, n);
}

START_TEST(test_port_destroyed_while_armed) {
        port_t boot = test_bootstrap_serve();
        unsigned long long ports = test_stat(0, "ports");
        port_t p = test_new_port(64);
        ck_assert_int_eq(machipc_arm(p), 0);
        int n = 10;
        pid_t pid = test_fork(right_sender, &n);
        port_t child = test_parent_give(boot, p, MSG_TYPE_MAKE_SEND);
        port_deallocate(task_self(), child);
        wait_handed(n);
        /* Their rights are ours already, one name with a reference each. */
        port_t q = PORT_NULL;
        for (int i = 0; i < 3; i++) {
                int32_t v;
                port_t r;
                ck_assert_int_eq(test_recv_int(p, NULL, &v, &r, RCV_TIMEOUT, 0), 0);
                ck_assert_int_eq(v, i);
                ck_assert(q == PORT_NULL || r == q);
                q = r;
        }
        /* Rights of messages handed ahead are named here from the moment they came. */
        uint32_t refs = 0;
        ck_assert_int_eq(port_get_refs(task_self(), q, PORT_RIGHT_SEND, &refs), 0);
        ck_assert_uint_eq(refs, 10);
        ck_assert_int_eq(port_deallocate(task_self(), p), 0);
        /* Those not taken went back with their messages, and died with the port. */
        ck_assert_int_eq(port_get_refs(task_self(), q, PORT_RIGHT_SEND, &refs), 0);
        ck_assert_uint_eq(refs, 3);
        ck_assert_int_eq(port_mod_refs(task_self(), q, PORT_RIGHT_SEND, -3), 0);
        /* The last right gone: the sender hears no-senders. */
        ck_assert_int_eq(test_wait(pid), 0);
        test_wait_gone(pid);
        ck_assert_int_eq(test_recv_int(p, NULL, NULL, NULL, RCV_TIMEOUT, 0), RCV_INVALID_NAME);
        ck_assert_int_eq(machipc_dispatch(), 0);
        ck_assert_uint_eq(test_stat(getpid(), "lent"), 0);
        ck_assert_uint_eq(test_stat(0, "ports"), ports);
}
END_TEST

/*
 * Messages handed ahead that carry send rights to their own port: the rights
 * are ours already, under the port's own name.  Destroying the port gives
 * the messages not taken back to its queue — taking their rights back from
 * that name — and they die with it: each right must be counted once (the
 * broker used to count the name's send right out twice and abort).
 */
START_TEST(test_port_destroyed_with_lent_rights_to_itself) {
        unsigned long long ports = test_stat(0, "ports");
        for (int taken = 0; taken <= 1; taken++) {
                port_t p = test_new_port(64);
                ck_assert_int_eq(machipc_arm(p), 0);
                for (int i = 0; i < 3; i++)
                        ck_assert_int_eq(test_send_int(p, ID_DATA, i, p, MSG_TYPE_MAKE_SEND, 0, 0), 0);
                wait_handed(3);
                uint32_t refs = 0;
                ck_assert_int_eq(port_get_refs(task_self(), p, PORT_RIGHT_SEND, &refs), 0);
                ck_assert_uint_eq(refs, 3);
                for (int i = 0; i < taken; i++) {
                        port_t r = PORT_NULL;
                        ck_assert_int_eq(test_recv_int(p, NULL, NULL, &r, RCV_TIMEOUT, 0), 0);
                        ck_assert_uint_eq(r, p);
                }
                ck_assert_int_eq(port_deallocate(task_self(), p), 0);
                port_type_t t;
                ck_assert_int_eq(port_type(task_self(), p, &t), KERN_INVALID_NAME);
                ck_assert_int_eq(machipc_dispatch(), 0);
                ck_assert_uint_eq(test_stat(getpid(), "lent"), 0);
        }
        /* The broker is still there, and holds nothing of them. */
        ck_assert_uint_eq(test_stat(0, "ports"), ports);
}
END_TEST

/*
 * A port in an armed set, with messages handed ahead, destroyed: what was
 * lent of it goes back and dies with it.  It must not be handed over again
 * in between through the set (its receiver already gone): the task would
 * take a message the broker no longer counts as lent, and be dropped for
 * saying so.  The same for a port armed itself.
 */
START_TEST(test_member_destroyed_while_set_armed) {
        unsigned long long ports = test_stat(0, "ports");
        for (int own_arm = 0; own_arm <= 1; own_arm++) {
                port_t set, p = test_new_port(64), q = test_new_port(64);
                ck_assert_int_eq(port_set_allocate(task_self(), &set), 0);
                ck_assert_int_eq(port_set_add(task_self(), set, p), 0);
                ck_assert_int_eq(port_set_add(task_self(), set, q), 0);
                ck_assert_int_eq(machipc_arm(set), 0);
                if (own_arm)
                        ck_assert_int_eq(machipc_arm(p), 0);
                for (int i = 0; i < 3; i++)
                        ck_assert_int_eq(test_send_int(p, ID_DATA, i, PORT_NULL, 0, 0, 0), 0);
                ck_assert_int_eq(test_send_int(q, ID_DATA, 7, PORT_NULL, 0, 0, 0), 0);
                wait_handed(4);
                ck_assert_int_eq(port_deallocate(task_self(), p), 0);
                machipc_dispatch();
                /* Only q's message is left to take, and taking it is fine with the broker. */
                int32_t v = 0;
                ck_assert_int_eq(test_recv_int(set, NULL, &v, NULL, RCV_TIMEOUT, 0), 0);
                ck_assert_int_eq(v, 7);
                ck_assert_int_eq(test_recv_int(set, NULL, NULL, NULL, RCV_TIMEOUT, 0), RCV_TIMED_OUT);
                port_type_t t;
                ck_assert_int_eq(port_type(task_self(), q, &t), 0);      /* still connected */
                ck_assert_uint_eq(test_stat(getpid(), "lent"), 0);
                ck_assert_int_eq(port_deallocate(task_self(), q), 0);
                ck_assert_int_eq(port_deallocate(task_self(), set), 0);
        }
        ck_assert_uint_eq(test_stat(0, "ports"), ports);
}
END_TEST

/*
 * A port taken out of an armed set with messages handed ahead through the
 * set: they go back to its queue, and are there for a receive from the port
 * itself - not handed over again through the set on their way back.
 */
START_TEST(test_member_removed_while_set_armed) {
        port_t set, p = test_new_port(64);
        ck_assert_int_eq(port_set_allocate(task_self(), &set), 0);
        ck_assert_int_eq(port_set_add(task_self(), set, p), 0);
        ck_assert_int_eq(machipc_arm(set), 0);
        for (int i = 0; i < 3; i++)
                ck_assert_int_eq(test_send_int(p, ID_DATA, i, PORT_NULL, 0, 0, 0), 0);
        wait_handed(3);
        ck_assert_int_eq(port_set_remove(task_self(), p), 0);
        machipc_dispatch();
        for (int i = 0; i < 3; i++) {
                int32_t v = -1;
                ck_assert_int_eq(test_recv_int(p, NULL, &v, NULL, RCV_TIMEOUT, 1000), 0);
                ck_assert_int_eq(v, i);
        }
        ck_assert_int_eq(test_recv_int(set, NULL, NULL, NULL, RCV_TIMEOUT, 0), RCV_TIMED_OUT);
        ck_assert_uint_eq(test_stat(getpid(), "lent"), 0);
        ck_assert_int_eq(port_deallocate(task_self(), p), 0);
        ck_assert_int_eq(port_deallocate(task_self(), set), 0);
}
END_TEST

/* Arms a port of its own, gets it filled, says so, then waits to be killed. */
static int armed_victim(void *arg) {
        int *fds = arg;
        port_t boot = test_bootstrap_lookup(), p;
        if (port_allocate(task_self(), &p) != 0 || port_set_backlog(task_self(), p, 16) != 0 ||
            machipc_arm(p) != 0 || test_send_int(boot, ID_HELLO, 0, p, MSG_TYPE_MAKE_SEND, 0, 0) != 0)
                return 2;
        int fd = machipc_get_fd(), have = 0;
        while (have < fds[2]) {
                if (wait_readable(fd, 10000) != 1)
                        return 3;
                have = machipc_dispatch();
        }
        if (write(fds[1], "f", 1) != 1)
                return 4;
        pause();
        return 0;
}

START_TEST(test_task_killed_while_armed) {
        port_t boot = test_bootstrap_serve();
        unsigned long long ports = test_stat(0, "ports");
        port_t q = test_new_port(8);
        int up[2];
        ck_assert_int_eq(pipe(up), 0);
        int args[3] = { up[0], up[1], 10 };
        pid_t pid = test_fork(armed_victim, args);
        close(up[1]);
        int32_t id;
        port_t vp;
        ck_assert_int_eq(test_recv_int(boot, &id, NULL, &vp, RCV_TIMEOUT, 10000), 0);
        for (int i = 0; i < 10; i++)
                ck_assert_int_eq(test_send_int(vp, ID_DATA, i, q, MSG_TYPE_MAKE_SEND, 0, 0), 0);
        ck_assert_int_eq(port_request_notification(task_self(), q, NOTIFY_NO_SENDERS, 10, PORT_NULL), 0);
        char c;
        ck_assert_int_eq(read(up[0], &c, 1), 1);
        ck_assert_uint_eq(test_stat(pid, "lent"), 10);
        ck_assert_uint_eq(test_stat(pid, "armed"), 1);
        kill(pid, SIGKILL);
        ck_assert_int_eq(test_wait(pid), 128 + SIGKILL);
        test_wait_gone(pid);
        /* What it held on loan died with its port: every send right to q is gone. */
        int32_t mscount;
        ck_assert_int_eq(test_recv_int(task_notify(), &id, &mscount, NULL, RCV_TIMEOUT, 10000), 0);
        ck_assert_int_eq(id, NOTIFY_NO_SENDERS);
        ck_assert_int_eq(mscount, 10);
        ck_assert_int_eq(test_send_int(vp, ID_DATA, 0, 0, 0, 0, 0), SEND_INVALID_DEST);
        port_deallocate(task_self(), vp);
        port_deallocate(task_self(), q);
        ck_assert_uint_eq(test_stat(0, "ports"), ports);
        close(up[0]);
}
END_TEST

/* --- an idle armed task asks nothing --- */

static int idle_armed(void *arg) {
        int *fds = arg;
        port_t boot = test_bootstrap_lookup(), p;
        if (port_allocate(task_self(), &p) != 0 || machipc_arm(p) != 0 ||
            test_send_int(boot, ID_HELLO, 0, p, MSG_TYPE_MAKE_SEND, 0, 0) != 0)
                return 2;
        int fd = machipc_get_fd();
        if (write(fds[1], "r", 1) != 1)
                return 3;
        /* An event loop with nothing to do; then one message. */
        int next = 0;
        while (next < 1) {
                if (wait_readable(fd, 20000) != 1)
                        return 4;
                if (machipc_dispatch() < 0)
                        return 5;
                int32_t v;
                while (test_recv_int(p, NULL, &v, NULL, RCV_TIMEOUT, 0) == 0)
                        next++;
        }
        if (write(fds[1], "g", 1) != 1)
                return 6;
        char c;
        return read(fds[2], &c, 1) == 1 ? 0 : 7;
}

START_TEST(test_idle_armed_task_asks_nothing) {
        port_t boot = test_bootstrap_serve();
        int up[2], down[2];
        ck_assert_int_eq(pipe(up), 0);
        ck_assert_int_eq(pipe(down), 0);
        int fds[3] = { up[0], up[1], down[0] };
        pid_t pid = test_fork(idle_armed, fds);
        int32_t id;
        port_t vp;
        ck_assert_int_eq(test_recv_int(boot, &id, NULL, &vp, RCV_TIMEOUT, 10000), 0);
        char c;
        ck_assert_int_eq(read(up[0], &c, 1), 1);
        unsigned long long r0 = test_stat(pid, "requests"), w0 = test_stat(pid, "oneway");
        /* Watch it idle for half a second: no request, nothing one way either. */
        struct pollfd pf = { .fd = up[0], .events = POLLIN };
        ck_assert_int_eq(poll(&pf, 1, 500), 0);
        ck_assert_uint_eq(test_stat(pid, "requests"), r0);
        ck_assert_uint_eq(test_stat(pid, "oneway"), w0);
        /* A message wakes it; taking it asks nothing either. */
        ck_assert_int_eq(test_send_int(vp, ID_DATA, 7, 0, 0, 0, 0), 0);
        ck_assert_int_eq(read(up[0], &c, 1), 1);
        ck_assert_uint_eq(test_stat(pid, "requests"), r0);
        fprintf(stderr, "  idle armed task: %llu requests in 0.5 s idle and one message\n",
                test_stat(pid, "requests") - r0);
        ck_assert_int_eq(write(down[1], "x", 1), 1);
        ck_assert_int_eq(test_wait(pid), 0);
        port_deallocate(task_self(), vp);
        close(up[0]);
        close(up[1]);
        close(down[0]);
        close(down[1]);
}
END_TEST

START_TEST(test_arm_with_messages_waiting) {
        port_t p = test_new_port(PORT_BACKLOG_MAX);
        for (int i = 0; i < 500; i++)
                ck_assert_int_eq(test_send_int(p, ID_DATA, i, 0, 0, 0, 0), 0);
        /* One by a receive of many (which lends more after it), then armed. */
        int32_t v;
        ck_assert_int_eq(test_recv_int(p, NULL, &v, NULL, 0, 0), 0);
        ck_assert_int_eq(v, 0);
        ck_assert_int_eq(machipc_arm(p), 0);
        int next = 1, fd = machipc_get_fd();
        while (next < 500) {
                ck_assert_int_eq(wait_readable(fd, 10000), 1);
                ck_assert_int_ge(machipc_dispatch(), 0);
                drain(p, &next);
        }
        port_status_t st;
        ck_assert_int_eq(port_status(task_self(), p, &st), 0);
        ck_assert_uint_eq(st.msgcount, 0);
        ck_assert_uint_eq(st.seqno, 500);
}
END_TEST

/* A child of fork() is a new task: its descriptor and arms are its own. */
static int forked_loop(void *arg) {
        (void)arg;
        port_t p;
        if (port_allocate(task_self(), &p) != 0 || machipc_arm(p) != 0)
                return 2;
        int fd = machipc_get_fd();
        if (fd < 0)
                return 3;
        /* A message to itself: a send right made on the way. */
        msg_header_t h = { .msg_size = sizeof(h), .msg_remote_port = p, .msg_id = 9,
                           .msg_bits = MSG_BITS(MSG_TYPE_MAKE_SEND, 0) };
        if (msg_send(&h, 0, 0) != 0 || wait_readable(fd, 10000) != 1 || machipc_dispatch() != 1)
                return 4;
        h.msg_size = sizeof(h);
        h.msg_local_port = p;
        return msg_receive(&h, RCV_TIMEOUT, 0) == 0 && h.msg_id == 9 ? 0 : 5;
}

START_TEST(test_fork_gets_its_own_descriptor) {
        port_t p = test_new_port(16);
        ck_assert_int_eq(machipc_arm(p), 0);
        int fd = machipc_get_fd();
        ck_assert_int_ge(fd, 0);
        for (int i = 0; i < 3; i++)
                ck_assert_int_eq(test_wait(test_fork(forked_loop, NULL)), 0);
        /* Nothing of the children's reached ours. */
        ck_assert_int_eq(machipc_dispatch(), 0);
        ck_assert_int_eq(wait_readable(fd, 0), 0);
        ck_assert_int_eq(test_send_int(p, ID_DATA, 1, 0, 0, 0, 0), 0);
        ck_assert_int_eq(wait_readable(fd, 10000), 1);
        ck_assert_int_eq(machipc_dispatch(), 1);
        ck_assert_int_eq(test_recv_int(p, NULL, NULL, NULL, RCV_TIMEOUT, 0), 0);
}
END_TEST

/* --- what cannot be handed ahead, and bad arms --- */

typedef struct {
        msg_header_t head;
        msg_type_t t;
        int32_t fd;
        int32_t pad;
} FdMsg;

/* Send @p a message of id @id carrying descriptor 0: the broker cannot hand it ahead. */
static msg_return_t send_fd_msg(port_t p, int32_t id) {
        FdMsg m;
        memset(&m, 0, sizeof(m));
        m.head.msg_size = sizeof(msg_header_t) + MSG_ITEM_SIZE(4);
        m.head.msg_remote_port = p;
        m.head.msg_bits = MSG_BITS(MSG_TYPE_MAKE_SEND, 0) | MSG_BITS_COMPLEX;
        m.head.msg_id = id;
        msg_type_init(&m.t, MSG_TYPE_FD, 1);
        m.fd = 0;
        return msg_send(&m.head, 0, 0);
}

START_TEST(test_descriptors_stall_the_arm) {
        port_t p = test_new_port(16);
        ck_assert_int_eq(machipc_arm(p), 0);
        ck_assert_int_eq(test_send_int(p, ID_DATA, 0, 0, 0, 0, 0), 0);
        /* A descriptor: not handed ahead; the descriptor says a receive must fetch it. */
        FdMsg m;
        ck_assert_int_eq(send_fd_msg(p, ID_DATA + 1), 0);
        ck_assert_int_eq(test_send_int(p, ID_DATA, 2, 0, 0, 0, 0), 0);
        int fd = machipc_get_fd();
        ck_assert_int_eq(wait_readable(fd, 10000), 1);
        machipc_dispatch();
        int32_t id, v;
        ck_assert_int_eq(test_recv_int(p, &id, &v, NULL, RCV_TIMEOUT, 0), 0);
        ck_assert_int_eq(v, 0);
        /* The stalled one: fetched by a real receive, in its place. */
        ck_assert_int_eq(wait_readable(fd, 10000), 1);
        machipc_dispatch();
        memset(&m, 0, sizeof(m));
        m.head.msg_size = sizeof(m);
        m.head.msg_local_port = p;
        ck_assert_int_eq(msg_receive(&m.head, RCV_TIMEOUT, 0), 0);
        ck_assert_int_eq(m.head.msg_id, ID_DATA + 1);
        ck_assert_int_ge(m.fd, 0);
        close(m.fd);
        /* And handing ahead goes on. */
        ck_assert_int_eq(wait_readable(fd, 10000), 1);
        machipc_dispatch();
        ck_assert_int_eq(test_recv_int(p, &id, &v, NULL, RCV_TIMEOUT, 0), 0);
        ck_assert_int_eq(v, 2);
        ck_assert_int_eq(test_recv_int(p, NULL, NULL, NULL, RCV_TIMEOUT, 0), RCV_TIMED_OUT);
        /* Nothing is left: the descriptor goes quiet (it stayed readable for ever once an arm
         * had stalled, and an event loop spun). */
        machipc_dispatch();
        ck_assert_int_eq(wait_readable(fd, 300), 0);
}
END_TEST

/* An arm on a set stalls on a member's message, and the member leaves the set: a real receive
 * finds nothing, and the stall ends there too (no readiness left behind). */
START_TEST(test_stall_gone_with_its_port) {
        port_t set, p = test_new_port(16);
        ck_assert_int_eq(port_set_allocate(task_self(), &set), 0);
        ck_assert_int_eq(port_set_add(task_self(), set, p), 0);
        ck_assert_int_eq(machipc_arm(set), 0);
        FdMsg m;
        ck_assert_int_eq(send_fd_msg(p, 0), 0);
        int fd = machipc_get_fd();
        ck_assert_int_eq(wait_readable(fd, 10000), 1);  /* stalled: a receive must fetch it */
        machipc_dispatch();
        ck_assert_int_eq(port_set_remove(task_self(), p), 0);
        memset(&m, 0, sizeof(m));
        m.head.msg_size = sizeof(m);
        m.head.msg_local_port = set;
        ck_assert_int_eq(msg_receive(&m.head, RCV_TIMEOUT, 0), RCV_TIMED_OUT);
        machipc_dispatch();
        ck_assert_int_eq(wait_readable(fd, 300), 0);
        /* The message is still the port's. */
        m.head.msg_size = sizeof(m);
        m.head.msg_local_port = p;
        ck_assert_int_eq(msg_receive(&m.head, RCV_TIMEOUT, 0), 0);
        close(m.fd);
}
END_TEST

START_TEST(test_bad_arms) {
        port_t p = test_new_port(16), snd;
        ck_assert_int_eq(machipc_arm(0x12345), RCV_INVALID_NAME);
        ck_assert_int_eq(machipc_arm(PORT_NULL), RCV_INVALID_NAME);
        /* A send right alone is not something to receive from. */
        ck_assert_int_eq(port_allocate(task_self(), &snd), 0);
        ck_assert_int_eq(test_send_int(p, ID_DATA, 0, snd, MSG_TYPE_MAKE_SEND, 0, 0), 0);
        port_t right;
        ck_assert_int_eq(test_recv_int(p, NULL, NULL, &right, 0, 0), 0);
        ck_assert_int_eq(port_deallocate(task_self(), snd), 0);
        ck_assert_int_eq(machipc_arm(right), RCV_INVALID_NAME);
        ck_assert_int_eq(machipc_arm(task_self()), RCV_INVALID_NAME);
        /* Arming twice is arming once. */
        ck_assert_int_eq(machipc_arm(p), 0);
        ck_assert_int_eq(machipc_arm(p), 0);
        ck_assert_uint_eq(test_stat(getpid(), "armed"), 1);
        /* At most 1,024 armed ports per task. */
        port_t many[1024];
        int n = 0;
        int r = 0;
        for (; n < 1024; n++) {
                ck_assert_int_eq(port_allocate(task_self(), &many[n]), 0);
                if ((r = machipc_arm(many[n])) != 0)
                        break;
        }
        ck_assert_int_eq(n, 1023);
        ck_assert_int_eq(r, KERN_RESOURCE_SHORTAGE);
        for (int i = 0; i <= n && i < 1024; i++)
                ck_assert_int_eq(port_deallocate(task_self(), many[i]), 0);
        ck_assert_uint_eq(test_stat(getpid(), "armed"), 1);
        port_deallocate(task_self(), right);
}
END_TEST

int main(void) {
        Suite *s = suite_create("Event loops");
        TCase *tc = tcase_create("async");
        tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
        tcase_set_timeout(tc, 60);
        ADD_TEST(tc, test_epoll_readiness);
        ADD_TEST(tc, test_libevent_two_ports_and_a_timer);
        ADD_TEST(tc, test_loop_thread_beside_blocking_calls);
        ADD_TEST(tc, test_receive_right_moves_while_armed);
        ADD_TEST(tc, test_set_changes_while_armed);
        ADD_TEST(tc, test_port_destroyed_while_armed);
        ADD_TEST(tc, test_port_destroyed_with_lent_rights_to_itself);
        ADD_TEST(tc, test_member_destroyed_while_set_armed);
        ADD_TEST(tc, test_member_removed_while_set_armed);
        ADD_TEST(tc, test_task_killed_while_armed);
        ADD_TEST(tc, test_idle_armed_task_asks_nothing);
        ADD_TEST(tc, test_arm_with_messages_waiting);
        ADD_TEST(tc, test_fork_gets_its_own_descriptor);
        ADD_TEST(tc, test_descriptors_stall_the_arm);
        ADD_TEST(tc, test_stall_gone_with_its_port);
        ADD_TEST(tc, test_bad_arms);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
