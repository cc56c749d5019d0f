/* SPDX-License-Identifier: MIT */
/*
 * types.c - MIG's types: the built-in message types (MACH_MSG_TYPE_*) in
 * machipc's numbering, the types every .defs file may use without
 * declaring them (int, char, short, boolean_t), the table of declared
 * types, and what C calls each
 */

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "mig.h"

typedef struct {
        const char *name;
        int wire_in, wire_out;
        uint32_t size;
        bool port, poly, port_name, string;
        const char *ctype;
} Builtin;

/* MACH_MSG_TYPE_* names, as MIG spells them. */
static const Builtin builtins[] = {
        { "MACH_MSG_TYPE_BOOLEAN", W_INTEGER_32, W_INTEGER_32, 4, false, false, false, false, "boolean_t" },
        { "MACH_MSG_TYPE_INTEGER_8", W_BYTE, W_BYTE, 1, false, false, false, false, "char" },
        { "MACH_MSG_TYPE_INTEGER_16", W_INTEGER_16, W_INTEGER_16, 2, false, false, false, false, "short" },
        { "MACH_MSG_TYPE_INTEGER_32", W_INTEGER_32, W_INTEGER_32, 4, false, false, false, false, "int" },
        { "MACH_MSG_TYPE_INTEGER_64", W_INTEGER_64, W_INTEGER_64, 8, false, false, false, false, "int64_t" },
        { "MACH_MSG_TYPE_CHAR", W_CHAR, W_CHAR, 1, false, false, false, false, "char" },
        { "MACH_MSG_TYPE_BYTE", W_BYTE, W_BYTE, 1, false, false, false, false, "char" },
        { "MACH_MSG_TYPE_REAL_64", W_REAL_64, W_REAL_64, 8, false, false, false, false, "double" },
        { "MACH_MSG_TYPE_STRING", W_STRING, W_STRING, 1, false, false, false, true, "char" },
        { "MACH_MSG_TYPE_STRING_C", W_STRING, W_STRING, 1, false, false, false, true, "char" },
        { "MACH_MSG_TYPE_PORT_NAME", W_INTEGER_32, W_INTEGER_32, 4, false, false, true, false, "mach_port_t" },
        { "MACH_MSG_TYPE_MOVE_RECEIVE", W_MOVE_RECEIVE, W_MOVE_RECEIVE, 4, true, false, false, false, "mach_port_t" },
        { "MACH_MSG_TYPE_MOVE_SEND", W_MOVE_SEND, W_MOVE_SEND, 4, true, false, false, false, "mach_port_t" },
        { "MACH_MSG_TYPE_MOVE_SEND_ONCE", W_MOVE_SEND_ONCE, W_MOVE_SEND_ONCE, 4, true, false, false, false,
          "mach_port_t" },
        { "MACH_MSG_TYPE_COPY_SEND", W_COPY_SEND, W_MOVE_SEND, 4, true, false, false, false, "mach_port_t" },
        { "MACH_MSG_TYPE_MAKE_SEND", W_MAKE_SEND, W_MOVE_SEND, 4, true, false, false, false, "mach_port_t" },
        { "MACH_MSG_TYPE_MAKE_SEND_ONCE", W_MAKE_SEND_ONCE, W_MOVE_SEND_ONCE, 4, true, false, false, false,
          "mach_port_t" },
        /* The kinds a receiver finds: the same values as the moves. */
        { "MACH_MSG_TYPE_PORT_RECEIVE", W_MOVE_RECEIVE, W_MOVE_RECEIVE, 4, true, false, false, false, "mach_port_t" },
        { "MACH_MSG_TYPE_PORT_SEND", W_MOVE_SEND, W_MOVE_SEND, 4, true, false, false, false, "mach_port_t" },
        { "MACH_MSG_TYPE_PORT_SEND_ONCE", W_MOVE_SEND_ONCE, W_MOVE_SEND_ONCE, 4, true, false, false, false,
          "mach_port_t" },
        { "MACH_MSG_TYPE_POLYMORPHIC", 0, 0, 4, true, true, false, false, "mach_port_t" },
};

