/* SPDX-License-Identifier: MIT */
/* test-msg.c - sending and receiving: formats, codes, order, sizes, timeouts */

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include "fixture.h"

typedef struct {
        msg_header_t head;
        msg_type_t t;
        char text[64];
} TextMsg;

static port_t new_port(void) {
        port_t p;
        ck_assert_int_eq(port_allocate(task_self(), &p), KERN_SUCCESS);
        return p;
}

START_TEST(test_special_ports) {
        port_t self = task_self(), notify = task_notify();
        ck_assert_uint_ne(self, PORT_NULL);
        ck_assert_uint_ne(notify, PORT_NULL);
        ck_assert_uint_ne(self, notify);
        port_type_t t;
        ck_assert_int_eq(port_type(self, self, &t), KERN_SUCCESS);
        ck_assert_uint_eq(t, PORT_TYPE_SEND);
        ck_assert_int_eq(port_type(self, notify, &t), KERN_SUCCESS);
        ck_assert_uint_eq(t, PORT_TYPE_RECEIVE);
        ck_assert_uint_ne(machipc_task_id(), 0);
}
END_TEST

START_TEST(test_send_receive_self) {
        port_t p = new_port();
        TextMsg m = { 0 };
        msg_type_init(&m.t, MSG_TYPE_CHAR, 6);
        memcpy(m.text, "hello", 6);
        m.head.msg_size = sizeof(msg_header_t) + MSG_ITEM_SIZE(6);
        m.head.msg_remote_port = p;
        m.head.msg_id = 1234;
        ck_assert_int_eq(msg_send(&m.head, MSG_OPTION_NONE, 0), SEND_SUCCESS);

        port_status_t st;
        ck_assert_int_eq(port_status(task_self(), p, &st), KERN_SUCCESS);
        ck_assert_uint_eq(st.msgcount, 1);
        ck_assert_uint_eq(st.backlog, PORT_BACKLOG_DEFAULT);
        ck_assert_uint_eq(st.has_receive, 1);

        TextMsg r;
        memset(&r, 0xa5, sizeof(r));
        r.head.msg_size = sizeof(r);
        r.head.msg_local_port = p;
        ck_assert_int_eq(msg_receive(&r.head, MSG_OPTION_NONE, 0), RCV_SUCCESS);
        ck_assert_uint_eq(r.head.msg_size, sizeof(msg_header_t) + MSG_ITEM_SIZE(6));
        ck_assert_int_eq(r.head.msg_id, 1234);
        ck_assert_uint_eq(r.head.msg_local_port, p);
        ck_assert_uint_eq(r.head.msg_remote_port, PORT_NULL);
        ck_assert_uint_eq(r.t.msg_type_name, MSG_TYPE_CHAR);
        ck_assert_uint_eq(r.t.msg_type_number, 6);
        ck_assert_str_eq(r.text, "hello");
        /* Sent on a send right made from the receive right. */
        ck_assert_uint_eq(MSG_BITS_LOCAL(r.head.msg_bits), MSG_TYPE_PORT_SEND);
        ck_assert_uint_eq(r.head.msg_seqno, 0);

        msg_sender_t who;
        ck_assert_int_eq(msg_last_sender(&who), 0);
        ck_assert_int_eq(who.pid, getpid());
        ck_assert_uint_eq(who.uid, getuid());
        ck_assert_uint_eq(who.flags, 0);
        ck_assert_int_eq(port_status(task_self(), p, &st), KERN_SUCCESS);
        ck_assert_uint_eq(st.msgcount, 0);
        ck_assert_uint_eq(st.seqno, 1);
}
END_TEST

