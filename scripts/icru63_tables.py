#!/usr/bin/env python3
"""icru63_tables.py - writes physics/icru63_data.c, ICRU Report 63's evaluated nonelastic and
elastic proton-nucleus data for the elements of tissue, bone and beam-line metals
(physics/icru63.h samples them).

    scripts/icru63_tables.py MCSQUARE_MATERIALS_DIR > physics/icru63_data.c

ICRU Report 63 (2000), "Nuclear Data for Neutron and Proton Radiotherapy and for Radiation
Protection", evaluated the nonelastic reactions of protons up to 250 MeV on the nuclei of the
body: per incident energy the cross-section, the multiplicities of the emitted protons,
deuterons and alphas, the share of the incident energy that the recoiling residual nuclei take,
and for each emitted species its double-differential cross-section on 41 emission energies
(0 to the incident energy in 40 equal steps) and 13 laboratory angles (0, 10, ..., 70, 90, 110,
130, 150, 180 degrees), with the angle-integrated spectrum beside it. The report's files are
not public; MCsquare (github e0404/MCsquare, Apache 2.0) distributes them as
Materials/<element>/ICRU_Nuclear_inelastic.dat, and this script reads those, at commit
211eefe6eaf2b8572d196d17f546f35ffb0ae0cf. Tritons and He-3 are not in the files.

The elastic scattering (Materials/<element>/ICRU_Nuclear_elastic.dat, the same commit): per
incident energy (from a few MeV to 250 MeV) the angular distribution d sigma / d Omega, b/sr, in
the centre of mass at 5, 10, ..., 180 degrees, and a "Cross_section" that is that table's
trapezoid in cos theta (to 0.3% for every element but two: not an independent figure), but 1.8
to 4.4 times it for phosphorus and 3.7 to 4.9 times it for copper, whose distributions are
nevertheless right (phosphorus at 1 MeV and 5 degrees 85 900 b/sr, Rutherford's 85 800). So the
field is written for reference only, and physics/icru63.h takes the rate from the distribution
it samples.

The numbers are written exactly as the files give them (shortest decimal that reads back to
the same double); nothing is normalised here, so a reader can compare any value with the file.
physics/icru63.h builds the distributions at run time.

Elements: carbon, nitrogen, oxygen, phosphorus and calcium, the elements heavier than hydrogen
that make up bragg's tissues and bones (assets/materials.tsv) and that the report evaluated; and
aluminium, silicon, iron, copper, tungsten and lead, the metals of bragg's materials that the
report has (range shifters, scatterers, collimators, detectors). Not in the files: titanium and
gold, and the tissues' sodium, magnesium, sulphur, chlorine and potassium; those stay with the
general model (physics/nuclear.c).

Only the standard library is used; the output is deterministic.
"""
import math
import os
import sys

ELEMENTS = [("carbon", 6), ("nitrogen", 7), ("oxygen", 8), ("aluminium", 13), ("silicon", 14),
            ("phosphorus", 15), ("calcium", 20), ("iron", 26), ("copper", 29), ("tungsten", 74),
            ("lead", 82)]
SPECIES = ["proton", "deuteron", "alpha"]
NODES, ANGLES = 41, 13
ELASTIC_ANGLES = 36        # 5, 10, ..., 180 degrees
COMMIT = "211eefe6eaf2b8572d196d17f546f35ffb0ae0cf"


