#pragma once
/* SPDX-License-Identifier: MIT */
/*
 * machipc/mig.h - what code written by machipc-mig needs, and the server
 * loop for it
 *
 * Included by every generated file; a program that only calls generated
 * stubs need not include it itself.  It gives MIG's C names for machipc's
 * types, MIG's error codes, and the few inline helpers the stubs use to
 * write and check typed items.  doc/mig.md has the whole story.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <machipc/machipc.h>

#ifdef __cplusplus
extern "C" {
#endif

/* MIG's names for machipc's types. */
typedef port_t mach_port_t;
typedef msg_header_t mach_msg_header_t;
typedef uint32_t mach_msg_type_number_t;
typedef uint32_t mach_msg_type_name_t;
typedef int boolean_t;
/* And the C names <machipc/std_types.defs> gives its types. */
typedef uint32_t natural_t;
typedef int32_t integer_t;
typedef natural_t mach_port_name_t;
typedef mach_port_t *mach_port_array_t;
typedef natural_t mach_port_seqno_t;
typedef integer_t mach_msg_id_t;

#ifndef TRUE
#define TRUE 1
#endif
#ifndef FALSE
#define FALSE 0
#endif

#ifndef MACH_PORT_NULL
#define MACH_PORT_NULL PORT_NULL
#define MACH_PORT_DEAD PORT_DEAD
#endif

/* Dispositions, for polymorphic arguments (machipc's values: use these, not another system's). */
#define MACH_MSG_TYPE_MOVE_RECEIVE MSG_TYPE_MOVE_RECEIVE
#define MACH_MSG_TYPE_MOVE_SEND MSG_TYPE_MOVE_SEND
#define MACH_MSG_TYPE_MOVE_SEND_ONCE MSG_TYPE_MOVE_SEND_ONCE
#define MACH_MSG_TYPE_COPY_SEND MSG_TYPE_COPY_SEND
#define MACH_MSG_TYPE_MAKE_SEND MSG_TYPE_MAKE_SEND
#define MACH_MSG_TYPE_MAKE_SEND_ONCE MSG_TYPE_MAKE_SEND_ONCE
#define MACH_MSG_TYPE_PORT_RECEIVE MSG_TYPE_PORT_RECEIVE
#define MACH_MSG_TYPE_PORT_SEND MSG_TYPE_PORT_SEND
#define MACH_MSG_TYPE_PORT_SEND_ONCE MSG_TYPE_PORT_SEND_ONCE

/* Options a .defs file's msgoption may name. */
#define MACH_MSG_OPTION_NONE MSG_OPTION_NONE
#define MACH_SEND_TIMEOUT SEND_TIMEOUT
#define MACH_SEND_NOTIFY SEND_NOTIFY
#define MACH_RCV_TIMEOUT RCV_TIMEOUT
#define MACH_RCV_LARGE RCV_LARGE

/* MIG's codes, with the values Mach gives them (machipc_strerror() knows them). */
#define MIG_TYPE_ERROR (-300)        /* a reply's items are not what the routine returns */
#define MIG_REPLY_MISMATCH (-301)    /* a reply to another routine */
#define MIG_REMOTE_ERROR (-302)      /* the server found an error */
#define MIG_BAD_ID (-303)            /* the server has no routine of that id */
#define MIG_BAD_ARGUMENTS (-304)     /* a request's items are not what the routine takes */
#define MIG_NO_REPLY (-305)          /* the server answers later (or never): send no reply */
#define MIG_EXCEPTION (-306)         /* the server raised an exception */
#define MIG_ARRAY_TOO_LARGE (-307)   /* an array larger than the routine or the caller allows */
#define MIG_SERVER_DIED (-308)       /* the server died (or dropped the request) before answering */
#define MIG_DESTROY_REQUEST (-309)   /* the server failed: destroy the request, send no reply */

/* A routine of a generated server: decodes @in, calls the server function, builds @out. */
typedef void (*mig_routine_t)(msg_header_t *in, msg_header_t *out);

/* Where a reply's first item, the routine's code, ends: the out-arguments follow. */
#define MIG_REPLY_BODY ((uint32_t)sizeof(msg_header_t) + MSG_ITEM_SIZE(4))

/*
 * mig_put() - write an item at @p (the buffer ends at @end): its descriptor,
 * @n elements of @size bytes from @data, zeros to a multiple of 8
 * Return: where the next item goes, or NULL if it does not fit.
 */
static inline uint8_t *mig_put(uint8_t *p, const uint8_t *end, unsigned type, unsigned flags, uint32_t n,
                               uint32_t size, const void *data) {
        uint64_t bytes = (uint64_t)n * size, padded = (bytes + 7) & ~(uint64_t)7;
        if (!p || (uint64_t)(end - p) < sizeof(msg_type_t) + padded)
                return NULL;
        msg_type_t t;
        t.msg_type_name = (uint16_t)type;
        t.msg_type_flags = (uint16_t)flags;
        t.msg_type_number = n;
        memcpy(p, &t, sizeof(t));
        p += sizeof(t);
        if (bytes)
                memcpy(p, data, (size_t)bytes);
        memset(p + bytes, 0, (size_t)(padded - bytes));
        return p + padded;
}

/*
 * mig_get() - check the item at *@pp (the message ends at @end): type @type
 * (0: any port right, its kind in *@typep), between @min and @max elements
 * of @size bytes, all of them inside the message
 * @np: out, the count (may be NULL)
 * Return: its elements, *@pp moved past it (the last item may lack its
 * padding); NULL if it is not such an item.
 */
