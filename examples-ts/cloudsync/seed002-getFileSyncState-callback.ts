// @ts-nocheck: the document's rendering dropped the type arguments of `Array` (`Array<string>`,
// `Array<FileSyncState>`), which TypeScript rejects; seed 003 has the same example with them.
// The code runs as printed; only type-checking is off for this file.
// Seed 002 (API 10–11, English): getFileSyncState-callback (line 1073), unmodified.
// Above it: the doc's "Modules to Import" line.
import cloudSync from '@ohos.file.cloudSync';

// ---- example, verbatim ----
import { BusinessError } from '@ohos.base';
let uris: Array = ["file://uri"];
cloudSync.getFileSyncState(uris, (err: BusinessError, syncStates: Array) => {
if (err) {
console.info("get file sync state with error message: " + err.message + ", error code: " + err.code);
} else {
for(let i = 0, len = syncStates.length; i < len; i++){
console.info("get file sync state successfully" + syncStates[i]);
}
}
});
// ---- end of example ----
