/* SPDX-License-Identifier: MIT */
/*
 * test-fidelity.c - Mach's rules where they are easy to get subtly wrong:
 * rights a failed send gives back keep their names, dead names of every
 * right type and their references, sequence numbers after a receive right
 * moves, a received header sent back as it stands, unbounded queues
 */

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "fixture.h"

static port_t new_port(uint32_t backlog) {
        port_t p;
        ck_assert_int_eq(port_allocate(task_self(), &p), KERN_SUCCESS);
        ck_assert_int_eq(port_set_backlog(task_self(), p, backlog), KERN_SUCCESS);
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

static void wait_blocked(port_t p, uint32_t n) {
        uint64_t deadline = test_now_ms() + 10000;
        while (status_of(p).n_blocked != n) {
                ck_assert_msg(test_now_ms() < deadline, "the sender never blocked");
                usleep(1000);
        }
}

/* A send-once right to @target, made through a message to ourselves. */
static port_t make_send_once(port_t target) {
        port_t via = new_port(8), so = PORT_NULL;
        ck_assert_int_eq(test_send_int(via, 1, 0, target, MSG_TYPE_MAKE_SEND_ONCE, 0, 0), 0);
        ck_assert_int_eq(test_recv_int(via, NULL, NULL, &so, 0, 0), 0);
        ck_assert_uint_ne(so, PORT_NULL);
        ck_assert_int_eq(port_deallocate(task_self(), via), 0);
        return so;
}

/* A send right with @refs user references under @p's name (p: our receive right). */
static void add_send_refs(port_t p, uint32_t refs) {
        ck_assert_int_eq(test_send_int(p, 1, 0, p, MSG_TYPE_MAKE_SEND, 0, 0), 0);
        ck_assert_int_eq(test_recv_int(p, NULL, NULL, NULL, 0, 0), 0);
        if (refs > 1)
                ck_assert_int_eq(port_mod_refs(task_self(), p, PORT_RIGHT_SEND, (int32_t)refs - 1), 0);
}

/*
 * The message of the returned-rights tests: a moved receive right (alone
 * under its name), a moved receive right sharing its name with send rights,
 * the last reference of a send right, one of two references of another,
 * a send-once right, and a dead name; the reply is a moved send-once right.
 */
typedef struct {
        msg_header_t head;
        msg_type_t t1;
        port_t recv_alone;
        port_t recv_with_send;
        msg_type_t t2;
        port_t send_last;
        port_t send_one_of_two;
        msg_type_t t3;
        port_t so;
        uint32_t pad3;
        msg_type_t t4;
        port_t dead;
        uint32_t pad4;
} Carrier;

typedef struct {
        port_t names[6];
        port_type_t types[6];
        uint32_t refs[6];
        port_t reply;
        port_type_t reply_type;
} CarrierState;

static port_t dead_name(void) {
        port_t p = new_port(8);
        add_send_refs(p, 1);
        ck_assert_int_eq(port_mod_refs(task_self(), p, PORT_RIGHT_RECEIVE, -1), 0);
        ck_assert_uint_eq(type_of(p), PORT_TYPE_DEAD_NAME);
        return p;
}

static void carrier_build(Carrier *m, port_t dest) {
        memset(m, 0, sizeof(*m));
        m->recv_alone = new_port(8);
        m->recv_with_send = new_port(8);
        add_send_refs(m->recv_with_send, 2);
        /* Send rights alone under their names: their receive rights wait in @holder's queue. */
        port_t holder = new_port(8), a = new_port(8), b = new_port(8);
        add_send_refs(a, 1);
        add_send_refs(b, 2);
        ck_assert_int_eq(test_send_int(holder, 1, 0, a, MSG_TYPE_MOVE_RECEIVE, 0, 0), 0);
        ck_assert_int_eq(test_send_int(holder, 1, 0, b, MSG_TYPE_MOVE_RECEIVE, 0, 0), 0);
        ck_assert_uint_eq(type_of(a), PORT_TYPE_SEND);
        m->send_last = a;
        m->send_one_of_two = b;
        m->so = make_send_once(new_port(8));
        m->dead = dead_name();
        msg_type_init(&m->t1, MSG_TYPE_MOVE_RECEIVE, 2);
        msg_type_init(&m->t2, MSG_TYPE_MOVE_SEND, 2);
        msg_type_init(&m->t3, MSG_TYPE_MOVE_SEND_ONCE, 1);
        msg_type_init(&m->t4, MSG_TYPE_MOVE_SEND, 1);
        m->head.msg_size = sizeof(*m);
        m->head.msg_remote_port = dest;
        m->head.msg_local_port = make_send_once(new_port(8));
        m->head.msg_bits = MSG_BITS(0, MSG_TYPE_MOVE_SEND_ONCE);
}

static void carrier_state(const Carrier *m, CarrierState *s) {
        const port_t names[6] = { m->recv_alone, m->recv_with_send, m->send_last, m->send_one_of_two,
                                  m->so, m->dead };
        for (int i = 0; i < 6; i++) {
                s->names[i] = names[i];
                s->types[i] = type_of(names[i]);
                uint32_t t = s->types[i];
                s->refs[i] = refs_of(names[i], (t & PORT_TYPE_SEND) ? PORT_RIGHT_SEND
                                               : (t & PORT_TYPE_SEND_ONCE) ? PORT_RIGHT_SEND_ONCE
                                               : (t & PORT_TYPE_DEAD_NAME) ? PORT_RIGHT_DEAD_NAME
                                                                           : PORT_RIGHT_RECEIVE);
        }
        s->reply = m->head.msg_local_port;
        s->reply_type = type_of(s->reply);
}

/* The returned message names exactly what we held before, under the same names. */
static void carrier_check(const Carrier *m, const CarrierState *before) {
        CarrierState after;
        carrier_state(m, &after);
        for (int i = 0; i < 6; i++) {
                ck_assert_msg(after.names[i] == before->names[i], "right %d came back as %#x, not %#x", i,
                              after.names[i], before->names[i]);
                ck_assert_uint_eq(after.types[i], before->types[i]);
                ck_assert_uint_eq(after.refs[i], before->refs[i]);
        }
        ck_assert_uint_eq(after.reply, before->reply);
        ck_assert_uint_eq(after.reply_type, before->reply_type);
        ck_assert_uint_eq(m->t1.msg_type_name, MSG_TYPE_MOVE_RECEIVE);
}

START_TEST(test_timed_out_send_returns_same_names) {
        port_t full = new_port(0);
        Carrier m;
        CarrierState before;
        carrier_build(&m, full);
        carrier_state(&m, &before);
        ck_assert_int_eq(msg_send(&m.head, SEND_TIMEOUT, 50), SEND_TIMED_OUT);
        carrier_check(&m, &before);
        /* And the message can be sent again as it stands. */
        ck_assert_int_eq(port_set_backlog(task_self(), full, 1), 0);
        ck_assert_int_eq(msg_send(&m.head, SEND_TIMEOUT, 0), 0);
        ck_assert_int_eq(port_type(task_self(), m.recv_alone, &(port_type_t){ 0 }), KERN_INVALID_NAME);
}
END_TEST

typedef struct {
        Carrier *m;
        int status;
} BlockedSend;

static void *blocked_send(void *arg) {
        BlockedSend *b = arg;
        b->status = msg_send(&b->m->head, MSG_OPTION_NONE, 0);
        return NULL;
}

START_TEST(test_invalid_dest_after_wait_returns_same_names) {
        port_t full = new_port(0);
        Carrier m;
        CarrierState before;
        carrier_build(&m, full);
        carrier_state(&m, &before);
        /* Names allocated while the send waits take other slots than the ones it freed. */
        BlockedSend b = { &m, -1 };
        pthread_t t;
        ck_assert_int_eq(pthread_create(&t, NULL, blocked_send, &b), 0);
        wait_blocked(full, 1);
        for (int i = 0; i < 20; i++)
                new_port(1);
        ck_assert_int_eq(port_deallocate(task_self(), full), 0);
        pthread_join(t, NULL);
        ck_assert_int_eq(b.status, SEND_INVALID_DEST);
        carrier_check(&m, &before);
}
END_TEST

START_TEST(test_moved_destination_comes_back_dead) {
        /* A moved send right to a destination that dies while the send waits
         * comes back as a dead name, under its own name. */
        port_t full = new_port(1);
        add_send_refs(full, 1);
        ck_assert_int_eq(port_set_backlog(task_self(), full, 0), 0);
        Carrier m;
        carrier_build(&m, full);
        m.head.msg_bits = MSG_BITS(MSG_TYPE_MOVE_SEND, MSG_TYPE_MOVE_SEND_ONCE);
        ck_assert_uint_eq(type_of(full), PORT_TYPE_SEND | PORT_TYPE_RECEIVE);
        BlockedSend b = { &m, -1 };
        pthread_t t;
        ck_assert_int_eq(pthread_create(&t, NULL, blocked_send, &b), 0);
        wait_blocked(full, 1);
        /* While it waits, our name holds only the receive right; destroy it. */
        ck_assert_uint_eq(type_of(full), PORT_TYPE_RECEIVE);
        ck_assert_int_eq(port_mod_refs(task_self(), full, PORT_RIGHT_RECEIVE, -1), 0);
        pthread_join(t, NULL);
        ck_assert_int_eq(b.status, SEND_INVALID_DEST);
        ck_assert_uint_eq(m.head.msg_remote_port, full);
        ck_assert_uint_eq(type_of(full), PORT_TYPE_DEAD_NAME);
        ck_assert_uint_eq(refs_of(full, PORT_RIGHT_DEAD_NAME), 1);
}
END_TEST

/* --- dead names of each right type --- */

START_TEST(test_dead_send_right_references) {
        /* One reference, a request: the notification adds one (deallocate twice). */
        port_t p = new_port(8), mine = new_port(8);
        add_send_refs(p, 3);
        port_t holder = new_port(8);
        ck_assert_int_eq(test_send_int(holder, 1, 0, p, MSG_TYPE_MOVE_RECEIVE, 0, 0), 0);
        ck_assert_uint_eq(type_of(p), PORT_TYPE_SEND);
        ck_assert_int_eq(port_request_notification(task_self(), p, NOTIFY_DEAD_NAME, 0, mine), 0);
        ck_assert_int_eq(port_deallocate(task_self(), holder), 0);   /* destroys p with it */
        int32_t id, name;
        ck_assert_int_eq(test_recv_int(mine, &id, &name, NULL, RCV_TIMEOUT, 5000), 0);
        ck_assert_int_eq(id, NOTIFY_DEAD_NAME);
        ck_assert_uint_eq((port_t)name, p);
        ck_assert_uint_eq(type_of(p), PORT_TYPE_DEAD_NAME);
        ck_assert_uint_eq(refs_of(p, PORT_RIGHT_DEAD_NAME), 4);
        ck_assert_uint_eq(refs_of(p, PORT_RIGHT_SEND), 0);
        for (int i = 0; i < 4; i++) {
                ck_assert_uint_eq(type_of(p), PORT_TYPE_DEAD_NAME);
                ck_assert_int_eq(port_deallocate(task_self(), p), 0);
        }
        ck_assert_int_eq(port_type(task_self(), p, &(port_type_t){ 0 }), KERN_INVALID_NAME);
}
END_TEST

START_TEST(test_dead_send_once_right_references) {
        port_t target = new_port(8), mine = new_port(8);
        port_t so = make_send_once(target);
        ck_assert_uint_eq(type_of(so), PORT_TYPE_SEND_ONCE);
        ck_assert_uint_eq(refs_of(so, PORT_RIGHT_SEND_ONCE), 1);
        ck_assert_int_eq(port_request_notification(task_self(), so, NOTIFY_DEAD_NAME, 0, mine), 0);
        ck_assert_int_eq(port_deallocate(task_self(), target), 0);
        int32_t id, name;
        ck_assert_int_eq(test_recv_int(mine, &id, &name, NULL, RCV_TIMEOUT, 5000), 0);
        ck_assert_int_eq(id, NOTIFY_DEAD_NAME);
        ck_assert_uint_eq((port_t)name, so);
        ck_assert_uint_eq(type_of(so), PORT_TYPE_DEAD_NAME);
        /* As in Mach: the dead name has 2 references; deallocate it twice. */
        ck_assert_uint_eq(refs_of(so, PORT_RIGHT_DEAD_NAME), 2);
        ck_assert_uint_eq(refs_of(so, PORT_RIGHT_SEND_ONCE), 0);
        ck_assert_int_eq(port_deallocate(task_self(), so), 0);
        ck_assert_uint_eq(type_of(so), PORT_TYPE_DEAD_NAME);
        ck_assert_uint_eq(refs_of(so, PORT_RIGHT_DEAD_NAME), 1);
        ck_assert_int_eq(port_deallocate(task_self(), so), 0);
        ck_assert_int_eq(port_type(task_self(), so, &(port_type_t){ 0 }), KERN_INVALID_NAME);
        /* No more notifications: the dead name was the only request. */
        ck_assert_int_eq(test_recv_int(mine, NULL, NULL, NULL, RCV_TIMEOUT, 0), RCV_TIMED_OUT);

        /* Without a request: one reference; port_mod_refs works on it as on any dead name. */
        target = new_port(8);
        so = make_send_once(target);
        ck_assert_int_eq(port_deallocate(task_self(), target), 0);
        ck_assert_uint_eq(type_of(so), PORT_TYPE_DEAD_NAME);
        ck_assert_uint_eq(refs_of(so, PORT_RIGHT_DEAD_NAME), 1);
        ck_assert_int_eq(port_mod_refs(task_self(), so, PORT_RIGHT_DEAD_NAME, 2), 0);
        ck_assert_uint_eq(refs_of(so, PORT_RIGHT_DEAD_NAME), 3);
        ck_assert_int_eq(port_mod_refs(task_self(), so, PORT_RIGHT_SEND_ONCE, -1), KERN_INVALID_RIGHT);
        ck_assert_int_eq(port_mod_refs(task_self(), so, PORT_RIGHT_DEAD_NAME, -3), 0);
        ck_assert_int_eq(port_type(task_self(), so, &(port_type_t){ 0 }), KERN_INVALID_NAME);

        /* A request made on a send-once name already dead fires at once, with its reference. */
        target = new_port(8);
        so = make_send_once(target);
        ck_assert_int_eq(port_deallocate(task_self(), target), 0);
        ck_assert_int_eq(port_request_notification(task_self(), so, NOTIFY_DEAD_NAME, 0, mine), 0);
        ck_assert_int_eq(test_recv_int(mine, &id, NULL, NULL, RCV_TIMEOUT, 5000), 0);
        ck_assert_int_eq(id, NOTIFY_DEAD_NAME);
        ck_assert_uint_eq(refs_of(so, PORT_RIGHT_DEAD_NAME), 2);
        /* Moving a dead send-once name takes one reference and carries PORT_DEAD. */
        port_t via = new_port(8);
        ck_assert_int_eq(test_send_int(via, 1, 0, so, MSG_TYPE_MOVE_SEND_ONCE, 0, 0), 0);
        ck_assert_uint_eq(refs_of(so, PORT_RIGHT_DEAD_NAME), 1);
        port_t got = PORT_NULL;
        ck_assert_int_eq(test_recv_int(via, NULL, NULL, &got, 0, 0), 0);
        ck_assert_uint_eq(got, PORT_DEAD);
}
END_TEST

/* A dead name of a right held by another task: the holder dies. */
static int hold_port(void *arg) {
        (void)arg;
        port_t boot = test_bootstrap_lookup(), p;
        if (port_allocate(task_self(), &p) != 0)
                return 1;
        if (test_send_int(boot, 0, 0, p, MSG_TYPE_MAKE_SEND_ONCE, 0, 0) != 0)
                return 2;
        if (test_send_int(boot, 0, 0, p, MSG_TYPE_MAKE_SEND, 0, 0) != 0)
                return 3;
        pause();
        return 0;
}

START_TEST(test_dead_names_when_the_owner_dies) {
        port_t boot = test_bootstrap_serve(), so = PORT_NULL, snd = PORT_NULL, mine = new_port(8);
        pid_t pid = test_fork(hold_port, NULL);
        ck_assert_int_eq(test_recv_int(boot, NULL, NULL, &so, 0, 0), 0);
        ck_assert_int_eq(test_recv_int(boot, NULL, NULL, &snd, 0, 0), 0);
        ck_assert_uint_eq(type_of(so), PORT_TYPE_SEND_ONCE);
        ck_assert_uint_eq(type_of(snd), PORT_TYPE_SEND);
        ck_assert_int_eq(port_request_notification(task_self(), so, NOTIFY_DEAD_NAME, 0, mine), 0);
        ck_assert_int_eq(port_request_notification(task_self(), snd, NOTIFY_DEAD_NAME, 0, mine), 0);
        kill(pid, SIGKILL);
        ck_assert_int_eq(test_wait(pid), 128 + SIGKILL);
        bool seen_so = false, seen_snd = false;
        for (int i = 0; i < 2; i++) {
                int32_t id, name;
                ck_assert_int_eq(test_recv_int(mine, &id, &name, NULL, RCV_TIMEOUT, 5000), 0);
                ck_assert_int_eq(id, NOTIFY_DEAD_NAME);
                seen_so |= (port_t)name == so;
                seen_snd |= (port_t)name == snd;
        }
        ck_assert(seen_so && seen_snd);
        ck_assert_uint_eq(refs_of(so, PORT_RIGHT_DEAD_NAME), 2);
        ck_assert_uint_eq(refs_of(snd, PORT_RIGHT_DEAD_NAME), 2);
        for (int i = 0; i < 2; i++) {
                ck_assert_int_eq(port_deallocate(task_self(), so), 0);
                ck_assert_int_eq(port_deallocate(task_self(), snd), 0);
        }
        ck_assert_int_eq(port_type(task_self(), so, &(port_type_t){ 0 }), KERN_INVALID_NAME);
        ck_assert_int_eq(port_type(task_self(), snd, &(port_type_t){ 0 }), KERN_INVALID_NAME);
}
END_TEST

/* --- sequence numbers --- */

START_TEST(test_seqno_restarts_when_the_receive_right_moves) {
        port_t p = new_port(16), holder = new_port(8);
        for (int i = 0; i < 5; i++)
                ck_assert_int_eq(test_send_int(p, 10 + i, i, 0, 0, 0, 0), 0);
        TestIntMsg m;
        memset(&m, 0, sizeof(m));
        m.head.msg_size = sizeof(m);
        m.head.msg_local_port = p;
        ck_assert_int_eq(msg_receive(&m.head, 0, 0), 0);
        ck_assert_uint_eq(m.head.msg_seqno, 0);
        ck_assert_int_eq(msg_receive(&m.head, 0, 0), 0);
        ck_assert_uint_eq(m.head.msg_seqno, 1);
        ck_assert_uint_eq(status_of(p).seqno, 2);
        /* The receive right travels (to us again, through a message): queued messages go
         * with it, and the new owner's first message has sequence number 0. */
        ck_assert_int_eq(test_send_int(holder, 1, 0, p, MSG_TYPE_MOVE_RECEIVE, 0, 0), 0);
        port_t back = PORT_NULL;
        ck_assert_int_eq(test_recv_int(holder, NULL, NULL, &back, 0, 0), 0);
        ck_assert_uint_ne(back, PORT_NULL);
        port_status_t st = status_of(back);
        ck_assert_uint_eq(st.msgcount, 3);
        ck_assert_uint_eq(st.seqno, 0);
        for (uint32_t i = 0; i < 3; i++) {
                memset(&m, 0, sizeof(m));
                m.head.msg_size = sizeof(m);
                m.head.msg_local_port = back;
                ck_assert_int_eq(msg_receive(&m.head, 0, 0), 0);
                ck_assert_uint_eq(m.head.msg_seqno, i);
                ck_assert_int_eq(m.value, (int32_t)i + 2);
        }
}
END_TEST

static int take_mailbox(void *arg) {
        (void)arg;
        port_t boot = test_bootstrap_lookup(), mine, mbox = PORT_NULL;
        if (port_allocate(task_self(), &mine) != 0)
                return 1;
        if (test_send_int(boot, 0, 0, mine, MSG_TYPE_MAKE_SEND, 0, 0) != 0)
                return 2;
        if (test_recv_int(mine, NULL, NULL, &mbox, 0, 0) != 0 || mbox == PORT_NULL)
                return 3;
        TestIntMsg m;
        memset(&m, 0, sizeof(m));
        m.head.msg_size = sizeof(m);
        m.head.msg_local_port = mbox;
        if (msg_receive(&m.head, RCV_TIMEOUT, 5000) != 0)
                return 4;
        return m.head.msg_seqno == 0 && m.value == 7 ? 0 : 5;
}

START_TEST(test_seqno_restarts_for_a_new_owner) {
        port_t boot = test_bootstrap_serve(), p = new_port(8), child = PORT_NULL;
        pid_t pid = test_fork(take_mailbox, NULL);
        ck_assert_int_eq(test_recv_int(boot, NULL, NULL, &child, 0, 0), 0);
        for (int i = 0; i < 3; i++)
                ck_assert_int_eq(test_send_int(p, 1, i, 0, 0, 0, 0), 0);
        for (int i = 0; i < 3; i++)
                ck_assert_int_eq(test_recv_int(p, NULL, NULL, NULL, 0, 0), 0);
        ck_assert_int_eq(test_send_int(p, 1, 7, 0, 0, 0, 0), 0);
        ck_assert_int_eq(test_send_int(child, 1, 0, p, MSG_TYPE_MOVE_RECEIVE, 0, 0), 0);
        ck_assert_int_eq(test_wait(pid), 0);
}
END_TEST

/* --- a received header sent back as it stands (GNU Mach's echo test) --- */

typedef struct {
        msg_header_t head;
        msg_type_t t;
        int32_t value;
        int32_t pad;
        msg_type_t rt;
        port_t right;
        uint32_t pad2;
} Request;

static int echo_client(void *arg) {
        (void)arg;
        port_t boot = test_bootstrap_lookup(), reply, gift;
        if (port_allocate(task_self(), &reply) != 0 || port_allocate(task_self(), &gift) != 0)
                return 1;
        Request m;
        memset(&m, 0, sizeof(m));
        msg_type_init(&m.t, MSG_TYPE_INTEGER_32, 1);
        m.value = 4242;
        msg_type_init(&m.rt, MSG_TYPE_MAKE_SEND, 1);
        m.right = gift;
        m.head.msg_size = sizeof(m);
        m.head.msg_remote_port = boot;
        m.head.msg_local_port = reply;
        m.head.msg_id = 777;
        m.head.msg_bits = MSG_BITS(MSG_TYPE_COPY_SEND, MSG_TYPE_MAKE_SEND_ONCE);
        if (msg_send(&m.head, 0, 0) != 0)
                return 2;
        memset(&m, 0, sizeof(m));
        m.head.msg_size = sizeof(m);
        m.head.msg_local_port = reply;
        if (msg_receive(&m.head, RCV_TIMEOUT, 10000) != 0)
                return 3;
        /* The echo: same id and data, and the send right to our own port came back. */
        if (m.head.msg_id != 777 || m.value != 4242 || m.head.msg_size != sizeof(m))
                return 4;
        if (m.right != gift || m.rt.msg_type_name != MSG_TYPE_PORT_SEND)
                return 5;
        if (!(m.head.msg_bits & MSG_BITS_COMPLEX))
                return 6;
        port_type_t t;
        if (port_type(task_self(), gift, &t) != 0 || t != (PORT_TYPE_SEND | PORT_TYPE_RECEIVE))
                return 7;
        return 0;
}

START_TEST(test_echo_received_header) {
        port_t boot = test_bootstrap_serve();
        pid_t pid = test_fork(echo_client, NULL);
        Request m;
        memset(&m, 0, sizeof(m));
        m.head.msg_size = sizeof(m);
        m.head.msg_local_port = boot;
        ck_assert_int_eq(msg_receive(&m.head, 0, 0), 0);
        ck_assert(m.head.msg_bits & MSG_BITS_COMPLEX);
        ck_assert_uint_eq(MSG_BITS_REMOTE(m.head.msg_bits), MSG_TYPE_PORT_SEND_ONCE);
        /* As GNU Mach's test does: clear the local port, send the rest as it stands. */
        m.head.msg_local_port = PORT_NULL;
        ck_assert_int_eq(msg_send(&m.head, 0, 0), 0);
        ck_assert_int_eq(test_wait(pid), 0);
}
END_TEST

/* As in Mach, PORT_NULL and PORT_DEAD pass in the body with every disposition, and arrive as themselves. */
START_TEST(test_reserved_names_in_the_body) {
        static const struct {
                uint16_t disp, received;
        } cases[] = {
                { MSG_TYPE_MOVE_RECEIVE, MSG_TYPE_PORT_RECEIVE },   { MSG_TYPE_MOVE_SEND, MSG_TYPE_PORT_SEND },
                { MSG_TYPE_MOVE_SEND_ONCE, MSG_TYPE_PORT_SEND_ONCE }, { MSG_TYPE_COPY_SEND, MSG_TYPE_PORT_SEND },
                { MSG_TYPE_MAKE_SEND, MSG_TYPE_PORT_SEND },         { MSG_TYPE_MAKE_SEND_ONCE, MSG_TYPE_PORT_SEND_ONCE },
        };
        port_t p = new_port(4);
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct {
                        msg_header_t h;
                        msg_type_t t;
                        port_t names[2];
                } m = { .h = { .msg_size = sizeof(m), .msg_remote_port = p,
                               .msg_bits = MSG_BITS(MSG_TYPE_MAKE_SEND, 0) },
                        .t = { cases[i].disp, 0, 2 }, .names = { PORT_NULL, PORT_DEAD } };
                ck_assert_int_eq(msg_send(&m.h, SEND_TIMEOUT, 0), 0);
                memset(&m, 0, sizeof(m));
                m.h.msg_size = sizeof(m);
                m.h.msg_local_port = p;
                ck_assert_int_eq(msg_receive(&m.h, RCV_TIMEOUT, 0), 0);
                ck_assert_uint_eq(m.t.msg_type_name, cases[i].received);
                ck_assert_uint_eq(m.names[0], PORT_NULL);
                ck_assert_uint_eq(m.names[1], PORT_DEAD);
        }
        /* Not as a destination. */
        msg_header_t h = { .msg_size = sizeof(h), .msg_remote_port = PORT_DEAD,
                           .msg_bits = MSG_BITS(MSG_TYPE_COPY_SEND, 0) };
        ck_assert_int_eq(msg_send(&h, SEND_TIMEOUT, 0), SEND_INVALID_DEST);
        ck_assert_int_eq(port_deallocate(task_self(), p), 0);
}
END_TEST

