/* glauber.c - see glauber.h. */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700   /* j0(), the Bessel function of order 0 (POSIX XSI) */
#endif
#include "glauber.h"

#include <math.h>
#include <pthread.h>

#include "constants.h"
#include "fragmentation.h"   /* nuclear_fermi_momentum, NUCLEON_MASS_MEV */
#include "nuclear.h"

#define COULOMB_MEV_FM 1.43996     /* e^2 / (4 pi eps0) = alpha hbar c */

/* The proton's own r.m.s. charge radius, fm (CODATA 2018: 0.8414), taken out of the nuclear
 * charge radius in quadrature to leave the point-nucleon radius the collisions see. The neutrons'
 * small contribution to the charge radius (N/Z times -0.116 fm^2) is left out. */
#define PROTON_RMS_FM 0.8414

/* Surface diffuseness of the symmetrised Fermi densities, fm: electron scattering finds about the
 * same surface thickness in all medium and heavy nuclei, some 2.4 fm from 90% to 10% of the
 * central density, t = 4.39 a (compiled by De Vries, De Jager and De Vries, At. Data Nucl. Data
 * Tables 36 (1987) 495). Used for A > 20; with the r.m.s. radius fixed, a = 0.50 or 0.60 fm
 * moves C-12 + Al-27 by -1.1% or +1.2% from 150 MeV/u up (-2.5% or +2.7% at 40 MeV/u). */
#define FERMI_DIFFUSENESS_FM 0.55

/* Momentum transfer and impact-parameter grids of the overlap (fm^-1, fm). Q_MAX 6 and 12 give
 * the same cross-sections to 0.1 mb (the form factors' product has vanished); 640 Simpson steps
 * are within 0.03% of 2 560 (320 were 0.1% off: J0(q b) oscillates fast at large b, and the
 * sum's error there, small per ring, adds up over the wide outer rings). Impact parameters to
 * 20 fm cover Pb + Pb's edge. */
#define Q_MAX 8.0
#define Q_STEPS 640 /* even: Simpson */
#define B_STEP 0.1
#define B_POINTS 201

typedef struct {
    int shape;        /* 0 Gaussian, 1 harmonic oscillator, 2 symmetrised Fermi */
    double a, alpha;  /* Gaussian width or oscillator length (fm), p-shell weight */
    double c, d;      /* Fermi half-density radius and diffuseness, fm */
} density;

/* Shape of a nucleus's point-nucleon density, fixed by its r.m.s. radius. The s-shell nuclei
 * (A <= 4) are Gaussians; the p shell (A = 5..20) the harmonic-oscillator form
 * (1 + alpha r^2 / a^2) exp(-r^2 / a^2) with alpha = (A - 4) / 6, the share of nucleons in p
 * orbits over 3/2 of those in s orbits (2 for O-16, held there into the sd shell); heavier ones
 * a symmetrised Fermi distribution. */
static density density_of(int A)
{
    double rc = nuclear_rms_radius(A);
    double r2 = rc * rc - PROTON_RMS_FM * PROTON_RMS_FM;
    density d = {0};
    if (A <= 4) {
        d.shape = 0;
        d.a = sqrt(r2 / 1.5);   /* <r^2> = 3 a^2 / 2 */
    } else if (A <= 20) {
        d.shape = 1;
        d.alpha = fmin((A - 4) / 6.0, 2.0);
        /* <r^2> = a^2 (3/2 + 15 alpha / 4) / (1 + 3 alpha / 2) */
        d.a = sqrt(r2 * (1.0 + 1.5 * d.alpha) / (1.5 + 3.75 * d.alpha));
    } else {
        d.shape = 2;
        d.d = FERMI_DIFFUSENESS_FM;
        /* <r^2> = 3 c^2 / 5 + 7 pi^2 d^2 / 5 */
        d.c = sqrt(5.0 / 3.0 * (r2 - 1.4 * PI * PI * d.d * d.d));
    }
    return d;
}

