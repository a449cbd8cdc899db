/*
 * tui.c - the workbench: terminal set-up and restore, the main loop (input with a 100 ms
 * timeout, about ten redraws a second while the engine's threads compute), keys and mouse,
 * run control, overlays, the benchmark race, the SOBP job, export, settings.
 *
 * The engine runs on its own thread; this thread only takes snapshots (copies) and sends
 * commands, so the screen stays responsive with every core busy.
 */
#include "tui.h"

#include <cjson/cJSON.h>
#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <math.h>
#include <omp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <time.h>
#include <unistd.h>

#include "atomic_file.h"
#include "backend.h"
#include "depth_unit.h"
#include "dose_map.h"
#include "draw.h"
#include "figures.h"
#include "layout.h"
#include "live_panel.h"
#include "map_panel.h"
#include "plot_panel.h"
#include "profile_panel.h"
#include "report.h"
#include "run_file.h"
#include "settings.h"
#include "setup_panel.h"
#include "tui_state.h"

/* Signal handlers only set flags (the loop acts on them), except for crashes, where the
 * terminal is restored before the default action: a crashed workbench must not leave the
 * shell in raw mode. */
static volatile sig_atomic_t stop_requested;
static int curses_active;

static void restore_terminal(void)
{
    if (curses_active && !isendwin()) endwin();
}

static void on_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
}

extern char **environ;   /* the SOBP job's environment starts from it */

