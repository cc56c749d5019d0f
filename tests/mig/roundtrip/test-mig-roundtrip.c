/* SPDX-License-Identifier: MIT */
/*
 * test-mig-roundtrip.c - generated stubs between two unrelated processes:
 * this test calls rt.defs's routines through its user stubs, rt-server
 * (started as its own program) answers through its generated server.
 * Every argument kind and type; server error codes, deferred replies, a
 * server that dies mid-call; malformed requests sent by hand to the server,
 * and malformed replies from a fake server to the stubs.
 */

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <machipc/mig.h>
#include "fixture.h"
#include "tasks.h"
#include "rt.h"

static pid_t ns_pid, rt_pid;
static port_t server;

static void rt_setup(void) {
        fixture_setup();
        const char *const none[] = { NULL };
        ns_pid = test_spawn_ready(getenv("MACHIPC_TEST_NAMESERVER"), none);
        rt_pid = test_spawn_ready(getenv("MACHIPC_TEST_MIG_RT_SERVER"), none);
        ck_assert_int_eq(netname_look_up(PORT_NULL, NULL, "mig-rt", &server), NETNAME_SUCCESS);
}

static void rt_teardown(void) {
        if (rt_pid > 0)
                ck_assert_int_eq(test_stop(rt_pid), 0);
        if (ns_pid > 0)
                ck_assert_int_eq(test_stop(ns_pid), 0);
        fixture_teardown();
}

/* A port of ours with a send right too (it comes back to us under the same name). */
static port_t port_with_send(void) {
        port_t p = test_new_port(16), right = PORT_NULL;
        ck_assert_int_eq(test_send_int(p, TEST_ID_RIGHT, 0, p, MSG_TYPE_MAKE_SEND, SEND_TIMEOUT, 0), 0);
        ck_assert_int_eq(test_recv_int(p, NULL, NULL, &right, RCV_TIMEOUT, 1000), 0);
        ck_assert_uint_eq(right, p);
        return p;
}

static uint32_t send_refs(port_t p) {
        uint32_t refs = 0;
        ck_assert_int_eq(port_get_refs(task_self(), p, PORT_RIGHT_SEND, &refs), KERN_SUCCESS);
        return refs;
}

static void expect_ping(port_t p, int32_t value) {
        int32_t id = 0, v = 0;
        ck_assert_int_eq(test_recv_int(p, &id, &v, NULL, RCV_TIMEOUT, 5000), 0);
        ck_assert_int_eq(id, RT_PING);
        ck_assert_int_eq(v, value);
}

START_TEST(test_scalars) {
        int64_t sum = 0;
        double half = 0;
        boolean_t not_e = 7;
        char next = 0;
        ck_assert_int_eq(rt_scalars(server, -5, 1000, -70000, (int64_t)1 << 40, TRUE, 'a', 3.5, &sum, &half, &not_e,
                                    &next),
                         KERN_SUCCESS);
        ck_assert_int_eq(sum, -5 + 1000 - 70000 + ((int64_t)1 << 40));
        ck_assert(half == 1.75);
        ck_assert_int_eq(not_e, FALSE);
        ck_assert_int_eq(next, 'b');
        ck_assert_int_eq(rt_scalars(server, INT8_MIN, INT16_MAX, INT32_MIN, 0, FALSE, 'y', -1e300, &sum, &half,
                                    &not_e, &next),
                         KERN_SUCCESS);
        ck_assert_int_eq(sum, (int64_t)INT8_MIN + INT16_MAX + INT32_MIN);
        ck_assert(half == -5e299);
        ck_assert_int_eq(not_e, TRUE);
        ck_assert_int_eq(next, 'z');
}
END_TEST

