/*
 * test_cli.c - the bragg command as a user meets it: exit codes, one-line messages naming the
 * field, outputs that parse, atomic files, and Ctrl-C keeping partial results.
 *
 * Runs the binary named by $BRAGG_BIN (the Makefile sets it).
 */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <math.h>
#include <omp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "assets.h"
#include "run_file.h"
#include "settings.h"
#include "setup_panel.h"
#include "simd.h"
#include "refdata.h"
#include "testkit.h"

/* Bad input: exit 2 and one line (one '\n', at the end) that says `needle`. */
static void expect_bad(const char *args, const char *needle)
{
    char out[8192];
    int rc = testkit_cli(args, out, sizeof out);
    cr_expect(rc == 2, "'bragg %s' exited %d, want 2; output: %s", args, rc, out);
    cr_expect(strstr(out, needle) != NULL, "'bragg %s' said '%s', want it to mention '%s'", args,
              out, needle);
    size_t n = strlen(out);
    cr_expect(n > 0 && strchr(out, '\n') == out + n - 1, "'bragg %s' said more or less than one "
              "line: '%s'", args, out);
}

TestSuite(cli, .timeout = 120);

Test(cli, version_and_help)
{
    char out[8192];
    cr_expect(testkit_cli("--version", out, sizeof out) == 0);
    cr_expect(strncmp(out, "bragg ", 6) == 0, "%s", out);
    cr_expect(testkit_cli("--help", out, sizeof out) == 0);
    cr_expect(strstr(out, "bragg tables") && strstr(out, "bragg run"), "%s", out);
    cr_expect(testkit_cli("run --help", out, sizeof out) == 0);
    cr_expect(strstr(out, "--no-straggling") && strstr(out, "exit status"), "%s", out);
    cr_expect(testkit_cli("frobnicate", out, sizeof out) == 2);
}

Test(cli, bad_input_names_the_field)
{
    expect_bad("tables --ion X-99 --material water", "ion: 'X-99' is not known; valid: p, d");
    expect_bad("tables --ion p --material cheese", "material: 'cheese' is not known");
    expect_bad("tables --ion p --material water --emin 0", "--emin: 0 is out of range");
    expect_bad("tables --ion p --material water --emax 5000", "--emax: 5000 is out of range");
    expect_bad("tables --ion p --material water --emin nan", "--emin: 'nan' is not a decimal number");
    /* No --emax given: the message names the default, not an --emax the user never typed. */
    expect_bad("tables --ion p --material water --emin 600",
               "--emin: 600 is above the default --emax 500 (valid: 0.001 to 500, or give --emax "
               "up to 2000)");
    expect_bad("tables --ion p --material water --emin 600 --emax 500",
               "--emax: 500 is below --emin 600 (valid: 600 to 2000)");
    expect_bad("tables --ion p --material water --iwater 80", "--iwater");
    expect_bad("run --ion p --energy 150 --material water -n 0", "--histories: '0' is out of range");
    expect_bad("run --ion p --energy 150 --material water -n -5", "--histories");
    expect_bad("run --ion p --energy 3000 --material water", "--energy: 3000 is out of range");
    expect_bad("run --ion p --energy 150 --slab water:0", "slab thickness (cm): 0 is out of range");
    expect_bad("run --ion p --energy 150 --slab water:inf --slab bone:2", "semi-infinite");
    expect_bad("run --ion p --energy 150 --material water --backend gpu", "backend: 'gpu'");
#ifndef BRAGG_CUDA
    expect_bad("run --ion p --energy 150 --material water --backend cuda", "built without CUDA");
#endif
    expect_bad("run --ion p --energy 150 --material water --csv /nonexistent/dir/x.csv",
               "--csv: cannot write '/nonexistent/dir/x.csv': folder '/nonexistent/dir' does not exist");
    expect_bad("run --energy 150 --material water", "--ion: missing");
    expect_bad("run --ion p --material water", "--energy: missing");
    expect_bad("run --ion p --energy 150 --material water --threads -1", "--threads");
}

/* A materials file with a malformed row stops with file, line and field. */
Test(cli, malformed_materials_row)
{
    char dir[256];
    testkit_temp_dir(dir, sizeof dir, "assets");
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "cp %s/*.tsv %s/ && printf 'broken\\t-\\t1.0\\tabc\\tH:1\\t-\\tx\\n' >> %s/materials.tsv",
             BRAGG_ASSET_DIR, dir, dir);
    cr_assert(system(cmd) == 0);
    char args[1024], out[8192];
    snprintf(args, sizeof args, "tables --ion p --material water");
    char env_cmd[2048];
    snprintf(env_cmd, sizeof env_cmd, "BRAGG_ASSETS=%s %s %s", dir, testkit_bragg(), args);
    int rc = testkit_shell(env_cmd, out, sizeof out);
    cr_expect(rc == 2, "exit %d", rc);
    cr_expect(strstr(out, "materials.tsv line") && strstr(out, "I_eV: 'abc' is not a decimal number"),
              "%s", out);
    testkit_remove_dir(dir);
}

/* The table's energy column is labelled as the run summary labels a beam: MeV for protons,
 * MeV/u (per nucleon) for heavier ions. */
Test(cli, tables_label_the_energy_unit)
{
    char out[16384];
    cr_assert(testkit_cli("tables --ion p --material water --points 2", out, sizeof out) == 0,
              "%s", out);
    cr_expect(strstr(out, "E [MeV] ") && !strstr(out, "MeV/u"), "%s", out);
    cr_assert(testkit_cli("tables --ion He-4 --material water --points 2", out, sizeof out) == 0,
              "%s", out);
    cr_expect(strstr(out, "E [MeV/u]"), "%s", out);
}

Test(cli, tables_csv_parses)
{
    char out[65536];
    cr_assert(testkit_cli("tables --ion C-12 --material water --emin 10 --emax 400 --points 5 --csv -",
                      out, sizeof out) == 0, "%s", out);
    char *line = strtok(out, "\n");
    cr_expect(strcmp(line, "energy_MeV_u,stopping_el_MeV_cm2_g,stopping_nuc_MeV_cm2_g,let_keV_um,"
                           "csda_range_g_cm2,csda_range_cm,reaction_xs_cm2_g,reaction_mfp_cm,"
                           "nonelastic_xs_cm2_g") == 0,
              "%s", line);
    int rows = 0;
    double prev_range = 0;
    while ((line = strtok(NULL, "\n"))) {
        double e, s, sn, let, r, rcm;
        cr_assert(sscanf(line, "%lf,%lf,%lf,%lf,%lf,%lf", &e, &s, &sn, &let, &r, &rcm) == 6, "%s", line);
        cr_expect(r > prev_range);
        cr_expect(fabs(let - 0.1 * s) < 1e-3 * let);   /* water: rho = 1 */
        prev_range = r;
        rows++;
    }
    cr_expect(rows == 5);
}

/* Where nothing reacts (Fe-56 of 1 keV/u in air: no cross-section) there is no mean free path:
 * the CSV cell is empty and the text says "-", as the run's outputs do for what does not exist;
 * both printed "inf". */
Test(cli, tables_leave_a_missing_mean_free_path_empty)
{
    char out[4096];
    cr_assert(testkit_cli("tables --ion Fe-56 --material air --emin 0.001 --points 1 --csv -", out,
                          sizeof out) == 0, "%s", out);
    const char *row = strchr(out, '\n');
    cr_assert(row, "%s", out);
    row++;
    /* The eighth cell, reaction_mfp_cm, after the seventh comma. */
    const char *cell = row;
    for (int k = 0; k < 7 && cell; k++) {
        cell = strchr(cell, ',');
        if (cell) cell++;
    }
    cr_assert(cell, "%s", row);
    cr_expect(cell[0] == ',', "the mean free path cell is not empty: %s", row);
    cr_expect(atof(row + strcspn(row, ",") + 1) > 0, "no stopping power: %s", row);
    cr_expect(!strstr(out, "inf"), "%s", out);
    cr_assert(testkit_cli("tables --ion Fe-56 --material air --emin 0.001 --points 1", out,
                          sizeof out) == 0, "%s", out);
    const char *last = strrchr(out, '#');
    cr_assert(last && strchr(last, '\n'), "%s", out);
    double v[7];
    char mfp[8];
    double nonel;
    cr_expect(sscanf(strchr(last, '\n') + 1, "%lf %lf %lf %lf %lf %lf %lf %7s %lf", &v[0], &v[1],
                     &v[2], &v[3], &v[4], &v[5], &v[6], mfp, &nonel) == 9 &&
                  strcmp(mfp, "-") == 0,
              "%s", out);
    cr_expect(!strstr(out, "inf"), "%s", out);
}

/* The tables' nuclear column is what the transport draws: for protons their elastic
 * scattering on hydrogen and on nuclei too (0.247 cm^2/g at 10 MeV in water, mostly elastic on
 * oxygen); the non-elastic column is the reactions alone. Water's non-elastic cross-section
 * is oxygen's (hydrogen has none): its mass fraction 0.888106 times N_A / 15.9994 g/mol times
 * Barashenkov's evaluation for p + O (tests/reference/proton_nonelastic.tsv: 293 mb at 100 MeV,
 * 279 at 150), within the 12% of nuclear::proton_cross_sections_vs_barashenkov. An ion's
 * columns are the same (all its nuclear events are reactions). */
Test(cli, tables_split_the_protons_nonelastic_reactions)
{
    const ref_table *ref = ref_load("proton_nonelastic.tsv");
    const double energies[] = {100, 150};
    for (int k = 0; k < 2; k++) {
        char args[256], out[4096];
        snprintf(args, sizeof args, "tables --ion p --material water --emin %g --emax %g "
                                    "--points 1 --csv -", energies[k], energies[k]);
        cr_assert(testkit_cli(args, out, sizeof out) == 0, "%s", out);
        double v[9];
        const char *row = strchr(out, '\n');
        cr_assert(row && sscanf(row + 1, "%lf,%lf,%lf,%lf,%lf,%lf,%lf,%lf,%lf", &v[0], &v[1], &v[2],
                                &v[3], &v[4], &v[5], &v[6], &v[7], &v[8]) == 9, "%s", out);
        double sigma_mb = NAN;
        for (int i = 0; i < ref->rows; i++)
            if (strcmp(ref->text[i][0], "O") == 0 && ref->v[i][1] == energies[k])
                sigma_mb = ref->v[i][2];
        double want = 0.888106 * 6.02214076e23 / 15.9994 * sigma_mb * 1e-27;
        cr_log_info("p %g MeV in water: nuclear %.5g, non-elastic %.5g cm2/g, Barashenkov %.5g",
                    energies[k], v[6], v[8], want);
        cr_expect(fabs(v[8] / want - 1.0) < 0.12, "p %g MeV: non-elastic %.5g cm2/g against %.5g",
                  energies[k], v[8], want);
        cr_expect(v[6] > v[8], "p %g MeV: the nuclear column %.5g holds the elastic scattering too",
                  energies[k], v[6]);
    }
    char out[4096];
    cr_assert(testkit_cli("tables --ion C-12 --material water --emin 200 --emax 200 --points 1 "
                          "--csv -", out, sizeof out) == 0, "%s", out);
    double v[9];
    const char *row = strchr(out, '\n');
    cr_assert(row && sscanf(row + 1, "%lf,%lf,%lf,%lf,%lf,%lf,%lf,%lf,%lf", &v[0], &v[1], &v[2],
                            &v[3], &v[4], &v[5], &v[6], &v[7], &v[8]) == 9, "%s", out);
    cr_expect(fabs(v[8] / v[6] - 1.0) < 1e-5, "C-12: non-elastic %.6g against %.6g", v[8], v[6]);
}

