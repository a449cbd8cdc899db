/*
 * test_robust.c - issue 19, the hostile user: outputs never clobber a device, a FIFO or a
 * symlink; a signal never loses a finished run nor leaves temporaries; bad input (corrupted
 * assets, bad output paths, oversized runs, malformed arguments and JSON) is refused before
 * any transport with one line naming the field and its range.
 *
 * Runs the binary named by $BRAGG_BIN (the Makefile sets it) and the library directly. The
 * character-device test needs root (mknod); elsewhere it is skipped and says why.
 */
#define _GNU_SOURCE   /* unshare(CLONE_NEWNS): a file system mounted for this test alone */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "atomic_file.h"
#include "catalog.h"
#include "engine.h"
#include "memory.h"
#include "phase_space.h"
#include "tables.h"
#include "testkit.h"

TestSuite(robust, .timeout = 120);

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert(f, "cannot create %s", path);
    fputs(text, f);
    fclose(f);
}

/* Files in dir whose name contains `part`. */
static int count_files(const char *dir, const char *part)
{
    DIR *d = opendir(dir);
    cr_assert(d, "cannot list %s", dir);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (strstr(de->d_name, part)) n++;
    closedir(d);
    return n;
}

/* Starts bragg with argv (NULL-terminated, without the program), output to `log`. */
static pid_t spawn(const char *const *args, const char *log)
{
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        int fd = open(log ? log : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 1);
        dup2(fd, 2);
        const char *argv[64] = {"bragg"};
        int n = 1;
        for (; args[n - 1] && n < 63; n++) argv[n] = args[n - 1];
        argv[n] = NULL;
        execv(testkit_bragg(), (char *const *)argv);
        _exit(127);
    }
    return pid;
}

