/* SPDX-License-Identifier: MIT */
/*
 * semaphore.c - counting semaphores, served by the broker like Mach's
 *
 * A semaphore is a kernel port: tasks hold send rights to it, may pass them
 * on in messages, and signal or wait by sending it requests.  A wait that
 * cannot be satisfied keeps the request's reply right in a FIFO of waiters
 * and is answered later — by a signal, by its timeout (the broker keeps the
 * time, so a wake-up is never given to a caller that already left), or by the
 * semaphore's end: destroyed by its creator, or the creator died, the
 * waiters get KERN_TERMINATED.  A waiter whose task died in the meantime is
 * skipped, so no signal is lost on it.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <event2/event_struct.h>
#include "ipc/ipc.h"
#include "kcall.h"
#include "ipc/kmsg.h"
#include "kobject.h"
#include "ipc/port.h"
#include "semaphore.h"

typedef struct {
        ListLink link;
        Semaphore *sem;
        Port *reply;
        uint8_t reply_kind;
        bool timed;
        struct event timer;
} SemWaiter;

static struct event_base *sem_base;
static void (*sem_after_timer)(void);

/* semaphore_setup() - the event loop timed waits use, and what to run after a timeout. */
void semaphore_setup(struct event_base *base, void (*after_timer)(void)) {
        sem_base = base;
        sem_after_timer = after_timer;
}

static void answer(Port *reply, uint8_t kind, int32_t id, int32_t kr) {
        kobject_send_reply(reply, kind, kcall_reply_id(id), &kr, 1, NULL, false, NULL, -1);
}

static void waiter_free(SemWaiter *w) {
        list_del(&w->link);
        w->sem->n_waiters--;
        if (w->timed)
                evtimer_del(&w->timer);
        free(w);
}

static void on_timeout(evutil_socket_t fd, short what, void *userdata) {
        SemWaiter *w = userdata;
        (void)fd;
        (void)what;
        Port *reply = w->reply;
        uint8_t kind = w->reply_kind;
        w->timed = false;
        waiter_free(w);
        answer(reply, kind, SEM_WAIT, KERN_OPERATION_TIMED_OUT);
        if (sem_after_timer)
                sem_after_timer();
}

/* Wake the first waiter still alive; false if there is none. */
static bool wake_one(Semaphore *s, int32_t kr) {
        ListLink *l;
        while ((l = list_first(&s->waiters))) {
                SemWaiter *w = list_entry(l, SemWaiter, link);
                Port *reply = w->reply;
                uint8_t kind = w->reply_kind;
                waiter_free(w);
                if (!reply->active) {
                        right_release(reply, kind);     /* its task went away */
                        continue;
                }
                answer(reply, kind, SEM_WAIT, kr);
                return true;
        }
        return false;
}

/**
 * semaphore_new() - a semaphore with @value, owned by a task
 * @owned: the owner's list of semaphores, destroyed with it
 *
 * Return: 0, -EINVAL (@value < 0) or -ENOMEM.  The caller gives out send
 * rights to (*semp)->port.
 */
int semaphore_new(Semaphore **semp, void *owner, ListLink *owned, int32_t value) {
        if (value < 0)
                return -EINVAL;
        Semaphore *s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        if (port_new_kobject(&s->port, KOBJECT_SEMAPHORE, s) < 0) {
                free(s);
                return -ENOMEM;
        }
        s->count = value;
        s->owner = owner;
        list_init(&s->waiters);
        list_add_tail(owned, &s->owner_link);
        *semp = s;
        return 0;
}

/**
 * semaphore_destroy() - end a semaphore: its waiters get KERN_TERMINATED and
 * send rights to it become dead names
 */
void semaphore_destroy(Semaphore *s) {
        while (wake_one(s, KERN_TERMINATED))
                ;
        list_del(&s->owner_link);
        ipc_kobject_port_destroy(s->port);
        free(s);
}

/**
 * semaphore_server() - serve a request sent to a semaphore's port
 * @request: consumed
 */
void semaphore_server(Kmsg *request) {
        Semaphore *s = request->dest->kobject;
        msg_header_t h;
        uint32_t args[2] = { 0, 0 }, n_args = 0;
        WireItemIter it;
        WireItem item;
        wire_msg_header_get(request->data, &h);
        wire_item_iter_init(&it, request->data, request->size);
        if (wire_item_next(&it, &item) && item.name == MSG_TYPE_INTEGER_32 && item.number <= 2) {
                n_args = item.number;
                memcpy(args, request->data + item.offset, 4 * n_args);
        }
        Port *reply = request->reply;
        uint8_t kind = request->reply_kind;
        request->reply = NULL;
        request->reply_kind = RIGHT_NONE;
        int32_t kr = KERN_SUCCESS;

        switch (h.msg_id) {
        case SEM_SIGNAL:
                if (!wake_one(s, KERN_SUCCESS))
                        s->count = s->count < INT32_MAX ? s->count + 1 : INT32_MAX;
                break;
        case SEM_SIGNAL_ALL:
                while (wake_one(s, KERN_SUCCESS))
                        ;
                break;
        case SEM_WAIT:
                if (n_args != 2) {
                        kr = KERN_INVALID_ARGUMENT;
                        break;
                }
                if (s->count > 0) {
                        s->count--;
                        break;
                }
                if (args[1] && args[0] == 0) {
                        kr = KERN_OPERATION_TIMED_OUT;
                        break;
                }
                if (!reply || s->n_waiters >= SEMAPHORE_WAITERS_MAX) {
                        kr = KERN_RESOURCE_SHORTAGE;
                        break;
                }
                SemWaiter *w = calloc(1, sizeof(*w));
                if (!w) {
                        kr = KERN_RESOURCE_SHORTAGE;
                        break;
                }
                w->sem = s;
                w->reply = reply;
                w->reply_kind = kind;
                list_add_tail(&s->waiters, &w->link);
                s->n_waiters++;
                if (args[1] && sem_base) {
                        struct timeval tv = { .tv_sec = args[0] / 1000, .tv_usec = (args[0] % 1000) * 1000 };
                        evtimer_assign(&w->timer, sem_base, on_timeout, w);
                        evtimer_add(&w->timer, &tv);
                        w->timed = true;
                }
                kmsg_free(request);
                return;         /* answered later */
        default:
                kr = KERN_INVALID_ARGUMENT;
                break;
        }
        answer(reply, kind, h.msg_id, kr);
        kmsg_free(request);
}
