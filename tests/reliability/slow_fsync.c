// slow_fsync.c: an LD_PRELOAD shim for the reliability tests that makes fsync(2) and fdatasync(2) slow, the
// way a worn SD card or a busy flash disk does, and notes every call.
//
// Role: slow_fsync.test.mjs runs ferry with it and measures whether ferry's loop stays responsive while
// its files are synced: a sync on the loop thread stalls reading, sending and `ferry status` for the whole
// delay, a sync on a pool thread stalls nothing. Built by tests/CMakeLists.txt as a test-only shared
// library (libferry_slow_fsync.so); never installed.
//
// Environment (read once, at the first call):
//   FERRY_SLOW_FSYNC_MS    delay before each call, in milliseconds (default 400; 0: no delay, calls noted)
//   FERRY_SLOW_FSYNC_LOG   if set, a file to which one line per call is appended:
//                            "<fsync|fdatasync> <thread id> <delay ms> <path of the descriptor>"
//                          (the path from /proc/self/fd, so a test can tell checkpoint syncs from spool
//                          or dead-letter syncs; a folder's path for a folder's sync)
//   FERRY_SLOW_FSYNC_MATCH if set, only descriptors whose path contains this text are delayed (all calls
//                          are still noted), so a test can slow one kind of file and leave the others
// The real call follows the delay, and its result is returned unchanged.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

typedef int (*sync_fn)(int);

static pthread_once_t once = PTHREAD_ONCE_INIT;
static long delay_ms = 400;
static int log_fd = -1;
static const char* match = NULL;
static sync_fn real_fsync = NULL;
static sync_fn real_fdatasync = NULL;

static void init(void) {
  const char* ms = getenv("FERRY_SLOW_FSYNC_MS");
  if (ms != NULL && *ms != '\0') delay_ms = strtol(ms, NULL, 10);
  const char* log = getenv("FERRY_SLOW_FSYNC_LOG");
  if (log != NULL && *log != '\0') log_fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  match = getenv("FERRY_SLOW_FSYNC_MATCH");
  if (match != NULL && *match == '\0') match = NULL;
  real_fsync = (sync_fn)dlsym(RTLD_NEXT, "fsync");
  real_fdatasync = (sync_fn)dlsym(RTLD_NEXT, "fdatasync");
}

static int slow(const char* name, sync_fn real, int fd) {
  int saved = errno;
  pthread_once(&once, init);
  char link[64];
  char path[512];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, path, sizeof path - 1);
  path[n > 0 ? n : 0] = '\0';
  long delay = (match == NULL || strstr(path, match) != NULL) ? delay_ms : 0;
  if (log_fd >= 0) {
    char line[700];
    int len = snprintf(line, sizeof line, "%s %ld %ld %s\n", name, (long)syscall(SYS_gettid), delay, path);
    if (len > 0) (void)!write(log_fd, line, (size_t)len < sizeof line ? (size_t)len : sizeof line - 1);
  }
  if (delay > 0) {
    struct timespec ts = {delay / 1000, (delay % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
  }
  errno = saved;
  if (real == NULL) {
    errno = ENOSYS;
    return -1;
  }
  return real(fd);
}

int fsync(int fd) {
  pthread_once(&once, init);
  return slow("fsync", real_fsync, fd);
}

int fdatasync(int fd) {
  pthread_once(&once, init);
  return slow("fdatasync", real_fdatasync, fd);
}
