/* engine.c - see engine.h. */
#include "engine.h"

#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend.h"
#include "memory.h"
#include "constants.h"
#include "nuclear.h"

struct engine {
    run_config cfg;
    catalog cat;
    int n_tables;
    transport_table *tables;     /* per distinct material: one per charge 1..Z (index Z-1) */
    transport_params params;
    bio_model bio;               /* bio.kind BIO_NONE without a model */
    double csda_depth;
    double *bin_density;
    backend *be;

    score_arrays batch;          /* run thread only */
    score_totals totals;         /* guarded by lock */
    phase_space_list ps;         /* the run's phase-space crossings: run thread, then readers
                                    once the run has ended */
    pthread_mutex_t lock;
    pthread_t thread;
    int thread_started;
    int adopted;                 /* the result came from engine_adopt_totals */
    uint64_t resumed_histories, resumed_steps;   /* adopted, but not run in its time */

    atomic_int cancel, pause;
    atomic_uint_fast64_t progress;
    atomic_int state;            /* run_state */
    char error[512];             /* set before state becomes RUN_FAILED */

    /* Timing, guarded by lock. */
    double t_start, t_end, paused_total, paused_since;
    double clock_hz;             /* profile_clock() ticks per second */
    double mark_cycles;          /* cost of one profile_mark, subtracted per mark */
};

const char *const profile_component_names[PROFILE_COUNT] = {
    "stopping power", "range/energy", "straggling", "scattering", "nuclear", "scoring", "RNG",
    "other"};

/* One profiled history in PROFILE_EVERY: the timing costs about half again on those, ~1.5%
 * overall; every history gets two clock reads (~0.1%). */
#define PROFILE_EVERY 32

/* Cost of one profile_mark in clock ticks. The median of 15 rounds of 256 marks: one round
 * that the scheduler interrupts (a busy 2-core machine, the workbench's own threads) costs
 * thousands of ticks per mark, and a single mean over all marks once made every component
 * but the two largest read 0% in the workbench's profile panel. */
static double calibrate_mark(void)
{
    enum { ROUNDS = 15, MARKS = 256 };
    double per_mark[ROUNDS];
    step_profile prof;
    memset(&prof, 0, sizeof prof);
    for (int r = 0; r < ROUNDS; r++) {
        prof.last = profile_clock();
        uint64_t start = prof.last;
        for (int i = 0; i < MARKS; i++) profile_mark(&prof, i & 1);
        per_mark[r] = (double)(profile_clock() - start) / MARKS;
    }
    for (int i = 1; i < ROUNDS; i++)      /* insertion sort: 15 numbers */
        for (int j = i; j > 0 && per_mark[j - 1] > per_mark[j]; j--) {
            double t = per_mark[j];
            per_mark[j] = per_mark[j - 1];
            per_mark[j - 1] = t;
        }
    return per_mark[ROUNDS / 2];
}

