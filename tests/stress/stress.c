/* SPDX-License-Identifier: MIT */
/*
 * stress.c - tasks making RPCs and one-way sends while random tasks are SIGKILLed
 *
 *   stress [--seconds N] [--pairs N] [--kill-ms N]
 *
 * Runs its own broker.  Pairs of tasks (a client and a server) exchange RPCs
 * and numbered one-way messages, every call with a 5 s timeout.  Every
 * --kill-ms a random task is SIGKILLed and a new pair takes its place.  At
 * the end every task is stopped and the figures printed.  It fails unless:
 * the broker is alive; its descriptors, tasks and ports are back where they
 * were; every pair that survived received every one-way message the broker
 * accepted for it, and every server saw its messages in order; no call took
 * longer than its timeout.
 */

#include <check.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "broker.h"

enum { ID_HELLO = 1, ID_RPC, ID_ONEWAY, ID_STOP, ID_PEER };
#define CALL_TIMEOUT_MS 5000

typedef struct {
        pid_t pid;
        int report;             /* read end of its report pipe */
        int pair;
        bool server;
        bool alive;
        port_t port;            /* its port (server: service; client: control) */
        char line[128];
} Task;

static Task *tasks;
static int n_tasks, cap_tasks;

static uint64_t now_ms(void) {
        return test_now_ms();
}

static void report(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report(int fd, const char *fmt, ...) {
        char buf[128];
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        if (write(fd, buf, (size_t)n) < 0)
                _exit(99);
}

static int server_main(int pair, int out) {
        port_t boot = test_bootstrap_lookup(), svc;
        if (port_allocate(task_self(), &svc) || port_set_backlog(task_self(), svc, 64))
                return 1;
        if (test_send_int(boot, ID_HELLO, pair * 2, svc, MSG_TYPE_MAKE_SEND, 0, 0))
                return 2;
        int64_t received = 0, disorder = 0;
        int32_t expect = 0;
        for (;;) {
                TestIntMsg m;
                memset(&m, 0, sizeof(m));
                m.head.msg_size = sizeof(m);
                m.head.msg_local_port = svc;
                msg_return_t r = msg_receive(&m.head, 0, 0);
                if (r)
                        return 3;
                if (m.head.msg_id == ID_STOP)
                        break;
                if (m.head.msg_id == ID_ONEWAY) {
                        if (m.value != expect)
                                disorder++;
                        expect = m.value + 1;
                        received++;
                } else if (m.head.msg_id == ID_RPC) {
                        port_t reply = m.head.msg_remote_port;
                        memset(&m.head, 0, sizeof(m.head));
                        m.value++;
                        m.head.msg_size = sizeof(msg_header_t) + MSG_ITEM_SIZE(4);
                        m.head.msg_remote_port = reply;
                        m.head.msg_id = ID_RPC + 100;
                        r = msg_send(&m.head, SEND_TIMEOUT, CALL_TIMEOUT_MS);
                        if (r == SEND_INVALID_DEST)
                                port_deallocate(task_self(), reply);    /* the client died */
                }
        }
        report(out, "server %d received %lld disorder %lld\n", pair, (long long)received,
               (long long)disorder);
        return 0;
}

static int client_main(int pair, int out) {
        port_t boot = test_bootstrap_lookup(), ctl, svc = PORT_NULL;
        if (port_allocate(task_self(), &ctl))
                return 1;
        if (test_send_int(boot, ID_HELLO, pair * 2 + 1, ctl, MSG_TYPE_MAKE_SEND, 0, 0))
                return 2;
        if (test_recv_int(ctl, NULL, NULL, &svc, 0, 0) || svc == PORT_NULL)
                return 3;
        int64_t accepted = 0, rpcs = 0, max_ms = 0;
        const char *end = "stopped";
        for (int32_t i = 0;; i++) {
                if ((i & 15) == 0) {
                        int32_t id;
                        if (test_recv_int(ctl, &id, NULL, NULL, RCV_TIMEOUT, 0) == 0 && id == ID_STOP)
                                break;
                }
                uint64_t t0 = now_ms();
                TestIntMsg m;
                memset(&m, 0, sizeof(m));
                msg_type_init(&m.t, MSG_TYPE_INTEGER_32, 1);
                m.value = i;
                m.head.msg_size = sizeof(msg_header_t) + MSG_ITEM_SIZE(4);
                m.head.msg_remote_port = svc;
                m.head.msg_id = ID_RPC;
                msg_return_t r = msg_rpc(&m.head, SEND_TIMEOUT | RCV_TIMEOUT, sizeof(m), CALL_TIMEOUT_MS,
                                         CALL_TIMEOUT_MS);
                uint64_t dt = now_ms() - t0;
                if ((int64_t)dt > max_ms)
                        max_ms = (int64_t)dt;
                if (r == 0 && m.value == i + 1)
                        rpcs++;
                else if (r == RCV_SERVER_DIED || r == SEND_INVALID_DEST) {
                        end = "server-died";
                        break;
                } else if (r != RCV_TIMED_OUT && r != SEND_TIMED_OUT) {
                        end = "error";
                        break;
                }
                t0 = now_ms();
                r = test_send_int(svc, ID_ONEWAY, (int32_t)accepted, 0, 0, SEND_TIMEOUT, CALL_TIMEOUT_MS);
                dt = now_ms() - t0;
                if ((int64_t)dt > max_ms)
                        max_ms = (int64_t)dt;
                if (r == 0)
                        accepted++;
                else if (r == SEND_INVALID_DEST) {
                        end = "server-died";
                        break;
                }
        }
        report(out, "client %d accepted %lld rpcs %lld max_ms %lld end %s\n", pair, (long long)accepted,
               (long long)rpcs, (long long)max_ms, end);
        return 0;
}

static void spawn(int pair, bool server) {
        int fds[2];
        ck_assert_int_eq(pipe(fds), 0);
        fflush(NULL);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                close(fds[0]);
                int r = server ? server_main(pair, fds[1]) : client_main(pair, fds[1]);
                machipc_disconnect();
                _exit(r);
        }
        close(fds[1]);
        if (n_tasks == cap_tasks) {
                cap_tasks = cap_tasks ? cap_tasks * 2 : 64;
                tasks = realloc(tasks, (size_t)cap_tasks * sizeof(*tasks));
        }
        tasks[n_tasks++] = (Task){ .pid = pid, .report = fds[0], .pair = pair, .server = server, .alive = true };
}

