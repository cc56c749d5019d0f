/* SPDX-License-Identifier: MIT */
/*
 * paths.c - where the broker's socket is, decided the same way by both sides
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
        return wire_socket_path_ex(override, buf, size, NULL);
}

/* wire_socket_path_ex() - as wire_socket_path(); *@explicitp: it was not the default path. */
int wire_socket_path_ex(const char *override, char *buf, size_t size, bool *explicitp) {
        const char *env = getenv(MACHIPC_SOCKET_ENV);
        const char *path = override ? override : (env && *env) ? env : NULL;
        if (explicitp)
                *explicitp = path != NULL;
        if (!path)
                return wire_default_socket_path(buf, size);
        int n = snprintf(buf, size, "%s", path);
        return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/**
 * wire_socket_dir_check() - may a socket at @path be trusted?
 * @path: the socket
 * @owner: out, the owner of its directory (who the broker must run as)
 *
 * Its directory must be a real directory that nobody but its owner can
 * write to (so nobody else can have put the socket there), and the socket
 * must belong to that owner too.
 * Return: 0, -EPERM (not to be trusted), or the errno of lstat().
 */
int wire_socket_dir_check(const char *path, uid_t *owner) {
        char dir[4096];
        struct stat st, sk;
        int n = snprintf(dir, sizeof(dir), "%s", path);
        if (n < 0 || (size_t)n >= sizeof(dir))
                return -ENAMETOOLONG;
        char *slash = strrchr(dir, '/');
        if (!slash)
                snprintf(dir, sizeof(dir), ".");
        else if (slash == dir)
                dir[1] = '\0';
        else
                *slash = '\0';
        if (lstat(dir, &st) < 0)
                return -errno;
        if (!S_ISDIR(st.st_mode) || (st.st_mode & (S_IWGRP | S_IWOTH)))
                return -EPERM;
        if (lstat(path, &sk) < 0)
                return -errno;
        if (!S_ISSOCK(sk.st_mode) || sk.st_uid != st.st_uid)
                return -EPERM;
        *owner = st.st_uid;
        return 0;
}
