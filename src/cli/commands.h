/*
 * commands.h - the bragg subcommands and what they share.
 *
 * Each cmd_* takes the words after the subcommand name and returns the process exit status:
 * 0 ok, 1 run-time failure, 2 usage or bad input. Main thread only.
 */
#ifndef BRAGG_COMMANDS_H
#define BRAGG_COMMANDS_H

#include "catalog.h"
#include "config.h"
#include "plot.h"
#include "stopping.h"

#define EXIT_OK      0
#define EXIT_RUNTIME 1
#define EXIT_USAGE   2

/* What LET_d and LET_t mean, for the --help of the commands that write or draw them (the
 * README says the same). Matches physics/transport.h (score_step, score_point) and
 * src/engine/score.c. */
#define LET_DEFINITIONS                                                                          \
    "LET_d (let_d_keV_um) is the dose-averaged LET: the unrestricted electronic stopping\n"      \
    "power (keV/um, in the material at that depth, at the energy of each deposit) of every\n"    \
    "transported charged particle, primaries and projectile fragments alike, weighted by the\n"  \
    "energy each deposits in the bin. The on-the-spot deposits of nuclear reactions (target\n"   \
    "fragments, not transported) count in that dose with LET 0. LET_t (let_t_keV_um) is the\n"  \
    "track-averaged LET: the same stopping power weighted by track length, over the same\n"    \
    "particles. Unrestricted: no delta rays are transported, all energy lost stays local.\n"

/* Options every physics command takes: projectile, material and physics switches. */
typedef struct physics_options {
    const char *ion;
    const char *material;
    double iwater;
    stopping_switches stopping;
} physics_options;

void physics_options_default(physics_options *p);

/* The cell line or tissue of the biological models (run, sobp; physics/biology.h). */
typedef struct tissue_options {
    const char *cell;
    double alpha_beta;     /* 0: the cell line's own */
} tissue_options;

#define TISSUE_OPTION_SPECS(t)                                                                   \
    {"cell", 0, OPTION_STRING, &(t)->cell, 0, 0, "NAME",                                         \
     "cell line of the biological model: HSG (default; assets/cell_lines.tsv)", 0},             \
    {"alpha-beta", 0, OPTION_DOUBLE, &(t)->alpha_beta, 0.5, 50, "GY",                            \
     "tissue (alpha/beta)x of the reference photons (default: the cell line's, HSG 5.09)", 0}

/* Entries for an option_spec table (see options.h), in this order. */
#define PHYSICS_OPTION_SPECS(p)                                                                  \
    {"ion", 'i', OPTION_STRING, &(p)->ion, 0, 0, "NAME",                                         \
     "projectile: p, d, t, He-3, He-4, ..., C-12, O-16, ... (assets/ions.tsv)", 0},              \
    {"material", 'm', OPTION_STRING, &(p)->material, 0, 0, "NAME",                               \
     "material: water, air, pmma, bone (= bone-cortical-icrp), ... (assets/materials.tsv)", 0}, \
    {"iwater", 0, OPTION_DOUBLE, &(p)->iwater, 75, 78, "EV",                                     \
     "water I-value: 75 (ICRU 49, NIST; default) or 78 (ICRU 90)", 0},                           \
    {"no-shell", 0, OPTION_CLEAR, &(p)->stopping.shell, 0, 0, 0,                                 \
     "stopping: drop the shell correction", 0},                                                  \
    {"no-barkas", 0, OPTION_CLEAR, &(p)->stopping.barkas, 0, 0, 0,                               \
     "stopping: drop the Barkas (z^3) term", 0},                                                 \
    {"no-bloch", 0, OPTION_CLEAR, &(p)->stopping.bloch, 0, 0, 0,                                 \
     "stopping: drop the Bloch (z^4) term", 0},                                                  \
    {"no-mott", 0, OPTION_CLEAR, &(p)->stopping.mott, 0, 0, 0,                                   \
     "stopping: drop the Mott term", 0},                                                         \
    {"no-density-effect", 0, OPTION_CLEAR, &(p)->stopping.density_effect, 0, 0, 0,               \
     "stopping: drop the density-effect correction", 0},                                         \
    {"no-effective-charge", 0, OPTION_CLEAR, &(p)->stopping.effective_charge, 0, 0, 0,           \
     "stopping: treat the ion as bare at all speeds", 0},                                        \
    {"no-nuclear-stopping", 0, OPTION_CLEAR, &(p)->stopping.nuclear, 0, 0, 0,                    \
     "stopping: drop elastic nuclear stopping", 0}

/* --png, --svg and --pdf: where a command's figure goes (plot.h), one entry each in an
 * option_spec table. `png_letter` is the short form of --png (or 0); `what` names the figure
 * ("the depth-dose figure"). */
#define FIGURE_OUTPUT_SPECS(o, png_letter, what)                                                 \
    {"png", png_letter, OPTION_STRING, &(o)->path[PLOT_FORMAT_PNG], 0, 0, "FILE",                \
     "write " what " as a PNG (text chunks: the configuration that made it)", 0},                \
    {"svg", 0, OPTION_STRING, &(o)->path[PLOT_FORMAT_SVG], 0, 0, "FILE",                          \
     "write " what " as an SVG (vector; <metadata>: the same)", 0},                              \
    {"pdf", 0, OPTION_STRING, &(o)->path[PLOT_FORMAT_PDF], 0, 0, "FILE",                          \
     "write " what " as a PDF (vector; document information: the same)", 0}

/* Loads the catalog and resolves ion and material; messages name the option. */
int physics_options_resolve(const physics_options *p, catalog *cat, const ion **ion,
                            const material **mat, bragg_err *e);

int cmd_tables(int argc, char **argv);
int cmd_run(int argc, char **argv);
/* cmd_run with the histories run by `driver` (NULL: the engine's own thread). */
struct run_driver;
int cmd_run_with(int argc, char **argv, struct run_driver *driver);
/* Reads a run file as `bragg run --config FILE` does (every key bragg run takes; its outputs
 * are read and not used) into *cfg, for the workbench. */
int cmd_run_read_config(const char *path, run_config *cfg, bragg_err *e);
int cmd_bench(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_sobp(int argc, char **argv);
/* cmd_sobp with every pristine run done by `driver` (NULL: on this process). */
int cmd_sobp_with(int argc, char **argv, struct run_driver *driver);

#endif
