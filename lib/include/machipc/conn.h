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

#ifdef __cplusplus
}
#endif
