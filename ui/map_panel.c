/* map_panel.c - see map_panel.h. */
#include "map_panel.h"

#include <curses.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "axis_ticks.h"
#include "depth_unit.h"
#include "draw.h"
#include "plot.h"

/* Colour pairs after draw.h's roles: the half-block pairs (top level x bottom level), or one
 * per level for the character cells. */
#define MAP_PAIR_BASE 32
static int draw_mode;          /* 0: characters only, 1: coloured characters, 2: half blocks */

char map_view_char(int level)
{
    static const char ramp[] = " .:-=+*#%@";   /* 0 blank, then MAP_VIEW_LEVELS densities */
    return level >= 0 && level <= MAP_VIEW_LEVELS ? ramp[level] : ' ';
}

/* The level of a dose on the view's scale: 0 below it (or none), else 1..MAP_VIEW_LEVELS. */
static int level_of(double v, double vmax)
{
    if (!(v > 0) || !(vmax > 0)) return 0;
    double t = (log10(v / vmax) + MAP_VIEW_DECADES) / MAP_VIEW_DECADES;   /* 0 .. 1 */
    if (t < 0) return 0;
    int k = 1 + (int)(t * MAP_VIEW_LEVELS);
    return k > MAP_VIEW_LEVELS ? MAP_VIEW_LEVELS : k;
}

int map_view_grid(const dose_map *m, int cols, int rows, uint8_t *levels, double *lat_lo,
                  double *lat_hi, double *vmax)
{
    memset(levels, 0, (size_t)cols * rows);
    double top = 0;
    for (size_t k = 0; k < (size_t)m->n_lat * m->n_depth; k++)
        if (m->dose[k] > top) top = m->dose[k];
    *vmax = top;
    if (!(top > 0) || cols < 1 || rows < 1) return -1;
    /* The lateral extent with dose on the scale, rounded up to a nice number. */
    double reach = dose_map_reach(m, pow(10, -MAP_VIEW_DECADES));
    double shown = fmin(dose_map_extent(m), axis_nice_number(fmax(reach, m->lat_width), 0));
    *lat_hi = shown;
    *lat_lo = m->kind == MAP_XZ ? -shown : 0.0;
    /* Mean dose of the map cells whose centres fall in each view cell. */
    double *sum = calloc((size_t)cols * rows, sizeof *sum);
    int *count = calloc((size_t)cols * rows, sizeof *count);
    if (!sum || !count) {
        free(sum);
        free(count);
        return -1;
    }
    double depth = m->n_depth * m->depth_width, span = *lat_hi - *lat_lo;
    for (int j = 0; j < m->n_lat; j++) {
        double lat = dose_map_lateral(m, j);
        int row = rows - 1 - (int)floor((lat - *lat_lo) / span * rows);
        if (row < 0 || row >= rows) continue;
        for (int i = 0; i < m->n_depth; i++) {
            int col = (int)floor((i + 0.5) * m->depth_width / depth * cols);
            if (col < 0 || col >= cols) continue;
            double v = m->dose[(size_t)i * m->n_lat + j];
            if (!isfinite(v)) continue;
            sum[(size_t)row * cols + col] += v;
            count[(size_t)row * cols + col]++;
        }
    }
    for (size_t k = 0; k < (size_t)cols * rows; k++)
        levels[k] = count[k] ? (uint8_t)level_of(sum[k] / count[k], top) : 0;
    free(sum);
    free(count);
    return 0;
}

/* The scale's colour of a level: xterm's 6x6x6 cube (indices 16-231) nearest to viridis. */
static short cube_colour(int level)
{
    double rgb[3];
    plot_scale_colour((level - 0.5) / MAP_VIEW_LEVELS, rgb);
    return (short)(16 + 36 * lround(5 * rgb[0]) + 6 * lround(5 * rgb[1]) + lround(5 * rgb[2]));
}

/* With eight colours: blue through cyan and green to yellow, as viridis runs. */
static short basic_colour(int level)
{
    static const short c[MAP_VIEW_LEVELS] = {COLOR_BLUE,  COLOR_BLUE,   COLOR_CYAN,
                                             COLOR_CYAN,  COLOR_GREEN,  COLOR_GREEN,
                                             COLOR_YELLOW, COLOR_YELLOW, COLOR_WHITE};
    return c[level - 1];
}

