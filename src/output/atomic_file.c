/* atomic_file.c - see atomic_file.h. */
#define _GNU_SOURCE   /* fopencookie, a GNU extension: see write_through */
#include "atomic_file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- the registry of temporaries in flight ------------------------------------------------ */

/* A signal handler may read the registry at any moment, so it is lock-free atomics only. */
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "the temporaries' registry needs lock-free ints");

/* More than any command keeps open at once (run: CSV, JSON and PNG one after another). When
 * all are taken a temporary is simply not registered: it is still removed on every error path,
 * only a process killed while writing it would leave it (for the next write to remove). */
#define SLOTS 16
#define SLOT_FREE 0
#define SLOT_BUSY 1   /* being filled in: the handler must not read it */
#define SLOT_LIVE 2

static char slot_path[SLOTS][ATOMIC_FILE_PATH_MAX + 32];
static atomic_int slot_state[SLOTS];

static int slot_claim(const char *tmp)
{
    for (int i = 0; i < SLOTS; i++) {
        int expected = SLOT_FREE;
        if (atomic_compare_exchange_strong(&slot_state[i], &expected, SLOT_BUSY)) {
            snprintf(slot_path[i], sizeof slot_path[i], "%s", tmp);
            atomic_store(&slot_state[i], SLOT_LIVE);
            return i;
        }
    }
    return -1;
}

static void slot_release(int *slot)
{
    if (*slot >= 0) atomic_store(&slot_state[*slot], SLOT_FREE);
    *slot = -1;
}

void atomic_file_remove_temporaries(void)
{
    for (int i = 0; i < SLOTS; i++)
        if (atomic_load(&slot_state[i]) == SLOT_LIVE) unlink(slot_path[i]);
}

/* ---- where a path leads -------------------------------------------------------------------- */

typedef enum target_kind { TARGET_NEW, TARGET_REGULAR, TARGET_DIRECT, TARGET_STDOUT } target_kind;

/* True when `st` is the very file, pipe or socket that standard output already is: what
 * /dev/stdout, /dev/fd/1 or the name of the file the shell redirected it to lead to. Writing
 * such a name through a file of its own would go wrong: a rename over it leaves the shell's
 * descriptor on an unlinked inode (what went to "-" is lost, a ">>" log is replaced), and two
 * of them into one pipe mix their bytes. A character device (a terminal, /dev/null) is left
 * out: it is written through either way, and several outputs may share /dev/null. */
static int is_stdout(const struct stat *st)
{
    struct stat out;
    return fstat(STDOUT_FILENO, &out) == 0 &&
           (S_ISREG(out.st_mode) || S_ISFIFO(out.st_mode) || S_ISSOCK(out.st_mode)) &&
           out.st_dev == st->st_dev && out.st_ino == st->st_ino;
}


/* The folder part of a path: "." for a bare name, "/" for a file in the root. */
static void folder_of(const char *path, char *dir, size_t len)
{
    snprintf(dir, len, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash) snprintf(dir, len, ".");
    else if (slash == dir) dir[1] = '\0';
    else *slash = '\0';
}

/* Why a file cannot be created at `target`: its folder, or the first part of that folder's
 * path that is not a folder, is named. BRAGG_OK when the folder is fine. */
static int check_folder(const char *target, const char *path, const char *what, bragg_err *e)
{
    char dir[ATOMIC_FILE_PATH_MAX];
    folder_of(target, dir, sizeof dir);
    struct stat st;
    if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode)) {
        if (access(dir, W_OK | X_OK) != 0)
            return bragg_fail(e, "%s: cannot write %s: folder %s: %s", what, BRAGG_QUOTED(path),
                              BRAGG_QUOTED(dir), strerror(errno));
        return BRAGG_OK;
    }
    /* Walk up to the longest part of the folder's path that exists: either it is not a folder
     * ("out.json/x": out.json is a file) or the folder below it is missing. */
    char part[ATOMIC_FILE_PATH_MAX];
    snprintf(part, sizeof part, "%s", dir);
    for (;;) {
        if (stat(part, &st) == 0) {
            if (!S_ISDIR(st.st_mode))
                return bragg_fail(e, "%s: cannot write %s: %s is not a folder", what,
                                  BRAGG_QUOTED(path), BRAGG_QUOTED(part));
            break;
        }
        char *slash = strrchr(part, '/');
        if (!slash || slash == part) break;
        *slash = '\0';
    }
    return bragg_fail(e, "%s: cannot write %s: folder %s does not exist", what,
                      BRAGG_QUOTED(path), BRAGG_QUOTED(dir));
}

