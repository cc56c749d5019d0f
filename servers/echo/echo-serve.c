/* SPDX-License-Identifier: MIT */
/*
 * echo-serve.c - the echo/calculator service's routines (interfaces/echo.defs):
 * what do_echo() and do_calc() answer; the generated stubs do the rest
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "echo-serve.h"

kern_return_t do_echo(mach_port_t server, char *text, char *reply) {
        (void)server;
        /* Both are at most ECHO_TEXT_MAX bytes, NUL included: the stubs checked. */
        snprintf(reply, ECHO_TEXT_MAX, "%s", text);
        return KERN_SUCCESS;
}

kern_return_t do_calc(mach_port_t server, int64_t a, int64_t b, int32_t op, int32_t *code, int64_t *result) {
        (void)server;
        *result = 0;
        switch (op) {
        case '+':
                *code = __builtin_add_overflow(a, b, result) ? CALC_OVERFLOW : CALC_OK;
                break;
        case '-':
                *code = __builtin_sub_overflow(a, b, result) ? CALC_OVERFLOW : CALC_OK;
                break;
        case '*':
                *code = __builtin_mul_overflow(a, b, result) ? CALC_OVERFLOW : CALC_OK;
                break;
        case '/':
                if (b == 0) {
                        *code = CALC_DIVIDE_BY_ZERO;
                } else if (a == INT64_MIN && b == -1) {
                        *code = CALC_OVERFLOW;
                } else {
                        *result = a / b;
                        *code = CALC_OK;
                }
                break;
        default:
                *code = CALC_BAD_OPERATOR;
                break;
        }
        return KERN_SUCCESS;
}

void echo_serve_one(msg_header_t *in, msg_header_t *out) {
        memset(out, 0, sizeof(*out));
        bool handled = echo_server(in, out);
        if (!machipc_mig_reply_ready(in, out, handled))
                return;
        msg_return_t r = machipc_mig_reply(out, 1000);
        if (r != 0 && r != SEND_INVALID_DEST && r != SEND_TIMED_OUT)
                fprintf(stderr, "echo: reply: %s\n", machipc_strerror(r));
}
