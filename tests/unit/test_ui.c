/*
 * test_ui.c - the workbench's pure parts: the braille canvas (which dot sets which bit, lines,
 * clipping, dash patterns along a path, UTF-8 and ASCII cells), the layout over every terminal size (no overlap, nothing
 * off screen, "too small" below 80x24), and the settings file (round trip, corrupt files
 * rejected whole, paths from XDG_CONFIG_HOME and HOME), and the setup panel's typed fields
 * (what each accepts, and the message naming the field and the valid range when it does not).
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "braille.h"
#include "config.h"
#include "depth_unit.h"
#include "layout.h"
#include "plot_panel.h"
#include "settings.h"
#include "setup_panel.h"
#include "testkit.h"

TestSuite(ui);

Test(ui, braille_dots_follow_the_unicode_numbering)
{
    /* Dots 1-2-3-7 down the left column, 4-5-6-8 down the right (Unicode 3.0, U+2800). */
    cr_expect_eq(braille_dot_bit(0, 0), 0x01);
    cr_expect_eq(braille_dot_bit(0, 1), 0x02);
    cr_expect_eq(braille_dot_bit(0, 2), 0x04);
    cr_expect_eq(braille_dot_bit(0, 3), 0x40);
    cr_expect_eq(braille_dot_bit(1, 0), 0x08);
    cr_expect_eq(braille_dot_bit(1, 3), 0x80);
    braille_canvas c;
    cr_assert_eq(braille_init(&c, 3, 2), 0);
    braille_set(&c, 0, 0, 1);
    braille_set(&c, 5, 7, 2);    /* bottom-right dot of the last cell */
    braille_set(&c, 6, 0, 1);    /* outside: ignored */
    braille_set(&c, -1, 3, 1);
    cr_expect_eq(braille_cell_bits(&c, 0, 0), 0x01);
    cr_expect_eq(braille_cell_bits(&c, 2, 1), 0x80);
    cr_expect_eq(braille_cell_layer(&c, 2, 1), 2);
    int set = 0;
    for (int r = 0; r < 2; r++)
        for (int k = 0; k < 3; k++) set += braille_cell_bits(&c, k, r) != 0;
    cr_expect_eq(set, 2);
    char s[4];
    braille_cell_utf8(0x00, s);
    cr_expect_str_eq(s, "\u2800");
    braille_cell_utf8(0xFF, s);
    cr_expect_str_eq(s, "\u28ff");
    cr_expect_eq(braille_cell_ascii(0), ' ');
    cr_expect_eq(braille_cell_ascii(0x01), '\'');
    cr_expect_eq(braille_cell_ascii(0x40), '.');
    cr_expect_eq(braille_cell_ascii(0x41), ':');
    braille_free(&c);
}

Test(ui, braille_line_sets_every_dot_once_and_keeps_the_top_layer)
{
    braille_canvas c;
    cr_assert_eq(braille_init(&c, 4, 1), 0);
    braille_line(&c, 0, 0, 7, 3, 1);   /* the diagonal of a 8 x 4 dot canvas */
    int dots = 0;
    for (int k = 0; k < 4; k++) dots += __builtin_popcount(braille_cell_bits(&c, k, 0));
    cr_expect_eq(dots, 8, "a line 8 dots long sets 8 dots, got %d", dots);
    braille_line(&c, 0, 3, 7, 3, 3);   /* a horizontal line on top, higher layer */
    cr_expect_eq(braille_cell_layer(&c, 0, 0), 3);
    braille_line(&c, -20, 1, 30, 1, 1);   /* clipped, not crashing */
    cr_expect(braille_cell_bits(&c, 3, 0) & braille_dot_bit(1, 1));
    braille_clear(&c);
    cr_expect_eq(braille_cell_bits(&c, 0, 0), 0);
    braille_free(&c);
    cr_expect_neq(braille_init(&c, 0, 5), 0);
}

/* Without colour the plot tells curves apart by their dash patterns. The pattern runs along
 * the path: a dot two segments share, or a segment of no length (many bins in one dot
 * column), must not shift it, or a curve of many bins comes out solid or at random. */
Test(ui, braille_dashes_follow_the_path)
{
    braille_canvas c;
    cr_assert_eq(braille_init(&c, 8, 2), 0);
    /* Every other dot along a flat line of 16 dots, drawn as 1 + 5 + 0 + 10 dots. */
    braille_pen p = {"10", 2, 0, 0, 0};
    braille_pen_start(&c, &p, 0, 1);
    braille_pen_to(&c, &p, 5, 1);
    braille_pen_to(&c, &p, 5, 1);
    braille_pen_to(&c, &p, 15, 1);
    for (int x = 0; x < 16; x++) {
        int set = !!(braille_cell_bits(&c, x / 2, 0) & braille_dot_bit(x % 2, 1));
        cr_expect_eq(set, x % 2 == 0, "dot %d of '10' is %s", x, set ? "set" : "not set");
    }
    cr_expect_eq(braille_cell_layer(&c, 0, 0), 2);
    /* On a steep stretch the pattern runs down the dots as well: "1100" on a column. */
    braille_clear(&c);
    p = (braille_pen){"1100", 1, 0, 0, 0};
    braille_pen_start(&c, &p, 3, 0);
    braille_pen_to(&c, &p, 3, 7);
    for (int y = 0; y < 8; y++) {
        int set = !!(braille_cell_bits(&c, 1, y / 4) & braille_dot_bit(1, y % 4));
        cr_expect_eq(set, y % 4 < 2, "dot %d of '1100' down a column", y);
    }
    cr_expect(braille_dash_on(NULL, 7) && braille_dash_on("1", 3) && !braille_dash_on("1000", 5));
    braille_free(&c);
}

static int overlaps(const ui_rect *a, const ui_rect *b)
{
    return a->x < b->x + b->w && b->x < a->x + a->w && a->y < b->y + b->h && b->y < a->y + a->h;
}

