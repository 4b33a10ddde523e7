// Seed 003 (system API, to API 17, English): getFileSyncState-sync (example at line 843), unmodified
// except for the page's two-space indent. Above it: the doc's "Modules to Import" line.
import { cloudSync } from '@kit.CoreFileKit';

// ---- example, verbatim ----
import { BusinessError } from '@kit.BasicServicesKit';
import { fileUri } from '@kit.CoreFileKit';
let path = "/data/storage/el2/cloud/1.txt";
let uri = fileUri.getUriFromPath(path);
try {
  let state = cloudSync.getFileSyncState(uri);
} catch (err) {
  let error:BusinessError = err as BusinessError;
  console.error("getFileSyncStatefailed with error:" + JSON.stringify(error));
}
// ---- end of example ----
