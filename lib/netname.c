/* SPDX-License-Identifier: MIT */
/*
 * netname.c - client side of the name server protocol
 *
 * The calls are stubs generated from interfaces/netname.defs (machipc-mig),
 * made to the name server's port: by default the broker's bootstrap port,
 * looked up again once if the name server was restarted.  What a task
 * checks in there is checked in again with a restarted name server
 * (netname-keep.c).
 */

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include "internal.h"
#include "netname.h"
#include "netmsg.h"

static pthread_mutex_t ns_lock = PTHREAD_MUTEX_INITIALIZER;
static port_t ns_cached;
static uint32_t ns_cached_gen;

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

/* netname_atfork_child() - the child of fork() is a new task: no cached name server, a fresh lock. */
void netname_atfork_child(void) {
        pthread_mutex_init(&ns_lock, NULL);
        ns_cached = PORT_NULL;
        ns_cached_gen = 0;
}

/* netname_server_changed() - a new name server registered: @server is a send right to it. */
void netname_server_changed(port_t server) {
        pthread_mutex_lock(&ns_lock);
        ns_cached = server;
        ns_cached_gen = conn_generation();
        pthread_mutex_unlock(&ns_lock);
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

/*
 * Call a stub against @server, or against the bootstrap port (retried once
 * against a fresh one if the cached one died: the name server restarted).
 */
#define NS_CALL(server, call)                                                   \
        ({                                                                      \
                int r_ = NETNAME_NO_SERVER;                                     \
                bool dflt_ = (server) == PORT_NULL;                             \
                for (int attempt_ = 0; attempt_ < 2; attempt_++) {              \
                        port_t s = dflt_ ? ns_server(attempt_ > 0) : (server);  \
                        if (s == PORT_NULL) {                                   \
                                int e_ = conn_ensure();                         \
                                r_ = e_ < 0 ? e_ : NETNAME_NO_SERVER;           \
                                break;                                          \
                        }                                                       \
                        r_ = (call);                                            \
                        if (r_ == SEND_INVALID_DEST && dflt_ && attempt_ == 0)  \
                                continue;                                       \
                        if (dflt_ && (r_ == SEND_INVALID_DEST || r_ == MIG_SERVER_DIED)) \
                                r_ = NETNAME_NO_SERVER;                         \
                        break;                                                  \
                }                                                               \
                r_;                                                             \
        })

kern_return_t netname_check_in(port_t server, const char *name, port_t signature, port_t port) {
        if (!name_ok(name))
                return KERN_INVALID_ARGUMENT;
        if (port == PORT_NULL)
                return NETNAME_INVALID_PORT;
        mach_msg_type_name_t sd = send_disposition(signature), pd = send_disposition(port);
        port_t used = PORT_NULL;
        kern_return_t r = NS_CALL(server, (used = s, netname_rpc_check_in(s, name, signature, sd, port, pd)));
        /* Names checked in with the bootstrap name server outlive its restarts (netname-keep.c). */
        if (r == NETNAME_SUCCESS && server == PORT_NULL)
                netname_keep_add(used, name, signature, port);
        return r;
}

/*
 * A name on another host: asked of this host's machipc-netmsgd (checked in
 * with the name server), which asks that host's and answers with a proxy.
 * Without a netmsgd no other host is reachable: NETNAME_NO_SUCH_HOST.
 */
static kern_return_t look_up_remote(port_t server, const char *host, const char *name, port_t *port) {
        if (strnlen(host, 256) >= 256)
                return KERN_INVALID_ARGUMENT;
        port_t netmsgd = PORT_NULL;
        kern_return_t r = NS_CALL(server, netname_rpc_look_up(s, "machipc-netmsgd", &netmsgd));
        if (r != NETNAME_SUCCESS)
                return r == NETNAME_NOT_CHECKED_IN ? NETNAME_NO_SUCH_HOST : r;
        port_t found = PORT_NULL;
        r = netmsg_rpc_look_up(netmsgd, host, name, &found);
        port_deallocate(task_self(), netmsgd);
        if (r == MIG_SERVER_DIED || r == SEND_INVALID_DEST)
                r = NETNAME_NO_SUCH_HOST;
        if (r == NETNAME_SUCCESS)
                *port = found;
        return r;
}

kern_return_t netname_look_up(port_t server, const char *host, const char *name, port_t *port) {
        if (!name_ok(name) || !port)
                return KERN_INVALID_ARGUMENT;
        if (host && *host && strcmp(host, "localhost") != 0)
                return look_up_remote(server, host, name, port);
        /* The out-parameter is written only on success. */
        port_t found = PORT_NULL;
        kern_return_t r = NS_CALL(server, netname_rpc_look_up(s, name, &found));
        if (r == NETNAME_SUCCESS)
                *port = found;
        return r;
}

kern_return_t netname_check_out(port_t server, const char *name, port_t signature) {
        if (!name_ok(name))
                return KERN_INVALID_ARGUMENT;
        mach_msg_type_name_t sd = send_disposition(signature);
        kern_return_t r = NS_CALL(server, netname_rpc_check_out(s, name, signature, sd));
        if (r == NETNAME_SUCCESS && server == PORT_NULL)
                netname_keep_drop(name);
        return r;
}
