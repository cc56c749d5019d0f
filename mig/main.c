/* SPDX-License-Identifier: MIT */
/*
 * main.c - machipc-mig: MIG .defs files to C stubs for libmachipc
 *
 * The .defs file goes through the C preprocessor first, as MIG's does
 * (${CC:-cc} -E, with the -I, -D and -U options given); then it is parsed
 * whole, and the four files are written only if nothing was wrong: the
 * user header and stubs, the server header and server.  doc/mig.md is the
 * manual.
 */

#include <errno.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "emit.h"

extern char **environ;

static void usage(FILE *f) {
        fprintf(f, "Usage: machipc-mig [OPTION]... FILE.defs\n"
                   "Writes C stubs for libmachipc from a MIG interface definition.\n\n"
                   "  -user FILE       the user stubs (default: SUBSYSTEMUser.c)\n"
                   "  -header FILE     their header (default: SUBSYSTEM.h)\n"
                   "  -server FILE     the server side (default: SUBSYSTEMServer.c)\n"
                   "  -sheader FILE    its header (default: SUBSYSTEMServer.h)\n"
                   "  -list            write no files: print \"subsystem NAME BASE IDS\", then each\n"
                   "                   routine's request id, kind and user-side name\n"
                   "                   (skipped ids are not printed)\n"
                   "  -IDIR, -DNAME[=VALUE], -UNAME\n"
                   "                   passed to the C preprocessor (${CC:-cc} -E)\n"
                   "  -q, -v           accepted for MIG's sake; no effect\n"
                   "  --help, --version\n\n"
                   "Exit status: 0, 1 an error in the file (each said as FILE:LINE:COLUMN), 2 bad usage.\n"
                   "See doc/mig.md (the language as supported, the differences from GNU MIG).\n");
}

/* Run the preprocessor on @path; its output, or NULL. */
static char *preprocess(const char *path, char **cpp_args, int n_cpp) {
        const char *cc = getenv("CC");
        if (!cc || !*cc)
                cc = "cc";
        char **argv = mig_alloc(sizeof(char *) * (size_t)(n_cpp + 8));
        int n = 0;
        argv[n++] = (char *)cc;
        argv[n++] = "-E";
        argv[n++] = "-x";
        argv[n++] = "c";
        argv[n++] = "-D__MACHIPC_MIG__=1";
        for (int i = 0; i < n_cpp; i++)
                argv[n++] = cpp_args[i];
        /* After the caller's: <machipc/std_types.defs> where the library is installed. */
        argv[n++] = "-I" MACHIPC_MIG_INCLUDEDIR;
        argv[n++] = (char *)path;
        argv[n] = NULL;
        int fds[2];
        if (pipe(fds) < 0) {
                perror("machipc-mig: pipe");
                return NULL;
        }
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
        posix_spawn_file_actions_addclose(&fa, fds[0]);
        posix_spawn_file_actions_addclose(&fa, fds[1]);
        pid_t pid;
        int r = posix_spawnp(&pid, cc, &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        close(fds[1]);
        if (r != 0) {
                fprintf(stderr, "machipc-mig: cannot run the C preprocessor (%s -E): %s\n", cc, strerror(r));
                close(fds[0]);
                return NULL;
        }
        size_t cap = 1 << 16, len = 0;
        char *text = mig_alloc(cap);
        ssize_t got;
        while ((got = read(fds[0], text + len, cap - len - 1)) > 0 || (got < 0 && errno == EINTR)) {
                if (got < 0)
                        continue;
                len += (size_t)got;
                if (cap - len < 4096) {
                        cap *= 2;
                        text = mig_realloc(text, cap);
                }
        }
        text[len] = 0;
        close(fds[0]);
        int st;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
                ;
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
                fprintf(stderr, "machipc-mig: the C preprocessor failed on %s\n", path);
                return NULL;
        }
        return text;
}

