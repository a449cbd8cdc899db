/*
 * test_mpi.c - bragg-mpi under mpirun: two ranks give the single-process result bit for bit
 * (dose, errors, derived figures, ledger), a rank that loses work or dies fails the run
 * instead of returning a wrong answer, and an SOBP under MPI equals the one-process SOBP.
 * The dose map too (its NRRD files byte for byte), and the phase space (its MCPL file). With
 * --checkpoint: a run whose rank died (or was killed while rank 0 held chunks not yet due to be
 * written) resumes from the chunks recorded and ends with the single-process result bit for
 * bit; an SOBP keeps one file per pristine run, and one stopped resumes on another rank count;
 * a run typed otherwise (an alias, an automatic value given) resumes; a checkpoint of another
 * seed or --from, a damaged one, a folder that is not one and one in use are refused with
 * messages that say why. A signal to mpirun, to the ranks or to bragg-mpi alone keeps the
 * chunks done, in the checkpoint and in partial outputs, and the resume ends bit for bit.
 *
 * Runs $BRAGG_MPI_BIN (set by the Makefile when built with MPI) against $BRAGG_BIN; skipped
 * when bragg was built without MPI.
 */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testkit.h"

static const char *mpi_bin(void)
{
    const char *b = getenv("BRAGG_MPI_BIN");
    if (!b || !*b) cr_skip_test("bragg was built without MPI (no mpicc): nothing to test");
    return b;
}

/* mpirun with two ranks on a machine that may have fewer cores (--oversubscribe), as root in
 * CI containers too (Open MPI refuses root unless told). Under `make check` the ranks run
 * without LeakSanitizer: Open MPI's components are dlopen'ed and unloaded at MPI_Finalize,
 * so what they keep shows up as leaks from "<unknown module>" frames, which no suppression
 * (matched by name) can select. AddressSanitizer and UBSan stay on; bragg's own code is
 * leak-checked by the single-process runs of the same commands. */
static void mpirun_ranks(char *out, size_t len, int ranks)
{
    snprintf(out, len, "env ASAN_OPTIONS=detect_leaks=0 mpirun -np %d --oversubscribe%s", ranks,
             geteuid() == 0 ? " --allow-run-as-root" : "");
}

static void mpirun_prefix(char *out, size_t len)
{
    mpirun_ranks(out, len, 2);
}

/* bragg-mpi run alone (one rank, no mpirun), LeakSanitizer off as above. */
static void mpi_alone(char *out, size_t len)
{
    snprintf(out, len, "env ASAN_OPTIONS=detect_leaks=0 %s", mpi_bin());
}

/* Exact equality of two JSON subtrees: cJSON prints a double with as many digits as it needs
 * to read back the same bits, so equal text means equal doubles. */
static void expect_same(const cJSON *a, const cJSON *b, const char *name)
{
    cr_assert(a && b, "%s missing", name);
    char *ta = cJSON_PrintUnformatted(a), *tb = cJSON_PrintUnformatted(b);
    cr_expect(strcmp(ta, tb) == 0, "%s differs between one process and two MPI ranks", name);
    free(ta);
    free(tb);
}

#define RUN_SETUP                                                                            \
    "run --ion C-12 --energy 200 --material water -n 6000 --seed 11 --threads 1 --batches 10"
static const char *RUN_ARGS = RUN_SETUP " -q";

/* The parts of two JSON results that must agree bit for bit: dose and its error per batch
 * statistics, the derived figures with their errors, the ledger, the nuclear figures. */
static void expect_same_run(const char *dir, const char *a, const char *b)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/%s", dir, a);
    cJSON *one = testkit_read_json(path);
    snprintf(path, sizeof path, "%s/%s", dir, b);
    cJSON *two = testkit_read_json(path);
    const char *parts[] = {"results", "depth_curves", "energy_ledger_MeV_per_primary", "nuclear"};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        expect_same(cJSON_GetObjectItem(one, parts[i]), cJSON_GetObjectItem(two, parts[i]),
                    parts[i]);
    cr_expect(cJSON_IsFalse(cJSON_GetObjectItem(two, "partial")), "%s is partial", b);
    cJSON_Delete(one);
    cJSON_Delete(two);
}

TestSuite(mpi, .timeout = 240);

Test(mpi, two_ranks_give_the_single_process_dose_bit_for_bit)
{
    const char *mpi = mpi_bin();
    char dir[256], cmd[2048], pre[128], out[16384];
    testkit_temp_dir(dir, sizeof dir, "mpi");
    mpirun_prefix(pre, sizeof pre);
    /* With a dose map (issue 15): its curves are summed and reduced with the others, and so
     * are its sums per batch (--map-error: the cells' standard errors). */
    snprintf(cmd, sizeof cmd, "%s %s --json %s/one.json --map %s/one.nrrd --map-error %s/one.err",
             testkit_bragg(), RUN_ARGS, dir, dir, dir);
    cr_assert(testkit_shell(cmd, out, sizeof out) == 0, "%s", out);
    /* Chunks of 233 histories: they cut batches of 600 unevenly, so the ranks finish parts of
     * the same batch in any order. */
    snprintf(cmd, sizeof cmd,
             "BRAGG_MPI_CHUNK=233 %s %s %s --json %s/two.json --map %s/two.nrrd --map-error "
             "%s/two.err",
             pre, mpi, RUN_ARGS, dir, dir, dir);
    cr_assert(testkit_shell(cmd, out, sizeof out) == 0, "%s", out);
    expect_same_run(dir, "one.json", "two.json");
    snprintf(cmd, sizeof cmd, "cmp %s/one.nrrd %s/two.nrrd", dir, dir);
    cr_expect(testkit_shell(cmd, out, sizeof out) == 0, "the maps differ: %s", out);
    snprintf(cmd, sizeof cmd, "cmp %s/one.err %s/two.err", dir, dir);
    cr_expect(testkit_shell(cmd, out, sizeof out) == 0, "the maps' errors differ: %s", out);
    char path[1100];
    snprintf(path, sizeof path, "%s/one.json", dir);
    cJSON *one = testkit_read_json(path);
    snprintf(path, sizeof path, "%s/two.json", dir);
    cJSON *two = testkit_read_json(path);
    cJSON *run = cJSON_GetObjectItem(two, "run");
    cr_expect(cJSON_GetObjectItem(run, "histories")->valuedouble == 6000);
    cJSON *map_one = cJSON_GetObjectItem(one, "map"), *map_two = cJSON_GetObjectItem(two, "map");
    cJSON_DeleteItemFromObject(map_one, "file");
    cJSON_DeleteItemFromObject(map_two, "file");
    expect_same(map_one, map_two, "map");
    cJSON_Delete(one);
    cJSON_Delete(two);
    testkit_remove_dir(dir);
}

/* Issue 15: the phase space under MPI. Every rank keeps the crossings of its chunks and rank 0
 * gathers them; the writer sorts them by history and particle, so two ranks (chunks of 233
 * histories, handed out in any order) write the one-process file byte for byte. With
 * --checkpoint, whose folder does not keep crossings, the run is refused before it starts. */