Test(cli, run_writes_csv_and_json)
{
    char dir[256];
    testkit_temp_dir(dir, sizeof dir, "run");
    char args[1024], out[16384];
    snprintf(args, sizeof args,
             "run --ion p --energy 100 --material water -n 2000 --seed 3 --csv %s/d.csv "
             "--json %s/s.json --quiet", dir, dir);
    cr_assert(testkit_cli(args, out, sizeof out) == 0, "%s", out);
    char path[1100];
    snprintf(path, sizeof path, "%s/s.json", dir);
    cJSON *root = testkit_read_json(path);
    cr_expect(cJSON_GetObjectItem(root, "schema_version")->valueint == 1);
    cr_expect(cJSON_IsFalse(cJSON_GetObjectItem(root, "partial")));
    cJSON *res = cJSON_GetObjectItem(root, "results");
    double r80 = cJSON_GetObjectItem(res, "r80_cm")->valuedouble;
    cr_expect(r80 > 7.6 && r80 < 7.75, "R80 %g cm for 100 MeV protons (PSTAR CSDA 7.718)", r80);
    cJSON *led = cJSON_GetObjectItem(root, "energy_ledger_MeV_per_primary");
    cr_expect(cJSON_GetObjectItem(led, "closure_rel")->valuedouble == 0.0);
    cJSON *run = cJSON_GetObjectItem(root, "run");
    cr_expect(cJSON_GetObjectItem(run, "histories")->valuedouble == 2000);
    cJSON_Delete(root);

    snprintf(path, sizeof path, "%s/d.csv", dir);
    FILE *f = fopen(path, "r");
    cr_assert(f);
    char header[512];
    cr_assert(fgets(header, sizeof header, f));
    cr_expect(strncmp(header, "depth_cm,dose_Gy_cm2,dose_err_Gy_cm2,edep_MeV_cm", 47) == 0, "%s",
              header);
    fclose(f);
    char cmd[1200], count[64];
    snprintf(cmd, sizeof cmd, "ls %s | grep -c tmp", dir);
    testkit_shell(cmd, count, sizeof count);
    cr_expect(atoi(count) == 0, "temporary files left behind");
    testkit_remove_dir(dir);
}

/* A write that fails at the end (/dev/full: a full disk) names its option, as a path refused
 * before the run does and as the figures did: bench and run said only "cannot write
 * '/dev/full'" for --json and --csv, which of several outputs failed left to a guess. */
Test(cli, a_failed_write_names_its_option)
{
    char out[1 << 16];
    static const char *const cmds[][2] = {
        {"bench --case p-150-water --quick -n 100 -t 1 --json /dev/full", "--json"},
        {"run -i p -e 70 -m water -n 200 -t 1 -q --csv /dev/full", "--csv"},
        {"run -i p -e 70 -m water -n 200 -t 1 -q --json /dev/full", "--json"},
    };
    for (size_t k = 0; k < sizeof cmds / sizeof cmds[0]; k++) {
        int rc = testkit_cli(cmds[k][0], out, sizeof out);
        char want[128];
        snprintf(want, sizeof want, ": %s: cannot write '/dev/full': No space left on device",
                 cmds[k][1]);
        cr_expect(rc == 1 && strstr(out, want), "%s: exit %d: %s", cmds[k][0], rc, out);
    }
}

/* With nuclear reactions the outputs carry the dose, fluence and forward crossings by charge,
 * LET_t and the nuclear figures; the channels add up to the total dose; --no-nuclear drops
 * them. */
Test(cli, run_reports_nuclear_channels)
{
    char dir[256];
    testkit_temp_dir(dir, sizeof dir, "nuc");
    char args[1024], out[16384], path[1100];
    snprintf(args, sizeof args,
             "run --ion C-12 --energy 200 --material water -n 1000 --csv %s/d.csv --json %s/s.json -q",
             dir, dir);
    cr_assert(testkit_cli(args, out, sizeof out) == 0, "%s", out);
    snprintf(path, sizeof path, "%s/s.json", dir);
    cJSON *root = testkit_read_json(path);
    cJSON *nuc = cJSON_GetObjectItem(root, "nuclear");
    cr_assert(nuc, "no nuclear block");
    double reacted = cJSON_GetObjectItem(nuc, "primaries_reacted_fraction")->valuedouble;
    double survived = cJSON_GetObjectItem(nuc, "primaries_surviving_fraction")->valuedouble;
    cr_expect(reacted > 0.2 && reacted < 0.8 && reacted + survived <= 1.0 + 1e-12,
              "reacted %g, survived %g", reacted, survived);
    cJSON *curves = cJSON_GetObjectItem(root, "depth_curves");
    cJSON *total = cJSON_GetObjectItem(curves, "dose_Gy_cm2");
    cJSON *by = cJSON_GetObjectItem(curves, "dose_by_charge_Gy_cm2");
    static const char *keys[] = {"primary", "1", "2", "3", "4", "5", "6", "target"};
    int n = cJSON_GetArraySize(total);
    cr_assert(cJSON_GetArraySize(by) == 8);
    double worst = 0;
    for (int i = 0; i < n; i++) {
        double sum = 0, t = cJSON_GetArrayItem(total, i)->valuedouble;
        for (int k = 0; k < 8; k++)
            sum += cJSON_GetArrayItem(cJSON_GetObjectItem(by, keys[k]), i)->valuedouble;
        if (t > 0 && fabs(sum / t - 1) > worst) worst = fabs(sum / t - 1);
    }
    cr_expect(worst < 1e-9, "channels differ from the total dose by %g", worst);
    cr_expect(cJSON_GetArraySize(cJSON_GetObjectItem(curves, "let_t_keV_um")) == n);
    cr_expect(cJSON_GetObjectItem(cJSON_GetObjectItem(curves, "forward_crossings_by_charge"), "2"));
    cJSON_Delete(root);

    snprintf(path, sizeof path, "%s/d.csv", dir);
    FILE *f = fopen(path, "r");
    cr_assert(f);
    char header[4096];
    cr_assert(fgets(header, sizeof header, f));
    fclose(f);
    cr_expect(strstr(header, ",let_t_keV_um,") && strstr(header, ",dose_primary_Gy_cm2,") &&
                  strstr(header, ",fluence_6,") && strstr(header, ",dose_target_Gy_cm2,"),
              "%s", header);

    snprintf(args, sizeof args,
             "run --ion C-12 --energy 200 --material water -n 100 --no-nuclear --json %s/n.json -q",
             dir);
    cr_assert(testkit_cli(args, out, sizeof out) == 0, "%s", out);
    snprintf(path, sizeof path, "%s/n.json", dir);
    root = testkit_read_json(path);
    cr_expect(cJSON_GetObjectItem(root, "nuclear") == NULL);
    cr_expect(cJSON_IsFalse(cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(root, "config"), "physics"), "nuclear_interactions")));
    cJSON_Delete(root);
    testkit_remove_dir(dir);
}

/* Ctrl-C stops the run, still writes the results marked partial, exit status 130. The signal
 * comes 1 s in, or 2 s or 4 s in when none of the run's histories had ended by then (on a loaded
 * machine under the sanitizers its tables alone took over a second to build). */
Test(cli, sigint_writes_partial_results)
{
    char dir[256];
    testkit_temp_dir(dir, sizeof dir, "int");
    char json[1100];
    snprintf(json, sizeof json, "%s/s.json", dir);
    double histories = 0;
    for (int attempt = 0; attempt < 3 && !(histories > 0); attempt++) {
        pid_t pid = fork();
        cr_assert(pid >= 0);
        if (pid == 0) {
            int devnull = open("/dev/null", 1);
            dup2(devnull, 1);
            dup2(devnull, 2);
            execl(testkit_bragg(), "bragg", "run", "--ion", "C-12", "--energy", "400",
                  "--material", "water", "-n", "100000000", "--json", json, (char *)NULL);
            _exit(127);
        }
        struct timespec ts = {1 << attempt, 0};
        nanosleep(&ts, NULL);
        kill(pid, SIGINT);
        int st;
        cr_assert(waitpid(pid, &st, 0) == pid);
        cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 130, "status %d", st);
        cJSON *root = testkit_read_json(json);
        cr_expect(cJSON_IsTrue(cJSON_GetObjectItem(root, "partial")));
        histories = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "run"), "histories")->valuedouble;
        cr_log_info("signal after %d s: %.0f histories kept", 1 << attempt, histories);
        cJSON_Delete(root);
    }
    cr_expect(histories > 0, "no histories kept with the signal 4 s in");
    testkit_remove_dir(dir);
}

/* Issue acceptance (benchmarks): `bragg bench --json` runs without a GPU, says why CUDA is
 * unavailable, records the machine (its cores and vector width), and reports every run with
 * throughput, steps, ns per step, efficiency, figure of merit and a profile of every backend;
 * rows are sized by time (issue 14: each lasts at least the accepted share, 0.6, of
 * --seconds). */
