/* SPDX-License-Identifier: MIT */
/*
 * claims.c - machipc-tour --measure: the chapter's claims put to the test
 * on this machine, each stated confirmed, refuted or "depends", with why
 *
 *  1. "Shared memory is faster than message passing": latency and
 *     throughput at small and large sizes, the crossover, and the system
 *     calls per transfer (strace -c, when installed);
 *  2. "Message passing copies the data twice": copies by construction, and
 *     what moving a MiB costs in memcpys of a MiB;
 *  3. "Shared memory can be slower because of cache coherence": one cache
 *     line bounced between two cores, and false sharing;
 *  4. "Message passing is easier to get right": a shared counter without
 *     synchronization loses updates; messages cannot.
 */

#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "tour.h"

#define CHUNK 32768u    /* bytes per message inline */

typedef struct {
        sem_t ready, done;
        size_t size;
        uint8_t data[];
} Shared;

/* Shared memory: @n transfers of @size bytes, copied in by us and read in place by the child. */
static double shm_throughput(size_t size, int n) {
        Shared *s = mmap(NULL, sizeof(Shared) + size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        uint8_t *src = malloc(size);
        if (s == MAP_FAILED || !src)
                fail_now("mmap", -ENOMEM);
        memset(src, 1, size);
        sem_init(&s->ready, 1, 0);
        sem_init(&s->done, 1, 0);
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
                uint64_t sum = 0;
                for (int i = 0; i < n; i++) {
                        sem_wait(&s->ready);
                        for (size_t k = 0; k < size; k += 64)
                                sum += s->data[k];
                        sem_post(&s->done);
                }
                _exit(sum == (uint64_t)n * ((size + 63) / 64) ? 0 : 1);
        }
        double t0 = now_us();
        for (int i = 0; i < n; i++) {
                memcpy(s->data, src, size);
                sem_post(&s->ready);
                sem_wait(&s->done);
        }
        double us = now_us() - t0;
        if (reap(pid) != 0)
                fail_now("shared-memory consumer", -EIO);
        munmap(s, sizeof(Shared) + size);
        free(src);
        return (double)size * n / us;   /* bytes per microsecond = MB/s */
}

typedef struct {
        size_t size;
        int n;
} Job;

/* Receives @n messages of @size bytes (inline chunks, or one out-of-line region), reads every byte. */
static int msg_consumer(void *arg) {
        Job *j = arg;
        port_t in = new_port(4);
        publish(in, "bulk");
        static union {
                msg_header_t h;
                uint8_t b[MSG_SIZE_MAX];
        } m;
        uint64_t sum = 0;
        for (int i = 0; i < j->n; i++) {
                size_t got = 0;
                while (got < j->size) {
                        m.h.msg_size = sizeof(m);
                        m.h.msg_local_port = in;
                        if (msg_receive(&m.h, 0, 0) != 0)
                                return 2;
                        msg_type_t t;
                        memcpy(&t, m.b + sizeof(msg_header_t), sizeof(t));
                        if (t.msg_type_name == MSG_TYPE_MEMORY) {
                                msg_ool_t o;
                                memcpy(&o, m.b + sizeof(msg_header_t) + sizeof(t), sizeof(o));
                                const uint8_t *p = (const uint8_t *)(uintptr_t)o.address;
                                for (size_t k = 0; k < o.size; k += 64)
                                        sum += p[k];
                                vm_deallocate(task_self(), o.address, o.size);
                                got += o.size;
                        } else {
                                const uint8_t *p = m.b + sizeof(msg_header_t) + sizeof(t);
                                for (size_t k = 0; k < t.msg_type_number; k += 64)
                                        sum += p[k];
                                got += t.msg_type_number;
                        }
                }
        }
        /* Say we are done, so the time includes the reading. */
        port_t back = find(getppid(), "bulk-done");
        send_int(back, 1, 0, 0, 0, 0, 0);
        return sum == (uint64_t)j->n * ((j->size + 63) / 64) ? 0 : 3;
}

