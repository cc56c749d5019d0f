#pragma once
/* SPDX-License-Identifier: MIT */
/* kobject.h - the server behind every task's kernel port */

typedef struct Kmsg Kmsg;
typedef struct Port Port;

#include <stddef.h>

/* Returns the broker's state as text (malloc'd, *lenp bytes), or NULL. */
typedef char *(*KobjectInfoFn)(size_t *lenp);

void kobject_server(Kmsg *request);
void kobject_set_info(KobjectInfoFn fn);
Port *kobject_bootstrap(void);
void kobject_deinit(void);
