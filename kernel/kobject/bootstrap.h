#pragma once
/* SPDX-License-Identifier: MIT */
/* bootstrap.h - the broker's bootstrap port, and tasks waiting for a new one */

#include <stdint.h>

typedef struct Kmsg Kmsg;
typedef struct Port Port;
typedef struct Task Task;

/* Waits for a new bootstrap port: each task at most, and the broker at most. */
#define BOOTSTRAP_WAITS_PER_TASK 4u
#define BOOTSTRAP_WAITS_MAX 4096u
/* bootstrap_wait(): the reply is sent when the port changes. */
#define BOOTSTRAP_LATER 1

Port *kobject_bootstrap(void);
int bootstrap_set(Port *port);
int bootstrap_wait(Task *task, Kmsg *request, uint32_t current, Port **rightp);
void bootstrap_deinit(void);