Test(cli, bench_json_reports_runs_machine_and_cuda_reason)
{
    static char out[1 << 20];
    char dir[256], path[300], args[512];
    testkit_temp_dir(dir, sizeof dir, "bench");
    snprintf(path, sizeof path, "%s/bench.json", dir);
    snprintf(args, sizeof args, "bench --case p-150-water --seconds 0.1 --scale 0.5 --quick --json %s",
             path);
    int rc = testkit_cli(args, out, sizeof out);
    cr_assert(rc == 0, "exit %d: %s", rc, out);
    cJSON *root = testkit_read_json(path);
    testkit_remove_dir(dir);
    cJSON *cuda = cJSON_GetObjectItem(root, "cuda");
    /* Here: no GPU, so CUDA is unavailable with a reason (which one depends on the build). */
    if (cJSON_IsFalse(cJSON_GetObjectItem(cuda, "available")))
        cr_expect(strstr(cJSON_GetObjectItem(cuda, "reason")->valuestring, "CUDA"));
    cJSON *machine = cJSON_GetObjectItem(root, "machine");
    cr_expect(cJSON_GetObjectItem(machine, "cores")->valuedouble >= 1);
    cr_expect(cJSON_IsString(cJSON_GetObjectItem(machine, "cpu")));
    /* Issue 14: the vector width the CPU has, and the path the simd backend takes. */
    cr_expect(strcmp(cJSON_GetObjectItem(machine, "simd")->valuestring, simd_cpu_name()) == 0);
    cr_expect(cJSON_GetObjectItem(machine, "simd_bits")->valuedouble == simd_cpu_bits());
    cr_expect(strcmp(cJSON_GetObjectItem(machine, "simd_path")->valuestring,
                     simd_path_name(simd_best())) == 0);
    cr_expect(cJSON_GetObjectItem(cJSON_GetObjectItem(root, "sizing"), "seconds_per_row")
                  ->valuedouble == 0.05);
    cJSON *runs = cJSON_GetObjectItem(root, "runs");
    /* serial, all-core OpenMP, the event loop and the simd backend on every core, and the GPU
     * where there is one, which then describes itself (model, kernels) in machine.gpu and its
     * row */
    int gpu = cJSON_IsTrue(cJSON_GetObjectItem(cuda, "available"));
    cr_assert(cJSON_GetArraySize(runs) == (gpu ? 5 : 4));
    cr_expect(strcmp(cJSON_GetObjectItem(cJSON_GetArrayItem(runs, 2), "backend")->valuestring,
                     "event") == 0);
    cr_expect(strcmp(cJSON_GetObjectItem(cJSON_GetArrayItem(runs, 3), "backend")->valuestring,
                     "simd") == 0);
    cr_expect(strcmp(cJSON_GetObjectItem(cJSON_GetArrayItem(runs, 3), "simd_path")->valuestring,
                     simd_path_name(simd_best())) == 0);
    cJSON *machine_gpu = cJSON_GetObjectItem(machine, "gpu");
    if (gpu) {
        cr_expect(cJSON_IsString(cJSON_GetObjectItem(machine_gpu, "name")));
        cr_expect(cJSON_GetObjectItem(machine_gpu, "sm_count")->valuedouble > 0);
        cJSON *kernels = cJSON_GetObjectItem(machine_gpu, "kernels"), *k;
        cr_expect(cJSON_GetArraySize(kernels) >= 3);
        cJSON_ArrayForEach(k, kernels) {
            cr_expect(cJSON_GetObjectItem(k, "registers")->valuedouble > 0);
            /* Issue acceptance (GPU loop): no kernel keeps more than 2 kB of stack a thread. */
            cr_expect(cJSON_GetObjectItem(k, "stack_bytes")->valuedouble <= 2048, "%s: %g bytes",
                      cJSON_GetObjectItem(k, "name")->valuestring,
                      cJSON_GetObjectItem(k, "stack_bytes")->valuedouble);
        }
        cr_expect(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(runs, 4), "parallel_efficiency")));
    } else {
        cr_expect(cJSON_IsNull(machine_gpu));
    }
    cJSON *r;
    cJSON_ArrayForEach(r, runs) {
        cr_expect(cJSON_GetObjectItem(r, "histories_per_s")->valuedouble > 0);
        /* Whole histories: p 150 MeV in water takes 50 steps each at the defaults (docs/
         * benchmarks.md); a row that stopped them early would show far fewer. */
        cr_expect(cJSON_GetObjectItem(r, "steps_per_history")->valuedouble > 30);
        cr_expect(cJSON_GetObjectItem(r, "ns_per_step_per_thread")->valuedouble > 0);
        cr_expect(cJSON_GetObjectItem(r, "figure_of_merit")->valuedouble > 0);
        cr_expect(cJSON_GetObjectItem(r, "peak_rss_MB")->valuedouble > 0);
        cr_expect(cJSON_IsBool(cJSON_GetObjectItem(r, "peak_rss_per_row")));
        cr_expect(cJSON_GetObjectItem(r, "seconds")->valuedouble >= 0.6 * 0.05,
                  "%s: a row sized to 0.05 s ran %g s",
                  cJSON_GetObjectItem(r, "backend")->valuestring,
                  cJSON_GetObjectItem(r, "seconds")->valuedouble);
    }
    cr_expect(cJSON_IsFalse(cJSON_GetObjectItem(root, "partial")));
    /* Every backend profiled, as `bragg run --profile` can (serial and event were left out),
     * each against its own plain row: the same backend, threads and histories, and an
     * overhead that is that row's rate over the profiled one's, less 1. */
    cJSON *profiles = cJSON_GetObjectItem(root, "profiles");
    cr_assert(cJSON_GetArraySize(profiles) == cJSON_GetArraySize(runs), "%d profiles, %d rows",
              cJSON_GetArraySize(profiles), cJSON_GetArraySize(runs));
    static const char *const every_step[] = {"stopping power", "range/energy", "scattering",
                                             "scoring", "RNG"};
    for (int i = 0; i < cJSON_GetArraySize(runs); i++) {
        const cJSON *run = cJSON_GetArrayItem(runs, i), *prof = cJSON_GetArrayItem(profiles, i);
        const char *be = cJSON_GetObjectItem(run, "backend")->valuestring;
        cr_expect(strcmp(cJSON_GetObjectItem(prof, "backend")->valuestring, be) == 0,
                  "profile %d: %s, row %s", i, cJSON_GetObjectItem(prof, "backend")->valuestring,
                  be);
        double n = cJSON_GetObjectItem(run, "histories")->valuedouble;
        cr_expect(cJSON_GetObjectItem(prof, "histories")->valuedouble == n, "%s", be);
        cr_expect(cJSON_GetObjectItem(prof, "threads")->valuedouble ==
                      cJSON_GetObjectItem(run, "threads")->valuedouble, "%s", be);
        double secs = cJSON_GetObjectItem(prof, "seconds")->valuedouble;
        double hps = cJSON_GetObjectItem(prof, "histories_per_s")->valuedouble;
        cr_expect(secs > 0 && fabs(hps * secs / n - 1) < 0.05, "%s: %g histories in %g s at %g/s",
                  be, n, secs, hps);
        double plain = cJSON_GetObjectItem(run, "histories_per_s")->valuedouble;
        const cJSON *overhead = cJSON_GetObjectItem(prof, "overhead");
        cr_expect(cJSON_IsNumber(overhead) &&
                      fabs(overhead->valuedouble - (plain / hps - 1)) < 1e-9 * (plain / hps),
                  "%s: overhead %g, rates %g plain, %g profiled", be, overhead->valuedouble,
                  plain, hps);
        double timed = cJSON_GetObjectItem(prof, "timed_histories")->valuedouble;
        if (strcmp(be, "cuda") == 0) {
            cr_expect(timed == n, "cuda: %g of %g histories timed, not every one", timed, n);
            continue;
        }
        /* One in 32: histories 0, 32, ... */
        cr_expect(timed == floor((n + 31) / 32), "%s: %g of %g histories timed", be, timed, n);
        /* Shares are clamped at 0 and sum to 1 by construction; what can fail is a component
         * every step runs that is charged nothing. */
        for (size_t k = 0; k < sizeof every_step / sizeof every_step[0]; k++)
            cr_expect(cJSON_GetObjectItem(cJSON_GetObjectItem(prof, every_step[k]), "share")
                              ->valuedouble > 0,
                      "%s: no time charged to %s", be, every_step[k]);
    }
    cJSON_Delete(root);
}

/* Starts `bragg ARGS...` (NULL-terminated) in a process group of its own, as a shell starts a
 * job, its standard output into a pipe (*out_fd) and its standard error to `err_log`. */
static pid_t start_job(const char *const *args, const char *err_log, int *out_fd)
{
    int fds[2];
    cr_assert(pipe(fds) == 0);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        setpgid(0, 0);
        int err = open(err_log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fds[1], 1);
        dup2(err, 2);
        close(fds[0]);
        const char *argv[48] = {"bragg"};
        int n = 1;
        for (; args[n - 1] && n < 47; n++) argv[n] = args[n - 1];
        argv[n] = NULL;
        execv(testkit_bragg(), (char *const *)argv);
        _exit(127);
    }
    setpgid(pid, pid);   /* either side may set it first */
    close(fds[1]);
    *out_fd = fds[0];
    return pid;
}

/* Reads the job's output until a line starting with `prefix` has come (1) or the output ended
 * (0); what was read is appended to buf. */
static int read_until_line(int fd, const char *prefix, char *buf, size_t len)
{
    size_t used = strlen(buf);
    for (;;) {
        for (const char *line = buf, *end; *line; line = end + 1) {
            end = strchr(line, '\n');
            if (!end) break;   /* a line still coming */
            if (strncmp(line, prefix, strlen(prefix)) == 0) return 1;
        }
        if (used + 1 >= len) return 0;
        ssize_t got = read(fd, buf + used, len - 1 - used);
        if (got <= 0) return 0;
        used += (size_t)got;
        buf[used] = '\0';
    }
}

