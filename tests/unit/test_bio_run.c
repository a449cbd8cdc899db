/*
 * test_bio_run.c - biology in runs and SOBPs: the scored z1D* against the model along a beam,
 * bit-identical sums, `bragg run --bio` outputs and bad input, `bragg sobp --biological`
 * making the RBE-weighted dose flat for carbon and protons, and the proton models reading the
 * protons' own LET_d.
 */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "biology.h"
#include "refdata.h"
#include "sobp.h"
#include "testkit.h"

TestSuite(bio_run, .timeout = 300);

/* A bare C-12 beam (no straggling, scattering or reactions: every primary at the CSDA energy
 * of its depth) scores, in each bin, z1D* of that energy: the model evaluated here directly
 * on the run's own tables. This pins the per-step factor and its energy weighting: a z1D*
 * scored 10% off, or weighted by anything but the deposited energy, misses by far more than
 * the 1% allowed (the energy varies by under 1% across a 1 mm bin at these depths). */
Test(bio_run, scored_z1d_follows_the_model_along_a_carbon_beam)
{
    run_config c = testkit_config("C-12", 290, 400);
    c.straggling = c.scattering = c.nuclear = 0;
    c.bin_width_cm = 0.1;
    snprintf(c.bio_model, sizeof c.bio_model, "mkm");
    engine *en;
    run_snapshot s = testkit_run(&c, &en);
    bio_model m;
    bragg_err e;
    cr_assert(bio_model_load(&m, "mkm", NULL, 0, &e) == BRAGG_OK, "%s", e.msg);
    const transport_params *p = engine_params(en);
    const transport_table *tab = p->slabs[0].table[6];
    double R0 = table_range(tab, 290.0), worst = 0;
    const double depths[] = {1.0, 5.0, 10.0, 14.0, 15.5};
    for (int k = 0; k < 5; k++) {
        int i = (int)(depths[k] / c.bin_width_cm);
        double z = s.result.depth[i], t = table_energy(tab, R0 - p->slabs[0].density * z);
        double want = mkm_z1d_star(&m.cell, 6, t, table_stopping_el(tab, t) * 0.1);
        double got = s.result.z1d[i], dev = got / want - 1;
        cr_expect(fabs(dev) < 0.01, "%.2f cm (%.1f MeV/u): scored z1D* %.4g Gy, model %.4g Gy",
                  z, t, got, want);
        cr_expect(s.bio.nbins && fabs(s.bio.quality[i] - got) == 0);
        worst = fmax(worst, fabs(dev));
    }
    cr_log_info("scored z1D* vs the model along C-12 290 MeV/u: worst %.2f%%", 100 * worst);
    run_snapshot_free(&s);
    engine_destroy(en);
}

/* The z1D* sums are integers like the dose: the same bits for one thread or two, any batch
 * count and the history or the event loop, fragments and all. */
Test(bio_run, z1d_sums_do_not_depend_on_threads_batches_or_loop)
{
    run_config c = testkit_config("C-12", 150, 300);
    snprintf(c.bio_model, sizeof c.bio_model, "mkm");
    c.threads = 1;
    c.batches = 3;
    run_snapshot a = testkit_run(&c, NULL);
    const char *backends[] = {"openmp", "event"};
    for (int k = 0; k < 2; k++) {
        c.threads = 2;
        c.batches = 5;
        snprintf(c.backend, sizeof c.backend, "%s", backends[k]);
        run_snapshot b = testkit_run(&c, NULL);
        cr_assert(a.result.nbins == b.result.nbins);
        int differ = 0, scored = 0;
        for (int i = 0; i < a.result.nbins; i++) {
            if (!isfinite(a.result.z1d[i])) continue;
            scored += a.result.z1d[i] > 0;
            if (a.result.z1d[i] != b.result.z1d[i]) differ++;
        }
        cr_expect(scored > 100 && differ == 0, "%s: %d of %d bins differ", backends[k], differ,
                  scored);
        run_snapshot_free(&b);
    }
    run_snapshot_free(&a);
}

