/*
 * test_biology.c - the radiobiological models (physics/biology.h) against published figures:
 * the modified MKM's z1D* and the HSG D10 it gives (Inaniwa et al. 2010), the LET-based proton
 * models' published parameters, closed form and an independent implementation's figures
 * (matRad), their RBE against measured V79 cell survival (PIDE), their limits, and the
 * linear-quadratic algebra.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "biology.h"
#include "catalog.h"
#include "refdata.h"
#include "tables.h"

static catalog cat;

static void setup(void)
{
    bragg_err e;
    cr_assert(catalog_load(&cat, &e) == BRAGG_OK, "%s", e.msg);
}

static void teardown(void)
{
    catalog_free(&cat);
}

TestSuite(bio, .init = setup, .fini = teardown, .timeout = 60);

static const char *ion_of(int Z)
{
    return Z == 1 ? "p" : Z == 2 ? "He-4" : Z == 6 ? "C-12" : "Ne-20";
}

/* LET (keV/um) in water of ion Z at t MeV/u, from bragg's electronic stopping. */
static void water_table(transport_table *tab, int Z)
{
    bragg_err e;
    const ion *ion = ion_table_find(&cat.ions, ion_of(Z));
    const material *mat = material_table_find(&cat.materials, "water");
    cr_assert(ion && mat);
    cr_assert(transport_table_build(tab, ion, mat, cat.stopping, stopping_switches_all(), &e) ==
                  BRAGG_OK, "%s", e.msg);
}

static double let_water(const transport_table *tab, double t)
{
    return table_stopping_el(tab, t) * 0.1;   /* MeV cm^2/g x 1 g/cm^3 -> keV/um */
}

static bio_model hsg_mkm(void)
{
    bio_model m;
    bragg_err e;
    cr_assert(bio_model_load(&m, "mkm", "HSG", 0, &e) == BRAGG_OK, "%s", e.msg);
    return m;
}

/* Issue acceptance: z1D* of H, He and C ions against Inaniwa et al. (2010). The figure was read
 * from a log scale (a few percent) and the paper's LET table is not bragg's (1-2% apart above
 * 1 MeV/u, more below, where effective charges differ): 8% from 1 MeV/u up, 15% below. A z1D*
 * wrong by 10% fails (the worst deviation is printed). */
Test(bio, mkm_z1d_star_matches_inaniwa_2010)
{
    bio_model m = hsg_mkm();
    cr_expect(fabs(mkm_z0(&m.cell) - 48.98) < 0.05, "z0 %g Gy", mkm_z0(&m.cell));
    const ref_table *ref = ref_load("inaniwa2010_mkm_hsg.tsv");
    double worst[7] = {0}, worst_low[7] = {0};
    int n = 0;
    for (int Z = 1; Z <= 6; Z += Z == 2 ? 4 : 1) {
        transport_table tab;
        water_table(&tab, Z);
        for (int i = 0; i < ref->rows; i++) {
            if (strcmp(ref->text[i][0], "z1d") != 0 || (int)ref->v[i][1] != Z) continue;
            double t = ref->v[i][2], want = ref->v[i][3];
            if (t < 0.3) continue;   /* below the stopping tables' best region */
            double got = mkm_z1d_star(&m.cell, Z, t, let_water(&tab, t));
            double dev = got / want - 1.0, tol = t >= 1.0 ? 0.08 : 0.15;
            cr_expect(fabs(dev) <= tol, "Z=%d at %g MeV/u: z1D* %.4g Gy, Inaniwa %.4g Gy "
                      "(%+.1f%%)", Z, t, got, want, 100 * dev);
            double *w = t >= 1.0 ? &worst[Z] : &worst_low[Z];
            if (fabs(dev) > *w) *w = fabs(dev);
            n++;
        }
        transport_table_free(&tab);
    }
    cr_expect(n > 100, "only %d reference points", n);
    cr_log_info("z1D* vs Inaniwa 2010, worst from 1 MeV/u (0.3-1): H %.1f%% (%.1f%%), He %.1f%% "
                "(%.1f%%), C %.1f%% (%.1f%%)", 100 * worst[1], 100 * worst_low[1], 100 * worst[2],
                100 * worst_low[2], 100 * worst[6], 100 * worst_low[6]);
}

/* The HSG dose for 10% survival against LET, alpha = alpha0 + beta0 z1D*, beta = beta0: the
 * model's curve in Inaniwa et al. (2010), which they showed against the survival measured at
 * HIMAC. The energy of each LET is found on bragg's own LET table (the falling branch above
 * the LET maximum). */
Test(bio, mkm_d10_matches_inaniwa_2010)
{
    bio_model m = hsg_mkm();
    const ref_table *ref = ref_load("inaniwa2010_mkm_hsg.tsv");
    double worst = 0;
    int n = 0;
    for (int Z = 2; Z <= 6; Z += 4) {
        transport_table tab;
        water_table(&tab, Z);
        for (int i = 0; i < ref->rows; i++) {
            if (strcmp(ref->text[i][0], "d10") != 0 || (int)ref->v[i][1] != Z) continue;
            double let = ref->v[i][2] * 0.1, want = ref->v[i][3];   /* MeV/cm -> keV/um */
            /* Bisect t on the high-energy branch: LET falls with t above ~1 MeV/u. */
            double lo = 1.0, hi = 1000.0;
            if (let_water(&tab, lo) < let) continue;   /* above the Bragg peak's LET */
            for (int it = 0; it < 60; it++) {
                double mid = sqrt(lo * hi);
                if (let_water(&tab, mid) > let) lo = mid;
                else hi = mid;
            }
            double t = sqrt(lo * hi), z = mkm_z1d_star(&m.cell, Z, t, let), a, b;
            bio_alpha_beta(&m, z, &a, &b);
            double d10 = (-a + sqrt(a * a + 4 * b * log(10.0))) / (2 * b);
            double dev = d10 / want - 1.0;
            cr_expect(fabs(dev) <= 0.06, "Z=%d LET %g keV/um (%.2f MeV/u): D10 %.3f Gy, Inaniwa "
                      "%.3f Gy (%+.1f%%)", Z, let, t, d10, want, 100 * dev);
            if (fabs(dev) > worst) worst = fabs(dev);
            n++;
        }
        transport_table_free(&tab);
    }
    cr_expect(n > 20, "only %d reference points", n);
    cr_log_info("HSG D10 vs Inaniwa 2010: worst %.1f%% over %d points", 100 * worst, n);
}

