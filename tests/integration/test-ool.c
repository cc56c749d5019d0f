/* SPDX-License-Identifier: MIT */
/* test-ool.c - out-of-line memory and descriptors: integrity, copy vs move, forgeries, leaks */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "fixture.h"
#include "raw.h"
#include "wire.h"

static uint32_t raw_notify_name;

typedef struct {
        msg_header_t head;
        msg_type_t t;
        msg_ool_t region;
        msg_type_t ct;
        uint64_t checksum;
} RegionMsg;

static uint64_t fnv(const void *p, uint64_t n) {
        const uint8_t *b = p;
        uint64_t h = 1469598103934665603ull;
        for (uint64_t i = 0; i < n; i++)
                h = (h ^ b[i]) * 1099511628211ull;
        return h;
}

static void fill(void *p, uint64_t n, uint64_t seed) {
        uint8_t *b = p;
        for (uint64_t i = 0; i < n; i++)
                b[i] = (uint8_t)((i * 131 + seed) >> 3);
}

static msg_return_t send_region(port_t dest, uint64_t addr, uint64_t size, bool move, uint64_t sum) {
        RegionMsg m;
        memset(&m, 0, sizeof(m));
        msg_type_init(&m.t, MSG_TYPE_MEMORY, 1);
        if (move)
                m.t.msg_type_flags = MSG_TYPE_FLAG_DEALLOCATE;
        m.region.address = addr;
        m.region.size = size;
        msg_type_init(&m.ct, MSG_TYPE_INTEGER_64, 1);
        m.checksum = sum;
        m.head.msg_size = sizeof(m);
        m.head.msg_remote_port = dest;
        return msg_send(&m.head, 0, 0);
}

static msg_return_t recv_region(port_t port, RegionMsg *m, msg_timeout_t to) {
        memset(m, 0, sizeof(*m));
        m->head.msg_size = sizeof(*m);
        m->head.msg_local_port = port;
        return msg_receive(&m->head, RCV_TIMEOUT, to);
}

static port_t new_port(void) {
        port_t p;
        ck_assert_int_eq(port_allocate(task_self(), &p), 0);
        ck_assert_int_eq(port_set_backlog(task_self(), p, 64), 0);
        return p;
}

static const uint64_t sizes[] = { 0, 1, 4095, 4096, 4097, 1 << 20, 256ull << 20 };

/* Child: send each size twice to the bootstrap port, copied from malloc'd
 * memory and moved from a vm_allocate'd region. */
static int sender(void *arg) {
        (void)arg;
        port_t boot = test_bootstrap_lookup();
        for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
                uint64_t n = sizes[i];
                uint8_t *buf = n ? malloc(n) : NULL;
                if (n && !buf)
                        return 1;
                fill(buf, n, i);
                uint64_t sum = fnv(buf, n);
                if (send_region(boot, (uintptr_t)buf, n, false, sum) != 0)
                        return 2;
                /* A write after the send must not reach the receiver. */
                if (n)
                        buf[0] ^= 0xff;
                free(buf);
                vm_address_t a;
                if (vm_allocate(task_self(), &a, n, 1) != 0)
                        return 3;
                fill((void *)a, n, i + 100);
                sum = fnv((void *)a, n);
                if (send_region(boot, a, n, true, sum) != 0)
                        return 4;
                /* Moved: it is no longer ours. */
                if (n && vm_deallocate(task_self(), a, n) != KERN_INVALID_ADDRESS)
                        return 5;
        }
        return 0;
}

START_TEST(test_integrity_all_sizes) {
        port_t boot = test_bootstrap_serve();
        pid_t pid = test_fork(sender, NULL);
        for (size_t i = 0; i < 2 * sizeof(sizes) / sizeof(sizes[0]); i++) {
                RegionMsg m;
                ck_assert_int_eq(recv_region(boot, &m, 60000), 0);
                uint64_t n = sizes[i / 2];
                ck_assert_uint_eq(m.region.size, n);
                if (n == 0) {
                        ck_assert_uint_eq(m.region.address, 0);
                        continue;
                }
                ck_assert_uint_ne(m.region.address, 0);
                ck_assert_uint_eq(m.region.address % 4096, 0);
                uint8_t *p = (uint8_t *)(uintptr_t)m.region.address;
                ck_assert_msg(fnv(p, n) == m.checksum, "size %llu: checksum differs", (unsigned long long)n);
                /* The copy is ours to write. */
                p[n - 1] ^= 1;
                ck_assert_int_eq(vm_deallocate(task_self(), m.region.address, n), 0);
        }
        ck_assert_int_eq(test_wait(pid), 0);
}
END_TEST

