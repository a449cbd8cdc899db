/* biology.c - see biology.h. */
#include "biology.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "assets.h"
#include "constants.h"

/* ---- models and cell lines from assets ----------------------------------------------------- */

#define CELL_FILE  "cell_lines.tsv"
#define MODEL_FILE "rbe_models.tsv"

int bio_model_names(char *out, size_t len, bragg_err *e)
{
    tsv_reader r;
    if (tsv_open(&r, MODEL_FILE, e)) return BRAGG_ERR;
    size_t used = (size_t)snprintf(out, len, "mkm");
    int rc;
    while ((rc = tsv_next(&r, e)) == 1)
        if (used < len) used += (size_t)snprintf(out + used, len - used, ", %s", r.fields[0]);
    tsv_close(&r);
    return rc < 0 ? BRAGG_ERR : BRAGG_OK;
}

static int load_cell(bio_cell *c, const char *name, bragg_err *e)
{
    char key[BIO_NAME_LEN * 2], names[256] = "";
    name_key(name, key, sizeof key);
    tsv_reader r;
    if (tsv_open(&r, CELL_FILE, e)) return BRAGG_ERR;
    int rc, found = 0;
    while (!found && (rc = tsv_next(&r, e)) == 1) {
        if (r.nfields < 8) {
            bragg_fail(e, "%s line %d: expected 8 fields, found %d", r.path, r.line_no, r.nfields);
            tsv_close(&r);
            return BRAGG_ERR;
        }
        size_t n = strlen(names);
        snprintf(names + n, sizeof names - n, "%s%s", n ? ", " : "", r.fields[0]);
        if (!name_key_equals(key, r.fields[0]) && !name_list_has(key, r.fields[1])) continue;
        double *v[6] = {&c->alpha_x, &c->beta_x, &c->alpha0, &c->beta0, &c->rd_um, &c->rn_um};
        const char *what[6] = {"alpha_x", "beta_x", "alpha0", "beta0", "rd_um", "rn_um"};
        for (int k = 0; k < 6; k++)
            if (parse_number(r.fields[2 + k], what[k], 1e-6, 100, v[k], e)) {
                bragg_fail_prefix(e, "%s line %d: ", r.path, r.line_no);
                tsv_close(&r);
                return BRAGG_ERR;
            }
        snprintf(c->name, sizeof c->name, "%s", r.fields[0]);
        found = 1;
    }
    tsv_close(&r);
    if (!found && rc == 0)
        return bragg_fail(e, "cell: %s is not a known cell line (valid: %s)", BRAGG_QUOTED(name),
                          names);
    return found ? BRAGG_OK : BRAGG_ERR;
}

static int load_let_model(bio_model *m, const char *name, bragg_err *e)
{
    char key[BIO_NAME_LEN * 2];
    name_key(name, key, sizeof key);
    tsv_reader r;
    if (tsv_open(&r, MODEL_FILE, e)) return BRAGG_ERR;
    int rc, found = 0;
    while (!found && (rc = tsv_next(&r, e)) == 1) {
        if (r.nfields < 6) {
            bragg_fail(e, "%s line %d: expected 6 fields, found %d", r.path, r.line_no, r.nfields);
            tsv_close(&r);
            return BRAGG_ERR;
        }
        if (!name_key_equals(key, r.fields[0]) && !name_list_has(key, r.fields[1])) continue;
        for (int k = 0; k < 4; k++)
            if (parse_number(r.fields[2 + k], "model parameter", -100, 100, &m->p[k], e)) {
                bragg_fail_prefix(e, "%s line %d: ", r.path, r.line_no);
                tsv_close(&r);
                return BRAGG_ERR;
            }
        snprintf(m->name, sizeof m->name, "%s", r.fields[0]);
        found = 1;
    }
    tsv_close(&r);
    if (found) return BRAGG_OK;
    if (rc < 0) return BRAGG_ERR;
    char names[256];
    if (bio_model_names(names, sizeof names, e)) return BRAGG_ERR;
    return bragg_fail(e, "bio: %s is not a known model (valid: %s)", BRAGG_QUOTED(name), names);
}

int bio_alpha_beta_check(double alpha_beta_x, bragg_err *e)
{
    if (!(alpha_beta_x >= 0.5 && alpha_beta_x <= 50))
        return bragg_fail(e, "alpha/beta: %g Gy is out of range (valid: 0.5 to 50 Gy)",
                          alpha_beta_x);
    return BRAGG_OK;
}

