/*
 * test_checkpoint.c - the checkpoint file (src/mpi/checkpoint.h) without MPI: a state reads back
 * exactly as written (done marks, per-batch sums, counters), no file means nothing to resume,
 * and a file of another configuration or of a build that scores otherwise, a damaged,
 * truncated or inconsistent one, or a folder that is a file are refused with a message that
 * names the path and what is wrong.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint.h"
#include "testkit.h"

/* The physics check the tests write (the real one is tested on its own below). */
#define CHECK 0x1234u

/* A small run: 800 protons in 4 batches of 200, cut into chunks of 100. */
static engine *small_engine(uint64_t seed)
{
    run_config c = testkit_config("p", 100, 800);
    c.batches = 4;
    c.threads = 1;
    c.seed = seed;
    engine *en;
    bragg_err e;
    cr_assert(engine_create(&en, &c, &e) == BRAGG_OK, "%s", e.msg);
    return en;
}

/* Run 0's identity for `en` with physics check `check`. */
static void identify(const engine *en, uint64_t check, checkpoint_identity *id)
{
    bragg_err e;
    cr_assert(checkpoint_identity_build(id, en, 0, check, NULL, &e) == BRAGG_OK, "%s", e.msg);
}

static void init_totals(const engine *en, score_totals *t)
{
    const transport_params *p = engine_params(en);
    bragg_err e;
    const run_config *c = engine_config(en);
    cr_assert(score_totals_init(t, p, c->batches, c->map_errors, &e) == BRAGG_OK, "%s", e.msg);
}

/* Runs the chunks marked in done[] into t. */
static void run_chunks(engine *en, const chunk_layout *l, const uint8_t *done, score_totals *t)
{
    const transport_params *p = engine_params(en);
    score_arrays a;
    bragg_err e;
    cr_assert(score_arrays_init(&a, p, &e) == BRAGG_OK, "%s", e.msg);
    for (int64_t k = 0; k < l->n_chunks; k++) {
        if (!done[k]) continue;
        cr_assert(engine_run_range(en, l->chunks[k].first, l->chunks[k].count, &a, &e) ==
                      BRAGG_OK,
                  "%s", e.msg);
        score_totals_add_to_batch(t, l->chunks[k].batch, &a);
    }
    score_arrays_free(&a);
}

/* A folder with run-000.ckpt holding chunks 0, 3 and 6 of small_engine(1). */
typedef struct fixture {
    char dir[256], path[1100];
    engine *en;
    chunk_layout layout;
    uint8_t done[8];
    score_totals sums;
    checkpoint_identity id;   /* run 0 of en, physics check CHECK */
    checkpoint *ckpt;
} fixture;

/* The fixture for engine `en` (the fixture takes it). */
static void fixture_setup_with(fixture *f, engine *en)
{
    memset(f, 0, sizeof *f);
    testkit_temp_dir(f->dir, sizeof f->dir, "ckpt");
    f->en = en;
    uint64_t sizes[4] = {100, 100, 100, 100};
    bragg_err e;
    cr_assert(chunk_layout_build(&f->layout, f->en, sizes, &e) == BRAGG_OK, "%s", e.msg);
    cr_assert_eq(f->layout.n_chunks, 8);
    f->done[0] = f->done[3] = f->done[6] = 1;
    init_totals(f->en, &f->sums);
    run_chunks(f->en, &f->layout, f->done, &f->sums);
    cr_assert(checkpoint_open(&f->ckpt, f->dir, &e) == BRAGG_OK, "%s", e.msg);
    checkpoint_image img = {0};
    identify(f->en, CHECK, &f->id);
    cr_assert(checkpoint_encode(&f->id, &f->layout, f->done, &f->sums, &img, &e) == BRAGG_OK,
              "%s", e.msg);
    cr_assert(checkpoint_write(f->ckpt, 0, &img, &e) == BRAGG_OK, "%s", e.msg);
    checkpoint_image_free(&img);
    checkpoint_path(f->ckpt, 0, f->path, sizeof f->path);
}

static void fixture_setup(fixture *f)
{
    fixture_setup_with(f, small_engine(1));
}

