/* SPDX-License-Identifier: MIT */
/*
 * proxy.c - ports across hosts: what netmsgd exports to a peer (rights of
 * ours it may name by id) and imports from it (proxy ports here, whose
 * receive right we hold, standing for the peer's exports), and messages
 * translated between the two forms (doc/netmsg.md)
 *
 * A message a local task sends to a proxy arrives in our port set; its
 * rights are exported (or, when they are proxies of that same peer, named
 * by the peer's own ids), its regions copied into the frame, and it goes to
 * the peer as NM_MSG.  A message a peer sends is rebuilt here and sent to the
 * exported right.  Proxies die when their peer says the port died (NM_DEAD)
 * or the peer is gone; an export is released when the peer's proxy has no
 * senders left (NM_RELEASE), or a send-once proxy went unused (NM_ONCE_GONE).
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <machipc/mig.h>
#include "netmsgd.h"

/* ---- exports: rights of ours a peer names by id ---- */

static Export *export_find(Peer *p, uint64_t id) {
        for (uint32_t i = 0; i < p->n_exports; i++)
                if (p->exports[i].id == id)
                        return &p->exports[i];
        return NULL;
}

static void export_drop(Peer *p, Export *e, bool release) {
        if (release && e->name != PORT_NULL && e->name != PORT_DEAD)
                port_deallocate(task_self(), e->name);
        *e = p->exports[--p->n_exports];
}

static Export *export_slot(Peer *p) {
        if (p->n_exports == p->cap_exports) {
                uint32_t cap = p->cap_exports ? 2 * p->cap_exports : 16;
                Export *v = realloc(p->exports, cap * sizeof(*v));
                if (!v)
                        return NULL;
                p->exports = v;
                p->cap_exports = cap;
        }
        return &p->exports[p->n_exports++];
}

/*
 * Export @name (a right we were just given, of @once kind) to @p: its id.
 * A send right already exported keeps its id, and the reference just given
 * goes back; the port's death is asked to be told (dead-name).
 */
static uint64_t export_right(Peer *p, port_t name, bool once) {
        if (!once)
                for (uint32_t i = 0; i < p->n_exports; i++)
                        if (!p->exports[i].once && p->exports[i].name == name) {
                                port_deallocate(task_self(), name);
                                return p->exports[i].id;
                        }
        Export *e = export_slot(p);
        if (!e)
                return 0;
        e->id = p->next_export++;
        e->name = name;
        e->once = once;
        e->owed = 0;
        /* A send right's port may die while the peer holds its proxy: it is told (NM_DEAD).  A
         * send-once right is used at most once; if its port died, the delivery fails and the
         * right goes then. */
        if (!once)
                port_request_notification(task_self(), name, NOTIFY_DEAD_NAME, 0, nm.notify);
        return e->id;
}

/* ---- imports: proxies here for a peer's exports ---- */

static Import *import_by_proxy(port_t proxy) {
        for (uint32_t i = 0; i < nm.n_imports; i++)
                if (nm.imports[i].proxy == proxy)
                        return &nm.imports[i];
        return NULL;
}

static Import *import_find(Peer *p, uint64_t id) {
        for (uint32_t i = 0; i < nm.n_imports; i++)
                if (nm.imports[i].peer == p && nm.imports[i].id == id)
                        return &nm.imports[i];
        return NULL;
}

/*
 * Destroy a proxy: its receive right goes, so its senders hold dead names (and are told).
 * A send-once proxy that carried its message (or whose right came back unused) has no right
 * left anywhere: it is kept for the next one, which saves four broker calls per RPC.
 */
static void import_drop(Import *im) {
        if (im->once && nm.n_once_pool < NM_ONCE_POOL)
                nm.once_pool[nm.n_once_pool++] = im->proxy;
        else
                port_deallocate(task_self(), im->proxy);
        *im = nm.imports[--nm.n_imports];
}

/* import_drop_dead() - the same for a proxy whose port is gone: its holders must see a dead name. */
static void import_drop_dead(Import *im) {
        port_deallocate(task_self(), im->proxy);
        *im = nm.imports[--nm.n_imports];
}

