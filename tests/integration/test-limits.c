/* SPDX-License-Identifier: MIT */
/* test-limits.c - quotas per task and per uid; who may connect */

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "fixture.h"

static TestBroker lb;

static void start(const char *const *args) {
        test_broker_spawn(&lb, args);
        ck_assert_int_eq(machipc_connect(lb.path), 0);
}

static port_t new_port(uint32_t backlog) {
        port_t p;
        ck_assert_int_eq(port_allocate(task_self(), &p), 0);
        ck_assert_int_eq(port_set_backlog(task_self(), p, backlog), 0);
        return p;
}

START_TEST(test_task_messages) {
        start((const char *const[]){ "--limit=task.messages=5", NULL });
        port_t p = new_port(64);
        for (int i = 0; i < 5; i++)
                ck_assert_int_eq(test_send_int(p, 1, i, 0, 0, 0, 0), 0);
        ck_assert_int_eq(test_send_int(p, 1, 5, 0, 0, 0, 0), SEND_NO_BUFFER);
        ck_assert_int_eq(test_recv_int(p, NULL, NULL, NULL, RCV_TIMEOUT, 0), 0);
        ck_assert_int_eq(test_send_int(p, 1, 5, 0, 0, 0, 0), 0);
        /* Kernel calls are not charged: they are answered at once. */
        port_t q;
        ck_assert_int_eq(port_allocate(task_self(), &q), 0);
        test_broker_terminate(&lb);
}
END_TEST

START_TEST(test_task_bytes_fds_ool) {
        start((const char *const[]){ "--limit=task.bytes=1000", "--limit=task.fds=2",
                                     "--limit=task.ool_bytes=1048576", NULL });
        port_t p = new_port(64);
        struct {
                msg_header_t head;
                msg_type_t t;
                uint8_t data[2000];
        } big;
        memset(&big, 0, sizeof(big));
        msg_type_init(&big.t, MSG_TYPE_BYTE, 2000);
        big.head.msg_size = sizeof(big);
        big.head.msg_remote_port = p;
        ck_assert_int_eq(msg_send(&big.head, 0, 0), SEND_NO_BUFFER);
        ck_assert_int_eq(test_send_int(p, 1, 1, 0, 0, 0, 0), 0);       /* small ones fit */
        struct {
                msg_header_t head;
                msg_type_t t;
                int32_t fds[3];
                int32_t pad;
        } f;
        memset(&f, 0, sizeof(f));
        msg_type_init(&f.t, MSG_TYPE_FD, 3);
        f.fds[0] = f.fds[1] = f.fds[2] = 0;
        f.head.msg_size = sizeof(msg_header_t) + MSG_ITEM_SIZE(12);
        f.head.msg_remote_port = p;
        ck_assert_int_eq(msg_send(&f.head, 0, 0), SEND_NO_BUFFER);
        msg_type_init(&f.t, MSG_TYPE_FD, 2);
        f.head.msg_size = sizeof(msg_header_t) + MSG_ITEM_SIZE(8);
        ck_assert_int_eq(msg_send(&f.head, 0, 0), 0);
        /* A region needs a descriptor too: over the descriptor quota now. */
        struct {
                msg_header_t head;
                msg_type_t t;
                msg_ool_t r;
        } o;
        vm_address_t a;
        ck_assert_int_eq(vm_allocate(task_self(), &a, 2 << 20, 1), 0);
        memset(&o, 0, sizeof(o));
        msg_type_init(&o.t, MSG_TYPE_MEMORY, 1);
        o.r.address = a;
        o.r.size = 512 << 10;
        o.head.msg_size = sizeof(o);
        o.head.msg_remote_port = p;
        ck_assert_int_eq(msg_send(&o.head, 0, 0), SEND_NO_BUFFER);
        /* Draining the queue frees the quota (and the descriptors). */
        for (int i = 0; i < 2; i++) {
                struct {
                        msg_header_t head;
                        uint8_t rest[256];
                } r;
                r.head.msg_size = sizeof(r);
                r.head.msg_local_port = p;
                ck_assert_int_eq(msg_receive(&r.head, RCV_TIMEOUT, 0), 0);
                msg_type_t rt;
                memcpy(&rt, r.rest, sizeof(rt));
                if (rt.msg_type_name == MSG_TYPE_FD) {
                        int32_t fds[2];
                        memcpy(fds, r.rest + sizeof(msg_type_t), 8);
                        close(fds[0]);
                        close(fds[1]);
                }
        }
        /* Region bytes: 512 KiB fits the 1 MiB quota, 2 MiB does not. */
        o.r.size = 2 << 20;
        ck_assert_int_eq(msg_send(&o.head, 0, 0), SEND_NO_BUFFER);
        o.r.size = 512 << 10;
        ck_assert_int_eq(msg_send(&o.head, 0, 0), 0);
        ck_assert_int_eq(msg_send(&o.head, 0, 0), 0);
        ck_assert_int_eq(msg_send(&o.head, 0, 0), SEND_NO_BUFFER);   /* 1.5 MiB > 1 MiB */
        ck_assert_int_eq(vm_deallocate(task_self(), a, 2 << 20), 0);
        for (int i = 0; i < 2; i++) {
                struct {
                        msg_header_t head;
                        msg_type_t t;
                        msg_ool_t r;
                } got;
                got.head.msg_size = sizeof(got);
                got.head.msg_local_port = p;
                ck_assert_int_eq(msg_receive(&got.head, RCV_TIMEOUT, 0), 0);
                ck_assert_int_eq(vm_deallocate(task_self(), got.r.address, got.r.size), 0);
        }
        ck_assert_int_eq(msg_send(&f.head, 0, 0), 0);
        test_broker_terminate(&lb);
}
END_TEST

