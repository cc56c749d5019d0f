/* SPDX-License-Identifier: MIT */
/*
 * test-hostile.c - one task tries to make the broker hold things without
 * limit, or to starve others; everything it can make the broker hold is
 * bounded and charged to it
 *
 * Each test runs a broker, a well-behaved pair of tasks (this task calling
 * a server task) and an attacker task.  It checks that the attack meets its
 * documented limit with the documented code, that the pair is served all
 * along (its RPC latency is measured idle and under attack and both
 * reported; the ratio is the benchmark's to judge, machipc-bench --only
 * hostile), and that the broker's memory and descriptors come back once the
 * attacker is gone.
 */

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <machipc/mig.h>
#include "fixture.h"
#include "raw.h"
#include "kcall.h"
#include "wire.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

/* Memory figures mean something only for a broker on the plain allocator. */
static bool rss_meaningful(void) {
        return !UNDER_ASAN && !getenv("MACHIPC_TEST_WRAPPER");
}

static void start(const char *const *args) {
        test_broker_spawn(&fixture_broker, args);
        ck_assert_int_eq(machipc_connect(NULL), 0);
        fixture_fds = test_count_fds(fixture_broker.pid);
}

static long broker_rss_kib(void) {
        char path[64], line[256];
        snprintf(path, sizeof(path), "/proc/%d/status", (int)fixture_broker.pid);
        FILE *f = fopen(path, "r");
        long kib = -1;
        while (f && fgets(line, sizeof(line), f))
                if (sscanf(line, "VmRSS: %ld", &kib) == 1)
                        break;
        if (f)
                fclose(f);
        return kib;
}

/* A number from the broker's "broker" line of machipc_broker_info(). */
static unsigned long long broker_stat(const char *key) {
        char *text = NULL;
        ck_assert_int_eq(machipc_broker_info(&text, NULL), 0);
        char want[64];
        snprintf(want, sizeof(want), " %s ", key);
        char *p = strstr(text, want);
        ck_assert_ptr_nonnull(p);
        unsigned long long v = strtoull(p + strlen(want), NULL, 10);
        free(text);
        return v;
}

/* --- the well-behaved pair --- */

enum { ID_ANNOUNCE = 1, ID_CALL, ID_BYE };

static int bystander_server(void *arg) {
        (void)arg;
        port_t boot = test_bootstrap_lookup(), svc;
        if (port_allocate(task_self(), &svc) != 0 || port_set_backlog(task_self(), svc, 64) != 0)
                return 1;
        if (test_send_int(boot, ID_ANNOUNCE, 0, svc, MSG_TYPE_MAKE_SEND, 0, 0) != 0)
                return 2;
        TestIntMsg m;
        memset(&m, 0, sizeof(m));
        m.head.msg_size = sizeof(m);
        m.head.msg_local_port = svc;
        if (msg_receive(&m.head, 0, 0) != 0)
                return 3;
        while (m.head.msg_id != ID_BYE) {
                m.head.msg_local_port = PORT_NULL;
                m.head.msg_bits = 0;
                m.head.msg_size = sizeof(msg_header_t) + MSG_ITEM_SIZE(4);
                if (msg_send_receive(&m.head, SEND_TIMEOUT, sizeof(m), svc, 1000, 0) != 0)
                        return 4;
        }
        return 0;
}

typedef struct {
        pid_t pid;
        port_t svc;
        port_t boot;
} Pair;

static void pair_start(Pair *p) {
        p->boot = test_bootstrap_serve();
        p->pid = test_fork(bystander_server, NULL);
        int32_t id;
        ck_assert_int_eq(test_recv_int(p->boot, &id, NULL, &p->svc, RCV_TIMEOUT, 10000), 0);
        ck_assert_int_eq(id, ID_ANNOUNCE);
}

static void pair_stop(Pair *p) {
        ck_assert_int_eq(test_send_int(p->svc, ID_BYE, 0, 0, 0, 0, 0), 0);
        ck_assert_int_eq(test_wait(p->pid), 0);
}

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
        return x < y ? -1 : x > y;
}

