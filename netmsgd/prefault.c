/* SPDX-License-Identifier: MIT */
/*
 * prefault.c - the pages of a region being streamed into, made by a thread
 * of their own
 *
 * A large region arriving from a peer is a fresh memfd: every page of it
 * must be allocated and zeroed by the kernel before the bytes can land.
 * Done on the loop's thread that is as much work again as decrypting the
 * bytes, and the sender waits meanwhile.  Here one thread makes the pages
 * (MADV_POPULATE_WRITE, PREFAULT_STEP bytes at a time) just ahead of the
 * loop, which writes into whatever is there — a page not made yet is simply
 * faulted in by the write.  The loop stops the thread on a region before it
 * hands the region on or unmaps it.
 */

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include "prefault.h"

#define PREFAULT_STEP (4u << 20)

static struct {
        pthread_mutex_t lock;
        pthread_cond_t cond;
        pthread_t thread;
        bool running;
        bool quit;
        uint8_t *addr;          /* the region being made, NULL: none */
        size_t len, done;
        bool busy;              /* inside a madvise() on it (the lock not held) */
} pf = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

static void *maker(void *arg) {
        (void)arg;
        pthread_mutex_lock(&pf.lock);
        while (!pf.quit) {
                if (!pf.addr || pf.done >= pf.len) {
                        pf.addr = NULL;
                        pthread_cond_wait(&pf.cond, &pf.lock);
                        continue;
                }
                uint8_t *at = pf.addr + pf.done;
                size_t n = pf.len - pf.done < PREFAULT_STEP ? pf.len - pf.done : PREFAULT_STEP;
                pf.done += n;
                pf.busy = true;
                pthread_mutex_unlock(&pf.lock);
#ifdef MADV_POPULATE_WRITE
                madvise(at, n, MADV_POPULATE_WRITE);
#endif
                pthread_mutex_lock(&pf.lock);
                pf.busy = false;
                pthread_cond_broadcast(&pf.cond);
        }
        pthread_mutex_unlock(&pf.lock);
        return NULL;
}

/* prefault_start() - make the pages of [@addr, @addr + @len) ahead of the loop (another region's job ends). */
void prefault_start(void *addr, size_t len) {
        pthread_mutex_lock(&pf.lock);
        if (!pf.running) {
                sigset_t all, old;
                sigfillset(&all);
                pthread_sigmask(SIG_BLOCK, &all, &old);        /* signals are the loop's */
                pf.running = pthread_create(&pf.thread, NULL, maker, NULL) == 0;
                pthread_sigmask(SIG_SETMASK, &old, NULL);
        }
        if (!pf.running) {
                pthread_mutex_unlock(&pf.lock);
#ifdef MADV_POPULATE_WRITE
                madvise(addr, len, MADV_POPULATE_WRITE);        /* no thread: all at once, here */
#endif
                return;
        }
        while (pf.busy)
                pthread_cond_wait(&pf.cond, &pf.lock);
        pf.addr = addr;
        pf.len = len;
        pf.done = 0;
        pthread_cond_broadcast(&pf.cond);
        pthread_mutex_unlock(&pf.lock);
}

/* prefault_stop() - the thread is off @addr's region (it is about to be handed on or unmapped). */
void prefault_stop(void *addr) {
        pthread_mutex_lock(&pf.lock);
        if (pf.addr == addr) {
                pf.addr = NULL;
                while (pf.busy)
                        pthread_cond_wait(&pf.cond, &pf.lock);
        }
        pthread_mutex_unlock(&pf.lock);
}

/* prefault_end() - the thread ends (netmsgd stops). */
void prefault_end(void) {
        pthread_mutex_lock(&pf.lock);
        bool join = pf.running;
        pf.quit = true;
        pf.addr = NULL;
        pthread_cond_broadcast(&pf.cond);
        pthread_mutex_unlock(&pf.lock);
        if (join)
                pthread_join(pf.thread, NULL);
        pf.running = false;
        pf.quit = false;
}
