/* SPDX-License-Identifier: MIT */
/* test-wire.c - the codec: frames round-trip, and wire_msg_check() boundaries */

#include <check.h>
#include "suite.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "wire.h"

static uint8_t buf[MSG_SIZE_MAX + 64] __attribute__((aligned(8)));

/* A message of @size bytes: header, then one BYTE item filling it. */
static uint32_t make_msg(uint32_t size) {
        memset(buf, 0, sizeof(buf));
        msg_header_t h = { .msg_size = size, .msg_remote_port = 0x101 };
        wire_msg_header_put(buf, &h);
        if (size >= sizeof(h) + sizeof(msg_type_t)) {
                msg_type_t t = { MSG_TYPE_BYTE, 0, size - (uint32_t)sizeof(h) - (uint32_t)sizeof(t) };
                memcpy(buf + sizeof(h), &t, sizeof(t));
        }
        return size;
}

START_TEST(test_header_round_trip) {
        uint8_t b[WIRE_HDR_SIZE];
        WireHeader h = { .size = WIRE_HDR_SIZE, .op = WIRE_OP_MSG, .serial = 0xdeadbeef };
        WireHeader d;
        wire_header_encode(b, &h);
        ck_assert_uint_eq(b[0], WIRE_HDR_SIZE);    /* little-endian on the wire */
        ck_assert_uint_eq(b[8], 0xef);
        ck_assert_int_eq(wire_header_decode(b, sizeof(b), &d), 0);
        ck_assert_uint_eq(d.op, WIRE_OP_MSG);
        ck_assert_uint_eq(d.serial, 0xdeadbeef);
        /* Lengths that lie, truncation, reserved bits. */
        ck_assert_int_lt(wire_header_decode(b, sizeof(b) - 1, &d), 0);
        ck_assert_int_lt(wire_header_decode(b, 0, &d), 0);
        h.size = 17;
        wire_header_encode(b, &h);
        ck_assert_int_lt(wire_header_decode(b, sizeof(b), &d), 0);
        h.size = WIRE_HDR_SIZE;
        h.flags = WIRE_FLAG_ONE_WAY;    /* the one flag there is (its use is the broker's to check) */
        wire_header_encode(b, &h);
        ck_assert_int_eq(wire_header_decode(b, sizeof(b), &d), 0);
        ck_assert_uint_eq(d.flags, WIRE_FLAG_ONE_WAY);
        h.flags = WIRE_FLAG_ONE_WAY | WIRE_FLAG_LENT;
        wire_header_encode(b, &h);
        ck_assert_int_eq(wire_header_decode(b, sizeof(b), &d), 0);
        h.flags = 4;
        wire_header_encode(b, &h);
        ck_assert_int_lt(wire_header_decode(b, sizeof(b), &d), 0);
        h.flags = 0;
        h.reserved = 1;
        wire_header_encode(b, &h);
        ck_assert_int_lt(wire_header_decode(b, sizeof(b), &d), 0);
}
END_TEST

START_TEST(test_hello_round_trip) {
        uint8_t b[WIRE_HELLO_REPLY_SIZE];
        WireHello m = { .magic = WIRE_MAGIC, .major = WIRE_VERSION_MAJOR, .minor = 3 }, d;
        wire_hello_encode(b, &m);
        ck_assert_int_eq(wire_hello_decode(b, WIRE_HELLO_SIZE, &d), 0);
        ck_assert_uint_eq(d.minor, 3);
        ck_assert_int_lt(wire_hello_decode(b, WIRE_HELLO_SIZE - 1, &d), 0);
        m.major = WIRE_VERSION_MAJOR + 1;
        wire_hello_encode(b, &m);
        ck_assert_int_eq(wire_hello_decode(b, WIRE_HELLO_SIZE, &d), -EPROTONOSUPPORT);
        m.magic = 0;
        wire_hello_encode(b, &m);
        ck_assert_int_eq(wire_hello_decode(b, WIRE_HELLO_SIZE, &d), -EBADMSG);

        WireHelloReply r = { .status = 0, .major = 1, .task_id = 7, .self = 0x101, .notify = 0x201,
                             .bootstrap = 0x301, .max_msg_size = MSG_SIZE_MAX }, rd;
        wire_hello_reply_encode(b, &r);
        ck_assert_int_eq(wire_hello_reply_decode(b, WIRE_HELLO_REPLY_SIZE, &rd), 0);
        ck_assert_uint_eq(rd.task_id, 7);
        ck_assert_uint_eq(rd.bootstrap, 0x301);
        ck_assert_uint_eq(rd.max_msg_size, MSG_SIZE_MAX);
}
END_TEST