/* @n RPCs to the pair's server; every one must succeed within a second. Returns p99 in µs. */
static uint64_t pair_p99_us(const Pair *p, int n) {
        uint64_t *t = malloc(sizeof(*t) * (size_t)n);
        ck_assert_ptr_nonnull(t);
        for (int i = 0; i < n; i++) {
                TestIntMsg m;
                memset(&m, 0, sizeof(m));
                msg_type_init(&m.t, MSG_TYPE_INTEGER_32, 1);
                m.value = i;
                m.head.msg_size = sizeof(msg_header_t) + MSG_ITEM_SIZE(4);
                m.head.msg_remote_port = p->svc;
                m.head.msg_id = ID_CALL;
                struct timespec a, b;
                clock_gettime(CLOCK_MONOTONIC, &a);
                ck_assert_int_eq(msg_rpc(&m.head, SEND_TIMEOUT | RCV_TIMEOUT, sizeof(m), 1000, 1000), 0);
                clock_gettime(CLOCK_MONOTONIC, &b);
                ck_assert_int_eq(m.value, i);
                t[i] = (uint64_t)(b.tv_sec - a.tv_sec) * 1000000u + (uint64_t)(b.tv_nsec - a.tv_nsec) / 1000u;
        }
        qsort(t, (size_t)n, sizeof(*t), cmp_u64);
        uint64_t p99 = t[(n * 99) / 100];
        free(t);
        return p99;
}

/* --- the attacker --- */

typedef struct {
        int (*setup)(void);             /* in the attacker task, before it says go */
        int (*step)(void);              /* one attack: 0 taken, 1 refused as documented, <0 wrong */
        long max_steps;
        bool refusals;                  /* the attack meets a limit: go on until it has */
        long ok, refused;               /* filled by run_attack() */
        long rss_peak_kib;              /* the broker's, with the attack's leftovers still held */
        int broker_fds_peak;
        long ports_peak;                /* ports more than before, with the attacker still there */
        uint64_t idle_p99, attack_p99;
} Attack;

static Attack *attack;

/* The attacker: set up, say go, attack until told to stop or done; report its counts. */
static int attacker(void *arg) {
        int *fds = arg;
        close(fds[0]);
        close(fds[3]);
        if (attack->setup && attack->setup() != 0)
                return 90;
        long counts[2] = { 0, 0 };
        if (write(fds[1], "g", 1) != 1)
                return 91;
        fcntl(fds[2], F_SETFL, O_NONBLOCK);
        char c;
        /* Until the limit bites (or max_steps), and then until the test has measured. */
        bool stop = false;
        for (long i = 0; i < attack->max_steps && !(stop && (!attack->refusals || counts[1] >= 16)); i++) {
                int r = attack->step();
                if (r < 0)
                        return 92;
                counts[r]++;
                if ((i & 63) == 0 && !stop && read(fds[2], &c, 1) == 1)
                        stop = true;
        }
        if (write(fds[1], counts, sizeof(counts)) != sizeof(counts))
                return 93;
        /* Hold what we made until the test has looked ('x'; an 's' not read yet may come first). */
        fcntl(fds[2], F_SETFL, 0);
        do
                if (read(fds[2], &c, 1) != 1)
                        return 94;
        while (c != 'x');
        return 0;
}

static void assert_back_to_baseline(unsigned long long ports_before, int fds_before);

static void run_attack(Attack *a) {
        Pair pair;
        attack = a;
        pair_start(&pair);
        long rss0 = broker_rss_kib();
        a->idle_p99 = pair_p99_us(&pair, 300);
        unsigned long long ports = broker_stat("ports");
        int fds = test_count_fds(fixture_broker.pid);
        int up[2], down[2];
        ck_assert_int_eq(pipe(up), 0);
        ck_assert_int_eq(pipe(down), 0);
        int pipes[4] = { up[0], up[1], down[0], down[1] };
        pid_t pid = test_fork(attacker, pipes);
        close(up[1]);
        close(down[0]);
        char c = 0;
        ck_assert_int_eq(read(up[0], &c, 1), 1);
        a->attack_p99 = pair_p99_us(&pair, 300);
        /* An attacker that died says how (not a SIGPIPE here). */
        signal(SIGPIPE, SIG_IGN);
        long counts[2];
        if (write(down[1], "s", 1) != 1 || read(up[0], counts, sizeof(counts)) != (ssize_t)sizeof(counts))
                ck_abort_msg("the attacker died: status %d", test_wait(pid));
        a->ok = counts[0];
        a->refused = counts[1];
        a->rss_peak_kib = broker_rss_kib() - rss0;
        a->broker_fds_peak = test_count_fds(fixture_broker.pid);
        a->ports_peak = (long)broker_stat("ports") - (long)ports;
        ck_assert_int_eq(write(down[1], "x", 1), 1);
        ck_assert_int_eq(test_wait(pid), 0);
        close(up[0]);
        close(down[1]);
        /* Still served after it all, and the attacker's task is reclaimed. */
        (void)pair_p99_us(&pair, 50);
        assert_back_to_baseline(ports, fds);
        pair_stop(&pair);
        fprintf(stderr, "  taken %ld, refused %ld; broker +%ld KiB at the peak, %d descriptors; "
                        "bystander RPC p99 %llu us idle, %llu us under attack (%.2fx)\n",
                a->ok, a->refused, a->rss_peak_kib, a->broker_fds_peak, (unsigned long long)a->idle_p99,
                (unsigned long long)a->attack_p99,
                a->idle_p99 ? (double)a->attack_p99 / (double)a->idle_p99 : 0.0);
}