void map_panel_init(int colour, int utf8)
{
    draw_mode = 0;
    if (!colour) return;
    int levels = MAP_VIEW_LEVELS + 1;
    if (utf8 && COLORS >= 256 && COLOR_PAIRS > MAP_PAIR_BASE + levels * levels) {
        for (int top = 0; top < levels; top++)
            for (int bottom = 0; bottom < levels; bottom++)
                init_pair((short)(MAP_PAIR_BASE + top * levels + bottom),
                          top ? cube_colour(top) : -1, bottom ? cube_colour(bottom) : -1);
        draw_mode = 2;
        return;
    }
    if (COLOR_PAIRS <= MAP_PAIR_BASE + levels) return;
    for (int k = 1; k < levels; k++)
        init_pair((short)(MAP_PAIR_BASE + k), COLORS >= 256 ? cube_colour(k) : basic_colour(k), -1);
    draw_mode = 1;
}

/* One view cell: levels `top` and `bottom` (half blocks) or `top` alone (characters). */
static void draw_cell(int y, int x, int top, int bottom)
{
    if (draw_mode == 2) {
        if (!top && !bottom) return;
        /* An upper half block: the top level in front, the bottom one behind; with nothing on
         * top, a lower half block in the bottom's colour over the terminal's own background. */
        if (top)
            draw_text(y, x, 1, COLOR_PAIR(MAP_PAIR_BASE + top * (MAP_VIEW_LEVELS + 1) + bottom),
                      "\u2580");
        else
            draw_text(y, x, 1, COLOR_PAIR(MAP_PAIR_BASE + bottom * (MAP_VIEW_LEVELS + 1)),
                      "\u2584");
        return;
    }
    if (!top) return;
    char c[2] = {map_view_char(top), '\0'};
    draw_text(y, x, 1, draw_mode == 1 ? COLOR_PAIR(MAP_PAIR_BASE + top) | A_BOLD : A_NORMAL, c);
}

