/* SPDX-License-Identifier: MIT */
/*
 * machipc-bench - the broker against the floors, measured in one run
 *
 * Starts a private broker and measures, on this machine, in this run:
 *   1. msg_rpc round trips between two tasks, 64 B and 4 KiB (median, p99);
 *   2. the floors: a socketpair ping-pong between two processes, a minimal
 *      epoll relay between three (the limit of any broker in the middle), and
 *      the same request/reply through dbus-daemon when it is installed;
 *   3. one-way 64 B msg_send throughput from 1 and 4 senders, beside the
 *      relay's streaming throughput;
 *   4. out-of-line transfers (moved and copied): handoff and end to end,
 *      beside one memcpy and the same bytes inline in 64 KiB messages;
 *   5. scale: RPC latency with idle tasks and with many ports allocated, and
 *      the broker's memory per idle port and per idle task;
 *   6. the textbook comparison: pipe, FIFO, POSIX message queue, Unix
 *      socket, shared memory with semaphores;
 *   7. a server in an event loop beside a blocking one (loop), and RPCs
 *      through stubs machipc-mig generated beside hand-packed ones (mig), and
 *      beside traffic monitors, stalled and reading (monitor);
 *   8. a bystander's latency beside hostile tasks (hostile).
 * Then the ratios the targets are stated in (doc/performance.md).
 *
 * Each section is a file of its own (rpc.c, floors.c, dbus.c, oneway.c,
 * ool.c, scale.c, textbook.c, loop.c, mig.c, monitor.c, net.c, hostile.c); common.c has what
 * they share.
 *
 * Processes are forked; each child that uses libmachipc is a task of its own.
 */

#include <limits.h>
#include "bench.h"

/* ---- report ---- */

static const Result *find_in(const Result *set, int n, const char *name) {
        for (int i = 0; i < n; i++)
                if (strcmp(set[i].name, name) == 0)
                        return &set[i];
        return NULL;
}

enum { MEDIAN, VALUE, P99 };

/* @a / @b within each run (both figures from the same run), then the median across runs. */
static double ratio(const char *a, const char *b, int what) {
        double r[16];
        int n = 0;
        for (int run = 0; run < opt.runs; run++) {
                const Result *x = find_in(all_runs[run], all_n[run], a), *y = find_in(all_runs[run], all_n[run], b);
                if (!x || !y)
                        return -1;
                double p = what == VALUE ? x->value : what == P99 ? x->p99_us : x->median_us;
                double q = what == VALUE ? y->value : what == P99 ? y->p99_us : y->median_us;
                if (q <= 0)
                        return -1;
                r[n++] = p / q;
        }
        if (!n)
                return -1;
        qsort(r, (size_t)n, sizeof(double), cmp_double);
        return r[n / 2];
}

typedef struct {
        const char *what;
        double got;
        double target;
        bool at_most;
} Ratio;