/* The attacker is gone: its task reclaimed, the broker back where it was. */
static void assert_back_to_baseline(unsigned long long ports_before, int fds_before) {
        uint64_t deadline = test_now_ms() + 10000;
        while (test_count_fds(fixture_broker.pid) > fds_before && test_now_ms() < deadline)
                usleep(2000);
        ck_assert_int_le(test_count_fds(fixture_broker.pid), fds_before);
        while (broker_stat("ports") > ports_before && test_now_ms() < deadline)
                usleep(2000);
        ck_assert_uint_le(broker_stat("ports"), ports_before);
        if (rss_meaningful())
                malloc_trim(0);
}

/* --- 1. kernel replies and notifications queued unread --- */

static port_t sink;             /* the attacker's port it never reads */

static int setup_sink(void) {
        if (port_allocate(task_self(), &sink) != 0 || port_set_backlog(task_self(), sink, 8) != 0)
                return -1;
        return 0;
}

/* Many names, so that each port_names reply is large (32 KiB). */
static int setup_names_and_sink(void) {
        for (int i = 0; i < 4000; i++) {
                port_t p;
                if (port_allocate(task_self(), &p) != 0)
                        return -1;
        }
        return setup_sink();
}

/* A kernel call whose reply goes to @reply (made send-once from our receive right). */
static msg_return_t kcall_to(port_t kport, int32_t id, const uint32_t *args, uint32_t n, port_t reply) {
        struct {
                msg_header_t head;
                msg_type_t t;
                uint32_t args[4];
        } m;
        memset(&m, 0, sizeof(m));
        msg_type_init(&m.t, MSG_TYPE_INTEGER_32, n);
        if (n)
                memcpy(m.args, args, 4 * n);
        m.head.msg_size = sizeof(msg_header_t) + MSG_ITEM_SIZE(4 * n);
        m.head.msg_remote_port = kport;
        m.head.msg_local_port = reply;
        m.head.msg_id = id;
        m.head.msg_bits = MSG_BITS(MSG_TYPE_COPY_SEND, MSG_TYPE_MAKE_SEND_ONCE);
        return msg_send(&m.head, SEND_TIMEOUT, 0);
}

static int step_port_names(void) {
        uint32_t args[1] = { 0 };
        msg_return_t r = kcall_to(task_self(), KCALL_PORT_NAMES, args, 1, sink);
        return r == 0 ? 0 : r == SEND_NO_BUFFER ? 1 : -1;
}

START_TEST(test_kernel_replies_are_charged) {
        start((const char *const[]){ "--limit=task.names=10000", NULL });
        Attack a = { .setup = setup_names_and_sink, .step = step_port_names, .max_steps = 30000,
                     .refusals = true };
        run_attack(&a);
        /* 16 MiB of kernel replies at most, 32,000 bytes of names each: about 520, then
         * SEND_NO_BUFFER. */
        ck_assert_int_gt(a.refused, 0);
        ck_assert_int_le(a.ok, (16 << 20) / 32000 + 1);
        if (rss_meaningful())
                ck_assert_int_lt(a.rss_peak_kib, 64 << 10);
}
END_TEST

static port_t target;

static int setup_sink_and_target(void) {
        if (setup_sink() != 0 || port_allocate(task_self(), &target) != 0)
                return -1;
        return 0;
}