int bio_model_check_ion(const bio_model *m, const char *ion_name, int Z, int A, bragg_err *e)
{
    /* Deuterons and tritons fall between the two families: the proton models were fitted to
     * protons, the MKM's parameters to carbon (below). Pointing them from one to the other
     * sent them round in a circle; the message says that none covers them. */
    if (Z == 1 && A != 1)
        return bragg_fail(e, "bio: no biological model covers %s (--ion %s): mcnamara, wedenberg "
                             "and rbe1.1 are for --ion p, mkm for He-3 and heavier",
                          A == 2 ? "deuterons" : A == 3 ? "tritons" : "charge-1 ions but protons",
                          ion_name);
    if (m->kind == BIO_LET && !(Z == 1 && A == 1))
        return bragg_fail(e, "bio: %s is a proton model (valid for --ion p; for %s: mkm)",
                          m->name, ion_name);
    /* The MKM's cell parameters (HSG: Inaniwa et al. 2010) were fitted to carbon beams: alpha0
     * + beta z1D* stays below the photons' alpha_x wherever z1D* < (alpha_x - alpha0) / beta =
     * 2.3 Gy, and p 150 MeV in water came out with an RBE of 0.78-0.81 over its plateau
     * (docs/physics.md, "Limits of the biology"; helium keeps the model and its limit). */
    if (m->kind == BIO_MKM && Z == 1)
        return bragg_fail(e, "bio: mkm is an ion model (valid for --ion He-3 and heavier; it "
                             "gives %s an RBE below 1; for protons: mcnamara, wedenberg, rbe1.1)",
                          ion_name);
    return BRAGG_OK;
}

int bio_model_load(bio_model *m, const char *name, const char *cell, double alpha_beta_x,
                   bragg_err *e)
{
    memset(m, 0, sizeof *m);
    char key[BIO_NAME_LEN * 2];
    name_key(name, key, sizeof key);
    if (strcmp(key, "mkm") == 0) {
        m->kind = BIO_MKM;
        snprintf(m->name, sizeof m->name, "mkm");
    } else {
        m->kind = BIO_LET;
        if (load_let_model(m, name, e)) return BRAGG_ERR;
    }
    if (load_cell(&m->cell, cell ? cell : "HSG", e)) return BRAGG_ERR;
    if (alpha_beta_x > 0) {
        if (bio_alpha_beta_check(alpha_beta_x, e)) return BRAGG_ERR;
        /* The tissue's photon alpha; the MKM keeps the photons' own z1D*, so alpha0 moves by
         * the same amount (see biology.h). */
        double alpha_x = alpha_beta_x * m->cell.beta_x;
        m->cell.alpha0 += alpha_x - m->cell.alpha_x;
        m->cell.alpha_x = alpha_x;
        if (m->kind == BIO_MKM && !(m->cell.alpha0 > 0))
            return bragg_fail(e, "alpha/beta: %g Gy leaves the MKM's alpha0 <= 0 for %s "
                                 "(valid: above %.2f Gy)", alpha_beta_x, m->cell.name,
                              (m->cell.alpha_x - m->cell.alpha0) / m->cell.beta_x);
    }
    return BRAGG_OK;
}

/* ---- linear-quadratic ------------------------------------------------------------------------ */

void bio_alpha_beta(const bio_model *m, double q, double *alpha, double *beta)
{
    const bio_cell *c = &m->cell;
    if (m->kind == BIO_MKM) {
        *alpha = c->alpha0 + c->beta0 * q;
        *beta = c->beta0;
        return;
    }
    double ab = c->alpha_x / c->beta_x;
    double rbe_max = m->p[0] + m->p[1] * q / ab;
    double rbe_min = m->p[2] + m->p[3] * sqrt(ab) * q;
    /* McNamara's p3 is negative: RBEmin reaches 0 at LET_d p2 / (-p3 sqrt((a/b)x)), 40.2 keV/um
     * for (a/b)x = 50 Gy (the largest accepted), 201 keV/um for 2 Gy, and beyond it RBEmin^2,
     * so beta, would grow again, a rise the model's form has no reason for. beta cannot be
     * negative, so it stays at 0 there. The paper's own LET range was not at hand to check;
     * the V79 proton experiments of PIDE, many of which McNamara et al. fitted, reach
     * 37.8 keV/um (tests/reference/v79_proton_lq_pide.tsv): past the crossing the model is
     * extrapolated either way. */
    if (rbe_min < 0) rbe_min = 0;
    *alpha = rbe_max * c->alpha_x;
    *beta = rbe_min * rbe_min * c->beta_x;
}

double bio_photon_dose(const bio_cell *c, double effect)
{
    double disc = c->alpha_x * c->alpha_x + 4.0 * c->beta_x * effect;
    /* Written as 2 effect / (alpha_x + sqrt(...)): no cancellation at small effects. */
    return effect > 0 ? 2.0 * effect / (c->alpha_x + sqrt(disc)) : 0.0;
}

