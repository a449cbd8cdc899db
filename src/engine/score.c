/* score.c - see score.h. */
#include "score.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "constants.h"

/* ---- per-batch integer accumulators --------------------------------------------------------- */

int score_arrays_init(score_arrays *a, const transport_params *p, bragg_err *e)
{
    memset(a, 0, sizeof *a);
    int nbins = p->nbins;
    a->nbins = nbins;
    a->channels = p->channels;
    a->n_curves = transport_curve_count(p);
    a->curves = calloc(((size_t)nbins + 1) * (size_t)a->n_curves, sizeof(int64_t));
    if (!a->curves) return bragg_fail(e, "out of memory for %d scoring bins", nbins);
    a->as_differences = 1;
    return BRAGG_OK;
}

void score_arrays_free(score_arrays *a)
{
    free(a->curves);
    phase_space_list_free(&a->ps);
    memset(a, 0, sizeof *a);
}

void score_arrays_clear(score_arrays *a)
{
    memset(a->curves, 0, ((size_t)a->nbins + 1) * (size_t)a->n_curves * sizeof(int64_t));
    memset(a->ledger, 0, sizeof a->ledger);
    memset(a->count, 0, sizeof a->count);
    memset(a->profile_cycles, 0, sizeof a->profile_cycles);
    memset(a->profile_marks, 0, sizeof a->profile_marks);
    a->as_differences = 1;
    a->steps = 0;
    a->histories = 0;
    a->profiled_histories = 0;
    a->profiled_steps = 0;
    a->history_cycles = 0;
    a->ps.n = 0;
    a->ps.lost = 0;
}

void score_arrays_add(score_arrays *into, const score_arrays *from)
{
    /* Both in the same form: sums of differences are differences of sums. */
    size_t n = ((size_t)into->nbins + 1) * (size_t)into->n_curves;
    for (size_t i = 0; i < n; i++) into->curves[i] += from->curves[i];
    score_arrays_add_totals(into, from);
}

/* Room for `more` crossings after the n held: 1, or 0 when out of memory. */
static int ps_reserve(phase_space_list *l, size_t more)
{
    if (l->n + more <= l->cap) return 1;
    size_t cap = l->cap ? l->cap : 4096;
    while (cap < l->n + more) cap *= 2;
    phase_space_point *p = realloc(l->p, cap * sizeof *p);
    if (!p) return 0;
    l->p = p;
    l->cap = cap;
    return 1;
}

void phase_space_list_append(phase_space_list *into, const phase_space_list *from)
{
    into->lost += from->lost;
    if (from->n == 0) return;
    if (!ps_reserve(into, from->n)) {
        into->lost += from->n;
        return;
    }
    memcpy(into->p + into->n, from->p, from->n * sizeof *from->p);
    into->n += from->n;
}

void phase_space_list_free(phase_space_list *l)
{
    free(l->p);
    memset(l, 0, sizeof *l);
}

void score_arrays_ps_give(score_arrays *a, score_sink *s, size_t headroom)
{
    int room = ps_reserve(&a->ps, headroom);
    s->ps = room ? a->ps.p + a->ps.n : NULL;
    s->ps_capacity = room ? (uint32_t)headroom : 0;
    s->ps_count = 0;
    /* Without room nothing is recorded, so the crossings could not even be counted: say so. */
    if (!room) a->ps.lost++;
}

void score_arrays_ps_take(score_arrays *a, score_sink *s)
{
    uint32_t kept = s->ps_count < s->ps_capacity ? s->ps_count : s->ps_capacity;
    a->ps.n += kept;
    a->ps.lost += s->ps_count - kept;
    s->ps_count = 0;
}

void score_arrays_add_totals(score_arrays *into, const score_arrays *from)
{
    for (int k = 0; k < LEDGER_COUNT; k++) into->ledger[k] += from->ledger[k];
    for (int k = 0; k < COUNT_COUNT; k++) into->count[k] += from->count[k];
    for (int k = 0; k < PROFILE_COUNT; k++) {
        into->profile_cycles[k] += from->profile_cycles[k];
        into->profile_marks[k] += from->profile_marks[k];
    }
    into->steps += from->steps;
    into->histories += from->histories;
    into->profiled_histories += from->profiled_histories;
    into->profiled_steps += from->profiled_steps;
    into->history_cycles += from->history_cycles;
    phase_space_list_append(&into->ps, &from->ps);
}

score_sink score_arrays_sink(score_arrays *a)
{
    score_sink s;
    memset(&s, 0, sizeof s);
    s.curves = a->curves;
    s.stride = a->nbins + 1;
    return s;
}

void score_arrays_finish(score_arrays *a)
{
    if (!a->as_differences) return;
    for (int k = 0; k < a->n_curves; k++) {
        /* Second differences or first (physics/transport.h, curve_is_ramp). */
        for (int pass = 0; pass < (curve_is_ramp(k, a->channels) ? 2 : 1); pass++) {
            int64_t *c = score_curve(a, k), acc = 0;
            for (int i = 0; i <= a->nbins; i++) {
                acc += c[i];
                c[i] = acc;
            }
        }
    }
    a->as_differences = 0;
}

