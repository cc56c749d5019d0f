/* SPDX-License-Identifier: MIT */
/*
 * main.c - machipcd: parse the command line, set up the broker, run, exit
 */

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include "broker.h"
#include "peer.h"
#include "service.h"
#include "util/log.h"

#ifndef MACHIPC_VERSION
#define MACHIPC_VERSION "unknown"
#endif

static void help(void) {
        printf("Usage: machipcd [OPTION]...\n"
               "The machipc broker: owns every port and message queue of the tasks that\n"
               "connect to it, and serves them over a Unix socket.\n\n"
               "  -s, --socket=PATH      listen on PATH (default: $MACHIPC_SOCKET, else\n"
               "                         $XDG_RUNTIME_DIR/machipc/socket, else\n"
               "                         /tmp/machipc-$UID/socket)\n"
               "      --ready-fd=FD      write \"READY=1\\n\" to FD once listening, then close it\n"
               "                         (under systemd: Type=notify and socket activation)\n"
               "      --max-tasks=N      connected tasks at most, all uids (default %u)\n"
               "      --max-names=N      names per task at most (same as --limit task.names=N)\n"
               "      --limit=SCOPE.KEY=N  a quota; SCOPE is task or uid, KEY one of names,\n"
               "                         messages, bytes, fds, ool_bytes, kernel_messages,\n"
               "                         kernel_bytes; for task also unread_bytes, for uid\n"
               "                         also tasks\n"
               "                         (defaults in doc/security.md)\n"
               "      --allow-group=GROUP  let tasks in GROUP (a name or a number, primary or\n"
               "                         supplementary) connect too (socket 0660)\n"
               "      --handshake-timeout=MS  close a connection that has not said hello\n"
               "                         within MS milliseconds (default %u)\n"
               "      --log-level=LEVEL  error, warning, notice, info (default) or debug\n"
               "  -v, --verbose          log more (repeat for debug)\n"
               "  -q, --quiet            log errors only\n"
               "  -h, --help             show this help\n"
               "      --version          show the version\n\n"
               "Stops cleanly on SIGTERM or SIGINT (exit status 0).  Logs to stderr: with\n"
               "<N> priority prefixes when stderr is the journal, with timestamps when it\n"
               "is a terminal or a file.\n",
               BROKER_TASKS_DEFAULT, PEER_HANDSHAKE_TIMEOUT_MS);
}

static int parse_uint(const char *s, uint32_t *out) {
        char *end;
        errno = 0;
        unsigned long v = strtoul(s, &end, 10);
        if (errno || *s == '\0' || *end != '\0' || v == 0 || v > UINT32_MAX)
                return -EINVAL;
        *out = (uint32_t)v;
        return 0;
}