static int wait_exit(pid_t pid)
{
    int st;
    cr_assert(waitpid(pid, &st, 0) == pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
}

/* ---- special files as outputs --------------------------------------------------------- */

/* The atomic writer on each kind of target: a FIFO is written through (a reader gets the
 * data, the FIFO stays), a symlink's target is replaced and the link stays (a dangling link
 * gets its target created), a regular file keeps its permission bits. */
Test(robust, atomic_writer_keeps_fifos_and_symlinks)
{
    char dir[256], p[1024], q[1024];
    testkit_temp_dir(dir, sizeof dir, "special");
    bragg_err e;
    atomic_file af;

    snprintf(p, sizeof p, "%s/fifo", dir);
    cr_assert(mkfifo(p, 0600) == 0);
    snprintf(q, sizeof q, "%s/fifo.out", dir);
    pid_t reader = fork();
    if (reader == 0) {
        char cmd[2100];
        /* timeout: should the writer never open the FIFO, the reader must not wait for ever. */
        snprintf(cmd, sizeof cmd, "timeout 30 cat '%s' > '%s'", p, q);
        _exit(system(cmd) == 0 ? 0 : 1);
    }
    cr_assert(atomic_file_check_path(p, "--csv", &e) == BRAGG_OK, "%s", e.msg);
    cr_assert(atomic_file_open(&af, p, "--csv", &e) == BRAGG_OK, "%s", e.msg);
    fputs("through the fifo\n", af.file);
    cr_assert(atomic_file_commit(&af, &e) == BRAGG_OK, "%s", e.msg);
    cr_assert(wait_exit(reader) == 0);
    struct stat st;
    cr_expect(lstat(p, &st) == 0 && S_ISFIFO(st.st_mode), "the FIFO was replaced");
    char *got = testkit_read_text(q);
    cr_expect(got && strcmp(got, "through the fifo\n") == 0, "reader got '%s'", got);
    free(got);

    snprintf(p, sizeof p, "%s/real.json", dir);
    write_text(p, "old\n");
    cr_assert(chmod(p, 0640) == 0);
    snprintf(q, sizeof q, "%s/link.json", dir);
    cr_assert(symlink("real.json", q) == 0);
    cr_assert(atomic_file_open(&af, q, "--json", &e) == BRAGG_OK, "%s", e.msg);
    fputs("new\n", af.file);
    cr_assert(atomic_file_commit(&af, &e) == BRAGG_OK, "%s", e.msg);
    cr_expect(lstat(q, &st) == 0 && S_ISLNK(st.st_mode), "the symlink was replaced");
    got = testkit_read_text(p);
    cr_expect(got && strcmp(got, "new\n") == 0, "the link's target holds '%s'", got);
    free(got);
    cr_expect(stat(p, &st) == 0 && (st.st_mode & 0777) == 0640, "mode %o not kept",
              st.st_mode & 0777);

    snprintf(p, sizeof p, "%s/dangling.csv", dir);
    cr_assert(symlink("made.csv", p) == 0);
    cr_assert(atomic_file_open(&af, p, "--csv", &e) == BRAGG_OK, "%s", e.msg);
    fputs("made\n", af.file);
    cr_assert(atomic_file_commit(&af, &e) == BRAGG_OK, "%s", e.msg);
    snprintf(q, sizeof q, "%s/made.csv", dir);
    cr_expect(lstat(p, &st) == 0 && S_ISLNK(st.st_mode) && stat(q, &st) == 0 &&
              S_ISREG(st.st_mode), "a dangling link's target is created, the link kept");
    cr_expect(count_files(dir, ".tmp.") == 0, "temporary files left behind");
    testkit_remove_dir(dir);
}

/* /dev/null named as an output, as root, used to be replaced by a regular file. A private
 * copy of it (mknod, root only) plays it here. */
Test(robust, character_device_output_is_written_through)
{
    char dir[256], dev[1024], args_json[1100], args_png[1100];
    testkit_temp_dir(dir, sizeof dir, "chardev");
    snprintf(dev, sizeof dev, "%s/null", dir);
    if (mknod(dev, S_IFCHR | 0666, makedev(1, 3)) != 0) {
        int err = errno;
        testkit_remove_dir(dir);
        cr_skip_test("cannot make a character device here (mknod: %s; needs root), so writing "
                     "through one is not tested", strerror(err));
    }
    snprintf(args_json, sizeof args_json, "%s", dev);
    snprintf(args_png, sizeof args_png, "%s", dev);
    const char *run[] = {"run", "--ion", "p", "--energy", "60", "--material", "water", "-n",
                         "200", "-q", "--csv", dev, "--json", args_json, "--png", args_png, NULL};
    cr_expect(wait_exit(spawn(run, NULL)) == 0);
    const char *sobp[] = {"sobp", "--ion", "p", "--material", "water", "--from", "2", "--to",
                          "2.4", "-n", "200", "-q", "--csv", dev, "--json", dev, NULL};
    cr_expect(wait_exit(spawn(sobp, NULL)) == 0);
    struct stat st;
    cr_expect(lstat(dev, &st) == 0 && S_ISCHR(st.st_mode), "the device was replaced by a file");
    cr_expect(count_files(dir, ".tmp.") == 0);
    testkit_remove_dir(dir);
}

/* Every command's outputs go through the same writer: run, plot, sobp and bench into a FIFO
 * (read by a child) and through symlinks, which stay links. */
Test(robust, every_command_keeps_fifos_and_symlinks)
{
    char dir[256], fifo[1024], out[1024], link[1024], target[1024], log[1024];
    testkit_temp_dir(dir, sizeof dir, "cmds");
    snprintf(fifo, sizeof fifo, "%s/pipe", dir);
    snprintf(out, sizeof out, "%s/pipe.out", dir);
    snprintf(log, sizeof log, "%s/log", dir);
    cr_assert(mkfifo(fifo, 0600) == 0);
    static const char *names[] = {"run.json", "plot.png", "sobp.json", "bench.json"};
    for (int k = 0; k < 4; k++) {
        snprintf(link, sizeof link, "%s/link-%s", dir, names[k]);
        cr_assert(symlink(names[k], link) == 0);
    }
    pid_t reader = fork();
    if (reader == 0) {
        char cmd[2200];
        /* Each command opens the FIFO once: four readers in a row. */
        snprintf(cmd, sizeof cmd, "for i in 1 2 3; do timeout 30 cat '%s'; done > '%s'", fifo,
                 out);
        _exit(system(cmd) == 0 ? 0 : 1);
    }
    char l_run[1100], l_plot[1100], l_sobp[1100], l_bench[1100], src[1100];
    snprintf(l_run, sizeof l_run, "%s/link-run.json", dir);
    snprintf(l_plot, sizeof l_plot, "%s/link-plot.png", dir);
    snprintf(l_sobp, sizeof l_sobp, "%s/link-sobp.json", dir);
    snprintf(l_bench, sizeof l_bench, "%s/link-bench.json", dir);
    snprintf(src, sizeof src, "%s/run.json", dir);
    const char *run[] = {"run", "--ion", "p", "--energy", "60", "--material", "water", "-n",
                         "200", "-q", "--csv", fifo, "--json", l_run, NULL};
    cr_expect(wait_exit(spawn(run, log)) == 0);
    const char *plot[] = {"plot", src, "--png", l_plot, "--size", "320x200", NULL};
    cr_expect(wait_exit(spawn(plot, log)) == 0);
    const char *sobp[] = {"sobp", "--ion", "p", "--material", "water", "--from", "2", "--to",
                          "2.4", "-n", "200", "-q", "--csv", fifo, "--json", l_sobp, NULL};
    cr_expect(wait_exit(spawn(sobp, log)) == 0);
    const char *bench[] = {"bench", "--case", "p-150-water", "--scale", "0.001", "--quick",
                           "--threads", "1", "--json", l_bench, "--png", fifo, NULL};
    cr_expect(wait_exit(spawn(bench, log)) == 0);
    cr_expect(wait_exit(reader) == 0);
    struct stat st;
    cr_expect(lstat(fifo, &st) == 0 && S_ISFIFO(st.st_mode), "the FIFO was replaced");
    for (int k = 0; k < 4; k++) {
        snprintf(link, sizeof link, "%s/link-%s", dir, names[k]);
        snprintf(target, sizeof target, "%s/%s", dir, names[k]);
        cr_expect(lstat(link, &st) == 0 && S_ISLNK(st.st_mode), "%s: the link was replaced",
                  names[k]);
        cr_expect(stat(target, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 100,
                  "%s: the link's target was not written", names[k]);
    }
    cr_expect(stat(out, &st) == 0 && st.st_size > 1000, "the FIFO's reader got nothing");
    cr_expect(count_files(dir, ".tmp.") == 0);
    testkit_remove_dir(dir);
}

/* A kill -9 while writing leaves "<target>.tmp.<pid>"; the next write of that target removes
 * it. A live process's temporary (this test's own pid) is left alone. */
Test(robust, stale_temporaries_of_dead_processes_are_removed)
{
    char dir[256], p[1024], stale[1100], live[1100], other[1100];
    testkit_temp_dir(dir, sizeof dir, "stale");
    pid_t dead = fork();
    if (dead == 0) _exit(0);
    cr_assert(waitpid(dead, NULL, 0) == dead);
    snprintf(p, sizeof p, "%s/out.json", dir);
    snprintf(stale, sizeof stale, "%s.tmp.%ld", p, (long)dead);
    snprintf(live, sizeof live, "%s.tmp.%ld", p, (long)getpid());
    snprintf(other, sizeof other, "%s/other.json.tmp.%ld", dir, (long)dead);
    write_text(stale, "{\"half");
    write_text(live, "{\"half");
    write_text(other, "{\"half");
    char args[2048], outbuf[4096];
    snprintf(args, sizeof args, "run --ion p --energy 60 --material water -n 100 -q --json %s",
             p);
    cr_assert(testkit_cli(args, outbuf, sizeof outbuf) == 0, "%s", outbuf);
    cr_expect(access(stale, F_OK) != 0, "the dead process's temporary is still there");
    cr_expect(access(live, F_OK) == 0, "a live process's temporary was removed");
    cr_expect(access(other, F_OK) == 0, "another target's temporary was removed");
    testkit_remove_dir(dir);
}

/* ---- signals ---------------------------------------------------------------------------- */

/* A PNG is whole when it ends with its IEND chunk. */
static int png_whole(const char *path)
{
    size_t n;
    char *t = testkit_read_bytes(path, &n);
    static const unsigned char iend[12] = {0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xae, 0x42, 0x60, 0x82};
    int ok = t && n > 20 && memcmp(t, "\x89PNG", 4) == 0 && memcmp(t + n - 12, iend, 12) == 0;
    free(t);
    return ok;
}

/* The CSV is whole: a header and one row per bin of the JSON, the last ending its line. */
static int csv_rows(const char *path)
{
    size_t n;
    char *t = testkit_read_bytes(path, &n);
    if (!t || n == 0 || t[n - 1] != '\n') {
        free(t);
        return -1;
    }
    int rows = 0;
    for (size_t i = 0; i < n; i++) rows += t[i] == '\n';
    free(t);
    return rows - 1;
}

/* Starts a run whose outputs take a while to write (47 000 depth bins), waits until its first
 * temporary appears (inotify: no polling lag), then sends `sig` (and `second`, if not 0).
 * Returns the exit status. */
static int watch_folder(const char *dir)
{
    int fd = inotify_init1(IN_CLOEXEC);
    cr_assert(fd >= 0);
    cr_assert(inotify_add_watch(fd, dir, IN_CREATE) >= 0);
    return fd;
}

/* Waits on `fd` (watch_folder) for a file whose name holds `needle`, signals `pid` then, and
 * returns its exit status. */
static int signal_on_create(int fd, pid_t pid, const char *needle, int sig, int second)
{
    int sent = 0;
    double t0 = now_s();
    while (!sent && now_s() - t0 < 60 * testkit_time_scale()) {
        struct pollfd pfd = {fd, POLLIN, 0};
        if (poll(&pfd, 1, 1000) <= 0) continue;
        char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
        ssize_t n = read(fd, buf, sizeof buf);
        for (char *p = buf; p < buf + n;) {
            struct inotify_event *ev = (struct inotify_event *)(void *)p;
            if (!sent && ev->len && strstr(ev->name, needle)) {
                kill(pid, sig);
                if (second) kill(pid, second);
                sent = 1;
            }
            p += sizeof *ev + ev->len;
        }
    }
    close(fd);
    cr_assert(sent, "no file '*%s*' appeared", needle);
    return wait_exit(pid);
}

static int signal_while_writing(const char *dir, const char *logdir, int sig, int second)
{
    int fd = watch_folder(dir);
    char csv[1100], json[1100], png[1100], log[1100];
    snprintf(csv, sizeof csv, "%s/o.csv", dir);
    snprintf(json, sizeof json, "%s/o.json", dir);
    snprintf(png, sizeof png, "%s/o.png", dir);
    snprintf(log, sizeof log, "%s/log-%d", logdir, sig);
    const char *args[] = {"run", "--ion", "p", "--energy", "100", "--material", "water", "-n",
                          "500", "--bin", "0.002", "-q", "--csv", csv, "--json", json, "--png",
                          png, NULL};
    pid_t pid = spawn(args, log);
    return signal_on_create(fd, pid, ".tmp.", sig, second);
}

/* Issue acceptance: Ctrl-C, SIGTERM or SIGHUP while the outputs are written: the finished run
 * is written whole, exit 130, no temporary left (it used to die, leaving *.tmp.* and no
 * results). */
Test(robust, a_signal_while_writing_keeps_whole_outputs)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    char logdir[256];
    testkit_temp_dir(logdir, sizeof logdir, "siglog");
    for (int k = 0; k < 3; k++) {
        char dir[256], path[1100];
        testkit_temp_dir(dir, sizeof dir, "sigwrite");
        int rc = signal_while_writing(dir, logdir, sigs[k], 0);
        cr_expect(rc == 130, "signal %d: exit %d", sigs[k], rc);
        snprintf(path, sizeof path, "%s/o.json", dir);
        cJSON *root = testkit_read_json(path);
        int nbins = cJSON_GetArraySize(
            cJSON_GetObjectItem(cJSON_GetObjectItem(root, "depth_curves"), "dose_Gy_cm2"));
        cr_expect(cJSON_IsFalse(cJSON_GetObjectItem(root, "partial")),
                  "the run had finished: not partial");
        cJSON_Delete(root);
        snprintf(path, sizeof path, "%s/o.csv", dir);
        cr_expect(nbins > 40000 && csv_rows(path) == nbins, "signal %d: CSV rows %d, bins %d",
                  sigs[k], csv_rows(path), nbins);
        snprintf(path, sizeof path, "%s/o.png", dir);
        cr_expect(png_whole(path), "signal %d: the PNG is not whole", sigs[k]);
        cr_expect(count_files(dir, ".tmp.") == 0, "signal %d: temporaries left", sigs[k]);
        testkit_remove_dir(dir);
    }
    testkit_remove_dir(logdir);
}

/* A second signal aborts at once: exit 130, no temporary left; an output is whole or absent. */
Test(robust, a_second_signal_aborts_without_temporaries)
{
    char dir[256], logdir[256], path[1100];
    testkit_temp_dir(dir, sizeof dir, "sigtwice");
    testkit_temp_dir(logdir, sizeof logdir, "siglog");
    int rc = signal_while_writing(dir, logdir, SIGINT, SIGINT);
    cr_expect(rc == 130, "exit %d", rc);
    cr_expect(count_files(dir, ".tmp.") == 0, "temporaries left behind");
    snprintf(path, sizeof path, "%s/o.csv", dir);
    cr_expect(access(path, F_OK) != 0 || csv_rows(path) > 40000, "a partial CSV");
    snprintf(path, sizeof path, "%s/o.png", dir);
    cr_expect(access(path, F_OK) != 0 || png_whole(path), "a partial PNG");
    testkit_remove_dir(dir);
    testkit_remove_dir(logdir);
}

/* The MCPL library writes to a scratch file of its own before bragg copies it into the output:
 * registered like the temporaries, a second signal removes it too (it stayed, a 10 MB
 * "o.mcpl.scratch.PID.mcpl" that mcpltool reads as a phase space, and no later run removed
 * it). */
Test(robust, a_second_signal_removes_the_phase_space_scratch_file)
{
    char reason[160];
    cr_assert(phase_space_available(reason, sizeof reason), "%s", reason);
    char dir[256], logdir[256], mcpl[1100], log[1100];
    testkit_temp_dir(dir, sizeof dir, "sigmcpl");
    testkit_temp_dir(logdir, sizeof logdir, "siglog");
    snprintf(mcpl, sizeof mcpl, "%s/o.mcpl", dir);
    snprintf(log, sizeof log, "%s/log", logdir);
    int fd = watch_folder(dir);
    const char *args[] = {"run", "--ion", "p", "--energy", "150", "--material", "water", "-n",
                          "200000", "--no-nuclear", "-q", "--threads", "2", "--phase-space",
                          mcpl, "--phase-space-depth", "1", NULL};
    pid_t pid = spawn(args, log);
    int rc = signal_on_create(fd, pid, ".mcpl", SIGINT, SIGINT);
    cr_expect(rc == 130, "exit %d", rc);
    cr_expect(count_files(dir, "o.mcpl.") == 0, "the scratch file was left behind");
    testkit_remove_dir(dir);
    testkit_remove_dir(logdir);
}

/* A phase space to a device or FIFO (/dev/null) keeps its scratch file in TMPDIR: beside
 * /dev/null it was a file in /dev for root, and for anyone else a failure after the whole run
 * ("cannot write '/dev/null': Unable to open output file!"). A name ending .gz is refused up
 * front: the file would be plain MCPL, which readers take by its name for gzip. */
Test(robust, a_phase_space_to_a_device_keeps_its_scratch_file_in_tmpdir)
{
    char reason[160];
    cr_assert(phase_space_available(reason, sizeof reason), "%s", reason);
    char dir[256], cmd[1400], out[4096];
    testkit_temp_dir(dir, sizeof dir, "pstmp");
    snprintf(cmd, sizeof cmd,
             "TMPDIR=%s '%s' run --ion p --energy 100 --material water -n 200 -q "
             "--phase-space /dev/null --phase-space-depth 2",
             dir, testkit_bragg());
    int rc = testkit_shell(cmd, out, sizeof out);
    cr_expect(rc == 0, "exit %d: %s", rc, out);
    cr_expect(count_files(dir, "bragg-") == 0, "the scratch file was left in TMPDIR");
    cr_expect(count_files("/dev", "null.tmp.") + count_files("/dev", "null.scratch") == 0,
              "a scratch file beside /dev/null");
    snprintf(cmd, sizeof cmd,
             "run --ion p --energy 100 --material water -n 200 -q --phase-space %s/p.mcpl.gz "
             "--phase-space-depth 2", dir);
    rc = testkit_cli(cmd, out, sizeof out);
    cr_expect(rc == 2 && strstr(out, "--phase-space") && strstr(out, ".gz"), "exit %d: %s", rc,
              out);
    cr_expect(count_files(dir, "p.mcpl") == 0, "a file for the refused run");
    testkit_remove_dir(dir);
}

/* The handler is the first thing main() installs: a SIGINT the moment it exists (seen in
 * /proc as a caught signal) exits 130 cleanly, with nothing half-written. Before that moment
 * only the dynamic loader runs, which no program can guard. */
Test(robust, a_signal_at_start_exits_130)
{
    char dir[256], json[1100], status[64];
    testkit_temp_dir(dir, sizeof dir, "sigstart");
    snprintf(json, sizeof json, "%s/o.json", dir);
    const char *args[] = {"run", "--ion", "C-12", "--energy", "400", "--material", "water",
                          "-n", "1e6", "-q", "--json", json, NULL};
    pid_t pid = spawn(args, NULL);
    snprintf(status, sizeof status, "/proc/%ld/status", (long)pid);
    int caught = 0;
    for (double t0 = now_s(); !caught && now_s() - t0 < 10 * testkit_time_scale();) {
        FILE *f = fopen(status, "r");
        char line[256];
        while (f && fgets(line, sizeof line, f))
            if (strncmp(line, "SigCgt:", 7) == 0)
                caught = (strtoull(line + 7, NULL, 16) >> (SIGINT - 1)) & 1;
        if (f) fclose(f);
    }
    cr_assert(caught, "bragg never installed a SIGINT handler");
    kill(pid, SIGINT);
    int rc = wait_exit(pid);
    cr_expect(rc == 130, "exit %d", rc);
    cr_expect(count_files(dir, ".tmp.") == 0);
    if (access(json, F_OK) == 0) {   /* it got as far as the run: partial results, whole */
        cJSON *root = testkit_read_json(json);
        cr_expect(cJSON_IsTrue(cJSON_GetObjectItem(root, "partial")));
        cJSON_Delete(root);
    }
    testkit_remove_dir(dir);
}

/* ---- corrupted assets --------------------------------------------------------------------- */

/* The asset folder copied to a temporary one, `sed_script` applied to `file`; then `bragg
 * args` must exit 2 within `seconds`, its one-line message holding every needle. */
static void expect_bad_asset(const char *file, const char *sed_script, const char *args,
                             const char *needle1, const char *needle2)
{
    char dir[256], cmd[4096], out[8192];
    testkit_temp_dir(dir, sizeof dir, "assets");
    snprintf(cmd, sizeof cmd, "cp %s/*.tsv %s/ && sed -i '%s' %s/%s", BRAGG_ASSET_DIR, dir,
             sed_script, dir, file);
    cr_assert(system(cmd) == 0, "%s", cmd);
    /* timeout: a regression to the endless step loop must fail, not hang the suite. */
    snprintf(cmd, sizeof cmd, "BRAGG_ASSETS=%s timeout -s KILL 20 %s %s", dir, testkit_bragg(),
             args);
    int rc = testkit_shell(cmd, out, sizeof out);
    cr_expect(rc == 2, "%s '%s': exit %d: %s", file, sed_script, rc, out);
    cr_expect(strstr(out, needle1) && (!needle2 || strstr(out, needle2)),
              "%s '%s': '%s' lacks '%s' / '%s'", file, sed_script, out, needle1,
              needle2 ? needle2 : "");
    char *nl = strchr(out, '\n');
    cr_expect(nl && nl[1] == '\0', "not one line: '%s'", out);
    testkit_remove_dir(dir);
}

/* The line of the first row of `file` starting with `prefix`. */
static int line_of(const char *file, const char *prefix)
{
    char path[1024], line[8192];
    snprintf(path, sizeof path, "%s/%s", BRAGG_ASSET_DIR, file);
    FILE *f = fopen(path, "r");
    cr_assert(f);
    int n = 0, found = 0;
    while (!found && fgets(line, sizeof line, f)) {
        n++;
        found = strncmp(line, prefix, strlen(prefix)) == 0;
    }
    fclose(f);
    cr_assert(found, "%s has no row starting '%s'", file, prefix);
    return n;
}

/* Issue reproducer: a negative low-energy coefficient gave NaN step lengths and a run that
 * never ended (SIGINT did not stop it either); `bragg tables` printed -nan and exited 0. */
Test(robust, the_hanging_asset_is_refused_with_file_and_line)
{
    int h = line_of("stopping_lowenergy.tsv", "proton\tH\t");
    char sed[128], where[128];
    for (int col = 0; col < 5; col++) {
        /* Column col + 3 of line h: A1..A5 of the proton fit for hydrogen. */
        snprintf(sed, sizeof sed, "%ds/^\\(\\([^\\t]*\\t\\)\\{%d\\}\\)[^\\t]*/\\1-1000000/", h,
                 col + 2);
        snprintf(where, sizeof where, "stopping_lowenergy.tsv line %d: A%d: -1e+06 is out of range",
                 h, col + 1);
        expect_bad_asset("stopping_lowenergy.tsv", sed,
                         "run --ion p --energy 5 --material bone-cortical-icrp -n 2 --batches 2",
                         where, "valid: 1e-06 to 100000");
    }
    snprintf(sed, sizeof sed, "%ds/^\\(\\([^\\t]*\\t\\)\\{5\\}\\)[^\\t]*/\\1-1000000/", h);
    snprintf(where, sizeof where, "stopping_lowenergy.tsv line %d: A4", h);
    expect_bad_asset("stopping_lowenergy.tsv", sed,
                     "tables --ion p --material bone-cortical-icrp --emin 0.001", where, NULL);
}

/* Duplicate names, aliases, element Z, rows given twice, shell grids that do not rise,
 * implausible numbers: each refused with file and line. */
Test(robust, corrupted_assets_are_refused_with_file_and_line)
{
    const char *t = "tables --ion p --material water --points 2";
    char sed[256], where[128];
    int c12 = line_of("ions.tsv", "C-12\t"), n14 = line_of("ions.tsv", "N-14\t");
    snprintf(sed, sizeof sed, "%ds/^N-14\\t[^\\t]*/C-12\\tnitrogen/", n14);
    snprintf(where, sizeof where, "ions.tsv line %d: 'C-12' names ion C-12 already", n14);
    expect_bad_asset("ions.tsv", sed, t, where, NULL);
    snprintf(sed, sizeof sed, "%ds/^N-14\\t[^\\t]*/N-14\\tcarbon/", n14);
    snprintf(where, sizeof where, "ions.tsv line %d: 'carbon' names ion C-12 already", n14);
    expect_bad_asset("ions.tsv", sed, t, where, NULL);
    snprintf(sed, sizeof sed, "%ds/\\t[0-9.]*$/\\t300000/", c12);
    snprintf(where, sizeof where, "ions.tsv line %d: mass_MeV: 300000 is not within 2%%", c12);
    expect_bad_asset("ions.tsv", sed, t, where, NULL);

    int pmma = line_of("materials.tsv", "pmma\t");
    snprintf(sed, sizeof sed, "%ds/^pmma\\t[^\\t]*/pmma\\tG4_WATER/", pmma);
    snprintf(where, sizeof where, "materials.tsv line %d: 'G4_WATER' names material water", pmma);
    expect_bad_asset("materials.tsv", sed, t, where, NULL);
    snprintf(sed, sizeof sed, "%ds/^pmma\\t/water\\t/", pmma);
    snprintf(where, sizeof where, "materials.tsv line %d: 'water' names material water", pmma);
    expect_bad_asset("materials.tsv", sed, t, where, NULL);

    int oxygen = line_of("elements.tsv", "8\t");
    snprintf(sed, sizeof sed, "%ds/^8\\t/7\\t/", oxygen);
    snprintf(where, sizeof where, "elements.tsv line %d: Z = 7 given twice", oxygen);
    expect_bad_asset("elements.tsv", sed, t, where, NULL);

    int h = line_of("stopping_lowenergy.tsv", "proton\tH\t");
    snprintf(sed, sizeof sed, "%dp", h);   /* the hydrogen row twice */
    snprintf(where, sizeof where, "stopping_lowenergy.tsv line %d: proton H given twice", h + 1);
    expect_bad_asset("stopping_lowenergy.tsv", sed, t, where, NULL);

    int eta = line_of("shell_corrections.tsv", "grid\teta\t");
    snprintf(sed, sizeof sed, "%ds/\\t0.007\\t/\\t0.004\\t/", eta);
    snprintf(where, sizeof where, "shell_corrections.tsv line %d: eta: node 2", eta);
    expect_bad_asset("shell_corrections.tsv", sed, t, where, "does not rise");
    snprintf(sed, sizeof sed, "%ds/\\t0.005\\t/\\t0\\t/", eta);
    snprintf(where, sizeof where, "shell_corrections.tsv line %d: grid: 0 is out of range", eta);
    expect_bad_asset("shell_corrections.tsv", sed, t, where, NULL);
    int ck = line_of("shell_corrections.tsv", "ck\t");
    snprintf(sed, sizeof sed, "%ds/^ck\\t\\([^\\t]*\\)\\t[^\\t]*/ck\\t\\1\\t5e6/", ck);
    snprintf(where, sizeof where, "shell_corrections.tsv line %d: ck: 5e+06 is out of range", ck);
    expect_bad_asset("shell_corrections.tsv", sed, t, where, NULL);
}

/* The tables built from the assets are checked too (finite, positive stopping, a rising
 * range), whatever got past the rows' own checks; the message names the rows used. */
Test(robust, tables_are_validated_after_building)
{
    catalog cat;
    bragg_err e;
    cr_assert(catalog_load(&cat, &e) == BRAGG_OK, "%s", e.msg);
    const ion *p = ion_table_find(&cat.ions, "p");
    const material *water = material_table_find(&cat.materials, "bone-cortical-icrp");
    cr_assert(p && water);
    lowenergy_coeffs *h = &cat.stopping->low.proton[1];
    h->a[3] = -1e6;   /* as the hanging file had it, past the loader */
    transport_table tab;
    cr_expect(transport_table_build(&tab, p, water, cat.stopping, stopping_switches_all(), &e) ==
              BRAGG_ERR, "a table of NaNs was accepted");
    char want[64];
    snprintf(want, sizeof want, "lines %d (Z = 1)", h->line);
    cr_expect(strstr(e.msg, "tables of p in bone-cortical-icrp") && strstr(e.msg, want) &&
                  strstr(e.msg, "stopping_lowenergy.tsv"),
              "%s", e.msg);
    catalog_free(&cat);
}

/* The step loop ends a particle whose residual range is NaN instead of stepping for ever
 * (the table of the run is corrupted in memory behind the engine's back). */
Test(robust, a_nan_range_ends_the_history, .timeout = 20)
{
    run_config c = testkit_config("p", 100, 10);
    c.nuclear = 0;
    c.batches = 2;
    engine *en;
    bragg_err e;
    cr_assert(engine_create(&en, &c, &e) == BRAGG_OK, "%s", e.msg);
    transport_params p = *engine_params(en);
    const transport_table *orig = p.slabs[0].table[1];
    transport_table bad = *orig;
    char *block = malloc(orig->block_bytes);
    cr_assert(block);
    memcpy(block, orig->block, orig->block_bytes);
    ptrdiff_t shift = block - (char *)orig->block;
#define MOVE(col) bad.col = (grid_entry *)(void *)((char *)orig->col + shift)
    MOVE(stopping);
    MOVE(stopping_el);
    MOVE(range);
    MOVE(energy);
    MOVE(straggling);
    MOVE(scattering);
    MOVE(reaction);
    MOVE(reaction_cum);
    MOVE(z1d);
#undef MOVE
    bad.stopping_el_integral = (double *)(void *)((char *)orig->stopping_el_integral + shift);
    bad.z1d_integral = (double *)(void *)((char *)orig->z1d_integral + shift);
    bad.block = block;
    for (uint32_t i = 0; i < bad.energy_grid.ncell; i++) bad.range[i].value = NAN;
    p.slabs[0].table[1] = &bad;
    score_arrays a;
    cr_assert(score_arrays_init(&a, &p, &e) == BRAGG_OK);
    score_sink sink = score_arrays_sink(&a);
    for (uint64_t k = 0; k < 10; k++) transport_history(&p, k, &sink);
    cr_expect(sink.steps < 100, "%llu steps for 10 histories", (unsigned long long)sink.steps);
    score_arrays_free(&a);
    free(block);
    engine_destroy(en);
}

/* ---- bad input before the run ---------------------------------------------------------- */

/* Every output path is checked before anything is transported: exit 2 at once (a 1e6-history
 * carbon run takes minutes), one line naming the option and what is wrong. */
Test(robust, bad_output_paths_are_refused_before_the_run)
{
    char dir[256], file[1100];
    testkit_temp_dir(dir, sizeof dir, "paths");
    snprintf(file, sizeof file, "%s/file.json", dir);
    write_text(file, "{}\n");
    const char *run = "run --ion C-12 --energy 400 --material water -n 1e6 -q";
    struct {
        const char *fmt, *needle;
    } cases[] = {
        {"%s --json %s", "--json: cannot write"},                  /* the folder itself */
        {"%s --csv %s/.", "it is a folder"},
        {"%s --csv %s/file.json/x", "file.json' is not a folder"},
        {"%s --png %s/none/x.png", "/none' does not exist"},
        {"%s --csv %s/file.json/x/y.csv", "file.json' is not a folder"},
    };
    char args[2300], out[8192];
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        snprintf(args, sizeof args, cases[k].fmt, run, dir);
        double t0 = now_s();
        int rc = testkit_cli(args, out, sizeof out);
        double dt = now_s() - t0;
        cr_expect(rc == 2 && strstr(out, cases[k].needle), "'%s': exit %d: %s", args, rc, out);
        cr_expect(dt < 0.5 * testkit_time_scale(), "'%s' took %.2f s to refuse", args, dt);
    }
    const char *others[] = {"sobp --ion C-12 --material water --from 10 --to 15 --json %s",
                            "bench --json %s", "plot %s/file.json --png %s"};
    for (size_t k = 0; k < 3; k++) {
        snprintf(args, sizeof args, others[k], dir, dir);
        double t0 = now_s();
        int rc = testkit_cli(args, out, sizeof out);
        cr_expect(rc == 2 && strstr(out, "it is a folder"), "'%s': exit %d: %s", args, rc, out);
        cr_expect(now_s() - t0 < 0.5 * testkit_time_scale(), "'%s' was slow to refuse", args);
    }
    testkit_remove_dir(dir);
}

