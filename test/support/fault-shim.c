/*
 * An LD_PRELOAD shim that injects real I/O faults into a process: write, fsync, rename, truncate
 * and open on matching paths fail with a chosen errno, or a write returns a short count, on the
 * N-th matching call. Built by test/support/fault-shim.ts with the system's C compiler.
 *
 * Configuration: a control file named by FAULT_CONTROL (re-read on every matching call, so a test
 * can change or lift a fault while the process runs; a changed file restarts the count), or, when
 * FAULT_CONTROL is unset, the environment. Keys, one `key=value` per line (or FAULT_<KEY> in the
 * environment):
 *   path=SUBSTRING   only paths containing it (the fd's path, from /proc/self/fd)   (default: none);
 *                    a trailing $ anchors it at the end: `path=/sessions/s1$` with ops=fsync is the
 *                    directory's own fsync, not that of a file inside it
 *   ops=write,fsync  which calls: write, fsync, rename, truncate, open              (default: write)
 *   nth=N            the first matching call that fails, from 1                      (default: 1)
 *   count=K          how many matching calls fail from the N-th on; -1 for all       (default: 1)
 *   errno=ENOSPC     ENOSPC, EIO, EFBIG, EDQUOT, EROFS, EACCES, EINVAL, EPERM       (default: EIO)
 *   short=1          the first faulted write writes half its bytes and returns that count instead of
 *                    failing, as write(2) does on a full disk; the faulted calls after it fail with
 *                    errno. libuv loops on a short write, so count=2 short=1 errno=ENOSPC is what a
 *                    full disk looks like to Node: a write that resolves with fewer bytes written
 *   log=FILE         append one line per faulted call (op and path), for the test to read
 *
 * `write` covers write, pwrite, pwrite64, writev, pwritev, pwritev64; `fsync` covers fsync and
 * fdatasync; `rename` covers rename, renameat, renameat2 (matched on the target path); `truncate`
 * covers ftruncate, ftruncate64, truncate, truncate64; `open` covers open, open64, openat, openat64
 * with O_CREAT, O_WRONLY or O_RDWR.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#define OP_WRITE 1
#define OP_FSYNC 2
#define OP_RENAME 4
#define OP_TRUNCATE 8
#define OP_OPEN 16

struct config {
  char path[PATH_MAX];
  int ops;
  long nth;
  long count;
  int err;
  int short_write;
  char log[PATH_MAX];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct config current;
static int loaded = 0;
static char control_text[4096];
static long calls = 0;
static __thread int inside = 0;

static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_pwrite64)(int, const void *, size_t, off64_t);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static ssize_t (*real_pwritev)(int, const struct iovec *, int, off_t);
static ssize_t (*real_pwritev64)(int, const struct iovec *, int, off64_t);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_rename)(const char *, const char *);
static int (*real_renameat)(int, const char *, int, const char *);
static int (*real_renameat2)(int, const char *, int, const char *, unsigned int);
static int (*real_ftruncate)(int, off_t);
static int (*real_ftruncate64)(int, off64_t);
static int (*real_truncate)(const char *, off_t);
static int (*real_truncate64)(const char *, off64_t);
static int (*real_open)(const char *, int, ...);
static int (*real_open64)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static int (*real_openat64)(int, const char *, int, ...);
static ssize_t (*real_read)(int, void *, size_t);
static int (*real_close)(int);

#define RESOLVE(name) real_##name = dlsym(RTLD_NEXT, #name)

__attribute__((constructor)) static void init(void) {
  RESOLVE(write);
  RESOLVE(pwrite);
  RESOLVE(pwrite64);
  RESOLVE(writev);
  RESOLVE(pwritev);
  RESOLVE(pwritev64);
  RESOLVE(fsync);
  RESOLVE(fdatasync);
  RESOLVE(rename);
  RESOLVE(renameat);
  RESOLVE(renameat2);
  RESOLVE(ftruncate);
  RESOLVE(ftruncate64);
  RESOLVE(truncate);
  RESOLVE(truncate64);
  RESOLVE(open);
  RESOLVE(open64);
  RESOLVE(openat);
  RESOLVE(openat64);
  RESOLVE(read);
  RESOLVE(close);
}

static int errno_of(const char *name) {
  if (strcmp(name, "ENOSPC") == 0) return ENOSPC;
  if (strcmp(name, "EFBIG") == 0) return EFBIG;
  if (strcmp(name, "EDQUOT") == 0) return EDQUOT;
  if (strcmp(name, "EROFS") == 0) return EROFS;
  if (strcmp(name, "EACCES") == 0) return EACCES;
  if (strcmp(name, "EINVAL") == 0) return EINVAL;
  if (strcmp(name, "EPERM") == 0) return EPERM;
  return EIO;
}

static int ops_of(const char *list) {
  int ops = 0;
  if (strstr(list, "write")) ops |= OP_WRITE;
  if (strstr(list, "fsync")) ops |= OP_FSYNC;
  if (strstr(list, "rename")) ops |= OP_RENAME;
  if (strstr(list, "truncate")) ops |= OP_TRUNCATE;
  if (strstr(list, "open")) ops |= OP_OPEN;
  return ops;
}

static void set_key(struct config *c, const char *key, const char *value) {
  if (strcmp(key, "path") == 0) snprintf(c->path, sizeof c->path, "%s", value);
  else if (strcmp(key, "ops") == 0) c->ops = ops_of(value);
  else if (strcmp(key, "nth") == 0) c->nth = atol(value);
  else if (strcmp(key, "count") == 0) c->count = atol(value);
  else if (strcmp(key, "errno") == 0) c->err = errno_of(value);
  else if (strcmp(key, "short") == 0) c->short_write = atoi(value);
  else if (strcmp(key, "log") == 0) snprintf(c->log, sizeof c->log, "%s", value);
}

static void defaults(struct config *c) {
  memset(c, 0, sizeof *c);
  c->ops = OP_WRITE;
  c->nth = 1;
  c->count = 1;
  c->err = EIO;
}

static void from_env(struct config *c) {
  static const char *keys[] = {"path", "ops", "nth", "count", "errno", "short", "log"};
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
    char name[32];
    snprintf(name, sizeof name, "FAULT_%s", keys[i]);
    for (char *p = name + 6; *p; p++) *p = (char)(*p - 32);
    const char *value = getenv(name);
    if (value) set_key(c, keys[i], value);
  }
}

/* Re-reads the control file; a changed text restarts the count. Called with the lock held. */
static void refresh(void) {
  const char *control = getenv("FAULT_CONTROL");
  if (!control) {
    if (!loaded) {
      defaults(&current);
      from_env(&current);
      loaded = 1;
    }
    return;
  }
  char text[sizeof control_text];
  memset(text, 0, sizeof text);
  int fd = real_open(control, O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    ssize_t n = real_read(fd, text, sizeof text - 1);
    if (n < 0) text[0] = 0;
    real_close(fd);
  }
  if (loaded && strcmp(text, control_text) == 0) return;
  memcpy(control_text, text, sizeof text);
  defaults(&current);
  if (fd < 0 || text[0] == 0) current.path[0] = 0; /* no control text: no faults */
  char *save = NULL;
  for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    char *eq = strchr(line, '=');
    if (!eq) continue;
    *eq = 0;
    set_key(&current, line, eq + 1);
  }
  calls = 0;
  loaded = 1;
}