/* Issue 16, the MKM against measured cells: HSG survival under monoenergetic C-12 beams at
 * HIMAC, point by point (Furusawa et al., Radiat. Res. 154 (2000) 485, via PIDE 3.4; the
 * reference file names the source and the copy used). The compared quantity is the D10, the
 * dose for 10% survival, as Inaniwa et al. (2010) fitted the model to it: read off the measured
 * points directly, it does not depend on how a free LQ fit shares the curvature between alpha
 * and beta (the paper's alphas scatter for that reason; the MKM fixes beta = beta0).
 *   measured: ln S interpolated linearly in dose between the two consecutive points that
 *     bracket S = 0.1 (an experiment without such a pair would be skipped and logged; all 21
 *     have one);
 *   bragg: alpha = alpha0 + beta0 z1D* at the experiment's energy (bragg's own LET there is
 *     logged beside PIDE's), beta = beta0, alpha D + beta D^2 = ln 10.
 * Every experiment is compared; none is left out or flagged. Tolerances, fixed from the
 * measurements alone before bragg's D10 was computed (the numbers below are what the test
 * derives from the reference file; it recomputes them):
 *   - sigma, the error of one measured ln D10: the repeated beams, 30.0/30.3/30.6 keV/um (D10
 *     3.36, 3.05, 2.83 Gy, standard deviation 0.087 in ln D10) and 137/144/147 keV/um (1.20,
 *     1.70, 1.28 Gy, 0.183), pooled over both (4 degrees of freedom): sigma = 0.144. PIDE gives
 *     no errors; this spread includes the cells' variation from day to day and the reading of
 *     the points, and with 4 degrees of freedom it is itself known to about +-35%.
 *   - each experiment: |ln(D10 bragg / measured)| <= 3 sigma = 0.43 (factor 1.54). Not 2 sigma:
 *     among 21 independent comparisons a perfect model would then fail by chance two times in
 *     three; at 3 sigma about one in twenty.
 *   - all experiments: mean ln ratio within +-(2 sigma / sqrt(21) + 0.03) = +-0.093: twice its
 *     statistical error, plus 3% for what the scatter of repeats does not hold (bragg's LET at
 *     PIDE's energy is 1-3% off PIDE's LET, and the beams' dosimetry). A model that reproduces
 *     the data it was fitted to shows no bias beyond that.
 *   - rms of ln ratio <= 1.25 sigma + 0.03 = 0.21: 1.25 is the 95% point of the rms of 21
 *     draws of standard deviation sigma (sqrt(chi2_0.95(21) / 21) = sqrt(32.67 / 21)).
 *   - overkill: the measured D10 rises again from ~1.38 Gy (mean of 137-147 keV/um) to
 *     2.21-2.54 Gy at 467-502 keV/um, by at least 0.47 in ln; less 2 sigma of that difference
 *     (2 sigma sqrt(1 + 1/3) = 0.33) leaves 0.14: bragg's D10 at every experiment from
 *     450 keV/um must be at least exp(0.14) = 1.15 times its smallest D10 over the experiments.
 *   - the reference X-rays: the D10 of assets/cell_lines.tsv's alpha_x, beta_x against the
 *     measured X-ray curve's (4.03 Gy), within 3 sigma like one experiment.
 * Inaniwa et al. fitted the model's HSG parameters to these measurements, so this shows that
 * bragg's implementation reproduces them, not that the model predicts them. */
#define HSG_MAX_EXP 32

/* Measured D10 (Gy) of experiment `exp` of kind `kind` in `ref` (see above); NaN when no two
 * consecutive points bracket 10%. The points must come in rising dose. */
static double measured_d10(const ref_table *ref, const char *kind, int exp)
{
    double d0 = NAN, s0 = NAN;
    for (int i = 0; i < ref->rows; i++) {
        if (strcmp(ref->text[i][0], kind) != 0 || (int)ref->v[i][1] != exp) continue;
        double d = ref->v[i][4], s = ref->v[i][5];
        cr_assert(!(d <= d0) && s > 0, "%s experiment %d: dose %g Gy after %g Gy, survival %g",
                  kind, exp, d, d0, s);
        if (s0 >= 0.1 && s < 0.1) return d0 + (d - d0) * log(s0 / 0.1) / log(s0 / s);
        d0 = d;
        s0 = s;
    }
    return NAN;
}

