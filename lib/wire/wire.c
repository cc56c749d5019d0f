/* SPDX-License-Identifier: MIT */
/*
 * wire.c - encode, decode and check the frames of doc/protocol.md
 *
 * Shared by the broker and the library.  It does no I/O and allocates
 * nothing: every function works on a caller's buffer of a stated length, and
 * every decoder checks that length before reading.  wire_msg_check() is the
 * one place that decides whether a message is well formed; the broker runs it
 * on every message before translating any name.
 */

#include <errno.h>
#include "wire.h"

int wire_header_decode(const uint8_t *buf, size_t len, WireHeader *h) {
        if (len < WIRE_HDR_SIZE)
                return -EBADMSG;
        h->size = wire_get_le32(buf);
        h->op = wire_get_le16(buf + 4);
        h->flags = wire_get_le16(buf + 6);
        h->serial = wire_get_le32(buf + 8);
        h->reserved = wire_get_le32(buf + 12);
        if (h->size != len || h->size > WIRE_FRAME_MAX)
                return -EBADMSG;
        if ((h->flags & ~(WIRE_FLAG_ONE_WAY | WIRE_FLAG_LENT)) || h->reserved != 0)
                return -EBADMSG;
        return 0;
}

void wire_header_encode(uint8_t *buf, const WireHeader *h) {
        wire_put_le32(buf, h->size);
        wire_put_le16(buf + 4, h->op);
        wire_put_le16(buf + 6, h->flags);
        wire_put_le32(buf + 8, h->serial);
        wire_put_le32(buf + 12, h->reserved);
}

int wire_hello_decode(const uint8_t *buf, size_t len, WireHello *m) {
        if (len != WIRE_HELLO_SIZE)
                return -EBADMSG;
        m->magic = wire_get_le32(buf);
        m->major = wire_get_le16(buf + 4);
        m->minor = wire_get_le16(buf + 6);
        m->flags = wire_get_le32(buf + 8);
        m->reserved = wire_get_le32(buf + 12);
        if (m->magic != WIRE_MAGIC)
                return -EBADMSG;
        if (m->major != WIRE_VERSION_MAJOR)
                return -EPROTONOSUPPORT;
        /* Reserved for later versions: zero today, so they stay usable. */
        if (m->flags != 0 || m->reserved != 0)
                return -EBADMSG;
        return 0;
}

void wire_hello_encode(uint8_t *buf, const WireHello *m) {
        wire_put_le32(buf, m->magic);
        wire_put_le16(buf + 4, m->major);
        wire_put_le16(buf + 6, m->minor);
        wire_put_le32(buf + 8, m->flags);
        wire_put_le32(buf + 12, m->reserved);
}

int wire_hello_reply_decode(const uint8_t *buf, size_t len, WireHelloReply *m) {
        if (len != WIRE_HELLO_REPLY_SIZE)
                return -EBADMSG;
        m->status = wire_get_le32(buf);
        m->major = wire_get_le16(buf + 4);
        m->minor = wire_get_le16(buf + 6);
        m->task_id = wire_get_le32(buf + 8);
        m->self = wire_get_le32(buf + 12);
        m->notify = wire_get_le32(buf + 16);
        m->bootstrap = wire_get_le32(buf + 20);
        m->max_msg_size = wire_get_le32(buf + 24);
        m->reserved = wire_get_le32(buf + 28);
        return 0;
}

void wire_hello_reply_encode(uint8_t *buf, const WireHelloReply *m) {
        wire_put_le32(buf, m->status);
        wire_put_le16(buf + 4, m->major);
        wire_put_le16(buf + 6, m->minor);
        wire_put_le32(buf + 8, m->task_id);
        wire_put_le32(buf + 12, m->self);
        wire_put_le32(buf + 16, m->notify);
        wire_put_le32(buf + 20, m->bootstrap);
        wire_put_le32(buf + 24, m->max_msg_size);
        wire_put_le32(buf + 28, m->reserved);
}

int wire_msg_req_decode(const uint8_t *buf, size_t len, WireMsgReq *m) {
        if (len < WIRE_MSG_REQ_SIZE)
                return -EBADMSG;
        m->option = wire_get_le32(buf);
        m->send_timeout = wire_get_le32(buf + 4);
        m->rcv_name = wire_get_le32(buf + 8);
        m->rcv_size = wire_get_le32(buf + 12);
        m->rcv_timeout = wire_get_le32(buf + 16);
        m->extra = wire_get_le32(buf + 20);
        if (m->option & ~WIRE_MSG_OPTIONS)
                return -EBADMSG;
        /* Credit goes back with a send; lending asks for more with a receive. */
        if ((WIRE_EXTRA_CREDIT_BACK(m->extra) && !(m->option & WIRE_MSG_SEND)) ||
            (WIRE_EXTRA_LEND(m->extra) && !(m->option & WIRE_MSG_MANY)) ||
            ((m->option & WIRE_MSG_MANY) && !(m->option & WIRE_MSG_RCV)))
                return -EBADMSG;
        if (!(m->option & (WIRE_MSG_SEND | WIRE_MSG_RCV)))
                return -EBADMSG;
        /* A message follows exactly when the request sends one. */
        if (!!(m->option & WIRE_MSG_SEND) != (len > WIRE_MSG_REQ_SIZE))
                return -EBADMSG;
        return 0;
}

