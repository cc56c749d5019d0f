/* SPDX-License-Identifier: MIT */
/*
 * emit-user.c - the user side: NAME.h (the stubs' declarations) and
 * NAMEUser.c (the stubs: each packs its request, makes one msg_rpc() or
 * msg_send(), and checks every item of the reply before touching it)
 */

#include <string.h>
#include "emit.h"

static void decl(Out *o, const MigFile *f, const MigRoutine *r) {
        out(o, "/* %s %s: request id %u%s */\nkern_return_t %s", r->simple ? "SimpleRoutine" : "Routine", r->name,
            f->base + r->index, r->simple ? ", no reply" : "", user_fn(f, r));
        user_params(o, r);
}

bool emit_header(const MigFile *f, const char *path) {
        Out o;
        if (!out_open(&o, path))
                return false;
        header_begin(&o, f, "User interface", "user", false);
        out(&o, "#define %s_MSG_ID_BASE %u\n\n", f->name, f->base);
        for (int i = 0; i < f->n_routines; i++) {
                decl(&o, f, &f->routines[i]);
                out(&o, ";\n\n");
        }
        header_end(&o);
        return out_close(&o);
}

/* An out port array: its rights arrive inline, the caller gets a copy of the names. */
static bool port_array_out(const MigArg *a) {
        return (a->kind == ARG_OUT || a->kind == ARG_INOUT) && a->type->shape == SHAPE_OOL && a->type->port;
}


/* Pack one argument of the request at p. */
static void pack(Out *o, const MigArg *a) {
        const MigType *t = a->type;
        const char *n = a->name, *w = wire_name(t->wire_in);
        if (a->kind == ARG_OUT) {
                /* countinout: the caller's capacity goes to the server. */
                out(o, "\t{\n\t\tuint32_t migCnt = *%sCnt;\n", n);
                out(o, "\t\tif (!(migP = mig_put(migP, migEnd, MSG_TYPE_INTEGER_32, 0, 1, 4, &migCnt)))\n"
                       "\t\t\treturn MIG_ARRAY_TOO_LARGE;\n\t}\n");
                return;
        }
        const char *ref = a->kind == ARG_INOUT ? "" : "&";
        switch (t->shape) {
        case SHAPE_SCALAR:
                if (poly_sender(t)) {
                        out(o, "\tif (!(migP = mig_put(migP, migEnd, %sPoly, 0, 1, 4, &%s)))\n", n, n);
                } else {
                        out(o, "\t");
                        emit_size_check(o, type_c_user(t), t->elem_size, n);
                        out(o, "\tif (!(migP = mig_put(migP, migEnd, %s, 0, 1, %u, %s%s)))\n", w, t->elem_size, ref, n);
                }
                break;
        case SHAPE_FIXED:
                out(o, "\tif (!(migP = mig_put(migP, migEnd, %s, 0, %u, %u, %s%s)))\n", w, t->count, t->elem_size,
                    t->is_struct && a->kind != ARG_INOUT ? "&" : "", n);
                break;
        case SHAPE_VAR:
                out(o, "\tif (%sCnt > %u)\n\t\treturn MIG_ARRAY_TOO_LARGE;\n", n, var_max(t) / group(t));
                out(o, "\tif (!(migP = mig_put(migP, migEnd, %s, 0, %sCnt%s, %u, %s)))\n", w, n, times(t),
                    t->elem_size, n);
                break;
        case SHAPE_STRING:
                out(o, "\tsize_t %sLen = mig_strnlen(%s, %u);\n\tif (%sLen >= %u)\n\t\treturn MIG_ARRAY_TOO_LARGE;\n",
                    n, n, t->count, n, t->count);
                out(o, "\tif (!(migP = mig_put(migP, migEnd, MSG_TYPE_STRING, 0, (uint32_t)%sLen + 1, 1, %s)))\n", n, n);
                break;
        case SHAPE_OOL:
                if (t->port) {
                        /* Rights travel inline (up to 1,024 in a message); the C side is MIG's. */
                        out(o, "\tif (%sCnt > %u)\n\t\treturn MIG_ARRAY_TOO_LARGE;\n", n, t->count ? t->count : 1024);
                        out(o, "\tif (!(migP = mig_put(migP, migEnd, %s, 0, %sCnt, 4, (const void *)(uintptr_t)(%s))))\n", w, n, n);
                        break;
                }
                if (t->count)
                        out(o, "\tif (%sCnt > %u)\n\t\treturn MIG_ARRAY_TOO_LARGE;\n", n, t->count);
                out(o, "\tmsg_ool_t %sOol = { (uint64_t)(uintptr_t)(%s), (uint64_t)%sCnt * %u };\n", n, n, n,
                    t->elem_size);
                out(o, "\tif (!(migP = mig_put(migP, migEnd, MSG_TYPE_MEMORY, %s, 1, 16, &%sOol)))\n",
                    a->dealloc ? "MSG_TYPE_FLAG_DEALLOCATE" : "0", n);
                break;
        }
        out(o, "\t\treturn MIG_ARRAY_TOO_LARGE;\n");
}

