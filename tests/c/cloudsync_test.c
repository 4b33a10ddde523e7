/* Cloud sync through the C ABI: two device roots share one cloud. A file created on A is synced
 * up; after B's sync it is cloud-only there (COMPLETED, no local file), is downloaded through
 * CloudFileCache with progress, cleaned back to cloud-only and downloaded again; the same for a
 * gallery file through GallerySync and Download. Also: the replay of the last state to a new
 * listener, a listener removing itself from its callback, waiting from a callback (13900020),
 * every pre-flight code, cleanCache refusing a local edit (13900001, TO_BE_UPLOADED), invalid uris
 * (14000002), missing files (13900002), NULL arguments and more than 100 uris (401), freeing NULL,
 * and no fd left open at the end. Built with -std=c99 -Wall -Wextra -Werror; every wait is bounded. */
#define _XOPEN_SOURCE 700 /* POSIX 2008: setenv, mkdtemp */
#include "ohfile.h"
#include "test_files.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define BUNDLE "com.example.notes"
#define CLOUD_DIR "data/storage/el2/cloud"
#define APP_URI(rel) "file://" BUNDLE "/" CLOUD_DIR "/" rel
#define WAIT_MS 60000
#define MAX_EVENTS 256

static pthread_mutex_t check_mu = PTHREAD_MUTEX_INITIALIZER;
static int failures = 0;
#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      pthread_mutex_lock(&check_mu);                                           \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      failures++;                                                              \
      pthread_mutex_unlock(&check_mu);                                         \
    }                                                                          \
  } while (0)
/* A call that must return `want`; prints the library's message when it does not. */
#define CHECK_ST(call, want)                                                                     \
  do {                                                                                           \
    ohf_status st_ = (call);                                                                     \
    if (st_ != (want)) {                                                                         \
      pthread_mutex_lock(&check_mu);                                                             \
      fprintf(stderr, "%s:%d: %s returned %d (want %d): %s\n", __FILE__, __LINE__, #call, st_,   \
              (int)(want), ohf_last_error_message());                                            \
      failures++;                                                                                \
      pthread_mutex_unlock(&check_mu);                                                           \
    }                                                                                            \
  } while (0)

static int64_t now_ms(void) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static struct timespec deadline_in(int ms) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  t.tv_sec += ms / 1000;
  t.tv_nsec += (long)(ms % 1000) * 1000000L;
  if (t.tv_nsec >= 1000000000L) { t.tv_sec++; t.tv_nsec -= 1000000000L; }
  return t;
}

/* ---------------------------------------------------------------- event logs */

typedef struct {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int n;
  ohf_sync_progress ev[MAX_EVENTS];
  int freed; /* user_data_free calls */
} sync_log;

typedef struct {
  int state, error;
  uint64_t processed, size;
  char uri[256];
} download_event;

typedef struct {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int n;
  download_event ev[MAX_EVENTS];
  int freed;
} download_log;

static void sync_log_init(sync_log *l) {
  memset(l, 0, sizeof *l);
  pthread_mutex_init(&l->mu, NULL);
  pthread_cond_init(&l->cv, NULL);
}

static void download_log_init(download_log *l) {
  memset(l, 0, sizeof *l);
  pthread_mutex_init(&l->mu, NULL);
  pthread_cond_init(&l->cv, NULL);
}

static void on_sync(void *user_data, const ohf_sync_progress *p) {
  sync_log *l = user_data;
  CHECK(p != NULL);
  pthread_mutex_lock(&l->mu);
  if (l->n < MAX_EVENTS) l->ev[l->n++] = *p;
  pthread_cond_broadcast(&l->cv);
  pthread_mutex_unlock(&l->mu);
}

static void sync_log_free(void *user_data) {
  sync_log *l = user_data;
  pthread_mutex_lock(&l->mu);
  l->freed++;
  pthread_mutex_unlock(&l->mu);
}

static void on_download(void *user_data, const ohf_download_progress *p) {
  download_log *l = user_data;
  CHECK(p != NULL && p->uri != NULL);
  pthread_mutex_lock(&l->mu);
  if (l->n < MAX_EVENTS) {
    download_event *e = &l->ev[l->n++];
    e->state = p->state;
    e->error = p->error;
    e->processed = p->processed;
    e->size = p->size;
    snprintf(e->uri, sizeof e->uri, "%s", p->uri);
  }
  pthread_cond_broadcast(&l->cv);
  pthread_mutex_unlock(&l->mu);
}