Test(bio_run, run_bio_writes_columns_and_rejects_bad_input)
{
    char dir[256], cmd[1024], out[8192];
    testkit_temp_dir(dir, sizeof dir, "bio");
    snprintf(cmd, sizeof cmd, "run --ion C-12 --energy 120 --material water -n 200 -q --bio mkm "
                              "--bio-dose 3 --alpha-beta 3 --csv %s/r.csv --json %s/r.json",
             dir, dir);
    cr_assert(testkit_cli(cmd, out, sizeof out) == 0, "%s", out);
    char path[512];
    snprintf(path, sizeof path, "%s/r.csv", dir);
    FILE *f = fopen(path, "r");
    cr_assert(f);
    char line[8192];
    cr_assert(fgets(line, sizeof line, f));
    fclose(f);
    cr_expect(strstr(line, ",z1d_Gy,z1d_err_Gy,alpha_Gy-1,beta_Gy-2,survival,survival_err,rbe,"
                           "rbe_err,rbe_weighted_dose_Gy,rbe_weighted_dose_err_Gy\n"),
              "%s", line);
    snprintf(path, sizeof path, "%s/r.json", dir);
    cJSON *root = testkit_read_json(path);
    cJSON *bio = cJSON_GetObjectItem(root, "biology");
    cr_assert(bio);
    cr_expect(strcmp(cJSON_GetObjectItem(bio, "cell_line")->valuestring, "HSG") == 0);
    cr_expect(cJSON_GetObjectItem(bio, "physical_dose_Gy")->valuedouble == 3);
    cr_expect(fabs(cJSON_GetObjectItem(bio, "alpha_beta_x_Gy")->valuedouble - 3) < 1e-12);
    cJSON *rbe = cJSON_GetObjectItem(cJSON_GetObjectItem(bio, "curves"), "rbe");
    cr_expect(cJSON_GetArraySize(rbe) > 10 && cJSON_IsNumber(cJSON_GetArrayItem(rbe, 0)));
    cJSON_Delete(root);
    /* The figure of a run with --bio. */
    snprintf(cmd, sizeof cmd, "plot %s/r.json --kind bio --png %s/r.png", dir, dir);
    cr_expect(testkit_cli(cmd, out, sizeof out) == 0, "%s", out);
    testkit_remove_dir(dir);

    const struct { const char *args, *needle; } bad[] = {
        {"run --ion p --energy 150 --material water --bio lem", "bio: 'lem' is not a known model"},
        {"run --ion p --energy 150 --material water --bio mkm --cell V99", "cell: 'V99'"},
        {"run --ion p --energy 150 --material water --bio mkm --alpha-beta 100",
         "--alpha-beta: 100 is out of range"},
        {"run --ion p --energy 150 --material water --bio-dose 0", "--bio-dose: 0 is out of range"},
        {"run --ion p --energy 150 --material water --cell HSG",
         "cell: needs a biological model (--bio MODEL"},
        {"sobp --ion p --material water --from 10 --to 12 --biological mkm", "--dose: missing"},
        {"sobp --ion p --material water --from 10 --to 12 --dose 2", "--dose: needs --biological"},
        {"run --ion p --energy 150 --material water --bio mkm",
         "mkm is an ion model (valid for --ion He-3 and heavier"},
        {"run --ion d --energy 100 --material water --bio mkm",
         "bio: no biological model covers deuterons (--ion d)"},
        {"sobp --ion t --material water --from 5 --to 6 --biological mcnamara --dose 2",
         "--biological: no biological model covers tritons (--ion t)"},
        /* sobp names its own options as typed (run's are --bio and the run file's fields). */
        {"sobp --ion C-12 --material water --from 10 --to 16 --biological lem --dose 2",
         "bragg sobp: --biological: 'lem' is not a known model (valid: mkm"},
        {"sobp --ion C-12 --material water --from 10 --to 16 --biological mkm --cell V79 "
         "--dose 2", "bragg sobp: --cell: 'V79' is not a known cell line (valid: HSG"},
        /* HSG's alpha0 = 0.172 and alpha_x = 0.313 Gy^-1, beta_x = 0.0615 Gy^-2 (Inaniwa et
         * al. 2010; Friedrich et al. 2013): alpha0 stays above 0 for (alpha/beta)x above
         * (0.313 - 0.172) / 0.0615 = 2.29 Gy. */
        {"sobp --ion C-12 --material water --from 10 --to 16 --biological mkm --alpha-beta 1 "
         "--dose 2", "bragg sobp: --alpha-beta: 1 Gy leaves the MKM's alpha0 <= 0 for HSG "
                     "(valid: above 2.29 Gy)"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        int rc = testkit_cli(bad[k].args, out, sizeof out);
        cr_expect(rc == 2, "'bragg %s' exited %d: %s", bad[k].args, rc, out);
        cr_expect(strstr(out, bad[k].needle), "'bragg %s' said '%s', want '%s'", bad[k].args, out,
                  bad[k].needle);
    }
}

static double item(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItem(o, name);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* Runs `bragg sobp ARGS --json DIR/s.json --png DIR/s.png` and returns the record. */
static cJSON *sobp(const char *args, char *dir, size_t len)
{
    char cmd[1024], out[8192];
    testkit_temp_dir(dir, len, "sobp");
    snprintf(cmd, sizeof cmd, "sobp %s -q --json %s/s.json --png %s/s.png", args, dir, dir);
    cr_assert(testkit_cli(cmd, out, sizeof out) == 0, "%s", out);
    char path[512];
    snprintf(path, sizeof path, "%s/s.json", dir);
    return testkit_read_json(path);
}

/* The field's quality in a bin must be the dose-weighted mean of the pristine beams'
 * qualities, sum f_k d_k q_k / sum f_k d_k (weights f as fractions): recomputed here from the
 * per-peak curves the record keeps. A fluence- or weight-averaged mix would be 10-60% off in
 * the plateau (the distal peaks carry high z1D* at low dose elsewhere). */
static void expect_dose_weighted_mix(const cJSON *root)
{
    const cJSON *peaks = cJSON_GetObjectItem(root, "peaks");
    const cJSON *q = cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(root, "biology"), "curves"), "quality");
    int K = cJSON_GetArraySize(peaks), n = cJSON_GetArraySize(q), checked = 0;
    double from = item(root, "from_cm"), to = item(root, "to_cm"), w = item(root, "bin_width_cm");
    for (int i = (int)(from / w); i < (int)(to / w); i += 7) {
        double num = 0, den = 0;
        for (int k = 0; k < K; k++) {
            const cJSON *p = cJSON_GetArrayItem(peaks, k);
            double f = item(p, "weight");
            double d = cJSON_GetArrayItem(cJSON_GetObjectItem(p, "dose_Gy_cm2"), i)->valuedouble;
            const cJSON *qk = cJSON_GetArrayItem(cJSON_GetObjectItem(p, "quality"), i);
            if (cJSON_IsNumber(qk)) num += f * d * qk->valuedouble;
            den += f * d;
        }
        double want = num / den, got = cJSON_GetArrayItem(q, i)->valuedouble;
        cr_expect(fabs(got / want - 1) < 1e-6, "bin %d: field quality %.6g, dose-weighted mix %.6g",
                  i, got, want);
        checked++;
    }
    cr_expect(checked >= 5 && n > 0);
}

