#pragma once
/* SPDX-License-Identifier: MIT */
/* machipc/event.h - a task in a libevent loop (optional; header only: link libevent yourself) */

#include <errno.h>
#include <stdlib.h>
#include <event2/event.h>
#include <machipc/conn.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Called from the loop after machipc_dispatch(), with what it returned (the
 * messages waiting, or a negative errno): take them with msg_receive(...,
 * RCV_TIMEOUT, 0) on the armed ports until RCV_TIMED_OUT.
 */
typedef void (*machipc_event_cb)(int ready, void *arg);

typedef struct {
        machipc_event_cb cb;
        void *arg;
} machipc_event_ctx;

static inline void machipc_event_dispatch_(evutil_socket_t fd, short what, void *arg) {
        machipc_event_ctx *ctx = (machipc_event_ctx *)arg;
        (void)fd;
        (void)what;
        ctx->cb(machipc_dispatch(), ctx->arg);
}

/**
 * machipc_event_new() - an event on @base that runs @cb whenever this task
 * has something to process (machipc_get_fd())
 *
 * The event is added, persistent; free it with machipc_event_free().
 * Return: the event, or NULL with errno set.
 */
static inline struct event *machipc_event_new(struct event_base *base, machipc_event_cb cb, void *arg) {
        int fd = machipc_get_fd();
        if (fd < 0) {
                errno = -fd;
                return NULL;
        }
        machipc_event_ctx *ctx = (machipc_event_ctx *)malloc(sizeof(*ctx));
        if (!ctx)
                return NULL;
        ctx->cb = cb;
        ctx->arg = arg;
        struct event *ev = event_new(base, fd, EV_READ | EV_PERSIST, machipc_event_dispatch_, ctx);
        if (!ev || event_add(ev, NULL) < 0) {
                if (ev)
                        event_free(ev);
                free(ctx);
                return NULL;
        }
        return ev;
}

/* machipc_event_free() - delete and free an event of machipc_event_new(). */
static inline void machipc_event_free(struct event *ev) {
        if (!ev)
                return;
        void *ctx = event_get_callback_arg(ev);
        event_free(ev);
        free(ctx);
}

#ifdef __cplusplus
}
#endif
