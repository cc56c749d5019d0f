/* SPDX-License-Identifier: MIT */
/*
 * main.c - machipc-netmsgd: ports across machines (doc/netmsg.md)
 *
 * A task of its host's broker, and a TLS server and client to the netmsgd of
 * other hosts.  It checks in as "machipc-netmsgd" with the local name server,
 * so that netname_look_up(..., "hostB", "echo", &port) reaches it, receives
 * on one armed port set (its service, its notifications, every proxy) from a
 * libevent loop that also drives the peers' connections.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <event2/listener.h>
#include <openssl/err.h>
#include <machipc/event.h>
#include <machipc/mig.h>
#include "netmsgd.h"
#include "prefault.h"
#include "netmsgServer.h"
#include "tool.h"

Netmsgd nm;

void nm_log(const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "machipc-netmsgd: ");
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
}

/*
 * nm_room() - room for one more in @array of @n elements of @elem bytes
 * (*@cap allocated), doubled if full.  Return: the array (perhaps moved), or
 * NULL with @array left as it was.
 */
void *nm_room(void *array, uint32_t n, uint32_t *cap, size_t elem) {
        if (n < *cap)
                return array;
        uint32_t more = *cap ? 2 * *cap : 16;
        void *v = realloc(array, more * elem);
        if (v)
                *cap = more;
        return v;
}

static void usage(FILE *f) {
        fprintf(f, "Usage: machipc-netmsgd [--listen ADDR:PORT] --cert FILE --key FILE --ca FILE\n"
                   "                       [--peer HOST:PORT]... [--name HOST] [--peer-rights N] [--insecure]\n"
                   "                       [--ready-fd FD]\n"
                   "Makes this host's ports reachable from other hosts' tasks, and theirs from ours,\n"
                   "over TLS 1.3 with certificates on both sides (doc/netmsg.md).\n\n"
                   "  -l, --listen ADDR:PORT  accept peers there (default 0.0.0.0:%d)\n"
                   "  -c, --cert FILE         this host's certificate (PEM)\n"
                   "  -k, --key FILE          its private key (PEM)\n"
                   "  -a, --ca FILE           the CA certificates peers must be signed by (PEM)\n"
                   "  -p, --peer HOST:PORT    connect to that netmsgd (again after it goes away)\n"
                   "  -n, --name HOST         the name other hosts know us by (default: the host name)\n"
                   "      --peer-rights N     proxies here for one peer's ports, and rights of ours\n"
                   "                          exported to it, at most N of each (default %d)\n"
                   "      --insecure          no TLS: plaintext, for tests on loopback only\n"
                   "      --ready-fd FD       write \"READY=1\\n\" to FD once serving\n"
                   "  -v, --verbose           log connections and every message\n"
                   "  -h, --help              this help\n"
                   "      --version           the version\n",
                   NETMSG_PORT_DEFAULT, NM_PEER_RIGHTS_DEFAULT);
}

static void on_ready(int n, void *arg) {
        (void)arg;
        if (n < 0) {
                nm_log("the broker went away: %s", machipc_strerror(n));
                event_base_loopbreak(nm.base);
                return;
        }
        static union {
                msg_header_t h;
                uint8_t b[MSG_SIZE_MAX];
        } m, out;
        for (;;) {
                m.h.msg_size = sizeof(m);
                m.h.msg_local_port = nm.set;
                msg_return_t r = msg_receive(&m.h, RCV_TIMEOUT, 0);
                if (r == RCV_TIMED_OUT)
                        return;
                if (r != 0) {
                        nm_log("msg_receive: %s", machipc_strerror(r));
                        event_base_loopbreak(nm.base);
                        return;
                }
                if (m.h.msg_local_port == nm.notify) {
                        proxy_on_notification(&m.h);
                } else if (m.h.msg_local_port == nm.service) {
                        bool handled = netmsg_server(&m.h, &out.h);
                        if (machipc_mig_reply_ready(&m.h, &out.h, handled))
                                machipc_mig_reply(&out.h, 0);
                } else {
                        proxy_on_message(&m.h);
                }
        }
}

static void on_tick(evutil_socket_t fd, short what, void *arg) {
        (void)fd;
        (void)what;
        (void)arg;
        peer_tick();
        proxy_expire_lookups();
        proxy_flush_credit();
}

static void on_retry(evutil_socket_t fd, short what, void *arg) {
        (void)fd;
        (void)what;
        (void)arg;
        proxy_retry_pending();
}

static void on_signal(evutil_socket_t sig, short what, void *arg) {
        (void)sig;
        (void)what;
        (void)arg;
        event_base_loopbreak(nm.base);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len, void *arg) {
        (void)l;
        (void)sa;
        (void)len;
        (void)arg;
        evutil_make_socket_nonblocking(fd);
        if (peer_accept(fd) < 0)
                nm_log("cannot take a connection: out of memory or %d peers", NETMSG_PEERS_MAX);
}

