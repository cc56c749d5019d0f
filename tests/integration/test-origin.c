/* SPDX-License-Identifier: MIT */
/*
 * test-origin.c - sender credentials of messages relayed from other hosts
 * (msg_origin_create(), msg_send_from(), msg_last_origin()): what a
 * receiver in another process is told, by either way of receiving, after
 * the origin or its relay are gone; who may speak for another host; every
 * bad argument and hostile frame.
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "fixture.h"
#include "kcall.h"
#include "raw.h"

#define ID_HELLO 1
#define ID_DATA 2

/* The receiver: says what it saw of each of @n messages, one line each, on @out. */
typedef struct {
        int go[2];      /* it reads once the test has sent everything */
        int out[2];
        int n;
        bool armed;     /* receive what the broker hands ahead (PUSH) instead of by request */
} Receiver;

static int receiver(void *arg) {
        Receiver *r = arg;
        close(r->go[1]);
        close(r->out[0]);
        port_t boot = test_bootstrap_lookup(), svc;
        if (port_allocate(task_self(), &svc) != 0 || port_set_backlog(task_self(), svc, 64) != 0)
                return 1;
        if (test_send_int(boot, ID_HELLO, getpid(), svc, MSG_TYPE_MAKE_SEND, 0, 0) != 0)
                return 2;
        char c;
        if (read(r->go[0], &c, 1) != 1)
                return 3;
        if (r->armed && machipc_arm(svc) != 0)
                return 4;
        FILE *f = fdopen(r->out[1], "w");
        for (int i = 0; i < r->n; i++) {
                int32_t v;
                if (test_recv_int(svc, NULL, &v, NULL, RCV_TIMEOUT, 10000) != 0)
                        return 5;
                msg_sender_t s;
                msg_origin_t o;
                msg_last_sender(&s);
                int ro = msg_last_origin(&o);
                if (ro == 0)
                        fprintf(f, "%d remote pid=%d uid=%u gid=%u flags=%u host=%s identity=%s relay=%d/%u\n", v,
                                s.pid, s.uid, s.gid, s.flags, o.host, o.identity, o.relay_pid, o.relay_uid);
                else
                        fprintf(f, "%d local pid=%d flags=%u origin=%s\n", v, s.pid, s.flags,
                                ro == -ENODATA ? "none" : "error");
        }
        fclose(f);
        return 0;
}

/* Start a receiver; returns its port (a send right) and pid. */
static port_t start_receiver(Receiver *r, int n, bool armed, port_t boot, pid_t *pid) {
        ck_assert_int_eq(pipe(r->go), 0);
        ck_assert_int_eq(pipe(r->out), 0);
        r->n = n;
        r->armed = armed;
        port_t svc = PORT_NULL;
        *pid = test_fork(receiver, r);
        close(r->go[0]);
        close(r->out[1]);
        ck_assert_int_eq(test_recv_int(boot, NULL, NULL, &svc, 0, 0), 0);
        return svc;
}

/* Let it read, and take its lines into @buf. */
static void receiver_lines(Receiver *r, pid_t pid, char *buf, size_t size) {
        ck_assert_int_eq(write(r->go[1], "g", 1), 1);
        close(r->go[1]);
        size_t n = 0;
        ssize_t got;
        while (n + 1 < size && (got = read(r->out[0], buf + n, size - 1 - n)) > 0)
                n += (size_t)got;
        buf[n] = 0;
        close(r->out[0]);
        ck_assert_int_eq(test_wait(pid), 0);
}

static msg_return_t send_from(port_t to, int32_t v, uint32_t origin) {
        TestIntMsg m;
        memset(&m, 0, sizeof(m));
        m.head.msg_size = sizeof(msg_header_t) + MSG_ITEM_SIZE(4);
        m.head.msg_remote_port = to;
        m.head.msg_id = ID_DATA;
        m.head.msg_bits = MSG_BITS(MSG_TYPE_COPY_SEND, 0);
        m.t = (msg_type_t){ MSG_TYPE_INTEGER_32, 0, 1 };
        m.value = v;
        return origin ? msg_send_from(&m.head, SEND_TIMEOUT, 5000, origin) : msg_send(&m.head, SEND_TIMEOUT, 5000);
}

/* A relay of its own: asks the test for the receiver's port, sends one message from "hostC", ends. */
static int relay_once(void *arg) {
        port_t boot = test_bootstrap_lookup(), mine, svc;
        (void)arg;
        if (port_allocate(task_self(), &mine) != 0 ||
            test_send_int(boot, ID_HELLO, getpid(), mine, MSG_TYPE_MAKE_SEND, 0, 0) != 0)
                return 1;
        if (test_recv_int(mine, NULL, NULL, &svc, RCV_TIMEOUT, 10000) != 0)
                return 2;
        uint32_t o;
        if (msg_origin_create("hostC", "", &o) != KERN_SUCCESS)
                return 3;
        return send_from(svc, 5, o) == 0 ? 0 : 4;
}

