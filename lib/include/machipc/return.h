#pragma once
/* SPDX-License-Identifier: MIT */
/* machipc/return.h - status codes and machipc_strerror() */

#include <machipc/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Every call returns 0 on success, a negative errno for a local failure
 * (-ENOMEM, -ECONNREFUSED, -ECONNRESET, -EINVAL for a bad argument), or one of
 * the positive codes below.  The values are those of Mach 3 (GNU Mach, XNU),
 * except the MACHIPC-specific ones, which are marked.
 */
#define KERN_SUCCESS 0
#define SEND_SUCCESS 0
#define RCV_SUCCESS 0

#define KERN_INVALID_ADDRESS 1
#define KERN_NO_SPACE 3           /* the name space is full */
#define KERN_INVALID_ARGUMENT 4
#define KERN_FAILURE 5
#define KERN_RESOURCE_SHORTAGE 6  /* a quota or the broker's memory ran out */
#define KERN_NO_ACCESS 8          /* not allowed to this task's user (machipc_monitor()) */
#define KERN_ALREADY_IN_SET 11
#define KERN_NOT_IN_SET 12
#define KERN_NAME_EXISTS 13
#define KERN_INVALID_NAME 15      /* the name denotes no right */
#define KERN_INVALID_TASK 16
#define KERN_INVALID_RIGHT 17     /* the name denotes the wrong kind of right */
#define KERN_INVALID_VALUE 18
#define KERN_UREFS_OVERFLOW 19
#define KERN_INVALID_CAPABILITY 20
#define KERN_RIGHT_EXISTS 21
#define KERN_TERMINATED 37              /* the semaphore was destroyed (XNU's value) */
#define KERN_NOT_SUPPORTED 46           /* descriptors cannot cross hosts (XNU's value) */
#define KERN_OPERATION_TIMED_OUT 49     /* semaphore_timedwait() ran out (XNU's value) */

#define SEND_INVALID_DATA 0x10000002
#define SEND_INVALID_DEST 0x10000003
#define SEND_TIMED_OUT 0x10000004
#define SEND_WILL_NOTIFY 0x10000005
#define SEND_NOTIFY_IN_PROGRESS 0x10000006
#define SEND_INTERRUPTED 0x10000007
#define SEND_MSG_TOO_SMALL 0x10000008
#define SEND_INVALID_REPLY 0x10000009
#define SEND_INVALID_RIGHT 0x1000000a
#define SEND_INVALID_MEMORY 0x1000000c
#define SEND_NO_BUFFER 0x1000000d
#define SEND_TOO_LARGE 0x1000000e
#define SEND_INVALID_TYPE 0x1000000f
#define SEND_INVALID_HEADER 0x10000010

#define RCV_INVALID_NAME 0x10004002
#define RCV_TIMED_OUT 0x10004003
#define RCV_TOO_LARGE 0x10004004
#define RCV_INTERRUPTED 0x10004005
#define RCV_PORT_DIED 0x10004009
/* The message was received, but a region or descriptor in it could not be
 * (the process is out of descriptors or address space): it arrives as
 * address 0 / descriptor -1. */
#define RCV_BODY_ERROR 0x1000400c
/* machipc: msg_rpc()'s reply right was destroyed unused (server died or
 * dropped the request); no reply will come. */
#define RCV_SERVER_DIED 0x10004100

/* Name server (Mach netname codes). */
#define NETNAME_SUCCESS 0
#define NETNAME_NOT_YOURS 2000
#define NETNAME_NOT_CHECKED_IN 2001
#define NETNAME_NO_SUCH_HOST 2002
#define NETNAME_HOST_NOT_FOUND 2003
#define NETNAME_INVALID_PORT 2004
/* machipc: the name is checked in by someone else and its port is alive. */
#define NETNAME_NAME_IN_USE 2005
/* machipc: no name server has registered with the broker. */
#define NETNAME_NO_SERVER 2006

/**
 * machipc_strerror() - describe a status code
 * @code: 0, a negative errno or any code above
 *
 * Return: a static string; never NULL ("unknown status code" for others).
 */
MACHIPC_EXPORT const char *machipc_strerror(int code);

#ifdef __cplusplus
}
#endif
