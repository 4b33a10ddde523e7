// Seed 000 (API 10, English), the example of backup.getLocalCapabilities found at line 212, unmodified.
// Above it: the doc's "Modules to Import" line. Below it, when the example only defines a
// function: the call that runs it.
import backup from '@ohos.file.backup';

// ---- example, verbatim ----
import fs from '@ohos.file.fs';
import { BusinessError } from '@ohos.base';
try {
  backup.getLocalCapabilities((err: BusinessError, fileData: backup.FileData) => {
    if (err) {
      console.error('getLocalCapabilities failed with err: ' + JSON.stringify(err));
    }
    console.info('getLocalCapabilities success');
    fs.closeSync(fileData.fd);
  });
} catch (error) {
  let err: BusinessError = error as BusinessError;
  console.error('getLocalCapabilities failed with err: ' + JSON.stringify(err));
}
// ---- end of example ----
