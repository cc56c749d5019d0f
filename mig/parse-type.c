/* SPDX-License-Identifier: MIT */
/*
 * parse-type.c - type specifications and type declarations of a .defs file
 *
 * array, struct, c_string, tuples (IN|OUT), polymorphic, and the
 * annotations a declaration may add (ctype:, intran:...).  What machipc
 * cannot carry is deferred: declaring it is fine, using it is an error.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "parse.h"

MigType *copy_type(const MigType *t) {
        MigType *c = mig_alloc(sizeof(*c));
        *c = *t;
        return c;
}


/* array [ ] of T | array [ * ] of T | array [ N ] of T | array [ * : N ] of T */
static bool array_spec(Parser *p, bool ool, MigType **out) {
        Loc loc = p->tok.loc;
        uint64_t n = 0;
        bool var = false;
        if (!advance(p) || !expect_punct(p, '['))
                return false;
        if (is_punct(p, ']')) {
                var = true;
        } else if (is_punct(p, '*')) {
                var = true;
                if (!advance(p))
                        return false;
                if (is_punct(p, ':')) {
                        if (!advance(p) || !constant(p, &n))
                                return false;
                }
        } else if (!constant(p, &n)) {
                return false;
        }
        if (!expect_punct(p, ']'))
                return false;
        if (!is_kw(p, "of"))
                return expected(p, "'of'");
        if (!advance(p))
                return false;
        MigType *elem;
        if (!typespec(p, &elem))
                return false;
        if (elem->shape != SHAPE_SCALAR && !(elem->shape == SHAPE_FIXED && !ool))
                return unsupported(loc, "an array of arrays or strings");
        if (!var && n == 0)
                return unsupported(loc, "an array of 0 elements");
        if (!ool && n > 65536)
                return unsupported(loc, "an inline array of more than 65,536 elements (send it out of line: ^array)");
        if (ool && n > UINT32_MAX / 16)
                return unsupported(loc, "an out-of-line array of more than 268,435,455 elements");
        /* array[] (no bound): MIG sends it inline or out of line as it fits; here, data
         * always goes out of line, rights always inline. */
        if (var && n == 0 && !ool && !elem->port)
                ool = true;
        if (ool && elem->shape == SHAPE_FIXED && !elem->port) {
                /* Out of line, an array of structs is their bytes. */
                MigType *t = mig_alloc(sizeof(*t));
                t->loc = loc;
                t->shape = SHAPE_OOL;
                t->elem = elem;
                t->wire_in = t->wire_out = W_BYTE;
                t->elem_size = elem->count * elem->elem_size;
                t->count = (uint32_t)n;
                if (elem->unsupported)
                        defer(t, elem->unsupported_loc, elem->unsupported);
                *out = t;
                return true;
        }
        MigType *t = mig_alloc(sizeof(*t));
        t->loc = loc;
        t->shape = ool ? SHAPE_OOL : var ? SHAPE_VAR : SHAPE_FIXED;
        /* An array of fixed groups (array of struct[N]): elements of the group's size. */
        uint32_t group = elem->shape == SHAPE_FIXED ? elem->count : 1;
        t->elem = elem;
        t->wire_in = elem->wire_in;
        t->wire_out = elem->wire_out;
        t->elem_size = elem->elem_size;
        t->port = elem->port;
        t->port_name = elem->port_name;
        t->count = (uint32_t)n * group;
        t->group = group;
        if (is_poly(elem))
                defer(t, loc, "an array of polymorphic rights");
        if (ool && elem->port && (var ? n : n) > 1024)
                defer(t, loc, "an array of more than 1,024 port rights (a message carries at most 1,024)");
        if (elem->unsupported)
                defer(t, elem->unsupported_loc, elem->unsupported);
        *out = t;
        return true;
}

