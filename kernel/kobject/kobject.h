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

/*
 * The broker's state as text, one page at a time: writes whole records from
 * the place @cursor says (0, 0: the start) into @buf (at most @size bytes),
 * advances @cursor, and returns the bytes written; *@done once the last
 * record is out.  Each page costs a bounded amount of work, however large
 * the state.
 */
typedef size_t (*KobjectInfoFn)(uint32_t cursor[2], char *buf, size_t size, bool *done);

void kobject_setup(void);
void kobject_send_reply(Port *reply, uint8_t reply_kind, int32_t id, const int32_t *res, uint32_t n,
                        const KobjExtra *extra, bool with_right, Port *right, int fd);
void kobject_set_info(KobjectInfoFn fn);

/* Who serves KCALL_MONITOR (the daemon: it knows the task's uid). */
typedef struct Task Task;
typedef int (*KobjectMonitorFn)(Task *task, Port *port, uint64_t port_id, int32_t pid);
void kobject_set_monitor(KobjectMonitorFn fn);
/* Who serves KCALL_ORIGIN_CREATE and _DESTROY (the daemon: kernel/origin.c). */
typedef int (*KobjectOriginFn)(Task *task, bool create, const char *host, const char *identity, uint32_t *id);
void kobject_set_origin(KobjectOriginFn fn);
void kobject_deinit(void);