static void check_layout(int cols, int rows)
{
    tui_layout l;
    layout_compute(cols, rows, &l);
    if (cols < LAYOUT_MIN_COLS || rows < LAYOUT_MIN_ROWS) {
        cr_assert(l.too_small, "%dx%d should be too small", cols, rows);
        return;
    }
    cr_assert(!l.too_small, "%dx%d should fit", cols, rows);
    const ui_rect *r[6] = {&l.setup, &l.live, &l.plot, &l.profile, &l.status, &l.keys};
    for (int i = 0; i < 6; i++) {
        cr_assert(r[i]->x >= 0 && r[i]->y >= 0 && r[i]->x + r[i]->w <= cols &&
                  r[i]->y + r[i]->h <= rows && r[i]->w > 0 && r[i]->h > 0,
                  "%dx%d: panel %d at %d,%d size %dx%d is off screen", cols, rows, i, r[i]->x,
                  r[i]->y, r[i]->w, r[i]->h);
        for (int j = 0; j < i; j++)
            cr_assert(!overlaps(r[i], r[j]), "%dx%d: panels %d and %d overlap", cols, rows, i, j);
    }
    cr_assert(l.setup.h >= LAYOUT_SETUP_ROWS, "%dx%d: setup fields cut", cols, rows);
    cr_assert(l.live.h >= 6 && l.plot.h >= 10 && l.plot.w >= 40 && l.profile.h >= 6,
              "%dx%d: a panel is too small to read", cols, rows);
    int cells = 0;
    for (int i = 0; i < 6; i++) cells += r[i]->w * r[i]->h;
    cr_assert_eq(cells, cols * rows, "%dx%d: the panels leave holes", cols, rows);
    cr_assert_eq(l.keys.y, rows - 1);
    cr_assert_eq(l.status.y, rows - 2);
}

Test(ui, layout_at_the_named_sizes)
{
    tui_layout l;
    layout_compute(80, 24, &l);
    cr_expect(!l.too_small && l.profile_compact);
    layout_compute(200, 50, &l);
    cr_expect(!l.too_small && !l.profile_compact && l.plot.h == 48, "tall: plot full height");
    layout_compute(40, 12, &l);
    cr_expect(l.too_small);
    layout_compute(79, 24, &l);
    cr_expect(l.too_small);
    layout_compute(80, 23, &l);
    cr_expect(l.too_small);
}

/* Every size from 1x1 to 400x150, as nvtop tests its layout. */
Test(ui, layout_every_size)
{
    for (int cols = 1; cols <= 400; cols++)
        for (int rows = 1; rows <= 150; rows++) check_layout(cols, rows);
}

/* The settings file is a run file: every key bragg run takes, a [workbench] section. A setup
 * written and read back is the same bit for bit (numbers in their shortest exact text). */
Test(ui, settings_round_trip)
{
    workbench_settings a, b;
    memset(&a, 0, sizeof a);
    config_default(&a.cfg);
    run_config *c = &a.cfg;
    snprintf(c->ion, sizeof c->ion, "He-4");
    c->energy = 123.5;
    /* As typed (in mm, %, mrad) and converted by the CLI and the workbench. */
    c->energy_spread = 1.0 / 100;
    c->spot_sigma_cm = 3.0 / 10;
    c->divergence_rad = 2.1 / 1000;
    c->histories = 54321;
    c->seed = 18446744073709551615ull;
    c->threads = 3;
    c->nuclear = 0;
    c->scattering = 0;
    c->stopping.barkas = 0;
    c->iwater = 78;
    c->bin_width_cm = 0.05 / 10;
    c->step_fraction = 0.013;
    snprintf(c->backend, sizeof c->backend, "serial");
    c->n_slabs = 0;
    cr_assert_eq(config_add_slab(c, "water:5", NULL), 0);
    cr_assert_eq(config_add_slab(c, "bone-cortical-icrp:2.5", NULL), 0);
    cr_assert_eq(config_add_slab(c, "water:inf", NULL), 0);
    /* A '#' starts a comment after a blank, and blanks at the ends are trimmed: such a folder
     * is saved in quotes ("/tmp/my #1 figs" once read back as "/tmp/my"). */
    snprintf(a.export_dir, sizeof a.export_dir, " /tmp/my #1 \"figs\" \\ here ");
    char text[8192];
    int n = settings_format(&a, text, sizeof text);
    cr_assert(n > 0 && n < (int)sizeof text);
    cr_expect(strstr(text, "= bone-cortical-icrp:2.5\n") && strstr(text, "[workbench]"), "%s", text);
    /* Numbers as people write them: 2.1 mrad, 0.05 mm. */
    const char *div = strstr(text, "\ndivergence "), *bin = strstr(text, "\nbin ");
    cr_expect(div && strncmp(strchr(div, '=') + 1, " 2.1 ", 5) == 0 && bin &&
                  strncmp(strchr(bin, '=') + 1, " 0.05 ", 6) == 0, "%s", text);

    memset(&b, 0, sizeof b);
    config_default(&b.cfg);
    bragg_err e = {{0}};
    cr_assert_eq(settings_parse(text, "t.conf", &b, &e), BRAGG_OK, "%s", e.msg);
    cr_expect(memcmp(&a.cfg, &b.cfg, sizeof a.cfg) == 0, "the setup changed on the way back");
    cr_expect_str_eq(b.export_dir, " /tmp/my #1 \"figs\" \\ here ");
}

/* The settings file is a run file: bragg run's output keys in it (json, quiet, ...) are kept
 * as they are and saved again, not refused (the file was set aside as unreadable at start). */
