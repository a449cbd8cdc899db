/* config.c - see config.h. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assets.h"
#include "run_file.h"
#include "tables.h"

void config_default(run_config *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->ion, sizeof c->ion, "C-12");
    c->energy = 400.0;
    c->histories = 100000;
    c->seed = 1;
    c->n_slabs = 1;
    snprintf(c->slabs[0].material, sizeof c->slabs[0].material, "water");
    c->slabs[0].thickness_cm = INFINITY;
    c->lateral_halfwidth_cm = INFINITY;
    c->iwater = 75.0;
    c->stopping = stopping_switches_all();
    c->straggling = 1;
    c->scattering = 1;
    c->nuclear = 1;
    /* 12% of the residual range per step, at least half a depth bin or a 300th of the CSDA
     * depth (engine.c, step_min 0 = automatic); secondaries 30%, at least 1 mm
     * (their dose and LET_d converged there: docs/physics.md, "Secondary step size"; with the
     * steps' exact mean LET the LET_d no longer needs short last steps). The convergence
     * study in docs/physics.md (sections 3 and 4: four seeds, 1% to 20% steps) shows peak
     * depth, R80, the distal falloff, peak/entrance, the tail and the lateral spread the same
     * as at 1% steps within their statistical errors, since the deposit rises linearly along a
     * step and the displacement follows the scattering power's rise (physics/transport.h);
     * at 20% primary steps the proton R80 and spread begin to move (+0.03 mm, +0.3%). */
    c->step_fraction = STEP_FRACTION_DEFAULT;   /* 0.12, physics/tables.h */
    c->step_min_cm = 0.0;   /* automatic: engine_step_min */
    c->step_fraction_secondary = 0.3;
    c->step_min_secondary_cm = 0.1;
    c->energy_cut = 0.0;   /* automatic: the engine's energy_cut (src/engine/engine.c) */
    c->bin_width_cm = 0.0;   /* automatic: config_bin_width */
    c->depth_max_cm = 0.0;
    c->batches = 20;
    c->map_kind = MAP_NONE;
    c->map_bin_cm = 0.0;      /* automatic: config_map_grid */
    c->map_radius_cm = 0.0;
    c->phase_space_depth_cm = 0.0;
    c->bio_dose = 2.0;
    snprintf(c->backend, sizeof c->backend, "openmp");
    c->threads = 0;
}

double config_bin_width(const run_config *c, double depth_cm, double range_cm)
{
    if (c->bin_width_cm > 0.0) return c->bin_width_cm;
    /* 0.1 mm resolves the distal falloff of beams a few mm deep and more. A shorter range takes
     * bins of a hundredth of it, down to 1 um (the finest --bin): in 0.1 mm bins p 1 MeV (CSDA
     * range 25 um) reported R80 70 um and a falloff of 0.06 mm, with no error, and p 10 MeV's
     * 1.2 mm range was 12 bins. A deeper grid (p 100 MeV in air: 83 m, 834 000 bins of 0.1 mm
     * and a 237 MB JSON) takes the 1-2-5 step whose grid holds CONFIG_AUTO_BINS bins at most.
     * Those bins are at most 2.5 x 1.15 R / 5000, 0.06% of the range R (the grid is R + 15% +
     * 5 mm), against distal 80-20 falloffs of 0.5% of R for C-12 400 MeV/u in water (1.36 mm
     * of 27.4 cm) and 1.5% for p 100 MeV in air. */
    static const double widths_cm[] = {1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 0.01, 0.02,
                                       0.05, 0.1,  0.2,  0.5,  1.0,  2.0,  5.0,  10.0};
    int n = (int)(sizeof widths_cm / sizeof *widths_cm), i = 6;   /* 0.1 mm */
    while (i > 0 && range_cm > 0.0 && range_cm / widths_cm[i] < CONFIG_AUTO_RANGE_BINS) i--;
    while (i < n - 1 && depth_cm / widths_cm[i] > CONFIG_AUTO_BINS + 1e-9) i++;
    return widths_cm[i];
}

