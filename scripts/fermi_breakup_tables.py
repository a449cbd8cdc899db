#!/usr/bin/env python3
"""fermi_breakup_tables.py - writes physics/fermi_tables.h, the channel tables of the Fermi
break-up of light nuclei (physics/fragmentation.h).

    scripts/fermi_breakup_tables.py > physics/fermi_tables.h

Fermi break-up (E. Fermi, Prog. Theor. Phys. 5 (1950) 570; for light nuclei Epherre &
Gradsztajn, J. Physique 28 (1967) 745; as in Geant4's G4FermiBreakUp, Geant4 Physics Reference
Manual, "Fermi break-up model"): an excited nucleus (Z, A) of mass M* = M_gs + E* breaks up at
once into K >= 2 fragments, each a light nucleus in its ground state or a low-lying level. A
channel's weight is its K-body phase space at the freeze-out volume V = kappa V0,
V0 = 4 pi r0^3 A / 3 (r0 = 1.3 fm, kappa = 1):

    W = (S / G) (V / (2 pi hbar)^3)^(K-1) (prod m_i / sum m_i)^(3/2)
          (2 pi)^(3(K-1)/2) / Gamma(3(K-1)/2) E_kin^(3K/2 - 5/2)

with S = prod (2 J_i + 1) the spin degeneracy, G = prod n_j! over groups of identical fragments,
E_kin = M* - sum (m_i + E_i) - E_C the kinetic energy at freeze-out and E_C the Coulomb energy
of the K fragments at that volume relative to the whole nucleus (uniform spheres):

    E_C = 3/5 e^2 / (r0 (1 + kappa)^(1/3)) (Z^2 / A^(1/3) - sum z_i^2 / a_i^(1/3)).

Everything but E_kin is a constant of the channel: the script writes, for every nucleus with
Z <= 8 and A <= 16 whose mass is known, its channels sorted by threshold E* = sum (m_i + E_i) +
E_C - M_gs, each with the constant factor and its fragments. At run time a channel then costs
one power of E_kin (physics/fragmentation.h, fermi_breakup).

Fragments (the "pool"): the light nuclei and levels of Geant4's classic Fermi break-up pool
(G4FermiFragmentsPool, level energies and spins from the NNDC chart as revised there by J. M.
Quesada, 2009-2010; the C-10 ground state is taken as 0+, its measured spin, where that list
has 2J+1 = 3). He-5, Li-5, Be-8 and B-9 are unbound in their ground states: the run-time code
decays them (alpha + n, alpha + p, 2 alpha, p + 2 alpha).

Masses: AME2020 mass excesses (scripts/ame2020_light.tsv; W. J. Huang et al., Chin. Phys. C 45
(2021) 030002; M. Wang et al., ibid. 030003), made nuclear by removing the electrons' masses and
their total binding energy (14.4381 Z^2.39 + 1.55468e-6 Z^5.35 eV; Lunney, Pearson & Thibault,
Rev. Mod. Phys. 75 (2003) 1021, eq. A4). The same table gives the binding energies that the
Q-value of a reaction uses (physics/transport.h), so that the break-up and the energy ledger use
one set of masses. Constants: CODATA 2018 (u = 931.49410242 MeV, m_e = 0.51099895000 MeV,
hbar c = 197.3269804 MeV fm, e^2 = 1.439964548 MeV fm).

Only the standard library is used; the output is deterministic.
"""
import math
import os
import sys

U_MEV = 931.49410242
ME_MEV = 0.51099895000
HBARC = 197.3269804
E2 = 1.439964548
R0 = 1.3
KAPPA = 1.0
MAX_Z, MAX_A = 8, 16