START_TEST(test_arrays) {
        static const int sizes[] = { 0, 1, 64 };
        for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
                int n = sizes[k];
                quad4_t q = { 1, 2, 3, 4 }, rq = { 0 };
                int32_t v[64], rv[64];
                for (int i = 0; i < n; i++)
                        v[i] = i - 7;
                rt_point_t pt = { 7, -9 }, rpt = { 0, 0 };
                char raw[] = "hello", rraw[256];
                mach_msg_type_number_t rvCnt = 64, rrawCnt = sizeof(rraw);
                ck_assert_int_eq(rt_arrays(server, q, v, (mach_msg_type_number_t)n, pt, raw, 5, rq, rv, &rvCnt, &rpt,
                                           rraw, &rrawCnt),
                                 KERN_SUCCESS);
                ck_assert_int_eq(rq[0], 4);
                ck_assert_int_eq(rq[3], 1);
                ck_assert_uint_eq(rvCnt, (unsigned)n);
                for (int i = 0; i < n; i++)
                        ck_assert_int_eq(rv[i], 2 * (i - 7));
                ck_assert_int_eq(rpt.x, -9);
                ck_assert_int_eq(rpt.y, 7);
                ck_assert_uint_eq(rrawCnt, 5);
                ck_assert(memcmp(rraw, "olleh", 5) == 0);
        }
        /* More than the type allows: refused before anything is sent. */
        quad4_t q = { 0 }, rq;
        int32_t v[65] = { 0 }, rv[64];
        rt_point_t pt = { 0, 0 }, rpt;
        char rraw[256];
        mach_msg_type_number_t rvCnt = 64, rrawCnt = sizeof(rraw);
        ck_assert_int_eq(rt_arrays(server, q, v, 65, pt, "x", 1, rq, rv, &rvCnt, &rpt, rraw, &rrawCnt),
                         MIG_ARRAY_TOO_LARGE);
        /* Less room than the reply brings: what fits, and the code says so. */
        for (int i = 0; i < 10; i++)
                v[i] = i;
        rvCnt = 3;
        ck_assert_int_eq(rt_arrays(server, q, v, 10, pt, "x", 1, rq, rv, &rvCnt, &rpt, rraw, &rrawCnt),
                         MIG_ARRAY_TOO_LARGE);
        ck_assert_uint_eq(rvCnt, 10);
        ck_assert_int_eq(rv[2], 4);
}
END_TEST

START_TEST(test_strings) {
        char upper[512], greeting[32];
        ck_assert_int_eq(rt_strings(server, "ann", "Hello, world", upper, greeting), KERN_SUCCESS);
        ck_assert_str_eq(upper, "HELLO, WORLD");
        ck_assert_str_eq(greeting, "hi ann");
        ck_assert_int_eq(rt_strings(server, "", "", upper, greeting), KERN_SUCCESS);
        ck_assert_str_eq(upper, "");
        ck_assert_str_eq(greeting, "hi ");
        char text[513], name[33];
        memset(text, 'x', 511);
        text[511] = 0;
        memset(name, 'n', 31);
        name[31] = 0;
        ck_assert_int_eq(rt_strings(server, name, text, upper, greeting), KERN_SUCCESS);
        ck_assert_uint_eq(strlen(upper), 511);
        ck_assert_uint_eq(strlen(greeting), 31);   /* "hi " and the name, cut to the type's 32 bytes */
        memset(text, 'x', 512);
        text[512] = 0;
        ck_assert_int_eq(rt_strings(server, "ann", text, upper, greeting), MIG_ARRAY_TOO_LARGE);
        memset(name, 'n', 32);
        name[32] = 0;
        ck_assert_int_eq(rt_strings(server, name, "x", upper, greeting), MIG_ARRAY_TOO_LARGE);
}
END_TEST

START_TEST(test_out_of_line) {
        const vm_size_t n = 1 << 20, nw = 1000;
        vm_address_t data = 0, words = 0;
        ck_assert_int_eq(vm_allocate(task_self(), &data, n, 1), KERN_SUCCESS);
        ck_assert_int_eq(vm_allocate(task_self(), &words, nw * 4, 1), KERN_SUCCESS);
        uint64_t want = 0;
        for (vm_size_t i = 0; i < n; i++) {
                ((uint8_t *)data)[i] = (uint8_t)(i * 7);
                want += (uint8_t)(i * 7);
        }
        for (vm_size_t i = 0; i < nw; i++) {
                ((int32_t *)words)[i] = (int32_t)i - 500;
                want += (uint64_t)(int64_t)((int32_t)i - 500);
        }
        uint64_t sum = 0;
        uint8_t *rev = NULL;
        mach_msg_type_number_t revCnt = 0;
        ck_assert_int_eq(rt_bulk(server, (uint8_t *)data, (mach_msg_type_number_t)n, (int32_t *)words,
                                 (mach_msg_type_number_t)nw, &sum, &rev, &revCnt),
                         KERN_SUCCESS);
        ck_assert_uint_eq(sum, want);
        ck_assert_uint_eq(revCnt, n);
        for (vm_size_t i = 0; i < n; i += 4093)
                ck_assert_uint_eq(rev[i], ((uint8_t *)data)[n - 1 - i]);
        /* words went with the request (dealloc); data stayed; the reversed copy is ours. */
        ck_assert_int_eq(vm_deallocate(task_self(), words, nw * 4), KERN_INVALID_ADDRESS);
        ck_assert_uint_eq(((uint8_t *)data)[5], 35);
        ck_assert_int_eq(vm_deallocate(task_self(), (vm_address_t)rev, revCnt), KERN_SUCCESS);
        /* Nothing at all, both ways. */
        ck_assert_int_eq(rt_bulk(server, NULL, 0, NULL, 0, &sum, &rev, &revCnt), KERN_SUCCESS);
        ck_assert_uint_eq(sum, 0);
        ck_assert_uint_eq(revCnt, 0);
        /* More words than the type's bound: refused here, the region still ours. */
        vm_address_t big = 0;
        ck_assert_int_eq(vm_allocate(task_self(), &big, 100001 * 4, 1), KERN_SUCCESS);
        ck_assert_int_eq(rt_bulk(server, (uint8_t *)data, 1, (int32_t *)big, 100001, &sum, &rev, &revCnt),
                         MIG_ARRAY_TOO_LARGE);
        ck_assert_int_eq(vm_deallocate(task_self(), big, 100001 * 4), KERN_SUCCESS);
        ck_assert_int_eq(vm_deallocate(task_self(), data, n), KERN_SUCCESS);
}
END_TEST