static bool inline_only;        /* send large transfers as CHUNK-sized inline messages too */

/* Message passing: the same transfers, inline up to CHUNK per message, else moved out of line. */
static double msg_throughput(size_t size, int n) {
        Job j = { size, n };
        port_t done = new_port(1);
        publish(done, "bulk-done");
        pid_t pid = spawn(msg_consumer, &j);
        port_t to = find(pid, "bulk");
        static union {
                msg_header_t h;
                uint8_t b[MSG_SIZE_MAX];
        } m;
        uint8_t src[CHUNK];
        memset(src, 1, sizeof(src));
        double t0 = now_us();
        for (int i = 0; i < n; i++) {
                if (size > CHUNK && inline_only) {
                        for (size_t off = 0; off < size; off += CHUNK) {
                                msg_type_t t = { MSG_TYPE_BYTE, 0, CHUNK };
                                memcpy(m.b + sizeof(msg_header_t), &t, sizeof(t));
                                memcpy(m.b + sizeof(msg_header_t) + sizeof(t), src, CHUNK);
                                m.h = (msg_header_t){ .msg_size = sizeof(msg_header_t) + MSG_ITEM_SIZE(CHUNK),
                                                      .msg_remote_port = to, .msg_id = 1 };
                                if (msg_send(&m.h, 0, 0) != 0)
                                        fail_now("msg_send", -EIO);
                        }
                        continue;
                }
                if (size > CHUNK) {
                        vm_address_t a = 0;
                        if (vm_allocate(task_self(), &a, size, 1) != 0)
                                fail_now("vm_allocate", -ENOMEM);
                        memset((void *)(uintptr_t)a, 1, size);
                        msg_ool_t o = { a, size };
                        msg_type_t t = { MSG_TYPE_MEMORY, MSG_TYPE_FLAG_DEALLOCATE, 1 };
                        memcpy(m.b + sizeof(msg_header_t), &t, sizeof(t));
                        memcpy(m.b + sizeof(msg_header_t) + sizeof(t), &o, sizeof(o));
                        m.h = (msg_header_t){ .msg_size = sizeof(msg_header_t) + MSG_ITEM_SIZE(sizeof(o)),
                                              .msg_remote_port = to, .msg_id = 1 };
                        if (msg_send(&m.h, 0, 0) != 0)
                                fail_now("msg_send", -EIO);
                        continue;
                }
                msg_type_t t = { MSG_TYPE_BYTE, 0, (uint32_t)size };
                memcpy(m.b + sizeof(msg_header_t), &t, sizeof(t));
                memcpy(m.b + sizeof(msg_header_t) + sizeof(t), src, size);
                m.h = (msg_header_t){ .msg_size = sizeof(msg_header_t) + MSG_ITEM_SIZE((uint32_t)size),
                                      .msg_remote_port = to, .msg_id = 1 };
                if (msg_send(&m.h, 0, 0) != 0)
                        fail_now("msg_send", -EIO);
        }
        recv_int(done, NULL, NULL, NULL, 0, 0);
        double us = now_us() - t0;
        if (reap(pid) != 0)
                fail_now("message consumer", -EIO);
        unpublish("bulk-done");
        port_deallocate(task_self(), done);
        port_deallocate(task_self(), to);
        return (double)size * n / us;
}

