/* Backup and restore sessions through the C ABI: an app with nested files, an empty directory
 * and one 3 MiB file is backed up from device A into a folder and restored into device B, whose
 * sandbox must then equal A's (content, mode, mtime). Also: the callback order, an unknown
 * bundle, the one-session-per-device rule, calls after release, bad uris and fds, the timer and
 * send-rate arguments, getBackupInfo, and no fd leaked over 200 sessions. Built with -std=c99
 * -Wall -Wextra -Werror; a bug fails within WAIT_SECONDS instead of hanging. */
#define _XOPEN_SOURCE 700 /* POSIX 2008 plus realpath */
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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BUNDLE "com.example.notes"
#define MISSING "com.example.missing"
#define FILES "data/storage/el2/base/files"
#define BIG_SIZE (3 * 1024 * 1024 + 17)
#define WAIT_SECONDS 60
#define MAX_LOG 256

/* Callbacks run on the session's event thread, so failures are counted under a lock. */
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

/* ---------------------------------------------------------------- files */





/* An installed app: bundle.json, a backup profile that allows backup, an empty sandbox. */
static void install(const char *root, const char *bundle, const char *bundle_json) {
  char path[PATH_SIZE];
  pathf(path, "%s/apps/%s/sandbox", root, bundle);
  mkdirs(path);
  pathf(path, "%s/apps/%s/bundle.json", root, bundle);
  write_file(path, bundle_json, strlen(bundle_json));
  pathf(path, "%s/apps/%s/backup_config.json", root, bundle);
  write_file(path, "{\"allowToBackupRestore\": true}", 30);
}

/* A file in BUNDLE's sandbox with a given mode and mtime (whole seconds). */
static void put(const char *root, const char *rel, const void *data, size_t len, mode_t mode,
                time_t mtime) {
  char path[PATH_SIZE];
  pathf(path, "%s/apps/" BUNDLE "/sandbox/%s", root, rel);
  char *slash = strrchr(path, '/');
  *slash = 0;
  mkdirs(path);
  *slash = '/';
  write_file(path, data, len);
  struct timespec times[2] = {{mtime, 0}, {mtime, 0}};
  if (chmod(path, mode) != 0 || utimensat(AT_FDCWD, path, times, 0) != 0) { perror(path); exit(2); }
}

static int copy_fd(int in, int out) {
  char buf[65536];
  for (;;) {
    ssize_t n = read(in, buf, sizeof buf);
    if (n == 0) return 0;
    if (n < 0) { if (errno == EINTR) continue; return -1; }
    for (ssize_t off = 0; off < n;) {
      ssize_t w = write(out, buf + off, (size_t)(n - off));
      if (w < 0) { if (errno == EINTR) continue; return -1; }
      off += w;
    }
  }
}

/* The whole file in a malloc'd buffer (NULL on failure). */
static char *read_all(const char *path, size_t *len) {
  int fd = open(path, O_RDONLY);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) { if (fd >= 0) close(fd); return NULL; }
  char *buf = malloc((size_t)st.st_size + 1);
  size_t got = 0;
  while (buf && got < (size_t)st.st_size) {
    ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
    if (n <= 0) { free(buf); buf = NULL; break; }
    got += (size_t)n;
  }
  close(fd);
  *len = got;
  return buf;
}



/* Compares the tree under a/rel with b/rel: the same entries (".backup" aside), file types,
 * permission bits, and for files the same size, mtime and bytes. Returns the entries seen. */
