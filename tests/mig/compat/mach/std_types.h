#pragma once
/*
 * The C types GNU Mach's mach/std_types.defs names, with the sizes those
 * declarations give them on x86_64: what code generated from GNU Mach's
 * .defs files needs to compile against libmachipc.  For the generator's
 * tests only; a program includes its own interface's types.
 */
#include <stdint.h>
#include <machipc/mig.h>
#include <machipc/vm.h>

typedef uint32_t natural_t;
typedef int32_t integer_t;
typedef uint64_t rpc_long_natural_t;
typedef int64_t rpc_long_integer_t;
typedef uint64_t long_natural_t;
typedef int64_t long_integer_t;
typedef uint64_t rpc_phys_addr_t;
typedef uint64_t rpc_vm_size_t;
typedef uint64_t rpc_vm_offset_t;
typedef uintptr_t vm_offset_t;
typedef vm_offset_t pointer_t;
typedef natural_t mach_port_name_t;
typedef mach_port_t *mach_port_array_t;
typedef mach_port_name_t *mach_port_name_array_t;
typedef natural_t mach_port_right_t;
typedef natural_t mach_port_type_t;
typedef mach_port_type_t *mach_port_type_array_t;
typedef natural_t mach_port_urefs_t;
typedef integer_t mach_port_delta_t;
typedef natural_t mach_port_seqno_t;
typedef unsigned mach_port_mscount_t;
typedef unsigned mach_port_msgcount_t;
typedef unsigned mach_port_rights_t;
typedef integer_t mach_msg_id_t;
