#pragma once
/* SPDX-License-Identifier: MIT */
/* wire.h - the broker protocol: framing, handshake, requests, message checks */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include <machipc/types.h>
#include <machipc/return.h>

/*
 * Mirrors doc/protocol.md one to one.  Frames travel on an AF_UNIX
 * SOCK_SEQPACKET socket, one frame per packet.  Every frame starts with a
 * 16-byte header in little-endian order; the body depends on the op.
 */

#define WIRE_MAGIC 0x4350494du  /* "MIPC" */
#define WIRE_VERSION_MAJOR 1u
#define WIRE_VERSION_MINOR 2u    /* 1: armed receives, lending, send credit; 2: origins (doc/protocol.md) */

#define WIRE_HDR_SIZE 16u
#define WIRE_HELLO_SIZE 16u
#define WIRE_HELLO_REPLY_SIZE 32u
#define WIRE_MSG_REQ_SIZE 24u
#define WIRE_MSG_REPLY_SIZE 24u
#define WIRE_REPLY_PORT_REPLY_SIZE 8u

/*
 * Small out-of-line regions travel inside the frame, after the message (the
 * "attachment"), rather than as memfds: below this many bytes per message,
 * two socket copies cost less CPU than creating, sealing and mapping a memfd
 * (doc/architecture.md, "Out-of-line memory", has the measurements).  On the
 * wire such a region's address is WIRE_OOL_INLINE | its offset in the attachment.
 */
#define WIRE_ATTACH_MAX 65536u
#define WIRE_OOL_INLINE 0x8000000000000000ull

/* Largest frame: a message request or reply carrying MSG_SIZE_MAX bytes and an attachment. */
#define WIRE_FRAME_MAX (WIRE_HDR_SIZE + WIRE_LENT_BODY_MAX + WIRE_MSG_REQ_SIZE + MSG_SIZE_MAX + WIRE_ATTACH_MAX)
/* Port rights one message may carry (header included). */
#define WIRE_RIGHTS_MAX 1024u
/* Descriptors one frame may carry (SCM_RIGHTS), all out-of-line items together. */
#define WIRE_FDS_MAX MSG_FDS_MAX

enum {
        WIRE_OP_HELLO = 1,
        WIRE_OP_MSG = 2,
        WIRE_OP_REPLY_PORT = 3,
        WIRE_OP_ARM = 4,        /* 1.1: hand a port's messages to the task as they come */
        WIRE_OP_LENT = 5,       /* 1.1, one way: messages handed ahead, taken or given back */
        WIRE_OP_EVENT = 6,      /* 1.1, broker to task only, with WIRE_OP_REPLY and serial 0 */
        WIRE_OP_REPLY = 0x8000,  /* or'ed into the op of a reply */
};

/* Bits of WireHeader.flags. */
#define WIRE_FLAG_ONE_WAY 0x1u  /* 1.1: no reply frame (MSG with SEND only, LENT) */
#define WIRE_FLAG_LENT 0x2u     /* 1.1: the body starts with a LENT body, to be taken first */

/* Bits of WireMsgReq.option beyond the user's options (types.h). */
#define WIRE_MSG_SEND 0x1u
#define WIRE_MSG_RCV 0x2u
#define WIRE_MSG_RPC 0x4u   /* a send-once notification answers with RCV_SERVER_DIED */
#define WIRE_MSG_MANY 0x8u  /* 1.1: lend more of what is queued after the first (WIRE_EXTRA_LEND) */
#define WIRE_MSG_ORIGIN 0x10000u /* 1.2: a send relayed from another host: a u32 origin id follows the request */
#define WIRE_MSG_OPTIONS (WIRE_MSG_SEND | WIRE_MSG_RCV | WIRE_MSG_RPC | WIRE_MSG_MANY | WIRE_MSG_ORIGIN | \
                          SEND_TIMEOUT | SEND_NOTIFY | RCV_TIMEOUT | RCV_LARGE)

/* A one-way send's message, at most (bytes): each slot of credit holds this
 * much of the sender's byte quota and of the receiver's queue. */
#define WIRE_ONE_WAY_MAX 2048u

/* WireMsgReq.extra (1.1; 0 in 1.0): credits given back for the destination of
 * the send, and the most messages to lend after the first (WIRE_MSG_MANY). */
#define WIRE_EXTRA(credit_back, lend) ((uint32_t)(credit_back) | ((uint32_t)(lend) << 16))
#define WIRE_EXTRA_CREDIT_BACK(x) ((x) & 0xffffu)
#define WIRE_EXTRA_LEND(x) ((x) >> 16)

