/* checkpoint.c - see checkpoint.h. */
#include "checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "biology.h"
#include "catalog.h"
#include "config.h"
#include "run_file.h"

#define FORMAT_LINE "bragg-checkpoint 1"
#define CHECKSUM_PREFIX "checksum "
/* "checksum " + 16 hex digits + "\n" */
#define CHECKSUM_LINE_LEN (sizeof CHECKSUM_PREFIX - 1 + 16 + 1)

/* ---- chunk layout ------------------------------------------------------------------------- */

int chunk_layout_build(chunk_layout *l, const engine *en, const uint64_t *size, bragg_err *e)
{
    memset(l, 0, sizeof *l);
    const run_config *c = engine_config(en);
    uint64_t max_job = engine_max_job_histories(en);
    int64_t n = 0;
    for (int b = 0; b < c->batches; b++) {
        if (size[b] < 1 || size[b] > max_job)
            return bragg_fail(e, "chunk size %" PRIu64 " of batch %d is outside [1, %" PRIu64 "]",
                              size[b], b, max_job);
        uint64_t first, count;
        engine_batch_range(en, b, &first, &count);
        n += (int64_t)((count + size[b] - 1) / size[b]);
    }
    l->batches = c->batches;
    l->size = malloc((size_t)c->batches * sizeof *l->size);
    l->chunks = malloc((size_t)(n > 0 ? n : 1) * sizeof *l->chunks);
    if (!l->size || !l->chunks) {
        chunk_layout_free(l);
        return bragg_fail(e, "out of memory for %lld chunks", (long long)n);
    }
    memcpy(l->size, size, (size_t)c->batches * sizeof *l->size);
    int64_t k = 0;
    for (int b = 0; b < c->batches; b++) {
        uint64_t first, count;
        engine_batch_range(en, b, &first, &count);
        for (uint64_t done = 0; done < count; done += size[b]) {
            uint64_t left = count - done;
            l->chunks[k++] = (history_chunk){b, first + done, left < size[b] ? left : size[b]};
        }
    }
    l->n_chunks = n;
    return BRAGG_OK;
}

void chunk_layout_free(chunk_layout *l)
{
    free(l->size);
    free(l->chunks);
    memset(l, 0, sizeof *l);
}

/* ---- building an image -------------------------------------------------------------------- */

void checkpoint_image_free(checkpoint_image *img)
{
    free(img->data);
    memset(img, 0, sizeof *img);
}

static int image_reserve(checkpoint_image *img, size_t more)
{
    if (img->len + more <= img->cap) return BRAGG_OK;
    size_t cap = img->cap ? img->cap : 4096;
    while (cap < img->len + more) cap *= 2;
    unsigned char *p = realloc(img->data, cap);
    if (!p) return BRAGG_ERR;
    img->data = p;
    img->cap = cap;
    return BRAGG_OK;
}

/* Appends formatted text. Failures (out of memory) are remembered in *bad, so that a long run
 * of appends is checked once at the end. */