Test(bio, mkm_d10_matches_hsg_carbon_measured)
{
    bio_model m = hsg_mkm();
    const ref_table *ref = ref_load("hsg_carbon_survival_furusawa2000.tsv");
    struct { int id; double let, t, meas, bragg; } ex[HSG_MAX_EXP];
    int n_exp = 0;
    for (int i = 0; i < ref->rows; i++) {
        if (strcmp(ref->text[i][0], "C-12") != 0) continue;
        int id = (int)ref->v[i][1];
        if (n_exp > 0 && ex[n_exp - 1].id == id) continue;
        cr_assert(n_exp < HSG_MAX_EXP);
        ex[n_exp].id = id;
        ex[n_exp].let = ref->v[i][2];
        ex[n_exp].t = ref->v[i][3];
        n_exp++;
    }
    cr_assert(n_exp == 21, "%d C-12 experiments in the reference file", n_exp);

    /* The measured D10s, and sigma from the repeated beams (by PIDE's LET). */
    int n = 0;
    double grp_sum[2] = {0}, grp_sum2[2] = {0};
    int grp_n[2] = {0};
    for (int k = 0; k < n_exp; k++) {
        ex[k].meas = measured_d10(ref, "C-12", ex[k].id);
        if (isnan(ex[k].meas)) {
            cr_log_info("HSG C-12 experiment %d (%g keV/um): no two points bracket 10%% "
                        "survival, skipped", ex[k].id, ex[k].let);
            continue;
        }
        n++;
        double L = ex[k].let;
        int g = L >= 25 && L <= 35 ? 0 : L >= 130 && L <= 150 ? 1 : -1;
        if (g < 0) continue;
        grp_sum[g] += log(ex[k].meas);
        grp_sum2[g] += log(ex[k].meas) * log(ex[k].meas);
        grp_n[g]++;
    }
    cr_assert(grp_n[0] == 3 && grp_n[1] == 3, "repeated beams: %d at ~30, %d at ~140 keV/um",
              grp_n[0], grp_n[1]);
    double ss = 0, mean140 = grp_sum[1] / grp_n[1];
    for (int g = 0; g < 2; g++) ss += grp_sum2[g] - grp_sum[g] * grp_sum[g] / grp_n[g];
    double sigma = sqrt(ss / (grp_n[0] + grp_n[1] - 2));
    double rise = INFINITY;
    for (int k = 0; k < n_exp; k++)
        if (!isnan(ex[k].meas) && ex[k].let >= 450) rise = fmin(rise, log(ex[k].meas) - mean140);
    double tol_point = 3 * sigma, tol_mean = 2 * sigma / sqrt(n) + 0.03;
    double tol_rms = 1.25 * sigma + 0.03, margin = rise - 2 * sigma * sqrt(1 + 1.0 / 3);
    cr_assert(n == 21, "%d experiments with a measured D10 (1.25 in the rms bound is for 21)", n);
    cr_log_info("HSG C-12 measured: sigma %.3f in ln D10 (repeated beams), tolerances: each "
                "%.3f, mean %.3f, rms %.3f; overkill rise measured >= %.3f, required %.3f", sigma,
                tol_point, tol_mean, tol_rms, rise, margin);

    /* bragg's D10 at each experiment's energy. */
    transport_table tab;
    water_table(&tab, 6);
    double sum = 0, sum2 = 0, d10_min = INFINITY, let_at_min = 0;
    for (int k = 0; k < n_exp; k++) {
        if (isnan(ex[k].meas)) continue;
        double t = ex[k].t, let = let_water(&tab, t), z = mkm_z1d_star(&m.cell, 6, t, let), a, b;
        bio_alpha_beta(&m, z, &a, &b);
        ex[k].bragg = (-a + sqrt(a * a + 4 * b * log(10.0))) / (2 * b);
        double r = log(ex[k].bragg / ex[k].meas);
        cr_log_info("HSG C-12 exp %d, %6.2f MeV/u: LET bragg %5.1f, PIDE %5.1f keV/um; D10 bragg "
                    "%.3f, measured %.3f Gy (ln ratio %+.3f)", ex[k].id, t, let, ex[k].let,
                    ex[k].bragg, ex[k].meas, r);
        cr_expect(fabs(r) <= tol_point, "C-12 exp %d, %g MeV/u (%g keV/um): D10 %.3f Gy, "
                  "measured %.3f Gy, ln ratio %+.3f beyond %.3f", ex[k].id, t, ex[k].let,
                  ex[k].bragg, ex[k].meas, r, tol_point);
        sum += r;
        sum2 += r * r;
        if (ex[k].bragg < d10_min) {
            d10_min = ex[k].bragg;
            let_at_min = ex[k].let;
        }
    }
    transport_table_free(&tab);
    double bias = sum / n, rms = sqrt(sum2 / n);
    cr_expect(fabs(bias) <= tol_mean, "mean ln(D10 bragg / measured) %+.3f over %d experiments, "
              "bound %.3f", bias, n, tol_mean);
    cr_expect(rms <= tol_rms, "rms ln(D10 bragg / measured) %.3f, bound %.3f", rms, tol_rms);
    int n_over = 0;
    for (int k = 0; k < n_exp; k++) {
        if (isnan(ex[k].meas) || ex[k].let < 450) continue;
        cr_expect(log(ex[k].bragg / d10_min) >= margin, "overkill at %g keV/um: D10 %.3f Gy, "
                  "only %+.0f%% above the minimum %.3f Gy (at %g keV/um); measured rise >= %.0f%%",
                  ex[k].let, ex[k].bragg, 100 * (ex[k].bragg / d10_min - 1), d10_min, let_at_min,
                  100 * expm1(rise));
        n_over++;
    }
    cr_expect(n_over == 3, "%d experiments from 450 keV/um", n_over);

    double dx_meas = measured_d10(ref, "X-ray", 2), dx = bio_photon_dose(&m.cell, log(10.0));
    cr_expect(fabs(log(dx / dx_meas)) <= tol_point, "X-rays: D10 %.3f Gy from alpha_x, beta_x, "
              "measured %.3f Gy", dx, dx_meas);
    cr_log_info("HSG C-12 D10 vs Furusawa 2000: mean ln ratio %+.3f (bound %.3f), rms %.3f "
                "(bound %.3f) over %d experiments; minimum D10 %.3f Gy at %g keV/um; X-rays %.3f "
                "Gy, measured %.3f Gy", bias, tol_mean, rms, tol_rms, n, d10_min, let_at_min, dx,
                dx_meas);
}

/* Saturation: z1D* can never exceed z0 (z'^2 <= z0^2 and integral z b db is the norm), and at
 * low LET it tends to the unsaturated dose-mean specific energy, which scales as Z^2 between two
 * fast ions of the same speed (both the LET and the penumbra's Kp go as Z*^2, Z* = Z there). */
Test(bio, mkm_z1d_star_limits)
{
    bio_model m = hsg_mkm();
    double z0 = mkm_z0(&m.cell);
    for (double let = 1; let < 5000; let *= 3)
        cr_expect(mkm_z1d_star(&m.cell, 6, 5.0, let) < z0, "LET %g", let);
    double a = mkm_z1d_star(&m.cell, 1, 200.0, 0.45), b = mkm_z1d_star(&m.cell, 2, 200.0, 1.8);
    cr_expect(fabs(b / a - 4.0) < 0.01, "He / p at 200 MeV/u: %g / %g", b, a);
    cr_expect(mkm_z1d_star(&m.cell, 6, 100.0, 0.0) == 0.0);
}

/* The LQ algebra: a photon-like quality gives RBE 1 at every dose, the constant model 1.1, and
 * survival and RBE-weighted dose are consistent. */