START_TEST(test_copy_is_a_snapshot) {
        port_t p = new_port();
        vm_address_t a;
        ck_assert_int_eq(vm_allocate(task_self(), &a, 8192, 1), 0);
        memset((void *)a, 'A', 8192);
        ck_assert_int_eq(send_region(p, a, 8192, false, 0), 0);
        /* The sender keeps its region and writes on. */
        memset((void *)a, 'B', 8192);
        RegionMsg m;
        ck_assert_int_eq(recv_region(p, &m, 1000), 0);
        const uint8_t *r = (const uint8_t *)(uintptr_t)m.region.address;
        ck_assert_uint_ne(m.region.address, a);
        for (int i = 0; i < 8192; i++)
                ck_assert_uint_eq(r[i], 'A');
        ck_assert_uint_eq(((uint8_t *)a)[0], 'B');
        /* Writing the received copy does not touch the sender's. */
        ((uint8_t *)(uintptr_t)m.region.address)[0] = 'C';
        ck_assert_uint_eq(((uint8_t *)a)[0], 'B');
        ck_assert_int_eq(vm_deallocate(task_self(), m.region.address, 8192), 0);
        ck_assert_int_eq(vm_deallocate(task_self(), a, 8192), 0);
        ck_assert_int_eq(vm_deallocate(task_self(), a, 8192), KERN_INVALID_ADDRESS);
}
END_TEST

/* Above WIRE_ATTACH_MAX a region travels as its own memfd. */
#define BIG (WIRE_ATTACH_MAX + 4096)

START_TEST(test_move_hands_pages_over) {
        port_t p = new_port();
        vm_address_t a;
        ck_assert_int_eq(vm_allocate(task_self(), &a, BIG, 1), 0);
        memset((void *)a, 'M', BIG);
        ck_assert_int_eq(send_region(p, a, BIG, true, 0), 0);
        /* The sender's mapping is gone: its pages went, uncopied. */
        unsigned char vec[BIG / 4096];
        ck_assert_int_eq(mincore((void *)a, BIG, vec), -1);
        ck_assert_int_eq(errno, ENOMEM);
        RegionMsg m;
        ck_assert_int_eq(recv_region(p, &m, 1000), 0);
        const uint8_t *r = (const uint8_t *)(uintptr_t)m.region.address;
        ck_assert_uint_eq(r[0], 'M');
        ck_assert_uint_eq(r[BIG - 1], 'M');
        ck_assert_int_eq(vm_deallocate(task_self(), m.region.address, BIG), 0);
        /* A small region moved travels in the frame; it is given up all the same. */
        ck_assert_int_eq(vm_allocate(task_self(), &a, 100, 1), 0);
        memset((void *)a, 's', 100);
        ck_assert_int_eq(send_region(p, a, 100, true, 0), 0);
        ck_assert_int_eq(vm_deallocate(task_self(), a, 100), KERN_INVALID_ADDRESS);
        ck_assert_int_eq(recv_region(p, &m, 1000), 0);
        ck_assert_uint_eq(((const uint8_t *)(uintptr_t)m.region.address)[99], 's');
        ck_assert_int_eq(vm_deallocate(task_self(), m.region.address, 100), 0);
}
END_TEST

START_TEST(test_failed_send_keeps_region) {
        port_t p = new_port();
        ck_assert_int_eq(port_set_backlog(task_self(), p, 0), 0);
        vm_address_t a;
        ck_assert_int_eq(vm_allocate(task_self(), &a, BIG, 1), 0);
        memset((void *)a, 'K', BIG);
        RegionMsg m;
        memset(&m, 0, sizeof(m));
        msg_type_init(&m.t, MSG_TYPE_MEMORY, 1);
        m.t.msg_type_flags = MSG_TYPE_FLAG_DEALLOCATE;
        m.region.address = a;
        m.region.size = BIG;
        msg_type_init(&m.ct, MSG_TYPE_INTEGER_64, 1);
        m.head.msg_size = sizeof(m);
        m.head.msg_remote_port = p;
        /* Nobody receives: the wait times out and the region stays ours
         * (sealed by then, so mapped back copy-on-write, contents intact). */
        ck_assert_int_eq(msg_send(&m.head, SEND_TIMEOUT, 30), SEND_TIMED_OUT);
        ck_assert_uint_eq(m.region.address, a);
        ck_assert_uint_eq(((uint8_t *)a)[BIG - 1], 'K');
        ((uint8_t *)a)[0] = 'W';        /* still writable */
        ck_assert_int_eq(vm_deallocate(task_self(), a, BIG), 0);
}
END_TEST

