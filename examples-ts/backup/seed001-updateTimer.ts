// Seed 001 (API 12+): updateTimer, unmodified.
// The doc's example imports with a typo (`import backup form ...`); that one word is fixed.

// ---- example, verbatim ----
import { BusinessError } from '@ohos.base';
import backup from '@ohos.file.backup';

function updateTimer() {
  try {
    let timeout = 30000;
    let bundleName = "com.example.hiworld";
    let result = backup.updateTimer(bundleName, timeout);
    if (result) {
      console.info('updateTimer success');
    } else {
      console.info('updateTimer fail');
    }
  } catch (error) {
    let err: BusinessError = error as BusinessError;
    console.error('updateTimer failed with err: ' + JSON.stringify(err));
  }
}
// ---- end of example; below: the call that runs what it defines ----
updateTimer();
