/*
 * test_nuclear.c - nuclear reactions: cross-sections against measurements and an evaluation,
 * the fraction of protons lost to reactions, what a proton's reaction on carbon hands on
 * against ICRU Report 63, the proton's elastic scattering on hydrogen (its cross-section,
 * kinematics and rate), and what fragmentation does to a carbon Bragg curve, against the
 * measured GSI curve (Haettner et al.).
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "catalog.h"
#include "constants.h"
#include "engine.h"
#include "fragmentation.h"
#include "glauber.h"
#include "icru63.h"
#include "measured.h"
#include "nuclear.h"
#include "refdata.h"
#include "tables.h"
#include "testkit.h"

TestSuite(nuclear, .timeout = 300);

/* C-12 + C-12 total reaction cross-sections measured at 30, 83 and 200 MeV/u (as tabulated in
 * the Geant4 Physics Reference Manual, table 16.1; tests/reference/nuclear_benchmarks.tsv):
 * within two standard deviations of each measurement (Tripathi's fit at 30 and 83 MeV/u,
 * Glauber's optical limit at 200; the next test checks both against 88 more points). */
Test(nuclear, carbon_carbon_cross_section_vs_measurement)
{
    const ref_table *ref = ref_load("nuclear_benchmarks.tsv");
    int checked = 0;
    for (int i = 0; i < ref->rows; i++) {
        if (strcmp(ref->text[i][0], "sigma_R") != 0) continue;
        double E = ref->v[i][2], sigma = ref->v[i][5], err = ref->v[i][6];
        double model = nuclear_reaction_xs_mb(6, 12, 6, 12, E);
        cr_expect(fabs(model - sigma) <= 2.0 * err, "C+C at %g MeV/u: %.1f mb vs measured %g +- %g",
                  E, model, sigma, err);
        cr_log_info("C-12 + C-12 at %g MeV/u: %.1f mb, measured %g +- %g mb (%+.1f%%)", E, model,
                    sigma, err, 100 * (model / sigma - 1));
        checked++;
    }
    cr_expect(checked == 3);
}

/* Lithium, beryllium and carbon nuclei on Be, C and Al against measured reaction and interaction
 * cross-sections (tests/reference/ion_reaction_xs.tsv, from EXFOR: Takechi et al. 2009, Ponnath
 * et al. 2024, Tanihata et al. 1985, Fukuda et al. 1999): the rate at which a carbon beam and
 * its heavier fragments react. physics/nuclear.c takes Glauber's optical limit (glauber.h) above
 * 150 MeV/u and Tripathi's fit below 100, linearly blended between:
 *   - from 140 MeV/u up: each point within two standard deviations or 10%, and within 3% on
 *     average. Tripathi alone is 8-19% high for C-12 on Be and C above 190 MeV/u, 12-15% for
 *     C + C at 400-1000 MeV/u, and 53-71% high for Li-6 and Li-7 at 790 MeV/u (his lithium
 *     rule). The worst point now: Li-6 (an alpha + deuteron cluster) on Al at 790, +9%;
 *   - 30-140 MeV/u (Tripathi's fit, and the blend from 100): each within two standard
 *     deviations or 20% (Be-7 on Be and Al at 31.5 MeV/u are 14-17% above the fit), within 6% on
 *     average. The optical limit alone would be 3-24% low there.
 * Each point's log line shows the model, Tripathi and the optical limit. Sensitivity (the
 * optical limit scaled by hand in physics/nuclear.c, reverted): x 1.03 fails (mean 4.8%), x 0.95
 * fails (3.5%), x 0.97 passes with a better mean (1.9%): the optical limit sits about 1.5% above
 * these measurements on average (signed mean +1.7%, logged), so the data cannot reject a 3%
 * lower cross-section, only a 3% higher or a 5% lower one. */
Test(nuclear, ion_cross_sections_vs_measurement)
{
    const ref_table *ref = ref_load("ion_reaction_xs.tsv");
    int high = 0, low = 0;
    double sum_high = 0.0, sum_low = 0.0, signed_high = 0.0;
    for (int i = 0; i < ref->rows; i++) {
        int Zp = (int)ref->v[i][2], Ap = (int)ref->v[i][3], Zt = (int)ref->v[i][4],
            At = (int)ref->v[i][5];
        double E = ref->v[i][6], sigma = ref->v[i][7], err = ref->v[i][8];
        double model = nuclear_reaction_xs_mb(Zp, Ap, Zt, At, E);
        double tripathi = nuclear_xs_tripathi_mb(Zp, Ap, Zt, At, E);
        double glauber = glauber_reaction_xs_mb(Zp, Ap, Zt, At, E);
        double dev = model / sigma - 1.0;
        int is_high = E >= 140.0;
        double limit = fmax(2.0 * err, (is_high ? 0.10 : 0.20) * sigma);
        cr_log_info("Z=%d A=%-2d on Z=%-2d at %6.1f MeV/u (%s %s): %6.1f mb, measured %6.1f +- "
                    "%4.1f (%+5.1f%%); Tripathi %+5.1f%%, optical limit %+5.1f%%", Zp, Ap, Zt, E,
                    ref->text[i][0], ref->text[i][1], model, sigma, err, 100 * dev,
                    100 * (tripathi / sigma - 1), 100 * (glauber / sigma - 1));
        cr_expect(fabs(model - sigma) <= limit, "Z=%d A=%d on Z=%d at %g MeV/u (%s): %.1f mb vs "
                  "%g +- %g", Zp, Ap, Zt, E, ref->text[i][0], model, sigma, err);
        if (is_high) {
            high++;
            sum_high += fabs(dev);
            signed_high += dev;
        } else {
            low++;
            sum_low += fabs(dev);
        }
    }
    cr_assert(high == 50 && low == 38, "%d points from 140 MeV/u, %d below", high, low);
    cr_expect(sum_high / high <= 0.03, "from 140 MeV/u: mean deviation %.1f%%",
              100 * sum_high / high);
    cr_expect(sum_low / low <= 0.06, "30-140 MeV/u: mean deviation %.1f%%", 100 * sum_low / low);
    cr_log_info("mean |deviation|: %.1f%% over %d points from 140 MeV/u (signed mean %+.1f%%), "
                "%.1f%% over %d below", 100 * sum_high / high, high, 100 * signed_high / high,
                100 * sum_low / low, low);
}

/* Lithium's reaction cross-section between the two energies where it is measured. Li-6 on C is
 * 1157 +- 31 mb at 38 MeV/u (Fukuda et al. 1999), as C-12 on C is at 40 MeV/u (1159 +- 11,
 * Takechi et al. 2009); at 790 MeV/u Li-6 and Li-7 are 688 and 736 (Tanihata et al. 1985), 17%
 * and 12% below C-12's 833 at 800 MeV/u (Ponnath et al. 2024). Nothing in between was found
 * (tests/reference/ion_reaction_xs.tsv). Whatever the curve does there, a nucleus of six or seven
 * nucleons, smaller than carbon, has no larger cross-section than carbon on the same target, and
 * like every measured light-ion curve in that file it falls with energy towards the minimum at
 * 250-400 MeV/u. Asserted on Be, C, O and Al, every 5 MeV/u: from 100 to 800 MeV/u Li-6 and
 * Li-7 at most 3% above C-12's (Fukuda's errors: 2.7% on C, 3.5% on Al; found: at most +0.9%,
 * Li-7 on Al at 100 MeV/u); from 38 to 250 MeV/u never rising. Until 2026-12-05 Tripathi's lithium
 * rule was kept to 100 MeV/u and joined the optical limit by 150: Li-6 + C 1159 mb at 100
 * MeV/u, 21% above C-12's 955, then 38% lower 50 MeV/u on. */
Test(nuclear, lithium_falls_smoothly_below_carbon)
{
    static const int target_z[] = {4, 6, 8, 13}, target_a[] = {9, 12, 16, 27};
    for (int t = 0; t < 4; t++) {
        nuclear_pair carbon;
        nuclear_pair_init(&carbon, 6, 12, target_z[t], target_a[t]);
        for (int Ap = 6; Ap <= 7; Ap++) {
            nuclear_pair lithium;
            nuclear_pair_init(&lithium, 3, Ap, target_z[t], target_a[t]);
            double previous = nuclear_pair_xs_mb(&lithium, 38.0), worst = -1.0, at = 0.0;
            for (double E = 40.0; E <= 800.0; E += 5.0) {
                double li = nuclear_pair_xs_mb(&lithium, E), c = nuclear_pair_xs_mb(&carbon, E);
                if (E <= 250.0)
                    cr_expect(li <= previous, "Li-%d on Z=%d rises from %.1f to %.1f mb at %g "
                              "MeV/u", Ap, target_z[t], previous, li, E);
                if (E >= 100.0) {
                    cr_expect(li <= 1.03 * c, "Li-%d on Z=%d at %g MeV/u: %.1f mb, more than 3%% "
                              "above C-12's %.1f", Ap, target_z[t], E, li, c);
                    if (li / c > worst) worst = li / c, at = E;
                }
                previous = li;
            }
            cr_log_info("Li-%d on Z=%-2d: at most %.3f of C-12's cross-section from 100 MeV/u "
                        "(at %g MeV/u); 100 / 150 MeV/u: %.0f / %.0f mb", Ap, target_z[t], worst,
                        at, nuclear_pair_xs_mb(&lithium, 100.0),
                        nuclear_pair_xs_mb(&lithium, 150.0));
        }
    }
}

/* Helium nuclei on nuclei, and protons on helium, against measured nonelastic cross-sections
 * (tests/reference/helium_reaction_xs.tsv, transcribed from EXFOR). A helium beam in water loses
 * its primaries at this rate, and so do a carbon beam's helium fragments:
 *   - He-4 on C, O, Al and Si, 15-800 MeV/u: each within two standard deviations or 10%, and on
 *     average within 10% (Tripathi's density-dependent Pauli term; his light-system alpha term,
 *     used until 2026-12-05, was 7-31% low at 17-216 MeV/u, 20% on average). At 10 MeV/u (a
 *     1.6 mm residual range in water) the formula is 16% above Igo and Wilkins: logged;
 *   - helium on hydrogen is the proton on helium at the same velocity (physics/nuclear.c):
 *     within two standard deviations or 25% from a 30 MeV proton's velocity up; below it the
 *     formula falls to its Coulomb threshold faster than the measurement: logged;
 *   - He-3 on C and Al at 790 MeV/u and He-4 + water at 213 MeV/u: logged (no He-3 data at
 *     therapy energies; EXFOR's label of the water value is doubtful, see the file). */
Test(nuclear, helium_cross_sections_vs_measurement)
{
    const ref_table *ref = ref_load("helium_reaction_xs.tsv");
    const double u_per_proton = ATOMIC_MASS_UNIT_MEV / PROTON_MASS_MEV;
    int nuclei = 0, hydrogen = 0;
    double sum_dev = 0.0;
    for (int i = 0; i < ref->rows; i++) {
        const char *source = ref->text[i][1];
        int per_nucleon = strcmp(ref->text[i][2], "MeV/A") == 0;
        int Zp = (int)ref->v[i][3], Ap = (int)ref->v[i][4], Zt = (int)ref->v[i][5],
            At = (int)ref->v[i][6];
        double energy = ref->v[i][7], sigma = ref->v[i][8], err = ref->v[i][9];
        if (strcmp(ref->text[i][0], "charge-changing") == 0) continue;   /* the next test's */
        if (strcmp(ref->text[i][0], "nonelastic") != 0) {
            /* He-4 on water at 213 MeV/u, per molecule: two hydrogens and an oxygen. */
            double model = 2 * nuclear_reaction_xs_mb(2, 4, 1, 1, energy) +
                           nuclear_reaction_xs_mb(2, 4, 8, 16, energy);
            cr_log_info("He-4 + H2O at %g MeV/u: %.0f mb per molecule, measured %g +- %g "
                        "(%+.1f%%; not asserted)", energy, model, sigma, err,
                        100 * (model / sigma - 1));
            continue;
        }
        /* The helium's A, the target nucleus's Z and A and the helium's MeV/u in bragg's terms;
         * a proton of T MeV on helium is that helium at the same velocity on hydrogen. */
        int A = Zp == 1 ? At : Ap, on_hydrogen = Zp == 1 || Zt == 1;
        double E = Zp == 1 ? energy * u_per_proton : per_nucleon ? energy : energy / Ap;
        double model = on_hydrogen ? nuclear_reaction_xs_mb(2, A, 1, 1, E)
                                   : nuclear_reaction_xs_mb(Zp, Ap, Zt, At, E);
        double limit = -1.0;   /* < 0: logged, not asserted */
        if (on_hydrogen && E / u_per_proton >= 30.0) limit = fmax(2.0 * err, 0.25 * sigma);
        if (!on_hydrogen && A == 4 && E >= 15.0 && E <= 800.0)
            limit = fmax(2.0 * err, 0.10 * sigma);
        double dev = model / sigma - 1.0;
        cr_log_info("He-%d on %-3s at %6.1f MeV/u (%s): %6.1f mb, measured %6.1f +- %5.1f "
                    "(%+5.1f%%)%s", A, on_hydrogen ? "H" : Zt == 6 ? "C" : Zt == 8 ? "O" :
                    Zt == 13 ? "Al" : Zt == 14 ? "Si" : "?", E, source, model, sigma, err,
                    100 * dev, limit < 0 ? "  logged" : "");
        if (limit < 0) continue;
        cr_expect(fabs(model - sigma) <= limit, "He-%d on Z = %d at %g MeV/u (%s): %.1f mb vs "
                  "%g +- %g", A, on_hydrogen ? 1 : Zt, E, source, model, sigma, err);
        if (on_hydrogen) {
            hydrogen++;
        } else {
            nuclei++;
            sum_dev += fabs(dev);
        }
    }
    cr_assert(nuclei == 27 && hydrogen == 15, "%d He-4 + nucleus and %d He + H points asserted",
              nuclei, hydrogen);
    cr_expect(sum_dev / nuclei <= 0.10, "He-4 on nuclei: mean deviation %.1f%%",
              100 * sum_dev / nuclei);
    cr_log_info("He-4 on nuclei, 15-800 MeV/u: mean |deviation| %.1f%% over %d points",
                100 * sum_dev / nuclei, nuclei);
}

/* The fragmentation model's sharp-sphere radii, as src/engine/engine.c gives them to the transport
 * (filled on first use; tests run one at a time in their own process). */
static const nuclear_radii *abrasion_radii(void)
{
    static nuclear_radii radii;
    if (radii.r[1] == 0.0)
        for (int A = 1; A <= NUCLEAR_MAX_A; A++) radii.r[A] = nuclear_abrasion_radius(A);
    return &radii;
}

/* The share of a He-4's reactions that keep a helium nucleus (He-3: a neutron removed), from
 * the fragmentation model (physics/fragmentation.h), 20 000 reactions at E MeV/u on (Zt, At). */
static double helium_kept_share(const nuclear_radii *radii, int Zt, int At, double E)
{
    static nuclear_event ev;   /* large */
    rng r;
    rng_init(&r, 5, (uint64_t)(10.0 * E) * 64 + (uint64_t)Zt, 0);
    int reactions = 0, kept = 0;
    for (int k = 0; k < 20000; k++) {
        if (!fragmentation_sample(radii, &r, 2, 4, Zt, At, E, &ev)) continue;
        reactions++;
        for (int i = 0; i < ev.n; i++)
            if (ev.product[i].Z == 2) {
                kept++;
                break;
            }
    }
    return reactions ? (double)kept / reactions : 0.0;
}

/* He-4's charge-changing cross-sections (Horst et al. 2017 and 2019, in
 * tests/reference/helium_reaction_xs.tsv): the nonelastic cross-section times the share of
 * reactions that leave no helium. What a carbon beam's helium fragments lose to water, and where
 * a helium beam's dose goes (He-3 deposits four times a proton's per unit of track). At 176-216
 * MeV/u each within two standard deviations or 10%. Below, measured, the He-3 share grows (C:
 * 54% at 74 MeV/u, 25% at 216) and the model's stays at 27-28%: its charge-changing
 * cross-section is 21-124% high at 71-125 MeV/u on C, O and Si, logged, not asserted (docs/
 * physics.md section 6). A single neutron's removal from He-4 leaves He-3 in its ground state
 * (physics/fragmentation.h, hole_excitation); with a Fermi-gas hole instead, 7% of the reactions
 * kept Z = 2 and the 216 MeV/u carbon point came out 17% (3.6 standard deviations) high. */
Test(nuclear, helium_charge_changing_vs_measurement)
{
    const ref_table *ref = ref_load("helium_reaction_xs.tsv");
    const nuclear_radii *radii = abrasion_radii();
    int asserted = 0;
    for (int i = 0; i < ref->rows; i++) {
        if (strcmp(ref->text[i][0], "charge-changing") != 0) continue;
        int Zt = (int)ref->v[i][5], At = (int)ref->v[i][6];
        double E = ref->v[i][7], sigma = ref->v[i][8], err = ref->v[i][9], model;
        if (Zt == 0) {   /* water, per molecule */
            model = 2 * nuclear_reaction_xs_mb(2, 4, 1, 1, E) *
                        (1.0 - helium_kept_share(radii, 1, 1, E)) +
                    nuclear_reaction_xs_mb(2, 4, 8, 16, E) *
                        (1.0 - helium_kept_share(radii, 8, 16, E));
        } else {
            model = nuclear_reaction_xs_mb(2, 4, Zt, At, E) *
                    (1.0 - helium_kept_share(radii, Zt, At, E));
        }
        int assert_it = E >= 150.0;
        cr_log_info("He-4 on Z = %2d at %5.1f MeV/u (%s): charge-changing %5.1f mb, measured "
                    "%5.1f +- %5.1f (%+6.1f%%)%s", Zt, E, ref->text[i][1], model, sigma, err,
                    100 * (model / sigma - 1), assert_it ? "" : "  logged");
        if (!assert_it) continue;
        cr_expect(fabs(model - sigma) <= fmax(2.0 * err, 0.10 * sigma),
                  "He-4 on Z = %d at %g MeV/u: %.1f mb vs %g +- %g", Zt, E, model, sigma, err);
        asserted++;
    }
    cr_expect(asserted == 6, "%d points at 176-216 MeV/u", asserted);
}

