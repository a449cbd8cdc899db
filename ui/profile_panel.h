/*
 * profile_panel.h - where a step's time goes, live: per component (stopping power, range,
 * straggling, scattering, nuclear, scoring, RNG, other) its share of the step time and its ns
 * per step per thread, from the engine's sampled profile (runs from the workbench always set
 * run_config.profile). Components a backend cannot measure show "n/a", never a fake 0.
 *
 * Main (UI) thread only; nothing kept between draws.
 */
#ifndef BRAGG_PROFILE_PANEL_H
#define BRAGG_PROFILE_PANEL_H

#include "layout.h"
#include "tui_state.h"

/* `compact`: two components per row (short terminals). */
void profile_panel_draw(const tui_state *t, const ui_rect *r, int compact);

#endif
