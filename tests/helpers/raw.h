#pragma once
/* SPDX-License-Identifier: MIT */
/* raw.h - talking to the broker byte by byte, as a hostile or hand-written client would */

#include <stddef.h>
#include <stdint.h>
#include "wire.h"

/* A connection to the broker at @path, no handshake yet. */
int raw_connect(const char *path);
/* Send one frame; fails the test unless all of it went. */
void raw_send(int fd, const void *data, size_t len);
/* A frame into @f: header (@op, @flags, @serial), then @len bytes of @body; returns its size. */
size_t raw_frame(uint8_t *f, uint16_t op, uint16_t flags, uint32_t serial, const void *body, size_t len);
/* A hello frame (WIRE_HDR_SIZE + WIRE_HELLO_SIZE bytes). */
void raw_hello_frame(uint8_t *out, uint16_t major, uint16_t minor, uint32_t magic);
/* A handshaken connection speaking @minor; the broker's answer in *@reply (may be NULL). */
int raw_task(const char *path, uint16_t minor, WireHelloReply *reply);
/* The broker hangs up on @fd (after any replies it wrote); closes it. */
void raw_assert_dropped(int fd);
/* This process's own library connection to the broker at @path, or -1. */
int raw_own_connection(const char *path);