const char *run_state_name(run_state s)
{
    static const char *names[] = {"ready", "running", "paused", "done", "cancelled", "failed"};
    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "?";
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* Ticks of the profile clock per second, against CLOCK_MONOTONIC over 20 ms. */
static double calibrate_clock(void)
{
    double t0 = now_s();
    uint64_t c0 = profile_clock();
    struct timespec ts = {0, 20000000};
    nanosleep(&ts, NULL);
    double t1 = now_s();
    uint64_t c1 = profile_clock();
    return (double)(c1 - c0) / (t1 - t0);
}

/* Depth at which the nominal beam runs out of CSDA range in the stack (cm). */
static double csda_depth(const engine *en)
{
    const transport_params *p = &en->params;
    double t = p->energy;
    for (int i = 0; i < p->n_slabs; i++) {
        const slab_geometry *s = &p->slabs[i];
        const transport_table *tab = s->table[p->Z];
        double R = table_range(tab, t), th = s->z_end - s->z_start;
        if (R <= s->density * th) return s->z_start + R / s->density;
        t = table_energy(tab, R - s->density * th);
    }
    return p->slabs[p->n_slabs - 1].z_end;
}

/* The cut-off energy (MeV/u): the one given, else 0.1, or lower where the beam's own range at
 * 0.1 MeV/u is more than 0.1% of its range (tab: its table in the first slab): the rest of a
 * particle's energy is deposited where it reaches the cut-off, and that range is where its
 * energy would have gone. At 0.1 MeV/u it is ~1 um for protons and 2 um for carbon in water,
 * nothing against therapy ranges; but 5.5 MeV alphas in air (4.2 cm CSDA) lost their last 0.4
 * MeV 2.7 mm short of where they stop: R50 6% short, and a spike of the lumped deposits 7
 * times the entrance dose stood in for the Bragg peak (2.8). Down to CONFIG_ENERGY_CUT_MIN,
 * below which the tables' stopping (from 1 keV/u) is not followed further. */
static double energy_cut(const run_config *c, const transport_table *tab)
{
    if (c->energy_cut > 0.0) return c->energy_cut;
    double allowed = 1e-3 * table_range(tab, c->energy), lo = CONFIG_ENERGY_CUT_MIN, hi = 0.1;
    if (table_range(tab, hi) <= allowed) return hi;
    if (table_range(tab, lo) >= allowed) return lo;
    for (int k = 0; k < 60; k++) {   /* the range rises with the energy: bisect */
        double mid = 0.5 * (lo + hi);
        if (table_range(tab, mid) <= allowed) lo = mid;
        else hi = mid;
    }
    return lo;
}

/* The reference isotope of charge Z for secondaries: the primary for its own charge, else the
 * ion table's isotope whose mass number is the element's rounded atomic weight (p, He-4, Li-7,
 * Be-9, B-11, ...), else one made from the element's atomic weight. */
static ion reference_ion(const catalog *cat, const ion *primary, int Z)
{
    if (Z == primary->Z) return *primary;
    const element *el = &cat->materials.elements[Z];
    int A = Z == 1 ? 1 : (int)lround(el->atomic_weight);
    const ion *any = NULL;
    for (int i = 0; i < cat->ions.count; i++) {
        const ion *x = &cat->ions.ions[i];
        if (x->Z != Z) continue;
        if (x->A == A) return *x;
        if (!any) any = x;
    }
    if (any) return *any;
    ion made;
    memset(&made, 0, sizeof made);
    snprintf(made.name, sizeof made.name, "%s-%d", el->symbol, A);
    made.Z = Z;
    made.A = A;
    /* Atomic mass less the electrons; their binding (< 0.1 MeV here) is negligible. */
    made.mass_mev = el->atomic_weight * ATOMIC_MASS_UNIT_MEV - Z * ELECTRON_MASS_MEV;
    return made;
}

/* Bins covering `depth` (the last one may reach past it). */
static int depth_bins(double depth, double width)
{
    return (int)ceil(depth / width - 1e-9);
}

static int build_geometry(engine *en, bragg_err *e)
{
    const run_config *c = &en->cfg;
    transport_params *p = &en->params;
    const ion *ion = ion_table_lookup(&en->cat.ions, c->ion, e);
    if (!ion) return BRAGG_ERR;
    if (ion->Z > TRANSPORT_MAX_Z || ion->A > NUCLEAR_MAX_A)
        return bragg_fail(e, "ion: %s is heavier than the transport handles (Z <= %d, A <= %d)",
                          ion->name, TRANSPORT_MAX_Z, NUCLEAR_MAX_A);
    /* Charges with tables: the primary's and, with nuclear reactions, every lighter one; a
     * charge-1 beam's protons emit alphas in their reactions (ICRU Report 63), so it gets
     * helium's tables too. */
    int z_max = c->nuclear && ion->Z < 2 ? 2 : ion->Z;
    /* Channels: the primary, each charge with tables, the reactions' local deposits. */
    int channels = z_max + 2;
    /* A depth given by the user fixes the scores' size before any table is built: an
     * oversized run is refused at once (Fe-56 builds 26 charges' tables first). */
    if (c->depth_max_cm > 0 &&
        memory_check(c, depth_bins(c->depth_max_cm, config_bin_width(c, c->depth_max_cm, 0.0)),
                     channels, memory_map_bins(c), e))
        return BRAGG_ERR;
    /* Secondaries of every lighter charge need their own tables; without nuclear reactions
     * only the primary's. */
    int zlo = c->nuclear ? 1 : ion->Z;
    struct ion refs[TRANSPORT_MAX_Z + 1];
    for (int z = zlo; z <= z_max; z++) {
        refs[z] = reference_ion(&en->cat, ion, z);
        p->ref_A[z] = refs[z].A;
        p->nucleon_mass[z] = refs[z].mass_mev / refs[z].A;
        p->binding[z] = (z * PROTON_MASS_MEV + (refs[z].A - z) * NEUTRON_MASS_MEV - refs[z].mass_mev) /
                        refs[z].A;
    }
    for (int A = 1; A <= NUCLEAR_MAX_A; A++) p->radii.r[A] = nuclear_abrasion_radius(A);
    en->tables = calloc((size_t)c->n_slabs * TRANSPORT_MAX_Z, sizeof *en->tables);
    if (!en->tables) return bragg_fail(e, "out of memory");
    const material *mats[TRANSPORT_MAX_SLABS];
    double z = 0.0;
    for (int i = 0; i < c->n_slabs; i++) {
        const material *m = material_table_lookup(&en->cat.materials, c->slabs[i].material, e);
        if (!m) return BRAGG_ERR;
        int k;
        for (k = 0; k < en->n_tables; k++)
            if (mats[k] == m) break;
        if (k == en->n_tables) {
            mats[k] = m;
            en->n_tables++;
            for (int q = zlo; q <= z_max; q++)
                if (transport_table_build(&en->tables[k * TRANSPORT_MAX_Z + q - 1], &refs[q], m,
                                          en->cat.stopping, c->stopping, e))
                    return BRAGG_ERR;
        }
        slab_geometry *s = &p->slabs[i];
        s->z_start = z;
        s->z_end = z + c->slabs[i].thickness_cm;
        s->density = m->density;
        for (int q = zlo; q <= z_max; q++) s->table[q] = &en->tables[k * TRANSPORT_MAX_Z + q - 1];
        z = s->z_end;
    }
    p->n_slabs = c->n_slabs;
    p->energy = c->energy;
    p->energy_cut = energy_cut(c, p->slabs[0].table[ion->Z]);
    for (int i = 0; i < c->n_slabs; i++)
        for (int q = zlo; q <= z_max; q++)
            p->slabs[i].range_cut[q] = table_range(p->slabs[i].table[q], p->energy_cut);
    p->Z = ion->Z;
    p->A = ion->A;
    p->z_max = z_max;
    p->nuclear = c->nuclear;
    /* The charged products one reaction can write (the event loop reserves this many slots per
     * reaction, physics/event.h), over every reaction the run's particles can reach. The
     * fragmentation model: at most one piece per projectile nucleon and as many knocked-out
     * target nucleons, plus one: 2A + 1 for the beam, no more for its fragments (A no larger)
     * and 9 for the alphas protons emit. With reactions on, protons are transported (a
     * fragment of any beam, or the beam), and theirs up to 250 MeV are ICRU Report 63's, up to
     * ICRU63_MAX_PRODUCTS (16) products: more than 2A + 1 for A <= 7. (Elastic scattering makes
     * one or two.) */
    int products = 2 * ion->A + 1;
    if (c->nuclear && products < ICRU63_MAX_PRODUCTS) products = ICRU63_MAX_PRODUCTS;
    p->max_products = products < NUCLEAR_MAX_PRODUCTS ? products : NUCLEAR_MAX_PRODUCTS;
    p->channels = channels;
    p->energy_spread = c->energy_spread;
    p->spot_sigma = c->spot_sigma_cm;
    p->divergence_sigma = c->divergence_rad;
    p->seed = c->seed;
    p->lateral_halfwidth = c->lateral_halfwidth_cm;
    p->step_fraction = c->step_fraction;
    p->step_fraction_secondary = c->step_fraction_secondary;
    p->step_min_secondary = c->step_min_secondary_cm;
    p->straggling = c->straggling;
    p->scattering = c->scattering;
    /* The MKM reads z1D* per step: fill the column of every table built. */
    if (en->bio.kind == BIO_MKM) {
        for (int i = 0; i < en->n_tables * TRANSPORT_MAX_Z; i++)
            if (en->tables[i].block && transport_table_fill_z1d(&en->tables[i], &en->bio.cell, e))
                return BRAGG_ERR;
        p->score_z1d = 1;
    }

    en->csda_depth = csda_depth(en);
    double depth = c->depth_max_cm;
    if (depth <= 0.0) {
        /* Range + 15% + 5 mm: room for straggling, energy spread and the distal tail; a range
         * under 5 mm (p below 40 MeV), whose tail is short, takes range + 15% + range. */
        depth = 1.15 * en->csda_depth + fmin(0.5, en->csda_depth);
        if (depth > z) depth = z;
    }
    double width = config_bin_width(c, depth, en->csda_depth);
    /* A range under a bin (p 2.5 keV: 0.15 um) still gets the ten bins a curve needs, as a
     * --depth must hold (config_validate). */
    if (c->depth_max_cm <= 0.0 && depth < 10 * width) depth = 10 * width;
    /* The primary's smallest step, unless given: the steps near the end of the range need not
     * resolve the deposit finer than half a depth bin, nor the distal edge finer than its range
     * straggling, about 1.1% of the range for protons (less for heavier ions): a 300th of the
     * CSDA depth keeps the last steps under a third of that where the edge is narrower than a
     * bin. With 0.1 mm bins: 50 um for C-12 400 MeV/u and p 150 MeV (was a fixed 10 um; 17-18%
     * fewer steps, every figure unchanged), 4 um for p 10 MeV, whose range is 12 bins (50 um
     * moved its peak/entrance by 0.3%). docs/physics.md, "Step-size convergence". */
    p->step_min = c->step_min_cm > 0.0 ? c->step_min_cm
                                       : fmin(0.5 * width, en->csda_depth / 300.0);
    if (!(p->step_min >= 1e-6)) p->step_min = 1e-6;   /* a beam stopping at once: any step */
    int nbins = depth_bins(depth, width);
    if (nbins < 1) nbins = 1;
    if (nbins > 1000000)
        return bragg_fail(e, "scoring grid: %d bins of %g mm over %g cm is too many (valid: up to "
                             "1e6; a coarser --bin, or --bin 0 for bins chosen to fit)",
                          nbins, 10 * width, depth);
    p->nbins = nbins;
    p->bin_width = width;
    p->inv_bin_width = 1.0 / width;
    if (c->map_kind != MAP_NONE) {
        /* Lateral bins inside the grid (XZ: both sides of the axis), and one beyond. */
        double map_bin, map_radius;
        config_map_grid(c, en->csda_depth, nbins * width, &map_bin, &map_radius);
        int inner = config_map_lateral_bins(c->map_kind, map_bin, map_radius);
        if (inner > CONFIG_MAP_MAX_BINS)
            return bragg_fail(e, "map: %d lateral bins of %g mm out to %g cm is too many (valid: "
                                 "up to %d; raise --map-bin or lower --map-radius)",
                              inner, 10 * map_bin, map_radius, CONFIG_MAP_MAX_BINS);
        /* The bins must lie inside the material (config_map_grid): a radius not a whole number
         * of given bins would end past the slabs' half-width. */
        double extent = (c->map_kind == MAP_XZ ? 0.5 : 1.0) * inner * map_bin;
        if (extent > c->lateral_halfwidth_cm * (1 + 1e-9))
            return bragg_fail(e, "map: %d bins of %g mm reach %g cm, beyond the slabs' lateral "
                                 "half-width (valid: up to %g cm; a map radius that is a whole "
                                 "number of map bins)",
                              inner, 10 * map_bin, extent, c->lateral_halfwidth_cm);
        if ((double)(nbins + 1) * (inner + 1) > 2e7)
            return bragg_fail(e, "map: %d depth bins x %d lateral bins is too many cells (valid: "
                                 "up to 2e7; raise --bin or --map-bin, or lower --map-radius)",
                              nbins, inner + 1);
        p->map_kind = c->map_kind;
        p->map_bins = inner + 1;
        p->map_inv_width = 1.0 / map_bin;
        p->map_half = 0.5 * inner * map_bin;
    }
    if (c->phase_space_depth_cm > 0.0) {
        /* Past the scoring depth particles are not followed (step_finish). */
        if (!(c->phase_space_depth_cm < nbins * p->bin_width))
            return bragg_fail(e, "phase-space depth: %g cm is out of range (valid: above 0 and "
                                 "below the scoring depth, %g cm; --depth sets it)",
                              c->phase_space_depth_cm, nbins * p->bin_width);
        p->ps_depth = c->phase_space_depth_cm;
    }
    /* A primary gets no farther from the axis by scattering than it travels: a grid under 10
     * cm deep caps the lateral sum at its own depth (plus spot and divergence). */
    double grid_cm = nbins * p->bin_width;
    p->lateral_cap =
        fmin(10.0, grid_cm) + 6.0 * p->spot_sigma + 6.0 * p->divergence_sigma * grid_cm;
    p->lateral_quanta = LATERAL_QUANTA_PER_CM3;
    while (p->lateral_quanta * 2.0 * p->lateral_cap * p->lateral_cap <=
           100.0 * LATERAL_QUANTA_PER_CM3)
        p->lateral_quanta *= 2.0;

    transport_set_let_weights(p);
    en->bin_density = malloc((size_t)nbins * sizeof *en->bin_density);
    if (!en->bin_density) return bragg_fail(e, "out of memory");
    for (int b = 0; b < nbins; b++) {
        double b0 = b * p->bin_width, b1 = b0 + p->bin_width, mass = 0.0;
        for (int i = 0; i < p->n_slabs; i++) {
            double lo = fmax(b0, p->slabs[i].z_start), hi = fmin(b1, p->slabs[i].z_end);
            if (hi > lo) mass += (hi - lo) * p->slabs[i].density;
        }
        en->bin_density[b] = mass > 0 ? mass / p->bin_width : p->slabs[p->n_slabs - 1].density;
    }
    return BRAGG_OK;
}

static int load_bio(engine *en, bragg_err *e)
{
    const run_config *c = &en->cfg;
    if (!c->bio_model[0]) return BRAGG_OK;
    if (bio_model_load(&en->bio, c->bio_model, c->bio_cell[0] ? c->bio_cell : NULL,
                       c->bio_alpha_beta, e))
        return BRAGG_ERR;
    const ion *ion = ion_table_lookup(&en->cat.ions, c->ion, e);
    if (!ion) return BRAGG_ERR;
    return bio_model_check_ion(&en->bio, ion->name, ion->Z, ion->A, e);
}

int engine_create(engine **out, const run_config *cfg, bragg_err *e)
{
    *out = NULL;
    engine *en = calloc(1, sizeof *en);
    if (!en) return bragg_fail(e, "out of memory");
    en->cfg = *cfg;
    pthread_mutex_init(&en->lock, NULL);
    atomic_init(&en->cancel, 0);
    atomic_init(&en->pause, 0);
    atomic_init(&en->progress, 0);
    atomic_init(&en->state, RUN_READY);
    if (catalog_load(&en->cat, e) || catalog_set_water_i(&en->cat, cfg->iwater, e) ||
        config_validate(cfg, &en->cat, e) || load_bio(en, e) || build_geometry(en, e) ||
        memory_check(cfg, en->params.nbins, en->params.channels, en->params.map_bins, e))
        goto fail;
    en->be = backend_new(cfg->backend, e);
    if (!en->be) goto fail;
    char reason[256];
    if (!en->be->available(reason, sizeof reason)) {
        bragg_fail(e, "backend %s: %s", cfg->backend, reason);
        goto fail;
    }
    if (en->be->open(en->be, cfg->threads, &en->params, e) ||
        score_arrays_init(&en->batch, &en->params, e) ||
        score_totals_init(&en->totals, &en->params, cfg->batches, cfg->map_errors, e))
        goto fail;
    *out = en;
    return BRAGG_OK;
fail:
    engine_destroy(en);
    return BRAGG_ERR;
}

/* Histories per backend job: the int64 accumulators of a job must not overflow even if every
 * history put everything into one bin. Bounds per history, from energy conservation (the
 * continuous losses of all of a history's particles add up to at most the energy it brought,
 * E = A t_max, reactions conserve energy up to rounding):
 *   - energy: E in quanta, doubled as a margin;
 *   - LET-weighted energy: E times the largest LET of any table of the run;
 *   - track (and forward track): every centimetre of a charged particle costs at least the
 *     smallest stopping power S_min rho of any of the run's tables over the whole energy grid
 *     (velocity decides it, not mass: dx/dE = 1/(S rho) for any isotope of a charge), so the
 *     history's whole track is at most E / (S_min rho), doubled for straggling (a step may lose
 *     less than its CSDA share; a track twice its CSDA length takes dozens of such steps in a
 *     row);
 *   - LET times track: LET is 0.1 S_el rho (keV/um per MeV/cm), so track times LET is 0.1 times
 *     the electronic loss, at most 0.1 E; times 4 for the mid-step evaluation of the LET (the
 *     loss rate within a step near the Bragg peak differs from its mid-point value by less than
 *     that) and straggling;
 *   - lateral sum (primaries only): track r^2 / 2 with r at most lateral_cap (the sum counts a
 *     primary farther out as at lateral_cap, physics/transport.h);
 *   - z1D*-weighted energy (the MKM): E times the largest z1D* of any table, doubled like the
 *     energy (0 without the MKM: the column is then 0).
 * The old bound, (2A + 8) particles each with the longest range of any charge at the primary's
 * mass, gave jobs of 1 202 histories for C-12 at 400 MeV/u, which cost the GPU its occupancy
 * (a job is one run of its event loop) and the CPU a merge of all curves every 1 202
 * histories. */
static uint64_t max_job_histories(const engine *en)
{
    const transport_params *p = &en->params;
    double t_max = p->energy * (1.0 + 6.0 * p->energy_spread) + 1.0;
    double energy = p->A * t_max;
    double s_min = INFINITY, let_max = 0.0, z1d_max = 0.0, primary_cm = 0.0;
    for (int i = 0; i < p->n_slabs; i++)
        for (int z = 1; z <= p->z_max; z++) {
            const transport_table *tab = p->slabs[i].table[z];
            if (!tab) continue;
            double rho = p->slabs[i].density, let_rho = rho * p->slabs[i].let_weight;
            for (uint32_t k = 0; k < tab->energy_grid.ncell; k++) {
                /* The tables are piecewise linear between nodes: extremes sit on nodes. */
                double s = tab->stopping[k].value * rho;
                double let = 0.1 * tab->stopping_el[k].value * let_rho;   /* as LET_d sums it */
                if (s > 0.0 && s < s_min) s_min = s;
                if (let > let_max) let_max = let;
                if (tab->z1d[k].value > z1d_max) z1d_max = tab->z1d[k].value;
            }
            if (z == p->Z) {
                double cm = table_range(tab, t_max) / rho;
                if (cm > primary_cm) primary_cm = cm;
            }
        }
    double track = 2.0 * energy / s_min + 1.0, primary_track = 2.0 * primary_cm + 1.0;
    double per[6] = {2.0 * energy * ENERGY_QUANTA_PER_MEV, 2.0 * energy * let_max * LET_QUANTA,
                     track * TRACK_QUANTA_PER_CM,
                     0.5 * primary_track * p->lateral_cap * p->lateral_cap * p->lateral_quanta,
                     4.0 * 0.1 * energy * LET_T_QUANTA, 2.0 * energy * z1d_max * Z1D_QUANTA};
    double limit = 4.0e18;   /* below 2^62, with room for rounding */
    double n = 1e12;
    for (int k = 0; k < 6; k++)
        if (per[k] > 0.0 && limit / per[k] < n) n = limit / per[k];
    return n < 1 ? 1 : (uint64_t)n;
}

static void *run_thread(void *arg)
{
    engine *en = arg;
    const run_config *c = &en->cfg;
    uint64_t max_job = max_job_histories(en);
    for (int b = 0; b < c->batches && !atomic_load(&en->cancel); b++) {
        uint64_t first, count, done = 0;
        engine_batch_range(en, b, &first, &count);
        while (done < count && !atomic_load(&en->cancel)) {
            uint64_t n = count - done < max_job ? count - done : max_job;
            backend_job job = {&en->params, first + done, n, &en->progress, &en->cancel,
                               &en->pause, c->profile ? PROFILE_EVERY : 0, en->clock_hz};
            score_arrays_clear(&en->batch);
            bragg_err err = {{0}};
            int failed = en->be->run_batch(en->be, &job, &en->batch, &err);
            score_arrays_finish(&en->batch);
            phase_space_list_append(&en->ps, &en->batch.ps);
            if (!failed && en->ps.lost) {
                failed = 1;
                bragg_fail(&err, "phase space: %llu crossings of the plane at %g cm found no room "
                                 "(more than %d in one history, the GPU's buffer full, or out "
                                 "of memory)",
                           (unsigned long long)en->ps.lost, en->params.ps_depth,
                           PHASE_SPACE_HISTORY_HEADROOM);
            }
            pthread_mutex_lock(&en->lock);
            score_totals_add(&en->totals, &en->batch);   /* keeps what completed, even on failure */
            if (failed) {
                snprintf(en->error, sizeof en->error, "%s", err.msg);
                en->t_end = now_s();
                score_totals_close_batch(&en->totals);
                pthread_mutex_unlock(&en->lock);
                atomic_store(&en->state, RUN_FAILED);
                return NULL;
            }
            pthread_mutex_unlock(&en->lock);
            done += en->batch.histories;
            if (en->batch.histories < n) break;   /* cancelled inside the job */
        }
        pthread_mutex_lock(&en->lock);
        score_totals_close_batch(&en->totals);
        pthread_mutex_unlock(&en->lock);
    }
    pthread_mutex_lock(&en->lock);
    en->t_end = now_s();
    if (atomic_load(&en->pause)) en->paused_total += en->t_end - en->paused_since;
    pthread_mutex_unlock(&en->lock);
    atomic_store(&en->state, atomic_load(&en->cancel) ? RUN_CANCELLED : RUN_DONE);
    return NULL;
}

int engine_start(engine *en, bragg_err *e)
{
    if (en->thread_started) return bragg_fail(e, "run already started");
    if (en->cfg.profile) {
        en->clock_hz = calibrate_clock();
        en->mark_cycles = calibrate_mark();
    }
    en->t_start = now_s();
    atomic_store(&en->state, RUN_RUNNING);
    /* The run thread and the workers it starts (they inherit its mask) leave the signals a user
     * sends to the thread that controls the run, whose handler sets the flag it polls: in a
     * worker busy in the step loop a handler may be held back for ever (ThreadSanitizer delays
     * it to the thread's next libc call), and ncurses wants SIGWINCH on its own thread. */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGHUP);
    sigaddset(&block, SIGWINCH);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    int failed = pthread_create(&en->thread, NULL, run_thread, en) != 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (failed) {
        atomic_store(&en->state, RUN_FAILED);
        return bragg_fail(e, "cannot start the run thread");
    }
    en->thread_started = 1;
    return BRAGG_OK;
}

