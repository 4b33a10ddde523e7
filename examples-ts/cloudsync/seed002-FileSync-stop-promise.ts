// Seed 002 (API 10–11, English): FileSync-stop-promise (line 679), unmodified.
// Above it: the doc's "Modules to Import" line.
import cloudSync from '@ohos.file.cloudSync';

// ---- example, verbatim ----
import { BusinessError } from '@ohos.base';
let fileSync = new cloudSync.FileSync();
fileSync.stop().then(() => {
console.info("stop sync successfully");
}).catch((err: BusinessError) => {
console.info("stop sync failed with error message: " + err.message + ", error code: " + err.code);
});
// ---- end of example ----
