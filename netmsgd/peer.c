/* SPDX-License-Identifier: MIT */
/*
 * peer.c - machipc-netmsgd's connections to other hosts: one ordered TLS
 * 1.3 connection per pair of hosts, mutual certificate authentication
 * (libevent's OpenSSL bufferevents), frames in and out, HELLO first, a PING
 * every 2 s and a peer that says nothing for NM_DEAD_AFTER_S taken for dead.
 * What the frames mean is proxy.c's.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include "netmsgd.h"

static void on_read(struct bufferevent *bev, void *arg);
static void on_event(struct bufferevent *bev, short what, void *arg);

Peer *peer_find(const char *host) {
        for (uint32_t i = 0; i < nm.n_peers; i++)
                if (nm.peers[i]->ready && !nm.peers[i]->dead && strcmp(nm.peers[i]->host, host) == 0)
                        return nm.peers[i];
        return NULL;
}

Peer *peer_new(const char *host, const char *addr) {
        if (nm.n_peers >= NETMSG_PEERS_MAX)
                return NULL;
        Peer *p = calloc(1, sizeof(*p));
        if (!p)
                return NULL;
        snprintf(p->host, sizeof(p->host), "%s", host ? host : "");
        snprintf(p->addr, sizeof(p->addr), "%s", addr ? addr : "");
        p->next_export = 1;
        p->next_request = 1;
        p->last_rx = time(NULL);
        nm.peers[nm.n_peers++] = p;
        return p;
}

static void send_hello(Peer *p) {
        NmWriter w;
        nm_writer_init(&w);
        size_t f = nm_begin(&w, NM_HELLO);
        nm_put_u16(&w, NM_VERSION_MAJOR);
        nm_put_u16(&w, NM_VERSION_MINOR);
        nm_put_u16(&w, (uint16_t)strlen(nm.host));
        nm_put_bytes(&w, nm.host, strlen(nm.host));
        nm_end(&w, f);
        peer_send(p, &w);
        nm_writer_free(&w);
}

static struct bufferevent *new_bev(int fd, bool accepting) {
        if (!nm.ssl)
                return bufferevent_socket_new(nm.base, fd, BEV_OPT_CLOSE_ON_FREE);
        SSL *ssl = SSL_new(nm.ssl);
        if (!ssl)
                return NULL;
        return bufferevent_openssl_socket_new(nm.base, fd, ssl,
                                              accepting ? BUFFEREVENT_SSL_ACCEPTING : BUFFEREVENT_SSL_CONNECTING,
                                              BEV_OPT_CLOSE_ON_FREE);
}

/* Frames are small and each is waited for: no Nagle delay on top of the other side's delayed ACK. */
static void no_delay(struct bufferevent *bev) {
        int one = 1;
        evutil_socket_t fd = bufferevent_getfd(bev);
        if (fd >= 0)
                setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static void start(Peer *p, struct bufferevent *bev) {
        p->bev = bev;
        p->data_left = 0;
        p->discard_left = 0;
        no_delay(bev);
        /* Large regions stream through: read and write in pieces of a chunk, not libevent's 16 KiB. */
        bufferevent_set_max_single_read(bev, NM_CHUNK);
        bufferevent_set_max_single_write(bev, NM_CHUNK);
        p->last_rx = time(NULL);
        bufferevent_setcb(bev, on_read, NULL, on_event, p);
        bufferevent_enable(bev, EV_READ | EV_WRITE);
        send_hello(p);
}

/* peer_dial() - connect to p->addr ("host:port"); 0, or -1 (tried again later). */
int peer_dial(Peer *p) {
        char host[256];
        const char *colon = strrchr(p->addr, ':');
        if (!colon || (size_t)(colon - p->addr) >= sizeof(host))
                return -1;
        snprintf(host, sizeof(host), "%.*s", (int)(colon - p->addr), p->addr);
        struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *ai = NULL;
        if (getaddrinfo(host, colon + 1, &hints, &ai) != 0 || !ai)
                return -1;
        struct bufferevent *bev = new_bev(-1, false);
        int r = bev ? bufferevent_socket_connect(bev, ai->ai_addr, (int)ai->ai_addrlen) : -1;
        freeaddrinfo(ai);
        if (r < 0) {
                if (bev)
                        bufferevent_free(bev);
                return -1;
        }
        p->dead = false;
        p->ready = false;
        start(p, bev);
        return 0;
}

/* peer_accept() - a connection a peer made to us (@fd, taken). */
int peer_accept(int fd) {
        Peer *p = peer_new(NULL, NULL);
        struct bufferevent *bev = p ? new_bev(fd, true) : NULL;
        if (!bev) {
                if (p)
                        peer_gone(p, "out of memory");
                else
                        evutil_closesocket(fd);
                return -1;
        }
        start(p, bev);
        return 0;
}

void peer_send(Peer *p, NmWriter *w) {
        if (w->oom) {
                peer_gone(p, "out of memory encoding a frame");
                return;
        }
        if (p->bev && !p->dead)
                bufferevent_write(p->bev, w->buf, w->len);
}

/* A region streamed by reference: unmapped once the connection has written (or dropped) all of it. */
typedef struct {
        vm_address_t address;
        vm_size_t size;
        uint32_t refs;
} Streamed;

static void streamed_done(const void *data, size_t len, void *arg) {
        Streamed *s = arg;
        (void)data;
        (void)len;
        if (--s->refs == 0) {
                vm_deallocate(task_self(), s->address, s->size);
                free(s);
        }
}

/*
 * peer_send_region() - a region, in NM_DATA frames of NM_CHUNK bytes, right
 * behind what was sent before; its pages go to TLS as they are (no copy),
 * and it is unmapped once written.  Takes the region in every case.
 */
void peer_send_region(Peer *p, vm_address_t address, vm_size_t size) {
        Streamed *s = p->bev && !p->dead ? malloc(sizeof(*s)) : NULL;
        if (!s) {
                vm_deallocate(task_self(), address, size);
                return;
        }
        *s = (Streamed){ address, size, 1 };
        /* Its pages are faulted in as TLS reads them: at the same time as the other side decrypts
         * (mapping them all first, in one call, kept the other side waiting longer). */
        struct evbuffer *out = bufferevent_get_output(p->bev);
        for (vm_size_t off = 0; off < size; off += NM_CHUNK) {
                uint32_t n = size - off < NM_CHUNK ? (uint32_t)(size - off) : NM_CHUNK;
                uint8_t hdr[NM_HDR_SIZE];
                nm_header(hdr, NM_DATA, n);
                s->refs++;
                if (evbuffer_add(out, hdr, sizeof(hdr)) < 0 ||
                    evbuffer_add_reference(out, (const uint8_t *)(uintptr_t)address + off, n, streamed_done, s) < 0) {
                        s->refs--;
                        peer_gone(p, "out of memory streaming a region");
                        break;
                }
        }
        streamed_done(NULL, 0, s);
}

static void free_peer(evutil_socket_t fd, short what, void *arg) {
        Peer *p = arg;
        (void)fd;
        (void)what;
        free(p->exports);
        idmap_deinit(&p->export_ids);
        idmap_deinit(&p->export_names);
        idmap_deinit(&p->import_ids);
        free(p->lookups);
        free(p);
}

static void on_redial(evutil_socket_t fd, short what, void *arg) {
        Peer *p = arg;
        (void)fd;
        (void)what;
        if (peer_dial(p) < 0) {
                struct timeval tv = { 1, 0 };
                event_add(p->redial, &tv);
        }
}

/*
 * peer_gone() - the connection ended: every proxy for the peer's ports dies
 * (local senders see dead names and their notifications), our exports to it
 * are released, its pending look-ups fail.  A peer we dial is dialed again
 * every second; what died stays dead.
 */
void peer_gone(Peer *p, const char *why) {
        if (!p->dead && (nm.verbose || !p->parked))
                nm_log("peer %s: %s", p->host[0] ? p->host : "(not introduced)", why);
        p->dead = true;
        p->ready = false;
        proxy_peer_gone(p);
        if (p->origin) {
                msg_origin_destroy(p->origin);  /* messages delivered keep it */
                p->origin = 0;
        }
        if (p->bev) {
                bufferevent_free(p->bev);
                p->bev = NULL;
        }
        bool was_ready = p->host[0] != '\0';
        if (was_ready)
                for (uint32_t i = 0; i < nm.n_peers; i++) {
                        /* A connection we left for this one: dial it again. */
                        Peer *q = nm.peers[i];
                        if (q != p && q->parked && strcmp(q->host, p->host) == 0) {
                                q->parked = false;
                                struct timeval tv = { 1, 0 };
                                if (!q->redial)
                                        q->redial = evtimer_new(nm.base, on_redial, q);
                                if (q->redial)
                                        event_add(q->redial, &tv);
                        }
                }
        if (p->addr[0]) {
                if (p->parked)
                        return;
                if (!p->redial)
                        p->redial = evtimer_new(nm.base, on_redial, p);
                struct timeval tv = { 1, 0 };
                if (p->redial)
                        event_add(p->redial, &tv);
                return;
        }
        /* An accepted connection: forget it, and free it once whoever called us has returned. */
        for (uint32_t i = 0; i < nm.n_peers; i++)
                if (nm.peers[i] == p) {
                        nm.peers[i] = nm.peers[--nm.n_peers];
                        break;
                }
        struct timeval zero = { 0, 0 };
        event_base_once(nm.base, -1, EV_TIMEOUT, free_peer, p, &zero);
}

/* The certificate's common name, for the log and for message credentials. */
static void note_identity(Peer *p) {
        if (!nm.ssl || !p->bev)
                return;
        SSL *ssl = bufferevent_openssl_get_ssl(p->bev);
        X509 *cert = ssl ? SSL_get1_peer_certificate(ssl) : NULL;
        if (!cert)
                return;
        X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, p->identity,
                                  sizeof(p->identity));
        X509_free(cert);
}

