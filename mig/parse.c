/* SPDX-License-Identifier: MIT */
/*
 * parse.c - the statements of a .defs file
 *
 * Recursive descent over MIG's grammar (keywords in any case).  Every error
 * names its place (file:line:column) and what was expected; a construct
 * this generator does not support is named as such rather than skipped.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "parse.h"

bool advance(Parser *p) {
        return lex_next(p->lx, &p->tok);
}

bool is_kw(const Parser *p, const char *kw) {
        return p->tok.kind == TOK_IDENT && strcasecmp(p->tok.text, kw) == 0;
}

bool is_punct(const Parser *p, char c) {
        return p->tok.kind == TOK_PUNCT && p->tok.text[0] == c;
}

bool expected(Parser *p, const char *what) {
        mig_error(p->tok.loc, "expected %s, found %s%s%s", what, p->tok.kind == TOK_EOF ? "" : "'",
                  p->tok.text, p->tok.kind == TOK_EOF ? "" : "'");
        return false;
}

bool unsupported(Loc loc, const char *what) {
        mig_error(loc, "unsupported: %s", what);
        return false;
}

/* Mark @t as one no routine may use, and why; a declaration of it is fine. */
void defer(MigType *t, Loc loc, const char *what) {
        if (!t->unsupported) {
                t->unsupported = what;
                t->unsupported_loc = loc;
        }
}

void undefined_type(const Parser *p, Loc loc, const char *name) {
        mig_error(loc, "type '%s' not defined%s", name,
                  p->have_subsystem ? ""
                                    : " (and no subsystem statement came before it: a file of types only "
                                      "is read through the file that includes it)");
}

bool expect_punct(Parser *p, char c) {
        char what[8] = { '\'', c, '\'', 0 };
        if (!is_punct(p, c))
                return expected(p, what);
        return advance(p);
}

bool ident(Parser *p, const char *what, char **out, Loc *loc) {
        if (p->tok.kind != TOK_IDENT)
                return expected(p, what);
        *out = p->tok.text;
        if (loc)
                *loc = p->tok.loc;
        return advance(p);
}

/* An integer expression: MIG's + - * / and parentheses over numbers, with C's precedence. */
static bool sum(Parser *p, uint64_t *out, int depth);

static bool factor(Parser *p, uint64_t *out, int depth) {
        if (is_punct(p, '(')) {
                if (depth > 64) {
                        mig_error(p->tok.loc, "expression nested too deeply");
                        return false;
                }
                return advance(p) && sum(p, out, depth + 1) && expect_punct(p, ')');
        }
        if (p->tok.kind != TOK_NUMBER)
                return expected(p, "a number");
        *out = p->tok.number;
        return advance(p);
}

static bool product(Parser *p, uint64_t *out, int depth) {
        if (!factor(p, out, depth))
                return false;
        while (is_punct(p, '*') || is_punct(p, '/')) {
                char op = p->tok.text[0];
                Loc loc = p->tok.loc;
                uint64_t v;
                if (!advance(p) || !factor(p, &v, depth))
                        return false;
                if (op == '/' && v == 0) {
                        mig_error(loc, "division by zero");
                        return false;
                }
                if (op == '*' && __builtin_mul_overflow(*out, v, out)) {
                        mig_error(loc, "number too large");
                        return false;
                }
                if (op == '/')
                        *out /= v;
        }
        return true;
}

static bool sum(Parser *p, uint64_t *out, int depth) {
        if (!product(p, out, depth))
                return false;
        while (is_punct(p, '+') || is_punct(p, '-')) {
                char op = p->tok.text[0];
                Loc loc = p->tok.loc;
                uint64_t v;
                if (!advance(p) || !product(p, &v, depth))
                        return false;
                if (op == '+' ? __builtin_add_overflow(*out, v, out) : __builtin_sub_overflow(*out, v, out)) {
                        mig_error(loc, op == '+' ? "number too large" : "negative number");
                        return false;
                }
        }
        return true;
}

bool constant(Parser *p, uint64_t *out) {
        return sum(p, out, 0);
}

static const struct {
        const char *kw;
        ArgKind kind;
} arg_kinds[] = {
        { "in", ARG_IN },
        { "out", ARG_OUT },
        { "inout", ARG_INOUT },
        { "requestport", ARG_REQUESTPORT },
        { "replyport", ARG_REPLYPORT },
        { "sreplyport", ARG_SREPLYPORT },
        { "ureplyport", ARG_UREPLYPORT },
        { "waittime", ARG_WAITTIME },
        { "msgseqno", ARG_MSGSEQNO },
        { "msgoption", ARG_MSGOPTION },
};

