/*
 * cmd_sobp.c - `bragg sobp`: a spread-out Bragg peak over a depth interval (src/engine/sobp.h):
 * energies, weights from the simulated pristine curves, the summed curve and its flatness.
 *
 * Every pristine curve is an ordinary run (one engine each). With a driver (bragg-mpi) each
 * run is spread over the ranks; every rank then holds every curve and computes the same
 * weights, and rank 0 prints and writes.
 *
 * The flatness reported is the one the field the weights deliver is expected to have, from
 * refits to resampled curves (src/engine/sobp.h): the fitted curves' own flatness is lower,
 * since the fit follows their noise. Both are reported, with what the statistical errors alone
 * make of a plateau flat in truth, and each weight's error from the refits' spread.
 *
 * With --biological MODEL --dose GY_RBE the weights make the RBE-weighted dose of the mixed
 * field flat at GY_RBE Gy (RBE) (src/engine/sobp.h), from each pristine run's dose and the
 * quality its model reads (z1D* or LET_d); the JSON then also holds the absolute physical dose,
 * the field's quality, RBE, RBE-weighted dose and survival. --png, --svg, --pdf draw the result
 * (src/figures/figures.h, the same figure as `bragg plot` of the JSON).
 *
 * The workbench (ui/tui.c) runs this command as a child for its SOBP view and shows how far
 * it is from a pipe whose write end it names in the environment, BRAGG_SOBP_PROGRESS_FD: one
 * line per stage, "pilot K", "energy k K" (k of the K pristine runs begun), "refit". Without
 * it (the command line) nothing is written there.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "atomic_file.h"
#include "commands.h"
#include "config.h"
#include "engine.h"
#include "figures.h"
#include "interrupt.h"
#include "options.h"
#include "report.h"
#include "run_driver.h"
#include "sobp.h"

#define SOBP_MAX_PEAKS 200

/* A stage for the workbench, when it asked (BRAGG_SOBP_PROGRESS_FD, see the top). */
static void progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void progress(const char *fmt, ...)
{
    static int fd = -2;   /* not looked up yet */
    if (fd == -2) {
        const char *s = getenv("BRAGG_SOBP_PROGRESS_FD");
        char *end = NULL;
        long v = s && *s ? strtol(s, &end, 10) : -1;
        fd = end && !*end && v > STDERR_FILENO && v < 1024 ? (int)v : -1;
    }
    if (fd < 0) return;
    char line[64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n <= 0 || n >= (int)sizeof line) return;
    /* One write per line (under PIPE_BUF: whole or not at all); a reader gone ends the
     * telling, not the job. A write to a pipe no one reads raises SIGPIPE, which kills: it is
     * blocked in this thread for the write, and one it raised is taken back (unless one was
     * pending already) before the mask is restored, so only EPIPE is left. */
    sigset_t pipe_set, old, pending;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    sigpending(&pending);
    int was_pending = sigismember(&pending, SIGPIPE);
    ssize_t w = write(fd, line, (size_t)n);
    if (w < 0 && errno == EPIPE && !was_pending) {
        static const struct timespec now = {0, 0};
        sigtimedwait(&pipe_set, NULL, &now);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (w != n) fd = -1;
}

/* Refits to resampled curves behind the reported flatness (src/engine/sobp.h). One refit's
 * flatness scatters by a quarter of it (protons, 10-15 cm, 20000 histories per energy), so 64
 * hold the mean to 3%; they took 3 ms (physical) and 40 ms (biological) for 35 peaks. */
#define SOBP_REFITS 64

/* Room beyond the distal end for the falloff and the fragment tail in the output. */
#define SOBP_DEPTH_MARGIN_CM 3.0

/* How far a pristine peak can rise above its entrance dose, per primary that reaches it: every
 * SOBP is built of Bragg peaks, and nuclear reactions take primaries out of the beam on the
 * way (C-12 in water: 38% reach 20 cm, 6% reach 60 cm, from the tables' non-elastic
 * cross-sections). Measured in water, 1 mm bins, 2000 histories, the dose at the peak over
 * that at the entrance divided by the primaries' fluence just before the peak: C-12 of
 * 640 MeV/u 15.1 (peak at 56.8 cm, 1.11 times the entrance), O-16 of 700 MeV/u 16.0 (48.6 cm),
 * Ne-20 of 700 MeV/u 16.2 (38.9 cm); C-12 of 660 MeV/u on 0.5 mm bins 17.1 (59.4 cm, 1.02
 * times). Where fewer than 1 in 20 of the primaries reach --to, no peak of these stands above
 * its entrance dose: that --to is refused before any run. Protons and helium meet the limit
 * sooner, where their secondaries build the dose up in front of the peak (to 1.4-2.3 times
 * the entrance dose); the pilot run finds that (pilot_swamped). */
#define SOBP_PEAK_GAIN_MAX 20.0

/* When a plateau ripples more than its statistics explain (the warning after the refits).
 * Where the peaks lie close enough for the field to be flat, the flatness the refits expect
 * came out 0.80-1.07 times what the statistical errors alone make of a flat plateau (water,
 * 4000-10000 histories per energy: C-12 in 10-15 cm, protons in 4-6 and 10-15 cm and He-4 in
 * 10-15 cm with peaks 1.5 mm apart, protons in 10-15 cm 3 mm apart; 0.86-1.10 in the runs
 * src/engine/sobp.h records). Peaks too far apart gave 3.7-14.5 times (C-12 in 10-15 cm, 2,
 * 2.5 and 3 mm apart: bins up to 5.4%, 8.2% and 10.6% from the mean; He-4 in 5-6 cm 2.5 mm
 * apart: 11.9%) and 2.3 times for protons 5 mm apart (3.5%). Twice is beyond what the
 * statistics made in those set-ups. A ripple the statistics resolve may still be small (He-4
 * in 5-6 cm 1.5 mm apart: 1.8 times, bins within 1.3%): the warning also needs a bin more than
 * 3% from the mean, the bound the project's SOBP tests set (tests/unit/test_sobp.c). */
#define SOBP_RIPPLE_OVER_NOISE 2.0
#define SOBP_RIPPLE_DEVIATION  0.03

/* The fraction of the primaries that reach the end of a residual range of R g/cm^2 without a
 * nuclear reaction: exp(-integral_0^R Sigma(t(r)) dr), Sigma the non-elastic cross-section per
 * gram. Trapezoids on 400 steps in r: Sigma changes by a few per cent over a step, except in the
 * last fraction of a millimetre, where it falls to 0 below the Coulomb barrier. */
static double primaries_reaching(const transport_table *tab, double R)
{
    enum { STEPS = 400 };
    double h = R / STEPS, sum = 0;
    for (int j = 0; j <= STEPS; j++)
        sum += (j == 0 || j == STEPS ? 0.5 : 1.0) * table_nonelastic(tab, table_energy(tab, j * h));
    return exp(-sum * h);
}

/* The depth (cm) up to `deepest` down to which a fraction `fraction` of the primaries reaches
 * (primaries_reaching falls with depth): bisection to a micrometre. */
static double depth_reached_by(const transport_table *tab, double density, double fraction,
                               double deepest)
{
    if (primaries_reaching(tab, density * deepest) >= fraction) return deepest;
    double lo = 0, hi = deepest;
    while (hi - lo > 1e-4) {
        double mid = 0.5 * (lo + hi);
        if (primaries_reaching(tab, density * mid) >= fraction) lo = mid;
        else hi = mid;
    }
    return lo;
}

/* Whether the pilot's Bragg peak is swamped: no higher than the dose in front of it. The peak
 * is looked for from 0.8 of the CSDA depth on (the pilot check wants it above that), the
 * dose in front is the largest before that; *front_cm gets where that lies and *ratio the
 * peak over it. */
static int pilot_swamped(const double *dose, int nbins, double w, double csda_cm,
                         double *front_cm, double *ratio)
{
    int edge = (int)(0.8 * csda_cm / w), end = (int)(1.02 * csda_cm / w) + 1;
    if (edge < 1 || edge >= nbins) return 0;
    if (end > nbins) end = nbins;
    int f = 0;
    double peak = 0;
    for (int i = 1; i < edge; i++)
        if (dose[i] > dose[f]) f = i;
    for (int i = edge; i < end; i++)
        if (dose[i] > peak) peak = dose[i];
    *front_cm = (f + 0.5) * w;
    *ratio = dose[f] > 0 ? peak / dose[f] : INFINITY;
    return peak <= dose[f];
}

static void usage(FILE *out, const option_spec *specs)
{
    fprintf(out,
            "usage: bragg sobp --ion NAME --material NAME --from CM --to CM [options]\n\n"
            "Finds beam energies with Bragg peaks every --spacing from --to back to --from,\n"
            "simulates each pristine peak, fits non-negative weights that make the summed\n"
            "physical dose flat over [from, to] and reports the flatness (max - min over the\n"
            "mean dose in the plateau) that the field is expected to have: that of weights\n"
            "refitted to curves resampled within their statistical errors. The fitted curves'\n"
            "own flatness, lower since the fit follows their noise, and what the statistical\n"
            "errors alone give are shown beside. Weights are fractions of the primaries.\n"
            "With --biological MODEL --dose GY_RBE the RBE-weighted dose is made flat at\n"
            "GY_RBE Gy (RBE) instead (the physical dose then falls towards the distal end for\n"
            "ions).\n\n"
            "options:\n");
    option_print_help(out, specs);
    fprintf(out, "\nexit status: 0 ok, 1 run-time failure, 2 bad input, 130 interrupted\n");
}

/* One pristine run's curves. */
typedef struct pristine {
    double energy, csda_cm, peak_cm;
    /* nbins each, inside one block owned by the caller: dose per primary (Gy cm^2), the LET_d
     * (keV/um), the biological model's quality (z1D* or LET_d, NaN without a model) and their
     * errors. */
    double *dose, *dose_err, *let, *quality, *quality_err;
    const char *quality_name;   /* bio_quality_name of the run's model, NULL without one */
} pristine;
#define PRISTINE_ARRAYS 5

/* The engine and the biological models name what is wrong as a run file does ("material: ...",
 * "bio: ...", "cell: ...", "alpha/beta: ..."); sobp's own options say it here. The message is
 * rewritten in place. */
static const char *sobp_option_message(bragg_err *e)
{
    static const char *const from[] = {"material: ", "bio: ", "ion: ", "cell: ", "alpha/beta: "};
    static const char *const to[] = {"--material: ", "--biological: ", "--ion: ", "--cell: ",
                                     "--alpha-beta: "};
    char *msg = e->msg;
    size_t cap = sizeof e->msg;
    for (size_t k = 0; k < sizeof from / sizeof from[0]; k++) {
        size_t n = strlen(from[k]), m = strlen(to[k]);
        if (strncmp(msg, from[k], n) != 0) continue;
        size_t rest = strlen(msg + n) + 1;
        if (m + rest > cap) rest = cap - m;
        memmove(msg + m, msg + n, rest);
        memcpy(msg, to[k], m);
        msg[cap - 1] = '\0';
        break;
    }
    return msg;
}

/* Runs `cfg` to the end, on this process or through the driver, and copies out its curve.
 * Returns an exit status (interrupt_run_status), e saying why when not EXIT_OK. */
static int run_pristine(const run_config *cfg, run_driver *driver, int quiet, pristine *out,
                        int nbins, bragg_err *e)
{
    static const char stopped[] = "interrupted; nothing written (the peak needs every "
                                  "pristine run)";
    /* After a signal no further run is begun: its tables alone take a while to build. A driven
     * run is, since every process must take part in it (another may not have heard the
     * signal yet); it stops at once, on every process alike. */
    if (!driver && interrupt_requested()) {
        bragg_fail(e, stopped);
        return EXIT_INTERRUPTED;
    }
    engine *en = NULL;
    int created = engine_create(&en, cfg, e) == BRAGG_OK;
    if (!driver && !created) return EXIT_RUNTIME;
    if (driver) {
        /* Every process must have its engine before any takes part in the run. */
        int refused = run_driver_created(driver, "bragg sobp", created, e);
        if (refused) {
            if (created) engine_destroy(en);
            e->msg[0] = '\0';   /* said */
            return refused == EXIT_USAGE ? EXIT_RUNTIME : refused;
        }
    }
    int rc = EXIT_RUNTIME;
    if (driver) {
        if (driver->run(driver, en, 0, quiet, e)) {
            if (driver->bad_input) rc = EXIT_USAGE;
            goto done;
        }
    } else {
        if (engine_start(en, e)) goto done;
        interrupt_wait_run(en, NULL, NULL);
    }
    run_snapshot s;
    if (engine_snapshot(en, &s, e)) goto done;
    rc = interrupt_run_status(s.state);
    if (rc == EXIT_INTERRUPTED) {
        bragg_fail(e, stopped);
    } else if (rc != EXIT_OK) {
        bragg_fail(e, "the run at %.2f MeV/u failed: %s", cfg->energy, s.error);
    } else if (s.result.nbins != nbins) {
        rc = EXIT_RUNTIME;
        bragg_fail(e, "the run at %.2f MeV/u has %d bins, not %d", cfg->energy, s.result.nbins,
                   nbins);
    } else {
        memcpy(out->dose, s.result.dose, (size_t)nbins * sizeof(double));
        memcpy(out->dose_err, s.result.dose_err, (size_t)nbins * sizeof(double));
        memcpy(out->let, s.result.let_d, (size_t)nbins * sizeof(double));
        for (int i = 0; i < nbins; i++)
            out->quality[i] = out->quality_err[i] = NAN;
        if (s.bio.nbins == nbins) {
            memcpy(out->quality, s.bio.quality, (size_t)nbins * sizeof(double));
            memcpy(out->quality_err, s.bio.quality_err, (size_t)nbins * sizeof(double));
            out->quality_name = s.bio.quality_name;
        }
        out->energy = cfg->energy;
        out->csda_cm = engine_csda_depth(en);
        out->peak_cm = s.result.fig.peak_depth;
    }
    run_snapshot_free(&s);
done:
    engine_destroy(en);
    return rc;
}

static int peak_bin(const double *d, int n)
{
    int m = 0;
    for (int i = 1; i < n; i++)
        if (d[i] > d[m]) m = i;
    return m;
}

/* The field: what the fitted weights give, bin by bin. */
typedef struct sobp_field {
    int n, first, last;
    double *dose, *dose_err;   /* per primary of the whole field (weights as fractions), Gy cm^2 */
    double *let;               /* the field's LET_d, keV/um */
    /* With a model: weights are fluences (primaries/cm^2), doses absolute. */
    const bio_model *model;
    double target;             /* prescribed RBE-weighted dose, Gy */
    double *phys, *phys_err, *quality, *quality_err, *rbe, *rbe_err, *rbe_dose, *rbe_dose_err,
        *survival;
    /* Of what was made flat (physical or RBE-weighted dose) over the plateau (sobp.h says
     * which is which): on the curves the weights were fitted to, as the refits expect the
     * field to be, and as the statistics alone make a plateau that is flat in truth. */
    double flatness_fit, max_dev_fit, mean, max_rel;
    double flatness, flatness_sd, max_dev, flatness_statistical;
    int refits;
} sobp_field;
#define FIELD_ARRAYS 12

static int write_csv(const char *path, const sobp_field *f, double w, bragg_err *e)
{
    atomic_file af;
    if (atomic_file_open(&af, path, "--csv", e)) return BRAGG_ERR;
    fprintf(af.file, "depth_cm,dose_Gy_cm2,dose_err_Gy_cm2,let_d_keV_um");
    if (f->model)
        fprintf(af.file, ",physical_dose_Gy,physical_dose_err_Gy,%s,rbe,rbe_err,"
                         "rbe_weighted_dose_Gy,rbe_weighted_dose_err_Gy,survival",
                f->model->kind == BIO_MKM ? "z1d_Gy" : "bio_let_d_keV_um");
    fputc('\n', af.file);
    for (int i = 0; i < f->n; i++) {
        fprintf(af.file, "%.6g,%.9g,%.9g,", (i + 0.5) * w, f->dose[i], f->dose_err[i]);
        if (isfinite(f->let[i])) fprintf(af.file, "%.6g", f->let[i]);
        if (f->model) {
            const double *cols[8] = {f->phys, f->phys_err, f->quality, f->rbe, f->rbe_err,
                                     f->rbe_dose, f->rbe_dose_err, f->survival};
            for (int k = 0; k < 8; k++) {
                fputc(',', af.file);
                if (isfinite(cols[k][i])) fprintf(af.file, "%.9g", cols[k][i]);
            }
        }
        fputc('\n', af.file);
    }
    return atomic_file_commit(&af, e);
}

static cJSON *numbers(const double *v, int n)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < n; i++)
        cJSON_AddItemToArray(a, isfinite(v[i]) ? cJSON_CreateNumber(v[i]) : cJSON_CreateNull());
    return a;
}

