/*
 * grid.h - O(1) table lookup without a logarithm: a grid indexed by the bits of a float.
 *
 * Each power-of-two octave [2^k, 2^(k+1)) is split into 2^GRID_SUB_BITS cells of equal width, so
 * the cell holding x is just (float bits of x) >> (23 - GRID_SUB_BITS), minus an offset: the
 * exponent picks the octave, the top mantissa bits the cell. Cells are uniform within an octave,
 * which makes the grid nearly logarithmic (relative width 1/128 to 1/256 at 7 bits) while the
 * lookup costs a shift and a subtract, on the CPU and the GPU alike.
 *
 * A table on the grid stores, for each cell i, the value at its lower node and the slope to the
 * next node: y(x) = value[i] + slope[i] * (x - node(i)), i.e. piecewise-linear interpolation.
 * Values outside [xmin, xmax] are extrapolated from the first or last cell.
 *
 * Pure functions on plain data: any thread, host or device.
 */
#ifndef BRAGG_GRID_H
#define BRAGG_GRID_H

#include <stdint.h>

#include "bits.h"
#include "hd.h"

#define GRID_SUB_BITS 7
#define GRID_SHIFT    (23 - GRID_SUB_BITS)

typedef struct grid {
    uint32_t first;   /* (bits of xmin) >> GRID_SHIFT */
    uint32_t ncell;   /* cells; the table has ncell pairs (value, slope) */
    double xmin;      /* a power of two */
    double xmax;      /* a power of two, node(ncell) */
} grid;

/* One table entry: value at the cell's lower node and slope across the cell. */
typedef struct grid_entry {
    double value;
    double slope;
} grid_entry;

/* Lower node of cell i (exact: it is a float with few mantissa bits). */
static inline BRAGG_HD double grid_node(const grid *g, uint32_t i)
{
    return (double)bits_to_float((g->first + i) << GRID_SHIFT);
}

/* Cell holding x, clamped to [0, ncell-1]. */
static inline BRAGG_HD uint32_t grid_cell(const grid *g, double x)
{
    float xf = (float)(x > g->xmin ? x : g->xmin);
    uint32_t i = (float_to_bits(xf) >> GRID_SHIFT) - g->first;
    return i < g->ncell ? i : g->ncell - 1;
}

/* Piecewise-linear value of a table at x, given the cell already found (several tables on
 * the same grid share one grid_cell call). */
static inline BRAGG_HD double grid_eval_cell(const grid *g, const grid_entry *table, uint32_t i,
                                             double x)
{
    return table[i].value + table[i].slope * (x - grid_node(g, i));
}

static inline BRAGG_HD double grid_eval(const grid *g, const grid_entry *table, double x)
{
    return grid_eval_cell(g, table, grid_cell(g, x), x);
}

/* The integral of a table from its first node to x, exact for its piecewise-linear values:
 * `integral` holds it at each cell's lower node (grid_integrate), and within the cell the
 * linear value integrates to a quadratic. The difference of two such integrals over their
 * energies is a quantity's exact mean over an interval, whatever the interval's length. */
static inline BRAGG_HD double grid_integral_cell(const grid *g, const grid_entry *table,
                                                 const double *integral, uint32_t i, double x)
{
    double d = x - grid_node(g, i);
    return integral[i] + d * (table[i].value + 0.5 * table[i].slope * d);
}

/* Host-side set-up: a grid from xmin to xmax, both rounded outwards to powers of two. */
void grid_init(grid *g, double xmin, double xmax);

/* Fills table[0..ncell-1] from a function sampled at the nodes. */
void grid_fill(const grid *g, grid_entry *table, double (*f)(double x, const void *ctx),
               const void *ctx);

/* Fills integral[0..ncell-1] with table's integral from node 0 to each cell's lower node (for
 * grid_integral_cell). */
void grid_integrate(const grid *g, const grid_entry *table, double *integral);

#endif
