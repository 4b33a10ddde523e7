// Seed 002 (API 10–11, English): Download-constructor (line 297), unmodified.
// Above it: the doc's "Modules to Import" line.
import cloudSync from '@ohos.file.cloudSync';

// ---- example, verbatim ----
let download = new cloudSync.Download()
// ---- end of example ----