/* What one reaction leaves of a light nucleus: the fragmentation model (physics/fragmentation.h)
 * sampled directly, 40 000 reactions per beam, target and energy, weighted with the reaction
 * cross-section (nuclear.h), against measurements per reaction (tests/reference/
 * fragment_charges.tsv): Zeitlin et al.'s summed charges of the forward fragments of C-12 at 290
 * and 400 MeV/u in three cones, Webber et al.'s element production of B-11, C-12, N-14 and O-16
 * beams, Toppi et al.'s elements from O-16 at 393 MeV/u; and for C-12 in water (per molecule:
 * O-16 and twice H) and carbon, the total charge-changing cross-sections and the production of
 * Li, Be and B of Toshito et al. (200-400 MeV/u) and Golovchenko et al. (110-250 MeV/u), with
 * Zeitlin's own charge-changing totals on C and H. What a thick target shows of the same
 * reactions is the Haettner test below; this one sees each reaction's products before anything
 * else happens to them, which is where a fault of the model can be told from one of transport.
 *
 * Zeitlin's categories: an event is charge-changing when no product keeps the beam's charge; its
 * Z_eff is sqrt(sum Z^2) over the charged products inside the cone (lab angle at production; a
 * spectator's momentum boosted from the projectile's frame with the beam's velocity), put into the
 * nearest of the paper's peaks 1, 2, 3, 3.5, 4, 4.4, 5 (boundaries half-way between them); events
 * with nothing in the cone are not counted, as in the paper.
 *
 * Guarded, on the carbon target, the channels that carry most of what a carbon beam's fragments
 * do: these are NOT claims of agreement but guards of the model's known, one-signed deviations,
 * each a signed window whose far side is the deviation's present size and a margin, and whose
 * near side is agreement with the measurement (two standard deviations of the measurement and
 * of the model's ~2% statistics, added in quadrature). A guarded deficit fails if it deepens
 * beyond its limit or turns into an excess beyond agreement; a guarded excess fails if it grows
 * beyond its limit or turns into a deficit beyond agreement. The known deviations: Zeitlin's
 * "2 He or Li" an excess, window up to +25% (found +4..+18%); deficits: his B down to -30% and
 * the one-charge removals of Webber's beams up to 700 MeV/u down to -30% (B 12-25% low in the
 * six cones, C-12 -> B -15%, B-11 -> Be -20..-24%, O-16 -> N -10..-16%, N-14 -> C -1%), his He
 * down to -35% (19-29% low, a deficit the thick-target He yields show too). 40 000 reactions
 * keep a category's statistical error near 2%; the seeds are fixed, so a run repeats its
 * numbers. Logged, not asserted: everything on
 * hydrogen, where the model breaks C-12 into two or three alphas while the measured events hold
 * one He or a B (one-He events 25-94% fewer than measured, one-H events 77-100% fewer, "2 He or
 * Li" and "3 He or Li + He" 1.2-4.6 times the measured), and the removals of more than one
 * charge on carbon (Zeitlin's Be and Be + He 1.2-2.7 times the measured, Webber's Be from C-12
 * 2.0-2.3 times, Li from B-11 3.8-4.2 times, Be from O-16 3.8-5.5 times).
 * Added 2026-12-05: in water, the charge-changing cross-section (10 points, found -0..+5%) and B
 * (6 points, -2..+5%) within two of the measurement's standard deviations; on carbon, the
 * charge-changing within 10% of each measurement (found +4% against Zeitlin, -8..+3% against
 * Golovchenko, whose values at 112-254 MeV/u are 10-18% above Zeitlin's at 290-400) and
 * Golovchenko's B guarded as a deficit like the others, down to -30% (found -17..-21%). These
 * two water rows and the charge-changing rows on carbon are the agreement claims here, with
 * symmetric windows. Logged: in water Li 1.8-2.0
 * times and Be 1.5-1.9 times the measured (the per-reaction excess of the Zeitlin and Webber
 * rows, in the medium that matters), and on hydrogen the charge-changing cross-section 19-20%
 * above Zeitlin's.
 * tests/reference/NOTES-nuclear.md sections 14 and 16 have what was tried against these numbers
 * and what it did to the thick-target curves. */
static const double zeff_peak[7] = {1.0, 2.0, 3.0, 3.5, 4.0, 4.4, 5.0};

enum fragment_kind { KIND_ELEM, KIND_ZEFF, KIND_TCC };
typedef struct {
    int kind;                      /* enum fragment_kind: elements (all angles), Zeitlin's
                                    * categories in a cone, or the total charge-changing */
    int Zp, Ap, Zt, At;            /* Zt = 0: water, per molecule (O-16 + 2 H) */
    double E, acceptance_deg;
    double mb[9];                  /* per Z_eff category (index 0-6), per element (by Z) or, for
                                    * the total charge-changing, at index 0 */
} fragment_set;

static void fragment_set_sample_on(const fragment_set *s, int Zt, int At, uint64_t stream,
                                   double weight, double mb[9])
{
    static nuclear_event ev;   /* large */
    const nuclear_radii *radii = abrasion_radii();
    const int n = 40000;
    double gamma = 1.0 + s->E / NUCLEON_MASS_MEV, gb = sqrt(gamma * gamma - 1.0);
    double tan_cone = tan(s->acceptance_deg * PI / 180.0), count[9] = {0};
    rng r;
    rng_init(&r, 7, stream, 0);
    int reactions = 0;
    for (int k = 0; k < n; k++) {
        if (!fragmentation_sample(radii, &r, s->Zp, s->Ap, Zt, At, s->E, &ev)) continue;
        reactions++;
        int q = 0, kept = 0;
        for (int i = 0; i < ev.n; i++) {
            const nuclear_product *p = &ev.product[i];
            kept |= p->Z == s->Zp;
            if (s->kind == KIND_ELEM) {
                if (p->Z >= 1 && p->Z <= 8) count[p->Z]++;
                continue;
            }
            if (s->kind == KIND_TCC) continue;
            double pz = p->pz, pt = sqrt(p->px * p->px + p->py * p->py);
            if (p->origin == FROM_SPECTATOR) {
                double m = p->A * NUCLEON_MASS_MEV;
                pz = gamma * p->pz + gb * sqrt(pt * pt + p->pz * p->pz + m * m);
            }
            if (pz > 0.0 && pt <= tan_cone * pz) q += p->Z * p->Z;
        }
        if (s->kind == KIND_TCC) count[0] += !kept;
        if (s->kind != KIND_ZEFF || kept || q == 0) continue;
        int c = 0;
        for (int i = 1; i < 7; i++)
            if (sqrt((double)q) > 0.5 * (zeff_peak[i - 1] + zeff_peak[i])) c = i;
        count[c]++;
    }
    double xs = nuclear_reaction_xs_mb(s->Zp, s->Ap, Zt, At, s->E);
    for (int i = 0; i < 9; i++) mb[i] += reactions ? weight * xs * count[i] / reactions : 0.0;
}

static void fragment_set_sample(fragment_set *s, uint64_t stream)
{
    for (int i = 0; i < 9; i++) s->mb[i] = 0.0;
    if (s->Zt > 0) {
        fragment_set_sample_on(s, s->Zt, s->At, stream, 1.0, s->mb);
        return;
    }
    fragment_set_sample_on(s, 8, 16, stream, 1.0, s->mb);         /* water: O-16 and 2 H */
    fragment_set_sample_on(s, 1, 1, stream + 1000, 2.0, s->mb);
}

Test(nuclear, fragment_charges_vs_measurement)
{
    const ref_table *ref = ref_load("fragment_charges.tsv");
    static fragment_set sets[96];
    int nsets = 0, asserted = 0, logged = 0;
    double dev_sum[4] = {0}, n_sum[4] = {0};   /* mean |deviation| by source, as below */
    for (int i = 0; i < ref->rows; i++) {
        const double *v = ref->v[i];
        int kind = strcmp(ref->text[i][1], "ZEFF") == 0  ? KIND_ZEFF
                 : strcmp(ref->text[i][1], "TCC") == 0 ? KIND_TCC
                                                        : KIND_ELEM;
        int zeff = kind == KIND_ZEFF, tcc = kind == KIND_TCC;
        /* Zeitlin's categories, Webber, Toppi, the rest (water, charge-changing, Golovchenko) */
        int source = zeff                                      ? 0
                   : strncmp(ref->text[i][0], "C1546", 5) == 0 ? 1
                   : strncmp(ref->text[i][0], "D8112", 5) == 0 ? 2
                                                               : 3;
        fragment_set key = {kind, (int)v[2], (int)v[3], (int)v[4], (int)v[5], v[6],
                            zeff ? v[7] : 0.0, {0}};
        int k = 0;
        while (k < nsets && !(sets[k].kind == key.kind && sets[k].Zp == key.Zp &&
                              sets[k].Ap == key.Ap && sets[k].Zt == key.Zt &&
                              sets[k].E == key.E && sets[k].acceptance_deg == key.acceptance_deg))
            k++;
        if (k == nsets) {
            cr_assert(nsets < 96);
            sets[nsets] = key;
            fragment_set_sample(&sets[nsets], (uint64_t)nsets);
            nsets++;
        }
        double charge = v[8], sigma = v[9];
        int index = 0;
        if (zeff) {
            while (index < 6 && zeff_peak[index] != charge) index++;
            cr_assert(zeff_peak[index] == charge, "row %d: Z_eff %g is not a category", i, charge);
        } else if (!tcc) {
            index = (int)charge;
        }
        double model = sets[k].mb[index], dev = model / sigma - 1.0;
        /* The window on dev, lo < dev < hi (none: logged). The measurement's relative error is
         * in mb (err_mb) or in per cent (err_pct, Webber's). */
        double lo = NAN, hi = NAN, err = v[10];
        double rel = isfinite(err) ? err / sigma : v[11] / 100.0;
        double agree = 2.0 * sqrt(rel * rel + 0.02 * 0.02);
        /* Guards of known deficits (see above): down to the limit, up to agreement. */
        double deficit_limit = 0.0;
        if (key.Zt == 6 && zeff && charge == 5.0) deficit_limit = 0.30;
        if (key.Zt == 6 && zeff && charge == 2.0) deficit_limit = 0.35;
        if (key.Zt == 6 && source == 1 && (int)charge == key.Zp - 1 && key.E <= 700.0)
            deficit_limit = 0.30;
        /* Golovchenko's B from C-12 on carbon: the same guard as Zeitlin's and Webber's. */
        if (key.Zt == 6 && source == 3 && !tcc && charge == 5.0) deficit_limit = 0.30;
        if (deficit_limit > 0.0) {
            lo = -deficit_limit;
            hi = agree;
        }
        /* Guard of a known excess: Zeitlin's "2 He or Li", down to agreement, up to +25%. */
        if (key.Zt == 6 && zeff && charge == 3.0) {
            lo = -agree;
            hi = 0.25;
        }
        /* Agreement. Charge-changing on carbon: Zeitlin's (706, 713 mb) and Golovchenko's
         * (785-835 mb at 112-254 MeV/u) lie 10-18% apart; within 10% of each. In water,
         * charge-changing and B: within two standard deviations of the measured. */
        double agreement = key.Zt == 6 && tcc                         ? 0.10
                         : key.Zt == 0 && (tcc || charge == 5.0) ? 2.0 * err / sigma
                                                                 : 0.0;
        if (agreement > 0.0) {
            lo = -agreement;
            hi = agreement;
        }
        int guarded = !isnan(lo);
        dev_sum[source] += fabs(dev);
        n_sum[source]++;
        char what[64];
        if (zeff)
            snprintf(what, sizeof what, "in %.1f deg, Z_eff %3.1f", key.acceptance_deg, charge);
        else if (tcc)
            snprintf(what, sizeof what, "charge-changing");
        else
            snprintf(what, sizeof what, "element %3.1f", charge);
        char target[16] = "H2O";
        if (key.Zt > 0) snprintf(target, sizeof target, "Z=%d", key.Zt);
        cr_log_info("%s Z=%d A=%d on %s at %4.0f MeV/u, %s: %6.1f mb, measured %6.1f (%+5.0f%%)%s",
                    ref->text[i][0], key.Zp, key.Ap, target, key.E, what, model, sigma,
                    100.0 * dev, guarded ? "" : "  logged");
        if (!guarded) {
            logged++;
            continue;
        }
        cr_expect(dev > lo && dev < hi,
                  "%s Z=%d on Z=%d at %g MeV/u, %s: %.1f mb vs %g (%+.0f%%, window %+.0f%% to "
                  "%+.0f%%)", ref->text[i][0], key.Zp, key.Zt, key.E, what, model, sigma,
                  100.0 * dev, 100.0 * lo, 100.0 * hi);
        asserted++;
    }
    cr_log_info("mean |deviation|: Zeitlin %.0f%% (%g rows), Webber %.0f%% (%g), Toppi %.0f%% "
                "(%g), charge-changing and water %.0f%% (%g)", 100.0 * dev_sum[0] / n_sum[0],
                n_sum[0], 100.0 * dev_sum[1] / n_sum[1], n_sum[1], 100.0 * dev_sum[2] / n_sum[2],
                n_sum[2], 100.0 * dev_sum[3] / n_sum[3], n_sum[3]);
    /* 6 cones x (B, 2 He or Li, He) on carbon, and Webber's one-charge removals on carbon up to
     * 700 MeV/u: B-11 at 326, 403, 418, 561; C-12 at 693; N-14 at 516; O-16 at 491, 669;
     * Golovchenko's B on carbon (4); charge-changing on carbon (6); in water, charge-changing
     * (10) and B (6). */
    cr_expect(asserted == 18 + 8 + 4 + 6 + 16, "%d rows asserted (%d logged)", asserted, logged);
    cr_expect(asserted + logged == 199, "%d rows", asserted + logged);
}

/* Protons on C, N, O and Ca, 30-500 MeV, against Barashenkov's evaluation of the measurements
 * (tests/reference/proton_nonelastic.tsv). The evaluation itself carries 5-10% uncertainty and
 * Wellisch & Axen quote their fit as good to about that; 12% is asserted (the largest
 * deviation found is given in the log and in docs/physics.md). Below 30 MeV the fit falls to its
 * threshold faster than the evaluation; protons spend the last 1 cm of their range there. */
Test(nuclear, proton_cross_sections_vs_barashenkov)
{
    const ref_table *ref = ref_load("proton_nonelastic.tsv");
    static const struct { const char *sym; int Z, A; } targets[] = {
        {"C", 6, 12}, {"N", 7, 14}, {"O", 8, 16}, {"Ca", 20, 40}};
    double worst = 0;
    int checked = 0;
    for (int i = 0; i < ref->rows; i++) {
        double T = ref->v[i][1], sigma = ref->v[i][2];
        if (T < 30 || T > 500) continue;
        for (size_t k = 0; k < sizeof targets / sizeof targets[0]; k++) {
            if (strcmp(ref->text[i][0], targets[k].sym) != 0) continue;
            double model = nuclear_reaction_xs_mb(1, 1, targets[k].Z, targets[k].A, T);
            double dev = model / sigma - 1;
            cr_expect(fabs(dev) < 0.12, "p + %s at %g MeV: %.1f mb vs %g mb (%+.1f%%)",
                      targets[k].sym, T, model, sigma, 100 * dev);
            if (fabs(dev) > fabs(worst)) worst = dev;
            checked++;
        }
    }
    cr_expect(checked >= 40);
    cr_log_info("protons on C, N, O, Ca vs Barashenkov, %d points 30-500 MeV: worst %+.1f%%",
                checked, 100 * worst);
    /* No non-elastic channel for p + p below the pion threshold. */
    cr_expect(nuclear_reaction_xs_mb(1, 1, 1, 1, 200) == 0.0);
}

/* Wellisch and Axen's proton cross-section against ICRU Report 63's own, at the report's energies
 * (physics/icru63_data.c: the nonelastic cross-section of each table, as the files MCsquare
 * distributes give it) on the elements of tissue and bone: each within 7% at 100-250 MeV and
 * within 13% at 15-100 MeV, as docs/physics.md states (worst: O -6.9% at 250 MeV; P +12.6% and
 * C -10.3% at 15 MeV). Below 15 MeV they part (C 44 mb at 6 MeV against the report's 295; Ca
 * +316% at 5 MeV): logged, not asserted, and said in docs/physics.md section 4. */
Test(nuclear, proton_cross_sections_vs_icru63_from_15_MeV)
{
    static const struct { int Z, A; } targets[] = {{6, 12}, {7, 14}, {8, 16}, {15, 31}, {20, 40}};
    int checked = 0;
    for (size_t k = 0; k < sizeof targets / sizeof targets[0]; k++) {
        int el = icru63_element(targets[k].Z);
        cr_assert(el >= 0, "Z = %d not in ICRU 63's data", targets[k].Z);
        double low_worst = 0, low_at = 0, worst = 0, worst_at = 0;
        for (int i = icru63_element_first[el]; i < icru63_element_first[el + 1]; i++) {
            double T = icru63_energy[i], report = 1000.0 * icru63_sigma[i];
            double dev = nuclear_reaction_xs_mb(1, 1, targets[k].Z, targets[k].A, T) / report - 1;
            if (T < 15) {
                if (fabs(dev) > fabs(low_worst)) {
                    low_worst = dev;
                    low_at = T;
                }
                continue;
            }
            double limit = T >= 100 ? 0.07 : 0.13;
            cr_expect(fabs(dev) <= limit, "p + Z=%d at %g MeV: %+.1f%% from ICRU 63's %.1f mb",
                      targets[k].Z, T, 100 * dev, report);
            if (fabs(dev) > fabs(worst)) {
                worst = dev;
                worst_at = T;
            }
            checked++;
        }
        cr_log_info("p + Z=%d against ICRU 63: from 15 MeV worst %+.1f%% (%g MeV); below 15 MeV "
                    "%+.0f%% (%g MeV)", targets[k].Z, 100 * worst, worst_at, 100 * low_worst,
                    low_at);
    }
    cr_expect(checked == 159, "%d energies from 15 MeV", checked);
}

/* Issue acceptance: the fraction of 150 MeV protons in water that undergo a nuclear reaction
 * before stopping. Bortfeld's fit to the ICRU 49 / Janni data (Med. Phys. 24 (1997) 2024) has the
 * primary fluence fall as (1 + beta (R0 - z)) / (1 + beta R0), beta = 0.012 /cm, so a fraction
 * beta R0 / (1 + beta R0) = 15.9% is lost by the end of the 15.8 cm range; the often quoted
 * "about 1% per cm" (17-20% at 150 MeV) brackets it from above. Asserted: within 3 points
 * (absolute) of Bortfeld's figure, i.e. inside 13-19%. */
