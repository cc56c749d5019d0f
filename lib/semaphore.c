/* SPDX-License-Identifier: MIT */
/*
 * semaphore.c - counting semaphores: RPCs to a semaphore's port
 *
 * Creating and destroying are kernel calls on the owner's task port; signal
 * and wait are requests to the semaphore's own port, answered by the broker
 * (a wait is answered when it is satisfied, times out, or the semaphore ends).
 */

#include <errno.h>
#include <string.h>
#include "internal.h"
#include "kcall.h"

kern_return_t semaphore_create(port_t task, semaphore_t *sem, int32_t value) {
        int32_t res[1];
        uint32_t args[1] = { (uint32_t)value };
        if (!sem)
                return -EINVAL;
        if (value < 0)
                return KERN_INVALID_ARGUMENT;
        port_t right = PORT_NULL;
        int r = kcall(task, KCALL_SEMAPHORE_CREATE, args, 1, res, 1, 0, 0, &right);
        /* Made, but our name space had no room for its right: the semaphore,
         * which nobody can name, is gone already. */
        if (r == 0 && right == PORT_NULL)
                return KERN_NO_SPACE;
        if (r == 0)
                *sem = right;
        return r;
}

kern_return_t semaphore_destroy(port_t task, semaphore_t sem) {
        int32_t res[1];
        uint32_t args[1] = { sem };
        return kcall(task, KCALL_SEMAPHORE_DESTROY, args, 1, res, 1, 0, 0, NULL);
}

/* One request to the semaphore's port. */
static kern_return_t sem_call(semaphore_t sem, int32_t id, const uint32_t *args, uint32_t n_args) {
        int32_t res[1];
        int r = kcall(sem, id, args, n_args, res, 1, 0, 0, NULL);
        if (r == -EPROTO)
                return KERN_INVALID_ARGUMENT;   /* something else answered: not a semaphore */
        if (r == KERN_INVALID_TASK)
                return KERN_TERMINATED;         /* its port is dead */
        return r;
}

kern_return_t semaphore_signal(semaphore_t sem) {
        return sem_call(sem, SEM_SIGNAL, NULL, 0);
}

kern_return_t semaphore_signal_all(semaphore_t sem) {
        return sem_call(sem, SEM_SIGNAL_ALL, NULL, 0);
}

kern_return_t semaphore_wait(semaphore_t sem) {
        uint32_t args[2] = { 0, 0 };
        return sem_call(sem, SEM_WAIT, args, 2);
}

kern_return_t semaphore_timedwait(semaphore_t sem, uint32_t timeout_ms) {
        uint32_t args[2] = { timeout_ms, 1 };
        return sem_call(sem, SEM_WAIT, args, 2);
}