void wire_msg_req_encode(uint8_t *buf, const WireMsgReq *m) {
        wire_put_le32(buf, m->option);
        wire_put_le32(buf + 4, m->send_timeout);
        wire_put_le32(buf + 8, m->rcv_name);
        wire_put_le32(buf + 12, m->rcv_size);
        wire_put_le32(buf + 16, m->rcv_timeout);
        wire_put_le32(buf + 20, m->extra);
}

int wire_msg_reply_decode(const uint8_t *buf, size_t len, WireMsgReply *m) {
        if (len < WIRE_MSG_REPLY_SIZE)
                return -EBADMSG;
        m->status = wire_get_le32(buf);
        m->flags = wire_get_le32(buf + 4);
        m->pid = (int32_t)wire_get_le32(buf + 8);
        m->uid = wire_get_le32(buf + 12);
        m->gid = wire_get_le32(buf + 16);
        m->credit = wire_get_le32(buf + 20);
        if ((m->flags & (WIRE_REPLY_RECEIVED | WIRE_REPLY_RETURNED)) && len < WIRE_MSG_REPLY_SIZE + sizeof(msg_header_t))
                return -EBADMSG;
        return 0;
}

void wire_msg_reply_encode(uint8_t *buf, const WireMsgReply *m) {
        wire_put_le32(buf, m->status);
        wire_put_le32(buf + 4, m->flags);
        wire_put_le32(buf + 8, (uint32_t)m->pid);
        wire_put_le32(buf + 12, m->uid);
        wire_put_le32(buf + 16, m->gid);
        wire_put_le32(buf + 20, m->credit);
}

int wire_event_decode(const uint8_t *buf, size_t len, WireEvent *e) {
        if (len < WIRE_EVENT_SIZE)
                return -EBADMSG;
        e->type = wire_get_le32(buf);
        e->a = wire_get_le32(buf + 4);
        e->b = wire_get_le32(buf + 8);
        e->reserved = wire_get_le32(buf + 12);
        if (e->type < WIRE_EVENT_PUSH || e->type > WIRE_EVENT_READY)
                return -EBADMSG;
        return 0;
}

void wire_event_encode(uint8_t *buf, const WireEvent *e) {
        wire_put_le32(buf, e->type);
        wire_put_le32(buf + 4, e->a);
        wire_put_le32(buf + 8, e->b);
        wire_put_le32(buf + 12, e->reserved);
}

/* A PUSH record's header; its size must leave the rest of @len for what follows. */
int wire_push_record_decode(const uint8_t *buf, size_t len, WirePushRecord *r) {
        if (len < WIRE_PUSH_RECORD_SIZE)
                return -EBADMSG;
        r->id = wire_get_le32(buf);
        r->flags = wire_get_le32(buf + 4);
        r->pid = wire_get_le32(buf + 8);
        r->uid = wire_get_le32(buf + 12);
        r->gid = wire_get_le32(buf + 16);
        r->size = wire_get_le32(buf + 20);
        if (r->size > len - WIRE_PUSH_RECORD_SIZE || (r->flags & ~(WIRE_REPLY_KERNEL | WIRE_REPLY_REMOTE)) ||
            ((r->flags & WIRE_REPLY_REMOTE) && r->size < WIRE_ORIGIN_SIZE))
                return -EBADMSG;
        return 0;
}

void wire_push_record_encode(uint8_t *buf, const WirePushRecord *r) {
        wire_put_le32(buf, r->id);
        wire_put_le32(buf + 4, r->flags);
        wire_put_le32(buf + 8, r->pid);
        wire_put_le32(buf + 12, r->uid);
        wire_put_le32(buf + 16, r->gid);
        wire_put_le32(buf + 20, r->size);
}