Test(ui, settings_keep_bragg_runs_outputs)
{
    static workbench_settings w, back;
    memset(&w, 0, sizeof w);
    config_default(&w.cfg);
    char text[] = "ion = p\nenergy = 100\njson = \"out #2.json\"\nquiet = yes\nprofile-at = 1\n"
                  "profile-at = 2\n";
    bragg_err e = {{0}};
    cr_assert_eq(settings_parse(text, "w.conf", &w, &e), BRAGG_OK, "%s", e.msg);
    char saved[8192];
    cr_assert(settings_format(&w, saved, sizeof saved) < (int)sizeof saved);
    cr_expect(strstr(saved, "\nquiet                   = yes\n") &&
                  strstr(saved, "= 1\nprofile-at              = 2\n"), "%s", saved);
    memset(&back, 0, sizeof back);
    config_default(&back.cfg);
    cr_assert_eq(settings_parse(saved, "w.conf", &back, &e), BRAGG_OK, "%s", e.msg);
    cr_expect_str_eq(back.outputs, w.outputs);
    cr_expect(strstr(back.outputs, "\"out #2.json\""), "%s", back.outputs);
    char bad[] = "quiet = maybe\n";
    cr_expect_eq(settings_parse(bad, "w.conf", &back, &e), BRAGG_ERR);
    cr_expect(strstr(e.msg, "w.conf line 1: quiet: 'maybe' is not a switch"), "%s", e.msg);
}

/* The rules between keys are checked once the whole file is read (a later line may give the
 * model a dose needs), and name the line of the key at fault. */
Test(ui, settings_rules_between_keys_name_the_line)
{
    static workbench_settings w;
    memset(&w, 0, sizeof w);
    config_default(&w.cfg);
    bragg_err e = {{0}};
    char lone[] = "ion = p\nenergy = 100\nbio-dose = 3\nhistories = 500\n";
    cr_assert_eq(settings_parse(lone, "w.conf", &w, &e), BRAGG_OK, "%s", e.msg);
    catalog cat;
    cr_assert_eq(catalog_load(&cat, &e), BRAGG_OK, "%s", e.msg);
    cr_expect_eq(settings_validate(&w, &cat, "w.conf", &e), BRAGG_ERR);
    cr_expect(strstr(e.msg, "w.conf line 3: bio-dose: needs a biological model"), "%s", e.msg);
    char late[] = "ion = p\nenergy = 100\nbio-dose = 3\nbio = rbe1.1\n";
    cr_assert_eq(settings_parse(late, "w.conf", &w, &e), BRAGG_OK, "%s", e.msg);
    cr_expect_eq(settings_validate(&w, &cat, "w.conf", &e), BRAGG_OK, "%s", e.msg);
    catalog_free(&cat);
}

static void expect_corrupt(const char *text, const char *needle)
{
    workbench_settings w, before;
    memset(&w, 0, sizeof w);
    config_default(&w.cfg);
    before = w;
    char buf[512];
    snprintf(buf, sizeof buf, "%s", text);
    bragg_err e = {{0}};
    cr_expect_eq(settings_parse(buf, "s.conf", &w, &e), BRAGG_ERR, "'%s' parsed", text);
    cr_expect(strstr(e.msg, needle), "'%s': message '%s' lacks '%s'", text, e.msg, needle);
    cr_expect(memcmp(&w, &before, sizeof w) == 0, "'%s' changed the settings", text);
}

Test(ui, settings_corrupt_files_are_rejected_whole)
{
    expect_corrupt("ion = p\nenergy = fast\n", "s.conf line 2: energy: 'fast' is not a decimal number");
    expect_corrupt("ion = p\ncolour = blue\n", "line 2: unknown key 'colour'");
    expect_corrupt("# comment\n\nhistories\n", "line 3: no '='");
    expect_corrupt("histories = -5\n", "histories: -5 is out of range");
    expect_corrupt("no-nuclear = maybe\n", "no-nuclear: 'maybe' is not a switch");
    expect_corrupt("slab = water:0\n", "slab: slab thickness (cm): 0 is out of range");
    expect_corrupt("material = water\nslab = water:5\n", "line 2: slab: material and slab exclude");
    expect_corrupt("[workbench]\nzoom = 2\n", "line 2: unknown key 'zoom' in [workbench]");
    expect_corrupt("[workbench]\nseed = 2\n", "line 2: seed: in section [workbench]");
    expect_corrupt("[other]\nx = 2\n", "line 1: unknown section 'other'");
    expect_corrupt("seed = 2\nseed = 3\n", "line 2: seed: given twice (lines 1 and 2");
    expect_corrupt("config = x.conf\n", "line 1: config: not allowed in a run file");
    workbench_settings w;
    memset(&w, 0, sizeof w);
    config_default(&w.cfg);
    bragg_err e = {{0}};
    char empty[] = "# only a comment\n\n  \n";
    cr_expect_eq(settings_parse(empty, "s.conf", &w, &e), BRAGG_OK);
}

Test(ui, settings_path_load_and_save)
{
    char dir[256];
    testkit_temp_dir(dir, sizeof dir, "settings");
    char path[1024], cmd[1200];
    bragg_err e = {{0}};
    setenv("XDG_CONFIG_HOME", "", 1);
    setenv("HOME", dir, 1);
    cr_assert_eq(settings_path(path, sizeof path, &e), BRAGG_OK);
    snprintf(cmd, sizeof cmd, "%s/.config/bragg/workbench.conf", dir);
    cr_expect_str_eq(path, cmd, "empty XDG_CONFIG_HOME falls back to ~/.config");
    snprintf(cmd, sizeof cmd, "%s/xdg", dir);
    setenv("XDG_CONFIG_HOME", cmd, 1);
    static workbench_settings c, d;
    config_default(&c.cfg);
    cr_expect_eq(settings_load(&c, &e), 1, "no file yet");
    c.cfg.histories = 777;
    cr_assert_eq(settings_save(&c, &e), BRAGG_OK, "%s", e.msg);
    config_default(&d.cfg);
    cr_assert_eq(settings_load(&d, &e), BRAGG_OK, "%s", e.msg);
    cr_expect_eq(d.cfg.histories, 777);
    /* A corrupt file: an error naming the file, the configuration untouched. */
    snprintf(cmd, sizeof cmd, "printf 'garbage\\n' > %s/xdg/bragg/workbench.conf", dir);
    cr_assert(system(cmd) == 0);
    config_default(&d.cfg);
    cr_expect_eq(settings_load(&d, &e), BRAGG_ERR);
    cr_expect(strstr(e.msg, "workbench.conf line 1: no '='"), "%s", e.msg);
    cr_expect_eq(d.cfg.histories, 100000);
    testkit_remove_dir(dir);
    unsetenv("XDG_CONFIG_HOME");
}

