/* assets.c - see assets.h. */
#include "assets.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef BRAGG_ASSET_DIR
#define BRAGG_ASSET_DIR "assets"
#endif

static int file_exists(const char *path)
{
    return access(path, R_OK) == 0;
}

const char *const assets_files[] = {
    "ions.tsv",          "elements.tsv",         "materials.tsv", "stopping_lowenergy.tsv",
    "shell_corrections.tsv", "cell_lines.tsv", "rbe_models.tsv", NULL,
};

int assets_path(const char *name, char *out, size_t out_len, bragg_err *e)
{
    if (strchr(name, '/')) {
        snprintf(out, out_len, "%s", name);
        return BRAGG_OK;
    }
    const char *env = getenv("BRAGG_ASSETS");
    if (env && *env) {
        snprintf(out, out_len, "%s/%s", env, name);
        if (file_exists(out)) return BRAGG_OK;
        return bragg_fail(e, "asset %s not found in BRAGG_ASSETS=%s", name, env);
    }
    snprintf(out, out_len, "%s/%s", BRAGG_ASSET_DIR, name);
    if (file_exists(out)) return BRAGG_OK;

    /* Installed elsewhere: look beside the executable (bin/../assets). */
    char exe[1024];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            snprintf(out, out_len, "%s/../assets/%s", exe, name);
            if (file_exists(out)) return BRAGG_OK;
        }
    }
    return bragg_fail(e, "asset %s not found (looked in %s and beside the executable; "
                         "set BRAGG_ASSETS to the assets folder)", name, BRAGG_ASSET_DIR);
}

int tsv_open(tsv_reader *r, const char *name, bragg_err *e)
{
    memset(r, 0, sizeof *r);
    if (assets_path(name, r->path, sizeof r->path, e) != BRAGG_OK) return BRAGG_ERR;
    r->file = fopen(r->path, "r");
    if (!r->file) return bragg_fail(e, "%s: %s", r->path, strerror(errno));
    return BRAGG_OK;
}

int tsv_next(tsv_reader *r, bragg_err *e)
{
    for (;;) {
        if (!fgets(r->line, sizeof r->line, r->file)) {
            if (ferror(r->file)) return bragg_fail(e, "%s: read error", r->path);
            return 0;
        }
        r->line_no++;
        size_t len = strlen(r->line);
        if (len == sizeof r->line - 1 && r->line[len - 1] != '\n' && !feof(r->file))
            return bragg_fail(e, "%s line %d: line longer than %d characters", r->path,
                              r->line_no, TSV_MAX_LINE - 2);
        while (len > 0 && (r->line[len - 1] == '\n' || r->line[len - 1] == '\r'))
            r->line[--len] = '\0';
        const char *p = r->line;
        while (*p == ' ' || *p == '\t') p++;
        if (*p == '\0' || *p == '#') continue;

        r->nfields = 0;
        char *field = r->line;
        for (;;) {
            if (r->nfields == TSV_MAX_FIELDS)
                return bragg_fail(e, "%s line %d: more than %d tab-separated fields", r->path,
                                  r->line_no, TSV_MAX_FIELDS);
            char *tab = strchr(field, '\t');
            if (tab) *tab = '\0';
            /* Trim spaces so hand-edited files with stray blanks still read. */
            while (*field == ' ') field++;
            char *end = field + strlen(field);
            while (end > field && end[-1] == ' ') *--end = '\0';
            r->fields[r->nfields++] = field;
            if (!tab) break;
            field = tab + 1;
        }
        return 1;
    }
}

void tsv_close(tsv_reader *r)
{
    if (r->file) fclose(r->file);
    r->file = NULL;
}

/* The one number syntax bragg reads, from the command line, the settings file and the
 * assets alike: an optional sign, decimal digits with an optional point, an optional exponent
 * ("5", "-0.5", ".5", "1e6", "2.5E-3"). strtod alone would also take leading spaces, hex
 * ("0x10"), "inf" and "nan", and a decimal comma under some locales: none of them is what a
 * user means by a number here, and a value read one way in one place and another way elsewhere
 * is how a typo becomes a wrong run. */
static int is_decimal(const char *s)
{
    int digits = 0;
    if (*s == '+' || *s == '-') s++;
    while (*s >= '0' && *s <= '9') s++, digits++;
    if (*s == '.') {
        s++;
        while (*s >= '0' && *s <= '9') s++, digits++;
    }
    if (!digits) return 0;
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-') s++;
        if (!(*s >= '0' && *s <= '9')) return 0;
        while (*s >= '0' && *s <= '9') s++;
    }
    return *s == '\0';
}

int parse_decimal(const char *text, double *out)
{
    if (!text || !is_decimal(text)) return BRAGG_ERR;
    char *end = NULL;
    errno = 0;
    double v = strtod(text, &end);
    if (*end != '\0' || errno == ERANGE || !isfinite(v)) return BRAGG_ERR;
    *out = v;
    return BRAGG_OK;
}

int parse_number(const char *text, const char *field, double lo, double hi, double *out,
                 bragg_err *e)
{
    double v;
    if (parse_decimal(text, &v))
        return bragg_fail(e, "%s: %s is not a decimal number (valid: %g to %g)", field,
                          BRAGG_QUOTED(text), lo, hi);
    if (v < lo || v > hi)
        return bragg_fail(e, "%s: %g is out of range (valid: %g to %g)", field, v, lo, hi);
    *out = v;
    return BRAGG_OK;
}

char *name_key(const char *name, char *out, size_t out_len)
{
    size_t j = 0;
    for (const char *p = name; *p && j + 1 < out_len; p++) {
        if (*p == '-' || *p == '_' || *p == ' ' || *p == '.') continue;
        out[j++] = (char)tolower((unsigned char)*p);
    }
    out[j] = '\0';
    return out;
}

int name_key_equals(const char *key, const char *name)
{
    char other[128];
    return strcmp(key, name_key(name, other, sizeof other)) == 0;
}

int name_list_has(const char *key, const char *list)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", list);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
        if (strcmp(tok, "-") != 0 && name_key_equals(key, tok)) return 1;
    return 0;
}
