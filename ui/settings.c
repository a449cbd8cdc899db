/* settings.c - see settings.h. */
#include "settings.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "run_file.h"

#define SETTINGS_FILE "workbench.conf"

typedef struct parse_ctx {
    run_setup setup;
    char export_dir[512];
    char outputs[SETTINGS_OUTPUTS_LEN];
    size_t outputs_used;
    int lines[RUN_KEYS_MAX];
} parse_ctx;

/* One of bragg run's outputs, kept as a line of the file (settings.h). */
static int keep_output(parse_ctx *p, const run_output_key *o, const char *value, bragg_err *e)
{
    int on;
    if (o->is_switch && run_file_switch(value, &on))
        return bragg_fail(e, "%s: %s is not a switch (valid: yes, no)", o->name,
                          BRAGG_QUOTED(value));
    if (!o->is_switch && !*value) return bragg_fail(e, "%s: needs a value (FILE)", o->name);
    char quoted[1100];
    run_file_quote(value, quoted, sizeof quoted);
    size_t room = sizeof p->outputs - p->outputs_used;
    int n = snprintf(p->outputs + p->outputs_used, room, "%-24s= %s\n", o->name, quoted);
    if (n < 0 || (size_t)n >= room) {
        p->outputs[p->outputs_used] = '\0';
        return bragg_fail(e, "%s: the output keys hold more than %zu characters (valid: fewer "
                             "or shorter)", o->name, sizeof p->outputs - 1);
    }
    p->outputs_used += (size_t)n;
    return BRAGG_OK;
}

static int settings_line(const char *section, const char *key, const char *value, int line,
                         void *ctx, bragg_err *e)
{
    parse_ctx *p = ctx;
    /* run_file_parse refuses other sections, and a run's keys in this one. */
    if (strcmp(section, "workbench") == 0) {
        if (strcmp(key, "export-dir") != 0)
            return bragg_fail(e, "unknown key %s in [workbench] (valid: export-dir)",
                              BRAGG_QUOTED(key));
        if (strlen(value) >= sizeof p->export_dir) return bragg_fail(e, "export-dir: too long");
        snprintf(p->export_dir, sizeof p->export_dir, "%s", value);
        return BRAGG_OK;
    }
    const run_key *k = run_key_find(key);
    if (k) {
        if (run_setup_set(&p->setup, k, value, e)) return bragg_fail_prefix(e, "%s: ", key);
        p->lines[k - run_keys] = line;
        return BRAGG_OK;
    }
    const run_output_key *o = run_output_key_find(key);
    if (o) return keep_output(p, o, value, e);
    if (strcmp(key, "config") == 0) return bragg_fail(e, "config: not allowed in a run file");
    return bragg_fail(e, "unknown key %s (the keys are bragg run's long options)",
                      BRAGG_QUOTED(key));
}

int settings_parse(char *text, const char *name, workbench_settings *w, bragg_err *e)
{
    parse_ctx *p = malloc(sizeof *p);
    if (!p) return bragg_fail(e, "settings: out of memory");
    memset(p, 0, sizeof *p);
    /* Keys the file leaves out keep their values; a stack in the file replaces the geometry;
     * the outputs kept are the file's. */
    p->setup.cfg = w->cfg;
    snprintf(p->export_dir, sizeof p->export_dir, "%s", w->export_dir);
    int rc = run_file_parse(text, name, settings_line, p, e);
    if (rc == BRAGG_OK) {
        w->cfg = p->setup.cfg;
        snprintf(w->export_dir, sizeof w->export_dir, "%s", p->export_dir);
        memcpy(w->outputs, p->outputs, sizeof w->outputs);
        memcpy(w->lines, p->lines, sizeof w->lines);
    }
    free(p);
    return rc;
}

int settings_validate(const workbench_settings *w, const catalog *cat, const char *name,
                      bragg_err *e)
{
    const char *key = NULL;
    if (config_validate_key(&w->cfg, cat, &key, e) == BRAGG_OK) return BRAGG_OK;
    const run_key *k = key ? run_key_find(key) : NULL;
    if (k && w->lines[k - run_keys]) return run_file_blame(e, key, name, w->lines[k - run_keys]);
    return bragg_fail_prefix(e, "%s: ", name);
}