void score_arrays_take_sink(score_arrays *a, const score_sink *s)
{
    for (int k = 0; k < LEDGER_COUNT; k++) a->ledger[k] += s->ledger[k];
    for (int k = 0; k < COUNT_COUNT; k++) a->count[k] += s->count[k];
    a->steps += s->steps;
}

/* ---- run totals ------------------------------------------------------------------------------ */

int score_totals_init(score_totals *t, const transport_params *p, int max_batches,
                      int map_per_batch, bragg_err *e)
{
    memset(t, 0, sizeof *t);
    int nbins = p->nbins;
    t->nbins = nbins;
    t->channels = p->channels;
    t->n_curves = transport_curve_count(p);
    t->max_batches = max_batches;
    t->batch_map_curves = map_per_batch ? p->map_bins : 0;
    t->curves = calloc((size_t)nbins * (size_t)(t->n_curves + 1), sizeof(__int128));
    t->batch_dose = calloc(score_totals_batch_values(t), sizeof(__int128));
    t->batch_histories = calloc((size_t)max_batches, sizeof(uint64_t));
    if (!t->curves || !t->batch_dose || !t->batch_histories) {
        int curves = t->batch_map_curves;
        score_totals_free(t);
        if (curves)
            return bragg_fail(e, "out of memory for %d bins x %d batches with a map of %d "
                                 "lateral bins per batch (--map-error)",
                              nbins, max_batches, curves);
        return bragg_fail(e, "out of memory for %d bins x %d batches", nbins, max_batches);
    }
    t->dose = t->curves + (size_t)nbins * (size_t)t->n_curves;
    t->batch_let = t->batch_dose + (size_t)nbins * (size_t)max_batches;
    t->batch_z1d = t->batch_let + (size_t)nbins * (size_t)max_batches;
    t->batch_let_proton = t->batch_z1d + (size_t)nbins * (size_t)max_batches;
    t->batch_dose_proton = t->batch_let_proton + (size_t)nbins * (size_t)max_batches;
    if (t->batch_map_curves)
        t->batch_map = t->batch_dose_proton + (size_t)nbins * (size_t)max_batches;
    t->primary_proton = p->Z == 1 && p->A == 1;
    return BRAGG_OK;
}

size_t score_totals_batch_values(const score_totals *t)
{
    return (5 + (size_t)t->batch_map_curves) * (size_t)t->nbins * (size_t)t->max_batches;
}

void score_totals_free(score_totals *t)
{
    free(t->curves);
    free(t->batch_dose);
    free(t->batch_histories);
    memset(t, 0, sizeof *t);
}

void score_totals_add(score_totals *t, const score_arrays *b)
{
    score_totals_add_to_batch(t, t->batches, b);
}

void score_totals_add_to_batch(score_totals *t, int batch, const score_arrays *b)
{
    if (b->histories == 0 || batch < 0 || batch >= t->max_batches) return;
    int n = t->nbins;
    __int128 *open = t->batch_dose + (size_t)batch * n;
    for (int k = 0; k < t->n_curves; k++) {
        const int64_t *from = score_curve(b, k);
        __int128 *into = t->curves + (size_t)k * n;
        for (int i = 0; i < n; i++) into[i] += from[i];
    }
    for (int c = 0; c <= t->channels; c++) {   /* and CURVE_DOSE_DT */
        const int64_t *from = score_curve(b, c < t->channels ? CURVE_DOSE(c) : CURVE_DOSE_DT);
        for (int i = 0; i < n; i++) {
            t->dose[i] += from[i];
            open[i] += from[i];
        }
    }
    const int64_t *let = score_curve(b, CURVE_LET_D);
    const int64_t *let_other = score_curve(b, CURVE_LET_D_OTHER);
    const int64_t *z1d = score_curve(b, CURVE_Z1D);
    const int64_t *dose_h0 = score_curve(b, CURVE_DOSE(0));
    const int64_t *dose_h1 = score_curve(b, CURVE_DOSE(1));
    size_t at = (size_t)batch * n;
    for (int i = 0; i < n; i++) {
        t->batch_let[at + i] += let[i] + let_other[i];
        t->batch_z1d[at + i] += z1d[i];
        t->batch_let_proton[at + i] += let[i];
        t->batch_dose_proton[at + i] += (t->primary_proton ? dose_h0[i] : 0) + dose_h1[i];
    }
    for (int j = 0; j < t->batch_map_curves; j++) {
        const int64_t *from = score_curve(b, CURVE_MAP(t->channels, j));
        __int128 *into = t->batch_map + ((size_t)batch * t->batch_map_curves + j) * n;
        for (int i = 0; i < n; i++) into[i] += from[i];
    }
    for (int k = 0; k < LEDGER_COUNT; k++) t->ledger[k] += b->ledger[k];
    for (int k = 0; k < COUNT_COUNT; k++) t->count[k] += b->count[k];
    for (int k = 0; k < PROFILE_COUNT; k++) {
        t->profile_cycles[k] += b->profile_cycles[k];
        t->profile_marks[k] += b->profile_marks[k];
    }
    t->profiled_histories += b->profiled_histories;
    t->profiled_steps += b->profiled_steps;
    t->history_cycles += b->history_cycles;
    t->batch_histories[batch] += b->histories;
    t->steps += b->steps;
    t->histories += b->histories;
}

