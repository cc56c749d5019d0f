/* SPDX-License-Identifier: MIT */
/*
 * rt-server.c - the server side of rt.defs, for test-mig-roundtrip.c: each
 * routine does something the test can check from the other process
 *
 * Checks its port in as "mig-rt" (or -n NAME) with the name server, says
 * READY on --ready-fd, and serves through machipc_msg_server_timeout()
 * until SIGTERM.
 */

#include <ctype.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <machipc/machipc.h>
#include "rtServer.h"
#include "rt_reply.h"

static volatile sig_atomic_t stop;
static port_t own;      /* a port of the server's, with a send right too: take_rights, drain */
static int32_t last_value, n_notes, n_intrans, n_destructions;

#define MAX_PENDING 16
static struct {
        port_t reply;
        int32_t value;
} pending[MAX_PENDING];
static int n_pending;

struct rt_obj {
        mach_port_t port;
};

rt_obj_t rt_obj_in(mach_port_t port) {
        rt_obj_t o = malloc(sizeof(*o));
        if (o) {
                o->port = port;
                n_intrans++;
        }
        return o;
}

/* A reference of its own for the reply to move. */
mach_port_t rt_obj_out(rt_obj_t obj) {
        if (!obj || port_mod_refs(task_self(), obj->port, PORT_RIGHT_SEND, 1) != KERN_SUCCESS)
                return PORT_NULL;
        return obj->port;
}

void rt_obj_done(rt_obj_t obj) {
        if (!obj)
                return;
        /* The reference the request carried; the reply moves another. */
        port_deallocate(task_self(), obj->port);
        free(obj);
        n_destructions++;
}

kern_return_t do_scalars(mach_port_t server, int8_t a, int16_t b, int32_t c, int64_t d, boolean_t e, char f, double g,
                         int64_t *sum, double *half, boolean_t *not_e, char *next_f) {
        (void)server;
        *sum = (int64_t)a + b + c + d;
        *half = g / 2;
        *not_e = !e;
        *next_f = (char)(f + 1);
        return KERN_SUCCESS;
}

kern_return_t do_arrays(mach_port_t server, quad4_t q, int32_t *v, mach_msg_type_number_t vCnt, rt_point_t pt,
                        char *raw, mach_msg_type_number_t rawCnt, quad4_t rq, int32_t *rv,
                        mach_msg_type_number_t *rvCnt, rt_point_t *rpt, char *rraw, mach_msg_type_number_t *rrawCnt) {
        (void)server;
        for (int i = 0; i < 4; i++)
                rq[i] = q[3 - i];
        for (mach_msg_type_number_t i = 0; i < vCnt; i++)
                rv[i] = v[i] * 2;
        *rvCnt = vCnt;
        rpt->x = pt.y;
        rpt->y = pt.x;
        for (mach_msg_type_number_t i = 0; i < rawCnt; i++)
                rraw[i] = raw[rawCnt - 1 - i];
        *rrawCnt = rawCnt;
        return KERN_SUCCESS;
}

kern_return_t do_strings(mach_port_t server, char *name, char *text, char *upper, char *greeting) {
        (void)server;
        size_t i;
        for (i = 0; text[i]; i++)
                upper[i] = (char)toupper((unsigned char)text[i]);
        upper[i] = 0;
        snprintf(greeting, 32, "hi %s", name);
        return KERN_SUCCESS;
}

kern_return_t do_bulk(mach_port_t server, uint8_t *data, mach_msg_type_number_t dataCnt, int32_t *words,
                      mach_msg_type_number_t wordsCnt, uint64_t *sum, uint8_t **reversed,
                      mach_msg_type_number_t *reversedCnt) {
        (void)server;
        vm_address_t out = 0;
        if (dataCnt && vm_allocate(task_self(), &out, dataCnt, 1) != KERN_SUCCESS)
                return KERN_RESOURCE_SHORTAGE;
        uint64_t s = 0;
        for (mach_msg_type_number_t i = 0; i < dataCnt; i++) {
                s += data[i];
                ((uint8_t *)out)[i] = data[dataCnt - 1 - i];
        }
        for (mach_msg_type_number_t i = 0; i < wordsCnt; i++)
                s += (uint64_t)(int64_t)words[i];
        *sum = s;
        *reversed = (uint8_t *)out;
        *reversedCnt = dataCnt;
        /* The regions that came are the server's now. */
        if (dataCnt)
                vm_deallocate(task_self(), (vm_address_t)data, dataCnt);
        if (wordsCnt)
                vm_deallocate(task_self(), (vm_address_t)words, (vm_size_t)wordsCnt * 4);
        return KERN_SUCCESS;
}