START_TEST(test_fifo_order) {
        port_t p = new_port();
        ck_assert_int_eq(port_set_backlog(task_self(), p, 100), KERN_SUCCESS);
        for (int i = 0; i < 100; i++)
                ck_assert_int_eq(test_send_int(p, 7, i, 0, 0, MSG_OPTION_NONE, 0), 0);
        for (int i = 0; i < 100; i++) {
                int32_t v = -1;
                ck_assert_int_eq(test_recv_int(p, NULL, &v, NULL, RCV_TIMEOUT, 0), 0);
                ck_assert_int_eq(v, i);
        }
}
END_TEST

START_TEST(test_reply_port_header) {
        /* A make-send reply right arrives as a send right; it coalesces. */
        port_t p = new_port(), reply = new_port();
        TestIntMsg m = { 0 };
        msg_type_init(&m.t, MSG_TYPE_INTEGER_32, 1);
        m.head.msg_size = sizeof(msg_header_t) + MSG_ITEM_SIZE(4);
        m.head.msg_remote_port = p;
        m.head.msg_local_port = reply;
        m.head.msg_bits = MSG_BITS(MSG_TYPE_MAKE_SEND, MSG_TYPE_MAKE_SEND);
        ck_assert_int_eq(msg_send(&m.head, MSG_OPTION_NONE, 0), 0);
        m.head.msg_bits = MSG_BITS(MSG_TYPE_MAKE_SEND, MSG_TYPE_MAKE_SEND_ONCE);
        ck_assert_int_eq(msg_send(&m.head, MSG_OPTION_NONE, 0), 0);

        TestIntMsg r = { 0 };
        r.head.msg_size = sizeof(r);
        r.head.msg_local_port = p;
        ck_assert_int_eq(msg_receive(&r.head, MSG_OPTION_NONE, 0), 0);
        /* Our own receive right and the send right share one name. */
        ck_assert_uint_eq(r.head.msg_remote_port, reply);
        ck_assert_uint_eq(MSG_BITS_REMOTE(r.head.msg_bits), MSG_TYPE_PORT_SEND);
        port_type_t t;
        ck_assert_int_eq(port_type(task_self(), reply, &t), 0);
        ck_assert_uint_eq(t, PORT_TYPE_SEND | PORT_TYPE_RECEIVE);

        r.head.msg_size = sizeof(r);
        r.head.msg_local_port = p;
        ck_assert_int_eq(msg_receive(&r.head, MSG_OPTION_NONE, 0), 0);
        ck_assert_uint_eq(MSG_BITS_REMOTE(r.head.msg_bits), MSG_TYPE_PORT_SEND_ONCE);
        ck_assert_uint_ne(r.head.msg_remote_port, reply);  /* send-once: a name of its own */
        ck_assert_int_eq(port_type(task_self(), r.head.msg_remote_port, &t), 0);
        ck_assert_uint_eq(t, PORT_TYPE_SEND_ONCE);
        port_status_t st;
        ck_assert_int_eq(port_status(task_self(), reply, &st), 0);
        ck_assert_uint_eq(st.n_send_once, 1);
        ck_assert_uint_eq(st.n_send, 1);
}
END_TEST

START_TEST(test_send_invalid_dest) {
        port_t p = new_port();
        ck_assert_int_eq(port_deallocate(task_self(), p), KERN_SUCCESS);
        ck_assert_int_eq(test_send_int(p, 1, 1, 0, 0, MSG_OPTION_NONE, 0), SEND_INVALID_DEST);
        ck_assert_int_eq(test_send_int(PORT_NULL, 1, 1, 0, 0, MSG_OPTION_NONE, 0), SEND_INVALID_DEST);
        ck_assert_int_eq(test_send_int(0x12345678, 1, 1, 0, 0, MSG_OPTION_NONE, 0), SEND_INVALID_DEST);
        /* A port set is not a destination. */
        port_t set;
        ck_assert_int_eq(port_set_allocate(task_self(), &set), 0);
        ck_assert_int_eq(test_send_int(set, 1, 1, 0, 0, MSG_OPTION_NONE, 0), SEND_INVALID_DEST);
        ck_assert_int_eq(port_deallocate(task_self(), p), KERN_INVALID_NAME);
}
END_TEST

