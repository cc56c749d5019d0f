#pragma once
/* SPDX-License-Identifier: MIT */
/* semaphore.h - counting semaphores served by the broker */

#include <stdint.h>
#include <event2/event.h>
#include "util/list.h"

typedef struct Kmsg Kmsg;
typedef struct Port Port;

/* Waiters per semaphore at most (each holds a reply right). */
#define SEMAPHORE_WAITERS_MAX 4096u

typedef struct Semaphore {
        Port *port;             /* its kernel port; the semaphore holds one reference */
        int32_t count;
        ListLink waiters;       /* SemWaiter.link, FIFO */
        uint32_t n_waiters;
        ListLink owner_link;    /* in the creating task's list */
        void *owner;
} Semaphore;

void semaphore_setup(struct event_base *base, void (*after_timer)(void));
int semaphore_new(Semaphore **semp, void *owner, ListLink *owned, int32_t value);
void semaphore_destroy(Semaphore *sem);
void semaphore_server(Kmsg *request);
