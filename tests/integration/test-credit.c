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
#include "raw.h"

enum { ID_HELLO = TEST_ID_HELLO, ID_RIGHT = TEST_ID_RIGHT, ID_DATA = 200, ID_BIG };

static bool task_listed(pid_t pid) {
        char *text = NULL, key[32];
        ck_assert_int_eq(machipc_broker_info(&text, NULL), 0);
        snprintf(key, sizeof(key), " pid %d ", (int)pid);
        bool r = strstr(text, key) != NULL;
        free(text);
        return r;
}

static port_status_t status_of(port_t p) {
        port_status_t st;
        ck_assert_int_eq(port_status(task_self(), p, &st), KERN_SUCCESS);
        return st;
}

/* Wait until @p holds @n messages: one-way sends are counted once the broker has read them. */
static void wait_count(port_t p, uint32_t n) {
        uint64_t deadline = test_now_ms() + 10000;
        uint32_t have;
        while ((have = status_of(p).msgcount) < n && test_now_ms() < deadline)
                usleep(500);
        ck_assert_uint_eq(have, n);
}

/* A child driven step by step: it waits for a byte on @in, tells the parent on @out. */
typedef struct {
        int in, out;
        int base;       /* its values start here */
} Steps;

static bool step_wait(const Steps *s) {
        char c;
        return read(s->in, &c, 1) == 1 && c != 'q';
}

static void step_done(const Steps *s, char c) {
        if (write(s->out, &c, 1) != 1)
                _exit(90);
}

static void tell(int fd, char c) {
        ck_assert_int_eq(write(fd, &c, 1), 1);
}

static char hear(int fd) {
        char c = 0;
        ck_assert_int_eq(read(fd, &c, 1), 1);
        return c;
}

/* Sends until the queue is full (SEND_TIMED_OUT), each step; says how many (0-9 and letters). */
static int filler(void *arg) {
        const Steps *s = arg;
        port_t mine, dest = test_child_get_right(&mine);
        if (dest == PORT_NULL)
                return 2;
        int v = s->base;
        /* Step 1: one message (its reply grants credit). */
        if (!step_wait(s) || test_send_int(dest, ID_DATA, v++, 0, 0, 0, 0) != 0)
                return 3;
        step_done(s, '1');
        /* Step 2: until full. */
        while (step_wait(s)) {
                int n = 0;
                msg_return_t r;
                while ((r = test_send_int(dest, ID_DATA, v, 0, 0, SEND_TIMEOUT, 0)) == 0) {
                        v++;
                        n++;
                }
                if (r != SEND_TIMED_OUT)
                        return 4;
                step_done(s, (char)n);
        }
        return 0;
}

typedef struct {
        pid_t pid;
        int to[2], from[2];
        Steps steps;
} Child;

static void child_start(Child *c, int (*fn)(void *), int base) {
        ck_assert_int_eq(pipe(c->to), 0);
        ck_assert_int_eq(pipe(c->from), 0);
        c->steps = (Steps){ c->to[0], c->from[1], base };
        c->pid = test_fork(fn, &c->steps);
}

static int child_end(Child *c) {
        tell(c->to[1], 'q');
        int st = test_wait(c->pid);
        close(c->to[0]);
        close(c->to[1]);
        close(c->from[0]);
        close(c->from[1]);
        return st;
}

