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

/// `from_i32` for the enums above: the documented number back to the variant.
macro_rules! from_number {
    ($t:ident { $($v:ident),* $(,)? }) => {
        impl $t {
            /// The variant with this documented number.
            pub fn from_i32(n: i32) -> Option<$t> {
                [$($t::$v),*].into_iter().find(|v| *v as i32 == n)
            }
        }
    };
}

from_number!(SyncState {
    Uploading,
    UploadFailed,
    Downloading,
    DownloadFailed,
    Completed,
    Stopped
});
from_number!(SyncErrorType {
    NoError,
    NetworkUnavailable,
    WifiUnavailable,
    BatteryLevelLow,
    BatteryLevelWarning,
    CloudStorageFull,
    LocalStorageFull,
    DeviceTemperatureTooHigh,
    RemoteServerAbnormal,
    ResponseTimeOut,
    UnknownError,
});
from_number!(DownloadState {
    Running,
    Completed,
    Failed,
    Stopped,
    Missing
});
from_number!(DownloadErrorType {
    NoError,
    UnknownError,
    NetworkUnavailable,
    LocalStorageFull,
    ContentNotFound,
    FrequentUserRequests,
});
from_number!(FileSyncState {
    Uploading,
    Downloading,
    Completed,
    Stopped,
    ToBeUploaded,
    UploadSuccess,
    UploadFailure,
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_numbers() {
        assert_eq!(SyncState::Stopped as i32, 5);
        assert_eq!(SyncErrorType::UnknownError as i32, 10);
        assert_eq!(SyncErrorType::LocalStorageFull as i32, 6);
        assert_eq!(DownloadState::Missing as i32, 4);
        assert_eq!(DownloadErrorType::FrequentUserRequests as i32, 5);
        assert_eq!(FileSyncState::UploadFailure as i32, 6);
        for n in 0..=10 {
            assert_eq!(SyncErrorType::from_i32(n).map(|v| v as i32), Some(n));
        }
        assert_eq!(SyncState::from_i32(6), None);
        assert_eq!(FileSyncState::from_i32(-1), None);
    }
}
