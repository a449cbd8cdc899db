/* The yardstick of issue 14 ("CPU throughput"), kept verbatim below so that its figures stay
 * comparable with those already recorded in docs/benchmarks.md: not part of bragg, built apart
 * by `make bench` (gcc -O2 -fopenmp floor.c -lm) and run by `bragg bench --floor`. */
/* floor.c - a minimal condensed-history transport kernel used as this machine's yardstick.
 * C-12 (or any z, A) in water: range-table energy loss, Bohr straggling, Highland MCS with
 * lateral displacement, 1D depth scoring split across 0.1 mm bins, Philox4x32-10 per history.
 * Physics is deliberately simple (plain Bethe, no corrections, no nuclear): it prices a step,
 * it is not a reference for accuracy. Usage: floor [histories] [threads] [z] [A] [MeV/u] */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <omp.h>

#define NE 2048
static double lnE0, dlnE;             /* log-energy grid for R(E) */
static double R_of_lnE[NE];           /* g/cm2 */
static double lnR0, dlnR;             /* log-range grid for E(R) */
static double lnE_of_lnR[NE];
static const double MP = 931.494, ME = 0.510999, K = 0.307075, ZA = 0.5551, IW = 75e-6, X0 = 36.08;

static double bethe(double T, double z, double A) { /* MeV cm2/g, T per nucleon */
  double g = 1 + T / MP, b2 = 1 - 1 / (g * g), M = A * MP;
  double tmax = 2 * ME * b2 * g * g / (1 + 2 * g * ME / M + (ME / M) * (ME / M));
  double L = 0.5 * log(2 * ME * b2 * g * g * tmax / (IW * IW)) - b2;
  if (L < 0.05) L = 0.05;
  return K * z * z * ZA / b2 * L;
}
static void tables(double z, double A) {
  lnE0 = log(0.05); dlnE = (log(2000.0) - lnE0) / (NE - 1);
  double R = 0.05 * A / bethe(0.05, z, A) / 2; /* rough start */
  R_of_lnE[0] = R;
  for (int i = 1; i < NE; i++) {
    double e0 = exp(lnE0 + (i - 1) * dlnE), e1 = exp(lnE0 + i * dlnE);
    R += 0.5 * (e1 - e0) * A * (1 / bethe(e0, z, A) + 1 / bethe(e1, z, A));
    R_of_lnE[i] = R;
  }
  lnR0 = log(R_of_lnE[0]); dlnR = (log(R_of_lnE[NE - 1]) - lnR0) / (NE - 1);
  int j = 0;
  for (int i = 0; i < NE; i++) {
    double lr = lnR0 + i * dlnR;
    while (j < NE - 2 && log(R_of_lnE[j + 1]) < lr) j++;
    double a = log(R_of_lnE[j]), b = log(R_of_lnE[j + 1]);
    lnE_of_lnR[i] = lnE0 + (j + (lr - a) / (b - a)) * dlnE;
  }
}
static inline double lookup(const double *t, double x0, double dx, double x) {
  double u = (x - x0) / dx; if (u < 0) u = 0; if (u > NE - 1.001) u = NE - 1.001;
  int i = (int)u; double f = u - i; return t[i] + f * (t[i + 1] - t[i]);
}
static inline double R_of_E(double E) { return lookup(R_of_lnE, lnE0, dlnE, log(E)); }
static inline double E_of_R(double R) { return R <= 0 ? 0 : exp(lookup(lnE_of_lnR, lnR0, dlnR, log(R))); }

/* Philox4x32-10 (Salmon et al. 2011) */
typedef struct { uint32_t c[4], k[2], out[4]; int n; } rng_t;
static inline void philox(rng_t *r) {
  uint32_t c0 = r->c[0], c1 = r->c[1], c2 = r->c[2], c3 = r->c[3], k0 = r->k[0], k1 = r->k[1];
  for (int i = 0; i < 10; i++) {
    uint64_t p0 = (uint64_t)0xD2511F53u * c0, p1 = (uint64_t)0xCD9E8D57u * c2;
    uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0, n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
    c1 = (uint32_t)p1; c3 = (uint32_t)p0; c0 = n0; c2 = n2;
    k0 += 0x9E3779B9u; k1 += 0xBB67AE85u;
  }
  r->out[0] = c0; r->out[1] = c1; r->out[2] = c2; r->out[3] = c3; r->n = 0; r->c[0]++;
}
static inline double uni(rng_t *r) { if (r->n == 4) philox(r); return (r->out[r->n++] + 0.5) * 2.3283064365386963e-10; }
static inline void gauss2(rng_t *r, double *a, double *b) {
  double u = uni(r), v = uni(r), m = sqrt(-2 * log(u)); *a = m * cos(6.283185307179586 * v); *b = m * sin(6.283185307179586 * v);
}

