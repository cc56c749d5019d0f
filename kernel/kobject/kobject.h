#pragma once
/* SPDX-License-Identifier: MIT */
/* kobject.h - the server behind every task's kernel port */

typedef struct Kmsg Kmsg;
typedef struct Port Port;

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A second data item some replies carry. */
typedef struct {
        uint16_t type;
        const void *data;
        uint32_t number;
        uint32_t bytes;
} KobjExtra;

/* Returns the broker's state as text (malloc'd, *lenp bytes), or NULL. */
typedef char *(*KobjectInfoFn)(size_t *lenp);

void kobject_setup(void);
void kobject_send_reply(Port *reply, uint8_t reply_kind, int32_t id, const int32_t *res, uint32_t n,
                        const KobjExtra *extra, bool with_right, Port *right, int fd);
void kobject_set_info(KobjectInfoFn fn);
Port *kobject_bootstrap(void);
void kobject_bootstrap_set(Port *port);
void kobject_deinit(void);
