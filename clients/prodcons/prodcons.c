/* SPDX-License-Identifier: MIT */
/*
 * machipc-prodcons - producer and consumer over a shared ring buffer
 *
 *   machipc-prodcons producer [-n ITEMS] [-s SLOTS]
 *   machipc-prodcons consumer
 *
 * Two unrelated processes.  The producer creates a shared region holding a
 * ring of SLOTS slots and two counting semaphores, "empty" (SLOTS) and
 * "full" (0), and publishes all three with the name server.  The consumer
 * looks them up and maps the same pages.  Then the textbook loop:
 *   producer: wait(empty); write slot; signal(full)
 *   consumer: wait(full);  read slot;  signal(empty)
 * Items carry sequence numbers; the consumer checks that none is lost,
 * repeated or out of order.  Uses the public API only.
 */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <machipc/machipc.h>
#include "tool.h"

#define NAME_RING "prodcons-ring"
#define NAME_EMPTY "prodcons-empty"
#define NAME_FULL "prodcons-full"
#define END UINT64_MAX

typedef struct {
        uint64_t seq;
        uint64_t value;
        char text[48];
} Slot;

typedef struct {
        uint64_t slots;
        Slot slot[];
} Ring;

static double now(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int fail(const char *what, int code) {
        fprintf(stderr, "machipc-prodcons: %s: %s\n", what, machipc_strerror(code));
        return 1;
}

static uint64_t value_of(uint64_t seq) {
        return seq * 2654435761u ^ 0x5bd1e995;
}

static int producer(uint64_t items, uint64_t slots) {
        port_t shm;
        semaphore_t empty, full;
        vm_address_t a;
        vm_size_t size;
        kern_return_t kr;
        if ((kr = machipc_shm_create(sizeof(Ring) + slots * sizeof(Slot), &shm)) ||
            (kr = machipc_shm_map(shm, &a, &size)))
                return fail("shared region", kr);
        Ring *ring = (Ring *)a;
        ring->slots = slots;
        if ((kr = semaphore_create(task_self(), &empty, (int32_t)slots)) ||
            (kr = semaphore_create(task_self(), &full, 0)))
                return fail("semaphore_create", kr);
        if ((kr = netname_check_in(PORT_NULL, NAME_RING, PORT_NULL, shm)) ||
            (kr = netname_check_in(PORT_NULL, NAME_EMPTY, PORT_NULL, empty)) ||
            (kr = netname_check_in(PORT_NULL, NAME_FULL, PORT_NULL, full)))
                return fail("netname_check_in", kr);
        printf("producer: ring of %llu slots published; producing %llu items\n",
               (unsigned long long)slots, (unsigned long long)items);
        fflush(stdout);
        double t0 = now();
        for (uint64_t seq = 0; seq <= items; seq++) {
                if ((kr = semaphore_wait(empty)))
                        return fail("semaphore_wait(empty)", kr);
                Slot *s = &ring->slot[seq % slots];
                s->seq = seq == items ? END : seq;
                s->value = value_of(seq);
                snprintf(s->text, sizeof(s->text), "item %llu", (unsigned long long)seq);
                if ((kr = semaphore_signal(full)))
                        return fail("semaphore_signal(full)", kr);
        }
        /* Every slot empty again: the consumer has taken everything. */
        for (uint64_t i = 0; i < slots; i++)
                if ((kr = semaphore_wait(empty)))
                        return fail("semaphore_wait(empty)", kr);
        double dt = now() - t0;
        printf("producer: done, %llu items in %.3f s (%.1f us per item)\n", (unsigned long long)items, dt,
               dt / (double)(items ? items : 1) * 1e6);
        netname_check_out(PORT_NULL, NAME_RING, PORT_NULL);
        netname_check_out(PORT_NULL, NAME_EMPTY, PORT_NULL);
        netname_check_out(PORT_NULL, NAME_FULL, PORT_NULL);
        return 0;
}

static kern_return_t look_up(const char *name, port_t *port) {
        kern_return_t kr;
        for (int i = 0; i < 500; i++) {
                kr = netname_look_up(PORT_NULL, NULL, name, port);
                if (kr != NETNAME_NOT_CHECKED_IN)
                        return kr;
                struct timespec ts = { 0, 20 * 1000000L };
                nanosleep(&ts, NULL);
        }
        return kr;
}

static int consumer(void) {
        port_t shm;
        semaphore_t empty, full;
        vm_address_t a;
        vm_size_t size;
        kern_return_t kr;
        if ((kr = look_up(NAME_FULL, &full)) || (kr = look_up(NAME_EMPTY, &empty)) ||
            (kr = look_up(NAME_RING, &shm)))
                return fail("netname_look_up", kr);
        if ((kr = machipc_shm_map(shm, &a, &size)))
                return fail("machipc_shm_map", kr);
        Ring *ring = (Ring *)a;
        uint64_t expect = 0, bad = 0;
        for (;;) {
                if ((kr = semaphore_wait(full)))
                        return fail("semaphore_wait(full)", kr);
                Slot s = ring->slot[expect % ring->slots];
                if ((kr = semaphore_signal(empty)))
                        return fail("semaphore_signal(empty)", kr);
                if (s.seq == END)
                        break;
                if (s.seq != expect || s.value != value_of(expect))
                        bad++;
                expect++;
        }
        printf("consumer: received %llu items in order, %llu wrong\n", (unsigned long long)expect,
               (unsigned long long)bad);
        return bad == 0 ? 0 : 1;
}

int main(int argc, char **argv) {
        uint64_t items = 10000, slots = 16;
        int c;
        while ((c = getopt(argc, argv, "n:s:h")) >= 0) {
                switch (c) {
                case 'n':
                        items = strtoull(optarg, NULL, 10);
                        break;
                case 's':
                        slots = strtoull(optarg, NULL, 10);
                        break;
                default:
                        printf("Usage: machipc-prodcons [-n ITEMS] [-s SLOTS] producer|consumer\n");
                        return c == 'h' ? 0 : 2;
                }
        }
        if (optind + 1 != argc || slots == 0 || slots > 1u << 20)
                return 2;
        if (tool_connect("machipc-prodcons") < 0)
                return 1;
        if (strcmp(argv[optind], "producer") == 0)
                return producer(items, slots);
        if (strcmp(argv[optind], "consumer") == 0)
                return consumer();
        return 2;
}
