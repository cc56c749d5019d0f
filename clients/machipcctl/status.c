/* SPDX-License-Identifier: MIT */
/*
 * status.c - machipcctl [status|stats|tasks|ports|rights|all]: the broker's
 * tasks, ports and rights as tables, JSON or a Graphviz graph of who holds
 * rights to what, as lsmp does on macOS
 *
 * Tasks carry their process's name; ports the names the name server maps to
 * them.  machipcctl's own task (and what it holds) is left out unless
 * --all asks for it.  Uses the public API only.
 */

#include <stdlib.h>
#include <string.h>
#include "ctl.h"

/* Tasks holding send (or send-once) rights to port @id, comma-separated. */
static void holders(const Records *rs, const char *id, const char *kind, char *buf, size_t size) {
        size_t len = 0;
        buf[0] = '\0';
        /* The first right to port @id, then its neighbours in port order. */
        unsigned long long want = strtoull(id, NULL, 0);
        size_t lo = 0, hi = rs->n_rights;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (rec_num(rs->by_port[mid], "port") < want)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        for (size_t i = lo; i < rs->n_rights && rec_num(rs->by_port[i], "port") == want; i++) {
                const Record *r = rs->by_port[i];
                const char *t = rec_get(r, "type");
                if (!*r->type)
                        continue;       /* hidden: machipcctl's own */
                if (!strstr(t, kind) || (strcmp(kind, "send") == 0 && strstr(t, "send-once")))
                        continue;
                int n = snprintf(buf + len, size - len, "%s%s", len ? "," : "", rec_get(r, "task"));
                if (n < 0 || (size_t)n >= size - len)
                        break;
                len += (size_t)n;
        }
        if (!len)
                snprintf(buf, size, "-");
}

static void print_stats(const Records *rs) {
        for (size_t i = 0; i < rs->n; i++) {
                const Record *r = &rs->r[i];
                if (strcmp(r->type, "broker") != 0)
                        continue;
                printf("broker pid %s, version %s, up %.1f s: %s tasks, %s ports; %s messages sent, "
                       "%s received, %s notifications, %s loops destroyed; %s requests, %s one-way "
                       "frames\n",
                       rec_get(r, "pid"), rec_get(r, "version"), rec_num(r, "uptime_ms") / 1000.0, rec_get(r, "tasks"),
                       rec_get(r, "ports"), rec_get(r, "sent"), rec_get(r, "received"), rec_get(r, "notifications"),
                       rec_get(r, "circular"), rec_get(r, "requests"), rec_get(r, "oneway"));
        }
}

static void print_tasks(const Records *rs) {
        printf("%-5s %-8s %-16s %-6s %-6s %-6s %-7s %-9s %-9s %-8s %-6s %s\n", "TASK", "PID", "COMMAND", "UID",
               "GID", "NAMES", "WAITING", "REQUESTS", "ONE-WAY", "ON-LOAN", "ARMED", "CREDIT");
        for (size_t i = 0; i < rs->n; i++) {
                const Record *r = &rs->r[i];
                if (strcmp(r->type, "task") == 0)
                        printf("%-5s %-8s %-16s %-6s %-6s %-6s %-7s %-9s %-9s %-8s %-6s %s\n", rec_get(r, "id"),
                               rec_get(r, "pid"), proc_comm((int)rec_num(r, "pid")), rec_get(r, "uid"),
                               rec_get(r, "gid"), rec_get(r, "names"), rec_get(r, "calls"), rec_get(r, "requests"),
                               rec_get(r, "oneway"), rec_get(r, "lent"), rec_get(r, "armed"), rec_get(r, "credit"));
        }
        printf("(WAITING: calls blocked in the broker; ON-LOAN: messages handed ahead; CREDIT: one-way sends "
               "granted)\n");
}

/* "task 3 (machipc-echo-se)", the receiver of a port */
static const char *task_label(const Records *rs, unsigned long long task) {
        static char buf[64];
        const Record *t = records_find(rs, "task", "id", task);
        snprintf(buf, sizeof(buf), "%llu %s", task, t ? proc_comm((int)rec_num(t, "pid")) : "?");
        return buf;
}

