#!/usr/bin/env python3
"""nrrd_check.py MAP.nrrd RUN.json [ERR.nrrd] - reads a dose map as any NRRD reader would and checks
it against the run's JSON. An independent reader: it knows the NRRD format
(http://teem.sourceforge.net/nrrd/format.html), numpy and the JSON, not bragg's C code.

Checks: the magic line; the header's fields (type double, encoding raw, little endian, three
axes of sizes lateral x 1 x depth, space directions in mm matching the JSON's bins); exactly
as many bytes after the blank line as the sizes say; and, for every depth, that the map's
lateral integral plus the dose beyond the grid is the run's depth-dose curve:
    RZ: sum_j dose[j] * pi * (r_{j+1}^2 - r_j^2) + beyond = dose_Gy_cm2
    XZ: sum_j dose[j] * dx                         + beyond = dose_Gy_cm2
to 1e-12 of the curve's maximum (the file holds doubles computed from the same integers).
With ERR.nrrd (bragg run --map-error): the same header and grid as the map, its quantity a
standard error, every value finite and >= 0 where the map has dose and 0 where it has none,
and the rows at the JSON's profile depths equal to their dose_err arrays (to 1e-14: the JSON's
numbers are printed in 15 digits where they read back closely enough).
Prints one line and exits 0 when all holds, else names what failed and exits 1."""
import json
import math
import os
import sys

import numpy


def fail(msg):
    print("nrrd_check: " + msg)
    sys.exit(1)


def read_nrrd(path):
    with open(path, "rb") as f:
        data = f.read()
    magic_end = data.index(b"\n")
    if not data[:magic_end].startswith(b"NRRD000"):
        fail("%s: no NRRD magic line" % path)
    fields, keys, pos = {}, {}, magic_end + 1
    while True:
        end = data.index(b"\n", pos)
        line = data[pos:end].decode("ascii")
        pos = end + 1
        if line == "":
            break  # the blank line ends the header; the data follows
        if line.startswith("#"):
            continue
        if ":=" in line:
            k, v = line.split(":=", 1)
            keys[k] = v
        else:
            k, v = line.split(": ", 1)
            fields[k] = v
    return fields, keys, data[pos:]


def vectors(text):
    return [[float(x) for x in v.strip("()").split(",")] for v in text.split()]


def main():
    nrrd_path, json_path = sys.argv[1], sys.argv[2]
    fields, keys, raw = read_nrrd(nrrd_path)
    run = json.load(open(json_path))
    m = run["map"]
    for field, want in (("type", "double"), ("encoding", "raw"), ("endian", "little"),
                        ("dimension", "3")):
        if fields.get(field) != want:
            fail("%s is %r, want %r" % (field, fields.get(field), want))
    sizes = [int(s) for s in fields["sizes"].split()]
    if sizes != [m["lateral_bins"], 1, m["depth_bins"]]:
        fail("sizes %s, the JSON says %d x 1 x %d" % (sizes, m["lateral_bins"], m["depth_bins"]))
    if len(raw) != 8 * sizes[0] * sizes[1] * sizes[2]:
        fail("%d bytes of data for %s doubles" % (len(raw), sizes))
    dirs = vectors(fields["space directions"])
    if not (math.isclose(dirs[0][0], 10 * m["lateral_bin_cm"]) and
            math.isclose(dirs[2][2], 10 * m["depth_bin_cm"])):
        fail("space directions %s do not match the JSON's bins" % dirs)
    if keys.get("bragg_map") != m["kind"]:
        fail("bragg_map is %r, the JSON says %r" % (keys.get("bragg_map"), m["kind"]))
    # NRRD's first axis varies fastest: C order (depth, 1, lateral).
    dose = numpy.frombuffer(raw, dtype="<f8").reshape(sizes[2], sizes[1], sizes[0])[:, 0, :]
    w = m["lateral_bin_cm"]
    j = numpy.arange(sizes[0])
    size = math.pi * w * w * (2 * j + 1) if m["kind"] == "rz" else numpy.full(sizes[0], w)
    beyond = numpy.array(m["beyond_grid_Gy_cm2"], dtype=float)
    curve = numpy.array([numpy.nan if v is None else v
                         for v in run["depth_curves"]["dose_Gy_cm2"]], dtype=float)
    integral = dose @ size + beyond
    worst = numpy.nanmax(numpy.abs(integral - curve)) / numpy.nanmax(curve)
    if not worst < 1e-12:
        fail("the map's lateral integral differs from the depth-dose by %.3g of its maximum"
             % worst)
    print("nrrd_check: %s: %d x %d doses, lateral integral = depth-dose to %.1e (volume "
          "integral %.6e Gy cm^3 per primary)"
          % (os.path.basename(nrrd_path), sizes[0], sizes[2], worst,
             float(numpy.sum(integral)) * m["depth_bin_cm"]))
    if len(sys.argv) > 3:
        check_errors(sys.argv[3], fields, m, dose)


def check_errors(path, map_fields, m, dose):
    fields, keys, raw = read_nrrd(path)
    for field in ("type", "encoding", "endian", "dimension", "sizes", "space directions",
                  "space origin"):
        if fields.get(field) != map_fields.get(field):
            fail("%s: %s is %r, the map's %r" % (path, field, fields.get(field),
                                                 map_fields.get(field)))
    if not keys.get("bragg_quantity", "").startswith("standard error"):
        fail("%s: bragg_quantity is %r, not a standard error" % (path, keys.get("bragg_quantity")))
    if len(raw) != 8 * dose.size:
        fail("%s: %d bytes of data for %d doubles" % (path, len(raw), dose.size))
    err = numpy.frombuffer(raw, dtype="<f8").reshape(dose.shape)
    if not (numpy.all(numpy.isfinite(err)) and numpy.all(err >= 0)):
        fail("%s: errors that are negative or not finite" % path)
    if numpy.any(err[dose == 0] != 0):
        fail("%s: a cell without dose has an error" % path)
    compared = 0
    for p in m["profiles"]:
        i = int(round(p["bin_from_cm"] / m["depth_bin_cm"]))
        want = numpy.array(p["dose_err"], dtype=float)
        # cJSON prints a double in 15 digits where that reads back within its own tolerance
        if not numpy.allclose(err[i], want, rtol=1e-14, atol=0):
            fail("%s: the row at %g cm differs from the JSON's dose_err" % (path, p["depth_cm"]))
        compared += 1
    rel = err[dose > 0] / dose[dose > 0]
    print("nrrd_check: %s: %d standard errors, median relative error %.3g, %d profile rows equal "
          "the JSON's" % (os.path.basename(path), err.size, float(numpy.median(rel)), compared))


if __name__ == "__main__":
    main()
