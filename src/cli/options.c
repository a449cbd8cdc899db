/* options.c - see options.h. */
#include "options.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "assets.h"
#include "run_file.h"

static const option_spec *find_long(const option_spec *specs, const char *name, size_t len)
{
    for (const option_spec *s = specs; s->name; s++)
        if (strlen(s->name) == len && strncmp(s->name, name, len) == 0) return s;
    return NULL;
}

static const option_spec *find_short(const option_spec *specs, char letter)
{
    for (const option_spec *s = specs; s->name; s++)
        if (s->letter && s->letter == letter) return s;
    return NULL;
}

int option_takes_value(const option_spec *s)
{
    return s->kind != OPTION_FLAG && s->kind != OPTION_CLEAR && s->kind != OPTION_CALL_FLAG;
}

/* Sets one option from its text; `field` is how messages name it ("--energy", or "energy" in
 * a run file). A flag's value is yes or no (a bare flag on the command line: yes). */
static int apply(const option_spec *s, const char *field, const char *value, bragg_err *e)
{
    double v;
    int on = 1;
    if (!option_takes_value(s) && value && run_file_switch(value, &on))
        return bragg_fail(e, "%s: %s is not a switch (valid: yes, no)", field, BRAGG_QUOTED(value));
    switch (s->kind) {
    case OPTION_FLAG: *(int *)s->target = on; return BRAGG_OK;
    case OPTION_CLEAR: *(int *)s->target = !on; return BRAGG_OK;
    case OPTION_CALL_FLAG:
        if (s->call(on ? "yes" : "no", s->target, e)) return bragg_fail_prefix(e, "%s: ", field);
        return BRAGG_OK;
    case OPTION_STRING:
        if (!*value) return bragg_fail(e, "%s: needs a value (%s)", field, s->meta);
        *(const char **)s->target = value;
        return BRAGG_OK;
    case OPTION_DOUBLE:
        if (parse_number(value, field, s->lo, s->hi, &v, e)) return BRAGG_ERR;
        *(double *)s->target = v;
        return BRAGG_OK;
    case OPTION_INT:
    case OPTION_COUNT:
        if (parse_number(value, field, s->lo, s->hi, &v, e)) return BRAGG_ERR;
        if (v != floor(v))
            return bragg_fail(e, "%s: %s is not a whole number (valid: %.0f to %.0f)", field,
                              BRAGG_QUOTED(value), s->lo, s->hi);
        if (s->kind == OPTION_INT) *(int *)s->target = (int)v;
        else *(uint64_t *)s->target = (uint64_t)v;
        return BRAGG_OK;
    case OPTION_CALL:
        if (s->call(value, s->target, e)) return bragg_fail_prefix(e, "%s: ", field);
        return BRAGG_OK;
    }
    return bragg_fail(e, "%s: internal error (unknown option kind)", field);
}

int option_parse(const option_spec *specs, int argc, char **argv, int *help, bragg_err *e)
{
    return option_parse_seen(specs, argc, argv, help, NULL, e);
}

