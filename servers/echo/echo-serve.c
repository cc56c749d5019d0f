/* SPDX-License-Identifier: MIT */
/* echo-serve.c - answering the echo/calculator protocol (echo-serve.h) */

#include <string.h>
#include "echo-serve.h"

static int32_t calc(int64_t a, int64_t b, int32_t op, int64_t *out) {
        switch (op) {
        case '+':
                return __builtin_add_overflow(a, b, out) ? CALC_OVERFLOW : CALC_OK;
        case '-':
                return __builtin_sub_overflow(a, b, out) ? CALC_OVERFLOW : CALC_OK;
        case '*':
                return __builtin_mul_overflow(a, b, out) ? CALC_OVERFLOW : CALC_OK;
        case '/':
                if (b == 0)
                        return CALC_DIVIDE_BY_ZERO;
                if (a == INT64_MIN && b == -1)
                        return CALC_OVERFLOW;
                *out = a / b;
                return CALC_OK;
        default:
                return CALC_BAD_OPERATOR;
        }
}

bool echo_serve(EchoBuffer *b, uint32_t size) {
        port_t reply = b->head.msg_remote_port;
        int32_t id = b->head.msg_id;
        if (reply == PORT_NULL)
                return false;
        if (id == ECHO_MSG_ECHO && size >= sizeof(msg_header_t) + sizeof(msg_type_t) &&
            b->echo.text_type.msg_type_name == MSG_TYPE_STRING &&
            b->echo.text_type.msg_type_number <= ECHO_TEXT_MAX) {
                /* The text stays where it is; only the header changes. */
                b->head.msg_size = size;
        } else if (id == ECHO_MSG_CALC && size == sizeof(CalcRequest)) {
                int64_t r = 0;
                int32_t code = calc(b->calc_req.args[0], b->calc_req.args[1], b->calc_req.op, &r);
                CalcReply *rep = &b->calc_rep;
                msg_type_init(&rep->code_type, MSG_TYPE_INTEGER_32, 1);
                rep->code = code;
                rep->pad = 0;
                msg_type_init(&rep->result_type, MSG_TYPE_INTEGER_64, 1);
                rep->result = r;
                b->head.msg_size = sizeof(CalcReply);
        } else {
                /* Unknown request: an empty reply tells the client so. */
                b->head.msg_size = sizeof(msg_header_t);
        }
        b->head.msg_id = id + 100;
        b->head.msg_remote_port = reply;
        b->head.msg_local_port = PORT_NULL;
        b->head.msg_bits = 0;   /* default: move the send-once reply right */
        return true;
}

