/* sobp.c - see sobp.h. */
#include "sobp.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "random.h"

/* The particle id of the resampling streams (physics/random.h): one no transport gives out in
 * practice (a history's ids are 44-bit hashes, 0 for its primary), so that refit r does not
 * reuse the numbers of history r of the runs the curves came from. */
#define RESAMPLE_STREAM_ID ((UINT64_C(1) << RNG_ID_BITS) - 1)

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

/* Cholesky factor (lower, row-major n x n in L) of the passive rows and columns of G; a column
 * whose pivot vanishes beside its diagonal (a curve that is a combination of the others
 * there) is taken out of the passive set instead. */
static void passive_cholesky(const double *G, int K, int *passive, const int *idx, int n,
                             double *L)
{
    for (int a = 0; a < n; a++) {
        for (int b = 0; b <= a; b++) {
            double s = G[(size_t)idx[a] * K + idx[b]];
            for (int c = 0; c < b; c++) s -= L[a * n + c] * L[b * n + c];
            if (a == b) {
                /* G is scaled to a unit diagonal: a pivot this small is round-off. */
                if (!(s > 1e-12)) {
                    passive[idx[a]] = 0;
                    L[a * n + a] = 0;
                } else {
                    L[a * n + a] = sqrt(s);
                }
            } else {
                L[a * n + b] = L[b * n + b] > 0 ? s / L[b * n + b] : 0;
            }
        }
    }
}

