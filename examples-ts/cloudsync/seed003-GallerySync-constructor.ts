// Seed 003 (system API, to API 17, English): GallerySync-constructor (example at line 33), unmodified
// except for the page's two-space indent. Above it: the doc's "Modules to Import" line.
import { cloudSync } from '@kit.CoreFileKit';

// ---- example, verbatim ----
let gallerySync = new cloudSync.GallerySync()
// ---- end of example ----