/* --- unbounded buffering --- */

START_TEST(test_unbounded_backlog) {
        port_t p = new_port(PORT_BACKLOG_UNLIMITED);
        ck_assert_uint_eq(status_of(p).backlog, PORT_BACKLOG_UNLIMITED);
        /* Beyond the largest backlog, the sender never waits. */
        for (int i = 0; i < 3000; i++)
                ck_assert_int_eq(test_send_int(p, 1, i, 0, 0, SEND_TIMEOUT, 0), 0);
        ck_assert_uint_eq(status_of(p).msgcount, 3000);
        for (int i = 0; i < 3000; i++) {
                int32_t v;
                ck_assert_int_eq(test_recv_int(p, NULL, &v, NULL, RCV_TIMEOUT, 0), 0);
                ck_assert_int_eq(v, i);
        }
        ck_assert_int_eq(port_set_backlog(task_self(), p, PORT_BACKLOG_MAX + 1), KERN_INVALID_VALUE);
        ck_assert_int_eq(port_set_backlog(task_self(), p, PORT_BACKLOG_UNLIMITED - 1), KERN_INVALID_VALUE);
        ck_assert_int_eq(port_set_backlog(task_self(), p, PORT_BACKLOG_MAX), 0);
        ck_assert_uint_eq(status_of(p).backlog, PORT_BACKLOG_MAX);
}
END_TEST

