/* plot.c - see plot.h. */
#include "plot.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairo-pdf.h>
#include <cairo-svg.h>

#include "atomic_file.h"
#include "axis_ticks.h"
#include "png_file.h"

#define PLOT_PI 3.14159265358979323846

/* ------------------------------------------------------------------------------------------ */
/* The figure description                                                                     */

static int set_string(char **field, const char *s, bragg_err *e)
{
    free(*field);
    *field = NULL;
    if (!s) return BRAGG_OK;
    *field = strdup(s);
    if (!*field) return bragg_fail(e, "plot: out of memory");
    /* Text from a JSON file may be any bytes; cairo refuses a figure whose text is not UTF-8
     * and PNG text chunks must be. A stray byte shows as '?' instead of failing the figure. */
    bragg_utf8_repair(*field);
    return BRAGG_OK;
}

void plot_figure_init(plot_figure *f, plot_type type)
{
    memset(f, 0, sizeof *f);
    f->type = type;
    f->y_from_zero = 1;
    f->log_floor = 1e-6;
}

static void series_free(plot_series *s)
{
    free(s->label);
    free(s->x);
    free(s->y);
    free(s->err);
    if (s->notes)
        for (int i = 0; i < s->n; i++) free(s->notes[i]);
    free(s->notes);
}

void plot_figure_free(plot_figure *f)
{
    free(f->title);
    free(f->footer);
    free(f->note);
    free(f->x_label);
    free(f->x_unit);
    free(f->y_label);
    free(f->y_unit);
    free(f->y2_label);
    free(f->y2_unit);
    for (int i = 0; i < f->n_series; i++) series_free(&f->series[i]);
    for (int i = 0; i < f->n_markers; i++) free(f->markers[i].label);
    for (int i = 0; i < f->n_regions; i++) free(f->regions[i].label);
    for (int i = 0; i < f->n_groups; i++) free(f->groups[i]);
    for (int i = 0; i < f->n_meta; i++) {
        free(f->meta_key[i]);
        free(f->meta_value[i]);
    }
    free(f->heat.z);
    free(f->heat.z_label);
    free(f->heat.z_unit);
    memset(f, 0, sizeof *f);
}

int plot_set_title(plot_figure *f, const char *title, bragg_err *e)
{
    return set_string(&f->title, title, e);
}

int plot_set_footer(plot_figure *f, const char *footer, bragg_err *e)
{
    return set_string(&f->footer, footer, e);
}

int plot_set_note(plot_figure *f, const char *note, bragg_err *e)
{
    return set_string(&f->note, note, e);
}

int plot_set_axes(plot_figure *f, const char *x_label, const char *x_unit, const char *y_label,
                  const char *y_unit, bragg_err *e)
{
    if (set_string(&f->x_label, x_label, e) || set_string(&f->x_unit, x_unit, e) ||
        set_string(&f->y_label, y_label, e) || set_string(&f->y_unit, y_unit, e))
        return BRAGG_ERR;
    return BRAGG_OK;
}

int plot_set_right_axis(plot_figure *f, const char *label, const char *unit, bragg_err *e)
{
    if (set_string(&f->y2_label, label, e) || set_string(&f->y2_unit, unit, e)) return BRAGG_ERR;
    return BRAGG_OK;
}

static double *copy_doubles(const double *v, int n)
{
    if (!v) return NULL;
    double *c = malloc((size_t)(n > 0 ? n : 1) * sizeof *c);
    if (c && n > 0) memcpy(c, v, (size_t)n * sizeof *c);
    return c;
}

int plot_add_series(plot_figure *f, const char *label, int n, const double *x, const double *y,
                    const double *err, bragg_err *e)
{
    if (f->n_series >= PLOT_MAX_SERIES)
        return bragg_fail(e, "plot: at most %d series in one figure", PLOT_MAX_SERIES);
    if (n < 0 || (n > 0 && (!x || !y))) return bragg_fail(e, "plot: a series needs x and y");
    plot_series *s = &f->series[f->n_series];
    memset(s, 0, sizeof *s);
    s->n = n;
    s->colour = f->n_series;
    /* A series of no points is a legend entry only (e.g. a line style that stands for a run). */
    static const double none = 0;
    s->x = copy_doubles(n > 0 ? x : &none, n);
    s->y = copy_doubles(n > 0 ? y : &none, n);
    s->err = copy_doubles(err, n);
    if (!s->x || !s->y || (err && !s->err) || set_string(&s->label, label, e)) {
        series_free(s);
        return bragg_fail(e, "plot: out of memory");
    }
    return f->n_series++;
}

int plot_add_group(plot_figure *f, const char *label, bragg_err *e)
{
    if (f->n_groups >= PLOT_MAX_GROUPS)
        return bragg_fail(e, "plot: at most %d bar groups in one figure", PLOT_MAX_GROUPS);
    f->groups[f->n_groups] = NULL;
    if (set_string(&f->groups[f->n_groups], label ? label : "", e)) return BRAGG_ERR;
    return f->n_groups++;
}

int plot_add_bars(plot_figure *f, const char *label, const double *values,
                  const char *const *notes, bragg_err *e)
{
    if (f->n_series >= PLOT_MAX_SERIES)
        return bragg_fail(e, "plot: at most %d bar series in one figure", PLOT_MAX_SERIES);
    plot_series *s = &f->series[f->n_series];
    memset(s, 0, sizeof *s);
    s->n = f->n_groups;
    s->colour = f->n_series;
    s->y = copy_doubles(values, s->n);
    s->notes = calloc((size_t)(s->n > 0 ? s->n : 1), sizeof *s->notes);
    int ok = s->y && s->notes && set_string(&s->label, label, e) == BRAGG_OK;
    for (int i = 0; ok && notes && i < s->n; i++)
        if (notes[i] && !(s->notes[i] = strdup(notes[i]))) ok = 0;
    if (!ok) {
        series_free(s);
        return bragg_fail(e, "plot: out of memory");
    }
    return f->n_series++;
}

int plot_add_marker(plot_figure *f, double x0, double x1, const char *label, bragg_err *e)
{
    if (f->n_markers >= PLOT_MAX_MARKERS)
        return bragg_fail(e, "plot: at most %d markers in one figure", PLOT_MAX_MARKERS);
    plot_marker *m = &f->markers[f->n_markers];
    m->x0 = x0;
    m->x1 = x1;
    m->label = NULL;
    if (set_string(&m->label, label, e)) return BRAGG_ERR;
    return f->n_markers++;
}

int plot_add_region(plot_figure *f, double x0, double x1, const char *label, bragg_err *e)
{
    if (f->n_regions >= PLOT_MAX_REGIONS)
        return bragg_fail(e, "plot: at most %d regions in one figure", PLOT_MAX_REGIONS);
    plot_region *g = &f->regions[f->n_regions];
    g->x0 = x0;
    g->x1 = x1;
    g->label = NULL;
    if (set_string(&g->label, label, e)) return BRAGG_ERR;
    return f->n_regions++;
}

int plot_set_heatmap(plot_figure *f, int nx, int ny, double x0, double dx, double y0, double dy,
                     const double *z, bragg_err *e)
{
    if (nx < 1 || ny < 1 || !(dx > 0) || !(dy > 0) || !isfinite(x0) || !isfinite(y0))
        return bragg_fail(e, "plot: a heat map needs cells (%d x %d, %g x %g)", nx, ny, dx, dy);
    double *copy = copy_doubles(z, nx * ny);
    if (!copy) return bragg_fail(e, "plot: out of memory");
    free(f->heat.z);
    f->heat.z = copy;
    f->heat.nx = nx;
    f->heat.ny = ny;
    f->heat.x0 = x0;
    f->heat.dx = dx;
    f->heat.y0 = y0;
    f->heat.dy = dy;
    return BRAGG_OK;
}

int plot_set_colour_bar(plot_figure *f, const char *label, const char *unit, int log,
                        bragg_err *e)
{
    f->heat.log = log;
    if (!(f->heat.log_decades > 0)) f->heat.log_decades = 4;
    return set_string(&f->heat.z_label, label, e) || set_string(&f->heat.z_unit, unit, e)
               ? BRAGG_ERR
               : BRAGG_OK;
}

