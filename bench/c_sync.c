/* c_sync: the cloud-sync benchmark's C client of ohfile's public C API (bench/cloudsync.mjs runs
 * it). Each command does one thing once and prints one JSON line.
 *
 *   c_sync sync <root> <bundle>           one FileSync run of the app's cloud folder, start to idle
 *   c_sync download <root> <uri>          one CloudFileCache download, start to idle
 *   c_sync clean <root> <uri>             cleanCache: the file becomes cloud-only again
 *   c_sync exec <program> [args...]       runs a baseline (rclone, cp): its wall time and peak RSS
 *
 * sync/download output: {"op", "ok", "seconds" (ohf_device_open to idle), "events", "lastState",
 * "lastError", "bytes" (download), "firstEventSeconds" (download: start to the first progress
 * event), "maxRssKiB" (VmHWM of this process: library and client), "ruMaxRssKiB"}. "ok" is false
 * (exit status 1) unless the run ended COMPLETED without error (a download: COMPLETED with
 * processed == size).
 * exec output: {"op": "exec", "ok", "status", "seconds", "maxRssKiB"}: the child's ru_maxrss from
 * wait4 (this program is small, so what the child inherits over fork+exec does not show).
 *
 * Build (bench/cloudsync.mjs does it):
 *   cc -O2 -std=c99 -Wall -Wextra -Werror -Iinclude bench/c_sync.c target/release/libohfile.a \
 *      -lpthread -ldl -lm -o c_sync */
#define _GNU_SOURCE /* wait4 */
#include "ohfile.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* The peak RSS of this program: VmHWM of the address space exec made (not ru_maxrss, which
 * Linux carries over exec from the process that forked us: under Node that is Node's RSS). */
static long vm_hwm_kib(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long kib = -1;
  while (f && fgets(line, sizeof line, f)) {
    if (sscanf(line, "VmHWM: %ld", &kib) == 1) break;
  }
  if (f) fclose(f);
  return kib;
}