Test(bio, linear_quadratic_and_rbe)
{
    bragg_err e;
    bio_model m;
    cr_assert(bio_model_load(&m, "rbe1.1", NULL, 0, &e) == BRAGG_OK, "%s", e.msg);
    for (double d = 0.5; d < 10; d *= 2) {
        bio_point p;
        bio_evaluate(&m, 3.0, d, &p);
        cr_expect(fabs(p.rbe - 1.1) < 1e-12, "constant RBE at %g Gy: %.15g", d, p.rbe);
        double effect = m.cell.alpha_x * p.rbe_dose + m.cell.beta_x * p.rbe_dose * p.rbe_dose;
        cr_expect(fabs(exp(-effect) / p.survival - 1) < 1e-12);
    }
    bio_model mkm = hsg_mkm();
    double zx = (mkm.cell.alpha_x - mkm.cell.alpha0) / mkm.cell.beta0;
    bio_point p;
    bio_evaluate(&mkm, zx, 2.0, &p);
    cr_expect(fabs(p.rbe - 1.0) < 1e-12, "the photons' own z1D* gives RBE %.15g", p.rbe);
    /* The tissue's (alpha/beta)_x: alpha_x follows, and the photons' z1D* stays. */
    cr_assert(bio_model_load(&mkm, "mkm", "hsg", 10.0, &e) == BRAGG_OK, "%s", e.msg);
    cr_expect(fabs(mkm.cell.alpha_x - 0.615) < 1e-12);
    cr_expect(fabs((mkm.cell.alpha_x - mkm.cell.alpha0) / mkm.cell.beta0 - zx) < 1e-12);
}

/* ---- the LET-based proton models against their published parameters --------------------- */

#define PROTON_REF "proton_rbe_published.tsv"

/* A row's value from proton_rbe_published.tsv (kind, model, name); the test fails if absent. */
static double published(const ref_table *ref, const char *kind, const char *model,
                        const char *name)
{
    for (int i = 0; i < ref->rows; i++)
        if (!strcmp(ref->text[i][0], kind) && !strcmp(ref->text[i][1], model) &&
            !strcmp(ref->text[i][2], name))
            return ref->v[i][3];
    cr_assert_fail("%s: no row %s %s %s", PROTON_REF, kind, model, name);
    return NAN;
}

static bio_model load_model(const char *name, double alpha_beta_x)
{
    bio_model m;
    bragg_err e;
    cr_assert(bio_model_load(&m, name, NULL, alpha_beta_x, &e) == BRAGG_OK, "%s", e.msg);
    return m;
}

/* Issue 16: the parameters in assets/ against the published values. McNamara's four numbers
 * as printed by table 1 of a review (Br. J. Radiol. 2020), by the McNamara/Paganetti group's own
 * TOPAS scorer, by the FRED documentation and by a library of the Rorvik et al. (2018) models,
 * with p0 = 0.99064 confirmed by the first author where the paper disagrees with itself
 * (tests/reference/proton_rbe_published.tsv names every source). They are transcriptions, so
 * the assets must hold them to the last printed digit (1e-9 relative: only the text-to-double
 * conversion may differ); a parameter 10% off fails. HSG's reference photons likewise
 * (Friedrich et al. 2013, figure 8: alpha 0.313 Gy^-1, beta 0.0615 Gy^-2). */
Test(bio, proton_model_parameters_match_publications)
{
    const ref_table *ref = ref_load(PROTON_REF);
    bio_model mcn = load_model("mcnamara", 0), wed = load_model("wedenberg", 0);
    const char *pn[4] = {"p0", "p1", "p2", "p3"};
    for (int k = 0; k < 4; k++) {
        double want = published(ref, "param", "mcnamara", pn[k]);
        cr_expect(fabs(mcn.p[k] / want - 1) < 1e-9, "McNamara %s: assets %.8g, published %.8g",
                  pn[k], mcn.p[k], want);
    }
    /* Wedenberg: RBEmax = 1 + q L / (a/b)x, beta unchanged (RBEmin = 1). */
    double q = published(ref, "param", "wedenberg", "q");
    cr_expect(fabs(wed.p[1] / q - 1) < 1e-9, "Wedenberg q: assets %.8g, published %.8g", wed.p[1],
              q);
    cr_expect(wed.p[0] == 1.0 && wed.p[2] == 1.0 && wed.p[3] == 0.0,
              "Wedenberg p0 %g p2 %g p3 %g (want 1, 1, 0)", wed.p[0], wed.p[2], wed.p[3]);
    double ax = published(ref, "cell", "HSG", "alpha_x"), bx = published(ref, "cell", "HSG",
                                                                         "beta_x");
    cr_expect(fabs(mcn.cell.alpha_x / ax - 1) < 1e-9, "HSG alpha_x %.8g, Friedrich 2013 %.8g",
              mcn.cell.alpha_x, ax);
    cr_expect(fabs(mcn.cell.beta_x / bx - 1) < 1e-9, "HSG beta_x %.8g, Friedrich 2013 %.8g",
              mcn.cell.beta_x, bx);
}

/* The RBE at dose D from the closed form the McNamara/Paganetti group's TOPAS scorer evaluates
 * (TsModelRBE_MinMax::GetRBE; Wedenberg the same with RBEmin = 1),
 *   RBE = (sqrt((a/b)^2 + 4 (a/b) RBEmax D + 4 RBEmin^2 D^2) - (a/b)) / (2 D),
 * with RBEmax and RBEmin from the published parameters (reference file), against bragg's own
 * path (assets, then the photon dose of equal survival, bio_photon_dose). Over LETd 0.5-20
 * keV/um, (a/b)x 1.5-20 Gy and 0.1-10 Gy both are the same algebra in double precision, so
 * they must agree to round-off (1e-9); a parameter 10% off in the assets, a missing
 * sqrt((a/b)x) in RBEmin or a wrong LQ inversion moves the RBE by 0.1% or more somewhere on
 * the grid and fails. */
