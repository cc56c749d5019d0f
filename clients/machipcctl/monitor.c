/* SPDX-License-Identifier: MIT */
/*
 * monitor.c - machipcctl monitor: a live trace of the messages the broker
 * moves, like dbus-monitor
 *
 * Asks the broker for trace lines on a port of its own (machipc_monitor())
 * and prints each: when, who sent it (task, process), to which port
 * (service name, receiver task and process), the id, the size, the items
 * and the rights moved.  The broker drops lines a slow monitor has no room
 * for and says how many; so do we.
 */

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "ctl.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig) {
        (void)sig;
        stop = 1;
}

typedef struct {
        char *key[24];
        char *val[24];
        int n;
} Line;

static const char *field(const Line *l, const char *key) {
        for (int i = 0; i < l->n; i++)
                if (strcmp(l->key[i], key) == 0)
                        return l->val[i];
        return "";
}

static void split(char *text, Line *l) {
        char *save = NULL, *k;
        l->n = 0;
        while ((k = strtok_r(l->n ? NULL : text, " ", &save)) && l->n < 24) {
                char *v = strtok_r(NULL, " ", &save);
                if (!v)
                        break;
                l->key[l->n] = k;
                l->val[l->n] = v;
                l->n++;
        }
}

/* What the name server calls port @id: looked up again at most once a second when unknown. */
static const char *service(unsigned long long id) {
        static Services ss;
        static time_t loaded;
        const char *name = services_name_of(&ss, id);
        if (!*name && time(NULL) != loaded) {
                Records rs;
                loaded = time(NULL);
                if (records_load(&rs) == 0) {
                        services_free(&ss);
                        services_load(&ss, &rs);
                        records_free(&rs);
                }
                name = services_name_of(&ss, id);
        }
        return *name ? name : "-";
}

/* The host a relayed message came from ("%"-escaped on the line), or "" for a local one. */
static void from_host(const Line *l, char *buf, size_t size) {
        const char *s = field(l, "from_host");
        size_t len = 0;
        if (strcmp(s, "-") == 0)
                s = "";
        for (; *s && len + 1 < size; s++) {
                unsigned v;
                if (*s == '%' && sscanf(s + 1, "%2x", &v) == 1 && v >= ' ' && v < 0x7f) {
                        buf[len++] = (char)v;
                        s += 2;
                } else {
                        buf[len++] = *s;
                }
        }
        buf[len] = '\0';
}

static void print_line(Line *l, bool json, unsigned long long *lost_total) {
        unsigned long long lost = strtoull(field(l, "lost"), NULL, 10);
        int from_pid = atoi(field(l, "from_pid")), to_pid = atoi(field(l, "to_pid"));
        unsigned long long port = strtoull(field(l, "to_port"), NULL, 10);
        char from_comm[64], to_comm[64];
        snprintf(from_comm, sizeof(from_comm), "%s", proc_comm(from_pid));
        snprintf(to_comm, sizeof(to_comm), "%s", to_pid ? proc_comm(to_pid) : "-");
        char host[256];
        from_host(l, host, sizeof(host));
        *lost_total += lost;
        if (json) {
                printf("{\"time\": %s, \"from_task\": %s, \"from_pid\": %d, \"from_command\": ", field(l, "time"),
                       field(l, "from_task"), from_pid);
                json_string(stdout, from_comm);
                printf(", \"from_host\": ");
                if (*host)
                        json_string(stdout, host);
                else
                        printf("null");
                printf(", \"to_port\": %llu, \"service\": ", port);
                json_string(stdout, service(port));
                printf(", \"to_task\": %s, \"to_pid\": %d, \"to_command\": ", field(l, "to_task"), to_pid);
                json_string(stdout, to_comm);
                printf(", \"id\": %s, \"size\": %s, \"reply\": \"%s\", \"items\": \"%s\", \"rights\": \"%s\", "
                       "\"fds\": %s, \"lost_before\": %llu}\n",
                       field(l, "id"), field(l, "size"), field(l, "reply"), field(l, "items"), field(l, "rights"),
                       field(l, "fds"), lost);
        } else {
                if (lost)
                        printf("-- %llu message(s) not shown: the monitor fell behind --\n", lost);
                time_t secs = (time_t)strtoll(field(l, "time"), NULL, 10);
                const char *dot = strchr(field(l, "time"), '.');
                struct tm tm;
                char when[16];
                localtime_r(&secs, &tm);
                strftime(when, sizeof(when), "%H:%M:%S", &tm);
                /* A relayed message has no process here: its host instead. */
                char from[320];
                if (*host)
                        snprintf(from, sizeof(from), "host %s", host);
                else
                        snprintf(from, sizeof(from), "pid %d %s", from_pid, from_comm);
                printf("%s.%.6s task %s (%s) -> port %llu (%s) task %s (pid %d %s): id %s, %s bytes, "
                       "items %s, rights %s, reply %s%s%s\n",
                       when, dot ? dot + 1 : "000000", field(l, "from_task"), from, port, service(port),
                       field(l, "to_task"), to_pid, to_comm, field(l, "id"), field(l, "size"), field(l, "items"),
                       field(l, "rights"), field(l, "reply"), strcmp(field(l, "fds"), "0") ? ", fds " : "",
                       strcmp(field(l, "fds"), "0") ? field(l, "fds") : "");
        }
        fflush(stdout);
}