static SSL_CTX *tls_setup(const char *cert, const char *key, const char *ca) {
        SSL_CTX *ctx = SSL_CTX_new(TLS_method());
        if (!ctx)
                return NULL;
        SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
        const char *what = NULL, *file = NULL;
        if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1)
                what = "certificate", file = cert;
        else if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
                what = "key", file = key;
        else if (SSL_CTX_check_private_key(ctx) != 1)
                what = "key (not the certificate's)", file = key;
        else if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1)
                what = "CA certificates", file = ca;
        if (what) {
                char e[200];
                ERR_error_string_n(ERR_get_error(), e, sizeof(e));
                nm_log("TLS set-up: the %s in %s: %s", what, file, e);
                SSL_CTX_free(ctx);
                return NULL;
        }
        /* Both sides show a certificate our CA signed; anything else ends the handshake. */
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
        return ctx;
}

static int parse_addr(const char *text, struct sockaddr_storage *ss, int *len) {
        char host[256];
        const char *colon = strrchr(text, ':');
        if (!colon || (size_t)(colon - text) >= sizeof(host))
                return -1;
        snprintf(host, sizeof(host), "%.*s", (int)(colon - text), text);
        struct sockaddr_in *in = (struct sockaddr_in *)ss;
        memset(ss, 0, sizeof(*ss));
        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t)atoi(colon + 1));
        if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
                return -1;
        *len = (int)sizeof(*in);
        return 0;
}