void engine_pause(engine *en, int paused)
{
    pthread_mutex_lock(&en->lock);
    /* Compare-and-swap, so a run that ends meanwhile is never turned back into "paused". */
    int expected = paused ? RUN_RUNNING : RUN_PAUSED;
    if (atomic_compare_exchange_strong(&en->state, &expected, paused ? RUN_PAUSED : RUN_RUNNING)) {
        if (paused) en->paused_since = now_s();
        else en->paused_total += now_s() - en->paused_since;
        atomic_store(&en->pause, paused);
    }
    pthread_mutex_unlock(&en->lock);
}

void engine_cancel(engine *en)
{
    atomic_store(&en->cancel, 1);
}

int engine_wait(engine *en, double timeout_s)
{
    double until = now_s() + timeout_s;
    for (;;) {
        int s = atomic_load(&en->state);
        if (s == RUN_DONE || s == RUN_CANCELLED || s == RUN_FAILED) return 1;
        if (s == RUN_READY) return 1;
        if (now_s() >= until) return 0;
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
}

int engine_snapshot(engine *en, run_snapshot *out, bragg_err *e)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&en->lock);
    out->state = (run_state)atomic_load(&en->state);
    snprintf(out->error, sizeof out->error, "%s", en->error);
    out->histories_total = en->cfg.histories;
    out->histories_done = atomic_load(&en->progress);
    out->batches_done = en->totals.batches;
    out->batches_total = en->cfg.batches;
    double end = (out->state == RUN_DONE || out->state == RUN_CANCELLED || out->state == RUN_FAILED)
                     ? en->t_end
                     : now_s();
    double paused = en->paused_total + (atomic_load(&en->pause) && out->state == RUN_PAUSED
                                            ? end - en->paused_since
                                            : 0.0);
    out->elapsed_s = en->thread_started || en->adopted ? end - en->t_start - paused : 0.0;
    if (out->elapsed_s > 0) {
        /* What ran in that time: not the histories an adopted run resumed. */
        uint64_t ran = en->totals.histories - en->resumed_histories;
        out->histories_per_s = (out->histories_done - en->resumed_histories) / out->elapsed_s;
        double steps_per_history = ran ? (double)(en->totals.steps - en->resumed_steps) / ran
                                       : 0.0;
        out->steps_per_s = out->histories_per_s * steps_per_history;
    }
    int rc = score_result_compute(&en->totals, &en->params, en->bin_density, &out->result, e);
    if (rc == BRAGG_OK && en->bio.kind != BIO_NONE)
        rc = bio_curves_compute(&en->bio, en->cfg.bio_dose, &out->result, &out->bio, e);
    const score_totals *t = &en->totals;
    if (en->cfg.profile && t->profiled_histories > 0 && en->clock_hz > 0) {
        /* Each component's ticks less the timer's own cost per mark; the shares of the
         * sampled histories then divide the measured time of all histories. */
        double net[PROFILE_COUNT], total = 0;
        for (int k = 0; k < PROFILE_COUNT; k++) {
            net[k] = (double)t->profile_cycles[k] - en->mark_cycles * (double)t->profile_marks[k];
            if (net[k] < 0) net[k] = 0;
            total += net[k];
        }
        out->profile_on = 1;
        out->profile_timed_histories = t->profiled_histories;
        double seconds = (double)t->history_cycles / en->clock_hz;
        for (int k = 0; k < PROFILE_COUNT; k++) {
            out->profile_share[k] = total > 0 ? net[k] / total : 0.0;
            out->profile_ns_per_step[k] = t->steps ? 1e9 * seconds * out->profile_share[k] / t->steps : 0;
        }
        int threads = en->be->threads(en->be);
        double wall = (out->state == RUN_RUNNING || out->state == RUN_PAUSED) ? NAN : out->elapsed_s;
        if (wall > 0 && threads > 0) out->profile_coverage = seconds / (wall * threads);
    }
    pthread_mutex_unlock(&en->lock);
    return rc;
}

