#pragma once
/* SPDX-License-Identifier: MIT */
/*
 * tool.h - what every machipc program does first: reach the broker
 *
 * The library connects on first use, but a program that lets it do so
 * reports a missing broker as whatever its first call was ("cannot find
 * \"echo\": No such file or directory", "port_allocate: invalid task").
 * Connecting up front lets it say what is wrong and where it looked.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <machipc/machipc.h>

/* tool_connect() - connect to the broker, or tell the user why not; 0 or -1. */
static inline int tool_connect(const char *prog) {
        int r = machipc_connect(NULL);
        if (r == 0 || r == -EISCONN)
                return 0;
        char path[256] = "?";
        machipc_socket_path(path, sizeof(path));
        fprintf(stderr, "%s: cannot connect to machipcd at %s: %s%s\n", prog, path, machipc_strerror(r),
                r == -ENOENT || r == -ECONNREFUSED
                        ? " (is machipcd running? if it was started with -s PATH, set $MACHIPC_SOCKET=PATH)"
                : r == -EPERM
                        ? " (the socket, its directory or the process behind it belongs to another user,"
                          " or others can write to the directory: not trusted)"
                        : "");
        return -1;
}

/*
 * tool_task_stat() - a number from the broker's line for the task of
 * process @pid (machipc_broker_info(), doc/api.md "machipcctl's input"),
 * e.g. "requests"; -1 if there is none.
 */
static inline long long tool_task_stat(pid_t pid, const char *key) {
        char *text = NULL, who[32], want[48];
        long long n = -1;
        if (machipc_broker_info(&text, NULL) != 0)
                return -1;
        snprintf(who, sizeof(who), " pid %d ", (int)pid);
        snprintf(want, sizeof(want), " %s ", key);
        for (char *line = text, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                char *at;
                if (strncmp(line, "task ", 5) == 0 && strstr(line, who) && (at = strstr(line, want))) {
                        n = strtoll(at + strlen(want), NULL, 10);
                        break;
                }
        }
        free(text);
        return n;
}
