/* plot_panel.c - see plot_panel.h. */
#include "plot_panel.h"

#include <cjson/cJSON.h>
#include <curses.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "axis_ticks.h"
#include "braille.h"
#include "depth_unit.h"
#include "draw.h"
#include "figures.h"
#include "live_panel.h"
#include "map_panel.h"
#include "report.h"

static const char *const view_names[VIEW_COUNT] = {
    "depth-dose", "dose by charge", "LET", "lateral spread", "primary fluence", "biology",
    "SOBP", "dose map", "benchmark race",
};

const char *plot_view_name(plot_view v)
{
    return v >= 0 && v < VIEW_COUNT ? view_names[v] : "?";
}

int plot_view_has_log(plot_view v)
{
    return v == VIEW_CHARGE || v == VIEW_FLUENCE;
}

#define MAX_CURVES 48

typedef struct curve {
    const double *x, *y, *err;
    int n;
    double divisor;        /* y and err are divided by it (normalisation) */
    colour_role role;
    char label[96];        /* "" stays out of the legend */
    int pattern;           /* its dash pattern (patterns[]; 0 solid): set by look() */
    attr_t weight;         /* without colour, past the patterns: underline, reverse (look()) */
} curve;

/* Dash patterns: a curve is told apart by its shape as well as its colour, never by colour
 * alone. The current run is solid; in ASCII, where a cell shows no dot pattern, a patterned
 * curve's cells are a character of its own. The legend's key shows the same pattern (or
 * mark). */
static const struct curve_pattern {
    const char *dashes;   /* braille_pen's pattern: '1' a dot set, '0' one left out */
    char mark;            /* the cell's character in ASCII */
} patterns[] = {
    {NULL, 0},            /* solid: the cell's own dots */
    {"10", 'o'},          /* every other dot */
    {"1100", '+'},        /* dashes */
    {"1000", 'x'},        /* sparse dots */
    {"111100", '*'},      /* long dashes */
    {"100000", '#'},      /* sparser dots */
    {"110100", '='},      /* dash and dot */
    {"11110000", '%'},    /* long dashes, long gaps */
};
#define N_PATTERNS (int)(sizeof patterns / sizeof patterns[0])

/* Without colour, the attributes that tell the rounds of the patterns apart: dose by charge
 * has z_max + 2 curves (O-16 ten, Fe-56 28), and eight patterns alone gave O-16's Z=1 and
 * target, Z=8 and primaries, the same look. Not dim or bold: those are the axes', the kept
 * runs' and the current run's. */
static const attr_t weights[] = {A_NORMAL, A_UNDERLINE, A_REVERSE, A_UNDERLINE | A_REVERSE};
#define N_WEIGHTS (int)(sizeof weights / sizeof weights[0])
_Static_assert(N_PATTERNS * N_WEIGHTS >= TRANSPORT_MAX_Z + 2,
               "every charge of the heaviest ion needs a look of its own without colour");
_Static_assert(N_PATTERNS * DRAW_SERIES_ROLES >= MAX_CURVES,
               "every curve a view draws needs a look of its own with colour");

/* With colour, each time round the palette the next pattern: dose by charge of C-12 has
 * eight curves for six colours, and Z=6 and the primaries were both green and solid. */
plot_look plot_series_look(int colour, int k)
{
    plot_look l;
    l.role = draw_series_role(k);
    l.pattern = (colour ? k / DRAW_SERIES_ROLES : k) % N_PATTERNS;
    l.weight = colour ? A_NORMAL : weights[(k / N_PATTERNS) % N_WEIGHTS];
    return l;
}

static void look(const tui_state *t, curve *c, int k)
{
    plot_look l = plot_series_look(t->colour, k);
    c->role = l.role;
    c->pattern = l.pattern;
    c->weight = l.weight;
}

/* What the y axis shows: the quantity and its unit (a unit is never dropped from a title). */
typedef struct y_axis_text {
    char quantity[64];
    char unit[64];
} y_axis_text;

double plot_norm_factor(const double *depth, const double *dose, int n, overlay_norm norm)
{
    figure_norm f = norm == NORM_ENTRANCE ? FIGURE_NORM_ENTRANCE
                    : norm == NORM_PEAK   ? FIGURE_NORM_PEAK
                                          : FIGURE_NORM_NONE;
    return figure_norm_factor(depth, dose, n, f);
}

/* Kept runs are normalised (so runs of different doses compare) unless `n` chose none. */
static int normalised(const tui_state *t)
{
    return t->n_overlays > 0 && t->norm != NORM_NONE;
}

static void dose_axis(const tui_state *t, y_axis_text *ax)
{
    if (normalised(t)) {
        snprintf(ax->quantity, sizeof ax->quantity, "relative dose");
        snprintf(ax->unit, sizeof ax->unit, "%s = 1", t->norm == NORM_PEAK ? "peak" : "entrance");
    } else {
        snprintf(ax->quantity, sizeof ax->quantity, "dose");
        snprintf(ax->unit, sizeof ax->unit, "Gy cm%s/primary", glyph("\u00b2", "2"));
    }
}

/* The curves of a view; returns how many, or 0 with a message in `why`. The current run is
 * last (drawn on top); kept runs come first. */
