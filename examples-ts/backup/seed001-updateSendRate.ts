// Seed 001 (API 12+): updateSendRate, unmodified.
// The doc's example imports with a typo (`import backup form ...`); that one word is fixed.

// ---- example, verbatim ----
import { BusinessError } from '@ohos.base';
import backup from '@ohos.file.backup';

function updateSendRate() {
  try {
    let bundleName = "com.example.myApp";
    let sendRate = 300;
    let result = backup.updateSendRate(bundleName, sendRate);
    if (result) {
      console.info('updateSendRate success');
    } else {
      console.info('updateSendRate fail');
    }
  } catch (error) {
    let err: BusinessError = error as BusinessError;
    console.error('updateSendRate failed with err: ' + JSON.stringify(err));
  }
}
// ---- end of example; below: the call that runs what it defines ----
updateSendRate();
