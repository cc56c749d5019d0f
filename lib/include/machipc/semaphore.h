#pragma once
/* SPDX-License-Identifier: MIT */
/* machipc/semaphore.h - counting semaphores served by the broker */

#include <machipc/types.h>
#include <machipc/return.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A send right to a semaphore's port: pass it to other tasks in messages. */
typedef port_t semaphore_t;

/**
 * semaphore_create() - a counting semaphore owned by @task
 * @sem: out, a send right to it
 * @value: the initial count (>= 0)
 *
 * It lives until semaphore_destroy(), until its owner task ends, or until
 * the last send right to it goes (nobody could use it); then waiters get
 * KERN_TERMINATED and rights to it are dead names.
 * Return: KERN_SUCCESS, KERN_INVALID_ARGUMENT (@value < 0), KERN_NO_SPACE
 * (the task's name space is full: nothing was made), KERN_RESOURCE_SHORTAGE,
 * KERN_INVALID_TASK, SEND_NO_BUFFER (past the kernel_messages quota), -errno.
 */
MACHIPC_EXPORT kern_return_t semaphore_create(port_t task, semaphore_t *sem, int32_t value);

/**
 * semaphore_destroy() - end a semaphore @task created
 *
 * Return: KERN_SUCCESS, KERN_INVALID_ARGUMENT (not a semaphore @task owns),
 * KERN_INVALID_TASK, -errno.
 */
MACHIPC_EXPORT kern_return_t semaphore_destroy(port_t task, semaphore_t sem);

/**
 * semaphore_signal() - wake the longest waiter, or count up if none waits
 *
 * Return: KERN_SUCCESS, KERN_INVALID_ARGUMENT (not a semaphore),
 * KERN_TERMINATED (destroyed), -errno.
 */
MACHIPC_EXPORT kern_return_t semaphore_signal(semaphore_t sem);

/**
 * semaphore_signal_all() - wake every waiter (the count does not change)
 *
 * Return: as semaphore_signal().
 */
MACHIPC_EXPORT kern_return_t semaphore_signal_all(semaphore_t sem);

/**
 * semaphore_wait() - count down, waiting while the count is 0
 *
 * Waiters are woken in the order they came (FIFO).
 * Return: KERN_SUCCESS, KERN_TERMINATED (destroyed, or its owner died, while
 * waiting or before), KERN_INVALID_ARGUMENT, KERN_RESOURCE_SHORTAGE (4,096
 * waiters already), -errno.
 */
MACHIPC_EXPORT kern_return_t semaphore_wait(semaphore_t sem);

/**
 * semaphore_timedwait() - semaphore_wait() for at most @timeout_ms (0: do not wait)
 *
 * Return: as semaphore_wait(), or KERN_OPERATION_TIMED_OUT.
 */
MACHIPC_EXPORT kern_return_t semaphore_timedwait(semaphore_t sem, uint32_t timeout_ms);

#ifdef __cplusplus
}
#endif
