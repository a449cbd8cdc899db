/*
 * tables.h - per (ion, material) tables: everything a transport step looks up, O(1) each.
 *
 * Built once per run on the host from the stopping model (physics/stopping.h) on two grids
 * (physics/grid.h): kinetic energy per nucleon t (MeV/u) from 2^-10 (~1 keV/u) to 2^11 MeV/u,
 * and CSDA range R (g/cm^2). On the energy grid: total and electronic stopping power and the
 * CSDA range R(t) = A * integral dt / S(t); on the range grid the inverse t(R). Carrying the
 * residual range as particle state makes the energy after a step one lookup: t(R - rho*s).
 * Also on the energy grid, per unit mass thickness: the Bohr energy-straggling variance and the
 * multiple-scattering "scattering power" (z / p v)^2 / X0, and the macroscopic nuclear reaction
 * cross-section with each target's part of it (physics/nuclear.h), so one grid_cell() call
 * serves every energy-dependent quantity of a step. Optionally, for biological scoring, the
 * MKM's specific energy z1D*(t) of a cell line (transport_table_fill_z1d). Proton tables also
 * carry ICRU Report 63's reaction products for the material's elements (physics/icru63.h).
 * The electronic
 * stopping power and z1D* also have their integrals over t, for the exact energy-weighted mean
 * of either over any step (table_mean_over).
 *
 * A transport_table owns one allocation holding all arrays (so it can be copied to a device in
 * one piece); transport_table_free releases it. Build on one thread; afterwards the table is
 * read-only and the inline lookups may run on any thread, host or device.
 */
#ifndef BRAGG_TABLES_H
#define BRAGG_TABLES_H

#include <stddef.h>

#include "err.h"
#include "grid.h"
#include "hd.h"
#include "ion.h"
#include "material.h"
#include "stopping.h"

/* Energy range of the tables and of everything a user may ask for, MeV/u. */
#define TABLE_T_MIN 0.0009765625   /* 2^-10 */
#define TABLE_T_MAX 2048.0         /* 2^11 */
/* What the CLI accepts: 1 keV/u to 2 GeV/u. */
#define USER_T_MIN 0.001
#define USER_T_MAX 2000.0

/* A primary's default largest step, as a fraction of its residual range (the run's
 * --step-fraction; src/engine/config.c). The tables assume it where a step's multiple
 * scattering decides what else they hold (physics/tables.c, elastic_first_interval). */
#define STEP_FRACTION_DEFAULT 0.12

typedef struct transport_table {
    int Z, A;                 /* projectile */
    double mass_mev;
    double density;           /* material, g/cm^3 */
    grid energy_grid;         /* t, MeV/u */
    grid range_grid;          /* R, g/cm^2 */
    grid_entry *stopping;     /* total (electronic + nuclear) S(t), MeV cm^2/g */
    grid_entry *stopping_el;  /* electronic S(t), MeV cm^2/g (for LET) */
    grid_entry *range;        /* CSDA range R(t), g/cm^2 */
    grid_entry *energy;       /* t(R), MeV/u, on range_grid */
    grid_entry *straggling;   /* Bohr variance of the ion's energy loss, MeV^2 per g/cm^2 */
    grid_entry *scattering;   /* (z / p v)^2 / X0, MeV^-2 per g/cm^2 (Highland integrand) */
    grid_entry *reaction;     /* nuclear reaction cross-section per gram, cm^2/g (a proton's
                                 elastic scattering on hydrogen and on nuclei counted in:
                                 transport_react) */
    grid_entry *reaction_cum; /* [n_targets][cells]: cross-section per gram of targets 0..k,
                                 cm^2/g (the last is `reaction`; table_partial) */
    grid_entry *z1d;          /* MKM z1D*(t) of a cell line, Gy (transport_table_fill_z1d);
                                 0 until filled */
    /* Integrals over t of stopping_el and z1d from the first node (grid_integrate): a step's
     * energy-weighted mean LET and z1D* are their differences over its energies. */
    double *stopping_el_integral;
    double *z1d_integral;
    /* Reaction targets: the material's elements (nonelastic reactions; a proton's elastic
     * scattering on hydrogen), then, from first_elastic on, in proton tables, those with ICRU
     * Report 63's elastic scattering (physics/icru63.h), as targets of that. */
    int n_targets, first_elastic;
    int target_Z[2 * MATERIAL_MAX_ELEMENTS], target_A[2 * MATERIAL_MAX_ELEMENTS];
    double radiation_length;  /* material X0, g/cm^2 */
    double range_at_min;      /* R(TABLE_T_MIN) */
    void *block;              /* the single allocation behind the arrays */
    size_t block_bytes;
    /* Last, away from what every step reads: ICRU Report 63's nonelastic reactions
     * (physics/icru63.h), in charge-1 tables only (protons, and the deuterons and tritons that
     * share their sampler): target k's tables start at icru63 + icru63_offset[k] (-1: the report
     * has no such element) and hold icru63_count[k] incident energies. */
    float *icru63;
    long icru63_offset[MATERIAL_MAX_ELEMENTS];
    int icru63_count[MATERIAL_MAX_ELEMENTS];
    /* Its elastic scattering, for target first_elastic + j: icru63 + icru63_elastic_offset[j],
     * icru63_elastic_count[j] incident energies (icru63_elastic_view_of). */
    long icru63_elastic_offset[MATERIAL_MAX_ELEMENTS];
    int icru63_elastic_count[MATERIAL_MAX_ELEMENTS];
} transport_table;