static void report(void) {
        Ratio ratios[] = {
                { "rpc_64B / relay_64B (median)", ratio("rpc_64B", "relay_64B", MEDIAN), 1.25, true },
                { "dbus_64B / rpc_64B (median)", ratio("dbus_64B", "rpc_64B", MEDIAN), 2.0, false },
                { "one-way 1 sender / relay stream", ratio("oneway_64B_1sender", "relay_stream_64B_1sender", VALUE), 0.5, false },
                { "one-way 4 senders / relay stream", ratio("oneway_64B_4senders", "relay_stream_64B_4senders", VALUE), 0.7, false },
                { "event-loop server RPC / blocking server RPC", ratio("rpc_64B_loop_server", "rpc_64B_blocking_server", MEDIAN), 1.1, true },
                { "generated-stub RPC / hand-packed RPC", ratio("rpc_64B_generated_stubs", "rpc_64B_hand_packed", MEDIAN), 1.05, true },
                { "RPC to another host (TLS, loopback) / local RPC", ratio("net_rpc_64B_other_host", "net_rpc_64B_local", MEDIAN), 3.0, true },
                { "256 MiB out of line to another host / raw TLS", ratio("net_ool_256MiB_other_host", "tls_raw_256MiB", VALUE), 0.5, false },
                { "RPC beside a stalled monitor / none", ratio("rpc_64B_stalled_monitor", "rpc_64B_no_monitor", MEDIAN), 1.1, true },
                { "RPC beside a reading monitor / none", ratio("rpc_64B_reading_monitor", "rpc_64B_no_monitor", MEDIAN), 2.0, true },
                { "ool move 1 GiB handoff / memcpy 1 GiB", ratio("ool_move_1GiB_handoff", "memcpy_1GiB", MEDIAN), 0.02, true },
                { "inline 1 GiB / ool move 1 GiB (end to end)", ratio("inline_1GiB_end_to_end", "ool_move_1GiB_end_to_end", MEDIAN), 2.0, false },
                { "ool move 64 MiB handoff / memcpy 64 MiB", ratio("ool_move_64MiB_handoff", "memcpy_64MiB", MEDIAN), 0.02, true },
                { "inline 64 MiB / ool move 64 MiB (end to end)", ratio("inline_64MiB_end_to_end", "ool_move_64MiB_end_to_end", MEDIAN), 2.0, false },
                { "rpc with 1000 idle tasks / none", ratio("rpc_64B_1000_idle_tasks", "rpc_64B_base", MEDIAN), 1.1, true },
                { "rpc with 10^6 ports / none", ratio("rpc_64B_1000000_ports", "rpc_64B_base", MEDIAN), 1.1, true },
                { "rpc with 10^5 ports / none", ratio("rpc_64B_100000_ports", "rpc_64B_base", MEDIAN), 1.1, true },
                { "p99 beside a CPU spinner / idle", ratio("hostile_spinner", "hostile_idle", P99), 2.0, true },
                { "p99 beside fair RPCs / idle", ratio("hostile_fair_rpcs", "hostile_idle", P99), 2.0, true },
                { "p99 under unread kernel replies / idle", ratio("hostile_kernel_replies", "hostile_idle", P99), 2.0, true },
                { "p99 under unread notifications / idle", ratio("hostile_notifications", "hostile_idle", P99), 2.0, true },
                { "p99 under reply descriptors / idle", ratio("hostile_reply_fds", "hostile_idle", P99), 2.0, true },
                { "p99 under transit chains / idle", ratio("hostile_transit_chain", "hostile_idle", P99), 2.0, true },
                { "p99 under paged broker info / idle", ratio("hostile_broker_info", "hostile_idle", P99), 2.0, true },
                { "p99 under silent connections / idle", ratio("hostile_silent_connections", "hostile_idle", P99), 2.0, true },
        };
        int n = sizeof(ratios) / sizeof(ratios[0]);
        const Result *mp = find("broker_bytes_per_idle_port"), *mt = find("broker_bytes_per_idle_task");
        const Result *ia = find("idle_armed_task_requests");
        if (opt.json) {
                printf("{\n  \"results\": [\n");
                for (int i = 0; i < n_results; i++)
                        printf("    {\"name\": \"%s\", \"median_us\": %.3f, \"p99_us\": %.3f, \"value\": %.3f, "
                               "\"unit\": \"%s\"}%s\n", results[i].name, results[i].median_us, results[i].p99_us,
                               results[i].value, results[i].unit ? results[i].unit : "us",
                               i + 1 < n_results ? "," : "");
                printf("  ],\n  \"ratios\": [\n");
                bool first = true;
                for (int i = 0; i < n; i++) {
                        if (ratios[i].got < 0)
                                continue;
                        printf("%s    {\"name\": \"%s\", \"value\": %.4f, \"target\": %.4f, \"met\": %s}",
                               first ? "" : ",\n", ratios[i].what, ratios[i].got, ratios[i].target,
                               (ratios[i].at_most ? ratios[i].got <= ratios[i].target
                                                  : ratios[i].got >= ratios[i].target) ? "true" : "false");
                        first = false;
                }
                printf("\n  ]\n}\n");
                return;
        }
        printf("\n%-34s %12s %12s %16s\n", "measurement", "median us", "p99 us", "rate / size");
        for (int i = 0; i < n_results; i++) {
                const Result *r = &results[i];
                if (r->unit)
                        printf("%-34s %12s %12s %12.0f %-5s\n", r->name, "", "", r->value, r->unit);
                else if (r->p99_us > 0)
                        printf("%-34s %12.1f %12.1f\n", r->name, r->median_us, r->p99_us);
                else
                        printf("%-34s %12.1f\n", r->name, r->median_us);
        }
        printf("\n%-46s %10s %12s %s\n", "ratio (same run)", "measured", "target", "");
        for (int i = 0; i < n; i++) {
                if (ratios[i].got < 0)
                        continue;
                bool met = ratios[i].at_most ? ratios[i].got <= ratios[i].target : ratios[i].got >= ratios[i].target;
                printf("%-46s %10.3f %s %8.3f   %s\n", ratios[i].what, ratios[i].got, ratios[i].at_most ? "<=" : ">=",
                       ratios[i].target, met ? "met" : "NOT met");
        }
        if (mp)
                printf("%-46s %10.0f <= %8d   %s\n", "broker bytes per idle port", mp->value, 256,
                       mp->value <= 256 ? "met" : "NOT met");
        if (mt)
                printf("%-46s %10.0f <= %8d   %s\n", "broker bytes per idle task", mt->value, 16384,
                       mt->value <= 16384 ? "met" : "NOT met");
        if (ia)
                printf("%-46s %10.1f <= %8d   %s\n", "requests/s of an idle armed task", ia->value, 0,
                       ia->value == 0 ? "met" : "NOT met");
}

