/* SPDX-License-Identifier: MIT */
/*
 * machipc-large-transfer - the same bytes out of line and inline, timed
 *
 * A sender task and a receiver task (a child process: a task of its own)
 * move SIZE MiB (default 256) three ways through the broker and print the
 * times side by side:
 *   out of line, moved:  the region's pages change hands, no byte copied;
 *   out of line, copied: one copy into a sealed memfd;
 *   inline, in chunks:   64 KiB messages, every byte through the sockets.
 * "handoff" is from the send until the receiver's msg_receive() returned
 * with the region mapped; "end to end" until the receiver has read every byte.
 * Uses the public API only.
 */

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <machipc/machipc.h>
#include "tool.h"

#define CHUNK (MSG_SIZE_MAX - 64)

static double now(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec + ts.tv_nsec / 1e9;
}

typedef struct {
        msg_header_t head;
        msg_type_t t;
        msg_ool_t region;
        msg_type_t tt;
        double sent_at;
} RegionMsg;

typedef struct {
        msg_header_t head;
        msg_type_t t;
        uint8_t data[CHUNK];
} ChunkMsg;

typedef struct {
        msg_header_t head;
        msg_type_t t;
        double times[2];        /* handoff, end to end */
        msg_type_t st;
        uint64_t sum;
} ReportMsg;

static uint64_t sum_bytes(const uint8_t *p, size_t n) {
        uint64_t s = 0;
        for (size_t i = 0; i < n; i += 8) {
                uint64_t v;
                memcpy(&v, p + i, n - i >= 8 ? 8 : n - i);
                s += v;
        }
        return s;
}

/* The receiver: three rounds, each answered with its times and a checksum. */
static int receiver(port_t in, port_t reply, size_t size) {
        for (int round = 0; round < 3; round++) {
                ReportMsg rep;
                memset(&rep, 0, sizeof(rep));
                if (round < 2) {
                        RegionMsg m;
                        memset(&m, 0, sizeof(m));
                        m.head.msg_size = sizeof(m);
                        m.head.msg_local_port = in;
                        if (msg_receive(&m.head, 0, 0) != 0)
                                return 1;
                        rep.times[0] = now() - m.sent_at;
                        rep.sum = sum_bytes((const uint8_t *)(uintptr_t)m.region.address, m.region.size);
                        rep.times[1] = now() - m.sent_at;
                        vm_deallocate(task_self(), m.region.address, m.region.size);
                } else {
                        static ChunkMsg c;
                        double start = 0;
                        size_t got = 0;
                        while (got < size) {
                                c.head.msg_size = sizeof(c);
                                c.head.msg_local_port = in;
                                if (msg_receive(&c.head, 0, 0) != 0)
                                        return 2;
                                if (got == 0)
                                        memcpy(&start, c.data, sizeof(start));
                                size_t n = c.t.msg_type_number;
                                rep.sum += sum_bytes(c.data + (got == 0 ? 8 : 0), n - (got == 0 ? 8 : 0));
                                got += n - (got == 0 ? 8 : 0);
                        }
                        rep.times[0] = rep.times[1] = now() - start;
                }
                msg_type_init(&rep.t, MSG_TYPE_REAL_64, 2);
                msg_type_init(&rep.st, MSG_TYPE_INTEGER_64, 1);
                rep.head.msg_size = sizeof(rep);
                rep.head.msg_remote_port = reply;
                if (msg_send(&rep.head, 0, 0) != 0)
                        return 3;
        }
        return 0;
}

static int get_report(port_t reply, ReportMsg *r) {
        memset(r, 0, sizeof(*r));
        r->head.msg_size = sizeof(*r);
        r->head.msg_local_port = reply;
        /* Bounded: if the receiver failed, say so rather than wait forever. */
        msg_return_t ret = msg_receive(&r->head, RCV_TIMEOUT, 120000);
        if (ret)
                fprintf(stderr, "machipc-large-transfer: no report from the receiver: %s\n",
                        machipc_strerror(ret));
        return ret;
}

