/*
 * depth_unit.h - the unit a beam's depths and widths are written in, chosen from its CSDA
 * depth: depths in cm from 1 cm up, in mm under 1 cm and in um under 1 mm; widths (the distal
 * falloff, the FWHM) in mm, or in um under 1 cm. In cm alone p 1 MeV's peak, 22.7 um deep in
 * water, read "0.00 cm" in the workbench's legend and the figures' markers.
 *
 * One rule for every place that writes a depth: the command line's summary
 * (src/output/report.c), the figures' markers and depth axes (src/figures/figures.c), the
 * figures' note (report_figures_note) and the workbench's
 * legend, status line and depth axes (ui/). Pure: no memory, no state, any thread.
 */
#ifndef BRAGG_DEPTH_UNIT_H
#define BRAGG_DEPTH_UNIT_H

typedef struct depth_unit {
    const char *name;     /* "cm", "mm" or "um": ASCII, for text files and any terminal */
    const char *symbol;   /* the same with the micro sign ("\u00b5m"), where UTF-8 shows */
    double per_cm;        /* a length in cm times this is the length in the unit */
} depth_unit;

/* The unit of depths (peak, R80, axis ticks) for a beam of CSDA depth csda_cm; cm when that
 * is not a positive number. */
depth_unit depth_unit_for(double csda_cm);

/* The unit of widths (distal falloff, FWHM) for the same beam. */
depth_unit width_unit_for(double csda_cm);

#endif