/* The JSON record of an SOBP ("kind": "sobp"): what `bragg plot` and --png draw. */
static cJSON *build_json(const run_config *cfg, double from, double to, const pristine *pk,
                         const double *weights, const double *weight_err, const double *fluence,
                         int K, const sobp_field *f)
{
    cJSON *root = cJSON_CreateObject();
    if (!root) return NULL;
    int n = f->n;
    cJSON_AddNumberToObject(root, "schema_version", 2);
    cJSON_AddStringToObject(root, "kind", "sobp");
    cJSON_AddStringToObject(root, "bragg_version", BRAGG_VERSION);
    cJSON_AddStringToObject(root, "git_revision", BRAGG_GIT_REV);
    cJSON_AddStringToObject(root, "ion", cfg->ion);
    cJSON_AddStringToObject(root, "material", cfg->slabs[0].material);
    cJSON_AddNumberToObject(root, "from_cm", from);
    cJSON_AddNumberToObject(root, "to_cm", to);
    cJSON_AddNumberToObject(root, "bin_width_cm", cfg->bin_width_cm);
    cJSON_AddNumberToObject(root, "histories_per_energy", (double)cfg->histories);
    cJSON_AddNumberToObject(root, "seed", (double)cfg->seed);
    cJSON_AddBoolToObject(root, "nuclear_interactions", cfg->nuclear);
    cJSON_AddStringToObject(root, "flattened", f->model ? "rbe_weighted_dose" : "physical_dose");
    /* Which flatness is which: src/engine/sobp.h. "flatness" and "max_deviation" are those
     * the refits expect of the field the weights deliver; "_fit" those of the curves the
     * weights were fitted to (lower: the fit follows their noise); "flatness_statistical"
     * what the bins' errors alone make of a plateau flat in truth. */
    cJSON_AddNumberToObject(root, "flatness", f->flatness);
    cJSON_AddNumberToObject(root, "max_deviation", f->max_dev);
    cJSON_AddNumberToObject(root, "flatness_fit", f->flatness_fit);
    cJSON_AddNumberToObject(root, "max_deviation_fit", f->max_dev_fit);
    cJSON_AddNumberToObject(root, "flatness_statistical", f->flatness_statistical);
    cJSON_AddNumberToObject(root, "flatness_refits", f->refits);
    cJSON_AddNumberToObject(root, "flatness_refit_sd", f->flatness_sd);
    cJSON_AddNumberToObject(root, "plateau_max_rel_err", f->max_rel);
    if (!f->model) cJSON_AddNumberToObject(root, "plateau_dose_Gy_cm2", f->mean);
    cJSON *peaks = cJSON_AddArrayToObject(root, "peaks");
    for (int k = 0; k < K; k++) {
        cJSON *p = cJSON_CreateObject();
        cJSON_AddNumberToObject(p, "energy_MeV_u", pk[k].energy);
        cJSON_AddNumberToObject(p, "csda_cm", pk[k].csda_cm);
        cJSON_AddNumberToObject(p, "peak_cm", pk[k].peak_cm);
        cJSON_AddNumberToObject(p, "weight", weights[k]);
        cJSON_AddNumberToObject(p, "weight_err", weight_err[k]);
        if (fluence) cJSON_AddNumberToObject(p, "fluence_per_cm2", fluence[k]);
        /* The pristine curves themselves, per primary, so that the figure and any later
         * analysis need not run them again. */
        cJSON_AddItemToObject(p, "dose_Gy_cm2", numbers(pk[k].dose, n));
        cJSON_AddItemToObject(p, "dose_err_Gy_cm2", numbers(pk[k].dose_err, n));
        cJSON_AddItemToObject(p, "let_d_keV_um", numbers(pk[k].let, n));
        if (f->model) {
            cJSON_AddItemToObject(p, "quality", numbers(pk[k].quality, n));
            cJSON_AddItemToObject(p, "quality_err", numbers(pk[k].quality_err, n));
        }
        cJSON_AddItemToArray(peaks, p);
    }
    double *depth = malloc((size_t)n * sizeof *depth);
    if (depth) {
        for (int i = 0; i < n; i++) depth[i] = (i + 0.5) * cfg->bin_width_cm;
        cJSON_AddItemToObject(root, "depth_cm", numbers(depth, n));
        free(depth);
    }
    cJSON_AddItemToObject(root, "dose_Gy_cm2", numbers(f->dose, n));
    cJSON_AddItemToObject(root, "dose_err_Gy_cm2", numbers(f->dose_err, n));
    cJSON_AddItemToObject(root, "let_d_keV_um", numbers(f->let, n));
    if (f->model) {
        /* The same shape as a run's "biology", plus the prescription and the field. */
        const bio_model *m = f->model;
        cJSON *bio = cJSON_AddObjectToObject(root, "biology");
        cJSON_AddStringToObject(bio, "model", m->name);
        cJSON_AddStringToObject(bio, "cell_line", m->cell.name);
        cJSON_AddNumberToObject(bio, "alpha_x_Gy-1", m->cell.alpha_x);
        cJSON_AddNumberToObject(bio, "beta_x_Gy-2", m->cell.beta_x);
        cJSON_AddNumberToObject(bio, "alpha_beta_x_Gy", m->cell.alpha_x / m->cell.beta_x);
        cJSON_AddStringToObject(bio, "quality", pk[0].quality_name ? pk[0].quality_name
                                                                   : bio_quality_name(m, 0));
        cJSON_AddNumberToObject(bio, "prescribed_rbe_weighted_dose_Gy", f->target);
        cJSON_AddNumberToObject(bio, "plateau_rbe_weighted_dose_Gy", f->mean);
        cJSON *cv = cJSON_AddObjectToObject(bio, "curves");
        cJSON_AddItemToObject(cv, "physical_dose_Gy", numbers(f->phys, n));
        cJSON_AddItemToObject(cv, "physical_dose_err_Gy", numbers(f->phys_err, n));
        cJSON_AddItemToObject(cv, "quality", numbers(f->quality, n));
        cJSON_AddItemToObject(cv, "quality_err", numbers(f->quality_err, n));
        cJSON_AddItemToObject(cv, "rbe", numbers(f->rbe, n));
        cJSON_AddItemToObject(cv, "rbe_err", numbers(f->rbe_err, n));
        cJSON_AddItemToObject(cv, "rbe_weighted_dose_Gy", numbers(f->rbe_dose, n));
        cJSON_AddItemToObject(cv, "rbe_weighted_dose_err_Gy", numbers(f->rbe_dose_err, n));
        cJSON_AddItemToObject(cv, "survival", numbers(f->survival, n));
    }
    return root;
}

