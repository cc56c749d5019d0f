/* SPDX-License-Identifier: MIT */
/*
 * paths.c - where the broker's socket is, decided the same way by both sides
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <machipc/conn.h>
#include "wire.h"

/* wire_default_socket_path() - $XDG_RUNTIME_DIR/machipc/socket, else /tmp/machipc-$UID/socket. */
int wire_default_socket_path(char *buf, size_t size) {
        const char *xdg = getenv("XDG_RUNTIME_DIR");
        int n = xdg && *xdg ? snprintf(buf, size, "%s/machipc/socket", xdg)
                            : snprintf(buf, size, "/tmp/machipc-%u/socket", (unsigned)getuid());
        return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/**
 * wire_socket_path() - the socket path in effect
 * @override: an explicit path (-s PATH, machipc_connect(path)), or NULL
 * @buf, @size: where to write it
 *
 * @override, else $MACHIPC_SOCKET, else the default path.
 * Return: 0 or -ENAMETOOLONG.
 */
int wire_socket_path(const char *override, char *buf, size_t size) {
        const char *env = getenv(MACHIPC_SOCKET_ENV);
        const char *path = override ? override : (env && *env) ? env : NULL;
        if (!path)
                return wire_default_socket_path(buf, size);
        int n = snprintf(buf, size, "%s", path);
        return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}