START_TEST(test_credit_counts_in_the_backlog) {
        port_t boot = test_bootstrap_serve();
        port_t p = test_new_port(64);
        Child a, b;
        child_start(&a, filler, 0);
        port_t ca = test_parent_give(boot, p, MSG_TYPE_MAKE_SEND);
        tell(a.to[1], 's');
        ck_assert_int_eq(hear(a.from[0]), '1');
        /* A's send went in; its reply granted credit: slots of the 63 left, held for it. */
        unsigned long long g = test_stat(a.pid, "credit");
        ck_assert_uint_gt(g, 0);
        ck_assert_uint_le(g, 63 / 4);
        ck_assert_uint_eq(status_of(p).msgcount, 1);
        /* Another task sees those slots as taken: it fills the rest exactly. */
        child_start(&b, filler, 1000);
        port_t cb = test_parent_give(boot, p, MSG_TYPE_MAKE_SEND);
        tell(b.to[1], 's');
        ck_assert_int_eq(hear(b.from[0]), '1');
        tell(b.to[1], 's');
        ck_assert_int_eq(hear(b.from[0]), (char)(64 - 1 - 1 - g));
        wait_count(p, (uint32_t)(64 - g));
        /* A still has its slots: exactly those go (one way), then it too is told full. */
        unsigned long long w0 = test_stat(a.pid, "oneway");
        tell(a.to[1], 's');
        ck_assert_int_eq(hear(a.from[0]), (char)g);
        wait_count(p, 64);
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
        ck_assert_int_eq(child_end(&a), 0);
        ck_assert_int_eq(child_end(&b), 0);
        port_deallocate(task_self(), ca);
        port_deallocate(task_self(), cb);
}
END_TEST

/* Sends a count each step (the byte it is told, times 1), blocking, no timeout. */
static int counted_sender(void *arg) {
        const Steps *s = arg;
        port_t mine, dest = test_child_get_right(&mine);
        if (dest == PORT_NULL)
                return 2;
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
                step_done(s, 'k');
        }
}

START_TEST(test_credit_runs_out_and_comes_back) {
        port_t boot = test_bootstrap_serve();
        port_t p = test_new_port(256);
        Child c;
        child_start(&c, counted_sender, 0);
        port_t cp = test_parent_give(boot, p, MSG_TYPE_MAKE_SEND);
        unsigned long long r0 = test_stat(c.pid, "requests"), w0 = test_stat(c.pid, "oneway");
        /* One ordinary send, whose reply grants a full window (32 of the 255 left)... */
        tell(c.to[1], 1);
        ck_assert_int_eq(hear(c.from[0]), 'k');
        ck_assert_uint_eq(test_stat(c.pid, "credit"), 32);
        ck_assert_uint_eq(test_stat(c.pid, "requests") - r0, 1);
        /* ...which 32 sends use without a request. */
        tell(c.to[1], 32);
        ck_assert_int_eq(hear(c.from[0]), 'k');
        wait_count(p, 33);
        ck_assert_uint_eq(test_stat(c.pid, "requests") - r0, 1);
        ck_assert_uint_eq(test_stat(c.pid, "oneway") - w0, 32);
        ck_assert_uint_eq(test_stat(c.pid, "credit"), 0);
        /* Run out: the window counts what is still queued, so the next send asks. */
        tell(c.to[1], 1);
        ck_assert_int_eq(hear(c.from[0]), 'k');
        ck_assert_uint_eq(test_stat(c.pid, "requests") - r0, 2);
        ck_assert_uint_eq(test_stat(c.pid, "credit"), 0);
        /* The receiver takes 17 (the first was no credit's): 16 slots come back. */
        for (int i = 0; i < 17; i++) {
                int32_t v;
                ck_assert_int_eq(test_recv_int(p, NULL, &v, NULL, RCV_TIMEOUT, 0), 0);
                ck_assert_int_eq(v, i);
        }
        ck_assert_uint_eq(status_of(p).msgcount, 34 - 17);
        ck_assert_uint_eq(test_stat(c.pid, "credit"), 16);
        /* And are used without a request. */
        tell(c.to[1], 16);
        ck_assert_int_eq(hear(c.from[0]), 'k');
        wait_count(p, 33);
        ck_assert_uint_eq(test_stat(c.pid, "requests") - r0, 2);
        ck_assert_uint_eq(test_stat(c.pid, "oneway") - w0, 48);
        for (int i = 17; i < 50; i++) {
                int32_t v;
                ck_assert_int_eq(test_recv_int(p, NULL, &v, NULL, RCV_TIMEOUT, 0), 0);
                ck_assert_int_eq(v, i);
        }
        ck_assert_int_eq(test_recv_int(p, NULL, NULL, NULL, RCV_TIMEOUT, 0), RCV_TIMED_OUT);
        pid_t pid = c.pid;
        ck_assert_int_eq(child_end(&c), 0);
        /* The sender gone, its credit is too: all 256 slots free again. */
        test_wait_gone(pid);
        ck_assert_uint_eq(status_of(p).msgcount, 0);
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
        const Steps *s = arg;
        port_t mine, dest = test_child_get_right(&mine);
        if (dest == PORT_NULL)
                return 2;
        if (port_request_notification(task_self(), dest, NOTIFY_DEAD_NAME, 0, PORT_NULL) != 0)
                return 3;
        /* One to earn credit, then five with it. */
        for (int i = 0; i < 6; i++)
                if (test_send_int(dest, ID_DATA, i, 0, 0, 0, 0) != 0)
                        return 4;
        step_done(s, 'c');
        /* The port dies.  Once we know it, no send may succeed. */
        int32_t id, name;
        if (test_recv_int(task_notify(), &id, &name, NULL, RCV_TIMEOUT, 10000) != 0)
                return 5;
        if (id != NOTIFY_DEAD_NAME || (port_t)name != dest)
                return 6;
        for (int i = 0; i < 10; i++)
                if (test_send_int(dest, ID_DATA, 100 + i, 0, 0, 0, 0) != SEND_INVALID_DEST)
                        return 7;
        step_done(s, 'd');
        return step_wait(s) ? 8 : 0;
}