int cmd_monitor(int argc, char **argv, const CtlOptions *o) {
        static const struct option opts[] = {
                { "port", required_argument, NULL, 'p' },
                { "task", required_argument, NULL, 't' },
                { "count", required_argument, NULL, 'n' },
                { "json", no_argument, NULL, 'j' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        long long port_id = 0, pid = 0, count = 0;
        bool json = o->json;
        int c;
        optind = 1;
        while ((c = getopt_long(argc, argv, "p:t:n:jh", opts, NULL)) >= 0) {
                switch (c) {
                case 'p':
                case 't':
                case 'n':
                        if (ctl_number(optarg, 0, c == 't' ? INT32_MAX : INT64_MAX,
                                       c == 'p' ? &port_id : c == 't' ? &pid : &count) < 0) {
                                fprintf(stderr, "machipcctl: monitor: invalid number: %s\n", optarg);
                                return 2;
                        }
                        break;
                case 'j':
                        json = true;
                        break;
                case 'h':
                        printf("Usage: machipcctl monitor [--port ID] [--task PID] [--count N] [--json]\n"
                               "Prints each message the broker moves between tasks, as it moves it, until\n"
                               "interrupted (or N of them).  --port: only to the port with that id (as\n"
                               "machipcctl ports shows); --task: only from or to that process.\n");
                        return 0;
                default:
                        return 2;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "machipcctl: monitor: unexpected argument: %s\n", argv[optind]);
                return 2;
        }
        port_t port;
        kern_return_t kr = port_allocate(task_self(), &port);
        if (kr == KERN_SUCCESS)
                kr = port_set_backlog(task_self(), port, PORT_BACKLOG_MAX);
        if (kr == KERN_SUCCESS)
                kr = machipc_monitor(port, (uint64_t)port_id, (int32_t)pid);
        if (kr != KERN_SUCCESS) {
                fprintf(stderr, "machipcctl: monitor: %s%s\n", machipc_strerror(kr),
                        kr == KERN_NO_ACCESS ? " (only the broker's own user may monitor it)" : "");
                return 1;
        }
        struct sigaction sa = { .sa_handler = on_signal };
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        if (!json)
                fprintf(stderr, "machipcctl: monitoring%s; interrupt to stop\n",
                        port_id || pid ? " (filtered)" : "");
        static union {
                msg_header_t h;
                uint8_t bytes[MSG_SIZE_MAX];
        } b;
        long long seen = 0;
        unsigned long long lost = 0;
        int status = 0;
        while (!stop && (!count || seen < count)) {
                b.h.msg_local_port = port;
                b.h.msg_size = sizeof(b);
                msg_return_t mr = msg_receive(&b.h, RCV_TIMEOUT, 500);
                if (mr == RCV_TIMED_OUT || mr == RCV_INTERRUPTED)
                        continue;
                if (mr != 0) {
                        fprintf(stderr, "machipcctl: monitor: %s\n", machipc_strerror(mr));
                        status = 1;
                        break;
                }
                msg_type_t t;
                memcpy(&t, b.bytes + sizeof(msg_header_t), sizeof(t));
                if (b.h.msg_id != MACHIPC_MONITOR_ID || t.msg_type_name != MSG_TYPE_CHAR ||
                    sizeof(msg_header_t) + sizeof(t) + t.msg_type_number > b.h.msg_size) {
                        msg_destroy(&b.h);
                        continue;
                }
                char text[2048];
                uint32_t n = t.msg_type_number < sizeof(text) - 1 ? t.msg_type_number : sizeof(text) - 1;
                memcpy(text, b.bytes + sizeof(msg_header_t) + sizeof(t), n);
                text[n] = '\0';
                Line l;
                split(text, &l);
                print_line(&l, json, &lost);
                seen++;
        }
        if (!json && lost)
                fprintf(stderr, "machipcctl: %llu message(s) were not shown: the monitor fell behind\n", lost);
        port_deallocate(task_self(), port);
        return status;
}
