/* SPDX-License-Identifier: MIT */
/*
 * emit.c - what the user and the server sides have in common: names, the
 * items each argument becomes, message sizes, C parameter lists
 */

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "emit.h"

bool out_open(Out *o, const char *path) {
        o->path = path;
        o->f = fopen(path, "w");
        if (!o->f) {
                fprintf(stderr, "machipc-mig: %s: cannot write: %m\n", path);
                return false;
        }
        return true;
}

bool out_close(Out *o) {
        bool ok = !ferror(o->f);
        if (fclose(o->f) != 0)
                ok = false;
        if (!ok)
                fprintf(stderr, "machipc-mig: %s: write error\n", o->path);
        return ok;
}

void out(Out *o, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        vfprintf(o->f, fmt, ap);
        va_end(ap);
}

void out_banner(Out *o, const MigFile *f, const char *what) {
        out(o, "/*\n * %s for subsystem %s (ids %u ... %u), written by machipc-mig %s.\n"
               " * Do not edit: edit the .defs file and generate it again.\n */\n\n",
            what, f->name, f->base, f->base + (f->n_ids ? f->n_ids - 1 : 0), MACHIPC_VERSION);
}

const char *wire_name(int w) {
        switch (w) {
        case W_BYTE: return "MSG_TYPE_BYTE";
        case W_INTEGER_16: return "MSG_TYPE_INTEGER_16";
        case W_INTEGER_32: return "MSG_TYPE_INTEGER_32";
        case W_INTEGER_64: return "MSG_TYPE_INTEGER_64";
        case W_CHAR: return "MSG_TYPE_CHAR";
        case W_REAL_64: return "MSG_TYPE_REAL_64";
        case W_STRING: return "MSG_TYPE_STRING";
        case W_MOVE_RECEIVE: return "MSG_TYPE_MOVE_RECEIVE";
        case W_MOVE_SEND: return "MSG_TYPE_MOVE_SEND";
        case W_MOVE_SEND_ONCE: return "MSG_TYPE_MOVE_SEND_ONCE";
        case W_COPY_SEND: return "MSG_TYPE_COPY_SEND";
        case W_MAKE_SEND: return "MSG_TYPE_MAKE_SEND";
        case W_MAKE_SEND_ONCE: return "MSG_TYPE_MAKE_SEND_ONCE";
        case W_MEMORY: return "MSG_TYPE_MEMORY";
        default: return "0";
        }
}

char *user_fn(const MigFile *f, const MigRoutine *r) {
        size_t n = strlen(r->name) + (f->user_prefix ? strlen(f->user_prefix) : 0) + 1;
        char *s = mig_alloc(n);
        snprintf(s, n, "%s%s", f->user_prefix ? f->user_prefix : "", r->name);
        return s;
}

char *server_fn(const MigFile *f, const MigRoutine *r) {
        size_t n = strlen(r->name) + (f->server_prefix ? strlen(f->server_prefix) : 0) + 1;
        char *s = mig_alloc(n);
        snprintf(s, n, "%s%s", f->server_prefix ? f->server_prefix : "", r->name);
        return s;
}

char *demux_fn(const MigFile *f) {
        if (f->server_demux)
                return f->server_demux;
        size_t n = strlen(f->name) + 8;
        char *s = mig_alloc(n);
        snprintf(s, n, "%s_server", f->name);
        return s;
}

/* Does the argument travel in the request (as an item)? */
bool in_request(const MigArg *a) {
        return a->kind == ARG_IN || a->kind == ARG_INOUT || (a->kind == ARG_OUT && a->countinout);
}

/* Does it travel in the reply? */
bool in_reply(const MigArg *a) {
        return a->kind == ARG_OUT || a->kind == ARG_INOUT;
}

/* Most elements of an inline variable array; an unbounded one holds what a message can. */
uint32_t var_max(const MigType *t) {
        if (t->count)
                return t->count;
        uint32_t room = (65536 - 24 - 16 - 8) / (t->elem_size ? t->elem_size : 1);
        return room;
}

