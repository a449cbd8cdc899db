/*
 * test_map.c - dose maps and phase space (issue 15): the map's lateral sum is the depth-dose
 * curve integer for integer (every channel, nuclear reactions on, protons and carbon, rz and
 * xz); the same map for any thread count and CPU backend; nothing scored without a map; the
 * NRRD file read back by an independent reader (numpy, tests/nrrd_check.py) against the JSON;
 * the MCPL file read back through the MCPL library, the same for any thread count and backend,
 * its protons at the energy NIST PSTAR's ranges give at that depth; bad input named.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "constants.h"
#include "engine.h"
#include "phase_space.h"
#include "refdata.h"
#include "run_file.h"
#include "testkit.h"

#ifdef BRAGG_MCPL
#include <mcpl.h>
#endif

TestSuite(map, .timeout = 240);

/* Runs histories [0, n) of c through the engine's backend: finished per-bin sums. */
static void run_sums(const run_config *c, uint64_t n, score_arrays *a, engine **keep)
{
    engine *en;
    bragg_err e;
    cr_assert(engine_create(&en, c, &e) == BRAGG_OK, "%s", e.msg);
    cr_assert(score_arrays_init(a, engine_params(en), &e) == BRAGG_OK, "%s", e.msg);
    cr_assert(engine_run_range(en, 0, n, a, &e) == BRAGG_OK, "%s", e.msg);
    cr_assert(a->histories == n);
    *keep = en;
}

/* Issue acceptance: every depth bin's lateral bins (the one beyond the grid included) add up to
 * the depth-dose of all channels exactly: p 150 MeV and C-12 200 MeV/u, nuclear reactions on
 * (point deposits of reactions, fragments), as rings and as x columns of a beam with a spot and
 * divergence; a small grid, so the bin beyond it is used too. */
Test(map, lateral_sum_is_the_depth_dose_integer_for_integer)
{
    static const struct {
        const char *ion;
        double energy;
        int kind;
        uint64_t n;
    } cases[] = {{"p", 150, MAP_RZ, 1500}, {"C-12", 200, MAP_RZ, 150},
                 {"p", 150, MAP_XZ, 1500}, {"C-12", 200, MAP_XZ, 150}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        run_config c = testkit_config(cases[k].ion, cases[k].energy, cases[k].n);
        c.map_kind = cases[k].kind;
        c.map_bin_cm = 0.02;
        c.map_radius_cm = 0.4;
        if (cases[k].kind == MAP_XZ) {
            c.spot_sigma_cm = 0.2;
            c.divergence_rad = 0.003;
        }
        score_arrays a;
        engine *en;
        run_sums(&c, cases[k].n, &a, &en);
        const transport_params *p = engine_params(en);
        cr_assert(p->map_bins == (cases[k].kind == MAP_RZ ? 21 : 41), "%d bins", p->map_bins);
        cr_assert(a.n_curves == CURVE_COUNT(p->channels) + p->map_bins);
        cr_assert(a.count[COUNT_REACTIONS] > 0, "reactions happened");
        int64_t beyond = 0, total = 0;
        int bad = -1;
        for (int i = 0; i < p->nbins; i++) {
            int64_t dose = 0, map = 0;
            for (int ch = 0; ch < p->channels; ch++) dose += score_curve(&a, CURVE_DOSE(ch))[i];
            dose += score_curve(&a, CURVE_DOSE_DT)[i];   /* channel 1's deuterons and tritons */
            for (int j = 0; j < p->map_bins; j++) map += score_curve(&a, CURVE_MAP(p->channels, j))[i];
            if (map != dose && bad < 0) bad = i;
            beyond += score_curve(&a, CURVE_MAP(p->channels, p->map_bins - 1))[i];
            total += dose;
        }
        cr_expect(bad < 0, "%s %g, %s map: depth bin %d differs", cases[k].ion, cases[k].energy,
                  cases[k].kind == MAP_RZ ? "rz" : "xz", bad);
        cr_expect(total > 0 && beyond > 0 && beyond < total / 2,
                  "the bin beyond the grid holds a part of the dose (%lld of %lld)",
                  (long long)beyond, (long long)total);
        score_arrays_free(&a);
        engine_destroy(en);
    }
}

/* Without --map nothing more is scored: no map curves, and the depth curves are the same
 * integers as with a map. */
Test(map, a_run_without_a_map_scores_no_map_and_the_same_curves)
{
    run_config c = testkit_config("C-12", 200, 100);
    score_arrays plain, mapped;
    engine *en_plain, *en_mapped;
    run_sums(&c, 100, &plain, &en_plain);
    c.map_kind = MAP_RZ;
    run_sums(&c, 100, &mapped, &en_mapped);
    const transport_params *p = engine_params(en_plain);
    cr_expect(p->map_bins == 0 && plain.n_curves == CURVE_COUNT(p->channels));
    size_t n = (size_t)plain.n_curves * ((size_t)plain.nbins + 1);
    size_t first_diff = n;
    for (size_t i = 0; i < n && first_diff == n; i++)
        if (plain.curves[i] != mapped.curves[i]) first_diff = i;
    cr_expect(first_diff == n, "curve %zu, bin %zu differs: %lld without a map, %lld with",
              first_diff / ((size_t)plain.nbins + 1), first_diff % ((size_t)plain.nbins + 1),
              first_diff < n ? (long long)plain.curves[first_diff] : 0LL,
              first_diff < n ? (long long)mapped.curves[first_diff] : 0LL);
    cr_expect(memcmp(plain.ledger, mapped.ledger, sizeof plain.ledger) == 0);
    score_arrays_free(&plain);
    score_arrays_free(&mapped);
    engine_destroy(en_plain);
    engine_destroy(en_mapped);
}

/* Issue acceptance: the same map, bit for bit, on 1 and 2 threads and on the openmp, event,
 * serial and simd backends (C-12, fragments). */