START_TEST(test_msg_req_rules) {
        uint8_t b[WIRE_MSG_REQ_SIZE + 8];
        WireMsgReq q = { .option = WIRE_MSG_RCV | RCV_TIMEOUT, .rcv_name = 5, .rcv_size = 64 }, d;
        wire_msg_req_encode(b, &q);
        ck_assert_int_eq(wire_msg_req_decode(b, WIRE_MSG_REQ_SIZE, &d), 0);
        ck_assert_uint_eq(d.rcv_size, 64);
        /* A receive carries no message; a send must. */
        ck_assert_int_lt(wire_msg_req_decode(b, WIRE_MSG_REQ_SIZE + 8, &d), 0);
        q.option = WIRE_MSG_SEND;
        wire_msg_req_encode(b, &q);
        ck_assert_int_lt(wire_msg_req_decode(b, WIRE_MSG_REQ_SIZE, &d), 0);
        ck_assert_int_eq(wire_msg_req_decode(b, WIRE_MSG_REQ_SIZE + 8, &d), 0);
        q.option = 0;   /* neither send nor receive */
        wire_msg_req_encode(b, &q);
        ck_assert_int_lt(wire_msg_req_decode(b, WIRE_MSG_REQ_SIZE, &d), 0);
        q.option = WIRE_MSG_RCV | 0x8000;
        wire_msg_req_encode(b, &q);
        ck_assert_int_lt(wire_msg_req_decode(b, WIRE_MSG_REQ_SIZE, &d), 0);
}
END_TEST

START_TEST(test_msg_check_sizes) {
        WireMsgInfo info;
        ck_assert_int_eq(wire_msg_check(buf, make_msg(24), 0, &info), 0);
        ck_assert_int_eq(wire_msg_check(buf, make_msg(32), 0, &info), 0);
        ck_assert_int_eq(wire_msg_check(buf, make_msg(36), 0, &info), 0);     /* unpadded last item */
        ck_assert_int_eq(wire_msg_check(buf, make_msg(MSG_SIZE_MAX), 0, &info), 0);
        ck_assert_int_eq(wire_msg_check(buf, make_msg(MSG_SIZE_MAX + 4), 0, &info), SEND_TOO_LARGE);
        ck_assert_int_eq(wire_msg_check(buf, 0, 0, &info), SEND_MSG_TOO_SMALL);
        ck_assert_int_eq(wire_msg_check(buf, 23, 0, &info), SEND_MSG_TOO_SMALL);
        make_msg(34);   /* not a multiple of 4 */
        ck_assert_int_eq(wire_msg_check(buf, 34, 0, &info), SEND_MSG_TOO_SMALL);
        make_msg(40);   /* msg_size disagrees with the frame */
        ck_assert_int_eq(wire_msg_check(buf, 44, 0, &info), SEND_MSG_TOO_SMALL);
        make_msg(28);   /* half a descriptor */
        ck_assert_int_eq(wire_msg_check(buf, 28, 0, &info), SEND_MSG_TOO_SMALL);
}
END_TEST