/* Number i of a JSON array, NaN where null. */
static double at(const cJSON *a, int i)
{
    const cJSON *v = cJSON_GetArrayItem(a, i);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* The model's RBE-weighted dose at physical dose D and quality numerator N (quality N / D). */
static double rbe_dose_at(const bio_model *m, double D, double N)
{
    bio_point p;
    bio_evaluate(m, D > 0 ? N / D : 0, D > 0 ? D : 0, &p);
    return p.rbe_dose;
}

/* What the record's plateau is, recomputed from its pristine curves (dose, quality and their
 * errors), the fluences its weights are and the model, not read from what the record says of
 * itself. */
typedef struct rbe_plateau {
    int first, last;
    double dev;       /* largest |D_RBE / mean - 1| */
    double mean;      /* mean D_RBE, Gy (RBE) */
    double mean_err;  /* its statistical error */
    double max_rel;   /* largest relative error of a bin's D_RBE */
    int bad_errors;   /* errors (RBE-weighted dose, RBE, quality) of a bin not those recomputed */
    double worst;     /* the largest |reported / recomputed - 1| of one */
} rbe_plateau;

/*
 * In each bin the physical dose is D = sum_k F_k d_k and the quality numerator N = sum_k F_k
 * d_k q_k (F_k the fluence of beam k, d_k its dose per primary, q_k its quality), so the field's
 * quality is N / D, the dose-weighted mix (expect_dose_weighted_mix), and D_RBE = R(D, N) the
 * model's RBE-weighted dose there.
 *
 * Its statistical error, written out here from the definition and not from the program's
 * formula: the beams are independent runs, so their parts add in quadrature; within beam k the
 * dose and the quality are independent estimates. Beam k's dose moved by one standard error
 * s_k (its quality held) moves D by F_k s_k and N by F_k q_k s_k, together; its quality moved by
 * its standard error t_k moves N alone, by F_k d_k t_k. Each part is half the change of R
 * between the two signs (central differences over one standard error, the way a run's own
 * biological errors are made, src/engine/biodose.h):
 *   var D_RBE = sum_k [R(D + F_k s_k, N + F_k q_k s_k) - R(D - F_k s_k, N - F_k q_k s_k)]^2 / 4
 *             + [R(D, N + F_k d_k t_k) - R(D, N - F_k d_k t_k)]^2 / 4.
 * The covariance of D and N is inside the first term; the error the program once reported
 * treated D's and N's errors as independent, which left out sum_k F_k^2 q_k s_k^2 and came
 * out 20-30% below this (C-12, 10-16 cm, MKM; 23% in the carbon test below). The RBE, R / D,
 * and the quality, N / D, take the same two moves. The error of the plateau's mean adds the
 * bins' errors in quadrature, as if independent (neighbouring bins' noise is correlated, so it
 * is somewhat larger in truth).
 */
static rbe_plateau record_rbe_plateau(const cJSON *root, const bio_model *m)
{
    const cJSON *peaks = cJSON_GetObjectItem(root, "peaks");
    int K = cJSON_GetArraySize(peaks), n = cJSON_GetArraySize(cJSON_GetObjectItem(root,
                                                                                  "depth_cm"));
    rbe_plateau r = {0};
    sobp_plateau_bins(item(root, "from_cm"), item(root, "to_cm"), item(root, "bin_width_cm"), n,
                      &r.first, &r.last);
    cr_assert(K > 0 && r.first <= r.last && r.last < n);
    /* The program's errors take derivatives where these take differences over one standard
     * error: the two differ in the second order of a beam's relative error, a fraction of a
     * per cent of the dose (6e-5 of the error at most for C-12 in 10-16 cm, 1000 histories),
     * so 1e-3 leaves room for that and nothing else. */
    const cJSON *curves = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "biology"), "curves");
    const cJSON *reported = cJSON_GetObjectItem(curves, "rbe_weighted_dose_err_Gy");
    const cJSON *reported_rbe = cJSON_GetObjectItem(curves, "rbe_err");
    const cJSON *reported_q = cJSON_GetObjectItem(curves, "quality_err");
    double *rd = calloc((size_t)n, sizeof *rd), var_sum = 0;
    cr_assert(rd);
    for (int i = r.first; i <= r.last; i++) {
        double D = 0, N = 0;
        for (int k = 0; k < K; k++) {
            const cJSON *pk = cJSON_GetArrayItem(peaks, k);
            double F = item(pk, "fluence_per_cm2");
            double d = at(cJSON_GetObjectItem(pk, "dose_Gy_cm2"), i);
            double q = at(cJSON_GetObjectItem(pk, "quality"), i);
            D += F * d;
            if (isfinite(q)) N += F * d * q;
        }
        cr_assert(D > 0, "no dose in plateau bin %d", i);
        double var = 0, var_rbe = 0, var_q = 0;
        for (int k = 0; k < K; k++) {
            const cJSON *pk = cJSON_GetArrayItem(peaks, k);
            double F = item(pk, "fluence_per_cm2");
            double d = at(cJSON_GetObjectItem(pk, "dose_Gy_cm2"), i);
            double s = F * at(cJSON_GetObjectItem(pk, "dose_err_Gy_cm2"), i);
            double q = at(cJSON_GetObjectItem(pk, "quality"), i);
            double t = F * d * at(cJSON_GetObjectItem(pk, "quality_err"), i);
            if (!isfinite(q)) q = 0;
            if (!isfinite(t)) t = 0;
            double by_dose =
                0.5 * (rbe_dose_at(m, D + s, N + q * s) - rbe_dose_at(m, D - s, N - q * s));
            double by_quality = 0.5 * (rbe_dose_at(m, D, N + t) - rbe_dose_at(m, D, N - t));
            var += by_dose * by_dose + by_quality * by_quality;
            /* The RBE, R / D, and the quality, N / D, the same way. */
            by_dose = 0.5 * (rbe_dose_at(m, D + s, N + q * s) / (D + s) -
                             rbe_dose_at(m, D - s, N - q * s) / (D - s));
            by_quality = 0.5 * (rbe_dose_at(m, D, N + t) - rbe_dose_at(m, D, N - t)) / D;
            var_rbe += by_dose * by_dose + by_quality * by_quality;
            by_dose = 0.5 * ((N + q * s) / (D + s) - (N - q * s) / (D - s));
            by_quality = t / D;
            var_q += by_dose * by_dose + by_quality * by_quality;
        }
        const double want[3] = {sqrt(var), sqrt(var_rbe), sqrt(var_q)};
        const cJSON *const has[3] = {reported, reported_rbe, reported_q};
        for (int c = 0; c < 3; c++) {
            double off = fabs(at(has[c], i) / want[c] - 1);
            r.worst = fmax(r.worst, isfinite(off) ? off : INFINITY);
            r.bad_errors += !(off < 1e-3);
        }
        rd[i] = rbe_dose_at(m, D, N);
        r.mean += rd[i] / (r.last - r.first + 1);
        var_sum += var;
        r.max_rel = fmax(r.max_rel, want[0] / rd[i]);
    }
    r.mean_err = sqrt(var_sum) / (r.last - r.first + 1);
    for (int i = r.first; i <= r.last; i++) r.dev = fmax(r.dev, fabs(rd[i] / r.mean - 1));
    free(rd);
    return r;
}

