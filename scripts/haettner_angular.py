#!/usr/bin/env python3
"""haettner_angular.py - compares the angular distributions of C-12 fragments behind water layers
in bragg's phase space with the GSI measurement (Haettner et al. 2013, digitised in
assets/measurements/haettner-2013-c12-400-water-angular.tsv).

    for d in 5.9 15.9 31.2 34.7; do
        bragg run --ion C-12 --energy 400 --material water -n 40000 --seed 1 --depth 36 \\
            --phase-space-depth $d --phase-space ps$d.mcpl -q
    done
    scripts/haettner_angular.py 40000 5.9=ps5.9.mcpl 15.9=ps15.9.mcpl 31.2=ps31.2.mcpl \\
        34.7=ps34.7.mcpl

The first argument is the number of histories of the runs. For each measured depth and charge it
prints, at each measured angle, bragg's fragments per primary per sr (crossings of the plane
going forwards, within +-0.5 degrees of the angle; 0-0.75 degrees for the axis) beside the
measured value, and both distributions' shape: the value over the one at 0 degrees. The digitised
files' normalisation is not consistent with the yields everywhere (the asset's header), so the
shapes are the comparison to read. Reads the phase space through `mcpltool` (Debian package
mcpl); otherwise only the standard library.
"""
import math
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ASSET = os.path.join(HERE, "..", "assets", "measurements",
                     "haettner-2013-c12-400-water-angular.tsv")


def measured():
    """{(depth, Z): [(angle, value), ...]} from the asset, by rising angle (0 for the axis)."""
    out = {}
    with open(ASSET) as f:
        for line in f:
            if not line.strip() or line.startswith("#"):
                continue
            depth, z, angle, value = (float(c) for c in line.split())
            out.setdefault((depth, int(z)), []).append((max(angle, 0.0), value))
    return {k: sorted(v) for k, v in out.items()}


def crossings(path):
    """(Z, angle in degrees) of every forward crossing in an MCPL file of bragg's."""
    text = subprocess.run(["mcpltool", "-n", "-l0", path], capture_output=True, text=True,
                          check=True).stdout
    out = []
    for line in text.splitlines():
        t = line.split()
        if len(t) < 11 or not t[0].isdigit():
            continue
        pdg, uz = int(t[1]), float(t[8])
        z = 1 if pdg == 2212 else (pdg // 10000) % 1000 if pdg > 1000000000 else 0
        if z and uz > 0:
            out.append((z, math.degrees(math.acos(min(1.0, uz)))))
    return out


def per_sr(parts, z, angle, histories):
    lo, hi = (0.0, 0.75) if angle < 0.5 else (angle - 0.5, angle + 0.5)
    n = sum(1 for q, a in parts if q == z and lo <= a < hi)
    solid = 2 * math.pi * (math.cos(math.radians(lo)) - math.cos(math.radians(hi)))
    return n / histories / solid


def main():
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    histories = int(float(sys.argv[1]))
    data = measured()
    names = {1: "H", 2: "He", 3: "Li", 4: "Be", 5: "B"}
    for arg in sys.argv[2:]:
        depth, path = arg.split("=", 1)
        depth = float(depth)
        parts = crossings(path)
        for z in range(1, 6):
            points = data.get((depth, z))
            if not points:
                continue
            axis_m = points[0][1]
            axis_b = per_sr(parts, z, 0.0, histories)
            print("%s at %g cm: angle  bragg / measured (1/sr)  shape: bragg / measured" %
                  (names[z], depth))
            for angle, value in points:
                b = per_sr(parts, z, angle, histories)
                print("  %5.2f deg  %8.3f / %8.3f  %6.3f / %6.3f" %
                      (angle, b, value, b / axis_b if axis_b else float("nan"), value / axis_m))


if __name__ == "__main__":
    main()
