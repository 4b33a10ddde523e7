'use strict';
// `import BackupExtensionAbility from '@ohos.application.BackupExtensionAbility'`: the base class an
// app's backup extension extends. The ohfile service runs the subclass in a child process
// (extension-host.mjs) and calls these hooks; the defaults are what OpenHarmony's base class does.

/** The extension's context: where the app puts data for the service (`backupDir`). */
class BackupExtensionContext {
  #backupDir;

  constructor(backupDir) {
    this.#backupDir = backupDir;
  }

  /** The app's backup directory (absolute, ends with '/'); '' outside the extension host. */
  get backupDir() {
    return this.#backupDir;
  }
}

class BackupExtensionAbility {
  constructor() {
    // The extension host sets OHFILE_BACKUP_DIR before it loads the app's module.
    this.context = new BackupExtensionContext(process.env.OHFILE_BACKUP_DIR || '');
  }

  /** Called when a backup starts: build the files to be backed up. */
  onBackup() {}

  /** Called when a backup starts, with the caller's info; a non-empty result is reported to it. */
  onBackupEx(backupInfo) {
    return '';
  }

  /** Called when a restore starts, with the version the data comes from. */
  onRestore(bundleVersion) {}

  /** Called when a restore starts, with the caller's info; a non-empty result is reported to it. */
  onRestoreEx(bundleVersion, restoreInfo) {
    return '';
  }

  /** The app's own backup information (`backup.getBackupInfo`). */
  getBackupInfo() {
    return '';
  }

  /** The app's progress while a backup or restore runs (JSON); '' stops the polling. */
  onProcess() {
    return '';
  }

  /** Called before the extension is stopped: 1 after a backup, 2 after a restore. */
  async onRelease(scenario) {}

  /** The app's compatibility information for a backup, given the peer's capabilities. */
  async getBackupCompatibilityInfo(extInfo) {
    return '';
  }

  /** The app's compatibility information for a restore, given the peer's capabilities. */
  async getRestoreCompatibilityInfo(extInfo) {
    return '';
  }
}

module.exports = BackupExtensionAbility;
module.exports.default = BackupExtensionAbility;