/* WireMsgReply.credit (1.1): credits granted for the destination of the
 * send, and messages lent after the one received (they follow as PUSH events). */
#define WIRE_REPLY_EXTRA(credit, lent) ((uint32_t)(credit) | ((uint32_t)(lent) << 16))
#define WIRE_REPLY_CREDIT(x) ((x) & 0xffffu)
#define WIRE_REPLY_LENT(x) ((x) >> 16)

/* WireEvent.reserved of a PUSH: they were lent by an arm (given back when the arm ends). */
#define WIRE_PUSH_FROM_ARM 0x1u
/* Messages in one PUSH frame, at most. */
#define WIRE_PUSH_MAX 64u

/* Events (op WIRE_OP_EVENT): what the broker tells a task of its own accord. */
enum {
        WIRE_EVENT_PUSH = 1,    /* a = how many messages follow (WirePushRecord, message, attachment
                                 * each), b = the name they are filed under */
        WIRE_EVENT_CREDIT = 2,  /* a = destination name, b = credits granted */
        WIRE_EVENT_REVOKE = 3,  /* a = destination name: its credit is gone */
        WIRE_EVENT_READY = 4,   /* a = armed name: a message that cannot be handed ahead waits */
};
#define WIRE_EVENT_SIZE 16u

/* Bodies of ARM (name, window; window 0 disarms) and its reply (status, 0), and of LENT. */
#define WIRE_ARM_SIZE 8u
#define WIRE_ARM_REPLY_SIZE 8u
#define WIRE_LENT_HDR_SIZE 8u   /* n_taken, n_given_back; then their lend ids */
#define WIRE_LENT_IDS_MAX 1024u
#define WIRE_LENT_CREDITS_MAX 64u
#define WIRE_LENT_BODY_MAX (WIRE_LENT_HDR_SIZE + 4 * WIRE_LENT_IDS_MAX + 8 * WIRE_LENT_CREDITS_MAX)

/* Bits of WireMsgReply.flags. */
#define WIRE_REPLY_RECEIVED 0x1u  /* a received message follows */
#define WIRE_REPLY_RETURNED 0x2u  /* the caller's own message comes back */
#define WIRE_REPLY_KERNEL 0x4u    /* the message was generated by the broker */
#define WIRE_REPLY_REMOTE 0x8u    /* 1.2: relayed from another host: a WireOrigin follows the attachment */

/* Where a relayed message came from (1.2): after the message and its attachment, in a
 * reply or a PUSH record (counted in its size). */
#define WIRE_ORIGIN_NAME_MAX 64u
#define WIRE_ORIGIN_FIELD (WIRE_ORIGIN_NAME_MAX + 4u)  /* a name's field: NUL-terminated, NUL-padded */
typedef struct {
        int32_t relay_pid;      /* the local task that relayed it */
        uint32_t relay_uid;
        char host[WIRE_ORIGIN_FIELD];
        char identity[WIRE_ORIGIN_FIELD];      /* the peer's certificate identity, "" without one */
} WireOrigin;
#define WIRE_ORIGIN_SIZE (8u + 2u * WIRE_ORIGIN_FIELD)
/* uid and gid of a relayed message's sender: nobody's. */
#define WIRE_ORIGIN_NOBODY 0xffffffffu

typedef struct {
        uint32_t size;    /* whole frame, header included */
        uint16_t op;
        uint16_t flags;   /* 0 */
        uint32_t serial;  /* chosen by the client, echoed in the reply */
        uint32_t reserved;
} WireHeader;

typedef struct {
        uint32_t magic;
        uint16_t major;
        uint16_t minor;
        uint32_t flags;
        uint32_t reserved;
} WireHello;

typedef struct {
        uint32_t status;
        uint16_t major;
        uint16_t minor;
        uint32_t task_id;
        uint32_t self;
        uint32_t notify;
        uint32_t bootstrap;
        uint32_t max_msg_size;
        uint32_t reserved;
} WireHelloReply;

typedef struct {
        uint32_t option;
        uint32_t send_timeout;
        uint32_t rcv_name;
        uint32_t rcv_size;
        uint32_t rcv_timeout;
        uint32_t extra;         /* WIRE_EXTRA(); 0 in 1.0 */
} WireMsgReq;

typedef struct {
        uint32_t status;
        uint32_t flags;
        int32_t pid;
        uint32_t uid;
        uint32_t gid;
        uint32_t credit;        /* 1.1: credits granted for the destination of the send */
} WireMsgReply;