static void image_printf(checkpoint_image *img, int *bad, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void image_printf(checkpoint_image *img, int *bad, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || image_reserve(img, (size_t)n + 1)) {
        *bad = 1;
        return;
    }
    va_start(ap, fmt);
    vsnprintf((char *)img->data + img->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    img->len += (size_t)n;
}

static void image_u64(checkpoint_image *img, int *bad, uint64_t v)
{
    if (image_reserve(img, 8)) {
        *bad = 1;
        return;
    }
    /* Little-endian whatever the host: a checkpoint moves between machines of one cluster. */
    for (int i = 0; i < 8; i++) img->data[img->len++] = (unsigned char)(v >> (8 * i));
}

static void image_i128(checkpoint_image *img, int *bad, __int128 v)
{
    unsigned __int128 u = (unsigned __int128)v;
    image_u64(img, bad, (uint64_t)u);
    image_u64(img, bad, (uint64_t)(u >> 64));
}

/* FNV-1a, 64 bits: enough to tell a damaged or truncated file from a whole one (this guards
 * against accidents, not against someone forging a checkpoint). */
#define FNV1A64_OFFSET_BASIS 0xcbf29ce484222325ULL

/* Continues hash h over n bytes (start with FNV1A64_OFFSET_BASIS). */
static uint64_t fnv1a64_more(uint64_t h, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static uint64_t fnv1a64(const unsigned char *p, size_t n)
{
    return fnv1a64_more(FNV1A64_OFFSET_BASIS, p, n);
}

/* Names and values from user input go on one header line each: no control characters. */
static void clean_name(char *out, size_t len, const char *in)
{
    snprintf(out, len, "%s", in);
    for (char *p = out; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f) *p = '?';
}

/* A field holding v (config units) as its option takes it (run_file_number): 1 for --spot 1
 * (0.1 cm), not 0.10000000000000001. Equal text then means an equal field, and the text is
 * what was typed; where no short text reads back exactly, the exact bits, so that two fields
 * never share a text. */
static void user_number(char *out, size_t len, double v, double unit)
{
    if (!run_file_number(v, unit, out, len)) snprintf(out, len, "%a/%g", v, unit);
}

static void put_number(checkpoint_image *img, int *bad, const char *key, double v, double unit)
{
    char text[64];
    user_number(text, sizeof text, v, unit);
    image_printf(img, bad, "%s %s\n", key, text);
}

static void put_switch(checkpoint_image *img, int *bad, const char *key, int on)
{
    image_printf(img, bad, "%s %s\n", key, on ? "yes" : "no");
}

/* The identity of run `run` of `en` (see checkpoint_identity_build): one "key value" line
 * each; a key that starts with "--" is the option that sets the field, its value in that
 * option's unit. `cat` resolves names to the catalog's own. */
static int put_identity(checkpoint_image *img, int *bad, const engine *en, int run,
                        uint64_t check, const char *command, const catalog *cat, bragg_err *e)
{
    const run_config *c = engine_config(en);
    const transport_params *p = engine_params(en);
    char name[CONFIG_NAME_LEN + 8];
    image_printf(img, bad, "bragg %s (git %s)\n", BRAGG_VERSION, BRAGG_GIT_REV);
    image_printf(img, bad, "run %d\n", run);
    /* The command's own lines first: an sobp's --from that differs is the news, not the
     * energies that follow from it. */
    if (command) image_printf(img, bad, "%s", command);
    /* Names as the catalog spells them: --ion proton and --ion p are one run. */
    const ion *ion = ion_table_find(&cat->ions, c->ion);
    if (!ion) return bragg_fail(e, "--ion: %s is not in the catalog", BRAGG_QUOTED(c->ion));
    clean_name(name, sizeof name, ion->name);
    image_printf(img, bad, "--ion %s\n", name);
    put_number(img, bad, "--energy", c->energy, 1);
    put_number(img, bad, "--energy-spread", c->energy_spread, 100);
    put_number(img, bad, "--spot", c->spot_sigma_cm, 10);
    put_number(img, bad, "--divergence", c->divergence_rad, 1000);
    image_printf(img, bad, "--histories %" PRIu64 "\n", c->histories);
    image_printf(img, bad, "--seed %" PRIu64 "\n", c->seed);
    /* The slabs on one line, as they would be typed: --material for one semi-infinite slab. */
    image_printf(img, bad, "geometry");
    for (int i = 0; i < c->n_slabs && i < TRANSPORT_MAX_SLABS; i++) {
        const material *m = material_table_find(&cat->materials, c->slabs[i].material);
        if (!m)
            return bragg_fail(e, "--material: %s is not in the catalog",
                              BRAGG_QUOTED(c->slabs[i].material));
        clean_name(name, sizeof name, m->name);
        char thick[64];
        user_number(thick, sizeof thick, c->slabs[i].thickness_cm, 1);
        if (c->n_slabs == 1 && isinf(c->slabs[i].thickness_cm))
            image_printf(img, bad, " --material %s", name);
        else image_printf(img, bad, " --slab %s:%s", name, thick);
    }
    image_printf(img, bad, "\n");
    put_number(img, bad, "--lateral-halfwidth", c->lateral_halfwidth_cm, 1);
    put_number(img, bad, "--iwater", c->iwater, 1);
    put_switch(img, bad, "--no-shell", !c->stopping.shell);
    put_switch(img, bad, "--no-barkas", !c->stopping.barkas);
    put_switch(img, bad, "--no-bloch", !c->stopping.bloch);
    put_switch(img, bad, "--no-mott", !c->stopping.mott);
    put_switch(img, bad, "--no-density-effect", !c->stopping.density_effect);
    put_switch(img, bad, "--no-effective-charge", !c->stopping.effective_charge);
    put_switch(img, bad, "--no-nuclear-stopping", !c->stopping.nuclear);
    put_switch(img, bad, "--no-straggling", !c->straggling);
    put_switch(img, bad, "--no-mcs", !c->scattering);
    put_switch(img, bad, "--no-nuclear", !c->nuclear);
    /* The values the run uses, automatic ones resolved: --bin 0.1 is the automatic 0.1 mm. */
    put_number(img, bad, "--step-fraction", c->step_fraction, 1);
    put_number(img, bad, "--step-min", p->step_min, 10);
    put_number(img, bad, "--step-fraction-secondary", c->step_fraction_secondary, 1);
    put_number(img, bad, "--step-min-secondary", p->step_min_secondary, 10);
    put_number(img, bad, "--ecut", p->energy_cut, 1);
    put_number(img, bad, "--bin", p->bin_width, 10);
    /* The grid's depth, for the message; nbins below holds it exactly. */
    image_printf(img, bad, "--depth %.10g\n", p->nbins * p->bin_width);
    image_printf(img, bad, "--batches %d\n", c->batches);
    /* The dose map's curves are summed with the others: a resume must score the same map. */
    image_printf(img, bad, "--map-kind %s\n",
                 c->map_kind == MAP_RZ ? "rz" : c->map_kind == MAP_XZ ? "xz" : "none");
    if (c->map_kind != MAP_NONE) {
        double map_bin, map_radius;
        config_map_grid(c, engine_csda_depth(en), p->nbins * p->bin_width, &map_bin,
                        &map_radius);
        put_number(img, bad, "--map-bin", map_bin, 10);
        put_number(img, bad, "--map-radius", map_radius, 1);
        /* --map-error keeps the map per batch: more sums in the file. */
        put_switch(img, bad, "--map-error", c->map_errors);
    }
    /* The MKM's z1D* is scored for one cell line: its sums belong to that line. */
    const bio_model *bio = engine_bio(en);
    clean_name(name, sizeof name, p->score_z1d && bio ? bio->cell.name : "none (no MKM)");
    image_printf(img, bad, "--cell %s\n", name);
    /* What the configuration became (the fragment channels) and the sizes of the sums: a build
     * that scores differently is caught here too. */
    image_printf(img, bad, "nbins %d\n", p->nbins);
    image_printf(img, bad, "channels %d\n", p->channels);
    image_printf(img, bad, "curves %d\n", transport_curve_count(p));
    image_printf(img, bad, "ledger_words %d\n", (int)LEDGER_COUNT);
    image_printf(img, bad, "count_words %d\n", (int)COUNT_COUNT);
    image_printf(img, bad, "profile_words %d\n", (int)PROFILE_COUNT);
    image_printf(img, bad, "physics_check %016" PRIx64 "\n", check);
    return BRAGG_OK;
}

int checkpoint_identity_build(checkpoint_identity *id, const engine *en, int run, uint64_t check,
                              const char *command, bragg_err *e)
{
    memset(id, 0, sizeof *id);
    catalog cat;
    if (catalog_load(&cat, e)) return bragg_fail_prefix(e, "--checkpoint: ");
    int bad = 0;
    int rc = put_identity(&id->text, &bad, en, run, check, command, &cat, e);
    catalog_free(&cat);
    if (rc == BRAGG_OK && bad) rc = bragg_fail(e, "--checkpoint: out of memory");
    if (rc) checkpoint_identity_free(id);
    return rc;
}

void checkpoint_identity_free(checkpoint_identity *id)
{
    checkpoint_image_free(&id->text);
}

/* Payload size in bytes for n chunks and the sums of `t`'s shape. */
static size_t payload_size(int64_t n_chunks, const score_totals *t)
{
    size_t nb = (size_t)t->nbins;
    size_t i128 = nb * ((size_t)t->n_curves + 1) + score_totals_batch_values(t) + LEDGER_COUNT;
    size_t u64 = COUNT_COUNT + 2 + 2 * (size_t)PROFILE_COUNT + 3 + (size_t)t->max_batches;
    return (size_t)n_chunks + 16 * i128 + 8 * u64;
}

static void put_payload(checkpoint_image *img, int *bad, const chunk_layout *l,
                        const uint8_t *done, const score_totals *t)
{
    if (image_reserve(img, (size_t)l->n_chunks)) {
        *bad = 1;
        return;
    }
    for (int64_t k = 0; k < l->n_chunks; k++) img->data[img->len++] = done[k] ? 1 : 0;
    size_t n_curves = (size_t)t->nbins * ((size_t)t->n_curves + 1);   /* + the dose row */
    size_t n_batch = score_totals_batch_values(t);
    for (size_t i = 0; i < n_curves; i++) image_i128(img, bad, t->curves[i]);
    for (size_t i = 0; i < n_batch; i++) image_i128(img, bad, t->batch_dose[i]);
    for (int k = 0; k < LEDGER_COUNT; k++) image_i128(img, bad, t->ledger[k]);
    for (int k = 0; k < COUNT_COUNT; k++) image_u64(img, bad, t->count[k]);
    image_u64(img, bad, t->steps);
    image_u64(img, bad, t->histories);
    for (int k = 0; k < PROFILE_COUNT; k++) image_u64(img, bad, t->profile_cycles[k]);
    for (int k = 0; k < PROFILE_COUNT; k++) image_u64(img, bad, t->profile_marks[k]);
    image_u64(img, bad, t->profiled_histories);
    image_u64(img, bad, t->profiled_steps);
    image_u64(img, bad, t->history_cycles);
    for (int b = 0; b < t->max_batches; b++) image_u64(img, bad, t->batch_histories[b]);
}

/* Continues hash h over the 8 bytes of v, least significant first (the file's byte order). */
static uint64_t fnv1a64_u64(uint64_t h, uint64_t v)
{
    unsigned char b[8];
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(v >> (8 * i));
    return fnv1a64_more(h, b, sizeof b);
}

int checkpoint_physics_check(engine *en, uint64_t *check, bragg_err *e)
{
    const transport_params *p = engine_params(en);
    uint64_t n = engine_config(en)->histories;
    if (n > 16) n = 16;
    score_arrays a;
    if (score_arrays_init(&a, p, e)) return BRAGG_ERR;
    int rc = engine_run_range(en, 0, n, &a, e);
    if (rc == BRAGG_OK) {
        /* The scores only: not the profile, which is timing. */
        uint64_t h = FNV1A64_OFFSET_BASIS;
        size_t words = (size_t)a.n_curves * ((size_t)a.nbins + 1);
        for (size_t i = 0; i < words; i++) h = fnv1a64_u64(h, (uint64_t)a.curves[i]);
        for (int k = 0; k < LEDGER_COUNT; k++) h = fnv1a64_u64(h, (uint64_t)a.ledger[k]);
        for (int k = 0; k < COUNT_COUNT; k++) h = fnv1a64_u64(h, a.count[k]);
        h = fnv1a64_u64(h, a.steps);
        *check = fnv1a64_u64(h, a.histories);
    }
    score_arrays_free(&a);
    return rc;
}

int checkpoint_encode(const checkpoint_identity *id, const chunk_layout *l, const uint8_t *done,
                      const score_totals *t, checkpoint_image *img, bragg_err *e)
{
    img->len = 0;
    int bad = 0;
    int64_t chunks_done = 0;
    for (int64_t k = 0; k < l->n_chunks; k++) chunks_done += done[k] ? 1 : 0;
    image_printf(img, &bad, "%s\n", FORMAT_LINE);
    if (image_reserve(img, id->text.len)) {
        bad = 1;
    } else {
        memcpy(img->data + img->len, id->text.data, id->text.len);
        img->len += id->text.len;
    }
    image_printf(img, &bad, "chunks %lld\n", (long long)l->n_chunks);
    image_printf(img, &bad, "chunk_sizes");
    for (int b = 0; b < l->batches; b++) image_printf(img, &bad, " %" PRIu64, l->size[b]);
    image_printf(img, &bad, "\nchunks_done %lld\n", (long long)chunks_done);
    image_printf(img, &bad, "histories_done %" PRIu64 "\n", t->histories);
    image_printf(img, &bad, "payload_bytes %zu\n\n", payload_size(l->n_chunks, t));
    put_payload(img, &bad, l, done, t);
    if (!bad) {
        uint64_t h = fnv1a64(img->data, img->len);
        image_printf(img, &bad, "%s%016" PRIx64 "\n", CHECKSUM_PREFIX, h);
    }
    if (bad) return bragg_fail(e, "--checkpoint: out of memory for the run's state");
    return BRAGG_OK;
}

/* ---- the folder --------------------------------------------------------------------------- */

struct checkpoint {
    char dir[1024];
    int dir_fd;     /* for fsync after a rename: the new name is durable only then */
    int lock_fd;    /* holds the folder's lock while open */
};

int checkpoint_open(checkpoint **out, const char *dir, bragg_err *e)
{
    *out = NULL;
    if (!*dir) return bragg_fail(e, "--checkpoint: empty folder name");
    /* The paths made from it here (DIR/lock, DIR/run-NNN.ckpt) have 1100 bytes: room to spare. */
    if (strlen(dir) > 900)
        return bragg_fail(e, "--checkpoint: a folder name of %zu bytes is too long (valid: up to "
                             "900 bytes)",
                          strlen(dir));
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return bragg_fail(e, "--checkpoint: cannot create folder %s: %s", dir, strerror(errno));
    struct stat st;
    if (stat(dir, &st) != 0)
        return bragg_fail(e, "--checkpoint: %s: %s", dir, strerror(errno));
    if (!S_ISDIR(st.st_mode)) return bragg_fail(e, "--checkpoint: %s is not a folder", dir);
    if (access(dir, W_OK | X_OK) != 0)
        return bragg_fail(e, "--checkpoint: cannot write in folder %s: %s", dir, strerror(errno));
    checkpoint *c = calloc(1, sizeof *c);
    if (!c) return bragg_fail(e, "--checkpoint: out of memory");
    snprintf(c->dir, sizeof c->dir, "%s", dir);
    c->lock_fd = -1;
    c->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (c->dir_fd < 0) {
        bragg_fail(e, "--checkpoint: cannot open folder %s: %s", dir, strerror(errno));
        goto fail;
    }
    char lock[1100];
    snprintf(lock, sizeof lock, "%s/lock", dir);
    c->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (c->lock_fd < 0) {
        bragg_fail(e, "--checkpoint: cannot write in folder %s: %s: %s", dir, lock,
                   strerror(errno));
        goto fail;
    }
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (fcntl(c->lock_fd, F_SETLK, &fl) != 0 && (errno == EACCES || errno == EAGAIN)) {
        bragg_fail(e, "--checkpoint: folder %s is in use by another run (it holds %s)", dir,
                   lock);
        goto fail;
    }
    /* Other lock errors (a file system without locks): go on unlocked rather than refuse. */
    *out = c;
    return BRAGG_OK;
fail:
    checkpoint_close(c);
    return BRAGG_ERR;
}

void checkpoint_close(checkpoint *c)
{
    if (!c) return;
    if (c->lock_fd >= 0) close(c->lock_fd);   /* releases the lock */
    if (c->dir_fd >= 0) close(c->dir_fd);
    free(c);
}

int checkpoint_owns_name(const char *name)
{
    if (strcmp(name, "lock") == 0) return 1;
    if (strncmp(name, "run-", 4) != 0) return 0;
    const char *p = name + 4;
    while (*p >= '0' && *p <= '9') p++;
    if (p == name + 4 || strncmp(p, ".ckpt", 5) != 0) return 0;
    /* The state file, or a rewrite of it in progress ("run-000.ckpt.tmp.PID"), which the next
     * rewrite would delete once its process is gone. */
    return p[5] == '\0' || strncmp(p + 5, ".tmp.", 5) == 0;
}

void checkpoint_path(const checkpoint *c, int run, char *out, size_t len)
{
    snprintf(out, len, "%s/run-%03d.ckpt", c->dir, run);
}

int checkpoint_write(checkpoint *c, int run, const checkpoint_image *img, bragg_err *e)
{
    char path[1100];
    checkpoint_path(c, run, path, sizeof path);
    /* Temporary file, flush, fsync and rename: src/output/atomic_file.h. */
    atomic_file af;
    if (atomic_file_open(&af, path, "--checkpoint", e)) return BRAGG_ERR;
    if (img->len && fwrite(img->data, 1, img->len, af.file) != img->len) {
        atomic_file_abandon(&af);
        return bragg_fail(e, "--checkpoint: cannot write %s: %s", path, strerror(errno));
    }
    if (atomic_file_commit(&af, e)) return BRAGG_ERR;
    /* The rename itself is on disk once the folder is synced. */
    if (fsync(c->dir_fd) != 0 && errno != EINVAL)
        return bragg_fail(e, "--checkpoint: cannot sync folder %s: %s", c->dir, strerror(errno));
    return BRAGG_OK;
}

/* ---- reading it back ---------------------------------------------------------------------- */

/* Reads a whole file; *exists = 0 when there is none. */
static int read_file(const char *path, unsigned char **data, size_t *len, int *exists,
                     bragg_err *e)
{
    *data = NULL;
    *len = 0;
    *exists = 0;
    /* Not blocking: a FIFO of that name would wait for a writer for ever (and is refused). */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return BRAGG_OK;
        return bragg_fail(e, "cannot read it: %s", strerror(errno));
    }
    *exists = 1;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int err = errno;
        close(fd);
        return bragg_fail(e, "cannot read it: %s", strerror(err));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        const char *what = S_ISDIR(st.st_mode)                          ? "a folder"
                           : S_ISFIFO(st.st_mode)                       ? "a FIFO"
                           : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device"
                           : S_ISSOCK(st.st_mode)                       ? "a socket"
                                                                        : "a special file";
        return bragg_fail(e, "it is %s, not a checkpoint file (valid: remove it, or use another "
                             "--checkpoint folder)",
                          what);
    }
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        int err = errno;
        close(fd);
        return bragg_fail(e, "cannot read it: %s", strerror(err));
    }
    size_t size = (size_t)st.st_size;
    unsigned char *p = malloc(size + 1);
    if (!p) {
        fclose(f);
        return bragg_fail(e, "out of memory for its %zu bytes", size);
    }
    size_t got = fread(p, 1, size, f);
    int bad = ferror(f);
    fclose(f);
    if (bad || got != size) {
        free(p);
        return bragg_fail(e, "cannot read it: short read");
    }
    p[size] = '\0';
    *data = p;
    *len = size;
    return BRAGG_OK;
}