Test(map, the_same_map_on_any_thread_count_and_backend)
{
    static const struct {
        const char *backend;
        int threads;
    } runs[] = {{"openmp", 1}, {"openmp", 2}, {"event", 2}, {"event", 1}, {"serial", 1},
                {"simd", 2}};
    score_arrays ref;
    engine *ref_en = NULL;
    for (size_t k = 0; k < sizeof runs / sizeof runs[0]; k++) {
        run_config c = testkit_config("C-12", 200, 300);
        c.map_kind = MAP_RZ;
        snprintf(c.backend, sizeof c.backend, "%s", runs[k].backend);
        c.threads = runs[k].threads;
        score_arrays a;
        engine *en;
        run_sums(&c, 300, &a, &en);
        if (k == 0) {
            ref = a;
            ref_en = en;
            continue;
        }
        size_t n = (size_t)a.n_curves * ((size_t)a.nbins + 1);
        cr_expect(memcmp(ref.curves, a.curves, n * sizeof(int64_t)) == 0,
                  "%s on %d threads scores another map", runs[k].backend, runs[k].threads);
        score_arrays_free(&a);
        engine_destroy(en);
    }
    score_arrays_free(&ref);
    engine_destroy(ref_en);
}

/* The halo fraction's arithmetic on exact Gaussians: exp(-4.5) beyond 3 sigma in rings
 * (P(r > R) = exp(-R^2 / 2 sigma^2)), 2 (1 - Phi(3)) = 0.0027 beyond |x| = 3 sigma in columns;
 * the dose beyond the grid counts as halo; a core narrower than a bin is not told. */
Test(map, halo_fraction_of_a_gaussian_core)
{
    double row[400], w = 0.005, sigma = 0.2;
    for (int j = 0; j < 400; j++) {
        double r0 = j * w, r1 = r0 + w;
        /* Mean dose over ring j: its share of a unit 2-D Gaussian over its area. */
        double share = exp(-r0 * r0 / (2 * sigma * sigma)) - exp(-r1 * r1 / (2 * sigma * sigma));
        row[j] = share / (PI * (r1 * r1 - r0 * r0));
    }
    double f = score_halo_fraction(MAP_RZ, 400, w, row, 0.0, sigma);
    cr_expect(fabs(f / exp(-4.5) - 1) < 1e-3, "rings: %.6f, want %.6f", f, exp(-4.5));
    /* A halo of 5% of the dose beyond the grid: (0.0111 + 0.05) / 1.05. */
    f = score_halo_fraction(MAP_RZ, 400, w, row, 0.05 / 0.95 * 1.0, sigma);
    cr_expect(fabs(f - (exp(-4.5) * 0.95 + 0.05)) < 1e-4, "with a halo: %.6f", f);
    for (int j = 0; j < 400; j++) {
        double x0 = -1.0 + j * w, x1 = x0 + w;
        row[j] = 0.5 * (erf(x1 / (sigma * sqrt(2))) - erf(x0 / (sigma * sqrt(2)))) / w;
    }
    f = score_halo_fraction(MAP_XZ, 400, w, row, 0.0, sigma);
    cr_expect(fabs(f / 0.0026997961 - 1) < 1e-3, "columns: %.7f", f);
    cr_expect(isnan(score_halo_fraction(MAP_RZ, 400, w, row, 0.0, 0.004)), "sigma below a bin");
    cr_expect(isnan(score_halo_fraction(MAP_RZ, 400, w, row, 0.0, 0.7)), "3 sigma off the grid");
}

/* The result's map in dose: rings times their areas, plus the dose beyond the grid, give the
 * depth-dose curve; and without reactions the core's halo fraction is near a Gaussian's. */
Test(map, result_map_integrates_to_the_depth_dose_and_the_core_is_gaussian)
{
    run_config c = testkit_config("p", 150, 4000);
    c.nuclear = 0;
    c.map_kind = MAP_RZ;
    c.map_bin_cm = 0.01;
    c.map_radius_cm = 2;
    run_snapshot s = testkit_run(&c, NULL);
    const score_result *r = &s.result;
    cr_assert(r->map && r->map_bins == 200 && r->map_kind == MAP_RZ);
    double worst = 0, peak = 0;
    for (int i = 0; i < r->nbins; i++) peak = fmax(peak, r->dose[i]);
    for (int i = 0; i < r->nbins; i++) {
        double sum = r->map_beyond[i];
        for (int j = 0; j < r->map_bins; j++)
            sum += r->map[(size_t)i * r->map_bins + j] * PI * r->map_width * r->map_width *
                   (2 * j + 1);
        worst = fmax(worst, fabs(sum - r->dose[i]) / peak);
    }
    cr_expect(worst < 1e-12, "lateral integral vs depth-dose: %g", worst);
    /* 10-14 cm: sigma 1.5-2.8 mm, 15-28 bins. About 44 of the 4000 protons are beyond 3 sigma
     * at a depth, and the same ones at neighbouring depths: +-15%, and no better for the mean
     * over depths. A sanity check; the arithmetic is tested exactly above. */
    double sum = 0;
    int n = 0;
    for (int i = 1000; i < 1400; i++)
        if (isfinite(r->halo_fraction[i])) {
            sum += r->halo_fraction[i];
            n++;
        }
    cr_assert(n == 400, "halo fraction defined at %d of 400 depths", n);
    cr_expect(fabs(sum / n / exp(-4.5) - 1) < 0.4, "halo of a Gaussian core: %.4f", sum / n);
    cr_log_info("p 150 MeV, no reactions, 10-14 cm: halo fraction %.4f (Gaussian %.4f)", sum / n,
                exp(-4.5));
    run_snapshot_free(&s);
}

