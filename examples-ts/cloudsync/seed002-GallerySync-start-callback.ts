// Seed 002 (API 10–11, English): GallerySync-start-callback (line 197), unmodified.
// Above it: the doc's "Modules to Import" line.
import cloudSync from '@ohos.file.cloudSync';

// ---- example, verbatim ----
import { BusinessError } from '@ohos.base';
let gallerySync = new cloudSync.GallerySync();
gallerySync.start((err: BusinessError) => {
if (err) {
console.info("start sync failed with error message: " + err.message + ", error code: " + err.code);
} else {
console.info("start sync successfully");
}
});
// ---- end of example ----
