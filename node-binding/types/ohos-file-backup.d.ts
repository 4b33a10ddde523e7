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
    }

    /** A backup session: apps' data handed over as fds through onFileReady. */
    class SessionBackup {
      constructor(callbacks: GeneralCallbacks);
      appendBundles(bundlesToBackup: string[], callback: AsyncCallback<void>): void;
      appendBundles(bundlesToBackup: string[], infos?: string[]): Promise<void>;
      release(): Promise<void>;
    }
    /** A restore session: the client writes the files it gets from getFileHandle, then publishes. */
    class SessionRestore {
      constructor(callbacks: GeneralCallbacks);
      appendBundles(remoteCapabilitiesFd: number, bundlesToBackup: string[], callback: AsyncCallback<void>): void;
      appendBundles(remoteCapabilitiesFd: number, bundlesToBackup: string[], infos?: string[]): Promise<void>;
      publishFile(fileMeta: FileMeta, callback: AsyncCallback<void>): void;
      publishFile(fileMeta: FileMeta): Promise<void>;
      getFileHandle(fileMeta: FileMeta, callback: AsyncCallback<void>): void;
      getFileHandle(fileMeta: FileMeta): Promise<void>;
      release(): Promise<void>;
    }

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