/* The file's first line must be the format line. A file shorter than it that begins as it does
 * was cut short; any other is not a checkpoint of this format (another program's file, or
 * another version's checkpoint). */
static int check_format_line(const unsigned char *data, size_t len, bragg_err *e)
{
    const size_t flen = sizeof FORMAT_LINE;   /* with its newline */
    if (len < flen && memcmp(data, FORMAT_LINE "\n", len) == 0)
        return bragg_fail(e, "truncated: %zu bytes, not even its first line", len);
    if (len >= flen && memcmp(data, FORMAT_LINE "\n", flen) == 0) return BRAGG_OK;
    /* Its first line alone, quoted: the message stays one line whatever the file holds. */
    const char *text = (const char *)data;
    char first[64];
    snprintf(first, sizeof first, "%.*s", (int)strcspn(text, "\n"), text);
    return bragg_fail(e, "not a bragg checkpoint of format 1 (its first line: %s; valid: remove "
                         "it, or use another --checkpoint folder)",
                      BRAGG_QUOTED(first));
}

/* The file's last line must be its checksum, and match: else it was cut short or altered. */
static int check_checksum(const unsigned char *data, size_t len, size_t *body_len, bragg_err *e)
{
    const size_t pre = sizeof CHECKSUM_PREFIX - 1;
    if (len < CHECKSUM_LINE_LEN || data[len - 1] != '\n' ||
        memcmp(data + len - CHECKSUM_LINE_LEN, CHECKSUM_PREFIX, pre) != 0)
        return bragg_fail(e, "truncated or damaged: it does not end with its checksum line "
                             "(%zu bytes)",
                          len);
    char hex[17];
    memcpy(hex, data + len - CHECKSUM_LINE_LEN + pre, 16);
    hex[16] = '\0';
    char *end;
    errno = 0;
    uint64_t stored = strtoull(hex, &end, 16);
    if (*end || errno) return bragg_fail(e, "damaged: its checksum line is not a checksum");
    *body_len = len - CHECKSUM_LINE_LEN;
    uint64_t actual = fnv1a64(data, *body_len);
    if (stored != actual)
        return bragg_fail(e, "damaged: checksum %016" PRIx64 " recorded, %016" PRIx64
                             " computed from its contents (altered or partly written)",
                          stored, actual);
    return BRAGG_OK;
}