static uint64_t msg_bytes(const MigRoutine *r, bool reply) {
        uint64_t n = 24 + (reply ? 16 : 0);
        for (int i = 0; i < r->n_args; i++) {
                const MigArg *a = &r->args[i];
                if (reply ? in_reply(a) : in_request(a)) {
                        if (!reply && a->kind == ARG_OUT)
                                n += 16;        /* countinout: the capacity */
                        else
                                n += type_max_bytes(a->type);
                }
        }
        return n;
}

uint32_t request_max(const MigRoutine *r) {
        uint64_t n = msg_bytes(r, false);
        return n > 65536 ? 65536 : (uint32_t)n;
}

uint32_t reply_max(const MigRoutine *r) {
        if (r->simple)
                return 0;
        uint64_t n = msg_bytes(r, true);
        return n > 65536 ? 65536 : (uint32_t)n;
}

uint32_t subsystem_max(const MigFile *f) {
        uint32_t m = 24 + 16;
        for (int i = 0; i < f->n_routines; i++) {
                uint32_t a = request_max(&f->routines[i]), b = reply_max(&f->routines[i]);
                if (a > m)
                        m = a;
                if (b > m)
                        m = b;
        }
        return (m + 7) & ~7u;
}

/* A routine whose messages could not fit in one, at most: say so, by name. */
bool check_sizes(const MigFile *f) {
        bool ok = true;
        for (int i = 0; i < f->n_routines; i++) {
                const MigRoutine *r = &f->routines[i];
                uint64_t q = msg_bytes(r, false), p = r->simple ? 0 : msg_bytes(r, true);
                bool unbounded = false;
                for (int j = 0; j < r->n_args; j++)
                        if ((r->args[j].type->shape == SHAPE_VAR) && !r->args[j].type->count)
                                unbounded = true;
                if (!unbounded && (q > 65536 || p > 65536)) {
                        mig_error(r->loc, "routine %s: its %s can be %llu bytes, more than a message holds "
                                          "(65,536): send large arrays out of line (^array)",
                                  r->name, q > 65536 ? "request" : "reply",
                                  (unsigned long long)(q > 65536 ? q : p));
                        ok = false;
                }
        }
        return ok;
}

/* The disposition of a header port argument when sent (request or reply port). */
int header_disposition(const MigArg *a, int dflt) {
        return a ? a->type->wire_in : dflt;
}

const MigArg *find_arg(const MigRoutine *r, ArgKind k1, ArgKind k2) {
        for (int i = 0; i < r->n_args; i++)
                if (r->args[i].kind == k1 || r->args[i].kind == k2)
                        return &r->args[i];
        return NULL;
}

/* Write a parameter list: @sep before each but the first. */
void param(Out *o, bool *first, const char *fmt, ...) {
        va_list ap;
        out(o, "%s\n\t", *first ? "" : ",");
        *first = false;
        va_start(ap, fmt);
        vfprintf(o->f, fmt, ap);
        va_end(ap);
}

/* The C type the server's function sees for @a's value (after intran, before outtran). */
const char *server_value_type(const MigArg *a) {
        const MigType *t = a->type;
        if (a->kind == ARG_OUT && t->outtran_type)
                return t->outtran_type;
        if (a->kind != ARG_OUT && t->intran_type)
                return t->intran_type;
        return type_c_server(t);
}

/*
 * The parameters of @r as the user's stub (@server false) or the server's
 * function (@server true) takes them.  A polymorphic right comes with its
 * disposition from the side that sends it, its kind to the side that gets it.
 */
