/*
 * tui.h - the interactive workbench that `bragg` opens with no arguments.
 *
 * ncursesw on top of the engine (src/engine/engine.h): the workbench reads snapshots and sends
 * commands (start, pause, cancel); it never calls physics directly. Returns the process exit
 * status (0 after a normal quit, 2 when standard input or output is not a terminal). Main
 * thread only; owns the terminal from start to return, and restores it on every way out
 * (return, exit, SIGINT/SIGTERM, SIGSEGV/SIGABRT).
 */
#ifndef BRAGG_TUI_H
#define BRAGG_TUI_H

int tui_main(void);

#endif
