/*
 * cmd_run.c - `bragg run`: transport a beam headless; depth-dose CSV, JSON summary, progress.
 *
 * The run goes on the engine's thread; this thread polls snapshots for the progress line and
 * watches for Ctrl-C, SIGTERM and SIGHUP (src/cli/interrupt.h), which cancel the run cleanly:
 * what was computed is still written, whole and marked partial, and the exit status is 130.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "assets.h"
#include "atomic_file.h"
#include "catalog.h"
#include "commands.h"
#include "config.h"
#include "dose_map.h"
#include "engine.h"
#include "figures.h"
#include "interrupt.h"
#include "options.h"
#include "phase_space.h"
#include "report.h"
#include "run_driver.h"
#include "run_file.h"

/* Depths of the lateral profiles (--profile-at, repeatable). */
#define MAX_PROFILES 32
typedef struct profile_depths {
    int n;
    double cm[MAX_PROFILES];
} profile_depths;

static int add_profile(const char *value, void *ctx, bragg_err *e)
{
    profile_depths *d = ctx;
    if (d->n >= MAX_PROFILES) return bragg_fail(e, "at most %d profiles", MAX_PROFILES);
    return parse_number(value, "profile depth (cm)", 0, 1e4, &d->cm[d->n++], e);
}

static void usage(FILE *out, const option_spec *specs)
{
    fprintf(out,
            "usage: bragg run --ion NAME --energy MEV_U (--material NAME | --slab M:CM ...) "
            "[options]\n"
            "       bragg run --config FILE [options]\n\n"
            "Transports a pencil beam along +z into a stack of laterally infinite slabs and\n"
            "scores the depth-dose curve (dose per unit primary fluence, Gy cm^2) with its\n"
            "statistical error, primary fluence, dose- and track-averaged LET and lateral\n"
            "spread.\n\n" LET_DEFINITIONS "\n"
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

/* interrupt_wait_run's tick: the progress line of the run so far. */
static void show_progress_tick(engine *en, void *ctx)
{
    (void)ctx;
    run_snapshot s;
    bragg_err e;
    if (engine_snapshot(en, &s, &e) == BRAGG_OK) progress_line(&s);
    run_snapshot_free(&s);
}

/* The depth-dose figure, drawn from the same JSON tree --json writes, so that `bragg plot` of
 * that file gives the same picture. */
static int write_figures(const engine *en, const run_snapshot *snap, const plot_outputs *figs,
                         bragg_err *e)
{
    cJSON *root = report_build_json(en, snap);
    if (!root) return bragg_fail(e, "--png: out of memory");
    const cJSON *runs[1] = {root};
    plot_figure fig;
    plot_style style;
    plot_style_default(&style);
    figure_options fo;
    figure_options_default(&fo);
    int rc = figures_from_runs(&fig, runs, 1, &fo, e);
    if (rc == BRAGG_OK) {
        rc = plot_outputs_write(&fig, &style, figs, e);
        plot_figure_free(&fig);
    }
    cJSON_Delete(root);
    return rc;
}

int cmd_run(int argc, char **argv)
{
    return cmd_run_with(argc, argv, NULL);
}

/* A run key as an option: the setup it sets and the key. */
typedef struct key_option {
    run_setup *setup;
    const run_key *key;
} key_option;

/* The ion and the materials are looked up as they are read, so that a run file's unknown name
 * is reported with its line, as a bad number is (the file's parser adds "FILE line N: "); the
 * catalog loads in a few milliseconds. The lookup's message starts with its own field name
 * ("material: 'watr' is not known; ..."), which the caller's key replaces. */
static int check_name(const run_key *k, const run_config *c, bragg_err *e)
{
    int is_ion = k->kind == RUN_KEY_NAME && k->offset == offsetof(run_config, ion);
    if (!is_ion && k->kind != RUN_KEY_MATERIAL && k->kind != RUN_KEY_SLAB) return BRAGG_OK;
    catalog cat;
    if (catalog_load(&cat, e)) return BRAGG_ERR;
    bragg_err why = {{0}};
    int known = is_ion ? ion_table_lookup(&cat.ions, c->ion, &why) != NULL
                       : material_table_lookup(&cat.materials, c->slabs[c->n_slabs - 1].material,
                                               &why) != NULL;
    catalog_free(&cat);
    if (known) return BRAGG_OK;
    const char *rest = strstr(why.msg, ": ");
    return bragg_fail(e, "%s", rest ? rest + 2 : why.msg);
}

static int set_key(const char *value, void *ctx, bragg_err *e)
{
    key_option *k = ctx;
    if (run_setup_set(k->setup, k->key, value, e)) return BRAGG_ERR;
    return check_name(k->key, &k->setup->cfg, e);
}

/* bragg run's options: every run key (src/engine/run_file.h: the one table of names, units and
 * ranges, shared with run files and the workbench), then the outputs. The specs point into
 * the struct: it stays where it was initialised. */
#define N_OUTPUT_SPECS 13
#define N_SPECS (RUN_KEYS_MAX + N_OUTPUT_SPECS + 1)
typedef struct run_options {
    run_setup setup;
    key_option keys[RUN_KEYS_MAX];
    char helps[RUN_KEYS_MAX][600];   /* the keys' help with their valid values */
    int quiet, all;
    const char *csv, *json, *config, *map, *map_error, *phase_space;
    profile_depths profiles;
    plot_outputs figs;
    option_spec specs[N_SPECS];
    unsigned char seen[N_SPECS];
    int lines[N_SPECS];   /* the run file's line of each option it set, 0: none */
} run_options;

static void run_options_init(run_options *ro)
{
    memset(ro, 0, sizeof *ro);
    run_setup_init(&ro->setup);
    int n = 0;
    /* run_file.c asserts that run_keys holds at most RUN_KEYS_MAX keys. */
    for (const run_key *k = run_keys; k->name; k++, n++) {
        ro->keys[n] = (key_option){&ro->setup, k};
        /* The range as messages state it (run_key_range), not option_print_help's lo to hi:
         * "0 (automatic) or 0.001 to 100 mm". */
        char range[200];
        run_key_range(k, NULL, range, sizeof range);
        snprintf(ro->helps[n], sizeof ro->helps[n], *range ? "%s [%s]" : "%s", k->help, range);
        ro->specs[n] = (option_spec){k->name, k->letter,
                                     run_key_is_switch(k) ? OPTION_CALL_FLAG : OPTION_CALL,
                                     &ro->keys[n], 0, 0, k->meta, ro->helps[n], set_key};
    }
    const option_spec outputs[N_OUTPUT_SPECS] = {
        {"csv", 0, OPTION_STRING, &ro->csv, 0, 0, "FILE|-", "write the depth curves as CSV", 0},
        {"json", 0, OPTION_STRING, &ro->json, 0, 0, "FILE|-", "write the JSON summary", 0},
        FIGURE_OUTPUT_SPECS(&ro->figs, 0, "the depth-dose figure (bragg plot draws the other "
                                          "kinds from --json)"),
        {"map", 0, OPTION_STRING, &ro->map, 0, 0, "FILE|-",
         "score a dose map around the beam axis (--map-kind, default rz) and write it as NRRD",
         0},
        {"map-error", 0, OPTION_STRING, &ro->map_error, 0, 0, "FILE|-",
         "write each map cell's standard error (from the spread between the batches) as NRRD; "
         "keeps the map once per batch", 0},
        {"profile-at", 0, OPTION_CALL, &ro->profiles, 0, 0, "CM",
         "a lateral dose profile at this depth in the JSON's map (repeatable)", add_profile},
        {"phase-space", 0, OPTION_STRING, &ro->phase_space, 0, 0, "FILE",
         "write every particle crossing the --phase-space-depth plane as MCPL", 0},
        {"all", 0, OPTION_FLAG, &ro->all, 0, 0, 0,
         "with --png BASE.png (or --svg, --pdf): also write BASE.csv and BASE.json beside it", 0},
        {"quiet", 'q', OPTION_FLAG, &ro->quiet, 0, 0, 0, "no progress line and no summary", 0},
        {"config", 'c', OPTION_STRING, &ro->config, 0, 0, "FILE",
         "read the setup from a run file: key = value lines, the keys these options' long "
         "names (# comments); options given here override it", 0},
    };
    memcpy(ro->specs + n, outputs, sizeof outputs);
}

/* Reads a run file into the options, leaving those the command line gave (ro->seen) as they
 * are; --material or --slab there replaces the file's whole geometry (the two exclude each
 * other). *text holds the file: the output paths point into it. */
static int run_options_read_file(run_options *ro, const char *path, char **text, bragg_err *e)
{
    const option_spec *mat = NULL, *slab = NULL;
    for (const option_spec *s = ro->specs; s->name; s++) {
        if (strcmp(s->name, "material") == 0) mat = s;
        if (strcmp(s->name, "slab") == 0) slab = s;
    }
    if (ro->seen[mat - ro->specs] || ro->seen[slab - ro->specs])
        ro->seen[mat - ro->specs] = ro->seen[slab - ro->specs] = 1;
    static const char *const refused[] = {"config", 0};
    if (run_file_read(path, text, e)) return BRAGG_ERR;
    /* Every value in the file is checked, those the command line overrides too: a bad one is a
     * mistake in the file whichever wins (quiet = maybe with -q went unnoticed). A scratch set
     * of options takes them all from a copy (parsing cuts the text up). */
    run_options *scratch = malloc(sizeof *scratch);
    char *copy = strdup(*text);
    int rc = scratch && copy ? BRAGG_OK : bragg_fail(e, "out of memory");
    if (rc == BRAGG_OK) {
        run_options_init(scratch);
        rc = option_parse_file(scratch->specs, copy, path, NULL, refused, NULL, e);
    }
    free(copy);
    free(scratch);
    if (rc || option_parse_file(ro->specs, *text, path, ro->seen, refused, ro->lines, e))
        return BRAGG_ERR;
    return BRAGG_OK;
}

/* config_validate of the setup the command line and the run file made, its message naming
 * where the key at fault was given: "--bio-dose: ..." on the command line, "--config: FILE
 * line 7: bio-dose: ..." in the file (`path`; `file_prefix` first, as the file's other
 * errors have it). Rules between keys (a cell line without a model) are
 * found only once both sources are read: the command line may give what the file lacks. */
static int check_setup(const run_options *ro, const run_config *cfg, const char *path,
                       const char *file_prefix, bragg_err *e)
{
    catalog cat;
    if (catalog_load(&cat, e)) return BRAGG_ERR;
    const char *key = NULL;
    int rc = config_validate_key(cfg, &cat, &key, e);
    catalog_free(&cat);
    if (rc == BRAGG_OK || !key) return rc;
    int i = 0;
    while (ro->specs[i].name && strcmp(ro->specs[i].name, key) != 0) i++;
    if (!ro->specs[i].name) return rc;
    if (ro->seen[i]) return run_file_blame(e, key, NULL, 0);
    if (ro->lines[i]) {
        run_file_blame(e, key, path, ro->lines[i]);
        return bragg_fail_prefix(e, "%s", file_prefix);
    }
    return rc;
}

int cmd_run_read_config(const char *path, run_config *cfg, bragg_err *e)
{
    run_options *ro = malloc(sizeof *ro);
    if (!ro) return bragg_fail(e, "out of memory");
    run_options_init(ro);
    char *text = NULL;
    int rc = run_options_read_file(ro, path, &text, e);
    if (rc == BRAGG_OK) rc = check_setup(ro, &ro->setup.cfg, path, "", e);
    if (rc == BRAGG_OK) *cfg = ro->setup.cfg;
    free(text);
    free(ro);
    return rc;
}

static int run_command(run_options *ro, int argc, char **argv, run_driver *driver,
                       char **file_text);

int cmd_run_with(int argc, char **argv, run_driver *driver)
{
    /* The run file's text outlives the run: output paths given there point into it. */
    char *file_text = NULL;
    run_options *ro = malloc(sizeof *ro);
    if (!ro) {
        run_driver_say(driver, "bragg run", "out of memory");
        return EXIT_RUNTIME;
    }
    run_options_init(ro);
    int status = run_command(ro, argc, argv, driver, &file_text);
    free(file_text);
    free(ro);
    return status;
}

static int run_command(run_options *ro, int argc, char **argv, run_driver *driver,
                       char **file_text)
{
    run_setup *setup = &ro->setup;
    bragg_err e = {{0}};
    int help;
    if (option_parse_seen(ro->specs, argc, argv, &help, ro->seen, &e)) {
        run_driver_say(driver, "bragg run", "%s", e.msg);
        return EXIT_USAGE;
    }
    if (help) {
        usage(stdout, ro->specs);
        return EXIT_OK;
    }
    if (ro->config && run_options_read_file(ro, ro->config, file_text, &e)) {
        run_driver_say(driver, "bragg run", "--config: %s", e.msg);
        return EXIT_USAGE;
    }
    int quiet = ro->quiet, all = ro->all;
    const char *csv = ro->csv, *json = ro->json, *map_file = ro->map;
    const char *phase_space = ro->phase_space;
    const char *map_error = ro->map_error;
    const profile_depths *profiles = &ro->profiles;
    const plot_outputs figs = ro->figs;
    if (!run_setup_given(setup, "ion")) {
        run_driver_say(driver, "bragg run", "--ion: missing (e.g. --ion p, --ion C-12)");
        return EXIT_USAGE;
    }
    if (!run_setup_given(setup, "energy")) {
        run_driver_say(driver, "bragg run", "--energy: missing (MeV/u, %g to %g)", USER_T_MIN,
                       USER_T_MAX);
        return EXIT_USAGE;
    }
    if (!setup->geometry) {
        run_driver_say(driver, "bragg run", "--material: missing (or give a stack with --slab)");
        return EXIT_USAGE;
    }
    run_config cfg = setup->cfg;
    /* --map FILE scores rings unless map-kind says otherwise; the map's outputs mean nothing
     * without a map, the plane's nothing without its file. The settings of a map or a
     * biological model given without one are config_validate's (check_setup). */
    if (map_file && cfg.map_kind == MAP_NONE) {
        if (run_setup_given(setup, "map-kind")) {
            run_driver_say(driver, "bragg run", "--map: the map kind is none (valid: rz, xz)");
            return EXIT_USAGE;
        }
        cfg.map_kind = MAP_RZ;
    }
    if (cfg.map_kind == MAP_NONE && (profiles->n > 0 || map_error)) {
        run_driver_say(driver, "bragg run", "--%s: needs a dose map (--map FILE, or --map-kind)",
                       profiles->n ? "profile-at" : "map-error");
        return EXIT_USAGE;
    }
    cfg.map_errors = map_error != NULL;
    if (check_setup(ro, &cfg, ro->config, "--config: ", &e)) {
        run_driver_say(driver, "bragg run", "%s", e.msg);
        return EXIT_USAGE;
    }
    if (!phase_space != !(cfg.phase_space_depth_cm > 0)) {
        run_driver_say(driver, "bragg run", "%s",
                       phase_space ? "--phase-space: needs --phase-space-depth CM (the plane)"
                                   : "--phase-space-depth: needs --phase-space FILE (the MCPL "
                                     "file)");
        return EXIT_USAGE;
    }
    if (phase_space) {
        char reason[160];
        if (!phase_space_available(reason, sizeof reason)) {
            run_driver_say(driver, "bragg run", "--phase-space: %s", reason);
            return EXIT_USAGE;
        }
        if (driver && driver->no_phase_space) {
            run_driver_say(driver, "bragg run", "--phase-space: %s", driver->no_phase_space);
            return EXIT_USAGE;
        }
        if (strcmp(phase_space, "-") == 0) {
            run_driver_say(driver, "bragg run",
                           "--phase-space: an MCPL file cannot go to standard output (name a "
                           "file)");
            return EXIT_USAGE;
        }
        /* The file is written uncompressed; MCPL readers take a .gz name for gzip and fail. */
        size_t len = strlen(phase_space);
        if (len >= 3 && strcmp(phase_space + len - 3, ".gz") == 0) {
            run_driver_say(driver, "bragg run",
                           "--phase-space: %s: the file is written uncompressed (valid: a name "
                           "not ending .gz; gzip it afterwards)", phase_space);
            return EXIT_USAGE;
        }
    }
    /* --all names the CSV and JSON after the figure: fig.png -> fig.csv, fig.json. */
    char all_csv[1100], all_json[1100];
    if (all) {
        const char *base = NULL;
        int fmt;
        for (fmt = 0; fmt < PLOT_FORMATS && !base; fmt++) base = figs.path[fmt];
        if (!base) {
            run_driver_say(driver, "bragg run",
                           "--all: needs --png FILE (or --svg, --pdf: the base name of the "
                           "outputs)");
            return EXIT_USAGE;
        }
        fmt--;
        size_t len = strlen(base);
        int ext = len > 4 && base[len - 4] == '.' &&
                  strcmp(base + len - 3, plot_format_name(fmt)) == 0;
        snprintf(all_csv, sizeof all_csv, "%.*s.csv", (int)(ext ? len - 4 : len), base);
        snprintf(all_json, sizeof all_json, "%.*s.json", (int)(ext ? len - 4 : len), base);
        if (!csv) csv = all_csv;
        if (!json) json = all_json;
    }
    if ((csv && atomic_file_check_path(csv, "--csv", &e)) ||
        (json && atomic_file_check_path(json, "--json", &e)) ||
        (map_file && atomic_file_check_path(map_file, "--map", &e)) ||
        (map_error && atomic_file_check_path(map_error, "--map-error", &e)) ||
        (phase_space && atomic_file_check_path(phase_space, "--phase-space", &e)) ||
        plot_outputs_check(&figs, &e)) {
        run_driver_say(driver, "bragg run", "%s", e.msg);
        return EXIT_USAGE;
    }
    /* Inputs: the run file and the assets the run reads (a copy named by BRAGG_ASSETS sits
     * wherever the user put it, beside the outputs perhaps). */
    enum { N_ASSETS = 8 };
    char asset_paths[N_ASSETS][1024];
    file_use uses[8 + N_ASSETS + PLOT_FORMATS] = {
        {csv, csv == all_csv ? "--all (its CSV)" : "--csv", 0},
        {json, json == all_json ? "--all (its JSON)" : "--json", 0},
        {map_file, "--map", 0},
        {map_error, "--map-error", 0},
        {phase_space, "--phase-space", 0},
        {ro->config, "the --config file", 1},
    };
    int n_uses = 6;
    for (int k = 0; assets_files[k] && k < N_ASSETS; k++)
        if (assets_path(assets_files[k], asset_paths[k], sizeof asset_paths[k], NULL) == BRAGG_OK)
            uses[n_uses++] = (file_use){asset_paths[k], "an asset file the run reads", 1};
    n_uses += plot_outputs_uses(&figs, uses + n_uses);
    if (atomic_file_check_distinct(uses, n_uses, &e) ||
        (driver && driver->check_outputs && driver->check_outputs(driver, uses, n_uses, &e))) {
        run_driver_say(driver, "bragg run", "%s", e.msg);
        return EXIT_USAGE;
    }

    interrupt_begin_work();
    engine *en = NULL;
    int created = engine_create(&en, &cfg, &e) == BRAGG_OK;
    int refused = run_driver_created(driver, "bragg run", created, &e);
    if (refused) {
        if (created) engine_destroy(en);
        return refused;
    }
    /* The scoring depth is known now: profiles beyond it are bad input, found before the run. */
    const transport_params *params = engine_params(en);
    for (int k = 0; k < profiles->n; k++)
        if (!(profiles->cm[k] < params->nbins * params->bin_width)) {
            run_driver_say(driver, "bragg run",
                           "--profile-at: %g cm is out of range (valid: 0 to the scoring depth, "
                           "%g cm)",
                           profiles->cm[k], params->nbins * params->bin_width);
            engine_destroy(en);
            return EXIT_USAGE;
        }

    int status = EXIT_OK;
    int show_progress = !quiet && isatty(STDERR_FILENO);
    if (driver) {
        /* A driven run (bragg-mpi) hears signals itself, on every process (mpi_run.h). */
        if (driver->run(driver, en, show_progress && driver->is_root, quiet, &e)) {
            run_driver_say(driver, "bragg run", "%s", e.msg);
            engine_destroy(en);
            return driver->bad_input ? EXIT_USAGE : EXIT_RUNTIME;
        }
    } else if (engine_start(en, &e)) {
        run_driver_say(driver, "bragg run", "%s", e.msg);
        engine_destroy(en);
        return EXIT_RUNTIME;
    }
    if (!driver) interrupt_wait_run(en, show_progress ? show_progress_tick : NULL, NULL);
    if (show_progress && !driver) fprintf(stderr, "\r%*s\r", 100, "");
    if (driver && !driver->is_root) {
        /* Every process holds the merged result; the root alone reports it. */
        run_snapshot snap;
        if (engine_snapshot(en, &snap, &e) == BRAGG_OK && snap.state != RUN_DONE)
            status = interrupt_run_status(snap.state);
        run_snapshot_free(&snap);
        engine_destroy(en);
        return status;
    }

    /* From here on a signal no longer stops anything: the outputs of what was computed are
     * written whole, and the exit status says it came (a second signal aborts, cleaning up). */
    run_snapshot snap;
    if (engine_snapshot(en, &snap, &e)) {
        run_driver_say(driver, "bragg run", "%s", e.msg);
        engine_destroy(en);
        return EXIT_RUNTIME;
    }
    if (snap.state == RUN_FAILED)
        run_driver_say(driver, "bragg run", "%s (results so far are still written)", snap.error);
    else if (snap.state == RUN_CANCELLED)
        run_driver_say(driver, "bragg run",
                       "interrupted after %llu histories; writing partial results",
                       (unsigned long long)snap.result.histories);
    if (snap.state != RUN_DONE) status = interrupt_run_status(snap.state);
    if (csv && report_write_csv(en, &snap, csv, &e)) {
        run_driver_say(driver, "bragg run", "%s", e.msg);
        status = EXIT_RUNTIME;
    }
    if (map_file && dose_map_write_nrrd(engine_config(en), &snap, map_file, "--map", 0, &e)) {
        run_driver_say(driver, "bragg run", "%s", e.msg);
        status = EXIT_RUNTIME;
    }
    if (map_error &&
        dose_map_write_nrrd(engine_config(en), &snap, map_error, "--map-error", 1, &e)) {
        run_driver_say(driver, "bragg run", "%s", e.msg);
        status = EXIT_RUNTIME;
    }
    if (phase_space &&
        phase_space_write_mcpl(en, &snap, phase_space, "--phase-space", &e)) {
        run_driver_say(driver, "bragg run", "%s", e.msg);
        status = EXIT_RUNTIME;
    }
    if (json) {
        cJSON *root = report_build_json(en, &snap);
        int rc = root ? BRAGG_OK : bragg_fail(&e, "--json: out of memory");
        if (rc == BRAGG_OK)
            rc = report_add_map_outputs(root, &snap, map_file, profiles->cm, profiles->n, &e);
        if (rc == BRAGG_OK) {
            if (phase_space) {
                cJSON *ps = cJSON_AddObjectToObject(root, "phase_space");
                cJSON_AddStringToObject(ps, "file", phase_space);
                cJSON_AddNumberToObject(ps, "depth_cm", cfg.phase_space_depth_cm);
                cJSON_AddNumberToObject(ps, "particles", (double)engine_phase_space(en)->n);
            }
            rc = report_write_json_tree(root, json, &e);
        }
        cJSON_Delete(root);
        if (rc) {
            run_driver_say(driver, "bragg run", "%s", e.msg);
            status = EXIT_RUNTIME;
        }
    }
    if (plot_outputs_any(&figs) && write_figures(en, &snap, &figs, &e)) {
        /* Its path was checked before the run: a figure that cannot be written now (a full
         * disk) is a run-time failure, as a CSV or JSON that cannot be. */
        run_driver_say(driver, "bragg run", "%s", e.msg);
        status = EXIT_RUNTIME;
    }
    if (!quiet) {
        /* Data may be on stdout: then the summary goes to stderr. */
        int data_on_stdout = atomic_file_uses_stdout(uses, n_uses);
        report_print_summary(data_on_stdout ? stderr : stdout, en, &snap);
        report_print_profile(data_on_stdout ? stderr : stdout, &snap);
        if (driver && driver->note[0])
            fprintf(data_on_stdout ? stderr : stdout, "  %s\n", driver->note);
    }
    /* A write that failed stays a failure (exit 1) even after a signal: a full disk is not the
     * user's stop. One given up because of the signal (a FIFO nobody read) is, and main() says
     * 130 for it (atomic_file_cancelled), as for every command. */
    if (interrupt_requested() && status == EXIT_OK) {
        run_driver_say(driver, "bragg run",
                       "interrupted after the run; its outputs were written whole");
        status = EXIT_INTERRUPTED;
    }
    run_snapshot_free(&snap);
    engine_destroy(en);
    return status;
}