/* Microseconds to move @size bytes through a pipe (@sock: a Unix stream socket) into a child that reads them. */
static double through_kernel(size_t size, bool sock, int n) {
        int down[2], up[2];
        if ((sock ? socketpair(AF_UNIX, SOCK_STREAM, 0, down) : pipe(down)) < 0 || pipe(up) < 0)
                fail_now("pipe", -errno);
        uint8_t *buf = malloc(size);
        if (!buf)
                fail_now("malloc", -ENOMEM);
        memset(buf, 1, size);
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
                for (int i = 0; i < n; i++) {
                        size_t got = 0;
                        while (got < size) {
                                ssize_t r = read(down[sock ? 1 : 0], buf + got, size - got);
                                if (r <= 0)
                                        _exit(1);
                                got += (size_t)r;
                        }
                        if (write(up[1], "", 1) != 1)
                                _exit(2);
                }
                _exit(0);
        }
        double t0 = now_us();
        for (int i = 0; i < n; i++) {
                size_t put = 0;
                while (put < size) {
                        ssize_t w = write(down[sock ? 0 : 1], buf + put, size - put);
                        if (w <= 0)
                                fail_now("write", -errno);
                        put += (size_t)w;
                }
                char c;
                if (read(up[0], &c, 1) != 1)
                        fail_now("read", -errno);
        }
        double us = (now_us() - t0) / n;
        reap(pid);
        close(down[0]);
        close(down[1]);
        close(up[0]);
        close(up[1]);
        free(buf);
        return us;
}

static double memcpy_us(size_t size, int n) {
        uint8_t *a = malloc(size), *b = malloc(size);
        if (!a || !b)
                fail_now("malloc", -ENOMEM);
        memset(a, 1, size);
        memset(b, 2, size);
        double t0 = now_us();
        for (int i = 0; i < n; i++) {
                a[i % size] = (uint8_t)i;
                memcpy(b, a, size);
        }
        double us = (now_us() - t0) / n;
        volatile uint8_t sink = b[size / 2];
        (void)sink;
        free(a);
        free(b);
        return us;
}

/* One-way latency of a small transfer: half a ping-pong, through shared memory and by msg_rpc. */
static double shm_latency(int n) {
        Shared *s = mmap(NULL, sizeof(Shared) + 64, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        sem_init(&s->ready, 1, 0);
        sem_init(&s->done, 1, 0);
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
                for (int i = 0; i < n; i++) {
                        sem_wait(&s->ready);
                        s->data[1] = s->data[0];
                        sem_post(&s->done);
                }
                _exit(0);
        }
        double t0 = now_us();
        for (int i = 0; i < n; i++) {
                s->data[0] = (uint8_t)i;
                sem_post(&s->ready);
                sem_wait(&s->done);
        }
        double us = (now_us() - t0) / n / 2;
        reap(pid);
        munmap(s, sizeof(Shared) + 64);
        return us;
}

static int echo_server(void *arg) {
        int n = *(int *)arg;
        port_t in = new_port(4);
        publish(in, "echo");
        for (int i = 0; i < n; i++) {
                struct {
                        msg_header_t h;
                        msg_type_t t;
                        uint8_t b[48];
                } m = { .h = { .msg_size = sizeof(m), .msg_local_port = in } };
                if (msg_receive(&m.h, 0, 0) != 0)
                        return 2;
                m.h.msg_local_port = PORT_NULL;
                m.h.msg_bits = 0;
                if (msg_send(&m.h, 0, 0) != 0)
                        return 3;
        }
        return 0;
}

static double msg_latency(int n) {
        pid_t pid = spawn(echo_server, &n);
        port_t to = find(pid, "echo");
        double t0 = now_us();
        for (int i = 0; i < n; i++) {
                struct {
                        msg_header_t h;
                        msg_type_t t;
                        uint8_t b[48];
                } m = { .h = { .msg_size = sizeof(m), .msg_remote_port = to }, .t = { MSG_TYPE_BYTE, 0, 48 } };
                if (msg_rpc(&m.h, 0, sizeof(m), 0, 0) != 0)
                        fail_now("msg_rpc", -EIO);
        }
        double us = (now_us() - t0) / n / 2;
        reap(pid);
        port_deallocate(task_self(), to);
        return us;
}