# (A, Z, 2J+1, excitation MeV): Geant4's classic Fermi break-up pool (see above).
POOL = [
    (1, 0, 2, 0.0), (1, 1, 2, 0.0), (2, 1, 3, 0.0), (3, 1, 2, 0.0), (3, 2, 2, 0.0),
    (4, 2, 1, 0.0), (5, 2, 4, 0.0), (5, 3, 4, 0.0), (6, 2, 1, 0.0), (6, 3, 3, 0.0),
    (6, 3, 1, 3.56288), (7, 3, 4, 0.0), (7, 3, 2, 0.477612), (7, 4, 4, 0.0), (7, 4, 2, 0.42908),
    (8, 3, 5, 0.0), (8, 3, 3, 0.9808), (8, 4, 1, 0.0), (9, 4, 4, 0.0), (9, 5, 4, 0.0),
    (10, 4, 1, 0.0), (10, 4, 5, 3.36803), (10, 4, 8, 5.95839), (10, 4, 1, 6.1793),
    (10, 4, 5, 6.2633), (10, 5, 7, 0.0), (10, 5, 3, 0.71838), (10, 5, 1, 1.74005),
    (10, 5, 3, 2.15427), (10, 5, 5, 3.58713), (10, 6, 1, 0.0), (10, 6, 5, 3.3536),
    (11, 5, 4, 0.0), (11, 5, 2, 2.124693), (11, 5, 6, 4.44498), (11, 5, 4, 5.0203),
    (11, 5, 8, 6.74185), (11, 5, 2, 6.7918), (11, 5, 6, 7.28551), (11, 5, 4, 7.97784),
    (11, 5, 6, 8.5601), (11, 6, 4, 0.0), (11, 6, 2, 2.0), (11, 6, 6, 4.3188), (11, 6, 4, 4.8042),
    (11, 6, 2, 6.3392), (11, 6, 8, 6.4782), (11, 6, 6, 6.9048), (11, 6, 4, 7.4997),
    (11, 6, 4, 8.1045), (11, 6, 6, 8.42), (12, 5, 3, 0.0), (12, 5, 5, 0.95314),
    (12, 5, 5, 1.67365), (12, 5, 3, 2.6208), (12, 6, 1, 0.0), (12, 6, 5, 4.43891),
    (13, 6, 2, 0.0), (13, 6, 2, 3.089443), (13, 6, 4, 3.684507), (13, 6, 6, 3.853807),
    (13, 7, 2, 0.0), (14, 6, 1, 0.0), (14, 6, 3, 6.0938), (14, 6, 1, 6.5894), (14, 6, 7, 6.7282),
    (14, 6, 1, 6.9026), (14, 6, 5, 7.012), (14, 6, 5, 7.341), (14, 7, 3, 0.0),
    (14, 7, 1, 2.312798), (14, 7, 3, 3.9481), (14, 7, 1, 4.9151), (14, 7, 5, 5.10589),
    (14, 7, 3, 5.69144), (14, 7, 7, 5.83425), (14, 7, 3, 6.2035), (14, 7, 7, 6.44617),
    (14, 7, 5, 7.02912), (15, 7, 2, 0.0), (15, 7, 6, 5.270155), (15, 7, 2, 5.298822),
    (15, 7, 4, 6.32378), (15, 7, 6, 7.15505), (15, 7, 4, 7.30083), (15, 7, 8, 7.5671),
    (15, 7, 2, 8.31262), (15, 7, 4, 8.5714), (15, 7, 2, 9.04971), (15, 7, 4, 9.1519),
    (15, 7, 6, 9.1549), (15, 7, 2, 9.2221), (15, 7, 6, 9.76), (15, 7, 8, 9.829),
    (15, 7, 4, 9.925), (15, 7, 4, 10.066), (15, 8, 2, 0.0), (15, 8, 2, 5.183), (15, 8, 6, 5.2409),
    (15, 8, 4, 6.1763), (15, 8, 4, 6.7931), (15, 8, 6, 6.8594), (15, 8, 8, 7.2759),
    (16, 7, 5, 0.0), (16, 7, 1, 0.12042), (16, 7, 7, 0.29822), (16, 7, 3, 0.39727),
    (16, 8, 1, 0.0), (16, 8, 1, 6.0494), (16, 8, 7, 6.12989), (16, 8, 5, 6.9171),
    (16, 8, 3, 7.11685),
]
# Unbound ground states the run-time code decays itself: (Z, A) -> kind (1..5): He-5 -> alpha n,
# Li-5 -> alpha p, Be-8 -> 2 alpha, B-9 -> p Be-8, Be-6 -> alpha p p (a three-body decay: its
# ground state lies 1.37 MeV above alpha + 2p and below Li-5 + p).
UNSTABLE = {(2, 5): 1, (3, 5): 2, (4, 8): 3, (5, 9): 4, (4, 6): 5}


