// Seed 001 (API 12+): getBackupInfo, unmodified.

// ---- example, verbatim ----
import fs from '@ohos.file.fs';
import { BusinessError } from '@ohos.base';
import backup from '@ohos.file.backup';

function getBackupInfo() {
  try {
    let backupApp = "com.example.hiworld";
    let result = backup.getBackupInfo(backupApp);
    console.info('getBackupInfo success, result: ' + result);
  } catch (error) {
    let err: BusinessError = error as BusinessError;
    console.error('getBackupInfo failed with err: ' + JSON.stringify(err));
  }
}
// ---- end of example; below: the call that runs what it defines ----
getBackupInfo();
