/*
 * biology.h - radiobiological models: cell survival, RBE and RBE-weighted dose of a (mixed) ion
 * field from what the transport scores per depth bin.
 *
 * Every model reduces a bin's radiation quality q to the linear-quadratic coefficients
 * alpha(q), beta(q) of a cell line or tissue, S = exp(-alpha D - beta D^2); the RBE at physical
 * dose D is D_x / D, where the reference photons give the same survival,
 * alpha_x D_x + beta_x D_x^2 = alpha D + beta D^2.
 *
 *   - BIO_LET (protons): alpha = RBEmax(L) alpha_x, beta = RBEmin(L)^2 beta_x with
 *     RBEmax = p0 + p1 L / (alpha/beta)_x, RBEmin = p2 + p3 sqrt((alpha/beta)_x) L, and q = L the
 *     dose-averaged LET (keV/um). McNamara et al., Phys. Med. Biol. 60 (2015) 8399 and
 *     Wedenberg et al., Acta Oncol. 52 (2013) 580 are two rows of assets/rbe_models.tsv; the
 *     constant RBE 1.1 is a third (p1 = p3 = 0).
 *   - BIO_MKM (ions): the modified microdosimetric kinetic model (Kase et al., Radiat. Res. 166
 *     (2006) 629; Inaniwa et al., Phys. Med. Biol. 55 (2010) 6721): alpha = alpha0 + beta0 q,
 *     beta = beta0, q the dose-weighted mean over the field of the saturation-corrected
 *     dose-mean specific energy z1D* of one event in a domain (mkm_z1d_star). Because q is a
 *     dose-weighted mean, it adds over particles and beams like the LET_d: the field's q is the
 *     sum of edep z1D* over the sum of edep, whatever the mix.
 *
 * The cell line (assets/cell_lines.tsv) gives the reference photons' alpha_x, beta_x and the
 * MKM parameters; the user may choose the tissue's (alpha/beta)_x, which sets
 * alpha_x = (alpha/beta)_x beta_x and moves alpha0 by the same amount (the photons' own z1D*,
 * (alpha_x - alpha0) / beta0, is kept).
 *
 * Pure functions on caller-owned values; bio_model_load reads assets. Any thread.
 */
#ifndef BRAGG_BIOLOGY_H
#define BRAGG_BIOLOGY_H

#include <stddef.h>

#include "err.h"

#define BIO_NAME_LEN 32

typedef enum bio_kind {
    BIO_NONE,
    BIO_LET,   /* LET-based RBEmax/RBEmin family (proton models, constant RBE) */
    BIO_MKM    /* modified microdosimetric kinetic model */
} bio_kind;

/* A cell line: one row of assets/cell_lines.tsv. */
typedef struct bio_cell {
    char name[BIO_NAME_LEN];
    double alpha_x, beta_x;     /* reference photons, Gy^-1, Gy^-2 */
    double alpha0, beta0;       /* MKM: alpha at z = 0, beta (LET-independent), Gy^-1, Gy^-2 */
    double rd_um, rn_um;        /* MKM: domain and nucleus radius, um */
} bio_cell;

typedef struct bio_model {
    bio_kind kind;
    char name[BIO_NAME_LEN];    /* as in assets/rbe_models.tsv, or "mkm" */
    double p[4];                /* BIO_LET: p0..p3 */
    bio_cell cell;              /* alpha_x etc. after the (alpha/beta)_x choice */
} bio_model;

/* Names the models accepted by bio_model_load (for help and messages): "mkm, mcnamara, ...". */
int bio_model_names(char *out, size_t len, bragg_err *e);

/* Loads model `name` (mkm or a row of rbe_models.tsv) with cell line `cell` (NULL: HSG) and
 * the tissue's (alpha/beta)_x in Gy (<= 0: the cell line's own). Errors name the field and the
 * valid values. */
int bio_model_load(bio_model *m, const char *name, const char *cell, double alpha_beta_x,
                   bragg_err *e);

/* The tissue's (alpha/beta)_x, when one is given: 0.5 to 50 Gy. BRAGG_ERR with the message
 * naming the range otherwise (bio_model_load checks it; callers that read one check it alone
 * to refuse 0 or a negative value, which bio_model_load takes as "the cell line's own"). */
int bio_alpha_beta_check(double alpha_beta_x, bragg_err *e);

/* Whether model m may weigh a beam of ion `ion_name` (charge Z, mass number A). The LET-based
 * models are fits to proton cell survival and read the protons' LET_d: on a helium or carbon
 * beam they would weigh the ions' dose by their protons' quality, so they take protons only;
 * the MKM takes every ion from He-3 up; no model takes deuterons or tritons. BRAGG_ERR with the
 * message saying what is valid otherwise. */
int bio_model_check_ion(const bio_model *m, const char *ion_name, int Z, int A, bragg_err *e);

/* The linear-quadratic coefficients for quality q (BIO_LET: LET_d in keV/um; BIO_MKM: the
 * dose-weighted z1D* in Gy). */
void bio_alpha_beta(const bio_model *m, double q, double *alpha, double *beta);

/* What a bin of quality q gives at physical dose D (Gy). */
typedef struct bio_point {
    double alpha, beta;      /* Gy^-1, Gy^-2 */
    double survival;         /* exp(-alpha D - beta D^2) */
    double rbe;              /* D_x / D (the low-dose limit alpha / alpha_x at D = 0) */
    double rbe_dose;         /* D_x, Gy (RBE) */
} bio_point;

void bio_evaluate(const bio_model *m, double q, double dose, bio_point *out);

/* Photon dose with the survival exp(-effect): (sqrt(alpha_x^2 + 4 beta_x effect) - alpha_x) /
 * (2 beta_x). */
double bio_photon_dose(const bio_cell *c, double effect);

/* ---- the MKM's specific energy ----------------------------------------------------------- */

/* Saturation parameter z0 = (Rn/rd)^2 / sqrt(beta0 (1 + (Rn/rd)^2)), Gy (Inaniwa 2010 eq. 8). */
double mkm_z0(const bio_cell *c);

/* Saturation-corrected dose-mean specific energy z1D* (Gy) of one ion of charge Z at t MeV/u
 * with unrestricted LET `let` (keV/um, in unit-density tissue): the Kiefer-Chatterjee
 * amorphous track (core + 1/r^2 penumbra) averaged over a domain of radius rd at every impact
 * parameter b, z'(b)^2 = z0^2 (1 - exp(-(z(b)/z0)^2)), and
 * z1D* = integral z'(b)^2 b db / integral z(b) b db. 0 for let <= 0. */
double mkm_z1d_star(const bio_cell *c, int Z, double t, double let);

#endif
