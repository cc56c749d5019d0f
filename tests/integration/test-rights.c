/* SPDX-License-Identifier: MIT */
/* test-rights.c - rights in messages, ownership transfer, dead names, notifications */

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "fixture.h"

static port_t new_port(void) {
        port_t p;
        ck_assert_int_eq(port_allocate(task_self(), &p), KERN_SUCCESS);
        ck_assert_int_eq(port_set_backlog(task_self(), p, 64), KERN_SUCCESS);
        return p;
}

static port_type_t type_of(port_t name) {
        port_type_t t = 0;
        ck_assert_int_eq(port_type(task_self(), name, &t), KERN_SUCCESS);
        return t;
}

static uint32_t refs_of(port_t name, port_right_t right) {
        uint32_t r = 99;
        ck_assert_int_eq(port_get_refs(task_self(), name, right, &r), KERN_SUCCESS);
        return r;
}

static port_status_t status_of(port_t p) {
        port_status_t st;
        ck_assert_int_eq(port_status(task_self(), p, &st), KERN_SUCCESS);
        return st;
}

/* Receive one notification on @port; returns its id and the INTEGER_32 body (if any). */
static int32_t recv_note(port_t port, uint32_t *value) {
        TestIntMsg m;
        memset(&m, 0, sizeof(m));
        m.head.msg_size = sizeof(m);
        m.head.msg_local_port = port;
        ck_assert_int_eq(msg_receive(&m.head, RCV_TIMEOUT, 10000), 0);
        msg_sender_t who;
        ck_assert_int_eq(msg_last_sender(&who), 0);
        ck_assert_uint_eq(who.flags, MSG_SENDER_KERNEL);
        if (value)
                *value = (uint32_t)m.value;
        return m.head.msg_id;
}

/* A snapshot of every name, type and reference count in this task. */
typedef struct {
        uint32_t n;
        port_t *names;
        port_type_t *types;
        uint32_t *refs;
} Snapshot;

static void snap(Snapshot *s) {
        ck_assert_int_eq(port_names(task_self(), &s->names, &s->types, &s->n), KERN_SUCCESS);
        s->refs = calloc(s->n + 1, sizeof(uint32_t));
        for (uint32_t i = 0; i < s->n; i++)
                s->refs[i] = refs_of(s->names[i], PORT_RIGHT_SEND) + refs_of(s->names[i], PORT_RIGHT_DEAD_NAME);
}

static void snap_equal(Snapshot *a, Snapshot *b) {
        ck_assert_uint_eq(a->n, b->n);
        for (uint32_t i = 0; i < a->n; i++) {
                ck_assert_uint_eq(a->names[i], b->names[i]);
                ck_assert_uint_eq(a->types[i], b->types[i]);
                ck_assert_uint_eq(a->refs[i], b->refs[i]);
        }
        free(a->names);
        free(a->types);
        free(a->refs);
        free(b->names);
        free(b->types);
        free(b->refs);
}

START_TEST(test_names_and_refs) {
        port_t p = new_port(), *names;
        port_type_t *types;
        uint32_t n;
        ck_assert_int_eq(port_names(task_self(), &names, &types, &n), 0);
        int found = 0;
        for (uint32_t i = 0; i < n; i++) {
                if (names[i] == p) {
                        ck_assert_uint_eq(types[i], PORT_TYPE_RECEIVE);
                        found++;
                }
                if (names[i] == task_self())
                        ck_assert_uint_eq(types[i], PORT_TYPE_SEND);
        }
        ck_assert_int_eq(found, 1);
        free(names);
        free(types);
        ck_assert_uint_eq(refs_of(p, PORT_RIGHT_RECEIVE), 1);
        ck_assert_uint_eq(refs_of(p, PORT_RIGHT_SEND), 0);      /* not an error */
        uint32_t r;
        ck_assert_int_eq(port_get_refs(task_self(), p, 9, &r), KERN_INVALID_VALUE);
        ck_assert_int_eq(port_get_refs(task_self(), 0x7700, PORT_RIGHT_SEND, &r), KERN_INVALID_NAME);
        /* Many names page through. */
        for (int i = 0; i < 5000; i++)
                new_port();
        ck_assert_int_eq(port_names(task_self(), &names, &types, &n), 0);
        ck_assert_uint_ge(n, 5003);
        free(names);
        free(types);
}
END_TEST

