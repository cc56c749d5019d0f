/* SPDX-License-Identifier: MIT */
/*
 * proxy.c - ports across hosts: messages translated between machipc's form
 * and the frame's (doc/netmsg.md), credit, and what each frame means; the
 * rights they carry are rights.c's, look-ups lookup.c's
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
#include <sys/mman.h>
#include <machipc/mig.h>
#include "netmsgd.h"
#include "wire.h"
#include "prefault.h"
#include "rights.h"

/* ---- messages out: a local task sent to a proxy ---- */

/* Answer @reply (a send-once right) as a generated server answers a request @id it failed: the code alone. */
void answer_code(port_t reply, msg_id_t id, kern_return_t code) {
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
        return t->msg_type_number * wire_type_size(t->msg_type_name);
}

/* A frame that names one id (NM_RELEASE, NM_DEAD, NM_ONCE_GONE), and a count after it if @n (NM_CREDIT, NM_RELEASE 1.1). */
static void tell_n(Peer *p, uint16_t type, uint64_t id, const uint32_t *n) {
        NmWriter w;
        nm_writer_init(&w);
        size_t f = nm_begin(&w, type);
        nm_put_u64(&w, id);
        if (n)
                nm_put_u32(&w, *n);
        nm_end(&w, f);
        peer_send(p, &w);
        nm_writer_free(&w);
}

static void tell(Peer *p, uint16_t type, uint64_t id) {
        tell_n(p, type, id, NULL);
}

/*
 * NM_RELEASE: nobody here holds @im's proxy any more.  It says how many
 * references to the export it saw (1.1), so that the other side keeps the
 * export if it sent more meanwhile: they make a new proxy here.
 */
static void release(const Import *im) {
        tell_n(im->peer, NM_RELEASE, im->id, im->peer->minor >= 1 ? &im->seen : NULL);
}

/* Does the message carry something that cannot cross hosts (descriptors)? */
static bool cannot_travel(const msg_header_t *h) {
        const uint8_t *p = (const uint8_t *)h + sizeof(*h), *end = (const uint8_t *)h + h->msg_size;
        while (p + sizeof(msg_type_t) <= end) {
                msg_type_t t;
                memcpy(&t, p, sizeof(t));
                if (t.msg_type_name == MSG_TYPE_FD || !wire_type_size(t.msg_type_name))
                        return true;
                p += MSG_ITEM_SIZE(item_bytes(&t));
        }
        return false;
}

static void forward(Import *im, msg_header_t *h) {
        Peer *p = im->peer;
        port_t proxy = im->proxy;
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
                        peer_send_region(p, big[i].address, big[i].size);
                n_big = 0;
                nm.forwarded++;
        }
        for (uint32_t i = 0; i < n_big; i++)
                vm_deallocate(task_self(), big[i].address, big[i].size);
        nm_writer_free(&w);
        /* Found again: a receive right in the message (a port moving) added a proxy, which may
         * have moved the array. */
        im = import_by_proxy(proxy);
        if (!im)
                return;
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
                if (h->msg_id == NOTIFY_SEND_ONCE && im->once) {
                        tell(im->peer, NM_ONCE_GONE, im->id);
                        import_drop(im);
                } else if (h->msg_id == NOTIFY_NO_SENDERS && !im->once) {
                        release(im);
                        import_drop(im);
                }
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
                Export *e = export_by_name(p, name);
                if (e) {
                        tell(p, NM_DEAD, e->id);
                        export_drop(p, e, false);
                }
        }
        /* The dead name: its references and the one the notification added. */
        uint32_t refs = 0;
        if (port_get_refs(task_self(), name, PORT_RIGHT_DEAD_NAME, &refs) == KERN_SUCCESS && refs)
                port_mod_refs(task_self(), name, PORT_RIGHT_DEAD_NAME, -(int32_t)refs);
}

/* ---- messages in: a peer sends to one of our exports ---- */

/* Tell @p that @n messages for its proxy of our export @id have been delivered: it may send as many more. */
static void give_credit(Peer *p, uint64_t id, uint32_t n) {
        tell_n(p, NM_CREDIT, id, &n);
}