int main(int argc, char **argv) {
  long N = argc > 1 ? atol(argv[1]) : 20000; int th = argc > 2 ? atoi(argv[2]) : 1;
  double z = argc > 3 ? atof(argv[3]) : 6, A = argc > 4 ? atof(argv[4]) : 12, E0 = argc > 5 ? atof(argv[5]) : 400;
  tables(z, A);
  const double bin = 0.01; const int NB = (int)(R_of_E(E0) * 1.2 / bin) + 2;
  double *dose = calloc(NB, sizeof *dose); long steps = 0;
  double t0 = omp_get_wtime();
#pragma omp parallel num_threads(th) reduction(+ : steps)
  {
    double *d = calloc(NB, sizeof *d);
#pragma omp for schedule(dynamic, 256)
    for (long h = 0; h < N; h++) {
      rng_t r = {{0, (uint32_t)h, (uint32_t)(h >> 32), 0}, {12345u, 0}, {0}, 4};
      double E = E0, R = R_of_E(E), x = 0, y = 0, zz = 0, ux = 0, uy = 0, uz = 1;
      while (E > 0.05 && zz >= 0 && zz < NB * bin) {
        double s = 0.02 * R; if (s < 1e-3) s = R < 1e-3 ? R : 1e-3; if (s > 1.0) s = 1.0;
        double g = 1 + E / MP, b2 = 1 - 1 / (g * g), pc = A * MP * sqrt(g * g - 1);
        double E1 = E_of_R(R - s);
        double var = 0.1569 * z * z * ZA * s * (1 - b2 / 2) / (1 - b2) / (A * A);
        double g1, g2, g3, g4; gauss2(&r, &g1, &g2); gauss2(&r, &g3, &g4);
        E1 += sqrt(var) * g1; if (E1 < 0) E1 = 0;
        double dE = (E - E1) * A;
        double th0 = 13.6 / (b2 * pc / sqrt(b2)) * z * sqrt(s / X0) * (1 + 0.038 * log(s * z * z / (X0 * b2)));
        double tx = th0 * g2, ty = th0 * g3;
        x += s * (ux + tx * (0.5 + g4 * 0.2887)); y += s * (uy + ty * 0.5);
        double z1 = zz + s * uz;
        /* split the deposit over the bins crossed */
        double a = zz < z1 ? zz : z1, b = zz < z1 ? z1 : zz; int ia = (int)(a / bin), ib = (int)(b / bin);
        if (ib >= NB) ib = NB - 1;
        if (ia == ib || b - a <= 0) { if (ia >= 0 && ia < NB) d[ia] += dE; }
        else for (int i = ia; i <= ib; i++) { double lo = i * bin > a ? i * bin : a, hi = (i + 1) * bin < b ? (i + 1) * bin : b; if (i >= 0) d[i] += dE * (hi - lo) / (b - a); }
        zz = z1; ux += tx; uy += ty; double n = 1 / sqrt(ux * ux + uy * uy + 1); ux *= n; uy *= n; uz = n;
        E = E1; R = E > 0.05 ? R_of_E(E) : 0; steps++;
      }
    }
#pragma omp critical
    for (int i = 0; i < NB; i++) dose[i] += d[i];
    free(d);
  }
  double t = omp_get_wtime() - t0; int ip = 0;
  for (int i = 0; i < NB; i++) if (dose[i] > dose[ip]) ip = i;
  printf("floor: %ld histories, %d threads: %.0f histories/s, %.1f steps/history, %.1f ns/step, peak %.2f cm, CSDA %.2f cm\n",
         N, th, N / t, (double)steps / N, t / steps * 1e9 * th, (ip + 0.5) * bin, R_of_E(E0));
  free(dose);
  return 0;
}