/* Only this task is left: the broker has seen the others go (and released what they held). */
static void wait_alone(void) {
        uint64_t deadline = test_now_ms() + 10000;
        for (;;) {
                char *text = NULL;
                ck_assert_int_eq(machipc_broker_info(&text, NULL), 0);
                bool alone = strstr(text, " tasks 1 ") != NULL;
                free(text);
                if (alone)
                        return;
                ck_assert(test_now_ms() < deadline);
                usleep(1000);
        }
}

/* A sender task: @n messages of @bytes to the bootstrap port's announced port, without waiting. */
typedef struct {
        int n;
        uint32_t bytes;
} Flood;

static int flood(void *arg) {
        Flood *f = arg;
        port_t boot = test_bootstrap_lookup();
        static uint8_t buf[8192];
        msg_header_t *h = (msg_header_t *)buf;
        msg_type_t *t = (msg_type_t *)(buf + sizeof(*h));
        int sent = 0;
        for (int i = 0; i < f->n; i++) {
                memset(buf, 0, sizeof(msg_header_t) + sizeof(msg_type_t));
                msg_type_init(t, MSG_TYPE_BYTE, f->bytes);
                h->msg_size = (uint32_t)(sizeof(*h) + MSG_ITEM_SIZE(f->bytes));
                h->msg_remote_port = boot;
                msg_return_t r = msg_send(h, SEND_TIMEOUT, 0);
                if (r == SEND_TIMED_OUT)
                        break;
                if (r != 0)
                        return 100;
                sent++;
        }
        return sent;
}

