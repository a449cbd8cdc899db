/*
 * cmd_bench.c - `bragg bench`: throughput of the transport on every backend and thread count
 * for a fixed set of named cases, and (with --component) the speed of the table lookups.
 *
 * Reports histories/s, steps per history, ns per step (per thread), speedup and parallel
 * efficiency against one thread, the relative error at the peak and the Monte Carlo figure of
 * merit FOM = 1 / (rel_err^2 * seconds), so a faster but noisier change cannot pass as a speed-up.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

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
    uint64_t histories;     /* default size, about a second per run on one core */
    int nuclear;            /* nuclear reactions on (the default of a run) */
} bench_case;

/* The same beam with and without nuclear reactions, first, so the cost of fragmentation is
 * read off one table. */
static const bench_case cases[] = {
    {"c12-400-water", "C-12", 400, {"water:inf"}, 40000, 1},
    {"c12-400-water-no-nuclear", "C-12", 400, {"water:inf"}, 40000, 0},
    {"p-150-water", "p", 150, {"water:inf"}, 40000, 1},
    {"he4-200-water", "He-4", 200, {"water:inf"}, 40000, 1},
    {"c12-290-bone-slab", "C-12", 290, {"water:5", "bone-cortical-icrp:2", "water:inf"}, 40000, 1},
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
    int threads;
    uint64_t histories;
    double seconds, hps, steps_per_history, ns_per_step, peak_err, fom, speedup, efficiency;
    double peak_rss_mb;    /* the process's peak resident memory so far */
} bench_row;