Test(mpi, two_ranks_write_the_single_process_phase_space_byte_for_byte)
{
    const char *mpi = mpi_bin();
    char dir[256], cmd[2048], pre[128], out[16384];
    testkit_temp_dir(dir, sizeof dir, "mpi");
    mpirun_prefix(pre, sizeof pre);
    snprintf(cmd, sizeof cmd, "%s %s --phase-space %s/one.mcpl --phase-space-depth 6 --json "
             "%s/one.json", testkit_bragg(), RUN_ARGS, dir, dir);
    cr_assert(testkit_shell(cmd, out, sizeof out) == 0, "%s", out);
    snprintf(cmd, sizeof cmd, "BRAGG_MPI_CHUNK=233 %s %s %s --phase-space %s/two.mcpl "
             "--phase-space-depth 6 --json %s/two.json", pre, mpi, RUN_ARGS, dir, dir);
    cr_assert(testkit_shell(cmd, out, sizeof out) == 0, "%s", out);
    snprintf(cmd, sizeof cmd, "cmp %s/one.mcpl %s/two.mcpl", dir, dir);
    cr_expect(testkit_shell(cmd, out, sizeof out) == 0, "the phase spaces differ: %s", out);
    double particles[2];
    for (int k = 0; k < 2; k++) {
        char path[1100];
        snprintf(path, sizeof path, "%s/%s.json", dir, k ? "two" : "one");
        cJSON *j = testkit_read_json(path);
        cJSON *ps = cJSON_GetObjectItem(j, "phase_space");
        cr_assert(ps, "%s has no phase_space", path);
        particles[k] = cJSON_GetObjectItem(ps, "particles")->valuedouble;
        cr_expect(cJSON_IsFalse(cJSON_GetObjectItem(j, "partial")), "%s is partial", path);
        cJSON_Delete(j);
    }
    cr_expect(particles[0] > 1000 && particles[1] == particles[0], "%g and %g crossings",
              particles[0], particles[1]);
    snprintf(cmd, sizeof cmd, "%s %s %s --phase-space %s/three.mcpl --phase-space-depth 6 "
             "--checkpoint %s/ck", pre, mpi, RUN_ARGS, dir, dir);
    int rc = testkit_shell(cmd, out, sizeof out);
    cr_expect(rc == 2, "exit %d, want 2; output: %s", rc, out);
    cr_expect(strstr(out, "--phase-space: not kept in a --checkpoint folder"), "%s", out);
    snprintf(cmd, sizeof cmd, "test -e %s/three.mcpl", dir);
    cr_expect(testkit_shell(cmd, out, sizeof out) != 0, "a refused run wrote its phase space");
    testkit_remove_dir(dir);
}

Test(mpi, a_rank_that_loses_a_chunk_fails_the_run)
{
    const char *mpi = mpi_bin();
    char dir[256], cmd[2048], pre[128], out[16384];
    testkit_temp_dir(dir, sizeof dir, "mpi");
    mpirun_prefix(pre, sizeof pre);
    snprintf(cmd, sizeof cmd, "BRAGG_TEST_MPI_FAULT=drop %s %s %s --json %s/lost.json", pre, mpi,
             RUN_ARGS, dir);
    int rc = testkit_shell(cmd, out, sizeof out);
    cr_expect(rc == 1, "exit %d, want 1; output: %s", rc, out);
    cr_expect(strstr(out, "of 6000 histories") && strstr(out, "incomplete"), "%s", out);
    char path[1100];
    snprintf(path, sizeof path, "%s/lost.json", dir);
    cJSON *j = testkit_read_json(path);
    cr_expect(strcmp(cJSON_GetObjectItem(j, "state")->valuestring, "failed") == 0);
    cr_expect(cJSON_IsTrue(cJSON_GetObjectItem(j, "partial")));
    cJSON_Delete(j);
    testkit_remove_dir(dir);
}

Test(mpi, a_rank_that_dies_ends_the_job_without_output)
{
    const char *mpi = mpi_bin();
    char dir[256], cmd[2048], pre[128], out[16384];
    testkit_temp_dir(dir, sizeof dir, "mpi");
    mpirun_prefix(pre, sizeof pre);
    snprintf(cmd, sizeof cmd, "BRAGG_TEST_MPI_FAULT=die timeout 120 %s %s %s --json %s/dead.json",
             pre, mpi, RUN_ARGS, dir);
    int rc = testkit_shell(cmd, out, sizeof out);
    cr_expect(rc != 0 && rc != 124, "exit %d; output: %s", rc, out);
    char path[1100];
    snprintf(path, sizeof path, "%s/dead.json", dir);
    struct stat st;
    cr_expect(stat(path, &st) != 0, "a result was written although a rank died");
    testkit_remove_dir(dir);
}

/* How many times `needle` occurs in `text`. */
static int occurrences(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle)) n++;
    return n;
}

/* Every rank parses the same words and finds the same fault: rank 0 alone says it, once, with
 * bragg-mpi's prefix (mpirun adds its own lines about the exit status). */
Test(mpi, bad_input_is_said_once)
{
    const char *mpi = mpi_bin();
    char cmd[2048], pre[128], out[16384];
    mpirun_ranks(pre, sizeof pre, 3);
    snprintf(cmd, sizeof cmd, "%s %s run --ion p --energy 150 --material water -n 3", pre, mpi);
    int rc = testkit_shell(cmd, out, sizeof out);
    cr_expect(rc == 2, "exit %d, want 2; output: %s", rc, out);
    cr_expect(occurrences(out, "is fewer than the 20 batches") == 1, "%s", out);
    cr_expect(occurrences(out, "bragg-mpi: --histories: 3 is fewer") == 1, "%s", out);
    snprintf(cmd, sizeof cmd, "%s %s sobp --ion p --material water --from 10 --to 5", pre, mpi);
    rc = testkit_shell(cmd, out, sizeof out);
    cr_expect(rc == 2, "exit %d, want 2; output: %s", rc, out);
    cr_expect(occurrences(out, "--to: 5 must be deeper than --from 10") == 1, "%s", out);
    cr_expect(occurrences(out, "bragg-mpi: --to:") == 1, "%s", out);
}

/* A rank that cannot set up its engine alone (here BRAGG_SIMD names no vector path on rank 1
 * only, as a node without a GPU would for --backend cuda), or finds no assets on its node,
 * says why, naming itself, and no rank starts: it used to return at once and leave the others
 * waiting in the run's first collective for ever. When every rank fails alike, rank 0 says it
 * once, as bad input. */
Test(mpi, a_rank_that_cannot_set_up_stops_every_rank)
{
    const char *mpi = mpi_bin();
    char cmd[2048], pre[128], out[16384];
    mpirun_prefix(pre, sizeof pre);
    const char *commands[] = {"run --ion p --energy 100 --material water -n 2000 -q",
                              "sobp --ion p --material water --from 2 --to 3 -n 200 -q"};
    for (int k = 0; k < 2; k++) {
        snprintf(cmd, sizeof cmd, "timeout 60 %s sh -c 'if [ \"$OMPI_COMM_WORLD_RANK\" = 1 ]; "
                                  "then export BRAGG_SIMD=bogus; fi; exec %s %s --backend simd'",
                 pre, mpi, commands[k]);
        int rc = testkit_shell(cmd, out, sizeof out);
        cr_expect(rc == 1, "%s: exit %d, want 1 (124: the ranks hung); output: %s",
                  commands[k], rc, out);
        cr_expect(occurrences(out, "bragg-mpi: rank 1: BRAGG_SIMD: 'bogus' is not known") == 1,
                  "%s: %s", commands[k], out);
        cr_expect(occurrences(out, "1 of 2 ranks could not set up the run") == 1, "%s: %s",
                  commands[k], out);
    }
    snprintf(cmd, sizeof cmd, "timeout 60 %s sh -c 'if [ \"$OMPI_COMM_WORLD_RANK\" = 1 ]; then "
                              "export BRAGG_ASSETS=/nonexistent; fi; exec %s %s'", pre, mpi,
             commands[0]);
    int rc = testkit_shell(cmd, out, sizeof out);
    cr_expect(rc == 1, "no assets on rank 1: exit %d, want 1 (124: hung); output: %s", rc, out);
    cr_expect(occurrences(out, "bragg-mpi: rank 1: asset ions.tsv not found") == 1, "%s", out);
    snprintf(cmd, sizeof cmd, "timeout 60 env BRAGG_SIMD=bogus %s %s run --ion p --energy 100 "
                              "--material water -n 2000 -q --backend simd", pre, mpi);
    rc = testkit_shell(cmd, out, sizeof out);
    cr_expect(rc == 2, "every rank failing: exit %d, want 2; output: %s", rc, out);
    cr_expect(occurrences(out, "BRAGG_SIMD: 'bogus' is not known") == 1, "%s", out);
}