/* Drains the job's output and waits for its end: its exit status, or -signal. */
static int finish_job(pid_t pid, int fd)
{
    char sink[4096];
    while (read(fd, sink, sizeof sink) > 0) {
    }
    close(fd);
    int st;
    cr_assert(waitpid(pid, &st, 0) == pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
}

/* Ctrl-C during a bench keeps the rows done: `bragg bench --help` and `bragg --help` say so,
 * but it wrote nothing ("interrupted; nothing written"). Signalled once its first row is
 * printed, it drops the row in flight, writes the JSON of those done marked partial and their
 * figure, and exits 130. */
Test(cli, bench_interrupted_writes_the_rows_done)
{
    char dir[256], json[300], svg[300], err[300];
    testkit_temp_dir(dir, sizeof dir, "bench-int");
    snprintf(json, sizeof json, "%s/b.json", dir);
    snprintf(svg, sizeof svg, "%s/b.svg", dir);
    snprintf(err, sizeof err, "%s/err.txt", dir);
    const char *args[] = {"bench", "--case", "p-150-water", "--quick", "--threads", "2",
                          "--seconds", "0.5", "--json", json, "--svg", svg, NULL};
    int fd;
    pid_t pid = start_job(args, err, &fd);
    static char out[1 << 16];
    out[0] = '\0';
    int seen = read_until_line(fd, "p-150-water ", out, sizeof out);
    kill(pid, SIGINT);
    int rc = finish_job(pid, fd);
    cr_assert(seen, "no row printed: %s", out);
    char *said = testkit_read_text(err);
    cr_expect(rc == 130, "exit %d: %s", rc, said);
    cr_expect(strstr(said, "bragg bench: interrupted in p-150-water (") &&
                  strstr(said, "written marked partial"), "%s", said);
    free(said);
    cJSON *root = testkit_read_json(json);
    cr_expect(cJSON_IsTrue(cJSON_GetObjectItem(root, "partial")));
    cJSON *runs = cJSON_GetObjectItem(root, "runs"), *r;
    int n = cJSON_GetArraySize(runs);
    /* The first row at least, the serial one; not all four and their profiles (the signal came
     * 0.3 s or more before the second row could end). Each row kept is whole. */
    cr_expect(n >= 1 && n < 4, "%d rows kept", n);
    cr_expect(n >= 1 && strcmp(cJSON_GetObjectItem(cJSON_GetArrayItem(runs, 0), "backend")
                                   ->valuestring, "serial") == 0);
    cJSON_ArrayForEach(r, runs) {
        cr_expect(cJSON_GetObjectItem(r, "steps_per_history")->valuedouble > 30);
        cr_expect(cJSON_GetObjectItem(r, "seconds")->valuedouble >= 0.6 * 0.5);
    }
    cr_expect(cJSON_GetArraySize(cJSON_GetObjectItem(root, "profiles")) == 0);
    cJSON_Delete(root);
    size_t len = 0;
    char *fig = testkit_read_bytes(svg, &len);
    cr_expect(len > 1000 && strstr(fig, "<svg"), "no figure of the rows done");
    free(fig);
    testkit_remove_dir(dir);
}

/* Ctrl-C while the --floor yardstick runs (the whole job gets it: bragg, popen's shell and
 * the yardstick, which dies of it) is an interrupt, 130, the rows done written: it exited 1
 * with "did not run or printed no rate". A stand-in yardstick sleeps on the real call (2
 * threads), not on the probe before the rows (1 thread), after marking that it started. */
Test(cli, bench_interrupted_in_the_floor_kernel)
{
    char dir[256], json[300], err[300], cmd[1400];
    testkit_temp_dir(dir, sizeof dir, "bench-floor-int");
    snprintf(cmd, sizeof cmd, "printf '#!/bin/sh\\nif [ \"$2\" = 2 ]; then touch %s/started; "
             "sleep 10; fi\\necho \"floor: $1 histories, $2 threads: 1000 histories/s, 300.0 "
             "steps/history, 1.0 ns/step, peak 27.48 cm, CSDA 27.53 cm\"\\n' > %s/floor && "
             "chmod +x %s/floor", dir, dir, dir);
    char out[4096];
    cr_assert(testkit_shell(cmd, out, sizeof out) == 0, "%s", out);
    char floor_path[300], started[300];
    snprintf(floor_path, sizeof floor_path, "%s/floor", dir);
    snprintf(started, sizeof started, "%s/started", dir);
    snprintf(json, sizeof json, "%s/b.json", dir);
    snprintf(err, sizeof err, "%s/err.txt", dir);
    const char *args[] = {"bench", "--case", "c12-400-water-no-nuclear", "--histories", "120",
                          "--quick", "--threads", "2", "--floor", floor_path, "--json", json, NULL};
    int fd;
    pid_t pid = start_job(args, err, &fd);
    struct timespec tick = {0, 10000000};
    for (int i = 0; i < 6000 && access(started, F_OK) != 0; i++) nanosleep(&tick, NULL);
    int began = access(started, F_OK) == 0;
    kill(-pid, SIGINT);
    int rc = finish_job(pid, fd);
    cr_assert(began, "the yardstick never started");
    char *said = testkit_read_text(err);
    cr_expect(rc == 130, "exit %d: %s", rc, said);
    cr_expect(strstr(said, "interrupted in c12-400-water-no-nuclear (the --floor yardstick") &&
                  !strstr(said, "printed no rate"), "%s", said);
    free(said);
    cJSON *root = testkit_read_json(json);
    cr_expect(cJSON_IsTrue(cJSON_GetObjectItem(root, "partial")));
    cr_expect(cJSON_GetArraySize(cJSON_GetObjectItem(root, "runs")) == 4, "the four rows kept");
    cr_expect(cJSON_GetArraySize(cJSON_GetObjectItem(root, "floor")) == 0);
    cJSON_Delete(root);
    testkit_remove_dir(dir);
}

/* Beyond 60 OpenMP thread counts, --threads itself was left out: no all-core row, and the
 * profile's overhead against it read -100% (JSON -1). And a row on more threads than cores,
 * its first run guessed to scale with the threads, overshot its time 15-23 times (32 threads,
 * 2 cores, 0.73-1.17 s for 0.05): now guessed to scale up to the cores, and run again when
 * it lasts more than twice its time. */
Test(cli, bench_rows_on_more_threads_than_cores)
{
    static char out[1 << 20];
    char dir[256], path[300], args[512];
    testkit_temp_dir(dir, sizeof dir, "bench-threads");
    snprintf(path, sizeof path, "%s/b.json", dir);
    snprintf(args, sizeof args, "bench --case p-150-water --histories 100 --threads 61 --json %s",
             path);
    int rc = testkit_cli(args, out, sizeof out);
    cr_assert(rc == 0, "exit %d: %s", rc, out);
    cJSON *root = testkit_read_json(path);
    cJSON *r;
    int all_cores = 0, openmp = 0;
    cJSON_ArrayForEach(r, cJSON_GetObjectItem(root, "runs")) {
        if (strcmp(cJSON_GetObjectItem(r, "backend")->valuestring, "openmp") != 0) continue;
        openmp++;
        all_cores += cJSON_GetObjectItem(r, "threads")->valuedouble == 61;
    }
    cr_expect(all_cores == 1 && openmp <= 60, "%d rows of 61 threads in %d OpenMP rows",
              all_cores, openmp);
    cJSON_ArrayForEach(r, cJSON_GetObjectItem(root, "profiles")) {
        const cJSON *o = cJSON_GetObjectItem(r, "overhead");
        cr_expect(cJSON_IsNumber(o) && o->valuedouble > -0.9, "%s: overhead %g",
                  cJSON_GetObjectItem(r, "backend")->valuestring, o->valuedouble);
    }
    cJSON_Delete(root);

    int cores = omp_get_num_procs();
    snprintf(args, sizeof args, "bench --case p-150-water --quick --threads %d --seconds 0.1 "
             "--json %s", 16 * cores, path);
    rc = testkit_cli(args, out, sizeof out);
    cr_assert(rc == 0, "exit %d: %s", rc, out);
    root = testkit_read_json(path);
    cJSON_ArrayForEach(r, cJSON_GetObjectItem(root, "runs")) {
        double t = cJSON_GetObjectItem(r, "seconds")->valuedouble;
        /* The GPU's rate is not guessed from the threads, nor is it linear in the histories
         * of short runs: the CPU rows are what this is about. */
        if (strcmp(cJSON_GetObjectItem(r, "backend")->valuestring, "cuda") == 0) continue;
        /* Accepted between 0.6 and 2 times the target; 3 leaves room for a busy machine. */
        cr_expect(t >= 0.06 && t <= 0.3, "%s on %g threads ran %g s for 0.1",
                  cJSON_GetObjectItem(r, "backend")->valuestring,
                  cJSON_GetObjectItem(r, "threads")->valuedouble, t);
    }
    cJSON_Delete(root);
    testkit_remove_dir(dir);
}

/* Reports give the cores the process may use, which is also the default thread count:
 * `taskset -c 0 bragg bench` said 2 cores (those online) and ran 1 thread. And bench's labels
 * say what their figures are. */
Test(cli, cores_are_those_available_to_the_process)
{
    char out[1 << 16], cmd[1024], dir[256], path[300];
    if (testkit_shell("command -v taskset", out, sizeof out) != 0)
        cr_skip_test("no taskset here");
    testkit_temp_dir(dir, sizeof dir, "cores");
    snprintf(path, sizeof path, "%s/r.json", dir);
    snprintf(cmd, sizeof cmd, "taskset -c 0 %s run -i p -e 70 -m water -n 100 -q --json %s",
             testkit_bragg(), path);
    int rc = testkit_shell(cmd, out, sizeof out);
    cr_assert(rc == 0, "exit %d: %s", rc, out);
    cJSON *root = testkit_read_json(path);
    testkit_remove_dir(dir);
    const cJSON *run = cJSON_GetObjectItem(root, "run");
    cr_expect(cJSON_GetObjectItem(run, "cores")->valuedouble == 1 &&
                  cJSON_GetObjectItem(run, "threads")->valuedouble == 1,
              "cores %g, threads %g", cJSON_GetObjectItem(run, "cores")->valuedouble,
              cJSON_GetObjectItem(run, "threads")->valuedouble);
    cJSON_Delete(root);
    snprintf(cmd, sizeof cmd, "taskset -c 0 %s bench --case p-150-water --quick -n 100",
             testkit_bragg());
    rc = testkit_shell(cmd, out, sizeof out);
    cr_expect(rc == 0 && strstr(out, ", 1 core available, ") &&
                  strstr(out, "\np-150-water              openmp    1 "),
              "exit %d: %s", rc, out);
    /* The columns say what they are: ns per step per thread, the FOM's unit, and whose peak
     * the memory is (the process's, during the row where Linux can reset it). */
    cr_expect(strstr(out, " ns/step/thr ") && strstr(out, " FOM_1/s ") &&
                  strstr(out, "RSS_MB: the process's peak resident memory "),
              "%s", out);
    rc = testkit_cli("bench --help", out, sizeof out);
    cr_expect(rc == 0 && strstr(out, "(default, and 0: all the cores available)") &&
                  strstr(out, "Gaussian pairs, the scattering deflection and the scoring"),
              "%s", out);
}

/* The share of a profile component in a run's JSON (run.profile). */
static double profile_share(const cJSON *profile, const char *name)
{
    const cJSON *v = cJSON_GetObjectItem(cJSON_GetObjectItem(profile, name), "share");
    cr_assert(cJSON_IsNumber(v), "profile: no share of %s", name);
    return v->valuedouble;
}

/* `bragg run --profile` on the CPU backends bench did not profile, serial and event: the table
 * on the terminal and run.profile in the JSON, with the sampling that applied (one history in
 * 32: histories 0, 32, ..., 1984 of 2000 are 63), and a nuclear share that the physics bounds.
 * With reactions on, every step of a charged particle looks its reaction cross-section up at
 * the step's mid-energy (physics/transport.h: table_energy, the energy-grid cell, table_at),
 * the very lookups the range/energy component makes once a step; on top come the reactions
 * (73% of C-12 400 MeV/u primaries react in water) and their products' set-up. So the nuclear
 * share is at least half the range/energy share (2.0-2.7 times it was measured on serial,
 * openmp, event and simd here, 2000 histories, 2 threads of a 2-core Xeon). Without reactions
 * nothing is charged to it: exactly 0. */
Test(cli, run_profile_on_serial_and_event)
{
    static char out[1 << 16];
    char dir[256], args[1024], path[300];
    testkit_temp_dir(dir, sizeof dir, "runprof");
    snprintf(path, sizeof path, "%s/p.json", dir);
    static const char *const backends[] = {"serial", "event"};
    static const char *const names[] = {"stopping power", "range/energy", "straggling",
                                        "scattering", "nuclear", "scoring", "RNG", "other"};
    for (int b = 0; b < 2; b++)
        for (int nuclear = 1; nuclear >= 0; nuclear--) {
            snprintf(args, sizeof args, "run --ion C-12 --energy 400 --material water -n 2000 "
                     "-t 2 --seed 5 --backend %s --profile%s --json %s", backends[b],
                     nuclear ? "" : " --no-nuclear", path);
            int rc = testkit_cli(args, out, sizeof out);
            cr_assert(rc == 0, "%s: exit %d: %s", args, rc, out);
            cr_expect(strstr(out, "  profile (63 of 2000 histories timed; ns per step per "
                                  "thread):\n"),
                      "%s: %s", backends[b], out);
            for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
                char line[64];
                snprintf(line, sizeof line, "\n    %-16s ", names[k]);
                cr_expect(strstr(out, line), "%s: no line for %s: %s", backends[b], names[k], out);
            }
            cr_expect(strstr(out, "    histories account for "), "%s", out);
            cJSON *root = testkit_read_json(path);
            const cJSON *prof = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "run"), "profile");
            cr_assert(cJSON_IsObject(prof), "%s: no run.profile", backends[b]);
            cr_expect(cJSON_GetObjectItem(prof, "timed_histories")->valuedouble == 63);
            cr_expect(cJSON_GetObjectItem(prof, "timed_fraction")->valuedouble == 63.0 / 2000);
            double range = profile_share(prof, "range/energy");
            double nuc = profile_share(prof, "nuclear");
            cr_log_info("%s, nuclear %s: nuclear share %.3f, range/energy %.3f", backends[b],
                        nuclear ? "on" : "off", nuc, range);
            if (nuclear)
                cr_expect(nuc >= 0.5 * range, "%s: nuclear share %.3f, range/energy %.3f",
                          backends[b], nuc, range);
            else
                cr_expect(nuc == 0.0 && cJSON_GetObjectItem(cJSON_GetObjectItem(prof, "nuclear"),
                                                            "ns_per_step")->valuedouble == 0.0,
                          "%s --no-nuclear: nuclear share %g", backends[b], nuc);
            cJSON_Delete(root);
        }
    testkit_remove_dir(dir);
}

