#pragma once
/* GNU Mach's mach/mach_types.defs, in C (see mach/std_types.h here). */
#include <mach/std_types.h>

typedef struct {
        mach_port_name_t mps_pset;
        mach_port_seqno_t mps_seqno;
        mach_port_mscount_t mps_mscount;
        mach_port_msgcount_t mps_qlimit;
        mach_port_msgcount_t mps_msgcount;
        mach_port_rights_t mps_sorights;
        boolean_t mps_srights;
        boolean_t mps_pdrequest;
        boolean_t mps_nsrequest;
} mach_port_status_t;

typedef mach_port_t task_t, thread_t, vm_task_t, ipc_space_t, host_t, host_priv_t, processor_t,
        processor_set_t, processor_set_name_t, memory_object_t, memory_object_control_t,
        memory_object_name_t;
typedef task_t *task_array_t;
typedef thread_t *thread_array_t;
typedef processor_t *processor_array_t;
typedef processor_set_t *processor_set_array_t;
typedef processor_set_name_t *processor_set_name_array_t;
typedef natural_t *thread_state_t;
typedef integer_t *thread_info_t, *task_info_t, *host_info_t, *processor_info_t, *processor_set_info_t;
typedef int *rpc_signature_info_t;
typedef int vm_prot_t, vm_inherit_t, vm_machine_attribute_t, vm_machine_attribute_val_t, vm_sync_t,
        memory_object_copy_strategy_t, memory_object_return_t, vm_wire_t;
typedef struct {
        integer_t v[13];
} vm_statistics_data_t;
typedef struct {
        integer_t v[11];
} vm_cache_statistics_data_t;
typedef char kernel_version_t[512];
typedef char kernel_boot_info_t[4096];
typedef struct {
        rpc_long_integer_t seconds;
        integer_t microseconds;
} rpc_time_value_t;
typedef rpc_time_value_t time_value_t;
typedef vm_offset_t *emulation_vector_t;
typedef vm_offset_t *vm_offset_array_t;
typedef vm_size_t *vm_size_array_t;
typedef mach_port_t *memory_object_array_t;
typedef unsigned sampled_pc_flavor_t, sampled_pc_seqno_t;
