// Seed 002 (API 10–11, English): FileSync-getLastSyncTime-promise (line 738), unmodified.
// Above it: the doc's "Modules to Import" line.
import cloudSync from '@ohos.file.cloudSync';

// ---- example, verbatim ----
import { BusinessError } from '@ohos.base';
let fileSync = new cloudSync.FileSync();
fileSync.getLastSyncTime().then((timeStamp: number) => {
let date = new Date(timeStamp);
console.info("get last sync time successfully:"+ date);
}).catch((err: BusinessError) => {
console.info("get last sync time failed with error message: " + err.message + ", error code: " + err.code);
});
// ---- end of example ----
