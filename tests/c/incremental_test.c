/* Incremental backup through the C ABI: a first run with an empty previous manifest sends every
 * file, each item with a manifest; a second run with the all-files manifest of manage.json and
 * nothing changed sends manage.json alone; a third run after one file changed sends exactly that
 * file. Also: a garbage or closed manifest fd rejects the append with nothing scheduled, cancel,
 * the session's capabilities, cleanBundleTempDir, getCompatibilityInfo, getBackupDataSize and its
 * size reports, the module's incremental capabilities and getBackupVersion, manifest fds closed
 * by the library when on_file_ready is NULL, and a program built against the version-1 callbacks
 * struct (the struct placed right before an unreadable page: the library must not read past it).
 * Built with -std=c99 -Wall -Wextra -Werror; a bug fails within WAIT_SECONDS instead of hanging. */
#define _XOPEN_SOURCE 700
#include "ohfile.h"
#include "test_files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BUNDLE "com.example.notes"
#define MISSING "com.example.missing"
#define FILES "data/storage/el2/base/files"
#define SANDBOX_FILES "/" FILES
#define WAIT_SECONDS 60
#define MAX_LOG 256
#define MAX_ITEMS 64
#define VERSION_LINE "version=1.0&attrNum=8\n"
#define HEADER_LINE "path;mode;dir;size;mtime;hash;isIncremental;encodeFlag\n"

/* Callbacks run on the session's event thread, so failures are counted under a lock. */
static pthread_mutex_t check_mu = PTHREAD_MUTEX_INITIALIZER;
static int failures = 0;
static int checks = 0;
#define CHECK(cond)                                                            \
  do {                                                                         \
    int check_ok_ = (cond) ? 1 : 0; /* evaluated unlocked: it may wait */      \
    pthread_mutex_lock(&check_mu);                                             \
    checks++;                                                                  \
    if (!check_ok_) {                                                          \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      failures++;                                                              \
    }                                                                          \
    pthread_mutex_unlock(&check_mu);                                           \
  } while (0)

/* ---------------------------------------------------------------- files */




static void install(const char *root, const char *bundle) {
  char path[PATH_SIZE];
  pathf(path, "%s/apps/%s/sandbox", root, bundle);
  mkdirs(path);
  pathf(path, "%s/apps/%s/bundle.json", root, bundle);
  const char *json = "{\"versionCode\": 1000000, \"versionName\": \"1.0.0\"}";
  write_file(path, json, strlen(json));
  pathf(path, "%s/apps/%s/backup_config.json", root, bundle);
  write_file(path, "{\"allowToBackupRestore\": true}", 30);
}

/* A file in BUNDLE's sandbox with a given content and mtime (whole seconds). */
static void put(const char *root, const char *rel, const char *text, time_t mtime) {
  char path[PATH_SIZE];
  pathf(path, "%s/apps/" BUNDLE "/sandbox/%s", root, rel);
  char *slash = strrchr(path, '/');
  *slash = 0;
  mkdirs(path);
  *slash = '/';
  write_file(path, text, strlen(text));
  struct timespec times[2] = {{mtime, 0}, {mtime, 0}};
  if (chmod(path, 0640) != 0 || utimensat(AT_FDCWD, path, times, 0) != 0) { perror(path); exit(2); }
}

/* Everything readable from `fd` (from its current offset) in a malloc'd, NUL-terminated buffer;
 * NULL on a read error. */
static char *read_fd(int fd, size_t *len) {
  size_t cap = 4096, got = 0;
  char *buf = malloc(cap);
  while (buf) {
    if (got + 1 >= cap) {
      char *bigger = realloc(buf, cap *= 2);
      if (!bigger) { free(buf); return NULL; }
      buf = bigger;
    }
    ssize_t n = read(fd, buf + got, cap - got - 1);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      free(buf);
      return NULL;
    }
    got += (size_t)n;
  }
  if (buf) buf[got] = 0;
  if (len) *len = got;
  return buf;
}

/* A temp file holding `text` (may be ""), opened read-only at offset 0; the path is unlinked. */
static int temp_fd(const char *dir, const char *text) {
  char path[PATH_SIZE];
  pathf(path, "%s/manifest-XXXXXX", dir);
  int fd = mkstemp(path);
  if (fd < 0) { perror("mkstemp"); exit(2); }
  size_t len = strlen(text);
  if (write(fd, text, len) != (ssize_t)len || lseek(fd, 0, SEEK_SET) != 0) { perror(path); exit(2); }
  unlink(path);
  return fd;
}



