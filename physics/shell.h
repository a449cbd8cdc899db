/*
 * shell.h - shell corrections of the Bethe formula from the K- and L-shell theory of Walske
 * (Phys. Rev. 88 (1952) 1283; 101 (1956) 940) as tabulated by Khandelwal (Nucl. Phys. A116 (1968)
 * 97), with the outer shells as scaled L shells (Bichsel's scheme, used for ICRU Report 49).
 * The tables (assets/shell_corrections.tsv) are those Geant4 ships in G4EmCorrections.
 *
 * Valid from low velocities (eta = beta^2/(alpha Z_shell)^2 >= 0.005) up, unlike the asymptotic
 * Barkas-Berger expansion, which diverges below ~8 MeV/u. Combined over a compound's elements per
 * electron (Bragg additivity of the stopping number).
 *
 * A shell_tables is loaded once (host), read-only afterwards; any thread may evaluate.
 */
#ifndef BRAGG_SHELL_H
#define BRAGG_SHELL_H

#include "err.h"

#define SHELL_N_ETA 29
#define SHELL_N_THETA_K 20
#define SHELL_N_THETA_L 26
#define SHELL_N_ETA_L 28

typedef struct shell_tables {
    double eta[SHELL_N_ETA], theta_k[SHELL_N_THETA_K], theta_l[SHELL_N_THETA_L];
    double ck[SHELL_N_THETA_K][SHELL_N_ETA];     /* C_K(theta_k, eta) */
    double cl[SHELL_N_THETA_L][SHELL_N_ETA_L];   /* C_L(theta_l, eta) */
    double uk[SHELL_N_THETA_K], vk[SHELL_N_THETA_K], zk[SHELL_N_THETA_K];
    double ul[SHELL_N_THETA_L], vl[SHELL_N_THETA_L];
    int n_tk, n_tl;
    double tk_z[40], tk_theta[40], tl_z[40], tl_theta[40];  /* theta_K(Z), theta_L(Z) nodes */
    double zd[11];                  /* L-shell screening for Z < 10 */
    double hm[64], hn[64];          /* M and N shell scaling by Z */
} shell_tables;

int shell_tables_load(shell_tables *t, const char *file, bragg_err *e);

/* Shell correction C of one atom of element Z (C/Z per electron times Z), at beta^2. */
double shell_correction_atom(const shell_tables *t, int Z, double beta2);

#endif