int plot_add_meta(plot_figure *f, const char *key, const char *value, bragg_err *e)
{
    size_t len = strlen(key);
    if (len < 1 || len > 79)
        return bragg_fail(e, "plot: metadata key %s is not 1-79 characters", BRAGG_QUOTED(key));
    if (f->n_meta >= PLOT_MAX_META)
        return bragg_fail(e, "plot: at most %d metadata entries in one figure", PLOT_MAX_META);
    f->meta_key[f->n_meta] = f->meta_value[f->n_meta] = NULL;
    if (set_string(&f->meta_key[f->n_meta], key, e) ||
        set_string(&f->meta_value[f->n_meta], value ? value : "", e)) {
        free(f->meta_key[f->n_meta]);
        return BRAGG_ERR;
    }
    f->n_meta++;
    return BRAGG_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Style                                                                                      */

void plot_style_default(plot_style *s)
{
    s->width = 1600;
    s->height = 1000;
    s->scale = 1;
    s->theme = PLOT_THEME_LIGHT;
}

/* One side of "WxH": 1 to 6 decimal digits (sscanf's %d overflowed silently on larger ones). */
static int parse_side(const char *p, const char *end, int *out)
{
    if (end - p < 1 || end - p > 6) return BRAGG_ERR;
    int v = 0;
    for (; p < end; p++) {
        if (*p < '0' || *p > '9') return BRAGG_ERR;
        v = 10 * v + (*p - '0');
    }
    *out = v;
    return BRAGG_OK;
}

int plot_parse_size(const char *text, plot_style *s, bragg_err *e)
{
    int w = 0, h = 0;
    const char *x = strchr(text, 'x');
    if (!x || parse_side(text, x, &w) || parse_side(x + 1, x + 1 + strlen(x + 1), &h) ||
        w < PLOT_MIN_WIDTH || h < PLOT_MIN_HEIGHT || w > PLOT_MAX_SIDE || h > PLOT_MAX_SIDE)
        return bragg_fail(e, "%s is not a size WxH in pixels (width %d to %d, height %d to %d, "
                             "e.g. 1600x1000)",
                          BRAGG_QUOTED(text), PLOT_MIN_WIDTH, PLOT_MAX_SIDE, PLOT_MIN_HEIGHT,
                          PLOT_MAX_SIDE);
    s->width = w;
    s->height = h;
    return BRAGG_OK;
}

int plot_parse_theme(const char *text, plot_style *s, bragg_err *e)
{
    if (strcmp(text, "light") == 0) s->theme = PLOT_THEME_LIGHT;
    else if (strcmp(text, "dark") == 0) s->theme = PLOT_THEME_DARK;
    else return bragg_fail(e, "%s is not a theme (valid: light, dark)", BRAGG_QUOTED(text));
    return BRAGG_OK;
}

/* Okabe-Ito colours, distinguishable with the common colour-vision deficiencies; the dark
 * theme takes lighter members first so lines stand out from the background. */
static const double palette_light[][3] = {
    {0.000, 0.447, 0.698}, {0.835, 0.369, 0.000}, {0.000, 0.620, 0.451},
    {0.800, 0.475, 0.655}, {0.902, 0.624, 0.000}, {0.337, 0.706, 0.914},
    {0.350, 0.350, 0.350}, {0.600, 0.550, 0.100},
};
static const double palette_dark[][3] = {
    {0.337, 0.706, 0.914}, {0.902, 0.624, 0.000}, {0.000, 0.780, 0.560},
    {0.880, 0.560, 0.740}, {0.941, 0.894, 0.259}, {0.960, 0.450, 0.200},
    {0.800, 0.800, 0.800}, {0.650, 0.600, 0.950},
};
#define PALETTE_SIZE 8

void plot_palette_colour(plot_theme theme, int colour, double rgb[3])
{
    if (colour == PLOT_COLOUR_NEUTRAL) {
        /* The theme's text colour, for legend entries that stand for a line style. */
        double v = theme == PLOT_THEME_DARK ? 0.85 : 0.25;
        rgb[0] = rgb[1] = rgb[2] = v;
        return;
    }
    const double *c = (theme == PLOT_THEME_DARK ? palette_dark : palette_light)
        [((colour % PALETTE_SIZE) + PALETTE_SIZE) % PALETTE_SIZE];
    memcpy(rgb, c, 3 * sizeof *rgb);
}

/* Samples 0, 32, ..., 224, 255 of matplotlib's 256-entry viridis table (CC0), linear between:
 * the eye cannot tell the difference at a heat map's cell sizes. */
static const double viridis[9][3] = {
    {0.267004, 0.004874, 0.329415}, {0.278826, 0.175490, 0.483397},
    {0.229739, 0.322361, 0.545706}, {0.172719, 0.448791, 0.557885},
    {0.127568, 0.566949, 0.550556}, {0.157851, 0.683765, 0.501686},
    {0.369214, 0.788888, 0.382914}, {0.678489, 0.863742, 0.189503},
    {0.993248, 0.906157, 0.143936},
};
static const double viridis_at[9] = {0, 32 / 255.0, 64 / 255.0, 96 / 255.0, 128 / 255.0,
                                     160 / 255.0, 192 / 255.0, 224 / 255.0, 1};

void plot_scale_colour(double t, double rgb[3])
{
    t = t > 0 ? (t < 1 ? t : 1) : 0;   /* NaN too goes to 0 */
    int k = 0;
    while (k < 7 && t > viridis_at[k + 1]) k++;
    double f = (t - viridis_at[k]) / (viridis_at[k + 1] - viridis_at[k]);
    for (int c = 0; c < 3; c++) rgb[c] = viridis[k][c] + f * (viridis[k + 1][c] - viridis[k][c]);
}

typedef struct theme_colours {
    double bg[3], fg[3], muted[3], grid[3], spine[3];
} theme_colours;

static const theme_colours theme_light = {
    {1, 1, 1}, {0.13, 0.13, 0.13}, {0.42, 0.42, 0.42}, {0.90, 0.90, 0.90}, {0.25, 0.25, 0.25}};
static const theme_colours theme_dark = {
    {0.11, 0.12, 0.14}, {0.91, 0.91, 0.91}, {0.62, 0.62, 0.64}, {0.24, 0.25, 0.29},
    {0.75, 0.75, 0.75}};

/* ------------------------------------------------------------------------------------------ */
/* Rendering                                                                                  */

/* Where v lies between lo and hi, 0..1, on a linear or a logarithmic scale. */
static double axis_fraction(double v, double lo, double hi, int log_scale)
{
    if (log_scale) return (log10(v) - log10(lo)) / (log10(hi) - log10(lo));
    return (v - lo) / (hi - lo);
}

double plot_x_to_pixel(const plot_frame *fr, double x)
{
    return fr->area.x + fr->area.w * axis_fraction(x, fr->x_lo, fr->x_hi, fr->x_log);
}

double plot_y_to_pixel(const plot_frame *fr, double y)
{
    return fr->area.y + fr->area.h * (1 - axis_fraction(y, fr->y_lo, fr->y_hi, fr->y_log));
}

static double y2_to_pixel(const plot_frame *fr, double y)
{
    return fr->area.y + fr->area.h * (1 - axis_fraction(y, fr->y2_lo, fr->y2_hi, fr->y2_log));
}

/* A value that has a place on the axis: finite, and positive on a logarithmic one. Others
 * are gaps (cairo must never see the NaN that log10 of them would give). */
static int on_axis(double v, int log_scale)
{
    return isfinite(v) && (!log_scale || v > 0);
}

/* An axis: the range it spans, the ticks drawn on it (major ones labelled) and, for a linear
 * axis, the power of ten its tick labels are divided by (shown in the unit). */
#define AXIS_MAX_TICKS 96
typedef struct axis {
    axis_ticks t;        /* linear: the nice ticks */
    int log;
    double lo, hi;       /* the range the frame spans */
    int exponent;
    int decimals;
    int n;
    double v[AXIS_MAX_TICKS];
    unsigned char major[AXIS_MAX_TICKS];
} axis;

/* A placed text label (marker labels), to keep labels apart and the legend off them. */
typedef struct placed {
    plot_rect box;
    const char *text;
    double text_x, baseline;
} placed;

typedef struct render {
    cairo_t *cr;
    const plot_figure *f;
    const plot_style *s;
    const theme_colours *th;
    double u;                        /* size unit: 1 at 1600 x 1000 and scale 1 */
    double fs_title, fs_label, fs_tick, fs_legend, fs_note, fs_footer;
    plot_frame fr;
    axis x, y, y2;
    int has_y2;
    /* Heat maps: the colour scale's range (log: of log10 z), its axis (linear) and the bar. */
    axis z;
    double z_lo, z_hi;
    double bar_x, bar_w;
    int label_rows;
    placed labels[PLOT_MAX_MARKERS];
} render;

static void set_rgb(cairo_t *cr, const double c[3], double alpha)
{
    cairo_set_source_rgba(cr, c[0], c[1], c[2], alpha);
}

static void set_font(render *r, double size)
{
    cairo_select_font_face(r->cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
                           CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(r->cr, size);
}

static double text_width(render *r, const char *s)
{
    cairo_text_extents_t ex;
    cairo_text_extents(r->cr, s, &ex);
    return ex.x_advance;
}

static double line_height(render *r)
{
    cairo_font_extents_t fe;
    cairo_font_extents(r->cr, &fe);
    return fe.ascent + fe.descent;
}

/* Draws `s` with its box anchored at (x, y): halign 0 left, 0.5 centre, 1 right; valign 0 top,
 * 0.5 middle, 1 bottom of the font's ascent+descent box. */
static void figure_text(render *r, const char *s, double x, double y, double halign, double valign)
{
    cairo_font_extents_t fe;
    cairo_font_extents(r->cr, &fe);
    double w = text_width(r, s);
    cairo_move_to(r->cr, x - halign * w, y - valign * (fe.ascent + fe.descent) + fe.ascent);
    cairo_show_text(r->cr, s);
}


/* "10⁻⁷" for exponent -7, as UTF-8 superscripts (DejaVu Sans has them). */
static void power_of_ten(int k, char *out, size_t len)
{
    static const char *sup[10] = {"\u2070", "\u00b9", "\u00b2", "\u00b3", "\u2074",
                                  "\u2075", "\u2076", "\u2077", "\u2078", "\u2079"};
    char digits[16];
    snprintf(digits, sizeof digits, "%d", k < 0 ? -k : k);
    size_t n = (size_t)snprintf(out, len, "10%s", k < 0 ? "\u207b" : "");
    for (const char *d = digits; *d && n < len; d++)
        n += (size_t)snprintf(out + n, len - n, "%s", sup[*d - '0']);
}

/* "depth (cm)", "dose (10⁻⁷ Gy cm²)", or the bare name when there is no unit. */
static void axis_title(const char *label, const char *unit, int exponent, char *out, size_t len)
{
    char scale[48] = "";
    if (exponent) power_of_ten(exponent, scale, sizeof scale);
    int has_unit = unit && *unit;
    if (!label) label = "";
    if (exponent && has_unit) snprintf(out, len, "%s (%s %s)", label, scale, unit);
    else if (exponent) snprintf(out, len, "%s (%s)", label, scale);
    else if (has_unit) snprintf(out, len, "%s (%s)", label, unit);
    else snprintf(out, len, "%s", label);
}

static void axis_add_tick(axis *a, double v, int major)
{
    if (a->n < AXIS_MAX_TICKS) {
        a->v[a->n] = v;
        a->major[a->n++] = (unsigned char)major;
    }
}

/* A linear axis over [lo, hi]: nice ticks (Heckbert). `tight`: the range ends a little above
 * the data instead of on the next tick, so normalised curves (peak = 1) fill the plot rather
 * than stop at the middle of an axis that runs to 2. */
static void axis_set(axis *a, double lo, double hi, int target, int tight)
{
    memset(a, 0, sizeof *a);
    axis_ticks_nice(lo, hi, target, &a->t);
    a->lo = a->t.lo;
    a->hi = tight && hi > a->t.lo ? fmin(a->t.hi, hi + 0.03 * (hi - a->t.lo)) : a->t.hi;
    double m = fmax(fabs(a->t.lo), fabs(a->t.hi));
    /* Very large or small numbers: print mantissas, move the power of ten into the unit. */
    a->exponent = (m >= 1e4 || (m > 0 && m < 1e-2)) ? (int)floor(log10(m)) : 0;
    double step = a->t.step / pow(10, a->exponent);
    int d = -(int)floor(log10(step) + 1e-9);
    a->decimals = d > 0 ? d : 0;
    for (int i = 0; i < a->t.count; i++) {
        double v = axis_tick_value(&a->t, i);
        if (v >= a->lo - 1e-9 * a->t.step && v <= a->hi + 1e-9 * a->t.step) axis_add_tick(a, v, 1);
    }
}

/* A logarithmic axis over [lo, hi] (both > 0): labelled decades, and 2 and 5 labelled too when
 * the range is short; the other integers of each decade as unlabelled minor ticks. `tight`:
 * the range is the data's (energies from 1 to 500 MeV/u), otherwise whole decades. */
static void axis_set_log(axis *a, double lo, double hi, int tight)
{
    memset(a, 0, sizeof *a);
    a->log = 1;
    if (!(lo > 0) || !(hi > lo)) {
        lo = lo > 0 ? lo / 10 : 0.1;
        hi = lo * 100;
    }
    int k0 = (int)floor(log10(lo) + 1e-9), k1 = (int)ceil(log10(hi) - 1e-9);
    if (k1 <= k0) k1 = k0 + 1;
    a->lo = tight ? lo : pow(10, k0);
    a->hi = tight ? hi : pow(10, k1);
    double decades = log10(a->hi / a->lo);
    for (int k = k0; k <= k1; k++)
        for (int m = 1; m <= 9; m++) {
            double v = m * pow(10, k);
            if (v < a->lo * (1 - 1e-9) || v > a->hi * (1 + 1e-9)) continue;
            int major = m == 1 || (decades < 2.5 && (m == 2 || m == 5));
            if (major || decades <= 6) axis_add_tick(a, v, major);
        }
    /* A tight axis ending well past its last label gets its end labelled (500 MeV/u). */
    if (tight && a->n > 0) {
        double last = 0;
        for (int i = 0; i < a->n; i++)
            if (a->major[i]) last = a->v[i];
        if (last > 0 && log10(a->hi / last) > 0.25 && a->v[a->n - 1] < a->hi * (1 - 1e-9))
            axis_add_tick(a, a->hi, 1);
        else if (last > 0 && log10(a->hi / last) > 0.25)
            a->major[a->n - 1] = 1;
    }
    /* Fewer than two labels on a short tight axis: label its ends' nearest ticks too. */
    int majors = 0;
    for (int i = 0; i < a->n; i++) majors += a->major[i];
    if (majors < 2)
        for (int i = 0; i < a->n; i++) a->major[i] = 1;
}

static void tick_label(const axis *a, double v, char *out, size_t len)
{
    if (a->log) {
        /* Plain numbers where they are short, powers of ten beyond. */
        if (v >= 1e-3 * (1 - 1e-9) && v < 1e5) {
            snprintf(out, len, "%g", v);
            return;
        }
        int k = (int)floor(log10(v) + 1e-9);
        double m = round(v / pow(10, k));
        char p[48];
        power_of_ten(k, p, sizeof p);
        if (m == 1) snprintf(out, len, "%s", p);
        else snprintf(out, len, "%g\u00d7%s", m, p);
        return;
    }
    double m = v / pow(10, a->exponent);
    if (fabs(m) < 0.5 * pow(10, -a->decimals)) m = 0;   /* no "-0.0" */
    snprintf(out, len, "%.*f", a->decimals, m);
}

static double axis_label_width(render *r, const axis *a)
{
    set_font(r, r->fs_tick);
    double w = 0;
    char buf[64];
    for (int i = 0; i < a->n; i++) {
        if (!a->major[i]) continue;
        tick_label(a, a->v[i], buf, sizeof buf);
        w = fmax(w, text_width(r, buf));
    }
    return w;
}

static double series_y_pixel(render *r, const plot_series *s, double y)
{
    return s->right_axis ? y2_to_pixel(&r->fr, y) : plot_y_to_pixel(&r->fr, y);
}

static int series_y_log(const render *r, const plot_series *s)
{
    return s->right_axis ? r->fr.y2_log : r->fr.y_log;
}

/* The point i of a series has a place on the axes. */
static int point_ok(const render *r, const plot_series *s, int i)
{
    return on_axis(s->x[i], r->fr.x_log) && on_axis(s->y[i], series_y_log(r, s));
}

/* Path through the points of a series that have a place on the axes; the others (NaN, or
 * zero on a log axis) break it. */
static void path_line(render *r, const plot_series *s, const double *base)
{
    int pen = 0;
    for (int i = 0; i < s->n; i++) {
        double y = s->y[i] + (base ? base[i] : 0);
        if (!on_axis(s->x[i], r->fr.x_log) || !on_axis(y, series_y_log(r, s))) {
            pen = 0;
            continue;
        }
        double px = plot_x_to_pixel(&r->fr, s->x[i]), py = series_y_pixel(r, s, y);
        if (pen) cairo_line_to(r->cr, px, py);
        else cairo_move_to(r->cr, px, py);
        pen = 1;
    }
}

static int band_point_ok(const render *r, const plot_series *s, int i)
{
    return point_ok(r, s, i) && isfinite(s->err[i]);
}

/* The lower edge of a band; on a log axis a band reaching zero is cut at the axis' bottom. */
static double band_low(const render *r, const plot_series *s, int k)
{
    double lo = s->y[k] - s->err[k];
    if (series_y_log(r, s) && lo <= 0) lo = (s->right_axis ? r->fr.y2_lo : r->fr.y_lo) * 0.5;
    return lo;
}

/* The +-1 sigma band: one closed polygon per run of finite points. */
static void path_band(render *r, const plot_series *s)
{
    int i = 0;
    while (i < s->n) {
        while (i < s->n && !band_point_ok(r, s, i)) i++;
        int start = i;
        while (i < s->n && band_point_ok(r, s, i)) i++;
        if (i - start < 2) continue;
        for (int k = start; k < i; k++) {
            double px = plot_x_to_pixel(&r->fr, s->x[k]);
            double py = series_y_pixel(r, s, s->y[k] + s->err[k]);
            if (k == start) cairo_move_to(r->cr, px, py);
            else cairo_line_to(r->cr, px, py);
        }
        for (int k = i - 1; k >= start; k--)
            cairo_line_to(r->cr, plot_x_to_pixel(&r->fr, s->x[k]),
                          series_y_pixel(r, s, band_low(r, s, k)));
        cairo_close_path(r->cr);
    }
}

/* Dash patterns by style: solid, dashed, dotted, dash-dot (in units of u). */
static void set_dash(render *r, int style)
{
    static const double pattern[4][4] = {{0}, {10, 6}, {2, 5}, {10, 5, 2, 5}};
    static const int count[4] = {0, 2, 2, 4};
    int k = style < 0 ? 0 : style % 4;
    double d[4];
    for (int i = 0; i < count[k]; i++) d[i] = pattern[k][i] * r->u;
    cairo_set_dash(r->cr, count[k] ? d : NULL, count[k], 0);
}

/* A measured point: a circle, with its error bar (and caps) when it has one. */
static void draw_point(render *r, double px, double py, double top, double bottom)
{
    cairo_t *cr = r->cr;
    double rad = 4.5 * r->u, cap = 4 * r->u;
    if (isfinite(top) && isfinite(bottom) && bottom - top > 2 * rad) {
        cairo_move_to(cr, px, top);
        cairo_line_to(cr, px, bottom);
        cairo_move_to(cr, px - cap, top);
        cairo_line_to(cr, px + cap, top);
        cairo_move_to(cr, px - cap, bottom);
        cairo_line_to(cr, px + cap, bottom);
        cairo_set_line_width(cr, 1.5 * r->u);
        cairo_stroke(cr);
    }
    cairo_new_sub_path(cr);
    cairo_arc(cr, px, py, rad, 0, 2 * PLOT_PI);
    cairo_fill(cr);
}

static void draw_points(render *r, const plot_series *ps)
{
    double rgb[3];
    plot_palette_colour(r->s->theme, ps->colour, rgb);
    set_rgb(r->cr, rgb, 1);
    for (int i = 0; i < ps->n; i++) {
        if (!point_ok(r, ps, i)) continue;
        double px = plot_x_to_pixel(&r->fr, ps->x[i]), py = series_y_pixel(r, ps, ps->y[i]);
        double top = NAN, bottom = NAN;
        if (ps->err && isfinite(ps->err[i])) {
            top = series_y_pixel(r, ps, ps->y[i] + ps->err[i]);
            bottom = series_y_pixel(r, ps, band_low(r, ps, i));
        }
        draw_point(r, px, py, top, bottom);
    }
}

/* Slabs: every other one shaded under the data (`edges` 0); then, over the data (`edges` 1),
 * a line at each boundary and the material at the bottom of its span where it fits, so that
 * stacked areas do not hide them. Over a heat map, whose cells would hide any shading and
 * change its colours, only the edges: white lines edged in the text colour (seen on every
 * viridis colour and on the blank cells of a log scale), and the names at the top (an rz map's
 * beam axis, its hottest part, is at the bottom). */
static void draw_regions(render *r, int edges)
{
    const plot_figure *f = r->f;
    cairo_t *cr = r->cr;
    const plot_rect *a = &r->fr.area;
    set_font(r, r->fs_note);
    for (int g = 0; g < f->n_regions; g++) {
        const plot_region *rg = &f->regions[g];
        double x0 = fmax(rg->x0, r->fr.x_lo), x1 = isfinite(rg->x1) ? fmin(rg->x1, r->fr.x_hi) : r->fr.x_hi;
        if (!(x1 > x0) || !on_axis(x0, r->fr.x_log)) continue;
        double p0 = plot_x_to_pixel(&r->fr, x0), p1 = plot_x_to_pixel(&r->fr, x1);
        if (!edges) {
            if (g % 2 == 1) {
                cairo_rectangle(cr, p0, a->y, p1 - p0, a->h);
                set_rgb(cr, r->th->muted, 0.13);
                cairo_fill(cr);
            }
            continue;
        }
        int heat = f->type == PLOT_HEATMAP;
        if (rg->x0 > r->fr.x_lo) {
            static const double white[3] = {1, 1, 1};
            for (int pass = heat ? 0 : 1; pass < 2; pass++) {
                cairo_move_to(cr, round(p0) + 0.5, a->y);
                cairo_line_to(cr, round(p0) + 0.5, a->y + a->h);
                if (pass == 0) set_rgb(cr, r->th->fg, 0.8);
                else set_rgb(cr, heat ? white : r->th->muted, heat ? 1 : 0.7);
                cairo_set_line_width(cr, (heat ? (pass == 0 ? 4.4 : 2) : 1.2) * r->u);
                cairo_stroke(cr);
            }
        }
        const char *lab = rg->label ? rg->label : "";
        double gap = 6 * r->u, w = text_width(r, lab);
        if (*lab && w + 2 * gap < p1 - p0) {
            double h = line_height(r), top = heat ? a->y + gap : a->y + a->h - gap - h;
            cairo_rectangle(cr, p0 + 0.5 * gap, top, w + gap, h);
            set_rgb(cr, r->th->bg, 0.75);
            cairo_fill(cr);
            set_rgb(cr, r->th->fg, 0.8);
            if (heat) figure_text(r, lab, p0 + gap, top, 0, 0);
            else figure_text(r, lab, p0 + gap, a->y + a->h - gap, 0, 1);
        }
    }
}

/* Data range of the left or right axis series, stacked sums included. */
static void y_range(const plot_figure *f, int right, double *lo, double *hi)
{
    *lo = INFINITY;
    *hi = -INFINITY;
    if (f->type == PLOT_BARS) {
        for (int s = 0; s < f->n_series; s++)
            for (int i = 0; i < f->series[s].n; i++)
                if (isfinite(f->series[s].y[i])) {
                    *lo = fmin(*lo, f->series[s].y[i]);
                    *hi = fmax(*hi, f->series[s].y[i]);
                }
        return;
    }
    if (f->stacked && !right) {
        /* The top of the stack at each point (series share the x grid of the first). */
        const plot_series *first = NULL;
        for (int s = 0; s < f->n_series; s++)
            if (!f->series[s].right_axis) {
                first = &f->series[s];
                break;
            }
        if (!first) return;
        for (int i = 0; i < first->n; i++) {
            double sum = 0;
            for (int s = 0; s < f->n_series; s++) {
                const plot_series *ps = &f->series[s];
                if (ps->right_axis || i >= ps->n || !isfinite(ps->y[i])) continue;
                sum += ps->y[i];
            }
            *lo = fmin(*lo, sum);
            *hi = fmax(*hi, sum);
        }
        return;
    }
    int lg = right ? f->y2_log : f->y_log;
    for (int s = 0; s < f->n_series; s++) {
        const plot_series *ps = &f->series[s];
        if (ps->right_axis != right) continue;
        for (int i = 0; i < ps->n; i++) {
            if (!on_axis(ps->x[i], f->x_log) || !on_axis(ps->y[i], lg)) continue;
            double e = ps->err && isfinite(ps->err[i]) ? ps->err[i] : 0;
            /* On a log axis a band reaching zero or below is cut at the axis' floor. */
            double low = lg && ps->y[i] - e <= 0 ? ps->y[i] : ps->y[i] - e;
            *lo = fmin(*lo, low);
            *hi = fmax(*hi, ps->y[i] + e);
        }
    }
    /* A log axis shows at most 1/log_floor of range below the top: far tails of a few
     * counts would otherwise squeeze the curves into the top decade. */
    if (lg && isfinite(*hi) && *lo < *hi * f->log_floor) *lo = *hi * f->log_floor;
}

static int has_right_axis(const plot_figure *f)
{
    if (f->type != PLOT_LINES) return 0;
    for (int s = 0; s < f->n_series; s++)
        if (f->series[s].right_axis) return 1;
    return 0;
}

/* Extends [lo, hi] so that `reserve` pixels at the top of a `height`-pixel axis stay free for
 * marker labels and bar notes: hi maps `reserve` below the top edge. */
static double headroom(double lo, double hi, double height, double reserve)
{
    if (reserve <= 0 || reserve >= 0.6 * height) return hi;
    return (hi * height - lo * reserve) / (height - reserve);
}

/* The heat map's colour range: [min(0, z), max z] (linear) or the decades below the largest
 * positive value (log, in log10 units). */
static void colour_range(render *r)
{
    const plot_heatmap *h = &r->f->heat;
    double lo = INFINITY, hi = -INFINITY;
    for (int k = 0; k < h->nx * h->ny; k++) {
        double v = h->z[k];
        if (!isfinite(v) || (h->log && v <= 0)) continue;
        lo = fmin(lo, v);
        hi = fmax(hi, v);
    }
    if (!isfinite(hi)) {
        lo = h->log ? 1 : 0;
        hi = h->log ? 10 : 1;
    }
    if (h->log) {
        r->z_hi = log10(hi);
        r->z_lo = r->z_hi - (h->log_decades > 0 ? h->log_decades : 4);
        return;
    }
    lo = fmin(lo, 0);
    if (!(hi > lo)) hi = lo + 1;
    r->z_lo = lo;
    r->z_hi = hi;
    axis_set(&r->z, lo, hi, 6, 0);
}

/* Tick values of the colour bar: decades (log) or the nice ticks inside the range. */
static int colour_ticks(const render *r, double *v, int max)
{
    int n = 0;
    if (r->f->heat.log) {
        for (double k = ceil(r->z_lo - 1e-9); k <= r->z_hi + 1e-9 && n < max; k++) v[n++] = k;
        return n;
    }
    for (int i = 0; i < r->z.n && n < max; i++) {
        double t = r->z.v[i];
        if (t >= r->z_lo - 1e-9 * r->z.t.step && t <= r->z_hi + 1e-9 * r->z.t.step) v[n++] = t;
    }
    return n;
}

static void colour_tick_label(const render *r, double v, char *out, size_t len)
{
    if (r->f->heat.log) power_of_ten((int)lround(v), out, len);
    else tick_label(&r->z, v, out, len);
}

static double colour_labels_width(render *r)
{
    double v[64], w = 0;
    char buf[64];
    int n = colour_ticks(r, v, 64);
    set_font(r, r->fs_tick);
    for (int i = 0; i < n; i++) {
        colour_tick_label(r, v[i], buf, sizeof buf);
        w = fmax(w, text_width(r, buf));
    }
    return w;
}

/* Lays out margins, axes and the plot area for `label_rows` rows of marker labels. */
static void layout(render *r, int label_rows)
{
    const plot_figure *f = r->f;
    double W = r->s->width, H = r->s->height, u = r->u;
    double pad = 18 * u, tick_len = 7 * u;
    r->label_rows = label_rows;

    set_font(r, r->fs_title);
    double top = pad + (f->title && *f->title ? line_height(r) + 0.8 * pad : 0);
    set_font(r, r->fs_tick);
    double tick_h = line_height(r);
    set_font(r, r->fs_label);
    double label_h = line_height(r);
    set_font(r, r->fs_footer);
    double footer_h = f->footer && *f->footer ? line_height(r) + 0.4 * pad : 0;
    double bottom = tick_len + 0.5 * pad + tick_h + 0.5 * pad + label_h + footer_h + 0.6 * pad;

    /* x: a tight range for lines (no empty stretch beyond the data), groups for bars. */
    double xlo = INFINITY, xhi = -INFINITY;
    if (f->type == PLOT_BARS) {
        xlo = 0;
        xhi = f->n_groups > 0 ? f->n_groups : 1;
    } else if (f->type == PLOT_HEATMAP) {
        /* The cells' extent, exactly: a map has no margin beyond its grid. */
        xlo = f->heat.x0;
        xhi = f->heat.x0 + f->heat.nx * f->heat.dx;
    } else {
        for (int s = 0; s < f->n_series; s++) {
            const plot_series *ps = &f->series[s];
            int lg = ps->right_axis ? f->y2_log : f->y_log;
            for (int i = 0; i < ps->n; i++)
                if (on_axis(ps->x[i], f->x_log) && on_axis(ps->y[i], lg)) {
                    xlo = fmin(xlo, ps->x[i]);
                    xhi = fmax(xhi, ps->x[i]);
                }
        }
        if (!(xhi > xlo)) {
            if (f->x_log) {
                xlo = isfinite(xlo) ? xlo / 10 : 1;
                xhi = isfinite(xhi) ? xhi * 10 : 10;
            } else {
                xlo = isfinite(xlo) ? xlo - 1 : 0;
                xhi = isfinite(xhi) ? xhi + 1 : 1;
            }
        }
        /* Depth curves start at the surface. */
        if (!f->x_log && xlo > 0 && xlo < 0.1 * xhi) xlo = 0;
    }

    /* Rows reserved above the data: marker labels for lines, one row of notes for bars. */
    set_font(r, r->fs_note);
    double row_h = 1.25 * line_height(r);
    double reserve = f->type == PLOT_BARS ? row_h + 0.3 * pad : label_rows * row_h + 0.5 * pad;
    if (f->type == PLOT_LINES && label_rows == 0) reserve = 0;

    /* Two passes: the y labels' width sets the left margin, which sets the plot height only
     * through the x axis, so one correction is enough. */
    double plot_h = H - top - bottom;
    double ylo, yhi;
    y_range(f, 0, &ylo, &yhi);
    if (!isfinite(ylo)) {
        ylo = f->y_log ? 0.1 : 0;
        yhi = 1;
    }
    int ytarget = (int)fmax(3, plot_h / (85 * u));
    /* Lines get tight y axes (the data fills the plot); bars keep a tick at the top. */
    int tight = f->type == PLOT_LINES;
    if (f->type == PLOT_HEATMAP) {
        /* The grid's extent, exactly, with the nice ticks inside it. */
        ylo = f->heat.y0;
        yhi = f->heat.y0 + f->heat.ny * f->heat.dy;
        axis_set(&r->y, ylo, yhi, ytarget, 0);
        int k = 0;
        for (int i = 0; i < r->y.n; i++)
            if (r->y.v[i] >= ylo - 1e-9 * r->y.t.step && r->y.v[i] <= yhi + 1e-9 * r->y.t.step) {
                r->y.v[k] = r->y.v[i];
                r->y.major[k++] = r->y.major[i];
            }
        r->y.n = k;
        r->y.lo = ylo;
        r->y.hi = yhi;
    } else if (f->y_log && f->type == PLOT_LINES) {
        /* Log: room for the marker labels is a factor on top. */
        double k = reserve > 0 && reserve < 0.6 * plot_h ? plot_h / (plot_h - reserve) : 1;
        axis_set_log(&r->y, ylo, pow(yhi, k) * pow(ylo > 0 ? ylo : 1, 1 - k) * 1.15, 0);
    } else {
        if (f->y_from_zero || f->type == PLOT_BARS) {
            ylo = fmin(ylo, 0);
            yhi = fmax(yhi, 0);
        }
        /* Data that is all zero (a profile beyond the beam's range) gets an axis from 0 up:
         * the ticks around a single value ran from -1 to 0, a negative dose. */
        if (ylo == 0 && yhi == 0) yhi = 1;
        axis_set(&r->y, ylo, headroom(ylo, yhi, plot_h, reserve), ytarget, tight);
    }

    r->has_y2 = has_right_axis(f);
    if (r->has_y2) {
        double lo2, hi2;
        y_range(f, 1, &lo2, &hi2);
        if (!isfinite(lo2)) {
            lo2 = f->y2_log ? 0.1 : 0;
            hi2 = 1;
        }
        if (f->y2_log) {
            double k = reserve > 0 && reserve < 0.6 * plot_h ? plot_h / (plot_h - reserve) : 1;
            axis_set_log(&r->y2, lo2, pow(hi2, k) * pow(lo2, 1 - k) * 1.15, 0);
        } else {
            lo2 = fmin(lo2, 0);
            if (lo2 == 0 && hi2 == 0) hi2 = 1;   /* as the left axis */
            axis_set(&r->y2, lo2, headroom(lo2, hi2, plot_h, reserve), ytarget, tight);
        }
    }

    set_font(r, r->fs_label);
    double left = pad + label_h + 0.6 * pad + axis_label_width(r, &r->y) + 0.5 * pad + tick_len;
    double right = pad;
    if (r->has_y2) right += label_h + 0.6 * pad + axis_label_width(r, &r->y2) + 0.5 * pad + tick_len;
    else right += 14 * u;
    if (f->type == PLOT_HEATMAP) {
        /* The colour bar, its ticks and labels, and its title (rotated) at the right edge. */
        colour_range(r);
        r->bar_w = 28 * u;
        right += 1.4 * pad + r->bar_w + tick_len + 0.4 * pad + colour_labels_width(r) + 0.6 * pad +
                 label_h;
    }

    plot_rect *a = &r->fr.area;
    a->x = round(left);
    a->y = round(top);
    a->w = round(W - left - right);
    a->h = round(H - top - bottom);
    if (a->w < 50) a->w = 50;
    if (a->h < 50) a->h = 50;

    int xtarget = (int)fmax(3, a->w / (160 * u));
    if (f->x_log && f->type == PLOT_LINES) {
        axis_set_log(&r->x, xlo, xhi, 1);
    } else {
        axis_set(&r->x, xlo, xhi, xtarget, 0);
        /* Only the ticks inside the data's span (the frame ends where the data does). */
        int k = 0;
        for (int i = 0; i < r->x.n; i++)
            if (r->x.v[i] >= xlo - 1e-9 * r->x.t.step && r->x.v[i] <= xhi + 1e-9 * r->x.t.step) {
                r->x.v[k] = r->x.v[i];
                r->x.major[k++] = r->x.major[i];
            }
        r->x.n = k;
        r->x.lo = xlo;
        r->x.hi = xhi;
    }
    /* The depth axis spans the data exactly (its ticks are inside). */
    r->fr.x_lo = xlo;
    r->fr.x_hi = xhi;
    r->fr.x_log = r->x.log;
    r->fr.y_lo = r->y.lo;
    r->fr.y_hi = r->y.hi;
    r->fr.y_log = r->y.log;
    r->bar_x = a->x + a->w + 1.4 * pad;
    if (r->has_y2) {
        r->fr.y2_lo = r->y2.lo;
        r->fr.y2_hi = r->y2.hi;
        r->fr.y2_log = r->y2.log;
    } else {
        r->fr.y2_lo = r->fr.y_lo;
        r->fr.y2_hi = r->fr.y_hi;
        r->fr.y2_log = r->fr.y_log;
    }
    r->fr.line_width = 2.6 * u;
}

/* Puts each marker label in the highest row where it does not overlap an earlier one; text
 * sits left of its marker in the right part of the plot (where Bragg peaks are) and right of
 * it elsewhere. Returns the rows used. */
static int place_labels(render *r)
{
    const plot_figure *f = r->f;
    const plot_rect *a = &r->fr.area;
    set_font(r, r->fs_note);
    double row_h = 1.25 * line_height(r), gap = 6 * r->u;
    int rows = 0;
    for (int m = 0; m < f->n_markers; m++) {
        const plot_marker *mk = &f->markers[m];
        double p0 = plot_x_to_pixel(&r->fr, mk->x0);
        double p1 = isfinite(mk->x1) ? plot_x_to_pixel(&r->fr, mk->x1) : p0;
        double w = text_width(r, mk->label ? mk->label : "");
        double x = p0 > a->x + 0.45 * a->w ? fmin(p0, p1) - gap - w : fmax(p0, p1) + gap;
        x = fmax(a->x + gap, fmin(x, a->x + a->w - gap - w));
        int row = 0;
        for (;; row++) {
            int clash = 0;
            for (int k = 0; k < m; k++) {
                const plot_rect *b = &r->labels[k].box;
                int same_row = fabs(b->y - (a->y + 0.3 * gap + row * row_h)) < 0.5 * row_h;
                if (same_row && x < b->x + b->w + gap && b->x < x + w + gap) clash = 1;
            }
            if (!clash) break;
        }
        placed *pl = &r->labels[m];
        pl->box = (plot_rect){x - 0.3 * gap, a->y + 0.3 * gap + row * row_h, w + 0.6 * gap, row_h};
        pl->text = mk->label ? mk->label : "";
        pl->text_x = x;
        pl->baseline = 0;
        if (row + 1 > rows) rows = row + 1;
    }
    return rows;
}

static int rects_overlap(const plot_rect *a, const plot_rect *b)
{
    return a->x < b->x + b->w && b->x < a->x + a->w && a->y < b->y + b->h && b->y < a->y + a->h;
}

/* Legend entries: the series labels, with "± 1σ" for series with a band (measured points
 * say what their bars are in their own label). */
static void legend_text(const plot_series *s, char *out, size_t len)
{
    snprintf(out, len, "%s%s", s->label ? s->label : "",
             s->err && !s->points ? " \u00b1 1\u03c3" : "");
}

/* A series without a label stays out of the legend (e.g. one of several runs' curves whose
 * colour and line style the legend explains with entries of their own). */
static int in_legend(const plot_series *s)
{
    return s->label && *s->label;
}

static int legend_entries(const plot_figure *f)
{
    int n = 0;
    for (int s = 0; s < f->n_series; s++) n += in_legend(&f->series[s]);
    return n;
}

static int wants_legend(const plot_figure *f)
{
    int n = legend_entries(f);
    if (n > 1) return 1;
    /* A line over a heat map says what it is. */
    if (n == 1 && f->type == PLOT_HEATMAP) return 1;
    for (int s = 0; s < f->n_series; s++)
        if (in_legend(&f->series[s]) && f->type == PLOT_LINES && f->series[s].err) return 1;
    return 0;
}

/* Bars share 80% of their group, but no bar grows wider than a fat thumb. */
static double bar_width(const render *r)
{
    const plot_figure *f = r->f;
    int ns = f->n_series > 0 ? f->n_series : 1;
    double gw = r->fr.area.w / (f->n_groups > 0 ? f->n_groups : 1);
    return fmin(0.8 * gw / ns, 170 * r->u);
}

/* The length of the segment (x0, y0)-(x1, y1) inside rectangle b (Liang-Barsky clipping). */
static double clipped_length(const plot_rect *b, double x0, double y0, double x1, double y1)
{
    double dx = x1 - x0, dy = y1 - y0, t0 = 0, t1 = 1;
    const double p[4] = {-dx, dx, -dy, dy};
    const double q[4] = {x0 - b->x, b->x + b->w - x0, y0 - b->y, b->y + b->h - y0};
    for (int i = 0; i < 4; i++) {
        if (p[i] == 0) {
            if (q[i] < 0) return 0;
            continue;
        }
        double t = q[i] / p[i];
        if (p[i] < 0) t0 = fmax(t0, t);
        else t1 = fmin(t1, t);
        if (t0 >= t1) return 0;
    }
    return (t1 - t0) * hypot(dx, dy);
}

/* How much of the data a legend box at `box` would hide: for each curve, the share of its
 * drawn length under the box (of its points, of its filled area's columns), summed. Counting
 * the points under the box, as before, missed the steep parts of curves, where the points are
 * far apart: a Bragg peak's rise and fall, which the legend then covered. Shares rather than
 * lengths: hiding a short curve whole is worse than hiding a noisy one's tenth. */
static double legend_cost(render *r, const plot_rect *box)
{
    const plot_figure *f = r->f;
    double cost = 0;
    for (int m = 0; m < f->n_markers; m++)
        if (rects_overlap(box, &r->labels[m].box)) cost += 1e6;
    if (f->type == PLOT_BARS) {
        double gw = r->fr.area.w / (f->n_groups > 0 ? f->n_groups : 1);
        for (int s = 0; s < f->n_series; s++)
            for (int g = 0; g < f->series[s].n; g++) {
                double v = f->series[s].y[g];
                if (!isfinite(v)) continue;
                double bw = bar_width(r);
                plot_rect bar = {r->fr.area.x + (g + 0.5) * gw + (s - 0.5 * f->n_series) * bw,
                                 plot_y_to_pixel(&r->fr, v) - 2 * r->fs_note, bw,
                                 plot_y_to_pixel(&r->fr, 0) - plot_y_to_pixel(&r->fr, v) +
                                     2 * r->fs_note};
                if (rects_overlap(box, &bar)) cost += 1000;
            }
        return cost;
    }
    const plot_rect *area = &r->fr.area;
    for (int s = 0; s < f->n_series; s++) {
        const plot_series *ps = &f->series[s];
        int step = ps->n > 4000 ? ps->n / 4000 : 1;
        double hidden = 0, total = 0, px0 = NAN, py0 = NAN;
        for (int i = 0; i < ps->n; i += step) {
            if (!point_ok(r, ps, i)) {
                px0 = NAN;   /* a gap: the line breaks */
                continue;
            }
            double px = plot_x_to_pixel(&r->fr, ps->x[i]), py = series_y_pixel(r, ps, ps->y[i]);
            if (ps->points || (f->stacked && !ps->right_axis)) {
                /* Points count one each; a stacked area, filled down to the axis, is hidden
                 * in the columns where the box reaches below its top. */
                int in_x = px >= box->x && px <= box->x + box->w;
                total += 1;
                hidden += ps->points ? in_x && py >= box->y && py <= box->y + box->h
                                     : in_x && py < box->y + box->h;
            } else if (isfinite(px0)) {
                total += clipped_length(area, px0, py0, px, py);
                hidden += clipped_length(box, px0, py0, px, py);
            }
            px0 = px;
            py0 = py;
        }
        if (total > 0) cost += hidden / total;
    }
    return cost;
}

static void draw_legend(render *r)
{
    const plot_figure *f = r->f;
    if (!wants_legend(f)) {
        r->fr.has_legend = 0;
        return;
    }
    cairo_t *cr = r->cr;
    double u = r->u, pad = 12 * u, swatch = 34 * u;
    set_font(r, r->fs_legend);
    double lh = 1.35 * line_height(r), w = 0;
    char buf[256];
    for (int s = 0; s < f->n_series; s++) {
        if (!in_legend(&f->series[s])) continue;
        legend_text(&f->series[s], buf, sizeof buf);
        w = fmax(w, text_width(r, buf));
    }
    double bw = pad + swatch + 0.6 * pad + w + pad, bh = pad + legend_entries(f) * lh + 0.5 * pad;
    const plot_rect *a = &r->fr.area;
    double inset = 14 * u;
    /* Top corners start below the marker label rows. */
    double top = a->y + inset;
    for (int m = 0; m < f->n_markers; m++)
        top = fmax(top, r->labels[m].box.y + r->labels[m].box.h + 0.5 * inset);
    /* A heat map's slab names are written along the top (draw_regions). */
    if (f->type == PLOT_HEATMAP && f->n_regions > 0) {
        set_font(r, r->fs_note);
        top = fmax(top, a->y + 6 * u + line_height(r) + 0.5 * inset);
        set_font(r, r->fs_legend);
    }
    /* The corners first (ties keep the first), then the middles of the top and bottom edges,
     * which are free where the data fills the corners (a Bragg peak at the right, the
     * entrance at the left). */
    double bottom = a->y + a->h - inset - bh, middle = a->x + 0.5 * (a->w - bw);
    plot_rect cand[6] = {
        {a->x + inset, top, bw, bh},
        {a->x + a->w - inset - bw, top, bw, bh},
        {a->x + a->w - inset - bw, bottom, bw, bh},
        {a->x + inset, bottom, bw, bh},
        {middle, top, bw, bh},
        {middle, bottom, bw, bh},
    };
    int best = 0;
    double best_cost = INFINITY;
    for (int c = 0; c < 6; c++) {
        double cost = legend_cost(r, &cand[c]);
        if (cost < best_cost) {
            best_cost = cost;
            best = c;
        }
    }
    plot_rect b = cand[best];
    r->fr.has_legend = 1;
    r->fr.legend = b;

    cairo_rectangle(cr, b.x, b.y, b.w, b.h);
    set_rgb(cr, r->th->bg, 0.88);
    cairo_fill_preserve(cr);
    set_rgb(cr, r->th->grid, 1);
    cairo_set_line_width(cr, 1.2 * u);
    cairo_stroke(cr);
    int row = 0;
    for (int s = 0; s < f->n_series; s++) {
        const plot_series *ps = &f->series[s];
        if (!in_legend(ps)) continue;
        double rgb[3];
        plot_palette_colour(r->s->theme, ps->colour, rgb);
        double cy = b.y + pad + (row++ + 0.5) * lh, sx = b.x + pad;
        if (ps->points) {
            set_rgb(cr, rgb, 1);
            draw_point(r, sx + 0.5 * swatch, cy, ps->err ? cy - 0.4 * lh : NAN,
                       ps->err ? cy + 0.4 * lh : NAN);
        } else if (f->type == PLOT_BARS || (f->stacked && !ps->right_axis && ps->n > 0)) {
            cairo_rectangle(cr, sx, cy - 0.32 * lh, swatch, 0.64 * lh);
            set_rgb(cr, rgb, f->type == PLOT_BARS ? 1 : 0.6);
            cairo_fill(cr);
        } else {
            if (ps->err) {
                cairo_rectangle(cr, sx, cy - 0.3 * lh, swatch, 0.6 * lh);
                set_rgb(cr, rgb, 0.22);
                cairo_fill(cr);
            }
            cairo_move_to(cr, sx, cy);
            cairo_line_to(cr, sx + swatch, cy);
            set_rgb(cr, rgb, 1);
            cairo_set_line_width(cr, r->fr.line_width);
            set_dash(r, ps->dashed);
            cairo_stroke(cr);
            cairo_set_dash(cr, NULL, 0, 0);
        }
        legend_text(ps, buf, sizeof buf);
        set_rgb(cr, r->th->fg, 1);
        figure_text(r, buf, sx + swatch + 0.6 * pad, cy, 0, 0.5);
    }
}

static void draw_grid_and_axes(render *r)
{
    cairo_t *cr = r->cr;
    const plot_figure *f = r->f;
    const plot_rect *a = &r->fr.area;
    double u = r->u, tick_len = 7 * u, pad = 18 * u;
    char buf[64];

    /* Grid under everything: major ticks, and minor ones fainter on log axes. */
    for (int pass = 0; pass < 2; pass++) {
        cairo_set_line_width(cr, (pass ? 1.0 : 0.7) * u);
        set_rgb(cr, r->th->grid, pass ? 1 : 0.55);
        for (int i = 0; i < r->y.n && f->type != PLOT_HEATMAP; i++) {
            /* (none over a heat map: its cells are the background) */
            if (r->y.major[i] != pass) continue;
            double py = round(plot_y_to_pixel(&r->fr, r->y.v[i])) + 0.5;
            if (py < a->y - 0.5 || py > a->y + a->h + 0.5) continue;
            cairo_move_to(cr, a->x, py);
            cairo_line_to(cr, a->x + a->w, py);
        }
        if (f->type == PLOT_LINES)
            for (int i = 0; i < r->x.n; i++) {
                if (r->x.major[i] != pass) continue;
                double px = round(plot_x_to_pixel(&r->fr, r->x.v[i])) + 0.5;
                cairo_move_to(cr, px, a->y);
                cairo_line_to(cr, px, a->y + a->h);
            }
        cairo_stroke(cr);
    }

    /* Tick marks (minor ones half as long) and labels of the major ones. */
    set_rgb(cr, r->th->spine, 1);
    cairo_set_line_width(cr, 1.3 * u);
    set_font(r, r->fs_tick);
    for (int i = 0; i < r->y.n; i++) {
        double v = r->y.v[i], len = r->y.major[i] ? tick_len : 0.5 * tick_len;
        double py = plot_y_to_pixel(&r->fr, v);
        cairo_move_to(cr, a->x, py);
        cairo_line_to(cr, a->x - len, py);
        cairo_stroke(cr);
        if (!r->y.major[i]) continue;
        tick_label(&r->y, v, buf, sizeof buf);
        set_rgb(cr, r->th->fg, 1);
        figure_text(r, buf, a->x - tick_len - 0.4 * pad, py, 1, 0.5);
        set_rgb(cr, r->th->spine, 1);
    }
    if (r->has_y2)
        for (int i = 0; i < r->y2.n; i++) {
            double v = r->y2.v[i], len = r->y2.major[i] ? tick_len : 0.5 * tick_len;
            double py = y2_to_pixel(&r->fr, v);
            cairo_move_to(cr, a->x + a->w, py);
            cairo_line_to(cr, a->x + a->w + len, py);
            cairo_stroke(cr);
            if (!r->y2.major[i]) continue;
            tick_label(&r->y2, v, buf, sizeof buf);
            set_rgb(cr, r->th->fg, 1);
            figure_text(r, buf, a->x + a->w + tick_len + 0.4 * pad, py, 0, 0.5);
            set_rgb(cr, r->th->spine, 1);
        }
    double below = a->y + a->h + tick_len + 0.4 * pad;
    if (f->type != PLOT_BARS) {
        for (int i = 0; i < r->x.n; i++) {
            double v = r->x.v[i], len = r->x.major[i] ? tick_len : 0.5 * tick_len;
            double px = plot_x_to_pixel(&r->fr, v);
            cairo_move_to(cr, px, a->y + a->h);
            cairo_line_to(cr, px, a->y + a->h + len);
            cairo_stroke(cr);
            if (!r->x.major[i]) continue;
            tick_label(&r->x, v, buf, sizeof buf);
            set_rgb(cr, r->th->fg, 1);
            figure_text(r, buf, px, below, 0.5, 0);
            set_rgb(cr, r->th->spine, 1);
        }
    } else {
        double gw = a->w / (f->n_groups > 0 ? f->n_groups : 1);
        for (int g = 0; g < f->n_groups; g++) {
            double size = r->fs_tick, w;
            /* Long category names shrink to fit their group rather than run into the next. */
            for (;;) {
                set_font(r, size);
                w = text_width(r, f->groups[g]);
                if (w <= 0.96 * gw || size < 0.6 * r->fs_tick) break;
                size *= 0.92;
            }
            set_rgb(cr, r->th->fg, 1);
            figure_text(r, f->groups[g], a->x + (g + 0.5) * gw, below, 0.5, 0);
        }
        set_font(r, r->fs_tick);
    }

    /* Frame around the plot area. */
    set_rgb(cr, r->th->spine, 1);
    cairo_set_line_width(cr, 1.3 * u);
    cairo_rectangle(cr, a->x, a->y, a->w, a->h);
    cairo_stroke(cr);

    /* Axis titles with units. */
    char title[256];
    set_font(r, r->fs_label);
    set_rgb(cr, r->th->fg, 1);
    double tick_h;
    {
        set_font(r, r->fs_tick);
        tick_h = line_height(r);
        set_font(r, r->fs_label);
    }
    axis_title(f->x_label, f->x_unit, f->type != PLOT_BARS && !r->x.log ? r->x.exponent : 0,
               title, sizeof title);
    figure_text(r, title, a->x + 0.5 * a->w, below + tick_h + 0.5 * pad, 0.5, 0);

    axis_title(f->y_label, f->y_unit, r->y.exponent, title, sizeof title);
    cairo_save(cr);
    cairo_translate(cr, pad, a->y + 0.5 * a->h);
    cairo_rotate(cr, -0.5 * PLOT_PI);
    figure_text(r, title, 0, 0, 0.5, 0);
    cairo_restore(cr);
    if (r->has_y2) {
        axis_title(f->y2_label, f->y2_unit, r->y2.exponent, title, sizeof title);
        cairo_save(cr);
        cairo_translate(cr, r->s->width - pad, a->y + 0.5 * a->h);
        cairo_rotate(cr, 0.5 * PLOT_PI);
        figure_text(r, title, 0, 0, 0.5, 0);
        cairo_restore(cr);
    }
}

/* Stacked areas: each left-axis series filled between the running sum below it and itself. */
static int draw_stacked(render *r)
{
    const plot_figure *f = r->f;
    cairo_t *cr = r->cr;
    const plot_series *first = NULL;
    for (int s = 0; s < f->n_series; s++)
        if (!f->series[s].right_axis) {
            first = &f->series[s];
            break;
        }
    if (!first) return BRAGG_OK;
    int n = first->n;
    double *base = calloc((size_t)(n > 0 ? n : 1), sizeof *base);
    if (!base) return BRAGG_ERR;
    for (int s = 0; s < f->n_series; s++) {
        const plot_series *ps = &f->series[s];
        if (ps->right_axis || ps->n != n) continue;
        double rgb[3];
        plot_palette_colour(r->s->theme, ps->colour, rgb);
        /* Fill: top edge forward, previous top backward. */
        int i = 0;
        while (i < n) {
            while (i < n && !point_ok(r, ps, i)) i++;
            int start = i;
            while (i < n && point_ok(r, ps, i)) i++;
            if (i - start < 2) continue;
            for (int k = start; k < i; k++) {
                double px = plot_x_to_pixel(&r->fr, ps->x[k]);
                double py = plot_y_to_pixel(&r->fr, base[k] + ps->y[k]);
                if (k == start) cairo_move_to(cr, px, py);
                else cairo_line_to(cr, px, py);
            }
            for (int k = i - 1; k >= start; k--)
                cairo_line_to(cr, plot_x_to_pixel(&r->fr, ps->x[k]),
                              plot_y_to_pixel(&r->fr, base[k]));
            cairo_close_path(cr);
        }
        set_rgb(cr, rgb, 0.6);
        cairo_fill(cr);
        path_line(r, ps, base);
        set_rgb(cr, rgb, 1);
        cairo_set_line_width(cr, 0.6 * r->fr.line_width);
        cairo_stroke(cr);
        for (int k = 0; k < n; k++)
            if (isfinite(ps->y[k])) base[k] += ps->y[k];
    }
    free(base);
    return BRAGG_OK;
}

static void draw_markers(render *r)
{
    const plot_figure *f = r->f;
    cairo_t *cr = r->cr;
    const plot_rect *a = &r->fr.area;
    double u = r->u;
    for (int m = 0; m < f->n_markers; m++) {
        const plot_marker *mk = &f->markers[m];
        if (!on_axis(mk->x0, r->fr.x_log)) continue;
        double p0 = plot_x_to_pixel(&r->fr, mk->x0);
        if (on_axis(mk->x1, r->fr.x_log)) {
            double p1 = plot_x_to_pixel(&r->fr, mk->x1);
            cairo_rectangle(cr, fmin(p0, p1), a->y, fmax(fabs(p1 - p0), 1.0), a->h);
            set_rgb(cr, r->th->muted, 0.16);
            cairo_fill(cr);
        } else {
            double d[2] = {6 * u, 4 * u};
            cairo_set_dash(cr, d, 2, 0);
            cairo_move_to(cr, p0, a->y);
            cairo_line_to(cr, p0, a->y + a->h);
            set_rgb(cr, r->th->muted, 0.9);
            cairo_set_line_width(cr, 1.4 * u);
            cairo_stroke(cr);
            cairo_set_dash(cr, NULL, 0, 0);
        }
    }
}

static void draw_marker_labels(render *r)
{
    cairo_t *cr = r->cr;
    set_font(r, r->fs_note);
    for (int m = 0; m < r->f->n_markers; m++) {
        const placed *pl = &r->labels[m];
        if (!isfinite(r->f->markers[m].x0)) continue;
        cairo_rectangle(cr, pl->box.x, pl->box.y, pl->box.w, pl->box.h);
        set_rgb(cr, r->th->bg, 0.85);
        cairo_fill(cr);
        set_rgb(cr, r->th->fg, 1);
        figure_text(r, pl->text, pl->text_x, pl->box.y + 0.5 * pl->box.h, 0, 0.5);
    }
}

static void draw_lines(render *r)
{
    const plot_figure *f = r->f;
    cairo_t *cr = r->cr;
    /* Bands first, so no band covers another series' line. */
    for (int s = 0; s < f->n_series; s++) {
        const plot_series *ps = &f->series[s];
        if (!ps->err || ps->points || (f->stacked && !ps->right_axis)) continue;
        double rgb[3];
        plot_palette_colour(r->s->theme, ps->colour, rgb);
        path_band(r, ps);
        set_rgb(cr, rgb, 0.22);
        cairo_fill(cr);
    }
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
    for (int s = 0; s < f->n_series; s++) {
        const plot_series *ps = &f->series[s];
        if (f->stacked && !ps->right_axis) continue;
        if (ps->points) {
            draw_points(r, ps);
            continue;
        }
        double rgb[3];
        plot_palette_colour(r->s->theme, ps->colour, rgb);
        path_line(r, ps, NULL);
        set_dash(r, ps->dashed);
        set_rgb(cr, rgb, 1);
        cairo_set_line_width(cr, r->fr.line_width);
        cairo_stroke(cr);
        cairo_set_dash(cr, NULL, 0, 0);
    }
}

static void draw_bars(render *r)
{
    const plot_figure *f = r->f;
    cairo_t *cr = r->cr;
    const plot_rect *a = &r->fr.area;
    int ns = f->n_series > 0 ? f->n_series : 1;
    double gw = a->w / (f->n_groups > 0 ? f->n_groups : 1), bw = bar_width(r);
    double y0 = plot_y_to_pixel(&r->fr, 0);
    for (int s = 0; s < f->n_series; s++) {
        const plot_series *ps = &f->series[s];
        double rgb[3];
        plot_palette_colour(r->s->theme, ps->colour, rgb);
        for (int g = 0; g < ps->n && g < f->n_groups; g++) {
            if (!isfinite(ps->y[g])) continue;
            double x = a->x + (g + 0.5) * gw + (s - 0.5 * ns) * bw, y = plot_y_to_pixel(&r->fr, ps->y[g]);
            cairo_rectangle(cr, x + 0.06 * bw, fmin(y, y0), 0.88 * bw, fabs(y0 - y));
            set_rgb(cr, rgb, 1);
            cairo_fill(cr);
            if (ps->notes && ps->notes[g]) {
                set_font(r, r->fs_note);
                double size = r->fs_note;
                while (text_width(r, ps->notes[g]) > 1.15 * bw && size > 0.6 * r->fs_note) {
                    size *= 0.92;
                    set_font(r, size);
                }
                set_rgb(cr, r->th->fg, 1);
                figure_text(r, ps->notes[g], x + 0.5 * bw, fmin(y, y0) - 4 * r->u, 0.5, 1);
            }
        }
    }
}

/* The heat map's cells: an image of one pixel per cell, scaled onto the plot area without
 * smoothing (a cell is a measured value, not a sample of a smooth field). */
static int draw_heatmap(render *r)
{
    const plot_heatmap *h = &r->f->heat;
    cairo_surface_t *img = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, h->nx, h->ny);
    if (cairo_surface_status(img) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(img);
        return BRAGG_ERR;
    }
    cairo_surface_flush(img);
    unsigned char *data = cairo_image_surface_get_data(img);
    int stride = cairo_image_surface_get_stride(img);
    for (int j = 0; j < h->ny; j++) {
        uint32_t *row = (uint32_t *)(void *)(data + (size_t)(h->ny - 1 - j) * stride);   /* y up */
        for (int i = 0; i < h->nx; i++) {
            double v = h->z[(size_t)j * h->nx + i], t;
            t = !isfinite(v) || (h->log && v <= 0) ? NAN
                : h->log ? (log10(v) - r->z_lo) / (r->z_hi - r->z_lo)
                         : (v - r->z_lo) / (r->z_hi - r->z_lo);
            /* Below a log scale's floor is off the scale, not its lowest colour. */
            if (!(t >= -1e-12)) {
                row[i] = 0;   /* transparent: the background shows */
                continue;
            }
            double rgb[3];
            plot_scale_colour(t, rgb);
            row[i] = 0xff000000u | (uint32_t)lround(255 * rgb[0]) << 16 |
                     (uint32_t)lround(255 * rgb[1]) << 8 | (uint32_t)lround(255 * rgb[2]);
        }
    }
    cairo_surface_mark_dirty(img);
    const plot_rect *a = &r->fr.area;
    double x0 = plot_x_to_pixel(&r->fr, h->x0), x1 = plot_x_to_pixel(&r->fr, h->x0 + h->nx * h->dx);
    double y1 = plot_y_to_pixel(&r->fr, h->y0), y0 = plot_y_to_pixel(&r->fr, h->y0 + h->ny * h->dy);
    cairo_t *cr = r->cr;
    cairo_save(cr);
    cairo_rectangle(cr, a->x, a->y, a->w, a->h);
    cairo_clip(cr);
    cairo_translate(cr, x0, y0);
    cairo_scale(cr, (x1 - x0) / h->nx, (y1 - y0) / h->ny);
    cairo_set_source_surface(cr, img, 0, 0);
    cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
    cairo_paint(cr);
    cairo_restore(cr);
    cairo_surface_destroy(img);
    return BRAGG_OK;
}

/* The colour bar right of the plot: the scale, its ticks and labels, and its title. */
static void draw_colour_bar(render *r)
{
    cairo_t *cr = r->cr;
    const plot_rect *a = &r->fr.area;
    double u = r->u, tick_len = 7 * u, pad = 18 * u, x = r->bar_x, w = r->bar_w;
    cairo_pattern_t *g = cairo_pattern_create_linear(0, a->y + a->h, 0, a->y);
    for (int k = 0; k < 9; k++)
        cairo_pattern_add_color_stop_rgb(g, viridis_at[k], viridis[k][0], viridis[k][1],
                                         viridis[k][2]);
    cairo_rectangle(cr, x, a->y, w, a->h);
    cairo_set_source(cr, g);
    cairo_fill(cr);
    cairo_pattern_destroy(g);
    set_rgb(cr, r->th->spine, 1);
    cairo_set_line_width(cr, 1.3 * u);
    cairo_rectangle(cr, x, a->y, w, a->h);
    cairo_stroke(cr);
    double v[64];
    char buf[64];
    int n = colour_ticks(r, v, 64);
    set_font(r, r->fs_tick);
    double label_w = colour_labels_width(r);
    for (int i = 0; i < n; i++) {
        double py = a->y + a->h * (1 - (v[i] - r->z_lo) / (r->z_hi - r->z_lo));
        set_rgb(cr, r->th->spine, 1);
        cairo_move_to(cr, x + w, py);
        cairo_line_to(cr, x + w + tick_len, py);
        cairo_stroke(cr);
        colour_tick_label(r, v[i], buf, sizeof buf);
        set_rgb(cr, r->th->fg, 1);
        figure_text(r, buf, x + w + tick_len + 0.4 * pad, py, 0, 0.5);
    }
    char title[256];
    const plot_heatmap *h = &r->f->heat;
    axis_title(h->z_label, h->z_unit, h->log ? 0 : r->z.exponent, title, sizeof title);
    set_font(r, r->fs_label);
    set_rgb(cr, r->th->fg, 1);
    cairo_save(cr);
    cairo_translate(cr, x + w + tick_len + 0.4 * pad + label_w + 0.6 * pad, a->y + 0.5 * a->h);
    cairo_rotate(cr, 0.5 * PLOT_PI);
    figure_text(r, title, 0, 0, 0.5, 1);
    cairo_restore(cr);
}

/* The checks every surface kind shares; messages name the option a user sets. */
static int check_style(const plot_figure *f, const plot_style *s, bragg_err *e)
{
    if (s->width < PLOT_MIN_WIDTH || s->height < PLOT_MIN_HEIGHT || s->width > PLOT_MAX_SIDE ||
        s->height > PLOT_MAX_SIDE)
        return bragg_fail(e, "--size: %dx%d is out of range (width %d to %d, height %d to %d)",
                          s->width, s->height, PLOT_MIN_WIDTH, PLOT_MAX_SIDE, PLOT_MIN_HEIGHT,
                          PLOT_MAX_SIDE);
    if (!(s->scale >= 0.25 && s->scale <= 8))
        return bragg_fail(e, "--scale: %g is out of range (0.25 to 8)", s->scale);
    if (f->n_series == 0 && !(f->type == PLOT_HEATMAP && f->heat.z))
        return bragg_fail(e, "plot: nothing to draw (no data series)");
    return BRAGG_OK;
}

/* The figure's note in the middle of the plot area, on a backing box so that grid lines do not
 * cross it. */
static void draw_note(render *r)
{
    const char *note = r->f->note;
    if (!note || !*note) return;
    const plot_rect *a = &r->fr.area;
    set_font(r, r->fs_label);
    double w = text_width(r, note), h = line_height(r), pad = 10 * r->u;
    double cx = a->x + 0.5 * a->w, cy = a->y + 0.5 * a->h;
    cairo_rectangle(r->cr, cx - 0.5 * w - pad, cy - 0.5 * h - pad, w + 2 * pad, h + 2 * pad);
    set_rgb(r->cr, r->th->bg, 0.9);
    cairo_fill(r->cr);
    set_rgb(r->cr, r->th->fg, 0.85);
    figure_text(r, note, cx, cy, 0.5, 0.5);
}

/* Draws the figure onto any cairo surface of the style's size: an image for PNG, or the SVG
 * and PDF vector surfaces, whose units are set so that one unit is one pixel of the PNG. The
 * layout is the same on all of them. */
static int render_on(const plot_figure *f, const plot_style *s, cairo_surface_t *surf,
                     plot_frame *frame, bragg_err *e)
{
    render r;
    memset(&r, 0, sizeof r);
    r.cr = cairo_create(surf);
    r.f = f;
    r.s = s;
    r.th = s->theme == PLOT_THEME_DARK ? &theme_dark : &theme_light;
    /* Sizes follow the image (a 800x500 figure looks like the 1600x1000 one, halved) and the
     * user's --scale, like a dpi setting. */
    r.u = s->scale * sqrt((double)s->width * s->height / (1600.0 * 1000.0));
    r.fs_title = 30 * r.u;
    r.fs_label = 23 * r.u;
    r.fs_tick = 20 * r.u;
    r.fs_legend = 20 * r.u;
    r.fs_note = 17 * r.u;
    r.fs_footer = 14 * r.u;

    cairo_t *cr = r.cr;
    set_rgb(cr, r.th->bg, 1);
    cairo_paint(cr);

    /* Marker labels need the x mapping and reserve rows at the top, which changes the y
     * mapping only: lay out, place, lay out again with the rows. */
    layout(&r, 0);
    if (f->type == PLOT_LINES && f->n_markers > 0) {
        int rows = place_labels(&r);
        layout(&r, rows);
        place_labels(&r);
    }

    if (f->title && *f->title) {
        set_font(&r, r.fs_title);
        set_rgb(cr, r.th->fg, 1);
        figure_text(&r, f->title, 0.5 * s->width, 18 * r.u, 0.5, 0);
    }
    draw_grid_and_axes(&r);

    int rc = BRAGG_OK;
    cairo_save(cr);
    cairo_rectangle(cr, r.fr.area.x, r.fr.area.y, r.fr.area.w, r.fr.area.h);
    cairo_clip(cr);
    if (f->type == PLOT_BARS) {
        draw_bars(&r);
    } else if (f->type == PLOT_HEATMAP) {
        if (draw_heatmap(&r)) rc = BRAGG_ERR;
        draw_regions(&r, 1);
        draw_lines(&r);
    } else {
        draw_regions(&r, 0);
        draw_markers(&r);
        if (f->stacked) rc = draw_stacked(&r);
        draw_lines(&r);
        draw_regions(&r, 1);
        draw_marker_labels(&r);
        draw_note(&r);
    }
    cairo_restore(cr);
    if (f->type == PLOT_HEATMAP) draw_colour_bar(&r);
    draw_legend(&r);

    if (f->footer && *f->footer) {
        set_font(&r, r.fs_footer);
        set_rgb(cr, r.th->muted, 1);
        figure_text(&r, f->footer, s->width - 12 * r.u, s->height - 8 * r.u, 1, 1);
    }
    cairo_status_t st = cairo_status(cr);
    cairo_destroy(cr);
    if (rc != BRAGG_OK || st != CAIRO_STATUS_SUCCESS)
        return bragg_fail(e, "plot: drawing failed: %s",
                          rc != BRAGG_OK ? "out of memory" : cairo_status_to_string(st));
    if (frame) *frame = r.fr;
    return BRAGG_OK;
}

int plot_render(const plot_figure *f, const plot_style *s, cairo_surface_t **surface,
                plot_frame *frame, bragg_err *e)
{
    *surface = NULL;
    if (check_style(f, s, e)) return BRAGG_ERR;
    cairo_surface_t *surf = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, s->width, s->height);
    if (cairo_surface_status(surf) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(surf);
        return bragg_fail(e, "plot: cannot create a %dx%d image (out of memory?)", s->width,
                          s->height);
    }
    if (render_on(f, s, surf, frame, e)) {
        cairo_surface_destroy(surf);
        return BRAGG_ERR;
    }
    cairo_surface_flush(surf);
    *surface = surf;
    return BRAGG_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Files                                                                                      */

static const char *const format_names[PLOT_FORMATS] = {"png", "svg", "pdf"};

const char *plot_format_name(plot_format fmt)
{
    return fmt >= 0 && fmt < PLOT_FORMATS ? format_names[fmt] : "?";
}

/* cairo's vector surfaces write through a callback; the bytes are gathered in memory (a figure
 * is well under a megabyte) so that the SVG can have its metadata put in before one atomic
 * write. */
typedef struct byte_sink {
    unsigned char *data;
    size_t len, cap;
    int failed;
} byte_sink;

static cairo_status_t sink_write(void *closure, const unsigned char *data, unsigned int length)
{
    byte_sink *b = closure;
    if (b->failed) return CAIRO_STATUS_WRITE_ERROR;
    if (b->len + length + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1 << 16;
        while (cap < b->len + length + 1) cap *= 2;
        unsigned char *d = realloc(b->data, cap);
        if (!d) {
            b->failed = 1;
            return CAIRO_STATUS_NO_MEMORY;
        }
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, length);
    b->len += length;
    b->data[b->len] = '\0';
    return CAIRO_STATUS_SUCCESS;
}

/* Appends `text` with the five XML special characters escaped; control characters other than
 * tab and newline (never in bragg's metadata, but not allowed in XML 1.0) are dropped. */
static void sink_xml_text(byte_sink *b, const char *text)
{
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        const char *rep = NULL;
        switch (*p) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&apos;"; break;
        default:
            if (*p < 0x20 && *p != '\n' && *p != '\t') continue;
        }
        if (rep) sink_write(b, (const unsigned char *)rep, (unsigned)strlen(rep));
        else sink_write(b, p, 1);
    }
}

