/* shell.c - see shell.h. */
#include "shell.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "assets.h"
#include "constants.h"

/* Reads fields[first..first+n-1] as numbers in [lo, hi]; messages name file, line and row. */
static int read_row(const tsv_reader *r, int first, double *out, int n, double lo, double hi,
                    bragg_err *e)
{
    if (r->nfields != first + n)
        return bragg_fail(e, "%s line %d: expected %d numbers, found %d", r->path, r->line_no, n,
                          r->nfields - first);
    for (int i = 0; i < n; i++)
        if (parse_number(r->fields[first + i], r->fields[0], lo, hi, &out[i], e))
            return bragg_fail_prefix(e, "%s line %d: ", r->path, r->line_no);
    return BRAGG_OK;
}

/* The lookups walk these grids cell by cell: each must rise strictly (a repeated or falling
 * node gives a zero or negative cell width, hence infinities, in the interpolation). */
static int check_rising(const tsv_reader *r, const double *v, int n, const char *what,
                        bragg_err *e)
{
    for (int i = 1; i < n; i++)
        if (!(v[i] > v[i - 1]))
            return bragg_fail(e, "%s line %d: %s: node %d (%g) does not rise above node %d (%g)",
                              r->path, r->line_no, what, i + 1, v[i], i, v[i - 1]);
    return BRAGG_OK;
}

/* A row of C_K, C_L or their asymptotic coefficients starts with its theta, which must be the
 * grid's node for that row: rows out of order would scramble the table silently. */
static int check_theta(const tsv_reader *r, const double *grid, int have_grid, int row,
                       bragg_err *e)
{
    double theta;
    if (!have_grid)
        return bragg_fail(e, "%s line %d: %s row before its theta grid", r->path, r->line_no,
                          r->fields[0]);
    if (r->nfields < 2 || parse_number(r->fields[1], "theta", 0, 10, &theta, e))
        return bragg_fail_prefix(e, "%s line %d: ", r->path, r->line_no);
    if (fabs(theta - grid[row]) > 1e-9)
        return bragg_fail(e, "%s line %d: %s row %d is for theta %g, but the grid's node %d is "
                             "%g", r->path, r->line_no, r->fields[0], row + 1, theta, row + 1,
                          grid[row]);
    return BRAGG_OK;
}

/* One (Z, value) row of the theta splines or of the screening and scaling tables. */
static int read_z_row(const tsv_reader *r, double zmin, double zmax, double lo, double hi,
                      double v[2], bragg_err *e)
{
    if (read_row(r, 1, v, 2, -1e6, 1e6, e)) return BRAGG_ERR;
    if (!(v[0] >= zmin && v[0] <= zmax))
        return bragg_fail(e, "%s line %d: Z: %g is out of range (valid: %g to %g)", r->path,
                          r->line_no, v[0], zmin, zmax);
    if (!(v[1] >= lo && v[1] <= hi))
        return bragg_fail(e, "%s line %d: %s: %g is out of range (valid: %g to %g)", r->path,
                          r->line_no, r->fields[0], v[1], lo, hi);
    return BRAGG_OK;
}

/* Bounds: the published tables' own values with a wide margin (C_K -7.8..1.0, C_L -46..5,
 * the asymptotic U, V, Z -53..55, theta 0.24..0.95, H_M and H_N 3.9..76): a value beyond them
 * is a corrupted file, not physics. */
#define SHELL_C_MAX    1e3
#define SHELL_ASYM_MAX 1e4
#define SHELL_THETA_MAX 2.0
#define SHELL_ETA_MAX  1e3
#define SHELL_SCALE_MAX 1e3

