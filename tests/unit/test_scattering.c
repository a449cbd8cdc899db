/*
 * test_scattering.c - multiple Coulomb scattering: the lateral spread of a zero-width pencil beam
 * against independent figures (tests/reference/lateral_spread.tsv).
 *
 * What bragg scores: lateral_rms[i] = sqrt(sum track * (x^2 + y^2)/2 / sum track) over the primaries
 * in depth bin i, i.e. the fluence-weighted projected (one axis) rms offset from the beam axis. For
 * a beam on the axis that is the projected rms displacement sigma_y of Fermi-Eyges theory.
 *
 * The reference curve is the "extended Highland" model (Gottschalk et al. 1993): the Fermi-Eyges
 * second moment with Highland's thick-target factor at the full depth z,
 *     sigma_y^2(z) = (Es z_ion)^2 (1 + log10(z/X0)/9)^2 integral_0^z (z - x)^2 / (pv(x))^2 dx/X0,
 * evaluated here from published CSDA ranges (NIST PSTAR for protons, ICRU 90 for C-12) and the
 * PDG radiation length, not from bragg's tables. Kanematsu (Phys. Med. Biol. 54 (2009) N67) states
 * that this model agrees with measured rms displacements in water within 2% or 0.02 cm; that
 * statement is what ties the curve to measurement. bragg is checked against it within that
 * accuracy (bragg is 4-5% narrower, see check_case) and against the same formula used as a
 * scattering power, which is how bragg's step applies it.
 *
 * Nuclear reactions are off: they remove primaries at random (not by lateral position), so they do
 * not change the spread of the survivors, only thin them out; the comparison is about Coulomb
 * scattering alone, and every history then counts.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "constants.h"
#include "engine.h"
#include "refdata.h"
#include "testkit.h"

TestSuite(scattering, .timeout = 300);

/* The C-12 nucleus: 12 u less six electron masses (CODATA 2018, physics/constants.h; the
 * electrons' binding, 1 keV, is far below what matters here). */
#define C12_NUCLEUS_MEV (12.0 * ATOMIC_MASS_UNIT_MEV - 6.0 * ELECTRON_MASS_MEV)

/* A range-energy table read from tests/reference: kinetic energy of the whole ion (MeV) and its
 * CSDA range (g/cm^2), ascending. */
typedef struct ref_range_table {
    int n;
    double T[REF_MAX_ROWS], R[REF_MAX_ROWS];
} ref_range_table;

static void ref_range_table_load(ref_range_table *t, const char *file, int col_T, int col_R)
{
    const ref_table *ref = ref_load(file);
    t->n = 0;
    for (int i = 0; i < ref->rows; i++) {
        double T = ref->v[i][col_T], R = ref->v[i][col_R];
        if (isnan(T) || isnan(R)) continue;
        cr_assert(t->n == 0 || (T > t->T[t->n - 1] && R > t->R[t->n - 1]), "%s not ascending", file);
        t->T[t->n] = T;
        t->R[t->n] = R;
        t->n++;
    }
    cr_assert(t->n > 10, "%s: no range column", file);
}

/* Log-log interpolation between the table's points (both grow as powers of each other). */
static double loglog(const double *x, const double *y, int n, double v)
{
    int i = 1;
    while (i < n - 1 && x[i] < v) i++;
    double f = log(v / x[i - 1]) / log(x[i] / x[i - 1]);
    return exp(log(y[i - 1]) + f * log(y[i] / y[i - 1]));
}

static double ref_range_at(const ref_range_table *t, double T) { return loglog(t->T, t->R, t->n, T); }
static double ref_energy_at(const ref_range_table *t, double R) { return loglog(t->R, t->T, t->n, R); }

/* The reference figures of lateral_spread.tsv by quantity key. */
static double lateral_ref(const char *key, int col)
{
    const ref_table *ref = ref_load("lateral_spread.tsv");
    for (int i = 0; i < ref->rows; i++)
        if (strcmp(ref->text[i][0], key) == 0) return ref->v[i][col];
    cr_assert_fail("lateral_spread.tsv has no row %s", key);
    return NAN;
}
#define REF_VALUE       5
#define REF_UNCERTAINTY 6

/* Radiation length of water, g/cm^2 (PDG, via extra_references.tsv). */
static double water_x0(void)
{
    double x0 = ref_extra("X0", "none", "water", NAN, "OPAL");
    cr_assert(isfinite(x0), "extra_references.tsv: no X0 of water");
    return x0;
}