static int parse_argv(int argc, char **argv, BrokerConfig *cfg) {
        enum { OPT_VERSION = 0x100, OPT_READY_FD, OPT_MAX_TASKS, OPT_MAX_NAMES, OPT_LIMIT, OPT_GROUP,
               OPT_HANDSHAKE, OPT_LOG_LEVEL };
        static const struct option options[] = {
                { "socket", required_argument, NULL, 's' },
                { "ready-fd", required_argument, NULL, OPT_READY_FD },
                { "max-tasks", required_argument, NULL, OPT_MAX_TASKS },
                { "max-names", required_argument, NULL, OPT_MAX_NAMES },
                { "limit", required_argument, NULL, OPT_LIMIT },
                { "allow-group", required_argument, NULL, OPT_GROUP },
                { "handshake-timeout", required_argument, NULL, OPT_HANDSHAKE },
                { "log-level", required_argument, NULL, OPT_LOG_LEVEL },
                { "verbose", no_argument, NULL, 'v' },
                { "quiet", no_argument, NULL, 'q' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, OPT_VERSION },
                {}
        };
        int c, level = LOG_LEVEL_INFO;
        uint32_t v;
        while ((c = getopt_long(argc, argv, "s:vqh", options, NULL)) >= 0) {
                switch (c) {
                case 's':
                        cfg->socket_path = optarg;
                        break;
                case OPT_READY_FD:
                        if (parse_uint(optarg, &v) < 0 && strcmp(optarg, "0") != 0) {
                                fprintf(stderr, "machipcd: invalid --ready-fd: %s\n", optarg);
                                return -EINVAL;
                        }
                        cfg->ready_fd = strcmp(optarg, "0") == 0 ? 0 : (int)v;
                        break;
                case OPT_MAX_TASKS:
                case OPT_MAX_NAMES:
                        if (parse_uint(optarg, &v) < 0) {
                                fprintf(stderr, "machipcd: invalid number: %s\n", optarg);
                                return -EINVAL;
                        }
                        if (c == OPT_MAX_TASKS)
                                cfg->max_tasks = v;
                        else
                                cfg->task_limits.max[ACCT_NAMES] = v;
                        break;
                case OPT_LIMIT:
                        if (limits_parse(&cfg->task_limits, &cfg->uid_limits, optarg) < 0) {
                                fprintf(stderr, "machipcd: invalid --limit: %s\n", optarg);
                                return -EINVAL;
                        }
                        break;
                case OPT_GROUP:
                        if (strcmp(optarg, "0") == 0) {
                                cfg->allow_group = 0;
                        } else if (parse_uint(optarg, &v) == 0) {
                                cfg->allow_group = (gid_t)v;
                        } else {
                                struct group *g = getgrnam(optarg);
                                if (!g) {
                                        fprintf(stderr, "machipcd: no such group: %s\n", optarg);
                                        return -EINVAL;
                                }
                                cfg->allow_group = g->gr_gid;
                        }
                        break;
                case OPT_LOG_LEVEL:
                        level = log_level_parse(optarg);
                        if (level < 0) {
                                fprintf(stderr, "machipcd: invalid --log-level: %s (error, warning, notice, "
                                        "info or debug)\n", optarg);
                                return -EINVAL;
                        }
                        break;
                case OPT_HANDSHAKE:
                        if (parse_uint(optarg, &v) < 0) {
                                fprintf(stderr, "machipcd: invalid --handshake-timeout: %s\n", optarg);
                                return -EINVAL;
                        }
                        cfg->handshake_timeout_ms = v;
                        break;
                case 'v':
                        level = level < LOG_LEVEL_DEBUG ? level + 1 : level;
                        break;
                case 'q':
                        level = LOG_LEVEL_ERROR;
                        break;
                case 'h':
                        help();
                        return 1;
                case OPT_VERSION:
                        printf("machipcd %s\n", MACHIPC_VERSION);
                        return 1;
                default:
                        fprintf(stderr, "Try 'machipcd --help'.\n");
                        return -EINVAL;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "machipcd: unexpected argument: %s\n", argv[optind]);
                return -EINVAL;
        }
        log_set_level(level);
        return 0;
}

int main(int argc, char **argv) {
        BrokerConfig cfg = { .ready_fd = -1, .listen_fd = -1, .allow_group = (gid_t)-1 };
        limits_defaults(&cfg.task_limits, &cfg.uid_limits);
        Broker *b = NULL;
        int r = parse_argv(argc, argv, &cfg);
        if (r != 0)
                return r > 0 ? EXIT_SUCCESS : 2;
        log_setup(LOG_FORM_AUTO);
        cfg.listen_fd = service_listen_fd();
        if (cfg.listen_fd < -1)
                return EXIT_FAILURE;
        if (cfg.listen_fd >= 0 && cfg.socket_path)
                log_warn("serving the socket the service manager passed, not %s", cfg.socket_path);
        signal(SIGPIPE, SIG_IGN);
        /* Descriptors travel in messages: take all the descriptors we may. */
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max;
                setrlimit(RLIMIT_NOFILE, &rl);
        }
        r = broker_new(&b, &cfg);
        if (r < 0) {
                if (r == -ENOMEM)
                        log_error("out of memory");
                return EXIT_FAILURE;
        }
        r = broker_run(b);
        broker_free(b);
        if (r < 0) {
                log_error("event loop failed: %s", strerror(-r));
                return EXIT_FAILURE;
        }
        return EXIT_SUCCESS;
}
