/*
 * tui.h - the interactive workbench that `bragg` opens with no arguments.
 *
 * ncursesw on top of the engine (src/engine/engine.h): the workbench reads snapshots and sends
 * commands (start, pause, cancel); it never calls physics directly. Returns the process exit
 * status (0 after a normal quit, 2 when standard input or output is not a terminal). Main
 * thread only; owns the terminal from start to return, and restores it on every way out
 * (return, exit, SIGINT/SIGTERM, SIGSEGV/SIGABRT).
 *
 * `start` (may be NULL) is a setup to begin with instead of the remembered one (bragg --config
 * FILE: a run file read by the CLI); the caller keeps it.
 */
#ifndef BRAGG_TUI_H
#define BRAGG_TUI_H

#include "config.h"

int tui_main(const run_config *start);

#endif