void bio_evaluate(const bio_model *m, double q, double dose, bio_point *out)
{
    bio_alpha_beta(m, q, &out->alpha, &out->beta);
    double effect = out->alpha * dose + out->beta * dose * dose;
    out->survival = exp(-effect);
    out->rbe_dose = bio_photon_dose(&m->cell, effect);
    out->rbe = dose > 0 ? out->rbe_dose / dose : out->alpha / m->cell.alpha_x;
}

/* ---- the MKM's specific energy --------------------------------------------------------------- */

double mkm_z0(const bio_cell *c)
{
    double k = c->rn_um / c->rd_um;
    return k * k / sqrt(c->beta0 * (1.0 + k * k));
}

/* Dose of 1 keV/um spread over 1 um^2 of unit-density tissue: 1.602176634e-16 J / 1e-15 kg. */
#define GY_UM2_PER_KEV_UM (MEV_TO_JOULE * 1e-3 / 1e-15)

/* The Kiefer-Chatterjee amorphous track (Chatterjee & Schaefer, Radiat. Environ. Biophys. 13
 * (1976) 215; Kiefer & Straaten, Phys. Med. Biol. 31 (1986) 1201), as the MKM uses it (Kase et
 * al., Phys. Med. Biol. 53 (2008) 37, eqs. 10-14; Inaniwa et al. 2010, section 2.2):
 * D(r) = Dc for r < Rc, Kp / r^2 for Rc <= r < Rp, 0 beyond, with
 *   Rc = 0.0116 beta um, Rp = 0.0616 t^1.7 um (t in MeV/u), Kp = 1.25e-4 (Z* / beta)^2 Gy um^2,
 *   Z* = Z (1 - exp(-125 beta Z^-2/3)) (Barkas' effective charge),
 * and Dc such that the track holds the LET: pi Rc^2 Dc + 2 pi Kp ln(Rp / Rc) = LET. */
typedef struct kc_track {
    double rc, rp, kp, dc;
    double lambda;   /* integral of D over the plane, Gy um^2 */
} kc_track;

static void kc_track_init(kc_track *k, int Z, double t, double let)
{
    double gamma = 1.0 + t / ATOMIC_MASS_UNIT_MEV;
    double beta = sqrt(1.0 - 1.0 / (gamma * gamma));
    double zeff = Z * (1.0 - exp(-125.0 * beta * pow((double)Z, -2.0 / 3.0)));
    k->rc = 0.0116 * beta;
    k->rp = 0.0616 * pow(t, 1.7);
    if (k->rp < k->rc) k->rp = k->rc;
    k->kp = 1.25e-4 * (zeff / beta) * (zeff / beta);
    double lambda = let * GY_UM2_PER_KEV_UM;
    double penumbra = 2.0 * PI * k->kp * log(k->rp / k->rc);
    /* At high energies the 1/r^2 tail can hold more than the LET (the formula's constants are
     * fits); the core is then empty rather than negative. */
    k->dc = lambda > penumbra ? (lambda - penumbra) / (PI * k->rc * k->rc) : 0.0;
    k->lambda = PI * k->rc * k->rc * k->dc + penumbra;
}

/* Area of the intersection of discs of radii r1 and r2 with centres d apart. */
static double lens_area(double r1, double r2, double d)
{
    if (d >= r1 + r2) return 0.0;
    double rmin = r1 < r2 ? r1 : r2;
    if (d <= fabs(r1 - r2)) return PI * rmin * rmin;
    double c1 = (d * d + r1 * r1 - r2 * r2) / (2.0 * d * r1);
    double c2 = (d * d + r2 * r2 - r1 * r1) / (2.0 * d * r2);
    c1 = c1 > 1 ? 1 : c1 < -1 ? -1 : c1;
    c2 = c2 > 1 ? 1 : c2 < -1 ? -1 : c2;
    double k = (-d + r1 + r2) * (d + r1 - r2) * (d - r1 + r2) * (d + r1 + r2);
    return r1 * r1 * acos(c1) + r2 * r2 * acos(c2) - 0.5 * sqrt(k > 0 ? k : 0);
}

/* 16-point Gauss-Legendre on [-1, 1] (Abramowitz & Stegun table 25.4), half of the symmetric
 * nodes. */
static const double gl16_x[8] = {0.0950125098376374, 0.2816035507792589, 0.4580167776572274,
                                  0.6178762444026438, 0.7554044083550030, 0.8656312023878318,
                                  0.9445750230732326, 0.9894009349916499};
