/* The C types kinds.defs names (a MIG interface imports its own): its
 * translated port's functions too. */
#pragma once
#include <stdint.h>
#include <machipc/mig.h>
typedef int *small_t;
typedef char *name_t;
typedef uint8_t *blob_t;
typedef struct {
        int64_t v[2];
} pair_t;
typedef struct handle_value *handle_value_t;
handle_value_t handle_in(mach_port_t port);
mach_port_t handle_out(handle_value_t value);
void handle_release(handle_value_t value);
