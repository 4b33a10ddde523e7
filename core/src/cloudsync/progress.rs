//! The numbers `@ohos.file.cloudSync` documents. They are part of the contract (apps and ACTS
//! compare them literally), so each enum carries its value explicitly.

/// `SyncState`: where a sync run is.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SyncState {
    Uploading = 0,
    UploadFailed = 1,
    Downloading = 2,
    DownloadFailed = 3,
    Completed = 4,
    Stopped = 5,
}

/// `ErrorType`: why a run failed (NO_ERROR while it works or when it succeeded).
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SyncErrorType {
    NoError = 0,
    NetworkUnavailable = 1,
    WifiUnavailable = 2,
    BatteryLevelLow = 3,
    BatteryLevelWarning = 4,
    CloudStorageFull = 5,
    LocalStorageFull = 6,
    DeviceTemperatureTooHigh = 7,
    RemoteServerAbnormal = 8,
    ResponseTimeOut = 9,
    UnknownError = 10,
}

/// `SyncProgress`: one event of a sync run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyncProgress {
    pub state: SyncState,
    pub error: SyncErrorType,
}

/// `State`: where one download is.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DownloadState {
    Running = 0,
    Completed = 1,
    Failed = 2,
    Stopped = 3,
    Missing = 4,
}

/// `DownloadErrorType`: why a download failed.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DownloadErrorType {
    NoError = 0,
    UnknownError = 1,
    NetworkUnavailable = 2,
    LocalStorageFull = 3,
    ContentNotFound = 4,
    FrequentUserRequests = 5,
}

/// `DownloadProgress`: one event of a download. `processed`/`size` are bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DownloadProgress {
    pub state: DownloadState,
    pub processed: u64,
    pub size: u64,
    pub uri: String,
    pub error: DownloadErrorType,
}

/// `FileSyncState`: what `getFileSyncState` reports for one file.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FileSyncState {
    Uploading = 0,
    Downloading = 1,
    Completed = 2,
    Stopped = 3,
    ToBeUploaded = 4,
    UploadSuccess = 5,
    UploadFailure = 6,
}
