/*
 * plot_panel.h - the plot panel: the current view of the run, drawn with braille dots
 * (2 x 4 per cell, ui/braille.h) or ASCII when the locale is not UTF-8.
 *
 * Views (cycled with `v`): depth-dose with a faint +-1 sigma band and the peak (a triangle on
 * the depth axis and a dotted line) and R80 marked; dose by charge (with nuclear reactions);
 * LET (dose- and track-averaged); lateral spread; primary fluence; physical and RBE-weighted
 * dose; the SOBP; the dose map (drawn by ui/map_panel.h); and, after `b`, the benchmark race
 * as bars with speedup and parallel efficiency. Kept runs (`o`) are drawn in every view that
 * plots curves, normalised (`n`: peak, entrance, none) where dose is shown; dose by charge and
 * fluence have a log scale (`L`). The slabs of a stack are marked on every depth view: dotted
 * boundaries, every other slab stippled, names where there is room. A run or SOBP made with
 * another setup than the fields show is marked so in the legend (tui_setup_changed). Without
 * colour (NO_COLOR, a monochrome terminal) each series has a look of its own: a dash pattern
 * (the current run solid; in ASCII a mark of its own), and past the eight patterns the same
 * again underlined, in reverse video, then both (plot_series_look); with colour each a colour
 * and, past the palette's six, a pattern too. The legend's key shows it, and "+N more" counts
 * the curves it has no room for. Axes carry nice ticks
 * (src/figures/axis_ticks.h, the same as the figures) ending just above the data.
 *
 * Readable from 80x24 up: the title shortens (the unit always stays) and, when even the unit
 * and its power of ten do not fit, the power of ten goes under the y axis; the depth axis
 * always says its unit (cm, or mm or um for the ranges src/output/depth_unit.h gives them);
 * legend entries that do not fit are left out whole, never cut. Tick labels
 * on the depth axis start at their tick's column, so a reader (or the tmux test) can read any
 * column's depth off the axis. Main (UI) thread only; nothing kept between draws.
 */
#ifndef BRAGG_PLOT_PANEL_H
#define BRAGG_PLOT_PANEL_H

#include "draw.h"
#include "layout.h"
#include "tui_state.h"

const char *plot_view_name(plot_view v);

/* The look of series k (0: the current run) of a view: with colour, the palette's colours in
 * turn and each time round the next dash pattern; without, the dash patterns in turn and each
 * time round the next attribute (none, underline, reverse, both). Distinct for every curve a
 * view draws (with colour) and every charge of the heaviest ion (without). Pure. */
typedef struct plot_look {
    colour_role role;
    int pattern;      /* dash pattern, 0 solid */
    attr_t weight;    /* added to the role's attribute */
} plot_look;
plot_look plot_series_look(int colour, int k);
/* 1 when the view has a log scale (`L`): dose by charge and fluence. */
int plot_view_has_log(plot_view v);
void plot_panel_draw(const tui_state *t, const ui_rect *r);

/* The title: the view, the quantity and its unit, and the power of ten the tick labels leave
 * out (`mult`, e.g. " x1e-3", or ""), shortened until it fits `room` columns. The unit always
 * stays; when even "unit mult" does not fit, the title keeps the unit and *mult_on_axis says
 * the power of ten goes under the y axis instead. Pure (any thread). */
void plot_panel_fit_title(const char *view, const char *quantity, const char *unit,
                          const char *mult, int room, char *out, size_t len, int *mult_on_axis);

/* The normalisation divisor of a dose curve: its maximum, its mean over the first mm, or 1. */
double plot_norm_factor(const double *depth, const double *dose, int n, overlay_norm norm);

#endif