/* Fermi-Eyges projected rms displacement at depth z, cm, for an ion of charge zc and mass M (MeV)
 * that enters water (density 1) with residual range R0 (g/cm^2), zero width and divergence. With
 * Highland's factor f(L) = 1 + log10(L)/9 and S(x) = integral_0^x dx'/(pv^2 X0), two readings of
 * "Highland generalised to thick targets":
 *   integral (full_L = 1): sigma^2 = (Es zc)^2 f(z/X0)^2 integral_0^z (z - x)^2 dS(x)
 *       (the factor at the whole depth, as Gottschalk et al. 1993 apply it to a thick slab);
 *   differential (0):      sigma^2 = (Es zc)^2 integral_0^z (z - x)^2 d[f(x/X0)^2 S(x)]
 *       (theta0^2 of the path so far used as a scattering power, which is what bragg's step does:
 *       each step adds theta0^2(after) - theta0^2(before)).
 * Since f grows along the path, the second is smaller (by 4-5% in sigma for protons in water).
 * Midpoint rule on 4000 points: the integrand is smooth for z < R0. */
static double highland_sigma_y(const ref_range_table *t, double R0, double M, double zc, double z,
                               int full_L)
{
    const double Es = lateral_ref("highland-Es", REF_VALUE);
    const double log_den = lateral_ref("highland-log-denominator", REF_VALUE);
    const double X0 = water_x0();
    const int n = 4000;
    double dx = z / n, S = 0.0, var = 0.0, theta2_prev = 0.0;
    for (int i = 0; i < n; i++) {
        double x = (i + 0.5) * dx;
        double T = ref_energy_at(t, R0 - x);
        double pv = T * (T + 2.0 * M) / (T + M);
        double dS = dx / (pv * pv * X0);
        S += dS;
        if (full_L) {
            var += (z - x) * (z - x) * dS;
        } else {
            double f = 1.0 + log10((x + 0.5 * dx) / X0) / log_den;
            double theta2 = f * f * S;
            var += (z - x) * (z - x) * (theta2 - theta2_prev);
            theta2_prev = theta2;
        }
    }
    double f_z = full_L ? 1.0 + log10(z / X0) / log_den : 1.0;
    return Es * zc * f_z * sqrt(var);
}

/* bragg's lateral rms at depth z (the bin holding it). */
static double bragg_lateral(const run_snapshot *s, double z)
{
    int i = (int)(z / s->result.bin_width);
    cr_assert(i >= 0 && i < s->result.nbins, "depth %g cm outside the grid", z);
    return s->result.lateral_rms[i];
}

/* One comparison: an ion at energy MeV/u in water, at fractions of the CSDA range. */
typedef struct lateral_case {
    const char *ion;
    double energy;          /* MeV/u */
    int A;                  /* to convert to the table's whole-ion energy */
    double zc, mass;        /* charge, mass MeV */
    const char *table;      /* range table in tests/reference */
    int col_T, col_R;
    double iwater;          /* the I-value the table was computed with */
} lateral_case;

static const double fractions[] = {0.5, 0.9, 0.95};
#define N_FRACTIONS (sizeof fractions / sizeof fractions[0])

typedef struct lateral_point {
    double depth;           /* cm */
    double bragg;           /* bragg's lateral rms, cm */
    double integral;        /* extended Highland, factor at the full depth (measurement-tied) */
    double differential;    /* the same model used as a scattering power (bragg's reading) */
} lateral_point;

/* Histories per case: the projected rms from N independent offsets has a relative standard error
 * of 1/sqrt(2N); 40000 give 0.35%, so 3 sigma is 1.1%. */
#define HISTORIES 40000
#define MC_3SIGMA (3.0 / sqrt(2.0 * HISTORIES))

static void run_case(const lateral_case *lc, lateral_point pt[N_FRACTIONS])
{
    ref_range_table t;
    ref_range_table_load(&t, lc->table, lc->col_T, lc->col_R);
    double R0 = ref_range_at(&t, lc->energy * lc->A);
    run_config c = testkit_config(lc->ion, lc->energy, HISTORIES);
    c.nuclear = 0;
    c.iwater = lc->iwater;
    /* The reference-quality step (docs/physics.md, step-size convergence): the lateral spread is
     * not step-converged at the default 4% (1-2% low for protons, up to 4% for C-12 at mid-range,
     * see docs/physics.md), and this test is about the scattering model, not the step. */
    c.step_fraction = 0.01;
    run_snapshot s = testkit_run(&c, NULL);
    for (size_t k = 0; k < N_FRACTIONS; k++) {
        lateral_point *q = &pt[k];
        q->depth = fractions[k] * R0;
        q->bragg = bragg_lateral(&s, q->depth);
        q->integral = highland_sigma_y(&t, R0, lc->mass, lc->zc, q->depth, 1);
        q->differential = highland_sigma_y(&t, R0, lc->mass, lc->zc, q->depth, 0);
        cr_log_info("%s %g MeV/u, z = %.2f cm (%.2f R): bragg %.4f cm; extended Highland %.4f cm "
                    "(%+.1f%%), as scattering power %.4f cm (%+.1f%%)", lc->ion, lc->energy,
                    q->depth, fractions[k], q->bragg, q->integral,
                    100.0 * (q->bragg / q->integral - 1.0), q->differential,
                    100.0 * (q->bragg / q->differential - 1.0));
    }
    run_snapshot_free(&s);
}

