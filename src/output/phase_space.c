/* phase_space.c - see phase_space.h. */
#include "phase_space.h"

#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic_file.h"
#include "ion.h"

#ifdef BRAGG_MCPL
#include <mcpl.h>
#endif

int32_t phase_space_pdg(int Z, int A)
{
    /* PDG numbering scheme (Review of Particle Physics, "Monte Carlo particle numbering"):
     * nuclei are 10LZZZAAAI with L = I = 0 here; the proton keeps its own code. */
    if (Z == 1 && A == 1) return 2212;
    return 1000000000 + 10000 * Z + 10 * A;
}

static int before(const phase_space_point *a, const phase_space_point *b)
{
    if (a->history != b->history) return a->history < b->history;
    return a->id < b->id;
}

int phase_space_sort(phase_space_list *l, bragg_err *e)
{
    size_t n = l->n;
    if (n < 2) return BRAGG_OK;
    phase_space_point *tmp = malloc(n * sizeof *tmp), *src = l->p, *dst = tmp;
    if (!tmp) return bragg_fail(e, "phase space: out of memory to sort %zu crossings", n);
    /* Bottom-up merge sort: stable, so a particle's crossings keep the order they were made
     * in (one thread made them all, one after the other). */
    for (size_t width = 1; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n, hi = lo + 2 * width < n ? lo + 2 * width : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) dst[k++] = before(&src[j], &src[i]) ? src[j++] : src[i++];
            while (i < mid) dst[k++] = src[i++];
            while (j < hi) dst[k++] = src[j++];
        }
        phase_space_point *swap = src;
        src = dst;
        dst = swap;
    }
    if (src != l->p) memcpy(l->p, src, n * sizeof *src);
    free(tmp);
    return BRAGG_OK;
}

#ifdef BRAGG_MCPL

int phase_space_available(char *reason, size_t len)
{
    (void)reason;
    (void)len;
    return 1;
}

/* The library's errors: its handler must not return, so it jumps back into the writer. The
 * handler stays installed (the library has no way to restore its default); outside the writer
 * it does what the default does. */
static jmp_buf mcpl_jump;
static int mcpl_armed;
static char mcpl_message[256];

static void on_mcpl_error(const char *msg)
{
    if (!mcpl_armed) {
        fprintf(stderr, "MCPL ERROR: %s\n", msg);
        exit(1);
    }
    snprintf(mcpl_message, sizeof mcpl_message, "%s", msg);
    mcpl_armed = 0;
    longjmp(mcpl_jump, 1);
}

/* Copies the scratch file into the output through atomic_file. */
static int copy_out(const char *scratch, const char *path, const char *what, bragg_err *e)
{
    FILE *in = fopen(scratch, "rb");
    if (!in) return bragg_fail(e, "%s: cannot read back %s: %s", what, scratch, strerror(errno));
    atomic_file af;
    if (atomic_file_open(&af, path, what, e)) {
        fclose(in);
        return BRAGG_ERR;
    }
    char buf[1 << 16];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, af.file) != n) break;
    int bad = ferror(in);
    fclose(in);
    if (bad) {
        atomic_file_abandon(&af);
        return bragg_fail(e, "%s: cannot read back %s", what, scratch);
    }
    return atomic_file_commit(&af, e);
}

int phase_space_write_mcpl(engine *en, const run_snapshot *snap, const char *path,
                           const char *what, bragg_err *e)
{
    phase_space_list *l = engine_phase_space(en);
    if (phase_space_sort(l, e)) return BRAGG_ERR;
    const run_config *c = engine_config(en);
    const transport_params *p = engine_params(en);
    /* The library appends ".mcpl" to a name without it; the scratch name has it. Static: a
     * local's value after longjmp is only defined when it is volatile. */
    static atomic_scratch scratch;
    if (atomic_file_scratch_open(&scratch, path, ".mcpl", what, e)) return BRAGG_ERR;
    mcpl_set_error_handler(on_mcpl_error);
    if (setjmp(mcpl_jump)) {
        /* The library's file object is lost with the jump; what it holds is a few kB. */
        atomic_file_scratch_remove(&scratch);
        return bragg_fail(e, "%s: cannot write %s: %s", what, BRAGG_QUOTED(path), mcpl_message);
    }
    mcpl_armed = 1;
    mcpl_outfile_t f = mcpl_create_outfile(scratch.path);
    char text[512], geom[256];
    snprintf(text, sizeof text, "bragg %s (git %s)", BRAGG_VERSION, BRAGG_GIT_REV);
    mcpl_hdr_set_srcname(f, text);
    config_describe_geometry(c, geom, sizeof geom);
    /* The histories scored, as the dose and the messages count them (the progress counter
     * also counts a job cut short); a run that ended early says how: cancelled or failed. */
    char ran[96] = "";
    if (snap->state == RUN_CANCELLED || snap->state == RUN_FAILED)
        snprintf(ran, sizeof ran, " of %llu asked (%s)", (unsigned long long)c->histories,
                 snap->state == RUN_CANCELLED ? "cancelled" : "the run failed");
    snprintf(text, sizeof text, "%s %g %s in %s, %llu histories%s, seed %llu", c->ion,
             c->energy, ion_energy_unit(p->A), geom, (unsigned long long)snap->result.histories,
             ran, (unsigned long long)c->seed);
    mcpl_hdr_add_comment(f, text);
    snprintf(text, sizeof text,
             "every crossing of the plane z = %.17g cm (forwards or backwards); position cm, "
             "energy MeV; position and direction on the step's path; weight 1 per primary "
             "history",
             p->ps_depth);
    mcpl_hdr_add_comment(f, text);
    mcpl_hdr_add_comment(f, "userflags: the history index (low 32 bits); sorted by history, "
                            "then particle, then time");
    mcpl_enable_userflags(f);
    mcpl_enable_doubleprec(f);
    mcpl_enable_universal_weight(f, 1.0);
    mcpl_particle_t *out = mcpl_get_empty_particle(f);
    for (size_t i = 0; i < l->n; i++) {
        const phase_space_point *q = &l->p[i];
        out->pdgcode = phase_space_pdg(q->Z, q->A);
        out->position[0] = q->x;
        out->position[1] = q->y;
        out->position[2] = p->ps_depth;
        out->direction[0] = q->u;
        out->direction[1] = q->v;
        out->direction[2] = q->w;
        out->ekin = q->ekin;
        out->time = 0.0;
        out->weight = 1.0;
        out->userflags = (uint32_t)q->history;
        mcpl_add_particle(f, out);
    }
    mcpl_close_outfile(f);
    mcpl_armed = 0;
    int rc = copy_out(scratch.path, path, what, e);
    atomic_file_scratch_remove(&scratch);
    return rc;
}

#else

int phase_space_available(char *reason, size_t len)
{
    snprintf(reason, len, "this bragg was built without MCPL (install libmcpl-dev and rebuild)");
    return 0;
}

int phase_space_write_mcpl(engine *en, const run_snapshot *snap, const char *path,
                           const char *what, bragg_err *e)
{
    (void)en;
    (void)snap;
    (void)path;
    char reason[128];
    phase_space_available(reason, sizeof reason);
    return bragg_fail(e, "%s: %s", what, reason);
}

#endif