static void download_log_free(void *user_data) {
  download_log *l = user_data;
  pthread_mutex_lock(&l->mu);
  l->freed++;
  pthread_mutex_unlock(&l->mu);
}

/* The index of the first event at or after `from` that is not UPLOADING/DOWNLOADING (the end of
 * a run), waiting for it up to WAIT_MS; -1 when none came. */
static int wait_sync_end(sync_log *l, int from) {
  struct timespec dl = deadline_in(WAIT_MS);
  pthread_mutex_lock(&l->mu);
  int found = -1;
  for (;;) {
    for (int i = from; i < l->n && found < 0; i++) {
      if (l->ev[i].state != OHF_SYNC_STATE_UPLOADING && l->ev[i].state != OHF_SYNC_STATE_DOWNLOADING) found = i;
    }
    if (found >= 0 || pthread_cond_timedwait(&l->cv, &l->mu, &dl) == ETIMEDOUT) break;
  }
  pthread_mutex_unlock(&l->mu);
  return found;
}

/* The index of the first event at or after `from` that ends a download of `uri`, or -1. */
static int wait_download_end(download_log *l, int from, const char *uri) {
  struct timespec dl = deadline_in(WAIT_MS);
  pthread_mutex_lock(&l->mu);
  int found = -1;
  for (;;) {
    for (int i = from; i < l->n && found < 0; i++) {
      if (l->ev[i].state != OHF_DOWNLOAD_STATE_RUNNING && !strcmp(l->ev[i].uri, uri)) found = i;
    }
    if (found >= 0 || pthread_cond_timedwait(&l->cv, &l->mu, &dl) == ETIMEDOUT) break;
  }
  pthread_mutex_unlock(&l->mu);
  return found;
}

static int sync_count(sync_log *l) {
  pthread_mutex_lock(&l->mu);
  int n = l->n;
  pthread_mutex_unlock(&l->mu);
  return n;
}

static int download_count(download_log *l) {
  pthread_mutex_lock(&l->mu);
  int n = l->n;
  pthread_mutex_unlock(&l->mu);
  return n;
}

/* ---------------------------------------------------------------- devices */

/* A device root using the shared cloud, with BUNDLE installed (empty cloud folder) and media/.
 * `extra` is more device.json members (with a leading comma) or "". */
static void write_device_json(const char *root, const char *cloud, const char *extra) {
  char path[PATH_SIZE], json[PATH_SIZE];
  pathf(path, "%s/device.json", root);
  pathf(json, "{\"cloud\": \"%s\"%s}", cloud, extra);
  write_file(path, json, strlen(json));
}

static void make_device(const char *root, const char *cloud) {
  char path[PATH_SIZE];
  mkdirs(root);
  write_device_json(root, cloud, "");
  pathf(path, "%s/apps/" BUNDLE "/sandbox/" CLOUD_DIR, root);
  mkdirs(path);
  pathf(path, "%s/apps/" BUNDLE "/bundle.json", root);
  write_file(path, "{}", 2);
  pathf(path, "%s/media", root);
  mkdirs(path);
}

/* Writes `data` to `rel` under `dir`, creating folders. */
static void put(const char *dir, const char *rel, const char *data) {
  char path[PATH_SIZE];
  pathf(path, "%s/%s", dir, rel);
  char *slash = strrchr(path, '/');
  *slash = 0;
  mkdirs(path);
  *slash = '/';
  write_file(path, data, strlen(data));
}

/* Whether `path` holds exactly `want`. */
static int has_content(const char *path, const char *want) {
  char buf[4096];
  int fd = open(path, O_RDONLY);
  if (fd < 0) return 0;
  ssize_t n = read(fd, buf, sizeof buf);
  close(fd);
  return n == (ssize_t)strlen(want) && memcmp(buf, want, (size_t)n) == 0;
}

static int exists(const char *path) {
  struct stat st;
  return lstat(path, &st) == 0;
}