START_TEST(test_msg_check_items) {
        WireMsgInfo info;
        uint32_t size = make_msg(24 + 8 + 8 + 8 + 8);
        msg_type_t *t1 = (msg_type_t *)(buf + 24);
        msg_type_t *t2 = (msg_type_t *)(buf + 40);
        *t1 = (msg_type_t){ MSG_TYPE_INTEGER_32, 0, 2 };
        *t2 = (msg_type_t){ MSG_TYPE_COPY_SEND, 0, 2 };
        ck_assert_int_eq(wire_msg_check(buf, size, 0, &info), 0);
        ck_assert_uint_eq(info.n_rights, 2);
        t2->msg_type_number = 3;        /* overruns */
        ck_assert_int_eq(wire_msg_check(buf, size, 0, &info), SEND_MSG_TOO_SMALL);
        t2->msg_type_number = 1;        /* its padding ends the message exactly */
        ck_assert_int_eq(wire_msg_check(buf, size, 0, &info), 0);
        ck_assert_uint_eq(info.n_rights, 1);
        t2->msg_type_number = 0;        /* the zero bytes after it read as item type 0 */
        ck_assert_int_eq(wire_msg_check(buf, size, 0, &info), SEND_INVALID_TYPE);
        t2->msg_type_number = 2;
        t2->msg_type_name = 0;
        ck_assert_int_eq(wire_msg_check(buf, size, 0, &info), SEND_INVALID_TYPE);
        t2->msg_type_name = 22;
        ck_assert_int_eq(wire_msg_check(buf, size, 0, &info), SEND_INVALID_TYPE);
        t2->msg_type_name = MSG_TYPE_MOVE_RECEIVE;
        t2->msg_type_flags = 0x8000;
        ck_assert_int_eq(wire_msg_check(buf, size, 0, &info), SEND_INVALID_TYPE);
        t2->msg_type_flags = 0;
        t1->msg_type_number = 0xffffffffu;      /* count * size overflows 32 bits */
        ck_assert_int_eq(wire_msg_check(buf, size, 0, &info), SEND_MSG_TOO_SMALL);
}
END_TEST

START_TEST(test_msg_check_header) {
        WireMsgInfo info;
        uint32_t size = make_msg(24);
        msg_header_t *h = (msg_header_t *)buf;
        for (uint32_t d = 0; d < 256; d++) {
                h->msg_bits = MSG_BITS(d, 0);
                int want = (d == 0 || (d >= MSG_TYPE_MOVE_SEND && d <= MSG_TYPE_MAKE_SEND_ONCE))
                                   ? 0 : SEND_INVALID_HEADER;
                ck_assert_int_eq(wire_msg_check(buf, size, 0, &info), want);
                h->msg_bits = MSG_BITS(0, d);
                ck_assert_int_eq(wire_msg_check(buf, size, 0, &info), want);
        }
        /* The complex bit of a received header may come back (Mach's echo idiom);
         * every other bit above the dispositions is refused. */
        h->msg_bits = MSG_BITS_COMPLEX;
        ck_assert_int_eq(wire_msg_check(buf, size, 0, &info), 0);
        h->msg_bits = MSG_BITS_COMPLEX | MSG_BITS(MSG_TYPE_MOVE_SEND_ONCE, MSG_TYPE_MOVE_SEND);
        ck_assert_int_eq(wire_msg_check(buf, size, 0, &info), 0);
        for (uint32_t bit = 16; bit < 31; bit++) {
                h->msg_bits = 1u << bit;
                ck_assert_int_eq(wire_msg_check(buf, size, 0, &info), SEND_INVALID_HEADER);
        }
        h->msg_bits = MSG_BITS(MSG_TYPE_COPY_SEND, MSG_TYPE_MAKE_SEND_ONCE);
        ck_assert_int_eq(wire_msg_check(buf, size, 0, &info), 0);
        ck_assert_uint_eq(info.remote_disp, MSG_TYPE_COPY_SEND);
        ck_assert_uint_eq(info.local_disp, MSG_TYPE_MAKE_SEND_ONCE);
}
END_TEST