START_TEST(test_port_dies_with_credit_outstanding) {
        port_t boot = test_bootstrap_serve();
        unsigned long long ports = test_stat(0, "ports");
        port_t p = test_new_port(64);
        Child c;
        child_start(&c, credit_then_death, 0);
        port_t cp = test_parent_give(boot, p, MSG_TYPE_MAKE_SEND);
        ck_assert_int_eq(hear(c.from[0]), 'c');
        wait_count(p, 6);
        ck_assert_uint_gt(test_stat(c.pid, "credit"), 0);
        /* Its messages die with it, as in Mach. */
        ck_assert_int_eq(port_deallocate(task_self(), p), 0);
        ck_assert_int_eq(hear(c.from[0]), 'd');
        ck_assert_uint_eq(test_stat(c.pid, "credit"), 0);
        pid_t pid = c.pid;
        ck_assert_int_eq(child_end(&c), 0);
        test_wait_gone(pid);
        port_deallocate(task_self(), cp);
        ck_assert_uint_eq(test_stat(0, "ports"), ports);
}
END_TEST

/* --- clients that break the rules --- */

/* Earns credit, then writes one more one-way send than it holds, on its own connection. */
static int past_credit(void *arg) {
        const Steps *s = arg;
        port_t mine, dest = test_child_get_right(&mine);
        if (dest == PORT_NULL)
                return 2;
        if (test_send_int(dest, ID_DATA, 0, 0, 0, 0, 0) != 0)
                return 3;
        step_done(s, 'c');
        char c;
        if (read(s->in, &c, 1) != 1)
                return 4;
        int fd = raw_own_connection(getenv(MACHIPC_SOCKET_ENV));
        if (fd < 0)
                return 5;
        uint8_t f[WIRE_HDR_SIZE + WIRE_MSG_REQ_SIZE + sizeof(TestIntMsg)];
        for (int i = 0; i <= (unsigned char)c; i++) {
                TestIntMsg m;
                memset(&m, 0, sizeof(m));
                msg_type_init(&m.t, MSG_TYPE_INTEGER_32, 1);
                m.value = 1 + i;
                m.head.msg_size = sizeof(msg_header_t) + MSG_ITEM_SIZE(4);
                m.head.msg_remote_port = dest;
                m.head.msg_bits = MSG_BITS(MSG_TYPE_COPY_SEND, 0);
                m.head.msg_id = ID_DATA;
                uint32_t size = WIRE_HDR_SIZE + WIRE_MSG_REQ_SIZE + m.head.msg_size;
                WireHeader h = { .size = size, .op = WIRE_OP_MSG, .flags = WIRE_FLAG_ONE_WAY };
                WireMsgReq q = { .option = WIRE_MSG_SEND };
                wire_header_encode(f, &h);
                wire_msg_req_encode(f + WIRE_HDR_SIZE, &q);
                memcpy(f + WIRE_HDR_SIZE + WIRE_MSG_REQ_SIZE, &m, m.head.msg_size);
                if (send(fd, f, size, MSG_NOSIGNAL) != (ssize_t)size)
                        return 6;
        }
        /* The broker hangs up: the next call says so. */
        port_t x;
        return port_allocate(task_self(), &x) == -ECONNRESET ? 0 : 7;
}

