/* SPDX-License-Identifier: MIT */
/*
 * event.c - a task in an event loop: one descriptor, armed ports, dispatch
 *
 * As sd-bus and wayland do it, the library stays loop-agnostic: the loop
 * watches machipc_get_fd(), calls machipc_dispatch() when it is readable,
 * then takes what arrived with msg_receive(..., RCV_TIMEOUT, 0) on the
 * ports it armed with machipc_arm() — none of which asks the broker
 * anything: the broker hands an armed port's messages over as they come.
 *
 * The descriptor is an epoll instance holding the connection's socket (the
 * broker wrote something nobody read yet) and an eventfd (something waits
 * here: a message handed ahead, or a port whose next message needs a real
 * receive).  Level-triggered: it stays readable while there is work.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include "async.h"

/* Watch the connection's socket (a new one after a reconnect). Locked. */
static int watch_socket_locked(int fd) {
        if (as.ep_conn_fd == fd)
                return 0;
        if (as.ep_conn_fd >= 0)
                epoll_ctl(as.epfd, EPOLL_CTL_DEL, as.ep_conn_fd, NULL);
        as.ep_conn_fd = -1;
        if (fd < 0)
                return 0;
        struct epoll_event ev = { .events = EPOLLIN };
        if (epoll_ctl(as.epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
                return -errno;
        as.ep_conn_fd = fd;
        return 0;
}

/* async_atfork_child() - the child of fork() is a new task: its descriptor is its own, made afresh. */
void async_atfork_child(void) {
        if (as.epfd >= 0)
                close(as.epfd);
        if (as.evfd >= 0)
                close(as.evfd);
        as.epfd = as.evfd = as.ep_conn_fd = -1;
        as.signalled = false;
}

int machipc_get_fd(void) {
        int r = conn_ensure();
        if (r < 0)
                return r;
        conn_lock();
        if (as.epfd < 0) {
                as.ep_conn_fd = -1;
                as.epfd = epoll_create1(EPOLL_CLOEXEC);
                as.evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
                struct epoll_event ev = { .events = EPOLLIN };
                if (as.epfd < 0 || as.evfd < 0 || epoll_ctl(as.epfd, EPOLL_CTL_ADD, as.evfd, &ev) < 0) {
                        r = -errno;
                        if (as.epfd >= 0)
                                close(as.epfd);
                        if (as.evfd >= 0)
                                close(as.evfd);
                        as.epfd = as.evfd = -1;
                        conn_unlock();
                        return r;
                }
                as.signalled = false;
        }
        r = watch_socket_locked(conn_fd_locked());
        async_signal_locked();
        int fd = as.epfd;
        conn_unlock();
        return r < 0 ? r : fd;
}

static bool never(void *arg) {
        (void)arg;
        return false;
}

int machipc_dispatch(void) {
        conn_lock();
        if (conn_fd_locked() < 0) {
                conn_unlock();
                return -ENOTCONN;
        }
        /* Read what is there now; if another thread is the reader, it files it. */
        int r = conn_pump_locked(never, NULL, 0);
        if (r == -EAGAIN)
                r = 0;
        if (as.epfd >= 0)
                watch_socket_locked(conn_fd_locked());
        async_signal_locked();
        int n = (int)as.n;
        conn_unlock();
        return r < 0 ? r : n;
}

/* One ARM request: @window 0 disarms.  Returns the broker's status or a negative errno. */
static int arm_call(port_t name, uint32_t window) {
        uint8_t body[WIRE_ARM_SIZE];
        wire_put_le32(body, name);
        wire_put_le32(body + 4, window);
        struct iovec iov = { body, sizeof(body) };
        Call c = { .lent = true };
        int r = conn_call(&c, WIRE_OP_ARM, &iov, 1, NULL, 0);
        return r < 0 ? r : (int)c.words[0];
}

int machipc_arm(port_t name) {
        int r = conn_ensure();
        if (r < 0)
                return r;
        conn_lock();
        bool async = conn_async_locked();
        conn_unlock();
        if (!async)
                return -EOPNOTSUPP;
        /* Armed before asking: what the broker hands over at once comes before its answer. */
        conn_lock();
        NameState *ns = async_name(name, true);
        bool was = ns && ns->armed;
        if (ns) {
                ns->armed = true;
                ns->stalled = ns->dead = false;
        }
        conn_unlock();
        if (!ns)
                return -ENOMEM;
        r = arm_call(name, ASYNC_ARM_WINDOW);
        if (r != 0 && !was) {
                conn_lock();
                if ((ns = async_name(name, false))) {
                        ns->armed = false;
                        async_name_tidy(ns);
                }
                conn_unlock();
        }
        return r;
}

int machipc_disarm(port_t name) {
        conn_lock();
        NameState *ns = async_name(name, false);
        if (!ns || !ns->armed) {
                conn_unlock();
                return 0;
        }
        /* What the arm lent and was not taken goes back: forget it here first,
         * and drop what is on its way (the broker gives that back too). */
        ns->disarming = true;
        for (LentMsg *m = as.head, **pp = &as.head; m; m = *pp) {
                if (m->filed == name) {
                        *pp = m->next;
                        as.n--;
                        free(m);
                } else {
                        pp = &m->next;
                }
        }
        as.tail = as.head;
        while (as.tail && as.tail->next)
                as.tail = as.tail->next;
        async_signal_locked();
        conn_unlock();
        int r = arm_call(name, 0);
        conn_lock();
        if ((ns = async_name(name, false))) {
                ns->armed = ns->disarming = ns->stalled = ns->dead = false;
                async_name_tidy(ns);
        }
        conn_unlock();
        return r;
}
