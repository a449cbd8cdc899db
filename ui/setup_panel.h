/*
 * setup_panel.h - the setup panel: one row per field of the run (ion, energy per nucleon,
 * energy spread, spot size, material, slab stack, histories, backend, threads, straggling,
 * MCS, nuclear, seed, biology (model and tissue (alpha/beta)x)). Lists come from the catalog (assets/); typed values are checked as
 * they are typed, through config_validate, whose message (naming the field and its valid
 * range) is shown inline.
 *
 * Edits go to tui_state.cfg only when valid. Main (UI) thread only; no memory of its own.
 */
#ifndef BRAGG_SETUP_PANEL_H
#define BRAGG_SETUP_PANEL_H

#include <stddef.h>

#include "layout.h"
#include "tui_state.h"

enum setup_field {
    FIELD_ION,
    FIELD_ENERGY,
    FIELD_SPREAD,
    FIELD_SPOT,
    FIELD_MATERIAL,
    FIELD_STACK,
    FIELD_HISTORIES,
    FIELD_BACKEND,
    FIELD_THREADS,
    FIELD_STRAGGLING,
    FIELD_MCS,
    FIELD_NUCLEAR,
    FIELD_SEED,
    FIELD_BIO,
    FIELD_COUNT
};

/* The field's current value as shown. */
void setup_field_value(const tui_state *t, int field, char *out, size_t len);

/* Applies `text` to field `field` of *c (catalog names resolved, units converted); on error
 * `e` says why and names the valid range. *c is only changed on success; the result is also
 * run through config_validate. */
int setup_field_apply(const tui_state *t, run_config *c, int field, const char *text,
                      bragg_err *e);

/* Left/right on a field: the next or previous ion, material, backend or model; flips a
 * switch; steps a number (energy, spread, spot and histories over ladders of round numbers,
 * threads round, seed), leaving a message in the status line at the end of its valid range
 * (config_validate's refusal of the next step, or the run key's range where a step changes
 * nothing). The Stack has no steps: the status line says Enter edits it. */
void setup_field_cycle(tui_state *t, int field, int dir);

/* Starts editing the focused field, takes one key while editing (1 when consumed), ends. */
void setup_edit_begin(tui_state *t);
int setup_edit_key(tui_state *t, int key);

void setup_panel_draw(const tui_state *t, const ui_rect *r);

#endif