/* BRAGG_MPI_CHUNK takes a count as every count is written ("3e2"); anything else is refused
 * with its name and range instead of being read as some other number. */
Test(mpi, bragg_mpi_chunk_is_a_count_or_refused)
{
    const char *mpi = mpi_bin();
    char dir[256], cmd[2048], pre[128], out[16384];
    testkit_temp_dir(dir, sizeof dir, "mpi");
    mpirun_prefix(pre, sizeof pre);
    snprintf(cmd, sizeof cmd, "cd %s && BRAGG_MPI_CHUNK=3e2 %s %s %s --checkpoint ck && "
             "grep -a '^chunk_sizes' ck/run-000.ckpt", dir, pre, mpi, RUN_ARGS);
    cr_assert(testkit_shell(cmd, out, sizeof out) == 0, "%s", out);
    cr_expect(strstr(out, "chunk_sizes 300 300 300 300 300 300 300 300 300 300\n"), "%s", out);
    const char *bad[] = {"abc", "0x10", "-5", "2.5", "1e13"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        snprintf(cmd, sizeof cmd, "BRAGG_MPI_CHUNK=%s %s %s %s", bad[k], pre, mpi, RUN_ARGS);
        int rc = testkit_shell(cmd, out, sizeof out);
        cr_expect(rc == 2, "%s: exit %d, want 2; output: %s", bad[k], rc, out);
        cr_expect(occurrences(out, "bragg-mpi: BRAGG_MPI_CHUNK: ") == 1 &&
                      strstr(out, "(valid: 1 to 1e+12)"),
                  "%s: %s", bad[k], out);
    }
    testkit_remove_dir(dir);
}

/* The SOBP job of the MPI tests: small enough for a test, two peaks. */
#define SOBP_SETUP "sobp --ion C-12 --material water --from 10 --to 11 -n 1000 --threads 1"
#define SOBP_ARGS SOBP_SETUP " -q"

/* Runs the SOBP job in one process (bin/bragg) into dir/one.json. */
static void sobp_one_process(const char *dir)
{
    char cmd[2048], out[16384];
    snprintf(cmd, sizeof cmd, "%s %s --json %s/one.json", testkit_bragg(), SOBP_ARGS, dir);
    cr_assert(testkit_shell(cmd, out, sizeof out) == 0, "%s", out);
}

/* dir/one.json and dir/two.json agree bit for bit in the SOBP's results. */
static void expect_same_sobp(const char *dir)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/one.json", dir);
    cJSON *one = testkit_read_json(path);
    snprintf(path, sizeof path, "%s/two.json", dir);
    cJSON *two = testkit_read_json(path);
    const char *parts[] = {"peaks", "flatness", "dose_Gy_cm2", "dose_err_Gy_cm2"};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        expect_same(cJSON_GetObjectItem(one, parts[i]), cJSON_GetObjectItem(two, parts[i]),
                    parts[i]);
    cJSON_Delete(one);
    cJSON_Delete(two);
}

Test(mpi, sobp_under_mpi_equals_one_process)
{
    const char *mpi = mpi_bin();
    char dir[256], cmd[2048], pre[128], out[16384];
    testkit_temp_dir(dir, sizeof dir, "mpi");
    mpirun_prefix(pre, sizeof pre);
    sobp_one_process(dir);
    snprintf(cmd, sizeof cmd, "%s %s %s --json %s/two.json", pre, mpi, SOBP_ARGS, dir);
    cr_assert(testkit_shell(cmd, out, sizeof out) == 0, "%s", out);
    expect_same_sobp(dir);
    testkit_remove_dir(dir);
}

/* ---- --checkpoint -------------------------------------------------------------------------- */

/* From "resuming DIR/run-000.ckpt: K of N chunks ...": K, or -1 when the line is missing. */
static long long resumed_chunks(const char *out, long long *of)
{
    const char *p = strstr(out, "resuming ");
    p = p ? strstr(p, ".ckpt: ") : NULL;
    long long k = -1;
    if (!p || sscanf(p + 7, "%lld of %lld chunks", &k, of) != 2) return -1;
    return k;
}

/* A complete run of RUN_SETUP (its summary too) with a checkpoint in DIR/ckpt, on `ranks`
 * ranks, to DIR/NAME. */
static int checkpointed_run(const char *dir, int ranks, const char *extra, const char *name,
                            char *out, size_t len)
{
    char cmd[2048], pre[128];
    mpirun_ranks(pre, sizeof pre, ranks);
    snprintf(cmd, sizeof cmd, "%s %s %s %s --checkpoint %s/ckpt --json %s/%s", pre, mpi_bin(),
             RUN_SETUP, extra, dir, dir, name);
    return testkit_shell(cmd, out, len);
}

/* DIR/NAME's throughput is that of `ran` histories in its elapsed time. */
static void expect_rate_of(const char *dir, const char *name, double ran)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    cJSON *j = testkit_read_json(path);
    cJSON *run = cJSON_GetObjectItem(j, "run");
    double rate = cJSON_GetObjectItem(run, "histories_per_s")->valuedouble;
    double elapsed = cJSON_GetObjectItem(run, "elapsed_s")->valuedouble;
    cr_expect(fabs(rate * elapsed - ran) <= 1e-6 * ran, "%s: %g histories/s for %g s, want %g "
              "histories run", name, rate, elapsed, ran);
    cJSON_Delete(j);
}

