/*
 * test_halo.c - the nuclear halo of a proton pencil beam in water against the measurement of
 * Gottschalk, Cascio, Daartz and Wagner (Phys. Med. Biol. 60 (2015) 5627, 177 MeV in a water
 * tank; the numbers read from it are in tests/reference/halo_gottschalk2015.tsv), issue 15.
 *
 * What the measurement gives in numbers (its abstract; its dose table could not be read): the
 * halo, made by charged nuclear secondaries, reaches "roughly one third of the beam range", and
 * beyond it the aura of neutral secondaries (neutrons, gamma rays) takes over; the scans span
 * five decades of dose and "the transition from halo to aura is obvious". So the halo's radius
 * is where most of its dose has been deposited and the rest is below what the aura adds, not
 * where its last traces end: since bragg samples proton reactions from ICRU Report 63, whose
 * fast protons reach wide angles (Kalbach's systematics, fitted to measured spectra), bragg's
 * charged secondaries leave 1e-4 of the energy beyond 0.47 R, far below the aura. The test
 * compares the radius that holds 99% of the halo's energy with R/3 and checks that the halo,
 * and with it the field-size effect (the integral depth-dose of a 2 cm radius detector against
 * the whole plane), comes from the nuclear reactions, as the measurement's authors explain it.
 * docs/physics.md, section 4 ("The nuclear halo of a proton pencil beam"), has the numbers and
 * what still differs.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "refdata.h"
#include "testkit.h"

TestSuite(halo, .timeout = 300);

/* The measured beam: 177 MeV protons. Its size and emittance (Appendix D of the e-print) could
 * not be read; a pencil without spot or divergence stands in. The halo radius (centimetres) does
 * not depend on a spot of millimetres. */
#define HALO_ENERGY 177.0
#define HALO_HISTORIES 200000
#define HALO_MAP_BIN_CM 0.1
#define HALO_MAP_RADIUS_CM 12.0   /* beyond the scans' 10 cm, and beyond the grid one more bin */
#define HALO_DEPTH_BIN_CM 0.5

/* The halo: the energy deposited beyond the core, whose Gaussian (sigma <= 0.5 cm up to the
 * Bragg peak without nuclear reactions: the_field_size_effect_comes_from_nuclear_reactions) holds
 * all but 1.4e-4 of its energy within 2 sigma = 1 cm. Its radius: the one within which 99% of
 * that energy lies (this test's convention: the source defines none). Between 98% and 99.5% the
 * radius moves by 0.1 R (0.29-0.385 R), a spread the tolerance below must carry. */
#define HALO_CORE_CM 1.0
#define HALO_CONTAINED 0.99

/* Runs n histories of c and returns the energy (quanta) per lateral bin of the map summed over
 * all depths, the last entry the bin beyond the grid, and per depth bin the energy within
 * radius r_in and in total. */
typedef struct halo_run {
    int bins, nbins;
    double bin_cm, depth_bin_cm;
    double *ring;        /* [bins]: energy per lateral bin over all depths */
    double *inside;      /* [nbins]: energy within r_in at each depth */
    double *total;       /* [nbins]: all energy at each depth */
    double sum;
} halo_run;

static halo_run halo_scored(run_config *c, double r_in)
{
    engine *en;
    bragg_err e;
    cr_assert(engine_create(&en, c, &e) == BRAGG_OK, "%s", e.msg);
    const transport_params *p = engine_params(en);
    score_arrays a;
    cr_assert(score_arrays_init(&a, p, &e) == BRAGG_OK, "%s", e.msg);
    cr_assert(engine_run_range(en, 0, c->histories, &a, &e) == BRAGG_OK, "%s", e.msg);
    halo_run h = {.bins = p->map_bins, .nbins = p->nbins, .bin_cm = c->map_bin_cm,
                  .depth_bin_cm = c->bin_width_cm};
    h.ring = calloc((size_t)h.bins, sizeof *h.ring);
    h.inside = calloc((size_t)h.nbins, sizeof *h.inside);
    h.total = calloc((size_t)h.nbins, sizeof *h.total);
    cr_assert(h.ring && h.inside && h.total);
    int j_in = (int)lround(r_in / h.bin_cm);
    for (int j = 0; j < h.bins; j++) {
        const int64_t *curve = score_curve(&a, CURVE_MAP(p->channels, j));
        for (int i = 0; i < h.nbins; i++) {
            double q = (double)curve[i];
            h.ring[j] += q;
            h.total[i] += q;
            if (j < j_in) h.inside[i] += q;
            h.sum += q;
        }
    }
    score_arrays_free(&a);
    engine_destroy(en);
    return h;
}

static void halo_free(halo_run *h)
{
    free(h->ring);
    free(h->inside);
    free(h->total);
}

