// Every OpenHarmony module specifier ohfile provides. Add `"types": ["ohfile/ohos"]` (or include
// this file) in a tsconfig to type-check OpenHarmony code that imports them.
/// <reference path="./ohos-base.d.ts" />
/// <reference path="./ohos-file-fs.d.ts" />
/// <reference path="./ohos-file-backup.d.ts" />
/// <reference path="./ohos-file-cloudsync.d.ts" />
/// <reference path="./ohos-file-fileuri.d.ts" />
/// <reference path="./ohos-application-backupextensionability.d.ts" />
/// <reference path="./ohos-kit-corefilekit.d.ts" />
/// <reference path="./ohos-security-asset.d.ts" />
/// <reference path="./ohos-kit-arkts.d.ts" />
