/* clone: moves apps from an old device to a new one through ohfile's C API, the way a phone
 * clone app does it: back the apps up on device A into a folder, then restore that folder on
 * device B.
 *
 *   clone <rootA> <rootB> <bundle>...
 *
 * The apps must be installed on B (their sandboxes may be empty). Prints its progress and exits
 * with 1 if anything failed.
 *
 * Build (from the repository, after `npm run build`):
 *   cc -std=c99 -Wall -Wextra -Iinclude examples-c/clone.c target/debug/libohfile.a \
 *      -lpthread -ldl -lm -o clone
 *
 * How a session works: ohf_session_backup_new / ohf_session_restore_new open a session with a
 * struct of callbacks; ohf_session_append_*_bundles starts the work; the callbacks then run on
 * the session's own event thread, one at a time, until on_all_bundles_end. The main thread just
 * waits for that. */
#define _POSIX_C_SOURCE 200809L
#include "ohfile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_BUNDLES 64

/* Everything the callbacks of one session share with main. */
typedef struct clone_state {
  pthread_mutex_t mu;
  pthread_cond_t cond;
  int done;                    /* on_all_bundles_end (or the service died) */
  int errors;                  /* failures reported by callbacks */
  int restoring;               /* 0: backup session, 1: restore session */
  ohf_session *session;        /* callbacks call back into it while restoring */
  const char *folder;          /* the backup lives in <folder>/<bundle>/<file> */
  int count;                   /* restore: bundles in names[] */
  char names[MAX_BUNDLES][256];
  int pending[MAX_BUNDLES];    /* restore: files of names[i] still to write */
} clone_state;

static void fail(clone_state *c) {
  pthread_mutex_lock(&c->mu);
  c->errors++;
  pthread_mutex_unlock(&c->mu);
}

static void finish(clone_state *c) {
  pthread_mutex_lock(&c->mu);
  c->done = 1;
  pthread_cond_signal(&c->cond);
  pthread_mutex_unlock(&c->mu);
}

/* Copies everything from one fd to another; 0 on success. */
static int copy_fd(int in, int out, long long *copied) {
  char buf[1 << 16];
  ssize_t n;
  *copied = 0;
  while ((n = read(in, buf, sizeof buf)) != 0) {
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    for (ssize_t off = 0; off < n;) {
      ssize_t w = write(out, buf + off, (size_t)(n - off));
      if (w < 0 && errno != EINTR) return -1;
      if (w > 0) off += w;
    }
    *copied += n;
  }
  return 0;
}

/* The restore bookkeeping slot of a bundle (callbacks only run on one thread: no lock needed). */
static int *pending_of(clone_state *c, const char *bundle) {
  for (int i = 0; i < c->count; i++)
    if (strcmp(c->names[i], bundle) == 0) return &c->pending[i];
  if (c->count == MAX_BUNDLES) return NULL;
  snprintf(c->names[c->count], sizeof c->names[0], "%s", bundle);
  c->pending[c->count] = 0;
  return &c->pending[c->count++];
}

/* Restore: every file of the bundle is written, so the service may put the data in place. */
static void publish(clone_state *c, const char *bundle) {
  ohf_status st = ohf_session_publish_file(c->session, bundle, "");
  if (st != OHF_STATUS_OK) {
    fprintf(stderr, "  %s: publish failed: %s\n", bundle, ohf_last_error_message());
    fail(c);
  }
}