static void sink_str(byte_sink *b, const char *text)
{
    sink_write(b, (const unsigned char *)text, (unsigned)strlen(text));
}

/* cairo's SVG has no metadata of its own: the figure's title and its key/value metadata go in
 * right after the opening <svg ...> tag, as <title> and a <metadata> element, so the SVG
 * carries the same provenance as the PNG's text chunks. */
static int svg_with_metadata(const plot_figure *f, const byte_sink *in, byte_sink *out)
{
    const char *doc = (const char *)in->data;
    const char *svg = doc ? strstr(doc, "<svg") : NULL;
    const char *end = svg ? strchr(svg, '>') : NULL;
    if (!end) return BRAGG_ERR;
    size_t head = (size_t)(end + 1 - doc);
    sink_write(out, in->data, (unsigned)head);
    if (f->title && *f->title) {
        sink_str(out, "\n<title>");
        sink_xml_text(out, f->title);
        sink_str(out, "</title>");
    }
    sink_str(out, "\n<metadata>\n<bragg:provenance xmlns:bragg=\"urn:bragg:provenance\">\n");
    for (int i = 0; i < f->n_meta; i++) {
        sink_str(out, "<bragg:entry key=\"");
        sink_xml_text(out, f->meta_key[i]);
        sink_str(out, "\">");
        sink_xml_text(out, f->meta_value[i]);
        sink_str(out, "</bragg:entry>\n");
    }
    sink_str(out, "</bragg:provenance>\n</metadata>");
    sink_write(out, in->data + head, (unsigned)(in->len - head));
    return out->failed ? BRAGG_ERR : BRAGG_OK;
}