/* struct [ N ] of T | struct { T name ; ... } */
static bool struct_spec(Parser *p, MigType **out) {
        Loc loc = p->tok.loc;
        if (!advance(p))
                return false;
        MigType *t = mig_alloc(sizeof(*t));
        t->loc = loc;
        t->shape = SHAPE_FIXED;
        t->is_struct = true;
        if (is_punct(p, '[')) {
                uint64_t n;
                if (!advance(p) || !constant(p, &n) || !expect_punct(p, ']'))
                        return false;
                if (!is_kw(p, "of"))
                        return expected(p, "'of'");
                MigType *elem;
                if (!advance(p) || !typespec(p, &elem))
                        return false;
                if (elem->shape != SHAPE_SCALAR || elem->port)
                        return unsupported(loc, "a struct of anything but plain data");
                if (n == 0 || n > 65536)
                        return unsupported(loc, "a struct of 0 or more than 65,536 elements");
                t->elem = elem;
                t->count = (uint32_t)n;
        } else if (is_punct(p, '{')) {
                /* Fields, all of one size: the struct travels as an array of them. */
                if (!advance(p))
                        return false;
                MigType *first = NULL;
                uint32_t n = 0, bytes = 0, align = 1;
                bool mixed = false;
                while (!is_punct(p, '}')) {
                        MigType *ft;
                        char *fname;
                        Loc floc = p->tok.loc;
                        if (!typespec(p, &ft) || !ident(p, "a field name", &fname, NULL))
                                return false;
                        uint32_t fsize, falign = ft->elem_size ? ft->elem_size : 1;
                        if (ft->port || is_poly(ft) || ft->unsupported) {
                                defer(t, floc, "a struct with a port right in it");
                                fsize = 4;
                        } else if (ft->shape == SHAPE_SCALAR) {
                                fsize = ft->elem_size;
                        } else if (ft->shape == SHAPE_FIXED || ft->shape == SHAPE_STRING) {
                                /* A fixed array, or a string of fixed size: its bytes. */
                                fsize = ft->count * ft->elem_size;
                                mixed = true;
                        } else {
                                defer(t, floc, "a struct with an array of variable size in it");
                                fsize = 4;
                        }
                        if (first && (ft->elem_size != first->elem_size || ft->wire_in != first->wire_in))
                                mixed = true;
                        if (!first)
                                first = ft;
                        /* Laid out as C lays it out: each field at a multiple of its alignment. */
                        bytes = (bytes + falign - 1) / falign * falign + fsize;
                        if (falign > align)
                                align = falign;
                        n++;
                        if (!expect_punct(p, ';'))
                                return false;
                }
                if (!n)
                        return unsupported(loc, "an empty struct");
                if (!advance(p))
                        return false;
                t->elem = first;
                t->count = n;
                if (mixed) {
                        /* Fields of different sizes: the struct travels as its bytes. */
                        t->elem = types_builtin_ipc("MACH_MSG_TYPE_BYTE");
                        t->count = (bytes + align - 1) / align * align;
                }
        } else {
                return expected(p, "'[' or '{' after struct");
        }
        t->wire_in = t->elem->wire_in;
        t->wire_out = t->elem->wire_out;
        t->elem_size = t->elem->elem_size;
        *out = t;
        return true;
}

/* c_string [ N ] | c_string [ * : N ] */
static bool string_spec(Parser *p, MigType **out) {
        Loc loc = p->tok.loc;
        uint64_t n = 0;
        if (!advance(p) || !expect_punct(p, '['))
                return false;
        if (is_punct(p, '*')) {
                if (!advance(p) || !expect_punct(p, ':'))
                        return false;
        }
        if (!constant(p, &n) || !expect_punct(p, ']'))
                return false;
        if (n < 1 || n > 65536 - 48)
                return unsupported(loc, "a c_string of 0 bytes or more than a message holds");
        MigType *t = mig_alloc(sizeof(*t));
        t->loc = loc;
        t->shape = SHAPE_STRING;
        t->wire_in = t->wire_out = W_STRING;
        t->elem_size = 1;
        t->count = (uint32_t)n;
        t->default_ctype = "char *";
        *out = t;
        return true;
}

