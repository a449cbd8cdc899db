/*
 * test_fastmath.c - the polynomial log, sincos, exp used for sampling hold their stated error
 * bounds against libm over their whole domains.
 */
#include <criterion/criterion.h>
#include <math.h>

#include "fastmath.h"

Test(fastmath, log_absolute_error_below_1e_10)
{
    double worst = 0;
    /* (0, 1] as free-path sampling sees it, then far outside for Highland's L. */
    for (double x = 2.3283064365386963e-10; x <= 1.0; x *= 1.000173) {
        double err = fabs(fast_log(x) - log(x));
        if (err > worst) worst = err;
    }
    for (double x = 1e-12; x < 1e12; x *= 1.0137) {
        double err = fabs(fast_log(x) - log(x));
        if (err > worst) worst = err;
    }
    cr_expect(fast_log(1.0) == 0.0);
    cr_expect(worst < 1e-10, "worst |fast_log - log| = %g", worst);
}

/* The portable pair: relative difference from glibc below 4e-16 (glibc itself is within
 * about 0.5 ulp = 1.1e-16, so this bounds the portable functions by about 3 ulp; a dropped
 * series term or a wrong LN2_LO shows up as 1e-15 or worse). */
Test(fastmath, portable_exp_relative_error_below_4e_16)
{
    double worst = 0;
    for (double t = -700.0; t < 700.0; t += 0.0012345) {
        double err = fabs(portable_exp(t) - exp(t)) / exp(t);
        if (err > worst) worst = err;
    }
    /* The ziggurat's wedges ask for e^(-x^2/2), 0 <= x <= R: densely there. */
    for (double t = -7.0; t <= 0.0; t += 1e-6) {
        double err = fabs(portable_exp(t) - exp(t)) / exp(t);
        if (err > worst) worst = err;
    }
    cr_expect(portable_exp(0.0) == 1.0);
    cr_expect(worst < 4e-16, "worst relative |portable_exp - exp| = %g", worst);
}

Test(fastmath, portable_log_relative_error_below_4e_16)
{
    double worst = 0;
    /* (0, 1) as the ziggurat's tail sees it (uniforms of 32 bits), densely; then far out. */
    for (double x = 1.1641532182693481e-10; x < 1.0; x *= 1.0000173) {
        double err = fabs(portable_log(x) - log(x)) / fabs(log(x));
        if (err > worst) worst = err;
    }
    for (double x = 1e-300; x < 1e300; x *= 1.00731) {
        if (x == 1.0) continue;
        double err = fabs(portable_log(x) - log(x)) / fabs(log(x));
        if (err > worst) worst = err;
    }
    cr_expect(portable_log(1.0) == 0.0);
    cr_expect(worst < 4e-16, "worst relative |portable_log - log| = %g", worst);
}

Test(fastmath, small_angle_sincos_error_below_2e_9)
{
    double worst = 0;
    for (double t = -0.7853981633974483; t <= 0.7853981633974483; t += 1e-5) {
        double so, co;
        fast_sincos_small(t, &so, &co);
        double ref = t != 0 ? sin(t) / t : 1.0;
        double err = fmax(fabs(so - ref), fabs(co - cos(t)));
        if (err > worst) worst = err;
    }
    cr_expect(worst < 2e-9, "worst small-angle error %g", worst);
}

/* The portable functions of the reaction sampling (physics/fastmath.h) against libm, over the
 * arguments the fragmentation model gives them and beyond: powers t^0.26 (1 keV/u to 2 GeV/u),
 * A^0.45 and d^1.5; cube roots of u^2, u in (0, 1); angles of a full turn and of momenta in
 * every direction. */
Test(fastmath, portable_pow_cbrt_within_their_bounds)
{
    double worst_pow = 0, worst_cbrt = 0;
    for (double t = 1e-3; t < 2048.0; t *= 1.0001) {
        double err = fabs(portable_pow(t, 0.26) / pow(t, 0.26) - 1.0);
        double bound = (1.0 + fabs(0.26 * log(t))) * 5e-16;
        if (err / bound > worst_pow) worst_pow = err / bound;
    }
    for (double d = 1e-3; d < 70.0; d *= 1.0003) {
        double err = fabs(portable_pow(d, 1.5) / pow(d, 1.5) - 1.0);
        if (err / ((1.0 + fabs(1.5 * log(d))) * 5e-16) > worst_pow)
            worst_pow = err / ((1.0 + fabs(1.5 * log(d))) * 5e-16);
    }
    for (double u = 1e-9; u < 1.0; u += 1.37e-6) {
        double err = fabs(portable_cbrt(u * u) / cbrt(u * u) - 1.0);
        if (err > worst_cbrt) worst_cbrt = err;
    }
    cr_expect(portable_pow(0.0, 1.5) == 0.0 && portable_cbrt(0.0) == 0.0);
    cr_expect(worst_pow < 1.0, "portable_pow: worst error %.2f of its bound", worst_pow);
    cr_expect(worst_cbrt < 1e-15, "worst relative |portable_cbrt - cbrt| = %g", worst_cbrt);
}

Test(fastmath, portable_sincos_atan2_absolute_error_below_1e_15)
{
    double worst_sc = 0, worst_at = 0;
    for (double x = -20.0; x < 20.0; x += 1.234e-5) {
        double s, c;
        portable_sincos(x, &s, &c);
        double err = fmax(fabs(s - sin(x)), fabs(c - cos(x)));
        if (err > worst_sc) worst_sc = err;
    }
    for (double a = -3.2; a < 3.2; a += 1.1e-5)
        for (double r = 1e-3; r < 1e4; r *= 31.0) {
            double y = r * sin(a), x = r * cos(a);
            double err = fabs(portable_atan2(y, x) - atan2(y, x));
            if (err > worst_at) worst_at = err;
        }
    cr_expect(portable_atan2(0.0, -1.0) == atan2(0.0, -1.0));
    cr_expect(portable_atan2(1.0, 0.0) == atan2(1.0, 0.0));
    cr_expect(portable_atan2(0.0, 0.0) == 0.0);
    cr_expect(worst_sc < 1e-15, "worst |portable_sincos - sin, cos| = %g", worst_sc);
    cr_expect(worst_at < 1e-15, "worst |portable_atan2 - atan2| = %g", worst_at);
}