static int write_json(const char *path, const cJSON *root, bragg_err *e)
{
    char *text = cJSON_Print(root);
    if (!text) return bragg_fail(e, "--json: out of memory");
    atomic_file af;
    int rc = atomic_file_open(&af, path, "--json", e);
    if (rc == BRAGG_OK) {
        fprintf(af.file, "%s\n", text);
        rc = atomic_file_commit(&af, e);
    }
    free(text);
    return rc;
}

static int write_figures(const plot_outputs *figs, const cJSON *root, bragg_err *e)
{
    plot_figure fig;
    plot_style style;
    plot_style_default(&style);
    if (figures_from_sobp(&fig, root, NULL, e)) return BRAGG_ERR;
    int rc = plot_outputs_write(&fig, &style, figs, e);
    plot_figure_free(&fig);
    return rc;
}

/* Fills the field from the pristine curves and weights w (fractions of the primaries, or with
 * a model fluences in primaries per cm^2). */
static void field_compute(sobp_field *f, const pristine *pk, int K, const double *w,
                          const double *frac, const double *dose, const double *qnum, double *rel)
{
    int n = f->n;
    for (int i = 0; i < n; i++) {
        double s = 0, v = 0, let_num = 0;
        for (int k = 0; k < K; k++) {
            s += frac[k] * pk[k].dose[i];
            v += frac[k] * frac[k] * pk[k].dose_err[i] * pk[k].dose_err[i];
            if (isfinite(pk[k].let[i])) let_num += frac[k] * pk[k].dose[i] * pk[k].let[i];
        }
        f->dose[i] = s;
        f->dose_err[i] = sqrt(v);
        f->let[i] = s > 0 ? let_num / s : NAN;
        if (!f->model) continue;
        double D, q;
        bio_point p;
        sobp_field_at(f->model, dose, qnum, K, n, w, i, &D, &q, &p);
        f->phys[i] = D;
        f->rbe_dose[i] = p.rbe_dose;
        f->survival[i] = p.survival;
        double vd = 0;
        for (int k = 0; k < K; k++) vd += w[k] * w[k] * pk[k].dose_err[i] * pk[k].dose_err[i];
        f->phys_err[i] = sqrt(vd);
        if (!(D > 0)) {
            f->quality[i] = f->quality_err[i] = f->rbe[i] = f->rbe_err[i] = NAN;
            f->rbe_dose_err[i] = 0;   /* no dose from any beam: none has an error here */
            continue;
        }
        /* Errors. The pristine runs are independent, so their parts add in quadrature; within
         * run k its dose d_k and quality q_k are taken as independent. A change x of d_k (q_k
         * held) moves the field's dose D by w_k x and its quality numerator N = sum_k w_k d_k
         * q_k by w_k q_k x: the two move together. A change y of q_k moves N alone, by w_k d_k
         * y. So, with the partial derivatives of the model's RBE-weighted dose R(D, N),
         *   var R = sum_k w_k^2 [(R_D + q_k R_N)^2 sd_k^2 + (d_k R_N)^2 sq_k^2],
         * and the same for the RBE and for q = N / D (q_D = -q / D, q_N = 1 / D). Taking D's
         * and N's errors as independent, as was done, dropped their covariance sum_k w_k^2 q_k
         * sd_k^2 and left the RBE-weighted dose's error 20-30% low (C-12 in 10-16 cm). The
         * partial derivatives by central differences, 1e-4 of D and of N apart: within 1e-9 of
         * the MKM's closed-form derivatives, and within 1e-7 of steps 100 times smaller for
         * McNamara's model up to (alpha/beta)x 50 Gy (0.3-10 Gy, 0.5-35 keV/um). */
        double num = q * D, hd = 1e-4 * D, hn = 1e-4 * (num > 0 ? num : D);
        bio_point a, b, c, g;
        bio_evaluate(f->model, num / (D + hd), D + hd, &a);
        bio_evaluate(f->model, num / (D - hd), D - hd, &b);
        bio_evaluate(f->model, (num + hn) / D, D, &c);
        bio_evaluate(f->model, (num - hn) / D, D, &g);
        double R_D = (a.rbe_dose - b.rbe_dose) / (2 * hd);
        double R_N = (c.rbe_dose - g.rbe_dose) / (2 * hn);
        double E_D = (a.rbe - b.rbe) / (2 * hd), E_N = (c.rbe - g.rbe) / (2 * hn);
        double vr = 0, ve = 0, vq = 0;
        for (int k = 0; k < K; k++) {
            double d = pk[k].dose[i], sd = w[k] * pk[k].dose_err[i];
            double qk = isfinite(pk[k].quality[i]) ? pk[k].quality[i] : 0;
            double sq = isfinite(pk[k].quality_err[i]) ? w[k] * d * pk[k].quality_err[i] : 0;
            double r1 = (R_D + qk * R_N) * sd, r2 = R_N * sq;
            double e1 = (E_D + qk * E_N) * sd, e2 = E_N * sq;
            double q1 = (qk - q) / D * sd, q2 = sq / D;
            vr += r1 * r1 + r2 * r2;
            ve += e1 * e1 + e2 * e2;
            vq += q1 * q1 + q2 * q2;
        }
        f->quality[i] = q;
        f->quality_err[i] = sqrt(vq);
        f->rbe[i] = p.rbe;
        f->rbe_err[i] = sqrt(ve);
        f->rbe_dose_err[i] = sqrt(vr);
    }
    /* Flatness of what was made flat, on the curves the weights were fitted to, and what the
     * bins' statistical errors alone give (rel: nbins of scratch for their relative errors). */
    const double *flat = f->model ? f->rbe_dose : f->dose, *err = f->model ? f->rbe_dose_err : f->dose_err;
    f->flatness_fit = sobp_flatness(flat, f->first, f->last, &f->mean);
    f->max_dev_fit = sobp_max_deviation(flat, f->first, f->last);
    f->max_rel = 0;
    for (int i = f->first; i <= f->last; i++) {
        rel[i] = flat[i] > 0 ? err[i] / flat[i] : NAN;
        if (rel[i] > f->max_rel) f->max_rel = rel[i];
    }
    f->flatness_statistical = sobp_noise_flatness(rel, f->first, f->last);
}

