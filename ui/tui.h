/*
 * tui.h - the interactive workbench that `bragg` opens with no arguments.
 *
 * ncursesw on top of the engine (src/engine/engine.h): the workbench reads snapshots and sends
 * commands (start, pause, cancel); it never calls physics directly. Returns the process exit
 * status (0 after a normal quit, 2 when standard input or output is not a terminal), or
 * TUI_SIGNALLED when SIGINT, SIGTERM or SIGHUP ended it (the caller exits with its
 * "interrupted" status, as the headless commands do). Main thread only; owns the terminal from
 * start to return, and restores it on every way out (return, exit, SIGINT/SIGTERM/SIGHUP,
 * SIGSEGV/SIGABRT).
 *
 * `start` (may be NULL) is a setup to begin with instead of the remembered one (bragg --config
 * FILE: a run file read by the CLI); the caller keeps it.
 */
#ifndef BRAGG_TUI_H
#define BRAGG_TUI_H

#include "config.h"

/* Not an exit status itself (those are 0..255): the CLI maps it to its own. */
#define TUI_SIGNALLED (-1)

int tui_main(const run_config *start);

#endif