int shell_tables_load(shell_tables *t, const char *file, bragg_err *e)
{
    memset(t, 0, sizeof *t);
    tsv_reader r;
    if (tsv_open(&r, file, e)) return BRAGG_ERR;
    int rc, nck = 0, ncl = 0, nak = 0, nal = 0, have_eta = 0, have_tk = 0, have_tl = 0;
    int seen_zd[11] = {0}, seen_hm[64] = {0}, seen_hn[64] = {0};
    while ((rc = tsv_next(&r, e)) == 1) {
        const char *kind = r.fields[0];
        double v[3];
        int bad = 0;
        if (strcmp(kind, "grid") == 0) {
            const char *name = r.nfields > 1 ? r.fields[1] : "";
            int *have = strcmp(name, "eta") == 0       ? &have_eta
                        : strcmp(name, "theta_k") == 0 ? &have_tk
                        : strcmp(name, "theta_l") == 0 ? &have_tl
                                                       : NULL;
            double *grid = have == &have_eta ? t->eta : have == &have_tk ? t->theta_k : t->theta_l;
            int n = have == &have_eta ? SHELL_N_ETA : have == &have_tk ? SHELL_N_THETA_K
                                                                      : SHELL_N_THETA_L;
            double hi = have == &have_eta ? SHELL_ETA_MAX : SHELL_THETA_MAX;
            if (!have)
                bad = bragg_fail(e, "%s line %d: grid %s is not known (valid: eta, theta_k, "
                                    "theta_l)", r.path, r.line_no, BRAGG_QUOTED(name));
            else if (*have)
                bad = bragg_fail(e, "%s line %d: grid %s given twice (first on line %d)", r.path,
                                 r.line_no, name, *have);
            else if (!(bad = read_row(&r, 2, grid, n, 1e-6, hi, e)) &&
                     !(bad = check_rising(&r, grid, n, name, e)))
                *have = r.line_no;
        } else if (strcmp(kind, "ck") == 0 || strcmp(kind, "cl") == 0) {
            int k = kind[1] == 'k', *row = k ? &nck : &ncl;
            int rows = k ? SHELL_N_THETA_K : SHELL_N_THETA_L;
            if (*row == rows)
                bad = bragg_fail(e, "%s line %d: more than %d %s rows", r.path, r.line_no, rows,
                                 kind);
            else if (!(bad = check_theta(&r, k ? t->theta_k : t->theta_l, k ? have_tk : have_tl,
                                         *row, e)))
                bad = read_row(&r, 2, k ? t->ck[*row] : t->cl[*row],
                               k ? SHELL_N_ETA : SHELL_N_ETA_L, -SHELL_C_MAX, SHELL_C_MAX, e);
            (*row)++;
        } else if (strcmp(kind, "asym_k") == 0 || strcmp(kind, "asym_l") == 0) {
            int k = kind[5] == 'k', *row = k ? &nak : &nal;
            int rows = k ? SHELL_N_THETA_K : SHELL_N_THETA_L;
            if (*row == rows)
                bad = bragg_fail(e, "%s line %d: more than %d %s rows", r.path, r.line_no, rows,
                                 kind);
            else if (!(bad = check_theta(&r, k ? t->theta_k : t->theta_l, k ? have_tk : have_tl,
                                         *row, e)) &&
                     !(bad = read_row(&r, 2, v, k ? 3 : 2, -SHELL_ASYM_MAX, SHELL_ASYM_MAX, e))) {
                if (k) t->uk[*row] = v[0], t->vk[*row] = v[1], t->zk[*row] = v[2];
                else t->ul[*row] = v[0], t->vl[*row] = v[1];
            }
            (*row)++;
        } else if (strcmp(kind, "thetak_spline") == 0 || strcmp(kind, "thetal_spline") == 0) {
            int k = kind[5] == 'k', *n = k ? &t->n_tk : &t->n_tl;
            double *z = k ? t->tk_z : t->tl_z, *th = k ? t->tk_theta : t->tl_theta;
            if (*n == 40)
                bad = bragg_fail(e, "%s line %d: more than 40 %s rows", r.path, r.line_no, kind);
            else if (!(bad = read_z_row(&r, 1, 120, 1e-6, SHELL_THETA_MAX, v, e))) {
                if (*n > 0 && !(v[0] > z[*n - 1]))
                    bad = bragg_fail(e, "%s line %d: %s: Z %g does not rise above the row "
                                        "before (%g)", r.path, r.line_no, kind, v[0], z[*n - 1]);
                z[*n] = v[0], th[*n] = v[1], (*n)++;
            }
        } else if (strcmp(kind, "zd") == 0 || strcmp(kind, "hm") == 0 || strcmp(kind, "hn") == 0) {
            int is_zd = kind[0] == 'z';
            int max = is_zd ? 10 : 63;
            double *dst = is_zd ? t->zd : kind[1] == 'm' ? t->hm : t->hn;
            int *seen = is_zd ? seen_zd : kind[1] == 'm' ? seen_hm : seen_hn;
            if (!(bad = read_z_row(&r, 0, max, 0, is_zd ? 10 : SHELL_SCALE_MAX, v, e))) {
                int z = (int)v[0];
                if (z != v[0])
                    bad = bragg_fail(e, "%s line %d: Z: %g is not a whole number", r.path,
                                     r.line_no, v[0]);
                else if (seen[z])
                    bad = bragg_fail(e, "%s line %d: %s for Z = %d given twice (first on line %d)",
                                     r.path, r.line_no, kind, z, seen[z]);
                else
                    dst[z] = v[1], seen[z] = r.line_no;
            }
        } else {
            bad = bragg_fail(e, "%s line %d: row kind %s is not known (valid: grid, ck, cl, "
                                "asym_k, asym_l, thetak_spline, thetal_spline, zd, hm, hn)",
                             r.path, r.line_no, BRAGG_QUOTED(kind));
        }
        if (bad) {
            tsv_close(&r);
            return BRAGG_ERR;
        }
    }
    tsv_close(&r);
    if (rc < 0) return BRAGG_ERR;
    if (!have_eta || !have_tk || !have_tl || nck != SHELL_N_THETA_K || ncl != SHELL_N_THETA_L ||
        nak != SHELL_N_THETA_K || nal != SHELL_N_THETA_L || t->n_tk < 2 || t->n_tl < 2)
        return bragg_fail(e, "%s: incomplete shell-correction tables (needs the eta, theta_k and "
                             "theta_l grids, %d ck, %d cl, %d asym_k and %d asym_l rows, 2 or more "
                             "of each theta spline)", r.path, SHELL_N_THETA_K, SHELL_N_THETA_L,
                          SHELL_N_THETA_K, SHELL_N_THETA_L);
    return BRAGG_OK;
}

