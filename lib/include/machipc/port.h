#pragma once
/* SPDX-License-Identifier: MIT */
/* machipc/port.h - port and port-set calls (requests to a task's kernel port) */

#include <stddef.h>
#include <machipc/types.h>
#include <machipc/return.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Queue limits.  A backlog counts messages: 0 (rendezvous) to
 * PORT_BACKLOG_MAX, as Mach's qlimit (XNU's MACH_PORT_QLIMIT_MAX is 1,024
 * too; GNU Mach's 16).  PORT_BACKLOG_UNLIMITED sets no count: the queue is
 * bounded only by the receiving task's quotas of messages and bytes
 * (machipcd --limit task.messages / task.bytes); a sender meets a full
 * queue only there.
 */
#define PORT_BACKLOG_DEFAULT 8u
#define PORT_BACKLOG_MAX 1024u
#define PORT_BACKLOG_UNLIMITED 0xffffffffu

/* Right kinds a name can denote (bits of port_type_t). */
typedef uint32_t port_type_t;
#define PORT_TYPE_SEND 0x1u
#define PORT_TYPE_RECEIVE 0x2u
#define PORT_TYPE_SEND_ONCE 0x4u
#define PORT_TYPE_PORT_SET 0x8u
#define PORT_TYPE_DEAD_NAME 0x10u

/* Right selectors for port_get_refs() and port_mod_refs() (Mach's values). */
typedef uint32_t port_right_t;
#define PORT_RIGHT_SEND 0u
#define PORT_RIGHT_RECEIVE 1u
#define PORT_RIGHT_SEND_ONCE 2u
#define PORT_RIGHT_PORT_SET 3u
#define PORT_RIGHT_DEAD_NAME 4u

/* Most user references one name can hold for a send right or dead name. */
#define PORT_UREFS_MAX 65535u

typedef struct {
        uint32_t backlog;      /* queue limit */
        uint32_t msgcount;     /* messages queued now */
        uint32_t has_receive;  /* 1 if the task holds the receive right */
        uint32_t n_send;       /* send rights to the port, everywhere */
        uint32_t n_send_once;  /* send-once rights to the port, everywhere */
        uint32_t seqno;        /* sequence number of the next message */
        uint32_t mscount;      /* make-send count */
        port_t set;            /* port set it is in (receiver only), or PORT_NULL */
        uint32_t n_blocked;    /* senders waiting for room */
        uint32_t urefs;        /* the task's user references to its send right */
        uint32_t n_receivers;  /* receives waiting on it now */
} port_status_t;

/**
 * task_self() - the calling task's kernel port (a send right)
 *
 * Connects to the broker on first use.  Return: the name, or PORT_NULL if
 * the broker cannot be reached.
 */
MACHIPC_EXPORT port_t task_self(void);

/**
 * task_notify() - the calling task's notify port (the task holds receive)
 *
 * Return: the name, or PORT_NULL if the broker cannot be reached.
 */
MACHIPC_EXPORT port_t task_notify(void);

/**
 * port_allocate() - create a port; the task holds its receive right
 * @task: a task's kernel port (usually task_self())
 * @name: out, the new name
 *
 * Return: KERN_SUCCESS, KERN_NO_SPACE, KERN_RESOURCE_SHORTAGE,
 * KERN_INVALID_TASK (or a send code when @task is not a kernel port), -errno.
 */
MACHIPC_EXPORT kern_return_t port_allocate(port_t task, port_t *name);

/**
 * port_deallocate() - give up a right
 * @task: kernel port of the task whose name space holds @name
 * @name: the name
 *
 * A receive right or port set is destroyed with everything else under the
 * name: queued messages are destroyed, waiting receivers get RCV_PORT_DIED,
 * waiting senders get SEND_INVALID_DEST with their message returned, and
 * every send right elsewhere becomes a dead name.  A send right or dead name
 * loses one user reference; a send-once right is destroyed.
 *
 * Return: KERN_SUCCESS, KERN_INVALID_NAME, KERN_INVALID_TASK, -errno.
 */
MACHIPC_EXPORT kern_return_t port_deallocate(port_t task, port_t name);

