#pragma once
/* SPDX-License-Identifier: MIT */
/* task.h - a task as its kernel port sees it: the space calls act on */

#include "util/list.h"

typedef struct Kmsg Kmsg;
typedef struct Port Port;
typedef struct Space Space;

/*
 * What a task's kernel port stands for.  The daemon embeds one in each
 * connected task (peer.h); kernel calls need nothing else of it.
 */
typedef struct Task {
        Space *space;
        Port *kernel_port;      /* the broker's reference */
        Port *notify_port;      /* one reference */
        ListLink semaphores;    /* Semaphore.owner_link: the ones it created */
} Task;

void task_server(Kmsg *request);
