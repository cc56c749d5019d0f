/* SPDX-License-Identifier: MIT */
/* common.c - machipc-bench: results, processes, the private broker, announcing ports */

#include "bench.h"

BenchOptions opt;

/* ---- results ---- */

Result results[RESULTS_MAX];
int n_results;

/* With --runs N, every run's results are kept here and the report takes medians. */
Result all_runs[RUNS_MAX][RESULTS_MAX];
int all_n[RUNS_MAX];

Result *result(const char *fmt, ...) {
        Result *r = &results[n_results++];
        memset(r, 0, sizeof(*r));
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->name, sizeof(r->name), fmt, ap);
        va_end(ap);
        return r;
}

const Result *find(const char *name) {
        for (int i = 0; i < n_results; i++)
                if (strcmp(results[i].name, name) == 0)
                        return &results[i];
        return NULL;
}

double now_s(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int cmp_double(const void *a, const void *b) {
        double x = *(const double *)a, y = *(const double *)b;
        return x < y ? -1 : x > y;
}

/* Median and 99th percentile of @n samples (seconds) into @r, in microseconds. */
void summarize(Result *r, double *s, int n) {
        qsort(s, (size_t)n, sizeof(double), cmp_double);
        r->median_us = s[n / 2] * 1e6;
        r->p99_us = s[(int)((double)n * 0.99)] * 1e6;
}

void die(const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "machipc-bench: ");
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, "\n");
        if (opt.broker_pid > 0)
                kill(opt.broker_pid, SIGTERM);
        exit(1);
}

void progress(const char *what) {
        if (!opt.json)
                fprintf(stderr, "  measuring %s...\n", what);
}

/* ---- processes ---- */

pid_t child(int (*fn)(void *), void *arg) {
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0)
                die("fork: %s", strerror(errno));
        if (pid == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                int r = fn(arg);
                machipc_disconnect();
                _exit(r);
        }
        return pid;
}

void reap(pid_t pid) {
        int st;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
                ;
}

void start_broker(void) {
        snprintf(opt.dir, sizeof(opt.dir), "/tmp/machipc-bench-XXXXXX");
        if (!mkdtemp(opt.dir))
                die("mkdtemp: %s", strerror(errno));
        snprintf(opt.sock, sizeof(opt.sock), "%s/socket", opt.dir);
        int fds[2];
        if (pipe(fds) < 0)
                die("pipe");
        pid_t pid = fork();
        if (pid == 0) {
                char ready[32];
                snprintf(ready, sizeof(ready), "--ready-fd=%d", fds[1]);
                close(fds[0]);
                prctl(PR_SET_PDEATHSIG, SIGTERM);
                execlp(opt.broker, opt.broker, "-q", "-s", opt.sock, ready, "--max-tasks=4096",
                       "--limit=uid.tasks=4096", "--limit=task.names=2000000",
                       "--limit=uid.names=4000000", (char *)NULL);
                _exit(127);
        }
        close(fds[1]);
        char buf[16] = { 0 };
        if (read(fds[0], buf, 8) != 8 || strncmp(buf, "READY=1\n", 8) != 0)
                die("cannot start the broker (%s); use --broker PATH", opt.broker);
        close(fds[0]);
        opt.broker_pid = pid;
        setenv(MACHIPC_SOCKET_ENV, opt.sock, 1);
        if (machipc_connect(opt.sock) != 0)
                die("cannot connect to the broker");
        if (port_allocate(task_self(), &opt.boot) || port_set_backlog(task_self(), opt.boot, 1024) ||
            machipc_set_bootstrap_port(opt.boot))
                die("cannot set up the bootstrap port");
}

void stop_broker(void) {
        machipc_disconnect();
        kill(opt.broker_pid, SIGTERM);
        reap(opt.broker_pid);
        rmdir(opt.dir);
}

long rss_kib(pid_t pid) {
        char path[64], line[256];
        snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
        FILE *f = fopen(path, "r");
        long kib = -1;
        while (f && fgets(line, sizeof(line), f))
                if (sscanf(line, "VmRSS: %ld", &kib) == 1)
                        break;
        if (f)
                fclose(f);
        return kib;
}

/* ---- messages ---- */


/* A task announces @port to the bootstrap port (with @tag) and returns. */
void announce(port_t port, int32_t tag) {
        port_t boot = PORT_NULL;
        if (task_get_bootstrap_port(task_self(), &boot) || !boot)
                _exit(90);
        struct {
                msg_header_t head;
                msg_type_t t;
                int32_t tag;
                int32_t pad;
                msg_type_t rt;
                port_t p;
                uint32_t pad2;
        } m = { .head = { .msg_size = sizeof(m), .msg_remote_port = boot, .msg_id = ID_HELLO },
                .t = { MSG_TYPE_INTEGER_32, 0, 1 }, .tag = tag, .rt = { MSG_TYPE_MAKE_SEND, 0, 1 }, .p = port };
        if (msg_send(&m.head, 0, 0))
                _exit(91);
}

/* The parent learns a child's port. */
port_t learn(int32_t *tagp) {
        struct {
                msg_header_t head;
                msg_type_t t;
                int32_t tag;
                int32_t pad;
                msg_type_t rt;
                port_t p;
                uint32_t pad2;
        } m;
        memset(&m, 0, sizeof(m));
        m.head.msg_size = sizeof(m);
        m.head.msg_local_port = opt.boot;
        if (msg_receive(&m.head, RCV_TIMEOUT, 60000))
                die("a task did not start");
        if (tagp)
                *tagp = m.tag;
        return m.p;
}

void send_id(port_t dest, int32_t id) {
        msg_header_t h = { .msg_size = sizeof(h), .msg_remote_port = dest, .msg_id = id };
        msg_send(&h, SEND_TIMEOUT, 5000);
}
