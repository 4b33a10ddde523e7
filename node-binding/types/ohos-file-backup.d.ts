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
      onBundleBegin: AsyncCallback<string, void | string>;
      onBundleEnd: AsyncCallback<string, void | string>;
      onAllBundlesEnd: AsyncCallback<undefined>;
      onBackupServiceDied: Callback<undefined>;
      onResultReport(bundleName: string, result: string): void;
      onProcess(bundleName: string, process: string): void;
    }

    /** Writes the JSON that describes this device's capabilities; the fd is the caller's to close. */
    function getLocalCapabilities(callback: AsyncCallback<FileData>): void;
    function getLocalCapabilities(): Promise<FileData>;
    function getLocalCapabilities(dataList: Array<IncrementalBackupTime>): Promise<FileData>;
  }
  export default backup;
}