/* Follows symbolic links from `path` to the file they finally name (which may not exist yet),
 * reading relative link texts from the link's own folder as the kernel does. */
static int follow_links(const char *path, const char *what, char *target, size_t len,
                        bragg_err *e)
{
    snprintf(target, len, "%s", path);
    for (int hops = 0;; hops++) {
        struct stat lst;
        if (lstat(target, &lst) != 0 || !S_ISLNK(lst.st_mode)) return BRAGG_OK;
        if (hops == 40)
            return bragg_fail(e, "%s: cannot write %s: too many levels of symbolic links", what,
                              BRAGG_QUOTED(path));
        char link[ATOMIC_FILE_PATH_MAX];
        ssize_t n = readlink(target, link, sizeof link - 1);
        if (n < 0)
            return bragg_fail(e, "%s: cannot write %s: %s", what, BRAGG_QUOTED(path),
                              strerror(errno));
        link[n] = '\0';
        char next[ATOMIC_FILE_PATH_MAX];
        const char *slash = strrchr(target, '/');
        int w = link[0] == '/' || !slash
                    ? snprintf(next, sizeof next, "%s", link)
                    : snprintf(next, sizeof next, "%.*s/%s", (int)(slash - target), target, link);
        if (w < 0 || (size_t)w >= sizeof next || (size_t)w >= len)
            return bragg_fail(e, "%s: cannot write %s: the link's target path is too long", what,
                              BRAGG_QUOTED(path));
        memcpy(target, next, (size_t)w + 1);
    }
}

/* What writing `path` means (atomic_file.h): standard output under another name, a new or
 * regular file (target: the link-resolved name to replace) or a device or FIFO written
 * through; anything else is refused. */
static int classify(const char *path, const char *what, char *target, size_t len,
                    target_kind *kind, struct stat *st, bragg_err *e)
{
    if (!*path) return bragg_fail(e, "%s: empty file name", what);
    if (strlen(path) >= len) return bragg_fail(e, "%s: path too long", what);
    /* stat follows every link, the kernel's own (/dev/stdout -> /proc/self/fd/1 -> a pipe)
     * included, so it says what the data would really land in. */
    if (stat(path, st) == 0) {
        if (is_stdout(st)) {
            snprintf(target, len, "%s", path);
            *kind = TARGET_STDOUT;
            return BRAGG_OK;
        }
        if (S_ISCHR(st->st_mode) || S_ISFIFO(st->st_mode)) {
            snprintf(target, len, "%s", path);
            *kind = TARGET_DIRECT;
            return BRAGG_OK;
        }
        if (S_ISDIR(st->st_mode))
            return bragg_fail(e, "%s: cannot write %s: it is a folder (valid: a file name)", what,
                              BRAGG_QUOTED(path));
        if (!S_ISREG(st->st_mode))
            return bragg_fail(e, "%s: cannot write %s: it is %s, not a file", what,
                              BRAGG_QUOTED(path),
                              S_ISBLK(st->st_mode) ? "a block device" :
                              S_ISSOCK(st->st_mode) ? "a socket" : "a special file");
        *kind = TARGET_REGULAR;
        if (follow_links(path, what, target, len, e)) return BRAGG_ERR;
        /* The rename that replaces it needs only the folder's permission, but a file its owner
         * made read-only is one they did not mean to have replaced: refused, as an open for
         * writing would be. */
        if (access(target, W_OK) != 0)
            return bragg_fail(e, "%s: cannot write %s: %s", what, BRAGG_QUOTED(path),
                              strerror(errno));
        return BRAGG_OK;
    }
    if (errno == ELOOP)
        return bragg_fail(e, "%s: cannot write %s: too many levels of symbolic links", what,
                          BRAGG_QUOTED(path));
    if (errno != ENOENT && errno != ENOTDIR)
        return bragg_fail(e, "%s: cannot write %s: %s", what, BRAGG_QUOTED(path),
                          strerror(errno));
    /* Nothing there yet, or a link to nothing: the file is created where the links lead. */
    *kind = TARGET_NEW;
    if (follow_links(path, what, target, len, e)) return BRAGG_ERR;
    return check_folder(target, path, what, e);
}