/* Issue 19: an unreadable settings file is kept under another name before anything saves the
 * defaults over it, never over an older kept one; a symlinked settings file stays a link. */
Test(ui, unreadable_settings_are_kept_aside)
{
    char dir[256], cmd[2600], aside[1100], path[1024];
    testkit_temp_dir(dir, sizeof dir, "aside");
    setenv("XDG_CONFIG_HOME", dir, 1);
    bragg_err e = {{0}};
    snprintf(cmd, sizeof cmd, "mkdir -p %s/bragg && printf 'garbage one\\n' > "
                              "%s/bragg/workbench.conf", dir, dir);
    cr_assert(system(cmd) == 0);
    static workbench_settings w;   /* large */
    config_default(&w.cfg);
    cr_assert_eq(settings_load(&w, &e), BRAGG_ERR);
    cr_assert_eq(settings_set_aside(aside, sizeof aside, &e), BRAGG_OK, "%s", e.msg);
    snprintf(path, sizeof path, "%s/bragg/workbench.conf.unreadable", dir);
    cr_expect_str_eq(aside, path);
    cr_assert_eq(settings_save(&w, &e), BRAGG_OK, "%s", e.msg);
    snprintf(cmd, sizeof cmd, "grep -q 'garbage one' %s", path);
    cr_expect(system(cmd) == 0, "the kept file lost its text");
    /* A second bad file goes to .unreadable.2. */
    snprintf(cmd, sizeof cmd, "printf 'garbage two\\n' > %s/bragg/workbench.conf", dir);
    cr_assert(system(cmd) == 0);
    cr_assert_eq(settings_set_aside(aside, sizeof aside, &e), BRAGG_OK, "%s", e.msg);
    cr_expect(strstr(aside, "workbench.conf.unreadable.2") != NULL, "%s", aside);
    snprintf(cmd, sizeof cmd, "grep -q 'garbage one' %s && grep -q 'garbage two' %s", path,
             aside);
    cr_expect(system(cmd) == 0, "an older kept file was overwritten");
    /* Dotfiles kept elsewhere and linked in: saving writes the target, the link stays. */
    snprintf(cmd, sizeof cmd, "cd %s/bragg && rm -f workbench.conf && touch ../real.conf && "
                              "ln -s ../real.conf workbench.conf", dir);
    cr_assert(system(cmd) == 0);
    w.cfg.histories = 4242;
    cr_assert_eq(settings_save(&w, &e), BRAGG_OK, "%s", e.msg);
    snprintf(cmd, sizeof cmd, "test -L %s/bragg/workbench.conf && grep -q 4242 %s/real.conf",
             dir, dir);
    cr_expect(system(cmd) == 0, "the settings symlink was replaced");
    testkit_remove_dir(dir);
    unsetenv("XDG_CONFIG_HOME");
}

/* Issue 17: a plot title shortens from the left, never drops its unit, and hands the power of
 * ten to the axis only when even "unit x1e-3" does not fit (the fallback the 80x24 views rarely
 * reach, so it is checked here directly). */
Test(ui, plot_titles_keep_the_unit_and_move_the_power_of_ten_last)
{
    char title[200];
    int on_axis = -1;
    const char *view = "LET", *q = "dose-averaged LET", *unit = "keV/um", *mult = " x1e-3";
    plot_panel_fit_title(view, q, unit, mult, 80, title, sizeof title, &on_axis);
    cr_expect_str_eq(title, "LET: dose-averaged LET, keV/um x1e-3");
    cr_expect_eq(on_axis, 0);
    plot_panel_fit_title(view, q, unit, mult, 20, title, sizeof title, &on_axis);
    cr_expect_str_eq(title, "LET, keV/um x1e-3");   /* the quantity goes first */
    cr_expect_eq(on_axis, 0);
    plot_panel_fit_title(view, q, unit, mult, 13, title, sizeof title, &on_axis);
    cr_expect_str_eq(title, "keV/um x1e-3");   /* then the view */
    cr_expect_eq(on_axis, 0);
    plot_panel_fit_title(view, q, unit, mult, 11, title, sizeof title, &on_axis);
    cr_expect_str_eq(title, "LET, keV/um");   /* then the power of ten, to the axis */
    cr_expect_eq(on_axis, 1);
    plot_panel_fit_title(view, q, unit, mult, 3, title, sizeof title, &on_axis);
    cr_expect_str_eq(title, "keV/um");   /* the unit stays even where it does not fit */
    cr_expect_eq(on_axis, 1);
    plot_panel_fit_title(view, q, unit, "", 3, title, sizeof title, &on_axis);
    cr_expect_eq(on_axis, 0, "no power of ten, nothing to move");
}

/* A workbench state with the catalog and the defaults, for the setup fields. */
static tui_state *setup_state(void)
{
    static tui_state t;   /* large; one per test (each test frees its catalog) */
    bragg_err e = {{0}};
    memset(&t, 0, sizeof t);
    cr_assert(catalog_load(&t.cat, &e) == BRAGG_OK, "%s", e.msg);
    config_default(&t.cfg);
    t.cores = 2;
    return &t;
}

/* Applies text to field f of t->cfg; returns the message ("" when taken). */
static const char *apply(tui_state *t, int f, const char *text)
{
    static bragg_err e;
    memset(&e, 0, sizeof e);
    return setup_field_apply(t, &t->cfg, f, text, &e) == BRAGG_OK ? "" : e.msg;
}

