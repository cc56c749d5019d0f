/* SPDX-License-Identifier: MIT */
/*
 * service.c - the daemon under a service manager: socket activation and
 * readiness, through libsystemd (sd_listen_fds(3), sd_notify(3))
 *
 * With socket activation the manager made, bound and listened on the
 * socket and passes it as descriptor 3 ($LISTEN_FDS=1, $LISTEN_PID ours);
 * connections made before the daemon runs wait in its backlog.  With
 * Type=notify the daemon says READY=1 once it serves, STATUS= what it is
 * doing, and STOPPING=1 when it shuts down.  Built without libsystemd, or
 * started by anything else, both are no-ops and --ready-fd is the way to
 * tell readiness.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "service.h"
#include "util/log.h"

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

/**
 * service_listen_fd() - the listening socket the service manager passed
 *
 * Return: the descriptor (non-blocking, close-on-exec), -1 if none was
 * passed, or a negative errno (already logged) if what was passed is not one
 * listening SOCK_SEQPACKET Unix socket.  $LISTEN_* are unset either way, so
 * that no child takes them for its own.
 */
int service_listen_fd(void) {
#ifdef HAVE_LIBSYSTEMD
        int n = sd_listen_fds(1);
        if (n < 0) {
                log_error("socket activation: %s", strerror(-n));
                return n;
        }
        if (n == 0)
                return -1;
        if (n != 1) {
                log_error("socket activation passed %d sockets; machipcd listens on exactly one", n);
                return -EINVAL;
        }
        int fd = SD_LISTEN_FDS_START;
        if (sd_is_socket_unix(fd, SOCK_SEQPACKET, 1, NULL, 0) <= 0) {
                log_error("socket activation: descriptor %d is not a listening SOCK_SEQPACKET Unix socket "
                          "(ListenSequentialPacket= in the .socket unit)", fd);
                return -EINVAL;
        }
        int fl = fcntl(fd, F_GETFL);
        if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
                int r = -errno;
                log_error("socket activation: descriptor %d: %s", fd, strerror(errno));
                return r;
        }
        return fd;
#else
        return -1;
#endif
}

/* service_notify_enabled() - whether a service manager listens for notifications ($NOTIFY_SOCKET). */
bool service_notify_enabled(void) {
#ifdef HAVE_LIBSYSTEMD
        return getenv("NOTIFY_SOCKET") != NULL;
#else
        return false;
#endif
}

/**
 * service_notify() - tell the service manager about our state
 * @fmt: newline-separated assignments, e.g. "READY=1\nSTATUS=serving"
 *
 * Does nothing when no manager listens; a failure is logged once, at debug
 * level, and otherwise ignored: the daemon serves either way.
 */
void service_notify(const char *fmt, ...) {
#ifdef HAVE_LIBSYSTEMD
        char text[512];
        va_list ap;
        if (!service_notify_enabled())
                return;
        va_start(ap, fmt);
        vsnprintf(text, sizeof(text), fmt, ap);
        va_end(ap);
        int r = sd_notify(0, text);
        if (r < 0)
                log_debug("sd_notify: %s", strerror(-r));
#else
        (void)fmt;
#endif
}
