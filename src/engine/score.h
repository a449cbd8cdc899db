/*
 * score.h - scored quantities: integer accumulators per batch, run totals, and what a run
 * reports from them (dose with its standard error, fluence, LET, lateral spread, derived
 * figures with jackknife uncertainties, the energy ledger).
 *
 * score_arrays are the integer accumulators a backend fills (one per thread, merged by integer
 * addition, so the result does not depend on the thread count or order), and the phase-space
 * crossings its histories made (when asked for). score_totals keeps the
 * run's sums and a copy of each batch's dose for the uncertainties. score_result is the physics
 * a reader wants, in physical units per primary. All three own their memory (the *_free
 * functions release it); none is shared between threads without the engine's lock.
 */
#ifndef BRAGG_SCORE_H
#define BRAGG_SCORE_H

#include <stdint.h>

#include "err.h"
#include "transport.h"

/* Phase-space crossings (physics/transport.h), in the order they were made: p[0, n). `lost`
 * counts crossings that found no room (a history with more than its headroom, or no memory):
 * a run with any is incomplete. */
typedef struct phase_space_list {
    phase_space_point *p;
    size_t n, cap;
    uint64_t lost;
} phase_space_list;

/* Appends `from` to `into` (counting it lost when out of memory). */
void phase_space_list_append(phase_space_list *into, const phase_space_list *from);
void phase_space_list_free(phase_space_list *l);

typedef struct score_arrays {
    int nbins, channels, n_curves;
    int64_t *curves;          /* n_curves x (nbins + 1), enum curve_index in transport.h, then
                                 the dose map's curves (CURVE_MAP) */
    int as_differences;       /* 1 while filled through a sink, 0 after score_arrays_finish */
    int64_t ledger[LEDGER_COUNT];
    uint64_t count[COUNT_COUNT];
    uint64_t steps;
    uint64_t histories;       /* completed histories in these sums */
    /* Profile of the sampled histories (physics/transport.h): cycles and marks per component,
     * and the clock time of every history (profiled or not) when profiling is on. */
    uint64_t profile_cycles[PROFILE_COUNT], profile_marks[PROFILE_COUNT];
    uint64_t profiled_histories, profiled_steps, history_cycles;
    phase_space_list ps;      /* crossings of these histories (when asked for) */
} score_arrays;

/* Arrays for the curves of a run of parameters p (bins, channels, map). */
int score_arrays_init(score_arrays *a, const transport_params *p, bragg_err *e);
/* Curve k of the arrays (nbins + 1 entries). */
static inline int64_t *score_curve(const score_arrays *a, int k)
{
    return a->curves + (size_t)k * ((size_t)a->nbins + 1);
}
void score_arrays_free(score_arrays *a);
void score_arrays_clear(score_arrays *a);
void score_arrays_add(score_arrays *into, const score_arrays *from);
/* The same without the curves: ledger, counters, histories, steps, profile, and the phase-space
 * crossings (appended). */
void score_arrays_add_totals(score_arrays *into, const score_arrays *from);
/* The sink transport_history writes into (see physics/transport.h); no phase space. */
score_sink score_arrays_sink(score_arrays *a);
/* Copies a sink's ledger and step count back after a history (CPU backends). */
void score_arrays_take_sink(score_arrays *a, const score_sink *s);
/* Phase space: gives the sink room for `headroom` more crossings after those `a` holds (the
 * sink's buffer points into `a`, so nothing is copied). score_arrays_ps_take keeps what the
 * sink wrote and counts what found no room. Between two calls nothing else may grow `a`'s
 * crossings. Out of memory: the sink gets no room, and its crossings count as lost. */
void score_arrays_ps_give(score_arrays *a, score_sink *s, size_t headroom);
void score_arrays_ps_take(score_arrays *a, score_sink *s);
/* Most crossings one history of the history loop may make (each is a step that crosses the
 * plane: a particle that turns back and forth across it thousands of times is not physics). */
#define PHASE_SPACE_HISTORY_HEADROOM 4096
/* Turns the difference arrays a sink filled into per-bin values (a prefix sum; two for the
 * lateral sum, kept as second differences). Idempotent. */
