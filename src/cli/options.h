/*
 * options.h - command-line options for the bragg subcommands.
 *
 * Each subcommand describes its options in a table of `option_spec`; option_parse walks argv,
 * converts and range-checks every value and, on bad input, leaves one line naming the option
 * and its valid range (the caller prints it and exits 2). Accepted forms: `--name value`,
 * `--name=value`, `-x value` for options with a short letter, bare flags, and
 * `--flag=yes|no` (also true/false, on/off, 1/0), which lets a command line switch off what a
 * run file switched on. An option given twice takes the last value (a script may append an
 * override). A separate value that looks like an option ("--csv", or "-q" where -q is one) is
 * refused as a missing value, never taken as a file name: `--json --csv` once wrote a JSON
 * named "--csv"; such a value can still be given as `--json=--csv`. "-" stays a value.
 *
 * option_parse_file reads a run file (src/engine/run_file.h) through the same table: every
 * long option is a key, and options the command line gave are left as it set them.
 *
 * The tables point at the caller's variables; no memory is allocated. Main thread only.
 */
#ifndef BRAGG_OPTIONS_H
#define BRAGG_OPTIONS_H

#include <stdint.h>
#include <stdio.h>

#include "err.h"

typedef enum option_kind {
    OPTION_FLAG,     /* int: set to 1 when present */
    OPTION_CLEAR,    /* int: set to 0 when present (--no-x switches) */
    OPTION_STRING,   /* const char *: points into argv */
    OPTION_DOUBLE,   /* double in [lo, hi] */
    OPTION_INT,      /* int in [lo, hi] */
    OPTION_COUNT,    /* uint64_t in [lo, hi]; accepts 1e6, 2.5e5 if integral */
    OPTION_CALL,     /* calls `call(value, ctx, e)`: repeatable options such as --slab */
    OPTION_CALL_FLAG,/* a flag that calls `call("yes", ctx, e)` (or with the =value / file's) */
} option_kind;

typedef struct option_spec {
    const char *name;    /* long name without "--" */
    char letter;         /* short form, or 0 */
    option_kind kind;
    void *target;        /* variable to set, or ctx for OPTION_CALL */
    double lo, hi;       /* valid range for numeric kinds */
    const char *meta;    /* value placeholder for help, e.g. "MeV/u" */
    const char *help;
    int (*call)(const char *value, void *ctx, bragg_err *e);
} option_spec;

/* Parses argv[0..argc-1] (the words after the subcommand). Sets *help when --help/-h is seen.
 * Positional words are not accepted. */
int option_parse(const option_spec *specs, int argc, char **argv, int *help, bragg_err *e);

/* option_parse that also marks seen[i] = 1 for every specs[i] given (seen: one entry per
 * spec, zeroed by the caller). */
int option_parse_seen(const option_spec *specs, int argc, char **argv, int *help,
                      unsigned char *seen, bragg_err *e);

/* Applies the "key = value" lines of run-file text (src/engine/run_file.h; the [workbench]
 * section is skipped: it is the workbench's) as if given as --key value, except the options
 * marked in `seen` (given on the command line, which wins) and those named in `refused`
 * (NULL-terminated; e.g. "config": a run file does not name another). An unknown key is an
 * error naming the line. `name` names the text in messages (its path). lines (NULL, or one
 * entry per spec) receives the line each option was set on. Values the strings of
 * OPTION_STRING options point into stay `text`'s: keep it while they are used. */
int option_parse_file(const option_spec *specs, char *text, const char *name,
                      const unsigned char *seen, const char *const *refused, int *lines,
                      bragg_err *e);

/* 1 when the option takes a value (`--name value`), 0 for flags. */
int option_takes_value(const option_spec *s);

/* Prints "  --name META   help [lo to hi]" lines (the range: run_file_bound_text's numbers,
 * as messages write them). */
void option_print_help(FILE *out, const option_spec *specs);

#endif