static void print_ports(const Records *rs, const Services *ss) {
        printf("%-5s %-22s %-12s %-8s %-7s %-6s %-7s %-5s %-9s %-8s %-8s %-4s %s\n", "PORT", "RECEIVER (TASK)",
               "SERVICE", "NAME", "KIND", "QUEUED", "BACKLOG", "SEND", "SEND-ONCE", "BLOCKED", "WAITING", "SET",
               "SENDERS (TASKS)");
        for (size_t i = 0; i < rs->n; i++) {
                const Record *r = &rs->r[i];
                if (strcmp(r->type, "port") != 0)
                        continue;
                char send[256];
                holders(rs, rec_get(r, "id"), "send", send, sizeof(send));
                /* A kernel port is the broker's; its NAME column says whose task it is. */
                bool kernel = strcmp(rec_get(r, "kind"), "kernel") == 0;
                char name[32], owner[64];
                snprintf(name, sizeof(name), kernel ? "task:%s" : "%s", kernel ? rec_get(r, "of") : rec_get(r, "name"));
                snprintf(owner, sizeof(owner), "%s", kernel ? "broker" : task_label(rs, rec_num(r, "task")));
                const char *service = services_name_of(ss, rec_num(r, "id"));
                printf("%-5s %-22s %-12s %-8s %-7s %-6s %-7s %-5s %-9s %-8s %-8s %-4s %s\n", rec_get(r, "id"), owner,
                       *service ? service : "-", name, rec_get(r, "kind"), rec_get(r, "queued"), rec_get(r, "backlog"),
                       rec_get(r, "send"), rec_get(r, "sendonce"), rec_get(r, "blocked"), rec_get(r, "receivers"),
                       strcmp(rec_get(r, "set"), "0") ? rec_get(r, "set") : "-", send);
        }
        printf("(BLOCKED: senders waiting for room; WAITING: receivers waiting for a message)\n");
}

static void print_rights(const Records *rs) {
        printf("%-6s %-10s %-6s %-13s %s\n", "TASK", "NAME", "PORT", "TYPE", "UREFS");
        for (size_t i = 0; i < rs->n; i++) {
                const Record *r = &rs->r[i];
                if (strcmp(r->type, "right") == 0)
                        printf("%-6s %-10s %-6s %-13s %s\n", rec_get(r, "task"), rec_get(r, "name"), rec_get(r, "port"),
                               rec_get(r, "type"), rec_get(r, "urefs"));
        }
}

/* A value as JSON: numbers bare, everything else quoted. */
static void json_value(const char *v) {
        char *end;
        if (*v && (strtoull(v, &end, 0), *end == '\0') && strncmp(v, "0x", 2) != 0)
                printf("%s", v);
        else
                printf("\"%s\"", v);
}

static void print_json(const Records *rs, const Services *ss) {
        static const char *const groups[] = { "broker", "task", "port", "right" };
        printf("{\n");
        for (int g = 0; g < 4; g++) {
                bool single = g == 0;
                printf("  \"%s%s\": %s", groups[g], single ? "" : "s", single ? "" : "[");
                bool first = true;
                for (size_t i = 0; i < rs->n; i++) {
                        const Record *r = &rs->r[i];
                        if (strcmp(r->type, groups[g]) != 0)
                                continue;
                        printf("%s%s{", first ? "" : ",", single ? "" : "\n    ");
                        for (int k = 0; k < r->n; k++) {
                                printf("%s\"%s\": ", k ? ", " : "", r->key[k]);
                                json_value(r->val[k]);
                        }
                        if (g == 1) {
                                printf(", \"command\": ");
                                json_string(stdout, proc_comm((int)rec_num(r, "pid")));
                        }
                        if (g == 2) {
                                printf(", \"service\": ");
                                json_string(stdout, services_name_of(ss, rec_num(r, "id")));
                                char send[256];
                                holders(rs, rec_get(r, "id"), "send", send, sizeof(send));
                                printf(", \"senders\": [%s]", strcmp(send, "-") ? send : "");
                        }
                        printf("}");
                        first = false;
                }
                if (single && first)
                        printf("null");
                printf("%s%s\n", single ? "" : "\n  ]", g < 3 ? "," : "");
        }
        printf("}\n");
}