/* Issue 14: `--histories N` fixes every row's size instead of timing it, and `--floor PROGRAM`
 * runs the yardstick kernel (a stand-in here that prints its line with a known rate) on the
 * C-12 cases and reports bragg's all-core rates as multiples of it; a yardstick that fails is
 * refused before the first row (exit 2), naming the option. */
Test(cli, bench_fixed_rows_and_the_floor_kernel_beside_them)
{
    static char out[1 << 18];
    char dir[256], path[300], args[1024], cmd[1400];
    testkit_temp_dir(dir, sizeof dir, "bench-floor");
    snprintf(cmd, sizeof cmd, "printf '#!/bin/sh\\necho \"floor: $1 histories, $2 threads: 1000 "
             "histories/s, 300.0 steps/history, 1.0 ns/step, peak 27.48 cm, CSDA 27.53 cm\"\\n' "
             "> %s/floor && printf '#!/bin/sh\\nexit 3\\n' > %s/broken && chmod +x %s/floor "
             "%s/broken", dir, dir, dir, dir);
    cr_assert(testkit_shell(cmd, out, sizeof out) == 0, "%s", out);
    snprintf(path, sizeof path, "%s/bench.json", dir);
    snprintf(args, sizeof args, "bench --case c12-400-water-no-nuclear --histories 120 --quick "
             "--threads 2 --floor %s/floor --json %s", dir, path);
    int rc = testkit_cli(args, out, sizeof out);
    cr_assert(rc == 0, "exit %d: %s", rc, out);
    cJSON *root = testkit_read_json(path);
    cJSON *runs = cJSON_GetObjectItem(root, "runs"), *r;
    cJSON_ArrayForEach(r, runs) {
        if (strcmp(cJSON_GetObjectItem(r, "backend")->valuestring, "cuda") == 0) continue;
        cr_expect(cJSON_GetObjectItem(r, "histories")->valuedouble == 120);
    }
    cr_expect(cJSON_GetObjectItem(cJSON_GetObjectItem(root, "sizing"), "histories_per_row")
                  ->valuedouble == 120);
    cJSON *floor = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "floor"), 0);
    cr_assert(floor, "a floor record");
    cr_expect(cJSON_GetObjectItem(floor, "histories")->valuedouble == 120);
    cr_expect(cJSON_GetObjectItem(floor, "threads")->valuedouble == 2);
    cr_expect(cJSON_GetObjectItem(floor, "histories_per_s")->valuedouble == 1000);
    double simd_hps = cJSON_GetObjectItem(cJSON_GetArrayItem(runs, 3), "histories_per_s")->valuedouble;
    cr_expect(fabs(cJSON_GetObjectItem(cJSON_GetObjectItem(floor, "bragg_over_floor"), "simd")
                       ->valuedouble - simd_hps / 1000) < 1e-12);
    cJSON_Delete(root);
    snprintf(args, sizeof args, "bench --case c12-400-water --histories 100 --quick --threads 1 "
             "--floor %s/broken", dir);
    /* A probe run before any row finds it: bad input, exit 2, at once. */
    cr_expect(testkit_cli(args, out, sizeof out) == 2);
    cr_expect(strstr(out, "--floor:") && strstr(out, "printed no rate"), "%s", out);
    /* A name without a slash is looked up in PATH, as the shell would run it (it was refused
     * as "not an executable file" where popen would have found it); one not there is named. */
    snprintf(cmd, sizeof cmd, "PATH='%s':\"$PATH\" %s bench --case c12-400-water-no-nuclear "
             "--histories 120 --quick --threads 1 --floor floor --json %s", dir, testkit_bragg(),
             path);
    rc = testkit_shell(cmd, out, sizeof out);
    cr_expect(rc == 0, "--floor on PATH: exit %d: %s", rc, out);
    root = testkit_read_json(path);
    floor = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "floor"), 0);
    cr_expect(floor && cJSON_GetObjectItem(floor, "histories_per_s")->valuedouble == 1000,
              "no floor record from the program on PATH");
    cJSON_Delete(root);
    rc = testkit_cli("bench --case c12-400-water --quick --floor no-such-floor-kernel", out,
                     sizeof out);
    cr_expect(rc == 2 && strstr(out, "--floor: 'no-such-floor-kernel' is not a program on PATH"),
              "exit %d: %s", rc, out);
    testkit_remove_dir(dir);
}

/* The build's CUDA detection (Makefile): an nvcc whose static runtime library is nowhere to be
 * found (as on a machine with only the compiler package) must not break the build. CUDA=auto
 * builds without the CUDA backend and says so; CUDA=1 stops with a message naming the library.
 * A stand-in nvcc that reports no library folders plays that machine; `make -n` only reads the
 * Makefile and prints, so the tree is left as it is. */
/* A make of its own: not the variables of the `make test` / `make check` that runs this test. */
#define MAKE_ALONE "env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL"