START_TEST(test_uref_overflow) {
        port_t p = new_port();
        ck_assert_int_eq(port_mod_refs(task_self(), p, PORT_RIGHT_SEND, 1), KERN_INVALID_RIGHT);
        /* A send right via a message to ourselves (make-send). */
        ck_assert_int_eq(test_send_int(p, 1, 0, p, MSG_TYPE_MAKE_SEND, 0, 0), 0);
        port_t got;
        ck_assert_int_eq(test_recv_int(p, NULL, NULL, &got, 0, 0), 0);
        ck_assert_uint_eq(got, p);
        ck_assert_uint_eq(refs_of(p, PORT_RIGHT_SEND), 1);
        ck_assert_int_eq(port_mod_refs(task_self(), p, PORT_RIGHT_SEND, PORT_UREFS_MAX - 1), KERN_SUCCESS);
        ck_assert_uint_eq(refs_of(p, PORT_RIGHT_SEND), PORT_UREFS_MAX);
        ck_assert_int_eq(port_mod_refs(task_self(), p, PORT_RIGHT_SEND, 1), KERN_UREFS_OVERFLOW);
        ck_assert_uint_eq(refs_of(p, PORT_RIGHT_SEND), PORT_UREFS_MAX);
        ck_assert_int_eq(port_mod_refs(task_self(), p, PORT_RIGHT_SEND, INT32_MAX), KERN_UREFS_OVERFLOW);
        ck_assert_int_eq(port_mod_refs(task_self(), p, PORT_RIGHT_SEND, -(int32_t)PORT_UREFS_MAX - 1),
                         KERN_INVALID_VALUE);
        /* A right received at the maximum stays pegged; it never wraps. */
        ck_assert_int_eq(test_send_int(p, 1, 0, p, MSG_TYPE_MAKE_SEND, 0, 0), 0);
        ck_assert_int_eq(test_recv_int(p, NULL, NULL, &got, 0, 0), 0);
        ck_assert_uint_eq(refs_of(p, PORT_RIGHT_SEND), PORT_UREFS_MAX);
        ck_assert_uint_eq(status_of(p).n_send, 1);
        /* Down to zero releases the send right; the receive right stays. */
        ck_assert_int_eq(port_mod_refs(task_self(), p, PORT_RIGHT_SEND, -(int32_t)PORT_UREFS_MAX), 0);
        ck_assert_uint_eq(type_of(p), PORT_TYPE_RECEIVE);
        ck_assert_uint_eq(status_of(p).n_send, 0);
        ck_assert_int_eq(port_mod_refs(task_self(), p, PORT_RIGHT_RECEIVE, 1), KERN_UREFS_OVERFLOW);
        ck_assert_int_eq(port_mod_refs(task_self(), p, PORT_RIGHT_RECEIVE, -2), KERN_INVALID_VALUE);
        ck_assert_int_eq(port_mod_refs(task_self(), p, PORT_RIGHT_SEND_ONCE, -1), KERN_INVALID_RIGHT);
        ck_assert_int_eq(port_mod_refs(task_self(), p, 17, -1), KERN_INVALID_VALUE);
        ck_assert_int_eq(port_mod_refs(task_self(), p, PORT_RIGHT_RECEIVE, -1), 0);
        ck_assert_int_eq(port_type(task_self(), p, &(port_type_t){ 0 }), KERN_INVALID_NAME);
}
END_TEST

/* Send one right with @disp to @dest; the peer reports what it got. */
static int disposition_peer(void *arg) {
        (void)arg;
        port_t boot = test_bootstrap_lookup(), mine, r;
        if (port_allocate(task_self(), &mine) != 0)
                return 1;
        if (test_send_int(boot, 0, 0, mine, MSG_TYPE_MAKE_SEND, 0, 0) != 0)
                return 2;
        for (;;) {
                TestIntMsg m;
                memset(&m, 0, sizeof(m));
                m.head.msg_size = sizeof(m);
                m.head.msg_local_port = mine;
                if (msg_receive(&m.head, 0, 0) != 0)
                        return 3;
                if (m.head.msg_id == 99)
                        return 0;
                r = m.right;
                port_type_t t = 0;
                port_type(task_self(), r, &t);
                uint32_t refs = 0;
                port_get_refs(task_self(), r, PORT_RIGHT_SEND, &refs);
                /* Report: item type received, right type, send refs. */
                if (test_send_int(boot, m.rt.msg_type_name, (int32_t)(t | refs << 8), 0, 0, 0, 0) != 0)
                        return 4;
        }
}