int atomic_file_check_path(const char *path, const char *what, bragg_err *e)
{
    if (strcmp(path, "-") == 0) return BRAGG_OK;
    char target[ATOMIC_FILE_PATH_MAX];
    target_kind kind;
    struct stat st;
    if (classify(path, what, target, sizeof target, &kind, &st, e)) return BRAGG_ERR;
    if (kind == TARGET_STDOUT) return BRAGG_OK;
    if (kind == TARGET_DIRECT) {
        if (access(path, W_OK) != 0)
            return bragg_fail(e, "%s: cannot write %s: %s", what, BRAGG_QUOTED(path),
                              strerror(errno));
        return BRAGG_OK;
    }
    return check_folder(target, path, what, e);
}

/* ---- outputs that would land on each other or on an input ------------------------------- */

typedef enum identity_kind { ID_NONE, ID_STDOUT, ID_NAME } identity_kind;

typedef struct file_identity {
    identity_kind kind;
    dev_t dev;                         /* ID_NAME: the folder's device and inode */
    ino_t ino;
    char name[ATOMIC_FILE_PATH_MAX];   /* ID_NAME: the file's name in that folder */
} file_identity;

/* What a name leads to: the name a rename would replace, links followed (its folder's device
 * and inode, which "./", "a/../" or another mount of the folder do not change, and its name
 * there), standard output ("-", or another name for it as an output), or nothing to compare (a
 * device, a FIFO, an input that is not there, an unusable path, which the path checks report).
 * A file is compared by name, not by inode: an output renamed over one hard link of a file
 * replaces that name only, and the other names (another output, an input) keep the old
 * contents. Symbolic links to one file lead to one name, and are refused. */
static void identify(const file_use *u, file_identity *id)
{
    id->kind = ID_NONE;
    if (strcmp(u->path, "-") == 0) {
        if (!u->input) id->kind = ID_STDOUT;
        return;
    }
    struct stat st;
    if (stat(u->path, &st) == 0) {
        /* Standard output is written through, in place, whatever name led there. */
        if (!u->input && is_stdout(&st)) {
            id->kind = ID_STDOUT;
            return;
        }
        if (!S_ISREG(st.st_mode)) return;
    } else if (u->input) {
        return;
    }
    char target[ATOMIC_FILE_PATH_MAX], dir[ATOMIC_FILE_PATH_MAX];
    bragg_err ignored;
    if (follow_links(u->path, u->what, target, sizeof target, &ignored)) return;
    folder_of(target, dir, sizeof dir);
    struct stat folder;
    if (stat(dir, &folder) != 0) return;
    const char *slash = strrchr(target, '/');
    snprintf(id->name, sizeof id->name, "%s", slash ? slash + 1 : target);
    id->dev = folder.st_dev;
    id->ino = folder.st_ino;
    id->kind = ID_NAME;
}

int atomic_file_check_distinct(const file_use *uses, int n, bragg_err *e)
{
    for (int i = 0; i < n; i++) {
        if (!uses[i].path || uses[i].input) continue;
        file_identity a;
        identify(&uses[i], &a);
        if (a.kind == ID_NONE) continue;
        for (int j = 0; j < n; j++) {
            if (j == i || !uses[j].path || (!uses[j].input && j < i)) continue;
            file_identity b;
            identify(&uses[j], &b);
            int same = a.kind == b.kind &&
                       (a.kind == ID_STDOUT || (a.dev == b.dev && a.ino == b.ino &&
                                                strcmp(a.name, b.name) == 0));
            if (!same) continue;
            if (a.kind == ID_STDOUT)
                return bragg_fail(e, "%s %s and %s %s both write to standard output (valid: one "
                                     "of them there, a file name for the other)",
                                  uses[i].what, BRAGG_QUOTED(uses[i].path), uses[j].what,
                                  BRAGG_QUOTED(uses[j].path));
            if (uses[j].input)
                return bragg_fail(e, "%s: %s is also %s; writing it would destroy it (valid: "
                                     "another file name)",
                                  uses[i].what, BRAGG_QUOTED(uses[i].path), uses[j].what);
            return bragg_fail(e, "%s and %s name the same file %s (valid: a different file for "
                                 "each output)",
                              uses[i].what, uses[j].what, BRAGG_QUOTED(uses[i].path));
        }
    }
    return BRAGG_OK;
}