static void on_hello(Peer *p, const uint8_t *body, uint32_t len) {
        NmReader r;
        nm_reader_init(&r, body, len);
        uint16_t major = nm_u16(&r), minor = nm_u16(&r), n = nm_u16(&r);
        const uint8_t *host = n <= NM_HOST_MAX ? nm_bytes(&r, n) : NULL;
        if (r.bad || !host || n == 0 || r.p != r.end) {
                peer_gone(p, "malformed HELLO");
                return;
        }
        if (major != NM_VERSION_MAJOR) {
                peer_gone(p, "speaks another major version of the protocol");
                return;
        }
        char name[NM_HOST_MAX + 1];
        snprintf(name, sizeof(name), "%.*s", (int)n, (const char *)host);
        if (strcmp(name, nm.host) == 0) {
                peer_gone(p, "it has our own name");
                return;
        }
        snprintf(p->host, sizeof(p->host), "%s", name);
        p->minor = minor;
        note_identity(p);
        if (nm.ssl && strcmp(p->identity, name) != 0) {
                /* A certificate names one host: a peer cannot speak for another. */
                nm_log("peer %s: its certificate is for \"%s\"; refused", name, p->identity);
                peer_gone(p, "certificate and name differ");
                return;
        }
        Peer *other = peer_find(name);
        if (other && other != p) {
                /* Both dialed: one connection per pair of hosts, the one the host with the smaller
                 * name dialed; both sides choose the same.  The other is closed, and a dialed one
                 * waits until the chosen one ends. */
                bool mine_smaller = strcmp(nm.host, name) < 0;
                Peer *keep = (p->addr[0] != '\0') == mine_smaller ? p : other;
                Peer *drop = keep == p ? other : p;
                if (drop->addr[0])
                        drop->parked = true;
                peer_gone(drop, "a second connection to the same host, closed");
                if (drop == p)
                        return;
        }
        /* What it sends arrives from it: its host and certificate, not from us (msg_last_origin()). */
        kern_return_t kr = msg_origin_create(p->host, p->identity, &p->origin);
        if (kr != KERN_SUCCESS) {
                nm_log("peer %s: cannot speak for it: %s", name, machipc_strerror(kr));
                peer_gone(p, "its name cannot be a sender's origin here");
                return;
        }
        p->ready = true;
        nm_log("peer %s: connected%s%s", p->host, p->identity[0] ? ", certificate " : " (insecure)",
               p->identity);
}

