/*
 * settings.h - the workbench remembers the last setup (beam, geometry, backend, physics
 * switches, seed) in $XDG_CONFIG_HOME/bragg/workbench.conf (~/.config/bragg/ when
 * XDG_CONFIG_HOME is unset or empty).
 *
 * The file is "key = value" lines with '#' comments, written atomically (src/output/atomic_file.h),
 * so a crash mid-write never leaves half a file (and a symlinked file stays a symlink). A file
 * that cannot be read or parsed (unknown key, a value that is not a number, a line without '=')
 * is reported with its line and otherwise ignored: the caller keeps its configuration, nothing
 * is fatal. The caller then sets the file aside (settings_set_aside) before anything saves over
 * it: a user's hand-edited file with one typo must not be replaced by defaults. Values are
 * checked by config_validate afterwards, like any other input.
 *
 * Memory: nothing kept; strings and configurations are the caller's. Pure parsing and
 * formatting functions (any thread); load/save touch the file system (the UI thread).
 */
#ifndef BRAGG_SETTINGS_H
#define BRAGG_SETTINGS_H

#include <stddef.h>

#include "config.h"
#include "err.h"

/* Parses `text` into *c. On error *c is left untouched and `e` names the line and the key. */
int settings_parse(const char *text, run_config *c, bragg_err *e);

/* Writes the remembered fields of `c` as settings text; returns the length needed (like
 * snprintf: the text is truncated when it does not fit `len`). */
int settings_format(const run_config *c, char *out, size_t len);

/* The settings file's path from the environment. */
int settings_path(char *out, size_t len, bragg_err *e);

/* Loads the file into *c: BRAGG_OK when loaded, 1 when there is no file yet (c untouched),
 * BRAGG_ERR when it exists but cannot be read or parsed (c untouched, `e` says why). */
int settings_load(run_config *c, bragg_err *e);

/* Renames the settings file to workbench.conf.unreadable (or .unreadable.2, ... : never over an
 * older one) and writes the new path into `aside`. */
int settings_set_aside(char *aside, size_t len, bragg_err *e);

/* Saves `c`, creating the folder if needed. */
int settings_save(const run_config *c, bragg_err *e);

#endif