static int gather(const tui_state *t, curve *cv, y_axis_text *ax, char *why, size_t why_len)
{
    const score_result *res = &t->snap.result;
    /* The current run is "this run" while the setup is its own; after a change its beam
     * (the legend's hint says the setup changed). */
    char this_run[96] = "this run";
    if (tui_run_outdated(t)) tui_beam_label(t, engine_config(t->en), this_run, sizeof this_run);
    if (t->view == VIEW_SOBP) {
        /* Not a run: the record of the last `s` job. */
        int n = 0;
        memset(cv, 0, sizeof *cv * MAX_CURVES);
        memset(ax, 0, sizeof *ax);
        if (!t->sobp) {
            char stage[64];
            tui_sobp_progress(t, stage, sizeof stage);
            if (t->sobp_pid)
                snprintf(why, why_len, "building the SOBP, one run per energy: %s",
                         stage[0] ? stage : "starting");
            else snprintf(why, why_len, "no SOBP yet: s builds one for this setup");
            return 0;
        }
        snprintf(ax->quantity, sizeof ax->quantity, "dose");
        if (t->sobp_rbe_dose) snprintf(ax->unit, sizeof ax->unit, "Gy");
        else snprintf(ax->unit, sizeof ax->unit, "Gy cm%s/primary", glyph("\u00b2", "2"));
        /* The title's unit is the physical dose's; the RBE-weighted dose's is Gy (RBE). */
        cv[n++] = (curve){t->sobp_depth, t->sobp_dose, NULL, t->sobp_n, 1, ROLE_CURVE, "physical",
                          0, 0};
        if (t->sobp_rbe_dose) {
            cv[n] = (curve){t->sobp_depth, t->sobp_rbe_dose, NULL, t->sobp_n, 1, ROLE_CURVE,
                            "RBE-weighted, Gy (RBE)", 0, 0};
            look(t, &cv[n++], 1);
        }
        return n;
    }
    int have = t->have_snap && res->nbins > 0 && res->histories > 0;
    int n = 0;
    memset(cv, 0, sizeof *cv * MAX_CURVES);
    memset(ax, 0, sizeof *ax);
    if (!have && t->n_overlays == 0) {
        snprintf(why, why_len, t->have_snap && tui_run_active(t)
                                   ? "running: the first batch is on its way"
                                   : "no run yet: r starts one");
        return 0;
    }
    int norm = normalised(t);
    switch (t->view) {
    case VIEW_DOSE:
        dose_axis(t, ax);
        for (int k = 0; k < t->n_overlays; k++) {
            const tui_overlay *o = &t->overlays[k];
            cv[n] = (curve){o->depth, o->dose, NULL, o->n,
                            norm ? plot_norm_factor(o->depth, o->dose, o->n, t->norm) : 1,
                            ROLE_CURVE, "", 0, 0};
            look(t, &cv[n], k + 1);
            snprintf(cv[n++].label, sizeof cv[0].label, "%s", o->short_label);
        }
        if (have) {
            cv[n] = (curve){res->depth, res->dose, res->dose_err, res->nbins,
                            norm ? plot_norm_factor(res->depth, res->dose, res->nbins, t->norm) : 1,
                            ROLE_CURVE, "", 0, 0};
            snprintf(cv[n++].label, sizeof cv[0].label, "%s", this_run);
        }
        break;
    case VIEW_CHARGE:
        dose_axis(t, ax);
        if (have && (res->channels <= 1 || !res->channel_dose) && t->n_overlays == 0) {
            snprintf(why, why_len, "dose by charge needs nuclear reactions (switch Nuclear on)");
            return 0;
        }
        /* Kept runs in one dim colour each (named once), the current run by charge. */
        for (int k = 0; k < t->n_overlays && n < MAX_CURVES; k++) {
            const tui_overlay *o = &t->overlays[k];
            double div = norm ? plot_norm_factor(o->depth, o->dose, o->n, t->norm) : 1;
            for (int c = 0; c < o->channels && n < MAX_CURVES; c++) {
                cv[n] = (curve){o->depth, o->channel_dose + (size_t)c * o->n, NULL, o->n, div,
                                ROLE_DIM, "", 0, 0};
                if (c == 0) snprintf(cv[n].label, sizeof cv[0].label, "kept %s", o->short_label);
                n++;
            }
        }
        if (have && res->channels > 1 && res->channel_dose) {
            double div = norm ? plot_norm_factor(res->depth, res->dose, res->nbins, t->norm) : 1;
            for (int c = 0; c < res->channels && n < MAX_CURVES; c++) {
                cv[n] = (curve){res->depth, res->channel_dose[c], NULL, res->nbins, div,
                                ROLE_CURVE, "", 0, 0};
                look(t, &cv[n], c);
                char name[32];
                channel_name(res->channels, c, name, sizeof name);
                snprintf(cv[n].label, sizeof cv[n].label,
                         c > 0 && c < res->channels - 1 ? "Z=%s" : "%s", name);
                n++;
            }
        }
        break;
    case VIEW_LET:
        snprintf(ax->quantity, sizeof ax->quantity, "LET_d and LET_t");
        snprintf(ax->unit, sizeof ax->unit, "keV/%sm", glyph("\u00b5", "u"));
        for (int k = 0; k < t->n_overlays; k++) {
            const tui_overlay *o = &t->overlays[k];
            cv[n] = (curve){o->depth, o->let_d, NULL, o->n, 1, ROLE_CURVE, "", 0, 0};
            look(t, &cv[n], k + 2);
            snprintf(cv[n++].label, sizeof cv[0].label, "LET_d %s", o->short_label);
        }
        if (have) {
            cv[n++] = (curve){res->depth, res->let_d, NULL, res->nbins, 1, ROLE_CURVE, "LET_d", 0,
                              0};
            cv[n] = (curve){res->depth, res->let_t, NULL, res->nbins, 1, ROLE_CURVE, "LET_t", 0, 0};
            look(t, &cv[n++], 1);
        }
        break;
    case VIEW_LATERAL:
    case VIEW_FLUENCE: {
        int lat = t->view == VIEW_LATERAL;
        snprintf(ax->quantity, sizeof ax->quantity, lat ? "rms of primaries" : "of primaries");
        snprintf(ax->unit, sizeof ax->unit, lat ? "cm" : "per primary");
        for (int k = 0; k < t->n_overlays; k++) {
            const tui_overlay *o = &t->overlays[k];
            cv[n] = (curve){o->depth, lat ? o->lateral : o->fluence, NULL, o->n, 1, ROLE_CURVE,
                            "", 0, 0};
            look(t, &cv[n], k + 1);
            snprintf(cv[n++].label, sizeof cv[0].label, "%s", o->short_label);
        }
        if (have) {
            cv[n] = (curve){res->depth, lat ? res->lateral_rms : res->fluence, NULL, res->nbins, 1,
                            ROLE_CURVE, "", 0, 0};
            snprintf(cv[n++].label, sizeof cv[0].label, "%s", this_run);
        }
        break;
    case VIEW_BIO: {
        const bio_curves *b = &t->snap.bio;
        if (!have || !b->nbins || b->nbins != res->nbins) {
            snprintf(why, why_len, "biology: choose a model in the Biology field, then r");
            return 0;
        }
        /* The RBE-weighted dose per unit fluence: the physical curve times the RBE at the
         * model's dose, kept in a buffer of the UI thread's. */
        static double *weighted;
        static int cap;
        if (cap < b->nbins) {
            double *grown = realloc(weighted, (size_t)b->nbins * sizeof *grown);
            if (!grown) {
                snprintf(why, why_len, "out of memory");
                return 0;
            }
            weighted = grown;
            cap = b->nbins;
        }
        double top = 0, peak_rbe = 0, entrance = b->rbe[0];
        for (int i = 0; i < b->nbins; i++) top = fmax(top, res->dose[i]);
        for (int i = 0; i < b->nbins; i++) {
            weighted[i] = isfinite(b->rbe[i]) ? res->dose[i] * b->rbe[i] : NAN;
            /* The largest RBE where the dose counts (not in the far tail). */
            if (isfinite(b->rbe[i]) && res->dose[i] > 0.05 * top && b->rbe[i] > peak_rbe)
                peak_rbe = b->rbe[i];
        }
        /* The RBE range is the quantity: the title keeps it where there is room (the unit
         * and its power of ten always). */
        snprintf(ax->quantity, sizeof ax->quantity, "RBE %.2f%s%.2f at %g Gy", entrance,
                 glyph("\u2192", "->"), peak_rbe, b->dose);
        snprintf(ax->unit, sizeof ax->unit, "Gy cm%s/primary", glyph("\u00b2", "2"));
        cv[n++] = (curve){res->depth, res->dose, NULL, res->nbins, 1, ROLE_CURVE, "physical", 0, 0};
        /* Its unit is the title's with Gy (RBE), the usual unit of RBE-weighted dose, for Gy. */
        cv[n] = (curve){res->depth, weighted, NULL, res->nbins, 1, ROLE_CURVE, "", 0, 0};
        look(t, &cv[n], 1);
        snprintf(cv[n++].label, sizeof cv[0].label, "RBE-weighted, Gy (RBE) cm%s",
                 glyph("\u00b2", "2"));
        break;
    }
    }
    default: break;
    }
    if (n == 0) snprintf(why, why_len, "no run yet: r starts one");
    return n;
}

