#pragma once
/* SPDX-License-Identifier: MIT */
/* emit.h - helpers the emitters share (emit.c) */

#include "mig.h"

bool out_open(Out *o, const char *path);
bool out_close(Out *o);
void out(Out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void out_banner(Out *o, const MigFile *f, const char *what);

const char *wire_name(int w);
char *user_fn(const MigFile *f, const MigRoutine *r);
char *server_fn(const MigFile *f, const MigRoutine *r);
char *demux_fn(const MigFile *f);
bool in_request(const MigArg *a);
bool in_reply(const MigArg *a);
uint32_t var_max(const MigType *t);
uint32_t request_max(const MigRoutine *r);
uint32_t reply_max(const MigRoutine *r);
uint32_t subsystem_max(const MigFile *f);
bool check_sizes(const MigFile *f);
int header_disposition(const MigArg *a, int dflt);
const MigArg *find_arg(const MigRoutine *r, ArgKind k1, ArgKind k2);
void param(Out *o, bool *first, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void user_params(Out *o, const MigRoutine *r);
void server_params(Out *o, const MigRoutine *r);
const char *server_value_type(const MigArg *a);
void emit_imports(Out *o, const MigFile *f, bool server);
void emit_size_check(Out *o, const char *ctype, uint32_t bytes, const char *what);
uint32_t group(const MigType *t);
const char *times(const MigType *t);
void header_begin(Out *o, const MigFile *f, const char *what, const char *guard, bool server);
void header_end(Out *o);