/* Scores that cannot fit are refused with the memory they would need (exit 2). Iron on 1024
 * threads with a million bins and a thousand batches needs about 750 GB; the issue's own
 * example (carbon, 16 GB) is refused wherever that is more than half the memory. */
Test(robust, oversized_runs_are_refused_with_their_memory)
{
    char out[8192];
    double t0 = now_s();
    int rc = testkit_cli("run --ion Fe-56 --energy 400 --material water --depth 100 --bin 0.001 "
                         "--batches 1000 --threads 1024 -q", out, sizeof out);
    cr_expect(rc == 2 && strstr(out, "memory: these scores need about") &&
                  strstr(out, "--batches"), "exit %d: %s", rc, out);
    cr_expect(now_s() - t0 < 2.0 * testkit_time_scale(), "refusing took %.2f s", now_s() - t0);
    double need = memory_run_bytes(1000000, 8, 1000, 2);
    if (need > 0.5 * memory_machine_bytes()) {
        rc = testkit_cli("run --ion C-12 --energy 400 --material water --depth 100 --bin 0.001 "
                         "--batches 1000 --threads 2 -q", out, sizeof out);
        cr_expect(rc == 2 && strstr(out, "GB"), "exit %d: %s", rc, out);
    }
    rc = testkit_cli("plot x.json --png x.png --size 4294967616x4294967496", out, sizeof out);
    cr_expect(rc == 2 && strstr(out, "--size: '4294967616x4294967496' is not a size"), "%s", out);
}

