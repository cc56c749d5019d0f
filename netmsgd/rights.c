/* SPDX-License-Identifier: MIT */
/*
 * rights.c - what netmsgd exports to a peer (rights of ours it may name by
 * id) and imports from it (proxy ports here, whose receive right netmsgd
 * holds, standing for the peer's exports), and the translation of a right
 * between the two forms, receive rights (a port moving) included
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "idmap.h"
#include "netmsgd.h"
#include "rights.h"
#include "wire.h"

/*
 * Each array is found by hash (idmap.c): a peer's exports by id and, for
 * send rights, by name; the imports by proxy and, per peer, by id.  An
 * element removed is replaced by the last one, whose keys then follow it.
 */

/* ---- exports: rights of ours a peer names by id ---- */

Export *export_find(Peer *p, uint64_t id) {
        uint32_t i;
        return id && idmap_get(&p->export_ids, id, &i) == 0 ? &p->exports[i] : NULL;
}

/* export_by_name() - the send right (not send-once) @name exported to @p, if it is. */
Export *export_by_name(Peer *p, port_t name) {
        uint32_t i;
        return name && idmap_get(&p->export_names, name, &i) == 0 ? &p->exports[i] : NULL;
}

/* Delete the key @key of @map if it leads to index @i. */
static void unkey(IdMap *map, uint64_t key, uint32_t i) {
        uint32_t v;
        if (key && idmap_get(map, key, &v) == 0 && v == i)
                idmap_del(map, key);
}

void export_drop(Peer *p, Export *e, bool release) {
        uint32_t i = (uint32_t)(e - p->exports), last = --p->n_exports;
        if (release && e->name != PORT_NULL && e->name != PORT_DEAD)
                port_deallocate(task_self(), e->name);
        unkey(&p->export_ids, e->id, i);
        if (!e->once)
                unkey(&p->export_names, e->name, i);
        if (i == last)
                return;
        *e = p->exports[last];
        /* Replacing keys never allocates: these cannot fail. */
        idmap_put(&p->export_ids, e->id, i);
        if (!e->once)
                idmap_put(&p->export_names, e->name, i);
}

/*
 * export_add() - a new export of @name (a @once right) to @p as @id.
 * Return: it, or NULL: @p holds its limit of exports, @id is taken (or 0), or no memory.
 */
Export *export_add(Peer *p, uint64_t id, port_t name, bool once) {
        if (p->n_exports >= nm.peer_rights_max || !id || export_find(p, id))
                return NULL;
        Export *v = nm_room(p->exports, p->n_exports, &p->cap_exports, sizeof(*v));
        if (!v)
                return NULL;
        p->exports = v;
        uint32_t i = p->n_exports;
        if (idmap_put(&p->export_ids, id, i) < 0)
                return NULL;
        if (!once && idmap_put(&p->export_names, name, i) < 0) {
                idmap_del(&p->export_ids, id);
                return NULL;
        }
        p->n_exports++;
        p->exports[i] = (Export){ id, name, once, 0, 0, 0 };
        return &p->exports[i];
}

/*
 * Export @name (a right we were just given, of @once kind) to @p: its id.
 * A send right already exported keeps its id, and the reference just given
 * goes back; the port's death is asked to be told (dead-name).
 */
uint64_t export_right(Peer *p, port_t name, bool once) {
        Export *e = once ? NULL : export_by_name(p, name);
        if (e) {
                port_deallocate(task_self(), name);
                e->sent++;
                return e->id;
        }
        if (!(e = export_add(p, p->next_export, name, once))) {
                if (!p->exports_full)
                        nm_log("%s: %u rights exported there already, or no memory: a right goes as a dead name "
                               "(said once while at the limit)", p->host, p->n_exports);
                p->exports_full = true;
                return 0;
        }
        p->exports_full = false;
        p->next_export++;
        e->sent = 1;
        /* A send right's port may die while the peer holds its proxy: it is told (NM_DEAD).  A
         * send-once right is used at most once; if its port died, the delivery fails and the
         * right goes then. */
        if (!once)
                port_request_notification(task_self(), name, NOTIFY_DEAD_NAME, 0, nm.notify);
        return e->id;
}

/* ---- imports: proxies here for a peer's exports ---- */

Import *import_by_proxy(port_t proxy) {
        uint32_t i;
        return proxy && idmap_get(&nm.import_proxies, proxy, &i) == 0 ? &nm.imports[i] : NULL;
}

Import *import_find(Peer *p, uint64_t id) {
        uint32_t i;
        return id && idmap_get(&p->import_ids, id, &i) == 0 ? &nm.imports[i] : NULL;
}

