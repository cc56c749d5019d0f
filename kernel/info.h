#pragma once
/* SPDX-License-Identifier: MIT */
/* info.h - the broker's state as text, a page at a time (machipcctl's input) */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct Broker Broker;

/* Name slots one page looks at at most, however sparse the tables. */
#define INFO_SCAN_MAX 8192u

size_t info_page(Broker *b, uint32_t cursor[2], char *buf, size_t size, bool *done);