static const double gl16_w[8] = {0.1894506104550685, 0.1826034150449236, 0.1691565193950025,
                                  0.1495959888165767, 0.1246289712555339, 0.0951585116824928,
                                  0.0622535239386479, 0.0271524594117541};

/* Angle (radians) of the circle of radius r around the track that lies inside the domain of
 * radius rd whose centre is b away. */
static double arc_inside(double r, double b, double rd)
{
    if (r + b <= rd) return 2.0 * PI;
    if (r >= b + rd || r <= b - rd) return 0.0;
    double c = (r * r + b * b - rd * rd) / (2.0 * r * b);
    c = c > 1 ? 1 : c < -1 ? -1 : c;
    return 2.0 * acos(c);
}

/* Mean dose in a domain of radius rd whose centre is b from the track: z(b), Gy. */
static double domain_dose(const kc_track *k, double b, double rd)
{
    double sum = k->dc * lens_area(k->rc, rd, b);
    /* Penumbra circles wholly inside the domain (r < rd - b): the full angle, analytic. */
    double full_hi = rd - b < k->rp ? rd - b : k->rp;
    if (full_hi > k->rc) sum += 2.0 * PI * k->kp * log(full_hi / k->rc);
    /* Circles that cross the domain's edge: r from |b - rd| to b + rd. The angle has square-root
     * ends there; r = lo + (hi - lo)(1 - cos s)/2 clusters the nodes at both ends and smooths
     * them away. */
    double lo = fabs(b - rd), hi = b + rd;
    if (lo < k->rc) lo = k->rc;
    if (hi > k->rp) hi = k->rp;
    if (hi > lo) {
        double part = 0.0, half = 0.5 * (hi - lo);
        for (int i = 0; i < 8; i++)
            for (int sgn = -1; sgn <= 1; sgn += 2) {
                double s = 0.5 * PI * (1.0 + sgn * gl16_x[i]);
                double r = lo + half * (1.0 - cos(s));
                part += gl16_w[i] * arc_inside(r, b, rd) / r * half * sin(s);
            }
        sum += k->kp * part * 0.5 * PI;   /* ds = pi/2 dx */
    }
    return sum / (PI * rd * rd);
}

/* Integral of f(b) = z'(b)^2 b over [a, c] by 16-point Gauss-Legendre. */
static double saturated_piece(const kc_track *k, double rd, double z0, double a, double c)
{
    double mid = 0.5 * (a + c), half = 0.5 * (c - a), sum = 0.0;
    for (int i = 0; i < 8; i++)
        for (int sgn = -1; sgn <= 1; sgn += 2) {
            double b = mid + sgn * half * gl16_x[i];
            double z = domain_dose(k, b, rd), x = z / z0;
            /* z0^2 (1 - exp(-x^2)), without cancellation for small x. */
            double zs2 = z0 * z0 * (x < 1e-4 ? x * x * (1.0 - 0.5 * x * x) : -expm1(-x * x));
            sum += gl16_w[i] * zs2 * b;
        }
    return sum * half;
}

double mkm_z1d_star(const bio_cell *c, int Z, double t, double let)
{
    if (!(let > 0) || !(t > 0) || Z < 1) return 0.0;
    kc_track k;
    kc_track_init(&k, Z, t, let);
    double rd = c->rd_um, z0 = mkm_z0(c);
    /* z(b) has kinks where a radius of the track meets the domain's edge: integrate between
     * them, and in pieces no wider than a factor 2 in b beyond, where z falls as Kp / b^2 over
     * what may be millimetres. */
    double cut[8] = {0.0, rd - k.rp, rd - k.rc, rd, rd + k.rc, rd + k.rp}, end = rd + k.rp;
    int n = 0;
    double pts[8];
    for (int i = 0; i < 6; i++)
        if (cut[i] >= 0.0 && cut[i] <= end) pts[n++] = cut[i];
    for (int i = 1; i < n; i++)   /* insertion sort of a handful */
        for (int j = i; j > 0 && pts[j] < pts[j - 1]; j--) {
            double s = pts[j];
            pts[j] = pts[j - 1];
            pts[j - 1] = s;
        }
    double num = 0.0;
    for (int i = 0; i + 1 < n; i++) {
        double a = pts[i], b = pts[i + 1];
        if (!(b > a)) continue;
        while (a > 0 && b > 2.0 * a) {
            num += saturated_piece(&k, rd, z0, a, 2.0 * a);
            a *= 2.0;
        }
        num += saturated_piece(&k, rd, z0, a, b);
    }
    /* The denominator, integral z(b) b db, is exactly the track's integral over the plane over
     * 2 pi (every domain position sees the whole track once). */
    return num / (k.lambda / (2.0 * PI));
}