/* ---- messages ---------------------------------------------------------------------------- */

/* One line, whatever the argument holds: newlines and escapes are shown as \n, \x1b; a long
 * value is cut in the middle so that the valid range is still named. */
Test(robust, messages_are_one_line_and_name_the_range)
{
    static char out[16384];
    struct {
        const char *args, *needle;
    } cases[] = {
        {"run --ion p --material water --energy $'5\\n6'", "--energy: '5\\n6' is not a decimal"},
        {"run --ion $'p\\nq' --material water --energy 5", "ion: 'p\\nq' is not known"},
        {"run --ion p --material $'\\e[31mred' --energy 5", "'\\x1b[31mred' is not known"},
        {"run $'--x\\ny' 1", "unknown option '--x\\ny'"},
        {"run --ion p --material water --energy 5 --csv $'a\\nb/c.csv'", "'a\\nb' does not"},
        {"plot $'a\\nb.json' --png x.png", "'a\\nb.json': cannot read"},
        {"run --ion p --material water --energy 0x10", "'0x10' is not a decimal number"},
        {"run --ion p --material water --energy ' 5'", "' 5' is not a decimal number"},
        {"run --ion p --material water --energy inf", "'inf' is not a decimal number"},
        {"tables --ion p --material water --points 1.5", "'1.5' is not a whole number"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char cmd[1024];
        snprintf(cmd, sizeof cmd, "bash -c \"%s %s\"", testkit_bragg(), cases[k].args);
        int rc = testkit_shell(cmd, out, sizeof out);
        cr_expect(rc == 2, "'%s': exit %d", cases[k].args, rc);
        cr_expect(strstr(out, cases[k].needle), "'%s' said '%s', not '%s'", cases[k].args, out,
                  cases[k].needle);
        char *nl = strchr(out, '\n');
        cr_expect(nl && nl[1] == '\0' && !strchr(out, '\033'), "'%s': not one clean line: %s",
                  cases[k].args, out);
    }
    /* 600 characters: the message still ends with the range. */
    char args[1024] = "run --ion p --material water --energy ";
    size_t n = strlen(args);
    memset(args + n, '7', 600);
    args[n + 600] = '\0';
    args[n + 300] = 'x';
    int rc = testkit_cli(args, out, sizeof out);
    cr_expect(rc == 2 && strstr(out, "0.002 to 2000 MeV/u)") && strstr(out, "...") &&
                  strlen(out) < 200, "exit %d: %s", rc, out);

    rc = testkit_cli("sobp --ion C-12 --material water --from 2 --to 900", out, sizeof out);
    cr_expect(rc == 2 && strstr(out, "--to: 900 cm is beyond the range") &&
                  !strstr(out, "--spacing"), "exit %d: %s", rc, out);
}

Test(robust, quoting_escapes_and_shortens)
{
    char buf[BRAGG_QUOTE_LEN];
    cr_expect_str_eq(bragg_quote("plain", buf, sizeof buf), "'plain'");
    cr_expect_str_eq(bragg_quote("a\nb\tc\rd\x1b[1m\x7f", buf, sizeof buf),
                     "'a\\nb\\tc\\rd\\x1b[1m\\x7f'");
    cr_expect_str_eq(bragg_quote("caf\xc3\xa9 \xff\xc2\x85", buf, sizeof buf),
                     "'caf\xc3\xa9 \\xff\\u0085'");
    cr_expect_str_eq(bragg_quote(NULL, buf, sizeof buf), "''");
    char long_text[400];
    memset(long_text, '\n', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = '\0';
    bragg_quote(long_text, buf, sizeof buf);
    cr_expect(strlen(buf) < BRAGG_QUOTE_LEN && strstr(buf, "...") && !strchr(buf, '\n'), "%s",
              buf);
    cr_expect(bragg_utf8_valid("caf\xc3\xa9") && !bragg_utf8_valid("ab\xff") &&
              !bragg_utf8_valid("\xed\xa0\x80") && !bragg_utf8_valid("\xc0\xaf"));
}

/* ---- bragg plot's reader ------------------------------------------------------------------ */

Test(robust, plot_refuses_trailing_garbage_and_two_documents)
{
    char dir[256], path[1100], args[2400], out[8192];
    testkit_temp_dir(dir, sizeof dir, "plotjson");
    snprintf(args, sizeof args,
             "run --ion p --energy 60 --material water -n 100 -q --json %s/r.json", dir);
    cr_assert(testkit_cli(args, out, sizeof out) == 0, "%s", out);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "cd %s && cat r.json r.json > two.json && (cat r.json; echo x) > "
                              "tail.json && printf '{}\\0{}' > nul.json", dir);
    cr_assert(system(cmd) == 0);
    static const char *files[] = {"two.json", "tail.json", "nul.json"};
    for (int k = 0; k < 3; k++) {
        snprintf(args, sizeof args, "plot %s/%s --png %s/x.png", dir, files[k], dir);
        int rc = testkit_cli(args, out, sizeof out);
        cr_expect(rc == 2 && strstr(out, files[k]) && strstr(out, "not valid JSON"),
                  "%s: exit %d: %s", files[k], rc, out);
    }
    snprintf(path, sizeof path, "%s/x.png", dir);
    cr_expect(access(path, F_OK) != 0);
    /* Extreme values draw (the release build did; UBSan saw the tick count overflow). */
    snprintf(cmd, sizeof cmd, "cd %s && sed 's/\\(\"dose_Gy_cm2\":\\t\\[\\)[^,]*,[^,]*,[^,]*/"
                              "\\11e308, -1e308, 5e-324/' r.json > huge.json", dir);
    cr_assert(system(cmd) == 0);
    snprintf(args, sizeof args, "plot %s/huge.json --png %s/h.png --size 320x200", dir, dir);
    int rc = testkit_cli(args, out, sizeof out);
    cr_expect(rc == 0, "exit %d: %s", rc, out);
    snprintf(args, sizeof args, "plot %s/r.json --png %s/t.png --title $'ab\\xffcd'", dir, dir);
    snprintf(cmd, sizeof cmd, "bash -c \"%s %s\"", testkit_bragg(), args);
    rc = testkit_shell(cmd, out, sizeof out);
    cr_expect(rc == 2 && strstr(out, "--title: 'ab\\xffcd' is not UTF-8"), "exit %d: %s", rc,
              out);
    testkit_remove_dir(dir);
}

/* ---- outputs that would land on each other or on an input ----------------------------- */

/* Two outputs naming one file left only the last one written; an output naming an input
 * replaced the user's run file, JSON or measured curve with a figure (exit 0 both). Each is
 * refused before any work with one line naming both options, and nothing is touched. */
Test(robust, outputs_never_land_on_each_other_or_on_an_input)
{
    char dir[256], conf[1100], conf2[1100], json[1100], meas[1100], args[4096], out[8192];
    testkit_temp_dir(dir, sizeof dir, "apart");
    snprintf(conf, sizeof conf, "%s/c.conf", dir);
    snprintf(conf2, sizeof conf2, "%s/self.conf", dir);
    snprintf(json, sizeof json, "%s/r.json", dir);
    snprintf(meas, sizeof meas, "%s/m.tsv", dir);
    write_text(conf, "ion = p\nenergy = 100\nmaterial = water\nhistories = 200\n");
    char self[1400];
    snprintf(self, sizeof self, "ion = p\nenergy = 100\nmaterial = water\njson = %s\n", conf2);
    write_text(conf2, self);
    snprintf(args, sizeof args, "run --config %s -q --json %s", conf, json);
    cr_assert(testkit_cli(args, out, sizeof out) == 0, "%s: %s", args, out);
    write_text(meas, "1 1 0.1\n2 1 0.1\n");
    /* Two symbolic links to one file lead to one name. */
    char linked[1100], l1[1100], l2[1100];
    snprintf(linked, sizeof linked, "%s/linked.csv", dir);
    snprintf(l1, sizeof l1, "%s/L1", dir);
    snprintf(l2, sizeof l2, "%s/L2", dir);
    write_text(linked, "mine\n");
    cr_assert(symlink("linked.csv", l1) == 0 && symlink(linked, l2) == 0);
    const char *run = "run --ion p --energy 100 --material water -n 200 -t 1 -q";
    struct {
        char args[5000];
        const char *needle, *kept;   /* a file that must be as it was */
    } cases[13];
    int n = 0;
#define CASE(needle_, kept_, ...)                                                                 \
    do {                                                                                          \
        snprintf(cases[n].args, sizeof cases[n].args, __VA_ARGS__);                               \
        cases[n].needle = needle_;                                                                \
        cases[n].kept = kept_;                                                                    \
        n++;                                                                                      \
    } while (0)
    CASE("--csv and --json name the same file", NULL, "%s --json %s/X --csv %s/X", run, dir, dir);
    CASE("--csv and --json name the same file", NULL, "%s --json %s/./X --csv %s//X", run, dir,
         dir);
    CASE("--png and --svg name the same file", NULL, "%s --png %s/F --svg %s/F", run, dir, dir);
    CASE("--map and --map-error name the same file", NULL, "%s --map %s/M --map-error %s/M", run,
         dir, dir);
    CASE("both write to standard output", NULL, "%s --csv - --json -", run);
    CASE("is also the --config file", conf, "run --config %s -q --json %s", conf, conf);
    CASE("is also the --config file", conf2, "run --config %s -q", conf2);
    CASE("is also an input file", json, "plot %s --png %s", json, json);
    CASE("is also a --measured file", meas, "plot %s --png %s/o.png --svg %s --measured %s", json,
         dir, meas, meas);
    CASE("--csv and --json name the same file", NULL,
         "sobp --ion p --material water --from 2 --to 4 -n 200 --json %s/S --csv %s/S", dir, dir);
    CASE("--csv and --png name the same file", NULL,
         "tables --ion p --material water --csv %s/T --png %s/T", dir, dir);
    CASE("--csv and --svg name the same file", linked,
         "tables --ion p --material water --csv %s --svg %s", l1, l2);
#undef CASE
    for (int k = 0; k < n; k++) {
        char *before = cases[k].kept ? testkit_read_text(cases[k].kept) : NULL;
        int rc = testkit_cli(cases[k].args, out, sizeof out);
        cr_expect(rc == 2 && strstr(out, cases[k].needle), "'%s': exit %d: %s", cases[k].args, rc,
                  out);
        char *nl = strchr(out, '\n');
        cr_expect(nl && nl[1] == '\0', "not one line: '%s'", out);
        if (cases[k].kept) {
            char *after = testkit_read_text(cases[k].kept);
            cr_expect(strcmp(before, after) == 0, "'%s' changed %s", cases[k].args,
                      cases[k].kept);
            free(after);
        }
        free(before);
    }
    cr_expect(count_files(dir, "X") == 0 && count_files(dir, "F") == 0 &&
                  count_files(dir, "S") == 0 && count_files(dir, "T") == 0,
              "an output was written by a refused command");
    /* Distinct outputs, and several to a device, are fine. */
    snprintf(args, sizeof args, "%s --json %s/a.json --csv %s/a.csv --png %s/a.png", run, dir,
             dir, dir);
    cr_expect(testkit_cli(args, out, sizeof out) == 0, "%s: %s", args, out);
    snprintf(args, sizeof args, "%s --json /dev/null --csv /dev/null", run);
    cr_expect(testkit_cli(args, out, sizeof out) == 0, "%s: %s", args, out);
    /* Hard links are names of their own: the rename replaces the name given, the other names
     * keep the old contents. Two outputs on two links of one file each get theirs, and a figure
     * over a link of the run's JSON leaves the JSON (they were refused as one file). */
    char h1[1100], h2[1100], hjson[1100];
    snprintf(h1, sizeof h1, "%s/h1", dir);
    snprintf(h2, sizeof h2, "%s/h2", dir);
    snprintf(hjson, sizeof hjson, "%s/h.json", dir);
    write_text(h1, "old\n");
    cr_assert(link(h1, h2) == 0 && link(json, hjson) == 0);
    snprintf(args, sizeof args, "tables --ion p --material water --points 3 --csv %s --svg %s",
             h1, h2);
    int rc = testkit_cli(args, out, sizeof out);
    char *csv = testkit_read_text(h1), *svg = testkit_read_text(h2);
    cr_expect(rc == 0 && strncmp(csv, "energy_MeV_u,", 13) == 0 && strstr(svg, "<svg"),
              "'%s': exit %d: %s", args, rc, out);
    free(csv);
    free(svg);
    char *before = testkit_read_text(json);
    snprintf(args, sizeof args, "plot %s --svg %s", json, hjson);
    rc = testkit_cli(args, out, sizeof out);
    char *after = testkit_read_text(json);
    svg = testkit_read_text(hjson);
    cr_expect(rc == 0 && strcmp(before, after) == 0 && strstr(svg, "<svg"), "'%s': exit %d: %s",
              args, rc, out);
    free(before);
    free(after);
    free(svg);
    testkit_remove_dir(dir);
}

/* /dev/stdout, /dev/fd/1, /proc/self/fd/1 and the file the shell redirected standard output to
 * are standard output. They were written as files of their own: with "> o.txt", --svg
 * /dev/stdout was renamed over o.txt and the CSV that went to "-" was lost (exit 0); with
 * ">> log", the log's own lines were replaced; into a pipe, two of them mixed their bytes. */
Test(robust, standard_output_under_another_name_is_standard_output)
{
    char dir[256], cmd[4096], out[8192], o[1100], log[1100];
    testkit_temp_dir(dir, sizeof dir, "stdout");
    snprintf(o, sizeof o, "%s/o.txt", dir);
    snprintf(log, sizeof log, "%s/log.txt", dir);
    const char *tables = "tables -i p -m water --points 3";
    /* With "-" and another name for it, into a file: refused, the file left as the shell made
     * it (empty), nothing else written. */
    snprintf(cmd, sizeof cmd, "( %s %s --csv - --svg /dev/stdout > %s )", testkit_bragg(),
             tables, o);
    int rc = testkit_shell(cmd, out, sizeof out);
    cr_expect(rc == 2 && strstr(out, "--csv '-' and --svg '/dev/stdout' both write to standard "
                                     "output"),
              "exit %d: %s", rc, out);
    char *nl = strchr(out, '\n');
    cr_expect(nl && nl[1] == '\0', "not one line: '%s'", out);
    char *got = testkit_read_text(o);
    cr_expect(got[0] == '\0', "o.txt holds '%.80s'", got);
    free(got);
    /* Appended to a log: the log keeps its lines, the CSV follows them. */
    write_text(log, "first line\n");
    snprintf(cmd, sizeof cmd, "( %s %s --csv /dev/stdout >> %s )", testkit_bragg(), tables, log);
    rc = testkit_shell(cmd, out, sizeof out);
    got = testkit_read_text(log);
    cr_expect(rc == 0 && strncmp(got, "first line\nenergy_MeV_u,", 24) == 0,
              "exit %d: %s; log.txt: '%.120s'", rc, out, got);
    free(got);
    /* The file itself by its name, with a figure beside it: the CSV lands in it whole. */
    snprintf(cmd, sizeof cmd, "cd %s && ( %s %s --csv o.txt --svg f.svg > o.txt )", dir,
             testkit_bragg(), tables);
    rc = testkit_shell(cmd, out, sizeof out);
    got = testkit_read_text(o);
    cr_expect(rc == 0 && strncmp(got, "energy_MeV_u,", 13) == 0 && csv_rows(o) == 3,
              "exit %d: %s; o.txt: '%.120s'", rc, out, got);
    free(got);
    /* A run's summary then goes to standard error, not into the data. */
    snprintf(cmd, sizeof cmd, "( %s run -i p -e 100 -m water -n 200 -t 1 --csv /dev/fd/1 > %s )",
             testkit_bragg(), o);
    rc = testkit_shell(cmd, out, sizeof out);
    got = testkit_read_text(o);
    cr_expect(rc == 0 && strncmp(got, "depth_cm,", 9) == 0 && !strstr(got, "histories"),
              "exit %d: %s; o.txt: '%.200s'", rc, out, got);
    free(got);
    /* Two names for one pipe (testkit_shell reads standard output through one): refused. */
    const char *names[] = {"/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"};
    for (int k = 0; k < 3; k++) {
        snprintf(cmd, sizeof cmd, "%s --csv - --svg %s", tables, names[k]);
        rc = testkit_cli(cmd, out, sizeof out);
        cr_expect(rc == 2 && strstr(out, "both write to standard output") &&
                      !strstr(out, "<svg"),
                  "'%s': exit %d: %.200s", cmd, rc, out);
    }
    snprintf(cmd, sizeof cmd, "%s --csv /dev/stdout --svg /dev/fd/1", tables);
    rc = testkit_cli(cmd, out, sizeof out);
    cr_expect(rc == 2 && strstr(out, "both write to standard output"), "'%s': exit %d: %.200s",
              cmd, rc, out);
    /* Several outputs to /dev/null are still fine. */
    snprintf(cmd, sizeof cmd, "%s --csv /dev/null --svg /dev/null", tables);
    rc = testkit_cli(cmd, out, sizeof out);
    cr_expect(rc == 0, "'%s': exit %d: %s", cmd, rc, out);
    testkit_remove_dir(dir);
}

/* A file its owner made read-only is not replaced (the rename would need only the folder's
 * permission). Run as an unprivileged user: root may write any file. */
Test(robust, a_read_only_output_is_refused)
{
    char dir[256], file[1100], log[1100];
    testkit_temp_dir(dir, sizeof dir, "readonly");
    cr_assert(chmod(dir, 0777) == 0);
    snprintf(file, sizeof file, "%s/kept.json", dir);
    snprintf(log, sizeof log, "%s/log", dir);
    write_text(file, "mine\n");
    cr_assert(chmod(file, 0444) == 0);
    const char *args[] = {"run", "--ion", "p", "--energy", "100", "--material", "water", "-n",
                          "100", "-q", "--json", file, NULL};
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        /* An unprivileged user, as the file's owner is when it is not root. */
        if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) _exit(126);
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0666);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        const char *argv[16] = {"bragg"};
        for (int i = 0; args[i]; i++) argv[i + 1] = args[i];
        execv(testkit_bragg(), (char *const *)argv);
        _exit(127);
    }
    int rc = wait_exit(pid);
    char *said = testkit_read_text(log), *kept = testkit_read_text(file);
    cr_expect(rc == 2 && strstr(said, "--json: cannot write") && strstr(said, "ermission"),
              "exit %d: %s", rc, said);
    cr_expect(strcmp(kept, "mine\n") == 0, "the read-only file was replaced: '%s'", kept);
    free(said);
    free(kept);
    chmod(file, 0644);
    testkit_remove_dir(dir);
}