void config_map_grid(const run_config *c, double range_cm, double depth_cm, double *bin_cm,
                     double *radius_cm)
{
    double radius = c->map_radius_cm;
    if (!(radius > 0.0)) {
        /* The map must hold the nuclear halo, whose radius is about a third of the range
         * (Gottschalk et al., Phys. Med. Biol. 60 (2015) 5627, for protons; ions' fragments go
         * more forward), and the beam itself: 4 sigma of its spot and divergence at the grid's
         * end leave 3e-4 of a Gaussian's rings outside. The next radius up of 0.2, 0.5, 1, 2,
         * 5 mm, 1 cm, ... 10 m: p 150 MeV in water (range 15.8 cm) gets 10 cm, p 100 MeV 5
         * cm, p 5 MeV (0.36 mm) 0.2 mm, where a fixed 5 cm put the whole beam in one ring. */
        static const double radii_cm[] = {0.02, 0.05, 0.1, 0.2, 0.5, 1,   2,   5,
                                          10,   20,   50,  100, 200, 500, 1000};
        int n = (int)(sizeof radii_cm / sizeof *radii_cm), i = 0;
        double beam = hypot(c->spot_sigma_cm, c->divergence_rad * depth_cm);
        double want = fmax(range_cm / 3.0, 4.0 * beam);
        while (i < n - 1 && radii_cm[i] < want) i++;
        radius = radii_cm[i];
        /* Rings or columns beyond the slabs' lateral half-width would be partly outside the
         * material, their dose read over a mass that is not there: the grid ends inside, a
         * whole number of given bins wide, and the rest goes to the bin beyond. */
        if (radius > c->lateral_halfwidth_cm) radius = c->lateral_halfwidth_cm;
        if (c->map_bin_cm > 0.0)
            radius = fmax(floor(radius / c->map_bin_cm + 1e-9), 1.0) * c->map_bin_cm;
    }
    /* CONFIG_MAP_RINGS across the radius: 0.5 mm for 10 cm, six rings across the sigma of a
     * 150 MeV proton pencil beam at 0.9 of its range (2.9 mm, docs/physics.md's table of the
     * lateral spread), 1.8% of the range as at any energy. */
    double bin = c->map_bin_cm > 0.0 ? c->map_bin_cm : radius / CONFIG_MAP_RINGS;
    *bin_cm = fmax(bin, CONFIG_MAP_BIN_MIN);
    *radius_cm = radius;
}

int config_map_lateral_bins(int map_kind, double bin_cm, double radius_cm)
{
    double span = (map_kind == MAP_XZ ? 2.0 : 1.0) * radius_cm;
    double bins = ceil(span / bin_cm - 1e-9);
    return bins < 1e9 ? (int)bins : 1000000000;
}

int config_add_slab(run_config *c, const char *spec, bragg_err *e)
{
    if (c->n_slabs >= TRANSPORT_MAX_SLABS)
        return bragg_fail(e, "at most %d slabs", TRANSPORT_MAX_SLABS);
    /* Material names hold no colon: a second one is a malformed spec, not part of a name. */
    const char *colon = strchr(spec, ':');
    if (!colon || colon == spec || strchr(colon + 1, ':'))
        return bragg_fail(e, "%s is not material:thickness_cm (e.g. water:5, bone:2)",
                          BRAGG_QUOTED(spec));
    size_t len = (size_t)(colon - spec);
    if (len >= CONFIG_NAME_LEN) return bragg_fail(e, "material name too long");
    /* Said here, on the slab that follows (its line in a run file), not once the stack is
     * whole. */
    if (c->n_slabs > 0 && isinf(c->slabs[c->n_slabs - 1].thickness_cm))
        return bragg_fail(e, "slab %d is semi-infinite, and only the last slab may be (valid: "
                             "a thickness for it, or no slab after it)", c->n_slabs);
    slab_config *s = &c->slabs[c->n_slabs];
    memcpy(s->material, spec, len);
    s->material[len] = '\0';
    if (strcmp(colon + 1, "inf") == 0) {
        s->thickness_cm = INFINITY;
    } else if (parse_number(colon + 1, "slab thickness (cm)", 1e-6, 1e4, &s->thickness_cm, e)) {
        return BRAGG_ERR;
    }
    c->n_slabs++;
    return BRAGG_OK;
}