static void print_dot(const Records *rs, const Services *ss) {
        printf("digraph machipc {\n  rankdir=LR;\n  node [fontname=\"monospace\"];\n");
        for (size_t i = 0; i < rs->n; i++) {
                const Record *r = &rs->r[i];
                if (strcmp(r->type, "task") == 0)
                        printf("  t%s [shape=box, label=\"task %s\\npid %s %s\"];\n", rec_get(r, "id"), rec_get(r, "id"),
                               rec_get(r, "pid"), proc_comm((int)rec_num(r, "pid")));
                else if (strcmp(r->type, "port") == 0)
                        printf("  p%s [shape=%s, label=\"port %s %s\\n%s %s/%s\"];\n", rec_get(r, "id"),
                               strcmp(rec_get(r, "kind"), "set") == 0 ? "doubleoctagon"
                               : strcmp(rec_get(r, "kind"), "kernel") == 0 ? "diamond" : "ellipse",
                               rec_get(r, "id"), services_name_of(ss, rec_num(r, "id")), rec_get(r, "kind"),
                               rec_get(r, "queued"), rec_get(r, "backlog"));
        }
        for (size_t i = 0; i < rs->n; i++) {
                const Record *r = &rs->r[i];
                if (strcmp(r->type, "port") == 0 && strcmp(rec_get(r, "kind"), "kernel") == 0)
                        printf("  p%s -> t%s [style=dotted, label=\"kernel port of\"];\n", rec_get(r, "id"),
                               rec_get(r, "of"));
                if (strcmp(r->type, "right") != 0)
                        continue;
                const char *t = rec_get(r, "type");
                const char *style = strstr(t, "receive") ? "bold" : strstr(t, "send-once") ? "dotted"
                                  : strstr(t, "dead") ? "invis" : "dashed";
                if (strcmp(t, "port-set") == 0)
                        style = "bold";
                printf("  t%s -> p%s [style=%s, label=\"%s %s\"];\n", rec_get(r, "task"), rec_get(r, "port"), style,
                       rec_get(r, "name"), t);
        }
        printf("}\n");
}


/* Is record @r machipcctl's own (its task, a port it holds, a right it has), and to be left out? */
static bool hidden(const Record *r, const CtlOptions *o) {
        if (o->all)
                return false;
        unsigned long long me = machipc_task_id();
        if (strcmp(r->type, "task") == 0)
                return rec_num(r, "id") == me;
        if (strcmp(r->type, "port") == 0)
                return strcmp(rec_get(r, "kind"), "kernel") == 0 ? rec_num(r, "of") == me : rec_num(r, "task") == me;
        if (strcmp(r->type, "right") == 0)
                return rec_num(r, "task") == me;
        return false;
}

int cmd_status(const char *what, const CtlOptions *o) {
        Records rs;
        Services ss;
        if (ctl_load(&rs, &ss, false) != 0)
                return 1;
        /* Leave our own records out: mark them by emptying their type. */
        for (size_t i = 0; i < rs.n; i++)
                if (hidden(&rs.r[i], o))
                        rs.r[i].type = "";
        if (o->json) {
                print_json(&rs, &ss);
        } else if (o->dot) {
                print_dot(&rs, &ss);
        } else {
                bool all = strcmp(what, "all") == 0 || strcmp(what, "status") == 0;
                if (all || !strcmp(what, "stats"))
                        print_stats(&rs);
                if (all)
                        printf("\n");
                if (all || !strcmp(what, "tasks"))
                        print_tasks(&rs);
                if (all)
                        printf("\n");
                if (all || !strcmp(what, "ports"))
                        print_ports(&rs, &ss);
                if (!strcmp(what, "rights"))
                        print_rights(&rs);
        }
        services_free(&ss);
        records_free(&rs);
        return 0;
}