/* One message of a PUSH: then size bytes, the message (msg_size bytes) and its attachment. */
typedef struct {
        uint32_t id;            /* its lend id, for LENT */
        uint32_t flags;         /* WIRE_REPLY_KERNEL: the broker sent it */
        uint32_t pid, uid, gid; /* its sender */
        uint32_t size;          /* bytes of message and attachment that follow */
} WirePushRecord;
#define WIRE_PUSH_RECORD_SIZE 24u

typedef struct {
        uint32_t type;          /* WIRE_EVENT_* */
        uint32_t a;
        uint32_t b;
        uint32_t reserved;
} WireEvent;

/* What wire_msg_check() learned about a message. */
typedef struct {
        uint32_t n_rights;      /* port rights in the body */
        uint32_t n_fds;         /* descriptors the frame must carry */
        uint64_t ool_bytes;     /* bytes of regions travelling as memfds */
        uint32_t remote_disp;   /* header dispositions, 0 = default */
        uint32_t local_disp;
} WireMsgInfo;

/* Walk state for the items of a checked message. */
typedef struct {
        const uint8_t *msg;
        uint32_t size;
        uint32_t offset;
} WireItemIter;

typedef struct {
        uint16_t name;
        uint16_t flags;
        uint32_t number;
        uint32_t offset;        /* of the payload, from the message start */
        uint32_t bytes;         /* payload bytes, without padding */
} WireItem;

int wire_header_decode(const uint8_t *buf, size_t len, WireHeader *h);
void wire_header_encode(uint8_t *buf, const WireHeader *h);
int wire_hello_decode(const uint8_t *buf, size_t len, WireHello *m);
void wire_hello_encode(uint8_t *buf, const WireHello *m);
int wire_hello_reply_decode(const uint8_t *buf, size_t len, WireHelloReply *m);
void wire_hello_reply_encode(uint8_t *buf, const WireHelloReply *m);
int wire_msg_req_decode(const uint8_t *buf, size_t len, WireMsgReq *m);
void wire_msg_req_encode(uint8_t *buf, const WireMsgReq *m);
int wire_msg_reply_decode(const uint8_t *buf, size_t len, WireMsgReply *m);
void wire_msg_reply_encode(uint8_t *buf, const WireMsgReply *m);
int wire_event_decode(const uint8_t *buf, size_t len, WireEvent *e);
void wire_event_encode(uint8_t *buf, const WireEvent *e);
int wire_push_record_decode(const uint8_t *buf, size_t len, WirePushRecord *r);
void wire_push_record_encode(uint8_t *buf, const WirePushRecord *r);
bool wire_origin_name_ok(const char *s, bool may_be_empty);
int wire_origin_decode(const uint8_t *buf, size_t len, WireOrigin *o);
void wire_origin_encode(uint8_t *buf, const WireOrigin *o);

int wire_default_socket_path(char *buf, size_t size);
int wire_socket_path(const char *override, char *buf, size_t size);
int wire_socket_path_ex(const char *override, char *buf, size_t size, bool *explicitp);
int wire_socket_dir_check(const char *path, uid_t *owner);
struct msghdr;
void wire_cmsg_put_fds(struct msghdr *mh, void *ctl, size_t ctl_size, const int *fds, uint32_t n);
bool wire_cmsg_take_fds(struct msghdr *mh, int *fds, uint32_t max, uint32_t *np);
int wire_msg_check(const uint8_t *msg, size_t len, size_t attach_len, WireMsgInfo *info);
bool wire_disposition_is_send(uint32_t disp);
bool wire_disposition_is_valid(uint32_t disp);
uint32_t wire_type_size(uint16_t name);

void wire_item_iter_init(WireItemIter *it, const uint8_t *msg, uint32_t size);
bool wire_item_next(WireItemIter *it, WireItem *item);

/* inline helpers */

static inline uint32_t wire_get_le32(const uint8_t *p) {
        return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint16_t wire_get_le16(const uint8_t *p) {
        return (uint16_t)(p[0] | p[1] << 8);
}

static inline void wire_put_le32(uint8_t *p, uint32_t v) {
        p[0] = (uint8_t)v;
        p[1] = (uint8_t)(v >> 8);
        p[2] = (uint8_t)(v >> 16);
        p[3] = (uint8_t)(v >> 24);
}

static inline void wire_put_le16(uint8_t *p, uint16_t v) {
        p[0] = (uint8_t)v;
        p[1] = (uint8_t)(v >> 8);
}

/* Read the message header of a checked message (host order, see types.h). */
static inline void wire_msg_header_get(const uint8_t *msg, msg_header_t *h) {
        memcpy(h, msg, sizeof(*h));
}

static inline void wire_msg_header_put(uint8_t *msg, const msg_header_t *h) {
        memcpy(msg, h, sizeof(*h));
}