void run_snapshot_free(run_snapshot *s)
{
    score_result_free(&s->result);
    bio_curves_free(&s->bio);
}

void engine_destroy(engine *en)
{
    if (!en) return;
    if (en->thread_started) {
        atomic_store(&en->cancel, 1);
        atomic_store(&en->pause, 0);
        pthread_join(en->thread, NULL);
    }
    if (en->be) {
        en->be->release(en->be);
        free(en->be);
    }
    score_arrays_free(&en->batch);
    score_totals_free(&en->totals);
    phase_space_list_free(&en->ps);
    if (en->tables)
        for (int i = 0; i < en->n_tables * TRANSPORT_MAX_Z; i++) transport_table_free(&en->tables[i]);
    free(en->tables);
    free(en->bin_density);
    catalog_free(&en->cat);
    pthread_mutex_destroy(&en->lock);
    free(en);
}

const run_config *engine_config(const engine *en) { return &en->cfg; }
const transport_params *engine_params(const engine *en) { return &en->params; }
const char *engine_backend_name(const engine *en) { return en->be->name; }
int engine_threads(const engine *en) { return en->be->threads(en->be); }
int engine_device(const engine *en, backend_device *out)
{
    return en->be->device ? en->be->device(en->be, out) : 0;
}
const char *engine_vector_path(const engine *en)
{
    return en->be->vector_path ? en->be->vector_path(en->be) : NULL;
}
double engine_csda_depth(const engine *en) { return en->csda_depth; }
phase_space_list *engine_phase_space(engine *en) { return &en->ps; }
const bio_model *engine_bio(const engine *en) { return en->bio.kind != BIO_NONE ? &en->bio : NULL; }

