/*
 * run_file.h - a run's setup by name, and the run file that holds it.
 *
 * What it is for: every setting of run_config has one key (run_keys), the long option of
 * `bragg run` without its dashes, with the unit people write it in (--spot 3 is mm, --energy
 * 400 is MeV/u), its valid range and its help line. `bragg run` builds its options from this
 * table, `bragg run --config FILE` reads a run file through it, the workbench loads and
 * saves its setup as a run file with it, and config_validate checks a run_config against its
 * ranges: a setting is spelt, converted and range-checked in one place, and a file the
 * workbench saved runs headless as it is.
 *
 * The run file is plain text, one "key = value" per line:
 *
 *   # C-12 through a bone slab       <- comments: '#' at the start, or after a space
 *   ion = C-12
 *   energy = 290                     # MeV/u
 *   slab = water:5                   <- repeatable keys repeat
 *   slab = bone:2
 *   slab = water:inf
 *   no-nuclear = no                  <- switches: yes/no (true/false, on/off, 1/0)
 *   json = "C-12 #2.json"            <- quotes keep a '#' and end blanks (\" and \\ inside)
 *   [workbench]                      <- the workbench's own settings; bragg run skips them
 *   export-dir = /home/me/figures
 *
 * run_file_parse splits lines and applies the rules of the format (a key once, no run key in
 * a section, no unknown section), reporting the line of any error; what a key means is up to
 * the caller: run_setup_set for the keys of run_keys, the CLI for its outputs (--json, --png:
 * run_output_keys), the workbench for its own section.
 *
 * Memory: run_keys is static; a run_setup is a plain value; run_file_read returns a string
 * the caller frees. No state: any thread may use its own run_setup.
 */
#ifndef BRAGG_RUN_FILE_H
#define BRAGG_RUN_FILE_H

#include <stddef.h>

#include "config.h"
#include "err.h"

typedef enum run_key_kind {
    RUN_KEY_NAME,       /* text (ion, backend): copied into a char array of run_config */
    RUN_KEY_NUMBER,     /* double in [lo, hi] user units; the field is value / unit */
    RUN_KEY_INT,        /* whole number in [lo, hi] */
    RUN_KEY_COUNT,      /* uint64 in [lo, hi]; 1e5 and 2.5e5 allowed when whole */
    RUN_KEY_OFF,        /* a "no-x" switch: when yes, the int field is 0 */
    RUN_KEY_ON,         /* a switch: when yes, the int field is 1 */
    RUN_KEY_MATERIAL,   /* one semi-infinite slab of this material */
    RUN_KEY_SLAB,       /* material:cm, appended (repeatable); excludes material */
    RUN_KEY_CHOICE,     /* one of the words of meta ("none|rz|xz"): the int field is its index */
    RUN_KEY_VALUES,     /* one of the numbers of meta ("75|78"): a double field */
} run_key_kind;

typedef struct run_key {
    const char *name;   /* the key, and bragg run's --name */
    char letter;        /* bragg run's short option, or 0 */
    run_key_kind kind;
    size_t offset;      /* of the field in run_config */
    size_t size;        /* of a NAME field */
    double lo, hi;      /* valid range, user units (numbers) */
    const char *zero;   /* what 0 means where it is valid besides [lo, hi] ("automatic"), or
                         * NULL */
    double unit;        /* user units per config unit: the field is value / unit (mm: 10) */
    const char *units;  /* the user unit's symbol in messages ("mm"), or "" */
    const char *meta;   /* the value's placeholder in help ("MEV_U") */
    const char *help;
} run_key;

/* The keys, in the order help and saved files list them; ends with a NULL name. */
extern const run_key run_keys[];
#define RUN_KEYS_MAX 48   /* at least the keys of run_keys (a static assertion checks it) */

const run_key *run_key_find(const char *name);
/* 1 when the key is a switch (given bare on the command line; yes/no in a file). */
int run_key_is_switch(const run_key *k);

/* The valid values of key k as messages and --help state them: "0 to 20 %", "0 (automatic)
 * or 0.001 to 100 mm", "75 or 78 eV", "none, rz or xz"; the energy's floor is the cut-off of
 * `c` (NULL: as a rule). "" for keys without a range (names, switches). */
void run_key_range(const run_key *k, const run_config *c, char *out, size_t len);

/* Checks the field of key k in `c` against the key's range, with the message run_setup_set
 * gives for the same value typed (without the key's name: the caller adds it). A field left
 * at a default no text gives (an infinite lateral half-width) passes. */
int run_key_check(const run_key *k, const run_config *c, bragg_err *e);