Test(mpi, a_run_whose_rank_died_resumes_from_its_checkpoint_bit_for_bit)
{
    const char *mpi = mpi_bin();
    char dir[256], cmd[2048], pre[128], out[16384];
    testkit_temp_dir(dir, sizeof dir, "mpi");
    mpirun_prefix(pre, sizeof pre);
    snprintf(cmd, sizeof cmd, "%s %s --json %s/one.json", testkit_bragg(), RUN_ARGS, dir);
    cr_assert(testkit_shell(cmd, out, sizeof out) == 0, "%s", out);

    /* The last rank dies when given its second chunk: its first was handed in and recorded by
     * rank 0 but, with the default BRAGG_CHECKPOINT_SECONDS (10), not yet due to be written.
     * mpirun then ends the job (SIGTERM to rank 0, SIGKILL a second later) and rank 0 must
     * write it in that second; it used to wait for the dead rank until the SIGKILL and keep
     * nothing. Under a test hook rank 0 runs no chunks itself, so the checkpoint holds exactly
     * that one chunk. */
    snprintf(cmd, sizeof cmd,
             "BRAGG_TEST_MPI_FAULT=die-second timeout 120 %s %s %s --checkpoint %s/ckpt --json "
             "%s/dead.json",
             pre, mpi, RUN_ARGS, dir, dir);
    int rc = testkit_shell(cmd, out, sizeof out);
    cr_expect(rc != 0 && rc != 124, "exit %d; output: %s", rc, out);
    cr_expect(strstr(out, "dying on purpose"), "%s", out);
    char path[1100];
    struct stat st;
    snprintf(path, sizeof path, "%s/dead.json", dir);
    cr_expect(stat(path, &st) != 0, "a result was written although a rank died");
    snprintf(path, sizeof path, "%s/ckpt/run-000.ckpt", dir);
    char *ck = testkit_read_text(path);
    cr_assert(ck, "no checkpoint file %s", path);
    cr_expect(strstr(ck, "\nchunks_done 1\nhistories_done 300\n"), "%.1200s", ck);
    free(ck);

    /* The same command resumes: only the chunks not recorded are run. */
    rc = checkpointed_run(dir, 2, "", "resumed.json", out, sizeof out);
    cr_assert(rc == 0, "exit %d: %s", rc, out);
    long long of = 0, k = resumed_chunks(out, &of);
    /* 20 chunks: 8 per rank for 2 ranks over the 10 batches is 2 per batch (mpi_run.c,
     * default_chunk_sizes); the rank that died handed in 1 before it died. */
    cr_expect(k == 1 && of == 20, "resumed %lld of %lld chunks, want 1 of 20; output: %s", k, of,
              out);
    expect_same_run(dir, "one.json", "resumed.json");
    /* The rate is of the histories run now, and the summary says how many were resumed. */
    cr_expect(strstr(out, "1 of them (300 histories) resumed from the checkpoint"), "%s", out);
    expect_rate_of(dir, "resumed.json", 5700);

    /* The checkpoint of the finished run reproduces the result, on one rank too. */
    rc = checkpointed_run(dir, 1, "", "again.json", out, sizeof out);
    cr_assert(rc == 0, "exit %d: %s", rc, out);
    k = resumed_chunks(out, &of);
    cr_expect(k == of && k > 0, "resumed %lld of %lld chunks; output: %s", k, of, out);
    expect_same_run(dir, "one.json", "again.json");
    cr_expect(strstr(out, "all 20 chunks (6000 histories) resumed from the checkpoint; none run "
                          "now") && strstr(out, " 0 histories/s"), "%s", out);
    expect_rate_of(dir, "again.json", 0);
    testkit_remove_dir(dir);
}

/* A rank killed by SIGKILL (nothing of it is heard again) while rank 0, running chunks too, holds
 * chunks not yet due to be written (the default BRAGG_CHECKPOINT_SECONDS, 10; the state file
 * was written at the start, chunks_done 0): mpirun ends the job, sending rank 0 SIGTERM and a
 * second later SIGKILL, and rank 0 writes what it holds in between. It used to wait for the
 * dead rank's request until the SIGKILL: chunks_done stayed 0. 1000 chunks of 1000 histories,
 * 5-10 s of work on 2 ranks here, killed 1.5 s in; a resume then starts from those chunks. */
Test(mpi, a_killed_rank_leaves_the_chunks_done_in_the_checkpoint)
{
    const char *mpi = mpi_bin();
    char dir[256], cmd[4096], pre[128], out[16384];
    testkit_temp_dir(dir, sizeof dir, "mpi");
    mpirun_prefix(pre, sizeof pre);
    const char *job = "run --ion C-12 --energy 200 --material water -n 1000000 --seed 11 "
                      "--threads 1 --batches 10";
    snprintf(cmd, sizeof cmd,
             "cd %s && { BRAGG_MPI_CHUNK=1000 %s %s %s -q --checkpoint ck >log 2>&1 & p=$!; "
             "i=0; until [ -f ck/run-000.ckpt ] || [ $i -ge 1200 ]; do sleep 0.1; i=$((i + 1)); "
             "done; sleep 1.5; killed=0; for q in $(ps -o pid= --ppid $p); do "
             "if tr '\\0' '\\n' </proc/$q/environ | grep -qx OMPI_COMM_WORLD_RANK=1; then "
             "kill -KILL $q && killed=1; fi; done; wait $p; rc=$?; cat log; "
             "echo \"killed rank 1: $killed\"; exit $rc; }",
             dir, pre, mpi, job);
    int rc = testkit_shell(cmd, out, sizeof out);
    cr_assert(strstr(out, "killed rank 1: 1"), "rank 1 was not found running: %s", out);
    cr_expect(rc != 0, "exit %d; output: %s", rc, out);
    char path[1100];
    snprintf(path, sizeof path, "%s/ck/run-000.ckpt", dir);
    char *ck = testkit_read_text(path);
    cr_assert(ck, "no checkpoint file %s", path);
    const char *line = strstr(ck, "\nchunks_done ");
    long long chunks = -1, histories = -1;
    cr_assert(line && sscanf(line, "\nchunks_done %lld\nhistories_done %lld", &chunks,
                             &histories) == 2,
              "%.1200s", ck);
    free(ck);
    cr_expect(chunks >= 1 && histories == 1000 * chunks, "%lld chunks, %lld histories recorded",
              chunks, histories);
    /* The file is whole and this run's: a resume (here on one rank, stopped once it has said
     * so) takes those chunks. */
    snprintf(cmd, sizeof cmd,
             "cd %s && { env ASAN_OPTIONS=detect_leaks=0 %s %s --checkpoint ck >log 2>&1 & "
             "p=$!; i=0; until grep -qs resuming log || [ $i -ge 1200 ]; do sleep 0.1; "
             "i=$((i + 1)); done; kill -INT $p; wait $p; rc=$?; cat log; exit $rc; }",
             dir, mpi, job);
    rc = testkit_shell(cmd, out, sizeof out);
    long long of = 0, k = resumed_chunks(out, &of);
    cr_expect(k == chunks && of == 1000, "resumed %lld of %lld chunks, want %lld of 1000: %s", k,
              of, chunks, out);
    testkit_remove_dir(dir);
}

Test(mpi, a_checkpoint_of_another_seed_is_refused)
{
    char dir[256], out[16384];
    (void)mpi_bin();   /* skips before a folder is made when there is no bragg-mpi */
    testkit_temp_dir(dir, sizeof dir, "mpi");
    int rc = checkpointed_run(dir, 2, "", "first.json", out, sizeof out);
    cr_assert(rc == 0, "exit %d: %s", rc, out);
    char cmd[2400];
    snprintf(cmd, sizeof cmd, "cp %s/ckpt/run-000.ckpt %s/before.ckpt", dir, dir);
    cr_assert(testkit_shell(cmd, out, sizeof out) == 0, "%s", out);
    rc = checkpointed_run(dir, 2, "--seed 12", "other.json", out, sizeof out);
    cr_expect(rc == 2, "exit %d, want 2; output: %s", rc, out);
    cr_expect(strstr(out, "run-000.ckpt") && strstr(out, "(--seed is 11 there, 12 here)"), "%s",
              out);
    /* Said once, by rank 0: the other rank, which only stopped for it, says nothing. */
    cr_expect(occurrences(out, "bragg-mpi:") == 1 && !strstr(out, "stopped: another rank"), "%s",
              out);
    char path[1100];
    struct stat st;
    snprintf(path, sizeof path, "%s/other.json", dir);
    cr_expect(stat(path, &st) != 0, "a result was written for a refused checkpoint");
    /* The refused run left the checkpoint as it was, byte for byte, and the next resumes from
     * all of it (a refused run that had reset it would recompute the same result). */
    snprintf(cmd, sizeof cmd, "cmp %s/ckpt/run-000.ckpt %s/before.ckpt", dir, dir);
    cr_expect(testkit_shell(cmd, out, sizeof out) == 0, "the refused run changed it: %s", out);
    rc = checkpointed_run(dir, 2, "", "again.json", out, sizeof out);
    cr_assert(rc == 0, "exit %d: %s", rc, out);
    long long of = 0, k = resumed_chunks(out, &of);
    cr_expect(k == 20 && of == 20, "resumed %lld of %lld chunks, want 20 of 20: %s", k, of, out);
    expect_same_run(dir, "first.json", "again.json");
    testkit_remove_dir(dir);
}

