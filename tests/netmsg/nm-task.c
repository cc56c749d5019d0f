/* SPDX-License-Identifier: MIT */
/*
 * nm-task.c - a task for the cross-host tests (test-netmsg.sh): a server
 * that answers every request with what it carried, and clients that check
 * what comes back across hosts
 *
 *   nm-task serve NAME [--ready-fd FD]
 *   nm-task right HOST NAME      a send right of ours goes there and back: the same name
 *   nm-task ool HOST NAME MIB    MIB MiB out of line there and back, byte for byte
 *   nm-task fd HOST NAME         a descriptor is refused: KERN_NOT_SUPPORTED
 *   nm-task watch HOST NAME      wait for the port's dead-name notification
 *   nm-task backlog HOST NAME N  N sends that do not wait to a port nobody reads
 *   nm-task relay HOST NAME RHOST RNAME   give NAME a right to RHOST's RNAME; it calls it
 *   nm-task nosenders HOST NAME  a right of ours held there, then dropped: no-senders here
 *   nm-task noreply HOST NAME    the server there destroys our reply right: RCV_SERVER_DIED
 *   nm-task movereceive HOST NAME a port of ours, 3 messages queued, moved there; 2 more sent
 *                                after the move; the server there must read 1..5 in order
 *   nm-task who HOST NAME        print who the server there says sent our request
 *   nm-task mixed HOST NAME      one item holding rights that arrive there differently — a
 *                                port of ours (a new proxy there), the server's own port (home
 *                                there), a dead name — must come back as they went
 *   nm-task lookups HOST N       N look-ups at once of a name on HOST, which does not answer:
 *                                say how many were refused at once, then wait for the rest
 *   nm-task rights HOST NAME N   N send rights of ours in one request: how many come back as
 *                                themselves, how many as dead names
 */

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <machipc/machipc.h>

static union {
        msg_header_t h;
        uint8_t b[MSG_SIZE_MAX];
} m;

static double now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int fail(const char *what, int code) {
        fprintf(stderr, "nm-task: %s: %s\n", what, machipc_strerror(code));
        return 1;
}

