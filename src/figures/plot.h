/*
 * plot.h - publication-quality figures: a neutral description of a plot and a cairo renderer.
 *
 * What it is for: one renderer for every figure bragg exports (depth-dose with its error band,
 * dose by charge, LET, lateral spread, overlays of runs, benchmark bars). The CLI fills a
 * plot_figure from a run or a JSON file (src/figures/figures.h); the workbench's export key
 * (ui/tui.c) fills one the same way. The renderer knows nothing about runs: only series, markers, bars, axis
 * labels with units, a title and key/value metadata (PNG text chunks, SVG <metadata>, PDF document
 * information).
 *
 * Three kinds of figure:
 *   PLOT_LINES    series of (x, y) with an optional +-1 sigma band (err), on the left or the
 *                 right y axis, solid, dashed or dotted, optionally stacked as filled areas, or
 *                 as points with error bars (measurements); vertical markers (a line at x, or
 *                 a shaded span x0..x1) with labels; named regions (slabs); linear or
 *                 logarithmic axes.
 *   PLOT_BARS     categories along x (plot_add_group) and one bar series per legend entry,
 *                 each bar with an optional note printed above it.
 *   PLOT_HEATMAP  a grid of cells coloured by value (plot_set_heatmap) on a perceptually
 *                 uniform scale (viridis), linear or logarithmic, with a colour bar; line
 *                 series drawn over it share its axes.
 * NaN in x or y is a gap: the line and the band break there.
 *
 * Memory: a plot_figure owns copies of everything added to it (strings, arrays); the caller's
 * buffers may be freed right after the call. plot_figure_free releases it all. plot_render
 * returns a new cairo image surface the caller destroys; plot_write keeps nothing.
 *
 * Threads: a plot_figure belongs to one thread. Rendering uses cairo's image, SVG and PDF
 * backends and toy font API, which are thread-safe, so any thread may render its own figure
 * (the workbench renders on its UI thread).
 */
#ifndef BRAGG_PLOT_H
#define BRAGG_PLOT_H

#include <cairo.h>

#include "atomic_file.h"
#include "err.h"

#define PLOT_MAX_SERIES  64   /* an SOBP draws each pristine peak */
#define PLOT_MAX_MARKERS 8
#define PLOT_MAX_REGIONS 16
#define PLOT_MAX_GROUPS  32
#define PLOT_MAX_META    64

typedef enum plot_type { PLOT_LINES, PLOT_BARS, PLOT_HEATMAP } plot_type;
typedef enum plot_theme { PLOT_THEME_LIGHT, PLOT_THEME_DARK } plot_theme;

typedef struct plot_series {
    char *label;
    int n;
    double *x, *y;       /* lines: n points; bars: n = groups, x unused (NULL) */
    double *err;         /* lines: +-1 sigma band; points: error bars (NULL: none) */
    char **notes;        /* bars: text above each bar (NULL or NULL entries: none) */
    int right_axis;      /* lines: 1 = plotted against the right y axis */
    int dashed;          /* line style: 0 solid, 1 dashed, 2 dotted, 3 dash-dot */
    int points;          /* lines: markers with error bars (measurements), no line */
    int colour;          /* index into the theme's palette (default: series index), or
                            PLOT_COLOUR_NEUTRAL */
} plot_series;

typedef struct plot_marker {
    double x0, x1;       /* x1 NaN: a line at x0; otherwise a shaded span */
    char *label;
} plot_marker;

/* A heat map: nx x ny cells, cell (i, j) covering [x0 + i dx, x0 + (i+1) dx) x [y0 + j dy,
 * y0 + (j+1) dy), coloured by z[j * nx + i]. NaN cells, and with a log scale cells below its
 * floor, are left blank. */
typedef struct plot_heatmap {
    int nx, ny;
    double x0, dx, y0, dy;
    double *z;
    int log;                 /* logarithmic colour scale */
    double log_decades;      /* log: the scale spans max / 10^decades to max (default 4) */
    char *z_label, *z_unit;  /* the colour bar's title */
} plot_heatmap;

/* A span of x with a name (a slab of the target): every other region is shaded, each
 * boundary drawn as a line, the name written at the bottom of the span where it fits. */