void config_drop_bio(run_config *c)
{
    run_config d;
    config_default(&d);
    memcpy(c->bio_model, d.bio_model, sizeof c->bio_model);
    memcpy(c->bio_cell, d.bio_cell, sizeof c->bio_cell);
    c->bio_alpha_beta = d.bio_alpha_beta;
    c->bio_dose = d.bio_dose;
}

void config_drop_map(run_config *c)
{
    run_config d;
    config_default(&d);
    c->map_kind = MAP_NONE;
    c->map_bin_cm = d.map_bin_cm;
    c->map_radius_cm = d.map_radius_cm;
}

/* Fails naming run key `name` (run_file.h) as the one at fault. */
#define KEY_FAIL(name, ...) (*key = (name), bragg_fail(e, __VA_ARGS__))

int config_validate_key(const run_config *c, const catalog *cat, const char **key, bragg_err *e)
{
    const char *ignored;
    if (!key) key = &ignored;
    *key = NULL;
    run_config d;
    config_default(&d);
    if (!ion_table_lookup(&cat->ions, c->ion, e)) {   /* its message names the ion */
        *key = "ion";
        return BRAGG_ERR;
    }
    /* Every range, as its key states it (src/engine/run_file.c: run_keys), in its key's
     * units; the energy's floor is the cut-off, which another key sets. */
    for (const run_key *k = run_keys; k->name; k++)
        if (run_key_check(k, c, e)) {
            *key = k->name;
            return bragg_fail_prefix(e, "%s: ", k->name);
        }
    if (c->n_slabs < 1) return KEY_FAIL("material", "material: no slab");
    /* One semi-infinite block is what material gives: no slab to number. */
    const char *geometry = c->n_slabs == 1 && isinf(c->slabs[0].thickness_cm) ? "material"
                                                                               : "slab";
    for (int i = 0; i < c->n_slabs; i++) {
        if (!material_table_lookup(&cat->materials, c->slabs[i].material, e)) {
            *key = geometry;
            return *geometry == 'm' ? BRAGG_ERR : bragg_fail_prefix(e, "slab %d: ", i + 1);
        }
        double th = c->slabs[i].thickness_cm;
        if (isinf(th) && i != c->n_slabs - 1)
            return KEY_FAIL(geometry, "slab %d: only the last slab may be semi-infinite", i + 1);
        if (!(th > 0.0))
            return KEY_FAIL(geometry, "slab %d: thickness %g cm must be > 0", i + 1, th);
    }
    if (!(c->lateral_halfwidth_cm > 0.0))
        return KEY_FAIL("lateral-halfwidth", "lateral-halfwidth: %g cm must be > 0 (or infinite)",
                        c->lateral_halfwidth_cm);
    /* A curve needs bins to be one: with fewer than ten the peak, its width and the range
     * figures cannot be read off it. */
    double width = config_bin_width(c, c->depth_max_cm, 0.0);
    if (c->depth_max_cm > 0 && c->depth_max_cm / width + 1e-9 < 10)
        return KEY_FAIL("depth", "depth: %g cm holds fewer than 10 bins of %g mm (valid: at "
                                 "least %g cm, or a finer bin)",
                        c->depth_max_cm, 10 * width, 10 * width);
    if (c->depth_max_cm > 0 && c->depth_max_cm / width > 1e6)
        return KEY_FAIL("depth", "depth: %g cm in bins of %g mm is %.0f bins, too many (valid: "
                                 "up to 1e6 bins; a wider bin or less depth)",
                        c->depth_max_cm, 10 * width, c->depth_max_cm / width);
    if ((uint64_t)c->batches > c->histories)
        return KEY_FAIL("histories", "histories: %llu is fewer than the %d batches the "
                                     "uncertainty needs (valid: at least %d, or fewer batches, "
                                     "down to 2)",
                        (unsigned long long)c->histories, c->batches, c->batches);
    /* Settings of a map mean nothing without one: given, they are a mistake (the map that was
     * meant is not scored), not something to ignore. */
    if (c->map_kind == MAP_NONE && c->map_bin_cm != d.map_bin_cm)
        return KEY_FAIL("map-bin", "map-bin: needs a dose map (--map FILE, or map-kind rz or xz)");
    if (c->map_kind == MAP_NONE && c->map_radius_cm != d.map_radius_cm)
        return KEY_FAIL("map-radius", "map-radius: needs a dose map (--map FILE, or map-kind rz "
                                      "or xz)");
    if (c->map_kind != MAP_NONE) {
        if (c->map_radius_cm > 0 && c->map_radius_cm < c->map_bin_cm)
            return KEY_FAIL("map-radius", "map-radius: %g cm is below the map bin, %g mm (valid: "
                                          "0 (automatic) or the map bin to 1000 cm)",
                            c->map_radius_cm, 10 * c->map_bin_cm);
        if (c->map_radius_cm > c->lateral_halfwidth_cm)
            return KEY_FAIL("map-radius", "map-radius: %g cm reaches beyond the slabs' lateral "
                                          "half-width (valid: up to %g cm; a ring or column "
                                          "outside the material has no mass to give a dose)",
                            c->map_radius_cm, c->lateral_halfwidth_cm);
        if (c->map_bin_cm > c->lateral_halfwidth_cm)
            return KEY_FAIL("map-bin", "map-bin: %g mm reaches beyond the slabs' lateral "
                                       "half-width (valid: up to %g mm; a ring or column outside "
                                       "the material has no mass to give a dose)",
                            10 * c->map_bin_cm, 10 * c->lateral_halfwidth_cm);
        /* With both given the grid is known now; an automatic one the engine checks. */
        if (c->map_bin_cm > 0 && c->map_radius_cm > 0) {
            int bins = config_map_lateral_bins(c->map_kind, c->map_bin_cm, c->map_radius_cm);
            if (bins > CONFIG_MAP_MAX_BINS)
                return KEY_FAIL("map-bin", "map-bin: %d lateral bins is too many (valid: up to "
                                           "%d; raise the map bin or lower the map radius)",
                                bins, CONFIG_MAP_MAX_BINS);
        }
    }
    if (c->map_errors && c->map_kind == MAP_NONE)
        return bragg_fail(e, "map errors: there is no dose map to give errors for (valid: with "
                             "a map, --map FILE or a map kind)");
    /* The same for the settings of a biological model (a saved run file carries the dose's
     * default whether it has a model or not). */
    if (!c->bio_model[0]) {
        const char *lone = c->bio_cell[0]                          ? "cell"
                           : c->bio_alpha_beta != d.bio_alpha_beta ? "alpha-beta"
                           : c->bio_dose != d.bio_dose             ? "bio-dose"
                                                                   : NULL;
        if (lone)
            return KEY_FAIL(lone, "%s: needs a biological model (--bio MODEL, or bio = MODEL in "
                                  "a run file)", lone);
    }
    return BRAGG_OK;
}

int config_validate(const run_config *c, const catalog *cat, bragg_err *e)
{
    return config_validate_key(c, cat, NULL, e);
}

void config_describe_geometry(const run_config *c, char *out, size_t len)
{
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < c->n_slabs && used < len; i++) {
        if (isinf(c->slabs[i].thickness_cm))
            used += (size_t)snprintf(out + used, len - used, "%s%s", i ? " | " : "",
                                     c->slabs[i].material);
        else
            used += (size_t)snprintf(out + used, len - used, "%s%s %g cm", i ? " | " : "",
                                     c->slabs[i].material, c->slabs[i].thickness_cm);
    }
}
