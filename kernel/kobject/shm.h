#pragma once
/* SPDX-License-Identifier: MIT */
/* shm.h - shared regions behind ports, found by name */

#include <stdint.h>

typedef struct Kmsg Kmsg;
typedef struct Port Port;

typedef struct Shm {
        Port *port;             /* its kernel port; one reference */
        int fd;                 /* the memfd, shared writable */
        uint64_t size;
} Shm;

int shm_new(Shm **shmp, int fd, uint64_t size);
void shm_destroy(Shm *shm);
void shm_server(Kmsg *request);
