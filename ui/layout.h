/*
 * layout.h - where the workbench's panels go on a terminal of a given size.
 *
 * A pure function of the size, so the unit tests can check every size for overlaps and
 * panels falling off the screen (as nvtop does). From 80x24 up the screen holds: the setup
 * panel (top left), the live-rate panel below it, the plot panel (right), the profile panel
 * (under the plot, or in the left column when the terminal is tall enough), a status line and
 * the function-key bar on the last row. Below 80x24 the layout says "too small" and the
 * screen shows only that.
 *
 * No memory, no state; any thread.
 */
#ifndef BRAGG_LAYOUT_H
#define BRAGG_LAYOUT_H

#define LAYOUT_MIN_COLS 80
#define LAYOUT_MIN_ROWS 24

/* Rows the setup panel needs: one per field plus its border. */
#define LAYOUT_SETUP_ROWS 16

typedef struct ui_rect {
    int y, x, h, w;   /* top-left corner, height and width in cells */
} ui_rect;

typedef struct tui_layout {
    int cols, rows;
    int too_small;                  /* 1: nothing but the "too small" message fits */
    ui_rect setup, live, plot, profile, status, keys;
    int profile_compact;            /* the profile panel shows two components per row */
} tui_layout;

void layout_compute(int cols, int rows, tui_layout *l);

/* 1 when (y, x) lies inside r. */
int ui_rect_contains(const ui_rect *r, int y, int x);

#endif