Test(cli, an_nvcc_without_its_runtime_library_builds_without_cuda)
{
    static char out[1 << 18];   /* every compile command of the tree */
    char dir[256], cmd[2048];
    testkit_temp_dir(dir, sizeof dir, "nvcc");
    snprintf(cmd, sizeof cmd, "mkdir -p %s/bin && printf '#!/bin/sh\\nexit 0\\n' > %s/bin/nvcc && "
             "chmod +x %s/bin/nvcc", dir, dir, dir);
    cr_assert(testkit_shell(cmd, out, sizeof out) == 0, "%s", out);
    const char *root = BRAGG_ASSET_DIR "/..";
    /* -B: print every command, the link line included, however up to date the tree is. */
    snprintf(cmd, sizeof cmd, "%s PATH=%s/bin:$PATH make -n -B -C %s VARIANT=release CUDA=auto MPI=0 "
             "bin/bragg", MAKE_ALONE, dir, root);
    int rc = testkit_shell(cmd, out, sizeof out);
    cr_expect(rc == 0, "CUDA=auto with a bare nvcc: make -n exited %d: %s", rc, out);
    cr_expect(strstr(out, "building without the CUDA backend") != NULL, "%s", out);
    cr_expect(strstr(out, "-o bin/bragg") != NULL, "no link line printed: %s", out);
    cr_expect(strstr(out, "-lcudart_static") == NULL && strstr(out, "cuda_transport.cu") == NULL,
              "the build still uses the CUDA toolchain: %s", out);
    snprintf(cmd, sizeof cmd, "%s PATH=%s/bin:$PATH make -n -C %s VARIANT=release CUDA=1 MPI=0 all",
             MAKE_ALONE, dir, root);
    rc = testkit_shell(cmd, out, sizeof out);
    cr_expect(rc != 0, "CUDA=1 with a bare nvcc: make -n succeeded: %s", out);
    cr_expect(strstr(out, "libcudart_static.a is not beside") != NULL, "%s", out);
    testkit_remove_dir(dir);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert(f, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

static double json_number(const cJSON *root, const char *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItem(cJSON_GetObjectItem(root, obj), key);
    cr_assert(cJSON_IsNumber(v), "%s.%s missing", obj, key);
    return v->valuedouble;
}

/* Issue 17 acceptance: a run file. The file alone sets the whole run (the same dose, bit for
 * bit, as the same options on the command line); options on the command line override it
 * (--material replaces the file's slabs, --no-nuclear=no switches back on what it switched
 * off); an unknown key or a bad value exits 2 naming the file's line; the workbench's
 * settings file runs as it is. */
Test(cli, run_file)
{
    char dir[64], path[256], args[1024], out[16384];
    testkit_temp_dir(dir, sizeof dir, "cli");
    snprintf(path, sizeof path, "%s/run.conf", dir);
    char text[2048];
    snprintf(text, sizeof text,
             "# protons through a bone slab\n"
             "ion = p\n"
             "energy = 100          # MeV\n"
             "slab = water:2\n"
             "slab = bone:1\n"
             "slab = water:inf\n"
             "histories = 400\n"
             "seed = 9\n"
             "backend = serial\n"
             "no-nuclear = yes\n"
             "json = %s/file.json\n"
             "\n[workbench]\nexport-dir = /nowhere\n", dir);
    write_text(path, text);

    /* The file alone. */
    snprintf(args, sizeof args, "run --config %s -q", path);
    int rc = testkit_cli(args, out, sizeof out);
    cr_assert(rc == 0, "exit %d: %s", rc, out);
    snprintf(path, sizeof path, "%s/file.json", dir);
    cJSON *file = testkit_read_json(path);
    cr_expect(json_number(file, "config", "histories_requested") == 400);
    cr_expect(json_number(file, "config", "seed") == 9);
    cr_expect(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(file, "config"), "slabs")) == 3);
    snprintf(args, sizeof args,
             "run --ion p --energy 100 --slab water:2 --slab bone:1 --slab water:inf -n 400 "
             "--seed 9 --backend serial --no-nuclear -q --json %s/cli.json", dir);
    cr_assert(testkit_cli(args, out, sizeof out) == 0, "%s", out);
    snprintf(path, sizeof path, "%s/cli.json", dir);
    cJSON *cli = testkit_read_json(path);
    cr_expect(cJSON_Compare(cJSON_GetObjectItem(cJSON_GetObjectItem(file, "depth_curves"), "dose_Gy_cm2"),
                            cJSON_GetObjectItem(cJSON_GetObjectItem(cli, "depth_curves"), "dose_Gy_cm2"), 1),
              "the run file and the same options give different doses");
    cJSON_Delete(cli);
    cJSON_Delete(file);

    /* The command line overrides the file. */
    snprintf(path, sizeof path, "%s/run.conf", dir);
    snprintf(args, sizeof args,
             "run --config %s -n 300 --material water --no-nuclear=no -q --json %s/over.json", path, dir);
    rc = testkit_cli(args, out, sizeof out);
    cr_assert(rc == 0, "exit %d: %s", rc, out);
    snprintf(path, sizeof path, "%s/over.json", dir);
    cJSON *over = testkit_read_json(path);
    const cJSON *cfg = cJSON_GetObjectItem(over, "config");
    cr_expect(json_number(over, "config", "histories_requested") == 300);
    cr_expect(json_number(over, "config", "seed") == 9, "the file's seed is kept");
    cr_expect(cJSON_GetArraySize(cJSON_GetObjectItem(cfg, "slabs")) == 1, "--material replaces the slabs");
    cr_expect(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(cfg, "physics"), "nuclear_interactions")));
    cJSON_Delete(over);

    /* Bad keys and values: exit 2, the file and line named. */
    snprintf(path, sizeof path, "%s/bad.conf", dir);
    write_text(path, "ion = p\nenergy = 100\n# a comment\nmaterial = water\nenergie = 5\n");
    snprintf(args, sizeof args, "run --config %s", path);
    expect_bad(args, "bad.conf line 5: unknown key 'energie'");
    write_text(path, "ion = p\nenergy = 5000\nmaterial = water\n");
    expect_bad(args, "bad.conf line 2: energy: 5000 is out of range (valid: above the cut-off "
                     "0.002 to 2000 MeV/u)");
    /* Names too: an unknown ion or material is found on its line, not when the run starts. */
    write_text(path, "ion = p\nenergy = 100\nmaterial = watr\n");
    expect_bad(args, "bad.conf line 3: material: 'watr' is not known; valid: water, air");
    write_text(path, "ion = Cx\nenergy = 100\nslab = water:5\nslab = bnoe:2\n");
    expect_bad(args, "bad.conf line 1: ion: 'Cx' is not known; valid: p, d, t");
    write_text(path, "ion = p\nenergy = 100\nslab = water:5\nslab = bnoe:2\n");
    expect_bad(args, "bad.conf line 4: slab: 'bnoe' is not known; valid: water, air");
    write_text(path, "ion = p\nenergy = 100\nmaterial = water\nslab = bone:1\n");
    expect_bad(args, "bad.conf line 4: slab: material and slab exclude each other");
    write_text(path, "ion = p\nenergy = 100\nmaterial water\n");
    expect_bad(args, "bad.conf line 3: no '='");
    write_text(path, "ion = p\nenergy = 100\nmaterial = water\nno-mcs = perhaps\n");
    expect_bad(args, "bad.conf line 4: no-mcs: 'perhaps' is not a switch (valid: yes, no)");
    write_text(path, "config = other.conf\n");
    expect_bad(args, "bad.conf line 1: config: not allowed in a run file");
    snprintf(args, sizeof args, "run --config %s/none.conf", dir);
    expect_bad(args, "none.conf: cannot read");
    snprintf(args, sizeof args, "--config %s/bad.conf", dir);
    expect_bad(args, "bad.conf line 1: config: not allowed");

    /* What the workbench saves runs headless as it is. */
    static workbench_settings w;
    config_default(&w.cfg);
    w.cfg.histories = 200;
    snprintf(w.cfg.ion, sizeof w.cfg.ion, "He-4");
    w.cfg.energy = 80;
    snprintf(w.export_dir, sizeof w.export_dir, "%s", dir);
    cr_assert(settings_format(&w, text, sizeof text) < (int)sizeof text);
    snprintf(path, sizeof path, "%s/workbench.conf", dir);
    write_text(path, text);
    snprintf(args, sizeof args, "run --config %s -q --json %s/wb.json", path, dir);
    rc = testkit_cli(args, out, sizeof out);
    cr_expect(rc == 0, "bragg run of the workbench's settings: exit %d: %s", rc, out);
    testkit_remove_dir(dir);
}

/* `bragg sobp` with a --to its primaries cannot reach: nuclear reactions take C-12 out of the
 * beam (fewer than 1 in 100 of its primaries reach 120 cm of water, from the non-elastic
 * cross-sections), so no Bragg peak of it stands out there. That is bad input: exit 2 before
 * any run, naming --to and how deep is valid, and no file written. It once ran the pilot,
 * blamed "too few histories" and exited 0. He-4 at 100 cm passes that first check (about 8% of
 * its primaries get there), but its peak there is lower than the dose its secondaries build up
 * in front of it (0.68 of it in a run of 400 histories): the pilot run finds that and says so,
 * exit 2, rather than blaming the histories. With --no-nuclear the C-12 plateau is built. */
Test(cli, sobp_refuses_a_plateau_its_primaries_cannot_reach)
{
    char dir[256], args[1024], out[8192], path[512];
    testkit_temp_dir(dir, sizeof dir, "sobp-deep");
    snprintf(path, sizeof path, "%s/x.json", dir);
    const struct {
        const char *args, *why;
    } cases[] = {
        {"sobp --ion C-12 --material water --from 100 --to 120 --spacing 5 -n 100 -q",
         "--to: 120 cm is too deep for C-12: "},
        {"sobp --ion He-4 --material water --from 95 --to 100 -n 200 -q",
         "--to: 100 cm is too deep for He-4: its pristine peak "},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        snprintf(args, sizeof args, "%s --json %s", cases[k].args, path);
        int rc = testkit_cli(args, out, sizeof out);
        cr_expect(rc == 2, "'bragg %s' exited %d, want 2: %s", args, rc, out);
        cr_expect(strstr(out, cases[k].why) && strstr(out, "(valid: up to "),
                  "'bragg %s' said '%s', want '%s' and the valid depth", args, out, cases[k].why);
        cr_expect(!strstr(out, "too few histories"), "%s", out);
        cr_expect(strchr(out, '\n') == strrchr(out, '\n'), "more than one line: %s", out);
        cr_expect(access(path, F_OK) != 0, "'bragg %s' wrote %s", args, path);
    }
    /* Without reactions every primary reaches the end of its range: the limit is the range. */
    snprintf(args, sizeof args, "%s --no-nuclear --json %s", cases[0].args, path);
    int rc = testkit_cli(args, out, sizeof out);
    cr_expect(rc == 0 && access(path, F_OK) == 0, "'bragg %s' exited %d: %s", args, rc, out);
    testkit_remove_dir(dir);
}

/* sobp's --alpha-beta help names the floor the MKM puts on it for the default cell line: HSG's
 * alpha0 = 0.172 and alpha_x = 0.313 Gy^-1, beta_x = 0.0615 Gy^-2 (Inaniwa et al. 2010;
 * Friedrich et al. 2013) leave alpha0 above 0 for (alpha/beta)x above 0.141 / 0.0615 =
 * 2.29 Gy, where the option's own range starts at 0.5. */
Test(cli, sobp_help_names_the_mkm_floor_of_alpha_beta)
{
    char out[16384];
    cr_assert(testkit_cli("sobp --help", out, sizeof out) == 0, "%s", out);
    const char *line = strstr(out, "--alpha-beta GY");
    cr_assert(line, "%s", out);
    const char *end = strchr(line, '\n');
    cr_expect(end && strstr(line, "with mkm above 2.29 for HSG") &&
                  strstr(line, "with mkm above 2.29 for HSG") < end,
              "%.*s", end ? (int)(end - line) : 200, line);
}

/* The RBE-weighted dose is in Gy (RBE) (ICRU Reports 78 and 93), as the figures and the
 * workbench write it: the prescription in sobp's summary and its --dose help too, where a bare
 * "Gy" once read as physical dose. */