/* Forget @im (its proxy is the caller's to keep or destroy). */
static void import_remove(Import *im) {
        uint32_t i = (uint32_t)(im - nm.imports), last = --nm.n_imports;
        im->peer->n_imports--;
        unkey(&nm.import_proxies, im->proxy, i);
        unkey(&im->peer->import_ids, im->id, i);
        if (i == last)
                return;
        *im = nm.imports[last];
        idmap_put(&nm.import_proxies, im->proxy, i);
        idmap_put(&im->peer->import_ids, im->id, i);
}

/* Record a proxy: @im's keys.  Return: it, or NULL (no memory; nothing recorded). */
static Import *import_add(Import im) {
        if (!im.id || import_find(im.peer, im.id))
                return NULL;    /* 0, or an id given twice: only a broken peer does either */
        Import *v = nm_room(nm.imports, nm.n_imports, &nm.cap_imports, sizeof(*v));
        if (!v)
                return NULL;
        nm.imports = v;
        uint32_t i = nm.n_imports;
        if (idmap_put(&nm.import_proxies, im.proxy, i) < 0)
                return NULL;
        if (idmap_put(&im.peer->import_ids, im.id, i) < 0) {
                idmap_del(&nm.import_proxies, im.proxy);
                return NULL;
        }
        nm.imports[nm.n_imports++] = im;
        im.peer->n_imports++;
        return &nm.imports[i];
}

/*
 * May @p have one more proxy here?  If not, @then says what becomes of the
 * right - in the log once until there is room again: a peer must not flood it.
 */
static bool import_room(Peer *p, const char *then) {
        if (p->n_imports < nm.peer_rights_max) {
                p->imports_full = false;
                return true;
        }
        if (!p->imports_full)
                nm_log("%s: %u proxies here for it already: %s (said once while at the limit)", p->host,
                       p->n_imports, then);
        p->imports_full = true;
        return false;
}

/*
 * Destroy a proxy: its receive right goes, so its senders hold dead names (and are told).
 * A send-once proxy that carried its message (or whose right came back unused) has no right
 * left anywhere: it is kept for the next one, which saves four broker calls per RPC.
 */
void import_drop(Import *im) {
        if (im->once && nm.n_once_pool < NM_ONCE_POOL)
                nm.once_pool[nm.n_once_pool++] = im->proxy;
        else
                port_deallocate(task_self(), im->proxy);
        import_remove(im);
}

/* import_drop_dead() - the same for a proxy whose port is gone: its holders must see a dead name. */
void import_drop_dead(Import *im) {
        port_deallocate(task_self(), im->proxy);
        import_remove(im);
}

Import *import_new(Peer *p, uint64_t id, bool once) {
        if (!import_room(p, "a right from it arrives as a dead name"))
                return NULL;
        port_t proxy;
        bool pooled = once && nm.n_once_pool;
        if (pooled) {
                proxy = nm.once_pool[--nm.n_once_pool];
        } else {
                if (port_allocate(task_self(), &proxy) != KERN_SUCCESS)
                        return NULL;
                port_set_backlog(task_self(), proxy, NM_PROXY_BACKLOG);
                if (port_set_add(task_self(), nm.set, proxy) != KERN_SUCCESS) {
                        port_deallocate(task_self(), proxy);
                        return NULL;
                }
        }
        Import *im = import_add((Import){ p, id, proxy, once, NM_CREDIT_INIT, false, 0 });
        if (!im) {
                if (pooled)
                        nm.once_pool[nm.n_once_pool++] = proxy;
                else
                        port_deallocate(task_self(), proxy);
                return NULL;
        }
        /* A send proxy with no senders left releases the export; a send-once proxy's unused
         * right comes back to it by itself (NOTIFY_SEND_ONCE). */
        if (!once)
                port_request_notification(task_self(), proxy, NOTIFY_NO_SENDERS, 1, proxy);
        return im;
}

/*
 * A right of our own made from the receive right @name we hold: @disp
 * MSG_TYPE_MAKE_SEND (its name is @name) or MSG_TYPE_MAKE_SEND_ONCE (a new
 * name), in *@made.  It passes through a port of ours, as the broker makes
 * rights only in messages.
 */
static bool make_right(port_t name, uint16_t disp, port_t *made) {
        struct {
                msg_header_t h;
                msg_type_t t;
                port_t right;
                uint32_t pad;
        } m = { .h = { .msg_size = sizeof(m), .msg_remote_port = nm.loop },
                .t = { disp, 0, 1 }, .right = name };
        if (msg_send(&m.h, SEND_TIMEOUT, 0) != 0)
                return false;
        m.h.msg_size = sizeof(m);
        m.h.msg_local_port = nm.loop;
        if (msg_receive(&m.h, RCV_TIMEOUT, 0) != 0)
                return false;
        *made = m.right;
        return m.right != PORT_NULL && m.right != PORT_DEAD;
}