START_TEST(test_unbounded_backlog_is_bounded_by_the_receivers_quota) {
        /* A broker whose tasks may have 40 messages (and 64 KiB) in flight each. */
        test_broker_terminate(&fixture_broker);
        const char *args[] = { "--limit", "task.messages=40", "--limit", "task.bytes=65536", NULL };
        test_broker_spawn(&fixture_broker, args);
        ck_assert_int_eq(machipc_connect(NULL), 0);
        fixture_fds = test_count_fds(fixture_broker.pid);
        port_t boot = test_bootstrap_serve();
        ck_assert_int_eq(port_set_backlog(task_self(), boot, PORT_BACKLOG_UNLIMITED), 0);
        /* Two senders of 30 small messages each: neither reaches its own quota, the
         * queue stops at the receiver's 40 and the rest are told SEND_TIMED_OUT.
         * Backlog slots a sender holds as send credit count as its messages in
         * flight: one that finishes holding some made the other stop short. */
        Flood f = { 30, 8 };
        pid_t a = test_fork(flood, &f), b = test_fork(flood, &f);
        int na = test_wait(a), nb = test_wait(b);
        wait_alone();
        ck_assert_int_le(na + nb, 40);
        ck_assert_int_ge(na + nb, 40 - 2 * 10);        /* a grant is a quarter of the room left */
        ck_assert_uint_eq(status_of(boot).msgcount, (uint32_t)(na + nb));
        /* Alone, a sender fills it exactly: its own credit is used before it is refused. */
        Flood rest = { 30, 8 };
        ck_assert_int_eq(test_wait(test_fork(flood, &rest)), 40 - (na + nb));
        wait_alone();
        ck_assert_uint_eq(status_of(boot).msgcount, 40);
        /* Room again after a receive. */
        ck_assert_int_eq(test_recv_int(boot, NULL, NULL, NULL, 0, 0), 0);
        Flood one = { 5, 8 };
        ck_assert_int_eq(test_wait(test_fork(flood, &one)), 1);
        for (int i = 0; i < 40; i++)
                ck_assert_int_eq(test_recv_int(boot, NULL, NULL, NULL, RCV_TIMEOUT, 0), 0);
        /* Bytes: 4 KiB messages stop at the receiver's 64 KiB. */
        Flood big = { 10, 4096 };
        a = test_fork(flood, &big);
        b = test_fork(flood, &big);
        na = test_wait(a);
        nb = test_wait(b);
        uint32_t each = sizeof(msg_header_t) + MSG_ITEM_SIZE(4096);
        ck_assert_int_eq(na + nb, (int)((65536 + each - 1) / each));
}
END_TEST

int main(void) {
        Suite *s = suite_create("Mach fidelity");
        TCase *tc = tcase_create("fidelity");
        tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
        tcase_set_timeout(tc, 60);
        ADD_TEST(tc, test_timed_out_send_returns_same_names);
        ADD_TEST(tc, test_invalid_dest_after_wait_returns_same_names);
        ADD_TEST(tc, test_moved_destination_comes_back_dead);
        ADD_TEST(tc, test_dead_send_right_references);
        ADD_TEST(tc, test_dead_send_once_right_references);
        ADD_TEST(tc, test_dead_names_when_the_owner_dies);
        ADD_TEST(tc, test_seqno_restarts_when_the_receive_right_moves);
        ADD_TEST(tc, test_seqno_restarts_for_a_new_owner);
        ADD_TEST(tc, test_echo_received_header);
        ADD_TEST(tc, test_reserved_names_in_the_body);
        ADD_TEST(tc, test_unbounded_backlog);
        ADD_TEST(tc, test_unbounded_backlog_is_bounded_by_the_receivers_quota);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
