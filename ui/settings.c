/* settings.c - see settings.h. */
#include "settings.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "atomic_file.h"

#define SETTINGS_FILE "workbench.conf"
#define SETTINGS_MAX_BYTES 65536

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t') s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r')) s[--n] = '\0';
    return s;
}

static int parse_double(const char *v, double *out)
{
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (end == v || *end || errno || !isfinite(d)) return -1;
    *out = d;
    return 0;
}

static int parse_u64(const char *v, uint64_t *out)
{
    char *end;
    if (*v == '-' || *v == '\0') return -1;
    errno = 0;
    unsigned long long u = strtoull(v, &end, 10);
    if (*end || errno) return -1;
    *out = u;
    return 0;
}

static int parse_switch(const char *v, int *out)
{
    if (strcmp(v, "on") == 0 || strcmp(v, "1") == 0) *out = 1;
    else if (strcmp(v, "off") == 0 || strcmp(v, "0") == 0) *out = 0;
    else return -1;
    return 0;
}

/* One "key = value" into c; -1 when the value does not parse, -2 for an unknown key. */
static int apply(run_config *c, const char *key, const char *v, bragg_err *e)
{
    double d;
    uint64_t u;
    int s;
    if (strcmp(key, "ion") == 0) {
        if (!*v || strlen(v) >= sizeof c->ion) return -1;
        snprintf(c->ion, sizeof c->ion, "%s", v);
    } else if (strcmp(key, "energy_mev_u") == 0) {
        if (parse_double(v, &d)) return -1;
        c->energy = d;
    } else if (strcmp(key, "energy_spread_percent") == 0) {
        if (parse_double(v, &d)) return -1;
        c->energy_spread = d / 100;
    } else if (strcmp(key, "spot_mm") == 0) {
        if (parse_double(v, &d)) return -1;
        c->spot_sigma_cm = d / 10;
    } else if (strcmp(key, "slabs") == 0) {
        /* "water" or "water:5, bone-cortical-icrp:2, water:inf" */
        char buf[512];
        if (strlen(v) >= sizeof buf) return -1;
        snprintf(buf, sizeof buf, "%s", v);
        run_config tmp = *c;
        tmp.n_slabs = 0;
        char *save = NULL;
        for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            tok = trim(tok);
            if (strchr(tok, ':')) {
                if (config_add_slab(&tmp, tok, e)) return -1;
            } else {
                char spec[CONFIG_NAME_LEN + 8];
                if (strlen(tok) >= CONFIG_NAME_LEN || !*tok) return -1;
                snprintf(spec, sizeof spec, "%s:inf", tok);
                if (config_add_slab(&tmp, spec, e)) return -1;
            }
        }
        if (tmp.n_slabs == 0) return -1;
        memcpy(c->slabs, tmp.slabs, sizeof c->slabs);
        c->n_slabs = tmp.n_slabs;
    } else if (strcmp(key, "histories") == 0) {
        if (parse_u64(v, &u)) return -1;
        c->histories = u;
    } else if (strcmp(key, "seed") == 0) {
        if (parse_u64(v, &u)) return -1;
        c->seed = u;
    } else if (strcmp(key, "backend") == 0) {
        if (!*v || strlen(v) >= sizeof c->backend) return -1;
        snprintf(c->backend, sizeof c->backend, "%s", v);
    } else if (strcmp(key, "threads") == 0) {
        if (parse_u64(v, &u) || u > 1024) return -1;
        c->threads = (int)u;
    } else if (strcmp(key, "straggling") == 0) {
        if (parse_switch(v, &s)) return -1;
        c->straggling = s;
    } else if (strcmp(key, "mcs") == 0) {
        if (parse_switch(v, &s)) return -1;
        c->scattering = s;
    } else if (strcmp(key, "nuclear") == 0) {
        if (parse_switch(v, &s)) return -1;
        c->nuclear = s;
    } else if (strcmp(key, "bio") == 0) {
        if (strlen(v) >= sizeof c->bio_model) return -1;
        snprintf(c->bio_model, sizeof c->bio_model, "%s", strcmp(v, "none") == 0 ? "" : v);
    } else if (strcmp(key, "alpha_beta_gy") == 0) {
        if (parse_double(v, &d) || d < 0) return -1;
        c->bio_alpha_beta = d;
    } else {
        return -2;
    }
    return 0;
}

