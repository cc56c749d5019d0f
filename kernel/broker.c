/* SPDX-License-Identifier: MIT */
/*
 * broker.c - the daemon's frame: socket, listener, signals, settling
 *
 * Owns the event loop and the registry of tasks.  The socket lives in a
 * directory only its owner can enter (0700) and is itself 0600; a lock file
 * beside it (flock) tells a live broker from a stale socket left by a crash:
 * while another broker holds the lock we refuse to start, otherwise an old
 * socket is replaced.  After every event the broker "settles": it finishes
 * the calls whose waits ended and frees the tasks that died, until nothing
 * is left to do, so no callback ever frees an object another one is using.
 */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "async/async.h"
#include "broker.h"
#include "service.h"
#include "info.h"
#include "monitor.h"
#include "origin.h"
#include "ipc/ipc.h"
#include "ipc/kmsg.h"
#include "kobject/kobject.h"
#include "peer.h"
#include "ipc/port.h"
#include "kobject/semaphore.h"
#include "ipc/space.h"
#include "util/log.h"
#include "wire.h"

/* Make the socket's directory if missing (0700); refuse one another user owns. */
static int prepare_dir(const char *sock) {
        char dir[PATH_MAX];
        struct stat st;
        snprintf(dir, sizeof(dir), "%s", sock);
        char *slash = strrchr(dir, '/');
        if (!slash)
                return 0;
        if (slash == dir)
                return 0;
        *slash = '\0';
        if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
                int r = -errno;
                log_error("cannot create %s: %s", dir, strerror(errno));
                return r;
        }
        if (lstat(dir, &st) < 0) {
                int r = -errno;
                log_error("cannot stat %s: %s", dir, strerror(errno));
                return r;
        }
        /* Another user's directory could hold another user's socket: refuse it, as
         * root too (clients refuse such a broker as well). */
        if (!S_ISDIR(st.st_mode) || st.st_uid != getuid()) {
                log_error("%s belongs to uid %u, not to us; refusing to use it", dir,
                          (unsigned)st.st_uid);
                return -EPERM;
        }
        if (st.st_mode & (S_IWGRP | S_IWOTH)) {
                log_error("%s can be written by others (mode %03o); refusing to use it", dir,
                          (unsigned)(st.st_mode & 0777));
                return -EPERM;
        }
        return 0;
}