static int serve(const char *name, int ready_fd) {
        port_t p, stuck;
        char stuck_name[128];
        snprintf(stuck_name, sizeof(stuck_name), "%s-stuck", name);
        /* NAME answers everything; NAME-stuck is a port nobody ever reads, backlog 4. */
        if (port_allocate(task_self(), &p) != 0 || netname_check_in(PORT_NULL, name, PORT_NULL, p) != 0 ||
            port_allocate(task_self(), &stuck) != 0 || port_set_backlog(task_self(), stuck, 4) != 0 ||
            netname_check_in(PORT_NULL, stuck_name, PORT_NULL, stuck) != 0)
                return fail("check in", -1);
        if (ready_fd >= 0) {
                if (write(ready_fd, "READY=1\n", 8) < 0)
                        return 1;
                close(ready_fd);
        }
        for (;;) {
                m.h.msg_size = sizeof(m);
                m.h.msg_local_port = p;
                if (msg_receive(&m.h, 0, 0) != 0)
                        return 1;
                if (m.h.msg_id == 999)
                        continue;       /* "backlog": never answered */
                if (m.h.msg_id == 9) {  /* "who": the sender's credentials, as a string */
                        msg_sender_t who;
                        msg_origin_t from;
                        struct {
                                msg_header_t h;
                                msg_type_t t;
                                char s[400];
                        } a = { .h = { .msg_remote_port = m.h.msg_remote_port, .msg_id = 109,
                                       .msg_bits = MSG_BITS(MSG_TYPE_MOVE_SEND_ONCE, 0) } };
                        msg_last_sender(&who);
                        int r = msg_last_origin(&from);
                        int n = r == 0 ? snprintf(a.s, sizeof(a.s), "remote pid=%d uid=%u gid=%u host=%s identity=%s "
                                                  "relay_pid=%d relay_uid=%u", who.pid, who.uid, who.gid, from.host,
                                                  from.identity, from.relay_pid, from.relay_uid)
                                       : snprintf(a.s, sizeof(a.s), "local pid=%d origin=%s", who.pid,
                                                  r == -ENODATA ? "none" : "error");
                        a.t = (msg_type_t){ MSG_TYPE_STRING, 0, (uint32_t)n + 1 };
                        a.h.msg_size = sizeof(msg_header_t) + MSG_ITEM_SIZE((uint32_t)n + 1);
                        msg_send(&a.h, SEND_TIMEOUT, 5000);
                        continue;
                }
                if (m.h.msg_id == 7) {  /* "noreply": the reply right destroyed unanswered */
                        port_deallocate(task_self(), m.h.msg_remote_port);
                        continue;
                }
                if (m.h.msg_id == 8) {  /* "movereceive": read 1..5 from the port we were given */
                        port_t moved, reply = m.h.msg_remote_port;
                        memcpy(&moved, m.b + sizeof(msg_header_t) + sizeof(msg_type_t), 4);
                        int32_t code = 0;
                        for (int32_t want = 1; want <= 5 && code == 0; want++) {
                                struct {
                                        msg_header_t h;
                                        msg_type_t t;
                                        int32_t v, pad;
                                } q = { .h = { .msg_size = sizeof(q), .msg_local_port = moved } };
                                msg_return_t r = msg_receive(&q.h, RCV_TIMEOUT, 10000);
                                code = r ? (int32_t)r : q.v == want ? 0 : 1000 + q.v;
                        }
                        port_type_t type = 0;
                        port_type(task_self(), moved, &type);
                        if (code == 0 && !(type & PORT_TYPE_RECEIVE))
                                code = -2;
                        struct {
                                msg_header_t h;
                                msg_type_t t;
                                int32_t code, pad;
                        } a = { .h = { .msg_size = sizeof(msg_header_t) + MSG_ITEM_SIZE(4), .msg_remote_port = reply,
                                       .msg_id = 108, .msg_bits = MSG_BITS(MSG_TYPE_MOVE_SEND_ONCE, 0) },
                                .t = { MSG_TYPE_INTEGER_32, 0, 1 }, .code = code };
                        msg_send(&a.h, SEND_TIMEOUT, 5000);
                        port_deallocate(task_self(), moved);
                        continue;
                }
                if (m.h.msg_id == 5 || m.h.msg_id == 6) {
                        /* "relay": call the right we were given; "nosenders": drop it.  Answer the code. */
                        port_t right, reply = m.h.msg_remote_port;
                        memcpy(&right, m.b + sizeof(msg_header_t) + sizeof(msg_type_t), 4);
                        int32_t code = 0;
                        if (m.h.msg_id == 5) {
                                union {
                                        msg_header_t h;
                                        uint8_t b[256];
                                } q = { .h = { .msg_size = sizeof(msg_header_t), .msg_remote_port = right,
                                               .msg_id = 1 } };
                                code = msg_rpc(&q.h, RCV_TIMEOUT, sizeof(q), 0, 10000);
                                if (code == 0 && q.h.msg_id != 101)
                                        code = -1;
                        }
                        port_deallocate(task_self(), right);
                        struct {
                                msg_header_t h;
                                msg_type_t t;
                                int32_t code, pad;
                        } a = { .h = { .msg_size = sizeof(msg_header_t) + MSG_ITEM_SIZE(4), .msg_remote_port = reply,
                                       .msg_id = m.h.msg_id + 100, .msg_bits = MSG_BITS(MSG_TYPE_MOVE_SEND_ONCE, 0) },
                                .t = { MSG_TYPE_INTEGER_32, 0, 1 }, .code = code };
                        msg_send(&a.h, SEND_TIMEOUT, 5000);
                        continue;
                }
                /* The same items back: rights moved as received, regions moved. */
                uint8_t *q = m.b + sizeof(msg_header_t), *end = m.b + m.h.msg_size;
                while (q + sizeof(msg_type_t) <= end) {
                        msg_type_t t;
                        memcpy(&t, q, sizeof(t));
                        uint32_t es = t.msg_type_name == MSG_TYPE_MEMORY ? 16 : t.msg_type_name >= 16 ? 4
                                    : t.msg_type_name == MSG_TYPE_INTEGER_64 ? 8 : t.msg_type_name == MSG_TYPE_INTEGER_32 ? 4 : 1;
                        if (t.msg_type_name == MSG_TYPE_MEMORY) {
                                t.msg_type_flags = MSG_TYPE_FLAG_DEALLOCATE;
                                memcpy(q, &t, sizeof(t));
                        }
                        q += MSG_ITEM_SIZE(es * t.msg_type_number);
                }
                m.h.msg_local_port = PORT_NULL;
                m.h.msg_bits = MSG_BITS(MSG_TYPE_MOVE_SEND_ONCE, 0);
                m.h.msg_id += 100;
                msg_send(&m.h, SEND_TIMEOUT, 5000);
        }
}