static void fixture_teardown(fixture *f)
{
    checkpoint_close(f->ckpt);
    checkpoint_identity_free(&f->id);
    score_totals_free(&f->sums);
    chunk_layout_free(&f->layout);
    engine_destroy(f->en);
    testkit_remove_dir(f->dir);
}

/* Loads run 0 of f's folder for `en` with physics check `check`; returns the status, the
 * message in e. */
static int load_checked(fixture *f, engine *en, uint64_t check, bragg_err *e)
{
    chunk_layout l;
    uint8_t *done = NULL;
    score_totals t;
    init_totals(en, &t);
    int found = 0;
    checkpoint_identity id;
    identify(en, check, &id);
    int rc = checkpoint_load(f->ckpt, 0, en, &id, &l, &done, &t, &found, e);
    checkpoint_identity_free(&id);
    if (rc == BRAGG_OK) {
        cr_expect(found);
        chunk_layout_free(&l);
        free(done);
    }
    score_totals_free(&t);
    return rc;
}

static int load(fixture *f, engine *en, bragg_err *e)
{
    return load_checked(f, en, CHECK, e);
}

static void flip_byte(const char *path, long offset)
{
    FILE *f = fopen(path, "r+b");
    cr_assert(f);
    cr_assert(fseek(f, offset, SEEK_SET) == 0);
    int c = fgetc(f);
    cr_assert(c != EOF);
    cr_assert(fseek(f, offset, SEEK_SET) == 0);
    fputc(c ^ 0x01, f);
    fclose(f);
}

Test(checkpoint, a_state_reads_back_exactly_as_written)
{
    fixture f;
    fixture_setup(&f);
    chunk_layout l;
    uint8_t *done = NULL;
    score_totals t;
    init_totals(f.en, &t);
    int found = 0;
    bragg_err e;
    cr_assert(checkpoint_load(f.ckpt, 0, f.en, &f.id, &l, &done, &t, &found, &e) == BRAGG_OK,
              "%s", e.msg);
    cr_assert(found);
    cr_expect_eq(l.n_chunks, 8);
    cr_expect(memcmp(l.size, f.layout.size, 4 * sizeof *l.size) == 0);
    cr_expect(memcmp(done, f.done, 8) == 0);
    size_t n_curves = (size_t)t.nbins * ((size_t)t.n_curves + 1);
    size_t n_batch = (size_t)t.nbins * (size_t)t.max_batches;
    cr_expect(memcmp(t.curves, f.sums.curves, n_curves * sizeof *t.curves) == 0, "curves");
    cr_expect(memcmp(t.batch_dose, f.sums.batch_dose, n_batch * sizeof *t.batch_dose) == 0,
              "dose per batch");
    cr_expect(memcmp(t.batch_histories, f.sums.batch_histories, 4 * sizeof(uint64_t)) == 0);
    cr_expect(memcmp(t.ledger, f.sums.ledger, sizeof t.ledger) == 0, "ledger");
    cr_expect(memcmp(t.count, f.sums.count, sizeof t.count) == 0, "counters");
    cr_expect_eq(t.histories, 300);
    cr_expect_eq(t.steps, f.sums.steps);
    chunk_layout_free(&l);
    free(done);
    score_totals_free(&t);
    fixture_teardown(&f);
}

Test(checkpoint, no_file_means_nothing_to_resume)
{
    char dir[256];
    testkit_temp_dir(dir, sizeof dir, "ckpt");
    engine *en = small_engine(1);
    checkpoint *c;
    bragg_err e;
    cr_assert(checkpoint_open(&c, dir, &e) == BRAGG_OK, "%s", e.msg);
    chunk_layout l;
    uint8_t *done = NULL;
    score_totals t;
    init_totals(en, &t);
    int found = 1;
    checkpoint_identity id;
    identify(en, CHECK, &id);
    cr_expect(checkpoint_load(c, 3, en, &id, &l, &done, &t, &found, &e) == BRAGG_OK, "%s",
              e.msg);
    cr_expect(!found && !done && t.histories == 0);
    checkpoint_identity_free(&id);
    score_totals_free(&t);
    checkpoint_close(c);
    engine_destroy(en);
    testkit_remove_dir(dir);
}