static double pstar_energy_at_range(double range_g_cm2);
static double reference_pp_elastic_mb(double T);

/* The share of 150 MeV primaries that scatter elastically on hydrogen before anything else ends
 * them, from references alone: sum over the path of n_H sigma(T(z)) times the fluence still
 * there, T(z) from PSTAR's CSDA range, sigma from Cugnon et al.'s fit, the fluence falling by
 * Bortfeld's nonelastic beta and by these scatterings themselves. 3.70%. */
static double reference_hydrogen_elastic_share(double R0, double beta)
{
    const double n_h = 2.0 * AVOGADRO / 18.0153;   /* per cm^3 of water at 1 g/cm^3 */
    const int N = 4000;
    double dz = R0 / N, share = 0.0, taken = 0.0;
    for (int k = 0; k < N; k++) {
        double z = (k + 0.5) * dz, T = pstar_energy_at_range(R0 - z);
        double mu = n_h * reference_pp_elastic_mb(T) * 1e-27;
        share += mu * (1.0 + beta * (R0 - z)) / (1.0 + beta * R0) * exp(-taken) * dz;
        taken += mu * dz;
    }
    return share;
}

Test(nuclear, proton_reaction_fraction_150MeV)
{
    run_config c = testkit_config("p", 150, 20000);
    run_snapshot s = testkit_run(&c, NULL);
    const ref_table *ref = ref_load("nuclear_benchmarks.tsv");
    double beta = NAN;
    for (int i = 0; i < ref->rows; i++)
        if (strcmp(ref->text[i][0], "bortfeld_fluence_reduction_slope_beta") == 0) beta = ref->v[i][5];
    cr_assert(beta == 0.012, "beta %g", beta);
    double R0 = 15.77;   /* PSTAR CSDA range of 150 MeV protons in water, g/cm^2 */
    double expected = beta * R0 / (1 + beta * R0);
    double f = s.result.reacted_fraction;
    cr_expect(fabs(f - expected) < 0.03, "reacted %.4f vs Bortfeld %.4f", f, expected);
    double h = (double)s.result.count[COUNT_PRIMARY_HYDROGEN_ELASTIC] / (double)s.result.histories;
    double o = (double)s.result.count[COUNT_PRIMARY_NUCLEUS_ELASTIC] / (double)s.result.histories;
    cr_expect(fabs(f + h + o + s.result.surviving_fraction - 1.0) < 0.002,
              "reacted + scattered on hydrogen + on nuclei + stopped %.4f: few primaries should "
              "leave otherwise",
              f + h + o + s.result.surviving_fraction);
    /* Elastic scattering on hydrogen: bragg's cross-section is 8% above the reference's over
     * this path (more at 60-130 MeV, see below), 20 000 histories give 700 events (3.8%): 15%. */
    double h_ref = reference_hydrogen_elastic_share(R0, beta);
    cr_expect(fabs(h / h_ref - 1) < 0.15, "scattered on hydrogen %.4f vs %.4f from the references",
              h, h_ref);
    cr_log_info("150 MeV protons in water: %.2f%% react (Bortfeld's fit: %.2f%%), %.2f%% scatter "
                "on hydrogen (references: %.2f%%)", 100 * f, 100 * expected, 100 * h, 100 * h_ref);
    run_snapshot_free(&s);
}

/* Residual range to energy along NIST PSTAR's CSDA table (tests/reference/pstar_water.tsv):
 * log-log between its rows. */
static double pstar_energy_at_range(double range_g_cm2)
{
    const ref_table *t = ref_load("pstar_water.tsv");
    for (int i = 0; i + 1 < t->rows; i++) {
        double r0 = t->v[i][2], r1 = t->v[i + 1][2];
        if (range_g_cm2 >= r0 && range_g_cm2 <= r1) {
            double f = log(range_g_cm2 / r0) / log(r1 / r0);
            return t->v[i][0] * pow(t->v[i + 1][0] / t->v[i][0], f);
        }
    }
    return NAN;
}

/* The p-p elastic cross-section of Cugnon et al.'s fit
 * (tests/reference/proton_hydrogen_elastic.tsv), log-log between its energies; 0 below the
 * model's 10 MeV. */
static double reference_pp_elastic_mb(double T)
{
    const ref_table *t = ref_load("proton_hydrogen_elastic.tsv");
    if (T < t->v[0][1]) return 0.0;
    for (int i = 0; i + 1 < t->rows; i++) {
        double e0 = t->v[i][1], e1 = t->v[i + 1][1];
        if (T >= e0 && T <= e1)
            return t->v[i][2] * pow(t->v[i + 1][2] / t->v[i][2], log(T / e0) / log(e1 / e0));
    }
    return NAN;
}

/* The optical limit's p-p cross-section (physics/glauber.h: Charagi and Gupta's fit) against
 * Cugnon et al.'s fit to the measured p-p elastic cross-section, at 10-250 MeV, below the pion
 * threshold (~290 MeV), where the elastic is the total: within 10% at each of its 11 energies
 * (measured: -8.3% at 200 MeV to +3.4% at 100; the two fits to partly different data part by
 * that much). A mistyped coefficient moves it by more. The n-p branch: next test. */
Test(nuclear, glauber_pp_cross_section_vs_cugnon)
{
    const ref_table *t = ref_load("proton_hydrogen_elastic.tsv");
    int checked = 0;
    for (int i = 0; i < t->rows; i++) {
        double T = t->v[i][1], ref = t->v[i][2], pp, np;
        if (T > 250.0) continue;
        glauber_nn_xs_mb(T, &pp, &np);
        cr_expect(fabs(pp / ref - 1.0) <= 0.10, "p + p at %g MeV: %.1f mb vs %.1f", T, pp, ref);
        cr_log_info("p + p total at %g MeV: %.1f mb, Cugnon's elastic %.1f (%+.1f%%)", T, pp, ref,
                    100 * (pp / ref - 1));
        checked++;
    }
    cr_assert(checked == 11, "%d energies", checked);
}

/* The optical limit's n-p cross-section (Charagi and Gupta's fit) against the measured n-p total
 * cross-section of Lisowski et al. 1982 (tests/reference/np_total_lisowski1982.tsv, 113 energies
 * from 39 to 793 MeV, errors 0.3-2%): each within 10% and within 5% on average (measured: mean
 * 3.3%; -4% at 160-200 MeV, +6..+9% at 380-560 MeV: about 1% of C + C's cross-section there).
 * A mistyped coefficient moves it by more. */
Test(nuclear, glauber_np_cross_section_vs_lisowski)
{
    const ref_table *t = ref_load("np_total_lisowski1982.tsv");
    double sum = 0.0, worst = 0.0;
    for (int i = 0; i < t->rows; i++) {
        double T = t->v[i][1], ref = t->v[i][2], pp, np;
        glauber_nn_xs_mb(T, &pp, &np);
        double dev = np / ref - 1.0;
        cr_expect(fabs(dev) <= 0.10, "n + p at %g MeV: %.1f mb vs measured %.1f", T, np, ref);
        sum += fabs(dev);
        if (fabs(dev) > fabs(worst)) worst = dev;
    }
    cr_assert(t->rows == 113, "%d energies", t->rows);
    cr_expect(sum / t->rows <= 0.05, "n + p: mean deviation %.1f%%", 100 * sum / t->rows);
    cr_log_info("n + p total, 39-793 MeV: mean |deviation| %.1f%%, worst %+.1f%% (113 energies)",
                100 * sum / t->rows, 100 * worst);
}

/* The proton's elastic cross-section on hydrogen (physics/nuclear.c: Fippel and Soukup's fit for
 * water, as VMCpro and MCsquare use it) against Cugnon, L'Hote and Vandermeulen's fit to the
 * measured p-p cross-sections (tests/reference/proton_hydrogen_elastic.tsv). The two agree within
 * 5% at 20-50 MeV and from 150 MeV to 1 GeV (where bragg holds its 250 MeV value, 23.5 mb): 6% is
 * asserted there. They part at 10-15 MeV (+7 to +10%) and at 60-130 MeV (up to +18% at 90 MeV,
 * where Cugnon's two low-momentum branches meet with a 7% step): which is right there would take
 * the measured table, which was not found (the file says what was searched); 20% there, and the
 * difference is in docs/physics.md. Only protons scatter this way; nothing below 10 MeV. */
Test(nuclear, proton_hydrogen_elastic_cross_section_vs_cugnon)
{
    const ref_table *ref = ref_load("proton_hydrogen_elastic.tsv");
    int checked = 0;
    double worst = 0;
    for (int i = 0; i < ref->rows; i++) {
        double T = ref->v[i][1], sigma = ref->v[i][2];
        double model = nuclear_hydrogen_elastic_xs_mb(1, 1, T), dev = model / sigma - 1;
        int apart = T < 20 || (T > 60 && T < 130);
        cr_expect(fabs(dev) < (apart ? 0.20 : 0.06), "p + p at %g MeV: %.2f mb vs %g mb (%+.1f%%)",
                  T, model, sigma, 100 * dev);
        if (!apart && fabs(dev) > fabs(worst)) worst = dev;
        checked++;
    }
    cr_expect(checked == 15, "%d reference energies", checked);
    cr_log_info("p + p elastic vs Cugnon et al.: worst %+.1f%% where the fits agree", 100 * worst);
    cr_expect(nuclear_hydrogen_elastic_xs_mb(1, 1, 9.9) == 0.0, "nothing below 10 MeV");
    cr_expect(nuclear_hydrogen_elastic_xs_mb(1, 2, 150) == 0.0 &&
                  nuclear_hydrogen_elastic_xs_mb(2, 4, 150) == 0.0,
              "only protons scatter on hydrogen");
}

/* An engine for a run configuration, and what a direct call of the transport's functions
 * (transport_start, transport_react, ...) scores into and pushes products to. Stays where it was
 * opened: the bank points into its own storage. */
typedef struct direct_call {
    engine *en;
    const transport_params *p;
    score_arrays a;
    score_sink sink;
    particle_stack storage;
    particle_bank bank;
} direct_call;

static void direct_call_open(direct_call *d, const run_config *c)
{
    bragg_err e;
    cr_assert(engine_create(&d->en, c, &e) == BRAGG_OK, "%s", e.msg);
    d->p = engine_params(d->en);
    cr_assert(score_arrays_init(&d->a, d->p, &e) == BRAGG_OK, "%s", e.msg);
    d->sink = score_arrays_sink(&d->a);
    d->bank = particle_stack_bank(&d->storage);
}

static void direct_call_close(direct_call *d)
{
    score_arrays_free(&d->a);
    engine_destroy(d->en);
}

/* Elastic p-p scattering in the transport (physics/transport.h, proton_hydrogen_elastic), 20 000
 * events at the 150 MeV beam's energy: the two protons carry the incident kinetic energy and
 * momentum to rounding (relativistic kinematics; the energy ledger to the quantum), open at less
 * than 90 degrees (cos = T1 T2 / (p1 p2) > 0 for equal masses), are secondaries (the halo), and
 * the struck proton's share of the energy, (1 - cos theta_cm) / 2, is uniform for scattering
 * isotropic in the centre of mass: mean 1/2 and a tenth below 0.1, each within 4 standard errors
 * (0.002 and 0.0021). Events where one proton is left below the cut-off deposit it on the spot:
 * their energy is checked through the ledger, their momentum not. */
Test(nuclear, proton_hydrogen_elastic_conserves_energy_and_momentum)
{
    run_config c = testkit_config("p", 150, 100);
    direct_call d;
    direct_call_open(&d, &c);
    const transport_params *p = d.p;
    score_sink sink = d.sink;
    particle_bank bank = d.bank;
    const double m = p->nucleon_mass[1];
    const int n = 20000;
    int pairs = 0, below_tenth = 0;
    double share_sum = 0, worst_e = 0, worst_p = 0;
    for (int h = 0; h < n; h++) {
        uint32_t count = 0;
        product_out out = {&bank, &count, TRANSPORT_STACK};
        particle q;
        transport_start(p, (uint64_t)h, &q, &sink);
        double T = q.t, P = sqrt(T * (T + 2.0 * m)), dir[3] = {q.u, q.v, q.w};
        int64_t e_in = q.energy_q, before = sink.ledger[LEDGER_NUCLEAR_BINDING] +
                                             sink.ledger[LEDGER_NUCLEAR_LOCAL];
        cr_assert(proton_hydrogen_elastic(p, &q, &sink, &out) == 0, "the incident proton ends");
        int64_t e_out = sink.ledger[LEDGER_NUCLEAR_BINDING] + sink.ledger[LEDGER_NUCLEAR_LOCAL] -
                        before;
        double Tk[2] = {0, 0}, Pv[3] = {0, 0, 0}, pk[2] = {0, 0}, d[2][3];
        for (uint32_t k = 0; k < count; k++) {
            particle o;
            bank_load(&bank, k, p->seed, &o);
            cr_assert(o.Z == 1 && o.A == 1 && !particle_is_primary(&o));
            e_out += o.energy_q;
            Tk[k] = o.t;
            pk[k] = sqrt(o.t * (o.t + 2.0 * m));
            d[k][0] = o.u;
            d[k][1] = o.v;
            d[k][2] = o.w;
            for (int j = 0; j < 3; j++) Pv[j] += pk[k] * d[k][j];
        }
        cr_expect(e_out == e_in, "event %d: %lld quanta in, %lld out", h, (long long)e_in,
                  (long long)e_out);
        if (count != 2) continue;
        pairs++;
        worst_e = fmax(worst_e, fabs(Tk[0] + Tk[1] - T) / T);
        for (int j = 0; j < 3; j++) worst_p = fmax(worst_p, fabs(Pv[j] - P * dir[j]) / P);
        double open = d[0][0] * d[1][0] + d[0][1] * d[1][1] + d[0][2] * d[1][2];
        cr_expect(fabs(open - Tk[0] * Tk[1] / (pk[0] * pk[1])) < 1e-9,
                  "event %d: opening cosine %.12f, kinematics %.12f", h, open,
                  Tk[0] * Tk[1] / (pk[0] * pk[1]));
        double share = Tk[1] / T;   /* product 1 is the struck proton */
        share_sum += share;
        below_tenth += share < 0.1;
    }
    cr_expect(worst_e < 1e-12 && worst_p < 1e-9, "energy %.2g, momentum %.2g of the incident",
              worst_e, worst_p);
    cr_expect(pairs > n - 400, "%d of %d events left two protons", pairs, n);
    double mean = share_sum / pairs, tenth = (double)below_tenth / pairs;
    cr_expect(fabs(mean - 0.5) < 4.0 * sqrt(1.0 / 12.0 / pairs), "mean share %.4f", mean);
    cr_expect(fabs(tenth - 0.1) < 4.0 * sqrt(0.09 / pairs), "share below 0.1: %.4f", tenth);
    cr_log_info("p-p elastic at 150 MeV: %d pairs, energy %.1e, momentum %.1e; mean share %.4f, "
                "%.4f below 0.1", pairs, worst_e, worst_p, mean, tenth);
    direct_call_close(&d);
}

/* Issue acceptance: with fragmentation, a C-12 400 MeV/u Bragg curve has a lower peak-to-
 * entrance ratio than without, and a dose tail beyond the peak. Both against the measured GSI
 * curve (Haettner et al., ionisation chamber, assets/measurements/haettner-2013-c12-400-water.tsv,
 * read by the same reader as `bragg plot --measured`): the peak-to-
 * entrance ratio there (entrance: the first point, 2.2 cm) and the tail-to-peak ratio over the
 * same window the code uses (0.5-1.5 cm beyond the distal 20% point). Tolerances: 15% for the
 * peak-to-entrance ratio, whose measured value also depends on the beam's energy spread and
 * the chamber's size, which the simulation here does not model; 25% for the tail. */
Test(nuclear, carbon_400_tail_and_peak_vs_measured_curve)
{
    run_config on = testkit_config("C-12", 400, 20000), off = on;
    off.nuclear = 0;
    run_snapshot a = testkit_run(&on, NULL), b = testkit_run(&off, NULL);

    measured curve;
    bragg_err e = {{0}};
    cr_assert(measured_load(&curve, BRAGG_ASSET_DIR "/measurements/haettner-2013-c12-400-water.tsv",
                            &e) == 0, "%s", e.msg);
    const double *z = curve.x, *d = curve.y;
    int n = curve.n;
    cr_assert(n > 50);
    int m = 0;
    for (int i = 1; i < n; i++)
        if (d[i] > d[m]) m = i;
    double r20 = NAN;
    for (int i = m; i + 1 < n; i++)
        if (d[i] >= 0.2 * d[m] && d[i + 1] < 0.2 * d[m]) {
            r20 = z[i] + (z[i + 1] - z[i]) * (0.2 * d[m] - d[i]) / (d[i + 1] - d[i]);
            break;
        }
    cr_assert(isfinite(r20));
    /* Mean of the measured curve over [r20 + 0.5, r20 + 1.5], by the trapezoid rule on the
     * linear interpolation. */
    double sum = 0, lo = r20 + 0.5, hi = r20 + 1.5, step = 0.01;
    for (double x = lo + 0.5 * step; x < hi; x += step) {
        int i = 0;
        while (i + 1 < n && z[i + 1] < x) i++;
        sum += d[i] + (d[i + 1] - d[i]) * (x - z[i]) / (z[i + 1] - z[i]);
    }
    double tail_measured = sum * step / (hi - lo) / d[m];
    double pe_measured = d[m] / d[0];

    double pe_on = a.result.fig.peak_to_entrance, pe_off = b.result.fig.peak_to_entrance;
    cr_expect(pe_on < 0.6 * pe_off, "peak/entrance %.2f with nuclear vs %.2f without", pe_on,
              pe_off);
    cr_expect(fabs(pe_on / pe_measured - 1) < 0.15, "peak/entrance %.3f vs measured %.3f", pe_on,
              pe_measured);
    cr_expect(fabs(a.result.tail_to_peak / tail_measured - 1) < 0.25,
              "tail/peak %.4f vs measured %.4f", a.result.tail_to_peak, tail_measured);
    cr_expect(b.result.tail_to_peak < 1e-3, "no tail without nuclear: %.2g", b.result.tail_to_peak);
    cr_expect(a.result.ledger_closure == 0.0);
    /* Reactions conserve energy: what they do not hand on is binding energy, positive and at
     * most what a C-12 and an O-16 nucleus hold together (92 + 128 MeV). */
    double per_reaction = a.result.ledger_mev[LEDGER_NUCLEAR_BINDING] * a.result.histories /
                          (double)a.result.count[COUNT_REACTIONS];
    cr_expect(per_reaction > 0.0 && per_reaction < 220.0, "binding %.1f MeV per reaction",
              per_reaction);
    cr_log_info("C-12 400 MeV/u: %.1f MeV of binding energy per reaction", per_reaction);
    cr_log_info("C-12 400 MeV/u: peak/entrance %.3f (measured %.3f, no nuclear %.3f); tail/peak "
                "%.4f (measured %.4f); primaries reacted %.3f",
                pe_on, pe_measured, pe_off, a.result.tail_to_peak, tail_measured,
                a.result.reacted_fraction);
    measured_free(&curve);
    run_snapshot_free(&a);
    run_snapshot_free(&b);
}

