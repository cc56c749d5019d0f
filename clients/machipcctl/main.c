/* SPDX-License-Identifier: MIT */
/*
 * machipcctl - the operator's and programmer's tool for a machipc broker
 *
 * Shows the broker's tasks, ports and rights (status.c), the names the name
 * server holds (names.c), makes one RPC from the shell (call.c), and traces
 * the messages the broker moves (monitor.c), as busctl, lsmp and
 * dbus-monitor do for theirs.  Uses the public API only.
 */

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include "ctl.h"
#include "tool.h"

static void usage(FILE *f) {
        fprintf(f, "Usage: machipcctl [--json | --dot] [--all] [COMMAND]\n"
                   "The broker's tasks, ports and rights, the name server's names, calls and traffic.\n\n"
                   "Commands:\n"
                   "  status             statistics, tasks and ports (the default)\n"
                   "  stats | tasks | ports | rights\n"
                   "                     one table of the status\n"
                   "  names              the names the name server holds, the port and task behind each\n"
                   "  proxies            this host's machipc-netmsgd: the other hosts, and the proxy\n"
                   "                     ports here for their ports\n"
                   "  call NAME ID [ITEM...]\n"
                   "                     send one request (msg_id ID; items i32:N, i64:N, str:TEXT,\n"
                   "                     bytes:@FILE) to the service NAME and print its reply\n"
                   "  monitor [--port ID] [--task PID] [--count N]\n"
                   "                     print each message the broker moves, as it moves it\n\n"
                   "Options:\n"
                   "  -j, --json         JSON instead of tables (monitor: one object per line)\n"
                   "  -d, --dot          status as a Graphviz graph of who holds which right\n"
                   "  -a, --all          include machipcctl's own task\n"
                   "  -h, --help         this help\n"
                   "      --version      the version\n\n"
                   "The broker is found through $MACHIPC_SOCKET or the default socket path.\n"
                   "Exit status: 0, 1 on failure, 2 on a usage error, 3 when a call's reply\n"
                   "carries a non-zero return code.\n");
}

int main(int argc, char **argv) {
        static const struct option opts[] = {
                { "json", no_argument, NULL, 'j' },
                { "dot", no_argument, NULL, 'd' },
                { "all", no_argument, NULL, 'a' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                {}
        };
        CtlOptions o = { 0 };
        int c;
        /* Options before the command are ours; the command parses the rest. */
        while ((c = getopt_long(argc, argv, "+jdah", opts, NULL)) >= 0) {
                switch (c) {
                case 'j':
                        o.json = true;
                        break;
                case 'd':
                        o.dot = true;
                        break;
                case 'a':
                        o.all = true;
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                case 'V':
                        printf("machipcctl %s\n", MACHIPC_VERSION);
                        return 0;
                default:
                        usage(stderr);
                        return 2;
                }
        }
        const char *what = optind < argc ? argv[optind] : "status";
        static const char *const tables[] = { "status", "all", "stats", "tasks", "ports", "rights" };
        bool table = false;
        for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
                table |= strcmp(what, tables[i]) == 0;
        bool known = table || !strcmp(what, "names") || !strcmp(what, "proxies") || !strcmp(what, "call") ||
                     !strcmp(what, "monitor");
        if (!known || (table && optind + 1 < argc) ||
            ((!strcmp(what, "names") || !strcmp(what, "proxies")) && optind + 1 < argc)) {
                fprintf(stderr, "machipcctl: %s: %s\n", known ? "unexpected argument" : "unknown command",
                        known ? argv[optind + 1] : what);
                usage(stderr);
                return 2;
        }
        if (tool_connect("machipcctl") < 0)
                return 1;
        if (table)
                return cmd_status(what, &o);
        if (!strcmp(what, "names"))
                return cmd_names(&o);
        if (!strcmp(what, "proxies"))
                return cmd_proxies(&o);
        if (!strcmp(what, "call"))
                return cmd_call(argc - optind, argv + optind, &o);
        return cmd_monitor(argc - optind, argv + optind, &o);
}
