/* SPDX-License-Identifier: MIT */
/*
 * async.c - the asynchronous path (protocol 1.1): its hooks into the IPC
 * core and what a task's LENT frames say
 *
 * Two things the broker hands a task ahead of a call, each in its own file:
 * messages lent ahead of receives (lend.c) and backlog slots granted as send
 * credit (credit.c).  The core knows neither; it calls back here when a
 * credited message's slot frees, when a port dies and when a port's receive
 * right leaves a task that has messages of it on loan.
 */

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include "async/async.h"
#include "async/credit.h"
#include "async/lend.h"
#include "ipc/ipc.h"
#include "ipc/space.h"
#include "peer.h"
#include "wire.h"

static void async_receiver_leaving(Port *port, Space *space, bool leaving) {
        Peer *peer = space->owner;
        if (!peer)
                return;
        /* Its own arms end first: what goes back is not handed over again through them. */
        if (leaving)
                lend_end_arms(peer, port);
        lend_give_back_port(peer, port);
}

/* async_setup() - hook the asynchronous path into the core. */
void async_setup(void) {
        static const IpcAsyncOps ops = {
                .slot_freed = credit_slot_freed,
                .port_dead = credit_port_dead,
                .receiver_leaving = async_receiver_leaving,
        };
        ipc_set_async_ops(&ops);
}

/* async_peer_end() - the task ends: what it was lent goes back, its credit too. */
void async_peer_end(Peer *peer) {
        lend_peer_end(peer);
        credit_peer_end(peer);
}

/**
 * async_lent_body() - what a LENT body says: messages the task took, credit
 * it gives back
 * @body, @len: n_taken, n_credit, then n_taken lend ids, then n_credit
 *              (name, count) pairs; @len may go on past them (a request's
 *              LENT prefix, WIRE_FLAG_LENT)
 * @used: out, the body's length
 *
 * Return: 0, or -EPROTO for a body that lies or names what the task does
 * not have (a protocol violation).
 */
int async_lent_body(Peer *peer, const uint8_t *body, size_t len, size_t *used) {
        if (peer->minor < 1 || len < WIRE_LENT_HDR_SIZE)
                return -EPROTO;
        uint32_t n_taken = wire_get_le32(body), n_credit = wire_get_le32(body + 4);
        if (n_taken > WIRE_LENT_IDS_MAX || n_credit > WIRE_LENT_CREDITS_MAX ||
            len < WIRE_LENT_HDR_SIZE + 4ull * n_taken + 8ull * n_credit)
                return -EPROTO;
        *used = WIRE_LENT_HDR_SIZE + 4ull * n_taken + 8ull * n_credit;
        const uint8_t *p = body + WIRE_LENT_HDR_SIZE;
        uint32_t ids[WIRE_LENT_IDS_MAX];
        for (uint32_t i = 0; i < n_taken; i++)
                ids[i] = wire_get_le32(p + 4 * i);
        if (lend_taken(peer, ids, n_taken) < 0)
                return -EPROTO;
        p += 4 * n_taken;
        for (uint32_t i = 0; i < n_credit; i++)
                if (credit_give_back(peer, wire_get_le32(p + 8 * i), wire_get_le32(p + 8 * i + 4)) < 0)
                        return -EPROTO;
        return 0;
}