/* Whether `manifest` has a record (a line) for the sandbox path `path`. */
static int lists(const char *manifest, const char *path) {
  char needle[PATH_SIZE];
  pathf(needle, "\n%s;", path);
  return manifest && strstr(manifest, needle) != NULL;
}

/* The records of a manifest: its lines after the two header lines. */
static int records(const char *manifest) {
  int lines = 0;
  for (const char *p = manifest; p && *p; p++)
    if (*p == '\n') lines++;
  return lines - 2;
}

/* ---------------------------------------------------------------- the client */

typedef struct item {
  char uri[256];
  char *manifest; /* the content of its manifest_fd (NULL when -1 or unreadable) */
  size_t data_len;
} item;

typedef struct client {
  pthread_mutex_t mu;
  pthread_cond_t cond;
  char log[MAX_LOG][200];
  int nlog;
  item items[MAX_ITEMS];
  int nitems;
  int all_done;
  int reports;          /* on_backup_size_report calls */
  char last_report[4096];
  int report_done;      /* the final report ("scanning":"") arrived */
  int freed;
} client;

static void client_init(client *c) {
  memset(c, 0, sizeof *c);
  pthread_mutex_init(&c->mu, NULL);
  pthread_cond_init(&c->cond, NULL);
}

static void client_destroy(client *c) {
  for (int i = 0; i < c->nitems; i++) free(c->items[i].manifest);
  pthread_mutex_destroy(&c->mu);
  pthread_cond_destroy(&c->cond);
}

static void note(client *c, const char *fmt, ...) {
  va_list ap;
  pthread_mutex_lock(&c->mu);
  if (c->nlog < MAX_LOG) {
    va_start(ap, fmt);
    vsnprintf(c->log[c->nlog++], sizeof c->log[0], fmt, ap);
    va_end(ap);
  }
  pthread_cond_broadcast(&c->cond);
  pthread_mutex_unlock(&c->mu);
}

/* Waits until `*flag` is set (under c->mu), at most WAIT_SECONDS. */
static int wait_flag(client *c, const int *flag, const char *what) {
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += WAIT_SECONDS;
  pthread_mutex_lock(&c->mu);
  while (!*flag) {
    if (pthread_cond_timedwait(&c->cond, &c->mu, &deadline) == ETIMEDOUT) break;
  }
  int done = *flag;
  pthread_mutex_unlock(&c->mu);
  if (!done) fprintf(stderr, "timed out waiting for %s\n", what);
  return done;
}

static void print_log(client *c) {
  for (int i = 0; i < c->nlog; i++) fprintf(stderr, "  %d: %s\n", i, c->log[i]);
}

static void on_file_ready(void *ud, ohf_status err, const char *msg, const ohf_file_ready *f) {
  client *c = ud;
  CHECK(msg != NULL && f != NULL && f->bundle_name != NULL && f->uri != NULL);
  if (err) {
    CHECK(f->fd == -1 && f->manifest_fd == -1);
    note(c, "file-err:%d:%s", err, f->bundle_name);
    return;
  }
  CHECK(f->fd >= 0);
  size_t data_len = 0;
  char *data = read_fd(f->fd, &data_len);
  CHECK(data != NULL);
  free(data);
  CHECK(close(f->fd) == 0);
  char *manifest = NULL;
  if (f->manifest_fd >= 0) {
    manifest = read_fd(f->manifest_fd, NULL);
    CHECK(close(f->manifest_fd) == 0);
  }
  pthread_mutex_lock(&c->mu);
  if (c->nitems < MAX_ITEMS) {
    item *it = &c->items[c->nitems++];
    snprintf(it->uri, sizeof it->uri, "%s", f->uri);
    it->manifest = manifest;
    it->data_len = data_len;
  } else {
    free(manifest);
  }
  pthread_mutex_unlock(&c->mu);
  note(c, "file:%s:%s:%s", f->bundle_name, f->uri, f->manifest_fd >= 0 ? "manifest" : "-");
}

static void on_bundle_begin(void *ud, ohf_status err, const char *msg, const char *bundle) {
  (void)msg;
  if (err) note(ud, "begin-err:%d:%s", err, bundle);
  else note(ud, "begin:%s", bundle);
}

static void on_bundle_end(void *ud, ohf_status err, const char *msg, const char *bundle) {
  if (err) note(ud, "end-err:%d:%s:%s", err, bundle, msg);
  else note(ud, "end:%s", bundle);
}

