/* SPDX-License-Identifier: MIT */
/*
 * machipcctl - show a broker's tasks, ports, rights and statistics
 *
 * Asks the broker for its state (machipc_broker_info(), one record per
 * line) and renders it as tables, JSON or a Graphviz graph of who holds
 * rights to what, as lsmp does on macOS.  Uses the public API only.
 */

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <machipc/machipc.h>
#include "tool.h"

#define FIELDS_MAX 32

/* One line of the dump: its record type and key/value pairs. */
typedef struct {
        char *type;
        int n;
        char *key[FIELDS_MAX];
        char *val[FIELDS_MAX];
} Record;

typedef struct {
        Record *r;
        size_t n;
        size_t cap;
        /* The "right" records, ordered by port id, so a port's holders are found by search. */
        const Record **by_port;
        size_t n_rights;
} Records;

static const char *get(const Record *r, const char *key) {
        for (int i = 0; i < r->n; i++)
                if (strcmp(r->key[i], key) == 0)
                        return r->val[i];
        return "";
}

static unsigned long long num(const Record *r, const char *key) {
        return strtoull(get(r, key), NULL, 0);
}

static int cmp_port(const void *a, const void *b) {
        unsigned long long x = num(*(const Record *const *)a, "port"), y = num(*(const Record *const *)b, "port");
        return x < y ? -1 : x > y;
}

/* Index the rights by port: n log n once, instead of a scan of every record per port. */
static int index_rights(Records *rs) {
        rs->by_port = malloc((rs->n ? rs->n : 1) * sizeof(*rs->by_port));
        if (!rs->by_port)
                return -ENOMEM;
        for (size_t i = 0; i < rs->n; i++)
                if (strcmp(rs->r[i].type, "right") == 0)
                        rs->by_port[rs->n_rights++] = &rs->r[i];
        qsort(rs->by_port, rs->n_rights, sizeof(*rs->by_port), cmp_port);
        return 0;
}

static int parse(char *text, Records *out) {
        char *save = NULL;
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                Record rec = { 0 };
                char *s2 = NULL;
                rec.type = strtok_r(line, " ", &s2);
                if (!rec.type)
                        continue;
                char *k;
                while ((k = strtok_r(NULL, " ", &s2)) && rec.n < FIELDS_MAX) {
                        char *v = strtok_r(NULL, " ", &s2);
                        if (!v)
                                break;
                        rec.key[rec.n] = k;
                        rec.val[rec.n] = v;
                        rec.n++;
                }
                if (out->n == out->cap) {
                        size_t cap = out->cap ? out->cap * 2 : 256;
                        Record *nr = realloc(out->r, cap * sizeof(*nr));
                        if (!nr)
                                return -ENOMEM;
                        out->r = nr;
                        out->cap = cap;
                }
                out->r[out->n++] = rec;
        }
        return index_rights(out);
}

/* Tasks holding send (or send-once) rights to port @id, comma-separated. */
static void holders(const Records *rs, const char *id, const char *kind, char *buf, size_t size) {
        size_t len = 0;
        buf[0] = '\0';
        /* The first right to port @id, then its neighbours in port order. */
        unsigned long long want = strtoull(id, NULL, 0);
        size_t lo = 0, hi = rs->n_rights;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (num(rs->by_port[mid], "port") < want)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        for (size_t i = lo; i < rs->n_rights && num(rs->by_port[i], "port") == want; i++) {
                const Record *r = rs->by_port[i];
                const char *t = get(r, "type");
                if (!strstr(t, kind) || (strcmp(kind, "send") == 0 && strstr(t, "send-once")))
                        continue;
                int n = snprintf(buf + len, size - len, "%s%s", len ? "," : "", get(r, "task"));
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
                       get(r, "pid"), get(r, "version"), num(r, "uptime_ms") / 1000.0, get(r, "tasks"),
                       get(r, "ports"), get(r, "sent"), get(r, "received"), get(r, "notifications"),
                       get(r, "circular"), get(r, "requests"), get(r, "oneway"));
        }
}

static void print_tasks(const Records *rs) {
        printf("%-6s %-8s %-6s %-6s %-6s %-6s %-9s %-9s %-5s %-5s %s\n", "TASK", "PID", "UID", "GID",
               "NAMES", "CALLS", "REQUESTS", "ONE-WAY", "LENT", "ARMED", "CREDIT");
        for (size_t i = 0; i < rs->n; i++) {
                const Record *r = &rs->r[i];
                if (strcmp(r->type, "task") == 0)
                        printf("%-6s %-8s %-6s %-6s %-6s %-6s %-9s %-9s %-5s %-5s %s\n", get(r, "id"),
                               get(r, "pid"), get(r, "uid"), get(r, "gid"), get(r, "names"), get(r, "calls"),
                               get(r, "requests"), get(r, "oneway"), get(r, "lent"), get(r, "armed"),
                               get(r, "credit"));
        }
}

