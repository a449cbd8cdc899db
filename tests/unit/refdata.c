/* refdata.c - see refdata.h. */
#include "refdata.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assets.h"

const char *ref_dir(void)
{
    return BRAGG_ASSET_DIR "/../tests/reference";
}

static double number_or_nan(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    return (end != s && *end == '\0') ? v : NAN;
}

const ref_table *ref_load(const char *name)
{
    static ref_table table;
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", ref_dir(), name);
    tsv_reader r;
    bragg_err e;
    cr_assert(tsv_open(&r, path, &e) == BRAGG_OK, "%s", e.msg);
    memset(&table, 0, sizeof table);
    int rc;
    while ((rc = tsv_next(&r, &e)) == 1) {
        if (isnan(number_or_nan(r.fields[0])) && isnan(number_or_nan(r.fields[1])) &&
            table.rows == 0 && strchr(r.fields[0], '_') != NULL)
            continue;   /* a column-title row such as "T_MeV  S_el_MeV_cm2_g" */
        cr_assert(table.rows < REF_MAX_ROWS, "%s: too many rows", name);
        int row = table.rows++;
        table.cols = r.nfields < REF_MAX_COLS ? r.nfields : REF_MAX_COLS;
        for (int c = 0; c < table.cols; c++) table.v[row][c] = number_or_nan(r.fields[c]);
        for (int c = 0; c < 3 && c < r.nfields; c++)
            snprintf(table.text[row][c], sizeof table.text[row][c], "%s", r.fields[c]);
    }
    tsv_close(&r);
    cr_assert(rc == 0, "%s", e.msg);
    cr_assert(table.rows > 0, "%s holds no rows", name);
    return &table;
}

double ref_extra(const char *quantity, const char *particle, const char *material, double T_MeV,
                 const char *source_prefix)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/extra_references.tsv", ref_dir());
    tsv_reader r;
    bragg_err e;
    cr_assert(tsv_open(&r, path, &e) == BRAGG_OK, "%s", e.msg);
    double found = NAN;
    while (tsv_next(&r, &e) == 1) {
        if (r.nfields < 7 || strcmp(r.fields[0], quantity) || strcmp(r.fields[1], particle) ||
            strcmp(r.fields[2], material) || strncmp(r.fields[6], source_prefix,
                                                      strlen(source_prefix)))
            continue;
        double t = number_or_nan(r.fields[3]);
        if ((isnan(T_MeV) && isnan(t)) || fabs(t - T_MeV) < 1e-9 * T_MeV) {
            found = number_or_nan(r.fields[4]);
            break;
        }
    }
    tsv_close(&r);
    return found;
}

double ref_loglog(const ref_table *t, int xcol, int ycol, double x)
{
    for (int i = 0; i + 1 < t->rows; i++) {
        double x0 = t->v[i][xcol], x1 = t->v[i + 1][xcol];
        if (isnan(x0) || isnan(x1) || x < x0 || x > x1) continue;
        double f = log(x / x0) / log(x1 / x0);
        return exp(log(t->v[i][ycol]) + f * log(t->v[i + 1][ycol] / t->v[i][ycol]));
    }
    return NAN;
}
