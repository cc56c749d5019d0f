/* SPDX-License-Identifier: MIT */
/*
 * emit-server.c - the server side: NAMEServer.h (the functions the server
 * writes, the demux) and NAMEServer.c (for each routine, a function that
 * checks every item of the request before touching it, calls the server's
 * function, and builds the reply; the demux and its routine table)
 */

#include <stdarg.h>
#include <string.h>
#include "emit.h"

static void decl(Out *o, const MigFile *f, const MigRoutine *r) {
        out(o, "/* %s %s: request id %u */\nkern_return_t %s", r->simple ? "SimpleRoutine" : "Routine", r->name,
            f->base + r->index, server_fn(f, r));
        server_params(o, r);
}

bool emit_server_header(const MigFile *f, const char *path) {
        Out o;
        if (!out_open(&o, path))
                return false;
        const char *demux = demux_fn(f);
        header_begin(&o, f, "Server interface", "server", true);
        out(&o, "/* Requests and replies are at most this many bytes: the size for machipc_msg_server(). */\n"
                "#define %s_MSG_SIZE_MAX %u\n#define %s_MSG_ID_BASE %u\n#define %s_MSG_IDS %u\n\n",
            f->name, subsystem_max(f), f->name, f->base, f->name, f->n_ids);
        out(&o, "/* Serve one request: true if it was one of ours.  @out needs %s_MSG_SIZE_MAX bytes. */\n"
                "boolean_t %s(msg_header_t *InHeadP, msg_header_t *OutHeadP);\n"
                "/* The routine for a request, or NULL. */\n"
                "mig_routine_t %s_routine(const msg_header_t *InHeadP);\n"
                "extern const mig_routine_t %s_routines[%u];\n\n",
            f->name, demux, demux, demux, f->n_ids ? f->n_ids : 1);
        out(&o, "/* What the server implements: */\n\n");
        for (int i = 0; i < f->n_routines; i++) {
                decl(&o, f, &f->routines[i]);
                out(&o, ";\n\n");
        }
        header_end(&o);
        return out_close(&o);
}

/* An in port array: its rights arrive inline, the server gets a copy of the names. */
static bool port_array_in(const MigArg *a) {
        return (a->kind == ARG_IN || a->kind == ARG_INOUT) && a->type->shape == SHAPE_OOL && a->type->port;
}