static const char *meta_value(const plot_figure *f, const char *key)
{
    for (int i = 0; i < f->n_meta; i++)
        if (strcmp(f->meta_key[i], key) == 0) return f->meta_value[i];
    return NULL;
}

/* The PDF's document information: title, creator (the bragg that drew it), and every other
 * metadata entry as "key=value" keywords, since cairo before 1.18 writes only the standard
 * fields; from 1.18 each entry is also a custom field of its own. */
static void pdf_metadata(const plot_figure *f, cairo_surface_t *surf)
{
    if (f->title) cairo_pdf_surface_set_metadata(surf, CAIRO_PDF_METADATA_TITLE, f->title);
    const char *sw = meta_value(f, "Software");
    if (sw) cairo_pdf_surface_set_metadata(surf, CAIRO_PDF_METADATA_CREATOR, sw);
    if (f->footer) cairo_pdf_surface_set_metadata(surf, CAIRO_PDF_METADATA_SUBJECT, f->footer);
    byte_sink kw = {0};
    for (int i = 0; i < f->n_meta; i++) {
        if (strcmp(f->meta_key[i], "Title") == 0 || strcmp(f->meta_key[i], "Software") == 0)
            continue;
        if (kw.len) sink_str(&kw, "; ");
        sink_str(&kw, f->meta_key[i]);
        sink_str(&kw, "=");
        sink_str(&kw, f->meta_value[i]);
#if CAIRO_VERSION >= CAIRO_VERSION_ENCODE(1, 18, 0)
        cairo_pdf_surface_set_custom_metadata(surf, f->meta_key[i], f->meta_value[i]);
#endif
    }
    if (kw.data && !kw.failed)
        cairo_pdf_surface_set_metadata(surf, CAIRO_PDF_METADATA_KEYWORDS, (const char *)kw.data);
    free(kw.data);
}

