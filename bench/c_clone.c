/* c_clone: the benchmark's C client of ohfile's public C API. It does what a clone tool does,
 * once, and prints one JSON line with how long it took and what it cost the process (the service
 * runs in this process too, so the peak RSS and fd counts are service + client).
 *
 *   c_clone backup  <root> <dir> <bundle>...   capabilities.json + <dir>/<bundle>/<uri> per file
 *   c_clone restore <root> <dir> <bundle>...   from such a folder into the device at <root>
 *
 * Output: {"op", "seconds", "cpuSeconds" (user + system, every thread, over the same span),
 * "capabilitiesSeconds", "files", "bytes", "errors", "maxRssKiB" (VmHWM), "ruMaxRssKiB"
 * (getrusage), "maxFds", "startFds"}. Exit status 1 when any callback reported a
 * failure.
 *
 * Files move with copy_file_range(2) (sendfile(2), then read/write when the kernel refuses), the
 * way a client that cares about speed would copy. A sampling thread counts /proc/self/fd every
 * 2 ms to find the most fds open at once.
 *
 * Build (bench/run.mjs does it):
 *   cc -O2 -std=c99 -Wall -Wextra -Iinclude bench/c_clone.c target/release/libohfile.a \
 *      -lpthread -ldl -lm -o c_clone */
#define _GNU_SOURCE /* copy_file_range */
#include "ohfile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_BUNDLES 64
#define PATH_SIZE 4096

/* ---------------------------------------------------------------- fd sampling */

static volatile int sampler_stop = 0;
static int max_fds = 0;

/* Open fds of this process, not counting the one used to list them. */
static int count_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  if (!d) return -1;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] != '.') n++;
  }
  closedir(d);
  return n - 1;
}

static void *sampler(void *arg) {
  (void)arg;
  struct timespec pause = {0, 2 * 1000 * 1000};
  while (!__atomic_load_n(&sampler_stop, __ATOMIC_ACQUIRE)) {
    int n = count_fds();
    if (n > __atomic_load_n(&max_fds, __ATOMIC_RELAXED)) __atomic_store_n(&max_fds, n, __ATOMIC_RELAXED);
    nanosleep(&pause, NULL);
  }
  return NULL;
}

/* ---------------------------------------------------------------- copying */

/* Copies `in` (from its offset) to `out` until EOF; returns the bytes or -1. */
static long long copy_fd(int in, int out) {
  long long total = 0;
  int mode = 0; /* 0: copy_file_range, 1: sendfile, 2: read/write */
  for (;;) {
    ssize_t n;
    if (mode == 0) {
      n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
      if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP) && total == 0) {
        mode = 1;
        continue;
      }
    } else if (mode == 1) {
      n = sendfile(out, in, NULL, 1 << 30);
      if (n < 0 && (errno == EINVAL || errno == ENOSYS) && total == 0) {
        mode = 2;
        continue;
      }
    } else {
      static __thread char buf[1 << 16];
      n = read(in, buf, sizeof buf);
      for (ssize_t off = 0; n > 0 && off < n;) {
        ssize_t w = write(out, buf + off, (size_t)(n - off));
        if (w < 0 && errno != EINTR) return -1;
        if (w > 0) off += w;
      }
    }
    if (n == 0) return total;
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    total += n;
  }
}

/* ---------------------------------------------------------------- the session client */

typedef struct client {
  pthread_mutex_t mu;
  pthread_cond_t cond;
  int done;
  int errors;
  int restoring;
  ohf_session *session;
  const char *dir;
  long long files;
  long long bytes;
  int count;
  char names[MAX_BUNDLES][256];
  int pending[MAX_BUNDLES];
} client;

static void fail(client *c, const char *what, const char *bundle, const char *msg, int code) {
  fprintf(stderr, "c_clone: %s %s: %s (%d)\n", what, bundle, msg, code);
  pthread_mutex_lock(&c->mu);
  c->errors++;
  pthread_mutex_unlock(&c->mu);
}

static void finish(client *c) {
  pthread_mutex_lock(&c->mu);
  c->done = 1;
  pthread_cond_signal(&c->cond);
  pthread_mutex_unlock(&c->mu);
}

