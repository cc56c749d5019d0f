/* SPDX-License-Identifier: MIT */
/*
 * machipc-ownership - a mailbox changes owner, its messages go with it
 *
 *   machipc-ownership taker    checks in as "ownership-taker" and waits for a mailbox
 *   machipc-ownership owner    creates a mailbox, queues messages in it, sends its
 *                              receive right to the taker, shows that it can no longer
 *                              receive, and keeps sending to it through its send right
 *
 * Start them as two unrelated processes (taker first, or give the owner --wait).
 * Uses the public API only.
 */

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <machipc/machipc.h>
#include "tool.h"

#define TAKER_NAME "ownership-taker"
#define ID_TEXT 600
#define ID_MAILBOX 601

typedef struct {
        msg_header_t head;
        msg_type_t text_type;
        char text[64];
        msg_type_t right_type;
        port_t right;
        uint32_t pad;
} DemoMsg;

static int fail(const char *what, int code) {
        fprintf(stderr, "machipc-ownership: %s: %s\n", what, machipc_strerror(code));
        return 1;
}

static msg_return_t send_text(port_t dest, const char *text, port_t right, uint16_t disp) {
        DemoMsg m;
        memset(&m, 0, sizeof(m));
        /* The item covers the whole text field, so the right item follows at a fixed place. */
        msg_type_init(&m.text_type, MSG_TYPE_STRING, sizeof(m.text));
        snprintf(m.text, sizeof(m.text), "%s", text);
        m.head.msg_size = sizeof(msg_header_t) + MSG_ITEM_SIZE(sizeof(m.text));
        m.head.msg_id = ID_TEXT;
        if (disp) {
                msg_type_init(&m.right_type, disp, 1);
                m.right = right;
                m.head.msg_size = sizeof(m);
                m.head.msg_id = ID_MAILBOX;
        }
        m.head.msg_remote_port = dest;
        return msg_send(&m.head, MSG_OPTION_NONE, 0);
}

static msg_return_t recv_text(port_t from, DemoMsg *m, msg_timeout_t timeout) {
        memset(m, 0, sizeof(*m));
        m->head.msg_size = sizeof(*m);
        m->head.msg_local_port = from;
        msg_return_t r = msg_receive(&m->head, RCV_TIMEOUT, timeout);
        m->text[sizeof(m->text) - 1] = '\0';
        return r;
}

static int taker(void) {
        port_t inbox;
        kern_return_t kr = port_allocate(task_self(), &inbox);
        if (kr)
                return fail("port_allocate", kr);
        kr = netname_check_in(PORT_NULL, TAKER_NAME, inbox, inbox);
        if (kr)
                return fail("netname_check_in", kr);
        printf("taker: waiting for a mailbox\n");
        fflush(stdout);
        DemoMsg m;
        msg_return_t r = recv_text(inbox, &m, 60000);
        if (r)
                return fail("msg_receive", r);
        port_t mailbox = m.right;
        port_type_t t = 0;
        port_type(task_self(), mailbox, &t);
        printf("taker: received \"%s\" with the mailbox's receive right (name %#x%s)\n", m.text, mailbox,
               t & PORT_TYPE_RECEIVE ? ", I own it now" : "");
        port_status_t st;
        if (port_status(task_self(), mailbox, &st) == 0)
                printf("taker: %u messages were already queued in it\n", st.msgcount);
        int n = 0;
        for (;;) {
                r = recv_text(mailbox, &m, 2000);
                if (r == RCV_TIMED_OUT)
                        break;
                if (r)
                        return fail("msg_receive", r);
                printf("taker: read \"%s\"\n", m.text);
                n++;
                if (strcmp(m.text, "last") == 0)
                        break;
        }
        printf("taker: read %d messages from the mailbox\n", n);
        netname_check_out(PORT_NULL, TAKER_NAME, inbox);
        return n == 5 ? 0 : 1;
}

static int owner(unsigned wait_ms) {
        port_t taker_port = PORT_NULL;
        kern_return_t kr;
        struct timespec start, now;
        clock_gettime(CLOCK_MONOTONIC, &start);
        while ((kr = netname_look_up(PORT_NULL, NULL, TAKER_NAME, &taker_port)) == NETNAME_NOT_CHECKED_IN) {
                clock_gettime(CLOCK_MONOTONIC, &now);
                if ((unsigned)((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000) > wait_ms)
                        break;
                struct timespec ts = { 0, 20 * 1000000L };
                nanosleep(&ts, NULL);
        }
        if (kr)
                return fail("netname_look_up " TAKER_NAME, kr);
        port_t mailbox;
        if ((kr = port_allocate(task_self(), &mailbox)))
                return fail("port_allocate", kr);
        /* Keep a send right for ourselves, under the same name. */
        DemoMsg m;
        if (send_text(mailbox, "self", mailbox, MSG_TYPE_MAKE_SEND) || recv_text(mailbox, &m, 1000))
                return fail("make a send right", -EIO);
        printf("owner: created mailbox %#x\n", mailbox);
        for (int i = 1; i <= 3; i++) {
                char text[32];
                snprintf(text, sizeof(text), "queued by the owner #%d", i);
                if (send_text(mailbox, text, 0, 0))
                        return fail("msg_send", -EIO);
        }
        printf("owner: queued 3 messages, now giving the receive right away\n");
        msg_return_t r = send_text(taker_port, "here is a mailbox", mailbox, MSG_TYPE_MOVE_RECEIVE);
        if (r)
                return fail("msg_send", r);
        r = recv_text(mailbox, &m, 0);
        printf("owner: msg_receive on the mailbox now says: %s\n", machipc_strerror(r));
        if (r != RCV_INVALID_NAME)
                return 1;
        port_type_t t = 0;
        port_type(task_self(), mailbox, &t);
        printf("owner: I still hold a %s right to it and keep sending\n",
               t == PORT_TYPE_SEND ? "send" : "strange");
        if (send_text(mailbox, "sent after the move", 0, 0) || send_text(mailbox, "last", 0, 0))
                return fail("msg_send", -EIO);
        return 0;
}

int main(int argc, char **argv) {
        unsigned wait_ms = 5000;
        int c;
        static const struct option opts[] = {
                { "wait", required_argument, NULL, 'w' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        while ((c = getopt_long(argc, argv, "w:h", opts, NULL)) >= 0) {
                if (c == 'w') {
                        wait_ms = (unsigned)strtoul(optarg, NULL, 10);
                } else {
                        printf("Usage: machipc-ownership [--wait MS] taker|owner\n"
                               "Moves a mailbox (its receive right) from the owner to the taker, "
                               "queued messages and all.\n");
                        return c == 'h' ? 0 : 2;
                }
        }
        if (optind + 1 != argc)
                return 2;
        if (tool_connect("machipc-ownership") < 0)
                return 1;
        if (strcmp(argv[optind], "taker") == 0)
                return taker();
        if (strcmp(argv[optind], "owner") == 0)
                return owner(wait_ms);
        return 2;
}