/* Flips a bit of the byte `from_end` bytes before the end of the file or, with keep >= 0,
 * truncates it to `keep` bytes. */
static void damage(const char *path, long from_end, long keep)
{
    FILE *f = fopen(path, "r+b");
    cr_assert(f, "cannot open %s", path);
    cr_assert(fseek(f, 0, SEEK_END) == 0);
    long size = ftell(f);
    if (keep >= 0) {
        fclose(f);
        cr_assert(truncate(path, keep < size ? keep : size) == 0);
        return;
    }
    cr_assert(fseek(f, size - from_end, SEEK_SET) == 0);
    int c = fgetc(f);
    cr_assert(c != EOF);
    cr_assert(fseek(f, size - from_end, SEEK_SET) == 0);
    fputc(c ^ 0x10, f);
    fclose(f);
}

Test(mpi, a_damaged_checkpoint_is_refused)
{
    char dir[256], out[16384], path[1100], copy[2300];
    (void)mpi_bin();   /* skips before a folder is made when there is no bragg-mpi */
    testkit_temp_dir(dir, sizeof dir, "mpi");
    int rc = checkpointed_run(dir, 2, "", "first.json", out, sizeof out);
    cr_assert(rc == 0, "exit %d: %s", rc, out);
    snprintf(path, sizeof path, "%s/ckpt/run-000.ckpt", dir);
    snprintf(copy, sizeof copy, "cp %s %s/whole.ckpt", path, dir);
    cr_assert(system(copy) == 0);

    /* One bit changed in the sums (well before the checksum line at the end). */
    damage(path, 1000, -1);
    rc = checkpointed_run(dir, 2, "", "damaged.json", out, sizeof out);
    cr_expect(rc == 2, "exit %d, want 2; output: %s", rc, out);
    cr_expect(strstr(out, path) && strstr(out, "damaged: checksum"), "%s", out);

    /* Cut short, as by a crash mid-write of a file system without atomic rename. */
    snprintf(copy, sizeof copy, "cp %s/whole.ckpt %s", dir, path);
    cr_assert(system(copy) == 0);
    damage(path, 0, 5000);
    rc = checkpointed_run(dir, 2, "", "truncated.json", out, sizeof out);
    cr_expect(rc == 2, "exit %d, want 2; output: %s", rc, out);
    cr_expect(strstr(out, path) && strstr(out, "truncated"), "%s", out);
    struct stat st;
    snprintf(path, sizeof path, "%s/damaged.json", dir);
    cr_expect(stat(path, &st) != 0, "a result was written from a damaged checkpoint");
    snprintf(path, sizeof path, "%s/truncated.json", dir);
    cr_expect(stat(path, &st) != 0, "a result was written from a truncated checkpoint");
    testkit_remove_dir(dir);
}

Test(mpi, a_checkpoint_folder_that_is_a_file_is_bad_input)
{
    const char *mpi = mpi_bin();
    char dir[256], cmd[2048], pre[128], out[16384];
    testkit_temp_dir(dir, sizeof dir, "mpi");
    mpirun_prefix(pre, sizeof pre);
    snprintf(cmd, sizeof cmd, "touch %s/file && %s %s %s --checkpoint %s/file", dir, pre, mpi,
             RUN_ARGS, dir);
    int rc = testkit_shell(cmd, out, sizeof out);
    cr_expect(rc == 2, "exit %d, want 2; output: %s", rc, out);
    cr_expect(strstr(out, "--checkpoint") && strstr(out, "is not a folder"), "%s", out);
    snprintf(cmd, sizeof cmd, "%s %s %s --checkpoint", pre, mpi, RUN_ARGS);
    rc = testkit_shell(cmd, out, sizeof out);
    cr_expect(rc == 2, "exit %d, want 2; output: %s", rc, out);
    cr_expect(strstr(out, "--checkpoint: missing folder name"), "%s", out);
    testkit_remove_dir(dir);
}

/* ---- signals --------------------------------------------------------------------------------- */

/* Starts `job` (a bragg-mpi run of RUN_ARGS with --checkpoint ck, in DIR) in the background
 * under the hook that keeps the last rank's second chunk in flight until a stop cuts it
 * (mpi_run.c, read_test_hooks), with every chunk written as it comes in; once the checkpoint
 * records a chunk, sends signal `sig` to `whom` (a shell word: "$p" is the job's first
 * process). Returns the job's exit status; `out` gets its output. */
static int signal_after_a_chunk(const char *dir, const char *job, const char *sig,
                                const char *whom, char *out, size_t len)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "cd %s && { BRAGG_TEST_MPI_FAULT=hold BRAGG_CHECKPOINT_SECONDS=0 BRAGG_MPI_CHUNK=300 "
             "%s >log 2>&1 & p=$!; i=0; "
             "until grep -aqs '^chunks_done [1-9]' ck/run-000.ckpt || [ $i -ge 1200 ]; "
             "do sleep 0.1; i=$((i + 1)); done; kill -%s %s; wait $p; rc=$?; cat log; exit $rc; }",
             dir, job, sig, whom);
    return testkit_shell(cmd, out, len);
}

/* What a stopped run of RUN_ARGS left in DIR: its checkpoint holds the one chunk (300
 * histories) handed in, and its outputs, whole, hold that chunk and say they are partial; the
 * same command then resumes from that chunk and ends with the one-process CSV (DIR/one.csv)
 * byte for byte. */
static void expect_stopped_then_resumed(const char *dir, const char *out)
{
    char path[1100], cmd[2048], log[16384];
    cr_expect(strstr(out, "interrupted after 300 histories; writing partial results"), "%s", out);
    snprintf(path, sizeof path, "%s/ck/run-000.ckpt", dir);
    char *ck = testkit_read_text(path);
    cr_assert(ck, "no checkpoint %s", path);
    cr_expect(strstr(ck, "\nchunks_done 1\nhistories_done 300\n"), "%.1200s", ck);
    free(ck);
    snprintf(path, sizeof path, "%s/part.json", dir);
    cJSON *j = testkit_read_json(path);
    cr_expect(strcmp(cJSON_GetObjectItem(j, "state")->valuestring, "cancelled") == 0);
    cr_expect(cJSON_IsTrue(cJSON_GetObjectItem(j, "partial")));
    cr_expect(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "run"), "histories")->valuedouble ==
              300);
    cJSON_Delete(j);
    /* Whole: as many lines as the full run's CSV, the last one ended. */
    snprintf(cmd, sizeof cmd, "cd %s && test \"$(wc -l <part.csv)\" = \"$(wc -l <one.csv)\" && "
             "tail -c 1 part.csv | od -c | grep -q '\\\\n'", dir);
    cr_expect(testkit_shell(cmd, log, sizeof log) == 0, "part.csv is not whole: %s", log);
    snprintf(cmd, sizeof cmd, "rm %s/part.csv %s/part.json", dir, dir);
    cr_assert(testkit_shell(cmd, log, sizeof log) == 0, "%s", log);

    /* Not -q: the resume says what it took from the checkpoint, the one chunk. */
    char pre[128], run[2048];
    mpirun_prefix(pre, sizeof pre);
    snprintf(run, sizeof run, "cd %s && %s %s %s --checkpoint ck --csv resumed.csv", dir, pre,
             mpi_bin(), RUN_SETUP);
    int rc = testkit_shell(run, log, sizeof log);
    cr_assert(rc == 0, "exit %d: %s", rc, log);
    long long of = 0, k = resumed_chunks(log, &of);
    cr_expect(k == 1 && of == 20, "resumed %lld of %lld chunks, want 1 of 20: %s", k, of, log);
    snprintf(cmd, sizeof cmd, "cmp %s/one.csv %s/resumed.csv", dir, dir);
    cr_expect(testkit_shell(cmd, log, sizeof log) == 0, "the resumed run differs: %s", log);
    snprintf(cmd, sizeof cmd, "rm -r %s/ck %s/resumed.csv", dir, dir);
    cr_assert(testkit_shell(cmd, log, sizeof log) == 0, "%s", log);
}