/* A message with id RT_PING and @value to @dest, which it takes (@disp). */
static void ping(port_t dest, unsigned disp, int32_t value) {
        struct {
                msg_header_t head;
                msg_type_t t;
                int32_t value;
                int32_t pad;
        } m;
        memset(&m, 0, sizeof(m));
        msg_type_init(&m.t, MSG_TYPE_INTEGER_32, 1);
        m.value = value;
        m.head.msg_size = sizeof(m);
        m.head.msg_bits = MSG_BITS(disp, 0);
        m.head.msg_remote_port = dest;
        m.head.msg_id = RT_PING;
        if (msg_send(&m.head, SEND_TIMEOUT, 1000) != 0)
                fprintf(stderr, "rt-server: ping %d failed\n", value);
}

kern_return_t do_give_rights(mach_port_t server, mach_port_t copied, mach_port_t made, mach_port_t moved,
                             mach_port_t once, mach_port_t recv, mach_port_t *recv_back) {
        (void)server;
        ping(copied, MSG_TYPE_COPY_SEND, 1);
        ping(made, MSG_TYPE_COPY_SEND, 2);
        ping(moved, MSG_TYPE_COPY_SEND, 3);
        ping(once, MSG_TYPE_MOVE_SEND_ONCE, 4);
        port_deallocate(task_self(), copied);
        port_deallocate(task_self(), made);
        port_deallocate(task_self(), moved);
        *recv_back = recv;
        return KERN_SUCCESS;
}

kern_return_t do_take_rights(mach_port_t server, mach_port_t *made, mach_port_t *copied, mach_port_t *once,
                             mach_port_t *poly, mach_msg_type_name_t *polyPoly) {
        (void)server;
        *made = own;
        *copied = own;
        *once = own;
        *poly = own;
        *polyPoly = MSG_TYPE_MAKE_SEND;
        return KERN_SUCCESS;
}

kern_return_t do_poly_in(mach_port_t server, mach_port_t right, mach_msg_type_name_t rightPoly, int32_t *kind) {
        (void)server;
        *kind = (int32_t)rightPoly;
        if (rightPoly == MSG_TYPE_PORT_RECEIVE)
                port_mod_refs(task_self(), right, PORT_RIGHT_RECEIVE, -1);
        else
                port_deallocate(task_self(), right);
        return KERN_SUCCESS;
}

kern_return_t do_port_array(mach_port_t server, mach_port_t *ports, mach_msg_type_number_t portsCnt,
                            mach_port_t **back, mach_msg_type_number_t *backCnt) {
        (void)server;
        /* The rights go back (moved), the memory with them (dealloc). */
        *back = ports;
        *backCnt = portsCnt;
        return KERN_SUCCESS;
}

kern_return_t do_fail(mach_port_t server, kern_return_t code) {
        (void)server;
        return code;
}

kern_return_t do_note(mach_port_t server, int32_t value) {
        (void)server;
        last_value = value;
        n_notes++;
        return KERN_SUCCESS;
}

kern_return_t do_last_note(mach_port_t server, int32_t *value, int32_t *notes) {
        (void)server;
        *value = last_value;
        *notes = n_notes;
        return KERN_SUCCESS;
}

kern_return_t do_later(mach_port_t server, mach_port_t reply, int32_t value, int32_t *doubled) {
        (void)server;
        (void)doubled;
        if (n_pending == MAX_PENDING)
                return KERN_RESOURCE_SHORTAGE;
        pending[n_pending].reply = reply;
        pending[n_pending].value = value;
        n_pending++;
        return MIG_NO_REPLY;    /* the reply right is ours: release answers */
}

kern_return_t do_release(mach_port_t server, boolean_t drop) {
        (void)server;
        for (int i = 0; i < n_pending; i++) {
                if (drop) {
                        port_deallocate(task_self(), pending[i].reply);
                } else {
                        kern_return_t kr = later_reply(pending[i].reply, KERN_SUCCESS, pending[i].value * 2);
                        if (kr != KERN_SUCCESS)
                                fprintf(stderr, "rt-server: later_reply: %s\n", machipc_strerror(kr));
                }
        }
        n_pending = 0;
        return KERN_SUCCESS;
}

kern_return_t do_seqno(mach_port_t server, mach_port_seqno_t seq, mach_port_seqno_t *got) {
        (void)server;
        *got = seq;
        return KERN_SUCCESS;
}

kern_return_t do_sleepy(mach_port_t server, int32_t ms) {
        (void)server;
        if (ms > 0 && ms < 10000)
                usleep((useconds_t)ms * 1000);
        return KERN_SUCCESS;
}

kern_return_t do_die(mach_port_t server) {
        (void)server;
        raise(SIGKILL);
        return KERN_SUCCESS;
}

