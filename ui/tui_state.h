/*
 * tui_state.h - what the workbench's panels share: the setup being edited, the run and its
 * latest snapshot, the plot view and overlays, the benchmark race, the status line.
 *
 * One tui_state lives in tui_main (ui/tui.c), which owns it and everything it points to (the
 * engine, the snapshot's arrays, the overlays' copies). The panels (ui/ files ending in _panel.c) read it to draw
 * and the setup panel edits its configuration. Main (UI) thread only: the engine's thread never
 * sees it.
 */
#ifndef BRAGG_TUI_STATE_H
#define BRAGG_TUI_STATE_H

#include <sys/types.h>

#include "catalog.h"
#include "config.h"
#include "engine.h"
#include "settings.h"

typedef enum plot_view {
    VIEW_DOSE,      /* depth-dose with its +-1 sigma band, peak and R80 marked */
    VIEW_CHARGE,    /* dose by particle charge (runs with nuclear reactions) */
    VIEW_LET,       /* dose-averaged and track-averaged LET */
    VIEW_LATERAL,   /* rms lateral spread of the primaries */
    VIEW_FLUENCE,   /* primary fluence */
    VIEW_BIO,       /* physical and RBE-weighted dose (runs with a biological model) */
    VIEW_SOBP,      /* the spread-out Bragg peak built by `s` */
    VIEW_MAP,       /* the dose map (runs with a map: `m` switches one on) */
    VIEW_RACE,      /* the benchmark race (after `b`) */
    VIEW_COUNT
} plot_view;

/* How curves compare when runs are kept (`n` cycles): divided by their peak or entrance dose,
 * or as they are. */
typedef enum overlay_norm { NORM_PEAK, NORM_ENTRANCE, NORM_NONE } overlay_norm;

#define TUI_MAX_OVERLAYS 4
/* A finished run kept as a reference curve: the curves every view draws (depth-dose, dose by
 * charge, LET, lateral spread, fluence) and its JSON summary (so an export draws it with the
 * same figure code as `bragg plot`). One allocation, `block`, holds the arrays. */
typedef struct tui_overlay {
    char label[200];          /* beam and stack, for messages */
    char short_label[64];     /* the beam, for a legend in 46 columns */
    int n, channels;
    double csda_cm;           /* its CSDA depth: the depth axis' unit (src/output/depth_unit.h) */
    double *block;
    double *depth, *dose, *let_d, *let_t, *lateral, *fluence;
    double *channel_dose;     /* channels x n, channel c at c * n */
    struct cJSON *json;
} tui_overlay;

/* Rate history for the sparkline: one sample every half second, the last minute. */
#define RATE_SAMPLES 120
#define RATE_PERIOD_S 0.5

/* Status messages kept for `M`, which shows them whole: the status line cuts a longer one. */
#define TUI_LOG_N 8

#define RACE_MAX 40
/* The last profile measured (a profiled run's), kept when a race, which runs unprofiled,
 * replaces the engine. */
typedef struct tui_profile {
    int on;
    double share[PROFILE_COUNT], ns_per_step[PROFILE_COUNT];
} tui_profile;

typedef struct race_entry {
    char backend[16];
    int threads;            /* 0: the backend's default (serial: 1) */
    int skipped;            /* not available here (reason in tui_state.cuda_reason) */
    int done;
    int not_run;            /* the race ended (cancelled, failed) before this one ran */
    double hps;             /* histories/s when done */
} race_entry;