/* Sends SIGINT and waits up to 3 s (scaled) for the exit; returns pid when it came (status in
 * *st), else 0 after killing it, so that a command still blocked (the defect) does not hold
 * up the suite. */
static pid_t interrupt_within_3_s(pid_t pid, int *st)
{
    double t0 = now_s();
    kill(pid, SIGINT);
    pid_t got = 0;
    while ((got = waitpid(pid, st, WNOHANG)) == 0 && now_s() - t0 < 3.0 * testkit_time_scale())
        usleep(10000);
    if (got == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, st, 0);
    }
    return got;
}

/* The first line of a file (a /proc one), without its newline; "" when it cannot be read. */
static void first_line(const char *path, char *line, size_t len)
{
    line[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f) return;
    if (!fgets(line, (int)len, f)) line[0] = '\0';
    fclose(f);
    line[strcspn(line, "\n")] = '\0';
}

/* Waits, 10 s at most (scaled), until the main thread of `pid` sleeps in a kernel function of
 * the list `functions` ("a|b", /proc/PID/wchan), once the file `after` exists (NULL: at
 * once). Polled every millisecond. A fixed delay (300 ms) was slow and unsure: on a loaded
 * machine the run was still going when it ran out, and the test passed through the run's own
 * cancel instead of the wait it is about. Skips the test where the kernel does not name where
 * a process sleeps. */
