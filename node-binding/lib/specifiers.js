'use strict';
// The OpenHarmony module specifiers ohfile provides, and the file behind each. Used by the
// register hooks (CommonJS and ESM alike).
const path = require('node:path');

const here = (f) => path.join(__dirname, f);

module.exports = Object.freeze({
  '@ohos.file.backup': here('ohos/file.backup.js'),
  '@ohos.file.fs': here('fs.js'),
  '@ohos.file.cloudSync': here('cloudsync.js'),
  '@ohos.file.fileuri': here('fileuri.js'),
  '@ohos.security.asset': here('ohos/security.asset.js'),
  '@ohos.util': here('ohos/util.js'),
  '@ohos.base': here('ohos/base.js'),
  '@kit.CoreFileKit': here('ohos/kit.CoreFileKit.js'),
  '@kit.BasicServicesKit': here('ohos/kit.BasicServicesKit.js'),
  '@kit.AssetStoreKit': here('ohos/kit.AssetStoreKit.js'),
  '@kit.ArkTS': here('ohos/kit.ArkTS.js'),
  '@ohos.application.BackupExtensionAbility': here('ohos/application.BackupExtensionAbility.js'),
});