/*
 * The machipcd to start: $MACHIPC_BENCH_BROKER; else, run from the build
 * tree, the one built there; else, installed, the one in sbindir beside our
 * bindir (found from where we are, so any prefix works); else machipcd on
 * $PATH.
 */
static const char *default_broker(void) {
        static char path[PATH_MAX];
        char self[PATH_MAX];
        if (getenv("MACHIPC_BENCH_BROKER"))
                return getenv("MACHIPC_BENCH_BROKER");
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (n > 0) {
                self[n] = '\0';
                char built[PATH_MAX];
                snprintf(built, sizeof(built), "%s", MACHIPCD_PATH);
                /* The build tree's bench sits in clients/bench/, its broker in kernel/. */
                char *cut = strstr(built, "/kernel/machipcd");
                if (cut && strncmp(self, built, (size_t)(cut - built)) == 0 && access(MACHIPCD_PATH, X_OK) == 0)
                        return MACHIPCD_PATH;
                char *slash = strrchr(self, '/');
                if (slash && MACHIPCD_INSTALLED[0] != '/') {
                        slash[1] = '\0';
                        int len = snprintf(path, sizeof(path), "%.*s%s", PATH_MAX / 2, self,
                                           MACHIPCD_INSTALLED);
                        char *real = len > 0 && (size_t)len < sizeof(path) ? realpath(path, NULL) : NULL;
                        if (real && access(real, X_OK) == 0) {
                                snprintf(path, sizeof(path), "%s", real);
                                free(real);
                                return path;
                        }
                        free(real);
                }
        }
        if (MACHIPCD_INSTALLED[0] == '/' && access(MACHIPCD_INSTALLED, X_OK) == 0)
                return MACHIPCD_INSTALLED;
        return "machipcd";
}

static void usage(void) {
        printf("Usage: machipc-bench [--quick] [--json] [--runs N] [--iterations N] [--broker PATH] [--only LIST]\n"
               "Measures the broker beside the floors and the classic IPC mechanisms, in one run.\n\n"
               "  --quick         fewer iterations and smaller sizes (under a minute)\n"
               "  --json          machine-readable output\n"
               "  --runs N        repeat everything N times (max 16) and report each figure's median\n"
               "  --iterations N  round trips per latency measurement (default 5000, quick 1500)\n"
               "  --broker PATH   the machipcd to start (default: $MACHIPC_BENCH_BROKER, else the\n"
               "                  one built beside this program, else the installed one beside\n"
               "                  it in sbindir, else machipcd on $PATH)\n"
               "  --only LIST     comma-separated sections: rpc,floors,dbus,oneway,ool,scale,textbook,\n"
               "                  loop,mig,monitor,net,hostile\n");
}

