/* measured.c - see measured.h. */
#include "measured.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_COLUMNS 4

enum column { COL_DEPTH, COL_VALUE, COL_ERROR, COL_Z, COL_NONE };

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t') s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

static void copy(char *dst, size_t len, const char *src)
{
    snprintf(dst, len, "%s", src);
}

/* "columns: depth_cm value error" -> the role of each column. */
static int parse_columns(const char *text, enum column *cols, int *n, bragg_err *e)
{
    char buf[256];
    copy(buf, sizeof buf, text);
    *n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, " \t,", &save); tok; tok = strtok_r(NULL, " \t,", &save)) {
        if (*n == MAX_COLUMNS) return bragg_fail(e, "columns: at most %d", MAX_COLUMNS);
        enum column c = strcasecmp(tok, "depth_cm") == 0 ? COL_DEPTH
                        : strcasecmp(tok, "value") == 0  ? COL_VALUE
                        : strcasecmp(tok, "error") == 0  ? COL_ERROR
                        : strcasecmp(tok, "z") == 0      ? COL_Z
                                                         : COL_NONE;
        if (c == COL_NONE)
            return bragg_fail(e, "columns: %s is not known (valid: depth_cm, value, error, Z)",
                              BRAGG_QUOTED(tok));
        cols[(*n)++] = c;
    }
    int depth = 0, value = 0;
    for (int i = 0; i < *n; i++) {
        depth += cols[i] == COL_DEPTH;
        value += cols[i] == COL_VALUE;
    }
    if (depth != 1 || value != 1)
        return bragg_fail(e, "columns: needs depth_cm and value once each (got %s)",
                          BRAGG_QUOTED(text));
    return BRAGG_OK;
}

static int grow(measured *m, int *cap)
{
    int c = *cap ? 2 * *cap : 256;
    double *x = realloc(m->x, (size_t)c * sizeof *x);
    if (x) m->x = x;
    double *y = realloc(m->y, (size_t)c * sizeof *y);
    if (y) m->y = y;
    double *er = realloc(m->err, (size_t)c * sizeof *er);
    if (er) m->err = er;
    int *z = realloc(m->z, (size_t)c * sizeof *z);
    if (z) m->z = z;
    if (!x || !y || !er || !z) return BRAGG_ERR;
    *cap = c;
    return BRAGG_OK;
}

int measured_load(measured *m, const char *path, bragg_err *e)
{
    memset(m, 0, sizeof *m);
    m->energy = NAN;
    copy(m->path, sizeof m->path, path);
    FILE *f = fopen(path, "r");
    if (!f) return bragg_fail(e, "%s: cannot read: %s", path, strerror(errno));
    enum column cols[MAX_COLUMNS] = {COL_DEPTH, COL_VALUE, COL_ERROR, COL_NONE};
    int ncols = 3, has_err = 0, has_z = 0, cap = 0, line_no = 0, rc = BRAGG_OK;
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        line_no++;
        if (!strchr(line, '\n') && !feof(f)) {
            rc = bragg_fail(e, "%s line %d: longer than %zu characters", path, line_no,
                            sizeof line - 2);
            break;
        }
        char *s = trim(line);
        if (!*s) continue;
        if (*s == '#') {
            /* "# key: value" header lines; other comments are the file's own notes. */
            char *key = trim(s + 1), *colon = strchr(key, ':');
            if (!colon) continue;
            *colon = '\0';
            char *value = trim(colon + 1);
            key = trim(key);
            if (strcmp(key, "quantity") == 0) copy(m->quantity, sizeof m->quantity, value);
            else if (strcmp(key, "unit") == 0) copy(m->unit, sizeof m->unit, value);
            else if (strcmp(key, "ion") == 0) copy(m->ion, sizeof m->ion, value);
            else if (strcmp(key, "material") == 0) copy(m->material, sizeof m->material, value);
            else if (strcmp(key, "label") == 0) copy(m->label, sizeof m->label, value);
            else if (strcmp(key, "energy_MeV_u") == 0) m->energy = strtod(value, NULL);
            else if (strcmp(key, "columns") == 0 && parse_columns(value, cols, &ncols, e)) {
                rc = bragg_fail_prefix(e, "%s line %d: ", path, line_no);
                break;
            }
            continue;
        }
        if (m->n == MEASURED_MAX_POINTS) {
            rc = bragg_fail(e, "%s: more than %d points", path, MEASURED_MAX_POINTS);
            break;
        }
        if (m->n == cap && grow(m, &cap)) {
            rc = bragg_fail(e, "%s: out of memory", path);
            break;
        }
        double v[MAX_COLUMNS];
        int got = 0;
        char *p = s;
        while (*p && got < MAX_COLUMNS + 1) {
            char *end;
            errno = 0;
            double d = strtod(p, &end);
            if (end == p || errno || !isfinite(d)) break;
            if (got < MAX_COLUMNS) v[got] = d;
            got++;
            p = end;
            while (*p == ' ' || *p == '\t') p++;
        }
        /* The error column may be left out when it is the last one. */
        int need = ncols - (cols[ncols - 1] == COL_ERROR);
        if (*p || got < need || got > ncols) {
            rc = bragg_fail(e, "%s line %d: '%.60s' is not %d numbers (columns: depth_cm, value%s)",
                            path, line_no, s, ncols, ncols > 2 ? ", ..." : "");
            break;
        }
        double err = NAN;
        int z = 0;
        for (int c = 0; c < got; c++) {
            switch (cols[c]) {
            case COL_DEPTH: m->x[m->n] = v[c]; break;
            case COL_VALUE: m->y[m->n] = v[c]; break;
            case COL_ERROR: err = v[c]; break;
            case COL_Z: z = (int)v[c]; break;
            default: break;
            }
            if (cols[c] == COL_Z && (v[c] != floor(v[c]) || v[c] < 1 || v[c] > 128)) {
                rc = bragg_fail(e, "%s line %d: Z = %g is not a charge (valid: 1 to 128)", path,
                                line_no, v[c]);
                break;
            }
            if (cols[c] == COL_ERROR && !(v[c] >= 0)) {
                rc = bragg_fail(e, "%s line %d: error %g is negative", path, line_no, v[c]);
                break;
            }
        }
        if (rc) break;
        has_err |= isfinite(err);
        has_z |= z > 0;
        m->err[m->n] = err;
        m->z[m->n] = z;
        m->n++;
    }
    if (rc == BRAGG_OK && ferror(f)) rc = bragg_fail(e, "%s: read error", path);
    fclose(f);
    if (rc == BRAGG_OK && m->n == 0) rc = bragg_fail(e, "%s: no data rows", path);
    if (rc) {
        measured_free(m);
        return BRAGG_ERR;
    }
    if (!has_err) {
        free(m->err);
        m->err = NULL;
    }
    if (!has_z) {
        free(m->z);
        m->z = NULL;
    }
    if (!m->label[0]) {
        const char *base = strrchr(path, '/');
        snprintf(m->label, sizeof m->label, "measured: %s", base ? base + 1 : path);
    }
    m->arbitrary = strcasecmp(m->unit, "arbitrary") == 0 || !m->unit[0];
    return BRAGG_OK;
}

void measured_free(measured *m)
{
    free(m->x);
    free(m->y);
    free(m->err);
    free(m->z);
    m->x = m->y = m->err = NULL;
    m->z = NULL;
    m->n = 0;
}

int measured_is_depth_dose(const measured *m)
{
    return strcasecmp(m->quantity, "dose") == 0 || strcasecmp(m->quantity, "ionisation") == 0 ||
           strcasecmp(m->quantity, "ionization") == 0;
}