/* What record_rbe_plateau recomputes, held against what the record reports: the fitted curves'
 * largest deviation must be the record's max_deviation_fit, every plateau bin's error the one
 * derived there (and the largest relative one plateau_max_rel_err), and the expected deviation
 * (the refits', src/engine/sobp.h) not below the fitted curves' own (why: test_sobp.c,
 * carbon_10_to_15_cm_in_water_is_flat_within_3_percent). Then the largest deviation plus twice
 * the largest error must stay within 3%. */
static rbe_plateau expect_rbe_flat(const cJSON *root, const char *model, double alpha_beta,
                                   double err_max, const char *what)
{
    bio_model m;
    bragg_err e;
    cr_assert(bio_model_load(&m, model, NULL, alpha_beta, &e) == BRAGG_OK, "%s", e.msg);
    const cJSON *bio = cJSON_GetObjectItem(root, "biology");
    cr_expect(item(bio, "alpha_x_Gy-1") == m.cell.alpha_x &&
              item(bio, "beta_x_Gy-2") == m.cell.beta_x, "%s: the record's cell is not %s's",
              what, model);
    rbe_plateau r = record_rbe_plateau(root, &m);
    double dev = item(root, "max_deviation"), err = item(root, "plateau_max_rel_err");
    cr_expect(fabs(item(root, "max_deviation_fit") - r.dev) <= 1e-9 * r.dev,
              "%s: the record says its fitted curves deviate by %.6f%%, they deviate by %.6f%%",
              what, 100 * item(root, "max_deviation_fit"), 100 * r.dev);
    cr_expect(r.bad_errors == 0, "%s: %d errors of plateau bins (RBE-weighted dose, RBE, "
              "quality) are not the beam-by-beam propagation (worst off by %.2f%%)", what,
              r.bad_errors, 100 * r.worst);
    cr_expect(fabs(err / r.max_rel - 1) < 1e-3, "%s: the record's largest error %.4f%%, its "
              "curves give %.4f%%", what, 100 * err, 100 * r.max_rel);
    cr_expect(err < err_max, "%s: largest plateau error %.2f%%", what, 100 * err);
    cr_expect(dev >= r.dev, "%s: expected deviation %.3f%% below the fitted curves' own %.3f%%",
              what, 100 * dev, 100 * r.dev);
    cr_expect(fmax(dev, r.dev) + 2 * err <= 0.03,
              "%s: largest deviation %.2f%% (fitted curves %.2f%%) + 2 x error %.2f%% exceeds 3%%",
              what, 100 * dev, 100 * r.dev, 100 * err);
    cr_log_info("%s: expected deviation %.3f%%, fitted curves' %.3f%%, largest error %.3f%%, "
                "errors within %.1e of the propagation", what, 100 * dev, 100 * r.dev, 100 * err,
                r.worst);
    return r;
}