/* A no-senders request on a port without senders fires at once: one notification each. */
static int step_no_senders(void) {
        kern_return_t kr = port_request_notification(task_self(), target, NOTIFY_NO_SENDERS, 0, sink);
        return kr == 0 ? 0 : kr == KERN_RESOURCE_SHORTAGE ? 1 : -1;
}

START_TEST(test_notifications_are_charged) {
        start(NULL);
        Attack a = { .setup = setup_sink_and_target, .step = step_no_senders, .max_steps = 60000,
                     .refusals = true };
        run_attack(&a);
        /* kernel_messages: 16,384 per task. */
        ck_assert_int_gt(a.refused, 0);
        ck_assert_int_le(a.ok, 16384);
        if (rss_meaningful())
                ck_assert_int_lt(a.rss_peak_kib, 32 << 10);
}
END_TEST

/* Semaphores created and their only right given up: nothing must stay. */
static int step_semaphore(void) {
        semaphore_t sem;
        if (semaphore_create(task_self(), &sem, 0) != 0)
                return -1;
        return port_deallocate(task_self(), sem) == 0 ? 0 : -1;
}

START_TEST(test_semaphores_die_with_their_rights) {
        start(NULL);
        Attack a = { .step = step_semaphore, .max_steps = 5000 };
        run_attack(&a);
        ck_assert_int_eq(a.refused, 0);
        /* Every semaphore went with its last right, while its creator lived on: the
         * attacker's task holds just its own kernel, notify and reply ports. */
        ck_assert_int_le(a.ports_peak, 4);
}
END_TEST

START_TEST(test_semaphore_create_in_a_full_space) {
        start((const char *const[]){ "--limit=task.names=64", NULL });
        port_t p;
        kern_return_t kr;
        int made = 0;
        while ((kr = port_allocate(task_self(), &p)) == KERN_SUCCESS)
                ck_assert_int_lt(++made, 64);
        ck_assert_int_eq(kr, KERN_NO_SPACE);
        semaphore_t sem = 0x1234;
        ck_assert_int_eq(semaphore_create(task_self(), &sem, 1), KERN_NO_SPACE);
        ck_assert_uint_eq(sem, 0x1234);
        port_t shm = 0x1234;
        ck_assert_int_eq(machipc_shm_create(4096, &shm), KERN_NO_SPACE);
        ck_assert_uint_eq(shm, 0x1234);
}
END_TEST

/* --- 2. descriptors duplicated for replies --- */

static port_t region;

static int setup_region_and_sink(void) {
        if (setup_sink() != 0 || machipc_shm_create(4096, &region) != 0)
                return -1;
        return 0;
}

static int step_shm_map(void) {
        msg_return_t r = kcall_to(region, SHM_MAP, NULL, 0, sink);
        return r == 0 ? 0 : r == SEND_NO_BUFFER ? 1 : -1;
}

START_TEST(test_reply_descriptors_are_charged) {
        start(NULL);
        Attack a = { .setup = setup_region_and_sink, .step = step_shm_map, .max_steps = 20000,
                     .refusals = true };
        run_attack(&a);
        /* task.fds: 1,024 descriptors per task. */
        ck_assert_int_gt(a.refused, 0);
        ck_assert_int_le(a.ok, 1024);
        ck_assert_int_le(a.broker_fds_peak, fixture_fds + 1024 + 16);
        /* Others' regions still work meanwhile. */
        port_t mine;
        vm_address_t addr;
        vm_size_t size;
        ck_assert_int_eq(machipc_shm_create(8192, &mine), 0);
        ck_assert_int_eq(machipc_shm_map(mine, &addr, &size), 0);
        vm_deallocate(task_self(), addr, size);
        port_deallocate(task_self(), mine);
}
END_TEST

/* --- 3. a task's own broker socket, hidden in the broker's queues --- */

/* Our own connection to the broker: the socket whose peer is the broker's path. */
static msg_return_t send_fd(port_t dest, int fd) {
        struct {
                msg_header_t head;
                msg_type_t t;
                int32_t fd;
                int32_t pad;
        } m;
        memset(&m, 0, sizeof(m));
        msg_type_init(&m.t, MSG_TYPE_FD, 1);
        m.fd = fd;
        m.head.msg_size = sizeof(msg_header_t) + MSG_ITEM_SIZE(4);
        m.head.msg_remote_port = dest;
        return msg_send(&m.head, SEND_TIMEOUT, 0);
}