Test(bio, proton_rbe_matches_published_closed_form)
{
    const ref_table *ref = ref_load(PROTON_REF);
    double p[4], q = published(ref, "param", "wedenberg", "q");
    const char *pn[4] = {"p0", "p1", "p2", "p3"};
    for (int k = 0; k < 4; k++) p[k] = published(ref, "param", "mcnamara", pn[k]);
    const double lets[] = {0.5, 1, 2, 4, 7, 10, 15, 20}, abs_[] = {1.5, 2, 3, 5, 10, 20},
                 doses[] = {0.1, 0.5, 1, 2, 4, 10};
    double worst = 0;
    for (int w = 0; w < 2; w++)
        for (size_t a = 0; a < sizeof abs_ / sizeof *abs_; a++) {
            double ab = abs_[a];
            bio_model m = load_model(w ? "wedenberg" : "mcnamara", ab);
            for (size_t l = 0; l < sizeof lets / sizeof *lets; l++)
                for (size_t d = 0; d < sizeof doses / sizeof *doses; d++) {
                    double L = lets[l], D = doses[d];
                    double rmax = w ? 1 + q * L / ab : p[0] + p[1] * L / ab;
                    double rmin = w ? 1 : p[2] + p[3] * sqrt(ab) * L;
                    double want = (sqrt(ab * ab + 4 * ab * rmax * D + 4 * rmin * rmin * D * D) -
                                   ab) / (2 * D);
                    bio_point pt;
                    bio_evaluate(&m, L, D, &pt);
                    double dev = pt.rbe / want - 1;
                    cr_expect(fabs(dev) < 1e-9, "%s (a/b)x %g Gy, LETd %g keV/um, %g Gy: RBE %.10g, "
                              "published form %.10g", m.name, ab, L, D, pt.rbe, want);
                    if (fabs(dev) > worst) worst = fabs(dev);
                }
        }
    cr_log_info("proton RBE vs the published closed form: worst %.1e", worst);
}

/* An independent implementation's figures: matRad's unit test of its McNamara and Wedenberg
 * classes (LETd 0.981 keV/um, alpha_x 0.5 Gy^-1, beta_x 0.05 Gy^-2; expected alpha and beta
 * printed to four decimals, so the tolerance is half the last digit, 5e-5, plus round-off).
 * matRad's McNamara uses p0 = 0.999064, the variant the first author ruled out; its alpha is
 * compared after taking out alpha_x (0.999064 - p0). What these pin beyond the parameters: the
 * LET term divided by (a/b)x, RBEmin's sqrt((a/b)x), beta = RBEmin^2 beta_x. With p1 or q 10%
 * off alpha moves by 1.7e-3 or 2.1e-3, with p3 10% off beta moves by 1.3e-4: all fail. */
Test(bio, proton_lq_matches_matrad_unit_test)
{
    const ref_table *ref = ref_load(PROTON_REF);
    double p0 = published(ref, "param", "mcnamara", "p0");
    int n = 0;
    for (int i = 0; i < ref->rows; i++) {
        if (strcmp(ref->text[i][0], "lq")) continue;
        const char *model = ref->text[i][1], *what = ref->text[i][2];
        double want = ref->v[i][3], L = ref->v[i][4], ax = ref->v[i][5], bx = ref->v[i][6];
        double p0_used = ref->v[i][7];
        if (!isnan(p0_used)) want -= ax * (p0_used - p0);
        bio_model m = load_model(model, 0);
        m.cell.alpha_x = ax;
        m.cell.beta_x = bx;
        double alpha, beta;
        bio_alpha_beta(&m, L, &alpha, &beta);
        double got = !strcmp(what, "alpha") ? alpha : beta;
        cr_expect(fabs(got - want) <= 5e-5 + 1e-9, "%s %s at LETd %g keV/um: bragg %.6f, matRad "
                  "%.6f (%+.1e)", model, what, L, got, want, got - want);
        cr_log_info("%s %s vs matRad: bragg %.6f, matRad %.4f%s, difference %+.1e", model, what,
                    got, ref->v[i][3], isnan(p0_used) ? "" : " (p0 0.999064)", got - want);
        n++;
    }
    cr_expect(n == 4, "%d matRad rows", n);
}

/* Issue 16, the proton models against measured cells: the V79 (Chinese hamster) proton
 * experiments of PIDE 3.4 with their papers' LQ parameters (tests/reference/
 * v79_proton_lq_pide.tsv names the 14 papers, the copy of PIDE used, and the rules that leave 42
 * of 52 rows usable: LQ parameters missing, a published curve that misses its own points, one fit
 * reported twice; decided on the data, not on this comparison). The compared quantity is the RBE
 * at the survival of 2 Gy of the experiment's own photons, RBE(2 Gy) = 2 Gy / D_p with
 * alpha_p D_p + beta_p D_p^2 = 2 alpha_x + 4 beta_x: a free LQ fit trades alpha for beta, and the
 * RBE at a survival the points cover (0.64-0.85 here) is less affected by that than alpha_p /
 * alpha_x. bragg's RBE(2 Gy): the experiment's alpha_x, beta_x in the model (so its
 * (alpha/beta)_x), PIDE's LET as the LET_d, and the proton dose where bio_evaluate's photon
 * dose is 2 Gy. RBEmax = alpha_p / alpha_x is logged beside it, not checked: its scatter over
 * repeats is 1.7 times that of RBE(2 Gy) (0.49 against 0.28 in ln).
 * Tolerances, fixed from the measurements alone before bragg's values were computed (the numbers
 * are what the test derives from the reference file; it recomputes them):
 *   - sigma, the scatter of one measured ln RBE(2 Gy): experiments sorted by LET, grouped while
 *     the LET stays within 3% of the group's first (2.28/2.33, 2.89/2.95, 3.20/3.29, 3.44/3.44,
 *     4.00/4.00/4.02, 16.9/17.0, 17.6/17.8, 20.0/20.5, 30.5/31.0 keV/um; 9 groups of two or
 *     more, 10 degrees of freedom): pooled standard deviation 0.284. Nearly every group spans
 *     two laboratories, so sigma is mostly the scatter between laboratories (photon
 *     reference, dosimetry, LET, assay); repeats within one paper agree far better (wouters15's
 *     five pairs within 0.05). PIDE gives no errors; with 10 degrees of freedom sigma is itself
 *     known to about +-22%.
 *   - bias: |mean ln(RBE bragg / measured)| <= 2 sigma / sqrt(12) + 0.05 = 0.214. The 42
 *     experiments come from 12 papers, and the experiments of one paper share its laboratory's
 *     offset: 12, not 42, independent draws. 0.05 for what sigma does not hold: PIDE's LET is the
 *     track-segment LET for monoenergetic beams (the models take the LET_d) and each paper's
 *     own LET calculation (a 10% LET error moves the model's RBE(2 Gy) by about 3% here).
 *   - rms of ln ratio <= sqrt(chi2_0.95(12) / 12) sigma + 0.05 = 1.324 sigma + 0.05 = 0.426:
 *     the 95% point of the rms of a model that is right within the data's scatter (12
 *     independent draws as above), plus the LET allowance.
 *   - trend: least-squares slopes b of ln RBE(2 Gy) against LET, measured (0.0299 per keV/um)
 *     and bragg's at the same experiments; their error se = sigma sqrt(42/12) / sqrt(Sxx) =
 *     0.0080 per keV/um (Sxx the LETs' sum of squares about their mean, 4366; sqrt(42/12) for
 *     the papers' shared offsets, as above). The data rise (b >= 2 se), bragg's RBE rises
 *     (b > 0) and the two slopes agree within 2 se.
 * Checked for McNamara et al. (2015), fitted to a collection that holds many of these data;
 * Wedenberg et al. (2013) is computed and logged with the same statistics, not checked (decided
 * before either was computed). No check per experiment: the papers' (alpha/beta)_x for one cell
 * line range from 0.5 to 25 Gy, and a model of (alpha/beta)_x follows each paper's photon fit
 * wherever it lies.
 * What 42 experiments scattering by 0.28 cannot resolve: McNamara's p1 scaled by 0.8 or 1.25
 * moves the mean by -0.07 or +0.08 and passes; x 0.5 and x 2 fail (checked by hand). The
 * published-parameter tests above pin p1 to 1e-9. */