int main(int argc, char **argv) {
        static const struct option opts[] = {
                { "listen", required_argument, NULL, 'l' },
                { "cert", required_argument, NULL, 'c' },
                { "key", required_argument, NULL, 'k' },
                { "ca", required_argument, NULL, 'a' },
                { "peer", required_argument, NULL, 'p' },
                { "name", required_argument, NULL, 'n' },
                { "insecure", no_argument, NULL, 'I' },
                { "peer-rights", required_argument, NULL, 'R' },
                { "ready-fd", required_argument, NULL, 'r' },
                { "verbose", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                {}
        };
        const char *listen_at = "0.0.0.0:7411", *cert = NULL, *key = NULL, *ca = NULL;
        const char *peers[NETMSG_PEERS_MAX];
        int n_peers = 0, ready_fd = -1, c;
        bool insecure = false;
        nm.peer_rights_max = NM_PEER_RIGHTS_DEFAULT;
        gethostname(nm.host, sizeof(nm.host) - 1);
        while ((c = getopt_long(argc, argv, "l:c:k:a:p:n:vh", opts, NULL)) >= 0) {
                switch (c) {
                case 'l': listen_at = optarg; break;
                case 'c': cert = optarg; break;
                case 'k': key = optarg; break;
                case 'a': ca = optarg; break;
                case 'p':
                        if (n_peers == NETMSG_PEERS_MAX) {
                                fprintf(stderr, "machipc-netmsgd: at most %d peers\n", NETMSG_PEERS_MAX);
                                return 2;
                        }
                        peers[n_peers++] = optarg;
                        break;
                case 'n':
                        if (!*optarg || strlen(optarg) > NM_HOST_MAX) {
                                fprintf(stderr, "machipc-netmsgd: --name: 1 to %u bytes\n", NM_HOST_MAX);
                                return 2;
                        }
                        snprintf(nm.host, sizeof(nm.host), "%s", optarg);
                        break;
                case 'I': insecure = true; break;
                case 'R': {
                        char *end;
                        errno = 0;
                        unsigned long v = strtoul(optarg, &end, 10);
                        if (errno || end == optarg || *end || v < 1 || v > 1000000) {
                                fprintf(stderr, "machipc-netmsgd: --peer-rights: 1 to 1000000, not %s\n", optarg);
                                return 2;
                        }
                        nm.peer_rights_max = (uint32_t)v;
                        break;
                }
                case 'r': ready_fd = atoi(optarg); break;
                case 'v': nm.verbose++; break;
                case 'h': usage(stdout); return 0;
                case 'V': printf("machipc-netmsgd %s\n", MACHIPC_VERSION); return 0;
                default: usage(stderr); return 2;
                }
        }
        if (optind < argc || (!insecure && (!cert || !key || !ca))) {
                fprintf(stderr, "machipc-netmsgd: %s\n", optind < argc ? "unexpected argument"
                                                                       : "--cert, --key and --ca are needed (or --insecure)");
                return 2;
        }
        struct sockaddr_storage ss;
        int sslen;
        if (parse_addr(listen_at, &ss, &sslen) < 0) {
                fprintf(stderr, "machipc-netmsgd: --listen wants IPv4-ADDRESS:PORT, not %s\n", listen_at);
                return 2;
        }
        signal(SIGPIPE, SIG_IGN);
        if (tool_connect("machipc-netmsgd") < 0)
                return 1;
        if (!insecure && !(nm.ssl = tls_setup(cert, key, ca)))
                return 1;
        /* Messages from other hosts name their host as sender, which only the broker's own user may
         * vouch for, and our name is one other hosts must be able to give: find out now, not at the
         * first peer. */
        uint32_t probe;
        kern_return_t pr = msg_origin_create(nm.host, "", &probe);
        if (pr == KERN_INVALID_ARGUMENT) {
                nm_log("the host name \"%s\" cannot name a sender: 1 to 64 printable ASCII characters (--name)",
                       nm.host);
                return 1;
        }
        if (pr != KERN_SUCCESS) {
                nm_log("cannot deliver messages from other hosts as theirs: %s%s", machipc_strerror(pr),
                       pr == KERN_NO_ACCESS ? " (run machipc-netmsgd as the broker's user)" : "");
                return 1;
        }
        msg_origin_destroy(probe);
        /* Each frame to a peer turns write interest on, then off once written: with the
         * changelist those changes cost one epoll_ctl per loop, not two per frame. */
        struct event_config *cfg = event_config_new();
        if (cfg)
                event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
        nm.base = cfg ? event_base_new_with_config(cfg) : NULL;
        if (cfg)
                event_config_free(cfg);
        nm.pending_tail = &nm.pending;
        nm.retry = nm.base ? evtimer_new(nm.base, on_retry, NULL) : NULL;
        kern_return_t kr = nm.base ? port_allocate(task_self(), &nm.service) : KERN_RESOURCE_SHORTAGE;
        if (kr == KERN_SUCCESS)
                kr = port_allocate(task_self(), &nm.notify);
        if (kr == KERN_SUCCESS)
                kr = port_allocate(task_self(), &nm.loop);
        if (kr == KERN_SUCCESS)
                kr = port_set_allocate(task_self(), &nm.set);
        if (kr == KERN_SUCCESS)
                kr = port_set_add(task_self(), nm.set, nm.service);
        if (kr == KERN_SUCCESS)
                kr = port_set_add(task_self(), nm.set, nm.notify);
        if (kr == KERN_SUCCESS)
                kr = port_set_backlog(task_self(), nm.notify, PORT_BACKLOG_MAX);
        if (kr == KERN_SUCCESS)
                kr = machipc_arm(nm.set);
        if (kr != KERN_SUCCESS) {
                nm_log("set-up: %s", machipc_strerror(kr));
                return 1;
        }
        kr = netname_check_in(PORT_NULL, "machipc-netmsgd", nm.service, nm.service);
        if (kr != NETNAME_SUCCESS) {
                nm_log("cannot check in as \"machipc-netmsgd\": %s%s", machipc_strerror(kr),
                       kr == NETNAME_NAME_IN_USE ? " (another netmsgd serves this host)" : "");
                return 1;
        }
        struct evconnlistener *listener = evconnlistener_new_bind(nm.base, on_accept, NULL,
                                                                  LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 64,
                                                                  (struct sockaddr *)&ss, sslen);
        if (!listener) {
                nm_log("cannot listen on %s: %s", listen_at, strerror(errno));
                return 1;
        }
        for (int i = 0; i < n_peers; i++) {
                Peer *p = peer_new(NULL, peers[i]);
                if (!p || peer_dial(p) < 0) {
                        if (p)
                                peer_gone(p, "cannot dial yet; trying again");
                }
        }
        struct event *ev = machipc_event_new(nm.base, on_ready, NULL);
        struct event *tick = event_new(nm.base, -1, EV_PERSIST, on_tick, NULL);
        struct event *term = evsignal_new(nm.base, SIGTERM, on_signal, NULL);
        struct event *intr = evsignal_new(nm.base, SIGINT, on_signal, NULL);
        struct timeval sec = { 1, 0 };
        if (!ev || !tick || !term || !intr || event_add(tick, &sec) < 0 || event_add(term, NULL) < 0 ||
            event_add(intr, NULL) < 0) {
                nm_log("cannot set up the event loop");
                return 1;
        }
        nm_log("%s listening on %s%s", nm.host, listen_at, insecure ? " WITHOUT TLS (--insecure)" : "");
        if (ready_fd >= 0) {
                if (write(ready_fd, "READY=1\n", 8) < 0)
                        nm_log("ready fd: %s", strerror(errno));
                close(ready_fd);
        }
        event_base_dispatch(nm.base);
        nm_log("stopping: %llu messages forwarded, %llu delivered, %llu refused",
               (unsigned long long)nm.forwarded, (unsigned long long)nm.delivered,
               (unsigned long long)nm.refused);
        while (nm.n_peers) {
                Peer *p = nm.peers[nm.n_peers - 1];
                p->addr[0] = '\0';      /* not to be dialed again */
                if (p->redial) {
                        event_free(p->redial);
                        p->redial = NULL;
                }
                peer_gone(p, "stopping");
        }
        event_base_loop(nm.base, EVLOOP_NONBLOCK);     /* the deferred frees */
        if (nm.retry)
                event_free(nm.retry);
        netname_check_out(PORT_NULL, "machipc-netmsgd", nm.service);
        evconnlistener_free(listener);
        machipc_event_free(ev);
        event_free(tick);
        event_free(term);
        event_free(intr);
        event_base_free(nm.base);
        prefault_end();
        free(nm.imports);
        idmap_deinit(&nm.import_proxies);
        if (nm.ssl)
                SSL_CTX_free(nm.ssl);
        return 0;
}