/* Energy per steradian (MeV sr^-1 per ion) of the neutron spectrum in rows [a, b) of the Satoh
 * table: each energy bin's width times its yield times its middle energy. */
static double neutron_energy_per_sr(const ref_table *t, int a, int b)
{
    double sum = 0.0;
    for (int i = a; i < b; i++) {
        double lo = t->v[i][6], hi = t->v[i][7], y = t->v[i][8];
        cr_assert(isfinite(lo) && isfinite(hi) && isfinite(y) && hi > lo && y >= 0.0, "row %d", i);
        sum += (hi - lo) * y * 0.5 * (lo + hi);
    }
    return sum;
}

/* The integral of f(theta) 2 pi sin(theta) d theta from the first to the last of n angles
 * (degrees, rising), f between two of them interpolated linearly in theta or, with `geometric`,
 * exponentially (a straight line in log f); midpoint rule, 400 points per interval. */
static double over_angles(const double *deg, const double *f, int n, int geometric)
{
    double sum = 0.0;
    for (int k = 0; k + 1 < n; k++) {
        double t0 = deg[k] * PI / 180.0, t1 = deg[k + 1] * PI / 180.0, h = (t1 - t0) / 400.0;
        for (int j = 0; j < 400; j++) {
            double u = (j + 0.5) / 400.0;
            double v = geometric && f[k] > 0.0 && f[k + 1] > 0.0 ? f[k] * pow(f[k + 1] / f[k], u)
                                                                : f[k] + (f[k + 1] - f[k]) * u;
            sum += 2.0 * PI * sin(t0 + u * (t1 - t0)) * v * h;
        }
    }
    return sum;
}

/* The energy the model sends off with neutrons (the ledger's neutral share), against what
 * neutrons carry out of thick targets that stop the beam: Satoh et al. 2007's double-differential
 * yields of C-12 at 100, 180 and 400 MeV/u and He-4 at 100 and 180 MeV/u at 0-90 degrees
 * (tests/reference/neutron_thick_target_satoh2007.tsv, EXFOR E2079), integrated
 * over energy and over the six angles (the mean of a linear and an exponential interpolation
 * between them; the two differ by 10-20%). Each target is run with the same areal density
 * (graphite: 1.77 g/cm3 against bragg's 1.7; the stopping per unit mass is the same). Carbon,
 * the nearest to water's oxygen, is asserted; aluminium, copper and lead are logged (at 400
 * MeV/u the model is 1.4-1.6 times their measured, on lead at 100-180 MeV/u 0.75-0.85: the heavy
 * targets' evaporation, which the thresholds cut, is larger and modelled more crudely).
 * What the two sides count differently sets the tolerance on carbon, 0.75 to 1.6 times the
 * measured:
 * below, the measurement's normalisation (beam under 3%, solid angle under 10%, detection
 * efficiency about 9%); above, what the ledger holds and the yields do not: neutrons below each
 * spectrum's lowest energy (3-17 MeV; mostly the struck target residue's, 2-16% of the model's
 * neutral energy on graphite), beyond 90 degrees, de-excitation
 * photons (under 1%), and neutrons that react again inside the target before they leave it
 * (nucleons on carbon: 210-222 mb at 100-200 MeV, proton_nonelastic.tsv, so a sixth of those
 * crossing 10 cm of graphite). The check catches a neutral energy wrong by half or by double,
 * not by 20%. */
Test(nuclear, neutron_energy_from_thick_targets_vs_measurement)
{
    const ref_table *t = ref_load("neutron_thick_target_satoh2007.tsv");
    catalog cat;
    bragg_err e = {{0}};
    cr_assert(catalog_load(&cat, &e) == BRAGG_OK, "%s", e.msg);
    int carbon = 0, cases = 0;
    for (int i = 0; i < t->rows;) {
        /* One case: one beam, target, energy and thickness (one EXFOR subentry). */
        int j = i;
        while (j < t->rows && strcmp(t->text[j][0], t->text[i][0]) == 0 &&
               strcmp(t->text[j][1], t->text[i][1]) == 0 && t->v[j][2] == t->v[i][2] &&
               t->v[j][3] == t->v[i][3])
            j++;
        double deg[8], f[8];
        int n = 0;
        for (int k = i; k < j;) {
            int l = k;
            while (l < j && t->v[l][5] == t->v[k][5]) l++;
            cr_assert(n < 8 && (n == 0 || t->v[k][5] > deg[n - 1]), "angles of rows %d-%d", i, j);
            deg[n] = t->v[k][5];
            f[n++] = neutron_energy_per_sr(t, k, l);
            k = l;
        }
        cr_assert(n == 6 && deg[0] == 0.0 && deg[n - 1] == 90.0);
        double linear = over_angles(deg, f, n, 0), geometric = over_angles(deg, f, n, 1);
        double measured = 0.5 * (linear + geometric);

        const char *ion = t->text[i][0], *target = t->text[i][1];
        const material *mat = material_table_find(&cat.materials, target);
        cr_assert(mat, "%s", target);
        run_config c = testkit_config(ion, t->v[i][2], 4000);
        char slab[64];
        snprintf(slab, sizeof slab, "%s:%.4f", target, t->v[i][3] / 1000.0 / mat->density);
        c.n_slabs = 0;
        cr_assert(config_add_slab(&c, slab, &e) == BRAGG_OK, "%s", e.msg);
        run_snapshot s = testkit_run(&c, NULL);
        double model = s.result.ledger_mev[LEDGER_NUCLEAR_NEUTRAL];
        double beam = s.result.ledger_mev[LEDGER_BEAM];
        int asserted = strcmp(target, "graphite") == 0;
        if (asserted) {
            cr_expect(model > 0.75 * measured && model < 1.6 * measured,
                      "%s %g MeV/u on %s: neutral %.1f MeV per ion, measured %.1f (%.1f-%.1f)",
                      ion, t->v[i][2], slab, model, measured, geometric, linear);
            carbon++;
        }
        cr_log_info("%s %g MeV/u on %s: neutral %.1f MeV per ion (%.1f%% of the beam's), "
                    "neutrons 0-90 degrees measured %.1f (%.1f-%.1f): x %.2f%s",
                    ion, t->v[i][2], slab, model, 100.0 * model / beam, measured, geometric,
                    linear, model / measured, asserted ? "" : " (logged)");
        run_snapshot_free(&s);
        cases++;
        i = j;
    }
    cr_expect(carbon == 5 && cases == 20, "%d cases, %d on carbon", cases, carbon);
    catalog_free(&cat);
}

/* The participants' fireball (physics/fragmentation.h, fireball_sample) conserves energy and
 * momentum: np nucleons at t MeV/u and nt at rest carry in np t of kinetic energy and
 * np sqrt(t (t + 2 m)) of momentum along the beam (and, where the projectile's participants
 * carry a momentum R in its frame, the Lorentz transform of (sqrt(np^2 m^2 + R^2), R) instead),
 * and the nucleons leaving the fireball must carry out the same (all protons here, so that every
 * momentum is on the list). For one projectile and one target nucleon the two leave back to
 * back in their centre of mass, each with the momentum sqrt(m t / 2) that two-body kinematics
 * gives (433 MeV/c at 400 MeV), and isotropically: the mean cosine of the angle there is 0
 * within its statistical error. */
Test(nuclear, fireball_conserves_energy_and_momentum)
{
    static const struct { int np, nt; double t, R[3]; } cases[] = {
        {1, 1, 400.0, {0, 0, 0}},      {3, 3, 400.0, {0, 0, 0}},  {4, 1, 250.0, {0, 0, 0}},
        {6, 7, 100.0, {0, 0, 0}},      {12, 13, 400.0, {0, 0, 0}},
        {3, 3, 400.0, {60, -40, 100}}, {2, 1, 100.0, {-80, 30, -120}}};
    const double m = NUCLEON_MASS_MEV, none[3] = {0.0, 0.0, 0.0};
    rng r;
    rng_init(&r, 7, 0, 0);
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        int np = cases[k].np, nt = cases[k].nt;
        const double *R = cases[k].R;
        double t = cases[k].t, gamma = 1.0 + t / m, gb = sqrt(gamma * gamma - 1.0);
        double e_p = sqrt(np * np * m * m + R[0] * R[0] + R[1] * R[1] + R[2] * R[2]);
        double kin_in = gamma * e_p + gb * R[2] - np * m;
        double P_in[3] = {R[0], R[1], gamma * R[2] + gb * e_p};
        for (int event = 0; event < 100; event++) {
            nuclear_event ev;
            ev.n = 0;
            ev.participant_neutrons = 0;
            ev.participant_neutron_mev = 0.0;
            fireball_sample(&ev, &r, np, np, nt, nt, t, R);
            cr_assert(ev.n == np + nt && ev.participant_neutrons == 0);
            double kin = 0.0, P[3] = {0.0, 0.0, 0.0};
            for (int i = 0; i < ev.n; i++) {
                const nuclear_product *f = &ev.product[i];
                kin += sqrt(f->px * f->px + f->py * f->py + f->pz * f->pz + m * m) - m;
                P[0] += f->px;
                P[1] += f->py;
                P[2] += f->pz;
            }
            /* The scale is solved to 1e-9 (physics/fragmentation.h); what is left is the single
             * precision the momenta are kept in (6e-8 relative each): 1e-6 of the energy and
             * 0.01 MeV/c of sums of up to 130 momenta of some 500 MeV/c bound that with room. */
            cr_expect(fabs(kin - kin_in) < 1e-6 * kin_in, "%d + %d at %g MeV/u: %.9f MeV out, %.9f in",
                      np, nt, t, kin, kin_in);
            cr_expect(fabs(P[0] - P_in[0]) < 0.01 && fabs(P[1] - P_in[1]) < 0.01 &&
                          fabs(P[2] - P_in[2]) < 0.01,
                      "%d + %d at %g MeV/u: momentum (%g, %g, %g) MeV/c out, (%g, %g, %g) in", np,
                      nt, t, P[0], P[1], P[2], P_in[0], P_in[1], P_in[2]);
        }
    }
    /* One nucleon on one at 400 MeV: in the centre of mass (beta = p / (E + m)). */
    double t = 400.0, p_beam = sqrt(t * (t + 2.0 * m)), e_beam = t + m;
    double beta = p_beam / (e_beam + m), gamma = 1.0 / sqrt(1.0 - beta * beta);
    double p_star = sqrt(m * t / 2.0), sum_cos = 0.0;
    int n = 20000;
    for (int event = 0; event < n; event++) {
        nuclear_event ev;
        ev.n = 0;
        ev.participant_neutrons = 0;
        ev.participant_neutron_mev = 0.0;
        fireball_sample(&ev, &r, 1, 1, 1, 1, t, none);
        const nuclear_product *f = &ev.product[0];
        double e = sqrt(f->px * f->px + f->py * f->py + f->pz * f->pz + m * m);
        double pz = gamma * (f->pz - beta * e), pt2 = f->px * f->px + f->py * f->py;
        double p = sqrt(pt2 + pz * pz);
        /* 433 MeV/c kept in single precision: 3e-5 MeV/c per component. */
        cr_expect(fabs(p - p_star) < 1e-3, "centre-of-mass momentum %.4f vs %.4f MeV/c", p, p_star);
        sum_cos += pz / p;
    }
    /* The mean of a uniform cosine has the standard error 1 / sqrt(3 n): 0.004 here. */
    cr_expect(fabs(sum_cos / n) < 4.0 / sqrt(3.0 * n), "mean cosine %.4f", sum_cos / n);
}

/* The struck target's residue (physics/fragmentation.h, fermi_residue_energies) spends its
 * excitation on separating its pieces, their kinetic energy and gamma rays, and nothing else:
 * for every residue in the break-up's tables at 3-60 MeV the charged and neutral shares are
 * non-negative and the three add up to the excitation, the separation energy non-negative where
 * the residue is bound (every channel's pieces heavier than it: H-4, Be-6 and B-7, say, are
 * not). Where one
 * channel only is open (the thresholds hold the Coulomb term of the break-up's freeze-out
 * volume), the separation energy is the measured one, from the AME2020 atomic mass excesses
 * (keV: O-16 -4737.00137, C-12 0, C-13 3125.00875, He-4 2424.91587, n 8071.31806): O-16 at 12
 * MeV -> alpha + C-12, S = 7161.917 keV, all of the rest charged; C-12 at 11 MeV -> alpha +
 * Be-8 -> three alphas, 7274.748 keV; C-13 at 6 MeV -> n + C-12, 4946.309 keV, the neutron
 * taking C-12's share of the rest, 12 / 13 within 0.1% (the pieces' masses); O-16 at 5 MeV,
 * below its lowest threshold: all gamma rays. Within 2 keV (the tables' nuclear masses take out
 * the atoms' electron binding, 0.1-0.9 keV here). */
Test(nuclear, target_residue_pays_its_separation_energies)
{
    rng r;
    rng_init(&r, 11, 0, 0);
    int residues = 0;
    for (int Z = 1; Z <= FERMI_MAX_Z; Z++)
        for (int A = Z; A <= FERMI_MAX_A; A++) {
            int k = fermi_nucleus(Z, A);
            if (k < 0) continue;
            residues++;
            /* Bound: every channel's pieces weigh more than the residue. */
            int first = BRAGG_CONST_GET(fermi_nucleus_first, k), bound = 1;
            for (int ch = first; ch < first + BRAGG_CONST_GET(fermi_nucleus_count, k); ch++) {
                int p0 = BRAGG_CONST_GET(fermi_channel_first, ch);
                double pieces = -BRAGG_CONST_GET(fermi_nucleus_mass, k);
                for (int i = 0; i < BRAGG_CONST_GET(fermi_channel_k, ch); i++) {
                    int state = BRAGG_CONST_GET(fermi_piece, p0 + i);
                    pieces += BRAGG_CONST_GET(fermi_state_mass, state);
                }
                if (pieces < 0.0) bound = 0;
            }
            static const double ex[] = {3.0, 8.0, 15.0, 30.0, 60.0};
            for (int i = 0; i < 5; i++)
                for (int j = 0; j < 20; j++) {
                    double c, n, b;
                    cr_assert(fermi_residue_energies(&r, Z, A, ex[i], &c, &n, &b));
                    cr_expect(c >= 0.0 && n >= 0.0 && (!bound || b >= 0.0),
                              "Z %d A %d at %g MeV: %g %g %g", Z, A, ex[i], c, n, b);
                    cr_expect(fabs(c + n + b - ex[i]) < 1e-9 * ex[i],
                              "Z %d A %d at %g MeV: %.12f + %.12f + %.12f", Z, A, ex[i], c, n, b);
                }
        }
    cr_expect(residues > 30, "%d residues", residues);
    double c, n, b;
    cr_assert(fermi_residue_energies(&r, 8, 16, 12.0, &c, &n, &b));
    cr_expect(fabs(b - 7.161917) < 2e-3 && fabs(c - (12.0 - b)) < 1e-9 && n == 0.0,
              "O-16 at 12 MeV: binding %.6f charged %.6f neutral %.6f", b, c, n);
    cr_assert(fermi_residue_energies(&r, 6, 12, 11.0, &c, &n, &b));
    cr_expect(fabs(b - 7.274748) < 2e-3 && fabs(c - (11.0 - b)) < 1e-9 && n == 0.0,
              "C-12 at 11 MeV: binding %.6f charged %.6f neutral %.6f", b, c, n);
    cr_assert(fermi_residue_energies(&r, 6, 13, 6.0, &c, &n, &b));
    cr_expect(fabs(b - 4.946309) < 2e-3 && fabs(n / (6.0 - b) - 12.0 / 13.0) < 1e-3 * 12.0 / 13.0,
              "C-13 at 6 MeV: binding %.6f charged %.6f neutral %.6f", b, c, n);
    cr_assert(fermi_residue_energies(&r, 8, 16, 5.0, &c, &n, &b));
    cr_expect(n == 5.0 && c == 0.0 && b == 0.0, "O-16 at 5 MeV: %g %g %g", c, n, b);
    cr_expect(!fermi_residue_energies(&r, 20, 40, 10.0, &c, &n, &b), "Ca-40 is not in the tables");
}

/* Residues heavier than the break-up's tables (A > 16: the Na to Ca of tissue and bone, the Al,
 * Fe, Cu, W and Pb of a beam line) evaporate neutrons, protons and alphas, each paying its
 * separation energy from Bethe-Weizsaecker binding energies (physics/fragmentation.h,
 * evaporation_residue_energies). Against AME2020 (tests/reference/separation_energies_ame2020.tsv):
 * S_n, S_p and S_alpha of twelve parents from Na-23 to Pb-208 within 2.5 MeV each and 1 MeV on
 * average (found 2.42 and 0.87: the liquid drop has no shell terms, and its largest misses are
 * where shells close or alphas cluster, Si-28's S_p and Pb-208's S_alpha). A pairing term of the
 * wrong sign moves an odd parent's S_n and S_p by 2 x 11.18 / sqrt(A), 4 MeV at A = 27. Then
 * the bookkeeping: each parent at 1-150 MeV adds up to its excitation with no negative share
 * (binding aside where an alpha's separation releases energy, W and Pb);
 * below every threshold it is all gamma rays; where only the neutron's channel is open (Pb-208
 * at 8 MeV) the binding is the neutron's separation energy and the rest is neutral. */