static void on_read(struct bufferevent *bev, void *arg) {
        Peer *p = arg;
        struct evbuffer *in = bufferevent_get_input(bev);
        p->last_rx = time(NULL);
        while (!p->dead) {
                size_t avail = evbuffer_get_length(in);
                if (p->data_left && !p->assembly && p->discard_left) {
                        /* The regions of a message that was not delivered: read and dropped. */
                        size_t n = avail < p->data_left ? avail : p->data_left;
                        if (n > p->discard_left)
                                n = (size_t)p->discard_left;
                        if (!n)
                                return;
                        evbuffer_drain(in, n);
                        p->data_left -= (uint32_t)n;
                        p->discard_left -= n;
                        continue;
                }
                if (p->data_left) {
                        /* Inside an NM_DATA body: its bytes go straight into the region being filled. */
                        uint8_t *dst;
                        uint64_t room = proxy_data_room(p, &dst);
                        if (!room) {
                                peer_gone(p, "NM_DATA beyond the regions its message announced");
                                return;
                        }
                        size_t n = avail < p->data_left ? avail : p->data_left;
                        if (n > room)
                                n = (size_t)room;
                        if (!n || evbuffer_remove(in, dst, n) != (int)n)
                                return;
                        p->data_left -= (uint32_t)n;
                        proxy_data_took(p, (uint32_t)n);
                        continue;
                }
                if (avail < NM_HDR_SIZE)
                        return;
                uint8_t *hdr = evbuffer_pullup(in, NM_HDR_SIZE);
                uint16_t type;
                const uint8_t *body;
                uint32_t len;
                int n = nm_frame_next(hdr, NM_HDR_SIZE, &type, &body, &len);
                if (n < 0 || (n == 0 && (uint32_t)(hdr[0] | hdr[1] << 8 | hdr[2] << 16 | (uint32_t)hdr[3] << 24) >
                                                NM_FRAME_MAX)) {
                        peer_gone(p, "malformed frame");
                        return;
                }
                uint32_t want = (uint32_t)(hdr[0] | hdr[1] << 8 | hdr[2] << 16 | (uint32_t)hdr[3] << 24);
                if ((uint16_t)(hdr[4] | hdr[5] << 8) == NM_DATA && p->ready) {
                        /* Streamed as it comes, not held whole: see above. */
                        if (!p->assembly && !p->discard_left) {
                                peer_gone(p, "NM_DATA that no message announced");
                                return;
                        }
                        evbuffer_drain(in, NM_HDR_SIZE);
                        p->data_left = want;
                        continue;
                }
                if (avail < NM_HDR_SIZE + (size_t)want)
                        return;
                uint8_t *frame = evbuffer_pullup(in, (ev_ssize_t)(NM_HDR_SIZE + want));
                if (!frame || nm_frame_next(frame, NM_HDR_SIZE + want, &type, &body, &len) <= 0) {
                        peer_gone(p, "malformed frame");
                        return;
                }
                if (type == NM_HELLO) {
                        if (p->ready)
                                peer_gone(p, "a second HELLO");
                        else
                                on_hello(p, body, len);
                } else if (!p->ready) {
                        peer_gone(p, "a frame before HELLO");
                } else if (type != NM_PING) {
                        proxy_on_frame(p, type, body, len);
                }
                if (!p->dead)
                        evbuffer_drain(in, NM_HDR_SIZE + want);
        }
}