void score_totals_close_batch(score_totals *t)
{
    if (t->batches < t->max_batches && t->batch_histories[t->batches] > 0) t->batches++;
}

/* ---- derived figures --------------------------------------------------------------------------- */

/* Depth where the curve crosses `level` between bins i and i+1 (bin centres, linear). */
static double crossing(const double *d, int i, double level, double bin_width)
{
    double x0 = (i + 0.5) * bin_width, y0 = d[i], y1 = d[i + 1];
    if (y1 == y0) return x0 + 0.5 * bin_width;
    return x0 + bin_width * (level - y0) / (y1 - y0);
}

void dose_figures_compute(const double *d, int n, double w, dose_figures *f)
{
    f->peak_depth = f->peak_dose = f->entrance_dose = f->peak_to_entrance = NAN;
    f->r90 = f->r80 = f->r50 = f->r20 = f->falloff_80_20 = f->fwhm = NAN;
    if (n < 3) return;
    int m = 0;
    for (int i = 1; i < n; i++)
        if (d[i] > d[m]) m = i;
    if (!(d[m] > 0)) return;

    /* Least-squares parabola over +-0.5 mm (at least two bins each side) around the maximum:
     * the vertex locates the peak below the bin width and averages out bin noise. Only over
     * the peak's top, the bins next to the maximum down to 80% of it (and one bin each side at
     * least): a peak whose distal edge falls to nothing within the half millimetre (He-4 of
     * 50 MeV/u, FWHM 0.85 mm) bent the parabola, moved its vertex by a bin or more and took
     * 11% off the peak dose, and from batch to batch the fit switched between that and the
     * plain maximum (peak/entrance 7.35 +- 0.84 where the curve says 8.3). */
    int k = (int)lround(0.05 / w);
    if (k < 2) k = 2;
    int lo = m, hi = m;
    while (lo > 0 && m - lo < k && d[lo - 1] >= 0.8 * d[m]) lo--;
    while (hi < n - 1 && hi - m < k && d[hi + 1] >= 0.8 * d[m]) hi++;
    if (lo == m && m > 0) lo = m - 1;
    if (hi == m && m < n - 1) hi = m + 1;
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, sy = 0, sxy = 0, sx2y = 0;
    for (int i = lo; i <= hi; i++) {
        double x = i - m, x2 = x * x;
        s0 += 1; s1 += x; s2 += x2; s3 += x2 * x; s4 += x2 * x2;
        sy += d[i]; sxy += x * d[i]; sx2y += x2 * d[i];
    }
    /* Solve the 3x3 normal equations by Cramer's rule. */
    double det = s0 * (s2 * s4 - s3 * s3) - s1 * (s1 * s4 - s3 * s2) + s2 * (s1 * s3 - s2 * s2);
    double vertex = 0.0, peak = d[m];
    int fitted = 0;
    if (det != 0.0) {
        double a = (sy * (s2 * s4 - s3 * s3) - s1 * (sxy * s4 - s3 * sx2y) +
                    s2 * (sxy * s3 - s2 * sx2y)) / det;
        double b = (s0 * (sxy * s4 - s3 * sx2y) - sy * (s1 * s4 - s3 * s2) +
                    s2 * (s1 * sx2y - sxy * s2)) / det;
        double c = (s0 * (s2 * sx2y - s3 * sxy) - s1 * (s1 * sx2y - s2 * sxy) +
                    sy * (s1 * s3 - s2 * s2)) / det;
        if (c < 0.0) {
            double v = -b / (2.0 * c);
            if (fabs(v) <= 1.0) {   /* trust the fit only near the maximum bin */
                vertex = v;
                peak = a + b * v + c * v * v;
                fitted = 1;
            }
        }
    }
    /* Where the fit does not find its vertex within a bin of the maximum (a skewed top: p 100 MeV
     * in cortical bone puts it 1.14 bins before the maximum bin, pulled by the slow proximal
     * rise), the parabola through the maximum bin and its two neighbours, whose vertex lies within
     * half a bin of the maximum's centre. Until 2026-12-05 the peak stayed at the maximum bin's
     * centre instead, and a run whose batches all did that reported its depth +- 0.0000 cm. */
    if (!fitted && m > 0 && m < n - 1) {
        double bend = d[m - 1] - 2.0 * d[m] + d[m + 1];
        if (bend < 0.0) {
            vertex = 0.5 * (d[m - 1] - d[m + 1]) / bend;
            peak = d[m] - 0.25 * (d[m - 1] - d[m + 1]) * vertex;
        }
    }
    f->peak_depth = (m + 0.5 + vertex) * w;
    f->peak_dose = peak;

    int ne = (int)lround(0.1 / w);
    if (ne < 1) ne = 1;
    if (ne > m) ne = m > 0 ? m : 1;
    double sum = 0;
    for (int i = 0; i < ne; i++) sum += d[i];
    f->entrance_dose = sum / ne;
    f->peak_to_entrance = f->entrance_dose > 0 ? peak / f->entrance_dose : NAN;

    const double levels[4] = {0.9, 0.8, 0.5, 0.2};
    double *out[4] = {&f->r90, &f->r80, &f->r50, &f->r20};
    for (int l = 0; l < 4; l++) {
        double level = levels[l] * peak;
        for (int i = m; i + 1 < n; i++)
            if (d[i] >= level && d[i + 1] < level) {
                *out[l] = crossing(d, i, level, w);
                break;
            }
    }
    f->falloff_80_20 = f->r20 - f->r80;
    double half = 0.5 * peak;
    for (int i = m - 1; i >= 0; i--)
        if (d[i] < half && d[i + 1] >= half) {
            f->fwhm = f->r50 - crossing(d, i, half, w);
            break;
        }
}

