/*
 * test_biology.c - the radiobiological models (physics/biology.h) against published figures:
 * the modified MKM's z1D* and the HSG D10 it gives (Inaniwa et al. 2010), the LET-based proton
 * models' published limits, and the linear-quadratic algebra.
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

/* McNamara et al. (2015): RBEmax -> p0 and RBEmin -> p2 at zero LET, so the RBE of a low-LET
 * proton field is about 1 at low dose and 1.1 at high dose; at (alpha/beta)_x = 2 Gy and
 * LET_d = 10 keV/um, RBEmax = 0.99064 + 0.35605 * 10 / 2 = 2.77 (their equation): the RBE
 * at vanishing dose. Wedenberg: alpha ratio 1 + 0.434 LET / (alpha/beta)_x, beta unchanged. */
Test(bio, proton_let_models)
{
    bragg_err e;
    bio_model m;
    cr_assert(bio_model_load(&m, "mcnamara", NULL, 2.0, &e) == BRAGG_OK, "%s", e.msg);
    bio_point p;
    bio_evaluate(&m, 10.0, 0.0, &p);
    cr_expect(fabs(p.rbe - (0.99064 + 0.35605 * 10 / 2)) < 1e-9, "RBEmax %g", p.rbe);
    bio_evaluate(&m, 10.0, 1e6, &p);
    double rbe_min = 1.1012 - 0.0038703 * sqrt(2.0) * 10;
    cr_expect(fabs(p.rbe - rbe_min) < 1e-3, "RBE at high dose %g, RBEmin %g", p.rbe, rbe_min);
    /* RBE falls with dose and rises with LET. */
    bio_point a, b;
    bio_evaluate(&m, 5.0, 1.0, &a);
    bio_evaluate(&m, 5.0, 4.0, &b);
    cr_expect(a.rbe > b.rbe);
    bio_evaluate(&m, 8.0, 2.0, &b);
    bio_evaluate(&m, 2.0, 2.0, &a);
    cr_expect(b.rbe > a.rbe);
    cr_assert(bio_model_load(&m, "wedenberg", NULL, 3.0, &e) == BRAGG_OK, "%s", e.msg);
    bio_evaluate(&m, 6.0, 0.0, &p);
    cr_expect(fabs(p.rbe - (1 + 0.434 * 6 / 3)) < 1e-9);
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
