#pragma once
/* GNU Mach's mach/default_pager_types.defs, in C (see mach/std_types.h here). */
#include <mach/std_types.h>

typedef struct {
        vm_size_t dpi_total_space, dpi_free_space, dpi_page_size;
} default_pager_info_t;
typedef struct {
        vm_offset_t dpo_object;
        vm_size_t dpo_size;
} default_pager_object_t;
typedef default_pager_object_t *default_pager_object_array_t;
typedef struct {
        vm_offset_t dpp_offset;
} default_pager_page_t;
typedef default_pager_page_t *default_pager_page_array_t;
typedef char default_pager_filename_t[256];