static void on_bundle_begin(void *user_data, ohf_status err, const char *msg, const char *bundle) {
  clone_state *c = user_data;
  if (err != OHF_STATUS_OK) {
    fprintf(stderr, "  %s: cannot begin: %s (%d)\n", bundle, msg, err);
    fail(c);
    return;
  }
  printf("  %s: begin\n", bundle);
  if (!c->restoring) return; /* backup: the service now sends the files by itself */

  /* Restore: ask for a writable fd for every file the backup produced. */
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/%s", c->folder, bundle);
  DIR *d = opendir(dir);
  int *pending = pending_of(c, bundle);
  if (!d || !pending) {
    fprintf(stderr, "  %s: no backup in %s\n", bundle, dir);
    fail(c);
    if (d) closedir(d);
    return;
  }
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    if (ohf_session_get_file_handle(c->session, bundle, e->d_name) == OHF_STATUS_OK) {
      (*pending)++;
    } else {
      fprintf(stderr, "  %s: cannot ask for %s: %s\n", bundle, e->d_name, ohf_last_error_message());
      fail(c);
    }
  }
  closedir(d);
  if (*pending == 0) publish(c, bundle);
}

static void on_file_ready(void *user_data, ohf_status err, const char *msg, const ohf_file_ready *file) {
  clone_state *c = user_data;
  if (err != OHF_STATUS_OK) {
    fprintf(stderr, "  %s: file failed: %s (%d)\n", file->bundle_name, msg, err);
    fail(c);
    return;
  }
  /* The fds are ours now: whatever happens, close them. */
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", c->folder, file->bundle_name);
  mkdir(path, 0700);
  snprintf(path, sizeof path, "%s/%s/%s", c->folder, file->bundle_name, file->uri);
  long long bytes = 0;
  int ok;
  if (c->restoring) { /* our copy → the service's fd */
    int in = open(path, O_RDONLY);
    ok = in >= 0 && copy_fd(in, file->fd, &bytes) == 0;
    if (in >= 0) close(in);
  } else { /* the service's fd → our copy */
    int out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ok = out >= 0 && copy_fd(file->fd, out, &bytes) == 0;
    if (out >= 0 && close(out) != 0) ok = 0;
  }
  close(file->fd);
  if (file->manifest_fd >= 0) close(file->manifest_fd);
  if (!ok) {
    fprintf(stderr, "  %s: %s: %s\n", file->bundle_name, path, strerror(errno));
    fail(c);
  } else {
    printf("  %s: %s %s (%lld bytes)\n", file->bundle_name, c->restoring ? "wrote" : "saved",
           file->uri, bytes);
  }
  if (c->restoring) {
    int *pending = pending_of(c, file->bundle_name);
    if (pending && --*pending == 0) publish(c, file->bundle_name);
  }
}

static void on_bundle_end(void *user_data, ohf_status err, const char *msg, const char *bundle) {
  clone_state *c = user_data;
  if (err != OHF_STATUS_OK) {
    fprintf(stderr, "  %s: failed: %s (%d)\n", bundle, msg, err);
    fail(c);
  } else {
    printf("  %s: done\n", bundle);
  }
}

static void on_all_bundles_end(void *user_data, ohf_status err, const char *msg) {
  clone_state *c = user_data;
  if (err != OHF_STATUS_OK) {
    fprintf(stderr, "  session failed: %s (%d)\n", msg, err);
    fail(c);
  }
  finish(c);
}

static void on_service_died(void *user_data) {
  fprintf(stderr, "  the backup service died\n");
  fail(user_data);
  finish(user_data);
}

static void on_process(void *user_data, const char *bundle, const char *process) {
  (void)user_data;
  printf("  %s: progress %s\n", bundle, process);
}

/* One session on `dev`: a backup into `folder`, or a restore from it (with the old device's
 * capability fd). Returns the number of failures. */
