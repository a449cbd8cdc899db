/*
 * test_simd.c - the vector paths (physics/simd.h) and the `simd` backend: every path the CPU
 * has computes the scalar path's Philox blocks word for word, the scalar path computes the
 * blocks the streams themselves draw, and the backend gives `--backend openmp`'s results bit
 * for bit on every path (BRAGG_SIMD forces one; the scalar fallback is always among them).
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "engine.h"
#include "random.h"
#include "simd.h"
#include "testkit.h"

TestSuite(simd, .timeout = 300);

/* SplitMix64: test inputs only. */
static uint64_t next_word(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

#define MAX_N 300
#define MAX_BLOCKS 9
#define SENTINEL 0xDEADBEEFu

/* Counters of n streams: random words, with block numbers near the 20-bit wrap for some. */
static void make_counters(uint32_t c[4][MAX_N], uint32_t n, uint64_t *s)
{
    for (uint32_t i = 0; i < n; i++) {
        for (int w = 0; w < 4; w++) c[w][i] = (uint32_t)next_word(s);
        if (i % 3 == 0) c[3][i] |= RNG_BLOCK_MASK - (uint32_t)(i % 5);   /* wraps within a pass */
    }
}

/* Issue acceptance (vector kernels): each path's blocks equal the scalar path's word for word,
 * for any count of streams (whole vectors, a partial last one, none) and of blocks; nothing
 * beyond the n streams is written; and the scalar path's blocks are the ones the streams draw
 * (rng_refill after j refills), counter wrap included. */
Test(simd, every_path_computes_the_streams_blocks_word_for_word)
{
    static uint32_t c[4][MAX_N];
    static uint32_t ref[4 * MAX_BLOCKS * MAX_N], got[4 * MAX_BLOCKS * MAX_N];
    static const uint32_t counts[] = {0, 1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 100, 257, 299};
    static const unsigned blocks[] = {1, 2, 5, 9};
    uint64_t s = 2026;
    int paths_run = 0;
    for (size_t a = 0; a < sizeof counts / sizeof counts[0]; a++)
        for (size_t b = 0; b < sizeof blocks / sizeof blocks[0]; b++) {
            uint32_t n = counts[a];
            unsigned nb = blocks[b];
            make_counters(c, n, &s);
            uint32_t key0 = (uint32_t)next_word(&s), key1 = (uint32_t)next_word(&s);
            for (size_t k = 0; k < sizeof ref / sizeof ref[0]; k++) ref[k] = SENTINEL;
            rng_ahead_fill(SIMD_SCALAR, c[0], c[1], c[2], c[3], key0, key1, n, nb, ref);
            for (size_t k = 4 * (size_t)nb * n; k < sizeof ref / sizeof ref[0]; k++)
                cr_assert(ref[k] == SENTINEL, "scalar path, %u streams, %u blocks: word %zu "
                          "written", n, nb, k);
            /* The scalar path against the streams themselves. */
            for (uint32_t i = 0; i < n; i++) {
                rng r;
                rng_init(&r, 0, 0, 0);
                r.key.v[0] = key0;
                r.key.v[1] = key1;
                for (int w = 0; w < 4; w++) r.ctr.v[w] = c[w][i];
                for (unsigned j = 0; j < nb; j++) {
                    rng_refill(&r);
                    for (int w = 0; w < 4; w++)
                        cr_assert(ref[4 * ((size_t)nb * i + j) + w] == r.block.v[w],
                                  "scalar path, stream %u of %u, block %u, word %d", i, n, j, w);
                }
            }
            for (int p = SIMD_AVX2; p < SIMD_PATHS; p++) {
                if (!simd_supported((simd_path)p)) continue;
                paths_run++;
                for (size_t k = 0; k < sizeof got / sizeof got[0]; k++) got[k] = SENTINEL;
                rng_ahead_fill((simd_path)p, c[0], c[1], c[2], c[3], key0, key1, n, nb, got);
                for (size_t k = 0; k < sizeof got / sizeof got[0]; k++)
                    cr_assert(got[k] == ref[k], "%s path, %u streams, %u blocks: word %zu (stream "
                              "%zu, block %zu, word %zu) is %08x, scalar %08x",
                              simd_path_name((simd_path)p), n, nb, k, k / 4 / nb, k / 4 % nb,
                              k % 4, got[k], ref[k]);
            }
        }
    if (!paths_run) cr_log_warn("this CPU has no vector path: only the scalar one was checked");
}

/* The paths' names, and what the CPU says it has. */
Test(simd, paths_parse_and_the_cpu_supports_its_best)
{
    simd_path p;
    cr_expect(simd_supported(SIMD_SCALAR));
    cr_expect(simd_supported(simd_best()));
    cr_expect(simd_path_parse("auto", &p) == 0 && p == simd_best());
    for (int k = 0; k < SIMD_PATHS; k++) {
        cr_expect(simd_path_parse(simd_path_name((simd_path)k), &p) == 0 && p == (simd_path)k);
        cr_expect(simd_path_bits((simd_path)k) >= 64);
    }
    cr_expect(simd_path_parse("sse9", &p) == -1);
    cr_expect(simd_path_bits(simd_best()) <= simd_cpu_bits() || simd_best() == SIMD_SCALAR);
    bragg_err e;
    setenv("BRAGG_SIMD", "sse9", 1);
    cr_expect(backend_simd_path(&p, &e) == BRAGG_ERR);
    cr_expect(strstr(e.msg, "BRAGG_SIMD: 'sse9' is not known (valid: auto, scalar, avx2, avx512)"),
              "%s", e.msg);
    setenv("BRAGG_SIMD", "scalar", 1);
    cr_expect(backend_simd_path(&p, &e) == BRAGG_OK && p == SIMD_SCALAR);
    if (!simd_supported(SIMD_AVX512)) {
        setenv("BRAGG_SIMD", "avx512", 1);
        cr_expect(backend_simd_path(&p, &e) == BRAGG_ERR);
        cr_expect(strstr(e.msg, "cannot run the avx512 path"), "%s", e.msg);
    }
    unsetenv("BRAGG_SIMD");
    cr_expect(backend_simd_path(&p, &e) == BRAGG_OK && p == simd_best());
}

/* The history loop's sums for histories [first, first + n). */
static void history_loop(const transport_params *p, uint64_t first, uint64_t n, score_arrays *a)
{
    score_sink sink = score_arrays_sink(a);
    for (uint64_t h = first; h < first + n; h++) transport_history(p, h, &sink);
    score_arrays_take_sink(a, &sink);
    a->histories += n;
}

/* Issue acceptance (the loop with blocks computed ahead): any bank shape, steps per pass and
 * count of blocks ahead (one, fewer than a pass uses, far more) on every path gives the history
 * loop's sums bit for bit, fragments included. */
Test(simd, blocks_ahead_give_the_history_loops_bits_at_any_shape)
{
    run_config c = testkit_config("C-12", 400, 200);
    bragg_err e;
    engine *en;
    cr_assert(engine_create(&en, &c, &e) == BRAGG_OK, "%s", e.msg);
    const transport_params *p = engine_params(en);
    score_arrays ref;
    cr_assert(score_arrays_init(&ref, p, &e) == BRAGG_OK);
    history_loop(p, 500, 200, &ref);
    cr_assert(ref.count[COUNT_SECONDARIES] > 200, "fragments were made");
    static const struct {
        uint32_t target, capacity, react_capacity;
        unsigned steps, blocks;
    } shapes[] = {{1, 25, 1, 1, 1}, {7, 30, 2, 3, 2}, {256, 456, 456, 4, 5}, {100, 300, 300, 16, 40}};
    for (int path = 0; path < SIMD_PATHS; path++) {
        if (!simd_supported((simd_path)path)) continue;
        for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
            score_arrays a;
            cr_assert(score_arrays_init(&a, p, &e) == BRAGG_OK);
            cr_assert(backend_event_run_range(p, 500, 200, shapes[k].target, shapes[k].capacity,
                                              shapes[k].react_capacity, shapes[k].steps,
                                              (simd_path)path, shapes[k].blocks, &a,
                                              &e) == BRAGG_OK, "%s", e.msg);
            char what[128];
            snprintf(what, sizeof what, "%s, target %u, %u steps, %u blocks ahead",
                     simd_path_name((simd_path)path), shapes[k].target, shapes[k].steps,
                     shapes[k].blocks);
            size_t n = ((size_t)a.nbins + 1) * (size_t)a.n_curves;
            cr_expect(memcmp(a.curves, ref.curves, n * sizeof(int64_t)) == 0, "%s: curves", what);
            cr_expect(memcmp(a.ledger, ref.ledger, sizeof a.ledger) == 0, "%s: ledger", what);
            cr_expect(memcmp(a.count, ref.count, sizeof a.count) == 0, "%s: counters", what);
            cr_expect(a.steps == ref.steps, "%s: steps", what);
            score_arrays_free(&a);
        }
    }
    score_arrays_free(&ref);
    engine_destroy(en);
}

