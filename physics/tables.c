/* tables.c - see tables.h. */
#include "tables.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "biology.h"
#include "constants.h"
#include "icru63.h"
#include "nuclear.h"
#include "transport.h"   /* highland_theta2, for the elastic scattering's first angle */

/* 4-point Gauss-Legendre on [-1, 1] (Abramowitz & Stegun 25.4.29). */
static const double gl_x[4] = {-0.8611363115940526, -0.3399810435848563, 0.3399810435848563,
                                0.8611363115940526};
static const double gl_w[4] = {0.3478548451374538, 0.6521451548625461, 0.6521451548625461,
                               0.3478548451374538};

/* dR/dt = A / S_total(t): integral over [a, b] by 4-point Gauss-Legendre. On a cell 1/128 of an
 * octave wide the integrand is smooth enough that this is exact to ~1e-12. */
static double range_integral(const stopping_model *m, double a, double b)
{
    double mid = 0.5 * (a + b), half = 0.5 * (b - a), sum = 0.0;
    for (int k = 0; k < 4; k++) sum += gl_w[k] * m->A1 / stopping_total(m, mid + half * gl_x[k]);
    return sum * half;
}

static double eval_total(double t, const void *ctx) { return stopping_total(ctx, t); }
static double eval_electronic(double t, const void *ctx) { return stopping_electronic(ctx, t); }

/* Bohr's energy-loss variance per g/cm^2, 4 pi N_A r_e^2 (m_e c^2)^2 (Z/A) z^2, with the
 * relativistic factor (1 - beta^2/2) / (1 - beta^2) (ICRU Report 49, sec. 2.7, after Uehling /
 * Tschalaer); z is the effective charge. */
static double eval_straggling(double t, const void *ctx)
{
    const stopping_model *m = ctx;
    double gamma = 1.0 + t * m->A1 / m->mass_mev, beta2 = 1.0 - 1.0 / (gamma * gamma);
    double z = stopping_effective_charge(m, t);
    return BETHE_K_MEV_CM2_MOL * ELECTRON_MASS_MEV * m->mat->z_over_a * z * z *
           (1.0 - 0.5 * beta2) / (1.0 - beta2);
}

/* Highland's integrand (z / p v)^2 / X0 per g/cm^2, pv = T (T + 2M) / (T + M). Multiple
 * scattering deflects the nucleus: the bare charge. */
static double eval_scattering(double t, const void *ctx)
{
    const stopping_model *m = ctx;
    double T = t * m->A1, M = m->mass_mev;
    double pv = T * (T + 2.0 * M) / (T + M);
    return (m->Z1 / pv) * (m->Z1 / pv) / m->mat->radiation_length;
}

/* A proton's elastic scattering on nuclei (ICRU 63, physics/icru63.h) is drawn from 5 degrees in
 * the centre of mass; below, multiple scattering's Gaussian holds it (Highland's, in
 * physics/transport.h). But a step's Gaussian can itself reach 5 degrees: at the default step (12% of the
 * residual range) it widens by up to 1.2 degrees per plane in water, 1.8 in aluminium, 3.3 in
 * copper and 7.7 in lead (at 1 MeV; 0.7, 1.0, 1.6, 2.8 at 100 MeV), and a deflection both would
 * hold would be counted twice. So the elastic distribution of each tabulated energy starts at the
 * first of the files' angles (5, 10, ..., 175 degrees) at least ELASTIC_CUT_WIDTHS times that
 * width, where the Gaussian leaves a step beyond the cut with probability exp(-4^2 / 2) = 3e-4: 5
 * degrees at every energy in water and soft tissue (bragg's figures before this rule stand), 10 for
 * nitrogen and phosphorus in cortical bone below 4 MeV, 10 below 12 MeV in aluminium, 10 (15 below
 * 4 MeV) in copper, 15 (20 below 12 MeV) in lead. The width: Highland's 14.1 MeV times the root of
 * the scattering integral over the step, with the log factor of the longest path in the material
 * (its CSDA range at 250 MeV, the files' last energy), the default primary step (the
 * --step-fraction default): the rule is a property of the material, not of a run's step settings,
 * so step-convergence studies compare the same physics. Secondaries step 30% of their range (1.6
 * times the width: the cut then sits at 2.5 of their widths, the Gaussian beyond it on 4% of their
 * steps at worst), and a step shortened to its minimum length near the end of the range is wider
 * still. */