/* Say what @e owes @p now (cleared first: a frame that cannot be made ends the peer). */
static void credit_back(Peer *p, Export *e) {
        uint32_t n = e->owed;
        e->owed = 0;
        e->held -= n;
        give_credit(p, e->id, n);
}


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
        port_t reply_name;
        uint16_t reply_disp;
        import_ref(p, reply, &reply_name, &reply_disp);
        /* After the reply's ref: a port moving here adds an export, which may move the array. */
        Export *e = export_find(p, dest);
        if (!e) {
                /* Its port died meanwhile: the message is lost, as a local one would be; a reply
                 * right it carried goes unused, and its sender is told so by the broker. */
                Import *im = reply_disp == MSG_TYPE_MAKE_SEND_ONCE ? import_by_proxy(reply_name) : NULL;
                if (im) {
                        import_drop(im);
                        tell(p, NM_ONCE_GONE, reply.id);
                } else {
                        right_unsent(reply_name, reply_disp);   /* one of ours coming home, a port moving */
                }
                p->discard_left = streamed;     /* its large regions still come: read, dropped */
                return;
        }
        /* Credit holds on this side too: a peer past it would have us queue without bound.  A
         * proxy out of credit may still send what the broker had handed its netmsgd ahead. */
        if (!e->once && e->held >= NM_CREDIT_INIT + NM_LENT_AHEAD) {
                peer_gone(p, "more messages for an export than its credit");
                return;
        }
        if (!e->once)
                e->held++;
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
                uint32_t bytes = wire_type_size(type) * number;
                if (q + MSG_ITEM_SIZE(bytes) > qend) {
                        ok = false;
                        break;
                }
                uint8_t *data = q + sizeof(t);
                memset(data, 0, MSG_ITEM_SIZE(bytes) - sizeof(t));
                if (nm_is_port_type(type)) {
                        t.msg_type_name = import_item(p, &r, type, number, data);
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
                if (pd) {
                        pd->next = NULL;
                        pd->peer = p;
                        pd->export_id = dest;
                        pd->n_regions = n_regions;
                        memcpy(pd->regions, regions, sizeof(regions[0]) * n_regions);
                        memcpy(pd->sizes, region_sizes, sizeof(region_sizes[0]) * n_regions);
                        pd->size = m.h.msg_size;
                        memcpy(pd->msg, m.b, m.h.msg_size);
                }
                if (pd && streamed) {
                        /* Its large regions follow in NM_DATA frames: filled in order, then sent. */
                        p->assembly = pd;
                        p->assembly_left = streamed;
                        p->assembly_region = 0;
                        p->assembly_off = 0;
                        p->assembly_started = false;
                        return;
                }
                if (pd) {
                        *nm.pending_tail = pd;
                        nm.pending_tail = &pd->next;
                        nm.n_pending++;
                        proxy_retry_pending();
                        return;
                }
        }
        p->discard_left = streamed;     /* its large regions still come: read, dropped */
        Export *back = export_find(p, dest);    /* found again: rights moving here may have moved it */
        if (back && !back->once && ++back->owed >= NM_CREDIT_BATCH)
                credit_back(p, back);           /* its place is free all the same */
        msg_return_t sr = SEND_TOO_LARGE;
        nm_log("peer %s: a message for export %llu could not be delivered: %s", p->host,
               (unsigned long long)dest, machipc_strerror(sr));
        for (uint32_t i = 0; i < n_regions; i++)
                if (region_sizes[i])
                        vm_deallocate(task_self(), regions[i], region_sizes[i]);
        rights_unsent(&m.h);    /* a send-once destination: its sender hears it went unused */
}

/* proxy_flush_credit() - once a second: deliveries not yet said, said. */
void proxy_flush_credit(void) {
        for (uint32_t k = 0; k < nm.n_peers; k++) {
                Peer *p = nm.peers[k];
                for (uint32_t i = 0; i < p->n_exports && !p->dead; i++)
                        if (p->exports[i].owed)
                                credit_back(p, &p->exports[i]);
        }
}