def parse(path):
    """Returns a list of tables: dict(energy, sigma, recoil, mult[3], spec[3][41], ddx[3][41][13])."""
    tables, cur, lines = [], None, open(path).read().split("\n")
    i = 0
    while i < len(lines):
        tok = lines[i].split()
        i += 1
        if not tok or tok[0].startswith("#"):
            continue
        if tok[0] == "Energy":
            cur = {"energy": float(tok[1]), "sigma": None, "recoil": None,
                   "mult": [0.0] * 3, "spec": [[0.0] * NODES for _ in SPECIES],
                   "ddx": [[[0.0] * ANGLES for _ in range(NODES)] for _ in SPECIES],
                   "grid": [None] * 3}
            tables.append(cur)
        elif tok[0] == "Cross_section":
            cur["sigma"] = float(tok[1])
        elif tok[0] == "Energy_fraction_recoils":
            cur["recoil"] = float(tok[1])
        elif tok[0] == "Multiplicity":
            cur["mult"][SPECIES.index(tok[1])] = float(tok[2])
        elif tok[0] == "Differential_cross_section":
            s = SPECIES.index(tok[1])
            assert int(tok[2]) == NODES, (path, tok)
            rows = []
            while len(rows) < NODES:
                r = lines[i].split()
                i += 1
                if not r or r[0].startswith("#"):
                    continue
                assert len(r) == 2 + ANGLES, (path, r)
                rows.append([float(v) for v in r])
            cur["grid"][s] = [r[0] for r in rows]
            cur["spec"][s] = [r[1] for r in rows]
            cur["ddx"][s] = [r[2:] for r in rows]
        else:
            raise SystemExit("%s: unexpected line %r" % (path, lines[i - 1]))
    for t in tables:
        assert t["sigma"] is not None and t["recoil"] is not None, (path, t["energy"])
        for s, g in enumerate(t["grid"]):
            if g is None:
                assert t["mult"][s] == 0.0, (path, t["energy"], s)
                continue
            # The emission grid is 0 .. the incident energy in 40 equal steps: physics/icru63.h
            # relies on it (x = E / E_in = j / 40).
            for j, e in enumerate(g):
                assert abs(e - t["energy"] * j / (NODES - 1)) <= 0.006 * t["energy"] / 40 + 0.006, \
                    (path, t["energy"], s, j, e)
    return tables


worst = {}   # by file: largest relative difference of the trapezoid from the cross-section


def parse_elastic(path):
    """Returns a list of dict(energy, sigma, dxs[36]) by rising energy, the angles checked."""
    tables, cur = [], None
    for line in open(path):
        tok = line.split("#")[0].split()
        if not tok:
            continue
        if tok[0] == "Energy":
            cur = {"energy": float(tok[1]), "sigma": None, "angles": [], "dxs": []}
            tables.append(cur)
        elif tok[0] == "Cross_section":
            cur["sigma"] = float(tok[1])
        elif tok[0] == "Differential_cross_section":
            pass
        elif len(tok) == 2:
            cur["angles"].append(float(tok[0]))
            cur["dxs"].append(float(tok[1]))
        else:
            raise SystemExit("%s: unexpected line %r" % (path, line))
    tables.sort(key=lambda x: x["energy"])
    for t in tables:
        assert t["sigma"] is not None, (path, t["energy"])
        assert t["angles"] == [5.0 * (i + 1) for i in range(ELASTIC_ANGLES)], (path, t["energy"])
        c = [math.cos(math.radians(a)) for a in t["angles"]]
        trapezoid = 2 * math.pi * sum((c[i] - c[i + 1]) * 0.5 * (t["dxs"][i] + t["dxs"][i + 1])
                                      for i in range(ELASTIC_ANGLES - 1))
        worst[path] = max(worst.get(path, 0.0), abs(t["sigma"] / trapezoid - 1))
    return tables


def num(v):
    """The shortest C literal that reads back as the double v."""
    if v == 0.0:
        return "0"
    best = None
    for p in range(1, 18):
        for f in ("%%.%dg" % p, "%%.%de" % p):
            s = f % v
            if float(s) != v:
                continue
            if "e" in s:
                m, e = s.split("e")
                e = int(e)
                s = "%se%d" % (m, e)
            if s.startswith("0."):
                s = s[1:]
            # Shortest; at equal length the plain form (10, not 1e1).
            if best is None or (len(s), "e" in s) < (len(best), "e" in best):
                best = s
    return best


def emit(name, ctype, values):
    """A C array definition, its lines within 100 columns."""
    out, line = ["const %s %s[%d] = {" % (ctype, name, len(values))], "   "
    for v in values:
        if len(line) + len(v) + 2 > 100:
            out.append(line)
            line = "   "
        line += " " + v + ","
    out.append(line)
    out.append("};")
    return "\n".join(out) + "\n"


