/*
 * cmd_sobp.c - `bragg sobp`: a spread-out Bragg peak over a depth interval (src/engine/sobp.h):
 * energies, weights from the simulated pristine curves, the summed curve and its flatness.
 *
 * Every pristine curve is an ordinary run (one engine each). With a driver (bragg-mpi) each
 * run is spread over the ranks; every rank then holds every curve and computes the same
 * weights, and rank 0 prints and writes.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "atomic_file.h"
#include "commands.h"
#include "config.h"
#include "engine.h"
#include "interrupt.h"
#include "options.h"
#include "run_driver.h"
#include "sobp.h"

#define SOBP_MAX_PEAKS 200

/* Room beyond the distal end for the falloff and the fragment tail in the output. */
#define SOBP_DEPTH_MARGIN_CM 3.0

static void usage(FILE *out, const option_spec *specs)
{
    fprintf(out,
            "usage: bragg sobp --ion NAME --material NAME --from CM --to CM [options]\n\n"
            "Finds beam energies with Bragg peaks every --spacing from --to back to --from,\n"
            "simulates each pristine peak, fits non-negative weights that make the summed\n"
            "physical dose flat over [from, to] and reports the flatness (max - min over the\n"
            "mean dose in the plateau). Weights are fractions of the primaries.\n\n"
            "options:\n");
    option_print_help(out, specs);
    fprintf(out, "\nexit status: 0 ok, 1 run-time failure, 2 bad input\n");
}

/* One pristine run's curve. */
typedef struct pristine {
    double energy, csda_cm, peak_cm;
    double *dose, *dose_err;   /* nbins each, inside one block owned by the caller */
} pristine;

