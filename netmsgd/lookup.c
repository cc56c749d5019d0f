/* SPDX-License-Identifier: MIT */
/*
 * lookup.c - names on other hosts (netmsg.defs look_up, answered when the
 * peer has answered) and the listing machipcctl proxies shows (list)
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <machipc/mig.h>
#include "netmsgd.h"
#include "rights.h"

/* ---- look-ups ---- */


kern_return_t do_netmsg_look_up(mach_port_t server, mach_port_t reply, char *host, char *name, mach_port_t *port) {
        (void)server;
        (void)port;
        if (strcmp(host, nm.host) == 0) {
                /* This host, by the name the others know it by. */
                port_t found = PORT_NULL;
                kern_return_t kr = netname_look_up(PORT_NULL, NULL, name, &found);
                answer_lookup(reply, kr, found, MSG_TYPE_MOVE_SEND);
                return MIG_NO_REPLY;
        }
        Peer *p = peer_find(host);
        if (!p)
                return NETNAME_HOST_NOT_FOUND;
        /* Each holds its asker's reply right: bounded, or a task could fill our names. */
        if (p->n_lookups >= NM_PEER_LOOKUPS_MAX)
                return KERN_RESOURCE_SHORTAGE;
        Lookup *v = nm_room(p->lookups, p->n_lookups, &p->cap_lookups, sizeof(*v));
        if (!v)
                return KERN_RESOURCE_SHORTAGE;
        p->lookups = v;
        Lookup *l = &p->lookups[p->n_lookups++];
        *l = (Lookup){ p->next_request++, reply, time(NULL) + NETMSG_LOOKUP_TIMEOUT_S };
        NmWriter w;
        nm_writer_init(&w);
        size_t f = nm_begin(&w, NM_LOOKUP);
        nm_put_u32(&w, l->request);
        nm_put_u16(&w, (uint16_t)strlen(name));
        nm_put_bytes(&w, name, strlen(name));
        nm_end(&w, f);
        peer_send(p, &w);
        nm_writer_free(&w);
        return MIG_NO_REPLY;    /* answered when the peer answers */
}

/* The answer a generated server would have sent for look_up (1060): the code, and on success the right. */
void answer_lookup(port_t reply, kern_return_t code, port_t right, uint16_t disp) {
        if (code != KERN_SUCCESS || right == PORT_NULL) {
                answer_code(reply, 1060, code == KERN_SUCCESS ? NETNAME_NOT_CHECKED_IN : code);
                return;
        }
        struct {
                msg_header_t h;
                msg_type_t t;
                int32_t code;
                int32_t pad;
                msg_type_t pt;
                port_t port;
                uint32_t pad2;
        } m = { .h = { .msg_size = sizeof(msg_header_t) + MSG_ITEM_SIZE(4) + MSG_ITEM_SIZE(4),
                       .msg_remote_port = reply, .msg_id = 1160,
                       .msg_bits = MSG_BITS(MSG_TYPE_MOVE_SEND_ONCE, 0) },
                .t = { MSG_TYPE_INTEGER_32, 0, 1 }, .code = KERN_SUCCESS, .pt = { disp, 0, 1 }, .port = right };
        if (msg_send(&m.h, SEND_TIMEOUT, 0) != 0)
                port_deallocate(task_self(), reply);
}

void on_lookup(Peer *p, const uint8_t *body, uint32_t len) {
        NmReader r;
        nm_reader_init(&r, body, len);
        uint32_t req = nm_u32(&r);
        uint16_t n = nm_u16(&r);
        const uint8_t *name = n >= 1 && n <= NM_NAME_MAX ? nm_bytes(&r, n) : NULL;
        if (r.bad || !name || r.p != r.end) {
                peer_gone(p, "malformed NM_LOOKUP");
                return;
        }
        char text[NM_NAME_MAX + 1];
        snprintf(text, sizeof(text), "%.*s", (int)n, (const char *)name);
        port_t found = PORT_NULL;
        kern_return_t kr = memchr(text, '\0', n) ? KERN_INVALID_ARGUMENT
                                                 : netname_look_up(PORT_NULL, NULL, text, &found);
        NmWriter w;
        nm_writer_init(&w);
        size_t f = nm_begin(&w, NM_LOOKUP_REPLY);
        nm_put_u32(&w, req);
        nm_put_u32(&w, (uint32_t)kr);
        nm_put_ref(&w, kr == NETNAME_SUCCESS ? ref_for(p, found, MSG_TYPE_PORT_SEND) : (NmRef){ 0, 0, 0 });
        nm_end(&w, f);
        peer_send(p, &w);
        nm_writer_free(&w);
}

void on_lookup_reply(Peer *p, const uint8_t *body, uint32_t len) {
        NmReader r;
        nm_reader_init(&r, body, len);
        uint32_t req = nm_u32(&r);
        int32_t code = (int32_t)nm_u32(&r);
        NmRef ref = nm_ref(&r);
        if (r.bad || r.p != r.end) {
                peer_gone(p, "malformed NM_LOOKUP_REPLY");
                return;
        }
        for (uint32_t i = 0; i < p->n_lookups; i++) {
                if (p->lookups[i].request != req)
                        continue;
                port_t reply = p->lookups[i].reply;
                p->lookups[i] = p->lookups[--p->n_lookups];
                port_t name;
                uint16_t disp;
                if (code == KERN_SUCCESS && ref.kind == NM_REF_SEND && import_ref(p, ref, &name, &disp))
                        answer_lookup(reply, KERN_SUCCESS, name, disp);
                else
                        answer_lookup(reply, code ? code : NETNAME_NOT_CHECKED_IN, PORT_NULL, 0);
                return;
        }
}

/* proxy_expire_lookups() - once a second: look-ups a peer never answered fail. */
void proxy_expire_lookups(void) {
        time_t now = time(NULL);
        for (uint32_t k = 0; k < nm.n_peers; k++) {
                Peer *p = nm.peers[k];
                for (uint32_t i = 0; i < p->n_lookups;) {
                        if (p->lookups[i].deadline > now) {
                                i++;
                                continue;
                        }
                        answer_lookup(p->lookups[i].reply, NETNAME_HOST_NOT_FOUND, PORT_NULL, 0);
                        p->lookups[i] = p->lookups[--p->n_lookups];
                }
        }
}

kern_return_t do_netmsg_list(mach_port_t server, int start, char *listing, mach_msg_type_number_t *count, int *next) {
        (void)server;
        size_t max = *count, len = 0;
        uint32_t total = nm.n_peers + nm.n_imports, i = start > 0 ? (uint32_t)start : 0;
        for (; i < total; i++) {
                char line[NM_HOST_MAX * 2 + 96];
                int n;
                if (i < nm.n_peers) {
                        Peer *p = nm.peers[i];
                        n = snprintf(line, sizeof(line), "peer %s %s %d %u\n", p->host[0] ? p->host : "-",
                                     p->identity[0] ? p->identity : "-", p->ready && !p->dead, p->n_exports);
                } else {
                        Import *im = &nm.imports[i - nm.n_peers];
                        n = snprintf(line, sizeof(line), "proxy %u %s %llu %s %d %d\n", (unsigned)im->proxy,
                                     im->peer->host, (unsigned long long)im->id, im->once ? "send-once" : "send",
                                     im->credit, im->paused);
                }
                if (n < 0 || len + (size_t)n > max)
                        break;
                memcpy(listing + len, line, (size_t)n);
                len += (size_t)n;
        }
        *count = (mach_msg_type_number_t)len;
        *next = i < total ? (int)i : 0;
        return KERN_SUCCESS;
}