START_TEST(test_sending_past_credit_is_refused) {
        port_t boot = test_bootstrap_serve();
        unsigned long long ports = test_stat(0, "ports");
        port_t p = test_new_port(64);
        Child c;
        child_start(&c, past_credit, 0);
        port_t cp = test_parent_give(boot, p, MSG_TYPE_MAKE_SEND);
        ck_assert_int_eq(hear(c.from[0]), 'c');
        unsigned long long g = test_stat(c.pid, "credit");
        ck_assert_uint_gt(g, 0);
        tell(c.to[1], (char)g);
        ck_assert_int_eq(test_wait(c.pid), 0);
        /* What it held credit for went in; nothing past it. */
        test_wait_gone(c.pid);
        ck_assert_uint_eq(status_of(p).msgcount, 1 + g);
        for (unsigned i = 0; i <= g; i++) {
                int32_t v;
                ck_assert_int_eq(test_recv_int(p, NULL, &v, NULL, RCV_TIMEOUT, 0), 0);
                ck_assert_int_eq(v, (int32_t)i);
        }
        test_wait_gone(c.pid);
        port_deallocate(task_self(), p);
        port_deallocate(task_self(), cp);
        ck_assert_uint_eq(test_stat(0, "ports"), ports);
        close(c.to[0]);
        close(c.to[1]);
        close(c.from[0]);
        close(c.from[1]);
}
END_TEST

static size_t frame(uint8_t *f, uint16_t op, uint16_t flags, uint32_t serial, const void *body, size_t len) {
        WireHeader h = { .size = (uint32_t)(WIRE_HDR_SIZE + len), .op = op, .flags = flags, .serial = serial };
        wire_header_encode(f, &h);
        if (len)
                memcpy(f + WIRE_HDR_SIZE, body, len);
        return WIRE_HDR_SIZE + len;
}

/* A one-way send of a small message to @dest, with @bits. */
static size_t one_way_send(uint8_t *f, uint32_t dest, uint32_t bits, uint32_t local) {
        uint8_t body[WIRE_MSG_REQ_SIZE + 64];
        WireMsgReq q = { .option = WIRE_MSG_SEND };
        wire_msg_req_encode(body, &q);
        msg_header_t h = { .msg_size = sizeof(msg_header_t), .msg_remote_port = dest, .msg_local_port = local,
                           .msg_bits = bits, .msg_id = 1 };
        memcpy(body + WIRE_MSG_REQ_SIZE, &h, sizeof(h));
        return frame(f, WIRE_OP_MSG, WIRE_FLAG_ONE_WAY, 0, body, WIRE_MSG_REQ_SIZE + sizeof(h));
}