/* Starts a sync and waits for it: returns the state that ended the run (-1: none came). */
static int run_sync(ohf_file_sync *sync, sync_log *log, ohf_sync_progress *end) {
  int from = sync_count(log);
  CHECK_ST(ohf_file_sync_start(sync), OHF_STATUS_OK);
  bool idle = false;
  CHECK_ST(ohf_file_sync_wait_idle(sync, WAIT_MS, &idle), OHF_STATUS_OK);
  CHECK(idle);
  int i = wait_sync_end(log, from);
  if (i < 0) return -1;
  pthread_mutex_lock(&log->mu);
  *end = log->ev[i];
  pthread_mutex_unlock(&log->mu);
  return end->state;
}

/* ---------------------------------------------------------------- re-entrancy */

/* A listener that checks waiting on its own handle is refused, and removes itself on its first
 * event after its id is known. */
typedef struct {
  ohf_file_sync *sync;
  uint64_t id; /* written after ohf_file_sync_on_progress returns */
  int calls, calls_after_off, removed, freed;
  ohf_status wait_status;
} self_remover;

static void self_remove_cb(void *user_data, const ohf_sync_progress *p) {
  (void)p;
  self_remover *s = user_data;
  uint64_t id = __atomic_load_n(&s->id, __ATOMIC_ACQUIRE);
  s->calls++;
  if (s->removed) s->calls_after_off++;
  bool idle = false;
  s->wait_status = ohf_file_sync_wait_idle(s->sync, 0, &idle);
  if (id != 0 && !s->removed) {
    CHECK_ST(ohf_file_sync_off_progress(s->sync, id), OHF_STATUS_OK);
    s->removed = 1;
    CHECK(s->freed == 0); /* freed only after this call returns */
  }
}

static void self_remover_free(void *user_data) {
  self_remover *s = user_data;
  __atomic_add_fetch(&s->freed, 1, __ATOMIC_RELEASE);
}

/* ---------------------------------------------------------------- main */