/* Form factor (3-D Fourier transform of the density, 1 at q = 0) at q fm^-1. */
static double form_factor(const density *d, double q)
{
    if (d->shape == 0) return exp(-0.25 * q * q * d->a * d->a);
    if (d->shape == 1) {
        double qa2 = q * q * d->a * d->a;
        return (1.0 - d->alpha * qa2 / (2.0 * (2.0 + 3.0 * d->alpha))) * exp(-0.25 * qa2);
    }
    /* Symmetrised Fermi (Sprung and Martorell, J. Phys. A 30 (1997) 6525). */
    if (q < 1e-6) return 1.0;
    double qc = q * d->c, x = PI * q * d->d;
    return 3.0 / (qc * (qc * qc + x * x)) * (x / sinh(x)) *
           (x / tanh(x) * sin(qc) - qc * cos(qc));
}

/* J0(q_j b_i) on the two grids, the same for every pair: filled once per process (1 MB; 128 000
 * Bessel functions, about 5 ms, where each pair then costs a matrix-vector product). */
static double j0_grid[B_POINTS][Q_STEPS + 1];
static pthread_once_t j0_grid_once = PTHREAD_ONCE_INIT;

static void j0_grid_fill(void)
{
    double h = Q_MAX / Q_STEPS;
    for (int i = 0; i < B_POINTS; i++)
        for (int j = 0; j <= Q_STEPS; j++) j0_grid[i][j] = j0(j * h * (i * B_STEP));
}

/* Overlap of the two thickness functions at impact parameter b, normalised to 1 over the plane:
 * O(b) = 1/(2 pi) int q J0(q b) F_p(q) F_t(q) dq (fm^-2), on the grid b = i B_STEP. */
static void overlap(int Ap, int At, double O[B_POINTS])
{
    pthread_once(&j0_grid_once, j0_grid_fill);
    density dp = density_of(Ap), dt = density_of(At);
    double h = Q_MAX / Q_STEPS, qf[Q_STEPS + 1];
    for (int j = 0; j <= Q_STEPS; j++) {
        double q = j * h, w = (j == 0 || j == Q_STEPS) ? 1.0 : (j & 1) ? 4.0 : 2.0;
        qf[j] = w * h / 3.0 * q * form_factor(&dp, q) * form_factor(&dt, q);
    }
    for (int i = 0; i < B_POINTS; i++) {
        double s = 0.0;
        for (int j = 1; j <= Q_STEPS; j++) s += qf[j] * j0_grid[i][j];
        O[i] = s / (2.0 * PI);
    }
}

void glauber_nn_xs_mb(double T, double *sigma_pp, double *sigma_np)
{
    T = fmin(fmax(T, 10.0), 1000.0);
    double g = 1.0 + T / NUCLEON_MASS_MEV, b = sqrt(1.0 - 1.0 / (g * g));
    *sigma_pp = 13.73 - 15.04 / b + 8.76 / (b * b) + 68.67 * b * b * b * b;
    *sigma_np = -70.67 - 18.18 / b + 25.26 / (b * b) + 113.85 * b;
}

/* Volume shared by two spheres of radii r1 and r2 whose centres are d apart. */
static double sphere_overlap(double d, double r1, double r2)
{
    double rmin = fmin(r1, r2);
    if (d <= fabs(r1 - r2)) return 4.0 / 3.0 * PI * rmin * rmin * rmin;
    if (d >= r1 + r2) return 0.0;
    double s = r1 + r2 - d;
    return PI * s * s * (d * d + 2.0 * d * (r1 + r2) - 3.0 * (r1 - r2) * (r1 - r2)) / (12.0 * d);
}

/* Each nucleon's momentum is uniform in its nucleus's Fermi sphere, so the relative momentum k
 * of a projectile nucleon and a target nucleon has the density of the two spheres' overlap at
 * distance k, added to the beam's momentum per nucleon P as a Galilean sum (an approximation:
 * the boost to the laboratory would stretch k's component along the beam by gamma, 1.1 at
 * 100 MeV/u and 1.4 at 400). Midpoint rule, 32 x 16 cells in |k|
 * and the angle to the beam: 64 x 32 cells move C + C by up to 0.3% at 60-140 MeV/u and under
 * 0.05% from 150 MeV/u up, where the optical limit is used alone. */