int transport_table_build(transport_table *tab, const ion *ion, const material *mat,
                          const stopping_data *data, stopping_switches sw, bragg_err *e);
void transport_table_free(transport_table *tab);

struct bio_cell;
/* Fills the z1D* column for the modified MKM of cell line `cell` (physics/biology.h): the
 * saturation-corrected specific energy of one ion of this table's charge, with the LET of unit
 * density tissue (the mass electronic stopping power times 1 g/cm^3: the cells are water). */
int transport_table_fill_z1d(transport_table *tab, const struct bio_cell *cell, bragg_err *e);

/* ---- lookups (host and device) ---------------------------------------------------------- */

static inline BRAGG_HD double table_stopping(const transport_table *tab, double t)
{
    return grid_eval(&tab->energy_grid, tab->stopping, t);
}

static inline BRAGG_HD double table_stopping_el(const transport_table *tab, double t)
{
    return grid_eval(&tab->energy_grid, tab->stopping_el, t);
}

static inline BRAGG_HD double table_range(const transport_table *tab, double t)
{
    return grid_eval(&tab->energy_grid, tab->range, t);
}

/* Nuclear reaction cross-section per gram, cm^2/g (times the density: per cm). */
static inline BRAGG_HD double table_reaction(const transport_table *tab, double t)
{
    return grid_eval(&tab->energy_grid, tab->reaction, t);
}

static inline BRAGG_HD uint32_t table_energy_cell(const transport_table *tab, double t)
{
    return grid_cell(&tab->energy_grid, t);
}

/* Whether target k of the reaction column is an elastic scattering: a proton's on the free
 * proton (transport_react) and, from first_elastic on, its large-angle scattering on a nucleus;
 * every other target is a non-elastic reaction. */
static inline int table_target_is_elastic(const transport_table *tab, int k)
{
    return k >= tab->first_elastic || (tab->target_Z[k] == 1 && tab->target_A[k] == 1 &&
                                        tab->Z == 1 && tab->A == 1);
}

/* Any energy-grid table at t, with the cell already found. */
static inline BRAGG_HD double table_at(const transport_table *tab, const grid_entry *column,
                                       uint32_t cell, double t)
{
    return grid_eval_cell(&tab->energy_grid, column, cell, t);
}

/* Target k's own cross-section per gram (cm^2/g) at t in `cell`: the difference of two
 * cumulative columns, so linear in the cell between its own values at the two nodes. */
static inline BRAGG_HD double table_partial(const transport_table *tab, int k, uint32_t cell,
                                            double t)
{
    const grid_entry *cum = tab->reaction_cum + (size_t)k * tab->energy_grid.ncell;
    double below = k > 0 ? table_at(tab, cum - tab->energy_grid.ncell, cell, t) : 0.0;
    return table_at(tab, cum, cell, t) - below;
}

/* The target of a reaction at t in `cell`, for u uniform in (0, 1): target k with probability
 * its part of the cross-section there (the first whose cumulative rate reaches u times the
 * total; never a target whose part is 0 while the total is not). */
static inline BRAGG_HD int table_pick_target(const transport_table *tab, uint32_t cell, double t,
                                             double u)
{
    uint32_t ne = tab->energy_grid.ncell;
    int last = tab->n_targets - 1, k = 0;
    double x = u * table_at(tab, tab->reaction_cum + (size_t)last * ne, cell, t);
    while (k < last && x > table_at(tab, tab->reaction_cum + (size_t)k * ne, cell, t)) k++;
    return k;
}

/* The non-elastic part of table_reaction (cm^2/g): the elastic targets' parts left out. */
static inline double table_nonelastic(const transport_table *tab, double t)
{
    uint32_t cell = table_energy_cell(tab, t);
    double sum = 0.0;
    for (int k = 0; k < tab->n_targets; k++)
        if (!table_target_is_elastic(tab, k)) sum += table_partial(tab, k, cell, t);
    return sum;
}

/* The energy-weighted mean of an energy-grid column over [t1, t0] (cells c1 and c0), from its
 * integral: what a step that slows from t0 to t1 deposits, weighted by the column, per unit of
 * energy, exact for the piecewise-linear column whatever the step's length. For t0 - t1 under
 * 1e-9 t0, where the integrals' difference loses its digits, the column at the middle. */
static inline BRAGG_HD double table_mean_over(const transport_table *tab, const grid_entry *column,
                                              const double *integral, uint32_t c0, double t0,
                                              uint32_t c1, double t1)
{
    double dt = t0 - t1;
    if (!(dt > 1e-9 * t0)) return grid_eval(&tab->energy_grid, column, 0.5 * (t0 + t1));
    return (grid_integral_cell(&tab->energy_grid, column, integral, c0, t0) -
            grid_integral_cell(&tab->energy_grid, column, integral, c1, t1)) / dt;
}

/* Energy per nucleon of a particle with residual CSDA range R (g/cm^2); 0 at R <= 0. */
static inline BRAGG_HD double table_energy(const transport_table *tab, double R)
{
    if (R <= 0.0) return 0.0;
    if (R < tab->range_at_min) {
        /* Below the grid the stopping is velocity-proportional, S ~ sqrt(t), so t ~ R^2. */
        double f = R / tab->range_at_min;
        return TABLE_T_MIN * f * f;
    }
    return grid_eval(&tab->range_grid, tab->energy, R);
}

#endif