static bool argument(Parser *p, MigArg *a) {
        a->kind = ARG_IN;
        /* An optional direction: a keyword followed by the argument's name. */
        for (size_t i = 0; i < sizeof(arg_kinds) / sizeof(arg_kinds[0]); i++) {
                if (is_kw(p, arg_kinds[i].kw)) {
                        Token save = p->tok;
                        if (!advance(p))
                                return false;
                        if (is_punct(p, ':')) {
                                /* No: a parameter named like a keyword. */
                                a->name = save.text;
                                a->loc = save.loc;
                                goto have_name;
                        }
                        a->kind = arg_kinds[i].kind;
                        break;
                }
        }
        if (!ident(p, "an argument name", &a->name, &a->loc))
                return false;
have_name:
        if (!expect_punct(p, ':'))
                return false;
        Loc tloc = p->tok.loc;
        MigType *known = NULL;
        char *tname = NULL;
        if (p->tok.kind == TOK_IDENT && !is_kw(p, "array") && !is_kw(p, "struct") && !is_kw(p, "c_string") &&
            !is_kw(p, "polymorphic")) {
                /* A type's name: known, or one this argument declares (name : NEWTYPE = SPEC). */
                tname = p->tok.text;
                known = types_lookup(p->f, tname);
                if (!known)
                        known = types_builtin_ipc(tname);
                if (!advance(p))
                        return false;
                if (!known && !is_punct(p, '=')) {
                        undefined_type(p, tloc, tname);
                        return false;
                }
                a->type = known;
        } else if (!typespec(p, &a->type)) {
                return false;
        }
        if (is_punct(p, '=')) {
                MigType *spec;
                if (!advance(p) || !typespec(p, &spec))
                        return false;
                MigType *t = copy_type(spec);
                t->loc = tloc;
                t->name = tname;
                t->ctype = known && known->ctype ? known->ctype : tname;
                t->cusertype = known ? known->cusertype : NULL;
                t->cservertype = known ? known->cservertype : NULL;
                if (!annotations(p, t))
                        return false;
                a->type = t;
        }
        while (is_punct(p, ',')) {
                Loc floc;
                char *flag;
                if (!advance(p) || !ident(p, "an argument flag", &flag, &floc))
                        return false;
                if (strcasecmp(flag, "dealloc") == 0) {
                        a->dealloc = true;
                        if (is_punct(p, '[')) {
                                if (!advance(p) || !expect_punct(p, ']'))
                                        return false;
                        }
                } else if (strcasecmp(flag, "notdealloc") == 0 || strcasecmp(flag, "servercopy") == 0) {
                        ;       /* what happens anyway: each side gets its own copy */
                } else if (strcasecmp(flag, "countinout") == 0) {
                        a->countinout = true;
                } else if (strcasecmp(flag, "samecount") == 0 || strcasecmp(flag, "physicalcopy") == 0 ||
                           strcasecmp(flag, "retcode") == 0 || strcasecmp(flag, "auto") == 0 ||
                           strcasecmp(flag, "const") == 0) {
                        char what[64];
                        snprintf(what, sizeof(what), "the argument flag %s", flag);
                        return unsupported(floc, what);
                } else {
                        mig_error(floc, "unknown argument flag '%s'", flag);
                        return false;
                }
        }
        return true;
}

static const char *arg_kind_name(ArgKind k) {
        for (size_t i = 0; i < sizeof(arg_kinds) / sizeof(arg_kinds[0]); i++)
                if (arg_kinds[i].kind == k)
                        return arg_kinds[i].kw;
        return "in";
}