/* A plot cell's text: its braille dots, or in ASCII the pattern's mark (or the dots' shape). */
static void cell_text(uint8_t bits, int pattern, char out[4])
{
    if (draw_utf8()) {
        braille_cell_utf8(bits, out);
        return;
    }
    out[0] = bits && pattern ? patterns[pattern].mark : braille_cell_ascii(bits);
    out[1] = '\0';
}

/* The legend's key of a curve: a line for a solid one in colour; else three cells of its dash
 * pattern on a flat line (six dots, which holds every pattern's gap), drawn as the plot
 * draws it. */
static void curve_key(const tui_state *t, int pattern, char *out, size_t len)
{
    const struct curve_pattern *st = pattern ? &patterns[pattern] : NULL;
    if (t->colour && !st) {
        snprintf(out, len, "%s", glyph("\u2501", "-"));
        return;
    }
    size_t at = 0;
    out[0] = '\0';
    for (int col = 0; col < 3; col++) {
        uint8_t bits = 0;
        for (int dx = 0; dx < 2; dx++)
            if (braille_dash_on(st ? st->dashes : NULL, 2 * col + dx))
                bits |= braille_dot_bit(dx, 2);
        char cell[4];
        cell_text(bits, pattern, cell);
        /* ASCII: the flat line of a solid curve as dashes, not the dots' shape ("..."). */
        if (!draw_utf8() && bits && !st) cell[0] = '-';
        at += (size_t)snprintf(out + at, at < len ? len - at : 0, "%s", cell);
    }
}