static int compare_trees(const char *a, const char *b, const char *rel) {
  char pa[PATH_SIZE], pb[PATH_SIZE], sub[PATH_SIZE];
  pathf(pa, "%s/%s", a, rel);
  DIR *d = opendir(pa);
  CHECK(d != NULL);
  if (!d) return 0;
  int entries = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || !strcmp(e->d_name, ".backup")) continue;
    pathf(sub, "%s%s%s", rel, rel[0] ? "/" : "", e->d_name);
    pathf(pa, "%s/%s", a, sub);
    pathf(pb, "%s/%s", b, sub);
    struct stat sa, sb;
    entries++;
    if (lstat(pa, &sa) != 0 || lstat(pb, &sb) != 0) {
      fprintf(stderr, "missing on one side: %s\n", sub);
      CHECK(!"both sides have the entry");
      continue;
    }
    CHECK((sa.st_mode & S_IFMT) == (sb.st_mode & S_IFMT));
    if ((sa.st_mode & 07777) != (sb.st_mode & 07777)) {
      fprintf(stderr, "%s: mode %o vs %o\n", sub, (unsigned)(sa.st_mode & 07777), (unsigned)(sb.st_mode & 07777));
      CHECK(!"same permission bits");
    }
    if (S_ISDIR(sa.st_mode)) {
      entries += compare_trees(a, b, sub);
    } else if (S_ISREG(sa.st_mode)) {
      CHECK(sa.st_size == sb.st_size);
      if (sa.st_mtim.tv_sec != sb.st_mtim.tv_sec || sa.st_mtim.tv_nsec != sb.st_mtim.tv_nsec) {
        fprintf(stderr, "%s: mtime %ld vs %ld\n", sub, (long)sa.st_mtim.tv_sec, (long)sb.st_mtim.tv_sec);
        CHECK(!"same mtime");
      }
      size_t la = 0, lb = 0;
      char *ca = read_all(pa, &la), *cb = read_all(pb, &lb);
      CHECK(ca && cb && la == lb && memcmp(ca, cb, la) == 0);
      free(ca);
      free(cb);
    }
  }
  closedir(d);
  return entries;
}

/* ---------------------------------------------------------------- the client */

/* What the callbacks share with main: a log of short labels ("begin:<b>", "file:<b>:<uri>",
 * "end-err:<code>:<b>", "all", …) and the restore bookkeeping. */
typedef struct client {
  pthread_mutex_t mu;
  pthread_cond_t cond;
  ohf_session *session;
  int restore;
  char folder[4096]; /* the backup: <folder>/<bundle>/<uri> */
  char log[MAX_LOG][200];
  int nlog;
  int all_done;
  int pending;                  /* restore: files still to write */
  ohf_status bad_uri_status;    /* restore: getFileHandle with "../x" */
  ohf_status publish_uri_status; /* restore: publishFile with a non-empty uri */
  ohf_status publish_status;    /* restore: the real publishFile */
  int freed;                    /* user_data_free calls */
} client;

static void client_init(client *c, int restore, const char *folder) {
  memset(c, 0, sizeof *c);
  pthread_mutex_init(&c->mu, NULL);
  pthread_cond_init(&c->cond, NULL);
  c->restore = restore;
  snprintf(c->folder, sizeof c->folder, "%s", folder);
  c->bad_uri_status = c->publish_uri_status = c->publish_status = -1;
}