START_TEST(test_vm_pool_reuse) {
        vm_address_t a, b;
        ck_assert_int_eq(vm_allocate(task_self(), &a, 1 << 20, 1), 0);
        memset((void *)a, 0x5a, 1 << 20);
        ck_assert_int_eq(vm_deallocate(task_self(), a, 1 << 20), 0);
        ck_assert_int_eq(vm_allocate(task_self(), &b, 1 << 20, 1), 0);
        ck_assert_uint_eq(b, a);        /* the same pages, reused */
        for (int i = 0; i < (1 << 20); i += 4096)
                ck_assert_uint_eq(((uint8_t *)b)[i], 0);        /* and zero-filled */
        ck_assert_int_eq(vm_deallocate(task_self(), b, 1 << 20), 0);
        vm_address_t z = 1;
        ck_assert_int_eq(vm_allocate(task_self(), &z, 0, 1), 0);
        ck_assert_uint_eq(z, 0);
        ck_assert_int_eq(vm_allocate(task_self(), &z, 4096, 0), KERN_INVALID_ARGUMENT);
        ck_assert_int_eq(vm_allocate(task_self(), &z, MSG_OOL_SIZE_MAX + 1, 1), KERN_INVALID_ARGUMENT);
        ck_assert_int_eq(vm_deallocate(task_self(), 0x1000, 4096), KERN_INVALID_ADDRESS);
}
END_TEST

START_TEST(test_fd_passing) {
        port_t p = new_port();
        int pipefd[2];
        ck_assert_int_eq(pipe(pipefd), 0);
        struct {
                msg_header_t head;
                msg_type_t t;
                int32_t fd;
                int32_t pad;
        } m;
        memset(&m, 0, sizeof(m));
        msg_type_init(&m.t, MSG_TYPE_FD, 1);
        m.fd = pipefd[1];
        m.head.msg_size = sizeof(msg_header_t) + MSG_ITEM_SIZE(4);
        m.head.msg_remote_port = p;
        ck_assert_int_eq(msg_send(&m.head, 0, 0), 0);
        /* Copied: ours is still open. */
        ck_assert_int_ge(fcntl(pipefd[1], F_GETFD), 0);
        memset(&m, 0, sizeof(m));
        m.head.msg_size = sizeof(m);
        m.head.msg_local_port = p;
        ck_assert_int_eq(msg_receive(&m.head, RCV_TIMEOUT, 1000), 0);
        ck_assert_int_ge(m.fd, 0);
        ck_assert_int_ne(m.fd, pipefd[1]);
        ck_assert_int_eq(write(m.fd, "x", 1), 1);
        char c = 0;
        ck_assert_int_eq(read(pipefd[0], &c, 1), 1);
        ck_assert_int_eq(c, 'x');
        close(m.fd);
        /* Moved: closed in the sender once sent. */
        int w = dup(pipefd[1]);
        memset(&m, 0, sizeof(m));
        msg_type_init(&m.t, MSG_TYPE_FD, 1);
        m.t.msg_type_flags = MSG_TYPE_FLAG_DEALLOCATE;
        m.fd = w;
        m.head.msg_size = sizeof(msg_header_t) + MSG_ITEM_SIZE(4);
        m.head.msg_remote_port = p;
        ck_assert_int_eq(msg_send(&m.head, 0, 0), 0);
        ck_assert_int_lt(fcntl(w, F_GETFD), 0);
        memset(&m, 0, sizeof(m));
        m.head.msg_size = sizeof(m);
        m.head.msg_local_port = p;
        ck_assert_int_eq(msg_receive(&m.head, RCV_TIMEOUT, 1000), 0);
        close(m.fd);
        /* A descriptor that is not open is refused before anything is sent. */
        memset(&m, 0, sizeof(m));
        msg_type_init(&m.t, MSG_TYPE_FD, 1);
        m.fd = 987;
        m.head.msg_size = sizeof(msg_header_t) + MSG_ITEM_SIZE(4);
        m.head.msg_remote_port = p;
        ck_assert_int_eq(msg_send(&m.head, 0, 0), SEND_INVALID_MEMORY);
        close(pipefd[0]);
        close(pipefd[1]);
}
END_TEST

