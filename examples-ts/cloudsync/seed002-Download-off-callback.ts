// Seed 002 (API 10–11, English): Download-off-callback (line 346), unmodified.
// Above it: the doc's "Modules to Import" line.
import cloudSync from '@ohos.file.cloudSync';

// ---- example, verbatim ----
let download = new cloudSync.Download();
let callback = (pg: cloudSync.DownloadProgress) => {
console.info("download state: " + pg.state);
}
download.on('progress', callback);
download.off('progress', callback);
// ---- end of example ----
