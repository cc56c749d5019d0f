/* SPDX-License-Identifier: MIT */
/* test-nameserver.c - the real name server, echo server and client binaries */

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <machipc/mig.h>
#include "fixture.h"
#include "kcall.h"

static pid_t ns_pid;

static void ns_setup(void) {
        fixture_setup();
        const char *const args[] = { NULL };
        ns_pid = test_spawn_ready(getenv("MACHIPC_TEST_NAMESERVER"), args);
}

static void ns_teardown(void) {
        if (ns_pid > 0)
                ck_assert_int_eq(test_stop(ns_pid), 0);
        fixture_teardown();
}

START_TEST(test_check_in_look_up_check_out) {
        port_t p, q, found;
        ck_assert_int_eq(port_allocate(task_self(), &p), 0);
        ck_assert_int_eq(port_allocate(task_self(), &q), 0);
        found = 0x1234;
        ck_assert_int_eq(netname_look_up(PORT_NULL, NULL, "svc", &found), NETNAME_NOT_CHECKED_IN);
        ck_assert_uint_eq(found, 0x1234);       /* written only on success */
        ck_assert_int_eq(netname_check_in(PORT_NULL, "svc", p, p), NETNAME_SUCCESS);
        ck_assert_int_eq(netname_check_in(PORT_NULL, "svc", q, q), NETNAME_NAME_IN_USE);
        ck_assert_int_eq(netname_look_up(PORT_NULL, NULL, "svc", &found), NETNAME_SUCCESS);
        ck_assert_uint_eq(found, p);    /* our own port: the same name */
        ck_assert_int_eq(netname_look_up(PORT_NULL, "localhost", "svc", &found), NETNAME_SUCCESS);
        found = 0x1234;
        ck_assert_int_eq(netname_look_up(PORT_NULL, "elsewhere", "svc", &found), NETNAME_NO_SUCH_HOST);
        ck_assert_uint_eq(found, 0x1234);
        ck_assert_int_eq(netname_check_out(PORT_NULL, "svc", q), NETNAME_NOT_YOURS);
        ck_assert_int_eq(netname_check_out(PORT_NULL, "svc", p), NETNAME_SUCCESS);
        ck_assert_int_eq(netname_check_out(PORT_NULL, "svc", p), NETNAME_NOT_CHECKED_IN);
        ck_assert_int_eq(netname_look_up(PORT_NULL, NULL, "svc", &found), NETNAME_NOT_CHECKED_IN);
        /* Bad arguments are refused before any message. */
        ck_assert_int_eq(netname_look_up(PORT_NULL, NULL, "", &found), KERN_INVALID_ARGUMENT);
        char longname[NETNAME_MAX + 4];
        memset(longname, 'n', sizeof(longname));
        longname[sizeof(longname) - 1] = 0;
        ck_assert_int_eq(netname_check_in(PORT_NULL, longname, p, p), KERN_INVALID_ARGUMENT);
        ck_assert_int_eq(netname_check_in(PORT_NULL, "x", p, PORT_NULL), NETNAME_INVALID_PORT);
        ck_assert_int_eq(netname_look_up(PORT_NULL, NULL, NULL, &found), KERN_INVALID_ARGUMENT);
}
END_TEST

static int check_in_and_wait(void *arg) {
        (void)arg;
        port_t p;
        if (port_allocate(task_self(), &p) != 0)
                return 1;
        if (netname_check_in(PORT_NULL, "mortal", PORT_NULL, p) != NETNAME_SUCCESS)
                return 2;
        int32_t v;
        test_recv_int(p, NULL, &v, NULL, 0, 0);
        return 0;
}

START_TEST(test_dead_service_forgotten) {
        pid_t pid = test_fork(check_in_and_wait, NULL);
        port_t found = PORT_NULL;
        uint64_t deadline = test_now_ms() + 10000;
        while (netname_look_up(PORT_NULL, NULL, "mortal", &found) != NETNAME_SUCCESS)
                ck_assert_uint_lt(test_now_ms(), deadline);
        kill(pid, SIGKILL);
        ck_assert_int_eq(test_wait(pid), 128 + SIGKILL);
        port_t again;
        ck_assert_int_eq(netname_look_up(PORT_NULL, NULL, "mortal", &again), NETNAME_NOT_CHECKED_IN);
        /* And the name is free for a new server at once. */
        port_t p;
        ck_assert_int_eq(port_allocate(task_self(), &p), 0);
        ck_assert_int_eq(netname_check_in(PORT_NULL, "mortal", PORT_NULL, p), NETNAME_SUCCESS);
        ck_assert_int_eq(netname_check_out(PORT_NULL, "mortal", PORT_NULL), NETNAME_SUCCESS);
}
END_TEST

