/* SPDX-License-Identifier: MIT */
/*
 * random-ops.c - tasks doing random sequences of port operations, handed-ahead
 * receives among them, against a broker of its own
 *
 *   random-ops [--seeds N] [--steps N]
 *
 * Each seed is a task that, step after step, picks at random one of:
 * allocate a port or a set, arm or disarm one, send one of its ports a
 * message carrying rights of every disposition (its own ports' receive and
 * send rights, send-once rights, dead names), receive (and destroy what came,
 * or keep it), dispatch, deallocate, change references, move ports between
 * sets, ask for notifications — the API used as a program may, in any order.
 * It fails unless every task ends its steps without losing its connection
 * (the broker drops a task only for breaking the protocol, which the library
 * must never do), the broker is alive, and the broker's ports are back where
 * they were once the tasks are gone (doc/security.md).
 */

#include <check.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "broker.h"
#include "tasks.h"

#define NAMES_MAX 40

typedef struct {
        port_t *names;
        port_type_t *types;
        uint32_t n;
} Names;

static port_t mine[16];        /* the library's own names (kernel, notify, reply ports): left alone */
static uint32_t n_mine;
static unsigned rng;

static unsigned next(void) {
        rng = rng * 1103515245u + 12345u;
        return (rng >> 16) & 0x7fff;
}

/* A name of ours holding one of the @want rights, chosen at random, or PORT_NULL. */
static port_t pick(const Names *ns, port_type_t want) {
        uint32_t c = 0, k;
        for (uint32_t i = 0; i < ns->n; i++)
                c += (ns->types[i] & want) != 0;
        if (!c)
                return PORT_NULL;
        k = next() % c;
        for (uint32_t i = 0; i < ns->n; i++)
                if ((ns->types[i] & want) && k-- == 0)
                        return ns->names[i];
        return PORT_NULL;
}

static bool names_of(Names *ns) {
        kern_return_t kr = port_names(task_self(), &ns->names, &ns->types, &ns->n);
        if (kr != KERN_SUCCESS) {
                fprintf(stderr, "random-ops: port_names: %s\n", machipc_strerror(kr));
                return false;
        }
        for (uint32_t i = 0; i < ns->n; i++)
                for (uint32_t j = 0; j < n_mine; j++)
                        if (ns->names[i] == mine[j])
                                ns->types[i] = 0;
        return true;
}

/* A message to @dest (a receive right of ours) carrying up to three rights of one disposition. */
static msg_return_t send_rights(const Names *ns, port_t dest) {
        static const uint16_t disps[] = { MSG_TYPE_MAKE_SEND, MSG_TYPE_MAKE_SEND_ONCE, MSG_TYPE_MOVE_RECEIVE,
                                          MSG_TYPE_COPY_SEND, MSG_TYPE_MOVE_SEND, MSG_TYPE_MOVE_SEND_ONCE };
        struct {
                msg_header_t h;
                msg_type_t t;
                port_t r[4];
        } m;
        memset(&m, 0, sizeof(m));
        uint16_t d = disps[next() % 6];
        port_t x = d == MSG_TYPE_COPY_SEND || d == MSG_TYPE_MOVE_SEND ? pick(ns, PORT_TYPE_SEND)
                 : d == MSG_TYPE_MOVE_SEND_ONCE ? pick(ns, PORT_TYPE_SEND_ONCE) : pick(ns, PORT_TYPE_RECEIVE);
        uint32_t n = d == MSG_TYPE_MOVE_RECEIVE ? 1 : next() % 3 + 1;
        for (uint32_t i = 0; i < n; i++)
                m.r[i] = next() % 5 == 0 ? PORT_DEAD : x;
        m.t = (msg_type_t){ d, 0, n };
        m.h.msg_size = (msg_size_t)(sizeof(msg_header_t) + MSG_ITEM_SIZE(4 * n));
        m.h.msg_remote_port = dest;
        port_t reply = next() % 3 == 0 ? pick(ns, PORT_TYPE_RECEIVE) : PORT_NULL;
        m.h.msg_bits = MSG_BITS(MSG_TYPE_MAKE_SEND, reply ? MSG_TYPE_MAKE_SEND_ONCE : 0);
        m.h.msg_local_port = reply;
        return msg_send(&m.h, SEND_TIMEOUT, 0);
}

