#pragma once
/* SPDX-License-Identifier: MIT */
/* frame.h - the frames netmsgd instances exchange (doc/netmsg.md): encoding and checked decoding */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define NM_VERSION_MAJOR 1
#define NM_VERSION_MINOR 1      /* 1.1: NM_RELEASE says how many references to the id it saw */
#define NM_HDR_SIZE 8u
#define NM_FRAME_MAX (2u << 20)         /* body bytes of one frame at most */
#define NM_INLINE_REGION_MAX (16u << 10)  /* a region up to this travels in its NM_MSG; larger ones follow
                                           * it in NM_DATA frames of NM_CHUNK bytes */
#define NM_CHUNK (1u << 20)
#define NM_MSG_OOL_MAX (1ull << 30)     /* region bytes of one message at most */
#define NM_HOST_MAX 255u
#define NM_NAME_MAX 127u

enum {
        NM_HELLO = 1,           /* u16 major, u16 minor, u16 host length, host */
        NM_MSG = 2,             /* u64 dest, i32 id, ref reply, u32 items length, items */
        NM_RELEASE = 3,         /* u64 id: the sender holds no proxy for the receiver's export any more */
        NM_DEAD = 4,            /* u64 id: the sender's export died */
        NM_LOOKUP = 5,          /* u32 request, u16 name length, name */
        NM_LOOKUP_REPLY = 6,    /* u32 request, i32 code, ref port */
        NM_ONCE_GONE = 7,       /* u64 id: the send-once proxy for the receiver's export went unused */
        NM_PING = 8,            /* nothing: the sender is alive */
        NM_CREDIT = 9,          /* u64 id, u32 n: n more messages for the sender's export id may come */
        NM_DATA = 10,           /* the next bytes of the previous NM_MSG's large regions */
};

/* A right in a frame. */
enum { NM_REF_NULL = 0, NM_REF_SEND = 1, NM_REF_SEND_ONCE = 2, NM_REF_DEAD = 3, NM_REF_RECEIVE = 4 };
#define NM_MIGRATED (1ull << 63)        /* ids of ports that moved here: chosen by the host they left */
enum { NM_SIDE_SENDER = 0, NM_SIDE_RECEIVER = 1 };     /* whose export the id is */
#define NM_REF_SIZE 10u

typedef struct {
        uint8_t kind;
        uint8_t side;
        uint64_t id;
} NmRef;

typedef struct {
        const uint8_t *p;
        const uint8_t *end;
        bool bad;
} NmReader;

typedef struct {
        uint8_t *buf;
        size_t len, cap;
        bool oom;
} NmWriter;

/* Frames: the header, then the body. */
int nm_frame_next(const uint8_t *buf, size_t avail, uint16_t *type, const uint8_t **body, uint32_t *len);

void nm_reader_init(NmReader *r, const uint8_t *p, size_t len);
uint8_t nm_u8(NmReader *r);
uint16_t nm_u16(NmReader *r);
uint32_t nm_u32(NmReader *r);
uint64_t nm_u64(NmReader *r);
const uint8_t *nm_bytes(NmReader *r, size_t n);
NmRef nm_ref(NmReader *r);

void nm_writer_init(NmWriter *w);
void nm_writer_free(NmWriter *w);
void nm_put_u8(NmWriter *w, uint8_t v);
void nm_put_u16(NmWriter *w, uint16_t v);
void nm_put_u32(NmWriter *w, uint32_t v);
void nm_put_u64(NmWriter *w, uint64_t v);
void nm_put_bytes(NmWriter *w, const void *p, size_t n);
void nm_put_ref(NmWriter *w, NmRef ref);
size_t nm_begin(NmWriter *w, uint16_t type);
void nm_end(NmWriter *w, size_t start);
void nm_header(uint8_t out[NM_HDR_SIZE], uint16_t type, uint32_t len);

/* The element size of a data item's type, or 0 for types that are not plain data. */
uint32_t nm_elem_size(uint16_t type);
bool nm_is_port_type(uint16_t type);
uint8_t nm_port_class(uint16_t type);

/* Walk the items of an NM_MSG: each data item, port item and region checked against the frame. */
typedef struct {
        uint16_t type;
        uint16_t flags;
        uint32_t number;
        const uint8_t *data;    /* data items: number * elem bytes */
} NmItem;

int nm_items_check(const uint8_t *items, uint32_t len, uint32_t *n_refs, uint64_t *ool_bytes,
                   uint64_t *streamed);
