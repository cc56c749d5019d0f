/* SPDX-License-Identifier: MIT */
/*
 * broker.c - test helpers: spawn the real broker and real task processes
 *
 * The broker runs as its own process on a socket in a fresh directory; we
 * wait for it on a readiness pipe, never by sleeping.  It gets
 * PR_SET_PDEATHSIG so a crashed test cannot leave it behind, and stopping it
 * asserts a clean exit, which also catches leaks reported by LeakSanitizer.
 */

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "broker.h"

uint64_t test_now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int test_run_capture(const char *cmd, char *out, size_t size) {
        fflush(NULL);
        FILE *f = popen(cmd, "r");
        ck_assert_ptr_nonnull(f);
        size_t n = fread(out, 1, size - 1, f);
        out[n] = '\0';
        int st = pclose(f);
        return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int test_count_fds(pid_t pid) {
        char path[64];
        snprintf(path, sizeof(path), pid ? "/proc/%d/fd" : "/proc/self/fd", (int)pid);
        DIR *d = opendir(path);
        if (!d)
                return -1;
        int n = 0;
        struct dirent *de;
        while ((de = readdir(d)))
                if (de->d_name[0] != '.')
                        n++;
        closedir(d);
        return pid ? n : n - 1;  /* not counting the DIR's own fd */
}

/* Fork+exec @path with @args and "--ready-fd N"; wait for READY=1. */
static pid_t spawn_ready(const char *path, const char *const *pre, const char *const *extra) {
        int fds[2];
        ck_assert_int_eq(pipe2(fds, O_CLOEXEC), 0);
        pid_t parent = getpid();
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                prctl(PR_SET_PDEATHSIG, SIGTERM);
                if (getppid() != parent)
                        _exit(127);
                char fdarg[32];
                int wfd = dup(fds[1]);  /* without O_CLOEXEC */
                snprintf(fdarg, sizeof(fdarg), "--ready-fd=%d", wfd);
                const char *argv[48];
                int n = 0;
                /* $MACHIPC_TEST_WRAPPER (e.g. valgrind and its options) runs the broker and servers. */
                char *wrap = getenv("MACHIPC_TEST_WRAPPER") ? strdup(getenv("MACHIPC_TEST_WRAPPER")) : NULL;
                char *save = NULL;
                for (char *w = wrap ? strtok_r(wrap, " ", &save) : NULL; w && n < 16;
                     w = strtok_r(NULL, " ", &save))
                        argv[n++] = w;
                const char *exe = n ? argv[0] : path;
                argv[n++] = path;
                for (int i = 0; pre && pre[i] && n < 28; i++)
                        argv[n++] = pre[i];
                for (int i = 0; extra && extra[i] && n < 30; i++)
                        argv[n++] = extra[i];
                argv[n++] = fdarg;
                argv[n] = NULL;
                execv(exe, (char *const *)argv);
                _exit(127);
        }
        close(fds[1]);
        char buf[16] = { 0 };
        ssize_t r;
        size_t got = 0;
        while (got < 8 && (r = read(fds[0], buf + got, 8 - got)) > 0)
                got += (size_t)r;
        close(fds[0]);
        ck_assert_msg(strncmp(buf, "READY=1\n", 8) == 0, "%s did not become ready", path);
        return pid;
}

