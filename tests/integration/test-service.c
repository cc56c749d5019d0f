/* SPDX-License-Identifier: MIT */
/*
 * test-service.c - machipcd as a Linux service: socket activation
 * ($LISTEN_FDS), readiness and status over $NOTIFY_SOCKET (Type=notify),
 * and log lines in the form their reader expects
 *
 * The protocol of a service manager is small and documented (sd_listen_fds(3),
 * sd_notify(3)), so the test plays the manager itself: it binds the socket or
 * the notification socket, starts the real machipcd with the environment
 * systemd would give it, and checks what arrives.  Where systemd's own tools
 * are installed, systemd-socket-activate starts the broker too; systemd-run
 * --user needs a running user manager and is skipped, with a message, without one.
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include "broker.h"
#include "fixture.h"
#include "suite.h"

static char dir[64];

static void setup(void) {
        snprintf(dir, sizeof(dir), "/tmp/machipc-svc.XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(dir));
        chmod(dir, 0700);
        /* What a manager gives is given here only on purpose. */
        unsetenv("JOURNAL_STREAM");
        unsetenv("NOTIFY_SOCKET");
        unsetenv("LISTEN_FDS");
        unsetenv("LISTEN_PID");
}

static void teardown(void) {
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        if (system(cmd) != 0)
                fprintf(stderr, "cannot remove %s\n", dir);
}

/* A SOCK_SEQPACKET Unix socket listening at @path, as ListenSequentialPacket= makes it. */
static int listen_at(const char *path, int type) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
        int fd = socket(AF_UNIX, type, 0);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        if (type != SOCK_DGRAM)
                ck_assert_int_eq(listen(fd, 16), 0);
        return fd;
}

/*
 * Start machipcd with @env added to the environment, @listen_fd (if >= 0)
 * passed as descriptor 3 with $LISTEN_FDS=1 and $LISTEN_PID its own, and
 * stderr to @err_fd (if >= 0).
 */
static pid_t start(const char *const *args, const char *const *env, int listen_fd, int err_fd) {
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid)
                return pid;
        for (; env && *env; env++)
                putenv((char *)*env);
        if (listen_fd >= 0) {
                char n[32];
                if (dup2(listen_fd, 3) < 0)
                        _exit(126);
                snprintf(n, sizeof(n), "%d", (int)getpid());
                setenv("LISTEN_PID", n, 1);
                setenv("LISTEN_FDS", "1", 1);
        }
        if (err_fd >= 0)
                dup2(err_fd, STDERR_FILENO);
        const char *argv[16] = { "machipcd" };
        int n = 1;
        for (; args && *args && n < 15; args++)
                argv[n++] = *args;
        execv(getenv("MACHIPC_TEST_BROKER"), (char *const *)argv);
        _exit(127);
}

/* The next notification datagram, within 10 s. */
static void next_notification(int fd, char *buf, size_t size) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        ck_assert_int_eq(poll(&p, 1, 10000), 1);
        ssize_t n = recv(fd, buf, size - 1, 0);
        ck_assert_int_gt(n, 0);
        buf[n] = '\0';
}

/* One whole task: connect, make a port, ask the broker something, disconnect. */
static void use_broker(const char *path) {
        port_t p;
        port_status_t st;
        ck_assert_int_eq(machipc_connect(path), 0);
        ck_assert_int_eq(port_allocate(task_self(), &p), KERN_SUCCESS);
        ck_assert_int_eq(port_status(task_self(), p, &st), KERN_SUCCESS);
        machipc_disconnect();
}

START_TEST(test_notify_ready_status_stopping) {
#ifndef HAVE_LIBSYSTEMD
        printf("SKIP: built without libsystemd: machipcd ignores $NOTIFY_SOCKET\n");
        return;
#endif
        char nsock[128], sock[128], env[160], buf[512];
        snprintf(nsock, sizeof(nsock), "%s/notify", dir);
        snprintf(sock, sizeof(sock), "%s/socket", dir);
        int nfd = listen_at(nsock, SOCK_DGRAM);
        snprintf(env, sizeof(env), "NOTIFY_SOCKET=%s", nsock);
        const char *const envs[] = { env, NULL };
        const char *const args[] = { "-s", sock, NULL };
        pid_t pid = start(args, envs, -1, -1);
        next_notification(nfd, buf, sizeof(buf));
        ck_assert_ptr_nonnull(strstr(buf, "READY=1"));
        ck_assert_ptr_nonnull(strstr(buf, "STATUS=Listening on "));
        ck_assert_ptr_nonnull(strstr(buf, sock));
        /* Ready means serving: a task is served at once. */
        ck_assert_int_eq(machipc_connect(sock), 0);
        /* While it is connected, the status counts it (the broker says so once a second). */
        next_notification(nfd, buf, sizeof(buf));
        ck_assert_ptr_nonnull(strstr(buf, "1 task(s) connected"));
        machipc_disconnect();
        kill(pid, SIGTERM);
        next_notification(nfd, buf, sizeof(buf));
        ck_assert_ptr_nonnull(strstr(buf, "STOPPING=1"));
        ck_assert_int_eq(test_wait(pid), 0);
        close(nfd);
}
END_TEST

