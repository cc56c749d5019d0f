/* SPDX-License-Identifier: MIT */
/*
 * kobject.c - what the broker serves itself: kernel ports and their replies
 *
 * A kernel port has no receiver: a message sent to it is served at once by
 * the object it stands for (a task, a semaphore, a shared region), in the
 * sender's context, and the reply is queued on the reply right before the
 * send returns, so an msg_rpc() to a kernel port is one round trip.  This
 * file dispatches to those servers and builds their replies; bootstrap.c
 * keeps the broker's bootstrap port.  The IPC core reaches it only through the hooks
 * it registers (ipc_set_kobject_ops()).
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "ipc/account.h"
#include "ipc/ipc.h"
#include "ipc/kmsg.h"
#include "ipc/notify.h"
#include "ipc/port.h"
#include "ipc/space.h"
#include "bootstrap.h"
#include "kobject.h"
#include "semaphore.h"
#include "shm.h"
#include "task.h"

/* kobject_deinit() - release what the kernel objects hold: the bootstrap port and its waits. */
void kobject_deinit(void) {
        bootstrap_deinit();
}

/**
 * kobject_send_reply() - send a kernel call's reply to @reply
 * @reply, @reply_kind: the reply right (taken; nothing is sent if it is not a send right)
 * @id: the reply's msg_id
 * @res, @n: the INTEGER_32 results, kr first
 * @extra: an optional second data item
 * @right: a send right to carry in a MOVE_SEND item (NULL: the item is
 *         there only if @with_right, with name 0)
 * @fd: a descriptor to carry in a MSG_TYPE_FD item (taken), or -1
 *
 * Replies to a send right do not wait for room (Mach: timeout 0); if it is
 * full the reply is dropped.
 */
void kobject_send_reply(Port *reply, uint8_t reply_kind, int32_t id, const int32_t *res, uint32_t n,
                        const KobjExtra *extra, bool with_right, Port *right, int fd) {
        if (!reply || (reply_kind != RIGHT_SEND && reply_kind != RIGHT_SEND_ONCE)) {
                right_release(reply, reply_kind);
                if (fd >= 0)
                        close(fd);
                return;
        }
        uint32_t size = (uint32_t)sizeof(msg_header_t) + MSG_ITEM_SIZE(4 * n) +
                        (extra ? MSG_ITEM_SIZE(extra->bytes) : 0) +
                        (with_right ? MSG_ITEM_SIZE(4) : 0) + (fd >= 0 ? MSG_ITEM_SIZE(4) : 0);
        Kmsg *k;
        if (kmsg_new(&k, size, with_right ? 1 : 0, fd >= 0 ? 1 : 0) < 0) {
                right_release(reply, reply_kind);
                if (fd >= 0)
                        close(fd);
                /* A new shared region nobody got a right to would never go away. */
                if (right && right->kobject_type == KOBJECT_SHM && right->n_srights == 0)
                        shm_destroy(right->kobject);
                return;
        }
        msg_header_t h = { .msg_size = size, .msg_id = id };
        wire_msg_header_put(k->data, &h);
        uint8_t *p = k->data + sizeof(h);
        msg_type_t t = { MSG_TYPE_INTEGER_32, 0, n };
        memcpy(p, &t, sizeof(t));
        memcpy(p + sizeof(t), res, 4 * n);
        p += MSG_ITEM_SIZE(4 * n);
        if (extra) {
                msg_type_t et = { extra->type, 0, extra->number };
                memcpy(p, &et, sizeof(et));
                if (extra->bytes)
                        memcpy(p + sizeof(et), extra->data, extra->bytes);
                p += MSG_ITEM_SIZE(extra->bytes);
        }
        if (with_right) {
                msg_type_t rt = { MSG_TYPE_MOVE_SEND, 0, 1 };
                memcpy(p, &rt, sizeof(rt));
                k->rights[0].offset = (uint32_t)(p + sizeof(rt) - k->data);
                k->rights[0].disp = MSG_TYPE_MOVE_SEND;
                if (right) {
                        right->n_srights++;
                        k->rights[0].port = port_ref(right);
                        k->rights[0].kind = RIGHT_SEND;
                }
                p += MSG_ITEM_SIZE(4);
        }
        if (fd >= 0) {
                msg_type_t ft = { MSG_TYPE_FD, 0, 1 };
                memcpy(p, &ft, sizeof(ft));
                wire_put_le32(p + sizeof(ft), 0);       /* descriptor 0 of the frame */
                k->fds[0] = fd;
                ipc_stats.fds_in_flight++;
                k->fds_counted = true;
        }
        k->dest = reply;
        k->dest_kind = reply_kind;
        k->from_kernel = true;
        if (ipc_send(k, NULL, SEND_TIMEOUT, 0, NULL) != 0)
                kmsg_free(k);
}

/* The last send right to a kernel port went. */
static void kobject_no_senders(Port *port) {
        /* Shared regions and semaphores live as long as someone can name them. */
        if (port->kobject_type == KOBJECT_SHM)
                shm_destroy(port->kobject);
        else if (port->kobject_type == KOBJECT_SEMAPHORE)
                semaphore_destroy(port->kobject);
}

static int kobject_server(Kmsg *request);

/* kobject_setup() - make the IPC core hand kernel ports' requests to us. */
void kobject_setup(void) {
        static const IpcKobjectOps ops = { .serve = kobject_server, .no_senders = kobject_no_senders };
        ipc_set_kobject_ops(&ops);
}

/*
 * kobject_server() - serve one request sent to a kernel port
 * @request: the message; consumed when served
 *
 * Its reply will be queued for the reply port's receiver, who pays for it:
 * a request whose reply it has no quota left for is refused before anything
 * is done, and the send fails with SEND_NO_BUFFER.  A map request, which
 * answers with a descriptor, also needs room for one among the receiver's
 * and the broker's descriptors.
 * Return: 0 or SEND_NO_BUFFER.
 */
static int kobject_server(Kmsg *request) {
        Space *payer = request->reply ? request->reply->receiver : NULL;
        if (!ipc_space_can_take_reply(payer, request->reply_kind == RIGHT_SEND_ONCE))
                return SEND_NO_BUFFER;
        if (request->dest->kobject_type == KOBJECT_SHM && request->reply &&
            ((payer && account_full(payer->acct_task, payer->acct_uid, ACCT_FDS)) || !ipc_fds_room(1)))
                return SEND_NO_BUFFER;
        switch (request->dest->kobject_type) {
        case KOBJECT_SEMAPHORE:
                semaphore_server(request);
                break;
        case KOBJECT_SHM:
                shm_server(request);
                break;
        default:
                task_server(request);
                break;
        }
        return 0;
}