/* The checks of one case.
 *
 * (1) Against the measurement-tied curve (extended Highland, factor at the full depth): Kanematsu
 *     gives its agreement with measured rms displacements as "within 2% or 0.02 cm"; read as
 *     whichever is larger, that is the reference's own accuracy, and bragg must lie within it (plus
 *     three Monte Carlo standard errors) on both sides. At mid-range (0.03-0.2 cm) the 0.02 cm
 *     dominates and the check is loose; near the end of range of 150-200 MeV protons (0.3-0.55 cm)
 *     it is 4-6% and binding.
 *     bragg lies 4-5% BELOW this curve (protons 3.7-5.2%, C-12 4.2-5.2%): it applies Highland's
 *     logarithmic factor per step, as a scattering power d[f(L)^2 S], which weights the early,
 *     small-L part of the path with the smaller f (the model alone gives the same 4-5%, see (2)).
 *     Which reading is closer to measurement is not settled by the figures at hand: Gottschalk's
 *     differential Moliere scattering power (Med. Phys. 37 (2010) 352), also a local power, gives
 *     narrower spreads still (docs/physics.md, section 3).
 * (2) Against the model bragg implements, evaluated independently (published ranges, own
 *     quadrature): within 1% (the inputs: PSTAR / ICRU 90 ranges agree with bragg's to 0.3%, and
 *     the depth of a bin is not the path length travelled, a few tenths of a percent near the end)
 *     plus three Monte Carlo standard errors. A scattering angle 10% too large or too small fails
 *     every point. */
static void check_case(const lateral_case *lc, const lateral_point pt[N_FRACTIONS])
{
    double kan_rel = lateral_ref("rms-accuracy-rel", REF_VALUE) / 100.0;
    double kan_abs = lateral_ref("rms-accuracy-abs", REF_VALUE);
    for (size_t k = 0; k < N_FRACTIONS; k++) {
        const lateral_point *q = &pt[k];
        double vs_integral = q->bragg / q->integral - 1.0;
        double vs_differential = q->bragg / q->differential - 1.0;
        double kan = fmax(kan_rel, kan_abs / q->integral);
        cr_expect(fabs(vs_integral) <= kan + MC_3SIGMA,
                  "%s %g MeV/u at %.2f cm: bragg %.4f cm is %+.1f%% off the extended Highland "
                  "curve %.4f cm (tolerance %.1f%%)", lc->ion, lc->energy, q->depth, q->bragg,
                  100.0 * vs_integral, q->integral, 100.0 * (kan + MC_3SIGMA));
        cr_expect(fabs(vs_differential) <= 0.01 + MC_3SIGMA,
                  "%s %g MeV/u at %.2f cm: bragg %.4f cm vs %.4f cm for Highland as a scattering "
                  "power (%+.1f%%)", lc->ion, lc->energy, q->depth, q->bragg, q->differential,
                  100.0 * vs_differential);
    }
}

/* Protons at 100-200 MeV (PSTAR ranges, I = 75 eV like bragg's default): mid-range and the last
 * 10% of the range. Nuclear reactions off (see the top of the file). And 10 MeV, a 1.2 mm range:
 * radii of 10-30 um, whose lateral sum was under a quantum per bin in the first third of the
 * depth until the sum's quanta followed the grid (transport_params.lateral_quanta): its spread
 * read 0 there. */
Test(scattering, proton_lateral_spread_against_highland)
{
    static const lateral_case cases[] = {
        {"p", 10, 1, 1, PROTON_MASS_MEV, "pstar_water.tsv", 0, 2, 75.0},
        {"p", 100, 1, 1, PROTON_MASS_MEV, "pstar_water.tsv", 0, 2, 75.0},
        {"p", 150, 1, 1, PROTON_MASS_MEV, "pstar_water.tsv", 0, 2, 75.0},
        {"p", 200, 1, 1, PROTON_MASS_MEV, "pstar_water.tsv", 0, 2, 75.0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lateral_point pt[N_FRACTIONS];
        run_case(&cases[i], pt);
        check_case(&cases[i], pt);
    }
}

/* C-12 at 290 MeV/u (ICRU 90 ranges, so bragg runs with I = 78 eV like the table): the same
 * Highland form with z = 6 and pv of the whole nucleus; Kanematsu's statement covers ions. */
Test(scattering, carbon_lateral_spread_against_highland)
{
    static const lateral_case carbon = {"C-12", 290, 12, 6, C12_NUCLEUS_MEV,
                                        "c12_water_icru90.tsv", 0, 4, 78.0};
    lateral_point pt[N_FRACTIONS];
    run_case(&carbon, pt);
    check_case(&carbon, pt);
}