static bool check_routine(MigRoutine *r) {
        MigArg *req = NULL;
        for (int i = 0; i < r->n_args; i++)
                if (r->args[i].kind == ARG_REQUESTPORT)
                        req = &r->args[i];
        if (!req) {
                if (r->n_args == 0 || r->args[0].kind != ARG_IN) {
                        mig_error(r->loc, "routine %s: the first argument must be its request port", r->name);
                        return false;
                }
                r->args[0].kind = ARG_REQUESTPORT;
                req = &r->args[0];
        }
        for (int i = 0; i < r->n_args; i++) {
                MigArg *a = &r->args[i];
                const MigType *t = a->type;
                bool header = a->kind == ARG_REQUESTPORT || a->kind == ARG_REPLYPORT ||
                              a->kind == ARG_SREPLYPORT || a->kind == ARG_UREPLYPORT;
                if (header && (!t->port || t->shape != SHAPE_SCALAR ||
                               (poly_sender(t) && a->kind != ARG_REQUESTPORT))) {
                        mig_error(a->loc, "%s: a request or reply port must be a port right", a->name);
                        return false;
                }
                if ((a->kind == ARG_WAITTIME || a->kind == ARG_MSGSEQNO || a->kind == ARG_MSGOPTION) &&
                    (t->port || t->shape != SHAPE_SCALAR)) {
                        mig_error(a->loc, "%s: must be a number", a->name);
                        return false;
                }
                if (r->simple && (a->kind == ARG_OUT || a->kind == ARG_INOUT)) {
                        mig_error(a->loc, "simpleroutine %s: %s: a simpleroutine has no reply to carry it",
                                  r->name, a->name);
                        return false;
                }
                if (a->dealloc && t->shape != SHAPE_OOL && !t->port) {
                        mig_error(a->loc, "%s: dealloc is for out-of-line arrays", a->name);
                        return false;
                }
                if (a->countinout && (a->kind != ARG_OUT || (t->shape != SHAPE_VAR && t->shape != SHAPE_OOL))) {
                        mig_error(a->loc, "%s: countinout is for out arrays of variable size", a->name);
                        return false;
                }
                if (a->kind == ARG_INOUT && (t->shape == SHAPE_VAR || t->shape == SHAPE_OOL ||
                                             t->shape == SHAPE_STRING || is_poly(t)))
                        return unsupported(a->loc, "inout arrays, strings and polymorphic rights");
                if (t->port && t->shape == SHAPE_SCALAR && a->dealloc)
                        return unsupported(a->loc, "dealloc on a port (move the right instead)");
                if (t->unsupported) {
                        mig_error(a->loc, "%s: its type is not supported here:", a->name);
                        return unsupported(t->unsupported_loc, t->unsupported);
                }
                for (int j = 0; j < i; j++) {
                        const MigArg *b = &r->args[j];
                        if (strcmp(b->name, a->name) == 0) {
                                mig_error(a->loc, "routine %s: two arguments named %s", r->name, a->name);
                                return false;
                        }
                        /* One of each special kind; replyport is ureplyport and sreplyport at once. */
                        bool special = a->kind != ARG_IN && a->kind != ARG_OUT && a->kind != ARG_INOUT;
                        bool reply_a = a->kind == ARG_REPLYPORT || a->kind == ARG_UREPLYPORT ||
                                       a->kind == ARG_SREPLYPORT;
                        bool clash = special && (b->kind == a->kind ||
                                                 (reply_a && (b->kind == ARG_REPLYPORT || a->kind == ARG_REPLYPORT) &&
                                                  (b->kind == ARG_UREPLYPORT || b->kind == ARG_SREPLYPORT ||
                                                   b->kind == ARG_REPLYPORT)));
                        if (clash) {
                                mig_error(a->loc, "routine %s: %s: a second %s argument (after %s)", r->name, a->name,
                                          reply_a ? "reply port" : arg_kind_name(a->kind), b->name);
                                return false;
                        }
                }
        }
        return true;
}

static bool routine(Parser *p, bool simple) {
        MigRoutine r = { .simple = simple, .index = p->f->n_ids };
        if (!advance(p) || !ident(p, "a routine name", &r.name, &r.loc) || !expect_punct(p, '('))
                return false;
        while (!is_punct(p, ')')) {
                MigArg a = { 0 };
                if (!argument(p, &a))
                        return false;
                r.args = mig_realloc(r.args, sizeof(*r.args) * (size_t)(r.n_args + 1));
                if (!r.args)
                        abort();
                r.args[r.n_args++] = a;
                if (is_punct(p, ';')) {
                        if (!advance(p))
                                return false;
                } else if (!is_punct(p, ')')) {
                        return expected(p, "';' or ')'");
                }
        }
        if (!advance(p) || !expect_punct(p, ';'))
                return false;
        if (!p->have_subsystem) {
                mig_error(r.loc, "routine %s before the subsystem statement", r.name);
                return false;
        }
        for (int i = 0; i < p->f->n_routines; i++)
                if (strcmp(p->f->routines[i].name, r.name) == 0) {
                        mig_error(r.loc, "a second routine named %s", r.name);
                        return false;
                }
        if (!check_routine(&r))
                return false;
        p->f->routines = mig_realloc(p->f->routines, sizeof(r) * (size_t)(p->f->n_routines + 1));
        if (!p->f->routines)
                abort();
        p->f->routines[p->f->n_routines++] = r;
        p->f->n_ids++;
        return true;
}

static bool subsystem(Parser *p) {
        Loc loc = p->tok.loc;
        if (p->have_subsystem) {
                mig_error(loc, "a second subsystem statement");
                return false;
        }
        if (!advance(p))
                return false;
        if (is_kw(p, "KernelUser") || is_kw(p, "KernelServer")) {
                char what[96];
                snprintf(what, sizeof(what), "%s (code for inside a kernel; machipc's tasks are processes)",
                         p->tok.text);
                return unsupported(p->tok.loc, what);
        }
        uint64_t base;
        if (!ident(p, "the subsystem's name", &p->f->name, &p->f->loc) || !constant(p, &base) ||
            !expect_punct(p, ';'))
                return false;
        if (base > 0x7fffffff - 100000) {
                mig_error(loc, "a base number too large for a message id");
                return false;
        }
        p->f->base = (uint32_t)base;
        p->have_subsystem = true;
        return true;
}

