/* SPDX-License-Identifier: MIT */
/*
 * ptrmap.c - pointer-keyed hash map with linear probing
 *
 * Used by name spaces to find the name a task already has for a port, so
 * that every right to one port coalesces under one name in O(1).  Deletion
 * shifts later entries back (no tombstones), so lookups never degrade.
 * The load factor stays at or below one half.
 */

#include <errno.h>
#include <stdlib.h>
#include "ptrmap.h"

static uint32_t ptrmap_hash(uintptr_t key) {
        uint64_t x = (uint64_t)key;
        x ^= x >> 33;
        x *= 0xff51afd7ed558ccdULL;
        x ^= x >> 33;
        return (uint32_t)x;
}

void ptrmap_deinit(PtrMap *m) {
        free(m->slots);
        m->slots = NULL;
        m->mask = 0;
        m->n = 0;
}

static int ptrmap_grow(PtrMap *m) {
        uint32_t cap = m->slots ? (m->mask + 1) * 2 : 16;
        PtrMapSlot *slots = calloc(cap, sizeof(*slots));
        if (!slots)
                return -ENOMEM;
        for (uint32_t i = 0; m->slots && i <= m->mask; i++) {
                if (!m->slots[i].key)
                        continue;
                uint32_t j = ptrmap_hash(m->slots[i].key) & (cap - 1);
                while (slots[j].key)
                        j = (j + 1) & (cap - 1);
                slots[j] = m->slots[i];
        }
        free(m->slots);
        m->slots = slots;
        m->mask = cap - 1;
        return 0;
}

/**
 * ptrmap_get() - look up @key
 * Return: 0 with *@valuep set, or -ENOENT.
 */
int ptrmap_get(const PtrMap *m, const void *key, uint32_t *valuep) {
        if (!m->slots)
                return -ENOENT;
        uintptr_t k = (uintptr_t)key;
        for (uint32_t i = ptrmap_hash(k) & m->mask;; i = (i + 1) & m->mask) {
                if (m->slots[i].key == k) {
                        *valuep = m->slots[i].value;
                        return 0;
                }
                if (!m->slots[i].key)
                        return -ENOENT;
        }
}

/**
 * ptrmap_put() - insert or replace @key (non-NULL)
 * Return: 0 or -ENOMEM (the map is unchanged).
 */
int ptrmap_put(PtrMap *m, const void *key, uint32_t value) {
        if (!m->slots || (m->n + 1) * 2 > m->mask + 1) {
                int r = ptrmap_grow(m);
                if (r < 0)
                        return r;
        }
        uintptr_t k = (uintptr_t)key;
        uint32_t i = ptrmap_hash(k) & m->mask;
        while (m->slots[i].key && m->slots[i].key != k)
                i = (i + 1) & m->mask;
        if (!m->slots[i].key)
                m->n++;
        m->slots[i].key = k;
        m->slots[i].value = value;
        return 0;
}

/**
 * ptrmap_del() - remove @key
 * Return: 0 or -ENOENT.
 */
int ptrmap_del(PtrMap *m, const void *key) {
        if (!m->slots)
                return -ENOENT;
        uintptr_t k = (uintptr_t)key;
        uint32_t i = ptrmap_hash(k) & m->mask;
        while (m->slots[i].key != k) {
                if (!m->slots[i].key)
                        return -ENOENT;
                i = (i + 1) & m->mask;
        }
        /* Backward-shift: move later members of the probe run into the hole. */
        uint32_t hole = i;
        for (uint32_t j = (i + 1) & m->mask; m->slots[j].key; j = (j + 1) & m->mask) {
                uint32_t home = ptrmap_hash(m->slots[j].key) & m->mask;
                /* Can slot j move to the hole? Only if home is not in (hole, j]. */
                if (((j - home) & m->mask) >= ((j - hole) & m->mask)) {
                        m->slots[hole] = m->slots[j];
                        hole = j;
                }
        }
        m->slots[hole].key = 0;
        m->n--;
        return 0;
}