static void on_crash(int sig)
{
    /* endwin is not async-signal-safe, but the process is about to die anyway and a terminal
     * left in raw mode is worse; htop and nvtop do the same. */
    restore_terminal();
    signal(sig, SIG_DFL);
    raise(sig);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

void tui_beam_label(const tui_state *t, const run_config *c, char *out, size_t len)
{
    const ion *ion = ion_table_find(&t->cat.ions, c->ion);
    snprintf(out, len, "%s %g %s", c->ion, c->energy, ion_energy_unit(ion ? ion->A : 0));
}

void tui_material_short(const tui_state *t, const char *name, char *out, size_t len)
{
    snprintf(out, len, "%s", name);
    const material *m = material_table_find(&t->cat.materials, name);
    if (!m) return;
    char list[sizeof m->aliases];
    snprintf(list, sizeof list, "%s", m->aliases);
    char *save = NULL;
    for (char *a = strtok_r(list, ",", &save); a; a = strtok_r(NULL, ",", &save)) {
        /* Letters only (not g4_bone..., not h2o), and at least 4 of them. */
        size_t n = strlen(a);
        int letters = n >= 4;
        for (size_t i = 0; i < n && letters; i++) letters = a[i] >= 'a' && a[i] <= 'z';
        if (letters && n < strlen(out)) snprintf(out, len, "%s", a);
    }
}

/* A setup with what does not change the results set aside (tui_setup_changed). */
static void comparable(run_config *c, int sobp)
{
    c->profile = 0;
    c->threads = 0;
    memset(c->backend, 0, sizeof c->backend);
    c->map_kind = MAP_NONE;
    c->map_bin_cm = c->map_radius_cm = 0;
    c->map_errors = 0;
    if (sobp) {
        c->energy_spread = c->spot_sigma_cm = c->divergence_rad = 0;
        c->straggling = c->scattering = 1;
    }
}

/* The SOBP job (`s`) of a setup: `bragg sobp`'s command line, which is all the job takes from
 * the setup. Made in one place, so that what start_sobp runs is what tui_setup_changed
 * compares: the job's histories per energy are a tenth of the field's, clamped, and Histories
 * from 5000 to 8000 gave the same job but said "setup changed". argv points into `c` and into
 * the job itself (neither may move while it is used); argv[argc] is NULL, and the record's
 * --json NAME may be added after it. */
typedef struct sobp_job {
    double range_cm;        /* the beam's CSDA depth */
    double from, to;        /* the target, cm: from 2/3 to 0.97 of the range */
    uint64_t per_energy;    /* histories per pristine run */
    char a_from[32], a_to[32], a_bin[32], a_n[32], a_seed[32], a_threads[16], a_dose[32],
        a_ab[32];
    const char *argv[40];
    int argc;
} sobp_job;

/* The job of setup c (BRAGG_ERR, e saying why, when it has none: a stack). The target is the
 * last third of the beam's CSDA range, which an engine built for the beam and never started
 * gives; the histories per energy a tenth of the field's, 1000 to 20 000. */
static int sobp_job_make(const run_config *c, sobp_job *j, bragg_err *e)
{
    if (c->n_slabs != 1 || !isinf(c->slabs[0].thickness_cm))
        return bragg_fail(e, "SOBP: needs one material, not a stack (Stack: none)");
    engine *probe;
    run_config pc = *c;
    pc.bio_model[0] = '\0';   /* the range does not need the z1D* tables */
    pc.map_kind = MAP_NONE;
    pc.profile = 0;
    /* Tables only: no device is opened for them, whichever backend the job will use. */
    snprintf(pc.backend, sizeof pc.backend, "serial");
    if (engine_create(&probe, &pc, e)) return BRAGG_ERR;
    j->range_cm = engine_csda_depth(probe);
    engine_destroy(probe);
    double R = j->range_cm;
    j->from = floor(200 * R / 3) / 100;
    j->to = floor(97 * R) / 100;
    uint64_t n = c->histories / 10;
    j->per_energy = n < 1000 ? 1000 : n > 20000 ? 20000 : n;
    /* Bins of 1 mm (sobp's default), finer for a short range: the plateau's flatness is read
     * off at least 20 bins (sobp refuses fewer than 3), down to sobp's finest, 0.01 mm. */
    double bin_mm = floor(100 * (j->to - j->from) * 10 / 20) / 100;
    bin_mm = bin_mm > 1.0 ? 1.0 : bin_mm < 0.01 ? 0.01 : bin_mm;
    snprintf(j->a_bin, sizeof j->a_bin, "%g", bin_mm);
    snprintf(j->a_from, sizeof j->a_from, "%g", j->from);
    snprintf(j->a_to, sizeof j->a_to, "%g", j->to);
    snprintf(j->a_n, sizeof j->a_n, "%llu", (unsigned long long)j->per_energy);
    snprintf(j->a_seed, sizeof j->a_seed, "%llu", (unsigned long long)c->seed);
    snprintf(j->a_threads, sizeof j->a_threads, "%d", c->threads);
    snprintf(j->a_dose, sizeof j->a_dose, "%g", c->bio_dose);
    snprintf(j->a_ab, sizeof j->a_ab, "%g", c->bio_alpha_beta);
    const char **a = j->argv;
    int k = 0;
    a[k++] = "bragg";
    a[k++] = "sobp";
    a[k++] = "--ion";
    a[k++] = c->ion;
    a[k++] = "--material";
    a[k++] = c->slabs[0].material;
    a[k++] = "--from";
    a[k++] = j->a_from;
    a[k++] = "--to";
    a[k++] = j->a_to;
    a[k++] = "--bin";
    a[k++] = j->a_bin;
    a[k++] = "-n";
    a[k++] = j->a_n;
    a[k++] = "--seed";
    a[k++] = j->a_seed;
    a[k++] = "--threads";
    a[k++] = j->a_threads;
    a[k++] = "--backend";
    a[k++] = c->backend;
    if (!c->nuclear) a[k++] = "--no-nuclear";
    if (c->bio_model[0]) {
        a[k++] = "--biological";
        a[k++] = c->bio_model;
        a[k++] = "--dose";
        a[k++] = j->a_dose;
        if (c->bio_alpha_beta > 0) {
            a[k++] = "--alpha-beta";
            a[k++] = j->a_ab;
        }
    }
    a[k++] = "-q";
    a[k] = NULL;
    j->argc = k;
    return BRAGG_OK;
}

/* The words of the SOBP job of setup c (run file text `key`), one line, into out; "" when it
 * has none. The SOBP view asks every frame, for two setups (the record's and the fields'),
 * and each answer builds tables: the answers for the last setups asked about are kept, the
 * one longest unasked replaced. Copied out, since the next question may replace the entry.
 * The UI thread only. */
static void sobp_job_words(const run_config *c, const char *key, char *out, size_t len)
{
    enum { KEPT = 2 };
    static struct {
        char key[8192], words[1024];
        unsigned long asked;   /* 0: empty */
    } kept[KEPT];
    static unsigned long asked;
    int hit = -1, i = 0;
    for (int k = 0; k < KEPT; k++) {
        if (kept[k].asked && strcmp(kept[k].key, key) == 0) hit = k;
        if (kept[k].asked < kept[i].asked) i = k;
    }
    if (hit >= 0) {
        i = hit;
    } else {
        sobp_job j;
        bragg_err e = {{0}};
        size_t at = 0;
        kept[i].words[0] = '\0';
        if (sobp_job_make(c, &j, &e) == BRAGG_OK)
            for (int k = 0; k < j.argc && at < sizeof kept[i].words; k++)
                at += (size_t)snprintf(kept[i].words + at, sizeof kept[i].words - at, "%s%s",
                                       k ? " " : "", j.argv[k]);
        snprintf(kept[i].key, sizeof kept[i].key, "%s", key);
    }
    kept[i].asked = ++asked;
    snprintf(out, len, "%s", kept[i].words);
}

int tui_setup_changed(const tui_state *t, const run_config *ran, int sobp)
{
    /* Compared as the run files they would write: every key, without a list to keep; an SOBP
     * as the jobs they give. */
    static char a_text[8192], b_text[8192];   /* the UI thread only */
    run_config a = *ran, b = t->cfg;
    comparable(&a, sobp);
    comparable(&b, sobp);
    int la = run_file_format(&a, "", a_text, sizeof a_text);
    int lb = run_file_format(&b, "", b_text, sizeof b_text);
    if (la == lb && strcmp(a_text, b_text) == 0) return 0;
    if (!sobp) return 1;
    char a_job[1024], b_job[1024];
    sobp_job_words(&a, a_text, a_job, sizeof a_job);
    sobp_job_words(&b, b_text, b_job, sizeof b_job);
    return strcmp(a_job, b_job) != 0;
}

int tui_run_outdated(const tui_state *t)
{
    return t->en && t->have_snap && tui_setup_changed(t, engine_config(t->en), 0);
}

int tui_run_active(const tui_state *t)
{
    return t->en && t->have_snap &&
           (t->snap.state == RUN_RUNNING || t->snap.state == RUN_PAUSED ||
            t->snap.state == RUN_READY);
}

static void set_status(tui_state *t, int error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_status(tui_state *t, int error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->status, sizeof t->status, fmt, ap);
    va_end(ap);
    t->status_error = error;
}

/* Where the kept message `age` places back from the newest (0) lies in the ring. */
static int log_index(const tui_state *t, int age)
{
    return (t->log_next + TUI_LOG_N - 1 - age) % TUI_LOG_N;
}

/* Keeps a message for `M`. The main loop hands it every status message (whoever wrote it) and
 * the edits refused on Enter; the newest is not kept twice. */
static void log_message(tui_state *t, int error, const char *text)
{
    if (!*text || (t->log_n && strcmp(t->log[log_index(t, 0)], text) == 0)) return;
    snprintf(t->log[t->log_next], sizeof t->log[0], "%s", text);
    t->log_error[t->log_next] = error;
    t->log_next = (t->log_next + 1) % TUI_LOG_N;
    if (t->log_n < TUI_LOG_N) t->log_n++;
}

/* ------------------------------------------------------------------------------------------ */
/* Runs                                                                                        */

static void drop_engine(tui_state *t)
{
    if (t->en) {
        engine_cancel(t->en);
        engine_destroy(t->en);   /* joins the run thread */
        t->en = NULL;
    }
    if (t->have_snap) run_snapshot_free(&t->snap);
    t->have_snap = 0;
    t->final_snap = 0;
}

static void drop_race_engine(tui_state *t)
{
    if (t->race_en) {
        engine_cancel(t->race_en);
        engine_destroy(t->race_en);
        t->race_en = NULL;
    }
    if (t->race_have_snap) run_snapshot_free(&t->race_snap);
    t->race_have_snap = 0;
}

/* Creates and starts an engine for a validated configuration; NULL (the status line says
 * why) when that fails. */
static engine *launch_engine(tui_state *t, const run_config *c)
{
    bragg_err e = {{0}};
    engine *en = NULL;
    if (engine_create(&en, c, &e) == BRAGG_OK && engine_start(en, &e) == BRAGG_OK) return en;
    if (en) engine_destroy(en);
    set_status(t, 1, "%s", e.msg);
    return NULL;
}

static int start_engine(tui_state *t, const run_config *c)
{
    bragg_err e = {{0}};
    if (config_validate(c, &t->cat, &e)) {
        set_status(t, 1, "%s", e.msg);
        return BRAGG_ERR;
    }
    /* The new engine first: a run that cannot start leaves the one on screen (its views, the
     * Live panel and what e exports) as it was. */
    engine *en = launch_engine(t, c);
    if (!en) return BRAGG_ERR;
    drop_engine(t);
    t->en = en;
    t->rate_n = 0;
    t->next_sample_t = now_s() + RATE_PERIOD_S;
    return BRAGG_OK;
}

/* Takes en's snapshot into *snap, freeing the one before; BRAGG_ERR (said on the status line)
 * when none could be taken. */
static int take_snapshot(tui_state *t, engine *en, run_snapshot *snap, int *have)
{
    bragg_err e = {{0}};
    run_snapshot s;
    if (engine_snapshot(en, &s, &e)) {
        set_status(t, 1, "%s", e.msg);
        return BRAGG_ERR;
    }
    if (*have) run_snapshot_free(snap);
    *snap = s;
    *have = 1;
    return BRAGG_OK;
}

static int run_ended(run_state s)
{
    return s == RUN_DONE || s == RUN_CANCELLED || s == RUN_FAILED;
}

/* What keeps the workbench busy, as the messages name it ("a race is going"), or NULL: one
 * job at a time, since each takes every core. */
static const char *busy_job(const tui_state *t)
{
    if (tui_run_active(t)) return "a run";
    if (t->race_active) return "a race";
    if (t->sobp_pid) return "an SOBP";
    return NULL;
}

/* The setup and the workbench's own settings, remembered for the next session. */
/* Saves the setup and the export folder, unless the file could not be set aside at start (then
 * it is the user's unreadable file, which defaults must not replace). */
static int save_settings(const tui_state *t, bragg_err *e)
{
    static workbench_settings w;   /* large; the UI thread only */
    if (t->settings_frozen) return BRAGG_OK;
    w.cfg = t->cfg;
    snprintf(w.export_dir, sizeof w.export_dir, "%s", t->export_dir);
    memcpy(w.outputs, t->settings_outputs, sizeof w.outputs);
    return settings_save(&w, e);
}

/* 1 (the status line says why and what to do) when the Backend field names CUDA on a machine
 * without it: refused before anything runs, so the run on screen stays. */
static int backend_missing(tui_state *t)
{
    if (strcmp(t->cfg.backend, "cuda") != 0 || t->cuda_ok) return 0;
    set_status(t, 1, "nothing run: no CUDA here; Left/Right on Backend picks another. %s",
               t->cuda_reason);
    return 1;
}

static void start_run(tui_state *t)
{
    const char *busy = busy_job(t);
    if (busy) {
        set_status(t, 1, "%s is going: c cancels it%s", busy,
                   tui_run_active(t) ? ", space pauses it" : "");
        return;
    }
    if (backend_missing(t)) return;
    run_config c = t->cfg;
    c.profile = 1;   /* the profile panel is live; costs about 1.5% */
    if (start_engine(t, &c) == BRAGG_OK) {
        char beam[96];
        tui_beam_label(t, &c, beam, sizeof beam);
        set_status(t, 0, "running %s, %llu histories", beam, (unsigned long long)c.histories);
        if (t->view == VIEW_RACE) t->view = VIEW_DOSE;
        bragg_err e = {{0}};
        if (save_settings(t, &e)) set_status(t, 1, "%s", e.msg);
    }
}

/* Ends the race before its last configuration: the ones not run say so (not "waiting"). The
 * status line is the caller's. */
static void end_race(tui_state *t)
{
    for (int i = t->race_at; i < t->race_n; i++)
        if (!t->race[i].done && !t->race[i].skipped) t->race[i].not_run = 1;
    t->race_active = 0;
    drop_race_engine(t);
}

/* The race: the same configuration on serial, OpenMP with 1..N threads, the event loop and the
 * simd backend (the event loop with vector kernels) on N threads and CUDA, in turn, each on
 * the race's own engine. */
static void start_race_entry(tui_state *t)
{
    drop_race_engine(t);
    while (t->race_at < t->race_n && t->race[t->race_at].skipped) t->race_at++;
    if (t->race_at >= t->race_n) {
        t->race_active = 0;
        set_status(t, 0, "race done: e exports it");
        return;
    }
    race_entry *r = &t->race[t->race_at];
    run_config c = t->race_cfg;
    c.profile = 0;   /* the race measures the plain speed */
    snprintf(c.backend, sizeof c.backend, "%s", r->backend);
    c.threads = r->threads;
    t->race_en = launch_engine(t, &c);
    if (!t->race_en) end_race(t);   /* the status line says why */
}

static void start_race(tui_state *t)
{
    const char *busy = busy_job(t);
    if (busy) {
        set_status(t, 1, "%s is going: c cancels it first", busy);
        return;
    }
    bragg_err e = {{0}};
    if (config_validate(&t->cfg, &t->cat, &e)) {
        set_status(t, 1, "%s", e.msg);
        return;
    }
    t->race_n = 0;
    race_entry *r = &t->race[t->race_n++];
    memset(r, 0, sizeof *r);
    snprintf(r->backend, sizeof r->backend, "serial");
    for (int th = 1; th <= t->cores && t->race_n < RACE_MAX - 3; th++) {
        r = &t->race[t->race_n++];
        memset(r, 0, sizeof *r);
        snprintf(r->backend, sizeof r->backend, "openmp");
        r->threads = th;
    }
    /* The event loop (the GPU's shape) on every core. */
    r = &t->race[t->race_n++];
    memset(r, 0, sizeof *r);
    snprintf(r->backend, sizeof r->backend, "event");
    r->threads = t->cores;
    /* The same loop with its random blocks computed 8 or 16 streams at a time. */
    r = &t->race[t->race_n++];
    memset(r, 0, sizeof *r);
    snprintf(r->backend, sizeof r->backend, "simd");
    r->threads = t->cores;
    r = &t->race[t->race_n++];
    memset(r, 0, sizeof *r);
    snprintf(r->backend, sizeof r->backend, "cuda");
    r->skipped = !t->cuda_ok;
    t->race_at = 0;
    t->race_active = 1;
    t->race_cfg = t->cfg;
    t->view = VIEW_RACE;
    set_status(t, 0, "race: %d configurations in turn (c cancels)", t->race_n);
    start_race_entry(t);
}

static void poll_race(tui_state *t)
{
    if (!t->race_active || !t->race_en) return;
    if (take_snapshot(t, t->race_en, &t->race_snap, &t->race_have_snap)) return;
    const run_snapshot *s = &t->race_snap;
    if (s->state == RUN_DONE) {
        t->race[t->race_at].done = 1;
        t->race[t->race_at].hps = s->histories_per_s;
        t->race_at++;
        start_race_entry(t);
    } else if (run_ended(s->state)) {
        char why[sizeof s->error];
        snprintf(why, sizeof why, "%s", s->state == RUN_FAILED ? s->error : "cancelled");
        int failed = s->state == RUN_FAILED;
        end_race(t);
        set_status(t, failed, "race stopped: %s", why);
    }
}

/* `c` during a race: the race ends there; the run before it (and its views) stays. */
static void cancel_race(tui_state *t)
{
    int done = 0;
    for (int i = 0; i < t->race_n; i++) done += t->race[i].done;
    end_race(t);
    set_status(t, 0, "race cancelled: %d of %d configurations run", done, t->race_n);
}

static void poll_engine(tui_state *t)
{
    if (!t->en || t->final_snap) return;
    if (take_snapshot(t, t->en, &t->snap, &t->have_snap)) return;
    const run_snapshot s = t->snap;   /* a shallow copy, for short names */
    if (s.profile_on) {
        /* Kept apart from the snapshot, so the panel keeps the last profile measured. */
        t->prof.on = 1;
        memcpy(t->prof.share, s.profile_share, sizeof t->prof.share);
        memcpy(t->prof.ns_per_step, s.profile_ns_per_step, sizeof t->prof.ns_per_step);
    }
    double now = now_s();
    if ((s.state == RUN_RUNNING) && now >= t->next_sample_t) {
        if (t->rate_n == RATE_SAMPLES) {
            memmove(t->rate_hps, t->rate_hps + 1, sizeof t->rate_hps[0] * (RATE_SAMPLES - 1));
            memmove(t->rate_sps, t->rate_sps + 1, sizeof t->rate_sps[0] * (RATE_SAMPLES - 1));
            t->rate_n--;
        }
        t->rate_hps[t->rate_n] = s.histories_per_s;
        t->rate_sps[t->rate_n] = s.steps_per_s;
        t->rate_n++;
        t->next_sample_t = now + RATE_PERIOD_S;
    }
    if (!run_ended(s.state)) return;
    t->final_snap = 1;
    char note[512];
    if (s.state == RUN_DONE && report_figures_note(t->en, &s.result, note, sizeof note)) {
        /* Peak and R80 would mislead here (no Bragg peak on the grid): the note says why. */
        set_status(t, 0, "done: %llu histories in %.1f s; %s", (unsigned long long)s.result.histories,
                   s.elapsed_s, note);
    } else if (s.state == RUN_DONE) {
        depth_unit du = depth_unit_for(engine_csda_depth(t->en));
        const char *unit = glyph(du.symbol, du.name);
        set_status(t, 0, "done: %llu histories in %.1f s, peak %.3f %s, R80 %.3f %s",
                   (unsigned long long)s.result.histories, s.elapsed_s,
                   s.result.fig.peak_depth * du.per_cm, unit, s.result.fig.r80 * du.per_cm, unit);
    } else if (s.state == RUN_CANCELLED) {
        set_status(t, 0, "cancelled after %llu histories, workers stopped in %.0f ms (kept; "
                         "e exports them)",
                   (unsigned long long)s.result.histories, t->cancel_ms);
    } else {
        set_status(t, 1, "run failed: %s", s.error);
    }
}

static void cancel_run(tui_state *t)
{
    if (!tui_run_active(t)) {
        set_status(t, 0, "nothing to cancel");
        return;
    }
    double t0 = now_s();
    engine_cancel(t->en);
    engine_wait(t->en, 5.0);
    t->cancel_ms = 1000 * (now_s() - t0);
}

/* ------------------------------------------------------------------------------------------ */
/* The SOBP job                                                                                */

/* `s` builds a spread-out Bragg peak for the setup: the target is the last third of the beam's
 * CSDA range (from 2/3 to 0.97 of it), biologically flat at the Biology field's model (dose:
 * the model's physical dose setting, 2 Gy) when one is chosen, else physically flat. It runs as
 * a `bragg sobp` child process (the command line's job, unchanged), so the screen stays live
 * and a cancel is one signal; the record it writes is drawn in the SOBP view. */
static void free_sobp(tui_state *t)
{
    cJSON_Delete(t->sobp);
    t->sobp = NULL;
    free(t->sobp_depth);
    t->sobp_depth = t->sobp_dose = t->sobp_rbe_dose = NULL;
    t->sobp_n = 0;
}

/* Copies a numeric array of `o` (null as NaN) into out[0..n-1]; 0 when it is not n long. */
static int json_array(const cJSON *o, double *out, int n)
{
    if (!cJSON_IsArray(o) || cJSON_GetArraySize(o) != n) return 0;
    int i = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, o) out[i++] = cJSON_IsNumber(v) ? v->valuedouble : NAN;
    return 1;
}

