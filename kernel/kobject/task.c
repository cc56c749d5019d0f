/* SPDX-License-Identifier: MIT */
/*
 * task.c - kernel calls: messages to a task's kernel port
 *
 * As in Mach, port_allocate() and friends are RPCs to a task's kernel port.
 * The call acts on the space of the task the kernel port stands for, which
 * need not be the caller.  Request and reply formats are in lib/wire/kcall.h
 * and doc/protocol.md.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "ipc/ipc.h"
#include "ipc/kmsg.h"
#include "ipc/notify.h"
#include "ipc/port.h"
#include "ipc/space.h"
#include "kcall.h"
#include "bootstrap.h"
#include "kobject.h"
#include "semaphore.h"
#include "shm.h"
#include "task.h"

static int new_receive(Space *s, bool is_set, uint32_t *namep) {
        Port *p;
        SpaceEntry *e;
        if (port_new(&p, is_set) < 0)
                return KERN_RESOURCE_SHORTAGE;
        int r = space_alloc(s, p, is_set ? ENTRY_PORT_SET : ENTRY_RECEIVE, &e);
        if (r != 0) {
                p->active = false;
                port_unref(p);
                return r == SPACE_E_NO_SPACE ? KERN_NO_SPACE : KERN_RESOURCE_SHORTAGE;
        }
        ipc_port_set_receiver(p, s, e->name);
        *namep = e->name;
        return KERN_SUCCESS;
}

static int do_deallocate(Space *s, uint32_t name) {
        SpaceEntry *e = space_lookup(s, name);
        if (!e)
                return KERN_INVALID_NAME;
        Port *p = e->port;
        if (e->bits & (ENTRY_RECEIVE | ENTRY_PORT_SET)) {
                /* The owner gives up the mailbox: it and everything under the name go.  What was
                 * lent from it goes back first, and takes back from this name the send rights it
                 * brought; the send right left here, if any, is counted out after. */
                ipc_port_set_receiver(p, NULL, 0);
                if (e->bits & ENTRY_SEND)
                        notify_srights_dec(p);
                ipc_port_destroy(p);
                notify_entry_dealloc(s, e);
        } else if (e->bits & ENTRY_SEND) {
                if (--e->urefs == 0) {
                        notify_srights_dec(p);
                        notify_entry_dealloc(s, e);
                }
        } else if (e->bits & ENTRY_SEND_ONCE) {
                /* A live send-once right is destroyed; a dead one loses a reference. */
                if (p->active || --e->urefs == 0) {
                        notify_sorights_dec(p, true);
                        notify_entry_dealloc(s, e);
                }
        }
        return KERN_SUCCESS;
}

static uint32_t list_length(const ListLink *head) {
        uint32_t n = 0;
        for (const ListLink *l = head->next; l != head; l = l->next)
                n++;
        return n;
}

static int do_status(Space *s, uint32_t name, int32_t *out) {
        SpaceEntry *e = space_lookup(s, name);
        if (!e)
                return KERN_INVALID_NAME;
        Port *p = e->port;
        if (!p->active)
                return KERN_INVALID_RIGHT;
        uint32_t v[KCALL_STATUS_FIELDS] = { 0 };
        v[10] = list_length(&p->receivers);
        if (p->kobject_type == KOBJECT_SEMAPHORE) {
                /* A semaphore: msgcount is its count, n_receivers its waiters. */
                Semaphore *sem = p->kobject;
                v[1] = (uint32_t)sem->count;
                v[3] = p->n_srights;
                v[9] = e->urefs;
                v[10] = sem->n_waiters;
        } else if (p->is_set) {
                for (const ListLink *l = p->members.next; l != &p->members; l = l->next)
                        v[1] += list_entry(l, Port, member_link)->msgcount;
        } else {
                uint32_t set = p->pset && p->receiver == s ? p->pset->receiver_name : 0;
                /* Lent messages are still queued as far as anyone can tell: their numbers too. */
                uint32_t f[] = { p->qlimit, p->msgcount, p->receiver == s, p->n_srights,
                                 p->n_sorights, p->seqno - p->n_lent, p->mscount, set, p->n_senders,
                                 e->urefs };
                memcpy(v, f, sizeof(f));
        }
        memcpy(out, v, sizeof(v));
        return KERN_SUCCESS;
}

