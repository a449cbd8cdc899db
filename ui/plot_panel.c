/* plot_panel.c - see plot_panel.h. */
#include "plot_panel.h"

#include <curses.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "axis_ticks.h"
#include "braille.h"
#include "draw.h"
#include "figures.h"
#include "report.h"

static const char *const view_names[VIEW_COUNT] = {
    "depth-dose", "dose by charge", "LET", "lateral spread", "primary fluence", "biology",
    "SOBP", "benchmark race",
};

const char *plot_view_name(plot_view v)
{
    return v >= 0 && v < VIEW_COUNT ? view_names[v] : "?";
}

#define MAX_CURVES 16

typedef struct curve {
    const double *x, *y, *err;
    int n;
    double divisor;        /* y and err are divided by it (normalisation) */
    colour_role role;
    char label[64];
} curve;

double plot_norm_factor(const double *depth, const double *dose, int n, overlay_norm norm)
{
    return figure_norm_factor(depth, dose, n,
                              norm == NORM_ENTRANCE ? FIGURE_NORM_ENTRANCE : FIGURE_NORM_PEAK);
}

static void centred(const ui_rect *r, attr_t a, const char *text)
{
    int w = draw_width(text);
    int x = r->x + (r->w - w) / 2;
    draw_text(r->y + r->h / 2, x < r->x + 1 ? r->x + 1 : x, r->w - 2, a, text);
}