static void client_destroy(client *c) {
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

/* Waits for on_all_bundles_end, at most WAIT_SECONDS. */
static int wait_all(client *c) {
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += WAIT_SECONDS;
  pthread_mutex_lock(&c->mu);
  while (!c->all_done) {
    if (pthread_cond_timedwait(&c->cond, &c->mu, &deadline) == ETIMEDOUT) break;
  }
  int done = c->all_done;
  pthread_mutex_unlock(&c->mu);
  if (!done) fprintf(stderr, "timed out waiting for on_all_bundles_end\n");
  return done;
}

/* The position of a label in the log, or -1. */
static int find(client *c, const char *label) {
  for (int i = 0; i < c->nlog; i++)
    if (!strcmp(c->log[i], label)) return i;
  return -1;
}

static void print_log(client *c) {
  for (int i = 0; i < c->nlog; i++) fprintf(stderr, "  %d: %s\n", i, c->log[i]);
}

static void on_file_ready(void *ud, ohf_status err, const char *msg, const ohf_file_ready *f) {
  client *c = ud;
  CHECK(msg != NULL && f != NULL && f->bundle_name != NULL && f->uri != NULL);
  if (err) {
    CHECK(f->fd == -1 && f->manifest_fd == -1 && msg[0] != 0);
    note(c, "file-err:%d:%s", err, f->bundle_name);
    return;
  }
  CHECK(msg[0] == 0 && f->fd >= 0);
  char path[PATH_SIZE];
  pathf(path, "%s/%s", c->folder, f->bundle_name);
  mkdir(path, 0700);
  pathf(path, "%s/%s/%s", c->folder, f->bundle_name, f->uri);
  if (c->restore) {
    CHECK(f->manifest_fd >= 0);
    int in = open(path, O_RDONLY);
    CHECK(in >= 0 && copy_fd(in, f->fd) == 0);
    if (in >= 0) close(in);
  } else {
    CHECK(f->manifest_fd == -1);
    int out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CHECK(out >= 0 && copy_fd(f->fd, out) == 0);
    if (out >= 0) close(out);
  }
  CHECK(close(f->fd) == 0);
  if (f->manifest_fd >= 0) CHECK(close(f->manifest_fd) == 0);
  note(c, "file:%s:%s", f->bundle_name, f->uri);
  if (c->restore && --c->pending == 0) {
    /* Every file is written: publish the bundle (a non-empty uri is refused first). */
    c->publish_uri_status = ohf_session_publish_file(c->session, f->bundle_name, "x");
    c->publish_status = ohf_session_publish_file(c->session, f->bundle_name, "");
  }
}

static void on_bundle_begin(void *ud, ohf_status err, const char *msg, const char *bundle) {
  client *c = ud;
  if (err) {
    CHECK(msg[0] != 0);
    note(c, "begin-err:%d:%s", err, bundle);
    return;
  }
  CHECK(msg[0] == 0);
  note(c, "begin:%s", bundle);
  if (!c->restore) return;
  /* Restore: ask for a handle for every file the backup produced. */
  c->bad_uri_status = ohf_session_get_file_handle(c->session, bundle, "../x");
  char dir[PATH_SIZE];
  pathf(dir, "%s/%s", c->folder, bundle);
  DIR *d = opendir(dir);
  CHECK(d != NULL);
  if (!d) return;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    c->pending++;
    CHECK(ohf_session_get_file_handle(c->session, bundle, e->d_name) == OHF_STATUS_OK);
  }
  closedir(d);
}