START_TEST(test_receive_invalid_name) {
        port_t p = new_port();
        int32_t v;
        /* A send right is not enough to receive. */
        ck_assert_int_eq(test_recv_int(task_self(), NULL, &v, NULL, RCV_TIMEOUT, 0), RCV_INVALID_NAME);
        ck_assert_int_eq(test_recv_int(PORT_NULL, NULL, &v, NULL, RCV_TIMEOUT, 0), RCV_INVALID_NAME);
        ck_assert_int_eq(test_recv_int(0x4242, NULL, &v, NULL, RCV_TIMEOUT, 0), RCV_INVALID_NAME);
        ck_assert_int_eq(port_deallocate(task_self(), p), 0);
        ck_assert_int_eq(test_recv_int(p, NULL, &v, NULL, RCV_TIMEOUT, 0), RCV_INVALID_NAME);
}
END_TEST

START_TEST(test_malformed_messages) {
        port_t p = new_port();
        uint8_t buf[256] __attribute__((aligned(8)));
        msg_header_t *h = (msg_header_t *)buf;
        msg_type_t *t = (msg_type_t *)(buf + sizeof(*h));

        memset(buf, 0, sizeof(buf));
        h->msg_remote_port = p;
        h->msg_size = 10;
        ck_assert_int_eq(msg_send(h, MSG_OPTION_NONE, 0), SEND_MSG_TOO_SMALL);
        h->msg_size = sizeof(*h) + 2;   /* not a multiple of 4 */
        ck_assert_int_eq(msg_send(h, MSG_OPTION_NONE, 0), SEND_MSG_TOO_SMALL);
        h->msg_size = MSG_SIZE_MAX + 8;
        ck_assert_int_eq(msg_send(h, MSG_OPTION_NONE, 0), SEND_TOO_LARGE);

        h->msg_size = sizeof(*h);
        h->msg_bits = 0x00010000;       /* unknown bit */
        ck_assert_int_eq(msg_send(h, MSG_OPTION_NONE, 0), SEND_INVALID_HEADER);
        h->msg_bits = MSG_BITS(MSG_TYPE_MOVE_RECEIVE, 0);  /* not a send disposition */
        ck_assert_int_eq(msg_send(h, MSG_OPTION_NONE, 0), SEND_INVALID_HEADER);
        h->msg_bits = MSG_BITS(99, 0);
        ck_assert_int_eq(msg_send(h, MSG_OPTION_NONE, 0), SEND_INVALID_HEADER);
        h->msg_bits = 0;

        h->msg_size = sizeof(*h) + 8;
        msg_type_init(t, 77, 0);        /* unknown item type */
        ck_assert_int_eq(msg_send(h, MSG_OPTION_NONE, 0), SEND_INVALID_TYPE);
        msg_type_init(t, MSG_TYPE_BYTE, 0);
        t->msg_type_flags = 1;          /* unknown flags */
        ck_assert_int_eq(msg_send(h, MSG_OPTION_NONE, 0), SEND_INVALID_TYPE);
        msg_type_init(t, MSG_TYPE_INTEGER_32, 100);     /* count that lies */
        h->msg_size = sizeof(*h) + 16;
        ck_assert_int_eq(msg_send(h, MSG_OPTION_NONE, 0), SEND_MSG_TOO_SMALL);
        msg_type_init(t, MSG_TYPE_INTEGER_32, 0xffffffffu);
        ck_assert_int_eq(msg_send(h, MSG_OPTION_NONE, 0), SEND_MSG_TOO_SMALL);
        h->msg_size = sizeof(*h) + 4;   /* half an item descriptor */
        ck_assert_int_eq(msg_send(h, MSG_OPTION_NONE, 0), SEND_MSG_TOO_SMALL);

        /* Nothing was queued by any of these. */
        port_status_t st;
        ck_assert_int_eq(port_status(task_self(), p, &st), 0);
        ck_assert_uint_eq(st.msgcount, 0);

        /* The largest message passes. */
        uint8_t *big = calloc(1, MSG_SIZE_MAX);
        msg_header_t *bh = (msg_header_t *)big;
        bh->msg_size = MSG_SIZE_MAX;
        bh->msg_remote_port = p;
        msg_type_init((msg_type_t *)(big + sizeof(*bh)), MSG_TYPE_BYTE,
                      MSG_SIZE_MAX - sizeof(*bh) - sizeof(msg_type_t));
        for (size_t i = sizeof(*bh) + 8; i < MSG_SIZE_MAX; i++)
                big[i] = (uint8_t)i;
        ck_assert_int_eq(msg_send(bh, MSG_OPTION_NONE, 0), 0);
        memset(big, 0, MSG_SIZE_MAX);
        bh->msg_size = MSG_SIZE_MAX;
        bh->msg_local_port = p;
        ck_assert_int_eq(msg_receive(bh, MSG_OPTION_NONE, 0), 0);
        ck_assert_uint_eq(bh->msg_size, MSG_SIZE_MAX);
        for (size_t i = sizeof(*bh) + 8; i < MSG_SIZE_MAX; i++)
                ck_assert_uint_eq(big[i], (uint8_t)i);
        free(big);
}
END_TEST

