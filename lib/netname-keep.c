/* SPDX-License-Identifier: MIT */
/*
 * netname-keep.c - names a task checked in, checked in again with a new
 * name server
 *
 * The name server holds only send rights: when it dies (crash, upgrade)
 * its map dies with it, and the broker's bootstrap slot waits for the next
 * one.  The services behind the names are still alive, so each task
 * remembers what it checked in with the bootstrap name server, and one
 * thread of the library waits in the broker (KCALL_WAIT_BOOTSTRAP) for the
 * bootstrap port to change; when a new name server registers, it checks
 * every remembered name in again.  A task that died is not remembered by
 * anyone, so its names are gone after a restart.
 *
 * The thread exists only while the task has names checked in; it ends with
 * the connection (machipc_disconnect(), the broker gone) and is not carried
 * into the child of fork(), which is a new task with no names.  The library
 * keeps one user reference of its own to each right it remembers, so the
 * task may deallocate its own; check-out gives it back.
 */

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "kcall.h"
#include "netname.h"

typedef struct {
        char name[NETNAME_MAX];
        port_t port;
        port_t signature;
        bool port_held;         /* we hold a user reference of our own */
        bool signature_held;
} Kept;

static struct {
        pthread_mutex_t lock;
        Kept *v;
        unsigned n, cap;
        uint32_t generation;    /* the connection the names were checked in on */
        bool running;           /* the thread waits for a new name server */
        bool joinable;          /* a thread was started and not joined yet */
        pthread_t thread;
        port_t server;          /* the name server the thread knows */
} keep = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* One user reference of our own to a send right @name, if the task holds one. */
static bool hold(port_t name) {
        port_type_t t = 0;
        if (name == PORT_NULL || port_type(task_self(), name, &t) != KERN_SUCCESS || !(t & PORT_TYPE_SEND))
                return false;
        return port_mod_refs(task_self(), name, PORT_RIGHT_SEND, 1) == KERN_SUCCESS;
}

static void unhold(port_t name, bool held) {
        if (held)
                port_mod_refs(task_self(), name, PORT_RIGHT_SEND, -1);
}

/* A send right for @name as it stands now: a copy of ours, or one made from the receive right. */
static mach_msg_type_name_t disposition(port_t name, bool held) {
        port_type_t t = 0;
        if (held || name == PORT_NULL)
                return MSG_TYPE_COPY_SEND;
        if (port_type(task_self(), name, &t) == KERN_SUCCESS && !(t & PORT_TYPE_SEND) && (t & PORT_TYPE_RECEIVE))
                return MSG_TYPE_MAKE_SEND;
        return MSG_TYPE_COPY_SEND;
}

/* Forget entry @i (lock held); its references are returned by the caller. */
static Kept take(unsigned i) {
        Kept k = keep.v[i];
        keep.v[i] = keep.v[--keep.n];
        return k;
}

static void *keeper(void *arg) {
        uint32_t generation = (uint32_t)(uintptr_t)arg;
        port_t current = keep.server, owned = PORT_NULL;
        /* Never a new connection: after machipc_disconnect() our calls fail and we end. */
        conn_forbid_connect();
        for (;;) {
                if (conn_generation() != generation) {
                        pthread_mutex_lock(&keep.lock);
                        keep.running = false;   /* the task we kept names for is gone */
                        pthread_mutex_unlock(&keep.lock);
                        break;
                }
                port_t next = PORT_NULL;
                int32_t res[1];
                uint32_t args[1] = { current };
                /* A long wait: it must not make this thread the task's reader (conn.c). */
                conn_wait_passively(true);
                int r = kcall(task_self(), KCALL_WAIT_BOOTSTRAP, args, 1, res, 1, 0, 0, &next);
                conn_wait_passively(false);
                pthread_mutex_lock(&keep.lock);
                bool go_on = r == KERN_SUCCESS && next != PORT_NULL && keep.generation == generation &&
                             keep.n > 0 && conn_generation() == generation;
                unsigned n = go_on ? keep.n : 0;
                Kept *snap = n ? malloc(n * sizeof(*snap)) : NULL;
                if (snap)
                        memcpy(snap, keep.v, n * sizeof(*snap));
                if (!snap) {
                        keep.running = false;
                        pthread_mutex_unlock(&keep.lock);
                        if (next != PORT_NULL && r == KERN_SUCCESS)
                                port_deallocate(task_self(), next);
                        break;
                }
                keep.server = next;
                pthread_mutex_unlock(&keep.lock);

                for (unsigned i = 0; i < n; i++) {
                        Kept *k = &snap[i];
                        r = netname_rpc_check_in(next, k->name, k->signature,
                                                 disposition(k->signature, k->signature_held), k->port,
                                                 disposition(k->port, k->port_held));
                        if (r == NETNAME_SUCCESS)
                                continue;
                        /* Taken meanwhile by another task, or our port is gone: not ours to keep. */
                        pthread_mutex_lock(&keep.lock);
                        for (unsigned j = 0; j < keep.n; j++) {
                                if (strcmp(keep.v[j].name, k->name) != 0)
                                        continue;
                                Kept gone = take(j);
                                pthread_mutex_unlock(&keep.lock);
                                unhold(gone.port, gone.port_held);
                                unhold(gone.signature, gone.signature_held);
                                pthread_mutex_lock(&keep.lock);
                                break;
                        }
                        pthread_mutex_unlock(&keep.lock);
                }
                free(snap);
                netname_server_changed(next);
                if (owned != PORT_NULL)
                        port_deallocate(task_self(), owned);    /* the dead name of the one before */
                owned = current = next;
        }
        return NULL;
}