/**
 * port_status() - the state of a port
 * @task, @name: as port_deallocate(); any right to the port will do.  For a
 *               port set only n_receivers and msgcount (messages waiting in
 *               its members) are filled in; for a semaphore, msgcount is its
 *               count and n_receivers the tasks waiting on it.
 * @status: out
 *
 * Return: KERN_SUCCESS, KERN_INVALID_NAME, KERN_INVALID_RIGHT (a dead name),
 * KERN_INVALID_TASK, -errno.
 */
MACHIPC_EXPORT kern_return_t port_status(port_t task, port_t name, port_status_t *status);

/**
 * port_set_backlog() - set a port's queue limit
 * @task, @name: the task must hold the receive right
 * @backlog: 0 (rendezvous) to PORT_BACKLOG_MAX, or PORT_BACKLOG_UNLIMITED
 *
 * Return: KERN_SUCCESS, KERN_INVALID_NAME, KERN_INVALID_RIGHT,
 * KERN_INVALID_VALUE, KERN_INVALID_TASK, -errno.
 */
MACHIPC_EXPORT kern_return_t port_set_backlog(port_t task, port_t name, uint32_t backlog);

/**
 * port_type() - the kinds of rights a name denotes
 *
 * Return: KERN_SUCCESS, KERN_INVALID_NAME, KERN_INVALID_TASK, -errno.
 */
MACHIPC_EXPORT kern_return_t port_type(port_t task, port_t name, port_type_t *type);

/**
 * port_set_allocate() - create an empty port set
 *
 * Return: KERN_SUCCESS, KERN_NO_SPACE, KERN_RESOURCE_SHORTAGE,
 * KERN_INVALID_TASK, -errno.
 */
MACHIPC_EXPORT kern_return_t port_set_allocate(port_t task, port_set_name_t *set);

/**
 * port_set_add() - put a port whose receive right the task holds into a set
 *
 * A port is in at most one set.  Receiving on the set takes from any member
 * in turn; receiving on the member directly still works.
 *
 * Return: KERN_SUCCESS, KERN_INVALID_NAME, KERN_INVALID_RIGHT,
 * KERN_ALREADY_IN_SET, KERN_INVALID_TASK, -errno.
 */
MACHIPC_EXPORT kern_return_t port_set_add(port_t task, port_set_name_t set, port_t port);

/**
 * port_set_remove() - take a port out of its set
 *
 * Return: KERN_SUCCESS, KERN_INVALID_NAME, KERN_INVALID_RIGHT,
 * KERN_NOT_IN_SET, KERN_INVALID_TASK, -errno.
 */
MACHIPC_EXPORT kern_return_t port_set_remove(port_t task, port_t port);

/**
 * port_names() - every name in a task's space with its right types
 * @names, @types: out, arrays of *@count entries the caller frees with free()
 *
 * Return: KERN_SUCCESS, KERN_INVALID_TASK, -ENOMEM, -errno.
 */
MACHIPC_EXPORT kern_return_t port_names(port_t task, port_t **names, port_type_t **types,
                                        uint32_t *count);

/**
 * port_get_refs() - user references @name holds for one kind of right
 * @right: PORT_RIGHT_*; 1 or 0 for receive, send-once and port-set rights
 *
 * A name holding a different kind of right gives 0, not an error.
 * Return: KERN_SUCCESS, KERN_INVALID_NAME, KERN_INVALID_VALUE (bad @right),
 * KERN_INVALID_TASK, -errno.
 */
MACHIPC_EXPORT kern_return_t port_get_refs(port_t task, port_t name, port_right_t right,
                                           uint32_t *refs);

/**
 * port_mod_refs() - add @delta user references to a right
 *
 * Send rights and dead names count references up to PORT_UREFS_MAX; going
 * to 0 releases the right.  Receive, send-once and port-set rights take
 * only -1 (destroy) or 0.  Destroying a receive right this way leaves any
 * send references under the name as a dead name.
 * Return: KERN_SUCCESS, KERN_INVALID_NAME, KERN_INVALID_RIGHT (the name lacks
 * that right), KERN_INVALID_VALUE (below zero, bad @right),
 * KERN_UREFS_OVERFLOW (above PORT_UREFS_MAX), KERN_INVALID_TASK, -errno.
 */