/* Whole numbers are read exactly as 64-bit integers (a double loses the seed's last bits and
 * cannot hold 2^64 - 1); too large says "out of range" with the range, never "not a whole
 * number". */
Test(ui, counts_are_exact_64_bit_integers)
{
    tui_state *t = setup_state();
    cr_expect_str_eq(apply(t, FIELD_SEED, "9007199254740993"), "");
    cr_expect_eq(t->cfg.seed, 9007199254740993ull);
    cr_expect_str_eq(apply(t, FIELD_SEED, " 18446744073709551615 "), "");
    cr_expect_eq(t->cfg.seed, UINT64_MAX);
    const char *m = apply(t, FIELD_SEED, "18446744073709551616");
    cr_expect(strstr(m, "seed: ") && strstr(m, "out of range (valid: 0 to 18446744073709551615)"),
              "%s", m);
    cr_expect_eq(t->cfg.seed, UINT64_MAX, "a refused value changed the seed");
    m = apply(t, FIELD_SEED, "1e30");
    cr_expect(strstr(m, "seed: ") && strstr(m, "out of range"), "%s", m);
    cr_expect_str_eq(apply(t, FIELD_HISTORIES, "20k"), "");
    cr_expect_eq(t->cfg.histories, 20000);
    cr_expect_str_eq(apply(t, FIELD_HISTORIES, "1e5"), "");
    cr_expect_eq(t->cfg.histories, 100000);
    cr_expect_str_eq(apply(t, FIELD_HISTORIES, "2M"), "");
    cr_expect_eq(t->cfg.histories, 2000000);
    m = apply(t, FIELD_HISTORIES, "1e30");
    cr_expect(strstr(m, "histories: ") && strstr(m, "out of range (valid:") &&
                  !strstr(m, "whole"), "%s", m);
    m = apply(t, FIELD_HISTORIES, "99999999999999999999");
    cr_expect(strstr(m, "histories: ") && strstr(m, "out of range (valid:"), "%s", m);
    m = apply(t, FIELD_HISTORIES, "2.5");
    cr_expect(strstr(m, "histories: ") && strstr(m, "not a whole number"), "%s", m);
    m = apply(t, FIELD_HISTORIES, "lots");
    cr_expect(strstr(m, "histories: ") && strstr(m, "(valid:"), "%s", m);
    cr_expect_eq(t->cfg.histories, 2000000);
    cr_expect_str_eq(apply(t, FIELD_THREADS, "4"), "");
    cr_expect_eq(t->cfg.threads, 4);
    m = apply(t, FIELD_THREADS, "5000");
    cr_expect(strstr(m, "threads: ") && strstr(m, "out of range (valid: 0 to 1024)"), "%s", m);
    catalog_free(&t->cat);
}

/* The energy's stated range is the one checked: a beam must start above the cut-off, so the
 * message says so (it once offered 0.001 MeV/u, which the next check refused). */
Test(ui, the_energy_range_stated_is_the_one_checked)
{
    tui_state *t = setup_state();
    const char *want = "(valid: above the cut-off 0.002 to 2000 MeV/u)";
    const char *texts[] = {"0.0001", "0.001", "0.002", "5000"};
    for (int i = 0; i < 4; i++) {
        const char *m = apply(t, FIELD_ENERGY, texts[i]);
        cr_expect(strstr(m, "energy: ") && strstr(m, "out of range") && strstr(m, want),
                  "%s: %s", texts[i], m);
    }
    cr_expect_str_eq(apply(t, FIELD_ENERGY, "0.11"), "");
    cr_expect_str_eq(apply(t, FIELD_ENERGY, "2000"), "");
    catalog_free(&t->cat);
}

/* The Stack field shows "none" without a stack, and the SOBP asks for "(Stack: none)": typed,
 * "none" clears the stack like an empty field. */
Test(ui, stack_none_clears_the_stack)
{
    tui_state *t = setup_state();
    cr_expect_str_eq(apply(t, FIELD_STACK, "water:5, bone:2, water"), "");
    cr_expect_eq(t->cfg.n_slabs, 3);
    cr_expect_str_eq(apply(t, FIELD_STACK, " none "), "");
    cr_expect(t->cfg.n_slabs == 1 && isinf(t->cfg.slabs[0].thickness_cm));
    cr_expect_str_eq(t->cfg.slabs[0].material, "water");
    char shown[64];
    setup_field_value(t, FIELD_STACK, shown, sizeof shown);
    cr_expect_str_eq(shown, "none");
    cr_expect_str_eq(apply(t, FIELD_STACK, "water:5, bone"), "");
    cr_expect_str_eq(apply(t, FIELD_STACK, ""), "");
    cr_expect_eq(t->cfg.n_slabs, 1);
    catalog_free(&t->cat);
}

/* Biology follows the engine's rule for model and ion: left/right offers a carbon beam none
 * and mkm only (the proton models once came round and the run failed), a typed proton model
 * is refused at the field with the engine's message, and a typed (alpha/beta)x out of range
 * (0 and below included, which once fell back silently to the cell line's own) is refused
 * with the range. */
