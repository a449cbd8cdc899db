/* layout.c - see layout.h. */
#include "layout.h"

#include <string.h>

/* The profile panel: eight components one per row plus the border, or two per row when the
 * terminal is short. */
#define PROFILE_FULL_ROWS    10
#define PROFILE_COMPACT_ROWS 6
/* The live panel needs five lines of text plus its border. */
#define LIVE_MIN_ROWS 7

static ui_rect rect(int y, int x, int h, int w)
{
    ui_rect r = {y, x, h, w};
    return r;
}

void layout_compute(int cols, int rows, tui_layout *l)
{
    memset(l, 0, sizeof *l);
    l->cols = cols;
    l->rows = rows;
    if (cols < LAYOUT_MIN_COLS || rows < LAYOUT_MIN_ROWS) {
        l->too_small = 1;
        return;
    }
    /* The last two rows: status line, then the key bar (as htop keeps its F-keys last). */
    l->keys = rect(rows - 1, 0, 1, cols);
    l->status = rect(rows - 2, 0, 1, cols);
    int body = rows - 2;
    /* The left column is as wide as the setup fields need; wide terminals give the spare
     * width to the plot, where it buys depth resolution. */
    int left_w = cols >= 160 ? 44 : cols >= 120 ? 40 : 34;
    int right_w = cols - left_w;
    l->setup = rect(0, 0, LAYOUT_SETUP_ROWS, left_w);
    if (body >= LAYOUT_SETUP_ROWS + LIVE_MIN_ROWS + PROFILE_FULL_ROWS + 4) {
        /* Tall: setup, live and profile stacked on the left; the plot gets the whole right
         * side, so the curve is as tall as the screen. */
        int live_h = body - LAYOUT_SETUP_ROWS - PROFILE_FULL_ROWS;
        l->live = rect(LAYOUT_SETUP_ROWS, 0, live_h, left_w);
        l->profile = rect(LAYOUT_SETUP_ROWS + live_h, 0, PROFILE_FULL_ROWS, left_w);
        l->plot = rect(0, left_w, body, right_w);
    } else {
        int prof_h = body >= 30 ? PROFILE_FULL_ROWS : PROFILE_COMPACT_ROWS;
        l->profile_compact = prof_h == PROFILE_COMPACT_ROWS;
        l->live = rect(LAYOUT_SETUP_ROWS, 0, body - LAYOUT_SETUP_ROWS, left_w);
        l->plot = rect(0, left_w, body - prof_h, right_w);
        l->profile = rect(body - prof_h, left_w, prof_h, right_w);
    }
}

int ui_rect_contains(const ui_rect *r, int y, int x)
{
    return y >= r->y && y < r->y + r->h && x >= r->x && x < r->x + r->w;
}
