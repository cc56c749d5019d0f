#pragma once
/* SPDX-License-Identifier: MIT */
/* echo-proto.h - messages of the example echo/calculator service */

#include <stdint.h>
#include <machipc/machipc.h>

#define ECHO_SERVICE_NAME "echo"

/* Request ids; a reply has id + 100. */
#define ECHO_MSG_ECHO 500       /* STRING item -> STRING item, the same text */
#define ECHO_MSG_CALC 501       /* INTEGER_64[2] (a, b), INTEGER_32 (op) -> INTEGER_32 code, INTEGER_64 */

#define ECHO_TEXT_MAX 1024

/* Calculator codes in the reply. */
#define CALC_OK 0
#define CALC_DIVIDE_BY_ZERO 1
#define CALC_BAD_OPERATOR 2
#define CALC_OVERFLOW 3

typedef struct {
        msg_header_t head;
        msg_type_t text_type;
        char text[ECHO_TEXT_MAX];
} EchoMsg;

typedef struct {
        msg_header_t head;
        msg_type_t args_type;   /* INTEGER_64, 2 */
        int64_t args[2];
        msg_type_t op_type;     /* INTEGER_32, 1 */
        int32_t op;             /* '+', '-', '*', '/' */
        int32_t pad;
} CalcRequest;

typedef struct {
        msg_header_t head;
        msg_type_t code_type;   /* INTEGER_32, 1 */
        int32_t code;
        int32_t pad;
        msg_type_t result_type; /* INTEGER_64, 1 */
        int64_t result;
} CalcReply;
