#pragma once
/* SPDX-License-Identifier: MIT */
/* kobject.h - the server behind every task's kernel port */

typedef struct Kmsg Kmsg;
typedef struct Port Port;

void kobject_server(Kmsg *request);
Port *kobject_bootstrap(void);
void kobject_deinit(void);
