/* SPDX-License-Identifier: MIT */
/*
 * naming.c - step 3: send and receive; naming a process directly, and
 * mailboxes shared by senders or gathered by one receiver
 */

#include <unistd.h>
#include "tour.h"

/*
 * Direct naming of a task: its kernel port stands for the task itself.  The
 * child gives us a send right to its kernel port; a message there is a
 * request the task carries out: we make a port in *its* name space.
 */
static int give_kernel_port(void *arg) {
        (void)arg;
        port_t mine = new_port(1);
        publish(mine, "hello");
        port_t parent;
        if (recv_int(mine, NULL, NULL, &parent, 0, 0) != 0)
                return 2;
        if (send_int(parent, 1, 0, task_self(), MSG_TYPE_COPY_SEND, 0, 0) != 0)
                return 3;
        /* Wait until told, then count our names: one more than before. */
        int32_t before;
        if (recv_int(mine, NULL, &before, NULL, 0, 0) != 0)
                return 4;
        port_t *names;
        port_type_t *types;
        uint32_t n;
        if (port_names(task_self(), &names, &types, &n) != 0)
                return 5;
        free(names);
        free(types);
        return send_int(parent, 2, (int32_t)n, 0, 0, 0, 0) == 0 ? 0 : 6;
}

/* Asymmetric naming: a receiver that takes from anyone and learns who sent. */
typedef struct {
        int senders;
        int each;
} Fan;

static int fan_sender(void *arg) {
        Fan *f = arg;
        port_t box = find(getppid(), "shared");
        for (int i = 0; i < f->each; i++)
                if (send_int(box, 7, (int32_t)getpid(), 0, 0, 0, 0) != 0)
                        return 2;
        return 0;
}

void step_naming(void) {
        /* Direct: the task itself is named, through its kernel port. */
        port_t reply = new_port(4);
        pid_t pid = spawn(give_kernel_port, NULL);
        port_t hello = find(pid, "hello");
        send_int(hello, 1, 0, reply, MSG_TYPE_MAKE_SEND, 0, 0);
        port_t child_task = PORT_NULL;
        recv_int(reply, NULL, NULL, &child_task, 0, 0);
        port_t made;
        kern_return_t kr = port_allocate(child_task, &made);
        say("parent: holds child %d's kernel port; port_allocate(child_task) made name %#x in the child's space",
            (int)pid, made);
        send_int(hello, 1, 0, 0, 0, 0, 0);
        int32_t n = 0;
        recv_int(reply, NULL, &n, NULL, 0, 0);
        say("child: it now holds %d names: the new one among them, made by a message naming the task", n);
        check(kr == KERN_SUCCESS && reap(pid) == 0,
              "direct naming: a message to a task's kernel port names the task itself");
        port_deallocate(task_self(), child_task);

        /* Indirect: one mailbox, several senders; asymmetric: the receiver learns who sent. */
        Fan f = { 3, count(5, 3) };
        port_t box = new_port(64);
        publish(box, "shared");
        pid_t senders[3];
        for (int i = 0; i < f.senders; i++)
                senders[i] = spawn(fan_sender, &f);
        int got = 0, from[3] = { 0 };
        for (int i = 0; i < f.senders * f.each; i++) {
                int32_t v;
                if (recv_int(box, NULL, &v, NULL, RCV_TIMEOUT, 10000) != 0)
                        break;
                msg_sender_t who;
                msg_last_sender(&who);
                for (int k = 0; k < 3; k++)
                        from[k] += who.pid == senders[k] && v == senders[k];
                got++;
        }
        bool all_reaped = true;
        for (int i = 0; i < f.senders; i++)
                all_reaped &= reap(senders[i]) == 0;
        unpublish("shared");
        say("three processes send %d messages each to one mailbox; the receiver takes %d", f.each, got);
        say("msg_last_sender() names each message's sender (pid %d: %d, pid %d: %d, pid %d: %d), as the "
            "broker saw it", (int)senders[0], from[0], (int)senders[1], from[1], (int)senders[2], from[2]);
        check(got == f.senders * f.each && from[0] == f.each && from[1] == f.each && from[2] == f.each && all_reaped,
              "indirect naming: one mailbox shared by several senders; the receiver may learn the sender "
              "(asymmetric)");

        /* One receiver, several mailboxes: a port set. */
        port_t set, p[3];
        if (port_set_allocate(task_self(), &set) != 0)
                fail_now("port_set_allocate", -EIO);
        for (int i = 0; i < 3; i++) {
                p[i] = new_port(4);
                port_set_add(task_self(), set, p[i]);
                send_int(p[i], 100 + i, i, 0, 0, 0, 0);
        }
        int seen = 0;
        for (int i = 0; i < 3; i++) {
                int32_t id;
                if (recv_int(set, &id, NULL, NULL, RCV_TIMEOUT, 1000) == 0)
                        seen |= 1 << (id - 100);
        }
        say("one task, three mailboxes in a port set: one msg_receive on the set takes from any of them");
        check(seen == 7, "a process may have several mailboxes and receive from all of them at once");
        for (int i = 0; i < 3; i++)
                port_deallocate(task_self(), p[i]);
        port_deallocate(task_self(), set);
        port_deallocate(task_self(), box);
        port_deallocate(task_self(), reply);
}