static void load_sobp(tui_state *t)
{
    free_sobp(t);
    FILE *f = fopen(t->sobp_path, "r");
    char *text = NULL;
    long len = 0;
    if (f && fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (text = malloc((size_t)len + 1)) && fread(text, 1, (size_t)len, f) == (size_t)len) {
        text[len] = '\0';
        t->sobp = cJSON_Parse(text);
    }
    if (f) fclose(f);
    free(text);
    const cJSON *depth = t->sobp ? cJSON_GetObjectItem(t->sobp, "depth_cm") : NULL;
    const cJSON *bio = t->sobp ? cJSON_GetObjectItem(t->sobp, "biology") : NULL;
    const cJSON *curves = bio ? cJSON_GetObjectItem(bio, "curves") : NULL;
    int n = cJSON_IsArray(depth) ? cJSON_GetArraySize(depth) : 0;
    t->sobp_depth = n > 0 ? malloc(3 * (size_t)n * sizeof(double)) : NULL;
    if (!t->sobp_depth) {
        free_sobp(t);
        set_status(t, 1, "SOBP: the record could not be read");
        return;
    }
    t->sobp_dose = t->sobp_depth + n;
    t->sobp_n = n;
    int ok = json_array(depth, t->sobp_depth, n);
    if (curves) {
        t->sobp_rbe_dose = t->sobp_dose + n;
        ok = ok && json_array(cJSON_GetObjectItem(curves, "physical_dose_Gy"), t->sobp_dose, n) &&
             json_array(cJSON_GetObjectItem(curves, "rbe_weighted_dose_Gy"), t->sobp_rbe_dose, n);
    } else {
        ok = ok && json_array(cJSON_GetObjectItem(t->sobp, "dose_Gy_cm2"), t->sobp_dose, n);
    }
    if (!ok) {
        free_sobp(t);
        set_status(t, 1, "SOBP: the record could not be read");
        return;
    }
    t->sobp_cfg = t->sobp_job_cfg;
    const cJSON *flat = cJSON_GetObjectItem(t->sobp, "max_deviation");
    set_status(t, 0, "SOBP done: %s dose flat within +-%.2f%% (e exports it)",
               curves ? "RBE-weighted" : "physical", cJSON_IsNumber(flat) ? 100 * flat->valuedouble : NAN);
    t->view = VIEW_SOBP;
}

/* Removes the job's folder and what is in it (the record once read, the log), and closes
 * its progress pipe. */
static void sobp_cleanup(tui_state *t)
{
    unlink(t->sobp_path);
    unlink(t->sobp_log);
    rmdir(t->sobp_dir);
    if (t->sobp_pipe >= 0) close(t->sobp_pipe);
    t->sobp_pipe = -1;
}

/* Takes the job's progress lines that have come ("pilot K", "energy k K", "refit"). */
static void read_sobp_progress(tui_state *t)
{
    char buf[512];
    ssize_t n;
    while (t->sobp_pipe >= 0 && (n = read(t->sobp_pipe, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            size_t len = strlen(t->sobp_line);
            if (buf[i] != '\n') {
                if (len + 1 < sizeof t->sobp_line) {
                    t->sobp_line[len] = buf[i];
                    t->sobp_line[len + 1] = '\0';
                }
                continue;
            }
            int k, K;
            if (sscanf(t->sobp_line, "pilot %d", &K) == 1) {
                t->sobp_energy = 0;
                t->sobp_energies = K;
            } else if (sscanf(t->sobp_line, "energy %d %d", &k, &K) == 2) {
                t->sobp_energy = k;
                t->sobp_energies = K;
            } else if (strcmp(t->sobp_line, "refit") == 0) {
                t->sobp_refit = 1;
            }
            t->sobp_line[0] = '\0';
        }
    }
}

void tui_sobp_progress(const tui_state *t, char *out, size_t len)
{
    if (t->sobp_refit) snprintf(out, len, "refitting the weights");
    else if (t->sobp_energy > 0)
        snprintf(out, len, "energy %d of %d", t->sobp_energy, t->sobp_energies);
    else if (t->sobp_energies > 0)
        snprintf(out, len, "pilot run, then %d energies", t->sobp_energies);
    else out[0] = '\0';
}

static void stop_sobp(tui_state *t)
{
    if (!t->sobp_pid) return;
    kill(t->sobp_pid, SIGTERM);
    waitpid(t->sobp_pid, NULL, 0);
    t->sobp_pid = 0;
    sobp_cleanup(t);
}

static void poll_sobp(tui_state *t)
{
    if (!t->sobp_pid) return;
    read_sobp_progress(t);
    int st;
    if (waitpid(t->sobp_pid, &st, WNOHANG) != t->sobp_pid) return;
    t->sobp_pid = 0;
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
        load_sobp(t);
    } else {
        /* The child's own one-line message says why. */
        char line[400] = "", last[400] = "";
        FILE *f = fopen(t->sobp_log, "r");
        while (f && fgets(line, sizeof line, f))
            if (line[0] != '\n') snprintf(last, sizeof last, "%s", line);
        if (f) fclose(f);
        last[strcspn(last, "\n")] = '\0';
        set_status(t, 1, "SOBP failed: %s", last[0] ? last : "the job was stopped");
    }
    sobp_cleanup(t);
}