/* The depth axis spans exactly [0, x_end] (the scored depth), not the loose tick range, so
 * every column buys resolution; only ticks inside it are drawn. */
static int dot_x(double x, double x_end, int cols)
{
    return (int)lround(x / x_end * (2 * cols - 1));
}

/* The y mapping: linear over [0, top], or logarithmic over [lo, top]. */
typedef struct y_map {
    int log;
    double lo, top;
    int rows;
} y_map;

static int dot_y(double y, const y_map *m)
{
    double f = m->log ? (log10(m->top) - log10(y)) / (log10(m->top) - log10(m->lo))
                      : (m->top - y) / (m->top - m->lo);
    return (int)lround(f * (4 * m->rows - 1));
}

static void copy_text(char *out, size_t len, const char *text)
{
    size_t k = strlen(text);
    if (k >= len) k = len - 1;
    memcpy(out, text, k);
    out[k] = '\0';
}

void plot_panel_fit_title(const char *view, const char *quantity, const char *unit,
                          const char *mult, int room, char *out, size_t len, int *mult_on_axis)
{
    char c[5][320];   /* view, quantity, unit (64 each), power of ten and separators */
    const char *q = quantity;
    snprintf(c[0], sizeof c[0], "%s: %s, %s%s", view, q, unit, mult);
    snprintf(c[1], sizeof c[1], "%s, %s%s", view, unit, mult);
    snprintf(c[2], sizeof c[2], "%s%s", unit, mult);
    snprintf(c[3], sizeof c[3], "%s, %s", view, unit);
    snprintf(c[4], sizeof c[4], "%s", unit);
    *mult_on_axis = 0;
    for (int i = 0; i < 5; i++) {
        if (i == 0 && !*q) continue;
        if (draw_width(c[i]) <= room) {
            copy_text(out, len, c[i]);
            *mult_on_axis = i >= 3 && *mult;
            return;
        }
    }
    copy_text(out, len, c[4]);
    *mult_on_axis = *mult != 0;
}

/* Tick labels of a log axis: 1e-8, 0.01, 1, 100, 1e4 (at most 5 columns). */
static void log_label(double v, char *out, size_t len)
{
    int k = (int)lround(log10(v));
    if (k >= -2 && k <= 3) snprintf(out, len, "%g", pow(10, k));
    else snprintf(out, len, "1e%d", k);
}

/* Slabs of the current run: boundaries as dotted columns over empty cells, every other slab
 * stippled (shaded), their names in the top row where there is room. */
static void draw_slabs(const tui_state *t, const braille_canvas *cv, int cx, int cy, int cw, int ch,
                       double xmax)
{
    if (!t->en || t->view == VIEW_SOBP) return;   /* an SOBP is one material, not the run's */
    const run_config *c = engine_config(t->en);
    if (c->n_slabs < 2 && !(c->n_slabs == 1 && isfinite(c->slabs[0].thickness_cm))) return;
    attr_t dim = draw_attr(ROLE_DIM);
    double z = 0;
    for (int i = 0; i < c->n_slabs && z < xmax; i++) {
        double end = isfinite(c->slabs[i].thickness_cm) ? z + c->slabs[i].thickness_cm : INFINITY;
        int c0 = dot_x(z, xmax, cw) / 2, c1 = isfinite(end) ? dot_x(fmin(end, xmax), xmax, cw) / 2 : cw;
        if (c1 > cw) c1 = cw;
        for (int row = 0; row < ch; row++)
            for (int col = c0; col < c1; col++) {
                if (braille_cell_bits(cv, col, row)) continue;
                if (i > 0 && col == c0) draw_text(cy + row, cx + col, 1, dim, glyph("\u250a", ":"));
                else if (i % 2 == 1 && row % 2 == 1 && col % 2 == 0)
                    draw_text(cy + row, cx + col, 1, dim, glyph("\u00b7", "."));
            }
        char name[CONFIG_NAME_LEN];
        tui_material_short(t, c->slabs[i].material, name, sizeof name);
        int len = draw_width(name), free_run = 0;
        for (int col = c0 + 1; col < c1 && col < c0 + 1 + len; col++)
            free_run += !braille_cell_bits(cv, col, 0);
        if (c1 - c0 >= len + 2 && free_run == len) draw_text(cy, cx + c0 + 1, len, dim, name);
        z = end;
    }
}

/* A legend entry: its text (a curve's key and name, a hint, the markers) and attribute;
 * `curve` entries that find no room are counted in a "+N more". */
typedef struct legend_item {
    char text[128];
    attr_t attr;
    int curve;
} legend_item;

/* Where the next entry `w` columns wide goes in a legend of `rows` rows of `width` columns:
 * on the row at (*row, *col), else at the start of the next; 0 when neither has room. */
static int legend_place(int w, int width, int rows, int *row, int *col)
{
    if (*col + w > width) {
        if (*row + 1 >= rows || w > width) return 0;
        (*row)++;
        *col = 0;
    }
    return 1;
}

