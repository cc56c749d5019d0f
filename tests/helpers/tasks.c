/* SPDX-License-Identifier: MIT */
/* tasks.c - test helpers for several tasks at once (tasks.h) */

#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "broker.h"
#include "tasks.h"

port_t test_new_port(uint32_t backlog) {
        port_t p;
        ck_assert_int_eq(port_allocate(task_self(), &p), KERN_SUCCESS);
        ck_assert_int_eq(port_set_backlog(task_self(), p, backlog), KERN_SUCCESS);
        return p;
}

port_t test_child_get_right(port_t *mine) {
        port_t boot = test_bootstrap_lookup(), right = PORT_NULL;
        if (port_allocate(task_self(), mine) != 0 ||
            test_send_int(boot, TEST_ID_HELLO, 0, *mine, MSG_TYPE_MAKE_SEND, 0, 0) != 0 ||
            test_recv_int(*mine, NULL, NULL, &right, 0, 0) != 0)
                return PORT_NULL;
        return right;
}

port_t test_parent_give(port_t boot, port_t right, uint16_t disp) {
        int32_t id;
        port_t child = PORT_NULL;
        ck_assert_int_eq(test_recv_int(boot, &id, NULL, &child, RCV_TIMEOUT, 10000), 0);
        ck_assert_int_eq(id, TEST_ID_HELLO);
        ck_assert_int_eq(test_send_int(child, TEST_ID_RIGHT, 0, right, disp, 0, 0), 0);
        return child;
}

unsigned long long test_stat(pid_t pid, const char *key) {
        char *text = NULL;
        ck_assert_int_eq(machipc_broker_info(&text, NULL), 0);
        char want[64], line_key[48];
        snprintf(line_key, sizeof(line_key), pid ? " pid %d " : "broker ", (int)pid);
        snprintf(want, sizeof(want), " %s ", key);
        unsigned long long v = ~0ull;
        for (char *line = text, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                if ((pid && strncmp(line, "task ", 5) != 0) || !strstr(line, line_key))
                        continue;
                char *p = strstr(line, want);
                if (p)
                        v = strtoull(p + strlen(want), NULL, 10);
                break;
        }
        free(text);
        ck_assert_msg(v != ~0ull, "no %s for pid %d", key, (int)pid);
        return v;
}

void test_wait_gone(pid_t pid) {
        char key[32];
        snprintf(key, sizeof(key), " pid %d ", (int)pid);
        uint64_t deadline = test_now_ms() + 10000;
        for (;;) {
                char *text = NULL;
                ck_assert_int_eq(machipc_broker_info(&text, NULL), 0);
                bool there = strstr(text, key) != NULL;
                free(text);
                if (!there)
                        return;
                ck_assert_msg(test_now_ms() < deadline, "task %d still there", (int)pid);
                usleep(1000);
        }
}

bool test_task_listed(pid_t pid) {
        char *text = NULL, key[32];
        ck_assert_int_eq(machipc_broker_info(&text, NULL), 0);
        snprintf(key, sizeof(key), " pid %d ", (int)pid);
        bool r = strstr(text, key) != NULL;
        free(text);
        return r;
}

port_status_t test_status(port_t p) {
        port_status_t st;
        ck_assert_int_eq(port_status(task_self(), p, &st), KERN_SUCCESS);
        return st;
}

void test_wait_count(port_t p, uint32_t n) {
        uint64_t deadline = test_now_ms() + 10000;
        uint32_t have;
        while ((have = test_status(p).msgcount) < n && test_now_ms() < deadline)
                usleep(500);
        ck_assert_uint_eq(have, n);
}

bool test_step_wait(const TestSteps *s) {
        char c;
        return read(s->in, &c, 1) == 1 && c != 'q';
}

void test_step_done(const TestSteps *s, char c) {
        if (write(s->out, &c, 1) != 1)
                _exit(90);
}

void test_tell(int fd, char c) {
        ck_assert_int_eq(write(fd, &c, 1), 1);
}

char test_hear(int fd) {
        char c = 0;
        ck_assert_int_eq(read(fd, &c, 1), 1);
        return c;
}

void test_child_start(TestChild *c, int (*fn)(void *), int base) {
        ck_assert_int_eq(pipe(c->to), 0);
        ck_assert_int_eq(pipe(c->from), 0);
        c->steps = (TestSteps){ c->to[0], c->from[1], base };
        c->pid = test_fork(fn, &c->steps);
}

int test_child_end(TestChild *c) {
        test_tell(c->to[1], 'q');
        int st = test_wait(c->pid);
        close(c->to[0]);
        close(c->to[1]);
        close(c->from[0]);
        close(c->from[1]);
        return st;
}
