// Seed 003 (system API, to API 17, English): Download-off-callback (example at line 402), unmodified
// except for the page's two-space indent. Above it: the doc's "Modules to Import" line.
import { cloudSync } from '@kit.CoreFileKit';

// ---- example, verbatim ----
let download = new cloudSync.Download();

let callback = (pg: cloudSync.DownloadProgress) => {
  console.info("download state: " + pg.state);
}

download.on('progress', callback);

download.off('progress', callback);
// ---- end of example ----