#define ELASTIC_CUT_WIDTHS 4.0
#define ELASTIC_LONGEST_MEV 250.0

static int elastic_first_interval(const transport_table *tab, double T)
{
    double R0 = table_range(tab, T), R1 = (1.0 - STEP_FRACTION_DEFAULT) * R0, integral = 0.0;
    const int pieces = 32;
    for (int i = 0; i < pieces; i++) {
        double R = R1 + (R0 - R1) * (i + 0.5) / pieces;
        integral += grid_eval(&tab->energy_grid, tab->scattering, table_energy(tab, R)) *
                    (R0 - R1) / pieces;
    }
    double L = table_range(tab, ELASTIC_LONGEST_MEV) / tab->radiation_length;
    double width_deg = sqrt(highland_theta2(L > 1.0 ? L : 1.0, integral)) * 180.0 / PI;
    int i = (int)ceil(ELASTIC_CUT_WIDTHS * width_deg / 5.0 - 1e-9) - 1;
    return i < 0 ? 0 : i > ICRU63_ELASTIC_ANGLES - 2 ? ICRU63_ELASTIC_ANGLES - 2 : i;
}

/* The reaction targets (transport_table): each element, then in proton tables each element
 * that ICRU Report 63 gives elastic scattering for; and where in the ICRU 63 block each one's
 * data go (the floats that takes). A target's mass number is its element's atomic weight
 * rounded (the isotopes of a natural element differ by a percent or less in these
 * cross-sections). */
static long set_targets(transport_table *tab, const material *mat)
{
    int n = mat->n_elements;
    long floats = 0;
    for (int k = 0; k < n; k++) {
        tab->target_Z[k] = mat->Z[k];
        tab->target_A[k] = mat->Z[k] == 1 ? 1 : (int)lround(mat->atomic_weight[k]);
        /* Protons (and the deuterons and tritons that share their tables): ICRU 63's reaction
         * products of each element the report has. */
        int el = tab->Z == 1 ? icru63_element(mat->Z[k]) : -1;
        tab->icru63_offset[k] = el < 0 ? -1 : floats;
        tab->icru63_count[k] = el < 0 ? 0 : icru63_energy_count(el);
        floats += (long)tab->icru63_count[k] * ICRU63_FLOATS_PER_ENERGY;
    }
    tab->first_elastic = tab->n_targets = n;
    for (int k = 0; k < n; k++) {
        int el = tab->Z == 1 && tab->A == 1 ? icru63_element(mat->Z[k]) : -1;
        if (el < 0) continue;
        int j = tab->n_targets++ - n;
        tab->target_Z[n + j] = tab->target_Z[k];
        tab->target_A[n + j] = tab->target_A[k];
        tab->icru63_elastic_offset[j] = floats;
        tab->icru63_elastic_count[j] = icru63_elastic_count(el);
        floats += ICRU63_ELASTIC_FLOATS(tab->icru63_elastic_count[j]);
    }
    return floats;
}

/* Reaction cross-section per gram of material and the cumulative cross-section per gram of
 * targets 0..k, from the per-nucleus cross-sections: Sigma = sum_k (w_k N_A / A_k) sigma_k.
 * Cumulative rates, not shares: each target's own rate is then the difference of two columns
 * linear in every cell, so linear between its own node values. Shares times the total were
 * products of two linear columns, not bounded by their node values where a cross-section steps
 * from 0 inside a cell: a proton's non-elastic rate in graphite rose 0.0013 -> 0.16 cm2/g in
 * the cell under 5 MeV where ICRU 63's carbon elastic data begin (`bragg tables`, before). */