#define V79_REF "v79_proton_lq_pide.tsv"
#define V79_MAX 64
#define V79_SIGMA_DF 10            /* sigma's degrees of freedom, as derived above */
#define V79_PAPERS 12
#define CHI2_95_12 21.026          /* chi-square 95% point, 12 degrees of freedom */

typedef struct v79_exp {
    char pub[48];
    int exp;
    double let, ax, bx, ap, bp;
    double meas, meas_max;         /* RBE(2 Gy) and RBEmax from the paper's LQ parameters */
    double model[2], model_max[2]; /* McNamara, Wedenberg */
} v79_exp;

static int v79_by_let(const void *a, const void *b)
{
    double x = ((const v79_exp *)a)->let, y = ((const v79_exp *)b)->let;
    return (x > y) - (x < y);
}

/* The dose at which alpha D + beta D^2 = effect (the test's own algebra, not bragg's). */
static double lq_dose(double alpha, double beta, double effect)
{
    return beta > 0 ? 2 * effect / (alpha + sqrt(alpha * alpha + 4 * beta * effect))
                    : effect / alpha;
}

/* bragg's RBE where its photon dose is 2 Gy: bisection on the proton dose over bio_evaluate. */
static double bragg_rbe_2gy(const bio_model *m, double let)
{
    double lo = 0, hi = 20;
    bio_point p;
    bio_evaluate(m, let, hi, &p);
    cr_assert(p.rbe_dose > 2, "%s at %g keV/um: 20 Gy gives only %g Gy photon-equivalent",
              m->name, let, p.rbe_dose);
    for (int it = 0; it < 200 && hi - lo > 1e-13 * hi; it++) {
        double mid = 0.5 * (lo + hi);
        bio_evaluate(m, let, mid, &p);
        if (p.rbe_dose < 2) lo = mid;
        else hi = mid;
    }
    return 2 / (0.5 * (lo + hi));
}

/* Least-squares slope of y against the experiments' LET. */
static double slope_vs_let(const v79_exp *ex, const double *y, int n)
{
    double lm = 0, ym = 0, sxy = 0, sxx = 0;
    for (int k = 0; k < n; k++) {
        lm += ex[k].let / n;
        ym += y[k] / n;
    }
    for (int k = 0; k < n; k++) {
        sxy += (ex[k].let - lm) * (y[k] - ym);
        sxx += (ex[k].let - lm) * (ex[k].let - lm);
    }
    return sxy / sxx;
}

/* Pooled standard deviation of y over groups of experiments (sorted by LET) whose LET is within
 * 3% of the group's first; *df gets the degrees of freedom. */
static double v79_repeat_sigma(const v79_exp *ex, const double *y, int n, int *df)
{
    double ss = 0;
    *df = 0;
    for (int i = 0; i < n;) {
        int j = i + 1;
        while (j < n && ex[j].let <= 1.03 * ex[i].let) j++;
        double m = 0;
        for (int k = i; k < j; k++) m += y[k] / (j - i);
        for (int k = i; k < j; k++) ss += (y[k] - m) * (y[k] - m);
        *df += j - i - 1;
        i = j;
    }
    return sqrt(ss / *df);
}

