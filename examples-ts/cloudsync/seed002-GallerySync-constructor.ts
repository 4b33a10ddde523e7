// Seed 002 (API 10–11, English): GallerySync-constructor (line 60), unmodified.
// Above it: the doc's "Modules to Import" line.
import cloudSync from '@ohos.file.cloudSync';

// ---- example, verbatim ----
let gallerySync = new cloudSync.GallerySync()
// ---- end of example ----
