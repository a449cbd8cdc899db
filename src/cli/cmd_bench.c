/*
 * cmd_bench.c - `bragg bench`: throughput of the transport on every backend and thread count
 * for a fixed set of named cases, where a step's time goes on each backend (the same runs
 * profiled), and (with --component) the speed of the step's components alone.
 *
 * Reports histories/s, steps per history, ns per step (per thread), speedup and parallel
 * efficiency against one thread, the relative error at the peak and the Monte Carlo figure of
 * merit FOM = 1 / (rel_err^2 * seconds), in 1/s, so a faster but noisier change cannot pass as
 * a speed-up.
 *
 * Each row is sized by time, not by a count of histories: a short run measures the rate, and
 * the row is the run sized from it to last --seconds (1.5 s by default, times --scale). A fixed
 * count made rows that took seconds on one core last 0.1 s on sixteen, too short to measure
 * (start-up and the last straggling chunk dominate). --histories N fixes the count instead
 * (for instruction counts and runs to compare exactly). --floor PROGRAM runs the scalar
 * yardstick kernel (scripts/floor.c) beside the C-12 cases on the same threads and reports
 * bragg's rate as a multiple of it.
 *
 * Interrupted (Ctrl-C, SIGTERM, SIGHUP), it stops the row in flight, drops it, and writes the
 * rows done (and the figure of them) with "partial": true; exit 130.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <omp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "atomic_file.h"
#include "interrupt.h"
#include "backend.h"
#include "commands.h"
#include "engine.h"
#include "figures.h"
#include "options.h"
#include "report.h"
#include "tables.h"

typedef struct bench_case {
    const char *name, *ion;
    double energy;
    const char *slabs[4];   /* "material:thickness", NULL-terminated */
    int nuclear;            /* nuclear reactions on (the default of a run) */
    int floor_z, floor_a;   /* the yardstick kernel's ion for this case (0: no comparison) */
} bench_case;

/* The same beam with and without nuclear reactions, first, so the cost of fragmentation is
 * read off one table. The yardstick has no nuclear reactions: both C-12 cases are compared
 * with the same figure, as issue 14's target is stated. */
static const bench_case cases[] = {
    {"c12-400-water", "C-12", 400, {"water:inf"}, 1, 6, 12},
    {"c12-400-water-no-nuclear", "C-12", 400, {"water:inf"}, 0, 6, 12},
    {"p-150-water", "p", 150, {"water:inf"}, 1, 0, 0},
    {"he4-200-water", "He-4", 200, {"water:inf"}, 1, 0, 0},
    {"c12-290-bone-slab", "C-12", 290, {"water:5", "bone-cortical-icrp:2", "water:inf"}, 1, 0, 0},
};
#define CASE_NAMES "c12-400-water, c12-400-water-no-nuclear, p-150-water, he4-200-water, " \
                   "c12-290-bone-slab"
#define N_CASES (int)(sizeof cases / sizeof cases[0])

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

typedef struct bench_row {
    const char *name, *backend;
    const char *simd_path;   /* the vector path of a simd row, else NULL */
    int threads;
    uint64_t histories;
    double seconds, hps, steps_per_history, ns_per_step, peak_err, fom, speedup, efficiency;
    double peak_rss_mb;      /* the process's peak resident memory: during the row when */
    int rss_of_row;          /* this is 1 (rss_row), else so far */
} bench_row;

/* Whether the peak resident memory is the row's: Linux resets the process's high-water mark
 * (VmHWM) when "5" is written to /proc/self/clear_refs. Where that is refused, getrusage's
 * peak is the process's so far, which includes the rows before. Cleared by rss_reset. */
static int rss_row = 1;

static void rss_reset(void)
{
    FILE *f = rss_row ? fopen("/proc/self/clear_refs", "w") : NULL;
    int ok = f && fputs("5", f) >= 0;
    if (f && fclose(f) != 0) ok = 0;
    if (!ok) rss_row = 0;
}

/* The peak resident memory in MB: since rss_reset where it could reset it, else the process's. */
static double rss_peak_mb(void)
{
    FILE *f = rss_row ? fopen("/proc/self/status", "r") : NULL;
    if (f) {
        char line[256];
        double kb = -1;
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "VmHWM: %lf kB", &kb) == 1) break;
        fclose(f);
        if (kb >= 0) return kb / 1024.0;
        rss_row = 0;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024.0;
}

/* One run of a row: an exit status (interrupt_run_status), e saying why when not EXIT_OK. A
 * run stopped by a signal is dropped: a row is whole or not there. */