int option_parse_seen(const option_spec *specs, int argc, char **argv, int *help,
                      unsigned char *seen, bragg_err *e)
{
    *help = 0;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        const option_spec *s = NULL;
        const char *value = NULL;
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            *help = 1;
            continue;
        }
        if (strncmp(arg, "--", 2) == 0) {
            const char *name = arg + 2, *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            s = find_long(specs, name, len);
            if (!s) {
                /* The name without "=value"; past 256 bytes it is shown cut anyway. */
                char name_only[256];
                snprintf(name_only, sizeof name_only, "%.*s", (int)(len + 2 < 255 ? len + 2 : 255),
                         arg);
                return bragg_fail(e, "unknown option %s (see --help)", BRAGG_QUOTED(name_only));
            }
            if (eq) value = eq + 1;   /* a flag's: yes or no */
        } else if (arg[0] == '-' && arg[1] && !arg[2]) {
            s = find_short(specs, arg[1]);
            if (!s) return bragg_fail(e, "unknown option %s (see --help)", BRAGG_QUOTED(arg));
        } else if (arg[0] == '-' && arg[1] && (s = find_short(specs, arg[1])) &&
                   option_takes_value(s)) {
            /* "-n1e4": a short option and its value run together. */
            char shown[32];
            snprintf(shown, sizeof shown, "%.20s", arg + 2);
            return bragg_fail(e, "unexpected argument %s (a value goes apart from its option: "
                                 "-%c %s%s)",
                              BRAGG_QUOTED(arg), arg[1], bragg_text_printable(shown) ? shown
                                                                                    : "VALUE",
                              strlen(arg + 2) > 20 ? "..." : "");
        } else {
            return bragg_fail(e, "unexpected argument %s (options start with --; see --help)",
                              BRAGG_QUOTED(arg));
        }
        if (option_takes_value(s) && !value) {
            char what[96] = "VALUE";
            if (s->meta) run_file_words(s->meta, what, sizeof what);
            /* An option where its value should be: the value was left out. */
            const char *next = i + 1 < argc ? argv[i + 1] : NULL;
            int option_like = next && (strncmp(next, "--", 2) == 0 ||
                                       (next[0] == '-' && next[1] && !next[2] &&
                                        (find_short(specs, next[1]) || next[1] == 'h')));
            if (!next || option_like)
                return bragg_fail(e, "--%s: needs a value (%s)%s", s->name, what,
                                  option_like ? "; an option follows it (a value that starts "
                                                "with - goes as --NAME=VALUE)"
                                              : "");
            value = argv[++i];
        }
        char field[64];
        snprintf(field, sizeof field, "--%s", s->name);
        if (apply(s, field, option_takes_value(s) && !value ? "" : value, e)) return BRAGG_ERR;
        if (seen) seen[s - specs] = 1;
    }
    return BRAGG_OK;
}

typedef struct file_ctx {
    const option_spec *specs;
    const unsigned char *seen;
    const char *const *refused;
    int *lines;
} file_ctx;

static int file_line(const char *section, const char *key, const char *value, int line,
                     void *ctx, bragg_err *e)
{
    const file_ctx *fc = ctx;
    /* [workbench]: the workbench's own settings (run_file_parse refuses other sections, and
     * the keys of a run in one). */
    if (*section) return BRAGG_OK;
    for (const char *const *r = fc->refused; r && *r; r++)
        if (strcmp(key, *r) == 0) return bragg_fail(e, "%s: not allowed in a run file", key);
    const option_spec *s = find_long(fc->specs, key, strlen(key));
    if (!s)
        return bragg_fail(e, "unknown key %s (the keys are the long options of --help, without "
                             "the dashes)", BRAGG_QUOTED(key));
    if (fc->seen && fc->seen[s - fc->specs]) return BRAGG_OK;   /* the command line's wins */
    if (option_takes_value(s) && !*value) {
        char what[96] = "VALUE";
        if (s->meta) run_file_words(s->meta, what, sizeof what);
        return bragg_fail(e, "%s: needs a value (%s)", key, what);
    }
    if (apply(s, key, value, e)) return BRAGG_ERR;
    if (fc->lines) fc->lines[s - fc->specs] = line;
    return BRAGG_OK;
}

int option_parse_file(const option_spec *specs, char *text, const char *name,
                      const unsigned char *seen, const char *const *refused, int *lines,
                      bragg_err *e)
{
    file_ctx fc = {specs, seen, refused, lines};
    return run_file_parse(text, name, file_line, &fc, e);
}

void option_print_help(FILE *out, const option_spec *specs)
{
    for (const option_spec *s = specs; s->name; s++) {
        char left[64];
        int n = s->letter ? snprintf(left, sizeof left, "-%c, --%s", s->letter, s->name)
                          : snprintf(left, sizeof left, "    --%s", s->name);
        if (option_takes_value(s) && n < (int)sizeof left)
            snprintf(left + n, sizeof left - (size_t)n, " %s", s->meta ? s->meta : "VALUE");
        fprintf(out, "  %-30s %s", left, s->help);
        char lo[32], hi[32];
        if (s->kind == OPTION_DOUBLE || s->kind == OPTION_INT || s->kind == OPTION_COUNT ||
            (s->kind == OPTION_CALL && s->hi > s->lo))
            fprintf(out, " [%s to %s]", run_file_bound_text(s->lo, lo, sizeof lo),
                    run_file_bound_text(s->hi, hi, sizeof hi));
        fputc('\n', out);
    }
}
