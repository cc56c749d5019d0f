/* SPDX-License-Identifier: MIT */
/*
 * hostile.c - machipc-bench section 7: a well-behaved task's RPC latency
 * while another task attacks the broker
 *
 * The attacks of doc/security.md (tests/integration/test-hostile.c checks
 * their limits; this measures what they cost others): kernel replies and
 * notifications left unread, replies carrying descriptors, chains of ports
 * in transit, the broker's state with many names, silent connections.  Two
 * controls beside them, measured the same way: a process that only spins a
 * CPU (what any busy neighbour costs on this machine, broker or not) and a
 * task making ordinary RPCs as fast as it can (a fair share of the broker).
 * Each figure is the bystander's 64 B RPC median and p99; the report gives
 * p99 under attack / idle, target 2.
 */

#include <sys/un.h>
#include "bench.h"
#include "kcall.h"

typedef struct {
        const char *name;
        int (*setup)(void);
        int (*step)(void);
} Hostile;

static port_t sink, target, region, chain_head;

static int setup_sink(void) {
        return port_allocate(task_self(), &sink) || port_set_backlog(task_self(), sink, 8);
}

static msg_return_t kcall_to(port_t kport, int32_t id, const uint32_t *args, uint32_t n, port_t reply) {
        struct {
                msg_header_t head;
                msg_type_t t;
                uint32_t args[4];
        } m;
        memset(&m, 0, sizeof(m));
        msg_type_init(&m.t, MSG_TYPE_INTEGER_32, n);
        if (n)
                memcpy(m.args, args, 4 * n);
        m.head.msg_size = sizeof(msg_header_t) + MSG_ITEM_SIZE(4 * n);
        m.head.msg_remote_port = kport;
        m.head.msg_local_port = reply;
        m.head.msg_id = id;
        m.head.msg_bits = MSG_BITS(MSG_TYPE_COPY_SEND, MSG_TYPE_MAKE_SEND_ONCE);
        return msg_send(&m.head, SEND_TIMEOUT, 0);
}

static int spin(void) {
        for (volatile int i = 0; i < 100000; i++)
                ;
        return 0;
}

static int setup_target(void) {
        return setup_sink() || port_allocate(task_self(), &target);
}

static int fair_rpc(void) {
        port_type_t t;
        return port_type(task_self(), target, &t);
}

static int setup_names(void) {
        for (int i = 0; i < 4000; i++) {
                port_t p;
                if (port_allocate(task_self(), &p))
                        return 1;
        }
        return setup_sink();
}

static int kernel_replies(void) {
        uint32_t args[1] = { 0 };
        kcall_to(task_self(), KCALL_PORT_NAMES, args, 1, sink);
        return 0;
}

static int notifications(void) {
        port_request_notification(task_self(), target, NOTIFY_NO_SENDERS, 0, sink);
        return 0;
}

static int setup_region(void) {
        return setup_sink() || machipc_shm_create(4096, &region);
}

static int reply_fds(void) {
        kcall_to(region, SHM_MAP, NULL, 0, sink);
        return 0;
}

static int setup_chain(void) {
        return port_allocate(task_self(), &chain_head);
}

static int chain(void) {
        port_t next;
        if (port_allocate(task_self(), &next))
                return 1;
        struct {
                msg_header_t head;
                msg_type_t t;
                port_t p;
                uint32_t pad;
        } m = { .head = { .msg_size = sizeof(m), .msg_remote_port = next },
                .t = { MSG_TYPE_MOVE_RECEIVE, 0, 1 }, .p = chain_head };
        if (msg_send(&m.head, SEND_TIMEOUT, 0) == 0)
                chain_head = next;
        else
                port_deallocate(task_self(), next);
        return 0;
}

static int setup_many_names(void) {
        for (int i = 0; i < (opt.quick ? 20000 : 100000); i++) {
                port_t p;
                if (port_allocate(task_self(), &p))
                        return 1;
        }
        return 0;
}

static int broker_info(void) {
        char *text = NULL;
        if (machipc_broker_info(&text, NULL) == 0)
                free(text);
        return 0;
}

static int silent(void) {
        static int n;
        if (n >= 200) {
                usleep(1000);
                return 0;
        }
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%.100s", opt.sock);
        int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
        if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
                n++;
        return 0;
}

static const Hostile attacks[] = {
        { "spinner", NULL, spin },
        { "fair_rpcs", setup_target, fair_rpc },
        { "kernel_replies", setup_names, kernel_replies },
        { "notifications", setup_target, notifications },
        { "reply_fds", setup_region, reply_fds },
        { "transit_chain", setup_chain, chain },
        { "broker_info", setup_many_names, broker_info },
        { "silent_connections", NULL, silent },
};

static int attacker(void *arg) {
        const Hostile *h = arg;
        if (h->setup && h->setup() != 0)
                return 1;
        announce(PORT_NULL, 1);
        for (;;)
                if (h->step() != 0)
                        return 2;
}

void bench_hostile(void) {
        progress("a bystander's RPCs while another task attacks the broker");
        pid_t svc_pid = child(rpc_server, NULL);
        port_t svc = learn(NULL);
        int iters = opt.iters / 2;
        rpc_measure(svc, 64, iters, result("hostile_idle"));
        for (size_t i = 0; i < sizeof(attacks) / sizeof(attacks[0]); i++) {
                pid_t pid = child(attacker, (void *)&attacks[i]);
                port_t none = learn(NULL);
                (void)none;
                rpc_measure(svc, 64, iters, result("hostile_%s", attacks[i].name));
                kill(pid, SIGKILL);
                reap(pid);
        }
        send_id(svc, ID_STOP);
        reap(svc_pid);
        port_deallocate(task_self(), svc);
}
