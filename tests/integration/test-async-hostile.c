/* SPDX-License-Identifier: MIT */
/*
 * test-async-hostile.c - clients that break the rules of protocol 1.1: a
 * one-way send past the credit held, credit given back that was never held,
 * lies in LENT bodies and prefixes, events' ops from tasks that may not send
 * them.  Each is dropped, alone; the broker stays well and serves others.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "fixture.h"
#include "raw.h"
#include "tasks.h"

enum { ID_DATA = 200 };

/*
 * Earns credit, then on its own connection writes one more one-way send
 * than it holds (base 0), or gives back one more slot than it holds (base 1).
 */
static int past_credit(void *arg) {
        const TestSteps *s = arg;
        port_t mine, dest = test_child_get_right(&mine);
        if (dest == PORT_NULL)
                return 2;
        if (test_send_int(dest, ID_DATA, 0, 0, 0, 0, 0) != 0)
                return 3;
        test_step_done(s, 'c');
        char c;
        if (read(s->in, &c, 1) != 1)
                return 4;
        int fd = raw_own_connection(getenv(MACHIPC_SOCKET_ENV));
        if (fd < 0)
                return 5;
        uint8_t f[WIRE_HDR_SIZE + WIRE_MSG_REQ_SIZE + sizeof(TestIntMsg)];
        if (s->base == 1) {
                uint8_t *b = f + WIRE_HDR_SIZE;
                wire_put_le32(b, 0);
                wire_put_le32(b + 4, 1);
                wire_put_le32(b + 8, dest);
                wire_put_le32(b + 12, (unsigned char)c + 1u);
                WireHeader h = { .size = WIRE_HDR_SIZE + 16, .op = WIRE_OP_LENT, .flags = WIRE_FLAG_ONE_WAY };
                wire_header_encode(f, &h);
                if (send(fd, f, h.size, MSG_NOSIGNAL) != (ssize_t)h.size)
                        return 6;
        }
        for (int i = 0; s->base == 0 && i <= (unsigned char)c; i++) {
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

static void past_credit_case(int mode) {
        port_t boot = test_bootstrap_serve();
        unsigned long long ports = test_stat(0, "ports");
        port_t p = test_new_port(64);
        TestChild c;
        test_child_start(&c, past_credit, mode);
        port_t cp = test_parent_give(boot, p, MSG_TYPE_MAKE_SEND);
        ck_assert_int_eq(test_hear(c.from[0]), 'c');
        unsigned long long g = test_stat(c.pid, "credit");
        ck_assert_uint_gt(g, 0);
        test_tell(c.to[1], (char)g);
        ck_assert_int_eq(test_wait(c.pid), 0);
        /* What it held credit for went in; nothing past it. */
        test_wait_gone(c.pid);
        uint32_t sent = mode == 0 ? 1 + (uint32_t)g : 1;
        ck_assert_uint_eq(test_status(p).msgcount, sent);
        for (unsigned i = 0; i < sent; i++) {
                int32_t v;
                ck_assert_int_eq(test_recv_int(p, NULL, &v, NULL, RCV_TIMEOUT, 0), 0);
                ck_assert_int_eq(v, (int32_t)i);
        }
        /* Its slots are back: the whole backlog is free. */
        ck_assert_uint_eq(test_status(p).msgcount, 0);
        port_deallocate(task_self(), p);
        port_deallocate(task_self(), cp);
        ck_assert_uint_eq(test_stat(0, "ports"), ports);
        close(c.to[0]);
        close(c.to[1]);
        close(c.from[0]);
        close(c.from[1]);
}

START_TEST(test_sending_past_credit_is_refused) {
        past_credit_case(0);
}
END_TEST

START_TEST(test_giving_back_more_than_held_is_refused) {
        past_credit_case(1);
}
END_TEST

/* A one-way send of a small message to @dest, with @bits. */
static size_t one_way_send(uint8_t *f, uint32_t dest, uint32_t bits, uint32_t local) {
        uint8_t body[WIRE_MSG_REQ_SIZE + 64];
        WireMsgReq q = { .option = WIRE_MSG_SEND };
        wire_msg_req_encode(body, &q);
        msg_header_t h = { .msg_size = sizeof(msg_header_t), .msg_remote_port = dest, .msg_local_port = local,
                           .msg_bits = bits, .msg_id = 1 };
        memcpy(body + WIRE_MSG_REQ_SIZE, &h, sizeof(h));
        return raw_frame(f, WIRE_OP_MSG, WIRE_FLAG_ONE_WAY, 0, body, WIRE_MSG_REQ_SIZE + sizeof(h));
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
        raw_send(fd, f, raw_frame(f, WIRE_OP_REPLY_PORT, WIRE_FLAG_ONE_WAY, 0, NULL, 0));
        raw_assert_dropped(fd);

        /* LENT: taking what was never lent; without its flag; giving back credit never held;
         * lying about its length. */
        fd = raw_task(path, 1, &rep);
        wire_put_le32(body, 1);
        wire_put_le32(body + 4, 0);
        wire_put_le32(body + 8, 77);
        raw_send(fd, f, raw_frame(f, WIRE_OP_LENT, WIRE_FLAG_ONE_WAY, 0, body, 12));
        raw_assert_dropped(fd);
        fd = raw_task(path, 1, &rep);
        wire_put_le32(body, 0);
        wire_put_le32(body + 4, 0);
        raw_send(fd, f, raw_frame(f, WIRE_OP_LENT, 0, 5, body, 8));
        raw_assert_dropped(fd);
        /* Giving back credit for a name it has none on is no error (a REVOKE may have
         * crossed it); the connection goes on. */
        fd = raw_task(path, 1, &rep);
        wire_put_le32(body, 0);
        wire_put_le32(body + 4, 1);
        wire_put_le32(body + 8, rep.self);
        wire_put_le32(body + 12, 3);
        raw_send(fd, f, raw_frame(f, WIRE_OP_LENT, WIRE_FLAG_ONE_WAY, 0, body, 16));
        raw_send(fd, f, raw_frame(f, WIRE_OP_REPLY_PORT, 0, 9, NULL, 0));
        uint8_t answer[64];
        ck_assert_int_eq(recv(fd, answer, sizeof(answer), 0), WIRE_HDR_SIZE + WIRE_REPLY_PORT_REPLY_SIZE);
        close(fd);
        fd = raw_task(path, 1, &rep);
        wire_put_le32(body, 5);
        wire_put_le32(body + 4, 0);
        raw_send(fd, f, raw_frame(f, WIRE_OP_LENT, WIRE_FLAG_ONE_WAY, 0, body, 8));
        raw_assert_dropped(fd);

        /* A request's LENT prefix: served after it when it is true; a lie, one on a one-way
         * frame, or one from a task speaking 1.0 drops the task. */
        fd = raw_task(path, 1, &rep);
        wire_put_le32(body, 0);
        wire_put_le32(body + 4, 0);
        raw_send(fd, f, raw_frame(f, WIRE_OP_REPLY_PORT, WIRE_FLAG_LENT, 9, body, 8));
        ck_assert_int_eq(recv(fd, answer, sizeof(answer), 0), WIRE_HDR_SIZE + WIRE_REPLY_PORT_REPLY_SIZE);
        close(fd);
        fd = raw_task(path, 1, &rep);
        wire_put_le32(body, 1);
        wire_put_le32(body + 4, 0);
        wire_put_le32(body + 8, 12345);
        raw_send(fd, f, raw_frame(f, WIRE_OP_REPLY_PORT, WIRE_FLAG_LENT, 9, body, 12));
        raw_assert_dropped(fd);
        fd = raw_task(path, 1, &rep);
        wire_put_le32(body, 3);
        wire_put_le32(body + 4, 0);
        raw_send(fd, f, raw_frame(f, WIRE_OP_REPLY_PORT, WIRE_FLAG_LENT, 9, body, 8));
        raw_assert_dropped(fd);
        fd = raw_task(path, 1, &rep);
        wire_put_le32(body, 0);
        wire_put_le32(body + 4, 0);
        raw_send(fd, f, raw_frame(f, WIRE_OP_LENT, WIRE_FLAG_ONE_WAY | WIRE_FLAG_LENT, 0, body, 8));
        raw_assert_dropped(fd);
        fd = raw_task(path, 0, &rep);
        raw_send(fd, f, raw_frame(f, WIRE_OP_REPLY_PORT, WIRE_FLAG_LENT, 9, body, 8));
        raw_assert_dropped(fd);

        /* ARM: the wrong size; from a task that speaks 1.0; a window too large (an answer). */
        fd = raw_task(path, 1, &rep);
        raw_send(fd, f, raw_frame(f, WIRE_OP_ARM, 0, 3, body, 4));
        raw_assert_dropped(fd);
        fd = raw_task(path, 0, &rep);
        wire_put_le32(body, rep.notify);
        wire_put_le32(body + 4, 8);
        raw_send(fd, f, raw_frame(f, WIRE_OP_ARM, 0, 3, body, 8));
        raw_assert_dropped(fd);
        fd = raw_task(path, 0, &rep);
        raw_send(fd, f, one_way_send(f, rep.self, MSG_BITS(MSG_TYPE_COPY_SEND, 0), 0));
        raw_assert_dropped(fd);
        fd = raw_task(path, 1, &rep);
        wire_put_le32(body, rep.notify);
        wire_put_le32(body + 4, 100000);
        raw_send(fd, f, raw_frame(f, WIRE_OP_ARM, 0, 3, body, 8));
        uint8_t in[64];
        ck_assert_int_eq(recv(fd, in, sizeof(in), 0), WIRE_HDR_SIZE + WIRE_ARM_REPLY_SIZE);
        ck_assert_uint_eq(wire_get_le32(in + WIRE_HDR_SIZE), KERN_INVALID_VALUE);
        wire_put_le32(body + 4, 8);
        raw_send(fd, f, raw_frame(f, WIRE_OP_ARM, 0, 4, body, 8));
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

int main(void) {
        Suite *s = suite_create("Hostile asynchronous clients");
        TCase *tc = tcase_create("async-hostile");
        tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
        tcase_set_timeout(tc, 60);
        ADD_TEST(tc, test_sending_past_credit_is_refused);
        ADD_TEST(tc, test_giving_back_more_than_held_is_refused);
        ADD_TEST(tc, test_hostile_frames);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