def main():
    if len(sys.argv) != 2:
        raise SystemExit("usage: icru63_tables.py MCSQUARE_MATERIALS_DIR > physics/icru63_tables.h")
    base = sys.argv[1]
    all_tables, first = [], [0]
    for name, z in ELEMENTS:
        t = parse(os.path.join(base, name, "ICRU_Nuclear_inelastic.dat"))
        t.sort(key=lambda x: x["energy"])
        all_tables += t
        first.append(len(all_tables))
    nt = len(all_tables)
    elastic, elastic_first = [], [0]
    for name, z in ELEMENTS:
        elastic += parse_elastic(os.path.join(base, name, "ICRU_Nuclear_elastic.dat"))
        elastic_first.append(len(elastic))
    print("/*")
    print(" * icru63_data.c - ICRU Report 63's nonelastic and elastic p + nucleus data")
    print(" * (physics/icru63.h). Generated by scripts/icru63_tables.py from MCsquare's")
    print(" * Materials/<element>/ICRU_Nuclear_inelastic.dat and ICRU_Nuclear_elastic.dat")
    print(" * (github e0404/MCsquare, commit %s);" % COMMIT[:7])
    print(" * do not edit. See that script for the data and what is left out.")
    print(" *")
    print(" *   %d elements, %d incident energies in all; per energy and species (p, d, alpha)" %
          (len(ELEMENTS), nt))
    print(" *   41 emission energies x 13 angles; elastic: %d incident energies, 36 angles." %
          len(elastic))
    print(" */")
    print('#include "icru63.h"')
    print()
    print("const int icru63_elements = %d;" % len(ELEMENTS))
    print("/* Element charges and their tables: element e has tables first[e] .. first[e+1]-1, by")
    print(" * rising incident energy. */")
    print(emit("icru63_element_z", "int", [str(z) for _, z in ELEMENTS]))
    print(emit("icru63_element_first", "int", [str(f) for f in first]))
    print("/* Per table: incident energy (MeV), nonelastic cross-section (b), the recoils' share of")
    print(" * the incident energy, and the multiplicities of p, d, alpha per reaction. */")
    print(emit("icru63_energy", "float", [num(t["energy"]) for t in all_tables]))
    print(emit("icru63_sigma", "float", [num(t["sigma"]) for t in all_tables]))
    print(emit("icru63_recoil", "float", [num(t["recoil"]) for t in all_tables]))
    print(emit("icru63_multiplicity", "float",
               [num(m) for t in all_tables for m in t["mult"]]))
    print("/* Angle-integrated emission spectra, b/MeV, [table][species][node]. */")
    print(emit("icru63_spectrum", "float",
               [num(v) for t in all_tables for s in range(3) for v in t["spec"][s]]))
    print("/* Double-differential cross-sections, b/(MeV sr), [table][species][node][angle]. */")
    print(emit("icru63_ddx", "float",
               [num(v) for t in all_tables for s in range(3) for row in t["ddx"][s]
                for v in row]))
    print("/* Elastic scattering: element e has tables elastic_first[e] .. elastic_first[e+1]-1, by")
    print(" * rising incident energy (MeV); the file's cross-section (b; for reference only: the")
    print(" * distribution's trapezoid, but for phosphorus's and copper's) and d sigma / d Omega,")
    print(" * b/sr, in the centre of mass at 5, 10, ..., 180 degrees, [table][angle]. */")
    print(emit("icru63_elastic_first", "int", [str(f) for f in elastic_first]))
    print(emit("icru63_elastic_energy", "float", [num(t["energy"]) for t in elastic]))
    print(emit("icru63_elastic_sigma", "float", [num(t["sigma"]) for t in elastic]))
    print(emit("icru63_elastic_dxs", "float", [num(v) for t in elastic for v in t["dxs"]]))
    for path in worst:
        sys.stderr.write("%s: cross-section within %.1f%% of the trapezoid\n" %
                         (path, 100 * worst[path]))


if __name__ == "__main__":
    main()
