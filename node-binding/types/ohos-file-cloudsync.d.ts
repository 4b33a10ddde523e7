// `@ohos.file.cloudSync`, as documented (API 10–17): device–cloud sync of an app's cloud folder
// and of the gallery, on-demand download, per-file sync state.

declare module '@ohos.file.cloudSync' {
  import type { AsyncCallback, Callback } from '@ohos.base';

  namespace cloudSync {
    /** Where a sync run is. */
    enum SyncState {
      UPLOADING = 0,
      UPLOAD_FAILED = 1,
      DOWNLOADING = 2,
      DOWNLOAD_FAILED = 3,
      COMPLETED = 4,
      STOPPED = 5,
    }
    /** Why a run failed (NO_ERROR while it works and when it succeeded). */
    enum ErrorType {
      NO_ERROR = 0,
      NETWORK_UNAVAILABLE = 1,
      WIFI_UNAVAILABLE = 2,
      /** The battery is below 10 % and not charging. */
      BATTERY_LEVEL_LOW = 3,
      /** The battery is below 15 % and not charging. */
      BATTERY_LEVEL_WARNING = 4,
      CLOUD_STORAGE_FULL = 5,
      LOCAL_STORAGE_FULL = 6,
      DEVICE_TEMPERATURE_TOO_HIGH = 7,
      REMOTE_SERVER_ABNORMAL = 8,
      RESPONSE_TIME_OUT = 9,
      UNKNOWN_ERROR = 10,
    }
    /** One event of a sync run. */
    interface SyncProgress {
      state: SyncState;
      error: ErrorType;
    }
    /** Where one download is. */
    enum State {
      RUNNING = 0,
      COMPLETED = 1,
      FAILED = 2,
      STOPPED = 3,
      MISSING = 4,
    }
    /** Why a download failed. */
    enum DownloadErrorType {
      NO_ERROR = 0,
      UNKNOWN_ERROR = 1,
      NETWORK_UNAVAILABLE = 2,
      LOCAL_STORAGE_FULL = 3,
      CONTENT_NOT_FOUND = 4,
      FREQUENT_USER_REQUESTS = 5,
    }
    /** One event of a download; `processed` and `size` are bytes. */
    interface DownloadProgress {
      state: State;
      processed: number;
      size: number;
      uri: string;
      error: DownloadErrorType;
    }
    /** The sync state of one file (getFileSyncState). */
    enum FileSyncState {
      UPLOADING = 0,
      DOWNLOADING = 1,
      COMPLETED = 2,
      STOPPED = 3,
      TO_BE_UPLOADED = 4,
      UPLOAD_SUCCESS = 5,
      UPLOAD_FAILURE = 6,
    }
    /** Where one upload is (numbers only; no API of ohfile reports it yet). */
    enum UploadState {
      WAITING = 0,
      RUNNING = 1,
      COMPLETED = 2,
      FAILED = 3,
      STOPPED = 4,
      PAUSED = 5,
    }
    /** The public per-file state (numbers only). */
    enum FileState {
      INITIAL_AFTER_DOWNLOAD = 0,
      UPLOADING = 1,
      STOPPED = 2,
      TO_BE_UPLOADED = 3,
      UPLOAD_SUCCESS = 4,
      UPLOAD_FAILURE = 5,
    }
    /** Kinds of change notification (numbers only). */
    enum NotifyType {
      NOTIFY_ADDED = 0,
      NOTIFY_MODIFIED = 1,
      NOTIFY_DELETED = 2,
      NOTIFY_RENAMED = 3,
    }
    /** What of a gallery file to download (numbers only). */
    enum DownloadFileType {
      CONTENT = 0,
      THUMBNAIL = 1,
      LCD = 2,
    }
    /** Space optimisation states (numbers only). */
    enum OptimizeState {
      RUNNING = 0,
      COMPLETED = 1,
      FAILED = 2,
      STOPPED = 3,
    }

    /** Syncs the gallery (`<root>/media/`) with the cloud. */
    class GallerySync {
      constructor();
      /** One callback per instance; a second registration is ignored. */
      on(evt: 'progress', callback: (pg: SyncProgress) => void): void;
      off(evt: 'progress', callback: (pg: SyncProgress) => void): void;
      off(evt: 'progress'): void;
      /** Rejects 22400001 (cloud switch off), 22400002 (no network), 22400003 (battery low). */
      start(): Promise<void>;
      start(callback: AsyncCallback<void>): void;
      stop(): Promise<void>;
      stop(callback: AsyncCallback<void>): void;
    }

    /** Downloads the gallery's cloud-only files (`file://media/<path>`). */
    class Download {
      constructor();
      on(evt: 'progress', callback: (pg: DownloadProgress) => void): void;
      off(evt: 'progress', callback: (pg: DownloadProgress) => void): void;
      off(evt: 'progress'): void;
      start(uri: string): Promise<void>;
      start(uri: string, callback: AsyncCallback<void>): void;
      /** Stops the download and deletes its partial data. */
      stop(uri: string): Promise<void>;
      stop(uri: string, callback: AsyncCallback<void>): void;
    }

    /** Syncs an app's cloud folder (`/data/storage/el2/cloud/`) with the cloud. */
    class FileSync {
      /** The calling app ($OHFILE_BUNDLE). */
      constructor();
      constructor(bundleName: string);
      /** One callback per instance; a second registration is ignored. */
      on(event: 'progress', callback: Callback<SyncProgress>): void;
      off(event: 'progress', callback?: Callback<SyncProgress>): void;
      /** Rejects 22400001 (cloud switch off), 22400002 (no network), 22400003 (battery low). */
      start(): Promise<void>;
      start(callback: AsyncCallback<void>): void;
      stop(): Promise<void>;
      stop(callback: AsyncCallback<void>): void;
      /** ms since the epoch of the last run that completed without error; 0 before. */
      getLastSyncTime(): Promise<number>;
      getLastSyncTime(callback: AsyncCallback<number>): void;
    }

    /** Downloads an app's cloud-only files on demand. */
    class CloudFileCache {
      /** The calling app ($OHFILE_BUNDLE). */
      constructor();
      constructor(bundleName: string);
      on(event: 'progress', callback: Callback<DownloadProgress>): void;
      off(event: 'progress', callback?: Callback<DownloadProgress>): void;
      start(uri: string): Promise<void>;
      start(uri: string, callback: AsyncCallback<void>): void;
      /** Keeps the partial data (a later start resumes) unless `needClean`. */
      stop(uri: string, needClean?: boolean): Promise<void>;
      stop(uri: string, callback: AsyncCallback<void>): void;
      /** Frees the local copy of a synced file; it stays in the folder's listing as cloud-only. */
      cleanCache(uri: string): void;
    }

    function getFileSyncState(uri: Array<string>): Promise<Array<FileSyncState>>;
    function getFileSyncState(uri: Array<string>, callback: AsyncCallback<Array<FileSyncState>>): void;
    function getFileSyncState(uri: string): FileSyncState;
  }
  export default cloudSync;
}
