/*
 * fastmath.h - the few elementary functions the transport step evaluates millions of times a
 * second, as short polynomials with a proven error bound instead of libm calls.
 *
 *  fast_log(x)        natural log, x > 0 (finite, normal): absolute error < 1e-10
 *  fast_sincos_small  sin(t)/t and cos(t) for |t| <= pi/4: relative error < 2e-9
 *  portable_exp(t)    e^t, -708 < t < 709: relative error < 4e-16, same bits everywhere
 *  portable_log(x)    natural log, x > 0 (normal): relative error < 4e-16, same bits everywhere
 *  portable_pow(x, y) x^y = e^(y ln x), x >= 0: relative error < (1 + |y ln x|) 5e-16
 *  portable_cbrt(x)   x^(1/3), x >= 0 (normal or 0): relative error < 1e-15
 *  portable_sincos    sin and cos, |x| < 2^19: absolute error < 1e-15
 *  portable_atan2     the angle of (x, y), as atan2: absolute error < 1e-15
 *
 * Bounds come from the remainder terms of the series used (stated at each function) and are
 * checked against libm in tests/unit/test_fastmath.c. They matter only where sampling noise is
 * far larger (scattering angles, free paths); physics tables keep using libm. The portable_
 * functions are for everything the transport computes from random numbers on both sides, the
 * CPU and the GPU (the ziggurat's decisions in random.h, the reaction sampling of
 * fragmentation.h, large deflections): they use only +, -, *, / and bit moves, so the CPU and
 * the GPU compute the same bits and a run scores the same integers on either. (libm and CUDA's
 * math library differ in the last bit of exp, pow, cbrt, sin, cos and atan2, which moves a
 * sampled fragment and, through it, everything after.)
 * Pure functions: any thread, host or device.
 */
#ifndef BRAGG_FASTMATH_H
#define BRAGG_FASTMATH_H

#include <stdint.h>

#include "bits.h"
#include "hd.h"

#define FAST_LN2 0.6931471805599453

/* The range reduction of the logarithms below: x = 2^k m with m in [sqrt(1/2), sqrt(2)), for
 * positive normal x; returns s = (m - 1)/(m + 1), so that ln(m) = 2 atanh(s). */