static void on_all_bundles_end(void *ud, ohf_status err, const char *msg) {
  client *c = ud;
  if (err) note(c, "all-err:%d:%s", err, msg);
  else note(c, "all");
  pthread_mutex_lock(&c->mu);
  c->all_done = 1;
  pthread_cond_broadcast(&c->cond);
  pthread_mutex_unlock(&c->mu);
}

static void on_process(void *ud, const char *bundle, const char *process) {
  note(ud, "process:%s:%.100s", bundle, process);
}

static void on_backup_size_report(void *ud, const char *report) {
  client *c = ud;
  CHECK(report != NULL);
  pthread_mutex_lock(&c->mu);
  c->reports++;
  snprintf(c->last_report, sizeof c->last_report, "%s", report);
  if (strstr(report, "\"scanning\":\"\"")) c->report_done = 1;
  pthread_cond_broadcast(&c->cond);
  pthread_mutex_unlock(&c->mu);
}

static void user_data_free(void *ud) {
  client *c = ud;
  pthread_mutex_lock(&c->mu);
  c->freed++;
  pthread_mutex_unlock(&c->mu);
}

static ohf_backup_callbacks callbacks_for(client *c) {
  ohf_backup_callbacks cb;
  ohf_backup_callbacks_init(&cb);
  cb.user_data = c;
  cb.on_file_ready = on_file_ready;
  cb.on_bundle_begin = on_bundle_begin;
  cb.on_bundle_end = on_bundle_end;
  cb.on_all_bundles_end = on_all_bundles_end;
  cb.on_process = on_process;
  cb.on_backup_size_report = on_backup_size_report;
  cb.user_data_free = user_data_free;
  return cb;
}

/* ---------------------------------------------------------------- incremental runs */

/* One incremental backup of BUNDLE against the previous manifest `previous` ("" for none), into
 * `c` (initialised by the caller). The items are in c->items when it returns. */
static void incremental_run(ohf_device *dev, client *c, const char *tmp, const char *previous,
                            int64_t last_time) {
  ohf_backup_callbacks cb = callbacks_for(c);
  ohf_session *s = NULL;
  CHECK(ohf_session_incremental_new(dev, &cb, &s) == OHF_STATUS_OK);
  if (!s) return;
  int fd = temp_fd(tmp, previous);
  ohf_incremental_backup_data data = {BUNDLE, last_time, fd, NULL, 0};
  CHECK(ohf_session_append_incremental_bundles(s, &data, 1, NULL) == OHF_STATUS_OK);
  CHECK(close(fd) == 0); /* the session keeps its own duplicate */
  CHECK(wait_flag(c, &c->all_done, "on_all_bundles_end"));
  ohf_session_free(s);
  CHECK(c->freed == 1);

  pthread_mutex_lock(&c->mu);
  /* begin, the files, end, all: nothing failed; manage.json came last, with the all-files
   * manifest; every item has a well-formed manifest. */
  CHECK(c->nlog == c->nitems + 3);
  CHECK(c->nlog >= 4 && !strcmp(c->log[0], "begin:" BUNDLE));
  CHECK(c->nlog >= 4 && !strcmp(c->log[c->nlog - 2], "end:" BUNDLE));
  CHECK(c->nlog >= 4 && !strcmp(c->log[c->nlog - 1], "all"));
  CHECK(c->nitems >= 1 && !strcmp(c->items[c->nitems - 1].uri, "manage.json"));
  for (int i = 0; i < c->nitems; i++) {
    const char *m = c->items[i].manifest;
    CHECK(m != NULL);
    CHECK(m && !strncmp(m, VERSION_LINE, strlen(VERSION_LINE)));
    CHECK(m && !strncmp(m + strlen(VERSION_LINE), HEADER_LINE, strlen(HEADER_LINE)));
  }
  if (failures) print_log(c);
  pthread_mutex_unlock(&c->mu);
}

/* The all-files manifest of a run (manage.json's), copied; "" when missing. */
static char *all_files_manifest(client *c) {
  const char *m = c->nitems ? c->items[c->nitems - 1].manifest : NULL;
  char *copy = malloc(m ? strlen(m) + 1 : 1);
  if (!copy) exit(2);
  strcpy(copy, m ? m : "");
  return copy;
}

