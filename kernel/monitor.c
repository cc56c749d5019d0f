/* SPDX-License-Identifier: MIT */
/*
 * monitor.c - a live trace of the messages the broker moves
 *
 * A task of the broker's own uid may ask for a line per message sent
 * between tasks (machipc_monitor(), KCALL_MONITOR): when, from which task
 * and process, to which port and its receiver, the id, the size, the
 * item types, the rights moved.  Each line is a message from the broker to
 * the monitor's port, as a notification is, and is charged to the monitor.
 * A monitor that reads slowly never slows anyone: once MONITOR_QUEUE_MAX
 * lines wait in its port, further lines are counted and dropped, and the
 * next line that fits says how many were lost.  A monitor ends when its
 * port dies (the monitor exits, or destroys the port).
 *
 * The core calls the hook only while some monitor exists (ipc_set_trace()).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "broker.h"
#include "ipc/ipc.h"
#include "ipc/kmsg.h"
#include "ipc/notify.h"
#include "ipc/origin.h"
#include "ipc/port.h"
#include "ipc/space.h"
#include "kcall.h"
#include "kobject/kobject.h"
#include "monitor.h"
#include "peer.h"

typedef struct {
        Port *port;             /* the broker's send right to the monitor's port */
        uint32_t task_id;       /* the monitoring task: its own messages are not traced */
        uint64_t port_id;       /* only messages to this port (0: all) */
        int32_t pid;            /* only messages from or to this process (0: all) */
        uint64_t lost;          /* lines dropped since the last one delivered */
} Monitor;

static Broker *monitor_broker;
static Monitor monitors[MONITORS_MAX];
static uint32_t n_monitors;

static void monitor_trace(Kmsg *kmsg, Space *sender);

void monitor_setup(Broker *b) {
        monitor_broker = b;
}

static void monitor_remove(uint32_t i) {
        notify_srights_dec(monitors[i].port);
        port_unref(monitors[i].port);
        monitors[i] = monitors[--n_monitors];
        if (!n_monitors)
                ipc_set_trace(NULL);
}

/**
 * monitor_add() - trace messages to @port (a send right the broker keeps)
 * @task: who asks: it must run as the broker's uid
 * @port_id: only messages to the port with this id (0: every port)
 * @pid: only messages from or to this process (0: every process)
 *
 * Return: KERN_SUCCESS, KERN_NO_ACCESS (another uid) or
 * KERN_RESOURCE_SHORTAGE (MONITORS_MAX monitors already).
 */
int monitor_add(Task *task, Port *port, uint64_t port_id, int32_t pid) {
        Peer *peer = list_entry(task, Peer, task);
        if (peer->uid != monitor_broker->uid)
                return KERN_NO_ACCESS;
        for (uint32_t i = 0; i < n_monitors;)
                if (!monitors[i].port->active)
                        monitor_remove(i);
                else
                        i++;
        if (n_monitors >= MONITORS_MAX)
                return KERN_RESOURCE_SHORTAGE;
        monitors[n_monitors++] = (Monitor){ port, peer->id, port_id, pid, 0 };
        ipc_set_trace(monitor_trace);
        return KERN_SUCCESS;
}

void monitor_deinit(void) {
        while (n_monitors)
                monitor_remove(n_monitors - 1);
}

static const char *item_word(uint16_t type) {
        switch (type) {
        case MSG_TYPE_BYTE: return "byte";
        case MSG_TYPE_INTEGER_16: return "i16";
        case MSG_TYPE_INTEGER_32: return "i32";
        case MSG_TYPE_INTEGER_64: return "i64";
        case MSG_TYPE_CHAR: return "char";
        case MSG_TYPE_REAL_64: return "f64";
        case MSG_TYPE_STRING: return "str";
        case MSG_TYPE_MOVE_RECEIVE: return "move-receive";
        case MSG_TYPE_MOVE_SEND: return "move-send";
        case MSG_TYPE_MOVE_SEND_ONCE: return "move-send-once";
        case MSG_TYPE_COPY_SEND: return "copy-send";
        case MSG_TYPE_MAKE_SEND: return "make-send";
        case MSG_TYPE_MAKE_SEND_ONCE: return "make-send-once";
        case MSG_TYPE_MEMORY: return "ool";
        case MSG_TYPE_FD: return "fd";
        default: return "other";
        }
}

static const char *right_word(uint8_t kind) {
        switch (kind) {
        case RIGHT_SEND: return "send";
        case RIGHT_SEND_ONCE: return "send-once";
        case RIGHT_RECEIVE: return "receive";
        case RIGHT_DEAD: return "dead";
        default: return "null";
        }
}