static Import *import_new(Peer *p, uint64_t id, bool once) {
        if (nm.n_imports == nm.cap_imports) {
                uint32_t cap = nm.cap_imports ? 2 * nm.cap_imports : 16;
                Import *v = realloc(nm.imports, cap * sizeof(*v));
                if (!v)
                        return NULL;
                nm.imports = v;
                nm.cap_imports = cap;
        }
        port_t proxy;
        if (once && nm.n_once_pool) {
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
        /* A send proxy with no senders left releases the export; a send-once proxy's unused
         * right comes back to it by itself (NOTIFY_SEND_ONCE). */
        if (!once)
                port_request_notification(task_self(), proxy, NOTIFY_NO_SENDERS, 1, proxy);
        Import *im = &nm.imports[nm.n_imports++];
        *im = (Import){ p, id, proxy, once, NM_CREDIT_INIT, false };
        return im;
}

/* A send right of our own to the port whose receive right @name we hold (the same name). */
static bool make_send(port_t name) {
        struct {
                msg_header_t h;
                msg_type_t t;
                port_t right;
                uint32_t pad;
        } m = { .h = { .msg_size = sizeof(m), .msg_remote_port = nm.loop },
                .t = { MSG_TYPE_MAKE_SEND, 0, 1 }, .right = name };
        if (msg_send(&m.h, SEND_TIMEOUT, 0) != 0)
                return false;
        m.h.msg_size = sizeof(m);
        m.h.msg_local_port = nm.loop;
        return msg_receive(&m.h, RCV_TIMEOUT, 0) == 0 && m.right == name;
}

/*
 * A receive right that came here for a task of @p's host: the port moves
 * there.  A new port there takes its place (id chosen here, NM_MIGRATED);
 * ours stays, as a proxy for it: what is queued in it now and what its
 * senders here send later is forwarded there, in order, behind this message.
 */
static NmRef migrate_out(Peer *p, port_t port) {
        if (nm.n_imports == nm.cap_imports) {
                uint32_t cap = nm.cap_imports ? 2 * nm.cap_imports : 16;
                Import *v = realloc(nm.imports, cap * sizeof(*v));
                if (!v) {
                        port_deallocate(task_self(), port);
                        return (NmRef){ NM_REF_DEAD, 0, 0 };
                }
                nm.imports = v;
                nm.cap_imports = cap;
        }
        uint64_t id = NM_MIGRATED | ++nm.next_migration;
        port_set_backlog(task_self(), port, NM_PROXY_BACKLOG);
        if (port_set_add(task_self(), nm.set, port) != KERN_SUCCESS) {
                port_deallocate(task_self(), port);
                return (NmRef){ NM_REF_DEAD, 0, 0 };
        }
        port_request_notification(task_self(), port, NOTIFY_NO_SENDERS, 1, port);
        nm.imports[nm.n_imports++] = (Import){ p, id, port, false, NM_CREDIT_INIT, false };
        return (NmRef){ NM_REF_RECEIVE, NM_SIDE_SENDER, id };
}

/* A port moving here: a new one, its receive right for the message, a send right kept as @p's export @id. */
static bool migrate_in(Peer *p, uint64_t id, port_t *name) {
        port_t port;
        Export *e;
        if (port_allocate(task_self(), &port) != KERN_SUCCESS)
                return false;
        if (!make_send(port) || !(e = export_slot(p))) {
                port_deallocate(task_self(), port);
                return false;
        }
        *e = (Export){ id, port, false, 0 };
        port_request_notification(task_self(), port, NOTIFY_DEAD_NAME, 0, nm.notify);
        *name = port;
        return true;
}

/*
 * The local name and disposition for a right a frame from @p names.
 * Return: false if it names nothing we can give (then *name is PORT_DEAD).
 */
static bool import_ref(Peer *p, NmRef ref, port_t *name, uint16_t *disp) {
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
        *name = im->proxy;
        *disp = once ? MSG_TYPE_MAKE_SEND_ONCE : MSG_TYPE_MAKE_SEND;
        return true;
}

/* A right we received (of received kind @kind), as a reference for @p. */
static NmRef ref_for(Peer *p, port_t name, uint16_t kind) {
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

/* ---- messages out: a local task sent to a proxy ---- */

/* Answer @reply (a send-once right) as a generated server answers a request @id it failed: the code alone. */
static void answer_code(port_t reply, msg_id_t id, kern_return_t code) {
        struct {
                msg_header_t h;
                msg_type_t t;
                int32_t code;
                int32_t pad;
        } m = { .h = { .msg_size = MIG_REPLY_BODY, .msg_remote_port = reply,
                       .msg_id = (msg_id_t)((uint32_t)id + 100u), .msg_bits = MSG_BITS(MSG_TYPE_MOVE_SEND_ONCE, 0) },
                .t = { MSG_TYPE_INTEGER_32, 0, 1 }, .code = code };
        if (msg_send(&m.h, SEND_TIMEOUT, 0) != 0)
                port_deallocate(task_self(), reply);
}

static uint32_t item_bytes(const msg_type_t *t) {
        if (t->msg_type_name == MSG_TYPE_MEMORY)
                return t->msg_type_number * (uint32_t)sizeof(msg_ool_t);
        if (t->msg_type_name == MSG_TYPE_FD || nm_is_port_type(t->msg_type_name))
                return t->msg_type_number * 4;
        return t->msg_type_number * nm_elem_size(t->msg_type_name);
}

/* Does the message carry something that cannot cross hosts (descriptors)? */
static bool cannot_travel(const msg_header_t *h) {
        const uint8_t *p = (const uint8_t *)h + sizeof(*h), *end = (const uint8_t *)h + h->msg_size;
        while (p + sizeof(msg_type_t) <= end) {
                msg_type_t t;
                memcpy(&t, p, sizeof(t));
                if (t.msg_type_name == MSG_TYPE_FD ||
                    (!nm_is_port_type(t.msg_type_name) && t.msg_type_name != MSG_TYPE_MEMORY &&
                     !nm_elem_size(t.msg_type_name)))
                        return true;
                p += MSG_ITEM_SIZE(item_bytes(&t));
        }
        return false;
}

static void forward(Import *im, msg_header_t *h) {
        Peer *p = im->peer;
        if (cannot_travel(h)) {
                /* Descriptors stay on their host: refused, the sender told. */
                nm.refused++;
                port_t reply = h->msg_remote_port;
                uint32_t kind = MSG_BITS_REMOTE(h->msg_bits);
                h->msg_remote_port = PORT_NULL;
                msg_destroy(h);
                if (reply != PORT_NULL && kind == MSG_TYPE_PORT_SEND_ONCE)
                        answer_code(reply, h->msg_id, KERN_NOT_SUPPORTED);
                else if (reply != PORT_NULL)
                        port_deallocate(task_self(), reply);
                return;
        }
        NmWriter w;
        msg_ool_t big[MSG_FDS_MAX];
        uint32_t n_big = 0;
        uint64_t streamed_total = 0;
        nm_writer_init(&w);
        size_t f = nm_begin(&w, NM_MSG);
        nm_put_u64(&w, im->id);
        nm_put_u32(&w, (uint32_t)h->msg_id);
        nm_put_ref(&w, ref_for(p, h->msg_remote_port, (uint16_t)MSG_BITS_REMOTE(h->msg_bits)));
        size_t len_at = w.len;
        nm_put_u32(&w, 0);
        size_t items_start = w.len;
        uint8_t *q = (uint8_t *)h + sizeof(*h), *end = (uint8_t *)h + h->msg_size;
        while (q + sizeof(msg_type_t) <= end) {
                msg_type_t t;
                memcpy(&t, q, sizeof(t));
                const uint8_t *data = q + sizeof(t);
                nm_put_u16(&w, t.msg_type_name);
                nm_put_u16(&w, 0);
                nm_put_u32(&w, t.msg_type_number);
                if (nm_is_port_type(t.msg_type_name)) {
                        for (uint32_t i = 0; i < t.msg_type_number; i++) {
                                port_t name;
                                memcpy(&name, data + 4 * i, 4);
                                nm_put_ref(&w, ref_for(p, name, t.msg_type_name));
                        }
                } else if (t.msg_type_name == MSG_TYPE_MEMORY) {
                        for (uint32_t i = 0; i < t.msg_type_number; i++) {
                                msg_ool_t o;
                                memcpy(&o, data + sizeof(o) * i, sizeof(o));
                                nm_put_u64(&w, o.size);
                                if (o.size <= NM_INLINE_REGION_MAX) {
                                        nm_put_bytes(&w, (const void *)(uintptr_t)o.address, (size_t)o.size);
                                        if (o.size)
                                                vm_deallocate(task_self(), o.address, o.size);
                                } else if (n_big < MSG_FDS_MAX) {
                                        big[n_big++] = o;       /* streamed after the frame */
                                }
                                streamed_total += o.size > NM_INLINE_REGION_MAX ? o.size : 0;
                        }
                } else {
                        nm_put_bytes(&w, data, item_bytes(&t));
                }
                q += MSG_ITEM_SIZE(item_bytes(&t));
        }
        uint32_t items_len = (uint32_t)(w.len - items_start);
        if (!w.oom) {
                uint8_t b[4] = { (uint8_t)items_len, (uint8_t)(items_len >> 8), (uint8_t)(items_len >> 16),
                                 (uint8_t)(items_len >> 24) };
                memcpy(w.buf + len_at, b, 4);
        }
        nm_end(&w, f);
        if (w.len - f - NM_HDR_SIZE > NM_FRAME_MAX || streamed_total > NM_MSG_OOL_MAX) {
                nm.refused++;   /* too much for one message across hosts (doc/netmsg.md) */
        } else {
                peer_send(p, &w);
                /* Large regions follow, in frames of NM_CHUNK bytes, right behind it. */
                for (uint32_t i = 0; i < n_big; i++)
                        for (uint64_t off = 0; off < big[i].size; off += NM_CHUNK) {
                                uint32_t n = big[i].size - off < NM_CHUNK ? (uint32_t)(big[i].size - off) : NM_CHUNK;
                                NmWriter d;
                                nm_writer_init(&d);
                                size_t df = nm_begin(&d, NM_DATA);
                                nm_put_bytes(&d, (const uint8_t *)(uintptr_t)big[i].address + off, n);
                                nm_end(&d, df);
                                peer_send(p, &d);
                                nm_writer_free(&d);
                        }
                nm.forwarded++;
        }
        for (uint32_t i = 0; i < n_big; i++)
                vm_deallocate(task_self(), big[i].address, big[i].size);
        nm_writer_free(&w);
        if (im->once) {
                import_drop(im);        /* a send-once proxy carries one message */
        } else if (--im->credit <= 0 && !im->paused) {
                /* The peer has not delivered what we sent: stop taking from this proxy, so that its
                 * own queue fills and its senders wait, as for a full local port. */
                kern_return_t kr = port_set_remove(task_self(), im->proxy);
                if (nm.verbose)
                        nm_log("peer %s: proxy %#x for export %llu out of credit, paused (%s)", p->host, im->proxy,
                               (unsigned long long)im->id, machipc_strerror(kr));
                im->paused = true;
        }
}

/* proxy_on_message() - something arrived in our set on a proxy (a message, or a notification about it). */
void proxy_on_message(msg_header_t *h) {
        Import *im = import_by_proxy(h->msg_local_port);
        if (!im) {
                msg_destroy(h);
                return;
        }
        msg_sender_t who = { 0 };
        msg_last_sender(&who);
        if (who.flags & MSG_SENDER_KERNEL) {
                NmWriter w;
                nm_writer_init(&w);
                if (h->msg_id == NOTIFY_NO_SENDERS && !im->once) {
                        size_t f = nm_begin(&w, NM_RELEASE);
                        nm_put_u64(&w, im->id);
                        nm_end(&w, f);
                        peer_send(im->peer, &w);
                        import_drop(im);
                } else if (h->msg_id == NOTIFY_SEND_ONCE && im->once) {
                        size_t f = nm_begin(&w, NM_ONCE_GONE);
                        nm_put_u64(&w, im->id);
                        nm_end(&w, f);
                        peer_send(im->peer, &w);
                        import_drop(im);
                }
                nm_writer_free(&w);
                msg_destroy(h);
                return;
        }
        forward(im, h);
}

/* proxy_on_notification() - our notify port: an export's port died. */
void proxy_on_notification(msg_header_t *h) {
        if (h->msg_id != NOTIFY_DEAD_NAME || h->msg_size < sizeof(*h) + MSG_ITEM_SIZE(4)) {
                msg_destroy(h);
                return;
        }
        port_t name;
        memcpy(&name, (uint8_t *)h + sizeof(*h) + sizeof(msg_type_t), 4);
        for (uint32_t k = 0; k < nm.n_peers; k++) {
                Peer *p = nm.peers[k];
                for (uint32_t i = 0; i < p->n_exports;) {
                        Export *e = &p->exports[i];
                        if (e->name != name) {
                                i++;
                                continue;
                        }
                        NmWriter w;
                        nm_writer_init(&w);
                        size_t f = nm_begin(&w, NM_DEAD);
                        nm_put_u64(&w, e->id);
                        nm_end(&w, f);
                        peer_send(p, &w);
                        nm_writer_free(&w);
                        export_drop(p, e, false);
                }
        }
        /* The dead name: its references and the one the notification added. */
        uint32_t refs = 0;
        if (port_get_refs(task_self(), name, PORT_RIGHT_DEAD_NAME, &refs) == KERN_SUCCESS && refs)
                port_mod_refs(task_self(), name, PORT_RIGHT_DEAD_NAME, -(int32_t)refs);
}

/* ---- messages in: a peer sends to one of our exports ---- */

static void deliver(Peer *p, const uint8_t *body, uint32_t len) {
        NmReader r;
        nm_reader_init(&r, body, len);
        uint64_t dest = nm_u64(&r);
        int32_t id = (int32_t)nm_u32(&r);
        NmRef reply = nm_ref(&r);
        uint32_t items_len = nm_u32(&r);
        const uint8_t *items = nm_bytes(&r, items_len);
        uint32_t n_refs;
        uint64_t ool, streamed;
        if (r.bad || r.p != r.end || nm_items_check(items, items_len, &n_refs, &ool, &streamed) < 0) {
                peer_gone(p, "malformed NM_MSG");
                return;
        }
        static union {
                msg_header_t h;
                uint8_t b[MSG_SIZE_MAX];
        } m;
        memset(&m.h, 0, sizeof(m.h));
        Export *e = export_find(p, dest);
        port_t reply_name;
        uint16_t reply_disp;
        import_ref(p, reply, &reply_name, &reply_disp);
        if (!e) {
                /* Its port died meanwhile: the message is lost, as a local one would be; a reply
                 * right it carried goes unused, and its sender is told so by the broker. */
                if (reply_disp == MSG_TYPE_MAKE_SEND_ONCE) {
                        Import *im = import_by_proxy(reply_name);
                        if (im)
                                import_drop(im);
                        NmWriter w;
                        nm_writer_init(&w);
                        size_t f = nm_begin(&w, NM_ONCE_GONE);
                        nm_put_u64(&w, reply.id);
                        nm_end(&w, f);
                        peer_send(p, &w);
                        nm_writer_free(&w);
                }
                return;
        }
        port_t dest_name = e->name;
        uint16_t dest_disp = e->once ? MSG_TYPE_MOVE_SEND_ONCE : MSG_TYPE_COPY_SEND;
        if (e->once)
                export_drop(p, e, false);
        /* The body, item by item. */
        uint8_t *q = m.b + sizeof(msg_header_t), *qend = m.b + sizeof(m.b);
        vm_address_t regions[MSG_FDS_MAX];
        vm_size_t region_sizes[MSG_FDS_MAX];
        uint32_t n_regions = 0;
        bool ok = true;
        nm_reader_init(&r, items, items_len);
        while (ok && r.p < r.end) {
                uint16_t type = nm_u16(&r);
                nm_u16(&r);
                uint32_t number = nm_u32(&r);
                msg_type_t t = { type, 0, number };
                uint32_t bytes = nm_is_port_type(type) ? 4 * number
                               : type == MSG_TYPE_MEMORY ? (uint32_t)sizeof(msg_ool_t) * number
                                                         : nm_elem_size(type) * number;
                if (q + MSG_ITEM_SIZE(bytes) > qend) {
                        ok = false;
                        break;
                }
                uint8_t *data = q + sizeof(t);
                memset(data, 0, MSG_ITEM_SIZE(bytes) - sizeof(t));
                if (nm_is_port_type(type)) {
                        uint16_t disp = MSG_TYPE_COPY_SEND;
                        for (uint32_t i = 0; i < number; i++) {
                                port_t name;
                                import_ref(p, nm_ref(&r), &name, &disp);
                                memcpy(data + 4 * i, &name, 4);
                        }
                        t.msg_type_name = disp; /* one disposition per item: all its rights alike */
                } else if (type == MSG_TYPE_MEMORY) {
                        t.msg_type_flags = MSG_TYPE_FLAG_DEALLOCATE;
                        for (uint32_t i = 0; i < number; i++) {
                                uint64_t size = nm_u64(&r);
                                const uint8_t *src = size <= NM_INLINE_REGION_MAX ? nm_bytes(&r, (size_t)size) : NULL;
                                vm_address_t a = 0;
                                if (size && vm_allocate(task_self(), &a, size, 1) != KERN_SUCCESS) {
                                        ok = false;
                                        break;
                                }
                                if (size && src)
                                        memcpy((void *)(uintptr_t)a, src, (size_t)size);
                                regions[n_regions] = a;
                                region_sizes[n_regions++] = size;
                                msg_ool_t o = { a, size };
                                memcpy(data + sizeof(o) * i, &o, sizeof(o));
                        }
                } else {
                        memcpy(data, nm_bytes(&r, bytes), bytes);
                }
                memcpy(q, &t, sizeof(t));
                q += MSG_ITEM_SIZE(bytes);
        }
        m.h.msg_size = (msg_size_t)(q - m.b);
        m.h.msg_remote_port = dest_name;
        m.h.msg_local_port = reply_name;
        m.h.msg_id = id;
        m.h.msg_bits = MSG_BITS(dest_disp, reply_name == PORT_NULL ? 0 : reply_disp);
        if (!ok) {
                nm_log("peer %s: a message for export %llu does not fit in a message here", p->host,
                       (unsigned long long)dest);
        } else {
                Pending *pd = malloc(sizeof(*pd) + m.h.msg_size);
                if (pd && streamed) {
                        /* Its large regions follow in NM_DATA frames: filled in order, then sent. */
                        pd->next = NULL;
                        pd->peer = p;
                        pd->export_id = dest;
                        pd->n_regions = n_regions;
                        memcpy(pd->regions, regions, sizeof(regions[0]) * n_regions);
                        memcpy(pd->sizes, region_sizes, sizeof(region_sizes[0]) * n_regions);
                        pd->size = m.h.msg_size;
                        memcpy(pd->msg, m.b, m.h.msg_size);
                        p->assembly = pd;
                        p->assembly_left = streamed;
                        p->assembly_region = 0;
                        p->assembly_off = 0;
                        return;
                }
                if (pd) {
                        pd->next = NULL;
                        pd->peer = p;
                        pd->export_id = dest;
                        pd->n_regions = n_regions;
                        memcpy(pd->regions, regions, sizeof(regions[0]) * n_regions);
                        memcpy(pd->sizes, region_sizes, sizeof(region_sizes[0]) * n_regions);
                        pd->size = m.h.msg_size;
                        memcpy(pd->msg, m.b, m.h.msg_size);
                        *nm.pending_tail = pd;
                        nm.pending_tail = &pd->next;
                        nm.n_pending++;
                        proxy_retry_pending();
                        return;
                }
        }
        msg_return_t sr = SEND_TOO_LARGE;
        nm_log("peer %s: a message for export %llu could not be delivered: %s", p->host,
               (unsigned long long)dest, machipc_strerror(sr));
        for (uint32_t i = 0; i < n_regions; i++)
                if (region_sizes[i])
                        vm_deallocate(task_self(), regions[i], region_sizes[i]);
        if (dest_disp == MSG_TYPE_MOVE_SEND_ONCE)
                port_deallocate(task_self(), dest_name);        /* its sender hears it went unused */
}

/* Tell @p that @n messages for its proxy of our export @id have been delivered: it may send as many more. */
static void give_credit(Peer *p, uint64_t id, uint32_t n) {
        NmWriter w;
        nm_writer_init(&w);
        size_t f = nm_begin(&w, NM_CREDIT);
        nm_put_u64(&w, id);
        nm_put_u32(&w, n);
        nm_end(&w, f);
        peer_send(p, &w);
        nm_writer_free(&w);
}

/* proxy_flush_credit() - once a second: deliveries not yet said, said. */
void proxy_flush_credit(void) {
        for (uint32_t k = 0; k < nm.n_peers; k++) {
                Peer *p = nm.peers[k];
                for (uint32_t i = 0; i < p->n_exports && !p->dead; i++)
                        if (p->exports[i].owed) {
                                give_credit(p, p->exports[i].id, p->exports[i].owed);
                                p->exports[i].owed = 0;
                        }
        }
}

static void pending_free(Pending *pd, bool give_back) {
        if (give_back) {
                for (uint32_t i = 0; i < pd->n_regions; i++)
                        if (pd->sizes[i])
                                vm_deallocate(task_self(), pd->regions[i], pd->sizes[i]);
                msg_header_t *h = (msg_header_t *)pd->msg;
                if (MSG_BITS_REMOTE(h->msg_bits) == MSG_TYPE_MOVE_SEND_ONCE)
                        port_deallocate(task_self(), h->msg_remote_port);
        }
        free(pd);
}

/*
 * proxy_retry_pending() - send what waits for room, oldest first; a message
 * waits while an older one for the same destination does.  Sends never
 * wait (SEND_TIMEOUT 0): the loop keeps serving every other port; a full
 * destination is tried again every 10 ms, and meanwhile its peer runs out of
 * credit, so its senders there wait as for a full local port.
 */
void proxy_retry_pending(void) {
        uint64_t blocked[64];
        Peer *blocked_peer[64];
        uint32_t n_blocked = 0;
        for (Pending **pp = &nm.pending; *pp;) {
                Pending *pd = *pp;
                bool behind = false;
                for (uint32_t i = 0; i < n_blocked; i++)
                        behind |= blocked[i] == pd->export_id && blocked_peer[i] == pd->peer;
                msg_return_t r = behind ? SEND_TIMED_OUT : msg_send((msg_header_t *)pd->msg, SEND_TIMEOUT, 0);
                if (r == SEND_TIMED_OUT) {
                        if (!behind && n_blocked < 64) {
                                blocked[n_blocked] = pd->export_id;
                                blocked_peer[n_blocked++] = pd->peer;
                        }
                        pp = &pd->next;
                        continue;
                }
                *pp = pd->next;
                if (!*pp)
                        nm.pending_tail = pp;
                nm.n_pending--;
                if (r == 0) {
                        nm.delivered++;
                        Export *e = pd->peer->dead ? NULL : export_find(pd->peer, pd->export_id);
                        if (e && ++e->owed >= NM_CREDIT_BATCH) {
                                give_credit(pd->peer, pd->export_id, e->owed);
                                e->owed = 0;
                        }
                        pending_free(pd, false);
                } else {
                        nm_log("peer %s: a message for export %llu could not be delivered: %s", pd->peer->host,
                               (unsigned long long)pd->export_id, machipc_strerror(r));
                        pending_free(pd, true);
                }
        }
        if (nm.pending && nm.retry) {
                struct timeval tv = { 0, 10000 };
                event_add(nm.retry, &tv);
        }
}

/* ---- look-ups ---- */

static void answer_lookup(port_t reply, kern_return_t code, port_t right, uint16_t disp);

kern_return_t do_netmsg_look_up(mach_port_t server, mach_port_t reply, char *host, char *name, mach_port_t *port) {
        (void)server;
        (void)port;
        if (strcmp(host, nm.host) == 0) {
                /* This host, by the name the others know it by. */
                port_t found = PORT_NULL;
                kern_return_t kr = netname_look_up(PORT_NULL, NULL, name, &found);
                answer_lookup(reply, kr, found, MSG_TYPE_MOVE_SEND);
                return MIG_NO_REPLY;
        }
        Peer *p = peer_find(host);
        if (!p)
                return NETNAME_HOST_NOT_FOUND;
        if (p->n_lookups == p->cap_lookups) {
                uint32_t cap = p->cap_lookups ? 2 * p->cap_lookups : 8;
                Lookup *v = realloc(p->lookups, cap * sizeof(*v));
                if (!v)
                        return KERN_RESOURCE_SHORTAGE;
                p->lookups = v;
                p->cap_lookups = cap;
        }
        Lookup *l = &p->lookups[p->n_lookups++];
        *l = (Lookup){ p->next_request++, reply, time(NULL) + NETMSG_LOOKUP_TIMEOUT_S };
        NmWriter w;
        nm_writer_init(&w);
        size_t f = nm_begin(&w, NM_LOOKUP);
        nm_put_u32(&w, l->request);
        nm_put_u16(&w, (uint16_t)strlen(name));
        nm_put_bytes(&w, name, strlen(name));
        nm_end(&w, f);
        peer_send(p, &w);
        nm_writer_free(&w);
        return MIG_NO_REPLY;    /* answered when the peer answers */
}

/* The answer a generated server would have sent for look_up (1060): the code, and on success the right. */
static void answer_lookup(port_t reply, kern_return_t code, port_t right, uint16_t disp) {
        if (code != KERN_SUCCESS || right == PORT_NULL) {
                answer_code(reply, 1060, code == KERN_SUCCESS ? NETNAME_NOT_CHECKED_IN : code);
                return;
        }
        struct {
                msg_header_t h;
                msg_type_t t;
                int32_t code;
                int32_t pad;
                msg_type_t pt;
                port_t port;
                uint32_t pad2;
        } m = { .h = { .msg_size = sizeof(msg_header_t) + MSG_ITEM_SIZE(4) + MSG_ITEM_SIZE(4),
                       .msg_remote_port = reply, .msg_id = 1160,
                       .msg_bits = MSG_BITS(MSG_TYPE_MOVE_SEND_ONCE, 0) },
                .t = { MSG_TYPE_INTEGER_32, 0, 1 }, .code = KERN_SUCCESS, .pt = { disp, 0, 1 }, .port = right };
        if (msg_send(&m.h, SEND_TIMEOUT, 0) != 0)
                port_deallocate(task_self(), reply);
}

static void on_lookup(Peer *p, const uint8_t *body, uint32_t len) {
        NmReader r;
        nm_reader_init(&r, body, len);
        uint32_t req = nm_u32(&r);
        uint16_t n = nm_u16(&r);
        const uint8_t *name = n >= 1 && n <= NM_NAME_MAX ? nm_bytes(&r, n) : NULL;
        if (r.bad || !name || r.p != r.end) {
                peer_gone(p, "malformed NM_LOOKUP");
                return;
        }
        char text[NM_NAME_MAX + 1];
        snprintf(text, sizeof(text), "%.*s", (int)n, (const char *)name);
        port_t found = PORT_NULL;
        kern_return_t kr = memchr(text, '\0', n) ? KERN_INVALID_ARGUMENT
                                                 : netname_look_up(PORT_NULL, NULL, text, &found);
        NmWriter w;
        nm_writer_init(&w);
        size_t f = nm_begin(&w, NM_LOOKUP_REPLY);
        nm_put_u32(&w, req);
        nm_put_u32(&w, (uint32_t)kr);
        nm_put_ref(&w, kr == NETNAME_SUCCESS ? ref_for(p, found, MSG_TYPE_PORT_SEND) : (NmRef){ 0, 0, 0 });
        nm_end(&w, f);
        peer_send(p, &w);
        nm_writer_free(&w);
}

static void on_lookup_reply(Peer *p, const uint8_t *body, uint32_t len) {
        NmReader r;
        nm_reader_init(&r, body, len);
        uint32_t req = nm_u32(&r);
        int32_t code = (int32_t)nm_u32(&r);
        NmRef ref = nm_ref(&r);
        if (r.bad || r.p != r.end) {
                peer_gone(p, "malformed NM_LOOKUP_REPLY");
                return;
        }
        for (uint32_t i = 0; i < p->n_lookups; i++) {
                if (p->lookups[i].request != req)
                        continue;
                port_t reply = p->lookups[i].reply;
                p->lookups[i] = p->lookups[--p->n_lookups];
                port_t name;
                uint16_t disp;
                if (code == KERN_SUCCESS && ref.kind == NM_REF_SEND && import_ref(p, ref, &name, &disp))
                        answer_lookup(reply, KERN_SUCCESS, name, disp);
                else
                        answer_lookup(reply, code ? code : NETNAME_NOT_CHECKED_IN, PORT_NULL, 0);
                return;
        }
}

/* proxy_expire_lookups() - once a second: look-ups a peer never answered fail. */
void proxy_expire_lookups(void) {
        time_t now = time(NULL);
        for (uint32_t k = 0; k < nm.n_peers; k++) {
                Peer *p = nm.peers[k];
                for (uint32_t i = 0; i < p->n_lookups;) {
                        if (p->lookups[i].deadline > now) {
                                i++;
                                continue;
                        }
                        answer_lookup(p->lookups[i].reply, NETNAME_HOST_NOT_FOUND, PORT_NULL, 0);
                        p->lookups[i] = p->lookups[--p->n_lookups];
                }
        }
}

/* ---- frames ---- */

/* Where NM_DATA's bytes go: the large regions of the message being assembled, in order. */
static void on_data(Peer *p, const uint8_t *body, uint32_t len) {
        Pending *pd = p->assembly;
        while (len && pd) {
                uint32_t i = p->assembly_region;
                while (i < pd->n_regions && pd->sizes[i] <= NM_INLINE_REGION_MAX)
                        i++;
                if (i >= pd->n_regions)
                        break;
                uint64_t room = pd->sizes[i] - p->assembly_off;
                uint32_t n = len < room ? len : (uint32_t)room;
                memcpy((uint8_t *)(uintptr_t)pd->regions[i] + p->assembly_off, body, n);
                body += n;
                len -= n;
                p->assembly_left -= n;
                p->assembly_off += n;
                if (p->assembly_off == pd->sizes[i]) {
                        p->assembly_region = i + 1;
                        p->assembly_off = 0;
                } else {
                        p->assembly_region = i;
                }
        }
        if (!pd || len) {
                peer_gone(p, "NM_DATA that no message announced");
                return;
        }
        if (p->assembly_left)
                return;
        p->assembly = NULL;
        *nm.pending_tail = pd;
        nm.pending_tail = &pd->next;
        nm.n_pending++;
        proxy_retry_pending();
}

void proxy_on_frame(Peer *p, uint16_t type, const uint8_t *body, uint32_t len) {
        NmReader r;
        nm_reader_init(&r, body, len);
        if (p->assembly && type != NM_DATA) {
                peer_gone(p, "a frame in the middle of a message's regions");
                return;
        }
        switch (type) {
        case NM_DATA:
                on_data(p, body, len);
                return;
        case NM_MSG:
                deliver(p, body, len);
                return;
        case NM_LOOKUP:
                on_lookup(p, body, len);
                return;
        case NM_LOOKUP_REPLY:
                on_lookup_reply(p, body, len);
                return;
        case NM_RELEASE:
        case NM_ONCE_GONE: {
                uint64_t id = nm_u64(&r);
                if (r.bad || r.p != r.end) {
                        peer_gone(p, "malformed frame");
                        return;
                }
                Export *e = export_find(p, id);
                if (e && e->once == (type == NM_ONCE_GONE))
                        export_drop(p, e, true);
                return;
        }
        case NM_CREDIT: {
                uint64_t id = nm_u64(&r);
                uint32_t n = nm_u32(&r);
                if (r.bad || r.p != r.end || n > NM_CREDIT_INIT) {
                        peer_gone(p, "malformed NM_CREDIT");
                        return;
                }
                Import *im = import_find(p, id);
                if (!im || im->once)
                        return;
                im->credit += (int32_t)n;
                if (nm.verbose)
                        nm_log("peer %s: credit %u for export %llu: %d", p->host, n, (unsigned long long)id,
                               im->credit);
                if (im->credit > NM_CREDIT_INIT)
                        im->credit = NM_CREDIT_INIT;
                if (im->paused && im->credit > 0 && port_set_add(task_self(), nm.set, im->proxy) == KERN_SUCCESS)
                        im->paused = false;
                return;
        }
        case NM_DEAD: {
                uint64_t id = nm_u64(&r);
                if (r.bad || r.p != r.end) {
                        peer_gone(p, "malformed frame");
                        return;
                }
                Import *im = import_find(p, id);
                if (im)
                        import_drop_dead(im);
                return;
        }
        default:
                peer_gone(p, "a frame of an unknown type");
                return;
        }
}

/* proxy_peer_gone() - the peer is gone: its proxies die, our exports to it are released. */
void proxy_peer_gone(Peer *p) {
        if (p->assembly) {
                pending_free(p->assembly, true);
                p->assembly = NULL;
        }
        for (Pending **pp = &nm.pending; *pp;) {
                Pending *pd = *pp;
                if (pd->peer != p) {
                        pp = &pd->next;
                        continue;
                }
                *pp = pd->next;
                if (!*pp)
                        nm.pending_tail = pp;
                nm.n_pending--;
                pending_free(pd, true);
        }
        for (uint32_t i = 0; i < nm.n_imports;)
                if (nm.imports[i].peer == p)
                        import_drop_dead(&nm.imports[i]);
                else
                        i++;
        while (p->n_exports)
                export_drop(p, &p->exports[p->n_exports - 1], true);
        while (p->n_lookups) {
                answer_lookup(p->lookups[p->n_lookups - 1].reply, NETNAME_HOST_NOT_FOUND, PORT_NULL, 0);
                p->n_lookups--;
        }
}

/* The listing machipcctl proxies shows: peers, then proxies, as many whole lines as fit. */
kern_return_t do_netmsg_list(mach_port_t server, int start, char *listing, mach_msg_type_number_t *count, int *next) {
        (void)server;
        size_t max = *count, len = 0;
        uint32_t total = nm.n_peers + nm.n_imports, i = start > 0 ? (uint32_t)start : 0;
        for (; i < total; i++) {
                char line[NM_HOST_MAX * 2 + 96];
                int n;
                if (i < nm.n_peers) {
                        Peer *p = nm.peers[i];
                        n = snprintf(line, sizeof(line), "peer %s %s %d %u\n", p->host[0] ? p->host : "-",
                                     p->identity[0] ? p->identity : "-", p->ready && !p->dead, p->n_exports);
                } else {
                        Import *im = &nm.imports[i - nm.n_peers];
                        n = snprintf(line, sizeof(line), "proxy %u %s %llu %s %d %d\n", (unsigned)im->proxy,
                                     im->peer->host, (unsigned long long)im->id, im->once ? "send-once" : "send",
                                     im->credit, im->paused);
                }
                if (n < 0 || len + (size_t)n > max)
                        break;
                memcpy(listing + len, line, (size_t)n);
                len += (size_t)n;
        }
        *count = (mach_msg_type_number_t)len;
        *next = i < total ? (int)i : 0;
        return KERN_SUCCESS;
}
