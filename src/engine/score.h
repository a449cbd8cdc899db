/*
 * score.h - scored quantities: integer accumulators per batch, run totals, and what a run
 * reports from them (dose with its standard error, fluence, LET, lateral spread, derived
 * figures with jackknife uncertainties, the energy ledger).
 *
 * score_arrays are the integer accumulators a backend fills (one per thread, merged by integer
 * addition, so the result does not depend on the thread count or order). score_totals keeps the
 * run's sums and a copy of each batch's dose for the uncertainties. score_result is the physics
 * a reader wants, in physical units per primary. All three own their memory (the *_free
 * functions release it); none is shared between threads without the engine's lock.
 */
#ifndef BRAGG_SCORE_H
#define BRAGG_SCORE_H

#include <stdint.h>

#include "err.h"
#include "transport.h"

typedef struct score_arrays {
    int nbins, channels, n_curves;
    int64_t *curves;          /* n_curves x (nbins + 1), enum curve_index in transport.h */
    int as_differences;       /* 1 while filled through a sink, 0 after score_arrays_finish */
    int64_t ledger[LEDGER_COUNT];
    uint64_t count[COUNT_COUNT];
    uint64_t steps;
    uint64_t histories;       /* completed histories in these sums */
    /* Profile of the sampled histories (physics/transport.h): cycles and marks per component,
     * and the clock time of every history (profiled or not) when profiling is on. */
    uint64_t profile_cycles[PROFILE_COUNT], profile_marks[PROFILE_COUNT];
    uint64_t profiled_histories, profiled_steps, history_cycles;
} score_arrays;

/* `channels`: scoring channels (transport_params.channels). */
int score_arrays_init(score_arrays *a, int nbins, int channels, bragg_err *e);
/* Curve k of the arrays (nbins + 1 entries). */
static inline int64_t *score_curve(const score_arrays *a, int k)
{
    return a->curves + (size_t)k * ((size_t)a->nbins + 1);
}
void score_arrays_free(score_arrays *a);
void score_arrays_clear(score_arrays *a);
void score_arrays_add(score_arrays *into, const score_arrays *from);
/* The same without the curves: ledger, counters, histories, steps and profile. */
void score_arrays_add_totals(score_arrays *into, const score_arrays *from);
/* The sink transport_history writes into (see physics/transport.h). */
score_sink score_arrays_sink(score_arrays *a);
/* Copies a sink's ledger and step count back after a history (CPU backends). */
void score_arrays_take_sink(score_arrays *a, const score_sink *s);
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
    uint64_t *batch_histories;  /* [max_batches] */
} score_totals;

/* Number of __int128 per-batch sums from batch_dose on (dose, LET and z1D* numerators), for
 * drivers that reduce or store them whole. */
size_t score_totals_batch_values(const score_totals *t);

int score_totals_init(score_totals *t, int nbins, int channels, int max_batches, bragg_err *e);
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
    double *let_d;            /* dose-averaged LET, keV/um (NaN where no dose) */
    double *let_d_err;        /* its standard error (ratio estimator over the batches) */
    double *let_t;            /* track-averaged LET of all charged particles, keV/um */
    double *z1d;              /* dose-weighted mean of the MKM's z1D*, Gy (NaN where no dose;
                                 0 when not scored) */
    double *z1d_err;
    double *lateral_rms;      /* rms lateral offset (per axis) of primaries, cm (NaN if none) */
    /* By channel (0 primary, 1..Z secondaries of that charge, Z+1 nuclear local deposits):
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
    double ledger_mev[LEDGER_COUNT];    /* per primary */
    double ledger_closure;              /* |beam - sum of the rest| / beam (exact: 0) */
    double steps_per_history;
} score_result;

/* `bin_density` gives the mass density (g/cm^3) of each bin, for the conversion to dose. */
int score_result_compute(const score_totals *t, double bin_width, const double *bin_density,
                         score_result *r, bragg_err *e);
void score_result_free(score_result *r);

#endif
