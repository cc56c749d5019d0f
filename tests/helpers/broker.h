#pragma once
/* SPDX-License-Identifier: MIT */
/* broker.h - test helpers: a real machipcd on a private socket, and task processes */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <machipc/machipc.h>

typedef struct {
        pid_t pid;
        char dir[64];
        char path[96];
} TestBroker;

/* Spawn machipcd (from $MACHIPC_TEST_BROKER) on a socket in a fresh mkdtemp
 * directory, wait for READY on its readiness fd, and export MACHIPC_SOCKET.
 * @extra: more arguments, NULL-terminated (may be NULL). */
void test_broker_spawn(TestBroker *b, const char *const *extra);
/* SIGTERM, reap, assert it exited 0 (sanitizer leak reports make it fail). */
void test_broker_terminate(TestBroker *b);
/* Start a helper binary with --ready-fd and wait for READY; returns its pid. */
pid_t test_spawn_ready(const char *path, const char *const *args);
/* SIGTERM a helper and return its exit status (-1 if killed by a signal). */
int test_stop(pid_t pid);

/* Run @fn in a child process, a separate task; returns its pid. The child
 * exits with what @fn returns (0..125; anything else gives 1). */
pid_t test_fork(int (*fn)(void *), void *arg);
/* Wait for a child; returns its exit status, or 128+signal. */
int test_wait(pid_t pid);
/* Run @fn in a child of uid and gid 65534, a task of a broker of its own that lets group 65534
 * in; returns its exit status (10, 11: it could not become that user or connect).  Needs
 * root.  The caller's connection is closed; its next call connects to $MACHIPC_SOCKET as it was. */
int test_run_as_nobody(int (*fn)(void *), void *arg);

/* Rendezvous without a name server: the test's main task registers a port as
 * the bootstrap port, and children send to it. */
port_t test_bootstrap_serve(void);
port_t test_bootstrap_lookup(void);

/* Send a message with one MSG_TYPE_INTEGER_32 value and optionally one right. */
msg_return_t test_send_int(port_t dest, int32_t id, int32_t value, port_t right, uint16_t disp,
                           msg_option_t opt, msg_timeout_t timeout);
/* Receive such a message; *valuep and *rightp may be NULL. */
msg_return_t test_recv_int(port_t port, int32_t *idp, int32_t *valuep, port_t *rightp,
                           msg_option_t opt, msg_timeout_t timeout);

/* Run a shell command; its stdout goes to @out.  Returns its exit status. */
int test_run_capture(const char *cmd, char *out, size_t size);

uint64_t test_now_ms(void);
/* Number of open file descriptors of process @pid (0 = self). */
int test_count_fds(pid_t pid);

typedef struct {
        msg_header_t head;
        msg_type_t t;
        int32_t value;
        int32_t pad;
        msg_type_t rt;
        port_t right;
        uint32_t pad2;
} TestIntMsg;