kern_return_t do_inout(mach_port_t server, int32_t *x, rt_point_t *pt, quad4_t q) {
        (void)server;
        *x += 1;
        int64_t t = pt->x;
        pt->x = pt->y;
        pt->y = t;
        for (int i = 0; i < 2; i++) {
                int32_t s = q[i];
                q[i] = q[3 - i];
                q[3 - i] = s;
        }
        return KERN_SUCCESS;
}

kern_return_t do_fill(mach_port_t server, int32_t *v, mach_msg_type_number_t *vCnt) {
        (void)server;
        for (mach_msg_type_number_t i = 0; i < *vCnt; i++)
                v[i] = (int32_t)(i * i);
        return KERN_SUCCESS;
}

kern_return_t do_obj(mach_port_t server, rt_obj_t o, rt_obj_t *back) {
        (void)server;
        *back = o;
        return KERN_SUCCESS;
}

kern_return_t do_explicit(mach_port_t dest, mach_port_t reply, int32_t x, int32_t *y) {
        (void)dest;
        (void)reply;
        *y = x * 3;
        return KERN_SUCCESS;
}

kern_return_t do_stats(mach_port_t server, int32_t *intrans, int32_t *destructions, int32_t *pending_calls) {
        (void)server;
        *intrans = n_intrans;
        *destructions = n_destructions;
        *pending_calls = n_pending;
        return KERN_SUCCESS;
}

kern_return_t do_drain(mach_port_t server, int32_t *count) {
        (void)server;
        struct {
                msg_header_t head;
                uint8_t body[64];
        } m;
        int32_t n = 0;
        for (;;) {
                m.head.msg_size = sizeof(m);
                m.head.msg_local_port = own;
                if (msg_receive(&m.head, RCV_TIMEOUT, 0) != 0)
                        break;
                msg_destroy(&m.head);
                n++;
        }
        *count = n;
        return KERN_SUCCESS;
}

static void on_term(int sig) {
        (void)sig;
        stop = 1;
}

/* A send right to @port, ours already: it comes back to us in a message, under the same name. */
static int add_send_right(port_t port) {
        struct {
                msg_header_t head;
                msg_type_t t;
                port_t right;
                uint32_t pad;
        } m;
        memset(&m, 0, sizeof(m));
        msg_type_init(&m.t, MSG_TYPE_MAKE_SEND, 1);
        m.right = port;
        m.head.msg_size = sizeof(m);
        m.head.msg_bits = MSG_BITS(MSG_TYPE_MAKE_SEND, 0);
        m.head.msg_remote_port = port;
        if (msg_send(&m.head, SEND_TIMEOUT, 0) != 0)
                return -1;
        m.head.msg_size = sizeof(m);
        m.head.msg_local_port = port;
        if (msg_receive(&m.head, RCV_TIMEOUT, 1000) != 0 || m.right != port)
                return -1;
        return 0;
}

int main(int argc, char **argv) {
        const char *name = "mig-rt";
        int ready_fd = -1, c;
        static const struct option opts[] = {
                { "name", required_argument, NULL, 'n' },
                { "ready-fd", required_argument, NULL, 'r' },
                {}
        };
        while ((c = getopt_long(argc, argv, "n:", opts, NULL)) >= 0) {
                if (c == 'n')
                        name = optarg;
                else if (c == 'r')
                        ready_fd = atoi(optarg);
                else
                        return 2;
        }
        struct sigaction sa = { .sa_handler = on_term };
        sigaction(SIGTERM, &sa, NULL);
        port_t service;
        if (machipc_connect(NULL) != 0 || port_allocate(task_self(), &service) != KERN_SUCCESS ||
            port_allocate(task_self(), &own) != KERN_SUCCESS || add_send_right(own) != 0 ||
            port_set_backlog(task_self(), own, 16) != KERN_SUCCESS ||
            netname_check_in(PORT_NULL, name, service, service) != NETNAME_SUCCESS) {
                fprintf(stderr, "rt-server: cannot set up\n");
                return 1;
        }
        if (ready_fd >= 0) {
                if (write(ready_fd, "READY=1\n", 8) != 8)
                        return 1;
                close(ready_fd);
        }
        kern_return_t r;
        while ((r = machipc_msg_server_timeout(rt_server, rt_MSG_SIZE_MAX, service, 0, 200)) == RCV_TIMED_OUT &&
               !stop)
                ;
        if (!stop) {
                fprintf(stderr, "rt-server: %s\n", machipc_strerror(r));
                return 1;
        }
        for (int i = 0; i < n_pending; i++)
                port_deallocate(task_self(), pending[i].reply);
        netname_check_out(PORT_NULL, name, service);
        machipc_disconnect();
        return 0;
}
