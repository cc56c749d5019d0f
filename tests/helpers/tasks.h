#pragma once
/* SPDX-License-Identifier: MIT */
/* tasks.h - test helpers for several tasks at once: rights handed to children, the broker's counters */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <machipc/machipc.h>

/* Message ids of the rendezvous below. */
enum { TEST_ID_HELLO = 100, TEST_ID_RIGHT = 101 };

/* A port of this task with @backlog. */
port_t test_new_port(uint32_t backlog);

/* Child side of a rendezvous over the bootstrap port: announce a port of our
 * own (*@mine), receive a right on it.  Returns the right, or PORT_NULL. */
port_t test_child_get_right(port_t *mine);
/* Parent side: take a child's hello from @boot and send it @right (@disp).
 * Returns the child's port (a send right). */
port_t test_parent_give(port_t boot, port_t right, uint16_t disp);

/* A counter of the broker's "task" line for process @pid, or of its "broker" line (@pid 0). */
unsigned long long test_stat(pid_t pid, const char *key);
/* Wait until the broker no longer lists process @pid (it learns of an exit when it reads the socket). */
void test_wait_gone(pid_t pid);
/* Is process @pid a task of the broker now? */
bool test_task_listed(pid_t pid);
/* port_status() of a port of ours, asserted to succeed. */
port_status_t test_status(port_t p);
/* Wait until @p holds @n messages (one-way sends count once the broker has read them). */
void test_wait_count(port_t p, uint32_t n);

/* A child driven step by step: it waits for a byte on @in and answers on @out. */
typedef struct {
        int in, out;
        int base;       /* a number of the test's choosing (where its values start...) */
} TestSteps;

/* Child side: the next step ('q' or a closed pipe: stop, false); its answer. */
bool test_step_wait(const TestSteps *s);
void test_step_done(const TestSteps *s, char c);

/* Parent side. */
typedef struct {
        pid_t pid;
        int to[2], from[2];
        TestSteps steps;
} TestChild;

void test_child_start(TestChild *c, int (*fn)(void *), int base);
/* Tell it to stop; returns its exit status. */
int test_child_end(TestChild *c);
void test_tell(int fd, char c);
char test_hear(int fd);