/* The smallest grid radius beyond which at most `fraction` of all the energy lies. */
static double halo_edge(const halo_run *h, double fraction)
{
    double beyond = h->sum;
    for (int j = 0; j < h->bins; j++) {
        beyond -= h->ring[j];
        if (beyond <= fraction * h->sum) return (j + 1) * h->bin_cm;
    }
    return INFINITY;
}

/* The smallest grid radius within which `share` of the energy beyond core_cm lies (the last
 * lateral bin, beyond the grid, counted in the whole). */
static double halo_containing(const halo_run *h, double core_cm, double share)
{
    int j0 = (int)lround(core_cm / h->bin_cm);
    double halo = 0.0, within = 0.0;
    for (int j = j0; j < h->bins; j++) halo += h->ring[j];
    for (int j = j0; j < h->bins - 1; j++) {
        within += h->ring[j];
        if (within >= share * halo) return (j + 1) * h->bin_cm;
    }
    return INFINITY;
}

/* The share of the depth bin holding z that lies beyond the detector radius r_in. */
static double halo_outside(const halo_run *h, double z)
{
    int i = (int)(z / h->depth_bin_cm);
    cr_assert(i >= 0 && i < h->nbins && h->total[i] > 0);
    return 1.0 - h->inside[i] / h->total[i];
}

/* NIST PSTAR's CSDA range in water (g/cm^2 = cm), log-log between the table's energies. */
static double pstar_range(double T)
{
    double r = ref_loglog(ref_load("pstar_water.tsv"), 0, 2, T);
    cr_assert(!isnan(r), "%g MeV outside PSTAR's table", T);
    return r;
}

/* A row of halo_gottschalk2015.tsv. */
static double measured(const char *quantity)
{
    const ref_table *t = ref_load("halo_gottschalk2015.tsv");
    for (int i = 0; i < t->rows; i++)
        if (strcmp(t->text[i][0], quantity) == 0 && t->v[i][1] == HALO_ENERGY) return t->v[i][2];
    cr_assert_fail("%s missing from halo_gottschalk2015.tsv", quantity);
    return NAN;
}

static run_config halo_config(int nuclear)
{
    run_config c = testkit_config("p", HALO_ENERGY, HALO_HISTORIES);
    snprintf(c.slabs[0].material, sizeof c.slabs[0].material, "water");
    c.nuclear = nuclear;
    c.map_kind = MAP_RZ;
    c.map_bin_cm = HALO_MAP_BIN_CM;
    c.map_radius_cm = HALO_MAP_RADIUS_CM;
    c.bin_width_cm = HALO_DEPTH_BIN_CM;
    return c;
}

/*
 * Issue 15: the halo's radius against the measured "roughly one third of the beam range". A
 * sanity check, not a validation of the reaction model: see the last paragraph.
 *
 * What the source gives (halo_gottschalk2015.tsv's header: only the abstract could be read):
 * the ratio in words, to one figure, with no measurement uncertainty and no definition of the
 * radius in numbers. The definition here is therefore this test's own: the radius holding 99%
 * of the halo's energy (HALO_CONTAINED, beyond the core's HALO_CORE_CM). Why a containment
 * radius and not where the halo's last traces end: beyond the halo the measurement sees the
 * aura of neutral secondaries ("the transition from halo to aura is obvious"), so its halo
 * ends where most of the halo's dose has been deposited; the 99% itself is a convention the
 * source neither gives nor excludes.
 *
 * Tolerance, 0.105 R, the sum of what the comparison cannot resolve: the one-figure statement
 * ("roughly one third", +-0.05 R); the unstated definition, which moves bragg's radius by
 * 0.1 R between containing 98% and 99.5% (+-0.05 R); one lateral bin of statistics (0.1 cm =
 * 0.005 R).
 *
 * Expected from kinematics (our estimate, not the paper's): a proton scattered quasi-freely on
 * a proton keeps E cos^2(theta); with range ~ E^1.75 (PSTAR, 100-200 MeV) a secondary born at
 * the entrance reaches at most r = R cos^3.5(theta) sin(theta) off the axis, largest at
 * tan^2(theta) = 1 / 3.5: 0.30 R. Fermi motion and pre-equilibrium emission (in ICRU 63's
 * angular distributions) carry some beyond.
 *
 * Measured with bragg: 99% of the halo's energy within 7.1 cm = 0.338 R (R = 21.0 cm), 98%
 * within 0.290 R, 99.5% within 0.385 R (with ICRU 63's elastic scattering on nuclei; 0.352 R
 * without). ICRU 63's reactions put 1e-5 of the energy beyond the 12 cm grid, and 1e-4 beyond
 * 10.2 cm (0.49 R), where the measurement sees the aura.
 *
 * What this cannot tell: the accepted window, 0.228-0.438 R, holds both the ICRU 63 reactions
 * (0.338 R) and the knockout model they replaced on 2026-12-05, whose halo held 99% of its
 * energy within 0.24 R (and had a sharp edge at 0.30 R): with what the abstract states, the
 * test cannot tell the two apart, and its passing says only that bragg's halo has the extent
 * the measurement states, to the precision it is stated in. It fails for a halo without
 * nuclear reactions (the core alone) or one reaching twice as far. Of the halo's sources the
 * authors name bragg lacks inelastic scattering to oxygen's discrete levels beyond what ICRU
 * 63's nonelastic products hold.
 */