static void start_sobp(tui_state *t)
{
    const char *busy = busy_job(t);
    if (busy) {
        set_status(t, 1, "%s is going: c cancels it first", busy);
        return;
    }
    if (backend_missing(t)) return;
    const run_config *c = &t->cfg;
    sobp_job job;
    bragg_err e = {{0}};
    if (sobp_job_make(c, &job, &e)) {
        set_status(t, 1, "%s", e.msg);
        return;
    }
    /* The record and the log go into a folder of the job's own (mkdtemp: a new name, mode
     * 0700): in a shared /tmp a predictable name could be taken first, or be a link to a file
     * of the user's that the job would then write. */
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp) tmp = "/tmp";
    snprintf(t->sobp_dir, sizeof t->sobp_dir, "%s/bragg-sobp-XXXXXX", tmp);
    if (!mkdtemp(t->sobp_dir)) {
        set_status(t, 1, "SOBP: cannot make a folder in %s for the job: %s", tmp, strerror(errno));
        return;
    }
    snprintf(t->sobp_path, sizeof t->sobp_path, "%s/sobp.json", t->sobp_dir);
    snprintf(t->sobp_log, sizeof t->sobp_log, "%s/sobp.log", t->sobp_dir);
    const char **argv = job.argv;
    int k = job.argc;
    argv[k++] = "--json";
    argv[k++] = t->sobp_path;
    argv[k] = NULL;
    /* Its progress comes back through a pipe, the write end its descriptor 3, named in its
     * environment (everything made before fork: the child may only make async-signal-safe
     * calls). Without a pipe the job runs all the same, with no progress to show. */
    int progress[2] = {-1, -1};
    if (pipe(progress) == 0) {
        fcntl(progress[0], F_SETFD, FD_CLOEXEC);
        fcntl(progress[1], F_SETFD, FD_CLOEXEC);
        fcntl(progress[0], F_SETFL, O_NONBLOCK);
    }
    size_t n_env = 0;
    while (environ[n_env]) n_env++;
    char **envp = malloc((n_env + 2) * sizeof *envp);
    if (envp) {
        size_t j = 0;
        static const char var[] = "BRAGG_SOBP_PROGRESS_FD=";
        for (size_t i = 0; i < n_env; i++)
            if (strncmp(environ[i], var, sizeof var - 1) != 0) envp[j++] = environ[i];
        if (progress[1] >= 0) envp[j++] = "BRAGG_SOBP_PROGRESS_FD=3";
        envp[j] = NULL;
    }
    t->sobp_pipe = progress[0];
    t->sobp_line[0] = '\0';
    t->sobp_energy = t->sobp_energies = t->sobp_refit = 0;
    pid_t parent = getpid();
    pid_t pid = envp ? fork() : -1;
    if (pid < 0) {
        free(envp);
        if (progress[1] >= 0) close(progress[1]);
        set_status(t, 1, "SOBP: cannot start the job");
        sobp_cleanup(t);
        return;
    }
    if (pid == 0) {
        /* The child: output to the log (its message is the status line on failure). Only
         * async-signal-safe calls between fork and exec: the parent has threads. */
#ifdef __linux__
        /* A workbench that dies (killed, crashed) must not leave the job computing for no
         * one: the kernel sends SIGTERM, which bragg sobp takes as "stop". The signal follows
         * the thread that forked, the UI thread, which lives as long as the workbench. If the
         * parent is already gone, stop now. */
        if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent) _exit(127);
#else
        (void)parent;
#endif
        if (progress[1] == 3) fcntl(3, F_SETFD, 0);   /* kept through exec */
        else if (progress[1] >= 0) dup2(progress[1], 3);
        int log = open(t->sobp_log, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
        int nul = open("/dev/null", O_RDONLY);
        if (log >= 0) {
            dup2(log, STDOUT_FILENO);
            dup2(log, STDERR_FILENO);
        }
        if (nul >= 0) dup2(nul, STDIN_FILENO);
        execve("/proc/self/exe", (char *const *)argv, envp);
        _exit(127);
    }
    free(envp);
    if (progress[1] >= 0) close(progress[1]);
    t->sobp_pid = pid;
    t->sobp_job_cfg = *c;
    t->view = VIEW_SOBP;
    /* The target in the unit of the beam's range (src/output/depth_unit.h): p 10 MeV's read
     * "0.08-0.11 cm". */
    depth_unit du = depth_unit_for(job.range_cm);
    set_status(t, 0, "SOBP of %s in %s, %g-%g %s%s: %llu histories per energy (c cancels)",
               c->ion, c->slabs[0].material, job.from * du.per_cm, job.to * du.per_cm,
               glyph(du.symbol, du.name), c->bio_model[0] ? ", RBE-weighted flat" : "",
               (unsigned long long)job.per_energy);
}

static void toggle_pause(tui_state *t)
{
    /* Every key answers: a race or an SOBP runs to its end or is cancelled, never paused. */
    if (!tui_run_active(t)) {
        const char *busy = busy_job(t);
        if (busy) set_status(t, 0, "%s does not pause: c cancels it", busy);
        else set_status(t, 0, "nothing to pause: r runs");
        return;
    }
    int pause = t->snap.state != RUN_PAUSED;
    engine_pause(t->en, pause);
    set_status(t, 0, pause ? "paused: space resumes" : "resumed");
}

/* ------------------------------------------------------------------------------------------ */
/* Overlays and export                                                                         */

static void free_overlay(tui_overlay *o)
{
    free(o->block);
    cJSON_Delete(o->json);
    memset(o, 0, sizeof *o);
}

/* `m`: to the map view, switching the map on for the next run; in the view, the next kind:
 * rings, x columns, off. Runs without a map score none (and lose no speed). */
void tui_map_key(tui_state *t)
{
    if (t->view != VIEW_MAP) {
        t->view = VIEW_MAP;
        if (t->cfg.map_kind == MAP_NONE) t->cfg.map_kind = MAP_RZ;
    } else if (t->cfg.map_kind == MAP_XZ) {
        /* Off: a grid from a run file goes too, or the settings saved would hold a map bin
         * without a map, which bragg run refuses (config_validate). */
        int had_grid = t->cfg.map_bin_cm > 0 || t->cfg.map_radius_cm > 0;
        config_drop_map(&t->cfg);
        set_status(t, 0, "map: off from the next run (m switches it on%s)",
                   had_grid ? "; the run file's grid is dropped: the next map fits the range"
                            : "");
        return;
    } else {
        t->cfg.map_kind = t->cfg.map_kind == MAP_RZ ? MAP_XZ : MAP_RZ;
    }
    if (t->cfg.map_kind == MAP_NONE)
        set_status(t, 0, "map: off from the next run (m switches it on)");
    else if (t->cfg.map_bin_cm > 0 && t->cfg.map_radius_cm > 0)   /* from a run file */
        set_status(t, 0, "map: %s, %g mm to %g cm, from the next run (r); m: %s",
                   t->cfg.map_kind == MAP_RZ ? "rings" : "x columns", 10 * t->cfg.map_bin_cm,
                   t->cfg.map_radius_cm, t->cfg.map_kind == MAP_RZ ? "x columns" : "off");
    else
        set_status(t, 0, "map: %s, the grid fitted to the range, from the next run (r); m: %s",
                   t->cfg.map_kind == MAP_RZ ? "rings" : "x columns",
                   t->cfg.map_kind == MAP_RZ ? "x columns" : "off");
}

static const char *norm_name(overlay_norm n)
{
    return n == NORM_PEAK ? "peak" : n == NORM_ENTRANCE ? "entrance" : "none";
}

static void keep_overlay(tui_state *t)
{
    if (!t->en || !t->have_snap || t->snap.result.histories == 0 || tui_run_active(t)) {
        set_status(t, 1, "o keeps a finished run as a reference curve: run one first");
        return;
    }
    char dropped[sizeof t->overlays[0].label] = "";
    if (t->n_overlays == TUI_MAX_OVERLAYS) {   /* the oldest goes, and the status says so */
        snprintf(dropped, sizeof dropped, "%s", t->overlays[0].label);
        free_overlay(&t->overlays[0]);
        memmove(t->overlays, t->overlays + 1, sizeof t->overlays[0] * (TUI_MAX_OVERLAYS - 1));
        t->n_overlays--;
        memset(&t->overlays[t->n_overlays], 0, sizeof t->overlays[0]);
    }
    tui_overlay *o = &t->overlays[t->n_overlays];
    const score_result *r = &t->snap.result;
    const run_config *c = engine_config(t->en);
    char geo[96], beam[64];
    config_describe_geometry(c, geo, sizeof geo);
    tui_beam_label(t, c, beam, sizeof beam);
    snprintf(o->label, sizeof o->label, "%.63s %.95s", beam, geo);
    snprintf(o->short_label, sizeof o->short_label, "%s", beam);
    size_t n = (size_t)r->nbins;
    int channels = r->channel_dose ? r->channels : 0;
    o->n = r->nbins;
    o->channels = channels;
    o->csda_cm = engine_csda_depth(t->en);
    o->block = malloc(sizeof(double) * n * (6 + (size_t)channels));
    o->json = report_build_json(t->en, &t->snap);
    if (!o->block || !o->json) {
        free_overlay(o);
        set_status(t, 1, "overlay: out of memory");
        return;
    }
    /* Every view's curves, so a kept run shows wherever the current one does. */
    double *p = o->block;
    const double *src[6] = {r->depth, r->dose, r->let_d, r->let_t, r->lateral_rms, r->fluence};
    double **dst[6] = {&o->depth, &o->dose, &o->let_d, &o->let_t, &o->lateral, &o->fluence};
    for (int k = 0; k < 6; k++, p += n) {
        memcpy(p, src[k], sizeof(double) * n);
        *dst[k] = p;
    }
    o->channel_dose = p;
    for (int ch = 0; ch < channels; ch++)
        memcpy(p + (size_t)ch * n, r->channel_dose[ch], sizeof(double) * n);
    t->n_overlays++;
    if (t->view == VIEW_RACE) t->view = VIEW_DOSE;
    /* Both runs named alike, by beam and geometry, as the kept run's own message does. */
    if (dropped[0])
        set_status(t, 0, "kept '%s'; '%s' dropped (%d at most; x clears)", o->label, dropped,
                   TUI_MAX_OVERLAYS);
    else
        set_status(t, 0, "kept '%s' (%d kept; n: normalised to %s; x clears)", o->label,
                   t->n_overlays, norm_name(t->norm));
}