void glauber_nn_fermi_xs_mb(double E, double kf_proj, double kf_target, double *sigma_pp,
                            double *sigma_np)
{
    enum { NK = 32, NC = 16 };
    const double m = NUCLEON_MASS_MEV;
    double P = sqrt(E * E + 2.0 * m * E), kmax = kf_proj + kf_target;
    double wsum = 0.0, pp = 0.0, np = 0.0;
    for (int i = 0; i < NK; i++) {
        double k = (i + 0.5) * kmax / NK;
        double w = k * k * sphere_overlap(k, kf_proj, kf_target);
        for (int j = 0; j < NC; j++) {
            double c = -1.0 + (j + 0.5) * 2.0 / NC;
            double p = sqrt(P * P + k * k + 2.0 * P * k * c);
            double spp, snp;
            glauber_nn_xs_mb(sqrt(p * p + m * m) - m, &spp, &snp);
            pp += w * spp;
            np += w * snp;
            wsum += w;
        }
    }
    *sigma_pp = pp / wsum;
    *sigma_np = np / wsum;
}

/* sigma_R = 2 pi int b db (1 - exp(-chi(b'))), chi = (sum of NN cross-sections of all nucleon
 * pairs) x O(b'). The Coulomb repulsion bends the path: it passes at b' = a + sqrt(a^2 + b^2),
 * a = Zp Zt e^2 / (2 E_cm) (half the head-on distance of closest approach). */
static double reaction_xs(const double O[B_POINTS], int Zp, int Ap, int Zt, int At, double E)
{
    int Np = Ap - Zp, Nt = At - Zt;
    double spp, snp;
    glauber_nn_fermi_xs_mb(E, nuclear_fermi_momentum(Ap), nuclear_fermi_momentum(At), &spp,
                           &snp);
    double X = 0.1 * (spp * ((double)Zp * Zt + (double)Np * Nt) +
                      snp * ((double)Zp * Nt + (double)Np * Zt));   /* mb -> fm^2 */
    double ecm = E * Ap * At / (double)(Ap + At);
    double a = COULOMB_MEV_FM * Zp * Zt / (2.0 * ecm);
    double sum = 0.0;
    for (int i = 1; i < B_POINTS; i++) {
        double b = i * B_STEP, bc = a + sqrt(a * a + b * b), x = bc / B_STEP;
        int k = (int)x;
        if (k >= B_POINTS - 1) break;
        double o = O[k] + (x - k) * (O[k + 1] - O[k]);
        /* Beyond 1e-7 of the central overlap, chi < 1e-5: the edge adds nothing real there,
         * while the Hankel sum's rounding would add up over the wide rings. */
        if (o < 1e-7 * O[0]) break;
        sum += b * -expm1(-X * o);
    }
    return 2.0 * PI * B_STEP * sum * 10.0;   /* fm^2 -> mb; the b = 0 term is 0 */
}

void glauber_pair_init(glauber_pair *g, int Zp, int Ap, int Zt, int At)
{
    double O[B_POINTS];
    overlap(Ap, At, O);
    for (int i = 0; i < GLAUBER_NODES; i++) {
        double E = GLAUBER_E_MIN * exp2((double)i / GLAUBER_PER_OCTAVE);
        g->sigma_mb[i] = reaction_xs(O, Zp, Ap, Zt, At, E);
    }
}

double glauber_pair_xs_mb(const glauber_pair *g, double E)
{
    E = fmin(fmax(E, GLAUBER_E_MIN), GLAUBER_E_MAX);
    double x = log2(E / GLAUBER_E_MIN) * GLAUBER_PER_OCTAVE;
    int i = (int)x;
    if (i >= GLAUBER_NODES - 1) return g->sigma_mb[GLAUBER_NODES - 1];
    return g->sigma_mb[i] + (x - i) * (g->sigma_mb[i + 1] - g->sigma_mb[i]);
}

double glauber_reaction_xs_mb(int Zp, int Ap, int Zt, int At, double E)
{
    double O[B_POINTS];
    overlap(Ap, At, O);
    return reaction_xs(O, Zp, Ap, Zt, At, E);
}