/* One task: @steps random operations; 0, or the step at which the connection was lost (+1). */
static int run(unsigned seed, int steps) {
        static union {
                msg_header_t h;
                uint8_t b[MSG_SIZE_MAX];
        } m;
        rng = seed;
        Names ns;
        if (!names_of(&ns))
                return 1;
        for (uint32_t i = 0; i < ns.n && n_mine < 16; i++)
                mine[n_mine++] = ns.names[i];
        free(ns.names);
        free(ns.types);
        for (int s = 0; s < steps; s++) {
                if (!names_of(&ns))
                        return s + 2;
                port_t rcv = pick(&ns, PORT_TYPE_RECEIVE), set = pick(&ns, PORT_TYPE_PORT_SET), p;
                port_t either = next() % 2 && set ? set : rcv;
                int r = 0;
                switch (next() % 16) {
                case 0:
                case 1:
                        if (ns.n < NAMES_MAX)
                                r = port_allocate(task_self(), &p);
                        break;
                case 2:
                        if (either)
                                r = machipc_arm(either);
                        break;
                case 3:
                        if (either)
                                r = machipc_disarm(either);
                        break;
                case 4:
                case 5:
                case 6:
                        if (rcv)
                                r = send_rights(&ns, rcv);
                        break;
                case 7:
                case 8:
                        if (!either)
                                break;
                        m.h.msg_size = sizeof(m);
                        m.h.msg_local_port = either;
                        r = msg_receive(&m.h, RCV_TIMEOUT, 0);
                        if (r == 0 && next() % 2)
                                msg_destroy(&m.h);
                        break;
                case 9:
                        r = machipc_dispatch();
                        break;
                case 10:
                        p = pick(&ns, ~0u);
                        if (p)
                                r = port_deallocate(task_self(), p);
                        break;
                case 11:
                        if ((p = pick(&ns, PORT_TYPE_SEND)))
                                r = port_mod_refs(task_self(), p, PORT_RIGHT_SEND, next() % 2 ? 1 : -1);
                        else if (rcv)
                                r = port_mod_refs(task_self(), rcv, PORT_RIGHT_RECEIVE, -1);
                        break;
                case 12:
                        if (ns.n < NAMES_MAX && next() % 3 == 0)
                                r = port_set_allocate(task_self(), &p);
                        else if (set && rcv)
                                r = port_set_add(task_self(), set, rcv);
                        break;
                case 13:
                        if (rcv)
                                r = port_set_remove(task_self(), rcv);
                        break;
                case 14:
                        if (rcv)
                                r = port_request_notification(task_self(), rcv, NOTIFY_NO_SENDERS, next() % 2,
                                                              pick(&ns, PORT_TYPE_RECEIVE));
                        else if ((p = pick(&ns, PORT_TYPE_SEND)))
                                r = port_request_notification(task_self(), p, NOTIFY_DEAD_NAME, 0, PORT_NULL);
                        break;
                case 15:
                        if (rcv && (p = pick(&ns, PORT_TYPE_RECEIVE)))
                                r = port_request_notification(task_self(), rcv, NOTIFY_PORT_DESTROYED, 0, p);
                        break;
                }
                free(ns.names);
                free(ns.types);
                /* Mach's codes are positive: only a lost connection (or worse) is negative. */
                if (r < 0) {
                        fprintf(stderr, "random-ops: seed %u step %d: %s\n", seed, s, machipc_strerror(r));
                        return s + 2;
                }
        }
        return 0;
}

static int steps_of_each;

static int task_main(void *arg) {
        int r = run((unsigned)(uintptr_t)arg, steps_of_each);
        return r > 125 ? 125 : r;
}

static int seeds = 40;

START_TEST(test_random_ops) {
        TestBroker b;
        test_broker_spawn(&b, NULL);
        unsigned long long ports = test_stat(0, "ports");
        int failed = 0;
        for (int seed = 1; seed <= seeds; seed++) {
                int st = test_wait(test_fork(task_main, (void *)(uintptr_t)seed));
                if (st != 0) {
                        fprintf(stderr, "random-ops: seed %d: exit %d\n", seed, st);
                        failed++;
                }
        }
        /* The tasks are gone: everything they made goes with them (freed as the broker settles). */
        uint64_t deadline = test_now_ms() + 10000;
        while (test_stat(0, "ports") != ports && test_now_ms() < deadline)
                usleep(10000);
        unsigned long long after = test_stat(0, "ports");
        printf("random-ops: %d tasks of %d steps, %d lost their connection; broker ports %llu before, %llu after\n",
               seeds, steps_of_each, failed, ports, after);
        ck_assert_int_eq(failed, 0);
        ck_assert_uint_eq(after, ports);
        test_broker_terminate(&b);
}
END_TEST

int main(int argc, char **argv) {
        static const struct option opts[] = {
                { "seeds", required_argument, NULL, 's' },
                { "steps", required_argument, NULL, 'n' },
                {}
        };
        int c;
        steps_of_each = 3000;
        while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0) {
                if (c == 's')
                        seeds = atoi(optarg);
                else if (c == 'n')
                        steps_of_each = atoi(optarg);
                else
                        return 2;
        }
        Suite *s = suite_create("Random port operations");
        TCase *tc = tcase_create("random-ops");
        tcase_set_timeout(tc, 170);
        tcase_add_test(tc, test_random_ops);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int nfailed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return nfailed ? 1 : 0;
}
