/* testkit.c - see testkit.h. */
#include "testkit.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend.h"

const char *testkit_bragg(void)
{
    const char *b = getenv("BRAGG_BIN");
    cr_assert(b && *b, "BRAGG_BIN is not set (run through make test)");
    return b;
}

double testkit_time_scale(void)
{
    const char *v = getenv("BRAGG_TEST_TIME_SCALE");
    double f = v ? atof(v) : 1.0;
    return f >= 1.0 ? f : 1.0;
}

int testkit_shell(const char *cmd, char *out, size_t len)
{
    size_t need = strlen(cmd) + 8;
    char *full = malloc(need);
    cr_assert(full);
    snprintf(full, need, "%s 2>&1", cmd);
    FILE *p = popen(full, "r");
    free(full);
    cr_assert(p);
    size_t n = fread(out, 1, len - 1, p);
    out[n] = '\0';
    /* Drain what did not fit, so the command never blocks on a full pipe. */
    char sink[4096];
    while (fread(sink, 1, sizeof sink, p) > 0) {
    }
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int testkit_cli(const char *args, char *out, size_t len)
{
    size_t need = strlen(testkit_bragg()) + strlen(args) + 2;
    char *cmd = malloc(need);
    cr_assert(cmd);
    snprintf(cmd, need, "%s %s", testkit_bragg(), args);
    int rc = testkit_shell(cmd, out, len);
    free(cmd);
    return rc;
}

char *testkit_read_text(const char *path)
{
    return testkit_read_bytes(path, NULL);
}

char *testkit_read_bytes(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert(f, "%s was not written", path);
    cr_assert(fseek(f, 0, SEEK_END) == 0);
    long size = ftell(f);
    cr_assert(size >= 0);
    rewind(f);
    char *text = malloc((size_t)size + 1);
    cr_assert(text);
    size_t n = fread(text, 1, (size_t)size, f);
    text[n] = '\0';
    fclose(f);
    if (len) *len = n;
    return text;
}

cJSON *testkit_read_json(const char *path)
{
    char *text = testkit_read_text(path);
    cJSON *root = cJSON_Parse(text);
    free(text);
    cr_assert(root, "%s does not parse", path);
    return root;
}

void testkit_temp_dir(char *dir, size_t len, const char *tag)
{
    const char *base = getenv("TMPDIR");
    if (!base || !*base) base = "/tmp";
    snprintf(dir, len, "%s/bragg-%s-XXXXXX", base, tag);
    cr_assert(mkdtemp(dir), "cannot create a folder like %s", dir);
}

void testkit_remove_dir(const char *dir)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert(system(cmd) == 0);
}

run_config testkit_config(const char *ion, double energy, uint64_t n)
{
    run_config c;
    config_default(&c);
    snprintf(c.ion, sizeof c.ion, "%s", ion);
    c.energy = energy;
    c.histories = n;
    c.threads = 2;
    return c;
}

run_snapshot testkit_run(const run_config *c, engine **keep)
{
    engine *en;
    bragg_err e;
    cr_assert(engine_create(&en, c, &e) == BRAGG_OK, "%s", e.msg);
    cr_assert(engine_start(en, &e) == BRAGG_OK, "%s", e.msg);
    while (!engine_wait(en, 1.0)) {
    }
    run_snapshot s;
    cr_assert(engine_snapshot(en, &s, &e) == BRAGG_OK, "%s", e.msg);
    cr_assert(s.state == RUN_DONE, "state %s: %s", run_state_name(s.state), s.error);
    if (keep) *keep = en;
    else engine_destroy(en);
    return s;
}

void testkit_expect_profile_changes_nothing(const run_snapshot *plain,
                                            const run_snapshot *profiled)
{
    cr_expect(!plain->profile_on && profiled->profile_on);
    cr_expect(plain->result.nbins == profiled->result.nbins &&
                  memcmp(plain->result.edep, profiled->result.edep,
                         (size_t)plain->result.nbins * sizeof(double)) == 0,
              "profiling changed the dose");
    /* Shares are clamped at 0 and divided by their sum, so ">= 0" and "sum to 1" could not
     * fail. What can: a component every step runs that is charged nothing (never marked, or
     * the timer's own cost subtracted past it), and a sampling other than one in 32. */
    static const int every_step[] = {PROFILE_STOPPING, PROFILE_RANGE, PROFILE_SCATTERING,
                                     PROFILE_SCORING, PROFILE_RNG};
    for (size_t i = 0; i < sizeof every_step / sizeof every_step[0]; i++)
        cr_expect(profiled->profile_share[every_step[i]] > 0.0, "%s: share %g",
                  profile_component_names[every_step[i]],
                  profiled->profile_share[every_step[i]]);
    uint64_t n = profiled->result.histories;
    cr_expect(profiled->profile_timed_histories == (n + 31) / 32,
              "%llu of %llu histories timed, not one in 32",
              (unsigned long long)profiled->profile_timed_histories, (unsigned long long)n);
}

int testkit_cuda_available(char *reason, size_t len)
{
    bragg_err e;
    backend *b = backend_new("cuda", &e);
    cr_assert(b, "%s", e.msg);
    reason[0] = '\0';
    int available = b->available(reason, len);
    b->release(b);
    free(b);
    return available;
}