static void origins_case(bool armed) {
        Receiver r;
        pid_t rpid;
        port_t boot = test_bootstrap_serve();
        port_t svc = start_receiver(&r, 5, armed, boot, &rpid);
        uint32_t a, b;
        ck_assert_int_eq(msg_origin_create("hostA", "hostA", &a), KERN_SUCCESS);
        ck_assert_int_eq(msg_origin_create("host B.example", "CN with spaces", &b), KERN_SUCCESS);
        ck_assert_uint_ne(a, b);
        ck_assert_int_eq(send_from(svc, 1, a), 0);
        ck_assert_int_eq(send_from(svc, 2, 0), 0);      /* our own: local credentials */
        ck_assert_int_eq(send_from(svc, 3, b), 0);
        /* Gone before its message is received: the message keeps it. */
        ck_assert_int_eq(msg_origin_destroy(b), KERN_SUCCESS);
        ck_assert_int_eq(msg_origin_destroy(a), KERN_SUCCESS);
        ck_assert_int_eq(send_from(svc, 9, a), KERN_INVALID_NAME);
        /* A relay that ended before its message is received. */
        pid_t relay = test_fork(relay_once, NULL);
        int32_t relay_pid;
        port_t relay_port;
        ck_assert_int_eq(test_recv_int(boot, NULL, &relay_pid, &relay_port, 0, 0), 0);
        ck_assert_int_eq(test_send_int(relay_port, ID_HELLO, 0, svc, MSG_TYPE_COPY_SEND, 0, 0), 0);
        ck_assert_int_eq(test_wait(relay), 0);
        ck_assert_int_eq(send_from(svc, 4, 0), 0);
        char lines[2048], want[2048];
        receiver_lines(&r, rpid, lines, sizeof(lines));
        snprintf(want, sizeof(want),
                 "1 remote pid=0 uid=%u gid=%u flags=%u host=hostA identity=hostA relay=%d/%u\n"
                 "2 local pid=%d flags=0 origin=none\n"
                 "3 remote pid=0 uid=%u gid=%u flags=%u host=host B.example identity=CN with spaces relay=%d/%u\n"
                 "5 remote pid=0 uid=%u gid=%u flags=%u host=hostC identity= relay=%d/%u\n"
                 "4 local pid=%d flags=0 origin=none\n",
                 MSG_SENDER_NOBODY, MSG_SENDER_NOBODY, MSG_SENDER_REMOTE, (int)getpid(), (unsigned)getuid(),
                 (int)getpid(), MSG_SENDER_NOBODY, MSG_SENDER_NOBODY, MSG_SENDER_REMOTE, (int)getpid(),
                 (unsigned)getuid(), MSG_SENDER_NOBODY, MSG_SENDER_NOBODY, MSG_SENDER_REMOTE, (int)relay_pid,
                 (unsigned)getuid(), (int)getpid());
        ck_assert_str_eq(lines, want);
}

/* A receiver told where each message came from, by a receive request. */
START_TEST(test_receiver_sees_origin) {
        origins_case(false);
}
END_TEST

/* The same when the broker hands the messages ahead (an armed port). */
START_TEST(test_receiver_sees_origin_armed) {
        origins_case(true);
}
END_TEST

/* KCALL_ORIGIN_CREATE by hand, its names as @bytes (@n of them). */
static int32_t raw_create(const void *bytes, uint32_t n, uint16_t type) {
        union {
                msg_header_t h;
                uint8_t b[512];
        } m;
        memset(&m, 0, sizeof(m));
        uint8_t *p = m.b + sizeof(msg_header_t);
        msg_type_t none = { MSG_TYPE_INTEGER_32, 0, 0 }, names = { type, 0, type == MSG_TYPE_INTEGER_32 ? n / 4 : n };
        memcpy(p, &none, sizeof(none));
        memcpy(p + sizeof(none), &names, sizeof(names));
        memcpy(p + 2 * sizeof(msg_type_t), bytes, n);
        m.h.msg_size = (msg_size_t)(sizeof(msg_header_t) + sizeof(msg_type_t) + MSG_ITEM_SIZE(n));
        m.h.msg_remote_port = task_self();
        m.h.msg_id = KCALL_ORIGIN_CREATE;
        m.h.msg_bits = MSG_BITS(MSG_TYPE_COPY_SEND, MSG_TYPE_MAKE_SEND_ONCE);
        ck_assert_int_eq(msg_rpc(&m.h, MSG_OPTION_NONE, sizeof(m), 0, 0), 0);
        int32_t kr;
        memcpy(&kr, m.b + sizeof(msg_header_t) + sizeof(msg_type_t), 4);
        return kr;
}

