/* options.c - see options.h. */
#include "options.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "assets.h"

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

static int takes_value(const option_spec *s)
{
    return s->kind != OPTION_FLAG && s->kind != OPTION_CLEAR;
}

static int apply(const option_spec *s, const char *value, bragg_err *e)
{
    char field[64];
    snprintf(field, sizeof field, "--%s", s->name);
    double v;
    switch (s->kind) {
    case OPTION_FLAG: *(int *)s->target = 1; return BRAGG_OK;
    case OPTION_CLEAR: *(int *)s->target = 0; return BRAGG_OK;
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
            if (eq) {
                if (!takes_value(s)) return bragg_fail(e, "--%s takes no value", s->name);
                value = eq + 1;
            }
        } else if (arg[0] == '-' && arg[1] && !arg[2]) {
            s = find_short(specs, arg[1]);
            if (!s) return bragg_fail(e, "unknown option %s (see --help)", BRAGG_QUOTED(arg));
        } else {
            return bragg_fail(e, "unexpected argument %s (options start with --; see --help)",
                              BRAGG_QUOTED(arg));
        }
        if (takes_value(s) && !value) {
            if (i + 1 >= argc)
                return bragg_fail(e, "--%s: needs a value (%s)", s->name, s->meta);
            value = argv[++i];
        }
        if (apply(s, value ? value : "", e)) return BRAGG_ERR;
    }
    return BRAGG_OK;
}

void option_print_help(FILE *out, const option_spec *specs)
{
    for (const option_spec *s = specs; s->name; s++) {
        char left[64];
        int n = s->letter ? snprintf(left, sizeof left, "-%c, --%s", s->letter, s->name)
                          : snprintf(left, sizeof left, "    --%s", s->name);
        if (takes_value(s) && n < (int)sizeof left)
            snprintf(left + n, sizeof left - (size_t)n, " %s", s->meta ? s->meta : "VALUE");
        fprintf(out, "  %-30s %s", left, s->help);
        if (s->kind == OPTION_DOUBLE || s->kind == OPTION_INT || s->kind == OPTION_COUNT)
            fprintf(out, " [%g..%g]", s->lo, s->hi);
        fputc('\n', out);
    }
}