Test(nuclear, target_residue_evaporation_pays_separation_energies)
{
    const ref_table *ref = ref_load("separation_energies_ame2020.tsv");
    double mass_excess[100][260];
    for (int z = 0; z < 100; z++)
        for (int a = 0; a < 260; a++) mass_excess[z][a] = NAN;
    for (int i = 0; i < ref->rows; i++)
        mass_excess[(int)ref->v[i][0]][(int)ref->v[i][1]] = ref->v[i][3] / 1000.0;
    static const int parents[][2] = {{11, 23}, {13, 27}, {14, 28}, {15, 31}, {16, 32}, {17, 35},
                                     {19, 39}, {20, 40}, {26, 56}, {29, 63}, {74, 184}, {82, 208}};
    const int dz[3] = {0, 1, 2}, da[3] = {1, 1, 4};
    const double light[3] = {mass_excess[0][1], mass_excess[1][1], mass_excess[2][4]};
    double sum = 0.0, worst = 0.0;
    int n = 0;
    rng r;
    rng_init(&r, 12, 0, 0);
    for (size_t k = 0; k < sizeof parents / sizeof parents[0]; k++) {
        int Z = parents[k][0], A = parents[k][1];
        for (int x = 0; x < 3; x++) {
            double measured = mass_excess[Z - dz[x]][A - da[x]] + light[x] - mass_excess[Z][A];
            double model, barrier;
            evaporation_threshold(Z, A, dz[x], da[x], &model, &barrier);
            cr_assert(isfinite(measured), "Z %d A %d: a mass is missing from the file", Z, A);
            cr_log_info("Z %2d A %3d: S_%s %7.3f MeV (AME2020 %7.3f), barrier %5.2f MeV", Z, A,
                        x == 0 ? "n" : x == 1 ? "p" : "a", model, measured, barrier);
            cr_expect(fabs(model - measured) <= 2.5, "Z %d A %d: S_%d %.3f vs %.3f MeV", Z, A, x,
                      model, measured);
            sum += fabs(model - measured);
            worst = fmax(worst, fabs(model - measured));
            n++;
        }
        static const double ex[] = {1.0, 5.0, 12.0, 30.0, 60.0, 150.0};
        for (int i = 0; i < 6; i++)
            for (int j = 0; j < 20; j++) {
                double c, nn, b;
                evaporation_residue_energies(&r, Z, A, ex[i], &c, &nn, &b);
                /* An alpha leaving W or Pb releases energy (S_alpha < 0): binding may go
                 * below zero there. */
                cr_expect(c >= 0.0 && nn >= 0.0 && (Z > 70 || b >= 0.0),
                          "Z %d A %d at %g MeV: %g %g %g", Z, A, ex[i], c, nn, b);
                cr_expect(fabs(c + nn + b - ex[i]) < 1e-9 * ex[i],
                          "Z %d A %d at %g MeV: %.12f + %.12f + %.12f", Z, A, ex[i], c, nn, b);
                if (i == 0) cr_expect(nn == ex[i] && b == 0.0, "Z %d A %d at 1 MeV: bound", Z, A);
            }
    }
    cr_log_info("separation energies: mean |model - AME2020| %.3f MeV, worst %.3f", sum / n, worst);
    cr_expect(sum / n <= 1.0, "mean deviation %.3f MeV", sum / n);
    /* The binding energies themselves, B = Z M(H) + N M(n) - M(Z, A) in mass excesses, for
     * every nucleus of the file from A = 24 on: separation energies are differences, in which a
     * coefficient's error mostly cancels (the volume term's entirely). Found: 36 nuclei within
     * 1.6% each (Mg-26), 0.65% on average. Each coefficient 3% off, in a copy of the formula: the
     * volume's either way, the surface's either way and the Coulomb term's 3% low fail this
     * (mean 5-6%, 1.1-2.4% and 1.4%); the Coulomb term 3% high would pass (mean 0.5%). */
    double b_sum = 0.0, b_worst = 0.0;
    int b_n = 0;
    for (int z = 1; z < 100; z++)
        for (int a = 24; a < 260; a++) {
            if (isnan(mass_excess[z][a])) continue;
            double measured = z * light[1] + (a - z) * light[0] - mass_excess[z][a];
            double dev = fabs(semf_binding_mev(z, a) / measured - 1.0);
            cr_expect(dev <= 0.02, "Z %d A %d: B %.2f vs AME2020 %.2f MeV", z, a,
                      semf_binding_mev(z, a), measured);
            b_sum += dev;
            b_worst = fmax(b_worst, dev);
            b_n++;
        }
    cr_log_info("binding energies, A >= 24: %d nuclei, mean |model / AME2020 - 1| %.4f, worst %.4f",
                b_n, b_sum / b_n, b_worst);
    cr_expect(b_n >= 30 && b_sum / b_n <= 0.01, "%d nuclei, mean deviation %.4f", b_n,
              b_sum / b_n);
    double s_n, v_n, c, nn, b;
    evaporation_threshold(82, 208, 0, 1, &s_n, &v_n);
    evaporation_residue_energies(&r, 82, 208, 8.0, &c, &nn, &b);
    cr_expect(fabs(b - s_n) < 1e-12 && c == 0.0 && fabs(nn - (8.0 - s_n)) < 1e-12,
              "Pb-208 at 8 MeV: binding %.6f (S_n %.6f) charged %.6f neutral %.6f", b, s_n, c, nn);
    /* What a lead residue of 50 MeV gives off, for the record (protons face a 13 MeV barrier). */
    double cs = 0.0, ns = 0.0, bs = 0.0;
    for (int j = 0; j < 1000; j++) {
        evaporation_residue_energies(&r, 82, 207, 50.0, &c, &nn, &b);
        cs += c;
        ns += nn;
        bs += b;
    }
    cr_log_info("Pb-207 at 50 MeV: charged %.2f, neutral %.2f, binding %.2f MeV on average",
                cs / 1000, ns / 1000, bs / 1000);
}

/* The evaporated particle's kinetic energy above its barrier has the Maxwellian's density eps
 * exp(-eps / T) cut at E (physics/fragmentation.h, evaporation_kinetic_energy): 400 000 draws at
 * E / T = 0.3, 1.9, 2.1 and 8 (both methods, either side of their switch at 2), never above E, with
 * the cut Maxwellian's mean T (2 - (x^2 + 2x + 2) e^-x) / (1 - (1 + x) e^-x), x = E / T, within
 * 5 standard errors (the sample's own standard deviation over sqrt(n)), and the fraction below
 * E / 2 against (1 - (1 + x/2) e^(-x/2)) / (1 - (1 + x) e^-x) (binomial, 5 sigma). A cut by
 * clipping at E, as until 2026-12-06, put 3-32% of the draws at E and fails the mean. */
Test(nuclear, evaporated_energies_follow_the_cut_maxwellian)
{
    const double ratio[] = {0.3, 1.9, 2.1, 8.0};
    const long n = 400000;
    rng r;
    rng_init(&r, 5, 1, 2);
    for (int k = 0; k < 4; k++) {
        double T = 1.7, E = ratio[k] * T, x = ratio[k];
        double s1 = 0, s2 = 0, most = 0, below = 0;
        for (long i = 0; i < n; i++) {
            double eps = evaporation_kinetic_energy(&r, T, E);
            s1 += eps;
            s2 += eps * eps;
            most = fmax(most, eps);
            below += eps < 0.5 * E;
        }
        double mean = s1 / n, sd = sqrt(s2 / n - mean * mean);
        double norm = 1 - (1 + x) * exp(-x);
        double expect = T * (2 - (x * x + 2 * x + 2) * exp(-x)) / norm;
        double p_half = (1 - (1 + 0.5 * x) * exp(-0.5 * x)) / norm;
        double p_sd = sqrt(n * p_half * (1 - p_half));
        cr_log_info("E / T = %g: mean %.5f MeV (cut Maxwellian %.5f), below E/2 %.4f (%.4f)", x,
                    mean, expect, below / n, p_half);
        cr_expect(most <= E, "E / T = %g: a draw of %g above E = %g", x, most, E);
        cr_expect(fabs(mean - expect) < 5 * sd / sqrt((double)n), "E / T = %g: mean %.5f vs %.5f",
                  x, mean, expect);
        cr_expect(fabs(below - n * p_half) < 5 * p_sd, "E / T = %g: %.0f below E/2, expected %.0f",
                  x, below, n * p_half);
    }
}

/* The unbound ground states that the Fermi break-up can produce decay at once
 * (physics/fragmentation.h, fermi_add_ground_state): He-5 -> alpha n, Li-5 -> alpha p, Be-8 ->
 * 2 alpha, B-9 -> p 2 alpha, Be-6 -> alpha p p. For each, 2 000 decays of a nucleus moving with
 * 40 MeV/c: charge and nucleons kept, every product bound (none of the five), momentum kept
 * (the neutron's along z only: the event keeps no more of it), and the kinetic energy released
 * in the centre of mass equal to the decay's Q-value from the AME2020 atomic mass excesses
 * (keV: He-5 11231.234, Li-5 11678.887, Be-6 18375.034, Be-8 4941.672, B-9 12416.486, He-4
 * 2424.91587, H-1 7288.971064, n 8071.31806; Q = 735.00, 1965.00, 1372.18, 91.84 and 277.68
 * keV), within 1 keV: the tables' nuclear masses take out the atoms' electron binding energies,
 * which moves these Q-values by 0.1-0.5 keV (B-9: 0.5). Be-6 was
 * transported as a bound fragment until 2026-12-05 (1e-4 per C-12 400 MeV/u primary). */
Test(nuclear, unbound_ground_states_decay_with_their_q_values)
{
    static const struct { int Z, A; double q_kev; } cases[] = {
        {2, 5, 735.00}, {3, 5, 1965.00}, {4, 6, 1372.18}, {4, 8, 91.84}, {5, 9, 277.68}};
    const double P[3] = {0.0, 0.0, 40.0};
    rng r;
    rng_init(&r, 31, 0, 0);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        int Z = cases[c].Z, A = cases[c].A;
        double worst_q = 0.0, worst_p = 0.0;
        for (int d = 0; d < 2000; d++) {
            nuclear_event ev;
            memset(&ev, 0, sizeof ev);
            fermi_add_ground_state(&ev, &r, Z, A, P);
            int z = 0, a = ev.spectator_neutrons, bound = 1;
            double kin = ev.spectator_neutron_ke, msum = 0.0, sum[3] = {0.0, 0.0, 0.0};
            sum[2] = ev.spectator_neutron_pz;
            if (ev.spectator_neutrons) msum += ev.spectator_neutrons * NEUTRON_MASS_MEV;
            for (int i = 0; i < ev.n; i++) {
                const nuclear_product *f = &ev.product[i];
                z += f->Z;
                a += f->A;
                for (size_t u = 0; u < sizeof cases / sizeof cases[0]; u++)
                    if (f->Z == cases[u].Z && f->A == cases[u].A) bound = 0;
                double m = BRAGG_CONST_GET(fermi_nucleus_mass, fermi_nucleus(f->Z, f->A));
                msum += m;
                kin += (f->px * f->px + f->py * f->py + f->pz * f->pz) / (2.0 * m);
                sum[0] += f->px;
                sum[1] += f->py;
                sum[2] += f->pz;
            }
            cr_assert(z == Z && a == A && bound, "(%d, %d) decayed into charge %d, %d nucleons%s",
                      Z, A, z, a, bound ? "" : ", an unbound piece among them");
            double q = 1000.0 * (kin - P[2] * P[2] / (2.0 * msum)) - cases[c].q_kev;
            worst_q = fmax(worst_q, fabs(q));
            for (int j = ev.spectator_neutrons ? 2 : 0; j < 3; j++)
                worst_p = fmax(worst_p, fabs(sum[j] - P[j]));
        }
        cr_expect(worst_q < 1.0 && worst_p < 1e-9, "(%d, %d): Q off by up to %g keV, momentum by "
                  "%g MeV/c", Z, A, worst_q, worst_p);
        cr_log_info("(%d, %d): Q within %.3f keV of AME2020's, momentum within %g MeV/c", Z, A,
                    worst_q, worst_p);
    }
}

/* A digitised angular distribution point (assets/measurements/haettner-2013-c12-400-water-
 * angular.tsv: depth_cm Z angle_deg value). */
typedef struct angular_point { double depth; int Z; double angle, value; } angular_point;

static int load_angular(angular_point *pts, int max)
{
    FILE *f = fopen(BRAGG_ASSET_DIR "/measurements/haettner-2013-c12-400-water-angular.tsv", "r");
    cr_assert(f, "the angular distributions' asset");
    char line[256];
    int n = 0;
    while (fgets(line, sizeof line, f) && n < max) {
        if (line[0] == '#' || line[0] == '\n') continue;
        angular_point q;
        if (sscanf(line, "%lf %d %lf %lf", &q.depth, &q.Z, &q.angle, &q.value) == 4) pts[n++] = q;
    }
    fclose(f);
    return n;
}

/* Fragments of charge Z per primary per sr crossing the plane forwards within +-half degrees of
 * `angle` (0-0.75 degrees for the axis). */
static double crossings_per_sr(const phase_space_list *l, int Z, double angle, double half,
                               double histories)
{
    double lo = angle < half ? 0.0 : angle - half, hi = angle < half ? 0.75 : angle + half;
    double clo = cos(lo * PI / 180), chi = cos(hi * PI / 180);
    size_t n = 0;
    for (size_t i = 0; i < l->n; i++)
        if (l->p[i].Z == Z && l->p[i].w <= clo && l->p[i].w > chi) n++;
    return n / histories / (2 * PI * (clo - chi));
}

/* The angular distributions of C-12's fragments at 400 MeV/u behind water against the same GSI
 * measurement (Haettner et al., Phys. Med. Biol. 58 (2013) 8265, as digitised in Geant4's
 * hadrontherapy example: the asset's header). 20 000 histories per plane, bragg's phase space.
 * The digitised scale disagrees with the yield files at some depths (H at 5.9 cm integrates to
 * 2.8 times the yield), so only what the data can carry is asserted (docs/physics.md section 4,
 * "Angular distributions"):
 *   - H in absolute numbers at 1-10 degrees, at 15.9, 31.2 and 34.7 cm (where its scale is
 *     within 15% of the yields), within 25%: that scale, the digitisation's few percent and
 *     bragg's 2-4% of noise per 1-degree bin; measured -13 to +7%;
 *   - He's core, as the ratio of its values at 4 and 1 degrees (no scale in it), at every depth,
 *     within 15%: the two 1-degree points of the digitised file differ by 5%, bragg's ratio has
 *     4% of noise; measured -2 to +7%. A Gaussian core 10% wider moves it by 30%.
 * Logged, not asserted (bragg does not reproduce them): He beyond 5 degrees, Li, Be and B. */
Test(nuclear, carbon_400_fragment_angles_vs_haettner)
{
    angular_point pts[200];
    int n = load_angular(pts, 200);
    cr_assert(n > 80, "%d points", n);   /* 87 in the asset */
    static const double depths[] = {5.9, 15.9, 31.2, 34.7};
    const double histories = 20000;
    for (size_t d = 0; d < sizeof depths / sizeof depths[0]; d++) {
        run_config c = testkit_config("C-12", 400, (uint64_t)histories);
        c.depth_max_cm = 36;
        c.phase_space_depth_cm = depths[d];
        engine *en;
        run_snapshot s = testkit_run(&c, &en);
        const phase_space_list *l = engine_phase_space(en);
        cr_assert(l->lost == 0 && l->n > 0);
        double he1_m = 0, he4_m = 0;
        int he1_n = 0;
        for (int i = 0; i < n; i++) {
            const angular_point *q = &pts[i];
            if (q->depth != depths[d] || q->angle < 0.5) continue;
            double mine = crossings_per_sr(l, q->Z, q->angle, 0.5, histories);
            if (q->Z == 1 && depths[d] > 10)
                cr_expect(fabs(mine / q->value - 1) < 0.25, "H at %g cm, %.2f degrees: %.3f per "
                          "sr, measured %.3f", depths[d], q->angle, mine, q->value);
            if (q->Z == 2 && fabs(q->angle - 1) < 0.1) he1_m += q->value, he1_n++;
            if (q->Z == 2 && fabs(q->angle - 4) < 0.1) he4_m = q->value;
            cr_log_info("Z=%d at %g cm, %.2f degrees: bragg %.3f, measured %.3f per sr", q->Z,
                        depths[d], q->angle, mine, q->value);
        }
        cr_assert(he1_n > 0 && he4_m > 0, "He at 1 and 4 degrees at %g cm", depths[d]);
        double ratio = crossings_per_sr(l, 2, 4.0, 0.5, histories) /
                       crossings_per_sr(l, 2, 1.0, 0.5, histories);
        double ratio_m = he4_m / (he1_m / he1_n);
        cr_expect(fabs(ratio / ratio_m - 1) < 0.15, "He at %g cm: 4 over 1 degree %.3f, measured "
                  "%.3f", depths[d], ratio, ratio_m);
        cr_log_info("He at %g cm: 4 over 1 degree %.3f, measured %.3f (%+.1f%%)", depths[d],
                    ratio, ratio_m, 100 * (ratio / ratio_m - 1));
        run_snapshot_free(&s);
        engine_destroy(en);
    }
}

