#pragma once
/* SPDX-License-Identifier: MIT */
/* echo-serve.h - the echo/calculator service, for servers with a loop of their own */

#include "echo-proto.h"
#include "echoServer.h"

/*
 * echo_serve_one() - answer the request received in @in through @out (each
 * echo_MSG_SIZE_MAX bytes): decode it, run the routine, send the reply (one
 * call).  What the request carried is given back if it failed.
 */
void echo_serve_one(msg_header_t *in, msg_header_t *out);
