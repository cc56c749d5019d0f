#pragma once
/* SPDX-License-Identifier: MIT */
/* machipc/types.h - port names, message header, typed items, options */

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define MACHIPC_EXPORT __attribute__((visibility("default")))
#else
#define MACHIPC_EXPORT
#endif

/* A port name: meaningful only in the task (name space) that holds it. */
typedef uint32_t port_t;
typedef port_t port_name_t;
typedef uint32_t port_set_name_t;

#define PORT_NULL ((port_t)0)
/* A right whose port died while the right travelled arrives under this name. */
#define PORT_DEAD ((port_t)0xffffffffu)

typedef uint32_t msg_size_t;
typedef uint32_t msg_option_t;
typedef uint32_t msg_timeout_t;
typedef int32_t msg_id_t;
typedef int32_t msg_return_t;
typedef int32_t kern_return_t;

/*
 * The header that starts every message.  All integers are in the host's
 * byte order, which is little-endian on every platform machipc supports.
 *
 * msg_size         send: bytes including the header; receive: buffer size in,
 *                  message size out
 * msg_local_port   send: the reply port (PORT_NULL: none);
 *                  receive: the port the message arrived on (the member, when
 *                  received through a port set)
 * msg_remote_port  send: the destination; receive: the reply right, if any
 * msg_id           the user's operation number, never interpreted by the broker
 * msg_bits         send: dispositions of remote and local (MSG_BITS());
 *                  0 picks the defaults documented in msg_send(3);
 *                  receive: the kinds of rights received (MSG_TYPE_PORT_*)
 * msg_seqno        receive: the sequence number of the message in its port
 */
typedef struct {
        msg_size_t msg_size;
        port_t msg_local_port;
        port_t msg_remote_port;
        msg_id_t msg_id;
        uint32_t msg_bits;
        uint32_t msg_seqno;
} msg_header_t;

#define MSG_BITS(remote, local) ((uint32_t)(remote) | ((uint32_t)(local) << 8))
#define MSG_BITS_REMOTE(bits) ((bits) & 0xffu)
#define MSG_BITS_LOCAL(bits) (((bits) >> 8) & 0xffu)
/* Set on receive when the body carries port rights. */
#define MSG_BITS_COMPLEX 0x80000000u
#define MSG_BITS_USER (0xffffu | MSG_BITS_COMPLEX)

/*
 * A typed item: the descriptor, then msg_type_number elements, padded with
 * zero bytes to a multiple of 8.  The body of a message (after the header) is
 * a sequence of items that fills msg_size exactly.
 */
typedef struct {
        uint16_t msg_type_name;   /* MSG_TYPE_* */
        uint16_t msg_type_flags;  /* MSG_TYPE_FLAG_*; 0 for inline data */
        uint32_t msg_type_number; /* number of elements */
} msg_type_t;

/* Inline data types; element size in brackets. */
#define MSG_TYPE_BYTE 1        /* [1] opaque bytes */
#define MSG_TYPE_INTEGER_16 2  /* [2] */
#define MSG_TYPE_INTEGER_32 3  /* [4] */
#define MSG_TYPE_INTEGER_64 4  /* [8] */
#define MSG_TYPE_CHAR 8        /* [1] characters; not necessarily terminated */
#define MSG_TYPE_REAL_64 9     /* [8] IEEE-754 double */
#define MSG_TYPE_STRING 12     /* [1] count includes the terminating NUL */

/* Port rights as items or in the header: dispositions used when sending. */
#define MSG_TYPE_MOVE_RECEIVE 16
#define MSG_TYPE_MOVE_SEND 17
#define MSG_TYPE_MOVE_SEND_ONCE 18
#define MSG_TYPE_COPY_SEND 19
#define MSG_TYPE_MAKE_SEND 20
#define MSG_TYPE_MAKE_SEND_ONCE 21

/* The kinds of rights a receiver finds (same values as the moves). */
#define MSG_TYPE_PORT_RECEIVE MSG_TYPE_MOVE_RECEIVE
#define MSG_TYPE_PORT_SEND MSG_TYPE_MOVE_SEND
#define MSG_TYPE_PORT_SEND_ONCE MSG_TYPE_MOVE_SEND_ONCE

/*
 * Out-of-line items: the data does not travel in the message.
 * MSG_TYPE_MEMORY: each element is a msg_ool_t naming a region; the receiver
 *   gets a region of its own (new memory, which it vm_deallocate()s) at an
 *   address the library picks.  A region of 0 bytes arrives as address 0.
 * MSG_TYPE_FD: each element is an int32_t file descriptor (a file, socket,
 *   pipe...); the receiver gets a new descriptor for the same open file.
 * MSG_TYPE_FLAG_DEALLOCATE: move instead of copy: the sender gives the region
 *   (vm_deallocate) or descriptor (close) up when the send succeeds.
 */
#define MSG_TYPE_MEMORY 32      /* [16] msg_ool_t */
#define MSG_TYPE_FD 33          /* [4] int32_t */
#define MSG_TYPE_FLAG_DEALLOCATE 0x1u

typedef struct {
        uint64_t address;       /* a pointer, as an integer */
        uint64_t size;          /* bytes */
} msg_ool_t;

/* Largest out-of-line region, and descriptors (regions and fds) per message. */
#define MSG_OOL_SIZE_MAX (1ull << 34)
#define MSG_FDS_MAX 64u

/* Bytes an item with @bytes of payload occupies in a message. */
#define MSG_ITEM_SIZE(bytes) ((uint32_t)sizeof(msg_type_t) + ((((uint32_t)(bytes)) + 7u) & ~7u))

/* Largest message, header included, that travels inline. */
#define MSG_SIZE_MAX 65536u

/* Options of msg_send(), msg_receive() and msg_rpc(). */
#define MSG_OPTION_NONE 0x0u
#define SEND_TIMEOUT 0x10u  /* wait at most the timeout (0: do not wait) */
#define SEND_NOTIFY 0x20u   /* full queue: leave the message with the broker */
#define RCV_TIMEOUT 0x100u  /* wait at most the timeout (0: poll) */
#define RCV_LARGE 0x800u    /* too large: keep it queued, report the size */

/* Notification message ids, delivered to the notify port. */
#define NOTIFY_FIRST 64
#define NOTIFY_PORT_DELETED (NOTIFY_FIRST + 1)
#define NOTIFY_MSG_ACCEPTED (NOTIFY_FIRST + 2)
#define NOTIFY_PORT_DESTROYED (NOTIFY_FIRST + 5)
#define NOTIFY_NO_SENDERS (NOTIFY_FIRST + 6)
#define NOTIFY_SEND_ONCE (NOTIFY_FIRST + 7)
#define NOTIFY_DEAD_NAME (NOTIFY_FIRST + 8)

#ifdef __cplusplus
}
#endif