/* ( IPC [, IPC] [, BITS] ): the long form. */
static bool tuple_spec(Parser *p, MigType **out) {
        Loc loc = p->tok.loc;
        char *in_name, *out_name = NULL;
        uint64_t bits = 0;
        if (!advance(p) || !ident(p, "a MACH_MSG_TYPE_* name", &in_name, NULL))
                return false;
        while (is_punct(p, ',')) {
                if (!advance(p))
                        return false;
                if (p->tok.kind == TOK_IDENT &&
                    (strcasecmp(p->tok.text, "dealloc") == 0 || strcasecmp(p->tok.text, "notdealloc") == 0 ||
                     strcasecmp(p->tok.text, "servercopy") == 0)) {
                        char what[96];
                        snprintf(what, sizeof(what), "%s in a type (put it on the argument)", p->tok.text);
                        return unsupported(p->tok.loc, what);
                }
                if (p->tok.kind == TOK_IDENT && !out_name && !bits) {
                        out_name = p->tok.text;
                        if (!advance(p))
                                return false;
                } else if (!constant(p, &bits)) {
                        return false;
                }
        }
        if (!expect_punct(p, ')'))
                return false;
        MigType *t = types_builtin_ipc(in_name);
        if (!t) {
                mig_error(loc, "unknown message type %s", in_name);
                return false;
        }
        if (out_name) {
                MigType *o = types_builtin_ipc(out_name);
                if (!o) {
                        mig_error(loc, "unknown message type %s", out_name);
                        return false;
                }
                if (o->port != t->port)
                        return unsupported(loc, "a type that is a port one way and data the other");
                t->wire_out = o->wire_out;
        }
        if (bits) {
                if (t->shape == SHAPE_STRING) {
                        /* (MACH_MSG_TYPE_STRING_C, 8 * N): a string of N bytes. */
                        if (bits % 8 || bits / 8 < 1 || bits / 8 > 65536 - 48)
                                return unsupported(loc, "a string whose size is not a whole number of bytes");
                        t->count = (uint32_t)(bits / 8);
                        t->default_ctype = "char *";
                } else if (bits == 8ull * t->elem_size) {
                        ;       /* the size it has anyway */
                } else if (!t->port && bits % (8ull * t->elem_size) == 0 && bits / (8ull * t->elem_size) <= 65536) {
                        /* Several elements: an inline array of fixed size. */
                        MigType *e = copy_type(t);
                        t->shape = SHAPE_FIXED;
                        t->elem = e;
                        t->count = (uint32_t)(bits / (8ull * t->elem_size));
                } else {
                        return unsupported(loc, "a size this message type cannot have");
                }
        }
        t->loc = loc;
        *out = t;
        return true;
}

static bool typespec_primary(Parser *p, MigType **out);

/* A type, maybe as IN|OUT: what the sender names, and what the receiver finds. */
bool typespec(Parser *p, MigType **out) {
        if (!typespec_primary(p, out))
                return false;
        if (!is_punct(p, '|'))
                return true;
        Loc loc = p->tok.loc;
        MigType *o;
        if (!advance(p) || !typespec_primary(p, &o))
                return false;
        MigType *t = copy_type(*out);
        if (t->shape != SHAPE_SCALAR || o->shape != SHAPE_SCALAR || t->port != o->port)
                return unsupported(loc, "IN|OUT types other than two single ports, or two single data types");
        t->wire_out = o->wire_out;
        t->poly_out = o->poly_out;
        t->loc = loc;
        *out = t;
        return true;
}

static bool typespec_primary(Parser *p, MigType **out) {
        Loc loc = p->tok.loc;
        if (is_punct(p, '^')) {
                if (!advance(p))
                        return false;
                if (!is_kw(p, "array"))
                        return unsupported(loc, "'^' before anything but array");
                return array_spec(p, true, out);
        }
        if (is_punct(p, '('))
                return tuple_spec(p, out);
        if (p->tok.kind != TOK_IDENT)
                return expected(p, "a type");
        if (is_kw(p, "array"))
                return array_spec(p, false, out);
        if (is_kw(p, "struct"))
                return struct_spec(p, out);
        if (is_kw(p, "c_string"))
                return string_spec(p, out);
        if (is_kw(p, "polymorphic")) {
                *out = types_builtin_ipc("MACH_MSG_TYPE_POLYMORPHIC");
                (*out)->loc = loc;
                return advance(p);
        }
        MigType *t = types_lookup(p->f, p->tok.text);
        if (!t) {
                t = types_builtin_ipc(p->tok.text);
                if (!t) {
                        if (strncasecmp(p->tok.text, "MACH_MSG_TYPE_", 14) == 0)
                                return unsupported(loc, p->tok.text);
                        undefined_type(p, loc, p->tok.text);
                        return false;
                }
                t->loc = loc;
        }
        *out = t;
        return advance(p);
}