START_TEST(test_every_disposition) {
        port_t boot = test_bootstrap_serve(), peer;
        pid_t pid = test_fork(disposition_peer, NULL);
        ck_assert_int_eq(test_recv_int(boot, NULL, NULL, &peer, 0, 0), 0);
        static const struct {
                uint16_t disp;
                int32_t want_item;
                uint32_t want_type;
        } cases[] = {
                { MSG_TYPE_MAKE_SEND, MSG_TYPE_PORT_SEND, PORT_TYPE_SEND },
                { MSG_TYPE_COPY_SEND, MSG_TYPE_PORT_SEND, PORT_TYPE_SEND },
                { MSG_TYPE_MOVE_SEND, MSG_TYPE_PORT_SEND, PORT_TYPE_SEND },
                { MSG_TYPE_MAKE_SEND_ONCE, MSG_TYPE_PORT_SEND_ONCE, PORT_TYPE_SEND_ONCE },
                { MSG_TYPE_MOVE_SEND_ONCE, MSG_TYPE_PORT_SEND_ONCE, PORT_TYPE_SEND_ONCE },
                { MSG_TYPE_MOVE_RECEIVE, MSG_TYPE_PORT_RECEIVE, PORT_TYPE_RECEIVE },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                port_t p = new_port(), name = p;
                if (cases[i].disp == MSG_TYPE_COPY_SEND || cases[i].disp == MSG_TYPE_MOVE_SEND) {
                        /* Get a send right first (two references for the copy case). */
                        ck_assert_int_eq(port_mod_refs(task_self(), p, PORT_RIGHT_SEND, 1), KERN_INVALID_RIGHT);
                        ck_assert_int_eq(test_send_int(p, 1, 0, p, MSG_TYPE_MAKE_SEND, 0, 0), 0);
                        ck_assert_int_eq(test_recv_int(p, NULL, NULL, NULL, 0, 0), 0);
                        ck_assert_uint_eq(refs_of(p, PORT_RIGHT_SEND), 1);
                } else if (cases[i].disp == MSG_TYPE_MOVE_SEND_ONCE) {
                        ck_assert_int_eq(test_send_int(p, 1, 0, p, MSG_TYPE_MAKE_SEND_ONCE, 0, 0), 0);
                        ck_assert_int_eq(test_recv_int(p, NULL, NULL, &name, 0, 0), 0);
                        ck_assert_uint_eq(type_of(name), PORT_TYPE_SEND_ONCE);
                }
                port_status_t before = status_of(p);
                ck_assert_int_eq(test_send_int(peer, 1, 0, name, cases[i].disp, 0, 0), 0);
                int32_t item, info;
                ck_assert_int_eq(test_recv_int(boot, &item, &info, NULL, 0, 0), 0);
                ck_assert_int_eq(item, cases[i].want_item);
                ck_assert_uint_eq(info & 0xff, cases[i].want_type);
                /* What the sender holds afterwards. */
                switch (cases[i].disp) {
                case MSG_TYPE_MAKE_SEND:
                        ck_assert_uint_eq(type_of(p), PORT_TYPE_RECEIVE);
                        ck_assert_uint_eq(status_of(p).mscount, before.mscount + 1);
                        ck_assert_uint_eq(status_of(p).n_send, 1);
                        break;
                case MSG_TYPE_COPY_SEND:
                        ck_assert_uint_eq(refs_of(p, PORT_RIGHT_SEND), 1);
                        ck_assert_uint_eq(status_of(p).n_send, 2);
                        break;
                case MSG_TYPE_MOVE_SEND:
                        ck_assert_uint_eq(type_of(p), PORT_TYPE_RECEIVE);
                        ck_assert_uint_eq(status_of(p).n_send, 1);
                        break;
                case MSG_TYPE_MAKE_SEND_ONCE:
                        ck_assert_uint_eq(status_of(p).n_send_once, 1);
                        break;
                case MSG_TYPE_MOVE_SEND_ONCE:
                        ck_assert_int_eq(port_type(task_self(), name, &(port_type_t){ 0 }), KERN_INVALID_NAME);
                        ck_assert_uint_eq(status_of(p).n_send_once, 1);
                        break;
                case MSG_TYPE_MOVE_RECEIVE:
                        ck_assert_int_eq(port_type(task_self(), p, &(port_type_t){ 0 }), KERN_INVALID_NAME);
                        break;
                }
        }
        ck_assert_int_eq(test_send_int(peer, 99, 0, 0, 0, 0, 0), 0);
        ck_assert_int_eq(test_wait(pid), 0);
}
END_TEST