int sobp_nnls(const double *D, int K, int n, int first, int last, const double *target,
              double *w, bragg_err *e)
{
    /* Normal equations G w = b over the plateau bins, scaled to a unit diagonal (w_k times
     * sqrt(G_kk)), so that the tolerances below are relative. */
    size_t KK = (size_t)K * K;
    double *G = calloc(2 * KK + 5 * (size_t)K, sizeof *G);
    int *passive = calloc(3 * (size_t)K, sizeof *passive);
    if (!G || !passive) {
        free(G);
        free(passive);
        return bragg_fail(e, "out of memory");
    }
    double *L = G + KK, *b = L + KK, *d = b + K, *x = d + K, *s = x + K, *g = s + K;
    int *idx = passive + K, *blocked = idx + K;
    for (int j = 0; j < K; j++) {
        for (int i = first; i <= last; i++) b[j] += D[(size_t)j * n + i] * (target ? target[i] : 1);
        for (int k = 0; k < K; k++) {
            double t = 0;
            for (int i = first; i <= last; i++) t += D[(size_t)j * n + i] * D[(size_t)k * n + i];
            G[(size_t)j * K + k] = t;
        }
        if (!(G[(size_t)j * K + j] > 0)) {
            free(G);
            free(passive);
            return bragg_fail(e, "pristine curve %d puts no dose in the plateau", j);
        }
        d[j] = sqrt(G[(size_t)j * K + j]);
    }
    double bmax = 0;
    for (int j = 0; j < K; j++) {
        for (int k = 0; k < K; k++) G[(size_t)j * K + k] /= d[j] * d[k];
        b[j] /= d[j];
        if (fabs(b[j]) > bmax) bmax = fabs(b[j]);
        x[j] = w[j] > 0 ? w[j] * d[j] : 0;
        passive[j] = x[j] > 0;
    }
    /* Lawson and Hanson, "Solving Least Squares Problems" (1974), ch. 23, on the normal
     * equations: the passive set's unconstrained optimum, walked back into the feasible region
     * where it leaves it, then the weight whose gradient most wants to grow joins the set; it
     * ends at the exact optimum when no gradient points into the region. Each turn makes the
     * sum of squares fall, so no set comes back; the bound on the turns only guards against
     * round-off. (The projected Gauss-Seidel this replaced stopped at its 20000-sweep limit
     * before converging on 35 peaks 1.5 mm apart: its weights depended on that limit.) */
    double tol = 1e-10 * (bmax > 0 ? bmax : 1);
    int joined = -1;
    for (int turn = 0; turn < 10 * K + 10; turn++) {
        for (int inner = 0; inner <= K; inner++) {
            int m = 0;
            for (int k = 0; k < K; k++)
                if (passive[k]) idx[m++] = k;
            passive_cholesky(G, K, passive, idx, m, L);
            /* Forward and back substitution on the passive set (dropped columns get 0). */
            for (int a = 0; a < m; a++) {
                double t = b[idx[a]];
                for (int c = 0; c < a; c++) t -= L[a * m + c] * s[idx[c]];
                s[idx[a]] = L[a * m + a] > 0 ? t / L[a * m + a] : 0;
            }
            for (int a = m - 1; a >= 0; a--) {
                double t = s[idx[a]];
                for (int c = a + 1; c < m; c++) t -= L[c * m + a] * s[idx[c]];
                s[idx[a]] = L[a * m + a] > 0 ? t / L[a * m + a] : 0;
            }
            double alpha = 1;
            for (int a = 0; a < m; a++) {
                int k = idx[a];
                if (passive[k] && s[k] <= 0 && x[k] - s[k] > 0 && x[k] / (x[k] - s[k]) < alpha)
                    alpha = x[k] / (x[k] - s[k]);
            }
            for (int k = 0; k < K; k++) {
                x[k] = passive[k] ? x[k] + alpha * (s[k] - x[k]) : 0;
                if (passive[k] && !(x[k] > 0)) {
                    passive[k] = 0;
                    x[k] = 0;
                }
            }
            if (alpha == 1) break;
        }
        /* A weight that joined and fell back at once (round-off at a degenerate optimum) is
         * not offered again until another has joined. */
        if (joined >= 0 && !passive[joined]) {
            blocked[joined] = 1;
        } else {
            for (int k = 0; k < K; k++) blocked[k] = 0;
        }
        joined = -1;
        for (int j = 0; j < K; j++) {
            double t = b[j];
            for (int k = 0; k < K; k++) t -= G[(size_t)j * K + k] * x[k];
            g[j] = t;
            if (!passive[j] && !blocked[j] && t > tol && (joined < 0 || t > g[joined])) joined = j;
        }
        if (joined < 0) break;
        passive[joined] = 1;
    }
    for (int k = 0; k < K; k++) w[k] = x[k] / d[k];
    free(G);
    free(passive);
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

/* Scales w so that the mean RBE-weighted dose over the plateau is the target (trial: K of
 * scratch). Scaling every fluence scales every bin's dose and keeps its quality, so the
 * RBE-weighted dose grows with the scale: bisection of the scale in log, from 1e-4 to 1e4. */
static void scale_to_target(const bio_model *m, const double *dose, const double *qnum, int K,
                            int n, int first, int last, double target, double *w, double *trial)
{
    double lo = 1e-4, hi = 1e4;
    for (int it = 0; it < 200; it++) {
        double s = sqrt(lo * hi), mean;
        for (int k = 0; k < K; k++) trial[k] = s * w[k];
        misfit(m, dose, qnum, K, n, first, last, target, trial, &mean);
        if (mean > 1) hi = s;
        else lo = s;
        if (hi / lo < 1 + 1e-12) break;
    }
    for (int k = 0; k < K; k++) w[k] *= sqrt(lo * hi);
}

int sobp_fit_biological(const bio_model *m, const double *dose, const double *qnum, int K, int n,
                        int first, int last, const int *peak_bins, double target, double *w,
                        bragg_err *e)
{
    if (!(target > 0)) return bragg_fail(e, "the prescribed dose must be > 0");
    if (sobp_fit_weights(dose, K, n, first, last, peak_bins, w, e)) return BRAGG_ERR;
    /* The start: the physically flat field scaled so that its mean RBE-weighted dose is the
     * target. */
    double *trial = malloc((size_t)K * 2 * sizeof *trial);
    double *A = malloc((size_t)K * n * sizeof *A), *b = malloc((size_t)n * sizeof *b);
    int rc = BRAGG_ERR;
    if (!trial || !A || !b) {
        bragg_fail(e, "out of memory");
        goto done;
    }
    double *next = trial + K;
    scale_to_target(m, dose, qnum, K, n, first, last, target, w, trial);
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
    /* The least squares leave the plateau's mean below the prescription wherever the field
     * ripples. For a curve that grows in proportion to the scale, as the physical dose does,
     * the optimum over the scale has sum r_i^2 = sum r_i (r_i the bins' dose over the target),
     * so the mean of r is 1 less about the variance of r; the RBE-weighted dose grows nearly
     * so (He-4 in 5-6 cm, peaks 2.5 mm apart: 1.96 Gy (RBE) for 2). What is prescribed is the
     * plateau's mean, so a last scale makes it that. */
    scale_to_target(m, dose, qnum, K, n, first, last, target, w, trial);
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

double sobp_max_deviation(const double *d, int first, int last)
{
    double mean, dev = 0;
    sobp_flatness(d, first, last, &mean);
    for (int i = first; i <= last; i++)
        if (fabs(d[i] / mean - 1) > dev) dev = fabs(d[i] / mean - 1);
    return dev;
}

/* Standard normal distribution function. */
static double normal_cdf(double x) { return 0.5 * erfc(-x / sqrt(2.0)); }

double sobp_noise_flatness(const double *rel_err, int first, int last)
{
    /* The range of independent N(0, s_i^2) is max - min, and the distribution is symmetric,
     * so its mean is 2 E[max]; with F(x) = prod_i Phi(x / s_i) the distribution function of
     * the max, E[max] = int_0^inf (1 - F) dx - int_-inf^0 F dx. The trapezoidal rule over
     * +-8 of the largest s in steps of a fiftieth of the smallest gives the tabulated mean
     * range of 2 and 10 equal normal errors (2 / sqrt(pi) and 3.077505 of them) to 7 digits. */
    double lo = INFINITY, hi = 0;
    for (int i = first; i <= last; i++) {
        if (!(rel_err[i] >= 0)) return NAN;
        if (rel_err[i] > 0 && rel_err[i] < lo) lo = rel_err[i];
        if (rel_err[i] > hi) hi = rel_err[i];
    }
    if (!(hi > 0) || last <= first) return 0;
    double step = lo / 50, span = 8 * hi;
    int steps = (int)ceil(span / step);
    if (steps > 100000) steps = 100000;   /* errors over 2000 times apart: a coarser step */
    step = span / steps;
    double sum = 0;
    for (int j = -steps; j <= steps; j++) {
        double x = j * step, F = 1;
        for (int i = first; i <= last; i++)
            F *= rel_err[i] > 0 ? normal_cdf(x / rel_err[i]) : x >= 0;
        double f = x > 0 ? 1 - F : x < 0 ? -F : 0.5 - F;
        sum += (j == -steps || j == steps ? 0.5 : 1) * f;
    }
    return 2 * sum * step;
}

void sobp_quality_numerators(size_t n, const double *dose, const double *quality, double *qnum)
{
    for (size_t j = 0; j < n; j++) qnum[j] = isfinite(quality[j]) ? dose[j] * quality[j] : 0;
}

/* The numerators of p (NULL without a model), for the caller to free. */
static int quality_numerators(const sobp_problem *p, double **qnum, bragg_err *e)
{
    *qnum = NULL;
    if (!p->model) return BRAGG_OK;
    size_t n = (size_t)p->K * p->nbins;
    *qnum = malloc(n * sizeof **qnum);
    if (!*qnum) return bragg_fail(e, "out of memory");
    sobp_quality_numerators(n, p->dose, p->quality, *qnum);
    return BRAGG_OK;
}

static int fit_with(const sobp_problem *p, const double *qnum, double *w, bragg_err *e)
{
    if (p->model)
        return sobp_fit_biological(p->model, p->dose, qnum, p->K, p->nbins, p->first, p->last,
                                   p->peak_bins, p->target, w, e);
    return sobp_fit_weights(p->dose, p->K, p->nbins, p->first, p->last, p->peak_bins, w, e);
}

/* What p makes flat (the physical or the RBE-weighted dose) for weights w, in bins
 * [p->first, p->last] of out. */
static void flat_curve_with(const sobp_problem *p, const double *qnum, const double *w,
                            double *out)
{
    for (int i = p->first; i <= p->last; i++) {
        if (p->model) {
            double D, q;
            bio_point b;
            sobp_field_at(p->model, p->dose, qnum, p->K, p->nbins, w, i, &D, &q, &b);
            out[i] = b.rbe_dose;
        } else {
            double d = 0;
            for (int k = 0; k < p->K; k++) d += w[k] * p->dose[(size_t)k * p->nbins + i];
            out[i] = d;
        }
    }
}

int sobp_fit(const sobp_problem *p, double *w, bragg_err *e)
{
    double *qnum;
    if (quality_numerators(p, &qnum, e)) return BRAGG_ERR;
    int rc = fit_with(p, qnum, w, e);
    free(qnum);
    return rc;
}

int sobp_resample(const sobp_problem *p, int replicates, uint64_t seed, sobp_resampled *out,
                  double *weight_err, bragg_err *e)
{
    if (replicates < 2) return bragg_fail(e, "sobp_resample: %d refits, at least 2", replicates);
    int K = p->K, n = p->nbins;
    size_t kn = (size_t)K * n;
    double *block = malloc((3 * kn + (size_t)n + 3 * (size_t)K) * sizeof *block);
    double *qnum = NULL;
    int rc = BRAGG_ERR;
    if (!block) {
        bragg_fail(e, "out of memory");
        goto done;
    }
    if (quality_numerators(p, &qnum, e)) goto done;
    double *dose = block, *quality = dose + kn, *rqnum = quality + kn, *curve = rqnum + kn;
    double *w = curve + n, *wsum = w + K, *wsum2 = wsum + K;
    memcpy(dose, p->dose, kn * sizeof *dose);
    if (p->model) memcpy(quality, p->quality, kn * sizeof *quality);
    sobp_problem r = *p;
    r.dose = dose;
    r.quality = quality;
    double fsum = 0, fsum2 = 0, dsum = 0;
    for (int k = 0; k < K; k++) wsum[k] = wsum2[k] = 0;
    for (int rep = 0; rep < replicates; rep++) {
        /* Refit r draws from its own stream, in a fixed order (curve, bin, dose before
         * quality): the same numbers whatever else ran. Only the plateau's bins enter a fit. */
        rng g;
        rng_init(&g, seed, (uint64_t)rep, RESAMPLE_STREAM_ID);
        for (int k = 0; k < K; k++)
            for (int i = p->first; i <= p->last; i++) {
                size_t j = (size_t)k * n + i;
                dose[j] = p->dose[j] + p->dose_err[j] * rng_gauss(&g);
                if (p->model && isfinite(p->quality[j]))
                    quality[j] = p->quality[j] + (isfinite(p->quality_err[j])
                                                      ? p->quality_err[j] * rng_gauss(&g)
                                                      : 0);
            }
        if (p->model) sobp_quality_numerators(kn, dose, quality, rqnum);
        if (fit_with(&r, rqnum, w, e)) goto done;
        /* Judged on the curves that were measured: independent of this refit's noise. */
        flat_curve_with(p, qnum, w, curve);
        double f = sobp_flatness(curve, p->first, p->last, NULL);
        fsum += f;
        fsum2 += f * f;
        dsum += sobp_max_deviation(curve, p->first, p->last);
        double total = 0;
        for (int k = 0; k < K; k++) total += w[k];
        for (int k = 0; k < K; k++) {
            double x = total > 0 ? w[k] / total : 0;
            wsum[k] += x;
            wsum2[k] += x * x;
        }
    }
    double R = replicates;
    out->replicates = replicates;
    out->flatness = fsum / R;
    out->flatness_sd = sqrt(fmax(0, (fsum2 - fsum * fsum / R) / (R - 1)));
    out->max_deviation = dsum / R;
    if (weight_err)
        for (int k = 0; k < K; k++)
            weight_err[k] = sqrt(fmax(0, (wsum2[k] - wsum[k] * wsum[k] / R) / (R - 1)));
    rc = BRAGG_OK;
done:
    free(block);
    free(qnum);
    return rc;
}
