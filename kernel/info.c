/* SPDX-License-Identifier: MIT */
/*
 * info.c - the broker's state as text, for machipcctl
 *
 * One record per line (doc/api.md, "machipcctl"): "broker", then per task a
 * "task" line, a "port" line per receive right, port set and kernel port,
 * and a "right" line per name.  The text is made a page at a time, from a
 * cursor (a task id and a name slot), so one request costs a bounded amount
 * of work however many names a task holds; the pages are not a snapshot of
 * one instant, which a status tool does not need.
 */

#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include "broker.h"
#include "info.h"
#include "ipc/ipc.h"
#include "ipc/port.h"
#include "ipc/space.h"
#include "peer.h"

/* The longest record, with room to spare: a page stops before one that might not fit. */
#define INFO_RECORD_MAX 512u

typedef struct {
        char *buf;
        size_t size;
        size_t len;
} Page;

static bool page_full(const Page *p) {
        return p->size - p->len < INFO_RECORD_MAX;
}

__attribute__((format(printf, 2, 3)))
static void page_printf(Page *p, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(p->buf + p->len, p->size - p->len, fmt, ap);
        va_end(ap);
        if (n > 0)
                p->len += (size_t)n < p->size - p->len ? (size_t)n : p->size - p->len - 1;
}

static const char *type_word(uint32_t type) {
        static const char *const words[] = { "", "send", "receive", "send+receive", "send-once" };
        if (type & ENTRY_PORT_SET)
                return "port-set";
        if (type & ENTRY_DEAD_NAME)
                return "dead-name";
        return type < 5 ? words[type] : "?";
}

static void broker_line(Page *pg, const Broker *b) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        uint64_t up = (uint64_t)(now.tv_sec - b->started.tv_sec) * 1000u +
                      (uint64_t)((now.tv_nsec - b->started.tv_nsec) / 1000000);
        page_printf(pg, "broker version %s pid %d uid %u tasks %u ports %llu sent %llu received %llu "
                        "notifications %llu circular %llu uptime_ms %llu requests %llu oneway %llu "
                        "credit_dropped %llu\n",
                    MACHIPC_VERSION, (int)getpid(), (unsigned)b->uid, b->n_peers,
                    (unsigned long long)port_count(), (unsigned long long)ipc_stats.sent,
                    (unsigned long long)ipc_stats.received, (unsigned long long)ipc_stats.notifications,
                    (unsigned long long)ipc_stats.circular, (unsigned long long)up,
                    (unsigned long long)b->requests, (unsigned long long)b->one_way,
                    (unsigned long long)ipc_stats.credit_dropped);
}

static void task_lines(Page *pg, const Peer *p) {
        const Space *s = p->task.space;
        page_printf(pg, "task id %u pid %d uid %u gid %u names %u calls %u requests %llu oneway %llu "
                        "lent %u armed %u credit %u\n",
                    p->id, (int)p->pid, (unsigned)p->uid, (unsigned)p->gid, s->n_used, p->n_reqs,
                    (unsigned long long)p->requests, (unsigned long long)p->one_way, p->n_lent, p->n_arms,
                    p->credit_slots);
        const Port *kp = p->task.kernel_port;
        page_printf(pg, "port id %llu task 0 name 0 kind kernel of %u queued 0 backlog 0 send %u "
                        "sendonce %u blocked 0 receivers 0 set 0\n",
                    (unsigned long long)kp->id, p->id, kp->n_srights, kp->n_sorights);
}

static void entry_lines(Page *pg, const Peer *p, const SpaceEntry *e) {
        const Port *q = e->port;
        if (e->bits & (ENTRY_RECEIVE | ENTRY_PORT_SET)) {
                uint32_t n_recv = 0;
                for (const ListLink *r = q->receivers.next; r != &q->receivers; r = r->next)
                        n_recv++;
                page_printf(pg, "port id %llu task %u name %#x kind %s of 0 queued %u backlog %u "
                                "send %u sendonce %u blocked %u receivers %u set %llu\n",
                            (unsigned long long)q->id, p->id, e->name, q->is_set ? "set" : "port",
                            q->msgcount, q->qlimit, q->n_srights, q->n_sorights, q->n_senders, n_recv,
                            (unsigned long long)(q->pset ? q->pset->id : 0));
        }
        page_printf(pg, "right task %u name %#x port %llu type %s urefs %u\n", p->id, e->name,
                    (unsigned long long)q->id, type_word(space_entry_type(e)), e->urefs);
}

/**
 * info_page() - the next page of the broker's state
 * @cursor: where to go on: task id (0: from the start, with the broker's
 *          line) and name slot (0: the task's own lines first); advanced
 * @buf, @size: where the page goes
 * @done: set once the last record is written
 *
 * Return: bytes written; whole records only.
 */
size_t info_page(Broker *b, uint32_t cursor[2], char *buf, size_t size, bool *done) {
        Page pg = { buf, size, 0 };
        uint32_t scanned = 0;
        *done = false;
        if (size < INFO_RECORD_MAX)
                return 0;
        if (cursor[0] == 0) {
                broker_line(&pg, b);
                cursor[0] = 1;
                cursor[1] = 0;
        }
        /* Tasks are listed in the order they came, which is the order of their ids. */
        for (ListLink *l = b->peers.next; l != &b->peers; l = l->next) {
                const Peer *p = list_entry(l, Peer, link);
                if (p->id < cursor[0] || !p->ready)
                        continue;
                if (p->id > cursor[0]) {
                        cursor[0] = p->id;
                        cursor[1] = 0;
                }
                const Space *s = p->task.space;
                if (cursor[1] == 0) {
                        if (page_full(&pg))
                                return pg.len;
                        task_lines(&pg, p);
                        cursor[1] = 1;
                }
                for (; cursor[1] < s->n_slots; cursor[1]++) {
                        if (page_full(&pg) || scanned++ >= INFO_SCAN_MAX)
                                return pg.len;
                        const SpaceEntry *e = &s->entries[cursor[1]];
                        if (e->name)
                                entry_lines(&pg, p, e);
                }
                cursor[0] = p->id + 1;
                cursor[1] = 0;
        }
        *done = true;
        return pg.len;
}