/* Issue acceptance: `--backend simd` writes byte-identical CSV as `--backend openmp` with the
 * same seed, nuclear reactions on, for the four bench cases (one with the biological scoring
 * too), on every vector path this CPU has, the forced scalar fallback included; its JSON names
 * the path it took. */
Test(simd, cli_outputs_equal_openmps_on_every_path)
{
    static const char *const cases[] = {
        "--ion C-12 --energy 400 --material water -n 600 --bio mkm",
        "--ion p --energy 150 --material water -n 1500",
        "--ion He-4 --energy 200 --material water -n 800",
        "--ion C-12 --energy 290 --slab water:5 --slab bone:2 --slab water:inf -n 600",
    };
    char dir[256];
    testkit_temp_dir(dir, sizeof dir, "simd");
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char args[1024], out[4096], path[300];
        snprintf(args, sizeof args, "run %s --seed 13 --backend openmp --threads 2 -q --csv %s/ref.csv",
                 cases[k], dir);
        cr_assert(testkit_cli(args, out, sizeof out) == 0, "%s", out);
        snprintf(path, sizeof path, "%s/ref.csv", dir);
        char *ref = testkit_read_text(path);
        for (int p = 0; p < SIMD_PATHS; p++) {
            if (!simd_supported((simd_path)p)) continue;
            char cmd[1400];
            snprintf(cmd, sizeof cmd, "BRAGG_SIMD=%s %s run %s --seed 13 --backend simd --threads 2 "
                     "-q --csv %s/simd.csv --json %s/simd.json", simd_path_name((simd_path)p),
                     testkit_bragg(), cases[k], dir, dir);
            cr_assert(testkit_shell(cmd, out, sizeof out) == 0, "%s", out);
            snprintf(path, sizeof path, "%s/simd.csv", dir);
            char *got = testkit_read_text(path);
            cr_expect(strcmp(ref, got) == 0, "%s, %s path: CSV differs", cases[k],
                      simd_path_name((simd_path)p));
            free(got);
            snprintf(path, sizeof path, "%s/simd.json", dir);
            cJSON *root = testkit_read_json(path);
            cJSON *run = cJSON_GetObjectItem(root, "run");
            cr_expect(strcmp(cJSON_GetObjectItem(run, "backend")->valuestring, "simd") == 0);
            cJSON *simd = cJSON_GetObjectItem(run, "simd_path");
            cr_expect(cJSON_IsString(simd) && strcmp(simd->valuestring,
                                                     simd_path_name((simd_path)p)) == 0,
                      "the JSON names the path the run took");
            cJSON_Delete(root);
        }
        free(ref);
    }
    char cmd[600];
    snprintf(cmd, sizeof cmd, "BRAGG_SIMD=sse9 %s run --ion p --energy 100 --material water -n 40 "
             "--backend simd -q", testkit_bragg());
    char out[4096];
    cr_expect(testkit_shell(cmd, out, sizeof out) != 0);
    cr_expect(strstr(out, "BRAGG_SIMD: 'sse9' is not known"), "%s", out);
    /* The loop shape's variables too: a value that fell back to the default in silence made a
     * benchmark of one shape read as another. Refused as bad input (exit 2), by run at the
     * backend's open and by bench before its first row. */
    static const char *const shapes[][2] = {
        {"BRAGG_SIMD_STEPS=abc", "BRAGG_SIMD_STEPS: 'abc' is not a whole number (valid: 1 to 4096"},
        {"BRAGG_SIMD_STEPS=0", "BRAGG_SIMD_STEPS: '0' is out of range (valid: 1 to 4096; "
                               "unset: 8)"},
        {"BRAGG_SIMD_BLOCKS=65", "BRAGG_SIMD_BLOCKS: '65' is out of range (valid: 1 to 64; unset: "
                                 "10)"},
        {"BRAGG_SIMD_BLOCKS=2.5", "BRAGG_SIMD_BLOCKS: '2.5' is not a whole number"},
    };
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        snprintf(cmd, sizeof cmd, "%s %s run --ion p --energy 100 --material water -n 40 "
                 "--backend simd -q", shapes[k][0], testkit_bragg());
        int rc = testkit_shell(cmd, out, sizeof out);
        cr_expect(rc == 2 && strstr(out, shapes[k][1]), "%s: exit %d: %s", shapes[k][0], rc, out);
    }
    snprintf(cmd, sizeof cmd, "BRAGG_SIMD_BLOCKS=0 %s bench --quick --case p-150-water -n 100",
             testkit_bragg());
    int rc = testkit_shell(cmd, out, sizeof out);
    cr_expect(rc == 2 && strstr(out, "bragg bench: BRAGG_SIMD_BLOCKS: '0' is out of range") &&
                  !strstr(out, "serial"),
              "bench: exit %d: %s", rc, out);
    /* In range they are taken (the results are the same on every shape: above). */
    snprintf(cmd, sizeof cmd, "BRAGG_SIMD_STEPS=0004096 BRAGG_SIMD_BLOCKS=64 %s run --ion p "
             "--energy 100 --material water -n 40 --backend simd -q", testkit_bragg());
    rc = testkit_shell(cmd, out, sizeof out);
    cr_expect(rc == 0, "exit %d: %s", rc, out);
    testkit_remove_dir(dir);
}