Test(cli, sobp_writes_rbe_weighted_dose_in_gy_rbe)
{
    char out[16384];
    int rc = testkit_cli("sobp --ion He-4 --material water --from 5 --to 6 -n 200 --biological "
                         "mkm --dose 2", out, sizeof out);
    cr_assert(rc == 0, "exit %d: %s", rc, out);
    cr_expect(strstr(out, "RBE-weighted dose 2 Gy (RBE) flat"), "%s", out);
    const char *plateau = strstr(out, "  plateau ");
    cr_expect(plateau && strstr(plateau, " Gy (RBE), physical dose "), "%s", out);
    cr_assert(testkit_cli("sobp --help", out, sizeof out) == 0);
    const char *dose = strstr(out, "      --dose GY_RBE ");   /* the option, not the usage */
    cr_expect(dose && strstr(dose, "Gy (RBE)") && strstr(dose, "Gy (RBE)") < strchr(dose, '\n'),
              "%s", out);
}

/* A rippled SOBP says so. He-4 in 5-6 cm of water with peaks 2.5 mm apart ripples by far more
 * than its statistics (bins some 12% from the mean where the statistics alone make a flatness
 * of 1.6%): one warning line on standard error that suggests a smaller --spacing, exit 0 (the
 * run did what was asked). With the default 1.5 mm the same plateau is flat within 1.3%: no
 * warning. */
Test(cli, sobp_warns_of_a_ripple_the_statistics_do_not_explain)
{
    char out[8192];
    const char *base = "sobp --ion He-4 --material water --from 5 --to 6 -n 4000 -q";
    char args[256];
    snprintf(args, sizeof args, "%s --spacing 2.5", base);
    int rc = testkit_cli(args, out, sizeof out);
    cr_expect(rc == 0, "'bragg %s' exited %d: %s", args, rc, out);
    cr_expect(strstr(out, "bragg sobp: warning: the plateau ripples") &&
                  strstr(out, "try a smaller --spacing"), "'bragg %s' said '%s'", args, out);
    cr_expect(strchr(out, '\n') == strrchr(out, '\n'), "more than one line: %s", out);
    rc = testkit_cli(base, out, sizeof out);
    cr_expect(rc == 0 && !strstr(out, "warning"), "'bragg %s' exited %d: %s", base, rc, out);
}

/* Runs `bragg ARGS` that must succeed, with the JSON written to DIR/NAME parsed. */
static cJSON *run_json(const char *dir, const char *name, const char *args)
{
    char cmd[2048], out[16384], path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(cmd, sizeof cmd, "%s -q --json %s", args, path);
    int rc = testkit_cli(cmd, out, sizeof out);
    cr_assert(rc == 0, "'bragg %s' exited %d: %s", cmd, rc, out);
    return testkit_read_json(path);
}

static const cJSON *dose_of(const cJSON *run)
{
    return cJSON_GetObjectItem(cJSON_GetObjectItem(run, "depth_curves"), "dose_Gy_cm2");
}

/* What the workbench saves runs headless, and gives the same dose bit for bit as the setup
 * typed on the command line, also once its biological model or its map went away there.
 * Biology typed "none", or an ion the model does not fit, left the model's cell line and dose
 * in the file, and `m` to "off" the map's grid: bragg run refused the file ("cell: needs a
 * biological model", "--map-bin: needs a dose map"). The workbench's own code does each step:
 * settings_parse, setup_field_apply, tui_map_key, settings_format. */
Test(cli, the_workbench_saves_what_bragg_run_runs)
{
    char dir[64], path[256], args[1024], text[8192];
    testkit_temp_dir(dir, sizeof dir, "cli");
    snprintf(path, sizeof path, "%s/workbench.conf", dir);
    static tui_state t;   /* large */
    static workbench_settings w;
    memset(&t, 0, sizeof t);
    bragg_err e = {{0}};
    cr_assert(catalog_load(&t.cat, &e) == BRAGG_OK, "%s", e.msg);
    static const char setup[] = "ion = He-4\nenergy = 80\nmaterial = water\nhistories = 200\n"
                                "seed = 5\nbio = mkm\ncell = HSG\nalpha-beta = 3\nbio-dose = 3\n"
                                "map-kind = rz\nmap-bin = 1\nmap-radius = 2\n";
    for (int way = 0; way < 2; way++) {
        char file[sizeof setup];
        memcpy(file, setup, sizeof setup);
        memset(&w, 0, sizeof w);
        config_default(&w.cfg);
        cr_assert(settings_parse(file, "setup.conf", &w, &e) == BRAGG_OK, "%s", e.msg);
        cr_assert(config_validate(&w.cfg, &t.cat, &e) == BRAGG_OK, "%s", e.msg);
        t.cfg = w.cfg;
        if (way == 0) {
            /* Biology typed "none"; in the map view m twice: x columns, then off. */
            cr_assert(setup_field_apply(&t, &t.cfg, FIELD_BIO, "none", &e) == BRAGG_OK, "%s",
                      e.msg);
            t.view = VIEW_MAP;
            tui_map_key(&t);
            tui_map_key(&t);
            cr_assert(t.cfg.map_kind == MAP_NONE);
        } else {
            /* Protons take no MKM: the model goes with the new ion. */
            cr_assert(setup_field_apply(&t, &t.cfg, FIELD_ION, "p", &e) == BRAGG_OK, "%s", e.msg);
            cr_assert(t.cfg.bio_model[0] == '\0');
        }
        w.cfg = t.cfg;
        cr_assert(settings_format(&w, text, sizeof text) < (int)sizeof text);
        write_text(path, text);
        snprintf(args, sizeof args, "run --config %s", path);
        cJSON *saved = run_json(dir, "saved.json", args);
        snprintf(args, sizeof args, "run --ion %s --energy 80 --material water -n 200 --seed 5%s",
                 way == 0 ? "He-4" : "p",
                 way == 0 ? "" : " --map-kind rz --map-bin 1 --map-radius 2");
        cJSON *typed = run_json(dir, "typed.json", args);
        cr_expect(dose_of(saved) && cJSON_Compare(dose_of(saved), dose_of(typed), 1),
                  "the saved setup and the typed one give different doses:\n%s", text);
        cJSON_Delete(saved);
        cJSON_Delete(typed);
    }
    catalog_free(&t.cat);
    testkit_remove_dir(dir);
}

/* Every key's advertised range (run_key_range: what --help and the messages say) is the one
 * checked: its ends are taken by run_setup_set and config_validate alike, and a value past
 * them refused by both, naming the key. The ranges were once kept twice: --step-min advertised
 * 0 to 10 mm where 1e-6 mm was refused as "1e-07 cm", --iwater 75 to 78 where 76 was refused. */
Test(cli, every_key_takes_its_advertised_range)
{
    catalog cat;
    bragg_err e = {{0}};
    cr_assert(catalog_load(&cat, &e) == BRAGG_OK, "%s", e.msg);
    int checked = 0;
    for (const run_key *k = run_keys; k->name; k++) {
        if (k->kind != RUN_KEY_NUMBER && k->kind != RUN_KEY_INT && k->kind != RUN_KEY_COUNT &&
            k->kind != RUN_KEY_VALUES)
            continue;
        /* The ends, and just past them. */
        double ends[3] = {k->lo, k->hi, 0}, past[2];
        int n_ends = k->zero ? 3 : 2;
        past[0] = k->kind == RUN_KEY_NUMBER || k->kind == RUN_KEY_VALUES ? k->lo * 0.999 - 1e-9
                                                                          : k->lo - 1;
        past[1] = k->hi >= 18446744073709551615.0 ? NAN
                  : k->kind == RUN_KEY_INT          ? k->hi + 1
                                                    : k->hi * 1.001;
        if (strcmp(k->name, "energy") == 0) ends[0] = 0.0021;   /* above the cut-off */
        for (int i = 0; i < n_ends + 2; i++) {
            int good = i < n_ends;
            double v = good ? ends[i] : past[i - n_ends];
            if (isnan(v) || (!good && k->zero && v == 0)) continue;
            if (!good && v < 0 && k->lo == 0 && k->kind == RUN_KEY_COUNT) continue;
            char text[64];
            run_file_bound_text(v, text, sizeof text);
            run_setup s;
            run_setup_init(&s);
            snprintf(s.cfg.ion, sizeof s.cfg.ion, "He-4");
            s.cfg.energy = 100;
            /* What the key's own rules between keys ask for, to test its range alone. */
            if (strncmp(k->name, "map-", 4) == 0) s.cfg.map_kind = MAP_RZ;
            if (strcmp(k->name, "alpha-beta") == 0 || strcmp(k->name, "bio-dose") == 0)
                snprintf(s.cfg.bio_model, sizeof s.cfg.bio_model, "mkm");
            if (strcmp(k->name, "histories") == 0) s.cfg.batches = 2;
            const char *key = NULL;
            int set = run_setup_set(&s, k, text, &e);
            char why[512];
            snprintf(why, sizeof why, "%s", e.msg);
            if (good) {
                cr_expect(set == BRAGG_OK, "%s = %s refused: %s", k->name, text, why);
                int valid = config_validate_key(&s.cfg, &cat, &key, &e);
                cr_expect(valid == BRAGG_OK, "%s = %s refused by config_validate: %s", k->name,
                          text, e.msg);
            } else {
                cr_expect(set == BRAGG_ERR && strstr(why, "(valid: "),
                          "%s = %s taken (or no range said: %s)", k->name, text, why);
                /* The field set directly, as a program does: config_validate names the key. */
                char *field = (char *)&s.cfg + k->offset;
                if (k->kind == RUN_KEY_INT) *(int *)(void *)field = (int)v;
                else if (k->kind == RUN_KEY_COUNT) *(uint64_t *)(void *)field = (uint64_t)v;
                else *(double *)(void *)field = v / k->unit;
                cr_expect(config_validate_key(&s.cfg, &cat, &key, &e) == BRAGG_ERR && key &&
                              strcmp(key, k->name) == 0 &&
                              strncmp(e.msg, k->name, strlen(k->name)) == 0,
                          "%s = %s: config_validate said %s (key %s)", k->name, text, e.msg,
                          key ? key : "none");
            }
            checked++;
        }
    }
    cr_expect(checked > 60, "%d values checked", checked);
    catalog_free(&cat);
}

/* An option whose value is missing took the next option as its value: `--json --csv` wrote a
 * JSON named "--csv" (exit 0), `--csv --no-nuclear --json o.json` a CSV named "--no-nuclear"
 * and left the reactions on. Now that is "needs a value"; "-" stays a value, and a value that
 * starts with "--" can be given as --json=--odd. */