int settings_parse(const char *text, run_config *c, bragg_err *e)
{
    run_config tmp = *c;
    int line_no = 0;
    const char *p = text;
    while (*p) {
        line_no++;
        size_t n = strcspn(p, "\n");
        char line[1024];
        if (n >= sizeof line) return bragg_fail(e, "settings line %d: too long", line_no);
        memcpy(line, p, n);
        line[n] = '\0';
        p += n;
        if (*p == '\n') p++;
        char *s = trim(line);
        if (*s == '#' || *s == '\0') continue;
        char *eq = strchr(s, '=');
        if (!eq) return bragg_fail(e, "settings line %d: no '=' in '%.60s'", line_no, s);
        *eq = '\0';
        char *key = trim(s), *value = trim(eq + 1);
        bragg_err inner = {{0}};
        int rc = apply(&tmp, key, value, &inner);
        if (rc == -2) return bragg_fail(e, "settings line %d: unknown key '%.40s'", line_no, key);
        if (rc)
            return bragg_fail(e, "settings line %d: %s: bad value '%.60s'%s%s", line_no, key,
                              value, inner.msg[0] ? ": " : "", inner.msg);
    }
    *c = tmp;
    return BRAGG_OK;
}

int settings_format(const run_config *c, char *out, size_t len)
{
    char slabs[512] = "";
    size_t used = 0;
    for (int i = 0; i < c->n_slabs && used < sizeof slabs; i++) {
        if (isinf(c->slabs[i].thickness_cm))
            used += (size_t)snprintf(slabs + used, sizeof slabs - used, "%s%s", i ? ", " : "",
                                     c->slabs[i].material);
        else
            used += (size_t)snprintf(slabs + used, sizeof slabs - used, "%s%s:%.17g",
                                     i ? ", " : "", c->slabs[i].material, c->slabs[i].thickness_cm);
    }
    return snprintf(out, len,
                    "# bragg workbench: the last setup (rewritten on quit and on every run)\n"
                    "ion = %s\n"
                    "energy_mev_u = %.17g\n"
                    "energy_spread_percent = %.17g\n"
                    "spot_mm = %.17g\n"
                    "slabs = %s\n"
                    "histories = %llu\n"
                    "backend = %s\n"
                    "threads = %d\n"
                    "straggling = %s\n"
                    "mcs = %s\n"
                    "nuclear = %s\n"
                    "bio = %s\n"
                    "alpha_beta_gy = %.17g\n"
                    "seed = %llu\n",
                    c->ion, c->energy, 100 * c->energy_spread, 10 * c->spot_sigma_cm, slabs,
                    (unsigned long long)c->histories, c->backend, c->threads,
                    c->straggling ? "on" : "off", c->scattering ? "on" : "off",
                    c->nuclear ? "on" : "off", c->bio_model[0] ? c->bio_model : "none",
                    c->bio_alpha_beta, (unsigned long long)c->seed);
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

int settings_load(run_config *c, bragg_err *e)
{
    char path[1024];
    if (settings_path(path, sizeof path, e)) return BRAGG_ERR;
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT) return 1;
        return bragg_fail(e, "settings: cannot read %s: %s", path, strerror(errno));
    }
    char *text = malloc(SETTINGS_MAX_BYTES + 1);
    if (!text) {
        fclose(f);
        return bragg_fail(e, "settings: out of memory");
    }
    size_t n = fread(text, 1, SETTINGS_MAX_BYTES + 1, f);
    int read_error = ferror(f);
    fclose(f);
    int rc;
    if (read_error) rc = bragg_fail(e, "settings: cannot read %s", path);
    else if (n > SETTINGS_MAX_BYTES) rc = bragg_fail(e, "settings: %s is too large", path);
    else if (memchr(text, '\0', n)) rc = bragg_fail(e, "settings: %s is not text", path);
    else {
        text[n] = '\0';
        rc = settings_parse(text, c, e);
        if (rc) bragg_fail_prefix(e, "%s: ", path);
    }
    free(text);
    return rc;
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

int settings_save(const run_config *c, bragg_err *e)
{
    char dir[900], path[1024], text[4096];
    if (settings_dir(dir, sizeof dir, e) || make_dirs(dir, e)) return BRAGG_ERR;
    snprintf(path, sizeof path, "%s/" SETTINGS_FILE, dir);
    int n = settings_format(c, text, sizeof text);
    if (n < 0 || (size_t)n >= sizeof text) return bragg_fail(e, "settings: too long to save");
    atomic_file af;
    if (atomic_file_open(&af, path, "settings", e)) return BRAGG_ERR;
    fputs(text, af.file);
    return atomic_file_commit(&af, e);
}
