// Seed 003 (system API, to API 17, English): Download-start-callback (example at line 529), unmodified
// except for the page's two-space indent. Above it: the doc's "Modules to Import" line.
import { cloudSync } from '@kit.CoreFileKit';

// ---- example, verbatim ----
import { BusinessError } from '@kit.BasicServicesKit';
let download = new cloudSync.Download();
let uri: string = "file:///media/Photo/1";

download.start(uri, (err: BusinessError) => {
  if (err) {
    console.error("start download failed with error message: " + err.message + ", error code: " + err.code);
  } else {
    console.info("start download successfully");
  }
});
// ---- end of example ----