typedef struct plot_region {
    double x0, x1;       /* x1 may be INFINITY: to the end of the axis */
    char *label;
} plot_region;

typedef struct plot_figure {
    plot_type type;
    char *title;
    char *footer;                       /* small provenance line at the bottom right */
    char *note;                         /* lines: a remark in the middle of the plot area, for
                                           what the data cannot show ("no dose at 18 cm") */
    char *x_label, *x_unit;             /* axis name and unit: "depth", "cm" */
    char *y_label, *y_unit;
    char *y2_label, *y2_unit;           /* right axis (lines with right_axis series) */
    int stacked;                        /* lines: left-axis series drawn as stacked areas */
    int y_from_zero;                    /* include 0 in the left y axis (linear axes) */
    int x_log, y_log, y2_log;           /* lines: logarithmic axes; values <= 0 are gaps */
    double log_floor;                   /* a log y axis spans at most top * log_floor to top
                                           (default 1e-6) */
    int n_series;
    plot_series series[PLOT_MAX_SERIES];
    int n_markers;
    plot_marker markers[PLOT_MAX_MARKERS];
    int n_regions;
    plot_region regions[PLOT_MAX_REGIONS];
    int n_groups;
    char *groups[PLOT_MAX_GROUPS];      /* bars: category labels along x */
    int n_meta;
    char *meta_key[PLOT_MAX_META], *meta_value[PLOT_MAX_META];
    plot_heatmap heat;                  /* PLOT_HEATMAP */
} plot_figure;

void plot_figure_init(plot_figure *f, plot_type type);
void plot_figure_free(plot_figure *f);

/* Setters copy their strings; NULL clears. Return BRAGG_ERR only when out of memory. */
int plot_set_title(plot_figure *f, const char *title, bragg_err *e);
int plot_set_footer(plot_figure *f, const char *footer, bragg_err *e);
int plot_set_note(plot_figure *f, const char *note, bragg_err *e);
int plot_set_axes(plot_figure *f, const char *x_label, const char *x_unit, const char *y_label,
                  const char *y_unit, bragg_err *e);
int plot_set_right_axis(plot_figure *f, const char *label, const char *unit, bragg_err *e);

/* Adds a line series (copies x, y and err, which may be NULL). Returns its index, or BRAGG_ERR
 * (negative) when full or out of memory. A series with a NULL or empty label is not in the
 * legend; one with n = 0 points (x, y NULL) is in the legend only, standing for a colour or a
 * line style that several curves share. */
int plot_add_series(plot_figure *f, const char *label, int n, const double *x, const double *y,
                    const double *err, bragg_err *e);
/* Adds a category along x for bar figures; returns its index. */
int plot_add_group(plot_figure *f, const char *label, bragg_err *e);
/* Adds a bar series: one value per group added so far (NaN: no bar), notes may be NULL. */
int plot_add_bars(plot_figure *f, const char *label, const double *values,
                  const char *const *notes, bragg_err *e);
/* A vertical marker line (x1 = NaN) or span [x0, x1] with a label. */
int plot_add_marker(plot_figure *f, double x0, double x1, const char *label, bragg_err *e);
/* The heat map's cells (copies z) and its colour bar's title and scale. */
int plot_set_heatmap(plot_figure *f, int nx, int ny, double x0, double dx, double y0, double dy,
                     const double *z, bragg_err *e);
int plot_set_colour_bar(plot_figure *f, const char *label, const char *unit, int log,
                        bragg_err *e);
/* A named span of x (a slab), see plot_region. */
int plot_add_region(plot_figure *f, double x0, double x1, const char *label, bragg_err *e);
/* A metadata entry (PNG text chunk, SVG and PDF metadata). Keys: 1-79 printable Latin-1
 * characters. */
int plot_add_meta(plot_figure *f, const char *key, const char *value, bragg_err *e);

typedef struct plot_style {
    int width, height;   /* pixels (default 1600 x 1000) */
    double scale;        /* multiplies text, lines and margins, like a higher dpi (default 1) */
    plot_theme theme;
} plot_style;

