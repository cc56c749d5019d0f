/* SPDX-License-Identifier: MIT */
/*
 * machipc-one-receiver - a mailbox has exactly one receiver
 *
 *   machipc-one-receiver owner      creates a mailbox, publishes a send right to it
 *                                   as "one-receiver-box", and reads what arrives
 *   machipc-one-receiver intruder   looks the mailbox up, tries to receive from it
 *                                   (and is refused: it holds only a send right),
 *                                   then sends a message instead
 *
 * Start them as two unrelated processes.  Uses the public API only.
 */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <machipc/machipc.h>
#include "tool.h"

#define BOX_NAME "one-receiver-box"

typedef struct {
        msg_header_t head;
        msg_type_t t;
        char text[64];
} TextMsg;

static int owner(void) {
        port_t box;
        kern_return_t kr = port_allocate(task_self(), &box);
        if (!kr)
                kr = netname_check_in(PORT_NULL, BOX_NAME, box, box);
        if (kr) {
                fprintf(stderr, "machipc-one-receiver: %s\n", machipc_strerror(kr));
                return 1;
        }
        printf("owner: mailbox %#x published as \"%s\"; I am its only receiver\n", box, BOX_NAME);
        fflush(stdout);
        TextMsg m;
        memset(&m, 0, sizeof(m));
        m.head.msg_size = sizeof(m);
        m.head.msg_local_port = box;
        msg_return_t r = msg_receive(&m.head, RCV_TIMEOUT, 60000);
        if (r) {
                fprintf(stderr, "machipc-one-receiver: msg_receive: %s\n", machipc_strerror(r));
                return 1;
        }
        m.text[sizeof(m.text) - 1] = '\0';
        msg_sender_t who;
        msg_last_sender(&who);
        printf("owner: received \"%s\" from pid %d\n", m.text, who.pid);
        netname_check_out(PORT_NULL, BOX_NAME, box);
        return 0;
}

static int intruder(void) {
        port_t box = PORT_NULL;
        kern_return_t kr;
        for (int i = 0; i < 250 && (kr = netname_look_up(PORT_NULL, NULL, BOX_NAME, &box)) ==
                                    NETNAME_NOT_CHECKED_IN; i++) {
                struct timespec ts = { 0, 20 * 1000000L };
                nanosleep(&ts, NULL);
        }
        if (kr) {
                fprintf(stderr, "machipc-one-receiver: look up: %s\n", machipc_strerror(kr));
                return 1;
        }
        port_type_t t = 0;
        port_type(task_self(), box, &t);
        printf("intruder: I hold name %#x for the mailbox: a %s right\n", box,
               t == PORT_TYPE_SEND ? "send" : "strange");
        TextMsg m;
        memset(&m, 0, sizeof(m));
        m.head.msg_size = sizeof(m);
        m.head.msg_local_port = box;
        msg_return_t r = msg_receive(&m.head, RCV_TIMEOUT, 0);
        printf("intruder: msg_receive on it: %s (%#x)\n", machipc_strerror(r), (unsigned)r);
        if (r != RCV_INVALID_NAME)
                return 1;
        memset(&m, 0, sizeof(m));
        msg_type_init(&m.t, MSG_TYPE_STRING, sizeof(m.text));
        snprintf(m.text, sizeof(m.text), "I may only send");
        m.head.msg_size = sizeof(m);
        m.head.msg_remote_port = box;
        r = msg_send(&m.head, MSG_OPTION_NONE, 0);
        printf("intruder: msg_send to it: %s\n", machipc_strerror(r));
        return r == 0 ? 0 : 1;
}

int main(int argc, char **argv) {
        if (argc != 2 || (strcmp(argv[1], "owner") && strcmp(argv[1], "intruder"))) {
                printf("Usage: machipc-one-receiver owner|intruder\n"
                       "Shows that only the holder of a mailbox's receive right can receive from it.\n");
                return argc == 2 && !strcmp(argv[1], "--help") ? 0 : 2;
        }
        if (tool_connect("machipc-one-receiver") < 0)
                return 1;
        return strcmp(argv[1], "owner") == 0 ? owner() : intruder();
}