/* Check and copy one out-argument of the reply at q. */
static void unpack(Out *o, const MigArg *a) {
        const MigType *t = a->type;
        const char *n = a->name, *w = t->port ? wire_name(t->wire_out) : wire_name(t->wire_in);
        out(o, "\t{\n");
        switch (t->shape) {
        case SHAPE_SCALAR:
                if (poly_receiver(t)) {
                        out(o, "\t\tunsigned migKind;\n\t\tconst uint8_t *migD = mig_get(&migQ, migQend, 0, 1, 1, 4, NULL, &migKind);\n"
                               "\t\tif (!migD)\n\t\t\tgoto bad;\n\t\tmemcpy(%s, migD, 4);\n\t\t*%sPoly = migKind;\n", n, n);
                } else {
                        out(o, "\t\tconst uint8_t *migD = mig_get(&migQ, migQend, %s, 1, 1, %u, NULL, NULL);\n"
                               "\t\tif (!migD)\n\t\t\tgoto bad;\n\t\tmemcpy(%s, migD, %u);\n",
                            w, t->elem_size, n, t->elem_size);
                }
                break;
        case SHAPE_FIXED:
                out(o, "\t\tconst uint8_t *migD = mig_get(&migQ, migQend, %s, %u, %u, %u, NULL, NULL);\n"
                       "\t\tif (!migD)\n\t\t\tgoto bad;\n\t\tmemcpy(%s, migD, %u);\n",
                    w, t->count, t->count, t->elem_size, n, t->count * t->elem_size);
                break;
        case SHAPE_VAR: {
                uint32_t elem = t->elem_size * group(t);
                out(o, "\t\tuint32_t migCnt;\n\t\tconst uint8_t *migD = mig_get(&migQ, migQend, %s, 0, %u, %u, &migCnt, NULL);\n",
                    w, var_max(t), t->elem_size);
                if (group(t) > 1)
                        out(o, "\t\tif (!migD || migCnt %% %u)\n\t\t\tgoto bad;\n\t\tmigCnt /= %u;\n", group(t), group(t));
                else
                        out(o, "\t\tif (!migD)\n\t\t\tgoto bad;\n");
                out(o, "\t\tif (migCnt > *%sCnt) {\n\t\t\tmemcpy(%s, migD, (size_t)*%sCnt * %u);\n"
                       "\t\t\tmigRc = MIG_ARRAY_TOO_LARGE;\n\t\t} else {\n\t\t\tmemcpy(%s, migD, (size_t)migCnt * %u);\n\t\t}\n"
                       "\t\t*%sCnt = migCnt;\n",
                    n, n, n, elem, n, elem, n);
                break;
        }
        case SHAPE_STRING:
                out(o, "\t\tuint32_t migCnt;\n\t\tconst uint8_t *migD = mig_get(&migQ, migQend, MSG_TYPE_STRING, 1, %u, 1, &migCnt, NULL);\n"
                       "\t\tif (!migD || migD[migCnt - 1] != 0)\n\t\t\tgoto bad;\n\t\tmemcpy(%s, migD, migCnt);\n", t->count, n);
                break;
        case SHAPE_OOL:
                if (t->port) {
                        out(o, "\t\tuint32_t migCnt;\n"
                               "\t\tconst uint8_t *migD = mig_get(&migQ, migQend, %s, 0, %u, 4, &migCnt, NULL);\n"
                               "\t\tif (!migD || (migCnt && vm_allocate(PORT_NULL, &%sAddr, (vm_size_t)migCnt * 4, 1) != KERN_SUCCESS))\n"
                               "\t\t\tgoto bad;\n\t\t%sSize = (vm_size_t)migCnt * 4;\n"
                               "\t\tif (migCnt)\n\t\t\tmemcpy((void *)%sAddr, migD, (size_t)migCnt * 4);\n"
                               "\t\t*%s = (%s)%sAddr;\n\t\t*%sCnt = migCnt;\n",
                            w, t->count ? t->count : 1024, n, n, n, n, type_c_user(t), n, n);
                        break;
                }
                out(o, "\t\tmsg_ool_t migOol;\n\t\tconst uint8_t *migD = mig_get(&migQ, migQend, MSG_TYPE_MEMORY, 1, 1, 16, NULL, NULL);\n"
                       "\t\tif (!migD)\n\t\t\tgoto bad;\n\t\tmemcpy(&migOol, migD, 16);\n"
                       "\t\tif (migOol.size %% %u", t->elem_size);
                if (t->count)
                        out(o, " || migOol.size / %u > %u", t->elem_size, t->count);
                out(o, ")\n\t\t\tgoto bad;\n\t\t*%s = (%s)(uintptr_t)migOol.address;\n"
                       "\t\t*%sCnt = (mach_msg_type_number_t)(migOol.size / %u);\n",
                    n, type_c_user(t), n, t->elem_size);
                break;
        }
        out(o, "\t}\n");
}