/* Callbacks run on the session's one event thread: the restore bookkeeping needs no lock. */
static int *pending_of(client *c, const char *bundle) {
  for (int i = 0; i < c->count; i++)
    if (strcmp(c->names[i], bundle) == 0) return &c->pending[i];
  if (c->count == MAX_BUNDLES) return NULL;
  snprintf(c->names[c->count], sizeof c->names[0], "%s", bundle);
  c->pending[c->count] = 0;
  return &c->pending[c->count++];
}

static void publish(client *c, const char *bundle) {
  if (ohf_session_publish_file(c->session, bundle, "") != OHF_STATUS_OK)
    fail(c, "publish", bundle, ohf_last_error_message(), 0);
}

static void on_bundle_begin(void *ud, ohf_status err, const char *msg, const char *bundle) {
  client *c = ud;
  if (err) {
    fail(c, "begin", bundle, msg, err);
    return;
  }
  if (!c->restoring) return;
  char path[PATH_SIZE];
  snprintf(path, sizeof path, "%s/%s", c->dir, bundle);
  DIR *d = opendir(path);
  int *pending = pending_of(c, bundle);
  if (!d || !pending) {
    fail(c, "no backup folder for", bundle, path, 0);
    if (d) closedir(d);
    return;
  }
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    if (ohf_session_get_file_handle(c->session, bundle, e->d_name) == OHF_STATUS_OK) (*pending)++;
    else fail(c, "getFileHandle", bundle, ohf_last_error_message(), 0);
  }
  closedir(d);
  if (*pending == 0) publish(c, bundle);
}

static void on_file_ready(void *ud, ohf_status err, const char *msg, const ohf_file_ready *f) {
  client *c = ud;
  if (err) {
    fail(c, "file", f->bundle_name, msg, err);
    return;
  }
  char path[PATH_SIZE];
  long long n = -1;
  if (c->restoring) {
    snprintf(path, sizeof path, "%s/%s/%s", c->dir, f->bundle_name, f->uri);
    int in = open(path, O_RDONLY | O_CLOEXEC);
    if (in >= 0) {
      n = copy_fd(in, f->fd);
      close(in);
    }
  } else {
    snprintf(path, sizeof path, "%s/%s", c->dir, f->bundle_name);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/%s/%s", c->dir, f->bundle_name, f->uri);
    int out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (out >= 0) {
      n = copy_fd(f->fd, out);
      if (close(out) != 0) n = -1;
    }
  }
  close(f->fd);
  if (f->manifest_fd >= 0) close(f->manifest_fd);
  if (n < 0) {
    fail(c, "copy", f->bundle_name, strerror(errno), 0);
  } else {
    c->files++;
    c->bytes += n;
  }
  if (c->restoring) {
    int *pending = pending_of(c, f->bundle_name);
    if (pending && --*pending == 0) publish(c, f->bundle_name);
  }
}

static void on_bundle_end(void *ud, ohf_status err, const char *msg, const char *bundle) {
  if (err) fail(ud, "bundle", bundle, msg, err);
}

static void on_all_bundles_end(void *ud, ohf_status err, const char *msg) {
  if (err) fail(ud, "session", "", msg, err);
  finish(ud);
}

static void on_service_died(void *ud) {
  fail(ud, "service died", "", "", 0);
  finish(ud);
}

static void on_process(void *ud, const char *bundle, const char *process) {
  /* Progress reports are fine; the service's per-file failures carry an "errorInfo". */
  if (strstr(process, "\"errorInfo\"")) fail(ud, "process", bundle, process, 0);
}

/* One session on `dev`; returns the client's error count. */
static int run_session(client *c, ohf_device *dev, int caps_fd, const char *const *bundles, size_t count) {
  ohf_backup_callbacks cb;
  ohf_backup_callbacks_init(&cb);
  cb.user_data = c;
  cb.on_bundle_begin = on_bundle_begin;
  cb.on_file_ready = on_file_ready;
  cb.on_bundle_end = on_bundle_end;
  cb.on_all_bundles_end = on_all_bundles_end;
  cb.on_backup_service_died = on_service_died;
  cb.on_process = on_process;
  ohf_status st = c->restoring ? ohf_session_restore_new(dev, &cb, &c->session)
                               : ohf_session_backup_new(dev, &cb, &c->session);
  if (st != OHF_STATUS_OK) {
    fail(c, "session", "", ohf_last_error_message(), st);
    return c->errors;
  }
  st = c->restoring ? ohf_session_append_restore_bundles(c->session, caps_fd, bundles, count, NULL)
                    : ohf_session_append_backup_bundles(c->session, bundles, count, NULL);
  if (st != OHF_STATUS_OK) {
    fail(c, "appendBundles", "", ohf_last_error_message(), st);
  } else {
    pthread_mutex_lock(&c->mu);
    while (!c->done) pthread_cond_wait(&c->cond, &c->mu);
    pthread_mutex_unlock(&c->mu);
  }
  ohf_session_free(c->session);
  return c->errors;
}

