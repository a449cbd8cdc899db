/* dose_map.c - see dose_map.h. */
#include "dose_map.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic_file.h"
#include "ion.h"

/* Nothing known of the run (see dose_map_run). */
static void run_unknown(dose_map_run *run)
{
    run->ion[0] = '\0';
    run->energy_MeV_u = run->seed = run->histories = NAN;
}

int dose_map_from_result(const score_result *r, dose_map *m, bragg_err *e)
{
    memset(m, 0, sizeof *m);
    run_unknown(&m->run);
    if (r->map_kind == MAP_NONE || !r->map || r->map_bins < 1)
        return bragg_fail(e, "the run has no dose map (bragg run --map FILE scores one)");
    m->kind = r->map_kind;
    m->n_lat = r->map_bins;
    m->n_depth = r->nbins;
    m->lat_width = r->map_width;
    m->lat_lo = r->map_kind == MAP_XZ ? -r->map_half : 0.0;
    m->depth_width = r->bin_width;
    m->dose = r->map;
    return BRAGG_OK;
}

int dose_map_error_from_result(const score_result *r, dose_map *m, bragg_err *e)
{
    if (dose_map_from_result(r, m, e)) return BRAGG_ERR;
    if (!r->map_err) {
        memset(m, 0, sizeof *m);
        return bragg_fail(e, "the run kept no map per batch, so its cells have no errors "
                             "(bragg run --map-error FILE keeps one)");
    }
    m->dose = r->map_err;
    m->is_error = 1;
    return BRAGG_OK;
}

const char *dose_map_quantity(const dose_map *m)
{
    if (m->is_error)
        return m->kind == MAP_XZ ? "standard error of the dose integrated over y"
                                 : "standard error of the dose";
    return m->kind == MAP_XZ ? "dose integrated over y" : "dose";
}

void dose_map_free(dose_map *m)
{
    free(m->owned);
    memset(m, 0, sizeof *m);
}

const char *dose_map_unit(int kind)
{
    return kind == MAP_XZ ? "Gy cm per primary" : "Gy per primary";
}

const char *dose_map_axis_unit(int kind)
{
    return kind == MAP_XZ ? "Gy cm" : "Gy";
}

const char *dose_map_kind_name(int kind)
{
    return kind == MAP_RZ ? "rz" : kind == MAP_XZ ? "xz" : "none";
}

int dose_map_kind_parse(const char *text, int *kind, bragg_err *e)
{
    if (strcmp(text, "rz") == 0) *kind = MAP_RZ;
    else if (strcmp(text, "xz") == 0) *kind = MAP_XZ;
    else return bragg_fail(e, "%s is not a map kind (valid: rz, xz)", BRAGG_QUOTED(text));
    return BRAGG_OK;
}

double dose_map_extent(const dose_map *m)
{
    return fmax(fabs(m->lat_lo), fabs(m->lat_lo + m->n_lat * m->lat_width));
}

double dose_map_reach(const dose_map *m, double floor_fraction)
{
    double top = 0;
    for (size_t k = 0; k < (size_t)m->n_lat * m->n_depth; k++)
        if (m->dose[k] > top) top = m->dose[k];
    if (!(top > 0)) return dose_map_extent(m);
    double floor_dose = top * floor_fraction, reach = 0;
    for (int j = 0; j < m->n_lat; j++) {
        double edge = fmax(fabs(m->lat_lo + j * m->lat_width),
                           fabs(m->lat_lo + (j + 1) * m->lat_width));
        for (int i = 0; i < m->n_depth; i++)
            if (m->dose[(size_t)i * m->n_lat + j] >= floor_dose) {
                reach = fmax(reach, edge);
                break;
            }
    }
    return reach;
}

double dose_map_lateral(const dose_map *m, int j)
{
    return m->lat_lo + (j + 0.5) * m->lat_width;
}

