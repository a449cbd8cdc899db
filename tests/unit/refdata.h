/*
 * refdata.h - reading the reference tables in tests/reference/ for the physics tests.
 *
 * The numbers there are transcribed from independent sources (NIST PSTAR/ASTAR, ICRU 73/90,
 * PDG); each file's header names them. Test code only.
 */
#ifndef BRAGG_TEST_REFDATA_H
#define BRAGG_TEST_REFDATA_H

#define REF_MAX_ROWS 5120   /* the longest table: neutron_thick_target_satoh2007.tsv, 4 713 rows */
#define REF_MAX_COLS 12

typedef struct ref_table {
    int rows, cols;
    double v[REF_MAX_ROWS][REF_MAX_COLS];    /* numeric columns; NaN where not a number */
    char text[REF_MAX_ROWS][3][48];           /* first three fields as text */
} ref_table;

/* Reads tests/reference/<name>; rows whose first field is a column title are skipped. Aborts
 * the test on failure. Returns a static table (one per call site is fine: tests run apart). */
const ref_table *ref_load(const char *name);

/* From extra_references.tsv: the value of `quantity` for particle/material at T_MeV (NaN for
 * constants), or NaN when absent. `source_prefix` selects the source key (e.g. "LDX"). */
double ref_extra(const char *quantity, const char *particle, const char *material, double T_MeV,
                 const char *source_prefix);

/* Column `ycol` of `t` at x in column `xcol`, log-log between the rows that bracket x (the
 * columns must rise together, as PSTAR's energy, stopping and range do); NaN outside them. */
double ref_loglog(const ref_table *t, int xcol, int ycol, double x);

/* Path of the repository's tests/reference folder (compiled in). */
const char *ref_dir(void);

#endif