START_TEST(test_failed_send_keeps_rights) {
        port_t p = new_port(), q = new_port(), full = new_port();
        ck_assert_int_eq(port_set_backlog(task_self(), full, 0), 0);
        /* Hold a send right with 2 references and a send-once right. */
        ck_assert_int_eq(test_send_int(q, 1, 0, q, MSG_TYPE_MAKE_SEND, 0, 0), 0);
        ck_assert_int_eq(test_recv_int(q, NULL, NULL, NULL, 0, 0), 0);
        ck_assert_int_eq(port_mod_refs(task_self(), q, PORT_RIGHT_SEND, 1), 0);
        port_t so;
        ck_assert_int_eq(test_send_int(q, 1, 0, q, MSG_TYPE_MAKE_SEND_ONCE, 0, 0), 0);
        ck_assert_int_eq(test_recv_int(q, NULL, NULL, &so, 0, 0), 0);

        struct {
                msg_header_t head;
                msg_type_t t1;
                port_t moved[3];
                uint32_t pad;
        } m;
        Snapshot a, b;
        struct {
                port_t dest, reply;
                uint32_t bits;
                port_t bad;
                msg_option_t opt;
                int want;
        } cases[] = {
                { 0x5500, 0, 0, 0, 0, SEND_INVALID_DEST },
                { p, 0x5500, 0, 0, 0, SEND_INVALID_REPLY },
                { p, 0, MSG_BITS(MSG_TYPE_MAKE_SEND, 0), 0x5500, 0, SEND_INVALID_RIGHT },
                { p, 0, 0x00ff0000, 0, 0, SEND_INVALID_HEADER },
                { full, 0, 0, 0, SEND_TIMEOUT, SEND_TIMED_OUT },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                memset(&m, 0, sizeof(m));
                msg_type_init(&m.t1, MSG_TYPE_MOVE_SEND, 2);
                m.moved[0] = q;
                m.moved[1] = q;
                m.head.msg_size = sizeof(msg_header_t) + MSG_ITEM_SIZE(8);
                m.head.msg_remote_port = cases[i].dest;
                m.head.msg_local_port = cases[i].reply;
                m.head.msg_bits = cases[i].bits;
                if (cases[i].bad) {
                        msg_type_init(&m.t1, MSG_TYPE_MOVE_SEND, 3);
                        m.moved[2] = cases[i].bad;
                        m.head.msg_size = sizeof(msg_header_t) + MSG_ITEM_SIZE(12);
                }
                snap(&a);
                ck_assert_int_eq(msg_send(&m.head, cases[i].opt, 0), cases[i].want);
                snap(&b);
                snap_equal(&a, &b);
        }
        /* After a wait, the message comes back with its rights (pseudo-receive). */
        memset(&m, 0, sizeof(m));
        msg_type_init(&m.t1, MSG_TYPE_MOVE_SEND, 2);
        m.moved[0] = q;
        m.moved[1] = q;
        m.head.msg_size = sizeof(msg_header_t) + MSG_ITEM_SIZE(8);
        m.head.msg_remote_port = full;
        snap(&a);
        ck_assert_int_eq(msg_send(&m.head, SEND_TIMEOUT, 50), SEND_TIMED_OUT);
        snap(&b);
        snap_equal(&a, &b);
        ck_assert_uint_eq(m.moved[0], q);
        ck_assert_uint_eq(m.moved[1], q);
        (void)so;
}
END_TEST

/* Ownership moves A -> B -> C with messages queued at each step. */
static int owner_b(void *arg) {
        (void)arg;
        port_t boot = test_bootstrap_lookup(), mine, mbox = PORT_NULL;
        if (port_allocate(task_self(), &mine) != 0)
                return 1;
        if (test_send_int(boot, 'B', 0, mine, MSG_TYPE_MAKE_SEND, 0, 0) != 0)
                return 2;
        /* The receive right arrives; the messages queued before are there. */
        if (test_recv_int(mine, NULL, NULL, &mbox, 0, 0) != 0 || mbox == PORT_NULL)
                return 3;
        port_type_t t;
        if (port_type(task_self(), mbox, &t) != 0 || t != PORT_TYPE_RECEIVE)
                return 4;
        for (int i = 0; i < 2; i++) {
                int32_t v;
                if (test_recv_int(mbox, NULL, &v, NULL, RCV_TIMEOUT, 0) != 0 || v != i)
                        return 5;
        }
        /* Tell A we read them; A queues more; then pass the mailbox to C. */
        if (test_send_int(boot, 'b', 0, 0, 0, 0, 0) != 0)
                return 6;
        port_t c = PORT_NULL;
        if (test_recv_int(mine, NULL, NULL, &c, 0, 0) != 0)
                return 7;
        if (test_send_int(c, 'M', 0, mbox, MSG_TYPE_MOVE_RECEIVE, 0, 0) != 0)
                return 8;
        /* B can no longer receive from it. */
        int32_t v;
        if (test_recv_int(mbox, NULL, &v, NULL, RCV_TIMEOUT, 0) != RCV_INVALID_NAME)
                return 9;
        return 0;
}

static int owner_c(void *arg) {
        (void)arg;
        port_t boot = test_bootstrap_lookup(), mine, mbox = PORT_NULL;
        if (port_allocate(task_self(), &mine) != 0)
                return 1;
        if (test_send_int(boot, 'C', 0, mine, MSG_TYPE_MAKE_SEND, 0, 0) != 0)
                return 2;
        if (test_recv_int(mine, NULL, NULL, &mbox, 0, 0) != 0 || mbox == PORT_NULL)
                return 3;
        for (int i = 2; i < 5; i++) {
                int32_t v;
                if (test_recv_int(mbox, NULL, &v, NULL, RCV_TIMEOUT, 5000) != 0 || v != i)
                        return 10 + i;
        }
        return test_send_int(boot, 'c', 0, 0, 0, 0, 0) == 0 ? 0 : 4;
}