/* Issue acceptance: C-12 in water, 10-15 cm, RBE-weighted dose (MKM, HSG) flat within +-3%,
 * the physical dose falling towards the distal end as clinical carbon SOBPs do (HIMAC's
 * design: Kanai et al. 1999), the RBE rising with depth. As in the physical test (test_sobp.c)
 * the largest deviation the field is expected to have, checked against the one recomputed from
 * the record's curves (expect_rbe_flat), plus twice the largest statistical error of a bin
 * must stay within 3%. 8000 histories per energy: at 4000, with the errors propagated beam by
 * beam, the sum was 1.25% + 2 x 0.87% = 2.97%, a margin any change of random draws could take;
 * at 8000 it is 0.98% + 2 x 0.63% = 2.24%. */
Test(bio_run, carbon_sobp_is_biologically_flat_and_physically_falling)
{
    char dir[256];
    cJSON *root = sobp("--ion C-12 --material water --from 10 --to 15 -n 8000 --biological mkm "
                       "--dose 3", dir, sizeof dir);
    rbe_plateau r = expect_rbe_flat(root, "mkm", 0, 0.012, "C-12 biological SOBP");
    const cJSON *bio = cJSON_GetObjectItem(root, "biology");
    cr_expect(fabs(r.mean - 3) <= r.mean_err, "plateau mean %.5f Gy (RBE) +- %.5f for 3", r.mean,
              r.mean_err);
    cr_expect(fabs(item(bio, "plateau_rbe_weighted_dose_Gy") / r.mean - 1) < 1e-9);
    const cJSON *cv = cJSON_GetObjectItem(bio, "curves");
    const cJSON *phys = cJSON_GetObjectItem(cv, "physical_dose_Gy");
    const cJSON *rbe = cJSON_GetObjectItem(cv, "rbe");
    /* Mean of the first and last centimetre of the target (bins of 1 mm). */
    double p0 = 0, p1 = 0, r0 = 0, r1 = 0;
    for (int i = 100; i < 110; i++) {
        p0 += cJSON_GetArrayItem(phys, i)->valuedouble / 10;
        r0 += cJSON_GetArrayItem(rbe, i)->valuedouble / 10;
    }
    for (int i = 140; i < 150; i++) {
        p1 += cJSON_GetArrayItem(phys, i)->valuedouble / 10;
        r1 += cJSON_GetArrayItem(rbe, i)->valuedouble / 10;
    }
    cr_expect(p1 < 0.85 * p0, "physical dose %.3f Gy proximal, %.3f Gy distal: not falling", p0, p1);
    cr_expect(r1 > 1.3 * r0, "RBE %.3f proximal, %.3f distal", r0, r1);
    cr_log_info("C-12 biological SOBP: physical %.3f -> %.3f Gy, RBE %.3f -> %.3f", p0, p1, r0,
                r1);
    expect_dose_weighted_mix(root);
    cJSON_Delete(root);
    testkit_remove_dir(dir);
}

