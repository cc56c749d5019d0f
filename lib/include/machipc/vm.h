#pragma once
/* SPDX-License-Identifier: MIT */
/* machipc/vm.h - regions that can travel out of line in messages */

#include <stdint.h>
#include <machipc/types.h>
#include <machipc/return.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef uintptr_t vm_address_t;
typedef uint64_t vm_size_t;

/**
 * vm_allocate() - a new zero-filled region that can travel out of line
 * @task: task_self() (or PORT_NULL): regions are always the caller's own
 * @address: out, page-aligned
 * @size: bytes (rounded up to pages); 0 gives address 0
 * @anywhere: must be non-zero (the library picks the address)
 *
 * The region is backed by a memfd, so sending it (MSG_TYPE_MEMORY) hands its
 * pages over instead of copying them.  Regions given back by vm_deallocate()
 * are kept for reuse (up to $MACHIPC_VM_POOL_BYTES, default 256 MiB), so a
 * program that allocates and frees in a loop does not pay for fresh pages.
 * Return: KERN_SUCCESS, KERN_INVALID_ARGUMENT (@anywhere 0, another task,
 * @size above MSG_OOL_SIZE_MAX), KERN_RESOURCE_SHORTAGE, -EINVAL.
 */
MACHIPC_EXPORT kern_return_t vm_allocate(port_t task, vm_address_t *address, vm_size_t size,
                                         int anywhere);

/**
 * vm_deallocate() - give back a region from vm_allocate() or from a message
 * @address: its start
 * @size: its size (as allocated or received)
 *
 * Return: KERN_SUCCESS, KERN_INVALID_ADDRESS (not the start of such a region),
 * KERN_INVALID_ARGUMENT (another task, or a size larger than the region).
 */
MACHIPC_EXPORT kern_return_t vm_deallocate(port_t task, vm_address_t address, vm_size_t size);

/**
 * machipc_shm_create() - a shared region of @size bytes, zero-filled
 * @object: out, a send right to it: check it in with the name server and
 *          others can look it up and map the same pages
 *
 * The region lives while send rights to it exist; mappings keep their pages.
 * Return: KERN_SUCCESS, KERN_INVALID_ARGUMENT (0 or above MSG_OOL_SIZE_MAX),
 * KERN_NO_SPACE (the task's name space is full: nothing was made),
 * KERN_RESOURCE_SHORTAGE, -errno.
 */
MACHIPC_EXPORT kern_return_t machipc_shm_create(vm_size_t size, port_t *object);

/**
 * machipc_shm_map() - map a shared region into this task, readable and writable
 * @object: a send right to it
 * @address, @size: out; give it back with vm_deallocate()
 *
 * Every task that maps it sees every other's writes.
 * Return: KERN_SUCCESS, KERN_INVALID_ARGUMENT (@object is no shared region;
 * SEND_INVALID_DEST if it is dead), KERN_RESOURCE_SHORTAGE, SEND_NO_BUFFER
 * (this task's descriptor or kernel quota, or the broker's descriptors, are
 * used up), -errno.
 */
MACHIPC_EXPORT kern_return_t machipc_shm_map(port_t object, vm_address_t *address, vm_size_t *size);

#ifdef __cplusplus
}
#endif