/* System calls per transfer of the inner helper (--inner shm|msg N) run under strace -f -c; -1 without strace. */
static double syscalls_per_transfer(const char *how, int n) {
        if (system("command -v strace >/dev/null 2>&1") != 0)
                return -1;
        char cmd[512], exe[256];
        ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        if (len <= 0)
                return -1;
        exe[len] = '\0';
        snprintf(cmd, sizeof(cmd), "strace -f -c -o /dev/stdout %s --inner %s %d 2>/dev/null | awk '$NF == \"total\" "
                 "{print $(NF-2) == \"\" ? 0 : ($(NF-1) ~ /^[0-9]+$/ ? $(NF-1) : $(NF-2))}'", exe, how, n);
        FILE *f = popen(cmd, "r");
        long calls = 0;
        if (!f || fscanf(f, "%ld", &calls) != 1)
                calls = -1;
        if (f)
                pclose(f);
        return calls < 0 ? -1 : (double)calls / n;
}

/* The helper --measure runs under strace: @n transfers of 64 bytes one way, nothing else. */
int tour_inner(int argc, char **argv) {
        if (argc != 2)
                return 2;
        int n = atoi(argv[1]);
        if (strcmp(argv[0], "shm") == 0) {
                shm_throughput(64, n);
                return 0;
        }
        if (machipc_connect(NULL) != 0)
                return 1;
        msg_throughput(64, n);
        return 0;
}

/* Claim 3: a cache line between two threads. */
typedef struct {
        _Alignas(64) atomic_int turn;
        int n;
        int cpu;
} Bounce;

static void pin(int cpu) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void *bounce_thread(void *arg) {
        Bounce *b = arg;
        pin(b->cpu);
        for (int i = 0; i < b->n; i++) {
                while (atomic_load_explicit(&b->turn, memory_order_acquire) != 1)
                        sched_yield();
                atomic_store_explicit(&b->turn, 0, memory_order_release);
        }
        return NULL;
}

/* ns per round trip of one cache line between a thread on @cpu_a and one on @cpu_b. */
static double bounce(int cpu_a, int cpu_b, int n) {
        Bounce b = { .n = n, .cpu = cpu_b };
        atomic_init(&b.turn, 0);
        pthread_t t;
        pthread_create(&t, NULL, bounce_thread, &b);
        pin(cpu_a);
        double t0 = now_us();
        for (int i = 0; i < n; i++) {
                atomic_store_explicit(&b.turn, 1, memory_order_release);
                while (atomic_load_explicit(&b.turn, memory_order_acquire) != 0)
                        sched_yield();
        }
        double us = now_us() - t0;
        pthread_join(t, NULL);
        return us * 1000 / n;
}

typedef struct {
        volatile long *counter;
        long n;
        int cpu;
} Adder;

static void *adder_thread(void *arg) {
        Adder *a = arg;
        pin(a->cpu);
        for (long i = 0; i < a->n; i++)
                (*a->counter)++;
        return NULL;
}

/* ns per increment, two threads on two CPUs each incrementing its own counter @gap bytes apart. */
static double sharing(size_t gap, long n) {
        static _Alignas(128) char line[256];
        volatile long *a = (volatile long *)line, *b = (volatile long *)(line + gap);
        *a = *b = 0;
        Adder x = { a, n, 0 }, y = { b, n, 1 };
        pthread_t t;
        double t0 = now_us();
        pthread_create(&t, NULL, adder_thread, &y);
        adder_thread(&x);
        pthread_join(t, NULL);
        return (now_us() - t0) * 1000 / n;
}

/* Claim 4: two processes increment one shared counter, with no synchronization (they start together). */
static long racy(long n) {
        volatile long *c = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        atomic_int *go = (atomic_int *)(c + 8);
        *c = 0;
        atomic_init(go, 0);
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
                atomic_fetch_add(go, 1);
                while (atomic_load(go) < 2)
                        ;
                for (long i = 0; i < n; i++) {
                        long v = *c;    /* count++ as the machine does it: load, add, store */
                        *c = v + 1;
                }
                _exit(0);
        }
        atomic_fetch_add(go, 1);
        while (atomic_load(go) < 2)
                ;
        for (long i = 0; i < n; i++) {
                long v = *c;
                *c = v + 1;
        }
        reap(pid);
        long got = *c;
        munmap((void *)c, 4096);
        return got;
}