MACHIPC_EXPORT kern_return_t port_mod_refs(port_t task, port_t name, port_right_t right,
                                           int32_t delta);

/**
 * port_request_notification() - be told when a right changes
 * @variant: NOTIFY_DEAD_NAME (on a send or send-once right: its port died;
 *           the dead name gains one reference), NOTIFY_NO_SENDERS (on a
 *           receive right: the last send right went; body: the make-send
 *           count), NOTIFY_PORT_DESTROYED (on a receive right: instead of
 *           dying with its holder, the receive right is sent to @notify)
 * @sync: NOTIFY_NO_SENDERS: fire at once if there are no send rights and
 *        the make-send count is at least @sync
 * @notify: a port whose receive right the task holds; PORT_NULL for the
 *          task's notify port; PORT_DEAD cancels the request
 *
 * One request per variant and right; a new one replaces the old.  A name
 * with a dead-name request that stops naming the right gets
 * NOTIFY_PORT_DELETED instead.
 * Return: KERN_SUCCESS, KERN_INVALID_NAME, KERN_INVALID_RIGHT,
 * KERN_INVALID_VALUE (unknown variant, a port as its own backup),
 * KERN_INVALID_CAPABILITY (@notify is not a receive right),
 * KERN_RESOURCE_SHORTAGE, KERN_INVALID_TASK, -errno.
 */
MACHIPC_EXPORT kern_return_t port_request_notification(port_t task, port_t name, int32_t variant,
                                                       uint32_t sync, port_t notify);

/**
 * machipc_broker_info() - the broker's tasks, ports and rights as text
 * @text: out, NUL-terminated, the caller frees it
 * @len: out, its length (may be NULL)
 *
 * The format (one record per line) is in doc/api.md, "machipcctl".
 * Return: 0, KERN_RESOURCE_SHORTAGE, -ENOMEM, -errno.
 */
MACHIPC_EXPORT int machipc_broker_info(char **text, size_t *len);

/* The msg_id of the broker's trace messages to a monitor's port. */
#define MACHIPC_MONITOR_ID 3200

/**
 * machipc_monitor() - have the broker trace the messages it moves to @port
 * @port: a port of ours (receive right); the broker keeps a send right
 * @port_id: only messages to the port with this broker-wide id, as
 *           machipcctl shows it (0: every port)
 * @pid: only messages from or to this process (0: every process)
 *
 * For each message one task sends to another's port, a message with id
 * MACHIPC_MONITOR_ID and one MSG_TYPE_CHAR item arrives on @port: one line of
 * "key value" pairs (doc/api.md, "Monitor lines").  At most MONITOR_QUEUE_MAX
 * (1024) lines wait on @port; further lines are dropped and counted, and the
 * next line says how many were lost.  The monitor's own messages are not
 * traced.  It ends when @port is destroyed.  Only tasks of the broker's uid
 * may monitor, at most 8 at once.
 * Return: KERN_SUCCESS, KERN_NO_ACCESS (another uid), KERN_INVALID_RIGHT (not
 * a receive right of ours), KERN_RESOURCE_SHORTAGE, -errno.
 */
MACHIPC_EXPORT kern_return_t machipc_monitor(port_t port, uint64_t port_id, int32_t pid);

/**
 * task_get_bootstrap_port() - a send right to the name server
 * @port: out; PORT_NULL when no name server has registered
 *
 * Each call adds a user reference to the returned name.
 * Return: KERN_SUCCESS, KERN_INVALID_TASK, -errno.
 */
MACHIPC_EXPORT kern_return_t task_get_bootstrap_port(port_t task, port_t *port);

/**
 * machipc_set_bootstrap_port() - make @port the broker's bootstrap port
 * @port: a port whose receive right the calling task holds
 *
 * Every task connecting afterwards receives a send right to it, and
 * task_get_bootstrap_port() returns it.  Only one may be registered while
 * its port is alive.
 *
 * Return: KERN_SUCCESS, KERN_NAME_EXISTS (a live one is registered),
 * KERN_INVALID_NAME, KERN_INVALID_RIGHT, -errno.
 */
MACHIPC_EXPORT kern_return_t machipc_set_bootstrap_port(port_t port);

#ifdef __cplusplus
}
#endif