static SpaceEntry *lookup_receive(Space *s, uint32_t name, int *krp) {
        SpaceEntry *e = space_lookup(s, name);
        *krp = !e ? KERN_INVALID_NAME : !(e->bits & ENTRY_RECEIVE) ? KERN_INVALID_RIGHT : 0;
        return *krp ? NULL : e;
}

static int do_set_backlog(Space *s, uint32_t name, uint32_t backlog) {
        int kr;
        SpaceEntry *e = lookup_receive(s, name, &kr);
        if (!e)
                return kr;
        if (backlog > PORT_QLIMIT_MAX && backlog != PORT_QLIMIT_UNLIMITED)
                return KERN_INVALID_VALUE;
        e->port->qlimit = backlog;
        ipc_admit_senders(e->port);
        return KERN_SUCCESS;
}

static int do_set_add(Space *s, uint32_t set_name, uint32_t name) {
        int kr;
        SpaceEntry *e = lookup_receive(s, name, &kr);
        /* The library forgot what it held on loan of the port; it goes back whatever the outcome. */
        if (e)
                ipc_port_recall_lent(e->port);
        SpaceEntry *se = space_lookup(s, set_name);
        if (!se)
                return KERN_INVALID_NAME;
        if (!(se->bits & ENTRY_PORT_SET))
                return KERN_INVALID_RIGHT;
        if (!e)
                return kr;
        if (e->port->pset)
                return KERN_ALREADY_IN_SET;
        port_set_add(se->port, e->port);
        ipc_serve_receivers(e->port);
        return KERN_SUCCESS;
}

static int do_set_remove(Space *s, uint32_t name) {
        int kr;
        SpaceEntry *e = lookup_receive(s, name, &kr);
        if (!e)
                return kr;
        /* Out of the set first: what was lent of it goes back to its queue, not to the set's arm again. */
        bool in_set = e->port->pset != NULL;
        port_set_remove(e->port);
        ipc_port_recall_lent(e->port);
        return in_set ? KERN_SUCCESS : KERN_NOT_IN_SET;
}

static int do_set_bootstrap(Space *s, Kmsg *req) {
        if (req->n_rights != 1 || req->rights[0].kind != RIGHT_SEND)
                return KERN_INVALID_RIGHT;
        Port *p = req->rights[0].port;
        if (p->receiver != s || p->is_set)
                return KERN_INVALID_RIGHT;
        int kr = bootstrap_set(p);      /* the message's send right becomes the broker's */
        if (kr != KERN_SUCCESS)
                return kr;
        req->rights[0].port = NULL;
        req->rights[0].kind = RIGHT_NONE;
        return KERN_SUCCESS;
}

/* Reply to @req, taking its reply right. */
static void kobject_reply(Kmsg *req, int32_t id, const int32_t *res, uint32_t n,
                          const KobjExtra *extra, Port *right) {
        Port *reply = req->reply;
        uint8_t kind = req->reply_kind;
        req->reply = NULL;
        req->reply_kind = RIGHT_NONE;
        kobject_send_reply(reply, kind, kcall_reply_id(id), res, n, extra,
                           id == KCALL_GET_BOOTSTRAP || id == KCALL_WAIT_BOOTSTRAP || id == KCALL_SEMAPHORE_CREATE ||
                                   id == KCALL_SHM_CREATE,
                           right, -1);
}

