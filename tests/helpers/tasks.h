#pragma once
/* SPDX-License-Identifier: MIT */
/* tasks.h - test helpers for several tasks at once: rights handed to children, the broker's counters */

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