void test_broker_spawn(TestBroker *b, const char *const *extra) {
        const char *exe = getenv("MACHIPC_TEST_BROKER");
        ck_assert_msg(exe != NULL, "MACHIPC_TEST_BROKER is not set");
        snprintf(b->dir, sizeof(b->dir), "/tmp/machipc-test-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(b->dir));
        snprintf(b->path, sizeof(b->path), "%s/socket", b->dir);
        const char *pre[] = { "-s", b->path, "-q", NULL };
        b->pid = spawn_ready(exe, pre, extra);
        setenv(MACHIPC_SOCKET_ENV, b->path, 1);
}

int test_stop(pid_t pid) {
        kill(pid, SIGTERM);
        int st = test_wait(pid);
        return st;
}

void test_broker_terminate(TestBroker *b) {
        if (b->pid <= 0)
                return;
        machipc_disconnect();
        int st = test_stop(b->pid);
        b->pid = 0;
        ck_assert_msg(st == 0, "machipcd exited with status %d", st);
        ck_assert_msg(access(b->path, F_OK) != 0, "socket left behind");
        rmdir(b->dir);
}

int test_run_as_nobody(int (*fn)(void *), void *arg) {
        const char *was = getenv("MACHIPC_SOCKET");
        char saved[sizeof(((TestBroker *)0)->path)] = "";
        if (was)
                snprintf(saved, sizeof(saved), "%s", was);
        TestBroker b;
        const char *const extra[] = { "--allow-group=65534", NULL };
        test_broker_spawn(&b, extra);
        fflush(NULL);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                if (setgid(65534) < 0 || setuid(65534) < 0)
                        _exit(10);
                if (machipc_connect(b.path) != 0)
                        _exit(11);
                _exit(fn(arg));
        }
        int st = test_wait(pid);
        test_broker_terminate(&b);
        if (was)
                setenv("MACHIPC_SOCKET", saved, 1);
        return st;
}

pid_t test_spawn_ready(const char *path, const char *const *args) {
        return spawn_ready(path, args, NULL);
}

pid_t test_fork(int (*fn)(void *), void *arg) {
        fflush(NULL);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                int r = fn(arg);
                machipc_disconnect();
                _exit(r >= 0 && r < 126 ? r : 1);
        }
        return pid;
}

int test_wait(pid_t pid) {
        int st;
        while (waitpid(pid, &st, 0) < 0)
                if (errno != EINTR)
                        return -1;
        if (WIFEXITED(st))
                return WEXITSTATUS(st);
        return 128 + WTERMSIG(st);
}

port_t test_bootstrap_serve(void) {
        port_t p;
        ck_assert_int_eq(port_allocate(task_self(), &p), KERN_SUCCESS);
        ck_assert_int_eq(port_set_backlog(task_self(), p, PORT_BACKLOG_MAX), KERN_SUCCESS);
        ck_assert_int_eq(machipc_set_bootstrap_port(p), KERN_SUCCESS);
        return p;
}

port_t test_bootstrap_lookup(void) {
        port_t p = PORT_NULL;
        ck_assert_int_eq(task_get_bootstrap_port(task_self(), &p), KERN_SUCCESS);
        ck_assert_uint_ne(p, PORT_NULL);
        return p;
}

msg_return_t test_send_int(port_t dest, int32_t id, int32_t value, port_t right, uint16_t disp,
                           msg_option_t opt, msg_timeout_t timeout) {
        TestIntMsg m;
        memset(&m, 0, sizeof(m));
        msg_type_init(&m.t, MSG_TYPE_INTEGER_32, 1);
        m.value = value;
        m.head.msg_size = sizeof(msg_header_t) + MSG_ITEM_SIZE(4);
        if (disp) {
                msg_type_init(&m.rt, disp, 1);
                m.right = right;
                m.head.msg_size = sizeof(m);
        }
        m.head.msg_remote_port = dest;
        m.head.msg_id = id;
        return msg_send(&m.head, opt, timeout);
}

msg_return_t test_recv_int(port_t port, int32_t *idp, int32_t *valuep, port_t *rightp,
                           msg_option_t opt, msg_timeout_t timeout) {
        TestIntMsg m;
        memset(&m, 0, sizeof(m));
        m.head.msg_size = sizeof(m);
        m.head.msg_local_port = port;
        msg_return_t r = msg_receive(&m.head, opt, timeout);
        if (r != 0)
                return r;
        if (idp)
                *idp = m.head.msg_id;
        if (valuep)
                *valuep = m.value;
        if (rightp)
                *rightp = m.head.msg_size == sizeof(m) ? m.right : PORT_NULL;
        return 0;
}