static port_t find(const char *host, const char *name) {
        port_t p = PORT_NULL;
        double deadline = now_ms() + 15000;
        kern_return_t kr;
        while ((kr = netname_look_up(PORT_NULL, host, name, &p)) != NETNAME_SUCCESS && now_ms() < deadline)
                usleep(20000);
        if (kr != NETNAME_SUCCESS) {
                fail("look up", kr);
                exit(1);
        }
        return p;
}

/* m, already addressed: request @id with one item of @type (@bytes of @elem), its reply in m; the code. */
static msg_return_t call_one(uint16_t type, const void *elem, uint32_t bytes, int32_t id, msg_timeout_t ms) {
        msg_type_t t = { type, 0, type == MSG_TYPE_MEMORY ? 1 : bytes / 4 };
        memcpy(m.b + sizeof(msg_header_t), &t, sizeof(t));
        memcpy(m.b + sizeof(msg_header_t) + sizeof(t), elem, bytes);
        m.h.msg_id = id;
        m.h.msg_size = sizeof(msg_header_t) + MSG_ITEM_SIZE(bytes);
        return msg_rpc(&m.h, RCV_TIMEOUT, sizeof(m), 0, ms);
}

static const char *lookups_host;
static pthread_mutex_t lookups_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t lookups_cond = PTHREAD_COND_INITIALIZER;
static int lookups_refused, lookups_gone, lookups_other;

static void *one_lookup(void *arg) {
        (void)arg;
        port_t p;
        kern_return_t kr = netname_look_up(PORT_NULL, lookups_host, "nothing", &p);
        pthread_mutex_lock(&lookups_lock);
        if (kr == KERN_RESOURCE_SHORTAGE)
                lookups_refused++;
        else if (kr == NETNAME_HOST_NOT_FOUND)
                lookups_gone++;
        else
                lookups_other++;
        pthread_cond_broadcast(&lookups_cond);
        pthread_mutex_unlock(&lookups_lock);
        return NULL;
}

/* N look-ups at once on a host that does not answer: N - 256 refused at once, the rest when it goes. */
static int lookups(const char *host, int n) {
        pthread_t t[1024];
        if (n < 257 || n > 1024)
                return 2;
        lookups_host = host;
        for (int i = 0; i < n; i++)
                if (pthread_create(&t[i], NULL, one_lookup, NULL) != 0)
                        return 1;
        pthread_mutex_lock(&lookups_lock);
        while (lookups_refused + lookups_other < n - 256)
                pthread_cond_wait(&lookups_cond, &lookups_lock);
        printf("lookups: %d refused at once\n", lookups_refused);
        fflush(stdout);
        pthread_mutex_unlock(&lookups_lock);
        for (int i = 0; i < n; i++)
                pthread_join(t[i], NULL);
        printf("lookups: %d refused at once (KERN_RESOURCE_SHORTAGE), %d host not found when it went, %d else\n",
               lookups_refused, lookups_gone, lookups_other);
        return lookups_refused == n - 256 && lookups_gone == 256 ? 0 : 1;
}

