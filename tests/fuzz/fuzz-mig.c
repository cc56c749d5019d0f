/* SPDX-License-Identifier: MIT */
/*
 * fuzz-mig.c - machipc-mig's parser and emitters on arbitrary text (as the
 * C preprocessor would hand it over)
 *
 * Whatever the text, the generator either says what is wrong or writes its
 * four files (here to /dev/null); it never crashes, never reads past the
 * text, and gives back everything it allocated.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "emit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size > 1 << 16)
                return 0;
        char *text = malloc(size + 1);
        if (!text)
                abort();
        memcpy(text, data, size);
        text[size] = 0;
        mig_quiet = true;
        MigFile f;
        memset(&f, 0, sizeof(f));
        if (mig_parse(text, "fuzz.defs", &f) && check_sizes(&f) && !mig_errors()) {
                emit_header(&f, "/dev/null");
                emit_user(&f, "/dev/null", "fuzz.h");
                emit_server_header(&f, "/dev/null");
                emit_server(&f, "/dev/null", "fuzzServer.h");
        }
        mig_free_all();
        free(text);
        return 0;
}
