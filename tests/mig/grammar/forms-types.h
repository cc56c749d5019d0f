/* The C types forms.defs names. */
#pragma once
#include <stdint.h>
typedef int32_t word_t;
typedef int32_t words4_t[4];
typedef struct {
        int32_t a;
        int64_t b;
        int16_t c;
} rec_t;
typedef int16_t *inplace_t;