START_TEST(test_receive_right_travels) {
        port_t boot = test_bootstrap_serve(), mbox = new_port(), b, c;
        pid_t pb = test_fork(owner_b, NULL), pc = test_fork(owner_c, NULL);
        int32_t id;
        port_t r1, r2;
        ck_assert_int_eq(test_recv_int(boot, &id, NULL, &r1, 0, 0), 0);
        ck_assert_int_eq(test_recv_int(boot, NULL, NULL, &r2, 0, 0), 0);
        b = id == 'B' ? r1 : r2;
        c = id == 'B' ? r2 : r1;
        /* A owns the mailbox and keeps a send right; 2 messages queued. */
        ck_assert_int_eq(test_send_int(mbox, 1, 0, mbox, MSG_TYPE_MAKE_SEND, 0, 0), 0);
        ck_assert_int_eq(test_recv_int(mbox, NULL, NULL, NULL, 0, 0), 0);
        for (int i = 0; i < 2; i++)
                ck_assert_int_eq(test_send_int(mbox, 2, i, 0, 0, 0, 0), 0);
        ck_assert_int_eq(test_send_int(b, 'M', 0, mbox, MSG_TYPE_MOVE_RECEIVE, 0, 0), 0);
        /* A kept its send right under the same name and cannot receive. */
        ck_assert_uint_eq(type_of(mbox), PORT_TYPE_SEND);
        int32_t v;
        ck_assert_int_eq(test_recv_int(mbox, NULL, &v, NULL, RCV_TIMEOUT, 0), RCV_INVALID_NAME);
        ck_assert_int_eq(test_recv_int(boot, &id, NULL, NULL, 0, 0), 0);
        ck_assert_int_eq(id, 'b');
        /* A sends on without noticing; these wait for C. */
        for (int i = 2; i < 5; i++)
                ck_assert_int_eq(test_send_int(mbox, 2, i, 0, 0, 0, 0), 0);
        ck_assert_int_eq(test_send_int(b, 'C', 0, c, MSG_TYPE_COPY_SEND, 0, 0), 0);
        ck_assert_int_eq(test_wait(pb), 0);
        ck_assert_int_eq(test_recv_int(boot, &id, NULL, NULL, 0, 0), 0);
        ck_assert_int_eq(id, 'c');
        ck_assert_int_eq(test_wait(pc), 0);
        /* C exited: the mailbox died with it (once the broker has seen the exit). */
        uint64_t deadline = test_now_ms() + 10000;
        while (type_of(mbox) != PORT_TYPE_DEAD_NAME && test_now_ms() < deadline)
                usleep(1000);
        ck_assert_uint_eq(type_of(mbox), PORT_TYPE_DEAD_NAME);
}
END_TEST

static int hold_and_wait(void *arg) {
        int backlog = *(int *)arg;
        port_t boot = test_bootstrap_lookup(), p;
        if (port_allocate(task_self(), &p) != 0 || port_set_backlog(task_self(), p, (uint32_t)backlog) != 0)
                return 1;
        if (test_send_int(boot, 0, 0, p, MSG_TYPE_MAKE_SEND, 0, 0) != 0)
                return 2;
        pause();
        return 0;
}

START_TEST(test_dead_name_notification) {
        port_t boot = test_bootstrap_serve(), p;
        int backlog = 8;
        pid_t pid = test_fork(hold_and_wait, &backlog);
        ck_assert_int_eq(test_recv_int(boot, NULL, NULL, &p, 0, 0), 0);
        ck_assert_uint_eq(refs_of(p, PORT_RIGHT_SEND), 1);
        ck_assert_int_eq(port_request_notification(task_self(), p, NOTIFY_DEAD_NAME, 0, PORT_NULL), 0);
        ck_assert_int_eq(port_request_notification(task_self(), p, NOTIFY_NO_SENDERS, 0, PORT_NULL),
                         KERN_INVALID_RIGHT);
        ck_assert_int_eq(port_request_notification(task_self(), p, 12345, 0, PORT_NULL), KERN_INVALID_VALUE);
        kill(pid, SIGKILL);
        ck_assert_int_eq(test_wait(pid), 128 + SIGKILL);
        uint32_t name;
        ck_assert_int_eq(recv_note(task_notify(), &name), NOTIFY_DEAD_NAME);
        ck_assert_uint_eq(name, p);
        ck_assert_uint_eq(type_of(p), PORT_TYPE_DEAD_NAME);
        /* The notification carries a reference: now 2. */
        ck_assert_uint_eq(refs_of(p, PORT_RIGHT_DEAD_NAME), 2);
        ck_assert_int_eq(test_send_int(p, 1, 1, 0, 0, 0, 0), SEND_INVALID_DEST);
        ck_assert_int_eq(port_deallocate(task_self(), p), 0);
        ck_assert_int_eq(port_deallocate(task_self(), p), 0);
        ck_assert_int_eq(port_type(task_self(), p, &(port_type_t){ 0 }), KERN_INVALID_NAME);
        /* A request on a name already dead fires at once. */
        pid = test_fork(hold_and_wait, &backlog);
        ck_assert_int_eq(test_recv_int(boot, NULL, NULL, &p, 0, 0), 0);
        kill(pid, SIGKILL);
        ck_assert_int_eq(test_wait(pid), 128 + SIGKILL);
        port_t mine = new_port();
        ck_assert_int_eq(port_request_notification(task_self(), p, NOTIFY_DEAD_NAME, 1, mine), 0);
        ck_assert_int_eq(recv_note(mine, &name), NOTIFY_DEAD_NAME);
        ck_assert_uint_eq(name, p);
}
END_TEST