static void wait_until_asleep_in(pid_t pid, const char *functions, const char *after)
{
    char path[64], wchan[128] = "", stat[512];
    char state = '?';
    for (double t0 = now_s(); now_s() - t0 < 10 * testkit_time_scale(); usleep(1000)) {
        if (after && access(after, F_OK) != 0) continue;
        snprintf(path, sizeof path, "/proc/%d/wchan", (int)pid);
        first_line(path, wchan, sizeof wchan);
        size_t n = strlen(wchan);
        for (const char *f = functions; n && (f = strstr(f, wchan)); f += n)
            if ((f == functions || f[-1] == '|') && (f[n] == '|' || f[n] == '\0')) return;
        /* Field 3, the state, follows the command name, which ends with the last ')'. */
        snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
        first_line(path, stat, sizeof stat);
        const char *p = strrchr(stat, ')');
        state = p && p[1] == ' ' ? p[2] : '?';
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    if (strcmp(wchan, "0") == 0 && state == 'S')
        cr_skip_test("/proc/%d/wchan says 0 for a sleeping process: this kernel does not say "
                     "where a process waits, which this test needs", (int)pid);
    cr_assert_fail("never asleep in %s%s%s: last seen in '%s', state %c", functions,
                   after ? " after " : "", after ? after : "", wchan, state);
}

/* A FIFO nobody writes, given as an input, blocks the open; the first Ctrl-C ends the command
 * at once (it had begun no work), exit 130. It used to wait for a second signal. */
Test(robust, a_signal_ends_a_command_blocked_on_an_input)
{
    /* ThreadSanitizer defers a signal's handler to the program's next intercepted call, and a
     * process blocked in open(2) of a FIFO makes none: under it the first signal is never
     * handled (make tsan failed here since the test came; the plain and sanitizer builds of
     * make test and make check run it). */
    if (getenv("BRAGG_TEST_TSAN"))
        cr_skip_test("ThreadSanitizer holds a signal back from a process blocked in open(2)");
    char dir[256], fifo[1100];
    testkit_temp_dir(dir, sizeof dir, "fifoin");
    snprintf(fifo, sizeof fifo, "%s/in.conf", dir);
    cr_assert(mkfifo(fifo, 0600) == 0);
    char out_fifo[1100];
    snprintf(out_fifo, sizeof out_fifo, "%s/out.json", dir);
    cr_assert(mkfifo(out_fifo, 0600) == 0);
    const char *run[] = {"run", "--config", fifo, "-q", NULL};
    const char *plot[] = {"plot", fifo, "--png", "/dev/null", NULL};
    /* An output FIFO nobody reads: the run ends and then waits for a reader, and the first
     * signal is heard there too. run writes its CSV before its JSON: once the CSV is there the
     * run is over, and the one sleep left (hrtimer_nanosleep; the main thread also sleeps
     * there while a run goes) is the pause between tries to open the FIFO. */
    char csv[1100];
    snprintf(csv, sizeof csv, "%s/out.csv", dir);
    const char *out[] = {"run", "--ion", "p", "--energy", "100", "--material", "water", "-n",
                         "200", "-q", "--csv", csv, "--json", out_fifo, NULL};
    const char *const *cmds[] = {run, plot, out};
    /* An open of a FIFO nobody has opened from the other end waits in wait_for_partner (or
     * in its caller fifo_open, should a kernel build inline it). */
    const char *const waits_in[] = {"wait_for_partner|fifo_open", "wait_for_partner|fifo_open",
                                    "hrtimer_nanosleep"};
    for (int k = 0; k < 3; k++) {
        pid_t pid = spawn(cmds[k], NULL);
        wait_until_asleep_in(pid, waits_in[k], k == 2 ? csv : NULL);
        double t0 = now_s();
        int st = 0;
        pid_t got = interrupt_within_3_s(pid, &st);
        cr_expect(got == pid, "%s: still running %.1f s after the signal", cmds[k][0],
                  now_s() - t0);
        cr_expect(got != pid || (WIFEXITED(st) && WEXITSTATUS(st) == 130), "%s: status %d",
                  cmds[k][0], st);
    }
    testkit_remove_dir(dir);
}

/* CPU time (clock ticks) the process has used, from /proc/PID/stat; -1 when it is gone. */
static long cpu_ticks(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* Fields 14 and 15 (utime, stime) follow the command name, which ends with the last ')'. */
    char *p = strrchr(buf, ')');
    unsigned long ut, st;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return -1;
    return (long)(ut + st);
}

/* An output FIFO nobody reads, with the signal while the command waits for a reader: tables,
 * plot and sobp exited 2 or 1 ("bad input", "failure"), as the writer's failure; only run said
 * 130. A command is taken to wait there once it has used no CPU for 0.3 s (sobp first
 * computes its peaks for a second or more). */
Test(robust, a_signal_ends_a_command_waiting_for_an_output_reader)
{
    char dir[256], json[1100], out[8192], args[1400], fifo[3][1100];
    testkit_temp_dir(dir, sizeof dir, "fifoout");
    snprintf(json, sizeof json, "%s/r.json", dir);
    snprintf(args, sizeof args, "run -i p -e 100 -m water -n 200 -t 1 -q --json %s", json);
    cr_assert(testkit_cli(args, out, sizeof out) == 0, "%s: %s", args, out);
    for (int k = 0; k < 3; k++) {
        snprintf(fifo[k], sizeof fifo[k], "%s/out%d", dir, k);
        cr_assert(mkfifo(fifo[k], 0600) == 0);
    }
    const char *tables[] = {"tables", "-i", "p", "-m", "water", "--csv", fifo[0], NULL};
    const char *plot[] = {"plot", json, "--svg", fifo[1], NULL};
    const char *sobp[] = {"sobp", "--ion", "p", "--material", "water", "--from", "2", "--to",
                          "4", "-n", "200", "-q", "--csv", fifo[2], NULL};
    const char *const *cmds[] = {tables, plot, sobp};
    for (int k = 0; k < 3; k++) {
        char log[1200];
        snprintf(log, sizeof log, "%s/log%d", dir, k);
        pid_t pid = spawn(cmds[k], log);
        long last = -2;
        for (int quiet = 0, waited = 0; quiet < 3 && waited < 300 * testkit_time_scale();
             waited++) {
            usleep(100000);
            long now = cpu_ticks(pid);
            quiet = now == last ? quiet + 1 : 0;
            last = now;
        }
        double t0 = now_s();
        int st = 0;
        pid_t got = interrupt_within_3_s(pid, &st);
        char *said = testkit_read_text(log);
        cr_expect(got == pid, "%s: still running %.1f s after the signal", cmds[k][0],
                  now_s() - t0);
        cr_expect(got != pid || (WIFEXITED(st) && WEXITSTATUS(st) == 130), "%s: status %d: %s",
                  cmds[k][0], WIFEXITED(st) ? WEXITSTATUS(st) : -1, said);
        cr_expect(strstr(said, "stopped while waiting for a reader"), "%s: %s", cmds[k][0], said);
        free(said);
    }
    testkit_remove_dir(dir);
}

/* Waits, 10 s at most (scaled), until `pid` runs at least `n` threads (/proc/PID/task):
 * for bragg run, 2 once the engine's run thread has started. */
static void wait_until_threads(pid_t pid, int n)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    for (double t0 = now_s(); now_s() - t0 < 10 * testkit_time_scale(); usleep(1000)) {
        DIR *d = opendir(path);
        if (!d) break;   /* it ended */
        int count = 0;
        for (struct dirent *de; (de = readdir(d));) count += de->d_name[0] != '.';
        closedir(d);
        if (count >= n) return;
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    cr_assert_fail("process %d never ran %d threads", (int)pid, n);
}

/* A write that fails after Ctrl-C (/dev/full: a full disk) is a failure, exit 1: the run's
 * status turned every failure into 130 once a signal had come, as if the user's stop had
 * caused it. The JSON and a figure each, the run stopped early by the signal (sent once the
 * run thread is there: a signal before the run starts ends the command at once, 130). Then the
 * same with a second output given up because of the signal (a FIFO nobody reads, written
 * before the JSON): the full disk is still the command's failure, exit 1, where the FIFO alone
 * would have made it 130. */
Test(robust, a_failure_after_a_signal_is_not_an_interruption)
{
    char dir[256], fifo[1100];
    testkit_temp_dir(dir, sizeof dir, "fullsig");
    snprintf(fifo, sizeof fifo, "%s/out.csv", dir);
    cr_assert(mkfifo(fifo, 0600) == 0);
    const char *outputs[][4] = {{"--json", "/dev/full", NULL, NULL},
                                {"--svg", "/dev/full", NULL, NULL},
                                {"--json", "/dev/full", "--csv", fifo}};
    for (int k = 0; k < 3; k++) {
        char log[1200];
        snprintf(log, sizeof log, "%s/log%d", dir, k);
        const char *args[] = {"run", "-i", "p", "-e", "100", "-m", "water", "-n",
                              k < 2 ? "1e9" : "200", "-t", "1", "-q", outputs[k][0],
                              outputs[k][1], outputs[k][2], outputs[k][3], NULL};
        pid_t pid = spawn(args, log);
        if (k < 2)
            wait_until_threads(pid, 2);
        else   /* the run (milliseconds) over, the CSV's open waits for a reader */
            wait_until_asleep_in(pid, "hrtimer_nanosleep", NULL);
        kill(pid, SIGINT);
        int rc = wait_exit(pid);
        char *said = testkit_read_text(log);
        cr_expect(rc == 1 && strstr(said, "cannot write '/dev/full'"), "%s /dev/full: exit %d: %s",
                  outputs[k][0], rc, said);
        if (k < 2)
            cr_expect(strstr(said, "interrupted after"), "%s: %s", outputs[k][0], said);
        else
            cr_expect(strstr(said, "stopped while waiting for a reader"), "%s", said);
        free(said);
    }
    testkit_remove_dir(dir);
}

/* Opens the FIFO `path` for writing once a reader has it open (O_NONBLOCK: ENXIO until one
 * does), while `pid` lives; -1 when it ended first or 30 s (scaled) passed. */
static int open_for_a_reader(const char *path, pid_t pid)
{
    for (double t0 = now_s(); now_s() - t0 < 30 * testkit_time_scale();) {
        int fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd >= 0) return fd;
        cr_assert(errno == ENXIO, "%s: %s", path, strerror(errno));
        if (kill(pid, 0) != 0) break;
        usleep(1000);
    }
    return -1;
}