void score_arrays_finish(score_arrays *a);

/* The run's sums. Parts of a batch (the engine splits a batch so that no int64 accumulator can
 * overflow) are added into the run sums and into the open batch; closing the batch makes it
 * count for the statistics. */
typedef struct score_totals {
    int nbins, channels, n_curves, max_batches, batches;   /* batches: closed ones */
    __int128 *curves;           /* run sums, n_curves x nbins; 128 bits never overflow here */
    __int128 *dose;             /* total over channels, nbins */
    __int128 ledger[LEDGER_COUNT];
    uint64_t count[COUNT_COUNT];
    uint64_t steps, histories;
    uint64_t profile_cycles[PROFILE_COUNT], profile_marks[PROFILE_COUNT];
    uint64_t profiled_histories, profiled_steps, history_cycles;
    __int128 *batch_dose;       /* [max_batches][nbins], the open batch at index `batches` */
    /* The same per batch for the numerators of the dose-weighted means (LET_d, z1D*), for
     * their errors; all three are one block from batch_dose on (score_totals_batch_values). */
    __int128 *batch_let, *batch_z1d;
    /* And the protons' LET_d numerator and their dose (curve_index, CURVE_DOSE_DT). */
    __int128 *batch_let_proton, *batch_dose_proton;
    int primary_proton;         /* channel 0 is of protons */
    /* The dose map's curves per batch, for each cell's standard error (--map-error):
     * [max_batches][batch_map_curves][nbins], the same block after batch_z1d; NULL and 0 unless
     * asked for, since it takes `batches` times the map's memory. */
    int batch_map_curves;
    __int128 *batch_map;
    uint64_t *batch_histories;  /* [max_batches] */
} score_totals;

/* Number of __int128 per-batch sums from batch_dose on (dose, LET and z1D* numerators, the
 * protons' LET numerator and dose, and the map's curves when kept), for drivers that reduce or
 * store them whole. */
size_t score_totals_batch_values(const score_totals *t);

/* `map_per_batch`: keep each batch's map too (p must have a map), for the cells' errors. */
int score_totals_init(score_totals *t, const transport_params *p, int max_batches,
                      int map_per_batch, bragg_err *e);
void score_totals_free(score_totals *t);
/* Adds finished (score_arrays_finish) arrays to the run and to the open batch. */
void score_totals_add(score_totals *t, const score_arrays *part);
void score_totals_close_batch(score_totals *t);
/* Adds finished arrays to the run and to batch `batch`, open or not: for drivers that complete
 * parts of many batches in any order (MPI); they set `batches` once all are complete. */
void score_totals_add_to_batch(score_totals *t, int batch, const score_arrays *part);

/* Derived figures of a depth-dose curve. NaN where a figure does not exist (e.g. no proximal
 * 50% point when the plateau stays above half the peak). */
typedef struct dose_figures {
    double peak_depth;          /* cm, vertex of a parabola fitted around the maximum */
    double peak_dose;           /* same units as the curve */
    double entrance_dose;       /* mean over the first 1 mm */
    double peak_to_entrance;
    double r90, r80, r50, r20;  /* distal depths at those fractions of the peak, cm */
    double falloff_80_20;       /* r20 - r80, cm */
    double fwhm;                /* distal minus proximal 50% depth, cm */
} dose_figures;

/* Figures of a curve sampled at bin centres. */
void dose_figures_compute(const double *dose, int nbins, double bin_width, dose_figures *f);

