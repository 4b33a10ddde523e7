//! Device–cloud sync (`@ohos.file.cloudSync`).
//!
//! - The cloud side: an object-storage shaped [`CloudBackend`] trait (put/get/head/list/delete
//!   with versions, conditional writes and a change feed), its embedded default [`LocalStore`] (a
//!   folder several device roots can share), and where a device's cloud lives ([`cloud_root`]).
//! - What syncs and how files are named ([`SyncScope`], [`parse_uri`]), the device conditions a
//!   sync needs ([`Conditions`]), per-file state in SQLite ([`StateDb`]), and the documented
//!   enums ([`progress`]).

pub mod backend;
pub mod cloud_error;
pub mod conditions;
pub mod download;
pub mod engine;
pub mod fetch;
pub mod local_store;
pub mod location;
pub mod object_key;
pub mod progress;
pub mod scope;
pub mod state_db;
pub mod syncer;

pub use backend::{
    Change, ChangeKind, ChangePage, CloudBackend, DeleteCondition, GetOptions, ObjectMeta,
    PutCondition, PutOptions,
};
pub use cloud_error::{CloudError, CloudResult};
pub use conditions::{Conditions, Network};
pub use download::{
    file_sync_state, file_sync_states, DownloadKind, DownloadListener, Downloader,
    MAX_SYNC_STATE_URIS,
};
pub use engine::{
    mark_downloaded, run_once, run_once_report, RunControl, RunOutcome, RunReport, SyncedFolder,
};
pub use fetch::{
    discard_partial, fetch_object, fetch_object_guarded, partial_len, FetchControl, FetchOutcome,
    GuardedOutcome, PlaceGuard,
};
pub use local_store::LocalStore;
pub use location::{cloud_quota, cloud_root, open_cloud};
pub use object_key::{validate_key, validate_namespace, MAX_KEY_LEN, MEDIA_NAMESPACE};
pub use progress::{
    DownloadErrorType, DownloadProgress, DownloadState, FileSyncState, SyncErrorType, SyncProgress,
    SyncState,
};
pub use scope::{parse_uri, SyncScope, APP_CLOUD_DIR};
pub use state_db::{Dirty, FileRow, LocalStat, Position, StateDb, UploadStatus};
