/* profile_panel.c - see profile_panel.h. */
#include "profile_panel.h"

#include <curses.h>
#include <math.h>
#include <stdio.h>

#include "draw.h"
#include "engine.h"

/* Short names for the compact layout, in the engine's order. */
static const char *const short_names[PROFILE_COUNT] = {
    "stopping", "range", "straggl", "scatter", "nuclear", "scoring", "RNG", "other",
};

void profile_panel_draw(const tui_state *t, const ui_rect *r, int compact)
{
    /* The longest title that fits whole (draw_box would cut it inside a word, "ns/step/th"). */
    static const char *const titles[] = {"Profile: % of step time, ns/step/thread",
                                         "Profile: % of time, ns/step/thread",
                                         "Profile: %, ns/step/thread", "Profile"};
    int n_titles = (int)(sizeof titles / sizeof titles[0]), k = 0;
    while (k + 1 < n_titles && draw_width(titles[k]) > r->w - 6) k++;
    draw_box(r, titles[k], 0);
    int x = r->x + 2, w = r->w - 4, y0 = r->y + 1, rows = r->h - 2;
    /* The last profiled run's, kept through races (which run unprofiled). */
    if (!t->prof.on) {
        /* Over two rows at 80 columns, at words. */
        draw_wrapped(y0, x, w, 0, rows, draw_attr(ROLE_DIM),
                     "no profile yet: r runs one (profiled runs are about 1.5% slower)");
        return;
    }
    const tui_profile *s = &t->prof;
    int per_row = compact ? 2 : 1;
    int col_w = w / per_row;
    for (int k = 0; k < PROFILE_COUNT; k++) {
        int row = k / per_row, col = k % per_row;
        if (row >= rows) break;
        int y = y0 + row, cx = x + col * col_w;
        double share = s->share[k], ns = s->ns_per_step[k];
        char val[32];
        if (isfinite(share)) snprintf(val, sizeof val, "%5.1f%% %6.1f", 100 * share, ns);
        else snprintf(val, sizeof val, "%13s", "n/a");
        if (compact) {
            /* 8 + 6 + 6 = 20 columns: two to a row in the 42 of an 80-column screen. */
            if (isfinite(share))
                draw_textf(y, cx, col_w - 1, A_NORMAL, "%-8s%5.1f%%%6.1f", short_names[k],
                           100 * share, ns);
            else draw_textf(y, cx, col_w - 1, A_NORMAL, "%-8s%12s", short_names[k], "n/a");
            continue;
        }
        int name_w = 15, val_w = 14, bar_w = col_w - name_w - val_w - 1;
        draw_text(y, cx, name_w, A_NORMAL, profile_component_names[k]);
        if (bar_w > 2)
            draw_bar(y, cx + name_w, bar_w, isfinite(share) ? share : 0,
                     draw_attr(draw_series_role(k)));
        draw_text(y, cx + name_w + (bar_w > 2 ? bar_w + 1 : 0), val_w, A_NORMAL, val);
    }
}