/* The one-process run of RUN_ARGS into DIR/one.csv, for the stopped runs to end with. */
static void csv_one_process(const char *dir)
{
    char cmd[2048], out[16384];
    snprintf(cmd, sizeof cmd, "%s %s --csv %s/one.csv", testkit_bragg(), RUN_ARGS, dir);
    cr_assert(testkit_shell(cmd, out, sizeof out) == 0, "%s", out);
}

/* Ctrl-C or SIGTERM to mpirun: Open MPI sends the ranks SIGCONT, SIGTERM a second later and
 * SIGKILL a second after that. In between the ranks stop, cut the chunk in flight, and rank 0
 * writes the checkpoint and the outputs of the chunks done. mpirun itself then exits 1
 * (Open MPI 4.1, whatever the ranks return); the ranks' 130 shows when they are signalled
 * themselves (below). */
Test(mpi, a_signal_to_mpirun_keeps_the_chunks_done_and_the_resume_is_bit_for_bit)
{
    const char *mpi = mpi_bin();
    char dir[256], job[2048], pre[128], out[16384];
    testkit_temp_dir(dir, sizeof dir, "mpi");
    mpirun_prefix(pre, sizeof pre);
    csv_one_process(dir);
    snprintf(job, sizeof job, "%s %s %s --checkpoint ck --csv part.csv --json part.json", pre,
             mpi, RUN_ARGS);
    const char *sigs[] = {"TERM", "INT"};
    for (int k = 0; k < 2; k++) {
        int rc = signal_after_a_chunk(dir, job, sigs[k], "$p", out, sizeof out);
        cr_expect(rc == 1 || rc == 130, "SIG%s: exit %d; output: %s", sigs[k], rc, out);
        expect_stopped_then_resumed(dir, out);
    }
    testkit_remove_dir(dir);
}

/* A rank signalled itself (not through mpirun), or bragg-mpi alone: the same, and the exit
 * status is 130, the ranks' own, which mpirun passes on. */
Test(mpi, signalled_ranks_keep_the_chunks_done_and_exit_130)
{
    const char *mpi = mpi_bin();
    char dir[256], job[2048], pre[128], out[16384];
    testkit_temp_dir(dir, sizeof dir, "mpi");
    mpirun_prefix(pre, sizeof pre);
    csv_one_process(dir);
    snprintf(job, sizeof job, "%s %s %s --checkpoint ck --csv part.csv --json part.json", pre,
             mpi, RUN_ARGS);
    int rc = signal_after_a_chunk(dir, job, "TERM", "$(ps -o pid= --ppid $p)", out, sizeof out);
    cr_expect(rc == 130, "exit %d, want 130; output: %s", rc, out);
    expect_stopped_then_resumed(dir, out);
    mpi_alone(pre, sizeof pre);
    snprintf(job, sizeof job, "%s %s --checkpoint ck --csv part.csv --json part.json", pre,
             RUN_ARGS);
    rc = signal_after_a_chunk(dir, job, "HUP", "$p", out, sizeof out);
    cr_expect(rc == 130, "exit %d, want 130; output: %s", rc, out);
    expect_stopped_then_resumed(dir, out);
    testkit_remove_dir(dir);
}

/* A command refused for its options or outputs, or when its engine is set up, has not begun:
 * its --checkpoint folder is not created (nor its lock), as no output is. */
Test(mpi, a_refused_command_creates_no_checkpoint_folder)
{
    const char *mpi = mpi_bin();
    char dir[256], cmd[2048], pre[128], out[16384];
    testkit_temp_dir(dir, sizeof dir, "mpi");
    mpirun_prefix(pre, sizeof pre);
    const char *refused[] = {
        "run --ion p --energy 150 --material water -n 3",             /* fewer than 20 batches */
        "run --ion p --energy abc --material water",                  /* not a number */
        "run --ion p --energy 150 --material water --backend nope",   /* no such backend */
        "run --ion p --energy 150 --material water --csv nofolder/x.csv",
        "sobp --ion p --material water --from 10 --to 5",
    };
    for (size_t k = 0; k < sizeof refused / sizeof refused[0]; k++) {
        snprintf(cmd, sizeof cmd, "cd %s && %s %s %s --checkpoint ck", dir, pre, mpi, refused[k]);
        int rc = testkit_shell(cmd, out, sizeof out);
        cr_expect(rc == 2, "%s: exit %d, want 2; output: %s", refused[k], rc, out);
        snprintf(cmd, sizeof cmd, "test ! -e %s/ck", dir);
        cr_expect(testkit_shell(cmd, out, sizeof out) == 0, "%s created the folder", refused[k]);
    }
    testkit_remove_dir(dir);
}

/* An output that names one of the checkpoint's own files (however spelled: a symbolic link to
 * it counts) would destroy it: refused before anything is run, and the file stays as it was. */
Test(mpi, an_output_cannot_replace_a_checkpoint_file)
{
    char mpi[512];   /* bragg-mpi alone */
    mpi_alone(mpi, sizeof mpi);
    char dir[256], cmd[2048], out[16384];
    testkit_temp_dir(dir, sizeof dir, "mpi");
    snprintf(cmd, sizeof cmd, "cd %s && %s %s --checkpoint ck && cp ck/run-000.ckpt saved && "
             "ln -s ck/run-000.ckpt link", dir, mpi, RUN_ARGS);
    cr_assert(testkit_shell(cmd, out, sizeof out) == 0, "%s", out);
    const char *outputs[] = {"--csv ck/run-000.ckpt", "--json ./ck/../ck/lock", "--csv link",
                             "--json ck/run-001.ckpt", "--csv ck/run-000.ckpt.tmp.1"};
    for (size_t k = 0; k < sizeof outputs / sizeof outputs[0]; k++) {
        snprintf(cmd, sizeof cmd, "cd %s && %s %s --checkpoint ck %s", dir, mpi, RUN_ARGS,
                 outputs[k]);
        int rc = testkit_shell(cmd, out, sizeof out);
        cr_expect(rc == 2, "%s: exit %d, want 2; output: %s", outputs[k], rc, out);
        cr_expect(strstr(out, "which the --checkpoint folder 'ck' keeps"), "%s", out);
    }
    snprintf(cmd, sizeof cmd, "cd %s && %s %s --checkpoint ck --json ck/run-002.ckpt", dir, mpi,
             SOBP_ARGS);
    int rc = testkit_shell(cmd, out, sizeof out);
    cr_expect(rc == 2, "sobp: exit %d, want 2; output: %s", rc, out);
    snprintf(cmd, sizeof cmd, "cd %s && cmp saved ck/run-000.ckpt && test -f ck/lock && "
             "test ! -e ck/run-001.ckpt", dir);
    cr_expect(testkit_shell(cmd, out, sizeof out) == 0, "a checkpoint file changed: %s", out);
    testkit_remove_dir(dir);
}