static bool import_stmt(Parser *p, ImportKind kind) {
        Token t;
        if (!lex_next_file(p->lx, &t) || !advance(p) || !expect_punct(p, ';'))
                return false;
        p->f->imports = mig_realloc(p->f->imports, sizeof(MigImport) * (size_t)(p->f->n_imports + 1));
        if (!p->f->imports)
                abort();
        p->f->imports[p->f->n_imports++] = (MigImport){ kind, t.text };
        return true;
}

/* serverprefix NAME; and the like. */
static bool name_stmt(Parser *p, char **where) {
        if (!advance(p) || !ident(p, "a name", where, NULL))
                return false;
        return expect_punct(p, ';');
}

/* msgoption X; waittime X: an identifier or a number, passed to C as it stands. */
static bool expr_stmt(Parser *p, char **where) {
        if (!advance(p))
                return false;
        if (p->tok.kind != TOK_IDENT && p->tok.kind != TOK_NUMBER)
                return expected(p, "a name or a number");
        *where = p->tok.text;
        return advance(p) && expect_punct(p, ';');
}

static bool statement(Parser *p) {
        Loc loc = p->tok.loc;
        if (is_punct(p, ';'))
                return advance(p);
        if (p->tok.kind != TOK_IDENT)
                return expected(p, "a statement");
        if (is_kw(p, "subsystem"))
                return subsystem(p);
        if (is_kw(p, "type"))
                return type_decl(p);
        if (is_kw(p, "routine"))
                return routine(p, false);
        if (is_kw(p, "simpleroutine"))
                return routine(p, true);
        if (is_kw(p, "skip")) {
                uint64_t n = 1;
                if (!advance(p))
                        return false;
                if (p->tok.kind == TOK_NUMBER && !constant(p, &n))
                        return false;
                if (n > 100000)
                        return unsupported(loc, "skipping more than 100,000 ids");
                p->f->n_ids += (uint32_t)n;
                return expect_punct(p, ';');
        }
        if (is_kw(p, "import"))
                return import_stmt(p, IMPORT_BOTH);
        if (is_kw(p, "uimport"))
                return import_stmt(p, IMPORT_USER);
        if (is_kw(p, "simport"))
                return import_stmt(p, IMPORT_SERVER);
        if (is_kw(p, "serverprefix"))
                return name_stmt(p, &p->f->server_prefix);
        if (is_kw(p, "userprefix"))
                return name_stmt(p, &p->f->user_prefix);
        if (is_kw(p, "serverdemux"))
                return name_stmt(p, &p->f->server_demux);
        if (is_kw(p, "msgoption"))
                return expr_stmt(p, &p->f->msgoption);
        if (is_kw(p, "waittime"))
                return expr_stmt(p, &p->f->waittime);
        if (is_kw(p, "nowaittime")) {
                p->f->waittime = NULL;
                return advance(p) && expect_punct(p, ';');
        }
        if (is_kw(p, "rcsid")) {
                if (!advance(p))
                        return false;
                if (p->tok.kind != TOK_STRING)
                        return expected(p, "a string");
                return advance(p) && expect_punct(p, ';');
        }
        if (is_kw(p, "procedure") || is_kw(p, "function") || is_kw(p, "simpleprocedure") ||
            is_kw(p, "simplefunction") || is_kw(p, "camelotroutine")) {
                char what[96];
                snprintf(what, sizeof(what), "%s (old MIG; use routine or simpleroutine)", p->tok.text);
                return unsupported(loc, what);
        }
        if (is_kw(p, "msgtype") || is_kw(p, "serverimport")) {
                return unsupported(loc, p->tok.text);
        }
        mig_error(loc, "expected a statement (subsystem, type, routine, simpleroutine, skip, import, "
                       "serverprefix...), found '%s'", p->tok.text);
        return false;
}

/**
 * mig_parse() - read the (preprocessed) text of a .defs file
 * Return: true, or false after saying what is wrong.
 */
bool mig_parse(const char *text, const char *file, MigFile *f) {
        Parser p = { .lx = lex_open(text, file), .f = f };
        types_init(f);
        bool ok = advance(&p);
        while (ok && p.tok.kind != TOK_EOF)
                ok = statement(&p);
        if (ok && !p.have_subsystem) {
                mig_error(p.tok.loc, "nothing to generate: no subsystem statement (a file of types only "
                                     "is included by one that has one)");
                ok = false;
        }
        lex_close(p.lx);
        return ok;
}
