/* SPDX-License-Identifier: MIT */
/*
 * classic.c - step 8: the classic mechanisms, one screen each: pipes, a
 * FIFO between unrelated processes, a POSIX message queue, signals, Unix
 * sockets, a memory-mapped file, shared memory with counting semaphores;
 * and step 9, the network
 */

#include <fcntl.h>
#include <mqueue.h>
#include <semaphore.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "tour.h"

extern char **environ;

static void pipes(void) {
        int down[2], up[2];
        if (pipe(down) < 0 || pipe(up) < 0)
                fail_now("pipe", -errno);
        pid_t pid = fork();
        if (pid == 0) {
                char buf[32] = "";
                close(down[1]);
                close(up[0]);
                ssize_t n = read(down[0], buf, sizeof(buf) - 1);
                /* A pipe is one way: the child's end cannot carry an answer back. */
                bool one_way = write(down[0], "x", 1) < 0;
                char answer[48];
                snprintf(answer, sizeof(answer), "%zd %s", n, one_way ? "one-way" : "two-way");
                _exit(write(up[1], answer, strlen(answer)) > 0 ? 0 : 1);
        }
        close(down[0]);
        close(up[1]);
        ssize_t w = write(down[1], "hello, child", 12);
        char answer[48] = "";
        ssize_t n = read(up[0], answer, sizeof(answer) - 1);
        close(down[1]);
        close(up[0]);
        int st = reap(pid);
        say("pipe: the parent writes 12 bytes, the child reads them; writing into the read end fails; a second");
        say("pipe carries the answer back (\"%s\"). Only a child, which inherits the descriptors, can use it.",
            n > 0 ? answer : "");
        check(w == 12 && n > 0 && strncmp(answer, "12 one-way", 10) == 0 && st == 0,
              "an ordinary pipe is one-way and needs a parent-child relation; two pipes make it duplex");
}

static void fifo(void) {
        char dir[] = "/tmp/machipc-tour.XXXXXX", path[64];
        if (!mkdtemp(dir))
                fail_now("mkdtemp", -errno);
        snprintf(path, sizeof(path), "%s/fifo", dir);
        mkfifo(path, 0600);
        /* An unrelated program (a shell started afresh) finds the FIFO by its name. */
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "echo 'from an unrelated process' > %s", path);
        char *argv[] = { "sh", "-c", cmd, NULL };
        pid_t pid;
        int r = posix_spawn(&pid, "/bin/sh", NULL, NULL, argv, environ);
        int fd = open(path, O_RDONLY);
        char buf[64] = "";
        ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
        if (fd >= 0)
                close(fd);
        int st = r == 0 ? reap(pid) : -1;
        unlink(path);
        rmdir(dir);
        buf[strcspn(buf, "\n")] = '\0';
        say("FIFO: mkfifo %s; /bin/sh, started separately, writes to it by name; we read \"%s\"", path, buf);
        check(n > 0 && strcmp(buf, "from an unrelated process") == 0 && st == 0,
              "a named pipe lets unrelated processes communicate through the file system's name");
}

static void mqueue(void) {
        char name[64];
        snprintf(name, sizeof(name), "/machipc-tour-%d", (int)getpid());
        struct mq_attr attr = { .mq_maxmsg = 4, .mq_msgsize = 32 };
        mqd_t q = mq_open(name, O_CREAT | O_RDWR, 0600, &attr);
        if (q == (mqd_t)-1) {
                say("POSIX message queue: unavailable here (%s)", strerror(errno));
                return;
        }
        pid_t pid = fork();
        if (pid == 0) {
                mqd_t c = mq_open(name, O_WRONLY);
                bool ok = c != (mqd_t)-1 && mq_send(c, "low", 4, 1) == 0 && mq_send(c, "high", 5, 9) == 0;
                _exit(ok ? 0 : 1);
        }
        int st = reap(pid);
        char a[32] = "", b[32] = "";
        unsigned pa = 0, pb = 0;
        mq_receive(q, a, sizeof(a), &pa);
        mq_receive(q, b, sizeof(b), &pb);
        mq_close(q);
        mq_unlink(name);
        say("POSIX message queue %s: the child sends \"low\" (priority 1) then \"high\" (9); we receive \"%s\" "
            "then \"%s\"", name, a, b);
        check(st == 0 && strcmp(a, "high") == 0 && strcmp(b, "low") == 0,
              "a message queue keeps message boundaries, and priorities order it");
}

static volatile sig_atomic_t usr1;

static void on_usr1(int sig) {
        (void)sig;
        usr1++;
}

/* In a process of its own: block SIGUSR1, have a child send it five times, unblock, count. */
static int count_usr1(void *arg) {
        (void)arg;
        struct sigaction sa = { .sa_handler = on_usr1 };
        sigaction(SIGUSR1, &sa, NULL);
        sigset_t block, old;
        sigemptyset(&block);
        sigaddset(&block, SIGUSR1);
        sigprocmask(SIG_BLOCK, &block, &old);
        usr1 = 0;
        pid_t me = getpid();
        pid_t pid = fork();
        if (pid == 0) {
                for (int i = 0; i < 5; i++)
                        kill(me, SIGUSR1);
                _exit(0);
        }
        if (reap(pid) != 0)
                return 100;
        sigprocmask(SIG_SETMASK, &old, NULL);   /* the pending one is delivered now */
        return usr1;
}