static int run_case(const bench_case *bc, const char *backend, int threads, uint64_t n,
                    int profile, bench_row *row, run_snapshot *keep, backend_device *device,
                    int *has_device, bragg_err *e)
{
    rss_reset();
    run_config c;
    config_default(&c);
    c.profile = profile;
    c.nuclear = bc->nuclear;
    snprintf(c.ion, sizeof c.ion, "%s", bc->ion);
    c.energy = bc->energy;
    c.histories = n;
    c.threads = threads;
    snprintf(c.backend, sizeof c.backend, "%s", backend);
    c.n_slabs = 0;
    for (int i = 0; i < 4 && bc->slabs[i]; i++)
        if (config_add_slab(&c, bc->slabs[i], e)) return EXIT_RUNTIME;
    engine *en;
    if (engine_create(&en, &c, e)) return EXIT_RUNTIME;
    if (engine_start(en, e)) {
        engine_destroy(en);
        return EXIT_RUNTIME;
    }
    interrupt_wait_run(en, NULL, NULL);
    run_snapshot s;
    if (engine_snapshot(en, &s, e)) {
        engine_destroy(en);
        return EXIT_RUNTIME;
    }
    int rc = interrupt_run_status(s.state);
    if (rc != EXIT_OK) {
        bragg_fail(e, "%s", rc == EXIT_INTERRUPTED ? "interrupted" : s.error);
        run_snapshot_free(&s);
    } else {
        memset(row, 0, sizeof *row);
        row->name = bc->name;
        row->backend = backend;
        row->simd_path = engine_vector_path(en);
        row->threads = engine_threads(en);
        row->histories = s.result.histories;
        row->seconds = s.elapsed_s;
        row->hps = s.histories_per_s;
        row->steps_per_history = s.result.steps_per_history;
        row->ns_per_step = s.steps_per_s > 0 ? 1e9 * row->threads / s.steps_per_s : NAN;
        row->peak_err = s.result.peak_rel_err;
        row->fom = 1.0 / (row->peak_err * row->peak_err * row->seconds);
        row->peak_rss_mb = rss_peak_mb();
        row->rss_of_row = rss_row;
        if (keep) *keep = s;
        else run_snapshot_free(&s);
        if (device) *has_device = engine_device(en, device);
    }
    engine_destroy(en);
    return rc;
}

/* How long a row should run: `seconds` (a first short run measures the rate), or a fixed count
 * of `histories` when that is not 0. */
typedef struct bench_size {
    double seconds;
    uint64_t histories;
} bench_size;

/* A run is accepted as the row once it lasts this share of the target: a rate measured on a
 * busy machine may be off by a third either way, and a fourth run costs more than it tells. */
#define ROW_ACCEPT 0.6
/* ... and at most this multiple of it: a first guess far off (32 threads on 2 cores, guessed
 * to scale with the threads, ran 1.17 s for 0.05) is run again at the size its rate gives. */
#define ROW_OVERSHOOT 2.0
/* The engine needs at least one history per batch. */
#define ROW_MIN_HISTORIES 100

/* run_case sized by `size`, starting from `start` histories: each run that is too short sizes
 * the next from its rate (at least twice, at most 50 times as many), one too long the next
 * from its rate alone. When the last try (the fifth) is still out of bounds, or a signal stops
 * a try, the shortest earlier run that lasted long enough is the row: on a busy machine a try
 * that overshot, run again smaller, could come out too short (0.018 s for 0.05). An exit
 * status, as run_case's; EXIT_INTERRUPTED without a row once a signal has come. */
static int run_sized(const bench_case *bc, const char *backend, int threads, const bench_size *size,
                     uint64_t start, int profile, bench_row *row, run_snapshot *keep,
                     backend_device *device, int *has_device, bragg_err *e)
{
    uint64_t n = size->histories ? size->histories : start;
    if (n < ROW_MIN_HISTORIES) n = ROW_MIN_HISTORIES;
    bench_row best;
    int have_best = 0;   /* only while no snapshot is kept: it would be another run's */
    for (int attempt = 0;; attempt++) {
        int rc = EXIT_INTERRUPTED;
        if (interrupt_requested()) bragg_fail(e, "interrupted");
        else rc = run_case(bc, backend, threads, n, profile, row, keep, device, has_device, e);
        if (rc == EXIT_INTERRUPTED && have_best) {
            *row = best;   /* whole; the next row stops the bench */
            return EXIT_OK;
        }
        if (rc != EXIT_OK || size->histories) return rc;   /* a fixed count: one run */
        int last = attempt == 4;
        int shorter = row->seconds < ROW_ACCEPT * size->seconds,
            longer = row->seconds > ROW_OVERSHOOT * size->seconds;
        if (!shorter && !longer) return EXIT_OK;
        if (!keep && !shorter && (!have_best || row->seconds < best.seconds)) {
            best = *row;
            have_best = 1;
        }
        if (last) {
            if (have_best) *row = best;
            return EXIT_OK;
        }
        if (keep) run_snapshot_free(keep);
        double rate = row->seconds > 1e-3 ? row->histories / row->seconds : 1000.0 * row->histories;
        double want = 1.1 * rate * size->seconds;
        if (longer) n = want < ROW_MIN_HISTORIES ? ROW_MIN_HISTORIES : (uint64_t)want;
        else n = want > 50.0 * n ? 50 * n : want < 2.0 * n ? 2 * n : (uint64_t)want;
    }
}

/* Whether a child's wait status says a stop signal ended it: killed by SIGINT, SIGTERM or
 * SIGHUP, or a shell that exited 128 + one of them for its child. Ctrl-C reaches the whole
 * foreground group: the yardstick and popen's shell with bragg. */
static int stopped_by_signal(int status)
{
    int sig = 0;
    if (WIFSIGNALED(status)) sig = WTERMSIG(status);
    else if (WIFEXITED(status) && WEXITSTATUS(status) > 128) sig = WEXITSTATUS(status) - 128;
    return sig == SIGINT || sig == SIGTERM || sig == SIGHUP;
}

/* The yardstick kernel (scripts/floor.c, its own program) on `threads` threads for about as long
 * as a row: EXIT_OK and its histories/s in *hps; EXIT_INTERRUPTED when a signal came (to bragg,
 * or one that stopped the yardstick: Ctrl-C); EXIT_RUNTIME when it cannot be run or its output
 * is not understood. */
