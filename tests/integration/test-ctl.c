/* SPDX-License-Identifier: MIT */
/*
 * test-ctl.c - machipcctl's commands against real servers: the status with
 * process and service names, names, call, monitor; and the broker's trace
 * (machipc_monitor()) under a monitor that does not read, and for another user
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "fixture.h"
#include "tool.h"

static pid_t ns_pid, echo_pid;

static void setup(void) {
        fixture_setup();
        const char *const none[] = { NULL };
        ns_pid = test_spawn_ready(getenv("MACHIPC_TEST_NAMESERVER"), none);
        const char *const echo[] = { "-n", "ctl-echo", NULL };
        echo_pid = test_spawn_ready(getenv("MACHIPC_TEST_ECHO_SERVER"), echo);
}

static void teardown(void) {
        ck_assert_int_eq(test_stop(echo_pid), 0);
        ck_assert_int_eq(test_stop(ns_pid), 0);
        fixture_teardown();
}

static int ctl(const char *args, char *out, size_t size) {
        char cmd[1024];
        snprintf(cmd, sizeof(cmd), "%s %s", getenv("MACHIPC_TEST_MACHIPCCTL"), args);
        return test_run_capture(cmd, out, size);
}

/* What machipcctl shows as process @pid's command: its comm (under valgrind, valgrind's). */
static const char *comm_of(pid_t pid) {
        static char buf[4][64];
        static int i;
        char path[64];
        char *b = buf[i++ % 4];
        snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
        FILE *f = fopen(path, "r");
        ck_assert_ptr_nonnull(f);
        ck_assert_ptr_nonnull(fgets(b, 64, f));
        fclose(f);
        b[strcspn(b, "\n")] = '\0';
        return b;
}

/* The line of @text that contains @a and @b, copied to @line; false if none. */
static bool line_with(const char *text, const char *a, const char *b, char *line, size_t size) {
        for (const char *l = text; *l;) {
                const char *end = strchr(l, '\n');
                size_t n = end ? (size_t)(end - l) : strlen(l);
                snprintf(line, size, "%.*s", (int)n, l);
                if (strstr(line, a) && strstr(line, b))
                        return true;
                l += n + (end ? 1 : 0);
        }
        return false;
}

START_TEST(test_status_names_processes_and_services) {
        static char out[1 << 16];
        char line[512], pid[32];
        ck_assert_int_eq(ctl("", out, sizeof(out)), 0);
        /* Column headings a newcomer can read, and what they mean. */
        ck_assert_ptr_nonnull(strstr(out, "COMMAND"));
        ck_assert_ptr_nonnull(strstr(out, "RECEIVER (TASK)"));
        ck_assert_ptr_nonnull(strstr(out, "SERVICE"));
        ck_assert_ptr_nonnull(strstr(out, "(WAITING: calls blocked in the broker"));
        /* Processes by name beside their pids. */
        snprintf(pid, sizeof(pid), " %d ", (int)echo_pid);
        ck_assert(line_with(out, pid, comm_of(echo_pid), line, sizeof(line)));
        snprintf(pid, sizeof(pid), " %d ", (int)ns_pid);
        ck_assert(line_with(out, pid, comm_of(ns_pid), line, sizeof(line)));
        /* The echo server's port carries its service name; the name server's is marked. */
        ck_assert(line_with(out, comm_of(echo_pid), " ctl-echo ", line, sizeof(line)));
        ck_assert(line_with(out, comm_of(ns_pid), "(name server)", line, sizeof(line)));
        /* machipcctl's own task only with --all. */
        ck_assert_ptr_null(strstr(out, " machipcctl "));
        ck_assert_int_eq(ctl("--all tasks", out, sizeof(out)), 0);
        ck_assert_ptr_nonnull(strstr(out, " machipcctl "));
        ck_assert_int_eq(ctl("--json", out, sizeof(out)), 0);
        char want[96];
        snprintf(want, sizeof(want), "\"command\": \"%s\"", comm_of(echo_pid));
        ck_assert_ptr_nonnull(strstr(out, want));
        ck_assert_ptr_nonnull(strstr(out, "\"service\": \"ctl-echo\""));
        ck_assert_ptr_null(strstr(out, "\"command\": \"machipcctl\""));
}
END_TEST