/* Runs bragg `args` on a copy of the asset folder whose ion table is a FIFO this test writes:
 * the first `before` readers of it get the real table. The next one has it open when SIGINT
 * is sent, and then gets the real table (`broken` 0: the run it is read for starts and the
 * signal stops it) or a line that is not a table (`broken` 1: that run fails, for a reason
 * of its own). `before` is how often the command reads the table before its work begins (a
 * signal then would exit 130 at once, with nothing said); each run reads it once more. The
 * signal goes to the main thread, the one reading (the kernel hands a signal sent to a process
 * to the thread its pid names when that one can take it), so the flag is set before the
 * reading ends: nothing here depends on timing. Returns the exit status; what the command said
 * is in `log`. */
static int signal_while_a_run_reads_its_table(const char *const *args, int before, int broken,
                                              const char *log)
{
    char assets[256], cmd[1200], fifo[1100], fresh[1100];
    testkit_temp_dir(assets, sizeof assets, "fifoassets");
    snprintf(cmd, sizeof cmd, "cp %s/*.tsv %s/", BRAGG_ASSET_DIR, assets);
    cr_assert(system(cmd) == 0, "%s", cmd);
    snprintf(fifo, sizeof fifo, "%s/ions.tsv", assets);
    snprintf(fresh, sizeof fresh, "%s/fresh.fifo", assets);
    char *table = testkit_read_text(fifo);
    cr_assert(unlink(fifo) == 0 && mkfifo(fifo, 0600) == 0);
    cr_assert(setenv("BRAGG_ASSETS", assets, 1) == 0);
    pid_t pid = spawn(args, log);
    unsetenv("BRAGG_ASSETS");
    for (int k = 0; k <= before; k++) {
        int fd = open_for_a_reader(fifo, pid);
        cr_assert(fd >= 0, "%s: the ion table was read %d times, %d expected before the run",
                  args[0], k, before + 1);
        if (k == before) kill(pid, SIGINT);
        const char *text = k == before && broken ? "not a table\n" : table;
        cr_assert(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
        /* The next reader must find a fresh FIFO: a writer opening this one again would be
         * paired with the reader still reading it. */
        cr_assert(mkfifo(fresh, 0600) == 0 && rename(fresh, fifo) == 0);
        close(fd);
    }
    /* A command that goes on after the signal reads the table again, from a FIFO nobody
     * writes any more: it is ended after 10 s (scaled), and that is a failure. */
    int st = 0;
    pid_t got = 0;
    for (double t0 = now_s();
         (got = waitpid(pid, &st, WNOHANG)) == 0 && now_s() - t0 < 10 * testkit_time_scale();)
        usleep(10000);
    if (got == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
    }
    cr_expect(got == pid, "%s: still running 10 s after the signal (it began another run)",
              args[0]);
    free(table);
    testkit_remove_dir(assets);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
}

/* bench and sobp turned every failure that followed a signal into 130, as run did before: a
 * run that fails for a reason of its own (here its ion table unreadable) after Ctrl-C is a
 * failure, exit 1, the reason said. A run the signal stops is 130: sobp writes nothing, bench
 * keeps the rows done (none here: the signal stops its first); bench let a run that ended
 * before its first look at the flag (0.25 s) finish and began the next. */
Test(robust, a_run_that_fails_after_a_signal_fails_in_bench_and_sobp)
{
    char dir[256], log[1200];
    testkit_temp_dir(dir, sizeof dir, "failsig");
    snprintf(log, sizeof log, "%s/log", dir);
    const char *bench[] = {"bench", "--case", "p-150-water", "--quick", "-n", "200", "-t", "1",
                           NULL};
    const char *sobp[] = {"sobp", "--ion", "p", "--material", "water", "--from", "2", "--to",
                          "2.4", "-n", "200", "-t", "1", "-q", NULL};
    const char *const *cmds[] = {bench, sobp};
    const int before[] = {0, 2};   /* sobp: for its options and for its probe of the ranges */
    for (int k = 0; k < 2; k++)
        for (int broken = 0; broken < 2; broken++) {
            int rc = signal_while_a_run_reads_its_table(cmds[k], before[k], broken, log);
            char *said = testkit_read_text(log);
            if (broken)
                cr_expect(rc == 1 && strstr(said, "ions.tsv line 1: expected 5 fields") &&
                              !strstr(said, "interrupted"),
                          "%s, a run failing after the signal: exit %d: %s", cmds[k][0], rc,
                          said);
            else
                cr_expect(rc == 130 && strstr(said, k == 0 ? "bragg bench: interrupted in "
                                                             "p-150-water (serial, 1 thread): 0 "
                                                             "rows and 0 profiles done"
                                                           : "interrupted; nothing written"),
                          "%s, a run stopped by the signal: exit %d: %s", cmds[k][0], rc, said);
            free(said);
        }
    testkit_remove_dir(dir);
}

/* A write that fails names its cause and the file, exit 1, and leaves no temporary; a file
 * it would have replaced keeps what it held. stdio keeps only an error flag when a write
 * fails, and the writer said "Input/output error" for a full disk once its buffer had filled.
 * /dev/full (written through) and a file size limit (a regular file's temporary, renamed on
 * success) need no privilege. */
Test(robust, a_failed_write_names_its_cause)
{
    char dir[256], out[8192], cmd[4096], path[1100];
    testkit_temp_dir(dir, sizeof dir, "nospace");
    static const char *const outputs[] = {"--json", "--csv", "--svg"};
    for (int k = 0; k < 3; k++) {
        snprintf(cmd, sizeof cmd, "run -i p -e 70 -m water -n 1000 -t 1 -q %s /dev/full",
                 outputs[k]);
        int rc = testkit_cli(cmd, out, sizeof out);
        cr_expect(rc == 1 && strstr(out, "cannot write '/dev/full': No space left on device"),
                  "%s /dev/full: exit %d: %s", outputs[k], rc, out);
    }
    int rc = testkit_cli("sobp --ion p --material water --from 2 --to 2.4 -n 200 -t 1 -q "
                         "--json /dev/full", out, sizeof out);
    cr_expect(rc == 1 && strstr(out, "cannot write '/dev/full': No space left on device"),
              "sobp --json /dev/full: exit %d: %s", rc, out);
    /* ulimit -f counts blocks of 512 or 1024 bytes: a few kB, where the outputs need 130 kB
     * and more. Ignored, SIGXFSZ leaves the write to fail with EFBIG. */
    for (int k = 0; k < 2; k++) {
        snprintf(path, sizeof path, "%s/o.%s", dir, outputs[k] + 2);
        write_text(path, "what the user had\n");
        snprintf(cmd, sizeof cmd, "ulimit -f 8; trap '' XFSZ; exec %s run -i p -e 70 -m water "
                                  "-n 1000 -t 1 -q %s %s", testkit_bragg(), outputs[k], path);
        rc = testkit_shell(cmd, out, sizeof out);
        char want[1300];
        snprintf(want, sizeof want, "cannot write '%s': File too large", path);
        cr_expect(rc == 1 && strstr(out, want), "%s beyond the size limit: exit %d: %s",
                  outputs[k], rc, out);
        char *kept = testkit_read_text(path);
        cr_expect(strcmp(kept, "what the user had\n") == 0, "%s was replaced: '%.40s'", path,
                  kept);
        free(kept);
    }
    cr_expect(count_files(dir, ".tmp.") == 0, "temporaries left behind");
    testkit_remove_dir(dir);
}

/* bench and sobp said 2 (bad input) for a figure they could not write, a path checked before
 * the runs, and bench then left out its JSON: a full disk is a run-time failure, exit 1, as
 * in run, and what else was asked for is still written. */
Test(robust, a_figure_that_cannot_be_written_is_a_failure)
{
    char dir[256], json[1100], args[1400], out[8192];
    testkit_temp_dir(dir, sizeof dir, "figfull");
    snprintf(json, sizeof json, "%s/o.json", dir);
    const char *const cmds[] = {"bench --case p-150-water --quick -n 200 -t 1",
                                "sobp --ion p --material water --from 2 --to 2.4 -n 200 -t 1 -q"};
    for (int k = 0; k < 2; k++) {
        snprintf(args, sizeof args, "%s --svg /dev/full --json %s", cmds[k], json);
        int rc = testkit_cli(args, out, sizeof out);
        cr_expect(rc == 1 && strstr(out, "--svg: cannot write '/dev/full': No space left on "
                                         "device"),
                  "%s: exit %d: %s", cmds[k], rc, out);
        cr_expect(access(json, F_OK) == 0, "%s: no JSON written beside the figure", cmds[k]);
        if (k == 0) {
            /* plot and tables alike (plot reads the bench's JSON). */
            char more[1400];
            snprintf(more, sizeof more, "plot %s --svg /dev/full", json);
            rc = testkit_cli(more, out, sizeof out);
            cr_expect(rc == 1 && strstr(out, "No space left on device"), "plot: exit %d: %s", rc,
                      out);
            rc = testkit_cli("tables --ion p --material water --svg /dev/full", out, sizeof out);
            cr_expect(rc == 1 && strstr(out, "No space left on device"), "tables: exit %d: %s", rc,
                      out);
        }
        unlink(json);
    }
    testkit_remove_dir(dir);
}

/* A full file system: "No space left on device", the file named, exit 1, no temporary, the
 * old file as it was. A small tmpfs, mounted in a mount namespace of this test's own (root
 * only; elsewhere skipped, saying why), holds the old file and the temporary. */
Test(robust, a_full_file_system_is_named_and_keeps_the_old_file)
{
    char dir[256], mnt[1100], path[1200], out[8192], args[1400];
    testkit_temp_dir(dir, sizeof dir, "fullfs");
    snprintf(mnt, sizeof mnt, "%s/small", dir);
    cr_assert(mkdir(mnt, 0700) == 0);
    /* Private first: a mount under a shared one would show in every namespace. */
    if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
        mount("tmpfs", mnt, "tmpfs", 0, "size=32k") != 0) {
        int err = errno;
        testkit_remove_dir(dir);
        cr_skip_test("cannot mount a small tmpfs here (%s; needs root), so a full file system "
                     "is not tested", strerror(err));
    }
    static const char *const outputs[] = {"--json", "--csv"};
    for (int k = 0; k < 2; k++) {
        snprintf(path, sizeof path, "%s/o.%s", mnt, outputs[k] + 2);
        write_text(path, "what the user had\n");
        snprintf(args, sizeof args, "run -i p -e 70 -m water -n 1000 -t 1 -q %s %s", outputs[k],
                 path);
        int rc = testkit_cli(args, out, sizeof out);
        char want[1300];
        snprintf(want, sizeof want, "cannot write '%s': No space left on device", path);
        cr_expect(rc == 1 && strstr(out, want), "%s on a full tmpfs: exit %d: %s", outputs[k],
                  rc, out);
        char *kept = testkit_read_text(path);
        cr_expect(strcmp(kept, "what the user had\n") == 0, "%s was replaced: '%.40s'", path,
                  kept);
        free(kept);
        cr_expect(count_files(mnt, ".tmp.") == 0, "%s: temporaries left behind", outputs[k]);
    }
    umount2(mnt, MNT_DETACH);
    testkit_remove_dir(dir);
}

