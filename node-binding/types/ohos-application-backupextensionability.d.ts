// `@ohos.application.BackupExtensionAbility`, as OpenHarmony declares it: the base class of an
// app's backup extension. ohfile runs the subclass (the module's default export) in a child
// process and calls these hooks; see docs/extension-protocol.md.

declare module '@ohos.application.BackupExtensionAbility' {
  /** The version of the app a backup came from (`onRestore`, `onRestoreEx`). */
  export interface BundleVersion {
    /** The app's version code. */
    code: number;
    /** The app's version name. */
    name: string;
  }

  /** The extension's context (`@ohos.file.BackupExtensionContext`). */
  export interface BackupExtensionContext {
    /** Where the app puts data for the backup service: absolute, ends with '/'. */
    readonly backupDir: string;
  }

  /** Extend it and override the hooks the app needs. */
  export default class BackupExtensionAbility {
    /** The extension's context. */
    context: BackupExtensionContext;

    /** Called when a backup starts: build the files to be backed up. */
    onBackup(): void;

    /**
     * Called when a backup starts, with the caller's info (a JSON string). A non-empty result (a
     * JSON string with type, errorCode, errorInfo) is reported to the caller; an empty one makes
     * the service call `onBackup` instead.
     */
    onBackupEx(backupInfo: string): string | Promise<string>;

    /** Called when a restore starts, with the version the data comes from. */
    onRestore(bundleVersion: BundleVersion): void;

    /**
     * Called when a restore starts, with the caller's info. A non-empty result is reported to the
     * caller; an empty one makes the service call `onRestore` instead.
     */
    onRestoreEx(bundleVersion: BundleVersion, restoreInfo: string): string | Promise<string>;

    /** The app's own backup information, returned by `backup.getBackupInfo`. */
    getBackupInfo(): string;

    /** The app's progress (a JSON string), polled while a backup or restore runs; '' stops it. */
    onProcess(): string;

    /** Called before the extension is stopped: 1 after a backup, 2 after a restore. */
    onRelease(scenario: number): Promise<void>;

    /** The app's compatibility information for a backup, given the peer's (`extInfo`). */
    getBackupCompatibilityInfo(extInfo: string): Promise<string>;

    /** The app's compatibility information for a restore, given the peer's (`extInfo`). */
    getRestoreCompatibilityInfo(extInfo: string): Promise<string>;
  }
}