/* The peak RSS of this program: VmHWM, the high-water mark of the address space exec made. Not
 * ru_maxrss, which Linux carries over exec from the process that forked us (spawned from a big
 * Node process, a tiny program reports Node's RSS). */
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

static double tv_seconds(struct timeval t) { return (double)t.tv_sec + (double)t.tv_usec / 1e6; }

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc < 5 || (strcmp(argv[1], "backup") != 0 && strcmp(argv[1], "restore") != 0)) {
    fprintf(stderr, "usage: %s backup|restore <root> <dir> <bundle>...\n", argv[0]);
    return 2;
  }
  int restoring = strcmp(argv[1], "restore") == 0;
  const char *root = argv[2];
  const char *dir = argv[3];
  const char *const *bundles = (const char *const *)&argv[4];
  size_t count = (size_t)(argc - 4);

  int start_fds = count_fds();
  max_fds = start_fds;
  pthread_t thread;
  if (pthread_create(&thread, NULL, sampler, NULL) != 0) {
    perror("pthread_create");
    return 1;
  }

  client c;
  memset(&c, 0, sizeof c);
  pthread_mutex_init(&c.mu, NULL);
  pthread_cond_init(&c.cond, NULL);
  c.restoring = restoring;
  c.dir = dir;

  struct rusage ru0;
  getrusage(RUSAGE_SELF, &ru0);
  double t0 = now(), caps_seconds = 0;
  ohf_device *dev = NULL;
  if (ohf_device_open(root, &dev) != OHF_STATUS_OK) {
    fprintf(stderr, "c_clone: cannot open %s: %s\n", root, ohf_last_error_message());
    return 1;
  }
  char path[PATH_SIZE];
  snprintf(path, sizeof path, "%s/capabilities.json", dir);
  int caps = -1;
  if (restoring) {
    /* The old device's capabilities, as the backup saved them. */
    caps = open(path, O_RDONLY | O_CLOEXEC);
    if (caps < 0) fail(&c, "open", path, strerror(errno), 0);
  } else {
    /* Save this device's capabilities next to the data, as a clone tool must. */
    double tc = now();
    mkdir(dir, 0700);
    int fd = -1;
    if (ohf_backup_get_local_capabilities(dev, &fd) != OHF_STATUS_OK) {
      fail(&c, "getLocalCapabilities", "", ohf_last_error_message(), 0);
    } else {
      int out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
      if (out < 0 || copy_fd(fd, out) < 0) fail(&c, "write", path, strerror(errno), 0);
      if (out >= 0) close(out);
      close(fd);
    }
    caps_seconds = now() - tc;
  }
  if (c.errors == 0) run_session(&c, dev, caps, bundles, count);
  if (caps >= 0) close(caps);
  ohf_device_free(dev);
  double seconds = now() - t0;

  __atomic_store_n(&sampler_stop, 1, __ATOMIC_RELEASE);
  pthread_join(thread, NULL);
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  double cpu = tv_seconds(ru.ru_utime) + tv_seconds(ru.ru_stime) - tv_seconds(ru0.ru_utime) -
               tv_seconds(ru0.ru_stime);
  printf("{\"op\":\"%s\",\"seconds\":%.6f,\"cpuSeconds\":%.6f,\"capabilitiesSeconds\":%.6f,"
         "\"files\":%lld,\"bytes\":%lld,\"errors\":%d,\"maxRssKiB\":%ld,\"ruMaxRssKiB\":%ld,"
         "\"maxFds\":%d,\"startFds\":%d}\n",
         argv[1], seconds, cpu, caps_seconds, c.files, c.bytes, c.errors, vm_hwm_kib(), ru.ru_maxrss,
         max_fds, start_fds);
  pthread_mutex_destroy(&c.mu);
  pthread_cond_destroy(&c.cond);
  return c.errors ? 1 : 0;
}
