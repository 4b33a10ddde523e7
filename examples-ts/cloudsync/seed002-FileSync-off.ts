// Seed 002 (API 10–11, English): FileSync-off (line 583), unmodified.
// Above it: the doc's "Modules to Import" line.
import cloudSync from '@ohos.file.cloudSync';

// ---- example, verbatim ----
let fileSync = new cloudSync.FileSync();
let callback = (pg: cloudSync.SyncProgress) => {
console.info("file sync state: " + pg.state + "error type:" + pg.error);
}
fileSync.on('progress', callback);
fileSync.off('progress', callback);
// ---- end of example ----