/* The legend from (y, x): each entry whole or not at all (never cut), in order. Once a curve
 * finds no room the curves after it are left out too, and "+N more" says how many, in the
 * place of the last curve drawn if it needs that room. */
static void draw_legend(int y, int x, int width, int rows, const legend_item *items, int n)
{
    int at_row[MAX_CURVES + 2], at_col[MAX_CURVES + 2], shown[MAX_CURVES + 2] = {0};
    int before_row[MAX_CURVES + 2], before_col[MAX_CURVES + 2];
    int row = 0, col = 0, hidden = 0;
    char more[32] = "";
    int more_row = 0, more_col = 0;
    for (int i = 0; i <= n; i++) {
        int curve_ended = hidden && (i == n || !items[i].curve);
        if (curve_ended && !more[0]) {
            /* "+N more" after the curves shown, in place of the last ones if need be. */
            for (;;) {
                snprintf(more, sizeof more, "+%d more", hidden);
                int r = row, c = col;
                if (legend_place(draw_width(more), width, rows, &r, &c)) {
                    more_row = r;
                    more_col = c;
                    row = r;
                    col = c + draw_width(more) + 2;
                    break;
                }
                int last = -1;
                for (int k = i - 1; k >= 0 && last < 0; k--)
                    if (shown[k] && items[k].curve) last = k;
                if (last < 0) {
                    more[0] = ' ';   /* no room at all: said nowhere */
                    break;
                }
                shown[last] = 0;
                hidden++;
                row = before_row[last];
                col = before_col[last];
            }
        }
        if (i == n) break;
        if (items[i].curve && hidden) {
            hidden++;
            continue;
        }
        int w = draw_width(items[i].text);
        before_row[i] = row;
        before_col[i] = col;
        if (legend_place(w, width, rows, &row, &col)) {
            shown[i] = 1;
            at_row[i] = row;
            at_col[i] = col;
            col += w + 2;
        } else if (items[i].curve) {
            hidden = 1;
        }
    }
    for (int i = 0; i < n; i++)
        if (shown[i])
            draw_text(y + at_row[i], x + at_col[i], draw_width(items[i].text), items[i].attr,
                      items[i].text);
    if (more[0] == '+')
        draw_text(y + more_row, x + more_col, draw_width(more), draw_attr(ROLE_DIM), more);
}

/* 1 when the current run has curves to show. */
static int have_current(const tui_state *t)
{
    return t->en && t->have_snap && t->snap.result.nbins > 0 && t->snap.result.histories > 0;
}

/* The longest range among the runs a view shows, for the unit of its depth axis: the CSDA
 * depths of the current run and the kept ones, or the SOBP's distal end; `xmax` (the axis'
 * length) when none is known. */
static double shown_range(const tui_state *t, double xmax)
{
    double range = 0;
    if (t->view == VIEW_SOBP) {
        const cJSON *to = t->sobp ? cJSON_GetObjectItem(t->sobp, "to_cm") : NULL;
        range = cJSON_IsNumber(to) ? to->valuedouble : 0;
    } else {
        if (t->en && t->have_snap && t->snap.result.histories > 0) range = engine_csda_depth(t->en);
        for (int k = 0; k < t->n_overlays; k++) range = fmax(range, t->overlays[k].csda_cm);
    }
    return range > 0 ? range : xmax;
}

