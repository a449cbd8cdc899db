/*
 * axis_ticks.h - "nice numbers" for axis ticks (Heckbert, Graphics Gems, 1990).
 *
 * Given a data range and a wanted number of ticks, picks a step of 1, 2 or 5 times a power of
 * ten and a range that starts and ends on a tick and covers the data ("loose labelling"). The
 * PNG renderer uses it, and the workbench's terminal plot too (ui/plot_panel.c), so both
 * label axes the same way.
 * Pure functions: no memory, no state, any thread.
 */
#ifndef BRAGG_AXIS_TICKS_H
#define BRAGG_AXIS_TICKS_H

typedef struct axis_ticks {
    double lo, hi;    /* first and last tick; lo <= data min, hi >= data max */
    double step;      /* 1, 2 or 5 x 10^k */
    int count;        /* ticks from lo to hi inclusive */
    int decimals;     /* digits after the point that print every tick exactly */
} axis_ticks;

/* Nice ticks for [min, max] with about `target` ticks (at least 2). An empty range (min == max)
 * is widened around its value; a non-finite one becomes [0, 1]. */
void axis_ticks_nice(double min, double max, int target, axis_ticks *t);

/* Nice ticks over [0, max] for an axis that ends at max itself (not at the loose range's last
 * tick): about `target` ticks, more (up to `at_most`) while fewer than three lie inside it. A
 * 53 um axis got 0 and 50, and the 50 sat too near the end for a label. */
void axis_ticks_inside(double max, int target, int at_most, axis_ticks *t);

/* The i-th tick, i in [0, count), with the rounding noise of lo + i*step removed (so a tick
 * meant to be 0 is 0, not 1e-17). */
double axis_tick_value(const axis_ticks *t, int i);

/* Heckbert's nicenum: a nice number near x > 0; `round` picks the nearest, otherwise the
 * smallest nice number >= x. */
double axis_nice_number(double x, int round);

#endif