START_TEST(test_names) {
        static char out[1 << 16];
        char line[512], pid[32];
        port_t mine;
        ck_assert_int_eq(port_allocate(task_self(), &mine), 0);
        ck_assert_int_eq(netname_check_in(PORT_NULL, "ctl-test-port", PORT_NULL, mine), NETNAME_SUCCESS);
        ck_assert_int_eq(ctl("names", out, sizeof(out)), 0);
        ck_assert_ptr_nonnull(strstr(out, "CHECKED IN BY"));
        snprintf(pid, sizeof(pid), " %d ", (int)echo_pid);
        ck_assert(line_with(out, "ctl-echo ", pid, line, sizeof(line)));
        ck_assert_ptr_nonnull(strstr(line, comm_of(echo_pid)));
        snprintf(pid, sizeof(pid), " %d ", (int)getpid());
        ck_assert(line_with(out, "ctl-test-port ", pid, line, sizeof(line)));
        ck_assert_ptr_nonnull(strstr(line, comm_of(getpid())));
        ck_assert_int_eq(ctl("--json names", out, sizeof(out)), 0);
        ck_assert_ptr_nonnull(strstr(out, "{\"name\": \"ctl-test-port\", \"port\": "));
        /* Checked out: gone from the list. */
        ck_assert_int_eq(netname_check_out(PORT_NULL, "ctl-test-port", PORT_NULL), NETNAME_SUCCESS);
        ck_assert_int_eq(ctl("names", out, sizeof(out)), 0);
        ck_assert_ptr_null(strstr(out, "ctl-test-port"));
        /* Without a name server: said so, exit 1. */
        ck_assert_int_eq(test_stop(ns_pid), 0);
        ck_assert_int_eq(ctl("names 2>&1", out, sizeof(out)), 1);
        ck_assert_ptr_nonnull(strstr(out, "no name server"));
        const char *const none[] = { NULL };
        ns_pid = test_spawn_ready(getenv("MACHIPC_TEST_NAMESERVER"), none);
}
END_TEST

