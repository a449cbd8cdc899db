/*
 * figures.h - the figures of bragg runs and benchmarks, as plot_figures (src/figures/plot.h).
 *
 * Reads the JSON that `bragg run --json` and `bragg bench --json` write (src/output/report.c,
 * src/cli/cmd_bench.c), as a parsed cJSON tree, so the same code serves `bragg plot FILE.json`
 * and `bragg run --png` (which builds that tree in memory): a run's PNG is the same whichever
 * way it was made. Each figure gets a title built from the run ("C-12 400 MeV/u in water, 1e5
 * histories"), units on every axis, and metadata for the PNG text chunks: ion, energy,
 * material or slabs, histories, seed, backend, physics switches, bragg version and git
 * revision, and the whole configuration as JSON.
 *
 * Memory: the figure owns what it holds (plot_figure_free); the cJSON trees stay the caller's.
 * Main thread (or any one thread per figure).
 */
#ifndef BRAGG_FIGURES_H
#define BRAGG_FIGURES_H

#include "err.h"
#include "plot.h"

struct cJSON;

typedef enum figure_kind {
    FIGURE_AUTO,      /* dose for runs, bench for bench records */
    FIGURE_DOSE,      /* depth-dose with +-1 sigma band; peak, R80 and 80-20 falloff marked */
    FIGURE_CHARGE,    /* dose by particle charge, stacked (runs with nuclear interactions) */
    FIGURE_LET,       /* dose and, on a second axis, dose-averaged LET */
    FIGURE_LATERAL,   /* rms lateral spread vs depth */
    FIGURE_BENCH,     /* histories/s per backend and thread count, with speedups */
    FIGURE_PROFILE,   /* share of step time per component */
    FIGURE_BIO,       /* physical and RBE-weighted dose, RBE on a second axis (runs with --bio) */
    FIGURE_SOBP,      /* an SOBP record: summed dose (physical, RBE-weighted), RBE or LET, and
                         the weighted pristine peaks */
} figure_kind;

/* Dose curves as they are, or divided by the run's entrance dose (mean over the first mm) or
 * its peak dose, to compare shapes of runs whose doses differ by orders of magnitude. */
typedef enum figure_norm { FIGURE_NORM_NONE, FIGURE_NORM_ENTRANCE, FIGURE_NORM_PEAK } figure_norm;

int figure_norm_parse(const char *text, figure_norm *norm, bragg_err *e);

/* The dose a run's curves are divided by: 1, the mean over the first millimetre (as the
 * peak/entrance figure uses), or the maximum; 1 where that is not positive. The workbench's
 * overlays use it too, so a PNG and the screen normalise alike. */
double figure_norm_factor(const double *depth, const double *dose, int n, figure_norm norm);

#define FIGURES_MAX_RUNS 7   /* text chunks per run x runs must fit PLOT_MAX_META */

int figure_kind_parse(const char *text, figure_kind *kind, bragg_err *e);
const char *figure_kind_name(figure_kind kind);

typedef enum figure_source {
    FIGURE_SOURCE_UNKNOWN,
    FIGURE_SOURCE_RUN,
    FIGURE_SOURCE_BENCH,
    FIGURE_SOURCE_SOBP,    /* bragg sobp --json */
} figure_source;

/* What a parsed JSON file is: a run summary, a bench record, an SOBP, or neither. */
figure_source figures_source(const struct cJSON *root);

/* A figure of one run or an overlay of several (n <= FIGURES_MAX_RUNS) with a legend.
 * `title` (may be NULL) replaces the built one. FIGURE_AUTO means FIGURE_DOSE. `norm` applies
 * to the dose of the dose, let and charge kinds. */
int figures_from_runs(plot_figure *f, const struct cJSON *const *runs, int n, figure_kind kind,
                      figure_norm norm, const char *title, bragg_err *e);

/* An SOBP record (bragg sobp --json): the summed dose over depth with the target marked, each
 * pristine peak as its weight makes it (thin lines), and on the right axis the RBE (with a
 * biological model; the RBE-weighted dose beside the physical one) or the field's LET_d. */
int figures_from_sobp(plot_figure *f, const struct cJSON *sobp, const char *title, bragg_err *e);

/* The benchmark race (FIGURE_BENCH or FIGURE_AUTO) or the profile bars (FIGURE_PROFILE). */
int figures_from_bench(plot_figure *f, const struct cJSON *bench, figure_kind kind,
                       const char *title, bragg_err *e);

#endif