/* Type names MIG knows without a declaration. */
static const struct {
        const char *name;
        const char *ipc;
} predeclared[] = {
        { "int", "MACH_MSG_TYPE_INTEGER_32" },
        { "char", "MACH_MSG_TYPE_CHAR" },
        { "short", "MACH_MSG_TYPE_INTEGER_16" },
        { "boolean_t", "MACH_MSG_TYPE_BOOLEAN" },
};

static MigType *from_builtin(const Builtin *b) {
        MigType *t = mig_alloc(sizeof(*t));
        t->shape = b->string ? SHAPE_STRING : SHAPE_SCALAR;
        t->wire_in = b->wire_in;
        t->wire_out = b->wire_out;
        t->elem_size = b->size;
        t->port = b->port;
        t->poly_in = t->poly_out = b->poly;
        t->port_name = b->port_name;
        t->default_ctype = (char *)b->ctype;
        return t;
}

/* types_builtin_ipc() - a fresh type for MACH_MSG_TYPE_@name, or NULL if it is none MIG knows. */
MigType *types_builtin_ipc(const char *name) {
        for (size_t i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++)
                if (strcasecmp(builtins[i].name, name) == 0)
                        return from_builtin(&builtins[i]);
        return NULL;
}

void types_add(MigFile *f, MigType *t) {
        f->types = mig_realloc(f->types, sizeof(*f->types) * (size_t)(f->n_types + 1));
        if (!f->types)
                abort();
        f->types[f->n_types++] = t;
}

void types_init(MigFile *f) {
        for (size_t i = 0; i < sizeof(predeclared) / sizeof(predeclared[0]); i++) {
                MigType *t = types_builtin_ipc(predeclared[i].ipc);
                t->name = (char *)predeclared[i].name;
                t->ctype = (char *)predeclared[i].name;
                types_add(f, t);
        }
}

/* The latest declaration of @name wins, as in MIG. */
MigType *types_lookup(MigFile *f, const char *name) {
        for (int i = f->n_types - 1; i >= 0; i--)
                if (f->types[i]->name && strcmp(f->types[i]->name, name) == 0)
                        return f->types[i];
        return NULL;
}

static const char *c_default(const MigType *t) {
        if (t->ctype)
                return t->ctype;
        if (t->name)
                return t->name;
        if (t->elem && t->shape != SHAPE_SCALAR) {
                /* An array written in place: a pointer to its elements. */
                static char buf[8][256];
                static int next;
                char *b = buf[next++ % 8];
                snprintf(b, sizeof(buf[0]), "%s *", type_c_elem(t));
                return b;
        }
        return t->default_ctype ? t->default_ctype : "int";
}

/* What the user's side calls a value of @t. */
const char *type_c_user(const MigType *t) {
        return t->cusertype ? t->cusertype : c_default(t);
}

/* What the server's side calls it, before any intran. */
const char *type_c_server(const MigType *t) {
        return t->cservertype ? t->cservertype : c_default(t);
}

/* The C type of one element of an array (or of a string: char). */
const char *type_c_elem(const MigType *t) {
        if (t->shape == SHAPE_STRING)
                return "char";
        if (t->elem)
                return c_default(t->elem);
        return c_default(t);
}

/* The most bytes an item of @t takes in a message (descriptor and padding included). */
uint32_t type_max_bytes(const MigType *t) {
        uint64_t data;
        switch (t->shape) {
        case SHAPE_SCALAR:
                data = t->elem_size;
                break;
        case SHAPE_OOL:
                /* A msg_ool_t; rights travel inline. */
                data = t->port ? 4ull * (t->count ? t->count : 1024) : 16;
                break;
        default:
                data = t->count ? (uint64_t)t->count * t->elem_size : 65536;
                break;
        }
        uint64_t bytes = 8 + ((data + 7) & ~7ull);
        return bytes > 65536 ? 65536 : (uint32_t)bytes;
}
