/* sobp.c - see sobp.h. */
#include "sobp.h"

#include <math.h>
#include <stdlib.h>

int sobp_peak_depths(double from, double to, double spacing, double *depths, int max)
{
    int steps = (int)ceil((to - from) / spacing - 1e-9);
    if (steps < 0) steps = 0;
    if (steps + 1 > max) return 0;
    double step = steps > 0 ? (to - from) / steps : 0.0;
    for (int k = 0; k <= steps; k++) depths[k] = to - k * step;
    return steps + 1;
}

void sobp_plateau_bins(double from, double to, double w, int nbins, int *first, int *last)
{
    int i0 = (int)ceil(from / w - 0.5 - 1e-9), i1 = (int)floor(to / w - 0.5 + 1e-9);
    if (i0 < 0) i0 = 0;
    if (i1 > nbins - 1) i1 = nbins - 1;
    *first = i0;
    *last = i1;
}

int sobp_fit_weights(const double *D, int K, int n, int first, int last, const int *peak_bins,
                     double *w, bragg_err *e)
{
    /* Normal equations G w = b over the plateau bins, with target 1 in every bin. */
    double *G = calloc((size_t)K * (size_t)K + (size_t)K, sizeof *G);
    if (!G) return bragg_fail(e, "out of memory");
    double *b = G + (size_t)K * K;
    for (int j = 0; j < K; j++) {
        for (int i = first; i <= last; i++) b[j] += D[(size_t)j * n + i];
        for (int k = 0; k < K; k++) {
            double s = 0;
            for (int i = first; i <= last; i++) s += D[(size_t)j * n + i] * D[(size_t)k * n + i];
            G[(size_t)j * K + k] = s;
        }
        if (!(G[(size_t)j * K + j] > 0)) {
            free(G);
            return bragg_fail(e, "sobp: pristine curve %d puts no dose in the plateau", j);
        }
    }
    /* Back to front: the distal peak alone gives 1 at its peak; each shallower peak makes up
     * what the deeper ones already put at its own peak. */
    for (int k = 0; k < K; k++) {
        int p = peak_bins[k] < first ? first : peak_bins[k] > last ? last : peak_bins[k];
        double have = 0;
        for (int j = 0; j < k; j++) have += w[j] * D[(size_t)j * n + p];
        double own = D[(size_t)k * n + p];
        w[k] = own > 0 && have < 1 ? (1 - have) / own : 0;
    }
    /* Projected Gauss-Seidel: each weight in turn to its best non-negative value given the
     * others; a few thousand sweeps of K^2 are nothing beside the transport. */
    for (int sweep = 0; sweep < 20000; sweep++) {
        double change = 0, scale = 0;
        for (int k = 0; k < K; k++) {
            double g = b[k];
            for (int j = 0; j < K; j++) g -= G[(size_t)k * K + j] * w[j];
            double nw = w[k] + g / G[(size_t)k * K + k];
            if (nw < 0) nw = 0;
            change += fabs(nw - w[k]);
            scale += nw;
            w[k] = nw;
        }
        if (change <= 1e-13 * scale) break;
    }
    free(G);
    return BRAGG_OK;
}

double sobp_flatness(const double *d, int first, int last, double *mean)
{
    double lo = INFINITY, hi = -INFINITY, sum = 0;
    for (int i = first; i <= last; i++) {
        if (d[i] < lo) lo = d[i];
        if (d[i] > hi) hi = d[i];
        sum += d[i];
    }
    double m = last >= first ? sum / (last - first + 1) : NAN;
    if (mean) *mean = m;
    return m > 0 ? (hi - lo) / m : NAN;
}