static int do_request_notification(Task *target, const uint32_t *args) {
        Space *s = target->space;
        SpaceEntry *e = space_lookup(s, args[0]);
        if (!e)
                return KERN_INVALID_NAME;
        Port *notify = NULL;
        if (args[3] == PORT_NULL) {
                notify = target->notify_port;
        } else if (args[3] != PORT_DEAD) {
                SpaceEntry *ne = space_lookup(s, args[3]);
                if (!ne)
                        return KERN_INVALID_NAME;
                if (!(ne->bits & ENTRY_RECEIVE))
                        return KERN_INVALID_CAPABILITY;
                notify = ne->port;
        }
        switch (notify_request(s, e, (int32_t)args[1], args[2], notify)) {
        case 0:
                return KERN_SUCCESS;
        case NOTIFY_E_INVALID_RIGHT:
                return KERN_INVALID_RIGHT;
        case NOTIFY_E_INVALID_VALUE:
                return KERN_INVALID_VALUE;
        default:
                return KERN_RESOURCE_SHORTAGE;
        }
}

/*
 * Entries from slot @start on: pairs (name, type) into @out; *nextp: where to
 * go on, 0 at the end.  A page may hold fewer than KCALL_NAMES_PAGE names
 * (even none) and still not be the last.
 */
static uint32_t do_names(Space *s, uint32_t start, uint32_t *out, uint32_t *nextp) {
        uint32_t n = 0, i = start ? start : 1;
        /* A bounded walk per call, however sparse the table. */
        uint64_t end = (uint64_t)i + KCALL_NAMES_SCAN;
        if (end > s->n_slots)
                end = s->n_slots;
        for (; i < end && n < KCALL_NAMES_PAGE; i++) {
                SpaceEntry *e = &s->entries[i];
                if (!e->name)
                        continue;
                out[2 * n] = e->name;
                out[2 * n + 1] = space_entry_type(e);
                n++;
        }
        *nextp = i < s->n_slots ? i : 0;
        return n;
}

/* Mach's right selectors (machipc/port.h PORT_RIGHT_*). */
enum { RIGHT_SEL_SEND, RIGHT_SEL_RECEIVE, RIGHT_SEL_SEND_ONCE, RIGHT_SEL_PORT_SET, RIGHT_SEL_DEAD_NAME };

static int do_get_refs(Space *s, uint32_t name, uint32_t right, int32_t *refs) {
        SpaceEntry *e = space_lookup(s, name);
        if (!e)
                return KERN_INVALID_NAME;
        uint32_t type = space_entry_type(e);
        switch (right) {
        case RIGHT_SEL_SEND:
                *refs = (type & ENTRY_SEND) ? (int32_t)e->urefs : 0;
                return KERN_SUCCESS;
        case RIGHT_SEL_DEAD_NAME:
                *refs = (type & ENTRY_DEAD_NAME) ? (int32_t)e->urefs : 0;
                return KERN_SUCCESS;
        case RIGHT_SEL_RECEIVE:
                *refs = !!(type & ENTRY_RECEIVE);
                return KERN_SUCCESS;
        case RIGHT_SEL_SEND_ONCE:
                *refs = !!(type & ENTRY_SEND_ONCE);
                return KERN_SUCCESS;
        case RIGHT_SEL_PORT_SET:
                *refs = !!(type & ENTRY_PORT_SET);
                return KERN_SUCCESS;
        default:
                return KERN_INVALID_VALUE;
        }
}