void engine_batch_range(const engine *en, int b, uint64_t *first, uint64_t *count)
{
    /* The first `extra` batches take one history more. */
    uint64_t n = en->cfg.histories, B = (uint64_t)en->cfg.batches, ub = (uint64_t)b;
    uint64_t per = n / B, extra = n % B;
    *first = ub * per + (ub < extra ? ub : extra);
    *count = per + (ub < extra ? 1 : 0);
}

uint64_t engine_max_job_histories(const engine *en) { return max_job_histories(en); }

int engine_run_range(engine *en, uint64_t first, uint64_t count, score_arrays *out, bragg_err *e)
{
    if (en->thread_started) return bragg_fail(e, "engine_run_range: the run thread is going");
    if (count > max_job_histories(en))
        return bragg_fail(e, "engine_run_range: %llu histories could overflow the int64 sums "
                             "(at most %llu per job)",
                          (unsigned long long)count, (unsigned long long)max_job_histories(en));
    backend_job job = {&en->params, first, count, &en->progress, &en->cancel, &en->pause,
                       en->cfg.profile ? PROFILE_EVERY : 0, en->clock_hz};
    score_arrays_clear(out);
    int rc = en->be->run_batch(en->be, &job, out, e);
    score_arrays_finish(out);
    return rc;
}