Test(halo, halo_radius_is_roughly_a_third_of_the_range_sanity_check)
{
    run_config c = halo_config(1);
    halo_run h = halo_scored(&c, 2.0);
    double R = pstar_range(HALO_ENERGY);
    double ref = measured("halo-radius-over-range");
    double edge = halo_containing(&h, HALO_CORE_CM, HALO_CONTAINED);
    double q = edge / R;
    cr_log_info("p %g MeV in water: the halo's energy (beyond %.1f cm) is 98%%, 99%%, 99.5%% within "
                "%.2f, %.2f, %.2f cm; R (PSTAR CSDA) %.2f cm; 99%%: %.3f R against %.3f measured",
                HALO_ENERGY, HALO_CORE_CM, halo_containing(&h, HALO_CORE_CM, 0.98), edge,
                halo_containing(&h, HALO_CORE_CM, 0.995), R, q, ref);
    cr_log_info("p %g MeV in water: 1e-4, 1e-5 of all the energy beyond %.2f, %.2f cm", HALO_ENERGY,
                halo_edge(&h, 1e-4), halo_edge(&h, 1e-5));
    cr_expect(fabs(q - ref) <= 0.105,
              "halo radius %.2f cm = %.3f R, the measurement says roughly %.3f R (+-0.105 R)",
              edge, q, ref);
    /* The grid (HALO_MAP_RADIUS_CM) reaches past the scans' largest displacement (10 cm): the
     * measured dose there is the aura, which bragg does not make (no neutral secondaries;
     * docs/physics.md, section 6). Logged, not asserted: transporting neutrons would rightly
     * change it. */
    double beyond10 = 0;
    for (int j = (int)lround(measured("displacement-max") / h.bin_cm); j < h.bins; j++)
        beyond10 += h.ring[j];
    cr_log_info("energy beyond 10 cm: %.2e of all (the measurement's aura is not modelled)",
                beyond10 / h.sum);
    halo_free(&h);
}

/*
 * Issue 15: the field-size effect. A detector of 2 cm radius misses the halo beyond it; the
 * authors attribute the halo to charged secondaries of nuclear interactions, and the core to
 * primaries that only scatter electromagnetically. Without nuclear reactions bragg's core is a
 * Gaussian of sigma <= 0.5 cm up to the Bragg peak (the map's core_sigma), which leaves at most
 * exp(-2^2 / (2 * 0.5^2)) = 3.4e-4 of the dose beyond 2 cm; with them, the share beyond 2 cm at
 * mid-range must stand far above that (at 1e5 histories 0.048 at R/2 with ICRU 63's reactions;
 * 0.038-0.040 at seeds 1-4 with the knockout model before).
 * No measured ratio of a small to a large detector was found (halo_gottschalk2015.tsv lists
 * what was searched), so bragg's values are logged and written in docs/physics.md, not
 * compared with a measurement.
 */
Test(halo, the_field_size_effect_comes_from_nuclear_reactions)
{
    double R = pstar_range(HALO_ENERGY);
    run_config with = halo_config(1), without = halo_config(0);
    with.histories = without.histories = HALO_HISTORIES / 2;
    halo_run hw = halo_scored(&with, 2.0), ho = halo_scored(&without, 2.0);
    static const double depth_over_range[] = {0.05, 0.25, 0.5, 0.75, 0.9};
    double mid_with = NAN, mid_without = NAN;
    for (size_t k = 0; k < sizeof depth_over_range / sizeof depth_over_range[0]; k++) {
        double z = depth_over_range[k] * R;
        double fw = halo_outside(&hw, z), fo = halo_outside(&ho, z);
        cr_log_info("z = %5.2f cm (%.2f R): beyond 2 cm %.4f with nuclear reactions, %.1e without",
                    z, depth_over_range[k], fw, fo);
        cr_expect(fo <= 3.4e-4, "without reactions %.2e of the dose at %.1f cm lies beyond 2 cm",
                  fo, z);
        if (depth_over_range[k] == 0.5) {
            mid_with = fw;
            mid_without = fo;
        }
    }
    cr_expect(mid_with > 10 * 3.4e-4 && mid_with > 10 * mid_without,
              "at R/2 the halo beyond 2 cm (%.4f) stands above the core's tail (%.1e)", mid_with,
              mid_without);
    halo_free(&hw);
    halo_free(&ho);
}
