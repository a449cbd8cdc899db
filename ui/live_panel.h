/*
 * live_panel.h - the live-rate panel: histories done of the total with a progress bar and
 * ETA, histories/s and steps/s with a sparkline of the last minute, the relative uncertainty
 * of the dose at the peak, the backend and its threads, and the run's state.
 *
 * Reads tui_state only (the snapshot and the rate history ui/tui.c samples). Main (UI) thread
 * only; nothing kept between draws.
 */
#ifndef BRAGG_LIVE_PANEL_H
#define BRAGG_LIVE_PANEL_H

#include <stddef.h>

#include "layout.h"
#include "tui_state.h"

void live_panel_draw(const tui_state *t, const ui_rect *r);

/* "12.3 k", "4.56 M": rates in four significant characters. */
void format_rate(double v, char *out, size_t len);

/* The sparkline glyph (0..7, low to high) of `v` against `max`. */
int sparkline_level(double v, double max);

#endif
