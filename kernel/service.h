#pragma once
/* SPDX-License-Identifier: MIT */
/* service.h - what a service manager gives the daemon and is told by it (systemd) */

#include <stdbool.h>

int service_listen_fd(void);
bool service_notify_enabled(void);
void service_notify(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
