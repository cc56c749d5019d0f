#pragma once
/* SPDX-License-Identifier: MIT */
/* monitor.h - a live trace of the messages the broker moves, for machipcctl monitor */

#include <stdint.h>

typedef struct Broker Broker;
typedef struct Port Port;
typedef struct Task Task;

/* Monitors at once, and trace messages each may have waiting before lines are lost. */
#define MONITORS_MAX 8u
#define MONITOR_QUEUE_MAX 1024u

void monitor_setup(Broker *b);
int monitor_add(Task *task, Port *port, uint64_t port_id, int32_t pid);
void monitor_deinit(void);