def load_masses(path):
    mass = {}
    with open(path) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            z, a, _, excess_kev, _ = line.split("\t")
            z, a = int(z), int(a)
            if z > MAX_Z or a > MAX_A:
                continue
            electrons = (14.4381 * z ** 2.39 + 1.55468e-6 * z ** 5.35) * 1e-6
            mass[(z, a)] = a * U_MEV + float(excess_kev) * 1e-3 - z * ME_MEV + electrons
    return mass


def partitions(z, a, first, states):
    """Multisets of pool states (non-decreasing index from `first`) summing to (z, a)."""
    if z == 0 and a == 0:
        yield ()
        return
    for i in range(first, len(states)):
        sa, sz = states[i][0], states[i][1]
        if sa <= a and sz <= z and a - sa >= z - sz:
            for rest in partitions(z - sz, a - sa, i, states):
                yield (i,) + rest


def channel(Z, A, pieces, mass):
    K = len(pieces)
    ms = [mass[(POOL[i][1], POOL[i][0])] for i in pieces]
    exc = sum(POOL[i][3] for i in pieces)
    spin = 1
    for i in pieces:
        spin *= POOL[i][2]
    ident = 1
    for i in set(pieces):
        ident *= math.factorial(pieces.count(i))
    coulomb = 0.6 * E2 / (R0 * (1 + KAPPA) ** (1 / 3)) * (
        Z * Z / A ** (1 / 3) - sum(POOL[i][1] ** 2 / POOL[i][0] ** (1 / 3) for i in pieces))
    threshold = sum(ms) + exc + coulomb - mass[(Z, A)]
    # (V / (2 pi hbar)^3)^(K-1) (2 pi)^(3(K-1)/2) = ((r0/hbar c)^3 kappa A sqrt(2/pi) / 3)^(K-1)
    c0 = (R0 / HBARC) ** 3 * KAPPA * A * math.sqrt(2 / math.pi) / 3
    log_w = ((K - 1) * math.log(c0) + 1.5 * (sum(math.log(m) for m in ms) - math.log(sum(ms)))
             + math.log(spin / ident) - math.lgamma(1.5 * (K - 1)))
    return threshold, log_w, K


def c_double(x):
    """Shortest decimal that reads back as the same double (Python's repr), as a C literal."""
    t = repr(float(x))
    return t if ("." in t or "e" in t) else t + ".0"


def c_short(x):
    """Ten significant digits: enough for thresholds (MeV, to 1e-8 relative) and weights."""
    return "%.10g" % x