#define PLOT_MIN_WIDTH  320
#define PLOT_MIN_HEIGHT 200
#define PLOT_MAX_SIDE   10000

void plot_style_default(plot_style *s);
/* Parses "WxH" into s->width and s->height, checking [PLOT_MIN_*, PLOT_MAX_SIDE]. */
int plot_parse_size(const char *text, plot_style *s, bragg_err *e);
/* Parses "light" or "dark". */
int plot_parse_theme(const char *text, plot_style *s, bragg_err *e);

typedef struct plot_rect {
    double x, y, w, h;   /* device pixels; (0, 0) is the top-left corner of the image */
} plot_rect;

/* Where things landed: the plot area and the ranges its edges stand for. Coordinates are
 * continuous device pixels: pixel column i covers [i, i + 1). */
typedef struct plot_frame {
    plot_rect area;
    double x_lo, x_hi, y_lo, y_hi, y2_lo, y2_hi;
    int x_log, y_log, y2_log;           /* the mapping is logarithmic along that axis */
    int has_legend;
    plot_rect legend;
    double line_width;   /* of data lines, pixels */
} plot_frame;

double plot_x_to_pixel(const plot_frame *fr, double x);
double plot_y_to_pixel(const plot_frame *fr, double y);

/* A series colour that is no palette colour: the theme's text grey (legend entries that stand
 * for a line style or a kind of marker, not for one curve). */
#define PLOT_COLOUR_NEUTRAL (-1)

/* The colour a series with palette index `colour` is drawn in (r, g, b in [0, 1]). */
void plot_palette_colour(plot_theme theme, int colour, double rgb[3]);
/* The heat maps' colour scale at t in [0, 1] (clamped): viridis (van der Walt, Smith and
 * Firing for matplotlib, CC0), dark blue to yellow, readable in grey and with the common
 * colour-vision deficiencies. The workbench's map view takes its colours from it too. */
void plot_scale_colour(double t, double rgb[3]);

/* Renders the figure into a new ARGB32 image surface of the style's size. `frame` (may be NULL)
 * receives the plot-area mapping. On error returns BRAGG_ERR with a message and no surface. */
int plot_render(const plot_figure *f, const plot_style *s, cairo_surface_t **surface,
                plot_frame *frame, bragg_err *e);

/* The file formats a figure is written in. The same drawing code renders all three: cairo's
 * image surface for PNG, its SVG and PDF surfaces for papers (1 unit = 1 pixel of the PNG, so
 * sizes, fonts and layout agree). */
typedef enum plot_format { PLOT_FORMAT_PNG, PLOT_FORMAT_SVG, PLOT_FORMAT_PDF, PLOT_FORMATS } plot_format;

const char *plot_format_name(plot_format fmt);   /* "png", "svg", "pdf" */

/* Renders and writes the figure, atomically (a temporary file renamed into place; nothing is
 * left behind on failure), with its metadata where the format has a place for it: PNG text
 * chunks (all entries); SVG <title> and a <metadata> element with one <bragg:entry key="...">
 * per entry; PDF document information (title, creator = "Software", subject = the footer,
 * keywords = every other entry as key=value; cairo 1.18 and later also writes each entry as a
 * custom field). `what` names the option for messages ("--png"). */
int plot_write(const plot_figure *f, const plot_style *s, plot_format fmt, const char *path,
               const char *what, plot_frame *frame, bragg_err *e);

/* Where a command sends its figure: any of PNG, SVG and PDF (NULL: not wanted). The paths stay
 * the caller's. */
typedef struct plot_outputs {
    const char *path[PLOT_FORMATS];
} plot_outputs;

int plot_outputs_any(const plot_outputs *o);
/* Checks up front that every path could be written (messages name --png, --svg or --pdf). */
int plot_outputs_check(const plot_outputs *o, bragg_err *e);
/* The paths given, as outputs for atomic_file_check_distinct: appends them to `uses` (room for
 * PLOT_FORMATS) and returns how many. */
int plot_outputs_uses(const plot_outputs *o, file_use *uses);
/* Writes the figure to every path given. */
int plot_outputs_write(const plot_figure *f, const plot_style *s, const plot_outputs *o,
                       bragg_err *e);

#endif
