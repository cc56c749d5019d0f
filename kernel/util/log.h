#pragma once
/* SPDX-License-Identifier: MIT */
/* log.h - the broker's log: stderr, one line per event, in the form its reader expects */

#include <stdbool.h>

enum {
        LOG_LEVEL_ERROR = 0,
        LOG_LEVEL_WARN = 1,
        LOG_LEVEL_NOTICE = 2,
        LOG_LEVEL_INFO = 3,
        LOG_LEVEL_DEBUG = 4,
};

typedef enum {
        LOG_FORM_AUTO,          /* choose from what stderr is */
        LOG_FORM_PLAIN,         /* "machipcd: warning: text" */
        LOG_FORM_TIME,          /* "2026-11-30 12:00:00.123 machipcd[42]: warning: text" */
        LOG_FORM_JOURNAL,       /* "<4>text" */
} LogForm;

void log_setup(LogForm form);
LogForm log_get_form(void);
void log_set_level(int level);
int log_get_level(void);
int log_level_parse(const char *name);
void log_write(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_write(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...) log_write(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_notice(...) log_write(LOG_LEVEL_NOTICE, __VA_ARGS__)
#define log_info(...) log_write(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_write(LOG_LEVEL_DEBUG, __VA_ARGS__)
