/* SPDX-License-Identifier: MIT */
/*
 * machipc-tour - the interprocess-communication chapter of an operating
 * systems course, run: each concept a demonstration between real processes
 * through machipcd, each checked as it runs; --measure puts the chapter's
 * claims to the test on this machine (doc/tour.md is the guide).
 */

#include <getopt.h>
#include <unistd.h>
#include "tool.h"
#include "tour.h"

extern int tour_failures;

static const Step steps[] = {
        { "spaces", "1. Why IPC: independent address spaces",
          "Each process has its own address space: one cannot read or write another's memory, so "
          "cooperating processes need the operating system's help to exchange data (IPC).",
          step_spaces },
        { "models", "2. The two models: shared memory and message passing",
          "With shared memory the processes agree on a region and exchange data by reading and "
          "writing it, synchronizing themselves; with message passing the system carries "
          "messages between them. The same producer-consumer problem can be solved either way.",
          step_models },
        { "naming", "3. Primitives and naming: direct and indirect",
          "Messages are sent and received: send(P, m), receive(Q, m). With direct naming a process "
          "names the other process (symmetric: both name each other; asymmetric: only the "
          "sender); with indirect naming messages go to mailboxes (ports), which several "
          "processes may share and of which one process may have several.",
          step_naming },
        { "ownership", "4. Mailbox ownership",
          "A mailbox owned by a process goes away with it, and its senders must be told. A "
          "mailbox owned by the system outlives any process and can be handed over. And if P1 "
          "sends to a mailbox that P2 and P3 share, who receives?",
          step_ownership },
        { "sync", "5. Synchronization: blocking and non-blocking",
          "Send and receive may each block or not: a blocking send waits until the message is "
          "received (or buffered), a non-blocking one returns at once; a blocking receive waits "
          "for a message, a non-blocking one returns a message or nothing. Blocking both ways is "
          "a rendezvous.",
          step_sync },
        { "buffering", "6. Buffering: zero, bounded, unbounded capacity",
          "A link's queue has zero capacity (the sender waits for the receiver), bounded capacity "
          "n (the sender waits when n messages are queued), or unbounded capacity (the sender "
          "never waits).",
          step_buffering },
        { "mach", "7. Mach, as the textbook tells it",
          "In Mach even system calls are messages. Each task has a kernel mailbox and a notify "
          "mailbox; msg_send, msg_receive and msg_rpc move messages; port_allocate makes "
          "mailboxes; a full mailbox gives the sender four choices; port sets let one thread "
          "receive from many mailboxes.",
          step_mach },
        { "classic", "8. The classic mechanisms side by side",
          "Ordinary pipes (one way, parent and child), named pipes (FIFOs, between unrelated "
          "processes), POSIX message queues, signals, sockets, memory-mapped files and shared "
          "memory with semaphores: each has its place.",
          step_classic },
        { "network", "9. Message passing across machines",
          "In a distributed system processes on different machines communicate by messages "
          "only; Mach's netmsgserver made ports reach other machines transparently.",
          step_network },
};
#define N_STEPS (sizeof(steps) / sizeof(steps[0]))

static void run(const Step *s) {
        printf("\n== %s ==\n", s->title);
        printf("The textbook: %s\n", s->textbook);
        printf("Shown by: machipc-tour %s\n\n", s->name);
        fflush(stdout);
        s->run();
}

static void usage(FILE *f) {
        fprintf(f, "Usage: machipc-tour [--short] [--all | --measure | STEP...]\n"
                   "The IPC chapter of an operating systems course, run on this machine through\n"
                   "machipcd (doc/tour.md). Each step shows a concept between real processes and\n"
                   "checks what it shows; --measure tests the chapter's claims with numbers.\n\n"
                   "  -a, --all        every step, in order\n"
                   "  -m, --measure    the claims, measured: a table\n"
                   "  -s, --short      fewer items and iterations (the same checks)\n"
                   "  -l, --list       the steps\n"
                   "  -h, --help       this help\n\n"
                   "Steps:");
        for (size_t i = 0; i < N_STEPS; i++)
                fprintf(f, " %s", steps[i].name);
        fprintf(f, "\nNeeds machipcd and machipc-nameserver running. Exit status: 0 when every\n"
                   "check held, 1 otherwise, 2 for a usage error.\n");
}

int main(int argc, char **argv) {
        static const struct option opts[] = {
                { "all", no_argument, NULL, 'a' },
                { "measure", no_argument, NULL, 'm' },
                { "short", no_argument, NULL, 's' },
                { "list", no_argument, NULL, 'l' },
                { "help", no_argument, NULL, 'h' },
                { "inner", no_argument, NULL, 'i' },
                {}
        };
        bool all = false, measure = false;
        int c;
        if (argc > 1 && strcmp(argv[1], "--inner") == 0)
                return tour_inner(argc - 2, argv + 2);  /* a helper run under strace by --measure */
        while ((c = getopt_long(argc, argv, "amslh", opts, NULL)) >= 0) {
                switch (c) {
                case 'a':
                        all = true;
                        break;
                case 'm':
                        measure = true;
                        break;
                case 's':
                        tour_short = true;
                        break;
                case 'l':
                        for (size_t i = 0; i < N_STEPS; i++)
                                printf("%-10s %s\n", steps[i].name, steps[i].title);
                        return 0;
                case 'h':
                        usage(stdout);
                        return 0;
                default:
                        usage(stderr);
                        return 2;
                }
        }
        if (!all && !measure && optind == argc) {
                usage(stdout);
                return 0;
        }
        for (int i = optind; i < argc; i++) {
                bool known = false;
                for (size_t k = 0; k < N_STEPS; k++)
                        known |= strcmp(argv[i], steps[k].name) == 0;
                if (!known) {
                        fprintf(stderr, "machipc-tour: no step \"%s\" (machipc-tour --list)\n", argv[i]);
                        return 2;
                }
        }
        if (tool_connect("machipc-tour") < 0)
                return 1;
        setvbuf(stdout, NULL, _IOLBF, 0);
        for (size_t k = 0; k < N_STEPS; k++) {
                bool want = all;
                for (int i = optind; i < argc; i++)
                        want |= strcmp(argv[i], steps[k].name) == 0;
                if (want)
                        run(&steps[k]);
        }
        if (measure && tour_measure() != 0)
                tour_failures++;
        printf("\n%s\n", tour_failures ? "Some checks did not hold (FAIL above)." : "Every check held.");
        return tour_failures ? 1 : 0;
}