static int send_own_socket_and_exit(void *arg) {
        bool nested = *(bool *)arg;
        port_t p;
        if (port_allocate(task_self(), &p) != 0)
                return 1;
        int conn = raw_own_connection(fixture_broker.path);
        if (conn < 0)
                return 2;
        if (!nested)
                return send_fd(p, conn) == SEND_INVALID_MEMORY ? 0 : 3;
        /* Hide it one level down: in flight inside a socket pair whose other end we send. */
        int sp[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp) < 0)
                return 4;
        char ctl[CMSG_SPACE(sizeof(int))];
        memset(ctl, 0, sizeof(ctl));    /* the padding is sent too */
        char byte = 'x';
        struct iovec iov = { &byte, 1 };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
                             .msg_controllen = sizeof(ctl) };
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &conn, sizeof(int));
        if (sendmsg(sp[0], &mh, 0) != 1)
                return 5;
        if (send_fd(p, sp[1]) != 0)
                return 6;
        _exit(0);       /* no goodbye: the broker must notice the process is gone */
}

START_TEST(test_own_socket_cannot_pin_a_task) {
        const char *wrapper = getenv("MACHIPC_TEST_WRAPPER");
        if (wrapper && strstr(wrapper, "valgrind")) {
                /* The broker reclaims such a task through its pidfd; valgrind does not know pidfd_open. */
                printf("SKIP: test_own_socket_cannot_pin_a_task: the broker runs under valgrind, "
                       "which has no pidfd_open\n");
                return;
        }
        start((const char *const[]){ "--limit=uid.tasks=40", NULL });
        unsigned long long ports = broker_stat("ports");
        for (int round = 0; round < 2; round++) {
                bool nested = round == 1;
                for (int i = 0; i < 60; i++)
                        ck_assert_int_eq(test_wait(test_fork(send_own_socket_and_exit, &nested)), 0);
                /* Every one of them was reclaimed: more than the uid's 40 tasks came and went. */
                assert_back_to_baseline(ports, fixture_fds);
        }
        ck_assert_int_eq(test_wait(test_fork(send_own_socket_and_exit, &(bool){ false })), 0);
}
END_TEST

/* --- 5. connections that never say hello --- */

static int try_connect(void *arg) {
        (void)arg;
        int r = machipc_connect(NULL);
        return r == 0 ? 0 : r == -EUSERS ? 3 : 4;
}

START_TEST(test_silent_connections) {
        start((const char *const[]){ "--limit=uid.tasks=32", "--handshake-timeout=400", NULL });
        int silent[100];
        for (int i = 0; i < 100; i++)
                silent[i] = raw_connect(fixture_broker.path);
        /* They count against the uid: a real task is refused while they wait. */
        uint64_t deadline = test_now_ms() + 2000;
        int st;
        while ((st = test_wait(test_fork(try_connect, NULL))) == 0 && test_now_ms() < deadline)
                usleep(1000);
        ck_assert_int_eq(st, 3);
        /* Then the handshake deadline closes them, and tasks connect again. */
        deadline = test_now_ms() + 10000;
        while ((st = test_wait(test_fork(try_connect, NULL))) != 0 && test_now_ms() < deadline)
                usleep(20000);
        ck_assert_int_eq(st, 0);
        for (int i = 0; i < 100; i++) {
                /* Closed by the broker (those refused at once were told why first). */
                char buf[64];
                ssize_t n;
                while ((n = recv(silent[i], buf, sizeof(buf), 0)) > 0)
                        ;
                ck_assert_int_le(n, 0);
                close(silent[i]);
        }
        /* The last task that connected has exited; the broker sees it when it next reads. */
        deadline = test_now_ms() + 5000;
        while (test_count_fds(fixture_broker.pid) > fixture_fds && test_now_ms() < deadline)
                usleep(1000);
        ck_assert_int_le(test_count_fds(fixture_broker.pid), fixture_fds);
}
END_TEST

/* --- 6. CPU a task can cost the broker --- */

static port_t chain_head;
static int chain_len;