Test(cli, an_option_is_never_taken_as_the_value_of_another)
{
    char dir[64], cmd[1024], out[8192];
    testkit_temp_dir(dir, sizeof dir, "cli");
    const char *base = "run --ion p --energy 100 --material water -n 100 -q";
    const struct {
        const char *args, *needle;
    } cases[] = {
        {"--json --csv", "--json: needs a value (FILE or -)"},
        {"--csv --no-nuclear --json o.json", "--csv: needs a value (FILE or -)"},
        {"--json -q", "--json: needs a value"},
        {"--seed -n 5", "--seed: needs a value (S)"},
        {"--json", "--json: needs a value (FILE or -)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(cmd, sizeof cmd, "cd %s && %s %s %s", dir, testkit_bragg(), base, cases[i].args);
        int rc = testkit_shell(cmd, out, sizeof out);
        cr_expect(rc == 2 && strstr(out, cases[i].needle) &&
                      strchr(out, '\n') == strrchr(out, '\n'),
                  "'%s' exited %d: %s", cmd, rc, out);
    }
    snprintf(cmd, sizeof cmd, "cd %s && ls -A", dir);
    testkit_shell(cmd, out, sizeof out);
    cr_expect(out[0] == '\0', "files written: %s", out);
    /* "-" is standard output; --json=--odd a file of that name. */
    snprintf(cmd, sizeof cmd, "cd %s && %s %s --json - > stdout.json && %s %s --json=--odd", dir,
             testkit_bragg(), base, testkit_bragg(), base);
    int rc = testkit_shell(cmd, out, sizeof out);
    cr_expect(rc == 0, "'%s' exited %d: %s", cmd, rc, out);
    char path[256];
    snprintf(path, sizeof path, "%s/stdout.json", dir);
    cJSON_Delete(testkit_read_json(path));
    snprintf(path, sizeof path, "%s/--odd", dir);
    cJSON_Delete(testkit_read_json(path));
    /* A short option and its value run together: the message shows them apart. */
    expect_bad("run --ion p --energy 100 --material water -n1e4", "-n 1e4");
    testkit_remove_dir(dir);
}

/* Run files: a key given twice, a run's key after a section line (which bragg run skips), an
 * unknown section, control characters in a key, a byte order mark, a folder; the rules
 * between keys named with the line that set the key; a value in quotes. The command line's
 * option given twice takes the last. */
Test(cli, run_file_mistakes_are_named_with_their_line)
{
    char dir[64], path[256], args[1024];
    testkit_temp_dir(dir, sizeof dir, "cli");
    snprintf(path, sizeof path, "%s/r.conf", dir);
    snprintf(args, sizeof args, "run --config %s -q", path);
    const char *head = "ion = p\nenergy = 100\nmaterial = water\nhistories = 200\n";
    const struct {
        const char *tail, *needle;
    } cases[] = {
        {"energy = 150\n", "r.conf line 5: energy: given twice (lines 2 and 5"},
        {"[workbench]\nseed = 7\n", "r.conf line 6: seed: in section [workbench], which bragg "
                                    "run skips; move it above the section line"},
        {"[workbench]\njson = x.json\n", "r.conf line 6: json: in section [workbench]"},
        {"[bragg]\nseed = 7\n", "r.conf line 5: unknown section 'bragg' (valid: [workbench]"},
        {"\x1b]0;title\x07 = 1\n", "r.conf line 5: unknown key '\\x1b]0;title\\x07'"},
        {"bio-dose = 3\n", "r.conf line 5: bio-dose: needs a biological model"},
        {"cell = HSG\n", "r.conf line 5: cell: needs a biological model"},
        {"map-radius = 2\n", "r.conf line 5: map-radius: needs a dose map"},
        {"batches = 500\n", "r.conf line 4: histories: 200 is fewer than the 500 batches"},
        {"step-min = 0.000001\n", "r.conf line 5: step-min: 1e-6 is out of range (valid: 0 "
                                  "(automatic) or 1e-5 to 10 mm)"},
        {"iwater = 76\n", "r.conf line 5: iwater: 76 is out of range (valid: 75 or 78 eV)"},
        {"map-kind = rz\nmap-bin = 5\nmap-radius = 0.2\n", "r.conf line 7: map-radius: 0.2 cm "
                                                           "is below the map bin"},
        {"json = \"a.json\" b\n", "r.conf line 5: json: text after the closing quote"},
        {"json = \"a.json\n", "r.conf line 5: json: no closing quote"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[512];
        snprintf(text, sizeof text, "%s%s", head, cases[i].tail);
        write_text(path, text);
        expect_bad(args, cases[i].needle);
    }
    char out[16384];
    /* The command line supplies what the file lacks: the file's dose then has its model. */
    write_text(path, "ion = p\nenergy = 100\nmaterial = water\nhistories = 200\nbio-dose = 3\n");
    snprintf(args, sizeof args, "run --config %s -q --bio rbe1.1", path);
    int rc = testkit_cli(args, out, sizeof out);
    cr_expect(rc == 0, "'bragg %s' exited %d: %s", args, rc, out);
    /* A byte order mark is no part of the first key; a quoted value keeps its '#'. */
    char text[512];
    snprintf(text, sizeof text, "\xEF\xBB\xBFion = p\nenergy = 100\nmaterial = water\n"
                                "histories = 200\njson = \"%s/a #1.json\"  # the JSON\n", dir);
    write_text(path, text);
    snprintf(args, sizeof args, "run --config %s -q", path);
    rc = testkit_cli(args, out, sizeof out);
    cr_expect(rc == 0, "'bragg %s' exited %d: %s", args, rc, out);
    char json[256];
    snprintf(json, sizeof json, "%s/a #1.json", dir);
    cr_expect(access(json, F_OK) == 0, "no %s", json);
    /* The last of an option given twice on the command line. */
    cJSON *last = run_json(dir, "last.json", "run --ion p --energy 100 --material water -n 200 "
                                             "--seed 3 --seed 4");
    cr_expect(json_number(last, "config", "seed") == 4);
    cJSON_Delete(last);
    snprintf(args, sizeof args, "run --config %s", dir);
    expect_bad(args, ": is a folder (valid: a run file)");
    testkit_remove_dir(dir);
}

/* Outputs never replace the asset files the run reads (a copy named by BRAGG_ASSETS may sit
 * beside them): --json acopy/ions.tsv overwrote the ions. Every .tsv of the folder is one the
 * list names. */
Test(cli, outputs_never_replace_the_assets)
{
    char dir[64], cmd[2048], out[8192];
    testkit_temp_dir(dir, sizeof dir, "cli");
    snprintf(cmd, sizeof cmd, "cp %s/*.tsv %s/", BRAGG_ASSET_DIR, dir);
    cr_assert(system(cmd) == 0);
    for (int k = 0; assets_files[k]; k++) {
        snprintf(cmd, sizeof cmd, "BRAGG_ASSETS=%s %s run --ion p --energy 100 --material water "
                                  "-n 100 -q --json %s/%s", dir, testkit_bragg(), dir,
                 assets_files[k]);
        int rc = testkit_shell(cmd, out, sizeof out);
        cr_expect(rc == 2 && strstr(out, "--json") && strstr(out, assets_files[k]),
                  "'%s' exited %d: %s", cmd, rc, out);
        snprintf(cmd, sizeof cmd, "cmp -s %s/%s %s/%s", BRAGG_ASSET_DIR, assets_files[k], dir,
                 assets_files[k]);
        cr_expect(system(cmd) == 0, "%s was changed", assets_files[k]);
    }
    snprintf(cmd, sizeof cmd, "cd %s && ls *.tsv", BRAGG_ASSET_DIR);
    testkit_shell(cmd, out, sizeof out);
    int n = 0;
    for (char *name = strtok(out, "\n"); name; name = strtok(NULL, "\n"), n++) {
        int listed = 0;
        for (int k = 0; assets_files[k]; k++) listed |= strcmp(assets_files[k], name) == 0;
        cr_expect(listed, "assets/%s is not in assets_files", name);
    }
    int listed = 0;
    while (assets_files[listed]) listed++;
    cr_expect(n == listed, "%d .tsv files, %d listed", n, listed);
    testkit_remove_dir(dir);
}

/* bragg run's options are the run keys and the outputs of run_output_keys (which the
 * workbench keeps in its settings file), --config and --help: nothing else, nothing left out. */
Test(cli, run_options_are_the_run_keys_and_the_outputs)
{
    static char out[65536];
    cr_assert(testkit_cli("run --help", out, sizeof out) == 0, "%s", out);
    int outputs = 0;
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
        char *opt = strstr(line, "--");
        if (strncmp(line, "  ", 2) != 0 || !opt || opt > line + 12) continue;
        char name[64];
        if (sscanf(opt + 2, "%63[a-z0-9-]", name) != 1) continue;
        int known = run_key_find(name) || !strcmp(name, "config") || !strcmp(name, "help");
        if (run_output_key_find(name)) known = 1, outputs++;
        cr_expect(known, "--%s is neither a run key nor an output", name);
    }
    int listed = 0;
    while (run_output_keys[listed].name) listed++;
    cr_expect(outputs == listed, "%d outputs in --help, %d in run_output_keys", outputs, listed);
}

/* -0 is 0: the JSON said -0 for --spot -0. --help writes ranges as the messages do, 2^64 - 1
 * in digits (it said 1.84467e+19). Relative outputs of a run file are relative to the current
 * folder, not to the file's. */
Test(cli, numbers_and_paths_as_written)
{
    char dir[64], cmd[1024], out[16384];
    testkit_temp_dir(dir, sizeof dir, "cli");
    cJSON *run = run_json(dir, "zero.json", "run --ion p --energy 100 --material water -n 200 "
                                            "--spot -0");
    char *printed = cJSON_Print(run);
    cr_expect(!strstr(printed, "-0,") && !strstr(printed, "-0\n"), "a -0 in the JSON");
    free(printed);
    cJSON_Delete(run);
    cr_assert(testkit_cli("run --help", out, sizeof out) == 0);
    cr_expect(strstr(out, "[0 to 18446744073709551615]") && !strstr(out, "e+"), "%s", out);
    snprintf(cmd, sizeof cmd, "mkdir %s/sub && printf 'ion = p\\nenergy = 100\\nmaterial = "
                              "water\\nhistories = 200\\njson = rel.json\\n' > %s/sub/r.conf && "
                              "cd %s && %s run --config sub/r.conf -q && ls rel.json",
             dir, dir, dir, testkit_bragg());
    int rc = testkit_shell(cmd, out, sizeof out);
    cr_expect(rc == 0, "'%s' exited %d: %s", cmd, rc, out);
    testkit_remove_dir(dir);
}
