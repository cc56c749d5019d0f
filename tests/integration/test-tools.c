/* SPDX-License-Identifier: MIT */
/* test-tools.c - machipcctl against a known state; the demos; the echo server's event-loop mode */

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "fixture.h"

static int ctl(const char *args, char *out, size_t size) {
        char cmd[512];
        snprintf(cmd, sizeof(cmd), "%s %s", getenv("MACHIPC_TEST_MACHIPCCTL"), args);
        return test_run_capture(cmd, out, size);
}

/*
 * The ports table's row of @owner's port @name, split into words: PORT,
 * RECEIVER (task, command), SERVICE, NAME, KIND, QUEUED, BACKLOG, SEND, ...
 */
static int find_row(char *table, unsigned owner, port_t name, char *cols[16]) {
        char want_owner[16], want_name[16];
        snprintf(want_owner, sizeof(want_owner), "%u", owner);
        snprintf(want_name, sizeof(want_name), "%#x", name);
        char *save = NULL;
        for (char *line = strtok_r(table, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                int n = 0;
                char *s2 = NULL;
                for (char *w = strtok_r(line, " ", &s2); w && n < 16; w = strtok_r(NULL, " ", &s2))
                        cols[n++] = w;
                if (n >= 13 && strcmp(cols[1], want_owner) == 0 && strcmp(cols[4], want_name) == 0)
                        return n;
        }
        return 0;
}

START_TEST(test_machipcctl_known_state) {
        port_t p, set, q;
        ck_assert_int_eq(port_allocate(task_self(), &p), 0);
        ck_assert_int_eq(port_set_backlog(task_self(), p, 5), 0);
        for (int i = 0; i < 2; i++)
                ck_assert_int_eq(test_send_int(p, 1, i, 0, 0, 0, 0), 0);
        ck_assert_int_eq(port_set_allocate(task_self(), &set), 0);
        ck_assert_int_eq(port_allocate(task_self(), &q), 0);
        ck_assert_int_eq(port_set_add(task_self(), set, q), 0);
        unsigned me = machipc_task_id();
        static char out[1 << 16];
        char *cols[16];

        ck_assert_int_eq(ctl("ports", out, sizeof(out)), 0);
        ck_assert_ptr_nonnull(strstr(out, "QUEUED"));
        ck_assert_int_ge(find_row(out, me, p, cols), 13);
        char comm[64] = "";
        FILE *f = fopen("/proc/self/comm", "r");
        ck_assert_ptr_nonnull(f);
        ck_assert_ptr_nonnull(fgets(comm, sizeof(comm), f));
        fclose(f);
        comm[strcspn(comm, "\n")] = '\0';
        ck_assert_str_eq(cols[2], comm);                /* the receiver's command */
        ck_assert_str_eq(cols[5], "port");
        ck_assert_str_eq(cols[6], "2");         /* queued */
        ck_assert_str_eq(cols[7], "5");         /* backlog */
        ck_assert_str_eq(cols[8], "2");         /* each queued message holds the send right made for it */
        ck_assert_int_eq(ctl("ports", out, sizeof(out)), 0);
        ck_assert_int_ge(find_row(out, me, set, cols), 13);
        ck_assert_str_eq(cols[5], "set");

        char pid[32];
        snprintf(pid, sizeof(pid), " %d ", (int)getpid());
        ck_assert_int_eq(ctl("tasks", out, sizeof(out)), 0);
        ck_assert_ptr_nonnull(strstr(out, pid));

        ck_assert_int_eq(ctl("rights", out, sizeof(out)), 0);
        char row[64];
        snprintf(row, sizeof(row), "%#x", p);
        ck_assert_ptr_nonnull(strstr(out, row));
        ck_assert_ptr_nonnull(strstr(out, "port-set"));

        ck_assert_int_eq(ctl("stats", out, sizeof(out)), 0);
        ck_assert_ptr_nonnull(strstr(out, "2 tasks"));  /* us and machipcctl itself */

        ck_assert_int_eq(ctl("--json", out, sizeof(out)), 0);
        ck_assert_ptr_nonnull(strstr(out, "\"tasks\": ["));
        char frag[96];
        snprintf(frag, sizeof(frag), "\"task\": %u, \"name\": \"%#x\", \"kind\": \"port\"", me, p);
        char *at = strstr(out, frag);
        ck_assert_msg(at != NULL, "no JSON object for our port");
        ck_assert_ptr_nonnull(strstr(at, "\"queued\": 2, \"backlog\": 5"));

        ck_assert_int_eq(ctl("--dot", out, sizeof(out)), 0);
        ck_assert_ptr_eq(strstr(out, "digraph machipc {"), out);
        snprintf(frag, sizeof(frag), "t%u -> p", me);
        ck_assert_ptr_nonnull(strstr(out, frag));
        ck_assert_ptr_nonnull(strstr(out, "receive\"]"));

        ck_assert_int_eq(ctl("bogus 2>/dev/null", out, sizeof(out)), 2);
}
END_TEST

START_TEST(test_machipcctl_no_broker) {
        char out[4096], cmd[512];
        snprintf(cmd, sizeof(cmd), "MACHIPC_SOCKET=/nonexistent/sock %s 2>&1",
                 getenv("MACHIPC_TEST_MACHIPCCTL"));
        ck_assert_int_eq(test_run_capture(cmd, out, sizeof(out)), 1);
        ck_assert_ptr_nonnull(strstr(out, "machipcctl: "));
}
END_TEST

/* Every program, started with no broker at its socket, says so and where it looked. */
START_TEST(test_programs_no_broker) {
        static const struct {
                const char *env, *args, *prefix;
        } progs[] = {
                { "MACHIPC_TEST_ECHO_CLIENT", "echo hi", "machipc-echo" },
                { "MACHIPC_TEST_ECHO_SERVER", "", "echo-server" },
                { "MACHIPC_TEST_ECHO_SERVER", "--loop", "echo-server" },
                { "MACHIPC_TEST_LOOP_DEMO", "", "loop-demo" },
                { "MACHIPC_TEST_NAMESERVER", "", "nameserver" },
                { "MACHIPC_TEST_MACHIPCCTL", "", "machipcctl" },
                { "MACHIPC_TEST_OWNERSHIP", "owner", "machipc-ownership" },
                { "MACHIPC_TEST_ONE_RECEIVER", "owner", "machipc-one-receiver" },
                { "MACHIPC_TEST_LARGE_TRANSFER", "-s 1", "machipc-large-transfer" },
                { "MACHIPC_TEST_PRODCONS", "producer", "machipc-prodcons" },
        };
        for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
                char out[4096], cmd[512], want[128];
                snprintf(cmd, sizeof(cmd), "MACHIPC_SOCKET=/nonexistent/sock %s %s 2>&1",
                         getenv(progs[i].env), progs[i].args);
                ck_assert_int_eq(test_run_capture(cmd, out, sizeof(out)), 1);
                snprintf(want, sizeof(want), "%s: cannot connect to machipcd at /nonexistent/sock: ",
                         progs[i].prefix);
                ck_assert_msg(strstr(out, want) != NULL, "%s said: %s", progs[i].prefix, out);
                ck_assert_ptr_nonnull(strstr(out, "is machipcd running?"));
        }
}
END_TEST

