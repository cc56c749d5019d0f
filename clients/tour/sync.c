/* SPDX-License-Identifier: MIT */
/*
 * sync.c - steps 5 and 6: blocking and non-blocking sends and receives,
 * the rendezvous; zero, bounded and unbounded buffering, and what the
 * sender does in each
 */

#include <unistd.h>
#include "tour.h"

#define DELAY_MS 100

/* Receives one message after DELAY_MS, to show who waits for whom. */
static int late_receiver(void *arg) {
        uint32_t backlog = *(uint32_t *)arg;
        port_t mine = new_port(backlog);
        publish(mine, "late");
        int32_t v;
        /* Told to start the clock, wait, then receive (and answer how long we were away). */
        if (recv_int(mine, NULL, &v, NULL, 0, 0) != 0)
                return 2;
        usleep(DELAY_MS * 1000);
        if (recv_int(mine, NULL, &v, NULL, 0, 0) != 0)
                return 3;
        return 0;
}

static int late_sender(void *arg) {
        (void)arg;
        port_t to = find(getppid(), "waiting");
        usleep(DELAY_MS * 1000);
        return send_int(to, 1, 5, 0, 0, 0, 0) == 0 ? 0 : 2;
}

void step_sync(void) {
        /* Blocking send, blocking receive, zero capacity: a rendezvous. */
        uint32_t zero = 0;
        pid_t pid = spawn(late_receiver, &zero);
        port_t to = find(pid, "late");
        send_int(to, 0, 0, 0, 0, 0, 0);         /* "start": taken by its first receive */
        double t0 = now_us();
        msg_return_t r = send_int(to, 1, 1, 0, 0, 0, 0);
        double waited = (now_us() - t0) / 1000;
        int st = reap(pid);
        say("blocking send to a mailbox of capacity 0; the receiver calls msg_receive %d ms later", DELAY_MS);
        say("msg_send returned after %.0f ms: when the message was taken", waited);
        check(r == 0 && st == 0 && waited >= DELAY_MS * 0.8, "blocking send + blocking receive = a rendezvous");

        /* Blocking receive: waits for a sender. */
        port_t mine = new_port(4);
        publish(mine, "waiting");
        pid = spawn(late_sender, NULL);
        t0 = now_us();
        int32_t v = 0;
        r = recv_int(mine, NULL, &v, NULL, 0, 0);
        waited = (now_us() - t0) / 1000;
        st = reap(pid);
        say("blocking msg_receive on an empty mailbox; a sender sends %d ms later: it returned after %.0f ms",
            DELAY_MS, waited);
        check(r == 0 && v == 5 && st == 0 && waited >= DELAY_MS * 0.8, "a blocking receive waits for a message");

        /* Non-blocking receive: nothing there, at once. */
        t0 = now_us();
        r = recv_int(mine, NULL, &v, NULL, RCV_TIMEOUT, 0);
        double took = now_us() - t0;
        say("msg_receive(RCV_TIMEOUT, 0) on an empty mailbox: %s after %.0f us", machipc_strerror(r), took);
        check(r == RCV_TIMED_OUT, "a non-blocking receive returns at once with nothing");

        /* Non-blocking send: a full mailbox, at once. */
        port_set_backlog(task_self(), mine, 1);
        send_int(mine, 1, 1, 0, 0, 0, 0);
        t0 = now_us();
        r = send_int(mine, 1, 2, 0, 0, SEND_TIMEOUT, 0);
        took = now_us() - t0;
        say("msg_send(SEND_TIMEOUT, 0) to a full mailbox: %s after %.0f us; the message stays the sender's",
            machipc_strerror(r), took);
        check(r == SEND_TIMED_OUT, "a non-blocking send returns at once when the message cannot be queued");
        say("the four combinations: blocking/blocking is the rendezvous above; a non-blocking send with a");
        say("blocking receive is the usual server; blocking send with non-blocking receive a polling consumer;");
        say("non-blocking both ways never waits and must retry.");
        unpublish("waiting");
        port_deallocate(task_self(), mine);
}

/* How many sends complete at once (SEND_TIMEOUT 0) to a fresh mailbox of @backlog nobody reads. */
static int fill(uint32_t backlog, int limit, msg_return_t *last) {
        port_t p = new_port(backlog);
        int n = 0;
        while (n < limit && (*last = send_int(p, 1, n, 0, 0, SEND_TIMEOUT, 0)) == 0)
                n++;
        port_deallocate(task_self(), p);
        return n;
}

void step_buffering(void) {
        msg_return_t last = 0;
        int n = fill(0, 100, &last);
        say("capacity 0 (backlog 0): %d sends complete without a receiver; the next: %s", n, machipc_strerror(last));
        check(n == 0 && last == SEND_TIMED_OUT, "zero capacity: the sender must wait for the receiver");
        int bound = 5;
        n = fill((uint32_t)bound, 100, &last);
        say("bounded capacity %d: %d sends complete; the next: %s (a blocking send would wait)", bound, n,
            machipc_strerror(last));
        check(n == bound && last == SEND_TIMED_OUT, "bounded capacity n: n messages, then the sender waits");
        double t0 = now_us();
        int limit = count(100000, 100000);
        n = fill(PORT_BACKLOG_UNLIMITED, limit, &last);
        double us = now_us() - t0;
        say("\"unbounded\" (PORT_BACKLOG_UNLIMITED): %d sends complete, then: %s", n, machipc_strerror(last));
        say("nothing is unbounded: the receiving task's quota of queued messages (machipcd --limit");
        say("task.messages, 4,096 by default) is the real capacity; past it the sender waits or is refused");
        check(n > bound && n < limit && (last == SEND_TIMED_OUT || last == SEND_NO_BUFFER),
              "unbounded capacity: the sender never waits - until the memory behind it runs out");
        measured("%d messages queued in %.1f ms before the quota stopped them (%.2f us each)", n, us / 1000, us / n);
}
