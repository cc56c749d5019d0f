/* SPDX-License-Identifier: MIT */
/*
 * util.c - what every part of machipc-mig uses: error messages and memory
 *
 * Everything the generator allocates lives until it is done: each block is
 * on one list, so the whole goes at once (mig_free_all()) and nothing is
 * ever unreachable.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "mig.h"

static int n_errors;
bool mig_quiet;

void mig_error(Loc loc, const char *fmt, ...) {
        n_errors++;
        if (mig_quiet)
                return;
        va_list ap;
        if (loc.file)
                fprintf(stderr, "%s:%d:%d: error: ", loc.file, loc.line, loc.col);
        else
                fprintf(stderr, "machipc-mig: error: ");
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
}

int mig_errors(void) {
        return n_errors;
}

typedef struct Block Block;
struct Block {
        Block *prev, *next;
        max_align_t data[];
};

static Block blocks = { &blocks, &blocks };

static void *block_link(Block *b) {
        if (!b) {
                fprintf(stderr, "machipc-mig: out of memory\n");
                exit(1);
        }
        b->next = blocks.next;
        b->prev = &blocks;
        blocks.next->prev = b;
        blocks.next = b;
        return b->data;
}

void *mig_alloc(size_t n) {
        return block_link(calloc(1, sizeof(Block) + n));
}

void *mig_realloc(void *p, size_t n) {
        if (!p)
                return mig_alloc(n);
        Block *b = (Block *)((char *)p - offsetof(Block, data));
        b->prev->next = b->next;
        b->next->prev = b->prev;
        return block_link(realloc(b, sizeof(Block) + n));
}

void mig_free_all(void) {
        while (blocks.next != &blocks) {
                Block *b = blocks.next;
                blocks.next = b->next;
                free(b);
        }
        blocks.prev = &blocks;
        n_errors = 0;
}

char *mig_strdup(const char *s) {
        char *d = mig_alloc(strlen(s) + 1);
        strcpy(d, s);
        return d;
}