static void print_ports(const Records *rs) {
        printf("%-6s %-6s %-10s %-7s %-7s %-8s %-5s %-5s %-8s %-8s %-5s %s\n", "PORT", "OWNER", "NAME",
               "KIND", "QUEUED", "BACKLOG", "SEND", "SO", "BLOCKED", "WAITING", "SET", "SENDERS");
        for (size_t i = 0; i < rs->n; i++) {
                const Record *r = &rs->r[i];
                if (strcmp(r->type, "port") != 0)
                        continue;
                char send[256];
                holders(rs, get(r, "id"), "send", send, sizeof(send));
                /* A kernel port is the broker's; its NAME column says whose task it is. */
                bool kernel = strcmp(get(r, "kind"), "kernel") == 0;
                char name[32];
                snprintf(name, sizeof(name), kernel ? "task:%s" : "%s", kernel ? get(r, "of") : get(r, "name"));
                printf("%-6s %-6s %-10s %-7s %-7s %-8s %-5s %-5s %-8s %-8s %-5s %s\n", get(r, "id"),
                       kernel ? "broker" : get(r, "task"), name, get(r, "kind"), get(r, "queued"),
                       get(r, "backlog"), get(r, "send"), get(r, "sendonce"), get(r, "blocked"),
                       get(r, "receivers"), strcmp(get(r, "set"), "0") ? get(r, "set") : "-", send);
        }
}

static void print_rights(const Records *rs) {
        printf("%-6s %-10s %-6s %-13s %s\n", "TASK", "NAME", "PORT", "TYPE", "UREFS");
        for (size_t i = 0; i < rs->n; i++) {
                const Record *r = &rs->r[i];
                if (strcmp(r->type, "right") == 0)
                        printf("%-6s %-10s %-6s %-13s %s\n", get(r, "task"), get(r, "name"), get(r, "port"),
                               get(r, "type"), get(r, "urefs"));
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

static void print_json(const Records *rs) {
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
                        if (g == 2) {
                                char send[256];
                                holders(rs, get(r, "id"), "send", send, sizeof(send));
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

static void print_dot(const Records *rs) {
        printf("digraph machipc {\n  rankdir=LR;\n  node [fontname=\"monospace\"];\n");
        for (size_t i = 0; i < rs->n; i++) {
                const Record *r = &rs->r[i];
                if (strcmp(r->type, "task") == 0)
                        printf("  t%s [shape=box, label=\"task %s\\npid %s\"];\n", get(r, "id"), get(r, "id"),
                               get(r, "pid"));
                else if (strcmp(r->type, "port") == 0)
                        printf("  p%s [shape=%s, label=\"port %s\\n%s %s/%s\"];\n", get(r, "id"),
                               strcmp(get(r, "kind"), "set") == 0 ? "doubleoctagon"
                               : strcmp(get(r, "kind"), "kernel") == 0 ? "diamond" : "ellipse",
                               get(r, "id"), get(r, "kind"), get(r, "queued"), get(r, "backlog"));
        }
        for (size_t i = 0; i < rs->n; i++) {
                const Record *r = &rs->r[i];
                if (strcmp(r->type, "port") == 0 && strcmp(get(r, "kind"), "kernel") == 0)
                        printf("  p%s -> t%s [style=dotted, label=\"kernel port of\"];\n", get(r, "id"),
                               get(r, "of"));
                if (strcmp(r->type, "right") != 0)
                        continue;
                const char *t = get(r, "type");
                const char *style = strstr(t, "receive") ? "bold" : strstr(t, "send-once") ? "dotted"
                                  : strstr(t, "dead") ? "invis" : "dashed";
                if (strcmp(t, "port-set") == 0)
                        style = "bold";
                printf("  t%s -> p%s [style=%s, label=\"%s %s\"];\n", get(r, "task"), get(r, "port"), style,
                       get(r, "name"), t);
        }
        printf("}\n");
}

static void usage(void) {
        printf("Usage: machipcctl [--json | --dot] [stats | tasks | ports | rights | all]\n"
               "Shows the broker's tasks, ports and rights (default: all, as tables).\n\n"
               "  --json    the whole state as one JSON object\n"
               "  --dot     a Graphviz graph of which task holds which right to which port\n"
               "  -h        this help\n\n"
               "The broker is found through $MACHIPC_SOCKET or the default socket path.\n");
}

int main(int argc, char **argv) {
        enum { TEXT, JSON, DOT } mode = TEXT;
        static const struct option opts[] = {
                { "json", no_argument, NULL, 'j' },
                { "dot", no_argument, NULL, 'd' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        int c;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0) {
                switch (c) {
                case 'j':
                        mode = JSON;
                        break;
                case 'd':
                        mode = DOT;
                        break;
                case 'h':
                        usage();
                        return 0;
                default:
                        return 2;
                }
        }
        const char *what = optind < argc ? argv[optind] : "all";
        if (optind + 1 < argc || (strcmp(what, "all") && strcmp(what, "stats") && strcmp(what, "tasks") &&
                                  strcmp(what, "ports") && strcmp(what, "rights"))) {
                usage();
                return 2;
        }
        if (tool_connect("machipcctl") < 0)
                return 1;
        char *text = NULL;
        int r = machipc_broker_info(&text, NULL);
        if (r != 0) {
                fprintf(stderr, "machipcctl: %s\n", machipc_strerror(r));
                return 1;
        }
        Records rs = { 0 };
        if (parse(text, &rs) < 0) {
                fprintf(stderr, "machipcctl: out of memory\n");
                return 1;
        }
        if (mode == JSON) {
                print_json(&rs);
        } else if (mode == DOT) {
                print_dot(&rs);
        } else {
                bool all = strcmp(what, "all") == 0;
                if (all || !strcmp(what, "stats"))
                        print_stats(&rs);
                if (all)
                        printf("\n");
                if (all || !strcmp(what, "tasks"))
                        print_tasks(&rs);
                if (all)
                        printf("\n");
                if (all || !strcmp(what, "ports"))
                        print_ports(&rs);
                if (!strcmp(what, "rights"))
                        print_rights(&rs);
        }
        free(rs.by_port);
        free(rs.r);
        free(text);
        return 0;
}