START_TEST(test_second_nameserver_refused) {
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                execl(getenv("MACHIPC_TEST_NAMESERVER"), "machipc-nameserver", (char *)NULL);
                _exit(127);
        }
        ck_assert_int_eq(test_wait(pid), 1);
}
END_TEST

/* Look @name up until it is found or 10 s pass (a library checks it in again on its own time). */
static kern_return_t look_up_soon(const char *name, port_t *found) {
        uint64_t deadline = test_now_ms() + 10000;
        kern_return_t r;
        while ((r = netname_look_up(PORT_NULL, NULL, name, found)) != NETNAME_SUCCESS && test_now_ms() < deadline)
                ;
        return r;
}

START_TEST(test_restarted_nameserver) {
        /* A name checked in before a clean restart is there after it; a checked-out one is not. */
        port_t p, q, found;
        ck_assert_int_eq(port_allocate(task_self(), &p), 0);
        ck_assert_int_eq(port_allocate(task_self(), &q), 0);
        ck_assert_int_eq(netname_check_in(PORT_NULL, "a", PORT_NULL, p), NETNAME_SUCCESS);
        ck_assert_int_eq(netname_check_in(PORT_NULL, "gone", PORT_NULL, q), NETNAME_SUCCESS);
        ck_assert_int_eq(netname_check_out(PORT_NULL, "gone", PORT_NULL), NETNAME_SUCCESS);
        ck_assert_int_eq(test_stop(ns_pid), 0);
        ns_pid = 0;
        ck_assert_int_eq(netname_look_up(PORT_NULL, NULL, "a", &found), NETNAME_NO_SERVER);
        const char *const args[] = { NULL };
        ns_pid = test_spawn_ready(getenv("MACHIPC_TEST_NAMESERVER"), args);
        ck_assert_int_eq(look_up_soon("a", &found), NETNAME_SUCCESS);
        ck_assert_uint_eq(found, p);    /* our own port: rights to one port share one name */
        ck_assert_int_eq(netname_look_up(PORT_NULL, NULL, "gone", &found), NETNAME_NOT_CHECKED_IN);
        /* Still ours: checked out with the new name server, and not checked in again after. */
        ck_assert_int_eq(netname_check_out(PORT_NULL, "a", PORT_NULL), NETNAME_SUCCESS);
        ck_assert_int_eq(netname_check_in(PORT_NULL, "a", PORT_NULL, p), NETNAME_SUCCESS);
}
END_TEST

/*
 * The name server SIGKILLed and started again: a server that lived on (a
 * separate echo server process, which was not restarted) is found and
 * answers; one that died meanwhile is not found; a signature still guards
 * its name.
 */
START_TEST(test_nameserver_killed_keeps_living_servers) {
        const char *const echo_args[] = { "-n", "survivor", NULL };
        pid_t echo = test_spawn_ready(getenv("MACHIPC_TEST_ECHO_SERVER"), echo_args);
        int go[2];
        ck_assert_int_eq(pipe(go), 0);
        pid_t doomed = fork();
        ck_assert_int_ge(doomed, 0);
        if (doomed == 0) {
                port_t mine;
                char c;
                close(go[1]);
                if (port_allocate(task_self(), &mine) != 0 ||
                    netname_check_in(PORT_NULL, "doomed", PORT_NULL, mine) != NETNAME_SUCCESS)
                        _exit(1);
                if (write(STDOUT_FILENO, "", 0) < 0 || read(go[0], &c, 1) < 0)
                        _exit(2);
                _exit(0);
        }
        close(go[0]);
        port_t sig, p, found;
        ck_assert_int_eq(port_allocate(task_self(), &sig), 0);
        ck_assert_int_eq(port_allocate(task_self(), &p), 0);
        ck_assert_int_eq(netname_check_in(PORT_NULL, "signed", sig, p), NETNAME_SUCCESS);
        ck_assert_int_eq(look_up_soon("doomed", &found), NETNAME_SUCCESS);
        ck_assert_int_eq(look_up_soon("survivor", &found), NETNAME_SUCCESS);

        kill(ns_pid, SIGKILL);
        ck_assert_int_eq(test_wait(ns_pid), 128 + SIGKILL);
        kill(doomed, SIGKILL);
        ck_assert_int_eq(test_wait(doomed), 128 + SIGKILL);
        close(go[1]);
        const char *const args[] = { NULL };
        ns_pid = test_spawn_ready(getenv("MACHIPC_TEST_NAMESERVER"), args);

        ck_assert_int_eq(look_up_soon("survivor", &found), NETNAME_SUCCESS);
        char cmd[512], out[512];
        snprintf(cmd, sizeof(cmd), "%s -n survivor echo still-here", getenv("MACHIPC_TEST_ECHO_CLIENT"));
        ck_assert_int_eq(test_run_capture(cmd, out, sizeof(out)), 0);
        ck_assert_str_eq(out, "echo: still-here\n");
        ck_assert_int_eq(look_up_soon("signed", &found), NETNAME_SUCCESS);
        ck_assert_uint_eq(found, p);
        /* The dead one: nobody checks it in again.  Its name is free. */
        ck_assert_int_eq(netname_look_up(PORT_NULL, NULL, "doomed", &found), NETNAME_NOT_CHECKED_IN);
        /* The signature came back with the name: without it, no check-out. */
        ck_assert_int_eq(netname_check_out(PORT_NULL, "signed", PORT_NULL), NETNAME_NOT_YOURS);
        ck_assert_int_eq(netname_check_out(PORT_NULL, "signed", sig), NETNAME_SUCCESS);
        ck_assert_int_eq(test_stop(echo), 0);
}
END_TEST

