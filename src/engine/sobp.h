/*
 * sobp.h - a spread-out Bragg peak: the beam energies whose peaks fill a depth interval and
 * the weights that make the sum of their depth-dose curves flat there.
 *
 * The method (classic, e.g. Koehler et al. 1975 for passive modulation, and the weight fit of
 * scanned beams):
 *   1. Peaks every `spacing` from the distal end `to` back to the proximal end `from` (bare
 *      C-12 peaks in 10-15 cm of water, 4000 histories each: 1.5 mm apart left the plateau as
 *      flat as the statistics resolve, bins within 1.3% of the mean; 2, 2.5 and 3 mm left
 *      bins 5.4%, 8.2% and 10.6% from it, a ripple no fit removes): the energy of each from
 *      the CSDA range table, R(E_k) = density * depth_k / peak_over_csda, where
 *      peak_over_csda (the pristine peak depth over the CSDA depth, slightly under 1 from
 *      straggling) is measured once on the simulated distal peak.
 *   2. The simulated pristine curves D_k(z) (dose per primary) are combined with weights
 *      w_k >= 0 that minimise sum over plateau bins (sum_k w_k D_k(z) - 1)^2: non-negative least
 *      squares, solved exactly by Lawson and Hanson's active-set method (sobp_nnls).
 *   3. Flatness = (max - min) / mean of the summed dose over the plateau bins.
 *
 * What the flatness of step 3 means (sobp_resample). With peaks 1.5 mm apart on 1 mm bins the
 * fit has nearly as many weights as the plateau has bins, so it follows the statistical noise
 * of the curves it is given, and their sum is flatter than the field those weights deliver.
 * Protons, 10-15 cm of water, 20000 histories per energy, seeds 1 and 2: 0.43% and 0.44% on
 * their own curves, 0.98% and 0.96% on an independent run of 10^6 histories per energy (the
 * truth, near enough), 1.63% and 1.48% on each other's curves (which add their own noise). So
 * the flatness reported is that of weights fitted to resampled curves (each bin moved by a
 * normal deviate of its statistical error), judged on the curves that were measured, which
 * play the part of a truth those fits did not see: the parametric bootstrap (Efron and
 * Tibshirani, "An Introduction to the Bootstrap", 1993, ch. 6 and 17). For the runs above
 * 0.95% and 1.01%. Means over seeds, estimate / truth (on a run of 5 to 100 times the
 * histories): 10-12 cm, 20000 histories, 8 seeds 0.90% / 0.84% (fitted curves 0.55%);
 * 4-6 cm, 10000, 6 seeds 0.88% / 0.79-0.87% on four references (fitted 0.27%); 10-12 cm,
 * 2 x 10^5, 6 seeds 0.59% / 0.59%; 10-15 cm, 2 x 10^5, 4 seeds 0.38% / 0.45% (fitted 0.34%).
 * The spread of the refitted weights is their statistical error.
 *
 * Beside it, sobp_noise_flatness gives what the bins' errors alone make of a plateau flat in
 * truth; when the estimate is no larger, the histories do not resolve the field's ripple.
 *
 * Limits. The resampling draws every bin independently, but neighbouring bins' noise is
 * correlated (0.43 one bin apart, from the difference of two seeds' curves), and a fit absorbs
 * correlated noise more easily; the measured curves are rougher than the truth by their own
 * noise. The first makes the estimate low, the second high: where the field's own ripple is
 * as large as the noise (10-15 cm, 2 x 10^5 histories above) it was 16% low. The weights'
 * errors come out larger than the seeds' weights scatter (chi^2 per weight 0.17-0.73 between
 * seeds). A bootstrap of the runs' own 20 batches (each refit's curves the mean of 20 batches
 * drawn with replacement, dose and quality together) was tried on protons in 4-6 cm, 10000
 * histories, seeds 1, 2, 4, 5, 6 against the 60000-history run of seed 3: it estimated 0.91 of
 * the flatness those weights give on the reference, this method 1.00, and its weights' errors
 * came closer to the seeds' scatter (chi^2 per weight 0.56 against 0.33 between pairs). Not
 * adopted: no better estimate for the flatness it exists to give, where this set-up can tell.
 *
 * Why the fit is not regularised: weights made smooth in depth (Tikhonov penalties on their
 * first or second differences, the penalty chosen so that the fit's residual equals the noise)
 * made the two seeds' weights agree (rms difference 0.0004 instead of 0.022) but the field they
 * deliver less flat (1.1-1.5% on the 10^6 run instead of 0.96-0.98%); no penalty strength
 * made it flatter for both seeds. The best weights are not smooth: fitted to the 10^6 run they
 * alternate (0.023, 0.047, 0.023, 0.035 for the 5th to 8th peak), every other peak sitting on
 * a bin edge with 1.5 mm spacing on 1 mm bins, and a penalty that removes the noise removes
 * that too. Only more histories make the weights follow the noise less.
 *
 * Biologically flat (sobp_fit_biological): the RBE-weighted dose of the mixed field is made
 * flat. A model (physics/biology.h) reads the field's quality q = sum_k w_k Q_k / sum_k w_k D_k
 * (Q_k the pristine curve's dose-weighted z1D* or LET numerator), so the nonlinearity is that
 * of the whole mix in every bin, never beam by beam: D_RBE(i) = D_x(alpha(q) D + beta(q) D^2).
 * Gauss-Newton: each step linearises D_RBE in the weights around the current ones and solves
 * that non-negative least-squares problem (sobp_nnls), with step halving while the sum of
 * squares does not fall; it starts from the physically flat weights scaled to the prescribed
 * mean. Where the field ripples, that least-squares optimum has a mean below the prescription
 * (by about the variance of D_RBE / target over the plateau: 2% for He-4 in 5-6 cm with peaks
 * 2.5 mm apart), so the weights are scaled last to make the plateau's mean the prescription.
 * The physical fit has the same bias, but its weights are used as fractions of their sum, so
 * nothing it reports depends on their scale.
 *
 * Pure functions: the caller owns every array; any thread.
 */