static void test_incremental_runs(ohf_device *dev, const char *root, const char *tmp) {
  /* (1) No previous backup: every file goes, in one tar part (plus manage.json). */
  client c1;
  client_init(&c1);
  int64_t t1 = (int64_t)time(NULL);
  incremental_run(dev, &c1, tmp, "", 0);
  CHECK(c1.nitems == 2);
  CHECK(c1.nitems == 2 && strstr(c1.items[0].uri, "_part.1.tar") != NULL && c1.items[0].data_len > 0);
  const char *part = c1.nitems ? c1.items[0].manifest : NULL;
  CHECK(lists(part, SANDBOX_FILES "/a.txt") && lists(part, SANDBOX_FILES "/b.txt"));
  CHECK(lists(part, SANDBOX_FILES "/deep/c.txt") && records(part) == 3);
  char *all1 = all_files_manifest(&c1);
  CHECK(lists(all1, SANDBOX_FILES "/a.txt") && lists(all1, SANDBOX_FILES "/b.txt"));
  CHECK(lists(all1, SANDBOX_FILES "/deep/c.txt") && records(all1) == 3);
  client_destroy(&c1);

  /* (2) Nothing changed: manage.json alone, and the same all-files manifest. */
  client c2;
  client_init(&c2);
  incremental_run(dev, &c2, tmp, all1, t1);
  CHECK(c2.nitems == 1);
  char *all2 = all_files_manifest(&c2);
  CHECK(!strcmp(all1, all2));
  client_destroy(&c2);

  /* (3) b.txt gets new content and a new mtime: one item, listing b.txt only. */
  put(root, FILES "/b.txt", "bravo, changed", 1600000500);
  client c3;
  client_init(&c3);
  incremental_run(dev, &c3, tmp, all2, t1);
  CHECK(c3.nitems == 2);
  part = c3.nitems == 2 ? c3.items[0].manifest : NULL;
  CHECK(lists(part, SANDBOX_FILES "/b.txt") && records(part) == 1);
  CHECK(part && strstr(part, ";14;1600000500;") != NULL); /* its new size and mtime */
  char *all3 = all_files_manifest(&c3);
  CHECK(records(all3) == 3 && strstr(all3, ";14;1600000500;") != NULL);
  CHECK(strcmp(all2, all3) != 0);
  client_destroy(&c3);
  free(all1);
  free(all2);
  free(all3);
}

/* (4) A manifest that is not one, a closed fd, NULL strings: 13900020, nothing scheduled. */
static void test_bad_manifests(ohf_device *dev, const char *tmp) {
  client c;
  client_init(&c);
  ohf_backup_callbacks cb = callbacks_for(&c);
  ohf_session *s = NULL;
  CHECK(ohf_session_incremental_new(dev, &cb, &s) == OHF_STATUS_OK);
  if (!s) return;
  int empty = temp_fd(tmp, "");
  int garbage = temp_fd(tmp, "this is not a manifest\n\x01\x02;;;\n");
  ohf_incremental_backup_data list[2] = {
      {BUNDLE, 0, empty, "{}", 1},
      {MISSING, 0, garbage, NULL, 0},
  };
  CHECK(ohf_session_append_incremental_bundles(s, list, 2, NULL) == OHF_STATUS_E_INVAL);
  CHECK(strstr(ohf_last_error_message(), MISSING) != NULL);
  list[1].bundle_name = BUNDLE;
  CHECK(ohf_session_append_incremental_bundles(s, &list[1], 1, NULL) == OHF_STATUS_E_INVAL);
  CHECK(strstr(ohf_last_error_message(), BUNDLE) != NULL);

  list[1].manifest_fd = -1;
  CHECK(ohf_session_append_incremental_bundles(s, list, 2, NULL) == OHF_STATUS_E_INVAL);
  CHECK(strstr(ohf_last_error_message(), "list[1].manifest_fd") != NULL);
  list[1].manifest_fd = 987654;
  CHECK(ohf_session_append_incremental_bundles(s, list, 2, NULL) == OHF_STATUS_E_INVAL);
  list[0].bundle_name = NULL;
  CHECK(ohf_session_append_incremental_bundles(s, list, 1, NULL) == OHF_STATUS_E_INVAL);
  CHECK(strstr(ohf_last_error_message(), "list[0].bundle_name is NULL") != NULL);
  list[0].bundle_name = BUNDLE;
  CHECK(ohf_session_append_incremental_bundles(s, NULL, 1, NULL) == OHF_STATUS_E_INVAL);
  const char *infos[] = {NULL};
  CHECK(ohf_session_append_incremental_bundles(s, list, 1, infos) == OHF_STATUS_E_INVAL);
  CHECK(ohf_session_append_incremental_bundles(NULL, list, 1, NULL) == OHF_STATUS_E_INVAL);
  CHECK(ohf_session_append_incremental_bundles(s, NULL, 0, NULL) == OHF_STATUS_OK);

  /* Nothing was scheduled: no event at all follows. */
  struct timespec pause = {0, 300 * 1000 * 1000};
  nanosleep(&pause, NULL);
  pthread_mutex_lock(&c.mu);
  CHECK(c.nlog == 0);
  if (c.nlog) print_log(&c);
  pthread_mutex_unlock(&c.mu);
  CHECK(close(empty) == 0 && close(garbage) == 0);

  /* An incremental append belongs to a backup session. */
  ohf_session_free(s);
  s = NULL;
  CHECK(ohf_session_restore_new(dev, &cb, &s) == OHF_STATUS_OK);
  empty = temp_fd(tmp, "");
  list[0].manifest_fd = empty;
  CHECK(ohf_session_append_incremental_bundles(s, list, 1, NULL) == OHF_STATUS_E_INVAL);
  CHECK(strstr(ohf_last_error_message(), "BACKUP") != NULL);
  ohf_incremental_backup_time t = {BUNDLE, 0};
  CHECK(ohf_session_get_backup_data_size(s, true, &t, 1) == OHF_STATUS_E_INVAL);
  close(empty);
  ohf_session_free(s);
  CHECK(c.freed == 2);
  client_destroy(&c);
}

