/*
 * bits.h - reinterpreting floating-point numbers as their IEEE-754 bits and back, the same way
 * on the host (memcpy, which compilers turn into a register move) and the device (intrinsics).
 * Used by the bit-indexed grid (physics/grid.h), the polynomial log and exp (physics/fastmath.h)
 * and the normal sampler's sign (physics/random.h).
 * Pure functions: any thread.
 */
#ifndef BRAGG_BITS_H
#define BRAGG_BITS_H

#include <stdint.h>
#include <string.h>

#include "hd.h"

static inline BRAGG_HD uint32_t float_to_bits(float x)
{
#if defined(__CUDA_ARCH__)
    return __float_as_uint(x);
#else
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u;
#endif
}

static inline BRAGG_HD float bits_to_float(uint32_t u)
{
#if defined(__CUDA_ARCH__)
    return __uint_as_float(u);
#else
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
#endif
}

static inline BRAGG_HD uint64_t double_to_bits(double x)
{
#if defined(__CUDA_ARCH__)
    return (uint64_t)__double_as_longlong(x);
#else
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    return u;
#endif
}

static inline BRAGG_HD double bits_to_double(uint64_t u)
{
#if defined(__CUDA_ARCH__)
    return __longlong_as_double((long long)u);
#else
    double x;
    memcpy(&x, &u, sizeof x);
    return x;
#endif
}

#endif