#ifndef BRAGG_SOBP_H
#define BRAGG_SOBP_H

#include <stddef.h>
#include <stdint.h>

#include "biology.h"
#include "err.h"

/* The peaks' spacing when none is given (mm): 1.5 mm left bare C-12 peaks as flat as the
 * statistics resolve (above). bragg sobp's default, and what a checkpoint of one records. */
#define SOBP_DEFAULT_SPACING_MM 1.5

/* Depths (cm) of the peaks, distal first: `to`, then equal steps of at most `spacing` down to
 * `from`. Returns their number (at most `max`), or 0 when max is too small. */
int sobp_peak_depths(double from, double to, double spacing, double *depths, int max);

/* Bins of the plateau [from, to] (bin centres inside) on a grid of `bin_width` from 0. */
void sobp_plateau_bins(double from, double to, double bin_width, int nbins, int *first,
                       int *last);

/* Non-negative weights of the K curves (curves[k * nbins + i]) making their sum as close to 1
 * as possible over bins [first, last]; `peak_bins[k]` is the bin of curve k's own peak (for
 * the back-to-front start). Returns BRAGG_ERR when a curve has no dose in the plateau. */
int sobp_fit_weights(const double *curves, int K, int nbins, int first, int last,
                     const int *peak_bins, double *weights, bragg_err *e);

/* Non-negative w minimising sum over bins [first, last] of (sum_k A_k(i) w_k - b_i)^2
 * (A_k at A[k * nbins + i]; b NULL: 1 in every bin). The w given is the start (its positive
 * entries the first active set); where the minimum is not unique it picks among them. */
int sobp_nnls(const double *A, int K, int nbins, int first, int last, const double *b, double *w,
              bragg_err *e);

/* What weights w (primaries per cm^2 of each pristine beam) give in bin i: the physical dose
 * D (Gy), the field's quality q, and the model's survival, RBE and RBE-weighted dose at D.
 * dose[k * nbins + i]: Gy cm^2 per primary; qnum[...]: dose x quality of the same. */
void sobp_field_at(const bio_model *m, const double *dose, const double *qnum, int K, int nbins,
                   const double *w, int i, double *D, double *q, bio_point *p);

/* Weights (primaries per cm^2) making the RBE-weighted dose `target` (Gy) flat over bins
 * [first, last]; peak_bins as for sobp_fit_weights. */
int sobp_fit_biological(const bio_model *m, const double *dose, const double *qnum, int K,
                        int nbins, int first, int last, const int *peak_bins, double target,
                        double *w, bragg_err *e);

/* (max - min) / mean of dose[first..last]; *mean gets the mean. */
double sobp_flatness(const double *dose, int first, int last, double *mean);

/* Largest |dose / mean - 1| over dose[first..last]. */
double sobp_max_deviation(const double *dose, int first, int last);

/* The expected (max - min) / mean over bins [first, last] of a plateau that is flat in truth,
 * measured with independent normal errors of relative size rel_err[i] in bin i: what the
 * statistics alone make of the flatness. */
double sobp_noise_flatness(const double *rel_err, int first, int last);

/* One SOBP fit: the pristine curves, their statistical errors, the plateau, and with a model
 * what the biological fit reads. Arrays are K x nbins (curve k at [k * nbins]); the caller
 * owns them. */
typedef struct sobp_problem {
    int K, nbins, first, last;
    const int *peak_bins;
    const double *dose, *dose_err;        /* Gy cm^2 per primary */
    const bio_model *model;               /* NULL: the physical dose is made flat */
    const double *quality, *quality_err;  /* with a model: the quality it reads (NaN: none) */
    double target;                        /* with a model: RBE-weighted dose, Gy */
} sobp_problem;

/* qnum[j] = dose[j] * quality[j], 0 where the quality is NaN (no dose): the numerators of the
 * field's dose-weighted quality, as sobp_field_at reads them. */
void sobp_quality_numerators(size_t n, const double *dose, const double *quality, double *qnum);

/* The weights of p: sobp_fit_weights, or with a model sobp_fit_biological. */
int sobp_fit(const sobp_problem *p, double *w, bragg_err *e);

/* The field that weights fitted to p's curves deliver, estimated by refitting resampled curves
 * (see the top of this file). */
typedef struct sobp_resampled {
    int replicates;
    double flatness;          /* mean over the refits of (max - min) / mean */
    double flatness_sd;       /* their standard deviation (one refit's scatter) */
    double max_deviation;     /* mean over the refits of the largest |D / mean - 1| */
} sobp_resampled;

/* Refits p `replicates` times (at least 2) to curves moved by normal deviates of their errors
 * (the deviates of refit r from the Philox stream of seed and history r), each refit judged on
 * p's own curves (the physical or, with a model, the RBE-weighted dose over the plateau).
 * weight_err (K, NULL: not wanted) gets the standard deviation of the refits' weights as
 * fractions of their sum. Deterministic: the same inputs give the same bits. */
int sobp_resample(const sobp_problem *p, int replicates, uint64_t seed, sobp_resampled *out,
                  double *weight_err, bragg_err *e);

#endif
