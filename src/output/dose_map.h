/*
 * dose_map.h - a run's dose map (physics/transport.h, score_result.map) as a grid of depth x
 * lateral cells, its NRRD file, and lateral profiles at chosen depths.
 *
 * What it is for: `bragg run --map FILE` writes the map as NRRD (teem's "nearly raw raster
 * data", http://teem.sourceforge.net/nrrd/format.html): a text header and the values as raw
 * little-endian doubles, which 3D Slicer, ParaView, ITK and numpy read. The header puts the map
 * in space as a 3-D image of n_lat x 1 x n_depth voxels (bragg's x, y, z taken as the named
 * space's first, second and third axes, in mm as 3D Slicer expects), and carries bragg's own
 * keys ("bragg_map:=rz", the units, the run) as key:=value lines. `bragg plot --kind map` and
 * `--kind profile-at` read the file back with dose_map_read_nrrd; the JSON (report.c) and the
 * workbench take the same view of a live result with dose_map_from_result, so profiles come
 * from one function whatever the source.
 *
 * Values: MAP_RZ dose in Gy per primary (the energy in a ring over its mass); MAP_XZ dose
 * integrated over y, Gy cm per primary. `bragg run --map-error FILE` writes each cell's
 * standard error in the same units and grid (bragg_quantity "standard error of the dose ...";
 * is_error set when read back). The laterally integrated dose beyond the grid is not
 * in the file (its unit differs): the run's JSON has it per depth (map.beyond_grid_Gy_cm2).
 *
 * Memory: a dose_map from dose_map_read_nrrd owns its values (dose_map_free); one from
 * dose_map_from_result points into the score_result, which must outlive it. Any thread may use
 * its own maps; writing goes through src/output/atomic_file.h.
 */
#ifndef BRAGG_DOSE_MAP_H
#define BRAGG_DOSE_MAP_H

#include "engine.h"
#include "err.h"

/* What a map file says of the run that wrote it (the NRRD's bragg_ion, bragg_energy_MeV_u,
 * bragg_seed and bragg_histories keys), so that `bragg plot` can tell this run's map from
 * another's. NaN or "" for what is not known: a view of a live result, or a file written before
 * the key was. */
typedef struct dose_map_run {
    char ion[64];              /* room for run_config.ion (CONFIG_NAME_LEN) */
    double energy_MeV_u;
    double seed;               /* as the JSON holds it (a double) */
    double histories;          /* histories scored */
} dose_map_run;

typedef struct dose_map {
    int kind;                  /* MAP_RZ or MAP_XZ (physics/transport.h) */
    int n_lat, n_depth;        /* lateral bins inside the grid, depth bins */
    double lat_width;          /* cm */
    double lat_lo;             /* left edge of lateral bin 0, cm: 0 (RZ) or -radius (XZ) */
    double depth_width;        /* cm; depth bin i covers [i w, (i + 1) w) */
    const double *dose;        /* dose[i * n_lat + j], depth bin i, lateral bin j */
    int is_error;              /* 1: the values are the dose's standard errors */
    dose_map_run run;          /* dose_map_read_nrrd: what the file says of its run */
    double *owned;             /* what dose_map_free releases (NULL for a view) */
} dose_map;

/* The map of a result (r->map_kind != MAP_NONE), as a view into it. */
int dose_map_from_result(const score_result *r, dose_map *m, bragg_err *e);
/* The same for its standard errors (the run kept its map per batch: --map-error). */
int dose_map_error_from_result(const score_result *r, dose_map *m, bragg_err *e);
void dose_map_free(dose_map *m);

/* "Gy per primary" (RZ) or "Gy cm per primary" (XZ), and the short unit for axes ("Gy",
 * "Gy cm"). */
const char *dose_map_unit(int kind);
const char *dose_map_axis_unit(int kind);
/* What the values are: "dose", "dose integrated over y", or the standard error of either. */
const char *dose_map_quantity(const dose_map *m);
/* "rz" or "xz"; dose_map_kind_parse takes the same words. */
const char *dose_map_kind_name(int kind);
int dose_map_kind_parse(const char *text, int *kind, bragg_err *e);

/* How far from the axis the dose a view of the map shows reaches (cm; XZ: either side): the
 * outer edge of the farthest lateral bin holding, at some depth, a dose over `floor_fraction`
 * of the map's largest; the grid's extent when the map holds no dose. An automatic grid has
 * room for the halo (a third of the range), which a colour scale of a few decades does not
 * show: the workbench's map view and `bragg plot --kind map` end at the next nice number past
 * this (axis_nice_number), at most the grid's extent (dose_map_extent). */
double dose_map_reach(const dose_map *m, double floor_fraction);
/* The grid's lateral extent from the axis, cm (XZ: either side). */
double dose_map_extent(const dose_map *m);

/* Centre of lateral bin j, cm. */
double dose_map_lateral(const dose_map *m, int j);
/* The depth bin holding `depth_cm`, or -1 when it is outside the map. */
int dose_map_depth_bin(const dose_map *m, double depth_cm);

/* Writes the run's map (error 0) or its standard errors (error 1) as NRRD to `path`
 * (atomically; "-" is standard output); `c` is the run's configuration (engine_config), for the
 * header's description. `what` names the option in messages ("--map"). */
int dose_map_write_nrrd(const run_config *c, const run_snapshot *snap, const char *path,
                        const char *what, int error, bragg_err *e);
/* Reads a map that dose_map_write_nrrd wrote: its bragg keys and sizes must be there, the
 * data whole. Messages name the file. */
int dose_map_read_nrrd(const char *path, dose_map *m, bragg_err *e);

#endif