/* The automatic grid follows the range: p 5 MeV in water (PSTAR CSDA range 0.36 mm) had its
 * whole map in the first of the fixed grid's 0.5 mm rings, and no halo fraction anywhere (the
 * core's sigma under one ring). Now 200 rings over the first radius above a third of the range:
 * the core over 0.6-0.9 of the range is a Gaussian's, as for p 150 MeV above, and the dose
 * beyond the grid is nil without reactions. The same rule gives p 150 MeV 10 cm of rings. */
Test(map, the_automatic_grid_follows_the_range)
{
    run_config c = testkit_config("p", 5, 4000);
    c.nuclear = 0;
    c.map_kind = MAP_RZ;
    run_snapshot s = testkit_run(&c, NULL);
    const score_result *r = &s.result;
    cr_assert(r->map && r->map_bins == CONFIG_MAP_RINGS, "%d rings", r->map_bins);
    /* PSTAR's CSDA range of 5 MeV protons in water (density 1). */
    double range = ref_loglog(ref_load("pstar_water.tsv"), 0, 2, 5.0);
    cr_assert(range > 0, "5 MeV outside PSTAR's table");
    cr_expect(r->map_width * r->map_bins > range / 3 && r->map_width * r->map_bins < range,
              "the map's radius %g cm against the range %g cm", r->map_width * r->map_bins, range);
    double sum = 0, beyond = 0, total = 0;
    int n = 0, depths = 0;
    for (int i = 0; i < r->nbins; i++) {
        beyond += r->map_beyond[i];
        total += r->dose[i];
        double z = (i + 0.5) * r->bin_width;
        if (z < 0.6 * range || z > 0.9 * range) continue;
        depths++;
        if (isfinite(r->halo_fraction[i])) {
            sum += r->halo_fraction[i];
            n++;
        }
    }
    cr_assert(depths > 20 && n == depths, "halo fraction defined at %d of %d depths", n, depths);
    cr_expect(fabs(sum / n / exp(-4.5) - 1) < 0.4, "halo of a Gaussian core: %.4f", sum / n);
    cr_expect(beyond == 0, "dose beyond the grid: %g of %g", beyond, total);
    cr_log_info("p 5 MeV: %d rings of %g um, halo fraction %.4f over %d depths", r->map_bins,
                r->map_width * 1e4, sum / n, n);
    run_snapshot_free(&s);

    c = testkit_config("p", 150, 20);
    c.map_kind = MAP_RZ;
    engine *en;
    bragg_err e;
    cr_assert(engine_create(&en, &c, &e) == BRAGG_OK, "%s", e.msg);
    const transport_params *p = engine_params(en);
    cr_expect(p->map_bins == CONFIG_MAP_RINGS + 1 && fabs(p->map_inv_width - 20) < 1e-9,
              "p 150 MeV: %d rings of %g mm", p->map_bins - 1, 10 / p->map_inv_width);
    engine_destroy(en);

    /* Slabs 2 cm wide: rings past 1 cm would be partly outside the water, their dose read over
     * a mass that is not there (0.63 to 0.08 of the dose in 1.0-1.4 cm for a 1 cm spot). The
     * grid ends at the half-width, whole given bins wide. */
    c.spot_sigma_cm = 1;
    c.lateral_halfwidth_cm = 1;
    static const struct {
        int kind;
        double bin;
    } grids[] = {{MAP_RZ, 0}, {MAP_XZ, 0}, {MAP_RZ, 0.07}, {MAP_XZ, 0.07}, {MAP_RZ, 0.3}};
    for (size_t k = 0; k < sizeof grids / sizeof *grids; k++) {
        c.map_kind = grids[k].kind;
        c.map_bin_cm = grids[k].bin;
        cr_assert(engine_create(&en, &c, &e) == BRAGG_OK, "%s", e.msg);
        p = engine_params(en);
        double extent = (p->map_bins - 1) / p->map_inv_width / (c.map_kind == MAP_XZ ? 2 : 1);
        cr_expect(extent <= 1 + 1e-9 && extent > 1 - fmax(grids[k].bin, 1e-9),
                  "%s map with %g cm bins reaches %g cm in 2 cm wide slabs",
                  c.map_kind == MAP_XZ ? "xz" : "rz", grids[k].bin, extent);
        engine_destroy(en);
    }
}

/* --map-error: each cell's standard error, from the spread between one run's batches, against
 * the spread of the cell between independent runs (16 seeds, p 100 MeV in water, nuclear
 * reactions on, 0.5 mm rings to 2 cm, 2 mm depth bins). Pooled over the cells with dose in every
 * run and a relative error below 20% (where the mean is near normal), the seeds' variance over
 * the mean reported variance is 1 for a right estimate: each cell's seed variance has 15 degrees
 * of freedom (+-37%) and neighbouring cells share histories, so the pooled ratio is good to
 * about +-10%; the test takes 0.75 to 1.33. An error per batch instead of per run (sqrt(20) too
 * large) or per history gives 1/20 or 20. The halo fraction's error the same way, over the
 * depths where it is told: the halo at 1e-2 of the dose is a few wide-angle protons per batch,
 * whose heavy tail makes 16 seeds' variance scatter more (0.67-0.92 seen with 10-40 seeds):
 * 0.5 to 2. The same seeds give the same errors on 1 and 2 threads (integer sums per batch). */