START_TEST(test_give_rights) {
        port_t copied = port_with_send(), made = test_new_port(4), moved = port_with_send();
        port_t once = test_new_port(4), recv = port_with_send();
        ck_assert_int_eq(test_send_int(recv, 55, 5, PORT_NULL, 0, SEND_TIMEOUT, 0), 0);
        ck_assert_int_eq(port_mod_refs(task_self(), recv, PORT_RIGHT_SEND, -1), KERN_SUCCESS);
        port_t back = PORT_NULL;
        ck_assert_int_eq(rt_give_rights(server, copied, made, moved, once, recv, &back), KERN_SUCCESS);
        expect_ping(copied, 1);
        expect_ping(made, 2);
        expect_ping(moved, 3);
        expect_ping(once, 4);
        uint32_t type = 0;
        ck_assert_int_eq(port_type(task_self(), copied, &type), KERN_SUCCESS);
        ck_assert(type & PORT_TYPE_SEND);               /* copied: still ours */
        ck_assert_int_eq(port_type(task_self(), moved, &type), KERN_SUCCESS);
        ck_assert(!(type & PORT_TYPE_SEND));            /* moved: gone */
        ck_assert(type & PORT_TYPE_RECEIVE);
        /* The receive right came back, its message still queued. */
        ck_assert_uint_ne(back, PORT_NULL);
        port_status_t st = test_status(back);
        ck_assert(st.has_receive);
        ck_assert_uint_eq(st.msgcount, 1);
        int32_t id = 0;
        ck_assert_int_eq(test_recv_int(back, &id, NULL, NULL, RCV_TIMEOUT, 0), 0);
        ck_assert_int_eq(id, 55);
        /* The server kept none of them. */
        ck_assert_uint_eq(test_status(copied).n_send, 1);
        ck_assert_uint_eq(test_status(made).n_send, 0);
        ck_assert_uint_eq(test_status(moved).n_send, 0);
}
END_TEST

START_TEST(test_take_rights) {
        port_t made = PORT_NULL, copied = PORT_NULL, once = PORT_NULL, poly = PORT_NULL;
        mach_msg_type_name_t polyPoly = 0;
        ck_assert_int_eq(rt_take_rights(server, &made, &copied, &once, &poly, &polyPoly), KERN_SUCCESS);
        ck_assert_uint_eq(polyPoly, MSG_TYPE_PORT_SEND);
        /* One port: its send rights share a name; the send-once right has its own. */
        ck_assert_uint_eq(made, copied);
        ck_assert_uint_eq(made, poly);
        ck_assert_uint_eq(send_refs(made), 3);
        uint32_t type = 0;
        ck_assert_int_eq(port_type(task_self(), once, &type), KERN_SUCCESS);
        ck_assert(type & PORT_TYPE_SEND_ONCE);
        for (int i = 0; i < 3; i++)
                ck_assert_int_eq(test_send_int(made, 1, i, PORT_NULL, 0, SEND_TIMEOUT, 1000), 0);
        ck_assert_int_eq(test_send_int(once, 1, 3, PORT_NULL, 0, SEND_TIMEOUT, 1000), 0);
        ck_assert_int_eq(port_type(task_self(), once, &type), KERN_INVALID_NAME);      /* used up */
        int32_t count = 0;
        ck_assert_int_eq(rt_drain(server, &count), KERN_SUCCESS);
        ck_assert_int_eq(count, 4);
        ck_assert_int_eq(port_mod_refs(task_self(), made, PORT_RIGHT_SEND, -3), KERN_SUCCESS);
}
END_TEST