/* FNV-1a, 64 bits: the checksum of a checkpoint (src/mpi/checkpoint.c), to forge one. */
static uint64_t fnv1a64(const unsigned char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}

/* A checkpoint of another format, whole (its checksum right), and a folder where the state
 * file should be: each refused in one line that says what it is. And -q silences the line
 * that says a run resumes. */
Test(mpi, unusable_checkpoints_are_named_in_one_line_and_q_is_quiet)
{
    char mpi[512];   /* bragg-mpi alone */
    mpi_alone(mpi, sizeof mpi);
    char dir[256], cmd[4096], out[16384], path[1100];
    testkit_temp_dir(dir, sizeof dir, "mpi");
    snprintf(cmd, sizeof cmd, "cd %s && %s %s --checkpoint ck && %s %s --checkpoint ck", dir,
             mpi, RUN_ARGS, mpi, RUN_ARGS);
    cr_assert(testkit_shell(cmd, out, sizeof out) == 0, "%s", out);
    cr_expect(!strstr(out, "resuming"), "-q: %s", out);
    snprintf(cmd, sizeof cmd, "cd %s && %s %s --checkpoint ck", dir, mpi, RUN_SETUP);
    cr_assert(testkit_shell(cmd, out, sizeof out) == 0, "%s", out);
    cr_expect(strstr(out, "resuming ck/run-000.ckpt: 10 of 10 chunks"), "%s", out);

    /* "bragg-checkpoint 2", checksum and all. */
    snprintf(path, sizeof path, "%s/ck/run-000.ckpt", dir);
    size_t n;
    unsigned char *data = (unsigned char *)testkit_read_bytes(path, &n);
    cr_assert(data && n > 40 && memcmp(data, "bragg-checkpoint 1\n", 19) == 0);
    data[17] = '2';
    const size_t tail = strlen("checksum 0123456789abcdef\n");
    char sum[32];
    snprintf(sum, sizeof sum, "checksum %016llx\n",
             (unsigned long long)fnv1a64(data, n - tail));
    memcpy(data + n - tail, sum, tail);
    FILE *f = fopen(path, "wb");
    cr_assert(f && fwrite(data, 1, n, f) == n && fclose(f) == 0);
    free(data);
    snprintf(cmd, sizeof cmd, "cd %s && %s %s --checkpoint ck", dir, mpi, RUN_ARGS);
    int rc = testkit_shell(cmd, out, sizeof out);
    cr_expect(rc == 2, "exit %d, want 2; output: %s", rc, out);
    cr_expect(strcmp(out, "bragg-mpi: --checkpoint: ck/run-000.ckpt: not a bragg checkpoint of "
                          "format 1 (its first line: 'bragg-checkpoint 2'; valid: remove it, or "
                          "use another --checkpoint folder)\n") == 0,
              "%s", out);

    snprintf(cmd, sizeof cmd, "cd %s && rm ck/run-000.ckpt && mkdir ck/run-000.ckpt && %s %s "
             "--checkpoint ck", dir, mpi, RUN_ARGS);
    rc = testkit_shell(cmd, out, sizeof out);
    cr_expect(rc == 2, "exit %d, want 2; output: %s", rc, out);
    cr_expect(strcmp(out, "bragg-mpi: --checkpoint: ck/run-000.ckpt: it is a folder, not a "
                          "checkpoint file (valid: remove it, or use another --checkpoint "
                          "folder)\n") == 0,
              "%s", out);
    testkit_remove_dir(dir);
}

/* Two jobs never share a folder: while one holds it (here bragg-mpi alone, kept running by the
 * hook that transports its second chunk until a stop), a second is refused before it starts,
 * in one line naming the folder, and writes nothing; the first, stopped, keeps its chunks. */
Test(mpi, a_checkpoint_folder_in_use_is_refused)
{
    char mpi[512];   /* bragg-mpi alone */
    mpi_alone(mpi, sizeof mpi);
    char dir[256], cmd[4096], out[16384];
    testkit_temp_dir(dir, sizeof dir, "mpi");
    snprintf(cmd, sizeof cmd,
             "cd %s && { BRAGG_TEST_MPI_FAULT=hold %s %s --checkpoint ck >log 2>&1 & p=$!; i=0; "
             "until [ -f ck/run-000.ckpt ] || [ $i -ge 1200 ]; do sleep 0.1; i=$((i + 1)); done; "
             "%s %s --checkpoint ck --json second.json --csv second.csv; echo \"second: $?\"; "
             "kill -INT $p; wait $p; echo \"first: $?\"; cat log; }",
             dir, mpi, RUN_ARGS, mpi, RUN_ARGS);
    cr_assert(testkit_shell(cmd, out, sizeof out) == 0, "%s", out);
    cr_expect(strstr(out, "bragg-mpi: --checkpoint: folder ck is in use by another run (it holds "
                          "ck/lock)\nsecond: 2\n"),
              "%s", out);
    cr_expect(occurrences(out, "bragg-mpi:") == 2 && strstr(out, "first: 130\n") &&
                  strstr(out, "bragg-mpi: interrupted after "),
              "%s", out);
    snprintf(cmd, sizeof cmd, "cd %s && test ! -e second.json && test ! -e second.csv", dir);
    cr_expect(testkit_shell(cmd, out, sizeof out) == 0, "the refused job wrote an output");
    testkit_remove_dir(dir);
}

/* One run typed two ways is one run: a resume with another alias of the ion (--ion proton for
 * p), the material's name in other case or as Geant4 spells it, or the automatic depth bin (0.1
 * mm here) given, takes the checkpoint whole. They were refused as different runs ("ion is p
 * there, proton here"). */
Test(mpi, a_run_typed_otherwise_resumes_its_checkpoint)
{
    char mpi[512];   /* bragg-mpi alone */
    mpi_alone(mpi, sizeof mpi);
    char dir[256], cmd[4096], out[16384];
    testkit_temp_dir(dir, sizeof dir, "mpi");
    const char *setup = "run --energy 100 -n 4000 --seed 3 --threads 1";
    snprintf(cmd, sizeof cmd, "cd %s && %s %s --ion p --material water -q --checkpoint ck "
             "--json first.json", dir, mpi, setup);
    cr_assert(testkit_shell(cmd, out, sizeof out) == 0, "%s", out);
    const char *spellings[] = {"--ion proton --material Water", "--ion H-1 --material G4_WATER",
                               "--ion p --material water --bin 0.1"};
    for (int k = 0; k < 3; k++) {
        snprintf(cmd, sizeof cmd, "cd %s && %s %s %s --checkpoint ck --json again.json", dir,
                 mpi, setup, spellings[k]);
        int rc = testkit_shell(cmd, out, sizeof out);
        cr_expect(rc == 0, "%s: exit %d: %s", spellings[k], rc, out);
        long long of = 0, n = resumed_chunks(out, &of);
        cr_expect(n == 20 && of == 20, "%s: resumed %lld of %lld chunks: %s", spellings[k], n, of,
                  out);
        expect_same_run(dir, "first.json", "again.json");
    }
    /* A value that differs is named by its option, in that option's unit, as typed. */
    snprintf(cmd, sizeof cmd, "cd %s && %s %s --ion p --material water --spot 1 --checkpoint ck",
             dir, mpi, setup);
    int rc = testkit_shell(cmd, out, sizeof out);
    cr_expect(rc == 2, "exit %d, want 2: %s", rc, out);
    cr_expect(strstr(out, "(--spot is 0 there, 1 here)"), "%s", out);
    testkit_remove_dir(dir);
}