START_TEST(test_port_deleted_notification) {
        port_t p = new_port(), so;
        ck_assert_int_eq(test_send_int(p, 1, 0, p, MSG_TYPE_MAKE_SEND_ONCE, 0, 0), 0);
        ck_assert_int_eq(test_recv_int(p, NULL, NULL, &so, 0, 0), 0);
        ck_assert_int_eq(port_request_notification(task_self(), so, NOTIFY_DEAD_NAME, 0, PORT_NULL), 0);
        /* Using the send-once right deletes the name: port-deleted. */
        ck_assert_int_eq(test_send_int(so, 5, 0, 0, 0, 0, 0), 0);
        uint32_t name;
        ck_assert_int_eq(recv_note(task_notify(), &name), NOTIFY_PORT_DELETED);
        ck_assert_uint_eq(name, so);
        int32_t id;
        ck_assert_int_eq(test_recv_int(p, &id, NULL, NULL, RCV_TIMEOUT, 0), 0);
        ck_assert_int_eq(id, 5);
        /* Cancelled requests say nothing. */
        ck_assert_int_eq(test_send_int(p, 1, 0, p, MSG_TYPE_MAKE_SEND_ONCE, 0, 0), 0);
        ck_assert_int_eq(test_recv_int(p, NULL, NULL, &so, 0, 0), 0);
        ck_assert_int_eq(port_request_notification(task_self(), so, NOTIFY_DEAD_NAME, 0, PORT_NULL), 0);
        ck_assert_int_eq(port_request_notification(task_self(), so, NOTIFY_DEAD_NAME, 0, PORT_DEAD), 0);
        ck_assert_int_eq(port_deallocate(task_self(), so), 0);
        /* ... except the send-once notification its port gets. */
        ck_assert_int_eq(recv_note(p, NULL), NOTIFY_SEND_ONCE);
        ck_assert_int_eq(test_recv_int(task_notify(), NULL, NULL, NULL, RCV_TIMEOUT, 0), RCV_TIMED_OUT);
}
END_TEST

static int take_send_right_then_exit(void *arg) {
        (void)arg;
        port_t boot = test_bootstrap_lookup(), mine, got = PORT_NULL;
        if (port_allocate(task_self(), &mine) != 0)
                return 1;
        if (test_send_int(boot, 0, 0, mine, MSG_TYPE_MAKE_SEND, 0, 0) != 0)
                return 2;
        if (test_recv_int(mine, NULL, NULL, &got, 0, 0) != 0 || got == PORT_NULL)
                return 3;
        return 0;       /* exits holding the send right: no more senders */
}

START_TEST(test_no_senders_notification) {
        port_t boot = test_bootstrap_serve(), p = new_port(), child;
        ck_assert_int_eq(port_request_notification(task_self(), task_self(), NOTIFY_NO_SENDERS, 0, PORT_NULL),
                         KERN_INVALID_RIGHT);
        /* No senders and mscount >= sync: fires at once. */
        ck_assert_int_eq(port_request_notification(task_self(), p, NOTIFY_NO_SENDERS, 0, PORT_NULL), 0);
        uint32_t mscount;
        ck_assert_int_eq(recv_note(task_notify(), &mscount), NOTIFY_NO_SENDERS);
        ck_assert_uint_eq(mscount, 0);
        /* sync above mscount: waits for senders to come and go. */
        ck_assert_int_eq(port_request_notification(task_self(), p, NOTIFY_NO_SENDERS, 1, PORT_NULL), 0);
        pid_t pid = test_fork(take_send_right_then_exit, NULL);
        ck_assert_int_eq(test_recv_int(boot, NULL, NULL, &child, 0, 0), 0);
        ck_assert_int_eq(test_send_int(child, 0, 0, p, MSG_TYPE_MAKE_SEND, 0, 0), 0);
        ck_assert_int_eq(test_wait(pid), 0);
        ck_assert_int_eq(recv_note(task_notify(), &mscount), NOTIFY_NO_SENDERS);
        ck_assert_uint_eq(mscount, 1);
        ck_assert_uint_eq(status_of(p).n_send, 0);
}
END_TEST