/* The jackknife walks the figures as an array. */
_Static_assert(sizeof(dose_figures) == 10 * sizeof(double), "dose_figures holds only doubles");

/* ---- results ----------------------------------------------------------------------------------- */

void score_result_free(score_result *r)
{
    free(r->depth);
    free(r->channel_dose);
    free(r->map);
    memset(r, 0, sizeof *r);
}

/* ---- the curve the figures read ------------------------------------------------------------ */

/* For each bin, the two batches among the first nb that hold the most of its dose (first and
 * second; -1 where fewer hold any): the candidate for a lone event is the first, or the second
 * where the first is left out (the jackknife), so one pass serves every leave-one-out curve. */
static void dominant_batches(const score_totals *t, int nb, int *first, int *second)
{
    int n = t->nbins;
    for (int i = 0; i < n; i++) first[i] = second[i] = -1;
    for (int b = 0; b < nb; b++) {
        const __int128 *bd = t->batch_dose + (size_t)b * n;
        for (int i = 0; i < n; i++) {
            if (!(bd[i] > 0)) continue;
            if (first[i] < 0 || bd[i] > t->batch_dose[(size_t)first[i] * n + i]) {
                second[i] = first[i];
                first[i] = b;
            } else if (second[i] < 0 || bd[i] > t->batch_dose[(size_t)second[i] * n + i]) {
                second[i] = b;
            }
        }
    }
}

/* The figures (peak, R80, ...) are those of the expected curve, which a lone event must not
 * make: one nuclear reaction's local deposit where a bin's continuous dose is small (p 100 MeV
 * in 0.1 mm bins of air: one such bin, 55 times the plateau, was the "peak", 36 m short of the
 * Bragg peak at 72 m; on the broad top there, one of +55% still was). So in the curve the
 * figures read (not in the curve reported) a bin whose dominant batch holds more than twice
 * what the other batches' rate gives for its histories takes the other batches' mean. Batch
 * means of a bin fed by many histories differ by a few per cent; twice the others' needs a bin
 * of under about six histories' worth per batch, the figures' own region never is. d: the curve
 * over the batches in `sum` less batch `skip` (-1: none), `histories` of them, per history
 * times `scale`; first and second from dominant_batches over the batches in `sum`. */
static void drop_lone_events(const score_totals *t, int skip, const __int128 *sum,
                             uint64_t histories, const int *first, const int *second,
                             double scale, double *d)
{
    int n = t->nbins;
    const __int128 *sk = skip >= 0 ? t->batch_dose + (size_t)skip * n : NULL;
    for (int i = 0; i < n; i++) {
        int dom = first[i] == skip ? second[i] : first[i];
        if (dom < 0) continue;
        uint64_t h = t->batch_histories[dom];
        double c = (double)t->batch_dose[(size_t)dom * n + i];
        double all = (double)(sum[i] - (sk ? sk[i] : 0));
        if (histories <= h || !(all > 0)) continue;
        double others = (all - c) / (double)(histories - h);   /* per history */
        if (c > 2.0 * others * (double)h) d[i] = others * scale;
    }
}

/* The figures read dose, not energy per cm: in a stack the two differ by the density, and
 * energy per cm put the "peak" of p 150 MeV through 1 cm of lead in the lead (R80 6.00 cm at its
 * far face, where the dose is half the water's after it; the dose's R80 is 11.14 cm) and took
 * peak/entrance 8.7 for 4.7 behind 10 cm of water in bone. d: energy per cm, made mass energy
 * per cm (density: g/cm^3 of each bin). */
static void per_mass(const double *density, int n, double *d)
{
    for (int i = 0; i < n; i++) d[i] /= density[i];
}

