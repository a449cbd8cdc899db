/* live_panel.c - see live_panel.h. */
#include "live_panel.h"

#include <curses.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "draw.h"
#include "engine.h"

void format_rate(double v, char *out, size_t len)
{
    if (!isfinite(v) || v <= 0) snprintf(out, len, "--");
    else if (v >= 1e9) snprintf(out, len, "%.2f G", v / 1e9);
    else if (v >= 1e6) snprintf(out, len, "%.2f M", v / 1e6);
    else if (v >= 1e3) snprintf(out, len, "%.1f k", v / 1e3);
    else snprintf(out, len, "%.0f", v);
}

int sparkline_level(double v, double max)
{
    if (!(max > 0) || !(v > 0)) return 0;
    int k = (int)(v / max * 7 + 0.5);
    return k < 0 ? 0 : k > 7 ? 7 : k;
}

/* The last `width` samples as a sparkline. */
static void sparkline(int y, int x, int width, const double *samples, int n, attr_t a)
{
    static const char *const utf8[8] = {"\u2581", "\u2582", "\u2583", "\u2584",
                                        "\u2585", "\u2586", "\u2587", "\u2588"};
    static const char ascii[] = "_.-~=+*#";
    int first = n > width ? n - width : 0;
    double max = 0;
    for (int i = first; i < n; i++)
        if (samples[i] > max) max = samples[i];
    move(y, x);
    attron(a);
    for (int i = first; i < n; i++) {
        int k = sparkline_level(samples[i], max);
        if (draw_utf8()) addstr(utf8[k]);
        else addch((chtype)ascii[k]);
    }
    attroff(a);
}

void live_panel_draw(const tui_state *t, const ui_rect *r)
{
    draw_box(r, "Live", 0);
    int x = r->x + 2, w = r->w - 4, y = r->y + 1, last = r->y + r->h - 1;
    if (t->sobp_pid) {
        /* The SOBP job (a child process) takes the cores now: how far it is (one run per
         * energy after a pilot run, then a refit), and the result when it ends. */
        draw_text_fit(y++, x, w, A_BOLD, "SOBP building: c cancels");
        char stage[64];
        tui_sobp_progress(t, stage, sizeof stage);
        if (y < last && t->sobp_energies > 0) {
            double f = t->sobp_refit ? 1.0 : (double)t->sobp_energy / (t->sobp_energies + 1);
            draw_bar(y++, x, w, f, draw_attr(ROLE_GOOD));
        }
        if (y < last && stage[0]) draw_text_fit(y++, x, w, A_NORMAL, stage);
        if (y < last)
            draw_text_fit(y, x, w, draw_attr(ROLE_DIM), "the SOBP view shows the result");
        return;
    }
    if (!t->have_snap) {
        /* A race runs on its own engine and shows its progress in the race view; this panel
         * is the user's run's. */
        draw_text_fit(y, x, w, draw_attr(ROLE_DIM), t->race_active
                                                        ? "race going: see the race view"
                                                        : "idle: r runs, b races backends");
        return;
    }
    const run_snapshot *s = &t->snap;
    double frac = s->histories_total ? (double)s->histories_done / s->histories_total : 0;
    char state[48];
    snprintf(state, sizeof state, "%s", run_state_name(s->state));
    if (y < last) {
        int bar_w = w - 7;
        draw_bar(y, x, bar_w, frac, draw_attr(ROLE_GOOD));
        draw_textf(y, x + bar_w + 1, 6, A_BOLD, "%5.1f%%", 100 * frac);
        y++;
    }
    if (y < last) {
        char eta[96] = "";
        if (s->state == RUN_RUNNING && s->histories_per_s > 0)
            snprintf(eta, sizeof eta, "  ETA %.0f s",
                     (double)(s->histories_total - s->histories_done) / s->histories_per_s);
        else if (s->state != RUN_RUNNING)
            snprintf(eta, sizeof eta, s->elapsed_s < 1.0 ? "  %s %.2f s" : "  %s %.1f s", state,
                     s->elapsed_s);   /* a run under 50 ms read "done 0.0 s" */
        /* The state and the ETA matter most: when the line is too wide, counts in k/M (millions
         * of histories), then without "hist", then without the time, then the state first;
         * the state ("cancelled", "paused") never falls off the end. */
        char line[160], done[24], total[24], what[48] = "";
        format_rate((double)s->histories_done, done, sizeof done);
        format_rate((double)s->histories_total, total, sizeof total);
        if (s->state != RUN_RUNNING) snprintf(what, sizeof what, "%s", state);
        for (int form = 0; form < 5; form++) {
            if (form == 0)
                snprintf(line, sizeof line, "%llu/%llu hist%s",
                         (unsigned long long)s->histories_done,
                         (unsigned long long)s->histories_total, eta);
            else if (form == 1) snprintf(line, sizeof line, "%s/%s hist%s", done, total, eta);
            else if (form == 2) snprintf(line, sizeof line, "%s/%s%s", done, total, eta);
            else if (form == 3 && what[0])
                snprintf(line, sizeof line, "%s/%s  %s", done, total, what);
            else if (form == 4 && what[0])
                snprintf(line, sizeof line, "%s %s/%s", what, done, total);
            if (draw_width(line) <= w) break;
        }
        draw_text_fit(y++, x, w, A_NORMAL, line);
    }
    if (y < last) {
        char h[24], st[24];
        format_rate(s->histories_per_s, h, sizeof h);
        format_rate(s->steps_per_s, st, sizeof st);
        /* "306.2 k hist/s  11.38 M steps/s" is 31 columns, one more than 80 columns give. */
        char line[96];
        snprintf(line, sizeof line, "%s hist/s  %s steps/s", h, st);
        if (draw_width(line) > w) snprintf(line, sizeof line, "%s hist/s %s steps/s", h, st);
        draw_text_fit(y++, x, w, A_NORMAL, line);
    }
    /* Sparklines: the histories/s of the last minute, and steps/s when there is room. */
    /* Labels padded to one width with a space before the trace; a run too short to leave two
     * samples says so rather than show a bare label. */
    if (y < last) {
        draw_text(y, x, w, draw_attr(ROLE_DIM), "hist/s ");
        if (t->rate_n < 2) draw_text(y++, x + 8, w - 8, draw_attr(ROLE_DIM), "- (a run under 1 s)");
        else sparkline(y++, x + 8, w - 8, t->rate_hps, t->rate_n, draw_attr(ROLE_GOOD));
    }
    if (y < last - 1 && r->h > 8 && t->rate_n >= 2) {
        draw_text(y, x, w, draw_attr(ROLE_DIM), "steps/s ");
        sparkline(y++, x + 8, w - 8, t->rate_sps, t->rate_n, draw_attr(ROLE_SERIES2));
    }
    if (y < last) {
        char err[24] = "--";
        if (isfinite(s->result.peak_rel_err) && s->result.histories > 0)
            snprintf(err, sizeof err, "%.2f%%", 100 * s->result.peak_rel_err);
        char thr[24] = "";
        if (t->en) snprintf(thr, sizeof thr, " %d thr", engine_threads(t->en));
        draw_textf(y++, x, w, A_NORMAL, "peak err %s  %s%s", err,
                   t->en ? engine_backend_name(t->en) : "-", thr);
    }
    if (y < last && s->state == RUN_FAILED) draw_text_fit(y++, x, w, draw_attr(ROLE_ERROR), s->error);
    else if (y < last && r->h > 9) {
        draw_textf(y++, x, w, draw_attr(ROLE_DIM), "batches %d/%d  %s", s->batches_done,
                   s->batches_total, state);
    }
}
