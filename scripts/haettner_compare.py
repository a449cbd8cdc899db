#!/usr/bin/env python3
"""haettner_compare.py - compares a C-12 400 MeV/u water run of bragg with the GSI measurement
(Haettner et al.; digitised in assets/measurements/): fragment yields within
10 degrees by charge at the measured depths, the plateau of the depth-dose curve relative to its
first measured point (2.2 cm), peak/entrance and tail/peak.

    bragg run --ion C-12 --energy 400 --material water -n 100000 --depth 36 --json run.json
    scripts/haettner_compare.py run.json [other.json ...]

With several files each gets its own column (e.g. before and after a model change). The yields
are the JSON's forward_crossings_by_charge at each digitised depth (linear interpolation between
bin centres); measured depths are those of the digitised points nearest to the nominal depths
5.7, 15.8, 25.8, 27.9, 31.2 and 34.7 cm (for He the point at 28.9 cm stands in for 31.2, as
there is none nearer). The plateau takes the mean simulated dose over +-0.25 cm around each
depth, the measured curve interpolated linearly. Only the standard library is used.
"""
import json
import os
import sys

NOMINAL = [5.7, 15.8, 25.8, 27.9, 31.2, 34.7]
PLATEAU = [10.2, 16.3, 20.4, 24.2]
NAMES = {1: "H", 2: "He", 3: "Li", 4: "Be", 5: "B"}
# Measured tail/peak: mean of the measured curve 0.5-1.5 cm beyond its distal 20% point over its
# peak, as tests/unit/test_nuclear.c computes it from the same digitised curve.


def rows(path):
    """The numeric rows of a measurement file in assets/measurements/ ('#' lines are its header)."""
    with open(path) as f:
        return [[float(c) for c in line.split()] for line in f if line.strip() and not line.startswith("#")]


def reference(folder):
    yields, curve = {}, []
    for depth, z, value in rows(os.path.join(folder, "haettner-2013-c12-400-water-yields.tsv")):
        yields.setdefault(int(z), []).append((depth, value))
    for depth, value, _err in rows(os.path.join(folder, "haettner-2013-c12-400-water.tsv")):
        curve.append((depth, value))
    return yields, curve


def interp(xs, ys, x):
    for i in range(len(xs) - 1):
        if xs[i] <= x <= xs[i + 1]:
            return ys[i] + (ys[i + 1] - ys[i]) * (x - xs[i]) / (xs[i + 1] - xs[i])
    return float("nan")


def measured_tail(curve):
    z = [p[0] for p in curve]
    d = [p[1] for p in curve]
    m = max(range(len(d)), key=lambda i: d[i])
    r20 = None
    for i in range(m, len(d) - 1):
        if d[i] >= 0.2 * d[m] and d[i + 1] < 0.2 * d[m]:
            r20 = z[i] + (z[i + 1] - z[i]) * (0.2 * d[m] - d[i]) / (d[i + 1] - d[i])
            break
    lo, hi, step, s = r20 + 0.5, r20 + 1.5, 0.01, 0.0
    x = lo + 0.5 * step
    while x < hi:
        i = 0
        while i + 1 < len(z) and z[i + 1] < x:
            i += 1
        s += d[i] + (d[i + 1] - d[i]) * (x - z[i]) / (z[i + 1] - z[i])
        x += step
    return s * step / (hi - lo) / d[m], d[m] / d[0]


def model(path):
    run = json.load(open(path))
    c = run["depth_curves"]
    z = c["depth_cm"]
    dose = c["dose_Gy_cm2"]
    fwd = c["forward_crossings_by_charge"]

    def mean_dose(x, half=0.25):
        v = [dose[i] for i in range(len(z)) if x - half <= z[i] <= x + half]
        return sum(v) / len(v)

    return {
        "yield": lambda Z, x: interp(z, fwd[str(Z)], x),
        "plateau": lambda x: mean_dose(x) / mean_dose(2.2297),
        "pe": run["results"]["peak_to_entrance"],
        "tail": run["nuclear"]["tail_to_peak"],
    }


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    here = os.path.dirname(os.path.abspath(__file__))
    yields, curve = reference(os.path.join(here, "..", "assets", "measurements"))
    runs = [model(p) for p in sys.argv[1:]]
    labels = [os.path.basename(p) for p in sys.argv[1:]]
    print("yields within 10 deg per primary: model (deviation from measured) per file")
    print("%-3s %6s %8s  %s" % ("Z", "depth", "measured", "  ".join("%-16s" % l for l in labels)))
    score = [0.0] * len(runs)
    for Z in sorted(NAMES):
        for nominal in NOMINAL:
            x, y = min(yields[Z], key=lambda p: abs(p[0] - nominal))
            cells = []
            for k, r in enumerate(runs):
                m = r["yield"](Z, x)
                cells.append("%.4f (%+5.0f%%)  " % (m, 100 * (m / y - 1)))
                score[k] += abs(m / y - 1)
            print("%-3s %6.2f %8.4f  %s" % (NAMES[Z], x, y, "".join(cells)))
    print("mean |deviation| of the 30 yields: " + "  ".join("%.1f%%" % (100 * s / 30) for s in score))
    zc = [p[0] for p in curve]
    dc = [p[1] for p in curve]
    print("plateau (dose / dose at 2.2 cm):")
    for x in PLATEAU:
        meas = interp(zc, dc, x) / dc[0]
        print("    %5.1f cm  measured %.3f  model %s" % (x, meas, "  ".join("%.3f" % r["plateau"](x) for r in runs)))
    tail, pe = measured_tail(curve)
    print("peak/entrance  measured %.3f  model %s" % (pe, "  ".join("%.3f" % r["pe"] for r in runs)))
    print("tail/peak      measured %.4f model %s" % (tail, "  ".join("%.4f" % r["tail"] for r in runs)))


if __name__ == "__main__":
    main()