/* wire_origin_name_ok() - an origin's name: at most WIRE_ORIGIN_NAME_MAX printable ASCII bytes, and some unless @may_be_empty. */
bool wire_origin_name_ok(const char *s, bool may_be_empty) {
        if (!s)
                return false;
        size_t n = strnlen(s, WIRE_ORIGIN_NAME_MAX + 1);
        if (n > WIRE_ORIGIN_NAME_MAX || (n == 0 && !may_be_empty))
                return false;
        for (size_t i = 0; i < n; i++)
                if ((unsigned char)s[i] < ' ' || (unsigned char)s[i] >= 0x7f)
                        return false;
        return true;
}

/* A WireOrigin: both names must be terminated within their fields. */
int wire_origin_decode(const uint8_t *buf, size_t len, WireOrigin *o) {
        if (len < WIRE_ORIGIN_SIZE)
                return -EBADMSG;
        o->relay_pid = (int32_t)wire_get_le32(buf);
        o->relay_uid = wire_get_le32(buf + 4);
        memcpy(o->host, buf + 8, sizeof(o->host));
        memcpy(o->identity, buf + 8 + sizeof(o->host), sizeof(o->identity));
        if (!memchr(o->host, 0, sizeof(o->host)) || !memchr(o->identity, 0, sizeof(o->identity)))
                return -EBADMSG;
        return 0;
}

void wire_origin_encode(uint8_t *buf, const WireOrigin *o) {
        wire_put_le32(buf, (uint32_t)o->relay_pid);
        wire_put_le32(buf + 4, o->relay_uid);
        memcpy(buf + 8, o->host, sizeof(o->host));
        memcpy(buf + 8 + sizeof(o->host), o->identity, sizeof(o->identity));
}

/**
 * wire_type_size() - element size of an item type
 * @name: MSG_TYPE_*
 *
 * Return: bytes per element (4 for a port name), or 0 for an unknown type.
 */
uint32_t wire_type_size(uint16_t name) {
        switch (name) {
        case MSG_TYPE_BYTE:
        case MSG_TYPE_CHAR:
        case MSG_TYPE_STRING:
                return 1;
        case MSG_TYPE_INTEGER_16:
                return 2;
        case MSG_TYPE_INTEGER_32:
                return 4;
        case MSG_TYPE_INTEGER_64:
        case MSG_TYPE_REAL_64:
                return 8;
        case MSG_TYPE_MOVE_RECEIVE:
        case MSG_TYPE_MOVE_SEND:
        case MSG_TYPE_MOVE_SEND_ONCE:
        case MSG_TYPE_COPY_SEND:
        case MSG_TYPE_MAKE_SEND:
        case MSG_TYPE_MAKE_SEND_ONCE:
        case MSG_TYPE_FD:
                return 4;
        case MSG_TYPE_MEMORY:
                return 16;
        default:
                return 0;
        }
}

/* wire_disposition_is_valid() - true for any port disposition (16..21). */
bool wire_disposition_is_valid(uint32_t disp) {
        return disp >= MSG_TYPE_MOVE_RECEIVE && disp <= MSG_TYPE_MAKE_SEND_ONCE;
}

/* wire_disposition_is_send() - true for a disposition yielding a send or send-once right. */
bool wire_disposition_is_send(uint32_t disp) {
        return disp >= MSG_TYPE_MOVE_SEND && disp <= MSG_TYPE_MAKE_SEND_ONCE;
}

void wire_item_iter_init(WireItemIter *it, const uint8_t *msg, uint32_t size) {
        it->msg = msg;
        it->size = size;
        it->offset = sizeof(msg_header_t);
}

/**
 * wire_item_next() - the next item of a message
 *
 * Safe on any bytes: an item whose descriptor or payload would run past the
 * message (its size computed in 64 bits, so no element count can wrap it)
 * ends the walk.  Messages wire_msg_check() accepted never hit that.
 * Return: true with @item filled, false at the end.
 */
bool wire_item_next(WireItemIter *it, WireItem *item) {
        if (it->offset > it->size || it->size - it->offset < sizeof(msg_type_t))
                return false;
        msg_type_t t;
        memcpy(&t, it->msg + it->offset, sizeof(t));
        uint64_t bytes = (uint64_t)wire_type_size(t.msg_type_name) * t.msg_type_number;
        uint32_t payload = it->offset + (uint32_t)sizeof(msg_type_t);
        if (bytes > it->size - payload)
                return false;
        item->name = t.msg_type_name;
        item->flags = t.msg_type_flags;
        item->number = t.msg_type_number;
        item->offset = payload;
        item->bytes = (uint32_t)bytes;
        uint64_t next = payload + ((bytes + 7u) & ~7ull);
        it->offset = next > it->size ? it->size : (uint32_t)next;
        return true;
}

