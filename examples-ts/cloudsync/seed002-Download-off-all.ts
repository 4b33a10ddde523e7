// Seed 002 (API 10–11, English): Download-off-all (line 373), unmodified.
// Above it: the doc's "Modules to Import" line.
import cloudSync from '@ohos.file.cloudSync';

// ---- example, verbatim ----
let download = new cloudSync.Download();
download.on('progress', (pg: cloudSync.DownloadProgress) => {
console.info("download state:" + pg.state);
});
download.off('progress');
// ---- end of example ----