/* (5)(6) cancel, the session's capabilities, cleanBundleTempDir, getCompatibilityInfo. */
static void test_session_extras(ohf_device *dev, const char *root) {
  client c;
  client_init(&c);
  ohf_backup_callbacks cb = callbacks_for(&c);
  ohf_session *s = NULL;
  CHECK(ohf_session_incremental_new(dev, &cb, &s) == OHF_STATUS_OK);
  if (!s) return;

  int32_t result = 42;
  CHECK(ohf_session_cancel(s, MISSING, &result) == OHF_STATUS_OK);
  CHECK(result == OHF_STATUS_CANCEL_NO_TASK);
  result = 42;
  CHECK(ohf_session_cancel(s, MISSING, NULL) == OHF_STATUS_E_INVAL);
  CHECK(ohf_session_cancel(s, NULL, &result) == OHF_STATUS_E_INVAL);
  CHECK(ohf_session_cancel(NULL, MISSING, &result) == OHF_STATUS_E_INVAL);
  CHECK(result == 42); /* untouched on failure */

  int fd = -1;
  CHECK(ohf_session_get_local_capabilities(s, &fd) == OHF_STATUS_OK);
  CHECK(fd >= 0);
  char *json = fd >= 0 ? read_fd(fd, NULL) : NULL;
  if (fd >= 0) close(fd);
  CHECK(json && json[0] == '{' && strstr(json, "\"bundleInfos\"") != NULL);
  CHECK(json && strstr(json, "\"" BUNDLE "\"") != NULL);
  CHECK(json && strstr(json, "backupVersion") == NULL);
  free(json);
  CHECK(ohf_session_get_local_capabilities(s, NULL) == OHF_STATUS_E_INVAL);
  fd = -1;
  CHECK(ohf_backup_get_local_capabilities(dev, &fd) == OHF_STATUS_OK); /* the module's has it */
  json = fd >= 0 ? read_fd(fd, NULL) : NULL;
  if (fd >= 0) close(fd);
  CHECK(json && strstr(json, "backupVersion") != NULL);
  free(json);

  char path[PATH_SIZE];
  pathf(path, "%s/apps/" BUNDLE "/sandbox/data/storage/el2/base/.backup/backup/left", root);
  mkdirs(path);
  bool cleaned = false;
  CHECK(ohf_session_clean_bundle_temp_dir(s, BUNDLE, &cleaned) == OHF_STATUS_OK);
  CHECK(cleaned == true);
  struct stat st;
  CHECK(stat(path, &st) != 0);
  CHECK(ohf_session_clean_bundle_temp_dir(s, MISSING, &cleaned) == OHF_STATUS_OK);
  CHECK(cleaned == false);
  CHECK(ohf_session_clean_bundle_temp_dir(s, BUNDLE, NULL) == OHF_STATUS_E_INVAL);

  char *info = NULL;
  CHECK(ohf_session_get_compatibility_info(s, BUNDLE, "{}", &info) == OHF_STATUS_OK);
  CHECK(info != NULL && info[0] == 0); /* no extension: "" */
  ohf_string_free(info);
  char sentinel = 0;
  info = &sentinel;
  CHECK(ohf_session_get_compatibility_info(s, BUNDLE, NULL, &info) == OHF_STATUS_E_INVAL);
  CHECK(ohf_session_get_compatibility_info(s, BUNDLE, "", NULL) == OHF_STATUS_E_INVAL);
  CHECK(info == &sentinel);

  /* After release: errors, and cleanBundleTempDir says false. */
  CHECK(ohf_session_release(s) == OHF_STATUS_OK);
  CHECK(ohf_session_cancel(s, BUNDLE, &result) == OHF_STATUS_E_INVAL);
  CHECK(ohf_session_get_local_capabilities(s, &fd) == OHF_STATUS_E_INVAL);
  cleaned = true;
  CHECK(ohf_session_clean_bundle_temp_dir(s, BUNDLE, &cleaned) == OHF_STATUS_OK);
  CHECK(cleaned == false);
  CHECK(ohf_session_get_compatibility_info(s, BUNDLE, "", &info) == OHF_STATUS_E_INVAL);
  ohf_session_free(s);
  CHECK(c.nlog == 0 && c.freed == 1);
  client_destroy(&c);
}

