#pragma once
/* GNU Mach's device/device_types.defs filter types, in C (see mach/std_types.h here). */
#include <device/device_types.h>

typedef short filter_t;
typedef filter_t *filter_array_t;