/* A task that checks "idle" in, then makes no call at all: no thread of its reads the broker. */
static int check_in_and_idle(void *arg) {
        const int *go = arg;
        port_t p;
        char c;
        close(go[1]);
        if (port_allocate(task_self(), &p) != 0 ||
            netname_check_in(PORT_NULL, "idle", PORT_NULL, p) != NETNAME_SUCCESS)
                return 1;
        return read(go[0], &c, 1) < 0 ? 2 : 0;
}

/*
 * The name keeper waits without reading the socket (a passive wait), so a
 * task none of whose threads calls the broker must still have its reply
 * read: the keeper looks once a second.  Its name comes back after a
 * restart all the same.
 */
START_TEST(test_idle_task_checked_in_again) {
        int go[2];
        ck_assert_int_eq(pipe2(go, O_CLOEXEC), 0);     /* the name server started later must not hold it */
        pid_t idle = test_fork(check_in_and_idle, go);
        port_t found;
        ck_assert_int_eq(look_up_soon("idle", &found), NETNAME_SUCCESS);
        kill(ns_pid, SIGKILL);
        ck_assert_int_eq(test_wait(ns_pid), 128 + SIGKILL);
        const char *const args[] = { NULL };
        ns_pid = test_spawn_ready(getenv("MACHIPC_TEST_NAMESERVER"), args);
        ck_assert_int_eq(look_up_soon("idle", &found), NETNAME_SUCCESS);
        close(go[1]);
        ck_assert_int_eq(test_wait(idle), 0);
        close(go[0]);
}
END_TEST

/* Voluntary context switches of the task's thread other than the caller (the name keeper), or -1. */
static long keeper_switches(void) {
        char path[320], line[256];
        long n = -1;
        snprintf(path, sizeof(path), "/proc/%d/task", (int)getpid());
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d))) {
                if (e->d_name[0] == '.' || atoi(e->d_name) == (int)gettid())
                        continue;
                snprintf(path, sizeof(path), "/proc/%d/task/%s/status", (int)getpid(), e->d_name);
                FILE *f = fopen(path, "r");
                while (f && fgets(line, sizeof(line), f))
                        if (sscanf(line, "voluntary_ctxt_switches: %ld", &n) == 1)
                                break;
                if (f)
                        fclose(f);
        }
        if (d)
                closedir(d);
        return n;
}

#define KEEPER_MESSAGES 2000

