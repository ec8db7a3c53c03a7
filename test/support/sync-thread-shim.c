/*
 * An LD_PRELOAD shim that records which thread makes each fdatasync: one line per call,
 * `PID TID PATH` (the fd's path, from /proc/self/fd), appended to the file named by SYNC_THREAD_LOG.
 * A call on a process's main thread has TID == PID; one through libuv's thread pool does not.
 * Built by test/support/fault-shim.ts ({@link buildShim}) with the system's C compiler.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

static int (*real_fdatasync)(int);

__attribute__((constructor)) static void init(void) { real_fdatasync = dlsym(RTLD_NEXT, "fdatasync"); }

int fdatasync(int fd) {
  const char *log = getenv("SYNC_THREAD_LOG");
  char link[64], target[PATH_MAX];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = log ? readlink(link, target, sizeof target - 1) : -1;
  if (n > 0) {
    target[n] = 0;
    char line[PATH_MAX + 64];
    int m = snprintf(line, sizeof line, "%ld %ld %s\n", (long)getpid(), (long)syscall(SYS_gettid), target);
    int out = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (out >= 0 && m > 0) {
      ssize_t written = write(out, line, (size_t)m);
      (void)written;
    }
    if (out >= 0) close(out);
  }
  return real_fdatasync(fd);
}
