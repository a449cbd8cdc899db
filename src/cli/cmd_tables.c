/*
 * cmd_tables.c - `bragg tables`: stopping power and CSDA range of an ion in a material, from the
 * very tables the transport uses.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic_file.h"
#include "commands.h"
#include "figures.h"
#include "interrupt.h"
#include "ion.h"
#include "options.h"
#include "tables.h"

static void usage(FILE *out, const option_spec *specs)
{
    fprintf(out,
            "usage: bragg tables --ion NAME --material NAME [options]\n\n"
            "Prints, for energies per nucleon from --emin to --emax (log-spaced), the electronic\n"
            "and nuclear mass stopping power, the electronic stopping power in keV/um (LET), the\n"
            "CSDA range, the cross-section per gram of what the transport draws as nuclear\n"
            "events with its mean free path (for protons the non-elastic reactions and the\n"
            "elastic scattering on hydrogen and, at large angles, on nuclei; no path, an empty\n"
            "CSV cell and '-' in the table, where nothing reacts), and the non-elastic\n"
            "reactions' part of it. Values come from the tables the transport engine uses.\n"
            "--png, --svg and --pdf draw the stopping power and CSDA range against energy\n"
            "(log-log).\n\n"
            "options:\n");
    option_print_help(out, specs);
    fprintf(out, "\nexit status: 0 ok, 1 run-time failure (an output that cannot be written), "
                 "2 bad input, 130 interrupted\n");
}

int cmd_tables(int argc, char **argv)
{
    physics_options phys;
    physics_options_default(&phys);
    double emin = 1.0, emax = NAN;   /* NAN: not given, 500 */
    int points = 50;
    const char *csv = NULL;
    plot_outputs figs = {{0}};
    plot_style style;
    plot_style_default(&style);
    const option_spec specs[] = {
        PHYSICS_OPTION_SPECS(&phys),
        {"emin", 0, OPTION_DOUBLE, &emin, USER_T_MIN, USER_T_MAX, "MEV_U",
         "lowest energy per nucleon (default 1)", 0},
        {"emax", 0, OPTION_DOUBLE, &emax, USER_T_MIN, USER_T_MAX, "MEV_U",
         "highest energy per nucleon (default 500)", 0},
        {"points", 0, OPTION_INT, &points, 1, 100000, "N",
         "number of energies (default 50; 1: --emin alone)", 0},
        {"csv", 0, OPTION_STRING, &csv, 0, 0, "FILE|-", "write CSV to FILE, or '-' for stdout", 0},
        FIGURE_OUTPUT_SPECS(&figs, 0, "stopping power and CSDA range against energy (log-log)"),
        {0},
    };
    bragg_err e = {{0}};
    int help;
    if (option_parse(specs, argc, argv, &help, &e)) {
        fprintf(stderr, "bragg tables: %s\n", e.msg);
        return EXIT_USAGE;
    }
    if (help) {
        usage(stdout, specs);
        return EXIT_OK;
    }
    int emax_given = !isnan(emax);
    /* --points 1 is --emin alone: the default --emax does not bound it (an --emin above 500
     * MeV/u is then a valid single row, refused only by the tables' own range). */
    if (!emax_given) emax = points == 1 ? emin : 500.0;
    if (emax < emin) {
        /* An --emin above the default --emax: the user gave no --emax, so name the default and
         * what --emin may be with it, or that --emax lifts it. */
        if (!emax_given)
            fprintf(stderr, "bragg tables: --emin: %g is above the default --emax %g (valid: %g to "
                            "%g, or give --emax up to %g)\n",
                    emin, emax, USER_T_MIN, emax, USER_T_MAX);
        else
            fprintf(stderr, "bragg tables: --emax: %g is below --emin %g (valid: %g to %g)\n",
                    emax, emin, emin, USER_T_MAX);
        return EXIT_USAGE;
    }
    if (points == 1 && emax_given && emax != emin) {
        fprintf(stderr, "bragg tables: --points: 1 gives --emin alone, but --emax %g was given "
                        "(valid: 2 or more for --emin to --emax)\n", emax);
        return EXIT_USAGE;
    }
    if (points < 2 && plot_outputs_any(&figs)) {
        fprintf(stderr, "bragg tables: --points: a figure needs at least 2 (got %d)\n", points);
        return EXIT_USAGE;
    }
    file_use uses[1 + PLOT_FORMATS] = {{csv, "--csv", 0}};
    if ((csv && atomic_file_check_path(csv, "--csv", &e)) || plot_outputs_check(&figs, &e) ||
        atomic_file_check_distinct(uses, 1 + plot_outputs_uses(&figs, uses + 1), &e)) {
        fprintf(stderr, "bragg tables: %s\n", e.msg);
        return EXIT_USAGE;
    }

    catalog cat;
    const ion *ion;
    const material *mat;
    if (physics_options_resolve(&phys, &cat, &ion, &mat, &e)) {
        fprintf(stderr, "bragg tables: %s\n", e.msg);
        return EXIT_USAGE;
    }
    transport_table tab;
    if (transport_table_build(&tab, ion, mat, cat.stopping, phys.stopping, &e)) {
        fprintf(stderr, "bragg tables: %s\n", e.msg);
        catalog_free(&cat);
        return EXIT_RUNTIME;
    }

    /* With only a figure asked for, no table on the terminal. */
    int print = csv || !plot_outputs_any(&figs);
    double *fig_e = malloc(sizeof(double) * (size_t)points * 3), *fig_s = fig_e + points,
           *fig_r = fig_e + 2 * points;
    atomic_file out;
    out.file = NULL;
    int status = EXIT_OK;
    if (!fig_e) {
        fprintf(stderr, "bragg tables: out of memory\n");
        status = EXIT_RUNTIME;
        goto done;
    }
    interrupt_begin_work();
    if (print && atomic_file_open(&out, csv ? csv : "-", "--csv", &e)) {
        fprintf(stderr, "bragg tables: %s\n", e.msg);
        status = EXIT_USAGE;
        goto done;
    }
    FILE *f = out.file;
    if (!print) {
    } else if (csv) {
        fprintf(f, "energy_MeV_u,stopping_el_MeV_cm2_g,stopping_nuc_MeV_cm2_g,"
                   "let_keV_um,csda_range_g_cm2,csda_range_cm,reaction_xs_cm2_g,"
                   "reaction_mfp_cm,nonelastic_xs_cm2_g\n");
    } else {
        fprintf(f, "# %s (Z=%d, A=%d) in %s: density %g g/cm3, I = %g eV\n", ion->name, ion->Z,
                ion->A, mat->name, mat->density, mat->I_ev);
        char e_head[16];   /* the energy per nucleon: MeV for protons, as the run summary */
        snprintf(e_head, sizeof e_head, "E [%s]", ion_energy_unit(ion->A));
        fprintf(f, "# %12s %14s %14s %12s %14s %12s %12s %12s %12s\n", e_head, "S_el", "S_nuc",
                "S_el", "CSDA range", "CSDA range", "nuclear", "mean free", "non-elastic");
        fprintf(f, "# %12s %14s %14s %12s %14s %12s %12s %12s %12s\n", "", "[MeV cm2/g]",
                "[MeV cm2/g]", "[keV/um]", "[g/cm2]", "[cm]", "[cm2/g]", "path [cm]",
                "[cm2/g]");
    }
    for (int k = 0; k < points; k++) {
        double t = points == 1 ? emin : emin * pow(emax / emin, (double)k / (points - 1));
        double s_el = table_stopping_el(&tab, t);
        double s_nuc = table_stopping(&tab, t) - s_el;
        double let = s_el * mat->density * 0.1;   /* MeV/cm -> keV/um */
        double r = table_range(&tab, t);
        double xs = table_reaction(&tab, t), mfp = xs > 0 ? 1.0 / (xs * mat->density) : INFINITY;
        double nonel = table_nonelastic(&tab, t);
        fig_e[k] = t;
        fig_s[k] = s_el + s_nuc;
        fig_r[k] = r / mat->density;
        if (!print) continue;
        /* No reactions (Fe-56 of 1 keV/u in air): no mean free path, an empty cell as in the
         * run's CSV and "-" in the text, never "inf". */
        char mfp_text[32];
        if (isfinite(mfp)) snprintf(mfp_text, sizeof mfp_text, csv ? "%.6g" : "%12.5g", mfp);
        else if (csv) mfp_text[0] = '\0';
        else snprintf(mfp_text, sizeof mfp_text, "%12s", "-");
        if (csv)
            fprintf(f, "%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%s,%.6g\n", t, s_el, s_nuc, let, r,
                    r / mat->density, xs, mfp_text, nonel);
        else
            fprintf(f, "  %12.6g %14.6g %14.4g %12.5g %14.6g %12.6g %12.5g %s %12.5g\n", t, s_el,
                    s_nuc, let, r, r / mat->density, xs, mfp_text, nonel);
    }
    if (print && atomic_file_commit(&out, &e)) {
        fprintf(stderr, "bragg tables: %s\n", e.msg);
        status = EXIT_RUNTIME;
    }
    if (status == EXIT_OK && plot_outputs_any(&figs)) {
        figure_table ft = {ion->name, mat->name, ion->A, mat->density, phys.iwater, points,
                           fig_e, fig_s, fig_r};
        plot_figure fig;
        if (figures_from_table(&fig, &ft, &e) || plot_outputs_write(&fig, &style, &figs, &e)) {
            /* Its path was checked before (plot_outputs_check): what fails now (a full disk)
             * is a run-time failure, as in run, bench and sobp. */
            fprintf(stderr, "bragg tables: %s\n", e.msg);
            status = EXIT_RUNTIME;
        }
        plot_figure_free(&fig);
    }
done:
    free(fig_e);
    transport_table_free(&tab);
    catalog_free(&cat);
    return status;
}