/* Checks "busy" in (so the keeper thread runs), then receives KEEPER_MESSAGES; 0 if the keeper slept throughout. */
static int receive_beside_keeper(void *arg) {
        (void)arg;
        port_t p;
        if (port_allocate(task_self(), &p) != 0 || port_set_backlog(task_self(), p, 64) != 0 ||
            netname_check_in(PORT_NULL, "busy", PORT_NULL, p) != NETNAME_SUCCESS)
                return 1;
        int32_t v;
        if (test_recv_int(p, NULL, &v, NULL, 0, 0) != 0)        /* the first: the keeper is waiting by now */
                return 2;
        long before = keeper_switches();
        for (int i = 1; i < KEEPER_MESSAGES; i++)
                if (test_recv_int(p, NULL, &v, NULL, 0, 0) != 0 || v != i)
                        return 3;
        long after = keeper_switches();
        if (before < 0 || after < 0)
                return 4;
        /* Reading for the main thread, it would wake for every message; waiting, about once a second. */
        if (after - before > KEEPER_MESSAGES / 20) {
                fprintf(stderr, "the keeper woke %ld times for %d messages\n", after - before, KEEPER_MESSAGES);
                return 5;
        }
        return 0;
}

/* The keeper thread is not the task's reader: a thread's messages do not pass through it. */
START_TEST(test_keeper_does_not_read) {
        pid_t busy = test_fork(receive_beside_keeper, NULL);
        port_t found;
        ck_assert_int_eq(look_up_soon("busy", &found), NETNAME_SUCCESS);
        for (int i = 0; i < KEEPER_MESSAGES; i++)
                ck_assert_int_eq(test_send_int(found, 1, i, PORT_NULL, 0, MSG_OPTION_NONE, 0), 0);
        ck_assert_int_eq(test_wait(busy), 0);
}
END_TEST

static int check_in_and_leave(void *arg) {
        (void)arg;
        port_t p;
        if (port_allocate(task_self(), &p) != 0)
                return 1;
        char name[32];
        snprintf(name, sizeof(name), "leaving-%d", (int)getpid());
        return netname_check_in(PORT_NULL, name, PORT_NULL, p) == NETNAME_SUCCESS ? 0 : 2;
}

/*
 * A task that checks a name in and disconnects at once (test_fork() does)
 * ends: the library's name keeper, however late it starts, never connects
 * anew and makes the process a task again, so machipc_disconnect() does not
 * wait for ever.
 */
START_TEST(test_disconnect_right_after_check_in) {
        for (int i = 0; i < 40; i++)
                ck_assert_int_eq(test_wait(test_fork(check_in_and_leave, NULL)), 0);
}
END_TEST

/* A KCALL_WAIT_BOOTSTRAP request for "a port other than @known", its reply to a send-once right to @reply. */
static msg_return_t send_wait(port_t known, port_t reply) {
        struct {
                msg_header_t h;
                msg_type_t t;
                uint32_t arg;
                uint32_t pad;
        } m = { .h = { .msg_size = sizeof(msg_header_t) + MSG_ITEM_SIZE(4), .msg_remote_port = task_self(),
                       .msg_local_port = reply, .msg_id = KCALL_WAIT_BOOTSTRAP,
                       .msg_bits = MSG_BITS(MSG_TYPE_COPY_SEND, reply ? MSG_TYPE_MAKE_SEND_ONCE : 0) },
                .t = { MSG_TYPE_INTEGER_32, 0, 1 }, .arg = known };
        return msg_send(&m.h, MSG_OPTION_NONE, 0);
}

/* The code of a KCALL_WAIT_BOOTSTRAP reply waiting on @reply (within @ms), and the right it carries. */
static int32_t wait_reply(port_t reply, msg_timeout_t ms, port_t *right) {
        union {
                msg_header_t h;
                uint8_t b[256];
        } m = { .h = { .msg_size = sizeof(m), .msg_local_port = reply } };
        msg_return_t r = msg_receive(&m.h, RCV_TIMEOUT, ms);
        if (r != 0)
                return (int32_t)r;
        ck_assert_int_eq(m.h.msg_id, KCALL_WAIT_BOOTSTRAP + KCALL_REPLY_DELTA);
        int32_t kr;
        memcpy(&kr, m.b + sizeof(msg_header_t) + sizeof(msg_type_t), 4);
        memcpy(right, m.b + sizeof(msg_header_t) + MSG_ITEM_SIZE(4) + sizeof(msg_type_t), 4);
        return kr;
}

/*
 * Waits for a new bootstrap port, as the library's name keeper makes them:
 * answered at once when the port is not the one known, else when a new one
 * registers; four per task, a fifth refused; none without a reply right.
 */
