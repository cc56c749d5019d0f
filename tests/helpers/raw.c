/* SPDX-License-Identifier: MIT */
/* raw.c - talking to the broker byte by byte (raw.h) */

#include <check.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>
#include "raw.h"

int raw_connect(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
        int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        return fd;
}

void raw_send(int fd, const void *data, size_t len) {
        ck_assert_int_eq(send(fd, data, len, MSG_NOSIGNAL), (ssize_t)len);
}

size_t raw_frame(uint8_t *f, uint16_t op, uint16_t flags, uint32_t serial, const void *body, size_t len) {
        WireHeader h = { .size = (uint32_t)(WIRE_HDR_SIZE + len), .op = op, .flags = flags, .serial = serial };
        wire_header_encode(f, &h);
        if (len)
                memcpy(f + WIRE_HDR_SIZE, body, len);
        return WIRE_HDR_SIZE + len;
}

void raw_hello_frame(uint8_t *out, uint16_t major, uint16_t minor, uint32_t magic) {
        WireHeader h = { .size = WIRE_HDR_SIZE + WIRE_HELLO_SIZE, .op = WIRE_OP_HELLO, .serial = 1 };
        WireHello m = { .magic = magic, .major = major, .minor = minor };
        wire_header_encode(out, &h);
        wire_hello_encode(out + WIRE_HDR_SIZE, &m);
}

int raw_task(const char *path, uint16_t minor, WireHelloReply *reply) {
        int fd = raw_connect(path);
        uint8_t f[64];
        raw_hello_frame(f, WIRE_VERSION_MAJOR, minor, WIRE_MAGIC);
        raw_send(fd, f, WIRE_HDR_SIZE + WIRE_HELLO_SIZE);
        uint8_t in[128];
        ck_assert_int_eq(recv(fd, in, sizeof(in), 0), WIRE_HDR_SIZE + WIRE_HELLO_REPLY_SIZE);
        WireHelloReply r;
        ck_assert_int_eq(wire_hello_reply_decode(in + WIRE_HDR_SIZE, WIRE_HELLO_REPLY_SIZE, &r), 0);
        ck_assert_uint_eq(r.status, 0);
        if (reply)
                *reply = r;
        return fd;
}

void raw_assert_dropped(int fd) {
        uint8_t buf[256];
        struct timeval tv = { 10, 0 };
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        ssize_t n;
        while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
                ;
        ck_assert_int_eq(n, 0);
        close(fd);
}

int raw_own_connection(const char *path) {
        for (int fd = 3; fd < 1024; fd++) {
                struct sockaddr_un sa;
                socklen_t len = sizeof(sa);
                memset(&sa, 0, sizeof(sa));
                if (getpeername(fd, (struct sockaddr *)&sa, &len) == 0 && sa.sun_family == AF_UNIX &&
                    strcmp(sa.sun_path, path) == 0)
                        return fd;
        }
        return -1;
}
