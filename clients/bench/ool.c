/* SPDX-License-Identifier: MIT */
/* ool.c - machipc-bench section 4: out-of-line transfers beside memcpy and inline */

#include "bench.h"

typedef struct {
        msg_header_t head;
        msg_type_t t;
        msg_ool_t region;
        msg_type_t tt;
        double sent_at;
} RegionMsg;

typedef struct {
        int report;
        size_t size;
} OolArgs;

/* Receives a region, timing the handoff (until mapped) and reading every byte. */
static int ool_receiver(void *arg) {
        OolArgs *a = arg;
        port_t in;
        if (port_allocate(task_self(), &in) || port_set_backlog(task_self(), in, 64))
                return 1;
        announce(in, 0);
        for (;;) {
                RegionMsg m;
                memset(&m, 0, sizeof(m));
                m.head.msg_size = sizeof(m);
                m.head.msg_local_port = in;
                if (msg_receive(&m.head, 0, 0))
                        return 2;
                if (m.head.msg_id == ID_STOP)
                        return 0;
                double times[2];
                if (m.head.msg_id == ID_ONE) {
                        /* Inline chunks: the sender's start time came in this message. */
                        static BigMsg c;
                        size_t got = 0;
                        uint64_t sum = 0;
                        double start = m.sent_at;
                        while (got < a->size) {
                                c.head.msg_size = sizeof(c);
                                c.head.msg_local_port = in;
                                if (msg_receive(&c.head, 0, 0))
                                        return 3;
                                for (uint32_t i = 0; i < c.t.msg_type_number; i += 64)
                                        sum += c.data[i];
                                got += c.t.msg_type_number;
                        }
                        times[0] = times[1] = now_s() - start;
                        (void)sum;
                } else {
                        times[0] = now_s() - m.sent_at;
                        volatile uint64_t sum = 0;
                        const uint8_t *p = (const uint8_t *)(uintptr_t)m.region.address;
                        for (size_t i = 0; i < m.region.size; i += 64)
                                sum += p[i];
                        (void)sum;
                        times[1] = now_s() - m.sent_at;
                        vm_deallocate(task_self(), m.region.address, m.region.size);
                }
                if (write(a->report, times, sizeof(times)) != sizeof(times))
                        return 4;
        }
}

void bench_ool(size_t size) {
        char label[32];
        if (size >= (1u << 30))
                snprintf(label, sizeof(label), "%zuGiB", size >> 30);
        else
                snprintf(label, sizeof(label), "%zuMiB", size >> 20);
        char what[64];
        snprintf(what, sizeof(what), "out of line, %s", label);
        progress(what);
        int fds[2];
        if (pipe(fds) < 0)
                die("pipe");
        OolArgs a = { .report = fds[1], .size = size };
        pid_t pid = child(ool_receiver, &a);
        port_t in = learn(NULL);
        double times[2];
        /* One memcpy of the same size, into memory already faulted in. */
        uint8_t *src = malloc(size), *dst = malloc(size);
        if (!src || !dst)
                die("out of memory for %s", label);
        memset(src, 1, size);
        memset(dst, 2, size);
        double t0 = now_s();
        memcpy(dst, src, size);
        Result *r = result("memcpy_%s", label);
        r->median_us = (now_s() - t0) * 1e6;
        free(dst);
        for (int move = 0; move < 2; move++) {
                vm_address_t reg;
                if (vm_allocate(task_self(), &reg, size, 1))
                        die("vm_allocate");
                memset((void *)reg, 3, size);
                RegionMsg m;
                memset(&m, 0, sizeof(m));
                msg_type_init(&m.t, MSG_TYPE_MEMORY, 1);
                m.t.msg_type_flags = move ? MSG_TYPE_FLAG_DEALLOCATE : 0;
                m.region.address = reg;
                m.region.size = size;
                msg_type_init(&m.tt, MSG_TYPE_REAL_64, 1);
                m.head.msg_size = sizeof(m);
                m.head.msg_remote_port = in;
                m.sent_at = now_s();
                if (msg_send(&m.head, 0, 0))
                        die("out-of-line send");
                if (read(fds[0], times, sizeof(times)) != sizeof(times))
                        die("out of line: no report");
                if (!move)
                        vm_deallocate(task_self(), reg, size);
                Result *h = result("ool_%s_%s_handoff", move ? "move" : "copy", label);
                h->median_us = times[0] * 1e6;
                Result *e = result("ool_%s_%s_end_to_end", move ? "move" : "copy", label);
                e->median_us = times[1] * 1e6;
        }
        /* The same bytes inline, in 64 KiB messages. */
        RegionMsg start;
        memset(&start, 0, sizeof(start));
        msg_type_init(&start.t, MSG_TYPE_MEMORY, 1);
        msg_type_init(&start.tt, MSG_TYPE_REAL_64, 1);
        start.head.msg_size = sizeof(start);
        start.head.msg_remote_port = in;
        start.head.msg_id = ID_ONE;
        start.sent_at = now_s();
        if (msg_send(&start.head, 0, 0))
                die("inline start");
        static BigMsg c;
        for (size_t off = 0; off < size;) {
                size_t n = size - off < sizeof(c.data) ? size - off : sizeof(c.data);
                memcpy(c.data, src + off, n);
                msg_type_init(&c.t, MSG_TYPE_BYTE, (uint32_t)n);
                c.head.msg_size = (uint32_t)(sizeof(msg_header_t) + MSG_ITEM_SIZE(n));
                c.head.msg_remote_port = in;
                c.head.msg_id = ID_CALL;
                c.head.msg_bits = 0;
                c.head.msg_local_port = PORT_NULL;
                if (msg_send(&c.head, 0, 0))
                        die("inline chunk");
                off += n;
        }
        if (read(fds[0], times, sizeof(times)) != sizeof(times))
                die("inline: no report");
        Result *il = result("inline_%s_end_to_end", label);
        il->median_us = times[1] * 1e6;
        free(src);
        send_id(in, ID_STOP);
        reap(pid);
        close(fds[0]);
        close(fds[1]);
        port_deallocate(task_self(), in);
}