/**
 * wire_msg_check() - is @msg a well-formed message of @len bytes?
 * @msg: the message, header first
 * @len: its length as framed
 * @attach_len: bytes of attachment after it in the frame (inline regions)
 * @info: out, what the broker needs to translate it (may be NULL)
 *
 * Checks sizes, header bits and dispositions, and that the body is a
 * sequence of items of known types that fills the message exactly (only the
 * last item may omit its padding).  Looks at no name.
 *
 * Return: 0, SEND_MSG_TOO_SMALL (size below the header, not a multiple of 4,
 * not the framed length, or an item that overruns), SEND_TOO_LARGE (above
 * MSG_SIZE_MAX, more than WIRE_RIGHTS_MAX rights or WIRE_FDS_MAX descriptors,
 * a region above MSG_OOL_SIZE_MAX), SEND_INVALID_HEADER (unknown bits -- the
 * complex bit is not one: it is ignored and recomputed on receive -- or a
 * disposition the header cannot carry), SEND_INVALID_TYPE (unknown item type
 * or flags), SEND_INVALID_MEMORY (descriptor indices not 0, 1, 2... in order,
 * or an inline region outside the attachment).
 */
int wire_msg_check(const uint8_t *msg, size_t len, size_t attach_len, WireMsgInfo *info) {
        msg_header_t h;
        WireMsgInfo tmp = {0};

        if (len < sizeof(h))
                return SEND_MSG_TOO_SMALL;
        if (len > MSG_SIZE_MAX)
                return SEND_TOO_LARGE;
        wire_msg_header_get(msg, &h);
        if (h.msg_size != len || (h.msg_size & 3u))
                return SEND_MSG_TOO_SMALL;
        /* The complex bit of a received header may stay: the broker recomputes it. */
        if (h.msg_bits & ~MSG_BITS_USER)
                return SEND_INVALID_HEADER;
        tmp.remote_disp = MSG_BITS_REMOTE(h.msg_bits);
        tmp.local_disp = MSG_BITS_LOCAL(h.msg_bits);
        if (tmp.remote_disp && !wire_disposition_is_send(tmp.remote_disp))
                return SEND_INVALID_HEADER;
        if (tmp.local_disp && !wire_disposition_is_send(tmp.local_disp))
                return SEND_INVALID_HEADER;

        uint32_t off = sizeof(h);
        while (off < len) {
                msg_type_t t;
                if (len - off < sizeof(t))
                        return SEND_MSG_TOO_SMALL;
                memcpy(&t, msg + off, sizeof(t));
                off += sizeof(t);
                uint32_t esize = wire_type_size(t.msg_type_name);
                bool ool = t.msg_type_name == MSG_TYPE_MEMORY || t.msg_type_name == MSG_TYPE_FD;
                if (esize == 0 || (t.msg_type_flags & ~(ool ? MSG_TYPE_FLAG_DEALLOCATE : 0u)))
                        return SEND_INVALID_TYPE;
                /* len <= MSG_SIZE_MAX, so this cannot overflow 64 bits. */
                uint64_t bytes = (uint64_t)esize * t.msg_type_number;
                if (bytes > len - off)
                        return SEND_MSG_TOO_SMALL;
                if (wire_disposition_is_valid(t.msg_type_name)) {
                        tmp.n_rights += t.msg_type_number;
                        if (tmp.n_rights > WIRE_RIGHTS_MAX)
                                return SEND_TOO_LARGE;
                }
                /* On the wire an out-of-line element names its descriptor by its
                 * place among the frame's descriptors, in order. */
                for (uint32_t j = 0; ool && j < t.msg_type_number; j++) {
                        const uint8_t *e = msg + off + (size_t)j * esize;
                        if (t.msg_type_name == MSG_TYPE_MEMORY) {
                                msg_ool_t o;
                                memcpy(&o, e, sizeof(o));
                                if (o.size > MSG_OOL_SIZE_MAX)
                                        return SEND_TOO_LARGE;
                                if (o.size == 0)
                                        continue;
                                if (o.address & WIRE_OOL_INLINE) {
                                        uint64_t at = o.address & ~WIRE_OOL_INLINE;
                                        if (at > attach_len || o.size > attach_len - at)
                                                return SEND_INVALID_MEMORY;
                                        continue;
                                }
                                if (o.address != tmp.n_fds)
                                        return SEND_INVALID_MEMORY;
                                tmp.ool_bytes += o.size;
                        } else if (wire_get_le32(e) != tmp.n_fds) {
                                return SEND_INVALID_MEMORY;
                        }
                        if (++tmp.n_fds > WIRE_FDS_MAX)
                                return SEND_TOO_LARGE;
                }
                uint64_t padded = (bytes + 7u) & ~(uint64_t)7u;
                off += padded > len - off ? (uint32_t)(len - off) : (uint32_t)padded;
        }
        if (info)
                *info = tmp;
        return 0;
}
