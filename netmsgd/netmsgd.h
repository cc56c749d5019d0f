#pragma once
/* SPDX-License-Identifier: MIT */
/* netmsgd.h - machipc-netmsgd: peers (TLS connections to other hosts) and proxies for their ports */

#include <stdbool.h>
#include <stdint.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <openssl/ssl.h>
#include <machipc/machipc.h>
#include "frame.h"
#include "idmap.h"

#define NETMSG_PORT_DEFAULT 7411
#define NETMSG_PEERS_MAX 64
#define NETMSG_LOOKUP_TIMEOUT_S 15
#define NM_PEER_LOOKUPS_MAX 256         /* look-ups waiting for one peer's answer */
#define NM_DEAD_AFTER_S 6               /* a peer silent this long is taken for dead */
#define NM_CREDIT_INIT 16               /* messages in flight per proxy before the peer says they arrived */
#define NM_LENT_AHEAD 64                /* what the broker hands our armed set ahead (machipc_arm()): a
                                         * proxy paused out of credit may still send that many */
#define NM_PROXY_BACKLOG 8              /* a proxy's own queue, as a local port's default */
#define NM_ONCE_POOL 64                 /* send-once proxies kept for reuse */
#define NM_PEER_RIGHTS_DEFAULT 16384     /* proxies here for a peer, and rights exported to it, each */
#define NM_CREDIT_BATCH 8               /* deliveries said at once (half the credit: the sender never waits for it) */

typedef struct Peer Peer;
struct Pending;

/* A right of ours a peer may name by id (it holds a proxy for it). */
typedef struct {
        uint64_t id;
        port_t name;            /* our send right (one user reference per export) or send-once right */
        bool once;              /* a send-once right: used once, then gone */
        uint32_t owed;          /* delivered, not yet said (NM_CREDIT goes in batches of NM_CREDIT_BATCH) */
        uint32_t held;          /* received, not yet said: at most NM_CREDIT_INIT + NM_LENT_AHEAD */
        uint32_t sent;          /* references to it sent and not yet seen released (NM_RELEASE) */
} Export;

/* A proxy here for a peer's export: messages to it go there. */
typedef struct {
        Peer *peer;
        uint64_t id;            /* the peer's export id */
        port_t proxy;           /* our receive right; its senders are the local tasks */
        bool once;
        int32_t credit;         /* messages we may still forward before the peer has delivered some */
        bool paused;            /* out of credit: taken out of our set, so its queue fills as a port's */
        uint32_t seen;          /* references to the export that made or kept this proxy (NM_RELEASE) */
} Import;

/* A message from a peer its destination had no room for yet: sent again, in order, when it has. */
typedef struct Pending {
        struct Pending *next;
        Peer *peer;
        uint64_t export_id;
        uint32_t n_regions;
        vm_address_t regions[MSG_FDS_MAX];
        vm_size_t sizes[MSG_FDS_MAX];
        uint32_t size;
        uint8_t msg[];
} Pending;

typedef struct {
        uint32_t request;
        port_t reply;           /* the asking task's send-once right */
        time_t deadline;
} Lookup;

struct Peer {
        char host[NM_HOST_MAX + 1];     /* what it said in HELLO, or what we dialed */
        char addr[300];                 /* host:port we dial (outgoing), or "" */
        struct bufferevent *bev;
        char identity[256];             /* its certificate's common name ("" insecure) */
        uint32_t origin;                /* the broker's record of it: messages we deliver name it (0: none) */
        uint16_t minor;                 /* the protocol's minor version it speaks (HELLO) */
        bool ready;                     /* HELLO exchanged */
        bool dead;
        bool parked;                    /* dialed, but the host's connection is another: wait */
        time_t last_rx;
        struct event *redial;
        Export *exports;
        uint32_t n_exports, cap_exports;
        IdMap export_ids;               /* id -> index in exports */
        IdMap export_names;             /* our name of an exported send right -> index */
        IdMap import_ids;               /* its export id -> index in nm.imports of our proxy */
        uint32_t n_imports;             /* proxies here for it */
        bool imports_full, exports_full;  /* at --peer-rights, and said so in the log */
        uint64_t next_export;
        Lookup *lookups;
        uint32_t n_lookups, cap_lookups;
        uint32_t next_request;
        struct Pending *assembly;       /* a message whose large regions are still arriving */
        uint64_t assembly_left;
        uint32_t assembly_region;
        uint64_t assembly_off;
        bool assembly_started;          /* the region being filled has its pages being made (prefault.c) */
        uint32_t data_left;             /* bytes of the NM_DATA frame being read still to come */
        uint64_t discard_left;          /* bytes of NM_DATA to drop: the regions of a message not delivered */
};

typedef struct {
        struct event_base *base;
        SSL_CTX *ssl;                   /* NULL: --insecure */
        char host[NM_HOST_MAX + 1];     /* our own name */
        port_t service;                 /* netmsg.defs requests from local tasks */
        port_t notify;                  /* our notifications */
        port_t set;                     /* service, notify and every proxy */
        Peer *peers[NETMSG_PEERS_MAX];
        uint32_t n_peers;
        Import *imports;
        uint32_t n_imports, cap_imports;
        IdMap import_proxies;           /* proxy name -> index in imports */
        uint32_t peer_rights_max;       /* --peer-rights */
        int verbose;
        uint64_t forwarded, delivered, refused;
        port_t loop;                    /* a port of our own to make send rights with */
        uint64_t next_migration;
        port_t once_pool[NM_ONCE_POOL];
        uint32_t n_once_pool;
        Pending *pending, **pending_tail;
        uint32_t n_pending;
        struct event *retry;
} Netmsgd;

extern Netmsgd nm;

void nm_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void *nm_room(void *array, uint32_t n, uint32_t *cap, size_t elem);

/* peer.c */
Peer *peer_find(const char *host);
Peer *peer_new(const char *host, const char *addr);
int peer_dial(Peer *p);
int peer_accept(int fd);
void peer_send(Peer *p, NmWriter *w);
void peer_send_region(Peer *p, vm_address_t address, vm_size_t size);
void peer_gone(Peer *p, const char *why);
void peer_tick(void);

/* proxy.c */
void proxy_on_frame(Peer *p, uint16_t type, const uint8_t *body, uint32_t len);
uint64_t proxy_data_room(Peer *p, uint8_t **dst);
void proxy_data_took(Peer *p, uint32_t n);
void proxy_on_message(msg_header_t *h);
void proxy_on_notification(msg_header_t *h);
void proxy_peer_gone(Peer *p);
void proxy_lookup_request(msg_header_t *in);
void proxy_expire_lookups(void);
void proxy_retry_pending(void);
void proxy_flush_credit(void);
