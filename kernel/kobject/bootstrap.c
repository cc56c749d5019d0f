/* SPDX-License-Identifier: MIT */
/*
 * bootstrap.c - the broker's bootstrap port, and tasks waiting for a new one
 *
 * The name server registers its port here (machipc_set_bootstrap_port()),
 * and every task connecting afterwards is given a send right to it.  The
 * broker holds one send right; when the port dies (the name server exited
 * or crashed) the slot is free for the next one.
 *
 * A task may also wait for the bootstrap port to change
 * (KCALL_WAIT_BOOTSTRAP): the request's reply right is kept and answered,
 * with a send right to the new port, when a port other than the one the
 * task named is registered.  That is how a library re-checks in its names
 * with a restarted name server.  Waits are bounded per task and in all; a
 * wait whose task died is dropped when the next one is registered or
 * asked for.
 */

#include <stdlib.h>
#include "ipc/ipc.h"
#include "ipc/kmsg.h"
#include "ipc/notify.h"
#include "ipc/port.h"
#include "ipc/space.h"
#include "kcall.h"
#include "bootstrap.h"
#include "kobject.h"
#include "task.h"
#include "util/list.h"

typedef struct {
        ListLink link;
        Port *task_port;        /* the waiting task's kernel port (a reference): dead once it is */
        Port *current;          /* the port it knows (a reference), or NULL */
        Port *reply;
        uint8_t reply_kind;
} BootWait;

static Port *bootstrap_port;
static ListLink waits = LIST_INIT(waits);
static uint32_t n_waits;

static void wait_free(BootWait *w) {
        list_del(&w->link);
        n_waits--;
        port_unref(w->task_port);
        if (w->current)
                port_unref(w->current);
        free(w);
}

/* Drop the waits of tasks that are gone; their reply rights go with them. */
static void prune(void) {
        ListLink *l, *next;
        for (l = waits.next; l != &waits; l = next) {
                next = l->next;
                BootWait *w = list_entry(l, BootWait, link);
                if (w->task_port->active && w->reply->active)
                        continue;
                right_release(w->reply, w->reply_kind);
                wait_free(w);
        }
}

/* kobject_bootstrap() - the registered bootstrap port if it is alive, else NULL. */
Port *kobject_bootstrap(void) {
        if (bootstrap_port && !bootstrap_port->active) {
                notify_srights_dec(bootstrap_port);
                bootstrap_port = port_unref(bootstrap_port);
        }
        return bootstrap_port;
}

/**
 * bootstrap_set() - make @port (a send right the caller gives up) the
 * bootstrap port, and answer every task waiting for a port other than its own
 *
 * Return: KERN_SUCCESS, or KERN_NAME_EXISTS (a live one is registered; the
 * right stays the caller's).
 */
int bootstrap_set(Port *port) {
        if (kobject_bootstrap())
                return KERN_NAME_EXISTS;
        bootstrap_port = port;
        prune();
        ListLink *l, *next;
        for (l = waits.next; l != &waits; l = next) {
                next = l->next;
                BootWait *w = list_entry(l, BootWait, link);
                if (w->current == port)
                        continue;
                int32_t kr = KERN_SUCCESS;
                kobject_send_reply(w->reply, w->reply_kind, kcall_reply_id(KCALL_WAIT_BOOTSTRAP), &kr, 1,
                                   NULL, true, port, -1);
                wait_free(w);
        }
        return KERN_SUCCESS;
}

/**
 * bootstrap_wait() - KCALL_WAIT_BOOTSTRAP: a bootstrap port other than the
 * one @current names in @task's space
 * @request: its reply right is taken if the task has to wait
 * @rightp: set to the port to answer with at once
 *
 * Return: KERN_SUCCESS (answer now with *@rightp), BOOTSTRAP_LATER (answered
 * later), KERN_INVALID_ARGUMENT (no reply right) or KERN_RESOURCE_SHORTAGE.
 */
int bootstrap_wait(Task *task, Kmsg *request, uint32_t current, Port **rightp) {
        SpaceEntry *e = current ? space_lookup(task->space, current) : NULL;
        Port *known = e && (e->bits & ENTRY_SEND) ? e->port : NULL;
        Port *now = kobject_bootstrap();
        if (now && now != known) {
                *rightp = now;
                return KERN_SUCCESS;
        }
        if (!request->reply || request->reply_kind != RIGHT_SEND_ONCE)
                return KERN_INVALID_ARGUMENT;
        prune();
        uint32_t mine = 0;
        for (ListLink *l = waits.next; l != &waits; l = l->next)
                mine += list_entry(l, BootWait, link)->task_port == task->kernel_port;
        if (mine >= BOOTSTRAP_WAITS_PER_TASK || n_waits >= BOOTSTRAP_WAITS_MAX)
                return KERN_RESOURCE_SHORTAGE;
        BootWait *w = calloc(1, sizeof(*w));
        if (!w)
                return KERN_RESOURCE_SHORTAGE;
        w->task_port = port_ref(task->kernel_port);
        w->current = known ? port_ref(known) : NULL;
        w->reply = request->reply;
        w->reply_kind = request->reply_kind;
        request->reply = NULL;
        request->reply_kind = RIGHT_NONE;
        list_add_tail(&waits, &w->link);
        n_waits++;
        return BOOTSTRAP_LATER;
}

/* bootstrap_deinit() - release the broker's send right and every wait. */
void bootstrap_deinit(void) {
        while (waits.next != &waits) {
                BootWait *w = list_entry(waits.next, BootWait, link);
                right_release(w->reply, w->reply_kind);
                wait_free(w);
        }
        if (bootstrap_port) {
                notify_srights_dec(bootstrap_port);
                bootstrap_port = port_unref(bootstrap_port);
        }
}
