// `@kit.CoreFileKit`: the file kit's modules by name.

declare module '@kit.CoreFileKit' {
  import backup from '@ohos.file.backup';
  import fileIo from '@ohos.file.fs';
  import cloudSync from '@ohos.file.cloudSync';
  import fileUri from '@ohos.file.fileuri';
  import BackupExtensionAbility, { BundleVersion } from '@ohos.application.BackupExtensionAbility';
  export { backup, fileIo, cloudSync, fileUri, BackupExtensionAbility, BundleVersion };
}