static int fill_and_die(void *arg) {
        int n = *(int *)arg;
        port_t boot = test_bootstrap_lookup();
        for (int i = 0; i < n; i++)
                if (test_send_int(boot, 1, i, 0, 0, 0, 0) != 0)
                        return 1;
        /* Over the uid's quota now, even in another task. */
        if (test_send_int(boot, 1, 99, 0, 0, 0, 0) != SEND_NO_BUFFER)
                return 2;
        return 0;
}

START_TEST(test_uid_messages_outlive_sender) {
        start((const char *const[]){ "--limit=uid.messages=6", NULL });
        port_t boot = test_bootstrap_serve();
        int n = 6;
        pid_t pid = test_fork(fill_and_die, &n);
        ck_assert_int_eq(test_wait(pid), 0);
        /* The child is gone; its messages are queued and still count for the uid. */
        port_t p = new_port(8);
        ck_assert_int_eq(test_send_int(p, 1, 0, 0, 0, 0, 0), SEND_NO_BUFFER);
        ck_assert_int_eq(test_recv_int(boot, NULL, NULL, NULL, RCV_TIMEOUT, 0), 0);
        ck_assert_int_eq(test_send_int(p, 1, 0, 0, 0, 0, 0), 0);
        test_broker_terminate(&lb);
}
END_TEST

static int try_connect(void *arg) {
        (void)arg;
        int r = machipc_connect(NULL);
        return r == 0 ? 0 : r == -EUSERS ? 3 : 4;
}

START_TEST(test_uid_tasks_and_names) {
        start((const char *const[]){ "--limit=uid.tasks=2", "--limit=uid.names=40", NULL });
        pid_t a = test_fork(try_connect, NULL);
        /* We are one task; one more fits. */
        ck_assert_int_eq(test_wait(a), 0);
        TestBroker keep = lb;
        (void)keep;
        /* Hold a second task open, then a third is refused with -EUSERS. */
        int pipefd[2];
        ck_assert_int_eq(pipe(pipefd), 0);
        pid_t holder = fork();
        if (holder == 0) {
                close(pipefd[0]);
                machipc_disconnect();
                int r = machipc_connect(NULL);
                char c = r == 0 ? 'y' : 'n';
                if (write(pipefd[1], &c, 1) != 1)
                        _exit(1);
                pause();
                _exit(0);
        }
        close(pipefd[1]);
        char c = 0;
        ck_assert_int_eq(read(pipefd[0], &c, 1), 1);
        ck_assert_int_eq(c, 'y');
        pid_t b = test_fork(try_connect, NULL);
        ck_assert_int_eq(test_wait(b), 3);
        kill(holder, SIGKILL);
        ck_assert_int_eq(test_wait(holder), 128 + SIGKILL);
        close(pipefd[0]);
        /* Names count per uid too. */
        port_t p;
        kern_return_t kr;
        int made = 0;
        while ((kr = port_allocate(task_self(), &p)) == KERN_SUCCESS)
                ck_assert_int_lt(++made, 40);
        ck_assert_int_eq(kr, KERN_NO_SPACE);
        test_broker_terminate(&lb);
}
END_TEST

