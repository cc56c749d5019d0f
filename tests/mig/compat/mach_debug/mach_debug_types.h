#pragma once
/* GNU Mach's mach_debug/mach_debug_types.defs, in C (see mach/std_types.h here). */
#include <mach/mach_types.h>

typedef struct {
        unsigned hib_count;
} hash_info_bucket_t;
typedef hash_info_bucket_t *hash_info_bucket_array_t;
typedef struct {
        char v[32];
} cache_name_t;
typedef struct {
        integer_t flags;
        rpc_vm_size_t cpu_pool_size, obj_size, align, buf_size, slab_size;
        rpc_long_natural_t bufs_per_slab, nr_objs, nr_bufs, nr_slabs, nr_free_slabs;
        cache_name_t name;
} cache_info_t;
typedef cache_info_t *cache_info_array_t;
typedef struct {
        rpc_vm_offset_t vri_start, vri_end;
        vm_prot_t vri_protection, vri_max_protection;
        vm_inherit_t vri_inheritance;
        unsigned vri_wired_count, vri_user_wired_count;
        rpc_vm_offset_t vri_object, vri_offset;
        integer_t vri_needs_copy;
        unsigned vri_sharing;
} vm_region_info_t;
typedef vm_region_info_t *vm_region_info_array_t;
typedef uint32_t vm_object_info_state_t;
typedef struct {
        rpc_vm_offset_t voi_object;
        rpc_vm_size_t voi_pagesize, voi_size;
        unsigned voi_ref_count, voi_resident_page_count, voi_absent_count;
        rpc_vm_offset_t voi_copy, voi_shadow, voi_shadow_offset, voi_paging_offset;
        memory_object_copy_strategy_t voi_copy_strategy;
        rpc_vm_offset_t voi_last_alloc;
        unsigned voi_paging_in_progress;
        vm_object_info_state_t voi_state;
} vm_object_info_t;
typedef vm_object_info_t *vm_object_info_array_t;
typedef uint32_t vm_page_info_state_t;
typedef struct {
        rpc_vm_offset_t vpi_offset, vpi_phys_addr;
        unsigned vpi_wire_count;
        vm_prot_t vpi_page_lock, vpi_unlock_request;
        vm_page_info_state_t vpi_state;
} vm_page_info_t;
typedef vm_page_info_t *vm_page_info_array_t;
typedef char symtab_name_t[32];
typedef char kernel_debug_name_t[64];
