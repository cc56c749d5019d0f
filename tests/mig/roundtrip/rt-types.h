#pragma once
/* SPDX-License-Identifier: MIT */
/* rt-types.h - the C types rt.defs names, for both sides */

#include <stdint.h>
#include <machipc/mig.h>

/* The id of the pings give_rights sends. */
#define RT_PING 7900

typedef int32_t quad4_t[4];
typedef struct {
        int64_t x, y;
} rt_point_t;

/* What obj's port becomes in the server (intran), and back (outtran). */
typedef struct rt_obj *rt_obj_t;
rt_obj_t rt_obj_in(mach_port_t port);
mach_port_t rt_obj_out(rt_obj_t obj);
void rt_obj_done(rt_obj_t obj);
