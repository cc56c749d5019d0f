#pragma once
/* SPDX-License-Identifier: MIT */
/*
 * mig.h - machipc-mig: what a .defs file says, as the parser builds it and
 * the emitters read it
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Where a token came from, after the C preprocessor: file, line, column. */
typedef struct {
        const char *file;
        int line;
        int col;
} Loc;

/* What an item of a message holds, in machipc's numbering (machipc/types.h). */
enum {
        W_BYTE = 1,
        W_INTEGER_16 = 2,
        W_INTEGER_32 = 3,
        W_INTEGER_64 = 4,
        W_CHAR = 8,
        W_REAL_64 = 9,
        W_STRING = 12,
        W_MOVE_RECEIVE = 16,
        W_MOVE_SEND = 17,
        W_MOVE_SEND_ONCE = 18,
        W_COPY_SEND = 19,
        W_MAKE_SEND = 20,
        W_MAKE_SEND_ONCE = 21,
        W_MEMORY = 32,
};

/* The shape of a type. */
typedef enum {
        SHAPE_SCALAR,   /* one element (an integer, a port...) */
        SHAPE_FIXED,    /* array[N], struct[N]: exactly N elements, inline */
        SHAPE_VAR,      /* array[*:N], array[]: up to N elements (0: any number), inline */
        SHAPE_STRING,   /* c_string[N], c_string[*:N]: NUL-terminated, up to N bytes */
        SHAPE_OOL,      /* ^array[...]: out of line, through a region */
} Shape;

typedef struct MigType MigType;
struct MigType {
        char *name;             /* as declared; NULL for a type written in place */
        Loc loc;
        Shape shape;
        /* The element: its item type when sent from user to server (in) and from
         * server to user (out; for a port the kind the receiver finds). */
        int wire_in, wire_out;
        uint32_t elem_size;     /* bytes per element on the wire */
        bool port;              /* elements are port rights */
        bool poly_in;           /* polymorphic when sent: the sender gives the disposition at run time */
        bool poly_out;          /* polymorphic when received: any kind, told to the receiver */
        bool port_name;         /* MACH_MSG_TYPE_PORT_NAME: a name, no right */
        uint32_t count;         /* SHAPE_FIXED: elements; SHAPE_VAR, SHAPE_STRING, SHAPE_OOL: most (0: any) */
        bool is_struct;         /* SHAPE_FIXED from struct[N] or struct { … }: passed by value */
        MigType *elem;          /* arrays: the element type */
        uint32_t group;         /* inline arrays of structs: wire elements per C element (0 or 1: one) */
        /* C: the type by default, and as the user's and the server's sides see it. */
        char *ctype, *cusertype, *cservertype;
        /* Server-side translations: intran: TYPE FN(ctype); outtran: ctype FN(TYPE); destructor: FN(TYPE). */
        char *intran_type, *intran_fn;
        char *outtran_type, *outtran_fn;
        char *destructor_fn;
        char *default_ctype;    /* what C calls it when nothing above says (builtins) */
        /* A type may be declared that no routine can use: said when one does. */
        const char *unsupported;
        Loc unsupported_loc;
};

typedef enum {
        ARG_IN,
        ARG_OUT,
        ARG_INOUT,
        ARG_REQUESTPORT,
        ARG_REPLYPORT,
        ARG_SREPLYPORT,
        ARG_UREPLYPORT,
        ARG_WAITTIME,
        ARG_MSGSEQNO,
        ARG_MSGOPTION,
} ArgKind;

typedef struct {
        char *name;
        Loc loc;
        ArgKind kind;
        MigType *type;
        bool dealloc;           /* the sender gives an out-of-line array up once sent */
        bool countinout;        /* out array: the caller's capacity travels to the server */
} MigArg;

typedef struct {
        char *name;
        Loc loc;
        bool simple;            /* simpleroutine: no reply */
        uint32_t index;         /* request id = base + index */
        MigArg *args;
        int n_args;
} MigRoutine;

typedef enum {
        IMPORT_BOTH,            /* import */
        IMPORT_USER,            /* uimport */
        IMPORT_SERVER,          /* simport */
} ImportKind;

typedef struct {
        ImportKind kind;
        char *text;             /* <file.h> or "file.h" as written */
} MigImport;

typedef struct {
        char *name;
        uint32_t base;
        Loc loc;
        char *user_prefix;
        char *server_prefix;
        char *server_demux;     /* the demux's name; NAME_server by default */
        char *msgoption;        /* C expression OR'ed into the user side's options, or NULL */
        char *waittime;         /* C expression: the user side's receive timeout, or NULL */
        MigImport *imports;
        int n_imports;
        MigRoutine *routines;
        int n_routines;
        uint32_t n_ids;         /* routines and skips: ids base … base + n_ids - 1 */
        MigType **types;
        int n_types;
} MigFile;

/* util.c.  Errors: file:line:column: message, to stderr (not with mig_quiet); the caller exits 1. */
void mig_error(Loc loc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int mig_errors(void);
extern bool mig_quiet;
/* Zeroed memory, or exit; all of it is freed when the generator exits. */
void *mig_alloc(size_t n);
void *mig_realloc(void *p, size_t n);
/* Free everything allocated so far (and forget the errors counted). */
void mig_free_all(void);
char *mig_strdup(const char *s);

/* lex.c: tokens of the preprocessed text. */
typedef enum {
        TOK_EOF,
        TOK_IDENT,
        TOK_NUMBER,
        TOK_STRING,     /* "..." */
        TOK_ANGLE,      /* <...> (an import's file) */
        TOK_PUNCT,      /* one character: ; : , = ( ) [ ] * ^ { } < > | + - / */
} TokKind;

typedef struct {
        TokKind kind;
        char *text;
        uint64_t number;
        Loc loc;
} Token;

typedef struct Lexer Lexer;
Lexer *lex_open(const char *text, const char *file);
void lex_close(Lexer *lx);
bool lex_next(Lexer *lx, Token *t);
/* An import's file: <...> or "..." taken whole. */
bool lex_next_file(Lexer *lx, Token *t);

/* parse.c */
bool mig_parse(const char *text, const char *file, MigFile *out);

/* types.c: the types MIG knows before any declaration, and the checks emitters rely on. */
void types_init(MigFile *f);
MigType *types_lookup(MigFile *f, const char *name);
void types_add(MigFile *f, MigType *t);
MigType *types_builtin_ipc(const char *name);
/* Polymorphic: the sender names the disposition at run time, the receiver learns the kind
 * (either half alone with IN|OUT types: polymorphic|MACH_MSG_TYPE_PORT_SEND_ONCE). */
static inline bool poly_sender(const MigType *t) {
        return t->poly_in;
}
static inline bool poly_receiver(const MigType *t) {
        return t->poly_out;
}
static inline bool is_poly(const MigType *t) {
        return t->poly_in || t->poly_out;
}
const char *type_c_user(const MigType *t);
const char *type_c_server(const MigType *t);
const char *type_c_elem(const MigType *t);
uint32_t type_max_bytes(const MigType *t);

/* emit-*.c */
typedef struct {
        FILE *f;
        const char *path;
} Out;

bool emit_header(const MigFile *f, const char *path);
bool emit_user(const MigFile *f, const char *path, const char *header);
bool emit_server_header(const MigFile *f, const char *path);
bool emit_server(const MigFile *f, const char *path, const char *header);