START_TEST(test_polymorphic) {
        port_t a = port_with_send(), f = test_new_port(1);
        int32_t kind = 0;
        ck_assert_int_eq(rt_poly_in(server, a, MSG_TYPE_MAKE_SEND, &kind), KERN_SUCCESS);
        ck_assert_int_eq(kind, MSG_TYPE_PORT_SEND);
        ck_assert_int_eq(rt_poly_in(server, a, MSG_TYPE_COPY_SEND, &kind), KERN_SUCCESS);
        ck_assert_int_eq(kind, MSG_TYPE_PORT_SEND);
        ck_assert_int_eq(rt_poly_in(server, a, MSG_TYPE_MAKE_SEND_ONCE, &kind), KERN_SUCCESS);
        ck_assert_int_eq(kind, MSG_TYPE_PORT_SEND_ONCE);
        ck_assert_int_eq(rt_poly_in(server, f, MSG_TYPE_MOVE_RECEIVE, &kind), KERN_SUCCESS);
        ck_assert_int_eq(kind, MSG_TYPE_PORT_RECEIVE);
        uint32_t type;
        ck_assert_int_eq(port_type(task_self(), f, &type), KERN_INVALID_NAME);
        /* The server destroyed what it got: only our own send right is left. */
        ck_assert_uint_eq(test_status(a).n_send, 1);
}
END_TEST

START_TEST(test_port_arrays) {
        port_t p[3] = { port_with_send(), port_with_send(), port_with_send() };
        mach_port_t *back = NULL;
        mach_msg_type_number_t backCnt = 0;
        ck_assert_int_eq(rt_port_array(server, p, 3, &back, &backCnt), KERN_SUCCESS);
        ck_assert_uint_eq(backCnt, 3);
        for (int i = 0; i < 3; i++) {
                ck_assert_uint_eq(back[i], p[i]);
                ck_assert_uint_eq(send_refs(p[i]), 2);  /* ours, and the one moved back */
        }
        ck_assert_int_eq(vm_deallocate(task_self(), (vm_address_t)back, backCnt * 4), KERN_SUCCESS);
        ck_assert_int_eq(rt_port_array(server, p, 0, &back, &backCnt), KERN_SUCCESS);
        ck_assert_uint_eq(backCnt, 0);
        static mach_port_t many[1025];
        ck_assert_int_eq(rt_port_array(server, many, 1025, &back, &backCnt), MIG_ARRAY_TOO_LARGE);
}
END_TEST

START_TEST(test_server_codes) {
        ck_assert_int_eq(rt_fail(server, KERN_INVALID_ARGUMENT), KERN_INVALID_ARGUMENT);
        ck_assert_int_eq(rt_fail(server, 0x1234), 0x1234);
        ck_assert_int_eq(rt_fail(server, KERN_SUCCESS), KERN_SUCCESS);
        ck_assert_str_eq(machipc_strerror(MIG_SERVER_DIED), "mig: the server died before answering");
}
END_TEST

START_TEST(test_simpleroutine) {
        for (int i = 5; i <= 7; i++)
                ck_assert_int_eq(rt_note(server, i), KERN_SUCCESS);
        int32_t value = 0, notes = 0;
        ck_assert_int_eq(rt_last_note(server, &value, &notes), KERN_SUCCESS);
        ck_assert_int_eq(value, 7);
        ck_assert_int_eq(notes, 3);
}
END_TEST

/* A caller of later in a task of its own: exit 0 if it got what @arg says. */
static int call_later(void *arg) {
        kern_return_t want = *(kern_return_t *)arg;
        port_t s;
        if (netname_look_up(PORT_NULL, NULL, "mig-rt", &s) != NETNAME_SUCCESS)
                return 2;
        int32_t doubled = 0;
        kern_return_t kr = rt_later(s, 21, &doubled);
        if (kr != want)
                return 3;
        return kr != KERN_SUCCESS || doubled == 42 ? 0 : 4;
}

static void wait_pending(int32_t n) {
        uint64_t deadline = test_now_ms() + 10000;
        int32_t ins, dtors, pending = -1;
        for (;;) {
                ck_assert_int_eq(rt_stats(server, &ins, &dtors, &pending), KERN_SUCCESS);
                if (pending == n || test_now_ms() > deadline)
                        break;
                usleep(1000);
        }
        ck_assert_int_eq(pending, n);
}

START_TEST(test_deferred_reply) {
        kern_return_t ok = KERN_SUCCESS, died = MIG_SERVER_DIED;
        pid_t c = test_fork(call_later, &ok);
        wait_pending(1);
        ck_assert_int_eq(rt_release(server, FALSE), KERN_SUCCESS);
        ck_assert_int_eq(test_wait(c), 0);
        /* The reply right destroyed instead: the caller learns the server will not answer. */
        c = test_fork(call_later, &died);
        wait_pending(1);
        ck_assert_int_eq(rt_release(server, TRUE), KERN_SUCCESS);
        ck_assert_int_eq(test_wait(c), 0);
        wait_pending(0);
}
END_TEST