/* A C type after ctype: and the like: an identifier, maybe with '*'s. */
static bool ctype_name(Parser *p, char **out) {
        char *name;
        if (!ident(p, "a C type name", &name, NULL))
                return false;
        size_t stars = 0;
        while (is_punct(p, '*')) {
                stars++;
                if (!advance(p))
                        return false;
        }
        char *s = mig_alloc(strlen(name) + stars + 2);
        strcpy(s, name);
        if (stars) {
                strcat(s, " ");
                for (size_t i = 0; i < stars; i++)
                        strcat(s, "*");
        }
        *out = s;
        return true;
}

/* RESULT FN ( ARG ), as intran: and outtran: have it: intran's RESULT and
 * outtran's ARG are the type the server's function sees. */
static bool translation(Parser *p, char **result, char **fn, char **arg) {
        return ctype_name(p, result) && ident(p, "a function name", fn, NULL) && expect_punct(p, '(') &&
               ctype_name(p, arg) && expect_punct(p, ')');
}

bool annotations(Parser *p, MigType *t) {
        for (;;) {
                Loc loc = p->tok.loc;
                if (p->tok.kind != TOK_IDENT)
                        return true;
                const char *kw = p->tok.text;
                char *arg;
                if (strcasecmp(kw, "ctype") == 0 || strcasecmp(kw, "cusertype") == 0 ||
                    strcasecmp(kw, "cservertype") == 0) {
                        char *which = kw[1] == 'u' || kw[1] == 'U' ? "u" : kw[1] == 's' || kw[1] == 'S' ? "s" : "";
                        if (!advance(p) || !expect_punct(p, ':') || !ctype_name(p, &arg))
                                return false;
                        if (*which == 'u')
                                t->cusertype = arg;
                        else if (*which == 's')
                                t->cservertype = arg;
                        else
                                t->ctype = arg;
                } else if (strcasecmp(kw, "intran") == 0) {
                        if (!advance(p) || !expect_punct(p, ':') ||
                            !translation(p, &t->intran_type, &t->intran_fn, &arg))
                                return false;
                } else if (strcasecmp(kw, "outtran") == 0) {
                        if (!advance(p) || !expect_punct(p, ':') ||
                            !translation(p, &arg, &t->outtran_fn, &t->outtran_type))
                                return false;
                } else if (strcasecmp(kw, "destructor") == 0) {
                        if (!advance(p) || !expect_punct(p, ':') ||
                            !ident(p, "a function name", &t->destructor_fn, NULL) || !expect_punct(p, '(') ||
                            !ctype_name(p, &arg) || !expect_punct(p, ')'))
                                return false;
                } else if (strcasecmp(kw, "intranpayload") == 0) {
                        char *ptype, *fn;
                        if (!advance(p) || !expect_punct(p, ':') || !ctype_name(p, &ptype) ||
                            !ident(p, "a function name", &fn, NULL))
                                return false;
                        defer(t, loc, "intranpayload (protected payloads)");
                } else {
                        return true;
                }
                if ((t->intran_fn || t->outtran_fn || t->destructor_fn) && t->shape != SHAPE_SCALAR)
                        return unsupported(loc, "intran, outtran or destructor on anything but a single value");
        }
}

bool type_decl(Parser *p) {
        char *name;
        Loc loc;
        MigType *spec;
        if (!advance(p) || !ident(p, "a type name", &name, &loc) || !expect_punct(p, '=') || !typespec(p, &spec))
                return false;
        MigType *t = copy_type(spec);
        t->name = name;
        t->loc = loc;
        /* A new name is a new C type, unless a ctype says otherwise. */
        t->ctype = t->cusertype = t->cservertype = NULL;
        t->intran_type = t->intran_fn = t->outtran_type = t->outtran_fn = t->destructor_fn = NULL;
        if (!annotations(p, t) || !expect_punct(p, ';'))
                return false;
        types_add(p->f, t);
        return true;
}