static inline BRAGG_HD double log_reduce(double x, int *k_out)
{
    uint64_t bits = double_to_bits(x);
    int k = (int)((bits >> 52) & 0x7ff) - 1023;
    double m = bits_to_double((bits & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL);
    if (m > 1.4142135623730951) {
        m *= 0.5;
        k++;
    }
    *k_out = k;
    return (m - 1.0) / (m + 1.0);
}

/* ln(x) = k ln 2 + ln(m), m in [sqrt(1/2), sqrt(2)), and ln(m) = 2 atanh(s) with
 * s = (m - 1)/(m + 1), |s| <= 0.1716: 2 (s + s^3/3 + ... + s^11/11) leaves a remainder below
 * 2 s^13 / 13 / (1 - s^2) = 1.4e-11 absolute (plus rounding), and the series is exact at
 * m = 1. */
static inline BRAGG_HD double fast_log(double x)
{
    int k;
    double s = log_reduce(x, &k), s2 = s * s;
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

/* ln 2 split for exact range reduction (Cody & Waite): LN2_HI is ln 2 with its last 21
 * significand bits cleared, so k * LN2_HI is exact for |k| < 2^21; LN2_LO = ln 2 - LN2_HI to
 * the nearest double. */
#define PORTABLE_LN2_HI 0x1.62e42fee00000p-1
#define PORTABLE_LN2_LO 0x1.a39ef35793c76p-33

/* The two functions below serve the ziggurat normal sampler (physics/random.h), whose
 * accept/reject decisions must be those of the exact density to double precision and must come
 * out the same on every machine. They are accurate to a few ulp (a relative error below 4e-16,
 * tested against libm in tests/unit/test_fastmath.c) and use only +, -, *, / and bit moves, which
 * IEEE 754 rounds the same way everywhere: no libm, whose last bits differ between libraries.
 * (A compiler that fuses a*b + c into one fma, as nvcc does by default, can still move the last
 * bit; that can flip a decision only for a uniform within an ulp of the boundary.) */

/* e^t for -708 < t < 709: t = k ln 2 + r, |r| <= ln 2 / 2 + tiny, k * LN2_HI exact and the
 * subtraction t - k LN2_HI exact (Sterbenz: the two are within a factor 2). e^r by its Taylor
 * series to r^13/13!: the remainder is below |r|^14/14! e^|r| = 8e-18 relative. */
static inline BRAGG_HD double portable_exp(double t)
{
    double kd = t * 1.4426950408889634;   /* 1 / ln 2 */
    int k = (int)(kd < 0.0 ? kd - 0.5 : kd + 0.5);
    double r = (t - k * PORTABLE_LN2_HI) - k * PORTABLE_LN2_LO;
    double p = 1.0 / 6227020800.0;   /* 1/13! */
    p = 1.0 / 479001600.0 + r * p;
    p = 1.0 / 39916800.0 + r * p;
    p = 1.0 / 3628800.0 + r * p;
    p = 1.0 / 362880.0 + r * p;
    p = 1.0 / 40320.0 + r * p;
    p = 1.0 / 5040.0 + r * p;
    p = 1.0 / 720.0 + r * p;
    p = 1.0 / 120.0 + r * p;
    p = 1.0 / 24.0 + r * p;
    p = 1.0 / 6.0 + r * p;
    p = 0.5 + r * p;
    p = 1.0 + r * p;
    p = 1.0 + r * p;
    return p * bits_to_double((uint64_t)(k + 1023) << 52);   /* times 2^k, exact */
}

/* ln(x) for positive normal x, as fast_log but with the series to s^21/21 (remainder below
 * 2 s^23 / 23 / (1 - s^2) = 2.2e-19, relative 6e-19 at the largest |s|) and ln 2 in two parts,
 * so only rounding remains. */
static inline BRAGG_HD double portable_log(double x)
{
    int k;
    double s = log_reduce(x, &k), s2 = s * s;
    double q = 1.0 / 21;
    q = 1.0 / 19 + s2 * q;
    q = 1.0 / 17 + s2 * q;
    q = 1.0 / 15 + s2 * q;
    q = 1.0 / 13 + s2 * q;
    q = 1.0 / 11 + s2 * q;
    q = 1.0 / 9 + s2 * q;
    q = 1.0 / 7 + s2 * q;
    q = 1.0 / 5 + s2 * q;
    q = 1.0 / 3 + s2 * q;
    double two_s = 2.0 * s;
    return k * PORTABLE_LN2_HI + (k * PORTABLE_LN2_LO + (two_s + two_s * s2 * q));
}


/* x^y for x >= 0 as e^(y ln x): the error of the logarithm is multiplied by |y ln x| (tiny for
 * the exponents used here: t^0.26, A^0.45, d^1.5). 0^y = 0 for y > 0 (the only case needed). */
static inline BRAGG_HD double portable_pow(double x, double y)
{
    if (x <= 0.0) return 0.0;
    return portable_exp(y * portable_log(x));
}

/* Cube root of x >= 0, as e^(ln(x) / 3), then one Newton step on r^3 = x (which halves the
 * error's exponent: from ~5e-16 to rounding). */
static inline BRAGG_HD double portable_cbrt(double x)
{
    if (x <= 0.0) return 0.0;
    double r = portable_exp(portable_log(x) * (1.0 / 3.0));
    return r - (r * r * r - x) / (3.0 * r * r);
}

/* pi/2 in three parts (fdlibm's __ieee754_rem_pio2 split): PIO2_1 has 33 significant bits, so
 * k * PIO2_1 is exact for |k| < 2^20, and x - k * PIO2_1 is exact nearby (Sterbenz); the two
 * further parts carry the rest of pi/2 to 2^-140. */
#define PORTABLE_PIO2_1 1.57079632673412561417e+00
#define PORTABLE_PIO2_2 6.07710050630396597660e-11
#define PORTABLE_PIO2_3 2.02226624871116645580e-21

/* sin(x) and cos(x) for |x| < 2^19: x = k pi/2 + r, |r| <= pi/4 (plus rounding), and the Taylor
 * series of sin r to r^17/17! and of cos r to r^18/18!, whose remainders are below
 * (pi/4)^19/19! = 8e-20 and (pi/4)^20/20! = 3e-21; then the quadrant k mod 4 picks the signs. */
static inline BRAGG_HD void portable_sincos(double x, double *sin_x, double *cos_x)
{
    double kd = x * 0.63661977236758134308;   /* 2 / pi */
    int k = (int)(kd < 0.0 ? kd - 0.5 : kd + 0.5);
    double r = ((x - k * PORTABLE_PIO2_1) - k * PORTABLE_PIO2_2) - k * PORTABLE_PIO2_3;
    double r2 = r * r;
    double s = 1.0 / 355687428096000.0;   /* 1/17! */
    s = 1.0 / 1307674368000.0 - r2 * s;
    s = 1.0 / 6227020800.0 - r2 * s;
    s = 1.0 / 39916800.0 - r2 * s;
    s = 1.0 / 362880.0 - r2 * s;
    s = 1.0 / 5040.0 - r2 * s;
    s = 1.0 / 120.0 - r2 * s;
    s = 1.0 / 6.0 - r2 * s;
    s = r - r * r2 * s;
    double c = 1.0 / 6402373705728000.0;   /* 1/18! */
    c = 1.0 / 20922789888000.0 - r2 * c;
    c = 1.0 / 87178291200.0 - r2 * c;
    c = 1.0 / 479001600.0 - r2 * c;
    c = 1.0 / 3628800.0 - r2 * c;
    c = 1.0 / 40320.0 - r2 * c;
    c = 1.0 / 720.0 - r2 * c;
    c = 1.0 / 24.0 - r2 * c;
    c = 0.5 - r2 * c;
    c = 1.0 - r2 * c;
    switch (k & 3) {
    case 0: *sin_x = s; *cos_x = c; break;
    case 1: *sin_x = c; *cos_x = -s; break;
    case 2: *sin_x = -s; *cos_x = -c; break;
    default: *sin_x = -c; *cos_x = s; break;
    }
}

/* atan(a) for 0 <= a <= 1: above tan(pi/12) = 2 - sqrt 3 the identity
 * atan(a) = pi/6 + atan((sqrt(3) a - 1) / (a + sqrt 3)) brings the argument to |z| <= 0.268,
 * where the series z - z^3/3 + ... to z^31/31 leaves less than 0.268^33/33 = 4e-21. */
static inline BRAGG_HD double portable_atan_unit(double a)
{
    const double sqrt3 = 1.7320508075688772935, tan_pi_12 = 0.26794919243112270647;
    double base = 0.0, z = a;
    if (a > tan_pi_12) {
        z = (sqrt3 * a - 1.0) / (a + sqrt3);
        base = 0.52359877559829887308;   /* pi/6 */
    }
    double z2 = z * z, q = 1.0 / 31;
    for (int n = 29; n >= 1; n -= 2) q = 1.0 / n - z2 * q;
    return base + z * q;
}

/* The angle of the point (x, y) in (-pi, pi], as atan2(y, x); 0 for (0, 0). */
static inline BRAGG_HD double portable_atan2(double y, double x)
{
    const double pi = 3.14159265358979323846, half_pi = 1.57079632679489661923;
    double ax = x < 0.0 ? -x : x, ay = y < 0.0 ? -y : y;
    if (ax == 0.0 && ay == 0.0) return 0.0;
    double angle = ay <= ax ? portable_atan_unit(ay / ax) : half_pi - portable_atan_unit(ax / ay);
    if (x < 0.0) angle = pi - angle;
    return y < 0.0 ? -angle : angle;
}

#endif