/* (7) getBackupDataSize: the final report has every bundle; a second scan while one runs is
 * refused. */
static void test_backup_data_size(ohf_device *dev, int total) {
  client c;
  client_init(&c);
  ohf_backup_callbacks cb = callbacks_for(&c);
  ohf_session *s = NULL;
  CHECK(ohf_session_backup_new(dev, &cb, &s) == OHF_STATUS_OK);
  if (!s) return;
  ohf_incremental_backup_time list[2] = {{BUNDLE, 0}, {MISSING, 0}};
  CHECK(ohf_session_get_backup_data_size(s, true, NULL, 1) == OHF_STATUS_E_INVAL);
  list[1].bundle_name = NULL;
  CHECK(ohf_session_get_backup_data_size(s, true, list, 2) == OHF_STATUS_E_INVAL);
  CHECK(strstr(ohf_last_error_message(), "list[1].bundle_name") != NULL);
  list[1].bundle_name = MISSING;
  CHECK(ohf_session_get_backup_data_size(s, true, list, 2) == OHF_STATUS_OK);
  CHECK(wait_flag(&c, &c.report_done, "the final on_backup_size_report"));
  pthread_mutex_lock(&c.mu);
  char expect[256];
  snprintf(expect, sizeof expect,
           "{\"bundleName\":\"" BUNDLE "\",\"dataSize\":%d,\"incDataSize\":%d}", total, total);
  CHECK(c.reports >= 1);
  CHECK(strstr(c.last_report, "\"scaned\"") != NULL && strstr(c.last_report, BUNDLE) != NULL);
  CHECK(strstr(c.last_report, expect) != NULL);
  CHECK(strstr(c.last_report, "{\"bundleName\":\"" MISSING "\",\"dataSize\":-1,\"incDataSize\":-1}") != NULL);
  if (failures) fprintf(stderr, "last report: %s\n", c.last_report);
  pthread_mutex_unlock(&c.mu);
  ohf_session_free(s);
  CHECK(c.nlog == 0);
  client_destroy(&c);
}