def rows(values, per_line, fmt):
    out = []
    for k in range(0, len(values), per_line):
        out.append("    " + ", ".join(fmt(v) for v in values[k:k + per_line]) + ",")
    return " \\\n".join(out)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    mass = load_masses(os.path.join(here, "ame2020_light.tsv"))
    for a, z, _, _ in POOL:
        assert (z, a) in mass, (z, a)
    mp, mn = mass[(1, 1)], mass[(0, 1)]

    # Nuclides in (Z, A) order; channels of each sorted by threshold. The weight is stored
    # relative to the nuclide's largest one at E_kin = 1 MeV (a scale: only ratios matter),
    # as a plain factor, so that the run time multiplies instead of taking exp().
    nuc_mass, nuc_binding, nuc_first, nuc_count, nuc_unstable = [], [], [], [], []
    ch_thr, ch_coef, ch_k, ch_first, pieces = [], [], [], [], []
    max_channels = max_pieces = 0
    for Z in range(MAX_Z + 1):
        for A in range(MAX_A + 1):
            known = A >= 1 and (Z, A) in mass
            nuc_mass.append(mass[(Z, A)] if known else 0.0)
            nuc_binding.append(Z * mp + (A - Z) * mn - mass[(Z, A)] if known else 0.0)
            nuc_unstable.append(UNSTABLE.get((Z, A), 0))
            nuc_first.append(len(ch_thr))
            chans = []
            if known and A >= 2:
                for p in partitions(Z, A, 0, POOL):
                    if len(p) >= 2:
                        thr, log_w, K = channel(Z, A, p, mass)
                        chans.append((thr, log_w, K, p))
            chans.sort(key=lambda c: (c[0], c[3]))
            top = max((c[1] for c in chans), default=0.0)
            for thr, log_w, K, p in chans:
                ch_thr.append(thr)
                ch_coef.append(math.exp(log_w - top))
                ch_k.append(K)
                ch_first.append(len(pieces))
                pieces.extend(p)
                max_pieces = max(max_pieces, K)
            nuc_count.append(len(chans))
            max_channels = max(max_channels, len(chans))
    ch_first.append(len(pieces))

    w = sys.stdout.write
    w("/*\n * fermi_tables.h - channel tables of the Fermi break-up of light nuclei "
      "(physics/fragmentation.h).\n")
    w(" * Generated by scripts/fermi_breakup_tables.py; do not edit. See that script for the "
      "model,\n * the fragment pool and the masses (AME2020).\n *\n")
    w(" *   %d fragment states, %d channels in all, at most %d per nucleus and %d fragments in "
      "one.\n */\n" % (len(POOL), len(ch_thr), max_channels, max_pieces))
    w("#ifndef BRAGG_FERMI_TABLES_H\n#define BRAGG_FERMI_TABLES_H\n\n")
    w("#define FERMI_MAX_Z %d\n#define FERMI_MAX_A %d\n" % (MAX_Z, MAX_A))
    w("#define FERMI_STATES %d\n#define FERMI_CHANNELS %d\n#define FERMI_PIECES %d\n"
      % (len(POOL), len(ch_thr), len(pieces)))
    w("#define FERMI_MAX_K %d        /* most fragments in one channel */\n\n" % max_pieces)
    w("/* Fragment states: charge, mass number, excitation (MeV) and nuclear mass of the ground "
      "state\n * (MeV). */\n")
    w("#define FERMI_STATE_Z_INIT { \\\n%s \\\n}\n" % rows([s[1] for s in POOL], 20, str))
    w("#define FERMI_STATE_A_INIT { \\\n%s \\\n}\n" % rows([s[0] for s in POOL], 20, str))
    w("#define FERMI_STATE_EX_INIT { \\\n%s \\\n}\n" % rows([s[3] for s in POOL], 4, c_double))
    w("#define FERMI_STATE_MASS_INIT { \\\n%s \\\n}\n\n"
      % rows([mass[(s[1], s[0])] for s in POOL], 4, c_double))
    w("/* Nuclei by index Z * (FERMI_MAX_A + 1) + A: nuclear mass (0: not in AME2020), binding "
      "energy,\n * both MeV; unbound ground state to decay (1 He-5, 2 Li-5, 3 Be-8, 4 B-9, else "
      "0); first channel\n * and number of channels. */\n")
    w("#define FERMI_NUCLEUS_MASS_INIT { \\\n%s \\\n}\n" % rows(nuc_mass, 4, c_double))
    w("#define FERMI_NUCLEUS_BINDING_INIT { \\\n%s \\\n}\n" % rows(nuc_binding, 4, c_double))
    w("#define FERMI_NUCLEUS_UNSTABLE_INIT { \\\n%s \\\n}\n" % rows(nuc_unstable, 20, str))
    w("#define FERMI_NUCLEUS_FIRST_INIT { \\\n%s \\\n}\n" % rows(nuc_first, 12, str))
    w("#define FERMI_NUCLEUS_COUNT_INIT { \\\n%s \\\n}\n\n" % rows(nuc_count, 12, str))
    w("/* Channels: threshold excitation (MeV, Coulomb energy included), weight factor (E_kin "
      "in MeV;\n * relative within a nucleus), number of fragments, first fragment in "
      "FERMI_PIECE (one more\n * entry closes the last channel). */\n")
    w("#define FERMI_CHANNEL_THRESHOLD_INIT { \\\n%s \\\n}\n" % rows(ch_thr, 8, c_short))
    w("#define FERMI_CHANNEL_WEIGHT_INIT { \\\n%s \\\n}\n" % rows(ch_coef, 8, c_short))
    w("#define FERMI_CHANNEL_K_INIT { \\\n%s \\\n}\n" % rows(ch_k, 40, str))
    w("#define FERMI_CHANNEL_FIRST_INIT { \\\n%s \\\n}\n" % rows(ch_first, 16, str))
    w("#define FERMI_PIECE_INIT { \\\n%s \\\n}\n\n" % rows(pieces, 30, str))
    w("#endif\n")


if __name__ == "__main__":
    main()