static void on_event(struct bufferevent *bev, short what, void *arg) {
        Peer *p = arg;
        if (what & BEV_EVENT_CONNECTED) {
                no_delay(bev);  /* the socket exists now */
                return;
        }
        if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
                char why[160] = "connection closed";
                unsigned long e = nm.ssl ? bufferevent_get_openssl_error(p->bev) : 0;
                if (e)
                        ERR_error_string_n(e, why, sizeof(why));
                else if (what & BEV_EVENT_ERROR)
                        snprintf(why, sizeof(why), "%s", strerror(EVUTIL_SOCKET_ERROR()));
                peer_gone(p, why);
        }
}

/* peer_tick() - once a second: PING every peer every 2 s; one silent for NM_DEAD_AFTER_S is dead. */
void peer_tick(void) {
        time_t now = time(NULL);
        for (uint32_t i = 0; i < nm.n_peers; i++) {
                Peer *p = nm.peers[i];
                if (p->dead || !p->bev)
                        continue;
                if (now - p->last_rx >= NM_DEAD_AFTER_S) {
                        peer_gone(p, "silent too long");
                        i = (uint32_t)-1;       /* the array may have changed */
                        continue;
                }
                if (now % 2 == 0) {
                        NmWriter w;
                        nm_writer_init(&w);
                        nm_end(&w, nm_begin(&w, NM_PING));
                        peer_send(p, &w);
                        nm_writer_free(&w);
                }
        }
}