/* Start a demo role in the background (stdout to @out); returns its pid. */
static pid_t start_demo(const char *env, const char *role, FILE **out) {
        char cmd[512];
        snprintf(cmd, sizeof(cmd), "%s %s", getenv(env), role);
        fflush(NULL);
        *out = popen(cmd, "r");
        ck_assert_ptr_nonnull(*out);
        return 0;
}

static int finish_demo(FILE *f, char *buf, size_t size) {
        size_t n = fread(buf, 1, size - 1, f);
        buf[n] = '\0';
        int st = pclose(f);
        return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void wait_line(FILE *f, const char *want, char *buf, size_t size) {
        /* The role prints its readiness before it blocks. */
        ck_assert_ptr_nonnull(fgets(buf, (int)size, f));
        ck_assert_msg(strstr(buf, want) != NULL, "unexpected first line: %s", buf);
}

START_TEST(test_ownership_demo) {
        const char *const args[] = { NULL };
        pid_t ns = test_spawn_ready(getenv("MACHIPC_TEST_NAMESERVER"), args);
        FILE *taker, *owner;
        static char tout[8192], oout[8192];
        start_demo("MACHIPC_TEST_OWNERSHIP", "taker", &taker);
        wait_line(taker, "taker: waiting", tout, sizeof(tout));
        start_demo("MACHIPC_TEST_OWNERSHIP", "owner", &owner);
        ck_assert_int_eq(finish_demo(owner, oout, sizeof(oout)), 0);
        ck_assert_int_eq(finish_demo(taker, tout, sizeof(tout)), 0);
        ck_assert_ptr_nonnull(strstr(oout, "owner: msg_receive on the mailbox now says: receive: name is not a receive right"));
        /* At least the 3 queued before the move were there when the right arrived. */
        ck_assert_ptr_nonnull(strstr(tout, "messages were already queued in it"));
        ck_assert_ptr_nonnull(strstr(tout, "taker: read 5 messages from the mailbox"));
        ck_assert_ptr_nonnull(strstr(tout, "taker: read \"queued by the owner #1\""));
        ck_assert_ptr_nonnull(strstr(tout, "taker: read \"sent after the move\""));
        ck_assert_int_eq(test_stop(ns), 0);
}
END_TEST

START_TEST(test_one_receiver_demo) {
        const char *const args[] = { NULL };
        pid_t ns = test_spawn_ready(getenv("MACHIPC_TEST_NAMESERVER"), args);
        FILE *own, *intr;
        static char oout[8192], iout[8192];
        start_demo("MACHIPC_TEST_ONE_RECEIVER", "owner", &own);
        wait_line(own, "owner: mailbox", oout, sizeof(oout));
        start_demo("MACHIPC_TEST_ONE_RECEIVER", "intruder", &intr);
        ck_assert_int_eq(finish_demo(intr, iout, sizeof(iout)), 0);
        ck_assert_int_eq(finish_demo(own, oout, sizeof(oout)), 0);
        ck_assert_ptr_nonnull(strstr(iout, "a send right"));
        ck_assert_ptr_nonnull(strstr(iout, "(0x10004002)"));
        ck_assert_ptr_nonnull(strstr(oout, "owner: received \"I may only send\""));
        ck_assert_int_eq(test_stop(ns), 0);
}
END_TEST

START_TEST(test_large_transfer_demo) {
        const char *const args[] = { NULL };
        pid_t ns = test_spawn_ready(getenv("MACHIPC_TEST_NAMESERVER"), args);
        static char out[8192];
        char cmd[512];
        snprintf(cmd, sizeof(cmd), "%s -s 16", getenv("MACHIPC_TEST_LARGE_TRANSFER"));
        ck_assert_int_eq(test_run_capture(cmd, out, sizeof(out)), 0);
        ck_assert_ptr_nonnull(strstr(out, "moving 16 MiB between two tasks"));
        ck_assert_ptr_nonnull(strstr(out, "out of line, moved (0 copy)"));
        ck_assert_ptr_nonnull(strstr(out, "inline, 64 KiB chunks"));
        ck_assert_ptr_nonnull(strstr(out, "faster end to end than inline"));
        ck_assert_int_eq(test_stop(ns), 0);
}
END_TEST

START_TEST(test_prodcons_demo) {
        const char *const args[] = { NULL };
        pid_t ns = test_spawn_ready(getenv("MACHIPC_TEST_NAMESERVER"), args);
        FILE *prod, *cons;
        static char pout[8192], cout[8192];
        start_demo("MACHIPC_TEST_PRODCONS", "-n 3000 -s 8 producer", &prod);
        wait_line(prod, "producer: ring of 8 slots published", pout, sizeof(pout));
        start_demo("MACHIPC_TEST_PRODCONS", "consumer", &cons);
        ck_assert_int_eq(finish_demo(cons, cout, sizeof(cout)), 0);
        ck_assert_int_eq(finish_demo(prod, pout, sizeof(pout)), 0);
        ck_assert_ptr_nonnull(strstr(cout, "consumer: received 3000 items in order, 0 wrong"));
        ck_assert_ptr_nonnull(strstr(pout, "producer: done, 3000 items"));
        ck_assert_int_eq(test_stop(ns), 0);
}
END_TEST

START_TEST(test_echo_server_loop_mode) {
        const char *const none[] = { NULL };
        pid_t ns = test_spawn_ready(getenv("MACHIPC_TEST_NAMESERVER"), none);
        const char *const args[] = { "--loop", "-n", "echo-loop", NULL };
        pid_t echo = test_spawn_ready(getenv("MACHIPC_TEST_ECHO_SERVER"), args);
        static char out[65536];
        char cmd[512];
        snprintf(cmd, sizeof(cmd), "%s -n echo-loop -c 200 calc 6 x 7", getenv("MACHIPC_TEST_ECHO_CLIENT"));
        ck_assert_int_eq(test_run_capture(cmd, out, sizeof(out)), 0);
        int lines = 0;
        for (char *p = out; (p = strstr(p, "calc: 6 * 7 = 42\n")); p++)
                lines++;
        ck_assert_int_eq(lines, 200);
        snprintf(cmd, sizeof(cmd), "%s -n echo-loop echo hello-loop", getenv("MACHIPC_TEST_ECHO_CLIENT"));
        ck_assert_int_eq(test_run_capture(cmd, out, sizeof(out)), 0);
        ck_assert_str_eq(out, "echo: hello-loop\n");
        snprintf(cmd, sizeof(cmd), "%s -n echo-loop calc 1 / 0", getenv("MACHIPC_TEST_ECHO_CLIENT"));
        ck_assert_int_eq(test_run_capture(cmd, out, sizeof(out)), 3);
        /* SIGTERM ends the loop cleanly. */
        ck_assert_int_eq(test_stop(echo), 0);
        ck_assert_int_eq(test_stop(ns), 0);
}
END_TEST

START_TEST(test_loop_demo) {
        const char *const none[] = { NULL };
        pid_t ns = test_spawn_ready(getenv("MACHIPC_TEST_NAMESERVER"), none);
        FILE *demo;
        static char dout[65536], out[4096];
        start_demo("MACHIPC_TEST_LOOP_DEMO", "-c 41 -t 2", &demo);
        wait_line(demo, "serving \"loop-a\" and \"loop-b\" and a 2 ms timer from one thread", dout,
                  sizeof(dout));
        char cmd[512];
        snprintf(cmd, sizeof(cmd), "%s -n loop-a -c 20 echo ping", getenv("MACHIPC_TEST_ECHO_CLIENT"));
        ck_assert_int_eq(test_run_capture(cmd, out, sizeof(out)), 0);
        ck_assert_ptr_nonnull(strstr(out, "echo: ping\n"));
        snprintf(cmd, sizeof(cmd), "%s -n loop-b -c 21 calc 2 + 2", getenv("MACHIPC_TEST_ECHO_CLIENT"));
        ck_assert_int_eq(test_run_capture(cmd, out, sizeof(out)), 0);
        ck_assert_ptr_nonnull(strstr(out, "calc: 2 + 2 = 4\n"));
        ck_assert_int_eq(finish_demo(demo, dout, sizeof(dout)), 0);
        ck_assert_msg(strstr(dout, "served 41 requests (loop-a 20, loop-b 21)") != NULL, "%s", dout);
        /* The timer ran in the same loop, and receiving asked the broker nothing. */
        ck_assert_ptr_nonnull(strstr(dout, "tick 1: "));
        ck_assert_msg(strstr(dout, "; 0 requests to the broker besides the replies") != NULL, "%s", dout);
        ck_assert_int_eq(test_stop(ns), 0);
}
END_TEST

int main(void) {
        Suite *s = suite_create("Tools and demos");
        TCase *tc = tcase_create("tools");
        tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
        tcase_set_timeout(tc, 60);
        ADD_TEST(tc, test_machipcctl_known_state);
        ADD_TEST(tc, test_machipcctl_no_broker);
        ADD_TEST(tc, test_programs_no_broker);
        ADD_TEST(tc, test_ownership_demo);
        ADD_TEST(tc, test_one_receiver_demo);
        ADD_TEST(tc, test_large_transfer_demo);
        ADD_TEST(tc, test_prodcons_demo);
        ADD_TEST(tc, test_echo_server_loop_mode);
        ADD_TEST(tc, test_loop_demo);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