typedef struct tui_state {
    catalog cat;
    run_config cfg;
    int utf8;               /* the locale can show braille and box drawing */
    int colour;             /* colours in use (has_colors and no NO_COLOR) */
    int cores;

    /* Setup panel: the focused field and, while editing, the text typed so far. */
    int focus;
    int editing;
    int edit_fresh;         /* the first key typed replaces the old value */
    char edit[128];
    char edit_msg[512];     /* config_validate's message for the text so far, or a hint */
    int edit_ok;

    /* The current (or last) run. */
    engine *en;
    run_snapshot snap;
    int have_snap;
    int final_snap;         /* the snapshot of the ended run has been taken */
    double cancel_ms;       /* how long the last cancel took to stop the workers */
    double rate_hps[RATE_SAMPLES], rate_sps[RATE_SAMPLES];
    int rate_n;             /* samples kept, at most RATE_SAMPLES (newest last) */
    double next_sample_t;

    /* Plot panel. */
    plot_view view;
    overlay_norm norm;
    int log_scale;          /* `L`: logarithmic y in the views that allow it (charge, fluence) */
    tui_overlay overlays[TUI_MAX_OVERLAYS];
    int n_overlays;
    tui_profile prof;

    /* The SOBP job (`s`): a `bragg sobp` child process writing its record to sobp_path and
     * its messages to sobp_log, both in sobp_dir (a private folder made for the job); the
     * record and the curves drawn from it once it has ended. */
    pid_t sobp_pid;               /* 0: none running */
    run_config sobp_job_cfg;      /* the setup of the job running */
    /* How far the job is (cmd_sobp.c's BRAGG_SOBP_PROGRESS_FD lines, read from a pipe): the
     * pristine energies begun of all (0: its pilot run), then its refit. */
    int sobp_pipe;                /* the pipe's read end, or -1 */
    char sobp_line[64];           /* a line read in part */
    int sobp_energy, sobp_energies, sobp_refit;
    run_config sobp_cfg;          /* the setup of the record shown */
    char sobp_dir[256], sobp_path[300], sobp_log[300];
    struct cJSON *sobp;           /* the last finished record, or NULL */
    int sobp_n;
    double *sobp_depth, *sobp_dose, *sobp_rbe_dose;   /* one block; rbe_dose NULL if physical */

    /* Benchmark race, of the setup it started with (edits after that do not rename it). It
     * has an engine and snapshot of its own: a race never replaces the run above (en, snap),
     * whose views and export stay the user's run's. */
    int race_active, race_n, race_at;
    engine *race_en;
    run_snapshot race_snap;
    int race_have_snap;
    race_entry race[RACE_MAX];
    run_config race_cfg;
    char cuda_reason[256];
    int cuda_ok;

    /* Where exports go ("" = the folder bragg started in), remembered in the settings; `f`
     * edits it on the status line. */
    char export_dir[512];
    /* bragg run's output keys the settings file held (workbench_settings.outputs): saved
     * back as they were. */
    char settings_outputs[SETTINGS_OUTPUTS_LEN];
    int prompt;             /* editing the export folder */
    char prompt_text[512];
    char prompt_refused[64];   /* why Enter refused the text ("not a folder"), until a key */

    /* Status line and modal states. */
    char status[512];
    int status_error;
    /* The last messages and whether each was an error: a ring of log_n, the newest just
     * before log_next. */
    char log[TUI_LOG_N][512];
    int log_error[TUI_LOG_N];
    int log_n, log_next;
    int messages;               /* the messages are open (`M`) */
    int help;
    int confirm_quit;
    int quit;
    int settings_frozen;      /* the settings file could not be set aside: never save over it */
    long frames;
} tui_state;

/* How far the SOBP job is, in a few words ("energy 3 of 15"), or "" before it says. */
void tui_sobp_progress(const tui_state *t, char *out, size_t len);

/* 1 when `ran`, the setup a run or an SOBP on screen was made with, gives other results than
 * the setup in the fields now: the plot then says it shows the previous setup. How a run is
 * done (backend, threads, profiling) and the map for the next run do not count; for an SOBP
 * (`sobp` 1) only the job `s` would start counts, its command line as start_sobp makes it
 * (not spread, spot, divergence, straggling or MCS, which it does not pass; Histories only
 * as the tenth per energy it runs). May build tables for an SOBP's range (kept for the last
 * setups asked about). */
int tui_setup_changed(const tui_state *t, const run_config *ran, int sobp);

/* 1 when the run on screen (the engine's) was made with another setup than the fields show
 * (tui_setup_changed): every view of it then says so, in these words. */
int tui_run_outdated(const tui_state *t);
#define TUI_RUN_OUTDATED_HINT "setup changed: r runs it"
#define TUI_SOBP_OUTDATED_HINT "setup changed: s builds it"

/* `m`: to the map view, switching the map on for the next run; in the view, the next kind:
 * rings, x columns, off (with the grid a run file gave: config_drop_map). Says so on the
 * status line. */
void tui_map_key(tui_state *t);

/* 1 while a run is going (running or paused). */
int tui_run_active(const tui_state *t);

/* "C-12 400 MeV/u", "p 150 MeV": the beam with the unit that follows the physics. */
void tui_beam_label(const tui_state *t, const run_config *c, char *out, size_t len);

/* A material's everyday name for narrow places: its shortest alias of letters (bone for
 * bone-cortical-icrp) when shorter than the name, else the name. */
void tui_material_short(const tui_state *t, const char *name, char *out, size_t len);

#endif