static long ru_maxrss_kib(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

static int fail(const char *what, ohf_status st) {
  fprintf(stderr, "c_sync: %s: %d %s\n", what, st, ohf_last_error_message());
  return 1;
}

/* ---------------------------------------------------------------- events */

/* What the listener saw (callbacks run on the library's threads). */
typedef struct {
  pthread_mutex_t mu;
  int events;
  int last_state;
  int last_error;
  unsigned long long processed, size;
  double first_event;
} progress_log;

static void on_sync(void *user_data, const ohf_sync_progress *p) {
  progress_log *l = user_data;
  pthread_mutex_lock(&l->mu);
  l->events++;
  l->last_state = p->state;
  l->last_error = p->error;
  pthread_mutex_unlock(&l->mu);
}

static void on_download(void *user_data, const ohf_download_progress *p) {
  progress_log *l = user_data;
  double t = now();
  pthread_mutex_lock(&l->mu);
  if (l->events++ == 0) l->first_event = t;
  l->last_state = p->state;
  l->last_error = p->error;
  l->processed = p->processed;
  l->size = p->size;
  pthread_mutex_unlock(&l->mu);
}

/* ---------------------------------------------------------------- commands */

static int cmd_sync(const char *root, const char *bundle) {
  progress_log log = {PTHREAD_MUTEX_INITIALIZER, 0, -1, -1, 0, 0, 0};
  double t0 = now();
  ohf_device *dev = NULL;
  ohf_file_sync *sync = NULL;
  ohf_status st = ohf_device_open(root, &dev);
  if (st) return fail("ohf_device_open", st);
  if ((st = ohf_file_sync_new(dev, bundle, &sync))) return fail("ohf_file_sync_new", st);
  uint64_t id = 0;
  if ((st = ohf_file_sync_on_progress(sync, on_sync, &log, NULL, &id))) return fail("on_progress", st);
  /* The replay of an earlier run's state is not this run's. */
  pthread_mutex_lock(&log.mu);
  log.events = 0;
  log.last_state = -1;
  pthread_mutex_unlock(&log.mu);
  if ((st = ohf_file_sync_start(sync))) return fail("ohf_file_sync_start", st);
  bool idle = false;
  if ((st = ohf_file_sync_wait_idle(sync, -1, &idle)) || !idle) return fail("wait_idle", st);
  double seconds = now() - t0;
  ohf_file_sync_free(sync); /* removes the listener: every event has been counted */
  ohf_device_free(dev);
  int ok = log.last_state == OHF_SYNC_STATE_COMPLETED && log.last_error == OHF_SYNC_ERROR_NO_ERROR;
  printf("{\"op\":\"sync\",\"ok\":%s,\"seconds\":%.6f,\"events\":%d,\"lastState\":%d,\"lastError\":%d,"
         "\"maxRssKiB\":%ld,\"ruMaxRssKiB\":%ld}\n",
         ok ? "true" : "false", seconds, log.events, log.last_state, log.last_error, vm_hwm_kib(),
         ru_maxrss_kib());
  return ok ? 0 : 1;
}

static int cmd_download(const char *root, const char *uri) {
  progress_log log = {PTHREAD_MUTEX_INITIALIZER, 0, -1, -1, 0, 0, 0};
  double t0 = now();
  ohf_device *dev = NULL;
  ohf_cloud_file_cache *cache = NULL;
  ohf_status st = ohf_device_open(root, &dev);
  if (st) return fail("ohf_device_open", st);
  if ((st = ohf_cloud_file_cache_new(dev, &cache))) return fail("ohf_cloud_file_cache_new", st);
  uint64_t id = 0;
  if ((st = ohf_cloud_file_cache_on_progress(cache, on_download, &log, NULL, &id))) return fail("on_progress", st);
  double t_start = now();
  if ((st = ohf_cloud_file_cache_start(cache, uri))) return fail("ohf_cloud_file_cache_start", st);
  bool idle = false;
  if ((st = ohf_cloud_file_cache_wait_idle(cache, -1, &idle)) || !idle) return fail("wait_idle", st);
  double seconds = now() - t0;
  if ((st = ohf_cloud_file_cache_off_progress(cache, 0))) return fail("off_progress", st);
  ohf_cloud_file_cache_free(cache);
  ohf_device_free(dev);
  int ok = log.last_state == OHF_DOWNLOAD_STATE_COMPLETED && log.last_error == OHF_DOWNLOAD_ERROR_NO_ERROR &&
           log.processed == log.size;
  printf("{\"op\":\"download\",\"ok\":%s,\"seconds\":%.6f,\"firstEventSeconds\":%.6f,\"events\":%d,"
         "\"lastState\":%d,\"lastError\":%d,\"bytes\":%llu,\"maxRssKiB\":%ld,\"ruMaxRssKiB\":%ld}\n",
         ok ? "true" : "false", seconds, log.events ? log.first_event - t_start : -1.0, log.events,
         log.last_state, log.last_error, log.processed, vm_hwm_kib(), ru_maxrss_kib());
  return ok ? 0 : 1;
}

static int cmd_clean(const char *root, const char *uri) {
  ohf_device *dev = NULL;
  ohf_cloud_file_cache *cache = NULL;
  ohf_status st = ohf_device_open(root, &dev);
  if (st) return fail("ohf_device_open", st);
  if ((st = ohf_cloud_file_cache_new(dev, &cache))) return fail("ohf_cloud_file_cache_new", st);
  if ((st = ohf_cloud_file_cache_clean_cache(cache, uri))) return fail("clean_cache", st);
  ohf_cloud_file_cache_free(cache);
  ohf_device_free(dev);
  return 0;
}

static int cmd_exec(char **argv) {
  double t0 = now();
  pid_t pid = fork();
  if (pid < 0) { perror("fork"); return 1; }
  if (pid == 0) {
    execvp(argv[0], argv);
    perror(argv[0]);
    _exit(127);
  }
  int status = 0;
  struct rusage ru;
  while (wait4(pid, &status, 0, &ru) < 0) {
    if (errno != EINTR) { perror("wait4"); return 1; }
  }
  double seconds = now() - t0;
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  printf("{\"op\":\"exec\",\"ok\":%s,\"status\":%d,\"seconds\":%.6f,\"maxRssKiB\":%ld}\n",
         code == 0 ? "true" : "false", code, seconds, ru.ru_maxrss);
  return code == 0 ? 0 : 1;
}

int main(int argc, char **argv) {
  if (argc >= 4 && !strcmp(argv[1], "sync")) return cmd_sync(argv[2], argv[3]);
  if (argc >= 4 && !strcmp(argv[1], "download")) return cmd_download(argv[2], argv[3]);
  if (argc >= 4 && !strcmp(argv[1], "clean")) return cmd_clean(argv[2], argv[3]);
  if (argc >= 3 && !strcmp(argv[1], "exec")) return cmd_exec(argv + 2);
  fprintf(stderr,
          "usage: c_sync sync <root> <bundle>\n"
          "       c_sync download <root> <uri>\n"
          "       c_sync clean <root> <uri>\n"
          "       c_sync exec <program> [args...]\n");
  return 2;
}