int dose_map_depth_bin(const dose_map *m, double depth_cm)
{
    if (!(depth_cm >= 0.0)) return -1;
    /* A depth typed on a bin edge belongs to the bin that starts there. In binary neither the
     * depth nor the width is exact, and their quotient can land a rounding unit below the
     * edge's index (0.57 / 0.01 = 56.99999999999999, while 0.3 / 0.01 = 30): 0.57 fell into
     * the bin 0.56-0.57, 0.3 into 0.30-0.31. Those errors are a few parts in 1e16 of the
     * quotient; a tolerance of one part in 1e9 (at least 1e-9 of a bin) covers them at any
     * depth and is far below any difference of depths one types (at 1e4 bins deep, 1e-5 of a
     * bin). */
    double q = depth_cm / m->depth_width;
    double i = floor(q + 1e-9 * fmax(q, 1.0));
    return i < m->n_depth ? (int)i : -1;
}

/* ---- NRRD ------------------------------------------------------------------------------------ */

#define NRRD_MAGIC "NRRD0004"

/* Little-endian whatever the host, as the header says. */
static void put_le_double(unsigned char *out, double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    for (int i = 0; i < 8; i++) out[i] = (unsigned char)(u >> (8 * i));
}

static double get_le_double(const unsigned char *in)
{
    uint64_t u = 0;
    for (int i = 0; i < 8; i++) u |= (uint64_t)in[i] << (8 * i);
    double v;
    memcpy(&v, &u, sizeof v);
    return v;
}

int dose_map_write_nrrd(const run_config *c, const run_snapshot *snap, const char *path,
                        const char *what, int error, bragg_err *e)
{
    dose_map m;
    if ((error ? dose_map_error_from_result(&snap->result, &m, e)
               : dose_map_from_result(&snap->result, &m, e)))
        return bragg_fail_prefix(e, "%s: ", what);
    atomic_file af;
    if (atomic_file_open(&af, path, what, e)) return BRAGG_ERR;
    FILE *f = af.file;
    char geom[256];
    config_describe_geometry(c, geom, sizeof geom);
    /* Comments are one line each: names from the user are cleaned of line breaks. */
    for (char *p = geom; *p; p++)
        if (*p == '\n' || *p == '\r') *p = ' ';
    double lw = 10 * m.lat_width, dw = 10 * m.depth_width;   /* mm */
    fprintf(f, NRRD_MAGIC "\n");
    fprintf(f, "# Complete NRRD file format specification at:\n");
    fprintf(f, "# http://teem.sourceforge.net/nrrd/format.html\n");
    /* The histories scored, as the dose counts them; a run that ended early says how many were
     * asked and how it ended, as the MCPL header does (phase_space.c): "70720 histories" alone
     * read as a whole run. */
    char ran[96] = "";
    if (snap->state == RUN_CANCELLED || snap->state == RUN_FAILED)
        snprintf(ran, sizeof ran, " of %llu asked (%s)", (unsigned long long)c->histories,
                 snap->state == RUN_CANCELLED ? "cancelled" : "the run failed");
    /* The energy's unit as the run summary gives it: MeV for protons (A = 1), else MeV/u. */
    fprintf(f, "# bragg %s (git %s): %s of %s %g %s in %s, %llu histories%s, seed %llu\n",
            BRAGG_VERSION, BRAGG_GIT_REV,
            m.is_error ? "standard errors of the dose map" : "dose map", c->ion, c->energy,
            ion_energy_unit(snap->result.primary_proton ? 1 : 0), geom,
            (unsigned long long)snap->result.histories, ran, (unsigned long long)c->seed);
    if (m.is_error)
        fprintf(f, "# standard error of the mean from the spread between %d batches\n",
                snap->batches_done);
    fprintf(f, "# axis 0: %s (lateral bins), axis 1: one voxel, axis 2: depth (beam along +z)\n",
            m.kind == MAP_RZ ? "radius from the beam axis" : "x");
    fprintf(f, "content: bragg %s, %s\n",
            m.is_error ? "dose map standard error" : "dose map", dose_map_unit(m.kind));
    fprintf(f, "type: double\n");
    fprintf(f, "dimension: 3\n");
    fprintf(f, "space: left-posterior-superior\n");
    fprintf(f, "sizes: %d 1 %d\n", m.n_lat, m.n_depth);
    fprintf(f, "space directions: (%.17g,0,0) (0,%.17g,0) (0,0,%.17g)\n", lw, lw, dw);
    fprintf(f, "space origin: (%.17g,0,%.17g)\n", 10 * dose_map_lateral(&m, 0), 0.5 * dw);
    fprintf(f, "space units: \"mm\" \"mm\" \"mm\"\n");
    fprintf(f, "kinds: domain domain domain\n");
    fprintf(f, "labels: \"%s\" \"y\" \"z\"\n", m.kind == MAP_RZ ? "r" : "x");
    fprintf(f, "endian: little\n");
    fprintf(f, "encoding: raw\n");
    fprintf(f, "bragg_map:=%s\n", dose_map_kind_name(m.kind));
    fprintf(f, "bragg_quantity:=%s\n", dose_map_quantity(&m));
    fprintf(f, "bragg_unit:=%s\n", dose_map_unit(m.kind));
    fprintf(f, "bragg_lateral_bin_cm:=%.17g\n", m.lat_width);
    fprintf(f, "bragg_lateral_min_cm:=%.17g\n", m.lat_lo);
    fprintf(f, "bragg_depth_bin_cm:=%.17g\n", m.depth_width);
    fprintf(f, "bragg_histories:=%llu\n", (unsigned long long)snap->result.histories);
    /* The run's identity as its JSON has it, so that `bragg plot` can refuse another run's map
     * that happens to share the name and the grid. */
    char ion[sizeof c->ion];
    snprintf(ion, sizeof ion, "%s", c->ion);
    for (char *p = ion; *p; p++)
        if (*p == '\n' || *p == '\r') *p = ' ';
    fprintf(f, "bragg_ion:=%s\n", ion);
    fprintf(f, "bragg_energy_MeV_u:=%.17g\n", c->energy);
    fprintf(f, "bragg_seed:=%llu\n", (unsigned long long)c->seed);
    fprintf(f, "\n");
    unsigned char buf[8 * 512];
    size_t total = (size_t)m.n_lat * m.n_depth, k = 0;
    while (k < total) {
        size_t n = total - k < 512 ? total - k : 512;
        for (size_t i = 0; i < n; i++) put_le_double(buf + 8 * i, m.dose[k + i]);
        fwrite(buf, 8, n, f);
        k += n;
    }
    return atomic_file_commit(&af, e);
}

