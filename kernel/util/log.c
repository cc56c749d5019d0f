/* SPDX-License-Identifier: MIT */
/*
 * log.c - leveled logging to stderr
 *
 * Lines carry a level tag and nothing else; the daemon runs in the
 * foreground and its supervisor (or the terminal) adds timestamps.
 */

#include <stdarg.h>
#include <stdio.h>
#include "log.h"

static int log_level = LOG_LEVEL_INFO;

void log_set_level(int level) {
        log_level = level;
}

int log_get_level(void) {
        return log_level;
}

void log_write(int level, const char *fmt, ...) {
        static const char *const tags[] = { "error", "warning", "info", "debug" };
        va_list ap;

        if (level > log_level)
                return;
        fprintf(stderr, "machipcd: %s: ", tags[level]);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
}