static Task *find(int pair, bool server) {
        for (int i = n_tasks - 1; i >= 0; i--)
                if (tasks[i].pair == pair && tasks[i].server == server)
                        return &tasks[i];
        return NULL;
}

/* Start a pair and introduce the client to the server. */
static void start_pair(port_t boot, int pair) {
        spawn(pair, true);
        spawn(pair, false);
        for (int got = 0; got < 2;) {
                int32_t id, who;
                port_t p;
                ck_assert_int_eq(test_recv_int(boot, &id, &who, &p, RCV_TIMEOUT, 10000), 0);
                ck_assert_int_eq(id, ID_HELLO);
                Task *t = find(who / 2, who % 2 == 0);
                ck_assert_ptr_nonnull(t);
                t->port = p;
                got += who / 2 == pair;
                if (who / 2 != pair)
                        ck_abort_msg("a hello from an old pair");
        }
        ck_assert_int_eq(test_send_int(find(pair, false)->port, ID_PEER, 0, find(pair, true)->port,
                                       MSG_TYPE_COPY_SEND, 0, 0), 0);
}

static void reap(Task *t) {
        int st;
        waitpid(t->pid, &st, 0);
        ssize_t n = read(t->report, t->line, sizeof(t->line) - 1);
        t->line[n > 0 ? n : 0] = '\0';
        close(t->report);
        t->alive = false;
}

static unsigned long long info_value(const char *key) {
        char *text = NULL;
        ck_assert_int_eq(machipc_broker_info(&text, NULL), 0);
        char *at = strstr(text, key);
        ck_assert_ptr_nonnull(at);
        unsigned long long v = strtoull(at + strlen(key), NULL, 10);
        free(text);
        return v;
}

static int seconds = 5, pairs = 25, kill_ms = 200;

