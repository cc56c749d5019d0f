/* SPDX-License-Identifier: MIT */
/*
 * return.c - machipc_strerror(): one table of every status code
 */

#include <string.h>
#include <machipc/mig.h>
#include <machipc/return.h>

static const struct {
        int code;
        const char *text;
} codes[] = {
        { KERN_SUCCESS, "success" },
        { KERN_INVALID_ADDRESS, "invalid address" },
        { KERN_NO_SPACE, "name space full" },
        { KERN_INVALID_ARGUMENT, "invalid argument" },
        { KERN_FAILURE, "failure" },
        { KERN_NO_ACCESS, "not allowed to this user" },
        { KERN_NOT_SUPPORTED, "not supported: descriptors cannot cross hosts" },
        { KERN_RESOURCE_SHORTAGE, "resource shortage" },
        { KERN_ALREADY_IN_SET, "port already in a set" },
        { KERN_NOT_IN_SET, "port not in a set" },
        { KERN_NAME_EXISTS, "name exists" },
        { KERN_INVALID_NAME, "name denotes no right" },
        { KERN_INVALID_TASK, "invalid task" },
        { KERN_INVALID_RIGHT, "name denotes the wrong kind of right" },
        { KERN_INVALID_VALUE, "invalid value" },
        { KERN_UREFS_OVERFLOW, "user references overflow" },
        { KERN_INVALID_CAPABILITY, "invalid capability" },
        { KERN_RIGHT_EXISTS, "right exists under another name" },
        { KERN_TERMINATED, "the object was destroyed" },
        { KERN_OPERATION_TIMED_OUT, "operation timed out" },
        { SEND_INVALID_DATA, "send: unreadable message" },
        { SEND_INVALID_DEST, "send: invalid destination port" },
        { SEND_TIMED_OUT, "send: timed out" },
        { SEND_WILL_NOTIFY, "send: message left with the broker, notification will follow" },
        { SEND_NOTIFY_IN_PROGRESS, "send: a notify send is already pending" },
        { SEND_INTERRUPTED, "send: interrupted" },
        { SEND_MSG_TOO_SMALL, "send: message malformed or too small" },
        { SEND_INVALID_REPLY, "send: invalid reply port" },
        { SEND_INVALID_RIGHT, "send: invalid port right in body" },
        { SEND_INVALID_MEMORY, "send: out-of-line region is not a sealed memfd of its size" },
        { SEND_NO_BUFFER, "send: no buffer space in the broker" },
        { SEND_TOO_LARGE, "send: message too large" },
        { SEND_INVALID_TYPE, "send: invalid item type" },
        { SEND_INVALID_HEADER, "send: invalid header" },
        { RCV_INVALID_NAME, "receive: name is not a receive right or port set" },
        { RCV_TIMED_OUT, "receive: timed out" },
        { RCV_TOO_LARGE, "receive: message too large for buffer" },
        { RCV_INTERRUPTED, "receive: interrupted" },
        { RCV_PORT_DIED, "receive: port destroyed or moved while waiting" },
        { RCV_BODY_ERROR, "receive: a region or descriptor could not be received" },
        { RCV_SERVER_DIED, "rpc: reply right destroyed without a reply (server died?)" },
        { NETNAME_NOT_YOURS, "netname: not yours" },
        { NETNAME_NOT_CHECKED_IN, "netname: name not checked in" },
        { NETNAME_NO_SUCH_HOST, "netname: no such host" },
        { NETNAME_HOST_NOT_FOUND, "netname: host not found" },
        { NETNAME_INVALID_PORT, "netname: invalid port" },
        { NETNAME_NAME_IN_USE, "netname: name in use" },
        { NETNAME_NO_SERVER, "netname: no name server" },
        { MIG_TYPE_ERROR, "mig: the reply's items are not the routine's" },
        { MIG_REPLY_MISMATCH, "mig: a reply to another request" },
        { MIG_REMOTE_ERROR, "mig: the server found an error" },
        { MIG_BAD_ID, "mig: the server has no such routine" },
        { MIG_BAD_ARGUMENTS, "mig: the request's items are not the routine's" },
        { MIG_NO_REPLY, "mig: no reply (the server answers later, or never)" },
        { MIG_EXCEPTION, "mig: the server raised an exception" },
        { MIG_ARRAY_TOO_LARGE, "mig: an array larger than allowed" },
        { MIG_SERVER_DIED, "mig: the server died before answering" },
        { MIG_DESTROY_REQUEST, "mig: the server failed; request destroyed" },
};

const char *machipc_strerror(int code) {
        if (code < 0 && (code > MIG_TYPE_ERROR || code < MIG_DESTROY_REQUEST)) {
                /* strerror() is not thread-safe for unknown values; these are. */
                return strerror(-code);
        }
        for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
                if (codes[i].code == code)
                        return codes[i].text;
        return "unknown status code";
}
