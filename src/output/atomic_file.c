/* atomic_file.c - see atomic_file.h. */
#include "atomic_file.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

int atomic_file_check_path(const char *path, const char *what, bragg_err *e)
{
    if (strcmp(path, "-") == 0) return BRAGG_OK;
    if (!*path) return bragg_fail(e, "%s: empty file name", what);
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash) snprintf(dir, sizeof dir, ".");
    else if (slash == dir) dir[1] = '\0';
    else *slash = '\0';
    if (access(dir, W_OK | X_OK) != 0)
        return bragg_fail(e, "%s: cannot write %s: folder %s: %s", what, path, dir, strerror(errno));
    return BRAGG_OK;
}

int atomic_file_open(atomic_file *af, const char *path, const char *what, bragg_err *e)
{
    memset(af, 0, sizeof *af);
    if (strcmp(path, "-") == 0) {
        af->file = stdout;
        af->is_stdout = 1;
        return BRAGG_OK;
    }
    if (strlen(path) >= sizeof af->path) return bragg_fail(e, "%s: path too long", what);
    snprintf(af->path, sizeof af->path, "%s", path);
    snprintf(af->tmp, sizeof af->tmp, "%s.tmp.%ld", path, (long)getpid());
    af->file = fopen(af->tmp, "wb");
    if (!af->file) return bragg_fail(e, "%s: cannot write %s: %s", what, path, strerror(errno));
    return BRAGG_OK;
}

int atomic_file_commit(atomic_file *af, bragg_err *e)
{
    if (af->is_stdout) {
        fflush(stdout);
        af->file = NULL;
        return BRAGG_OK;
    }
    int failed = ferror(af->file) || fflush(af->file) != 0 || fsync(fileno(af->file)) != 0;
    int err = errno;
    if (fclose(af->file) != 0 && !failed) {
        failed = 1;
        err = errno;
    }
    af->file = NULL;
    if (failed || rename(af->tmp, af->path) != 0) {
        if (!failed) err = errno;
        unlink(af->tmp);
        return bragg_fail(e, "cannot write %s: %s", af->path, strerror(err));
    }
    return BRAGG_OK;
}

void atomic_file_abandon(atomic_file *af)
{
    if (!af->file) return;
    if (af->is_stdout) {
        af->file = NULL;
        return;
    }
    fclose(af->file);
    af->file = NULL;
    unlink(af->tmp);
}