START_TEST(test_stress) {
        srand((unsigned)time(NULL));
        TestBroker b;
        test_broker_spawn(&b, (const char *const[]){ "--max-tasks=4096", NULL });
        ck_assert_int_eq(machipc_connect(b.path), 0);
        port_t boot = test_bootstrap_serve();
        int base_fds = test_count_fds(b.pid);
        unsigned long long base_ports = info_value(" ports ");

        int next_pair = 0, kills = 0;
        for (; next_pair < pairs; next_pair++)
                start_pair(boot, next_pair);
        uint64_t end = now_ms() + (uint64_t)seconds * 1000, next_kill = now_ms() + (uint64_t)kill_ms;
        while (now_ms() < end) {
                if (now_ms() < next_kill) {
                        usleep(10000);
                        continue;
                }
                next_kill += (uint64_t)kill_ms;
                int alive = 0;
                for (int i = 0; i < n_tasks; i++)
                        alive += tasks[i].alive;
                int pick = rand() % alive;
                for (int i = 0; i < n_tasks; i++) {
                        if (!tasks[i].alive || pick--)
                                continue;
                        int pair = tasks[i].pair;
                        kill(tasks[i].pid, SIGKILL);
                        reap(&tasks[i]);
                        kills++;
                        /* Its partner ends too: a client sees its server die; a server
                         * whose client died is told to stop. */
                        Task *partner = find(pair, !tasks[i].server);
                        if (partner->alive && partner->server)
                                test_send_int(partner->port, ID_STOP, 0, 0, 0, SEND_TIMEOUT, 1000);
                        reap(partner);
                        start_pair(boot, next_pair++);
                        break;
                }
        }
        /* Stop the survivors: clients first, then their servers. */
        for (int i = 0; i < n_tasks; i++)
                if (tasks[i].alive && !tasks[i].server)
                        ck_assert_int_eq(test_send_int(tasks[i].port, ID_STOP, 0, 0, 0, 0, 0), 0);
        for (int i = 0; i < n_tasks; i++)
                if (tasks[i].alive && !tasks[i].server)
                        reap(&tasks[i]);
        for (int i = 0; i < n_tasks; i++)
                if (tasks[i].alive && tasks[i].server) {
                        test_send_int(tasks[i].port, ID_STOP, 0, 0, 0, SEND_TIMEOUT, 1000);
                        reap(&tasks[i]);
                }

        /* Our rights to the tasks' ports are dead names now: give them back. */
        for (int i = 0; i < n_tasks; i++)
                if (tasks[i].port)
                        port_deallocate(task_self(), tasks[i].port);

        long long total_accepted = 0, total_rpcs = 0, worst_ms = 0;
        int checked = 0, failures = 0;
        for (int p = 0; p < next_pair; p++) {
                Task *s = find(p, true), *cl = find(p, false);
                long long acc = -1, rpcs = 0, max_ms = 0, rec = -1, dis = 0;
                char endw[32] = "";
                sscanf(cl->line, "client %*d accepted %lld rpcs %lld max_ms %lld end %31s", &acc, &rpcs,
                       &max_ms, endw);
                sscanf(s->line, "server %*d received %lld disorder %lld", &rec, &dis);
                if (acc >= 0) {
                        total_accepted += acc;
                        total_rpcs += rpcs;
                        if (max_ms > worst_ms)
                                worst_ms = max_ms;
                }
                if (dis > 0) {
                        printf("pair %d: server saw %lld messages out of order\n", p, dis);
                        failures++;
                }
                if (acc >= 0 && rec >= 0 && strcmp(endw, "stopped") == 0) {
                        checked++;
                        if (acc != rec) {
                                printf("pair %d: %lld accepted, %lld received\n", p, acc, rec);
                                failures++;
                        }
                }
        }
        if (worst_ms > CALL_TIMEOUT_MS + 1000) {
                printf("a call took %lld ms, past its %d ms timeout\n", worst_ms, CALL_TIMEOUT_MS);
                failures++;
        }
        /* The broker is back where it started. */
        ck_assert_int_eq(kill(b.pid, 0), 0);
        uint64_t deadline = now_ms() + 10000;
        int fds;
        while ((fds = test_count_fds(b.pid)) > base_fds && now_ms() < deadline)
                usleep(1000);
        unsigned long long tasks_now = info_value(" tasks "), ports_now = info_value(" ports ");
        printf("stress: %d s, %d pairs started, %d tasks killed, %lld RPCs, %lld one-way messages accepted, "
               "%d surviving pairs checked, slowest call %lld ms\n",
               seconds, next_pair, kills, total_rpcs, total_accepted, checked, worst_ms);
        printf("broker: fds %d (start %d), tasks %llu (start 1), ports %llu (start %llu)\n", fds, base_fds,
               tasks_now, ports_now, base_ports);
        if (fds > base_fds || tasks_now != 1 || ports_now != base_ports)
                failures++;
        if (checked == 0)
                failures++;
        fflush(stdout);
        test_broker_terminate(&b);
        free(tasks);
        ck_assert_msg(failures == 0, "%d checks failed (see above)", failures);
}
END_TEST

int main(int argc, char **argv) {
        static const struct option opts[] = {
                { "seconds", required_argument, NULL, 's' },
                { "pairs", required_argument, NULL, 'p' },
                { "kill-ms", required_argument, NULL, 'k' },
                {}
        };
        int c;
        while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0) {
                if (c == 's')
                        seconds = atoi(optarg);
                else if (c == 'p')
                        pairs = atoi(optarg);
                else if (c == 'k')
                        kill_ms = atoi(optarg);
                else
                        return 2;
        }
        Suite *s = suite_create("Fault and stress");
        TCase *tc = tcase_create("stress");
        tcase_set_timeout(tc, seconds + 120);
        tcase_add_test(tc, test_stress);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? 1 : 0;
}