Test(bio, proton_rbe_matches_v79_measured)
{
    const ref_table *ref = ref_load(V79_REF);
    static v79_exp ex[V79_MAX];
    int n = 0, rows = 0, n_pub = 0;
    char pubs[V79_MAX][48];
    for (int i = 0; i < ref->rows; i++) {
        const char *use = ref->text[i][0];
        const double *v = ref->v[i];
        rows++;
        if (!strcmp(use, "no-photon-lq")) {
            cr_expect(isnan(v[7]) || isnan(v[8]), "row %d: flagged %s with photon LQ", i, use);
            continue;
        }
        if (!strcmp(use, "no-ion-lq")) {
            cr_expect(isnan(v[9]) || isnan(v[10]), "row %d: flagged %s with proton LQ", i, use);
            continue;
        }
        if (!strcmp(use, "lq-misses-points") || !strcmp(use, "duplicate")) {
            cr_log_info("V79 %s %g (%g keV/um): not compared (%s; see the reference file)",
                        ref->text[i][1], v[4], v[5], use);
            continue;
        }
        cr_assert(!strcmp(use, "yes"), "row %d: unknown use_flag '%s'", i, use);
        cr_assert(n < V79_MAX);
        v79_exp *e = &ex[n++];
        snprintf(e->pub, sizeof e->pub, "%s", ref->text[i][1]);
        e->exp = (int)v[4];
        e->let = v[5];
        e->ax = v[7];
        e->bx = v[8];
        e->ap = v[9];
        e->bp = v[10];
        cr_assert(e->let > 0 && e->ax > 0 && e->bx > 0 && e->ap > 0 && e->bp >= 0,
                  "%s %d: LET %g, LQ %g %g %g %g", e->pub, e->exp, e->let, e->ax, e->bx, e->ap,
                  e->bp);
        e->meas = 2 / lq_dose(e->ap, e->bp, 2 * e->ax + 4 * e->bx);
        e->meas_max = e->ap / e->ax;
        int seen = 0;
        for (int k = 0; k < n_pub; k++) seen |= !strcmp(pubs[k], e->pub);
        if (!seen) snprintf(pubs[n_pub++], sizeof pubs[0], "%s", e->pub);
    }
    cr_assert(rows == 52 && n == 42 && n_pub == V79_PAPERS,
              "%d rows, %d used from %d papers (want 52, 42, 12)", rows, n, n_pub);
    qsort(ex, (size_t)n, sizeof *ex, v79_by_let);

    /* The measurements alone: sigma, the tolerances, the measured trend. */
    double y[V79_MAX], ymax[V79_MAX], lm = 0, sxx = 0;
    for (int k = 0; k < n; k++) {
        y[k] = log(ex[k].meas);
        ymax[k] = log(ex[k].meas_max);
        lm += ex[k].let / n;
    }
    for (int k = 0; k < n; k++) sxx += (ex[k].let - lm) * (ex[k].let - lm);
    int df, df_max;
    double sigma = v79_repeat_sigma(ex, y, n, &df);
    double sigma_max = v79_repeat_sigma(ex, ymax, n, &df_max);
    cr_assert(df == V79_SIGMA_DF, "%d degrees of freedom in the repeats (want %d)", df,
              V79_SIGMA_DF);
    double tol_mean = 2 * sigma / sqrt(n_pub) + 0.05;
    double tol_rms = sqrt(CHI2_95_12 / n_pub) * sigma + 0.05;
    double se = sigma * sqrt((double)n / n_pub) / sqrt(sxx), b_meas = slope_vs_let(ex, y, n);
    cr_log_info("V79 protons measured: sigma %.3f in ln RBE(2 Gy) (%d df; RBEmax %.3f), "
                "tolerances: mean %.3f, rms %.3f; slope %.4f per keV/um, se %.4f", sigma, df,
                sigma_max, tol_mean, tol_rms, b_meas, se);
    cr_expect(b_meas >= 2 * se, "the measured RBE(2 Gy) does not rise significantly with LET: "
              "slope %.4f, se %.4f", b_meas, se);

    /* bragg's models at each experiment. */
    const char *names[2] = {"mcnamara", "wedenberg"};
    double bias[2], rms[2], slope[2], bias_max[2];
    int beyond2[2] = {0}, beyond3[2] = {0};
    for (int w = 0; w < 2; w++) {
        bio_model m = load_model(names[w], 0);
        double r[V79_MAX], s = 0, s2 = 0, smax = 0;
        for (int k = 0; k < n; k++) {
            m.cell.alpha_x = ex[k].ax;
            m.cell.beta_x = ex[k].bx;
            bio_point p;
            bio_evaluate(&m, ex[k].let, 0, &p);
            ex[k].model_max[w] = p.rbe;
            ex[k].model[w] = bragg_rbe_2gy(&m, ex[k].let);
            r[k] = log(ex[k].model[w]);
            double d = r[k] - y[k];
            s += d;
            s2 += d * d;
            smax += log(ex[k].model_max[w] / ex[k].meas_max);
            beyond2[w] += fabs(d) > 2 * sigma;
            beyond3[w] += fabs(d) > 3 * sigma;
        }
        bias[w] = s / n;
        rms[w] = sqrt(s2 / n);
        bias_max[w] = smax / n;
        slope[w] = slope_vs_let(ex, r, n);
    }
    for (int k = 0; k < n; k++)
        cr_log_info("V79 %-14s %2d %5.2f keV/um (a/b)x %5.2f Gy: RBE(2 Gy) measured %.3f, "
                    "McNamara %.3f (%+.3f), Wedenberg %.3f (%+.3f); RBEmax %.3f, %.3f, %.3f",
                    ex[k].pub, ex[k].exp, ex[k].let, ex[k].ax / ex[k].bx, ex[k].meas,
                    ex[k].model[0], log(ex[k].model[0] / ex[k].meas), ex[k].model[1],
                    log(ex[k].model[1] / ex[k].meas), ex[k].meas_max, ex[k].model_max[0],
                    ex[k].model_max[1]);
    for (int w = 0; w < 2; w++)
        cr_log_info("V79 %s vs measured RBE(2 Gy), %d experiments: mean ln ratio %+.3f (bound "
                    "%.3f), rms %.3f (bound %.3f), slope %.4f (measured %.4f +- %.4f); beyond "
                    "2 sigma %d, 3 sigma %d; RBEmax mean ln ratio %+.3f%s", names[w], n, bias[w],
                    tol_mean, rms[w], tol_rms, slope[w], b_meas, se, beyond2[w], beyond3[w],
                    bias_max[w], w ? " (logged, not checked)" : "");

    cr_expect(fabs(bias[0]) <= tol_mean, "McNamara: mean ln(RBE(2 Gy) / measured) %+.3f, bound "
              "%.3f", bias[0], tol_mean);
    cr_expect(rms[0] <= tol_rms, "McNamara: rms ln(RBE(2 Gy) / measured) %.3f, bound %.3f",
              rms[0], tol_rms);
    cr_expect(slope[0] > 0, "McNamara: RBE(2 Gy) does not rise with LET (slope %.4f)", slope[0]);
    cr_expect(fabs(slope[0] - b_meas) <= 2 * se, "McNamara: slope of ln RBE(2 Gy) vs LET %.4f, "
              "measured %.4f, allowed +-%.4f", slope[0], b_meas, 2 * se);
}

/* The formulas' limits (McNamara et al. 2015; Wedenberg et al. 2013): RBE -> RBEmax at
 * vanishing dose and -> RBEmin at high dose, falling with dose and rising with LET; Wedenberg's
 * beta is the photons'. */
