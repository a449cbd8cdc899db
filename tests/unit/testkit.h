/*
 * testkit.h - what the test files share: running the bragg binaries and reading what they
 * write, temporary folders, and running the engine to the end.
 *
 * Test code only (Criterion): failures abort the calling test with cr_assert. Strings and
 * cJSON trees returned belong to the caller; one test at a time (make test runs --jobs 1).
 */
#ifndef BRAGG_TESTKIT_H
#define BRAGG_TESTKIT_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "engine.h"

/* The bragg binary under test (BRAGG_BIN, set by make test). */
const char *testkit_bragg(void);

/* How much slower than usual the binary under test runs: $BRAGG_TEST_TIME_SCALE (make tsan
 * sets it; ThreadSanitizer makes a run 5-15 times slower), else 1. Tests multiply their
 * waits and time limits by it. */
double testkit_time_scale(void);

/* Runs `cmd` through the shell with stderr joined to stdout, captured into out (truncated to
 * len - 1 bytes). Returns the exit status, or -1 when the command did not exit normally. */
int testkit_shell(const char *cmd, char *out, size_t len);

/* testkit_shell of `bragg ARGS`. */
int testkit_cli(const char *args, char *out, size_t len);

/* The whole of a file as a string (the caller frees it). */
char *testkit_read_text(const char *path);
/* The same for a file that may hold NUL bytes (a PDF, a PNG): *len receives its length. */
char *testkit_read_bytes(const char *path, size_t *len);

/* Parses a JSON file; the caller frees it with cJSON_Delete. */
cJSON *testkit_read_json(const char *path);

/* Creates a fresh folder bragg-TAG-XXXXXX under $TMPDIR (or /tmp) into dir (len >= 64). */
void testkit_temp_dir(char *dir, size_t len, const char *tag);
void testkit_remove_dir(const char *dir);

/* 1 when the cuda backend can run here; else 0 and, in `reason`, why (no device, no nvcc). */
int testkit_cuda_available(char *reason, size_t len);

/* The default configuration for `ion` at `energy` MeV/u, n histories, on two threads. */
run_config testkit_config(const char *ion, double energy, uint64_t n);

/* Runs c to the end and returns its snapshot (run_snapshot_free). With keep, the engine stays
 * alive for the caller (engine_destroy); without, it is destroyed. */
run_snapshot testkit_run(const run_config *c, engine **keep);

/* The profile's promises between a run and the same run profiled on a CPU backend: the same
 * dose bit for bit; a share above 0 for each component every step runs (stopping power,
 * range/energy, scattering, scoring, RNG); one history in 32 timed. */
void testkit_expect_profile_changes_nothing(const run_snapshot *plain,
                                            const run_snapshot *profiled);

#endif