int atomic_file_check_reserved(const file_use *uses, int n, const char *dir,
                               int (*reserved)(const char *name), const char *owner,
                               bragg_err *e)
{
    struct stat folder;
    if (stat(dir, &folder) != 0 || !S_ISDIR(folder.st_mode)) return BRAGG_OK;
    for (int i = 0; i < n; i++) {
        if (!uses[i].path || uses[i].input) continue;
        file_identity id;
        identify(&uses[i], &id);
        if (id.kind == ID_NAME && id.dev == folder.st_dev && id.ino == folder.st_ino &&
            reserved(id.name))
            return bragg_fail(e, "%s: %s would replace %s, which the %s folder %s keeps (valid: "
                                 "another name, or a file outside that folder)",
                              uses[i].what, BRAGG_QUOTED(uses[i].path), BRAGG_QUOTED(id.name),
                              owner, BRAGG_QUOTED(dir));
    }
    return BRAGG_OK;
}

int atomic_file_uses_stdout(const file_use *uses, int n)
{
    for (int i = 0; i < n; i++) {
        if (!uses[i].path || uses[i].input) continue;
        file_identity id;
        identify(&uses[i], &id);
        if (id.kind == ID_STDOUT) return 1;
    }
    return 0;
}

/* ---- stale temporaries --------------------------------------------------------------------- */

/* Removes "<target>.tmp.<pid><suffix>" files whose process no longer exists (killed while
 * writing). A pid that is alive, or that kill() may not probe (another user's), is left
 * alone. */
static void remove_stale(const char *target, const char *suffix)
{
    char dir[ATOMIC_FILE_PATH_MAX];
    folder_of(target, dir, sizeof dir);
    const char *slash = strrchr(target, '/');
    const char *base = slash ? slash + 1 : target;
    size_t blen = strlen(base);
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *de;
    while ((de = readdir(d))) {
        const char *name = de->d_name;
        if (strncmp(name, base, blen) != 0 || strncmp(name + blen, ".tmp.", 5) != 0) continue;
        const char *digits = name + blen + 5;
        size_t nd = strspn(digits, "0123456789");
        if (nd == 0 || nd > 9 || strcmp(digits + nd, suffix) != 0) continue;
        long pid = strtol(digits, NULL, 10);
        if (pid <= 0 || pid == (long)getpid()) continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
        unlinkat(dirfd(d), name, 0);
    }
    closedir(d);
}

/* ---- writing ------------------------------------------------------------------------------- */

/* Creates a temporary for writing. O_EXCL: never write through something planted at its name.
 * A leftover of this very pid (reused after a crash) is ours to replace. */
static int create_temporary(const char *path, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0 && errno == EEXIST && unlink(path) == 0)
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    return fd;
}

static int (*cancel_check)(void);
/* Set once an output was given up because cancel_check said stop (atomic_file_cancelled). */
static atomic_int cancelled_output;
/* Set once an output failed for a cause of its own (atomic_file_failed). */
static atomic_int failed_output;

void atomic_file_set_cancel_check(int (*cancelled)(void))
{
    cancel_check = cancelled;
}

int atomic_file_cancelled(void)
{
    return atomic_load(&cancelled_output);
}

int atomic_file_failed(void)
{
    return atomic_load(&failed_output);
}

/* bragg_fail for an output that failed for a cause of its own, remembered for
 * atomic_file_failed. */
#define output_fail(...) (atomic_store(&failed_output, 1), bragg_fail(__VA_ARGS__))

/* What the FILE of a file, device or FIFO writes with (fopencookie). stdio keeps no more than
 * an error flag when a write fails, so the cause was gone by the commit, and a full disk was
 * reported as "Input/output error". The first failure's errno is kept here instead; after it
 * nothing more is written (the output has failed, and the rest would only fill the disk). */
static ssize_t write_through(void *cookie, const char *buf, size_t size)
{
    atomic_file *af = cookie;
    size_t done = 0;
    while (done < size && !af->write_errno) {
        ssize_t n = write(af->fd, buf + done, size - done);
        if (n > 0) done += (size_t)n;
        else if (n == 0) af->write_errno = EIO;
        else if (errno != EINTR) af->write_errno = errno;
    }
    return (ssize_t)done;   /* fewer than size: stdio sets the stream's error flag */
}

static int close_through(void *cookie)
{
    return close(((atomic_file *)cookie)->fd);
}

/* A FILE writing to `fd` through write_through; NULL (errno set) when none can be had. */
static FILE *stream_on(atomic_file *af, int fd)
{
    af->fd = fd;
    af->write_errno = 0;
    cookie_io_functions_t io = {.write = write_through, .close = close_through};
    return fopencookie(af, "wb", io);
}