/* The refusals the hostile-input review found accepted (exit 0): one line each, exit 2. */
Test(robust, nonsense_combinations_are_refused)
{
    char out[8192];
    struct {
        const char *args, *needle;
    } cases[] = {
        {"run --ion C-12 --energy 200 --material water -n 100 --bio mcnamara -q",
         "mcnamara is a proton model (valid for --ion p"},
        {"sobp --ion C-12 --material water --from 5 --to 6 -n 100 --biological rbe1.1 --dose 2",
         "--biological: rbe1.1 is a proton model"},
        {"run --ion p --energy 100 --material water -n 100 --bio-dose 3 -q",
         "bio-dose: needs a biological model (--bio MODEL"},
        {"run --ion p --energy 100 --material water -n 100 --depth 0.001 --bin 100 -q",
         "holds fewer than 10 bins"},
        {"sobp --ion p --material water --from 2 --to 2.5 -n 200 --bin 10",
         "--to: a plateau of 0.5 cm holds fewer than 3 bins"},
        {"plot x.json --png o.png --kind profile-at 5,", "an empty depth in '5,'"},
        {"plot x.json --png o.png --kind profile-at 5,,6", "an empty depth in '5,,6'"},
        {"tables --ion p --material water --points 1 --emin 100 --emax 200",
         "--points: 1 gives --emin alone"},
        {"--version extra", "--version: unexpected argument 'extra'"},
        {"help run extra", "help: unexpected argument 'extra' (it takes one command name"},
        {"run --ion p --energy 100 --slab water:inf:3", "'water:inf:3' is not material:thickness"},
        {"sobp --ion p --material xx --from 5 --to 6 -n 100", "--material: 'xx' is not known"},
        {"run --ion p --energy 100 --material water --seed 18446744073709551616",
         "(valid: 0 to 18446744073709551615)"},
        {"bench --case p-150-water --quick --floor /bin/true",
         "--floor: the yardstick runs beside the C-12 water cases only"},
        {"bench --case c12-400-water --quick --floor /nonexistent/floor",
         "'/nonexistent/floor' is not an executable file"},
        {"run --ion p --energy 100 --material water -n 1 -q", "(valid: 2 to 1e12)"},
        {"run --ion p --energy 100 --material water -n 5 -q",
         "5 is fewer than the 20 batches the uncertainty needs (valid: at least 20, or fewer"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        double t0 = now_s();
        int rc = testkit_cli(cases[k].args, out, sizeof out);
        cr_expect(rc == 2 && strstr(out, cases[k].needle), "'%s': exit %d: %s", cases[k].args,
                  rc, out);
        char *nl = strchr(out, '\n');
        cr_expect(nl && nl[1] == '\0', "'%s': not one line: '%s'", cases[k].args, out);
        cr_expect(now_s() - t0 < 2.0 * testkit_time_scale(), "'%s' took %.2f s to refuse",
                  cases[k].args, now_s() - t0);
    }
    /* At the edges the refusals let pass what is valid: exactly 10 depth bins and a plateau of
     * exactly 3 (the rounding of 1.89 / 0.189 and 5.6 - 5.3 refused them once); one table row
     * above the default --emax (which bounded --points 1 once); 2 histories in 2 batches. */
    const char *valid[] = {
        "run --ion p --energy 20 --material water -n 20 -t 1 -q --depth 1.89 --bin 1.89",
        "sobp --ion p --material water --from 5.3 --to 5.6 --bin 1 -n 100 -t 1 --spacing 3 -q",
        "help run",
        "tables --ion p --material water --points 1 --emin 600",
        "run --ion p --energy 20 --material water -n 2 --batches 2 -t 1 -q",
    };
    for (size_t k = 0; k < sizeof valid / sizeof valid[0]; k++) {
        int rc = testkit_cli(valid[k], out, sizeof out);
        cr_expect(rc == 0, "'%s': exit %d: %s", valid[k], rc, out);
    }
    /* A bad value in a run file is refused even where the command line overrides it. */
    char dir[256], conf[1100], args[1400];
    testkit_temp_dir(dir, sizeof dir, "badfile");
    snprintf(conf, sizeof conf, "%s/c.conf", dir);
    write_text(conf, "ion = p\nenergy = 100\nmaterial = water\nquiet = maybe\n");
    snprintf(args, sizeof args, "run --config %s -q -n 100", conf);
    int rc = testkit_cli(args, out, sizeof out);
    cr_expect(rc == 2 && strstr(out, "quiet: 'maybe' is not a switch"), "exit %d: %s", rc, out);
    testkit_remove_dir(dir);
}