/*
 * Regions of every kind and descriptors in one message, in any order: small
 * regions travel in the frame, large ones as memfds, and neither may be
 * paired with the other's descriptors.  Sent by another task.
 */
typedef struct {
        msg_header_t head;
        msg_type_t t1;
        msg_ool_t small1;       /* in the frame */
        msg_type_t t2;
        int32_t fd1;
        int32_t pad2;
        msg_type_t t3;
        msg_ool_t big;          /* a memfd */
        msg_ool_t small2;       /* in the frame */
        msg_type_t t4;
        int32_t fd2;
        int32_t fd3;
        msg_type_t t5;
        msg_ool_t small3;
        msg_type_t t6;
        uint64_t sums[4];
} MixedMsg;

#define MIX_SMALL1 100
#define MIX_BIG (300u << 10)
#define MIX_SMALL2 4096
#define MIX_SMALL3 (20u << 10)

static int mixed_sender(void *arg) {
        (void)arg;
        port_t boot = test_bootstrap_lookup();
        int pfd[2][2];
        if (pipe(pfd[0]) < 0 || pipe(pfd[1]) < 0)
                return 1;
        static uint8_t s1[MIX_SMALL1], s2[MIX_SMALL2], s3[MIX_SMALL3];
        vm_address_t big;
        if (vm_allocate(task_self(), &big, MIX_BIG, 1) != 0)
                return 2;
        fill(s1, sizeof(s1), 1);
        fill(s2, sizeof(s2), 2);
        fill(s3, sizeof(s3), 3);
        fill((void *)big, MIX_BIG, 4);
        MixedMsg m;
        memset(&m, 0, sizeof(m));
        msg_type_init(&m.t1, MSG_TYPE_MEMORY, 1);
        m.small1 = (msg_ool_t){ (uintptr_t)s1, sizeof(s1) };
        msg_type_init(&m.t2, MSG_TYPE_FD, 1);
        m.fd1 = pfd[0][1];
        msg_type_init(&m.t3, MSG_TYPE_MEMORY, 2);
        m.t3.msg_type_flags = MSG_TYPE_FLAG_DEALLOCATE;
        m.big = (msg_ool_t){ big, MIX_BIG };
        m.small2 = (msg_ool_t){ (uintptr_t)s2, sizeof(s2) };
        msg_type_init(&m.t4, MSG_TYPE_FD, 2);
        m.fd2 = pfd[1][1];
        m.fd3 = pfd[0][1];
        msg_type_init(&m.t5, MSG_TYPE_MEMORY, 1);
        m.small3 = (msg_ool_t){ (uintptr_t)s3, sizeof(s3) };
        msg_type_init(&m.t6, MSG_TYPE_INTEGER_64, 4);
        m.sums[0] = fnv(s1, sizeof(s1));
        m.sums[1] = fnv((void *)big, MIX_BIG);
        m.sums[2] = fnv(s2, sizeof(s2));
        m.sums[3] = fnv(s3, sizeof(s3));
        m.head.msg_size = sizeof(m);
        m.head.msg_remote_port = boot;
        msg_return_t r = msg_send(&m.head, 0, 0);
        if (r != 0)
                return 10;
        /* The receiver writes its tag into each pipe it got. */
        char c[3] = { 0 };
        if (read(pfd[0][0], &c[0], 1) != 1 || read(pfd[1][0], &c[1], 1) != 1 ||
            read(pfd[0][0], &c[2], 1) != 1)
                return 11;
        return c[0] == 'a' && c[1] == 'b' && c[2] == 'c' ? 0 : 12;
}