Test(ui, biology_offers_and_takes_only_what_the_ion_can_have)
{
    tui_state *t = setup_state();
    cr_expect_str_eq(apply(t, FIELD_ION, "C-12"), "");
    char seen[256] = "";
    for (int i = 0; i < 6; i++) {
        setup_field_cycle(t, FIELD_BIO, 1);
        strcat(seen, t->cfg.bio_model[0] ? t->cfg.bio_model : "none");
        strcat(seen, " ");
    }
    cr_expect_str_eq(seen, "mkm none mkm none mkm none ");
    setup_field_cycle(t, FIELD_BIO, -1);
    cr_expect_str_eq(t->cfg.bio_model, "mkm");
    const char *m = apply(t, FIELD_BIO, "rbe1.1");
    cr_expect(strstr(m, "rbe1.1 is a proton model") && strstr(m, "for C-12: mkm"), "%s", m);
    cr_expect_str_eq(t->cfg.bio_model, "mkm", "a refused model was kept");

    cr_expect_str_eq(apply(t, FIELD_ION, "p"), "");
    seen[0] = '\0';
    for (int i = 0; i < 5; i++) {
        setup_field_cycle(t, FIELD_BIO, 1);
        strcat(seen, t->cfg.bio_model[0] ? t->cfg.bio_model : "none");
        strcat(seen, " ");
    }
    cr_expect_str_eq(seen, "mcnamara wedenberg rbe1.1 none mcnamara ");
    cr_expect_str_eq(apply(t, FIELD_BIO, "mcnamara 2"), "");
    cr_expect(t->cfg.bio_alpha_beta == 2.0);
    const char *bad[] = {"mcnamara -1", "mcnamara 0", "mcnamara 1e9"};
    for (int i = 0; i < 3; i++) {
        m = apply(t, FIELD_BIO, bad[i]);
        cr_expect(strstr(m, "alpha/beta: ") && strstr(m, "(valid: 0.5 to 50 Gy)"), "%s: %s",
                  bad[i], m);
    }
    m = apply(t, FIELD_BIO, "mcnamara 2 3");
    cr_expect(strstr(m, "bio: ") && strstr(m, "(valid:"), "%s", m);
    cr_expect(t->cfg.bio_alpha_beta == 2.0, "a refused value changed the setup");

    /* A new ion drops a model it cannot take, typed or cycled to, and keeps one it can. */
    cr_expect_str_eq(apply(t, FIELD_ION, "C-12"), "");
    cr_expect_str_eq(t->cfg.bio_model, "", "C-12 kept mcnamara");
    cr_expect_str_eq(apply(t, FIELD_BIO, "mkm"), "");
    cr_expect_str_eq(apply(t, FIELD_ION, "He-4"), "");
    cr_expect_str_eq(t->cfg.bio_model, "mkm", "helium lost the MKM");
    /* The MKM's carbon-fitted parameters give protons an RBE below 1 (physics/biology.c). */
    cr_expect_str_eq(apply(t, FIELD_ION, "p"), "");
    cr_expect_str_eq(t->cfg.bio_model, "", "protons kept the MKM");
    cr_expect(strstr(apply(t, FIELD_BIO, "mkm"), "mkm is an ion model"), "protons took mkm");
    cr_expect_str_eq(apply(t, FIELD_BIO, "rbe1.1"), "");
    t->status[0] = '\0';
    setup_field_cycle(t, FIELD_ION, 1);
    cr_expect(strcmp(t->cfg.ion, "p") != 0 && !t->cfg.bio_model[0] &&
                  strstr(t->status, "Biology: none now (rbe1.1 is not for"),
              "ion %s, model '%s', status '%s'", t->cfg.ion, t->cfg.bio_model, t->status);
    catalog_free(&t->cat);
}

/* Depths and widths are written in the unit their range reads in: cm from 1 cm, mm under it,
 * um under 1 mm (widths one step finer), the summary's rule (src/output/report.c), which the
 * workbench and the figures now share. */
Test(ui, depths_take_the_unit_of_their_range)
{
    struct { double csda; const char *depth, *width; double per_cm; } want[] = {
        {27.4, "cm", "mm", 1}, {1.0, "cm", "mm", 1}, {0.99, "mm", "um", 10},
        {0.1, "mm", "um", 10}, {0.0025, "um", "um", 1e4}, {NAN, "cm", "mm", 1}, {0, "cm", "mm", 1},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        depth_unit d = depth_unit_for(want[i].csda), w = width_unit_for(want[i].csda);
        cr_expect_str_eq(d.name, want[i].depth, "depth unit for %g cm", want[i].csda);
        cr_expect_str_eq(w.name, want[i].width, "width unit for %g cm", want[i].csda);
        cr_expect_eq(d.per_cm, want[i].per_cm, "scale for %g cm", want[i].csda);
    }
    cr_expect_str_eq(depth_unit_for(0.0025).symbol, "\u00b5m");
}

/* The plot marks a run (or an SOBP) made with another setup than the fields show: what changes
 * the results counts, how the run is done does not. */
Test(ui, a_changed_setup_is_told_from_how_a_run_is_done)
{
    tui_state *t = setup_state();
    run_config ran = t->cfg;
    ran.profile = 1;   /* the workbench's runs are profiled */
    cr_expect(!tui_setup_changed(t, &ran, 0), "the same setup");
    cr_expect_str_eq(apply(t, FIELD_BACKEND, "serial"), "");
    cr_expect_str_eq(apply(t, FIELD_THREADS, "1"), "");
    t->cfg.map_kind = MAP_RZ;   /* `m`: a map from the next run */
    cr_expect(!tui_setup_changed(t, &ran, 0), "backend, threads or the next map count");
    cr_expect_str_eq(apply(t, FIELD_SPOT, "3"), "");
    cr_expect(tui_setup_changed(t, &ran, 0), "a new spot size does not count");
    cr_expect(!tui_setup_changed(t, &ran, 1), "the SOBP job takes no spot size");
    cr_expect_str_eq(apply(t, FIELD_ION, "Fe-56"), "");
    cr_expect(tui_setup_changed(t, &ran, 0) && tui_setup_changed(t, &ran, 1), "a new ion");
    catalog_free(&t->cat);
}

/* An SOBP counts as changed when `s` would build another one, not when any key it reads
 * differs: its job runs a tenth of the histories per energy, 1000 to 20 000, so Histories 5000
 * and 8000 give the same job (1000 per energy), and the view said "setup changed" all the
 * same. 50 000 gives 5000 per energy: another job. */