START_TEST(test_seqno) {
        mach_port_seqno_t a = 0, b = 0;
        ck_assert_int_eq(rt_seqno(server, &a), KERN_SUCCESS);
        ck_assert_int_eq(rt_seqno(server, &b), KERN_SUCCESS);
        ck_assert_uint_eq(b, a + 1);
}
END_TEST

START_TEST(test_waittime) {
        ck_assert_int_eq(rt_sleepy(server, 20, 300), RCV_TIMED_OUT);
        /* The late answer is not taken for the next call's. */
        int64_t sum;
        double half;
        boolean_t not_e;
        char next;
        ck_assert_int_eq(rt_scalars(server, 1, 2, 3, 4, TRUE, 'a', 2.0, &sum, &half, &not_e, &next), KERN_SUCCESS);
        ck_assert_int_eq(sum, 10);
        ck_assert_int_eq(rt_sleepy(server, 5000, 1), KERN_SUCCESS);
}
END_TEST

START_TEST(test_server_dies_mid_call) {
        ck_assert_int_eq(rt_die(server), MIG_SERVER_DIED);
        ck_assert_int_eq(test_wait(rt_pid), 128 + SIGKILL);
        rt_pid = 0;
        int32_t v, n;
        ck_assert_int_eq(rt_last_note(server, &v, &n), SEND_INVALID_DEST);
}
END_TEST

START_TEST(test_inout) {
        int32_t x = 41;
        rt_point_t pt = { 1, 2 };
        quad4_t q = { 1, 2, 3, 4 };
        ck_assert_int_eq(rt_inout(server, &x, &pt, q), KERN_SUCCESS);
        ck_assert_int_eq(x, 42);
        ck_assert_int_eq(pt.x, 2);
        ck_assert_int_eq(pt.y, 1);
        ck_assert_int_eq(q[0], 4);
        ck_assert_int_eq(q[3], 1);
}
END_TEST

