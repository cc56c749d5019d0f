/* SPDX-License-Identifier: MIT */
/*
 * lex.c - the tokens of a .defs file, after the C preprocessor
 *
 * The preprocessor's line markers (# LINE "FILE" ...) say where each line
 * came from, so a token's place is the one the user wrote: the .defs file
 * or a file it included.  Comments are the preprocessor's to remove.
 */

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "mig.h"

struct Lexer {
        const char *s;          /* the text */
        size_t pos;
        const char *file;       /* where the current line came from */
        int line;
        size_t line_start;      /* pos of the current line's first character */
        bool at_line_start;
};

Lexer *lex_open(const char *text, const char *file) {
        Lexer *lx = mig_alloc(sizeof(*lx));
        lx->s = text;
        lx->file = mig_strdup(file);
        lx->line = 1;
        lx->at_line_start = true;
        return lx;
}

void lex_close(Lexer *lx) {
        (void)lx;       /* freed with everything else (mig_alloc()) */
}

static Loc here(const Lexer *lx) {
        return (Loc){ lx->file, lx->line, (int)(lx->pos - lx->line_start) + 1 };
}

static void newline(Lexer *lx) {
        lx->pos++;
        lx->line++;
        lx->line_start = lx->pos;
        lx->at_line_start = true;
}

/* A line marker: # LINE "FILE" [flags] (or #line LINE "FILE"); other directives are skipped. */
static void directive(Lexer *lx) {
        const char *s = lx->s;
        size_t p = lx->pos + 1;
        while (s[p] == ' ' || s[p] == '\t')
                p++;
        if (strncmp(s + p, "line", 4) == 0)
                p += 4;
        while (s[p] == ' ' || s[p] == '\t')
                p++;
        if (isdigit((unsigned char)s[p])) {
                long line = strtol(s + p, NULL, 10);
                while (isdigit((unsigned char)s[p]))
                        p++;
                while (s[p] == ' ' || s[p] == '\t')
                        p++;
                if (s[p] == '"') {
                        size_t q = p + 1;
                        while (s[q] && s[q] != '"' && s[q] != '\n')
                                q++;
                        char *f = mig_alloc(q - p);
                        memcpy(f, s + p + 1, q - p - 1);
                        lx->file = f;
                }
                /* The marker's own newline brings the line to LINE. */
                lx->line = (int)line - 1;
        }
        while (s[lx->pos] && s[lx->pos] != '\n')
                lx->pos++;
}

static void skip_space(Lexer *lx) {
        for (;;) {
                char c = lx->s[lx->pos];
                if (c == '\n') {
                        newline(lx);
                } else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
                        lx->pos++;
                } else if (c == '#' && lx->at_line_start) {
                        directive(lx);
                } else {
                        return;
                }
        }
}

static char *slice(const Lexer *lx, size_t from, size_t to) {
        char *t = mig_alloc(to - from + 1);
        memcpy(t, lx->s + from, to - from);
        return t;
}

bool lex_next(Lexer *lx, Token *t) {
        skip_space(lx);
        lx->at_line_start = false;
        t->loc = here(lx);
        t->number = 0;
        const char *s = lx->s;
        size_t p = lx->pos;
        char c = s[p];
        if (!c) {
                t->kind = TOK_EOF;
                t->text = "end of file";
                return true;
        }
        if (isalpha((unsigned char)c) || c == '_') {
                while (isalnum((unsigned char)s[p]) || s[p] == '_')
                        p++;
                t->kind = TOK_IDENT;
                t->text = slice(lx, lx->pos, p);
                lx->pos = p;
                return true;
        }
        if (isdigit((unsigned char)c)) {
                char *end;
                errno = 0;
                t->number = strtoull(s + p, &end, 0);
                if (errno || isalnum((unsigned char)*end) || *end == '_') {
                        mig_error(t->loc, errno == ERANGE ? "number too large" : "a malformed number");
                        return false;
                }
                t->kind = TOK_NUMBER;
                t->text = slice(lx, p, (size_t)(end - s));
                lx->pos = (size_t)(end - s);
                return true;
        }
        if (c == '"') {
                p++;
                while (s[p] && s[p] != '"' && s[p] != '\n')
                        p += s[p] == '\\' && s[p + 1] ? 2 : 1;
                if (s[p] != '"') {
                        mig_error(t->loc, "a string that does not end on its line");
                        return false;
                }
                t->kind = TOK_STRING;
                t->text = slice(lx, lx->pos, p + 1);
                lx->pos = p + 1;
                return true;
        }
        if (strchr(";:,=()[]*^{}<>|+-/", c)) {
                t->kind = TOK_PUNCT;
                t->text = slice(lx, p, p + 1);
                lx->pos = p + 1;
                return true;
        }
        mig_error(t->loc, "unexpected character '%c'", c);
        return false;
}

bool lex_next_file(Lexer *lx, Token *t) {
        skip_space(lx);
        lx->at_line_start = false;
        t->loc = here(lx);
        const char *s = lx->s;
        size_t p = lx->pos;
        char close = s[p] == '<' ? '>' : s[p] == '"' ? '"' : 0;
        if (!close) {
                mig_error(t->loc, "expected a file name, <file.h> or \"file.h\"");
                return false;
        }
        p++;
        while (s[p] && s[p] != close && s[p] != '\n')
                p++;
        if (s[p] != close) {
                mig_error(t->loc, "a file name that does not end on its line");
                return false;
        }
        t->kind = close == '>' ? TOK_ANGLE : TOK_STRING;
        t->text = slice(lx, lx->pos, p + 1);
        lx->pos = p + 1;
        return true;
}