static void draw_curves(const tui_state *t, const ui_rect *r)
{
    curve cv[MAX_CURVES];
    y_axis_text ax;
    char why[160];
    int n = gather(t, cv, &ax, why, sizeof why);
    char view[64];
    int logy = t->log_scale && plot_view_has_log(t->view);
    snprintf(view, sizeof view, "%s%s", plot_view_name(t->view), logy ? " (log)" : "");
    if (n == 0) {
        draw_box(r, view, 0);
        draw_centred(r, draw_attr(ROLE_DIM), why);
        return;
    }
    /* Ranges over every curve (and the band of the current run). */
    double xmax = 0, ymax = 0, ymin_pos = INFINITY;
    for (int k = 0; k < n; k++)
        for (int i = 0; i < cv[k].n; i++) {
            double y = cv[k].y[i] / cv[k].divisor;
            if (!isfinite(y)) continue;
            double top = y + (cv[k].err && isfinite(cv[k].err[i]) ? cv[k].err[i] / cv[k].divisor : 0);
            if (top > ymax) ymax = top;
            if (y > 0 && y < ymin_pos) ymin_pos = y;
            if (cv[k].x[i] > xmax) xmax = cv[k].x[i];
        }
    if (!(ymax > 0)) ymax = 1;
    if (!(xmax > 0)) xmax = 1;
    /* Linear: very small or large numbers get a common power of ten (the title or the axis
     * says which), so tick labels stay short. Log: labels are powers of ten themselves. */
    int exponent = 0;
    if (!logy && (ymax < 0.01 || ymax >= 1e4)) exponent = (int)floor(log10(ymax));
    double yscale = pow(10, -exponent);
    char mult[32] = "", title[200];
    if (exponent != 0) snprintf(mult, sizeof mult, " %s1e%d", glyph("\u00d7", "x"), exponent);
    int mult_on_axis;
    plot_panel_fit_title(view, ax.quantity, ax.unit, mult, r->w - 6, title, sizeof title,
                         &mult_on_axis);
    draw_box(r, title, 0);

    int ix = r->x + 1, iy = r->y + 1, iw = r->w - 2, ih = r->h - 2;
    /* Legend: a hint when the plot shows a previous setup, every curve by name and key, the
     * peak and R80 (or why there is none); one row, or two when they need them. */
    const score_result *res = &t->snap.result;
    legend_item items[MAX_CURVES + 2];
    int n_items = 0, legend_w = 0;
    int sobp_outdated = t->view == VIEW_SOBP && tui_setup_changed(t, &t->sobp_cfg, 1);
    if (sobp_outdated || (t->view != VIEW_SOBP && have_current(t) && tui_run_outdated(t)))
        items[n_items++] = (legend_item){"", draw_attr(ROLE_MARKER) | A_BOLD, 0};
    if (n_items)
        snprintf(items[0].text, sizeof items[0].text, "%s",
                 sobp_outdated ? TUI_SOBP_OUTDATED_HINT : TUI_RUN_OUTDATED_HINT);
    /* In dose by charge a kept run is one dim entry for all its charges: named first, or the
     * current run's many charges leave it out. Then every curve, the current run's first
     * (drawn last, on top). */
    for (int pass = 0; pass < 2; pass++) {
        for (int k = n - 1; k >= 0; k--) {
            if (!cv[k].label[0] || (cv[k].role == ROLE_DIM) != (pass == 0)) continue;
            char key[16];
            curve_key(t, cv[k].pattern, key, sizeof key);
            legend_item *it = &items[n_items++];
            *it = (legend_item){"", draw_attr(cv[k].role) | cv[k].weight, 1};
            snprintf(it->text, sizeof it->text, "%s %s", key, cv[k].label);
        }
    }
    int no_peak = 0;
    if (t->view == VIEW_DOSE && have_current(t)) {
        /* A beam past the stack, or whose highest dose lies well before its range, has no
         * Bragg peak to mark: the legend gives the note's reason (report_figures_note; the
         * status line the whole note when the run ends). What is read off the dose is
         * decided on the final snapshot: a peak near the line flipped from frame to frame. */
        char note[512];
        figures_note_kind kind = report_figures_note(t->en, res, note, sizeof note);
        if (kind >= FIGURES_NOTE_SPREAD && !t->final_snap) kind = FIGURES_NOTE_NONE;
        no_peak = kind != FIGURES_NOTE_NONE;
        legend_item *it = &items[n_items];
        *it = (legend_item){"", draw_attr(ROLE_MARKER), 0};
        if (no_peak) {
            snprintf(it->text, sizeof it->text, "no Bragg peak: %s",
                     report_figures_note_brief(kind));
            n_items++;
        } else if (isfinite(res->fig.peak_depth) && isfinite(res->fig.r80)) {
            depth_unit ru = depth_unit_for(engine_csda_depth(t->en));
            snprintf(it->text, sizeof it->text, "%s peak %.2f  %s R80 %.2f %s",
                     glyph("\u25b2", "^"), res->fig.peak_depth * ru.per_cm, glyph("\u25b3", "r"),
                     res->fig.r80 * ru.per_cm, glyph(ru.symbol, ru.name));
            n_items++;
        }
    }
    for (int k = 0; k < n_items; k++) legend_w += draw_width(items[k].text) + 2;
    int legend_rows = ih >= 14 && legend_w > iw - 1 ? 2 : 1;
    const int ylw = 6;
    int ax_col = ix + ylw, cx = ax_col + 1, cw = ix + iw - cx, cy = iy + legend_rows;
    int ch = ih - legend_rows - 2;
    if (cw < 8 || ch < 2) {
        draw_centred(r, draw_attr(ROLE_DIM), "(too small to plot)");
        return;
    }
    /* Depths in the unit of the longest range shown (src/output/depth_unit.h): p 1 MeV's
     * axis in cm had one label, "0.000". */
    depth_unit du = depth_unit_for(shown_range(t, xmax));
    axis_ticks xt, yt;
    axis_ticks_inside(xmax * du.per_cm, cw / 9 > 2 ? cw / 9 : 2, cw / 4, &xt);
    y_map ym = {logy, 0, 0, ch};
    if (logy) {
        /* Three decades below the top: fragments show (a per-mille of the peak and up), the
         * counting noise of rare ones does not fill the plot. */
        double lo = fmax(isfinite(ymin_pos) ? ymin_pos : ymax * 1e-3, ymax * 1e-3);
        ym.lo = pow(10, floor(log10(lo)));
        ym.top = pow(10, ceil(log10(ymax)));
        if (!(ym.top > ym.lo)) ym.top = ym.lo * 10;
    } else {
        /* The axis ends just above the data (normalised curves fill the plot), with nice
         * ticks inside it. */
        axis_ticks_nice(0, ymax * yscale, ch / 3 > 2 ? ch / 3 : 2, &yt);
        ym.lo = 0;
        ym.top = ymax * yscale * 1.04;
    }

    braille_canvas canvas;
    if (braille_init(&canvas, cw, ch)) {
        draw_centred(r, draw_attr(ROLE_ERROR), "out of memory");
        return;
    }
    /* Layers: 1 the band, then the curves in order (the current run, last, on top): layer
     * 2 + k is curve k. */
    for (int k = 0; k < n; k++) {
        const curve *c = &cv[k];
        braille_pen pen = {patterns[c->pattern].dashes, 2 + k, 0, 0, 0};
        int have_prev = 0, px = 0, plo = 0, phi = 0;
        for (int i = 0; i < c->n; i++) {
            double y = c->y[i] / c->divisor * yscale;
            if (!isfinite(y) || !isfinite(c->x[i]) || (logy && y <= 0)) {
                have_prev = 0;
                continue;
            }
            if (logy && y < ym.lo) y = ym.lo;
            int X = dot_x(c->x[i], xmax, cw), Y = dot_y(y, &ym);
            if (c->err && isfinite(c->err[i]) && !logy) {
                double s = c->err[i] / c->divisor * yscale;
                int lo = dot_y(y - s, &ym), hi = dot_y(y + s, &ym);
                /* The band shows only where it is wider than the line itself. */
                if (lo - hi >= 2 && have_prev) {
                    braille_line(&canvas, px, plo, X, lo, 1);
                    braille_line(&canvas, px, phi, X, hi, 1);
                }
                plo = lo;
                phi = hi;
            }
            if (have_prev) braille_pen_to(&canvas, &pen, X, Y);
            else braille_pen_start(&canvas, &pen, X, Y);
            px = X;
            have_prev = 1;
        }
    }
    /* Peak and R80 of the current run, in the depth-dose view. */
    int peak_col = -1, r80_col = -1;
    if (t->view == VIEW_DOSE && have_current(t)) {
        if (!no_peak && isfinite(res->fig.peak_depth))
            peak_col = dot_x(res->fig.peak_depth, xmax, cw) / 2;
        if (!no_peak && isfinite(res->fig.r80)) r80_col = dot_x(res->fig.r80, xmax, cw) / 2;
    }
    for (int row = 0; row < ch; row++)
        for (int col = 0; col < cw; col++) {
            uint8_t bits = braille_cell_bits(&canvas, col, row);
            if (!bits) {
                if (col == peak_col && row % 2 == 0)
                    draw_text(cy + row, cx + col, 1, draw_attr(ROLE_MARKER) | A_DIM,
                              glyph("\u2502", ":"));
                continue;
            }
            int layer = braille_cell_layer(&canvas, col, row);
            const curve *c = layer >= 2 ? &cv[layer - 2] : NULL;
            char cell[4];
            cell_text(bits, c ? c->pattern : 0, cell);
            attr_t a = c ? draw_attr(c->role) | c->weight : draw_attr(ROLE_BAND);
            draw_text(cy + row, cx + col, 1, a, cell);
        }
    draw_slabs(t, &canvas, cx, cy, cw, ch, xmax);
    braille_free(&canvas);

    /* Axes: the y axis with its labels, then the depth axis, its ticks and the markers. */
    attr_t axis = draw_attr(ROLE_DIM);
    for (int row = 0; row < ch; row++) draw_text(cy + row, ax_col, 1, axis, glyph("\u2502", "|"));
    if (logy) {
        int k0 = (int)lround(log10(ym.lo)), k1 = (int)lround(log10(ym.top));
        int step = (k1 - k0) > ch / 2 ? 2 : 1;
        for (int k = k1; k >= k0; k -= step) {
            int row = dot_y(pow(10, k), &ym) / 4;
            if (row < 0 || row >= ch) continue;
            char lab[16];
            log_label(pow(10, k), lab, sizeof lab);
            draw_textf(cy + row, ix, ylw, A_NORMAL, "%*s", ylw, lab);
            draw_text(cy + row, ax_col, 1, axis, glyph("\u2524", "+"));
        }
    } else {
        for (int i = 0; i < yt.count; i++) {
            double v = axis_tick_value(&yt, i);
            if (v > ym.top) continue;
            int row = dot_y(v, &ym) / 4;
            if (row < 0 || row >= ch) continue;
            draw_textf(cy + row, ix, ylw, A_NORMAL, "%*.*f", ylw, yt.decimals, v);
            draw_text(cy + row, ax_col, 1, axis, glyph("\u2524", "+"));
        }
    }
    int axis_y = cy + ch, label_y = axis_y + 1;
    draw_text(axis_y, ax_col, 1, axis, glyph("\u2514", "+"));
    for (int col = 0; col < cw; col++) draw_text(axis_y, cx + col, 1, axis, glyph("\u2500", "-"));
    /* The unit of depth always shows, at the axis' end; tick labels make room for it. */
    int unit_col = cw - 2;
    draw_text(label_y, cx + unit_col, 2, axis, glyph(du.symbol, du.name));
    int last_end = -1;
    for (int i = 0; i < xt.count; i++) {
        double v = axis_tick_value(&xt, i);
        if (v > xmax * du.per_cm * (1 + 1e-9)) break;
        int col = dot_x(v / du.per_cm, xmax, cw) / 2;
        if (col < 0 || col >= cw) continue;
        draw_text(axis_y, cx + col, 1, axis, glyph("\u2534", "+"));
        char lab[32];
        snprintf(lab, sizeof lab, "%.*f", xt.decimals, v);
        int len = (int)strlen(lab);
        /* Left-aligned on its tick; a tick too near the unit has its label end on the tick
         * instead (the depth axis' last tick went unlabelled: "0  5  cm" under 0, 5, 10). */
        int at = col + len < unit_col ? col : col - len + 1;
        if (at > last_end && at >= 0 && at + len < unit_col) {
            draw_text(label_y, cx + at, len, A_NORMAL, lab);
            last_end = at + len;
        }
    }
    /* The power of ten, when the title had no room for it: under the y labels, beside the
     * depth axis' origin, where no tick label goes. */
    if (mult_on_axis) draw_text(label_y, ix, ylw, axis, mult + 1);
    if (r80_col >= 0 && r80_col < cw)
        draw_text(axis_y, cx + r80_col, 1, draw_attr(ROLE_MARKER), glyph("\u25b3", "r"));
    if (peak_col >= 0 && peak_col < cw)
        draw_text(axis_y, cx + peak_col, 1, draw_attr(ROLE_MARKER), glyph("\u25b2", "^"));

    draw_legend(iy, ix + 1, iw - 1, legend_rows, items, n_items);
}