START_TEST(test_mixed_regions_and_descriptors) {
        port_t boot = test_bootstrap_serve();
        pid_t pid = test_fork(mixed_sender, NULL);
        MixedMsg m;
        memset(&m, 0, sizeof(m));
        m.head.msg_size = sizeof(m);
        m.head.msg_local_port = boot;
        ck_assert_int_eq(msg_receive(&m.head, RCV_TIMEOUT, 20000), 0);
        ck_assert_uint_eq(m.small1.size, MIX_SMALL1);
        ck_assert_uint_eq(m.big.size, MIX_BIG);
        ck_assert_uint_eq(m.small2.size, MIX_SMALL2);
        ck_assert_uint_eq(m.small3.size, MIX_SMALL3);
        ck_assert(fnv((void *)(uintptr_t)m.small1.address, MIX_SMALL1) == m.sums[0]);
        ck_assert(fnv((void *)(uintptr_t)m.big.address, MIX_BIG) == m.sums[1]);
        ck_assert(fnv((void *)(uintptr_t)m.small2.address, MIX_SMALL2) == m.sums[2]);
        ck_assert(fnv((void *)(uintptr_t)m.small3.address, MIX_SMALL3) == m.sums[3]);
        ck_assert_int_ge(m.fd1, 0);
        ck_assert_int_ge(m.fd2, 0);
        ck_assert_int_ge(m.fd3, 0);
        ck_assert_int_eq(write(m.fd1, "a", 1), 1);
        ck_assert_int_eq(write(m.fd2, "b", 1), 1);
        ck_assert_int_eq(write(m.fd3, "c", 1), 1);
        ck_assert_int_eq(test_wait(pid), 0);
        close(m.fd1);
        close(m.fd2);
        close(m.fd3);
        vm_deallocate(task_self(), m.small1.address, m.small1.size);
        vm_deallocate(task_self(), m.big.address, m.big.size);
        vm_deallocate(task_self(), m.small2.address, m.small2.size);
        vm_deallocate(task_self(), m.small3.address, m.small3.size);
}
END_TEST

START_TEST(test_too_large_closes_descriptors) {
        port_t p = new_port();
        vm_address_t a;
        ck_assert_int_eq(vm_allocate(task_self(), &a, BIG, 1), 0);
        for (int i = 0; i < 20; i++)
                ck_assert_int_eq(send_region(p, a, BIG, false, 0), 0);
        /* Too small a buffer destroys each message (and its memfd) in the broker. */
        for (int i = 0; i < 20; i++) {
                msg_header_t h = { .msg_size = sizeof(h), .msg_local_port = p };
                ck_assert_int_eq(msg_receive(&h, RCV_TIMEOUT, 0), RCV_TOO_LARGE);
        }
        /* And a port destroyed with such messages queued closes theirs. */
        for (int i = 0; i < 20; i++)
                ck_assert_int_eq(send_region(p, a, BIG, false, 0), 0);
        ck_assert_int_eq(port_deallocate(task_self(), p), 0);
        ck_assert_int_eq(vm_deallocate(task_self(), a, BIG), 0);
        /* The fixture checks the broker holds no more descriptors than at the start. */
}
END_TEST

static int queue_and_die(void *arg) {
        (void)arg;
        port_t boot = test_bootstrap_lookup(), mine;
        if (port_allocate(task_self(), &mine) != 0 || port_set_backlog(task_self(), mine, 64) != 0)
                return 1;
        vm_address_t a;
        if (vm_allocate(task_self(), &a, 1 << 20, 1) != 0)
                return 2;
        for (int i = 0; i < 30; i++)
                if (send_region(mine, a, 1 << 20, false, 0) != 0)
                        return 3;
        if (test_send_int(boot, 0, 0, 0, 0, 0, 0) != 0)
                return 4;
        pause();
        return 0;
}

START_TEST(test_sigkill_mid_transfer) {
        port_t boot = test_bootstrap_serve();
        int before = test_count_fds(fixture_broker.pid);
        pid_t pid = test_fork(queue_and_die, NULL);
        ck_assert_int_eq(test_recv_int(boot, NULL, NULL, NULL, 0, 0), 0);
        ck_assert_int_ge(test_count_fds(fixture_broker.pid), before + 30);
        kill(pid, SIGKILL);
        ck_assert_int_eq(test_wait(pid), 128 + SIGKILL);
        uint64_t deadline = test_now_ms() + 10000;
        while (test_count_fds(fixture_broker.pid) > before)
                ck_assert_uint_lt(test_now_ms(), deadline);
}
END_TEST

/* Raw frames with forged descriptors. */
static int raw_task_here(void) {
        WireHelloReply rep;
        int fd = raw_task(fixture_broker.path, 0, &rep);
        /* Messages go to the task's own notify port, whose receive right it holds. */
        raw_notify_name = rep.notify;
        return fd;
}