START_TEST(test_call) {
        static char out[1 << 16];
        /* echo (id 500): a string in, the same string out, return code 0. */
        ck_assert_int_eq(ctl("call ctl-echo 500 str:hello", out, sizeof(out)), 0);
        ck_assert_ptr_nonnull(strstr(out, "reply id 600"));
        ck_assert_ptr_nonnull(strstr(out, "return code 0 (success)"));
        ck_assert_ptr_nonnull(strstr(out, "str[6] \"hello\""));
        ck_assert_ptr_nonnull(strstr(out, " us\n"));
        /* calc (id 501): 6 * 7 with the operator as the server numbers it. */
        ck_assert_int_eq(ctl("--json call ctl-echo 501 i64:6 i64:7 i32:'*'", out, sizeof(out)), 2);
        ck_assert_int_eq(ctl("call --json ctl-echo 501 i64:6 i64:7 i32:42", out, sizeof(out)), 0);
        ck_assert_ptr_nonnull(strstr(out, "\"reply_id\": 601"));
        ck_assert_ptr_nonnull(strstr(out, "\"return_code\": 0"));
        ck_assert_ptr_nonnull(strstr(out, "{\"type\": \"i64\", \"count\": 1, \"value\": [42]}"));
        /* bytes from a file. */
        char path[64];
        snprintf(path, sizeof(path), "/tmp/ctl-bytes.%d", (int)getpid());
        FILE *f = fopen(path, "w");
        fputs("abc", f);
        fclose(f);
        char args[256];
        snprintf(args, sizeof(args), "call ctl-echo 500 bytes:@%s 2>&1", path);
        /* The echo server wants a string: it refuses bytes with MIG's code, and we exit 3. */
        ck_assert_int_eq(ctl(args, out, sizeof(out)), 3);
        ck_assert_ptr_nonnull(strstr(out, "return code -304"));     /* MIG_BAD_ARGUMENTS */
        unlink(path);
        /* An id the server does not know: MIG_BAD_ID, exit 3. */
        ck_assert_int_eq(ctl("call ctl-echo 599", out, sizeof(out)), 3);
        ck_assert_ptr_nonnull(strstr(out, "return code -303"));
        /* Errors of the command line and of the world, each with its message. */
        ck_assert_int_eq(ctl("call ctl-echo 2>&1", out, sizeof(out)), 2);
        ck_assert_ptr_nonnull(strstr(out, "NAME and ID are needed"));
        ck_assert_int_eq(ctl("call ctl-echo 500 f32:1 2>&1", out, sizeof(out)), 2);
        ck_assert_ptr_nonnull(strstr(out, "unknown type"));
        ck_assert_int_eq(ctl("call ctl-echo 500 i32:x 2>&1", out, sizeof(out)), 2);
        ck_assert_ptr_nonnull(strstr(out, "not a 32-bit integer"));
        ck_assert_int_eq(ctl("call ctl-echo 500 bytes:@/nonexistent 2>&1", out, sizeof(out)), 2);
        ck_assert_ptr_nonnull(strstr(out, "No such file"));
        ck_assert_int_eq(ctl("call nobody-here 500 2>&1", out, sizeof(out)), 1);
        ck_assert_ptr_nonnull(strstr(out, "cannot find \"nobody-here\""));
        /* A service that never answers: the timeout, exit 1. */
        port_t mute;
        ck_assert_int_eq(port_allocate(task_self(), &mute), 0);
        ck_assert_int_eq(netname_check_in(PORT_NULL, "ctl-mute", PORT_NULL, mute), NETNAME_SUCCESS);
        ck_assert_int_eq(ctl("call --timeout 200 ctl-mute 1 2>&1", out, sizeof(out)), 1);
        ck_assert_ptr_nonnull(strstr(out, "timed out"));
}
END_TEST

/* machipcctl monitor ARGS, its stdout and stderr as pipes. */
static pid_t start_monitor(const char *const *args, int *out, int *err) {
        int o[2], e[2];
        ck_assert_int_eq(pipe(o), 0);
        ck_assert_int_eq(pipe(e), 0);
        fflush(NULL);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                dup2(o[1], STDOUT_FILENO);
                dup2(e[1], STDERR_FILENO);
                const char *argv[12] = { "machipcctl", "monitor" };
                int n = 2;
                for (; *args && n < 11; args++)
                        argv[n++] = *args;
                execv(getenv("MACHIPC_TEST_MACHIPCCTL"), (char *const *)argv);
                _exit(127);
        }
        close(o[1]);
        close(e[1]);
        *out = o[0];
        *err = e[0];
        return pid;
}

/* Read @fd until @want appears (10 s at most) or it ends; what was read is in @buf. */
static bool read_until(int fd, const char *want, char *buf, size_t size) {
        size_t len = 0;
        uint64_t deadline = test_now_ms() + 10000;
        buf[0] = '\0';
        while (!strstr(buf, want) && len < size - 1) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                int left = (int)(deadline - test_now_ms());
                if (left <= 0 || poll(&p, 1, left) != 1)
                        return false;
                ssize_t n = read(fd, buf + len, size - 1 - len);
                if (n <= 0)
                        break;
                len += (size_t)n;
                buf[len] = '\0';
        }
        return strstr(buf, want) != NULL;
}

