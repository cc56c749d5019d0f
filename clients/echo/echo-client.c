/* SPDX-License-Identifier: MIT */
/*
 * echo-client.c - machipc-echo: call the echo/calculator server by RPC
 *
 * Finds the server through the name server (waiting up to --wait ms for it
 * to check in), then calls the routines of interfaces/echo.defs through the
 * stubs machipc-mig generated and prints each result.
 */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <machipc/machipc.h>
#include "tool.h"
#include "echo-proto.h"
#include "echo.h"

static uint64_t now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Look the service up, retrying while it has not checked in yet. */
static kern_return_t find_service(const char *host, const char *name, unsigned wait_ms, port_t *port) {
        uint64_t deadline = now_ms() + wait_ms;
        unsigned pause_ms = 1;
        for (;;) {
                kern_return_t kr = netname_look_up(PORT_NULL, host, name, port);
                if ((kr != NETNAME_NOT_CHECKED_IN && kr != NETNAME_NO_SERVER) || now_ms() >= deadline)
                        return kr;
                struct timespec ts = { 0, (long)pause_ms * 1000000L };
                nanosleep(&ts, NULL);
                if (pause_ms < 50)
                        pause_ms *= 2;
        }
}

static int do_echo(port_t server, const char *text) {
        char reply[ECHO_TEXT_MAX];
        if (strlen(text) >= ECHO_TEXT_MAX) {
                fprintf(stderr, "machipc-echo: text longer than %d bytes\n", ECHO_TEXT_MAX - 1);
                return 1;
        }
        kern_return_t kr = echo(server, text, reply);
        if (kr != KERN_SUCCESS) {
                fprintf(stderr, "machipc-echo: echo: %s\n", machipc_strerror(kr));
                return 1;
        }
        printf("echo: %s\n", reply);
        return 0;
}

static int do_calc(port_t server, int64_t a, char op, int64_t b) {
        int32_t code;
        int64_t result;
        kern_return_t kr = calc(server, a, b, op, &code, &result);
        if (kr != KERN_SUCCESS) {
                fprintf(stderr, "machipc-echo: calc: %s\n", machipc_strerror(kr));
                return 1;
        }
        static const char *const errs[] = { "ok", "division by zero", "bad operator", "overflow" };
        if (code != CALC_OK) {
                printf("calc: %" PRId64 " %c %" PRId64 " = error (%s)\n", a, op, b,
                       code >= 0 && code <= 3 ? errs[code] : "unknown");
                return 3;
        }
        printf("calc: %" PRId64 " %c %" PRId64 " = %" PRId64 "\n", a, op, b, result);
        return 0;
}

static void usage(void) {
        printf("Usage: machipc-echo [OPTION]... echo TEXT\n"
               "       machipc-echo [OPTION]... calc A OP B     (OP: + - x /)\n"
               "Calls the echo/calculator server through the broker.\n\n"
               "  -n, --name=NAME    service name (default \"%s\")\n"
               "  -H, --host=HOST    the service is on HOST (through machipc-netmsgd; default: here)\n"
               "  -w, --wait=MS      wait up to MS for the service to check in (default 5000)\n"
               "  -c, --count=N      make the call N times (default 1)\n"
               "  -h, --help         show this help\n\n"
               "Exit status: 0 ok, 1 failure, 2 usage, 3 the calculator reported an error.\n",
               ECHO_SERVICE_NAME);
}

int main(int argc, char **argv) {
        const char *name = ECHO_SERVICE_NAME, *host = NULL;
        unsigned wait_ms = 5000;
        unsigned long count = 1;
        int c;
        static const struct option opts[] = {
                { "name", required_argument, NULL, 'n' },
                { "host", required_argument, NULL, 'H' },
                { "wait", required_argument, NULL, 'w' },
                { "count", required_argument, NULL, 'c' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        while ((c = getopt_long(argc, argv, "+n:H:w:c:h", opts, NULL)) >= 0) {
                switch (c) {
                case 'n':
                        name = optarg;
                        break;
                case 'H':
                        host = optarg;
                        break;
                case 'w':
                        wait_ms = (unsigned)strtoul(optarg, NULL, 10);
                        break;
                case 'c':
                        count = strtoul(optarg, NULL, 10);
                        break;
                case 'h':
                        usage();
                        return 0;
                default:
                        return 2;
                }
        }
        argc -= optind;
        argv += optind;
        bool is_echo = argc == 2 && strcmp(argv[0], "echo") == 0;
        bool is_calc = argc == 4 && strcmp(argv[0], "calc") == 0 && strlen(argv[2]) == 1;
        if (!is_echo && !is_calc) {
                usage();
                return 2;
        }
        int64_t a = 0, b = 0;
        char op = 0;
        if (is_calc) {
                char *e1, *e2;
                errno = 0;
                a = strtoll(argv[1], &e1, 10);
                b = strtoll(argv[3], &e2, 10);
                op = argv[2][0] == 'x' ? '*' : argv[2][0];
                if (errno || *e1 || *e2) {
                        fprintf(stderr, "machipc-echo: A and B must be integers\n");
                        return 2;
                }
        }

        if (tool_connect("machipc-echo") < 0)
                return 1;
        port_t server;
        kern_return_t kr = find_service(host, name, wait_ms, &server);
        if (kr != NETNAME_SUCCESS) {
                fprintf(stderr, "machipc-echo: cannot find \"%s\": %s\n", name, machipc_strerror(kr));
                return 1;
        }
        int rc = 0;
        for (unsigned long i = 0; i < count && rc == 0; i++)
                rc = is_echo ? do_echo(server, argv[1]) : do_calc(server, a, op, b);
        return rc;
}