/* Ports in transit inside each other: the receive right of each travels to the next. */
static int step_chain(void) {
        port_t next;
        if (port_allocate(task_self(), &next) != 0)
                return -1;
        msg_return_t r = test_send_int(next, 1, 0, chain_head, MSG_TYPE_MOVE_RECEIVE, SEND_TIMEOUT, 0);
        if (r == SEND_TOO_LARGE) {
                port_deallocate(task_self(), next);
                return 1;       /* the chain can grow no more: its head stays ours */
        }
        if (r != 0)
                return -1;
        chain_head = next;
        chain_len++;
        return 0;
}

static int setup_chain(void) {
        chain_len = 0;
        return port_allocate(task_self(), &chain_head) == 0 ? 0 : -1;
}

START_TEST(test_transit_chains_are_bounded) {
        start(NULL);
        Attack a = { .setup = setup_chain, .step = step_chain, .max_steps = 4000, .refusals = true };
        run_attack(&a);
        /* 64 ports deep at most; every send after that is refused at once. */
        ck_assert_int_eq(a.ok, 64);
        ck_assert_int_gt(a.refused, 0);
}
END_TEST

static int setup_many_names(void) {
        for (int i = 0; i < 200000; i++) {
                port_t p;
                if (port_allocate(task_self(), &p) != 0)
                        return -1;
        }
        return 0;
}

static int step_info(void) {
        char *text = NULL;
        size_t len = 0;
        if (machipc_broker_info(&text, &len) != 0)
                return -1;
        /* The whole state came, page by page. */
        int ok = len > 200000 * 40 ? 0 : -1;
        free(text);
        return ok;
}

START_TEST(test_broker_info_is_paged) {
        start((const char *const[]){ "--limit=task.names=300000", "--limit=uid.names=400000", NULL });
        Attack a = { .setup = setup_many_names, .step = step_info, .max_steps = 100 };
        run_attack(&a);
        ck_assert_int_gt(a.ok, 0);
}
END_TEST

/* --- 7. another user pretending to be the broker --- */

static void unset_socket_env(void) {
        unsetenv(MACHIPC_SOCKET_ENV);
        machipc_disconnect();
}

START_TEST(test_untrusted_socket_directory) {
        /* The default path, in a directory others may write to: not trusted, either side. */
        char xdg[] = "/tmp/machipc-xdg-XXXXXX";
        ck_assert_ptr_nonnull(mkdtemp(xdg));
        setenv("XDG_RUNTIME_DIR", xdg, 1);
        unset_socket_env();
        char dir[64], path[100];
        snprintf(dir, sizeof(dir), "%.40s/machipc", xdg);
        snprintf(path, sizeof(path), "%.60s/socket", dir);
        ck_assert_int_eq(mkdir(dir, 0700), 0);
        ck_assert_int_eq(chmod(dir, 0777), 0);
        int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
        ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        ck_assert_int_eq(listen(fd, 4), 0);
        ck_assert_int_eq(machipc_connect(NULL), -EPERM);
        ck_assert_uint_eq(task_self(), PORT_NULL);
        /* A program says what is wrong. */
        char out[2048], cmd[512];
        snprintf(cmd, sizeof(cmd), "XDG_RUNTIME_DIR=%s %s 2>&1", xdg, getenv("MACHIPC_TEST_MACHIPCCTL"));
        ck_assert_int_eq(test_run_capture(cmd, out, sizeof(out)), 1);
        ck_assert_msg(strstr(out, "not trusted") != NULL, "machipcctl said: %s", out);
        close(fd);
        unlink(path);
        /* The broker refuses it too. */
        snprintf(cmd, sizeof(cmd), "XDG_RUNTIME_DIR=%s %s 2>&1", xdg, getenv("MACHIPC_TEST_BROKER"));
        ck_assert_int_eq(test_run_capture(cmd, out, sizeof(out)), 1);
        ck_assert_msg(strstr(out, "can be written by others") != NULL, "machipcd said: %s", out);
        rmdir(dir);
        rmdir(xdg);
        unsetenv("XDG_RUNTIME_DIR");
}
END_TEST