static void broker_on_signal(evutil_socket_t sig, short what, void *userdata) {
        Broker *b = userdata;
        (void)what;
        log_info("%s received, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        service_notify("STOPPING=1\nSTATUS=Shutting down, %u task(s) connected", b->n_peers);
        event_base_loopbreak(b->base);
}

/* Out of descriptors: stop accepting for a while, and say so at most every 10 s. */
static void broker_accept_pause(Broker *b, int err) {
        time_t now = time(NULL);
        b->fd_refused++;
        if (now - b->fd_warned >= 10) {
                log_warn("accept: %s (%llu time(s) since the last warning); pausing new connections",
                         strerror(err), (unsigned long long)b->fd_refused);
                b->fd_warned = now;
                b->fd_refused = 0;
        }
        event_del(b->ev_listen);
        struct timeval tv = { .tv_sec = 0, .tv_usec = 100000 };
        evtimer_add(b->ev_accept_again, &tv);
}

static void broker_on_accept_again(evutil_socket_t fd, short what, void *userdata) {
        Broker *b = userdata;
        (void)fd;
        (void)what;
        event_add(b->ev_listen, NULL);
}

/* Is the peer on @cfd in the group --allow-group names (its primary group or a supplementary one)? */
static bool in_allowed_group(Broker *b, int cfd, gid_t primary) {
        gid_t groups[256];
        socklen_t len = sizeof(groups);
        if (b->config.allow_group == (gid_t)-1)
                return false;
        if (primary == b->config.allow_group)
                return true;
        if (getsockopt(cfd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
                return false;
        for (size_t i = 0; i < len / sizeof(gid_t); i++)
                if (groups[i] == b->config.allow_group)
                        return true;
        return false;
}

static void broker_on_accept(evutil_socket_t fd, short what, void *userdata) {
        Broker *b = userdata;
        (void)what;
        for (int i = 0; i < 16; i++) {
                int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (cfd < 0) {
                        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                                broker_accept_pause(b, errno);
                        else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
                                 errno != ECONNABORTED)
                                log_warn("accept: %s, ignoring", strerror(errno));
                        break;
                }
                struct ucred cred;
                socklen_t cl = sizeof(cred);
                if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0) {
                        log_warn("SO_PEERCRED: %s, ignoring connection", strerror(errno));
                        close(cfd);
                        continue;
                }
                if (cred.uid != b->uid && cred.uid != 0 && !in_allowed_group(b, cfd, cred.gid)) {
                        log_info("uid %u (gid %u) may not connect, closing", (unsigned)cred.uid,
                                 (unsigned)cred.gid);
                        close(cfd);
                        continue;
                }
                if (b->n_peers >= b->config.max_tasks) {
                        log_warn("task limit (%u) reached, refusing pid %d", b->config.max_tasks,
                                 (int)cred.pid);
                        close(cfd);
                        continue;
                }
                int buf = 4 << 20;
                setsockopt(cfd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
                Peer *p;
                int r = peer_new(&p, b, cfd, cred.pid, cred.uid, cred.gid);
                if (r == -EUSERS)
                        log_info("uid %u has all the tasks it may, refusing pid %d", (unsigned)cred.uid,
                                 (int)cred.pid);
                else if (r == -ENOMEM)
                        log_warn("out of memory accepting pid %d, ignoring", (int)cred.pid);
                if (r < 0)
                        continue;
                list_add_tail(&b->peers, &p->link);
                b->n_peers++;
        }
        broker_settle(b);
}

/* Serve on the socket the service manager made: its path is the one to report, and it is not ours to remove. */
static int broker_adopt(Broker *b, int fd) {
        struct sockaddr_un sa;
        socklen_t len = sizeof(sa);
        b->listen_fd = fd;
        b->activated = true;
        if (getsockname(fd, (struct sockaddr *)&sa, &len) == 0 && sa.sun_family == AF_UNIX &&
            len > offsetof(struct sockaddr_un, sun_path) && sa.sun_path[0]) {
                char *path = strndup(sa.sun_path, len - offsetof(struct sockaddr_un, sun_path));
                if (!path)
                        return -ENOMEM;
                free(b->socket_path);
                b->socket_path = path;
        }
        b->ev_listen = event_new(b->base, b->listen_fd, EV_READ | EV_PERSIST, broker_on_accept, b);
        b->ev_accept_again = evtimer_new(b->base, broker_on_accept_again, b);
        if (!b->ev_listen || !b->ev_accept_again || event_add(b->ev_listen, NULL) < 0)
                return -ENOMEM;
        return 0;
}

static int broker_listen(Broker *b) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (b->config.listen_fd >= 0)
                return broker_adopt(b, b->config.listen_fd);
        if (strlen(b->socket_path) >= sizeof(sa.sun_path)) {
                log_error("socket path too long: %s", b->socket_path);
                return -ENAMETOOLONG;
        }
        strcpy(sa.sun_path, b->socket_path);
        int r = prepare_dir(b->socket_path);
        if (r < 0)
                return r;

        b->lock_fd = open(b->lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (b->lock_fd < 0) {
                r = -errno;
                log_error("cannot open %s: %s", b->lock_path, strerror(errno));
                return r;
        }
        if (flock(b->lock_fd, LOCK_EX | LOCK_NB) < 0) {
                log_error("another machipcd is running on %s", b->socket_path);
                close(b->lock_fd);
                b->lock_fd = -1;
                return -EADDRINUSE;
        }
        if (unlink(b->socket_path) == 0)
                log_info("replaced a stale socket at %s", b->socket_path);

        b->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (b->listen_fd < 0)
                return -errno;
        mode_t old = umask(0177);
        r = bind(b->listen_fd, (struct sockaddr *)&sa, sizeof(sa));
        umask(old);
        if (r < 0) {
                r = -errno;
                log_error("cannot bind %s: %s", b->socket_path, strerror(errno));
                return r;
        }
        /* With --allow-group, that group may reach the socket too (and enter its directory). */
        mode_t mode = 0600;
        if (b->config.allow_group != (gid_t)-1) {
                char dir[PATH_MAX];
                snprintf(dir, sizeof(dir), "%s", b->socket_path);
                char *slash = strrchr(dir, '/');
                if (slash && slash != dir) {
                        *slash = '\0';
                        if (chown(dir, (uid_t)-1, b->config.allow_group) < 0 || chmod(dir, 0710) < 0)
                                log_warn("cannot open %s to group %u: %s, ignoring", dir,
                                         (unsigned)b->config.allow_group, strerror(errno));
                }
                if (chown(b->socket_path, (uid_t)-1, b->config.allow_group) < 0)
                        log_warn("cannot give the socket to group %u: %s, ignoring",
                                 (unsigned)b->config.allow_group, strerror(errno));
                mode = 0660;
        }
        if (chmod(b->socket_path, mode) < 0 || listen(b->listen_fd, 128) < 0) {
                r = -errno;
                log_error("cannot listen on %s: %s", b->socket_path, strerror(errno));
                return r;
        }
        b->ev_listen = event_new(b->base, b->listen_fd, EV_READ | EV_PERSIST, broker_on_accept, b);
        b->ev_accept_again = evtimer_new(b->base, broker_on_accept_again, b);
        if (!b->ev_listen || !b->ev_accept_again || event_add(b->ev_listen, NULL) < 0)
                return -ENOMEM;
        return 0;
}

static Broker *broker_instance;

/* After a semaphore timeout: finish what the reply may have woken. */
static void broker_settle_instance(void) {
        broker_settle(broker_instance);
}

static size_t broker_info_page(uint32_t cursor[2], char *buf, size_t size, bool *done) {
        return info_page(broker_instance, cursor, buf, size, done);
}

/**
 * broker_new() - set up a broker listening on its socket
 *
 * Return: 0, -EADDRINUSE (a live broker owns the socket), -ENOMEM, or the
 * negative errno of a failed socket call (already logged).
 */
int broker_new(Broker **brokerp, const BrokerConfig *config) {
        char path[PATH_MAX];
        int r;
        Broker *b = calloc(1, sizeof(*b));
        if (!b)
                return -ENOMEM;
        b->config = *config;
        b->lock_fd = -1;
        b->listen_fd = -1;
        b->uid = getuid();
        list_init(&b->peers);
        list_init(&b->zombies);
        list_init(&b->uid_accounts);
        if (!b->config.max_tasks)
                b->config.max_tasks = BROKER_TASKS_DEFAULT;
        if (!b->config.handshake_timeout_ms)
                b->config.handshake_timeout_ms = PEER_HANDSHAKE_TIMEOUT_MS;
        r = wire_socket_path(config->socket_path, path, sizeof(path));
        if (r < 0) {
                log_error("socket path too long");
                broker_free(b);
                return r;
        }
        b->socket_path = strdup(path);
        b->lock_path = malloc(strlen(path) + 6);
        b->rx = malloc(WIRE_FRAME_MAX);
        b->tx = malloc(WIRE_FRAME_MAX);
        b->base = event_base_new();
        if (!b->socket_path || !b->lock_path || !b->rx || !b->tx || !b->base) {
                broker_free(b);
                return -ENOMEM;
        }
        sprintf(b->lock_path, "%s.lock", path);
        kobject_setup();
        async_setup();
        /* Descriptors in flight in the whole broker at most: the rest of its
         * descriptor budget is for sockets.  Read once: main() raised it already. */
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
                ipc_stats.fds_budget = 1u << 20;
        else
                ipc_stats.fds_budget = rl.rlim_cur > 4096 ? rl.rlim_cur / 2 : rl.rlim_cur / 4;
        semaphore_setup(b->base, broker_settle_instance);
        broker_instance = b;
        kobject_set_info(broker_info_page);
        monitor_setup(b);
        kobject_set_monitor(monitor_add);
        origin_setup(b);
        clock_gettime(CLOCK_MONOTONIC, &b->started);
        b->ev_sigterm = evsignal_new(b->base, SIGTERM, broker_on_signal, b);
        b->ev_sigint = evsignal_new(b->base, SIGINT, broker_on_signal, b);
        if (!b->ev_sigterm || !b->ev_sigint || evsignal_add(b->ev_sigterm, NULL) < 0 ||
            evsignal_add(b->ev_sigint, NULL) < 0) {
                broker_free(b);
                return -ENOMEM;
        }
        r = broker_listen(b);
        if (r < 0) {
                broker_free(b);
                return r;
        }
        *brokerp = b;
        return 0;
}

/**
 * broker_settle() - finish ended waits and free dead tasks until none is left
 */
void broker_settle(Broker *b) {
        for (;;) {
                Waiter *w = ipc_done_pop();
                if (w) {
                        w->done(w);
                        continue;
                }
                ListLink *l = list_pop(&b->zombies);
                if (!l)
                        break;
                Peer *p = list_entry(l, Peer, link);
                b->n_peers--;
                peer_free(p);
        }
}

/**
 * broker_free() - disconnect every task, remove the socket, free everything
 * Return: NULL.
 */
Broker *broker_free(Broker *b) {
        if (!b)
                return NULL;
        ListLink *l;
        while ((l = list_first(&b->peers)))
                peer_kill(list_entry(l, Peer, link), "broker shutting down");
        broker_settle(b);
        monitor_deinit();
        kobject_deinit();
        if (b->ev_listen)
                event_free(b->ev_listen);
        if (b->ev_accept_again)
                event_free(b->ev_accept_again);
        if (b->ev_sigterm)
                event_free(b->ev_sigterm);
        if (b->ev_sigint)
                event_free(b->ev_sigint);
        if (b->listen_fd >= 0) {
                close(b->listen_fd);
                if (!b->activated)
                        unlink(b->socket_path);
        }
        if (b->ev_status)
                event_free(b->ev_status);
        if (b->lock_fd >= 0) {
                unlink(b->lock_path);
                close(b->lock_fd);
        }
        if (b->base)
                event_base_free(b->base);
        free(b->socket_path);
        free(b->lock_path);
        free(b->rx);
        free(b->tx);
        free(b);
        port_pool_deinit();
        kmsg_cache_deinit();
        return NULL;
}

/* Once a second under a service manager: the number of tasks, if it changed (systemctl status). */
static void broker_on_status(evutil_socket_t fd, short what, void *userdata) {
        Broker *b = userdata;
        (void)fd;
        (void)what;
        if (b->status_tasks == b->n_peers)
                return;
        b->status_tasks = b->n_peers;
        service_notify("STATUS=Listening on %s, %u task(s) connected", b->socket_path, b->n_peers);
}

/**
 * broker_run() - signal readiness, then serve until SIGTERM or SIGINT
 * Return: 0, or a negative errno if the loop failed.
 */
int broker_run(Broker *b) {
        log_info("%s %s", b->activated ? "serving the socket passed for" : "listening on", b->socket_path);
        service_notify("READY=1\nSTATUS=Listening on %s", b->socket_path);
        if (service_notify_enabled()) {
                b->ev_status = event_new(b->base, -1, EV_PERSIST, broker_on_status, b);
                struct timeval tv = { .tv_sec = 1 };
                if (b->ev_status)
                        event_add(b->ev_status, &tv);
        }
        if (b->config.ready_fd >= 0) {
                static const char ready[] = "READY=1\n";
                if (write(b->config.ready_fd, ready, sizeof(ready) - 1) < 0)
                        log_warn("readiness fd %d: %s, ignoring", b->config.ready_fd, strerror(errno));
                close(b->config.ready_fd);
                b->config.ready_fd = -1;
        }
        if (event_base_dispatch(b->base) < 0)
                return -EIO;
        return 0;
}
