#pragma once
/* SPDX-License-Identifier: MIT */
/* ptrmap.h - open-addressing hash map from pointers to 32-bit values */

#include <stdint.h>

typedef struct {
        uintptr_t key;  /* 0 = empty slot */
        uint32_t value;
} PtrMapSlot;

typedef struct {
        PtrMapSlot *slots;
        uint32_t mask;  /* capacity - 1; capacity is a power of two or 0 */
        uint32_t n;
} PtrMap;

#define PTRMAP_NULL { NULL, 0, 0 }

void ptrmap_deinit(PtrMap *m);
int ptrmap_get(const PtrMap *m, const void *key, uint32_t *valuep);
int ptrmap_put(PtrMap *m, const void *key, uint32_t value);
int ptrmap_del(PtrMap *m, const void *key);