int cmd_sobp(int argc, char **argv)
{
    return cmd_sobp_with(argc, argv, NULL);
}

int cmd_sobp_with(int argc, char **argv, run_driver *driver)
{
    run_config cfg;
    config_default(&cfg);
    physics_options phys;
    physics_options_default(&phys);
    phys.ion = NULL;
    double from = NAN, to = NAN, spacing_mm = SOBP_DEFAULT_SPACING_MM, bin_mm = 1.0, target = NAN;
    int no_nuclear = 0, quiet = 0;
    const char *csv = NULL, *json = NULL, *backend = "openmp", *biological = NULL;
    plot_outputs figs = {{0}};
    tissue_options tissue = {NULL, 0};
    cfg.histories = 20000;
    /* The MKM keeps the photons' own z1D*, so an (alpha/beta)x must leave its alpha0 above 0
     * (physics/biology.c): the floor of the default cell line, for the help. */
    char alpha_beta_help[256] = "tissue (alpha/beta)x of the reference photons (default: the "
                                "cell line's)";
    bio_model hsg;
    bragg_err hsg_e;
    if (bio_model_load(&hsg, "mkm", NULL, 0, &hsg_e) == BRAGG_OK)
        snprintf(alpha_beta_help, sizeof alpha_beta_help,
                 "tissue (alpha/beta)x of the reference photons (default: the cell line's, "
                 "%s %.2f; with mkm above %.2f for %s)", hsg.cell.name,
                 hsg.cell.alpha_x / hsg.cell.beta_x,
                 (hsg.cell.alpha_x - hsg.cell.alpha0) / hsg.cell.beta_x, hsg.cell.name);
    const option_spec specs[] = {
        PHYSICS_OPTION_SPECS(&phys),
        {"from", 0, OPTION_DOUBLE, &from, 0.01, 1000, "CM", "proximal end of the plateau", 0},
        {"to", 0, OPTION_DOUBLE, &to, 0.01, 1000, "CM", "distal end of the plateau", 0},
        {"spacing", 0, OPTION_DOUBLE, &spacing_mm, 0.1, 100, "MM",
         "largest distance between neighbouring peaks (default 1.5)", 0},
        {"biological", 0, OPTION_STRING, &biological, 0, 0, "MODEL",
         "make the RBE-weighted dose flat instead: mkm (ions), mcnamara, wedenberg or rbe1.1 "
         "(protons); needs --dose", 0},
        {"dose", 0, OPTION_DOUBLE, &target, 0.01, 100, "GY_RBE",
         "prescribed RBE-weighted dose over the plateau, Gy (RBE) (with --biological)", 0},
        {"cell", 0, OPTION_STRING, &tissue.cell, 0, 0, "NAME",
         "cell line of the biological model: HSG (default; assets/cell_lines.tsv)", 0},
        {"alpha-beta", 0, OPTION_DOUBLE, &tissue.alpha_beta, 0.5, 50, "GY", alpha_beta_help, 0},
        {"histories", 'n', OPTION_COUNT, &cfg.histories, 100, 1e12, "N",
         "histories per energy (default 20000)", 0},
        {"seed", 's', OPTION_COUNT, &cfg.seed, 0, 18446744073709549568.0, "S",
         "random seed (default 1)", 0},
        {"backend", 'b', OPTION_STRING, &backend, 0, 0, "NAME",
         "serial, openmp (default), event, simd or cuda (as bragg run)", 0},
        {"threads", 't', OPTION_INT, &cfg.threads, 0, 1024, "N",
         "OpenMP threads (default 0 = all cores)", 0},
        {"bin", 0, OPTION_DOUBLE, &bin_mm, 0.01, 10, "MM", "depth bin width (default 1)", 0},
        {"batches", 0, OPTION_INT, &cfg.batches, 2, 1000, "N",
         "batches for the statistical error (default 20)", 0},
        {"no-nuclear", 0, OPTION_FLAG, &no_nuclear, 0, 0, 0,
         "switch nuclear reactions and fragmentation off", 0},
        {"csv", 0, OPTION_STRING, &csv, 0, 0, "FILE|-", "write the summed depth-dose curve", 0},
        {"json", 0, OPTION_STRING, &json, 0, 0, "FILE|-",
         "write energies, weights, flatness, the pristine and summed curves", 0},
        FIGURE_OUTPUT_SPECS(&figs, 0, "the SOBP (dose, physical and RBE-weighted; RBE or LET; "
                                      "the pristine peaks)"),
        {"quiet", 'q', OPTION_FLAG, &quiet, 0, 0, 0, "no progress and no summary", 0},
        {0},
    };
    bragg_err e = {{0}};
    int help;
    if (option_parse(specs, argc, argv, &help, &e)) {
        run_driver_say(driver, "bragg sobp", "%s", e.msg);
        return EXIT_USAGE;
    }
    if (help) {
        usage(stdout, specs);
        return EXIT_OK;
    }
    if (!phys.ion || !phys.material || isnan(from) || isnan(to)) {
        run_driver_say(driver, "bragg sobp", "%s: missing",
                       !phys.ion        ? "--ion"
                       : !phys.material ? "--material"
                       : isnan(from)    ? "--from"
                                        : "--to");
        return EXIT_USAGE;
    }
    if (!(to > from)) {
        run_driver_say(driver, "bragg sobp", "--to: %g must be deeper than --from %g", to, from);
        return EXIT_USAGE;
    }
    /* The plateau's flatness is read off its bins: a plateau of one or two says nothing. */
    if ((to - from) / (bin_mm / 10) + 1e-9 < 3) {   /* 5.6 - 5.3 is 0.2999... */
        run_driver_say(driver, "bragg sobp",
                       "--to: a plateau of %g cm holds fewer than 3 bins of %g mm (valid: --to at "
                       "least %g, or a finer --bin)",
                       to - from, bin_mm, from + 3 * bin_mm / 10);
        return EXIT_USAGE;
    }
    if (biological && isnan(target)) {
        run_driver_say(driver, "bragg sobp",
                       "--dose: missing (the RBE-weighted dose in Gy (RBE), 0.01 to 100, that "
                       "--biological makes flat)");
        return EXIT_USAGE;
    }
    if (!biological && (!isnan(target) || tissue.cell || tissue.alpha_beta > 0)) {
        run_driver_say(driver, "bragg sobp", "--%s: needs --biological MODEL",
                       !isnan(target) ? "dose" : tissue.cell ? "cell" : "alpha-beta");
        return EXIT_USAGE;
    }
    if ((csv && atomic_file_check_path(csv, "--csv", &e)) ||
        (json && atomic_file_check_path(json, "--json", &e)) ||
        plot_outputs_check(&figs, &e)) {
        run_driver_say(driver, "bragg sobp", "%s", e.msg);
        return EXIT_USAGE;
    }
    file_use uses[2 + PLOT_FORMATS] = {{csv, "--csv", 0}, {json, "--json", 0}};
    int n_uses = 2 + plot_outputs_uses(&figs, uses + 2);
    if (atomic_file_check_distinct(uses, n_uses, &e) ||
        (driver && driver->check_outputs && driver->check_outputs(driver, uses, n_uses, &e))) {
        run_driver_say(driver, "bragg sobp", "%s", e.msg);
        return EXIT_USAGE;
    }
    bio_model model;
    if (biological && bio_model_load(&model, biological, tissue.cell, tissue.alpha_beta, &e)) {
        run_driver_say(driver, "bragg sobp", "%s", sobp_option_message(&e));
        return EXIT_USAGE;
    }
    cfg.n_slabs = 1;
    snprintf(cfg.slabs[0].material, sizeof cfg.slabs[0].material, "%s", phys.material);
    cfg.slabs[0].thickness_cm = INFINITY;
    snprintf(cfg.ion, sizeof cfg.ion, "%s", phys.ion);
    snprintf(cfg.backend, sizeof cfg.backend, "%s", backend);
    cfg.iwater = phys.iwater;
    cfg.stopping = phys.stopping;
    cfg.nuclear = !no_nuclear;
    cfg.bin_width_cm = bin_mm / 10;
    if (biological) {
        snprintf(cfg.bio_model, sizeof cfg.bio_model, "%s", biological);
        if (tissue.cell) snprintf(cfg.bio_cell, sizeof cfg.bio_cell, "%s", tissue.cell);
        cfg.bio_alpha_beta = tissue.alpha_beta;
    }
    /* One depth grid for every energy, so the curves add bin by bin. */
    cfg.depth_max_cm = to + SOBP_DEPTH_MARGIN_CM;
    int nbins = (int)ceil(cfg.depth_max_cm / cfg.bin_width_cm - 1e-9);
    int root = !driver || driver->is_root;
    int talk = root && !quiet && isatty(STDERR_FILENO);

    /* The range table of the primary, from an engine that is never started. */
    cfg.energy = 100;
    engine *probe = NULL;
    int created = engine_create(&probe, &cfg, &e) == BRAGG_OK;
    if (!created) sobp_option_message(&e);
    int refused = run_driver_created(driver, "bragg sobp", created, &e);
    if (refused) {
        if (created) engine_destroy(probe);
        return refused;
    }
    const transport_params *tp = engine_params(probe);
    const transport_table *tab = tp->slabs[0].table[tp->Z];
    double density = tp->slabs[0].density;
    const char *unit = ion_energy_unit(tp->A);   /* a static string: outlives the engine */
    double e_max_range = table_range(tab, USER_T_MAX);
    double reach_cm = 0.95 * e_max_range / density;
    /* Without reactions (--no-nuclear) every primary reaches the end of its range. */
    double attenuated_cm = cfg.nuclear ? depth_reached_by(tab, density, 1 / SOBP_PEAK_GAIN_MAX,
                                                          reach_cm)
                                       : reach_cm;
    double reaching = primaries_reaching(tab, density * fmin(to, reach_cm));
    engine_destroy(probe);   /* tab died with it; the pilot's engine gives it again below */
    /* What is out of reach first: a plateau beyond the ion's range is a bad --to whatever the
     * spacing (it used to be blamed on --spacing, through the number of peaks it needs). */
    if (to > reach_cm) {
        run_driver_say(driver, "bragg sobp",
                       "--to: %g cm is beyond the range of %s at %g %s (valid: up to %.4g cm)",
                       to, cfg.ion, USER_T_MAX, unit, fmin(reach_cm, attenuated_cm));
        return EXIT_USAGE;
    }
    if (to > attenuated_cm) {
        run_driver_say(driver, "bragg sobp",
                       "--to: %g cm is too deep for %s: %.2g%% of its primaries get there, the "
                       "rest are lost to nuclear reactions, and their Bragg peak cannot rise "
                       "above the entrance dose (valid: up to %.4g cm)",
                       to, cfg.ion, 100 * reaching, attenuated_cm);
        return EXIT_USAGE;
    }
    double depths[SOBP_MAX_PEAKS];
    int K = sobp_peak_depths(from, to, spacing_mm / 10, depths, SOBP_MAX_PEAKS);
    if (K == 0) {
        run_driver_say(driver, "bragg sobp",
                       "--spacing: %g mm gives more than %d peaks over %g-%g cm (valid: at least "
                       "%.3g mm here)",
                       spacing_mm, SOBP_MAX_PEAKS, from, to,
                       10 * (to - from) / (SOBP_MAX_PEAKS - 1));
        return EXIT_USAGE;
    }

    int status = EXIT_RUNTIME;
    size_t per = (size_t)PRISTINE_ARRAYS * nbins;
    size_t kn = (size_t)K * nbins;
    double *block = calloc((size_t)(K + 1) * per + (size_t)K * 3 + (size_t)FIELD_ARRAYS * nbins +
                               5 * kn + (size_t)nbins,
                           sizeof(double));
    pristine *pk = calloc((size_t)K + 1, sizeof *pk);
    int *peaks = calloc((size_t)K, sizeof *peaks);
    cJSON *record = NULL;
    if (!block || !pk || !peaks) {
        run_driver_say(driver, "bragg sobp", "out of memory");
        goto done;
    }
    for (int k = 0; k <= K; k++) {
        double *b = block + (size_t)k * per;
        pk[k].dose = b;
        pk[k].dose_err = b + nbins;
        pk[k].let = b + 2 * (size_t)nbins;
        pk[k].quality = b + 3 * (size_t)nbins;
        pk[k].quality_err = b + 4 * (size_t)nbins;
    }
    double *weights = block + (size_t)(K + 1) * per, *frac = weights + K, *frac_err = frac + K;
    /* K x nbins each, curve k at [k * nbins]: the pristine doses, their errors, the qualities,
     * their errors and the dose-weighted quality numerators; then the field's arrays. */
    double *curves = frac_err + K, *curves_err = curves + kn, *quality = curves_err + kn;
    double *quality_err = quality + kn, *qnum = quality_err + kn;
    double *fa = qnum + kn, *rel = fa + (size_t)FIELD_ARRAYS * nbins;
    sobp_field field = {.n = nbins, .model = biological ? &model : NULL, .target = target};
    double **farr[FIELD_ARRAYS] = {&field.dose, &field.dose_err, &field.let, &field.phys,
                                   &field.phys_err, &field.quality, &field.quality_err,
                                   &field.rbe, &field.rbe_err, &field.rbe_dose,
                                   &field.rbe_dose_err, &field.survival};
    for (int k = 0; k < FIELD_ARRAYS; k++) *farr[k] = fa + (size_t)k * nbins;

    /* 1. The pilot: the distal energy from the CSDA range alone; its simulated peak tells how
     * far short of the CSDA depth the peaks sit. pk[K] holds it. */
    created = engine_create(&probe, &cfg, &e) == BRAGG_OK;
    status = run_driver_created(driver, "bragg sobp", created, &e);
    if (status) {
        if (created) engine_destroy(probe);
        goto done;
    }
    /* From here every way to `done` but the last is a failure: a run-time one unless it says
     * otherwise (it once stayed 0 from the line above, and a failed SOBP exited 0). */
    status = EXIT_RUNTIME;
    tp = engine_params(probe);
    tab = tp->slabs[0].table[tp->Z];
    double energies[SOBP_MAX_PEAKS + 1];
    energies[K] = table_energy(tab, density * to);
    run_config c = cfg;
    c.energy = energies[K];
    if (talk) fprintf(stderr, "\r  pilot run at %.2f %s   ", c.energy, unit);
    progress("pilot %d\n", K);
    interrupt_begin_work();
    int rc = run_pristine(&c, driver, quiet, &pk[K], nbins, &e);
    if (rc != EXIT_OK) {
        engine_destroy(probe);
        if (e.msg[0]) run_driver_say(driver, "bragg sobp", "%s", e.msg);
        status = rc;
        goto done;
    }
    double peak_over_csda = pk[K].peak_cm / pk[K].csda_cm;
    if (!(peak_over_csda > 0.8 && peak_over_csda <= 1.02)) {
        double front_cm, ratio;
        if (cfg.nuclear && pilot_swamped(pk[K].dose, nbins, cfg.bin_width_cm, pk[K].csda_cm,
                                         &front_cm, &ratio)) {
            /* Too deep after all (SOBP_PEAK_GAIN_MAX): the peak falls with the primaries that
             * reach it, so it would match the dose in front where ratio times more of them
             * get there; an estimate, since the dose in front changes with the energy too. */
            double fraction = primaries_reaching(tab, density * to);
            double deepest = depth_reached_by(tab, density, fmin(1, fraction / ratio), to);
            run_driver_say(driver, "bragg sobp",
                           "--to: %g cm is too deep for %s: its pristine peak at %.2f %s is no "
                           "higher than the dose at %.3g cm in front of it (%.2g%% of the "
                           "primaries reach %g cm, the rest are lost to nuclear reactions) "
                           "(valid: up to about %.3g cm)",
                           to, cfg.ion, c.energy, unit, front_cm, 100 * fraction, to, deepest);
            status = EXIT_USAGE;
        } else {
            run_driver_say(driver, "bragg sobp",
                           "the pilot peak at %.3f cm is far from its CSDA depth %.3f cm (a "
                           "ratio of %.3f, where 0.8 to 1.02 was expected); too few histories?",
                           pk[K].peak_cm, pk[K].csda_cm, peak_over_csda);
        }
        engine_destroy(probe);
        goto done;
    }
    for (int k = 0; k < K; k++) energies[k] = table_energy(tab, density * depths[k] / peak_over_csda);
    engine_destroy(probe);

    /* 2. The pristine peaks, distal first. */
    for (int k = 0; k < K; k++) {
        c.energy = energies[k];
        if (talk) fprintf(stderr, "\r  peak %d of %d: %.2f %s   ", k + 1, K, c.energy, unit);
        progress("energy %d %d\n", k + 1, K);
        rc = run_pristine(&c, driver, quiet, &pk[k], nbins, &e);
        if (rc != EXIT_OK) {
            if (talk) fputc('\n', stderr);
            if (e.msg[0]) run_driver_say(driver, "bragg sobp", "%s", e.msg);
            status = rc;
            goto done;
        }
        peaks[k] = peak_bin(pk[k].dose, nbins);
    }
    if (talk) fprintf(stderr, "\r%*s\r", 60, "");

    /* 3. Weights on the plateau, then the field with its errors (runs independent). */
    int first, last;
    sobp_plateau_bins(from, to, cfg.bin_width_cm, nbins, &first, &last);
    field.first = first;
    field.last = last;
    size_t row = (size_t)nbins * sizeof(double);
    for (int k = 0; k < K; k++) {
        memcpy(curves + (size_t)k * nbins, pk[k].dose, row);
        memcpy(curves_err + (size_t)k * nbins, pk[k].dose_err, row);
        memcpy(quality + (size_t)k * nbins, pk[k].quality, row);
        memcpy(quality_err + (size_t)k * nbins, pk[k].quality_err, row);
    }
    sobp_quality_numerators(kn, curves, quality, qnum);
    sobp_problem problem = {K, nbins, first, last, peaks, curves, curves_err,
                            biological ? &model : NULL, quality, quality_err, target};
    if (sobp_fit(&problem, weights, &e)) {
        run_driver_say(driver, "bragg sobp", "%s", e.msg);
        goto done;
    }
    double wsum = 0;
    for (int k = 0; k < K; k++) wsum += weights[k];
    if (!(wsum > 0)) {
        run_driver_say(driver, "bragg sobp", "every weight came out zero");
        goto done;
    }
    for (int k = 0; k < K; k++) frac[k] = weights[k] / wsum;
    field_compute(&field, pk, K, weights, frac, curves, qnum, rel);
    /* The flatness the field has, not the one its own curves show (src/engine/sobp.h). */
    if (talk) fprintf(stderr, "\r  refitting %d resampled sets of curves   ", SOBP_REFITS);
    progress("refit\n");
    sobp_resampled rs;
    if (sobp_resample(&problem, SOBP_REFITS, cfg.seed, &rs, frac_err, &e)) {
        if (talk) fputc('\n', stderr);
        run_driver_say(driver, "bragg sobp", "%s", e.msg);
        goto done;
    }
    if (talk) fprintf(stderr, "\r%*s\r", 60, "");
    field.flatness = rs.flatness;
    field.flatness_sd = rs.flatness_sd;
    field.max_dev = rs.max_deviation;
    field.refits = rs.replicates;
    /* Peaks too far apart for their width leave a ripple no fit removes; the run still did
     * what was asked, so it says so and goes on (exit 0). */
    if (field.flatness > SOBP_RIPPLE_OVER_NOISE * field.flatness_statistical &&
        field.max_dev > SOBP_RIPPLE_DEVIATION)
        run_driver_say(driver, "bragg sobp",
                       "warning: the plateau ripples: expected flatness %.1f%% (bins up to "
                       "%.1f%% from the mean) where its statistical errors explain %.1f%%; peaks "
                       "%g mm apart are too far apart for their width: try a smaller --spacing, "
                       "e.g. %g", 100 * field.flatness, 100 * field.max_dev,
                       100 * field.flatness_statistical, spacing_mm, spacing_mm / 2);

    status = EXIT_OK;
    if (!root) goto done;
    if (json || plot_outputs_any(&figs)) {
        record = build_json(&cfg, from, to, pk, frac, frac_err, biological ? weights : NULL, K,
                            &field);
        if (!record) {
            run_driver_say(driver, "bragg sobp", "out of memory");
            status = EXIT_RUNTIME;
            goto done;
        }
    }
    if (csv && write_csv(csv, &field, cfg.bin_width_cm, &e)) {
        run_driver_say(driver, "bragg sobp", "%s", e.msg);
        status = EXIT_RUNTIME;
    }
    if (json && write_json(json, record, &e)) {
        run_driver_say(driver, "bragg sobp", "%s", e.msg);
        status = EXIT_RUNTIME;
    }
    if (plot_outputs_any(&figs) && write_figures(&figs, record, &e)) {
        /* Its path was checked before the runs: now it is a failure (a full disk). */
        run_driver_say(driver, "bragg sobp", "%s", e.msg);
        status = EXIT_RUNTIME;
    }
    if (!quiet) {
        FILE *out = atomic_file_uses_stdout(uses, n_uses) ? stderr : stdout;
        fprintf(out, "SOBP %s in %s, %g-%g cm: %d peaks, %llu histories each%s\n", cfg.ion,
                cfg.slabs[0].material, from, to, K, (unsigned long long)cfg.histories,
                driver ? " (MPI)" : "");
        if (biological)
            fprintf(out, "  RBE-weighted dose %g Gy (RBE) flat (%s, %s, (alpha/beta)x %.2f Gy)\n",
                    target,
                    model.name, model.cell.name, model.cell.alpha_x / model.cell.beta_x);
        fprintf(out, "  peak depth / CSDA depth from the pilot run: %.5f\n", peak_over_csda);
        fprintf(out, "  %12s %10s %10s %10s %9s\n", unit, "CSDA cm", "peak cm", "weight", "+-");
        for (int k = 0; k < K; k++)
            fprintf(out, "  %12.3f %10.3f %10.3f %10.5f %9.5f\n", pk[k].energy, pk[k].csda_cm,
                    pk[k].peak_cm, frac[k], frac_err[k]);
        if (biological) {
            double p0 = field.phys[first], p1 = field.phys[last];
            fprintf(out, "  plateau %.2f-%.2f cm (%d bins of %g mm): RBE-weighted dose %.4g "
                         "Gy (RBE), physical dose %.4g Gy proximal, %.4g Gy distal, RBE %.3f to "
                         "%.3f\n",
                    (first + 0.5) * cfg.bin_width_cm, (last + 0.5) * cfg.bin_width_cm,
                    last - first + 1, bin_mm, field.mean, p0, p1, field.rbe[first], field.rbe[last]);
        } else {
            fprintf(out, "  plateau %.2f-%.2f cm (%d bins of %g mm): mean dose %.5g Gy cm^2 per "
                         "primary\n",
                    (first + 0.5) * cfg.bin_width_cm, (last + 0.5) * cfg.bin_width_cm,
                    last - first + 1, bin_mm, field.mean);
        }
        fprintf(out, "  flatness (max - min) / mean and largest deviation from the mean:\n"
                     "    %-28s %5.2f %%  +-%.2f %%  (%d refits to resampled curves)\n"
                     "    %-28s %5.2f %%  +-%.2f %%  (lower: the fit follows their noise)\n"
                     "    %-28s %5.2f %%            (of a plateau flat in truth)\n"
                     "  largest statistical error of a plateau bin %.2f %%\n",
                "expected of the field", 100 * field.flatness, 100 * field.max_dev, field.refits,
                "on the curves fitted to", 100 * field.flatness_fit, 100 * field.max_dev_fit,
                "the statistical errors alone", 100 * field.flatness_statistical,
                100 * field.max_rel);
        if (driver && driver->note[0]) fprintf(out, "  last run: %s\n", driver->note);
    }
done:
    cJSON_Delete(record);
    free(block);
    free(pk);
    free(peaks);
    return status;
}