static void pending_free(Pending *pd, bool give_back) {
        if (give_back) {
                for (uint32_t i = 0; i < pd->n_regions; i++)
                        if (pd->sizes[i])
                                vm_deallocate(task_self(), pd->regions[i], pd->sizes[i]);
                rights_unsent((msg_header_t *)pd->msg);
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
                msg_return_t r = behind ? SEND_TIMED_OUT
                                        : msg_send_from((msg_header_t *)pd->msg, SEND_TIMEOUT, 0, pd->peer->origin);
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
                /* Delivered or not, its place is free: the peer's proxy may send one more. */
                Export *e = pd->peer->dead ? NULL : export_find(pd->peer, pd->export_id);
                if (e && !e->once && ++e->owed >= NM_CREDIT_BATCH)
                        credit_back(pd->peer, e);
                if (r == 0) {
                        nm.delivered++;
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

/* ---- frames ---- */

/*
 * proxy_data_room() - where NM_DATA's next bytes go: the large region of the
 * message being assembled that is not full yet (*@dst); returns the room
 * left in it, 0 if there is none (more data than the message announced).
 */
uint64_t proxy_data_room(Peer *p, uint8_t **dst) {
        Pending *pd = p->assembly;
        if (!pd)
                return 0;
        uint32_t i = p->assembly_region;
        while (i < pd->n_regions && pd->sizes[i] <= NM_INLINE_REGION_MAX)
                i++;
        if (i >= pd->n_regions)
                return 0;
        if (p->assembly_off == 0 && (p->assembly_region != i || !p->assembly_started)) {
                /* Its pages made ahead of the bytes, by prefault.c's thread. */
                prefault_start((void *)(uintptr_t)pd->regions[i], (size_t)pd->sizes[i]);
                p->assembly_started = true;
        }
        p->assembly_region = i;
        *dst = (uint8_t *)(uintptr_t)pd->regions[i] + p->assembly_off;
        return pd->sizes[i] - p->assembly_off;
}

/* proxy_data_took() - @n bytes were written where proxy_data_room() said; a message whose regions are all there goes. */
void proxy_data_took(Peer *p, uint32_t n) {
        Pending *pd = p->assembly;
        p->assembly_left -= n;
        p->assembly_off += n;
        if (p->assembly_off == pd->sizes[p->assembly_region]) {
                prefault_stop((void *)(uintptr_t)pd->regions[p->assembly_region]);
                p->assembly_region++;
                p->assembly_off = 0;
                p->assembly_started = false;
        }
        if (p->assembly_left)
                return;
        p->assembly = NULL;
        *nm.pending_tail = pd;
        nm.pending_tail = &pd->next;
        nm.n_pending++;
        proxy_retry_pending();
}

/* The body of a frame that names one id (NM_ONCE_GONE, NM_DEAD); false: malformed, the peer gone. */
static bool one_id(Peer *p, NmReader *r, uint64_t *id) {
        *id = nm_u64(r);
        if (r->bad || r->p != r->end) {
                peer_gone(p, "malformed frame");
                return false;
        }
        return true;
}

void proxy_on_frame(Peer *p, uint16_t type, const uint8_t *body, uint32_t len) {
        NmReader r;
        nm_reader_init(&r, body, len);
        if ((p->assembly || p->discard_left) && type != NM_DATA) {
                peer_gone(p, "a frame in the middle of a message's regions");
                return;
        }
        switch (type) {
        case NM_MSG:
                deliver(p, body, len);
                return;
        case NM_LOOKUP:
                on_lookup(p, body, len);
                return;
        case NM_LOOKUP_REPLY:
                on_lookup_reply(p, body, len);
                return;
        case NM_RELEASE: {
                /* 1.0: the id alone; 1.1: and the references to it the peer saw. */
                uint64_t id = nm_u64(&r);
                uint32_t seen = len == 12 ? nm_u32(&r) : UINT32_MAX;
                if (r.bad || r.p != r.end) {
                        peer_gone(p, "malformed NM_RELEASE");
                        return;
                }
                Export *e = export_find(p, id);
                if (!e || e->once)
                        return;
                if (seen >= e->sent)
                        export_drop(p, e, true);
                else
                        e->sent -= seen;        /* more went out meanwhile: a new proxy there holds them */
                return;
        }
        case NM_ONCE_GONE: {
                uint64_t id;
                if (!one_id(p, &r, &id))
                        return;
                Export *e = export_find(p, id);
                if (e && e->once)
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
                uint64_t id;
                if (!one_id(p, &r, &id))
                        return;
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
                for (uint32_t i = 0; i < p->assembly->n_regions; i++)
                        prefault_stop((void *)(uintptr_t)p->assembly->regions[i]);
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