/* Protons, 10-15 cm, McNamara's RBE for (alpha/beta)x = 2 Gy: flat within +-3% too. */
Test(bio_run, proton_sobp_is_biologically_flat)
{
    char dir[256];
    cJSON *root = sobp("--ion p --material water --from 10 --to 15 -n 4000 --biological mcnamara "
                       "--alpha-beta 2 --dose 2", dir, sizeof dir);
    expect_rbe_flat(root, "mcnamara", 2, 0.012, "proton biological SOBP");
    expect_dose_weighted_mix(root);
    /* bragg plot draws the record as the SOBP figure. */
    char cmd[1024], out[4096];
    snprintf(cmd, sizeof cmd, "plot %s/s.json --png %s/again.png", dir, dir);
    cr_expect(testkit_cli(cmd, out, sizeof out) == 0, "%s", out);
    cJSON_Delete(root);
    testkit_remove_dir(dir);
}

/* What is prescribed is the plateau's mean RBE-weighted dose. Where the field ripples, the
 * least-squares fit alone left that mean low, by about the variance of D_RBE / target over
 * the plateau: He-4 in 5-6 cm of water with peaks 2.5 mm apart (4000 histories each) ripples
 * by up to 25% about its mean, which came out 1.960 Gy (RBE) for 2, 0.04 below it where its
 * statistical error is 0.0034. Recomputed from the record's curves, the mean must be the
 * prescription within that error. */