START_TEST(test_bad_arguments) {
        uint32_t o = 77, ids[64];
        char long_name[MSG_ORIGIN_NAME_MAX + 2];
        memset(long_name, 'h', sizeof(long_name));
        long_name[sizeof(long_name) - 1] = 0;
        ck_assert_int_eq(msg_origin_create("", "x", &o), KERN_INVALID_ARGUMENT);
        ck_assert_int_eq(msg_origin_create(NULL, "x", &o), KERN_INVALID_ARGUMENT);
        ck_assert_int_eq(msg_origin_create("h", NULL, &o), KERN_INVALID_ARGUMENT);
        ck_assert_int_eq(msg_origin_create("h", "x", NULL), KERN_INVALID_ARGUMENT);
        ck_assert_int_eq(msg_origin_create(long_name, "x", &o), KERN_INVALID_ARGUMENT);
        ck_assert_int_eq(msg_origin_create("h", long_name, &o), KERN_INVALID_ARGUMENT);
        ck_assert_int_eq(msg_origin_create("tab\there", "x", &o), KERN_INVALID_ARGUMENT);
        ck_assert_int_eq(msg_origin_create("h\xc3\xa9", "x", &o), KERN_INVALID_ARGUMENT);
        ck_assert_uint_eq(o, 77);
        /* Past the library: the broker checks the names itself. */
        ck_assert_int_eq(raw_create("abc", 3, MSG_TYPE_CHAR), KERN_INVALID_ARGUMENT);       /* no NUL */
        ck_assert_int_eq(raw_create("abc\0", 4, MSG_TYPE_STRING), KERN_INVALID_ARGUMENT);   /* one name */
        ck_assert_int_eq(raw_create("a\0b\0c\0", 6, MSG_TYPE_STRING), KERN_INVALID_ARGUMENT);
        ck_assert_int_eq(raw_create("\0b\0", 3, MSG_TYPE_CHAR), KERN_INVALID_ARGUMENT);     /* empty host */
        ck_assert_int_eq(raw_create("a\nb\0c\0", 6, MSG_TYPE_CHAR), KERN_INVALID_ARGUMENT);
        ck_assert_int_eq(raw_create("a\0b\0", 4, MSG_TYPE_INTEGER_32), KERN_INVALID_ARGUMENT);
        ck_assert_int_eq(raw_create("a\0b\0", 4, MSG_TYPE_CHAR), KERN_SUCCESS);
        /* At most 64 a task; one more refused, then room again when one goes. */
        ck_assert_int_eq(msg_origin_destroy(1), KERN_SUCCESS);   /* the one made by hand */
        for (int i = 0; i < 64; i++)
                ck_assert_int_eq(msg_origin_create("h", "", &ids[i]), KERN_SUCCESS);
        ck_assert_int_eq(msg_origin_create("h", "", &o), KERN_RESOURCE_SHORTAGE);
        ck_assert_int_eq(msg_origin_destroy(ids[10]), KERN_SUCCESS);
        ck_assert_int_eq(msg_origin_create("h", "", &ids[10]), KERN_SUCCESS);
        for (int i = 0; i < 64; i++)
                ck_assert_int_eq(msg_origin_destroy(ids[i]), KERN_SUCCESS);
        ck_assert_int_eq(msg_origin_destroy(ids[0]), KERN_INVALID_NAME);
        ck_assert_int_eq(msg_origin_destroy(0), KERN_INVALID_NAME);
        ck_assert_int_eq(msg_origin_destroy(65), KERN_INVALID_NAME);
        ck_assert_int_eq(msg_origin_destroy(0xffffffffu), KERN_INVALID_NAME);
        /* Sends with an origin we do not hold, or none. */
        port_t p;
        ck_assert_int_eq(port_allocate(task_self(), &p), 0);
        ck_assert_int_eq(send_from(p, 1, 3), KERN_INVALID_NAME);
        ck_assert_int_eq(send_from(p, 1, 65), KERN_INVALID_NAME);
        TestIntMsg m = { .head = { .msg_size = sizeof(msg_header_t), .msg_remote_port = p } };
        ck_assert_int_eq(msg_send_from(&m.head, 0, 0, 0), -EINVAL);
        ck_assert_int_eq(msg_send_from(&m.head, RCV_TIMEOUT, 0, 1), -EINVAL);
        ck_assert_int_eq(msg_send_from(NULL, 0, 0, 1), -EINVAL);
        msg_origin_t from;
        ck_assert_int_eq(msg_last_origin(NULL), -EINVAL);
        /* Nothing relayed was received here: the last message (a kernel reply) is local. */
        ck_assert_int_eq(msg_last_origin(&from), -ENODATA);
}
END_TEST