static int run_floor(const char *program, const bench_case *bc, int threads,
                     const bench_size *size, long *histories_out, double *hps_out)
{
    long n = size->histories ? (long)size->histories : 2000;
    for (int attempt = 0; attempt < 5; attempt++) {
        if (interrupt_requested()) return EXIT_INTERRUPTED;
        char cmd[1200];
        snprintf(cmd, sizeof cmd, "'%s' %ld %d %d %d %g", program, n, threads, bc->floor_z,
                 bc->floor_a, bc->energy);
        FILE *f = popen(cmd, "r");
        if (!f) return EXIT_RUNTIME;
        char line[512] = "";
        double hps = NAN;
        while (fgets(line, sizeof line, f)) {
            long got;
            int th;
            if (sscanf(line, "floor: %ld histories, %d threads: %lf histories/s", &got, &th, &hps) != 3)
                hps = NAN;
        }
        int status = pclose(f);
        if (interrupt_requested() || (status != -1 && stopped_by_signal(status)))
            return EXIT_INTERRUPTED;
        if (status != 0 || !isfinite(hps) || hps <= 0) return EXIT_RUNTIME;
        *histories_out = n;
        *hps_out = hps;
        if (size->histories || n / hps >= ROW_ACCEPT * size->seconds) return EXIT_OK;
        double want = 1.1 * hps * size->seconds;
        n = want > 50.0 * n ? 50 * n : want < 2.0 * n ? 2 * n : (long)want;
    }
    return EXIT_RUNTIME;
}

/* --floor NAME without a slash, looked up in PATH as the shell looks up a command (an empty
 * entry is the current folder): the first executable file there is written to `path` and 1
 * returned; 0 when none is (or NAME has a slash: it is a path already). The full path is what
 * check_floor checks and run_floor runs, so that the two never disagree. */
static int find_on_path(const char *name, char *path, size_t len)
{
    const char *dirs = getenv("PATH");
    if (strchr(name, '/') || !*name || !dirs) return 0;
    for (const char *d = dirs;; d++) {
        const char *end = strchr(d, ':');
        size_t n = end ? (size_t)(end - d) : strlen(d);
        int w = snprintf(path, len, "%.*s/%s", (int)(n ? n : 1), n ? d : ".", name);
        struct stat st;
        if (w > 0 && (size_t)w < len && stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
            access(path, X_OK) == 0)
            return 1;
        if (!end) return 0;
        d = end;
    }
}

/* --floor, checked before any row: a program that runs and prints a rate (a probe of 100
 * histories on one thread), and a selection with a C-12 case to compare it with. A name
 * without a slash has been looked up in PATH (find_on_path); one still without a slash was not
 * found there. */
static int check_floor(const char *program, const bench_case *const *selected, int n_sel,
                       bragg_err *e)
{
    int compared = 0;
    for (int i = 0; i < n_sel; i++) compared |= selected[i]->floor_z != 0;
    if (!compared)
        return bragg_fail(e, "--floor: the yardstick runs beside the C-12 water cases only (valid "
                             "with --case c12-400-water or c12-400-water-no-nuclear, or no "
                             "--case)");
    if (!strchr(program, '/'))
        return bragg_fail(e, "--floor: %s is not a program on PATH (valid: the path of the "
                             "yardstick kernel that make bench builds, build/release/floor, or "
                             "its name on PATH)",
                          BRAGG_QUOTED(program));
    struct stat st;
    if (strchr(program, '\'') || stat(program, &st) != 0 || !S_ISREG(st.st_mode) ||
        access(program, X_OK) != 0)
        return bragg_fail(e, "--floor: %s is not an executable file (valid: the yardstick kernel "
                             "that make bench builds, build/release/floor)",
                          BRAGG_QUOTED(program));
    const bench_size probe = {.histories = 100, .seconds = 0.0};
    long n = 0;
    double hps;
    if (run_floor(program, selected[0]->floor_z ? selected[0] : &cases[0], 1, &probe, &n,
                  &hps) != EXIT_OK)
        return bragg_fail(e, "--floor: %s printed no rate (valid: the yardstick kernel that make "
                             "bench builds, build/release/floor)",
                          BRAGG_QUOTED(program));
    return BRAGG_OK;
}

/* Lookups per second of one table function over prepared inputs (one thread). */
static double lookup_rate(const transport_table *tab, const double *x, int n, int which)
{
    volatile double sink = 0;
    double t0 = now_s(), elapsed;
    long count = 0;
    do {
        double acc = 0;
        switch (which) {
        case 0: for (int i = 0; i < n; i++) acc += table_stopping(tab, x[i]); break;
        case 1: for (int i = 0; i < n; i++) acc += table_range(tab, x[i]); break;
        default: for (int i = 0; i < n; i++) acc += table_energy(tab, x[i]); break;
        }
        sink += acc;
        count += n;
        elapsed = now_s() - t0;
    } while (elapsed < 0.3);
    (void)sink;
    return count / elapsed;
}