Test(map, cell_errors_match_the_spread_between_seeds)
{
    enum { SEEDS = 16 };
    double *sum = NULL, *sum2 = NULL, *err2 = NULL, *hsum = NULL, *hsum2 = NULL, *herr2 = NULL;
    int *dosed = NULL, *told = NULL;
    size_t cells = 0;
    int nbins = 0;
    for (int s = 1; s <= SEEDS; s++) {
        run_config c = testkit_config("p", 100, 4000);
        c.seed = (uint64_t)s;
        c.bin_width_cm = 0.2;
        c.map_kind = MAP_RZ;
        c.map_bin_cm = 0.05;
        c.map_radius_cm = 2;
        c.map_errors = 1;
        c.threads = s == 1 ? 2 : 1;
        run_snapshot snap = testkit_run(&c, NULL);
        const score_result *r = &snap.result;
        cr_assert(r->map_err && r->halo_fraction_err, "no errors kept");
        if (s == 1) {
            nbins = r->nbins;
            cells = (size_t)nbins * r->map_bins;
            sum = calloc(3 * cells, sizeof *sum);
            sum2 = sum + cells;
            err2 = sum2 + cells;
            dosed = calloc(cells + (size_t)nbins, sizeof *dosed);
            told = dosed + cells;
            hsum = calloc(3 * (size_t)nbins, sizeof *hsum);
            hsum2 = hsum + nbins;
            herr2 = hsum2 + nbins;
            cr_assert(sum && dosed && hsum);
            /* Seed 1 again on one thread: the same errors. */
            c.threads = 1;
            run_snapshot again = testkit_run(&c, NULL);
            cr_expect(memcmp(again.result.map_err, r->map_err, cells * sizeof(double)) == 0,
                      "the errors differ on 1 and 2 threads");
            run_snapshot_free(&again);
        }
        cr_assert(r->nbins == nbins && (size_t)r->nbins * r->map_bins == cells);
        for (size_t k = 0; k < cells; k++) {
            double d = r->map[k], e = r->map_err[k];
            sum[k] += d;
            sum2[k] += d * d;
            err2[k] += e * e;
            dosed[k] += d > 0 && e < 0.2 * d;
        }
        for (int i = 0; i < nbins; i++) {
            double f = r->halo_fraction[i], e = r->halo_fraction_err[i];
            if (!isfinite(f) || !isfinite(e)) continue;
            hsum[i] += f;
            hsum2[i] += f * f;
            herr2[i] += e * e;
            told[i]++;
        }
        run_snapshot_free(&snap);
    }
    /* sum over the cells of the seeds' variance, and of the mean reported variance */
    double seen = 0, said = 0, hseen = 0, hsaid = 0;
    int used = 0, hused = 0;
    for (size_t k = 0; k < cells; k++) {
        if (dosed[k] < SEEDS) continue;
        double mean = sum[k] / SEEDS;
        seen += (sum2[k] - SEEDS * mean * mean) / (SEEDS - 1);
        said += err2[k] / SEEDS;
        used++;
    }
    for (int i = 0; i < nbins; i++) {
        if (told[i] < SEEDS) continue;
        double mean = hsum[i] / SEEDS;
        hseen += (hsum2[i] - SEEDS * mean * mean) / (SEEDS - 1);
        hsaid += herr2[i] / SEEDS;
        hused++;
    }
    cr_log_info("map errors: %d cells, seeds' variance / reported %.3f; halo fraction: %d depths, "
                "%.3f", used, seen / said, hused, hseen / hsaid);
    cr_assert(used > 100 && hused > 10, "%d cells and %d depths to compare", used, hused);
    cr_expect(seen / said > 0.75 && seen / said < 1.33,
              "cells: the seeds' variance is %.3f of the reported one", seen / said);
    cr_expect(hseen / hsaid > 0.5 && hseen / hsaid < 2,
              "halo fraction: the seeds' variance is %.3f of the reported one", hseen / hsaid);
    free(sum);
    free(dosed);
    free(hsum);
}

/* Issue acceptance: `bragg run --map` writes an NRRD file that an independent reader (numpy,
 * reading the header as the NRRD format says) finds consistent with the run's JSON: sizes,
 * bins, and a lateral integral equal to the depth-dose curve; rz and xz. */
Test(map, nrrd_read_back_by_numpy_matches_the_json)
{
    /* Debian's python3 is the one python3-numpy installs into. */
    const char *python = access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
    char dir[256], cmd[2048], out[8192];
    testkit_temp_dir(dir, sizeof dir, "map");
    snprintf(cmd, sizeof cmd, "%s -c 'import numpy'", python);
    cr_assert(testkit_shell(cmd, out, sizeof out) == 0,
              "numpy is missing (Debian: python3-numpy; make deps installs it): %s", out);
    static const char *const args[] = {
        "--ion p --energy 100 --material water -n 3000 --profile-at 5 --profile-at 7.5",
        "--ion C-12 --energy 150 --material water -n 200 --map-kind xz --map-radius 1.5 "
        "--map-bin 0.25 --spot 3 --divergence 2",
    };
    for (size_t k = 0; k < 2; k++) {
        /* The standard errors (--map-error) beside the first map. */
        char err_opt[320] = "", err_arg[320] = "";
        if (k == 0) {
            snprintf(err_opt, sizeof err_opt, "--map-error %s/e0.nrrd", dir);
            snprintf(err_arg, sizeof err_arg, "%s/e0.nrrd", dir);
        }
        snprintf(cmd, sizeof cmd, "run %s --map %s/m%zu.nrrd %s --json %s/r%zu.json -q", args[k],
                 dir, k, err_opt, dir, k);
        cr_assert(testkit_cli(cmd, out, sizeof out) == 0, "%s", out);
        /* The header's comment gives the energy in the run summary's unit (MeV for protons). */
        static const char *const beam[] = {"dose map of p 100 MeV in ",
                                           "dose map of C-12 150 MeV/u in "};
        char head[4096] = "";
        snprintf(cmd, sizeof cmd, "%s/m%zu.nrrd", dir, k);
        FILE *nf = fopen(cmd, "rb");
        cr_assert(nf);
        head[fread(head, 1, sizeof head - 1, nf)] = '\0';
        fclose(nf);
        cr_expect(strstr(head, beam[k]), "no '%s' in the NRRD header", beam[k]);
        snprintf(cmd, sizeof cmd, "%s %s/../nrrd_check.py %s/m%zu.nrrd %s/r%zu.json %s",
                 python, ref_dir(), dir, k, dir, k, err_arg);
        int rc = testkit_shell(cmd, out, sizeof out);
        cr_expect(rc == 0, "%s", out);
        cr_log_info("%s", out);
    }
    char path[512];
    snprintf(path, sizeof path, "%s/r0.json", dir);
    cJSON *run = testkit_read_json(path);
    cJSON *map = cJSON_GetObjectItem(run, "map");
    cr_assert(map);
    cJSON *file = cJSON_GetObjectItem(map, "file");
    cr_expect(cJSON_IsString(file) && strstr(file->valuestring, "m0.nrrd"));
    cJSON *profiles = cJSON_GetObjectItem(map, "profiles");
    cr_assert(cJSON_GetArraySize(profiles) == 2);
    cJSON *p1 = cJSON_GetArrayItem(profiles, 1);
    cr_expect(cJSON_GetObjectItem(p1, "depth_cm")->valuedouble == 7.5);
    /* The automatic grid: 200 rings. */
    cr_expect(cJSON_GetArraySize(cJSON_GetObjectItem(p1, "r_cm")) == CONFIG_MAP_RINGS);
    cr_expect(cJSON_GetArraySize(cJSON_GetObjectItem(p1, "dose")) == CONFIG_MAP_RINGS);
    cJSON *halo = cJSON_GetObjectItem(map, "halo");
    cr_expect(cJSON_IsString(cJSON_GetObjectItem(halo, "definition")));
    cJSON_Delete(run);
    testkit_remove_dir(dir);
}

