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
 *      squares, started from the back-to-front weights (each peak fills what the deeper ones
 *      leave short at its own depth) and solved by cyclic coordinate descent with clamping
 *      (projected Gauss-Seidel on the normal equations; it converges to the NNLS optimum
 *      because the problem is convex).
 *   3. Flatness = (max - min) / mean of the summed dose over the plateau bins.
 *
 * Physical dose only (no biological weighting). Pure functions: the caller owns every array;
 * any thread.
 */
#ifndef BRAGG_SOBP_H
#define BRAGG_SOBP_H

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

/* (max - min) / mean of dose[first..last]; *mean gets the mean. */
double sobp_flatness(const double *dose, int first, int last, double *mean);

#endif
