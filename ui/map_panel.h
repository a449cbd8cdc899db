/*
 * map_panel.h - the workbench's dose-map view (`m`, or `v` to it): the run's map
 * (src/output/dose_map.h) as coloured cells, depth across, radius (or x) up, on a logarithmic
 * scale of MAP_VIEW_DECADES decades below the maximum in MAP_VIEW_LEVELS levels, with the scale
 * and the axes' units on screen.
 *
 * Three ways to draw a cell, chosen from what the terminal can do:
 *   - 256 colours and UTF-8: upper half blocks, the top half in the foreground colour and the
 *     bottom half in the background colour, so a cell shows two rows of the map; colours follow
 *     the figures' viridis scale (plot_scale_colour);
 *   - fewer colours, or no UTF-8: one row of the map per cell, drawn as a density character
 *     (" .:-=+*#%@", the level) in a colour of the scale;
 *   - no colour (NO_COLOR, monochrome): the density characters alone, readable as they are.
 * Cells below the scale (and zero dose) stay blank. The lateral axis shows the part of the
 * grid where the map has dose on the scale (rounded up to a nice number), so a pencil beam is
 * not a sliver at the bottom of a 5 cm grid.
 *
 * map_view_grid is pure (no curses): the unit tests check its levels directly. Drawing is for
 * the main (UI) thread only; map_panel_init sets the colour pairs once after draw_init.
 */
#ifndef BRAGG_MAP_PANEL_H
#define BRAGG_MAP_PANEL_H

#include <stdint.h>

#include "dose_map.h"
#include "layout.h"
#include "tui_state.h"

#define MAP_VIEW_LEVELS 9
#define MAP_VIEW_DECADES 4.0

/* The view's grid: levels[row * cols + col] (0 blank, 1..MAP_VIEW_LEVELS) of `rows` rows from
 * the top (the largest lateral value) down and `cols` columns of depth, each the mean dose of
 * the map cells whose centres fall in it; the lateral range shown [*lat_lo, *lat_hi] and the
 * scale's top *vmax (the map's maximum). Returns 0, or -1 when the map holds no dose. */
int map_view_grid(const dose_map *m, int cols, int rows, uint8_t *levels, double *lat_lo,
                  double *lat_hi, double *vmax);

/* The density character of a level (' ' for 0). */
char map_view_char(int level);

/* Sets up the colour pairs the view uses (after draw_init; `colour` as draw_init's). */
void map_panel_init(int colour, int utf8);
void map_panel_draw(const tui_state *t, const ui_rect *r);

#endif