Test(ui, an_sobp_is_changed_when_its_job_would_be)
{
    tui_state *t = setup_state();
    cr_expect_str_eq(apply(t, FIELD_ION, "p"), "");
    cr_expect_str_eq(apply(t, FIELD_ENERGY, "100"), "");
    cr_expect_str_eq(apply(t, FIELD_HISTORIES, "5000"), "");
    run_config ran = t->cfg;
    cr_expect_str_eq(apply(t, FIELD_HISTORIES, "8000"), "");
    cr_expect(!tui_setup_changed(t, &ran, 1), "the same job: 1000 histories per energy");
    cr_expect(tui_setup_changed(t, &ran, 0), "a run of 8000 histories is another run");
    cr_expect_str_eq(apply(t, FIELD_HISTORIES, "50000"), "");
    cr_expect(tui_setup_changed(t, &ran, 1), "5000 histories per energy is another job");
    cr_expect_str_eq(apply(t, FIELD_HISTORIES, "5000"), "");
    cr_expect_str_eq(apply(t, FIELD_STACK, "water:5, bone:2, water"), "");
    cr_expect(tui_setup_changed(t, &ran, 1), "a stack makes no job");
    catalog_free(&t->cat);
}

/* Without colour the curves of dose by charge repeated their looks past the eight dash
 * patterns (O-16's ten channels gave Z=1 and the target the same key, Fe-56's 28 many more):
 * the patterns now come round underlined, reversed, then both. Every charge of the heaviest
 * ion has a look of its own without colour, and every curve a view draws (48 at most) with. */
Test(ui, every_series_looks_its_own_with_and_without_colour)
{
    for (int a = 0; a < TRANSPORT_MAX_Z + 2; a++)
        for (int b = a + 1; b < TRANSPORT_MAX_Z + 2; b++) {
            plot_look la = plot_series_look(0, a), lb = plot_series_look(0, b);
            cr_expect(la.pattern != lb.pattern || la.weight != lb.weight,
                      "without colour, series %d and %d look alike", a, b);
        }
    for (int a = 0; a < 48; a++)
        for (int b = a + 1; b < 48; b++) {
            plot_look la = plot_series_look(1, a), lb = plot_series_look(1, b);
            cr_expect(la.role != lb.role || la.pattern != lb.pattern,
                      "with colour, series %d and %d look alike", a, b);
            cr_expect(la.weight == A_NORMAL, "with colour the attributes stay the role's");
        }
    cr_expect(plot_series_look(0, 0).pattern == 0 && plot_series_look(0, 0).weight == A_NORMAL,
              "the current run is solid");
}

/* Left/right steps every number the help says it steps: energy (it did nothing) in round
 * numbers about 10% apart, spread and spot from 0 up, histories 1-2-5; each within its valid
 * range, the status line saying so at its end. The Stack has no steps: it says Enter edits. */
Test(ui, left_right_steps_the_numbers)
{
    tui_state *t = setup_state();
    cr_expect_str_eq(apply(t, FIELD_ENERGY, "100"), "");
    double want[] = {110, 120, 130, 140, 150, 160, 180, 200, 220, 250, 280, 300};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        setup_field_cycle(t, FIELD_ENERGY, 1);
        cr_expect_eq(t->cfg.energy, want[i], "step %zu: %.17g", i, t->cfg.energy);
    }
    cr_expect_str_eq(apply(t, FIELD_ENERGY, "137"), "");
    setup_field_cycle(t, FIELD_ENERGY, -1);
    cr_expect_eq(t->cfg.energy, 130);
    cr_expect_str_eq(apply(t, FIELD_ENERGY, "1"), "");
    setup_field_cycle(t, FIELD_ENERGY, -1);
    cr_expect_eq(t->cfg.energy, 0.9, "%.17g", t->cfg.energy);
    cr_expect_str_eq(apply(t, FIELD_ENERGY, "2000"), "");
    t->status[0] = '\0';
    setup_field_cycle(t, FIELD_ENERGY, 1);
    cr_expect(t->cfg.energy == 2000, "%g", t->cfg.energy);
    cr_expect_str_eq(t->status,
                     "Energy: 2000 MeV/u is the top of its range (valid: 0.001 to 2000 MeV/u)");

    const double spread[] = {0.001, 0.002, 0.005, 0.01};
    for (int i = 0; i < 4; i++) {
        setup_field_cycle(t, FIELD_SPREAD, 1);
        cr_expect(fabs(t->cfg.energy_spread - spread[i]) < 1e-15, "%g", t->cfg.energy_spread);
    }
    for (int i = 0; i < 5; i++) setup_field_cycle(t, FIELD_SPREAD, -1);
    cr_expect_eq(t->cfg.energy_spread, 0, "back to no spread");
    const double spot_mm[] = {0.5, 0.7, 1, 1.5, 2, 3};
    for (int i = 0; i < 6; i++) {
        setup_field_cycle(t, FIELD_SPOT, 1);
        cr_expect(fabs(10 * t->cfg.spot_sigma_cm - spot_mm[i]) < 1e-12, "%g mm",
                  10 * t->cfg.spot_sigma_cm);
    }
    cr_expect_str_eq(apply(t, FIELD_HISTORIES, "20000"), "");
    setup_field_cycle(t, FIELD_HISTORIES, 1);
    cr_expect_eq(t->cfg.histories, 50000);
    setup_field_cycle(t, FIELD_HISTORIES, -1);
    setup_field_cycle(t, FIELD_HISTORIES, -1);
    cr_expect_eq(t->cfg.histories, 10000);

    t->status[0] = '\0';
    run_config before = t->cfg;
    setup_field_cycle(t, FIELD_STACK, 1);
    cr_expect(strstr(t->status, "Stack: Enter edits"), "%s", t->status);
    cr_expect(memcmp(&before, &t->cfg, sizeof before) == 0, "the stack changed");
    catalog_free(&t->cat);
}

/* Left/right at the end of a range said nothing: the ladders had bounds of their own (spread
 * 0.1-20 %, spot 0.5-100 mm, histories 100-1e12) and at them left the value as it was, with no
 * message; the histories stopped at 100 where the setup takes down to the batches (20), and a
 * seed of 2^64 - 1 stepped round to 0. Now a step goes to the next round number and
 * config_validate alone refuses it, naming the range; a step that changes nothing (0 going
 * down, the seed's ends) names the range too. */
