#pragma once
/* SPDX-License-Identifier: MIT */
/* echo-serve.h - answering the echo/calculator protocol (echo-proto.h), for any server loop */

#include <stdbool.h>
#include <stdint.h>
#include "echo-proto.h"

/* Room for any request of the protocol, and its reply. */
typedef union {
        msg_header_t head;
        EchoMsg echo;
        CalcRequest calc_req;
        CalcReply calc_rep;
        uint8_t bytes[sizeof(EchoMsg) + 64];
} EchoBuffer;

/*
 * echo_serve() - turn the request received in @b (@size bytes) into its
 * reply, in place, addressed to the request's reply right
 *
 * Return: true, or false when there is nothing to send (no reply right).
 */
bool echo_serve(EchoBuffer *b, uint32_t size);
