/* SPDX-License-Identifier: MIT */
/*
 * test-tour.c - machipc-tour: every step of the course runs (short mode)
 * between real processes and every check it makes holds; the claims are
 * measured and tabled; the program's errors are clear
 *
 * The checks are the tour's own (each "ok" line is an assertion it made
 * about what happened); this test asserts that each step made the ones its
 * concept needs and that none failed.  Timings are not asserted.
 */

#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "fixture.h"

static pid_t ns_pid;

static void setup(void) {
        fixture_setup();
        const char *const none[] = { NULL };
        ns_pid = test_spawn_ready(getenv("MACHIPC_TEST_NAMESERVER"), none);
}

static void teardown(void) {
        if (ns_pid > 0)
                ck_assert_int_eq(test_stop(ns_pid), 0);
        fixture_teardown();
}

static char out[1 << 17];

static int tour(const char *args) {
        char cmd[512];
        snprintf(cmd, sizeof(cmd), "%s %s 2>&1", getenv("MACHIPC_TEST_TOUR"), args);
        return test_run_capture(cmd, out, sizeof(out));
}

/* Run step @name; it must pass, and report each of @claims as an "ok" line. */
static void step(const char *name, const char *const *claims) {
        char args[64];
        snprintf(args, sizeof(args), "--short %s", name);
        int st = tour(args);
        ck_assert_msg(st == 0, "machipc-tour %s exited %d:\n%s", name, st, out);
        ck_assert_ptr_null(strstr(out, "  FAIL  "));
        ck_assert_ptr_nonnull(strstr(out, "Every check held."));
        for (; *claims; claims++) {
                char want[256];
                snprintf(want, sizeof(want), "  ok    %s", *claims);
                ck_assert_msg(strstr(out, want) != NULL, "step %s did not report: %s\n%s", name, *claims, out);
        }
}

START_TEST(test_spaces) {
        step("spaces", (const char *const[]){ "a write in one process is invisible to another",
                                               "a process cannot read another's memory: the hardware stops it",
                                               "cooperation needs IPC", NULL });
        ck_assert_ptr_nonnull(strstr(out, "killed by SIGSEGV"));
}
END_TEST

START_TEST(test_models) {
        step("models", (const char *const[]){ "the consumer's sum is 1 + 2 + ... + 5000",
                                               "the consumer's sum is the same", NULL });
        ck_assert_ptr_nonnull(strstr(out, "items/s through shared memory"));
}
END_TEST

START_TEST(test_naming) {
        step("naming", (const char *const[]){ "direct naming: a message to a task's kernel port names the task itself",
                                               "indirect naming: one mailbox shared by several senders",
                                               "a process may have several mailboxes", NULL });
}
END_TEST

START_TEST(test_ownership) {
        step("ownership", (const char *const[]){ "a mailbox owned by a process dies with it",
                                                  "a mailbox can change hands, its queued messages kept",
                                                  "one receiver at a time", NULL });
        ck_assert_ptr_nonnull(strstr(out, "(NOTIFY_DEAD_NAME)"));
}
END_TEST

START_TEST(test_sync) {
        step("sync", (const char *const[]){ "blocking send + blocking receive = a rendezvous",
                                             "a blocking receive waits for a message",
                                             "a non-blocking receive returns at once with nothing",
                                             "a non-blocking send returns at once", NULL });
}
END_TEST

START_TEST(test_buffering) {
        step("buffering", (const char *const[]){ "zero capacity: the sender must wait for the receiver",
                                                  "bounded capacity n: n messages, then the sender waits",
                                                  "unbounded capacity: the sender never waits", NULL });
}
END_TEST

START_TEST(test_mach) {
        step("mach", (const char *const[]){ "every task has a kernel mailbox and a notify mailbox",
                                             "system calls are messages",
                                             "msg_rpc sends a request and waits for its reply",
                                             "msg_send's four answers to a full mailbox", NULL });
}
END_TEST

START_TEST(test_classic) {
        step("classic", (const char *const[]){ "an ordinary pipe is one-way", "a named pipe lets unrelated processes",
                                                "a signal is a one-way event", "a socket is a two-way connection",
                                                "processes that map the same file share its pages",
                                                "shared memory with counting semaphores", NULL });
}
END_TEST

START_TEST(test_network) {
        step("network", (const char *const[]){ "a name on a host that cannot be reached is refused clearly", NULL });
}
END_TEST

START_TEST(test_measure) {
        int st = tour("--short --measure");
        ck_assert_msg(st == 0, "machipc-tour --measure exited %d:\n%s", st, out);
        ck_assert_ptr_nonnull(strstr(out, "| claim | measured here | verdict | why |"));
        const char *const claims[] = { "| Shared memory is faster than message passing |",
                                       "| Message passing copies the data twice |",
                                       "| Message passing is easier to get right |", NULL };
        for (const char *const *c = claims; *c; c++)
                ck_assert_msg(strstr(out, *c) != NULL, "no row %s", *c);
        /* Each row carries a verdict. */
        for (const char *l = strstr(out, "| Shared"); l && *l == '|'; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
                ck_assert(strstr(l, "| confirmed |") || strstr(l, "| refuted |") || strstr(l, "| depends |"));
        ck_assert_ptr_nonnull(strstr(out, "  ok    messages to one owner of the count lose nothing"));
}
END_TEST

START_TEST(test_usage_and_errors) {
        ck_assert_int_eq(tour("--list"), 0);
        ck_assert_ptr_nonnull(strstr(out, "ownership"));
        ck_assert_int_eq(tour("no-such-step"), 2);
        ck_assert_ptr_nonnull(strstr(out, "no step \"no-such-step\""));
        ck_assert_int_eq(tour("--bogus"), 2);
        /* Without a name server the steps cannot meet: said so, exit 1. */
        ck_assert_int_eq(test_stop(ns_pid), 0);
        ns_pid = 0;
        ck_assert_int_eq(tour("--short ownership"), 1);
        ck_assert_ptr_nonnull(strstr(out, "is machipc-nameserver running?"));
}
END_TEST

int main(void) {
        Suite *s = suite_create("Tour");
        TCase *tc = tcase_create("tour");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 120);
        ADD_TEST(tc, test_spaces);
        ADD_TEST(tc, test_models);
        ADD_TEST(tc, test_naming);
        ADD_TEST(tc, test_ownership);
        ADD_TEST(tc, test_sync);
        ADD_TEST(tc, test_buffering);
        ADD_TEST(tc, test_mach);
        ADD_TEST(tc, test_classic);
        ADD_TEST(tc, test_network);
        ADD_TEST(tc, test_measure);
        ADD_TEST(tc, test_usage_and_errors);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