static void fill_reaction(transport_table *tab, const material *mat)
{
    int n = tab->n_targets, element[2 * MATERIAL_MAX_ELEMENTS];
    for (int k = 0; k < n; k++) {
        element[k] = k;
        if (k >= tab->first_elastic)
            for (int e = 0; e < mat->n_elements; e++)
                if (mat->Z[e] == tab->target_Z[k]) element[k] = e;
    }
    /* The non-elastic pairs, prepared once for the ~2 700 energies below (the Glauber tables of
     * ion pairs take a few ms each). */
    nuclear_pair pairs[2 * MATERIAL_MAX_ELEMENTS];
    for (int k = 0; k < n && k < tab->first_elastic; k++)
        nuclear_pair_init(&pairs[k], tab->Z, tab->A, tab->target_Z[k], tab->target_A[k]);
    uint32_t ne = tab->energy_grid.ncell;
    double prev[2 * MATERIAL_MAX_ELEMENTS + 1] = {0}, prev_total = 0.0;
    for (uint32_t i = 0; i <= ne; i++) {
        double t = grid_node(&tab->energy_grid, i), part[2 * MATERIAL_MAX_ELEMENTS], total = 0.0;
        for (int k = 0; k < n; k++) {
            /* A proton's "reaction" on hydrogen is its elastic scattering on the free proton
             * (transport_react); from first_elastic on its elastic scattering on a nucleus;
             * for every other pair the non-elastic reaction. */
            double xs;
            if (k >= tab->first_elastic) {
                int j = k - tab->first_elastic;
                icru63_elastic_view v = icru63_elastic_view_of(
                    tab->icru63 + tab->icru63_elastic_offset[j], tab->icru63_elastic_count[j]);
                xs = 1000.0 * icru63_elastic_sigma_at(&v, t);
            } else if (table_target_is_elastic(tab, k)) {
                xs = nuclear_hydrogen_elastic_xs_mb(tab->Z, tab->A, t);
            } else {
                xs = nuclear_pair_xs_mb(&pairs[k], t);
            }
            int e = element[k];
            part[k] = mat->mass_fraction[e] * AVOGADRO / mat->atomic_weight[e] * 1e-27 * xs;
            total += part[k];
        }
        /* Summed in the order of `total`: the last column is the reaction column to the bit. */
        double cum[2 * MATERIAL_MAX_ELEMENTS + 1], acc = 0.0;
        for (int k = 0; k < n; k++) {
            acc += part[k];
            cum[k] = acc;
        }
        if (i > 0) {
            double dt = t - grid_node(&tab->energy_grid, i - 1);
            tab->reaction[i - 1].value = prev_total;
            tab->reaction[i - 1].slope = (total - prev_total) / dt;
            for (int k = 0; k < n; k++) {
                grid_entry *c = &tab->reaction_cum[(size_t)k * ne + i - 1];
                c->value = prev[k];
                c->slope = (cum[k] - prev[k]) / dt;
            }
        }
        prev_total = total;
        for (int k = 0; k < n; k++) prev[k] = cum[k];
    }
}

/* Where a model's stopping comes from, for messages about tables built from it: the rows of
 * the low-energy fits it uses (the one data a file can break without its own range checks
 * noticing, e.g. through a combination of coefficients). */
static void model_sources(const stopping_model *m, char *out, size_t len)
{
    const lowenergy_table *low = m->low;
    int n = snprintf(out, len, "data used: %s", BRAGG_QUOTED(low->path));
    const lowenergy_compound *c = m->Z1 == 2 && m->compound ? m->compound : m->proton_compound;
    if (c) {
        snprintf(out + n, len - (size_t)n, " line %d (%s)", c->line, c->target);
        return;
    }
    for (int i = 0; i < m->mat->n_elements && n > 0 && (size_t)n < len; i++) {
        int Z = m->mat->Z[i];
        const lowenergy_coeffs *f = m->Z1 == 2 ? &low->alpha[Z] : &low->proton[Z];
        n += snprintf(out + n, len - (size_t)n, "%s %d (Z = %d)", i ? "," : " lines", f->line, Z);
    }
}

/* The first entry of a table that is not finite, or not above (positive) / at least (else)
 * zero; -1 when all are. */
static long first_bad(const grid_entry *col, uint32_t n, int positive)
{
    for (uint32_t i = 0; i < n; i++) {
        double v = col[i].value;
        if (!isfinite(v) || !isfinite(col[i].slope) || (positive ? !(v > 0) : !(v >= 0)))
            return (long)i;
    }
    return -1;
}