static int do_mod_refs(Space *s, uint32_t name, uint32_t right, int32_t delta) {
        SpaceEntry *e = space_lookup(s, name);
        if (!e)
                return KERN_INVALID_NAME;
        uint32_t type = space_entry_type(e);
        Port *p = e->port;
        switch (right) {
        case RIGHT_SEL_SEND:
        case RIGHT_SEL_DEAD_NAME: {
                uint32_t need = right == RIGHT_SEL_SEND ? ENTRY_SEND : ENTRY_DEAD_NAME;
                /* The right whose references these are: a send right, or the
                 * send or send-once right a dead name was. */
                uint32_t held = e->bits & (ENTRY_SEND | ENTRY_SEND_ONCE);
                if (!(type & need) || !held)
                        return KERN_INVALID_RIGHT;
                int64_t v = (int64_t)e->urefs + delta;
                if (v < 0)
                        return KERN_INVALID_VALUE;
                if (v > SPACE_UREFS_MAX)
                        return KERN_UREFS_OVERFLOW;
                e->urefs = (uint16_t)v;
                if (v == 0) {
                        if (held == ENTRY_SEND)
                                notify_srights_dec(p);
                        else
                                notify_sorights_dec(p, false);
                        e->bits &= ~held;
                        if (!e->bits)
                                notify_entry_dealloc(s, e);
                }
                return KERN_SUCCESS;
        }
        case RIGHT_SEL_RECEIVE:
        case RIGHT_SEL_PORT_SET:
        case RIGHT_SEL_SEND_ONCE: {
                uint32_t need = right == RIGHT_SEL_RECEIVE ? ENTRY_RECEIVE
                              : right == RIGHT_SEL_PORT_SET ? ENTRY_PORT_SET : ENTRY_SEND_ONCE;
                if (!(type & need))
                        return KERN_INVALID_RIGHT;
                if (delta > 0)
                        return KERN_UREFS_OVERFLOW;
                if (delta < -1)
                        return KERN_INVALID_VALUE;
                if (delta == 0)
                        return KERN_SUCCESS;
                if (need == ENTRY_SEND_ONCE) {
                        notify_sorights_dec(p, true);
                } else {
                        /* The receive right alone goes: send rights here become a dead name. */
                        ipc_port_set_receiver(p, NULL, 0);
                        ipc_port_destroy(p);
                }
                e->bits &= ~need;
                if (!e->bits)
                        notify_entry_dealloc(s, e);
                return KERN_SUCCESS;
        }
        default:
                return KERN_INVALID_VALUE;
        }
}

static KobjectInfoFn kobject_info_fn;

void kobject_set_info(KobjectInfoFn fn) {
        kobject_info_fn = fn;
}

/* A semaphore @name (a send right in @s) created by @target, or NULL. */
static KobjectMonitorFn kobject_monitor_fn;

void kobject_set_monitor(KobjectMonitorFn fn) {
        kobject_monitor_fn = fn;
}

/* A send right to one of @s's own ports, where trace lines will go. */
static int do_monitor(Task *target, Kmsg *req, const uint32_t *args) {
        if (req->n_rights != 1 || req->rights[0].kind != RIGHT_SEND)
                return KERN_INVALID_RIGHT;
        Port *p = req->rights[0].port;
        if (p->receiver != target->space || p->is_set)
                return KERN_INVALID_RIGHT;
        if (!kobject_monitor_fn)
                return KERN_FAILURE;
        int kr = kobject_monitor_fn(target, p, (uint64_t)args[0] | (uint64_t)args[1] << 32, (int32_t)args[2]);
        if (kr == KERN_SUCCESS) {
                req->rights[0].port = NULL;     /* the monitor's now */
                req->rights[0].kind = RIGHT_NONE;
        }
        return kr;
}

static KobjectOriginFn kobject_origin_fn;

void kobject_set_origin(KobjectOriginFn fn) {
        kobject_origin_fn = fn;
}

/* KCALL_ORIGIN_CREATE: the second item holds "host\0identity\0" (MSG_TYPE_STRING or CHAR). */
static int do_origin_create(Task *target, Kmsg *req, uint32_t *id) {
        WireItemIter it;
        WireItem item;
        wire_item_iter_init(&it, req->data, req->size);
        if (!wire_item_next(&it, &item) || item.name != MSG_TYPE_INTEGER_32 || !wire_item_next(&it, &item) ||
            (item.name != MSG_TYPE_STRING && item.name != MSG_TYPE_CHAR) ||
            item.bytes > 2 * (WIRE_ORIGIN_NAME_MAX + 1) || wire_item_next(&it, &(WireItem){ 0 }))
                return KERN_INVALID_ARGUMENT;
        char buf[2 * (WIRE_ORIGIN_NAME_MAX + 1)];
        memcpy(buf, req->data + item.offset, item.bytes);
        const char *host = buf, *nul = memchr(buf, 0, item.bytes);
        if (!nul)
                return KERN_INVALID_ARGUMENT;
        const char *identity = nul + 1, *end = buf + item.bytes;
        if (identity >= end || !memchr(identity, 0, (size_t)(end - identity)) ||
            identity + strlen(identity) + 1 != end)
                return KERN_INVALID_ARGUMENT;
        return kobject_origin_fn ? kobject_origin_fn(target, true, host, identity, id) : KERN_FAILURE;
}

