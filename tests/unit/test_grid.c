/*
 * test_grid.c - the bit-indexed grid finds the right cell and interpolates to the accuracy its
 * cell width promises.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "grid.h"

Test(grid, cells_cover_octaves_uniformly)
{
    grid g;
    grid_init(&g, 1e-3, 2000.0);
    cr_expect(g.xmin == ldexp(1.0, -10));
    cr_expect(g.xmax == ldexp(1.0, 11));
    cr_expect(g.ncell == 21u << GRID_SUB_BITS);
    for (uint32_t i = 0; i < g.ncell; i += 37) {
        double lo = grid_node(&g, i), hi = grid_node(&g, i + 1);
        cr_expect(lo < hi);
        cr_expect(grid_cell(&g, lo) == i, "node %u", i);
        cr_expect(grid_cell(&g, 0.5 * (lo + hi)) == i);
        /* Width is 1/128 of the octave's lower edge. */
        double octave = ldexp(1.0, (int)floor(log2(lo)));
        cr_expect(fabs((hi - lo) - octave / 128.0) < 1e-12 * octave);
    }
    cr_expect(grid_cell(&g, 1e-9) == 0);
    cr_expect(grid_cell(&g, -5.0) == 0);
    cr_expect(grid_cell(&g, 1e9) == g.ncell - 1);
    cr_expect(grid_cell(&g, NAN) == 0);
}

static double power_law(double x, const void *ctx)
{
    (void)ctx;
    return pow(x, 0.57);   /* the shape of t(R) */
}

Test(grid, linear_interpolation_error_is_second_order)
{
    grid g;
    grid_init(&g, 1e-6, 100.0);
    grid_entry *tab = malloc(g.ncell * sizeof *tab);
    grid_fill(&g, tab, power_law, NULL);
    double worst = 0;
    for (double x = 1.1e-6; x < 99; x *= 1.0137) {
        double err = fabs(grid_eval(&g, tab, x) / power_law(x, NULL) - 1);
        if (err > worst) worst = err;
    }
    /* h^2/8 |f''/f| with h = 1/128 relative: 0.57*0.43/8/128^2 = 1.9e-6. */
    cr_expect(worst < 2e-6, "worst relative error %g", worst);
    cr_expect(worst > 1e-8, "suspiciously exact: %g", worst);
    free(tab);
}

static double stopping_shape(double x, const void *ctx)
{
    (void)ctx;
    return pow(x, -0.77);   /* a stopping power's fall with energy, S ~ t^(1 - 1.77) */
}

/* grid_integrate and grid_integral_cell integrate the piecewise-linear table exactly, so the
 * mean over an interval from two integrals is the interpolant's mean at any interval length:
 * within a cell, the interpolant's value at the middle (to the digits the difference keeps);
 * across decades, the analytic mean within the interpolation error (h^2/8 |f''/f| =
 * 0.77 * 1.77 / 8 / 128^2 = 1.0e-5 at most, less on average over many cells). */
Test(grid, integral_of_the_table_is_exact)
{
    grid g;
    grid_init(&g, 1e-3, 2000.0);
    grid_entry *tab = malloc(g.ncell * sizeof *tab);
    double *integral = malloc(g.ncell * sizeof *integral);
    cr_assert(tab && integral);
    grid_fill(&g, tab, stopping_shape, NULL);
    grid_integrate(&g, tab, integral);
    double worst_small = 0, worst_wide = 0;
    for (double a = 1.3e-3; a < 1000; a *= 1.71) {
        /* Inside one cell: the mean of a linear function is its middle value. */
        double b = a * (1 + 1e-5);
        double mean = (grid_integral_cell(&g, tab, integral, grid_cell(&g, b), b) -
                       grid_integral_cell(&g, tab, integral, grid_cell(&g, a), a)) / (b - a);
        double dev = fabs(mean / grid_eval(&g, tab, 0.5 * (a + b)) - 1);
        if (dev > worst_small) worst_small = dev;
        /* Across a decade and a half, inside the grid. */
        b = a * 31.6;
        if (b > g.xmax) continue;
        mean = (grid_integral_cell(&g, tab, integral, grid_cell(&g, b), b) -
                grid_integral_cell(&g, tab, integral, grid_cell(&g, a), a)) / (b - a);
        double exact = (pow(b, 0.23) - pow(a, 0.23)) / (0.23 * (b - a));
        dev = fabs(mean / exact - 1);
        if (dev > worst_wide) worst_wide = dev;
    }
    cr_expect(worst_small < 1e-9, "mean over 1e-5 of a cell: %g from the middle value", worst_small);
    cr_expect(worst_wide < 1e-5, "mean over a decade and a half: %g from the analytic one", worst_wide);
    cr_expect(worst_wide > 1e-9, "suspiciously exact: %g", worst_wide);
    free(tab);
    free(integral);
}