static char *default_name(const char *subsystem, const char *suffix) {
        size_t n = strlen(subsystem) + strlen(suffix) + 1;
        char *s = mig_alloc(n);
        snprintf(s, n, "%s%s", subsystem, suffix);
        return s;
}

/* The name a generated file includes its header by: the header's last component. */
static const char *base(const char *path) {
        const char *s = strrchr(path, '/');
        return s ? s + 1 : path;
}

int main(int argc, char **argv) {
        const char *user = NULL, *header = NULL, *server = NULL, *sheader = NULL, *input = NULL;
        atexit(mig_free_all);
        char **cpp = mig_alloc(sizeof(char *) * (size_t)argc * 2);
        int n_cpp = 0;
        bool list = false;
        for (int i = 1; i < argc; i++) {
                const char *a = argv[i];
                const char **dest = NULL;
                if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
                        usage(stdout);
                        return 0;
                } else if (strcmp(a, "--version") == 0) {
                        printf("machipc-mig %s\n", MACHIPC_VERSION);
                        return 0;
                } else if (strcmp(a, "-list") == 0) {
                        list = true;
                        continue;
                } else if (strcmp(a, "-user") == 0) {
                        dest = &user;
                } else if (strcmp(a, "-header") == 0) {
                        dest = &header;
                } else if (strcmp(a, "-server") == 0) {
                        dest = &server;
                } else if (strcmp(a, "-sheader") == 0) {
                        dest = &sheader;
                } else if (strcmp(a, "-q") == 0 || strcmp(a, "-Q") == 0 || strcmp(a, "-v") == 0 ||
                           strcmp(a, "-V") == 0) {
                        continue;
                } else if (a[0] == '-' && (a[1] == 'I' || a[1] == 'D' || a[1] == 'U')) {
                        cpp[n_cpp++] = argv[i];
                        if (!a[2]) {
                                if (++i >= argc) {
                                        fprintf(stderr, "machipc-mig: %s needs an argument\n", a);
                                        return 2;
                                }
                                cpp[n_cpp++] = argv[i];
                        }
                        continue;
                } else if (a[0] == '-' && a[1]) {
                        fprintf(stderr, "machipc-mig: unknown option %s\n", a);
                        usage(stderr);
                        return 2;
                } else if (input) {
                        fprintf(stderr, "machipc-mig: one .defs file at a time (%s and %s)\n", input, a);
                        return 2;
                } else {
                        input = a;
                        continue;
                }
                if (++i >= argc) {
                        fprintf(stderr, "machipc-mig: %s needs a file name\n", a);
                        return 2;
                }
                *dest = argv[i];
        }
        if (!input) {
                usage(stderr);
                return 2;
        }
        if (access(input, R_OK) != 0) {
                fprintf(stderr, "machipc-mig: %s: %s\n", input, strerror(errno));
                return 1;
        }
        char *text = preprocess(input, cpp, n_cpp);
        if (!text)
                return 1;
        MigFile f = { 0 };
        if (!mig_parse(text, input, &f) || !check_sizes(&f) || mig_errors())
                return 1;
        if (list) {
                printf("subsystem %s %u %u\n", f.name, f.base, f.n_ids);
                for (int i = 0; i < f.n_routines; i++)
                        printf("%u %s %s\n", f.base + f.routines[i].index,
                               f.routines[i].simple ? "simpleroutine" : "routine", user_fn(&f, &f.routines[i]));
                return 0;
        }
        if (!user)
                user = default_name(f.name, "User.c");
        if (!header)
                header = default_name(f.name, ".h");
        if (!server)
                server = default_name(f.name, "Server.c");
        if (!sheader)
                sheader = default_name(f.name, "Server.h");
        bool ok = emit_header(&f, header) && emit_user(&f, user, base(header)) &&
                  emit_server_header(&f, sheader) && emit_server(&f, server, base(sheader));
        return ok ? 0 : 1;
}
