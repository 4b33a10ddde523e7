// Seed 003 (system API, to API 17, English): Download-constructor (example at line 334), unmodified
// except for the page's two-space indent. Above it: the doc's "Modules to Import" line.
import { cloudSync } from '@kit.CoreFileKit';

// ---- example, verbatim ----
let download = new cloudSync.Download()
// ---- end of example ----
