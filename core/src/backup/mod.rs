//! `@ohos.file.backup`: capabilities, app profiles, scanning (sessions arrive with later modules).

pub mod archive;
pub mod capabilities;
pub mod config;
pub mod extension;
pub mod incremental;
pub mod scan;
pub mod session;

pub use capabilities::{
    incremental_capabilities, local_capabilities, parse_remote_capabilities,
    read_remote_capabilities, write_incremental_capabilities, write_local_capabilities,
    IncrementalBackupTime, RemoteBundleInfo, RemoteCapabilities, BACKUP_VERSION,
};
pub use config::BackupConfig;