/* Why the stream failed: the failed write's cause, else what stdio said, else EIO. */
static int stream_error(const atomic_file *af)
{
    return af->write_errno ? af->write_errno : errno ? errno : EIO;
}

/* Opens a device or FIFO for writing. A FIFO with no reader would block the open until one
 * comes, deaf to a request to stop (the signal handler's restart): it is polled instead, every
 * 20 ms, until a reader comes or cancel_check says stop (errno ECANCELED, and
 * atomic_file_cancelled says so from then on). */
static int open_direct(const char *target)
{
    struct stat st;
    if (stat(target, &st) != 0 || !S_ISFIFO(st.st_mode))
        return open(target, O_WRONLY | O_CLOEXEC | O_NOCTTY);
    for (;;) {
        int fd = open(target, O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd >= 0) {
            /* Blocking writes from here on, as any other file's. */
            int flags = fcntl(fd, F_GETFL);
            if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
                int err = errno;
                close(fd);
                errno = err;
                return -1;
            }
            return fd;
        }
        if (errno != ENXIO) return -1;   /* ENXIO: nobody reads it yet */
        if (cancel_check && cancel_check()) {
            atomic_store(&cancelled_output, 1);
            errno = ECANCELED;
            return -1;
        }
        struct timespec pause = {0, 20000000};
        nanosleep(&pause, NULL);
    }
}

int atomic_file_open(atomic_file *af, const char *path, const char *what, bragg_err *e)
{
    memset(af, 0, sizeof *af);
    af->slot = -1;
    target_kind kind = TARGET_STDOUT;
    struct stat st;
    if (strcmp(path, "-") != 0 &&
        classify(path, what, af->target, sizeof af->target, &kind, &st, e)) {
        atomic_store(&failed_output, 1);
        return BRAGG_ERR;
    }
    snprintf(af->path, sizeof af->path, "%s", path);
    snprintf(af->what, sizeof af->what, "%s", what);
    if (kind == TARGET_STDOUT) {
        /* The open stream itself, never a rename over what it is: one buffer, one position. */
        af->file = stdout;
        af->mode = ATOMIC_FILE_STDOUT;
        return BRAGG_OK;
    }
    if (kind == TARGET_DIRECT) {
        /* No O_CREAT, no O_TRUNC: it exists, and truncating means nothing to a device. */
        int fd = open_direct(af->target);
        if (fd < 0 || !(af->file = stream_on(af, fd))) {
            int err = errno;
            if (fd >= 0) close(fd);
            if (err == ECANCELED)
                return bragg_fail(e, "%s: cannot write %s: stopped while waiting for a reader of "
                                     "the FIFO", what, BRAGG_QUOTED(path));
            return output_fail(e, "%s: cannot write %s: %s", what, BRAGG_QUOTED(path),
                               strerror(err));
        }
        af->mode = ATOMIC_FILE_DIRECT;
        return BRAGG_OK;
    }
    af->mode = ATOMIC_FILE_RENAME;
    remove_stale(af->target, "");
    snprintf(af->tmp, sizeof af->tmp, "%s.tmp.%ld", af->target, (long)getpid());
    /* Registered before it exists, so that no moment has a temporary a handler cannot see. */
    af->slot = slot_claim(af->tmp);
    int fd = create_temporary(af->tmp, 0666);
    if (fd < 0) {
        int err = errno;
        slot_release(&af->slot);
        if (check_folder(af->target, path, what, e)) {
            atomic_store(&failed_output, 1);
            return BRAGG_ERR;
        }
        return output_fail(e, "%s: cannot write %s: %s", what, BRAGG_QUOTED(path), strerror(err));
    }
    /* A replaced file keeps its permission bits; should that fail, the new file has the default
     * mode, which is no reason to lose the output. */
    if (kind == TARGET_REGULAR) (void)fchmod(fd, st.st_mode & 07777);
    af->file = stream_on(af, fd);
    if (!af->file) {
        int err = errno;
        close(fd);
        unlink(af->tmp);
        slot_release(&af->slot);
        return output_fail(e, "%s: cannot write %s: %s", what, BRAGG_QUOTED(path), strerror(err));
    }
    return BRAGG_OK;
}

