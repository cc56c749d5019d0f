/* SPDX-License-Identifier: MIT */
/*
 * ownership.c - step 4: a mailbox owned by a process dies with it; one
 * handed over keeps its messages; one receiver at a time
 */

#include <unistd.h>
#include "tour.h"

static int owner_then_die(void *arg) {
        (void)arg;
        port_t mine = new_port(4);
        publish(mine, "owned");
        /* Wait for the word, then exit with the mailbox. */
        return recv_int(mine, NULL, NULL, NULL, 0, 0) == 0 ? 0 : 2;
}

/* Takes a receive right from a message, then reads what was queued. */
static int taker(void *arg) {
        int queued = *(int *)arg;
        port_t mine = new_port(1);
        publish(mine, "taker");
        port_t mailbox;
        if (recv_int(mine, NULL, NULL, &mailbox, 0, 0) != 0)
                return 2;
        int got = 0;
        int32_t v;
        while (recv_int(mailbox, NULL, &v, NULL, RCV_TIMEOUT, 0) == 0)
                got += v == got;
        return got == queued ? 0 : 3;
}

/* A task with only a send right tries to receive. */
static int intruder(void *arg) {
        (void)arg;
        port_t box = find(getppid(), "p2box");
        int32_t v;
        msg_return_t r = recv_int(box, NULL, &v, NULL, RCV_TIMEOUT, 0);
        return r == RCV_INVALID_NAME ? 0 : 1;
}

void step_ownership(void) {
        /* Owned by a process: it dies, its senders are told. */
        pid_t pid = spawn(owner_then_die, NULL);
        port_t owned = find(pid, "owned");
        port_t notify = new_port(8);
        port_request_notification(task_self(), owned, NOTIFY_DEAD_NAME, 0, notify);
        send_int(owned, 1, 0, 0, 0, 0, 0);
        int st = reap(pid);
        int32_t id = 0, name = 0;
        msg_return_t r = recv_int(notify, &id, &name, NULL, RCV_TIMEOUT, 10000);
        msg_return_t again = send_int(owned, 1, 0, 0, 0, SEND_TIMEOUT, 0);
        say("P owns a mailbox (its receive right); we hold a send right and asked for a dead-name notification");
        say("P exits: we receive message id %d (NOTIFY_DEAD_NAME) naming %#x; a send now says: %s", id,
            (unsigned)name, machipc_strerror(again));
        check(st == 0 && r == 0 && id == NOTIFY_DEAD_NAME && (port_t)name == owned && again == SEND_INVALID_DEST,
              "a mailbox owned by a process dies with it, and its senders are notified");
        port_deallocate(task_self(), owned);

        /* Handed over: the receive right moves in a message, queued messages and all. */
        int queued = count(5, 3);
        pid = spawn(taker, &queued);
        port_t box = new_port(16);
        for (int i = 0; i < queued; i++)
                send_int(box, 1, i, 0, 0, 0, 0);
        port_t to = find(pid, "taker");
        r = send_int(to, 2, 0, box, MSG_TYPE_MOVE_RECEIVE, 0, 0);
        int32_t v;
        msg_return_t mine = recv_int(box, NULL, &v, NULL, RCV_TIMEOUT, 0);
        st = reap(pid);
        say("we queue %d messages in a mailbox, then send its receive right to another process", queued);
        say("we can no longer receive from it (%s); the new owner reads all %d, in order", machipc_strerror(mine),
            queued);
        check(r == 0 && mine == RCV_INVALID_NAME && st == 0,
              "a mailbox can change hands, its queued messages kept: ownership is a capability");
        port_deallocate(task_self(), box);

        /* P1 sends, P2 and P3 both want to receive. */
        port_t p2box = new_port(4);
        publish(p2box, "p2box");
        pid = spawn(intruder, NULL);
        st = reap(pid);
        send_int(p2box, 1, 42, 0, 0, 0, 0);
        r = recv_int(p2box, NULL, &v, NULL, RCV_TIMEOUT, 1000);
        unpublish("p2box");
        say("P2 (us) holds the receive right; P3 holds a send right and calls msg_receive: %s",
            machipc_strerror(RCV_INVALID_NAME));
        say("P1's message goes to P2 alone. (The textbook's other answers - two processes per link, the system "
            "choosing a receiver - are not Mach's: a mailbox has exactly one receive right.)");
        check(st == 0 && r == 0 && v == 42, "one receiver at a time: only the holder of the receive right receives");
        port_deallocate(task_self(), p2box);
}
