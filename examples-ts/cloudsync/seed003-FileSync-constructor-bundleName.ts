// Seed 003 (system API, to API 17, English): FileSync-constructor-bundleName (example at line 662), unmodified
// except for the page's two-space indent. Above it: the doc's "Modules to Import" line.
import { cloudSync } from '@kit.CoreFileKit';

// ---- example, verbatim ----
let fileSync = new cloudSync.FileSync("com.ohos.demo")
// ---- end of example ----