static int bench_components(FILE *out, cJSON *json, bragg_err *e)
{
    catalog cat;
    if (catalog_load(&cat, e)) return BRAGG_ERR;
    transport_table tab;
    if (transport_table_build(&tab, ion_table_find(&cat.ions, "C-12"),
                              material_table_find(&cat.materials, "water"), cat.stopping,
                              stopping_switches_all(), e)) {
        catalog_free(&cat);
        return BRAGG_ERR;
    }
    enum { N = 1 << 16 };
    double *energies = malloc(N * sizeof *energies), *ranges = malloc(N * sizeof *ranges);
    rng r;
    rng_init(&r, 12345, 0, 0);
    for (int i = 0; i < N; i++) {
        energies[i] = exp(log(1.0) + rng_uniform(&r) * log(400.0));   /* 1-400 MeV/u */
        ranges[i] = table_range(&tab, energies[i]);
    }
    static const char *names[3] = {"stopping S(E)", "range R(E)", "energy E(R)"};
    static const char *keys[3] = {"stopping_lookups_per_s", "range_lookups_per_s",
                                  "energy_lookups_per_s"};
    fprintf(out, "table lookups, one thread (C-12 in water, 1-400 MeV/u, random order):\n");
    cJSON *comp = json ? cJSON_AddObjectToObject(json, "components") : NULL;
    for (int k = 0; k < 3; k++) {
        double rate = lookup_rate(&tab, k == 2 ? ranges : energies, N, k);
        fprintf(out, "  %-16s %8.1f M lookups/s  (%.2f ns each)\n", names[k], rate / 1e6,
                1e9 / rate);
        if (comp) cJSON_AddNumberToObject(comp, keys[k], rate);
    }
    free(energies);
    free(ranges);

    /* The other step components, each alone in a loop (calls per second, one thread). */
    fprintf(out, "step components alone, one thread:\n");
    double rate;
    {
        rng g;
        rng_init(&g, 1, 2, 0);
        volatile double sink = 0;
        double t0 = now_s(), acc = 0;
        long calls = 0;
        do {
            for (int i = 0; i < 4096; i++) {
                double a, b;
                rng_gauss2(&g, &a, &b);
                acc += a + b;
            }
            calls += 4096;
        } while (now_s() - t0 < 0.3);
        sink += acc;
        (void)sink;
        rate = calls / (now_s() - t0);
        fprintf(out, "  %-32s %8.1f M/s\n", "Gaussian pair (Philox+ziggurat)", rate / 1e6);
        if (comp) cJSON_AddNumberToObject(comp, "gaussian_pairs_per_s", rate);
    }
    {
        particle q = {0};
        q.w = 1.0;
        double e1[3], e2[3], acc = 0, t0 = now_s();
        volatile double sink = 0;
        long calls = 0;
        do {
            for (int i = 0; i < 4096; i++) {
                double th2 = highland_theta2(0.01 + 1e-6 * i, 1e-5);
                deflect(&q, 1e-3 * sqrt(th2), 2e-3, e1, e2);
                acc += q.u;
            }
            calls += 4096;
        } while (now_s() - t0 < 0.3);
        sink += acc;
        (void)sink;
        rate = calls / (now_s() - t0);
        fprintf(out, "  %-32s %8.1f M/s\n", "Highland width + deflection", rate / 1e6);
        if (comp) cJSON_AddNumberToObject(comp, "scattering_per_s", rate);
    }
    {
        transport_params p;
        memset(&p, 0, sizeof p);
        p.nbins = 4000;
        p.bin_width = 0.01;
        p.inv_bin_width = 100.0;
        p.channels = 8;
        p.n_slabs = 1;
        p.slabs[0].z_end = INFINITY;
        p.slabs[0].density = 1.0;
        transport_set_let_weights(&p);
        score_arrays a;
        if (score_arrays_init(&a, &p, e)) goto fail;
        score_sink sk = score_arrays_sink(&a);
        step_tally tally;
        memset(&tally, 0, sizeof tally);   /* no map, no phase space */
        step_tally_locate(&tally, &sk, 0, 1, 1, 1, 1, 0);
        tally.slab = &p.slabs[0];
        tally.let_scale = 10.0 * LET_QUANTA / ENERGY_QUANTA_PER_MEV;
        tally.let_t_scale = 10.0 * LET_T_QUANTA;
        for (int c = 0; c < 4; c++) tally.lat_x[c] = tally.lat_y[c] = c == 0 ? 0.1 : c == 1 ? 4e-4 : 0.0;
        tally.lat_cap = 50.0;
        tally.lat_quanta = LATERAL_QUANTA_PER_CM3;
        tally.lat_z0 = 0.0;
        tally.lat_inv_dz = 2.5;
        tally.z_per_path = 1.0;
        double t0 = now_s();
        long calls = 0;
        do {
            for (int i = 0; i < 4096; i++) {
                double z0 = 0.0037 * (i % 9000);
                score_step(&p, &sk, &tally, z0, z0 + 0.4, 0.4, 1 << 24, 0.02 * (1 << 24));
            }
            calls += 4096;
        } while (now_s() - t0 < 0.3);
        rate = calls / (now_s() - t0);
        score_arrays_free(&a);
        fprintf(out, "  %-32s %8.1f M/s\n", "scoring a 4 mm step (0.1 mm bins)", rate / 1e6);
        if (comp) cJSON_AddNumberToObject(comp, "scoring_per_s", rate);
    }
    transport_table_free(&tab);
    catalog_free(&cat);
    return BRAGG_OK;
fail:
    transport_table_free(&tab);
    catalog_free(&cat);
    return BRAGG_ERR;
}

/* The backends of a case's rows and profiles, in the order they run. */
enum { BE_SERIAL, BE_OPENMP, BE_EVENT, BE_SIMD, BE_CUDA, BE_COUNT };
static const char *const bench_backends[BE_COUNT] = {"serial", "openmp", "event", "simd", "cuda"};

/* A backend's plain row on all cores (serial: one thread; the GPU: its device), which its
 * profiled run is sized from and compared with; histories 0 until it has run. */
typedef struct plain_row {
    double hps;
    uint64_t histories;
} plain_row;

static int min_int(int a, int b)
{
    return a < b ? a : b;
}