/* The value of a "key: value" or "key:=value" header line, or NULL. */
static const char *field(const char *line, const char *key)
{
    size_t n = strlen(key);
    if (strncmp(line, key, n) != 0) return NULL;
    if (line[n] == ':' && line[n + 1] == '=') return line + n + 2;
    if (line[n] == ':' && line[n + 1] == ' ') return line + n + 2;
    return NULL;
}

int dose_map_read_nrrd(const char *path, dose_map *m, bragg_err *e)
{
    memset(m, 0, sizeof *m);
    dose_map_run run;
    run_unknown(&run);
    FILE *f = fopen(path, "rb");
    if (!f) return bragg_fail(e, "%s: cannot read: %s", BRAGG_QUOTED(path), strerror(errno));
    char line[1024];
    int n_lat = -1, one = -1, n_depth = -1, kind = MAP_NONE, raw = 0, little = 0, doubles = 0;
    int is_error = 0;
    double lat_width = NAN, lat_lo = NAN, depth_width = NAN;
    int rc = BRAGG_ERR;
    if (!fgets(line, sizeof line, f) || strncmp(line, "NRRD000", 7) != 0) {
        bragg_fail(e, "%s: not an NRRD file", BRAGG_QUOTED(path));
        goto done;
    }
    for (;;) {
        if (!fgets(line, sizeof line, f)) {
            bragg_fail(e, "%s: the header does not end (no blank line before the data)",
                       BRAGG_QUOTED(path));
            goto done;
        }
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0]) break;
        const char *v;
        if (line[0] == '#') continue;
        if ((v = field(line, "sizes"))) {
            if (sscanf(v, "%d %d %d", &n_lat, &one, &n_depth) != 3) n_lat = -1;
        } else if ((v = field(line, "type"))) {
            doubles = strcmp(v, "double") == 0;
        } else if ((v = field(line, "encoding"))) {
            raw = strcmp(v, "raw") == 0;
        } else if ((v = field(line, "endian"))) {
            little = strcmp(v, "little") == 0;
        } else if ((v = field(line, "bragg_map"))) {
            if (dose_map_kind_parse(v, &kind, e)) {
                bragg_fail_prefix(e, "%s: bragg_map: ", BRAGG_QUOTED(path));
                goto done;
            }
        } else if ((v = field(line, "bragg_quantity"))) {
            is_error = strncmp(v, "standard error", 14) == 0;
        } else if ((v = field(line, "bragg_lateral_bin_cm"))) {
            lat_width = strtod(v, NULL);
        } else if ((v = field(line, "bragg_lateral_min_cm"))) {
            lat_lo = strtod(v, NULL);
        } else if ((v = field(line, "bragg_depth_bin_cm"))) {
            depth_width = strtod(v, NULL);
        } else if ((v = field(line, "bragg_histories"))) {
            run.histories = strtod(v, NULL);
        } else if ((v = field(line, "bragg_seed"))) {
            /* Read as the integer it is, then rounded as the JSON's double was. */
            run.seed = (double)strtoull(v, NULL, 10);
        } else if ((v = field(line, "bragg_energy_MeV_u"))) {
            run.energy_MeV_u = strtod(v, NULL);
        } else if ((v = field(line, "bragg_ion"))) {
            snprintf(run.ion, sizeof run.ion, "%s", v);
        }
    }
    if (kind == MAP_NONE || !(lat_width > 0) || !isfinite(lat_lo) || !(depth_width > 0)) {
        bragg_fail(e, "%s: not a bragg dose map (bragg_map, bragg_lateral_bin_cm, "
                      "bragg_lateral_min_cm and bragg_depth_bin_cm are needed)", BRAGG_QUOTED(path));
        goto done;
    }
    if (!doubles || !raw || !little) {
        bragg_fail(e, "%s: only type double, encoding raw, endian little are read",
                   BRAGG_QUOTED(path));
        goto done;
    }
    if (n_lat < 1 || one != 1 || n_depth < 1 || (double)n_lat * n_depth > 1e9) {
        bragg_fail(e, "%s: sizes must be N 1 M (a lateral x depth map)", BRAGG_QUOTED(path));
        goto done;
    }
    size_t total = (size_t)n_lat * (size_t)n_depth;
    double *v = malloc(total * sizeof *v);
    unsigned char *buf = malloc(8 * 512);
    if (!v || !buf) {
        free(v);
        free(buf);
        bragg_fail(e, "%s: out of memory for %zu values", BRAGG_QUOTED(path), total);
        goto done;
    }
    for (size_t k = 0; k < total;) {
        size_t n = total - k < 512 ? total - k : 512;
        if (fread(buf, 8, n, f) != n) {
            free(v);
            free(buf);
            bragg_fail(e, "%s: the data ends after %zu of %zu values", BRAGG_QUOTED(path), k,
                       total);
            goto done;
        }
        for (size_t i = 0; i < n; i++) v[k + i] = get_le_double(buf + 8 * i);
        k += n;
    }
    free(buf);
    m->kind = kind;
    m->n_lat = n_lat;
    m->n_depth = n_depth;
    m->lat_width = lat_width;
    m->lat_lo = lat_lo;
    m->depth_width = depth_width;
    m->dose = v;
    m->is_error = is_error;
    m->run = run;
    m->owned = v;
    rc = BRAGG_OK;
done:
    fclose(f);
    return rc;
}