START_TEST(test_hostile_frames) {
        const char *path = fixture_broker.path;
        uint8_t f[256], body[64];
        WireHelloReply rep;
        int fd;

        /* A one-way send with no credit at all. */
        fd = raw_task(path, 1, &rep);
        raw_send(fd, f, one_way_send(f, rep.self, MSG_BITS(MSG_TYPE_COPY_SEND, 0), 0));
        raw_assert_dropped(fd);

        /* One carrying a right (a reply port). */
        fd = raw_task(path, 1, &rep);
        raw_send(fd, f, one_way_send(f, rep.self, MSG_BITS(MSG_TYPE_COPY_SEND, MSG_TYPE_MAKE_SEND_ONCE),
                                     rep.notify));
        raw_assert_dropped(fd);

        /* A one-way frame of an op that has an answer. */
        fd = raw_task(path, 1, &rep);
        raw_send(fd, f, frame(f, WIRE_OP_REPLY_PORT, WIRE_FLAG_ONE_WAY, 0, NULL, 0));
        raw_assert_dropped(fd);

        /* LENT: taking what was never lent; without its flag; giving back credit never held;
         * lying about its length. */
        fd = raw_task(path, 1, &rep);
        wire_put_le32(body, 1);
        wire_put_le32(body + 4, 0);
        wire_put_le32(body + 8, 77);
        raw_send(fd, f, frame(f, WIRE_OP_LENT, WIRE_FLAG_ONE_WAY, 0, body, 12));
        raw_assert_dropped(fd);
        fd = raw_task(path, 1, &rep);
        wire_put_le32(body, 0);
        wire_put_le32(body + 4, 0);
        raw_send(fd, f, frame(f, WIRE_OP_LENT, 0, 5, body, 8));
        raw_assert_dropped(fd);
        fd = raw_task(path, 1, &rep);
        wire_put_le32(body, 0);
        wire_put_le32(body + 4, 1);
        wire_put_le32(body + 8, rep.self);
        wire_put_le32(body + 12, 3);
        raw_send(fd, f, frame(f, WIRE_OP_LENT, WIRE_FLAG_ONE_WAY, 0, body, 16));
        raw_assert_dropped(fd);
        fd = raw_task(path, 1, &rep);
        wire_put_le32(body, 5);
        wire_put_le32(body + 4, 0);
        raw_send(fd, f, frame(f, WIRE_OP_LENT, WIRE_FLAG_ONE_WAY, 0, body, 8));
        raw_assert_dropped(fd);

        /* An ordinary send that gives back credit it does not hold. */
        fd = raw_task(path, 1, &rep);
        {
                uint8_t b[WIRE_MSG_REQ_SIZE + sizeof(msg_header_t)];
                WireMsgReq q = { .option = WIRE_MSG_SEND, .extra = WIRE_EXTRA(4, 0) };
                wire_msg_req_encode(b, &q);
                msg_header_t h = { .msg_size = sizeof(msg_header_t), .msg_remote_port = rep.self,
                                   .msg_bits = MSG_BITS(MSG_TYPE_COPY_SEND, 0), .msg_id = 1 };
                memcpy(b + WIRE_MSG_REQ_SIZE, &h, sizeof(h));
                raw_send(fd, f, frame(f, WIRE_OP_MSG, 0, 7, b, sizeof(b)));
        }
        raw_assert_dropped(fd);

        /* ARM: the wrong size; from a task that speaks 1.0; a window too large (an answer). */
        fd = raw_task(path, 1, &rep);
        raw_send(fd, f, frame(f, WIRE_OP_ARM, 0, 3, body, 4));
        raw_assert_dropped(fd);
        fd = raw_task(path, 0, &rep);
        wire_put_le32(body, rep.notify);
        wire_put_le32(body + 4, 8);
        raw_send(fd, f, frame(f, WIRE_OP_ARM, 0, 3, body, 8));
        raw_assert_dropped(fd);
        fd = raw_task(path, 0, &rep);
        raw_send(fd, f, one_way_send(f, rep.self, MSG_BITS(MSG_TYPE_COPY_SEND, 0), 0));
        raw_assert_dropped(fd);
        fd = raw_task(path, 1, &rep);
        wire_put_le32(body, rep.notify);
        wire_put_le32(body + 4, 100000);
        raw_send(fd, f, frame(f, WIRE_OP_ARM, 0, 3, body, 8));
        uint8_t in[64];
        ck_assert_int_eq(recv(fd, in, sizeof(in), 0), WIRE_HDR_SIZE + WIRE_ARM_REPLY_SIZE);
        ck_assert_uint_eq(wire_get_le32(in + WIRE_HDR_SIZE), KERN_INVALID_VALUE);
        wire_put_le32(body + 4, 8);
        raw_send(fd, f, frame(f, WIRE_OP_ARM, 0, 4, body, 8));
        ck_assert_int_eq(recv(fd, in, sizeof(in), 0), WIRE_HDR_SIZE + WIRE_ARM_REPLY_SIZE);
        ck_assert_uint_eq(wire_get_le32(in + WIRE_HDR_SIZE), 0);
        close(fd);

        /* The broker is well, and serves. */
        port_t p;
        ck_assert_int_eq(port_allocate(task_self(), &p), 0);
        ck_assert_int_eq(test_send_int(p, 1, 2, 0, 0, 0, 0), 0);
        ck_assert_int_eq(test_recv_int(p, NULL, NULL, NULL, 0, 0), 0);
        ck_assert_int_eq(port_deallocate(task_self(), p), 0);
}
END_TEST