START_TEST(test_monitor_command) {
        static char buf[1 << 16], out[4096];
        int o, e;
        const char *const args[] = { NULL };
        pid_t mon = start_monitor(args, &o, &e);
        ck_assert(read_until(e, "monitoring", buf, sizeof(buf)));
        char cmd[512];
        snprintf(cmd, sizeof(cmd), "%s -n ctl-echo echo traced-call", getenv("MACHIPC_TEST_ECHO_CLIENT"));
        ck_assert_int_eq(test_run_capture(cmd, out, sizeof(out)), 0);
        /* The look-up (to the name server), its answer, then the echo request to the service. */
        ck_assert(read_until(o, "id 500,", buf, sizeof(buf)));
        kill(mon, SIGINT);
        ck_assert_int_eq(test_wait(mon), 0);    /* interrupted: a clean stop */
        char line[512], pid[32];
        snprintf(pid, sizeof(pid), "(pid %d %s)", (int)echo_pid, comm_of(echo_pid));
        ck_assert(line_with(buf, "(ctl-echo)", pid, line, sizeof(line)));
        ck_assert_ptr_nonnull(strstr(line, "id 500, 48 bytes, items str[12], rights -, reply send-once"));
        ck_assert(line_with(buf, "(name server)", "id 1041,", line, sizeof(line)));
        close(o);
        close(e);

        /* --json, --port: only messages to the echo server's port, one object a line. */
        ck_assert_int_eq(ctl("--json names", buf, sizeof(buf)), 0);
        char *at = strstr(buf, "\"name\": \"ctl-echo\", \"port\": ");
        ck_assert_ptr_nonnull(at);
        char port[24];
        snprintf(port, sizeof(port), "%lu", strtoul(at + strlen("\"name\": \"ctl-echo\", \"port\": "), NULL, 10));
        const char *const filtered[] = { "--json", "--port", port, "--count", "1", NULL };
        mon = start_monitor(filtered, &o, &e);
        /* --json says nothing on stderr: wait until the broker has the monitor as a task with a call waiting. */
        uint64_t deadline = test_now_ms() + 10000;
        while (tool_task_stat(mon, "calls") < 1)
                ck_assert_uint_lt(test_now_ms(), deadline);
        ck_assert_int_eq(test_run_capture(cmd, out, sizeof(out)), 0);
        ck_assert(read_until(o, "}\n", buf, sizeof(buf)));
        ck_assert_int_eq(test_wait(mon), 0);
        ck_assert_ptr_nonnull(strstr(buf, "\"service\": \"ctl-echo\""));
        ck_assert_ptr_nonnull(strstr(buf, "\"id\": 500"));
        ck_assert_ptr_nonnull(strstr(buf, "\"from_host\": null"));      /* sent on this host */
        ck_assert_ptr_null(strstr(buf, "\"id\": 1041"));        /* the look-up went elsewhere */
        ck_assert_ptr_eq(strchr(buf, '\n'), buf + strlen(buf) - 1);     /* exactly one line */
        close(o);
        close(e);

        ck_assert_int_eq(ctl("monitor --port x 2>&1", buf, sizeof(buf)), 2);
        ck_assert_ptr_nonnull(strstr(buf, "invalid number"));
}
END_TEST

/* A child task that sends @n one-way messages to the port checked in as "ctl-sink". */
static int sender(void *arg) {
        int n = *(int *)arg;
        port_t sink;
        if (netname_look_up(PORT_NULL, NULL, "ctl-sink", &sink) != NETNAME_SUCCESS)
                return 1;
        for (int i = 0; i < n; i++)
                if (test_send_int(sink, 7, i, 0, 0, 0, 0) != 0)
                        return 2;
        return 0;
}

/*
 * A monitor that never reads holds at most MONITOR_QUEUE_MAX (1024) lines;
 * the rest are counted, the next line it gets says how many, and nobody
 * else waits meanwhile (the sender's messages all arrive, an RPC is served).
 */