START_TEST(test_bootstrap_waits) {
        port_t boot, reply, right;
        ck_assert_int_eq(task_get_bootstrap_port(task_self(), &boot), KERN_SUCCESS);
        ck_assert_int_eq(port_allocate(task_self(), &reply), 0);
        /* Knowing none, or another: answered at once with the current one. */
        ck_assert_int_eq(send_wait(PORT_NULL, reply), 0);
        ck_assert_int_eq(wait_reply(reply, 5000, &right), KERN_SUCCESS);
        ck_assert_uint_eq(right, boot);
        /* Knowing the current one: it waits.  Four may, the fifth is refused at once. */
        for (int i = 0; i < 4; i++)
                ck_assert_int_eq(send_wait(boot, reply), 0);
        ck_assert_int_eq(send_wait(boot, reply), 0);
        ck_assert_int_eq(wait_reply(reply, 5000, &right), KERN_RESOURCE_SHORTAGE);
        ck_assert_int_eq(wait_reply(reply, 0, &right), RCV_TIMED_OUT);
        /* Without a reply right the request is refused (nobody could be answered). */
        ck_assert_int_eq(send_wait(boot, PORT_NULL), 0);
        /* A new name server: all four are answered with it. */
        ck_assert_int_eq(test_stop(ns_pid), 0);
        const char *const args[] = { NULL };
        ns_pid = test_spawn_ready(getenv("MACHIPC_TEST_NAMESERVER"), args);
        port_t now;
        ck_assert_int_eq(task_get_bootstrap_port(task_self(), &now), KERN_SUCCESS);
        ck_assert_uint_ne(now, boot);
        for (int i = 0; i < 4; i++) {
                ck_assert_int_eq(wait_reply(reply, 5000, &right), KERN_SUCCESS);
                ck_assert_uint_eq(right, now);
        }
        ck_assert_int_eq(wait_reply(reply, 0, &right), RCV_TIMED_OUT);
        /* A wait whose task dies is dropped: the broker keeps nothing for it (the fixture counts). */
        pid_t child = fork();
        ck_assert_int_ge(child, 0);
        if (child == 0) {
                port_t mine, b;
                if (port_allocate(task_self(), &mine) != 0 || task_get_bootstrap_port(task_self(), &b) != 0)
                        _exit(1);
                _exit(send_wait(b, mine) == 0 ? 0 : 2);
        }
        ck_assert_int_eq(test_wait(child), 0);
}
END_TEST

/* Run the echo client binary; returns its exit status and its stdout in @out. */
static int run_client(const char *args, char *out, size_t size) {
        char cmd[512];
        snprintf(cmd, sizeof(cmd), "%s %s", getenv("MACHIPC_TEST_ECHO_CLIENT"), args);
        return test_run_capture(cmd, out, size);
}

START_TEST(test_echo_demo_binaries) {
        const char *const args[] = { NULL };
        pid_t echo = test_spawn_ready(getenv("MACHIPC_TEST_ECHO_SERVER"), args);
        char out[4096];
        ck_assert_int_eq(run_client("echo 'hello, mailbox'", out, sizeof(out)), 0);
        ck_assert_str_eq(out, "echo: hello, mailbox\n");
        ck_assert_int_eq(run_client("calc 6 x 7", out, sizeof(out)), 0);
        ck_assert_str_eq(out, "calc: 6 * 7 = 42\n");
        ck_assert_int_eq(run_client("calc -9 / 2", out, sizeof(out)), 0);
        ck_assert_str_eq(out, "calc: -9 / 2 = -4\n");
        ck_assert_int_eq(run_client("calc 1 / 0", out, sizeof(out)), 3);
        ck_assert_str_eq(out, "calc: 1 / 0 = error (division by zero)\n");
        ck_assert_int_eq(run_client("calc 9223372036854775807 + 1", out, sizeof(out)), 3);
        ck_assert_int_eq(run_client("calc 1 ^ 1", out, sizeof(out)), 3);
        ck_assert_int_eq(run_client("--count 200 calc 2 + 2", out, sizeof(out)), 0);
        ck_assert_int_eq(run_client("bogus", out, sizeof(out)), 2);
        ck_assert_int_eq(run_client("--wait 50 --name nobody echo x 2>/dev/null", out, sizeof(out)), 1);
        /* MACHIPC_DEBUG=1 traces an RPC by the request it sent, then what came back. */
        setenv("MACHIPC_DEBUG", "1", 1);
        int st = run_client("echo traced 2>&1 >/dev/null | grep 'rpc id=500 '", out, sizeof(out));
        unsetenv("MACHIPC_DEBUG");
        ck_assert_msg(st == 0, "no trace of the request: %s", out);
        ck_assert_msg(strstr(out, "-> success; received id=600 ") != NULL, "trace: %s", out);
        ck_assert_int_eq(test_stop(echo), 0);
        /* The server checked out on its way down. */
        port_t found;
        ck_assert_int_eq(netname_look_up(PORT_NULL, NULL, "echo", &found), NETNAME_NOT_CHECKED_IN);
}
END_TEST