Test(ui, left_right_at_the_end_of_a_range_says_so)
{
    tui_state *t = setup_state();
    cr_expect_str_eq(apply(t, FIELD_SPREAD, "20"), "");
    t->status[0] = '\0';
    setup_field_cycle(t, FIELD_SPREAD, 1);
    /* The next round number (50%) lies past the range: the status names the value shown. */
    cr_expect(t->cfg.energy_spread == 0.2 && t->status_error, "%g", t->cfg.energy_spread);
    cr_expect_str_eq(t->status, "Spread: 20 % is the top of its range (valid: 0 to 20 %)");
    cr_expect_str_eq(apply(t, FIELD_SPREAD, "0"), "");
    t->status[0] = '\0';
    setup_field_cycle(t, FIELD_SPREAD, -1);
    cr_expect(t->cfg.energy_spread == 0, "%g", t->cfg.energy_spread);
    cr_expect_str_eq(t->status, "Spread: 0 % is the bottom of its range (valid: 0 to 20 %)");
    cr_expect_str_eq(apply(t, FIELD_SPOT, "100"), "");
    t->status[0] = '\0';
    setup_field_cycle(t, FIELD_SPOT, 1);
    cr_expect(fabs(t->cfg.spot_sigma_cm - 10) < 1e-12, "%g", t->cfg.spot_sigma_cm);
    cr_expect_str_eq(t->status, "Spot: 100 mm is the top of its range (valid: 0 to 100 mm)");
    cr_expect_str_eq(apply(t, FIELD_SPOT, "0"), "");
    t->status[0] = '\0';
    setup_field_cycle(t, FIELD_SPOT, -1);
    cr_expect_str_eq(t->status, "Spot: 0 mm is the bottom of its range (valid: 0 to 100 mm)");

    /* Histories down to the batches, then the batches' message. */
    cr_expect_str_eq(apply(t, FIELD_HISTORIES, "100"), "");
    setup_field_cycle(t, FIELD_HISTORIES, -1);
    cr_expect_eq(t->cfg.histories, 50);
    setup_field_cycle(t, FIELD_HISTORIES, -1);
    cr_expect_eq(t->cfg.histories, 20);
    t->status[0] = '\0';
    setup_field_cycle(t, FIELD_HISTORIES, -1);
    cr_expect(t->cfg.histories == 20, "%llu", (unsigned long long)t->cfg.histories);
    cr_expect_str_eq(t->status, "Histories: 20 is the bottom of its range (valid: 20 to 1e12)");
    cr_expect_str_eq(apply(t, FIELD_HISTORIES, "1e12"), "");
    t->status[0] = '\0';
    setup_field_cycle(t, FIELD_HISTORIES, 1);
    cr_expect(t->cfg.histories == 1000000000000ull, "%llu",
              (unsigned long long)t->cfg.histories);
    cr_expect_str_eq(t->status,
                     "Histories: 1000000000000 is the top of its range (valid: 20 to 1e12)");

    /* The seed's ends: it neither wraps round nor stays silent. */
    cr_expect_str_eq(apply(t, FIELD_SEED, "18446744073709551615"), "");
    t->status[0] = '\0';
    setup_field_cycle(t, FIELD_SEED, 1);
    cr_expect_eq(t->cfg.seed, UINT64_MAX, "the seed wrapped round");
    cr_expect_str_eq(t->status, "Seed: 18446744073709551615 is the top of its range (valid: 0 "
                                "to 18446744073709551615)");
    setup_field_cycle(t, FIELD_SEED, -1);
    cr_expect_eq(t->cfg.seed, UINT64_MAX - 1);
    cr_expect_str_eq(apply(t, FIELD_SEED, "0"), "");
    t->status[0] = '\0';
    setup_field_cycle(t, FIELD_SEED, -1);
    cr_expect(t->cfg.seed == 0 && strstr(t->status, "Seed: 0 is the bottom"), "'%s'", t->status);
    catalog_free(&t->cat);
}

/* One unit and one range per field, whichever way a value is typed: the energy's hint said
 * "MeV per nucleon" for protons, whose field says MeV; the histories' hint "20 to 1e12" where
 * 0 was refused with "2 to 1000000000000" and -5 with "2 to 1e+12". */
Test(ui, hints_and_refusals_say_the_same_unit_and_range)
{
    tui_state *t = setup_state();
    cr_expect_str_eq(apply(t, FIELD_ION, "p"), "");
    t->focus = FIELD_ENERGY;
    setup_edit_begin(t);
    cr_expect(strstr(t->edit_msg, "ok: beam energy, MeV (") && !strstr(t->edit_msg, "nucleon"),
              "%s", t->edit_msg);
    t->editing = 0;
    cr_expect_str_eq(apply(t, FIELD_ION, "C-12"), "");
    setup_edit_begin(t);
    cr_expect(strstr(t->edit_msg, "ok: energy per nucleon, MeV/u ("), "%s", t->edit_msg);
    t->editing = 0;
    t->focus = FIELD_HISTORIES;
    setup_edit_begin(t);
    char want[64];
    snprintf(want, sizeof want, "(%d to 1e12;", t->cfg.batches);
    cr_expect(strstr(t->edit_msg, want), "%s", t->edit_msg);
    t->editing = 0;
    snprintf(want, sizeof want, "(valid: %d to 1e12)", t->cfg.batches);
    const char *typed[] = {"0", "-5", "10", "1e13", "2.5"};
    for (size_t i = 0; i < sizeof typed / sizeof typed[0]; i++) {
        const char *m = apply(t, FIELD_HISTORIES, typed[i]);
        cr_expect(strstr(m, "histories: ") && strstr(m, want), "%s: %s", typed[i], m);
    }
    catalog_free(&t->cat);
}