/* Fragment yields of C-12 at 400 MeV/u in water against the GSI measurement (Haettner et al.,
 * fragments within 10 degrees per incident C-12, digitised in
 * assets/measurements/haettner-2013-c12-400-water-yields.tsv):
 * the number of crossings of each measured depth within 10 degrees of the beam, per primary.
 * Asserted where the abrasion / Fermi break-up / fireball model agrees (docs/physics.md
 * section 4):
 *   - He at every measured depth, and B up to 31.3 cm, within 20%: the digitisation carries a
 *     few percent of full scale and 0.1-0.2 cm in depth, 40 000 histories about 1-2.5%, and the
 *     model itself is a statistical de-excitation whose spread against such data is of order 10%;
 *     the earlier Wilson ablation was 46-55% high in He and 23-39% low in B, and fails this.
 *   - H at every measured depth within 20%: the same digitisation (a few percent of the H
 *     figure's full scale is 0.03-0.04 per primary, over 10% of the 0.27 measured at 5.7 cm),
 *     and most forward hydrogen comes from statistical emission (the participants' fireball and
 *     the break-up), whose spread against such data is again of order 10%; 40 000 histories
 *     under 1%. The Cucinotta Gaussian for the abraded nucleons, before the fireball, was 47-70%
 *     high and fails this.
 *   - Li: NOT an agreement claim but a guard of the model's known excess, a signed window.
 *     The model is 37-49% high from 16 cm on and 21% at 5.7 cm (docs/physics.md, the mean
 *     of 8 runs; +/-3 points from one run to another); 40 000 histories add about 2% statistical
 *     error at 16 cm, so the upper side, +55% (and the allowance below), leaves two to four
 *     standard errors there: it fails if Li production rises by a few percent more. The lower
 *     side is agreement, -20% as for H, He and B above (the same digitisation and model
 *     spread): it fails if Li turns into a deficit, as the earlier ablation model's 45-62%.
 *     (Until the ion cross-sections moved to Glauber's optical limit, 2026-12-05, the guard was
 *     40% at a 35% bias: Tripathi's lithium rule made lithium fragments react 53-71% more often
 *     than measured, which hid part of the overproduction.)
 * Not asserted, as the model does not reproduce them: Be (56-88% high), and B at 34.9 cm
 * (0.002 per primary, where the digitisation's absolute uncertainty dominates).
 * Each window also allows, on both sides, two standard errors of the run's own figure, counted
 * as Poisson in the crossings (1 / sqrt(yield x histories)): boron beyond the peak is 0.04 per
 * primary, 1600 crossings in 40 000 histories, 2.5%, and its model bias there is +14% (the mean
 * of three seeds), so without that allowance one seed in ten failed on noise alone. */
Test(nuclear, carbon_400_fragment_yields_vs_haettner)
{
    const uint64_t histories = 40000;
    run_config c = testkit_config("C-12", 400, histories);
    c.depth_max_cm = 36;
    run_snapshot s = testkit_run(&c, NULL);
    const score_result *r = &s.result;
    cr_assert(r->nbins > 10 && r->channels >= 7);

    measured yields;
    bragg_err e = {{0}};
    cr_assert(measured_load(&yields, BRAGG_ASSET_DIR
                            "/measurements/haettner-2013-c12-400-water-yields.tsv", &e) == 0,
              "%s", e.msg);
    cr_assert(yields.z, "the yields file has no Z column");
    int checked = 0;
    for (int i = 0; i < yields.n; i++) {
        double z = yields.x[i], meas = yields.y[i];
        int Z = yields.z[i];
        /* The window on dev, lo < dev < hi: agreement, or for Li the guard of its excess. */
        double lo = -0.20, hi = Z == 3 ? 0.55 : 0.20;
        if (!(Z <= 3 || (Z == 5 && z < 32.0))) continue;
        /* Linear interpolation between bin centres. */
        int k = 0;
        while (k + 2 < r->nbins && r->depth[k + 1] < z) k++;
        double f = (z - r->depth[k]) / (r->depth[k + 1] - r->depth[k]);
        const double *y = r->channel_forward[Z];
        double model = y[k] + f * (y[k + 1] - y[k]);
        double dev = model / meas - 1.0;
        double stat = 2.0 / sqrt(model * (double)histories);
        lo -= stat;
        hi += stat;
        cr_expect(dev > lo && dev < hi, "Z = %d at %.2f cm: %.4f per primary vs measured %.4f "
                  "(%+.0f%%, window %+.0f%% to %+.0f%%)", Z, z, model, meas, 100 * dev, 100 * lo,
                  100 * hi);
        cr_log_info("C-12 400 MeV/u, Z = %d at %.2f cm: %.4f vs measured %.4f (%+.0f%%)", Z, z,
                    model, meas, 100 * dev);
        checked++;
    }
    cr_expect(checked == 25, "%d yields compared", checked);   /* 6 H, 6 He, 7 Li, 6 B */
    measured_free(&yields);
    run_snapshot_free(&s);
}

/* The proton plateau against Bortfeld's analytical model (Med. Phys. 24 (1997) 2024) written
 * with PSTAR's range and total stopping (tests/reference/pstar_water.tsv) in place of his
 * power-law fit: the primaries' fluence falls as 1 + beta (R0 - z) and a fraction gamma of the
 * energy released in reactions is absorbed on the spot, so
 *     D(z) ~ (1 + beta (R0 - z)) S(E(z)) + gamma beta E(z),
 * E(z) the energy with CSDA range R0 - z (beta, gamma from nuclear_benchmarks.tsv). bragg now
 * transports the reactions' protons instead, so its dose builds up over the first centimetres
 * (their ranges) where the model deposits at once: compared from 6 cm (beyond the build-up)
 * to 13 cm (before straggling shapes the peak), the shape relative to 6 cm within 3% (the
 * model's own agreement with measured curves, Bortfeld's figures, is about 2%, and PSTAR
 * differs from bragg's stopping by up to 0.3%). bragg sits 1.0-2.5% above the model from 7 to
 * 13 cm (400 000 histories, seeds 6 and 7 agree within 0.1%): ICRU 63's secondaries, forward
 * and fast, carry reaction energy downstream where the model deposits 60% at once. 400 000
 * histories in 1 mm bins keep each 0.5 cm mean within 0.15% (at 40 000 the spread between
 * seeds was 0.5%, too close to the margin). The build-up itself, 2-9% below the model at 1-4 cm,
 * is in docs/physics.md; a measured curve would settle it. */
Test(nuclear, proton_plateau_follows_bortfeld_beyond_the_buildup)
{
    const ref_table *bench = ref_load("nuclear_benchmarks.tsv");
    double beta = NAN, gamma = NAN;
    for (int i = 0; i < bench->rows; i++) {
        if (strcmp(bench->text[i][0], "bortfeld_fluence_reduction_slope_beta") == 0) beta = bench->v[i][5];
        if (strcmp(bench->text[i][0], "bortfeld_gamma_local_nonelastic_fraction") == 0)
            gamma = bench->v[i][5];
    }
    cr_assert(beta == 0.012 && gamma == 0.6, "beta %g gamma %g", beta, gamma);
    const ref_table *ps = ref_load("pstar_water.tsv");
    double R0 = ref_loglog(ps, 0, 2, 150.0);
    cr_assert(fabs(R0 - 15.77) < 0.01, "PSTAR CSDA range of 150 MeV protons %g g/cm2", R0);

    run_config c = testkit_config("p", 150, 400000);
    c.bin_width_cm = 0.1;
    run_snapshot s = testkit_run(&c, NULL);
    const score_result *r = &s.result;
    double model[14], dose[14];
    for (int k = 6; k <= 13; k++) {
        double z = k, E = ref_loglog(ps, 2, 0, R0 - z), S = ref_loglog(ps, 0, 3, E);
        model[k] = (1.0 + beta * (R0 - z)) * S + gamma * beta * E;
        double sum = 0.0;
        int m = 0;
        for (int i = 0; i < r->nbins; i++)
            if (fabs(r->depth[i] - z) <= 0.25) {
                sum += r->dose[i];
                m++;
            }
        dose[k] = sum / m;
    }
    double worst = 0.0;
    for (int k = 7; k <= 13; k++) {
        double dev = (dose[k] / dose[6]) / (model[k] / model[6]) - 1.0;
        cr_expect(fabs(dev) < 0.03, "%d cm: dose/dose(6 cm) %+.2f%% from Bortfeld's model", k,
                  100 * dev);
        if (fabs(dev) > fabs(worst)) worst = dev;
    }
    cr_log_info("p 150 MeV plateau 7-13 cm relative to 6 cm vs Bortfeld's model: worst %+.2f%%",
                100 * worst);
    run_snapshot_free(&s);
}

/* A row of icru63_proton_reactions.tsv: the value of `target`-`key` at `energy`. */
static double icru63(const char *target, const char *key, double energy)
{
    const ref_table *t = ref_load("icru63_proton_reactions.tsv");
    char name[64];
    snprintf(name, sizeof name, "%s-%s", target, key);
    for (int i = 0; i < t->rows; i++)
        if (strcmp(t->text[i][0], name) == 0 && t->v[i][1] == energy) return t->v[i][2];
    cr_assert_fail("%s at %g MeV missing from icru63_proton_reactions.tsv", name, energy);
    return NAN;
}

/* What a proton's nonelastic reaction on carbon, oxygen, aluminium, copper and lead hands on, per
 * reaction, in the transport (transport_react, which picks the target and books the rest), against
 * ICRU Report 63's evaluation (tests/reference/icru63_proton_reactions.tsv, as MCsquare tabulates
 * it), 20 000 histories' first event at 100, 150 and 200 MeV: in graphite, aluminium, copper and
 * lead (the only target) and in water (oxygen's reactions); the elastic scatterings on hydrogen and
 * on the nuclei that the tables also draw are left out. The products are sampled from that
 * evaluation (physics/icru63.h), so this checks the path from the sampler to the particles and the
 * ledger, and what energy conservation costs:
 *   - the energy given to charged particles (transported, or deposited on the spot: the
 *     recoils, and the alphas of a proton beam) against ICRU's protons, deuterons, alphas and
 *     recoils: 2.8-3.6% below for carbon and oxygen, 2.3-3.3% aluminium, 4.0-5.2% copper,
 *     0.3-0.6% lead (docs/physics.md). Asserted: within 6%. The reference has its own
 *     few percent (its energies come from spectra on a coarse grid, and it lacks tritons and
 *     He-3), and the sampler gives up 3-4%: an event's particles must fit in the energy there
 *     is, and the slow ones that do not are not emitted (icru63_sampler_follows_the_evaluation);
 *   - the energy carried by hydrogen above 20 MeV, which travels 4 mm or more and makes the
 *     build-up (ICRU: protons and deuterons): -1.7 to +2.7%, asserted within 5%. (The knockout
 *     model that handled protons before carried 10-24% more, and left the build-up below
 *     Bortfeld's model.) 10 000-20 000 reactions leave under 0.7% of statistical error in
 *     either figure.
 * And the nonelastic cross-section (Wellisch-Axen) against ICRU's: within 12%, as against
 * Barashenkov's evaluation (proton_cross_sections_vs_barashenkov). */
Test(nuclear, proton_reaction_products_vs_icru63)
{
    static const struct { const char *target, *slab; int Z, A; } media[] = {
        {"carbon", "graphite:50", 6, 12}, {"oxygen", "water:50", 8, 16},
        {"aluminium", "aluminium:50", 13, 27}, {"copper", "copper:50", 29, 64},
        {"lead", "lead:50", 82, 207}};
    static const double energies[] = {100, 150, 200};
    for (size_t m = 0; m < sizeof media / sizeof media[0]; m++)
        for (size_t k = 0; k < sizeof energies / sizeof energies[0]; k++) {
            double E = energies[k];
            const char *target = media[m].target;
            /* The cross-section too, as against Barashenkov's evaluation above (12%). */
            double xs = nuclear_reaction_xs_mb(1, 1, media[m].Z, media[m].A, E);
            double xs_ref = 1000.0 * icru63(target, "sigma", E);
            cr_expect(fabs(xs / xs_ref - 1) < 0.12, "p + %s at %g MeV: %.1f mb, ICRU 63 %.1f mb",
                      target, E, xs, xs_ref);
            cr_log_info("p + %s at %g MeV: nonelastic %.1f mb, ICRU 63 %.1f mb (%+.1f%%)", target,
                        E, xs, xs_ref, 100 * (xs / xs_ref - 1));
            run_config c = testkit_config("p", E, 100);
            bragg_err e;
            c.n_slabs = 0;
            cr_assert(config_add_slab(&c, media[m].slab, &e) == BRAGG_OK, "%s", e.msg);
            direct_call d;
            direct_call_open(&d, &c);
            const transport_params *p = d.p;
            score_sink sink = d.sink;
            particle_bank bank = d.bank;
            reaction_scratch scratch;
            const int n = 20000;
            int reactions = 0;
            double charged = 0, fast_h = 0, local = 0;
            for (int h = 0; h < n; h++) {
                uint32_t count = 0;
                product_out out = {&bank, &count, TRANSPORT_STACK};
                particle q;
                transport_start(p, (uint64_t)h, &q, &sink);
                uint64_t nonelastic = sink.count[COUNT_REACTIONS];
                int64_t local0 = sink.ledger[LEDGER_NUCLEAR_LOCAL];
                if (transport_react(p, &q, &sink, &out, &scratch)) continue;   /* missed */
                if (sink.count[COUNT_REACTIONS] == nonelastic) continue;       /* p-p elastic */
                reactions++;
                local += (double)(sink.ledger[LEDGER_NUCLEAR_LOCAL] - local0) /
                         ENERGY_QUANTA_PER_MEV;
                for (uint32_t j = 0; j < count; j++) {
                    particle o;
                    bank_load(&bank, j, p->seed, &o);
                    double T = o.t * o.A;
                    charged += T;
                    if (o.Z == 1 && T >= 20.0) fast_h += T;
                }
            }
            cr_assert(reactions > n / 3, "%d reactions", reactions);
            double mine = (charged + local) / reactions, fast = fast_h / reactions;
            double ref = icru63(target, "energy-proton", E) +
                         icru63(target, "energy-deuteron", E) + icru63(target, "energy-alpha", E) +
                         icru63(target, "recoil-fraction", E) * E;
            double ref_fast = icru63(target, "energy-proton-above-20", E) +
                              icru63(target, "energy-deuteron-above-20", E);
            cr_expect(fabs(mine / ref - 1) < 0.06, "p + %s at %g MeV: %.1f MeV to charged "
                      "particles per reaction, ICRU 63 %.1f", target, E, mine, ref);
            cr_expect(fabs(fast / ref_fast - 1) < 0.05,
                      "p + %s at %g MeV: %.1f MeV in hydrogen above 20 MeV per reaction, ICRU 63 "
                      "%.1f", target, E, fast, ref_fast);
            cr_log_info("p + %s at %g MeV, %d reactions; per reaction: charged %.1f MeV (ICRU 63 "
                        "%.1f, %+.1f%%), of it on the spot %.1f; hydrogen above 20 MeV %.1f (ICRU "
                        "63 %.1f, %+.1f%%)", target, E, reactions, mine, ref,
                        100 * (mine / ref - 1), local / reactions, fast, ref_fast,
                        100 * (fast / ref_fast - 1));
            direct_call_close(&d);
        }
}

/* The sampler itself (physics/icru63.h) against the evaluation it samples: 100 000 reactions on
 * carbon, oxygen, aluminium, copper and lead at 100, 150 and 200 MeV, per species (p, d, alpha) the
 * multiplicity and the energy per reaction, and for fast protons and deuterons (0.35 of the
 * incident energy or more) the share within 30 degrees, against
 * tests/reference/icru63_proton_reactions.tsv (multiplicities read from the files; energies and
 * angles computed there from the spectra); and every event within its energy; the spectra alone,
 * without the energy budget, against the energies the reference integrated (within 1.2%, below);
 * and that the generated tables hold the files' cross-sections, recoil shares and multiplicities
 * as the reference read them. Tolerances:
 *   - energy: the particles, the recoils and the Q-value never exceed the incident energy
 *     (to rounding), and the neutral rest is never negative;
 *   - multiplicities and energies BELOW the file's, by what energy conservation costs: an
 *     event's slow particles that find no room are not emitted (measured, carbon to copper:
 *     4-13% of the multiplicities, protons' and deuterons' energies 1-6% low, alphas' 7-11%;
 *     lead, whose reactions emit few charged particles, within 2% of the reference). Asserted:
 *     multiplicities and energies within -15% / +3% of the reference, +3% being the reference's
 *     own grid (its energies are trapezoids over 41 nodes; the sampler's spectrum is linear
 *     between them, with the file's missing multiplicity in the first interval);
 *   - the forward share of fast protons and deuterons: within 0.03 (absolute), the spread
 *     between interpolating the angular distributions by magnitude (the reference) or by
 *     shape (the sampler picks the nearer node), and the statistics (0.003).
 * Not asserted as agreement: the reference's 41-node integrals are themselves 5-12% below the
 * files' multiplicities, so these figures test the sampling, not the evaluation. */
