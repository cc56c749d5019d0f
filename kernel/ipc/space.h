#pragma once
/* SPDX-License-Identifier: MIT */
/* space.h - a task's port name space: names -> rights */

#include <stdbool.h>
#include <stdint.h>
#include "idmap.h"

typedef struct Account Account;
typedef struct Kmsg Kmsg;
typedef struct Port Port;
typedef struct Space Space;
typedef struct DeadNameReq DeadNameReq;

/* Right bits of an entry (same values as PORT_TYPE_* in machipc/port.h). */
#define ENTRY_SEND 0x1u
#define ENTRY_RECEIVE 0x2u
#define ENTRY_SEND_ONCE 0x4u
#define ENTRY_PORT_SET 0x8u
#define ENTRY_DEAD_NAME 0x10u

/*
 * A name is (slot index << SPACE_GEN_BITS) | generation, generation
 * 1..SPACE_GEN_MAX.  A freed slot goes to the tail of a FIFO and comes back
 * with the next generation, so a deallocated name denotes nothing until its
 * slot has been handed out SPACE_GEN_MAX more times, and every other free slot
 * is used before it once.  The last slot is never used, so that no name is
 * PORT_DEAD (all ones).
 */
#define SPACE_GEN_BITS 10u
#define SPACE_GEN_MAX ((1u << SPACE_GEN_BITS) - 1u)
#define SPACE_NAME_INDEX(name) ((name) >> SPACE_GEN_BITS)
#define SPACE_NAME_GEN(name) ((name) & SPACE_GEN_MAX)

#define SPACE_NAMES_DEFAULT 65536u
#define SPACE_NAMES_MAX ((1u << (32u - SPACE_GEN_BITS)) - 2u)
#define SPACE_UREFS_MAX 65535u

enum {
        SPACE_E_NO_SPACE = 1,   /* no free name within the quota */
};

/* 32 bytes: a broker holds millions. */
typedef struct SpaceEntry {
        union {
                Port *port;     /* in use: the port or set; one reference */
                struct {        /* free: neighbours in the FIFO of free slots (0: none) */
                        uint32_t next_free;
                        uint32_t prev_free;
                };
        };
        DeadNameReq *dnreq;     /* a dead-name request on this name, or NULL */
        uint32_t name;          /* 0: slot free */
        uint32_t scratch_epoch; /* copy-in accounting, valid while == space->epoch */
        uint16_t urefs;         /* user references of a send right, send-once right or dead
                                 * name (<= SPACE_UREFS_MAX; a live send-once right has 1) */
        uint16_t scratch_moves;
        uint16_t gen;           /* the generation of the slot's last name */
        uint8_t bits;           /* ENTRY_* */
        uint8_t scratch_flags;
} SpaceEntry;

struct Space {
        SpaceEntry *entries;
        uint32_t n_slots;
        uint32_t n_used;
        uint32_t free_head;     /* FIFO of free slots; 0: none (slot 0 is never used) */
        uint32_t free_tail;
        uint32_t max_names;
        uint32_t epoch;
        IdMap by_port;           /* Port -> name holding its send/receive rights */
        void *owner;            /* the Peer */
        Account *acct_task;     /* names are counted here (may be NULL) */
        Account *acct_uid;
        Kmsg *pending_notify;   /* the SEND_NOTIFY message left with the broker */
};

int space_new(Space **spacep, void *owner, uint32_t max_names);
void space_free(Space *space);
SpaceEntry *space_lookup(Space *space, uint32_t name);
int space_alloc(Space *space, Port *port, uint32_t bits, SpaceEntry **entryp);
int space_alloc_name(Space *space, Port *port, uint32_t bits, uint32_t name, SpaceEntry **entryp);
void space_dealloc(Space *space, SpaceEntry *e);
SpaceEntry *space_find_port(Space *space, const Port *port);
int space_index_port(Space *space, SpaceEntry *e);
uint32_t space_entry_type(const SpaceEntry *e);
void space_validate(const Space *space);