static int last_origin_fresh(void *arg) {
        (void)arg;
        msg_origin_t from;
        return msg_last_origin(&from) == -ENOENT ? 0 : 1;
}

/* A thread that received nothing has no last origin. */
START_TEST(test_nothing_received) {
        ck_assert_int_eq(test_wait(test_fork(last_origin_fresh, NULL)), 0);
}
END_TEST

/* As another uid: no origin made or destroyed, none to name in a send. */
static int origins_refused(void *arg) {
        uint32_t o = 0;
        port_t p;
        (void)arg;
        if (msg_origin_create("hostA", "hostA", &o) != KERN_NO_ACCESS)
                return 12;
        if (msg_origin_destroy(1) != KERN_NO_ACCESS)
                return 13;
        if (port_allocate(task_self(), &p) != 0 || send_from(p, 1, 1) != KERN_INVALID_NAME)
                return 14;
        return 0;
}

/* Only the broker's uid may speak for another host. */
START_TEST(test_other_uid_refused) {
        if (getuid() != 0) {
                printf("SKIP: another uid needs root to set up\n");
                return;
        }
        ck_assert_int_eq(test_run_as_nobody(origins_refused, NULL), 0);
}
END_TEST

/* Requests that misuse WIRE_MSG_ORIGIN are protocol violations: the task is dropped, alone. */
START_TEST(test_hostile_origin_requests) {
        const char *path = fixture_broker.path;
        uint8_t f[256], body[128];
        WireHelloReply rep;
        msg_header_t h = { .msg_size = sizeof(msg_header_t), .msg_id = 1 };
        int fd;

        /* On a receive alone. */
        fd = raw_task(path, 2, &rep);
        WireMsgReq q = { .option = WIRE_MSG_RCV | WIRE_MSG_ORIGIN, .rcv_name = rep.notify, .rcv_size = 64 };
        wire_msg_req_encode(body, &q);
        wire_put_le32(body + WIRE_MSG_REQ_SIZE, 1);
        raw_send(fd, f, raw_frame(f, WIRE_OP_MSG, 0, 5, body, WIRE_MSG_REQ_SIZE + 4));
        raw_assert_dropped(fd);

        /* From a task that speaks 1.1. */
        fd = raw_task(path, 1, &rep);
        q = (WireMsgReq){ .option = WIRE_MSG_SEND | WIRE_MSG_ORIGIN };
        wire_msg_req_encode(body, &q);
        wire_put_le32(body + WIRE_MSG_REQ_SIZE, 1);
        h.msg_remote_port = rep.notify;
        h.msg_bits = MSG_BITS(MSG_TYPE_COPY_SEND, 0);
        memcpy(body + WIRE_MSG_REQ_SIZE + 4, &h, sizeof(h));
        raw_send(fd, f, raw_frame(f, WIRE_OP_MSG, 0, 6, body, WIRE_MSG_REQ_SIZE + 4 + sizeof(h)));
        raw_assert_dropped(fd);

        /* The id cut off. */
        fd = raw_task(path, 2, &rep);
        q = (WireMsgReq){ .option = WIRE_MSG_SEND | WIRE_MSG_ORIGIN };
        wire_msg_req_encode(body, &q);
        raw_send(fd, f, raw_frame(f, WIRE_OP_MSG, 0, 7, body, WIRE_MSG_REQ_SIZE + 2));
        raw_assert_dropped(fd);

        /* One way. */
        fd = raw_task(path, 2, &rep);
        q = (WireMsgReq){ .option = WIRE_MSG_SEND | WIRE_MSG_ORIGIN };
        wire_msg_req_encode(body, &q);
        wire_put_le32(body + WIRE_MSG_REQ_SIZE, 1);
        memcpy(body + WIRE_MSG_REQ_SIZE + 4, &h, sizeof(h));
        raw_send(fd, f, raw_frame(f, WIRE_OP_MSG, WIRE_FLAG_ONE_WAY, 0, body, WIRE_MSG_REQ_SIZE + 4 + sizeof(h)));
        raw_assert_dropped(fd);

        /* The broker serves the rest as before. */
        port_t p;
        uint32_t o;
        ck_assert_int_eq(port_allocate(task_self(), &p), 0);
        ck_assert_int_eq(msg_origin_create("h", "", &o), KERN_SUCCESS);
}
END_TEST

int main(void) {
        Suite *s = suite_create("Sender origins");
        TCase *tc = tcase_create("origin");
        tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
        tcase_set_timeout(tc, 60);
        ADD_TEST(tc, test_receiver_sees_origin);
        ADD_TEST(tc, test_receiver_sees_origin_armed);
        ADD_TEST(tc, test_bad_arguments);
        ADD_TEST(tc, test_nothing_received);
        ADD_TEST(tc, test_other_uid_refused);
        ADD_TEST(tc, test_hostile_origin_requests);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
