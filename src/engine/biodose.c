/* biodose.c - see biodose.h. */
#include "biodose.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The LET models of a proton beam read the protons' LET_d, not that of all particles: they
 * were built on it (TOPAS's McNamara and Wedenberg scorers read its ProtonLET, which counts
 * protons only), and the alphas of the protons' reactions, about 0.7% of the plateau's dose at
 * some 100 keV/um, would raise the plateau's LET_d from 1.0 to 1.9 keV/um (p 150 MeV in water,
 * docs/physics.md). */
static int reads_proton_let(const bio_model *m, int primary_proton)
{
    return m->kind != BIO_MKM && primary_proton;
}

const char *bio_quality_name(const bio_model *m, int primary_proton)
{
    return m->kind == BIO_MKM                       ? "z1d_Gy"
           : reads_proton_let(m, primary_proton) ? "let_d_proton_keV_um"
                                                    : "let_d_keV_um";
}

int bio_curves_compute(const bio_model *m, double dose, const score_result *r, bio_curves *out,
                       bragg_err *e)
{
    memset(out, 0, sizeof *out);
    int n = r->nbins;
    double *block = malloc((size_t)n * 10 * sizeof *block);
    if (!block) return bragg_fail(e, "out of memory for the biological curves");
    double **arrays[10] = {&out->quality, &out->quality_err, &out->alpha, &out->beta,
                           &out->survival, &out->survival_err, &out->rbe, &out->rbe_err,
                           &out->rbe_dose, &out->rbe_dose_err};
    for (int k = 0; k < 10; k++) *arrays[k] = block + (size_t)k * n;
    out->nbins = n;
    out->dose = dose;
    int proton_let = reads_proton_let(m, r->primary_proton);
    out->quality_name = bio_quality_name(m, r->primary_proton);
    const double *q = m->kind == BIO_MKM ? r->z1d : proton_let ? r->let_d_proton : r->let_d;
    const double *qe = m->kind == BIO_MKM ? r->z1d_err
                       : proton_let       ? r->let_d_proton_err
                                          : r->let_d_err;
    for (int i = 0; i < n; i++) {
        out->quality[i] = q[i];
        out->quality_err[i] = qe[i];
        if (!isfinite(q[i])) {
            for (int k = 2; k < 10; k++) (*arrays[k])[i] = NAN;
            continue;
        }
        bio_point p, lo, hi;
        bio_evaluate(m, q[i], dose, &p);
        out->alpha[i] = p.alpha;
        out->beta[i] = p.beta;
        out->survival[i] = p.survival;
        out->rbe[i] = p.rbe;
        out->rbe_dose[i] = p.rbe_dose;
        double s = isfinite(qe[i]) ? qe[i] : NAN;
        bio_evaluate(m, q[i] - s, dose, &lo);
        bio_evaluate(m, q[i] + s, dose, &hi);
        out->survival_err[i] = 0.5 * fabs(hi.survival - lo.survival);
        out->rbe_err[i] = 0.5 * fabs(hi.rbe - lo.rbe);
        out->rbe_dose_err[i] = 0.5 * fabs(hi.rbe_dose - lo.rbe_dose);
    }
    return BRAGG_OK;
}

void bio_curves_free(bio_curves *c)
{
    free(c->quality);
    memset(c, 0, sizeof *c);
}