static Semaphore *own_semaphore(Task *target, Space *s, uint32_t name) {
        SpaceEntry *e = space_lookup(s, name);
        if (!e || !(e->bits & ENTRY_SEND) || e->port->kobject_type != KOBJECT_SEMAPHORE)
                return NULL;
        Semaphore *sem = e->port->kobject;
        return sem->owner == target ? sem : NULL;
}

/**
 * task_server() - serve one request sent to a task's kernel port
 * @request: the message; consumed
 *
 * Unknown ids and malformed arguments are answered with
 * KERN_INVALID_ARGUMENT; a request without a reply right is served and its
 * results dropped (a "simpleroutine").
 */
void task_server(Kmsg *request) {
        Task *target = request->dest->kobject;
        Space *s = target->space;
        msg_header_t h;
        int32_t res[KCALL_RESULTS_MAX] = { 0 };
        uint32_t n_res = 1;
        uint32_t args[KCALL_ARGS_MAX] = { 0 };
        uint32_t n_args = 0;
        Port *right = NULL;
        KobjExtra extra_item, *extra = NULL;
        uint32_t *names = NULL;
        char *info = NULL;

        wire_msg_header_get(request->data, &h);
        WireItemIter it;
        WireItem item;
        wire_item_iter_init(&it, request->data, request->size);
        if (wire_item_next(&it, &item) && item.name == MSG_TYPE_INTEGER_32 &&
            item.number <= KCALL_ARGS_MAX) {
                n_args = item.number;
                memcpy(args, request->data + item.offset, 4 * n_args);
        }

        int kr = KERN_INVALID_ARGUMENT;
        switch (h.msg_id) {
        case KCALL_PORT_ALLOCATE:
                kr = new_receive(s, false, (uint32_t *)&res[1]);
                n_res = 2;
                break;
        case KCALL_PORT_SET_ALLOCATE:
                kr = new_receive(s, true, (uint32_t *)&res[1]);
                n_res = 2;
                break;
        case KCALL_PORT_DEALLOCATE:
                if (n_args == 1)
                        kr = do_deallocate(s, args[0]);
                break;
        case KCALL_PORT_STATUS:
                if (n_args == 1)
                        kr = do_status(s, args[0], &res[1]);
                n_res = 1 + KCALL_STATUS_FIELDS;
                break;
        case KCALL_PORT_SET_BACKLOG:
                if (n_args == 2)
                        kr = do_set_backlog(s, args[0], args[1]);
                break;
        case KCALL_PORT_SET_ADD:
                if (n_args == 2)
                        kr = do_set_add(s, args[0], args[1]);
                break;
        case KCALL_PORT_SET_REMOVE:
                if (n_args == 1)
                        kr = do_set_remove(s, args[0]);
                break;
        case KCALL_PORT_TYPE:
                if (n_args == 1) {
                        SpaceEntry *e = space_lookup(s, args[0]);
                        kr = e ? KERN_SUCCESS : KERN_INVALID_NAME;
                        res[1] = e ? (int32_t)space_entry_type(e) : 0;
                }
                n_res = 2;
                break;
        case KCALL_GET_BOOTSTRAP:
                right = kobject_bootstrap();
                kr = KERN_SUCCESS;
                break;
        case KCALL_SET_BOOTSTRAP:
                kr = do_set_bootstrap(s, request);
                break;
        case KCALL_MONITOR:
                if (n_args == 3)
                        kr = do_monitor(target, request, args);
                break;
        case KCALL_ORIGIN_CREATE:
                n_res = 2;
                if (n_args == 0)
                        kr = do_origin_create(target, request, (uint32_t *)&res[1]);
                break;
        case KCALL_ORIGIN_DESTROY:
                if (n_args == 1 && kobject_origin_fn)
                        kr = kobject_origin_fn(target, false, NULL, NULL, &args[0]);
                break;
        case KCALL_WAIT_BOOTSTRAP:
                if (n_args != 1)
                        break;
                kr = bootstrap_wait(target, request, args[0], &right);
                if (kr == BOOTSTRAP_LATER) {
                        kmsg_free(request);
                        return;         /* answered when a new one is registered */
                }
                break;
        case KCALL_PORT_REQUEST_NOTIFICATION:
                if (n_args == 4)
                        kr = do_request_notification(target, args);
                break;
        case KCALL_PORT_NAMES:
                n_res = 3;
                if (n_args != 1)
                        break;
                names = malloc(KCALL_NAMES_PAGE * 8);
                if (!names) {
                        kr = KERN_RESOURCE_SHORTAGE;
                        break;
                }
                res[1] = (int32_t)do_names(s, args[0], names, (uint32_t *)&res[2]);
                extra_item = (KobjExtra){ MSG_TYPE_INTEGER_32, names, 2 * (uint32_t)res[1],
                                          8 * (uint32_t)res[1] };
                extra = &extra_item;
                kr = KERN_SUCCESS;
                break;
        case KCALL_PORT_GET_REFS:
                n_res = 2;
                if (n_args == 2)
                        kr = do_get_refs(s, args[0], args[1], &res[1]);
                break;
        case KCALL_PORT_MOD_REFS:
                if (n_args == 3)
                        kr = do_mod_refs(s, args[0], args[1], (int32_t)args[2]);
                break;
        case KCALL_SEMAPHORE_CREATE: {
                Semaphore *sem;
                if (n_args != 1 || (int32_t)args[0] < 0 || !request->reply)
                        break;
                if (semaphore_new(&sem, target, &target->semaphores, (int32_t)args[0]) < 0) {
                        kr = KERN_RESOURCE_SHORTAGE;
                        break;
                }
                right = sem->port;
                kr = KERN_SUCCESS;
                break;
        }
        case KCALL_SEMAPHORE_DESTROY: {
                Semaphore *sem = n_args == 1 ? own_semaphore(target, s, args[0]) : NULL;
                if (!sem)
                        break;
                semaphore_destroy(sem);
                kr = KERN_SUCCESS;
                break;
        }
        case KCALL_SHM_CREATE: {
                Shm *shm;
                uint64_t size = n_args == 2 ? (uint64_t)args[0] | (uint64_t)args[1] << 32 : 0;
                /* Without a reply right nobody could ever name it. */
                if (request->n_fds != 1 || request->fds[0] < 0 || !request->reply)
                        break;
                int r = shm_new(&shm, request->fds[0], size);
                if (r < 0) {
                        kr = r == -ENOMEM ? KERN_RESOURCE_SHORTAGE : KERN_INVALID_ARGUMENT;
                        break;
                }
                request->fds[0] = -1;   /* the region's now */
                right = shm->port;
                kr = KERN_SUCCESS;
                break;
        }
        case KCALL_BROKER_INFO: {
                n_res = 4;
                if (n_args != 2 || !kobject_info_fn)
                        break;
                info = malloc(KCALL_INFO_CHUNK);
                if (!info) {
                        kr = KERN_RESOURCE_SHORTAGE;
                        break;
                }
                uint32_t cursor[2] = { args[0], args[1] };
                bool done = false;
                size_t len = kobject_info_fn(cursor, info, KCALL_INFO_CHUNK, &done);
                res[1] = done;
                res[2] = (int32_t)cursor[0];
                res[3] = (int32_t)cursor[1];
                extra_item = (KobjExtra){ MSG_TYPE_CHAR, info, (uint32_t)len, (uint32_t)len };
                extra = &extra_item;
                kr = KERN_SUCCESS;
                break;
        }
        default:
                break;
        }
        res[0] = kr;
        kobject_reply(request, h.msg_id, res, n_res, kr == KERN_SUCCESS ? extra : NULL, right);
        free(names);
        free(info);
        kmsg_free(request);
}