Test(map, bad_map_and_phase_space_options_are_named)
{
    static const struct {
        const char *args, *needle;
    } cases[] = {
        {"--profile-at 5", "--profile-at: needs a dose map"},
        {"--map-bin 0.2", "--map-bin: needs a dose map"},
        {"--map-error e.nrrd", "--map-error: needs a dose map"},
        {"--map m.nrrd --map-kind polar", "none, rz or xz"},
        {"--map m.nrrd --map-kind none", "--map: the map kind is none"},
        {"--map m.nrrd --map-bin -1", "--map-bin"},
        {"--map m.nrrd --map-bin 0.01 --map-radius 100", "lateral bins is too many"},
        {"--map m.nrrd --map-radius 2 --lateral-halfwidth 1", "beyond the slabs' lateral half"},
        {"--map m.nrrd --profile-at 40", "--profile-at: 40 cm is out of range"},
        {"--phase-space p.mcpl", "needs --phase-space-depth"},
        {"--phase-space-depth 5", "needs --phase-space FILE"},
        {"--phase-space p.mcpl --phase-space-depth 50", "phase-space depth: 50 cm"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char args[512], out[4096];
        snprintf(args, sizeof args,
                 "run --ion p --energy 100 --material water -n 100 -q %s",
                 cases[k].args);
        int rc = testkit_cli(args, out, sizeof out);
        cr_expect(rc == 2, "'%s' exited %d, want 2: %s", cases[k].args, rc, out);
        cr_expect(strstr(out, cases[k].needle), "'%s' said '%s', want '%s'", cases[k].args, out,
                  cases[k].needle);
    }
}

/* The map's settings are run keys (src/engine/run_file.c): a run file sets them, the map's
 * file among the outputs; a setup with a map is written back with them (the workbench's
 * settings and exports), and a file with map-kind alone scores the map into the JSON. */
Test(map, run_files_carry_the_map)
{
    char dir[64], path[256], args[1024], out[8192];
    testkit_temp_dir(dir, sizeof dir, "maprunfile");
    snprintf(path, sizeof path, "%s/map.conf", dir);
    FILE *f = fopen(path, "w");
    cr_assert(f);
    fprintf(f, "ion = p\nenergy = 100\nmaterial = water\nhistories = 200\nmap-kind = xz\n"
               "map-bin = 1\nmap-radius = 2\nmap = %s/m.nrrd\njson = %s/r.json\n", dir, dir);
    fclose(f);
    snprintf(args, sizeof args, "run --config %s -q", path);
    cr_assert(testkit_cli(args, out, sizeof out) == 0, "%s", out);
    snprintf(path, sizeof path, "%s/r.json", dir);
    cJSON *run = testkit_read_json(path);
    const cJSON *map = cJSON_GetObjectItem(run, "map");
    const cJSON *kind = cJSON_GetObjectItem(map, "kind");
    const cJSON *bin = cJSON_GetObjectItem(map, "lateral_bin_cm");
    const cJSON *n = cJSON_GetObjectItem(map, "lateral_bins");
    cr_expect(cJSON_IsString(kind) && strcmp(kind->valuestring, "xz") == 0);
    cr_expect(cJSON_IsNumber(bin) && fabs(bin->valuedouble - 0.1) < 1e-12);
    cr_expect(cJSON_IsNumber(n) && n->valuedouble == 40, "%g", n ? n->valuedouble : -1);
    cJSON_Delete(run);
    snprintf(path, sizeof path, "%s/m.nrrd", dir);
    cr_expect(access(path, R_OK) == 0, "the run file's map = FILE wrote no map");

    /* Written back: the keys with their values in the options' units. */
    run_config c;
    config_default(&c);
    c.map_kind = MAP_XZ;
    c.map_bin_cm = 0.1;
    c.map_radius_cm = 2;
    char text[8192];
    int len = run_file_format(&c, NULL, text, sizeof text);
    cr_assert(len > 0 && len < (int)sizeof text);
    cr_expect(strstr(text, "map-kind                = xz\n") &&
                  strstr(text, "map-bin                 = 1 ") &&
                  strstr(text, "map-radius              = 2 "),
              "%s", text);
    config_default(&c);
    run_file_format(&c, NULL, text, sizeof text);
    cr_expect(strstr(text, "map-kind                = none\n"), "%s", text);
    cr_expect(!strstr(text, "phase-space-depth"), "no plane, no key: %s", text);

    /* map-kind alone (no map file): the map is scored and in the JSON, naming no file. */
    snprintf(args, sizeof args,
             "run --ion p --energy 100 --material water -n 100 -q --map-kind rz --json %s/k.json",
             dir);
    cr_assert(testkit_cli(args, out, sizeof out) == 0, "%s", out);
    snprintf(path, sizeof path, "%s/k.json", dir);
    run = testkit_read_json(path);
    map = cJSON_GetObjectItem(run, "map");
    kind = cJSON_GetObjectItem(map, "kind");
    cr_expect(cJSON_IsString(kind) && strcmp(kind->valuestring, "rz") == 0);
    cr_expect(!cJSON_IsString(cJSON_GetObjectItem(map, "file")));
    cJSON_Delete(run);
    testkit_remove_dir(dir);
}

/* The MCPL tests write files and read them back through libmcpl. A build without it (mcpl.h
 * not found) writes none: there they are skipped with the reason phase_space_available gives,
 * so that the summary counts them as skipped instead of leaving them out. */
static void skip_without_mcpl(void)
{
    char reason[256];
    if (!phase_space_available(reason, sizeof reason)) cr_skip_test("%s", reason);
}

/* PSTAR's kinetic energy for a CSDA range and the range for an energy (tests/reference). */
static double pstar_energy(double range_g_cm2)
{
    double T = ref_loglog(ref_load("pstar_water.tsv"), 2, 0, range_g_cm2);
    cr_assert(!isnan(T), "range %g outside PSTAR's table", range_g_cm2);
    return T;
}

static double pstar_range(double T)
{
    double r = ref_loglog(ref_load("pstar_water.tsv"), 0, 2, T);
    cr_assert(!isnan(r), "%g MeV outside PSTAR's table", T);
    return r;
}

/* Issue acceptance: the phase-space file, read back through the MCPL library's own reader:
 * as many particles as the JSON says, every one on the plane with a unit direction, a known
 * PDG code and weight 1; the file byte for byte the same on 1 and 2 threads and on the event
 * and simd backends (sorted by history and particle); C-12 with its fragments. */
Test(map, mcpl_round_trip_and_the_same_file_for_any_thread_count)
{
    skip_without_mcpl();
#ifdef BRAGG_MCPL
    char dir[256], cmd[1024], out[8192];
    testkit_temp_dir(dir, sizeof dir, "mcpl");
    static const char *const how[] = {"--threads 1", "--threads 2", "--backend event --threads 2",
                                      "--backend simd --threads 2"};
    for (int k = 0; k < 4; k++) {
        snprintf(cmd, sizeof cmd,
                 "run --ion C-12 --energy 200 --material water -n 300 -q %s --phase-space "
                 "%s/ps%d.mcpl --phase-space-depth 6 --json %s/r%d.json",
                 how[k], dir, k, dir, k);
        cr_assert(testkit_cli(cmd, out, sizeof out) == 0, "%s", out);
    }
    char path[512];
    size_t size0, size;
    snprintf(path, sizeof path, "%s/ps0.mcpl", dir);
    char *first = testkit_read_bytes(path, &size0);
    for (int k = 1; k < 4; k++) {
        snprintf(path, sizeof path, "%s/ps%d.mcpl", dir, k);
        char *other = testkit_read_bytes(path, &size);
        cr_expect(size == size0 && memcmp(first, other, size) == 0,
                  "%s differs from the single-thread file", how[k]);
        free(other);
    }
    /* Without a device a cuda run refuses, naming the backend (with one, the GPU's file is
     * compared in mcpl_file_on_the_gpu_is_the_cpu_file). */
    char reason[256];
    if (!testkit_cuda_available(reason, sizeof reason)) {
        snprintf(cmd, sizeof cmd,
                 "run --ion C-12 --energy 200 --material water -n 300 -q --backend cuda "
                 "--phase-space %s/ps_gpu.mcpl --phase-space-depth 6", dir);
        int rc = testkit_cli(cmd, out, sizeof out);
        cr_expect(rc != 0 && strstr(out, "cuda"), "no CUDA device (%s), yet: %s", reason, out);
    }
    free(first);
    snprintf(path, sizeof path, "%s/r0.json", dir);
    cJSON *run = testkit_read_json(path);
    double particles = cJSON_GetObjectItem(cJSON_GetObjectItem(run, "phase_space"),
                                           "particles")->valuedouble;
    cJSON_Delete(run);

    snprintf(path, sizeof path, "%s/ps0.mcpl", dir);
    mcpl_file_t f = mcpl_open_file(path);
    cr_expect(mcpl_hdr_nparticles(f) == (uint64_t)particles, "%llu particles, JSON says %g",
              (unsigned long long)mcpl_hdr_nparticles(f), particles);
    cr_expect(mcpl_hdr_has_userflags(f) && mcpl_hdr_has_doubleprec(f));
    cr_expect(mcpl_hdr_universal_weight(f) == 1.0);
    const mcpl_particle_t *q;
    uint64_t n = 0, carbon = 0, alphas = 0, protons = 0, backward = 0;
    uint32_t last_history = 0;
    int sorted = 1;
    while ((q = mcpl_read(f))) {
        n++;
        cr_assert(q->position[2] == 6.0, "z %.17g", q->position[2]);
        double norm = q->direction[0] * q->direction[0] + q->direction[1] * q->direction[1] +
                      q->direction[2] * q->direction[2];
        cr_assert(fabs(norm - 1) < 1e-12);
        cr_assert(q->ekin > 0 && q->ekin < 12 * 200.0 + 1, "%g MeV", q->ekin);
        carbon += q->pdgcode == 1000060120;
        alphas += q->pdgcode == 1000020040;
        protons += q->pdgcode == 2212;
        backward += q->direction[2] < 0;
        int Z = (q->pdgcode / 10000) % 1000, A = (q->pdgcode / 10) % 1000;
        cr_assert(q->pdgcode == 2212 || (q->pdgcode / 1000000000 == 1 && Z >= 1 && Z <= 6 &&
                                         A >= Z && A <= 12),
                  "PDG code %d", q->pdgcode);
        sorted &= q->userflags >= last_history;
        last_history = q->userflags;
    }
    mcpl_close_file(f);
    cr_expect(n == (uint64_t)particles);
    cr_expect(sorted, "particles sorted by history");
    /* 300 C-12 at 200 MeV/u (range 8.6 cm) cross 6 cm; about a fifth react before. */
    cr_expect(carbon > 200 && carbon < 300, "%llu carbon ions", (unsigned long long)carbon);
    cr_expect(alphas > 0 && protons > 0, "fragments cross too");
    cr_log_info("phase space at 6 cm: %llu particles, %llu C-12, %llu alpha, %llu p, %llu backward",
                (unsigned long long)n, (unsigned long long)carbon, (unsigned long long)alphas,
                (unsigned long long)protons, (unsigned long long)backward);
    testkit_remove_dir(dir);
#endif
}

/* The GPU's file is the CPU's, byte for byte (its crossings come back in any order and are
 * sorted the same way). Without a device nothing is compared, and the test says so as a skip
 * (with the reason), not as a pass. */
Test(map, mcpl_file_on_the_gpu_is_the_cpu_file)
{
    skip_without_mcpl();
    char reason[256];
    if (!testkit_cuda_available(reason, sizeof reason))
        cr_skip_test("the cuda backend's phase space not compared: %s", reason);
    char dir[256], cmd[1024], out[8192], path[512];
    testkit_temp_dir(dir, sizeof dir, "mcplgpu");
    static const char *const backend[2] = {"--threads 1", "--backend cuda"};
    char *file[2];
    size_t size[2];
    for (int k = 0; k < 2; k++) {
        snprintf(cmd, sizeof cmd,
                 "run --ion C-12 --energy 200 --material water -n 300 -q %s --phase-space "
                 "%s/ps%d.mcpl --phase-space-depth 6", backend[k], dir, k);
        cr_assert(testkit_cli(cmd, out, sizeof out) == 0, "%s: %s", backend[k], out);
        snprintf(path, sizeof path, "%s/ps%d.mcpl", dir, k);
        file[k] = testkit_read_bytes(path, &size[k]);
    }
    cr_expect(size[0] == size[1] && memcmp(file[0], file[1], size[0]) == 0,
              "the cuda backend's file differs from the single-thread one");
    free(file[0]);
    free(file[1]);
    testkit_remove_dir(dir);
}

/* The physics of the plane: 2000 protons of 150 MeV without reactions all cross 10 cm of
 * water forwards, once (plus a rare few that scatter back and forth near it), at the energy
 * whose PSTAR CSDA range is the rest of their range (NIST SRD 124; the detour of multiple
 * scattering and straggling move the mean by well under 1%). */
Test(map, protons_cross_the_plane_at_the_pstar_energy)
{
    run_config c = testkit_config("p", 150, 2000);
    c.nuclear = 0;
    c.phase_space_depth_cm = 10;
    engine *en;
    run_snapshot s = testkit_run(&c, &en);
    phase_space_list *l = engine_phase_space(en);
    cr_assert(l->lost == 0);
    cr_expect(l->n >= 2000 && l->n < 2010, "%zu crossings of 2000 protons", l->n);
    double sum = 0;
    size_t forward = 0;
    for (size_t i = 0; i < l->n; i++)
        if (l->p[i].w > 0) {
            sum += l->p[i].ekin;
            forward++;
        }
    double mean = sum / forward, want = pstar_energy(pstar_range(150) - 10.0);
    cr_expect(fabs(mean / want - 1) < 0.01, "mean %.3f MeV at 10 cm, PSTAR %.3f MeV", mean, want);
    cr_log_info("p 150 MeV at 10 cm: mean %.3f MeV, PSTAR %.3f MeV", mean, want);
    run_snapshot_free(&s);
    engine_destroy(en);
}

/* The MCPL header says how many histories the file holds and, for a run that ended early, how:
 * a failed run was said to be "(cancelled)", and the count was the progress counter's, not the
 * histories scored that the stderr message and the dose give. */
Test(map, the_mcpl_header_says_how_the_run_ended)
{
    skip_without_mcpl();
#ifdef BRAGG_MCPL
    char dir[256], path[1100];
    testkit_temp_dir(dir, sizeof dir, "mcplhdr");
    snprintf(path, sizeof path, "%s/ps.mcpl", dir);
    run_config c = testkit_config("p", 100, 200);
    c.phase_space_depth_cm = 5;
    engine *en;
    run_snapshot s = testkit_run(&c, &en);
    cr_assert(s.state == RUN_DONE && s.result.histories == 200);
    struct {
        run_state state;
        uint64_t histories, done;
        const char *want;
    } cases[] = {
        {RUN_DONE, 200, 200, "200 histories, seed"},
        {RUN_CANCELLED, 120, 150, "120 histories of 200 asked (cancelled), seed"},
        {RUN_FAILED, 80, 90, "80 histories of 200 asked (the run failed), seed"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        /* The snapshot of a run that ended so (the crossings stay those of the whole run). */
        run_snapshot ended = s;
        ended.state = cases[k].state;
        ended.result.histories = cases[k].histories;
        ended.histories_done = cases[k].done;
        bragg_err e = {{0}};
        cr_assert(phase_space_write_mcpl(en, &ended, path, "--phase-space", &e) == BRAGG_OK,
                  "%s", e.msg);
        mcpl_file_t f = mcpl_open_file(path);
        const char *said = mcpl_hdr_ncomments(f) > 0 ? mcpl_hdr_comment(f, 0) : "";
        cr_expect(strstr(said, cases[k].want), "%s: header says '%s'",
                  run_state_name(cases[k].state), said);
        cr_expect(strstr(said, "p 100 MeV in "), "protons' energy in MeV: '%s'", said);
        mcpl_close_file(f);
    }
    run_snapshot_free(&s);
    engine_destroy(en);
    testkit_remove_dir(dir);
#endif
}

#include "dose_map.h"

/* A depth typed on a bin edge fell into the bin below it or the one above, as binary rounding
 * had it: --profile-at 0.57 (0.1 mm bins) took the bin 0.56-0.57 but 0.3 took 0.30-0.31. Every
 * edge k w typed in decimal, for the bin widths bragg chooses, now lands in bin k, and every
 * depth inside a bin in that bin; the run's JSON profile says the same. */
Test(map, a_depth_on_a_bin_edge_lands_in_the_bin_that_starts_there)
{
    const int width_um[] = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000};
    for (size_t w = 0; w < sizeof width_um / sizeof width_um[0]; w++) {
        char text[64];
        /* The width as a run's JSON or NRRD gives it back: the decimal read as a double. */
        snprintf(text, sizeof text, "%d.%04d", width_um[w] / 10000, width_um[w] % 10000);
        dose_map m;
        memset(&m, 0, sizeof m);
        m.n_depth = 5000;
        m.depth_width = strtod(text, NULL);
        int wrong = 0, first = -1, first_half = 0;
        for (int k = 0; k < m.n_depth; k++) {
            /* The edge k w and the middle of bin k, written as one types them (in 0.1 um). */
            for (int half = 0; half < 2; half++) {
                long tenths = (long)k * width_um[w] * 10 + (half ? width_um[w] * 5 : 0);
                snprintf(text, sizeof text, "%ld.%05ld", tenths / 100000, tenths % 100000);
                if (dose_map_depth_bin(&m, strtod(text, NULL)) != k) {
                    if (first < 0) {
                        first = k;
                        first_half = half;
                    }
                    wrong++;
                }
            }
        }
        cr_expect(wrong == 0, "%d um bins: %d depths in the wrong bin (first: bin %d, %s)",
                  width_um[w], wrong, first, first_half ? "middle" : "edge");
    }
    char dir[256], args[1024], out[4096], path[512];
    testkit_temp_dir(dir, sizeof dir, "mapedge");
    snprintf(args, sizeof args,
             "run --ion p --energy 100 --material water -n 100 --bin 0.1 --map %s/m.nrrd "
             "--profile-at 0.57 --profile-at 0.3 --profile-at 0.565 --json %s/r.json -q", dir, dir);
    cr_assert(testkit_cli(args, out, sizeof out) == 0, "%s", out);
    snprintf(path, sizeof path, "%s/r.json", dir);
    cJSON *run = testkit_read_json(path);
    const cJSON *profiles = cJSON_GetObjectItem(cJSON_GetObjectItem(run, "map"), "profiles");
    const double want_from[3] = {0.57, 0.3, 0.56};
    cr_assert(cJSON_GetArraySize(profiles) == 3);
    for (int k = 0; k < 3; k++) {
        const cJSON *p = cJSON_GetArrayItem(profiles, k);
        double from = cJSON_GetObjectItem(p, "bin_from_cm")->valuedouble;
        cr_expect(fabs(from - want_from[k]) < 1e-9, "--profile-at %g: bin from %g cm, not %g",
                  cJSON_GetObjectItem(p, "depth_cm")->valuedouble, from, want_from[k]);
    }
    cJSON_Delete(run);
    testkit_remove_dir(dir);
}

/* The NRRD of a cancelled run said "70720 histories" as if that were the run: now, as the MCPL
 * header, it says how many were asked and how the run ended (cancelled or failed); a whole run
 * reads as before. */
Test(map, the_nrrd_header_says_how_the_run_ended)
{
    char dir[256], path[1100];
    testkit_temp_dir(dir, sizeof dir, "nrrdhdr");
    snprintf(path, sizeof path, "%s/m.nrrd", dir);
    run_config c = testkit_config("p", 100, 200);
    c.map_kind = MAP_RZ;
    engine *en;
    run_snapshot s = testkit_run(&c, &en);
    cr_assert(s.state == RUN_DONE && s.result.histories == 200);
    struct {
        run_state state;
        uint64_t histories;
        const char *want;
    } cases[] = {
        {RUN_DONE, 200, "200 histories, seed"},
        {RUN_CANCELLED, 120, "120 histories of 200 asked (cancelled), seed"},
        {RUN_FAILED, 80, "80 histories of 200 asked (the run failed), seed"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        run_snapshot ended = s;
        ended.state = cases[k].state;
        ended.result.histories = cases[k].histories;
        bragg_err e = {{0}};
        cr_assert(dose_map_write_nrrd(engine_config(en), &ended, path, "--map", 0, &e) == BRAGG_OK,
                  "%s", e.msg);
        char *text = testkit_read_text(path);
        const char *line = text ? strstr(text, "\n# bragg ") : NULL;
        char said[512] = "";
        if (line) snprintf(said, sizeof said, "%.*s", (int)strcspn(line + 1, "\n"), line + 1);
        cr_expect(strstr(said, cases[k].want) && strstr(said, "p 100 MeV in "), "%s: '%s'",
                  run_state_name(cases[k].state), said);
        free(text);
    }
    run_snapshot_free(&s);
    engine_destroy(en);
    testkit_remove_dir(dir);
}