static int run_session(ohf_device *dev, int restoring, int capabilities_fd, const char *folder,
                       const char *const *bundles, size_t count) {
  clone_state c;
  memset(&c, 0, sizeof c);
  pthread_mutex_init(&c.mu, NULL);
  pthread_cond_init(&c.cond, NULL);
  c.restoring = restoring;
  c.folder = folder;

  ohf_backup_callbacks callbacks;
  ohf_backup_callbacks_init(&callbacks); /* everything NULL, version set */
  callbacks.user_data = &c;
  callbacks.on_bundle_begin = on_bundle_begin;
  callbacks.on_file_ready = on_file_ready;
  callbacks.on_bundle_end = on_bundle_end;
  callbacks.on_all_bundles_end = on_all_bundles_end;
  callbacks.on_backup_service_died = on_service_died;
  callbacks.on_process = on_process;

  ohf_status st = restoring ? ohf_session_restore_new(dev, &callbacks, &c.session)
                            : ohf_session_backup_new(dev, &callbacks, &c.session);
  if (st != OHF_STATUS_OK) {
    fprintf(stderr, "cannot open a session: %s (%d)\n", ohf_last_error_message(), st);
    return 1;
  }
  st = restoring ? ohf_session_append_restore_bundles(c.session, capabilities_fd, bundles, count, NULL)
                 : ohf_session_append_backup_bundles(c.session, bundles, count, NULL);
  if (st != OHF_STATUS_OK) {
    fprintf(stderr, "cannot append the bundles: %s (%d)\n", ohf_last_error_message(), st);
    fail(&c);
  } else {
    pthread_mutex_lock(&c.mu); /* the callbacks do the work; wait for the last one */
    while (!c.done) pthread_cond_wait(&c.cond, &c.mu);
    pthread_mutex_unlock(&c.mu);
  }
  ohf_session_free(c.session); /* releases the session; no callback runs after this */
  pthread_mutex_destroy(&c.mu);
  pthread_cond_destroy(&c.cond);
  return c.errors;
}

/* rm -r of the temporary folder (two levels: <folder>/<bundle>/<file>). */
static void remove_folder(const char *folder) {
  DIR *d = opendir(folder);
  struct dirent *e;
  while (d && (e = readdir(d)) != NULL) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    int fd = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY);
    DIR *sub = fd >= 0 ? fdopendir(fd) : NULL;
    struct dirent *f;
    while (sub && (f = readdir(sub)) != NULL) {
      if (strcmp(f->d_name, ".") && strcmp(f->d_name, "..")) unlinkat(dirfd(sub), f->d_name, 0);
    }
    if (sub) closedir(sub);
    else if (fd >= 0) close(fd);
    unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR);
  }
  if (d) closedir(d);
  rmdir(folder);
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s <rootA> <rootB> <bundle>...\n", argv[0]);
    return 2;
  }
  const char *const *bundles = (const char *const *)&argv[3];
  size_t count = (size_t)(argc - 3);

  ohf_device *a = NULL, *b = NULL;
  if (ohf_device_open(argv[1], &a) != OHF_STATUS_OK || ohf_device_open(argv[2], &b) != OHF_STATUS_OK) {
    fprintf(stderr, "cannot open a device: %s\n", ohf_last_error_message());
    ohf_device_free(a);
    return 1;
  }

  const char *tmp = getenv("TMPDIR");
  char folder[1024];
  snprintf(folder, sizeof folder, "%s/ohfile-clone-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(folder)) {
    perror("mkdtemp");
    return 1;
  }

  int errors = 0;
  printf("backing up %zu app(s) from %s\n", count, argv[1]);
  errors += run_session(a, 0, -1, folder, bundles, count);

  if (errors == 0) {
    /* The new device learns what the old one had from its capability file. */
    int capabilities = -1;
    if (ohf_backup_get_local_capabilities(a, &capabilities) != OHF_STATUS_OK) {
      fprintf(stderr, "cannot read A's capabilities: %s\n", ohf_last_error_message());
      errors++;
    } else {
      printf("restoring them on %s\n", argv[2]);
      errors += run_session(b, 1, capabilities, folder, bundles, count);
      close(capabilities);
    }
  }

  remove_folder(folder);
  ohf_device_free(a);
  ohf_device_free(b);
  if (errors) {
    fprintf(stderr, "clone: %d error(s)\n", errors);
    return 1;
  }
  printf("clone: %zu app(s) cloned\n", count);
  return 0;
}