/**
 * netname_keep_add() - remember a name checked in with the bootstrap name
 * server @server, and make sure the thread that checks it in again runs
 */
void netname_keep_add(port_t server, const char *name, port_t signature, port_t port) {
        Kept k = { .port = port, .signature = signature };
        snprintf(k.name, sizeof(k.name), "%s", name);
        k.port_held = hold(port);
        k.signature_held = hold(signature);
        pthread_mutex_lock(&keep.lock);
        uint32_t generation = conn_generation();
        if (keep.generation != generation) {
                keep.n = 0;     /* names of a connection that is gone: their names mean nothing now */
                keep.generation = generation;
        }
        if (keep.n == keep.cap) {
                unsigned cap = keep.cap ? 2 * keep.cap : 8;
                Kept *v = realloc(keep.v, cap * sizeof(*v));
                if (!v) {
                        pthread_mutex_unlock(&keep.lock);
                        unhold(port, k.port_held);
                        unhold(signature, k.signature_held);
                        return;         /* checked in, but not kept across a restart */
                }
                keep.v = v;
                keep.cap = cap;
        }
        keep.v[keep.n++] = k;
        if (!keep.running) {
                if (keep.joinable)
                        pthread_join(keep.thread, NULL);        /* it ended on its own: nothing was kept */
                keep.server = server;
                /* The task's signals are not the library thread's to take: it blocks them all. */
                sigset_t all, old;
                sigfillset(&all);
                pthread_sigmask(SIG_SETMASK, &all, &old);
                keep.running = pthread_create(&keep.thread, NULL, keeper, (void *)(uintptr_t)generation) == 0;
                pthread_sigmask(SIG_SETMASK, &old, NULL);
                keep.joinable = keep.running;
        }
        pthread_mutex_unlock(&keep.lock);
}

/* netname_keep_drop() - forget @name, checked out; its references go back. */
void netname_keep_drop(const char *name) {
        pthread_mutex_lock(&keep.lock);
        for (unsigned i = 0; i < keep.n; i++) {
                if (strcmp(keep.v[i].name, name) != 0)
                        continue;
                Kept k = take(i);
                pthread_mutex_unlock(&keep.lock);
                unhold(k.port, k.port_held);
                unhold(k.signature, k.signature_held);
                return;
        }
        pthread_mutex_unlock(&keep.lock);
}

/**
 * netname_keep_reset() - forget every name: the connection is closed
 *
 * The thread's call fails once the connection is closed; wait for it to end.
 */
void netname_keep_reset(void) {
        pthread_mutex_lock(&keep.lock);
        bool join = keep.joinable && !pthread_equal(keep.thread, pthread_self());
        pthread_t thread = keep.thread;
        keep.n = 0;
        keep.generation = 0;
        keep.joinable = false;
        pthread_mutex_unlock(&keep.lock);
        if (join)
                pthread_join(thread, NULL);
}

/* netname_keep_atfork_child() - the child of fork() is a new task: no names, no thread. */
void netname_keep_atfork_child(void) {
        pthread_mutex_init(&keep.lock, NULL);
        keep.n = 0;
        keep.generation = 0;
        keep.running = keep.joinable = false;
}
