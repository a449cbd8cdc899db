/*
 * config.h - the configuration of a run: beam, geometry, physics switches, scoring, backend.
 *
 * run_config is a plain value: the CLI and the TUI fill it from user input, config_validate
 * checks every field against its valid range (one clear message naming the field), and the
 * engine copies it. Names of the ion, the materials and the backend are kept as text; they are
 * resolved against the catalog by config_validate. Any thread may use its own run_config.
 */
#ifndef BRAGG_CONFIG_H
#define BRAGG_CONFIG_H

#include <stdint.h>

#include "catalog.h"
#include "err.h"
#include "stopping.h"
#include "transport.h"

#define CONFIG_NAME_LEN 48

typedef struct slab_config {
    char material[CONFIG_NAME_LEN];
    double thickness_cm;      /* INFINITY: semi-infinite (last slab only) */
} slab_config;

typedef struct run_config {
    /* beam */
    char ion[CONFIG_NAME_LEN];
    double energy;            /* MeV/u */
    double energy_spread;     /* relative sigma (the CLI takes percent) */
    double spot_sigma_cm;     /* the CLI takes mm */
    double divergence_rad;    /* the CLI takes mrad */
    uint64_t histories;
    uint64_t seed;
    /* geometry: slabs along +z from z = 0 */
    int n_slabs;
    slab_config slabs[TRANSPORT_MAX_SLABS];
    double lateral_halfwidth_cm;   /* INFINITY by default */
    /* physics */
    double iwater;            /* 75 or 78 eV */
    stopping_switches stopping;
    int straggling, scattering, nuclear;
    double step_fraction;     /* of the residual range */
    double step_min_cm;
    double step_fraction_secondary;   /* the same for nuclear secondaries */
    double step_min_secondary_cm;
    double energy_cut;        /* MeV/u; 0: automatic (engine_energy_cut) */
    /* scoring */
    double bin_width_cm;      /* 0: automatic (config_bin_width) */
    double depth_max_cm;      /* 0: automatic (range + margin) */
    int batches;
    /* dose map (physics/transport.h): MAP_NONE (the default) scores none */
    int map_kind;             /* enum map_kind */
    double map_bin_cm;        /* lateral bin width; 0: automatic (config_map_grid) */
    double map_radius_cm;     /* the grid's extent: r or |x| below it; the last lateral bin
                                 collects everything beyond; 0: automatic */
    int map_errors;           /* 1: keep the map per batch for each cell's standard error
                                 (--map-error); costs `batches` times the map's memory */
    /* phase space: > 0 records every crossing of the plane z = phase_space_depth_cm (CPU
     * backends); 0 (the default) none */
    double phase_space_depth_cm;
    /* biology (physics/biology.h): model "" for none, "mkm" (scores z1D* for the cell line's
     * MKM) or a row of assets/rbe_models.tsv; cell line "" for HSG; the tissue's
     * (alpha/beta)_x in Gy, 0 for the cell line's own; the physical dose per bin at which
     * survival and RBE are reported, Gy. */
    char bio_model[CONFIG_NAME_LEN];
    char bio_cell[CONFIG_NAME_LEN];
    double bio_alpha_beta;
    double bio_dose;
    /* execution */
    char backend[16];         /* serial | openmp | event | cuda */
    int threads;              /* 0: all cores */
    int profile;              /* time the step components on a sample of histories */
} run_config;

/* Defaults: a semi-infinite water block, 100 000 histories of C-12 at 400 MeV/u, OpenMP on all
 * cores, straggling and scattering on. */
void config_default(run_config *c);

/* Checks every field; resolves names against `cat`. On error the message starts with the
 * run key at fault (src/engine/run_file.h: "spot: 150 is out of range (valid: 0 to 100 mm)",
 * the ranges of run_keys, in the keys' units) and gives its valid values. Besides the ranges:
 * the energy above the cut-off, a scoring depth of 10 bins or more, histories at least the
 * batches, the map's grid inside the slabs, and no setting of a map (map-bin, map-radius)
 * without a map kind or of a biological model (cell, alpha-beta, bio-dose) without a model:
 * such a setting would silently do nothing. */
int config_validate(const run_config *c, const catalog *cat, bragg_err *e);
/* config_validate, also setting *key to the name of the run key at fault (NULL when none is:
 * map_errors without a map). */
int config_validate_key(const run_config *c, const catalog *cat, const char **key, bragg_err *e);

/* Back to their defaults: the settings of the biological model (model, cell, alpha-beta,
 * bio-dose) and of the dose map (kind none, bin and radius automatic), which config_validate
 * refuses without a model or a map: what a setup does when the model or the map goes. */
void config_drop_bio(run_config *c);
void config_drop_map(run_config *c);

/* The lowest cut-off energy (MeV/u), given or automatic. */
#define CONFIG_ENERGY_CUT_MIN 0.002

/* The automatic depth grid holds at most this many bins, and a range at least
 * CONFIG_AUTO_RANGE_BINS of them where bins of 1 um allow it (config_bin_width). */
#define CONFIG_AUTO_BINS 5000
#define CONFIG_AUTO_RANGE_BINS 100

/* The depth bin width of a grid `depth_cm` deep for a beam whose CSDA depth is `range_cm` (0:
 * not known yet): the one given, or for bin_width_cm 0 the automatic one, 0.1 mm; or the
 * widest of 50, 20, 10, ... 1 um under which the range spans CONFIG_AUTO_RANGE_BINS bins;
 * and then, should the grid need more than CONFIG_AUTO_BINS bins, the first of 0.2, 0.5, 1,
 * 2, 5 mm, 1 cm, ... that fits. */
double config_bin_width(const run_config *c, double depth_cm, double range_cm);

/* The dose map's lateral grid for a beam whose CSDA depth is `range_cm` on a grid `depth_cm`
 * deep: the bin width and radius given, or for 0 the automatic ones. The radius: the first of
 * 0.2, 0.5, 1, 2, 5 mm, ... 10 m over a third of the range and over 4 sigma of the beam's
 * spot and divergence; the bin: a CONFIG_MAP_RINGS-th of the radius, at least
 * CONFIG_MAP_BIN_MIN. */
#define CONFIG_MAP_RINGS 200
#define CONFIG_MAP_BIN_MIN 1e-4
#define CONFIG_MAP_MAX_BINS 4096
void config_map_grid(const run_config *c, double range_cm, double depth_cm, double *bin_cm,
                     double *radius_cm);
/* The lateral bins inside a grid of that width and radius (MAP_XZ: both sides of the axis). */
int config_map_lateral_bins(int map_kind, double bin_cm, double radius_cm);

/* Parses "material:thickness_cm" (thickness "inf" allowed for the last slab) and appends it. */
int config_add_slab(run_config *c, const char *spec, bragg_err *e);

/* Human-readable slab stack, e.g. "water" or "water 5 cm | bone-cortical-icrp 2 cm | water". */
void config_describe_geometry(const run_config *c, char *out, size_t len);

#endif
