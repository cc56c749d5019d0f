#pragma once
/* SPDX-License-Identifier: MIT */
/* prefault.h - the pages of a region being streamed into, made by a thread of their own */

#include <stddef.h>

void prefault_start(void *addr, size_t len);
void prefault_stop(void *addr);
void prefault_end(void);