static void on_bundle_end(void *ud, ohf_status err, const char *msg, const char *bundle) {
  client *c = ud;
  if (err) note(c, "end-err:%d:%s:%s", err, bundle, msg);
  else note(c, "end:%s", bundle);
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

static void on_died(void *ud) { note(ud, "died"); }

static void on_result_report(void *ud, const char *bundle, const char *result) {
  note(ud, "report:%s:%.100s", bundle, result);
}

static void on_process(void *ud, const char *bundle, const char *process) {
  note(ud, "process:%s:%.100s", bundle, process);
}

static void user_data_free(void *ud) {
  client *c = ud;
  pthread_mutex_lock(&c->mu);
  c->freed++;
  pthread_cond_broadcast(&c->cond);
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
  cb.on_backup_service_died = on_died;
  cb.on_result_report = on_result_report;
  cb.on_process = on_process;
  cb.user_data_free = user_data_free;
  return cb;
}

/* ---------------------------------------------------------------- the tests */

static void test_callbacks_struct_and_arguments(ohf_device *dev) {
  ohf_backup_callbacks cb;
  memset(&cb, 0xab, sizeof cb);
  ohf_backup_callbacks_init(&cb);
  CHECK(cb.version == OHF_BACKUP_CALLBACKS_VERSION);
  CHECK(cb.user_data == NULL && cb.on_file_ready == NULL && cb.on_process == NULL);
  CHECK(cb.user_data_free == NULL);
  ohf_backup_callbacks_init(NULL);

  ohf_session *s = NULL;
  cb.version = OHF_BACKUP_CALLBACKS_VERSION + 1;
  CHECK(ohf_session_backup_new(dev, &cb, &s) == OHF_STATUS_E_INVAL);
  CHECK(strstr(ohf_last_error_message(), "version") != NULL);
  CHECK(s == NULL);
  cb.version = OHF_BACKUP_CALLBACKS_VERSION;
  CHECK(ohf_session_backup_new(NULL, &cb, &s) == OHF_STATUS_E_INVAL);
  CHECK(ohf_session_restore_new(dev, NULL, &s) == OHF_STATUS_E_INVAL);
  CHECK(ohf_session_backup_new(dev, &cb, NULL) == OHF_STATUS_E_INVAL);
  CHECK(s == NULL);
  CHECK(ohf_session_release(NULL) == OHF_STATUS_E_INVAL);
  CHECK(ohf_session_append_backup_bundles(NULL, NULL, 0, NULL) == OHF_STATUS_E_INVAL);
  ohf_session_free(NULL);
  ohf_string_free(NULL);

  /* A session with no callbacks at all: arrays are checked, an empty append is fine. */
  CHECK(ohf_session_backup_new(dev, &cb, &s) == OHF_STATUS_OK);
  const char *names[] = {BUNDLE, NULL};
  CHECK(ohf_session_append_backup_bundles(s, names, 2, NULL) == OHF_STATUS_E_INVAL);
  CHECK(strstr(ohf_last_error_message(), "names[1] is NULL") != NULL);
  CHECK(ohf_session_append_backup_bundles(s, NULL, 1, NULL) == OHF_STATUS_E_INVAL);
  CHECK(ohf_session_append_backup_bundles(s, NULL, 0, NULL) == OHF_STATUS_OK);
  const char *infos[] = {NULL};
  CHECK(ohf_session_append_backup_bundles(s, names, 1, infos) == OHF_STATUS_E_INVAL);
  CHECK(strstr(ohf_last_error_message(), "infos[0] is NULL") != NULL);
  ohf_session_free(s);
}

/* Backs BUNDLE (and an unknown bundle) up from `dev` into `folder`. */
static void test_backup(ohf_device *dev, const char *folder) {
  client c;
  client_init(&c, 0, folder);
  ohf_backup_callbacks cb = callbacks_for(&c);
  ohf_session *s = NULL;
  CHECK(ohf_session_backup_new(dev, &cb, &s) == OHF_STATUS_OK);
  c.session = s;

  /* One session per device: a second one conflicts, and keeps nothing of its callbacks. */
  client other;
  client_init(&other, 1, folder);
  ohf_backup_callbacks other_cb = callbacks_for(&other);
  ohf_session *s2 = NULL;
  CHECK(ohf_session_restore_new(dev, &other_cb, &s2) == OHF_STATUS_SESSION_CONFLICT);
  CHECK(strstr(ohf_last_error_message(), "Session Conflict") != NULL);
  CHECK(ohf_session_backup_new(dev, &other_cb, &s2) == OHF_STATUS_SESSION_CONFLICT);
  CHECK(s2 == NULL);
  CHECK(other.freed == 0);
  client_destroy(&other);

  const char *names[] = {BUNDLE, MISSING};
  CHECK(ohf_session_append_backup_bundles(s, names, 2, NULL) == OHF_STATUS_OK);
  CHECK(wait_all(&c));

  pthread_mutex_lock(&c.mu);
  int begin = find(&c, "begin:" BUNDLE);
  int end = find(&c, "end:" BUNDLE);
  int all = find(&c, "all");
  int manage = find(&c, "file:" BUNDLE ":manage.json");
  CHECK(find(&c, "begin-err:13500005:" MISSING) >= 0);
  CHECK(begin >= 0 && manage > begin && end > manage && all > end);
  CHECK(all == c.nlog - 1);
  int files = 0, last_file = -1;
  for (int i = 0; i < c.nlog; i++) {
    if (strncmp(c.log[i], "file:", 5) != 0) continue;
    CHECK(strncmp(c.log[i], "file:" BUNDLE ":", strlen("file:" BUNDLE ":")) == 0);
    CHECK(i > begin && i < end);
    files++;
    last_file = i;
  }
  CHECK(last_file == manage); /* manage.json comes last */
  CHECK(files == 3);          /* one tar part, the big file on its own, manage.json */
  for (int i = 0; i < c.nlog; i++) CHECK(strstr(c.log[i], "err") == NULL || strstr(c.log[i], MISSING));
  if (failures) print_log(&c);
  pthread_mutex_unlock(&c.mu);

  /* The big file travelled as its own fd: a file of exactly its size in the folder. */
  char path[PATH_SIZE];
  pathf(path, "%s/" BUNDLE, folder);
  DIR *d = opendir(path);
  int big = 0;
  struct dirent *e;
  while (d && (e = readdir(d))) {
    struct stat st;
    pathf(path, "%s/" BUNDLE "/%s", folder, e->d_name);
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == BIG_SIZE) big++;
  }
  if (d) closedir(d);
  CHECK(big == 1);

  /* release: later calls are 13900020; the device is free again. */
  CHECK(ohf_session_release(s) == OHF_STATUS_OK);
  CHECK(ohf_session_release(s) == OHF_STATUS_E_INVAL);
  CHECK(ohf_session_append_backup_bundles(s, names, 1, NULL) == OHF_STATUS_E_INVAL);
  CHECK(strstr(ohf_last_error_message(), "released") != NULL);
  CHECK(ohf_session_get_file_handle(s, BUNDLE, "manage.json") == OHF_STATUS_E_INVAL);
  CHECK(c.freed == 0);
  ohf_session_free(s);
  CHECK(c.freed == 1);
  client_destroy(&c);
}

