/* SPDX-License-Identifier: MIT */
/*
 * call.c - machipcctl call NAME ID [ITEM...]: one RPC from the shell
 *
 * Looks NAME up in the name server, sends a message with id ID and the
 * typed items given (laid out as a MIG stub lays out its arguments), waits
 * for the reply on a send-once right and prints its items, its return code
 * (the first item of a MIG reply) and how long the round trip took.
 */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <machipc/mig.h>
#include "ctl.h"

typedef union {
        msg_header_t h;
        uint8_t bytes[MSG_SIZE_MAX];
} Buf;

/* Append one item to the message in @b (at *@off); -1 if it does not fit. */
static int put(Buf *b, uint32_t *off, uint16_t type, uint32_t number, const void *data, uint32_t bytes) {
        if (*off + MSG_ITEM_SIZE(bytes) > sizeof(b->bytes))
                return -1;
        msg_type_t t = { type, 0, number };
        memcpy(b->bytes + *off, &t, sizeof(t));
        memcpy(b->bytes + *off + sizeof(t), data, bytes);
        memset(b->bytes + *off + sizeof(t) + bytes, 0, MSG_ITEM_SIZE(bytes) - sizeof(t) - bytes);
        *off += MSG_ITEM_SIZE(bytes);
        return 0;
}

/* One "TYPE:VALUE" argument into the message; an error message on stderr and -1 if it is not one. */
static int put_arg(Buf *b, uint32_t *off, const char *arg) {
        const char *colon = strchr(arg, ':');
        if (!colon) {
                fprintf(stderr, "machipcctl: call: %s: an item is TYPE:VALUE (i32:7, i64:-1, str:text, "
                        "bytes:@file)\n", arg);
                return -1;
        }
        const char *v = colon + 1;
        size_t tlen = (size_t)(colon - arg);
        long long n;
        int r = -1;
        if (tlen == 3 && !strncmp(arg, "i32", 3)) {
                if (ctl_number(v, INT32_MIN, UINT32_MAX, &n) == 0) {
                        int32_t x = (int32_t)n;
                        r = put(b, off, MSG_TYPE_INTEGER_32, 1, &x, 4);
                } else {
                        fprintf(stderr, "machipcctl: call: %s: not a 32-bit integer\n", arg);
                        return -1;
                }
        } else if (tlen == 3 && !strncmp(arg, "i64", 3)) {
                if (ctl_number(v, INT64_MIN, INT64_MAX, &n) == 0) {
                        int64_t x = n;
                        r = put(b, off, MSG_TYPE_INTEGER_64, 1, &x, 8);
                } else {
                        fprintf(stderr, "machipcctl: call: %s: not a 64-bit integer\n", arg);
                        return -1;
                }
        } else if (tlen == 3 && !strncmp(arg, "str", 3)) {
                uint32_t len = (uint32_t)strlen(v) + 1;
                r = put(b, off, MSG_TYPE_STRING, len, v, len);
        } else if (tlen == 5 && !strncmp(arg, "bytes", 5)) {
                if (v[0] != '@') {
                        fprintf(stderr, "machipcctl: call: %s: bytes come from a file: bytes:@FILE\n", arg);
                        return -1;
                }
                FILE *f = fopen(v + 1, "rb");
                if (!f) {
                        fprintf(stderr, "machipcctl: call: %s: %s\n", v + 1, strerror(errno));
                        return -1;
                }
                static uint8_t data[MSG_SIZE_MAX];
                size_t got = fread(data, 1, sizeof(data), f);
                bool more = fgetc(f) != EOF;
                fclose(f);
                if (more) {
                        fprintf(stderr, "machipcctl: call: %s: larger than a message (%u bytes)\n", v + 1,
                                MSG_SIZE_MAX);
                        return -1;
                }
                r = put(b, off, MSG_TYPE_BYTE, (uint32_t)got, data, (uint32_t)got);
        } else {
                fprintf(stderr, "machipcctl: call: %s: unknown type (i32, i64, str, bytes)\n", arg);
                return -1;
        }
        if (r < 0)
                fprintf(stderr, "machipcctl: call: the items do not fit in one message (%u bytes)\n", MSG_SIZE_MAX);
        return r;
}

static const char *type_word(uint16_t t) {
        switch (t) {
        case MSG_TYPE_BYTE: return "bytes";
        case MSG_TYPE_INTEGER_16: return "i16";
        case MSG_TYPE_INTEGER_32: return "i32";
        case MSG_TYPE_INTEGER_64: return "i64";
        case MSG_TYPE_CHAR: return "char";
        case MSG_TYPE_REAL_64: return "f64";
        case MSG_TYPE_STRING: return "str";
        case MSG_TYPE_PORT_RECEIVE: return "receive-right";
        case MSG_TYPE_PORT_SEND: return "send-right";
        case MSG_TYPE_PORT_SEND_ONCE: return "send-once-right";
        case MSG_TYPE_MEMORY: return "ool";
        case MSG_TYPE_FD: return "fd";
        default: return "unknown";
        }
}