/* A header as "key value" lines (pointers into one buffer owned by the struct). */
typedef struct header {
    char *text;
    int n;
    char **key, **value;
} header;

static void header_free(header *h)
{
    free(h->text);
    free(h->key);
    free(h->value);
    memset(h, 0, sizeof *h);
}

/* Splits text (len bytes, no trailing empty line) into its lines. */
static int header_parse(header *h, const char *text, size_t len, bragg_err *e)
{
    memset(h, 0, sizeof *h);
    h->text = malloc(len + 1);
    int lines = 1;
    for (size_t i = 0; i < len; i++) lines += text[i] == '\n';
    h->key = calloc((size_t)lines, sizeof *h->key);
    h->value = calloc((size_t)lines, sizeof *h->value);
    if (!h->text || !h->key || !h->value) {
        header_free(h);
        return bragg_fail(e, "out of memory");
    }
    memcpy(h->text, text, len);
    h->text[len] = '\0';
    for (char *line = h->text; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = '\0';
        char *sp = strchr(line, ' ');
        if (sp) *sp = '\0';
        h->key[h->n] = line;
        h->value[h->n] = sp ? sp + 1 : line + strlen(line);
        h->n++;
        line = nl ? nl + 1 : NULL;
    }
    return BRAGG_OK;
}