START_TEST(test_port_destroyed_backup) {
        /* The child's mailbox has a backup port here: when the child is
         * killed, its receive right comes to us with the queued messages. */
        port_t boot = test_bootstrap_serve(), backup = new_port(), cp;
        int backlog = 8;
        pid_t pid = test_fork(hold_and_wait, &backlog);
        ck_assert_int_eq(test_recv_int(boot, NULL, NULL, &cp, 0, 0), 0);
        /* We cannot arm a request in the child's space without its kernel
         * port, so do it in ours: make a mailbox, give it a backup, send its
         * receive right to the child, and let the child die. */
        port_t mbox = new_port();
        ck_assert_int_eq(port_request_notification(task_self(), mbox, NOTIFY_PORT_DESTROYED, 0, mbox),
                         KERN_INVALID_VALUE);
        ck_assert_int_eq(port_request_notification(task_self(), mbox, NOTIFY_PORT_DESTROYED, 0, backup), 0);
        ck_assert_int_eq(test_send_int(mbox, 1, 0, mbox, MSG_TYPE_MAKE_SEND, 0, 0), 0);
        ck_assert_int_eq(test_recv_int(mbox, NULL, NULL, NULL, 0, 0), 0);
        for (int i = 0; i < 3; i++)
                ck_assert_int_eq(test_send_int(mbox, 7, i, 0, 0, 0, 0), 0);
        ck_assert_int_eq(test_send_int(cp, 0, 0, mbox, MSG_TYPE_MOVE_RECEIVE, 0, 0), 0);
        ck_assert_uint_eq(type_of(mbox), PORT_TYPE_SEND);
        kill(pid, SIGKILL);
        ck_assert_int_eq(test_wait(pid), 128 + SIGKILL);
        TestIntMsg m;
        memset(&m, 0, sizeof(m));
        m.head.msg_size = sizeof(m);
        m.head.msg_local_port = backup;
        ck_assert_int_eq(msg_receive(&m.head, RCV_TIMEOUT, 10000), 0);
        ck_assert_int_eq(m.head.msg_id, NOTIFY_PORT_DESTROYED);
        ck_assert_uint_eq(m.t.msg_type_name, MSG_TYPE_PORT_RECEIVE);
        port_t back;
        memcpy(&back, &m.value, sizeof(back));
        /* The same port, under our old name, still alive, messages intact. */
        ck_assert_uint_eq(back, mbox);
        ck_assert_uint_eq(type_of(mbox), PORT_TYPE_SEND | PORT_TYPE_RECEIVE);
        for (int i = 0; i < 3; i++) {
                int32_t v;
                ck_assert_int_eq(test_recv_int(mbox, NULL, &v, NULL, RCV_TIMEOUT, 0), 0);
                ck_assert_int_eq(v, i);
        }
}
END_TEST

START_TEST(test_rights_cycle) {
        char *text = NULL;
        ck_assert_int_eq(machipc_broker_info(&text, NULL), 0);
        unsigned long long ports_before = 0;
        ck_assert_int_eq(sscanf(strstr(text, "ports "), "ports %llu", &ports_before), 1);
        free(text);
        /* P's receive right sent to P itself: success, and P is gone. */
        port_t p = new_port();
        ck_assert_int_eq(test_send_int(p, 1, 0, p, MSG_TYPE_MAKE_SEND, 0, 0), 0);
        ck_assert_int_eq(test_recv_int(p, NULL, NULL, NULL, 0, 0), 0);
        ck_assert_int_eq(test_send_int(p, 2, 0, 0, 0, 0, 0), 0);   /* a message queued too */
        ck_assert_int_eq(test_send_int(p, 3, 0, p, MSG_TYPE_MOVE_RECEIVE, 0, 0), SEND_SUCCESS);
        ck_assert_uint_eq(type_of(p), PORT_TYPE_DEAD_NAME);
        ck_assert_int_eq(port_deallocate(task_self(), p), 0);
        /* A longer loop: Q's receive right queued on P, then P's sent to Q. */
        port_t pp = new_port(), q = new_port();
        ck_assert_int_eq(test_send_int(pp, 1, 0, pp, MSG_TYPE_MAKE_SEND, 0, 0), 0);
        ck_assert_int_eq(test_recv_int(pp, NULL, NULL, NULL, 0, 0), 0);
        ck_assert_int_eq(test_send_int(q, 1, 0, q, MSG_TYPE_MAKE_SEND, 0, 0), 0);
        ck_assert_int_eq(test_recv_int(q, NULL, NULL, NULL, 0, 0), 0);
        ck_assert_int_eq(test_send_int(pp, 4, 0, q, MSG_TYPE_MOVE_RECEIVE, 0, 0), 0);
        ck_assert_uint_eq(type_of(q), PORT_TYPE_SEND);      /* in transit, alive */
        ck_assert_int_eq(test_send_int(q, 5, 0, pp, MSG_TYPE_MOVE_RECEIVE, 0, 0), SEND_SUCCESS);
        ck_assert_uint_eq(type_of(pp), PORT_TYPE_DEAD_NAME);
        ck_assert_uint_eq(type_of(q), PORT_TYPE_DEAD_NAME);
        ck_assert_int_eq(port_deallocate(task_self(), pp), 0);
        ck_assert_int_eq(port_deallocate(task_self(), q), 0);
        /* Nothing is left behind in the broker. */
        ck_assert_int_eq(machipc_broker_info(&text, NULL), 0);
        unsigned long long ports_after = 0, circular = 0;
        ck_assert_int_eq(sscanf(strstr(text, "ports "), "ports %llu", &ports_after), 1);
        ck_assert_int_eq(sscanf(strstr(text, "circular "), "circular %llu", &circular), 1);
        free(text);
        ck_assert_uint_eq(ports_after, ports_before);
        ck_assert_uint_eq(circular, 2);
}
END_TEST