START_TEST(test_socket_activation) {
#ifndef HAVE_LIBSYSTEMD
        printf("SKIP: built without libsystemd: no socket activation\n");
        return;
#endif
        char sock[128];
        snprintf(sock, sizeof(sock), "%s/socket", dir);
        int lfd = listen_at(sock, SOCK_SEQPACKET);
        /* A task connects before the broker runs: it waits in the backlog, as under systemd. */
        pid_t early = fork();
        ck_assert_int_ge(early, 0);
        if (early == 0) {
                use_broker(sock);
                _exit(0);
        }
        const char *const args[] = { NULL };
        pid_t pid = start(args, NULL, lfd, -1);
        close(lfd);
        ck_assert_int_eq(test_wait(early), 0);
        use_broker(sock);
        kill(pid, SIGTERM);
        ck_assert_int_eq(test_wait(pid), 0);
        /* The socket is the manager's: the broker leaves it where it was. */
        struct stat st;
        ck_assert_int_eq(stat(sock, &st), 0);
        ck_assert(S_ISSOCK(st.st_mode));
}
END_TEST

START_TEST(test_socket_activation_wrong_socket) {
#ifndef HAVE_LIBSYSTEMD
        printf("SKIP: built without libsystemd: no socket activation\n");
        return;
#endif
        char sock[128], log[128], buf[1024] = "";
        snprintf(sock, sizeof(sock), "%s/stream", dir);
        snprintf(log, sizeof(log), "%s/log", dir);
        int lfd = listen_at(sock, SOCK_STREAM);
        int err = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        const char *const args[] = { NULL };
        pid_t pid = start(args, NULL, lfd, err);
        close(lfd);
        close(err);
        ck_assert_int_eq(test_wait(pid), 1);
        int fd = open(log, O_RDONLY);
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        ck_assert_int_gt(n, 0);
        ck_assert_ptr_nonnull(strstr(buf, "not a listening SOCK_SEQPACKET Unix socket"));
}
END_TEST

START_TEST(test_systemd_socket_activate) {
        if (system("command -v systemd-socket-activate >/dev/null 2>&1") != 0) {
                printf("SKIP: systemd-socket-activate is not installed\n");
                return;
        }
#ifndef HAVE_LIBSYSTEMD
        printf("SKIP: built without libsystemd: no socket activation\n");
        return;
#endif
        char sock[128];
        snprintf(sock, sizeof(sock), "%s/socket", dir);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                int null = open("/dev/null", O_WRONLY);
                dup2(null, STDOUT_FILENO);
                dup2(null, STDERR_FILENO);
                execlp("systemd-socket-activate", "systemd-socket-activate", "--seqpacket", "-l", sock,
                       getenv("MACHIPC_TEST_BROKER"), (char *)NULL);
                _exit(127);
        }
        /* systemd-socket-activate listens first, then starts the broker on the first connection. */
        uint64_t deadline = test_now_ms() + 10000;
        int r;
        while ((r = machipc_connect(sock)) == -ENOENT || r == -ECONNREFUSED)
                ck_assert_uint_lt(test_now_ms(), deadline);
        ck_assert_int_eq(r, 0);
        machipc_disconnect();
        use_broker(sock);
        use_broker(sock);
        kill(pid, SIGTERM);
        test_wait(pid);
}
END_TEST