static const char *header_get(const header *h, const char *key)
{
    for (int i = 0; i < h->n; i++)
        if (strcmp(h->key[i], key) == 0) return h->value[i];
    return NULL;
}

/* Appends "KEY is A there, B here" to diff (the first 4 of them; "; ..." after). */
static void add_difference(char *diff, size_t len, int *n_diff, const char *key,
                           const char *theirs, const char *mine)
{
    size_t used = strlen(diff);
    if (*n_diff < 4)
        snprintf(diff + used, len - used, "%s%s is %s there, %s here", used ? "; " : "", key,
                 theirs ? theirs : "missing", mine ? mine : "missing");
    else if (*n_diff == 4)
        snprintf(diff + used, len - used, "; ...");
    (*n_diff)++;
}

/* Compares the identity recorded in `file` with this run's (`mine`): names every field that
 * differs, with both values, in the message. Fields one side lacks are named only when none
 * that both have differ: the map's grid is missing from a run without a map, and "--map-kind
 * is none there, rz here" says it all. The physics check is named only when all else agrees:
 * another seed or energy changes it too, and the field that differs is the news. */
static int check_identity(const header *file, const header *mine, bragg_err *e)
{
    char diff[400] = "";
    int n_diff = 0;
    /* Pass 0: the fields both have; pass 1, when none of those differs: the others. */
    for (int pass = 0; pass < 2 && !n_diff; pass++) {
        for (int i = 0; i < mine->n; i++) {
            const char *theirs = header_get(file, mine->key[i]);
            int lacking = theirs == NULL;
            if (strcmp(mine->key[i], "physics_check") == 0 || lacking != pass) continue;
            if (lacking || strcmp(theirs, mine->value[i]) != 0)
                add_difference(diff, sizeof diff, &n_diff, mine->key[i], theirs, mine->value[i]);
        }
        /* A field this build does not know (another version's file) differs too. */
        for (int i = 0; i < file->n && pass == 1; i++) {
            if (strcmp(file->key[i], "chunks") == 0) break;   /* the state starts here */
            if (!header_get(mine, file->key[i]))
                add_difference(diff, sizeof diff, &n_diff, file->key[i], file->value[i], NULL);
        }
    }
    if (n_diff)
        return bragg_fail(e, "was written by a different run (%s); resume with the same options "
                             "and bragg-mpi build, or use another folder",
                          diff);
    const char *theirs = header_get(file, "physics_check");
    const char *ours = header_get(mine, "physics_check");
    if (ours && (!theirs || strcmp(theirs, ours) != 0))
        return bragg_fail(e, "was written by a build that transports this run otherwise "
                             "(physics_check is %s there, %s here: changed physics, uncommitted "
                             "changes or another backend); resume with the bragg-mpi that wrote "
                             "it, or use another folder",
                          theirs ? theirs : "missing", ours);
    return BRAGG_OK;
}

