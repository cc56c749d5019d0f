#pragma once
/* SPDX-License-Identifier: MIT */
/* machipc/netname.h - the name server: check in, look up, check out */

#include <machipc/types.h>
#include <machipc/return.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NETNAME_MAX 128  /* bytes of a name, NUL included */

/* Message ids of the name-server protocol (replies: id + 100). */
#define NETNAME_MSG_CHECK_IN 1040
#define NETNAME_MSG_LOOK_UP 1041
#define NETNAME_MSG_CHECK_OUT 1042

/*
 * In all three calls @server is the name server's port; PORT_NULL means the
 * broker's bootstrap port (task_get_bootstrap_port()), fetched again if the
 * name server was restarted.
 */

/**
 * netname_check_in() - publish a send right to @port under @name
 * @signature: a port whose send right must be shown to check the name out
 *             (PORT_NULL: anyone may check it out)
 *
 * Return: NETNAME_SUCCESS, NETNAME_NAME_IN_USE, NETNAME_INVALID_PORT,
 * NETNAME_NO_SERVER, KERN_INVALID_ARGUMENT (bad name), any msg_rpc() code.
 */
MACHIPC_EXPORT kern_return_t netname_check_in(port_t server, const char *name,
                                              port_t signature, port_t port);

/**
 * netname_look_up() - get a send right to the port checked in as @name
 * @host: NULL, "" or "localhost"; any other host gives NETNAME_NO_SUCH_HOST
 * @port: out
 *
 * Return: NETNAME_SUCCESS, NETNAME_NOT_CHECKED_IN, NETNAME_NO_SUCH_HOST,
 * NETNAME_NO_SERVER, KERN_INVALID_ARGUMENT, any msg_rpc() code.
 */
MACHIPC_EXPORT kern_return_t netname_look_up(port_t server, const char *host,
                                             const char *name, port_t *port);

/**
 * netname_check_out() - withdraw @name
 * @signature: the signature given at check-in
 *
 * Return: NETNAME_SUCCESS, NETNAME_NOT_CHECKED_IN, NETNAME_NOT_YOURS,
 * NETNAME_NO_SERVER, KERN_INVALID_ARGUMENT, any msg_rpc() code.
 */
MACHIPC_EXPORT kern_return_t netname_check_out(port_t server, const char *name,
                                               port_t signature);

#ifdef __cplusplus
}
#endif
