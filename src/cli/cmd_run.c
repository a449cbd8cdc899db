/*
 * cmd_run.c - `bragg run`: transport a beam headless; depth-dose CSV, JSON summary, progress.
 *
 * The run goes on the engine's thread; this thread polls snapshots for the progress line and
 * watches for Ctrl-C, which cancels the run cleanly: what was computed is still written, marked
 * partial, and the exit status is 130.
 */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "atomic_file.h"
#include "commands.h"
#include "config.h"
#include "engine.h"
#include "figures.h"
#include "options.h"
#include "report.h"
#include "run_driver.h"

#define EXIT_INTERRUPTED 130

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

static int add_slab(const char *value, void *ctx, bragg_err *e)
{
    return config_add_slab(ctx, value, e);
}

static void usage(FILE *out, const option_spec *specs)
{
    fprintf(out,
            "usage: bragg run --ion NAME --energy MEV_U (--material NAME | --slab M:CM ...) "
            "[options]\n\n"
            "Transports a pencil beam along +z into a stack of laterally infinite slabs and\n"
            "scores the depth-dose curve (dose per unit primary fluence, Gy cm^2) with its\n"
            "statistical error, primary fluence, dose-averaged LET and lateral spread.\n\n"
            "options:\n");
    option_print_help(out, specs);
    fprintf(out, "\nexit status: 0 ok, 1 run-time failure, 2 bad input, 130 interrupted "
                 "(partial results written)\n");
}

static void progress_line(const run_snapshot *s)
{
    double frac = s->histories_total ? (double)s->histories_done / s->histories_total : 0;
    double eta = s->histories_per_s > 0 ? (s->histories_total - s->histories_done) /
                                              s->histories_per_s
                                        : NAN;
    char err[32] = "--";
    if (isfinite(s->result.peak_rel_err))
        snprintf(err, sizeof err, "%.2f%%", 100 * s->result.peak_rel_err);
    fprintf(stderr, "\r  %5.1f%%  %llu/%llu histories  %.0f histories/s  ETA %.0f s  "
                    "peak error %s   ",
            100 * frac, (unsigned long long)s->histories_done,
            (unsigned long long)s->histories_total, s->histories_per_s, eta, err);
}

/* The depth-dose figure, drawn from the same JSON tree --json writes, so that `bragg plot` of
 * that file gives the same picture. */
static int write_png(const engine *en, const run_snapshot *snap, const char *path, bragg_err *e)
{
    cJSON *root = report_build_json(en, snap);
    if (!root) return bragg_fail(e, "--png: out of memory");
    const cJSON *runs[1] = {root};
    plot_figure fig;
    plot_style style;
    plot_style_default(&style);
    int rc = figures_from_runs(&fig, runs, 1, FIGURE_DOSE, FIGURE_NORM_NONE, NULL, e);
    if (rc == BRAGG_OK) {
        rc = plot_write_png(&fig, &style, path, "--png", NULL, e);
        plot_figure_free(&fig);
    }
    cJSON_Delete(root);
    return rc;
}

int cmd_run(int argc, char **argv)
{
    return cmd_run_with(argc, argv, NULL);
}

