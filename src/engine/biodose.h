/*
 * biodose.h - a run's biological curves: per depth bin, the radiation quality a model reads
 * (the MKM's dose-weighted z1D*, or the dose-averaged LET) and what it gives at a physical dose
 * D: alpha, beta, survival, RBE and RBE-weighted dose, each with its standard error.
 *
 * The errors come from the quality's batch-to-batch error (score.h) carried through the model
 * (half the spread between q - sigma and q + sigma); the physical dose itself is the chosen D,
 * exact. A bio_curves owns its arrays (bio_curves_free); any thread, one at a time.
 */
#ifndef BRAGG_BIODOSE_H
#define BRAGG_BIODOSE_H

#include "biology.h"
#include "err.h"
#include "score.h"

typedef struct bio_curves {
    int nbins;                        /* 0: no biology */
    double dose;                      /* physical dose per bin, Gy */
    double *quality, *quality_err;    /* z1D* (Gy, BIO_MKM) or LET_d (keV/um, BIO_LET) */
    const char *quality_name;         /* bio_quality_name: which curve the quality is */
    double *alpha, *beta;             /* Gy^-1, Gy^-2 */
    double *survival, *survival_err;
    double *rbe, *rbe_err;
    double *rbe_dose, *rbe_dose_err;  /* Gy (RBE) */
} bio_curves;

/* Fills `out` from a run's result for model m at physical dose `dose` (Gy). Bins without dose
 * get NaN. */
int bio_curves_compute(const bio_model *m, double dose, const score_result *r, bio_curves *out,
                       bragg_err *e);
void bio_curves_free(bio_curves *c);

/* Name of the curve a model reads, for reports: "z1d_Gy" (MKM), "let_d_proton_keV_um" (a LET
 * model on a proton beam: the protons' LET_d) or "let_d_keV_um". */
const char *bio_quality_name(const bio_model *m, int primary_proton);

#endif