static void signals(void) {
        int got = reap(spawn(count_usr1, NULL));
        say("signals: a child sends SIGUSR1 five times while its parent blocks it; the parent then receives it "
            "%d time(s)", got);
        check(got == 1, "a signal is a one-way event with no data: pending signals of one kind merge into one");
}

static void sockets(void) {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
                fail_now("socketpair", -errno);
        pid_t pid = fork();
        if (pid == 0) {
                char buf[16] = "";
                close(sv[0]);
                ssize_t n = read(sv[1], buf, sizeof(buf));
                _exit(n == 4 && write(sv[1], "pong", 4) == 4 ? 0 : 1);
        }
        close(sv[1]);
        char buf[16] = "";
        ssize_t w = write(sv[0], "ping", 4);
        ssize_t n = read(sv[0], buf, sizeof(buf) - 1);
        close(sv[0]);
        int st = reap(pid);
        say("Unix socket: \"ping\" one way and \"%s\" back on the same connection", buf);
        check(w == 4 && n == 4 && strcmp(buf, "pong") == 0 && st == 0, "a socket is a two-way connection");
}

static void mapped_file(void) {
        char path[] = "/tmp/machipc-tour-map.XXXXXX";
        int fd = mkstemp(path);
        if (fd < 0 || ftruncate(fd, 4096) < 0)
                fail_now("mkstemp", -errno);
        char *map = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        pid_t pid = fork();
        if (pid == 0) {
                int cfd = open(path, O_RDWR);
                char *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, cfd, 0);
                if (m == MAP_FAILED)
                        _exit(1);
                strcpy(m, "written through the child's mapping");
                _exit(0);
        }
        int st = reap(pid);
        say("memory-mapped file %s: the child maps it and writes; our own mapping shows \"%s\"", path, map);
        check(st == 0 && strcmp(map, "written through the child's mapping") == 0,
              "processes that map the same file share its pages (no read or write calls)");
        munmap(map, 4096);
        close(fd);
        unlink(path);
}

static void shm_semaphores(void) {
        char shm[64], sem_full[64], sem_empty[64];
        snprintf(shm, sizeof(shm), "/machipc-tour-%d", (int)getpid());
        snprintf(sem_full, sizeof(sem_full), "/machipc-tour-%d-full", (int)getpid());
        snprintf(sem_empty, sizeof(sem_empty), "/machipc-tour-%d-empty", (int)getpid());
        int fd = shm_open(shm, O_CREAT | O_RDWR, 0600);
        if (fd < 0 || ftruncate(fd, 4096) < 0)
                fail_now("shm_open", -errno);
        int *ring = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        close(fd);
        sem_t *full = sem_open(sem_full, O_CREAT, 0600, 0), *empty = sem_open(sem_empty, O_CREAT, 0600, 4);
        int n = count(10000, 1000);
        pid_t pid = fork();
        if (pid == 0) {
                sem_t *f = sem_open(sem_full, 0), *e = sem_open(sem_empty, 0);
                int cfd = shm_open(shm, O_RDWR, 0);
                int *r = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, cfd, 0);
                long sum = 0;
                for (int i = 0; i < n; i++) {
                        sem_wait(f);
                        sum += r[i % 4];
                        sem_post(e);
                }
                _exit(sum == (long)n * (n + 1) / 2 ? 0 : 1);
        }
        for (int i = 1; i <= n; i++) {
                sem_wait(empty);
                ring[(i - 1) % 4] = i;
                sem_post(full);
        }
        int st = reap(pid);
        sem_close(full);
        sem_close(empty);
        sem_unlink(sem_full);
        sem_unlink(sem_empty);
        munmap(ring, 4096);
        shm_unlink(shm);
        say("POSIX shared memory %s, 4 slots, counting semaphores empty (4) and full (0): %d items", shm, n);
        check(st == 0, "shared memory with counting semaphores: a bounded buffer with no lost item");
}

void step_classic(void) {
        pipes();
        fifo();
        mqueue();
        signals();
        sockets();
        mapped_file();
        shm_semaphores();
        say("(machipc-bench --only textbook times each of them beside machipc)");
}

void step_network(void) {
        port_t p = PORT_NULL;
        kern_return_t kr = netname_look_up(PORT_NULL, "another-host", "echo", &p);
        say("netname_look_up(PORT_NULL, \"another-host\", \"echo\", &port): %s", machipc_strerror(kr));
        if (kr == NETNAME_NO_SUCH_HOST) {
                say("no machipc-netmsgd runs beside this broker, so no other host is reachable. Started on each");
                say("host (doc/netmsg.md), it makes this very call reach the other host's name server, and a");
                say("proxy port here stands for the port there: the same programs work unchanged.");
        } else {
                say("a machipc-netmsgd runs here: \"another-host\" is simply not one it is connected to");
        }
        check(kr == NETNAME_NO_SUCH_HOST || kr == NETNAME_HOST_NOT_FOUND,
              "a name on a host that cannot be reached is refused clearly (NETNAME_NO_SUCH_HOST or _HOST_NOT_FOUND)");
}