START_TEST(test_invalid_reply_and_rights) {
        port_t p = new_port(), other = new_port();
        TestIntMsg m = { 0 };
        msg_type_init(&m.t, MSG_TYPE_INTEGER_32, 1);
        m.head.msg_size = sizeof(msg_header_t) + MSG_ITEM_SIZE(4);
        m.head.msg_remote_port = p;
        m.head.msg_local_port = 0x777700;       /* no such name */
        ck_assert_int_eq(msg_send(&m.head, MSG_OPTION_NONE, 0), SEND_INVALID_REPLY);
        m.head.msg_local_port = task_self();    /* a send right cannot make a send-once */
        m.head.msg_bits = MSG_BITS(0, MSG_TYPE_MAKE_SEND_ONCE);
        ck_assert_int_eq(msg_send(&m.head, MSG_OPTION_NONE, 0), SEND_INVALID_REPLY);

        /* A body right that is not held: SEND_INVALID_RIGHT, nothing moved. */
        ck_assert_int_eq(test_send_int(p, 1, 1, 0x999900, MSG_TYPE_COPY_SEND, 0, 0), SEND_INVALID_RIGHT);
        ck_assert_int_eq(test_send_int(p, 1, 1, task_self(), MSG_TYPE_MOVE_RECEIVE, 0, 0),
                         SEND_INVALID_RIGHT);
        /* The dest's send right is made from the receive right; moving the
         * receive right of another port we hold only a send right for fails too. */
        port_status_t before, after;
        ck_assert_int_eq(port_status(task_self(), task_self(), &before), 0);
        ck_assert_int_eq(test_send_int(p, 1, 1, task_self(), MSG_TYPE_MAKE_SEND, 0, 0), SEND_INVALID_RIGHT);
        ck_assert_int_eq(port_status(task_self(), task_self(), &after), 0);
        ck_assert_uint_eq(before.urefs, after.urefs);
        ck_assert_uint_eq(before.n_send, after.n_send);
        ck_assert_int_eq(port_status(task_self(), p, &after), 0);
        ck_assert_uint_eq(after.msgcount, 0);
        (void)other;
}
END_TEST