static bool want(const char *only, const char *section) {
        if (!only)
                return true;
        const char *p = strstr(only, section);
        return p && (p == only || p[-1] == ',') && (p[strlen(section)] == '\0' || p[strlen(section)] == ',');
}

int main(int argc, char **argv) {
        static const struct option opts[] = {
                { "quick", no_argument, NULL, 'q' },
                { "json", no_argument, NULL, 'j' },
                { "iterations", required_argument, NULL, 'i' },
                { "broker", required_argument, NULL, 'b' },
                { "only", required_argument, NULL, 'o' },
                { "runs", required_argument, NULL, 'r' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        const char *only = NULL;
        int c;
        opt.broker = default_broker();
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0) {
                switch (c) {
                case 'q':
                        opt.quick = true;
                        break;
                case 'j':
                        opt.json = true;
                        break;
                case 'i':
                        opt.iters = atoi(optarg);
                        break;
                case 'b':
                        opt.broker = optarg;
                        break;
                case 'o':
                        only = optarg;
                        break;
                case 'r':
                        opt.runs = atoi(optarg);
                        break;
                case 'h':
                        usage();
                        return 0;
                default:
                        usage();
                        return 2;
                }
        }
        if (opt.iters <= 0)
                opt.iters = opt.quick ? 1500 : 5000;
        if (opt.runs <= 0)
                opt.runs = 1;
        if (opt.runs > 16)
                opt.runs = 16;
        signal(SIGPIPE, SIG_IGN);
        double t0 = now_s();
        for (int run = 0; run < opt.runs; run++) {
        n_results = 0;
        start_broker();
        if (!opt.json)
                fprintf(stderr, "machipc-bench: %s mode, %d iterations per latency, run %d of %d, broker %s\n",
                        opt.quick ? "quick" : "full", opt.iters, run + 1, opt.runs, opt.broker);
        if (want(only, "rpc"))
                bench_rpc();
        if (want(only, "floors")) {
                bench_socketpair();
                bench_relay();
        }
#ifdef HAVE_DBUS
        if (want(only, "dbus"))
                bench_dbus();
#endif
        if (want(only, "oneway")) {
                bench_oneway(1);
                bench_relay_stream(1);
                bench_oneway(4);
                bench_relay_stream(4);
        }
        if (want(only, "ool")) {
                bench_ool(1u << 20);
                bench_ool(64u << 20);
                if (!opt.quick)
                        bench_ool(1u << 30);
        }
        if (want(only, "scale"))
                bench_scale();
        if (want(only, "textbook"))
                bench_textbook();
        if (want(only, "loop"))
                bench_loop();
        if (want(only, "mig"))
                bench_mig();
        if (want(only, "monitor"))
                bench_monitor();
#ifdef HAVE_NET
        if (want(only, "net"))
                bench_net();
#endif
        if (want(only, "hostile"))
                bench_hostile();
        stop_broker();
        memcpy(all_runs[run], results, sizeof(results));
        all_n[run] = n_results;
        }
        /* The median of each figure across runs. */
        for (int i = 0; i < n_results; i++) {
                double med[16], p99[16], val[16];
                for (int run = 0; run < opt.runs; run++) {
                        med[run] = all_runs[run][i].median_us;
                        p99[run] = all_runs[run][i].p99_us;
                        val[run] = all_runs[run][i].value;
                }
                qsort(med, (size_t)opt.runs, sizeof(double), cmp_double);
                qsort(p99, (size_t)opt.runs, sizeof(double), cmp_double);
                qsort(val, (size_t)opt.runs, sizeof(double), cmp_double);
                results[i].median_us = med[opt.runs / 2];
                results[i].p99_us = p99[opt.runs / 2];
                results[i].value = val[opt.runs / 2];
        }
        report();
        if (!opt.json && opt.runs > 1)
                printf("(each figure: the median of %d runs)\n", opt.runs);
        if (!opt.json)
                printf("\n(%.1f s in all)\n", now_s() - t0);
        return 0;
}
