/*
 * test_biology.c - the radiobiological models (physics/biology.h) against published figures:
 * the modified MKM's z1D* and the HSG D10 it gives (Inaniwa et al. 2010), the LET-based proton
 * models' published parameters, closed form and an independent implementation's figures
 * (matRad), their limits, and the linear-quadratic algebra.
 */
#include <criterion/criterion.h>
#include <math.h>
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

/* Issue 16, the MKM against measured cells: the linear-quadratic alpha of HSG cells under
 * monoenergetic C-12 beams at HIMAC (Furusawa et al., Radiat. Res. 154 (2000) 485, via PIDE 3.4;
 * the reference file names the source and why its 22.5 keV/um row is left out). bragg's alpha
 * is alpha0 + beta0 z1D* at the row's energy (not its LET: the LET is bragg's own, logged beside
 * PIDE's). PIDE gives no errors; the repeated beams at ~30 and ~140 keV/um scatter by 0.13 in
 * ln alpha (sample standard deviation, pooled), which sets the tolerances, chosen before
 * looking at what bragg gives:
 *   - rising part (LET <= 150 keV/um): each alpha within 30% (ln 1.3 = 2 sigma of one
 *     measurement), and the mean of ln(bragg / measured) within +-0.10: its own statistical
 *     error is 0.13 / sqrt(n) (0.04 for 9-12 rows, 2 sigma 0.08), plus a few percent for the
 *     energy-LET relation (PIDE's LET is not bragg's). Inaniwa et al. (2010) fitted the
 *     model's HSG parameters to HSG data of this kind, so a faithful implementation shows no
 *     bias beyond that; an alpha 10-20% off shows as one.
 *   - overkill: measured alpha falls from ~1.7 Gy^-1 (137-199 keV/um) to ~1.0 Gy^-1 at
 *     467-502 keV/um, 40-45% down. bragg's maximum over the rows must lie between 80 and
 *     270 keV/um and its alpha at every row from 450 keV/um at least 20% below that maximum.
 *   - all rows: rms of ln(bragg / measured) at most 0.20: the measurements' own 0.13, and room
 *     in quadrature for the model's form (beta = beta0 at every LET, where the paper's free LQ
 *     fits let beta vary and put that into alpha).
 * Known disagreement (rows flagged 2 in the reference file, after the first comparison): at
 * 30-31 keV/um the model gives alpha 0.70 Gy^-1 against 0.36-0.48 measured (+47% to +95%),
 * although its z1D* there matches Inaniwa's within 3% (mkm_z1d_star_matches_inaniwa_2010).
 * These three rows are kept out of the checks above (with them the rising part's mean is
 * +0.17 and the rms 0.25, both failing) and are checked to still disagree by more than the
 * 30%: if that stops, the documented disagreement (docs/physics.md, section 5) is stale. */
Test(bio, mkm_alpha_matches_hsg_carbon_measured)
{
    bio_model m = hsg_mkm();
    const ref_table *ref = ref_load("hsg_carbon_alpha_furusawa2000.tsv");
    transport_table tab;
    water_table(&tab, 6);
    double alpha[REF_MAX_ROWS], a_max = 0, let_at_max = 0, sum_rise = 0, sum2 = 0, sum2_all = 0;
    int n = 0, n_rise = 0, n_known = 0;
    for (int i = 0; i < ref->rows; i++) {
        double let_pide = ref->v[i][0], t = ref->v[i][1], want = ref->v[i][2];
        int flag = (int)ref->v[i][3];
        alpha[i] = NAN;
        if (flag != 1 && flag != 2) {
            cr_log_info("HSG C-12 %g keV/um (%g MeV/u), alpha %g Gy^-1: left out (see the "
                        "reference file)", let_pide, t, want);
            continue;
        }
        double let = let_water(&tab, t), z = mkm_z1d_star(&m.cell, 6, t, let), beta;
        bio_alpha_beta(&m, z, &alpha[i], &beta);
        double r = log(alpha[i] / want), dev = alpha[i] / want - 1;
        cr_log_info("HSG C-12 %6.2f MeV/u: LET bragg %5.1f, PIDE %5.1f keV/um; z1D* %5.2f Gy; "
                    "alpha bragg %.3f, measured %.3f Gy^-1 (ratio %.2f)%s", t, let, let_pide, z,
                    alpha[i], want, alpha[i] / want, flag == 2 ? " known disagreement" : "");
        sum2_all += r * r;
        if (alpha[i] > a_max) {
            a_max = alpha[i];
            let_at_max = let_pide;
        }
        if (flag == 2) {
            cr_expect(dev > 0.30, "C-12 %g MeV/u (%g keV/um): alpha %.3f Gy^-1, measured %.3f "
                      "(%+.0f%%) now agrees within 30%%: the known disagreement is gone, update "
                      "the reference file's flag and docs/physics.md", t, let_pide, alpha[i],
                      want, 100 * dev);
            n_known++;
            continue;
        }
        if (let_pide <= 150) {
            cr_expect(fabs(dev) <= 0.30, "C-12 %g MeV/u (%g keV/um): alpha %.3f Gy^-1, "
                      "measured %.3f (%+.0f%%)", t, let_pide, alpha[i], want, 100 * dev);
            sum_rise += r;
            n_rise++;
        }
        sum2 += r * r;
        n++;
    }
    transport_table_free(&tab);
    cr_assert(n == 17 && n_rise == 9 && n_known == 3, "%d rows compared (%d below 150 keV/um), "
              "%d known disagreements", n, n_rise, n_known);
    double bias = sum_rise / n_rise, rms = sqrt(sum2 / n);
    cr_expect(fabs(bias) <= 0.10, "rising part: mean ln(bragg / measured) %+.3f", bias);
    cr_expect(let_at_max >= 80 && let_at_max <= 270, "alpha's maximum %.3f Gy^-1 at %g keV/um",
              a_max, let_at_max);
    int n_over = 0;
    for (int i = 0; i < ref->rows; i++) {
        if (isnan(alpha[i]) || ref->v[i][0] < 450) continue;
        cr_expect(alpha[i] <= 0.80 * a_max, "overkill at %g keV/um: alpha %.3f Gy^-1, only "
                  "%.0f%% below the maximum %.3f", ref->v[i][0], alpha[i],
                  100 * (1 - alpha[i] / a_max), a_max);
        n_over++;
    }
    cr_expect(n_over == 3, "%d rows from 450 keV/um", n_over);
    cr_expect(rms <= 0.20, "rms ln(bragg / measured) %.3f over %d rows", rms, n);
    cr_log_info("HSG C-12 alpha vs Furusawa 2000: mean ln ratio %+.3f over %d rows to 150 "
                "keV/um, rms %.3f over %d rows (%.3f with the %d known disagreements), maximum "
                "%.3f Gy^-1 at %g keV/um", bias, n_rise, rms, n, sqrt(sum2_all / (n + n_known)),
                n_known, a_max, let_at_max);
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