int cmd_bench(int argc, char **argv)
{
    int component = 0, quick = 0, max_threads = 0;
    double scale = 1.0, seconds = 1.5;
    uint64_t fixed = 0;
    const char *only = NULL, *json_path = NULL, *floor_program = NULL;
    plot_outputs figs = {{0}};
    const option_spec specs[] = {
        {"case", 'c', OPTION_STRING, &only, 0, 0, "NAME",
         "run one case: " CASE_NAMES, 0},
        {"seconds", 0, OPTION_DOUBLE, &seconds, 0.001, 3600, "S",
         "run each row for about S seconds, sized by a short run first (default 1.5)", 0},
        {"scale", 0, OPTION_DOUBLE, &scale, 0.001, 1000, "F",
         "multiply the time of every row (default 1)", 0},
        {"histories", 'n', OPTION_COUNT, &fixed, 100, 1e12, "N",
         "run N histories in every row instead (the GPU row 100 N)", 0},
        {"threads", 't', OPTION_INT, &max_threads, 0, 1024, "N",
         "largest OpenMP thread count (default, and 0: all the cores available)", 0},
        {"quick", 0, OPTION_FLAG, &quick, 0, 0, 0,
         "only serial, and all cores on OpenMP, the event loop and the simd backend", 0},
        {"floor", 0, OPTION_STRING, &floor_program, 0, 0, "PROGRAM",
         "run the scalar yardstick kernel (scripts/floor.c, built by make bench) beside the C-12 "
         "cases and give bragg's rate as a multiple of it", 0},
        {"component", 0, OPTION_FLAG, &component, 0, 0, 0,
         "also time the step's components alone, on one thread: the table lookups S(E), R(E), "
         "E(R), Gaussian pairs, the scattering deflection and the scoring of a step", 0},
        {"json", 0, OPTION_STRING, &json_path, 0, 0, "FILE|-", "write the results as JSON", 0},
        FIGURE_OUTPUT_SPECS(&figs, 0, "the race (histories/s per backend and thread count)"),
        {0},
    };
    bragg_err e = {{0}};
    int help;
    if (option_parse(specs, argc, argv, &help, &e)) {
        fprintf(stderr, "bragg bench: %s\n", e.msg);
        return EXIT_USAGE;
    }
    if (help) {
        printf("usage: bragg bench [options]\n\nThroughput of every backend and thread count on "
               "named cases.\n\noptions:\n");
        option_print_help(stdout, specs);
        printf("\nexit status: 0 ok, 1 run-time failure, 2 bad input, 130 interrupted (the rows "
               "done are written, the JSON marked partial)\n");
        return EXIT_OK;
    }
    const bench_case *selected[N_CASES];
    int n_sel = 0;
    for (int i = 0; i < N_CASES; i++)
        if (!only || strcmp(only, cases[i].name) == 0) selected[n_sel++] = &cases[i];
    if (n_sel == 0) {
        fprintf(stderr, "bragg bench: --case: %s is not known (valid: " CASE_NAMES ")\n",
                BRAGG_QUOTED(only));
        return EXIT_USAGE;
    }
    if (plot_outputs_check(&figs, &e)) {
        fprintf(stderr, "bragg bench: %s\n", e.msg);
        return EXIT_USAGE;
    }
    if (json_path && atomic_file_check_path(json_path, "--json", &e)) {
        fprintf(stderr, "bragg bench: %s\n", e.msg);
        return EXIT_USAGE;
    }
    char floor_path[ATOMIC_FILE_PATH_MAX];
    if (floor_program && find_on_path(floor_program, floor_path, sizeof floor_path))
        floor_program = floor_path;
    file_use uses[2 + PLOT_FORMATS] = {{json_path, "--json", 0},
                                       {floor_program, "the --floor program", 1}};
    int n_uses = 2 + plot_outputs_uses(&figs, uses + 2);
    if (atomic_file_check_distinct(uses, n_uses, &e) ||
        (floor_program && check_floor(floor_program, selected, n_sel, &e))) {
        fprintf(stderr, "bragg bench: %s\n", e.msg);
        return EXIT_USAGE;
    }
    interrupt_begin_work();
    FILE *out = atomic_file_uses_stdout(uses, n_uses) ? stderr : stdout;

    char cpu[256];
    int cores;
    report_machine(cpu, sizeof cpu, &cores);
    if (cores < 1) cores = 1;
    if (max_threads <= 0) max_threads = cores;   /* the backends' own default (report_machine) */
    /* The figure is drawn from the same record --json writes (`bragg plot` of it gives the same). */
    cJSON *machine = NULL;
    cJSON *root = json_path || plot_outputs_any(&figs) ? report_bench_root(cpu, cores, &machine) : NULL;
    if (root) cJSON_AddFalseToObject(root, "partial");   /* true when interrupted */
    simd_path path;
    char simd_note[96];
    if (backend_simd_path(&path, &e)) {
        fprintf(stderr, "bragg bench: %s\n", e.msg);
        cJSON_Delete(root);
        return EXIT_USAGE;
    }
    snprintf(simd_note, sizeof simd_note, "SIMD %s (%d-bit), simd backend on the %s path",
             simd_cpu_name(), simd_cpu_bits(), simd_path_name(path));
    fprintf(out, "bragg %s bench on %s, %d core%s available, %s (%s)\n", BRAGG_VERSION, cpu, cores,
            cores == 1 ? "" : "s", simd_note, __VERSION__);
    bench_size size = {seconds * scale, fixed};
    if (fixed) fprintf(out, "rows of %llu histories\n", (unsigned long long)fixed);
    else fprintf(out, "rows sized to about %.2f s each by a short run first\n", size.seconds);
    if (root) {
        cJSON_AddStringToObject(machine, "simd_path", simd_path_name(path));
        cJSON *sizing = cJSON_AddObjectToObject(root, "sizing");
        if (fixed) {
            cJSON_AddNullToObject(sizing, "seconds_per_row");
            cJSON_AddNumberToObject(sizing, "histories_per_row", (double)fixed);
        } else {
            cJSON_AddNumberToObject(sizing, "seconds_per_row", size.seconds);
            cJSON_AddNullToObject(sizing, "histories_per_row");
        }
    }

    int status = EXIT_OK, gpu_described = 0, n_rows = 0, n_profiles = 0;
    char where[192] = "the component timings";   /* what ran when a signal stopped the bench */
    if (component && bench_components(out, root, &e)) {
        fprintf(stderr, "bragg bench: %s\n", e.msg);
        status = EXIT_RUNTIME;
        goto done;
    }

    backend *cuda = backend_new("cuda", &e);
    char reason[256] = "";
    int cuda_ok = cuda && cuda->available(reason, sizeof reason);
    if (cuda) {
        cuda->release(cuda);
        free(cuda);
    }
    fprintf(out, "CUDA: %s\n\n", cuda_ok ? "available" : reason);
    if (root) {
        cJSON *cu = cJSON_AddObjectToObject(root, "cuda");
        cJSON_AddBoolToObject(cu, "available", cuda_ok);
        cJSON_AddStringToObject(cu, "reason", cuda_ok ? "" : reason);
    }

    rss_reset();   /* finds out whether the rows' peak memory can be their own */
    fprintf(out, "ns/step/thr: per thread; FOM_1/s: 1/(peak_err^2 time_s); RSS_MB: the process's "
                 "peak resident memory %s\n",
            rss_row ? "during the row" : "so far (this system cannot reset it per row)");
    fprintf(out, "%-24s %-7s %3s %10s %8s %11s %10s %11s %7s %6s %9s %10s %7s\n", "case",
            "backend", "thr", "histories", "time_s", "hist/s", "steps/hist", "ns/step/thr",
            "speedup", "eff", "peak_err", "FOM_1/s", "RSS_MB");
    cJSON *rows = root ? cJSON_AddArrayToObject(root, "runs") : NULL;
    cJSON *profiles = root ? cJSON_AddArrayToObject(root, "profiles") : NULL;
    cJSON *floors = root && floor_program ? cJSON_AddArrayToObject(root, "floor") : NULL;
    for (int c = 0; c < n_sel; c++) {
        const bench_case *bc = selected[c];
        plain_row plain[BE_COUNT];
        memset(plain, 0, sizeof plain);
        double serial_hps = 0, one_thread_hps = 0;
        int counts[64], nc = 0;
        counts[nc++] = 0;   /* serial */
        /* The OpenMP rows: every thread count up to --threads; beyond 60 of them, 1, every
         * step-th and --threads itself (at most 60 in all). --threads must be there: its row is
         * the all-core one that the floor, the profile and the GPU's first guess read, and
         * --threads 100 once left it out and reported the profile's overhead as -100%. */
        int step = max_threads <= 60 ? 1 : (max_threads + 57) / 58;
        for (int t = 1; t <= max_threads; t++)
            if (quick ? t == max_threads : t == 1 || t == max_threads || t % step == 0)
                counts[nc++] = t;
        counts[nc++] = -2;                /* the event loop on every thread */
        counts[nc++] = -3;                /* the event loop with vector kernels on every thread */
        if (cuda_ok) counts[nc++] = -1;   /* the GPU */
        double prev_hps = 0;
        int prev_threads = 1;
        for (int k = 0; k < nc; k++) {
            bench_row row;
            backend_device dev;
            int has_device = 0;
            int be = counts[k] == 0    ? BE_SERIAL
                     : counts[k] == -1 ? BE_CUDA
                     : counts[k] == -2 ? BE_EVENT
                     : counts[k] == -3 ? BE_SIMD
                                       : BE_OPENMP;
            int threads = counts[k] == -1 ? 1 : counts[k] < 0 ? max_threads : counts[k];
            /* The first run of a row: a short one for the case's first row, else sized from
             * the last row's rate as if it scaled with the threads up to the cores (most rows
             * then take one run): beyond them it does not, and 32 threads on 2 cores, guessed
             * at 32 times the serial row's rate, ran 1.17 s for 0.05. The GPU's rate is not
             * guessed from the CPU's. */
            uint64_t start = 200;
            if (be == BE_CUDA) start = plain[BE_OPENMP].histories * 100;
            else if (prev_hps > 0)
                start = (uint64_t)(0.8 * prev_hps * min_int(threads, cores) /
                                   min_int(prev_threads, cores) * size.seconds);
            bench_size row_size = size;
            if (be == BE_CUDA && fixed) row_size.histories = 100 * fixed;
            int shown = threads > 0 ? threads : 1;   /* serial's 0: the backend's one */
            snprintf(where, sizeof where, "%s (%s, %d thread%s)", bc->name, bench_backends[be],
                     shown, shown == 1 ? "" : "s");
            int rc = run_sized(bc, bench_backends[be], threads, &row_size, start, 0, &row, NULL,
                               &dev, &has_device, &e);
            if (rc != EXIT_OK) {
                if (rc != EXIT_INTERRUPTED)
                    fprintf(stderr, "bragg bench: %s: %s\n", bc->name, e.msg);
                status = rc;
                goto done;
            }
            if (counts[k] == 0) serial_hps = row.hps;
            if (counts[k] == 1) one_thread_hps = row.hps;
            double base = one_thread_hps > 0 ? one_thread_hps : serial_hps;
            row.speedup = base > 0 ? row.hps / base : NAN;
            /* Parallel efficiency: of CPU threads over one thread; not defined for the GPU. */
            row.efficiency = be != BE_CUDA ? row.speedup / row.threads : NAN;
            char eff[16];
            if (isfinite(row.efficiency)) snprintf(eff, sizeof eff, "%5.0f%%", 100 * row.efficiency);
            else snprintf(eff, sizeof eff, "%6s", "-");
            fprintf(out, "%-24s %-7s %3d %10llu %8.2f %11.0f %10.1f %11.1f %7.2f %s %8.3f%% "
                         "%10.3g %7.1f\n",
                    row.name, row.backend, row.threads, (unsigned long long)row.histories,
                    row.seconds, row.hps, row.steps_per_history, row.ns_per_step, row.speedup,
                    eff, 100 * row.peak_err, row.fom, row.peak_rss_mb);
            if (has_device && !gpu_described) {
                fprintf(out, "  GPU: %s, %d SMs, compute %d.%d, driver CUDA %d.%d, runtime %d.%d\n",
                        dev.name, dev.sm_count, dev.cc_major, dev.cc_minor,
                        dev.driver_version / 1000, dev.driver_version % 1000 / 10,
                        dev.runtime_version / 1000, dev.runtime_version % 1000 / 10);
                for (int i = 0; i < dev.n_kernels; i++)
                    fprintf(out, "    kernel %-16s %4d registers, %5d bytes stack per thread\n",
                            dev.kernel[i].name, dev.kernel[i].registers, dev.kernel[i].stack_bytes);
                if (root) cJSON_AddItemToObject(machine, "gpu", report_device_json(&dev));
                gpu_described = 1;
            }
            fflush(out);
            if (rows) {
                cJSON *o = cJSON_CreateObject();
                cJSON_AddStringToObject(o, "case", row.name);
                cJSON_AddStringToObject(o, "backend", row.backend);
                if (row.simd_path) cJSON_AddStringToObject(o, "simd_path", row.simd_path);
                cJSON_AddNumberToObject(o, "threads", row.threads);
                cJSON_AddNumberToObject(o, "histories", (double)row.histories);
                cJSON_AddNumberToObject(o, "seconds", row.seconds);
                cJSON_AddNumberToObject(o, "histories_per_s", row.hps);
                cJSON_AddNumberToObject(o, "steps_per_history", row.steps_per_history);
                cJSON_AddNumberToObject(o, "ns_per_step_per_thread", row.ns_per_step);
                cJSON_AddNumberToObject(o, "speedup", row.speedup);
                if (isfinite(row.efficiency))
                    cJSON_AddNumberToObject(o, "parallel_efficiency", row.efficiency);
                else
                    cJSON_AddNullToObject(o, "parallel_efficiency");
                if (has_device) cJSON_AddItemToObject(o, "device", report_device_json(&dev));
                cJSON_AddNumberToObject(o, "peak_rel_err", row.peak_err);
                cJSON_AddNumberToObject(o, "figure_of_merit", row.fom);   /* 1/s */
                cJSON_AddNumberToObject(o, "peak_rss_MB", row.peak_rss_mb);
                /* true: the process's peak during this row; false: its peak so far. */
                cJSON_AddBoolToObject(o, "peak_rss_per_row", row.rss_of_row);
                cJSON_AddItemToArray(rows, o);
            }
            n_rows++;
            if (be != BE_OPENMP || counts[k] == max_threads) {
                plain[be].hps = row.hps;
                plain[be].histories = row.histories;
            }
            if (be != BE_CUDA) {
                prev_hps = row.hps;
                prev_threads = row.threads;
            }
        }
        /* The yardstick beside the all-core rows, on as many threads. */
        if (floor_program && bc->floor_z) {
            long floor_n = 0;
            double floor_hps = NAN;
            snprintf(where, sizeof where, "%s (the --floor yardstick, %d thread%s)", bc->name,
                     max_threads, max_threads == 1 ? "" : "s");
            int rc = run_floor(floor_program, bc, max_threads, &size, &floor_n, &floor_hps);
            if (rc == EXIT_INTERRUPTED) {
                status = rc;
                goto done;
            }
            if (rc != EXIT_OK) {
                fprintf(stderr, "bragg bench: --floor: %s did not run or printed no rate\n",
                        BRAGG_QUOTED(floor_program));
                status = EXIT_RUNTIME;
                goto done;
            }
            const double all_core[3] = {plain[BE_OPENMP].hps, plain[BE_EVENT].hps,
                                        plain[BE_SIMD].hps};
            fprintf(out, "  floor kernel, %d thread%s: %.0f histories/s (no nuclear reactions); "
                         "bragg as a multiple of it: openmp %.2f, event %.2f, simd %.2f\n",
                    max_threads, max_threads == 1 ? "" : "s", floor_hps, all_core[0] / floor_hps,
                    all_core[1] / floor_hps, all_core[2] / floor_hps);
            if (floors) {
                cJSON *o = cJSON_CreateObject();
                cJSON_AddStringToObject(o, "case", bc->name);
                cJSON_AddNumberToObject(o, "threads", max_threads);
                cJSON_AddNumberToObject(o, "histories", (double)floor_n);
                cJSON_AddNumberToObject(o, "histories_per_s", floor_hps);
                cJSON *ratio = cJSON_AddObjectToObject(o, "bragg_over_floor");
                for (int i = 0; i < 3; i++)
                    cJSON_AddNumberToObject(ratio, bench_backends[BE_OPENMP + i],
                                            all_core[i] / floor_hps);
                cJSON_AddItemToArray(floors, o);
            }
        }
        /* The same runs profiled, on every backend, as `bragg run --profile` can, each with as
         * many histories as its own plain row, so that the overhead compares like with like:
         * where the time goes, and what the timing costs. The GPU times every particle, and
         * each kernel. */
        for (int g = 0; g < BE_COUNT; g++) {
            if (!plain[g].histories) continue;   /* the GPU where there is none */
            const char *be = bench_backends[g];
            int threads = g == BE_SERIAL || g == BE_CUDA ? 1 : max_threads;
            bench_row prow;
            run_snapshot ps;
            backend_device dev;
            int has_device = 0;
            bench_size same = {0, plain[g].histories};
            snprintf(where, sizeof where, "%s (%s, %d thread%s, profiled)", bc->name, be, threads,
                     threads == 1 ? "" : "s");
            int rc = run_sized(bc, be, threads, &same, 0, 1, &prow, &ps, &dev, &has_device, &e);
            if (rc != EXIT_OK) {
                if (rc != EXIT_INTERRUPTED)
                    fprintf(stderr, "bragg bench: %s: %s\n", bc->name, e.msg);
                status = rc;
                goto done;
            }
            /* Against the plain row of the same backend, histories and threads. */
            double overhead = plain[g].hps > 0 && prow.hps > 0 ? plain[g].hps / prow.hps - 1 : NAN;
            char oh[32];
            if (isfinite(overhead)) snprintf(oh, sizeof oh, "%+.1f%%", 100 * overhead);
            else snprintf(oh, sizeof oh, "-");
            fprintf(out, "  profiled (%s, %d thread%s): %llu histories in %.2f s, %.0f "
                         "histories/s, overhead %s\n",
                    be, prow.threads, prow.threads == 1 ? "" : "s",
                    (unsigned long long)prow.histories, prow.seconds, prow.hps, oh);
            report_print_profile(out, &ps);
            if (has_device)
                for (int i = 0; i < dev.n_kernels; i++)
                    if (dev.kernel[i].timed)
                        fprintf(out, "    kernel %-16s %8.3f s\n", dev.kernel[i].name,
                                dev.kernel[i].seconds);
            fflush(out);
            if (profiles) {
                cJSON *o = cJSON_CreateObject();
                cJSON_AddStringToObject(o, "case", bc->name);
                cJSON_AddStringToObject(o, "backend", be);
                if (prow.simd_path) cJSON_AddStringToObject(o, "simd_path", prow.simd_path);
                cJSON_AddNumberToObject(o, "threads", prow.threads);
                cJSON_AddNumberToObject(o, "histories", (double)prow.histories);
                cJSON_AddNumberToObject(o, "seconds", prow.seconds);
                cJSON_AddNumberToObject(o, "histories_per_s", prow.hps);
                /* The plain row's rate over this one's, less 1: the plain row is the run of
                 * the same case, backend and threads in "runs". */
                if (isfinite(overhead)) cJSON_AddNumberToObject(o, "overhead", overhead);
                else cJSON_AddNullToObject(o, "overhead");
                report_profile_json(o, &ps);
                if (has_device) cJSON_AddItemToObject(o, "device", report_device_json(&dev));
                cJSON_AddItemToArray(profiles, o);
            }
            n_profiles++;
            run_snapshot_free(&ps);
        }
    }
done:
    if (root && !gpu_described) cJSON_AddNullToObject(machine, "gpu");
    /* Interrupted: the rows done are kept, the one in flight dropped, and the outputs are
     * written whole, the JSON marked partial, as bragg run's are. */
    int interrupted = status == EXIT_INTERRUPTED;
    if (interrupted) {
        fprintf(stderr, "bragg bench: interrupted in %s: %d row%s and %d profile%s done%s\n", where,
                n_rows, n_rows == 1 ? "" : "s", n_profiles, n_profiles == 1 ? "" : "s",
                root ? ", written marked partial" : "");
        if (root) cJSON_ReplaceItemInObject(root, "partial", cJSON_CreateTrue());
    }
    /* Every row ran, or the signal stopped them: each output is written, whatever became of
     * the other. A figure that cannot be written now (its path was checked before the rows: a
     * full disk) is a run-time failure, as the JSON's is. */
    int rows_done = status == EXIT_OK || interrupted;
    if (root && plot_outputs_any(&figs) && rows_done && n_rows == 0) {
        fprintf(stderr, "bragg bench: no row was done: no figure written\n");
    } else if (root && plot_outputs_any(&figs) && rows_done) {
        plot_figure fig;
        plot_style style;
        plot_style_default(&style);
        int rc = figures_from_bench(&fig, root, FIGURE_BENCH, NULL, &e);
        if (rc == BRAGG_OK) {
            rc = plot_outputs_write(&fig, &style, &figs, &e);
            plot_figure_free(&fig);
        }
        if (rc) {
            fprintf(stderr, "bragg bench: %s\n", e.msg);
            status = EXIT_RUNTIME;
        }
    }
    if (root && json_path && rows_done) {
        char *text = cJSON_Print(root);
        atomic_file af;
        if (!text || atomic_file_open(&af, json_path, "--json", &e)) {
            fprintf(stderr, "bragg bench: %s\n", text ? e.msg : "--json: out of memory");
            status = EXIT_RUNTIME;
        } else {
            fprintf(af.file, "%s\n", text);
            if (atomic_file_commit(&af, &e)) {
                fprintf(stderr, "bragg bench: %s\n", e.msg);
                status = EXIT_RUNTIME;
            }
        }
        cJSON_free(text);
    }
    cJSON_Delete(root);
    return status;
}
