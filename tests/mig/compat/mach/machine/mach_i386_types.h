#pragma once
/* GNU Mach's mach/x86_64/mach_i386.defs types, in C (see mach/std_types.h here). */
#include <mach/std_types.h>

typedef struct {
        int v[2];
} descriptor_t;
typedef descriptor_t *descriptor_list_t;
typedef short io_port_t;
typedef mach_port_t io_perm_t;
