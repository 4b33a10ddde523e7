/* File helpers shared by the C session tests (static inline: a test that does not use one of
 * them still compiles with -Wall -Wextra -Werror). Include after the system headers. */
#ifndef OHFILE_TEST_FILES_H
#define OHFILE_TEST_FILES_H

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#define PATH_SIZE 4096

/* snprintf into a PATH_SIZE buffer; a path that does not fit ends the test. */
static inline void pathf(char *out, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(out, PATH_SIZE, fmt, ap);
  va_end(ap);
  if (n < 0 || n >= PATH_SIZE) { fprintf(stderr, "path too long: %s\n", out); exit(2); }
}

/* mkdir -p */
static inline void mkdirs(const char *path) {
  char buf[PATH_SIZE];
  pathf(buf, "%s", path);
  for (char *p = buf + 1; *p; p++) {
    if (*p == '/') { *p = 0; mkdir(buf, 0755); *p = '/'; }
  }
  mkdir(buf, 0755);
}

static inline void write_file(const char *path, const void *data, size_t len) {
  FILE *f = fopen(path, "w");
  if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) { perror(path); exit(2); }
}

static inline int count_open_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  int n = 0;
  if (!d) return -1;
  while (readdir(d)) n++;
  closedir(d);
  return n;
}

static inline void remove_tree(const char *path) {
  char cmd[PATH_SIZE + 16];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
  if (system(cmd) != 0) fprintf(stderr, "cleanup of %s failed\n", path);
}

#endif
