// Seed 002 (API 10–11, English): CloudFileCache-constructor (line 791), unmodified.
// Above it: the doc's "Modules to Import" line.
import cloudSync from '@ohos.file.cloudSync';

// ---- example, verbatim ----
let fileCache = new cloudSync.CloudFileCache();
// ---- end of example ----
