// Seed 003 (system API, to API 17, English): Download-stop-promise (example at line 578), unmodified
// except for the page's two-space indent. Above it: the doc's "Modules to Import" line.
import { cloudSync } from '@kit.CoreFileKit';

// ---- example, verbatim ----
import { BusinessError } from '@kit.BasicServicesKit';
let download = new cloudSync.Download();
let uri: string = "file:///media/Photo/1";

download.stop(uri).then(() => {
	  console.info("stop download successfully");
}).catch((err: BusinessError) => {
	  console.error("stop download failed with error message: " + err.message + ", error code: " + err.code);
});
// ---- end of example ----