static void params(Out *o, const MigRoutine *r, bool server) {
        bool first = true;
        out(o, "(");
        for (int i = 0; i < r->n_args; i++) {
                const MigArg *a = &r->args[i];
                const MigType *t = a->type;
                const char *c = server ? server_value_type(a) : type_c_user(t), *n = a->name;
                bool in = a->kind == ARG_IN;
                bool poly = in == server ? poly_receiver(t) : poly_sender(t);
                switch (a->kind) {
                case ARG_REQUESTPORT:
                case ARG_REPLYPORT:
                        param(o, &first, "%s %s", c, n);
                        if (!server && a->kind == ARG_REQUESTPORT && poly_sender(t))
                                param(o, &first, "mach_msg_type_name_t %sPoly", n);
                        break;
                case ARG_UREPLYPORT:
                case ARG_WAITTIME:
                case ARG_MSGOPTION:
                        if (!server)
                                param(o, &first, "%s %s", c, n);
                        break;
                case ARG_SREPLYPORT:
                case ARG_MSGSEQNO:
                        if (server)
                                param(o, &first, "%s %s", c, n);
                        break;
                case ARG_IN:
                case ARG_OUT:
                case ARG_INOUT:
                        switch (t->shape) {
                        case SHAPE_SCALAR:
                                param(o, &first, in ? "%s %s" : "%s *%s", c, n);
                                if (poly)
                                        param(o, &first, in ? "mach_msg_type_name_t %sPoly" : "mach_msg_type_name_t *%sPoly",
                                              n);
                                break;
                        case SHAPE_FIXED:
                                /* An array type is passed as a pointer anyway; a struct by value in, by address out. */
                                if (t->is_struct)
                                        param(o, &first, in ? "%s %s" : "%s *%s", c, n);
                                else
                                        param(o, &first, in && !server ? "const %s %s" : "%s %s", c, n);
                                break;
                        case SHAPE_VAR:
                                param(o, &first, in && !server ? "const %s %s" : "%s %s", c, n);
                                param(o, &first, in ? "mach_msg_type_number_t %sCnt" : "mach_msg_type_number_t *%sCnt", n);
                                break;
                        case SHAPE_STRING:
                                if (server && t->name)
                                        param(o, &first, "%s %s", c, n);
                                else
                                        param(o, &first, in && !server ? "const char *%s" : "char *%s", n);
                                break;
                        case SHAPE_OOL:
                                param(o, &first, in ? "%s %s" : "%s *%s", c, n);
                                param(o, &first, in ? "mach_msg_type_number_t %sCnt" : "mach_msg_type_number_t *%sCnt", n);
                                break;
                        }
                        break;
                }
        }
        out(o, first ? "void)" : "\n)");
}

void user_params(Out *o, const MigRoutine *r) {
        params(o, r, false);
}

void server_params(Out *o, const MigRoutine *r) {
        params(o, r, true);
}

/* The imports of one side, in order. */
void emit_imports(Out *o, const MigFile *f, bool server) {
        for (int i = 0; i < f->n_imports; i++) {
                const MigImport *im = &f->imports[i];
                if (im->kind == IMPORT_BOTH || (server ? im->kind == IMPORT_SERVER : im->kind == IMPORT_USER))
                        out(o, "#include %s\n", im->text);
        }
}

/* Bytes of one element as the C value holds it: a check the compiler makes. */
void emit_size_check(Out *o, const char *ctype, uint32_t bytes, const char *what) {
        out(o, "_Static_assert(sizeof(%s) == %u, \"%s: expected %s to be %u bytes\");\n", ctype, bytes, what, ctype,
            bytes);
}

/* Wire elements per C element of an inline array (an array of struct[N]: N). */
uint32_t group(const MigType *t) {
        return t->group ? t->group : 1;
}

/* " * N" after a count, where a C element is more than one on the wire. */
const char *times(const MigType *t) {
        static char buf[24];
        if (group(t) <= 1)
                return "";
        snprintf(buf, sizeof(buf), " * %u", group(t));
        return buf;
}

/* A header's start: banner, guard, what it includes, extern "C". */
void header_begin(Out *o, const MigFile *f, const char *what, const char *guard, bool server) {
        out_banner(o, f, what);
        out(o, "#ifndef _%s_%s_h\n#define _%s_%s_h\n\n#include <machipc/mig.h>\n", f->name, guard, f->name, guard);
        emit_imports(o, f, server);
        out(o, "\n#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n");
}

void header_end(Out *o) {
        out(o, "#ifdef __cplusplus\n}\n#endif\n\n#endif\n");
}