START_TEST(test_monitor_bounded) {
        port_t mon, sink;
        ck_assert_int_eq(port_allocate(task_self(), &mon), 0);
        ck_assert_int_eq(port_set_backlog(task_self(), mon, PORT_BACKLOG_MAX), 0);
        ck_assert_int_eq(port_allocate(task_self(), &sink), 0);
        ck_assert_int_eq(port_set_backlog(task_self(), sink, PORT_BACKLOG_MAX), 0);
        ck_assert_int_eq(netname_check_in(PORT_NULL, "ctl-sink", PORT_NULL, sink), NETNAME_SUCCESS);
        port_status_t st;
        ck_assert_int_eq(port_status(task_self(), sink, &st), 0);
        ck_assert_int_eq(machipc_monitor(mon, 0, 0), KERN_SUCCESS);

        int n = 1500;
        pid_t child = test_fork(sender, &n);
        /* Take the sink's messages as they come, so the sender never waits for room. */
        for (int i = 0; i < n; i++)
                ck_assert_int_eq(test_recv_int(sink, NULL, NULL, NULL, RCV_TIMEOUT, 10000), 0);
        ck_assert_int_eq(test_wait(child), 0);
        char out[4096], cmd[512];
        snprintf(cmd, sizeof(cmd), "%s -n ctl-echo echo while-behind", getenv("MACHIPC_TEST_ECHO_CLIENT"));
        ck_assert_int_eq(test_run_capture(cmd, out, sizeof(out)), 0);

        ck_assert_int_eq(port_status(task_self(), mon, &st), 0);
        ck_assert_uint_eq(st.msgcount, 1024);        /* the bound, not one line more */
        static union {
                msg_header_t h;
                uint8_t b[MSG_SIZE_MAX];
        } m;
        for (int i = 0; i < 1024; i++) {
                m.h.msg_local_port = mon;
                m.h.msg_size = sizeof(m);
                ck_assert_int_eq(msg_receive(&m.h, RCV_TIMEOUT, 0), 0);
                ck_assert_int_eq(m.h.msg_id, MACHIPC_MONITOR_ID);
        }
        /* The next line carries the count of those dropped: the sender's rest, the echo call's. */
        port_t p;
        ck_assert_int_eq(port_allocate(task_self(), &p), 0);
        n = 1;
        child = test_fork(sender, &n);
        ck_assert_int_eq(test_recv_int(sink, NULL, NULL, NULL, RCV_TIMEOUT, 10000), 0);
        ck_assert_int_eq(test_wait(child), 0);
        uint64_t lost = 0;
        bool found = false;
        for (;;) {
                m.h.msg_local_port = mon;
                m.h.msg_size = sizeof(m);
                if (msg_receive(&m.h, RCV_TIMEOUT, 0) != 0)
                        break;
                char *text = (char *)m.b + sizeof(msg_header_t) + sizeof(msg_type_t);
                msg_type_t t;
                memcpy(&t, m.b + sizeof(msg_header_t), sizeof(t));
                text[t.msg_type_number] = '\0';
                char *at = strstr(text, " lost ");
                ck_assert_ptr_nonnull(at);
                ck_assert_ptr_nonnull(strstr(text, " fds 0 from_host - lost "));
                lost += strtoull(at + 6, NULL, 10);
                found = true;
        }
        ck_assert(found);
        /* 1500 sends + the echo call's traffic, 1024 of them shown. */
        ck_assert_uint_ge(lost, 1500 - 1024);
        /* The monitor ends with its port; the broker keeps nothing for it. */
        ck_assert_int_eq(port_deallocate(task_self(), mon), 0);
        ck_assert_int_eq(netname_check_out(PORT_NULL, "ctl-sink", PORT_NULL), NETNAME_SUCCESS);
}
END_TEST

/* As another uid: a monitor refused. */
static int monitor_refused(void *arg) {
        port_t p;
        (void)arg;
        if (port_allocate(task_self(), &p) != 0)
                return 12;
        return machipc_monitor(p, 0, 0) == KERN_NO_ACCESS ? 0 : 13;
}