/* The race as the JSON `bragg bench --json` writes, so `bragg plot` draws it the same way. */
static cJSON *race_json(const tui_state *t)
{
    char cpu[256];
    int cores;
    report_machine(cpu, sizeof cpu, &cores);
    cJSON *machine;
    cJSON *root = report_bench_root(cpu, cores, &machine);
    if (!root) return NULL;
    cJSON *runs = cJSON_AddArrayToObject(root, "runs");
    cJSON_AddArrayToObject(root, "profiles");
    /* The case is the setup the race ran: beam and the whole stack ("C-12 290 MeV/u, water
     * 5 cm | bone 2 cm | water"), not the first slab alone. */
    char name[400], beam[96], geo[300];
    tui_beam_label(t, &t->race_cfg, beam, sizeof beam);
    config_describe_geometry(&t->race_cfg, geo, sizeof geo);
    snprintf(name, sizeof name, "%s, %s", beam, geo);
    double base = 0;
    for (int i = 0; i < t->race_n; i++)
        if (t->race[i].done && strcmp(t->race[i].backend, "openmp") == 0 && t->race[i].threads == 1)
            base = t->race[i].hps;
    for (int i = 0; i < t->race_n; i++) {
        const race_entry *r = &t->race[i];
        if (!r->done) continue;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "case", name);
        cJSON_AddStringToObject(o, "backend", r->backend);
        cJSON_AddNumberToObject(o, "threads", r->threads > 0 ? r->threads : 1);
        cJSON_AddNumberToObject(o, "histories", (double)t->race_cfg.histories);
        cJSON_AddNumberToObject(o, "histories_per_s", r->hps);
        if (base > 0) cJSON_AddNumberToObject(o, "speedup", r->hps / base);
        cJSON_AddItemToArray(runs, o);
    }
    return root;
}

/* The export folder as a path: "" is the folder bragg started in; a leading "~/" is $HOME. */
static void export_dir_path(const char *dir, char *out, size_t len)
{
    const char *home = getenv("HOME");
    if (!*dir) snprintf(out, len, ".");
    else if (strncmp(dir, "~/", 2) == 0 && home && *home) snprintf(out, len, "%s/%s", home, dir + 2);
    else if (strcmp(dir, "~") == 0 && home && *home) snprintf(out, len, "%s", home);
    else snprintf(out, len, "%s", dir);
}

/* Writes text through an atomic file (the JSON of a race, the run file of an export). */
static int write_text_file(const char *path, const char *text, bragg_err *e)
{
    atomic_file af;
    if (atomic_file_open(&af, path, "export", e)) return BRAGG_ERR;
    fputs(text, af.file);
    return atomic_file_commit(&af, e);
}

/* The run's setup as a run file (bragg run --config runs it again: the dose map too). */
static int export_run_file(const tui_state *t, const char *path, bragg_err *e)
{
    char text[8192];
    int len = run_file_format(engine_config(t->en), "# exported by the bragg workbench\n", text,
                              sizeof text);
    return len > 0 && len < (int)sizeof text ? write_text_file(path, text, e)
                                             : bragg_fail(e, "run file too long");
}

/* The figure as BASE.png, and with `vector` also as BASE.svg and BASE.pdf (for papers and
 * slides), each written atomically by the figure code of `bragg plot`. */
static int write_figure(const plot_figure *fig, const plot_style *style, const char *base,
                        int vector, bragg_err *e)
{
    static const char *const ext[PLOT_FORMATS] = {
        [PLOT_FORMAT_PNG] = "png", [PLOT_FORMAT_SVG] = "svg", [PLOT_FORMAT_PDF] = "pdf"};
    for (int k = 0; k < PLOT_FORMATS; k++) {
        if (k != PLOT_FORMAT_PNG && !vector) continue;
        char path[780];
        snprintf(path, sizeof path, "%s.%s", base, ext[k]);
        if (plot_write(fig, style, (plot_format)k, path, "export", NULL, e)) return BRAGG_ERR;
    }
    return BRAGG_OK;
}

/* "export failed: " and the reason, without the "export: " the writers put first: at 80
 * columns the path and the reason are what must fit. */
static void export_failed(tui_state *t, const bragg_err *e)
{
    const char *why = strncmp(e->msg, "export: ", 8) == 0 ? e->msg + 8 : e->msg;
    set_status(t, 1, "export failed: %s", why);
}

/* The name of an export set, NAME = bragg-KIND-STAMP, made unique: when any file an export
 * could write under that name (each extension below) is already there, NAME-2, NAME-3 ... is
 * taken instead, all checked before anything is written. The stamp has one-second resolution,
 * and two exports in one second (e then E) must not replace the first: files are never
 * replaced unless the user asked. BASE is DIR/NAME. */
static int export_name(const char *dir, const char *kind, char *name, size_t name_len,
                       char *base, size_t base_len)
{
    static const char *const ext[] = {"png", "svg", "pdf", "csv", "json", "conf", "nrrd"};
    char stamp[64];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    for (int k = 1; k < 1000; k++) {
        if (k == 1) snprintf(name, name_len, "bragg-%s-%s", kind, stamp);
        else snprintf(name, name_len, "bragg-%s-%s-%d", kind, stamp, k);
        snprintf(base, base_len, "%s/%s", dir, name);
        int taken = 0;
        for (size_t i = 0; i < sizeof ext / sizeof ext[0] && !taken; i++) {
            char path[800];
            struct stat st;
            snprintf(path, sizeof path, "%s.%s", base, ext[i]);
            /* lstat: a dangling link is taken too (writing through it would create a file
             * the user did not name). */
            taken = lstat(path, &st) == 0 || errno != ENOENT;
        }
        if (!taken) return BRAGG_OK;
    }
    return BRAGG_ERR;
}

/* `e`: the view as a PNG drawn by the figure code of `bragg plot` (kept runs, normalisation
 * and log scale as on screen), the run's CSV and JSON, and its run file (bragg run --config
 * runs it again), into the export folder; `E` (vector) the same with the figure also as SVG
 * and PDF. */
