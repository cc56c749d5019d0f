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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "broker.h"
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
        if (stat(dir, &st) < 0) {
                int r = -errno;
                log_error("cannot stat %s: %s", dir, strerror(errno));
                return r;
        }
        if (st.st_uid != getuid() && getuid() != 0) {
                log_error("%s belongs to uid %u, not to us; refusing to use it", dir,
                          (unsigned)st.st_uid);
                return -EPERM;
        }
        return 0;
}

static void broker_on_signal(evutil_socket_t sig, short what, void *userdata) {
        Broker *b = userdata;
        (void)what;
        log_info("%s received, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        event_base_loopbreak(b->base);
}

static void broker_on_accept(evutil_socket_t fd, short what, void *userdata) {
        Broker *b = userdata;
        (void)what;
        for (int i = 0; i < 16; i++) {
                int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (cfd < 0) {
                        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
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
                if (cred.uid != b->uid && cred.uid != 0 &&
                    (b->config.allow_group == (gid_t)-1 || cred.gid != b->config.allow_group)) {
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
                if (peer_new(&p, b, cfd, cred.pid, cred.uid, cred.gid) < 0) {
                        log_warn("out of memory accepting pid %d, ignoring", (int)cred.pid);
                        continue;
                }
                list_add_tail(&b->peers, &p->link);
                b->n_peers++;
        }
        broker_settle(b);
}

static int broker_listen(Broker *b) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
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
        if (!b->ev_listen || event_add(b->ev_listen, NULL) < 0)
                return -ENOMEM;
        return 0;
}

static Broker *broker_instance;

/* After a semaphore timeout: finish what the reply may have woken. */
static void broker_settle_instance(void) {
        broker_settle(broker_instance);
}

static const char *type_word(uint32_t type) {
        static const char *const words[] = { "", "send", "receive", "send+receive", "send-once" };
        if (type & ENTRY_PORT_SET)
                return "port-set";
        if (type & ENTRY_DEAD_NAME)
                return "dead-name";
        return type < 5 ? words[type] : "?";
}

/*
 * The broker's state for machipcctl, one record per line (doc/api.md,
 * "machipcctl"): "broker", then per task a "task" line, a "port" line per
 * receive right, port set and kernel port, and a "right" line per name.
 */
static char *broker_info(size_t *lenp) {
        Broker *b = broker_instance;
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
                return NULL;
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        uint64_t up = (uint64_t)(now.tv_sec - b->started.tv_sec) * 1000u +
                      (uint64_t)((now.tv_nsec - b->started.tv_nsec) / 1000000);
        fprintf(f, "broker version %s pid %d uid %u tasks %u ports %llu sent %llu received %llu "
                   "notifications %llu circular %llu uptime_ms %llu\n",
                MACHIPC_VERSION, (int)getpid(), (unsigned)b->uid, b->n_peers,
                (unsigned long long)port_count(), (unsigned long long)ipc_stats.sent,
                (unsigned long long)ipc_stats.received, (unsigned long long)ipc_stats.notifications,
                (unsigned long long)ipc_stats.circular, (unsigned long long)up);
        for (ListLink *l = b->peers.next; l != &b->peers; l = l->next) {
                Peer *p = list_entry(l, Peer, link);
                if (!p->ready)
                        continue;
                Space *s = p->task.space;
                fprintf(f, "task id %u pid %d uid %u gid %u names %u calls %u\n", p->id, (int)p->pid,
                        (unsigned)p->uid, (unsigned)p->gid, s->n_used, p->n_reqs);
                Port *kp = p->task.kernel_port;
                fprintf(f, "port id %llu task 0 name 0 kind kernel of %u queued 0 backlog 0 send %u "
                           "sendonce %u blocked 0 receivers 0 set 0\n",
                        (unsigned long long)kp->id, p->id, kp->n_srights, kp->n_sorights);
                for (uint32_t i = 1; i < s->n_slots; i++) {
                        SpaceEntry *e = &s->entries[i];
                        if (!e->name)
                                continue;
                        Port *q = e->port;
                        uint32_t type = space_entry_type(e);
                        if (e->bits & (ENTRY_RECEIVE | ENTRY_PORT_SET)) {
                                uint32_t n_recv = 0;
                                for (ListLink *r = q->receivers.next; r != &q->receivers; r = r->next)
                                        n_recv++;
                                fprintf(f, "port id %llu task %u name %#x kind %s of 0 queued %u backlog %u "
                                           "send %u sendonce %u blocked %u receivers %u set %llu\n",
                                        (unsigned long long)q->id, p->id, e->name,
                                        q->is_set ? "set" : "port", q->msgcount, q->qlimit, q->n_srights,
                                        q->n_sorights, q->n_senders, n_recv,
                                        (unsigned long long)(q->pset ? q->pset->id : 0));
                        }
                        fprintf(f, "right task %u name %#x port %llu type %s urefs %u\n", p->id, e->name,
                                (unsigned long long)q->id, type_word(type), e->urefs);
                }
        }
        if (fclose(f) != 0) {
                free(buf);
                return NULL;
        }
        *lenp = len;
        return buf;
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
        semaphore_setup(b->base, broker_settle_instance);
        broker_instance = b;
        kobject_set_info(broker_info);
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
                        peer_waiter_done(w);
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
        kobject_deinit();
        if (b->ev_listen)
                event_free(b->ev_listen);
        if (b->ev_sigterm)
                event_free(b->ev_sigterm);
        if (b->ev_sigint)
                event_free(b->ev_sigint);
        if (b->listen_fd >= 0) {
                close(b->listen_fd);
                unlink(b->socket_path);
        }
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

/**
 * broker_run() - signal readiness, then serve until SIGTERM or SIGINT
 * Return: 0, or a negative errno if the loop failed.
 */
int broker_run(Broker *b) {
        log_info("listening on %s", b->socket_path);
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
