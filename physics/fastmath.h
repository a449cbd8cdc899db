/*
 * fastmath.h - the few elementary functions the transport step evaluates millions of times a
 * second, as short polynomials with a proven error bound instead of libm calls.
 *
 *  fast_log(x)        natural log, x > 0 (finite, normal): absolute error < 1e-10
 *  fast_sincos_turn   sin and cos of 2 pi u for u in [0, 1): absolute error < 2e-9
 *  fast_sincos_small  sin(t)/t and cos(t) for |t| <= pi/4: relative error < 2e-9
 *
 * Bounds come from the remainder terms of the series used (stated at each function) and are
 * checked against libm in tests/unit/test_fastmath.c. They matter only where sampling noise is
 * far larger (Gaussian deviates, scattering angles); physics tables keep using libm.
 * Pure functions: any thread, host or device.
 */
#ifndef BRAGG_FASTMATH_H
#define BRAGG_FASTMATH_H

#include <stdint.h>

#include "bits.h"
#include "hd.h"

#define FAST_LN2 0.6931471805599453

/* ln(x) = k ln 2 + ln(m), m in [sqrt(1/2), sqrt(2)), and ln(m) = 2 atanh(s) with
 * s = (m - 1)/(m + 1), |s| <= 0.1716: 2 (s + s^3/3 + ... + s^11/11) leaves a remainder below
 * 2 s^13 / 13 / (1 - s^2) = 1.4e-11 absolute (plus rounding), and the series is exact at
 * m = 1. */
static inline BRAGG_HD double fast_log(double x)
{
    uint64_t bits = double_to_bits(x);
    int k = (int)((bits >> 52) & 0x7ff) - 1023;
    double m = bits_to_double((bits & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL);
    if (m > 1.4142135623730951) {
        m *= 0.5;
        k++;
    }
    double s = (m - 1.0) / (m + 1.0), s2 = s * s;
    double p = 1.0 + s2 * (1.0 / 3 + s2 * (1.0 / 5 + s2 * (1.0 / 7 + s2 * (1.0 / 9 + s2 * (1.0 / 11)))));
    return k * FAST_LN2 + 2.0 * s * p;
}

/* sin(t)/t and cos(t) for |t| <= pi/4 from their Taylor series; the first omitted terms bound
 * the error: (pi/4)^12/13! = 8.8e-12 for sin(t)/t, (pi/4)^12/12! = 1.1e-10 for cos. */
static inline BRAGG_HD void fast_sincos_small(double t, double *sin_over_t, double *cos_t)
{
    double t2 = t * t;
    *sin_over_t = 1.0 + t2 * (-1.0 / 6 + t2 * (1.0 / 120 + t2 * (-1.0 / 5040 + t2 * (1.0 / 362880 +
                                                                            t2 * (-1.0 / 39916800)))));
    *cos_t = 1.0 + t2 * (-0.5 + t2 * (1.0 / 24 + t2 * (-1.0 / 720 + t2 * (1.0 / 40320 +
                                                                       t2 * (-1.0 / 3628800)))));
}

/* sin and cos of 2 pi u, u in [0, 1): the angle splits into a whole number q of quarter turns
 * and a rest |x| <= pi/4, for which fast_sincos_small holds. */
static inline BRAGG_HD void fast_sincos_turn(double u, double *s, double *c)
{
    double v = 4.0 * u + 0.5;
    int q = (int)v;
    double x = (v - q - 0.5) * 1.5707963267948966;
    double so, co;
    fast_sincos_small(x, &so, &co);
    double sx = so * x;
    switch (q & 3) {
    case 0: *s = sx; *c = co; break;
    case 1: *s = co; *c = -sx; break;
    case 2: *s = -sx; *c = -co; break;
    default: *s = -co; *c = sx; break;
    }
}

#endif