/* Send a one-region message with @fd attached (or none) and return the status. */
static uint32_t raw_send_region(int sock, int fd, uint64_t size, uint64_t index) {
        uint8_t f[256] = { 0 };
        RegionMsg msg;
        memset(&msg, 0, sizeof(msg));
        msg_type_init(&msg.t, MSG_TYPE_MEMORY, 1);
        msg.region.address = index;
        msg.region.size = size;
        msg_type_init(&msg.ct, MSG_TYPE_INTEGER_64, 1);
        msg.head.msg_size = sizeof(msg);
        msg.head.msg_remote_port = raw_notify_name;
        WireHeader h = { .size = (uint32_t)(WIRE_HDR_SIZE + WIRE_MSG_REQ_SIZE + sizeof(msg)),
                         .op = WIRE_OP_MSG, .serial = 7 };
        WireMsgReq q = { .option = WIRE_MSG_SEND };
        wire_header_encode(f, &h);
        wire_msg_req_encode(f + WIRE_HDR_SIZE, &q);
        memcpy(f + WIRE_HDR_SIZE + WIRE_MSG_REQ_SIZE, &msg, sizeof(msg));
        struct iovec iov = { f, h.size };
        union {
                struct cmsghdr c;
                char b[CMSG_SPACE(sizeof(int))];
        } ctl;
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
        if (fd >= 0) {
                memset(&ctl, 0, sizeof(ctl));
                mh.msg_control = ctl.b;
                mh.msg_controllen = sizeof(ctl.b);
                struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
                cm->cmsg_level = SOL_SOCKET;
                cm->cmsg_type = SCM_RIGHTS;
                cm->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(cm), &fd, sizeof(int));
        }
        ck_assert_int_eq(sendmsg(sock, &mh, MSG_NOSIGNAL), (ssize_t)h.size);
        uint8_t in[512];
        ssize_t n = recv(sock, in, sizeof(in), 0);
        ck_assert_int_ge(n, WIRE_HDR_SIZE + WIRE_MSG_REPLY_SIZE);
        return wire_get_le32(in + WIRE_HDR_SIZE);
}

START_TEST(test_forged_descriptors_rejected) {
        int sock = raw_task_here();
        int memfd = memfd_create("t", MFD_ALLOW_SEALING);
        ck_assert_int_eq(ftruncate(memfd, 4096), 0);
        /* Not sealed. */
        ck_assert_uint_eq(raw_send_region(sock, memfd, 4096, 0), SEND_INVALID_MEMORY);
        /* Sealed but not its declared size. */
        ck_assert_int_eq(fcntl(memfd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW), 0);
        ck_assert_uint_eq(raw_send_region(sock, memfd, 8192, 0), SEND_INVALID_MEMORY);
        ck_assert_uint_eq(raw_send_region(sock, memfd, 1, 0), 0);       /* 1 byte rounds to a page */
        /* Not a memfd: a plain file, a pipe. */
        int file = open("/proc/self/exe", O_RDONLY);
        ck_assert_uint_eq(raw_send_region(sock, file, 4096, 0), SEND_INVALID_MEMORY);
        int pipefd[2];
        ck_assert_int_eq(pipe(pipefd), 0);
        ck_assert_uint_eq(raw_send_region(sock, pipefd[0], 4096, 0), SEND_INVALID_MEMORY);
        /* A region declared without its descriptor, or a wrong index. */
        ck_assert_uint_eq(raw_send_region(sock, -1, 4096, 0), SEND_INVALID_MEMORY);
        ck_assert_uint_eq(raw_send_region(sock, memfd, 4096, 3), SEND_INVALID_MEMORY);
        /* A descriptor the items do not account for. */
        ck_assert_uint_eq(raw_send_region(sock, memfd, 0, 0), SEND_INVALID_MEMORY);
        close(memfd);
        close(file);
        close(pipefd[0]);
        close(pipefd[1]);
        close(sock);
}
END_TEST

int main(void) {
        Suite *s = suite_create("Out of line");
        TCase *tc = tcase_create("ool");
        tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
        tcase_set_timeout(tc, 120);
        ADD_TEST(tc, test_integrity_all_sizes);
        ADD_TEST(tc, test_copy_is_a_snapshot);
        ADD_TEST(tc, test_move_hands_pages_over);
        ADD_TEST(tc, test_failed_send_keeps_region);
        ADD_TEST(tc, test_vm_pool_reuse);
        ADD_TEST(tc, test_fd_passing);
        ADD_TEST(tc, test_mixed_regions_and_descriptors);
        ADD_TEST(tc, test_too_large_closes_descriptors);
        ADD_TEST(tc, test_sigkill_mid_transfer);
        ADD_TEST(tc, test_forged_descriptors_rejected);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