Test(checkpoint, a_file_of_another_seed_is_refused_naming_the_seed)
{
    fixture f;
    fixture_setup(&f);
    engine *other = small_engine(2);
    bragg_err e;
    cr_expect(load(&f, other, &e) == BRAGG_ERR);
    cr_expect(strstr(e.msg, f.path) && strstr(e.msg, "(--seed is 1 there, 2 here)"), "%s",
              e.msg);
    engine_destroy(other);
    fixture_teardown(&f);
}

Test(checkpoint, the_physics_check_is_repeatable_and_follows_the_scores)
{
    engine *a = small_engine(1), *b = small_engine(1), *c = small_engine(2);
    uint64_t ca, ca2, cb, cc;
    bragg_err e;
    cr_assert(checkpoint_physics_check(a, &ca, &e) == BRAGG_OK, "%s", e.msg);
    cr_assert(checkpoint_physics_check(a, &ca2, &e) == BRAGG_OK, "%s", e.msg);
    cr_assert(checkpoint_physics_check(b, &cb, &e) == BRAGG_OK, "%s", e.msg);
    cr_assert(checkpoint_physics_check(c, &cc, &e) == BRAGG_OK, "%s", e.msg);
    cr_expect(ca == ca2 && ca == cb, "%llx %llx %llx", (unsigned long long)ca,
              (unsigned long long)ca2, (unsigned long long)cb);
    /* Other histories (another seed) score otherwise: the check sees the scores. */
    cr_expect(ca != cc);
    engine_destroy(a);
    engine_destroy(b);
    engine_destroy(c);
}

Test(checkpoint, a_file_of_a_build_that_scores_otherwise_is_refused)
{
    fixture f;
    fixture_setup(&f);
    bragg_err e;
    cr_expect(load_checked(&f, f.en, CHECK + 1, &e) == BRAGG_ERR);
    cr_expect(strstr(e.msg, "physics_check is 0000000000001234 there, 0000000000001235 here"),
              "%s", e.msg);
    fixture_teardown(&f);
}

Test(checkpoint, a_changed_bit_is_reported_as_damage)
{
    fixture f;
    fixture_setup(&f);
    flip_byte(f.path, 2000);   /* in the sums */
    bragg_err e;
    cr_expect(load(&f, f.en, &e) == BRAGG_ERR);
    cr_expect(strstr(e.msg, f.path) && strstr(e.msg, "damaged: checksum"), "%s", e.msg);
    fixture_teardown(&f);
}

Test(checkpoint, a_truncated_file_is_reported)
{
    fixture f;
    fixture_setup(&f);
    cr_assert(truncate(f.path, 3000) == 0);
    bragg_err e;
    cr_expect(load(&f, f.en, &e) == BRAGG_ERR);
    cr_expect(strstr(e.msg, f.path) && strstr(e.msg, "truncated"), "%s", e.msg);
    fixture_teardown(&f);
}

Test(checkpoint, sums_that_disagree_with_the_done_marks_are_refused)
{
    fixture f;
    fixture_setup(&f);
    /* A whole, checksummed file that marks chunk 1 done without its histories in the sums:
     * resuming from it would leave that chunk out of the run. */
    uint8_t done[8];
    memcpy(done, f.done, sizeof done);
    done[1] = 1;
    checkpoint_image img = {0};
    bragg_err e;
    cr_assert(checkpoint_encode(&f.id, &f.layout, done, &f.sums, &img, &e) == BRAGG_OK);
    cr_assert(checkpoint_write(f.ckpt, 0, &img, &e) == BRAGG_OK, "%s", e.msg);
    checkpoint_image_free(&img);
    cr_expect(load(&f, f.en, &e) == BRAGG_ERR);
    cr_expect(strstr(e.msg, "damaged: batch 0 holds 100 histories but its chunks marked done "
                            "have 200"),
              "%s", e.msg);
    fixture_teardown(&f);
}