START_TEST(test_countinout) {
        int32_t v[100];
        mach_msg_type_number_t n = 10;
        ck_assert_int_eq(rt_fill(server, v, &n), KERN_SUCCESS);
        ck_assert_uint_eq(n, 10);
        ck_assert_int_eq(v[9], 81);
        n = 100;        /* more room than the type's 64: the server sends 64 */
        ck_assert_int_eq(rt_fill(server, v, &n), KERN_SUCCESS);
        ck_assert_uint_eq(n, 64);
        ck_assert_int_eq(v[63], 63 * 63);
        n = 0;
        ck_assert_int_eq(rt_fill(server, v, &n), KERN_SUCCESS);
        ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(test_translations) {
        port_t a = port_with_send();
        port_t back = PORT_NULL;
        ck_assert_int_eq(rt_obj(server, a, &back), KERN_SUCCESS);
        ck_assert_uint_eq(back, a);
        ck_assert_uint_eq(send_refs(a), 1);     /* moved there, moved back */
        ck_assert_uint_eq(test_status(a).n_send, 1);
        int32_t ins = 0, dtors = 0, pending = -1;
        ck_assert_int_eq(rt_stats(server, &ins, &dtors, &pending), KERN_SUCCESS);
        ck_assert_int_eq(ins, 1);
        ck_assert_int_eq(dtors, 1);
        ck_assert_int_eq(pending, 0);
}
END_TEST

START_TEST(test_explicit_ports) {
        port_t reply = test_new_port(1);
        int32_t y = 0;
        ck_assert_int_eq(rt_explicit(server, reply, MSG_OPTION_NONE, 14, &y), KERN_SUCCESS);
        ck_assert_int_eq(y, 42);
        ck_assert_uint_eq(test_status(reply).msgcount, 0);
}
END_TEST

/* A request or reply written by hand (mig_put() lays out its items as the stubs do). */
typedef struct {
        union {
                msg_header_t head;
                uint64_t align;
                uint8_t bytes[2048];
        };
} Raw;

static uint8_t *raw_start(Raw *m) {
        memset(m, 0, sizeof(*m));
        return m->bytes + sizeof(msg_header_t);
}

/* Send it (id @id, @end where its items stop) and return the reply's code
 * (a reply must come, and be just a code), or the send's code if the broker
 * refused it. */
static kern_return_t raw_call(Raw *m, uint8_t *end, msg_id_t id) {
        ck_assert_ptr_nonnull(end);
        m->head.msg_size = (msg_size_t)(end - m->bytes);
        m->head.msg_remote_port = server;
        m->head.msg_local_port = PORT_NULL;
        m->head.msg_id = id;
        m->head.msg_bits = MSG_BITS(MSG_TYPE_COPY_SEND, MSG_TYPE_MAKE_SEND_ONCE);
        msg_return_t r = msg_rpc(&m->head, SEND_TIMEOUT | RCV_TIMEOUT, sizeof(*m), 1000, 5000);
        if (r >= SEND_INVALID_DATA && r <= SEND_INVALID_TYPE)
                return r;
        ck_assert_int_eq(r, 0);
        ck_assert_int_eq(m->head.msg_id, id + 100);
        ck_assert_uint_eq(m->head.msg_size, MIG_REPLY_BODY);
        return mig_retcode(&m->head);
}

static uint8_t *put_i32(uint8_t *p, const uint8_t *end, int32_t v) {
        return mig_put(p, end, MSG_TYPE_INTEGER_32, 0, 1, 4, &v);
}

/* A good scalars request, up to item @upto (0..7). */
static uint8_t *scalars_items(Raw *m, int upto) {
        uint8_t *p = raw_start(m), *end = m->bytes + sizeof(m->bytes);
        int8_t a = 1;
        int16_t b = 2;
        int64_t d = 4;
        char f = 'a';
        double g = 1.0;
        boolean_t e = TRUE;
        if (upto > 0)
                p = mig_put(p, end, MSG_TYPE_BYTE, 0, 1, 1, &a);
        if (upto > 1)
                p = mig_put(p, end, MSG_TYPE_INTEGER_16, 0, 1, 2, &b);
        if (upto > 2)
                p = put_i32(p, end, 3);
        if (upto > 3)
                p = mig_put(p, end, MSG_TYPE_INTEGER_64, 0, 1, 8, &d);
        if (upto > 4)
                p = mig_put(p, end, MSG_TYPE_INTEGER_32, 0, 1, 4, &e);
        if (upto > 5)
                p = mig_put(p, end, MSG_TYPE_CHAR, 0, 1, 1, &f);
        if (upto > 6)
                p = mig_put(p, end, MSG_TYPE_REAL_64, 0, 1, 8, &g);
        return p;
}

START_TEST(test_bad_requests) {
        Raw m;
        uint8_t *end = m.bytes + sizeof(m.bytes), *p;
        /* Ids the server has no routine for: below, the skipped one, past the end, far off. */
        static const msg_id_t ids[] = { 6999, 7020, 7023, 8000 };
        for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
                ck_assert_int_eq(raw_call(&m, scalars_items(&m, 7), ids[i]), MIG_BAD_ID);
        /* Short: items missing, or none. */
        for (int upto = 0; upto < 7; upto++)
                ck_assert_int_eq(raw_call(&m, scalars_items(&m, upto), 7000), MIG_BAD_ARGUMENTS);
        /* One more item than the routine takes. */
        p = put_i32(scalars_items(&m, 7), end, 9);
        ck_assert_int_eq(raw_call(&m, p, 7000), MIG_BAD_ARGUMENTS);
        /* The wrong type where an int8 (a byte on the wire) goes, and two of it. */
        p = raw_start(&m);
        p = put_i32(p, end, 1);
        ck_assert_int_eq(raw_call(&m, p, 7000), MIG_BAD_ARGUMENTS);
        p = raw_start(&m);
        int8_t two[2] = { 1, 2 };
        p = mig_put(p, end, MSG_TYPE_BYTE, 0, 2, 1, two);
        ck_assert_int_eq(raw_call(&m, p, 7000), MIG_BAD_ARGUMENTS);
        /* A string with no NUL (strings: name, text). */
        p = raw_start(&m);
        p = mig_put(p, end, MSG_TYPE_STRING, 0, 3, 1, "ann");
        p = mig_put(p, end, MSG_TYPE_STRING, 0, 3, 1, "abc");
        ck_assert_int_eq(raw_call(&m, p, 7002), MIG_BAD_ARGUMENTS);
        /* More elements than the type's bound (fill's capacity is fine; arrays' v is not). */
        p = raw_start(&m);
        int32_t q[4] = { 0 }, v[65] = { 0 };
        int64_t pt[2] = { 0 };
        p = mig_put(p, end, MSG_TYPE_INTEGER_32, 0, 4, 4, q);
        p = mig_put(p, end, MSG_TYPE_INTEGER_32, 0, 65, 4, v);
        p = mig_put(p, end, MSG_TYPE_INTEGER_64, 0, 2, 8, pt);
        p = mig_put(p, end, MSG_TYPE_CHAR, 0, 1, 1, "x");
        ck_assert_int_eq(raw_call(&m, p, 7001), MIG_BAD_ARGUMENTS);
        /* A length that runs past the message: the broker refuses it before any server sees it. */
        p = raw_start(&m);
        msg_type_t t;
        msg_type_init(&t, MSG_TYPE_STRING, 1000);
        memcpy(p, &t, sizeof(t));
        ck_assert_int_eq(raw_call(&m, p + sizeof(t) + 8, 7002), SEND_MSG_TOO_SMALL);
        /* The server still answers properly. */
        int64_t sum;
        double half;
        boolean_t not_e;
        char next;
        ck_assert_int_eq(rt_scalars(server, 1, 2, 3, 4, TRUE, 'a', 2.0, &sum, &half, &not_e, &next), KERN_SUCCESS);
        ck_assert_int_eq(sum, 10);
}
END_TEST

START_TEST(test_rejected_requests_give_rights_back) {
        /* Malformed requests that carry a right: each is given back (destroyed by the
         * server), so nothing piles up there. */
        port_t a = test_new_port(1);
        Raw m;
        uint8_t *end = m.bytes + sizeof(m.bytes);
        for (int i = 0; i < 300; i++) {
                uint8_t *p = raw_start(&m);
                port_t right = a;
                p = mig_put(p, end, MSG_TYPE_MAKE_SEND, 0, 1, 4, &right);
                ck_assert_int_eq(raw_call(&m, p, i % 2 ? 7000 : 7999), i % 2 ? MIG_BAD_ARGUMENTS : MIG_BAD_ID);
        }
        ck_assert_uint_eq(test_status(a).n_send, 0);
        /* And a one-way request with nothing to answer to: no reply, no harm. */
        uint8_t *p = raw_start(&m);
        m.head.msg_size = (msg_size_t)(p - m.bytes);
        m.head.msg_remote_port = server;
        m.head.msg_id = 7999;
        m.head.msg_bits = MSG_BITS(MSG_TYPE_COPY_SEND, 0);
        ck_assert_int_eq(msg_send(&m.head, SEND_TIMEOUT, 1000), 0);
        int32_t v, n;
        ck_assert_int_eq(rt_last_note(server, &v, &n), KERN_SUCCESS);
}
END_TEST

/* A fake rt server: answers @n requests on its port with the replies the
 * test asks for, one kind each (see bad_replies below). */
static int fake_server(void *arg) {
        int n = *(int *)arg;
        port_t p, q_port;
        if (port_allocate(task_self(), &p) != 0 || port_allocate(task_self(), &q_port) != 0 ||
            netname_check_in(PORT_NULL, "mig-fake", p, p) != NETNAME_SUCCESS)
                return 2;
        for (int i = 0; i < n; i++) {
                Raw m;
                memset(&m, 0, sizeof(m));
                m.head.msg_size = sizeof(m);
                m.head.msg_local_port = p;
                if (msg_receive(&m.head, RCV_TIMEOUT, 10000) != 0)
                        return 3;
                port_t reply = m.head.msg_remote_port;
                msg_id_t id = m.head.msg_id + 100;
                uint8_t *q = m.bytes + sizeof(msg_header_t), *end = m.bytes + sizeof(m.bytes);
                port_t other = q_port;
                int64_t sum = 10;
                double half = 1;
                boolean_t not_e = FALSE;
                char next = 'b';
                switch (i) {
                case 0:         /* the wrong id */
                        id += 1;
                        q = put_i32(q, end, KERN_SUCCESS);
                        break;
                case 1:         /* the code alone, the out-arguments missing */
                        q = put_i32(q, end, KERN_SUCCESS);
                        break;
                case 2:         /* an error code and something after it */
                        q = put_i32(q, end, KERN_INVALID_ARGUMENT);
                        q = put_i32(q, end, 0);
                        break;
                case 3:         /* a right where a number goes: the stub gives it up */
                        q = put_i32(q, end, KERN_SUCCESS);
                        q = mig_put(q, end, MSG_TYPE_MAKE_SEND, 0, 1, 4, &other);
                        break;
                case 4:         /* right */
                case 5:
                        q = put_i32(q, end, KERN_SUCCESS);
                        q = mig_put(q, end, MSG_TYPE_INTEGER_64, 0, 1, 8, &sum);
                        q = mig_put(q, end, MSG_TYPE_REAL_64, 0, 1, 8, &half);
                        q = mig_put(q, end, MSG_TYPE_INTEGER_32, 0, 1, 4, &not_e);
                        q = mig_put(q, end, MSG_TYPE_CHAR, 0, 1, 1, &next);
                        if (i == 5)     /* ... with a byte too many */
                                q = mig_put(q, end, MSG_TYPE_CHAR, 0, 1, 1, &next);
                        break;
                case 6:         /* strings: a reply string without its NUL */
                        q = put_i32(q, end, KERN_SUCCESS);
                        q = mig_put(q, end, MSG_TYPE_STRING, 0, 2, 1, "AB");
                        q = mig_put(q, end, MSG_TYPE_STRING, 0, 3, 1, "hi");
                        break;
                default:        /* no answer at all: the reply right goes unused */
                        port_deallocate(task_self(), reply);
                        continue;
                }
                m.head.msg_size = (msg_size_t)(q - m.bytes);
                m.head.msg_bits = MSG_BITS(MSG_TYPE_MOVE_SEND_ONCE, 0);
                m.head.msg_remote_port = reply;
                m.head.msg_local_port = PORT_NULL;
                m.head.msg_id = id;
                if (msg_send(&m.head, SEND_TIMEOUT, 1000) != 0)
                        return 4;
        }
        /* The right the stub was sent in case 3 is gone again. */
        port_status_t st;
        if (port_status(task_self(), q_port, &st) != 0 || st.n_send != 0)
                return 5;
        return 0;
}

START_TEST(test_bad_replies) {
        int n = 8;
        pid_t c = test_fork(fake_server, &n);
        port_t fake = PORT_NULL;
        uint64_t deadline = test_now_ms() + 10000;
        while (netname_look_up(PORT_NULL, NULL, "mig-fake", &fake) != NETNAME_SUCCESS && test_now_ms() < deadline)
                usleep(1000);
        ck_assert_uint_ne(fake, PORT_NULL);
        int64_t sum = 0;
        double half;
        boolean_t not_e;
        char next;
        ck_assert_int_eq(rt_scalars(fake, 1, 2, 3, 4, TRUE, 'a', 2.0, &sum, &half, &not_e, &next), MIG_REPLY_MISMATCH);
        ck_assert_int_eq(rt_scalars(fake, 1, 2, 3, 4, TRUE, 'a', 2.0, &sum, &half, &not_e, &next), MIG_TYPE_ERROR);
        ck_assert_int_eq(rt_scalars(fake, 1, 2, 3, 4, TRUE, 'a', 2.0, &sum, &half, &not_e, &next), MIG_TYPE_ERROR);
        ck_assert_int_eq(rt_scalars(fake, 1, 2, 3, 4, TRUE, 'a', 2.0, &sum, &half, &not_e, &next), MIG_TYPE_ERROR);
        ck_assert_int_eq(rt_scalars(fake, 1, 2, 3, 4, TRUE, 'a', 2.0, &sum, &half, &not_e, &next), KERN_SUCCESS);
        ck_assert_int_eq(sum, 10);
        ck_assert_int_eq(rt_scalars(fake, 1, 2, 3, 4, TRUE, 'a', 2.0, &sum, &half, &not_e, &next), MIG_TYPE_ERROR);
        char upper[512], greeting[32];
        ck_assert_int_eq(rt_strings(fake, "a", "b", upper, greeting), MIG_TYPE_ERROR);
        ck_assert_int_eq(rt_scalars(fake, 1, 2, 3, 4, TRUE, 'a', 2.0, &sum, &half, &not_e, &next), MIG_SERVER_DIED);
        ck_assert_int_eq(test_wait(c), 0);
}
END_TEST

int main(void) {
        Suite *s = suite_create("MIG round trip");
        TCase *tc = tcase_create("roundtrip");
        tcase_add_checked_fixture(tc, rt_setup, rt_teardown);
        tcase_set_timeout(tc, 60);
        ADD_TEST(tc, test_scalars);
        ADD_TEST(tc, test_arrays);
        ADD_TEST(tc, test_strings);
        ADD_TEST(tc, test_out_of_line);
        ADD_TEST(tc, test_give_rights);
        ADD_TEST(tc, test_take_rights);
        ADD_TEST(tc, test_polymorphic);
        ADD_TEST(tc, test_port_arrays);
        ADD_TEST(tc, test_server_codes);
        ADD_TEST(tc, test_simpleroutine);
        ADD_TEST(tc, test_deferred_reply);
        ADD_TEST(tc, test_seqno);
        ADD_TEST(tc, test_waittime);
        ADD_TEST(tc, test_server_dies_mid_call);
        ADD_TEST(tc, test_inout);
        ADD_TEST(tc, test_countinout);
        ADD_TEST(tc, test_translations);
        ADD_TEST(tc, test_explicit_ports);
        ADD_TEST(tc, test_bad_requests);
        ADD_TEST(tc, test_rejected_requests_give_rights_back);
        ADD_TEST(tc, test_bad_replies);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