static int parse_i64(const header *h, const char *key, int64_t *out, bragg_err *e)
{
    const char *v = header_get(h, key);
    if (!v) return bragg_fail(e, "damaged: no '%s' line", key);
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (end == v || *end || errno || x < 0)
        return bragg_fail(e, "damaged: '%s %s' is not a count", key, v);
    *out = (int64_t)x;
    return BRAGG_OK;
}

/* Reads "chunk_sizes s0 s1 ...": one size per batch. */
static int parse_sizes(const header *h, int batches, uint64_t *size, bragg_err *e)
{
    const char *v = header_get(h, "chunk_sizes");
    if (!v) return bragg_fail(e, "damaged: no 'chunk_sizes' line");
    for (int b = 0; b < batches; b++) {
        char *end;
        errno = 0;
        unsigned long long x = strtoull(v, &end, 10);
        if (end == v || errno)
            return bragg_fail(e, "damaged: 'chunk_sizes' has fewer than %d sizes", batches);
        size[b] = x;
        v = end;
    }
    while (*v == ' ') v++;
    if (*v) return bragg_fail(e, "damaged: 'chunk_sizes' has more than %d sizes", batches);
    return BRAGG_OK;
}

/* A cursor over the payload; every read is bounds-checked by the size check before it. */
typedef struct reader {
    const unsigned char *p;
} reader;