void map_panel_draw(const tui_state *t, const ui_rect *r)
{
    const score_result *res = &t->snap.result;
    dose_map m;
    int have = t->have_snap && res->histories > 0 && res->map_kind != MAP_NONE &&
               dose_map_from_result(res, &m, NULL) == BRAGG_OK;
    char title[160];
    snprintf(title, sizeof title, "dose map%s%s, log: %s", have ? " " : "",
             have ? dose_map_kind_name(m.kind) : "", have ? dose_map_unit(m.kind) : "Gy per primary");
    draw_box(r, title, 0);
    if (!have) {
        const char *why = t->cfg.map_kind == MAP_NONE
                              ? "no dose map: m switches one on, r runs"
                          : t->have_snap && tui_run_active(t) && res->histories == 0
                              ? "running: the first batch is on its way"
                              : "the next run (r) scores the map";
        draw_centred(r, draw_attr(ROLE_DIM), why);
        return;
    }
    /* A map of a previous setup says so on a row of its own above the scale, as the curve
     * views' legends do: a new ion left the old map on screen unmarked. */
    int outdated = tui_run_outdated(t);
    int ix = r->x + 1, iy = r->y + 1, iw = r->w - 2, ih = r->h - 2;
    const int ylw = 5;
    int sy = iy + outdated;   /* the scale's row */
    int ax = ix + ylw, cx = ax + 1, cw = ix + iw - cx, cy = sy + 1, ch = ih - 3 - outdated;
    if (cw < 8 || ch < 2) {
        draw_centred(r, draw_attr(ROLE_DIM), "(too small to plot)");
        return;
    }
    int sub = draw_mode == 2 ? 2 : 1;   /* map rows per screen row */
    uint8_t *levels = malloc((size_t)cw * ch * sub);
    double lo, hi, vmax;
    if (!levels || map_view_grid(&m, cw, ch * sub, levels, &lo, &hi, &vmax)) {
        free(levels);
        draw_centred(r, draw_attr(ROLE_DIM), levels ? "no dose on the map yet" : "out of memory");
        return;
    }
    for (int row = 0; row < ch; row++)
        for (int col = 0; col < cw; col++) {
            int top = levels[(size_t)(row * sub) * cw + col];
            int bottom = sub == 2 ? levels[(size_t)(row * sub + 1) * cw + col] : 0;
            draw_cell(cy + row, cx + col, top, bottom);
        }
    free(levels);

    if (outdated)
        draw_text_fit(iy, ix + 1, iw - 1, draw_attr(ROLE_MARKER) | A_BOLD, TUI_RUN_OUTDATED_HINT);
    /* The lateral axis' name above it, then the scale: its levels as drawn, and the doses at
     * its ends. */
    /* Lateral sizes in the unit of the map's extent (src/output/depth_unit.h's rule): the
     * 0.2 mm of rings of p 5 MeV read 0.000 to 0.020 cm. */
    depth_unit lu = depth_unit_for(fmax(fabs(lo), fabs(hi)));
    char lateral_label[16];
    snprintf(lateral_label, sizeof lateral_label, "%s %s", m.kind == MAP_RZ ? "r" : "x",
             glyph(lu.symbol, lu.name));
    draw_text(sy, ix, ylw, draw_attr(ROLE_DIM), lateral_label);
    int sx = ix + ylw + 1;
    draw_text(sy, sx, iw - ylw - 1, draw_attr(ROLE_DIM), "scale");
    sx += 6;
    for (int k = 1; k <= MAP_VIEW_LEVELS && sx < ix + iw; k++, sx++)
        draw_cell(sy, sx, k, draw_mode == 2 ? k : 0);
    draw_textf(sy, sx + 1, ix + iw - sx - 1, A_NORMAL, "%.0e to %.0e %s",
               vmax * pow(10, -MAP_VIEW_DECADES), vmax, dose_map_axis_unit(m.kind));

    /* Lateral axis (left) and depth axis (bottom), nice ticks as the curve views. */
    attr_t axis = draw_attr(ROLE_DIM);
    for (int row = 0; row < ch; row++) draw_text(cy + row, ax, 1, axis, glyph("\u2502", "|"));
    axis_ticks yt;
    double ulo = lo * lu.per_cm, uhi = hi * lu.per_cm;
    axis_ticks_nice(ulo, uhi, ch / 3 > 2 ? ch / 3 : 2, &yt);
    for (int i = 0; i < yt.count; i++) {
        double v = axis_tick_value(&yt, i);
        if (v < ulo - 1e-9 * (uhi - ulo) || v > uhi + 1e-9 * (uhi - ulo)) continue;
        int row = (int)lround((uhi - v) / (uhi - ulo) * (ch - 1));
        draw_textf(cy + row, ix, ylw, A_NORMAL, "%*.*f", ylw, yt.decimals, v);
        draw_text(cy + row, ax, 1, axis, glyph("\u2524", "+"));
    }
    double depth = m.n_depth * m.depth_width;
    int axis_y = cy + ch, label_y = axis_y + 1;
    draw_text(axis_y, ax, 1, axis, glyph("\u2514", "+"));
    for (int col = 0; col < cw; col++) draw_text(axis_y, cx + col, 1, axis, glyph("\u2500", "-"));
    /* Depths in the unit the run's range reads in (src/output/depth_unit.h), as the curve
     * views write them. */
    depth_unit du = depth_unit_for(t->en ? engine_csda_depth(t->en) : depth);
    axis_ticks xt;
    axis_ticks_inside(depth * du.per_cm, cw / 9 > 2 ? cw / 9 : 2, cw / 4, &xt);
    int last_end = -1;
    for (int i = 0; i < xt.count; i++) {
        double v = axis_tick_value(&xt, i);
        if (v > depth * du.per_cm * (1 + 1e-9)) break;
        int col = (int)lround(v / du.per_cm / depth * (cw - 1));
        draw_text(axis_y, cx + col, 1, axis, glyph("\u2534", "+"));
        char lab[32];
        snprintf(lab, sizeof lab, "%.*f", xt.decimals, v);
        int len = (int)strlen(lab);
        if (col > last_end && col + len <= cw - 9) {
            draw_text(label_y, cx + col, len, A_NORMAL, lab);
            last_end = col + len;
        }
    }
    char depth_label[16];
    snprintf(depth_label, sizeof depth_label, "depth %s", glyph(du.symbol, du.name));
    draw_text(label_y, cx + cw - 8, 8, axis, depth_label);
}