/* The module's getLocalCapabilities(dataList) and getBackupVersion. */
static void test_module_functions(ohf_device *dev, int total) {
  ohf_incremental_backup_time list[2] = {{BUNDLE, 0}, {MISSING, 0}};
  int fd = -1;
  CHECK(ohf_backup_get_incremental_capabilities(dev, list, 2, &fd) == OHF_STATUS_OK);
  char *json = fd >= 0 ? read_fd(fd, NULL) : NULL;
  if (fd >= 0) close(fd);
  char expect[64];
  snprintf(expect, sizeof expect, "\"increSpaceOccupied\": %d", total);
  CHECK(json && strstr(json, "\"" BUNDLE "\"") && strstr(json, expect));
  CHECK(json && !strstr(json, MISSING));
  free(json);
  list[0].last_incremental_time = 1600000500; /* b.txt is not newer than that */
  fd = -1;
  CHECK(ohf_backup_get_incremental_capabilities(dev, list, 1, &fd) == OHF_STATUS_OK);
  json = fd >= 0 ? read_fd(fd, NULL) : NULL;
  if (fd >= 0) close(fd);
  CHECK(json && strstr(json, "\"increSpaceOccupied\": 0"));
  free(json);
  fd = 77;
  CHECK(ohf_backup_get_incremental_capabilities(dev, NULL, 0, &fd) == OHF_STATUS_OK);
  CHECK(fd != 77 && close(fd) == 0);
  fd = 77;
  CHECK(ohf_backup_get_incremental_capabilities(dev, NULL, 1, &fd) == OHF_STATUS_E_INVAL);
  CHECK(ohf_backup_get_incremental_capabilities(NULL, list, 1, &fd) == OHF_STATUS_E_INVAL);
  CHECK(ohf_backup_get_incremental_capabilities(dev, list, 1, NULL) == OHF_STATUS_E_INVAL);
  CHECK(fd == 77);

  /* (8) */
  const char *version = ohf_backup_get_backup_version();
  CHECK(version != NULL && strstr(version, "\"backupVersion\"") != NULL);
  CHECK(version == ohf_backup_get_backup_version()); /* static storage */
}

/* Without on_file_ready the library closes the data and manifest fds itself. */
static void test_null_on_file_ready_closes_manifests(ohf_device *dev, const char *tmp) {
  int before = count_open_fds();
  client c;
  client_init(&c);
  ohf_backup_callbacks cb;
  ohf_backup_callbacks_init(&cb);
  cb.user_data = &c;
  cb.on_all_bundles_end = on_all_bundles_end;
  ohf_session *s = NULL;
  CHECK(ohf_session_incremental_new(dev, &cb, &s) == OHF_STATUS_OK);
  int fd = temp_fd(tmp, "");
  ohf_incremental_backup_data data = {BUNDLE, 0, fd, NULL, 0};
  CHECK(ohf_session_append_incremental_bundles(s, &data, 1, NULL) == OHF_STATUS_OK);
  close(fd);
  CHECK(wait_flag(&c, &c.all_done, "on_all_bundles_end"));
  ohf_session_free(s);
  int after = count_open_fds();
  if (after != before) fprintf(stderr, "open fds: %d before, %d after\n", before, after);
  CHECK(after == before);
  client_destroy(&c);
}

/* ---------------------------------------------------------------- version 1 */

/* ohf_backup_callbacks as the version-1 header declared it: everything up to user_data_free. */
typedef struct v1_callbacks {
  uint32_t version;
  void *user_data;
  void (*on_file_ready)(void *, ohf_status, const char *, const ohf_file_ready *);
  void (*on_bundle_begin)(void *, ohf_status, const char *, const char *);
  void (*on_bundle_end)(void *, ohf_status, const char *, const char *);
  void (*on_all_bundles_end)(void *, ohf_status, const char *);
  void (*on_backup_service_died)(void *);
  void (*on_result_report)(void *, const char *, const char *);
  void (*on_process)(void *, const char *, const char *);
  void (*user_data_free)(void *);
} v1_callbacks;

/* A program built against version 1: its struct is shorter. Placed right before a page that
 * cannot be read or written, so that touching a byte past it crashes the test. */
