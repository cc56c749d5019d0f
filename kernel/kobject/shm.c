/* SPDX-License-Identifier: MIT */
/*
 * shm.c - shared regions: memory many tasks map, writable by all
 *
 * Unlike an out-of-line region (a private snapshot for its receiver), a
 * shared region is the same pages for everyone who maps it: textbook shared
 * memory.  It is a kernel port holding a memfd; whoever holds a send right
 * (from its creator, from the name server, from a message) can ask to map
 * it and gets the descriptor.  The broker seals it against shrinking and
 * growing, so no mapper can be made to fault.  It lives as long as there are
 * send rights to it; mappings keep their pages afterwards.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "ipc/ipc.h"
#include "kcall.h"
#include "ipc/kmsg.h"
#include "kobject.h"
#include "ipc/port.h"
#include "shm.h"

/**
 * shm_new() - a shared region over @fd
 * @fd: a memfd of @size bytes (rounded up to pages); taken on success
 *
 * Return: 0, SEND_INVALID_MEMORY-style -EINVAL (not a memfd of that size),
 * -ENOMEM.
 */
int shm_new(Shm **shmp, int fd, uint64_t size) {
        const uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
        struct stat st;
        if (size == 0 || size > MSG_OOL_SIZE_MAX || fcntl(fd, F_GET_SEALS) < 0 || fstat(fd, &st) < 0 ||
            (uint64_t)st.st_size != (size + page - 1) / page * page)
                return -EINVAL;
        if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) < 0)
                return -EINVAL;
        Shm *s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        if (port_new_kobject(&s->port, KOBJECT_SHM, s) < 0) {
                free(s);
                return -ENOMEM;
        }
        s->fd = fd;
        s->size = size;
        *shmp = s;
        return 0;
}

/* shm_destroy() - the last send right went: the port dies, the memfd closes. */
void shm_destroy(Shm *s) {
        ipc_kobject_port_destroy(s->port);
        close(s->fd);
        free(s);
}

/**
 * shm_server() - serve a request sent to a shared region's port
 * @request: consumed
 */
void shm_server(Kmsg *request) {
        Shm *s = request->dest->kobject;
        msg_header_t h;
        wire_msg_header_get(request->data, &h);
        Port *reply = request->reply;
        uint8_t kind = request->reply_kind;
        request->reply = NULL;
        request->reply_kind = RIGHT_NONE;
        int32_t res[3] = { KERN_INVALID_ARGUMENT, 0, 0 };
        int fd = -1;
        if (h.msg_id == SHM_MAP) {
                fd = fcntl(s->fd, F_DUPFD_CLOEXEC, 0);
                res[0] = fd >= 0 ? KERN_SUCCESS : KERN_RESOURCE_SHORTAGE;
                res[1] = (int32_t)(uint32_t)s->size;
                res[2] = (int32_t)(uint32_t)(s->size >> 32);
        }
        kobject_send_reply(reply, kind, kcall_reply_id(h.msg_id), res, 3, NULL, false, NULL, fd);
        kmsg_free(request);
}
