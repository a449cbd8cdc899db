/*
 * measured.h - a measured curve read from a file, to be drawn beside simulated ones.
 *
 * What it is for: `bragg plot --measured FILE` and the physics tests read the digitised
 * measurements in assets/measurements/ through this one reader, so a lecture slide and a
 * validation test see the same numbers. The format is plain text:
 *
 *   # free text: what was measured, where, the source (paper, figure, digitisation)
 *   # quantity: ionisation          <- header keys: "# key: value", anywhere in the comments
 *   # columns: depth_cm value error
 *   2.2297  1.5047  0.0374
 *
 * Header keys: quantity (what the values are: "dose", "ionisation", "fragment yield"), unit
 * ("arbitrary" when only the shape is meaningful), ion, energy_MeV_u, material, label (the
 * legend entry), columns (names of the columns: depth_cm and value, then optionally error
 * and/or Z; default "depth_cm value error" with the error column optional). Data rows are
 * numbers separated by tabs or spaces; blank lines and '#' lines are skipped. A row that does
 * not parse is an error naming the file and line.
 *
 * Memory: a measured owns its arrays (measured_free). Any thread may read its own file.
 */
#ifndef BRAGG_MEASURED_H
#define BRAGG_MEASURED_H

#include "err.h"

#define MEASURED_MAX_POINTS 100000

typedef struct measured {
    char path[512];
    char quantity[64];     /* "" when the header does not say */
    char unit[64];
    char ion[32];
    char material[64];
    char label[200];       /* the legend entry; from the file, or its name */
    double energy;         /* MeV/u, NaN when the header does not say */
    int arbitrary;         /* unit is arbitrary: only normalised curves compare */
    int n;
    double *x;             /* depth, cm */
    double *y;
    double *err;           /* NULL when the file has no error column */
    int *z;                /* NULL unless the file has a Z column (fragment charge) */
} measured;

/* Reads `path`. On error returns BRAGG_ERR with a message naming the file (and line). */
int measured_load(measured *m, const char *path, bragg_err *e);
void measured_free(measured *m);

/* Whether the quantity is a depth-dose curve (dose or ionisation, not yields). */
int measured_is_depth_dose(const measured *m);

#endif