Test(bio_run, a_rippled_sobp_keeps_the_prescribed_mean)
{
    char dir[256];
    cJSON *root = sobp("--ion He-4 --material water --from 5 --to 6 --spacing 2.5 -n 4000 "
                       "--biological mkm --dose 2", dir, sizeof dir);
    bio_model m;
    bragg_err e;
    cr_assert(bio_model_load(&m, "mkm", NULL, 0, &e) == BRAGG_OK, "%s", e.msg);
    rbe_plateau r = record_rbe_plateau(root, &m);
    cr_assert(r.dev > 0.1, "a ripple of %.1f%%: the case tests nothing", 100 * r.dev);
    cr_expect(fabs(r.mean - 2) <= r.mean_err, "plateau mean %.4f Gy (RBE) +- %.4f for 2",
              r.mean, r.mean_err);
    const cJSON *bio = cJSON_GetObjectItem(root, "biology");
    cr_expect(fabs(item(bio, "plateau_rbe_weighted_dose_Gy") / r.mean - 1) < 1e-9,
              "the record says %.6f, its curves give %.6f",
              item(bio, "plateau_rbe_weighted_dose_Gy"), r.mean);
    cr_log_info("rippled He-4 SOBP: deviation %.1f%%, mean %.5f +- %.5f Gy (RBE)", 100 * r.dev,
                r.mean, r.mean_err);
    cJSON_Delete(root);
    testkit_remove_dir(dir);
}

/* Runs `bragg run ARGS --json DIR/r.json` and returns the record. */
static cJSON *run_json(const char *args, const char *dir)
{
    char cmd[1024], out[8192], path[512];
    snprintf(cmd, sizeof cmd, "run %s -q --json %s/r.json", args, dir);
    cr_assert(testkit_cli(cmd, out, sizeof out) == 0, "%s", out);
    snprintf(path, sizeof path, "%s/r.json", dir);
    return testkit_read_json(path);
}

/* The proton RBE models read the protons' LET_d (primaries and secondaries, not deuterons,
 * tritons or the alphas of the protons' reactions), as they were built on it: TOPAS's
 * McNamara and Wedenberg scorers read its ProtonLET, which counts protons only. Pinned here:
 * - without reactions, where every deposit is a proton's, the two LET_d agree to the bit, and
 *   at the entrance both equal PSTAR's stopping power at 150 MeV (tests/reference/
 *   pstar_water.tsv; the first millimetre's protons have lost 0.5 MeV: 0.1% in LET);
 * - with reactions the alphas are transported (their channel has track length, not only
 *   deposits), the LET_d of all exceeds the protons' wherever alphas deposit, and the model's
 *   quality is the protons' LET_d, value for value;
 * - a deuteron beam without reactions has no proton deposits: no protons' LET_d anywhere
 *   (the deuterons' dose is taken off the charge-1 channels, CURVE_DOSE_DT). */