/* SVG or PDF: drawn into memory, then written atomically. */
static int write_vector(const plot_figure *f, const plot_style *s, plot_format fmt,
                        const char *path, const char *what, plot_frame *frame, bragg_err *e)
{
    byte_sink raw = {0}, doc = {0};
    cairo_surface_t *surf;
    if (fmt == PLOT_FORMAT_SVG) {
        surf = cairo_svg_surface_create_for_stream(sink_write, &raw, s->width, s->height);
        cairo_svg_surface_restrict_to_version(surf, CAIRO_SVG_VERSION_1_1);
        /* Pixels, so the SVG opens at the PNG's size in a browser. */
        cairo_svg_surface_set_document_unit(surf, CAIRO_SVG_UNIT_PX);
    } else {
        surf = cairo_pdf_surface_create_for_stream(sink_write, &raw, s->width, s->height);
        pdf_metadata(f, surf);
    }
    int rc = cairo_surface_status(surf) == CAIRO_STATUS_SUCCESS
                 ? render_on(f, s, surf, frame, e)
                 : bragg_fail(e, "%s: cannot create the %s surface: %s", what,
                              plot_format_name(fmt), cairo_status_to_string(cairo_surface_status(surf)));
    cairo_surface_finish(surf);
    if (rc == BRAGG_OK && (raw.failed || cairo_surface_status(surf) != CAIRO_STATUS_SUCCESS))
        rc = bragg_fail(e, "%s: cannot draw %s: %s", what, path,
                        raw.failed ? "out of memory"
                                   : cairo_status_to_string(cairo_surface_status(surf)));
    cairo_surface_destroy(surf);
    const byte_sink *out = &raw;
    if (rc == BRAGG_OK && fmt == PLOT_FORMAT_SVG) {
        if (svg_with_metadata(f, &raw, &doc))
            rc = bragg_fail(e, "%s: cannot add the metadata to %s (out of memory?)", what, path);
        out = &doc;
    }
    if (rc == BRAGG_OK) {
        atomic_file af;
        if (atomic_file_open(&af, path, what, e)) {
            rc = BRAGG_ERR;
        } else {
            fwrite(out->data, 1, out->len, af.file);
            if (atomic_file_commit(&af, e)) rc = BRAGG_ERR;   /* its message names `what` */
        }
    }
    free(raw.data);
    free(doc.data);
    return rc;
}

