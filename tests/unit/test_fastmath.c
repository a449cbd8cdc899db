/*
 * test_fastmath.c - the polynomial log and sincos used for sampling hold their stated error
 * bounds against libm over their whole domains.
 */
#include <criterion/criterion.h>
#include <math.h>

#include "fastmath.h"

Test(fastmath, log_absolute_error_below_1e_10)
{
    double worst = 0;
    /* (0, 1] as Box-Muller sees it, then far outside for Highland's L. */
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

Test(fastmath, sincos_turn_error_below_2e_9)
{
    double worst = 0;
    for (int i = 0; i < 1000003; i++) {
        double u = i / 1000003.0, s, c;
        fast_sincos_turn(u, &s, &c);
        double a = 2 * 3.141592653589793 * u;
        double err = fmax(fabs(s - sin(a)), fabs(c - cos(a)));
        if (err > worst) worst = err;
    }
    cr_expect(worst < 2e-9, "worst sincos error %g", worst);
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