Test(bio, proton_let_models)
{
    bio_model m = load_model("mcnamara", 2.0);
    bio_point p;
    bio_evaluate(&m, 10.0, 0.0, &p);
    cr_expect(fabs(p.rbe - (m.p[0] + m.p[1] * 10 / 2)) < 1e-9, "RBEmax %g", p.rbe);
    bio_evaluate(&m, 10.0, 1e6, &p);
    double rbe_min = m.p[2] + m.p[3] * sqrt(2.0) * 10;
    cr_expect(fabs(p.rbe - rbe_min) < 1e-3, "RBE at high dose %g, RBEmin %g", p.rbe, rbe_min);
    bio_point a, b;
    bio_evaluate(&m, 5.0, 1.0, &a);
    bio_evaluate(&m, 5.0, 4.0, &b);
    cr_expect(a.rbe > b.rbe);
    bio_evaluate(&m, 8.0, 2.0, &b);
    bio_evaluate(&m, 2.0, 2.0, &a);
    cr_expect(b.rbe > a.rbe);
    m = load_model("wedenberg", 3.0);
    bio_evaluate(&m, 6.0, 0.0, &p);
    cr_expect(fabs(p.rbe - (1 + m.p[1] * 6 / 3)) < 1e-9);
    cr_expect(fabs(p.beta - m.cell.beta_x) < 1e-15);
}

/* Bad names and ranges say what is valid. */
Test(bio, bad_input_names_the_valid_values)
{
    bragg_err e;
    bio_model m;
    cr_expect(bio_model_load(&m, "lem", NULL, 0, &e) == BRAGG_ERR);
    cr_expect(strstr(e.msg, "bio: 'lem'") && strstr(e.msg, "mkm") && strstr(e.msg, "mcnamara"),
              "%s", e.msg);
    cr_expect(bio_model_load(&m, "mkm", "V99", 0, &e) == BRAGG_ERR);
    cr_expect(strstr(e.msg, "cell: 'V99'") && strstr(e.msg, "HSG"), "%s", e.msg);
    cr_expect(bio_model_load(&m, "mkm", NULL, 100, &e) == BRAGG_ERR);
    cr_expect(strstr(e.msg, "alpha/beta") && strstr(e.msg, "0.5 to 50"), "%s", e.msg);
}

/* Which ion a model takes. No model covers deuterons or tritons: the proton models were fitted
 * to protons, the MKM's HSG parameters to carbon. Each model once pointed a deuteron at the
 * other ("for d: mkm", "for protons: mcnamara, ..."); now every model says that none covers
 * them, and names what each family takes. Protons and carbon keep the messages the workbench
 * and the command line show (test_ui.c, test_robust.c). */
Test(bio, no_model_covers_deuterons_or_tritons)
{
    const char *models[] = {"mkm", "mcnamara", "wedenberg", "rbe1.1"};
    const struct {
        const char *name, *plural;
        int A;
    } ions[] = {{"d", "deuterons", 2}, {"t", "tritons", 3}};
    bragg_err e;
    for (size_t k = 0; k < sizeof models / sizeof *models; k++) {
        bio_model m = load_model(models[k], 0);
        for (size_t i = 0; i < 2; i++) {
            char want[128];
            snprintf(want, sizeof want, "bio: no biological model covers %s (--ion %s)",
                     ions[i].plural, ions[i].name);
            e.msg[0] = '\0';
            cr_expect(bio_model_check_ion(&m, ions[i].name, 1, ions[i].A, &e) == BRAGG_ERR,
                      "%s took %s", models[k], ions[i].name);
            cr_expect(strstr(e.msg, want) && !strstr(e.msg, "for protons:") &&
                      !strstr(e.msg, ": mkm)"), "%s on %s: %s", models[k], ions[i].name, e.msg);
        }
        int ion_model = !strcmp(models[k], "mkm");
        cr_expect(bio_model_check_ion(&m, "p", 1, 1, &e) == (ion_model ? BRAGG_ERR : BRAGG_OK),
                  "%s on p", models[k]);
        cr_expect(bio_model_check_ion(&m, "He-3", 2, 3, &e) == (ion_model ? BRAGG_OK : BRAGG_ERR),
                  "%s on He-3", models[k]);
        cr_expect(bio_model_check_ion(&m, "C-12", 6, 12, &e) == (ion_model ? BRAGG_OK : BRAGG_ERR),
                  "%s on C-12", models[k]);
    }
}

/* McNamara's RBEmin = p2 + p3 sqrt((a/b)x) LETd has p3 < 0: from the published parameters it
 * reaches 0 at LETd = p2 / (-p3 sqrt((a/b)x)), 40.24 keV/um for (a/b)x = 50 Gy. Beyond, beta =
 * RBEmin^2 beta_x would grow again (at 80 keV/um back to 0.98 of its value at 0); it must stay
 * at 0 (beta cannot be negative). Below the crossing the published form holds: beta at
 * 30 keV/um is (p2 + p3 sqrt(50) 30)^2 beta_x, and beta never rises with LET anywhere on
 * 0-200 keV/um. */
Test(bio, mcnamara_beta_stays_at_zero_past_rbemin_zero)
{
    const ref_table *ref = ref_load(PROTON_REF);
    double p2 = published(ref, "param", "mcnamara", "p2");
    double p3 = published(ref, "param", "mcnamara", "p3");
    double ab = 50, cross = p2 / (-p3 * sqrt(ab));
    cr_assert(p3 < 0 && fabs(cross - 40.24) < 0.01, "RBEmin crosses 0 at %g keV/um", cross);
    bio_model m = load_model("mcnamara", ab);
    double alpha, beta, rmin = p2 + p3 * sqrt(ab) * 30;
    bio_alpha_beta(&m, 30, &alpha, &beta);
    cr_expect(fabs(beta / (rmin * rmin * m.cell.beta_x) - 1) < 1e-9, "beta at 30 keV/um %g",
              beta);
    const double past[] = {cross + 0.01, 60, 80, 120, 200};
    for (size_t k = 0; k < sizeof past / sizeof *past; k++) {
        bio_alpha_beta(&m, past[k], &alpha, &beta);
        cr_expect(beta == 0, "(a/b)x 50 Gy, LETd %g keV/um: beta %g, want 0", past[k], beta);
        bio_point p;
        bio_evaluate(&m, past[k], 2.0, &p);
        cr_expect(isfinite(p.rbe) && p.rbe > 0 && p.beta == 0, "LETd %g: RBE %g", past[k],
                  p.rbe);
    }
    double prev = INFINITY;
    for (double L = 0; L <= 200; L += 0.5) {
        bio_alpha_beta(&m, L, &alpha, &beta);
        cr_expect(beta >= 0 && beta <= prev, "beta %g at %g keV/um rose from %g", beta, L, prev);
        prev = beta;
    }
}