static void draw_race(const tui_state *t, const ui_rect *r)
{
    char beam[96], title[200];
    tui_beam_label(t, &t->race_cfg, beam, sizeof beam);
    /* The race's own setup (as it started), shortened to fit, never cut mid-word. */
    snprintf(title, sizeof title, "race %s %s, %llu histories", glyph("\u00b7", "-"), beam,
             (unsigned long long)t->race_cfg.histories);
    if (draw_width(title) > r->w - 6) snprintf(title, sizeof title, "race: %s", beam);
    if (draw_width(title) > r->w - 6) snprintf(title, sizeof title, "benchmark race");
    draw_box(r, t->race_n ? title : "benchmark race", 0);
    if (t->race_n == 0) {
        draw_centred(r, draw_attr(ROLE_DIM),
                     "b races serial, OpenMP 1..N threads, event, simd and CUDA");
        return;
    }
    double max_hps = 0, base = 0;
    for (int i = 0; i < t->race_n; i++) {
        const race_entry *e = &t->race[i];
        if (!e->done) continue;
        if (e->hps > max_hps) max_hps = e->hps;
        /* Speedup against one OpenMP thread, else serial, as `bragg bench` reports it. */
        if (strcmp(e->backend, "openmp") == 0 && e->threads == 1) base = e->hps;
    }
    if (base == 0)
        for (int i = 0; i < t->race_n; i++)
            if (t->race[i].done && strcmp(t->race[i].backend, "serial") == 0) base = t->race[i].hps;
    int ix = r->x + 2, iw = r->w - 4, y = r->y + 1;
    draw_text_fit(y++, ix, iw, draw_attr(ROLE_DIM), "hist/s, speedup over 1 thread, efficiency");
    /* "  123456/s ×1.95   98%": 22 columns; the bar takes what is left. */
    int label_w = 10, tail_w = 23, bar_w = iw - label_w - tail_w;
    if (bar_w < 3) bar_w = 3;
    for (int i = 0; i < t->race_n && y < r->y + r->h - 1; i++, y++) {
        const race_entry *e = &t->race[i];
        char label[32];
        if (strcmp(e->backend, "openmp") == 0) snprintf(label, sizeof label, "openmp %d", e->threads);
        else snprintf(label, sizeof label, "%s", e->backend);
        draw_text(y, ix, label_w, A_BOLD, label);
        if (e->skipped) {
            char msg[320];
            snprintf(msg, sizeof msg, "n/a: %s", t->cuda_reason);
            draw_text_fit(y, ix + label_w, iw - label_w, draw_attr(ROLE_ERROR), msg);
            continue;
        }
        if (!e->done) {
            const run_snapshot *s = &t->race_snap;
            if (t->race_active && i == t->race_at && t->race_have_snap &&
                s->histories_total > 0) {
                double f = (double)s->histories_done / s->histories_total;
                draw_bar(y, ix + label_w, bar_w, f, draw_attr(ROLE_DIM));
                draw_textf(y, ix + label_w + bar_w + 1, tail_w - 1, draw_attr(ROLE_DIM),
                           "running %3.0f%%", 100 * f);
            } else {
                draw_text(y, ix + label_w, iw - label_w, draw_attr(ROLE_DIM),
                          e->not_run ? "not run" : "waiting");
            }
            continue;
        }
        draw_bar(y, ix + label_w, bar_w, max_hps > 0 ? e->hps / max_hps : 0,
                 draw_attr(draw_series_role(i)));
        int threads = e->threads > 0 ? e->threads : 1;
        double speedup = base > 0 ? e->hps / base : NAN;
        char rate[16];
        format_rate(e->hps, rate, sizeof rate);
        draw_textf(y, ix + label_w + bar_w + 1, tail_w - 1, A_NORMAL, "%8s/s %s%.2f %4.0f%%", rate,
                   glyph("\u00d7", "x"), speedup, 100 * speedup / threads);
    }
}

void plot_panel_draw(const tui_state *t, const ui_rect *r)
{
    if (t->view == VIEW_RACE) draw_race(t, r);
    else if (t->view == VIEW_MAP) map_panel_draw(t, r);
    else draw_curves(t, r);
}