/* Every table a step looks up must be finite, the stopping powers positive and the range
 * rising: a NaN here used to become a step of NaN length that never ended. */
static int check_tables(const transport_table *tab, const stopping_model *m, const ion *ion,
                        const material *mat, bragg_err *e)
{
    uint32_t ne = tab->energy_grid.ncell;
    const struct {
        const grid_entry *col;
        uint32_t n;
        int positive;
        const char *what;
    } cols[] = {
        {tab->stopping, ne, 1, "stopping power"},
        {tab->stopping_el, ne, 1, "electronic stopping power"},
        {tab->range, ne, 1, "CSDA range"},
        {tab->straggling, ne, 0, "straggling variance"},
        {tab->scattering, ne, 0, "scattering power"},
        {tab->reaction, ne, 0, "reaction cross-section"},
    };
    for (size_t k = 0; k < sizeof cols / sizeof cols[0]; k++) {
        long i = first_bad(cols[k].col, cols[k].n, cols[k].positive);
        if (i < 0) continue;
        char src[300];
        model_sources(m, src, sizeof src);
        return bragg_fail(e, "tables of %s in %s: %s at %g MeV/u is %g (valid: finite and %s 0); "
                             "%s", ion->name, mat->name, cols[k].what,
                          grid_node(&tab->energy_grid, (uint32_t)i), cols[k].col[i].value,
                          cols[k].positive ? "above" : "at least", src);
    }
    uint32_t nr = tab->range_grid.ncell;
    for (uint32_t j = 0; j < nr; j++)
        if (!isfinite(tab->energy[j].value) || !(tab->energy[j].slope >= 0) ||
            !isfinite(tab->energy[j].slope)) {
            char src[300];
            model_sources(m, src, sizeof src);
            return bragg_fail(e, "tables of %s in %s: energy at range %g g/cm2 is not finite and "
                                 "rising; %s", ion->name, mat->name,
                              grid_node(&tab->range_grid, j), src);
        }
    return BRAGG_OK;
}

/* The CSDA range at t0, the grid's lowest energy (1 keV/u): the integral of A1 dt / S(t) from
 * 0, with the electronic stopping proportional to the velocity below t0 (Lindhard and Scharff)
 * and the nuclear stopping ZBL's at every energy, in u = sqrt(t / t0) (dt = 2 t0 u du), whose
 * integrand stays finite at 0 (both stoppings go as sqrt(t) there); 64 midpoints. Until
 * 2026-12-06 the total stopping at t0 was taken as proportional to the velocity too, which the
 * nuclear part is not (it peaks below a keV): R(1 keV) of protons in water came out 1.20e-5
 * g/cm2 against PSTAR's 6.32e-6, an offset carried to every energy (+17% at 10 keV, +3.8% at
 * 100 keV, a physics review found). Now 7.7e-6; the rest is the stopping powers' own
 * difference below 10 keV (bragg's total at 1 keV is 5% under PSTAR's). */
static double range_below_grid(const stopping_model *m, double t0)
{
    enum { STEPS = 64 };
    double s_el = stopping_electronic(m, t0), sum = 0.0;
    for (int i = 0; i < STEPS; i++) {
        double u = (i + 0.5) / STEPS;
        sum += 2.0 * t0 * u / (s_el * u + stopping_nuclear(m, t0 * u * u));
    }
    return m->A1 * sum / STEPS;
}

