/*
 * settings.h - the workbench remembers the last setup and its own settings in
 * $XDG_CONFIG_HOME/bragg/workbench.conf (~/.config/bragg/ when XDG_CONFIG_HOME is unset or
 * empty).
 *
 * The file is a run file (src/engine/run_file.h): the setup as "key = value" lines with the
 * keys of `bragg run` (so `bragg run --config ~/.config/bragg/workbench.conf` runs the last
 * setup headless; bragg run's output keys a user added are kept, not acted on), then a
 * [workbench] section with what only the workbench uses (export-dir: the folder exports go
 * to, quoted where it holds a '#' or blanks at its ends), which bragg run skips. It is
 * written atomically (src/output/atomic_file.h), so a crash mid-write never leaves half a
 * file (and a symlinked file stays a symlink). A file that cannot be read or parsed (unknown
 * key, a value out of range, a line without '=') is reported with its line and otherwise
 * ignored: the caller keeps what it had, nothing is fatal. The caller then sets the file aside (settings_set_aside)
 * before anything saves over it: a user's hand-edited file with one typo must not be replaced
 * by defaults. Values are checked by settings_validate (config_validate, naming the line)
 * afterwards, like any other input.
 *
 * Memory: nothing kept; strings and settings are the caller's. Pure parsing and formatting
 * functions (any thread); load/save touch the file system (the UI thread).
 */
#ifndef BRAGG_SETTINGS_H
#define BRAGG_SETTINGS_H

#include <stddef.h>

#include "catalog.h"
#include "config.h"
#include "err.h"
#include "run_file.h"

#define SETTINGS_OUTPUTS_LEN 2048
typedef struct workbench_settings {
    run_config cfg;
    char export_dir[512];   /* where exports go; "" = the current folder */
    /* bragg run's output keys (json, png, quiet, ...: run_output_keys) the file held, as its
     * "key = value" lines: kept and saved again as they were, so that bragg run --config on
     * the file still writes them; the workbench does not act on them (e exports). */
    char outputs[SETTINGS_OUTPUTS_LEN];
    int lines[RUN_KEYS_MAX];   /* the line each run key was read from (0: none): messages */
} workbench_settings;

/* Parses `text` (split in place) into *w. On error *w is left untouched and `e` names `name`,
 * the line and the key. */
int settings_parse(char *text, const char *name, workbench_settings *w, bragg_err *e);

/* config_validate of w's setup, naming the line of `name` (the file settings_parse read) that
 * set the key at fault: the rules between keys are found once the whole file is read. */
int settings_validate(const workbench_settings *w, const catalog *cat, const char *name,
                      bragg_err *e);

/* Writes `w` as settings text; returns the length needed (like snprintf: the text is
 * truncated when it does not fit `len`). */
int settings_format(const workbench_settings *w, char *out, size_t len);

/* The settings file's path from the environment. */
int settings_path(char *out, size_t len, bragg_err *e);

/* Loads the file into *w: BRAGG_OK when loaded, 1 when there is no file yet (w untouched),
 * BRAGG_ERR when it exists but cannot be read or parsed (w untouched, `e` says why). */
int settings_load(workbench_settings *w, bragg_err *e);

/* Renames the settings file to workbench.conf.unreadable (or .unreadable.2, ... : never over an
 * older one) and writes the new path into `aside`. */
int settings_set_aside(char *aside, size_t len, bragg_err *e);

/* Saves `w`, creating the folder if needed. */
int settings_save(const workbench_settings *w, bragg_err *e);

#endif
