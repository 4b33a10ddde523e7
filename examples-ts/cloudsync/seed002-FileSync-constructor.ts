// Seed 002 (API 10–11, English): FileSync-constructor (line 533), unmodified.
// Above it: the doc's "Modules to Import" line.
import cloudSync from '@ohos.file.cloudSync';

// ---- example, verbatim ----
let fileSync = new cloudSync.FileSync()
// ---- end of example ----
