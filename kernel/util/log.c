/* SPDX-License-Identifier: MIT */
/*
 * log.c - leveled logging to stderr, in the form its reader expects
 *
 * Three forms, chosen once by log_setup() from what stderr is:
 *  - the journal ($JOURNAL_STREAM names stderr): "<3>message", the
 *    priority prefix of sd-daemon(3), which journald turns into the
 *    record's priority; the journal adds the time and the program;
 *  - a terminal or a regular file: "2026-11-30 12:00:00.123 machipcd[42]:
 *    warning: message", since nothing else will say when it happened;
 *  - anything else (a pipe read by a supervisor or a test):
 *    "machipcd: warning: message".
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "log.h"

static int log_level = LOG_LEVEL_INFO;
static LogForm log_form = LOG_FORM_PLAIN;

static const char *const level_names[] = { "error", "warning", "notice", "info", "debug" };
/* syslog(3) priorities: LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG */
static const int level_priority[] = { 3, 4, 5, 6, 7 };

void log_set_level(int level) {
        log_level = level;
}

int log_get_level(void) {
        return log_level;
}

/* log_level_parse() - "error", "warning", "notice", "info" or "debug"; -1 if none of them. */
int log_level_parse(const char *name) {
        for (int i = 0; i <= LOG_LEVEL_DEBUG; i++)
                if (strcmp(name, level_names[i]) == 0)
                        return i;
        return -1;
}

/* Is stderr the stream $JOURNAL_STREAM ("DEVICE:INODE") names? */
static bool stderr_is_journal(void) {
        const char *js = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;
        if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) < 0)
                return false;
        return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

/**
 * log_setup() - choose the form of log lines
 * @form: LOG_FORM_AUTO to choose from what stderr is, or a form to force
 */
void log_setup(LogForm form) {
        if (form != LOG_FORM_AUTO) {
                log_form = form;
                return;
        }
        struct stat st;
        if (stderr_is_journal())
                log_form = LOG_FORM_JOURNAL;
        else if (isatty(STDERR_FILENO) || (fstat(STDERR_FILENO, &st) == 0 && S_ISREG(st.st_mode)))
                log_form = LOG_FORM_TIME;
        else
                log_form = LOG_FORM_PLAIN;
}

LogForm log_get_form(void) {
        return log_form;
}

void log_write(int level, const char *fmt, ...) {
        char msg[1024];
        va_list ap;

        if (level > log_level)
                return;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        /* One line per event, whatever the message holds. */
        for (char *p = msg; *p; p++)
                if (*p == '\n')
                        *p = ' ';
        switch (log_form) {
        case LOG_FORM_JOURNAL:
                fprintf(stderr, "<%d>", level_priority[level]);
                break;
        case LOG_FORM_TIME: {
                struct timespec ts;
                struct tm tm;
                char when[32];
                clock_gettime(CLOCK_REALTIME, &ts);
                localtime_r(&ts.tv_sec, &tm);
                strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
                fprintf(stderr, "%s.%03ld machipcd[%d]: %s: ", when, ts.tv_nsec / 1000000, (int)getpid(),
                        level_names[level]);
                break;
        }
        default:
                fprintf(stderr, "machipcd: %s: ", level_names[level]);
                break;
        }
        fputs(msg, stderr);
        fputc('\n', stderr);
}