/* "what,what,..." into @buf, "-" if empty; n items at most, then "...". */
static void join_items(const Kmsg *k, char *buf, size_t size) {
        WireItemIter it;
        WireItem item;
        size_t len = 0;
        buf[0] = '\0';
        wire_item_iter_init(&it, k->data, k->size);
        while (wire_item_next(&it, &item) && len + 24 < size)
                len += (size_t)snprintf(buf + len, size - len, "%s%s[%u]", len ? "," : "", item_word(item.name),
                                        (unsigned)item.number);
        if (!len)
                snprintf(buf, size, "-");
}

static void join_rights(const Kmsg *k, char *buf, size_t size) {
        size_t len = 0;
        buf[0] = '\0';
        for (uint32_t i = 0; i < k->n_rights && len + 16 < size; i++)
                len += (size_t)snprintf(buf + len, size - len, "%s%s", len ? "," : "", right_word(k->rights[i].kind));
        if (!len)
                snprintf(buf, size, "-");
}

/* A relayed message's host, "%"-escaped so that the line stays space-separated; "-" if local. */
static void host_word(const Kmsg *k, char *buf, size_t size) {
        size_t len = 0;
        if (!k->origin) {
                snprintf(buf, size, "-");
                return;
        }
        for (const char *c = k->origin->host; *c && len + 4 < size; c++) {
                if (*c == ' ' || *c == '%')
                        len += (size_t)snprintf(buf + len, size - len, "%%%02X", (unsigned char)*c);
                else
                        buf[len++] = *c;
        }
        buf[len] = '\0';
}

/* Queue @line as a trace message to monitor @m (its port has room). */
static void deliver(Monitor *m, const char *line, size_t len) {
        uint32_t size = (uint32_t)sizeof(msg_header_t) + MSG_ITEM_SIZE((uint32_t)len);
        Kmsg *k;
        if (kmsg_new(&k, size, 0, 0) < 0) {
                m->lost++;
                return;
        }
        msg_header_t h = { .msg_size = size, .msg_id = KCALL_MONITOR_LINE };
        wire_msg_header_put(k->data, &h);
        msg_type_t t = { MSG_TYPE_CHAR, 0, (uint32_t)len };
        memcpy(k->data + sizeof(h), &t, sizeof(t));
        memcpy(k->data + sizeof(h) + sizeof(t), line, len);
        k->dest = port_ref(m->port);
        k->dest_kind = RIGHT_KERNEL;
        k->from_kernel = true;
        if (ipc_send(k, NULL, 0, 0, NULL) != 0)
                kmsg_free(k);
        m->lost = 0;
}

/* The hook: one message from @sender's task, about to be queued on kmsg->dest. */
static void monitor_trace(Kmsg *kmsg, Space *sender) {
        const Port *dest = kmsg->dest;
        const Peer *from = sender ? sender->owner : NULL;
        const Peer *to = dest->receiver ? dest->receiver->owner : NULL;
        char line[1280], items[400], rights[200], host[3 * WIRE_ORIGIN_FIELD];
        bool built = false;
        size_t len = 0;
        for (uint32_t i = 0; i < n_monitors; i++) {
                Monitor *m = &monitors[i];
                if (!m->port->active || dest == m->port || (from && from->id == m->task_id))
                        continue;
                if (m->port_id && dest->id != m->port_id)
                        continue;
                if (m->pid && kmsg->pid != m->pid && !(to && to->pid == m->pid))
                        continue;
                if (m->port->msgcount >= MONITOR_QUEUE_MAX) {
                        m->lost++;
                        continue;
                }
                if (!built) {
                        struct timespec ts;
                        clock_gettime(CLOCK_REALTIME, &ts);
                        msg_header_t h;
                        wire_msg_header_get(kmsg->data, &h);
                        join_items(kmsg, items, sizeof(items));
                        join_rights(kmsg, rights, sizeof(rights));
                        host_word(kmsg, host, sizeof(host));
                        int n = snprintf(line, sizeof(line),
                                         "time %lld.%09ld from_task %u from_pid %d to_port %llu to_task %u "
                                         "to_pid %d id %d size %u reply %s items %s rights %s fds %u from_host %s lost ",
                                         (long long)ts.tv_sec, ts.tv_nsec, from ? from->id : 0, (int)kmsg->pid,
                                         (unsigned long long)dest->id, to ? to->id : 0, to ? (int)to->pid : 0,
                                         (int)h.msg_id, kmsg->size + kmsg->attach_size,
                                         kmsg->reply ? right_word(kmsg->reply_kind) : "-", items, rights,
                                         kmsg->n_fds, host);
                        len = n > 0 && (size_t)n < sizeof(line) - 24 ? (size_t)n : 0;
                        built = true;
                }
                if (!len)
                        continue;
                int n = snprintf(line + len, sizeof(line) - len, "%llu", (unsigned long long)m->lost);
                deliver(m, line, len + (size_t)n);
        }
}
