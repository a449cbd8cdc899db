/*
 * test_mpi.c - bragg-mpi under mpirun: two ranks give the single-process result bit for bit
 * (dose, errors, derived figures, ledger), a rank that loses work or dies fails the run
 * instead of returning a wrong answer, and an SOBP under MPI equals the one-process SOBP.
 *
 * Runs $BRAGG_MPI_BIN (set by the Makefile when built with MPI) against $BRAGG_BIN; skipped
 * when bragg was built without MPI.
 */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
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
static void mpirun_prefix(char *out, size_t len)
{
    snprintf(out, len, "env ASAN_OPTIONS=detect_leaks=0 mpirun -np 2 --oversubscribe%s",
             geteuid() == 0 ? " --allow-run-as-root" : "");
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

static const char *RUN_ARGS =
    "run --ion C-12 --energy 200 --material water -n 6000 --seed 11 --threads 1 --batches 10 -q";

TestSuite(mpi, .timeout = 240);

Test(mpi, two_ranks_give_the_single_process_dose_bit_for_bit)
{
    const char *mpi = mpi_bin();
    char dir[256], cmd[2048], pre[128], out[16384];
    testkit_temp_dir(dir, sizeof dir, "mpi");
    mpirun_prefix(pre, sizeof pre);
    snprintf(cmd, sizeof cmd, "%s %s --json %s/one.json", testkit_bragg(), RUN_ARGS, dir);
    cr_assert(testkit_shell(cmd, out, sizeof out) == 0, "%s", out);
    /* Chunks of 233 histories: they cut batches of 600 unevenly, so the ranks finish parts of
     * the same batch in any order. */
    snprintf(cmd, sizeof cmd, "BRAGG_MPI_CHUNK=233 %s %s %s --json %s/two.json", pre, mpi, RUN_ARGS,
             dir);
    cr_assert(testkit_shell(cmd, out, sizeof out) == 0, "%s", out);
    char path[1100];
    snprintf(path, sizeof path, "%s/one.json", dir);
    cJSON *one = testkit_read_json(path);
    snprintf(path, sizeof path, "%s/two.json", dir);
    cJSON *two = testkit_read_json(path);
    const char *parts[] = {"results", "depth_curves", "energy_ledger_MeV_per_primary", "nuclear"};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        expect_same(cJSON_GetObjectItem(one, parts[i]), cJSON_GetObjectItem(two, parts[i]), parts[i]);
    cJSON *run = cJSON_GetObjectItem(two, "run");
    cr_expect(cJSON_GetObjectItem(run, "histories")->valuedouble == 6000);
    cr_expect(cJSON_IsFalse(cJSON_GetObjectItem(two, "partial")));
    cJSON_Delete(one);
    cJSON_Delete(two);
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

Test(mpi, sobp_under_mpi_equals_one_process)
{
    const char *mpi = mpi_bin();
    char dir[256], cmd[2048], pre[128], out[16384];
    testkit_temp_dir(dir, sizeof dir, "mpi");
    mpirun_prefix(pre, sizeof pre);
    const char *args = "sobp --ion C-12 --material water --from 10 --to 11 -n 1000 --threads 1 -q";
    snprintf(cmd, sizeof cmd, "%s %s --json %s/one.json", testkit_bragg(), args, dir);
    cr_assert(testkit_shell(cmd, out, sizeof out) == 0, "%s", out);
    snprintf(cmd, sizeof cmd, "%s %s %s --json %s/two.json", pre, mpi, args, dir);
    cr_assert(testkit_shell(cmd, out, sizeof out) == 0, "%s", out);
    char path[1100];
    snprintf(path, sizeof path, "%s/one.json", dir);
    cJSON *one = testkit_read_json(path);
    snprintf(path, sizeof path, "%s/two.json", dir);
    cJSON *two = testkit_read_json(path);
    const char *parts[] = {"peaks", "flatness", "dose_Gy_cm2", "dose_err_Gy_cm2"};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        expect_same(cJSON_GetObjectItem(one, parts[i]), cJSON_GetObjectItem(two, parts[i]), parts[i]);
    cJSON_Delete(one);
    cJSON_Delete(two);
    testkit_remove_dir(dir);
}