/* Declare and fill the local that holds one argument, from the request. */
static void unpack(Out *o, const MigArg *a) {
        const MigType *t = a->type;
        const char *n = a->name, *w = t->port ? wire_name(t->wire_out) : wire_name(t->wire_in);
        const char *c = type_c_server(t), *e = type_c_elem(t);
        switch (a->kind) {
        case ARG_REQUESTPORT:
                if (t->intran_fn)
                        out(o, "\t%s %s;\n", t->intran_type, n);      /* translated once all is checked */
                else
                        out(o, "\t%s %s = InHeadP->msg_local_port;\n", c, n);
                return;
        case ARG_REPLYPORT:
        case ARG_SREPLYPORT:
                if (t->intran_fn)
                        out(o, "\t%s %s;\n", t->intran_type, n);
                else
                        out(o, "\t%s %s = InHeadP->msg_remote_port;\n", c, n);
                return;
        case ARG_MSGSEQNO:
                out(o, "\t%s %s = InHeadP->msg_seqno;\n", c, n);
                return;
        case ARG_UREPLYPORT:
        case ARG_WAITTIME:
        case ARG_MSGOPTION:
                return;
        case ARG_OUT:
                break;
        case ARG_IN:
        case ARG_INOUT:
                break;
        }
        if (a->kind == ARG_OUT) {
                /* Room for what the server puts there. */
                switch (t->shape) {
                case SHAPE_SCALAR:
                        out(o, "\t%s %s;\n\tmemset(&%s, 0, sizeof(%s));\n", server_value_type(a), n, n, n);
                        if (poly_sender(t))
                                out(o, "\tmach_msg_type_name_t %sPoly = MSG_TYPE_COPY_SEND;\n", n);
                        break;
                case SHAPE_FIXED:
                        if (t->is_struct)
                                out(o, "\t%s %s;\n\tmemset(&%s, 0, sizeof(%s));\n", c, n, n, n);
                        else
                                out(o, "\t%s %s[%u];\n\tmemset(%s, 0, sizeof(%s));\n", e, n, t->count, n, n);
                        break;
                case SHAPE_VAR:
                        out(o, "\t%s %s[%u];\n\tmach_msg_type_number_t %sCnt = %u;\n", e, n, var_max(t) / group(t),
                            n, var_max(t) / group(t));
                        break;
                case SHAPE_STRING:
                        out(o, "\tchar %s[%u];\n\t%s[0] = 0;\n", n, t->count, n);
                        break;
                case SHAPE_OOL:
                        out(o, "\t%s %s;\n\tmemset(&%s, 0, sizeof(%s));\n\tmach_msg_type_number_t %sCnt = 0;\n", c,
                            n, n, n, n);
                        break;
                }
                if (a->countinout) {
                        out(o, "\t{\n\t\tuint32_t migCap;\n\t\tconst uint8_t *migD = mig_get(&migP, migEnd, MSG_TYPE_INTEGER_32, 1, 1, 4, "
                               "NULL, NULL);\n\t\tif (!migD)\n\t\t\tgoto bad;\n\t\tmemcpy(&migCap, migD, 4);\n");
                        if (t->shape == SHAPE_VAR)
                                out(o, "\t\tif (migCap < %sCnt)\n\t\t\t%sCnt = migCap;\n", n, n);
                        else
                                out(o, "\t\t%sCnt = migCap;\n", n);
                        out(o, "\t}\n");
                }
                return;
        }
        /* In (or inout): check the item, then take it. */
        switch (t->shape) {
        case SHAPE_SCALAR:
                if (poly_receiver(t)) {
                        out(o, "\tmach_port_t %s;\n\tmach_msg_type_name_t %sPoly;\n\t{\n\t\tunsigned migKind;\n"
                               "\t\tconst uint8_t *migD = mig_get(&migP, migEnd, 0, 1, 1, 4, NULL, &migKind);\n"
                               "\t\tif (!migD)\n\t\t\tgoto bad;\n\t\tmemcpy(&%s, migD, 4);\n\t\t%sPoly = migKind;\n\t}\n",
                            n, n, n, n);
                } else {
                        const char *raw = t->intran_fn ? "Raw" : "";
                        out(o, "\t%s %s%s;\n\t{\n\t\tconst uint8_t *migD = mig_get(&migP, migEnd, %s, 1, 1, %u, NULL, NULL);\n"
                               "\t\tif (!migD)\n\t\t\tgoto bad;\n\t\tmemcpy(&%s%s, migD, %u);\n\t}\n",
                            c, n, raw, w, t->elem_size, n, raw, t->elem_size);
                        if (t->intran_fn)
                                out(o, "\t%s %s;\n", t->intran_type, n);
                }
                break;
        case SHAPE_FIXED:
                out(o, "\tconst uint8_t *%sData = mig_get(&migP, migEnd, %s, %u, %u, %u, NULL, NULL);\n\tif (!%sData)\n"
                       "\t\tgoto bad;\n", n, w, t->count, t->count, t->elem_size, n);
                if (t->is_struct)
                        out(o, "\t%s %s;\n\tmemcpy(&%s, %sData, sizeof(%s));\n", c, n, n, n, n);
                else if (a->kind == ARG_INOUT)
                        out(o, "\t%s %s[%u];\n\tmemcpy(%s, %sData, sizeof(%s));\n", e, n, t->count, n, n, n);
                else
                        out(o, "\t%s *%s = (%s *)(uintptr_t)%sData;\n", e, n, e, n);
                break;
        case SHAPE_VAR:
                out(o, "\tmach_msg_type_number_t %sCnt;\n\tconst uint8_t *%sData = mig_get(&migP, migEnd, %s, 0, %u, %u, "
                       "&%sCnt, NULL);\n", n, n, w, var_max(t), t->elem_size, n);
                if (group(t) > 1)
                        out(o, "\tif (!%sData || %sCnt %% %u)\n\t\tgoto bad;\n\t%sCnt /= %u;\n", n, n, group(t), n,
                            group(t));
                else
                        out(o, "\tif (!%sData)\n\t\tgoto bad;\n", n);
                out(o, "\t%s *%s = (%s *)(uintptr_t)%sData;\n", e, n, e, n);
                break;
        case SHAPE_STRING:
                out(o, "\tuint32_t %sLen;\n\tconst uint8_t *%sData = mig_get(&migP, migEnd, MSG_TYPE_STRING, 1, %u, 1, "
                       "&%sLen, NULL);\n\tif (!%sData || %sData[%sLen - 1] != 0)\n\t\tgoto bad;\n"
                       "\tchar *%s = (char *)(uintptr_t)%sData;\n",
                    n, n, t->count, n, n, n, n, n, n);
                break;
        case SHAPE_OOL:
                if (t->port) {
                        /* Rights came inline; the server function gets them as MIG's would: in memory of
                         * its own, which it vm_deallocate()s. */
                        out(o, "\t%s %s;\n\tmach_msg_type_number_t %sCnt;\n\t{\n\t\tuint32_t migCnt;\n"
                               "\t\tconst uint8_t *migD = mig_get(&migP, migEnd, %s, 0, %u, 4, &migCnt, NULL);\n"
                               "\t\tif (!migD || (migCnt && vm_allocate(PORT_NULL, &%sAddr, (vm_size_t)migCnt * 4, 1) != KERN_SUCCESS))\n"
                               "\t\t\tgoto bad;\n\t\t%sSize = (vm_size_t)migCnt * 4;\n"
                               "\t\tif (migCnt)\n\t\t\tmemcpy((void *)%sAddr, migD, (size_t)migCnt * 4);\n"
                               "\t\t%s = (%s)%sAddr;\n\t\t%sCnt = migCnt;\n\t}\n",
                            c, n, n, w, t->count ? t->count : 1024, n, n, n, n, c, n, n);
                        break;
                }
                out(o, "\t%s %s;\n\tmach_msg_type_number_t %sCnt;\n\t{\n\t\tmsg_ool_t migOol;\n"
                       "\t\tconst uint8_t *migD = mig_get(&migP, migEnd, MSG_TYPE_MEMORY, 1, 1, 16, NULL, NULL);\n"
                       "\t\tif (!migD)\n\t\t\tgoto bad;\n\t\tmemcpy(&migOol, migD, 16);\n\t\tif (migOol.size %% %u",
                    c, n, n, t->elem_size);
                if (t->count)
                        out(o, " || migOol.size / %u > %u", t->elem_size, t->count);
                out(o, ")\n\t\t\tgoto bad;\n\t\t%s = (%s)(uintptr_t)migOol.address;\n"
                       "\t\t%sCnt = (mach_msg_type_number_t)(migOol.size / %u);\n\t}\n",
                    n, c, n, t->elem_size);
                break;
        }
}