int transport_table_build(transport_table *tab, const ion *ion, const material *mat,
                          const stopping_data *data, stopping_switches sw, bragg_err *e)
{
    memset(tab, 0, sizeof *tab);
    stopping_model model;
    if (stopping_model_init(&model, ion, mat, data, sw, e)) return BRAGG_ERR;
    tab->Z = ion->Z;
    tab->A = ion->A;
    tab->mass_mev = ion->mass_mev;
    tab->density = mat->density;

    grid_init(&tab->energy_grid, TABLE_T_MIN, TABLE_T_MAX);
    uint32_t ne = tab->energy_grid.ncell;

    /* Range at the nodes: R(t_min) below the grid (range_below_grid), then cell by cell. */
    double *node_range = malloc((ne + 1) * sizeof *node_range);
    if (!node_range) return bragg_fail(e, "out of memory building tables");
    double t0 = grid_node(&tab->energy_grid, 0);
    node_range[0] = range_below_grid(&model, t0);
    for (uint32_t i = 0; i < ne; i++)
        node_range[i + 1] = node_range[i] + range_integral(&model, grid_node(&tab->energy_grid, i),
                                                           grid_node(&tab->energy_grid, i + 1));
    /* The range grid is laid out from these: they must be finite and rise (the stopping
     * power is positive), or the grid itself would be nonsense. */
    for (uint32_t i = 0; i <= ne; i++)
        if (!isfinite(node_range[i]) || !(node_range[i] > (i ? node_range[i - 1] : 0.0))) {
            char src[300];
            model_sources(&model, src, sizeof src);
            double t = grid_node(&tab->energy_grid, i), s = stopping_total(&model, t);
            free(node_range);
            return bragg_fail(e, "tables of %s in %s: the CSDA range does not rise at %g MeV/u "
                                 "(stopping power %g MeV cm2/g; valid: finite and above 0); %s",
                              ion->name, mat->name, t, s, src);
        }
    tab->range_at_min = node_range[0];
    grid_init(&tab->range_grid, node_range[0], node_range[ne]);
    uint32_t nr = tab->range_grid.ncell;

    tab->radiation_length = mat->radiation_length;
    /* Seven columns of (value, slope) on the energy grid, t(R) on the range grid, the targets'
     * cumulative rates, and two integrals of ne doubles each (one more column's worth); for
     * protons ICRU 63's data of each element the report has (set_targets). */
    long icru63_floats = set_targets(tab, mat);
    tab->block_bytes = (size_t)(8 * ne + nr + (size_t)tab->n_targets * ne) * sizeof(grid_entry) +
                       (size_t)icru63_floats * sizeof(float);
    tab->block = malloc(tab->block_bytes);
    if (!tab->block) {
        free(node_range);
        return bragg_fail(e, "out of memory building tables");
    }
    tab->stopping = tab->block;
    tab->stopping_el = tab->stopping + ne;
    tab->range = tab->stopping_el + ne;
    tab->straggling = tab->range + ne;
    tab->scattering = tab->straggling + ne;
    tab->energy = tab->scattering + ne;
    tab->reaction = tab->energy + nr;
    tab->reaction_cum = tab->reaction + ne;
    tab->z1d = tab->reaction_cum + (size_t)tab->n_targets * ne;
    memset(tab->z1d, 0, ne * sizeof *tab->z1d);
    tab->stopping_el_integral = (double *)(void *)(tab->z1d + ne);
    tab->z1d_integral = tab->stopping_el_integral + ne;
    memset(tab->z1d_integral, 0, ne * sizeof *tab->z1d_integral);
    tab->icru63 = icru63_floats > 0 ? (float *)(void *)(tab->z1d_integral + ne) : NULL;
    for (int k = 0; k < mat->n_elements; k++)
        if (tab->icru63_offset[k] >= 0)
            icru63_element_copy(icru63_element(mat->Z[k]),
                                tab->icru63 + tab->icru63_offset[k]);

    grid_fill(&tab->energy_grid, tab->stopping, eval_total, &model);
    grid_fill(&tab->energy_grid, tab->stopping_el, eval_electronic, &model);
    grid_integrate(&tab->energy_grid, tab->stopping_el, tab->stopping_el_integral);
    grid_fill(&tab->energy_grid, tab->straggling, eval_straggling, &model);
    grid_fill(&tab->energy_grid, tab->scattering, eval_scattering, &model);
    for (uint32_t i = 0; i < ne; i++) {
        double x0 = grid_node(&tab->energy_grid, i), x1 = grid_node(&tab->energy_grid, i + 1);
        tab->range[i].value = node_range[i];
        tab->range[i].slope = (node_range[i + 1] - node_range[i]) / (x1 - x0);
    }

    /* Inverse t(R) at each range node: find the energy cell, then Newton on the exact
     * R(t) = R_i + integral_{t_i}^{t} A/S, whose derivative A/S is known. */
    double prev_t = 0.0, prev_r = 0.0;
    uint32_t cell = 0;
    for (uint32_t j = 0; j <= nr; j++) {
        double R = grid_node(&tab->range_grid, j), t;
        if (R <= node_range[0]) {
            double f = R / node_range[0];
            t = t0 * f * f;
        } else if (R >= node_range[ne]) {
            t = grid_node(&tab->energy_grid, ne);
        } else {
            while (node_range[cell + 1] < R) cell++;
            double ta = grid_node(&tab->energy_grid, cell), tb = grid_node(&tab->energy_grid, cell + 1);
            t = ta + (tb - ta) * (R - node_range[cell]) / (node_range[cell + 1] - node_range[cell]);
            for (int it = 0; it < 30; it++) {
                double r = node_range[cell] + range_integral(&model, ta, t);
                double step = (r - R) * stopping_total(&model, t) / model.A1;
                t -= step;
                if (t < ta) t = ta;
                if (t > tb) t = tb;
                if (fabs(step) < 1e-14 * t) break;
            }
        }
        if (j > 0) {
            tab->energy[j - 1].value = prev_t;
            tab->energy[j - 1].slope = (t - prev_t) / (R - prev_r);
        }
        prev_t = t;
        prev_r = R;
    }
    free(node_range);
    /* The elastic copies need the range and scattering columns (elastic_first_interval), and
     * the reaction column their cross-sections. */
    for (int k = tab->first_elastic; k < tab->n_targets; k++) {
        int el = icru63_element(tab->target_Z[k]), n = icru63_elastic_count(el);
        const float *energies = icru63_elastic_energy + icru63_elastic_first[el];
        int *first = malloc((size_t)n * sizeof *first);
        if (!first) {
            transport_table_free(tab);
            return bragg_fail(e, "out of memory building tables");
        }
        for (int j = 0; j < n; j++)
            first[j] = elastic_first_interval(tab, energies[j]);
        icru63_elastic_copy(el, first,
                            tab->icru63 + tab->icru63_elastic_offset[k - tab->first_elastic]);
        free(first);
    }
    fill_reaction(tab, mat);
    if (check_tables(tab, &model, ion, mat, e)) {
        transport_table_free(tab);
        return BRAGG_ERR;
    }
    return BRAGG_OK;
}

