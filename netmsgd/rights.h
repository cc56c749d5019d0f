#pragma once
/* SPDX-License-Identifier: MIT */
/* rights.h - netmsgd's exports, imports and the rights in frames (rights.c), shared by proxy.c and lookup.c */

#include "netmsgd.h"

Export *export_find(Peer *p, uint64_t id);
void export_drop(Peer *p, Export *e, bool release);
Export *export_add(Peer *p, uint64_t id, port_t name, bool once);
Export *export_by_name(Peer *p, port_t name);
uint64_t export_right(Peer *p, port_t name, bool once);
Import *import_by_proxy(port_t proxy);
Import *import_find(Peer *p, uint64_t id);
void import_drop(Import *im);
void import_drop_dead(Import *im);
Import *import_new(Peer *p, uint64_t id, bool once);
bool import_ref(Peer *p, NmRef ref, port_t *name, uint16_t *disp);
NmRef ref_for(Peer *p, port_t name, uint16_t kind);
uint16_t import_item(Peer *p, NmReader *r, uint16_t type, uint32_t number, uint8_t *names);
void rights_unsent(msg_header_t *h);
void right_unsent(port_t name, uint32_t disp);

/* proxy.c */
void answer_code(port_t reply, msg_id_t id, kern_return_t code);

/* lookup.c */
void answer_lookup(port_t reply, kern_return_t code, port_t right, uint16_t disp);
void on_lookup(Peer *p, const uint8_t *body, uint32_t len);
void on_lookup_reply(Peer *p, const uint8_t *body, uint32_t len);