/* Restores BUNDLE from `folder` into `dev_b`, with the capabilities of `dev_a`. */
static void test_restore(ohf_device *dev_a, ohf_device *dev_b, const char *folder) {
  client c;
  client_init(&c, 1, folder);
  ohf_backup_callbacks cb = callbacks_for(&c);
  ohf_session *s = NULL;
  CHECK(ohf_session_restore_new(dev_b, &cb, &s) == OHF_STATUS_OK);
  c.session = s;

  const char *names[] = {BUNDLE};
  CHECK(ohf_session_append_restore_bundles(s, 987654, names, 1, NULL) == OHF_STATUS_E_INVAL);
  CHECK(ohf_session_append_restore_bundles(s, -1, names, 1, NULL) == OHF_STATUS_E_INVAL);
  CHECK(ohf_session_get_file_handle(s, BUNDLE, "part.1.tar") == OHF_STATUS_E_INVAL); /* not appended */
  CHECK(ohf_session_publish_file(s, BUNDLE, "part.1.tar") == OHF_STATUS_E_PERM);
  CHECK(ohf_session_append_backup_bundles(s, names, 1, NULL) == OHF_STATUS_E_INVAL); /* wrong kind */

  int caps = -1;
  CHECK(ohf_backup_get_local_capabilities(dev_a, &caps) == OHF_STATUS_OK);
  CHECK(ohf_session_append_restore_bundles(s, caps, names, 1, NULL) == OHF_STATUS_OK);
  CHECK(close(caps) == 0); /* the session keeps its own duplicate */
  CHECK(wait_all(&c));

  pthread_mutex_lock(&c.mu);
  int begin = find(&c, "begin:" BUNDLE);
  int end = find(&c, "end:" BUNDLE);
  int all = find(&c, "all");
  CHECK(begin >= 0 && end > begin && all > end && all == c.nlog - 1);
  int files = 0;
  for (int i = 0; i < c.nlog; i++) {
    if (strncmp(c.log[i], "file:", 5) != 0) continue;
    CHECK(i > begin && i < end);
    files++;
  }
  CHECK(files == 3 && c.pending == 0);
  CHECK(c.bad_uri_status == OHF_STATUS_E_INVAL);
  CHECK(c.publish_uri_status == OHF_STATUS_E_PERM);
  CHECK(c.publish_status == OHF_STATUS_OK);
  if (failures) print_log(&c);
  pthread_mutex_unlock(&c.mu);

  CHECK(ohf_session_release(s) == OHF_STATUS_OK);
  CHECK(ohf_session_publish_file(s, BUNDLE, "") == OHF_STATUS_E_INVAL);
  ohf_session_free(s);
  CHECK(c.freed == 1);
  client_destroy(&c);
}