Test(nuclear, icru63_sampler_follows_the_evaluation)
{
    static const struct { const char *target; int Z, A; } targets[] = {
        {"carbon", 6, 12}, {"oxygen", 8, 16}, {"aluminium", 13, 27}, {"copper", 29, 64},
        {"lead", 82, 207}};
    static const double energies[] = {100, 150, 200};
    static const char *species[] = {"proton", "deuteron", "alpha"};
    for (size_t m = 0; m < sizeof targets / sizeof targets[0]; m++) {
        int el = icru63_element(targets[m].Z);
        cr_assert(el >= 0, "ICRU 63 data for Z = %d", targets[m].Z);
        int n_energies = icru63_energy_count(el);
        float *data = malloc((size_t)n_energies * ICRU63_FLOATS_PER_ENERGY * sizeof *data);
        cr_assert(data);
        icru63_element_copy(el, data);
        icru63_view v = icru63_view_of(data, n_energies);
        for (size_t k = 0; k < sizeof energies / sizeof energies[0]; k++) {
            double E = energies[k];
            const char *target = targets[m].target;
            /* The generated tables hold the files' numbers: the rows the reference read from
             * the same files by hand (as floats). */
            int t = 0;
            while (t < n_energies && v.energy[t] != E) t++;
            cr_assert(t < n_energies, "no %g MeV table for %s", E, target);
            float sigma = icru63_sigma[icru63_element_first[el] + t];
            cr_expect(sigma == (float)icru63(target, "sigma", E) &&
                          v.recoil[t] == (float)icru63(target, "recoil-fraction", E),
                      "p + %s at %g MeV: sigma %g, recoil share %g in the tables", target, E,
                      sigma, v.recoil[t]);
            for (int s = 0; s < 3; s++) {
                char key[64];
                snprintf(key, sizeof key, "multiplicity-%s", species[s]);
                cr_expect(v.multiplicity[t * 3 + s] == (float)icru63(target, key, E),
                          "p + %s at %g MeV: %s multiplicity %g in the tables", target, E,
                          species[s], v.multiplicity[t * 3 + s]);
            }
            rng r;
            rng_init(&r, 17, k, m);
            /* The spectra alone, without an event's energy budget: energy per reaction, the
             * file's multiplicity times the mean of 100 000 draws, against the reference's
             * trapezoid of E Int(E) over the 41 nodes plus what the sampler adds on purpose: the
             * multiplicity the trapezoid misses, put into the first interval as a density
             * falling to 0 at the first node, at a third of the node spacing on average (0.1-2%
             * of the reference, most for the alphas' low-energy spectra). Where the trapezoid
             * holds more than the multiplicity (iron and copper: up to 5.5% more), the sampler
             * scales the whole spectrum down to the multiplicity, and the reference with it.
             * Within 1.2%: the
             * trapezoid and the exact integral of the linear spectrum differ by the curvature of
             * E Int(E) over a node spacing (under 1%), the draws 0.3%. */
            for (int s = 0; s < 3; s++) {
                char key[64];
                snprintf(key, sizeof key, "energy-%s", species[s]);
                double sum = 0.0;
                const int draws = 100000;
                for (int i = 0; i < draws; i++) {
                    int node;
                    sum += icru63_sample_x(&v, t, s, 0, ICRU63_NODES - 1, &r, &node);
                }
                double en = sum / draws * E * v.multiplicity[t * 3 + s];
                int row = icru63_element_first[el] + t;
                const float *g = icru63_spectrum + ((size_t)row * 3 + s) * ICRU63_NODES;
                double width = E / (ICRU63_NODES - 1), trapezoid = 0.0;
                for (int j = 0; j + 1 < ICRU63_NODES; j++) trapezoid += 0.5 * (g[j] + g[j + 1]);
                double held = trapezoid * width / icru63_sigma[row];
                double missing = v.multiplicity[t * 3 + s] - held;
                double en_ref = missing > 0 ? icru63(target, key, E) + missing * width / 3
                                            : icru63(target, key, E) * (held + missing) / held;
                cr_expect(fabs(en / en_ref - 1) < 0.012, "p + %s at %g MeV: the %s spectrum holds "
                          "%.2f MeV per reaction, ICRU 63 %.2f", target, E, species[s], en, en_ref);
                cr_log_info("p + %s at %g MeV, %s spectrum alone: %.2f MeV per reaction (ICRU 63 "
                            "%.2f, %+.2f%%)", target, E, species[s], en, en_ref,
                            100 * (en / en_ref - 1));
            }
            icru63_event ev;
            const int n = 100000;
            double count[3] = {0, 0, 0}, energy[3] = {0, 0, 0}, fast[2] = {0, 0},
                   forward[2] = {0, 0}, worst_excess = 0.0, worst_neutral = 0.0;
            for (int i = 0; i < n; i++) {
                icru63_sample(&v, &r, E, targets[m].Z, targets[m].A, &ev);
                double sum = ev.recoil_mev + ev.q_mev;
                for (int j = 0; j < ev.n; j++) {
                    int s = ev.species[j];
                    count[s]++;
                    energy[s] += ev.T[j];
                    sum += ev.T[j];
                    if (s < 2 && ev.T[j] >= 0.35 * E) {
                        fast[s]++;
                        if (ev.cos_theta[j] >= cos(30.0 * PI / 180.0)) forward[s]++;
                    }
                }
                if (sum - E > worst_excess) worst_excess = sum - E;
                if (-ev.neutral_mev > worst_neutral) worst_neutral = -ev.neutral_mev;
            }
            cr_expect(worst_excess < 1e-9 * E && worst_neutral < 1e-9 * E,
                      "p + %s at %g MeV: an event exceeds its energy by %g MeV (neutral %g)",
                      target, E, worst_excess, -worst_neutral);
            for (int s = 0; s < 3; s++) {
                char key[64];
                snprintf(key, sizeof key, "multiplicity-%s", species[s]);
                double mult = count[s] / n, mult_ref = icru63(target, key, E);
                snprintf(key, sizeof key, "energy-%s", species[s]);
                double en = energy[s] / n, en_ref = icru63(target, key, E);
                cr_expect(mult / mult_ref - 1 > -0.15 && mult / mult_ref - 1 < 0.03,
                          "p + %s at %g MeV: %s multiplicity %.4f, ICRU 63 %.4f", target, E,
                          species[s], mult, mult_ref);
                cr_expect(en / en_ref - 1 > -0.15 && en / en_ref - 1 < 0.03,
                          "p + %s at %g MeV: %s energy %.2f MeV per reaction, ICRU 63 %.2f", target,
                          E, species[s], en, en_ref);
                cr_log_info("p + %s at %g MeV, %s: multiplicity %.4f (ICRU 63 %.4f, %+.1f%%), "
                            "energy %.2f MeV per reaction (%.2f, %+.1f%%)", target, E, species[s],
                            mult, mult_ref, 100 * (mult / mult_ref - 1), en, en_ref,
                            100 * (en / en_ref - 1));
            }
            for (int s = 0; s < 2; s++) {
                char key[64];
                snprintf(key, sizeof key, "forward-30-%s", species[s]);
                double share = forward[s] / fast[s], share_ref = icru63(target, key, E);
                cr_expect(fabs(share - share_ref) < 0.03, "p + %s at %g MeV: %.4f of the fast %ss "
                          "within 30 degrees, ICRU 63 %.4f", target, E, share, species[s],
                          share_ref);
                cr_log_info("p + %s at %g MeV: fast %ss within 30 degrees %.4f (ICRU 63 %.4f)",
                            target, E, species[s], share, share_ref);
            }
        }
        free(data);
    }
}

/* Which of bragg's metals a proton's tables take ICRU Report 63 for (physics/tables.c): the
 * nonelastic products and the elastic scattering wherever the report has the element
 * (aluminium, silicon, iron, copper, tungsten, lead); titanium and gold, which the report lacks,
 * keep the knockout model; deuterons share the proton's sampler but not its elastic scattering.
 * And where each table's elastic scattering starts: at the first of the files' angles that a
 * default step's multiple scattering does not reach (elastic_first_interval): 5 degrees at
 * every energy in water (so the figures validated before the rule stand), 15 degrees or more
 * in lead at every energy, 10 or more in copper. Whatever the start, the table's cross-section
 * is the power form's integral from there (computed here again, within 0.1%), and the draws
 * never fall below it. */
static int first_interval_of(const icru63_elastic_view *v, int k)
{
    const float *cum = v->cumulative + (size_t)k * (ICRU63_ELASTIC_ANGLES - 1);
    int i = 0;
    while (i < ICRU63_ELASTIC_ANGLES - 2 && cum[i] == 0.0f) i++;
    return i;
}

static double power_area(double c0, double c1, double h0, double h1);

Test(nuclear, icru63_covers_the_beam_line_metals)
{
    static const struct { const char *name; int icru63, elastic, least_first; } media[] = {
        {"water", 1, 1, 0},    {"aluminium", 1, 1, 0}, {"silicon", 1, 1, 0}, {"iron", 1, 1, 1},
        {"copper", 1, 1, 1},   {"tungsten", 1, 1, 1},  {"lead", 1, 1, 2},    {"titanium", 0, 0, 0},
        {"gold", 0, 0, 0}};
    catalog cat;
    bragg_err e;
    cr_assert(catalog_load(&cat, &e) == BRAGG_OK, "%s", e.msg);
    const ion *proton = ion_table_find(&cat.ions, "p"), *deuteron = ion_table_find(&cat.ions, "d");
    cr_assert(proton && deuteron);
    for (size_t m = 0; m < sizeof media / sizeof media[0]; m++) {   /* water first */
        const material *mat = material_table_find(&cat.materials, media[m].name);
        cr_assert(mat, "%s", media[m].name);
        int heavy = mat->n_elements - 1;   /* water: oxygen; the metals: their one element */
        for (int d = 0; d < 2; d++) {
            transport_table tab;
            cr_assert(transport_table_build(&tab, d ? deuteron : proton, mat, cat.stopping,
                                            stopping_switches_all(), &e) == BRAGG_OK, "%s", e.msg);
            cr_expect((tab.icru63_offset[heavy] >= 0) == media[m].icru63,
                      "%s %s: ICRU 63 products %s", d ? "d" : "p", media[m].name,
                      tab.icru63_offset[heavy] >= 0 ? "yes" : "no");
            int elastic = tab.n_targets - tab.first_elastic;
            cr_expect(elastic == (d ? 0 : media[m].elastic), "%s %s: %d elastic targets",
                      d ? "d" : "p", media[m].name, elastic);
            if (elastic == 1) {
                icru63_elastic_view v = icru63_elastic_view_of(
                    tab.icru63 + tab.icru63_elastic_offset[0], tab.icru63_elastic_count[0]);
                int lowest = ICRU63_ELASTIC_ANGLES, highest = 0, k150 = -1;
                for (int k = 0; k < v.n; k++) {
                    int i0 = first_interval_of(&v, k);
                    lowest = i0 < lowest ? i0 : lowest;
                    highest = i0 > highest ? i0 : highest;
                    if (v.energy[k] == 150) k150 = k;
                    const float *h = v.dxs + (size_t)k * ICRU63_ELASTIC_ANGLES;
                    double integral = 0.0;
                    for (int i = i0; i + 1 < ICRU63_ELASTIC_ANGLES; i++)
                        integral += 2 * PI * power_area(cos(5.0 * (i + 1) * PI / 180),
                                                        cos(5.0 * (i + 2) * PI / 180), h[i],
                                                        h[i + 1]);
                    cr_expect(fabs(v.sigma[k] / integral - 1) < 1e-3, "%s at %g MeV: %g b from "
                              "%d degrees, the power form %g b", media[m].name, v.energy[k],
                              v.sigma[k], 5 * (i0 + 1), integral);
                }
                cr_expect(lowest == media[m].least_first, "%s: elastic scattering from %d "
                          "degrees at the least, expected %d", media[m].name, 5 * (lowest + 1),
                          5 * (media[m].least_first + 1));
                if (m == 0)
                    cr_expect(highest == 0, "water: elastic scattering from %d degrees at some "
                              "energy", 5 * (highest + 1));
                cr_log_info("p + %s: elastic scattering from %d degrees (at the least), %d at 150 "
                            "MeV", media[m].name, 5 * (lowest + 1),
                            k150 >= 0 ? 5 * (first_interval_of(&v, k150) + 1) : 0);
                if (k150 >= 0) {
                    double floor_cos = cos(5.0 * (first_interval_of(&v, k150) + 1) * PI / 180);
                    rng r;
                    rng_init(&r, 29, m, 0);
                    int below = 0;
                    for (int i = 0; i < 20000; i++)
                        below += icru63_elastic_sample_cos(&v, 150.0, &r) > floor_cos + 1e-12;
                    cr_expect(below == 0, "%s at 150 MeV: %d of 20 000 draws below the start",
                              media[m].name, below);
                }
            }
            transport_table_free(&tab);
        }
    }
    catalog_free(&cat);
}

/* Elastic scattering of protons on nuclei (physics/icru63.h), against ICRU Report 63's angular
 * distributions (tests/reference/icru63_proton_elastic.tsv, the files' numbers by hand):
 * - the generated tables hold the files' d sigma / d Omega (as floats);
 * - the reference's own cross-section is the distribution's trapezoid in cos theta (to 0.3%), so
 *   the files' figure is no independent check; bragg's rate is the integral of the form it
 *   samples, a power of 1 - cos theta between the angles, computed here again: within 0.1%;
 * - 200 000 sampled centre-of-mass angles fall into 5-10, 10-20, 20-40 and 40-180 degrees as
 *   that integral says, within 0.004 (a few standard deviations of the shares);
 * - the kinematics: the recoil's momentum closes the triangle of the incoming and the scattered
 *   proton's (law of cosines) to 1e-9, and the recoil's energy goes to the non-relativistic
 *   2 m M T (1 - cos) / (m + M)^2 at low energy;
 * - at 10 MeV on oxygen the distribution is nearly Rutherford's (16.6 times less at 10 degrees
 *   than at 5; Rutherford: 16): the power form's 5-10 degrees are within 3% of Rutherford's
 *   exact integral from the 5-degree value (measured -1.7%; exponential in cos theta +33%);
 * - aluminium at 1 MeV, iron at 2 MeV and lead at 10 MeV are below their Coulomb barriers (about
 *   3.5, 6 and 13 MeV): at 5-30 degrees the evaluation is Rutherford's absolute cross-section
 *   (Z z e^2 / 4 E_cm)^2 / sin^4(theta / 2), within 1%: the files' three digits (0.5%), the
 *   relativistic correction to the formula (of order T / m: 0.1-1%), screening by the atom's
 *   electrons (below 0.1 degrees at these energies). A check of the numbers against physics, not
 *   only of their transcription (the metals' tables are new in bragg's data). */
static double power_area(double c0, double c1, double h0, double h1)
{
    double x0 = 1 - c0, x1 = 1 - c1;
    if (!(h0 > 0 && h1 > 0) || h0 == h1) return (x1 - x0) * 0.5 * (h0 + h1);
    double n = log(h0 / h1) / log(x1 / x0);
    if (fabs(n - 1) < 1e-12) return h0 * x0 * log(x1 / x0);
    /* h0 x0^n (x1^(1-n) - x0^(1-n)) / (1-n), written so that steep powers (n of 20 and more
     * between the diffraction minima of heavy nuclei) neither overflow nor underflow. */
    return h0 * x0 * expm1((1 - n) * log(x1 / x0)) / (1 - n);
}

Test(nuclear, icru63_elastic_follows_the_evaluation)
{
    const ref_table *ref = ref_load("icru63_proton_elastic.tsv");
    static const double edges[] = {5, 10, 20, 40, 180};
    int checked = 0;
    for (int row = 0; row < ref->rows; row += ICRU63_ELASTIC_ANGLES) {
        int Z = (int)ref->v[row][0];
        double E = ref->v[row][1], file_sigma = ref->v[row][4];
        int el = icru63_element(Z), n = el >= 0 ? icru63_elastic_count(el) : 0;
        cr_assert(n > 0, "no elastic data for Z = %d", Z);
        float *data = malloc(ICRU63_ELASTIC_FLOATS(n) * sizeof *data);
        cr_assert(data);
        icru63_elastic_copy(el, NULL, data);
        icru63_elastic_view v = icru63_elastic_view_of(data, n);
        int t = 0;
        while (t < n && v.energy[t] != E) t++;
        cr_assert(t < n, "no %g MeV elastic table for Z = %d", E, Z);
        double c[ICRU63_ELASTIC_ANGLES], h[ICRU63_ELASTIC_ANGLES], trapezoid = 0, exact = 0;
        int same = 0;
        for (int i = 0; i < ICRU63_ELASTIC_ANGLES; i++) {
            cr_assert(ref->v[row + i][2] == 5.0 * (i + 1) && ref->v[row + i][1] == E);
            c[i] = cos(ref->v[row + i][2] * PI / 180.0);
            h[i] = ref->v[row + i][3];
            same += v.dxs[t * ICRU63_ELASTIC_ANGLES + i] == (float)h[i];
        }
        cr_expect(same == ICRU63_ELASTIC_ANGLES, "Z = %d, %g MeV: %d of 36 angles as the file", Z,
                  E, same);
        double band[4] = {0};
        for (int i = 0; i + 1 < ICRU63_ELASTIC_ANGLES; i++) {
            trapezoid += 2 * PI * (c[i] - c[i + 1]) * 0.5 * (h[i] + h[i + 1]);
            double a = 2 * PI * power_area(c[i], c[i + 1], h[i], h[i + 1]);
            exact += a;
            for (int b = 0; b < 4; b++)
                if (5.0 * (i + 1) >= edges[b] && 5.0 * (i + 2) <= edges[b + 1]) band[b] += a;
        }
        cr_expect(fabs(file_sigma / trapezoid - 1) < 3e-3, "Z = %d, %g MeV: the file's %g b, the "
                  "trapezoid %g b", Z, E, file_sigma, trapezoid);
        double sigma = icru63_elastic_sigma_at(&v, E);
        cr_expect(fabs(sigma / exact - 1) < 1e-3, "Z = %d, %g MeV: bragg's %g b, the power "
                  "form's %g b", Z, E, sigma, exact);
        rng r;
        rng_init(&r, 23, (uint64_t)E, (uint64_t)Z);
        int draws = 200000, in[4] = {0};
        for (int k = 0; k < draws; k++) {
            double deg = acos(icru63_elastic_sample_cos(&v, E, &r)) * 180.0 / PI;
            for (int b = 0; b < 4; b++)
                if (deg >= edges[b] && deg <= edges[b + 1]) {
                    in[b]++;
                    break;
                }
        }
        for (int b = 0; b < 4; b++) {
            double got = in[b] / (double)draws, want = band[b] / exact;
            cr_expect(fabs(got - want) < 0.004, "Z = %d, %g MeV, %g-%g degrees: %.4f sampled, "
                      "%.4f from the distribution", Z, E, edges[b], edges[b + 1], got, want);
        }
        cr_log_info("p + Z=%d elastic at %g MeV: %.4g b beyond 5 degrees (the file's trapezoid "
                    "%.4g b, %+.1f%%); 5-10 degrees %.3f, 40-180 %.4f", Z, E, sigma, file_sigma,
                    100 * (file_sigma / sigma - 1), in[0] / (double)draws, in[3] / (double)draws);
        free(data);
        checked++;
    }

    const double m = 938.272088, M = 16 * 931.49410242;
    for (int k = 0; k < 200; k++) {
        double T = 1.0 + 249.0 * k / 199.0, cth = cos((5.0 + 175.0 * (k % 17) / 16.0) * PI / 180.0);
        double theta, recoil;
        icru63_elastic_kinematics(T, m, M, cth, &theta, &recoil);
        double p_in = sqrt(T * (T + 2 * m)), T_out = T - recoil;
        double p_out = sqrt(T_out * (T_out + 2 * m)), p_r2 = recoil * (recoil + 2 * M);
        double triangle = p_in * p_in + p_out * p_out - 2 * p_in * p_out * cos(theta);
        cr_expect(fabs(triangle / p_r2 - 1) < 1e-9, "T %g, cos %g: recoil momentum^2 %g, "
                  "triangle %g", T, cth, p_r2, triangle);
    }
    /* Rutherford, oxygen at 10 MeV, 5-10 degrees: 4 pi A (1 / s(5) - 1 / s(10)), s(theta) =
     * sin^2(theta / 2), A = d sigma / d Omega sin^4(theta / 2) from the file's 5 degrees. */
    for (int row = 0; row < ref->rows; row++) {
        if (ref->v[row][0] != 8 || ref->v[row][1] != 10 || ref->v[row][2] != 5) continue;
        double s5 = pow(sin(2.5 * PI / 180), 2), s10 = pow(sin(5.0 * PI / 180), 2);
        double rutherford = 4 * PI * ref->v[row][3] * s5 * s5 * (1 / s5 - 1 / s10);
        double form = 2 * PI * power_area(cos(5 * PI / 180), cos(10 * PI / 180), ref->v[row][3],
                                          ref->v[row + 1][3]);
        cr_expect(fabs(form / rutherford - 1) < 0.03, "5-10 degrees: %g b, Rutherford %g b", form,
                  rutherford);
        checked++;
    }
    /* Rutherford below the barrier: E_cm = T M / (m + M) (M from the atomic weight: 26.98 for
     * aluminium, 55.85 for iron, 207.2 for lead), e^2 = 1.439964 MeV fm (CODATA 2018). */
    static const struct { int Z; double T, A; } barrier[] = {
        {13, 1, 26.98}, {26, 2, 55.85}, {82, 10, 207.2}};
    for (size_t b = 0; b < sizeof barrier / sizeof barrier[0]; b++)
        for (int row = 0; row < ref->rows; row++) {
            if (ref->v[row][0] != barrier[b].Z || ref->v[row][1] != barrier[b].T ||
                ref->v[row][2] > 30)
                continue;
            double M_t = barrier[b].A * 931.49410242, e_cm = barrier[b].T * M_t / (m + M_t);
            double a_fm = barrier[b].Z * 1.439964 / (4 * e_cm);
            double rutherford = a_fm * a_fm * 0.01 / pow(sin(ref->v[row][2] * PI / 360), 4);
            double dev = ref->v[row][3] / rutherford - 1;   /* 1 fm^2 = 0.01 b above */
            cr_expect(fabs(dev) < 0.01, "Z = %d, %g MeV, %g degrees: %g b/sr, Rutherford %g b/sr",
                      barrier[b].Z, barrier[b].T, ref->v[row][2], ref->v[row][3], rutherford);
            cr_log_info("p + Z=%d elastic at %g MeV, %g degrees: ICRU 63 %g b/sr, Rutherford %.4g "
                        "(%+.2f%%)", barrier[b].Z, barrier[b].T, ref->v[row][2], ref->v[row][3],
                        rutherford, 100 * dev);
            checked++;
        }
    cr_expect(checked == 29, "%d checks", checked);
    double theta, recoil;
    icru63_elastic_kinematics(1e-3, m, M, 0.0, &theta, &recoil);
    cr_expect(fabs(recoil / (2 * m * M * 1e-3 / ((m + M) * (m + M))) - 1) < 1e-5);
}

