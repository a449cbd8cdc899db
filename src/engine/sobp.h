/*
 * sobp.h - a spread-out Bragg peak: the beam energies whose peaks fill a depth interval and
 * the weights that make the sum of their depth-dose curves flat there.
 *
 * The method (classic, e.g. Koehler et al. 1975 for passive modulation, and the weight fit of
 * scanned beams):
 *   1. Peaks every `spacing` (about the width of one pristine peak, 2-3 mm for carbon) from the
 *      distal end `to` back to the proximal end `from`: the energy of each from the CSDA range
 *      table, R(E_k) = density * depth_k / peak_over_csda, where peak_over_csda (the pristine
 *      peak depth over the CSDA depth, slightly under 1 from straggling) is measured once on
 *      the simulated distal peak.
 *   2. The simulated pristine curves D_k(z) (dose per primary) are combined with weights
 *      w_k >= 0 that minimise sum over plateau bins (sum_k w_k D_k(z) - 1)^2: non-negative least
 *      squares, solved exactly by Lawson and Hanson's active-set method (sobp_nnls).
 *   3. Flatness = (max - min) / mean of the summed dose over the plateau bins.
 *
 * Biologically flat (sobp_fit_biological): the RBE-weighted dose of the mixed field is made
 * flat. A model (physics/biology.h) reads the field's quality q = sum_k w_k Q_k / sum_k w_k D_k
 * (Q_k the pristine curve's dose-weighted z1D* or LET numerator), so the nonlinearity is that
 * of the whole mix in every bin, never beam by beam: D_RBE(i) = D_x(alpha(q) D + beta(q) D^2).
 * Gauss-Newton: each step linearises D_RBE in the weights around the current ones and solves
 * that non-negative least-squares problem (sobp_nnls), with step halving while the sum of
 * squares does not fall; it starts from the physically flat weights scaled to the prescribed
 * mean.
 *
 * Pure functions: the caller owns every array; any thread.
 */
#ifndef BRAGG_SOBP_H
#define BRAGG_SOBP_H

#include "biology.h"
#include "err.h"

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

#endif