START_TEST(test_systemd_run_user) {
        if (system("systemctl --user is-system-running >/dev/null 2>&1") != 0 &&
            system("systemctl --user is-system-running 2>/dev/null | grep -q degraded") != 0) {
                printf("SKIP: no systemd user manager runs here (systemctl --user is-system-running)\n");
                return;
        }
        char sock[128], cmd[512];
        snprintf(sock, sizeof(sock), "%s/socket", dir);
        snprintf(cmd, sizeof(cmd),
                 "systemd-run --user --quiet --unit=machipc-test-%d --property=Type=notify %s -s %s",
                 (int)getpid(), getenv("MACHIPC_TEST_BROKER"), sock);
        ck_assert_int_eq(system(cmd), 0);      /* returns once READY=1 arrived */
        use_broker(sock);
        snprintf(cmd, sizeof(cmd), "systemctl --user stop machipc-test-%d", (int)getpid());
        ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* The broker's first log line with stderr to a file, and @env. */
/* Wait until the broker @pid serves on @sock, then stop it (SIGTERM, exit 0): its log is complete. */
static void stop_once_serving(pid_t pid, const char *sock) {
        uint64_t deadline = test_now_ms() + 10000;
        while (machipc_connect(sock) != 0)
                ck_assert_uint_lt(test_now_ms(), deadline);
        machipc_disconnect();
        kill(pid, SIGTERM);
        ck_assert_int_eq(test_wait(pid), 0);
}

static void first_log_line(const char *const *env, const char *const *extra, char *line, size_t size) {
        char sock[128], log[128];
        snprintf(sock, sizeof(sock), "%s/socket", dir);
        snprintf(log, sizeof(log), "%s/log", dir);
        int err = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        ck_assert_int_ge(err, 0);
        struct stat st;
        ck_assert_int_eq(fstat(err, &st), 0);
        char js[96];
        snprintf(js, sizeof(js), "JOURNAL_STREAM=%llu:%llu", (unsigned long long)st.st_dev,
                 (unsigned long long)st.st_ino);
        const char *envs[4] = { NULL };
        int n = 0;
        for (; env && *env; env++)
                envs[n++] = strcmp(*env, "JOURNAL_STREAM") == 0 ? js : *env;
        const char *args[8] = { "-s", sock };
        int a = 2;
        for (; extra && *extra; extra++)
                args[a++] = *extra;
        args[a] = NULL;
        pid_t pid = start(args, envs, -1, err);
        close(err);
        stop_once_serving(pid, sock);
        FILE *f = fopen(log, "r");
        ck_assert_ptr_nonnull(f);
        ck_assert_ptr_nonnull(fgets(line, (int)size, f));
        fclose(f);
}

START_TEST(test_log_forms) {
        char line[512];
        /* A file: a timestamp, the program and its pid, the level. */
        first_log_line(NULL, NULL, line, sizeof(line));
        int y, mo, d, h, mi, s, ms, pid;
        ck_assert_int_eq(sscanf(line, "%4d-%2d-%2d %2d:%2d:%2d.%3d machipcd[%d]: info: ", &y, &mo, &d, &h, &mi, &s,
                                &ms, &pid), 8);
        ck_assert_ptr_nonnull(strstr(line, "info: listening on "));
        /* The journal: its priority prefix, no time (the journal keeps it). */
        const char *const journal[] = { "JOURNAL_STREAM", NULL };
        first_log_line(journal, NULL, line, sizeof(line));
        ck_assert_msg(strncmp(line, "<6>listening on ", 16) == 0, "journal line: %s", line);
        /* Debug lines only at --log-level=debug, as <7>. */
        const char *const debug[] = { "--log-level=debug", NULL };
        first_log_line(journal, debug, line, sizeof(line));
        ck_assert_msg(strncmp(line, "<6>", 3) == 0 || strncmp(line, "<7>", 3) == 0, "journal line: %s", line);
}
END_TEST

START_TEST(test_log_level_option) {
        char log[128], sock[128], buf[4096] = "";
        snprintf(sock, sizeof(sock), "%s/socket", dir);
        snprintf(log, sizeof(log), "%s/log", dir);
        /* --log-level=error: not a word at info. */
        const char *const quiet[] = { NULL };
        int err = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        const char *const args[] = { "-s", sock, "--log-level=error", NULL };
        pid_t pid = start(args, quiet, -1, err);
        close(err);
        stop_once_serving(pid, sock);
        int fd = open(log, O_RDONLY);
        ck_assert_int_eq(read(fd, buf, sizeof(buf)), 0);
        close(fd);
        /* A level that does not exist is refused with the list. */
        err = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        const char *const bad[] = { "-s", sock, "--log-level=loud", NULL };
        pid = start(bad, NULL, -1, err);
        close(err);
        ck_assert_int_eq(test_wait(pid), 2);
        fd = open(log, O_RDONLY);
        ck_assert_int_gt(read(fd, buf, sizeof(buf) - 1), 0);
        close(fd);
        ck_assert_ptr_nonnull(strstr(buf, "invalid --log-level: loud"));
}
END_TEST

int main(void) {
        Suite *s = suite_create("Service manager");
        TCase *tc = tcase_create("service");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_notify_ready_status_stopping);
        tcase_add_test(tc, test_socket_activation);
        tcase_add_test(tc, test_socket_activation_wrong_socket);
        tcase_add_test(tc, test_systemd_socket_activate);
        tcase_add_test(tc, test_systemd_run_user);
        tcase_add_test(tc, test_log_forms);
        tcase_add_test(tc, test_log_level_option);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