static void export_view(tui_state *t, int vector)
{
    const char *figs = vector ? ".png, .svg, .pdf" : ".png";
    char name[128], dir[600], base[740];
    export_dir_path(t->export_dir, dir, sizeof dir);
    bragg_err e = {{0}};
    plot_figure fig;
    plot_style style;
    plot_style_default(&style);
    char csv[760], json[760], conf[760];
    if (t->view == VIEW_RACE) {
        int done = 0;
        for (int i = 0; i < t->race_n; i++) done += t->race[i].done;
        if (!done) {
            set_status(t, 1, "export: the race has no results yet (b starts it)");
            return;
        }
        if (export_name(dir, "race", name, sizeof name, base, sizeof base)) {
            set_status(t, 1, "export failed: no free name for bragg-race-* in %s", dir);
            return;
        }
        snprintf(json, sizeof json, "%s.json", base);
        cJSON *root = race_json(t);
        if (!root) {
            set_status(t, 1, "export: out of memory");
            return;
        }
        int rc = figures_from_bench(&fig, root, FIGURE_BENCH, NULL, &e);
        if (rc == BRAGG_OK) {
            rc = write_figure(&fig, &style, base, vector, &e);
            plot_figure_free(&fig);
        }
        char *text = rc == BRAGG_OK ? cJSON_Print(root) : NULL;
        if (text) {
            rc = write_text_file(json, text, &e);
            cJSON_free(text);
        }
        cJSON_Delete(root);
        if (rc) export_failed(t, &e);
        else set_status(t, 0, "exported %s%s, .json to %s", name, figs, dir);
        return;
    }
    if (t->view == VIEW_SOBP) {
        if (!t->sobp) {
            set_status(t, 1, "export: no SOBP yet (s builds one)");
            return;
        }
        if (export_name(dir, "sobp", name, sizeof name, base, sizeof base)) {
            set_status(t, 1, "export failed: no free name for bragg-sobp-* in %s", dir);
            return;
        }
        snprintf(json, sizeof json, "%s.json", base);
        int rc = figures_from_sobp(&fig, t->sobp, NULL, &e);
        if (rc == BRAGG_OK) {
            rc = write_figure(&fig, &style, base, vector, &e);
            plot_figure_free(&fig);
        }
        char *text = rc == BRAGG_OK ? cJSON_Print(t->sobp) : NULL;
        if (text) {
            rc = write_text_file(json, text, &e);
            cJSON_free(text);
        }
        if (rc) export_failed(t, &e);
        else set_status(t, 0, "exported %s%s, .json to %s", name, figs, dir);
        return;
    }
    if (!t->en || !t->have_snap || t->snap.result.histories == 0) {
        set_status(t, 1, "export: nothing to export yet (r runs)");
        return;
    }
    if (t->view == VIEW_BIO && !t->snap.bio.nbins) {
        set_status(t, 1, "export: this run has no biology (choose a model in Biology, then r)");
        return;
    }
    static const figure_kind kinds[VIEW_COUNT] = {
        FIGURE_DOSE,    FIGURE_CHARGE, FIGURE_LET,  FIGURE_LATERAL, FIGURE_FLUENCE,
        FIGURE_BIO,     FIGURE_SOBP,   FIGURE_MAP,  FIGURE_BENCH};
    if (export_name(dir, figure_kind_name(kinds[t->view]), name, sizeof name, base, sizeof base)) {
        set_status(t, 1, "export failed: no free name for bragg-%s-* in %s",
                   figure_kind_name(kinds[t->view]), dir);
        return;
    }
    snprintf(csv, sizeof csv, "%s.csv", base);
    snprintf(json, sizeof json, "%s.json", base);
    snprintf(conf, sizeof conf, "%s.conf", base);
    cJSON *root = report_build_json(t->en, &t->snap);
    if (!root) {
        set_status(t, 1, "export: out of memory");
        return;
    }
    if (t->view == VIEW_MAP) {
        /* The map as drawn (log scale), its NRRD file, the run's JSON naming it (beside it)
         * and the run file. */
        char nrrd[760];
        snprintf(nrrd, sizeof nrrd, "%s.nrrd", base);
        dose_map m;
        figure_map_options mo;
        memset(&mo, 0, sizeof mo);
        mo.log = 1;
        int rc = dose_map_from_result(&t->snap.result, &m, &e);
        if (rc == BRAGG_OK)
            rc = report_add_map_outputs(root, &t->snap, strrchr(nrrd, '/') + 1, NULL, 0, &e);
        if (rc == BRAGG_OK) rc = figures_from_map(&fig, root, &m, FIGURE_MAP, &mo, &e);
        if (rc == BRAGG_OK) {
            rc = write_figure(&fig, &style, base, vector, &e);
            plot_figure_free(&fig);
        }
        if (rc == BRAGG_OK)
            rc = dose_map_write_nrrd(engine_config(t->en), &t->snap, nrrd, "export", 0, &e);
        if (rc == BRAGG_OK) rc = report_write_json_tree(root, json, &e);
        cJSON_Delete(root);
        if (rc == BRAGG_OK) rc = export_run_file(t, conf, &e);
        if (rc) export_failed(t, &e);
        else set_status(t, 0, "exported %s%s, .nrrd, .json, .conf to %s", name, figs, dir);
        return;
    }
    /* The kept runs the view shows (dose by charge: those with nuclear reactions). */
    const cJSON *runs[FIGURES_MAX_RUNS];
    int n = 0;
    for (int k = 0; k < t->n_overlays && n < FIGURES_MAX_RUNS - 1; k++)
        if (t->view != VIEW_CHARGE || t->overlays[k].channels > 1) runs[n++] = t->overlays[k].json;
    runs[n++] = root;
    figure_options fo;
    figure_options_default(&fo);
    fo.kind = kinds[t->view];
    fo.norm = t->n_overlays == 0 || t->norm == NORM_NONE ? FIGURE_NORM_NONE
              : t->norm == NORM_PEAK                     ? FIGURE_NORM_PEAK
                                                         : FIGURE_NORM_ENTRANCE;
    fo.log_y = t->log_scale && plot_view_has_log(t->view);
    int rc = figures_from_runs(&fig, runs, n, &fo, &e);
    if (rc == BRAGG_OK) {
        rc = write_figure(&fig, &style, base, vector, &e);
        plot_figure_free(&fig);
    }
    cJSON_Delete(root);
    if (rc == BRAGG_OK) rc = report_write_csv(t->en, &t->snap, csv, &e);
    if (rc == BRAGG_OK) rc = report_write_json(t->en, &t->snap, json, &e);
    if (rc == BRAGG_OK) rc = export_run_file(t, conf, &e);
    if (rc) export_failed(t, &e);
    else
        set_status(t, 0, "exported %s%s, .csv, .json, .conf to %s", name, figs, dir);
}

/* `f`: the export folder, typed on the status line; checked (it must exist and be writable)
 * before it is kept, and remembered in the settings. A folder refused leaves the prompt open
 * with the text, as a refused field value does: the keys after it are more typing, not
 * commands (typing "/proc" after a refusal ran r, o and c). */