/* Another user (nobody) made the directory of our default path first, and listens there. */
START_TEST(test_impostor_broker) {
        if (getuid() != 0) {
                fprintf(stderr, "  (skipped: becoming another user needs root)\n");
                return;
        }
        const uid_t nobody = 65534;
        char xdg[] = "/tmp/machipc-xdg-XXXXXX";
        ck_assert_ptr_nonnull(mkdtemp(xdg));
        ck_assert_int_eq(chmod(xdg, 0777), 0);  /* like /tmp: anyone may make the directory first */
        setenv("XDG_RUNTIME_DIR", xdg, 1);
        unset_socket_env();
        char dir[64], path[100];
        snprintf(dir, sizeof(dir), "%.40s/machipc", xdg);
        snprintf(path, sizeof(path), "%.60s/socket", dir);
        int ready[2];
        ck_assert_int_eq(pipe(ready), 0);
        pid_t fake = fork();
        if (fake == 0) {
                if (setgid(nobody) < 0 || setuid(nobody) < 0)
                        _exit(1);
                if (mkdir(dir, 0700) < 0)
                        _exit(2);
                int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
                struct sockaddr_un sa = { .sun_family = AF_UNIX };
                snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
                if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4) < 0)
                        _exit(3);
                if (write(ready[1], "r", 1) != 1)
                        _exit(4);
                for (;;) {
                        int c = accept(fd, NULL, NULL);
                        if (c >= 0)
                                close(c);
                }
        }
        char c;
        ck_assert_int_eq(read(ready[0], &c, 1), 1);
        ck_assert_int_eq(machipc_connect(NULL), -EPERM);
        /* Our broker will not start in the impostor's directory either. */
        char out[2048], cmd[512];
        snprintf(cmd, sizeof(cmd), "XDG_RUNTIME_DIR=%s %s 2>&1", xdg, getenv("MACHIPC_TEST_BROKER"));
        ck_assert_int_eq(test_run_capture(cmd, out, sizeof(out)), 1);
        ck_assert_msg(strstr(out, "not to us") != NULL, "machipcd said: %s", out);
        kill(fake, SIGKILL);
        test_wait(fake);
        unlink(path);
        rmdir(dir);
        rmdir(xdg);
        unsetenv("XDG_RUNTIME_DIR");
}
END_TEST

/* --- 8. the name server and requests it rejects --- */

static int step_bad_netname(void) {
        port_t boot = PORT_NULL;
        if (task_get_bootstrap_port(task_self(), &boot) != 0)
                return -1;
        port_t mine;
        if (port_allocate(task_self(), &mine) != 0)
                return -1;
        /* A look-up with no name, carrying a send right and a send-once reply right:
         * the generated server answers MIG_BAD_ARGUMENTS and releases both. */
        TestIntMsg m;
        memset(&m, 0, sizeof(m));
        msg_type_init(&m.t, MSG_TYPE_INTEGER_32, 1);
        msg_type_init(&m.rt, MSG_TYPE_MAKE_SEND, 1);
        m.right = mine;
        m.head.msg_size = sizeof(m);
        m.head.msg_remote_port = boot;
        m.head.msg_local_port = mine;
        m.head.msg_id = NETNAME_MSG_LOOK_UP;
        m.head.msg_bits = MSG_BITS(MSG_TYPE_MOVE_SEND, MSG_TYPE_MAKE_SEND_ONCE);
        msg_return_t r = msg_rpc(&m.head, SEND_TIMEOUT | RCV_TIMEOUT, sizeof(m), 1000, 5000);
        port_deallocate(task_self(), mine);
        return r == 0 && m.head.msg_id == NETNAME_MSG_LOOK_UP + 100 && m.value == MIG_BAD_ARGUMENTS ? 0
                                                                                                        : -1;
}

/* The name server's names, from the broker's view of its task. */
static unsigned long names_of_task(pid_t pid) {
        char *text = NULL;
        ck_assert_int_eq(machipc_broker_info(&text, NULL), 0);
        char want[64];
        snprintf(want, sizeof(want), " pid %d ", (int)pid);
        char *p = strstr(text, want);
        ck_assert_ptr_nonnull(p);
        p = strstr(p, " names ");
        ck_assert_ptr_nonnull(p);
        unsigned long n = strtoul(p + 7, NULL, 10);
        free(text);
        return n;
}