static void jackknife(const score_totals *t, double bin_width, const double *density,
                      dose_figures *err, double *work)
{
    int B = t->batches, n = t->nbins;
    const int nf = (int)(sizeof(dose_figures) / sizeof(double));
    double sum[sizeof(dose_figures) / sizeof(double)] = {0};
    double sum2[sizeof(dose_figures) / sizeof(double)] = {0};
    int count[sizeof(dose_figures) / sizeof(double)] = {0};
    /* Closed batches only: a batch still open (mid-run snapshot) is left out of both sides. */
    uint64_t closed = 0;
    for (int b = 0; b < B; b++) closed += t->batch_histories[b];
    __int128 *closed_sum = calloc((size_t)n, sizeof *closed_sum);
    if (!closed_sum) {
        for (int k = 0; k < nf; k++) ((double *)err)[k] = NAN;
        return;
    }
    int *dom = malloc(2 * sizeof(int) * (size_t)n);
    if (!dom) {
        free(closed_sum);
        for (int k = 0; k < nf; k++) ((double *)err)[k] = NAN;
        return;
    }
    for (int b = 0; b < B; b++)
        for (int i = 0; i < n; i++) closed_sum[i] += t->batch_dose[(size_t)b * n + i];
    dominant_batches(t, B, dom, dom + n);
    for (int b = 0; b < B; b++) {
        uint64_t nb = closed - t->batch_histories[b];
        const __int128 *bd = t->batch_dose + (size_t)b * n;
        for (int i = 0; i < n; i++) work[i] = (double)(closed_sum[i] - bd[i]) / (double)nb;
        /* The figures' curve, as for the whole run. */
        drop_lone_events(t, b, closed_sum, nb, dom, dom + n, 1.0, work);
        per_mass(density, n, work);
        dose_figures f;
        dose_figures_compute(work, n, bin_width, &f);
        const double *v = (const double *)&f;
        for (int k = 0; k < nf; k++)
            if (!isnan(v[k])) {
                sum[k] += v[k];
                sum2[k] += v[k] * v[k];
                count[k]++;
            }
    }
    double *e = (double *)err;
    for (int k = 0; k < nf; k++) {
        if (count[k] < 2 || count[k] < B) {
            e[k] = NAN;
            continue;
        }
        double mean = sum[k] / B, var = sum2[k] / B - mean * mean;
        e[k] = sqrt((var > 0 ? var : 0) * (B - 1));   /* (B-1)/B * sum (f_b - mean)^2 */
    }
    free(closed_sum);
    free(dom);
}

/* The dose beyond the halo's cut and the total at one depth, from one row of the map (units as
 * score_result.map) and the dose beyond the grid. Both are always set; returns 0 where the
 * fraction cannot be told from the cut alone (see score_result.halo_fraction). */
static int halo_sums(int map_kind, int map_bins, double map_width, const double *row,
                     double beyond, double sigma, double *outside_out, double *total_out)
{
    *outside_out = *total_out = 0.0;
    if (!(sigma > 0.0) || !isfinite(sigma) || map_bins < 1) return 0;
    double cut = 3.0 * sigma;
    /* The cut as a position on the grid, from the axis (RZ) or from x = 0 (XZ, both sides). */
    double total = beyond, outside = beyond;
    for (int j = 0; j < map_bins; j++) {
        double lo, hi, part;
        if (map_kind == MAP_RZ) {
            lo = j * map_width;
            hi = lo + map_width;
            double area = PI * (hi * hi - lo * lo);
            double d = row[j] * area;
            total += d;
            /* Within the ring the cut falls in, dose taken as uniform over its area. */
            part = cut <= lo ? 1.0 : cut >= hi ? 0.0 : (hi * hi - cut * cut) / (hi * hi - lo * lo);
            outside += d * part;
        } else {
            double half = 0.5 * map_bins * map_width;
            lo = -half + j * map_width;
            hi = lo + map_width;
            double d = row[j] * map_width;
            total += d;
            /* The part of [lo, hi) with |x| > cut. */
            double in_lo = lo > -cut ? lo : -cut, in_hi = hi < cut ? hi : cut;
            double inside = in_hi > in_lo ? in_hi - in_lo : 0.0;
            outside += d * (1.0 - inside / map_width);
        }
    }
    *outside_out = outside;
    *total_out = total;
    /* Within the bin the cut falls in the dose is taken as uniform, which a core narrower than
     * a bin belies: below one bin per sigma the fraction is not told. */
    double extent = map_kind == MAP_RZ ? map_bins * map_width : 0.5 * map_bins * map_width;
    return !(sigma < map_width || cut >= extent);
}

double score_halo_fraction(int map_kind, int map_bins, double map_width, const double *row,
                           double beyond, double sigma)
{
    double outside, total;
    if (!halo_sums(map_kind, map_bins, map_width, row, beyond, sigma, &outside, &total) ||
        !(total > 0.0))
        return NAN;
    return outside / total;
}

/* Standard error of the mean per history of a value whose batch sums (quanta) are
 * batch[b * stride], b over the closed batches, each weighted by its histories; NaN without two
 * closed batches. The same estimate for the depth-dose and for each cell of the map. */
static double batch_mean_error(const score_totals *t, const __int128 *batch, size_t stride)
{
    double closed_n = 0, closed_sum = 0;
    for (int b = 0; b < t->batches; b++) {
        closed_n += (double)t->batch_histories[b];
        closed_sum += (double)batch[(size_t)b * stride];
    }
    double mean = closed_n > 0 ? closed_sum / closed_n : 0, ss = 0;
    for (int b = 0; b < t->batches; b++) {
        double nb = (double)t->batch_histories[b];
        double xb = (double)batch[(size_t)b * stride] / nb;
        ss += nb * (xb - mean) * (xb - mean);
    }
    double var_mean = t->batches > 1 ? ss / ((t->batches - 1) * closed_n) : NAN;
    return sqrt(var_mean);
}