int main(int argc, char **argv) {
        size_t mib = 256;
        int c;
        while ((c = getopt(argc, argv, "s:h")) >= 0) {
                if (c == 's') {
                        mib = strtoul(optarg, NULL, 10);
                } else {
                        printf("Usage: machipc-large-transfer [-s MIB]\n"
                               "Times moving MIB MiB (default 256) out of line (moved, copied) and inline in chunks.\n");
                        return c == 'h' ? 0 : 2;
                }
        }
        size_t size = mib << 20;
        if (size == 0)
                return 2;
        if (tool_connect("machipc-large-transfer") < 0)
                return 1;
        /* Set up in the parent, then fork: the child is a new task, given rights by message. */
        port_t boot, in, reply;
        if (port_allocate(task_self(), &boot) || port_allocate(task_self(), &reply) ||
            port_set_backlog(task_self(), reply, 8)) {
                fprintf(stderr, "machipc-large-transfer: cannot reach the broker\n");
                return 1;
        }
        int pipefd[2];
        if (pipe(pipefd) < 0)
                return 1;
        pid_t pid = fork();
        if (pid == 0) {
                /* A new task: make a port, send its right to the parent through a pipe-less path:
                 * the parent's reply port is not ours, so ask for it by name. */
                close(pipefd[1]);
                char name[64];
                ssize_t n = read(pipefd[0], name, sizeof(name) - 1);
                if (n <= 0)
                        _exit(1);
                name[n] = 0;
                port_t parent;
                if (netname_look_up(PORT_NULL, NULL, name, &parent) != 0)
                        _exit(1);
                port_t mine;
                port_allocate(task_self(), &mine);
                port_set_backlog(task_self(), mine, 64);
                struct {
                        msg_header_t head;
                        msg_type_t t;
                        port_t p;
                        uint32_t pad;
                } hello = { .head = { .msg_size = sizeof(msg_header_t) + MSG_ITEM_SIZE(4),
                                      .msg_remote_port = parent },
                            .t = { MSG_TYPE_MAKE_SEND, 0, 1 }, .p = mine };
                if (msg_send(&hello.head, 0, 0) != 0)
                        _exit(1);
                _exit(receiver(mine, parent, size));
        }
        close(pipefd[0]);
        char name[64];
        snprintf(name, sizeof(name), "large-transfer-%d", (int)getpid());
        kern_return_t kr = netname_check_in(PORT_NULL, name, reply, reply);
        if (kr) {
                fprintf(stderr, "machipc-large-transfer: needs the name server: %s\n", machipc_strerror(kr));
                kill(pid, SIGKILL);
                return 1;
        }
        if (write(pipefd[1], name, strlen(name)) < 0)
                return 1;
        close(pipefd[1]);
        struct {
                msg_header_t head;
                msg_type_t t;
                port_t p;
                uint32_t pad;
        } hello;
        memset(&hello, 0, sizeof(hello));
        hello.head.msg_size = sizeof(hello);
        hello.head.msg_local_port = reply;
        if (msg_receive(&hello.head, RCV_TIMEOUT, 30000) != 0) {
                fprintf(stderr, "machipc-large-transfer: the receiver did not start\n");
                kill(pid, SIGKILL);
                return 1;
        }
        in = hello.p;
        netname_check_out(PORT_NULL, name, reply);

        printf("moving %zu MiB between two tasks\n", mib);
        double t_alloc = now();
        vm_address_t a;
        if (vm_allocate(task_self(), &a, size, 1) != 0)
                return 1;
        memset((void *)a, 0x5a, size);
        t_alloc = now() - t_alloc;
        uint64_t want = sum_bytes((const uint8_t *)a, size);
        double handoff[3], e2e[3];
        for (int round = 0; round < 2; round++) {
                RegionMsg m;
                memset(&m, 0, sizeof(m));
                msg_type_init(&m.t, MSG_TYPE_MEMORY, 1);
                m.t.msg_type_flags = round == 0 ? 0 : MSG_TYPE_FLAG_DEALLOCATE;
                m.region.address = a;
                m.region.size = size;
                msg_type_init(&m.tt, MSG_TYPE_REAL_64, 1);
                m.head.msg_size = sizeof(m);
                m.head.msg_remote_port = in;
                m.sent_at = now();
                if (msg_send(&m.head, 0, 0) != 0)
                        return 1;
                ReportMsg r;
                if (get_report(reply, &r) != 0 || r.sum != want) {
                        fprintf(stderr, "machipc-large-transfer: data differs\n");
                        return 1;
                }
                handoff[round] = r.times[0];
                e2e[round] = r.times[1];
        }
        /* Inline: the same bytes, 64 KiB at a time (the region was moved away: use a copy). */
        uint8_t *buf = malloc(size);
        memset(buf, 0x5a, size);
        static ChunkMsg ch;
        double start = now();
        for (size_t off = 0; off < size;) {
                size_t room = off == 0 ? CHUNK - 8 : CHUNK, n = size - off < room ? size - off : room;
                size_t pre = off == 0 ? 8 : 0;
                if (pre)
                        memcpy(ch.data, &start, 8);
                memcpy(ch.data + pre, buf + off, n);
                msg_type_init(&ch.t, MSG_TYPE_BYTE, (uint32_t)(n + pre));
                ch.head.msg_size = (uint32_t)(sizeof(msg_header_t) + MSG_ITEM_SIZE(n + pre));
                ch.head.msg_remote_port = in;
                if (msg_send(&ch.head, 0, 0) != 0)
                        return 1;
                off += n;
        }
        ReportMsg r;
        if (get_report(reply, &r) != 0 || r.sum != want) {
                fprintf(stderr, "machipc-large-transfer: inline data differs\n");
                return 1;
        }
        handoff[2] = e2e[2] = r.times[0];
        free(buf);
        int st;
        waitpid(pid, &st, 0);

        printf("%-28s %12s %14s %10s\n", "", "handoff", "end to end", "GiB/s");
        const char *names[] = { "out of line, copied", "out of line, moved (0 copy)", "inline, 64 KiB chunks" };
        for (int i = 0; i < 3; i++)
                printf("%-28s %9.3f ms %11.3f ms %10.2f\n", names[i], handoff[i] * 1e3, e2e[i] * 1e3,
                       (double)size / (1 << 30) / e2e[i]);
        printf("(allocating and filling the region took %.3f ms)\n", t_alloc * 1e3);
        printf("moved out of line: %.1fx faster end to end than inline\n", e2e[2] / e2e[1]);
        return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}