static bool make_send(port_t name) {
        port_t made;
        return make_right(name, MSG_TYPE_MAKE_SEND, &made) && made == name;
}

/*
 * A receive right that came here for a task of @p's host: the port moves
 * there.  A new port there takes its place (id chosen here, NM_MIGRATED);
 * ours stays, as a proxy for it: what is queued in it now and what its
 * senders here send later is forwarded there, in order, behind this message.
 */
static NmRef migrate_out(Peer *p, port_t port) {
        uint64_t id = NM_MIGRATED | (nm.next_migration + 1);
        if (!import_room(p, "a receive right for it is destroyed")) {
                port_deallocate(task_self(), port);
                return (NmRef){ NM_REF_DEAD, 0, 0 };
        }
        port_set_backlog(task_self(), port, NM_PROXY_BACKLOG);
        if (port_set_add(task_self(), nm.set, port) != KERN_SUCCESS ||
            !import_add((Import){ p, id, port, false, NM_CREDIT_INIT, false, 0 })) {
                port_deallocate(task_self(), port);
                return (NmRef){ NM_REF_DEAD, 0, 0 };
        }
        nm.next_migration++;
        port_request_notification(task_self(), port, NOTIFY_NO_SENDERS, 1, port);
        return (NmRef){ NM_REF_RECEIVE, NM_SIDE_SENDER, id };
}

/* A port moving here: a new one, its receive right for the message, a send right kept as @p's export @id. */
static bool migrate_in(Peer *p, uint64_t id, port_t *name) {
        port_t port;
        if (port_allocate(task_self(), &port) != KERN_SUCCESS)
                return false;
        if (!make_send(port) || !export_add(p, id, port, false)) {
                port_deallocate(task_self(), port);
                return false;
        }
        port_request_notification(task_self(), port, NOTIFY_DEAD_NAME, 0, nm.notify);
        *name = port;
        return true;
}

/*
 * The local name and disposition for a right a frame from @p names.
 * Return: false if it names nothing we can give (then *name is PORT_DEAD).
 */
bool import_ref(Peer *p, NmRef ref, port_t *name, uint16_t *disp) {
        *name = PORT_NULL;
        *disp = MSG_TYPE_COPY_SEND;
        if (ref.kind == NM_REF_NULL)
                return true;
        if (ref.kind == NM_REF_DEAD) {
                *name = PORT_DEAD;
                return true;
        }
        if (ref.kind == NM_REF_RECEIVE) {
                *disp = MSG_TYPE_MOVE_RECEIVE;
                if (migrate_in(p, ref.id, name))
                        return true;
                *name = PORT_NULL;
                return false;
        }
        bool once = ref.kind == NM_REF_SEND_ONCE;
        if (ref.side == NM_SIDE_RECEIVER) {
                /* One of our own exports, coming home. */
                Export *e = export_find(p, ref.id);
                if (!e || e->once != once) {
                        *name = PORT_DEAD;
                        return false;
                }
                *name = e->name;
                if (once) {
                        *disp = MSG_TYPE_MOVE_SEND_ONCE;
                        export_drop(p, e, false);
                }
                return true;
        }
        Import *im = once ? NULL : import_find(p, ref.id);
        if (!im)
                im = import_new(p, ref.id, once);
        if (!im) {
                *name = PORT_DEAD;
                return false;
        }
        im->seen++;     /* what our NM_RELEASE says we saw: references sent meanwhile keep the export */
        *name = im->proxy;
        *disp = once ? MSG_TYPE_MAKE_SEND_ONCE : MSG_TYPE_MAKE_SEND;
        return true;
}

/* A right we received (of received kind @kind), as a reference for @p. */
NmRef ref_for(Peer *p, port_t name, uint16_t kind) {
        if (name == PORT_NULL)
                return (NmRef){ NM_REF_NULL, 0, 0 };
        if (name == PORT_DEAD)
                return (NmRef){ NM_REF_DEAD, 0, 0 };
        if (kind == MSG_TYPE_PORT_RECEIVE)
                return migrate_out(p, name);
        bool once = kind == MSG_TYPE_PORT_SEND_ONCE;
        Import *im = once ? NULL : import_by_proxy(name);
        if (im && im->peer == p && !im->once) {
                /* A send right to one of p's own ports: name it by p's id, give ours back. */
                port_mod_refs(task_self(), name, PORT_RIGHT_SEND, -1);
                return (NmRef){ NM_REF_SEND, NM_SIDE_RECEIVER, im->id };
        }
        uint64_t id = export_right(p, name, once);
        if (!id) {
                port_deallocate(task_self(), name);
                return (NmRef){ NM_REF_DEAD, 0, 0 };
        }
        return (NmRef){ (uint8_t)(once ? NM_REF_SEND_ONCE : NM_REF_SEND), NM_SIDE_SENDER, id };
}