Test(bio_run, proton_models_read_the_protons_let)
{
    char dir[256];
    testkit_temp_dir(dir, sizeof dir, "plet");
    const ref_table *pstar = ref_load("pstar_water.tsv");
    double pstar_let = 0.1 * ref_loglog(pstar, 0, 3, 150.0);   /* MeV cm^2/g -> keV/um */

    cJSON *root = run_json("--ion p --energy 150 --material water -n 2000 --bin 1 --seed 4 "
                           "--no-nuclear", dir);
    cJSON *curves = cJSON_GetObjectItem(root, "depth_curves");
    cJSON *all = cJSON_GetObjectItem(curves, "let_d_keV_um");
    cJSON *protons = cJSON_GetObjectItem(curves, "let_d_proton_keV_um");
    int n = cJSON_GetArraySize(all), same = 0, finite = 0;
    for (int i = 0; i < n; i++) {
        if (isfinite(at(all, i))) finite++;
        if (at(all, i) == at(protons, i) || (isnan(at(all, i)) && isnan(at(protons, i)))) same++;
    }
    cr_expect(n > 150 && finite > 150 && same == n, "%d of %d bins agree", same, n);
    cr_expect(fabs(at(protons, 0) / pstar_let - 1) < 0.01, "entrance LET_d %.4f, PSTAR %.4f",
              at(protons, 0), pstar_let);
    cJSON_Delete(root);

    root = run_json("--ion p --energy 150 --material water -n 4000 --bin 1 --seed 4 "
                    "--bio mcnamara --alpha-beta 2", dir);
    curves = cJSON_GetObjectItem(root, "depth_curves");
    all = cJSON_GetObjectItem(curves, "let_d_keV_um");
    protons = cJSON_GetObjectItem(curves, "let_d_proton_keV_um");
    cJSON *alpha_dose = cJSON_GetObjectItem(cJSON_GetObjectItem(curves, "dose_by_charge_Gy_cm2"),
                                            "2");
    cJSON *alpha_track = cJSON_GetObjectItem(cJSON_GetObjectItem(curves, "fluence_by_charge"),
                                             "2");
    cr_assert(alpha_dose && alpha_track, "a proton run has no charge-2 channel");
    cJSON *quality = cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(root, "biology"), "curves"), "quality");
    /* The label names the curve the quality is. */
    const cJSON *label = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "biology"), "quality");
    cr_expect(cJSON_IsString(label) && strcmp(label->valuestring, "let_d_proton_keV_um") == 0,
              "biology.quality is '%s'", cJSON_IsString(label) ? label->valuestring : "?");
    n = cJSON_GetArraySize(all);
    int with_alphas = 0, higher = 0, equal_quality = 0;
    double track = 0;
    for (int i = 0; i < n; i++) {
        track += at(alpha_track, i);
        if (at(quality, i) == at(protons, i) || (isnan(at(quality, i)) && isnan(at(protons, i))))
            equal_quality++;
        if (i < 20 || i >= 80 || !(at(alpha_dose, i) > 0)) continue;   /* 2-8 cm */
        with_alphas++;
        if (at(all, i) > at(protons, i)) higher++;
    }
    cr_expect(track > 0, "alphas were deposited, not transported");
    cr_expect(with_alphas > 30 && higher == with_alphas, "LET_d of all above the protons' in %d "
              "of %d bins with alphas", higher, with_alphas);
    cr_expect(equal_quality == n, "the model's quality is the protons' LET_d in %d of %d bins",
              equal_quality, n);
    double closure = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "energy_ledger_MeV_per_primary"),
                                         "closure_rel")->valuedouble;
    cr_expect(closure == 0, "ledger closure %g", closure);
    cJSON_Delete(root);

    root = run_json("--ion d --energy 100 --material water -n 500 --bin 1 --no-nuclear", dir);
    protons = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "depth_curves"),
                                  "let_d_proton_keV_um");
    n = cJSON_GetArraySize(protons);
    int none = 0;
    for (int i = 0; i < n; i++) none += isnan(at(protons, i));
    cr_expect(n > 10 && none == n, "a deuteron beam has a protons' LET_d in %d bins", n - none);
    cJSON_Delete(root);
    testkit_remove_dir(dir);
}
