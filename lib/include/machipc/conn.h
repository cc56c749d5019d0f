#pragma once
/* SPDX-License-Identifier: MIT */
/* machipc/conn.h - the connection to the broker */

#include <stddef.h>
#include <machipc/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Environment variable naming the broker's socket. */
#define MACHIPC_SOCKET_ENV "MACHIPC_SOCKET"

/**
 * machipc_connect() - connect this process to a broker
 * @path: the socket; NULL means $MACHIPC_SOCKET, else the default path
 *
 * Optional: every call connects on first use.  After fork() the child is a
 * new task and connects afresh on first use.
 *
 * Return: 0, -EISCONN if already connected, -EPROTO for a broker speaking
 * another protocol version, -EUSERS when the broker's quota of tasks for this
 * uid is full, or a negative errno from socket()/connect() (-EACCES: this uid
 * may not reach the socket).
 */
MACHIPC_EXPORT int machipc_connect(const char *path);

/**
 * machipc_disconnect() - close the connection; the broker reclaims every
 * right the task held.  Calls made afterwards connect again.
 */
MACHIPC_EXPORT void machipc_disconnect(void);

/**
 * machipc_default_socket() - the default socket path
 * @buf, @size: where to write it
 *
 * $XDG_RUNTIME_DIR/machipc/socket when XDG_RUNTIME_DIR is set, else
 * /tmp/machipc-$UID/socket.  Return: 0 or -ENAMETOOLONG.
 */
MACHIPC_EXPORT int machipc_default_socket(char *buf, size_t size);

/**
 * machipc_socket_path() - the socket machipc_connect(NULL) would use
 * @buf, @size: where to write it
 *
 * $MACHIPC_SOCKET when set, else machipc_default_socket().  For messages
 * such as "cannot connect to machipcd at PATH".  Return: 0 or -ENAMETOOLONG.
 */
MACHIPC_EXPORT int machipc_socket_path(char *buf, size_t size);

/**
 * machipc_task_id() - the broker's id for this task (for logs); 0 when
 * not connected.
 */
MACHIPC_EXPORT uint32_t machipc_task_id(void);

/*
 * Event loops.  The library stays loop-agnostic (as sd-bus and wayland do):
 * watch machipc_get_fd() for reading in any loop; when it is readable call
 * machipc_dispatch(), then take what arrived with msg_receive(...,
 * RCV_TIMEOUT, 0) on the ports armed with machipc_arm(), until it says
 * RCV_TIMED_OUT.  An armed port's messages are handed over by the broker as
 * they come, so none of this asks the broker anything: no thread, no
 * polling, no round trip per message.  Other threads may make blocking
 * calls meanwhile, on the same task.  machipc/event.h does it for libevent.
 */

/**
 * machipc_get_fd() - a descriptor that is readable while this task has
 * something to process: a message an armed port received, a reply nobody
 * read yet, a port whose next message needs a real receive
 *
 * Level-triggered, for poll, epoll, select or any loop; the task owns it
 * (do not close it).  Connects on first use.
 * Return: the descriptor, or a negative errno.
 */
MACHIPC_EXPORT int machipc_get_fd(void);

/**
 * machipc_dispatch() - process what the broker wrote, without waiting
 *
 * Files the messages handed ahead, hands replies to the threads waiting
 * for them, and clears the readiness of machipc_get_fd() when nothing is
 * left.  Never blocks.
 * Return: the number of messages now waiting to be taken by msg_receive(),
 * or a negative errno (-ECONNRESET: the broker is gone).
 */
MACHIPC_EXPORT int machipc_dispatch(void);

/**
 * machipc_arm() - have the broker hand @port's messages to this task as
 * they arrive, without a call for each
 * @port: a port whose receive right the task holds, or a port set
 *
 * msg_receive() on it then takes them with no request to the broker (a
 * blocking one waits for the next, as always).  They stay in the port's
 * count (backlog, port_status) until taken; sending its receive right
 * away, destroying it, disarming or ending the task gives back what was
 * not taken, to the head of the queue and in order.  A message carrying
 * descriptors or out-of-line regions in memfds is not handed ahead: the
 * next msg_receive() fetches it (one round trip), after which handing ahead
 * goes on.  Up to 64 messages at a time per port.
 * Return: 0, RCV_INVALID_NAME (not a receive right or set of this task),
 * KERN_RESOURCE_SHORTAGE, -EOPNOTSUPP (the broker speaks protocol 1.0),
 * -errno.
 */
MACHIPC_EXPORT int machipc_arm(port_t port);

/**
 * machipc_disarm() - stop handing @port's messages ahead; those not taken
 * go back to the port, in order
 * Return: 0 (also when it was not armed), -errno.
 */
MACHIPC_EXPORT int machipc_disarm(port_t port);

#ifdef __cplusplus
}
#endif