/* Runs `cfg` to the end, on this process or through the driver, and copies out its curve. */
static int run_pristine(const run_config *cfg, run_driver *driver, pristine *out, int nbins,
                        bragg_err *e)
{
    engine *en;
    if (engine_create(&en, cfg, e)) return BRAGG_ERR;
    int rc = BRAGG_ERR;
    if (driver) {
        if (driver->run(driver, en, 0, e)) goto done;
    } else {
        if (engine_start(en, e)) goto done;
        int cancelled = 0;
        while (!engine_wait(en, 0.25))
            if (interrupt_requested() && !cancelled) {
                engine_cancel(en);
                cancelled = 1;
            }
    }
    run_snapshot s;
    if (engine_snapshot(en, &s, e)) goto done;
    if (s.state == RUN_CANCELLED) {
        bragg_fail(e, "interrupted; nothing written (the peak needs every pristine run)");
    } else if (s.state != RUN_DONE) {
        bragg_fail(e, "the run at %.2f MeV/u failed: %s", cfg->energy, s.error);
    } else if (s.result.nbins != nbins) {
        bragg_fail(e, "the run at %.2f MeV/u has %d bins, not %d", cfg->energy, s.result.nbins,
                   nbins);
    } else {
        memcpy(out->dose, s.result.dose, (size_t)nbins * sizeof(double));
        memcpy(out->dose_err, s.result.dose_err, (size_t)nbins * sizeof(double));
        out->energy = cfg->energy;
        out->csda_cm = engine_csda_depth(en);
        out->peak_cm = s.result.fig.peak_depth;
        rc = BRAGG_OK;
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

static int write_csv(const char *path, const double *dose, const double *err, int n, double w,
                     bragg_err *e)
{
    atomic_file af;
    if (atomic_file_open(&af, path, "--csv", e)) return BRAGG_ERR;
    fprintf(af.file, "depth_cm,dose_Gy_cm2,dose_err_Gy_cm2\n");
    for (int i = 0; i < n; i++) fprintf(af.file, "%.6g,%.9g,%.9g\n", (i + 0.5) * w, dose[i], err[i]);
    return atomic_file_commit(&af, e);
}

static int write_json(const char *path, const run_config *cfg, double from, double to,
                      const pristine *pk, const double *weights, int K, double flatness,
                      double max_dev, double mean, double max_rel_err, const double *dose, const double *err,
                      int n, bragg_err *e)
{
    cJSON *root = cJSON_CreateObject();
    if (!root) return bragg_fail(e, "--json: out of memory");
    cJSON_AddNumberToObject(root, "schema_version", 1);
    cJSON_AddStringToObject(root, "kind", "sobp");
    cJSON_AddStringToObject(root, "ion", cfg->ion);
    cJSON_AddStringToObject(root, "material", cfg->slabs[0].material);
    cJSON_AddNumberToObject(root, "from_cm", from);
    cJSON_AddNumberToObject(root, "to_cm", to);
    cJSON_AddNumberToObject(root, "histories_per_energy", (double)cfg->histories);
    cJSON_AddNumberToObject(root, "seed", (double)cfg->seed);
    cJSON_AddNumberToObject(root, "flatness", flatness);
    cJSON_AddNumberToObject(root, "max_deviation", max_dev);
    cJSON_AddNumberToObject(root, "plateau_dose_Gy_cm2", mean);
    cJSON_AddNumberToObject(root, "plateau_max_rel_err", max_rel_err);
    cJSON *peaks = cJSON_AddArrayToObject(root, "peaks");
    for (int k = 0; k < K; k++) {
        cJSON *p = cJSON_CreateObject();
        cJSON_AddNumberToObject(p, "energy_MeV_u", pk[k].energy);
        cJSON_AddNumberToObject(p, "csda_cm", pk[k].csda_cm);
        cJSON_AddNumberToObject(p, "peak_cm", pk[k].peak_cm);
        cJSON_AddNumberToObject(p, "weight", weights[k]);
        cJSON_AddItemToArray(peaks, p);
    }
    cJSON *d = cJSON_AddArrayToObject(root, "dose_Gy_cm2");
    cJSON *de = cJSON_AddArrayToObject(root, "dose_err_Gy_cm2");
    for (int i = 0; i < n; i++) {
        cJSON_AddItemToArray(d, cJSON_CreateNumber(dose[i]));
        cJSON_AddItemToArray(de, cJSON_CreateNumber(err[i]));
    }
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
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
    double from = NAN, to = NAN, spacing_mm = 1.5, bin_mm = 1.0;
    int no_nuclear = 0, quiet = 0;
    const char *csv = NULL, *json = NULL, *backend = "openmp";
    cfg.histories = 20000;
    const option_spec specs[] = {
        PHYSICS_OPTION_SPECS(&phys),
        {"from", 0, OPTION_DOUBLE, &from, 0.01, 1000, "CM", "proximal end of the plateau", 0},
        {"to", 0, OPTION_DOUBLE, &to, 0.01, 1000, "CM", "distal end of the plateau", 0},
        {"spacing", 0, OPTION_DOUBLE, &spacing_mm, 0.1, 100, "MM",
         "largest distance between neighbouring peaks (default 1.5)", 0},
        {"histories", 'n', OPTION_COUNT, &cfg.histories, 100, 1e12, "N",
         "histories per energy (default 20000)", 0},
        {"seed", 's', OPTION_COUNT, &cfg.seed, 0, 18446744073709549568.0, "S",
         "random seed (default 1)", 0},
        {"backend", 'b', OPTION_STRING, &backend, 0, 0, "NAME", "serial, openmp (default) or cuda",
         0},
        {"threads", 't', OPTION_INT, &cfg.threads, 0, 1024, "N",
         "OpenMP threads (default 0 = all cores)", 0},
        {"bin", 0, OPTION_DOUBLE, &bin_mm, 0.01, 10, "MM", "depth bin width (default 1)", 0},
        {"batches", 0, OPTION_INT, &cfg.batches, 2, 1000, "N",
         "batches for the statistical error (default 20)", 0},
        {"no-nuclear", 0, OPTION_FLAG, &no_nuclear, 0, 0, 0,
         "switch nuclear reactions and fragmentation off", 0},
        {"csv", 0, OPTION_STRING, &csv, 0, 0, "FILE|-", "write the summed depth-dose curve", 0},
        {"json", 0, OPTION_STRING, &json, 0, 0, "FILE|-",
         "write energies, weights, flatness and the curve", 0},
        {"quiet", 'q', OPTION_FLAG, &quiet, 0, 0, 0, "no progress and no summary", 0},
        {0},
    };
    bragg_err e = {{0}};
    int help;
    if (option_parse(specs, argc, argv, &help, &e)) {
        fprintf(stderr, "bragg sobp: %s\n", e.msg);
        return EXIT_USAGE;
    }
    if (help) {
        usage(stdout, specs);
        return EXIT_OK;
    }
    if (!phys.ion || !phys.material || isnan(from) || isnan(to)) {
        fprintf(stderr, "bragg sobp: %s: missing\n",
                !phys.ion ? "--ion" : !phys.material ? "--material" : isnan(from) ? "--from" : "--to");
        return EXIT_USAGE;
    }
    if (!(to > from)) {
        fprintf(stderr, "bragg sobp: --to: %g must be deeper than --from %g\n", to, from);
        return EXIT_USAGE;
    }
    if ((csv && atomic_file_check_path(csv, "--csv", &e)) ||
        (json && atomic_file_check_path(json, "--json", &e))) {
        fprintf(stderr, "bragg sobp: %s\n", e.msg);
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
    /* One depth grid for every energy, so the curves add bin by bin. */
    cfg.depth_max_cm = to + SOBP_DEPTH_MARGIN_CM;
    int nbins = (int)ceil(cfg.depth_max_cm / cfg.bin_width_cm - 1e-9);
    int root = !driver || driver->is_root;
    int talk = root && !quiet && isatty(STDERR_FILENO);

    /* The range table of the primary, from an engine that is never started. */
    cfg.energy = 100;
    engine *probe;
    if (engine_create(&probe, &cfg, &e)) {
        fprintf(stderr, "bragg sobp: %s\n", e.msg);
        return EXIT_USAGE;
    }
    const transport_params *tp = engine_params(probe);
    const transport_table *tab = tp->slabs[0].table[tp->Z];
    double density = tp->slabs[0].density;
    double e_max_range = table_range(tab, USER_T_MAX);
    engine_destroy(probe);   /* tab died with it; the pilot's engine gives it again below */
    /* What is out of reach first: a plateau beyond the ion's range is a bad --to whatever the
     * spacing (it used to be blamed on --spacing, through the number of peaks it needs). */
    if (density * to / 0.95 > e_max_range) {
        fprintf(stderr, "bragg sobp: --to: %g cm is beyond the range of %s at %g MeV/u (valid: "
                        "up to %.4g cm)\n", to, cfg.ion, USER_T_MAX, 0.95 * e_max_range / density);
        return EXIT_USAGE;
    }
    double depths[SOBP_MAX_PEAKS];
    int K = sobp_peak_depths(from, to, spacing_mm / 10, depths, SOBP_MAX_PEAKS);
    if (K == 0) {
        fprintf(stderr, "bragg sobp: --spacing: %g mm gives more than %d peaks over %g-%g cm "
                        "(valid: at least %.3g mm here)\n",
                spacing_mm, SOBP_MAX_PEAKS, from, to, 10 * (to - from) / (SOBP_MAX_PEAKS - 1));
        return EXIT_USAGE;
    }

    int status = EXIT_RUNTIME;
    double *block = calloc((size_t)(K + 1) * 2 * (size_t)nbins + (size_t)K * 2, sizeof(double));
    pristine *pk = calloc((size_t)K + 1, sizeof *pk);
    int *peaks = calloc((size_t)K, sizeof *peaks);
    if (!block || !pk || !peaks) {
        fprintf(stderr, "bragg sobp: out of memory\n");
        goto done;
    }
    for (int k = 0; k <= K; k++) {
        pk[k].dose = block + (size_t)2 * k * nbins;
        pk[k].dose_err = pk[k].dose + nbins;
    }
    double *weights = block + (size_t)(K + 1) * 2 * nbins;

    /* 1. The pilot: the distal energy from the CSDA range alone; its simulated peak tells how
     * far short of the CSDA depth the peaks sit. pk[K] holds it. */
    if (engine_create(&probe, &cfg, &e)) {
        fprintf(stderr, "bragg sobp: %s\n", e.msg);
        status = EXIT_USAGE;
        goto done;
    }
    tp = engine_params(probe);
    tab = tp->slabs[0].table[tp->Z];
    double energies[SOBP_MAX_PEAKS + 1];
    energies[K] = table_energy(tab, density * to);
    run_config c = cfg;
    c.energy = energies[K];
    if (talk) fprintf(stderr, "\r  pilot run at %.2f MeV/u   ", c.energy);
    if (run_pristine(&c, driver, &pk[K], nbins, &e)) {
        engine_destroy(probe);
        fprintf(stderr, "bragg sobp: %s\n", e.msg);
        if (interrupt_requested()) status = EXIT_INTERRUPTED;
        goto done;
    }
    double peak_over_csda = pk[K].peak_cm / pk[K].csda_cm;
    if (!(peak_over_csda > 0.8 && peak_over_csda <= 1.02)) {
        engine_destroy(probe);
        fprintf(stderr, "bragg sobp: the pilot peak at %.3f cm is far from its CSDA depth "
                        "%.3f cm; too few histories?\n", pk[K].peak_cm, pk[K].csda_cm);
        goto done;
    }
    for (int k = 0; k < K; k++) energies[k] = table_energy(tab, density * depths[k] / peak_over_csda);
    engine_destroy(probe);

    /* 2. The pristine peaks, distal first. */
    for (int k = 0; k < K; k++) {
        c.energy = energies[k];
        if (talk) fprintf(stderr, "\r  peak %d of %d: %.2f MeV/u   ", k + 1, K, c.energy);
        if (interrupt_requested() || run_pristine(&c, driver, &pk[k], nbins, &e)) {
            if (interrupt_requested()) {
                bragg_fail(&e, "interrupted; nothing written (the peak needs every pristine run)");
                status = EXIT_INTERRUPTED;
            }
            fprintf(stderr, "%sbragg sobp: %s\n", talk ? "\n" : "", e.msg);
            goto done;
        }
        peaks[k] = peak_bin(pk[k].dose, nbins);
    }
    if (talk) fprintf(stderr, "\r%*s\r", 60, "");

    /* 3. Weights on the plateau, then the summed curve with its error (runs independent). */
    int first, last;
    sobp_plateau_bins(from, to, cfg.bin_width_cm, nbins, &first, &last);
    double *curves = malloc((size_t)K * nbins * sizeof *curves);
    if (!curves) {
        fprintf(stderr, "bragg sobp: out of memory\n");
        goto done;
    }
    for (int k = 0; k < K; k++) memcpy(curves + (size_t)k * nbins, pk[k].dose, nbins * sizeof(double));
    int fit = sobp_fit_weights(curves, K, nbins, first, last, peaks, weights, &e);
    free(curves);
    if (fit) {
        fprintf(stderr, "bragg sobp: %s\n", e.msg);
        goto done;
    }
    double wsum = 0;
    for (int k = 0; k < K; k++) wsum += weights[k];
    if (!(wsum > 0)) {
        fprintf(stderr, "bragg sobp: every weight came out zero\n");
        goto done;
    }
    for (int k = 0; k < K; k++) weights[k] /= wsum;
    /* Reuse the pilot's arrays for the sum: per primary of the whole field. */
    double *sum = pk[K].dose, *sum_err = pk[K].dose_err;
    for (int i = 0; i < nbins; i++) {
        double s = 0, v = 0;
        for (int k = 0; k < K; k++) {
            s += weights[k] * pk[k].dose[i];
            v += weights[k] * weights[k] * pk[k].dose_err[i] * pk[k].dose_err[i];
        }
        sum[i] = s;
        sum_err[i] = sqrt(v);
    }
    double mean, flat = sobp_flatness(sum, first, last, &mean), max_rel = 0, max_dev = 0;
    for (int i = first; i <= last; i++) {
        if (sum[i] > 0 && sum_err[i] / sum[i] > max_rel) max_rel = sum_err[i] / sum[i];
        if (fabs(sum[i] / mean - 1) > max_dev) max_dev = fabs(sum[i] / mean - 1);
    }

    status = EXIT_OK;
    if (!root) goto done;
    if (csv && write_csv(csv, sum, sum_err, nbins, cfg.bin_width_cm, &e)) {
        fprintf(stderr, "bragg sobp: %s\n", e.msg);
        status = EXIT_RUNTIME;
    }
    if (json && write_json(json, &cfg, from, to, pk, weights, K, flat, max_dev, mean, max_rel, sum, sum_err,
                           nbins, &e)) {
        fprintf(stderr, "bragg sobp: %s\n", e.msg);
        status = EXIT_RUNTIME;
    }
    if (!quiet) {
        int on_stdout = (csv && strcmp(csv, "-") == 0) || (json && strcmp(json, "-") == 0);
        FILE *out = on_stdout ? stderr : stdout;
        fprintf(out, "SOBP %s in %s, %g-%g cm: %d peaks, %llu histories each%s\n", cfg.ion,
                cfg.slabs[0].material, from, to, K, (unsigned long long)cfg.histories,
                driver ? " (MPI)" : "");
        fprintf(out, "  peak depth / CSDA depth from the pilot run: %.5f\n", peak_over_csda);
        fprintf(out, "  %12s %10s %10s %10s\n", "MeV/u", "CSDA cm", "peak cm", "weight");
        for (int k = 0; k < K; k++)
            fprintf(out, "  %12.3f %10.3f %10.3f %10.5f\n", pk[k].energy, pk[k].csda_cm,
                    pk[k].peak_cm, weights[k]);
        fprintf(out, "  plateau %.2f-%.2f cm (%d bins of %g mm): mean dose %.5g Gy cm^2 per "
                     "primary\n",
                (first + 0.5) * cfg.bin_width_cm, (last + 0.5) * cfg.bin_width_cm,
                last - first + 1, bin_mm, mean);
        fprintf(out, "  flatness (max - min) / mean  %.2f %%, largest deviation from the mean "
                     "+-%.2f %%\n  largest statistical error of a plateau bin %.2f %%\n",
                100 * flat, 100 * max_dev, 100 * max_rel);
        if (driver && driver->note[0]) fprintf(out, "  last run: %s\n", driver->note);
    }
done:
    free(block);
    free(pk);
    free(peaks);
    return status;
}