int main(int argc, char **argv) {
        if (argc == 4 && strcmp(argv[1], "lookups") == 0)
                return lookups(argv[2], atoi(argv[3]));
        if (argc >= 3 && strcmp(argv[1], "serve") == 0)
                return serve(argv[2], argc == 5 && strcmp(argv[3], "--ready-fd") == 0 ? atoi(argv[4]) : -1);
        if (argc < 4) {
                fprintf(stderr, "usage: nm-task serve NAME | right|ool|fd|watch|backlog HOST NAME [N]\n");
                return 2;
        }
        const char *what = argv[1];
        port_t to = find(argv[2], argv[3]);
        memset(&m.h, 0, sizeof(m.h));
        m.h.msg_remote_port = to;
        m.h.msg_id = 1;
        msg_type_t *t = (msg_type_t *)(m.b + sizeof(msg_header_t));
        uint8_t *data = m.b + sizeof(msg_header_t) + sizeof(msg_type_t);
        if (strcmp(what, "who") == 0) {
                m.h.msg_id = 9;
                m.h.msg_size = sizeof(msg_header_t);
                msg_return_t r = msg_rpc(&m.h, RCV_TIMEOUT, sizeof(m), 0, 10000);
                if (r != 0)
                        return fail("who", r);
                if (m.h.msg_id != 109 || m.h.msg_size < sizeof(msg_header_t) + MSG_ITEM_SIZE(1))
                        return fail("who: the answer", -1);
                m.b[sizeof(m.b) - 1] = 0;
                printf("%s\n", (const char *)data);
                return 0;
        }
        if (strcmp(what, "mixed") == 0) {
                /* A send right of our own to a port of ours, made by a message to ourselves. */
                port_t mine;
                struct {
                        msg_header_t h;
                        msg_type_t t;
                        port_t r;
                        uint32_t pad;
                } s = { .h = { .msg_size = sizeof(s) }, .t = { MSG_TYPE_MAKE_SEND, 0, 1 } };
                if (port_allocate(task_self(), &mine) != 0)
                        return 1;
                s.h.msg_remote_port = s.r = mine;
                if (msg_send(&s.h, 0, 0) != 0)
                        return 1;
                s.h.msg_size = sizeof(s);
                s.h.msg_local_port = mine;
                if (msg_receive(&s.h, 0, 0) != 0)
                        return 1;
                const port_t sets[2][3] = { { mine, PORT_DEAD }, { mine, to, PORT_DEAD } };
                const uint32_t sizes[2] = { 2, 3 };
                for (int k = 0; k < 2; k++) {
                        /* Each call moves a reference of each right; make them first. */
                        port_mod_refs(task_self(), mine, PORT_RIGHT_SEND, 1);
                        port_mod_refs(task_self(), to, PORT_RIGHT_SEND, 1);
                        m.h.msg_remote_port = to;
                        m.h.msg_bits = 0;
                        m.h.msg_local_port = PORT_NULL;
                        msg_return_t r = call_one(MSG_TYPE_COPY_SEND, sets[k], 4 * sizes[k], 1, 10000);
                        if (r != 0)
                                return fail("msg_rpc", r);
                        for (uint32_t i = 0; i < sizes[k]; i++) {
                                port_t back;
                                memcpy(&back, data + 4 * i, 4);
                                if (back != sets[k][i]) {
                                        printf("mixed: right %u of %u came back as %#x, not %#x\n", i + 1, sizes[k],
                                               back, sets[k][i]);
                                        return 1;
                                }
                        }
                }
                printf("mixed: ours, theirs and a dead name in one item came back as they went\n");
                return 0;
        }
        if (strcmp(what, "rights") == 0 && argc == 5) {
                uint32_t n = (uint32_t)atoi(argv[4]);
                port_t mine[256];
                if (n < 1 || n > 256)
                        return 2;
                for (uint32_t i = 0; i < n; i++)
                        if (port_allocate(task_self(), &mine[i]) != 0)
                                return 1;
                *t = (msg_type_t){ MSG_TYPE_MAKE_SEND, 0, n };
                memcpy(data, mine, 4 * n);
                m.h.msg_size = sizeof(msg_header_t) + MSG_ITEM_SIZE(4 * n);
                msg_return_t r = msg_rpc(&m.h, RCV_TIMEOUT, sizeof(m), 0, 10000);
                if (r != 0)
                        return fail("msg_rpc", r);
                uint32_t same = 0, dead = 0;
                for (uint32_t i = 0; i < n; i++) {
                        port_t back;
                        memcpy(&back, data + 4 * i, 4);
                        same += back == mine[i];
                        dead += back == PORT_DEAD;
                }
                printf("rights: %u of %u back as themselves, %u dead\n", same, n, dead);
                return same + dead == n ? 0 : 1;
        }
        if (strcmp(what, "right") == 0) {
                port_t mine;
                port_allocate(task_self(), &mine);
                msg_return_t r = call_one(MSG_TYPE_MAKE_SEND, &mine, 4, 1, 10000);
                if (r != 0)
                        return fail("msg_rpc", r);
                port_t back;
                memcpy(&back, data, 4);
                printf("right %s: sent %#x, back %#x\n", back == mine ? "ok" : "CHANGED", mine, back);
                return back == mine ? 0 : 1;
        }
        if (strcmp(what, "ool") == 0) {
                size_t size = (size_t)(argc > 4 ? atoi(argv[4]) : 1) << 20;
                vm_address_t a;
                if (vm_allocate(task_self(), &a, size, 1) != 0)
                        return 1;
                for (size_t i = 0; i < size; i++)
                        ((uint8_t *)(uintptr_t)a)[i] = (uint8_t)(i * 7 + i / 4096);
                msg_ool_t o = { a, size };
                double t0 = now_ms();
                msg_return_t r = call_one(MSG_TYPE_MEMORY, &o, sizeof(o), 1, 60000);
                if (r != 0)
                        return fail("msg_rpc", r);
                memcpy(&o, data, sizeof(o));
                const uint8_t *back = (const uint8_t *)(uintptr_t)o.address;
                size_t bad = o.size == size ? 0 : 1;
                for (size_t i = 0; !bad && i < size; i++)
                        bad += back[i] != (uint8_t)(i * 7 + i / 4096);
                printf("ool %s: %zu bytes there and back in %.0f ms\n", bad ? "CORRUPT" : "ok", size, now_ms() - t0);
                return bad ? 1 : 0;
        }
        if (strcmp(what, "fd") == 0) {
                int fds[2];
                if (pipe(fds) < 0)
                        return 1;
                msg_return_t r = call_one(MSG_TYPE_FD, &fds[0], 4, 1, 10000);
                if (r != 0)
                        return fail("msg_rpc", r);
                int32_t code;
                memcpy(&code, data, 4);
                printf("fd: reply id %d, code %d (%s)\n", m.h.msg_id, code, machipc_strerror(code));
                return code == KERN_NOT_SUPPORTED ? 0 : 1;
        }
        if (strcmp(what, "watch") == 0) {
                port_t notify;
                port_allocate(task_self(), &notify);
                kern_return_t kr = port_request_notification(task_self(), to, NOTIFY_DEAD_NAME, 0, notify);
                if (kr != 0)
                        return fail("port_request_notification", kr);
                printf("watching\n");
                fflush(stdout);
                double t0 = now_ms();
                m.h.msg_size = sizeof(m);
                m.h.msg_local_port = notify;
                msg_return_t r = msg_receive(&m.h, RCV_TIMEOUT, 60000);
                if (r != 0)
                        return fail("waiting for the dead-name notification", r);
                msg_return_t s = 0;
                msg_header_t h = { .msg_size = sizeof(h), .msg_remote_port = to, .msg_id = 1 };
                s = msg_send(&h, SEND_TIMEOUT, 0);
                printf("dead-name (id %d) after %.0f ms; a send now: %s\n", m.h.msg_id, now_ms() - t0,
                       machipc_strerror(s));
                return m.h.msg_id == NOTIFY_DEAD_NAME && s == SEND_INVALID_DEST ? 0 : 1;
        }
        if (strcmp(what, "relay") == 0 && argc == 6) {
                port_t far = find(argv[4], argv[5]);
                msg_return_t r = call_one(MSG_TYPE_COPY_SEND, &far, 4, 5, 20000);
                if (r != 0)
                        return fail("msg_rpc", r);
                int32_t code;
                memcpy(&code, data, 4);
                printf("relay: the server called the right it was given: %s\n", code ? machipc_strerror(code) : "ok");
                return code == 0 ? 0 : 1;
        }
        if (strcmp(what, "nosenders") == 0) {
                port_t mine, notify;
                port_allocate(task_self(), &mine);
                port_allocate(task_self(), &notify);
                msg_return_t r = call_one(MSG_TYPE_MAKE_SEND, &mine, 4, 6, 20000);
                if (r != 0)
                        return fail("msg_rpc", r);
                /* Asked only now: the right there was made before, so the count is 1. */
                kern_return_t kr = port_request_notification(task_self(), mine, NOTIFY_NO_SENDERS, 1, notify);
                if (kr != 0)
                        return fail("port_request_notification", kr);
                double t0 = now_ms();
                m.h.msg_size = sizeof(m);
                m.h.msg_local_port = notify;
                r = msg_receive(&m.h, RCV_TIMEOUT, 20000);
                if (r != 0)
                        return fail("waiting for no-senders", r);
                printf("nosenders: notification %d %.0f ms after the right there was dropped\n", m.h.msg_id,
                       now_ms() - t0);
                return m.h.msg_id == NOTIFY_NO_SENDERS ? 0 : 1;
        }
        if (strcmp(what, "movereceive") == 0) {
                port_t mine;
                port_allocate(task_self(), &mine);
                port_set_backlog(task_self(), mine, 16);
                /* A send right of our own too, to send after the move: a message to the port carrying
                 * one made from the receive right, taken back. */
                struct {
                        msg_header_t h;
                        msg_type_t t;
                        int32_t v, pad;
                } q = { .h = { .msg_size = sizeof(q), .msg_remote_port = mine }, .t = { MSG_TYPE_INTEGER_32, 0, 1 } };
                struct {
                        msg_header_t h;
                        msg_type_t t;
                        port_t r;
                        uint32_t pad;
                } s = { .h = { .msg_size = sizeof(s), .msg_remote_port = mine }, .t = { MSG_TYPE_MAKE_SEND, 0, 1 }, .r = mine };
                msg_send(&s.h, 0, 0);
                s.h.msg_size = sizeof(s);
                s.h.msg_local_port = mine;
                msg_receive(&s.h, 0, 0);
                for (int32_t v = 1; v <= 3; v++) {
                        q.h.msg_size = sizeof(q);
                        q.h.msg_remote_port = mine;
                        q.v = v;
                        msg_send(&q.h, 0, 0);
                }
                port_t rp;
                port_allocate(task_self(), &rp);
                *t = (msg_type_t){ MSG_TYPE_MOVE_RECEIVE, 0, 1 };
                memcpy(data, &mine, 4);
                m.h.msg_id = 8;
                m.h.msg_size = sizeof(msg_header_t) + MSG_ITEM_SIZE(4);
                m.h.msg_local_port = rp;
                m.h.msg_bits = MSG_BITS(MSG_TYPE_COPY_SEND, MSG_TYPE_MAKE_SEND_ONCE);
                msg_return_t r = msg_send(&m.h, 0, 0);
                if (r != 0)
                        return fail("moving the receive right", r);
                /* Sent after the move, with the send right we kept: they follow the port. */
                for (int32_t v = 4; v <= 5; v++) {
                        q.h.msg_size = sizeof(q);
                        q.h.msg_remote_port = mine;
                        q.h.msg_bits = MSG_BITS(MSG_TYPE_COPY_SEND, 0);
                        q.h.msg_local_port = PORT_NULL;
                        q.v = v;
                        if ((r = msg_send(&q.h, SEND_TIMEOUT, 10000)) != 0)
                                return fail("sending after the move", r);
                }
                m.h.msg_size = sizeof(m);
                m.h.msg_local_port = rp;
                if ((r = msg_receive(&m.h, RCV_TIMEOUT, 30000)) != 0)
                        return fail("the answer", r);
                int32_t code;
                memcpy(&code, data, 4);
                port_type_t type = 0;
                port_type(task_self(), mine, &type);
                printf("movereceive: %s; here the name is now a %s\n",
                       code == 0 ? "read 1..5 in order there" : code < 1000 ? machipc_strerror(code) : "out of order",
                       type & PORT_TYPE_RECEIVE ? "receive right (WRONG)" : "send right");
                return code == 0 && !(type & PORT_TYPE_RECEIVE) ? 0 : 1;
        }
        if (strcmp(what, "noreply") == 0) {
                m.h.msg_id = 7;
                m.h.msg_size = sizeof(msg_header_t);
                msg_return_t r = msg_rpc(&m.h, RCV_TIMEOUT, sizeof(m), 0, 20000);
                printf("noreply: %s\n", machipc_strerror(r));
                return r == RCV_SERVER_DIED ? 0 : 1;
        }
        if (strcmp(what, "backlog") == 0) {
                int n = argc > 4 ? atoi(argv[4]) : 100, ok = 0;
                msg_return_t r = 0;
                double t0 = now_ms();
                for (int i = 0; i < n; i++) {
                        msg_header_t h = { .msg_size = sizeof(h), .msg_remote_port = to, .msg_id = 999 };
                        /* Each may wait 2 s for room, as for a local port. */
                        if ((r = msg_send(&h, SEND_TIMEOUT, 2000)) != 0)
                                break;
                        ok++;
                }
                printf("backlog: %d of %d sent, then %s after %.0f ms\n", ok, n, r ? machipc_strerror(r) : "-",
                       now_ms() - t0);
                return 0;
        }
        return 2;
}
