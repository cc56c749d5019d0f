/* SPDX-License-Identifier: MIT */
/* outside.c - a program built outside the tree against an installed libmachipc */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <machipc/machipc.h>

int main(int argc, char **argv) {
        /* No broker at this path: connecting must fail with a clear errno. */
        const char *path = argc > 1 ? argv[1] : "/nonexistent/machipc.sock";
        int r = machipc_connect(path);
        if (r != -ENOENT) {
                fprintf(stderr, "outside: machipc_connect: %d\n", r);
                return 1;
        }
        if (strcmp(machipc_strerror(RCV_TIMED_OUT), "receive: timed out") != 0)
                return 1;
        printf("outside: ok\n");
        return 0;
}