static void log_fault(const char *op, const char *path) {
  if (current.log[0] == 0) return;
  int fd = real_open(current.log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return;
  char line[PATH_MAX + 64];
  int n = snprintf(line, sizeof line, "%s %s\n", op, path);
  if (n > 0) real_write(fd, line, (size_t)n);
  real_close(fd);
}

/* Whether `path` matches the configured path: a substring, or a suffix when it ends with '$'. */
static int path_matches(const char *path) {
  size_t n = strlen(current.path);
  if (n == 0) return 0;
  if (current.path[n - 1] != '$') return strstr(path, current.path) != NULL;
  size_t length = strlen(path);
  return length >= n - 1 && strncmp(path + length - (n - 1), current.path, n - 1) == 0;
}

/* 0: let the call through; 1: fail it (errno set); 2: make it short. */
static int decide(int op, const char *path, const char *op_name) {
  if (inside || path == NULL) return 0;
  inside = 1;
  int verdict = 0;
  pthread_mutex_lock(&lock);
  refresh();
  if ((current.ops & op) && path_matches(path)) {
    long n = ++calls;
    int hit = n >= current.nth && (current.count < 0 || n < current.nth + current.count);
    if (hit) {
      /* A full disk: the first faulted write is short, the faulted calls after it fail. */
      verdict = (op == OP_WRITE && current.short_write && n == current.nth) ? 2 : 1;
      log_fault(verdict == 2 ? "short-write" : op_name, path);
    }
  }
  int err = current.err;
  pthread_mutex_unlock(&lock);
  inside = 0;
  if (verdict == 1) errno = err;
  return verdict;
}

static const char *fd_path(int fd, char *buffer, size_t size) {
  char link[64];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, buffer, size - 1);
  if (n < 0) return NULL;
  buffer[n] = 0;
  return buffer;
}

static int fd_decide(int op, int fd, const char *name) {
  if (inside) return 0;
  char buffer[PATH_MAX];
  return decide(op, fd_path(fd, buffer, sizeof buffer), name);
}

static size_t shortened(size_t count) { return count <= 1 ? 0 : count / 2; }

static size_t iov_total(const struct iovec *iov, int n) {
  size_t total = 0;
  for (int i = 0; i < n; i++) total += iov[i].iov_len;
  return total;
}

/* Writes the first `limit` bytes of an iovec list with the real call; returns the count. */
static ssize_t short_iov(int fd, const struct iovec *iov, int n, off64_t offset, int positional) {
  size_t limit = shortened(iov_total(iov, n));
  if (limit == 0) {
    errno = ENOSPC;
    return -1;
  }
  struct iovec copy[64];
  int m = 0;
  size_t left = limit;
  for (int i = 0; i < n && i < 64 && left > 0; i++) {
    copy[m] = iov[i];
    if (copy[m].iov_len > left) copy[m].iov_len = left;
    left -= copy[m].iov_len;
    m++;
  }
  return positional ? real_pwritev64(fd, copy, m, offset) : real_writev(fd, copy, m);
}