/* A checkpoint that cannot be written while the run goes (here its state file became a folder)
 * is warned about once, not again at the end; the run goes on and ends well. 600 000
 * histories (3.6 s on 2 ranks of a quiet 2-core machine): with 200 000 the run could end, on a
 * loaded machine, before the polling shell had turned the state file into a folder, and no
 * write failed. */
Test(mpi, a_failed_checkpoint_write_is_warned_once)
{
    const char *mpi = mpi_bin();
    char dir[256], cmd[4096], pre[128], out[16384];
    testkit_temp_dir(dir, sizeof dir, "mpi");
    mpirun_prefix(pre, sizeof pre);
    snprintf(cmd, sizeof cmd,
             "cd %s && { BRAGG_CHECKPOINT_SECONDS=0 %s %s run --ion C-12 --energy 200 "
             "--material water -n 600000 --threads 1 -q --checkpoint ck >log 2>&1 & p=$!; i=0; "
             "until grep -aqs '^chunks_done [1-9]' ck/run-000.ckpt || [ $i -ge 1200 ]; "
             "do sleep 0.1; i=$((i + 1)); done; rm ck/run-000.ckpt; mkdir ck/run-000.ckpt; "
             "wait $p; rc=$?; cat log; exit $rc; }",
             dir, pre, mpi);
    int rc = testkit_shell(cmd, out, sizeof out);
    cr_expect(rc == 0, "exit %d; output: %s", rc, out);
    cr_expect(occurrences(out, "warning") == 1 && strstr(out, "it is a folder"), "%s", out);
    testkit_remove_dir(dir);
}

/* An SOBP stopped (SIGINT to its 2 ranks) in its second driven run, the first pristine peak
 * (the hook keeps that run's second chunk in flight on the last rank), writes nothing, as
 * `bragg sobp` does, and keeps the pilot whole and the chunk handed in; resumed on one rank, it
 * ends with the one-process SOBP, its CSV byte for byte. */
Test(mpi, an_sobp_stopped_resumes_on_another_rank_count)
{
    const char *mpi = mpi_bin();
    char dir[256], cmd[4096], pre[128], out[16384];
    testkit_temp_dir(dir, sizeof dir, "mpi");
    mpirun_prefix(pre, sizeof pre);
    snprintf(cmd, sizeof cmd, "%s %s --json %s/one.json --csv %s/one.csv", testkit_bragg(),
             SOBP_ARGS, dir, dir);
    cr_assert(testkit_shell(cmd, out, sizeof out) == 0, "%s", out);
    snprintf(cmd, sizeof cmd,
             "cd %s && { BRAGG_TEST_MPI_FAULT=hold BRAGG_TEST_MPI_FAULT_RUN=1 "
             "BRAGG_CHECKPOINT_SECONDS=0 %s %s %s --checkpoint ck --json two.json --csv two.csv "
             ">log 2>&1 & p=$!; i=0; "
             "until grep -aqs '^chunks_done [1-9]' ck/run-001.ckpt || [ $i -ge 1200 ]; "
             "do sleep 0.1; i=$((i + 1)); done; kill -INT $(ps -o pid= --ppid $p); wait $p; "
             "rc=$?; cat log; exit $rc; }",
             dir, pre, mpi, SOBP_ARGS);
    int rc = testkit_shell(cmd, out, sizeof out);
    cr_expect(rc == 130, "exit %d, want 130: %s", rc, out);
    cr_expect(strstr(out, "bragg-mpi: interrupted; nothing written"), "%s", out);
    snprintf(cmd, sizeof cmd, "cd %s && test ! -e two.json && test ! -e two.csv", dir);
    cr_expect(testkit_shell(cmd, out, sizeof out) == 0, "a stopped SOBP wrote an output");

    char alone[512];
    mpi_alone(alone, sizeof alone);
    snprintf(cmd, sizeof cmd, "cd %s && %s %s --checkpoint ck --json two.json --csv two.csv", dir,
             alone, SOBP_SETUP);
    rc = testkit_shell(cmd, out, sizeof out);
    cr_assert(rc == 0, "exit %d: %s", rc, out);
    cr_expect(strstr(out, "resuming ck/run-000.ckpt: 20 of 20 chunks") &&
                  strstr(out, "resuming ck/run-001.ckpt: 1 of 20 chunks"),
              "%s", out);
    expect_same_sobp(dir);
    snprintf(cmd, sizeof cmd, "cmp %s/one.csv %s/two.csv", dir, dir);
    cr_expect(testkit_shell(cmd, out, sizeof out) == 0, "the CSVs differ: %s", out);
    testkit_remove_dir(dir);
}

Test(mpi, an_sobp_checkpoint_keeps_every_pristine_run)
{
    const char *mpi = mpi_bin();
    char dir[256], cmd[2048], pre[128], out[16384];
    testkit_temp_dir(dir, sizeof dir, "mpi");
    mpirun_prefix(pre, sizeof pre);
    sobp_one_process(dir);
    /* The first run records every pristine run; the second finds them all done. */
    for (int pass = 0; pass < 2; pass++) {
        snprintf(cmd, sizeof cmd, "%s %s %s --checkpoint %s/ckpt --json %s/two.json", pre, mpi,
                 SOBP_SETUP, dir, dir);
        cr_assert(testkit_shell(cmd, out, sizeof out) == 0, "%s", out);
        if (pass == 1) {
            /* The pilot is run-000, the pristine peaks follow. */
            cr_expect(strstr(out, "run-000.ckpt: 20 of 20 chunks") &&
                          strstr(out, "run-001.ckpt: 20 of 20 chunks"),
                      "%s", out);
        }
        expect_same_sobp(dir);
    }
    /* Another --from changes the peaks' energies, not the pilot's: it is refused at the
     * pilot's file, naming --from (it was refused at run-002, for an energy). The same
     * options typed otherwise (the default --spacing given) are the same SOBP. */
    snprintf(cmd, sizeof cmd, "%s %s %s --from 10.5 --checkpoint %s/ckpt", pre, mpi,
             "sobp --ion C-12 --material water --to 11 -n 1000 --threads 1 -q", dir);
    int rc = testkit_shell(cmd, out, sizeof out);
    cr_expect(rc == 2, "exit %d, want 2: %s", rc, out);
    cr_expect(strstr(out, "run-000.ckpt: was written by a different run (--from is 10 there, 10.5 "
                          "here)"),
              "%s", out);
    snprintf(cmd, sizeof cmd, "%s %s %s --spacing=1.50 --checkpoint %s/ckpt --json %s/two.json",
             pre, mpi, SOBP_SETUP, dir, dir);
    cr_assert(testkit_shell(cmd, out, sizeof out) == 0, "%s", out);
    cr_expect(occurrences(out, " of 20 chunks") == occurrences(out, ": 20 of 20 chunks") &&
                  occurrences(out, ": 20 of 20 chunks") > 2,
              "%s", out);
    expect_same_sobp(dir);
    testkit_remove_dir(dir);
}