static int counter_server(void *arg) {
        long n = *(long *)arg;
        port_t in = new_port(64);
        publish(in, "counter");
        long total = 0;
        for (long i = 0; i < n; i++) {
                int32_t v;
                if (recv_int(in, NULL, &v, NULL, 0, 0) != 0)
                        return 2;
                total += v;
        }
        return total == n ? 0 : 1;
}

typedef struct {
        long per;
        pid_t server;
} CounterJob;

static int counter_client(void *arg) {
        CounterJob *j = arg;
        port_t c = find(j->server, "counter");
        for (long i = 0; i < j->per; i++)
                if (send_int(c, 1, 1, 0, 0, 0, 0) != 0)
                        return 3;
        return 0;
}

int tour_measure(void) {
        int failures = 0;
        cpu_set_t everywhere;   /* claim 3 pins us; the others run where the system puts them */
        sched_getaffinity(0, sizeof(everywhere), &everywhere);
        printf("\n== Claims, measured on this machine ==\n");
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        say("%ld CPU(s) online; figures from one run (machipc-bench repeats them with medians)", cpus);

        /* 1. Shared memory vs message passing. */
        int nl = count(20000, 2000);
        double shm_lat = shm_latency(nl), msg_lat = msg_latency(nl);
        measured("64 B one way: shared memory + semaphores %.2f us, message (msg_rpc / 2) %.2f us", shm_lat,
                 msg_lat);
        size_t sizes[] = { 64, 4096, 65536, 1 << 20, 16 << 20 };
        int n_sizes = tour_short ? 4 : 5;
        double shm_bw[5], msg_bw[5];
        size_t crossover = 0;
        for (int i = 0; i < n_sizes; i++) {
                int n = sizes[i] <= 4096 ? count(20000, 2000) : sizes[i] <= 65536 ? count(2000, 200) : count(100, 10);
                shm_bw[i] = shm_throughput(sizes[i], n);
                msg_bw[i] = msg_throughput(sizes[i], n);
                measured("%8zu B transfers: shared memory %8.1f MB/s, messages %8.1f MB/s (%s)", sizes[i], shm_bw[i],
                         msg_bw[i], sizes[i] > CHUNK ? "moved out of line" : "inline");
                if (!crossover && msg_bw[i] >= shm_bw[i])
                        crossover = sizes[i];
        }
        double sc_shm = syscalls_per_transfer("shm", count(5000, 500));
        double sc_msg = syscalls_per_transfer("msg", count(5000, 500));
        if (sc_shm >= 0)
                measured("system calls per 64 B transfer (strace -f -c, both processes): shared memory %.2f, "
                         "messages %.2f (plus the broker's own)", sc_shm, sc_msg);
        else
                measured("system calls per transfer: not counted (strace is not installed)");

        /* 2. Copies. */
        say("copies of the data per message, by construction: pipe 2 (into the kernel, out of it); Unix socket 2;");
        say("machipc inline 4 (task -> kernel -> broker -> kernel -> task: the broker is a process);");
        say("machipc out of line, moved: 0 (the sealed memfd's pages change hands); shared memory: 1 (the");
        say("producer's write into the region; the consumer reads in place)");
        size_t mib = 1 << 20;
        int nc = count(50, 10);
        double cp = memcpy_us(mib, nc * 4), via_pipe = through_kernel(mib, false, nc),
               via_sock = through_kernel(mib, true, nc);
        inline_only = true;
        double via_inline = (double)mib / msg_throughput(mib, nc);
        inline_only = false;
        double via_moved = (double)mib / msg_throughput(mib, nc);
        measured("moving 1 MiB, in memcpys of 1 MiB (%.0f us each): pipe %.1f, Unix socket %.1f, machipc inline "
                 "%.1f, machipc moved out of line %.1f", cp, via_pipe / cp, via_sock / cp, via_inline / cp,
                 via_moved / cp);
        say("(the moved region's cost is the producer's filling fresh pages and the consumer's faulting them in,");
        say("not copies: its bytes are never copied)");
        double copy_ratio = via_moved / cp;

        /* 3. Cache coherence. */
        int nb = count(200000, 20000);
        double same = cpus > 1 ? bounce(0, 0, nb / 10) : 0, cross = cpus > 1 ? bounce(0, 1, nb) : 0;
        double falsesh = cpus > 1 ? sharing(8, count(20000000, 2000000)) : 0;
        double padded = cpus > 1 ? sharing(128, count(20000000, 2000000)) : 0;
        if (cpus > 1) {
                measured("one cache line bounced between two CPUs: %.0f ns per round trip (on one CPU, taking turns: "
                         "%.0f ns)", cross, same);
                measured("two counters in one cache line (false sharing): %.2f ns per increment; 128 B apart: %.2f "
                         "ns (%.1fx)", falsesh, padded, falsesh / padded);
        }

        sched_setaffinity(0, sizeof(everywhere), &everywhere);

        /* 4. Getting it right. */
        long n = count(10000000, 2000000);
        long got = racy(n);
        long lost = 2 * n - got;
        long per = count(20000, 2000);
        long total = 2 * per;
        pid_t server = spawn(counter_server, &total);
        CounterJob job = { per, server };
        pid_t c1 = spawn(counter_client, &job), c2 = spawn(counter_client, &job);
        int ok1 = reap(c1), ok2 = reap(c2), oks = reap(server);
        measured("two processes each add 1 %ld times to a shared counter, unsynchronized: %ld, %ld updates lost",
                 n, got, lost);
        measured("the same by messages to a counter process: %ld of %ld counted", oks == 0 ? total : -1, total);
        if (!check(ok1 == 0 && ok2 == 0 && oks == 0, "messages to one owner of the count lose nothing"))
                failures++;

        /* The table. */
        printf("\n| claim | measured here | verdict | why |\n| --- | --- | --- | --- |\n");
        bool faster = shm_lat < msg_lat && shm_bw[0] > msg_bw[0];
        char cross_text[48];
        if (crossover)
                snprintf(cross_text, sizeof(cross_text), "from %zu B", crossover);
        else
                snprintf(cross_text, sizeof(cross_text), "none up to %zu B", sizes[n_sizes - 1]);
        printf("| Shared memory is faster than message passing | 64 B: %.1f vs %.1f us one way; %.0f vs %.0f MB/s; "
               "crossover: %s | %s | %s |\n",
               shm_lat, msg_lat, shm_bw[0], msg_bw[0],
               cross_text,
               faster && !crossover ? "confirmed" : faster ? "depends" : "refuted",
               "every message crosses the broker, a process: four socket crossings and two wake-ups; shared "
               "memory needs only the semaphores' wake-ups, and out-of-line moves still fault in fresh pages");
        if (sc_shm >= 0)
                printf("| System calls only to set shared memory up | %.1f per transfer with semaphores vs %.1f for "
                       "messages | depends | a semaphore that must wake the other process is a futex call; with "
                       "nobody waiting, none |\n", sc_shm, sc_msg);
        printf("| Message passing copies the data twice | 1 MiB costs %.1f memcpys by pipe, %.1f by socket, %.1f "
               "machipc inline (4 copies), %.1f moved out of line (0 copies) | depends | twice through a kernel "
               "channel; four through a user-space broker; none when pages change hands |\n",
               via_pipe / cp, via_sock / cp, via_inline / cp, copy_ratio);
        if (cpus > 1)
                printf("| Shared memory can suffer from cache coherence | a line bounced: %.0f ns; false sharing "
                       "%.1fx slower | confirmed | every write to a shared line invalidates the other core's copy |\n",
                       cross, falsesh / padded);
        printf("| Message passing is easier to get right | %ld updates lost unsynchronized; 0 by messages | %s | "
               "%s |\n", lost, lost > 0 ? "confirmed" : "depends",
               lost > 0 ? "count++ is a load, an add and a store: interleaved, updates vanish; a message has one "
                          "receiver, who alone changes the count"
                        : "no race showed on this run (one CPU?); it is still a race");
        return failures;
}
