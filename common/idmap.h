#pragma once
/* SPDX-License-Identifier: MIT */
/* idmap.h - open-addressing hash map from nonzero 64-bit keys to 32-bit values */

#include <stdint.h>

typedef struct {
        uint64_t key;   /* 0 = empty slot */
        uint32_t value;
} IdMapSlot;

typedef struct {
        IdMapSlot *slots;
        uint32_t mask;  /* capacity - 1; capacity is a power of two or 0 */
        uint32_t n;
} IdMap;

#define IDMAP_NULL { NULL, 0, 0 }

void idmap_deinit(IdMap *m);
int idmap_get(const IdMap *m, uint64_t key, uint32_t *valuep);
int idmap_put(IdMap *m, uint64_t key, uint32_t value);
int idmap_del(IdMap *m, uint64_t key);