/* Index of the cell [x[i], x[i+1]] holding v, clamped to the table. */
static int cell_of(const double *x, int n, double v)
{
    int i = 0;
    while (i < n - 2 && v >= x[i + 1]) i++;
    return i;
}

static double clamp(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Bilinear interpolation in (theta, ln eta) of a table with rows over theta. */
static double table2(const double *theta, int nt, const double *eta, int ne, const double *z,
                     int stride, double th, double et)
{
    int i = cell_of(theta, nt, th), j = cell_of(eta, ne, et);
    double a = (th - theta[i]) / (theta[i + 1] - theta[i]);
    double b = log(et / eta[j]) / log(eta[j + 1] / eta[j]);
    const double *r0 = z + i * stride, *r1 = z + (i + 1) * stride;
    return (1 - a) * ((1 - b) * r0[j] + b * r0[j + 1]) + a * ((1 - b) * r1[j] + b * r1[j + 1]);
}

static double lin(const double *x, const double *y, int n, double v)
{
    int i = cell_of(x, n, v);
    return y[i] + (y[i + 1] - y[i]) * (v - x[i]) / (x[i + 1] - x[i]);
}

/* C_K of a full K shell: table below eta = 10, asymptotic (U + V/eta + Z/eta^2)/eta above. */
static double c_k(const shell_tables *t, double theta, double eta)
{
    theta = clamp(theta, t->theta_k[0], t->theta_k[SHELL_N_THETA_K - 1]);
    if (eta >= t->eta[SHELL_N_ETA - 1]) {
        double u = lin(t->theta_k, t->uk, SHELL_N_THETA_K, theta);
        double v = lin(t->theta_k, t->vk, SHELL_N_THETA_K, theta);
        double z = lin(t->theta_k, t->zk, SHELL_N_THETA_K, theta);
        return (u + v / eta + z / (eta * eta)) / eta;
    }
    eta = eta < t->eta[0] ? t->eta[0] : eta;
    return table2(t->theta_k, SHELL_N_THETA_K, t->eta, SHELL_N_ETA, &t->ck[0][0], SHELL_N_ETA,
                  theta, eta);
}

/* C_L of a full L shell (8 electrons): table up to eta = 5, (U + V/eta)/eta above.
 *
 * The tabulated column at eta = 7 lies ~0.8 above the trend for every theta (C_L falls
 * monotonically with eta: 0.91 at 3, 0.63 at 5, then 1.42 at 7 for theta = 0.66), and the V of
 * the asymptotic form built from it is ~55 for every theta. We take that column as a data error
 * and join the asymptotic form at eta = 5 instead, with V = 5 (5 C_L(5) - U): the curve then
 * falls smoothly through eta = 7. The PSTAR comparison in tests/unit/test_stopping.c is what
 * says this is right (it removes a 2% dip in the proton stopping of water at 3-4 MeV). */
#define SHELL_L_JOIN (SHELL_N_ETA_L - 2)
static double c_l(const shell_tables *t, double theta, double eta)
{
    theta = clamp(theta, t->theta_l[0], t->theta_l[SHELL_N_THETA_L - 1]);
    double eta_join = t->eta[SHELL_L_JOIN];
    if (eta >= eta_join) {
        double u = lin(t->theta_l, t->ul, SHELL_N_THETA_L, theta);
        double c_join = table2(t->theta_l, SHELL_N_THETA_L, t->eta, SHELL_L_JOIN + 1,
                               &t->cl[0][0], SHELL_N_ETA_L, theta, eta_join);
        double v = eta_join * (eta_join * c_join - u);
        return (u + v / eta) / eta;
    }
    eta = eta < t->eta[0] ? t->eta[0] : eta;
    return table2(t->theta_l, SHELL_N_THETA_L, t->eta, SHELL_L_JOIN + 1, &t->cl[0][0],
                  SHELL_N_ETA_L, theta, eta);
}

/* theta_K(Z), theta_L(Z): the published nodes are dense and smooth; linear between them. */
static double theta_of_z(const double *z, const double *th, int n, double Z)
{
    if (Z <= z[0]) return th[0];
    if (Z >= z[n - 1]) return th[n - 1];
    return lin(z, th, n, Z);
}

double shell_correction_atom(const shell_tables *t, int Z, double beta2)
{
    const double a2 = FINE_STRUCTURE * FINE_STRUCTURE;
    double ba2 = beta2 / a2;

    /* K shell: screened charge Z - 0.3 (hydrogen: one electron, half a shell).
     *
     * theta is the shell's binding energy in units of Z_s^2 Rydberg. The published theta_K(Z)
     * curve starts at Z = 11.8 (0.707); lighter atoms keep that value, which is what their
     * measured K binding energies give (O: 543 eV / ((8 - 0.3)^2 * 13.606 eV) = 0.67; C: 0.65).
     * Hydrogen binds with at least a Rydberg: theta >= 1, the top of the table. (Geant4 computes
     * Z_s^2 (1 + Z_s^2 alpha^2/4) here, an energy in Rydberg rather than theta, which always
     * lands on the table's top edge; that makes the stopping of water 1.4% low at 1 MeV.) */
    double z2 = Z == 1 ? 1.0 : (Z - 0.3) * (Z - 0.3);
    double theta = Z == 1 ? t->theta_k[SHELL_N_THETA_K - 1]
                          : theta_of_z(t->tk_z, t->tk_theta, t->n_tk, Z);
    double res = (Z == 1 ? 0.5 : 1.0) * c_k(t, theta, ba2 / z2);
    if (Z <= 2) return res;

    /* L shell (8 electrons when full), screened charge Z - Z_D. theta_L from the published
     * curve, held at its first node (0.299 at Z = 15.5) for lighter atoms, which again matches
     * their binding energies (O: 2s 28 eV, 2p 14 eV over Z_L^2 Ry / 4 = 68 eV: 0.2-0.4).
     * Geant4's light-atom expression is an energy, not theta, and lands on the table's top edge
     * (0.66); see above. */
    double zeff = Z < 10 ? Z - t->zd[Z] : Z - t->zd[10];
    z2 = zeff * zeff;
    double eta_l = ba2 / z2;
    double theta_l = theta_of_z(t->tl_z, t->tl_theta, t->n_tl, Z);
    int in_l = Z - 2 < 8 ? Z - 2 : 8;
    res += 0.125 * in_l * c_l(t, theta_l, eta_l);
    if (Z <= 10) return res;

    /* Outer shells as L shells with scaled eta (Bichsel): M up to 18 electrons, N up to 32. */
    double theta_bar = theta_l;
    int hz = Z < 63 ? Z : 63;
    res += 0.125 * (Z < 28 ? Z - 10 : 18) * c_l(t, theta_bar, t->hm[hz] * eta_l);
    if (Z > 32) {
        res += 0.125 * (Z < 60 ? Z - 28 : 32) * c_l(t, theta_bar, t->hn[hz] * eta_l);
        if (Z > 60) res += 0.125 * (Z - 60) * c_l(t, theta_bar, 150.0 * eta_l);
    }
    return res;
}
