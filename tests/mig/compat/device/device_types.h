#pragma once
/* GNU Mach's device/device_types.defs, in C (see mach/std_types.h here). */
#include <mach/std_types.h>

typedef rpc_long_natural_t rpc_recnum_t, recnum_t;
typedef uint32_t dev_mode_t, dev_flavor_t;
typedef char dev_name_t[128];
typedef int *dev_status_t;
typedef char *io_buf_ptr_t;
typedef char io_buf_ptr_inband_t[128];
typedef mach_port_t device_t;