/* A task that checks a port in as "ctl-holder", says so on fd @arg, and takes one message on it. */
static int holder(void *arg) {
        int fd = *(int *)arg;
        port_t p;
        if (port_allocate(task_self(), &p) != 0 || netname_check_in(PORT_NULL, "ctl-holder", PORT_NULL, p) != 0 ||
            write(fd, "r", 1) != 1)
                return 1;
        return test_recv_int(p, NULL, NULL, NULL, RCV_TIMEOUT, 10000) == 0 ? 0 : 2;
}

/* A message relayed from another host shows that host (spaces and all), not a process. */
START_TEST(test_monitor_remote_host) {
        int ready[2];
        char c;
        port_t to;
        ck_assert_int_eq(pipe(ready), 0);
        pid_t h = test_fork(holder, &ready[1]);
        ck_assert_int_eq(read(ready[0], &c, 1), 1);
        close(ready[0]);
        close(ready[1]);
        ck_assert_int_eq(netname_look_up(PORT_NULL, "", "ctl-holder", &to), 0);
        char task[16];
        snprintf(task, sizeof(task), "%d", (int)h);
        const char *const args[] = { "--json", "--task", task, "--count", "1", NULL };
        int o, e;
        pid_t mon = start_monitor(args, &o, &e);
        uint64_t deadline = test_now_ms() + 10000;
        while (tool_task_stat(mon, "calls") < 1)
                ck_assert_uint_lt(test_now_ms(), deadline);
        uint32_t origin;
        ck_assert_int_eq(msg_origin_create("host 100% B", "B", &origin), KERN_SUCCESS);
        TestIntMsg m;
        memset(&m, 0, sizeof(m));
        m.head.msg_size = sizeof(msg_header_t) + MSG_ITEM_SIZE(4);
        m.head.msg_remote_port = to;
        m.head.msg_bits = MSG_BITS(MSG_TYPE_COPY_SEND, 0);
        m.t = (msg_type_t){ MSG_TYPE_INTEGER_32, 0, 1 };
        static char buf[8192];
        ck_assert_int_eq(msg_send_from(&m.head, SEND_TIMEOUT, 5000, origin), 0);
        ck_assert(read_until(o, "}\n", buf, sizeof(buf)));
        ck_assert_int_eq(test_wait(mon), 0);
        ck_assert_int_eq(test_wait(h), 0);
        ck_assert_msg(strstr(buf, "\"from_pid\": 0, \"from_command\": \"?\", \"from_host\": \"host 100% B\", ") != NULL,
                      "%s", buf);
        ck_assert_int_eq(msg_origin_destroy(origin), KERN_SUCCESS);
        close(o);
        close(e);
}
END_TEST

/* Only the broker's uid may watch its traffic. */
START_TEST(test_monitor_other_uid) {
        if (getuid() != 0) {
                printf("SKIP: another uid needs root to set up\n");
                return;
        }
        ck_assert_int_eq(test_run_as_nobody(monitor_refused, NULL), 0);
        /* Bad arguments: not a receive right of ours. */
        ck_assert_int_eq(machipc_monitor(PORT_NULL, 0, 0), KERN_INVALID_RIGHT);
        ck_assert_int_eq(machipc_monitor(0x12345, 0, 0), SEND_INVALID_RIGHT);      /* as any send with it */
}
END_TEST

int main(void) {
        Suite *s = suite_create("machipcctl");
        TCase *tc = tcase_create("ctl");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 90);
        ADD_TEST(tc, test_status_names_processes_and_services);
        ADD_TEST(tc, test_names);
        ADD_TEST(tc, test_call);
        ADD_TEST(tc, test_monitor_command);
        ADD_TEST(tc, test_monitor_bounded);
        ADD_TEST(tc, test_monitor_other_uid);
        ADD_TEST(tc, test_monitor_remote_host);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
