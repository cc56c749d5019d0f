/* SPDX-License-Identifier: MIT */
/*
 * nameserver.c - the name server: unrelated tasks find each other here
 *
 * Registers its port as the broker's bootstrap port, so every task that
 * connects afterwards holds a send right to it, then serves the netname
 * protocol (interfaces/netname.defs, doc/protocol.md "Name server"): check
 * in a send right under a name, look it up, check it out.  The requests are
 * decoded and checked by stubs machipc-mig generated; machipc_msg_server()
 * runs the loop.  A registration whose port has died is dropped when it is
 * next touched, so a crashed server's name can be checked in again at once.
 * If this process dies, its map dies with it; the tasks that checked names
 * in check them in again with the next name server (lib/netname-keep.c).
 * Uses the public API only.
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
#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif
#include "netnameServer.h"
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

/* Tell a service manager (Type=notify) how we are; nothing without one. */
static void notify(const char *state) {
#ifdef HAVE_LIBSYSTEMD
        sd_notify(0, state);
#else
        (void)state;
#endif
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

/* Names one process may have checked in at once, so that no one task fills the table. */
#define NAMES_PER_PID 256

static unsigned names_of(pid_t pid) {
        unsigned n = 0;
        for (unsigned i = 0; i < n_entries; i++)
                n += entries[i].pid == pid;
        return n;
}

static pid_t sender_pid(void) {
        msg_sender_t who = { 0 };
        msg_last_sender(&who);
        return who.pid;
}

/* A check-in keeps the rights it brought; a failure gives them back (machipc_msg_server()). */
kern_return_t do_netname_check_in(mach_port_t server, char *name, mach_port_t signature, mach_port_t port) {
        (void)server;
        if (!name[0])
                return KERN_INVALID_ARGUMENT;   /* the stubs took care of the longest */
        if (port == PORT_NULL || port == PORT_DEAD)
                return NETNAME_INVALID_PORT;
        if (find(name) >= 0)
                return NETNAME_NAME_IN_USE;
        pid_t pid = sender_pid();
        if (n_entries >= NAMES_MAX || names_of(pid) >= NAMES_PER_PID)
                return KERN_RESOURCE_SHORTAGE;
        Entry *e = &entries[n_entries++];
        snprintf(e->name, sizeof(e->name), "%s", name);
        e->signature = signature;
        e->port = port;
        e->pid = pid;
        if (verbose)
                fprintf(stderr, "nameserver: \"%s\" checked in\n", e->name);
        return NETNAME_SUCCESS;
}

kern_return_t do_netname_look_up(mach_port_t server, char *name, mach_port_t *port) {
        (void)server;
        if (!name[0])
                return KERN_INVALID_ARGUMENT;
        int i = find(name);
        if (i < 0)
                return NETNAME_NOT_CHECKED_IN;
        *port = entries[i].port;        /* the reply carries a copy */
        return NETNAME_SUCCESS;
}

kern_return_t do_netname_check_out(mach_port_t server, char *name, mach_port_t signature) {
        (void)server;
        if (!name[0])
                return KERN_INVALID_ARGUMENT;
        int i = find(name);
        if (i < 0)
                return NETNAME_NOT_CHECKED_IN;
        /* Rights to one port share one name here, so names compare as ports. */
        if (entries[i].signature != PORT_NULL && entries[i].signature != signature)
                return NETNAME_NOT_YOURS;
        if (verbose)
                fprintf(stderr, "nameserver: \"%s\" checked out\n", name);
        remove_entry((unsigned)i);
        release(signature);     /* the one the request brought */
        return NETNAME_SUCCESS;
}

/* Entries from @start on, as "NAME PORT PID" lines, as many as fit whole. */
kern_return_t do_netname_list(mach_port_t server, int start, char *listing, mach_msg_type_number_t *count,
                              int *next) {
        (void)server;
        size_t max = *count, len = 0;
        unsigned i = start > 0 ? (unsigned)start : 0;
        for (; i < n_entries; i++) {
                char line[NETNAME_MAX + 32];
                int n = snprintf(line, sizeof(line), "%s %u %d\n", entries[i].name, (unsigned)entries[i].port,
                                 (int)entries[i].pid);
                if (n < 0 || len + (size_t)n > max)
                        break;
                memcpy(listing + len, line, (size_t)n);
                len += (size_t)n;
        }
        *count = (mach_msg_type_number_t)len;
        *next = i < n_entries ? (int)i : 0;
        return NETNAME_SUCCESS;
}

/*
 * Only a send-once reply right (what netname_* send) gets an answer: any
 * other would let a client make us send to ports it chose.  Such a request
 * is given back whole, unanswered.
 */
static boolean_t demux(msg_header_t *in, msg_header_t *out) {
        if (MSG_BITS_REMOTE(in->msg_bits) != MSG_TYPE_PORT_SEND_ONCE) {
                msg_destroy(in);
                mig_reply_init(in, out);
                out->msg_remote_port = PORT_NULL;
                return FALSE;
        }
        return netname_server(in, out);
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
                               "Registers as the broker's bootstrap port and serves\n"
                               "netname_check_in/look_up/check_out and the listing machipcctl names shows.\n\n"
                               "  --ready-fd FD   write \"READY=1\\n\" to FD once serving, then close it\n"
                               "                  (under systemd: Type=notify)\n"
                               "  -v, --verbose   say what is checked in and out, on stderr\n"
                               "  -h, --help      this help\n\n"
                               "Stops on SIGTERM or SIGINT.  Names survive a restart: each task's library\n"
                               "checks its names in again with the new name server.\n");
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
        notify("READY=1\nSTATUS=Serving names");
        if (verbose)
                fprintf(stderr, "nameserver: ready\n");

        /* Back to check the stop flag every half second when idle. */
        kern_return_t r;
        while (!stop && (r = machipc_msg_server_timeout(demux, netname_MSG_SIZE_MAX, service, 0, 500)) ==
                                RCV_TIMED_OUT)
                ;
        if (!stop) {
                fprintf(stderr, "nameserver: %s\n", machipc_strerror(r));
                return 1;
        }
        notify("STOPPING=1");
        while (n_entries)
                remove_entry(n_entries - 1);
        free(entries);
        return 0;
}
