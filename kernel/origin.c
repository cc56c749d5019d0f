/* SPDX-License-Identifier: MIT */
/*
 * origin.c - tasks that relay messages from other hosts (machipc-netmsgd)
 *
 * A relay makes an Origin per peer host (KCALL_ORIGIN_CREATE: host name and
 * certificate identity) and names it in each send it makes on that host's
 * behalf (WIRE_MSG_ORIGIN).  Receivers are then told the host and identity,
 * and which local task relayed the message, instead of a pid, uid and gid
 * of this machine.  Only a task of the broker's own uid may speak for
 * another host: anyone else could otherwise claim to be any host.  A task
 * holds at most PEER_ORIGINS_MAX; they go with it.
 */

#include <string.h>
#include "broker.h"
#include "ipc/origin.h"
#include "kobject/kobject.h"
#include "origin.h"
#include "peer.h"
#include "util/list.h"

static Broker *origin_broker;

/* peer_origin_find() - the origin @id of @peer, or NULL. */
Origin *peer_origin_find(Peer *peer, uint32_t id) {
        return id >= 1 && id <= PEER_ORIGINS_MAX ? peer->origins[id - 1] : NULL;
}

/*
 * origin_call() - KCALL_ORIGIN_CREATE (@host, @identity; *@id set) or
 * KCALL_ORIGIN_DESTROY (@id) for @task
 *
 * Return: KERN_SUCCESS, KERN_NO_ACCESS (not the broker's uid),
 * KERN_INVALID_ARGUMENT (a bad name), KERN_RESOURCE_SHORTAGE (the task has
 * PEER_ORIGINS_MAX, or no memory), KERN_INVALID_NAME (no such origin).
 */
static int origin_call(Task *task, bool create, const char *host, const char *identity, uint32_t *id) {
        Peer *peer = list_entry(task, Peer, task);
        if (peer->uid != origin_broker->uid)
                return KERN_NO_ACCESS;
        if (!create) {
                Origin *o = peer_origin_find(peer, *id);
                if (!o)
                        return KERN_INVALID_NAME;
                peer->origins[*id - 1] = origin_unref(o);
                peer->n_origins--;
                return KERN_SUCCESS;
        }
        if (!wire_origin_name_ok(host, false) || !wire_origin_name_ok(identity, true))
                return KERN_INVALID_ARGUMENT;
        uint32_t slot = 0;
        while (slot < PEER_ORIGINS_MAX && peer->origins[slot])
                slot++;
        if (slot == PEER_ORIGINS_MAX)
                return KERN_RESOURCE_SHORTAGE;
        Origin *o = calloc(1, sizeof(*o));
        if (!o)
                return KERN_RESOURCE_SHORTAGE;
        o->refs = 1;
        o->relay_pid = peer->pid;
        o->relay_uid = peer->uid;
        memcpy(o->host, host, strlen(host));
        memcpy(o->identity, identity, strlen(identity));
        peer->origins[slot] = o;
        peer->n_origins++;
        *id = slot + 1;
        return KERN_SUCCESS;
}

/* peer_origins_free() - the task is going: its origins live on only in the messages that hold them. */
void peer_origins_free(Peer *peer) {
        for (uint32_t i = 0; i < PEER_ORIGINS_MAX; i++)
                peer->origins[i] = origin_unref(peer->origins[i]);
        peer->n_origins = 0;
}

void origin_setup(Broker *b) {
        origin_broker = b;
        kobject_set_origin(origin_call);
}