/* z1D* varies smoothly with energy, and one value costs ~10^4 arc evaluations: it is computed
 * on every 8th node (16 per octave) and interpolated linearly in ln t between them, which is
 * within 0.1% of computing every node (tests/unit/test_biology.c). */
#define Z1D_NODE_STRIDE 8

int transport_table_fill_z1d(transport_table *tab, const bio_cell *cell, bragg_err *e)
{
    const grid *g = &tab->energy_grid;
    uint32_t ne = g->ncell;
    double *node = malloc((ne + 1) * sizeof *node);
    if (!node) return bragg_fail(e, "out of memory building tables");
    /* Computed nodes: every Z1D_NODE_STRIDE-th and the last; the rest interpolated. */
    for (uint32_t i = 0; i <= ne; i++) {
        if (i % Z1D_NODE_STRIDE != 0 && i != ne) continue;
        double t = grid_node(g, i);
        node[i] = mkm_z1d_star(cell, tab->Z, t, table_stopping_el(tab, t) * 0.1);
    }
    for (uint32_t i = 0; i <= ne; i++) {
        if (i % Z1D_NODE_STRIDE == 0 || i == ne) continue;
        uint32_t a = i - i % Z1D_NODE_STRIDE, b = a + Z1D_NODE_STRIDE < ne ? a + Z1D_NODE_STRIDE : ne;
        double la = log(grid_node(g, a)), lb = log(grid_node(g, b)), l = log(grid_node(g, i));
        node[i] = node[a] + (node[b] - node[a]) * (l - la) / (lb - la);
    }
    for (uint32_t i = 0; i < ne; i++) {
        tab->z1d[i].value = node[i];
        tab->z1d[i].slope = (node[i + 1] - node[i]) / (grid_node(g, i + 1) - grid_node(g, i));
    }
    grid_integrate(g, tab->z1d, tab->z1d_integral);
    free(node);
    return BRAGG_OK;
}

void transport_table_free(transport_table *tab)
{
    free(tab->block);
    memset(tab, 0, sizeof *tab);
}
