/* grid.c - see grid.h. */
#include "grid.h"

#include <math.h>

void grid_init(grid *g, double xmin, double xmax)
{
    int emin = (int)floor(log2(xmin));
    int emax = (int)ceil(log2(xmax));
    if (emax <= emin) emax = emin + 1;
    g->xmin = ldexp(1.0, emin);
    g->xmax = ldexp(1.0, emax);
    g->first = float_to_bits((float)g->xmin) >> GRID_SHIFT;
    g->ncell = (uint32_t)(emax - emin) << GRID_SUB_BITS;
}

void grid_fill(const grid *g, grid_entry *table, double (*f)(double x, const void *ctx),
               const void *ctx)
{
    double x0 = grid_node(g, 0), y0 = f(x0, ctx);
    for (uint32_t i = 0; i < g->ncell; i++) {
        double x1 = grid_node(g, i + 1), y1 = f(x1, ctx);
        table[i].value = y0;
        table[i].slope = (y1 - y0) / (x1 - x0);
        x0 = x1;
        y0 = y1;
    }
}

void grid_integrate(const grid *g, const grid_entry *table, double *integral)
{
    double sum = 0.0;
    for (uint32_t i = 0; i < g->ncell; i++) {
        integral[i] = sum;
        double w = grid_node(g, i + 1) - grid_node(g, i);
        sum += w * (table[i].value + 0.5 * table[i].slope * w);
    }
}
