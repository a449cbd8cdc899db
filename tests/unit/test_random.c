/*
 * test_random.c - Philox4x32-10 gives the published known-answer values, streams are
 * reproducible and independent, and the derived uniform and normal deviates have the right
 * moments.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>

#include "random.h"

/* Known-answer vectors from Random123's kat_vectors file (philox4x32 with 10 rounds). */
Test(random, philox_known_answers)
{
    static const struct { uint32_t ctr[4], key[2], out[4]; } kat[] = {
        {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
        {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff},
         {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
        {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0},
         {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
    };
    for (size_t i = 0; i < sizeof kat / sizeof kat[0]; i++) {
        philox4x32_ctr_t c = {{kat[i].ctr[0], kat[i].ctr[1], kat[i].ctr[2], kat[i].ctr[3]}};
        philox4x32_key_t k = {{kat[i].key[0], kat[i].key[1]}};
        philox4x32_ctr_t r = philox4x32(c, k);
        for (int j = 0; j < 4; j++)
            cr_expect(r.v[j] == kat[i].out[j], "vector %zu word %d: %08x", i, j, r.v[j]);
    }
}

Test(random, streams_are_reproducible_and_distinct)
{
    rng a, b, c;
    rng_init(&a, 42, 7, 0);
    rng_init(&b, 42, 7, 0);
    rng_init(&c, 42, 8, 0);
    int same_ac = 0;
    for (int i = 0; i < 100; i++) {
        uint32_t x = rng_u32(&a), y = rng_u32(&b), z = rng_u32(&c);
        cr_assert(x == y);
        same_ac += (x == z);
    }
    cr_expect(same_ac < 3);
}

Test(random, uniform_moments)
{
    rng r;
    rng_init(&r, 1, 0, 0);
    const int n = 200000;
    double su = 0, su2 = 0;
    double umin = 1, umax = 0;
    for (int i = 0; i < n; i++) {
        double u = rng_uniform(&r);
        su += u;
        su2 += u * u;
        if (u < umin) umin = u;
        if (u > umax) umax = u;
    }
    /* Mean 1/2 (sigma 0.29/sqrt(n)), variance 1/12; 5 sigma limits. */
    cr_expect(fabs(su / n - 0.5) < 5 * 0.2887 / sqrt(n));
    cr_expect(fabs(su2 / n - su * su / ((double)n * n) - 1.0 / 12) < 0.002);
    cr_expect(umin > 0 && umax < 1);
}

/* The ziggurat tables (physics/ziggurat_tables.h) against the equations that define them, to the
 * rounding of the stored doubles. Every layer has area V: x_i (y_{i+1} - y_i) = V for i >= 1,
 * and x_0 y_1 = V for the rectangle that stands for layer 0. The products are formed in long
 * double; the allowance is the worst the rounding of each stored value to the nearest double can
 * do (half an ulp of each, propagated) plus one ulp of V, so a table entry wrong by a few ulp
 * fails. The heights must be f(x) = exp(-x^2/2) of the edges (libm, to rounding), the top must
 * close (y_N = 1, x_N = 0, f(x_{N-1}) + V / x_{N-1} = 1), and the part of layer 0 beyond its
 * rectangle must be the normal tail: V - R f(R) = sqrt(pi/2) erfc(R / sqrt 2). */
static double half_ulp(double x)
{
    return 0.5 * (nextafter(fabs(x), INFINITY) - fabs(x));
}

Test(random, ziggurat_tables_have_equal_layer_areas)
{
    const int n = ZIGGURAT_LAYERS;
    cr_assert(n == 1 << ZIGGURAT_LAYER_BITS);
    cr_expect(ziggurat_x(1) == ZIGGURAT_R && ziggurat_x(n) == 0.0);
    cr_expect(ziggurat_y(0) == 0.0 && ziggurat_y(n) == 1.0);
    for (int i = 0; i < n; i++) {
        long double x = ziggurat_x(i), lo = ziggurat_y(i), hi = ziggurat_y(i + 1);
        long double area = x * (hi - lo);
        long double allowed = x * (half_ulp(ziggurat_y(i)) + half_ulp(ziggurat_y(i + 1))) +
                              (hi - lo) * half_ulp(ziggurat_x(i)) + 2 * half_ulp(ZIGGURAT_V);
        cr_expect(fabsl(area - ZIGGURAT_V) <= allowed, "layer %d: area - V = %Lg (allowed %Lg)",
                  i, area - ZIGGURAT_V, allowed);
        cr_expect(ziggurat_x(i) > ziggurat_x(i + 1) && ziggurat_y(i) < ziggurat_y(i + 1));
        if (i >= 1) {
            /* y_i and x_i are each the nearest double to exact values on the curve: allow half an
             * ulp of y, the slope times half an ulp of x, the rounding of -x^2/2 (relative
             * 2^-52, times x^2/2 in e^.) and an ulp of libm's exp. */
            double x_d = ziggurat_x(i), f = exp(-0.5 * x_d * x_d);
            double slack = half_ulp(ziggurat_y(i)) + x_d * f * half_ulp(x_d) +
                           f * 0.5 * x_d * x_d * 0x1p-52 + 2 * half_ulp(f);
            cr_expect(fabs(ziggurat_y(i) - f) <= slack, "layer %d: y - f(x) = %g (allowed %g)", i,
                      ziggurat_y(i) - f, slack);
        }
    }
    double x_top = ziggurat_x(n - 1);
    cr_expect(fabs(exp(-0.5 * x_top * x_top) + ZIGGURAT_V / x_top - 1.0) < 1e-15);
    double r = ZIGGURAT_R, tail = ZIGGURAT_V - r * exp(-0.5 * r * r);
    double exact_tail = sqrt(0.5 * 3.141592653589793) * erfc(r / sqrt(2.0));
    cr_expect(fabs(tail / exact_tail - 1.0) < 1e-13, "tail area %.17g vs %.17g", tail, exact_tail);
}

/* Draws n deviates in streams of 1000 (as particles use them: a fresh stream each) and counts
 * moments and tails. */
typedef struct normal_sample {
    double n, s1, s2, s3, s4;
    double beyond3, beyond4, above5;   /* |g| > 3, |g| > 4, g > 5 */
} normal_sample;

static normal_sample draw_normals(uint64_t seed, long n)
{
    normal_sample ns = {0};
    rng r;
    for (long i = 0; i < n; i++) {
        if (i % 1000 == 0) rng_init(&r, seed, (uint64_t)(i / 1000), 0);
        double g = rng_gauss(&r), g2 = g * g;
        ns.s1 += g;
        ns.s2 += g2;
        ns.s3 += g2 * g;
        ns.s4 += g2 * g2;
        ns.beyond3 += fabs(g) > 3.0;
        ns.beyond4 += fabs(g) > 4.0;
        ns.above5 += g > 5.0;
    }
    ns.n = (double)n;
    return ns;
}

/* Counts against binomial expectations: |count - n p| < 5 sqrt(n p (1 - p)). */
static void expect_binomial(double count, double n, double p, const char *what)
{
    double mean = n * p, sigma = sqrt(n * p * (1 - p));
    cr_expect(fabs(count - mean) < 5 * sigma, "%s: %.0f, expected %.1f +- %.1f", what, count, mean,
              sigma);
}

/* 2e7 deviates. Limits are 5 standard errors of the statistic for a true normal (so a correct
 * sampler fails with probability below 1e-6 per check): mean 0 (sigma 1/sqrt n = 2.2e-4),
 * variance 1 (sqrt(2/n) = 3.2e-4), skewness 0 (sqrt(6/n)), kurtosis 3 (sqrt(24/n) = 1.1e-3).
 * The tails are where a ziggurat goes wrong (tail method, wedges of the lowest layers, truncation
 * by the resolution of the uniforms: Box-Muller from 32-bit words never exceeds 6.8):
 * P(|g| > 3) = 2.700e-3 (54 000 expected, 5 sigma = 2.2%) lies in the wedges of the lowest
 * layers; P(|g| > 4) = 6.334e-5 (1267, 5 sigma = 14%) is beyond R = 3.65, all from the tail method.
 * P(g > 5) = 2.87e-7 is 5.7 expected: that check catches an excess only; the tail test below
 * covers the far tail with 400 times more statistics. */
Test(random, normal_moments_and_tails)
{
    const long n = 20000000;
    normal_sample ns = draw_normals(2024, n);
    double mean = ns.s1 / n, var = ns.s2 / n - mean * mean;
    double m3 = ns.s3 / n, m4 = ns.s4 / n;
    cr_expect(fabs(mean) < 5 / sqrt(n), "mean %g", mean);
    cr_expect(fabs(var - 1) < 5 * sqrt(2.0 / n), "variance %.6f", var);
    cr_expect(fabs(m3 / pow(var, 1.5)) < 5 * sqrt(6.0 / n), "skewness %g", m3 / pow(var, 1.5));
    cr_expect(fabs(m4 / (var * var) - 3) < 5 * sqrt(24.0 / n), "kurtosis %.5f", m4 / (var * var));
    expect_binomial(ns.beyond3, n, erfc(3.0 / sqrt(2.0)), "|g| > 3");
    expect_binomial(ns.beyond4, n, erfc(4.0 / sqrt(2.0)), "|g| > 4");
    expect_binomial(ns.above5, n, 0.5 * erfc(5.0 / sqrt(2.0)), "g > 5");
}

/* The tail method alone, 1e6 draws of |g| given |g| > R = 3.654: the mean is phi(R)/Q(R) = 3.8970
 * (phi the normal density, Q the upper tail) with standard error sd/sqrt(n) = 2.3e-4 (sd^2 =
 * 1 + R m - m^2, m the mean; limit 5 sigma); P(|g| > 5 | |g| > R) = Q(5)/Q(R) = 2.22e-3 (2222
 * expected, 5 sigma = 11%) and P(|g| > 6 | |g| > R) = 7.6e-6 (7.6 expected: catches an excess
 * only). */
Test(random, ziggurat_tail_is_the_normal_tail)
{
    const int n = 1000000;
    const double r_edge = ZIGGURAT_R;
    rng r;
    rng_init(&r, 77, 0, 0);
    double sum = 0, above5 = 0, above6 = 0, least = INFINITY;
    for (int i = 0; i < n; i++) {
        double g = ziggurat_tail(&r);
        sum += g;
        above5 += g > 5.0;
        above6 += g > 6.0;
        if (g < least) least = g;
    }
    double q_r = 0.5 * erfc(r_edge / sqrt(2.0));
    double mean = exp(-0.5 * r_edge * r_edge) / sqrt(2 * 3.141592653589793) / q_r;
    double sd = sqrt(1 + r_edge * mean - mean * mean);
    cr_expect(least > r_edge);
    cr_expect(fabs(sum / n - mean) < 5 * sd / sqrt(n), "tail mean %.6f vs %.6f", sum / n, mean);
    expect_binomial(above5, n, 0.5 * erfc(5.0 / sqrt(2.0)) / q_r, "tail beyond 5");
    expect_binomial(above6, n, 0.5 * erfc(6.0 / sqrt(2.0)) / q_r, "tail beyond 6");
}

/* Chi-square of 1e7 deviates in 1000 bins of equal probability (bin k holds the g with
 * Phi(g) in [k/1000, (k+1)/1000), Phi(g) = erfc(-g/sqrt 2)/2), 10 000 expected in each. For a true
 * normal chi^2 has mean 999 and sigma sqrt(2 * 999) = 44.7: the limits 999 +- 5 sigma
 * ([775, 1223]) reject a shape error of about 0.2% in any tenth of the bins (one layer's wedge
 * wrong by a few per cent shows up as much more) and a sampler too regular to be random. */
Test(random, normal_chi_square_over_equiprobable_bins)
{
    enum { BINS = 1000 };
    const long n = 10000000;
    static double count[BINS];
    rng r;
    for (long i = 0; i < n; i++) {
        if (i % 1000 == 0) rng_init(&r, 99, (uint64_t)(i / 1000), 0);
        double g = rng_gauss(&r);
        int k = (int)(0.5 * erfc(-g / sqrt(2.0)) * BINS);
        if (k >= BINS) k = BINS - 1;
        count[k]++;
    }
    double expected = (double)n / BINS, chi2 = 0;
    for (int k = 0; k < BINS; k++) chi2 += (count[k] - expected) * (count[k] - expected) / expected;
    double sigma = sqrt(2.0 * (BINS - 1));
    cr_expect(fabs(chi2 - (BINS - 1)) < 5 * sigma, "chi^2 = %.1f for %d degrees of freedom", chi2,
              BINS - 1);
}

/* A seed gives the same deviates everywhere: known answers for one stream, as exact doubles
 * (the first eight, and the sum in order of the next 1e5, which passes through about 1500
 * wedges and 26 tails). The tables are exact constants and the arithmetic is IEEE without libm,
 * so every platform must give these bits; a change of the sampler must change them knowingly.
 * rng_gauss2 draws the same sequence in pairs. */
Test(random, normal_deviates_are_reproducible)
{
    static const double first[8] = {
        0x1.f3702df9ff937p-2, -0x1.19accd820dac2p+0, -0x1.b6dd51158a1b4p-2, -0x1.2e799099ffa2dp+0,
        0x1.45ca69a1ff88p+0, 0x1.8c36f77d36e1dp-3, -0x1.9cd46a5eeafaap-1, 0x1.4a99e26931c3p-1,
    };
    rng r;
    rng_init(&r, 2025, 3, 2);
    for (int i = 0; i < 8; i++)
        cr_expect(rng_gauss(&r) == first[i], "deviate %d differs", i);
    double sum = 0;
    for (int i = 0; i < 100000; i++) sum += rng_gauss(&r);
    cr_expect(sum == -0x1.cd6bef3df3847p+6, "sum %a", sum);

    rng a, b;
    rng_init(&a, 5, 3, 1);
    rng_init(&b, 5, 3, 1);
    for (int i = 0; i < 1000; i++) {
        double g1, g2;
        rng_gauss2(&a, &g1, &g2);
        cr_assert(g1 == rng_gauss(&b) && g2 == rng_gauss(&b));
    }
}

/* The regularised lower incomplete gamma function P(a, x) = gamma(a, x) / Gamma(a), by its series
 * x^a e^-x / Gamma(a + 1) sum_n x^n / ((a + 1) ... (a + n)) (Abramowitz and Stegun 6.5.29),
 * summed until the terms no longer count: the test's reference, from libm's lgamma and exp. */
static double gamma_p(double a, double x)
{
    double term = 1.0, sum = 1.0;
    for (int n = 1; n < 10000 && term > 1e-17 * sum; n++) {
        term *= x / (a + n);
        sum += term;
    }
    return exp(a * log(x) - x - lgamma(a + 1.0)) * sum;
}

/* rng_gamma (the straggling of thin steps, physics/transport.h) against the Gamma distribution
 * of unit scale: 2e6 deviates for each shape, from the 0.03 of a 1 um water layer crossed by a
 * 150 MeV proton to the 4 where the step takes the normal deviate instead. Mean a (5 standard
 * errors, sqrt(a / n)), variance a (5 standard errors of the sample variance, sqrt((2 a^2 + 6 a)
 * / n), from the Gamma's fourth central moment 3 a^2 + 6 a), and the fractions below a tenth,
 * half, one, two and four times the mean against P(a, x) (binomial, 5 sigma): these see the
 * boost below shape 1 and the squeeze and the exact test above. Never negative. */
Test(random, gamma_deviates_have_the_gamma_distribution)
{
    const double shapes[] = {0.03, 0.4, 1.0, 3.9};
    const double at[] = {0.1, 0.5, 1.0, 2.0, 4.0};
    const long n = 2000000;
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        double a = shapes[k], s1 = 0, s2 = 0, below[5] = {0}, least = INFINITY;
        rng r;
        rng_init(&r, 31, k, 0);
        for (long i = 0; i < n; i++) {
            double g = rng_gamma(&r, a);
            s1 += g;
            s2 += g * g;
            if (g < least) least = g;
            for (int j = 0; j < 5; j++) below[j] += g < at[j] * a;
        }
        double mean = s1 / n, var = s2 / n - mean * mean;
        cr_log_info("shape %g: mean %.5f, variance %.5f", a, mean, var);
        cr_expect(least >= 0.0, "shape %g: a negative deviate %g", a, least);
        cr_expect(fabs(mean - a) < 5 * sqrt(a / n), "shape %g: mean %.6f", a, mean);
        cr_expect(fabs(var - a) < 5 * sqrt((2 * a * a + 6 * a) / n), "shape %g: variance %.6f", a,
                  var);
        for (int j = 0; j < 5; j++) {
            char what[64];
            snprintf(what, sizeof what, "shape %g, below %g x the mean", a, at[j]);
            expect_binomial(below[j], n, gamma_p(a, at[j] * a), what);
        }
    }
}