/* How each right of a port item came here (import_ref()'s disposition), one per 4 bytes of a message. */
static uint16_t came_as[MSG_SIZE_MAX / 4];

static bool is_name(port_t name) {
        return name != PORT_NULL && name != PORT_DEAD;
}

/**
 * import_item() - the @number rights of a port item of @type read from @r,
 * as names of ours in @names
 *
 * Each comes as import_ref() gives it: a proxy to make a right of
 * (MAKE_SEND, MAKE_SEND_ONCE), one of our exports coming home (COPY_SEND,
 * MOVE_SEND_ONCE), a port moving here (MOVE_RECEIVE) or a dead name.  An
 * item has one disposition: when theirs differ (rights to ports of two
 * hosts, a dead name beside proxies), each is first made a right of ours
 * and all are moved.
 * Return: the item's disposition.
 */
uint16_t import_item(Peer *p, NmReader *r, uint16_t type, uint32_t number, uint8_t *names) {
        uint16_t first = 0;
        bool mixed = false, dead = false;
        for (uint32_t i = 0; i < number; i++) {
                port_t name;
                import_ref(p, nm_ref(r), &name, &came_as[i]);
                if (type == MSG_TYPE_MOVE_RECEIVE && name == PORT_DEAD)
                        name = PORT_NULL;       /* a port lost on the way: nothing to receive from */
                memcpy(names + 4 * i, &name, 4);
                if (!is_name(name))
                        dead |= name == PORT_DEAD;
                else if (!first)
                        first = came_as[i];
                else
                        mixed |= came_as[i] != first;
        }
        if (type == MSG_TYPE_MOVE_RECEIVE)
                return MSG_TYPE_MOVE_RECEIVE;
        bool once = nm_port_class(type) == NM_REF_SEND_ONCE;
        if (!first)
                return once ? MSG_TYPE_MOVE_SEND_ONCE : MSG_TYPE_COPY_SEND;
        if (!mixed && !(dead && (first == MSG_TYPE_MAKE_SEND || first == MSG_TYPE_MAKE_SEND_ONCE)))
                return first;
        for (uint32_t i = 0; i < number; i++) {
                port_t name;
                memcpy(&name, names + 4 * i, 4);
                if (!is_name(name) || came_as[i] == MSG_TYPE_MOVE_SEND_ONCE)
                        continue;
                bool ok = came_as[i] == MSG_TYPE_COPY_SEND
                                  ? port_mod_refs(task_self(), name, PORT_RIGHT_SEND, 1) == KERN_SUCCESS
                                  : make_right(name, came_as[i], &name);
                if (!ok)
                        name = PORT_DEAD;
                memcpy(names + 4 * i, &name, 4);
        }
        return once ? MSG_TYPE_MOVE_SEND_ONCE : MSG_TYPE_MOVE_SEND;
}

/* right_unsent() - undo what sending @name as @disp would have given away, for a message not sent. */
void right_unsent(port_t name, uint32_t disp) {
        port_t made;
        if (!is_name(name))
                return;
        if (disp == MSG_TYPE_MOVE_SEND || disp == MSG_TYPE_MOVE_SEND_ONCE)
                port_deallocate(task_self(), name);
        else if (disp == MSG_TYPE_MOVE_RECEIVE)
                port_mod_refs(task_self(), name, PORT_RIGHT_RECEIVE, -1);
        else if ((disp == MSG_TYPE_MAKE_SEND || disp == MSG_TYPE_MAKE_SEND_ONCE) && make_right(name, (uint16_t)disp, &made))
                port_deallocate(task_self(), made);     /* a proxy: told nobody holds it, as if dropped */
}

/**
 * rights_unsent() - the rights of a message built for delivery here that
 * will not be delivered: ours it would have moved go, and proxies made for
 * it hear that nobody holds them (their peer is told).  Regions are the
 * caller's.
 */
void rights_unsent(msg_header_t *h) {
        right_unsent(h->msg_remote_port, MSG_BITS_REMOTE(h->msg_bits));
        right_unsent(h->msg_local_port, MSG_BITS_LOCAL(h->msg_bits));
        WireItemIter it;
        WireItem item;
        wire_item_iter_init(&it, (const uint8_t *)h, h->msg_size);
        while (wire_item_next(&it, &item)) {
                if (!nm_is_port_type(item.name))
                        continue;
                for (uint32_t i = 0; i < item.number; i++) {
                        port_t name;
                        memcpy(&name, (const uint8_t *)h + item.offset + 4 * i, 4);
                        right_unsent(name, item.name);
                }
        }
}