ssize_t write(int fd, const void *buf, size_t count) {
  int v = fd_decide(OP_WRITE, fd, "write");
  if (v == 1) return -1;
  if (v == 2) {
    size_t limit = shortened(count);
    if (limit == 0) {
      errno = ENOSPC;
      return -1;
    }
    return real_write(fd, buf, limit);
  }
  return real_write(fd, buf, count);
}

ssize_t pwrite(int fd, const void *buf, size_t count, off_t offset) {
  int v = fd_decide(OP_WRITE, fd, "write");
  if (v == 1) return -1;
  if (v == 2) {
    size_t limit = shortened(count);
    if (limit == 0) {
      errno = ENOSPC;
      return -1;
    }
    return real_pwrite(fd, buf, limit, offset);
  }
  return real_pwrite(fd, buf, count, offset);
}

ssize_t pwrite64(int fd, const void *buf, size_t count, off64_t offset) {
  int v = fd_decide(OP_WRITE, fd, "write");
  if (v == 1) return -1;
  if (v == 2) {
    size_t limit = shortened(count);
    if (limit == 0) {
      errno = ENOSPC;
      return -1;
    }
    return real_pwrite64(fd, buf, limit, offset);
  }
  return real_pwrite64(fd, buf, count, offset);
}

ssize_t writev(int fd, const struct iovec *iov, int n) {
  int v = fd_decide(OP_WRITE, fd, "write");
  if (v == 1) return -1;
  if (v == 2) return short_iov(fd, iov, n, 0, 0);
  return real_writev(fd, iov, n);
}

ssize_t pwritev(int fd, const struct iovec *iov, int n, off_t offset) {
  int v = fd_decide(OP_WRITE, fd, "write");
  if (v == 1) return -1;
  if (v == 2) return short_iov(fd, iov, n, offset, 1);
  return real_pwritev(fd, iov, n, offset);
}

ssize_t pwritev64(int fd, const struct iovec *iov, int n, off64_t offset) {
  int v = fd_decide(OP_WRITE, fd, "write");
  if (v == 1) return -1;
  if (v == 2) return short_iov(fd, iov, n, offset, 1);
  return real_pwritev64(fd, iov, n, offset);
}

int fsync(int fd) {
  if (fd_decide(OP_FSYNC, fd, "fsync") == 1) return -1;
  return real_fsync(fd);
}

int fdatasync(int fd) {
  if (fd_decide(OP_FSYNC, fd, "fdatasync") == 1) return -1;
  return real_fdatasync(fd);
}

/* A rename is matched on its target path (an atomic replace renames a temporary file onto it). */
static int rename_decide(const char *to) { return decide(OP_RENAME, to, "rename") == 1; }

int rename(const char *from, const char *to) {
  if (rename_decide(to)) return -1;
  return real_rename(from, to);
}

int renameat(int a, const char *from, int b, const char *to) {
  if (rename_decide(to)) return -1;
  return real_renameat(a, from, b, to);
}

int renameat2(int a, const char *from, int b, const char *to, unsigned int flags) {
  if (rename_decide(to)) return -1;
  return real_renameat2(a, from, b, to, flags);
}

int ftruncate(int fd, off_t length) {
  if (fd_decide(OP_TRUNCATE, fd, "truncate") == 1) return -1;
  return real_ftruncate(fd, length);
}

int ftruncate64(int fd, off64_t length) {
  if (fd_decide(OP_TRUNCATE, fd, "truncate") == 1) return -1;
  return real_ftruncate64(fd, length);
}

int truncate(const char *path, off_t length) {
  if (decide(OP_TRUNCATE, path, "truncate") == 1) return -1;
  return real_truncate(path, length);
}

int truncate64(const char *path, off64_t length) {
  if (decide(OP_TRUNCATE, path, "truncate") == 1) return -1;
  return real_truncate64(path, length);
}

static int opens_for_writing(int flags) { return (flags & (O_CREAT | O_WRONLY | O_RDWR)) != 0; }

#define OPEN_BODY(call)                                                                            \
  mode_t mode = 0;                                                                                 \
  if (flags & (O_CREAT | O_TMPFILE)) {                                                             \
    va_list args;                                                                                  \
    va_start(args, flags);                                                                         \
    mode = (mode_t)va_arg(args, int);                                                              \
    va_end(args);                                                                                  \
  }                                                                                                \
  if (opens_for_writing(flags) && decide(OP_OPEN, path, "open") == 1) return -1;                   \
  return call;

int open(const char *path, int flags, ...) { OPEN_BODY(real_open(path, flags, mode)) }
int open64(const char *path, int flags, ...) { OPEN_BODY(real_open64(path, flags, mode)) }
int openat(int dir, const char *path, int flags, ...) { OPEN_BODY(real_openat(dir, path, flags, mode)) }
int openat64(int dir, const char *path, int flags, ...) { OPEN_BODY(real_openat64(dir, path, flags, mode)) }
