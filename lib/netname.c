/* SPDX-License-Identifier: MIT */
/*
 * netname.c - client side of the name server protocol
 *
 * Requests are RPCs to the name server's port (by default the broker's
 * bootstrap port), laid out as doc/protocol.md "Name server" says: a
 * MSG_TYPE_STRING item with the name, then the port items the call needs.
 */

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include "internal.h"

static pthread_mutex_t ns_lock = PTHREAD_MUTEX_INITIALIZER;
static port_t ns_cached;
static uint32_t ns_cached_gen;

typedef union {
        msg_header_t h;
        uint8_t bytes[sizeof(msg_header_t) + MSG_ITEM_SIZE(NETNAME_MAX) + 2 * MSG_ITEM_SIZE(4)];
} NetnameBuf;

/* The bootstrap port: from the handshake, else asked for (a name server may have started since). */
static port_t ns_server(bool refresh) {
        pthread_mutex_lock(&ns_lock);
        if (ns_cached_gen != conn_generation()) {
                ns_cached = PORT_NULL;
                ns_cached_gen = conn_generation();
        }
        if (!ns_cached && !refresh)
                ns_cached = conn_bootstrap();
        if (!ns_cached || refresh) {
                port_t p = PORT_NULL;
                if (task_get_bootstrap_port(task_self(), &p) == KERN_SUCCESS)
                        ns_cached = p;
        }
        port_t r = ns_cached;
        pthread_mutex_unlock(&ns_lock);
        return r;
}

static int name_ok(const char *name) {
        if (!name)
                return 0;
        size_t n = strnlen(name, NETNAME_MAX);
        return n > 0 && n < NETNAME_MAX;
}

/* The disposition that gives the server a send right to @name. */
static uint16_t send_disposition(port_t name) {
        port_type_t t = 0;
        if (name != PORT_NULL && port_type(task_self(), name, &t) == KERN_SUCCESS &&
            !(t & PORT_TYPE_SEND) && (t & PORT_TYPE_RECEIVE))
                return MSG_TYPE_MAKE_SEND;
        return MSG_TYPE_COPY_SEND;
}

/* Header + name item + up to two one-element port items. */
static void ns_encode(NetnameBuf *b, port_t server, int32_t id, const char *name,
                      const port_t *ports, const uint16_t *disps, uint32_t n_ports) {
        uint32_t len = (uint32_t)strlen(name) + 1;
        memset(b, 0, sizeof(*b));
        uint8_t *p = b->bytes + sizeof(msg_header_t);
        msg_type_t t = { MSG_TYPE_STRING, 0, len };
        memcpy(p, &t, sizeof(t));
        memcpy(p + sizeof(t), name, len);
        p += MSG_ITEM_SIZE(len);
        for (uint32_t i = 0; i < n_ports; i++) {
                msg_type_t pt = { disps[i], 0, 1 };
                memcpy(p, &pt, sizeof(pt));
                memcpy(p + sizeof(pt), &ports[i], 4);
                p += MSG_ITEM_SIZE(4);
        }
        b->h.msg_size = (uint32_t)(p - b->bytes);
        b->h.msg_remote_port = server;
        b->h.msg_id = id;
        b->h.msg_bits = MSG_BITS(MSG_TYPE_COPY_SEND, 0);
}

/* Decode a reply: the code, and the right a look-up returns. */
static int ns_decode(NetnameBuf *b, int32_t id, port_t *portp) {
        WireItemIter it;
        WireItem item;
        int32_t code;
        if (b->h.msg_id != id + 100 || b->h.msg_size > sizeof(*b))
                return -EPROTO;
        wire_item_iter_init(&it, b->bytes, b->h.msg_size);
        if (!wire_item_next(&it, &item) || item.name != MSG_TYPE_INTEGER_32 || item.number != 1 ||
            item.offset + 4 > b->h.msg_size)
                return -EPROTO;
        memcpy(&code, b->bytes + item.offset, 4);
        /* The out-parameter is written only on success. */
        if (portp && code == NETNAME_SUCCESS) {
                if (!wire_item_next(&it, &item) || item.number != 1 || item.offset + 4 > b->h.msg_size)
                        return -EPROTO;
                memcpy(portp, b->bytes + item.offset, 4);
        }
        return code;
}

/* One request, retried once against a fresh bootstrap port if the cached one died. */
static int ns_rpc(port_t server, int32_t id, const char *name, const port_t *ports,
                  uint32_t n_ports, port_t *portp) {
        NetnameBuf b;
        uint16_t disps[2];
        for (uint32_t i = 0; i < n_ports; i++)
                disps[i] = send_disposition(ports[i]);
        bool dflt = server == PORT_NULL;
        for (int attempt = 0; attempt < 2; attempt++) {
                port_t s = dflt ? ns_server(attempt > 0) : server;
                if (s == PORT_NULL) {
                        int e = conn_ensure();
                        return e < 0 ? e : NETNAME_NO_SERVER;
                }
                ns_encode(&b, s, id, name, ports, disps, n_ports);
                int r = msg_rpc(&b.h, MSG_OPTION_NONE, sizeof(b), 0, 0);
                if (r == SEND_INVALID_DEST && dflt)
                        continue;       /* the name server was restarted */
                if (r == SEND_INVALID_DEST || r == RCV_SERVER_DIED)
                        return dflt ? NETNAME_NO_SERVER : r;
                if (r != 0)
                        return r;
                return ns_decode(&b, id, portp);
        }
        return NETNAME_NO_SERVER;
}

kern_return_t netname_check_in(port_t server, const char *name, port_t signature, port_t port) {
        if (!name_ok(name))
                return KERN_INVALID_ARGUMENT;
        if (port == PORT_NULL)
                return NETNAME_INVALID_PORT;
        port_t ports[2] = { signature, port };
        return ns_rpc(server, NETNAME_MSG_CHECK_IN, name, ports, 2, NULL);
}

kern_return_t netname_look_up(port_t server, const char *host, const char *name, port_t *port) {
        if (!name_ok(name) || !port)
                return KERN_INVALID_ARGUMENT;
        if (host && *host && strcmp(host, "localhost") != 0)
                return NETNAME_NO_SUCH_HOST;
        return ns_rpc(server, NETNAME_MSG_LOOK_UP, name, NULL, 0, port);
}

kern_return_t netname_check_out(port_t server, const char *name, port_t signature) {
        if (!name_ok(name))
                return KERN_INVALID_ARGUMENT;
        port_t ports[1] = { signature };
        return ns_rpc(server, NETNAME_MSG_CHECK_OUT, name, ports, 1, NULL);
}