int plot_write(const plot_figure *f, const plot_style *s, plot_format fmt, const char *path,
               const char *what, plot_frame *frame, bragg_err *e)
{
    if (fmt < 0 || fmt >= PLOT_FORMATS) return bragg_fail(e, "%s: internal error: no such format", what);
    if (strcmp(path, "-") == 0)
        return bragg_fail(e, "%s: a figure is not written to the terminal; give a file name", what);
    if (fmt != PLOT_FORMAT_PNG) {
        if (check_style(f, s, e)) return BRAGG_ERR;
        return write_vector(f, s, fmt, path, what, frame, e);
    }
    cairo_surface_t *surf;
    if (plot_render(f, s, &surf, frame, e)) return BRAGG_ERR;
    int rc = png_file_write(path, what, surf, (const char *const *)f->meta_key,
                            (const char *const *)f->meta_value, f->n_meta, e);
    cairo_surface_destroy(surf);
    return rc;
}

int plot_outputs_any(const plot_outputs *o)
{
    for (int k = 0; k < PLOT_FORMATS; k++)
        if (o->path[k]) return 1;
    return 0;
}

int plot_outputs_check(const plot_outputs *o, bragg_err *e)
{
    for (int k = 0; k < PLOT_FORMATS; k++) {
        if (!o->path[k]) continue;
        char what[16];
        snprintf(what, sizeof what, "--%s", format_names[k]);
        if (strcmp(o->path[k], "-") == 0)
            return bragg_fail(e, "%s: a figure is not written to the terminal; give a file name",
                              what);
        if (atomic_file_check_path(o->path[k], what, e)) return BRAGG_ERR;
    }
    return BRAGG_OK;
}

int plot_outputs_uses(const plot_outputs *o, file_use *uses)
{
    static const char *const options[PLOT_FORMATS] = {"--png", "--svg", "--pdf"};
    int n = 0;
    for (int k = 0; k < PLOT_FORMATS; k++)
        if (o->path[k]) uses[n++] = (file_use){o->path[k], options[k], 0};
    return n;
}

int plot_outputs_write(const plot_figure *f, const plot_style *s, const plot_outputs *o,
                       bragg_err *e)
{
    for (int k = 0; k < PLOT_FORMATS; k++) {
        if (!o->path[k]) continue;
        char what[16];
        snprintf(what, sizeof what, "--%s", format_names[k]);
        if (plot_write(f, s, (plot_format)k, o->path[k], what, NULL, e)) return BRAGG_ERR;
    }
    return BRAGG_OK;
}