/* A look-up written by hand, NAME as a STRING item of @len bytes (NUL included); the reply's code. */
static kern_return_t raw_look_up(msg_id_t id, const char *name, uint32_t len) {
        union {
                msg_header_t head;
                uint64_t align;
                uint8_t bytes[512];
        } m;
        memset(&m, 0, sizeof(m));
        port_t boot = PORT_NULL;
        ck_assert_int_eq(task_get_bootstrap_port(task_self(), &boot), KERN_SUCCESS);
        uint8_t *p = mig_put(m.bytes + sizeof(msg_header_t), m.bytes + sizeof(m), MSG_TYPE_STRING, 0, len, 1, name);
        ck_assert_ptr_nonnull(p);
        m.head.msg_size = (msg_size_t)(p - m.bytes);
        m.head.msg_remote_port = boot;
        m.head.msg_id = id;
        m.head.msg_bits = MSG_BITS(MSG_TYPE_COPY_SEND, MSG_TYPE_MAKE_SEND_ONCE);
        ck_assert_int_eq(msg_rpc(&m.head, SEND_TIMEOUT | RCV_TIMEOUT, sizeof(m), 1000, 5000), 0);
        ck_assert_int_eq(m.head.msg_id, id + 100);
        ck_assert_uint_eq(m.head.msg_size, MIG_REPLY_BODY);    /* a failure is its code alone */
        return mig_retcode(&m.head);
}

START_TEST(test_malformed_requests) {
        char name[200];
        memset(name, 'n', sizeof(name));
        name[0] = 0;
        ck_assert_int_eq(raw_look_up(NETNAME_MSG_LOOK_UP, name, 1), KERN_INVALID_ARGUMENT);     /* empty */
        name[0] = 'n';
        name[128] = 0;
        ck_assert_int_eq(raw_look_up(NETNAME_MSG_LOOK_UP, name, 129), MIG_BAD_ARGUMENTS);       /* too long */
        ck_assert_int_eq(raw_look_up(NETNAME_MSG_LOOK_UP, "abc", 3), MIG_BAD_ARGUMENTS);        /* no NUL */
        ck_assert_int_eq(raw_look_up(NETNAME_MSG_LOOK_UP, "abc", 4), NETNAME_NOT_CHECKED_IN);
        ck_assert_int_eq(raw_look_up(NETNAME_MSG_LOOK_UP + 3, "abc", 4), MIG_BAD_ID);
        ck_assert_int_eq(raw_look_up(NETNAME_MSG_CHECK_IN, "abc", 4), MIG_BAD_ARGUMENTS);      /* rights missing */
}
END_TEST

START_TEST(test_no_nameserver) {
        ck_assert_int_eq(test_stop(ns_pid), 0);
        ns_pid = 0;
        port_t found;
        ck_assert_int_eq(netname_look_up(PORT_NULL, NULL, "x", &found), NETNAME_NO_SERVER);
        port_t bp = 99;
        ck_assert_int_eq(task_get_bootstrap_port(task_self(), &bp), KERN_SUCCESS);
        ck_assert_uint_eq(bp, PORT_NULL);
}
END_TEST

int main(void) {
        Suite *s = suite_create("Name server");
        TCase *tc = tcase_create("nameserver");
        tcase_add_checked_fixture(tc, ns_setup, ns_teardown);
        tcase_set_timeout(tc, 60);
        ADD_TEST(tc, test_check_in_look_up_check_out);
        ADD_TEST(tc, test_dead_service_forgotten);
        ADD_TEST(tc, test_second_nameserver_refused);
        ADD_TEST(tc, test_restarted_nameserver);
        ADD_TEST(tc, test_nameserver_killed_keeps_living_servers);
        ADD_TEST(tc, test_bootstrap_waits);
        ADD_TEST(tc, test_idle_task_checked_in_again);
        ADD_TEST(tc, test_keeper_does_not_read);
        ADD_TEST(tc, test_disconnect_right_after_check_in);
        ADD_TEST(tc, test_echo_demo_binaries);
        ADD_TEST(tc, test_no_nameserver);
        ADD_TEST(tc, test_malformed_requests);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