START_TEST(test_rights_limit) {
        WireMsgInfo info;
        uint32_t size = (uint32_t)(24 + 8 + 4 * (WIRE_RIGHTS_MAX + 1));
        size = (size + 3) & ~3u;
        make_msg(size);
        msg_type_t *t = (msg_type_t *)(buf + 24);
        *t = (msg_type_t){ MSG_TYPE_COPY_SEND, 0, WIRE_RIGHTS_MAX + 1 };
        ck_assert_int_eq(wire_msg_check(buf, size, 0, &info), SEND_TOO_LARGE);
        t->msg_type_number = WIRE_RIGHTS_MAX;
        ((msg_header_t *)buf)->msg_size = size - 4;
        ck_assert_int_eq(wire_msg_check(buf, size - 4, 0, &info), 0);
        ck_assert_uint_eq(info.n_rights, WIRE_RIGHTS_MAX);
}
END_TEST

START_TEST(test_item_iteration) {
        uint32_t size = make_msg(24 + 8 + 8 + 8 + 3 + 1);
        *(msg_type_t *)(buf + 24) = (msg_type_t){ MSG_TYPE_INTEGER_16, 0, 3 };
        *(msg_type_t *)(buf + 40) = (msg_type_t){ MSG_TYPE_STRING, 0, 3 };
        ck_assert_int_eq(wire_msg_check(buf, size, 0, NULL), 0);
        WireItemIter it;
        WireItem item;
        wire_item_iter_init(&it, buf, size);
        ck_assert(wire_item_next(&it, &item));
        ck_assert_uint_eq(item.name, MSG_TYPE_INTEGER_16);
        ck_assert_uint_eq(item.offset, 32);
        ck_assert_uint_eq(item.bytes, 6);
        ck_assert(wire_item_next(&it, &item));
        ck_assert_uint_eq(item.offset, 48);
        ck_assert_uint_eq(item.bytes, 3);
        ck_assert(!wire_item_next(&it, &item));
        ck_assert_uint_eq(wire_type_size(MSG_TYPE_REAL_64), 8);
        ck_assert_uint_eq(wire_type_size(200), 0);
}
END_TEST

START_TEST(test_socket_path) {
        char b[256];
        setenv("MACHIPC_SOCKET", "/x/y", 1);
        ck_assert_int_eq(wire_socket_path(NULL, b, sizeof(b)), 0);
        ck_assert_str_eq(b, "/x/y");
        ck_assert_int_eq(wire_socket_path("/o", b, sizeof(b)), 0);
        ck_assert_str_eq(b, "/o");
        unsetenv("MACHIPC_SOCKET");
        setenv("XDG_RUNTIME_DIR", "/run/user/5", 1);
        ck_assert_int_eq(wire_socket_path(NULL, b, sizeof(b)), 0);
        ck_assert_str_eq(b, "/run/user/5/machipc/socket");
        unsetenv("XDG_RUNTIME_DIR");
        ck_assert_int_eq(wire_socket_path(NULL, b, sizeof(b)), 0);
        ck_assert_ptr_nonnull(strstr(b, "/tmp/machipc-"));
        ck_assert_int_eq(wire_socket_path("/a/very/long/path", b, 5), -ENAMETOOLONG);
}
END_TEST

int main(void) {
        Suite *s = suite_create("Wire");
        TCase *tc = tcase_create("codec");
        tcase_add_test(tc, test_header_round_trip);
        tcase_add_test(tc, test_hello_round_trip);
        tcase_add_test(tc, test_msg_req_rules);
        tcase_add_test(tc, test_msg_check_sizes);
        tcase_add_test(tc, test_msg_check_items);
        tcase_add_test(tc, test_msg_check_header);
        tcase_add_test(tc, test_rights_limit);
        tcase_add_test(tc, test_item_iteration);
        tcase_add_test(tc, test_socket_path);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