static int send_with_identity(void *arg) {
        (void)arg;
        port_t boot = test_bootstrap_lookup();
        /* Whatever a task writes in its message, the identity is the broker's. */
        return test_send_int(boot, 1, 0, 0, 0, 0, 0) == 0 ? 0 : 1;
}

START_TEST(test_sender_credentials) {
        port_t boot = test_bootstrap_serve();
        pid_t pid = test_fork(send_with_identity, NULL);
        ck_assert_int_eq(test_recv_int(boot, NULL, NULL, NULL, 0, 0), 0);
        msg_sender_t who;
        ck_assert_int_eq(msg_last_sender(&who), 0);
        ck_assert_int_eq(who.pid, pid);
        ck_assert_uint_eq(who.uid, getuid());
        ck_assert_uint_eq(who.gid, getgid());
        ck_assert_uint_eq(who.flags, 0);
        ck_assert_int_eq(test_wait(pid), 0);
}
END_TEST

typedef struct {
        int id;
        int ok;
} Stress;

enum { STRESS_THREADS = 12, STRESS_ROUNDS = 300 };
static port_t stress_ports[STRESS_THREADS];

static void *stress_thread(void *arg) {
        Stress *s = arg;
        port_t mine = stress_ports[s->id], next = stress_ports[(s->id + 1) % STRESS_THREADS];
        s->ok = 1;
        for (int i = 0; i < STRESS_ROUNDS; i++) {
                if (test_send_int(next, s->id, i, 0, 0, 0, 0) != 0)
                        s->ok = 0;
                int32_t id, v;
                if (test_recv_int(mine, &id, &v, NULL, RCV_TIMEOUT, 20000) != 0 ||
                    id != (s->id + STRESS_THREADS - 1) % STRESS_THREADS || v != i)
                        s->ok = 0;
                port_t tmp;
                if (port_allocate(task_self(), &tmp) != 0 || port_deallocate(task_self(), tmp) != 0)
                        s->ok = 0;
        }
        return NULL;
}

typedef struct {
        port_t port;
        int32_t v;
        msg_return_t r;
} Blocked;

static void *blocked_thread(void *arg) {
        Blocked *b = arg;
        b->r = test_recv_int(b->port, NULL, &b->v, NULL, 0, 0);
        return NULL;
}

START_TEST(test_threads_share_space) {
        /* A ring of threads, each receiving on its own port and sending to the
         * next, allocating and freeing ports as it goes, while one more thread
         * stays blocked on a port nobody sends to until the end. */
        for (int i = 0; i < STRESS_THREADS; i++)
                stress_ports[i] = new_port();
        Blocked b = { .port = new_port() };
        pthread_t th[STRESS_THREADS], blocked;
        Stress st[STRESS_THREADS];
        ck_assert_int_eq(pthread_create(&blocked, NULL, blocked_thread, &b), 0);
        for (int i = 0; i < STRESS_THREADS; i++) {
                st[i] = (Stress){ .id = i };
                ck_assert_int_eq(pthread_create(&th[i], NULL, stress_thread, &st[i]), 0);
        }
        for (int i = 0; i < STRESS_THREADS; i++) {
                pthread_join(th[i], NULL);
                ck_assert_msg(st[i].ok, "thread %d saw a wrong message", i);
        }
        ck_assert_int_eq(test_send_int(b.port, 1, 77, 0, 0, 0, 0), 0);
        pthread_join(blocked, NULL);
        ck_assert_int_eq(b.r, 0);
        ck_assert_int_eq(b.v, 77);
}
END_TEST

int main(void) {
        Suite *s = suite_create("Rights");
        TCase *tc = tcase_create("rights");
        tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
        tcase_set_timeout(tc, 120);
        ADD_TEST(tc, test_names_and_refs);
        ADD_TEST(tc, test_uref_overflow);
        ADD_TEST(tc, test_every_disposition);
        ADD_TEST(tc, test_failed_send_keeps_rights);
        ADD_TEST(tc, test_receive_right_travels);
        ADD_TEST(tc, test_dead_name_notification);
        ADD_TEST(tc, test_port_deleted_notification);
        ADD_TEST(tc, test_no_senders_notification);
        ADD_TEST(tc, test_port_destroyed_backup);
        ADD_TEST(tc, test_rights_cycle);
        ADD_TEST(tc, test_sender_credentials);
        ADD_TEST(tc, test_threads_share_space);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