int main(void) {
  char base[] = "/tmp/ohfile-cloudsync-test-XXXXXX";
  if (!mkdtemp(base)) { perror("mkdtemp"); return 2; }
  char cloud[PATH_SIZE], root_a[PATH_SIZE], root_b[PATH_SIZE], path[PATH_SIZE];
  pathf(cloud, "%s/cloud", base);
  pathf(root_a, "%s/a", base);
  pathf(root_b, "%s/b", base);
  mkdirs(cloud);
  make_device(root_a, cloud);
  make_device(root_b, cloud);
  char sandbox_a[PATH_SIZE], sandbox_b[PATH_SIZE];
  pathf(sandbox_a, "%s/apps/" BUNDLE "/sandbox/" CLOUD_DIR, root_a);
  pathf(sandbox_b, "%s/apps/" BUNDLE "/sandbox/" CLOUD_DIR, root_b);
  const char *uri = APP_URI("docs/hello%20world.txt");
  const char *content = "hello from device A\n";
  int fds_before = count_open_fds();

  /* The documented numbers. */
  CHECK(OHF_SYNC_STATE_COMPLETED == 4 && OHF_SYNC_STATE_STOPPED == 5);
  CHECK(OHF_SYNC_ERROR_NETWORK_UNAVAILABLE == 1 && OHF_SYNC_ERROR_UNKNOWN_ERROR == 10);
  CHECK(OHF_DOWNLOAD_STATE_COMPLETED == 1 && OHF_DOWNLOAD_ERROR_CONTENT_NOT_FOUND == 4);
  CHECK(OHF_FILE_SYNC_STATE_COMPLETED == 2 && OHF_FILE_SYNC_STATE_UPLOAD_FAILURE == 6);

  ohf_device *dev_a = NULL, *dev_b = NULL;
  CHECK_ST(ohf_device_open(root_a, &dev_a), OHF_STATUS_OK);
  CHECK_ST(ohf_device_open(root_b, &dev_b), OHF_STATUS_OK);
  if (!dev_a || !dev_b) return 1;

  /* NULL arguments are 401; freeing NULL does nothing. */
  ohf_file_sync *fs = NULL;
  ohf_cloud_file_cache *cache = NULL;
  ohf_download *dl = NULL;
  uint64_t id = 0;
  int64_t t = -1;
  int32_t state = -1;
  bool idle = false;
  sync_log scratch;
  sync_log_init(&scratch);
  CHECK_ST(ohf_file_sync_new(NULL, BUNDLE, &fs), OHF_STATUS_PARAMETER_ERROR);
  CHECK_ST(ohf_file_sync_new(dev_a, BUNDLE, NULL), OHF_STATUS_PARAMETER_ERROR);
  CHECK_ST(ohf_gallery_sync_new(NULL, &fs), OHF_STATUS_PARAMETER_ERROR);
  CHECK_ST(ohf_gallery_sync_new(dev_a, NULL), OHF_STATUS_PARAMETER_ERROR);
  CHECK_ST(ohf_file_sync_new(dev_a, "com.example.missing", &fs), OHF_STATUS_PARAMETER_ERROR);
  CHECK_ST(ohf_file_sync_new(dev_a, "not a bundle", &fs), OHF_STATUS_PARAMETER_ERROR);
  unsetenv("OHFILE_BUNDLE");
  CHECK_ST(ohf_file_sync_new(dev_a, NULL, &fs), OHF_STATUS_PARAMETER_ERROR);
  CHECK(fs == NULL);
  CHECK_ST(ohf_file_sync_start(NULL), OHF_STATUS_PARAMETER_ERROR);
  CHECK_ST(ohf_file_sync_stop(NULL), OHF_STATUS_PARAMETER_ERROR);
  CHECK_ST(ohf_file_sync_get_last_sync_time(NULL, &t), OHF_STATUS_PARAMETER_ERROR);
  CHECK_ST(ohf_file_sync_on_progress(NULL, on_sync, &scratch, NULL, &id), OHF_STATUS_PARAMETER_ERROR);
  CHECK_ST(ohf_file_sync_off_progress(NULL, 1), OHF_STATUS_PARAMETER_ERROR);
  CHECK_ST(ohf_file_sync_wait_idle(NULL, 0, &idle), OHF_STATUS_PARAMETER_ERROR);
  CHECK_ST(ohf_cloud_file_cache_new(NULL, &cache), OHF_STATUS_PARAMETER_ERROR);
  CHECK_ST(ohf_cloud_file_cache_new(dev_b, NULL), OHF_STATUS_PARAMETER_ERROR);
  CHECK_ST(ohf_cloud_file_cache_start(NULL, uri), OHF_STATUS_PARAMETER_ERROR);
  CHECK_ST(ohf_cloud_file_cache_stop(NULL, uri, false), OHF_STATUS_PARAMETER_ERROR);
  CHECK_ST(ohf_cloud_file_cache_clean_cache(NULL, uri), OHF_STATUS_PARAMETER_ERROR);
  CHECK_ST(ohf_cloud_file_cache_off_progress(NULL, 0), OHF_STATUS_PARAMETER_ERROR);
  CHECK_ST(ohf_download_new(NULL, &dl), OHF_STATUS_PARAMETER_ERROR);
  CHECK_ST(ohf_download_start(NULL, "file://media/x.jpg"), OHF_STATUS_PARAMETER_ERROR);
  CHECK_ST(ohf_download_stop(NULL, "file://media/x.jpg"), OHF_STATUS_PARAMETER_ERROR);
  CHECK_ST(ohf_cloud_sync_get_file_sync_state(NULL, uri, &state), OHF_STATUS_PARAMETER_ERROR);
  CHECK_ST(ohf_cloud_sync_get_file_sync_state(dev_a, NULL, &state), OHF_STATUS_PARAMETER_ERROR);
  CHECK_ST(ohf_cloud_sync_get_file_sync_state(dev_a, uri, NULL), OHF_STATUS_PARAMETER_ERROR);
  CHECK_ST(ohf_cloud_sync_get_file_sync_states(dev_a, NULL, 1, &state), OHF_STATUS_PARAMETER_ERROR);
  CHECK_ST(ohf_cloud_sync_get_file_sync_states(dev_a, &uri, 1, NULL), OHF_STATUS_PARAMETER_ERROR);
  CHECK_ST(ohf_cloud_sync_get_file_sync_states(dev_a, NULL, 0, NULL), OHF_STATUS_OK);
  CHECK(state == -1 && t == -1);
  ohf_file_sync_free(NULL);
  ohf_cloud_file_cache_free(NULL);
  ohf_download_free(NULL);

  /* new FileSync() is the calling app, $OHFILE_BUNDLE. */
  setenv("OHFILE_BUNDLE", BUNDLE, 1);
  ohf_file_sync *sync_a = NULL;
  CHECK_ST(ohf_file_sync_new(dev_a, NULL, &sync_a), OHF_STATUS_OK);
  if (!sync_a) return 1;
  CHECK_ST(ohf_file_sync_on_progress(sync_a, NULL, &scratch, NULL, &id), OHF_STATUS_PARAMETER_ERROR);
  CHECK_ST(ohf_file_sync_on_progress(sync_a, on_sync, &scratch, NULL, NULL), OHF_STATUS_PARAMETER_ERROR);
  CHECK_ST(ohf_file_sync_get_last_sync_time(sync_a, NULL), OHF_STATUS_PARAMETER_ERROR);
  CHECK_ST(ohf_file_sync_wait_idle(sync_a, 0, NULL), OHF_STATUS_PARAMETER_ERROR);
  CHECK_ST(ohf_file_sync_get_last_sync_time(sync_a, &t), OHF_STATUS_OK);
  CHECK(t == 0); /* no run completed yet */
  CHECK_ST(ohf_file_sync_stop(sync_a), OHF_STATUS_OK); /* idle: fine */
  CHECK_ST(ohf_file_sync_off_progress(sync_a, 12345), OHF_STATUS_OK); /* unknown id: ignored */

  /* A: a new file goes up. */
  put(sandbox_a, "docs/hello world.txt", content);
  sync_log log_a;
  sync_log_init(&log_a);
  uint64_t id_a = 0;
  CHECK_ST(ohf_file_sync_on_progress(sync_a, on_sync, &log_a, sync_log_free, &id_a), OHF_STATUS_OK);
  CHECK(id_a != 0);
  int64_t before = now_ms();
  ohf_sync_progress end = {-1, -1};
  CHECK(run_sync(sync_a, &log_a, &end) == OHF_SYNC_STATE_COMPLETED);
  CHECK(end.error == OHF_SYNC_ERROR_NO_ERROR);
  int uploading = 0;
  pthread_mutex_lock(&log_a.mu);
  for (int i = 0; i < log_a.n; i++) uploading |= log_a.ev[i].state == OHF_SYNC_STATE_UPLOADING;
  pthread_mutex_unlock(&log_a.mu);
  CHECK(uploading); /* the run said it was uploading before it completed */
  CHECK_ST(ohf_file_sync_get_last_sync_time(sync_a, &t), OHF_STATUS_OK);
  CHECK(t >= before - 1000 && t <= now_ms() + 1000);
  CHECK_ST(ohf_cloud_sync_get_file_sync_state(dev_a, uri, &state), OHF_STATUS_OK);
  CHECK(state == OHF_FILE_SYNC_STATE_COMPLETED || state == OHF_FILE_SYNC_STATE_UPLOAD_SUCCESS);

  /* A new listener gets the last state at once, on this thread, before the call returns; a
   * callback waiting on its own handle is refused; a listener can remove itself from inside its
   * callback, and its user_data_free runs once, after that call returned. */
  sync_log replay;
  sync_log_init(&replay);
  uint64_t id_replay = 0;
  CHECK_ST(ohf_file_sync_on_progress(sync_a, on_sync, &replay, sync_log_free, &id_replay), OHF_STATUS_OK);
  CHECK(sync_count(&replay) == 1 && replay.ev[0].state == OHF_SYNC_STATE_COMPLETED);
  self_remover rm = {sync_a, 0, 0, 0, 0, 0, OHF_STATUS_OK};
  uint64_t id_rm = 0;
  CHECK_ST(ohf_file_sync_on_progress(sync_a, self_remove_cb, &rm, self_remover_free, &id_rm), OHF_STATUS_OK);
  CHECK(rm.calls == 1 && rm.wait_status == OHF_STATUS_E_INVAL); /* the replay */
  __atomic_store_n(&rm.id, id_rm, __ATOMIC_RELEASE);
  CHECK(run_sync(sync_a, &log_a, &end) == OHF_SYNC_STATE_COMPLETED); /* nothing changed */
  /* Its last call may still be running on the worker thread when log_a saw the end. */
  for (int waited = 0; waited < WAIT_MS && !__atomic_load_n(&rm.freed, __ATOMIC_ACQUIRE); waited += 10) {
    struct timespec pause = {0, 10 * 1000 * 1000};
    nanosleep(&pause, NULL);
  }
  CHECK(__atomic_load_n(&rm.freed, __ATOMIC_ACQUIRE) == 1);
  CHECK(rm.removed == 1 && rm.calls_after_off == 0);
  CHECK(rm.calls == 2);
  /* off: no more events, user_data_free once. */
  CHECK_ST(ohf_file_sync_off_progress(sync_a, id_replay), OHF_STATUS_OK);
  CHECK(replay.freed == 1);
  int replay_n = sync_count(&replay);
  CHECK(run_sync(sync_a, &log_a, &end) == OHF_SYNC_STATE_COMPLETED);
  CHECK(sync_count(&replay) == replay_n);
  CHECK_ST(ohf_file_sync_off_progress(sync_a, id_replay), OHF_STATUS_OK); /* again: ignored */
  CHECK(replay.freed == 1);

  /* B: the file arrives as a cloud-only entry. */
  ohf_file_sync *sync_b = NULL;
  CHECK_ST(ohf_file_sync_new(dev_b, BUNDLE, &sync_b), OHF_STATUS_OK);
  if (!sync_b) return 1;
  sync_log log_b;
  sync_log_init(&log_b);
  uint64_t id_b = 0;
  CHECK_ST(ohf_file_sync_on_progress(sync_b, on_sync, &log_b, sync_log_free, &id_b), OHF_STATUS_OK);
  CHECK(run_sync(sync_b, &log_b, &end) == OHF_SYNC_STATE_COMPLETED);
  CHECK(end.error == OHF_SYNC_ERROR_NO_ERROR);
  pathf(path, "%s/docs/hello world.txt", sandbox_b);
  CHECK(!exists(path)); /* no fake local file */
  CHECK_ST(ohf_cloud_sync_get_file_sync_state(dev_b, uri, &state), OHF_STATUS_OK);
  CHECK(state == OHF_FILE_SYNC_STATE_COMPLETED);
  const char *both[2] = {uri, uri};
  int32_t states[2] = {-1, -1};
  CHECK_ST(ohf_cloud_sync_get_file_sync_states(dev_b, both, 2, states), OHF_STATUS_OK);
  CHECK(states[0] == OHF_FILE_SYNC_STATE_COMPLETED && states[1] == OHF_FILE_SYNC_STATE_COMPLETED);

  /* Missing files and invalid uris. */
  const char *missing = APP_URI("docs/nope.txt");
  const char *invalid[] = {
      "file://" BUNDLE "/data/storage/el2/base/x.txt", /* outside the cloud folder */
      "http://" BUNDLE "/" CLOUD_DIR "/docs/hello%20world.txt",
      "file://" BUNDLE "/" CLOUD_DIR "/../x",
      "",
  };
  CHECK_ST(ohf_cloud_sync_get_file_sync_state(dev_b, missing, &state), OHF_STATUS_E_NOENT);
  for (size_t i = 0; i < sizeof invalid / sizeof *invalid; i++) {
    CHECK_ST(ohf_cloud_sync_get_file_sync_state(dev_b, invalid[i], &state), OHF_STATUS_INVALID_URI);
  }
  const char *mixed[2] = {uri, missing};
  states[0] = states[1] = -1;
  CHECK_ST(ohf_cloud_sync_get_file_sync_states(dev_b, mixed, 2, states), OHF_STATUS_E_NOENT);
  CHECK(states[0] == -1 && states[1] == -1); /* nothing written on failure */
  mixed[1] = invalid[0];
  CHECK_ST(ohf_cloud_sync_get_file_sync_states(dev_b, mixed, 2, states), OHF_STATUS_INVALID_URI);
  const char *many[101];
  int32_t many_states[101];
  for (int i = 0; i < 101; i++) many[i] = uri;
  CHECK_ST(ohf_cloud_sync_get_file_sync_states(dev_b, many, 100, many_states), OHF_STATUS_OK);
  CHECK_ST(ohf_cloud_sync_get_file_sync_states(dev_b, many, 101, many_states), OHF_STATUS_PARAMETER_ERROR);

  /* B: CloudFileCache brings it down, with progress. */
  CHECK_ST(ohf_cloud_file_cache_new(dev_b, &cache), OHF_STATUS_OK);
  if (!cache) return 1;
  download_log dlog;
  download_log_init(&dlog);
  uint64_t id_dl = 0;
  CHECK_ST(ohf_cloud_file_cache_on_progress(cache, NULL, &dlog, NULL, &id_dl), OHF_STATUS_PARAMETER_ERROR);
  CHECK_ST(ohf_cloud_file_cache_on_progress(cache, on_download, &dlog, NULL, NULL), OHF_STATUS_PARAMETER_ERROR);
  CHECK_ST(ohf_cloud_file_cache_on_progress(cache, on_download, &dlog, download_log_free, &id_dl), OHF_STATUS_OK);
  CHECK(id_dl != 0);
  CHECK_ST(ohf_cloud_file_cache_start(cache, NULL), OHF_STATUS_PARAMETER_ERROR);
  CHECK_ST(ohf_cloud_file_cache_wait_idle(cache, 0, NULL), OHF_STATUS_PARAMETER_ERROR);
  for (int round = 0; round < 2; round++) {
    int from = download_count(&dlog);
    CHECK_ST(ohf_cloud_file_cache_start(cache, uri), OHF_STATUS_OK);
    idle = false;
    CHECK_ST(ohf_cloud_file_cache_wait_idle(cache, WAIT_MS, &idle), OHF_STATUS_OK);
    CHECK(idle);
    int i = wait_download_end(&dlog, from, uri);
    CHECK(i >= 0);
    if (i >= 0) {
      download_event *e = &dlog.ev[i];
      CHECK(e->state == OHF_DOWNLOAD_STATE_COMPLETED);
      CHECK(e->error == OHF_DOWNLOAD_ERROR_NO_ERROR);
      CHECK(e->size == strlen(content) && e->processed == e->size);
    }
    CHECK(has_content(path, content));
    CHECK_ST(ohf_cloud_sync_get_file_sync_state(dev_b, uri, &state), OHF_STATUS_OK);
    CHECK(state == OHF_FILE_SYNC_STATE_COMPLETED);
    /* cleanCache: back to cloud-only, then (round 0) start again. */
    CHECK_ST(ohf_cloud_file_cache_clean_cache(cache, uri), OHF_STATUS_OK);
    CHECK(!exists(path));
    CHECK_ST(ohf_cloud_sync_get_file_sync_state(dev_b, uri, &state), OHF_STATUS_OK);
    CHECK(state == OHF_FILE_SYNC_STATE_COMPLETED);
  }
  /* A local edit not uploaded yet is not thrown away by cleanCache. */
  CHECK_ST(ohf_cloud_file_cache_start(cache, uri), OHF_STATUS_OK);
  CHECK_ST(ohf_cloud_file_cache_wait_idle(cache, WAIT_MS, &idle), OHF_STATUS_OK);
  CHECK(has_content(path, content));
  write_file(path, "edited on B\n", 12);
  CHECK_ST(ohf_cloud_file_cache_clean_cache(cache, uri), OHF_STATUS_E_PERM);
  CHECK(has_content(path, "edited on B\n"));
  CHECK_ST(ohf_cloud_sync_get_file_sync_state(dev_b, uri, &state), OHF_STATUS_OK);
  CHECK(state == OHF_FILE_SYNC_STATE_TO_BE_UPLOADED);
  CHECK_ST(ohf_cloud_file_cache_start(cache, missing), OHF_STATUS_E_NOENT);
  CHECK_ST(ohf_cloud_file_cache_start(cache, invalid[0]), OHF_STATUS_INVALID_URI);
  CHECK_ST(ohf_cloud_file_cache_start(cache, "file://media/photos/cat.jpg"), OHF_STATUS_INVALID_URI);
  CHECK_ST(ohf_cloud_file_cache_clean_cache(cache, invalid[0]), OHF_STATUS_INVALID_URI);
  CHECK_ST(ohf_cloud_file_cache_stop(cache, invalid[0], true), OHF_STATUS_INVALID_URI);
  CHECK_ST(ohf_cloud_file_cache_off_progress(cache, id_dl), OHF_STATUS_OK);
  CHECK(dlog.freed == 1);

  /* Pre-flight: no network 22400002, cloud switch off 22400001, low battery 22400003. */
  struct { const char *extra; ohf_status want; } preflight[] = {
      {", \"network\": \"none\"", OHF_STATUS_NETWORK_UNAVAILABLE},
      {", \"cloudSwitch\": {\"" BUNDLE "\": false}", OHF_STATUS_CLOUD_NOT_READY},
      {", \"batteryLevel\": 5, \"charging\": false", OHF_STATUS_BATTERY_LEVEL_WARNING},
  };
  for (size_t i = 0; i < sizeof preflight / sizeof *preflight; i++) {
    write_device_json(root_b, cloud, preflight[i].extra);
    CHECK_ST(ohf_file_sync_start(sync_b), preflight[i].want);
  }
  write_device_json(root_b, cloud, "");

  /* The gallery: GallerySync on both devices, then Download on B. */
  char media_a[PATH_SIZE], media_b[PATH_SIZE];
  pathf(media_a, "%s/media", root_a);
  pathf(media_b, "%s/media", root_b);
  put(media_a, "photos/cat.jpg", "not really a jpeg");
  ohf_file_sync *gallery_a = NULL, *gallery_b = NULL;
  CHECK_ST(ohf_gallery_sync_new(dev_a, &gallery_a), OHF_STATUS_OK);
  CHECK_ST(ohf_gallery_sync_new(dev_b, &gallery_b), OHF_STATUS_OK);
  if (!gallery_a || !gallery_b) return 1;
  sync_log log_ga, log_gb;
  sync_log_init(&log_ga);
  sync_log_init(&log_gb);
  CHECK_ST(ohf_file_sync_on_progress(gallery_a, on_sync, &log_ga, NULL, &id), OHF_STATUS_OK);
  CHECK_ST(ohf_file_sync_on_progress(gallery_b, on_sync, &log_gb, NULL, &id), OHF_STATUS_OK);
  CHECK(run_sync(gallery_a, &log_ga, &end) == OHF_SYNC_STATE_COMPLETED);
  CHECK(run_sync(gallery_b, &log_gb, &end) == OHF_SYNC_STATE_COMPLETED);
  const char *photo = "file://media/photos/cat.jpg";
  pathf(path, "%s/photos/cat.jpg", media_b);
  CHECK(!exists(path));
  CHECK_ST(ohf_cloud_sync_get_file_sync_state(dev_b, photo, &state), OHF_STATUS_OK);
  CHECK(state == OHF_FILE_SYNC_STATE_COMPLETED);
  CHECK_ST(ohf_download_new(dev_b, &dl), OHF_STATUS_OK);
  if (!dl) return 1;
  download_log glog;
  download_log_init(&glog);
  CHECK_ST(ohf_download_on_progress(dl, on_download, &glog, download_log_free, &id), OHF_STATUS_OK);
  CHECK_ST(ohf_download_start(dl, uri), OHF_STATUS_INVALID_URI); /* an app file: not the gallery's */
  CHECK_ST(ohf_download_start(dl, "file://media/photos/dog.jpg"), OHF_STATUS_E_NOENT);
  CHECK_ST(ohf_download_start(dl, photo), OHF_STATUS_OK);
  idle = false;
  CHECK_ST(ohf_download_wait_idle(dl, WAIT_MS, &idle), OHF_STATUS_OK);
  CHECK(idle);
  int gi = wait_download_end(&glog, 0, photo);
  CHECK(gi >= 0 && glog.ev[gi].state == OHF_DOWNLOAD_STATE_COMPLETED);
  CHECK(has_content(path, "not really a jpeg"));

  /* Free everything: listeners are released once, and nothing stays open. */
  ohf_download_free(dl);
  CHECK(glog.freed == 1);
  ohf_cloud_file_cache_free(cache);
  ohf_file_sync_free(gallery_a);
  ohf_file_sync_free(gallery_b);
  ohf_file_sync_free(sync_a);
  CHECK(log_a.freed == 1);
  ohf_file_sync_free(sync_b);
  CHECK(log_b.freed == 1);
  ohf_device_free(dev_a);
  ohf_device_free(dev_b);
  int fds_after = count_open_fds();
  if (fds_after != fds_before) fprintf(stderr, "fds: %d before, %d after\n", fds_before, fds_after);
  CHECK(fds_after == fds_before);

  remove_tree(base);
  if (failures) {
    fprintf(stderr, "cloudsync_test: %d check(s) failed\n", failures);
    return 1;
  }
  printf("cloudsync_test: ok\n");
  return 0;
}
