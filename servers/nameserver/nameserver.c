/* SPDX-License-Identifier: MIT */
/*
 * nameserver.c - the name server: unrelated tasks find each other here
 *
 * Registers its port as the broker's bootstrap port, so every task that
 * connects afterwards holds a send right to it, then serves the netname
 * protocol (doc/protocol.md "Name server"): check in a send right under a
 * name, look it up, check it out.  A registration whose port has died is
 * dropped when it is next touched, so a crashed server's name can be
 * checked in again at once.  Uses the public API only.
 */

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <machipc/machipc.h>
#include "request.h"
#include "tool.h"

#define NAMES_MAX 4096

typedef struct {
        char name[NETNAME_MAX];
        port_t port;            /* our send right to the service */
        port_t signature;       /* our send right to the signature port, or PORT_NULL */
        pid_t pid;              /* who checked it in */
} Entry;

static Entry *entries;
static unsigned n_entries;
static int verbose;
static volatile sig_atomic_t stop;

static void on_signal(int sig) {
        (void)sig;
        stop = 1;
}

static void release(port_t name) {
        if (name != PORT_NULL && name != PORT_DEAD)
                port_deallocate(task_self(), name);
}

static bool is_dead(port_t name) {
        port_type_t t = 0;
        return port_type(task_self(), name, &t) != KERN_SUCCESS || (t & PORT_TYPE_DEAD_NAME);
}

static void remove_entry(unsigned i) {
        release(entries[i].port);
        release(entries[i].signature);
        entries[i] = entries[--n_entries];
}

/* The entry for @name; entries whose port died are dropped on the way. */
static int find(const char *name) {
        for (unsigned i = 0; i < n_entries; i++) {
                if (strcmp(entries[i].name, name) != 0)
                        continue;
                if (is_dead(entries[i].port)) {
                        if (verbose)
                                fprintf(stderr, "nameserver: \"%s\" died, removed\n", name);
                        remove_entry(i);
                        return -1;
                }
                return (int)i;
        }
        return -1;
}

typedef union {
        msg_header_t head;
        uint8_t bytes[sizeof(msg_header_t) + MSG_ITEM_SIZE(NETNAME_MAX) + 4 * MSG_ITEM_SIZE(4)];
} Buffer;

/* Names one process may have checked in at once, so that no one task fills the table. */
#define NAMES_PER_PID 256

static unsigned names_of(pid_t pid) {
        unsigned n = 0;
        for (unsigned i = 0; i < n_entries; i++)
                n += entries[i].pid == pid;
        return n;
}

static int32_t check_in(const NsRequest *req, pid_t pid) {
        if (req->ports[1] == PORT_NULL || req->ports[1] == PORT_DEAD)
                return NETNAME_INVALID_PORT;
        if (find(req->name) >= 0)
                return NETNAME_NAME_IN_USE;
        if (n_entries >= NAMES_MAX || names_of(pid) >= NAMES_PER_PID)
                return KERN_RESOURCE_SHORTAGE;
        Entry *e = &entries[n_entries++];
        snprintf(e->name, sizeof(e->name), "%s", req->name);
        e->signature = req->ports[0];
        e->port = req->ports[1];
        e->pid = pid;
        if (verbose)
                fprintf(stderr, "nameserver: \"%s\" checked in\n", e->name);
        return NETNAME_SUCCESS;
}

static int32_t check_out(const NsRequest *req) {
        int i = find(req->name);
        if (i < 0)
                return NETNAME_NOT_CHECKED_IN;
        /* Rights to one port share one name here, so names compare as ports. */
        if (entries[i].signature != PORT_NULL && entries[i].signature != req->ports[0])
                return NETNAME_NOT_YOURS;
        if (verbose)
                fprintf(stderr, "nameserver: \"%s\" checked out\n", req->name);
        remove_entry((unsigned)i);
        return NETNAME_SUCCESS;
}

/*
 * Serve the request in @b and build the reply in its place; returns false if
 * there is nobody to answer.  Every right the request carried is either
 * kept (a check-in that succeeded) or given back at once, whatever the
 * request was, so that malformed requests cannot fill our name space.
 */