static uint64_t read_u64(reader *r)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)r->p[i] << (8 * i);
    r->p += 8;
    return v;
}

static __int128 read_i128(reader *r)
{
    uint64_t lo = read_u64(r), hi = read_u64(r);
    unsigned __int128 u = ((unsigned __int128)hi << 64) | lo;
    __int128 v;
    memcpy(&v, &u, sizeof v);
    return v;
}

static int read_payload(const unsigned char *p, const chunk_layout *l, uint8_t *done,
                        score_totals *t, bragg_err *e)
{
    for (int64_t k = 0; k < l->n_chunks; k++) {
        if (p[k] > 1) return bragg_fail(e, "damaged: chunk %lld is marked %d", (long long)k, p[k]);
        done[k] = p[k];
    }
    reader r = {p + l->n_chunks};
    size_t n_curves = (size_t)t->nbins * ((size_t)t->n_curves + 1);
    size_t n_batch = score_totals_batch_values(t);
    for (size_t i = 0; i < n_curves; i++) t->curves[i] = read_i128(&r);
    for (size_t i = 0; i < n_batch; i++) t->batch_dose[i] = read_i128(&r);
    for (int k = 0; k < LEDGER_COUNT; k++) t->ledger[k] = read_i128(&r);
    for (int k = 0; k < COUNT_COUNT; k++) t->count[k] = read_u64(&r);
    t->steps = read_u64(&r);
    t->histories = read_u64(&r);
    for (int k = 0; k < PROFILE_COUNT; k++) t->profile_cycles[k] = read_u64(&r);
    for (int k = 0; k < PROFILE_COUNT; k++) t->profile_marks[k] = read_u64(&r);
    t->profiled_histories = read_u64(&r);
    t->profiled_steps = read_u64(&r);
    t->history_cycles = read_u64(&r);
    for (int b = 0; b < t->max_batches; b++) t->batch_histories[b] = read_u64(&r);
    return BRAGG_OK;
}

/* The sums must hold exactly the histories of the chunks marked done, batch by batch: else
 * resuming would count some histories twice or never. */