static void test_version_1_struct(ohf_device *dev) {
  CHECK(sizeof(v1_callbacks) == offsetof(ohf_backup_callbacks, on_backup_size_report));
  long page = sysconf(_SC_PAGESIZE);
  int zero = open("/dev/zero", O_RDWR);
  char *mem = zero >= 0 ? mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE, zero, 0)
                        : MAP_FAILED;
  if (zero >= 0) close(zero);
  CHECK(mem != MAP_FAILED);
  if (mem == MAP_FAILED) return;
  CHECK(mprotect(mem + page, (size_t)page, PROT_NONE) == 0);
  v1_callbacks *v1 = (v1_callbacks *)(mem + page - sizeof(v1_callbacks));
  ohf_backup_callbacks *as_current = (ohf_backup_callbacks *)(void *)v1;

  /* The exported function (not the macro) is what a version-1 program calls. */
  memset(v1, 0xab, sizeof *v1);
  (ohf_backup_callbacks_init)(as_current);
  CHECK(v1->version == 1 && v1->user_data == NULL && v1->on_file_ready == NULL);
  CHECK(v1->user_data_free == NULL);
  /* And version 1 through the versioned one. */
  memset(v1, 0xab, sizeof *v1);
  CHECK(ohf_backup_callbacks_init_version(as_current, 1) == OHF_STATUS_OK);
  CHECK(v1->version == 1 && v1->user_data_free == NULL);
  CHECK(ohf_backup_callbacks_init_version(as_current, 3) == OHF_STATUS_E_INVAL);
  CHECK(ohf_backup_callbacks_init_version(NULL, 1) == OHF_STATUS_E_INVAL);
  CHECK(v1->version == 1);

  client c;
  client_init(&c);
  v1->user_data = &c;
  v1->on_file_ready = on_file_ready;
  v1->on_bundle_begin = on_bundle_begin;
  v1->on_bundle_end = on_bundle_end;
  v1->on_all_bundles_end = on_all_bundles_end;
  v1->user_data_free = user_data_free;
  ohf_session *s = NULL;
  CHECK(ohf_session_backup_new(dev, as_current, &s) == OHF_STATUS_OK);
  if (s) {
    /* A size scan has nowhere to report in a version-1 struct: it runs, nothing is called. */
    ohf_incremental_backup_time t = {BUNDLE, 0};
    CHECK(ohf_session_get_backup_data_size(s, false, &t, 1) == OHF_STATUS_OK);
    const char *names[] = {BUNDLE};
    CHECK(ohf_session_append_backup_bundles(s, names, 1, NULL) == OHF_STATUS_OK);
    CHECK(wait_flag(&c, &c.all_done, "on_all_bundles_end (version 1)"));
    ohf_session_free(s);
  }
  pthread_mutex_lock(&c.mu);
  /* A plain backup: one tar part and manage.json, without manifests. */
  CHECK(c.nitems == 2 && c.reports == 0 && c.freed == 1);
  for (int i = 0; i < c.nitems; i++) CHECK(c.items[i].manifest == NULL);
  CHECK(c.nlog == 5 && !strcmp(c.log[0], "begin:" BUNDLE) && !strcmp(c.log[4], "all"));
  if (failures) print_log(&c);
  pthread_mutex_unlock(&c.mu);
  client_destroy(&c);

  /* Another version is refused, naming it. */
  v1->version = 0;
  s = NULL;
  CHECK(ohf_session_backup_new(dev, as_current, &s) == OHF_STATUS_E_INVAL && s == NULL);
  CHECK(strstr(ohf_last_error_message(), "version is 0") != NULL);
  munmap(mem, (size_t)page * 2);

  /* The current header's struct is version 2, and the macro initialises all of it. */
  ohf_backup_callbacks cb;
  memset(&cb, 0xab, sizeof cb);
  ohf_backup_callbacks_init(&cb);
  CHECK(cb.version == OHF_BACKUP_CALLBACKS_VERSION && OHF_BACKUP_CALLBACKS_VERSION == 2);
  CHECK(cb.on_backup_size_report == NULL && cb.user_data_free == NULL);
  ohf_backup_callbacks_init(NULL); /* a no-op */
}

int main(void) {
  char root[] = "/tmp/ohfile-c-incremental-XXXXXX";
  char tmp[] = "/tmp/ohfile-c-incremental-tmp-XXXXXX";
  if (!mkdtemp(root) || !mkdtemp(tmp)) { perror("mkdtemp"); return 2; }
  install(root, BUNDLE);
  put(root, FILES "/a.txt", "alpha", 1600000000);
  put(root, FILES "/b.txt", "bravo", 1600000100);
  put(root, FILES "/deep/c.txt", "charlie", 1600000200);

  ohf_device *dev = NULL;
  CHECK(ohf_device_open(root, &dev) == OHF_STATUS_OK);
  if (!dev) return 1;

  test_incremental_runs(dev, root, tmp);
  test_bad_manifests(dev, tmp);
  test_session_extras(dev, root);
  int total = 5 + 14 + 7; /* a.txt, the changed b.txt, c.txt */
  test_backup_data_size(dev, total);
  test_module_functions(dev, total);
  test_null_on_file_ready_closes_manifests(dev, tmp);
  test_version_1_struct(dev);

  ohf_device_free(dev);
  remove_tree(root);
  remove_tree(tmp);
  if (failures) {
    fprintf(stderr, "incremental_test: %d of %d check(s) failed\n", failures, checks);
    return 1;
  }
  printf("incremental_test: ok (%d checks)\n", checks);
  return 0;
}
