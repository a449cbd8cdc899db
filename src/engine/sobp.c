/* sobp.c - see sobp.h. */
#include "sobp.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

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

int sobp_nnls(const double *D, int K, int n, int first, int last, const double *target,
              double *w, bragg_err *e)
{
    /* Normal equations G w = b over the plateau bins. */
    double *G = calloc((size_t)K * (size_t)K + (size_t)K, sizeof *G);
    if (!G) return bragg_fail(e, "out of memory");
    double *b = G + (size_t)K * K;
    for (int j = 0; j < K; j++) {
        for (int i = first; i <= last; i++) b[j] += D[(size_t)j * n + i] * (target ? target[i] : 1);
        for (int k = 0; k < K; k++) {
            double s = 0;
            for (int i = first; i <= last; i++) s += D[(size_t)j * n + i] * D[(size_t)k * n + i];
            G[(size_t)j * K + k] = s;
        }
        if (!(G[(size_t)j * K + j] > 0)) {
            free(G);
            return bragg_fail(e, "pristine curve %d puts no dose in the plateau", j);
        }
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

int sobp_fit_weights(const double *D, int K, int n, int first, int last, const int *peak_bins,
                     double *w, bragg_err *e)
{
    /* Back to front: the distal peak alone gives 1 at its peak; each shallower peak makes up
     * what the deeper ones already put at its own peak. */
    for (int k = 0; k < K; k++) {
        int p = peak_bins[k] < first ? first : peak_bins[k] > last ? last : peak_bins[k];
        double have = 0;
        for (int j = 0; j < k; j++) have += w[j] * D[(size_t)j * n + p];
        double own = D[(size_t)k * n + p];
        w[k] = own > 0 && have < 1 ? (1 - have) / own : 0;
    }
    return sobp_nnls(D, K, n, first, last, NULL, w, e);
}

void sobp_field_at(const bio_model *m, const double *dose, const double *qnum, int K, int n,
                   const double *w, int i, double *D, double *q, bio_point *p)
{
    double d = 0, num = 0;
    for (int k = 0; k < K; k++) {
        d += w[k] * dose[(size_t)k * n + i];
        num += w[k] * qnum[(size_t)k * n + i];
    }
    *D = d;
    *q = d > 0 ? num / d : 0;
    bio_evaluate(m, *q, d, p);
}

/* RBE-weighted dose over the target for a physical dose d and quality numerator num. */
static double rbe_dose(const bio_model *m, double d, double num)
{
    bio_point p;
    bio_evaluate(m, d > 0 ? num / d : 0, d, &p);
    return p.rbe_dose;
}

/* Sum over the plateau of (D_RBE / target - 1)^2, and the mean of D_RBE / target. */
static double misfit(const bio_model *m, const double *dose, const double *qnum, int K, int n,
                     int first, int last, double target, const double *w, double *mean)
{
    double ss = 0, sum = 0;
    for (int i = first; i <= last; i++) {
        double D, q;
        bio_point p;
        sobp_field_at(m, dose, qnum, K, n, w, i, &D, &q, &p);
        double r = p.rbe_dose / target;
        ss += (r - 1) * (r - 1);
        sum += r;
    }
    if (mean) *mean = sum / (last - first + 1);
    return ss;
}

int sobp_fit_biological(const bio_model *m, const double *dose, const double *qnum, int K, int n,
                        int first, int last, const int *peak_bins, double target, double *w,
                        bragg_err *e)
{
    if (!(target > 0)) return bragg_fail(e, "the prescribed dose must be > 0");
    if (sobp_fit_weights(dose, K, n, first, last, peak_bins, w, e)) return BRAGG_ERR;
    /* The physically flat field scaled so that its mean RBE-weighted dose is the target: the
     * RBE-weighted dose grows with the scale, so bisect the scale in log. */
    double lo = 1e-4, hi = 1e4, *trial = malloc((size_t)K * 2 * sizeof *trial);
    double *A = malloc((size_t)K * n * sizeof *A), *b = malloc((size_t)n * sizeof *b);
    int rc = BRAGG_ERR;
    if (!trial || !A || !b) {
        bragg_fail(e, "out of memory");
        goto done;
    }
    double *next = trial + K;
    for (int it = 0; it < 200; it++) {
        double s = sqrt(lo * hi), mean;
        for (int k = 0; k < K; k++) trial[k] = s * w[k];
        misfit(m, dose, qnum, K, n, first, last, target, trial, &mean);
        if (mean > 1) hi = s;
        else lo = s;
        if (hi / lo < 1 + 1e-12) break;
    }
    for (int k = 0; k < K; k++) w[k] *= sqrt(lo * hi);
    double best = misfit(m, dose, qnum, K, n, first, last, target, w, NULL);
    for (int iter = 0; iter < 100; iter++) {
        /* Linearise: J_ik = dD_RBE(i)/dw_k / target from the partial derivatives of D_RBE in
         * the bin's physical dose and quality numerator (central differences), then solve
         * J w' = J w - r for non-negative w'. */
        memset(A, 0, (size_t)K * n * sizeof *A);
        for (int i = first; i <= last; i++) {
            double d = 0, num = 0;
            for (int k = 0; k < K; k++) {
                d += w[k] * dose[(size_t)k * n + i];
                num += w[k] * qnum[(size_t)k * n + i];
            }
            double hd = 1e-5 * d, hq = 1e-5 * (num > 0 ? num : d);
            double g = rbe_dose(m, d, num) / target;
            double gd = (rbe_dose(m, d + hd, num) - rbe_dose(m, d - hd, num)) / (2 * hd * target);
            double gq = (rbe_dose(m, d, num + hq) - rbe_dose(m, d, num - hq)) / (2 * hq * target);
            double jw = 0;
            for (int k = 0; k < K; k++) {
                double j = gd * dose[(size_t)k * n + i] + gq * qnum[(size_t)k * n + i];
                A[(size_t)k * n + i] = j;
                jw += j * w[k];
            }
            b[i] = jw - (g - 1);
        }
        memcpy(next, w, (size_t)K * sizeof *w);
        if (sobp_nnls(A, K, n, first, last, b, next, e)) goto done;
        /* Step halving: take the Gauss-Newton step only as far as it helps. */
        double step = 1, got = best;
        for (int h = 0; h < 30; h++, step *= 0.5) {
            for (int k = 0; k < K; k++) trial[k] = w[k] + step * (next[k] - w[k]);
            got = misfit(m, dose, qnum, K, n, first, last, target, trial, NULL);
            if (got < best) break;
        }
        if (!(got < best)) break;
        memcpy(w, trial, (size_t)K * sizeof *w);
        double gain = best - got;
        best = got;
        if (gain <= 1e-12 * (best + 1e-30)) break;
    }
    rc = BRAGG_OK;
done:
    free(trial);
    free(A);
    free(b);
    return rc;
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