static int run_case(const bench_case *bc, const char *backend, int threads, uint64_t n,
                    int profile, bench_row *row, run_snapshot *keep, backend_device *device,
                    int *has_device, bragg_err *e)
{
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
        if (config_add_slab(&c, bc->slabs[i], e)) return BRAGG_ERR;
    engine *en;
    if (engine_create(&en, &c, e)) return BRAGG_ERR;
    if (engine_start(en, e)) {
        engine_destroy(en);
        return BRAGG_ERR;
    }
    int cancelled = 0;
    while (!engine_wait(en, 0.25))
        if (interrupt_requested() && !cancelled) {
            engine_cancel(en);
            cancelled = 1;
        }
    run_snapshot s;
    int rc = engine_snapshot(en, &s, e);
    if (rc == BRAGG_OK && s.state != RUN_DONE) {
        rc = bragg_fail(e, "%s", s.state == RUN_CANCELLED ? "interrupted; nothing written"
                                                            : s.error);
        run_snapshot_free(&s);
    }
    if (rc == BRAGG_OK) {
        memset(row, 0, sizeof *row);
        row->name = bc->name;
        row->backend = backend;
        row->threads = engine_threads(en);
        row->histories = s.result.histories;
        row->seconds = s.elapsed_s;
        row->hps = s.histories_per_s;
        row->steps_per_history = s.result.steps_per_history;
        row->ns_per_step = s.steps_per_s > 0 ? 1e9 * row->threads / s.steps_per_s : NAN;
        row->peak_err = s.result.peak_rel_err;
        row->fom = 1.0 / (row->peak_err * row->peak_err * row->seconds);
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        row->peak_rss_mb = ru.ru_maxrss / 1024.0;
        if (keep) *keep = s;
        else run_snapshot_free(&s);
        if (device) *has_device = engine_device(en, device);
    }
    engine_destroy(en);
    return rc;
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
        score_arrays a;
        if (score_arrays_init(&a, p.nbins, p.channels, e)) goto fail;
        score_sink sk = score_arrays_sink(&a);
        step_tally tally;
        step_tally_locate(&tally, &sk, 0, 1, 1, 0);
        tally.let_scale = 10.0 * LET_QUANTA / ENERGY_QUANTA_PER_MEV;
        tally.let_t_scale = 10.0 * LET_T_QUANTA;
        for (int c = 0; c < 4; c++) tally.lat_x[c] = tally.lat_y[c] = c == 0 ? 0.1 : c == 1 ? 4e-4 : 0.0;
        tally.lat_cap = 50.0;
        tally.lat_z0 = 0.0;
        tally.lat_inv_dz = 2.5;
        tally.z_per_path = 1.0;
        double t0 = now_s();
        long calls = 0;
        do {
            for (int i = 0; i < 4096; i++) {
                double z0 = 0.0037 * (i % 9000);
                score_step(&p, &sk, &tally, z0, z0 + 0.4, 0.4, 1 << 24);
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

int cmd_bench(int argc, char **argv)
{
    int component = 0, quick = 0, max_threads = 0;
    double scale = 1.0;
    const char *only = NULL, *json_path = NULL;
    plot_outputs figs = {{0}};
    const option_spec specs[] = {
        {"case", 'c', OPTION_STRING, &only, 0, 0, "NAME",
         "run one case: " CASE_NAMES, 0},
        {"scale", 0, OPTION_DOUBLE, &scale, 0.001, 1000, "F",
         "multiply the histories of every case (default 1)", 0},
        {"threads", 't', OPTION_INT, &max_threads, 0, 1024, "N",
         "largest OpenMP thread count (default all cores)", 0},
        {"quick", 0, OPTION_FLAG, &quick, 0, 0, 0, "only serial and all-core OpenMP", 0},
        {"component", 0, OPTION_FLAG, &component, 0, 0, 0,
         "also time the table lookups S(E), R(E), E(R)", 0},
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
    FILE *out = json_path && strcmp(json_path, "-") == 0 ? stderr : stdout;

    char cpu[256];
    int cores;
    report_machine(cpu, sizeof cpu, &cores);
    if (max_threads <= 0) max_threads = omp_get_num_procs();
    /* The figure is drawn from the same record --json writes (`bragg plot` of it gives the same). */
    cJSON *machine = NULL;
    cJSON *root = json_path || plot_outputs_any(&figs) ? report_bench_root(cpu, cores, &machine) : NULL;
    fprintf(out, "bragg %s bench on %s, %d cores (%s)\n", BRAGG_VERSION, cpu, cores, __VERSION__);

    int status = EXIT_OK, gpu_described = 0;
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

    fprintf(out, "%-24s %-7s %3s %10s %8s %11s %10s %9s %7s %6s %9s %10s %7s\n", "case",
            "backend", "thr", "histories", "time_s", "hist/s", "steps/hist", "ns/step", "speedup",
            "eff", "peak_err", "FOM", "RSS_MB");
    cJSON *rows = root ? cJSON_AddArrayToObject(root, "runs") : NULL;
    cJSON *profiles = root ? cJSON_AddArrayToObject(root, "profiles") : NULL;
    for (int c = 0; c < n_sel; c++) {
        const bench_case *bc = selected[c];
        uint64_t n = (uint64_t)(bc->histories * scale);
        if (n < 100) n = 100;
        double serial_hps = 0, one_thread_hps = 0, last_hps = 0, cuda_hps = 0;
        int counts[64], nc = 0;
        counts[nc++] = 0;   /* serial */
        for (int t = 1; t <= max_threads && nc < 63; t++)
            if (!quick || t == max_threads) counts[nc++] = t;
        counts[nc++] = -2;                /* the event loop on every thread */
        if (cuda_ok) counts[nc++] = -1;   /* the GPU, on a hundred times the histories */
        for (int k = 0; k < nc; k++) {
            bench_row row;
            backend_device dev;
            int has_device = 0;
            const char *be = counts[k] == 0    ? "serial"
                             : counts[k] == -1 ? "cuda"
                             : counts[k] == -2 ? "event"
                                               : "openmp";
            int threads = counts[k] == -1 ? 1 : counts[k] == -2 ? max_threads : counts[k];
            uint64_t histories = counts[k] == -1 ? 100 * n : n;
            if (run_case(bc, be, threads, histories, 0, &row, NULL, &dev, &has_device, &e)) {
                fprintf(stderr, "bragg bench: %s: %s\n", bc->name, e.msg);
                status = interrupt_requested() ? EXIT_INTERRUPTED : EXIT_RUNTIME;
                goto done;
            }
            if (counts[k] == 0) serial_hps = row.hps;
            if (counts[k] == 1) one_thread_hps = row.hps;
            double base = one_thread_hps > 0 ? one_thread_hps : serial_hps;
            row.speedup = base > 0 ? row.hps / base : NAN;
            /* Parallel efficiency: of CPU threads over one thread; not defined for the GPU. */
            row.efficiency = counts[k] != -1 ? row.speedup / row.threads : NAN;
            char eff[16];
            if (isfinite(row.efficiency)) snprintf(eff, sizeof eff, "%5.0f%%", 100 * row.efficiency);
            else snprintf(eff, sizeof eff, "%6s", "-");
            fprintf(out, "%-24s %-7s %3d %10llu %8.2f %11.0f %10.1f %9.1f %7.2f %s %8.3f%% "
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
                cJSON_AddNumberToObject(o, "figure_of_merit", row.fom);
                cJSON_AddNumberToObject(o, "peak_rss_MB", row.peak_rss_mb);
                cJSON_AddItemToArray(rows, o);
            }
            if (counts[k] == max_threads) last_hps = row.hps;
            if (counts[k] == -1) cuda_hps = row.hps;
        }
        /* The same run profiled: where the time goes, and what the timing costs; on the GPU
         * too (every particle timed, and each kernel). */
        for (int g = 0; g < 1 + cuda_ok; g++) {
            const char *be = g ? "cuda" : "openmp";
            bench_row prow;
            run_snapshot ps;
            backend_device dev;
            int has_device = 0;
            if (run_case(bc, be, g ? 1 : max_threads, g ? 100 * n : n, 1, &prow, &ps, &dev,
                         &has_device, &e)) {
                fprintf(stderr, "bragg bench: %s: %s\n", bc->name, e.msg);
                status = interrupt_requested() ? EXIT_INTERRUPTED : EXIT_RUNTIME;
                goto done;
            }
            double plain = g ? cuda_hps : last_hps;
            fprintf(out, "  profiled (%s, %d thread%s): %.0f histories/s, overhead %+.1f%%\n", be,
                    prow.threads, prow.threads == 1 ? "" : "s", prow.hps,
                    100 * (plain / prow.hps - 1));
            report_print_profile(out, &ps);
            if (has_device)
                for (int i = 0; i < dev.n_kernels; i++)
                    if (dev.kernel[i].timed)
                        fprintf(out, "    kernel %-16s %8.3f s\n", dev.kernel[i].name,
                                dev.kernel[i].seconds);
            if (rows) {
                cJSON *o = cJSON_CreateObject();
                cJSON_AddStringToObject(o, "case", bc->name);
                cJSON_AddStringToObject(o, "backend", be);
                cJSON_AddNumberToObject(o, "threads", prow.threads);
                cJSON_AddNumberToObject(o, "histories_per_s", prow.hps);
                cJSON_AddNumberToObject(o, "overhead", plain / prow.hps - 1);
                report_profile_json(o, &ps);
                if (has_device) cJSON_AddItemToObject(o, "device", report_device_json(&dev));
                cJSON_AddItemToArray(profiles, o);
            }
            run_snapshot_free(&ps);
        }
    }
done:
    if (root && !gpu_described) cJSON_AddNullToObject(machine, "gpu");
    if (root && plot_outputs_any(&figs) && status == EXIT_OK) {
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
            status = EXIT_USAGE;
        }
    }
    if (root && json_path && status == EXIT_OK) {
        char *text = cJSON_Print(root);
        atomic_file af;
        if (!text || atomic_file_open(&af, json_path, "--json", &e)) {
            fprintf(stderr, "bragg bench: %s\n", text ? e.msg : "out of memory");
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