/* The curves of a view; returns how many, or 0 with a message in `why`. */
static int gather(const tui_state *t, curve *cv, char *y_label, size_t yl_len, char *why,
                  size_t why_len)
{
    const score_result *res = &t->snap.result;
    int n = 0;
    if (t->view == VIEW_SOBP) {
        /* Not a run: the record of the last `s` job. */
        memset(cv, 0, sizeof *cv * MAX_CURVES);
        if (!t->sobp) {
            snprintf(why, why_len, t->sobp_pid ? "building the SOBP: one run per energy" :
                                                 "no SOBP yet: s builds one for this setup");
            return 0;
        }
        snprintf(y_label, yl_len, "%s", t->sobp_rbe_dose ? "dose, Gy" : "dose, Gy cm2 per primary");
        cv[n++] = (curve){t->sobp_depth, t->sobp_dose, NULL, t->sobp_n, 1, ROLE_CURVE, "physical"};
        if (t->sobp_rbe_dose)
            cv[n++] = (curve){t->sobp_depth, t->sobp_rbe_dose, NULL, t->sobp_n, 1, ROLE_SERIES1,
                              "RBE-weighted"};
        return n;
    }
    snprintf(why, why_len, "no run yet: r starts one");
    if (!t->have_snap || res->nbins <= 0 || res->histories == 0) {
        /* A dose view of nothing but kept runs still makes sense. */
        if (!(t->view == VIEW_DOSE && t->n_overlays > 0)) {
            if (t->have_snap && tui_run_active(t))
                snprintf(why, why_len, "running: the first batch is on its way");
            return 0;
        }
    }
    int have = t->have_snap && res->nbins > 0 && res->histories > 0;
    memset(cv, 0, sizeof *cv * MAX_CURVES);
    switch (t->view) {
    case VIEW_DOSE:
        if (t->n_overlays > 0) {
            snprintf(y_label, yl_len, "dose / %s dose", t->norm == NORM_PEAK ? "peak" : "entrance");
            for (int k = 0; k < t->n_overlays; k++) {
                const tui_overlay *o = &t->overlays[k];
                cv[n] = (curve){o->depth, o->dose, NULL, o->n,
                                plot_norm_factor(o->depth, o->dose, o->n, t->norm),
                                draw_series_role(k + 1), ""};
                snprintf(cv[n].label, sizeof cv[n].label, "%s", o->label);
                n++;
            }
        } else {
            snprintf(y_label, yl_len, "dose, Gy cm%s per primary", glyph("\u00b2", "2"));
        }
        if (have) {
            cv[n] = (curve){res->depth, res->dose, res->dose_err, res->nbins,
                            t->n_overlays ? plot_norm_factor(res->depth, res->dose, res->nbins,
                                                             t->norm)
                                          : 1,
                            ROLE_CURVE, "this run"};
            n++;
        }
        break;
    case VIEW_CHARGE:
        if (res->channels <= 1 || !res->channel_dose) {
            snprintf(why, why_len, "dose by charge needs nuclear reactions (switch Nuclear on)");
            return 0;
        }
        snprintf(y_label, yl_len, "dose, Gy cm%s per primary", glyph("\u00b2", "2"));
        for (int c = 0; c < res->channels && n < MAX_CURVES; c++) {
            cv[n] = (curve){res->depth, res->channel_dose[c], NULL, res->nbins, 1,
                            draw_series_role(c), ""};
            char name[32];
            channel_name(res->channels, c, name, sizeof name);
            snprintf(cv[n].label, sizeof cv[n].label, c > 0 && c < res->channels - 1 ? "Z=%s" : "%s",
                     name);
            n++;
        }
        break;
    case VIEW_LET:
        snprintf(y_label, yl_len, "keV/%sm", glyph("\u00b5", "u"));
        cv[n++] = (curve){res->depth, res->let_d, NULL, res->nbins, 1, ROLE_CURVE, "LET_d"};
        cv[n++] = (curve){res->depth, res->let_t, NULL, res->nbins, 1, ROLE_SERIES1, "LET_t"};
        break;
    case VIEW_LATERAL:
        snprintf(y_label, yl_len, "rms offset of primaries, cm");
        cv[n++] = (curve){res->depth, res->lateral_rms, NULL, res->nbins, 1, ROLE_CURVE,
                          "lateral rms"};
        break;
    case VIEW_FLUENCE:
        snprintf(y_label, yl_len, "primaries per primary");
        cv[n++] = (curve){res->depth, res->fluence, NULL, res->nbins, 1, ROLE_CURVE, "primaries"};
        break;
    case VIEW_BIO: {
        const bio_curves *b = &t->snap.bio;
        if (!b->nbins || b->nbins != res->nbins) {
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
        snprintf(y_label, yl_len, "Gy cm%s, RBE %.2f%s%.2f at %g Gy", glyph("\u00b2", "2"),
                 entrance, glyph("\u2192", "->"), peak_rbe, b->dose);
        cv[n++] = (curve){res->depth, res->dose, NULL, res->nbins, 1, ROLE_CURVE, "physical"};
        cv[n++] = (curve){res->depth, weighted, NULL, res->nbins, 1, ROLE_SERIES1, "RBE-weighted"};
        break;
    }
    default: break;
    }
    return n;
}

/* The depth axis spans exactly [0, x_end] (the scored depth), not the loose tick range, so
 * every column buys resolution; only ticks inside it are drawn. */
static int dot_x(double x, double x_end, int cols)
{
    return (int)lround(x / x_end * (2 * cols - 1));
}

static int dot_y(double y, const axis_ticks *yt, int rows)
{
    return (int)lround((yt->hi - y) / (yt->hi - yt->lo) * (4 * rows - 1));
}

static void draw_curves(const tui_state *t, const ui_rect *r, const char *title)
{
    curve cv[MAX_CURVES];
    char y_label[96] = "", why[128];
    int n = gather(t, cv, y_label, sizeof y_label, why, sizeof why);
    if (n == 0) {
        draw_box(r, title, 0);
        centred(r, draw_attr(ROLE_DIM), why);
        return;
    }
    /* Ranges over every curve (and the band of the current run). */
    double xmax = 0, ymax = 0;
    for (int k = 0; k < n; k++)
        for (int i = 0; i < cv[k].n; i++) {
            double y = cv[k].y[i] / cv[k].divisor;
            if (!isfinite(y)) continue;
            double top = y + (cv[k].err && isfinite(cv[k].err[i]) ? cv[k].err[i] / cv[k].divisor : 0);
            if (top > ymax) ymax = top;
            if (cv[k].x[i] > xmax) xmax = cv[k].x[i];
        }
    if (!(ymax > 0)) ymax = 1;
    if (!(xmax > 0)) xmax = 1;
    /* Very small or large numbers get a common power of ten in the legend, so tick labels
     * stay short. */
    int exponent = 0;
    if (ymax < 0.01 || ymax >= 1e4) exponent = (int)floor(log10(ymax));
    double yscale = pow(10, -exponent);
    /* The title names the quantity and its unit, with the power of ten the ticks leave out. */
    char full_title[200], power[32] = "";
    if (exponent != 0) snprintf(power, sizeof power, " %s1e%d", glyph("\u00d7", "x"), exponent);
    snprintf(full_title, sizeof full_title, "%s: %s%s", title, y_label, power);
    draw_box(r, full_title, 0);

    int ix = r->x + 1, iy = r->y + 1, iw = r->w - 2, ih = r->h - 2;
    int legend_rows = ih >= 14 && n > 2 ? 2 : 1;
    const int ylw = 6;
    int ax = ix + ylw, cx = ax + 1, cw = ix + iw - cx, cy = iy + legend_rows;
    int ch = ih - legend_rows - 2;
    if (cw < 8 || ch < 2) {
        centred(r, draw_attr(ROLE_DIM), "(too small to plot)");
        return;
    }
    axis_ticks xt, yt;
    axis_ticks_nice(0, xmax, cw / 9 > 2 ? cw / 9 : 2, &xt);
    axis_ticks_nice(0, ymax * yscale, ch / 3 > 2 ? ch / 3 : 2, &yt);

    braille_canvas canvas;
    if (braille_init(&canvas, cw, ch)) {
        centred(r, draw_attr(ROLE_ERROR), "out of memory");
        return;
    }
    /* Layers: 1 the band, then the curves in order (the current run, last, on top). */
    colour_role layer_role[MAX_CURVES + 2];
    layer_role[0] = ROLE_NORMAL;
    layer_role[1] = ROLE_BAND;
    for (int k = 0; k < n; k++) {
        layer_role[2 + k] = cv[k].role;
        const curve *c = &cv[k];
        int have_prev = 0, px = 0, py = 0, plo = 0, phi = 0;
        for (int i = 0; i < c->n; i++) {
            double y = c->y[i] / c->divisor * yscale;
            if (!isfinite(y) || !isfinite(c->x[i])) {
                have_prev = 0;
                continue;
            }
            int X = dot_x(c->x[i], xmax, cw), Y = dot_y(y, &yt, ch);
            if (c->err && isfinite(c->err[i])) {
                double s = c->err[i] / c->divisor * yscale;
                int lo = dot_y(y - s, &yt, ch), hi = dot_y(y + s, &yt, ch);
                /* The band shows only where it is wider than the line itself. */
                if (lo - hi >= 2 && have_prev) {
                    braille_line(&canvas, px, plo, X, lo, 1);
                    braille_line(&canvas, px, phi, X, hi, 1);
                }
                plo = lo;
                phi = hi;
            }
            if (have_prev) braille_line(&canvas, px, py, X, Y, 2 + k);
            else braille_set(&canvas, X, Y, 2 + k);
            px = X;
            py = Y;
            have_prev = 1;
        }
    }
    /* Peak and R80 of the current run, in the depth-dose view. */
    const score_result *res = &t->snap.result;
    int peak_col = -1, r80_col = -1;
    if (t->view == VIEW_DOSE && t->have_snap && res->histories > 0) {
        if (isfinite(res->fig.peak_depth)) peak_col = dot_x(res->fig.peak_depth, xmax, cw) / 2;
        if (isfinite(res->fig.r80)) r80_col = dot_x(res->fig.r80, xmax, cw) / 2;
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
            attr_t a = draw_attr(layer_role[braille_cell_layer(&canvas, col, row)]);
            char cell[4];
            if (draw_utf8()) braille_cell_utf8(bits, cell);
            else {
                cell[0] = braille_cell_ascii(bits);
                cell[1] = '\0';
            }
            draw_text(cy + row, cx + col, 1, a, cell);
        }
    braille_free(&canvas);

    /* Axes: the y axis with its labels, then the depth axis, its ticks and the markers. */
    attr_t axis = draw_attr(ROLE_DIM);
    for (int row = 0; row < ch; row++) draw_text(cy + row, ax, 1, axis, glyph("\u2502", "|"));
    for (int i = 0; i < yt.count; i++) {
        double v = axis_tick_value(&yt, i);
        int row = dot_y(v, &yt, ch) / 4;
        if (row < 0 || row >= ch) continue;
        draw_textf(cy + row, ix, ylw, A_NORMAL, "%*.*f", ylw, yt.decimals, v);
        draw_text(cy + row, ax, 1, axis, glyph("\u2524", "+"));
    }
    int axis_y = cy + ch, label_y = axis_y + 1;
    draw_text(axis_y, ax, 1, axis, glyph("\u2514", "+"));
    for (int col = 0; col < cw; col++) draw_text(axis_y, cx + col, 1, axis, glyph("\u2500", "-"));
    int last_end = -1;
    for (int i = 0; i < xt.count; i++) {
        double v = axis_tick_value(&xt, i);
        if (v > xmax * (1 + 1e-9)) break;
        int col = dot_x(v, xmax, cw) / 2;
        if (col < 0 || col >= cw) continue;
        draw_text(axis_y, cx + col, 1, axis, glyph("\u2534", "+"));
        char lab[32];
        snprintf(lab, sizeof lab, "%.*f", xt.decimals, v);
        int len = (int)strlen(lab);
        if (col > last_end && col + len <= cw) {
            draw_text(label_y, cx + col, len, A_NORMAL, lab);
            last_end = col + len;
        }
    }
    if (last_end + 4 <= cw) draw_text(label_y, cx + cw - 2, 2, axis, "cm");
    if (r80_col >= 0 && r80_col < cw)
        draw_text(axis_y, cx + r80_col, 1, draw_attr(ROLE_MARKER), glyph("\u25b3", "r"));
    if (peak_col >= 0 && peak_col < cw)
        draw_text(axis_y, cx + peak_col, 1, draw_attr(ROLE_MARKER), glyph("\u25b2", "^"));

    /* Legend: every curve by name (never by colour alone), the markers with their depths. */
    int lx = ix + 1, ly = iy, lend = ix + iw;
    for (int k = n - 1; k >= 0; k--) {
        char item[96];
        snprintf(item, sizeof item, "%s %s", glyph("\u2501", "-"), cv[k].label);
        int w = draw_width(item) + 2;
        if (lx + w > lend) {
            if (ly + 1 >= iy + legend_rows) break;
            ly++;
            lx = ix + 1;
        }
        draw_text(ly, lx, w, draw_attr(cv[k].role), item);
        lx += w;
    }
    if (peak_col >= 0) {
        char item[96];
        snprintf(item, sizeof item, "%s peak %.2f  %s R80 %.2f cm", glyph("\u25b2", "^"),
                 res->fig.peak_depth, glyph("\u25b3", "r"), res->fig.r80);
        int w = draw_width(item);
        if (lx + w > lend && ly + 1 < iy + legend_rows) {
            ly++;
            lx = ix + 1;
        }
        if (lx + w <= lend) draw_text(ly, lx, w, draw_attr(ROLE_MARKER), item);
        lx += w + 2;
    }
}

static void draw_race(const tui_state *t, const ui_rect *r)
{
    char title[160];
    snprintf(title, sizeof title, "Benchmark race \u00b7 %s %g MeV/u, %llu histories", t->cfg.ion,
             t->cfg.energy, (unsigned long long)t->cfg.histories);
    draw_box(r, draw_utf8() ? title : "Benchmark race", 0);
    if (t->race_n == 0) {
        centred(r, draw_attr(ROLE_DIM), "b races serial, OpenMP 1..N threads, event, simd and CUDA");
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
    draw_text(y++, ix, iw, draw_attr(ROLE_DIM),
              "histories/s, speedup over one thread, parallel efficiency");
    int label_w = 10, tail_w = 30, bar_w = iw - label_w - tail_w;
    if (bar_w < 5) bar_w = 5;
    for (int i = 0; i < t->race_n && y < r->y + r->h - 1; i++, y++) {
        const race_entry *e = &t->race[i];
        char label[32];
        if (strcmp(e->backend, "openmp") == 0) snprintf(label, sizeof label, "openmp %d", e->threads);
        else snprintf(label, sizeof label, "%s", e->backend);
        draw_text(y, ix, label_w, A_BOLD, label);
        if (e->skipped) {
            draw_textf(y, ix + label_w, iw - label_w, draw_attr(ROLE_ERROR), "n/a: %s",
                       t->cuda_reason);
            continue;
        }
        if (!e->done) {
            if (t->race_active && i == t->race_at && t->have_snap &&
                t->snap.histories_total > 0) {
                double f = (double)t->snap.histories_done / t->snap.histories_total;
                draw_bar(y, ix + label_w, bar_w, f, draw_attr(ROLE_DIM));
                draw_textf(y, ix + label_w + bar_w + 1, tail_w - 1, draw_attr(ROLE_DIM),
                           "running %3.0f%%", 100 * f);
            } else {
                draw_text(y, ix + label_w, iw - label_w, draw_attr(ROLE_DIM), "waiting");
            }
            continue;
        }
        draw_bar(y, ix + label_w, bar_w, max_hps > 0 ? e->hps / max_hps : 0,
                 draw_attr(draw_series_role(i)));
        int threads = e->threads > 0 ? e->threads : 1;
        double speedup = base > 0 ? e->hps / base : NAN;
        draw_textf(y, ix + label_w + bar_w + 1, tail_w - 1, A_NORMAL, "%9.0f/s %s%.2f %4.0f%%",
                   e->hps, glyph("\u00d7", "x"), speedup, 100 * speedup / threads);
    }
}

void plot_panel_draw(const tui_state *t, const ui_rect *r)
{
    if (t->view == VIEW_RACE) {
        draw_race(t, r);
        return;
    }
    char title[64];
    snprintf(title, sizeof title, "%s", plot_view_name(t->view));
    draw_curves(t, r, title);
}