static int check_consistent(const header *h, const chunk_layout *l, const uint8_t *done,
                            const score_totals *t, bragg_err *e)
{
    uint64_t *want = calloc((size_t)l->batches, sizeof *want);
    if (!want) return bragg_fail(e, "out of memory");
    int64_t n_done = 0;
    for (int64_t k = 0; k < l->n_chunks; k++)
        if (done[k]) {
            want[l->chunks[k].batch] += l->chunks[k].count;
            n_done++;
        }
    uint64_t total = 0;
    int rc = BRAGG_OK;
    for (int b = 0; b < l->batches && rc == BRAGG_OK; b++) {
        total += want[b];
        if (t->batch_histories[b] != want[b])
            rc = bragg_fail(e, "damaged: batch %d holds %" PRIu64 " histories but its chunks "
                               "marked done have %" PRIu64,
                            b, t->batch_histories[b], want[b]);
    }
    free(want);
    if (rc) return rc;
    int64_t line_done, line_hist;
    if (parse_i64(h, "chunks_done", &line_done, e) || parse_i64(h, "histories_done", &line_hist, e))
        return BRAGG_ERR;
    if (t->histories != total || (uint64_t)line_hist != total || line_done != n_done)
        return bragg_fail(e, "damaged: %lld chunks and %" PRIu64 " histories marked done, "
                             "the header says %lld and %lld, the sums hold %" PRIu64,
                          (long long)n_done, total, (long long)line_done, (long long)line_hist,
                          t->histories);
    return BRAGG_OK;
}

/* Checks the file's header and payload against `en` and fills l, done and t (see the header
 * file). `body` is the file without its checksum line. */
static int load_body(const unsigned char *body, size_t len, const engine *en,
                     const checkpoint_identity *id, chunk_layout *l, uint8_t **done,
                     score_totals *t, bragg_err *e)
{
    memset(l, 0, sizeof *l);
    const char *text = (const char *)body;
    const unsigned char *end_hdr = NULL;
    for (size_t i = 0; i + 1 < len; i++)
        if (body[i] == '\n' && body[i + 1] == '\n') {
            end_hdr = body + i;
            break;
        }
    size_t flen = strlen(FORMAT_LINE);
    if (!end_hdr) return bragg_fail(e, "damaged: its header does not end");

    header file, mine;
    if (header_parse(&file, text + flen + 1, (size_t)(end_hdr - body) - flen - 1, e))
        return BRAGG_ERR;
    int rc = header_parse(&mine, (const char *)id->text.data, id->text.len, e);
    if (rc) {
        header_free(&file);
        return rc;
    }
    rc = check_identity(&file, &mine, e);
    header_free(&mine);

    const run_config *c = engine_config(en);
    uint64_t *size = calloc((size_t)c->batches, sizeof *size);
    int64_t n_chunks = 0, payload = 0;
    if (!rc && !size) rc = bragg_fail(e, "out of memory");
    if (!rc) rc = parse_i64(&file, "chunks", &n_chunks, e);
    if (!rc) rc = parse_i64(&file, "payload_bytes", &payload, e);
    if (!rc) rc = parse_sizes(&file, c->batches, size, e);
    if (!rc && chunk_layout_build(l, en, size, e)) rc = bragg_fail_prefix(e, "damaged: ");
    if (!rc && l->n_chunks != n_chunks)
        rc = bragg_fail(e, "damaged: %lld chunks recorded, its chunk sizes make %lld",
                        (long long)n_chunks, (long long)l->n_chunks);
    const unsigned char *p = end_hdr + 2;
    size_t have = len - (size_t)(p - body), want = payload_size(l->n_chunks, t);
    if (!rc && ((size_t)payload != want || have != want))
        rc = bragg_fail(e, "damaged: %zu bytes of sums, %lld recorded, %zu expected",
                        have, (long long)payload, want);
    if (!rc) {
        *done = calloc((size_t)(l->n_chunks > 0 ? l->n_chunks : 1), 1);
        if (!*done) rc = bragg_fail(e, "out of memory");
    }
    if (!rc) rc = read_payload(p, l, *done, t, e);
    if (!rc) rc = check_consistent(&file, l, *done, t, e);
    free(size);
    header_free(&file);
    if (rc) {
        chunk_layout_free(l);
        free(*done);
        *done = NULL;
    }
    return rc;
}

int checkpoint_load(checkpoint *c, int run, const engine *en, const checkpoint_identity *id,
                    chunk_layout *l, uint8_t **done, score_totals *t, int *found, bragg_err *e)
{
    char path[1100];
    checkpoint_path(c, run, path, sizeof path);
    unsigned char *data;
    size_t len = 0, body = 0;
    *found = 0;
    *done = NULL;
    int rc = read_file(path, &data, &len, found, e);
    if (rc == BRAGG_OK && *found) {
        /* What the file is first, then whether it is whole: another program's file is not
         * "truncated". */
        rc = check_format_line(data, len, e);
        if (rc == BRAGG_OK) rc = check_checksum(data, len, &body, e);
        if (rc == BRAGG_OK) rc = load_body(data, body, en, id, l, done, t, e);
    }
    free(data);
    if (rc) bragg_fail_prefix(e, "--checkpoint: %s: ", path);
    return rc;
}
