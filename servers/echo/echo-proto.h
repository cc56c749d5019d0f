#pragma once
/* SPDX-License-Identifier: MIT */
/*
 * echo-proto.h - what the example echo/calculator service's clients and
 * servers agree on besides its messages, which interfaces/echo.defs
 * defines (machipc-mig writes the stubs)
 */

#define ECHO_SERVICE_NAME "echo"

/* Bytes of text, NUL included (echo_text_t). */
#define ECHO_TEXT_MAX 1024

/* The calculator's codes (calc's code out-argument). */
#define CALC_OK 0
#define CALC_DIVIDE_BY_ZERO 1
#define CALC_BAD_OPERATOR 2
#define CALC_OVERFLOW 3
