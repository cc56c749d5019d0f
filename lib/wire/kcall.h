#pragma once
/* SPDX-License-Identifier: MIT */
/* kcall.h - requests to a task's kernel port (see doc/protocol.md, "Kernel calls") */

#include <stdint.h>

/*
 * A kernel call is an ordinary message to a task's kernel port:
 *   header (msg_id = KCALL_*, reply port = a send-once right)
 *   one MSG_TYPE_INTEGER_32 item with the arguments
 *   for KCALL_SET_BOOTSTRAP, KCALL_MONITOR: a MSG_TYPE_COPY_SEND (or MAKE_SEND) item
 * The reply has msg_id + KCALL_REPLY_DELTA and one MSG_TYPE_INTEGER_32 item:
 * the kern_return_t, then the results; KCALL_GET_BOOTSTRAP and
 * KCALL_WAIT_BOOTSTRAP add a MSG_TYPE_MOVE_SEND item carrying the right.
 */
enum {
        KCALL_PORT_ALLOCATE = 3000,     /* () -> (kr, name) */
        KCALL_PORT_DEALLOCATE = 3001,   /* (name) -> (kr) */
        KCALL_PORT_STATUS = 3002,       /* (name) -> (kr, port_status_t fields...) */
        KCALL_PORT_SET_BACKLOG = 3003,  /* (name, backlog) -> (kr) */
        KCALL_PORT_SET_ALLOCATE = 3004, /* () -> (kr, name) */
        KCALL_PORT_SET_ADD = 3005,      /* (set, port) -> (kr) */
        KCALL_PORT_SET_REMOVE = 3006,   /* (port) -> (kr) */
        KCALL_PORT_TYPE = 3007,         /* (name) -> (kr, type) */
        KCALL_PORT_REQUEST_NOTIFICATION = 3008, /* (name, variant, sync, notify) -> (kr) */
        KCALL_GET_BOOTSTRAP = 3010,     /* () -> (kr) + right */
        KCALL_SET_BOOTSTRAP = 3011,     /* () + right -> (kr) */
        KCALL_PORT_NAMES = 3012,        /* (start) -> (kr, count, next) + INTEGER_32[2*count] */
        KCALL_PORT_GET_REFS = 3013,     /* (name, right) -> (kr, refs) */
        KCALL_PORT_MOD_REFS = 3014,     /* (name, right, delta) -> (kr) */
        KCALL_BROKER_INFO = 3015,       /* (cursor, cursor) -> (kr, done, cursor, cursor) + CHAR[] */
        KCALL_WAIT_BOOTSTRAP = 3016,    /* (name) -> (kr) + right, once the port is not @name's */
        KCALL_MONITOR = 3017,           /* (port id lo, port id hi, pid) + right -> (kr) */
        KCALL_ORIGIN_CREATE = 3018,     /* () + STRING "host\0identity\0" -> (kr, origin) */
        KCALL_ORIGIN_DESTROY = 3019,    /* (origin) -> (kr) */
        KCALL_SEMAPHORE_CREATE = 3020,  /* (value) -> (kr) + right */
        KCALL_SEMAPHORE_DESTROY = 3021, /* (name) -> (kr) */
        KCALL_SHM_CREATE = 3022,        /* (size lo, size hi) + FD -> (kr) + right */
};

/* Requests to a semaphore's port; replies have id + KCALL_REPLY_DELTA. */
enum {
        SEM_SIGNAL = 3100,              /* () -> (kr) */
        SEM_WAIT = 3101,                /* (timeout ms, timed) -> (kr) */
        SEM_SIGNAL_ALL = 3102,          /* () -> (kr) */
};

/* The broker's trace lines to a monitor's port (MACHIPC_MONITOR_ID of machipc/port.h). */
#define KCALL_MONITOR_LINE 3200

/* Requests to a shared region's port. */
enum {
        SHM_MAP = 3110,                 /* () -> (kr, size lo, size hi) + FD */
};

/*
 * Entries per KCALL_PORT_NAMES reply, and slots it looks at at most (a
 * sparse table is walked over several calls); bytes per KCALL_BROKER_INFO
 * reply.
 */
#define KCALL_NAMES_PAGE 4096u
#define KCALL_NAMES_SCAN (4u * KCALL_NAMES_PAGE)
#define KCALL_INFO_CHUNK 60000u

#define KCALL_REPLY_DELTA 100

/* The reply id of request id @id: any id may come, so it wraps rather than overflows. */
static inline int32_t kcall_reply_id(int32_t id) {
        return (int32_t)((uint32_t)id + KCALL_REPLY_DELTA);
}
#define KCALL_ARGS_MAX 4
#define KCALL_RESULTS_MAX 12
/* Results of KCALL_PORT_STATUS after kr, in order of port_status_t. */
#define KCALL_STATUS_FIELDS 11
