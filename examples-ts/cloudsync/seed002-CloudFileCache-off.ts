// Seed 002 (API 10–11, English): CloudFileCache-off (line 836), unmodified.
// Above it: the doc's "Modules to Import" line.
import cloudSync from '@ohos.file.cloudSync';

// ---- example, verbatim ----
let fileCache = new cloudSync.CloudFileCache();
let callback = (pg: cloudSync.DownloadProgress) => {
console.info("download state: " + pg.state);
}
fileCache.on('progress', callback);
fileCache.off('progress', callback);
// ---- end of example ----