START_TEST(test_nameserver_releases_rejected_rights) {
        start(NULL);
        const char *const none[] = { NULL };
        pid_t ns = test_spawn_ready(getenv("MACHIPC_TEST_NAMESERVER"), none);
        unsigned long before = names_of_task(ns);
        for (int i = 0; i < 2000; i++)
                ck_assert_int_eq(step_bad_netname(), 0);
        ck_assert_uint_le(names_of_task(ns), before + 2);
        port_t p, found;
        ck_assert_int_eq(port_allocate(task_self(), &p), 0);
        ck_assert_int_eq(netname_check_in(PORT_NULL, "still-works", PORT_NULL, p), NETNAME_SUCCESS);
        ck_assert_int_eq(netname_look_up(PORT_NULL, NULL, "still-works", &found), NETNAME_SUCCESS);
        ck_assert_uint_eq(found, p);
        ck_assert_int_eq(test_stop(ns), 0);
}
END_TEST

/* A request of id @id to @dest; the reply's id, or 0 if none came. */
static int32_t reply_id_to(port_t dest, int32_t id) {
        port_t reply;
        ck_assert_int_eq(port_allocate(task_self(), &reply), 0);
        struct {
                msg_header_t h;
                msg_type_t t;
                int32_t v[2];
        } m = { .h = { .msg_size = sizeof(m), .msg_remote_port = dest, .msg_local_port = reply, .msg_id = id,
                       .msg_bits = MSG_BITS(MSG_TYPE_COPY_SEND, MSG_TYPE_MAKE_SEND_ONCE) },
                .t = { MSG_TYPE_INTEGER_32, 0, 2 } };
        ck_assert_int_eq(msg_send(&m.h, SEND_TIMEOUT, 5000), 0);
        union {
                msg_header_t h;
                uint8_t b[4096];
        } r = { .h = { .msg_size = sizeof(r), .msg_local_port = reply } };
        int32_t got = msg_receive(&r.h, RCV_TIMEOUT, 5000) == 0 ? r.h.msg_id : 0;
        if (got)
                msg_destroy(&r.h);
        port_deallocate(task_self(), reply);
        return got;
}

/*
 * Any 32-bit id may come: the broker's kernel objects and a generated server
 * answer the largest with a reply id that wraps (id + 100), and nothing in
 * them overflows (the sanitizer build would stop the broker).
 */
START_TEST(test_extreme_message_ids) {
        start(NULL);
        const char *const none[] = { NULL };
        pid_t ns = test_spawn_ready(getenv("MACHIPC_TEST_NAMESERVER"), none);
        port_t boot, sem;
        ck_assert_int_eq(task_get_bootstrap_port(task_self(), &boot), KERN_SUCCESS);
        ck_assert_int_eq(semaphore_create(task_self(), &sem, 0), KERN_SUCCESS);
        const int32_t ids[] = { INT32_MAX, INT32_MAX - 99, INT32_MIN, -1 };
        for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
                int32_t want = (int32_t)((uint32_t)ids[i] + 100u);
                ck_assert_int_eq(reply_id_to(task_self(), ids[i]), want);      /* kernel port */
                ck_assert_int_eq(reply_id_to(sem, ids[i]), want);              /* a semaphore */
                ck_assert_int_eq(reply_id_to(boot, ids[i]), want);             /* a generated server */
        }
        ck_assert_int_eq(semaphore_destroy(task_self(), sem), KERN_SUCCESS);
        ck_assert_int_eq(test_stop(ns), 0);
}
END_TEST

static void hostile_teardown(void) {
        if (fixture_broker.pid > 0)
                fixture_teardown();
}

int main(void) {
        Suite *s = suite_create("Hostile tasks");
        TCase *tc = tcase_create("hostile");
        tcase_add_checked_fixture(tc, NULL, hostile_teardown);
        tcase_set_timeout(tc, 240);
        ADD_TEST(tc, test_kernel_replies_are_charged);
        ADD_TEST(tc, test_notifications_are_charged);
        ADD_TEST(tc, test_semaphores_die_with_their_rights);
        ADD_TEST(tc, test_semaphore_create_in_a_full_space);
        ADD_TEST(tc, test_reply_descriptors_are_charged);
        ADD_TEST(tc, test_own_socket_cannot_pin_a_task);
        ADD_TEST(tc, test_silent_connections);
        ADD_TEST(tc, test_transit_chains_are_bounded);
        ADD_TEST(tc, test_broker_info_is_paged);
        ADD_TEST(tc, test_untrusted_socket_directory);
        ADD_TEST(tc, test_impostor_broker);
        ADD_TEST(tc, test_nameserver_releases_rejected_rights);
        ADD_TEST(tc, test_extreme_message_ids);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
