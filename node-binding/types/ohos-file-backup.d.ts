// `@ohos.file.backup`, as documented (API 10 and 12+).

declare module '@ohos.file.backup' {
  import type { AsyncCallback, Callback } from '@ohos.base';

  namespace backup {
    /** A file of a bundle, named by its uri (`[0-9A-Za-z_.]` only). */
    interface FileMeta {
      bundleName: string;
      uri: string;
    }
    /** An open file descriptor; close it with fs.closeSync. */
    interface FileData {
      fd: number;
    }
    /** The manifest fd that comes with a file of an incremental backup or a restore. */
    interface FileManifestData {
      manifestFd: number;
    }
    /** A file handed to the client (backup) or by the client (restore). */
    interface File extends FileMeta, FileData, FileManifestData {}
    /** When a bundle was last backed up incrementally (Unix seconds). */
    interface IncrementalBackupTime {
      bundleName: string;
      lastIncrementalTime: number;
    }
    /** Options of a bundle's backup, as a JSON string. */
    interface BackupParams {
      parameters?: string;
    }
    /** The order of a bundle (bigger first). */
    interface BackupPriority {
      priority?: number;
    }
    /** A bundle of an incremental backup. */
    interface IncrementalBackupData extends IncrementalBackupTime, FileManifestData, BackupParams, BackupPriority {}
    /** The callbacks of a backup or restore session. */
    interface GeneralCallbacks {
      onFileReady: AsyncCallback<File>;
      // API 12 passes the bundle name as err.data; API 10 code typed err as BusinessError<void>.
      onBundleBegin: AsyncCallback<string, void | string> | AsyncCallback<string>;
      onBundleEnd: AsyncCallback<string, void | string> | AsyncCallback<string>;
      onAllBundlesEnd: AsyncCallback<undefined>;
      onBackupServiceDied: Callback<undefined>;
      // Since API 12; optional so that API 10 code (which has neither) still type-checks.
      onResultReport?(bundleName: string, result: string): void;
      onProcess?(bundleName: string, process: string): void;
      /** getBackupDataSize's reports (API 18): `{"scaned":[…],"scanning":"…"}`. */
      onBackupSizeReport?: OnBackupSizeReport;
    }

    /** getBackupDataSize's report callback. */
    type OnBackupSizeReport = (reportInfo: string) => void;

    /** What every session kind offers since API 18/20. */
    interface SessionCommon {
      /** The session's capability file: bundles that allow backup, no backupVersion (API 18). */
      getLocalCapabilities(): Promise<FileData>;
      /** 0 (cancelled; onBundleEnd follows), 13500011 (not started) or 13500012 (unknown) (API 18). */
      cancel(bundleName: string): number;
      /** Removes the app's backup/restore temp folders (API 20). */
      cleanBundleTempDir(bundleName: string): Promise<boolean>;
      /** The app extension's compatibility text, "" after 1 s (API 20). */
      getCompatibilityInfo(bundleName: string, extInfo: string): Promise<string>;
      release(): Promise<void>;
    }

    /** A backup session: apps' data handed over as fds through onFileReady. */
    class SessionBackup implements SessionCommon {
      constructor(callbacks: GeneralCallbacks);
      getLocalCapabilities(): Promise<FileData>;
      cancel(bundleName: string): number;
      cleanBundleTempDir(bundleName: string): Promise<boolean>;
      getCompatibilityInfo(bundleName: string, extInfo: string): Promise<string>;
      /** Sizes of the bundles' data, reported through onBackupSizeReport (API 18). */
      getBackupDataSize(isPreciseScan: boolean, dataList: Array<IncrementalBackupTime>): Promise<void>;
      appendBundles(bundlesToBackup: string[], callback: AsyncCallback<void>): void;
      appendBundles(bundlesToBackup: string[], infos?: string[]): Promise<void>;
      release(): Promise<void>;
    }
    /** A restore session: the client writes the files it gets from getFileHandle, then publishes. */
    class SessionRestore implements SessionCommon {
      constructor(callbacks: GeneralCallbacks);
      getLocalCapabilities(): Promise<FileData>;
      cancel(bundleName: string): number;
      cleanBundleTempDir(bundleName: string): Promise<boolean>;
      getCompatibilityInfo(bundleName: string, extInfo: string): Promise<string>;
      appendBundles(remoteCapabilitiesFd: number, bundlesToBackup: string[], callback: AsyncCallback<void>): void;
      appendBundles(remoteCapabilitiesFd: number, bundlesToBackup: string[], infos?: string[]): Promise<void>;
      publishFile(fileMeta: FileMeta, callback: AsyncCallback<void>): void;
      publishFile(fileMeta: FileMeta): Promise<void>;
      getFileHandle(fileMeta: FileMeta, callback: AsyncCallback<void>): void;
      getFileHandle(fileMeta: FileMeta): Promise<void>;
      release(): Promise<void>;
    }

    /** An incremental backup session: only what changed since each bundle's previous manifest. */
    class IncrementalBackupSession implements SessionCommon {
      constructor(callbacks: GeneralCallbacks);
      appendBundles(bundlesToBackup: Array<IncrementalBackupData>): Promise<void>;
      appendBundles(bundlesToAppend: Array<IncrementalBackupData>, infos: string[]): Promise<void>;
      release(): Promise<void>;
      getLocalCapabilities(): Promise<FileData>;
      cancel(bundleName: string): number;
      cleanBundleTempDir(bundleName: string): Promise<boolean>;
      getCompatibilityInfo(bundleName: string, extInfo: string): Promise<string>;
      getBackupDataSize(isPreciseScan: boolean, dataList: Array<IncrementalBackupTime>): Promise<void>;
    }

    /** The backup protocol version as JSON text, `{"backupVersion" : "…"}` (API 18). */
    function getBackupVersion(): string;
    /** The text the app's backup extension returns from getBackupInfo (undefined when it fails). */
    function getBackupInfo(bundleToBackup: string): string;
    /** Restarts the running bundle's timer with `timeout` ms ([0, 14400000]); false when not running. */
    function updateTimer(bundleName: string, timeout: number): boolean;
    /** Sets how many fds per second the running bundle may send (0 pauses); false when not running. */
    function updateSendRate(bundleName: string, sendRate: number): boolean;

    /** Writes the JSON that describes this device's capabilities; the fd is the caller's to close. */
    function getLocalCapabilities(callback: AsyncCallback<FileData>): void;
    function getLocalCapabilities(): Promise<FileData>;
    function getLocalCapabilities(dataList: Array<IncrementalBackupTime>): Promise<FileData>;
  }
  export default backup;
}