/* The area (MAP_RZ ring j, cm^2) or width (MAP_XZ column, cm) a map cell's energy is spread
 * over, for its dose. */
static double map_cell_size(int map_kind, double width, int j)
{
    return map_kind == MAP_RZ ? PI * width * width * (double)(2 * j + 1) : width;
}

/* The halo fraction's standard error at depth bin i: each closed batch's row gives its own dose
 * beyond the cut O_b and total T_b (the cut from the whole run's sigma), and with f the run's
 * fraction the ratio estimator's sqrt(B / (B - 1) sum_b (O_b - f T_b)^2) / sum_b T_b. `row` is
 * work space for one row. */
static double halo_fraction_error(const score_totals *t, const score_result *r, int i,
                                  double per, double *row)
{
    int B = t->batches, n = t->nbins, inner = r->map_bins, mc = t->batch_map_curves;
    double f = r->halo_fraction[i], dx = r->map_width;
    if (B < 2 || isnan(f)) return NAN;
    double ss = 0, total = 0;
    for (int b = 0; b < B; b++) {
        const __int128 *cells = t->batch_map + (size_t)b * mc * n + i;
        for (int j = 0; j < inner; j++)
            row[j] = (double)cells[(size_t)j * n] * per / map_cell_size(r->map_kind, dx, j);
        double beyond = (double)cells[(size_t)inner * n] * per, o, tb;
        halo_sums(r->map_kind, inner, dx, row, beyond, r->lateral_rms[i], &o, &tb);
        double u = o - f * tb;
        ss += u * u;
        total += tb;
    }
    return total > 0 ? sqrt(ss * B / (B - 1)) / total : NAN;
}

/* The map of a run (see score_result): dose per cell from the energy quanta of its curves. */
static int map_compute(const score_totals *t, const transport_params *p,
                       const double *bin_density, score_result *r, bragg_err *e)
{
    int n = t->nbins, inner = p->map_bins - 1;
    int with_err = t->batch_map != NULL && t->batch_map_curves == p->map_bins;
    r->map_kind = p->map_kind;
    r->map_bins = inner;
    r->map_width = 1.0 / p->map_inv_width;
    r->map_half = p->map_kind == MAP_XZ ? p->map_half : 0.0;
    /* map, beyond, halo fraction; then their errors */
    size_t row_values = (size_t)inner + 2;
    r->map = calloc((size_t)n * row_values * (with_err ? 2 : 1), sizeof(double));
    double *work = with_err ? malloc((size_t)inner * sizeof *work) : NULL;
    if (!r->map || (with_err && !work)) {
        free(work);
        return bragg_fail(e, "out of memory for the dose map");
    }
    r->map_beyond = r->map + (size_t)n * inner;
    r->halo_fraction = r->map_beyond + n;
    if (with_err) {
        r->map_err = r->halo_fraction + n;
        r->map_beyond_err = r->map_err + (size_t)n * inner;
        r->halo_fraction_err = r->map_beyond_err + n;
    }
    double N = (double)t->histories, w = p->bin_width, dx = r->map_width;
    const double gy = MEV_TO_JOULE * 1000.0, q = 1.0 / ENERGY_QUANTA_PER_MEV;
    size_t batch_stride = (size_t)t->batch_map_curves * n;
    for (int i = 0; i < n; i++) {
        double *row = r->map + (size_t)i * inner;
        double *row_err = with_err ? r->map_err + (size_t)i * inner : NULL;
        r->halo_fraction[i] = NAN;
        if (with_err) {
            for (int j = 0; j < inner; j++) row_err[j] = NAN;
            r->map_beyond_err[i] = r->halo_fraction_err[i] = NAN;
        }
        if (N <= 0) continue;
        /* MeV per primary in the cell, over its mass. */
        double per = q / N * gy / bin_density[i] / w;
        for (int j = 0; j < inner; j++) {
            const __int128 *c = t->curves + (size_t)CURVE_MAP(t->channels, j) * n;
            double size = map_cell_size(p->map_kind, dx, j);
            row[j] = (double)c[i] * per / size;
            if (with_err)
                row_err[j] = batch_mean_error(t, t->batch_map + (size_t)j * n + i, batch_stride) *
                             q * gy / bin_density[i] / w / size;
        }
        const __int128 *beyond = t->curves + (size_t)CURVE_MAP(t->channels, inner) * n;
        r->map_beyond[i] = (double)beyond[i] * per;
        r->halo_fraction[i] = score_halo_fraction(r->map_kind, inner, dx, row, r->map_beyond[i],
                                                  r->lateral_rms[i]);
        if (with_err) {
            r->map_beyond_err[i] =
                batch_mean_error(t, t->batch_map + (size_t)inner * n + i, batch_stride) * q *
                gy / bin_density[i] / w;
            r->halo_fraction_err[i] = halo_fraction_error(t, r, i, per, work);
        }
    }
    free(work);
    return BRAGG_OK;
}

/* Standard error of a dose-weighted mean R = sum num / sum dose in bin i from the closed
 * batches (the ratio estimator, linearised): sqrt(B / (B - 1) sum_b (num_b - R dose_b)^2) /
 * sum_b dose_b, with R in numerator quanta per dose quantum. NaN without two batches or dose. */
