/* SPDX-License-Identifier: MIT */
/* common.c - machipc-tour's output, checks, child tasks and small messages */

#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "tour.h"

bool tour_short;
int tour_failures;

void say(const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        fputs("    ", stdout);
        vprintf(fmt, ap);
        fputc('\n', stdout);
        va_end(ap);
        fflush(stdout);
}

bool check(bool ok, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        fputs(ok ? "  ok    " : "  FAIL  ", stdout);
        vprintf(fmt, ap);
        fputc('\n', stdout);
        va_end(ap);
        fflush(stdout);
        if (!ok)
                tour_failures++;
        return ok;
}

void measured(const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        fputs("  measured  ", stdout);
        vprintf(fmt, ap);
        fputc('\n', stdout);
        va_end(ap);
        fflush(stdout);
}

void fail_now(const char *what, int code) {
        fprintf(stderr, "machipc-tour: %s: %s\n", what, machipc_strerror(code));
        exit(1);
}

pid_t spawn(int (*fn)(void *), void *arg) {
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0)
                fail_now("fork", -errno);
        if (pid == 0) {
                int r = fn(arg);
                fflush(NULL);
                _exit(r >= 0 && r < 126 ? r : 1);
        }
        return pid;
}

int reap(pid_t pid) {
        int st;
        while (waitpid(pid, &st, 0) < 0)
                if (errno != EINTR)
                        return -1;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

double now_us(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

int count(int full, int small) {
        return tour_short ? small : full;
}

port_t new_port(uint32_t backlog) {
        port_t p;
        kern_return_t kr = port_allocate(task_self(), &p);
        if (kr == KERN_SUCCESS)
                kr = port_set_backlog(task_self(), p, backlog);
        if (kr != KERN_SUCCESS)
                fail_now("port_allocate", kr);
        return p;
}

static void name_of(pid_t pid, const char *what, char *buf, size_t size) {
        snprintf(buf, size, "tour-%d-%s", (int)pid, what);
}

/*
 * The name server's port, given explicitly: names the tour checks in need not outlive a restart
 * of the name server, so the library keeps no thread for them (the tour forks a lot).
 */
static port_t name_server(void) {
        static port_t ns;
        static pid_t for_pid;
        if (!ns || for_pid != getpid()) {
                ns = PORT_NULL;
                task_get_bootstrap_port(task_self(), &ns);
                for_pid = getpid();
        }
        return ns;
}

void publish(port_t port, const char *what) {
        char name[NETNAME_MAX];
        name_of(getpid(), what, name, sizeof(name));
        port_t ns = name_server();
        kern_return_t kr = ns ? netname_check_in(ns, name, PORT_NULL, port) : NETNAME_NO_SERVER;
        if (kr != NETNAME_SUCCESS)
                fail_now("netname_check_in (is machipc-nameserver running?)", kr);
}

void unpublish(const char *what) {
        char name[NETNAME_MAX];
        name_of(getpid(), what, name, sizeof(name));
        netname_check_out(name_server(), name, PORT_NULL);
}

port_t find(pid_t pid, const char *what) {
        char name[NETNAME_MAX];
        name_of(pid, what, name, sizeof(name));
        port_t p = PORT_NULL;
        double deadline = now_us() + 10e6;
        kern_return_t kr;
        /* The other task publishes when it is ready: look until it has. */
        while ((kr = netname_look_up(PORT_NULL, NULL, name, &p)) == NETNAME_NOT_CHECKED_IN && now_us() < deadline)
                sched_yield();
        if (kr != NETNAME_SUCCESS)
                fail_now(name, kr);
        return p;
}

typedef struct {
        msg_header_t h;
        msg_type_t t;
        int32_t value;
        int32_t pad;
        msg_type_t rt;
        port_t right;
        uint32_t pad2;
} IntMsg;

msg_return_t send_int(port_t dest, int32_t id, int32_t value, port_t right, uint16_t disp, msg_option_t opt,
                      msg_timeout_t timeout) {
        IntMsg m = { .h = { .msg_remote_port = dest, .msg_id = id },
                     .t = { MSG_TYPE_INTEGER_32, 0, 1 }, .value = value };
        m.h.msg_size = sizeof(msg_header_t) + MSG_ITEM_SIZE(4);
        if (disp) {
                m.rt = (msg_type_t){ disp, 0, 1 };
                m.right = right;
                m.h.msg_size = sizeof(m);
        }
        return msg_send(&m.h, opt, timeout);
}

msg_return_t recv_int(port_t port, int32_t *id, int32_t *value, port_t *right, msg_option_t opt,
                      msg_timeout_t timeout) {
        IntMsg m = { .h = { .msg_size = sizeof(m), .msg_local_port = port } };
        msg_return_t r = msg_receive(&m.h, opt, timeout);
        if (r != 0)
                return r;
        if (id)
                *id = m.h.msg_id;
        if (value)
                *value = m.value;
        if (right)
                *right = m.h.msg_size >= sizeof(m) ? m.right : PORT_NULL;
        return 0;
}