START_TEST(test_receive_timeout_and_poll) {
        port_t p = new_port();
        int32_t v;
        uint64_t t0 = test_now_ms();
        ck_assert_int_eq(test_recv_int(p, NULL, &v, NULL, RCV_TIMEOUT, 0), RCV_TIMED_OUT);
        ck_assert_uint_lt(test_now_ms() - t0, 1000);
        t0 = test_now_ms();
        ck_assert_int_eq(test_recv_int(p, NULL, &v, NULL, RCV_TIMEOUT, 150), RCV_TIMED_OUT);
        uint64_t dt = test_now_ms() - t0;
        ck_assert_uint_ge(dt, 140);
        ck_assert_uint_lt(dt, 5000);
        /* A poll finds what is there. */
        ck_assert_int_eq(test_send_int(p, 3, 33, 0, 0, MSG_OPTION_NONE, 0), 0);
        ck_assert_int_eq(test_recv_int(p, NULL, &v, NULL, RCV_TIMEOUT, 0), 0);
        ck_assert_int_eq(v, 33);
}
END_TEST

START_TEST(test_rcv_too_large) {
        port_t p = new_port();
        TextMsg m = { 0 };
        msg_type_init(&m.t, MSG_TYPE_CHAR, 64);
        memset(m.text, 'x', sizeof(m.text));
        m.head.msg_size = sizeof(m);
        m.head.msg_remote_port = p;
        m.head.msg_id = 5;
        ck_assert_int_eq(msg_send(&m.head, MSG_OPTION_NONE, 0), 0);
        ck_assert_int_eq(msg_send(&m.head, MSG_OPTION_NONE, 0), 0);

        /* RCV_LARGE: the message stays queued and the size is reported. */
        TestIntMsg small = { 0 };
        small.head.msg_size = sizeof(small);
        small.head.msg_local_port = p;
        ck_assert_int_eq(msg_receive(&small.head, RCV_LARGE | RCV_TIMEOUT, 0), RCV_TOO_LARGE);
        ck_assert_uint_eq(small.head.msg_size, sizeof(m));
        port_status_t st;
        ck_assert_int_eq(port_status(task_self(), p, &st), 0);
        ck_assert_uint_eq(st.msgcount, 2);
        TextMsg r;
        r.head.msg_size = sizeof(r);
        r.head.msg_local_port = p;
        ck_assert_int_eq(msg_receive(&r.head, RCV_TIMEOUT, 0), 0);
        ck_assert_int_eq(r.head.msg_id, 5);

        /* Without RCV_LARGE: Mach's rule, the message is destroyed. */
        small.head.msg_size = sizeof(small);
        small.head.msg_local_port = p;
        ck_assert_int_eq(msg_receive(&small.head, RCV_TIMEOUT, 0), RCV_TOO_LARGE);
        ck_assert_uint_eq(small.head.msg_size, sizeof(m));
        ck_assert_int_eq(small.head.msg_id, 5);
        ck_assert_int_eq(port_status(task_self(), p, &st), 0);
        ck_assert_uint_eq(st.msgcount, 0);
}
END_TEST

START_TEST(test_rcv_too_large_releases_rights) {
        /* A send-once reply right inside a destroyed message tells its port. */
        port_t p = new_port(), reply = new_port();
        TestIntMsg m = { 0 };
        msg_type_init(&m.t, MSG_TYPE_INTEGER_32, 1);
        m.head.msg_size = sizeof(msg_header_t) + MSG_ITEM_SIZE(4);
        m.head.msg_remote_port = p;
        m.head.msg_local_port = reply;
        m.head.msg_bits = MSG_BITS(0, MSG_TYPE_MAKE_SEND_ONCE);
        ck_assert_int_eq(msg_send(&m.head, 0, 0), 0);
        msg_header_t h = { .msg_size = sizeof(msg_header_t), .msg_local_port = p };
        ck_assert_int_eq(msg_receive(&h, RCV_TIMEOUT, 0), RCV_TOO_LARGE);
        h.msg_size = sizeof(h);
        h.msg_local_port = reply;
        ck_assert_int_eq(msg_receive(&h, RCV_TIMEOUT, 0), 0);
        ck_assert_int_eq(h.msg_id, NOTIFY_SEND_ONCE);
        msg_sender_t who;
        ck_assert_int_eq(msg_last_sender(&who), 0);
        ck_assert_uint_eq(who.flags, MSG_SENDER_KERNEL);
        ck_assert_int_eq(who.pid, 0);
}
END_TEST

