/* SPDX-License-Identifier: MIT */
/*
 * mach.c - step 7: Mach as the textbook tells it — kernel and notify
 * mailboxes, system calls as messages, msg_rpc, the four answers to a full
 * mailbox, port sets
 */

#include <unistd.h>
#include "kcall.h"
#include "tour.h"

/* Answers every request with its value + 1. */
static int adder(void *arg) {
        (void)arg;
        port_t mine = new_port(8);
        publish(mine, "adder");
        for (;;) {
                struct {
                        msg_header_t h;
                        msg_type_t t;
                        int32_t v;
                        int32_t pad;
                } m = { .h = { .msg_size = sizeof(m), .msg_local_port = mine } };
                if (msg_receive(&m.h, 0, 0) != 0)
                        return 2;
                if (m.h.msg_id == 0)
                        return 0;
                m.v++;
                m.h.msg_local_port = PORT_NULL;
                m.h.msg_bits = 0;
                m.h.msg_id += 100;
                if (msg_send(&m.h, SEND_TIMEOUT, 1000) != 0)
                        return 3;
        }
}

static int slow_reader(void *arg) {
        (void)arg;
        port_t mine = new_port(1);
        publish(mine, "slow");
        int32_t v;
        /* The first message is the go-ahead; then take one message a little later. */
        if (recv_int(mine, NULL, &v, NULL, 0, 0) != 0)
                return 2;
        usleep(50000);
        for (int i = 0; i < 3; i++)
                if (recv_int(mine, NULL, &v, NULL, RCV_TIMEOUT, 5000) != 0)
                        return 3;
        return 0;
}

void step_mach(void) {
        /* Kernel and notify mailboxes. */
        port_t *names;
        port_type_t *types;
        uint32_t n;
        port_names(task_self(), &names, &types, &n);
        bool kernel = false, notify = false;
        for (uint32_t i = 0; i < n; i++) {
                kernel |= names[i] == task_self() && (types[i] & PORT_TYPE_SEND);
                notify |= names[i] == task_notify() && (types[i] & PORT_TYPE_RECEIVE);
        }
        free(names);
        free(types);
        say("our name space at start: the kernel port %#x (a send right: the broker holds its receive side)",
            task_self());
        say("and the notify port %#x (a receive right: the broker sends us notifications there)", task_notify());
        check(kernel && notify, "every task has a kernel mailbox and a notify mailbox");

        /* A system call is a message: port_allocate by hand, to the kernel port. */
        struct {
                msg_header_t h;
                msg_type_t t;
                int32_t res[2];
        } m = { .h = { .msg_size = sizeof(msg_header_t) + MSG_ITEM_SIZE(0), .msg_remote_port = task_self(),
                       .msg_id = KCALL_PORT_ALLOCATE,
                       .msg_bits = MSG_BITS(MSG_TYPE_COPY_SEND, MSG_TYPE_MAKE_SEND_ONCE) },
                .t = { MSG_TYPE_INTEGER_32, 0, 0 } };
        msg_return_t r = msg_rpc(&m.h, 0, sizeof(m), 0, 0);
        port_type_t t = 0;
        bool made = r == 0 && m.h.msg_id == KCALL_PORT_ALLOCATE + KCALL_REPLY_DELTA && m.res[0] == KERN_SUCCESS &&
                    port_type(task_self(), (port_t)m.res[1], &t) == KERN_SUCCESS && (t & PORT_TYPE_RECEIVE);
        say("msg_rpc of message id %d to the kernel port: the reply (id %d) carries code %d and a new name, %#x",
            KCALL_PORT_ALLOCATE, m.h.msg_id, m.res[0], (unsigned)m.res[1]);
        check(made, "system calls are messages: port_allocate is a request to the task's kernel port");
        if (made)
                port_deallocate(task_self(), (port_t)m.res[1]);

        /* msg_rpc to a server. */
        pid_t pid = spawn(adder, NULL);
        port_t adder_port = find(pid, "adder");
        struct {
                msg_header_t h;
                msg_type_t t;
                int32_t v;
                int32_t pad;
        } q = { .h = { .msg_size = sizeof(q), .msg_remote_port = adder_port, .msg_id = 1 },
                .t = { MSG_TYPE_INTEGER_32, 0, 1 }, .v = 41 };
        double t0 = now_us();
        r = msg_rpc(&q.h, 0, sizeof(q), 0, 0);
        double us = now_us() - t0;
        say("msg_rpc: send 41 to a server and receive its reply in one call: %d (reply id %d)", q.v, q.h.msg_id);
        check(r == 0 && q.v == 42 && q.h.msg_id == 101, "msg_rpc sends a request and waits for its reply");
        measured("one msg_rpc round trip: %.0f us", us);
        send_int(adder_port, 0, 0, 0, 0, 0, 0);
        reap(pid);

        /* A full mailbox: the four choices. */
        pid = spawn(slow_reader, NULL);
        port_t slow = find(pid, "slow");
        send_int(slow, 1, 0, 0, 0, 0, 0);       /* the go-ahead: it will read 50 ms later */
        send_int(slow, 1, 1, 0, 0, 0, 0);       /* now full (backlog 1) */
        msg_return_t now = send_int(slow, 1, 2, 0, 0, SEND_TIMEOUT, 0);
        t0 = now_us();
        msg_return_t within = send_int(slow, 1, 2, 0, 0, SEND_TIMEOUT, 10);
        double w = (now_us() - t0) / 1000;
        msg_return_t notified = send_int(slow, 1, 2, 0, 0, SEND_NOTIFY, 0);
        t0 = now_us();
        msg_return_t waited = send_int(slow, 1, 3, 0, 0, 0, 0);
        double b = (now_us() - t0) / 1000;
        int32_t id = 0;
        msg_return_t note = recv_int(task_notify(), &id, NULL, NULL, RCV_TIMEOUT, 5000);
        int st = reap(pid);
        say("a mailbox of backlog 1, full; its reader takes a message 50 ms from now:");
        say("  return at once (SEND_TIMEOUT, 0): %s", machipc_strerror(now));
        say("  wait at most 10 ms (SEND_TIMEOUT, 10): %s after %.0f ms", machipc_strerror(within), w);
        say("  let the system keep it (SEND_NOTIFY): %s; later a notification, id %d (NOTIFY_MSG_ACCEPTED)",
            machipc_strerror(notified), id);
        say("  wait until there is room (no option): sent after %.0f ms", b);
        check(now == SEND_TIMED_OUT && within == SEND_TIMED_OUT && notified == SEND_WILL_NOTIFY && waited == 0 &&
                      note == 0 && id == NOTIFY_MSG_ACCEPTED && st == 0,
              "msg_send's four answers to a full mailbox: wait, wait at most n ms, return at once, "
              "have the system keep one message and notify");
        port_deallocate(task_self(), slow);
        port_deallocate(task_self(), adder_port);
        say("port_allocate made every mailbox above; port sets were step 3's many-mailbox receiver.");
}
