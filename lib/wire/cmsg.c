/* SPDX-License-Identifier: MIT */
/*
 * cmsg.c - descriptors in SCM_RIGHTS control data, for both ends
 *
 * Fills and drains the control part of a struct msghdr; no I/O.
 */

#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "wire.h"

/**
 * wire_cmsg_put_fds() - attach @n descriptors to @mh
 * @ctl, @ctl_size: room for CMSG_SPACE(n * sizeof(int)) bytes
 *
 * Nothing is attached for n == 0.
 */
void wire_cmsg_put_fds(struct msghdr *mh, void *ctl, size_t ctl_size, const int *fds, uint32_t n) {
        if (!n)
                return;
        memset(ctl, 0, ctl_size);       /* the padding too: it goes to the kernel */
        mh->msg_control = ctl;
        mh->msg_controllen = CMSG_SPACE(sizeof(int) * n);
        struct cmsghdr *cm = CMSG_FIRSTHDR(mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int) * n);
        memcpy(CMSG_DATA(cm), fds, sizeof(int) * n);
}

/**
 * wire_cmsg_take_fds() - the descriptors a received @mh carries
 * @fds, @max, @np: out, at most @max (the caller owns them)
 *
 * Descriptors beyond @max are closed.
 * Return: false if there were more than @max or other control data.
 */
bool wire_cmsg_take_fds(struct msghdr *mh, int *fds, uint32_t max, uint32_t *np) {
        bool ok = true;
        *np = 0;
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
                if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) {
                        ok = false;
                        continue;
                }
                size_t n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                for (size_t i = 0; i < n; i++) {
                        int fd;
                        memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(fd));
                        if (*np < max) {
                                fds[(*np)++] = fd;
                        } else {
                                close(fd);
                                ok = false;
                        }
                }
        }
        return ok;
}
