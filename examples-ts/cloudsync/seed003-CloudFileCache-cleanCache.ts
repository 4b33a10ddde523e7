// Seed 003 (system API, to API 17, English): CloudFileCache-cleanCache (example at line 701), unmodified
// except for the page's two-space indent. Above it: the doc's "Modules to Import" line.
import { cloudSync } from '@kit.CoreFileKit';

// ---- example, verbatim ----
import { BusinessError } from '@kit.BasicServicesKit';
import { fileUri } from '@kit.CoreFileKit';
let fileCache = new cloudSync.CloudFileCache();
let path = "/data/storage/el2/cloud/1.txt";
let uri = fileUri.getUriFromPath(path);

try {
  fileCache.cleanCache(uri);
} catch (err) {
  let error:BusinessError = err as BusinessError;
  console.error("clean cache failed with error message: " + err.message + ", error code: " + err.code);
} 
// ---- end of example ----