static void prompt_key(tui_state *t, int key)
{
    size_t len = strlen(t->prompt_text);
    int enter = key == '\n' || key == '\r' || key == KEY_ENTER;
    if (!enter) t->prompt_refused[0] = '\0';
    if (key == 27) {
        t->prompt = 0;
        set_status(t, 0, "export folder unchanged");
    } else if (enter) {
        char dir[600], probe[700];
        export_dir_path(t->prompt_text, dir, sizeof dir);
        snprintf(probe, sizeof probe, "%s/x", dir);
        bragg_err e = {{0}};
        struct stat st;
        /* The whole message goes to the status line (and M), shown once the prompt ends. */
        if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
            snprintf(t->prompt_refused, sizeof t->prompt_refused, "not a folder: make it first");
            set_status(t, 1, "export folder: %s is not a folder (make it first)", dir);
        } else if (atomic_file_check_path(probe, "export folder", &e)) {
            snprintf(t->prompt_refused, sizeof t->prompt_refused, "not writable");
            set_status(t, 1, "export folder: %s is not writable", dir);
        } else {
            t->prompt = 0;
            snprintf(t->export_dir, sizeof t->export_dir, "%s", t->prompt_text);
            if (save_settings(t, &e)) set_status(t, 1, "%s", e.msg);
            else set_status(t, 0, "exports go to %s", dir);
        }
    } else if (key == KEY_BACKSPACE || key == 127 || key == 8) {
        if (len) t->prompt_text[len - 1] = '\0';
    } else if (key == 21) {   /* Ctrl-U */
        t->prompt_text[0] = '\0';
    } else if (key >= 32 && key < 127 && len + 1 < sizeof t->prompt_text) {
        t->prompt_text[len] = (char)key;
        t->prompt_text[len + 1] = '\0';
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Drawing                                                                                     */

typedef struct key_item {
    const char *fkey, *label;
    int key;   /* what a click sends */
} key_item;

static const key_item key_bar[] = {
    {"F1", "Help", '?'},   {"F2", "Run", 'r'},     {"F3", "Pause", ' '},  {"F4", "Cancel", 'c'},
    {"F5", "Race", 'b'},   {"F6", "View", 'v'},    {"F7", "Keep", 'o'},   {"F8", "Export", 'e'},
    {"F9", "SOBP", 's'},   {"F10", "Quit", 'q'},
};
#define KEY_BAR_N (int)(sizeof key_bar / sizeof key_bar[0])

/* Column where key-bar item i starts (the same arithmetic draws and hit-tests). */
static int key_bar_x(int i)
{
    int x = 0;
    for (int k = 0; k < i; k++) x += (int)(strlen(key_bar[k].fkey) + strlen(key_bar[k].label)) + 1;
    return x;
}

static void draw_keys(const tui_layout *l)
{
    move(l->keys.y, 0);
    for (int i = 0; i < KEY_BAR_N; i++) {
        int x = key_bar_x(i);
        if (x >= l->cols) break;
        draw_text(l->keys.y, x, l->cols - x, A_BOLD, key_bar[i].fkey);
        int lx = x + (int)strlen(key_bar[i].fkey);
        draw_text(l->keys.y, lx, l->cols - lx, A_REVERSE, key_bar[i].label);
    }
}

/* While a field is edited: its message (the check of the text so far) over the status row,
 * and the key bar's row too when it needs it (the keys are typed then, not commands). A
 * refusal says how to leave; one longer than both rows ends where M shows it whole (it is
 * kept once Enter or Esc ends the attempt). Returns 1 when it took the key bar's row. */
static int draw_edit_message(const tui_state *t, const tui_layout *l)
{
    char msg[700], row[700];
    attr_t a = t->edit_ok ? draw_attr(ROLE_GOOD) : draw_attr(ROLE_ERROR);
    snprintf(msg, sizeof msg, "%s%s", t->edit_msg, t->edit_ok ? "" : " (Esc cancels)");
    int room = l->cols - 2;
    if (draw_width(msg) <= room) {
        draw_text(l->status.y, 1, room, a, msg);
        return 0;
    }
    size_t first = words_that_fit(msg, room);
    if (first == 0) first = strlen(msg);
    snprintf(row, sizeof row, "%.*s", (int)first, msg);
    draw_text(l->status.y, 1, room, a, row);
    const char *rest = msg + first;
    while (*rest == ' ') rest++;
    if (draw_width(rest) <= room) {
        draw_text(l->keys.y, 1, room, a, rest);
        return 1;
    }
    static const char more[] = " (Esc, then M: all)";
    fit_words(rest, room - (int)strlen(more), row, sizeof row);
    draw_text(l->keys.y, 1, room, a, row);
    draw_text(l->keys.y, 1 + draw_width(row), (int)strlen(more), draw_attr(ROLE_DIM), more);
    return 1;
}

/* The status line; 1 when it took the key bar's row as well (draw_edit_message). */
static int draw_status(const tui_state *t, const tui_layout *l)
{
    const char *text = t->status;
    attr_t a = t->status_error ? draw_attr(ROLE_ERROR) : A_NORMAL;
    char buf[800];
    if (t->confirm_quit) {
        snprintf(buf, sizeof buf, "%s is going: quit and stop it? (y/n)",
                 busy_job(t) ? busy_job(t) : "a job");
        text = buf;
        a = draw_attr(ROLE_ERROR);
    } else if (t->prompt) {
        /* The end of the path stays in view: that is where the typing happens. A refusal
         * stands in for the hint until the next key. */
        const char *head = "export folder: ";
        char tail[128];
        int refused = t->prompt_refused[0] != '\0';
        snprintf(tail, sizeof tail, "_  %s%s", refused ? t->prompt_refused : "(Enter keeps",
                 refused ? " (Esc cancels)" : ", Esc cancels)");
        int room = l->cols - 2 - draw_width(head) - draw_width(tail);
        const char *shown = t->prompt_text;
        while (room > 0 && draw_width(shown) > room) shown++;
        snprintf(buf, sizeof buf, "%s%s%s", head, shown, tail);
        draw_text(l->status.y, 1, l->cols - 2, draw_attr(refused ? ROLE_ERROR : ROLE_GOOD), buf);
        return 0;
    } else if (t->editing) {
        return draw_edit_message(t, l);
    } else if (!*text) {
        snprintf(buf, sizeof buf, "ready: Enter edits, r runs, b races, v view (%s), ? help",
                 plot_view_name(t->view));
        text = buf;
        a = draw_attr(ROLE_DIM);
    }
    /* A message longer than the line ends at a word, never inside one, and says where the
     * rest is. */
    int room = l->cols - 2;
    if (text == t->status && draw_width(text) > room) {
        static const char more[] = " (M: more)";
        fit_words(text, room - (int)strlen(more), buf, sizeof buf);
        draw_text(l->status.y, 1, room, a, buf);
        draw_text(l->status.y, 1 + draw_width(buf), (int)strlen(more), draw_attr(ROLE_DIM), more);
        return 0;
    }
    draw_text_fit(l->status.y, 1, room, a, text);
    return 0;
}

/* At most MODAL_TEXT_W (76) columns each: the help box fits an 80-column terminal whole. */
static const char *const help_lines[] = {
    "Keys",
    "Up/Down k/j Tab  move between fields    Enter     edit the field",
    "Left/Right h/l   cycle a list, flip a switch, step a number (not Stack)",
    "While editing    Backspace, Ctrl-U clears, Enter keeps, Esc cancels",
    "r  F2   run                             space F3  pause / resume",
    "c  F4   cancel the run, race or SOBP    b  F5     benchmark race",
    "v  F6   next plot view                  o  F7     keep the run",
    "n       normalise: peak/entrance/none   x         forget kept runs",
    "L       log scale (charge, fluence)     f         export folder",
    "e  F8   export PNG CSV JSON + run file  ?  F1     this help",
    "E       export as e, the figure also as SVG and PDF",
    "m       dose map (on from the next run); m again: rings, x columns, off",
    "s  F9   SOBP: last third of the range; RBE-weighted if Biology has a model",
    "q  F10  quit (asks during a run)        M         last messages whole",
    "Mouse: click a field to select it, a key in the bottom bar to press it.",
    "",
    "Any key closes this help.",
};

/* Boxes over the panels (help, messages) are as wide as the narrowest terminal: at 80
 * columns they cover it from side to side (76 left a column of the panels on each side, a
 * border and a sliver of the plot); wider, they are centred. Their text starts two columns in
 * from each side. */
#define MODAL_W LAYOUT_MIN_COLS
#define MODAL_TEXT_W (MODAL_W - 4)

/* A cleared box of `h` rows (at most the screen's), centred. */
static ui_rect modal_box(const tui_layout *l, int h, const char *title)
{
    if (h > l->rows) h = l->rows;
    ui_rect r = {(l->rows - h) / 2, (l->cols - MODAL_W) / 2, h, MODAL_W};
    for (int y = r.y; y < r.y + r.h; y++) mvhline(y, r.x, ' ', r.w);
    draw_box(&r, title, 1);
    return r;
}

static void draw_help(const tui_layout *l)
{
    int n = (int)(sizeof help_lines / sizeof help_lines[0]);
    ui_rect r = modal_box(l, n + 2, "Help");
    for (int i = 0; i < n; i++)
        draw_text(r.y + 1 + i, r.x + 2, MODAL_TEXT_W, i == 0 ? draw_attr(ROLE_TITLE) : A_NORMAL,
                  help_lines[i]);
}

/* `M`: the last status messages whole, newest first, each wrapped at words (its rows after
 * the first indented), as many as the screen holds; errors as errors. */
static void draw_messages(const tui_state *t, const tui_layout *l)
{
    const int indent = 2;
    int room = l->rows - 4, rows = 0, shown = 0;   /* the border, a blank row, the way out */
    for (; shown < t->log_n; shown++) {
        int need = draw_wrapped(0, 0, MODAL_TEXT_W, indent, 0, A_NORMAL,
                                t->log[log_index(t, shown)]);
        if (shown > 0 && rows + need > room) break;
        rows += need;
    }
    if (shown == 0) rows = 1;
    ui_rect r = modal_box(l, rows + 4, "Messages, newest first");
    int x = r.x + 2, y = r.y + 1, end = r.y + r.h - 3;
    if (shown == 0) draw_text(y, x, MODAL_TEXT_W, draw_attr(ROLE_DIM), "No messages yet.");
    for (int i = 0; i < shown && y < end; i++) {
        int k = log_index(t, i);
        y += draw_wrapped(y, x, MODAL_TEXT_W, indent, end - y,
                          t->log_error[k] ? draw_attr(ROLE_ERROR) : A_NORMAL, t->log[k]);
    }
    draw_text(r.y + r.h - 2, x, MODAL_TEXT_W, A_NORMAL, "Any key closes this.");
}

/* Below the smallest size: what is needed and what there is, in the whole screen without a
 * border (a border left a 2-row screen no room, and it was blank). One row where it fits,
 * else its parts on rows of their own (at 40 columns the line ended "have 40x"), each wrapped
 * at words where even that is too wide (at 20 columns each part had one row, and "small:"
 * and the size were lost); the whole message wrapped where the parts need more rows than the
 * screen has. */
static void draw_too_small(const tui_layout *l)
{
    char size[64], msg[128];
    snprintf(size, sizeof size, "need %dx%d, have %dx%d", LAYOUT_MIN_COLS, LAYOUT_MIN_ROWS,
             l->cols, l->rows);
    snprintf(msg, sizeof msg, "terminal too small: %s; q quits", size);
    const char *parts[3] = {"terminal too small:", size, "q quits"};
    int n = 3, need = 0;
    if (draw_width(msg) <= l->cols - 4) {
        parts[0] = msg;
        n = 1;
    }
    for (int i = 0; i < n; i++) need += draw_centred_rows(0, 0, l->cols, 0, A_NORMAL, parts[i]);
    if (n > 1 && need > l->rows) {
        parts[0] = msg;
        n = 1;
        need = draw_centred_rows(0, 0, l->cols, 0, A_NORMAL, msg);
    }
    int y = l->rows / 2 - need / 2;
    if (y < 0) y = 0;
    for (int i = 0; i < n; i++)
        y += draw_centred_rows(y, 0, l->cols, l->rows - y, i == 2 ? A_NORMAL : A_BOLD, parts[i]);
}

static void draw_screen(tui_state *t, const tui_layout *l)
{
    erase();
    if (l->too_small) {
        draw_too_small(l);
    } else {
        setup_panel_draw(t, &l->setup);
        live_panel_draw(t, &l->live);
        plot_panel_draw(t, &l->plot);
        profile_panel_draw(t, &l->profile, l->profile_compact);
        if (!draw_status(t, l)) draw_keys(l);
        if (t->help) draw_help(l);
        else if (t->messages) draw_messages(t, l);
    }
    /* One update per frame: ncurses sends only the changed cells, so nothing flickers. */
    wnoutrefresh(stdscr);
    doupdate();
    t->frames++;
}

/* ------------------------------------------------------------------------------------------ */
/* Input                                                                                       */

static void request_quit(tui_state *t)
{
    if (busy_job(t)) t->confirm_quit = 1;
    else t->quit = 1;
}

static void handle_key(tui_state *t, int key, const tui_layout *l);

static void handle_mouse(tui_state *t, const tui_layout *l)
{
    MEVENT ev;
    if (getmouse(&ev) != OK) return;
    if (!(ev.bstate & (BUTTON1_CLICKED | BUTTON1_PRESSED | BUTTON1_RELEASED))) return;
    /* Below the smallest size no panel and no key bar is drawn (the layout's rects are all
     * at 0): nothing to click. */
    if (l->too_small) return;
    if (ui_rect_contains(&l->setup, ev.y, ev.x)) {
        int f = ev.y - l->setup.y - 1;
        if (f >= 0 && f < FIELD_COUNT && !t->editing) t->focus = f;
    } else if (ev.y == l->keys.y && !t->editing &&
               (ev.bstate & (BUTTON1_CLICKED | BUTTON1_PRESSED))) {
        /* Only on an item's own cells: the blank columns right of the bar (and the gap
         * after each item) are no key; the last item is F10 Quit, and a stray click there
         * must not end a demonstration. And not while a field is edited: the key would be
         * typed into the field (a click on F2 Run typed an 'r'), and the row may hold the
         * edit message's second line instead of the bar. */
        for (int i = 0; i < KEY_BAR_N; i++) {
            int x = key_bar_x(i);
            if (ev.x >= x && ev.x < x + (int)(strlen(key_bar[i].fkey) + strlen(key_bar[i].label))) {
                handle_key(t, key_bar[i].key, l);
                break;
            }
        }
    }
}

static void handle_key(tui_state *t, int key, const tui_layout *l)
{
    if (t->help || t->messages) {
        t->help = t->messages = 0;
        return;
    }
    if (t->confirm_quit) {
        if (key == 'y' || key == 'Y') t->quit = 1;
        t->confirm_quit = 0;
        return;
    }
    if (t->prompt) {
        prompt_key(t, key);
        return;
    }
    if (key == KEY_MOUSE) {
        handle_mouse(t, l);
        return;
    }
    if (t->editing) {
        int enter = key == '\n' || key == '\r' || key == KEY_ENTER;
        /* A refusal on screen when Esc leaves: kept, as the status row said, for M. */
        if (key == 27 && !t->edit_ok) log_message(t, 1, t->edit_msg);
        setup_edit_key(t, key);
        /* A value refused on Enter: its message (the valid names, often more than a line)
         * is kept, and M shows it whole once the edit ends. */
        if (enter && t->editing && !t->edit_ok) log_message(t, 1, t->edit_msg);
        return;
    }
    if (l->too_small && key != 'q' && key != KEY_F(10)) return;
    switch (key) {
    case KEY_UP: case 'k': case KEY_BTAB:
        t->focus = (t->focus + FIELD_COUNT - 1) % FIELD_COUNT;
        break;
    case KEY_DOWN: case 'j': case '\t':
        t->focus = (t->focus + 1) % FIELD_COUNT;
        break;
    case KEY_LEFT: case 'h':
    case KEY_RIGHT: case 'l': {
        int dir = key == KEY_LEFT || key == 'h' ? -1 : 1;
        t->status[0] = '\0';
        setup_field_cycle(t, t->focus, dir);   /* may leave a note (a model the ion cannot take) */
        bragg_err e = {{0}};
        if (t->focus == FIELD_BACKEND && strcmp(t->cfg.backend, "cuda") == 0 && !t->cuda_ok)
            set_status(t, 1, "cuda: not available here: %s", t->cuda_reason);
        else if (config_validate(&t->cfg, &t->cat, &e)) set_status(t, 1, "%s", e.msg);
        break;
    }
    case '\n': case '\r': case KEY_ENTER:
        if (t->focus >= FIELD_STRAGGLING && t->focus <= FIELD_NUCLEAR)
            setup_field_cycle(t, t->focus, 1);
        else setup_edit_begin(t);
        break;
    case 'r': case KEY_F(2): start_run(t); break;
    case ' ': case KEY_F(3): toggle_pause(t); break;
    case 's': case KEY_F(9): start_sobp(t); break;
    case 'c': case KEY_F(4):
        if (t->sobp_pid) {
            stop_sobp(t);
            set_status(t, 0, "SOBP cancelled");
        } else if (t->race_active) {
            cancel_race(t);
        } else {
            cancel_run(t);
        }
        break;
    case 'b': case KEY_F(5): start_race(t); break;
    case 'v': case KEY_F(6):
        t->view = (plot_view)((t->view + 1) % VIEW_COUNT);
        if (t->view == VIEW_RACE && t->race_n == 0) t->view = VIEW_DOSE;
        set_status(t, 0, "view: %s", plot_view_name(t->view));
        break;
    case 'o': case KEY_F(7): keep_overlay(t); break;
    case 'm': tui_map_key(t); break;
    case 'n':
        t->norm = (overlay_norm)((t->norm + 1) % 3);
        if (t->norm == NORM_NONE) set_status(t, 0, "kept runs and this one as they are (Gy cm2 per primary)");
        else set_status(t, 0, "kept runs and this one normalised to their %s dose", norm_name(t->norm));
        break;
    case 'L':
        t->log_scale = !t->log_scale;
        set_status(t, 0, "%s y scale%s", t->log_scale ? "logarithmic" : "linear",
                   plot_view_has_log(t->view) ? "" : " (shows in dose by charge and fluence)");
        break;
    case 'f':
        t->prompt = 1;
        t->prompt_refused[0] = '\0';
        snprintf(t->prompt_text, sizeof t->prompt_text, "%s", t->export_dir);
        break;
    case 'x':
        for (int k = 0; k < t->n_overlays; k++) free_overlay(&t->overlays[k]);
        t->n_overlays = 0;
        set_status(t, 0, "overlays cleared");
        break;
    case 'e': case KEY_F(8): export_view(t, 0); break;
    case 'E': export_view(t, 1); break;
    case '?': case KEY_F(1): t->help = 1; break;
    case 'M': t->messages = 1; break;
    case 'q': case KEY_F(10): request_quit(t); break;
    default: break;
    }
}

/* ------------------------------------------------------------------------------------------ */

static int locale_is_utf8(void)
{
    const char *cs = nl_langinfo(CODESET);
    return cs && (strcasecmp(cs, "UTF-8") == 0 || strcasecmp(cs, "utf8") == 0);
}

static void write_stats(const tui_state *t, double t0)
{
    /* BRAGG_TUI_STATS=FILE: frames drawn and the UI thread's own CPU time, for measuring the
     * workbench's cost (tests and the README numbers). */
    const char *path = getenv("BRAGG_TUI_STATS");
    if (!path || !*path) return;
    struct timespec cpu;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
    FILE *f = fopen(path, "w");
    if (!f) return;
    double wall = now_s() - t0;
    fprintf(f, "frames %ld\nseconds %.3f\nfps %.2f\nui_cpu_s %.3f\n", t->frames, wall,
            t->frames / wall, cpu.tv_sec + 1e-9 * cpu.tv_nsec);
    fclose(f);
}

int tui_main(const run_config *start)
{
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        fprintf(stderr, "bragg: the workbench needs a terminal; for scripts use the headless "
                        "commands (bragg --help)\n");
        return 2;
    }
    /* The character set only (braille, box drawing): LC_NUMERIC stays "C", or a decimal-comma
     * locale would write "0,5" into the exported CSV and make every "1.5" unreadable. */
    setlocale(LC_CTYPE, "");
    static tui_state state;   /* large (rate history, race); zeroed */
    tui_state *t = &state;
    bragg_err e = {{0}};
    if (catalog_load(&t->cat, &e)) {
        fprintf(stderr, "bragg: %s\n", e.msg);
        return 1;
    }
    static workbench_settings w;   /* large; zeroed */
    config_default(&w.cfg);
    w.cfg.histories = 20000;
    int loaded = settings_load(&w, &e);
    char path[1024];
    if (loaded == BRAGG_OK && (settings_path(path, sizeof path, &e) ||
                               settings_validate(&w, &t->cat, path, &e))) {
        bragg_fail_prefix(&e, "settings: ");
        loaded = BRAGG_ERR;
    }
    if (loaded == BRAGG_ERR) {
        config_default(&w.cfg);
        w.cfg.histories = 20000;
        w.export_dir[0] = '\0';
        w.outputs[0] = '\0';
        /* Never save defaults over a file the user may want back: keep it under another name,
         * or, if that fails too, save nothing this session. */
        char aside[1100];
        bragg_err ae = {{0}};
        if (settings_set_aside(aside, sizeof aside, &ae) == BRAGG_OK) {
            const char *slash = strrchr(aside, '/');
            set_status(t, 1, "settings ignored, file kept as %s; defaults used: %s",
                       slash ? slash + 1 : aside, e.msg);
        } else {
            t->settings_frozen = 1;
            set_status(t, 1, "settings ignored and not saved this session (%s): %s", ae.msg,
                       e.msg);
        }
    }
    t->cfg = w.cfg;
    t->sobp_pipe = -1;
    snprintf(t->export_dir, sizeof t->export_dir, "%s", w.export_dir);
    memcpy(t->settings_outputs, w.outputs, sizeof t->settings_outputs);
    if (start) {
        /* A run file named on the command line (bragg --config FILE): its setup, checked. */
        if (config_validate(start, &t->cat, &e)) set_status(t, 1, "--config: %s (not used)", e.msg);
        else {
            t->cfg = *start;
            set_status(t, 0, "setup from the run file: r runs it");
        }
    }
    t->cores = omp_get_num_procs();
    backend *cuda = backend_new("cuda", &e);
    t->cuda_ok = cuda && cuda->available(t->cuda_reason, sizeof t->cuda_reason);
    /* %.255s: the reason is cut to the field (e.msg holds 512), which gcc -O1 (make check's
     * build) otherwise flags as a truncation. */
    if (!cuda) snprintf(t->cuda_reason, sizeof t->cuda_reason, "%.255s", e.msg);
    if (cuda) {
        cuda->release(cuda);
        free(cuda);
    }
    t->utf8 = locale_is_utf8();

    /* Restore the terminal on every way out. */
    atexit(restore_terminal);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_stop;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);   /* the terminal went away: quit as with q */
    sa.sa_handler = on_crash;
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGABRT, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
    sigaction(SIGFPE, &sa, NULL);

    /* Esc should cancel an edit at once, not after ncurses' default one second. */
    if (!getenv("ESCDELAY")) set_escdelay(25);
    if (!initscr()) {
        fprintf(stderr, "bragg: cannot initialise the terminal (TERM=%s)\n",
                getenv("TERM") ? getenv("TERM") : "");
        catalog_free(&t->cat);
        return 1;
    }
    curses_active = 1;
    cbreak();
    noecho();
    keypad(stdscr, TRUE);
    curs_set(0);
    timeout(100);   /* ~10 redraws a second while idle or running */
    const char *no_colour = getenv("NO_COLOR");
    t->colour = has_colors() && !(no_colour && *no_colour);
    if (t->colour) start_color();
    draw_init(t->colour, t->utf8);
    map_panel_init(t->colour, t->utf8);
    mousemask(BUTTON1_CLICKED | BUTTON1_PRESSED, NULL);
    mouseinterval(0);

    double t0 = now_s();
    tui_layout l;
    layout_compute(COLS, LINES, &l);
    while (!t->quit) {
        if (stop_requested) {
            t->quit = 1;
            break;
        }
        poll_engine(t);
        poll_race(t);
        poll_sobp(t);
        log_message(t, t->status_error, t->status);
        draw_screen(t, &l);
        int key = getch();
        if (key == ERR) continue;
        if (key == KEY_RESIZE) {
            layout_compute(COLS, LINES, &l);
            continue;
        }
        handle_key(t, key, &l);
    }
    /* Stop the workers first (they see the cancel flag between small chunks), then leave the
     * screen. */
    if (t->en) engine_cancel(t->en);
    if (t->race_en) engine_cancel(t->race_en);
    drop_engine(t);
    drop_race_engine(t);
    stop_sobp(t);
    free_sobp(t);
    bragg_err se = {{0}};
    save_settings(t, &se);
    write_stats(t, t0);
    endwin();
    curses_active = 0;
    for (int k = 0; k < t->n_overlays; k++) free_overlay(&t->overlays[k]);
    catalog_free(&t->cat);
    /* A signal ended it: not the user's q, and a script or a shell must be able to tell. */
    return stop_requested ? TUI_SIGNALLED : 0;
}