Test(checkpoint, a_folder_that_is_a_file_is_refused)
{
    char dir[256], file[300];
    testkit_temp_dir(dir, sizeof dir, "ckpt");
    snprintf(file, sizeof file, "%s/file", dir);
    FILE *fp = fopen(file, "w");
    cr_assert(fp);
    fclose(fp);
    checkpoint *c = NULL;
    bragg_err e;
    cr_expect(checkpoint_open(&c, file, &e) == BRAGG_ERR);
    cr_expect(!c);
    cr_expect(strstr(e.msg, "--checkpoint") && strstr(e.msg, "is not a folder"), "%s", e.msg);
    snprintf(file, sizeof file, "%s/no/such", dir);
    cr_expect(checkpoint_open(&c, file, &e) == BRAGG_ERR);
    cr_expect(strstr(e.msg, "--checkpoint: cannot create folder"), "%s", e.msg);
    char long_name[1000];
    memset(long_name, 'a', 901);
    long_name[901] = '\0';
    cr_expect(checkpoint_open(&c, long_name, &e) == BRAGG_ERR);
    cr_expect(strcmp(e.msg, "--checkpoint: a folder name of 901 bytes is too long (valid: up to "
                            "900 bytes)") == 0,
              "%s", e.msg);
    testkit_remove_dir(dir);
}

/* Issue 15: a run's dose map is summed with its other curves, so its state reads back exactly,
 * the map of each batch too (--map-error); a checkpoint of a run without a map is refused by one
 * with a map, and one without the maps per batch by one with them, naming the field. */
Test(checkpoint, a_dose_map_reads_back_and_a_run_without_one_is_refused)
{
    run_config c = testkit_config("p", 100, 800);
    c.batches = 4;
    c.threads = 1;
    c.seed = 1;
    c.map_kind = MAP_RZ;
    c.map_radius_cm = 1;
    c.map_bin_cm = 0.05;
    c.map_errors = 1;
    engine *mapped;
    bragg_err e;
    cr_assert(engine_create(&mapped, &c, &e) == BRAGG_OK, "%s", e.msg);
    fixture plain;
    fixture_setup(&plain);
    /* The map's grid, which the file lacks, is not named: --map-kind says it. */
    cr_expect(load(&plain, mapped, &e) == BRAGG_ERR &&
                  strstr(e.msg, "(--map-kind is none there, rz here") && !strstr(e.msg, "missing"),
              "%s", e.msg);
    fixture_teardown(&plain);

    fixture f;
    fixture_setup_with(&f, mapped);
    chunk_layout l;
    uint8_t *done = NULL;
    score_totals t;
    init_totals(f.en, &t);
    int found = 0;
    cr_assert(checkpoint_load(f.ckpt, 0, f.en, &f.id, &l, &done, &t, &found, &e) == BRAGG_OK,
              "%s", e.msg);
    cr_assert(found && t.n_curves == CURVE_COUNT(engine_params(f.en)->channels) + 21);
    size_t n_curves = (size_t)t.nbins * ((size_t)t.n_curves + 1);
    cr_expect(memcmp(t.curves, f.sums.curves, n_curves * sizeof *t.curves) == 0, "curves");
    cr_assert(t.batch_map_curves == 21 && f.sums.batch_map_curves == 21);
    size_t n_batch = score_totals_batch_values(&t);
    cr_expect(memcmp(t.batch_dose, f.sums.batch_dose, n_batch * sizeof *t.batch_dose) == 0,
              "the sums per batch, the map's included");
    __int128 map_sum = 0;
    for (size_t k = 0; k < (size_t)21 * t.nbins * t.max_batches; k++) map_sum += t.batch_map[k];
    cr_expect(map_sum > 0, "the maps per batch are empty");
    chunk_layout_free(&l);
    free(done);
    score_totals_free(&t);

    /* The same run without the maps per batch cannot take these sums. */
    c.map_errors = 0;
    engine *plain_map;
    cr_assert(engine_create(&plain_map, &c, &e) == BRAGG_OK, "%s", e.msg);
    cr_expect(load(&f, plain_map, &e) == BRAGG_ERR &&
                  strstr(e.msg, "(--map-error is yes there, no here)"),
              "%s", e.msg);
    engine_destroy(plain_map);
    fixture_teardown(&f);
}

/* Engine `c` of small_engine's run (seed 1) with some fields changed by `edit`. */
static engine *edited_engine(void (*edit)(run_config *c))
{
    run_config c = testkit_config("p", 100, 800);
    c.batches = 4;
    c.threads = 1;
    c.seed = 1;
    edit(&c);
    engine *en;
    bragg_err e;
    cr_assert(engine_create(&en, &c, &e) == BRAGG_OK, "%s", e.msg);
    return en;
}