typedef struct score_result {
    int nbins;
    double bin_width;
    uint64_t histories;
    double *depth;            /* bin centre, cm */
    double *edep;             /* MeV/cm per primary */
    double *edep_err;         /* standard error from the spread between batches */
    double *dose;             /* Gy cm^2 per primary: dose per unit primary fluence */
    double *dose_err;
    double *fluence;          /* primary track length per bin width, per primary */
    double *let_d;            /* dose-averaged LET of all charged particles, keV/um (NaN where
                                 no dose; local deposits of nuclear reactions count with 0) */
    double *let_d_err;        /* its standard error (ratio estimator over the batches) */
    /* The protons' own (primaries and secondaries, not deuterons, tritons or heavier): the
     * quality the proton RBE models were built on (src/engine/biodose.c); NaN where no proton
     * deposits. */
    double *let_d_proton, *let_d_proton_err;
    int primary_proton;       /* the beam is of protons: its proton RBE models read the above */
    double *let_t;            /* track-averaged LET of all charged particles, keV/um */
    double *z1d;              /* dose-weighted mean of the MKM's z1D*, Gy (NaN where no dose;
                                 0 when not scored) */
    double *z1d_err;
    double *lateral_rms;      /* rms lateral offset (per axis) of primaries, cm (NaN if none) */
    /* By channel (0 primary, 1..z_max secondaries of that charge, then nuclear local deposits):
     * channel_dose[c][i] Gy cm^2 per primary, channel_fluence[c][i] track length per bin width
     * per primary, channel_forward[c][i] crossings of depth i within 10 degrees per primary. */
    int channels;
    double **channel_dose, **channel_fluence, **channel_forward;
    dose_figures fig, fig_err;          /* figures and their jackknife standard errors */
    /* Nuclear figures (NaN without nuclear interactions). */
    double reacted_fraction;            /* primaries ended by a nuclear reaction */
    double surviving_fraction;          /* primaries that reached the end of their range */
    double tail_to_peak;                /* mean dose 0.5-1.5 cm beyond R20, over the peak dose */
    double tail_depth_cm;               /* centre of that window */
    uint64_t count[COUNT_COUNT];
    double peak_rel_err;                /* relative standard error of the dose at the peak bin */
    /* Dose map (map_kind MAP_NONE: none). map_bins lateral bins inside the grid, map_width
     * wide: MAP_RZ ring j = [j w, (j+1) w) around the beam axis, MAP_XZ column j =
     * [-map_half + j w, -map_half + (j+1) w). map[i * map_bins + j], depth bin i: MAP_RZ dose,
     * Gy per primary; MAP_XZ dose integrated over y, Gy cm per primary. map_beyond[i]: the
     * laterally integrated dose beyond the grid, Gy cm^2 per primary, so that the depth-dose
     * curve is the map's lateral integral plus map_beyond. */
    int map_kind, map_bins;
    double map_width, map_half;
    double *map, *map_beyond;
    /* Their standard errors, from the spread between the closed batches as dose_err (NULL
     * unless the run kept its map per batch, score_totals.batch_map). */
    double *map_err, *map_beyond_err;
    /* The halo's share of the dose at each depth: the fraction deposited beyond 3 sigma of the
     * core (MAP_RZ: radius > 3 sigma; MAP_XZ: |x| > 3 sigma), sigma the rms offset per axis of
     * the primaries there (lateral_rms: they only scatter electromagnetically, the core of
     * Gottschalk et al., Phys. Med. Biol. 60 (2015) 5627). A Gaussian core alone gives
     * exp(-4.5) = 0.011 (MAP_RZ) or 0.0027 (MAP_XZ). NaN where it cannot be told: no dose, no
     * primaries, sigma below one lateral bin (the dose within a bin is taken as uniform), or
     * 3 sigma beyond the grid. */
    double *halo_fraction;
    /* Its standard error (the ratio estimator over the batches, the core's sigma taken as
     * given), NULL where map_err is. */
    double *halo_fraction_err;
    double ledger_mev[LEDGER_COUNT];    /* per primary */
    double ledger_closure;              /* |beam - sum of the rest| / beam (exact: 0) */
    double steps_per_history;
} score_result;

/* `bin_density` gives the mass density (g/cm^3) of each bin, for the conversion to dose; `p`
 * the grid (bin width, map). */
int score_result_compute(const score_totals *t, const transport_params *p,
                         const double *bin_density, score_result *r, bragg_err *e);
/* The halo fraction at a depth from one row of the map (map_bins values, units as
 * score_result.map), the dose beyond the grid and the core's sigma: see halo_fraction. */
double score_halo_fraction(int map_kind, int map_bins, double map_width, const double *row,
                           double beyond, double sigma);
void score_result_free(score_result *r);

#endif
