/* SPDX-License-Identifier: MIT */
/*
 * spaces.c - steps 1 and 2: processes cannot see each other's memory, so
 * they cooperate through IPC, by shared memory or by messages
 */

#include <semaphore.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>
#include "tour.h"

static int secret = 42;

static int change_secret(void *arg) {
        (void)arg;
        secret = 7;
        return secret == 7 ? 0 : 1;
}

/* A page the parent maps at a fixed place after the child was made: the child has nothing there. */
#define FOREIGN_ADDR ((void *)0x6e6500000000ul)

/* The child learns the parent's address in a message, then reads through it. */
static int read_foreign(void *arg) {
        (void)arg;
        port_t mine = new_port(1);
        publish(mine, "addr");
        int32_t hi, lo;
        if (recv_int(mine, NULL, &hi, NULL, 0, 0) || recv_int(mine, NULL, &lo, NULL, 0, 0))
                return 2;
        volatile const char *p = (const char *)(((uintptr_t)(uint32_t)hi << 32) | (uint32_t)lo);
        signal(SIGSEGV, SIG_DFL);
        return p[0] == 'p' ? 10 : 11;   /* never gets here: the address is not ours */
}

/* It receives the same bytes in a message instead. */
static int receive_copy(void *arg) {
        (void)arg;
        port_t mine = new_port(1);
        publish(mine, "data");
        struct {
                msg_header_t h;
                msg_type_t t;
                char text[32];
        } m = { .h = { .msg_size = sizeof(m), .msg_local_port = mine } };
        if (msg_receive(&m.h, 0, 0) != 0)
                return 2;
        say("child %d: received \"%s\" in a message", (int)getpid(), m.text);
        return strcmp(m.text, "the parent's data") == 0 ? 0 : 3;
}

void step_spaces(void) {
        pid_t pid = spawn(change_secret, NULL);
        int st = reap(pid);
        say("parent: int secret = 42; the child (pid %d) sets secret = 7 in its copy and exits", (int)pid);
        say("parent: secret is still %d", secret);
        check(st == 0 && secret == 42, "a write in one process is invisible to another (copy, not share)");

        pid = spawn(read_foreign, NULL);
        char *page = mmap(FOREIGN_ADDR, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
                          -1, 0);
        if (page == MAP_FAILED)
                fail_now("mmap", -errno);
        strcpy(page, "the parent's data");
        port_t child = find(pid, "addr");
        uintptr_t a = (uintptr_t)page;
        send_int(child, 1, (int32_t)(a >> 32), 0, 0, 0, 0);
        send_int(child, 1, (int32_t)(uint32_t)a, 0, 0, 0, 0);
        st = reap(pid);
        say("parent: \"%s\" is at %p; the child (pid %d) is told the address and reads it", page, (void *)page,
            (int)pid);
        say("child: %s", st == 128 + SIGSEGV ? "killed by SIGSEGV (segmentation fault): nothing is mapped there "
                                              "in its address space"
                                            : "was not stopped");
        check(st == 128 + SIGSEGV, "a process cannot read another's memory: the hardware stops it");

        pid = spawn(receive_copy, NULL);
        child = find(pid, "data");
        struct {
                msg_header_t h;
                msg_type_t t;
                char text[32];
        } m = { .h = { .msg_size = sizeof(m), .msg_remote_port = child }, .t = { MSG_TYPE_CHAR, 0, 32 } };
        snprintf(m.text, sizeof(m.text), "%s", page);
        kern_return_t kr = msg_send(&m.h, 0, 0);
        check(kr == 0 && reap(pid) == 0, "cooperation needs IPC: a message carries the same bytes across");
        munmap(page, 4096);
}

/* Step 2: N numbers from a producer to a consumer, through a shared ring and through messages. */
#define SLOTS 16

typedef struct {
        sem_t empty, full;
        uint32_t head, tail;
        int64_t slot[SLOTS];
} Ring;

typedef struct {
        Ring *ring;
        int n;
} ShmJob;

static int shm_consumer(void *arg) {
        ShmJob *j = arg;
        int64_t sum = 0;
        for (int i = 0; i < j->n; i++) {
                sem_wait(&j->ring->full);
                sum += j->ring->slot[j->ring->tail++ % SLOTS];
                sem_post(&j->ring->empty);
        }
        return sum == (int64_t)j->n * (j->n + 1) / 2 ? 0 : 1;
}

static int msg_consumer(void *arg) {
        int n = *(int *)arg;
        port_t in = new_port(SLOTS);
        publish(in, "items");
        int64_t sum = 0;
        for (int i = 0; i < n; i++) {
                int32_t v;
                if (recv_int(in, NULL, &v, NULL, 0, 0) != 0)
                        return 2;
                sum += v;
        }
        return sum == (int64_t)n * (n + 1) / 2 ? 0 : 1;
}

void step_models(void) {
        int n = count(200000, 5000);
        /* Shared memory: a ring of SLOTS numbers and two process-shared semaphores, set up by us. */
        Ring *ring = mmap(NULL, sizeof(Ring), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (ring == MAP_FAILED)
                fail_now("mmap", -errno);
        memset(ring, 0, sizeof(*ring));
        sem_init(&ring->empty, 1, SLOTS);
        sem_init(&ring->full, 1, 0);
        ShmJob job = { ring, n };
        double t0 = now_us();
        pid_t pid = spawn(shm_consumer, &job);
        for (int i = 1; i <= n; i++) {
                sem_wait(&ring->empty);
                ring->slot[ring->head++ % SLOTS] = i;
                sem_post(&ring->full);
        }
        int st = reap(pid);
        double shm_us = now_us() - t0;
        say("shared memory: the producer writes 1..%d into a ring of %d slots; empty/full semaphores", n, SLOTS);
        check(st == 0, "the consumer's sum is 1 + 2 + ... + %d: nothing lost, nothing twice", n);
        munmap(ring, sizeof(Ring));

        /* Message passing: the same numbers, one message each, to a mailbox of SLOTS. */
        t0 = now_us();
        pid = spawn(msg_consumer, &n);
        port_t to = find(pid, "items");
        for (int i = 1; i <= n; i++)
                if (send_int(to, 1, i, 0, 0, 0, 0) != 0)
                        break;
        st = reap(pid);
        double msg_us = now_us() - t0;
        say("message passing: the same numbers, one msg_send each, to a mailbox with a backlog of %d", SLOTS);
        say("(no ring, no semaphores: the broker does the buffering and the waiting)");
        check(st == 0, "the consumer's sum is the same");
        measured("%.0f items/s through shared memory, %.0f items/s through messages (%.1fx)", n / shm_us * 1e6,
                 n / msg_us * 1e6, msg_us / shm_us);
}