static void test_timer_send_rate_and_backup_info(ohf_device *dev, const char *root) {
  bool updated = true;
  CHECK(ohf_backup_update_timer(BUNDLE, -1, &updated) == OHF_STATUS_PARAMETER_ERROR);
  CHECK(ohf_backup_update_timer(BUNDLE, 14400001, &updated) == OHF_STATUS_PARAMETER_ERROR);
  CHECK(updated == true); /* untouched on failure */
  CHECK(ohf_backup_update_timer(BUNDLE, 1000, &updated) == OHF_STATUS_OK);
  CHECK(updated == false); /* not running */
  CHECK(ohf_backup_update_timer(BUNDLE, 1000, NULL) == OHF_STATUS_E_INVAL);
  CHECK(ohf_backup_update_timer(NULL, 1000, &updated) == OHF_STATUS_E_INVAL);
  updated = true;
  CHECK(ohf_backup_update_send_rate(BUNDLE, -5, &updated) == OHF_STATUS_PARAMETER_ERROR);
  CHECK(ohf_backup_update_send_rate(BUNDLE, 20000, &updated) == OHF_STATUS_OK);
  CHECK(updated == false);

  char sentinel = 0;
  char *info = &sentinel;
  CHECK(ohf_backup_get_backup_info(dev, BUNDLE, &info) == OHF_STATUS_OK);
  CHECK(info == NULL); /* no extension */
  info = &sentinel;
  CHECK(ohf_backup_get_backup_info(dev, MISSING, &info) == OHF_STATUS_OK);
  CHECK(info == NULL);
  CHECK(ohf_backup_get_backup_info(dev, BUNDLE, NULL) == OHF_STATUS_E_INVAL);
  CHECK(ohf_backup_get_backup_info(NULL, BUNDLE, &info) == OHF_STATUS_E_INVAL);

  /* An app with an exec extension (the repository's Python fixture) answers getBackupInfo. */
  char script[PATH_SIZE];
  if (!realpath("tests/fixtures/extensions/well_behaved.py", script)) {
    printf("session_test: (not run from the repository root: getBackupInfo with an extension skipped)\n");
    return;
  }
  char json[8192];
  snprintf(json, sizeof json,
           "{\"versionCode\": 1, \"versionName\": \"1.0\", \"extension\": "
           "{\"name\": \"BackupExtensionAbility\", \"exec\": [\"python3\", \"%s\"]}}",
           script);
  install(root, "com.example.ext", json);
  info = NULL;
  CHECK(ohf_backup_get_backup_info(dev, "com.example.ext", &info) == OHF_STATUS_OK);
  CHECK(info != NULL && strstr(info, "com.example.ext") != NULL);
  ohf_string_free(info);
}

/* A session whose on_file_ready is NULL: the library closes the fds it would have handed over. */
static void test_null_members_close_fds(ohf_device *dev, const char *folder) {
  int before = count_open_fds();
  client c;
  client_init(&c, 0, folder);
  ohf_backup_callbacks cb;
  ohf_backup_callbacks_init(&cb);
  cb.user_data = &c;
  cb.on_all_bundles_end = on_all_bundles_end;
  ohf_session *s = NULL;
  CHECK(ohf_session_backup_new(dev, &cb, &s) == OHF_STATUS_OK);
  const char *names[] = {BUNDLE};
  CHECK(ohf_session_append_backup_bundles(s, names, 1, NULL) == OHF_STATUS_OK);
  CHECK(wait_all(&c));
  ohf_session_free(s);
  CHECK(c.freed == 0); /* no user_data_free member */
  client_destroy(&c);
  CHECK(count_open_fds() == before);
}

/* on_all_bundles_end frees its own session: user_data_free waits until that callback returned. */
static void free_session_at_the_end(void *ud, ohf_status err, const char *msg) {
  client *c = ud;
  (void)msg;
  CHECK(err == OHF_STATUS_OK);
  ohf_session_free(c->session);
  pthread_mutex_lock(&c->mu);
  CHECK(c->freed == 0); /* not yet: this callback is still running */
  c->all_done = 1;
  pthread_mutex_unlock(&c->mu);
}

static void test_free_from_a_callback(ohf_device *dev) {
  client c;
  client_init(&c, 0, "/nonexistent");
  ohf_backup_callbacks cb = callbacks_for(&c);
  cb.on_all_bundles_end = free_session_at_the_end;
  ohf_session *s = NULL;
  CHECK(ohf_session_backup_new(dev, &cb, &s) == OHF_STATUS_OK);
  pthread_mutex_lock(&c.mu);
  c.session = s;
  pthread_mutex_unlock(&c.mu);
  const char *names[] = {MISSING};
  CHECK(ohf_session_append_backup_bundles(s, names, 1, NULL) == OHF_STATUS_OK);
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += WAIT_SECONDS;
  pthread_mutex_lock(&c.mu);
  while (c.freed == 0 && pthread_cond_timedwait(&c.cond, &c.mu, &deadline) != ETIMEDOUT) {
  }
  CHECK(c.all_done == 1 && c.freed == 1);
  CHECK(find(&c, "begin-err:13500005:" MISSING) == 0);
  pthread_mutex_unlock(&c.mu);
  /* The device is free again. */
  CHECK(ohf_session_backup_new(dev, &cb, &s) == OHF_STATUS_OK);
  ohf_session_free(s);
  CHECK(c.freed == 2);
  client_destroy(&c);
}

