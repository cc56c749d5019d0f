#pragma once
/* SPDX-License-Identifier: MIT */
/* bench.h - what the sections of machipc-bench share */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <mqueue.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <machipc/machipc.h>

#ifndef MACHIPCD_PATH
#define MACHIPCD_PATH "machipcd"
#endif

typedef struct {
        bool quick;
        bool json;
        int iters;
        int runs;
        const char *broker;
        char dir[64];
        char sock[128];
        pid_t broker_pid;
        port_t boot;
} BenchOptions;

extern BenchOptions opt;

typedef struct {
        char name[64];
        double median_us;
        double p99_us;
        double value;           /* throughput, bytes, ... */
        const char *unit;
} Result;

#define RESULTS_MAX 128
#define RUNS_MAX 16
extern Result results[RESULTS_MAX];
extern int n_results;
extern Result all_runs[RUNS_MAX][RESULTS_MAX];
extern int all_n[RUNS_MAX];

typedef struct {
        msg_header_t head;
        msg_type_t t;
        uint8_t data[4096];
} Msg;

/* Inline chunks: as large as a message may be. */
typedef struct {
        msg_header_t head;
        msg_type_t t;
        uint8_t data[MSG_SIZE_MAX - sizeof(msg_header_t) - sizeof(msg_type_t)];
} BigMsg;

enum { ID_HELLO = 1, ID_CALL, ID_STOP, ID_ONE };

Result *result(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const Result *find(const char *name);
double now_s(void);
int cmp_double(const void *a, const void *b);
void summarize(Result *r, double *s, int n);
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void progress(const char *what);
pid_t child(int (*fn)(void *), void *arg);
void reap(pid_t pid);
void start_broker(void);
void stop_broker(void);
long rss_kib(pid_t pid);
void announce(port_t port, int32_t tag);
port_t learn(int32_t *tagp);
void send_id(port_t dest, int32_t id);

/* Shared by several sections. */
int rpc_server(void *arg);
void rpc_measure(port_t svc, size_t bytes, int iters, Result *r);
void rpc_samples(port_t svc, size_t bytes, int iters, double *s);
void pingpong(int wfd, int rfd, size_t bytes, int iters, Result *r);
void echo_loop(int rfd, int wfd) __attribute__((noreturn));
void relay_loop(int a, int b) __attribute__((noreturn));

/* The sections. */
void bench_rpc(void);
void bench_socketpair(void);
void bench_relay(void);
void bench_dbus(void);
void bench_oneway(int senders);
void bench_relay_stream(int senders);
void bench_ool(size_t size);
void bench_scale(void);
void bench_textbook(void);
void bench_hostile(void);
void bench_loop(void);
void bench_mig(void);
void bench_monitor(void);
void bench_net(void);