/* The values of one item: numbers, a string, bytes in hex (the first 64), names of rights. */
static void print_values(FILE *f, uint16_t type, uint32_t number, const uint8_t *p, uint32_t len, bool json) {
        uint32_t size = type == MSG_TYPE_INTEGER_16 ? 2 : type == MSG_TYPE_INTEGER_32 ? 4
                      : type == MSG_TYPE_INTEGER_64 || type == MSG_TYPE_REAL_64 ? 8
                      : type >= MSG_TYPE_PORT_RECEIVE && type <= MSG_TYPE_MAKE_SEND_ONCE ? 4
                      : type == MSG_TYPE_FD ? 4 : 1;
        if (type == MSG_TYPE_STRING || type == MSG_TYPE_CHAR) {
                char text[MSG_SIZE_MAX + 1];
                uint32_t n = number < len ? number : len;
                memcpy(text, p, n);
                text[n] = '\0';
                if (json) {
                        json_string(f, text);
                } else {
                        fprintf(f, "\"%s\"", text);
                }
                return;
        }
        if (size == 1) {
                if (json)
                        fputc('"', f);
                for (uint32_t i = 0; i < number && i < len && i < 64; i++)
                        fprintf(f, "%02x", p[i]);
                if (number > 64)
                        fprintf(f, "...");
                if (json)
                        fputc('"', f);
                return;
        }
        fprintf(f, json ? "[" : "");
        for (uint32_t i = 0; i < number && (i + 1) * size <= len; i++) {
                const uint8_t *q = p + i * size;
                if (i)
                        fprintf(f, json ? ", " : " ");
                if (size == 2) {
                        int16_t x;
                        memcpy(&x, q, 2);
                        fprintf(f, "%d", x);
                } else if (size == 4) {
                        int32_t x;
                        memcpy(&x, q, 4);
                        fprintf(f, type == MSG_TYPE_INTEGER_32 ? "%" PRId32 : "%#" PRIx32, x);
                } else if (type == MSG_TYPE_REAL_64) {
                        double x;
                        memcpy(&x, q, 8);
                        fprintf(f, "%g", x);
                } else {
                        int64_t x;
                        memcpy(&x, q, 8);
                        fprintf(f, "%" PRId64, x);
                }
        }
        fprintf(f, json ? "]" : "");
}

