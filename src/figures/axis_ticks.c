/* axis_ticks.c - see axis_ticks.h. */
#include "axis_ticks.h"

#include <math.h>

double axis_nice_number(double x, int round)
{
    double e = floor(log10(x));
    double p = pow(10, e);
    double f = x / p;   /* in [1, 10) */
    double nice;
    if (round) nice = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
    else nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
    return nice * p;
}

/* Beyond these magnitudes a plot means nothing, and the arithmetic below would not survive
 * them: a span of +-1e308 overflows to infinity, a denormal step divides to infinity, and the
 * tick count was then a conversion of NaN or infinity to int (undefined behaviour). Data
 * larger than AXIS_HUGE is drawn clipped at it; data smaller than AXIS_TINY counts as 0. */
#define AXIS_HUGE 1e300
#define AXIS_TINY 1e-300

static double tame(double v)
{
    if (fabs(v) < AXIS_TINY) return 0;
    return v > AXIS_HUGE ? AXIS_HUGE : v < -AXIS_HUGE ? -AXIS_HUGE : v;
}

void axis_ticks_nice(double min, double max, int target, axis_ticks *t)
{
    if (!isfinite(min) || !isfinite(max)) {
        min = 0;
        max = 1;
    }
    min = tame(min);
    max = tame(max);
    if (min > max) {
        double s = min;
        min = max;
        max = s;
    }
    if (max - min <= fmax(1e-12 * fmax(fabs(min), fabs(max)), AXIS_TINY)) {
        /* A flat curve still gets an axis: widen by 10% of its value, or by 1 around zero. */
        double half = min != 0 ? 0.1 * fabs(min) : 1;
        min -= half;
        max += half;
    }
    /* More ticks than pixels mean nothing; this also keeps the count an int. */
    if (target < 2) target = 2;
    if (target > 1000) target = 1000;
    double range = axis_nice_number(max - min, 0);
    double step = axis_nice_number(range / (target - 1), 1);
    /* The small slack keeps a data edge that is a tick within float noise (say 0.30000000004
     * with step 0.1) from adding a whole step. */
    t->lo = floor(min / step + 1e-9) * step;
    t->hi = ceil(max / step - 1e-9) * step;
    t->step = step;
    t->count = (int)floor((t->hi - t->lo) / step + 0.5) + 1;
    int d = -(int)floor(log10(step));
    t->decimals = d > 0 ? d : 0;
}

double axis_tick_value(const axis_ticks *t, int i)
{
    double v = t->lo + i * t->step;
    /* Round to the tick grid (a multiple of step) so printed values and positions agree. */
    v = round(v / t->step) * t->step;
    return fabs(v) < 1e-9 * t->step ? 0 : v;
}

void axis_ticks_inside(double max, int target, int at_most, axis_ticks *t)
{
    for (;; target++) {
        axis_ticks_nice(0, max, target, t);
        int inside = 0;
        for (int i = 0; i < t->count; i++) inside += axis_tick_value(t, i) <= max * (1 + 1e-9);
        if (inside >= 3 || target >= at_most) return;
    }
}