static void stub(Out *o, const MigFile *f, const MigRoutine *r) {
        uint32_t id = f->base + r->index;
        uint32_t size = request_max(r);
        if (reply_max(r) > size)
                size = reply_max(r);
        size = (size + 7) & ~7u;
        const MigArg *req = find_arg(r, ARG_REQUESTPORT, ARG_REQUESTPORT);
        const MigArg *reply = find_arg(r, ARG_REPLYPORT, ARG_UREPLYPORT);
        const MigArg *wait = find_arg(r, ARG_WAITTIME, ARG_WAITTIME);
        const MigArg *opt = find_arg(r, ARG_MSGOPTION, ARG_MSGOPTION);
        decl(o, f, r);
        out(o, "\n{\n\tunion {\n\t\tmsg_header_t Head;\n\t\tuint64_t align;\n\t\tuint8_t bytes[%u];\n\t} migM;\n", size);
        out(o, "\tuint8_t *migP = migM.bytes + sizeof(msg_header_t), *migEnd = migM.bytes + sizeof(migM.bytes);\n");
        out(o, "\t(void)migEnd;\n");
        /* Port arrays of the reply: copied into memory of the caller's, freed if the reply is bad. */
        bool copies = false;
        for (int i = 0; i < r->n_args; i++)
                if (port_array_out(&r->args[i])) {
                        out(o, "\tvm_address_t %sAddr = 0;\n\tvm_size_t %sSize = 0;\n", r->args[i].name,
                            r->args[i].name);
                        copies = true;
                }
        for (int i = 0; i < r->n_args; i++)
                if (in_request(&r->args[i]))
                        pack(o, &r->args[i]);
        out(o, "\tmigM.Head.msg_size = (msg_size_t)(migP - migM.bytes);\n");
        out(o, "\tmigM.Head.msg_remote_port = %s;\n", req->name);
        /* A simpleroutine may name a reply port too: the answer comes later, by another interface. */
        out(o, "\tmigM.Head.msg_local_port = %s;\n", reply ? reply->name : "PORT_NULL");
        out(o, "\tmigM.Head.msg_id = %u;\n", id);
        char req_disp[160];
        if (poly_sender(req->type))
                snprintf(req_disp, sizeof(req_disp), "%sPoly", req->name);
        else
                snprintf(req_disp, sizeof(req_disp), "%s", wire_name(req->type->wire_in));
        out(o, "\tmigM.Head.msg_bits = MSG_BITS(%s, %s);\n", req_disp,
            r->simple && !reply ? "0" : wire_name(header_disposition(reply, W_MAKE_SEND_ONCE)));
        out(o, "\tmigM.Head.msg_seqno = 0;\n");
        /* Options and timeout: the routine's arguments, else the file's statements. */
        char opts[256] = "MSG_OPTION_NONE";
        if (opt || f->msgoption)
                snprintf(opts, sizeof(opts), "(msg_option_t)(%s)", opt ? opt->name : f->msgoption);
        const char *timeout = wait ? wait->name : f->waittime;
        if (r->simple) {
                out(o, "\treturn msg_send(&migM.Head, %s%s, %s);\n}\n\n", opts,
                    timeout ? " | SEND_TIMEOUT" : "", timeout ? timeout : "0");
                return;
        }
        out(o, "\tmsg_return_t migR = msg_rpc(&migM.Head, %s%s, sizeof(migM), 0, %s);\n", opts,
            timeout ? " | RCV_TIMEOUT" : "", timeout ? timeout : "0");
        out(o, "\tif (migR != 0)\n\t\treturn migR == RCV_SERVER_DIED ? MIG_SERVER_DIED : migR;\n");
        out(o, "\tif (migM.Head.msg_id != %u) {\n\t\tmsg_destroy(&migM.Head);\n"
               "\t\treturn migM.Head.msg_id == NOTIFY_SEND_ONCE ? MIG_SERVER_DIED : MIG_REPLY_MISMATCH;\n\t}\n", id + 100);
        out(o, "\tconst uint8_t *migQ = migM.bytes + sizeof(msg_header_t), *migQend = migM.bytes + migM.Head.msg_size;\n");
        out(o, "\tkern_return_t migRc;\n\t{\n\t\tconst uint8_t *migD = mig_get(&migQ, migQend, MSG_TYPE_INTEGER_32, 1, 1, 4, NULL, NULL);\n"
               "\t\tif (!migD)\n\t\t\tgoto bad;\n\t\tmemcpy(&migRc, migD, 4);\n\t}\n");
        out(o, "\tif (migRc != KERN_SUCCESS) {\n\t\tif (migQ != migQend)\n\t\t\tgoto bad;\n\t\treturn migRc;\n\t}\n");
        for (int i = 0; i < r->n_args; i++)
                if (in_reply(&r->args[i]))
                        unpack(o, &r->args[i]);
        out(o, "\tif (migQ != migQend)\n\t\tgoto bad;\n\treturn migRc;\nbad:\n\tmsg_destroy(&migM.Head);\n");
        for (int i = 0; copies && i < r->n_args; i++)
                if (port_array_out(&r->args[i]))
                        out(o, "\tif (%sAddr)\n\t\tvm_deallocate(PORT_NULL, %sAddr, %sSize);\n", r->args[i].name,
                            r->args[i].name, r->args[i].name);
        out(o, "\treturn MIG_TYPE_ERROR;\n}\n\n");
}

bool emit_user(const MigFile *f, const char *path, const char *header) {
        Out o;
        if (!out_open(&o, path))
                return false;
        out_banner(&o, f, "User stubs");
        out(&o, "#include \"%s\"\n#include <stdint.h>\n#include <string.h>\n\n", header);
        for (int i = 0; i < f->n_routines; i++)
                stub(&o, f, &f->routines[i]);
        return out_close(&o);
}