static double now_us(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

int cmd_call(int argc, char **argv, const CtlOptions *o) {
        static const struct option opts[] = {
                { "timeout", required_argument, NULL, 't' },
                { "json", no_argument, NULL, 'j' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        long long timeout = 5000, id;
        bool json = o->json;
        int c;
        optind = 1;
        while ((c = getopt_long(argc, argv, "+t:jh", opts, NULL)) >= 0) {
                switch (c) {
                case 't':
                        if (ctl_number(optarg, 0, UINT32_MAX, &timeout) < 0) {
                                fprintf(stderr, "machipcctl: call: invalid --timeout: %s\n", optarg);
                                return 2;
                        }
                        break;
                case 'j':
                        json = true;
                        break;
                case 'h':
                        printf("Usage: machipcctl call [--json] [--timeout MS] NAME ID [ITEM...]\n"
                               "One request to the service checked in as NAME, with msg_id ID and the items\n"
                               "given (i32:N, i64:N, str:TEXT, bytes:@FILE), then its reply's items, return\n"
                               "code and round-trip time.\n");
                        return 0;
                default:
                        return 2;
                }
        }
        if (argc - optind < 2) {
                fprintf(stderr, "machipcctl: call: NAME and ID are needed (machipcctl call --help)\n");
                return 2;
        }
        const char *name = argv[optind];
        if (ctl_number(argv[optind + 1], INT32_MIN, INT32_MAX, &id) < 0) {
                fprintf(stderr, "machipcctl: call: invalid message id: %s\n", argv[optind + 1]);
                return 2;
        }
        static Buf b;
        uint32_t off = sizeof(msg_header_t);
        for (int i = optind + 2; i < argc; i++)
                if (put_arg(&b, &off, argv[i]) < 0)
                        return 2;
        port_t server, reply;
        kern_return_t kr = netname_look_up(PORT_NULL, NULL, name, &server);
        if (kr != NETNAME_SUCCESS) {
                fprintf(stderr, "machipcctl: call: cannot find \"%s\": %s\n", name, machipc_strerror(kr));
                return 1;
        }
        kr = port_allocate(task_self(), &reply);
        if (kr != KERN_SUCCESS) {
                fprintf(stderr, "machipcctl: call: port_allocate: %s\n", machipc_strerror(kr));
                return 1;
        }
        b.h.msg_bits = MSG_BITS(MSG_TYPE_COPY_SEND, MSG_TYPE_MAKE_SEND_ONCE);
        b.h.msg_size = off;
        b.h.msg_remote_port = server;
        b.h.msg_local_port = reply;
        b.h.msg_id = (int32_t)id;
        double t0 = now_us();
        msg_return_t mr = msg_rpc(&b.h, timeout ? SEND_TIMEOUT | RCV_TIMEOUT : MSG_OPTION_NONE, sizeof(b),
                                  (msg_timeout_t)timeout, (msg_timeout_t)timeout);
        double us = now_us() - t0;
        if (mr != 0) {
                fprintf(stderr, "machipcctl: call: %s: %s\n", name, machipc_strerror(mr));
                return 1;
        }
        /* A MIG reply: its first item is the return code. */
        msg_type_t first;
        bool has_code = b.h.msg_id == (int32_t)((uint32_t)id + 100u) && b.h.msg_size >= MIG_REPLY_BODY &&
                        (memcpy(&first, b.bytes + sizeof(msg_header_t), sizeof(first)),
                         first.msg_type_name == MSG_TYPE_INTEGER_32 && first.msg_type_number == 1);
        int32_t code = has_code ? mig_retcode(&b.h) : 0;
        if (json) {
                printf("{\"name\": ");
                json_string(stdout, name);
                printf(", \"id\": %lld, \"reply_id\": %d, \"size\": %u, \"time_us\": %.1f, ", id, b.h.msg_id,
                       b.h.msg_size, us);
                if (has_code) {
                        printf("\"return_code\": %d, \"return_text\": ", code);
                        json_string(stdout, machipc_strerror(code));
                        printf(", ");
                }
                printf("\"items\": [");
        } else {
                printf("reply id %d, %u bytes, in %.1f us\n", b.h.msg_id, b.h.msg_size, us);
                if (has_code)
                        printf("return code %d (%s)\n", code, machipc_strerror(code));
        }
        uint32_t at = sizeof(msg_header_t), k = 0;
        while (at + sizeof(msg_type_t) <= b.h.msg_size) {
                msg_type_t t;
                memcpy(&t, b.bytes + at, sizeof(t));
                uint32_t esize = t.msg_type_name == MSG_TYPE_INTEGER_16 ? 2
                               : t.msg_type_name == MSG_TYPE_INTEGER_64 || t.msg_type_name == MSG_TYPE_REAL_64 ? 8
                               : t.msg_type_name == MSG_TYPE_MEMORY ? 16
                               : t.msg_type_name == MSG_TYPE_INTEGER_32 || t.msg_type_name == MSG_TYPE_FD ||
                                 (t.msg_type_name >= MSG_TYPE_PORT_RECEIVE && t.msg_type_name <= MSG_TYPE_MAKE_SEND_ONCE)
                                       ? 4 : 1;
                uint64_t bytes = (uint64_t)esize * t.msg_type_number;
                const uint8_t *p = b.bytes + at + sizeof(t);
                uint32_t avail = b.h.msg_size - at - (uint32_t)sizeof(t);
                bool skip = has_code && k == 0;         /* shown as the return code */
                if (!skip) {
                        if (json) {
                                printf("%s{\"type\": \"%s\", \"count\": %u, \"value\": ", k > (has_code ? 1u : 0u) ? ", " : "",
                                       type_word(t.msg_type_name), t.msg_type_number);
                                print_values(stdout, t.msg_type_name, t.msg_type_number, p,
                                             bytes < avail ? (uint32_t)bytes : avail, true);
                                printf("}");
                        } else {
                                printf("  %s[%u] ", type_word(t.msg_type_name), t.msg_type_number);
                                print_values(stdout, t.msg_type_name, t.msg_type_number, p,
                                             bytes < avail ? (uint32_t)bytes : avail, false);
                                printf("\n");
                        }
                }
                k++;
                at += MSG_ITEM_SIZE(bytes > MSG_SIZE_MAX ? MSG_SIZE_MAX : (uint32_t)bytes);
        }
        if (json)
                printf("]}\n");
        msg_destroy(&b.h);
        port_deallocate(task_self(), reply);
        port_deallocate(task_self(), server);
        return has_code && code != 0 ? 3 : 0;
}
