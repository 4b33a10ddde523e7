// `@kit.CoreFileKit`: the file kit's modules by name.

declare module '@kit.CoreFileKit' {
  import backup from '@ohos.file.backup';
  import fileIo from '@ohos.file.fs';
  import BackupExtensionAbility, { BundleVersion } from '@ohos.application.BackupExtensionAbility';
  export { backup, fileIo, BackupExtensionAbility, BundleVersion };
}
