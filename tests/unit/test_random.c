/*
 * test_random.c - Philox4x32-10 gives the published known-answer values, streams are
 * reproducible and independent, and the derived uniform and normal deviates have the right
 * moments.
 */
#include <criterion/criterion.h>
#include <math.h>

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

Test(random, uniform_and_normal_moments)
{
    rng r;
    rng_init(&r, 1, 0, 0);
    const int n = 400000;
    double su = 0, su2 = 0, sg = 0, sg2 = 0, sg4 = 0;
    double umin = 1, umax = 0;
    for (int i = 0; i < n / 2; i++) {
        double u = rng_uniform(&r), g1, g2;
        su += u;
        su2 += u * u;
        if (u < umin) umin = u;
        if (u > umax) umax = u;
        rng_gauss2(&r, &g1, &g2);
        sg += g1 + g2;
        sg2 += g1 * g1 + g2 * g2;
        sg4 += g1 * g1 * g1 * g1 + g2 * g2 * g2 * g2;
    }
    double m = n / 2;
    /* Uniform: mean 1/2 (sigma 0.29/sqrt(m)), variance 1/12; 5 sigma limits. */
    cr_expect(fabs(su / m - 0.5) < 5 * 0.2887 / sqrt(m));
    cr_expect(fabs(su2 / m - su * su / (m * m) - 1.0 / 12) < 0.002);
    cr_expect(umin > 0 && umax < 1);
    /* Normal: mean 0, variance 1, kurtosis 3 (sigma of 4th moment sqrt(96/n)). */
    cr_expect(fabs(sg / n) < 5 / sqrt(n));
    cr_expect(fabs(sg2 / n - 1) < 5 * sqrt(2.0 / n));
    cr_expect(fabs(sg4 / n - 3) < 5 * sqrt(96.0 / n));
}
