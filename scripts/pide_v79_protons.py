#!/usr/bin/env python3
"""pide_v79_protons.py - the rows of tests/reference/v79_proton_lq_pide.tsv from PIDE 3.4: every
proton experiment on V79 cells with its published LQ parameters, and the screen of its 'use'
column (the file's header states the rules and why; this script applies them).

    scripts/pide_v79_protons.py GIT_DIR [COMMIT] > rows.tsv     (screen printed on stderr)

GIT_DIR is a clone of a repository holding PIDE3.4/PIDE3.4.csv, PIDE3.4/PIDE3.4_IonRawData.dat and
PIDE3.4/PIDE3.4_PhotonRawData.dat (the copy used: github.com/forgetsummer/RADCell_optimized,
COMMIT default HEAD). Values are copied as the text PIDE gives them. Only the standard library.
The rules, decided on the data alone (no model is computed here):
  1. the four published LQ parameters (photon alpha_x, beta_x; proton alpha_p, beta_p) present;
  2. each published curve describes its own survival points where PIDE has them: the median over
     the points (0 < S < 1, dose > 0) of |ln(D_LQ(S) / dose)|, D_LQ(S) the dose at which the
     published LQ gives survival S, at most 0.3;
  3. two rows with the same four published parameters at LETs within 3% are one fit reported
     twice: the earlier publication's row is used.
"""
import csv
import io
import math
import subprocess
import sys

MISFIT_MAX = 0.3


def show(git_dir, commit, path):
    out = subprocess.run(["git", "-C", git_dir, "show", f"{commit}:{path}"], check=True,
                         capture_output=True)
    return out.stdout.decode("utf-8", errors="replace")


def raw_points(text, skip):
    """{first field: (publication, experiment number, [(dose, survival)])} of a raw-data file."""
    out = {}
    for line in text.splitlines():
        f = [x.strip() for x in line.split("\t") if x.strip()]
        if len(f) < skip:
            continue
        vals = f[skip:]
        pts = [] if not vals or vals[0] == "N/A" else \
            [(float(vals[i]), float(vals[i + 1])) for i in range(0, len(vals) - 1, 2)]
        out[int(f[0])] = (f[2], int(f[3]), pts)
    return out


def lq_dose(a, b, s):
    e = -math.log(s)
    if b <= 0:
        return e / a if a > 0 else math.inf
    return 2 * e / (a + math.sqrt(a * a + 4 * b * e))


def misfit(a, b, pts):
    """Median |ln(D_LQ(S_i) / d_i)| over the points, or None without points."""
    r = sorted(abs(math.log(lq_dose(a, b, s) / d)) for d, s in pts if 0 < s < 1 and d > 0)
    if not r:
        return None
    n = len(r)
    return r[n // 2] if n % 2 else 0.5 * (r[n // 2 - 1] + r[n // 2])


def year(pub):
    y = int(pub[-2:])
    return y + (1900 if y > 30 else 2000)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    git_dir, commit = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "HEAD"
    rows = list(csv.DictReader(io.StringIO(show(git_dir, commit, "PIDE3.4/PIDE3.4.csv"))))
    ion = raw_points(show(git_dir, commit, "PIDE3.4/PIDE3.4_IonRawData.dat"), 5)
    photon_by_id = raw_points(show(git_dir, commit, "PIDE3.4/PIDE3.4_PhotonRawData.dat"), 4)
    photon = {(p, n): pts for p, n, pts in photon_by_id.values()}
    exps = [r for r in rows if r["Ion"] == "1H" and r["Cells"] == "V79"]
    exps.sort(key=lambda r: (year(r["PublicationName"]), r["PublicationName"], int(r["IonExpNum"])))
    keys = ("ax_paper", "bx_paper", "ai_paper", "bi_paper")
    seen = []
    for r in exps:
        pub, n = r["PublicationName"], int(r["IonExpNum"])
        ip, inum, ipts = ion[int(r["ExpID"])]
        assert (ip, inum) == (pub, n), (r["ExpID"], ip, inum, pub, n)
        ppts = photon.get((pub, int(r["PhotonExpNum"])), [])
        use, note = "yes", ""
        if any(r[k] == "" for k in keys[:2]):
            use = "no-photon-lq"
        elif any(r[k] == "" for k in keys[2:]):
            use = "no-ion-lq"
        else:
            ax, bx, ai, bi = (float(r[k]) for k in keys)
            mi, mx = misfit(ai, bi, ipts), misfit(ax, bx, ppts)
            note = f"misfit ion {mi if mi is None else round(mi, 3)} " \
                   f"({len(ipts)} points), photon {mx if mx is None else round(mx, 3)} " \
                   f"({len(ppts)} points)"
            if (mi or 0) > MISFIT_MAX or (mx or 0) > MISFIT_MAX:
                use = "lq-misses-points"
            else:
                let = float(r["LET"])
                for s in seen:
                    if all(float(s[k]) == float(r[k]) for k in keys) and \
                            abs(float(s["LET"]) / let - 1) <= 0.03:
                        use = "duplicate"
                        note += f"; same fit as {s['PublicationName']} {s['IonExpNum']}"
                if use == "yes":
                    seen.append(r)
        print(f"{pub:15s} {n:3d} LET {r['LET']:>5s}  {use:17s} {note}", file=sys.stderr)
        cells = [use, pub, r["IrradiationConditions"], r["ExpID"], r["IonExpNum"], r["LET"],
                 r["Energy"]] + [r[k] if r[k] != "" else "-" for k in keys]
        print("\t".join(cells))


if __name__ == "__main__":
    main()