/* The server function's arguments, as unpack() left them. */
/* One argument of the call to the server's function, on a line of its own. */
static void call_arg(Out *o, bool *first, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void call_arg(Out *o, bool *first, const char *fmt, ...) {
        va_list ap;
        out(o, "%s\n\t\t", *first ? "" : ",");
        *first = false;
        va_start(ap, fmt);
        vfprintf(o->f, fmt, ap);
        va_end(ap);
}

static void call_args(Out *o, const MigRoutine *r) {
        bool first = true;
        for (int i = 0; i < r->n_args; i++) {
                const MigArg *a = &r->args[i];
                const MigType *t = a->type;
                const char *n = a->name;
                if (a->kind == ARG_UREPLYPORT || a->kind == ARG_WAITTIME || a->kind == ARG_MSGOPTION)
                        continue;
                bool ptr = a->kind == ARG_OUT || a->kind == ARG_INOUT;
                switch (t->shape) {
                case SHAPE_SCALAR:
                        call_arg(o, &first, "%s%s", ptr ? "&" : "", n);
                        if (a->kind == ARG_OUT ? poly_sender(t)
                            : a->kind == ARG_IN ? poly_receiver(t) : false)
                                call_arg(o, &first, "%s%sPoly", ptr ? "&" : "", n);
                        break;
                case SHAPE_FIXED:
                        call_arg(o, &first, "%s%s", ptr && t->is_struct ? "&" : "", n);
                        break;
                case SHAPE_VAR:
                case SHAPE_OOL:
                        call_arg(o, &first, "%s%s", ptr && t->shape == SHAPE_OOL ? "&" : "", n);
                        call_arg(o, &first, "%s%sCnt", ptr ? "&" : "", n);
                        break;
                case SHAPE_STRING:
                        call_arg(o, &first, "%s", n);
                        break;
                }
        }
}

/* Before any is packed: whether an out-argument holds more than its type allows. */
static bool check_out(Out *o, const MigArg *a) {
        const MigType *t = a->type;
        const char *n = a->name;
        switch (t->shape) {
        case SHAPE_VAR:
                out(o, "\tif (%sCnt > %u)\n\t\tgoto too_large;\n", n, var_max(t) / group(t));
                return true;
        case SHAPE_STRING:
                out(o, "\tif (mig_strnlen(%s, %u) >= %u)\n\t\tgoto too_large;\n", n, t->count, t->count);
                return true;
        case SHAPE_OOL:
                if (t->port || t->count) {
                        out(o, "\tif (%sCnt > %u)\n\t\tgoto too_large;\n", n, t->port && !t->count ? 1024 : t->count);
                        return true;
                }
                return false;
        default:
                return false;
        }
}

/* Put one out-argument into the reply at migO (check_out() has been). */
static void pack(Out *o, const MigArg *a) {
        const MigType *t = a->type;
        const char *n = a->name, *w = wire_name(t->wire_in);
        switch (t->shape) {
        case SHAPE_SCALAR:
                if (poly_sender(t)) {
                        out(o, "\tmigO = mig_put(migO, migOend, %sPoly, 0, 1, 4, &%s);\n", n, n);
                } else if (t->outtran_fn && a->kind == ARG_OUT) {
                        out(o, "\t{\n\t\t%s %sWire = %s(%s);\n\t\tmigO = mig_put(migO, migOend, %s, 0, 1, %u, &%sWire);\n\t}\n",
                            type_c_server(t), n, t->outtran_fn, n, w, t->elem_size, n);
                } else {
                        out(o, "\tmigO = mig_put(migO, migOend, %s, 0, 1, %u, &%s);\n", w, t->elem_size, n);
                }
                break;
        case SHAPE_FIXED:
                out(o, "\tmigO = mig_put(migO, migOend, %s, 0, %u, %u, %s%s);\n", w, t->count, t->elem_size,
                    t->is_struct ? "&" : "", n);
                break;
        case SHAPE_VAR:
                out(o, "\tmigO = mig_put(migO, migOend, %s, 0, %sCnt%s, %u, %s);\n", w, n, times(t), t->elem_size, n);
                break;
        case SHAPE_STRING:
                out(o, "\tmigO = mig_put(migO, migOend, MSG_TYPE_STRING, 0, (uint32_t)mig_strnlen(%s, %u) + 1, 1, %s);\n",
                    n, t->count, n);
                break;
        case SHAPE_OOL:
                if (t->port) {
                        out(o, "\tmigO = mig_put(migO, migOend, %s, 0, %sCnt, 4, (const void *)(uintptr_t)(%s));\n", w, n, n);
                        if (a->dealloc)
                                out(o, "\tif (migO && %sCnt)\n\t\tvm_deallocate(PORT_NULL, (vm_address_t)(uintptr_t)(%s), "
                                       "(vm_size_t)%sCnt * 4);\n", n, n, n);
                        break;
                }
                out(o, "\t{\n\t\tmsg_ool_t migOol = { (uint64_t)(uintptr_t)(%s), (uint64_t)%sCnt * %u };\n"
                       "\t\tmigO = mig_put(migO, migOend, MSG_TYPE_MEMORY, %s, 1, 16, &migOol);\n\t}\n",
                    n, n, t->elem_size, a->dealloc ? "MSG_TYPE_FLAG_DEALLOCATE" : "0");
                break;
        }
}

/*
 * One routine's function: check every item of the request, translate, call
 * the server's function, then check and pack what it returned.  Its ends:
 * bad (the request is malformed: MIG_BAD_ARGUMENTS), failed (the server
 * returned an error: it took nothing, the copies made for it go), done (the
 * destructors run), too_large (the server returned more than the types
 * allow: its client gets MIG_ARRAY_TOO_LARGE, the request is the server's).
 */
static void routine(Out *o, const MigFile *f, const MigRoutine *r) {
        out(o, "/* %s %s */\nstatic void _X%s(msg_header_t *InHeadP, msg_header_t *OutHeadP)\n{\n",
            r->simple ? "SimpleRoutine" : "Routine", r->name, r->name);
        out(o, "\tconst uint8_t *migP = (const uint8_t *)InHeadP + sizeof(msg_header_t);\n"
               "\tconst uint8_t *migEnd = (const uint8_t *)InHeadP + InHeadP->msg_size;\n");
        /* Copies of port arrays: the server's once it succeeds, freed here otherwise. */
        bool copies = false, dtors = false;
        for (int i = 0; i < r->n_args; i++) {
                const MigArg *a = &r->args[i];
                if (port_array_in(a)) {
                        out(o, "\tvm_address_t %sAddr = 0;\n\tvm_size_t %sSize = 0;\n", a->name, a->name);
                        copies = true;
                }
                if (a->type->destructor_fn && a->kind != ARG_OUT && a->type->shape == SHAPE_SCALAR)
                        dtors = true;
        }
        for (int i = 0; i < r->n_args; i++)
                unpack(o, &r->args[i]);
        out(o, "\tif (migP != migEnd)\n\t\tgoto bad;\n");
        /* Translations last: nothing after them can fail before the call. */
        for (int i = 0; i < r->n_args; i++) {
                const MigArg *a = &r->args[i];
                const MigType *t = a->type;
                if (!t->intran_fn || t->shape != SHAPE_SCALAR)
                        continue;
                if (a->kind == ARG_REQUESTPORT)
                        out(o, "\t%s = %s(InHeadP->msg_local_port);\n", a->name, t->intran_fn);
                else if (a->kind == ARG_REPLYPORT || a->kind == ARG_SREPLYPORT)
                        out(o, "\t%s = %s(InHeadP->msg_remote_port);\n", a->name, t->intran_fn);
                else if ((a->kind == ARG_IN || a->kind == ARG_INOUT) && !poly_receiver(t))
                        out(o, "\t%s = %s(%sRaw);\n", a->name, t->intran_fn, a->name);
        }
        out(o, "\tkern_return_t migRc = %s(", server_fn(f, r));
        call_args(o, r);
        out(o, ");\n");
        const char *leave = dtors ? "goto done;" : "return;";
        if (r->simple) {
                out(o, "\tmig_set_retcode(OutHeadP, migRc == KERN_SUCCESS ? MIG_NO_REPLY : migRc);\n");
                if (copies)
                        out(o, "\tif (migRc != KERN_SUCCESS && migRc != MIG_NO_REPLY)\n\t\tgoto failed;\n");
                out(o, "\t%s\n", leave);
        } else {
                out(o, "\tmig_set_retcode(OutHeadP, migRc);\n\tif (migRc != KERN_SUCCESS) {\n");
                if (copies)
                        out(o, "\t\tif (migRc != MIG_NO_REPLY)\n\t\t\tgoto failed;\n");
                out(o, "\t\t%s\n\t}\n", leave);
                for (int i = 0; i < r->n_args; i++)
                        if (in_reply(&r->args[i]))
                                check_out(o, &r->args[i]);
                out(o, "\tuint8_t *migO = (uint8_t *)OutHeadP + MIG_REPLY_BODY, *migOend = (uint8_t *)OutHeadP + "
                       "%s_MSG_SIZE_MAX;\n\t(void)migOend;\n", f->name);
                for (int i = 0; i < r->n_args; i++)
                        if (in_reply(&r->args[i]))
                                pack(o, &r->args[i]);
                out(o, "\tif (!migO)\n\t\tgoto too_large;\n");
                out(o, "\tOutHeadP->msg_size = (msg_size_t)(migO - (uint8_t *)OutHeadP);\n\t%s\n", leave);
                out(o, "too_large:\n\tInHeadP->msg_size = sizeof(msg_header_t);\t/* what it held is the server's */\n"
                       "\tmig_set_retcode(OutHeadP, MIG_ARRAY_TOO_LARGE);\n\t%s\n", leave);
        }
        if (copies) {
                out(o, "failed:\n");
                for (int i = 0; i < r->n_args; i++)
                        if (port_array_in(&r->args[i]))
                                out(o, "\tif (%sAddr)\n\t\tvm_deallocate(PORT_NULL, %sAddr, %sSize);\n",
                                    r->args[i].name, r->args[i].name, r->args[i].name);
                if (!dtors)
                        out(o, "\treturn;\n");
        }
        if (dtors) {
                out(o, "done:\n");
                for (int i = 0; i < r->n_args; i++) {
                        const MigArg *a = &r->args[i];
                        if (a->type->destructor_fn && a->kind != ARG_OUT && a->type->shape == SHAPE_SCALAR)
                                out(o, "\t%s(%s);\n", a->type->destructor_fn, a->name);
                }
                out(o, "\treturn;\n");
        }
        out(o, "bad:\n\tmig_set_retcode(OutHeadP, MIG_BAD_ARGUMENTS);\n");
        for (int i = 0; copies && i < r->n_args; i++)
                if (port_array_in(&r->args[i]))
                        out(o, "\tif (%sAddr)\n\t\tvm_deallocate(PORT_NULL, %sAddr, %sSize);\n", r->args[i].name,
                            r->args[i].name, r->args[i].name);
        out(o, "}\n\n");
}

bool emit_server(const MigFile *f, const char *path, const char *header) {
        Out o;
        if (!out_open(&o, path))
                return false;
        const char *demux = demux_fn(f);
        out_banner(&o, f, "Server");
        out(&o, "#include \"%s\"\n#include <stdint.h>\n#include <string.h>\n\n", header);
        for (int i = 0; i < f->n_routines; i++)
                routine(&o, f, &f->routines[i]);
        out(&o, "const mig_routine_t %s_routines[%u] = {\n", demux, f->n_ids ? f->n_ids : 1);
        for (uint32_t id = 0; id < f->n_ids; id++) {
                const MigRoutine *r = NULL;
                for (int i = 0; i < f->n_routines; i++)
                        if (f->routines[i].index == id)
                                r = &f->routines[i];
                if (r)
                        out(&o, "\t_X%s,\n", r->name);
                else
                        out(&o, "\t0,\n");
        }
        if (!f->n_ids)
                out(&o, "\t0,\n");
        out(&o, "};\n\n");
        out(&o, "mig_routine_t %s_routine(const msg_header_t *InHeadP)\n{\n"
                "\tint64_t i = (int64_t)InHeadP->msg_id - %u;\n"
                "\tif (i < 0 || i >= %u)\n\t\treturn 0;\n\treturn %s_routines[i];\n}\n\n",
            demux, f->base, f->n_ids, demux);
        out(&o, "boolean_t %s(msg_header_t *InHeadP, msg_header_t *OutHeadP)\n{\n"
                "\tmig_reply_init(InHeadP, OutHeadP);\n"
                "\tmig_routine_t migR = %s_routine(InHeadP);\n"
                "\tif (!migR)\n\t\treturn FALSE;\n\tmigR(InHeadP, OutHeadP);\n\treturn TRUE;\n}\n",
            demux, demux);
        return out_close(&o);
}
