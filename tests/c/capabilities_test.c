/* getLocalCapabilities through the C ABI: a sample device with two apps, the JSON read back from
 * the returned fd, and the error paths. Built with -std=c99 -Wall -Wextra -Werror. */
#define _POSIX_C_SOURCE 200809L
#include "ohfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int failures = 0;
#define CHECK(cond)                                                          \
  do {                                                                       \
    if (!(cond)) {                                                           \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      failures++;                                                            \
    }                                                                        \
  } while (0)

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  if (!f) { perror(path); exit(2); }
  fputs(text, f);
  fclose(f);
}

static void mkdirs(const char *path) {
  char buf[4096];
  snprintf(buf, sizeof buf, "%s", path);
  for (char *p = buf + 1; *p; p++) {
    if (*p == '/') { *p = 0; mkdir(buf, 0755); *p = '/'; }
  }
  mkdir(buf, 0755);
}

int main(void) {
  char root[] = "/tmp/ohfile-c-test-XXXXXX";
  char path[4096];
  if (!mkdtemp(root)) { perror("mkdtemp"); return 2; }

  snprintf(path, sizeof path, "%s/device.json", root);
  write_file(path, "{\"deviceType\": \"phone\", \"systemFullName\": \"OpenHarmony-5.0.0\"}");
  snprintf(path, sizeof path, "%s/apps/com.example.notes/sandbox/data/storage/el2/base/files", root);
  mkdirs(path);
  snprintf(path, sizeof path, "%s/apps/com.example.notes/sandbox/data/storage/el2/base/files/note.txt", root);
  write_file(path, "0123456789"); /* 10 bytes */
  snprintf(path, sizeof path, "%s/apps/com.example.notes/bundle.json", root);
  write_file(path, "{\"versionCode\": 1000000, \"versionName\": \"1.0.0\"}");
  snprintf(path, sizeof path, "%s/apps/com.example.notes/backup_config.json", root);
  write_file(path, "{\"allowToBackupRestore\": true}");
  snprintf(path, sizeof path, "%s/apps/com.example.game", root);
  mkdirs(path);
  snprintf(path, sizeof path, "%s/apps/com.example.game/bundle.json", root);
  write_file(path, "{\"versionCode\": 7, \"versionName\": \"0.7\"}");

  CHECK(strcmp(ohf_version(), OHF_VERSION_STRING) == 0);
  CHECK(strcmp(ohf_status_message(OHF_STATUS_E_IO), "I/O error") == 0);

  ohf_device *dev = NULL;
  ohf_status st = ohf_device_open(root, &dev);
  CHECK(st == OHF_STATUS_OK);
  CHECK(dev != NULL);

  int fd = -1;
  st = ohf_backup_get_local_capabilities(dev, &fd);
  CHECK(st == OHF_STATUS_OK);
  CHECK(fd >= 0);
  CHECK(lseek(fd, 0, SEEK_CUR) == 0);
  char json[65536];
  ssize_t n = read(fd, json, sizeof json - 1);
  CHECK(n > 0);
  json[n > 0 ? n : 0] = 0;
  CHECK(strstr(json, "\"deviceType\": \"phone\"") != NULL);
  CHECK(strstr(json, "\"systemFullName\": \"OpenHarmony-5.0.0\"") != NULL);
  CHECK(strstr(json, "\"backupVersion\"") != NULL);
  const char *notes = strstr(json, "\"name\": \"com.example.notes\"");
  const char *game = strstr(json, "\"name\": \"com.example.game\"");
  CHECK(game != NULL && notes != NULL && game < notes); /* sorted by name */
  CHECK(notes && strstr(notes, "\"spaceOccupied\": 10,") != NULL);
  CHECK(notes && strstr(notes, "\"allToBackup\": true") != NULL);
  CHECK(game && strstr(game, "\"allToBackup\": false") != NULL);
  CHECK(game && strstr(game, "\"versionCode\": 7,") != NULL);
  CHECK(close(fd) == 0);

  /* Error paths: NULL out-params, and a root that is a file. */
  CHECK(ohf_backup_get_local_capabilities(dev, NULL) == OHF_STATUS_E_INVAL);
  CHECK(strstr(ohf_last_error_message(), "out_fd is NULL") != NULL);
  CHECK(ohf_backup_get_local_capabilities(NULL, &fd) == OHF_STATUS_E_INVAL);
  ohf_device_free(dev);
  ohf_device_free(NULL);

  snprintf(path, sizeof path, "%s/device.json", root);
  ohf_device *bad = NULL;
  st = ohf_device_open(path, &bad);
  CHECK(st == OHF_STATUS_E_NOTDIR);
  CHECK(bad == NULL);
  CHECK(strstr(ohf_last_error_message(), "is not a directory") != NULL);
  CHECK(strstr(ohf_last_error_message(), path) != NULL);
  snprintf(path, sizeof path, "%s/missing", root);
  CHECK(ohf_device_open(path, &bad) == OHF_STATUS_E_NOENT);
  CHECK(ohf_device_open(root, NULL) == OHF_STATUS_E_INVAL);

  /* Malformed bundle.json: a coded error that names the file; nothing half-written. */
  snprintf(path, sizeof path, "%s/apps/com.example.game/bundle.json", root);
  write_file(path, "{\"versionCode\": 7");
  CHECK(ohf_device_open(root, &dev) == OHF_STATUS_OK);
  fd = -1;
  CHECK(ohf_backup_get_local_capabilities(dev, &fd) == OHF_STATUS_E_INVAL);
  CHECK(fd == -1);
  CHECK(strstr(ohf_last_error_message(), "com.example.game/bundle.json") != NULL);
  ohf_device_free(dev);

  char cmd[4200];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
  if (system(cmd) != 0) fprintf(stderr, "cleanup failed\n");
  if (failures) {
    fprintf(stderr, "capabilities_test: %d check(s) failed\n", failures);
    return 1;
  }
  printf("capabilities_test: ok\n");
  return 0;
}
