/*
 * assets.h - finding and reading the plain-text data files in assets/.
 *
 * The asset folder is, in order: $BRAGG_ASSETS, the folder compiled in as BRAGG_ASSET_DIR
 * (the source tree's assets/), or ../assets next to the executable. Files are tab-separated,
 * one record a line, '#' starts a comment line, blank lines are skipped.
 *
 * A tsv_reader owns its FILE and line buffer; it is used by one thread at a time.
 */
#ifndef BRAGG_ASSETS_H
#define BRAGG_ASSETS_H

#include <stdio.h>

#include "err.h"

#define TSV_MAX_FIELDS 40
#define TSV_MAX_LINE   8192

typedef struct tsv_reader {
    FILE *file;
    char path[1024];
    int line_no;                   /* 1-based number of the current line */
    int nfields;                   /* fields in the current row */
    char *fields[TSV_MAX_FIELDS];  /* point into `line` */
    char line[TSV_MAX_LINE];
} tsv_reader;

/* The asset files a run may read (catalog, stopping, biology), NULL-terminated: inputs that
 * no output may replace (a test checks that the folder holds these and no other .tsv). */
extern const char *const assets_files[];

/* Writes the full path of asset `name` into out. A name containing '/' is taken as a path. */
int assets_path(const char *name, char *out, size_t out_len, bragg_err *e);

int tsv_open(tsv_reader *r, const char *name, bragg_err *e);
/* Reads the next data row: 1 when a row is ready, 0 at end of file, BRAGG_ERR on a line too
 * long or a read error (message says file and line). */
int tsv_next(tsv_reader *r, bragg_err *e);
void tsv_close(tsv_reader *r);

/* Numbers, one syntax everywhere (command line, settings, assets): an optional sign, decimal
 * digits with an optional point, an optional exponent: "5", "-0.5", ".5", "1e6". Not accepted:
 * blanks, hex ("0x10"), "inf", "nan", a decimal comma, values beyond the double range. Callers
 * that read files trim the blanks around a field first. parse_decimal returns BRAGG_ERR on
 * anything else; parse_number also checks [lo, hi] and names `field` in its message. */
int parse_decimal(const char *text, double *out);
int parse_number(const char *text, const char *field, double lo, double hi, double *out,
                 bragg_err *e);

/* Lookup key for a user-typed name: lower-case with '-', '_', ' ' and '.' removed, so "C-12",
 * "c12" and "c_12" meet. Returns out. */
char *name_key(const char *name, char *out, size_t out_len);

/* True when `key` (already a name_key) equals name_key(name). */
int name_key_equals(const char *key, const char *name);

/* True when `key` equals the name_key of one item of a comma-separated list ('-' = empty). */
int name_list_has(const char *key, const char *list);

#endif
