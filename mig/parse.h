#pragma once
/* SPDX-License-Identifier: MIT */
/* parse.h - the parser's state and the helpers its two halves share (parse.c, parse-type.c) */

#include "mig.h"

typedef struct {
        Lexer *lx;
        Token tok;              /* the current token */
        MigFile *f;
        bool have_subsystem;
} Parser;

bool advance(Parser *p);
bool is_kw(const Parser *p, const char *kw);
bool is_punct(const Parser *p, char c);
/* Say "expected WHAT, found TOKEN"; false. */
bool expected(Parser *p, const char *what);
/* Say "unsupported: WHAT"; false. */
bool unsupported(Loc loc, const char *what);
/* Mark @t as one no routine may use, and why; a declaration of it is fine. */
void defer(MigType *t, Loc loc, const char *what);
/* Say that type @name is not defined (and why that may be). */
void undefined_type(const Parser *p, Loc loc, const char *name);
bool expect_punct(Parser *p, char c);
bool ident(Parser *p, const char *what, char **out, Loc *loc);
/* An integer expression: numbers, + - * / and parentheses. */
bool constant(Parser *p, uint64_t *out);

/* parse-type.c */
bool typespec(Parser *p, MigType **out);
MigType *copy_type(const MigType *t);
/* A declaration's ctype:, cusertype:, cservertype:, intran:, outtran:, destructor: */
bool annotations(Parser *p, MigType *t);
bool type_decl(Parser *p);