static inline const uint8_t *mig_get(const uint8_t **pp, const uint8_t *end, unsigned type, uint32_t min,
                                     uint32_t max, uint32_t size, uint32_t *np, unsigned *typep) {
        const uint8_t *p = *pp;
        msg_type_t t;
        if (!p || end < p || (size_t)(end - p) < sizeof(t))
                return NULL;
        memcpy(&t, p, sizeof(t));
        if (type ? t.msg_type_name != type
                 : t.msg_type_name != MSG_TYPE_PORT_RECEIVE && t.msg_type_name != MSG_TYPE_PORT_SEND &&
                           t.msg_type_name != MSG_TYPE_PORT_SEND_ONCE)
                return NULL;
        if (t.msg_type_number < min || t.msg_type_number > max)
                return NULL;
        if (t.msg_type_flags & ~(unsigned)MSG_TYPE_FLAG_DEALLOCATE)
                return NULL;
        uint64_t bytes = (uint64_t)t.msg_type_number * size, padded = (bytes + 7) & ~(uint64_t)7;
        p += sizeof(t);
        if ((uint64_t)(end - p) < bytes)
                return NULL;
        *pp = (uint64_t)(end - p) < padded ? end : p + padded;
        if (np)
                *np = t.msg_type_number;
        if (typep)
                *typep = t.msg_type_name;
        return p;
}

/* mig_strnlen() - the length of @s, looking at @max bytes at most (strnlen() in C99 terms). */
static inline size_t mig_strnlen(const char *s, size_t max) {
        const char *z = (const char *)memchr(s, 0, max);
        return z ? (size_t)(z - s) : max;
}

/* mig_set_retcode() - make @out a reply of just its code @rc. */
static inline void mig_set_retcode(msg_header_t *out, kern_return_t rc) {
        uint8_t *p = (uint8_t *)out + sizeof(msg_header_t);
        mig_put(p, p + MSG_ITEM_SIZE(4), MSG_TYPE_INTEGER_32, 0, 1, 4, &rc);
        out->msg_size = MIG_REPLY_BODY;
}

/* mig_retcode() - the code of a reply made by a generated server. */
static inline kern_return_t mig_retcode(const msg_header_t *out) {
        kern_return_t rc;
        memcpy(&rc, (const uint8_t *)out + sizeof(msg_header_t) + sizeof(msg_type_t), 4);
        return rc;
}

/*
 * mig_reply_init() - what every generated demux does first: @out answers
 * @in (to its reply right, id + 100) with MIG_BAD_ID until a routine says
 * otherwise
 */
static inline void mig_reply_init(const msg_header_t *in, msg_header_t *out) {
        out->msg_bits = MSG_BITS(MSG_BITS_REMOTE(in->msg_bits), 0);
        out->msg_remote_port = in->msg_remote_port;
        out->msg_local_port = PORT_NULL;
        out->msg_id = (msg_id_t)((uint32_t)in->msg_id + 100u);    /* wraps, as any id may come */
        out->msg_seqno = 0;
        mig_set_retcode(out, MIG_BAD_ID);
}

/*
 * machipc_mig_reply_ready() - after a demux: whether @out is a reply to
 * send.  A request the server failed on (any code but KERN_SUCCESS and
 * MIG_NO_REPLY), or did not know, is destroyed — what it carried is given
 * back, as MIG servers do — except its reply right, which the error reply
 * uses.  No reply goes without a reply right, or for MIG_NO_REPLY and
 * MIG_DESTROY_REQUEST.
 */
MACHIPC_EXPORT bool machipc_mig_reply_ready(msg_header_t *in, msg_header_t *out, bool handled);

/*
 * machipc_mig_reply() - send @out, a reply machipc_mig_reply_ready() said
 * to send, waiting at most @timeout_ms for room in the client's queue
 * (0: not at all).  If it cannot go (the client is gone, its queue stayed
 * full, the reply names a right the server lacks), what it would have given
 * away goes anyway: its reply right, moved rights, regions marked for
 * deallocation; the server keeps copied rights and its other memory.
 *
 * Return: the send's code (0, or SEND_INVALID_DEST, SEND_TIMED_OUT...).
 */
MACHIPC_EXPORT msg_return_t machipc_mig_reply(msg_header_t *out, msg_timeout_t timeout_ms);

/*
 * machipc_msg_server() - serve requests on @rcv_name (a port or port set)
 * forever: receive, @demux, reply and receive the next in one broker
 * request, as Mach's mach_msg_server()
 * @max_size: bytes of a request or reply, at most (a generated server's
 *            NAME_MSG_SIZE_MAX)
 * @options: RCV_LARGE and the like, for the receives
 *
 * A request that arrived with holes (RCV_BODY_ERROR) is destroyed and
 * answered KERN_RESOURCE_SHORTAGE; a reply that cannot go is given up as
 * machipc_mig_reply() does, and the loop goes on.
 *
 * Return: the code of a receive that failed (the port was destroyed:
 * RCV_INVALID_NAME; the broker is gone: -ECONNRESET), or -ENOMEM.
 */
MACHIPC_EXPORT kern_return_t machipc_msg_server(boolean_t (*demux)(msg_header_t *in, msg_header_t *out),
                                                size_t max_size, port_t rcv_name, msg_option_t options);

/*
 * machipc_msg_server_timeout() - machipc_msg_server() that also returns
 * RCV_TIMED_OUT when no request came for @timeout_ms (to check a flag,
 * say, then call it again)
 */
MACHIPC_EXPORT kern_return_t machipc_msg_server_timeout(boolean_t (*demux)(msg_header_t *in, msg_header_t *out),
                                                        size_t max_size, port_t rcv_name, msg_option_t options,
                                                        msg_timeout_t timeout_ms);

#ifdef __cplusplus
}
#endif