START_TEST(test_bad_arguments) {
        ck_assert_int_eq(msg_send(NULL, 0, 0), -EINVAL);
        ck_assert_int_eq(msg_receive(NULL, 0, 0), -EINVAL);
        msg_header_t h = { .msg_size = 4 };
        ck_assert_int_eq(msg_receive(&h, 0, 0), -EINVAL);
        h.msg_size = sizeof(h);
        ck_assert_int_eq(msg_send(&h, 0x40000, 0), -EINVAL);
        ck_assert_int_eq(port_allocate(task_self(), NULL), -EINVAL);
        port_t p;
        ck_assert_int_eq(port_allocate(PORT_NULL, &p), KERN_INVALID_TASK);
        ck_assert_int_eq(port_allocate(0x5500, &p), KERN_INVALID_TASK);
        ck_assert_str_eq(machipc_strerror(SEND_INVALID_DEST), "send: invalid destination port");
        ck_assert_str_eq(machipc_strerror(12345678), "unknown status code");
        ck_assert_ptr_nonnull(machipc_strerror(-EINVAL));
        ck_assert_int_eq(machipc_connect(NULL), -EISCONN);
}
END_TEST

START_TEST(test_port_calls_codes) {
        port_t p = new_port();
        port_status_t st;
        port_type_t t;
        ck_assert_int_eq(port_status(task_self(), 0xabc00, &st), KERN_INVALID_NAME);
        ck_assert_int_eq(port_type(task_self(), 0xabc00, &t), KERN_INVALID_NAME);
        ck_assert_int_eq(port_set_backlog(task_self(), task_self(), 3), KERN_INVALID_RIGHT);
        ck_assert_int_eq(port_set_backlog(task_self(), 0xabc00, 3), KERN_INVALID_NAME);
        ck_assert_int_eq(port_set_backlog(task_self(), p, PORT_BACKLOG_MAX + 1), KERN_INVALID_VALUE);
        ck_assert_int_eq(port_set_backlog(task_self(), p, PORT_BACKLOG_MAX), KERN_SUCCESS);
        ck_assert_int_eq(port_set_backlog(task_self(), p, 0), KERN_SUCCESS);
        ck_assert_int_eq(port_status(task_self(), p, &st), 0);
        ck_assert_uint_eq(st.backlog, 0);
        /* Names are not reused at once: the old name stays invalid. */
        ck_assert_int_eq(port_deallocate(task_self(), p), 0);
        port_t q = new_port();
        ck_assert_uint_ne(p, q);
        ck_assert_int_eq(port_type(task_self(), p, &t), KERN_INVALID_NAME);
        /* Many ports. */
        for (int i = 0; i < 1000; i++)
                ck_assert_int_eq(port_allocate(task_self(), &q), 0);
}
END_TEST

int main(void) {
        Suite *s = suite_create("Messages");
        TCase *tc = tcase_create("msg");
        tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
        tcase_set_timeout(tc, 30);
        ADD_TEST(tc, test_special_ports);
        ADD_TEST(tc, test_send_receive_self);
        ADD_TEST(tc, test_fifo_order);
        ADD_TEST(tc, test_reply_port_header);
        ADD_TEST(tc, test_send_invalid_dest);
        ADD_TEST(tc, test_receive_invalid_name);
        ADD_TEST(tc, test_malformed_messages);
        ADD_TEST(tc, test_invalid_reply_and_rights);
        ADD_TEST(tc, test_receive_timeout_and_poll);
        ADD_TEST(tc, test_rcv_too_large);
        ADD_TEST(tc, test_rcv_too_large_releases_rights);
        ADD_TEST(tc, test_bad_arguments);
        ADD_TEST(tc, test_port_calls_codes);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
