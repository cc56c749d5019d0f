#pragma once
/* SPDX-License-Identifier: MIT */
/* tour.h - what every step of machipc-tour shares: output, checks, tasks, small messages */

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <machipc/machipc.h>

typedef struct {
        const char *name;       /* what the reader types: machipc-tour NAME */
        const char *title;
        const char *textbook;   /* what the textbook says, two or three sentences */
        void (*run)(void);
} Step;

extern bool tour_short;         /* --short: fewer items, the same checks */

/* Output: what happened (indented), a checked claim, a measured figure. */
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
bool check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void measured(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fail_now(const char *what, int code) __attribute__((noreturn));

/* A child process that is a task of its own: runs @fn, exits with what it returns. */
pid_t spawn(int (*fn)(void *), void *arg);
/* Its exit status, or 128 + the signal that killed it. */
int reap(pid_t pid);
double now_us(void);
/* Items for a step: @full normally, @small with --short. */
int count(int full, int small);

/* A port of ours, with a backlog. */
port_t new_port(uint32_t backlog);
/* Publish @port under "tour-PID-@what" / find what @pid published (waits up to 10 s). */
void publish(port_t port, const char *what);
port_t find(pid_t pid, const char *what);
void unpublish(const char *what);

/* A message of one INTEGER_32 (and optionally one right). */
msg_return_t send_int(port_t dest, int32_t id, int32_t value, port_t right, uint16_t disp, msg_option_t opt,
                      msg_timeout_t timeout);
msg_return_t recv_int(port_t port, int32_t *id, int32_t *value, port_t *right, msg_option_t opt,
                      msg_timeout_t timeout);

/* The steps, one file per part of the chapter. */
void step_spaces(void);
void step_models(void);
void step_naming(void);
void step_ownership(void);
void step_sync(void);
void step_buffering(void);
void step_mach(void);
void step_classic(void);
void step_network(void);
int tour_measure(void);
int tour_inner(int argc, char **argv);
