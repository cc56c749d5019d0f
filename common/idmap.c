/* SPDX-License-Identifier: MIT */
/*
 * idmap.c - a hash map from nonzero 64-bit keys, with linear probing
 *
 * The broker's name spaces find the name a task already has for a port
 * (keyed by the port's address), so that every right to one port coalesces
 * under one name in O(1); netmsgd finds proxies and exports by port name
 * and by the ids a peer uses.  Deletion
 * shifts later entries back (no tombstones), so lookups never degrade.
 * The load factor stays at or below one half.
 */

#include <errno.h>
#include <stdlib.h>
#include "idmap.h"

static uint32_t idmap_hash(uint64_t key) {
        uint64_t x = key;
        x ^= x >> 33;
        x *= 0xff51afd7ed558ccdULL;
        x ^= x >> 33;
        return (uint32_t)x;
}

void idmap_deinit(IdMap *m) {
        free(m->slots);
        m->slots = NULL;
        m->mask = 0;
        m->n = 0;
}

static int idmap_grow(IdMap *m) {
        uint32_t cap = m->slots ? (m->mask + 1) * 2 : 16;
        IdMapSlot *slots = calloc(cap, sizeof(*slots));
        if (!slots)
                return -ENOMEM;
        for (uint32_t i = 0; m->slots && i <= m->mask; i++) {
                if (!m->slots[i].key)
                        continue;
                uint32_t j = idmap_hash(m->slots[i].key) & (cap - 1);
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
 * idmap_get() - look up @key
 * Return: 0 with *@valuep set, or -ENOENT.
 */
int idmap_get(const IdMap *m, uint64_t key, uint32_t *valuep) {
        if (!m->slots)
                return -ENOENT;
        uint64_t k = key;
        for (uint32_t i = idmap_hash(k) & m->mask;; i = (i + 1) & m->mask) {
                if (m->slots[i].key == k) {
                        *valuep = m->slots[i].value;
                        return 0;
                }
                if (!m->slots[i].key)
                        return -ENOENT;
        }
}

/**
 * idmap_put() - insert or replace @key (nonzero)
 * Return: 0 or -ENOMEM (the map is unchanged).  Replacing never allocates.
 */
int idmap_put(IdMap *m, uint64_t key, uint32_t value) {
        uint32_t i = 0;
        if (m->slots) {
                /* One probe: the key's slot, or the empty one it would take. */
                for (i = idmap_hash(key) & m->mask; m->slots[i].key; i = (i + 1) & m->mask) {
                        if (m->slots[i].key == key) {
                                m->slots[i].value = value;
                                return 0;
                        }
                }
        }
        if (!m->slots || (m->n + 1) * 2 > m->mask + 1) {
                int r = idmap_grow(m);
                if (r < 0)
                        return r;
                for (i = idmap_hash(key) & m->mask; m->slots[i].key; i = (i + 1) & m->mask)
                        ;
        }
        m->n++;
        m->slots[i].key = key;
        m->slots[i].value = value;
        return 0;
}

/**
 * idmap_del() - remove @key
 * Return: 0 or -ENOENT.
 */
int idmap_del(IdMap *m, uint64_t key) {
        if (!m->slots)
                return -ENOENT;
        uint64_t k = key;
        uint32_t i = idmap_hash(k) & m->mask;
        while (m->slots[i].key != k) {
                if (!m->slots[i].key)
                        return -ENOENT;
                i = (i + 1) & m->mask;
        }
        /* Backward-shift: move later members of the probe run into the hole. */
        uint32_t hole = i;
        for (uint32_t j = (i + 1) & m->mask; m->slots[j].key; j = (j + 1) & m->mask) {
                uint32_t home = idmap_hash(m->slots[j].key) & m->mask;
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