/* Builds the tables of `ion_name` in `mat_name` from the catalogue (the caller frees both). */
static void build_table(catalog *cat, transport_table *tab, const char *ion_name,
                        const char *mat_name)
{
    bragg_err e;
    const ion *ion = ion_table_find(&cat->ions, ion_name);
    const material *mat = material_table_find(&cat->materials, mat_name);
    cr_assert(ion && mat, "%s in %s", ion_name, mat_name);
    cr_assert(transport_table_build(tab, ion, mat, cat->stopping, stopping_switches_all(), &e) ==
              BRAGG_OK, "%s", e.msg);
}

/* Whether v lies between a and b, to rounding. */
static int between(double v, double a, double b)
{
    double lo = a < b ? a : b, hi = a < b ? b : a, tol = 1e-9 * (fabs(a) + fabs(b)) + 1e-15;
    return v >= lo - tol && v <= hi + tol;
}

/* The non-elastic and elastic rates per gram that `bragg tables` prints and a step samples lie,
 * at 7 energies inside every cell of the grid, between their values at the cell's two nodes, for
 * protons and He-4 in graphite, water and lead: the tables interpolate each linearly. Until
 * 2026-12-06 the tables held the total and each target's cumulative share of it, both linear,
 * whose product is not: in the cell under the energy where ICRU 63's elastic data of an element
 * begin (C 5 MeV, O 7, Pb 4: icru63_elastic_energy) the share of the non-elastic reactions fell
 * from ~1 to ~0.002 while the total rose from ~0.001 to ~0.7 cm2/g, and the non-elastic rate
 * in graphite reached 0.16 cm2/g at 4.98 MeV against 0.0013 at the nodes (a reviewer's finding).
 * The proton tables must hold such a cell (an elastic rate rising tenfold within it, checked):
 * the check is made where it can fail. */
Test(nuclear, reaction_rates_stay_between_their_node_values)
{
    static const char *ions[] = {"p", "He-4"}, *media[] = {"graphite", "water", "lead"};
    catalog cat;
    bragg_err e;
    cr_assert(catalog_load(&cat, &e) == BRAGG_OK, "%s", e.msg);
    for (int i = 0; i < 2; i++)
        for (int m = 0; m < 3; m++) {
            transport_table tab;
            build_table(&cat, &tab, ions[i], media[m]);
            const grid *g = &tab.energy_grid;
            int outside = 0, onsets = 0;
            double worst = 0.0, worst_t = 0.0;
            for (uint32_t c = 0; c < g->ncell; c++) {
                double t0 = grid_node(g, c), t1 = grid_node(g, c + 1);
                double ne0 = table_nonelastic(&tab, t0), ne1 = table_nonelastic(&tab, t1);
                double el0 = table_reaction(&tab, t0) - ne0, el1 = table_reaction(&tab, t1) - ne1;
                onsets += el1 > 10.0 * el0 + 1e-6;
                for (int j = 1; j < 8; j++) {
                    double t = t0 + (t1 - t0) * j / 8.0, ne = table_nonelastic(&tab, t);
                    double el = table_reaction(&tab, t) - ne;
                    if (between(ne, ne0, ne1) && between(el, el0, el1)) continue;
                    double hi = ne0 > ne1 ? ne0 : ne1;
                    if (ne / hi > worst) {
                        worst = ne / hi;
                        worst_t = t;
                    }
                    outside++;
                }
            }
            cr_expect(outside == 0, "%s in %s: %d energies outside their cell's node values "
                      "(non-elastic up to %.3g times the larger node value, at %.6g MeV/u)",
                      ions[i], media[m], outside, worst, worst_t);
            if (i == 0)
                cr_expect(onsets > 0, "p in %s: no cell where the elastic rate begins",
                          media[m]);
            cr_log_info("%s in %s: %d cells, %d of them where the elastic rate rises tenfold",
                        ions[i], media[m], g->ncell, onsets);
            transport_table_free(&tab);
        }
    catalog_free(&cat);
}

/* What a reaction's target is drawn from (table_pick_target) against each target's own rate
 * (table_partial), for protons and He-4 in graphite, water and lead: every target's rate lies
 * between its node values inside every cell (7 energies each) and the targets' rates add up to
 * the reaction column; and at the middle of one cell per octave, and of every cell where a
 * target's rate rises from (nearly) 0 at one node, N evenly spaced u pick each target N times
 * its part of the total, to one draw either side (no random numbers: the picks are a function
 * of u). Before 2026-12-06 the pick followed a share interpolated apart from the total: half the
 * time a non-elastic target in the cell under 5 MeV in graphite, where its part is 0.3%. */
Test(nuclear, reaction_targets_are_picked_by_their_own_rates)
{
    static const char *ions[] = {"p", "He-4"}, *media[] = {"graphite", "water", "lead"};
    enum { N = 100000 };
    catalog cat;
    bragg_err e;
    cr_assert(catalog_load(&cat, &e) == BRAGG_OK, "%s", e.msg);
    for (int i = 0; i < 2; i++)
        for (int m = 0; m < 3; m++) {
            transport_table tab;
            build_table(&cat, &tab, ions[i], media[m]);
            const grid *g = &tab.energy_grid;
            int outside = 0, unequal = 0, picks_off = 0, picked_cells = 0, rising = 0;
            for (uint32_t c = 0; c < g->ncell; c++) {
                double t0 = grid_node(g, c), t1 = grid_node(g, c + 1);
                int rises = 0;
                for (int k = 0; k < tab.n_targets; k++) {
                    double p0 = table_partial(&tab, k, c, t0), p1 = table_partial(&tab, k, c, t1);
                    rises |= p1 > 100.0 * p0 && p1 > 1e-6;
                    for (int j = 1; j < 8; j++) {
                        double t = t0 + (t1 - t0) * j / 8.0;
                        outside += !between(table_partial(&tab, k, c, t), p0, p1);
                    }
                }
                rising += rises;
                double tm = 0.5 * (t0 + t1), sum = 0.0, total = table_at(&tab, tab.reaction, c,
                                                                        tm);
                for (int k = 0; k < tab.n_targets; k++) sum += table_partial(&tab, k, c, tm);
                unequal += !(fabs(sum - total) <= 1e-12 * total);
                if (!(rises || c % 128 == 64) || !(total > 0.0)) continue;
                int count[2 * MATERIAL_MAX_ELEMENTS] = {0};
                for (int j = 0; j < N; j++)
                    count[table_pick_target(&tab, c, tm, (j + 0.5) / N)]++;
                for (int k = 0; k < tab.n_targets; k++) {
                    double want = N * table_partial(&tab, k, c, tm) / total;
                    if (fabs(count[k] - want) <= 1.0) continue;
                    picks_off++;
                    cr_log_error("%s in %s at %.6g MeV/u: target %d (Z = %d) picked %d times of "
                                 "%d, its rate %.6g of them", ions[i], media[m], tm, k,
                                 tab.target_Z[k], count[k], N, want);
                }
                picked_cells++;
            }
            cr_expect(outside == 0, "%s in %s: %d target rates outside their node values",
                      ions[i], media[m], outside);
            cr_expect(unequal == 0, "%s in %s: %d cells where the targets' rates do not add up "
                      "to the reaction column", ions[i], media[m], unequal);
            cr_expect(picks_off == 0, "%s in %s: %d targets picked off their rates", ions[i],
                      media[m], picks_off);
            if (i == 0)
                cr_expect(rising > 0, "p in %s: no cell where a target's rate begins", media[m]);
            cr_log_info("%s in %s: picks checked in %d cells, %d where a target's rate begins",
                        ions[i], media[m], picked_cells, rising);
            transport_table_free(&tab);
        }
    catalog_free(&cat);
}

/* A step draws its reaction point from the rates at its CSDA middle; the target must come from
 * the same rates. 12 MeV protons in water (1 mm bins: steps of 12% of the residual range down
 * to the end, not shortened by the bins) slow through 7 MeV, below which ICRU 63 gives oxygen
 * no elastic scattering: a step from above that ends in a reaction below once gave the
 * reaction drawn by the elastic rate to the non-elastic one, and the primaries ended by a
 * non-elastic reaction were 1.78e-3 at 12% steps against 1.13e-3 at 1% (10^6 histories each,
 * 2026-12-06). Asserted: 12% and 1% steps within 4 standard deviations of each other, and the
 * 1% run within 4 of the tables' own expectation, the integral over the slowing down of the
 * non-elastic rate over the stopping power times the share of primaries not yet ended by any
 * reaction (elastic scattering also ends a primary), +-2% for the grid's and the cut-off's
 * approximations. */
Test(nuclear, reaction_targets_converge_with_the_step)
{
    enum { N = 300000 };
    double f[2];
    static const double fraction[2] = {0.12, 0.01};
    for (int i = 0; i < 2; i++) {
        run_config c = testkit_config("p", 12, N);
        c.bin_width_cm = 0.1;
        c.step_fraction = fraction[i];
        run_snapshot s = testkit_run(&c, NULL);
        f[i] = s.result.reacted_fraction;
        run_snapshot_free(&s);
    }
    catalog cat;
    bragg_err e;
    cr_assert(catalog_load(&cat, &e) == BRAGG_OK, "%s", e.msg);
    transport_table tab;
    build_table(&cat, &tab, "p", "water");
    double expected = 0.0, taken = 0.0;
    const int steps = 20000;
    for (int j = steps - 1; j >= 0; j--) {   /* from 12 MeV down, midpoints */
        double T = 12.0 * (j + 0.5) / steps, dT = 12.0 / steps, S = table_stopping(&tab, T);
        double total = table_reaction(&tab, T) / S * dT;
        expected += table_nonelastic(&tab, T) / S * dT * exp(-taken - 0.5 * total);
        taken += total;
    }
    transport_table_free(&tab);
    catalog_free(&cat);
    double sd = sqrt(f[0] / N + f[1] / N), sd1 = sqrt(f[1] / N);
    cr_expect(fabs(f[0] - f[1]) < 4 * sd, "non-elastic: %.4g of the primaries at 12%% steps, "
              "%.4g at 1%% (standard deviation of the difference %.2g)", f[0], f[1], sd);
    cr_expect(fabs(f[1] - expected) < 4 * sd1 + 0.02 * expected, "non-elastic at 1%% steps %.4g, "
              "the tables' expectation %.4g", f[1], expected);
    cr_log_info("12 MeV protons in water, primaries ended by a non-elastic reaction: %.4g at 12%% "
                "steps, %.4g at 1%%, the tables' integral %.4g", f[0], f[1], expected);
}

/* A mass excess (keV) or level (MeV) of tests/reference/reaction_thresholds.tsv; NaN if absent. */
static double threshold_data(const ref_table *ref, const char *kind, int Z, int A)
{
    for (int i = 0; i < ref->rows; i++)
        if (strcmp(ref->text[i][0], kind) == 0 && ref->v[i][1] == Z && ref->v[i][2] == A)
            return ref->v[i][4];
    return NAN;
}

/* Below its first open channel a pair can only scatter elastically: for p and He-4 on C-12,
 * N-14 and O-16 the channel is recomputed here from AME2020's masses and the targets' first
 * levels (tests/reference/reaction_thresholds.tsv): the lower of the level and -Q of the best
 * two-body channel with n, p, d, t, He-3 or alpha out (every one endothermic: asserted, as the
 * rule needs), taken to the projectile's energy per nucleon (invariant mass, masses A u). The
 * cross-section is 0 at 0.999 times that energy, either way round (the target nucleus on
 * hydrogen or helium at the same velocity), and the formula's own (Wellisch-Axen for p,
 * Tripathi for He-4) at 1.001 and 2 times it. Before 2026-12-06 the formulas gave He-4 + C
 * 442 mb at 1 MeV/u and p + O 11-55 mb at 3-5 MeV: the zeros below fail there, and the log
 * shows the formula's value at 0.999. A He-4 table in graphite holds no reaction at 1 MeV/u. */
Test(nuclear, no_reaction_below_the_first_open_channel)
{
    const ref_table *ref = ref_load("reaction_thresholds.tsv");
    static const int proj[2][2] = {{1, 1}, {2, 4}}, targ[3][2] = {{6, 12}, {7, 14}, {8, 16}};
    static const int out[6][2] = {{0, 1}, {1, 1}, {1, 2}, {1, 3}, {2, 3}, {2, 4}};
    int formula_above_zero = 0;
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++) {
            int Zp = proj[i][0], Ap = proj[i][1], Zt = targ[j][0], At = targ[j][1];
            double entrance = threshold_data(ref, "mass", Zp, Ap) +
                              threshold_data(ref, "mass", Zt, At);
            double ecm = threshold_data(ref, "level", Zt, At), best_q = -INFINITY;
            cr_assert(isfinite(entrance) && isfinite(ecm), "Z = %d + %d: no data", Zp, Zt);
            for (int x = 0; x < 6; x++) {
                int Zr = Zp + Zt - out[x][0], Ar = Ap + At - out[x][1];
                if ((out[x][0] == Zp && out[x][1] == Ap) || (out[x][0] == Zt && out[x][1] == At))
                    continue;   /* the entrance channel: elastic (or inelastic) scattering */
                double exit = threshold_data(ref, "mass", out[x][0], out[x][1]) +
                              threshold_data(ref, "mass", Zr, Ar);
                cr_assert(isfinite(exit), "no mass for Z = %d, A = %d", Zr, Ar);
                double q = (entrance - exit) / 1000.0;
                if (q > best_q) best_q = q;
            }
            cr_expect(best_q < 0.0, "Z = %d + %d: a channel with Q = %g MeV", Zp, Zt, best_q);
            if (-best_q < ecm) ecm = -best_q;
            double m1 = Ap * ATOMIC_MASS_UNIT_MEV, m2 = At * ATOMIC_MASS_UNIT_MEV;
            double E = ((ecm + m1 + m2) * (ecm + m1 + m2) - (m1 + m2) * (m1 + m2)) / (2 * m2) / Ap;
            double below = nuclear_reaction_xs_mb(Zp, Ap, Zt, At, 0.999 * E);
            double reverse = nuclear_reaction_xs_mb(Zt, At, Zp, Ap, 0.999 * E);
            cr_expect(below == 0.0 && reverse == 0.0, "Z = %d + %d at %.4g MeV/u, under the "
                      "first channel: %g mb (the other way round %g mb)", Zp, Zt, 0.999 * E,
                      below, reverse);
            for (int k = 0; k < 2; k++) {
                double e = (k ? 2.0 : 1.001) * E;
                double formula = Zp == 1 ? nuclear_xs_wellisch_axen_mb(Zt, At, e)
                                         : nuclear_xs_tripathi_mb(Zp, Ap, Zt, At, e);
                cr_expect(nuclear_reaction_xs_mb(Zp, Ap, Zt, At, e) == formula,
                          "Z = %d + %d at %.4g MeV/u: %g mb, the formula %g", Zp, Zt, e,
                          nuclear_reaction_xs_mb(Zp, Ap, Zt, At, e), formula);
            }
            double formula = Zp == 1 ? nuclear_xs_wellisch_axen_mb(Zt, At, 0.999 * E)
                                     : nuclear_xs_tripathi_mb(Zp, Ap, Zt, At, 0.999 * E);
            formula_above_zero += formula > 0.0;
            cr_log_info("A = %d + %d: first channel at E_cm %.4f MeV (best Q %.3f MeV), %.4f "
                        "MeV/u; the formula there %.3g mb", Ap, At, ecm, best_q, E, formula);
        }
    cr_expect(formula_above_zero >= 4, "the formula is above 0 under %d thresholds only",
              formula_above_zero);
    catalog cat;
    bragg_err e;
    cr_assert(catalog_load(&cat, &e) == BRAGG_OK, "%s", e.msg);
    transport_table tab;
    build_table(&cat, &tab, "He-4", "graphite");
    cr_expect(table_reaction(&tab, 1.0) == 0.0, "He-4 in graphite at 1 MeV/u: %g cm2/g",
              table_reaction(&tab, 1.0));
    transport_table_free(&tab);
    catalog_free(&cat);
}