/* The keys a run file holds besides run_keys: bragg run's outputs (its --json, --png, -q,
 * ...), which bragg run alone acts on; the workbench keeps them in its settings file as they
 * are. Ends with a NULL name. */
typedef struct run_output_key {
    const char *name;
    int is_switch;      /* yes/no */
    int repeatable;     /* may be given more than once (profile-at) */
} run_output_key;
extern const run_output_key run_output_keys[];
const run_output_key *run_output_key_find(const char *name);

/* The sections a run file may hold ("[workbench]": the workbench's own settings, which bragg
 * run skips). Ends with NULL. */
extern const char *const run_file_sections[];

/* A setup being built from the command line, a file, or both. */
typedef struct run_setup {
    run_config cfg;
    unsigned char given[RUN_KEYS_MAX];   /* set by run_setup_set, by index in run_keys */
    int geometry;                        /* 0 the default, 1 material, 2 slabs */
} run_setup;

/* config_default, nothing given. */
void run_setup_init(run_setup *s);

/* Sets key k from its text. Messages do not name the key (the caller does: "--energy: " on
 * the command line, "FILE line 3: energy: " in a file) and give the valid range. material and
 * slab exclude each other in one setup; a slab after a semi-infinite one is refused. k may be
 * a copy of a run_keys entry with a narrower range (the workbench's histories start at the
 * batches): it counts as given by its name. */
int run_setup_set(run_setup *s, const run_key *k, const char *value, bragg_err *e);
int run_setup_given(const run_setup *s, const char *name);

/* `c` as a run file: a head comment, then every key with its value in user units, the
 * shortest text that reads back to the same number (so a setup that came from text, typed
 * or read, runs bit for bit the same once saved: 2.1 mrad, not 2.1000000000000001).
 * Switches are written as yes/no. Returns the length needed, like snprintf. */
int run_file_format(const run_config *c, const char *head, char *out, size_t len);

/* A field holding v (config units) as a run file or option writes it, in `unit`s per config
 * unit (mm: 10): the shortest text x, from 6 digits as %g has them (100, not 1e+02), that
 * reads back (x / unit, as run_setup_set does) as v: 0.1 mm, not 0.10000000000000001; "inf"
 * for an infinity. Returns 1, or 0 where no such text was found (not met in practice) and
 * out holds x to 17 digits. */
int run_file_number(double v, double unit, char *out, size_t len);

/* A value as a run file line holds it: as it is, or in double quotes (with \" and \\ inside)
 * where it would not read back so: a '#' (a comment), blanks at either end (trimmed), a
 * leading quote. Returns the length needed, like snprintf. */
int run_file_quote(const char *value, char *out, size_t len);

/* Calls fn for every "key = value" line, with the section it is in ("" before any [name]
 * line) and its line number. A value in double quotes is given without them and with its
 * escapes undone (run_file_quote). Refused, as "NAME line N: ..." (`name` names the text: its
 * path): a line that is neither blank, a comment, a section nor "key = value"; a section not
 * in run_file_sections; a key of run_keys or run_output_keys inside a section (bragg run
 * skips sections); a key given twice in one section unless it repeats (slab, profile-at);
 * and any error fn returns. A UTF-8 byte order mark at the start is skipped. The text is
 * split in place: key and value point into it and stay valid as long as it does. */
typedef int (*run_file_fn)(const char *section, const char *key, const char *value, int line,
                           void *ctx, bragg_err *e);
int run_file_parse(char *text, const char *name, run_file_fn fn, void *ctx, bragg_err *e);

/* Says where run key `key` at fault was given, before the message config_validate_key left
 * in e (which names the key, or a slab of it): "--key: ..." for the command line (file NULL),
 * "FILE line N: key: ..." for a file. Returns BRAGG_ERR. */
int run_file_blame(bragg_err *e, const char *key, const char *file, int line);

/* Reads a run file (at most 64 KiB of text) into a new string (the caller frees it). */
int run_file_read(const char *path, char **text, bragg_err *e);

/* Words "a|b|c" (a choice's, a placeholder's "FILE|-") as messages say them: "a, b or c". */
void run_file_words(const char *words, char *out, size_t len);

/* A number as messages and --help write it: 20, 0.5, 1e12, 1e-7 (not 1e+12 or 1e-07), and
 * 2^64 - 1 in digits (as a double it reads one more). */
const char *run_file_bound_text(double v, char *buf, size_t len);

/* Parses a switch's text: yes/no, true/false, on/off, 1/0. */
int run_file_switch(const char *value, int *on);

#endif