int atomic_file_commit(atomic_file *af, bragg_err *e)
{
    if (af->mode == ATOMIC_FILE_STDOUT) {
        errno = 0;
        int failed = fflush(stdout) != 0 || ferror(stdout);
        af->file = NULL;
        /* stdout is stdio's own stream: when an earlier write failed and the last flush had
         * nothing left to write, the cause is lost, and errno 0 would read "Success". */
        if (failed)
            return output_fail(e, "%s: cannot write to standard output: %s", af->what,
                               strerror(stream_error(af)));
        return BRAGG_OK;
    }
    /* The first failure is the one named: a full disk, not what it led to. */
    int err = 0;
    errno = 0;
    if (fflush(af->file) != 0 || ferror(af->file)) err = stream_error(af);
    /* fsync makes the rename publish data that is on disk; a device or pipe has nothing to
     * sync (and says EINVAL). */
    if (!err && af->mode == ATOMIC_FILE_RENAME && fsync(af->fd) != 0) err = errno;
    errno = 0;
    if (fclose(af->file) != 0 && !err) err = stream_error(af);
    af->file = NULL;
    if (!err && af->mode == ATOMIC_FILE_RENAME && rename(af->tmp, af->target) != 0) err = errno;
    if (af->mode == ATOMIC_FILE_RENAME) {
        if (err) unlink(af->tmp);
        slot_release(&af->slot);
    }
    /* Named by its option, as a failure to open it is: a command with --json and --csv on one
     * full disk said only "cannot write '/dev/full'". */
    if (err)
        return output_fail(e, "%s: cannot write %s: %s", af->what, BRAGG_QUOTED(af->path),
                           strerror(err));
    return BRAGG_OK;
}

void atomic_file_abandon(atomic_file *af)
{
    atomic_store(&failed_output, 1);
    if (!af->file) return;
    if (af->mode == ATOMIC_FILE_STDOUT) {
        af->file = NULL;
        return;
    }
    fclose(af->file);
    af->file = NULL;
    if (af->mode == ATOMIC_FILE_RENAME) unlink(af->tmp);
    slot_release(&af->slot);
}

/* ---- scratch files for libraries ----------------------------------------------------------- */

int atomic_file_scratch_open(atomic_scratch *s, const char *path, const char *suffix,
                             const char *what, bragg_err *e)
{
    memset(s, 0, sizeof *s);
    s->slot = -1;
    char target[ATOMIC_FILE_PATH_MAX];
    target_kind kind = TARGET_STDOUT;
    struct stat st;
    if (strcmp(path, "-") != 0 && classify(path, what, target, sizeof target, &kind, &st, e))
        return BRAGG_ERR;
    char base[ATOMIC_FILE_PATH_MAX];
    if (kind == TARGET_NEW || kind == TARGET_REGULAR) {
        snprintf(base, sizeof base, "%s", target);
    } else {
        /* /dev/null's folder is no place for a file (nor writable but by root), nor is a
         * FIFO's necessarily: the temporary files' folder. */
        const char *tmpdir = getenv("TMPDIR");
        if (!tmpdir || !*tmpdir) tmpdir = "/tmp";
        const char *slash = strrchr(path, '/');
        int w = snprintf(base, sizeof base, "%s/bragg-%s", tmpdir,
                         strcmp(path, "-") == 0 ? "stdout" : slash ? slash + 1 : path);
        if (w < 0 || (size_t)w >= sizeof base)
            return bragg_fail(e, "%s: the scratch file's path is too long", what);
    }
    remove_stale(base, suffix);
    int w = snprintf(s->path, sizeof s->path, "%s.tmp.%ld%s", base, (long)getpid(), suffix);
    if (w < 0 || (size_t)w >= sizeof s->path)
        return bragg_fail(e, "%s: the scratch file's path is too long", what);
    s->slot = slot_claim(s->path);
    /* Created here, so that the library's own open finds a file of ours, never a link planted
     * at a name others can guess (in /tmp). */
    int fd = create_temporary(s->path, 0600);
    if (fd < 0) {
        int err = errno;
        slot_release(&s->slot);
        return bragg_fail(e, "%s: cannot create the scratch file %s: %s", what,
                          BRAGG_QUOTED(s->path), strerror(err));
    }
    close(fd);
    return BRAGG_OK;
}

void atomic_file_scratch_remove(atomic_scratch *s)
{
    if (s->path[0]) unlink(s->path);
    slot_release(&s->slot);
    s->path[0] = '\0';
}
