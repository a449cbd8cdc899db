/*
 * plot_panel.h - the plot panel: the current view of the run, drawn with braille dots
 * (2 x 4 per cell, ui/braille.h) or ASCII when the locale is not UTF-8.
 *
 * Views (cycled with `v`): depth-dose with a faint +-1 sigma band and the peak (a triangle on
 * the depth axis and a dotted line) and R80 marked; dose by particle charge (with nuclear
 * reactions); LET (dose- and track-averaged); lateral spread; primary fluence; the dose map
 * (drawn by ui/map_panel.h); and, after `b`,
 * the benchmark race as bars with speedup and parallel efficiency. Axes carry nice ticks
 * (src/figures/axis_ticks.h, the same as the PNG figures) and units. Overlays (kept runs) are drawn
 * in the depth-dose view, all curves normalised to their peak or entrance dose, with a legend.
 *
 * Tick labels on the depth axis start at their tick's column, so a reader (or the tmux test)
 * can read any column's depth off the axis. Main (UI) thread only; nothing kept between draws.
 */
#ifndef BRAGG_PLOT_PANEL_H
#define BRAGG_PLOT_PANEL_H

#include "layout.h"
#include "tui_state.h"

const char *plot_view_name(plot_view v);
void plot_panel_draw(const tui_state *t, const ui_rect *r);

/* The normalisation divisor of a dose curve: its maximum, or its mean over the first mm. */
double plot_norm_factor(const double *depth, const double *dose, int n, overlay_norm norm);

#endif