static void test_no_fd_leak_over_200_sessions(ohf_device *dev) {
  client c;
  client_init(&c, 0, "/nonexistent");
  ohf_backup_callbacks cb = callbacks_for(&c);
  int before = count_open_fds();
  for (int i = 0; i < 200; i++) {
    ohf_session *s = NULL;
    ohf_status st = i % 2 ? ohf_session_backup_new(dev, &cb, &s) : ohf_session_restore_new(dev, &cb, &s);
    CHECK(st == OHF_STATUS_OK);
    ohf_session_free(s);
  }
  int after = count_open_fds();
  if (after != before) fprintf(stderr, "open fds: %d before, %d after\n", before, after);
  CHECK(after == before);
  CHECK(c.freed == 200);
  CHECK(c.nlog == 0);
  client_destroy(&c);
}

int main(void) {
  char root_a[] = "/tmp/ohfile-c-session-a-XXXXXX";
  char root_b[] = "/tmp/ohfile-c-session-b-XXXXXX";
  char folder[] = "/tmp/ohfile-c-session-out-XXXXXX";
  if (!mkdtemp(root_a) || !mkdtemp(root_b) || !mkdtemp(folder)) { perror("mkdtemp"); return 2; }

  /* Device A: the app with data. Device B: the same app, freshly installed. */
  const char *app = "{\"versionCode\": 1000000, \"versionName\": \"1.0.0\"}";
  install(root_a, BUNDLE, app);
  install(root_b, BUNDLE, app);
  put(root_a, FILES "/a.txt", "alpha", 5, 0640, 1600000000);
  char small[5000];
  memset(small, 7, sizeof small);
  put(root_a, FILES "/deep/er/b.bin", small, sizeof small, 0600, 1600000100);
  put(root_a, "data/storage/el2/base/preferences/p.xml", "<p/>", 4, 0644, 1600000200);
  char *big = malloc(BIG_SIZE);
  if (!big) return 2;
  for (size_t i = 0; i < BIG_SIZE; i++) big[i] = (char)(i % 251);
  put(root_a, "data/storage/el2/database/big.db", big, BIG_SIZE, 0600, 1600000300);
  free(big);
  char path[PATH_SIZE];
  pathf(path, "%s/apps/" BUNDLE "/sandbox/" FILES "/empty/dir", root_a);
  mkdirs(path);

  ohf_device *dev_a = NULL, *dev_b = NULL;
  CHECK(ohf_device_open(root_a, &dev_a) == OHF_STATUS_OK);
  CHECK(ohf_device_open(root_b, &dev_b) == OHF_STATUS_OK);
  if (!dev_a || !dev_b) return 1;

  test_callbacks_struct_and_arguments(dev_a);
  test_backup(dev_a, folder);
  test_restore(dev_a, dev_b, folder);

  /* B's sandbox is A's, entry for entry (the empty directory included), and nothing more. */
  char sandbox_a[PATH_SIZE], sandbox_b[PATH_SIZE];
  pathf(sandbox_a, "%s/apps/" BUNDLE "/sandbox", root_a);
  pathf(sandbox_b, "%s/apps/" BUNDLE "/sandbox", root_b);
  int entries = compare_trees(sandbox_a, sandbox_b, "");
  CHECK(entries == 15);
  CHECK(compare_trees(sandbox_b, sandbox_a, "") == entries);
  struct stat st;
  pathf(path, "%s/" FILES "/empty/dir", sandbox_b);
  CHECK(stat(path, &st) == 0 && S_ISDIR(st.st_mode));

  test_null_members_close_fds(dev_a, folder);
  test_free_from_a_callback(dev_a);
  test_no_fd_leak_over_200_sessions(dev_a);
  test_timer_send_rate_and_backup_info(dev_a, root_a);

  ohf_device_free(dev_a);
  ohf_device_free(dev_b);
  remove_tree(root_a);
  remove_tree(root_b);
  remove_tree(folder);
  if (failures) {
    fprintf(stderr, "session_test: %d check(s) failed\n", failures);
    return 1;
  }
  printf("session_test: ok (%d sandbox entries restored)\n", entries);
  return 0;
}
