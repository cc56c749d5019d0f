#pragma once
/* SPDX-License-Identifier: MIT */
/* mig-types.h - the C types bench.defs names */

typedef char bench_bytes_t[32];