static double ratio_error(const score_totals *t, const __int128 *batch_num,
                          const __int128 *batch_den, int i, double R)
{
    int B = t->batches, n = t->nbins;
    if (B < 2 || !isfinite(R)) return NAN;
    double ss = 0, dose = 0;
    for (int b = 0; b < B; b++) {
        double d = (double)batch_den[(size_t)b * n + i];
        double u = (double)batch_num[(size_t)b * n + i] - R * d;
        ss += u * u;
        dose += d;
    }
    return dose > 0 ? sqrt(ss * B / (B - 1)) / dose : NAN;
}

int score_result_compute(const score_totals *t, const transport_params *p,
                         const double *bin_density, score_result *r, bragg_err *e)
{
    memset(r, 0, sizeof *r);
    double w = p->bin_width;
    int n = t->nbins;
    r->nbins = n;
    r->bin_width = w;
    r->histories = t->histories;
    int nc = t->channels;
    r->channels = nc;
    r->depth = calloc((size_t)n * (15 + 3 * (size_t)nc), sizeof(double));
    r->channel_dose = calloc(3 * (size_t)nc, sizeof(double *));
    if (!r->depth || !r->channel_dose) {
        score_result_free(r);
        return bragg_fail(e, "out of memory for results");
    }
    r->channel_fluence = r->channel_dose + nc;
    r->channel_forward = r->channel_fluence + nc;
    for (int c = 0; c < nc; c++) {
        r->channel_dose[c] = r->depth + (size_t)n * (15 + 3 * c);
        r->channel_fluence[c] = r->channel_dose[c] + n;
        r->channel_forward[c] = r->channel_fluence[c] + n;
    }
    r->edep = r->depth + n;
    r->edep_err = r->edep + n;
    r->dose = r->edep_err + n;
    r->dose_err = r->dose + n;
    r->fluence = r->dose_err + n;
    r->let_d = r->fluence + n;
    r->let_t = r->let_d + n;
    r->lateral_rms = r->let_t + n;
    r->let_d_err = r->lateral_rms + n;
    r->z1d = r->let_d_err + n;
    r->z1d_err = r->z1d + n;
    r->let_d_proton = r->z1d_err + n;
    r->let_d_proton_err = r->let_d_proton + n;
    r->primary_proton = t->primary_proton;
    double *work = r->let_d_proton_err + n;
    const __int128 *let_num = t->curves + (size_t)CURVE_LET_D * n;
    const __int128 *let_other = t->curves + (size_t)CURVE_LET_D_OTHER * n;
    const __int128 *dose_dt = t->curves + (size_t)CURVE_DOSE_DT * n;
    const __int128 *dose_h0 = t->curves + (size_t)CURVE_DOSE(0) * n;
    const __int128 *dose_h1 = t->curves + (size_t)CURVE_DOSE(1) * n;
    const __int128 *let_t_num = t->curves + (size_t)CURVE_LET_T * n;
    const __int128 *lateral = t->curves + (size_t)CURVE_LATERAL * n;
    const __int128 *track = t->curves + (size_t)CURVE_TRACK(0) * n;
    const __int128 *z1d_num = t->curves + (size_t)CURVE_Z1D * n;

    double N = (double)t->histories;
    const double q = 1.0 / ENERGY_QUANTA_PER_MEV;
    /* MeV/cm / (g/cm^3) = MeV cm^2/g; 1 MeV/g = 1.602176634e-10 Gy. */
    const double gy = MEV_TO_JOULE * 1000.0;
    transport_let_bin_weights(p, work);   /* work is free until the figures below */
    for (int i = 0; i < n; i++) {
        r->depth[i] = (i + 0.5) * w;
        if (N <= 0) continue;
        double dose_q = (double)t->dose[i];
        r->edep[i] = dose_q * q / N / w;
        /* Standard error of the mean from the (closed) batch means, weighted by batch size. */
        r->edep_err[i] = batch_mean_error(t, t->batch_dose + i, (size_t)n) * q / w;
        r->dose[i] = r->edep[i] / bin_density[i] * gy;
        r->dose_err[i] = r->edep_err[i] / bin_density[i] * gy;
        r->fluence[i] = (double)track[i] / TRACK_QUANTA_PER_CM / w / N;
        /* The LET_d sums' quanta in this bin: their slabs' weight (physics/transport.h). */
        double let_quanta = LET_QUANTA * work[i];
        r->let_d[i] = t->dose[i] > 0
                          ? ((double)(let_num[i] + let_other[i]) / let_quanta) / (dose_q * q)
                          : NAN;
        __int128 proton_q = (t->primary_proton ? dose_h0[i] : 0) + dose_h1[i];
        r->let_d_proton[i] = proton_q > 0 ? ((double)let_num[i] / let_quanta) /
                                                ((double)proton_q * q)
                                          : NAN;
        r->let_d_proton_err[i] = ratio_error(t, t->batch_let_proton, t->batch_dose_proton, i,
                                             r->let_d_proton[i] * let_quanta * q) /
                                 (let_quanta * q);
        r->z1d[i] = t->dose[i] > 0 ? ((double)z1d_num[i] / Z1D_QUANTA) / (dose_q * q) : NAN;
        r->let_d_err[i] = ratio_error(t, t->batch_let, t->batch_dose, i,
                                      r->let_d[i] * let_quanta * q) /
                          (let_quanta * q);
        r->z1d_err[i] = ratio_error(t, t->batch_z1d, t->batch_dose, i,
                                    r->z1d[i] * Z1D_QUANTA * q) /
                        (Z1D_QUANTA * q);
        r->lateral_rms[i] = track[i] > 0 ? sqrt(((double)lateral[i] / p->lateral_quanta) /
                                                ((double)track[i] / TRACK_QUANTA_PER_CM))
                                         : NAN;
        double all_track = 0.0;
        for (int c = 0; c < nc; c++) {
            const __int128 *cd = t->curves + (size_t)CURVE_DOSE(c) * n;
            const __int128 *ct = t->curves + (size_t)CURVE_TRACK(c) * n;
            const __int128 *cf = t->curves + (size_t)CURVE_FORWARD(c) * n;
            __int128 dc = cd[i] + (c == 1 ? dose_dt[i] : 0);   /* its deuterons and tritons */
            r->channel_dose[c][i] = (double)dc * q / N / w / bin_density[i] * gy;
            r->channel_fluence[c][i] = (double)ct[i] / TRACK_QUANTA_PER_CM / w / N;
            r->channel_forward[c][i] = (double)cf[i] / TRACK_QUANTA_PER_CM / w / N;
            all_track += (double)ct[i] / TRACK_QUANTA_PER_CM;
        }
        r->let_t[i] = all_track > 0 ? ((double)let_t_num[i] / LET_T_QUANTA) / all_track : NAN;
    }
    /* The figures from the curve without lone events (drop_lone_events), over every batch
     * that holds histories (a snapshot's open one too, as r->edep). */
    int with_open = t->batches + (t->batches < t->max_batches && t->batch_histories[t->batches]);
    int *dom = malloc(2 * sizeof(int) * (size_t)n);
    if (!dom) {
        score_result_free(r);
        return bragg_fail(e, "out of memory deriving the figures");
    }
    memcpy(work, r->edep, sizeof(double) * (size_t)n);
    dominant_batches(t, with_open, dom, dom + n);
    drop_lone_events(t, -1, t->dose, t->histories, dom, dom + n, q / w, work);
    free(dom);
    per_mass(bin_density, n, work);
    dose_figures_compute(work, n, w, &r->fig);
    if (t->batches >= 2) jackknife(t, w, bin_density, &r->fig_err, work);
    else
        for (size_t k = 0; k < sizeof r->fig_err / sizeof(double); k++)
            ((double *)&r->fig_err)[k] = NAN;
    /* The peak bin's own error (the figures' peak, not the curve's highest bin). */
    int m = isfinite(r->fig.peak_depth) ? (int)(r->fig.peak_depth / w) : 0;
    if (m < 0) m = 0;
    if (m >= n) m = n - 1;
    r->peak_rel_err = r->edep[m] > 0 ? r->edep_err[m] / r->edep[m] : NAN;
    if (p->map_bins > 0 && map_compute(t, p, bin_density, r, e)) {
        score_result_free(r);
        return BRAGG_ERR;
    }

    __int128 rest = 0;
    for (int k = 0; k < LEDGER_COUNT; k++) {
        r->ledger_mev[k] = N > 0 ? (double)t->ledger[k] * q / N : 0;
        if (k != LEDGER_BEAM && k != LEDGER_OUTSIDE_GRID) rest += t->ledger[k];
    }
    double beam = (double)t->ledger[LEDGER_BEAM];
    r->ledger_closure = beam > 0 ? fabs((double)(t->ledger[LEDGER_BEAM] - rest)) / beam : 0;
    r->steps_per_history = N > 0 ? (double)t->steps / N : 0;
    for (int k = 0; k < COUNT_COUNT; k++) r->count[k] = t->count[k];
    r->reacted_fraction = r->surviving_fraction = r->tail_to_peak = r->tail_depth_cm = NAN;
    if (N > 0) {
        r->reacted_fraction = (double)t->count[COUNT_PRIMARY_REACTED] / N;
        r->surviving_fraction = (double)t->count[COUNT_PRIMARY_STOPPED] / N;
    }
    /* The fragment tail: mean dose from 0.5 to 1.5 cm beyond the distal 20% point, where the
     * primaries have all stopped, relative to the peak. */
    if (!isnan(r->fig.r20) && r->fig.peak_dose > 0) {
        int i0 = (int)((r->fig.r20 + 0.5) / w), i1 = (int)((r->fig.r20 + 1.5) / w);
        if (i1 <= n) {
            double sum = 0;
            for (int i = i0; i < i1; i++) sum += r->edep[i] / bin_density[i];
            r->tail_to_peak = sum / (i1 - i0) / r->fig.peak_dose;
            r->tail_depth_cm = r->fig.r20 + 1.0;
        }
    }
    return BRAGG_OK;
}