/* Issue acceptance (the profile panel works for the simd backend): a profiled simd run scores
 * what an unprofiled one does, and the random numbers computed ahead are charged to the RNG.
 * "RNG above 0" held without the charge too (the steps draw words either way). What tells is
 * a wider pass: 64 blocks ahead for 1 step a pass is 51 times the default's 10 blocks for 8
 * steps per step, while the steps read the same words, so only the pass's cost grows. Charged
 * to the RNG, its share must rise (14% -> 48%, C-12 200 MeV/u, 2000 histories, 2 threads, the
 * AVX-512 path of a 2-core Xeon); not charged, it would stay or fall. */
Test(simd, profiled_runs_charge_the_vector_pass_and_change_nothing)
{
    run_config a = testkit_config("C-12", 200, 2000), b;
    snprintf(a.backend, sizeof a.backend, "simd");
    b = a;
    b.profile = 1;
    run_snapshot sa = testkit_run(&a, NULL), sb = testkit_run(&b, NULL);
    cr_assert(sb.profile_on);
    testkit_expect_profile_changes_nothing(&sa, &sb);
    cr_expect(sb.profile_coverage > 0.0 && sb.profile_coverage <= 1.02, "coverage %g",
              sb.profile_coverage);
    /* Read at the backend's open (this test runs in a process of its own). */
    cr_assert(setenv("BRAGG_SIMD_STEPS", "1", 1) == 0 && setenv("BRAGG_SIMD_BLOCKS", "64", 1) == 0);
    run_snapshot sw = testkit_run(&b, NULL);
    unsetenv("BRAGG_SIMD_STEPS");
    unsetenv("BRAGG_SIMD_BLOCKS");
    testkit_expect_profile_changes_nothing(&sa, &sw);
    double rng = sb.profile_share[PROFILE_RNG], wide = sw.profile_share[PROFILE_RNG];
    cr_log_info("RNG share: %.3f with 10 blocks for 8 steps, %.3f with 64 for 1", rng, wide);
    cr_expect(wide > 1.5 * rng, "RNG share %.3f with 64 blocks ahead for 1 step, %.3f with the "
              "default 10 for 8: the vector pass is not charged to the RNG", wide, rng);
    run_snapshot_free(&sa);
    run_snapshot_free(&sb);
    run_snapshot_free(&sw);
}
