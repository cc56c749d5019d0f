/* SPDX-License-Identifier: MIT */
/*
 * frame.c - netmsgd's frames: a little-endian length-prefixed codec with a
 * reader that never reads past what it was given (every decode is checked;
 * a malformed frame closes the connection, it cannot crash the daemon)
 */

#include <stdlib.h>
#include <string.h>
#include <machipc/types.h>
#include "frame.h"
#include "wire.h"

static uint32_t get32(const uint8_t *p) {
        return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/**
 * nm_frame_next() - the frame at the start of @buf
 * Return: bytes it takes (header and body), 0 if more bytes are needed, -1
 * if it is malformed (a body over NM_FRAME_MAX, a reserved field set).
 */
int nm_frame_next(const uint8_t *buf, size_t avail, uint16_t *type, const uint8_t **body, uint32_t *len) {
        if (avail < NM_HDR_SIZE)
                return 0;
        uint32_t n = get32(buf);
        if (n > NM_FRAME_MAX || buf[6] || buf[7])
                return -1;
        if (avail < NM_HDR_SIZE + (size_t)n)
                return 0;
        *type = (uint16_t)(buf[4] | buf[5] << 8);
        *body = buf + NM_HDR_SIZE;
        *len = n;
        return (int)(NM_HDR_SIZE + n);
}

void nm_reader_init(NmReader *r, const uint8_t *p, size_t len) {
        r->p = p;
        r->end = p + len;
        r->bad = false;
}

const uint8_t *nm_bytes(NmReader *r, size_t n) {
        if (r->bad || (size_t)(r->end - r->p) < n) {
                r->bad = true;
                return NULL;
        }
        const uint8_t *p = r->p;
        r->p += n;
        return p;
}

uint8_t nm_u8(NmReader *r) {
        const uint8_t *p = nm_bytes(r, 1);
        return p ? p[0] : 0;
}

uint16_t nm_u16(NmReader *r) {
        const uint8_t *p = nm_bytes(r, 2);
        return p ? (uint16_t)(p[0] | p[1] << 8) : 0;
}

uint32_t nm_u32(NmReader *r) {
        const uint8_t *p = nm_bytes(r, 4);
        return p ? get32(p) : 0;
}

uint64_t nm_u64(NmReader *r) {
        const uint8_t *p = nm_bytes(r, 8);
        return p ? (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32 : 0;
}

NmRef nm_ref(NmReader *r) {
        NmRef ref;
        ref.kind = nm_u8(r);
        ref.side = nm_u8(r);
        ref.id = nm_u64(r);
        if (ref.kind > NM_REF_RECEIVE || ref.side > NM_SIDE_RECEIVER ||
            (ref.kind == NM_REF_RECEIVE && (ref.side != NM_SIDE_SENDER || !(ref.id & NM_MIGRATED))))
                r->bad = true;
        return ref;
}

void nm_writer_init(NmWriter *w) {
        memset(w, 0, sizeof(*w));
}

void nm_writer_free(NmWriter *w) {
        free(w->buf);
        memset(w, 0, sizeof(*w));
}

void nm_put_bytes(NmWriter *w, const void *p, size_t n) {
        if (w->oom)
                return;
        if (w->len + n > w->cap) {
                size_t cap = w->cap ? w->cap : 256;
                while (cap < w->len + n)
                        cap *= 2;
                uint8_t *b = realloc(w->buf, cap);
                if (!b) {
                        w->oom = true;
                        return;
                }
                w->buf = b;
                w->cap = cap;
        }
        if (n)
                memcpy(w->buf + w->len, p, n);
        w->len += n;
}

void nm_put_u8(NmWriter *w, uint8_t v) {
        nm_put_bytes(w, &v, 1);
}

void nm_put_u16(NmWriter *w, uint16_t v) {
        uint8_t b[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
        nm_put_bytes(w, b, 2);
}

void nm_put_u32(NmWriter *w, uint32_t v) {
        uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
        nm_put_bytes(w, b, 4);
}

void nm_put_u64(NmWriter *w, uint64_t v) {
        nm_put_u32(w, (uint32_t)v);
        nm_put_u32(w, (uint32_t)(v >> 32));
}

void nm_put_ref(NmWriter *w, NmRef ref) {
        nm_put_u8(w, ref.kind);
        nm_put_u8(w, ref.side);
        nm_put_u64(w, ref.id);
}

/* Start a frame of @type; nm_end() fills in its length.  Return: where it starts. */
size_t nm_begin(NmWriter *w, uint16_t type) {
        size_t start = w->len;
        nm_put_u32(w, 0);
        nm_put_u16(w, type);
        nm_put_u16(w, 0);
        return start;
}

/* nm_header() - a frame's header alone, for a body of @len bytes written after it some other way. */
void nm_header(uint8_t out[NM_HDR_SIZE], uint16_t type, uint32_t len) {
        uint8_t b[NM_HDR_SIZE] = { (uint8_t)len, (uint8_t)(len >> 8), (uint8_t)(len >> 16), (uint8_t)(len >> 24),
                                   (uint8_t)type, (uint8_t)(type >> 8), 0, 0 };
        memcpy(out, b, NM_HDR_SIZE);
}

void nm_end(NmWriter *w, size_t start) {
        if (w->oom)
                return;
        uint32_t n = (uint32_t)(w->len - start - NM_HDR_SIZE);
        uint8_t b[4] = { (uint8_t)n, (uint8_t)(n >> 8), (uint8_t)(n >> 16), (uint8_t)(n >> 24) };
        memcpy(w->buf + start, b, 4);
}

/* The element size of a plain data item's type (wire_type_size()), 0 for rights, regions, descriptors. */
uint32_t nm_elem_size(uint16_t type) {
        if (nm_is_port_type(type) || type == MSG_TYPE_MEMORY || type == MSG_TYPE_FD)
                return 0;
        return wire_type_size(type);
}

bool nm_is_port_type(uint16_t type) {
        return wire_disposition_is_valid(type);
}

/* nm_port_class() - the kind of right (NM_REF_*) a port item of @type holds. */
uint8_t nm_port_class(uint16_t type) {
        switch (type) {
        case MSG_TYPE_MOVE_RECEIVE: return NM_REF_RECEIVE;
        case MSG_TYPE_MOVE_SEND_ONCE:
        case MSG_TYPE_MAKE_SEND_ONCE: return NM_REF_SEND_ONCE;
        default: return NM_REF_SEND;
        }
}

/**
 * nm_items_check() - the items of an NM_MSG, whole: each a u16 type, u16
 * flags, u32 count, then count elements (data), count refs (ports) or count
 * regions (u64 size, then the bytes if at most NM_INLINE_REGION_MAX)
 * @n_refs, @ool_bytes: out, how many rights and region bytes they hold
 * @streamed: out, the region bytes that follow in NM_DATA frames
 * Return: 0, or -1 if anything is malformed, of a type that cannot travel, a
 * right in an item of another kind of right, or more than MSG_FDS_MAX regions
 * in all.
 */
int nm_items_check(const uint8_t *items, uint32_t len, uint32_t *n_refs, uint64_t *ool_bytes,
                   uint64_t *streamed) {
        NmReader r;
        nm_reader_init(&r, items, len);
        uint32_t n_regions = 0;
        *n_refs = 0;
        *ool_bytes = 0;
        *streamed = 0;
        while (!r.bad && r.p < r.end) {
                uint16_t type = nm_u16(&r);
                nm_u16(&r);
                uint32_t number = nm_u32(&r);
                if (r.bad)
                        return -1;
                if (nm_is_port_type(type)) {
                        if (number > MSG_SIZE_MAX / 4)
                                return -1;
                        /* Rights of the item's own kind, or none (null, dead). */
                        for (uint32_t i = 0; i < number && !r.bad; i++) {
                                NmRef ref = nm_ref(&r);
                                if (ref.kind != NM_REF_NULL && ref.kind != NM_REF_DEAD &&
                                    ref.kind != nm_port_class(type))
                                        return -1;
                        }
                        *n_refs += number;
                } else if (type == MSG_TYPE_MEMORY) {
                        /* As many regions as a message here may carry, in all its items. */
                        if (number > MSG_FDS_MAX - n_regions)
                                return -1;
                        n_regions += number;
                        for (uint32_t i = 0; i < number && !r.bad; i++) {
                                uint64_t size = nm_u64(&r);
                                if (size > NM_MSG_OOL_MAX || *ool_bytes + size > NM_MSG_OOL_MAX)
                                        return -1;
                                if (size <= NM_INLINE_REGION_MAX)
                                        nm_bytes(&r, (size_t)size);
                                else
                                        *streamed += size;
                                *ool_bytes += size;
                        }
                } else {
                        uint32_t es = nm_elem_size(type);
                        if (!es || (uint64_t)es * number > MSG_SIZE_MAX)
                                return -1;
                        nm_bytes(&r, (size_t)es * number);
                }
        }
        return r.bad ? -1 : 0;
}