/* --- what is handed ahead is bounded --- */

/* Receives rights, sends one message to each (earning credit), reports, waits. */
static int many_credits(void *arg) {
        const Steps *s = arg;
        port_t mine, first = test_child_get_right(&mine);
        if (first == PORT_NULL || test_send_int(first, ID_DATA, 0, 0, 0, 0, 0) != 0)
                return 2;
        for (int i = 1; i < 12; i++) {
                port_t r;
                if (test_recv_int(mine, NULL, NULL, &r, RCV_TIMEOUT, 10000) != 0 ||
                    test_send_int(r, ID_DATA, i, 0, 0, 0, 0) != 0)
                        return 3;
        }
        step_done(s, 'c');
        return step_wait(s) ? 4 : 0;
}

START_TEST(test_credit_is_bounded) {
        port_t boot = test_bootstrap_serve();
        port_t ports[12];
        for (int i = 0; i < 12; i++)
                ports[i] = test_new_port(PORT_BACKLOG_MAX);
        Child c;
        child_start(&c, many_credits, 0);
        port_t cp = test_parent_give(boot, ports[0], MSG_TYPE_MAKE_SEND);
        for (int i = 1; i < 12; i++)
                ck_assert_int_eq(test_send_int(cp, ID_RIGHT, 0, ports[i], MSG_TYPE_MAKE_SEND, 0, 0), 0);
        ck_assert_int_eq(hear(c.from[0]), 'c');
        /* A window of 32 per port, 256 per task: eight ports' worth. */
        ck_assert_uint_eq(test_stat(c.pid, "credit"), 256);
        for (int i = 0; i < 12; i++)
                ck_assert_uint_eq(status_of(ports[i]).msgcount, 1);
        ck_assert_int_eq(child_end(&c), 0);
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
        const Steps *s = arg;
        port_t boot = test_bootstrap_lookup(), p;
        if (port_allocate(task_self(), &p) != 0 || port_set_backlog(task_self(), p, PORT_BACKLOG_MAX) != 0 ||
            machipc_arm(p) != 0 || test_send_int(boot, ID_HELLO, 0, p, MSG_TYPE_MAKE_SEND, 0, 0) != 0)
                return 2;
        return step_wait(s) ? 3 : 0;
}

START_TEST(test_handed_ahead_is_bounded) {
        port_t boot = test_bootstrap_serve();
        Child c;
        child_start(&c, arms_and_sleeps, 0);
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
        Child d;
        child_start(&d, arms_and_sleeps, 0);
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
        ck_assert(task_listed(d.pid));
        ck_assert(task_listed(c.pid));
        ck_assert_int_eq(child_end(&c), 0);
        ck_assert_int_eq(child_end(&d), 0);
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
        ADD_TEST(tc, test_sending_past_credit_is_refused);
        ADD_TEST(tc, test_hostile_frames);
        ADD_TEST(tc, test_credit_is_bounded);
        ADD_TEST(tc, test_handed_ahead_is_bounded);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