START_TEST(test_bad_limit_options) {
        char out[4096], cmd[512];
        const char *bad[] = { "--limit=task.tasks=3", "--limit=foo.names=1", "--limit=task.nope=1",
                              "--limit=task.names=0", "--limit=task.names", "--allow-group=x" };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                snprintf(cmd, sizeof(cmd), "%s %s 2>&1", getenv("MACHIPC_TEST_BROKER"), bad[i]);
                ck_assert_int_eq(test_run_capture(cmd, out, sizeof(out)), 2);
        }
}
END_TEST

/* As `nobody`, try to reach the broker; exit 0 if connected, 5 if refused. */
static int as_nobody(void *arg) {
        (void)arg;
        struct passwd *pw = getpwnam("nobody");
        if (!pw || setgroups(0, NULL) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0)
                return 9;
        int r = machipc_connect(NULL);
        if (r == 0) {
                port_t p;
                return port_allocate(task_self(), &p) == 0 ? 0 : 6;
        }
        return 5;
}

START_TEST(test_access_by_uid_and_group) {
        if (getuid() != 0 || !getpwnam("nobody"))
                return;         /* needs root to become another user; CI runs as root */
        start(NULL);
        pid_t pid = test_fork(as_nobody, NULL);
        ck_assert_int_eq(test_wait(pid), 5);
        test_broker_terminate(&lb);
        struct passwd *pw = getpwnam("nobody");
        char arg[64];
        snprintf(arg, sizeof(arg), "--allow-group=%u", (unsigned)pw->pw_gid);
        start((const char *const[]){ arg, NULL });
        pid = test_fork(as_nobody, NULL);
        ck_assert_int_eq(test_wait(pid), 0);
        test_broker_terminate(&lb);
}
END_TEST

typedef struct {
        uint32_t names[3];
} Foreign;

/* Try the parent's names (known only as numbers) in our own space. */
static int use_foreign_names(void *arg) {
        Foreign *f = arg;
        for (int i = 0; i < 3; i++) {
                port_type_t t = 0;
                /* Whatever the number denotes here is ours, not the parent's. */
                if (port_type(task_self(), f->names[i], &t) == KERN_SUCCESS && t == PORT_TYPE_RECEIVE)
                        continue;
                msg_return_t r = test_send_int(f->names[i], 7, 7, 0, 0, SEND_TIMEOUT, 0);
                if (r == 0)
                        return 10 + i;  /* reached something it was never given */
                int32_t v;
                if (test_recv_int(f->names[i], NULL, &v, NULL, RCV_TIMEOUT, 0) != RCV_INVALID_NAME)
                        return 20 + i;
        }
        return 0;
}

START_TEST(test_foreign_names) {
        start(NULL);
        /* Allocate past the names a fresh task starts with, so ours cannot coincide. */
        port_t filler[8];
        for (int i = 0; i < 8; i++)
                ck_assert_int_eq(port_allocate(task_self(), &filler[i]), 0);
        Foreign f;
        for (int i = 0; i < 3; i++)
                ck_assert_int_eq(port_allocate(task_self(), &f.names[i]), 0);
        pid_t pid = test_fork(use_foreign_names, &f);
        ck_assert_int_eq(test_wait(pid), 0);
        for (int i = 0; i < 3; i++) {
                port_status_t st;
                ck_assert_int_eq(port_status(task_self(), f.names[i], &st), 0);
                ck_assert_uint_eq(st.msgcount, 0);      /* nothing arrived */
        }
        test_broker_terminate(&lb);
}
END_TEST

int main(void) {
        Suite *s = suite_create("Limits");
        TCase *tc = tcase_create("limits");
        tcase_set_timeout(tc, 60);
        ADD_TEST(tc, test_task_messages);
        ADD_TEST(tc, test_task_bytes_fds_ool);
        ADD_TEST(tc, test_uid_messages_outlive_sender);
        ADD_TEST(tc, test_uid_tasks_and_names);
        ADD_TEST(tc, test_bad_limit_options);
        ADD_TEST(tc, test_access_by_uid_and_group);
        ADD_TEST(tc, test_foreign_names);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