static bool handle(Buffer *b) {
        port_t reply = b->head.msg_remote_port;
        int32_t id = b->head.msg_id;
        NsRequest req;
        int32_t code;
        port_t give = PORT_NULL;
        bool keep = false;
        msg_sender_t who = { 0 };
        msg_last_sender(&who);

        if (ns_request_parse(b->bytes, sizeof(*b), &req) != 0) {
                code = KERN_INVALID_ARGUMENT;
        } else if (id == NETNAME_MSG_CHECK_IN) {
                code = check_in(&req, who.pid);
                keep = code == NETNAME_SUCCESS;
        } else if (id == NETNAME_MSG_LOOK_UP) {
                int i = find(req.name);
                code = i < 0 ? NETNAME_NOT_CHECKED_IN : NETNAME_SUCCESS;
                if (i >= 0)
                        give = entries[i].port;
        } else {
                code = check_out(&req);
        }
        if (!keep) {
                /* Keep the reply right; everything else the request carried goes. */
                b->head.msg_remote_port = PORT_NULL;
                msg_destroy(&b->head);
        }
        /* Only a send-once right (what netname_* send) gets an answer; anything else
         * would let a client make us send to ports it chose. */
        if (reply == PORT_NULL || MSG_BITS_REMOTE(b->head.msg_bits) != MSG_TYPE_PORT_SEND_ONCE) {
                if (reply != PORT_NULL)
                        release(reply);
                return false;
        }

        uint8_t *p = b->bytes + sizeof(msg_header_t);
        msg_type_t t;
        msg_type_init(&t, MSG_TYPE_INTEGER_32, 1);
        memcpy(p, &t, sizeof(t));
        memcpy(p + sizeof(t), &code, 4);
        memset(p + sizeof(t) + 4, 0, 4);
        p += MSG_ITEM_SIZE(4);
        if (id == NETNAME_MSG_LOOK_UP) {
                msg_type_init(&t, MSG_TYPE_COPY_SEND, 1);
                memcpy(p, &t, sizeof(t));
                memcpy(p + sizeof(t), &give, 4);
                memset(p + sizeof(t) + 4, 0, 4);
                p += MSG_ITEM_SIZE(4);
        }
        b->head.msg_size = (uint32_t)(p - b->bytes);
        b->head.msg_id = id + 100;
        b->head.msg_remote_port = reply;
        b->head.msg_local_port = PORT_NULL;
        b->head.msg_bits = 0;
        return true;
}

int main(int argc, char **argv) {
        int ready_fd = -1, c;
        static const struct option opts[] = {
                { "ready-fd", required_argument, NULL, 'r' },
                { "verbose", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        while ((c = getopt_long(argc, argv, "vh", opts, NULL)) >= 0) {
                switch (c) {
                case 'r':
                        ready_fd = atoi(optarg);
                        break;
                case 'v':
                        verbose = 1;
                        break;
                case 'h':
                        printf("Usage: machipc-nameserver [--ready-fd FD] [-v]\n"
                               "Registers as the broker's bootstrap port and serves "
                               "netname_check_in/look_up/check_out.\n");
                        return 0;
                default:
                        return 2;
                }
        }
        struct sigaction sa = { .sa_handler = on_signal };
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);

        if (tool_connect("nameserver") < 0)
                return 1;
        entries = calloc(NAMES_MAX, sizeof(*entries));
        if (!entries)
                return 1;
        port_t service;
        kern_return_t kr = port_allocate(task_self(), &service);
        if (kr != KERN_SUCCESS) {
                fprintf(stderr, "nameserver: port_allocate: %s\n", machipc_strerror(kr));
                return 1;
        }
        port_set_backlog(task_self(), service, PORT_BACKLOG_MAX);
        kr = machipc_set_bootstrap_port(service);
        if (kr != KERN_SUCCESS) {
                fprintf(stderr, "nameserver: cannot register as bootstrap port: %s\n",
                        kr == KERN_NAME_EXISTS ? "another name server is running"
                                               : machipc_strerror(kr));
                return 1;
        }
        if (ready_fd >= 0) {
                if (write(ready_fd, "READY=1\n", 8) < 0)
                        perror("nameserver: ready fd");
                close(ready_fd);
        }
        if (verbose)
                fprintf(stderr, "nameserver: ready\n");

        Buffer b;
        bool have_reply = false;
        port_t reply_name = PORT_NULL;
        while (!stop) {
                msg_return_t r;
                if (have_reply) {
                        r = msg_send_receive(&b.head, SEND_TIMEOUT | RCV_TIMEOUT, sizeof(b), service,
                                             0, 500);
                } else {
                        b.head.msg_size = sizeof(b);
                        b.head.msg_local_port = service;
                        r = msg_receive(&b.head, RCV_TIMEOUT, 500);
                }
                have_reply = false;
                if (r == RCV_TIMED_OUT)
                        continue;
                if (r == SEND_INVALID_DEST) {
                        release(reply_name);
                        continue;
                }
                if (r == SEND_TIMED_OUT) {
                        /* Returned to us: give back what it carried. */
                        release(b.head.msg_remote_port);
                        continue;
                }
                if (r == RCV_TOO_LARGE)
                        continue;       /* destroyed by the broker; the client gets its answer by RCV_SERVER_DIED */
                if (r == RCV_BODY_ERROR) {
                        msg_destroy(&b.head);   /* not a request of ours: regions or descriptors */
                        continue;
                }
                if (r != 0) {
                        fprintf(stderr, "nameserver: %s\n", machipc_strerror(r));
                        if (r < 0)
                                return 1;
                        continue;
                }
                have_reply = handle(&b);
                reply_name = b.head.msg_remote_port;
        }
        while (n_entries)
                remove_entry(n_entries - 1);
        free(entries);
        return 0;
}