int engine_adopt_totals(engine *en, score_totals *t, const adopted_run *how, bragg_err *e)
{
    if (en->thread_started) return bragg_fail(e, "engine_adopt_totals: the run thread is going");
    run_state end = how->end;
    if (end != RUN_DONE && end != RUN_CANCELLED && (end != RUN_FAILED || !how->error))
        return bragg_fail(e, "engine_adopt_totals: a run cannot end as %s%s", run_state_name(end),
                          end == RUN_FAILED ? " without its error" : "");
    if (how->resumed_histories > t->histories || how->resumed_steps > t->steps)
        return bragg_fail(e, "engine_adopt_totals: %llu histories resumed of %llu",
                          (unsigned long long)how->resumed_histories,
                          (unsigned long long)t->histories);
    const score_totals *mine = &en->totals;
    if (t->nbins != mine->nbins || t->channels != mine->channels ||
        t->n_curves != mine->n_curves || t->max_batches != mine->max_batches ||
        t->batch_map_curves != mine->batch_map_curves)
        return bragg_fail(e, "engine_adopt_totals: sums of %d bins, %d curves, %d batches (%d "
                             "map curves each) do not fit a run of %d bins, %d curves, %d "
                             "batches (%d)",
                          t->nbins, t->n_curves, t->max_batches, t->batch_map_curves,
                          mine->nbins, mine->n_curves, mine->max_batches,
                          mine->batch_map_curves);
    pthread_mutex_lock(&en->lock);
    score_totals swap = en->totals;
    en->totals = *t;
    *t = swap;
    double now = now_s();
    en->t_end = now;
    en->t_start = now - how->elapsed_s;
    en->paused_total = 0;
    atomic_store(&en->progress, en->totals.histories);
    if (end == RUN_FAILED) snprintf(en->error, sizeof en->error, "%s", how->error);
    en->adopted = 1;
    en->resumed_histories = how->resumed_histories;
    en->resumed_steps = how->resumed_steps;
    pthread_mutex_unlock(&en->lock);
    atomic_store(&en->state, end);
    return BRAGG_OK;
}