int settings_format(const workbench_settings *w, char *out, size_t len)
{
    int n = run_file_format(&w->cfg, "# bragg workbench: the last setup (rewritten on quit and on "
                                     "every run)\n", out, len);
    if (n < 0) return n;
    size_t used = (size_t)n < len ? (size_t)n : len;
    char dir[1100];
    run_file_quote(w->export_dir, dir, sizeof dir);
    int m = snprintf(out + used, len - used,
                     "%s%s"
                     "\n[workbench]\n"
                     "# where e writes its figures and data (empty: the folder bragg started in)\n"
                     "export-dir = %s\n",
                     w->outputs[0] ? "# bragg run's outputs, kept for it (the workbench writes "
                                     "its own with e)\n"
                                   : "",
                     w->outputs, dir);
    return m < 0 ? m : n + m;
}

/* The folder: $XDG_CONFIG_HOME/bragg, else $HOME/.config/bragg (the XDG base-directory
 * specification says an empty XDG_CONFIG_HOME counts as unset). */
static int settings_dir(char *out, size_t len, bragg_err *e)
{
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    int n;
    if (xdg && *xdg) n = snprintf(out, len, "%s/bragg", xdg);
    else if (home && *home) n = snprintf(out, len, "%s/.config/bragg", home);
    else return bragg_fail(e, "settings: neither XDG_CONFIG_HOME nor HOME is set");
    if (n < 0 || (size_t)n >= len) return bragg_fail(e, "settings: path too long");
    return BRAGG_OK;
}

int settings_path(char *out, size_t len, bragg_err *e)
{
    char dir[900];
    if (settings_dir(dir, sizeof dir, e)) return BRAGG_ERR;
    int n = snprintf(out, len, "%s/" SETTINGS_FILE, dir);
    if (n < 0 || (size_t)n >= len) return bragg_fail(e, "settings: path too long");
    return BRAGG_OK;
}

int settings_load(workbench_settings *w, bragg_err *e)
{
    char path[1024];
    if (settings_path(path, sizeof path, e)) return BRAGG_ERR;
    if (access(path, F_OK) != 0 && errno == ENOENT) return 1;
    char *text;
    if (run_file_read(path, &text, e)) return BRAGG_ERR;
    int rc = settings_parse(text, path, w, e);
    free(text);
    return rc;
}

int settings_set_aside(char *aside, size_t len, bragg_err *e)
{
    char path[1024];
    if (settings_path(path, sizeof path, e)) return BRAGG_ERR;
    /* The first free name of workbench.conf.unreadable, .unreadable.2, ...: an older kept
     * file is never overwritten either. */
    for (int k = 1; k < 100; k++) {
        int n = k == 1 ? snprintf(aside, len, "%s.unreadable", path)
                       : snprintf(aside, len, "%s.unreadable.%d", path, k);
        if (n < 0 || (size_t)n >= len) return bragg_fail(e, "settings: path too long");
        struct stat st;
        if (lstat(aside, &st) == 0) continue;
        if (rename(path, aside) != 0)
            return bragg_fail(e, "settings: cannot keep %s aside: %s", BRAGG_QUOTED(path),
                              strerror(errno));
        return BRAGG_OK;
    }
    return bragg_fail(e, "settings: %s.unreadable.2 to .99 are all taken", BRAGG_QUOTED(path));
}

/* mkdir -p for the one or two levels the settings folder may lack. */
static int make_dirs(const char *dir, bragg_err *e)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", dir);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, 0700) && errno != EEXIST)
            return bragg_fail(e, "settings: cannot create %s: %s", buf, strerror(errno));
        *p = '/';
    }
    if (mkdir(buf, 0700) && errno != EEXIST)
        return bragg_fail(e, "settings: cannot create %s: %s", buf, strerror(errno));
    return BRAGG_OK;
}

int settings_save(const workbench_settings *w, bragg_err *e)
{
    char dir[900], path[1024], text[8192];
    if (settings_dir(dir, sizeof dir, e) || make_dirs(dir, e)) return BRAGG_ERR;
    snprintf(path, sizeof path, "%s/" SETTINGS_FILE, dir);
    int n = settings_format(w, text, sizeof text);
    if (n < 0 || (size_t)n >= sizeof text) return bragg_fail(e, "settings: too long to save");
    atomic_file af;
    if (atomic_file_open(&af, path, "settings", e)) return BRAGG_ERR;
    fputs(text, af.file);
    return atomic_file_commit(&af, e);
}