int cmd_run_with(int argc, char **argv, run_driver *driver)
{
    run_config cfg;
    config_default(&cfg);
    cfg.n_slabs = 0;   /* from --material or --slab */
    physics_options phys;
    physics_options_default(&phys);
    phys.ion = NULL;
    double energy = NAN, spread_pct = 0, spot_mm = 0, divergence_mrad = 0, bin_mm = 0.1;
    double step_min_mm = cfg.step_min_cm * 10, lateral_cm = INFINITY;
    double step_min_secondary_mm = cfg.step_min_secondary_cm * 10;
    int no_straggling = 0, no_mcs = 0, no_nuclear = 0, quiet = 0, all = 0;
    const char *csv = NULL, *json = NULL, *png = NULL, *backend = "openmp", *bio = NULL;
    tissue_options tissue = {NULL, 0};
    const option_spec specs[] = {
        PHYSICS_OPTION_SPECS(&phys),
        {"bio", 0, OPTION_STRING, &bio, 0, 0, "MODEL",
         "biological model: mkm (ions), mcnamara, wedenberg or rbe1.1 (protons); adds RBE, "
         "RBE-weighted dose and survival per bin", 0},
        TISSUE_OPTION_SPECS(&tissue),
        {"bio-dose", 0, OPTION_DOUBLE, &cfg.bio_dose, 0.01, 100, "GY",
         "physical dose per bin at which survival and RBE are given (default 2)", 0},
        {"energy", 'e', OPTION_DOUBLE, &energy, USER_T_MIN, USER_T_MAX, "MEV_U",
         "beam kinetic energy per nucleon", 0},
        {"energy-spread", 0, OPTION_DOUBLE, &spread_pct, 0, 20, "PERCENT",
         "energy spread, relative sigma (default 0)", 0},
        {"spot", 0, OPTION_DOUBLE, &spot_mm, 0, 100, "MM", "spot size sigma per axis (default 0)",
         0},
        {"divergence", 0, OPTION_DOUBLE, &divergence_mrad, 0, 100, "MRAD",
         "beam divergence sigma per plane (default 0)", 0},
        {"slab", 0, OPTION_CALL, &cfg, 0, 0, "MAT:CM",
         "add a slab (repeatable; thickness 'inf' for the last), e.g. --slab water:5 --slab "
         "bone-cortical-icrp:2 --slab water:inf",
         add_slab},
        {"histories", 'n', OPTION_COUNT, &cfg.histories, 1, 1e12, "N",
         "number of primary histories (default 100000)", 0},
        {"seed", 's', OPTION_COUNT, &cfg.seed, 0, 18446744073709549568.0, "S",
         "random seed (default 1)", 0},
        {"backend", 'b', OPTION_STRING, &backend, 0, 0, "NAME",
         "serial, openmp (default), event (the GPU's event loop on CPU threads) or cuda", 0},
        {"threads", 't', OPTION_INT, &cfg.threads, 0, 1024, "N",
         "OpenMP threads (default 0 = all cores)", 0},
        {"no-straggling", 0, OPTION_FLAG, &no_straggling, 0, 0, 0,
         "switch energy-loss straggling off", 0},
        {"no-mcs", 0, OPTION_FLAG, &no_mcs, 0, 0, 0, "switch multiple Coulomb scattering off", 0},
        {"no-nuclear", 0, OPTION_FLAG, &no_nuclear, 0, 0, 0,
         "switch nuclear reactions and fragmentation off", 0},
        {"step-fraction", 0, OPTION_DOUBLE, &cfg.step_fraction, 1e-4, 0.5, "F",
         "largest step as a fraction of the residual range (default 0.04)", 0},
        {"step-min", 0, OPTION_DOUBLE, &step_min_mm, 1e-5, 10, "MM",
         "smallest step (default 0.01)", 0},
        {"step-fraction-secondary", 0, OPTION_DOUBLE, &cfg.step_fraction_secondary, 1e-4, 0.5,
         "F", "the same for nuclear secondaries (default 0.1)", 0},
        {"step-min-secondary", 0, OPTION_DOUBLE, &step_min_secondary_mm, 1e-5, 10, "MM",
         "smallest step of nuclear secondaries (default 0.1)", 0},
        {"ecut", 0, OPTION_DOUBLE, &cfg.energy_cut, 0.002, 10, "MEV_U",
         "cut-off energy, remainder deposited in place (default 0.1)", 0},
        {"bin", 0, OPTION_DOUBLE, &bin_mm, 0.001, 100, "MM", "depth bin width (default 0.1)", 0},
        {"depth", 0, OPTION_DOUBLE, &cfg.depth_max_cm, 0, 1e4, "CM",
         "scoring depth (default 0 = CSDA depth + 15% + 5 mm)", 0},
        {"batches", 0, OPTION_INT, &cfg.batches, 2, 1000, "N",
         "batches for the statistical error (default 20)", 0},
        {"lateral-halfwidth", 0, OPTION_DOUBLE, &lateral_cm, 1e-3, 1e6, "CM",
         "half-width of the slabs in x and y (default infinite)", 0},
        {"csv", 0, OPTION_STRING, &csv, 0, 0, "FILE|-", "write the depth curves as CSV", 0},
        {"json", 0, OPTION_STRING, &json, 0, 0, "FILE|-", "write the JSON summary", 0},
        {"png", 0, OPTION_STRING, &png, 0, 0, "FILE",
         "write the depth-dose figure (bragg plot draws the other kinds from --json)", 0},
        {"all", 0, OPTION_FLAG, &all, 0, 0, 0,
         "with --png BASE.png: also write BASE.csv and BASE.json beside it", 0},
        {"profile", 0, OPTION_FLAG, &cfg.profile, 0, 0, 0,
         "time the step components (one history in 32; ~1.5% slower)", 0},
        {"quiet", 'q', OPTION_FLAG, &quiet, 0, 0, 0, "no progress line and no summary", 0},
        {0},
    };
    bragg_err e = {{0}};
    int help;
    if (option_parse(specs, argc, argv, &help, &e)) {
        fprintf(stderr, "bragg run: %s\n", e.msg);
        return EXIT_USAGE;
    }
    if (help) {
        usage(stdout, specs);
        return EXIT_OK;
    }
    if (!phys.ion) {
        fprintf(stderr, "bragg run: --ion: missing (e.g. --ion p, --ion C-12)\n");
        return EXIT_USAGE;
    }
    if (isnan(energy)) {
        fprintf(stderr, "bragg run: --energy: missing (MeV/u, %g to %g)\n", USER_T_MIN, USER_T_MAX);
        return EXIT_USAGE;
    }
    if (phys.material && cfg.n_slabs > 0) {
        fprintf(stderr, "bragg run: --material and --slab exclude each other (use --slab "
                        "water:inf for a semi-infinite last slab)\n");
        return EXIT_USAGE;
    }
    if (!phys.material && cfg.n_slabs == 0) {
        fprintf(stderr, "bragg run: --material: missing (or give a stack with --slab)\n");
        return EXIT_USAGE;
    }
    if (phys.material) {
        cfg.n_slabs = 1;
        snprintf(cfg.slabs[0].material, sizeof cfg.slabs[0].material, "%s", phys.material);
        cfg.slabs[0].thickness_cm = INFINITY;
    }
    snprintf(cfg.ion, sizeof cfg.ion, "%s", phys.ion);
    snprintf(cfg.backend, sizeof cfg.backend, "%s", backend);
    cfg.energy = energy;
    cfg.energy_spread = spread_pct / 100;
    cfg.spot_sigma_cm = spot_mm / 10;
    cfg.divergence_rad = divergence_mrad / 1000;
    cfg.iwater = phys.iwater;
    cfg.stopping = phys.stopping;
    cfg.straggling = !no_straggling;
    cfg.scattering = !no_mcs;
    cfg.nuclear = !no_nuclear;
    cfg.step_min_cm = step_min_mm / 10;
    cfg.step_min_secondary_cm = step_min_secondary_mm / 10;
    cfg.bin_width_cm = bin_mm / 10;
    cfg.lateral_halfwidth_cm = lateral_cm;
    if (bio) snprintf(cfg.bio_model, sizeof cfg.bio_model, "%s", bio);
    if (tissue.cell) snprintf(cfg.bio_cell, sizeof cfg.bio_cell, "%s", tissue.cell);
    cfg.bio_alpha_beta = tissue.alpha_beta;
    if (!bio && (tissue.cell || tissue.alpha_beta > 0)) {
        fprintf(stderr, "bragg run: --%s: needs --bio MODEL\n", tissue.cell ? "cell" : "alpha-beta");
        return EXIT_USAGE;
    }
    /* --all names the CSV and JSON after the PNG: fig.png -> fig.csv, fig.json. */
    char all_csv[1100], all_json[1100];
    if (all) {
        if (!png) {
            fprintf(stderr, "bragg run: --all: needs --png FILE (the base name of the outputs)\n");
            return EXIT_USAGE;
        }
        size_t len = strlen(png);
        int ext = len > 4 && strcmp(png + len - 4, ".png") == 0;
        snprintf(all_csv, sizeof all_csv, "%.*s.csv", (int)(ext ? len - 4 : len), png);
        snprintf(all_json, sizeof all_json, "%.*s.json", (int)(ext ? len - 4 : len), png);
        if (!csv) csv = all_csv;
        if (!json) json = all_json;
    }
    if ((csv && atomic_file_check_path(csv, "--csv", &e)) ||
        (json && atomic_file_check_path(json, "--json", &e)) ||
        (png && atomic_file_check_path(png, "--png", &e))) {
        fprintf(stderr, "bragg run: %s\n", e.msg);
        return EXIT_USAGE;
    }

    engine *en;
    if (engine_create(&en, &cfg, &e)) {
        fprintf(stderr, "bragg run: %s\n", e.msg);
        return EXIT_USAGE;
    }
    struct sigaction sa, old_sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_sa);
    interrupted = 0;

    int status = EXIT_OK;
    int show_progress = !quiet && isatty(STDERR_FILENO);
    if (driver) {
        /* Ctrl-C goes to every process of a driven run (mpirun forwards it) and ends it. */
        sigaction(SIGINT, &old_sa, NULL);
        if (driver->run(driver, en, show_progress && driver->is_root, &e)) {
            fprintf(stderr, "bragg run: %s\n", e.msg);
            engine_destroy(en);
            return EXIT_RUNTIME;
        }
    } else if (engine_start(en, &e)) {
        fprintf(stderr, "bragg run: %s\n", e.msg);
        engine_destroy(en);
        sigaction(SIGINT, &old_sa, NULL);
        return EXIT_RUNTIME;
    }
    while (!driver && !engine_wait(en, 0.25)) {
        if (interrupted) {
            engine_cancel(en);
            interrupted = 2;
        }
        if (show_progress) {
            run_snapshot s;
            if (engine_snapshot(en, &s, &e) == BRAGG_OK) progress_line(&s);
            run_snapshot_free(&s);
        }
    }
    if (show_progress && !driver) fprintf(stderr, "\r%*s\r", 100, "");
    if (!driver) sigaction(SIGINT, &old_sa, NULL);
    if (driver && !driver->is_root) {
        /* Every process holds the merged result; the root alone reports it. */
        run_snapshot snap;
        if (engine_snapshot(en, &snap, &e) == BRAGG_OK && snap.state == RUN_FAILED)
            status = EXIT_RUNTIME;
        run_snapshot_free(&snap);
        engine_destroy(en);
        return status;
    }

    run_snapshot snap;
    if (engine_snapshot(en, &snap, &e)) {
        fprintf(stderr, "bragg run: %s\n", e.msg);
        engine_destroy(en);
        return EXIT_RUNTIME;
    }
    if (snap.state == RUN_FAILED) {
        fprintf(stderr, "bragg run: %s (results so far are still written)\n", snap.error);
        status = EXIT_RUNTIME;
    } else if (snap.state == RUN_CANCELLED || interrupted) {
        fprintf(stderr, "bragg run: interrupted after %llu histories; writing partial results\n",
                (unsigned long long)snap.result.histories);
        status = EXIT_INTERRUPTED;
    }
    if (csv && report_write_csv(en, &snap, csv, &e)) {
        fprintf(stderr, "bragg run: %s\n", e.msg);
        status = EXIT_RUNTIME;
    }
    if (json && report_write_json(en, &snap, json, &e)) {
        fprintf(stderr, "bragg run: %s\n", e.msg);
        status = EXIT_RUNTIME;
    }
    if (png && write_png(en, &snap, png, &e)) {
        /* A PNG that cannot be written exits 2 (bad output path), naming the path. */
        fprintf(stderr, "bragg run: %s\n", e.msg);
        if (status == EXIT_OK) status = EXIT_USAGE;
    }
    if (!quiet) {
        /* Data may be on stdout: then the summary goes to stderr. */
        int data_on_stdout = (csv && strcmp(csv, "-") == 0) || (json && strcmp(json, "-") == 0);
        report_print_summary(data_on_stdout ? stderr : stdout, en, &snap);
        report_print_profile(data_on_stdout ? stderr : stdout, &snap);
        if (driver && driver->note[0])
            fprintf(data_on_stdout ? stderr : stdout, "  %s\n", driver->note);
    }
    run_snapshot_free(&snap);
    engine_destroy(en);
    return status;
}