/* The same run as small_engine(1), typed otherwise: an alias of the ion, the material in other
 * case and spelling, the automatic depth bin (0.1 mm here) given. */
static void spell_otherwise(run_config *c)
{
    snprintf(c->ion, sizeof c->ion, "proton");
    snprintf(c->slabs[0].material, sizeof c->slabs[0].material, "G4_WATER");
    c->bin_width_cm = 0.1 / 10;   /* --bin 0.1, as run_setup_set converts mm */
}

static void spell_otherwise_too(run_config *c)
{
    snprintf(c->ion, sizeof c->ion, "H-1");
    snprintf(c->slabs[0].material, sizeof c->slabs[0].material, "Water");
}

/* A resume with --ion proton of a run made with --ion p was refused ("ion is p there, proton
 * here"): the names and values the run uses are recorded, not the text typed. */
Test(checkpoint, one_run_typed_two_ways_is_one_run)
{
    fixture f;
    fixture_setup(&f);
    void (*edits[])(run_config *) = {spell_otherwise, spell_otherwise_too};
    for (int k = 0; k < 2; k++) {
        engine *same = edited_engine(edits[k]);
        uint64_t a, b;
        bragg_err e;
        cr_assert(checkpoint_physics_check(f.en, &a, &e) == BRAGG_OK, "%s", e.msg);
        cr_assert(checkpoint_physics_check(same, &b, &e) == BRAGG_OK, "%s", e.msg);
        cr_assert(a == b, "%d: not the same run: it transports otherwise", k);
        cr_expect(load(&f, same, &e) == BRAGG_OK, "%d: %s", k, e.msg);
        engine_destroy(same);
    }
    fixture_teardown(&f);
}

static void spot_and_divergence(run_config *c)
{
    c->spot_sigma_cm = 1.0 / 10;          /* --spot 1 (mm) */
    c->divergence_rad = 2.1 / 1000;       /* --divergence 2.1 (mrad) */
}

/* A field that differs is named by its option, its values in that option's unit as typed: it
 * read "spot_sigma_cm is 0 there, 0.10000000000000001 here". */
Test(checkpoint, a_difference_is_named_by_its_option_in_its_unit)
{
    fixture f;
    fixture_setup(&f);
    engine *other = edited_engine(spot_and_divergence);
    bragg_err e;
    cr_expect(load(&f, other, &e) == BRAGG_ERR);
    cr_expect(strstr(e.msg, "(--spot is 0 there, 1 here; --divergence is 0 there, 2.1 here)"),
              "%s", e.msg);
    engine_destroy(other);
    fixture_teardown(&f);
}

/* Another program's file, or one cut short before its first line ended, is said to be what it
 * is: the checksum was checked first, and "hello" was "truncated or damaged". So is a FIFO. */
Test(checkpoint, a_file_that_is_no_checkpoint_is_named_so)
{
    fixture f;
    fixture_setup(&f);
    FILE *fp = fopen(f.path, "w");
    cr_assert(fp && fputs("hello\n", fp) >= 0 && fclose(fp) == 0);
    bragg_err e;
    cr_expect(load(&f, f.en, &e) == BRAGG_ERR);
    char want[1400];
    snprintf(want, sizeof want, "--checkpoint: %s: not a bragg checkpoint of format 1 (its first "
             "line: 'hello'; valid: remove it, or use another --checkpoint folder)", f.path);
    cr_expect(strcmp(e.msg, want) == 0, "%s", e.msg);

    fp = fopen(f.path, "w");
    cr_assert(fp && fputs("bragg-checkp", fp) >= 0 && fclose(fp) == 0);
    cr_expect(load(&f, f.en, &e) == BRAGG_ERR);
    cr_expect(strstr(e.msg, "truncated: 12 bytes, not even its first line"), "%s", e.msg);

    cr_assert(unlink(f.path) == 0 && mkfifo(f.path, 0600) == 0);
    cr_expect(load(&f, f.en, &e) == BRAGG_ERR);
    cr_expect(strstr(e.msg, ": it is a FIFO, not a checkpoint file (valid: remove it, or use "
                            "another --checkpoint folder)"),
              "%s", e.msg);
    fixture_teardown(&f);
}
