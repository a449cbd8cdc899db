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

void axis_ticks_nice(double min, double max, int target, axis_ticks *t)
{
    if (!isfinite(min) || !isfinite(max)) {
        min = 0;
        max = 1;
    }
    if (min > max) {
        double s = min;
        min = max;
        max = s;
    }
    if (max - min <= 1e-12 * fmax(fabs(min), fabs(max))) {
        /* A flat curve still gets an axis: widen by 10% of its value, or by 1 around zero. */
        double half = min != 0 ? 0.1 * fabs(min) : 1;
        min -= half;
        max += half;
    }
    if (target < 2) target = 2;
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
