/* sync: keeps an app's cloud folder in step with the cloud through ohfile's C API, then brings
 * cloud-only files down on demand, printing progress.
 *
 *   sync <root> <bundle> [uri...]
 *
 * Runs one FileSync of <bundle> on the device at <root> (its cloud is device.json's "cloud",
 * default <root>/cloud/), then downloads each uri (file://<bundle>/data/storage/el2/cloud/<path>)
 * with CloudFileCache. Exits with 1 if anything failed.
 *
 * Build (from the repository, after `npm run build`):
 *   cc -std=c99 -Wall -Wextra -Iinclude examples-c/sync.c target/debug/libohfile.a \
 *      -lpthread -ldl -lm -o sync
 *
 * Progress callbacks run on the library's threads (the sync's worker, the downloads' threads),
 * so this program only prints from them; main waits with the _wait_idle functions. */
#define _POSIX_C_SOURCE 200809L
#include "ohfile.h"

#include <stdio.h>
#include <string.h>

static const char *sync_state_name(int32_t s) {
  switch (s) {
    case OHF_SYNC_STATE_UPLOADING: return "uploading";
    case OHF_SYNC_STATE_UPLOAD_FAILED: return "upload failed";
    case OHF_SYNC_STATE_DOWNLOADING: return "downloading";
    case OHF_SYNC_STATE_DOWNLOAD_FAILED: return "download failed";
    case OHF_SYNC_STATE_COMPLETED: return "completed";
    case OHF_SYNC_STATE_STOPPED: return "stopped";
    default: return "?";
  }
}

/* How the last run ended (written by the callback, read by main after wait_idle). */
static int32_t last_state = -1, last_error = 0;

static void on_sync(void *user_data, const ohf_sync_progress *p) {
  (void)user_data;
  last_state = p->state;
  last_error = p->error;
  printf("sync: %s%s\n", sync_state_name(p->state), p->error ? " (error)" : "");
  if (p->error) printf("sync: error type %d\n", p->error);
  fflush(stdout);
}

static int downloads_failed = 0;

static void on_download(void *user_data, const ohf_download_progress *p) {
  (void)user_data;
  if (p->state == OHF_DOWNLOAD_STATE_RUNNING) {
    printf("download %s: %llu / %llu bytes\n", p->uri, (unsigned long long)p->processed, (unsigned long long)p->size);
  } else if (p->state == OHF_DOWNLOAD_STATE_COMPLETED) {
    printf("download %s: done, %llu bytes\n", p->uri, (unsigned long long)p->size);
  } else {
    printf("download %s: ended in state %d, error %d\n", p->uri, p->state, p->error);
    downloads_failed++;
  }
  fflush(stdout);
}

static int report(const char *what, ohf_status st) {
  if (st != OHF_STATUS_OK) fprintf(stderr, "sync: %s: %d %s\n", what, st, ohf_last_error_message());
  return st != OHF_STATUS_OK;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: sync <root> <bundle> [uri...]\n");
    return 2;
  }
  ohf_device *dev = NULL;
  ohf_file_sync *sync = NULL;
  ohf_cloud_file_cache *cache = NULL;
  uint64_t id = 0;
  bool idle = false;
  int failed = 0;
  if (report("open the device", ohf_device_open(argv[1], &dev))) return 1;

  /* One sync run: register a listener, start, wait until the folder is idle. */
  if (report("new FileSync", ohf_file_sync_new(dev, argv[2], &sync))) return 1;
  /* The listener gets the folder's last state at once if it has one: forget it. */
  failed |= report("on progress", ohf_file_sync_on_progress(sync, on_sync, NULL, NULL, &id));
  last_state = -1;
  failed |= report("start", ohf_file_sync_start(sync));
  failed |= report("wait", ohf_file_sync_wait_idle(sync, -1, &idle));
  ohf_file_sync_free(sync); /* removes the listener: no callback runs after this */
  if (last_state != OHF_SYNC_STATE_COMPLETED || last_error != OHF_SYNC_ERROR_NO_ERROR) failed = 1;

  /* Downloads of cloud-only files. */
  if (!failed && argc > 3) {
    failed |= report("new CloudFileCache", ohf_cloud_file_cache_new(dev, &cache));
    if (cache) {
      failed |= report("on progress", ohf_cloud_file_cache_on_progress(cache, on_download, NULL, NULL, &id));
      for (int i = 3; i < argc; i++) {
        if (report(argv[i], ohf_cloud_file_cache_start(cache, argv[i]))) failed = 1;
      }
      failed |= report("wait", ohf_cloud_file_cache_wait_idle(cache, -1, &idle));
      ohf_cloud_file_cache_free(cache);
    }
  }
  ohf_device_free(dev);
  return failed || downloads_failed ? 1 : 0;
}
