/*
 * figures.h - the figures of bragg runs and benchmarks, as plot_figures (src/figures/plot.h).
 *
 * Reads the JSON that `bragg run --json` and `bragg bench --json` write (src/output/report.c,
 * src/cli/cmd_bench.c), as a parsed cJSON tree, so the same code serves `bragg plot FILE.json`
 * and `bragg run --png` (which builds that tree in memory): a run's PNG is the same whichever
 * way it was made. Each figure gets a title built from the run ("C-12 400 MeV/u in water, 1e5
 * histories"; "p 150 MeV" for protons), units on every axis, the run's slabs as shaded regions,
 * and metadata (PNG text chunks, SVG <metadata>, PDF information): ion, energy, material or
 * slabs, histories, seed, backend, physics switches, bragg version and git revision, the whole
 * configuration as JSON, and the files of measured curves drawn beside the runs. `bragg tables`
 * figures stopping power and range the same way (figures_from_table).
 *
 * Memory: the figure owns what it holds (plot_figure_free); the cJSON trees and measured
 * curves stay the caller's.
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
    FIGURE_CHARGE,    /* dose by particle charge: one run stacked, several as lines (one line
                         style per run), log scale as lines (runs with nuclear interactions) */
    FIGURE_LET,       /* dose and, on a second axis, dose-averaged LET */
    FIGURE_LATERAL,   /* rms lateral spread vs depth */
    FIGURE_FLUENCE,   /* fluence of primaries vs depth (per primary) */
    FIGURE_YIELDS,    /* fragments per primary crossing each depth within 10 degrees of the
                         beam, by charge (what the GSI yields measure) */
    FIGURE_BENCH,     /* histories/s per backend and thread count, with speedups */
    FIGURE_PROFILE,   /* share of step time per component */
    FIGURE_BIO,       /* physical and RBE-weighted dose, RBE on a second axis (runs with --bio) */
    FIGURE_SOBP,      /* an SOBP record: summed dose (physical, RBE-weighted), RBE or LET, and
                         the weighted pristine peaks */
    FIGURE_MAP,       /* the dose map as a heat map of depth x lateral, with a colour bar */
    FIGURE_PROFILE_AT /* lateral dose profiles of the map at chosen depths */
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

/* Parses the text of a JSON file strictly: one JSON document and nothing after it but blanks
 * (cJSON_Parse alone stops after the first value, so a file with trailing garbage or two
 * documents concatenated was read as if it were whole), and no NUL byte inside. `len` is the
 * text's length without the terminating NUL that text[len] must hold. The message names `name`
 * and the byte where the text went wrong. The caller frees the tree with cJSON_Delete. */
struct cJSON *figures_parse_json(const char *text, size_t len, const char *name, bragg_err *e);

/* What a parsed JSON file is: a run summary, a bench record, an SOBP, or neither. */
figure_source figures_source(const struct cJSON *root);

struct measured;
#define FIGURES_MAX_MEASURED 4

/* How to draw runs. */
typedef struct figure_options {
    figure_kind kind;        /* FIGURE_AUTO means FIGURE_DOSE */
    figure_norm norm;        /* applies to the dose of the dose, let and charge kinds */
    int log_y;               /* logarithmic y axis (dose by charge then as lines, not stacked) */
    const char *title;       /* replaces the built one (NULL: built from the runs) */
    /* Measured curves drawn as points with error bars: depth-dose ones (quantity dose or
     * ionisation) on the dose kind, fragment yields (a Z column) on the yields kind. A measured
     * curve in arbitrary units needs a normalisation (peak or entrance). The caller keeps them. */
    const struct measured *measured[FIGURES_MAX_MEASURED];
    int n_measured;
} figure_options;

void figure_options_default(figure_options *o);

/* A figure of one run or an overlay of several (n <= FIGURES_MAX_RUNS) with a legend, and
 * the runs' slabs shaded on depth plots (when every run has the same stack). */
int figures_from_runs(plot_figure *f, const struct cJSON *const *runs, int n,
                      const figure_options *o, bragg_err *e);

/* Stopping power and CSDA range of an ion in a material against energy (bragg tables):
 * log-log, the mass stopping power on the left axis, the range on the right. The arrays stay
 * the caller's. */
typedef struct figure_table {
    const char *ion, *material;
    int A;                     /* mass number: the energy axis in MeV (A = 1) or MeV/u */
    double density;            /* g/cm^3 */
    double iwater;             /* eV: the water I-value in use */
    int n;
    const double *energy;      /* MeV/u */
    const double *stopping;    /* electronic + nuclear mass stopping power, MeV cm^2/g */
    const double *range;       /* CSDA range, cm */
} figure_table;

int figures_from_table(plot_figure *f, const figure_table *t, bragg_err *e);

/* An SOBP record (bragg sobp --json): the summed dose over depth with the target marked, each
 * pristine peak as its weight makes it (thin lines), and on the right axis the RBE (with a
 * biological model; the RBE-weighted dose beside the physical one) or the field's LET_d. */
int figures_from_sobp(plot_figure *f, const struct cJSON *sobp, const char *title, bragg_err *e);
struct dose_map;
#define FIGURES_MAX_PROFILES 8

/* How to draw a dose map. */
typedef struct figure_map_options {
    int log;                 /* logarithmic colour scale (map), dose axis (profile-at) */
    int n_depths;            /* profile-at: the depths, cm */
    double depths[FIGURES_MAX_PROFILES];
    const char *title;       /* replaces the built one (NULL: built from the run) */
} figure_map_options;

/* A run's dose map (src/output/dose_map.h: read from the file its JSON names, or a live
 * result's) as FIGURE_MAP, a heat map of dose over depth and radius (or x) with the core's
 * 3 sigma drawn over it, or FIGURE_PROFILE_AT, the lateral profile at each depth given (the
 * depth bin holding it). `run` is the run's JSON (title, metadata, the core's sigma). */
int figures_from_map(plot_figure *f, const struct cJSON *run, const struct dose_map *m,
                     figure_kind kind, const figure_map_options *o, bragg_err *e);

/* The benchmark race (FIGURE_BENCH or FIGURE_AUTO) or the profile bars (FIGURE_PROFILE). */
int figures_from_bench(plot_figure *f, const struct cJSON *bench, figure_kind kind,
                       const char *title, bragg_err *e);

#endif
